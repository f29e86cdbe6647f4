// One job item, start to end: provision (choose a number, record it, buy, point it, make it a DID),
// configure, or release. Safe to run again at any point, and twice at the same time (a retry, another
// instance taking over after a crash, BullMQ handing over an item whose lock lapsed while its run goes
// on): the number an item buys is recorded before the purchase is sent, an item that finds a number
// recorded asks the carrier whether it owns exactly that number before buying anything, and an item's
// answer is written (and its event sent) once.
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
      await this.finish(job, item, 'failed', { error: (e as Error).message, reason }, 'failed');
    }
    // The last item to finish completes the job at once (the flow's parent would, a moment later).
    await this.svc.completeIfDone(job.id);
  }

  /** Records the item's answer (see `finishItem` for `holding`); false when another run answered first. */
  private async finish(
    job: JobRow,
    item: ItemRow,
    outcome: string,
    result: Record<string, unknown>,
    state: 'done' | 'failed' = 'done',
    holding?: string | null,
  ): Promise<boolean> {
    const wrote = await this.svc.repo.finishItem(this.svc.repo.db, item.id, state, outcome, result, holding);
    if (wrote) this.outcomes.inc({ kind: job.kind, outcome });
    return wrote;
  }

  /**
   * Buys one number for the item. The item row is the truth every run works from, so a second run of
   * the item at the same time (BullMQ hands an item whose lock lapsed under load to another worker
   * while the first run goes on) cannot buy a second number: a number is chosen only while the item
   * holds none (compare-and-set), a run that finds one recorded asks the carrier whether it owns
   * exactly that number before buying it, a number is let go only while the item still holds it, and
   * after any of these finds the item changed, the run reads it again and carries on from there.
   */
  private async provision(a: AccountRow, job: JobRow, first: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const npa = String(first.input.npa);
    const country = String(first.input.country ?? 'US');
    const g = await this.svc.groupFor(a, job.sellerId!);
    const acct = g.subaccountKey ?? undefined;
    const p = this.svc.providerFor(a);
    const reread = async () => (await repo.item(first.id))!;
    let item = first;
    let bought: string | null = null;
    for (let round = 0; round < MAX_ROUNDS && !bought; round++) {
      if (item.state === 'done' || item.state === 'failed') return; // another run answered
      let chosen = item.chosen;
      // A number recorded by an earlier or a concurrent run may be bought already: ask before buying.
      const check = chosen !== null;
      if (!chosen) {
        const found = await p.search({
          country,
          pattern: `1${npa}`,
          match: 'starts',
          features: ['VOICE'],
          size: 20,
        });
        const tried = new Set(item.tried);
        const candidates = found.numbers.map((n) => n.msisdn).filter((m) => !tried.has(m));
        if (!candidates.length) {
          if (await this.finish(job, item, 'no_inventory', { npa }, 'done', null)) return;
          item = await reread(); // another run chose a number meanwhile
          continue;
        }
        let moved = false;
        for (const m of candidates) {
          const r = await repo.choose(item.id, m);
          if (r === 'chosen') chosen = m;
          moved = r === 'moved';
          if (r !== 'taken') break;
        }
        if (moved) {
          item = await reread();
          continue;
        }
        if (!chosen) throw new RetryLater(`every number offered in ${npa} is being bought by another item`);
      }
      const ref = { country, msisdn: chosen };
      if (check && (await owns(p, acct, chosen))) {
        bought = chosen;
        break;
      }
      try {
        await p.buy(ref, acct);
        bought = chosen;
      } catch (e) {
        if (!isProviderError(e) || !['uncertain', 'unavailable'].includes(e.kind)) throw e;
        if (await owns(p, acct, chosen)) {
          bought = chosen; // a 420 (or no answer) that hid a success, or the other run's purchase
          break;
        }
        if (e.kind === 'uncertain') {
          if (await forSale(p, ref)) throw e; // still for sale: try it again later
          // Not ours and not for sale: someone else's, or our own write still on its way (a timed-out
          // purchase can land after the checks). Give it time first; an attempt that finds it still
          // not ours, after the back-off, moves on.
          if (!check) throw new RetryLater(`${chosen} is not for sale and not ours yet: looking again later`);
        }
        await repo.giveUpNumber(item.id, chosen); // someone else's: the next number (unless moved)
        item = await reread();
      }
    }
    if (!bought) throw new RetryLater(`gave up on ${MAX_ROUNDS} numbers in ${npa} this attempt`);
    const e164 = `+${bought}`;
    const voice = this.svc.voiceFor(a, g, e164);
    if (voice) await configureAt(p, { country, msisdn: bought }, voice, acct);
    // The item's answer and the event commit together (the event outbox); a run that finds the
    // item answered already (by another run, with this same number) writes and tells nothing.
    let answered = false;
    await repo.recordBought(
      { e164, country, accountId: a.id, sellerId: job.sellerId!, accountKey: acct ?? null, voice },
      item.id,
      async (tx, row) => {
        const result = { e164, did_id: row.didId, number_id: row.id };
        if (!(await repo.finishItem(tx, item.id, 'done', 'provisioned', result, bought))) return;
        await this.svc.events?.emit(
          'number.provisioned',
          job.sellerId,
          { e164, seller_id: job.sellerId, did_id: row.didId, provider_account_id: a.id, voice },
          tx,
        );
        answered = true;
      },
    );
    if (answered) this.outcomes.inc({ kind: 'provision', outcome: 'provisioned' });
  }

  /** The item's number, live and held by this account; else the item ends `not_ours` (null). */
  private async ourNumber(a: AccountRow, item: ItemRow) {
    const repo = this.svc.repo;
    const e164 = String(item.input.e164);
    const n = await repo.liveNumber(e164);
    const job = (await repo.job(item.jobId, null))!;
    if (!n || n.providerAccountId !== a.id) {
      await this.finish(job, item, 'not_ours', { e164 }, 'failed');
      return null;
    }
    return { e164, n, job };
  }

  private async configure(a: AccountRow, item: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const ours = await this.ourNumber(a, item);
    if (!ours) return;
    const { e164, n, job } = ours;
    const g = await repo.group(a.id, n.sellerId);
    const voice = (item.input.voice as VoiceRouting | undefined) ?? this.svc.voiceFor(a, g, e164);
    if (!voice) {
      await this.finish(job, item, 'no_routing', { e164 }, 'failed');
      return;
    }
    await configureAt(
      this.svc.providerFor(a),
      { country: n.country, msisdn: e164.slice(1) },
      voice,
      n.accountKey ?? undefined,
    );
    let answered = false;
    await repo.setVoice(n.id, voice, async (tx) => {
      if (!(await repo.finishItem(tx, item.id, 'done', 'configured', { e164, voice }))) return;
      answered = true;
      await this.svc.events?.emit(
        'number.configured',
        n.sellerId,
        { e164, seller_id: n.sellerId, voice },
        tx,
      );
    });
    if (answered) this.outcomes.inc({ kind: 'configure', outcome: 'configured' });
  }

  private async release(a: AccountRow, item: ItemRow): Promise<void> {
    const repo = this.svc.repo;
    const ours = await this.ourNumber(a, item);
    if (!ours) return;
    const { e164, n } = ours;
    const p = this.svc.providerFor(a);
    const acct = n.accountKey ?? undefined;
    try {
      await p.release({ country: n.country, msisdn: e164.slice(1) }, acct);
    } catch (e) {
      // Released by an earlier attempt (or by hand at the carrier): not ours any more is what we wanted.
      if (!isProviderError(e) || e.kind !== 'uncertain' || (await owns(p, acct, e164.slice(1)))) throw e;
    }
    let answered = false;
    await repo.recordReleased(n.id, async (tx) => {
      if (!(await repo.finishItem(tx, item.id, 'done', 'released', { e164 }))) return;
      answered = true;
      await this.svc.events?.emit('number.released', n.sellerId, { e164, seller_id: n.sellerId }, tx);
    });
    if (answered) this.outcomes.inc({ kind: 'release', outcome: 'released' });
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
