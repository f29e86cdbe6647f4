// Provisioning operations without HTTP (used by the routes, the workers and the CLI): carrier accounts
// with sealed credentials, groups and their subaccounts, searches, and jobs. Every change of a number
// goes through a job item (jobs/items.ts), so a single number and a batch of thousands take one path.
// Why one class of about 550 lines: accounts, groups, searches, reconcile and jobs share the sealed
// credentials, the provider client made per account and the group lock; it is sectioned by resource.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Histogram } from 'prom-client';
import type { Actor } from '../platform/audit.ts';
import { AppError, notFound } from '../platform/http/errors.ts';
import type { JobKind, WebhookEvent } from '../db/schema/provisioning.ts';
import type { Logger } from '../platform/logger.ts';
import { mapDbError } from '../platform/pg-errors.ts';
import type { Writer } from '../platform/outbox.ts';
import type { RedisKeys } from '../platform/redis/keys.ts';
import { type ItemClaim, unknownNumberAction } from './drift.ts';
import { asApiError, carrierError } from './errors.ts';
import { AccountLimiter } from './limiter.ts';
import {
  type Provider,
  ProviderError,
  type ProviderErrorKind,
  type SearchQuery,
  type VoiceRouting,
} from './providers/types.ts';
import { VonageProvider } from './providers/vonage/provider.ts';
import type { AccountRow, GroupRow, JobRow, ProvisioningRepository } from './repository.ts';
import type { accountPatch, groupIn } from './schemas.ts';
import type { Keyring } from './sealed.ts';
import type { z } from 'zod';

export interface EventSink {
  /** Writes the event in `q` (the change's transaction) or, without one, on its own. */
  emit(
    event: WebhookEvent,
    sellerId: string | null,
    data: Record<string, unknown>,
    q?: Writer,
  ): Promise<void>;
}

export interface JobQueue {
  /** Hands a job's open items to the workers (adding the same job twice changes nothing). */
  enqueue(job: JobRow, itemIds: string[]): Promise<void>;
  /** Stops (or lets again) every instance's workers taking the account's items; running ones finish. */
  setPaused(accountId: string, paused: boolean): Promise<void>;
}

/** Writes the Asterisk side of a carrier account: a trunk identified by the carrier's addresses. */
export interface TrunkPort {
  ensureCarrierTrunk(name: string, cidrs: string[]): Promise<string>;
}

export interface AccountInput {
  name: string;
  provider: 'vonage';
  rest_url: string;
  api_url: string;
  api_key: string;
  api_secret: string;
  rate_per_s?: number | undefined;
  concurrency?: number | undefined;
  timeout_ms?: number | undefined;
  use_subaccounts?: boolean | undefined;
  signalling_cidrs?: string[] | undefined;
  voice?: VoiceRouting | null | undefined;
  active?: boolean | undefined;
}

const credContext = (id: string) => `provider_account:${id}:credentials`;
const subContext = (groupId: string) => `provisioning_group:${groupId}:subaccount_secret`;

export class ProvisioningService {
  private providers = new Map<string, { sealed: string; p: Provider }>();
  private making = new Map<string, Promise<GroupRow>>();
  events: EventSink | null = null;
  queue: JobQueue | null = null;
  trunks: TrunkPort | null = null;

  constructor(
    readonly repo: ProvisioningRepository,
    readonly keyring: Keyring,
    private redis: Redis,
    private keys: RedisKeys,
    private latency: Histogram<'provider_account' | 'operation' | 'outcome'>,
    readonly log: Logger,
  ) {}

  // ------------------------------------------------------------ accounts

  async createAccount(b: AccountInput, actor: Actor | null) {
    const id = randomUUID();
    const credentials = this.keyring.seal(
      JSON.stringify({ apiKey: b.api_key, apiSecret: b.api_secret }),
      credContext(id),
    );
    let row: AccountRow;
    try {
      row = await this.repo.insertAccount(
        {
          id,
          name: b.name,
          provider: b.provider,
          restUrl: b.rest_url,
          apiUrl: b.api_url,
          credentials,
          ...(b.rate_per_s !== undefined ? { ratePerS: b.rate_per_s } : {}),
          ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}),
          ...(b.timeout_ms !== undefined ? { timeoutMs: b.timeout_ms } : {}),
          ...(b.use_subaccounts !== undefined ? { useSubaccounts: b.use_subaccounts } : {}),
          signallingCidrs: b.signalling_cidrs ?? [],
          voice: b.voice ?? null,
          ...(b.active !== undefined ? { active: b.active } : {}),
        },
        actor,
      );
    } catch (e) {
      return mapDbError(e, `provider account ${b.name}`);
    }
    if (row.signallingCidrs.length && this.trunks) {
      const endpoint = await this.trunks.ensureCarrierTrunk(
        `carrier-${row.id.slice(0, 8)}`,
        row.signallingCidrs,
      );
      row = (await this.repo.updateAccount(row.id, { trunkEndpoint: endpoint }, actor))!;
    }
    if (!row.active) await this.queue?.setPaused(row.id, true);
    return row;
  }

  async account(id: string): Promise<AccountRow> {
    const a = await this.repo.account(id);
    if (!a) throw notFound('provider account', id);
    return a;
  }

  /** The account, if it may take new work (a search, a job, a reconcile): 409 when it is disabled. */
  async activeAccount(id: string): Promise<AccountRow> {
    const a = await this.account(id);
    if (!a.active)
      throw new AppError('CONFLICT', `provider account ${a.name} is disabled: enable it first`, {
        reason: 'account_disabled',
        provider_account_id: a.id,
      });
    return a;
  }

  async updateAccount(id: string, b: z.infer<typeof accountPatch>, actor: Actor | null): Promise<AccountRow> {
    await this.account(id);
    const row = await this.repo.updateAccount(
      id,
      {
        ...(b.api_key !== undefined && b.api_secret !== undefined
          ? {
              credentials: this.keyring.seal(
                JSON.stringify({ apiKey: b.api_key, apiSecret: b.api_secret }),
                credContext(id),
              ),
            }
          : {}),
        ...(b.rate_per_s !== undefined ? { ratePerS: b.rate_per_s } : {}),
        ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}),
        ...(b.timeout_ms !== undefined ? { timeoutMs: b.timeout_ms } : {}),
        ...(b.use_subaccounts !== undefined ? { useSubaccounts: b.use_subaccounts } : {}),
        ...(b.voice !== undefined ? { voice: b.voice } : {}),
        ...(b.active !== undefined ? { active: b.active } : {}),
      },
      actor,
    );
    // Written after the row: a crash in between is put right by the workers' refresh, which pauses
    // the queue of every disabled account and resumes the others.
    if (b.active !== undefined) await this.queue?.setPaused(id, !b.active);
    return row!;
  }

  async deleteAccount(id: string, actor: Actor | null): Promise<void> {
    await this.account(id);
    await this.repo.deleteAccount(id, actor).catch((e: unknown) => mapDbError(e, `provider account ${id}`));
    this.providers.delete(id);
  }

  /**
   * The seller numbers are bought for, or set up for, must exist and not be archived: an archived
   * seller routes nothing, so a number bought for it would be paid for and take no call (releasing
   * or configuring its numbers stays allowed, to wind it down).
   */
  async sellerToBuyFor(sellerId: string): Promise<void> {
    const archived = await this.repo.sellerArchived(sellerId);
    if (archived === null) throw notFound('seller', sellerId);
    if (archived)
      throw new AppError(
        'SELLER_ARCHIVED',
        `seller ${sellerId} is archived: restore it before buying for it`,
      );
  }

  /** Sets a seller's routing defaults at an account (the group is made if it is not there yet). */
  async setGroup(sellerId: string, b: z.infer<typeof groupIn>): Promise<GroupRow> {
    await this.account(b.provider_account_id);
    await this.sellerToBuyFor(sellerId);
    const g = await this.repo.ensureGroup(b.provider_account_id, sellerId);
    return this.repo.updateGroup(g.id, {
      ...(b.voice !== undefined ? { voice: b.voice } : {}),
      ...(b.sip_domain !== undefined ? { sipDomain: b.sip_domain } : {}),
    });
  }

  credentials(a: AccountRow): { apiKey: string; apiSecret: string } {
    return JSON.parse(this.keyring.open(a.credentials, credContext(a.id))) as {
      apiKey: string;
      apiSecret: string;
    };
  }

  /** The carrier client of an account, rebuilt when its credentials or settings change. */
  providerFor(a: AccountRow): Provider {
    const stamp = `${a.credentials}|${a.restUrl}|${a.apiUrl}|${a.ratePerS}|${a.timeoutMs}`;
    const cached = this.providers.get(a.id);
    if (cached?.sealed === stamp) return cached.p;
    const limiter = new AccountLimiter(this.redis, this.keys.provisioningRate(a.id), a.ratePerS);
    const p = new VonageProvider(this.credentials(a), {
      restUrl: a.restUrl,
      apiUrl: a.apiUrl,
      timeoutMs: a.timeoutMs,
      beforeRequest: () => limiter.turn(),
      onThrottled: (ms) => limiter.penalize(ms),
      observe: (operation, outcome, s) =>
        this.latency.observe({ provider_account: a.name, operation, outcome }, s),
      subaccountCredentials: async (key) => {
        const g = await this.repo.groupBySubaccount(a.id, key);
        if (!g?.subaccountSecret) throw new Error(`no secret stored for subaccount ${key}`);
        return { apiKey: key, apiSecret: this.keyring.open(g.subaccountSecret, subContext(g.id)) };
      },
    });
    this.providers.set(a.id, { sealed: stamp, p });
    return p;
  }

  // ------------------------------------------------------------ groups

  /**
   * The seller's group at the account, with its subaccount created on first use. The intended name and
   * secret are written before the carrier is asked, so a retry after a crash adopts the subaccount the
   * carrier made instead of making another.
   */
  async groupFor(a: AccountRow, sellerId: string): Promise<GroupRow> {
    const g = await this.repo.ensureGroup(a.id, sellerId);
    if (!a.useSubaccounts || g.subaccountKey) return g;
    // One creation per group: in this process one caller goes to the lock, the others wait for it.
    const k = `${a.id}:${sellerId}`;
    let p = this.making.get(k);
    if (!p) {
      p = this.repo
        .withGroupLock(a.id, sellerId, () => this.makeSubaccount(a, sellerId))
        .finally(() => this.making.delete(k));
      this.making.set(k, p);
    }
    return p;
  }

  private async makeSubaccount(a: AccountRow, sellerId: string): Promise<GroupRow> {
    let g = await this.repo.ensureGroup(a.id, sellerId);
    if (g.subaccountKey) return g;
    g = await this.repo.intendSubaccount(
      g.id,
      `cc-${sellerId}`.slice(0, 80),
      this.keyring.seal(subSecret(), subContext(g.id)),
    );
    const p = this.providerFor(a);
    const existing = (await p.listSubaccounts()).find((s) => s.name === g.subaccountName);
    if (existing) return this.repo.updateGroup(g.id, { subaccountKey: existing.apiKey });
    const created = await p.createSubaccount(
      g.subaccountName!,
      this.keyring.open(g.subaccountSecret!, subContext(g.id)),
    );
    return this.repo.db.transaction(async (tx) => {
      const row = await this.repo.updateGroup(g.id, { subaccountKey: created.apiKey }, tx);
      await this.events?.emit(
        'subaccount.created',
        sellerId,
        { provider_account_id: a.id, seller_id: sellerId, subaccount: created.apiKey },
        tx,
      );
      return row;
    });
  }

  /** Where a number of this group sends its calls: the group's routing, else the account's. */
  voiceFor(a: AccountRow, g: GroupRow | null, e164: string): VoiceRouting | null {
    const v = g?.voice ?? a.voice;
    return v ? { type: v.type, value: v.value.replaceAll('{e164}', e164) } : null;
  }

  // ------------------------------------------------------------ search

  async search(accountId: string, q: SearchQuery) {
    const a = await this.activeAccount(accountId);
    return this.providerFor(a).search(q).catch(asApiError);
  }

  // ------------------------------------------------------------ reconcile

  /**
   * Our records against the carrier's: numbers we hold that the carrier does not list for the account
   * (or its group subaccounts), and numbers it lists that we do not hold. With `fix`, the first are
   * marked released (their DIDs leave routing); each of the second gets the action drift.ts decides
   * (a job item's late purchase becomes its answer or goes back to the carrier; a number in a group's
   * subaccount becomes that seller's; one on the primary account is only reported). The report names
   * each unknown number's action, fixed or not.
   */
  async reconcile(accountId: string, fix: boolean) {
    const a = await this.activeAccount(accountId);
    const p = this.providerFor(a);
    const carrier = new Map<string, { key: string | null; sellerId: string | null; country: string }>();
    const holders: Array<{ key: string | undefined; sellerId: string | null }> = [
      { key: undefined, sellerId: null },
      ...(await this.repo.groupsOf(a.id))
        .filter((g) => g.subaccountKey)
        .map((g) => ({ key: g.subaccountKey!, sellerId: g.sellerId })),
    ];
    for (const h of holders) {
      for (let index = 1; ; index++) {
        const page = await p.owned(h.key, { index, size: 100 }).catch(asApiError);
        for (const n of page.numbers)
          carrier.set(`+${n.msisdn}`, { key: h.key ?? null, sellerId: h.sellerId, country: n.country });
        if (page.numbers.length < 100) break;
      }
    }
    const ours = await this.repo.liveNumbersOf(a.id);
    const held = new Set(ours.map((n) => n.e164));
    const missing = ours.filter((n) => !carrier.has(n.e164));
    const unknown = [...carrier].filter(([e164]) => !held.has(e164));
    const claims = new Map<string, ItemClaim[]>();
    for (const c of await this.repo.claimsOf(
      a.id,
      unknown.map(([e164]) => e164.slice(1)),
    )) {
      const list = claims.get(c.msisdn) ?? [];
      list.push({
        itemId: c.itemId,
        jobId: c.jobId,
        sellerId: c.sellerId,
        answered: c.outcome === 'provisioned',
      });
      claims.set(c.msisdn, list);
    }
    const decided = unknown.map(([e164, c]) => ({
      e164,
      c,
      d: unknownNumberAction(c.sellerId, claims.get(e164.slice(1)) ?? []),
    }));
    const fixed = { released: 0, adopted: 0, released_at_carrier: 0 };
    if (fix) {
      for (const n of missing) {
        await this.repo.recordReleased(n.id, async () => {});
        fixed.released++;
      }
      for (const { e164, c, d } of decided) {
        const bought = (
          sellerId: string,
          itemId: string | null,
          finish: Parameters<ProvisioningRepository['recordBought']>[2],
        ) =>
          this.repo.recordBought(
            { e164, country: c.country, accountId: a.id, sellerId, accountKey: c.key, voice: null },
            itemId,
            finish,
          );
        if (d.action === 'adopt') {
          await bought(d.sellerId, null, async () => {});
          fixed.adopted++;
        } else if (d.action === 'adopt_for_item') {
          const { itemId, sellerId } = d.claim;
          await bought(sellerId!, itemId, async (tx, row) => {
            const result = { e164, did_id: row.didId, number_id: row.id, adopted_by_reconcile: true };
            if (!(await this.repo.answerItemWith(tx, itemId, e164.slice(1), result))) return;
            await this.events?.emit(
              'number.provisioned',
              sellerId,
              { e164, seller_id: sellerId, did_id: row.didId, provider_account_id: a.id, voice: null },
              tx,
            );
          });
          fixed.adopted++;
        } else if (d.action === 'release') {
          await p
            .release({ country: c.country, msisdn: e164.slice(1) }, c.key ?? undefined)
            .catch(asApiError);
          fixed.released_at_carrier++;
        }
      }
    }
    const report = {
      provider_account_id: a.id,
      checked_at: new Date().toISOString(),
      carrier_numbers: carrier.size,
      our_numbers: ours.length,
      missing_at_carrier: missing.map((n) => ({ e164: n.e164, seller_id: n.sellerId })),
      unknown_to_us: decided.map(({ e164, c, d }) => ({
        e164,
        subaccount: c.key,
        seller_id: d.action === 'adopt_for_item' ? d.claim.sellerId : c.sellerId,
        action: d.action,
        ...(d.action === 'adopt_for_item' || d.action === 'release'
          ? { job_id: d.claim.jobId, item_id: d.claim.itemId }
          : {}),
      })),
      fixed: fix ? fixed : null,
    };
    if (missing.length || unknown.length) await this.events?.emit('drift.found', null, report);
    return report;
  }

  // ------------------------------------------------------------ jobs

  /**
   * A job with one item per input, handed to the workers. The same Idempotency-Key from the same API
   * key answers the first job (and refuses a different request under it).
   */
  async createJob(
    j: {
      kind: JobKind;
      accountId: string;
      sellerId: string | null;
      keyId: string | null;
      idem: string | null;
    },
    request: unknown,
    inputs: Record<string, unknown>[],
  ): Promise<{ job: JobRow; created: boolean }> {
    const hash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const again = async () => {
      const prev = await this.repo.jobByIdempotency(j.keyId ?? '', j.idem ?? '');
      if (!prev) return null;
      if (prev.requestHash !== hash)
        throw new AppError('CONFLICT', 'this Idempotency-Key was used for a different request');
      return prev;
    };
    if (j.idem && j.keyId) {
      const prev = await again();
      if (prev) {
        await this.resume(prev);
        return { job: prev, created: false };
      }
    }
    await this.activeAccount(j.accountId);
    const job = await this.repo.createJob({ ...j, hash }, inputs);
    if (!job) {
      const prev = await again();
      if (!prev) throw new AppError('CONFLICT', 'this Idempotency-Key is in use');
      return { job: prev, created: false };
    }
    await this.resume(job);
    return { job, created: true };
  }

  /**
   * The numbers a configure or release names: each held now by one of our accounts, all at one
   * account (a job works on one); the seller when they all belong to one.
   */
  async heldNumbers(
    list: string[],
  ): Promise<{ accountId: string; sellerId: string | null; numbers: string[] }> {
    const unique = [...new Set(list)];
    const rows = await this.repo.liveNumbersIn(unique);
    const missing = unique.filter((n) => !rows.some((r) => r.e164 === n));
    if (missing.length)
      throw new AppError('NOT_FOUND', 'numbers not held by any provider account', {
        numbers: missing.slice(0, 100),
      });
    const accounts = new Set(rows.map((r) => r.providerAccountId));
    if (accounts.size > 1)
      throw new AppError(
        'VALIDATION_FAILED',
        'a job works on one provider account: split the numbers by account',
      );
    const sellers = new Set(rows.map((r) => r.sellerId));
    return {
      accountId: rows[0]!.providerAccountId,
      sellerId: sellers.size === 1 ? rows[0]!.sellerId : null,
      numbers: unique,
    };
  }

  /** Hands a job's unfinished items (again) to the workers: adding is idempotent per item. */
  async resume(job: JobRow): Promise<void> {
    if (job.status === 'completed' || !this.queue) return;
    await this.queue.enqueue(job, await this.repo.openItemIds(job.id));
  }

  /** Waits (polling PostgreSQL) until the job has completed, up to `ms`. */
  async waitJob(id: string, ms: number): Promise<JobRow> {
    const end = Date.now() + ms;
    for (;;) {
      const j = (await this.repo.job(id, null))!;
      if (j.status === 'completed' || Date.now() >= end) return j;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The answer of a one-number job that has completed: the item's result, or the API error its
   * failure means.
   */
  async singleResult(jobId: string): Promise<Record<string, unknown>> {
    const [item] = await this.repo.items(jobId);
    const r = item?.result ?? {};
    if (item?.state === 'done' && ['provisioned', 'configured', 'released'].includes(item.outcome ?? ''))
      return { job_id: jobId, ...r };
    if (item?.outcome === 'no_inventory')
      throw new AppError('CONFLICT', `no numbers for sale in NPA ${String(r.npa)}`, {
        reason: 'no_inventory',
        job_id: jobId,
      });
    if (item?.outcome === 'not_ours') throw notFound('provisioned number', String(r.e164));
    if (item?.outcome === 'no_routing')
      throw new AppError(
        'VALIDATION_FAILED',
        'no voice routing given and none set for the group or the account',
      );
    const kind = String(r.reason ?? 'error');
    const message = String(r.error ?? 'failed');
    throw carrierError(new ProviderError(kind as ProviderErrorKind, message), { job_id: jobId });
  }

  /** Marks a job completed when its last item has its answer; the one caller that did so tells subscribers. */
  async completeIfDone(jobId: string): Promise<void> {
    await this.repo.db.transaction(async (tx) => {
      const finishedAt = await this.repo.completeJobIfDone(jobId, tx);
      if (!finishedAt) return;
      // Read in the same transaction: a second pooled connection, wanted while this one holds the
      // job's row, could wait behind callers queued on that row and never come.
      const view = await this.jobView(jobId, null, false, tx);
      await this.events?.emit('job.completed', view.seller_id, view, tx);
    });
  }

  async jobView(id: string, sellerScope: string | null, withItems: boolean, q?: Writer) {
    const j = await this.repo.job(id, sellerScope, q);
    if (!j) throw notFound('job', id);
    const counts = await this.repo.itemCounts(id, q);
    const done = j.total - (counts.queued ?? 0) - (counts.chosen ?? 0);
    const waiting = j.status !== 'completed' && !(await this.repo.account(j.providerAccountId, q))?.active;
    return {
      id: j.id,
      kind: j.kind,
      status: j.status,
      provider_account_id: j.providerAccountId,
      seller_id: j.sellerId,
      total: j.total,
      done,
      counts,
      account_disabled: waiting,
      created_at: j.createdAt.toISOString(),
      finished_at: j.finishedAt?.toISOString() ?? null,
      ...(withItems
        ? {
            items: (await this.repo.items(id)).map((i) => ({
              idx: i.idx,
              input: i.input,
              state: i.state,
              outcome: i.outcome,
              result: i.result,
              attempts: i.attempts,
              latency_ms: i.startedAt && i.finishedAt ? i.finishedAt.getTime() - i.startedAt.getTime() : null,
            })),
          }
        : {}),
    };
  }
}

/** A subaccount secret Vonage accepts: 8-25 characters with lower and upper case letters and a digit. */
function subSecret(): string {
  return `Cc1${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x')}`.slice(0, 24);
}
