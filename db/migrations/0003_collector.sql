-- 0003: what the collector (wiremapd) needs: how to poll each switch, the status of its
-- polls, the LLDP neighbours it heard, and the history of MACs moving between ports.
-- Only the switch columns are wiremap input (switch keeps its NOTIFY trigger); the new
-- tables are the collector's own bookkeeping and notify nobody.

-- Polled at mgmt_address (NULL: not polled). Credentials never live here: snmp_profile
-- names a [snmp.NAME] profile of wiremapd.conf (NULL: its [snmp] default profile).
-- poll_interval NULL: wiremapd.conf's [poll] interval.
ALTER TABLE switch
	ADD COLUMN snmp_profile text CHECK (snmp_profile ~ '^[A-Za-z0-9_.-]+$'),
	ADD COLUMN poll_interval integer CHECK (poll_interval > 0),
	ADD COLUMN poll_enabled boolean NOT NULL DEFAULT true,
	ADD COLUMN snmp_port integer NOT NULL DEFAULT 161
		CHECK (snmp_port BETWEEN 1 AND 65535);

-- One row per polled switch, written after every poll. last_error is shown to operators
-- and never holds a credential.
CREATE TABLE switch_poll_status (
	switch_id            bigint PRIMARY KEY REFERENCES switch (id) ON DELETE CASCADE,
	last_attempt         timestamptz,
	last_success         timestamptz,
	last_error           text,
	consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
	rows_seen            integer CHECK (rows_seen >= 0),
	uplink_ports         text[]
);

-- lldpRemTable as last heard: who sits on which local port. Subtypes are the LLDP-MIB
-- names (macAddress, networkAddress, interfaceName, local, ...); an ID the agent left
-- empty is ''. Kept like bindings: first_seen/last_seen, never deleted by a poll.
CREATE TABLE lldp_neighbor (
	switch_id         bigint NOT NULL REFERENCES switch (id) ON DELETE CASCADE,
	local_port_id     text NOT NULL,
	chassis_subtype   text,
	chassis_id        text NOT NULL,
	port_subtype      text,
	port_id           text NOT NULL,
	sys_name          text,
	sys_capabilities  text,
	is_network_device boolean NOT NULL DEFAULT false,
	med_model         text,
	med_serial        text,
	med_software      text,
	med_mfg           text,
	first_seen        timestamptz NOT NULL,
	last_seen         timestamptz NOT NULL,
	PRIMARY KEY (switch_id, local_port_id, chassis_id, port_id),
	CONSTRAINT lldp_neighbor_seen_order CHECK (first_seen <= last_seen)
);
CREATE INDEX lldp_neighbor_chassis_id_idx ON lldp_neighbor (chassis_id);

-- A MAC seen on a (switch, port) other than where its newest mac-port binding was: the
-- history auditors ask for ("where was this phone on the 3rd?"). Append-only. No foreign
-- keys: the history outlives the switches it names.
CREATE TABLE mac_move (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mac            macaddr NOT NULL,
	from_switch_id bigint NOT NULL,
	from_port_id   text NOT NULL,
	to_switch_id   bigint NOT NULL,
	to_port_id     text NOT NULL,
	moved_at       timestamptz NOT NULL,
	source         text NOT NULL
);
CREATE INDEX mac_move_mac_idx ON mac_move (mac, moved_at);
CREATE INDEX mac_move_moved_at_idx ON mac_move (moved_at);
