CREATE TABLE "pbx_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_key_id" uuid,
	"actor_label" text,
	"action" text NOT NULL,
	"target" text,
	"result" text NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "pbx_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"endpoint" text NOT NULL,
	"kind" text NOT NULL,
	"client_id" uuid,
	"seller_id" uuid,
	"user_id" uuid,
	"username" text,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ips" text[] DEFAULT '{}'::text[] NOT NULL,
	"contact" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pbx_users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"extension" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pbx_endpoints" ADD CONSTRAINT "pbx_endpoints_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pbx_endpoints" ADD CONSTRAINT "pbx_endpoints_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pbx_endpoints" ADD CONSTRAINT "pbx_endpoints_user_id_pbx_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."pbx_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pbx_audit_at_idx" ON "pbx_audit" USING btree ("at");--> statement-breakpoint
CREATE INDEX "pbx_audit_action_idx" ON "pbx_audit" USING btree ("action","at");--> statement-breakpoint
CREATE UNIQUE INDEX "pbx_endpoints_endpoint_uq" ON "pbx_endpoints" USING btree ("endpoint");--> statement-breakpoint
CREATE UNIQUE INDEX "pbx_endpoints_client_uq" ON "pbx_endpoints" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "pbx_endpoints_seller_idx" ON "pbx_endpoints" USING btree ("seller_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pbx_users_extension_uq" ON "pbx_users" USING btree ("extension");--> statement-breakpoint
CREATE UNIQUE INDEX "pbx_users_email_uq" ON "pbx_users" USING btree (lower("email"));