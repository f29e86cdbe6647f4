CREATE TABLE "routing_total_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "routing_total_batches_applied_idx" ON "routing_total_batches" USING btree ("applied_at");