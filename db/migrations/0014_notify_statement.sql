-- 0014: the notification trigger (0009, 0013) runs once per statement instead of once per
-- row. lisd's query log writer inserts a batch of hundreds of queries in one statement
-- (COPY), and a phone in an emergency call asks again and again: with a row trigger every
-- emergency row queued an after-trigger event, started PL/pgSQL and probed the
-- notification index, 28 us of the backend's CPU per answer logged on the bench machine
-- (bench/run.sh lisd+n: PostgreSQL at 70% of a core while lisd answered 25,000 a second),
-- and the starved request threads answered late. Now the function reads the statement's
-- new rows (a transition table, which holds only the rows inserted: not those ON CONFLICT
-- skipped), and for each target and kind (test or real) first asks whether one open window
-- covers every query of it in the batch (from its earliest less one window to its latest):
-- the common case, one index probe. Only a target without one takes its queries one by one,
-- in the order they were inserted (seq), with 0009's rule and lock, remembering the last
-- window it saw so that a query inside it costs no probe. Targets go in sorted order, so
-- that two writers take their advisory locks in one order.
CREATE FUNCTION notifications_from_queries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	win interval;
	g record;
	r record;
	seen_first timestamptz;
	seen_end timestamptz;
	found_one boolean;
BEGIN
	IF coalesce(current_setting('lis.notify', true), '') <> 'on' THEN
		RETURN NULL;
	END IF;
	win := make_interval(secs => coalesce(nullif(current_setting('lis.notify_window', true),
						     ''), '60')::int);
	FOR g IN SELECT n.target, n.test, min(n.at) AS lo, max(n.at) AS hi
		 FROM new_queries n
		 WHERE n.kind = 'held' AND n.target IS NOT NULL
		   AND n.response_time IN ('emergencyRouting', 'emergencyDispatch')
		 GROUP BY n.target, n.test ORDER BY n.target, n.test LOOP
		IF EXISTS (SELECT 1 FROM notification
			   WHERE target = g.target AND test = g.test
			     AND first_at <= g.lo + win AND window_end > g.hi) THEN
			CONTINUE;
		END IF;
		seen_first := NULL;
		FOR r IN SELECT * FROM new_queries n
			 WHERE n.target = g.target AND n.test = g.test AND n.kind = 'held'
			   AND n.response_time IN ('emergencyRouting', 'emergencyDispatch')
			 ORDER BY n.instance, n.seq LOOP
			IF seen_first <= r.at + win AND seen_end > r.at THEN
				CONTINUE;
			END IF;
			found_one := false;
			FOR pass IN 1..2 LOOP
				SELECT first_at, window_end INTO seen_first, seen_end FROM notification
				WHERE target = r.target AND test = r.test
				  AND first_at <= r.at + win AND window_end > r.at
				LIMIT 1;
				found_one := FOUND;
				EXIT WHEN found_one;
				IF pass = 1 THEN
					PERFORM pg_advisory_xact_lock(
						hashtextextended('lis.notification:' || r.target, 0));
				END IF;
			END LOOP;
			IF found_one THEN
				CONTINUE;
			END IF;
			INSERT INTO notification (target, test, first_at, window_end, instance, seq,
						  requester_ip, requester_subject, response_time, result,
						  site_key, location_key, address, source, evidence)
			VALUES (r.target, r.test, r.at, r.at + win, r.instance, r.seq, r.requester_ip,
				r.requester_subject, r.response_time, r.result, r.site_key,
				r.location_key, r.address, r.source, r.evidence)
			ON CONFLICT DO NOTHING;
			seen_first := r.at;
			seen_end := r.at + win;
		END LOOP;
	END LOOP;
	RETURN NULL;
END $$;

DROP TRIGGER query_log_notification ON query_log;
DROP FUNCTION notification_from_query();
CREATE TRIGGER query_log_notifications AFTER INSERT ON query_log
	REFERENCING NEW TABLE AS new_queries
	FOR EACH STATEMENT WHEN (current_setting('lis.notify', true) = 'on')
	EXECUTE FUNCTION notifications_from_queries();
