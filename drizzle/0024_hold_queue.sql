ALTER TABLE "campaigns" ADD COLUMN "queue_s" integer;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_queue_ck" CHECK ("campaigns"."queue_s" between 1 and 3600);