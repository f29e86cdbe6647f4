// The API's CSV imports (caller IDs, caller blocks) take the file as a text/csv body or as the file part
// of a multipart/form-data upload, as curl -F and browsers send it, with the same answers; any other
// content type is a 415 naming what they want; the key is checked before a byte of the body is read
// (a request whose body never finishes is still answered 401), and a declared length over the limit
// is a 413 before reading too.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const BOUNDARY = '------------------------d74496d66958873e';

/** A multipart/form-data body as curl -F writes it: fields first, then the file part. */
function formData(
  file: string,
  fields: Record<string, string> = {},
  filename = 'list.csv',
  type = 'text/csv',
) {
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  parts.push(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${file}\r\n`,
  );
  return `${parts.join('')}--${BOUNDARY}--\r\n`;
}
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

/** Sends the head of a request and part of its body over a raw socket; answers the status line. */
function answerToUnfinishedBody(port: number, head: string, bodyStart: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${head}\r\n\r\n${bodyStart}`));
    let got = '';
    s.on('data', (b) => {
      got += b.toString();
      if (got.includes('\r\n\r\n')) {
        s.destroy();
        resolve(got.split('\r\n')[0]!);
      }
    });
    s.on('error', reject);
  });
}

describe('CSV uploads', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let staff: string;
  let port: number;
  const post = (url: string, payload: string, type: string | null, key: string | null = staff) =>
    d.app.inject({
      method: 'POST',
      url,
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(type ? { 'content-type': type } : {}) },
      payload,
    });

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(testConfig({ DATABASE_URL: db.url }), createLogger({ level: 'silent' }), [
      createRoutingModule,
      (ctx) => createCallerIdModule(ctx),
    ]);
    port = Number(new URL(d.address!).port);
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('caller IDs: a multipart upload imports what the same file as a text/csv body does', async () => {
    const csv = 'caller_id,carrier\n+14155550101,acme\nnot-a-number,acme\n+14155550102,acme\n';
    const raw = await post('/v1/caller-ids/import?pool=RAW', csv, 'text/csv');
    expect(raw.statusCode, raw.body).toBe(200);
    // A browser form may name the file's type anything (Windows says application/vnd.ms-excel) and add
    // fields before it: the file part is what counts.
    const up = await post(
      '/v1/caller-ids/import?pool=UP',
      formData(csv, { note: 'from the console' }, 'numbers.csv', 'application/vnd.ms-excel'),
      MULTIPART,
    );
    expect(up.statusCode, up.body).toBe(200);
    expect({ ...up.json(), pools_created: ['RAW'] }).toEqual(raw.json());
    expect(up.json()).toMatchObject({ imported: 2, rejected: [{ line: 3 }] });
    const members = await d.ctx.database.sql`select pool_id, count(*)::int as n from cid_pool_members
      where pool_id in ('RAW', 'UP') group by pool_id order by pool_id`;
    expect(members.map((r) => [r.pool_id, r.n])).toEqual([
      ['RAW', 2],
      ['UP', 2],
    ]);
    // A bad header refuses the file whole either way, with the same code.
    const bad = await post('/v1/caller-ids/import?pool=UP', formData('number\n+14155550103\n'), MULTIPART);
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('caller blocks: a multipart upload imports like a text/csv body; text/plain is refused like JSON', async () => {
    const csv = 'number,note\n+12125550171,robocaller\nnot a number\n';
    const up = await post('/v1/caller-blocks/import?seller_id=global', formData(csv), MULTIPART);
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({ lines: 2, added: 1, rejected_total: 1 });
    const again = await post('/v1/caller-blocks/import?seller_id=global', csv, 'text/csv');
    expect(again.json()).toMatchObject({ lines: 2, added: 0, already_listed: 1 });
    for (const type of ['text/plain', 'application/json', 'application/x-www-form-urlencoded']) {
      const r = await post('/v1/caller-blocks/import?seller_id=global', 'number\n+12125550172\n', type);
      expect([r.statusCode, r.json().error.code], type).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      expect(r.json().error.message).toContain('Content-Type: text/csv');
      expect(r.json().error.message).toContain('multipart/form-data');
      expect(r.json().error.message).toContain(`got ${type}`);
    }
    const none = await d.ctx.database
      .sql`select count(*)::int as n from caller_blocks where number = '+12125550172'`;
    expect(none[0]!.n).toBe(0);
  });

  it('an upload without a file part, or that is not multipart inside, is a 400 changing nothing', async () => {
    const fieldsOnly = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="pool"\r\n\r\nX\r\n--${BOUNDARY}--\r\n`;
    for (const url of ['/v1/caller-ids/import?pool=NOFILE', '/v1/caller-blocks/import?seller_id=global']) {
      const r = await post(url, fieldsOnly, MULTIPART);
      expect([r.statusCode, r.json().error.code], url).toEqual([400, 'VALIDATION_FAILED']);
      expect(r.json().error.message).toContain('no file part');
      const broken = await post(url, 'caller_id\n+14155550109\n', 'multipart/form-data');
      expect([broken.statusCode, broken.json().error.code], url).toEqual([400, 'VALIDATION_FAILED']);
    }
    const pools = await d.ctx.database
      .sql`select count(*)::int as n from cid_pool_members where pool_id = 'NOFILE'`;
    expect(pools[0]!.n).toBe(0);
  });

  it('two files in one upload: the first is imported; too many parts: refused', async () => {
    const two =
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\ncaller_id\n+14155550111\n\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="b"; filename="b.csv"\r\nContent-Type: text/csv\r\n\r\ncaller_id\n+14155550112\n\r\n--${BOUNDARY}--\r\n`;
    const r = await post('/v1/caller-ids/import?pool=TWO', two, MULTIPART);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ imported: 1 });
    // Past the parts limit (20) the upload is refused (413) before the file is reached: nothing imported.
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 'x']));
    const many = await post(
      '/v1/caller-ids/import?pool=MANY',
      formData('caller_id\n+14155550113\n', fields(25)),
      MULTIPART,
    );
    expect([many.statusCode, many.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const none = await d.ctx.database
      .sql`select count(*)::int as n from cid_pool_members where pool_id = 'MANY'`;
    expect(none[0]!.n).toBe(0);
  });

  it('the key is checked before the body is read; a declared length over the limit is refused unread', async () => {
    for (const path of ['/v1/caller-ids/import', '/v1/caller-blocks/import?seller_id=global']) {
      // The body is never finished: an answer can only come from before reading it.
      const head = [
        `POST ${path} HTTP/1.1`,
        'Host: x',
        `Content-Type: ${MULTIPART}`,
        'Content-Length: 100000',
      ].join('\r\n');
      expect(await answerToUnfinishedBody(port, head, `--${BOUNDARY}\r\n`), path).toMatch(/^HTTP\/1.1 401/);
      const huge = [
        `POST ${path} HTTP/1.1`,
        'Host: x',
        `X-Api-Key: ${staff}`,
        `Content-Type: ${MULTIPART}`,
        `Content-Length: ${1024 * 1024 * 1024}`,
      ].join('\r\n');
      expect(await answerToUnfinishedBody(port, huge, `--${BOUNDARY}\r\n`), path).toMatch(/^HTTP\/1.1 413/);
    }
  });
});
