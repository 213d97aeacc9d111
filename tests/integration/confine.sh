#!/bin/sh
# Run a command confined the way deploy/lisd.service confines lisd, without systemd: in a
# mount namespace of its own where every mount is read-only (ProtectSystem=strict) except
# WRITABLE (StateDirectory=), as USER with its own group, no supplementary group
# (User=), no capability in any set (CapabilityBoundingSet=) and no way to gain one
# (NoNewPrivileges=yes). Used by test_unit_confined; root only.
#
#   confine.sh WRITABLE USER -- COMMAND [ARG...]
#
# Exit status 77 when the confinement cannot be made here (not root, no mount namespace);
# otherwise COMMAND's.
set -eu

[ "$#" -ge 4 ] && [ "$3" = "--" ] || {
	echo "usage: confine.sh WRITABLE USER -- COMMAND [ARG...]" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "confine.sh: needs root" >&2; exit 77; }
command -v unshare >/dev/null && command -v setpriv >/dev/null || {
	echo "confine.sh: needs unshare and setpriv (util-linux)" >&2
	exit 77
}
writable=$1
uid=$(id -u "$2") gid=$(id -g "$2") || { echo "confine.sh: no user $2" >&2; exit 2; }
shift 3

# The inner script runs in the new mount namespace: WRITABLE becomes a mount of its own
# (so that it stays writable), then every mount point is remounted read-only, bottom-up
# order does not matter for bind remounts. Mount points come from mountinfo (field 5, with
# spaces escaped as \040).
# shellcheck disable=SC2016
exec unshare --mount --propagation private -- sh -eu -c '
	writable=$1 uid=$2 gid=$3
	shift 3
	mount --bind "$writable" "$writable" || exit 77
	awk "{ print \$5 }" /proc/self/mountinfo | sed "s/\\\\040/ /g" | sort -u |
	while IFS= read -r m; do
		[ "$m" = "$writable" ] && continue
		mount -o remount,bind,ro "$m" 2>/dev/null || true
	done
	# / itself must be read-only, or this is not the confinement asked for
	if touch /.confine-probe 2>/dev/null; then
		rm -f /.confine-probe
		echo "confine.sh: cannot make / read-only here" >&2
		exit 77
	fi
	exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all \
		--ambient-caps=-all --bounding-set=-all --no-new-privs -- "$@"
' confine "$writable" "$uid" "$gid" "$@"
