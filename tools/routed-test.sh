#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ext4, jbd2 and mbcache, and zram with zsmalloc, from the 6.12 source,
# unmodified, on goalloc (kmod/goalloc_slab.h), under a real file system
# workload and real block and swap traffic in the debug guest (KASAN,
# lockdep, kmemleak): Documentation/routing.rst.
#
# Usage: tools/routed-test.sh [-s] [-n FILES] [-z MIB] [-w WORK] [-k debug|stock] -o OUTDIR
#   -s        the same workloads on the debug kernel's own ext4, jbd2 and
#             mbcache, and zram and zsmalloc built from the same copies
#             without the routing header (SLUB), without goalloc
#   -n FILES  files of the ext4 workload (default 2000)
#   -z MIB    the zram workload's size: MIB MiB of pages written to zram0,
#             MIB / 4 MiB of anonymous memory swapped out to zram1 (default 8)
#   -w WORK   the workloads to run: "ext4 zram" (the default), "ext4", "zram";
#             the stock kernel runs ext4 only (its zsmalloc is built in)
#   -k stock  Debian's stock 6.12 kernel (/boot/vmlinuz-6.12.*-amd64, no
#             KASAN, no lockdep) instead of the debug kernel: the routed
#             modules and goalloc are built against its headers, its own
#             modules come from /lib/modules (make bench's honest memory
#             figures; the debug kernel is the check)
#
# The guest side is tools/routed-guest.sh.  The initramfs carries the
# modules (the kernel's crypto modules that ext4 and jbd2 load first,
# goalloc, the routed modules), fsload (tools/fsload.c, static) and Debian's
# mke2fs and e2fsck with the shared libraries they need.  The verdict is
# qemu/verdict.py's: OUTDIR/counts.
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"

slub="" files=2000 zmib=8 work="ext4 zram" out="" kname=debug
while getopts sn:z:w:o:k: opt; do
	case $opt in
	s) slub=1 ;; n) files=$OPTARG ;; o) out=$OPTARG ;; k) kname=$OPTARG ;;
	z) zmib=$OPTARG ;; w) work=$OPTARG ;;
	*) die "usage: see the head of $0" ;;
	esac
done
[ -n "$out" ] || die "need -o OUTDIR"
cd "$GOALLOC_TOP"
BUILD=$GOALLOC_TOP/build
# Debian's kernel has zsmalloc built in: tools/routed-modules.sh builds
# zram and zsmalloc only for a kernel without them (the debug kernel).
[ "$kname" = stock ] && work=ext4
label=routed-ext4${slub:+-slub}
[ "$kname" = stock ] && label=routed-ext4-stock${slub:+-slub}
mkdir -p "$out"
fail_early() {
	echo "[$label] FAIL $1"
	echo "0 1 0" >"$out/counts"
	exit 1
}

# As tools/check.sh: 4 vCPUs at most, no more than the host's CPUs, at least 2.
cpus=$(nproc)
[ "$cpus" -gt 4 ] && cpus=4
[ "$cpus" -lt 2 ] && cpus=2

if [ "$kname" = stock ]; then
	# Debian's kernel, its headers and its own (xz-compressed) modules,
	# uncompressed for busybox's insmod.
	v=$(ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' |
	    sort -V | tail -1)
	[ -n "$v" ] && [ -e "/boot/vmlinuz-$v" ] || fail_early "Debian's 6.12 kernel and headers"
	k=/usr/src/linux-headers-$v image=/boot/vmlinuz-$v
	sm=$BUILD/stock-modules-$v
	mkdir -p "$sm"
	for m in crc16 crc32c_generic loop mbcache jbd2 ext4; do
		f=$(modinfo -k "$v" -n $m) || fail_early "no module $m for $v"
		xz -dc "$f" >"$sm/$m.ko" || fail_early "unpacking $f"
	done
	mods=("$sm/crc16.ko" "$sm/crc32c_generic.ko" "$sm/loop.ko")
	if [ -n "$slub" ]; then
		mods+=("$sm/mbcache.ko" "$sm/jbd2.ko" "$sm/ext4.ko")
	else
		build_modules "$k" "$BUILD/stock-$v" || fail_early "goalloc build against $k"
		r=$BUILD/routed-stock-$v
		tools/routed-modules.sh "$k" "$BUILD/stock-$v" "$r" >"$out/imports.txt" 2>&1 ||
			{ cat "$out/imports.txt"; fail_early "routed build of mbcache, jbd2, ext4"; }
		echo "[$label] PASS routed build imports goalloc's calls, SLUB's frees only as fallback"
		mods+=("$BUILD/stock-$v/kmod/goalloc.ko" "$r/mbcache/mbcache.ko" "$r/jbd2/jbd2.ko"
		       "$r/ext4/ext4.ko")
	fi
else
k=$(qemu/kernel.sh debug) || fail_early "debug kernel build"
image=$k/arch/x86/boot/bzImage
mods=("$k/crypto/crypto.ko" "$k/crypto/crypto_algapi.ko" "$k/crypto/crypto_hash.ko"
      "$k/crypto/crc32c_generic.ko" "$k/lib/crc16.ko")
if [ -n "$slub" ]; then
	# The kernel has no zram: the same copies, built without the header.
	r=$BUILD/routed-debug-slub
	tools/routed-modules.sh --slub "$k" "$BUILD/debug" "$r" >"$out/build.txt" 2>&1 ||
		{ cat "$out/build.txt"; fail_early "SLUB build of zram, zsmalloc"; }
	mods+=("$k/fs/mbcache.ko" "$k/fs/jbd2/jbd2.ko" "$k/fs/ext4/ext4.ko")
else
	# The goalloc build tools/check.sh makes for the debug guest.
	build_modules "$k" "$BUILD/debug" || fail_early "goalloc build against $k"
	r=$BUILD/routed-debug
	t0=$(date +%s)
	tools/routed-modules.sh "$k" "$BUILD/debug" "$r" >"$out/imports.txt" 2>&1 ||
		{ cat "$out/imports.txt"; fail_early "routed build of mbcache, jbd2, ext4, zsmalloc, zram"; }
	echo "[$label] PASS routed build imports goalloc's calls, SLUB's frees only as fallback ($(( $(date +%s) - t0 )) s)"
	mods+=("$BUILD/debug/kmod/goalloc.ko" "$r/mbcache/mbcache.ko" "$r/jbd2/jbd2.ko"
	       "$r/ext4/ext4.ko")
fi
# Loaded by the guest's zram part, not at boot (tools/routed-guest.sh).
mods+=("$r/lzo/lzo_compress.ko" "$r/zsmalloc/zsmalloc.ko" "$r/zram/zram.ko")
fi
gcc -static -O2 -Wall -Wextra -Werror -o "$BUILD/fsload" tools/fsload.c ||
	fail_early "fsload build"

root=$BUILD/$label-root
qemu/mkinitramfs.sh "$root" - -- "${mods[@]}" -- -- "$BUILD/fsload" tools/routed-guest.sh ||
	fail_early "initramfs"
stage_e2fsprogs "$root"
pack_reproducible "$root" "$BUILD/$label.cpio.gz"

qemu/run-qemu.sh -k "$image" -i "$BUILD/$label.cpio.gz" -o "$out" \
	-c "$cpus" -m 2G -t $((1200 + files / 2)) -M routed \
	-a "GA_FS_FILES=$files GA_ZRAM_MIB=$zmib GA_ROUTED_WORK=${work// /,} slab_nomerge"
qemu/verdict.py "$out" --kind qemu --ksrc "$(src_tree)" --label "$label"
