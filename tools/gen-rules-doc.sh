#!/bin/sh
# Rewrites the rule table of docs/protocol.md (between the rules:begin and
# rules:end markers) from `camsim validate --list-rules --markdown'.
# usage: tools/gen-rules-doc.sh build/camsim   (prints the new document)
set -eu
bin=$1
doc=docs/protocol.md
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$bin" validate --list-rules --markdown > "$table"
awk -v t="$table" '
	/<!-- rules:begin -->/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
	/<!-- rules:end -->/ { skip = 0 }
	!skip { print }
' "$doc"
