-- 0006: the change feed. Every write to a wiremap table leaves one row per changed key in
-- wiremap_change, in the writing transaction; lisd polls it (db_changes_poll) and applies
-- the changed keys' current rows to its snapshot in place, instead of reloading everything.
-- A table, not NOTIFY: NOTIFY does not reach a streaming standby, and lisd may read from
-- one ([database] read_conninfo); rows of a table replicate like any other.
--
-- Readers find what is new by transaction id, not by seq alone: seq values are handed out
-- in statement order, but transactions commit in another order, so a reader that only
-- remembered the highest seq it saw could step over a smaller one committed later. Any
-- transaction still running when the reader took its snapshot has an xid at or above that
-- snapshot's xmin (on a hot standby too), so "xid >= the xmin of my previous snapshot"
-- misses nothing.
--
-- key_id and key_text name the changed row's lookup key (see the keyed triggers below); both
-- NULL mean "the whole table changed": a statement that touched more than
-- lis_change_max_rows() rows, a TRUNCATE, or a table the readers do not apply in place
-- (site, switch). Readers then reload.
-- The change feed replaces 0002's NOTIFY wiremap_changed: nobody listens any more.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['site', 'location', 'subnet', 'switch', 'switch_port', 'bssid',
				 'endpoint', 'binding_mac_port', 'binding_ip_mac',
				 'binding_mac_bssid'] LOOP
		EXECUTE format('DROP TRIGGER %I ON %I', t || '_notify', t);
	END LOOP;
END;
$$;
DROP FUNCTION lis_wiremap_notify();

CREATE TABLE wiremap_change (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	xid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
	at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	tbl      text NOT NULL,
	key_id   bigint,
	key_text text
);
CREATE INDEX wiremap_change_xid_idx ON wiremap_change (xid);
CREATE INDEX wiremap_change_at_idx ON wiremap_change (at);

-- Above this many rows in one statement, one "whole table" row instead of one per key.
CREATE FUNCTION lis_change_max_rows() RETURNS bigint LANGUAGE sql IMMUTABLE
	AS 'SELECT 20000::bigint';

-- Keep the table small: a reader more than 15 minutes behind reloads anyway (it has been
-- disconnected; see lis_snapshot.c). Called by every trigger, acts on one call in 100.
CREATE FUNCTION lis_change_prune() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF random() < 0.01 THEN
		DELETE FROM wiremap_change WHERE at < clock_timestamp() - interval '15 minutes';
	END IF;
END;
$$;

-- A "whole table" change: TRUNCATE, and tables the readers do not apply by key.
CREATE FUNCTION lis_change_log() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO wiremap_change (tbl) VALUES (TG_TABLE_NAME);
	PERFORM lis_change_prune();
	RETURN NULL;
END;
$$;

-- The keyed triggers: one function per table and operation, each written here with the
-- table's key as (key_id, key_text) -- what the readers look rows up by -- so that its
-- statements are plain SQL, planned once per session, not EXECUTEd (parsed and planned) at
-- every statement that writes the table, which wiremapd does for every switch it polls. A
-- trigger with transition tables serves one event only. The count stops at
-- lis_change_max_rows() + 1.
DO $do$
DECLARE
	t record;
	op text;
	rows_sql text;
	fn text;
BEGIN
	FOR t IN SELECT * FROM (VALUES
		('location', 'r.id', 'NULL::text'),
		('subnet', 'NULL::bigint', 'r.prefix::text'),
		('switch_port', 'r.switch_id', 'r.port_id'),
		('bssid', 'r.prefix_len::bigint', 'r.bssid::text'),
		('endpoint', 'r.id', 'NULL::text'),
		('binding_mac_port', 'NULL::bigint', 'r.mac::text'),
		('binding_ip_mac', 'NULL::bigint', 'host(r.ip)'),
		('binding_mac_bssid', 'NULL::bigint', 'r.mac::text'))
		AS v(tbl, key_id, key_text)
	LOOP
		FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
			rows_sql := CASE op
				WHEN 'INSERT' THEN 'SELECT * FROM lis_new'
				WHEN 'DELETE' THEN 'SELECT * FROM lis_old'
				ELSE 'SELECT * FROM lis_old UNION ALL SELECT * FROM lis_new' END;
			fn := 'lis_change_' || t.tbl || '_' || lower(op);
			EXECUTE format($f$
CREATE FUNCTION %1$I() RETURNS trigger LANGUAGE plpgsql AS $b$
BEGIN
	IF (SELECT count(*) FROM (SELECT 1 FROM (%2$s) r LIMIT lis_change_max_rows() + 1) c)
	   > lis_change_max_rows() THEN
		INSERT INTO wiremap_change (tbl) VALUES (%3$L);
	ELSE
		INSERT INTO wiremap_change (tbl, key_id, key_text)
		SELECT DISTINCT %3$L, %4$s, %5$s FROM (%2$s) r;
	END IF;
	PERFORM lis_change_prune();
	RETURN NULL;
END;
$b$$f$, fn, rows_sql, t.tbl, t.key_id, t.key_text);
			EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s'
				       ' FOR EACH STATEMENT EXECUTE FUNCTION %I()',
				       t.tbl || '_change_' || lower(op), op, t.tbl,
				       CASE op WHEN 'INSERT' THEN 'NEW TABLE AS lis_new'
					       WHEN 'DELETE' THEN 'OLD TABLE AS lis_old'
					       ELSE 'OLD TABLE AS lis_old NEW TABLE AS lis_new' END,
				       fn);
		END LOOP;
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT'
			       ' EXECUTE FUNCTION lis_change_log()', t.tbl || '_change_truncate',
			       t.tbl);
	END LOOP;
	-- Sites and switches: every port and binding points at them; readers reload.
	FOREACH op IN ARRAY ARRAY['site', 'switch'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION lis_change_log()',
			       op || '_change', op);
	END LOOP;
END;
$do$;
