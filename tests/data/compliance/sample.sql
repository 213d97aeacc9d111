-- The compliance report's sample (tests/integration/test_compliance.c writes down what
-- the report must say about it). Two sites; endpoints of four classes; declarations;
-- calls, real and test, in the period [2026-11-02, 2026-11-05), and their notices.
-- Bindings are as fresh as the moment the test runs: the endpoints are resolved now.
INSERT INTO site (key, name) VALUES ('hq', 'Headquarters'),
	('branch', 'Branch <Office> & Co');
INSERT INTO location (key, site_id, lang, country, a1, a3, rd, sts, hno, pc, bld, flr, room)
SELECT v.key, s.id, 'en-US', 'US', v.a1, v.a3, v.rd, 'ST', v.hno, v.pc, v.bld, v.flr, v.room
FROM (VALUES
	('hq-lobby', 'hq', 'NY', 'New York', 'Broadway', '123', '10001', 'North', '1', NULL),
	('hq-410', 'hq', 'NY', 'New York', 'Broadway', '123', '10001', 'North', '4', '410'),
	('hq-nohno', 'hq', 'NY', 'New York', 'Broadway', NULL, '10001', 'North', '2', NULL),
	('br-main', 'branch', 'NJ', 'Newark', 'Market', '50', '07102', NULL, NULL, NULL)
) v(key, site, a1, a3, rd, hno, pc, bld, flr, room) JOIN site s ON s.key = v.site;
UPDATE site SET default_location_id = (SELECT id FROM location WHERE key = 'hq-lobby'),
	allow_default = true WHERE key = 'hq';

INSERT INTO subnet (prefix, location_id) VALUES
	('10.1.0.0/16', (SELECT id FROM location WHERE key = 'hq-lobby')),
	('10.2.0.0/16', (SELECT id FROM location WHERE key = 'br-main'));

-- sw-hq has no location of its own: its port Gi1/0/3 locates nothing
INSERT INTO switch (key, site_id, chassis_id, location_id) VALUES
	('sw-hq', (SELECT id FROM site WHERE key = 'hq'), '00:00:5e:00:01:01', NULL),
	('sw-br', (SELECT id FROM site WHERE key = 'branch'), '00:00:5e:00:01:02',
	 (SELECT id FROM location WHERE key = 'br-main'));
INSERT INTO switch_port (switch_id, port_id, location_id) VALUES
	((SELECT id FROM switch WHERE key = 'sw-hq'), 'Gi1/0/1',
	 (SELECT id FROM location WHERE key = 'hq-410')),
	((SELECT id FROM switch WHERE key = 'sw-hq'), 'Gi1/0/2',
	 (SELECT id FROM location WHERE key = 'hq-lobby')),
	((SELECT id FROM switch WHERE key = 'sw-hq'), 'Gi1/0/3', NULL),
	((SELECT id FROM switch WHERE key = 'sw-br'), 'Gi0/1', NULL),
	((SELECT id FROM switch WHERE key = 'sw-br'), 'Gi0/2', NULL);
INSERT INTO bssid (bssid, key, location_id) VALUES
	('00:00:5e:00:02:01', 'ap-hq-1', (SELECT id FROM location WHERE key = 'hq-410'));

INSERT INTO endpoint (key, class, mac, uri, owner, location_id) VALUES
	('desk-1', 'desk_phone', '00:00:5e:00:53:01', NULL, NULL, NULL),
	('desk-2', 'desk_phone', '00:00:5e:00:53:02', NULL, NULL, NULL),
	('desk-3', 'desk_phone', NULL, 'sip:desk3@example.com', NULL,
	 (SELECT id FROM location WHERE key = 'br-main')),
	('wifi-1', 'wifi_handset', '00:00:5e:00:53:04', NULL, NULL, NULL),
	('soft-1', 'softphone', '00:00:5e:00:53:05', NULL, 'alice', NULL),
	('soft-2', 'softphone', '00:00:5e:00:53:06', NULL, 'bob', NULL),
	('soft-3', 'softphone', '00:00:5e:00:53:07', NULL, 'carol', NULL),
	('mobile-1', 'mobile', '00:00:5e:00:53:08', NULL, 'dave', NULL);
INSERT INTO endpoint (key, class, mac, active, deactivated_at) VALUES
	('old-1', 'desk_phone', '00:00:5e:00:53:09', false, now());

INSERT INTO binding_mac_port (mac, switch_id, port_id, first_seen, last_seen) VALUES
	('00:00:5e:00:53:01', (SELECT id FROM switch WHERE key = 'sw-hq'), 'Gi1/0/1',
	 now() - interval '1 day', now()),
	('00:00:5e:00:53:02', (SELECT id FROM switch WHERE key = 'sw-hq'), 'Gi1/0/3',
	 now() - interval '1 day', now()),
	('00:00:5e:00:53:05', (SELECT id FROM switch WHERE key = 'sw-br'), 'Gi0/1',
	 now() - interval '1 minute', now());
INSERT INTO binding_mac_bssid (mac, bssid, first_seen, last_seen) VALUES
	('00:00:5e:00:53:04', '00:00:5e:00:02:01', now() - interval '1 minute', now());

-- bob's declaration is current; carol's was not confirmed again within a day
INSERT INTO declared_location (user_key, label, is_current, country, a1, a3, rd, hno, pc,
			       confirmed_at, expires_at) VALUES
	('bob', 'home', true, 'US', 'NJ', 'Hoboken', 'Washington', '7', '07030', now(),
	 now() + interval '30 days'),
	('carol', 'home', true, 'US', 'NY', 'Brooklyn', 'Court', '9', '11201',
	 now() - interval '3 days', now() + interval '30 days');

INSERT INTO query_log (instance, seq, at, kind, requester_ip, target, source, location_key,
		       site_key, fallback, result, response_time, test) VALUES
	('lis1', 1, '2026-11-03T10:00:00Z', 'held', '10.1.0.10', 'mac:00:00:5e:00:53:01', 'port',
	 'hq-410', 'hq', false, 'located', 'emergencyRouting', false),
	('lis1', 2, '2026-11-03T12:00:00Z', 'held', '10.2.0.10', 'mac:00:00:5e:00:53:05',
	 'switch', 'br-main', 'branch', false, 'located', 'emergencyDispatch', false),
	('lis1', 3, '2026-11-04T09:00:00Z', 'held', '10.1.0.50', 'ip:10.1.0.50', 'subnet',
	 'hq-lobby', 'hq', true, 'located', 'emergencyRouting', true),
	('lis1', 4, '2026-10-01T09:00:00Z', 'held', '10.1.0.51', 'ip:10.1.0.51', 'subnet',
	 'hq-lobby', 'hq', true, 'located', 'emergencyRouting', true);

INSERT INTO notification (target, test, first_at, window_end, instance, seq, response_time,
			  result, site_key, location_key, planned) VALUES
	('mac:00:00:5e:00:53:01', false, '2026-11-03T10:00:00Z', '2026-11-03T10:01:00Z', 'lis1',
	 1, 'emergencyRouting', 'located', 'hq', 'hq-410', true),
	('mac:00:00:5e:00:53:05', false, '2026-11-03T12:00:00Z', '2026-11-03T12:01:00Z', 'lis1',
	 2, 'emergencyDispatch', 'located', 'branch', 'br-main', true),
	('ip:10.1.0.50', true, '2026-11-04T09:00:00Z', '2026-11-04T09:01:00Z', 'lis1', 3,
	 'emergencyRouting', 'located', 'hq', 'hq-lobby', true);
INSERT INTO notify_delivery (notification_id, channel, recipient, state, attempts,
			     delivered_at)
SELECT n.id, v.channel, v.recipient, v.state, v.attempts, v.delivered_at
FROM (VALUES
	('lis1', 1, 'webhook', 'https://security.example/hook', 'delivered', 1,
	 '2026-11-03T10:00:02Z'::timestamptz),
	('lis1', 1, 'mail', 'security@example.com', 'delivered', 1, '2026-11-03T10:00:03Z'),
	('lis1', 2, 'webhook', 'https://security.example/hook', 'failed', 5, NULL),
	('lis1', 3, 'webhook', 'https://security.example/hook', 'delivered', 1,
	 '2026-11-04T09:00:02Z')
) v(instance, seq, channel, recipient, state, attempts, delivered_at)
JOIN notification n ON n.instance = v.instance AND n.seq = v.seq;
INSERT INTO notify_log (at, delivery_id, notification_id, site_key, channel, recipient, test,
			outcome, error, sender)
SELECT '2026-11-03T12:05:00Z', d.id, d.notification_id, 'branch', d.channel, d.recipient,
	false, 'failed', 'HTTP 500: <b>down</b>', 'lis1'
FROM notify_delivery d WHERE d.state = 'failed';
