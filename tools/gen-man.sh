#!/bin/sh
# gen-man.sh CAMSIM OUTDIR [DATADIR] -- one man page per subcommand, camsim(1) and
# camsim-COMMAND(1), made by help2man from the --help texts (the source of
# truth): the subcommands are the ones `camsim --help' lists.  help2man
# runs a program, so each page gets a small wrapper named after it, which
# also gives help2man the usage block in the form it reads as SYNOPSIS
# ("Usage: camsim run ..." on one line, "  or: ..." for the next form;
# camsim's texts wrap the options in indented lines).  Writes OUTDIR/*.1;
# fails naming the page that could not be made.
set -eu

BIN=$1
OUT=$2
DATADIR=${3:-/usr/local/share/camsim}   # the Makefile's $(pkgdatadir)
command -v help2man >/dev/null 2>&1 || {
	echo "gen-man: help2man not found (Debian package help2man; make deps installs it)" >&2
	exit 1
}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
VERSION=$("$BIN" --version | sed 's/^camsim //')
rm -rf "$OUT" && mkdir -p "$OUT/bin"

# the usage block: "usage: camsim X A" + indented "[B]" lines -> one line;
# an indented "camsim X C" line -> "  or: camsim X C"
cat > "$OUT/bin/usage.awk" <<'AWK'
NR == 1 && /^usage: / { u = "Usage: " substr($0, 8); inu = 1; next }
inu && /^ +camsim / { print u; sub(/^ +/, ""); u = "  or: " $0; next }
inu && /^ +[^ ]/ { l = $0; sub(/^ +/, "", l); u = u " " l; next }
inu { print u; inu = 0 }
{ print }
END { if (inu) print u }
AWK

# "  run        run conformance scenarios ..." in the commands: block
cmds=$("$BIN" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]+  / {print $1}' |
	grep -vx -e help -e version)
[ -n "$cmds" ] || { echo "gen-man: $BIN --help lists no commands" >&2; exit 1; }

# camsim(1) names every page and where the data is looked for; each
# subcommand's page points back to camsim(1)
see=""
for c in $cmds; do see="$see${see:+,\n}.BR camsim-$c (1)"; done
printf '[ENVIRONMENT]\n.TP\n.B CAMSIM_DATA\nthe data directory (scenarios/, faces/, fixtures/, models/): the only place looked in when set\n.TP\n.B CAMSIM_MODELS\nthe face-model directory, before all others\n[FILES]\n.TP\n.I %s\nthe installed data, found beside the binary (../share/camsim) or at this compiled-in path; docs/install.md gives the whole lookup order\n[SEE ALSO]\n%b\n' \
	"$DATADIR" "$see" > "$OUT/bin/main.h2m"
printf '[SEE ALSO]\n.BR camsim (1)\n' > "$OUT/bin/sub.h2m"

page() { # name, description, wrapper, include file
	help2man -N --include="$4" --no-discard-stderr --version-string="$VERSION" \
		--name="$2" --section=1 --source="camsim" \
		--manual="camsim manual" -o "$OUT/$1.1" "$3" ||
		{ echo "gen-man: $1.1: help2man failed" >&2; exit 1; }
}

wrap() { # wrapper, subcommand (empty: camsim itself)
	cat > "$1" <<SH
#!/bin/sh
[ "\$1" = --help ] || exec "$BIN" $2 "\$@"
"$BIN" $2 --help | awk -f "$OUT/bin/usage.awk"
SH
	chmod +x "$1"
}

wrap "$OUT/bin/camsim" ""
page camsim "simulated face-recognition tablets and a conformance suite for the HTTP docking protocol V1.16" "$OUT/bin/camsim" "$OUT/bin/main.h2m"
for c in $cmds; do
	desc=$("$BIN" --help | awk -v c="$c" '$1 == c && /^  [a-z]+  / {
		sub(/^  [a-z]+ +/, ""); print; exit }')
	w="$OUT/bin/camsim-$c"
	wrap "$w" "$c"
	page "camsim-$c" "$desc" "$w" "$OUT/bin/sub.h2m"
done
rm -rf "$OUT/bin"
echo "gen-man: $OUT: camsim.1 and $(echo $cmds | wc -w) subcommand pages"
