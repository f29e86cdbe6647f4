// Call recording per campaign through the whole flow: off by default; on, the bridge is recorded in
// Asterisk under the call's id, the CDR names it with its length, GET /v1/calls/{id}/recording streams
// the stored file from Asterisk (a seller only its own calls'), and the retention purge deletes it
// from Asterisk (ARI DELETE /recordings/stored/{name}) before its record may go.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { CdrRetention } from '../../src/cdr/retention.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { recordingDeleter } from '../../src/routing/index.ts';
import { redisPrefix } from '../helpers/env.ts';
import { type Flow, startFlow } from '../helpers/flow.ts';

describe('call recording', () => {
  let f: Flow;
  const redis = new Redis(process.env.REDIS_URL!);
  beforeAll(async () => {
    f = await startFlow();
  });
  afterAll(async () => {
    await f?.stop();
    await redis.quit();
  });
  const stored = async (name: string) => {
    const r = await fetch(`${f.sim.ariUrl}/ari/recordings/stored/${encodeURIComponent(name)}`, {
      headers: { authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` },
    });
    return r.status;
  };

  it('off by default: no recording, and the recording route says 404', async () => {
    const c = await f.campaign({}, [{ behaviour: { answerAfterMs: 10, hangupAfterMs: 50 } }]);
    expect((await f.api(f.sellerKey, 'GET', `/v1/campaigns/${c.campaignId}`)).json().record_calls).toBe(
      false,
    );
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550500' });
    const [r] = await f.cdrsOnce(c.did);
    const rec = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
      .items[0];
    expect(rec).toMatchObject({ recording_name: null, recording_s: null });
    const got = await f.api(f.staffKey, 'GET', `/v1/calls/${r!.call_id}/recording`);
    expect(got.statusCode).toBe(404);
    expect(got.json().error.code).toBe('NOT_FOUND');
  });

  it('records the bridge, names it on the CDR, streams it, a seller sees only its own; retention deletes it', async () => {
    const c = await f.campaign({ record_calls: true }, [
      { behaviour: { answerAfterMs: 10, hangupAfterMs: 1500 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550501' });
    const [r] = await f.cdrsOnce(c.did);
    const id = r!.call_id;
    const rec = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
      .items[0];
    expect(rec.recording_name).toBe(id);
    // The bridge was recorded from the answer to the end of the call (1.5 s, in whole seconds).
    expect(rec.recording_s).toBeGreaterThanOrEqual(1);
    expect(rec.recording_s).toBeLessThanOrEqual(rec.talk_s + 1);
    expect(await stored(id)).toBe(200);

    const file = (await f.api(f.staffKey, 'GET', `/v1/calls/${id}/recording`)) as Awaited<
      ReturnType<Flow['api']>
    > & { headers: Record<string, string>; rawPayload: Buffer };
    expect(file.statusCode).toBe(200);
    const bytes = file.rawPayload;
    expect(file.headers['content-type']).toBe('audio/wav');
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
    // 8 kHz 16-bit mono: the data chunk is as long as the recording.
    expect(bytes.readUInt32LE(40)).toBe(rec.recording_s * 16_000);
    expect(file.headers['accept-ranges']).toBe('bytes');
    expect(Number(file.headers['content-length'])).toBe(bytes.length);
    // Byte ranges (a player seeking): Asterisk sends the whole file, the daemon cuts the part out.
    type Raw = { statusCode: number; headers: Record<string, string>; rawPayload: Buffer };
    const part = async (range: string) =>
      (await f.api(f.staffKey, 'GET', `/v1/calls/${id}/recording`, undefined, { range })) as unknown as Raw;
    const head = await part('bytes=0-43');
    expect(head.statusCode).toBe(206);
    expect(head.headers['content-range']).toBe(`bytes 0-43/${bytes.length}`);
    expect(head.rawPayload.equals(bytes.subarray(0, 44))).toBe(true);
    const mid = await part('bytes=1000-8999');
    expect(mid.statusCode).toBe(206);
    expect(mid.headers['content-length']).toBe('8000');
    expect(mid.rawPayload.equals(bytes.subarray(1000, 9000))).toBe(true);
    const tail = await part('bytes=-10');
    expect(tail.headers['content-range']).toBe(
      `bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`,
    );
    expect(tail.rawPayload.equals(bytes.subarray(-10))).toBe(true);
    const past = await part(`bytes=${bytes.length}-`);
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${bytes.length}`);
    // Several ranges are answered with the whole file (allowed, and all a player needs).
    const several = await part('bytes=0-1,4-5');
    expect(several.statusCode).toBe(200);
    expect(several.rawPayload.equals(bytes)).toBe(true);

    // The seller that owns the call gets it; another seller's key does not learn it exists.
    expect((await f.api(f.sellerKey, 'GET', `/v1/calls/${id}/recording`)).statusCode).toBe(200);
    const other = await f.api(f.staffKey, 'POST', '/v1/sellers', { name: 'other-seller' });
    const otherKey = (
      await createApiKey(f.d.ctx.database.db, { role: 'seller', sellerId: other.json().id as string })
    ).key;
    const denied = await f.api(otherKey, 'GET', `/v1/calls/${id}/recording`);
    expect(denied.statusCode).toBe(404);
    expect((await f.api(f.staffKey, 'GET', '/v1/calls/no-such-call/recording')).statusCode).toBe(404);

    // Retention: past RECORDING_RETENTION_DAYS the recording is deleted from Asterisk, then marked.
    const asterisk = f.d.ctx.modules.get('asterisk') as AsteriskModule;
    const log = createLogger({ level: 'silent' });
    const job = new CdrRetention(
      f.d.ctx.database.db,
      redis,
      new RedisKeys(redisPrefix()).cdrRetentionLock,
      { cdrDays: 0, callerNumberDays: 0, recordingDays: 30, batch: 2 },
      log,
      recordingDeleter(asterisk, log),
    );
    expect((await job.runOnce(Date.now()))?.recordingsDeleted).toBe(0); // too young
    const later = Date.now() + 31 * 86_400_000;
    expect((await job.runOnce(later))?.recordingsDeleted).toBe(1);
    expect(await stored(id)).toBe(404);
    const after = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
      .items[0];
    expect(after.recording_deleted_at).not.toBeNull();
    expect((await f.api(f.staffKey, 'GET', `/v1/calls/${id}/recording`)).statusCode).toBe(404);
    expect((await job.runOnce(later))?.recordingsDeleted).toBe(0);
  });

  it('a record whose recording Asterisk could not delete stays until it is deleted', async () => {
    const c = await f.campaign({ record_calls: true }, [
      { behaviour: { answerAfterMs: 10, hangupAfterMs: 50 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550502' });
    const [r] = await f.cdrsOnce(c.did);
    const log = createLogger({ level: 'silent' });
    const lock = new RedisKeys(redisPrefix()).cdrRetentionLock;
    const policy = { cdrDays: 10, callerNumberDays: 0, batch: 10 };
    const later = Date.now() + 11 * 86_400_000;
    // No node can be asked: the record stays, its recording still named.
    const down = new CdrRetention(f.d.ctx.database.db, redis, lock, policy, log, async () => false);
    await down.runOnce(later);
    expect((await f.cdrs(c.did)).map((x) => x.call_id)).toEqual([r!.call_id]);
    // The node answers: the recording goes first, then the record.
    const asterisk = f.d.ctx.modules.get('asterisk') as AsteriskModule;
    const up = new CdrRetention(
      f.d.ctx.database.db,
      redis,
      lock,
      policy,
      log,
      recordingDeleter(asterisk, log),
    );
    const res = await up.runOnce(later);
    expect(res?.recordingsDeleted).toBeGreaterThanOrEqual(1);
    expect(await stored(r!.call_id)).toBe(404);
    expect(await f.cdrs(c.did)).toEqual([]);
  });

  it('after a revenue recovery the next client is recorded appended: recording_s is both parts, and the file holds both', async () => {
    // Each client answers and hangs up 3 s later; the first within its recovery window, so the caller
    // is sent on once and the second client's bridge is appended to the same recording.
    const talk = { answerAfterMs: 10, hangupAfterMs: 3000 };
    const c = await f.campaign({ record_calls: true, max_reroutes: 1 }, [
      { behaviour: talk, link: { recovery_s: 300 } },
      { behaviour: talk },
    ]);
    const parts: Array<{ name: string; duration: number }> = [];
    const onEvent = (_app: string, ev: { type: string; recording?: { name: string; duration?: number } }) => {
      if (ev.type === 'RecordingFinished' && ev.recording)
        parts.push({ name: ev.recording.name, duration: ev.recording.duration ?? -1 });
    };
    f.sim.events.on('ari-event', onEvent);
    try {
      f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550503' });
      const [r] = await f.cdrsOnce(c.did);
      const id = r!.call_id;
      expect(r!.attempts.map((a) => a.short_answer ?? false)).toEqual([true, false]);
      const rec = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
        .items[0];
      // Asterisk said each part ended, with its length: the CDR has their sum, not the last part's.
      const mine = parts.filter((p) => p.name === id).map((p) => p.duration);
      expect(mine).toHaveLength(2);
      for (const d of mine) expect(d).toBeGreaterThanOrEqual(1);
      expect(rec.recording_name).toBe(id);
      expect(rec.recording_s).toBe(mine[0]! + mine[1]!);
      // The stored file grew by the second part: 8 kHz 16-bit mono, as long as both parts.
      const file = (await f.api(f.staffKey, 'GET', `/v1/calls/${id}/recording`)) as Awaited<
        ReturnType<Flow['api']>
      > & { rawPayload: Buffer };
      expect(file.statusCode).toBe(200);
      expect(file.rawPayload.readUInt32LE(40)).toBe(rec.recording_s * 16_000);
    } finally {
      f.sim.events.off('ari-event', onEvent);
    }
  });
});
