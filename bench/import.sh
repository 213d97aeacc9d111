#!/usr/bin/env bash
# bench/import.sh: `lisctl import --mac-ports FILE` of N MAC-port bindings (issue 10): wall
# time and peak resident memory (GNU time's "Maximum resident set size") of lisctl, per size,
# into an empty binding table.
#
# Standalone: uses the lisctl of BENCH_BUILD (build-bench; BENCH_LISCTL overrides the
# binary, e.g. an older build to compare), starts its own PostgreSQL (temporary directory,
# Unix socket only, fsync off) and stops it at exit, also on failure or Ctrl-C. Report:
# stdout and bench/out/import.txt.
#
# Knobs (environment): BENCH_IMPORT_SIZES ("100000 1000000"), BENCH_BUILD (build-bench),
# BENCH_LISCTL, BENCH_KEEP (0: 1 keeps the temporary directory).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
build=${BENCH_BUILD:-$top/build-bench}
lisctl=${BENCH_LISCTL:-$build/lis/lisctl/lisctl}
sizes=${BENCH_IMPORT_SIZES:-"100000 1000000"}
out_dir=$here/out
report=$out_dir/import.txt

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[ -x "$lisctl" ] || die "no lisctl at $lisctl (meson setup $build --buildtype=release)"
[ -x /usr/bin/time ] || die "no /usr/bin/time (apt-get install time)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$pgbin/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"

tmp=$(mktemp -d /tmp/lis-import-XXXXXX)
chmod 755 "$tmp"
pg_up=
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"
	else
		"$@"
	fi
}
cleanup() {
	trap - EXIT INT TERM
	[ -n "$pg_up" ] && as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null 2>&1
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/pg" "$out_dir"
chown postgres: "$tmp/pg" 2>/dev/null || true
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -A trust -U postgres --no-sync >"$tmp/initdb.log" 2>&1 ||
	die "initdb failed: $(tail -n 5 "$tmp/initdb.log")"
as_pg "$pgbin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w -o \
	"-k $tmp/pg -c listen_addresses= -c fsync=off -c synchronous_commit=off" start >/dev/null ||
	die "PostgreSQL did not start: $(tail -n 5 "$tmp/pg/log")"
pg_up=1
sql() { psql -qAt -h "$tmp/pg" -U postgres -d "$1" -v ON_ERROR_STOP=1 -c "$2"; }
sql postgres "CREATE DATABASE lis" >/dev/null
conninfo="host=$tmp/pg user=postgres dbname=lis"
"$lisctl" --db "$conninfo" db migrate >"$tmp/migrate.log" 2>&1 ||
	die "lisctl db migrate: $(tail -3 "$tmp/migrate.log")"
w=$top/tests/data/csv/wiremap
"$lisctl" --db "$conninfo" import --sites "$w/sites.csv" --locations "$w/locations.csv" \
	--switches "$w/switches.csv" --no-warnings >/dev/null

{
	printf 'lisctl import --mac-ports FILE (%s), into an empty table\n' "$lisctl"
	printf '%10s %10s %12s\n' rows wall_s peak_rss_mb
} | tee "$report"
for n in $sizes; do
	f=$tmp/mac_ports_$n.csv
	awk -v n="$n" 'BEGIN {
		print "mac,switch,port,last_seen,source"
		for (k = 1; k <= n; k++)
			printf "02:00:%02x:%02x:%02x:%02x,sw-hq-4,Gi1/0/%d,2026-11-25T08:00:00Z,snmp\n",
				int(k / 16777216) % 256, int(k / 65536) % 256, int(k / 256) % 256,
				k % 256, k % 48 + 1
	}' >"$f"
	sql lis "TRUNCATE binding_mac_port" >/dev/null
	/usr/bin/time -v -o "$tmp/time_$n" "$lisctl" --db "$conninfo" import --mac-ports "$f" \
		>"$tmp/import_$n.log" 2>&1 || die "import of $n rows: $(tail -3 "$tmp/import_$n.log")"
	got=$(sql lis "SELECT count(*) FROM binding_mac_port")
	[ "$got" = "$n" ] || die "import of $n rows wrote $got"
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.1f", s }' "$tmp/time_$n")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tmp/time_$n")
	printf '%10s %10s %12s\n' "$n" "$wall" "$rss" | tee -a "$report"
	rm -f "$f"
done
