// Routing rows written straight into a test's database, without a daemon or the API: a seller, a
// campaign with its DIDs, and a client and link per call centre. The setup every test of calls across
// processes (kill -9, takeover, several instances) starts from, and which the tests of in-process
// daemons add per test; tests of the API's own checks go through the API instead (flow.ts).
import { campaigns, clients, dids, links, sellers } from '../../src/db/schema/routing.ts';
import { createDatabase, type Db } from '../../src/platform/db.ts';

export type CampaignFields = Omit<Partial<typeof campaigns.$inferInsert>, 'sellerId'>;
export type LinkFields = Omit<Partial<typeof links.$inferInsert>, 'campaignId' | 'clientId'>;
type DidFields = Omit<Partial<typeof dids.$inferInsert>, 'number' | 'sellerId' | 'campaignId'>;
type SellerFields = Omit<Partial<typeof sellers.$inferInsert>, 'name'>;
type ClientFields = Omit<Partial<typeof clients.$inferInsert>, 'name' | 'endpoint'>;

/**
 * A call centre of the campaign: a new client for `endpoint` (named `name`, else the endpoint, with
 * the fields of `client`) or one that exists.
 */
export type SeedClient =
  | string
  | { endpoint: string; name?: string; client?: ClientFields; link?: LinkFields }
  | { clientId: string; link?: LinkFields };

export interface CampaignSeed {
  /** A seller that exists; otherwise a new one is made, named `seller` ('s' when not given). */
  sellerId?: string;
  seller?: string;
  /** The campaign's fields; its name is 'c' when not given. */
  campaign?: CampaignFields;
  /** The campaign's DIDs, each with the fields of `did`. */
  dids?: string[];
  did?: DidFields;
  /** One link per entry, in order, each with the fields of `link` and then its own. */
  clients?: SeedClient[];
  link?: LinkFields;
}

export interface SeededCampaign {
  sellerId: string;
  campaignId: string;
  /** In the order of `dids`. */
  didIds: string[];
  /** In the order of `clients`. */
  links: Array<{ clientId: string; linkId: string }>;
}

/** Where rows go: a drizzle database, or a database URL (a connection of its own, closed after). */
export type SeedTarget = Db | string;

async function into<T>(target: SeedTarget, write: (db: Db) => Promise<T>): Promise<T> {
  if (typeof target !== 'string') return write(target);
  const { db, close } = createDatabase(target, { max: 1 });
  try {
    return await write(db);
  } finally {
    await close();
  }
}

/** A new seller (with the caps and fields of `fields`); answers its id. */
export function seedSeller(target: SeedTarget, name = 's', fields: SellerFields = {}): Promise<string> {
  return into(
    target,
    async (db) =>
      (
        await db
          .insert(sellers)
          .values({ ...fields, name })
          .returning()
      )[0]!.id,
  );
}

export function seedCampaign(target: SeedTarget, o: CampaignSeed): Promise<SeededCampaign> {
  return into(target, (db) => writeCampaign(db, o));
}

async function writeCampaign(db: Db, o: CampaignSeed): Promise<SeededCampaign> {
  const sellerId = o.sellerId ?? (await seedSeller(db, o.seller));
  const [c] = await db
    .insert(campaigns)
    .values({ name: 'c', ...o.campaign, sellerId })
    .returning();
  const campaignId = c!.id;
  const didIds: string[] = [];
  for (const number of o.dids ?? []) {
    const [d] = await db
      .insert(dids)
      .values({ ...o.did, number, sellerId, campaignId })
      .returning();
    didIds.push(d!.id);
  }
  const out: SeededCampaign['links'] = [];
  for (const entry of o.clients ?? []) {
    const e = typeof entry === 'string' ? { endpoint: entry } : entry;
    let clientId: string;
    if ('clientId' in e) clientId = e.clientId;
    else {
      const [cl] = await db
        .insert(clients)
        .values({ ...e.client, name: e.name ?? e.endpoint, endpoint: e.endpoint })
        .returning();
      clientId = cl!.id;
    }
    const [l] = await db
      .insert(links)
      .values({ ...o.link, ...e.link, campaignId, clientId })
      .returning();
    out.push({ clientId, linkId: l!.id });
  }
  return { sellerId, campaignId, didIds, links: out };
}
