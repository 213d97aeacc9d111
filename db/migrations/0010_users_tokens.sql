-- 0010: the people behind the endpoints and what lets them, or their devices, in: users
-- (who can be deactivated, history kept), endpoint lifecycle columns, per-device API tokens
-- issued by lisctl, and the self-service page's sign-in sessions.

-- A user: the user_key of declared_location, vpn_binding, endpoint.owner. A user with no row
-- here is active (lisctl declare needs none); a row with active = false is offboarded: lisd
-- answers none of the user's declared addresses, the user's tokens and sessions stop
-- working, and the rows stay for the record. source: how the row came to be (the first
-- sign-in through OIDC or LDAP creates it; lisctl and imports too).
CREATE TABLE lis_user (
	key            text PRIMARY KEY CHECK (key ~ '^\S+$'),
	display_name   text,
	email          text,
	source         text NOT NULL DEFAULT 'lisctl'
		CHECK (source IN ('lisctl', 'import', 'oidc', 'ldap')),
	active         boolean NOT NULL DEFAULT true,
	created_at     timestamptz NOT NULL DEFAULT now(),
	last_login_at  timestamptz,
	deactivated_at timestamptz,
	CONSTRAINT lis_user_deactivated CHECK (active = (deactivated_at IS NULL))
);

-- An endpoint's lifecycle: onboarded (created_at) before its first call, offboarded
-- (active = false): lisd then answers nothing for it, and its tokens stop working.
ALTER TABLE endpoint ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE endpoint ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE endpoint ADD COLUMN deactivated_at timestamptz;
ALTER TABLE endpoint ADD CONSTRAINT endpoint_deactivated
	CHECK (active = (deactivated_at IS NULL));

-- A per-device API token (softphone integrations), issued by `lisctl token issue`: the
-- secret is shown once; only its SHA-256 is kept. prefix (the secret's first characters)
-- names the token in lists and logs. It acts for user_key, through endpoint_key when
-- issued for a device. Revoked, expired, or its user or endpoint deactivated: refused.
CREATE TABLE api_token (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	prefix       text NOT NULL,
	user_key     text NOT NULL CHECK (user_key ~ '^\S+$'),
	endpoint_key text REFERENCES endpoint (key) ON UPDATE CASCADE ON DELETE CASCADE,
	label        text,
	created_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz,
	revoked_at   timestamptz,
	last_used_at timestamptz
);
CREATE INDEX api_token_user_idx ON api_token (user_key);

-- A sign-in session of the self-service page: the cookie carries the secret, the table its
-- SHA-256, so a database reader cannot take over a session. csrf is the session's
-- anti-forgery token, echoed by every form and API write. Sign-out, expiry and the user's
-- deactivation end it.
CREATE TABLE web_session (
	id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
	user_key     text NOT NULL CHECK (user_key ~ '^\S+$'),
	method       text NOT NULL CHECK (method IN ('oidc', 'ldap')),
	csrf         text NOT NULL,
	from_addr    text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);
CREATE INDEX web_session_user_idx ON web_session (user_key);
CREATE INDEX web_session_expires_idx ON web_session (expires_at);

-- The change feed (0006): a user's deactivation changes what lisd answers; the table is
-- small, so a change reloads the snapshot. (endpoint already has its keyed triggers.)
CREATE TRIGGER lis_user_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lis_user
	FOR EACH STATEMENT EXECUTE FUNCTION lis_change_log();
