#!/bin/sh
# bench-load.sh CAMSIM OUT_DIR [DEVICES RAMP_S DURATION_S] -- issue 15's two
# `camsim load' benchmarks against the in-process mock (docs/perf.md):
#  1. DEVICES (10,000) at one heartbeat every 3 s for DURATION_S (300) after
#     a RAMP_S (60) ramp: p99 heartbeat lateness <= 100 ms, and RSS flat;
#  2. one enrolment propagated to DEVICES devices: p50 / p99 / max, every
#     device confirmed.
# Samples the camsim process's VmRSS (/proc/PID/status) every RSS_EVERY
# seconds and judges "flat" on the samples after the ramp (rule below and
# in docs/perf.md).  Prints the table docs/perf.md pastes; exits 1 when a
# target is missed, 2 when a run could not run.  Used by `make bench'.
set -eu
camsim=$1
dir=$2
devices=${3:-10000}
ramp=${4:-60}
duration=${5:-300}
every=${RSS_EVERY:-5}
mkdir -p "$dir"

# run NAME ARGS...: camsim load in the background, its RSS and CPU time
# sampled as "seconds_since_start kB cpu_ticks anon_kB file_shmem_kB"
# lines in $dir/NAME.rss (the last two from /proc/PID/smaps_rollup: heap
# and stacks apart from mapped files and SQLite's -shm, so that a rise
# says what rose); leaves its exit code in rc
run() {
	name=$1
	shift
	rm -rf "${dir:?}/$name"
	"$camsim" load --server mock "$@" --report-dir "$dir/$name" \
		>"$dir/$name.out" 2>"$dir/$name.err" &
	pid=$!
	t0=$(date +%s)
	: >"$dir/$name.rss"
	while kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) &&
	      [ -n "$kb" ]; do
		# utime + stime (fields 14 and 15; the name in field 2 has no
		# space)
		cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
		split=$(awk '/^Anonymous:/ {a = $2} /^Rss:/ {r = $2}
			END {print a + 0, r - a}' "/proc/$pid/smaps_rollup" \
			2>/dev/null || echo "0 0")
		echo "$(($(date +%s) - t0)) $kb ${cpu:-0} ${split:-0 0}" \
			>>"$dir/$name.rss"
		sleep "$every"
	done
	rc=0
	wait "$pid" || rc=$?
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-load: $devices devices, ramp ${ramp}s, ${duration}s at one" \
	"heartbeat every 3 s (load average at the start: $load_start)"
run lateness --devices "$devices" --ramp "${ramp}s" --duration "${duration}s" \
	--interval 3 --threshold 'p99(lateness(heartbeat))<=100ms'
rc_late=$rc
load_mid=$(cut -d' ' -f1-3 /proc/loadavg)
# long enough after the ramp for every device to take its command in a
# heartbeat (every 3 s) and confirm it in the next
run propagation --devices "$devices" --ramp "${ramp}s" --duration 60s \
	--interval 3 --propagate enrol
rc_prop=$rc
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$dir" "$devices" "$ramp" "$duration" "$rc_late" "$rc_prop" \
	"$load_start" "$load_mid" "$load_end" <<'EOF'
import json, os, re, sys

d, devices, ramp, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rc_late, rc_prop = int(sys.argv[5]), int(sys.argv[6])
loads = sys.argv[7:10]
bad = 0

def report(name, rc):
    try:
        return json.load(open(f"{d}/{name}/report.json"))
    except (OSError, ValueError) as e:
        print(f"bench-load: {name}: no report.json (camsim exit {rc}: "
              f"see {d}/{name}.err): {e}")
        sys.exit(2)

def ms(us):
    return "-" if us is None else f"{us / 1000:.1f} ms"

late = report("lateness", rc_late)
prop = report("propagation", rc_prop)
lat = late["lateness"]["heartbeat"]
hb = late["kinds"].get("heartbeat", {"requests": 0, "failed": 0})

# RSS flat: the samples after the ramp (plus 10 s for the first heartbeats
# of the last devices) are cut into windows of a minute (a quarter of the
# run when it is shorter than 4 minutes); flat when the last window's mean
# is within 2 % of the first's and the window means do not rise window
# after window (monotone growth: a slow leak stays under 2 % in 5 minutes)
rows = [list(map(int, l.split())) for l in open(f"{d}/lateness.rss") if l.strip()]
rss = [(r[0], r[1]) for r in rows]
ticks = rows[-1][2] if rows and len(rows[-1]) > 2 else 0
post = [(t, kb) for t, kb in rss if ramp + 10 <= t <= ramp + duration]
win = 60 if duration >= 240 else max(duration // 4, 5)
means = []
for i in range(ramp + 10, ramp + duration + 1, win):
    w = [kb for t, kb in post if i <= t < i + win]
    if len(w) >= 2 or (w and win < 10):
        means.append(sum(w) / len(w))
if len(means) >= 2:
    growth = (means[-1] - means[0]) / means[0]
    monotone = len(means) >= 3 and all(b > a for a, b in zip(means, means[1:]))
    flat = growth <= 0.02 and not monotone
    rss_txt = (f"{means[0] / 1024:.1f} -> {means[-1] / 1024:.1f} MiB "
               f"({growth * 100:+.1f} %), window means " +
               " ".join(f"{m / 1024:.1f}" for m in means))
else:
    flat, rss_txt = False, "too few samples after the ramp"
peak = max((kb for _, kb in rss), default=0)
# what moved between the first and the last sample after the ramp
split = [(r[0], r[3], r[4]) for r in rows if len(r) > 4 and r[3]
         and ramp + 10 <= r[0] <= ramp + duration]
split_txt = "-"
if len(split) >= 2:
    (t0, a0, f0), (t1, a1, f1) = split[0], split[-1]
    split_txt = (f"anonymous (heap, stacks) {a0 / 1024:.1f} -> {a1 / 1024:.1f} "
                 f"MiB, files and shared memory {f0 / 1024:.1f} -> "
                 f"{f1 / 1024:.1f} MiB (s {t0} -> {t1})")

p99 = lat.get("p99")
late_ok = p99 is not None and p99 <= 100000 and lat["count"] > 0
pr = prop.get("propagation", {})
# its quantiles as camsim printed them (the summary line)
pq = "-"
for l in open(f"{d}/propagation.out"):
    m = re.search(r"p50 ([0-9.]+ms) p99 ([0-9.]+ms) max ([0-9.]+ms)", l)
    if l.startswith("propagation (") and m:
        pq = " / ".join(g.replace("ms", " ms") for g in m.groups())
prop_ok = pr.get("devices") == devices and pr.get("confirmed") == devices

print()
print(f"| measure | target | measured | verdict |")
print(f"|---|---|---|---|")
print(f"| heartbeat lateness p50 / p99 / max ({lat['count']} slots) | p99 <= 100 ms "
      f"| {ms(lat.get('p50'))} / {ms(p99)} / {ms(lat.get('max'))} "
      f"| {'ok' if late_ok else 'MISSED'} |")
print(f"| heartbeats sent / failed ({late['elapsed_s']:.0f} s, "
      f"{late.get('abandoned', 0)} abandoned at the end) | all answered "
      f"| {hb['requests']} / {hb['failed']} "
      f"| {'ok' if hb['failed'] == 0 and not late.get('abandoned') else 'MISSED'} |")
print(f"| RSS after the ramp (peak {peak / 1024:.1f} MiB) | flat (last window "
      f"within 2 % of the first, no monotone rise) | {rss_txt} "
      f"| {'ok' if flat else 'MISSED'} |")
print(f"| RSS by kind, first and last sample after the ramp | - | {split_txt} | - |")
print(f"| propagation of one enrolment, confirmed | every device "
      f"| {pr.get('confirmed', 0)} of {pr.get('devices', 0)} "
      f"| {'ok' if prop_ok else 'MISSED'} |")
print(f"| propagation p50 / p99 / max | report | {pq} | - |")
# the whole process (devices, mock, SQLite) per heartbeat, from the last
# sample (a few seconds before the end: a slight underestimate)
if hb["requests"] and ticks:
    us = ticks / os.sysconf("SC_CLK_TCK") / hb["requests"] * 1e6
    print(f"| CPU per heartbeat, devices and mock in one process | - | "
          f"{us:.0f} us (at {devices / 3:.0f} heartbeats/s: "
          f"{us * devices / 3 / 1e6:.2f} cores) | - |")
print()
print(f"load average (1/5/15 min) at the start {loads[0]}, after the lateness "
      f"run {loads[1]}, at the end {loads[2]}; 2 vCPU")
for x in (rc_late, rc_prop):
    if x not in (0, 99):
        bad = 2
if not (late_ok and flat and prop_ok) or hb["failed"] or late.get("abandoned"):
    bad = bad or 1
sys.exit(bad)
EOF
