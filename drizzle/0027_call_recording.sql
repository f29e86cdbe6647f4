ALTER TABLE "campaigns" ADD COLUMN "record_calls" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "recording_name" text;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "recording_s" integer;--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "recording_deleted_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "call_records_recording_started_idx" ON "call_records" USING btree ("started_at") WHERE "call_records"."recording_name" is not null and "call_records"."recording_deleted_at" is null;