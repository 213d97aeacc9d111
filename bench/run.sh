#!/usr/bin/env bash
# bench/run.sh: measure lisd against baselines run beside it, in one self-contained run.
#
#  1. HELD over HTTPS with keep-alive: wrk POSTs a locationRequest to lisd (release build,
#     answering from its in-memory snapshot of a wiremap loaded with deploy/sample/*.csv) and
#     to nginx serving lisd's own answer as a static file of the same size over the same
#     certificate and TLS versions; then to lisd again with [notify] enabled (the request is
#     an emergency call: every answer is judged by notifications_for()); then to a lisd
#     for which the client is a remote softphone user on a VPN address with a declared home
#     address (every answer the declared address, method Manual); then to a lisd with the
#     query log off (lisd-q: its price). Prints requests/s, p50, p99 of each and the ratios,
#     and the CPU per answer of lisd, PostgreSQL and nginx. Then lisd and nginx at the same
#     load: h2load at fixed rates (BENCH_SAME_LOAD, shares of lisd's req/s), each
#     BENCH_SAME_ROUNDS times, the round with the median p99 ratio reported: p50, p99 and
#     p99.9 of each and the ratios; as root, lisd again with PostgreSQL yielding (lisd-y:
#     pg_yield); lisd-q at the same rates. Then BENCH_NEW_CONNECTIONS
#     fresh connections with one request each against both (bench/new_conn.py), from a client
#     without and with TCP_NODELAY: handshake and first-answer times.
# 1b. Section 1 again on the largest wiremap of 4 (the lisd of 5): each request names a device
#     of it drawn at random (BENCH_BIG_TARGETS of each kind), against nginx in turns; then the
#     same load on both with one device.
#  2. The SQL baseline: db_lookup_subnet() (the database's longest-prefix match, what lisd ran
#     per request before the in-memory snapshot) at 1k, 100k and 1M subnets: mean, p50,
#     p99 microseconds, the ratio against 1k, the query plan; then the largest size again with
#     the other inet_ops index kind (GiST vs SP-GiST).
#  3. The in-memory wiremap (wm_bench): snapshot build time, bytes per entry, wm_resolve and
#     longest-prefix latency at 10k, 100k and 1M mixed entries (BENCH_WM_SIZES).
#  4. Snapshot reload through PostgreSQL: a wiremap of 10k, 100k and 1M mixed entries filled
#     with SQL (wiremap_fill.sql), wm_snapshot_load() timed (wm_bench --db)
#     (BENCH_RELOAD_SIZES); then lisd on the largest: its first load, BENCH_FULL_RELOADS (5)
#     full reloads forced by a site change, each from its commit to lisd's log line, and
#     lisd's VmRSS before and after them and its peak (VmHWM), and what new memory costs on
#     the machine (wm_bench --fresh).
#  5. Change to answer on the largest: lisd on it under wrk load, BENCH_DELTA_CHANGES (30)
#     UPDATEs, each timed from its commit to the first HELD answer showing it
#     (delta_latency), wrk in a session of its own at the lowest weight (load_elsewhere); the
#     same with wrk in the bench's session (shared); then the same with a lisd reading from
#     a streaming standby.
#  6. Two lisd behind HAProxy (TCP, PROXY protocol v2) against one, the same wrk load
#     against HAProxy.
#
# Everything runs on loopback; the PostgreSQL cluster, TLS cert, configs and logs live in a
# temporary directory removed at exit (BENCH_KEEP=1 keeps it). The report goes to stdout and
# bench/out/report.txt. Knobs (environment): BENCH_DURATION (10s), BENCH_CONNECTIONS (16),
# BENCH_ROUNDS (3: lisd and nginx in turn, the median round reported), BENCH_WRK_THREADS (2),
# BENCH_SERVER_THREADS (2), BENCH_LOOKUPS (20000), BENCH_SUBNETS ("1000 100000 1000000"),
# BENCH_KEY (ec | rsa), BENCH_BUILD (build-bench), BENCH_WHATIF (1: time the other inet_ops
# index kind at the largest size), BENCH_WM_SIZES ("10000 100000 1000000"),
# BENCH_RELOAD_SIZES (the same), BENCH_RELOAD_REPEAT (5), BENCH_FULL_RELOADS (5),
# BENCH_DELTA_CHANGES (30), BENCH_SAME_LOAD ("25 50": percentages of lisd's req/s; "" skips
# the same-load runs), BENCH_SAME_ROUNDS (3), BENCH_BIG_TARGETS (10000), BENCH_NEW_CONNECTIONS (200), BENCH_KEEP (0).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
build=${BENCH_BUILD:-$top/build-bench}
duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-16}
rounds=${BENCH_ROUNDS:-3}
wrk_threads=${BENCH_WRK_THREADS:-2}
same_load=${BENCH_SAME_LOAD-"25 50"}  # set and empty: no same-load runs
same_rounds=${BENCH_SAME_ROUNDS:-3}
new_conns=${BENCH_NEW_CONNECTIONS:-200}
server_threads=${BENCH_SERVER_THREADS:-2}
lookups=${BENCH_LOOKUPS:-20000}
sizes=${BENCH_SUBNETS:-"1000 100000 1000000"}
key_type=${BENCH_KEY:-ec}
out_dir=$here/out
report=$out_dir/report.txt

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages
# Each entry: a Debian package, or alternatives separated by '|' (any one installed will do;
# the first is installed when none is).
packages=(wrk nghttp2-client "nginx-light|nginx|nginx-full|nginx-core" haproxy postgresql openssl
	  curl python3
	  meson ninja-build pkg-config gcc libpq-dev libxml2-dev libmicrohttpd-dev
	  libinih-dev libcsv-dev libgnutls28-dev liburcu-dev libssl-dev libjansson-dev
	  libsnmp-dev libnl-3-dev libnl-route-3-dev
	  "libcurl4-openssl-dev|libcurl4-gnutls-dev")

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

ensure_packages() {
	local missing=() entry alt found
	for entry in "${packages[@]}"; do
		found=
		IFS='|' read -ra alts <<<"$entry"
		for alt in "${alts[@]}"; do
			if is_installed "$alt"; then found=1; break; fi
		done
		[ -n "$found" ] || missing+=("${alts[0]}")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root or install them)"
	say "installing ${missing[*]}"
	# Debian starts a freshly installed nginx/PostgreSQL service; the bench runs its own,
	# so keep the packaged services from starting while we install.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}" >/dev/null; then
		apt-get update >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			"${missing[@]}" >/dev/null || { [ -n "$made_policy" ] && rm -f "$policy"; \
			die "apt-get install ${missing[*]} failed"; }
	fi
	[ -n "$made_policy" ] && rm -f "$policy"
	return 0
}

# ---------------------------------------------------------------- helpers
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# load_elsewhere: a command prefix for a load generator standing in for clients on other
# hosts: a session of its own (setsid; started in the background of a script, which makes it
# no process group leader, setsid does not fork and $! stays its pid) whose autogroup gets
# nice 19, and nice 10 in it: the machine's other work comes first. Without autogroups (a
# kernel without them, or sched_autogroup_enabled = 0) the nice 10 alone is what it gets.
# shellcheck disable=SC2016  # $@ is the inner shell's
load_elsewhere=(setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec "$@"'
	load_elsewhere nice -n 10)
# autogroups: "on" when the kernel weighs sessions against each other ("off" otherwise).
autogroups() {
	if [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] &&
		[ -e /proc/self/autogroup ]; then echo on; else echo off; fi
}

# field LINE KEY: the value of KEY=value in a line of key=value fields.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

# Percent of all CPUs busy over one second, from /proc/stat: other work on the machine.
cpu_busy() {
	local a b
	a=$(head -n1 /proc/stat)
	sleep 1
	b=$(head -n1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x); split(b, y); total = 0
		for (i = 2; i <= n; i++) total += y[i] - x[i]
		idle = (y[5] + y[6]) - (x[5] + x[6])
		busy = 0
		if (total > 0) busy = 100 * (total - idle) / total
		printf "%.0f\n", busy }'
}

# wrk_rps LOG: the Requests/sec of a wrk log, "?" when it has none.
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2; f = 1 } END { if (!f) print "?" }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tls_info() {  # negotiated protocol, cipher suite and key exchange of a TLS server
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | sed -n \
		-e 's/^New, \([^,]*\), Cipher is \(.*\)$/proto=\1 cipher=\2/p' \
		-e 's/^Server Temp Key: ECDH, \([^,]*\).*/kx=\1/p' \
		-e 's/^Server Temp Key: \([^,]*\).*/kx=\1/p' | paste -sd' '
}

# Wait until an HTTPS server answers anything at all on PORT (PID must stay alive meanwhile).
wait_https() {
	local port=$1 pid=$2 name=$3 code
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (log: $4)"
		code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 \
			"https://127.0.0.1:$port/" 2>/dev/null || true)
		[ -n "$code" ] && [ "$code" != 000 ] && return 0
		sleep 0.1
	done
	die "$name did not answer on 127.0.0.1:$port within 10 s (log: $4)"
}

# Wait until lisd has published its first wiremap snapshot (it answers generalLisError
# before that): its log says `wiremap loaded trigger=start`.
wait_loaded() {
	local log=$1 pid=$2 secs=$3
	for _ in $(seq 1 $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || die "lisd exited during start-up (log: $log)"
		grep -q 'wiremap loaded trigger=start' "$log" && return 0
		sleep 0.1
	done
	die "lisd loaded no wiremap snapshot within $secs s (log: $log)"
}

# start_lisd CONF LOG PORT SECS: start lisd in the background, wait until it answers HTTPS
# on PORT and has loaded its snapshot (within SECS); its pid is left in started_pid.
start_lisd() {
	"${lisd_nice[@]}" "$lisd" -c "$1" 2>"$2" &
	started_pid=$!
	wait_https "$3" "$started_pid" lisd "$2"
	wait_loaded "$2" "$started_pid" "$4"
}

# held_post PORT OUT: one HELD request with the bench body; prints the HTTP status.
held_post() {
	curl -sk -o "$2" -w '%{http_code}' --max-time 5 -X POST --data-binary "@$body" \
		-H 'Content-Type: application/held+xml; charset=utf-8' "https://127.0.0.1:$1/held" ||
		true
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# catch_up LOG T0 BEFORE END_MS [DB]: milliseconds from END_MS until PostgreSQL (DB, by default
# the lis database) holds the query log rows (at >= T0) of every HELD answer in lisd's LOG
# past its first BEFORE lines; "" when not within 60 s.
catch_up() {
	local answered stored
	answered=$(( $(grep -c ' held ' "$1" || true) - $3 ))
	for _ in $(seq 1 600); do
		stored=$(psql -X -At "${5:-$db_lis}" -c "SELECT count(*) FROM query_log WHERE at >= '$2'")
		if [ "$stored" -ge "$answered" ]; then echo $(( $(now_ms) - $4 )); return; fi
		sleep 0.1
	done
}

# proc_ticks PID [TASK]: CPU ticks (user + system, 1/CLK_TCK s) of a process (all its threads)
# or of one of its threads; empty when it has gone.
proc_ticks() {
	local stat
	stat=$(cat "/proc/$1${2:+/task/$2}/stat" 2>/dev/null) || return 0
	printf '%s\n' "${stat##*) }" | awk '{ print $12 + $13 }'
}
# worker_tick_list PID: the CPU ticks of each of lisd's request threads (libmicrohttpd's
# workers), one a line.
worker_tick_list() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = MHD-worker ] || continue
		proc_ticks "$1" "${t##*/}"
	done
}
# request_thread_cpu PID: CPU seconds of each of lisd's request threads since it started:
# how evenly the connections were shared among them.
request_thread_cpu() {
	local out
	out=$(worker_tick_list "$1" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f ", $1 / hz }')
	echo "${out:-?}"
}
# worker_ticks PID: the CPU ticks of lisd's request threads together.
worker_ticks() {
	worker_tick_list "$1" | awk '{ s += $1 } END { print s + 0 }'
}
# family_ticks PID: "pid ticks what" lines of a process and its children (PostgreSQL's
# postmaster and its processes; nginx's master and workers): what is "backend" for a
# PostgreSQL process serving a connection (lisd's query log inserter, its change feed) and
# "other" for the rest (the postmaster, checkpointer, WAL writer, autovacuum, ...).
family_ticks() {
	local p what
	for p in "$1" $(pgrep -P "$1"); do
		what=other
		case $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") in
		"postgres: checkpointer"* | "postgres: background writer"* | "postgres: walwriter"* | \
			"postgres: autovacuum"* | "postgres: logical replication"* | \
			"postgres: walsender"* | "postgres: archiver"* | "postgres: stats"*) ;;
		"postgres: "*) what=backend ;;
		esac
		echo "$p $(proc_ticks "$p") $what"
	done
}
# ticks_since BEFORE AFTER [WHAT]: the ticks spent between two family_ticks snapshots by the
# processes alive at the second (a process started between them counts whole; one that ended,
# such as the bench's own psql connections, not at all), or by those of them that are WHAT.
ticks_since() {
	awk -v what="${3:-}" 'NR == FNR { b[$1] = $2; next }
		NF == 3 && (what == "" || $3 == what) { s += $2 - b[$1] } END { print s + 0 }' \
		<(printf '%s\n' "$1") <(printf '%s\n' "$2")
}
# us_per TICKS N: microseconds of CPU per request
us_per() {
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (n + 0 == 0) print "?"; else printf "%.1f", t * 1e6 / hz / n }'
}
pg_postmaster() { head -n1 "$tmp/pg/data/postmaster.pid"; }

# run_wrk NAME PORT: one bounded keep-alive POST load, prints the WRKSTAT line. Each request
# is $body, or, when $targets names a file of devices, a request for one of them at random
# (held_post.lua). The line ends with warmup_requests=N, the requests of the warm-up.
targets=
run_wrk() {
	local name=$1 port=$2 log=$tmp/wrk-$1.log warm
	# A short warm-up first so both servers start the measured run with caches and
	# connections in the same state.
	BENCH_BODY=$body BENCH_TARGETS=$targets timeout 60 wrk -t"$wrk_threads" -c"$conns" \
		-d2s -s "$here/held_post.lua" "https://127.0.0.1:$port/held" >"$log.warm" 2>&1 || true
	warm=$(field "$(grep '^WRKSTAT' "$log.warm")" requests)
	BENCH_BODY=$body BENCH_TARGETS=$targets timeout 120 wrk -t"$wrk_threads" -c"$conns" \
		-d"$duration" --latency -s "$here/held_post.lua" "https://127.0.0.1:$port/held" \
		>"$log" 2>&1 ||
		die "wrk against $name failed: $(tail -n 5 "$log")"
	grep -q '^WRKSTAT' "$log" || die "wrk against $name printed no summary: $(tail -n 5 "$log")"
	echo "$(grep '^WRKSTAT' "$log") warmup_requests=${warm:-0}"
}

# run_rate NAME PORT RATE: RATE requests/s in all, from $conns kept-alive connections at
# RATE/$conns each (h2load --rps, HTTP/1.1, one request in flight per connection), for
# $duration after 2 s of warm-up; prints "rps=... p50_us=... p99_us=... p999_us=...
# max_us=... non2xx=... failed=..." from h2load's log of every request.
run_rate() {
	local name=$1 port=$2 rate=$3 log=$tmp/h2load-$1.log out=$tmp/h2load-$1.out
	local per=$(( (rate + conns - 1) / conns )) secs=${duration%s}
	local h2=(h2load --h1 -t"$wrk_threads" -c"$conns" --rps="$per" -d "$body"
		  -H 'content-type: application/held+xml; charset=utf-8')
	timeout 60 "${h2[@]}" -D 2 "https://127.0.0.1:$port/held" >/dev/null 2>&1 || true
	rm -f "$log"
	timeout 120 "${h2[@]}" -D "$secs" --log-file="$log" "https://127.0.0.1:$port/held" \
		>"$out" 2>&1 || die "h2load against $name failed: $(tail -n 5 "$out")"
	[ -s "$log" ] || die "h2load against $name logged no request: $(tail -n 5 "$out")"
	local failed
	failed=$(sed -n 's/.* \([0-9]*\) failed,.*/\1/p' "$out" | head -n1)
	# each line: start (us since the epoch), HTTP status, time to the response (us)
	sort -n -k3,3 "$log" | awk -v secs="$secs" -v failed="${failed:-?}" '
		{ d[NR] = $3; if ($2 != 200) bad++ }
		function q(f,  i) { i = int(NR * f + 0.5); if (i < 1) i = 1; return d[i] }
		END { printf "rps=%.1f p50_us=%d p99_us=%d p999_us=%d max_us=%d non2xx=%d " \
			     "failed=%s\n", NR / secs, q(0.5), q(0.99), q(0.999), d[NR], bad,
			     failed }'
}

# ---------------------------------------------------------------- clean-up
tmp=
lisd_pid=
lisd2_pid=
started_pid=
hp_pid=
notify_sink_pid=
nginx_pid=
pg_started=
standby_started=
pgbin=

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$lisd_pid" ]; then kill "$lisd_pid" 2>/dev/null; wait "$lisd_pid" 2>/dev/null; fi
	# a lisd that start_lisd gave up on (it died or never loaded) is in started_pid alone
	if [ -n "$started_pid" ]; then kill "$started_pid" 2>/dev/null; fi
	# shellcheck disable=SC2086 # one pid or two
	if [ -n "$lisd2_pid" ]; then kill $lisd2_pid 2>/dev/null; wait $lisd2_pid 2>/dev/null; fi
	if [ -n "$hp_pid" ]; then kill "$hp_pid" 2>/dev/null; wait "$hp_pid" 2>/dev/null; fi
	if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; fi
	if [ -n "$standby_started" ]; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/pg2/data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ -n "$notify_sink_pid" ]; then kill "$notify_sink_pid" 2>/dev/null; fi
	if [ -n "$pg_started" ]; then
		as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null 2>&1 ||
			as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ "$rc" -ne 0 ] && [ -n "$tmp" ]; then
		local f
		for f in "$tmp"/lisd.log "$tmp"/lisd-reload.log "$tmp"/lisd-standby.log "$tmp"/nginx/error.log "$tmp"/nginx/stderr.log "$tmp"/pg/log; do
			[ -s "$f" ] || continue
			say "last lines of $f:"
			tail -n 15 "$f" >&2
		done
	fi
	if [ -n "$tmp" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- build
ensure_packages
if [ ! -f "$build/build.ninja" ]; then
	say "configuring $build (release)"
	meson setup "$build" "$top" -Dbuildtype=release >/dev/null
fi
say "building lisd, lisctl, subnet_lookup, wm_bench, delta_latency"
ninja -C "$build" lis/lisd/lisd lis/lisctl/lisctl bench/subnet_lookup bench/wm_bench \
	bench/delta_latency >/dev/null ||
	die "build failed (ninja -C $build)"
lisd=$build/lis/lisd/lisd
lisctl=$build/lis/lisctl/lisctl
lookup=$build/bench/subnet_lookup
"$lisd" --version >/dev/null 2>&1 || die "$lisd --version fails: is lisd still a stub?"
# lisd starts at the nice level deploy/lisd.service gives it (Nice=), which puts its request
# threads (5 below the rest of lisd) at nginx's workers' level; a level below 0 needs root.
unit_nice=$(sed -n 's/^Nice=//p' "$top/deploy/lisd.service")
lisd_nice=()
lisd_nice_said="nice 0 (lisd.service has no Nice=)"
if [ -n "$unit_nice" ] && { [ "$unit_nice" -ge 0 ] || [ "$(id -u)" -eq 0 ]; }; then
	lisd_nice=(nice -n "$unit_nice")
	lisd_nice_said="nice $unit_nice as lisd.service starts it, request threads at $((unit_nice + 5))"
elif [ -n "$unit_nice" ]; then
	lisd_nice_said="nice 0, not lisd.service's $unit_nice (not root), request threads at 5"
fi
"$lisctl" --version >/dev/null 2>&1 || die "$lisctl --version fails: is lisctl still a stub?"

pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
[ -x "$pgbin/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"

tmp=$(mktemp -d /tmp/lis-bench.XXXXXX)
chmod 755 "$tmp"    # the postgres user must reach its socket and data directory
mkdir -p "$out_dir"

# ---------------------------------------------------------------- TLS
say "generating a $key_type TLS certificate"
mkdir "$tmp/tls"
case $key_type in
ec)  keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
rsa) keyopt=(-newkey rsa:2048) ;;
*)   die "BENCH_KEY must be ec or rsa" ;;
esac
openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" >/dev/null 2>&1 ||
	die "openssl could not make a certificate"

# ---------------------------------------------------------------- PostgreSQL
say "starting PostgreSQL ($pgbin)"
mkdir -p "$tmp/pg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp/pg"
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres >"$tmp/initdb.log" 2>&1 ||
	die "initdb failed: $(tail -n 5 "$tmp/initdb.log")"
# Durability off (a throwaway cluster; it only speeds up the bulk load) and buffers large
# enough that 1M subnets stay cached, as they would on a server sized for them. WAL room
# for minutes of the query log, as lis.conf(5) [querylog] asks of a server taking it: with
# the default 1 GB, lisd's query log at full speed (about 800 bytes of WAL an answer) made
# a checkpoint every 20-30 s, and each delayed the change feed's polls by up to a second.
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w -t 30 \
	-o "-c listen_addresses='' -k $tmp/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c max_wal_size=8GB -c max_connections=50" \
	start >/dev/null || die "pg_ctl start failed"
pg_started=1
pg="host=$tmp/pg user=postgres"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_q "$pg dbname=postgres" -c 'CREATE DATABASE lis' -c 'CREATE DATABASE lookup' \
	-c 'CREATE DATABASE wiremap'
db_lis="$pg dbname=lis"
db_lookup="$pg dbname=lookup"
db_wm="$pg dbname=wiremap"

say "lisctl db migrate"
"$lisctl" --db "$db_lis" db migrate >&2 || die "lisctl db migrate failed"

# ---------------------------------------------------------------- wiremap for lisd
sample=$top/deploy/sample
csv=$tmp/csv
mkdir "$csv"
if [ -f "$sample/sites.csv" ] && [ -f "$sample/locations.csv" ] && [ -f "$sample/subnets.csv" ]; then
	say "importing deploy/sample/*.csv"
	"$lisctl" --db "$db_lis" import --sites "$sample/sites.csv" \
		--locations "$sample/locations.csv" --subnets "$sample/subnets.csv" >&2 ||
		die "lisctl import of deploy/sample failed"
	wiremap_src="deploy/sample/*.csv"
else
	wiremap_src="generated (deploy/sample/*.csv missing)"
fi
# lisd locates the TCP source address, 127.0.0.1 here: make sure a subnet covers it.
covered=$(psql -X -At "$db_lis" -c "SELECT count(*) FROM subnet WHERE prefix >>= '127.0.0.1'::inet")
if [ "$covered" = 0 ]; then
	say "adding a loopback subnet for the bench"
	cat >"$csv/sites.csv" <<-'EOF'
	site,name,description
	bench-hq,Bench HQ,site made by bench/run.sh
	EOF
	cat >"$csv/locations.csv" <<-'EOF'
	location,site,lang,country,A1,A3,RD,STS,HNO,PC,BLD,FLR,ROOM,latitude,longitude,uncertainty
	bench-hq-2-201,bench-hq,en-US,US,CA,San Francisco,Market,St,1355,94103,A,2,201,37.7765,-122.4172,15
	EOF
	cat >"$csv/subnets.csv" <<-'EOF'
	prefix,location,description
	127.0.0.0/8,bench-hq-2-201,loopback: the bench client
	EOF
	"$lisctl" --db "$db_lis" import --sites "$csv/sites.csv" --locations "$csv/locations.csv" \
		--subnets "$csv/subnets.csv" >&2 || die "lisctl import of the bench wiremap failed"
	[ "$wiremap_src" = "deploy/sample/*.csv" ] && wiremap_src="deploy/sample/*.csv + 127.0.0.0/8"
fi
if [ -f "$sample/request.xml" ]; then
	body=$sample/request.xml
else
	body=$tmp/request.xml
	cat >"$body" <<-'EOF'
	<?xml version="1.0" encoding="UTF-8"?>
	<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held" responseTime="emergencyRouting">
	  <locationType exact="false">civic geodetic</locationType>
	</locationRequest>
	EOF
fi

# ---------------------------------------------------------------- lisd
# lis_conf FILE PORT CONNINFO: a lisd config for the bench (its query-log spool in the bench's
# scratch folder, not the host's /var/lib/lis; no admin listener, whose port is one per host).
lis_conf() {
	cat >"$1" <<-EOF
	[server]
	listen = 127.0.0.1
	port = $2
	held_path = /held
	tls_cert = $tmp/tls/cert.pem
	tls_key = $tmp/tls/key.pem
	threads = $server_threads
	[database]
	conninfo = $3
	[held]
	domain = bench.invalid
	[querylog]
	spool_dir = $tmp/spool-$2
	[admin]
	port = 0
	[log]
	target = stderr
	EOF
}
lisd_port=$(free_port)
lis_conf "$tmp/lis.conf" "$lisd_port" "$db_lis"
say "starting lisd on 127.0.0.1:$lisd_port with $server_threads threads"
start_lisd "$tmp/lis.conf" "$tmp/lisd.log" "$lisd_port" 30
lisd_pid=$started_pid

mkdir -p "$tmp/nginx/html"
answer=$tmp/nginx/html/held
code=$(held_post "$lisd_port" "$answer")
[ "$code" = 200 ] || die "lisd answered HTTP $code to the bench request"
grep -q 'locationResponse' "$answer" ||
	die "lisd did not locate 127.0.0.1: $(head -c 300 "$answer")"
answer_size=$(wc -c <"$answer")
lisd_tls=$(tls_info "$lisd_port")
lisd_cipher=$(field "$lisd_tls" cipher)

# ---------------------------------------------------------------- nginx
nd=$tmp/nginx
user_line=
[ "$(id -u)" -eq 0 ] && user_line="user root;"   # workers read files in our 0700 temp dirs
# TLS 1.3 suite and key exchange group pinned to the ones lisd negotiated, so both servers
# encrypt with the same cipher and shake hands on the same curve.
tls_pins=
case $lisd_cipher in
TLS_*) tls_pins="ssl_conf_command Ciphersuites $lisd_cipher;" ;;
esac
lisd_kx=$(field "$lisd_tls" kx)
[ -n "$lisd_kx" ] && tls_pins="$tls_pins ssl_ecdh_curve $lisd_kx;"
# start_nginx DIR SIZE: nginx serving DIR/html/held (SIZE bytes) on a free port; sets
# nginx_port and nginx_pid, and checks that a POST gets the whole file with 200.
start_nginx() {
	local nd=$1 check
	nginx_port=$(free_port)
	sed -e "s|@USER@|$user_line|" -e "s|@WORKERS@|$server_threads|" -e "s|@DIR@|$nd|g" \
		-e "s|@PORT@|$nginx_port|" -e "s|@CERT@|$tmp/tls/cert.pem|" \
		-e "s|@KEY@|$tmp/tls/key.pem|" -e "s|@TLS_PINS@|$tls_pins|" \
		"$here/nginx.conf.in" >"$nd/nginx.conf"
	nginx -t -q -p "$nd" -c "$nd/nginx.conf" -e "$nd/error.log" 2>"$nd/check.log" ||
		die "nginx rejects the bench config: $(cat "$nd/check.log")"
	say "starting nginx on 127.0.0.1:$nginx_port with $server_threads workers"
	nginx -p "$nd" -c "$nd/nginx.conf" -e "$nd/error.log" -g 'daemon off;' \
		2>"$nd/stderr.log" &
	nginx_pid=$!
	wait_https "$nginx_port" "$nginx_pid" nginx "$nd/error.log"
	check=$(curl -sk -o "$nd/answer-check" -w '%{http_code} %{size_download}' -X POST \
		--data-binary "@$body" -H 'Content-Type: application/held+xml; charset=utf-8' \
		"https://127.0.0.1:$nginx_port/held")
	[ "$check" = "200 $2" ] || die "nginx answered POST with '$check', expected '200 $2'"
}
start_nginx "$nd" "$answer_size"
nginx_tls=$(tls_info "$nginx_port")

# ---------------------------------------------------------------- HELD load
busy_before=$(cpu_busy)
# lisd and nginx take turns, BENCH_ROUNDS times: what else the machine does moves both (nginx
# alone moved from 58k to 86k req/s between runs of one day), and the round with the median
# ratio is the one reported. Each lisd run ends when its query log is all in PostgreSQL, so
# that the inserter's work does not fall into nginx's run.
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a whole number of 1 or more: $rounds"
[[ ${duration%s} =~ ^[1-9][0-9]*$ ]] ||
	die "BENCH_DURATION must be seconds (e.g. 10s) for the same-load runs: $duration"
# take_turns TAG LISD_PID LISD_PORT LISD_LOG DB: BENCH_ROUNDS turns of wrk against lisd, then
# against nginx ($nginx_port); each lisd run ends when its query log is all in DB. Sets
# turn_lisd and turn_nginx (the WRKSTAT lines of the round with the median ratio), turn_line
# (every round's req/s and ratio, that round starred), turn_first_catch_up (ms, round 1) and
# turn_cpu (that round's CPU microseconds per answer: lisd_us, workers_us, pg_us, pgb_us (its
# backends), nginx_us).
# lisd's and PostgreSQL's CPU is counted from the warm-up's start until the query log of
# every answer since then is stored (catch_up), over those answers; nginx's over both runs.
take_turns() {
	local tag=$1 pid=$2 port=$3 log=$4 db=$5 r t0 before caught median st answers served cpu
	local l0 l1 w0 w1 p0 p1 n0 n1
	local -a lisd_runs=() nginx_runs=() ratios=() cpus=()
	for ((r = 1; r <= rounds; r++)); do
		say "$tag round $r of $rounds: wrk -t$wrk_threads -c$conns -d$duration against" \
			"lisd, then nginx"
		t0=$(psql -X -At "$db" -c "SELECT now()")
		before=$(grep -c ' held ' "$log" || true)
		l0=$(proc_ticks "$pid") w0=$(worker_ticks "$pid") p0=$(family_ticks "$(pg_postmaster)")
		lisd_runs+=("$(run_wrk "lisd-$tag-$r" "$port")")
		caught=$(catch_up "$log" "$t0" "$before" "$(now_ms)" "$db")
		answers=$(grep -c ' held ' "$log" || true)
		answers=$((answers - before))
		l1=$(proc_ticks "$pid") w1=$(worker_ticks "$pid") p1=$(family_ticks "$(pg_postmaster)")
		cpu="lisd_us=$(us_per $((l1 - l0)) "$answers")"
		cpu+=" workers_us=$(us_per $((w1 - w0)) "$answers")"
		cpu+=" pg_us=$(us_per "$(ticks_since "$p0" "$p1")" "$answers")"
		cpu+=" pgb_us=$(us_per "$(ticks_since "$p0" "$p1" backend)" "$answers")"
		[ "$r" -gt 1 ] || turn_first_catch_up=$caught
		n0=$(family_ticks "$nginx_pid")
		st=$(run_wrk "nginx-$tag-$r" "$nginx_port")
		nginx_runs+=("$st")
		n1=$(family_ticks "$nginx_pid")
		served=$(( $(field "$st" requests) + $(field "$st" warmup_requests) ))
		cpus+=("$cpu nginx_us=$(us_per "$(ticks_since "$n0" "$n1")" "$served")")
		ratios+=("$(ratio "$(field "${lisd_runs[-1]}" rps)" \
			"$(field "${nginx_runs[-1]}" rps)")")
	done
	median=$(median_index "${ratios[@]}")
	turn_lisd=${lisd_runs[median]}
	turn_nginx=${nginx_runs[median]}
	turn_cpu=${cpus[median]}
	turn_line=
	for ((r = 0; r < rounds; r++)); do
		turn_line+="$(field "${lisd_runs[r]}" rps | cut -d. -f1)/"
		turn_line+="$(field "${nginx_runs[r]}" rps | cut -d. -f1) ${ratios[r]}"
		[ "$r" -ne "$median" ] || turn_line+='*'
		[ "$r" -eq $((rounds - 1)) ] || turn_line+=", "
	done
}
# pg_yield on|off: every process of the bench's PostgreSQL at nice 19 (it yields the cores to
# whatever else wants them), or back as pg_ctl started it (the bench's own nice; its
# autogroups at 0, as the kernel makes them): the task's nice and, where the kernel groups
# sessions, its autogroup's. PostgreSQL's processes each lead a session of their own
# (postmaster.c calls setsid() in every child), so the nice of a task alone does not weigh
# them against lisd's session. Root only: nothing else may lower a nice again.
pg_yield() {
	local p task=19 group=19
	[ "$1" = on ] || { task=$(nice); group=0; }
	for p in $(pg_postmaster) $(pgrep -P "$(pg_postmaster)"); do
		renice -n "$task" -p "$p" >/dev/null 2>&1 || true
		echo "$group" 2>/dev/null >"/proc/$p/autogroup" || true
	done
}
# same_loads TAG LISD_PORT LISD_LOG DB RPS: the same load on both, a fixed rate, each share of
# BENCH_SAME_LOAD of RPS (what lisd reached in its median round: the wrk runs load each
# server as fast as it answers, so their latencies are at different loads). Each rate
# BENCH_SAME_ROUNDS times: lisd, then (as root) lisd again with PostgreSQL yielding
# (pg_yield on: lisd-y; the two lisd runs the other way round in even rounds), then nginx,
# lisd's query log all in DB before the next run. Sets
# turn_rates: per rate, a line for lisd and one for nginx ("SHARE RATE SERVER rps=...
# p50_us=...") of the round with the median lisd/nginx p99 ratio; turn_yield: the lisd-y
# line and the nginx line of the round with the median lisd-y/nginx ratio; turn_rate_rounds:
# per rate, every round's p99 ratios, the reported ones starred.
same_loads() {
	local tag=$1 port=$2 log=$3 db=$4 pct rate r m my line
	turn_rates=() turn_yield=() turn_rate_rounds=()
	for pct in $same_load; do
		[[ $pct =~ ^[1-9][0-9]?$ ]] || die "BENCH_SAME_LOAD takes percentages 1..99: $pct"
		rate=$(awk -v r="$5" -v p="$pct" 'BEGIN { printf "%d", r * p / 100 }')
		local -a lisd_at=() yield_at=() nginx_at=() ratios=() yratios=()
		for ((r = 1; r <= same_rounds; r++)); do
			# lisd-y goes first in every other round: neither lisd run always follows the
			# other (whose query log is then just stored)
			if [ -n "$yield_ok" ] && [ $((r % 2)) -eq 0 ]; then
				say "$tag same load, round $r of $same_rounds: $rate req/s ($pct% of" \
					"lisd's), h2load against lisd with PostgreSQL yielding, then without, then nginx"
				same_load_run "$tag" "$port" "$log" "$db" "$pct" "$rate" "$r" y
				same_load_run "$tag" "$port" "$log" "$db" "$pct" "$rate" "$r"
			else
				say "$tag same load, round $r of $same_rounds: $rate req/s ($pct% of" \
					"lisd's), h2load against lisd${yield_ok:+, then with PostgreSQL yielding}," \
					"then nginx"
				same_load_run "$tag" "$port" "$log" "$db" "$pct" "$rate" "$r"
				[ -z "$yield_ok" ] ||
					same_load_run "$tag" "$port" "$log" "$db" "$pct" "$rate" "$r" y
			fi
			nginx_at+=("$(run_rate "nginx-$tag-at-$pct-$r" "$nginx_port" "$rate")")
			ratios+=("$(ratio "$(field "${lisd_at[-1]}" p99_us)" \
				"$(field "${nginx_at[-1]}" p99_us)")")
			[ -z "$yield_ok" ] || yratios+=("$(ratio "$(field "${yield_at[-1]}" p99_us)" \
				"$(field "${nginx_at[-1]}" p99_us)")")
		done
		m=$(median_index "${ratios[@]}")
		turn_rates+=("$pct $rate lisd ${lisd_at[m]}" "$pct $rate nginx ${nginx_at[m]}")
		line="$pct%: lisd $(starred "$m" "${ratios[@]}")"
		if [ -n "$yield_ok" ]; then
			my=$(median_index "${yratios[@]}")
			turn_yield+=("$pct $rate lisd-y ${yield_at[my]}" "$pct $rate nginx ${nginx_at[my]}")
			line+="; lisd-y $(starred "$my" "${yratios[@]}")"
		fi
		turn_rate_rounds+=("$line")
	done
}
# same_load_run TAG PORT LOG DB PCT RATE ROUND [y]: one same-load run of lisd, its query log
# all in DB after it, appended to same_loads' lisd_at (with y: PostgreSQL yielding, to
# yield_at).
same_load_run() {
	local t0 before st
	t0=$(psql -X -At "$4" -c "SELECT now()")
	before=$(grep -c ' held ' "$3" || true)
	if [ -n "${8:-}" ]; then
		pg_yield on
		st=$(run_rate "lisd-y-$1-at-$5-$7" "$2" "$6")
		pg_yield off
		yield_at+=("$st")
	else
		lisd_at+=("$(run_rate "lisd-$1-at-$5-$7" "$2" "$6")")
	fi
	catch_up "$3" "$t0" "$before" "$(now_ms)" "$4" >/dev/null
}
# median_index X...: the index of the median of the numbers X (the lower middle one of an even
# count; "n/a" sorts last).
median_index() {
	local i
	for ((i = 1; i <= $#; i++)); do echo "${!i} $((i - 1))"; done |
		sed 's|^n/a |inf |' | sort -g | awk -v n="$#" 'NR == int((n + 1) / 2) { print $2 }'
}
# starred M X...: the X, comma-separated, the one at index M starred.
starred() {
	local m=$1 i out=
	shift
	for ((i = 0; i < $#; i++)); do
		local j=$((i + 1))
		out+="${!j}"
		[ "$i" -ne "$m" ] || out+='*'
		[ "$i" -eq $(($# - 1)) ] || out+=", "
	done
	echo "$out"
}
yield_ok=
[ "$(id -u)" -eq 0 ] && yield_ok=1
[[ $same_rounds =~ ^[1-9][0-9]*$ ]] ||
	die "BENCH_SAME_ROUNDS must be a whole number of 1 or more: $same_rounds"
take_turns sample "$lisd_pid" "$lisd_port" "$tmp/lisd.log" "$db_lis"
lisd_stat=$turn_lisd
lisd_cpu=$turn_cpu
nginx_stat=$turn_nginx
rounds_line=$turn_line
off_catch_up_ms=$turn_first_catch_up
thread_cpu=$(request_thread_cpu "$lisd_pid")
same_loads sample "$lisd_port" "$tmp/lisd.log" "$db_lis" "$(field "$lisd_stat" rps)"
rate_lines=("${turn_rates[@]}")
yield_lines=("${turn_yield[@]}")
rate_rounds=("${turn_rate_rounds[@]}")
# New connections: BENCH_NEW_CONNECTIONS fresh TLS connections with one request each, from a
# client that keeps Nagle's algorithm and from one with TCP_NODELAY (bench/new_conn.py),
# against lisd then nginx: the handshake and the first answer, which keep-alive hides.
new_conn_lines=()
for nc_server in lisd nginx; do
	nc_port=$lisd_port
	[ "$nc_server" = lisd ] || nc_port=$nginx_port
	say "$new_conns new connections with one request each, against $nc_server"
	while read -r nc_line; do
		new_conn_lines+=("$nc_server $nc_line")
	done < <(timeout 300 python3 "$here/new_conn.py" "$nc_port" "$body" "$new_conns")
done
kill "$lisd_pid" "$nginx_pid" 2>/dev/null || true
wait "$lisd_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
lisd_pid=''
nginx_pid=
lisd_results=$(grep ' held ' "$tmp/lisd.log" | grep -o 'result=[^ ]*' | sort | uniq -c |
	awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')

# ---------------------------------------------------------------- two lisd behind HAProxy
# Issue 14's balancer (deploy/topology/haproxy.cfg's shape): HAProxy in TCP mode relaying to
# lisd with the PROXY protocol v2 ([server] proxy_from), so that lisd still locates the
# client. The same wrk load against HAProxy with one lisd behind it, then with two; on the
# same machine the two lisd share its cores with HAProxy and wrk, so the figure says what
# the balancer costs and whether a second lisd adds anything here, not what two hosts give.
# bal_conf FILE PORT SERVERS...: a minimal HAProxy config, one server per lisd port.
bal_conf() {
	local f=$1 port=$2 i=0 p
	shift 2
	{
		printf 'global\n\tmaxconn 4096\ndefaults\n\tmode tcp\n\ttimeout connect 2s\n'
		printf '\ttimeout client 30s\n\ttimeout server 30s\n'
		printf 'frontend held\n\tbind 127.0.0.1:%s\n\tdefault_backend lisd\n' "$port"
		printf 'backend lisd\n\tbalance leastconn\n\tsource 127.0.0.2\n'
		for p in "$@"; do
			i=$((i + 1))
			printf '\tserver lisd-%s 127.0.0.1:%s send-proxy-v2\n' "$i" "$p"
		done
	} >"$f"
}
two_pids=()
for k in 1 2; do
	port=$(free_port)
	lis_conf "$tmp/lis-bal-$k.conf" "$port" "$db_lis"
	sed -i "s|^threads = .*|&\nproxy_from = 127.0.0.2|" "$tmp/lis-bal-$k.conf"
	"${lisd_nice[@]}" "$lisd" -c "$tmp/lis-bal-$k.conf" 2>"$tmp/lisd-bal-$k.log" &
	two_pids+=("$!")
	eval "bal_port_$k=$port"
done
lisd2_pid="${two_pids[*]}"
for k in 1 2; do
	wait_loaded "$tmp/lisd-bal-$k.log" "${two_pids[$((k - 1))]}" 30
done
bal_stat=()
for n in 1 2; do
	hp_port=$(free_port)
	if [ "$n" = 1 ]; then
		bal_conf "$tmp/haproxy-$n.cfg" "$hp_port" "$bal_port_1"
	else
		bal_conf "$tmp/haproxy-$n.cfg" "$hp_port" "$bal_port_1" "$bal_port_2"
	fi
	haproxy -q -db -f "$tmp/haproxy-$n.cfg" 2>"$tmp/haproxy-$n.log" &
	hp_pid=$!
	wait_https "$hp_port" "$hp_pid" haproxy "$tmp/haproxy-$n.log"
	code=$(held_post "$hp_port" "$tmp/bal-answer.xml")
	{ [ "$code" = 200 ] && grep -q 'locationResponse' "$tmp/bal-answer.xml"; } ||
		die "through HAProxy lisd answered $code: $(head -c 300 "$tmp/bal-answer.xml")"
	say "wrk -t$wrk_threads -c$conns -d$duration against HAProxy with $n lisd"
	bal_stat+=("$(run_wrk "haproxy-$n" "$hp_port")")
	kill "$hp_pid" 2>/dev/null || true
	wait "$hp_pid" 2>/dev/null || true
	hp_pid=
done
bal_share=$(for k in 1 2; do grep -c ' held ' "$tmp/lisd-bal-$k.log" || true; done | paste -sd/)
kill "${two_pids[@]}" 2>/dev/null || true
for p in "${two_pids[@]}"; do wait "$p" 2>/dev/null || true; done
lisd2_pid=
# ---------------------------------------------------------------- HELD load, notifications on
# The same lisd and load with [notify] enabled (lisd(8) NOTIFICATIONS): every request of the
# bench is an emergency call (responseTime emergencyRouting) of one target, so each query log
# row is judged by notifications_for() (advisory lock, window probe) and the notifier
# thread delivers to a syslog socket read by a small receiver. The HELD answer should not
# notice; the query log inserter does the extra work, measured as the time until the run's
# query log is in PostgreSQL.
say "starting lisd with notifications on"
notify_sock=$tmp/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(65536).decode("utf-8", "replace") + "\n")
        out.flush()
' "$notify_sock" "$tmp/notify-received.log" &
notify_sink_pid=$!
for _ in $(seq 1 50); do [ -S "$notify_sock" ] && break; sleep 0.1; done
[ -S "$notify_sock" ] || die "the notification receiver did not start"
lisd_notify_port=$(free_port)
lis_conf "$tmp/lis-notify.conf" "$lisd_notify_port" "$db_lis"
printf '[notify]\nenabled = true\nrecipients = * = syslog\nsyslog_socket = %s\n' \
	"$notify_sock" >>"$tmp/lis-notify.conf"
start_lisd "$tmp/lis-notify.conf" "$tmp/lisd-notify.log" "$lisd_notify_port" 30
lisd_pid=$started_pid
notify_t0=$(psql -X -At "$db_lis" -c "SELECT now()")
say "wrk -t$wrk_threads -c$conns -d$duration against lisd with notifications on"
notify_stat=$(run_wrk lisd-notify "$lisd_notify_port")
# Until the run's query log is in PostgreSQL (spooled, inserted, judged for notifications).
answered=$(grep -c ' held ' "$tmp/lisd-notify.log" || true)
catch_up_ms=$(catch_up "$tmp/lisd-notify.log" "$notify_t0" 0 "$(now_ms)")
kill "$lisd_pid" 2>/dev/null || true
wait "$lisd_pid" 2>/dev/null || true
lisd_pid=
kill "$notify_sink_pid" 2>/dev/null || true
wait "$notify_sink_pid" 2>/dev/null || true
notify_sink_pid=
notify_made=$(psql -X -At "$db_lis" -c "SELECT count(*) || ' notification(s)'
	FROM notification WHERE first_at >= '$notify_t0'")
notify_got=$(grep -c 'emergency_call' "$tmp/notify-received.log" || true)

# ---------------------------------------------------------------- HELD load, declared answers
# The same load against a lisd whose wiremap makes the bench client (127.0.0.1) a remote
# worker: 127.0.0.1/32 is a remote subnet (a VPN pool), the concentrator bound the address to
# a softphone user, and the user declared a home address (lisctl(8) declare, vpn-bind). Every
# answer is then the declared address (method Manual) through the class policy, beside the
# office answers of the first run: what issue 11's off-premises callers cost.
say "a wiremap where the bench client is a remote softphone user with a declared address"
psql_q "$pg dbname=postgres" -c 'CREATE DATABASE declared'
db_decl="$pg dbname=declared"
"$lisctl" --db "$db_decl" db migrate >&2 || die "lisctl db migrate (declared) failed"
if [ "$wiremap_src" = "generated (deploy/sample/*.csv missing)" ]; then
	"$lisctl" --db "$db_decl" import --sites "$csv/sites.csv" --locations "$csv/locations.csv" \
		--subnets "$csv/subnets.csv" >&2 || die "lisctl import (declared) failed"
else
	"$lisctl" --db "$db_decl" import --sites "$sample/sites.csv" \
		--locations "$sample/locations.csv" --subnets "$sample/subnets.csv" >&2 ||
		die "lisctl import (declared) failed"
fi
printf 'prefix,location,description,remote\n127.0.0.1/32,,bench: a VPN address,true\n' \
	>"$csv/vpn.csv"
printf 'lang,country,A1,A3,RD,STS,HNO,PC\nen-US,US,IL,Springfield,Maple,ST,742,62704\n' \
	>"$csv/home.csv"
"$lisctl" --db "$db_decl" import --subnets "$csv/vpn.csv" >&2 ||
	die "lisctl import of the VPN subnet failed"
"$lisctl" --db "$db_decl" declare bench-user home --address-file "$csv/home.csv" --current \
	--days 30 >&2 || die "lisctl declare failed"
"$lisctl" --db "$db_decl" vpn-bind 127.0.0.1 bench-user --ttl 86400 >&2 ||
	die "lisctl vpn-bind failed"
lisd_decl_port=$(free_port)
lis_conf "$tmp/lis-decl.conf" "$lisd_decl_port" "$db_decl"
start_lisd "$tmp/lis-decl.conf" "$tmp/lisd-decl.log" "$lisd_decl_port" 30
lisd_pid=$started_pid
code=$(held_post "$lisd_decl_port" "$tmp/declared-answer.xml")
[ "$code" = 200 ] && grep -q '<gp:method>Manual</gp:method>\|>Manual<' "$tmp/declared-answer.xml" ||
	die "lisd did not answer the declared address: $(head -c 300 "$tmp/declared-answer.xml")"
decl_size=$(wc -c <"$tmp/declared-answer.xml")
say "wrk -t$wrk_threads -c$conns -d$duration against lisd answering declared addresses"
decl_stat=$(run_wrk lisd-declared "$lisd_decl_port")
kill "$lisd_pid" 2>/dev/null || true
wait "$lisd_pid" 2>/dev/null || true
lisd_pid=

# ---------------------------------------------------------------- HELD load, query log off
# The first run's lisd again with [querylog] enabled = false: no spool, no row in PostgreSQL
# per answer. Not a configuration to deploy (the query log is how a location is proved
# afterwards); it shows what storing every answer costs lisd and, on these shared cores, the
# answers beside PostgreSQL's work: the same wrk load, then section 1's fixed rates.
say "starting lisd with the query log off"
lisd_noql_port=$(free_port)
lis_conf "$tmp/lis-noql.conf" "$lisd_noql_port" "$db_lis"
sed -i "s|^spool_dir = .*|enabled = false|" "$tmp/lis-noql.conf"
start_lisd "$tmp/lis-noql.conf" "$tmp/lisd-noql.log" "$lisd_noql_port" 30
lisd_pid=$started_pid
say "wrk -t$wrk_threads -c$conns -d$duration against lisd with the query log off"
noql_l0=$(proc_ticks "$lisd_pid")
noql_before=$(grep -c ' held ' "$tmp/lisd-noql.log" || true)
noql_stat=$(run_wrk lisd-noql "$lisd_noql_port")
noql_l1=$(proc_ticks "$lisd_pid")
noql_after=$(grep -c ' held ' "$tmp/lisd-noql.log" || true)
noql_cpu="lisd_us=$(us_per $((noql_l1 - noql_l0)) $((noql_after - noql_before)))"
# noql_rates: section 1's fixed rates (its lisd lines) against lisd-q, into noql_rate_lines
# shellcheck disable=SC2086  # a line is split into its fields on purpose
noql_rates() {
	local line
	noql_rate_lines=()
	for line in "${rate_lines[@]}"; do
		set -- $line
		[ "$3" = lisd ] || continue
		say "query log off, same load: $2 req/s, h2load against lisd"
		noql_rate_lines+=("$1 $2 lisd-q $(run_rate "lisd-noql-at-$1" "$lisd_noql_port" "$2")")
	done
}
noql_rates
kill "$lisd_pid" 2>/dev/null || true
wait "$lisd_pid" 2>/dev/null || true
lisd_pid=

# ---------------------------------------------------------------- subnet lookups
say "lisctl db migrate (lookup database)"
"$lisctl" --db "$db_lookup" db migrate >&2 || die "lisctl db migrate (lookup) failed"
psql_q "$db_lookup" <<'EOF'
INSERT INTO site (key, name) VALUES ('bench', 'Bench campus');
INSERT INTO location (key, site_id, country, a1, a3, rd, sts, hno, flr, room, latitude, longitude, uncertainty)
SELECT 'bench-' || g, (SELECT id FROM site WHERE key = 'bench'), 'US', 'CA', 'San Francisco',
       'Market', 'St', (1000 + g)::text, (g % 10)::text, (100 + g)::text,
       37.7765 + g * 0.0001, -122.4172, 10
FROM generate_series(1, 100) AS g;
EOF

# fill_subnets FROM TO: rows FROM..TO-1. Row i is IPv6 when i % 4 = 3, else IPv4. An IPv4 row
# gets its own /24 block (1.0.0.0 + ((i * 2654435761) mod 2^23) blocks: an odd multiplier
# permutes, so blocks never repeat) and a random /24../32 inside it; an IPv6 row its own /48 in
# fd00::/16 and a /48, /56 or /64 inside it. So no two prefixes overlap, and none falls in
# 198.18.0.0/15 or 2001:db8::/32, where subnet_lookup looks for misses.
fill_subnets() {
	psql_q "$db_lookup" -v lo="$1" -v hi="$(($2 - 1))" <<'EOF'
SELECT setseed(0.4242) \g /dev/null
INSERT INTO subnet (prefix, location_id, description)
SELECT CASE WHEN i % 4 <> 3 THEN
         network(set_masklen('1.0.0.0'::inet + ((i * 2654435761) % 8388608) * 256
                             + floor(random() * 256)::bigint,
                             24 + floor(random() * 9)::int))
       ELSE
         network(set_masklen(format('fd00:%s:%s:%s::',
                                    to_hex((i * 2654435761) % 4294967296 / 65536),
                                    to_hex((i * 2654435761) % 65536),
                                    to_hex(floor(random() * 65536)::int))::inet,
                             48 + 8 * floor(random() * 3)::int))
       END,
       ids[1 + i % array_length(ids, 1)],
       'bench ' || i
FROM generate_series(:lo::bigint, :hi::bigint) AS i,
     (SELECT array_agg(id ORDER BY id) AS ids FROM location) AS l;
EOF
}

# The plan of the lookup for the first address of PREFIX: the query of db/db_lookup.c
# (fewer columns), prepared and run with a generic plan as a named statement is after a few
# executions, so this is the plan lisd gets.
lookup_explain() {
	local addr
	addr=$(psql -X -At "$db_lookup" -c "SELECT host('$1'::cidr)")
	psql -X -q -At "$db_lookup" <<EOF
SET plan_cache_mode = force_generic_plan;
PREPARE lookup(text) AS
  SELECT s.prefix::text, l.key, si.key
  FROM (SELECT prefix, location_id FROM subnet WHERE prefix >>= \$1::inet
        ORDER BY masklen(prefix) DESC LIMIT 1) s
  JOIN location l ON l.id = s.location_id
  JOIN site si ON si.id = l.site_id;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS) EXECUTE lookup('$addr');
EOF
}

lookup_lines=()
base_mean='' base_p50='' base_p99=
filled=0
plan=
for n in $sizes; do
	if [ "$n" -gt "$filled" ]; then
		say "filling the subnet table to $n rows"
		t0=$(date +%s.%N)
		fill_subnets "$filled" "$n"
		psql_q "$db_lookup" -c 'VACUUM ANALYZE subnet'
		filled=$n
		fill_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	fi
	rows=$(psql -X -At "$db_lookup" -c 'SELECT count(*) FROM subnet')
	psql -X -At "$db_lookup" -c "SELECT prefix FROM subnet ORDER BY random() LIMIT 5000" \
		>"$tmp/prefixes.txt"
	say "subnet_lookup: $lookups lookups at $rows subnets"
	stat=$("$lookup" --seed 42 "$db_lookup" "$lookups" "$tmp/prefixes.txt") ||
		die "subnet_lookup failed at $rows subnets"
	mean=$(field "$stat" mean_us) p50=$(field "$stat" p50_us) p99=$(field "$stat" p99_us)
	if [ -z "$base_mean" ]; then base_mean=$mean base_p50=$p50 base_p99=$p99; fi
	# an IPv4 prefix of the random sample: at 1M subnets the costlier family
	plan_prefix=$(grep -m1 -v : "$tmp/prefixes.txt" || head -n1 "$tmp/prefixes.txt")
	plan=$(lookup_explain "$plan_prefix")
	# the subnet table's index (the plan may scan site_pkey first, for the join)
	idx=$(grep -o -m1 -E \
		'(Index (Only )?Scan using|Bitmap Index Scan on) [A-Za-z0-9_]*subnet[A-Za-z0-9_]*' \
		<<<"$plan" | awk '{ print $NF }' || true)
	[ -n "$idx" ] || idx="NO INDEX ON subnet USED"
	lookup_lines+=("$(printf '%9s %9s %9s %9s   %6s %6s %6s   %s   fill %ss' "$rows" "$mean" \
		"$p50" "$p99" "$(ratio "$mean" "$base_mean")" "$(ratio "$p50" "$base_p50")" \
		"$(ratio "$p99" "$base_p99")" "$idx" "$fill_s")")
	lookup_lines+=("$(printf '%9s   hits %s/%s inside, %s/%s outside' '' \
		"$(field "$stat" inside_hits)" "$(field "$stat" inside)" \
		"$(field "$stat" outside_hits)" "$(field "$stat" outside)")")
done

# What-if at the largest size: the same rows with the other inet_ops index kind (GiST when
# the schema uses SP-GiST, SP-GiST when it uses GiST) in place of the schema's, to show what
# the index choice costs. The database is throwaway.
whatif_line=''
if [ "${BENCH_WHATIF:-1}" = 1 ] && [ "$filled" -ge 100000 ]; then
	schema_am=$(psql -X -At "$db_lookup" -c "SELECT am.amname FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
		WHERE i.indrelid = 'subnet'::regclass AND am.amname IN ('gist', 'spgist') LIMIT 1")
	if [ "$schema_am" = spgist ]; then whatif_am=gist; else whatif_am=spgist; fi
	say "what-if: $whatif_am instead of ${schema_am:-no} index at $filled subnets"
	t0=$(date +%s.%N)
	psql_q "$db_lookup" -v am="$whatif_am" <<'EOF'
CREATE INDEX bench_subnet_prefix_whatif ON subnet USING :am (prefix inet_ops);
DO $$
DECLARE i text;
BEGIN
	FOR i IN SELECT c.relname FROM pg_index x
		 JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am am ON am.oid = c.relam
		 WHERE x.indrelid = 'subnet'::regclass AND am.amname IN ('gist', 'spgist')
		   AND c.relname <> 'bench_subnet_prefix_whatif' LOOP
		EXECUTE format('DROP INDEX %I', i);
	END LOOP;
END $$;
ANALYZE subnet;
EOF
	build_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	stat=$("$lookup" --seed 42 "$db_lookup" "$lookups" "$tmp/prefixes.txt") ||
		die "subnet_lookup failed with the SP-GiST index"
	mean=$(field "$stat" mean_us) p50=$(field "$stat" p50_us) p99=$(field "$stat" p99_us)
	whatif_line=$(printf '%9s %9s %9s %9s   %6s %6s %6s   %s   build %ss' "$filled" "$mean" \
		"$p50" "$p99" "$(ratio "$mean" "$base_mean")" "$(ratio "$p50" "$base_p50")" \
		"$(ratio "$p99" "$base_p99")" "$whatif_am" "$build_s")
fi

# ---------------------------------------------------------------- in-memory wiremap
# wm_bench builds snapshots of mixed entries through the builder (no database) and times
# wm_resolve and the in-memory longest-prefix match; one key=value line per size.
wm_sizes=${BENCH_WM_SIZES:-"10000 100000 1000000"}
say "wm_bench: in-memory wiremap at $wm_sizes entries"
# shellcheck disable=SC2086
wm_stat=$("$build/bench/wm_bench" --seed 42 $wm_sizes) || die "wm_bench failed"
wm_lines=()
wm_base=
while read -r line; do
	r=$(field "$line" resolve_ns)
	miss=$(field "$line" miss_ns)
	[ -n "$wm_base" ] || wm_base=$r
	wm_lines+=("$(printf '%9s %9s %9s %9s %9s %9s %6s %6s %6s   %6s %7s %6s' \
		"$(field "$line" entries)" "$(field "$line" build_ms)" \
		"$(field "$line" bytes_per_entry)" "$r" "$(field "$line" resolve_cpu_ns)" \
		"$(field "$line" subnet_ns)" "$(field "$line" ip_ns)" "$(field "$line" mac_ns)" \
		"$(field "$line" uri_ns)" "$(ratio "$r" "$wm_base")" "$miss" \
		"$(awk -v r="$r" -v b="$wm_base" -v m="$miss" \
			'BEGIN { if (m + 0 == 0) print "n/a"; else printf "%.1f", (r - b) / m }')")")
done <<<"$wm_stat"

# ---------------------------------------------------------------- snapshot reload
# The load lisd runs at start and after large changes, through the database: a third database
# grown to each size by wiremap_fill.sql (set-based; the same rows whatever the steps), then
# VACUUM ANALYZE (a database in steady state: hint bits set, statistics current) and
# wm_bench --db timing wm_snapshot_load() (and the fetch alone) BENCH_RELOAD_REPEAT times.
reload_sizes=${BENCH_RELOAD_SIZES:-"10000 100000 1000000"}
reload_repeat=${BENCH_RELOAD_REPEAT:-5}
say "lisctl db migrate (wiremap database)"
"$lisctl" --db "$db_wm" db migrate >&2 || die "lisctl db migrate (wiremap) failed"
reload_lines=()
reload_base=
reload_mix=
wm_filled=0
for n in $reload_sizes; do
	[ "$n" -gt "$wm_filled" ] || continue
	say "filling the wiremap database to $n entries"
	t0=$(now_ms)
	psql_q "$db_wm" -v lo="$wm_filled" -v hi="$n" -f "$here/wiremap_fill.sql" >/dev/null ||
		die "wiremap_fill.sql $wm_filled..$n failed"
	psql_q "$db_wm" -c 'VACUUM ANALYZE'
	wm_filled=$n
	fill_s=$(awk -v ms="$(( $(now_ms) - t0 ))" 'BEGIN { printf "%.1f", ms / 1000 }')
	say "wm_bench --db: $reload_repeat snapshot loads at $n entries"
	line=$("$build/bench/wm_bench" --db "$db_wm" --repeat "$reload_repeat") ||
		die "wm_bench --db failed at $n entries"
	med=$(field "$line" load_median_ms)
	[ -n "$reload_base" ] || reload_base=$med
	reload_lines+=("$(printf '%9s %9s %9s %9s %9s %11s %9s   %6s   fill %ss' \
		"$(field "$line" rows)" "$(field "$line" load_min_ms)" "$med" \
		"$(field "$line" load_max_ms)" "$(field "$line" fetch_median_ms)" \
		"$(field "$line" bytes)" "$(field "$line" bytes_per_entry)" \
		"$(ratio "$med" "$reload_base")" "$fill_s")")
	reload_mix=$(printf '%s\n' "$line" | tr ' ' '\n' | grep -E \
		'^(sites|locations|subnets|switches|ports|bssids|endpoints|bind_[a-z_]+)=' | paste -sd' ')
done

# End to end in a running lisd on the largest database: 127.0.0.0/8 (the bench client) gets
# a location of its own; each change is one UPDATE of its ROOM, and delta_latency times it
# from the commit (PQexec's return) to the first HELD answer carrying the new ROOM, polling
# on one kept-alive TLS connection: the change feed's poll (every 20 ms), the delta applied
# in place, one round trip. Meanwhile wrk keeps lisd busy (the same load as section 1), so
# the figure is under load. Then the same with a lisd that reads from a streaming standby
# ([database] read_conninfo): commit on the primary, replication, the feed on the standby.
delta_changes=${BENCH_DELTA_CHANGES:-30}
say "lisd on the $wm_filled-entry wiremap: $delta_changes changes under load, commit to answer"
psql_q "$db_wm" <<'EOF'
INSERT INTO location (id, key, site_id, lang, country, a1, a3, rd, sts, hno, pc, room,
		      latitude, longitude, uncertainty)
OVERRIDING SYSTEM VALUE
SELECT 2000000000, 'bench-reload', id, 'en-US', 'US', 'CA', 'San Francisco', 'Market', 'St',
       '1355', '94103', 'reload-0', 37.7765, -122.4172, 15
FROM site WHERE key = 'site-1';
INSERT INTO subnet (prefix, location_id, description)
VALUES ('127.0.0.0/8', 2000000000, 'loopback: the bench client');
EOF
lisd2_port=$(free_port)
lis_conf "$tmp/lis-reload.conf" "$lisd2_port" "$db_wm"
# the bench client may ask for any device (section 1b's third-party requests)
printf '[auth]\nallowed_addresses = 127.0.0.1\n' >>"$tmp/lis-reload.conf"
start_lisd "$tmp/lis-reload.conf" "$tmp/lisd-reload.log" "$lisd2_port" 120
lisd2_pid=$started_pid
code=$(held_post "$lisd2_port" "$tmp/reload-answer.xml")
{ [ "$code" = 200 ] && grep -q '>reload-0<' "$tmp/reload-answer.xml"; } ||
	die "lisd on the reload wiremap answered $code: $(head -c 300 "$tmp/reload-answer.xml")"
# delta_under_load DB PORT TAG [STANDBY]: one DELTASTAT line, with wrk loading lisd on PORT
# meanwhile; with STANDBY (the conninfo of the standby lisd reads from), each change's
# replay there is timed too (replay_* fields).
# wrk stands in for clients on other hosts: it keeps lisd's request threads busy (its req/s
# is reported beside the figures) but should not take the turn of lisd's loader or of
# PostgreSQL on these shared cores. nice alone does not do that: with the kernel's
# autogroups (sched_autogroup_enabled), nice weighs a thread only against the threads of its
# own session, and PostgreSQL (pg_ctl starts it in a session of its own) is a group of its
# own, weighed as a whole against the bench's session, wrk and lisd together. A feed poll's
# backend then waited up to 81 ms for a core while wrk at nice 10 ran (perf sched timehist).
# So wrk runs in a session of its own whose autogroup is set to nice 19 (load_elsewhere),
# and, with delta_load=shared, as before: in the bench's session at nice 10.
delta_load=own
delta_under_load() {
	local wrk_log=$tmp/wrk-delta-$3.log wrk_pid
	local place=("${load_elsewhere[@]}")
	[ "$delta_load" = own ] || place=(nice -n 10)
	BENCH_BODY=$body "${place[@]}" timeout 300 wrk -t"$wrk_threads" -c"$conns" -d120s --latency \
		-s "$here/held_post.lua" "https://127.0.0.1:$2/held" >"$wrk_log" 2>&1 &
	wrk_pid=$!
	sleep 1  # wrk connected; a settling gap, not a measure
	"$build/bench/delta_latency" "$1" "https://127.0.0.1:$2/held" "$body" bench-reload \
		"$delta_changes" "$3" ${4:+"$4"} ||
		{ kill "$wrk_pid" 2>/dev/null; die "delta_latency ($3) failed"; }
	kill -INT "$wrk_pid" 2>/dev/null || true
	wait "$wrk_pid" 2>/dev/null || true
}
delta_stat=$(delta_under_load "$db_wm" "$lisd2_port" primary)
start_ms=$(grep -m1 'wiremap loaded trigger=start' "$tmp/lisd-reload.log" | grep -o ' ms=[0-9.]*' |
	cut -d= -f2)
later_loads=$(( $(grep -c 'wiremap loaded trigger=' "$tmp/lisd-reload.log" || true) - 1 ))
delta_load=shared
shared_stat=$(delta_under_load "$db_wm" "$lisd2_port" primary-shared)
delta_load=own
shared_loads=$(( $(grep -c 'wiremap loaded trigger=' "$tmp/lisd-reload.log" || true) - 1 -
	later_loads ))

# Section 1 again on the largest wiremap (1b in the report), lisd against nginx in turns: each
# request names a device of the wiremap (RFC 6155 identity; lisd authorizes 127.0.0.1 for
# third-party requests), drawn at random from BENCH_BIG_TARGETS of each kind (the IP of an
# IP-MAC binding, a MAC on a located port or on Wi-Fi, the SIP URI of an endpoint with a
# location or such a MAC: devices lisd locates), so that the answers walk the large tables
# at random rather than one cached path. nginx serves lisd's
# answer to the first of them. Then the same load on both, with that first device alone
# (h2load sends one body).
big_per_kind=${BENCH_BIG_TARGETS:-10000}
[[ $big_per_kind =~ ^[1-9][0-9]*$ ]] || die "BENCH_BIG_TARGETS must be 1 or more: $big_per_kind"
say "lisd on the $wm_filled-entry wiremap: HELD for random devices, against nginx"
psql_q "$db_wm" -At -v n="$big_per_kind" >"$tmp/targets-big.txt" <<'EOF'
SELECT setseed(0.13) \gset
-- MACs the network places: on a port with a location (its own or its switch's), or on Wi-Fi
WITH placed AS (
	SELECT b.mac FROM binding_mac_port b JOIN switch s ON s.id = b.switch_id
	JOIN switch_port p ON p.switch_id = b.switch_id AND p.port_id = b.port_id
	WHERE coalesce(p.location_id, s.location_id) IS NOT NULL
	UNION SELECT mac FROM binding_mac_bssid
)
SELECT line FROM (
	(SELECT 'ip' || family(ip) || ' ' || host(ip) AS line FROM binding_ip_mac
	 ORDER BY random() LIMIT :n)
	UNION ALL
	(SELECT 'mac ' || upper(replace(mac::text, ':', '-')) FROM placed
	 ORDER BY random() LIMIT :n)
	UNION ALL
	(SELECT 'uri ' || uri FROM endpoint
	 WHERE uri IS NOT NULL AND (location_id IS NOT NULL OR mac IN (SELECT mac FROM placed))
	 ORDER BY random() LIMIT :n)
) AS t ORDER BY random();
EOF
big_targets=$(wc -l <"$tmp/targets-big.txt")
[ "$big_targets" -gt 0 ] || die "no device in the $wm_filled-entry wiremap to ask for"
read -r kind value <"$tmp/targets-big.txt"
case $kind in
ip4) element="<ip v=\"4\">$value</ip>" ;;
ip6) element="<ip v=\"6\">$value</ip>" ;;
mac) element="<mac>$value</mac>" ;;
*) element="<uri>$value</uri>" ;;
esac
sample_body=$body
body=$tmp/request-big.xml
printf '%s\n%s%s%s%s%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
	'<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held"' \
	' responseTime="emergencyRouting"><locationType exact="false">civic geodetic' \
	'</locationType><device xmlns="urn:ietf:params:xml:ns:geopriv:held:id">' \
	"$element" '</device></locationRequest>' >"$body"
mkdir -p "$tmp/nginx-big/html"
code=$(held_post "$lisd2_port" "$tmp/nginx-big/html/held")
{ [ "$code" = 200 ] && grep -q 'locationResponse' "$tmp/nginx-big/html/held"; } ||
	die "lisd did not locate $kind $value: $code $(head -c 300 "$tmp/nginx-big/html/held")"
big_answer_size=$(wc -c <"$tmp/nginx-big/html/held")
start_nginx "$tmp/nginx-big" "$big_answer_size"
big_from=$(wc -l <"$tmp/lisd-reload.log")
targets=$tmp/targets-big.txt
take_turns big "$lisd2_pid" "$lisd2_port" "$tmp/lisd-reload.log" "$db_wm"
targets=
big_lisd_stat=$turn_lisd
big_cpu=$turn_cpu
big_nginx_stat=$turn_nginx
big_rounds_line=$turn_line
big_results=$(tail -n +"$((big_from + 1))" "$tmp/lisd-reload.log" | grep ' held ' |
	grep -o 'result=[^ ]*' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
same_loads big "$lisd2_port" "$tmp/lisd-reload.log" "$db_wm" "$(field "$big_lisd_stat" rps)"
big_rate_lines=("${turn_rates[@]}")
big_yield_lines=("${turn_yield[@]}")
big_rate_rounds=("${turn_rate_rounds[@]}")
kill "$nginx_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=
body=$sample_body

# Full reloads forced in the same lisd, as start-up and recovery do them (issue 13): a change
# to a site is never a delta, so `UPDATE site SET name = name` (one transaction) makes lisd
# load the whole wiremap again. Each is timed from its commit (psql's return) to the
# timestamp of lisd's `wiremap loaded trigger=change` line, the new snapshot built; one after
# the other, as the next commit waits for that line. VmRSS is read before the first and one
# second after the last (a settling gap, not a measure: the old snapshot is freed after the
# line); VmHWM is the peak of lisd's whole life, start-up included.
full_reloads=${BENCH_FULL_RELOADS:-5}
vm() { awk -v k="$1:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$lisd2_pid/status"; }
# What new memory costs on this machine just before: a reload writes its new snapshot (and
# the builder's rows) into memory lisd has not touched, and lisd gives the old one back.
fresh_stat=$("$build/bench/wm_bench" --fresh 256) || die "wm_bench --fresh failed"
say "lisd on the $wm_filled-entry wiremap: $full_reloads full reloads"
full_rss_before=$(vm VmRSS)
full_ms=()
for _ in $(seq 1 "$full_reloads"); do
	loads=$(grep -c 'wiremap loaded trigger=' "$tmp/lisd-reload.log" || true)
	psql_q "$db_wm" -c 'UPDATE site SET name = name'
	t0=$(now_ms)
	for _ in $(seq 1 6000); do
		[ "$(grep -c 'wiremap loaded trigger=' "$tmp/lisd-reload.log")" -gt "$loads" ] &&
			break
		kill -0 "$lisd2_pid" 2>/dev/null || die "lisd exited during a full reload"
		sleep 0.01
	done
	line=$(grep 'wiremap loaded trigger=' "$tmp/lisd-reload.log" | sed -n "$((loads + 1))p")
	[ -n "$line" ] || die "lisd logged no full reload within 60 s of its trigger"
	case $line in *trigger=change*) ;; *) die "not a full reload after a site change: $line" ;;
	esac
	full_ms+=($(( $(date -d "${line%% *}" +%s%3N) - t0 )))
done
sleep 1
full_rss_after=$(vm VmRSS)
full_hwm=$(vm VmHWM)
full_stat=$(printf '%s\n' "${full_ms[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	printf "median=%s min=%s max=%s", v[int((NR + 1) / 2)], v[1], v[NR] }')
kill "$lisd2_pid" 2>/dev/null || true
wait "$lisd2_pid" 2>/dev/null || true
lisd2_pid=

# The standby: a base backup of the cluster, started as a hot standby on its own socket.
say "streaming standby of the bench cluster, and a lisd reading from it"
mkdir -p "$tmp/pg2"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp/pg2"
as_pg "$pgbin/pg_basebackup" -h "$tmp/pg" -U postgres -D "$tmp/pg2/data" -R -X stream -c fast \
	>"$tmp/basebackup.log" 2>&1 || die "pg_basebackup failed: $(tail -n 5 "$tmp/basebackup.log")"
as_pg "$pgbin/pg_ctl" -D "$tmp/pg2/data" -l "$tmp/pg2/log" -w -t 60 \
	-o "-c listen_addresses='' -k $tmp/pg2 -c shared_buffers=512MB -c max_wal_size=8GB -c max_connections=50" \
	start >/dev/null || die "pg_ctl start (standby) failed: $(tail -n 5 "$tmp/pg2/log")"
standby_started=1
lisd3_port=$(free_port)
lis_conf "$tmp/lis-standby.conf" "$lisd3_port" "$db_wm"
sed -i "s|^conninfo = .*|&\nread_conninfo = host=$tmp/pg2 user=postgres dbname=wiremap|" \
	"$tmp/lis-standby.conf"
start_lisd "$tmp/lis-standby.conf" "$tmp/lisd-standby.log" "$lisd3_port" 120
lisd2_pid=$started_pid
standby_stat=$(delta_under_load "$db_wm" "$lisd3_port" standby \
	"host=$tmp/pg2 user=postgres dbname=wiremap")
standby_loads=$(( $(grep -c 'wiremap loaded trigger=' "$tmp/lisd-standby.log" || true) - 1 ))
kill "$lisd2_pid" 2>/dev/null || true
wait "$lisd2_pid" 2>/dev/null || true
lisd2_pid=

# ---------------------------------------------------------------- report
# print_rates [--more] LINE...: the table and the ratios of same_loads' lines (lisd's, then
# nginx's, in pairs). With --more, rows for a table already printed: no heading, and only the
# first line of each pair (nginx's was in the table already).
# shellcheck disable=SC2086  # a line is split into its fields on purpose
print_rates() {
	local line st l i more=
	[ "$1" != --more ] || { more=1; shift; }
	local -a lines=("$@")
	if [ -z "$more" ]; then
		echo "   the same load on both: a fixed rate, $conns connections at rate/$conns req/s each"
		echo "   (h2load --rps, one request in flight per connection), ${duration} after a 2 s warm-up"
		printf '   %5s %8s %-6s %9s %8s %8s %9s %8s %7s %6s\n' 'share' 'rate' server req/s \
			p50_ms p99_ms p99.9_ms max_ms non2xx failed
	fi
	for ((i = 0; i < ${#lines[@]}; i++)); do
		[ -z "$more" ] || [ $((i % 2)) -eq 0 ] || continue
		set -- ${lines[i]}
		st=${*:4}
		printf '   %4s%% %8s %-6s %9s %8s %8s %9s %8s %7s %6s\n' "$1" "$2" "$3" \
			"$(field "$st" rps)" "$(ms "$(field "$st" p50_us)")" \
			"$(ms "$(field "$st" p99_us)")" "$(ms "$(field "$st" p999_us)")" \
			"$(ms "$(field "$st" max_us)")" "$(field "$st" non2xx)" "$(field "$st" failed)"
	done
	for ((i = 0; i + 1 < ${#lines[@]}; i += 2)); do
		set -- ${lines[i]}
		l=${*:4}
		local who=$3
		set -- ${lines[i + 1]}
		st=${*:4}
		echo "   $who/nginx at $2 req/s:  p50 $(ratio "$(field "$l" p50_us)" \
			"$(field "$st" p50_us)")  p99 $(ratio "$(field "$l" p99_us)" \
			"$(field "$st" p99_us)")  p99.9 $(ratio "$(field "$l" p999_us)" \
			"$(field "$st" p999_us)")"
	done
}
# print_rate_rounds LINE...: same_loads' p99 ratios of every round.
print_rate_rounds() {
	local line
	echo "   p99 ratios against nginx in each of the $same_rounds rounds (* the round in the table; a"
	echo "   lisd-y ratio is against nginx's run of its own round):"
	for line in "$@"; do echo "     $line"; done
}
# print_cpu TURN_CPU [LINE]: take_turns' CPU per answer (and LINE, of another lisd, below it).
print_cpu() {
	echo "   CPU per answer in that round, us (user + system):"
	echo "     lisd $(field "$1" lisd_us) (request threads $(field "$1" workers_us)), PostgreSQL" \
		"$(field "$1" pg_us) (backends $(field "$1" pgb_us)), nginx $(field "$1" nginx_us)"
	[ -z "${2:-}" ] || echo "     $2"
	echo "   (lisd and PostgreSQL from the warm-up until the query log of its answers was stored;"
	echo "    PostgreSQL's backends store the query log, its other processes write and flush"
	echo "    what they did; nginx over its warm-up and run)"
}
# print_stat NAME WRKSTAT [NOTE]: one row of a wrk table.
print_stat() {
	local st=$2 errs
	errs=$(( $(field "$st" connect_err) + $(field "$st" read_err) + $(field "$st" write_err) +
		$(field "$st" timeout) ))
	printf '   %-6s %11s %10s %10s %10s %8s %8s%s\n' "$1" "$(field "$st" rps)" \
		"$(ms "$(field "$st" p50_us)")" "$(ms "$(field "$st" p99_us)")" \
		"$(ms "$(field "$st" max_us)")" "$(field "$st" non2xx)" "$errs" "${3:+   $3}"
}
{
	echo "lis bench report  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "CPU busy in the second before the HELD runs: $busy_before% (other work skews the figures)"
	echo "machine: $(nproc) cores, $(uname -sr); $("$lisd" --version 2>&1 | head -n1);" \
		"$(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -n1 | awk '{print "wrk", $2}');" \
		"PostgreSQL $(basename "$(dirname "$pgbin")")"
	echo
	echo "1. HELD POST over HTTPS, keep-alive: wrk -t$wrk_threads -c$conns -d$duration --latency (2 s warm-up first)"
	echo "   lisd:  $server_threads threads, wiremap $wiremap_src, answer $answer_size bytes, TLS $lisd_tls"
	echo "          $lisd_nice_said; nginx workers and wrk at nice 0"
	echo "          CPU seconds of each request thread since start: $thread_cpu"
	echo "   nginx: $server_threads workers, same cert ($key_type), static file of $answer_size bytes, TLS $nginx_tls"
	echo "   lisd answers during the runs: ${lisd_results:-none logged}"
	echo "   $rounds rounds, lisd then nginx, req/s and ratio: $rounds_line"
	echo "   (* the round with the median ratio: the table below and the ratios are that round's)"
	echo
	printf '   %-6s %11s %10s %10s %10s %8s %8s\n' server req/s p50_ms p99_ms max_ms non2xx errors
	print_stat lisd "$lisd_stat"
	print_stat nginx "$nginx_stat"
	print_stat lisd+n "$notify_stat" "(lisd, [notify] enabled)"
	print_stat lisd+d "$decl_stat" "(lisd, declared addresses, $decl_size bytes)"
	print_stat lisd-q "$noql_stat" "(lisd, [querylog] enabled = false: no row per answer)"
	echo
	echo "   lisd/nginx  req/s $(ratio "$(field "$lisd_stat" rps)" "$(field "$nginx_stat" rps)")" \
		"  p50 $(ratio "$(field "$lisd_stat" p50_us)" "$(field "$nginx_stat" p50_us)")" \
		"  p99 $(ratio "$(field "$lisd_stat" p99_us)" "$(field "$nginx_stat" p99_us)")"
	echo "   (req/s ratio < 1 and latency ratios > 1 are the price of HELD parsing, resolving from"
	echo "    lisd's in-memory wiremap snapshot (no SQL per request), PIDF-LO building and"
	echo "    storing every answer in the query log over serving the same bytes from a file)"
	print_cpu "$lisd_cpu" "lisd-q: lisd $(field "$noql_cpu" lisd_us), PostgreSQL nothing to store"
	if [ ${#rate_lines[@]} -gt 0 ]; then
		echo
		print_rates "${rate_lines[@]}"
		if [ ${#noql_rate_lines[@]} -gt 0 ]; then
			local_pairs=()
			for ((i = 0; i < ${#noql_rate_lines[@]}; i++)); do
				local_pairs+=("${noql_rate_lines[i]}" "${rate_lines[2 * i + 1]}")
			done
			print_rates --more "${local_pairs[@]}"
		fi
		[ ${#yield_lines[@]} -eq 0 ] || print_rates --more "${yield_lines[@]}"
		print_rate_rounds "${rate_rounds[@]}"
		echo "   (share: of lisd's req/s in the reported round. Below saturation a request waits"
		echo "    only for what runs beside it on the 2 cores: for lisd, PostgreSQL storing its"
		echo "    query log a batch at a time (lisd-q: none; lisd-y: PostgreSQL at nice 19, its"
		echo "    autogroups too, while h2load ran), for nginx nothing)"
	fi
	echo "   declared/office       req/s $(ratio "$(field "$decl_stat" rps)" \
		"$(field "$lisd_stat" rps)")  p50 $(ratio "$(field "$decl_stat" p50_us)" \
		"$(field "$lisd_stat" p50_us)")  p99 $(ratio "$(field "$decl_stat" p99_us)" \
		"$(field "$lisd_stat" p99_us)")"
	echo "   (lisd+d: the client is a remote softphone user (VPN binding, remote subnet); every"
	echo "    answer is the user's declared address, method Manual, through the class policy)"
	echo "   notifications on/off  req/s $(ratio "$(field "$notify_stat" rps)" \
		"$(field "$lisd_stat" rps)")  p50 $(ratio "$(field "$notify_stat" p50_us)" \
		"$(field "$lisd_stat" p50_us)")  p99 $(ratio "$(field "$notify_stat" p99_us)" \
		"$(field "$lisd_stat" p99_us)")"
	echo "   (lisd+n: every request an emergency call of one target; $notify_made,"
	echo "    $notify_got delivered to syslog. The query log of a run was all in PostgreSQL"
	echo "    ${off_catch_up_ms:-NOT within 60 s} ms (off) and ${catch_up_ms:-NOT within 60 s} ms (on) after its load ended:"
	echo "    notifications are the inserter's work; no answer waits for them)"
	echo "   new connections: $new_conns of each, one request on each (bench/new_conn.py, Python's"
	echo "   ssl), the client's socket without TCP_NODELAY (nagle) and with it; medians and p90, ms"
	echo "   server   client     handshake_p50  handshake_p90  answer_p50  answer_p90  failed"
	for nc_line in "${new_conn_lines[@]}"; do
		# shellcheck disable=SC2086  # a line is split into its fields on purpose
		printf '   %-8s %-10s %13s  %13s  %10s  %10s  %6s\n' $nc_line
	done
	echo "   (handshake: connect and TLS; answer: request sent to whole answer in. A client"
	echo "    that keeps Nagle's algorithm waits for the acknowledgement of its last write"
	echo "    before sending the request: lisd acknowledges a TLS 1.3 Finished at once)"
	echo
	echo "1b. The same on the $wm_filled-entry wiremap of section 4 (lisd of section 5): each request"
	echo "   names a device, at random among $big_targets (IPs of IP-MAC bindings, MACs on a located"
	echo "   port or on Wi-Fi, SIP URIs of endpoints; RFC 6155, lisd authorizes 127.0.0.1 for them)"
	echo "   nginx: lisd's answer to the first of them, $big_answer_size bytes"
	echo "   lisd answers during the runs: ${big_results:-none logged}"
	echo "   $rounds rounds, lisd then nginx, req/s and ratio: $big_rounds_line"
	echo
	printf '   %-6s %11s %10s %10s %10s %8s %8s\n' server req/s p50_ms p99_ms max_ms non2xx errors
	print_stat lisd "$big_lisd_stat"
	print_stat nginx "$big_nginx_stat"
	echo
	echo "   lisd/nginx  req/s $(ratio "$(field "$big_lisd_stat" rps)" \
		"$(field "$big_nginx_stat" rps)")  p50 $(ratio "$(field "$big_lisd_stat" p50_us)" \
		"$(field "$big_nginx_stat" p50_us)")  p99 $(ratio "$(field "$big_lisd_stat" p99_us)" \
		"$(field "$big_nginx_stat" p99_us)")"
	print_cpu "$big_cpu"
	if [ ${#big_rate_lines[@]} -gt 0 ]; then
		echo
		print_rates "${big_rate_lines[@]}"
		[ ${#big_yield_lines[@]} -eq 0 ] || print_rates --more "${big_yield_lines[@]}"
		print_rate_rounds "${big_rate_rounds[@]}"
		echo "   (the first device alone: h2load sends one body)"
	fi
	echo
	echo "2. SQL baseline: subnet lookup via db_lookup_subnet(), $lookups lookups per size (80% inside"
	echo "   a stored prefix). lisd no longer runs it per request (it answers from memory, see 3):"
	echo "   this is the PostgreSQL index alone, what the old per-request path cost"
	printf '%9s %9s %9s %9s   %6s %6s %6s   %s\n' subnets mean_us p50_us p99_us xmean xp50 xp99 "index used"
	printf '%s\n' "${lookup_lines[@]}"
	echo "   (x... = ratio against the first size; ~1 at 1000x the subnets means the index keeps"
	echo "    the lookup flat)"
	if [ -n "$whatif_line" ]; then
		echo "   what-if, same rows with a $whatif_am (inet_ops) index instead of the schema's ${schema_am:-none}:"
		printf '%s\n' "$whatif_line"
	fi
	echo
	echo "   plan of the lookup at $filled subnets, for an address in $plan_prefix:"
	printf '     %s\n' "${plan//$'\n'/$'\n'     }"
	echo
	echo "3. In-memory wiremap (wm_bench, built through wm_builder, no database): mixed entries"
	echo "   (subnets, switches, ports, BSSIDs, endpoints, ip-mac/mac-port/mac-bssid bindings)"
	printf '%9s %9s %9s %9s %9s %9s %6s %6s %6s   %6s %7s %6s\n' entries build_ms B/entry \
		resolve_ns cpu_ns subnet_ns ip mac uri xres miss_ns waits
	printf '%s\n' "${wm_lines[@]}"
	echo "   (resolve_ns: mean wm_resolve by ip, mac or SIP URI, all located; cpu_ns: the same in"
	echo "    the thread's CPU time, steadier on a busy machine; ip, mac, uri: the same targets"
	echo "    again, one kind at a time (ns); xres = resolve_ns against the first size: what is"
	echo "    left of it is cache misses, the tables grow 100x; miss_ns: one load whose address"
	echo "    the load before gave, at random over the snapshot's bytes: this machine's price of"
	echo "    a miss at that size; waits = (resolve_ns - first size's) / miss_ns: the misses a"
	echo "    walk waits for one after the other, however well they overlap otherwise. xres"
	echo "    <= 1.5 allows (0.5 x the first resolve_ns) / miss_ns of them)"
	echo
	echo "4. Snapshot reload through PostgreSQL: wm_snapshot_load() (wm_bench --db, $reload_repeat loads"
	echo "   per size) of a wiremap filled with SQL (wiremap_fill.sql), then VACUUM ANALYZE"
	echo "   mix at $wm_filled: $reload_mix"
	printf '%9s %9s %9s %9s %9s %11s %9s   %6s\n' rows min_ms med_ms max_ms fetch_ms bytes B/entry xmed
	printf '%s\n' "${reload_lines[@]}"
	echo "   (fetch_ms: db_snapshot_load() alone into a sink that only counts: the queries, the"
	echo "    transfer, libpq; the rest of med_ms is wm_builder. xmed = ratio against the first"
	echo "    size: ~100 at 100x the rows is a reload linear in the wiremap)"
	echo "   lisd on the $wm_filled-entry wiremap: first load ${start_ms:-?} ms (its log's ms=)"
	echo "   full reload ms and peak RSS at $wm_filled: $full_reloads reloads" \
		"(UPDATE site SET name = name),"
	echo "   commit -> lisd's log line: median $(field "$full_stat" median) ms" \
		"(min $(field "$full_stat" min), max $(field "$full_stat" max));"
	echo "   VmRSS ${full_rss_before:-?} MiB before them, ${full_rss_after:-?} MiB after," \
		"peak (VmHWM) ${full_hwm:-?} MiB"
	echo "   all (ms): ${full_ms[*]}"
	echo "   new memory here, just before them (wm_bench --fresh): 256 MiB mapped afresh as huge"
	echo "   pages written in $(field "$fresh_stat" fresh_ms) ms, the same again right after" \
		"unmapping it in $(field "$fresh_stat" again_ms) ms"
	echo "   (a reload writes VmHWM - VmRSS of new memory; where the first figure is many times"
	echo "    the second, the host takes idle free memory back and the reloads pay to get it)"
	echo
	echo "5. Change to answer (delta_latency: $delta_changes UPDATEs of one location's ROOM, wrk"
	echo "   loading lisd meanwhile): commit -> first HELD answer showing it, on 1 kept-alive connection"
	printf '   %-8s %8s %8s %8s %12s   %s\n' from p50_ms p99_ms max_ms "lisd req/s" \
		"full loads meanwhile"
	printf '   %-8s %8s %8s %8s %12s   %s\n' primary "$(field "$delta_stat" p50_ms)" \
		"$(field "$delta_stat" p99_ms)" "$(field "$delta_stat" max_ms)" \
		"$(wrk_rps "$tmp/wrk-delta-primary.log")" "$later_loads"
	printf '   %-8s %8s %8s %8s %12s   %s\n' shared "$(field "$shared_stat" p50_ms)" \
		"$(field "$shared_stat" p99_ms)" "$(field "$shared_stat" max_ms)" \
		"$(wrk_rps "$tmp/wrk-delta-primary-shared.log")" "$shared_loads"
	printf '   %-8s %8s %8s %8s %12s   %s\n' standby "$(field "$standby_stat" p50_ms)" \
		"$(field "$standby_stat" p99_ms)" "$(field "$standby_stat" max_ms)" \
		"$(wrk_rps "$tmp/wrk-delta-standby.log")" "$standby_loads"
	echo "   (lisd polls the change feed every 20 ms and applies the changed rows in place, no"
	echo "    full load. standby: lisd's [database] read_conninfo names a streaming standby and"
	echo "    the UPDATE commits on the primary. p99 over $delta_changes changes is the largest but one."
	echo "    lisd req/s: what wrk, a stand-in for remote clients, got meanwhile: in primary and"
	echo "    standby from a session of its own at the lowest weight (autogroups: $(autogroups)), so"
	echo "    that it does not take the turn of PostgreSQL, which is a session of its own too;"
	echo "    shared: the primary again with wrk in the bench's session at nice 10, where nice"
	echo "    does not weigh it against PostgreSQL's session)"
	echo "   standby, commit -> replayed there: p50 $(field "$standby_stat" replay_p50_ms)" \
		"p99 $(field "$standby_stat" replay_p99_ms) max $(field "$standby_stat" replay_max_ms) ms"
	echo "   (its pg_last_wal_replay_lsn() reaching the primary's pg_current_wal_lsn() read"
	echo "    after the commit, looked at between HELD requests: replication's share; the rest"
	echo "    of each change's time is lisd's)"
	echo "   all (ms), primary: $(field "$delta_stat" all_ms)"
	echo "   all (ms), shared: $(field "$shared_stat" all_ms)"
	echo "   all (ms), standby: $(field "$standby_stat" all_ms)"
	echo "   all (ms), standby replayed: $(field "$standby_stat" replay_all_ms)"
	echo
	echo "6. Two lisd behind HAProxy (TCP, PROXY protocol v2, leastconn) against one, same wrk"
	echo "   load (-t$wrk_threads -c$conns -d$duration) against HAProxy; everything on this machine"
	printf '   %-10s %11s %10s %10s %8s %8s\n' behind req/s p50_ms p99_ms non2xx errors
	for n in 1 2; do
		st=${bal_stat[$((n - 1))]}
		errs=$(( $(field "$st" connect_err) + $(field "$st" read_err) + $(field "$st" write_err) + $(field "$st" timeout) ))
		printf '   %-10s %11s %10s %10s %8s %8s\n' "$n lisd" "$(field "$st" rps)" \
			"$(ms "$(field "$st" p50_us)")" "$(ms "$(field "$st" p99_us)")" \
			"$(field "$st" non2xx)" "$errs"
	done
	echo "   two/one req/s $(ratio "$(field "${bal_stat[1]}" rps)" "$(field "${bal_stat[0]}" rps)");" \
		"HAProxy + 1 lisd against lisd direct (section 1):" \
		"$(ratio "$(field "${bal_stat[0]}" rps)" "$(field "$lisd_stat" rps)")"
	echo "   requests each lisd answered over both runs (lisd 1/lisd 2): $bal_share"
	echo "   (on $(nproc) cores the lisd, HAProxy and wrk share the CPU: a second lisd on the same"
	echo "    machine cannot add capacity; across two hosts each lisd has its own)"
} | tee "$report"
say "report written to $report"
