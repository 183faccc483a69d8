#!/bin/sh
# fresh-debian.sh -- issue 17's "done when" on a fresh Debian 12: a
# minimal bookworm made with debootstrap in ROOT, the package built by
# `make deb' installed there with apt (dependencies from Debian), then
# `cd / && camsim run', `man camsim-run' and bash completion of `camsim '.
# Needs root (chroot, mount) and Debian's archive; several minutes, so it
# is a manual check (docs/install.md), not part of make test.
# usage: sh tools/fresh-debian.sh DEB [ROOT]
set -eu
deb=${1:?usage: sh tools/fresh-debian.sh build/deb-out/camsim_VERSION_amd64.deb [ROOT]}
root=${2:-/tmp/camsim-fresh-bookworm}
[ -f "$deb" ] || { echo "fresh-debian: $deb: no such package (make deb)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
if [ ! -x "$root/usr/bin/apt-get" ]; then
	echo "fresh-debian: debootstrap bookworm into $root"
	debootstrap --variant=minbase bookworm "$root" >"$root.log" 2>&1 ||
		{ echo "fresh-debian: debootstrap failed, see $root.log" >&2; exit 2; }
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/root/"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" /bin/bash -euc '
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q "/root/'"$(basename "$deb")"'" >/tmp/apt.log 2>&1 ||
		{ tail -20 /tmp/apt.log; echo "fresh-debian: apt install failed" >&2; exit 1; }
	echo "fresh-debian: installed $(camsim --version)"
	cd /
	camsim run --report-dir /tmp/camsim-reports >/tmp/run.log 2>&1 ||
		{ tail -20 /tmp/run.log; echo "fresh-debian: camsim run failed" >&2; exit 1; }
	grep "^camsim run:" /tmp/run.log
	ls /tmp/camsim-reports/junit.xml /tmp/camsim-reports/report.html >/dev/null
	apt-get install -y -q man-db bash-completion >/dev/null 2>&1
	man -P cat camsim-run | grep -q "camsim-run" ||
		{ echo "fresh-debian: man camsim-run shows nothing" >&2; exit 1; }
	echo "fresh-debian: man camsim-run opens"
	set +eu # bash-completion is not written for -e -u
	. /usr/share/bash-completion/bash_completion
	_completion_loader camsim # returns 124 ("loaded, complete again")
	COMP_WORDS=(camsim ""); COMP_CWORD=1
	_camsim camsim "" camsim
	case " ${COMPREPLY[*]} " in *" run "*) ;;
	*) echo "fresh-debian: camsim <TAB> gave: ${COMPREPLY[*]}" >&2; exit 1 ;; esac
	echo "fresh-debian: camsim <TAB>: ${COMPREPLY[*]}"
'
echo "fresh-debian: all passed"
