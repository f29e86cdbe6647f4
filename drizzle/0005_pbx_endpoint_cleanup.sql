-- When a provisioning record goes (our own delete, or a cascade from a deleted client, seller or
-- PBX user), its endpoint's rows in Asterisk's realtime tables go with it, so Asterisk never keeps
-- an endpoint nobody owns.
CREATE OR REPLACE FUNCTION pbx_endpoint_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ps_endpoints WHERE id = OLD.endpoint;
  DELETE FROM ps_auths WHERE id = OLD.endpoint;
  DELETE FROM ps_aors WHERE id = OLD.endpoint;
  DELETE FROM ps_endpoint_id_ips WHERE endpoint = OLD.endpoint;
  DELETE FROM ps_contacts WHERE endpoint = OLD.endpoint OR starts_with(id, OLD.endpoint || ';@');
  RETURN OLD;
END $$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS pbx_endpoints_cleanup ON pbx_endpoints;
--> statement-breakpoint
CREATE TRIGGER pbx_endpoints_cleanup AFTER DELETE ON pbx_endpoints
  FOR EACH ROW EXECUTE FUNCTION pbx_endpoint_removed();
