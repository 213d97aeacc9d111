#!/bin/sh
# Bounded libFuzzer run for the test suite, reported as TAP.
# usage: run_fuzz.sh FUZZER SEED_CORPUS_DIR SECONDS
# The seed corpus is copied to a scratch directory so that the source tree is never written.
set -u
fuzzer=$1 seeds=$2 seconds=$3
name=$(basename "$fuzzer")

echo "1..1"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || {
	echo "not ok 1 - $name: cannot create a scratch directory"
	exit 1
}
mkdir "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/" 2>/dev/null

UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS ASAN_OPTIONS

"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -max_len=8192 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?

if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$work/artifacts")" ]; then
	runs=$(grep -o 'Done [0-9]* runs' "$work/log" | tail -n 1)
	echo "ok 1 - $name ran $seconds seconds without a crash${runs:+ ($runs)}"
	rm -rf "$work"
	exit 0
fi
echo "not ok 1 - $name found a problem (exit $rc); artifacts kept in $work/artifacts"
tail -n 40 "$work/log" | sed 's/^/# /'
exit 1
