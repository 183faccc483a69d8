#!/bin/bash
# check_install.sh BUILD -- camsim as an installed tool (issue 17,
# docs/install.md), checked the way a user meets it:
#  - the .deb of `make deb' (BUILD/deb-out) unpacked into a scratch root
#    (dpkg -x): its Depends came from the shared libraries; its camsim, run
#    from / with no CAMSIM_* variable, finds the scratch root's suite, faces,
#    images and models, passes the whole suite against the mock with
#    --fail-on-skip (13 s here) and writes its reports; without the models it says so
#    and --fail-on-skip fails the run (never a silent skip);
#  - `camsim load --arrivals' from / shows the package's faces (its default
#    --faces is the data directory's, not ./faces);
#  - every man page (camsim(1) and one per subcommand --help lists) opens
#    with man -l and names its command;
#  - the bash completion, sourced: `camsim <TAB>' offers every subcommand,
#    `camsim X --<TAB>' every option X's --help names, `camsim run hea<TAB>'
#    the installed suite's scenario names, value lists (--color);
#  - the zsh completion offers the same options (compadd stubbed);
#  - make install DESTDIR=... (PREFIX /usr/local, the default, so the build
#    is not relinked for another data directory; mandir and docdir moved)
#    puts camsim, its data, man pages and completion where the GNU
#    variables say, that camsim finds its suite from /, and make uninstall
#    leaves no file behind.
# Fails loudly, naming what is missing.  About 35 s beside `make deb'.
set -u

BUILD=${1:-build}
DEB=$(ls "$BUILD"/deb-out/camsim_*.deb 2>/dev/null | head -1)
TREE=$(pwd)
fails=0
fail() { echo "check_install: FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "check_install: ok: $*"; }

[ -n "$DEB" ] || { echo "check_install: FAIL: no package in $BUILD/deb-out (make deb)" >&2; exit 1; }
root=$(mktemp -d /tmp/camsim-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
dpkg -x "$DEB" "$root/sys" || { echo "check_install: FAIL: dpkg -x $DEB" >&2; exit 1; }
bin=$root/sys/usr/bin/camsim
data=$root/sys/usr/share/camsim
unset CAMSIM_DATA CAMSIM_MODELS

# ---------------------------------------------------------------- package
deps=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libcurl4 libsqlite3 libcjson1 libcivetweb1; do
	case $deps in *"$lib"*) ;; *) fail "Depends lacks $lib (dpkg-shlibdeps): $deps" ;; esac
done
# apt would take it, its Depends resolved here (-s: nothing installed)
if command -v apt-get > /dev/null; then
	apt-get install -s "$(realpath "$DEB")" 2>&1 | grep -q '^Inst camsim ' ||
		fail "apt-get install -s $DEB does not install camsim: $(apt-get install -s "$(realpath "$DEB")" 2>&1 | tail -3)"
fi
v=$(cd / && "$bin" --version)
want=$(dpkg-deb -f "$DEB" Version)
case $v in "camsim $want"*) ok "$v, package $want" ;; *) fail "--version \"$v\", package version $want" ;; esac

# ---------------------------------------------------------------- the suite from /
n_tree=$(ls "$TREE"/scenarios/*.json | wc -l)
n_inst=$(cd / && "$bin" run --list | wc -l)
[ "$n_inst" = "$n_tree" ] || fail "camsim run --list from / lists $n_inst scenarios, the tree has $n_tree"
rep=$root/reports
if (cd / && "$bin" run --fail-on-skip --quiet --report-dir "$rep" > "$root/run.out" 2>&1); then
	ok "cd / && camsim run --fail-on-skip: $(head -1 "$root/run.out" | cut -c1-100)"
else
	fail "cd / && camsim run from the package failed:"; cat "$root/run.out" >&2
fi
for f in junit.xml report.json report.html; do
	[ -s "$rep/$f" ] || fail "the run wrote no $rep/$f"
done
# the scenario files run are the scratch root's, not the tree's
python3 - "$rep/report.json" "$data/scenarios" "$n_tree" <<'PY' || fail "report.json: scenarios not from the package's data dir"
import json, sys
doc = json.load(open(sys.argv[1]))
files = [s["file"] for s in doc["scenarios"]]
bad = [f for f in files if not f.startswith(sys.argv[2] + "/")]
assert len(files) == int(sys.argv[3]) and not bad and doc["verdict"] == "pass", (files, doc["verdict"])
PY

# without models: a loud line, and --fail-on-skip fails the run
mv "$data/models" "$root/models.away"
(cd / && "$bin" run --fail-on-skip --quiet --report-dir "$rep" batch-no-face > "$root/nomodels.out" 2>&1)
rc=$?
mv "$root/models.away" "$data/models"
if [ $rc -ne 1 ] || ! grep -q "models are not found" "$root/nomodels.out"; then
	fail "without models: exit $rc (want 1) and no line naming the missing models:"; cat "$root/nomodels.out" >&2
else
	ok "without models: exit 1, \"$(grep -o 'need.*not found' "$root/nomodels.out" | head -1)\""
fi

# load's pictures: the data directory's faces/, from any directory
if (cd / && "$bin" load --server mock --devices 2 --duration 2s --arrivals 120 \
	--report-dir "$root/load" > "$root/load.out" 2>&1) &&
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["faces_shown"] > 0 and d["face_errors"] == 0))' "$root/load/report.json"; then
	ok "cd / && camsim load --arrivals: $(grep -o '[0-9]* people shown' "$root/load.out")"
else
	fail "cd / && camsim load --arrivals showed no faces:"; cat "$root/load.out" >&2
fi

# ---------------------------------------------------------------- man pages
cmds=$("$bin" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]+  / {print $1}' | grep -vx -e help -e version)
for page in camsim $(printf 'camsim-%s ' $cmds); do
	f=$root/sys/usr/share/man/man1/$page.1.gz
	out=$(MANWIDTH=80 man -l "$f" 2>&1)
	if [ $? -ne 0 ] || ! printf '%s' "$out" | grep -qE "^ *$page +- "; then
		fail "man -l $page.1.gz: does not open or names no \"$page - \": $(printf '%s' "$out" | head -5)"
	fi
done
# `man camsim-run' by name, as installed (MANPATH stands for /usr/share/man)
if MANPATH=$root/sys/usr/share/man MANWIDTH=80 man camsim-run 2>&1 | grep -q -- '--fail-on-skip'; then
	ok "man pages: camsim $(echo $cmds)"
else
	fail "camsim-run(1) does not describe --fail-on-skip"
fi

# ---------------------------------------------------------------- completion
# every --option a subcommand's --help names in its usage block or option lines
help_opts() {
	"$bin" "$1" --help | awk 'NR == 1 { u = 1 } u && /^$/ { u = 0 } u || /^ +--/' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
export PATH="$root/sys/usr/bin:$PATH"
# shellcheck disable=SC1091
. "$root/sys/usr/share/bash-completion/completions/camsim"
complete_bash() { # words... -> COMPREPLY one a line
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
	_camsim
	printf '%s\n' "${COMPREPLY[@]}"
}
got=$(complete_bash camsim "")
for c in $cmds; do
	grep -qx "$c" <<< "$got" || fail "bash: camsim <TAB> lacks $c"
done
for c in $cmds; do
	got=$(complete_bash camsim "$c" --)
	for o in $(help_opts "$c"); do
		grep -qx -- "$o" <<< "$got" || fail "bash: camsim $c --<TAB> lacks $o"
	done
done
got=$(complete_bash camsim run hea)
grep -qx heartbeat <<< "$got" && grep -qx heartbeat-fields <<< "$got" ||
	fail "bash: camsim run hea<TAB> gives no installed scenario names: $got"
got=$(complete_bash camsim run --color "")
[ "$(echo $got)" = "auto always never" ] || fail "bash: camsim run --color <TAB>: $got"
ok "bash completion: subcommands, every --help option, scenario names, values"

if command -v zsh > /dev/null; then
	zout=$(zsh -f -c '
		compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
		_files() { : }
		autoload -U is-at-least
		source "$1" 2>/dev/null
		words=(camsim ""); CURRENT=2; PREFIX=""; _camsim
		for c in ${=2}; do
			print "== $c"; words=(camsim $c --); CURRENT=3; PREFIX=--; _camsim
		done
	' zsh "$root/sys/usr/share/zsh/vendor-completions/_camsim" "$(echo $cmds)" 2>&1)
	for c in $cmds; do
		grep -qx -- "$c" <<< "$zout" || fail "zsh: camsim <TAB> lacks $c"
		got=$(awk -v c="== $c" '$0 == c {on = 1; next} /^== / {on = 0} on' <<< "$zout")
		for o in $(help_opts "$c"); do
			grep -qx -- "$o" <<< "$got" || fail "zsh: camsim $c --<TAB> lacks $o"
		done
	done
	ok "zsh completion: subcommands and every --help option"
else
	fail "zsh not found (tools/deps.sh installs it)"
fi

# ---------------------------------------------------------------- make install
dest=$root/dest
MK=${MAKE:-make}
vars="PREFIX=/usr/local mandir=/usr/local/man docdir=/usr/local/doc/camsim"
if $MK --no-print-directory -s install DESTDIR="$dest" $vars > "$root/install.out" 2>&1; then
	for f in bin/camsim share/camsim/scenarios/heartbeat.json \
		share/camsim/faces/person-a-1.jpg share/camsim/fixtures/images/frame_640x480.png \
		share/camsim/docs/scenario.schema.json share/camsim/models/model/face_recognition_model.bin \
		doc/camsim/install.md man/man1/camsim-run.1 \
		share/bash-completion/completions/camsim share/zsh/site-functions/_camsim; do
		[ -f "$dest/usr/local/$f" ] || fail "make install DESTDIR $vars: no $f"
	done
	n=$(cd / && "$dest/usr/local/bin/camsim" run --list | wc -l)
	[ "$n" = "$n_tree" ] || fail "the DESTDIR install's camsim lists $n scenarios from /, not $n_tree"
	$MK --no-print-directory -s uninstall DESTDIR="$dest" $vars > /dev/null 2>&1
	left=$(find "$dest" -type f | head -5)
	[ -z "$left" ] || fail "make uninstall left: $left"
	ok "make install / uninstall with DESTDIR and $vars"
else
	fail "make install DESTDIR=$dest $vars:"; tail -20 "$root/install.out" >&2
fi

if [ $fails -ne 0 ]; then
	echo "check_install: $fails failure(s)" >&2
	exit 1
fi
echo "check_install: all passed"
