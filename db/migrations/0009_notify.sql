-- 0009: emergency notifications (lisd(8) NOTIFICATIONS) and test mode.
--
-- A notification is made here, in the transaction that inserts the query log row of an
-- emergency answer (HELD responseTime emergencyRouting or emergencyDispatch, RFC 5985
-- section 6.1). lisd spools query log entries to disk while PostgreSQL is away and sends them
-- again; (instance, seq) is unique and the insert is ON CONFLICT DO NOTHING, so a row, and
-- the notification it makes, comes into being once however often it is sent.
--
-- The trigger acts only in a session that asked for it (lisd's query log inserter with
-- [notify] enabled sets lis.notify = on and lis.notify_window, its window in seconds).

-- Requests from configured test requesters or with the test marker (lis.conf(5) [test]):
-- answered as any other, kept out of the risk figures of `lisctl report`.
ALTER TABLE query_log ADD COLUMN test boolean NOT NULL DEFAULT false;

-- One per emergency call: the first query for a target opens a window of lis.notify_window
-- seconds; the target's queries inside it make no other notification (the notifier counts
-- them in query_log when it sends; the trigger only reads, so that a target asked thousands
-- of times a second does not rewrite one row thousands of times in the inserter's
-- transaction). Test and real calls never share one. The first query's fields are copied:
-- the query log may be purged before the notification is delivered.
CREATE TABLE notification (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	target            text NOT NULL,
	test              boolean NOT NULL,
	first_at          timestamptz NOT NULL,
	window_end        timestamptz NOT NULL CHECK (window_end > first_at),
	instance          text NOT NULL,
	seq               bigint NOT NULL,
	requester_ip      inet,
	requester_subject text,
	response_time     text NOT NULL,
	result            text NOT NULL,
	site_key          text,
	location_key      text,
	address           text,
	source            text,
	evidence          text,
	planned           boolean NOT NULL DEFAULT false,   -- its deliveries are made
	created_at        timestamptz NOT NULL DEFAULT now(),
	-- the query that opened it: one notification per query log row at most
	UNIQUE (instance, seq),
	-- one window per target and start: with the lock below, the dedupe key
	UNIQUE (target, test, first_at)
);
CREATE INDEX notification_target_idx ON notification (target, test, first_at);
CREATE INDEX notification_unplanned_idx ON notification (id) WHERE NOT planned;

-- One per notification and recipient (lis.conf(5) [notify] recipients, for its site).
CREATE TABLE notify_delivery (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	notification_id   bigint NOT NULL REFERENCES notification ON DELETE CASCADE,
	channel           text NOT NULL CHECK (channel IN ('webhook', 'mail', 'syslog')),
	recipient         text NOT NULL,
	state             text NOT NULL DEFAULT 'pending'
			  CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts          integer NOT NULL DEFAULT 0,
	next_at           timestamptz NOT NULL DEFAULT now(),
	delivered_at      timestamptz,
	UNIQUE (notification_id, channel, recipient)
);
CREATE INDEX notify_delivery_due_idx ON notify_delivery (next_at) WHERE state = 'pending';

-- Every attempt, lisd's and `lisctl notify test`'s (delivery_id NULL for the latter).
CREATE TABLE notify_log (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at                timestamptz NOT NULL DEFAULT now(),
	delivery_id       bigint REFERENCES notify_delivery ON DELETE CASCADE,
	notification_id   bigint,
	site_key          text,
	channel           text NOT NULL,
	recipient         text NOT NULL,
	test              boolean NOT NULL,
	outcome           text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
	error             text,
	sender            text NOT NULL           -- the lisd instance, or 'lisctl'
);
CREATE INDEX notify_log_notification_idx ON notify_log (notification_id);

-- The window check and the insert run under a transaction-level advisory lock on the
-- target, so that two lisd inserting the same target's queries at once (each its own
-- transaction) see each other's notification: the second waits for the first to commit and
-- joins its window. A query may arrive late (spooled through an outage, or from another
-- lisd): it joins a window that started up to one window after it. A query inside an open
-- window (the common case: a phone asks again and again during a call) is seen by the first
-- check and costs neither the lock nor a write.
CREATE FUNCTION notification_from_query() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	win interval;
BEGIN
	IF coalesce(current_setting('lis.notify', true), '') <> 'on' OR NEW.target IS NULL THEN
		RETURN NULL;
	END IF;
	win := make_interval(secs => coalesce(nullif(current_setting('lis.notify_window', true),
						     ''), '60')::int);
	FOR pass IN 1..2 LOOP
		IF EXISTS (SELECT 1 FROM notification
			   WHERE target = NEW.target AND test = NEW.test
			     AND first_at <= NEW.at + win AND window_end > NEW.at) THEN
			RETURN NULL;
		END IF;
		IF pass = 1 THEN
			PERFORM pg_advisory_xact_lock(hashtextextended('lis.notification:' ||
								       NEW.target, 0));
		END IF;
	END LOOP;
	INSERT INTO notification (target, test, first_at, window_end, instance, seq, requester_ip,
				  requester_subject, response_time, result, site_key, location_key,
				  address, source, evidence)
	VALUES (NEW.target, NEW.test, NEW.at, NEW.at + win, NEW.instance, NEW.seq,
		NEW.requester_ip, NEW.requester_subject, NEW.response_time, NEW.result,
		NEW.site_key, NEW.location_key, NEW.address, NEW.source, NEW.evidence)
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;

-- Only emergency HELD answers call it (RFC 5985 section 6.1).
CREATE TRIGGER query_log_notification AFTER INSERT ON query_log
	FOR EACH ROW WHEN (NEW.kind = 'held' AND
			   NEW.response_time IN ('emergencyRouting', 'emergencyDispatch'))
	EXECUTE FUNCTION notification_from_query();
