-- 0012: endpoint and user lifecycle (issue 11). Deactivating and reactivating endpoints and
-- users is recorded here, whoever does it, as declared_location_audit records declarations
-- (0008): the rows themselves are never deleted, so the history stays. And the change feed
-- (0006) learns the keys of declared_location and vpn_binding, which 0008 fed as "whole
-- table" changes: a VPN concentrator binding an address no longer reloads lisd's snapshot.

-- Every change of endpoint.active or lis_user.active (and every lis_user row created
-- inactive): who, by what means, from where (the settings lis.who, lis.via, lis.from, as
-- for declarations), what and which.
CREATE TABLE lifecycle_audit (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT clock_timestamp(),
	who       text NOT NULL,
	via       text NOT NULL,
	from_addr text NOT NULL,
	kind      text NOT NULL CHECK (kind IN ('endpoint', 'user')),
	key       text NOT NULL,
	op        text NOT NULL CHECK (op IN ('deactivate', 'reactivate'))
);
CREATE INDEX lifecycle_audit_key_idx ON lifecycle_audit (kind, key, at);

CREATE FUNCTION lis_lifecycle_audit() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.active = NEW.active THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' AND NEW.active THEN
		RETURN NULL;
	END IF;
	INSERT INTO lifecycle_audit (who, via, from_addr, kind, key, op)
	VALUES (coalesce(nullif(current_setting('lis.who', true), ''), session_user::text),
		coalesce(nullif(current_setting('lis.via', true), ''), 'sql'),
		coalesce(nullif(current_setting('lis.from', true), ''),
			 host(inet_client_addr()), 'local'),
		CASE TG_TABLE_NAME WHEN 'endpoint' THEN 'endpoint' ELSE 'user' END,
		NEW.key, CASE WHEN NEW.active THEN 'reactivate' ELSE 'deactivate' END);
	RETURN NULL;
END;
$$;
CREATE TRIGGER endpoint_lifecycle_audit AFTER INSERT OR UPDATE OF active ON endpoint
	FOR EACH ROW EXECUTE FUNCTION lis_lifecycle_audit();
CREATE TRIGGER lis_user_lifecycle_audit AFTER INSERT OR UPDATE OF active ON lis_user
	FOR EACH ROW EXECUTE FUNCTION lis_lifecycle_audit();

-- An endpoint made inactive (by an import's active column, or any writer) is deactivated
-- now unless the writer says when; an active one has no deactivated_at (0010's CHECK).
CREATE FUNCTION lis_endpoint_deactivated_at() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.active THEN
		NEW.deactivated_at := NULL;
	ELSIF NEW.deactivated_at IS NULL THEN
		NEW.deactivated_at := now();
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER endpoint_deactivated_at BEFORE INSERT OR UPDATE OF active ON endpoint
	FOR EACH ROW EXECUTE FUNCTION lis_endpoint_deactivated_at();

-- The change feed: declared_location keyed by user_key (lisd holds each user's current
-- declaration), vpn_binding by its address, as 0006 keys the wiremap tables.
DROP TRIGGER declared_location_change ON declared_location;
DROP TRIGGER vpn_binding_change ON vpn_binding;
DO $do$
DECLARE
	t record;
	op text;
	rows_sql text;
	fn text;
BEGIN
	FOR t IN SELECT * FROM (VALUES
		('declared_location', 'NULL::bigint', 'r.user_key'),
		('vpn_binding', 'NULL::bigint', 'host(r.ip)'))
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
END;
$do$;
