-- 0010: the change feed's keyed triggers (0006) with static SQL. 0006's one function built
-- its statements with EXECUTE at every call, so PostgreSQL parsed and planned them for every
-- statement that wrote a wiremap table: a third of the database's time when wiremapd writes
-- a poll (bench/collector.sh, issue 13). Here each table and operation gets a function of
-- its own whose statements are plain SQL, planned once per session and cached. What they
-- write is the same: one row per changed key, or one "whole table" row above
-- lis_change_max_rows() rows (counted no further than that).
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
	IF random() < 0.01 THEN
		DELETE FROM wiremap_change WHERE at < clock_timestamp() - interval '15 minutes';
	END IF;
	RETURN NULL;
END;
$b$$f$, fn, rows_sql, t.tbl, t.key_id, t.key_text);
			EXECUTE format('DROP TRIGGER %I ON %I', t.tbl || '_change_' || lower(op), t.tbl);
			EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s'
				       ' FOR EACH STATEMENT EXECUTE FUNCTION %I()',
				       t.tbl || '_change_' || lower(op), op, t.tbl,
				       CASE op WHEN 'INSERT' THEN 'NEW TABLE AS lis_new'
					       WHEN 'DELETE' THEN 'OLD TABLE AS lis_old'
					       ELSE 'OLD TABLE AS lis_old NEW TABLE AS lis_new' END,
				       fn);
		END LOOP;
	END LOOP;
END;
$do$;
