// applyToNode's report for each way a node can answer: everything visible, a refused reload, an
// endpoint Asterisk does not know, a node that stops answering midway, a node that is down.
import { describe, expect, it } from 'vitest';
import { AmiActionError, type AmiResult, AmiTimeoutError } from '../../src/asterisk/ami.ts';
import { applyToNode } from '../../src/pbx/service/apply.ts';

const msg = (fields: Record<string, string>) => ({ fields, multi: {} });
const ok = (events: Array<Record<string, string>> = []): AmiResult => ({
  response: msg({ response: 'Success', message: 'Module Reloaded' }),
  events: events.map((f) => ({ ...msg(f), event: f.event! })),
});
type Action = (a: string, f: Record<string, string | number | undefined>) => Promise<AmiResult>;
const node = (action: Action, connected = true) => ({
  id: 'n1',
  ami: { connected, action: action as never },
});
const opts = { reload: true, timeoutMs: 100, concurrency: 3 };

describe('applyToNode', () => {
  it('reloads res_pjsip, then reports each endpoint visible or not with the reason', async () => {
    const calls: string[] = [];
    const known = new Set(['a', 'b']);
    const r = await applyToNode(
      node(async (a, f) => {
        calls.push(`${a}:${f.Module ?? f.Endpoint}`);
        if (a === 'Reload') return ok();
        const e = String(f.Endpoint);
        if (!known.has(e))
          throw new AmiActionError(
            a,
            msg({ response: 'Error', message: `Unable to retrieve endpoint ${e}` }),
          );
        return ok([{ event: 'EndpointDetail', objectname: e }]);
      }),
      ['a', 'b', 'c'],
      opts,
    );
    expect(calls[0]).toBe('Reload:res_pjsip.so');
    expect(r).toEqual({
      node: 'n1',
      reachable: true,
      error: null,
      reload: { ok: true, message: 'Module Reloaded' },
      endpoints: [
        { endpoint: 'a', visible: true, reason: null },
        { endpoint: 'b', visible: true, reason: null },
        { endpoint: 'c', visible: false, reason: 'Unable to retrieve endpoint c' },
      ],
    });
  });

  it('a refused reload is reported and the endpoints are still checked', async () => {
    const r = await applyToNode(
      node(async (a, f) => {
        if (a === 'Reload')
          throw new AmiActionError(a, msg({ response: 'Error', message: 'Permission denied' }));
        return ok([{ event: 'EndpointDetail', objectname: String(f.Endpoint) }]);
      }),
      ['a'],
      opts,
    );
    expect(r.reload).toEqual({ ok: false, message: 'Permission denied' });
    expect(r.endpoints).toEqual([{ endpoint: 'a', visible: true, reason: null }]);
  });

  it('a node that does not answer the reload, or is down, is unreachable; a stall midway marks endpoints', async () => {
    const silent = await applyToNode(
      node(async (a) => {
        throw new AmiTimeoutError(a, 100);
      }),
      ['a'],
      opts,
    );
    expect(silent).toMatchObject({ reachable: false, endpoints: [] });
    expect(silent.error).toMatch(/no response within 100 ms/);
    const down = await applyToNode(
      node(async () => ok(), false),
      ['a'],
      opts,
    );
    expect(down).toMatchObject({ reachable: false, error: 'AMI not connected', endpoints: [] });
    const stalls = await applyToNode(
      node(async (a, f) => {
        if (a === 'Reload' || f.Endpoint === 'a') return ok([{ event: 'EndpointDetail', objectname: 'a' }]);
        throw new AmiTimeoutError(a, 100);
      }),
      ['a', 'b'],
      { ...opts, reload: false },
    );
    expect(stalls.reload).toBeNull();
    expect(stalls.endpoints[1]).toMatchObject({ endpoint: 'b', visible: false });
    expect(stalls.endpoints[1]!.reason).toMatch(/^node did not answer/);
  });
});
