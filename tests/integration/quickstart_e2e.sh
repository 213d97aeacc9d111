#!/usr/bin/env bash
# deploy/quickstart.sh end to end, as README's "Two commands" promises it (TAP; root only).
#
# On a copy of the source tree in a temporary directory (the project's own tree is never
# written): the quickstart builds lisd and lisctl in the copy's build/, starts its private
# PostgreSQL and lisd on a free loopback port, and shows one HELD exchange; then
# `quickstart.sh stop`. Checks: it succeeds, says which user lisd runs as, lisd really runs
# as nobody (started as root, it drops to [server] user) and answers a HELD request with a
# location, the spool is lisd's user's, nobody is the database role lisd (which writes the
# query log) and not the superuser, `quickstart.sh switches` shows a phone's answer following
# its move (snmpsimd on loopback; skipped without snmpsim), and stop leaves nothing running.
#
# Root only (CI runs tests/run.sh as root), else a TAP skip: as root the quickstart runs
# PostgreSQL as user postgres and lisd as nobody, which is what this proves. It never
# installs anything: when a package the quickstart needs is missing, the test is skipped
# (it would otherwise fetch it). Everything stays on loopback and Unix sockets.
# Environment (meson sets it): LIS_SRCDIR.
set -euo pipefail

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"
check() { # check NAME COMMAND...: ok when COMMAND succeeds
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

SRC=${LIS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
QS=$SRC/deploy/quickstart.sh
[ "$(id -u)" -eq 0 ] || skip_all "not root (the quickstart runs lisd as nobody only when root)"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
getent group nogroup >/dev/null || skip_all "no group nogroup"
command -v runuser >/dev/null || skip_all "runuser missing (util-linux)"

# The quickstart's own package list: all installed, or skip (never apt-get from a test).
mapfile -t pkgs < <(sed -n '/^PACKAGES=(/,/^)/p' "$QS" | sed '1d;$d' | tr -s ' \t' '\n' | sed '/^$/d')
[ "${#pkgs[@]}" -gt 0 ] || skip_all "no PACKAGES list in $QS"
missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] || skip_all "packages the quickstart would install: ${missing[*]}"

TMP=$(mktemp -d /tmp/lisqs.XXXXXX)
chmod 755 "$TMP"
COPY=$TMP/lis
RUN=$COPY/.run
cleanup() {
	if [ -x "$COPY/deploy/quickstart.sh" ]; then
		"$COPY/deploy/quickstart.sh" stop >/dev/null 2>&1 || true
	fi
	if [ -f "$RUN/lisd.pid" ]; then kill -KILL "$(cat "$RUN/lisd.pid")" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# The source tree without its builds, state and history.
mkdir "$COPY"
for e in "$SRC"/* "$SRC"/.[!.]*; do
	[ -e "$e" ] || continue
	case "$(basename "$e")" in build | build-* | .run | .git) continue ;; esac
	cp -a "$e" "$COPY/"
done

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
OUT=$TMP/quickstart.out
rc=0
LIS_PORT=$PORT timeout 900 "$COPY/deploy/quickstart.sh" </dev/null >"$OUT" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
	ok "quickstart_succeeds_on_a_copy_of_the_tree"
else
	not_ok "quickstart_succeeds_on_a_copy_of_the_tree" "exit $rc; last lines:" "$(tail -n 30 "$OUT")"
fi

if grep -q "starting lisd on https://127.0.0.1:$PORT/held as user nobody, group nogroup" "$OUT"; then
	ok "quickstart_says_lisd_runs_as_nobody"
else
	not_ok "quickstart_says_lisd_runs_as_nobody" "$(grep -i 'lisd' "$OUT" | head -n 5)"
fi

pid=$(cat "$RUN/lisd.pid" 2>/dev/null || echo 0)
uid=$(awk '/^Uid:/ { print $2 "," $3 "," $4 }' "/proc/$pid/status" 2>/dev/null || true)
nobody=$(id -u nobody)
if [ "$uid" = "$nobody,$nobody,$nobody" ]; then
	ok "lisd_started_as_root_runs_as_nobody"
else
	not_ok "lisd_started_as_root_runs_as_nobody" "pid $pid, real,effective,saved uid: '$uid'"
fi
check "lisd_start_log_names_user_nobody" grep -q 'start .*user=nobody' "$RUN/lisd.log"

# lisd as nobody answers from the quickstart's database (through the ACL on pgsock/), with a
# document valid against the RFC schemas (tests/data/schemas/lis-validate.xsd).
resp=$TMP/response.xml
if curl -sS --noproxy '*' --max-time 10 --cacert "$RUN/tls/cert.pem" \
	-H 'Content-Type: application/held+xml' --data-binary @"$COPY/deploy/sample/request.xml" \
	-o "$resp" "https://127.0.0.1:$PORT/held" 2>"$TMP/curl.err" &&
	[ "$(xmllint --xpath 'local-name(/*)' "$resp" 2>/dev/null)" = locationResponse ] &&
	xmllint --noout --nonet --schema "$SRC/tests/data/schemas/lis-validate.xsd" "$resp" \
		2>"$TMP/xsd.err"; then
	ok "lisd_as_nobody_answers_with_a_location"
else
	not_ok "lisd_as_nobody_answers_with_a_location" \
		"$(cat "$TMP/curl.err" "$resp" 2>/dev/null | head -n 20; grep -v warning "$TMP/xsd.err" 2>/dev/null)"
fi
check "spool_belongs_to_nobody" test "$(stat -c %U "$RUN/spool" 2>/dev/null)" = nobody

# nobody is the database role lisd (peer authentication), which appends to the query log,
# and never the superuser.
PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
logged=0
for _ in $(seq 1 600); do   # 60 s at most
	c=$("$PSQL" -h "$RUN/pgsock" -U postgres -d lis -XAtc \
		"SELECT count(*) FROM query_log WHERE kind = 'held'" 2>/dev/null || true)
	if [ "${c:-0}" -ge 2 ] 2>/dev/null; then logged=1; break; fi
	sleep 0.1
done
if [ "$logged" -eq 1 ]; then
	ok "lisd_as_role_lisd_writes_the_query_log"
else
	not_ok "lisd_as_role_lisd_writes_the_query_log" "held rows: '${c:-}'" "$(tail -n 5 "$RUN/lisd.log")"
fi
if runuser -u nobody -- "$PSQL" -h "$RUN/pgsock" -U postgres -d lis -XAtc 'SELECT 1' \
	>/dev/null 2>&1; then
	not_ok "nobody_cannot_connect_as_the_superuser" "nobody connected as postgres"
else
	ok "nobody_cannot_connect_as_the_superuser"
fi

# `quickstart.sh switches`: simulated switches on loopback, wiremapd, the noc-phone moving
# from the NOC (room 210) to the lobby, and lisd's answers from the phone's address following.
if [ -x /usr/bin/snmpsimd ]; then
	rc=0
	timeout 300 "$COPY/deploy/quickstart.sh" switches </dev/null >"$TMP/switches.out" 2>&1 || rc=$?
	held=$(grep '^==> HELD from 127.0.0.2' "$TMP/switches.out" || true)
	if [ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$held" | wc -l)" -eq 3 ] &&
		printf '%s\n' "$held" | sed -n 2p | grep -q 'source=port location=chi-hq-2-210$' &&
		printf '%s\n' "$held" | sed -n 3p | grep -q 'source=port location=chi-hq-1-lobby$'; then
		ok "quickstart_switches_shows_the_phone_moving"
	else
		not_ok "quickstart_switches_shows_the_phone_moving" "exit $rc" "$(tail -n 30 "$TMP/switches.out")"
	fi
	left=0
	for f in "$RUN"/snmp/*/snmpsimd.pid; do [ -e "$f" ] && left=1; done
	for d in /proc/[0-9]*; do
		grep -qF "$RUN/snmp/" "$d/cmdline" 2>/dev/null && left=1
	done
	if [ "$left" -eq 0 ]; then
		ok "quickstart_switches_stops_its_agents"
	else
		not_ok "quickstart_switches_stops_its_agents" "an snmpsimd of $RUN/snmp is still there"
	fi
else
	skip "quickstart_switches_shows_the_phone_moving" "snmpsim not installed"
	skip "quickstart_switches_stops_its_agents" "snmpsim not installed"
fi

rc=0
"$COPY/deploy/quickstart.sh" stop >"$TMP/stop.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && ! kill -0 "$pid" 2>/dev/null &&
	! runuser -u postgres -- test -S "$RUN/pgsock/.s.PGSQL.5432" 2>/dev/null; then
	ok "quickstart_stop_stops_lisd_and_postgresql"
else
	not_ok "quickstart_stop_stops_lisd_and_postgresql" "exit $rc" "$(cat "$TMP/stop.out")"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
