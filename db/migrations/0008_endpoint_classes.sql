-- 0008: beyond the desk (47 CFR 9.16, RAY BAUM'S Act). Endpoint classes and the policy each
-- follows; subnets marked remote (VPN pools); the civic addresses users declare for when
-- they are away from the offices, with an audit of every change; and the addresses a VPN
-- concentrator binds to users for a while.

-- A class's policy: which evidence counts (use_*), how old a binding may be
-- (max_binding_age, seconds; NULL: lisd's [wiremap] max_binding_age), how long a declared
-- address stays good without being confirmed again (reconfirm_interval, seconds; NULL:
-- until it expires), and what lisd answers when nothing it counts is fresh (no_fresh):
-- locationUnknown (the call server routes on the carrier's location), site-default (the
-- site's default location, where the site allows it, marked as a fallback) or declared (the
-- user's current declared address, even expired, marked as unconfirmed).
CREATE TABLE endpoint_class (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key                text NOT NULL UNIQUE CHECK (key ~ '^[A-Za-z0-9_.-]+$'),
	description        text,
	use_port           boolean NOT NULL DEFAULT true,
	use_bssid          boolean NOT NULL DEFAULT true,
	use_subnet         boolean NOT NULL DEFAULT true,
	use_static         boolean NOT NULL DEFAULT true,
	use_declared       boolean NOT NULL DEFAULT false,
	max_binding_age    integer CHECK (max_binding_age > 0),
	reconfirm_interval integer CHECK (reconfirm_interval > 0),
	no_fresh           text NOT NULL DEFAULT 'locationUnknown'
		CHECK (no_fresh IN ('locationUnknown', 'site-default', 'declared')),
	CONSTRAINT endpoint_class_declared_needs_use CHECK (no_fresh <> 'declared' OR use_declared)
);

-- The defaults: the three kinds of caller of 47 CFR 9.16(b). A desk phone is fixed: its
-- port says where it is. A softphone and a Wi-Fi handset move on the premises, and a
-- softphone leaves them: a binding older than a few minutes says little, and away from the
-- offices the user's declared address answers. A mobile phone has a carrier: with nothing
-- fresh the call routes on the carrier's location. 'other' keeps what lisd did before
-- classes (every piece of evidence, then the site default).
INSERT INTO endpoint_class (key, description, use_port, use_bssid, use_subnet, use_static,
			    use_declared, max_binding_age, reconfirm_interval, no_fresh) VALUES
	('desk_phone', 'fixed device: location automatic', true, true, true, true, false,
	 NULL, NULL, 'site-default'),
	('softphone', 'non-fixed, on or off premises: automatic where feasible, else declared',
	 true, true, true, true, true, 900, 86400, 'declared'),
	('wifi_handset', 'non-fixed, on premises only (Wi-Fi phone)', true, true, true, true,
	 false, 300, NULL, 'site-default'),
	('mobile', 'non-fixed with a carrier: declared, else the carrier''s location', true,
	 true, true, true, true, 300, 86400, 'locationUnknown'),
	('other', 'no class policy: every piece of evidence, then the site default', true, true,
	 true, true, false, NULL, NULL, 'site-default');

-- endpoint.class now names a class (0002's four values are all rows above).
ALTER TABLE endpoint DROP CONSTRAINT endpoint_class_check;
ALTER TABLE endpoint ADD CONSTRAINT endpoint_class_fkey
	FOREIGN KEY (class) REFERENCES endpoint_class (key) ON UPDATE CASCADE;
-- The user the endpoint belongs to (a softphone's SIP URI names its user): the key of the
-- user's declared locations.
ALTER TABLE endpoint ADD COLUMN owner text CHECK (owner ~ '^\S+$');
CREATE INDEX endpoint_owner_idx ON endpoint (owner);
CREATE INDEX endpoint_class_idx ON endpoint (class);

-- A remote subnet (a VPN pool): its addresses are off premises, never answered with an
-- office's location; it needs no location.
ALTER TABLE subnet ADD COLUMN remote boolean NOT NULL DEFAULT false;
ALTER TABLE subnet ALTER COLUMN location_id DROP NOT NULL;
ALTER TABLE subnet ADD CONSTRAINT subnet_location_unless_remote
	CHECK (remote OR location_id IS NOT NULL);

-- A user's saved civic addresses (home, a second office, a hotel); at most one is current.
-- user_key is the name the user logs in with (lisctl now; OIDC or LDAP later). The civic
-- columns are location's (0001). A declaration is good until expires_at, and, where the
-- class has a reconfirm_interval, for that long after confirmed_at.
CREATE TABLE declared_location (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_key     text NOT NULL CHECK (user_key ~ '^\S+$'),
	label        text NOT NULL CHECK (label ~ '^\S+$'),
	is_current   boolean NOT NULL DEFAULT false,
	lang         text,
	country text, a1 text, a2 text, a3 text, a4 text, a5 text, a6 text,
	prm text, prd text, rd text, sts text, pod text, pom text,
	rdsec text, rdbr text, rdsubbr text, hno text, hns text,
	lmk text, loc text, flr text, nam text, pc text, bld text,
	unit text, room text, seat text, plc text, pcn text, pobox text,
	addcode text,
	created_at   timestamptz NOT NULL DEFAULT now(),
	confirmed_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	UNIQUE (user_key, label)
);
CREATE UNIQUE INDEX declared_location_current_idx ON declared_location (user_key)
	WHERE is_current;

-- Making one declaration current makes the user's other one not current.
CREATE FUNCTION lis_declared_one_current() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.is_current THEN
		UPDATE declared_location SET is_current = false
		 WHERE user_key = NEW.user_key AND is_current AND id <> NEW.id;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER declared_location_one_current BEFORE INSERT OR UPDATE OF is_current
	ON declared_location FOR EACH ROW EXECUTE FUNCTION lis_declared_one_current();

-- Every change to a declaration, whoever makes it: who, by what means (via), from where,
-- and the row before and after. Writers say who they act for in the settings lis.who,
-- lis.via and lis.from (lisctl: its Unix user, "lisctl", the SSH client's address or
-- "local"); a writer that says nothing is recorded as its database role, via "sql".
CREATE TABLE declared_location_audit (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT clock_timestamp(),
	who       text NOT NULL,
	via       text NOT NULL,
	from_addr text NOT NULL,
	user_key  text NOT NULL,
	label     text NOT NULL,
	op        text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
	old       jsonb,
	new       jsonb
);
CREATE INDEX declared_location_audit_user_idx ON declared_location_audit (user_key, at);

CREATE FUNCTION lis_declared_audit() RETURNS trigger
	LANGUAGE plpgsql AS $$
DECLARE
	r declared_location;
BEGIN
	r := CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
	INSERT INTO declared_location_audit (who, via, from_addr, user_key, label, op, old, new)
	VALUES (coalesce(nullif(current_setting('lis.who', true), ''), session_user::text),
		coalesce(nullif(current_setting('lis.via', true), ''), 'sql'),
		coalesce(nullif(current_setting('lis.from', true), ''),
			 host(inet_client_addr()), 'local'),
		r.user_key, r.label, lower(TG_OP),
		CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
		CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
	RETURN NULL;
END;
$$;
CREATE TRIGGER declared_location_audit AFTER INSERT OR UPDATE OR DELETE ON declared_location
	FOR EACH ROW EXECUTE FUNCTION lis_declared_audit();

-- An address the VPN concentrator handed to a user, until expires_at: the requester at ip
-- is that user, off premises, of class class.
CREATE TABLE vpn_binding (
	ip         inet PRIMARY KEY CHECK (lis_is_host(ip)),
	user_key   text NOT NULL CHECK (user_key ~ '^\S+$'),
	class      text NOT NULL DEFAULT 'softphone'
		REFERENCES endpoint_class (key) ON UPDATE CASCADE,
	bound_at   timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	source     text NOT NULL DEFAULT 'lisctl',
	CONSTRAINT vpn_binding_lifetime CHECK (bound_at <= expires_at)
);
CREATE INDEX vpn_binding_expires_idx ON vpn_binding (expires_at);

-- The change feed (0006): these tables are small or change by the row; a change to any of
-- them reloads lisd's snapshot (a "whole table" row, no key).
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['endpoint_class', 'declared_location', 'vpn_binding'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
			       ' ON %I FOR EACH STATEMENT EXECUTE FUNCTION lis_change_log()',
			       t || '_change', t);
	END LOOP;
END;
$$;
