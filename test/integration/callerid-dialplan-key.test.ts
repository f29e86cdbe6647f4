// The dialer key as asterisk/vicidial-cid.conf sends it: an Authorization header from
// CURLOPT(httpheader) on a plain HTTP/1.1 GET whose URL carries no secret, over a real socket
// (libcurl's request, not inject()). The header line is taken from the snippet itself.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

const dialplan = readFileSync(new URL('../../asterisk/vicidial-cid.conf', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => !l.trimStart().startsWith(';'))
  .join('\n');
const headerTemplate = /Set\(CURLOPT\(httpheader\)=([^)]*)\)/.exec(dialplan)![1]!;

/** One raw HTTP/1.1 request; resolves with the status code and body. */
function rawGet(
  address: string,
  path: string,
  headerLines: string[],
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname);
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (c) => {
      data += c;
    });
    s.on('error', reject);
    s.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    s.write(
      [
        `GET ${path} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        'Accept: */*',
        ...headerLines,
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

describe('dialer key from the dialplan snippet', () => {
  const { log, lines: logLines } = capturingLogger('trace');
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let dialer: string;

  beforeAll(async () => {
    db = await freshDatabase();
    const config = testConfig({ DATABASE_URL: db.url, API_PORT: '0', CID_REQUEST_LOG_LEVEL: 'trace' });
    d = await startDaemon(config, log, [(ctx) => createCallerIdModule(ctx)]);
    const admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    dialer = (await createApiKey(d.ctx.database.db, { role: 'dialer' })).key;
    const api = (url: string, payload: object) =>
      d.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}` }, payload });
    expect((await api('/v1/cid-pools', { id: 'VICI01' })).statusCode).toBe(201);
    for (const number of ['+12125550100', '+12125550101']) {
      const r = await api('/v1/caller-ids', { number, campaigns: ['VICI01'] });
      expect(r.statusCode, r.body).toBe(201);
    }
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  const path = '/next-cid?campaign=VICI01&to=%2B12125550199&format=text';

  it('authenticates /next-cid with the header line the snippet sets, and the key reaches no log', async () => {
    const header = headerTemplate.replace(/\$\{CAPCONDUIT_DIALER_KEY\}/, dialer);
    expect(header).toMatch(/^Authorization: Bearer cc_/);
    const r = await rawGet(d.address, path, [header]);
    expect(r).toEqual({ status: 200, body: '+12125550100' });
    // The same line twice (a channel that ran the routine without its guard) still authenticates.
    const twice = await rawGet(d.address, path.replace('0199', '0198'), [header, header]);
    expect(twice).toEqual({ status: 200, body: '+12125550101' });
    expect(logLines.join('\n')).not.toContain(dialer);
  });

  it('refuses the request without the header (401), so the URL alone carries nothing that opens it', async () => {
    const r = await rawGet(d.address, path, []);
    expect(r.status).toBe(401);
  });
});
