CREATE TABLE "routing_cap_totals" (
	"owner_kind" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"total_answered" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "routing_cap_totals_owner_kind_owner_id_pk" PRIMARY KEY("owner_kind","owner_id")
);
--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "concurrency_cap" integer;--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "hourly_cap" integer;--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "daily_cap" integer;--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "monthly_cap" integer;--> statement-breakpoint
ALTER TABLE "dids" ADD COLUMN "total_cap" integer;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "concurrency_cap" integer;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "hourly_cap" integer;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "daily_cap" integer;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "monthly_cap" integer;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "total_cap" integer;--> statement-breakpoint
-- A seller's caps are part of every plan of its DIDs: a change to a seller notifies like the other
-- routing tables (function from migration 0008).
CREATE TRIGGER sellers_routing_changed AFTER INSERT OR UPDATE OR DELETE ON sellers
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
