#!/bin/sh
# Runs each libFuzzer harness for SECONDS on its corpus (make fuzz,
# make fuzz-smoke).  Usage: run.sh FUZZ_BUILD SECONDS TARGET...
# Seeds: tests/fuzz/corpus/T/ (kept in the repository, read only here);
# new inputs go to FUZZ_BUILD/corpus/T/, crashes to FUZZ_BUILD/crashes/T/.
# Every harness runs even after one crashed; the exit status is 1 if any
# crashed, with each crash file and the command that reproduces it.
set -u
b=$1 secs=$2
shift 2
failed=""
for t in "$@"; do
	mkdir -p "$b/corpus/$t" "$b/crashes/$t"
	before=$(ls "$b/crashes/$t" | wc -l)
	echo "== fuzz $t: ${secs}s, corpus tests/fuzz/corpus/$t"
	# -jobs=1 leaves the other core to the rest of the machine; one input
	# that runs 10 s is a hang (a crash); 2 GB is a leak.
	CAMSIM_MODELS=/nonexistent/camsim-fuzz \
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	"$b/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$b/crashes/$t/" \
		"$b/corpus/$t" "tests/fuzz/corpus/$t" \
		>"$b/$t.log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$b/$t.log" |
		sed "s/^/   $t: /"
	after=$(ls "$b/crashes/$t" | wc -l)
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		failed="$failed $t"
		echo "FUZZ CRASH: $t (exit $rc); log: $b/$t.log" >&2
		grep -E 'ERROR: |fuzz property broken|SUMMARY:' "$b/$t.log" | head -5 >&2
		for f in $(ls -t "$b/crashes/$t" | head -"$((after - before > 0 ? after - before : 1))"); do
			echo "  crash file: $b/crashes/$t/$f" >&2
			echo "  reproduce:  CAMSIM_MODELS=/nonexistent $b/fuzz_$t $b/crashes/$t/$f" >&2
		done
		echo "  then: docs/fuzzing.md, \"A crash becomes a fixture\"" >&2
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz: $# harnesses, ${secs}s each, no crash"
