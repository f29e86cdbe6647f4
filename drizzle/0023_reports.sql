CREATE TABLE "report_did_months" (
	"did" text NOT NULL,
	"month" date NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "report_did_months_did_month_pk" PRIMARY KEY("did","month")
);
--> statement-breakpoint
CREATE TABLE "report_did_rollups" (
	"grain" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"seller_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"did" text NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"answered" bigint DEFAULT 0 NOT NULL,
	"talk_s" bigint DEFAULT 0 NOT NULL,
	"billable_s" bigint DEFAULT 0 NOT NULL,
	"conversions" bigint DEFAULT 0 NOT NULL,
	"payout_micros" bigint DEFAULT 0 NOT NULL,
	"revenue_micros" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "report_did_rollups_grain_bucket_seller_id_campaign_id_did_pk" PRIMARY KEY("grain","bucket","seller_id","campaign_id","did")
);
--> statement-breakpoint
CREATE TABLE "report_link_rollups" (
	"grain" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"seller_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"client_id" uuid NOT NULL,
	"link_id" uuid NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"answered" bigint DEFAULT 0 NOT NULL,
	"talk_s" bigint DEFAULT 0 NOT NULL,
	"billable_s" bigint DEFAULT 0 NOT NULL,
	"conversions" bigint DEFAULT 0 NOT NULL,
	"payout_micros" bigint DEFAULT 0 NOT NULL,
	"revenue_micros" bigint DEFAULT 0 NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "report_link_rollups_grain_bucket_seller_id_campaign_id_client_id_link_id_pk" PRIMARY KEY("grain","bucket","seller_id","campaign_id","client_id","link_id")
);
--> statement-breakpoint
CREATE TABLE "report_names" (
	"kind" text NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	CONSTRAINT "report_names_kind_id_pk" PRIMARY KEY("kind","id")
);
--> statement-breakpoint
CREATE INDEX "report_did_rollups_seller_idx" ON "report_did_rollups" USING btree ("seller_id","grain","bucket");--> statement-breakpoint
CREATE INDEX "report_link_rollups_seller_idx" ON "report_link_rollups" USING btree ("seller_id","grain","bucket");--> statement-breakpoint
-- Calls recorded before the rollups existed, added once.
with c as (select * from call_records),
g(grain, width) as (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')),
l as (
  insert into report_link_rollups (grain, bucket, seller_id, campaign_id, client_id, link_id, calls, answered, talk_s, billable_s, conversions, payout_micros, revenue_micros, cost_micros)
  select g.grain, date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00'),
    coalesce(c.seller_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.campaign_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.client_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.link_id, '00000000-0000-0000-0000-000000000000'::uuid),
    count(*), count(c.answered_at), coalesce(sum(c.talk_s), 0), coalesce(sum(c.billable_s), 0),
      count(*) filter (where c.converted), coalesce(sum(c.payout_micros), 0), coalesce(sum(c.revenue_micros), 0),
      coalesce(sum(c.cost_micros), 0)
  from c cross join g group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
  on conflict (grain, bucket, seller_id, campaign_id, client_id, link_id) do update set calls = report_link_rollups.calls + excluded.calls, answered = report_link_rollups.answered + excluded.answered,
      talk_s = report_link_rollups.talk_s + excluded.talk_s, billable_s = report_link_rollups.billable_s + excluded.billable_s,
      conversions = report_link_rollups.conversions + excluded.conversions, payout_micros = report_link_rollups.payout_micros + excluded.payout_micros,
      revenue_micros = report_link_rollups.revenue_micros + excluded.revenue_micros, cost_micros = report_link_rollups.cost_micros + excluded.cost_micros
  returning 1
),
d as (
  insert into report_did_rollups (grain, bucket, seller_id, campaign_id, did, calls, answered, talk_s, billable_s, conversions, payout_micros, revenue_micros, cost_micros)
  select g.grain, date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00'),
    coalesce(c.seller_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.campaign_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(c.did, ''),
    count(*), count(c.answered_at), coalesce(sum(c.talk_s), 0), coalesce(sum(c.billable_s), 0),
      count(*) filter (where c.converted), coalesce(sum(c.payout_micros), 0), coalesce(sum(c.revenue_micros), 0),
      coalesce(sum(c.cost_micros), 0)
  from c cross join g group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5
  on conflict (grain, bucket, seller_id, campaign_id, did) do update set calls = report_did_rollups.calls + excluded.calls, answered = report_did_rollups.answered + excluded.answered,
      talk_s = report_did_rollups.talk_s + excluded.talk_s, billable_s = report_did_rollups.billable_s + excluded.billable_s,
      conversions = report_did_rollups.conversions + excluded.conversions, payout_micros = report_did_rollups.payout_micros + excluded.payout_micros,
      revenue_micros = report_did_rollups.revenue_micros + excluded.revenue_micros, cost_micros = report_did_rollups.cost_micros + excluded.cost_micros
  returning 1
),
m as (
  insert into report_did_months (did, month, calls)
  select c.did, date_trunc('month', c.started_at at time zone 'UTC')::date, count(*)
  from c where c.did is not null group by 1, 2 order by 1, 2
  on conflict (did, month) do update set calls = report_did_months.calls + excluded.calls
  returning 1
),
n as (
  insert into report_names (kind, id, name)
  select distinct on (kind, id) kind, id, name from (
    select 'seller' as kind, c.seller_id as id, c.seller_name as name, c.started_at from c
    union all select 'campaign', c.campaign_id, c.campaign_name, c.started_at from c
    union all select 'client', c.client_id, c.client_name, c.started_at from c
  ) x where id is not null and name is not null
  order by kind, id, started_at desc
  on conflict (kind, id) do update set name = excluded.name where report_names.name <> excluded.name
  returning 1
)
select (select count(*) from l) as link_rows, (select count(*) from d) as did_rows;
