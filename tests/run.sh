#!/bin/sh
# Runs each test binary given, prints its Check summary, and fails if any
# failed.  --valgrind runs them under valgrind (CK_FORK=no) and fails on
# any error or leak valgrind reports.
set -u
vg=""
if [ "${1:-}" = "--valgrind" ]; then
	shift
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
fi
failed=0
total=0
for t in "$@"; do
	total=$((total + 1))
	echo "== $t"
	if ! $vg "$t"; then
		failed=$((failed + 1))
		echo "FAILED: $t"
	fi
done
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
