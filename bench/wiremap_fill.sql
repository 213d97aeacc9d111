-- bench/wiremap_fill.sql: grow a migrated (empty or already filled) wiremap from :lo to :hi
-- mixed entries, set-based (generate_series), for the snapshot reload bench (bench/run.sh).
--
--   psql -v lo=0 -v hi=10000 -f wiremap_fill.sql     then -v lo=10000 -v hi=100000, ...
--
-- Of every 100 entries: 1 location, 19 subnets, 1 switch with its 48 ports, 2 BSSIDs, 10
-- endpoints, 7 MAC-port, 7 IP-MAC and 5 MAC-BSSID bindings (10 sites on top). At 1M: 10k
-- locations, 190k subnets, 10k switches x 48 = 480k ports, 20k BSSIDs, 100k endpoints, 190k
-- bindings. Row g of a table is the same whatever the steps, so growing 0 -> 10k -> 100k -> 1M
-- gives the same tables as filling 1M at once; references (location, switch, subnet, BSSID of
-- row g) go to rows of the same step or earlier ones (g modulo the count at :hi).
-- Device g (g = 1..): MAC 02:42:00:xx:xx:xx; the first 10% of the devices are endpoints too.
-- Subnet g: 3 of 4 an IPv4 /24, its own block of 1.0.0.0-64.255.255.255 (an odd multiplier
-- permutes the 2^22 blocks), 1 of 4 an IPv6 /64 of fd00::/16; never 127.0.0.0/8, which the
-- reload bench maps to its own location. IP-MAC binding g: a host of subnet g mod count.
\set ON_ERROR_STOP 1
SELECT :lo::bigint AS lo, :hi::bigint AS hi,
       :lo::bigint / 100 AS loc_lo, :hi::bigint / 100 AS loc_hi,
       :lo::bigint * 19 / 100 AS sub_lo, :hi::bigint * 19 / 100 AS sub_hi,
       :lo::bigint / 100 AS sw_lo, :hi::bigint / 100 AS sw_hi,
       :lo::bigint / 50 AS bss_lo, :hi::bigint / 50 AS bss_hi,
       :lo::bigint / 10 AS ep_lo, :hi::bigint / 10 AS ep_hi,
       :lo::bigint * 7 / 100 AS mp_lo, :hi::bigint * 7 / 100 AS mp_hi,
       :lo::bigint * 7 / 100 AS im_lo, :hi::bigint * 7 / 100 AS im_hi,
       :lo::bigint / 20 AS mb_lo, :hi::bigint / 20 AS mb_hi \gset

BEGIN;
INSERT INTO site (key, name)
SELECT 'site-' || s, 'Bench campus ' || s FROM generate_series(1, 10) AS s
ON CONFLICT (key) DO NOTHING;

INSERT INTO location (id, key, site_id, lang, country, a1, a3, rd, sts, hno, pc, bld, flr, room,
		      latitude, longitude, uncertainty)
OVERRIDING SYSTEM VALUE
SELECT g, 'loc-' || g, (SELECT id FROM site WHERE key = 'site-' || (1 + g % 10)), 'en-US',
       'US', 'CA', 'San Francisco', 'Market', 'St', (1 + g % 2000)::text, '94103',
       'B' || (g % 40), (g % 12)::text, (100 + g % 900)::text,
       37.70 + (g % 1000) * 0.0001, -122.40 - (g / 1000) * 0.0001, 10
FROM generate_series(:loc_lo + 1, :loc_hi) AS g;

-- Every site has a default location (one of its own: location n + 9 is in site-n), half of
-- them let it answer.
UPDATE site SET default_location_id = l.id, allow_default = substr(site.key, 6)::int % 2 = 1
FROM location l
WHERE site.default_location_id IS NULL AND l.id = substr(site.key, 6)::int + 9
  AND l.site_id = site.id;

INSERT INTO subnet (prefix, location_id, description)
SELECT CASE WHEN g % 4 <> 3
	    THEN network(set_masklen('1.0.0.0'::inet + ((g * 2654435761) % 4194304) * 256, 24))
	    ELSE format('fd00:%s:%s::/64', to_hex(g >> 16), to_hex(g & 65535))::cidr END,
       1 + g % :loc_hi, NULL
FROM generate_series(:sub_lo + 1, :sub_hi) AS g;

INSERT INTO switch (id, key, site_id, chassis_id, mgmt_address, location_id)
OVERRIDING SYSTEM VALUE
SELECT g, 'sw-' || g, (SELECT id FROM site WHERE key = 'site-' || (1 + g % 10)),
       lpad(to_hex(x'020000000000'::bigint + g), 12, '0')::macaddr::text,
       ('10.200.0.0'::inet + g),
       CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % :loc_hi END
FROM generate_series(:sw_lo + 1, :sw_hi) AS g;

INSERT INTO switch_port (switch_id, port_id, location_id)
SELECT s, 'Gi1/0/' || p, CASE WHEN p % 8 = 0 THEN NULL ELSE 1 + (s * 48 + p) % :loc_hi END
FROM generate_series(:sw_lo + 1, :sw_hi) AS s, generate_series(1, 48) AS p;

-- 1 in 16 a /44 range (the 16 BSSIDs of one radio), the others single BSSIDs.
INSERT INTO bssid (id, bssid, prefix_len, key, location_id)
OVERRIDING SYSTEM VALUE
SELECT g, lpad(to_hex(x'0a0000000000'::bigint + (g << 4)), 12, '0')::macaddr,
       CASE WHEN g % 16 = 0 THEN 44 ELSE 48 END, 'ap-' || g, 1 + g % :loc_hi
FROM generate_series(:bss_lo + 1, :bss_hi) AS g;

INSERT INTO endpoint (id, key, class, mac, uri, tel, location_id)
OVERRIDING SYSTEM VALUE
SELECT g, 'ep-' || g, (ARRAY['desk_phone', 'softphone', 'mobile', 'other'])[1 + g % 4],
       lpad(to_hex(x'024200000000'::bigint + g), 12, '0')::macaddr,
       'sip:user' || g || '@example.com', 'tel:+1555' || lpad(g::text, 7, '0'),
       CASE WHEN g % 4 = 0 THEN 1 + g % :loc_hi END
FROM generate_series(:ep_lo + 1, :ep_hi) AS g;

INSERT INTO binding_mac_port (mac, switch_id, port_id, first_seen, last_seen, source)
SELECT lpad(to_hex(x'024200000000'::bigint + g), 12, '0')::macaddr, 1 + g % :sw_hi,
       'Gi1/0/' || (1 + (g / :sw_hi) % 48), now() - interval '1 day', now() - interval '1 minute',
       'snmp'
FROM generate_series(:mp_lo + 1, :mp_hi) AS g;

INSERT INTO binding_ip_mac (ip, mac, first_seen, last_seen, source)
SELECT CASE WHEN j % 4 <> 3
	    THEN '1.0.0.0'::inet + ((j * 2654435761) % 4194304) * 256 + 1 + (g / :sub_hi) % 250
	    ELSE format('fd00:%s:%s::%s', to_hex(j >> 16), to_hex(j & 65535),
			to_hex(1 + (g / :sub_hi) % 250))::inet END,
       lpad(to_hex(x'024200000000'::bigint + g), 12, '0')::macaddr,
       now() - interval '1 day', now() - interval '1 minute', 'snmp'
FROM (SELECT g, 1 + g % :sub_hi AS j FROM generate_series(:im_lo + 1, :im_hi) AS g) AS d;

INSERT INTO binding_mac_bssid (mac, bssid, first_seen, last_seen, source)
SELECT lpad(to_hex(x'024200000000'::bigint + g), 12, '0')::macaddr,
       lpad(to_hex(x'0a0000000000'::bigint + ((1 + g % :bss_hi) << 4)), 12, '0')::macaddr,
       now() - interval '1 hour', now() - interval '1 minute', 'snmp'
FROM generate_series(:mb_lo + 1, :mb_hi) AS g;
COMMIT;
