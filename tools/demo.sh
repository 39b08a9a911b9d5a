#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# "make run": boot the debug test kernel under QEMU and show goalloc serving
# real kernel code: ext4, jbd2 and mbcache of the 6.12 source, unmodified,
# routed to goalloc (Documentation/routing.rst), mount a file system and run
# a workload while goalloc's per-cache table shows their caches; then the
# side-by-side with SLUB that make bench measured, and the userspace arena
# scene (tools/demo-guest.sh).  The full tables: results/demo/results.log.
#
#   GA_DEMO_FILES  files of the workload (default 600)
#   GA_CPUS        vCPUs (default 2)
#
# The debug kernel: the perf kernel has no block layer.  The first run
# builds the kernel (cached) and the routed modules (a few minutes, cached
# in build/routed-debug); after that a run took 4 to 4.5 minutes of wall
# time on a 2-core host shared with other guests (the guest 3.3 to 3.8).
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"
cd "$GOALLOC_TOP"

tools/install-deps.sh --pictures --perf
k=$(qemu/kernel.sh debug)
out=results/demo
mkdir -p "$out"
echo "goalloc: building goalloc and the routed ext4, jbd2, mbcache for $(basename "$k")..." >&2
build_modules "$k" build/debug
build_libgoalloc "$GOALLOC_TOP/build/libgoalloc"
tools/routed-modules.sh "$k" build/debug build/routed-debug >"$out/imports.txt" 2>&1 ||
	{ cat "$out/imports.txt"; die "routed build of mbcache, jbd2, ext4"; }
gcc -static -O2 -Wall -Wextra -Werror -o build/fsload tools/fsload.c

r=build/routed-debug
root=build/demo-root
qemu/mkinitramfs.sh "$root" - -- "$k/crypto/crypto.ko" "$k/crypto/crypto_algapi.ko" \
	"$k/crypto/crypto_hash.ko" "$k/crypto/crc32c_generic.ko" "$k/lib/crc16.ko" \
	build/debug/kmod/goalloc.ko "$r/mbcache/mbcache.ko" "$r/jbd2/jbd2.ko" \
	"$r/ext4/ext4.ko" -- -- build/libgoalloc/arena-demo build/libgoalloc/goallocstat \
	build/fsload tools/demo-guest.sh
stage_e2fsprogs "$root"
# The host's perf, to read goalloc's tracepoints in the guest.
perf=$(command -v perf || true)
if [ -n "$perf" ] && ldd "$perf" >/dev/null 2>&1; then
	stage_binaries "$root" /usr/bin "$perf"
fi
# The side by side with SLUB, as make bench last measured it.
sum=results/bench/routed-summary.txt
if [ -s "$sum" ]; then
	{ echo "make bench, $(date -u -r "$sum" '+%Y-%m-%d %H:%M UTC') (results/bench/bench.md):"
	  cat "$sum"; } >"$root/goalloc/routed-summary.txt"
else
	echo "no figures yet: \"tools/bench.sh routed\" (part of make bench) runs the side by side" \
		"(about 40 minutes), then make run shows them here" >"$root/goalloc/routed-summary.txt"
fi
pack_reproducible "$root" build/demo.cpio.gz

cpus=${GA_CPUS:-2}
echo "goalloc: booting $(basename "$k") under QEMU ($cpus vCPUs)..." >&2
start=$(date +%s)
qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i build/demo.cpio.gz -o "$out" \
	-c "$cpus" -m 1G -t 900 -M demo -a "GA_DEMO_FILES=${GA_DEMO_FILES:-600}"
sed -n '/^GA-DEMO-BEGIN/,/^GA-DEMO-END/p' "$out/results.log" | sed '1d;$d' |
	grep -v '^GA-'
echo
echo "guest: $(($(date +%s) - start)) s; full tables: $out/results.log"
# Pictures of goalloc's heap as the snapshot above found it: per-class bars,
# the chunk map (tools/goalloc-pictures.py; Documentation/admin.rst).
if pngs=$(tools/goalloc-pictures.py --log "$out/results.log" \
	--title "goalloc's heap while fsload populates ext4 (make run)" "$out" 2>"$out/pictures.log"); then
	echo "pictures of goalloc's heap at that snapshot: ${pngs//$'\n'/ }"
else
	echo "no pictures of goalloc's heap: see $out/pictures.log"
fi
# The verdict (every module load and unload, the kernel log) in a line;
# its checks one by one in the results folder, and any failure here.
rc=0
qemu/verdict.py "$out" --kind qemu --ksrc "$(src_tree)" --label demo >"$out/verdict.txt" || rc=$?
grep -v '] PASS ' "$out/verdict.txt" || true
read -r p f _ <"$out/counts"
echo "checks: $p passed, $f failed (module loads and unloads, kernel log clean): $out/verdict.txt"
[ "$rc" = 0 ] || exit "$rc"
# The file system scene must have run clean: fsload's three steps, fsck.
grep -q '^GA-DEMO fsload rc=0/0/0 e2fsck rc=0' "$out/results.log" ||
	die "the file system scene failed (see $out/results.log and console.log)"
