#!/bin/sh
# Makes golden data for the recognition core's tests with the TF.js
# reference (../shared/tools/faceapi-reference, Node): each IMAGE is first
# decoded by camsim's trusted decoder (stb_image) into a PNG (build/stb2png)
# so both sides see the same pixels, then run through oracle.mjs.  Writes OUT (JSON Lines,
# one object per image, "image" rewritten to the path given here) and, with
# CROPS=DIR, the exact net-input crops.  Run by developers when the golden
# set changes; the tests themselves never need Node.
#   usage: tools/golden.sh OUT.jsonl [oracle options --] IMAGE...
set -eu
REF=${FACEAPI_REF:-../shared/tools/faceapi-reference}
[ -f "$REF/oracle.mjs" ] || { echo "golden: $REF/oracle.mjs not found (set FACEAPI_REF)" >&2; exit 1; }
[ -d "$REF/node_modules" ] || (cd "$REF" && npm ci --silent)
out=$1; shift
opts=""
case " $* " in *" -- "*)
	while [ "$1" != "--" ]; do opts="$opts $1"; shift; done; shift ;;
esac
# oracle.mjs decodes with ImageMagick's convert; prefer Debian's when an
# earlier convert on PATH is something else
convert -version 2>/dev/null | grep -q ImageMagick || PATH=/usr/bin:$PATH
convert -version 2>/dev/null | grep -q ImageMagick || { echo "golden: ImageMagick convert needed (apt-get install imagemagick)" >&2; exit 1; }
make -s build/stb2png
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pngs=""
for f in "$@"; do
	stem=$(basename "$f"); stem=${stem%.*}
	d=$(basename "$(dirname "$f")")
	p="$tmp/${d}__${stem}.png"
	build/stb2png "$f" "$p"
	pngs="$pngs $p"
done
here=$(pwd)
# shellcheck disable=SC2086
(cd "$REF" && node oracle.mjs $opts $pngs) > "$tmp/out.jsonl"
# the image member names the file given here, not the temporary PNG
python3 - "$tmp/out.jsonl" "$here" "$@" > "$out" <<'PY'
import hashlib, json, os, sys
src, here, files = sys.argv[1], sys.argv[2], sys.argv[3:]
names = {}
for f in files:
    stem = os.path.splitext(os.path.basename(f))[0]
    d = os.path.basename(os.path.dirname(f))
    names[f"{d}__{stem}"] = os.path.relpath(os.path.abspath(f), here)
for line in open(src):
    o = json.loads(line)
    stem = os.path.splitext(os.path.basename(o["image"]))[0]
    o["image"] = names.get(stem, o["image"])
    # the bytes the golden data belongs to: a changed fixture is told apart
    # from a changed core
    with open(os.path.join(here, o["image"]), "rb") as fh:
        o["sha256"] = hashlib.sha256(fh.read()).hexdigest()
    o.pop("ms", None); o.pop("timing", None)
    for fc in o.get("faces", []):
        fc.pop("descriptorMs", None)
    print(json.dumps(o, separators=(",", ":")))
PY
echo "golden: $out: $(wc -l < "$out") images" >&2
