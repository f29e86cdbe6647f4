ALTER TABLE "webhook_deliveries" ADD COLUMN "enqueued_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_outbox_idx" ON "webhook_deliveries" USING btree ("id") WHERE "webhook_deliveries"."enqueued_at" is null;--> statement-breakpoint
-- Rows written before the outbox were handed to the queue when written: only pending ones are looked at again.
UPDATE "webhook_deliveries" SET "enqueued_at" = "created_at" WHERE "status" <> 'pending';
