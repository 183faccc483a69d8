#!/bin/sh
# version.sh VERSION OUT -- writes OUT (build_version.h) with VERSION and
# the git commit of the tree ("0.6.0+g936969f", "+dirty" for local
# changes), touching OUT only when it changes, so nothing rebuilds for a
# version that did not move.
set -eu
v=$1
out=$2
rev=$(git rev-parse --short HEAD 2>/dev/null || true)
if [ -n "$rev" ]; then
	v="$v+g$rev"
	git diff --quiet HEAD -- 2>/dev/null || v="$v.dirty"
fi
tmp="$out.tmp.$$"
printf '#define CAMSIM_VERSION "%s"\n' "$v" > "$tmp"
if cmp -s "$tmp" "$out" 2>/dev/null; then
	rm -f "$tmp"
else
	mv "$tmp" "$out"
fi
