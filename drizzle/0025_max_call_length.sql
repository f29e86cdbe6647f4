ALTER TABLE "campaigns" ADD COLUMN "max_call_s" integer;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "end_reason" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_max_call_ck" CHECK ("campaigns"."max_call_s" between 1 and 86400);