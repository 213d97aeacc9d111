-- Locations that are not dispatchable (see README).
INSERT INTO location (key, site_id, country, a1, a3, rd, hno, bld, flr)
SELECT 'hq-north-nofloor', id, 'US', 'NY', 'New York', 'Broadway', '123', 'North', NULL
FROM site WHERE key = 'hq';
INSERT INTO location (key, site_id, country, a1, a3, rd, hno)
SELECT 'br-noa1', id, 'US', NULL, 'Newark', 'Market', NULL FROM site WHERE key = 'branch';
INSERT INTO location (key, site_id, latitude, longitude)
SELECT 'lab-geo', id, 37.41, -122.14 FROM site WHERE key = 'lab';
