CREATE TABLE "caller_ids" (
	"number" text PRIMARY KEY NOT NULL,
	"carrier" text,
	"npa" text,
	"state" text,
	"hourly_limit" integer,
	"daily_limit" integer,
	"active" boolean DEFAULT true NOT NULL,
	"hour_bucket" text,
	"uses_hour" integer DEFAULT 0 NOT NULL,
	"day_bucket" text,
	"uses_day" integer DEFAULT 0 NOT NULL,
	"total_uses" bigint DEFAULT 0 NOT NULL,
	"last_used_at" timestamp with time zone,
	"answered" bigint DEFAULT 0 NOT NULL,
	"unanswered" bigint DEFAULT 0 NOT NULL,
	"rested_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "caller_ids_number_ck" CHECK ("caller_ids"."number" ~ '^\+[1-9][0-9]{6,14}$'),
	CONSTRAINT "caller_ids_hourly_ck" CHECK ("caller_ids"."hourly_limit" is null or "caller_ids"."hourly_limit" >= 0),
	CONSTRAINT "caller_ids_daily_ck" CHECK ("caller_ids"."daily_limit" is null or "caller_ids"."daily_limit" >= 0)
);
--> statement-breakpoint
CREATE TABLE "cid_pool_members" (
	"pool_id" text NOT NULL,
	"number" text NOT NULL,
	CONSTRAINT "cid_pool_members_pool_id_number_pk" PRIMARY KEY("pool_id","number")
);
--> statement-breakpoint
CREATE TABLE "cid_pools" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"fallback_number" text,
	"health_window" integer DEFAULT 20 NOT NULL,
	"health_min_answer_rate" real DEFAULT 0 NOT NULL,
	"health_rest_s" integer DEFAULT 3600 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cid_pools_id_ck" CHECK ("cid_pools"."id" ~ '^[A-Za-z0-9_.-]{1,64}$'),
	CONSTRAINT "cid_pools_window_ck" CHECK ("cid_pools"."health_window" between 1 and 1000),
	CONSTRAINT "cid_pools_rate_ck" CHECK ("cid_pools"."health_min_answer_rate" between 0 and 1),
	CONSTRAINT "cid_pools_rest_ck" CHECK ("cid_pools"."health_rest_s" between 1 and 2592000)
);
--> statement-breakpoint
ALTER TABLE "cid_pool_members" ADD CONSTRAINT "cid_pool_members_pool_id_cid_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."cid_pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cid_pool_members" ADD CONSTRAINT "cid_pool_members_number_caller_ids_number_fk" FOREIGN KEY ("number") REFERENCES "public"."caller_ids"("number") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cid_pool_members_number_idx" ON "cid_pool_members" USING btree ("number");