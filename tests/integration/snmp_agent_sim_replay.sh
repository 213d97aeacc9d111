#!/usr/bin/env bash
# bench/snmp_agent_sim answers as snmpsimd does, from the same recordings (TAP).
#
# Every recording of tests/data/snmp is served by snmpsimd (community = the file's name) and
# by snmp_agent_sim (--count 1); a GETNEXT walk, GETBULK walks with max-repetitions 1, 7 and
# 25, and a GET of a present, a missing instance and a missing object must print the same,
# line for line. Then bench/collector.sh's template: snmp_agent_sim serves 3 switches of it,
# expanding the placeholders itself, snmpsimd the 3 recordings bench/collector_rec.py expands,
# and the walks of each switch must be the same. Everything listens on 127.0.0.1 only and is
# stopped at exit, even on failure.
#
# Environment (meson sets it): LIS_AGENT_SIM (the executable), LIS_SRCDIR (the source tree).
set -u

# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

for t in snmpsimd snmpwalk snmpbulkwalk snmpget python3; do
	command -v "$t" >/dev/null || skip_all "$t not installed (apt-get install snmpsim snmp)"
done
[ -x "${LIS_AGENT_SIM:-}" ] || skip_all "LIS_AGENT_SIM is not an executable"
src=${LIS_SRCDIR:?}

tmp=$(mktemp -d /tmp/lis-agentsim-XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The recordings, and the template's 3 switches expanded as bench-<i>.snmprec.
mkdir -p "$tmp/data" "$tmp/cache"
cp "$src"/tests/data/snmp/*.snmprec "$tmp/data/"
python3 "$src/bench/collector_rec.py" template "$tmp/switch.snmprec" &&
	python3 "$src/bench/collector_rec.py" expand "$tmp/switch.snmprec" "$tmp/exp" 3 1 ||
	{ echo "Bail out! collector_rec.py failed"; exit 1; }
for i in 0 1 2; do
	cp "$tmp/exp/sim0/public/1.3.6.1.6.1.1.$i.snmprec" "$tmp/data/bench-$i.snmprec"
done
chmod -R a+rX "$tmp"
chmod 777 "$tmp/cache"

port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_opts=()
[ "$(id -u)" -eq 0 ] && user_opts=(--process-user=nobody --process-group=nogroup)
snmpsimd --data-dir="$tmp/data" --cache-dir="$tmp/cache" --agent-udpv4-endpoint="127.0.0.1:$port" \
	--logging-method=null "${user_opts[@]}" >"$tmp/snmpsimd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
	snmpget -v2c -c access-switch -t 1 -r 0 "127.0.0.1:$port" 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 &&
		break
	sleep 0.5
done

# start_sim RECORDING COUNT: snmp_agent_sim, its first port in $base.
start_sim() {
	rm -f "$tmp/ready"
	"$LIS_AGENT_SIM" --count "$2" --ready-file "$tmp/ready" "$1" 2>>"$tmp/sim.log" &
	sim=$!
	pids+=("$sim")
	for _ in $(seq 100); do
		[ -s "$tmp/ready" ] && break
		sleep 0.05
	done
	base=$(cat "$tmp/ready" 2>/dev/null)
}
stop_sim() {
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
}

# answers HOST:PORT COMMUNITY [walks only]: what a manager prints for the requests above.
answers() {
	local a=$1 c=$2 r first
	snmpwalk -v2c -c "$c" -On "$a" . 2>&1
	for r in 1 7 25; do
		echo "# GETBULK max-repetitions $r"
		snmpbulkwalk -v2c -c "$c" -On -Cr"$r" "$a" . 2>&1
	done
	[ $# -gt 2 ] && return
	first=$(snmpwalk -v2c -c "$c" -On "$a" . 2>/dev/null | head -n 1 | cut -d' ' -f1)
	echo "# GET"
	snmpget -v2c -c "$c" -On "$a" "$first" "$first.0" 1.3.6.1.9.9 2>&1
}

compare() {   # NAME FILE-EXPECTED FILE-GOT
	if [ ! -s "$2" ]; then
		not_ok "$1" "snmpsimd gave no answers"
	elif cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(diff -u "$2" "$3" | head -n 20)"
	fi
}

for f in "$src"/tests/data/snmp/*.snmprec; do
	name=$(basename "$f" .snmprec)
	start_sim "$tmp/data/$name.snmprec" 1
	if [ -z "$base" ]; then
		not_ok "test_${name//-/_}_answers_as_snmpsimd" \
			"snmp_agent_sim did not start: $(tail -n 3 "$tmp/sim.log")"
		continue
	fi
	answers "127.0.0.1:$port" "$name" >"$tmp/expected"
	answers "127.0.0.1:$base" public >"$tmp/got"
	stop_sim
	compare "test_${name//-/_}_answers_as_snmpsimd" "$tmp/expected" "$tmp/got"
done

start_sim "$tmp/switch.snmprec" 3
for i in 0 1 2; do
	answers "127.0.0.1:$port" "bench-$i" walks >"$tmp/expected"
	answers "127.0.0.1:$((base + i))" public walks >"$tmp/got"
	compare "test_template_switch_${i}_answers_as_its_expanded_recording" "$tmp/expected" \
		"$tmp/got"
done
stop_sim

echo "1..$n"
[ "$failed" -eq 0 ]
