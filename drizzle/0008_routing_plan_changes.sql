-- Every change to what calls are routed by (DIDs, campaigns, clients, links) notifies channel
-- capconduit_routing, whoever made it (API, console, CLI, provisioning, psql): each daemon instance
-- LISTENs and drops its cached plans at once. A link's total_answered (flushed every half second
-- under load) is not a plan change and notifies nothing.
CREATE OR REPLACE FUNCTION capconduit_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'campaign_links'
     AND (to_jsonb(OLD) - 'total_answered' - 'updated_at') = (to_jsonb(NEW) - 'total_answered' - 'updated_at') THEN
    RETURN NULL;
  END IF;
  -- Identical notifications of one transaction reach listeners once.
  PERFORM pg_notify('capconduit_routing', TG_TABLE_NAME);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dids_routing_changed AFTER INSERT OR UPDATE OR DELETE ON dids
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
--> statement-breakpoint
CREATE TRIGGER campaigns_routing_changed AFTER INSERT OR UPDATE OR DELETE ON campaigns
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
--> statement-breakpoint
CREATE TRIGGER clients_routing_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
--> statement-breakpoint
CREATE TRIGGER campaign_links_routing_changed AFTER INSERT OR UPDATE OR DELETE ON campaign_links
  FOR EACH ROW EXECUTE FUNCTION capconduit_routing_changed();
