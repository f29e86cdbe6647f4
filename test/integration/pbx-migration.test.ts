// The asterisk_realtime migration on an operator database where Asterisk's alembic already made the
// PJSIP tables (here: the shape of its early revisions, with a row in them) keeps the tables, their
// column types and their rows, and adds what is missing; on our own database it yields exactly the
// recorded columns.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/platform/db.ts';
import { withDb } from '../global-setup.ts';
import { freshDatabase } from '../helpers/env.ts';

const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/asterisk-ps-columns.json', import.meta.url), 'utf8'),
) as { tables: Record<string, { notNull: string[]; columns: Record<string, string> }> };

async function columns(sql: postgres.Sql, table: string): Promise<Record<string, string>> {
  const rows = await sql<{ column_name: string; data_type: string; udt_name: string; len: number | null }[]>`
    select column_name, data_type, udt_name, character_maximum_length as len
    from information_schema.columns where table_schema = 'public' and table_name = ${table}`;
  return Object.fromEntries(
    rows.map((r) => [
      r.column_name,
      r.data_type === 'character varying'
        ? `varchar(${r.len})`
        : r.data_type === 'USER-DEFINED'
          ? r.udt_name
          : r.data_type,
    ]),
  );
}

describe('asterisk_realtime migration', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('creates exactly the recorded columns and types on a fresh database', async () => {
    const db = await freshDatabase();
    cleanup.push(() => db.drop());
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    for (const [t, rec] of Object.entries(recorded.tables))
      expect(await columns(sql, t)).toEqual(rec.columns);
  });

  it('keeps tables, types and rows that Asterisk alembic created, and adds the missing columns', async () => {
    const base = process.env.DATABASE_URL!;
    const name = `t_${randomBytes(6).toString('hex')}`;
    const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const url = withDb(base, name);
    cleanup.push(async () => {
      const a = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    // As Asterisk's alembic (revision 43956d550a44 era, a subset) leaves them, with old enum types.
    await sql.unsafe(`
      create table alembic_version (version_num varchar(32) not null primary key);
      insert into alembic_version values ('43956d550a44');
      create type yesno_values as enum ('yes', 'no');
      create type pjsip_dtmf_mode_values as enum ('rfc4733', 'inband', 'info');
      create type pjsip_auth_type_values as enum ('md5', 'userpass');
      -- a type a later alembic revision made, which our migration also defines
      create type ast_bool_values as enum ('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes');
      create table ps_endpoints (
        id varchar(40) not null, transport varchar(40), aors varchar(200), auth varchar(40),
        context varchar(40), disallow varchar(200), allow varchar(200), direct_media yesno_values,
        dtmf_mode pjsip_dtmf_mode_values, unique (id));
      create index ps_endpoints_id on ps_endpoints (id);
      create table ps_auths (id varchar(40) not null, auth_type pjsip_auth_type_values,
        password varchar(80), username varchar(40), unique (id));
      create table ps_aors (id varchar(40) not null, contact varchar(40), max_contacts integer,
        remove_unavailable ast_bool_values, unique (id));
      insert into ps_endpoints (id, aors, auth, context, disallow, allow, direct_media, dtmf_mode)
        values ('alice', 'alice', 'alice', 'internal', 'all', 'ulaw', 'no', 'rfc4733');
      insert into ps_auths values ('alice', 'userpass', 'kept-secret', 'alice');
      insert into ps_aors values ('alice', null, 1, 'yes');
    `);
    await runMigrations(url);
    expect(
      await sql`select id, aors, context, allow, direct_media::text, dtmf_mode::text from ps_endpoints`,
    ).toEqual([
      {
        id: 'alice',
        aors: 'alice',
        context: 'internal',
        allow: 'ulaw',
        direct_media: 'no',
        dtmf_mode: 'rfc4733',
      },
    ]);
    expect(await sql`select password from ps_auths where id = 'alice'`).toEqual([
      { password: 'kept-secret' },
    ]);
    expect(await sql`select remove_unavailable::text as r from ps_aors where id = 'alice'`).toEqual([
      { r: 'yes' },
    ]);
    const ep = await columns(sql, 'ps_endpoints');
    // Asterisk's own columns keep their types...
    expect(ep).toMatchObject({
      id: 'varchar(40)',
      direct_media: 'yesno_values',
      dtmf_mode: 'pjsip_dtmf_mode_values',
    });
    // ...and every column Asterisk defines now exists.
    for (const [t, rec] of Object.entries(recorded.tables))
      expect(Object.keys(await columns(sql, t)).sort()).toEqual(Object.keys(rec.columns).sort());
    // The daemon can write its rows into the operator's tables.
    await sql`insert into ps_endpoints (id, context, rtp_symmetric) values ('bob', 'internal', 'yes')`;
    expect((await sql`select count(*)::int as n from ps_endpoints`)[0]!.n).toBe(2);
    expect((await sql`select version_num from alembic_version`)[0]!.version_num).toBe('43956d550a44');
    // A second run is a no-op.
    expect((await runMigrations(url)).applied).toBe(0);
  });
});
