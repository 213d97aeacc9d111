-- 0007: the collector lease. Two wiremapd for the same switches (one per data centre) must
-- not both poll and write: the one that holds a session-level advisory lock on the database
-- leads, the others wait (wiremapd(8) LEASE). An advisory lock and not a lease row with an
-- expiry: PostgreSQL itself releases it when the holder's session ends (process killed,
-- host lost once TCP keepalives give up, pg_terminate_backend), a promoted standby starts
-- with no holder, no clock takes part, and the holder writes its bindings on the same
-- session, so a collector that lost the lock can no longer write at all.
--
-- The lock is the pair (1279873792, 1): 'LIS\0' and "collector lease"; db_lease_check()
-- in db/db_lease.c takes it. It is pg_try_advisory_lock's two-int form, which pg_locks shows
-- with objsubid 2, so it can never meet the one-bigint lock of `lisctl db migrate`.

-- Every collector that takes part, as it last checked in (every [collector] lease_interval
-- seconds), on the database's clock. A row stays after its collector stops; who holds the
-- lease is what the view below says, not leader_since alone.
CREATE TABLE collector (
	instance     text PRIMARY KEY,  -- [collector] instance (default: the host name)
	host         text NOT NULL,     -- gethostname() of the collector's host
	pid          integer NOT NULL,  -- its process id there
	backend_pid  integer,           -- pg_backend_pid() of its session; NULL: reused since
	started      timestamptz NOT NULL,  -- when this process first checked in
	last_seen    timestamptz NOT NULL,  -- its last check (the lease's "last renewed")
	leader_since timestamptz        -- when it took the lease; NULL: a follower
);

-- Who holds the lease now: the collector whose session holds the lock (no row: nobody).
CREATE VIEW collector_lease AS
	SELECT c.instance, c.host, c.pid, c.leader_since AS since, c.last_seen AS renewed,
	       c.backend_pid
	FROM pg_locks l JOIN collector c ON c.backend_pid = l.pid
	WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1279873792
	      AND l.objid = 1 AND l.objsubid = 2
	      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());

-- Which collector last polled each switch (its [collector] instance).
ALTER TABLE switch_poll_status ADD COLUMN polled_by text;
