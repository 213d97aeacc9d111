# shellcheck shell=bash
# TAP for the shell tests of this folder (netns_lldp.sh, quickstart_e2e.sh): sourced, not run.
# ok NAME; not_ok NAME [LINE...] (the lines go out as comments); skip NAME REASON; diag TEXT;
# skip_all REASON (the whole test, exit 0). The caller prints the plan "1..$n" at the end and
# exits non-zero when $failed is.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift
	local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
