-- 0002: what the correlation engine needs beyond subnets: the sites' fallback policy,
-- switches and their ports, Wi-Fi BSSIDs, endpoints (device and user identities), and the
-- bindings observed on the network (MAC on a switch port, IP with a MAC, MAC on a BSSID).
-- Every wiremap table notifies lisd on every write, so no write path can forget it.

-- The site's default location answers only where the site's policy allows it
-- (allow_default); it is the last resort, after every piece of evidence.
ALTER TABLE site
	ADD COLUMN default_location_id bigint REFERENCES location (id),
	ADD COLUMN allow_default boolean NOT NULL DEFAULT false,
	ADD CONSTRAINT site_allow_default_needs_location
		CHECK (NOT allow_default OR default_location_id IS NOT NULL);
CREATE INDEX site_default_location_id_idx ON site (default_location_id);

-- A host address: an inet whose mask covers the whole address (no prefix).
CREATE FUNCTION lis_is_host(a inet) RETURNS boolean
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT masklen(a) = CASE family(a) WHEN 4 THEN 32 ELSE 128 END $$;

-- A MAC address as a 48-bit number, to test the bits a BSSID range leaves free.
CREATE FUNCTION lis_mac_bits(m macaddr) RETURNS bigint
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT ('x' || lpad(replace(m::text, ':', ''), 16, '0'))::bit(64)::bigint $$;

-- chassis_id is what LLDP reports (lldpRemChassisId): a MAC in canonical form
-- (00:11:22:33:44:55), anything else verbatim. location_id is the default for its ports.
CREATE TABLE switch (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key          text NOT NULL UNIQUE,
	site_id      bigint NOT NULL REFERENCES site (id),
	chassis_id   text NOT NULL UNIQUE CHECK (chassis_id <> ''),
	mgmt_address inet CHECK (lis_is_host(mgmt_address)),
	location_id  bigint REFERENCES location (id),
	description  text
);
CREATE INDEX switch_site_id_idx ON switch (site_id);
CREATE INDEX switch_location_id_idx ON switch (location_id);

-- port_id is the LLDP port ID or the ifName; a port's location overrides its switch's.
CREATE TABLE switch_port (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	switch_id   bigint NOT NULL REFERENCES switch (id) ON DELETE CASCADE,
	port_id     text NOT NULL CHECK (port_id <> ''),
	location_id bigint REFERENCES location (id),
	description text,
	UNIQUE (switch_id, port_id)
);
CREATE INDEX switch_port_location_id_idx ON switch_port (location_id);

-- One BSSID (prefix_len 48) or the range of BSSIDs one radio serves (e.g. 44: 16 BSSIDs);
-- the bits past prefix_len are zero. The longest matching range answers.
CREATE TABLE bssid (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bssid       macaddr NOT NULL,
	prefix_len  integer NOT NULL DEFAULT 48 CHECK (prefix_len BETWEEN 1 AND 48),
	key         text,   -- the access point's name
	location_id bigint NOT NULL REFERENCES location (id),
	UNIQUE (bssid, prefix_len),
	CONSTRAINT bssid_host_bits_zero
		CHECK (lis_mac_bits(bssid) & ((1::bigint << (48 - prefix_len)) - 1) = 0)
);
CREATE INDEX bssid_location_id_idx ON bssid (location_id);

-- A device or user identity. uri is a normalized sip:/sips: URI, tel a normalized tel: URI
-- (wm_uri_normalize); location_id is a statically assigned location.
CREATE TABLE endpoint (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key         text NOT NULL UNIQUE,
	class       text NOT NULL
		CHECK (class IN ('desk_phone', 'softphone', 'mobile', 'other')),
	mac         macaddr UNIQUE,
	uri         text UNIQUE CHECK (uri ~ '^sips?:'),
	tel         text UNIQUE CHECK (tel ~ '^tel:'),
	location_id bigint REFERENCES location (id),
	CONSTRAINT endpoint_has_identity
		CHECK (mac IS NOT NULL OR uri IS NOT NULL OR tel IS NOT NULL)
);
CREATE INDEX endpoint_location_id_idx ON endpoint (location_id);

-- Observed bindings: written by the collector (wiremapd) and by `lisctl import`. A binding
-- older than lisd's max_binding_age is not evidence; the last_seen indexes serve expiry.
-- port_id need not be in switch_port: a MAC may be seen on a port nobody mapped.
CREATE TABLE binding_mac_port (
	mac        macaddr NOT NULL,
	switch_id  bigint NOT NULL REFERENCES switch (id) ON DELETE CASCADE,
	port_id    text NOT NULL CHECK (port_id <> ''),
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	source     text NOT NULL DEFAULT 'import',
	PRIMARY KEY (mac, switch_id, port_id),
	CONSTRAINT binding_mac_port_seen_order CHECK (first_seen <= last_seen)
);
CREATE INDEX binding_mac_port_switch_idx ON binding_mac_port (switch_id, port_id);
CREATE INDEX binding_mac_port_last_seen_idx ON binding_mac_port (last_seen);

CREATE TABLE binding_ip_mac (
	ip         inet NOT NULL CHECK (lis_is_host(ip)),
	mac        macaddr NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	source     text NOT NULL DEFAULT 'import',
	PRIMARY KEY (ip, mac),
	CONSTRAINT binding_ip_mac_seen_order CHECK (first_seen <= last_seen)
);
CREATE INDEX binding_ip_mac_mac_idx ON binding_ip_mac (mac);
CREATE INDEX binding_ip_mac_last_seen_idx ON binding_ip_mac (last_seen);

CREATE TABLE binding_mac_bssid (
	mac        macaddr NOT NULL,
	bssid      macaddr NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	source     text NOT NULL DEFAULT 'import',
	PRIMARY KEY (mac, bssid),
	CONSTRAINT binding_mac_bssid_seen_order CHECK (first_seen <= last_seen)
);
CREATE INDEX binding_mac_bssid_bssid_idx ON binding_mac_bssid (bssid);
CREATE INDEX binding_mac_bssid_last_seen_idx ON binding_mac_bssid (last_seen);

-- lisd LISTENs on wiremap_changed and reloads its snapshot. Statement-level, so a bulk write
-- sends one notification, and PostgreSQL folds equal ones of a transaction into one,
-- delivered on commit. The payload names the table (lisd reloads whatever it says).
CREATE FUNCTION lis_wiremap_notify() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('wiremap_changed', TG_TABLE_NAME);
	RETURN NULL;
END;
$$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['site', 'location', 'subnet', 'switch', 'switch_port', 'bssid',
				 'endpoint', 'binding_mac_port', 'binding_ip_mac',
				 'binding_mac_bssid'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
			       ' ON %I FOR EACH STATEMENT EXECUTE FUNCTION lis_wiremap_notify()',
			       t || '_notify', t);
	END LOOP;
END;
$$;
