// The demo's DIDs, bought through DID provisioning from the fake carrier the demo starts: the same
// path as an operator's (a provider account, a provisioning job run by the workers, each number a
// carrier purchase that becomes the seller's DID). Numbers bought on an earlier run are kept.
import { and, eq, inArray } from 'drizzle-orm';
import { provisionedNumbers } from '../db/schema/provisioning.ts';
import { dids } from '../db/schema/routing.ts';
import type { Db } from '../platform/db.ts';
import type { ProvisioningModule } from '../provisioning/index.ts';
import type { FakeCarrier } from '../provisioning/providers/fake/server.ts';

export const DEMO_CARRIER = { name: 'Demo Carrier', apiKey: 'demokey1', apiSecret: 'Demo-Secret-1' };

/** Makes sure the seller holds `count` numbers of `npa` from the demo carrier; attaches them to the campaign. */
export async function demoNumbers(
  db: Db,
  prov: ProvisioningModule,
  carrier: FakeCarrier,
  o: { sellerId: string; campaignId: string; npa: string; count: number },
): Promise<{ numbers: string[]; bought: number; jobId: string | null }> {
  const svc = prov.service;
  let account = (await svc.repo.accounts()).find((a) => a.name === DEMO_CARRIER.name);
  if (!account)
    account = await svc.createAccount(
      {
        name: DEMO_CARRIER.name,
        provider: 'vonage',
        rest_url: carrier.url,
        api_url: carrier.url,
        api_key: DEMO_CARRIER.apiKey,
        api_secret: DEMO_CARRIER.apiSecret,
        rate_per_s: 20,
        // Every number on the primary account: the fake carrier starts empty on each run and would not
        // know a subaccount an earlier run made.
        use_subaccounts: false,
      },
      null,
    );
  // The fake listens on a new port each run.
  else
    account = (await svc.repo.updateAccount(
      account.id,
      { restUrl: carrier.url, apiUrl: carrier.url },
      null,
    ))!;
  const held = await db
    .select({ e164: provisionedNumbers.e164 })
    .from(provisionedNumbers)
    .where(
      and(
        eq(provisionedNumbers.providerAccountId, account.id),
        eq(provisionedNumbers.sellerId, o.sellerId),
        eq(provisionedNumbers.status, 'owned'),
      ),
    );
  const missing = o.count - held.length;
  let jobId: string | null = null;
  let bought = 0;
  if (missing > 0) {
    const inputs = Array.from({ length: missing }, () => ({ npa: o.npa, country: 'US' }));
    const { job } = await svc.createJob(
      { kind: 'provision', accountId: account.id, sellerId: o.sellerId, keyId: null, idem: null },
      { demo: true, npa: o.npa, count: missing },
      inputs,
    );
    jobId = job.id;
    const done = await svc.waitJob(job.id, 60_000);
    if (done.status !== 'completed')
      throw new Error(`the demo's number purchase (job ${job.id}) did not finish`);
    for (const i of await svc.repo.items(job.id))
      if (i.outcome === 'provisioned') {
        held.push({ e164: String(i.result?.e164) });
        bought++;
      }
  }
  const numbers = held.map((h) => h.e164).sort();
  if (numbers.length)
    await db
      .update(dids)
      .set({ campaignId: o.campaignId })
      .where(and(inArray(dids.number, numbers), eq(dids.sellerId, o.sellerId)));
  return { numbers, bought, jobId };
}
