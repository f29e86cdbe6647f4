CREATE TABLE "did_rents" (
	"did" text NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"monthly_rent_micros" bigint NOT NULL,
	CONSTRAINT "did_rents_did_effective_from_pk" PRIMARY KEY("did","effective_from")
);
--> statement-breakpoint
-- The rents known so far apply from the epoch: nothing earlier is known, and past months keep them.
INSERT INTO "did_rents" ("did", "effective_from", "monthly_rent_micros")
  SELECT "number", 'epoch'::timestamptz, "monthly_rent_micros" FROM "dids"
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Every rent set or changed, by whoever (API, console, CLI, psql), is a row from that moment on; a
-- number seen for the first time gets its rent from the epoch. Two changes in one transaction: the last.
CREATE OR REPLACE FUNCTION capconduit_did_rent_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.monthly_rent_micros IS NOT DISTINCT FROM OLD.monthly_rent_micros
     AND NEW.number = OLD.number THEN
    RETURN NULL;
  END IF;
  INSERT INTO did_rents (did, effective_from, monthly_rent_micros)
    SELECT NEW.number,
           CASE WHEN EXISTS (SELECT 1 FROM did_rents WHERE did = NEW.number) THEN now() ELSE 'epoch'::timestamptz END,
           NEW.monthly_rent_micros
    ON CONFLICT (did, effective_from) DO UPDATE SET monthly_rent_micros = EXCLUDED.monthly_rent_micros;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dids_rent_changed AFTER INSERT OR UPDATE ON dids
  FOR EACH ROW EXECUTE FUNCTION capconduit_did_rent_changed();
