// The simulator's CDRs are Asterisk's (main/cdr.c through cdr_pgsql, as asterisk/cdr.conf and
// cdr_pgsql.conf configure them): a row per channel in asterisk_cdr, with the last application the
// channel ran (a caller hung up in Stasis keeps `Stasis`), the extension it ran in, its times in UTC
// and the disposition its answer or hangup cause gives; an unanswered call with no other party is
// written only with `unanswered = yes`.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AsteriskCdr, DEFAULT_DIALPLAN, startSimulator } from '../../src/simulator/index.ts';
import { loadCdrSettings } from '../../src/simulator/cdr.ts';
import { freshDatabase } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

describe('simulator: CDRs as Asterisk writes them with cdr_pgsql', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await freshDatabase();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  const rowOf = (id: string) =>
    waitFor(async () => {
      const [r] = await sql<Record<string, unknown>[]>`
        select *, extract(epoch from start)::float8 * 1000 as start_ms
          from asterisk_cdr where uniqueid = ${id}`;
      return r;
    });

  it("reads the project's cdr.conf and cdr_pgsql.conf", () => {
    const dir = join(DEFAULT_DIALPLAN, '..');
    expect(loadCdrSettings(dir)).toEqual({
      enable: true,
      unanswered: true,
      congestion: false,
      table: 'asterisk_cdr',
    });
  });

  it('writes a row per caller: hung up in Stasis, refused by Stasis with no app, answered by the dialplan', async () => {
    const sim = await startSimulator({ ariPort: 0, amiPort: 0, cdrDatabaseUrl: db.url });
    try {
      // Without an app, Stasis() fails and the fallback hangs up with congestion (34: FAILED).
      const refused = sim.placeInboundCall({ did: '+16465550100', callerNumber: '+12125550001' });
      const ws = new WebSocket(
        `${sim.ariUrl.replace(/^http/, 'ws')}/ari/events?app=capconduit&api_key=asterisk:asterisk`,
      );
      await new Promise((r) => ws.once('open', r));
      const before = Date.now();
      const inStasis = sim.placeInboundCall({
        did: '+16465550101',
        callerNumber: '+12125550002',
        callerName: 'Ann',
      });
      await waitFor(() => sim.liveChannels().find((c) => c.id === inStasis && c.dialplan));
      sim.hangup(inStasis, 16);
      const answered = sim.placeInboundCall({
        did: 'answer',
        context: 'capconduit-test',
        callerNumber: '+12125550003',
      });
      await waitFor(() => sim.liveChannels().find((c) => c.id === answered && c.state === 'Up'));
      sim.hangup(answered, 16);

      const a = await rowOf(inStasis);
      expect(a).toMatchObject({
        channel: expect.stringMatching(/^Local\/\+16465550101@from-carrier-.*;2$/),
        src: '+12125550002',
        clid: '"Ann" <+12125550002>',
        dst: '16465550101',
        dcontext: 'from-carrier',
        lastapp: 'Stasis',
        lastdata: 'capconduit,inbound',
        answer: null,
        billsec: 0,
        disposition: 'NO ANSWER',
        amaflags: 'DOCUMENTATION',
        dstchannel: null,
        accountcode: null,
      });
      // Whole seconds, in UTC.
      expect(a.start_ms as number).toBeGreaterThan(before - 2000);
      expect(a.start_ms as number).toBeLessThanOrEqual(Date.now());
      expect(await rowOf(refused)).toMatchObject({
        lastapp: 'Hangup',
        lastdata: '34',
        disposition: 'FAILED',
      });
      const c = await rowOf(answered);
      expect(c).toMatchObject({ lastapp: 'Wait', lastdata: '3600', disposition: 'ANSWERED' });
      expect(c.answer).not.toBeNull();
      ws.terminate();
    } finally {
      await sim.stop();
    }
  });

  it('drops an unanswered record with no other party when unanswered = no (Asterisk’s default)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-cdrconf-'));
    try {
      copyFileSync(DEFAULT_DIALPLAN, join(dir, 'extensions.conf'));
      writeFileSync(join(dir, 'cdr.conf'), '[general]\nunanswered = no\n');
      const sim = await startSimulator({
        ariPort: 0,
        amiPort: 0,
        dialplanPath: join(dir, 'extensions.conf'),
      });
      const seen: AsteriskCdr[] = [];
      sim.events.on('cdr', (r: AsteriskCdr) => seen.push(r));
      try {
        const noAnswer = sim.placeInboundCall({ did: 'answer', context: 'nowhere', callerNumber: '1' });
        const answered = sim.placeInboundCall({
          did: 'answer',
          context: 'capconduit-test',
          callerNumber: '2',
        });
        await waitFor(() => sim.liveChannels().find((c) => c.id === answered && c.state === 'Up'));
        sim.hangup(answered, 16);
        await waitFor(() => seen.some((r) => r.uniqueid === answered));
        expect(seen.find((r) => r.uniqueid === noAnswer)).toBeUndefined();
      } finally {
        await sim.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
