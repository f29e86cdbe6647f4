// Every route of the OpenAPI document (/docs/json) fed bad input: each body field and query
// parameter with wrong types, NUL, lone surrogates, CR/LF, 1 MB strings, deep nesting, huge and
// negative numbers and odd timestamps; each body whole as the wrong content type, malformed,
// too deep, too large. Asserted: no answer is a 500, every refusal carries a stable code, and a
// refused request changes nothing in PostgreSQL or Redis. Sized by the number of requests (the
// document decides it), never by time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { defaultModules } from '../../src/modules.ts';
import { ERROR_CODES } from '../../src/platform/http/errors.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  minLength?: number;
  minItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Param = { name: string; in: 'path' | 'query' | 'header'; schema?: Schema; required?: boolean };
type Operation = {
  parameters?: Param[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
interface Req {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
  what: string;
}

const deep = (n: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

// Values a JSON body field gets in place of a valid one.
const BAD_JSON_VALUES: Array<[string, unknown]> = [
  ['number', 123],
  ['negative', -1],
  ['huge number', 1e308],
  ['beyond int64', 2 ** 64],
  ['fraction', 0.5],
  ['boolean', true],
  ['null', null],
  ['array', ['x']],
  ['object', { x: 1 }],
  ['NUL', 'a\u0000b'],
  ['lone high surrogate', 'a\ud800b'],
  ['lone low surrogate', '\udc00'],
  ['CR/LF and ;', 'a\r\nb;c=d'],
  ['control characters', '\u0001\u001b[31m\u007f'],
  ['1 MB string', 'x'.repeat(1024 * 1024 - 64)],
  ['nested 30 deep', deep(30)],
  ['year 0000', '0000-01-01T00:00:00Z'],
  ['negative year', '-001000-01-01T00:00:00Z'],
  ['impossible date', '2025-02-30T25:61:00Z'],
  ['400 digits', '9'.repeat(400)],
  ['empty string', ''],
];
// Values a query or path parameter gets (already URL-encoded).
const BAD_QUERY_VALUES: Array<[string, string]> = [
  ['NUL', 'a%00b'],
  ['invalid UTF-8', '%ED%A0%80'],
  ['CR/LF', 'a%0D%0Ab%3Bc'],
  ['long', 'x'.repeat(8000)],
  ['negative', '-1'],
  ['huge', '1e308'],
  ['beyond int64', '18446744073709551616'],
  ['fraction', '0.5'],
  ['empty', ''],
  ['word', 'false'],
  ['year 0000', '0000-01-01T00%3A00%3A00Z'],
  ['negative year', '-001000-01-01T00%3A00%3A00Z'],
  ['brackets', '%5B%5D'],
  ['percent', '%25'],
];

describe('API fuzz from the OpenAPI document', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let admin: string;
  const ids: Record<string, string> = {};

  const inject = (r: Req, key = admin) =>
    d.app.inject({
      method: r.method as 'GET',
      url: r.url,
      headers: { 'x-api-key': key, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
      ...(r.body !== undefined ? { payload: r.body } : {}),
    });

  /** One digest of every table's rows and every Redis key of this daemon. */
  let tablesQuery = '';
  const snapshot = async () => {
    const sql = d.ctx.database.sql;
    const rows = await sql.unsafe(tablesQuery);
    // One digest per Redis key, so a failure names the keys that changed. BullMQ's bookkeeping is
    // left out: `stalled-check` is rewritten on a timer by each worker (it elects the one that looks
    // for stalled jobs), and `meta` when a queue's worker starts, which for a provider account
    // created by an earlier accepted request can happen while a later refused one is in flight.
    // The jobs themselves (their ids, lists and hashes) still count. Each instance's heartbeat
    // (`routing:{routing}:instances`) is also rewritten on a timer, whatever the requests do, and the
    // hold queues' round of turns (`queue-turns`) is raised when an instance hears of a plan change:
    // the notice of an earlier accepted request can arrive while a later refused one is in flight.
    const redis = (await d.ctx.redis.eval(
      `local ks = redis.call('KEYS', ARGV[1]) table.sort(ks)
       local acc = {}
       for _, k in ipairs(ks) do
         local bookkeeping = string.find(k, ':bull:', 1, true)
           and (string.sub(k, -14) == ':stalled-check' or string.sub(k, -5) == ':meta')
         local heartbeat = string.sub(k, -10) == ':instances' or string.sub(k, -12) == ':queue-turns'
         if not bookkeeping and not heartbeat then
           acc[#acc + 1] = k .. '\0' .. redis.sha1hex(redis.call('DUMP', k) or '')
         end
       end
       return acc`,
      0,
      `${d.ctx.config.REDIS_KEY_PREFIX}*`,
    )) as string[];
    return JSON.stringify([...rows.map((r) => `${r.t}:${r.h}`), ...redis.map((e) => `redis ${e}`)]);
  };
  /** What differs between two snapshots (table names, or redis). */
  const diff = (a: string, b: string) => {
    const [x, y] = [new Set(JSON.parse(a) as string[]), new Set(JSON.parse(b) as string[])];
    const changed = [...[...y].filter((e) => !x.has(e)), ...[...x].filter((e) => !y.has(e))];
    return [...new Set(changed.map((e) => (e.startsWith('redis ') ? e.split('\0')[0] : e.split(':')[0])))];
  };

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0, databaseUrl: db.url });
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        // Timers that change Redis by themselves (the caller-ID usage flush empties its dirty set,
        // the sweep rescores numbers whose rest ended) would read as a refused request's change.
        CID_FLUSH_INTERVAL_MS: '3600000',
        CID_PROMOTE_INTERVAL_MS: '0',
      }),
      createLogger({ level: 'silent' }),
      defaultModules(),
      { listen: false },
    );
    await waitFor(async () => ((await d.app.inject('/ready')).statusCode === 200 ? true : undefined));
    admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    const post = async (url: string, body: unknown) => {
      const r = await inject({
        method: 'POST',
        url,
        body: JSON.stringify(body),
        contentType: 'application/json',
        what: 'fixture',
      });
      expect(r.statusCode, `${url} ${r.body}`).toBeLessThan(300);
      return r.json() as { id: string };
    };
    // Rows for path parameters to point at, so requests reach past the 404.
    ids.seller = (await post('/v1/sellers', { name: 'fuzz seller' })).id;
    ids.client = (
      await post('/v1/clients', {
        name: 'fuzz client',
        endpoint: 'fuzz-client',
        timezone: 'UTC',
        schedule: {},
      })
    ).id;
    ids.campaign = (await post('/v1/campaigns', { name: 'fuzz', seller_id: ids.seller })).id;
    ids.did = (
      await post('/v1/dids', { number: '+14155550100', seller_id: ids.seller, campaign_id: ids.campaign })
    ).id;
    ids.link = (await post(`/v1/campaigns/${ids.campaign}/links`, { client_id: ids.client })).id;
    // pbx_audit records refused PBX changes on purpose (result 'error'): only its 'ok' rows count.
    // unseen_call_sweeps is each instance's bookmark in Asterisk's CDRs, moved on a timer by the
    // sweeper whatever the requests do (like the heartbeat in Redis below).
    const [t] = await d.ctx.database.sql<{ q: string }[]>`
      select string_agg(
        format('select %L as t, md5(coalesce(string_agg(x::text, %L order by x::text), %L)) as h from %I x%s',
               tablename, '|', '', tablename,
               case when tablename = 'pbx_audit' then ' where result = ''ok''' else '' end),
        ' union all ' order by tablename) as q
      from pg_tables where schemaname = 'public' and tablename <> 'unseen_call_sweeps'`;
    tablesQuery = t!.q;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });

  it('documents every route: a summary, and who may call it', async () => {
    const doc = (await d.app.inject('/docs/json')).json() as {
      paths: Record<string, Record<string, { summary?: string; description?: string; security?: unknown[] }>>;
    };
    const missing: string[] = [];
    let n = 0;
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        n++;
        if (!op.summary?.trim()) missing.push(`${method.toUpperCase()} ${path}: no summary`);
        // Keyed routes say which roles may call them; the open ones (health, metrics) are public.
        if (path.startsWith('/v1/') && !/Roles: [a-z]/.test(op.description ?? ''))
          missing.push(`${method.toUpperCase()} ${path}: no roles`);
        if (path.startsWith('/v1/') && !op.security?.length)
          missing.push(`${method.toUpperCase()} ${path}: no security`);
      }
    expect(n).toBeGreaterThan(80);
    expect(missing).toEqual([]);
  });

  it('shows an example for every JSON body, and each route takes its example', async () => {
    const doc = (await d.app.inject('/docs/json')).json() as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content?: Record<string, { schema?: Schema & { example?: unknown } }> } }
        >
      >;
    };
    const problems: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const json = op.requestBody?.content?.['application/json'];
        if (!json) continue;
        const what = `${method.toUpperCase()} ${path}`;
        if (json.schema?.example === undefined) {
          problems.push(`${what}: no example`);
          continue;
        }
        // Path parameters point at this file's fixture rows; an example naming other rows may be
        // answered 404 or 409, but never refused as malformed.
        const owner = path.split('/')[2]!.replace(/s$/, '').replace(/-/g, '');
        const url = path.replace(/\{(\w+)\}/g, (_m, k: string) =>
          k === 'e164' || k === 'number'
            ? '%2B14155550100'
            : (ids[k === 'seller_id' ? 'seller' : owner] ?? ids.seller!),
        );
        // The documented ids are made up; the fixture rows of the same kind stand in for them.
        const body = JSON.stringify(json.schema.example, (k, v) =>
          typeof v === 'string' && k.endsWith('_id') && ids[k.slice(0, -3)] ? ids[k.slice(0, -3)] : v,
        );
        const r = await inject({
          method: method.toUpperCase(),
          url,
          body,
          contentType: 'application/json',
          what,
        });
        // A webhook URL's host is resolved to refuse private destinations; this machine resolves no
        // public names, so that refusal alone says the example's shape was accepted.
        const unresolvable = path === '/v1/webhooks' && /cannot resolve/.test(r.body);
        if (r.statusCode >= 500 || (r.statusCode === 400 && !unresolvable))
          problems.push(`${what}: example answered ${r.statusCode} ${r.body.slice(0, 300)}`);
      }
    expect(problems).toEqual([]);
  });

  it('shows an example of every JSON answer', async () => {
    type Doc = Schema & { example?: unknown; properties?: Record<string, Doc>; items?: Doc };
    const doc = (await d.app.inject('/docs/json')).json() as {
      paths: Record<
        string,
        Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Doc }> }> }>
      >;
    };
    // A page or a list shows its rows' example; Swagger UI composes the rest from the types.
    const hasExample = (s: Doc | undefined): boolean =>
      s !== undefined &&
      (s.example !== undefined ||
        s.items?.example !== undefined ||
        s.properties?.items?.items?.example !== undefined);
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, r] of Object.entries(op.responses ?? {})) {
          const schema = r.content?.['application/json']?.schema;
          if (!status.startsWith('2') || !schema || status === '204') continue;
          if (!hasExample(schema)) missing.push(`${method.toUpperCase()} ${path} ${status}`);
        }
    expect(missing).toEqual([]);
  });

  it('answers every mutated request without a 500, with a stable code, and refusals change nothing', async () => {
    const doc = (await d.app.inject('/docs/json')).json() as {
      paths: Record<string, Record<string, Operation>>;
      components?: { schemas?: Record<string, Schema> };
    };
    const resolve = (s: Schema | undefined): Schema => {
      if (!s) return {};
      if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop()!]);
      if (s.allOf?.length) return resolve(s.allOf[0]);
      const alt = s.anyOf ?? s.oneOf;
      if (alt?.length) return resolve(alt.find((x) => resolve(x).type !== 'null') ?? alt[0]);
      return s;
    };
    /** A plausible value for a schema: often valid, so that one mutated field is the fault. */
    const sample = (raw: Schema | undefined, name: string): unknown => {
      const s = resolve(raw);
      if (s.enum?.length) return s.enum[0];
      if (s.const !== undefined) return s.const;
      const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
      switch (type) {
        case 'string':
          if (s.format === 'uuid') return ids[name.replace(/_id$/, '')] ?? ids.seller;
          if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
          if (/number|did|phone|caller/.test(name)) return '+14155550111';
          return 'x'.repeat(Math.max(s.minLength ?? 1, 1));
        case 'integer':
        case 'number':
          return s.minimum ?? 1;
        case 'boolean':
          return true;
        case 'array':
          return s.minItems ? Array.from({ length: s.minItems }, () => sample(s.items, name)) : [];
        case 'object':
          return Object.fromEntries((s.required ?? []).map((k) => [k, sample(s.properties?.[k], k)]));
        default:
          return 'x';
      }
    };
    const pathWith = (path: string, params: Param[], over?: [string, string]) =>
      path.replace(/\{(\w+)\}/g, (_, n: string) => {
        if (over && over[0] === n) return over[1];
        const p = params.find((x) => x.name === n && x.in === 'path');
        const s = resolve(p?.schema);
        if (s.format === 'uuid') {
          const owner = path.split('/')[2]!.replace(/s$/, '').replace(/-/g, '');
          return ids[owner] ?? ids.seller!;
        }
        return encodeURIComponent(String(sample(s, n)));
      });
    const queryWith = (params: Param[], over?: [string, string]) => {
      const q = params
        .filter((p) => p.in === 'query' && (p.required || over?.[0] === p.name))
        .map((p) =>
          over?.[0] === p.name
            ? `${p.name}=${over[1]}`
            : `${p.name}=${encodeURIComponent(String(sample(p.schema, p.name)))}`,
        );
      return q.length ? `?${q.join('&')}` : '';
    };

    const reqs: Req[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path.startsWith('/docs')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const M = method.toUpperCase();
        const params = op.parameters ?? [];
        const bodySchema = resolve(op.requestBody?.content?.['application/json']?.schema);
        const hasBody = op.requestBody !== undefined;
        const base =
          bodySchema.type === 'object' ? (sample(bodySchema, '') as Record<string, unknown>) : undefined;
        const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: 'application/json' });
        const at = (what: string) => `${M} ${path} ${what}`;
        // Likewise for parameters: the first gets every bad value, the others half of them.
        for (const [pi, p] of params.filter((x) => x.in === 'query' || x.in === 'path').entries())
          for (const [name, v] of BAD_QUERY_VALUES.filter((_, vi) => pi === 0 || vi % 2 === pi % 2)) {
            const over: [string, string] = [p.name, v];
            const url =
              pathWith(path, params, p.in === 'path' ? over : undefined) +
              queryWith(params, p.in === 'query' ? over : undefined);
            reqs.push({
              method: M,
              url,
              ...(base ? json(base) : {}),
              what: at(`${p.in} ${p.name}: ${name}`),
            });
          }
        if (!hasBody) continue;
        const url = pathWith(path, params) + queryWith(params);
        // The first field of a route gets every bad value, each further field a third of them
        // (rotating, so every value still meets fields of each kind).
        for (const [fi, field] of Object.keys(bodySchema.properties ?? {}).entries())
          for (const [vi, [name, v]] of BAD_JSON_VALUES.entries())
            if (fi === 0 || vi % 3 === fi % 3)
              reqs.push({
                method: M,
                url,
                ...json({ ...base, [field]: v }),
                what: at(`body ${field}: ${name}`),
              });
        const wholeBodies: Array<[string, string | undefined, string]> = [
          ['text/plain', 'name=x', 'text body'],
          ['application/xml', '<a/>', 'XML body'],
          ['multipart/form-data; boundary=x', '--x\r\n\r\nx\r\n--x--', 'multipart body'],
          ['application/x-www-form-urlencoded', 'a=b', 'form body'],
          ['application/json', '{"a":', 'truncated JSON'],
          ['application/json', '[1,2]', 'array body'],
          ['application/json', '"x"', 'string body'],
          ['application/json', 'null', 'null body'],
          ['application/json', '', 'empty body'],
          ['application/json', JSON.stringify(deep(200)), 'nested 200 deep'],
          ['application/json', `{"a":"${'x'.repeat(1024 * 1024 + 10)}"}`, 'over 1 MiB'],
          ['application/json; charset=utf-16', JSON.stringify(base ?? {}), 'UTF-16 charset'],
          [
            'application/json',
            JSON.stringify({ ...base, __proto__x: 1 }).replace('__proto__x', '__proto__'),
            '__proto__ key',
          ],
        ];
        for (const [ct, body, what] of wholeBodies)
          reqs.push({
            method: M,
            url,
            contentType: ct,
            ...(body !== undefined ? { body } : {}),
            what: at(`whole body: ${what}`),
          });
      }
    }
    // The document drives the count; a route list that shrank to nothing would prove nothing.
    expect(reqs.length).toBeGreaterThan(1000);

    const fivehundreds: string[] = [];
    const unstable: string[] = [];
    const changed: string[] = [];
    let refused = 0;
    const send = async (r: Req) => {
      const res = await inject(r);
      if (res.statusCode >= 500 && res.statusCode !== 503)
        fivehundreds.push(`${r.what} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode >= 400) {
        refused++;
        // An error asked for as text (?format=text) is `CODE: message`; any other is JSON.
        const code = /^text\/plain/.test(String(res.headers['content-type']))
          ? /^([A-Z_]+): /.exec(res.body)?.[1]
          : (res.json() as { error?: { code?: string } }).error?.code;
        if (!code || !(code in ERROR_CODES))
          unstable.push(`${r.what} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
      return res.statusCode;
    };
    // State is compared around each batch (one route, one target); a batch in which something
    // was accepted is sent again one request at a time, each refusal checked on its own. Nothing
    // runs between two steps, so the state after one is the state before the next: each snapshot
    // serves both (they took two thirds of the file's time when each step took its own).
    const batches = new Map<string, Req[]>();
    for (const r of reqs) {
      const k = r.what.split(':')[0]!;
      batches.set(k, [...(batches.get(k) ?? []), r]);
    }
    let now = await snapshot();
    for (const [k, batch] of batches) {
      const before = now;
      const statuses = [];
      for (const r of batch) statuses.push(await send(r));
      now = await snapshot();
      if (statuses.every((st) => st >= 400)) {
        if (now !== before)
          changed.push(
            `${k}: ${batch.length} requests, all refused (${statuses}), changed ${diff(before, now)}`,
          );
        continue;
      }
      for (const [i, r] of batch.entries()) {
        if (statuses[i]! < 400) continue;
        const s0 = now;
        const st = await send(r);
        now = await snapshot();
        if (st >= 400 && now !== s0) changed.push(`${r.what} -> ${st}, changed ${diff(s0, now)}`);
      }
    }
    expect(fivehundreds).toEqual([]);
    expect(unstable).toEqual([]);
    expect(changed).toEqual([]);
    // Most of what was sent is refused; some well-formed mutations may be taken.
    expect(refused).toBeGreaterThan(reqs.length / 2);
  }, 600_000);
});
