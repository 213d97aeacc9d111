#!/usr/bin/env bash
# Quickstart: build lisd and lisctl, start a private PostgreSQL cluster and lisd on this
# machine's loopback, load the sample wiremap, and ask lisd for a location over HTTPS.
#
#   deploy/quickstart.sh          set up (or reuse) everything and show one HELD exchange
#   deploy/quickstart.sh stop     stop lisd and the PostgreSQL cluster (the data stays)
#   deploy/quickstart.sh switches after the first: simulate the sample's switches on loopback
#                                 (snmpsimd, deploy/sample/snmp/), poll them with
#                                 `wiremapd --once`, move a phone, show lisd following it
#
# State lives in .run/ in the project directory: pg/ (cluster), pgsock/ (its Unix socket),
# tls/ (a throwaway self-signed certificate), spool/ (lisd's query log spool), lis.conf,
# lisd.log, lisd.pid, postgres.log; for `switches`, snmp/ (one folder per simulated switch),
# wiremapd.conf, wiremapd.log. snmpsimd runs as nobody too when the script runs as root.
# Run as root, it installs missing packages, runs PostgreSQL as user postgres and lisd as user
# nobody (group nogroup; lis.conf [server] user): lisd binds and reads its key as root, then
# drops to that user, which PostgreSQL (peer authentication) knows as role lisd, not as the
# superuser. Run as anyone else, both run as that user.
# Environment: LIS_PORT (default 8443). Running it again reuses the cluster and restarts lisd.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN="$ROOT/.run"
PGDATA_DIR="$RUN/pg"
SOCK="$RUN/pgsock"
PORT="${LIS_PORT:-8443}"
BUILD="$ROOT/build"
CONNINFO="host=$SOCK user=postgres dbname=lis"
# lisd's user when the quickstart runs as root (nobody exists on every Debian system), and
# the database role that user is: it may read the wiremap and append to the query log.
LISD_USER=nobody
LISD_GROUP=nogroup
LISD_ROLE=lisd

PACKAGES=(
	gcc make meson ninja-build pkg-config python3
	libmicrohttpd-dev libgnutls28-dev libxml2-dev libxml2-utils libpq-dev liburcu-dev
	libjansson-dev libsnmp-dev libnl-3-dev libnl-route-3-dev libcurl4-openssl-dev
	postgresql libinih-dev libcsv-dev zlib1g-dev curl openssl ca-certificates util-linux acl
)

say() { printf '==> %s\n' "$*"; }
die() { printf 'quickstart: error: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# Run a command as the PostgreSQL server's user: postgres when we are root, else ourselves.
as_pg() {
	if [ "$IS_ROOT" -eq 1 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Let USER pass through (x, not read) every directory from / down to DIR that it cannot, with
# an ACL entry that names only that user, and say so. A clone under /root (mode 700) is the
# usual case.
let_pass() {
	local user=$1 dir=$2 d
	runuser -u "$user" -- test -x "$dir" 2>/dev/null && return 0
	d=$dir
	while :; do
		if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then
			command -v setfacl >/dev/null ||
				die "user $user cannot reach $dir, and setfacl is missing (apt-get install acl)"
			setfacl -m "u:$user:x" "$d" ||
				die "cannot let user $user pass through $d (setfacl failed)"
			say "let user $user pass through $d (ACL u:$user:x; undo: setfacl -x u:$user $d)"
		fi
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
	runuser -u "$user" -- test -x "$dir" 2>/dev/null ||
		die "user $user cannot reach $dir; put the project somewhere like /srv or /opt"
}

pg_bindir() {
	local d best="" v bestv=-1
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/postgres" ] || continue
		v=$(basename "$(dirname "$d")")
		case "$v" in *[!0-9]*) continue ;; esac
		if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$d; fi
	done
	[ -n "$best" ] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
	printf '%s\n' "$best"
}

lisd_running() {
	[ -f "$RUN/lisd.pid" ] || return 1
	local pid
	pid=$(cat "$RUN/lisd.pid" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		grep -q lisd "/proc/$pid/cmdline" 2>/dev/null
}

stop_lisd() {
	if lisd_running; then
		local pid
		pid=$(cat "$RUN/lisd.pid")
		say "stopping lisd (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "lisd did not stop in 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$RUN/lisd.pid"
}

stop_pg() {
	[ -f "$PGDATA_DIR/PG_VERSION" ] || return 0
	local bin
	bin=$(pg_bindir)
	if as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
		say "stopping PostgreSQL ($PGDATA_DIR)"
		as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
	fi
}

# ---- deploy/quickstart.sh switches ----
SNMP_RUN="$RUN/snmp"
PHONE_IP=127.0.0.2      # the noc-phone, in chi-hq-sw2's ARP table (deploy/sample/snmp/)

stop_agents() {
	local f pid
	for f in "$SNMP_RUN"/*/snmpsimd.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null || true)
		if [ -n "$pid" ] && grep -q snmpsimd "/proc/$pid/cmdline" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

# The switches wiremapd will poll, key|address|port a line, in POLLED; each must be on
# loopback, or the demo stops before anything is polled.
polled_switches() {
	local key addr port
	POLLED=$("$(pg_bindir)/psql" -h "$SOCK" -U postgres -d lis -XAt -F'|' -v ON_ERROR_STOP=1 \
		-c "SELECT key, host(mgmt_address), snmp_port FROM switch
		    WHERE poll_enabled AND mgmt_address IS NOT NULL ORDER BY key") ||
		die "cannot read the switch table"
	while IFS='|' read -r key addr port; do
		case "$addr" in
		'' | 127.* | ::1) ;;
		*) die "switch $key is managed at $addr: this demo polls only simulated switches on loopback" ;;
		esac
	done <<<"$POLLED"
}

# One snmpsimd per polled switch, on its address and port, answering community public from
# deploy/sample/snmp/STATE/SWITCH.snmprec. As root it runs as nobody.
start_agents() {
	local state=$1 key addr port d ep
	stop_agents
	while IFS='|' read -r key addr port; do
		[ -n "$key" ] || continue
		[ -f "deploy/sample/snmp/$state/$key.snmprec" ] ||
			die "no recording deploy/sample/snmp/$state/$key.snmprec for switch $key"
		d="$SNMP_RUN/$key"
		rm -rf "$d"
		mkdir -p "$d/data" "$d/cache"
		cp "deploy/sample/snmp/$state/$key.snmprec" "$d/data/public.snmprec"
		ep="--agent-udpv4-endpoint=$addr:$port"
		[ "$addr" = ::1 ] && ep="--agent-udpv6-endpoint=[::1]:$port"
		args=(--data-dir="$d/data" --cache-dir="$d/cache" "$ep"
			--logging-method=file:"$d/snmpsimd.log")
		if [ "$IS_ROOT" -eq 1 ]; then
			chown -R "$LISD_USER:$LISD_GROUP" "$d"
			args+=(--process-user="$LISD_USER" --process-group="$LISD_GROUP")
		fi
		HOME=$d nohup /usr/bin/snmpsimd "${args[@]}" </dev/null >"$d/snmpsimd.out" 2>&1 &
		echo $! >"$d/snmpsimd.pid"
	done <<<"$POLLED"
}

# wiremapd --once until every switch answered (the agents take a moment to start).
poll_switches() {
	for _ in $(seq 1 20); do
		if "$WIREMAPD" -c "$RUN/wiremapd.conf" --once >"$RUN/wiremapd.log" 2>&1; then
			sed 's/^/    /' "$RUN/wiremapd.log"
			return 0
		fi
		sleep 0.5
	done
	sed 's/^/    /' "$RUN/wiremapd.log"
	die "wiremapd --once: some switch did not answer (agents' logs in $SNMP_RUN/*/)"
}

wiremap_loads() { grep -c ' wiremap loaded ' "$RUN/lisd.log" 2>/dev/null || true; }
phone_lines() { grep -c "requester=$PHONE_IP " "$RUN/lisd.log" 2>/dev/null || true; }

# Ask lisd for the phone's location, from the phone's address, once lisd has loaded the
# wiremap wiremapd changed (it reloads on the change's notification), and say where it is.
ask_as_phone() {
	local before=$1 loc src where asked
	for _ in $(seq 1 50); do
		[ "$(wiremap_loads)" -gt "$before" ] && break
		sleep 0.1
	done
	asked=$(phone_lines)
	curl -sS --noproxy '*' --cacert "$RUN/tls/cert.pem" --max-time 10 --interface "$PHONE_IP" \
		-H 'Content-Type: application/held+xml' --data-binary @deploy/sample/request.xml \
		-o "$RUN/phone.xml" "https://127.0.0.1:$PORT/held" || die "the HELD request failed"
	where=$(xmllint --xpath 'concat("floor ", string(//*[local-name()="FLR"][1]), ", room ",
		string(//*[local-name()="ROOM"][1]), " (", string(//*[local-name()="LOC"][1]), ")")' \
		"$RUN/phone.xml" 2>/dev/null || echo '?')
	# lisd writes its line per answer a few milliseconds late (lisd(8) LOGGING)
	for _ in $(seq 1 100); do
		[ "$(phone_lines)" -gt "$asked" ] && break
		sleep 0.1
	done
	loc=$(grep "requester=$PHONE_IP " "$RUN/lisd.log" | tail -n 1 | grep -o 'location=[^ ]*' || true)
	src=$(grep "requester=$PHONE_IP " "$RUN/lisd.log" | tail -n 1 | grep -o 'source=[^ ]*' || true)
	say "HELD from $PHONE_IP (the noc-phone): $where; lisd: $src $loc"
}

switches_demo() {
	lisd_running || die "lisd is not running: run deploy/quickstart.sh first"
	# the HELD port: [server]'s, not [admin]'s
	PORT=$(sed -n '/^\[server\]/,/^\[/ s/^port *= *//p' "$RUN/lis.conf")
	polled_switches
	if [ ! -x /usr/bin/snmpsimd ]; then
		[ "$IS_ROOT" -eq 1 ] ||
			die "snmpsimd is missing (run as root, or: apt-get install --no-install-recommends snmpsim)"
		say "installing snmpsim"
		apt-get update </dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends snmpsim </dev/null
	fi
	[ -x /usr/bin/python3 ] && export PATH="/usr/bin:$PATH"
	say "building wiremapd in build/"
	ninja -C "$BUILD" wiremap/wiremapd/wiremapd >/dev/null
	WIREMAPD="$BUILD/wiremap/wiremapd/wiremapd"
	cat >"$RUN/wiremapd.conf" <<-EOF
		; Written by deploy/quickstart.sh switches: the quickstart's database, the simulated
		; switches (community public), no kernel neighbour table.
		[database]
		conninfo = $CONNINFO
		[snmp]
		version = 2c
		community = public
		[poll]
		timeout_ms = 1000
		retries = 1
		[netlink]
		enabled = false
	EOF
	chmod 600 "$RUN/wiremapd.conf"
	mkdir -p "$SNMP_RUN"
	[ "$IS_ROOT" -eq 1 ] && let_pass "$LISD_USER" "$SNMP_RUN"
	trap stop_agents EXIT

	ask_as_phone "$(wiremap_loads)"
	local n
	say "simulated switches on loopback, as the sample has them (deploy/sample/snmp/before):"
	start_agents before
	sed 's/^/    /; s/|/ at /; s/|/ port /' <<<"$POLLED"
	n=$(wiremap_loads)
	say "wiremapd --once"
	poll_switches
	ask_as_phone "$n"
	say "the noc-phone is carried to the lobby, chi-hq-sw1 Gi1/0/1 (deploy/sample/snmp/after)"
	start_agents after
	n=$(wiremap_loads)
	say "wiremapd --once"
	poll_switches
	ask_as_phone "$n"
	stop_agents
	trap - EXIT
	say "simulated switches stopped; the bindings wiremapd wrote stay (lisctl explain --ip $PHONE_IP)"
}

case "${1:-}" in
"") ;;
stop)
	stop_agents
	stop_lisd
	stop_pg
	say "stopped (state kept in $RUN; remove it to start from scratch)"
	exit 0
	;;
switches)
	switches_demo
	exit 0
	;;
*) die "usage: deploy/quickstart.sh [stop | switches]" ;;
esac

# 1. Packages.
missing=()
for p in "${PACKAGES[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$IS_ROOT" -ne 1 ]; then
		die "missing packages (run as root, or install them): apt-get install --no-install-recommends ${missing[*]}"
	fi
	say "installing ${missing[*]}"
	apt-get update </dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi
[ -x /usr/bin/python3 ] && export PATH="/usr/bin:$PATH"

# 2. Build (release).
say "building lisd and lisctl in build/"
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >/dev/null
fi
ninja -C "$BUILD" lis/lisd/lisd lis/lisctl/lisctl >/dev/null
LISD="$BUILD/lis/lisd/lisd"
LISCTL="$BUILD/lis/lisctl/lisctl"

# 3. PostgreSQL, private to this directory.
mkdir -p "$RUN"
chmod 755 "$RUN"
[ -d "$SOCK" ] || { mkdir "$SOCK" && chmod 700 "$SOCK"; }
# Only its owner enters the socket directory (and, as root, lisd's user through the ACL entry
# below: a chmod to 700 would clear it, this keeps it).
chmod g-rw,o-rwx "$SOCK"
if [ "$IS_ROOT" -eq 1 ]; then
	chown postgres: "$SOCK"
	let_pass postgres "$RUN"
	# lisd, once it has dropped to its user, connects through the socket and reopens its
	# spool by name: that user passes through .run/ and into pgsock/, and reads nothing.
	let_pass "$LISD_USER" "$SOCK"
fi
PGBIN=$(pg_bindir)
stop_lisd
if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
	say "creating a PostgreSQL cluster in .run/pg"
	mkdir -p "$PGDATA_DIR"
	[ "$IS_ROOT" -eq 1 ] && chown postgres: "$PGDATA_DIR"
	chmod 700 "$PGDATA_DIR"
	as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --no-locale >/dev/null
fi
if [ "$IS_ROOT" -eq 1 ]; then
	# initdb's trust would make anyone who reaches the socket any role, superuser included,
	# and lisd's user reaches it (so does every other process of that user). Peer
	# authentication maps system users to roles: root and postgres are the superuser,
	# lisd's user only the role lisd (root may be lisd too: lisd connects in the background
	# from its start, before it drops root). Rewritten on every run (reloaded below).
	printf '%s\n' "# Written by deploy/quickstart.sh: system users by peer authentication." \
		"local all all peer map=quickstart" | as_pg tee "$PGDATA_DIR/pg_hba.conf" >/dev/null
	printf '%s\n' "# Written by deploy/quickstart.sh: system user, role." \
		"quickstart root postgres" "quickstart postgres postgres" \
		"quickstart root $LISD_ROLE" "quickstart $LISD_USER $LISD_ROLE" |
		as_pg tee "$PGDATA_DIR/pg_ident.conf" >/dev/null
fi
touch "$RUN/postgres.log"
[ "$IS_ROOT" -eq 1 ] && chown postgres: "$RUN/postgres.log"
if as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
	say "PostgreSQL already running; reusing it"
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
else
	say "starting PostgreSQL on a Unix socket in .run/pgsock (no TCP)"
	if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$RUN/postgres.log" -w -t 60 \
		-o "-k $SOCK -c listen_addresses=" start >/dev/null; then
		tail -n 20 "$RUN/postgres.log" >&2 || true
		die "PostgreSQL did not start (log above: $RUN/postgres.log)"
	fi
fi
if [ "$("$PGBIN/psql" -h "$SOCK" -U postgres -d postgres -XAtc \
	"SELECT 1 FROM pg_database WHERE datname = 'lis'")" != "1" ]; then
	"$PGBIN/createdb" -h "$SOCK" -U postgres lis
fi

# 4. Schema and sample wiremap (both are no-ops when already done).
say "lisctl db migrate"
"$LISCTL" --db "$CONNINFO" db migrate
LISD_CONNINFO=$CONNINFO
if [ "$IS_ROOT" -eq 1 ]; then
	"$PGBIN/psql" -h "$SOCK" -U postgres -d lis -XqAt -v ON_ERROR_STOP=1 <<-EOF
		DO \$\$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$LISD_ROLE') THEN
				CREATE ROLE $LISD_ROLE LOGIN;
			END IF;
		END \$\$;
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO $LISD_ROLE;
		GRANT INSERT ON query_log TO $LISD_ROLE;
	EOF
	LISD_CONNINFO="host=$SOCK user=$LISD_ROLE dbname=lis"
fi
# The sample's bindings (what a collector would have seen) are stamped "seen now" on their
# way in, so that they count as evidence (lis.conf [wiremap] max_binding_age).
mkdir -p "$RUN/sample"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for f in mac_ports ip_macs mac_bssids; do
	awk -F, -v OFS=, -v now="$now" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "last_seen") col = i; print; next }
		{ if (col) $col = now; print }' "deploy/sample/$f.csv" >"$RUN/sample/$f.csv"
done
say "lisctl import deploy/sample/*.csv (bindings stamped $now)"
S=deploy/sample
"$LISCTL" --db "$CONNINFO" import --sites $S/sites.csv --locations $S/locations.csv \
	--subnets $S/subnets.csv --switches $S/switches.csv --ports $S/ports.csv \
	--bssids $S/bssids.csv --endpoints $S/endpoints.csv --mac-ports "$RUN/sample/mac_ports.csv" \
	--ip-macs "$RUN/sample/ip_macs.csv" --mac-bssids "$RUN/sample/mac_bssids.csv"

# 5. A throwaway certificate for 127.0.0.1 / ::1 / localhost.
mkdir -p "$RUN/tls"
chmod 700 "$RUN/tls"
if [ ! -s "$RUN/tls/cert.pem" ] || [ ! -s "$RUN/tls/key.pem" ]; then
	say "making a self-signed TLS certificate in .run/tls"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/tls/key.pem" \
		-out "$RUN/tls/cert.pem" -days 30 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" 2>/dev/null
	chmod 600 "$RUN/tls/key.pem"
fi

# 6. lis.conf from the example, paths pointing into .run/ ([admin] keeps its own port).
sed -e "s|^listen *=.*|listen = 127.0.0.1|" \
    -e "/^\[server\]/,/^\[/ s|^port *=.*|port = $PORT|" \
    -e "s|^tls_cert *=.*|tls_cert = $RUN/tls/cert.pem|" \
    -e "s|^tls_key *=.*|tls_key = $RUN/tls/key.pem|" \
    -e "s|^conninfo *=.*|conninfo = $LISD_CONNINFO|" \
    -e "s|^threads *=.*|threads = 2|" \
    -e "s|^spool_dir *=.*|spool_dir = $RUN/spool|" \
    deploy/lis.conf.example >"$RUN/lis.conf"
if [ "$IS_ROOT" -eq 1 ]; then
	sed -i -e "s|^;\{0,1\}user *=.*|user = $LISD_USER|" \
	       -e "s|^;\{0,1\}group *=.*|group = $LISD_GROUP|" "$RUN/lis.conf"
	grep -qx "user = $LISD_USER" "$RUN/lis.conf" ||
		die "deploy/lis.conf.example has no [server] user line to set"
	LISD_AS="user $LISD_USER, group $LISD_GROUP (started as root: it binds and reads its key, then drops to them; database role $LISD_ROLE)"
else
	LISD_AS="user $(id -un) (the quickstart's user)"
fi
chmod 600 "$RUN/lis.conf"
"$LISD" -c "$RUN/lis.conf" --check-config >/dev/null ||
	die "lisd refused $RUN/lis.conf"

# 7. lisd in the background.
say "starting lisd on https://127.0.0.1:$PORT/held as $LISD_AS"
: >"$RUN/lisd.log"
nohup "$LISD" -c "$RUN/lis.conf" </dev/null >>"$RUN/lisd.log" 2>&1 &
echo $! >"$RUN/lisd.pid"
disown 2>/dev/null || true

fail_with_log() {
	echo "--- last lines of $RUN/lisd.log:" >&2
	tail -n 20 "$RUN/lisd.log" >&2 || true
	die "$1"
}

CURL=(curl -sS --noproxy '*' --cacert "$RUN/tls/cert.pem" --max-time 10)
up=0
for _ in $(seq 1 100); do
	lisd_running || fail_with_log "lisd exited at start-up"
	if "${CURL[@]}" -o /dev/null "https://127.0.0.1:$PORT/" 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.1
done
[ "$up" -eq 1 ] || fail_with_log "lisd does not answer on https://127.0.0.1:$PORT/"

# 8. One HELD exchange. lisd loads the wiremap into memory just after it starts: until then
# it answers generalLisError, so ask again for a few seconds.
say "POST deploy/sample/request.xml to https://127.0.0.1:$PORT/held"
xmllint --format deploy/sample/request.xml | sed -n '2,$p'
for _ in $(seq 1 50); do
	if ! "${CURL[@]}" -H 'Content-Type: application/held+xml' \
		--data-binary @deploy/sample/request.xml -o "$RUN/response.xml" \
		"https://127.0.0.1:$PORT/held"; then
		fail_with_log "the HELD request failed"
	fi
	code=$(xmllint --xpath 'string(/*[local-name()="error"]/@code)' "$RUN/response.xml" \
		2>/dev/null || true)
	[ "$code" = generalLisError ] || break
	sleep 0.1
done
say "answer (PIDF-LO inside a HELD locationResponse):"
xmllint --format "$RUN/response.xml" || fail_with_log "lisd's answer is not XML"
root=$(xmllint --xpath 'local-name(/*)' "$RUN/response.xml" 2>/dev/null || true)
[ "$root" = "locationResponse" ] || fail_with_log "lisd answered with a HELD $root, not a location"

cat <<EOF

lisd is running (pid $(cat "$RUN/lisd.pid")) as user $(stat -c %U "/proc/$(cat "$RUN/lisd.pid")" 2>/dev/null || echo '?'), log in .run/lisd.log.
Ask again:
  curl --cacert .run/tls/cert.pem -H 'Content-Type: application/held+xml' \\
       --data-binary @deploy/sample/request.xml https://127.0.0.1:$PORT/held
See how it would locate a device, step by step (the test mode; no call needed):
  $LISCTL --db "$CONNINFO" explain --mac 00:04:f2:11:22:44
Watch wiremapd follow a phone from switch to switch (simulated switches on 127.0.0.1):
  deploy/quickstart.sh switches
Stop lisd and PostgreSQL:
  deploy/quickstart.sh stop
EOF
