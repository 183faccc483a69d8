#!/bin/sh
# Builds raw seeds for every harness from fixtures/ into DIR/<target>/
# (docs/fuzzing.md).  The repository keeps only the minimized result:
#   sh tests/fuzz/seed.sh build/fuzz/seed
#   build/fuzz/fuzz_T -merge=1 tests/fuzz/corpus/T build/fuzz/seed/T
# Pictures: the small fixtures as they are, plus one demo photo shrunk to
# 24x24 in every format stb reads (ImageMagick's convert; skipped with a
# message when it is missing).
set -eu
out=${1:?usage: seed.sh DIR}
for t in proto image scenario adapter mock device; do
	rm -rf "${out:?}/$t"
	mkdir -p "$out/$t"
done

n=0
for f in fixtures/protocol/*/*.json; do
	[ "$(wc -c <"$f")" -le 4096 ] || continue
	n=$((n + 1))
	cp "$f" "$out/proto/$n.json"
	e=${f%.json}.expect
	if [ -f "$e" ] && grep -q 'direction: to-device' "$e"; then
		cp "$f" "$out/device/$n.json"
	else
		# a device message to the mock, and one riding after a command
		{ echo /api/face; cat "$f"; } >"$out/mock/$n"
	fi
done
printf '{}' >"$out/device/empty-reply"

for f in fixtures/images/*; do
	case "$f" in *.md|*.py) continue ;; esac
	[ "$(wc -c <"$f")" -le 4096 ] && cp "$f" "$out/image/"
done
photo=build/models/demo/sample1.jpg
if command -v convert >/dev/null 2>&1 && [ -f "$photo" ]; then
	for fmt in jpg png bmp gif tga pgm ppm hdr psd; do
		convert "$photo" -strip -resize 24x24! -quality 60 "$out/image/s24.$fmt"
	done
	convert "$photo" -strip -resize 24x24! -interlace JPEG "$out/image/s24-progressive.jpg"
	convert "$photo" -strip -resize 16x16! -depth 16 "$out/image/s16-16bit.ppm"
	convert "$photo" -strip -resize 16x16! -depth 16 "$out/image/s16-16bit.png"
	convert "$photo" -strip -resize 16x16! -colorspace Gray "$out/image/s16-gray.jpg"
else
	echo "seed.sh: convert or $photo missing: image seeds are the fixtures only" >&2
fi

for f in scenarios/*.json fixtures/run/*.json fixtures/run/bad/*.json; do
	[ "$(wc -c <"$f")" -le 8192 ] && cp "$f" "$out/scenario/"
done

cp examples/*.json tests/ref_server.adapter.json "$out/adapter/"

# the admin API, and a command queued then fetched by a heartbeat
hb=fixtures/protocol/spec/s02-heartbeat.json
cid=0012b516a202
for uri in / /admin/devices /admin/commands "/admin/commands?cid=$cid&limit=2" \
	   /admin/records "/admin/messages?limit=1" /admin/records/1/image \
	   /admin/commands/1 /nowhere; do
	printf '%s\n' "$uri" >"$out/mock/admin-$(echo "$uri" | tr -c 'a-z0-9\n' _)"
done
i=0
for cmd in fixtures/protocol/spec/s0[3-9]*.json fixtures/protocol/spec/s1[0-2]*.json; do
	e=${cmd%.json}.expect
	grep -q 'direction: to-device' "$e" || continue
	i=$((i + 1))
	{
		echo "/admin/devices/$cid/commands"
		cat "$cmd"
		printf '\n----\n/api/face\n'
		cat "$hb"
	} >"$out/mock/queue-$i"
done
{
	echo "/admin/devices/$cid/actions"
	echo '{"action": "delete", "id": "p1"}'
	printf -- '----\n/api/face\n'
	cat "$hb"
} >"$out/mock/action-delete"
for t in proto image scenario adapter mock device; do
	echo "seed.sh: $t: $(ls "$out/$t" | wc -l) files, $(du -sk "$out/$t" | cut -f1) KiB"
done
