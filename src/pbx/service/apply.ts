// Apply: make every Asterisk node pick up the realtime rows and check that each provisioned
// endpoint is visible there. Realtime endpoints are read from the database on use, so the reload is
// for what realtime alone does not refresh (sorcery caches, identify/transport changes); the check
// is PJSIPShowEndpoint per endpoint. A node that does not answer is reported, never fatal.
import type { Redis } from 'ioredis';
import { AmiActionError, type AmiClient } from '../../asterisk/ami.ts';
import type { Db } from '../../platform/db.ts';
import { AppError } from '../../platform/http/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { LockLostError, RedisLock } from '../../platform/redis/lock.ts';
import { endpointNames } from '../repository.ts';
import type { Actor, PbxAudit } from './audit.ts';
import type { ApplyOptions, PbxSettings } from './settings.ts';

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
    // The apply's lock lost: no further endpoint is checked.
    for (let name = queue.shift(); name !== undefined && !o.signal?.aborted; name = queue.shift())
      results.set(name, await check(name));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, endpoints.length)) }, worker));
  o.signal?.throwIfAborted();
  report.endpoints = endpoints.map((e) => results.get(e)!);
  return report;
}

export interface ApplyReport {
  triggered_by: string;
  started_at: string;
  finished_at: string;
  ok: boolean;
  endpoints: number;
  nodes: NodeReport[];
}

export class ApplyService {
  private lock: RedisLock;

  constructor(
    private db: Db,
    redis: Redis,
    private s: PbxSettings,
    private nodes: () => ApplyNode[],
    private audit: PbxAudit,
    private log: Logger,
  ) {
    this.lock = new RedisLock(redis, s.lockKey, {
      ttlMs: s.lockTtlMs,
      onLost: (err) => this.log.warn({ err: err.message }, 'apply lock lost: the apply stops'),
    });
  }

  /** One apply at a time across every instance (Redis lock); the second gets APPLY_IN_PROGRESS. */
  async apply(actor: Actor, triggeredBy: string): Promise<ApplyReport> {
    const held = await this.lock.acquire();
    if (!held)
      return this.audit.failed(
        actor,
        'apply',
        null,
        new AppError('APPLY_IN_PROGRESS', 'another apply is running; try again when it has finished'),
      );
    const started = new Date();
    // The lock keeps itself alive while the apply runs longer than its TTL; once it is lost, the
    // apply stops at its next step (another apply may be running) and reports the failure.
    try {
      const names = await endpointNames(this.db);
      const apply = { ...this.s.apply, signal: held.signal };
      const nodes = await Promise.all(this.nodes().map((n) => applyToNode(n, names, apply)));
      held.signal.throwIfAborted();
      const ok = nodes.every((n) => n.reachable && n.endpoints.every((e) => e.visible));
      const report: ApplyReport = {
        triggered_by: triggeredBy,
        started_at: started.toISOString(),
        finished_at: new Date().toISOString(),
        ok,
        endpoints: names.length,
        nodes,
      };
      await this.audit.record(this.db, actor, 'apply', null, ok ? 'ok' : 'error', {
        triggered_by: triggeredBy,
        endpoints: names.length,
        nodes: nodes.map((n) => ({
          node: n.node,
          reachable: n.reachable,
          error: n.error,
          invisible: n.endpoints.filter((e) => !e.visible).map((e) => e.endpoint),
        })),
      });
      return report;
    } catch (e) {
      const err =
        e instanceof LockLostError
          ? new AppError(
              'APPLY_IN_PROGRESS',
              'the apply lock was lost (Redis did not keep it): the apply stopped',
            )
          : e;
      return this.audit.failed(actor, 'apply', null, err);
    } finally {
      await held.release().catch((err: unknown) => this.log.warn({ err }, 'apply lock release failed'));
    }
  }
}
