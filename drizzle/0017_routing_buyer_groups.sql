CREATE TABLE "buyer_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"timezone" text,
	"concurrency_cap" integer,
	"hourly_cap" integer,
	"daily_cap" integer,
	"monthly_cap" integer,
	"total_cap" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "buyer_groups_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "group_id" uuid;--> statement-breakpoint
ALTER TABLE "clients" ADD CONSTRAINT "clients_group_id_buyer_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."buyer_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- A group's caps are part of the plan of every campaign one of its clients is linked to.
CREATE TRIGGER buyer_groups_routing_changed AFTER INSERT OR UPDATE OR DELETE ON buyer_groups
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
--> statement-breakpoint
-- Audited like the other routing resources (function from migration 0015).
CREATE TRIGGER buyer_groups_audit AFTER INSERT OR UPDATE OR DELETE ON buyer_groups
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('buyer_group');
