import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.ts';
import { type CidDaemon, startCidDaemon } from '../helpers/cid-daemon.ts';
import { waitFor } from '../helpers/wait.ts';

describe('caller-ID number health from AMI Cdr events', () => {
  let h: CidDaemon;
  let sim: Simulator;

  beforeAll(async () => {
    h = await startCidDaemon({ CID_HEALTH_EVENT: 'cdr' }, { cdrManager: { enabled: true } });
    sim = h.sim;
  });
  afterAll(() => h?.stop());

  const api = (method: 'GET' | 'POST', url: string, payload?: object) => h.api(method, url, payload);

  it('counts an answered outbound call from its Cdr, and only once', async () => {
    expect((await api('POST', '/v1/cid-pools', { id: 'SALES01' })).statusCode).toBe(201);
    expect(
      (await api('POST', '/v1/caller-ids', { number: '+14155550100', campaigns: ['SALES01'] })).statusCode,
    ).toBe(201);
    sim.setEndpoint('outbound-trunk', { result: 'answer', answerAfterMs: 10, hangupAfterMs: 20 });
    const cdrs: Array<{ src: string; disposition: string }> = [];
    sim.events.on('cdr', (c: { src: string; disposition: string }) => cdrs.push(c));
    sim.placeInboundCall({ did: '4155551234', callerNumber: '100', context: 'outbound-rotated' });
    await waitFor(() => sim.liveChannels().length === 0);
    const stat = async () =>
      (await api('GET', '/v1/caller-ids/stats?campaign=SALES01'))
        .json()
        .numbers.items.find((x: { number: string }) => x.number === '+14155550100');
    await waitFor(async () => (await stat()).answered === 1);
    // The record that counted it: the rotated number as Source, answered.
    expect(cdrs).toContainEqual(expect.objectContaining({ src: '+14155550100', disposition: 'ANSWERED' }));
    // Every CDR of the call has been posted (and sent) by now: still one.
    await waitFor(() => cdrs.length >= 2);
    expect(await stat()).toMatchObject({ answered: 1, unanswered: 0 });
  });
});
