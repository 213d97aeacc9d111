-- 0013: the notification trigger (0009) is only called where notifications are on. lisd's
-- query log writer says so on its session (lis.notify = 'on', db_notify_session()); where
-- it is off, 0009's function returned at its first line, but only after PostgreSQL had
-- queued an after-trigger event for the row and started PL/pgSQL for it: 20 us of the
-- backend's CPU per emergency answer logged (bench/run.sh at 10M query log rows: 100,000
-- inserts in 3.26 s with the call, 1.20 s without). The WHEN condition is evaluated as the
-- row is inserted, with no event and no call; the function keeps its own check, for a
-- trigger fired by some other means.
DROP TRIGGER query_log_notification ON query_log;
CREATE TRIGGER query_log_notification AFTER INSERT ON query_log
	FOR EACH ROW WHEN (NEW.kind = 'held' AND
			   NEW.response_time IN ('emergencyRouting', 'emergencyDispatch') AND
			   current_setting('lis.notify', true) = 'on')
	EXECUTE FUNCTION notification_from_query();
