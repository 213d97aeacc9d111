-- 0004: the query log. One row per HELD answer and per location URI dereference, written by
-- lisd's query log writer (lis/lis_querylog.c) in batches, read by `lisctl report`.
-- Not a wiremap input: no NOTIFY trigger.

-- (instance, seq) identifies an entry: a lisd numbers its entries without gaps, spools them
-- to a local file first and may send an entry again after a crash or an outage; the unique
-- key lets the writer insert with ON CONFLICT DO NOTHING, so every entry lands exactly once.
-- location_id has no foreign key: the log outlives wiremap edits (a location may be renamed
-- or removed; the row still says what was sent).
CREATE TABLE query_log (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	instance          text NOT NULL CHECK (instance <> ''),
	seq               bigint NOT NULL CHECK (seq > 0),
	at                timestamptz NOT NULL,
	kind              text NOT NULL CHECK (kind IN ('held', 'deref_get', 'deref_post')),
	requester_ip      inet,
	requester_subject text,
	target            text,
	source            text,
	evidence          text,
	evidence_age_s    integer,
	location_id       bigint,
	location_key      text,
	site_key          text,
	address           text,
	method            text,
	fallback          boolean,
	disagreement      text,
	result            text NOT NULL CHECK (result <> ''),
	response_time     text,
	latency_ms        real,
	UNIQUE (instance, seq)
);
CREATE INDEX query_log_at_idx ON query_log (at);
CREATE INDEX query_log_site_key_at_idx ON query_log (site_key, at);
