#!/usr/bin/env bash
# bench/collector.sh: one `wiremapd --once` cycle over N simulated 48-port switches
# (N = 100, 500, 1000 by default), each an snmpsimd endpoint of its own on 127.0.0.1.
#
# Per size: cycle time (wall), time per switch, CPU (user+sys) of wiremapd, of the snmpsimd
# processes and of PostgreSQL separately, wiremapd's max RSS, and what the cycle wrote.
# The aim (issue 4): 1000 switches in under 5 minutes on this 2-core machine.
#
# Standalone (bench/run.sh is the lisd bench): builds wiremapd and lisctl in BENCH_BUILD
# (release), starts its own PostgreSQL (temporary directory, Unix socket only) and snmpsimd
# processes on loopback, and stops everything at exit, also on failure or Ctrl-C. The whole
# run is bounded: BENCH_TIME_LIMIT seconds (600) from start; a size that cannot finish in
# what is left is skipped and said so. Report: stdout and bench/out/collector.txt.
#
# Knobs (environment): BENCH_COLLECTOR_SIZES ("100 500 1000", ascending), BENCH_SNMPSIM_PROCS
# (2: snmpsimd processes the endpoints are spread over), BENCH_CONCURRENCY (64: wiremapd
# [poll] concurrency), BENCH_TIMEOUT_MS (3000), BENCH_RETRIES (2), BENCH_TIME_LIMIT (600),
# BENCH_BUILD (build-bench), BENCH_KEEP (0: 1 keeps the temporary directory).
set -euo pipefail

T0=$SECONDS
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
build=${BENCH_BUILD:-$top/build-bench}
sizes=${BENCH_COLLECTOR_SIZES:-"100 500 1000"}
procs=${BENCH_SNMPSIM_PROCS:-2}
concurrency=${BENCH_CONCURRENCY:-64}
timeout_ms=${BENCH_TIMEOUT_MS:-3000}
retries=${BENCH_RETRIES:-2}
limit=${BENCH_TIME_LIMIT:-600}
out_dir=$here/out
report=$out_dir/collector.txt

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
say "building wiremapd and lisctl in $build"
# ninja regenerates a build directory configured before wiremap/wiremapd existed
mkdir -p "$out_dir"
ninja -C "$build" wiremap/wiremapd/wiremapd lis/lisctl/lisctl >"$out_dir/collector-build.log" 2>&1 ||
	{ tail -n 20 "$out_dir/collector-build.log" >&2; die "build failed (ninja -C $build)"; }
wiremapd=$build/wiremap/wiremapd/wiremapd
lisctl=$build/lis/lisctl/lisctl
[ -x "$wiremapd" ] && [ -x "$lisctl" ] || die "no wiremapd/lisctl in $build"

# ---------------------------------------------------------------- clean-up
tmp=$(mktemp -d /tmp/lis-collector-XXXXXX)
chmod 755 "$tmp"
sim_pids=()
pg_up=
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi; }
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${sim_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$pg_up" ] && as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null 2>&1
	for p in "${sim_pids[@]}"; do
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
# select() in snmpsimd: keep each process well under 1024 sockets
per=$(( (max + procs - 1) / procs ))
while [ "$per" -gt 800 ]; do procs=$((procs + 1)); per=$(( (max + procs - 1) / procs )); done

say "writing $max recordings for $procs snmpsimd processes"
python3 - "$tmp" "$max" "$procs" <<'EOF'
"""One recording per switch: 48 access ports (one host each: a learned MAC in BRIDGE-MIB and
Q-BRIDGE-MIB, its IP in ipNetToPhysicalTable, every other one an LLDP-MED phone with
inventory) and port 49, an uplink with 20 MACs behind it and a bridge LLDP neighbour. Switch i
(0-based) is endpoint i // procs ... of process i % procs: data dir sim<k>/public/<transport
id>.snmprec, as snmpsimd --v2c-arch picks it by the endpoint a request came in on."""
import os, sys

tmp, n, procs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LLDP = "1.0.8802.1.1.2.1"


def key(oid):
    return [int(x) for x in oid.split(".")]


def macidx(m):
    return ".".join(str(b) for b in m)


def machex(m):
    return "".join("%02x" % b for b in m)


for i in range(n):
    r = []
    add = lambda o, t, v: r.append((o, t, v))
    name = "sw%04d" % (i + 1)
    add("1.3.6.1.2.1.1.1.0", 4, "bench access switch 48+1 ports")
    add("1.3.6.1.2.1.1.3.0", 67, "100")
    add("1.3.6.1.2.1.1.5.0", 4, name)
    for p in range(1, 50):
        add("1.3.6.1.2.1.2.2.1.2.%d" % p, 4, "GigabitEthernet1/0/%d" % p)
        add("1.3.6.1.2.1.31.1.1.1.1.%d" % p, 4, "Gi1/0/%d" % p)
        add("1.3.6.1.2.1.31.1.1.1.18.%d" % p, 4, "uplink" if p == 49 else "desk %d" % p)
        add("1.3.6.1.2.1.17.1.4.1.2.%d" % p, 2, str(p))
        add(LLDP + ".3.7.1.2.%d" % p, 2, "5")
        add(LLDP + ".3.7.1.3.%d" % p, 4, "Gi1/0/%d" % p)
        add(LLDP + ".3.7.1.4.%d" % p, 4, "GigabitEthernet1/0/%d" % p)
    add(LLDP + ".3.1.0", 2, "4")
    add(LLDP + ".3.2.0", "4x", "02fe%04x0000" % i)
    add(LLDP + ".3.3.0", 4, name)
    fdb = [((2, 0, i >> 8, i & 255, 0, p), p) for p in range(1, 49)]
    fdb += [((2, 0xee, i >> 8, i & 255, 1, k), 49) for k in range(20)]
    for mac, port in fdb:
        add("1.3.6.1.2.1.17.4.3.1.1.%s" % macidx(mac), "4x", machex(mac))
        add("1.3.6.1.2.1.17.4.3.1.2.%s" % macidx(mac), 2, str(port))
        add("1.3.6.1.2.1.17.4.3.1.3.%s" % macidx(mac), 2, "3")
        add("1.3.6.1.2.1.17.7.1.2.2.1.2.1.%s" % macidx(mac), 2, str(port))
        add("1.3.6.1.2.1.17.7.1.2.2.1.3.1.%s" % macidx(mac), 2, "3")
    for mac, port in fdb[:48]:
        a = i * 64 + port   # 198.18.0.0/15 (benchmarking range): data only, never a target
        ip = "198.%d.%d.%d" % (18 + (a >> 16), (a >> 8) & 255, a & 255)
        idx = "100.1.4.%s" % ip
        add("1.3.6.1.2.1.4.35.1.4.%s" % idx, "4x", machex(mac))
        add("1.3.6.1.2.1.4.35.1.6.%s" % idx, 2, "3")
        add("1.3.6.1.2.1.4.35.1.7.%s" % idx, 2, "1")
    rem = [(p, fdb[p - 1][0], "SEP%s" % machex(fdb[p - 1][0]).upper(), "04")
           for p in range(1, 49, 2)]
    rem.append((49, (2, 0xfe, 0xff, 0, 0, i & 255), "core-%d" % (i % 4), "28"))
    for port, mac, sysname, caps in rem:
        idx = "0.%d.1" % port
        add(LLDP + ".4.1.1.4.%s" % idx, 2, "4")
        add(LLDP + ".4.1.1.5.%s" % idx, "4x", machex(mac))
        add(LLDP + ".4.1.1.6.%s" % idx, 2, "3")
        add(LLDP + ".4.1.1.7.%s" % idx, "4x", machex(mac))
        add(LLDP + ".4.1.1.9.%s" % idx, 4, sysname)
        add(LLDP + ".4.1.1.11.%s" % idx, "4x", caps)
        add(LLDP + ".4.1.1.12.%s" % idx, "4x", caps)
        if port != 49:
            for col, v in enumerate(["1", "2", "3", "S%s" % machex(mac), "ExampleTel",
                                     "DeskPhone 7", ""], 1):
                add(LLDP + ".5.4795.1.3.3.1.%d.%s" % (col, idx), 4, v)
    r.sort(key=lambda x: key(x[0]))
    d = os.path.join(tmp, "sim%d" % (i % procs), "public")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "1.3.6.1.6.1.1.%d.snmprec" % (i // procs)), "w") as f:
        f.write("".join("%s|%s|%s\n" % x for x in r))
EOF
varbinds=$(wc -l <"$tmp/sim0/public/1.3.6.1.6.1.1.0.snmprec")

# ---------------------------------------------------------------- snmpsimd
# Ports: a block of free UDP ports, switch i on base + i.
base=$(python3 - "$max" <<'EOF'
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
[ -n "$base" ] || die "no block of $max free UDP ports on 127.0.0.1"
user_opts=()
[ "$(id -u)" -eq 0 ] && user_opts=(--process-user=nobody --process-group=nogroup)
chmod -R a+rX "$tmp"
t_start=$SECONDS
for k in $(seq 0 $((procs - 1))); do
	args="$tmp/sim$k.args"
	: >"$args"
	for ((i = k; i < max; i += procs)); do
		echo "--agent-udpv4-endpoint=127.0.0.1:$((base + i))" >>"$args"
	done
	mkdir -p "$tmp/cache$k"
	chmod 777 "$tmp/cache$k"
	snmpsimd --v2c-arch --data-dir="$tmp/sim$k" --cache-dir="$tmp/cache$k" \
		--args-from-file="$args" --logging-method=null "${user_opts[@]}" \
		>"$tmp/sim$k.log" 2>&1 &
	sim_pids+=($!)
done
# every process answers on its last endpoint once it has indexed its recordings
for k in $(seq 0 $((procs - 1))); do
	last=$(( ( (max - 1 - k) / procs ) * procs + k ))
	until snmpget -v2c -c public -t 1 -r 0 -Oqv "127.0.0.1:$((base + last))" \
		1.3.6.1.2.1.1.5.0 >/dev/null 2>&1; do
		kill -0 "${sim_pids[$k]}" 2>/dev/null || die "snmpsimd $k exited: $(tail -3 "$tmp/sim$k.log")"
		[ "$(left)" -gt 30 ] || die "snmpsimd not up within the time limit"
		sleep 1
	done
done
sim_start=$((SECONDS - t_start))
say "snmpsimd: $procs processes, $max endpoints, up in ${sim_start}s"

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
       SELECT format('sw%s', lpad(i::text, 4, '0')), (SELECT id FROM site WHERE key = 'bench'),
              format('02:fe:%s:%s:00:00', lpad(to_hex((i - 1) >> 8), 2, '0'),
                     lpad(to_hex((i - 1) & 255), 2, '0')),
              '127.0.0.1', $base + i - 1, false
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
cpu_sims() { local t=0 p; for p in "${sim_pids[@]}"; do t=$(awk -v a="$t" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }'); done; echo "$t"; }

# ---------------------------------------------------------------- cycles
mkdir -p "$out_dir"
{
	echo "wiremapd --once over N simulated 48+1-port switches ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
	echo "snmpsimd: $procs processes (--v2c-arch, one UDP endpoint per switch), $varbinds varbinds per switch, started in ${sim_start}s"
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
	sql "TRUNCATE binding_mac_port, binding_ip_mac, lldp_neighbor, mac_move, switch_poll_status;
	     UPDATE switch SET poll_enabled = (substr(key, 3)::int <= $n);" >/dev/null
	sim0=$(cpu_sims)
	pg0=$(cpu_of "$pg_pid")
	t1=$(date +%s.%N)
	rc=0
	timeout --signal=TERM --kill-after=10 "$(left)" /usr/bin/time -f '%e %U %S %M' \
		-o "$tmp/time.$n" "$wiremapd" -c "$tmp/wiremapd.conf" --once \
		>"$tmp/wmd.$n.out" 2>"$tmp/wmd.$n.err" || rc=$?
	t2=$(date +%s.%N)
	sim1=$(cpu_sims)
	pg1=$(cpu_of "$pg_pid")
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
	if [ "$n" -ge 1000 ]; then
		verdict=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print (b - a < 300) ? "under" : "OVER" }')
		echo "  aim: 1000 switches in under 300 s: $verdict" | tee -a "$report"
	fi
done
echo "total bench time $((SECONDS - T0))s (limit ${limit}s); report in $report" | tee -a "$report"
exit $status
