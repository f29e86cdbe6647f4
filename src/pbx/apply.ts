// Apply: make every Asterisk node pick up the realtime rows and check that each provisioned
// endpoint is visible there. Realtime endpoints are read from the database on use, so the reload is
// for what realtime alone does not refresh (sorcery caches, identify/transport changes); the check
// is PJSIPShowEndpoint per endpoint. A node that does not answer is reported, never fatal.
import { AmiActionError, type AmiClient } from '../asterisk/ami.ts';

export interface ApplyNode {
  id: string;
  ami: Pick<AmiClient, 'connected' | 'action'>;
}

export interface EndpointCheck {
  endpoint: string;
  visible: boolean;
  reason: string | null;
}

export interface NodeReport {
  node: string;
  reachable: boolean;
  error: string | null;
  reload: { ok: boolean; message: string } | null;
  endpoints: EndpointCheck[];
}

export interface ApplyOptions {
  reload: boolean;
  timeoutMs: number;
  concurrency: number;
}

export async function applyToNode(n: ApplyNode, endpoints: string[], o: ApplyOptions): Promise<NodeReport> {
  const report: NodeReport = { node: n.id, reachable: true, error: null, reload: null, endpoints: [] };
  if (!n.ami.connected) return { ...report, reachable: false, error: 'AMI not connected' };
  if (o.reload) {
    try {
      // AMI `Reload` with a module name reloads just that module (res_pjsip and its sorcery config).
      const r = await n.ami.action('Reload', { Module: 'res_pjsip.so' }, { timeoutMs: o.timeoutMs });
      report.reload = { ok: true, message: r.response.fields.message ?? 'reloaded' };
    } catch (e) {
      if (!(e instanceof AmiActionError)) return { ...report, reachable: false, error: (e as Error).message };
      report.reload = { ok: false, message: e.response.fields.message ?? 'reload failed' };
    }
  }
  const queue = [...endpoints];
  const check = async (name: string): Promise<EndpointCheck> => {
    try {
      const r = await n.ami.action('PJSIPShowEndpoint', { Endpoint: name }, { timeoutMs: o.timeoutMs });
      const found = r.events.some((e) => e.event === 'EndpointDetail' && e.fields.objectname === name);
      return { endpoint: name, visible: found, reason: found ? null : 'no EndpointDetail in the answer' };
    } catch (e) {
      if (e instanceof AmiActionError)
        return { endpoint: name, visible: false, reason: e.response.fields.message ?? 'error' };
      return { endpoint: name, visible: false, reason: `node did not answer: ${(e as Error).message}` };
    }
  };
  const results = new Map<string, EndpointCheck>();
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift())
      results.set(name, await check(name));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, endpoints.length)) }, worker));
  report.endpoints = endpoints.map((e) => results.get(e)!);
  return report;
}
