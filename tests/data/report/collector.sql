-- What wiremapd would have written: poll status (relative to now) and MAC moves.
INSERT INTO switch_poll_status (switch_id, last_attempt, last_success, last_error,
				consecutive_failures)
SELECT id, now() - interval '10 minutes', now() - interval '1 hour', NULL, 0
FROM switch WHERE key = 'sw-hq1';
INSERT INTO switch_poll_status (switch_id, last_attempt, last_success, last_error,
				consecutive_failures)
SELECT id, now() - interval '5 minutes', now() - interval '10 days', 'timeout', 40
FROM switch WHERE key = 'sw-hq2';
INSERT INTO mac_move (mac, from_switch_id, from_port_id, to_switch_id, to_port_id, moved_at,
		      source)
VALUES
('00:50:b6:00:00:02', (SELECT id FROM switch WHERE key = 'sw-hq1'), 'Gi1/0/2',
 (SELECT id FROM switch WHERE key = 'sw-br1'), 'ge-0/0/2', '2026-11-03T07:00:00Z', 'snmp'),
('00:50:b6:00:00:01', (SELECT id FROM switch WHERE key = 'sw-hq1'), 'Gi1/0/1',
 (SELECT id FROM switch WHERE key = 'sw-hq2'), 'Gi1/0/1', '2026-11-03T08:00:00Z', 'snmp'),
('00:50:b6:00:00:09', (SELECT id FROM switch WHERE key = 'sw-br1'), 'ge-0/0/1',
 (SELECT id FROM switch WHERE key = 'sw-lab'), 'X1', '2026-10-01T08:00:00Z', 'snmp');
