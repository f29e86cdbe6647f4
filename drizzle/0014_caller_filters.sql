CREATE TABLE "caller_blocks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seller_id" uuid,
	"number" text NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "caller_blocks_seller_number_uq" UNIQUE NULLS NOT DISTINCT("seller_id","number")
);
--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "reject_anonymous" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "repeat_window_s" integer;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "use_blocklist" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "caller_regions" text[];--> statement-breakpoint
ALTER TABLE "caller_blocks" ADD CONSTRAINT "caller_blocks_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "caller_blocks_number_idx" ON "caller_blocks" USING btree ("number");--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_repeat_window_ck" CHECK ("campaigns"."repeat_window_s" between 1 and 604800);