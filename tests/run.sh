#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` execs this): install what is missing, build
# with gcc (warnings are errors), build with clang + ASan/UBSan + libFuzzer, run every suite
# (unit, integration, fuzz, package), and end with one line: "N passed, N failed[, N skipped]"
# counting TAP test cases. Exit status is non-zero when anything failed.
#
# Works as root (installs packages with apt-get) and as a normal user (then the packages must
# already be there; the script says which are missing). Needs no standard input.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

PACKAGES=(
	gcc make clang libclang-rt-14-dev meson ninja-build pkg-config python3
	libmicrohttpd-dev libgnutls28-dev libxml2-dev libxml2-utils libpq-dev liburcu-dev
	postgresql libinih-dev libcsv-dev libssl-dev libcurl4-openssl-dev
	curl openssl ca-certificates util-linux iproute2 locales libjansson-dev chromium poppler-utils
	libsnmp-dev libnl-3-dev libnl-route-3-dev snmp snmpd snmpsim lldpd iputils-ping acl
	debhelper dpkg-dev lintian fakeroot iso-codes haproxy python3-aiosmtpd libcjose-dev
	libldap-dev slapd ldap-utils zlib1g-dev
)
# node and npm run test_oidc's OpenID provider (tests/oidc). Debian's when there are none: a
# node from elsewhere (that brings its own npm) must not meet Debian's npm package.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	PACKAGES+=(nodejs npm)
fi

log() { printf '== %s\n' "$*" >&2; }

# A build or setup failure still ends with the summary line, counted as one failure.
SUMMARY_PRINTED=0
on_exit() {
	local rc=$?
	if [ "$SUMMARY_PRINTED" -eq 0 ]; then
		log "tests/run.sh stopped before the tests ran (exit $rc)"
		echo "0 passed, 1 failed"
		[ "$rc" -eq 0 ] && rc=1
	fi
	exit "$rc"
}
trap on_exit EXIT

missing_packages() {
	local p st
	for p in "${PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || printf '%s\n' "$p"
	done
}

install_packages() {
	local missing
	mapfile -t missing < <(missing_packages)
	[ "${#missing[@]}" -eq 0 ] && return 0
	log "missing packages: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			SUDO=sudo
		else
			log "not root and no password-less sudo: install them with"
			log "  apt-get install --no-install-recommends ${missing[*]}"
			exit 1
		fi
	else
		SUDO=
	fi
	# Debian starts the services of freshly installed packages (snmpd, lldpd, PostgreSQL);
	# the tests run their own, in namespaces or on loopback, so keep the packaged ones off
	# (an lldpd on the real interfaces would talk LLDP to the real network).
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null &&
			$SUDO chmod 755 "$policy" && made_policy=1
	fi
	$SUDO apt-get update </dev/null
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
		"${missing[@]}" </dev/null || { [ -n "$made_policy" ] && $SUDO rm -f "$policy"; exit 1; }
	[ -n "$made_policy" ] && $SUDO rm -f "$policy"
	return 0
}

install_packages

# Debian's meson and the tests' helpers want the system python3, not a pyenv shim.
if [ -x /usr/bin/python3 ]; then
	export PATH="/usr/bin:$PATH"
fi

# The browser test's driver (playwright-core, driving the system's Chromium) from the
# committed lock file; without it test_selfservice skips that one test.
if command -v npm >/dev/null; then
	log "npm ci (tests/browser)"
	(cd tests/browser && npm ci --no-audit --no-fund >/dev/null) ||
		log "npm ci failed: the browser test will be skipped"
else
	log "no npm: the browser test will be skipped"
fi
# test_oidc's provider: oidc-provider from the npm registry, at the versions of
# tests/oidc/package-lock.json, once (the test itself also tries when they are missing).
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
	log "npm ci in tests/oidc"
	npm ci --prefix tests/oidc --no-audit --no-fund --ignore-scripts </dev/null ||
		log "npm ci failed: test_oidc will skip its provider cases"
fi

JOBS=$(nproc 2>/dev/null || echo 2)
[ "$JOBS" -gt 2 ] && JOBS=2

# 1. gcc, compile only: gcc warns about things clang does not.
log "gcc build (build-ci-gcc, -Dwerror=true)"
if [ ! -f build-ci-gcc/build.ninja ]; then
	CC=gcc meson setup build-ci-gcc -Dwerror=true >/dev/null
else
	meson setup --reconfigure build-ci-gcc -Dwerror=true >/dev/null
fi
ninja -C build-ci-gcc -j "$JOBS"

# 2. clang with sanitizers and the fuzz targets; this build runs the tests.
log "clang build (build-ci, ASan/UBSan, fuzz, -Dwerror=true)"
CI_OPTS=(-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Dwerror=true)
if [ ! -f build-ci/build.ninja ]; then
	CC=clang meson setup build-ci "${CI_OPTS[@]}" >/dev/null
else
	meson setup --reconfigure build-ci "${CI_OPTS[@]}" >/dev/null
fi
ninja -C build-ci -j "$JOBS"

# A decimal-comma locale for the test that PIDF-LO numbers ignore LC_NUMERIC: compiled from
# the `locales` package's sources into the build tree, so the machine's locales stay as
# they are. Only that test uses it (it sets LOCPATH itself): glibc's newlocale() leaks when
# LOCPATH is set, and p11-kit, loaded by GnuTLS in lisd, calls it at start-up.
mkdir -p "$ROOT/build-ci/locale"
if localedef -i de_DE -f UTF-8 "$ROOT/build-ci/locale/de_DE.UTF-8" 2>/dev/null; then
	export LIS_TEST_LOCPATH="$ROOT/build-ci/locale"
fi

SUPP="$ROOT/tests/lsan.supp"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:print_stacktrace=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
if [ -f "$SUPP" ]; then
	export LSAN_OPTIONS="suppressions=$SUPP:print_suppressions=0"
fi

log "meson test (build-ci)"
rc=0
meson test -C build-ci --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
	</dev/null || rc=$?

# 3. Count TAP cases over every test of the run.
summary=$(python3 - "$ROOT/build-ci/meson-logs/testlog.json" <<'EOF'
import json, re, sys

passed = failed = skipped = 0
bad_tests = []
ok_re = re.compile(r'^(not )?ok\b(.*)$')
with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        out = t.get('stdout') or ''
        p = fl = sk = 0
        for l in out.splitlines():
            m = ok_re.match(l.strip())
            if not m:
                continue
            rest = m.group(2)
            if m.group(1):
                # "not ok ... # TODO" is an expected failure in TAP
                if re.search(r'#\s*TODO', rest, re.I):
                    sk += 1
                else:
                    fl += 1
            elif re.search(r'#\s*SKIP', rest, re.I):
                sk += 1
            else:
                p += 1
        result = t.get('result', '')
        if result not in ('OK', 'SKIP', 'EXPECTEDFAIL') and fl == 0:
            # the test failed (crash, sanitizer report, timeout, bad plan) without a TAP failure
            fl += 1
        if result == 'SKIP' and p == 0 and fl == 0 and sk == 0:
            sk += 1
        if result not in ('OK', 'SKIP', 'EXPECTEDFAIL'):
            bad_tests.append('%s (%s)' % (t.get('name', '?'), result))
        passed += p
        failed += fl
        skipped += sk
for b in bad_tests:
    print('failed test: ' + b)
print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
EOF
) || { echo "$summary"; exit 1; }

printf '%s\n' "$summary" | sed '$d'
last=$(printf '%s\n' "$summary" | tail -n 1)
case "$last" in
*", 0 failed,"*) [ "$rc" -eq 0 ] || { last="${last/, 0 failed,/, 1 failed,}"; } ;;
esac
printf '%s\n' "$last"
SUMMARY_PRINTED=1
case "$last" in
*", 0 failed,"*) exit "$rc" ;;
*) exit 1 ;;
esac
