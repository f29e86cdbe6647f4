CREATE TABLE "provider_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"rest_url" text NOT NULL,
	"api_url" text NOT NULL,
	"credentials" text NOT NULL,
	"rate_per_s" real DEFAULT 2 NOT NULL,
	"concurrency" integer DEFAULT 2 NOT NULL,
	"timeout_ms" integer DEFAULT 10000 NOT NULL,
	"use_subaccounts" boolean DEFAULT true NOT NULL,
	"signalling_cidrs" text[] DEFAULT '{}'::text[] NOT NULL,
	"trunk_endpoint" text,
	"voice" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_accounts_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "provisioned_numbers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"e164" text NOT NULL,
	"country" text NOT NULL,
	"provider_account_id" uuid NOT NULL,
	"seller_id" uuid NOT NULL,
	"account_key" text,
	"status" text DEFAULT 'owned' NOT NULL,
	"did_id" uuid,
	"voice" jsonb,
	"job_item_id" uuid,
	"bought_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "provisioning_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_account_id" uuid NOT NULL,
	"seller_id" uuid NOT NULL,
	"subaccount_name" text,
	"subaccount_key" text,
	"subaccount_secret" text,
	"voice" jsonb,
	"sip_domain" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provisioning_groups_account_seller_uq" UNIQUE("provider_account_id","seller_id")
);
--> statement-breakpoint
CREATE TABLE "provisioning_job_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid NOT NULL,
	"idx" integer NOT NULL,
	"input" jsonb NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"chosen" text,
	"tried" text[] DEFAULT '{}'::text[] NOT NULL,
	"outcome" text,
	"result" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "provisioning_job_items_job_idx_uq" UNIQUE("job_id","idx")
);
--> statement-breakpoint
CREATE TABLE "provisioning_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"provider_account_id" uuid NOT NULL,
	"seller_id" uuid,
	"created_by_key" uuid,
	"idempotency_key" text,
	"request_hash" text,
	"status" text DEFAULT 'queued' NOT NULL,
	"total" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subscription_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_sub_event_uq" UNIQUE("subscription_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seller_id" uuid,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"events" text[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "provisioned_numbers" ADD CONSTRAINT "provisioned_numbers_provider_account_id_provider_accounts_id_fk" FOREIGN KEY ("provider_account_id") REFERENCES "public"."provider_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioned_numbers" ADD CONSTRAINT "provisioned_numbers_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioned_numbers" ADD CONSTRAINT "provisioned_numbers_did_id_dids_id_fk" FOREIGN KEY ("did_id") REFERENCES "public"."dids"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_groups" ADD CONSTRAINT "provisioning_groups_provider_account_id_provider_accounts_id_fk" FOREIGN KEY ("provider_account_id") REFERENCES "public"."provider_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_groups" ADD CONSTRAINT "provisioning_groups_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_job_items" ADD CONSTRAINT "provisioning_job_items_job_id_provisioning_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."provisioning_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_provider_account_id_provider_accounts_id_fk" FOREIGN KEY ("provider_account_id") REFERENCES "public"."provider_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_webhook_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."webhook_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "provisioned_numbers_live_uq" ON "provisioned_numbers" USING btree ("e164") WHERE "provisioned_numbers"."status" = 'owned';--> statement-breakpoint
CREATE INDEX "provisioned_numbers_seller_idx" ON "provisioned_numbers" USING btree ("seller_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provisioning_job_items_chosen_uq" ON "provisioning_job_items" USING btree ("chosen") WHERE "provisioning_job_items"."state" = 'chosen';--> statement-breakpoint
CREATE UNIQUE INDEX "provisioning_jobs_idem_uq" ON "provisioning_jobs" USING btree ("created_by_key","idempotency_key") WHERE "provisioning_jobs"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_sub_idx" ON "webhook_deliveries" USING btree ("subscription_id","created_at");