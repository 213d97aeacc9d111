-- 0016: notifications without a statement trigger on query_log. 0014's statement trigger had the
-- statement's new rows in a transition table, and PostgreSQL fills that table for every row
-- inserted while the trigger exists, whether its WHEN lets it run or not: 0.9 us of the
-- backend's 11-12 us per query logged (bench cluster, notifications off, three pairs), in
-- every deployment, for a feature most leave off. Now lisd's query log writer, where
-- [notify] is enabled, calls notifications_for() in the transaction of each batch with the
-- seqs it inserted (all of a COPY; of a batch sent again, those its INSERT ... ON CONFLICT DO
-- NOTHING returned, as the transition table held only those). The rule, the order and the
-- locks are 0014's; the window is still the session's lis.notify_window.
CREATE FUNCTION notifications_for(p_instance text, p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	win interval;
	g record;
	r record;
	seen_first timestamptz;
	seen_end timestamptz;
	found_one boolean;
BEGIN
	win := make_interval(secs => coalesce(nullif(current_setting('lis.notify_window', true),
						     ''), '60')::int);
	FOR g IN SELECT n.target, n.test, min(n.at) AS lo, max(n.at) AS hi
		 FROM query_log n
		 WHERE n.instance = p_instance AND n.seq = ANY (p_seqs)
		   AND n.kind = 'held' AND n.target IS NOT NULL
		   AND n.response_time IN ('emergencyRouting', 'emergencyDispatch')
		 GROUP BY n.target, n.test ORDER BY n.target, n.test LOOP
		IF EXISTS (SELECT 1 FROM notification
			   WHERE target = g.target AND test = g.test
			     AND first_at <= g.lo + win AND window_end > g.hi) THEN
			CONTINUE;
		END IF;
		seen_first := NULL;
		FOR r IN SELECT * FROM query_log n
			 WHERE n.instance = p_instance AND n.seq = ANY (p_seqs)
			   AND n.target = g.target AND n.test = g.test AND n.kind = 'held'
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
END $$;

DROP TRIGGER query_log_notifications ON query_log;
DROP FUNCTION notifications_from_queries();

-- A lisd of before 0016 still writing (between `lisctl db migrate` and its restart) sets
-- lis.notify and calls nothing: its emergency rows go through notifications_for() one by
-- one, so that no emergency call goes unnotified during an upgrade. A lisd of 0016 on never
-- sets lis.notify, and a row-level trigger whose WHEN is false costs neither an event nor a
-- transition table. To be dropped once no such lisd can be left.
CREATE FUNCTION notifications_from_old_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM notifications_for(NEW.instance, ARRAY[NEW.seq]);
	RETURN NULL;
END $$;
CREATE TRIGGER query_log_notifications_of_old_writers AFTER INSERT ON query_log
	FOR EACH ROW WHEN (NEW.response_time IN ('emergencyRouting', 'emergencyDispatch')
			   AND current_setting('lis.notify', true) = 'on')
	EXECUTE FUNCTION notifications_from_old_writer();
