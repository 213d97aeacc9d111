#!/usr/bin/env bash
# A real LLDP exchange, seen through SNMP by wiremapd, and the libnl path (TAP; root only).
#
# Namespaces made here and nowhere else:
#   lisT<pid>a, lisT<pid>b   two hosts (eth0, fixed MACs 02:11:22:33:44:0a / :0b), lldpd each
#                            (LLDP-MED class III), on the bridge segment 198.18.X.0/24
#   lisT<pid>s               the "switch": a Linux bridge br0 over swpa/swpb (the hosts' veth
#                            peers), lldpd with its AgentX sub-agent (-x), Net-SNMP snmpd as
#                            AgentX master, its agent on mgmt0 = 169.254.Y.2, joined to the
#                            root namespace by a veth (root side lisT<pid>u = 169.254.Y.1/30)
# Then: lldpd in the switch sees both hosts; snmpwalk of lldpRemTable from the root namespace
# shows them; `wiremapd --once` (root namespace, a throwaway PostgreSQL on a Unix socket) polls
# the switch and writes them to lldp_neighbor; after a ping from host a to host b,
# `ip netns exec lisT<pid>a wiremapd --once` writes b's IP -> MAC with source 'netlink'.
# Everything started here is stopped and every namespace removed at exit, even on failure.
#
# Environment (meson sets it): LIS_WIREMAPD, LIS_LISCTL. Traffic goes only to the namespaces
# made here: 169.254.Y.0/30 joins the root namespace to the switch namespace; the hosts'
# segment 198.18.X.0/24 (RFC 2544 benchmarking range, never routed) exists only between the
# namespaces (wiremapd rightly ignores link-local neighbours, so the hosts cannot use 169.254).
set -u

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

[ "$(id -u)" -eq 0 ] || skip_all "not root / no netns (network namespaces need root)"
command -v ip >/dev/null || skip_all "not root / no netns (iproute2 missing)"
probe=lisTprobe$$
ip netns add "$probe" 2>/dev/null || skip_all "not root / no netns (ip netns add failed)"
# In a chroot whose / is not a mount point, `ip netns add` works but entering a namespace
# does not (mount --make-rslave / fails): that is "cannot make namespaces here" too.
if ! ip netns exec "$probe" true 2>/dev/null; then
	ip netns del "$probe" 2>/dev/null
	skip_all "no netns (ip netns exec failed: / is not a mount point here, e.g. a chroot)"
fi
ip netns del "$probe"
for t in lldpd lldpcli snmpd snmpwalk setpriv psql; do
	command -v "$t" >/dev/null || skip_all "$t not installed (apt-get install lldpd snmpd snmp)"
done

WIREMAPD=${LIS_WIREMAPD:-wiremapd}
LISCTL=${LIS_LISCTL:-lisctl}

NS_A=lisT$$a
NS_B=lisT$$b
NS_S=lisT$$s
UPLINK=lisT$$u
X=$((100 + ($$ % 60) * 2))          # hosts' bridge segment 198.18.X.0/24
Y=$((X + 1))                        # management link 169.254.Y.0/30
IP_A=198.18.$X.11
IP_B=198.18.$X.12
MGMT=169.254.$Y.2
MAC_A=02:11:22:33:44:0a
MAC_B=02:11:22:33:44:0b
COMMUNITY=lisns$$
TMP=$(mktemp -d /tmp/lis-netns-XXXXXX)
chmod 755 "$TMP"
PIDS=()
PG_PID=

# Running and not a zombie (exited children stay zombies until the shell reaps them).
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }

cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$PG_PID" ]; then kill -INT "$PG_PID" 2>/dev/null; fi
	for _ in $(seq 100); do
		local any=0
		for p in "${PIDS[@]}" $PG_PID; do alive "$p" && any=1; done
		[ $any -eq 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}" $PG_PID; do alive "$p" && kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$NS_A" "$NS_B" "$NS_S"; do
		# anything still running inside a namespace of ours was started by us
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	ip link del "$UPLINK" 2>/dev/null
	[ -n "${TH_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
bg_in_ns() {  # bg_in_ns NS LOG CMD...: start in the background, remember the pid
	local ns=$1 log=$2; shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	PIDS+=($!)
}
wait_for() {  # wait_for SECONDS CMD...: true once CMD succeeds
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
	return 1
}

# ---- the topology ----
topo_err=$( {
	set -e
	for ns in "$NS_A" "$NS_B" "$NS_S"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
	ip -n "$NS_S" link add br0 type bridge
	ip -n "$NS_S" link set br0 up
	for h in a b; do
		ns=lisT$$$h
		ip link add eth0 netns "$ns" type veth peer name "swp$h" netns "$NS_S"
		ip -n "$NS_S" link set "swp$h" master br0 up
	done
	ip -n "$NS_A" link set eth0 address "$MAC_A" up
	ip -n "$NS_B" link set eth0 address "$MAC_B" up
	ip -n "$NS_A" addr add "$IP_A/24" dev eth0
	ip -n "$NS_B" addr add "$IP_B/24" dev eth0
	ip link add "$UPLINK" type veth peer name mgmt0 netns "$NS_S"
	ip addr add "169.254.$Y.1/30" dev "$UPLINK"
	ip link set "$UPLINK" up
	ip -n "$NS_S" addr add "$MGMT/30" dev mgmt0
	ip -n "$NS_S" link set mgmt0 up
	} 2>&1)
if [ $? -eq 0 ]; then
	ok "namespaces, veth pairs and a bridge"
else
	not_ok "namespaces, veth pairs and a bridge" "$topo_err"
	echo "1..$n"; exit 1
fi

# ---- snmpd (AgentX master) and lldpd in each namespace ----
mkdir -p /run/lldpd "$TMP/snmp-persist"
cat >"$TMP/snmpd.conf" <<EOF
agentaddress udp:$MGMT:161
rocommunity $COMMUNITY 169.254.$Y.0/30
master agentx
agentXSocket $TMP/agentx.sock
agentXPerms 0777 0777
EOF
bg_in_ns "$NS_S" "$TMP/snmpd.log" env SNMP_PERSISTENT_DIR="$TMP/snmp-persist" MIBS= \
	snmpd -f -Lo -C -c "$TMP/snmpd.conf" -p "$TMP/snmpd.pid"
wait_for 10 test -S "$TMP/agentx.sock"

for h in a b s; do
	{
		[ $h = s ] && echo "configure system hostname lisT-switch-$$" ||
			echo "configure system hostname lisT-host-$h-$$"
		echo "configure lldp tx-interval 1"
		[ $h = s ] && echo "configure lldp portidsubtype ifname"
	} >"$TMP/lldpd-$h.conf"
done
bg_in_ns "$NS_S" "$TMP/lldpd-s.log" lldpd -d -x -X "$TMP/agentx.sock" -u "$TMP/lldpd-s.sock" \
	-p "$TMP/lldpd-s.pid" -I swpa,swpb -M 4 -O "$TMP/lldpd-s.conf"
bg_in_ns "$NS_A" "$TMP/lldpd-a.log" lldpd -d -u "$TMP/lldpd-a.sock" -p "$TMP/lldpd-a.pid" \
	-I eth0 -M 3 -O "$TMP/lldpd-a.conf"
bg_in_ns "$NS_B" "$TMP/lldpd-b.log" lldpd -d -u "$TMP/lldpd-b.sock" -p "$TMP/lldpd-b.pid" \
	-I eth0 -M 3 -O "$TMP/lldpd-b.conf"

neighbours() { lldpcli -u "$TMP/lldpd-s.sock" -f keyvalue show neighbors 2>/dev/null; }
both_seen() {
	local nb; nb=$(neighbours)
	grep -q "lisT-host-a-$$" <<<"$nb" && grep -q "lisT-host-b-$$" <<<"$nb"
}
if wait_for 40 both_seen; then
	ok "lldpd in the switch namespace sees both hosts over LLDP"
else
	not_ok "lldpd in the switch namespace sees both hosts over LLDP" \
		"neighbours: $(neighbours | head -20)" "lldpd-s: $(tail -5 "$TMP/lldpd-s.log")" \
		"lldpd-a: $(tail -5 "$TMP/lldpd-a.log")"
fi

# ---- lldpRemTable through snmpd + the AgentX sub-agent, from the root namespace ----
rem_names() {
	snmpwalk -v2c -c "$COMMUNITY" -t 1 -r 1 -On -Oq "$MGMT" 1.0.8802.1.1.2.1.4.1.1.9 2>&1
}
rem_both() {
	local w; w=$(rem_names)
	grep -q "lisT-host-a-$$" <<<"$w" && grep -q "lisT-host-b-$$" <<<"$w"
}
if wait_for 30 rem_both; then
	ok "lldpRemTable (snmpd + lldpd AgentX) lists both hosts"
	diag "$(rem_names)"
else
	not_ok "lldpRemTable (snmpd + lldpd AgentX) lists both hosts" "snmpwalk: $(rem_names)" \
		"snmpd: $(tail -5 "$TMP/snmpd.log")" "lldpd-s: $(tail -5 "$TMP/lldpd-s.log")"
fi

# ---- a throwaway PostgreSQL (Unix socket only, as user postgres) ----
pg_bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PGDIR=$TMP/pg
mkdir -p "$PGDIR"
chown postgres: "$PGDIR"
CONNINFO="host=$PGDIR user=postgres dbname=lis"
as_postgres() { setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; }
pg_err=$(as_postgres "$pg_bindir/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 \
	--no-locale --no-sync 2>&1 >/dev/null)
pg_ok=0
if [ $? -eq 0 ]; then
	# setpriv execs postgres, so $! is the postmaster itself (a function would fork)
	setpriv --reuid=postgres --regid=postgres --clear-groups -- "$pg_bindir/postgres" \
		-D "$PGDIR/data" -k "$PGDIR" -c listen_addresses= -c fsync=off \
		>"$PGDIR/postgres.log" 2>&1 &
	PG_PID=$!
	if wait_for 30 "$pg_bindir/pg_isready" -q -h "$PGDIR" &&
		psql -q -h "$PGDIR" -U postgres -d postgres -c "CREATE DATABASE lis" >/dev/null 2>&1 &&
		"$LISCTL" --db "$CONNINFO" db migrate >"$TMP/migrate.log" 2>&1; then
		pg_ok=1
	else
		pg_err="$(tail -5 "$PGDIR/postgres.log") $(cat "$TMP/migrate.log" 2>/dev/null)"
	fi
fi
sql() { psql -qAt -h "$PGDIR" -U postgres -d lis -c "$1" 2>&1; }

# the switch, as an operator would add it
chassis=$(snmpwalk -v2c -c "$COMMUNITY" -t 1 -r 1 -Oqv "$MGMT" 1.0.8802.1.1.2.1.3.2.0 2>/dev/null |
	tr -d '"' | tr 'A-F ' 'a-f:' | sed 's/:$//')
[ -n "$chassis" ] || chassis=02:00:00:00:00:53
cat >"$TMP/sites.csv" <<EOF
site,name,description,default_location,allow_default
ns,Namespace lab,netns_lldp.sh,,false
EOF
cat >"$TMP/locations.csv" <<EOF
location,site,lang,country,A1,A3,RD,STS,HNO,PC,BLD,FLR,ROOM,LOC
ns-lab,ns,en-US,US,NY,New York,Broadway,ST,1,10001,Lab,1,1,
EOF
cat >"$TMP/switches.csv" <<EOF
switch,site,chassis_id,mgmt_address,location,description,snmp_profile,snmp_port,poll_interval,poll_enabled
sw-ns,ns,$chassis,$MGMT,ns-lab,the switch namespace,,161,,true
EOF
if [ $pg_ok -eq 1 ] && "$LISCTL" --db "$CONNINFO" import --sites "$TMP/sites.csv" \
	--locations "$TMP/locations.csv" --switches "$TMP/switches.csv" >"$TMP/import.log" 2>&1; then
	ok "PostgreSQL migrated, the switch imported (mgmt_address $MGMT, chassis $chassis)"
else
	not_ok "PostgreSQL migrated, the switch imported (mgmt_address $MGMT, chassis $chassis)" \
		"$pg_err" "$(cat "$TMP/import.log" 2>/dev/null)"
	pg_ok=0
fi

write_conf() {  # write_conf FILE NETLINK(true|false)
	cat >"$1" <<EOF
[database]
conninfo = $CONNINFO
[snmp]
version = 2c
community = $COMMUNITY
[poll]
concurrency = 4
timeout_ms = 1000
retries = 2
[netlink]
enabled = $2
[log]
target = stderr
level = info
EOF
}

# ---- wiremapd polls the switch: the LLDP neighbours land in lldp_neighbor ----
if [ $pg_ok -eq 1 ]; then
	write_conf "$TMP/wiremapd.conf" false
	timeout 120 "$WIREMAPD" -c "$TMP/wiremapd.conf" --once >"$TMP/wmd1.out" 2>"$TMP/wmd1.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q "switch=sw-ns.*result=ok" "$TMP/wmd1.err" "$TMP/wmd1.out"; then
		ok "wiremapd --once polls the switch namespace (exit 0, result=ok)"
	else
		not_ok "wiremapd --once polls the switch namespace (exit 0, result=ok)" "exit $rc" \
			"$(tail -c 1500 "$TMP/wmd1.err")"
	fi
	if grep -q "$COMMUNITY" "$TMP/wmd1.out" "$TMP/wmd1.err"; then
		not_ok "wiremapd's output holds no community string"
	else
		ok "wiremapd's output holds no community string"
	fi
	rows=$(sql "SELECT n.local_port_id, n.chassis_id, n.port_id, n.sys_name, n.is_network_device
		FROM lldp_neighbor n JOIN switch s ON s.id = n.switch_id WHERE s.key = 'sw-ns'
		ORDER BY n.sys_name")
	for h in a b; do
		mac=$MAC_A; [ $h = b ] && mac=$MAC_B
		got=$(sql "SELECT count(*) FROM lldp_neighbor n JOIN switch s ON s.id = n.switch_id
			WHERE s.key = 'sw-ns' AND n.sys_name = 'lisT-host-$h-$$' AND n.local_port_id = 'swp$h'
			AND lower(n.chassis_id) = '$mac' AND NOT n.is_network_device")
		if [ "$got" = 1 ]; then
			ok "lldp_neighbor has host $h (chassis $mac) behind its switch port"
		else
			not_ok "lldp_neighbor has host $h (chassis $mac) behind its switch port" \
				"count $got; rows: $rows"
		fi
	done
	diag "lldp_neighbor: $rows"
	st=$(sql "SELECT coalesce(last_error, '-'), rows_seen, last_success IS NOT NULL
		FROM switch_poll_status")
	if grep -q '^-|[0-9]*|t$' <<<"$st"; then
		ok "switch_poll_status: success, no error"
	else
		not_ok "switch_poll_status: success, no error" "$st"
	fi
else
	for c in "wiremapd --once polls the switch namespace" "lldp_neighbor has host a" \
		"lldp_neighbor has host b"; do not_ok "$c" "no database"; done
fi

# ---- libnl: host a pings host b; wiremapd inside a sees b in the neighbour table ----
if command -v ping >/dev/null; then
	in_ns "$NS_A" ping -c 1 -W 2 "$IP_B" >"$TMP/ping.log" 2>&1
else
	# no ping installed: any datagram makes the kernel resolve b's MAC
	in_ns "$NS_A" bash -c "echo x >/dev/udp/$IP_B/9" 2>/dev/null
fi
has_neigh() { in_ns "$NS_A" ip neigh show "$IP_B" | grep -qi "lladdr $MAC_B"; }
if wait_for 5 has_neigh; then
	ok "host a's kernel neighbour table has host b after a ping"
else
	not_ok "host a's kernel neighbour table has host b after a ping" \
		"$(in_ns "$NS_A" ip neigh show)" "$(cat "$TMP/ping.log" 2>/dev/null)"
fi
if [ $pg_ok -eq 1 ]; then
	sql "UPDATE switch SET poll_enabled = false" >/dev/null
	write_conf "$TMP/wiremapd-nl.conf" true
	timeout 60 ip netns exec "$NS_A" "$WIREMAPD" -c "$TMP/wiremapd-nl.conf" --once \
		>"$TMP/wmd2.out" 2>"$TMP/wmd2.err"
	rc=$?
	got=$(sql "SELECT count(*) FROM binding_ip_mac WHERE ip = '$IP_B' AND mac = '$MAC_B'
		AND source = 'netlink' AND last_seen > now() - interval '5 minutes'")
	if [ $rc -eq 0 ] && [ "$got" = 1 ]; then
		ok "wiremapd --once in host a writes $IP_B -> $MAC_B with source netlink"
	else
		not_ok "wiremapd --once in host a writes $IP_B -> $MAC_B with source netlink" \
			"exit $rc, count $got" "binding_ip_mac: $(sql 'SELECT * FROM binding_ip_mac')" \
			"$(tail -c 1500 "$TMP/wmd2.err")"
	fi
else
	not_ok "wiremapd --once in host a writes $IP_B -> $MAC_B with source netlink" "no database"
fi

echo "1..$n"
[ $failed -eq 0 ]
