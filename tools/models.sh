#!/bin/sh
# Fetches the face-recognition weights and the demo photos from the npm
# package @vladmandic/face-api@1.7.15 (MIT) with `npm pack`, checks every
# file against the sha256 sums pinned below, and keeps only what camsim
# needs in DIR (default build/models).  Idempotent: when every file in DIR
# already has its pinned sum nothing is fetched.  No registry address here:
# npm uses whatever registry the machine is configured for.
set -eu

DIR=${1:-build/models}
PKG=@vladmandic/face-api@1.7.15
TGZ_SHA=0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031

# path inside the package, sha256
SUMS='model/ssd_mobilenetv1_model-weights_manifest.json 888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955
model/ssd_mobilenetv1_model.bin 2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8
model/face_landmark_68_model-weights_manifest.json ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9
model/face_landmark_68_model.bin 4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b
model/face_recognition_model-weights_manifest.json cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b
model/face_recognition_model.bin b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589
demo/sample1.jpg 8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51
demo/sample2.jpg 7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691
demo/sample3.jpg 8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936
demo/sample4.jpg 729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc
demo/sample5.jpg 6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938
demo/sample6.jpg 9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87
LICENSE -'

check() { # dir -> 0 when every pinned file is there with its sum
	echo "$SUMS" | while read -r f sum; do
		[ -f "$1/$f" ] || return 1
		[ "$sum" = - ] && continue
		got=$(sha256sum "$1/$f" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || { echo "models: $1/$f: sha256 $got, pinned $sum" >&2; return 1; }
	done
}

if check "$DIR" 2>/dev/null; then
	echo "models: $DIR: all files present with their pinned sums"
	exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "models: npm not found (Debian package npm; make deps installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "models: npm pack $PKG"
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null) || { echo "models: npm pack $PKG failed" >&2; exit 1; }
tgz=$(ls "$tmp"/*.tgz)
got=$(sha256sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$TGZ_SHA" ]; then
	echo "models: $(basename "$tgz"): sha256 $got, pinned $TGZ_SHA; refusing it" >&2
	exit 1
fi
mkdir -p "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x"
if ! check "$tmp/x/package"; then
	echo "models: a file in the package does not match its pinned sum" >&2
	exit 1
fi
mkdir -p "$DIR/model" "$DIR/demo"
echo "$SUMS" | while read -r f sum; do
	cp "$tmp/x/package/$f" "$DIR/$f.part" && mv "$DIR/$f.part" "$DIR/$f"
done
echo "models: $DIR: $(echo "$SUMS" | wc -l) files from $PKG, sums checked"
