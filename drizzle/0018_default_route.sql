ALTER TABLE "campaigns" ADD COLUMN "default_route" jsonb;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "default_route" text;