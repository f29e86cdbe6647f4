ALTER TABLE "campaigns" ADD COLUMN "max_reroutes" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_links" ADD COLUMN "recovery_s" integer;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_max_reroutes_ck" CHECK ("campaigns"."max_reroutes" between 0 and 5);--> statement-breakpoint
ALTER TABLE "campaign_links" ADD CONSTRAINT "links_recovery_ck" CHECK ("campaign_links"."recovery_s" between 1 and 600);