CREATE TABLE "report_campaign_rollups" (
	"grain" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"seller_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"answered" bigint DEFAULT 0 NOT NULL,
	"talk_s" bigint DEFAULT 0 NOT NULL,
	"billable_s" bigint DEFAULT 0 NOT NULL,
	"conversions" bigint DEFAULT 0 NOT NULL,
	"payout_micros" bigint DEFAULT 0 NOT NULL,
	"revenue_micros" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "report_campaign_rollups_grain_bucket_seller_id_campaign_id_pk" PRIMARY KEY("grain","bucket","seller_id","campaign_id")
);
--> statement-breakpoint
CREATE TABLE "report_did_days" (
	"day" date NOT NULL,
	"seller_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"did" text NOT NULL,
	"calls" integer[] NOT NULL,
	CONSTRAINT "report_did_days_day_seller_id_campaign_id_did_pk" PRIMARY KEY("day","seller_id","campaign_id","did")
);
--> statement-breakpoint
CREATE INDEX "report_campaign_rollups_seller_idx" ON "report_campaign_rollups" USING btree ("seller_id","grain","bucket");--> statement-breakpoint
CREATE INDEX "report_campaign_rollups_campaign_idx" ON "report_campaign_rollups" USING btree ("campaign_id","grain","bucket");--> statement-breakpoint
-- Links and DIDs keep hours and days only now (their quarter-hours are read from the calls).
DELETE FROM "report_link_rollups" WHERE "grain" = 'q';--> statement-breakpoint
DELETE FROM "report_did_rollups" WHERE "grain" = 'q';--> statement-breakpoint
-- The new rollups over the calls already stored: src/reports/rollup.ts rollupFillSql(), verbatim.
insert into report_campaign_rollups (grain, bucket, seller_id, campaign_id, calls, answered, talk_s, billable_s, conversions, payout_micros, revenue_micros, cost_micros) select g.grain, date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(c.seller_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.campaign_id, '00000000-0000-0000-0000-000000000000'::uuid),
      count(*), count(c.answered_at), coalesce(sum(c.talk_s), 0), coalesce(sum(c.billable_s), 0),
      count(*) filter (where c.converted), coalesce(sum(c.payout_micros), 0), coalesce(sum(c.revenue_micros), 0),
      coalesce(sum(c.cost_micros), 0)
    from call_records c cross join (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) as g(grain, width) group by 1, 2, 3, 4;--> statement-breakpoint
insert into report_did_days (day, seller_id, campaign_id, did, calls) select k.day, k.seller_id, k.campaign_id, k.did, array_agg(k.running order by k.i)
    from (
      with q as (
        select (c.started_at at time zone 'UTC')::date as day, coalesce(c.seller_id, '00000000-0000-0000-0000-000000000000'::uuid) as seller_id,
          coalesce(c.campaign_id, '00000000-0000-0000-0000-000000000000'::uuid) as campaign_id, c.did,
          (floor(extract(epoch from c.started_at) / 900)::bigint % 96)::int as qi, count(*)::int as n
        from call_records c where c.did is not null group by 1, 2, 3, 4, 5
      )
      select kd.day, kd.seller_id, kd.campaign_id, kd.did, i.i,
        (sum(coalesce(q.n, 0)) over (partition by kd.day, kd.seller_id, kd.campaign_id, kd.did order by i.i))::int as running
      from (select distinct day, seller_id, campaign_id, did from q) kd
      cross join generate_series(0, 96) as i(i)
      left join q on q.day = kd.day and q.seller_id = kd.seller_id and q.campaign_id = kd.campaign_id
        and q.did = kd.did and q.qi = i.i - 1
    ) k group by 1, 2, 3, 4;
