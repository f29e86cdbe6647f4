// Every SQL statement of the provisioning domain but the webhooks' (webhooks/repository.ts).
// Why one class of about 600 lines: the service, the job workers and the CLI each hold one
// repository object, and a number's purchase, release and job item change several tables in one
// transaction (accounts, groups, numbers, jobs and their items); it is sectioned by resource below.
import { sellerArchived } from '../routing/repository/sellers.ts';
import { and, asc, count, desc, eq, inArray, isNull, notInArray, type SQL, sql } from 'drizzle-orm';
import { type Actor, audited } from '../platform/audit.ts';
import { countWhere, type Db, listPage } from '../platform/db.ts';
import { type ListSort, orderOf } from '../platform/db.ts';
import { pgError } from '../platform/pg-errors.ts';
import {
  type JobKind,
  providerAccounts,
  provisionedNumbers,
  provisioningGroups,
  provisioningJobItems,
  provisioningJobs,
  webhookSubscriptions,
} from '../db/schema/provisioning.ts';
import { dids } from '../db/schema/routing.ts';

export type AccountRow = typeof providerAccounts.$inferSelect;
export type GroupRow = typeof provisioningGroups.$inferSelect;
export type NumberRow = typeof provisionedNumbers.$inferSelect;
export type JobRow = typeof provisioningJobs.$inferSelect;
export type ItemRow = typeof provisioningJobItems.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const pgCode = (e: unknown) => pgError(e).code;

/** The orders a page of provisioned numbers can be read in (the number breaks ties). */
export const NUMBER_SORTS = {
  e164: provisionedNumbers.e164,
  bought: provisionedNumbers.boughtAt,
  released: provisionedNumbers.releasedAt,
  status: provisionedNumbers.status,
} as const;
export type NumberSort = keyof typeof NUMBER_SORTS;
/** The orders a page of provider accounts can be read in (the id breaks ties). */
export const ACCOUNT_SORTS = {
  name: providerAccounts.name,
  provider: providerAccounts.provider,
  active: providerAccounts.active,
  created_at: providerAccounts.createdAt,
};

export class ProvisioningRepository {
  constructor(readonly db: Db) {}

  // ------------------------------------------------------------ accounts

  // Account changes run audited: the trail names who made them (the sealed credentials are left out
  // of its rows by the trigger).
  async insertAccount(v: typeof providerAccounts.$inferInsert, actor: Actor | null): Promise<AccountRow> {
    const [r] = await audited(this.db, (tx) => tx.insert(providerAccounts).values(v).returning(), actor);
    return r!;
  }
  async accounts(): Promise<AccountRow[]> {
    return this.db.select().from(providerAccounts).orderBy(asc(providerAccounts.name));
  }
  /** A page of accounts, by name unless an allow-listed order is asked. */
  listAccounts(q: {
    limit: number;
    offset: number;
    order?: ListSort | undefined;
    provider?: AccountRow['provider'] | undefined;
    active?: boolean | undefined;
  }): Promise<{ items: AccountRow[]; total: number }> {
    const a = providerAccounts;
    return listPage(this.db, a, {
      where: and(
        q.provider ? eq(a.provider, q.provider) : undefined,
        q.active === undefined ? undefined : eq(a.active, q.active),
      ),
      orderBy: orderOf(ACCOUNT_SORTS, a.id, q.order, [asc(a.name)]),
      limit: q.limit,
      offset: q.offset,
    });
  }
  async account(id: string, q: Db | Tx = this.db): Promise<AccountRow | null> {
    const [r] = await q.select().from(providerAccounts).where(eq(providerAccounts.id, id));
    return r ?? null;
  }
  async updateAccount(
    id: string,
    v: Partial<typeof providerAccounts.$inferInsert>,
    actor: Actor | null,
  ): Promise<AccountRow | null> {
    const [r] = await audited(
      this.db,
      (tx) => tx.update(providerAccounts).set(v).where(eq(providerAccounts.id, id)).returning(),
      actor,
    );
    return r ?? null;
  }
  async deleteAccount(id: string, actor: Actor | null): Promise<boolean> {
    const r = await audited(
      this.db,
      (tx) =>
        tx.delete(providerAccounts).where(eq(providerAccounts.id, id)).returning({ id: providerAccounts.id }),
      actor,
    );
    return r.length > 0;
  }
  /** Whether a seller exists, and if so whether it is archived (null: no such seller). */
  sellerArchived(id: string): Promise<boolean | null> {
    return sellerArchived(this.db, id);
  }

  // ------------------------------------------------------------ groups

  async group(accountId: string, sellerId: string): Promise<GroupRow | null> {
    const [r] = await this.db
      .select()
      .from(provisioningGroups)
      .where(
        and(eq(provisioningGroups.providerAccountId, accountId), eq(provisioningGroups.sellerId, sellerId)),
      );
    return r ?? null;
  }
  async groupBySubaccount(accountId: string, key: string): Promise<GroupRow | null> {
    const [r] = await this.db
      .select()
      .from(provisioningGroups)
      .where(
        and(eq(provisioningGroups.providerAccountId, accountId), eq(provisioningGroups.subaccountKey, key)),
      );
    return r ?? null;
  }
  /** The group row, created if missing (concurrent callers get the same row). */
  async ensureGroup(accountId: string, sellerId: string): Promise<GroupRow> {
    await this.db
      .insert(provisioningGroups)
      .values({ providerAccountId: accountId, sellerId })
      .onConflictDoNothing({ target: [provisioningGroups.providerAccountId, provisioningGroups.sellerId] });
    return (await this.group(accountId, sellerId))!;
  }
  /** Writes the subaccount's intended name and sealed secret once; answers the row as it stands. */
  async intendSubaccount(id: string, name: string, sealedSecret: string): Promise<GroupRow> {
    await this.db
      .update(provisioningGroups)
      .set({ subaccountName: name, subaccountSecret: sealedSecret })
      .where(and(eq(provisioningGroups.id, id), isNull(provisioningGroups.subaccountName)));
    const [r] = await this.db.select().from(provisioningGroups).where(eq(provisioningGroups.id, id));
    return r!;
  }
  async updateGroup(
    id: string,
    v: Partial<typeof provisioningGroups.$inferInsert>,
    q: Db | Tx = this.db,
  ): Promise<GroupRow> {
    const [r] = await q.update(provisioningGroups).set(v).where(eq(provisioningGroups.id, id)).returning();
    return r!;
  }
  /**
   * Runs `fn` holding a PostgreSQL advisory lock on one group (every instance queues on it), so a
   * subaccount is made once even when many items of one seller start together.
   */
  async withGroupLock<T>(accountId: string, sellerId: string, fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`group:${accountId}:${sellerId}`}))`);
      return fn();
    });
  }
  async groupsOf(accountId: string): Promise<GroupRow[]> {
    return this.db
      .select()
      .from(provisioningGroups)
      .where(eq(provisioningGroups.providerAccountId, accountId));
  }
  async groupsWithSecrets(): Promise<GroupRow[]> {
    return this.db
      .select()
      .from(provisioningGroups)
      .where(sql`${provisioningGroups.subaccountSecret} is not null`);
  }

  // ------------------------------------------------------------ numbers

  async liveNumber(e164: string): Promise<NumberRow | null> {
    const [r] = await this.db
      .select()
      .from(provisionedNumbers)
      .where(and(eq(provisionedNumbers.e164, e164), eq(provisionedNumbers.status, 'owned')));
    return r ?? null;
  }
  async liveNumbersOf(accountId: string): Promise<NumberRow[]> {
    return this.db
      .select()
      .from(provisionedNumbers)
      .where(
        and(eq(provisionedNumbers.providerAccountId, accountId), eq(provisionedNumbers.status, 'owned')),
      );
  }
  async listNumbers(
    f: { sellerId?: string | null | undefined; status?: 'owned' | 'released' | undefined },
    page: { limit: number; offset: number; sort?: NumberSort; dir?: 'asc' | 'desc' },
  ): Promise<{ items: NumberRow[]; total: number }> {
    const w: SQL[] = [];
    if (f.sellerId) w.push(eq(provisionedNumbers.sellerId, f.sellerId));
    if (f.status) w.push(eq(provisionedNumbers.status, f.status));
    const where = w.length ? and(...w) : undefined;
    const items = await this.db
      .select()
      .from(provisionedNumbers)
      .where(where)
      .orderBy(
        ...(page.sort
          ? [(page.dir === 'asc' ? asc : desc)(NUMBER_SORTS[page.sort]), asc(provisionedNumbers.e164)]
          : [desc(provisionedNumbers.boughtAt), asc(provisionedNumbers.e164)]),
      )
      .limit(page.limit)
      .offset(page.offset);
    return { items, total: await countWhere(this.db, provisionedNumbers, where) };
  }

  /**
   * A bought number becomes ours: the holding row and the seller's DID (an existing DID of the same
   * number and seller is adopted), in one transaction with the item's completion.
   */
  async recordBought(
    v: {
      e164: string;
      country: string;
      accountId: string;
      sellerId: string;
      accountKey: string | null;
      voice: NumberRow['voice'];
    },
    itemId: string | null,
    finish: (tx: Tx, n: NumberRow) => Promise<void>,
  ): Promise<NumberRow> {
    return this.db.transaction(async (tx) => {
      // Two runs of one item can record its number at once: one at a time per number.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`number:${v.e164}`}))`);
      const [existing] = await tx
        .select()
        .from(provisionedNumbers)
        .where(and(eq(provisionedNumbers.e164, v.e164), eq(provisionedNumbers.status, 'owned')));
      let row = existing;
      if (!row) {
        await tx
          .insert(dids)
          .values({ number: v.e164, sellerId: v.sellerId })
          .onConflictDoNothing({ target: dids.number });
        const [d] = await tx.select().from(dids).where(eq(dids.number, v.e164));
        const [n] = await tx
          .insert(provisionedNumbers)
          .values({
            e164: v.e164,
            country: v.country,
            providerAccountId: v.accountId,
            sellerId: v.sellerId,
            accountKey: v.accountKey,
            didId: d && d.sellerId === v.sellerId ? d.id : null,
            voice: v.voice,
            jobItemId: itemId,
          })
          .returning();
        row = n!;
      }
      await finish(tx, row);
      return row;
    });
  }

  /** Released: the DID leaves routing (its row goes), the holding stays as history. */
  async recordReleased(id: string, finish: (tx: Tx) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [n] = await tx
        .update(provisionedNumbers)
        .set({ status: 'released', releasedAt: new Date(), didId: null })
        .where(and(eq(provisionedNumbers.id, id), eq(provisionedNumbers.status, 'owned')))
        .returning();
      if (n) await tx.delete(dids).where(and(eq(dids.number, n.e164), eq(dids.sellerId, n.sellerId)));
      await finish(tx);
    });
  }

  async setVoice(id: string, voice: NumberRow['voice'], finish: (tx: Tx) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.update(provisionedNumbers).set({ voice }).where(eq(provisionedNumbers.id, id));
      await finish(tx);
    });
  }

  // ------------------------------------------------------------ jobs

  async jobByIdempotency(keyId: string, idem: string): Promise<JobRow | null> {
    const [r] = await this.db
      .select()
      .from(provisioningJobs)
      .where(and(eq(provisioningJobs.createdByKey, keyId), eq(provisioningJobs.idempotencyKey, idem)));
    return r ?? null;
  }
  /** The job and its items in one transaction; null when the Idempotency-Key was taken meanwhile. */
  async createJob(
    j: {
      kind: JobKind;
      accountId: string;
      sellerId: string | null;
      keyId: string | null;
      idem: string | null;
      hash: string | null;
    },
    inputs: Record<string, unknown>[],
  ): Promise<JobRow | null> {
    try {
      return await this.db.transaction(async (tx) => {
        const [job] = await tx
          .insert(provisioningJobs)
          .values({
            kind: j.kind,
            providerAccountId: j.accountId,
            sellerId: j.sellerId,
            createdByKey: j.keyId,
            idempotencyKey: j.idem,
            requestHash: j.hash,
            total: inputs.length,
          })
          .returning();
        for (let i = 0; i < inputs.length; i += 1000)
          await tx
            .insert(provisioningJobItems)
            .values(inputs.slice(i, i + 1000).map((input, k) => ({ jobId: job!.id, idx: i + k, input })));
        return job!;
      });
    } catch (e) {
      if (pgCode(e) === '23505' && j.idem) return null;
      throw e;
    }
  }
  async job(id: string, sellerScope: string | null, q: Db | Tx = this.db): Promise<JobRow | null> {
    const w: SQL[] = [eq(provisioningJobs.id, id)];
    if (sellerScope) w.push(eq(provisioningJobs.sellerId, sellerScope));
    const [r] = await q
      .select()
      .from(provisioningJobs)
      .where(and(...w));
    return r ?? null;
  }
  /** The newest jobs first, within one seller when `sellerScope` is given. */
  async listJobs(
    sellerScope: string | null,
    page: { limit: number; offset: number },
  ): Promise<{ items: JobRow[]; total: number }> {
    const where = sellerScope ? eq(provisioningJobs.sellerId, sellerScope) : undefined;
    const items = await this.db
      .select()
      .from(provisioningJobs)
      .where(where)
      .orderBy(desc(provisioningJobs.createdAt), asc(provisioningJobs.id))
      .limit(page.limit)
      .offset(page.offset);
    return { items, total: await countWhere(this.db, provisioningJobs, where) };
  }
  async items(jobId: string): Promise<ItemRow[]> {
    return this.db
      .select()
      .from(provisioningJobItems)
      .where(eq(provisioningJobItems.jobId, jobId))
      .orderBy(asc(provisioningJobItems.idx));
  }
  async itemCounts(jobId: string, q: Db | Tx = this.db): Promise<Record<string, number>> {
    const rows = await q
      .select({ outcome: provisioningJobItems.outcome, state: provisioningJobItems.state, n: count() })
      .from(provisioningJobItems)
      .where(eq(provisioningJobItems.jobId, jobId))
      .groupBy(provisioningJobItems.outcome, provisioningJobItems.state);
    const out: Record<string, number> = {};
    for (const r of rows) out[r.outcome ?? r.state] = (out[r.outcome ?? r.state] ?? 0) + r.n;
    return out;
  }
  async item(id: string): Promise<ItemRow | null> {
    const [r] = await this.db.select().from(provisioningJobItems).where(eq(provisioningJobItems.id, id));
    return r ?? null;
  }
  async startItem(id: string): Promise<ItemRow | null> {
    const [r] = await this.db
      .update(provisioningJobItems)
      .set({
        attempts: sql`${provisioningJobItems.attempts} + 1`,
        startedAt: sql`coalesce(${provisioningJobItems.startedAt}, now())`,
      })
      .where(eq(provisioningJobItems.id, id))
      .returning();
    return r ?? null;
  }
  /**
   * Records the number an item is about to buy, only while the item has none: `chosen`; `taken` when
   * another item holds that number; `moved` when the item changed meanwhile (another run of it chose a
   * number or answered), and the caller reads the item again instead of choosing over it.
   */
  async choose(id: string, msisdn: string): Promise<'chosen' | 'taken' | 'moved'> {
    try {
      const r = await this.db
        .update(provisioningJobItems)
        .set({ chosen: msisdn, state: 'chosen' })
        .where(
          and(
            eq(provisioningJobItems.id, id),
            eq(provisioningJobItems.state, 'queued'),
            isNull(provisioningJobItems.chosen),
          ),
        )
        .returning({ id: provisioningJobItems.id });
      return r.length ? 'chosen' : 'moved';
    } catch (e) {
      if (pgCode(e) === '23505') return 'taken';
      throw e;
    }
  }
  /** The item lets go of `msisdn` (someone else's) — only if that is still the number it holds. */
  async giveUpNumber(id: string, msisdn: string): Promise<boolean> {
    const r = await this.db
      .update(provisioningJobItems)
      .set({
        chosen: null,
        state: 'queued',
        tried: sql`array_append(${provisioningJobItems.tried}, ${msisdn})`,
      })
      .where(
        and(
          eq(provisioningJobItems.id, id),
          eq(provisioningJobItems.state, 'chosen'),
          eq(provisioningJobItems.chosen, msisdn),
        ),
      )
      .returning({ id: provisioningJobItems.id });
    return r.length > 0;
  }
  /**
   * The item's final answer, inside the caller's transaction when one is given; false (nothing
   * written) when the item has its answer already, or when `holding` is given and the item does not
   * hold that number (null: holds none) — another run of the item got there first. A number bought
   * for the item is its answer even over a failure recorded meanwhile (a run that gave up while
   * another one's purchase went through): the report then says what the carrier holds.
   */
  async finishItem(
    q: Db | Tx,
    id: string,
    state: 'done' | 'failed',
    outcome: string,
    result: Record<string, unknown>,
    holding?: string | null,
  ): Promise<boolean> {
    const open = inArray(provisioningJobItems.state, ['queued', 'chosen']);
    const r = await q
      .update(provisioningJobItems)
      .set({ state, outcome, result, finishedAt: new Date() })
      .where(
        and(
          eq(provisioningJobItems.id, id),
          holding === undefined
            ? open
            : holding === null
              ? and(open, isNull(provisioningJobItems.chosen))
              : and(
                  eq(provisioningJobItems.chosen, holding),
                  outcome === 'provisioned'
                    ? inArray(provisioningJobItems.state, ['queued', 'chosen', 'failed'])
                    : open,
                ),
        ),
      )
      .returning({ id: provisioningJobItems.id });
    return r.length > 0;
  }
  /** Marks the job completed once every item has its answer; its finish time for the one caller that did it. */
  async completeJobIfDone(jobId: string, q: Db | Tx = this.db): Promise<Date | null> {
    const r = await q
      .update(provisioningJobs)
      .set({ status: 'completed', finishedAt: new Date() })
      .where(
        and(
          eq(provisioningJobs.id, jobId),
          eq(provisioningJobs.status, 'queued'),
          sql`not exists (select 1 from ${provisioningJobItems} where ${provisioningJobItems.jobId} = ${jobId} and ${provisioningJobItems.state} in ('queued', 'chosen'))`,
        ),
      )
      .returning({ finishedAt: provisioningJobs.finishedAt });
    return r[0]?.finishedAt ?? null;
  }
  async unfinishedJobs(): Promise<JobRow[]> {
    return this.db.select().from(provisioningJobs).where(eq(provisioningJobs.status, 'queued'));
  }
  async openItemIds(jobId: string): Promise<string[]> {
    const r = await this.db
      .select({ id: provisioningJobItems.id })
      .from(provisioningJobItems)
      .where(
        and(
          eq(provisioningJobItems.jobId, jobId),
          notInArray(provisioningJobItems.state, ['done', 'failed']),
        ),
      );
    return r.map((x) => x.id);
  }
  async liveNumbersIn(e164s: string[]): Promise<NumberRow[]> {
    if (!e164s.length) return [];
    return this.db
      .select()
      .from(provisionedNumbers)
      .where(and(inArray(provisionedNumbers.e164, e164s), eq(provisionedNumbers.status, 'owned')));
  }

  /**
   * The provision-job items of an account that recorded one of these numbers (digits, no plus) as
   * theirs to buy or gave it up: the claims reconcile weighs (drift.ts), newest job first.
   */
  async claimsOf(
    accountId: string,
    msisdns: string[],
  ): Promise<
    Array<{ msisdn: string; itemId: string; jobId: string; sellerId: string | null; outcome: string | null }>
  > {
    if (!msisdns.length) return [];
    const rows = await this.db.execute<{
      msisdn: string;
      item_id: string;
      job_id: string;
      seller_id: string | null;
      outcome: string | null;
    }>(sql`
      select m.msisdn, i.id as item_id, j.id as job_id, j.seller_id, i.outcome
        from unnest(array[${sql.join(
          msisdns.map((m) => sql`${m}`),
          sql`, `,
        )}]::text[]) as m(msisdn)
        join ${provisioningJobItems} i on i.chosen = m.msisdn or m.msisdn = any(i.tried)
        join ${provisioningJobs} j on j.id = i.job_id
       where j.provider_account_id = ${accountId} and j.kind = 'provision'
       order by j.created_at desc, i.idx`);
    return rows.map((r) => ({
      msisdn: r.msisdn,
      itemId: r.item_id,
      jobId: r.job_id,
      sellerId: r.seller_id,
      outcome: r.outcome,
    }));
  }
  /** A number found bought for an item after it ended without one becomes its answer (once). */
  async answerItemWith(
    tx: Tx,
    id: string,
    msisdn: string,
    result: Record<string, unknown>,
  ): Promise<boolean> {
    const r = await tx
      .update(provisioningJobItems)
      .set({ state: 'done', outcome: 'provisioned', chosen: msisdn, result, finishedAt: new Date() })
      .where(
        and(
          eq(provisioningJobItems.id, id),
          sql`${provisioningJobItems.outcome} is distinct from 'provisioned'`,
          inArray(provisioningJobItems.state, ['done', 'failed']),
        ),
      )
      .returning({ id: provisioningJobItems.id });
    return r.length > 0;
  }

  /** Items the workers gave up on without an answer (attempts exhausted while PostgreSQL was away). */
  async failOpenItems(jobId: string, reason: string): Promise<number> {
    const r = await this.db
      .update(provisioningJobItems)
      .set({
        state: 'failed',
        outcome: 'failed',
        result: { error: reason, reason: 'attempts_exhausted' },
        finishedAt: new Date(),
      })
      .where(
        and(eq(provisioningJobItems.jobId, jobId), inArray(provisioningJobItems.state, ['queued', 'chosen'])),
      )
      .returning({ id: provisioningJobItems.id });
    return r.length;
  }

  /**
   * Every sealed value with the context it was sealed for, re-sealed by `reseal` in one transaction
   * (the master key rotation). Answers how many values of each kind were rewritten.
   */
  async resealAll(reseal: (sealed: string, context: string) => string): Promise<Record<string, number>> {
    return this.db.transaction(async (tx) => {
      const out = { provider_accounts: 0, subaccounts: 0, webhooks: 0 };
      for (const a of await tx
        .select({ id: providerAccounts.id, v: providerAccounts.credentials })
        .from(providerAccounts)
        .for('update')) {
        await tx
          .update(providerAccounts)
          .set({ credentials: reseal(a.v, `provider_account:${a.id}:credentials`) })
          .where(eq(providerAccounts.id, a.id));
        out.provider_accounts++;
      }
      for (const g of await tx
        .select({ id: provisioningGroups.id, v: provisioningGroups.subaccountSecret })
        .from(provisioningGroups)
        .where(sql`${provisioningGroups.subaccountSecret} is not null`)
        .for('update')) {
        await tx
          .update(provisioningGroups)
          .set({ subaccountSecret: reseal(g.v!, `provisioning_group:${g.id}:subaccount_secret`) })
          .where(eq(provisioningGroups.id, g.id));
        out.subaccounts++;
      }
      for (const w of await tx
        .select({ id: webhookSubscriptions.id, v: webhookSubscriptions.secret })
        .from(webhookSubscriptions)
        .for('update')) {
        await tx
          .update(webhookSubscriptions)
          .set({ secret: reseal(w.v, `webhook_subscription:${w.id}:secret`) })
          .where(eq(webhookSubscriptions.id, w.id));
        out.webhooks++;
      }
      return out;
    });
  }
}
