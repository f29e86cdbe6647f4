import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../platform/http/auth.ts';
import { AppError } from '../platform/http/errors.ts';
import { timestamp, validInstant } from '../platform/http/input.ts';
import { callRecords } from '../db/schema/cdr.ts';
import { campaigns, clients, links } from '../db/schema/routing.ts';
import { capBuckets } from '../routing/decide.ts';
import type { InboundRouter } from '../routing/router.ts';
import type { SlotStore } from '../routing/slots.ts';

const query = z.object({
  from: timestamp.optional(),
  to: timestamp.optional(),
  campaign_id: z.uuid().optional(),
  client_id: z.uuid().optional(),
  did: z.string().max(20).optional(),
  caller: z.string().max(32).optional(),
  disposition: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
const record = z.object({
  call_id: z.string(),
  node_id: z.string(),
  seller_id: z.string().nullable(),
  campaign_id: z.string().nullable(),
  did: z.string().nullable(),
  caller_number: z.string().nullable(),
  client_id: z.string().nullable(),
  started_at: z.string(),
  answered_at: z.string().nullable(),
  ended_at: z.string(),
  duration_s: z.number(),
  billable_s: z.number(),
  disposition: z.string(),
  hangup_cause: z.number().nullable(),
  attempts: z.array(z.record(z.string(), z.unknown())),
});
type Row = typeof callRecords.$inferSelect;
const toOut = (r: Row) => ({
  call_id: r.callId,
  node_id: r.nodeId,
  seller_id: r.sellerId,
  campaign_id: r.campaignId,
  did: r.did,
  caller_number: r.callerNumber,
  client_id: r.clientId,
  started_at: r.startedAt.toISOString(),
  answered_at: r.answeredAt?.toISOString() ?? null,
  ended_at: r.endedAt.toISOString(),
  duration_s: r.durationS,
  billable_s: r.billableS,
  disposition: r.disposition,
  hangup_cause: r.hangupCause,
  attempts: r.attempts as unknown as Record<string, unknown>[],
});

// Keyset pagination over (started_at, call_id), newest first: stable while calls keep arriving.
const encodeCursor = (r: Row) =>
  Buffer.from(`${r.startedAt.toISOString()}|${r.callId}`).toString('base64url');
function decodeCursor(c: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(c, 'base64url').toString().split('|');
  const d = new Date(at ?? '');
  if (!id || !validInstant(d))
    throw new AppError('VALIDATION_FAILED', 'invalid cursor', [{ path: 'cursor', message: 'invalid' }]);
  return { at: d, id };
}

const CSV_COLS = [
  'call_id',
  'started_at',
  'answered_at',
  'ended_at',
  'did',
  'caller_number',
  'campaign_id',
  'client_id',
  'disposition',
  'hangup_cause',
  'duration_s',
  'billable_s',
] as const;
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote, and defuse spreadsheet formulas in caller-supplied text.
  const safe = /^[=+\-@]/.test(s) && !/^\+\d+$/.test(s) ? `'${s}` : s;
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** Call records: filters, cursor pagination, CSV export; live calls. Sellers see only their own. */
export function callRoutes(router: () => InboundRouter | null, slots: () => SlotStore) {
  return async function calls(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const { db } = app.deps.database;
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['calls'];

    app.get(
      '/v1/calls',
      {
        config,
        schema: {
          tags,
          querystring: query,
          response: { 200: z.object({ items: z.array(record), next_cursor: z.string().nullable() }) },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const w: SQL[] = [];
        const scope = scopeOf(req);
        if (scope) w.push(eq(callRecords.sellerId, scope));
        if (q.from) w.push(gte(callRecords.startedAt, new Date(q.from)));
        if (q.to) w.push(lt(callRecords.startedAt, new Date(q.to)));
        if (q.campaign_id) w.push(eq(callRecords.campaignId, q.campaign_id));
        if (q.client_id) w.push(eq(callRecords.clientId, q.client_id));
        if (q.did) w.push(eq(callRecords.did, q.did));
        if (q.caller) w.push(eq(callRecords.callerNumber, q.caller));
        if (q.disposition) w.push(eq(callRecords.disposition, q.disposition));
        if (q.cursor) {
          const c = decodeCursor(q.cursor);
          w.push(
            or(
              lt(callRecords.startedAt, c.at),
              and(eq(callRecords.startedAt, c.at), lt(callRecords.callId, c.id)),
            )!,
          );
        }
        const rows = await db
          .select()
          .from(callRecords)
          .where(w.length ? and(...w) : undefined)
          .orderBy(desc(callRecords.startedAt), desc(callRecords.callId))
          .limit(q.limit + 1);
        const more = rows.length > q.limit;
        const page = rows.slice(0, q.limit);
        const next = more ? encodeCursor(page[page.length - 1]!) : null;
        if (q.format === 'csv') {
          const lines = [
            CSV_COLS.join(','),
            ...page.map((r) => CSV_COLS.map((k) => csvCell(toOut(r)[k])).join(',')),
          ];
          if (next) reply.header('x-next-cursor', next);
          return (reply as FastifyReply)
            .type('text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="calls.csv"')
            .send(`${lines.join('\n')}\n`);
        }
        return { items: page.map(toOut), next_cursor: next };
      },
    );

    app.get(
      '/v1/calls/live',
      { config, schema: { tags, summary: 'Calls in progress on this instance' } },
      async (req) => {
        const r = router();
        const scope = scopeOf(req);
        const calls = (r?.live() ?? []).filter((c) => !scope || c.seller_id === scope);
        // Per link, usage against each cap, from Redis (shared by every instance), in the client's zone.
        const rows = await db
          .select({ link: links, timezone: clients.timezone })
          .from(links)
          .innerJoin(campaigns, eq(campaigns.id, links.campaignId))
          .innerJoin(clients, eq(clients.id, links.clientId))
          .where(scope ? eq(campaigns.sellerId, scope) : undefined);
        const now = new Date();
        const usage = await Promise.all(
          rows.map(async ({ link, timezone }) => {
            const b = capBuckets(timezone ?? app.deps.config.DEFAULT_TIMEZONE, now);
            const [live, c] = await Promise.all([slots().live(link.id), slots().counters(link.id, b)]);
            return {
              link_id: link.id,
              campaign_id: link.campaignId,
              client_id: link.clientId,
              live: { used: live, cap: link.concurrencyCap },
              hourly: { used: c.hourly, cap: link.hourlyCap },
              daily: { used: c.daily, cap: link.dailyCap },
              monthly: { used: c.monthly, cap: link.monthlyCap },
              total: { used: Math.max(c.total, link.totalAnswered), cap: link.totalCap },
            };
          }),
        );
        return { calls, links: usage };
      },
    );
  };
}
