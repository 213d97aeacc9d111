#!/usr/bin/env bash
# bench/collector.sh: one `wiremapd --once` cycle over N simulated 48-port switches
# (N = 100, 1000, 10000 by default), each an SNMP agent of its own on 127.0.0.1.
#
# Per size: cycle time (wall), time per switch, CPU (user+sys) of wiremapd, of the simulated
# agents and of PostgreSQL separately, wiremapd's max RSS, and what the cycle wrote.
# The aims: 1000 switches in under 5 minutes (issue 4); an agent simulator that costs less
# CPU than the collector it feeds, and one cycle of 10,000 switches (issue 13).
#
# The agents: bench/snmp_agent_sim (C, one epoll loop, one UDP port per switch, one recording
# template expanded per switch as it answers; BENCH_SIMULATOR=c, the default) or snmpsimd
# (Python, one recording file per switch; BENCH_SIMULATOR=snmpsim, the reference). Both replay
# the recordings bench/collector_rec.py writes. Before measuring with c, a check polls 5
# switches through each and fails the run unless wiremapd wrote the same rows and the agents
# answered the same walks (BENCH_CHECK=0 skips it).
#
# Standalone (bench/run.sh is the lisd bench): builds wiremapd, lisctl and snmp_agent_sim in
# BENCH_BUILD (release), starts its own PostgreSQL (temporary directory, Unix socket only) and
# the agents on loopback, and stops everything at exit, also on failure or Ctrl-C. The whole
# run is bounded: BENCH_TIME_LIMIT seconds (600) from start; a size that cannot finish in
# what is left is skipped and said so. Report: stdout and bench/out/collector.txt.
#
# Knobs (environment): BENCH_COLLECTOR_SIZES ("100 1000 10000", ascending), BENCH_SIMULATOR
# (c or snmpsim), BENCH_CHECK (1), BENCH_SNMPSIM_PROCS (2: snmpsimd processes the endpoints
# are spread over), BENCH_CONCURRENCY (64: wiremapd [poll] concurrency), BENCH_TIMEOUT_MS
# (3000), BENCH_RETRIES (2), BENCH_TIME_LIMIT (600), BENCH_BUILD (build-bench), BENCH_KEEP
# (0: 1 keeps the temporary directory), BENCH_WRAP ("": a command wiremapd runs under, e.g.
# "perf record -g -o /tmp/wmd.perf" or "strace -f -T -o /tmp/wmd.strace").
set -euo pipefail

T0=$SECONDS
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
build=${BENCH_BUILD:-$top/build-bench}
sizes=${BENCH_COLLECTOR_SIZES:-"100 1000 10000"}
simulator=${BENCH_SIMULATOR:-c}
check=${BENCH_CHECK:-1}
check_n=5
snmpsim_procs=${BENCH_SNMPSIM_PROCS:-2}
concurrency=${BENCH_CONCURRENCY:-64}
timeout_ms=${BENCH_TIMEOUT_MS:-3000}
retries=${BENCH_RETRIES:-2}
limit=${BENCH_TIME_LIMIT:-600}
out_dir=$here/out
report=$out_dir/collector.txt

case $simulator in
c|snmpsim) ;;
*) echo "collector: error: BENCH_SIMULATOR=$simulator: c or snmpsim" >&2; exit 1 ;;
esac

say() { printf 'collector: %s\n' "$*" >&2; }
die() { printf 'collector: error: %s\n' "$*" >&2; exit 1; }
left() { echo $((limit - (SECONDS - T0))); }

# ---------------------------------------------------------------- packages
packages=(snmpsim snmp postgresql python3 meson ninja-build pkg-config gcc libpq-dev
	  libxml2-dev libmicrohttpd-dev libinih-dev libcsv-dev libgnutls28-dev liburcu-dev
	  libssl-dev libsnmp-dev libnl-3-dev libnl-route-3-dev time)
missing=()
for p in "${packages[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root or install them)"
	say "installing ${missing[*]}"
	policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then   # no packaged service starts while we install
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
		>/dev/null 2>&1 || { apt-get update >/dev/null; DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
	[ -n "$made_policy" ] && rm -f "$policy"
fi

# ---------------------------------------------------------------- build
if [ ! -f "$build/build.ninja" ]; then
	say "configuring $build (release)"
	meson setup "$build" "$top" -Dbuildtype=release >/dev/null
fi
say "building wiremapd, lisctl and snmp_agent_sim in $build"
# ninja regenerates a build directory configured before wiremap/wiremapd existed
mkdir -p "$out_dir"
ninja -C "$build" wiremap/wiremapd/wiremapd lis/lisctl/lisctl bench/snmp_agent_sim \
	>"$out_dir/collector-build.log" 2>&1 ||
	{ tail -n 20 "$out_dir/collector-build.log" >&2; die "build failed (ninja -C $build)"; }
wiremapd=$build/wiremap/wiremapd/wiremapd
lisctl=$build/lis/lisctl/lisctl
agent_sim=$build/bench/snmp_agent_sim
[ -x "$wiremapd" ] && [ -x "$lisctl" ] && [ -x "$agent_sim" ] ||
	die "no wiremapd/lisctl/snmp_agent_sim in $build"

# ---------------------------------------------------------------- clean-up
tmp=$(mktemp -d /tmp/lis-collector-XXXXXX)
chmod 755 "$tmp"
cur_pids=()
pg_up=
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi; }
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${cur_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$pg_up" ] && as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null 2>&1
	for p in "${cur_pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- recordings
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
python3 "$here/collector_rec.py" template "$tmp/switch.snmprec"
varbinds=$(wc -l <"$tmp/switch.snmprec")
chmod -R a+rX "$tmp"

# ---------------------------------------------------------------- agents
# start_snmpsim N DIR / start_csim N DIR: switch i (0-based) answers on 127.0.0.1:$sim_base + i;
# the processes are in cur_pids (the clean-up ends them too); stop_sims ends them.
sim_base=
start_snmpsim() {
	local n=$1 dir=$2 procs=$snmpsim_procs per k i args last t0=$SECONDS
	# select() in snmpsimd: keep each process well under 1024 sockets
	per=$(( (n + procs - 1) / procs ))
	while [ "$per" -gt 800 ]; do procs=$((procs + 1)); per=$(( (n + procs - 1) / procs )); done
	say "writing $n recordings for $procs snmpsimd processes"
	python3 "$here/collector_rec.py" expand "$tmp/switch.snmprec" "$dir" "$n" "$procs"
	# Ports: a block of free UDP ports, switch i on base + i.
	sim_base=$(python3 - "$n" <<'EOF'
import socket, sys, random
n = int(sys.argv[1])
for _ in range(200):
    b = random.randrange(20000, 60000 - n)
    socks = []
    try:
        for p in range(b, b + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
        print(b)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
EOF
)
	[ -n "$sim_base" ] || die "no block of $n free UDP ports on 127.0.0.1"
	local user_opts=()
	[ "$(id -u)" -eq 0 ] && user_opts=(--process-user=nobody --process-group=nogroup)
	chmod -R a+rX "$dir"
	cur_pids=()
	for k in $(seq 0 $((procs - 1))); do
		args="$dir/sim$k.args"
		: >"$args"
		for ((i = k; i < n; i += procs)); do
			echo "--agent-udpv4-endpoint=127.0.0.1:$((sim_base + i))" >>"$args"
		done
		mkdir -p "$dir/cache$k"
		chmod 777 "$dir/cache$k"
		snmpsimd --v2c-arch --data-dir="$dir/sim$k" --cache-dir="$dir/cache$k" \
			--args-from-file="$args" --logging-method=null "${user_opts[@]}" \
			>"$dir/sim$k.log" 2>&1 &
		cur_pids+=($!)
	done
	# every process answers on its last endpoint once it has indexed its recordings
	for k in $(seq 0 $((procs - 1))); do
		last=$(( ( (n - 1 - k) / procs ) * procs + k ))
		until snmpget -v2c -c public -t 1 -r 0 -Oqv "127.0.0.1:$((sim_base + last))" \
			1.3.6.1.2.1.1.5.0 >/dev/null 2>&1; do
			kill -0 "${cur_pids[$k]}" 2>/dev/null ||
				die "snmpsimd $k exited: $(tail -3 "$dir/sim$k.log")"
			[ "$(left)" -gt 30 ] || die "snmpsimd not up within the time limit"
			sleep 1
		done
	done
	sim_desc="snmpsimd: $procs processes (--v2c-arch, one UDP endpoint and one recording"
	sim_desc+=" file per switch), up in $((SECONDS - t0))s"
}
start_csim() {
	local n=$1 dir=$2 t0=$SECONDS
	mkdir -p "$dir"
	chmod 777 "$dir"
	"$agent_sim" --count "$n" --ready-file "$dir/ready" "$tmp/switch.snmprec" \
		2>"$dir/sim.log" &
	cur_pids=($!)
	until [ -s "$dir/ready" ]; do
		kill -0 "${cur_pids[0]}" 2>/dev/null ||
			die "snmp_agent_sim exited: $(tail -3 "$dir/sim.log")"
		sleep 0.1
	done
	sim_base=$(cat "$dir/ready")
	sim_desc="snmp_agent_sim: 1 process (epoll, one UDP port per switch, one template"
	sim_desc+=" expanded per switch), up in $((SECONDS - t0))s"
}
stop_sims() {
	local p
	for p in "${cur_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${cur_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	cur_pids=()
}

# ---------------------------------------------------------------- PostgreSQL
mkdir -p "$tmp/pg"
chown postgres: "$tmp/pg" 2>/dev/null || true
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >"$tmp/initdb.log" 2>&1 ||
	die "initdb failed: $(tail -n 5 "$tmp/initdb.log")"
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w -o \
	"-k $tmp/pg -c listen_addresses= -c fsync=off -c synchronous_commit=off" start >/dev/null ||
	die "PostgreSQL did not start: $(tail -n 5 "$tmp/pg/log")"
pg_up=1
pg_pid=$(head -n1 "$tmp/pg/data/postmaster.pid")
psql -qAt -h "$tmp/pg" -U postgres -d postgres -c "CREATE DATABASE lis" >/dev/null
conninfo="host=$tmp/pg user=postgres dbname=lis"
"$lisctl" --db "$conninfo" db migrate >"$tmp/migrate.log" 2>&1 ||
	die "lisctl db migrate: $(tail -3 "$tmp/migrate.log")"
sql() { psql -qAt -h "$tmp/pg" -U postgres -d lis -v ON_ERROR_STOP=1 -c "$1"; }
sql "INSERT INTO site (key, name) VALUES ('bench', 'Bench');
     INSERT INTO switch (key, site_id, chassis_id, mgmt_address, snmp_port, poll_enabled)
       SELECT format('sw%s', lpad(i::text, greatest(4, length(i::text)), '0')),
              (SELECT id FROM site WHERE key = 'bench'),
              format('02:fe:%s:%s:00:00', lpad(to_hex((i - 1) >> 8), 2, '0'),
                     lpad(to_hex((i - 1) & 255), 2, '0')),
              '127.0.0.1', 161, false
       FROM generate_series(1, $max) AS i;" >/dev/null ||
	die "cannot insert the switches (schema 0003 missing?)"

cat >"$tmp/wiremapd.conf" <<EOF
[database]
conninfo = $conninfo
[snmp]
version = 2c
community = public
[poll]
concurrency = $concurrency
timeout_ms = $timeout_ms
retries = $retries
[netlink]
enabled = false
[log]
target = stderr
level = info
EOF

# CPU seconds (user+sys, reaped children included) of a pid, from /proc/PID/stat.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); s = $12 + $13 + $14 + $15;
		printf "%.2f\n", s / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# The same for a process and its live children (PostgreSQL: the postmaster, the backends and
# workers still running, and those it has reaped), so that a backend not yet reaped when
# wiremapd exits still counts.
cpu_tree() {
	local t p
	t=$(cpu_of "$1")
	for p in $(ps -o pid= --ppid "$1"); do
		t=$(awk -v a="$t" -v f="/proc/$p/stat" -v hz="$(getconf CLK_TCK)" 'BEGIN {
			s = 0; if ((getline l < f) > 0) { sub(/^.*\) /, "", l); split(l, x, " ");
			s = (x[12] + x[13]) / hz }; printf "%.2f\n", a + s }')
	done
	echo "$t"
}
cpu_sims() {
	local t=0 p
	for p in "${cur_pids[@]}"; do
		t=$(awk -v a="$t" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }')
	done
	echo "$t"
}
# Switch i answers on $sim_base + i - 1; the first n are polled, from empty tables.
point_switches() {
	sql "UPDATE switch SET snmp_port = $sim_base + substr(key, 3)::int - 1;
	     TRUNCATE binding_mac_port, binding_ip_mac, lldp_neighbor, mac_move, switch_poll_status;
	     UPDATE switch SET poll_enabled = (substr(key, 3)::int <= $1);" >/dev/null
}
# What a cycle wrote, without its times: one line a row, sorted.
dump_rows() {
	sql "SELECT 'mac_port ' || (to_jsonb(t) - 'first_seen' - 'last_seen')::text FROM binding_mac_port t
	     UNION ALL SELECT 'ip_mac ' || (to_jsonb(t) - 'first_seen' - 'last_seen')::text
	       FROM binding_ip_mac t
	     UNION ALL SELECT 'lldp ' || (to_jsonb(t) - 'first_seen' - 'last_seen')::text
	       FROM lldp_neighbor t
	     UNION ALL SELECT 'move ' || (to_jsonb(t) - 'id' - 'moved_at')::text FROM mac_move t
	     UNION ALL SELECT 'status ' || (to_jsonb(t) - 'last_attempt' - 'last_success')::text
	       FROM switch_poll_status t
	     ORDER BY 1"
}

# ---------------------------------------------------------------- check
# snmp_agent_sim against the reference: the same 5 switches through each, the rows wiremapd
# writes (times aside) and the agents' answers to a GETBULK walk and a GETNEXT walk must be
# the same to the byte, or the run stops before it measures anything.
if [ "$simulator" = c ] && [ "$check" = 1 ]; then
	for kind in snmpsim csim; do
		"start_$kind" "$check_n" "$tmp/check-$kind"
		point_switches "$check_n"
		"$wiremapd" -c "$tmp/wiremapd.conf" --once >/dev/null 2>"$tmp/check-$kind/wmd.err" ||
			die "check: wiremapd --once against $kind failed: $(tail -3 "$tmp/check-$kind/wmd.err")"
		dump_rows >"$tmp/check-$kind/rows"
		for ((i = 0; i < check_n; i++)); do
			snmpbulkwalk -v2c -c public -Cr25 -On "127.0.0.1:$((sim_base + i))" . \
				>>"$tmp/check-$kind/walks" || die "check: snmpbulkwalk of $kind switch $i"
		done
		snmpwalk -v2c -c public -On "127.0.0.1:$((sim_base + check_n - 1))" . \
			>>"$tmp/check-$kind/walks" || die "check: snmpwalk of $kind"
		stop_sims
	done
	rows=$(grep -c '^mac_port ' "$tmp/check-csim/rows" || true)
	[ "$rows" -eq $((check_n * 48)) ] ||
		die "check: $rows mac-port rows through snmp_agent_sim, not $((check_n * 48))"
	diff -u "$tmp/check-snmpsim/rows" "$tmp/check-csim/rows" >"$tmp/check.diff" ||
		die "check: wiremapd wrote other rows through snmp_agent_sim than through" \
		    "snmpsimd: $(head -n 12 "$tmp/check.diff")"
	diff -u "$tmp/check-snmpsim/walks" "$tmp/check-csim/walks" >"$tmp/check.diff" ||
		die "check: snmp_agent_sim answers walks otherwise than snmpsimd: $(head -n 12 "$tmp/check.diff")"
	check_line="check: $check_n switches through snmpsimd and snmp_agent_sim: the same"
	check_line+=" $(wc -l <"$tmp/check-csim/rows") rows written, the same"
	check_line+=" $(wc -l <"$tmp/check-csim/walks") walk lines"
	say "$check_line"
fi

# ---------------------------------------------------------------- agents for the cycles
if [ "$simulator" = c ]; then
	start_csim "$max" "$tmp/csim"
else
	start_snmpsim "$max" "$tmp/snmpsim"
fi
say "$sim_desc"

# ---------------------------------------------------------------- cycles
mkdir -p "$out_dir"
{
	echo "wiremapd --once over N simulated 48+1-port switches ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
	echo "$sim_desc; $varbinds varbinds per switch"
	[ -n "${check_line:-}" ] && echo "$check_line"
	echo "wiremapd: concurrency=$concurrency timeout_ms=$timeout_ms retries=$retries, build $build"
	printf '%-6s %5s %9s %8s %9s %9s %8s %8s %7s %8s %7s %6s %6s\n' N exit cycle_s ms/sw \
		wmd_cpu_s sim_cpu_s pg_cpu_s rss_MiB ok_sw mac_port ip_mac lldp uplink
} | tee "$report"
status=0
prev=0
last_n=0
for n in $sizes; do
	# estimate from the last size (linear) plus a margin; skip what cannot finish in time
	need=$(awk -v p="$prev" -v n="$n" -v l="$last_n" 'BEGIN { if (l > 0) printf "%d", p * n / l * 1.3 + 10; else print 10 }' 2>/dev/null || echo 10)
	if [ "$(left)" -lt "$need" ]; then
		echo "N=$n skipped: ~${need}s needed, $(left)s left of BENCH_TIME_LIMIT=$limit" | tee -a "$report"
		status=1
		continue
	fi
	point_switches "$n"
	sim0=$(cpu_sims)
	pg0=$(cpu_tree "$pg_pid")
	t1=$(date +%s.%N)
	rc=0
	timeout --signal=TERM --kill-after=10 "$(left)" /usr/bin/time -f '%e %U %S %M' \
		-o "$tmp/time.$n" ${BENCH_WRAP:-} "$wiremapd" -c "$tmp/wiremapd.conf" --once \
		>"$tmp/wmd.$n.out" 2>"$tmp/wmd.$n.err" || rc=$?
	t2=$(date +%s.%N)
	sim1=$(cpu_sims)
	pg1=$(cpu_tree "$pg_pid")
	read -r _ ucpu scpu rss_kb < <(tail -n1 "$tmp/time.$n" 2>/dev/null || echo "0 0 0 0")
	okn=$(sql "SELECT count(*) FROM switch_poll_status WHERE last_success IS NOT NULL AND last_error IS NULL")
	mp=$(sql "SELECT count(*) FROM binding_mac_port")
	im=$(sql "SELECT count(*) FROM binding_ip_mac")
	ll=$(sql "SELECT count(*) FROM lldp_neighbor")
	up=$(sql "SELECT coalesce(sum(cardinality(uplink_ports)), 0) FROM switch_poll_status")
	awk -v n="$n" -v rc="$rc" -v t1="$t1" -v t2="$t2" -v u="$ucpu" -v s="$scpu" \
		-v s0="$sim0" -v s1="$sim1" -v p0="$pg0" -v p1="$pg1" -v rss="$rss_kb" -v ok="$okn" \
		-v mp="$mp" -v im="$im" -v ll="$ll" -v up="$up" 'BEGIN {
		c = t2 - t1
		printf "%-6d %5d %9.1f %8.1f %9.1f %9.1f %8.1f %8.1f %7d %8d %7d %6d %6d\n", n, rc, c,
			1000 * c / n, u + s, s1 - s0, p1 - p0, rss / 1024, ok, mp, im, ll, up }' |
		tee -a "$report"
	prev=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%d", b - a + 1 }')
	last_n=$n
	if [ "$rc" -ne 0 ] || [ "$okn" -ne "$n" ]; then
		status=1
		echo "  N=$n: exit $rc, $okn of $n switches answered; last lines of wiremapd:" | tee -a "$report"
		grep -v 'result=ok' "$tmp/wmd.$n.err" | tail -n 5 | sed 's/^/    /' | tee -a "$report"
	fi
	awk -v u="$ucpu" -v s="$scpu" -v s0="$sim0" -v s1="$sim1" 'BEGIN {
		w = u + s; a = s1 - s0
		printf "  agents: %.1f CPU s against wiremapd'"'"'s %.1f: %s\n", a, w,
			a < w ? "cheaper than the collector" : "NOT cheaper than the collector" }' |
		tee -a "$report"
	if [ "$n" -eq 1000 ]; then
		verdict=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print (b - a < 300) ? "under" : "OVER" }')
		echo "  aim: 1000 switches in under 300 s: $verdict" | tee -a "$report"
	fi
done
echo "total bench time $((SECONDS - T0))s (limit ${limit}s); report in $report" | tee -a "$report"
exit $status
