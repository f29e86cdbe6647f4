CREATE TABLE "unseen_call_sweeps" (
	"node_id" text PRIMARY KEY NOT NULL,
	"swept_to" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "asterisk_cdr" (
	"accountcode" varchar(80),
	"src" varchar(80),
	"dst" varchar(80),
	"dcontext" varchar(80),
	"clid" varchar(80),
	"channel" varchar(80),
	"dstchannel" varchar(80),
	"lastapp" varchar(80),
	"lastdata" varchar(80),
	"start" timestamp,
	"answer" timestamp,
	"end" timestamp,
	"duration" integer,
	"billsec" integer,
	"disposition" varchar(45),
	"amaflags" varchar(45),
	"userfield" varchar(256),
	"uniqueid" varchar(150),
	"linkedid" varchar(150),
	"peeraccount" varchar(80),
	"sequence" integer
);
--> statement-breakpoint
ALTER TABLE "call_records" ADD COLUMN "caller_channel_id" text;--> statement-breakpoint
CREATE INDEX "asterisk_cdr_end_idx" ON "asterisk_cdr" USING btree ("end");--> statement-breakpoint
CREATE INDEX "call_records_caller_channel_idx" ON "call_records" USING btree ("caller_channel_id") WHERE "call_records"."caller_channel_id" is not null;