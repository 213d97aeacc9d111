-- What lisd would have logged. Period of the test: [2026-11-02, 2026-11-05); seq 11 is
-- before it.
INSERT INTO query_log (instance, seq, at, kind, requester_ip, target, source, location_key,
		       site_key, fallback, disagreement, result, response_time, latency_ms)
VALUES
('lis1', 1, '2026-11-02T09:00:00Z', 'held', '10.1.0.10', 'ip:10.1.0.10', 'port', 'hq-410',
 'hq', false, NULL, 'located', 'emergencyRouting', 3.5),
('lis1', 2, '2026-11-02T10:00:00Z', 'held', '10.2.0.10', 'ip:10.2.0.10', 'subnet',
 'hq-lobby', 'hq', true, NULL, 'located', 'emergencyDispatch', 2.0),
('lis1', 3, '2026-11-02T11:00:00Z', 'held', '10.2.0.12', 'ip:10.2.0.12', 'site_default',
 'hq-lobby', 'hq', true, NULL, 'located', NULL, 2.0),
('lis1', 4, '2026-11-03T08:00:00Z', 'held', '10.1.0.20', 'ip:10.1.0.20', 'subnet',
 'hq-lobby', 'hq', true, NULL, 'located', 'emergencyRouting', 2.5),
('lis1', 5, '2026-11-03T09:00:00Z', 'held', '10.3.0.5', 'ip:10.3.0.5', 'site_default',
 'hq-lobby', 'hq', true, NULL, 'located', NULL, 1.0),
('lis1', 6, '2026-11-03T10:00:00Z', 'held', '10.9.9.9', 'mac:00:50:b6:00:00:02', 'port',
 'br-main', 'branch', false, 'port says branch, subnet says hq', 'located',
 'emergencyRouting', 4.0),
('lis2', 1, '2026-11-03T11:00:00Z', 'held', '10.9.9.9', 'mac:00:50:b6:00:00:02', 'port',
 'br-main', 'branch', false, 'port says branch, subnet says hq', 'located',
 'emergencyRouting', 4.0),
('lis2', 2, '2026-11-04T07:00:00Z', 'held', '10.2.0.99', 'ip:10.2.0.99', NULL, NULL, NULL,
 NULL, NULL, 'locationUnknown', 'emergencyDispatch', 1.5),
('lis2', 3, '2026-11-04T08:00:00Z', 'held', '10.1.0.10', 'ip:10.1.0.10', 'port', 'hq-410',
 'hq', false, NULL, 'located', NULL, 3.0),
('lis2', 4, '2026-11-04T09:00:00Z', 'deref_get', '10.1.0.10', 'ip:10.1.0.10', NULL, NULL,
 NULL, NULL, NULL, '404', NULL, 0.5),
('lis1', 11, '2026-10-20T09:00:00Z', 'held', '10.2.0.50', 'ip:10.2.0.50', 'subnet',
 'hq-lobby', 'hq', true, NULL, 'located', 'emergencyRouting', 2.0);
