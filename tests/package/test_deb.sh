#!/usr/bin/env bash
# The Debian packages, built and installed as an administrator would (TAP): build lis-server
# and lis-wiremapd with dpkg-buildpackage from a copy of the source tree (the tree itself is
# never written), run lintian (an error fails), then `dpkg -i` them into a scratch root and
# check what an administrator relies on: the programs run, man pages, units (installed,
# disabled, `systemd-analyze verify`), /etc/lis conffiles, the system user lis and the state
# directory /var/lib/lis; follow README.md's "Deploy" section (a PostgreSQL with peer
# authentication, role and database lis, migrate, import, certificate, --check-config, lisd
# started as its unit starts it and answering, retention, backup); then purge them.
#
# Nothing leaves the machine: the scratch root is this host's own root filesystem under an
# overlay (writes go to a tmpfs, in a mount namespace of the test's own), so the packages'
# dependencies are the host's installed ones and the maintainer scripts (systemd-sysusers,
# systemd-tmpfiles, deb-systemd-helper) run for real; /run is empty there and a policy-rc.d
# refuses every start, so nothing talks to the host's services. That part needs root (else
# TAP skips). Usage: test_deb.sh [SRCDIR] (default: the tree this script is in).
set -eu

SRC=${1:-${LIS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
PLAN=21
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESCRIPTION COMMAND...: one test case, its output as diagnostics on failure
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
	fi
}
skip_rest() { while [ "$n" -lt "$PLAN" ]; do skip "${2:-remaining checks}" "$1"; done; }

echo "1..$PLAN"

for t in dpkg-buildpackage dpkg-checkbuilddeps lintian dh; do
	if ! command -v "$t" >/dev/null; then
		skip_rest "$t not installed (apt-get install debhelper dpkg-dev lintian fakeroot)"
		exit 0
	fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lis-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. Build from a copy: the tracked and new files (not build*/, .run/: .gitignore), or, in a
# tree without git, everything but those.
mkdir "$WORK/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
		tar -xf - -C "$WORK/src"
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.run --exclude=./.git -cf - . |
		tar -xf - -C "$WORK/src"
fi
build() {
	cd "$WORK/src" &&
		DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1
}
if (build); then
	ok "dpkg-buildpackage builds the packages from a copy of the source tree"
else
	not_ok "dpkg-buildpackage builds the packages from a copy of the source tree"
	tail -n 40 "$WORK/build.log" | sed 's/^/# /'
	skip_rest "the packages did not build"
	exit 1
fi
SERVER_DEB=$(ls "$WORK"/lis-server_*.deb)
WIREMAPD_DEB=$(ls "$WORK"/lis-wiremapd_*.deb)

# 2. lintian: errors fail; warnings are printed as diagnostics.
lintian --pedantic "$WORK"/lis_*.changes >"$WORK/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$WORK/lintian.log" | sed 's/^/# /' || true
if grep -q '^E:' "$WORK/lintian.log"; then
	not_ok "lintian reports no errors"
else
	ok "lintian reports no errors"
fi

# 3. What each package holds, read from the .deb itself.
has_files() { # has_files DEB PATH...
	local deb=$1 list p
	shift
	list=$(dpkg-deb -c "$deb" | awk '{ print $1, $6 }')
	for p in "$@"; do
		printf '%s\n' "$list" | grep -q " \./${p#/}\$" || { echo "$deb: no $p"; return 1; }
	done
	# root-only conffiles: database password, SNMP credentials
	for p in etc/lis/lis.conf etc/lis/wiremapd.conf; do
		if printf '%s\n' "$list" | grep -q " \./$p\$"; then
			printf '%s\n' "$list" | grep -q "^-rw------- \./$p\$" ||
				{ echo "$deb: $p is not 0600"; return 1; }
		fi
	done
}
check "lis-server holds lisd, lisctl, their man pages, lisd.service, sysusers.d, tmpfiles.d, lis.conf" \
	has_files "$SERVER_DEB" usr/sbin/lisd usr/sbin/lisctl usr/share/man/man8/lisd.8.gz \
	usr/share/man/man8/lisctl.8.gz usr/share/man/man5/lis.conf.5.gz \
	usr/share/man/man5/lis-wiremap.5.gz lib/systemd/system/lisd.service \
	usr/lib/sysusers.d/lis.conf usr/lib/tmpfiles.d/lis.conf etc/lis/lis.conf
check "lis-wiremapd holds wiremapd, its man pages, wiremapd.service, wiremapd.conf" \
	has_files "$WIREMAPD_DEB" usr/sbin/wiremapd usr/share/man/man8/wiremapd.8.gz \
	usr/share/man/man5/wiremapd.conf.5.gz lib/systemd/system/wiremapd.service \
	etc/lis/wiremapd.conf

# 4. Install into the scratch root and look around in it.
if [ "$(id -u)" -ne 0 ]; then
	skip_rest "not root: installing into a scratch root needs a mount namespace and chroot" \
		"install in a scratch root"
	exit $((fails > 0))
fi
cat >"$WORK/inroot.sh" <<'EOF'
# Runs in its own mount namespace: the host's root under an overlay on a tmpfs, chrooted.
set -eu
W=$1
R=$W/root
mount -t tmpfs -o mode=0755 lis-deb "$W/ov"
mkdir "$W/ov/upper" "$W/ov/work" "$R"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$W/ov/upper,workdir=$W/ov/work" "$R"; then
	echo "skipall this kernel or container refuses an overlay mount of /"
	exit 0
fi
mount --bind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp "$W"/lis-server_*.deb "$W"/lis-wiremapd_*.deb "$W/checks.sh" "$R/tmp/"
cp -r "$W/sample" "$R/tmp/sample"
cp -r "$W/schemas" "$R/tmp/schemas"
chmod -R a+rX "$R/tmp/sample" "$R/tmp/schemas"
chroot "$R" /bin/bash /tmp/checks.sh
EOF
cat >"$WORK/checks.sh" <<'EOF'
# Runs inside the scratch root: one line per check, "ok DESCRIPTION" or "fail DESCRIPTION",
# diagnostics on lines that start with "#".
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
cd /tmp
res() { if [ "$1" -eq 0 ]; then echo "ok $2"; else echo "fail $2"; fi; }
# A fresh machine: no state of the host's own lisd (a bench or a hand run may have made a
# /var/lib/lis as root) in the scratch root (removed from the overlay only).
rm -rf /var/lib/lis /etc/lis
if out=$(dpkg -i /tmp/lis-server_*.deb /tmp/lis-wiremapd_*.deb 2>&1); then res 0 "dpkg -i installs both packages"
else echo "$out" | sed 's/^/# /'; res 1 "dpkg -i installs both packages"; fi
v=$(dpkg-query -W -f='${Version}' lis-server)
out=$(/usr/sbin/lisd --version 2>&1; /usr/sbin/lisctl --version 2>&1; /usr/sbin/wiremapd --version 2>&1)
echo "$out" | sed 's/^/# /'
[ "$(echo "$out" | grep -c " ${v%%-*}$")" -eq 3 ]; res $? "lisd, lisctl and wiremapd --version print the package's version"
/usr/sbin/lisctl --help 2>&1 | grep -q 'db migrate'; res $? "lisctl --help lists its commands"
# No PostgreSQL in here: "cannot connect" (exit 1) shows lisctl, run as lis, read lis.conf;
# a file it could not read would be exit 2.
out=$(runuser -u lis -- /usr/sbin/lisctl db status 2>&1); rc=$?
echo "# lisctl as lis: exit $rc: $out"
[ "$rc" -eq 1 ] && echo "$out" | grep -q 'cannot connect'
res $? "lisctl run as lis reads /etc/lis/lis.conf"
pw=$(getent passwd lis); echo "# $pw"
case "$pw" in lis:*:*:*:*:/var/lib/lis:*nologin) res 0 "system user lis, home /var/lib/lis, no login shell" ;;
*) res 1 "system user lis, home /var/lib/lis, no login shell" ;; esac
st=$(stat -c '%U:%G %a' /var/lib/lis 2>&1); echo "# /var/lib/lis: $st"
[ "$st" = "lis:lis 700" ]; res $? "state directory /var/lib/lis, lis:lis, 0700"
cf=$(dpkg-query -W -f='${Conffiles}\n' lis-server lis-wiremapd | awk 'NF { print $1 }' | sort | tr '\n' ' ')
echo "# conffiles: $cf"
perm=$(stat -c '%n %U:%G %a' /etc/lis/lis.conf /etc/lis/wiremapd.conf 2>&1 | tr '\n' ' ')
echo "# $perm"
[ "$cf" = "/etc/lis/lis.conf /etc/lis/wiremapd.conf " ] &&
	[ "$perm" = "/etc/lis/lis.conf root:lis 640 /etc/lis/wiremapd.conf root:root 600 " ]
res $? "/etc/lis/lis.conf (root:lis 0640) and wiremapd.conf (root-only) are conffiles"
en=$(systemctl --root=/ is-enabled lisd.service wiremapd.service 2>&1 | tr '\n' ' '); echo "# is-enabled: $en"
[ "$en" = "disabled disabled " ]; res $? "lisd.service and wiremapd.service installed, not enabled"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /lib/systemd/system/lisd.service /lib/systemd/system/wiremapd.service 2>&1)
	rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	[ "$rc" -eq 0 ] && [ -z "$out" ]; res $? "systemd-analyze verify: units, their programs and man pages"
else
	echo "skip systemd-analyze is not installed"
fi
# README.md "Deploy", step by step (runuser for sudo, which may not be installed; the unit's
# start done by hand: no systemd in here). A PostgreSQL of this root's own, on /run/postgresql
# (a tmpfs here) with peer authentication, as Debian's is.
step() { # step DESCRIPTION COMMAND...: a README step, its output as diagnostics on failure
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then res 0 "$desc"; else echo "$out" | tail -n 20 | sed 's/^/# /'; res 1 "$desc"; fi
}
pg_up() {
	local b
	b=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	install -d -o postgres -g postgres /run/postgresql /tmp/pg &&
	runuser -u postgres -- "$b/initdb" -D /tmp/pg --auth-local=peer --auth-host=reject \
		>/dev/null &&
	runuser -u postgres -- "$b/pg_ctl" -D /tmp/pg -w -l /tmp/pg/log \
		-o "-k /run/postgresql -c listen_addresses=''" start >/dev/null &&
	runuser -u postgres -- createuser lis && runuser -u postgres -- createdb -O lis lis
}
step "README Deploy: PostgreSQL with peer authentication, createuser lis, createdb -O lis lis" pg_up
S=/tmp/sample
step "README Deploy: lisctl db migrate and import, run as lis" sh -c "
	runuser -u lis -- lisctl db migrate &&
	runuser -u lis -- lisctl import --sites $S/sites.csv --locations $S/locations.csv \
		--subnets $S/subnets.csv"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
configure() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout /tmp/key.pem -out /tmp/cert.pem -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1 2>/dev/null &&
	install -D -m 0600 /tmp/cert.pem /etc/lis/tls/cert.pem &&
	install -D -m 0600 /tmp/key.pem /etc/lis/tls/key.pem &&
	sed -i -e "/^\[server\]/,/^\[/ s/^port *=.*/port = $port/" \
		-e "/^\[admin\]/,/^\[/ s/^port *=.*/port = 0/" /etc/lis/lis.conf &&
	lisd -c /etc/lis/lis.conf --check-config
}
step "README Deploy: certificate in /etc/lis/tls, lis.conf edited, lisd --check-config" configure
# systemctl enable --now lisd, by hand: the unit's credentials (LoadCredential=, copies the
# service user may read), its user, no capability, no new privileges, its ExecStart= line
start_lisd() {
	local c=/run/credentials/lisd.service line
	install -d -o lis -g lis -m 0500 "$c" &&
	install -o lis -g lis -m 0400 /etc/lis/lis.conf "$c/lis.conf" &&
	install -o lis -g lis -m 0400 /etc/lis/tls/cert.pem "$c/tls.crt" &&
	install -o lis -g lis -m 0400 /etc/lis/tls/key.pem "$c/tls.key" || return 1
	line=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/lisd.service)
	line=${line//%d/$c}
	# shellcheck disable=SC2086 # the unit's words, as systemd splits them
	setpriv --reuid=lis --regid=lis --clear-groups --inh-caps=-all --bounding-set=-all \
		--no-new-privs -- $line >/tmp/lisd.log 2>&1 &
	echo $! >/tmp/lisd.pid
	local i
	for i in $(seq 1 600); do   # 60 s at most: the wiremap loads in the background
		if curl -sS --cacert /tmp/cert.pem -H 'Content-Type: application/held+xml' \
			--data-binary @$S/request.xml -o /tmp/answer.xml \
			"https://127.0.0.1:$port/held" 2>/dev/null &&
			grep -q 'civicAddress' /tmp/answer.xml; then
			# the RFC schemas, as every test checks what lisd emits
			xmllint --noout --nonet --schema /tmp/schemas/lis-validate.xsd \
				/tmp/answer.xml 2>&1 | grep -v 'parser warning'
			return "${PIPESTATUS[0]}"
		fi
		kill -0 "$(cat /tmp/lisd.pid)" 2>/dev/null || break
		sleep 0.1
	done
	cat /tmp/lisd.log
	return 1
}
step "README Deploy: lisd started as its unit starts it answers a HELD request with a location (schema-valid)" start_lisd
step "README Deploy: wiremapd --check-config" wiremapd -c /etc/lis/wiremapd.conf --check-config
step "README Deploy: lisctl purge --dry-run and pg_dump, run as lis" sh -c "
	runuser -u lis -- lisctl purge --older-than 400 --dry-run | grep -q 'would purge' &&
	runuser -u lis -- pg_dump -Fc lis >/tmp/lis.dump && test -s /tmp/lis.dump"
[ -f /tmp/lisd.pid ] && kill "$(cat /tmp/lisd.pid)" 2>/dev/null
runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
	-D /tmp/pg -m fast stop >/dev/null 2>&1
# The same packages again: the maintainer scripts' upgrade path (configure with the old version).
if out=$(dpkg -i /tmp/lis-server_*.deb /tmp/lis-wiremapd_*.deb 2>&1); then
	[ "$(stat -c '%U:%G %a' /etc/lis/lis.conf)" = "root:lis 640" ] && getent passwd lis >/dev/null
	res $? "installing them again (upgrade path) keeps the user and lis.conf's mode"
else echo "$out" | sed 's/^/# /'; res 1 "installing them again (upgrade path) keeps the user and lis.conf's mode"; fi
if out=$(dpkg --purge lis-wiremapd lis-server 2>&1); then
	[ ! -e /etc/lis/lis.conf ] && [ ! -e /etc/lis/wiremapd.conf ] && [ ! -e /usr/sbin/lisd ] &&
		! dpkg-statoverride --list /etc/lis/lis.conf >/dev/null
	res $? "dpkg --purge removes programs, conffiles and the mode override"
else echo "$out" | sed 's/^/# /'; res 1 "dpkg --purge removes programs and conffiles"; fi
EOF
mkdir "$WORK/ov"
cp -r "$SRC/deploy/sample" "$WORK/sample"
cp -r "$SRC/tests/data/schemas" "$WORK/schemas"
if unshare -m --propagation private bash "$WORK/inroot.sh" "$WORK" >"$WORK/inroot.log" 2>&1; then :; fi
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok }" ;;
	"fail "*) not_ok "${line#fail }" ;;
	"skip "*) skip "systemd-analyze verify" "${line#skip }" ;;
	"skipall "*) skip_rest "${line#skipall }" "install in a scratch root" ;;
	"#"*) printf '%s\n' "$line" ;;
	*) echo "# $line" ;;
	esac
done <"$WORK/inroot.log"
if [ "$n" -lt "$PLAN" ]; then
	not_ok "the checks in the scratch root all ran"
	skip_rest "the scratch root stopped early"
fi
exit $((fails > 0))
