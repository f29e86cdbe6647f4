CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text,
	"actor_label" text,
	"resource" text NOT NULL,
	"resource_id" text,
	"action" text NOT NULL,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_resource_idx" ON "audit_log" USING btree ("resource","resource_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","at");--> statement-breakpoint
-- The audit trail of routing resources, written by PostgreSQL in the transaction of each change,
-- whoever made it (API, console, provisioning, a script, psql). Who: the transaction-local setting
-- capconduit.actor (JSON {type, id, label}) that the daemon sets (src/platform/audit.ts); none: system.
-- The trigger's first argument names the resource; the others are columns whose change alone is not
-- a change of the resource (a link's total_answered, flushed from the call path).
CREATE OR REPLACE FUNCTION capconduit_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor jsonb := nullif(current_setting('capconduit.actor', true), '')::jsonb;
  ignored text[] := coalesce(TG_ARGV[1:], '{}');
  old_row jsonb;
  new_row jsonb;
  who text;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' AND (old_row - ignored) = (new_row - ignored) THEN
    RETURN NULL;
  END IF;
  who := actor->>'label';
  IF who IS NULL AND actor->>'type' = 'api_key' THEN
    SELECT coalesce(k.label, 'key ' || k.prefix) INTO who FROM api_keys k WHERE k.id::text = actor->>'id';
  END IF;
  INSERT INTO audit_log (actor_type, actor_id, actor_label, resource, resource_id, action, before, after)
  VALUES (coalesce(actor->>'type', 'system'), actor->>'id', who, TG_ARGV[0], coalesce(new_row, old_row)->>'id',
          CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
          old_row, new_row);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER sellers_audit AFTER INSERT OR UPDATE OR DELETE ON sellers
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('seller');
--> statement-breakpoint
CREATE TRIGGER clients_audit AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('client');
--> statement-breakpoint
CREATE TRIGGER campaigns_audit AFTER INSERT OR UPDATE OR DELETE ON campaigns
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('campaign');
--> statement-breakpoint
CREATE TRIGGER dids_audit AFTER INSERT OR UPDATE OR DELETE ON dids
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('did');
--> statement-breakpoint
CREATE TRIGGER campaign_links_audit AFTER INSERT OR UPDATE OR DELETE ON campaign_links
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('link', 'total_answered');
