-- 0015: query_log without its surrogate id. Nothing reads the id (reports order by at,
-- instance, seq; the purge and the writer's ON CONFLICT go by (instance, seq)), and every
-- logged answer paid for it: an identity value and a second btree insert (PostgreSQL's CPU
-- per row COPYed 12% lower without them, 20,000 rows x 5 on the bench cluster).
-- (instance, seq) stays the key, NOT NULL and UNIQUE since 0004; it becomes the replica
-- identity, so that a logical replica still takes the purge's DELETEs. Quick on a large
-- table: the id index is dropped and the column only marked dropped, nothing is rewritten.
ALTER TABLE query_log DROP CONSTRAINT query_log_pkey;
ALTER TABLE query_log DROP COLUMN id;
ALTER TABLE query_log REPLICA IDENTITY USING INDEX query_log_instance_seq_key;
