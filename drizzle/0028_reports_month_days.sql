CREATE TABLE "report_did_month_days" (
	"month" date NOT NULL,
	"seller_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"did" text NOT NULL,
	"calls" integer[] NOT NULL,
	CONSTRAINT "report_did_month_days_month_seller_id_campaign_id_did_pk" PRIMARY KEY("month","seller_id","campaign_id","did")
);
--> statement-breakpoint
-- The new rollup over the calls already stored: src/reports/rollup.ts rollupFillSql(), verbatim.
insert into report_did_month_days (month, seller_id, campaign_id, did, calls) select k.month, k.seller_id, k.campaign_id, k.did, array_agg(k.running order by k.i)
    from (
      with q as (
        select date_trunc('month', c.started_at at time zone 'UTC')::date as month, coalesce(c.seller_id, '00000000-0000-0000-0000-000000000000'::uuid) as seller_id,
          coalesce(c.campaign_id, '00000000-0000-0000-0000-000000000000'::uuid) as campaign_id, c.did,
          extract(day from c.started_at at time zone 'UTC')::int - 1 as di, count(*)::int as n
        from call_records c where c.did is not null group by 1, 2, 3, 4, 5
      )
      select km.month, km.seller_id, km.campaign_id, km.did, i.i,
        (sum(coalesce(q.n, 0)) over (partition by km.month, km.seller_id, km.campaign_id, km.did order by i.i))::int as running
      from (select distinct month, seller_id, campaign_id, did from q) km
      cross join generate_series(0, 31) as i(i)
      left join q on q.month = km.month and q.seller_id = km.seller_id and q.campaign_id = km.campaign_id
        and q.did = km.did and q.di = i.i - 1
    ) k group by 1, 2, 3, 4;