ALTER TABLE "provider_accounts" ADD COLUMN "active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
-- The audit trigger learns redacted columns: an argument '-<column>' keeps that column's value out of
-- the trail (a sealed secret), written as "sealed" and, on an update that changed it, "sealed, changed"
-- (a rotation is a change worth recording). Other arguments are ignored columns, as before.
CREATE OR REPLACE FUNCTION capconduit_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor jsonb := nullif(current_setting('capconduit.actor', true), '')::jsonb;
  ignored text[] := '{}';
  redacted text[] := '{}';
  arg text;
  col text;
  old_row jsonb;
  new_row jsonb;
  who text;
BEGIN
  FOREACH arg IN ARRAY coalesce(TG_ARGV[1:], '{}') LOOP
    IF left(arg, 1) = '-' THEN redacted := redacted || substr(arg, 2); ELSE ignored := ignored || arg; END IF;
  END LOOP;
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  FOREACH col IN ARRAY redacted LOOP
    IF new_row IS NOT NULL THEN
      new_row := jsonb_set(new_row, ARRAY[col], to_jsonb(CASE
        WHEN old_row IS NOT NULL AND old_row->col IS DISTINCT FROM new_row->col THEN 'sealed, changed'
        ELSE 'sealed' END));
    END IF;
    IF old_row IS NOT NULL THEN old_row := jsonb_set(old_row, ARRAY[col], '"sealed"'); END IF;
  END LOOP;
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
CREATE TRIGGER provider_accounts_audit AFTER INSERT OR UPDATE OR DELETE ON provider_accounts
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('provider_account', '-credentials');
--> statement-breakpoint
CREATE TRIGGER webhook_subscriptions_audit AFTER INSERT OR UPDATE OR DELETE ON webhook_subscriptions
  FOR EACH ROW EXECUTE FUNCTION capconduit_audit('webhook', '-secret');
