#!/bin/bash
# Runs the test binaries given, N at a time (-j N; default CAMSIM_TEST_JOBS,
# else the number of CPUs), prints one line per suite as it ends (its
# Check summary and seconds; the whole output when it failed), and fails if
# any failed.  --valgrind runs them under valgrind (CK_FORK=no) and fails on
# any error or leak valgrind reports.  Under 2 jobs the suites' timing
# windows must hold on a loaded machine (they are generous by rule).  Suites start longest first, by the
# times the last run of the same mode wrote next to the binaries.
set -u
vg=""
mode=plain
jobs="${CAMSIM_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}"
while [ $# -gt 0 ]; do
	case "$1" in
	--valgrind)
		# --max-threads: a suite may run two mocks at once (256 CivetWeb
		# workers each), above valgrind's default of 500 threads
		vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --max-threads=2000"
		mode=valgrind
		shift ;;
	-j) jobs="$2"; shift 2 ;;
	-j*) jobs="${1#-j}"; shift ;;
	*) break ;;
	esac
done
case "$jobs" in
''|*[!0-9]*|0) echo "tests/run.sh: -j \"$jobs\" is not a count of 1 or more" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "tests/run.sh: no test binaries given" >&2; exit 2; }

# Each suite's whole output stays in logs-MODE/ beside the binaries, also
# when the run is killed (a CI timeout still leaves what each suite said).
times="$(dirname "$1")/.times-$mode"
logs="$(dirname "$1")/logs-$mode"
rm -rf "$logs" && mkdir -p "$logs" || exit 2

# Longest first (suites without a recorded time count as long): with 2
# jobs the slowest suite must not start last.
order=$(for t in "$@"; do
	s=$(awk -v n="$(basename "$t")" '$1 == n { print $2 }' "$times" 2>/dev/null)
	echo "${s:-100000} $t"
done | sort -rn -k1,1 | cut -d' ' -f2-)

run_one() {
	local t=$1 log=$2
	# Under valgrind the networks' 3 G multiply-adds per frame take
	# minutes (no AVX-512 there either): every test but the recognition
	# core's own runs with the models out of reach and asserts the
	# "recognition unavailable" behaviour; ASan/UBSan (make sanitize) run
	# them in full.
	case "$vg:$(basename "$t")" in
	:*|*:check_recog_*) ;;
	*) export CAMSIM_MODELS=/nonexistent/camsim-models-off-under-valgrind ;;
	esac
	exec $vg "$t" >"$log" 2>&1
}

# Suites the valgrind pass does not run, each with the reason it prints
# (never skipped silently; docs/build.md "Suites valgrind does not run").
vg_skip_reason() {
	case "$1" in
	check_win) echo "SDL's X11, D-Bus and GL (llvmpipe) libraries report leaks and reads that are not camsim's, and it takes minutes there; it runs plain and under ASan+UBSan (LeakSanitizer), which report ours" ;;
	esac
}

declare -A name_of start_of
failed=0
total=0
: >"$logs/times"
finish() {
	local pid=$1 rc=$2 t=${name_of[$1]} secs=$((SECONDS - ${start_of[$1]}))
	local log="$logs/$(basename "$t").log"
	echo "$(basename "$t") $secs" >>"$logs/times"
	if [ "$rc" -eq 0 ]; then
		echo "== $t: ok, ${secs} s: $(grep -E '^[0-9]+%: Checks' "$log" | tail -n 1)"
	else
		failed=$((failed + 1))
		echo "== $t: FAILED (exit $rc), ${secs} s; its output:"
		cat "$log"
		echo "FAILED: $t"
	fi
}
running=0
for t in $order; do
	if [ -n "$vg" ] && why=$(vg_skip_reason "$(basename "$t")") && [ -n "$why" ]; then
		echo "== $t: not run under valgrind: $why"
		continue
	fi
	total=$((total + 1))
	while [ "$running" -ge "$jobs" ]; do
		wait -n -p done_pid
		finish "$done_pid" $?
		running=$((running - 1))
	done
	run_one "$t" "$logs/$(basename "$t").log" &
	name_of[$!]=$t
	start_of[$!]=$SECONDS
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	wait -n -p done_pid
	finish "$done_pid" $?
	running=$((running - 1))
done
cp "$logs/times" "$times" 2>/dev/null
echo "slowest: $(sort -rn -k2,2 "$logs/times" | head -n 3 | awk '{ printf "%s%s %d s", sep, $1, $2; sep = ", " }')"
echo "$((total - failed)) passed, $failed failed ($jobs at a time)"
[ "$failed" -eq 0 ]
