CREATE TABLE "console_users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"seller_id" uuid,
	"totp_secret" text,
	"disabled_at" timestamp with time zone,
	"last_sign_in_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "console_users_email_unique" UNIQUE("email"),
	CONSTRAINT "console_users_email_lower_ck" CHECK ("console_users"."email" = lower("console_users"."email")),
	CONSTRAINT "console_users_seller_ck" CHECK (("console_users"."role" = 'seller') = ("console_users"."seller_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "console_users" ADD CONSTRAINT "console_users_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "console_users_seller_idx" ON "console_users" USING btree ("seller_id");