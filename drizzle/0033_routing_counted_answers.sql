CREATE TABLE "routing_counted_answers" (
	"slot_id" text PRIMARY KEY NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "routing_total_batches" ADD COLUMN "cut_off" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "routing_counted_answers_applied_idx" ON "routing_counted_answers" USING btree ("applied_at");