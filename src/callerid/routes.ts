// HTTP API of caller-ID rotation: the dialers' hot path GET /next-cid, pools (/v1/cid-pools),
// numbers (/v1/caller-ids), live stats and the CSV import.
import type { Readable } from 'node:stream';
import { and, asc, count, eq, inArray, sql as dsql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mapDbError, page, pageQuery, STAFF } from '../api/crud.ts';
import { AppError, notFound } from '../api/errors.ts';
import type { Db } from '../db/client.ts';
import { type LogLevel, stricterLevel } from '../logger.ts';
import { callerIds, cidPoolMembers, cidPools } from '../db/schema/callerid.ts';
import { factsOf, normaliseNumber } from './decide.ts';
import { CsvHeaderError, importCallerIds, POOL_ID } from './import.ts';
import type { CallerIdService } from './service.ts';
import type { NumberHash } from './store.ts';

const DIALER = ['admin', 'staff', 'dialer'] as const;
const poolId = z.string().regex(POOL_ID, '1-64 letters, digits, _ . -');
const e164 = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const n = normaliseNumber(s);
    if (!n) ctx.addIssue({ code: 'custom', message: 'not a valid phone number' });
    return n ?? s;
  });
const limitField = z.number().int().min(0).max(1_000_000_000).nullable();

const nextQuery = z.object({
  campaign: poolId,
  to: z.string().max(32).optional(),
  agent: z
    .string()
    .regex(/^[A-Za-z0-9_.@:-]{1,64}$/, '1-64 letters, digits, _ . @ : -')
    .optional(),
  format: z.enum(['json', 'text']).default('json'),
  key: z.string().optional(),
});

const poolBody = z
  .object({
    id: poolId,
    name: z.string().trim().max(200).nullable().optional(),
    fallback_number: e164.nullable().optional(),
    health_window: z.number().int().min(1).max(1000).optional(),
    health_min_answer_rate: z.number().min(0).max(1).optional(),
    health_rest_s: z.number().int().min(1).max(2_592_000).optional(),
  })
  .strict();
const poolOut = z.object({
  id: z.string(),
  name: z.string().nullable(),
  fallback_number: z.string().nullable(),
  health_window: z.number(),
  health_min_answer_rate: z.number(),
  health_rest_s: z.number(),
  numbers: z.number(),
  created_at: z.string(),
});
type PoolRow = typeof cidPools.$inferSelect;
const toPoolOut = (r: PoolRow, numbers: number) => ({
  id: r.id,
  name: r.name,
  fallback_number: r.fallbackNumber,
  health_window: r.healthWindow,
  health_min_answer_rate: r.healthMinAnswerRate,
  health_rest_s: r.healthRestS,
  numbers,
  created_at: r.createdAt.toISOString(),
});
const poolValues = (b: Partial<z.infer<typeof poolBody>>) => ({
  ...(b.id !== undefined ? { id: b.id } : {}),
  ...(b.name !== undefined ? { name: b.name } : {}),
  ...(b.fallback_number !== undefined ? { fallbackNumber: b.fallback_number } : {}),
  ...(b.health_window !== undefined ? { healthWindow: b.health_window } : {}),
  ...(b.health_min_answer_rate !== undefined ? { healthMinAnswerRate: b.health_min_answer_rate } : {}),
  ...(b.health_rest_s !== undefined ? { healthRestS: b.health_rest_s } : {}),
});

const cidBody = z
  .object({
    number: e164,
    carrier: z.string().trim().max(100).nullable().optional(),
    area_code: z
      .string()
      .regex(/^\d{3}$/, '3 digits')
      .nullable()
      .optional(),
    state: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'a 2-letter code')
      .transform((s) => s.toUpperCase())
      .nullable()
      .optional(),
    hourly_limit: limitField.optional(),
    daily_limit: limitField.optional(),
    active: z.boolean().optional(),
    campaigns: z
      .array(poolId)
      .max(100)
      .refine((a) => new Set(a).size === a.length, 'a campaign may appear only once')
      .optional(),
  })
  .strict();
const cidPatch = cidBody.omit({ number: true }).partial();
const cidOut = z.object({
  number: z.string(),
  carrier: z.string().nullable(),
  area_code: z.string().nullable(),
  state: z.string().nullable(),
  hourly_limit: z.number().nullable(),
  daily_limit: z.number().nullable(),
  active: z.boolean(),
  campaigns: z.array(z.string()),
  usage: z.object({
    uses_hour: z.number(),
    uses_day: z.number(),
    total: z.number(),
    last_used_at: z.string().nullable(),
    answered: z.number(),
    unanswered: z.number(),
    rested_until: z.string().nullable(),
  }),
  created_at: z.string(),
});
type CidRow = typeof callerIds.$inferSelect;
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toCidOut = (r: CidRow, campaigns: string[]) => ({
  number: r.number,
  carrier: r.carrier,
  area_code: r.npa,
  state: r.state,
  hourly_limit: r.hourlyLimit,
  daily_limit: r.dailyLimit,
  active: r.active,
  campaigns: campaigns.sort(),
  usage: {
    uses_hour: r.usesHour,
    uses_day: r.usesDay,
    total: r.totalUses,
    last_used_at: iso(r.lastUsedAt),
    answered: r.answered,
    unanswered: r.unanswered,
    rested_until: iso(r.restedUntil),
  },
  created_at: r.createdAt.toISOString(),
});
const numberParams = z.object({ number: e164 });

async function poolsOf(db: Db, numbers: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  if (!numbers.length) return m;
  const rows = await db.select().from(cidPoolMembers).where(inArray(cidPoolMembers.number, numbers));
  for (const r of rows) m.set(r.number, [...(m.get(r.number) ?? []), r.poolId]);
  return m;
}

async function requirePools(db: Db, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const found = await db.select({ id: cidPools.id }).from(cidPools).where(inArray(cidPools.id, ids));
  const missing = ids.filter((i) => !found.some((f) => f.id === i));
  if (missing.length) throw new AppError('NOT_FOUND', `campaign(s) not found: ${missing.join(', ')}`);
}

const statNumber = z.object({
  number: z.string(),
  campaigns: z.array(z.string()),
  active: z.boolean(),
  uses_hour: z.number(),
  hourly_limit: z.number().nullable(),
  uses_day: z.number(),
  daily_limit: z.number().nullable(),
  total: z.number(),
  last_used_at: z.string().nullable(),
  reserved_until: z.string().nullable(),
  rested_until: z.string().nullable(),
  exhausted: z.enum(['hourly', 'daily']).nullable(),
  answered: z.number(),
  unanswered: z.number(),
  health: z.object({ calls: z.number(), answer_rate: z.number().nullable() }),
});
const statCampaign = z.object({
  campaign: z.string(),
  numbers: z.number(),
  available: z.number(),
  cooling: z.number(),
  reserved: z.number(),
  exhausted_hourly: z.number(),
  exhausted_daily: z.number(),
  resting: z.number(),
  uses_hour: z.number(),
  uses_day: z.number(),
});

/** Live view of a number from its Redis hash (pure). */
export function numberStat(
  number: string,
  h: NumberHash | undefined,
  now: number,
  b: { hour: string; day: string },
) {
  const n = (k: string) => Number(h?.[k] ?? 0);
  const lim = (k: string) => (h?.[k] !== undefined && Number(h[k]) >= 0 ? Number(h[k]) : null);
  const usesHour = h?.hb === b.hour ? n('hc') : 0;
  const usesDay = h?.db === b.day ? n('dc') : 0;
  const hl = lim('hl');
  const dl = lim('dl');
  const hw = h?.hw ?? '';
  const ms = (k: string) => (n(k) > now ? new Date(n(k)).toISOString() : null);
  return {
    number,
    campaigns: (h?.pools ?? '').split(',').filter(Boolean),
    active: h?.a === '1',
    uses_hour: usesHour,
    hourly_limit: hl,
    uses_day: usesDay,
    daily_limit: dl,
    total: n('tot'),
    last_used_at: n('last') ? new Date(n('last')).toISOString() : null,
    reserved_until: ms('resv'),
    rested_until: ms('rest'),
    exhausted:
      dl !== null && usesDay >= dl
        ? ('daily' as const)
        : hl !== null && usesHour >= hl
          ? ('hourly' as const)
          : null,
    answered: n('ans'),
    unanswered: n('unans'),
    health: {
      calls: hw.length,
      answer_rate: hw.length ? [...hw].filter((c) => c === '1').length / hw.length : null,
    },
  };
}

export function callerIdRoutes(service: CallerIdService) {
  return async function routes(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const { db, sql } = app.deps.database;
    const staff = { auth: { roles: STAFF } };
    // The daemon's logger decides what reaches the logs at all; the hot path may log less.
    const hotLogLevel = stricterLevel(app.log.level as LogLevel, app.deps.config.CID_REQUEST_LOG_LEVEL);

    // ---- hot path -------------------------------------------------------------------------
    app.get(
      '/next-cid',
      {
        logLevel: hotLogLevel,
        config: { auth: { roles: DIALER, queryKey: true } },
        schema: { tags: ['caller-ids'], querystring: nextQuery },
      },
      async (req, reply) => {
        const q = req.query;
        const agent = q.agent ?? null; // no agent named: no per-agent limit (a dialer shares one key)
        const r = await service.next({
          pool: q.campaign,
          agent,
          ...(q.to !== undefined ? { to: q.to } : {}),
        });
        if (r.kind === 'unknown_pool') throw notFound('campaign', q.campaign);
        if (r.kind === 'rate_limited')
          throw new AppError('RATE_LIMITED', `agent ${agent} asks for caller IDs too fast`, undefined, {
            'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))),
          });
        if (r.kind === 'exhausted')
          throw new AppError(
            'POOL_EXHAUSTED',
            `every caller ID of campaign ${q.campaign} is reserved, resting or at its limit`,
            { next_available_at: r.nextAt ? new Date(r.nextAt).toISOString() : null },
            r.nextAt
              ? { 'retry-after': String(Math.max(1, Math.ceil((r.nextAt - service.now()) / 1000))) }
              : undefined,
          );
        if (q.format === 'text') return reply.type('text/plain; charset=utf-8').send(r.number);
        return {
          caller_id: r.number,
          expires_at: r.kind === 'picked' ? new Date(r.expiresAt).toISOString() : null,
          campaign: q.campaign,
          agent: q.agent ?? null,
          ...(r.kind === 'picked' ? { match: r.tier } : { fallback: true }),
        };
      },
    );

    // ---- pools ----------------------------------------------------------------------------
    const memberCount = async (ids: string[]) => {
      const m = new Map<string, number>();
      if (!ids.length) return m;
      const rows = await db
        .select({ id: cidPoolMembers.poolId, n: count() })
        .from(cidPoolMembers)
        .where(inArray(cidPoolMembers.poolId, ids))
        .groupBy(cidPoolMembers.poolId);
      for (const r of rows) m.set(r.id, r.n);
      return m;
    };
    const poolParams = z.object({ id: poolId });
    const ptags = ['caller-ids'];

    app.get(
      '/v1/cid-pools',
      { config: staff, schema: { tags: ptags, querystring: pageQuery, response: { 200: page(poolOut) } } },
      async (req) => {
        const { limit, offset } = req.query;
        const rows = await db.select().from(cidPools).orderBy(asc(cidPools.id)).limit(limit).offset(offset);
        const [t] = await db.select({ n: count() }).from(cidPools);
        const counts = await memberCount(rows.map((r) => r.id));
        return { items: rows.map((r) => toPoolOut(r, counts.get(r.id) ?? 0)), limit, offset, total: t!.n };
      },
    );
    app.get(
      '/v1/cid-pools/:id',
      { config: staff, schema: { tags: ptags, params: poolParams, response: { 200: poolOut } } },
      async (req) => {
        const [r] = await db.select().from(cidPools).where(eq(cidPools.id, req.params.id));
        if (!r) throw notFound('campaign', req.params.id);
        return toPoolOut(r, (await memberCount([r.id])).get(r.id) ?? 0);
      },
    );
    app.post(
      '/v1/cid-pools',
      { config: staff, schema: { tags: ptags, body: poolBody, response: { 201: poolOut } } },
      async (req, reply) => {
        const [r] = await db
          .insert(cidPools)
          .values({ id: req.body.id, ...poolValues(req.body) })
          .returning()
          .catch((e) => mapDbError(e, 'campaign'));
        await service.syncPoolConfig(r!.id);
        return reply.status(201).send(toPoolOut(r!, 0));
      },
    );
    app.patch(
      '/v1/cid-pools/:id',
      {
        config: staff,
        schema: {
          tags: ptags,
          params: poolParams,
          body: poolBody.omit({ id: true }).partial(),
          response: { 200: poolOut },
        },
      },
      async (req) => {
        const v = poolValues(req.body);
        const [r] = Object.keys(v).length
          ? await db.update(cidPools).set(v).where(eq(cidPools.id, req.params.id)).returning()
          : await db.select().from(cidPools).where(eq(cidPools.id, req.params.id));
        if (!r) throw notFound('campaign', req.params.id);
        await service.syncPoolConfig(r.id);
        return toPoolOut(r, (await memberCount([r.id])).get(r.id) ?? 0);
      },
    );
    app.delete(
      '/v1/cid-pools/:id',
      { config: staff, schema: { tags: ptags, params: poolParams, response: { 204: z.null() } } },
      async (req, reply) => {
        const members = await db
          .select({ n: cidPoolMembers.number })
          .from(cidPoolMembers)
          .where(eq(cidPoolMembers.poolId, req.params.id));
        const gone = await db.delete(cidPools).where(eq(cidPools.id, req.params.id)).returning();
        if (!gone.length) throw notFound('campaign', req.params.id);
        await service.sync(members.map((m) => m.n));
        await service.syncPoolConfig(req.params.id);
        return reply.status(204).send(null);
      },
    );

    // ---- numbers --------------------------------------------------------------------------
    const tags = ['caller-ids'];
    app.get(
      '/v1/caller-ids',
      {
        config: staff,
        schema: {
          tags,
          querystring: pageQuery.extend({ campaign: poolId.optional() }),
          response: { 200: page(cidOut) },
        },
      },
      async (req) => {
        const { limit, offset, campaign } = req.query;
        const where = campaign
          ? dsql`${callerIds.number} in (select number from cid_pool_members where pool_id = ${campaign})`
          : undefined;
        const rows = await db
          .select()
          .from(callerIds)
          .where(where)
          .orderBy(asc(callerIds.number))
          .limit(limit)
          .offset(offset);
        const [t] = await db.select({ n: count() }).from(callerIds).where(where);
        const pools = await poolsOf(
          db,
          rows.map((r) => r.number),
        );
        return {
          items: rows.map((r) => toCidOut(r, pools.get(r.number) ?? [])),
          limit,
          offset,
          total: t!.n,
        };
      },
    );

    app.get(
      '/v1/caller-ids/stats',
      {
        config: staff,
        schema: {
          tags,
          querystring: pageQuery.extend({ campaign: poolId.optional() }),
          response: {
            200: z.object({
              at: z.string(),
              campaigns: z.array(statCampaign),
              numbers: page(statNumber),
            }),
          },
        },
      },
      async (req) => {
        const { limit, offset, campaign } = req.query;
        if (campaign) {
          const [p] = await db.select({ id: cidPools.id }).from(cidPools).where(eq(cidPools.id, campaign));
          if (!p) throw notFound('campaign', campaign);
        }
        const now = service.now();
        const b = service.buckets(now);
        const poolIds = campaign
          ? [campaign]
          : (await db.select({ id: cidPools.id }).from(cidPools).orderBy(asc(cidPools.id))).map((p) => p.id);
        const campaigns = [];
        for (const id of poolIds) {
          const members = await db
            .select({ n: cidPoolMembers.number })
            .from(cidPoolMembers)
            .where(eq(cidPoolMembers.poolId, id));
          const sizes = await service.store.poolSizes(id, now);
          const s = {
            campaign: id,
            numbers: members.length,
            ...sizes,
            reserved: 0,
            exhausted_hourly: 0,
            exhausted_daily: 0,
            resting: 0,
            uses_hour: 0,
            uses_day: 0,
          };
          for (let i = 0; i < members.length; i += 2000) {
            const part = members.slice(i, i + 2000).map((m) => m.n);
            const hs = await service.store.hashes(part);
            for (const n of part) {
              const st = numberStat(n, hs.get(n), now, b);
              if (st.reserved_until) s.reserved++;
              if (st.rested_until) s.resting++;
              if (st.exhausted === 'hourly') s.exhausted_hourly++;
              if (st.exhausted === 'daily') s.exhausted_daily++;
              s.uses_hour += st.uses_hour;
              s.uses_day += st.uses_day;
            }
          }
          campaigns.push(s);
        }
        const where = campaign
          ? dsql`${callerIds.number} in (select number from cid_pool_members where pool_id = ${campaign})`
          : undefined;
        const rows = await db
          .select({ number: callerIds.number })
          .from(callerIds)
          .where(where)
          .orderBy(asc(callerIds.number))
          .limit(limit)
          .offset(offset);
        const [t] = await db.select({ n: count() }).from(callerIds).where(where);
        const hs = await service.store.hashes(rows.map((r) => r.number));
        return {
          at: new Date(now).toISOString(),
          campaigns,
          numbers: {
            items: rows.map((r) => numberStat(r.number, hs.get(r.number), now, b)),
            limit,
            offset,
            total: t!.n,
          },
        };
      },
    );

    app.get(
      '/v1/caller-ids/:number',
      { config: staff, schema: { tags, params: numberParams, response: { 200: cidOut } } },
      async (req) => {
        const [r] = await db.select().from(callerIds).where(eq(callerIds.number, req.params.number));
        if (!r) throw notFound('caller ID', req.params.number);
        return toCidOut(r, (await poolsOf(db, [r.number])).get(r.number) ?? []);
      },
    );

    const profile = (number: string, b: z.infer<typeof cidPatch>) => {
      const facts = factsOf(number);
      if (b.area_code && facts.npa && b.area_code !== facts.npa)
        throw new AppError(
          'VALIDATION_FAILED',
          `area_code ${b.area_code} does not match the number's ${facts.npa}`,
        );
      return {
        ...(b.carrier !== undefined ? { carrier: b.carrier } : {}),
        ...(b.area_code !== undefined ? { npa: b.area_code ?? facts.npa } : {}),
        ...(b.state !== undefined ? { state: b.state ?? facts.state } : {}),
        ...(b.hourly_limit !== undefined ? { hourlyLimit: b.hourly_limit } : {}),
        ...(b.daily_limit !== undefined ? { dailyLimit: b.daily_limit } : {}),
        ...(b.active !== undefined ? { active: b.active } : {}),
      };
    };

    app.post(
      '/v1/caller-ids',
      { config: staff, schema: { tags, body: cidBody, response: { 201: cidOut } } },
      async (req, reply) => {
        const { number, campaigns = [], ...rest } = req.body;
        const facts = factsOf(number);
        await requirePools(db, campaigns);
        const r = await db
          .transaction(async (tx) => {
            const [row] = await tx
              .insert(callerIds)
              .values({ number, npa: facts.npa, state: facts.state, ...profile(number, rest) })
              .returning();
            if (campaigns.length)
              await tx.insert(cidPoolMembers).values(campaigns.map((poolId) => ({ poolId, number })));
            return row!;
          })
          .catch((e) => mapDbError(e, 'caller ID'));
        await service.sync([number]);
        return reply.status(201).send(toCidOut(r, [...campaigns]));
      },
    );

    app.patch(
      '/v1/caller-ids/:number',
      { config: staff, schema: { tags, params: numberParams, body: cidPatch, response: { 200: cidOut } } },
      async (req) => {
        const number = req.params.number;
        const { campaigns, ...rest } = req.body;
        if (campaigns) await requirePools(db, campaigns);
        const r = await db
          .transaction(async (tx) => {
            const [row] = await tx
              .update(callerIds)
              .set({ ...profile(number, rest), updatedAt: new Date() })
              .where(eq(callerIds.number, number))
              .returning();
            if (!row) return null;
            if (campaigns) {
              await tx.delete(cidPoolMembers).where(eq(cidPoolMembers.number, number));
              if (campaigns.length)
                await tx.insert(cidPoolMembers).values(campaigns.map((poolId) => ({ poolId, number })));
            }
            return row;
          })
          .catch((e) => mapDbError(e, 'caller ID'));
        if (!r) throw notFound('caller ID', number);
        await service.sync([number]);
        return toCidOut(r, (await poolsOf(db, [number])).get(number) ?? []);
      },
    );

    app.delete(
      '/v1/caller-ids/:number',
      {
        config: staff,
        schema: {
          tags,
          params: numberParams,
          querystring: z.object({ campaign: poolId.optional() }),
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        const number = req.params.number;
        // With ?campaign= only the membership goes; without, the number itself.
        const gone = req.query.campaign
          ? await db
              .delete(cidPoolMembers)
              .where(and(eq(cidPoolMembers.number, number), eq(cidPoolMembers.poolId, req.query.campaign)))
              .returning()
          : await db.delete(callerIds).where(eq(callerIds.number, number)).returning();
        if (!gone.length) throw notFound('caller ID', number);
        await service.sync([number]);
        return reply.status(204).send(null);
      },
    );

    // ---- import ---------------------------------------------------------------------------
    await app.register(async (scope) => {
      scope.addContentTypeParser(
        ['text/csv', 'text/plain', 'application/octet-stream'],
        (_req, payload, done) => done(null, payload),
      );
      scope.withTypeProvider<ZodTypeProvider>().post(
        '/v1/caller-ids/import',
        {
          config: staff,
          bodyLimit: 512 * 1024 * 1024,
          schema: {
            tags,
            querystring: z.object({ campaign: poolId.optional() }),
            response: {
              200: z.object({
                lines: z.number(),
                imported: z.number(),
                rejected: z.array(z.object({ line: z.number(), reason: z.string() })),
                rejected_total: z.number(),
                pools_created: z.array(z.string()),
              }),
            },
          },
        },
        async (req) => {
          const body = req.body as Readable | undefined;
          if (!body || typeof (body as Readable).pipe !== 'function')
            throw new AppError(
              'UNSUPPORTED_MEDIA_TYPE',
              'send the CSV as the body with Content-Type: text/csv',
            );
          try {
            return await importCallerIds(sql, service, body, { defaultPool: req.query.campaign ?? null });
          } catch (e) {
            if (e instanceof CsvHeaderError) throw new AppError('VALIDATION_FAILED', e.message);
            throw e;
          }
        },
      );
    });
  };
}
