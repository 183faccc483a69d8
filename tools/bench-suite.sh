#!/bin/sh
# bench-suite.sh CAMSIM REPORT_DIR -- the conformance suite against the
# in-process mock, three times: wall time of each run (from report.json)
# and the gate of issue 4 (every run under 60 s).  Used by `make bench'.
set -eu
camsim=$1
dir=$2
worst=0
for i in 1 2 3; do
	"$camsim" run --quiet --report-dir "$dir" scenarios >/dev/null || {
		echo "bench-suite: the suite failed (see $dir/report.html)"; exit 1; }
	ms=$(python3 -c 'import json, sys
print(int(json.load(open(sys.argv[1]))["duration_ms"]))' "$dir/report.json")
	echo "suite run $i: ${ms} ms wall"
	[ "$ms" -gt "$worst" ] && worst=$ms
done
echo "suite: worst of 3 runs ${worst} ms (target < 60000 ms)"
[ "$worst" -lt 60000 ]
