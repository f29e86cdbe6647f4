// One job item, start to end: provision (choose a number, record it, buy, point it, make it a DID),
// configure, or release. Safe to run again at any point (a retry, another instance taking over after a
// crash): the number an item buys is recorded before the purchase is sent, and an item that finds a
// number recorded asks the carrier whether it already owns it before buying anything.
import type { Counter } from 'prom-client';
import type { JobRow, ItemRow, AccountRow } from '../repository.ts';
import {
  isProviderError,
  type NumberRef,
  type Provider,
  ProviderError,
  type VoiceRouting,
} from '../providers/types.ts';
import type { ProvisioningService } from '../service.ts';

/** Thrown for a failure worth another attempt later (BullMQ backs off and retries). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** Failures another attempt cannot fix. */
const PERMANENT = new Set(['auth', 'not_provisioned', 'invalid', 'limit', 'not_owned']);
export const isPermanent = (e: unknown) => isProviderError(e) && PERMANENT.has(e.kind);

/** How many numbers one item may give up on (taken by others) before it reports no inventory. */
const MAX_ROUNDS = 10;

export class ItemRunner {
  constructor(
    private svc: ProvisioningService,
    private outcomes: Counter<'kind' | 'outcome'>,
  ) {}

  /**
   * Runs an item once. Returns when the item has its final answer; throws (to be retried) when it
   * has none yet. On the last attempt every failure is recorded as the item's answer instead.
   */
  async run(itemId: string, lastAttempt: boolean): Promise<void> {
    const repo = this.svc.repo;
    const item = await repo.startItem(itemId);
    if (!item || item.state === 'done' || item.state === 'failed') return;
    const job = (await repo.job(item.jobId, null))!;
    try {
      const a = await this.svc.account(job.providerAccountId);
      if (job.kind === 'provision') await this.provision(a, job, item);
      else if (job.kind === 'configure') await this.configure(a, item);
      else await this.release(a, item);
    } catch (e) {
      if (!lastAttempt && !isPermanent(e)) throw e;
      const reason = isProviderError(e) ? e.kind : 'error';
      await repo.finishItem(repo.db, item.id, 'failed', 'failed', { error: (e as Error).message, reason });
      this.outcomes.inc({ kind: job.kind, outcome: 'failed' });
    }
    // The last item to finish completes the job at once (the flow's parent would, a moment later).
    await this.svc.completeIfDone(job.id);
  }

  private async finish(
    job: JobRow,
    item: ItemRow,
    outcome: string,
    result: Record<string, unknown>,
    state: 'done' | 'failed' = 'done',
  ) {
    await this.svc.repo.finishItem(this.svc.repo.db, item.id, state, outcome, result);
    this.outcomes.inc({ kind: job.kind, outcome });
  }

  private async provision(a: AccountRow, job: JobRow, item: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const npa = String(item.input.npa);
    const country = String(item.input.country ?? 'US');
    const g = await this.svc.groupFor(a, job.sellerId!);
    const acct = g.subaccountKey ?? undefined;
    const p = this.svc.providerFor(a);
    const tried = new Set(item.tried);
    let chosen = item.chosen;
    // A number recorded by an earlier attempt may have been bought already: ask before buying.
    let check = chosen !== null;
    let bought = false;
    for (let round = 0; round < MAX_ROUNDS && !bought; round++) {
      if (!chosen) {
        const found = await p.search({
          country,
          pattern: `1${npa}`,
          match: 'starts',
          features: ['VOICE'],
          size: 20,
        });
        const candidates = found.numbers.map((n) => n.msisdn).filter((m) => !tried.has(m));
        if (!candidates.length) return this.finish(job, item, 'no_inventory', { npa });
        for (const m of candidates)
          if (await repo.choose(item.id, m)) {
            chosen = m;
            break;
          }
        if (!chosen) throw new RetryLater(`every number offered in ${npa} is being bought by another item`);
        check = false;
      }
      const ref = { country, msisdn: chosen };
      if (check && (await owns(p, acct, chosen))) break;
      try {
        await p.buy(ref, acct);
        bought = true;
      } catch (e) {
        if (!isProviderError(e) || !['uncertain', 'unavailable'].includes(e.kind)) throw e;
        if (await owns(p, acct, chosen)) break; // a 420 (or no answer) that hid a success
        if (e.kind === 'uncertain') {
          if (await forSale(p, ref)) throw e; // still for sale: try it again later
          // Not ours and not for sale: someone else's, or our own write still on its way (a timed-out
          // purchase can land after the checks). Give it time first; an attempt that finds it still
          // not ours, after the back-off, moves on.
          if (!check) throw new RetryLater(`${chosen} is not for sale and not ours yet: looking again later`);
        }
        await repo.giveUpNumber(item.id, chosen); // taken by someone else: the next number
        tried.add(chosen);
        chosen = null;
        check = false;
      }
    }
    if (!chosen) throw new RetryLater(`gave up on ${MAX_ROUNDS} numbers in ${npa} this attempt`);
    const e164 = `+${chosen}`;
    const voice = this.svc.voiceFor(a, g, e164);
    if (voice) await configureAt(p, { country, msisdn: chosen }, voice, acct);
    // The item's answer and the event commit together (the event outbox).
    await repo.recordBought(
      { e164, country, accountId: a.id, sellerId: job.sellerId!, accountKey: acct ?? null, voice },
      item.id,
      async (tx, row) => {
        await repo.finishItem(tx, item.id, 'done', 'provisioned', {
          e164,
          did_id: row.didId,
          number_id: row.id,
        });
        await this.svc.events?.emit(
          'number.provisioned',
          job.sellerId,
          { e164, seller_id: job.sellerId, did_id: row.didId, provider_account_id: a.id, voice },
          tx,
        );
      },
    );
    this.outcomes.inc({ kind: 'provision', outcome: 'provisioned' });
  }

  private async configure(a: AccountRow, item: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const e164 = String(item.input.e164);
    const n = await repo.liveNumber(e164);
    const job = (await repo.job(item.jobId, null))!;
    if (!n || n.providerAccountId !== a.id) return this.finish(job, item, 'not_ours', { e164 }, 'failed');
    const g = await repo.group(a.id, n.sellerId);
    const voice = (item.input.voice as VoiceRouting | undefined) ?? this.svc.voiceFor(a, g, e164);
    if (!voice) return this.finish(job, item, 'no_routing', { e164 }, 'failed');
    await configureAt(
      this.svc.providerFor(a),
      { country: n.country, msisdn: e164.slice(1) },
      voice,
      n.accountKey ?? undefined,
    );
    await repo.setVoice(n.id, voice, async (tx) => {
      await repo.finishItem(tx, item.id, 'done', 'configured', { e164, voice });
      await this.svc.events?.emit(
        'number.configured',
        n.sellerId,
        { e164, seller_id: n.sellerId, voice },
        tx,
      );
    });
    this.outcomes.inc({ kind: 'configure', outcome: 'configured' });
  }

  private async release(a: AccountRow, item: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const e164 = String(item.input.e164);
    const n = await repo.liveNumber(e164);
    const job = (await repo.job(item.jobId, null))!;
    if (!n || n.providerAccountId !== a.id) return this.finish(job, item, 'not_ours', { e164 }, 'failed');
    const p = this.svc.providerFor(a);
    const acct = n.accountKey ?? undefined;
    try {
      await p.release({ country: n.country, msisdn: e164.slice(1) }, acct);
    } catch (e) {
      // Released by an earlier attempt (or by hand at the carrier): not ours any more is what we wanted.
      if (!isProviderError(e) || e.kind !== 'uncertain' || (await owns(p, acct, e164.slice(1)))) throw e;
    }
    await repo.recordReleased(n.id, async (tx) => {
      await repo.finishItem(tx, item.id, 'done', 'released', { e164 });
      await this.svc.events?.emit('number.released', n.sellerId, { e164, seller_id: n.sellerId }, tx);
    });
    this.outcomes.inc({ kind: 'release', outcome: 'released' });
  }
}

async function owns(p: Provider, account: string | undefined, msisdn: string): Promise<boolean> {
  const r = await p.owned(account, { pattern: msisdn });
  return r.numbers.some((n) => n.msisdn === msisdn);
}

async function forSale(p: Provider, n: NumberRef): Promise<boolean> {
  const r = await p.search({ country: n.country, pattern: n.msisdn, match: 'starts', size: 1 });
  return r.numbers.some((x) => x.msisdn === n.msisdn);
}

/** Points a number; an uncertain answer is checked by reading the number back. */
async function configureAt(p: Provider, n: NumberRef, voice: VoiceRouting, account: string | undefined) {
  try {
    await p.configure(n, voice, account);
  } catch (e) {
    if (!isProviderError(e) || e.kind !== 'uncertain') throw e;
    const r = await p.owned(account, { pattern: n.msisdn });
    const now = r.numbers.find((x) => x.msisdn === n.msisdn);
    if (!now) throw new ProviderError('not_owned', `${n.msisdn} is not owned by the account`);
    if (now.voice?.type !== voice.type || now.voice.value !== voice.value) throw e;
  }
}
