ALTER TABLE "dids" ADD COLUMN "rate_per_min_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "monthly_rent_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "caps_count" text DEFAULT 'answered' NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "convert_after_s" integer;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "payout_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "revenue_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "billing_increment" text DEFAULT '1/1' NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "link_id" uuid;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "did_id" uuid;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "seller_name" text;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "campaign_name" text;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "client_name" text;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "talk_s" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "converted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "payout_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "revenue_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "cost_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD CONSTRAINT "links_money_ck" CHECK ("campaign_links"."payout_micros" >= 0 and "campaign_links"."revenue_micros" >= 0);