CREATE TABLE "call_records" (
	"call_id" text PRIMARY KEY NOT NULL,
	"node_id" text NOT NULL,
	"seller_id" uuid,
	"campaign_id" uuid,
	"did" text,
	"caller_number" text,
	"client_id" uuid,
	"started_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	"ended_at" timestamp with time zone NOT NULL,
	"duration_s" integer NOT NULL,
	"billable_s" integer NOT NULL,
	"disposition" text NOT NULL,
	"hangup_cause" integer,
	"attempts" jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "call_records_started_idx" ON "call_records" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "call_records_seller_started_idx" ON "call_records" USING btree ("seller_id","started_at");--> statement-breakpoint
CREATE INDEX "call_records_campaign_started_idx" ON "call_records" USING btree ("campaign_id","started_at");