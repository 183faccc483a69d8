#!/bin/sh
# Runs each test binary given, prints its Check summary, and fails if any
# failed.  --valgrind runs them under valgrind (CK_FORK=no) and fails on
# any error or leak valgrind reports.
set -u
vg=""
if [ "${1:-}" = "--valgrind" ]; then
	shift
	# --max-threads: a suite may run two mocks at once (256 CivetWeb
	# workers each), above valgrind's default of 500 threads
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --max-threads=2000"
fi
failed=0
total=0
for t in "$@"; do
	total=$((total + 1))
	echo "== $t"
	# Under valgrind the networks' 3 G multiply-adds per frame take minutes
	# (no AVX-512 there either): every test but the recognition core's own
	# runs with the models out of reach and asserts the "recognition
	# unavailable" behaviour; ASan/UBSan (make sanitize) run them in full.
	case "$vg:$(basename "$t")" in
	:*|*:check_recog_*) unset CAMSIM_MODELS ;;
	*) CAMSIM_MODELS=/nonexistent/camsim-models-off-under-valgrind; export CAMSIM_MODELS ;;
	esac
	if ! $vg "$t"; then
		failed=$((failed + 1))
		echo "FAILED: $t"
	fi
done
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
