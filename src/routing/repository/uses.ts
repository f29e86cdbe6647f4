// A cap owner's uses in its current hour, day and month, counted back from the CDRs (what Redis
// is given again after it lost its data).
import { sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';

/** A cap owner's answered uses in its current hour, day and month (in its zone), from the CDRs. */
export interface OwnerUses {
  kind: 'link' | 'seller' | 'did' | 'group';
  id: string;
  /** The zone its hour/day/month buckets are in. */
  tz: string;
  hourly: number;
  daily: number;
  monthly: number;
}

/**
 * The uses each owner with an hourly, daily or monthly cap has had in its current hour, day and
 * month, counted from the calls that ended before `endedBefore` as the slot scripts count them: an
 * answered attempt on a link counting answers (a short answer included), the converted answer on a
 * link counting conversions; each in the bucket of the moment its slot was taken (the attempt's
 * start), for its link, the call's seller and DID, and its client's buyer group. Links are in their
 * client's zone, groups in theirs, sellers and DIDs in `defaultTimezone` (decide.ts capSources).
 */
export async function usesThisPeriod(
  db: Db,
  o: { now: Date; endedBefore: Date; defaultTimezone: string },
): Promise<OwnerUses[]> {
  const now = o.now.toISOString();
  const tz = o.defaultTimezone;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with owners as (
      select 'link' as kind, l.id, coalesce(c.timezone, ${tz}) as tz,
          l.daily_cap is not null as has_d, l.monthly_cap is not null as has_m
        from campaign_links l join clients c on c.id = l.client_id
        where coalesce(l.hourly_cap, l.daily_cap, l.monthly_cap) is not null
      union all
      select 'seller', s.id, ${tz}, s.daily_cap is not null, s.monthly_cap is not null from sellers s
        where coalesce(s.hourly_cap, s.daily_cap, s.monthly_cap) is not null
      union all
      select 'did', d.id, ${tz}, d.daily_cap is not null, d.monthly_cap is not null from dids d
        where coalesce(d.hourly_cap, d.daily_cap, d.monthly_cap) is not null
      union all
      select 'group', g.id, coalesce(g.timezone, ${tz}), g.daily_cap is not null, g.monthly_cap is not null
        from buyer_groups g
        where coalesce(g.hourly_cap, g.daily_cap, g.monthly_cap) is not null
    ),
    bounds as (
      select kind, id, tz, has_d, has_m,
        date_trunc('hour', ${now}::timestamptz at time zone tz) at time zone tz as h0,
        date_trunc('day', ${now}::timestamptz at time zone tz) at time zone tz as d0,
        date_trunc('month', ${now}::timestamptz at time zone tz) at time zone tz as m0
      from owners
    ),
    -- Each owner is read back only as far as the longest period it caps.
    periods as (
      select *, case when has_m then m0 when has_d then d0 else h0 end as w0 from bounds
    ),
    uses as (
      select (x->>'started_at')::timestamptz as t, l.id as link_id, r.seller_id, r.did_id, c.group_id
        from call_records r
        cross join lateral jsonb_array_elements(r.attempts) x
        join campaign_links l on l.id::text = x->>'link_id'
        join clients c on c.id = l.client_id
        where r.started_at >= (select min(w0) from periods) - interval '1 day'
          and r.ended_at < ${o.endedBefore.toISOString()}::timestamptz
          and x->>'answered_at' is not null
          and (l.caps_count <> 'converted' or (r.converted and r.link_id = l.id and x->>'short_answer' is null))
    ),
    owned as (
      select u.t, v.kind, v.id
        from uses u
        cross join lateral (values ('link', u.link_id), ('seller', u.seller_id), ('did', u.did_id), ('group', u.group_id)) v(kind, id)
        where v.id is not null
    )
    select p.kind, p.id::text as id, p.tz,
      count(*) filter (where o.t >= p.h0)::int as hourly,
      count(*) filter (where o.t >= p.d0 and (p.has_d or p.has_m))::int as daily,
      count(*) filter (where p.has_m)::int as monthly
    from periods p join owned o on o.kind = p.kind and o.id = p.id and o.t >= p.w0
    group by p.kind, p.id, p.tz`);
  return rows.map((r) => ({
    kind: r.kind as OwnerUses['kind'],
    id: String(r.id),
    tz: String(r.tz),
    hourly: Number(r.hourly),
    daily: Number(r.daily),
    monthly: Number(r.monthly),
  }));
}
