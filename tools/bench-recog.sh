#!/bin/sh
# The recognition core against the TF.js reference, in one run on this
# machine: camsim's figures from build/tests/bench_recog (one core), then
# the reference's (../shared/tools/faceapi-reference, Node, wasm SIMD, one
# thread) on the same pictures, and both processes' peak memory.  The
# reference part is skipped, with a note, where Node or the reference is
# missing: it is a development tool, never a run-time dependency.
#   usage: tools/bench-recog.sh BUILD_DIR
set -eu
B=${1:-build}
FRAME=faces/person-a-2.jpg
PHOTO=build/models/demo/sample1.jpg
REF=${FACEAPI_REF:-../shared/tools/faceapi-reference}

echo "-- camsim (C, camsim gemm + OpenBLAS, one thread; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
"$B/tests/bench_recog" "$FRAME" "$PHOTO"
# A machine may pin OpenBLAS to its AVX2 kernels (this one sets
# OPENBLAS_CORETYPE=Haswell in the environment); the detector runs on
# camsim's own AVX-512 kernel either way, the landmark and descriptor nets
# on OpenBLAS, so on an AVX-512 CPU show the kernels camsim would pick by
# itself too.
if grep -q avx512f /proc/cpuinfo 2>/dev/null && [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ]; then
	echo "-- camsim, the same with OPENBLAS_CORETYPE=SkylakeX (AVX-512 kernels)"
	OPENBLAS_CORETYPE=SkylakeX "$B/tests/bench_recog" "$FRAME" "$PHOTO"
fi
if command -v /usr/bin/time >/dev/null 2>&1; then
	/usr/bin/time -f "camsim recog detect $FRAME: peak RSS %M KiB (all three models loaded, one process)" \
		"$B/camsim" recog detect "$FRAME" >/dev/null 2>"$B/bench-recog-time.txt" || true
	grep "peak RSS" "$B/bench-recog-time.txt" || true
fi

if ! command -v node >/dev/null 2>&1 || [ ! -f "$REF/oracle.mjs" ]; then
	echo "-- reference: skipped (node or $REF missing)"
	exit 0
fi
[ -d "$REF/node_modules" ] || (cd "$REF" && npm ci --silent)
convert -version 2>/dev/null | grep -q ImageMagick || PATH=/usr/bin:$PATH
if ! convert -version 2>/dev/null | grep -q ImageMagick; then
	echo "-- reference: skipped (ImageMagick convert missing)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S2P=$B/stb2png   # built by make bench
"$S2P" "$FRAME" "$tmp/frame.png"
"$S2P" "$PHOTO" "$tmp/photo.png"
echo "-- reference (face-api 1.7.15 on TF.js 4.22.0, wasm SIMD, one thread)"
(cd "$REF" && /usr/bin/time -f "%M" -o "$tmp/rss" node oracle.mjs --warmup \
	--dump-crops "$tmp/crops" "$tmp/photo.png" "$tmp/frame.png" "$tmp/photo.png" \
	"$tmp/frame.png" 2>/dev/null) > "$tmp/ref.jsonl"
python3 - "$tmp/ref.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
# the first two runs warm up; report the second pair
for o in rows[2:]:
    t = o["timing"]; n = len(o["faces"])
    print("%s (%dx%d, %d faces): detect %.1f ms, landmarks %.1f ms (%.1f per face), "
          "descriptors %.1f ms (%.1f per face), whole %.1f ms" % (
          o["image"].split("/")[-1], o["width"], o["height"], n, t["detectMs"],
          t["landmarksMs"], t["landmarksMs"] / max(n, 1), t["descriptorsMs"],
          t["descriptorsMs"] / max(n, 1), o["ms"]))
PY
crop=$(ls "$tmp"/crops/photo_face0_aligned.png)
(cd "$REF" && node oracle.mjs --aligned "$crop" --bench 30 2>/dev/null) | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
print("descriptor net alone on an aligned crop: %.1f ms mean of %d runs" % (o["benchMeanMs"], o["benchRuns"]))'
echo "reference process peak RSS: $(cat "$tmp/rss") KiB"
