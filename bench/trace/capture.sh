#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Capture a kmem:kmalloc/kmem:kfree trace of Debian's stock 6.12 kernel.
#
# Usage: bench/trace/capture.sh [-s SECONDS] [-n MAX_EVENTS] [-w WORKLOAD]
#                               [-c CPUS] [-o OUT.trace.xz]
#
# Boots /boot/vmlinuz-6.12.*-amd64 under QEMU (TCG, CPUS vCPUs (default 2),
# 2 GiB) with
# trace_event=kmem:kmalloc,kmem:kfree no_hash_pointers and a 96 MiB per-CPU
# trace buffer, with bench/trace/capture-init.sh as /init.  The trace covers
# the boot and then the guest's workload of SECONDS (default 60); the guest
# stops tracing and sends the ftrace text out through the second serial
# port.  The trace is cut to its first MAX_EVENTS kmalloc/kfree lines (default 500000,
# 0 for all) and written xz-compressed to OUT (default
# bench/trace/debian-6.12-busybox.trace.xz).  WORKLOAD (capture-init.sh)
# is "mixed" (default) or "fs", a file storm on ext2 over a loop device and
# on tmpfs, which needs the kernel's loop and ext4 modules from
# /lib/modules/<version> and a static build of xattr-storm.c (gcc and
# libc.a), or "fsload", the workload of the routed-module test and bench
# (tools/routed-guest.sh: an ext4 file system with its journal, made by
# Debian's mke2fs, and tools/fsload.c on it; CAPTURE_FILES files, default
# 2000), which needs the same modules, e2fsprogs and a static fsload.
# Needs qemu-system-x86, busybox-static and xz; no KVM and no root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

secs=60 maxev=500000 out=$here/debian-6.12-busybox.trace.xz workload=mixed cpus=2
while getopts s:n:o:w:c: opt; do
	case $opt in
	s) secs=$OPTARG ;; n) maxev=$OPTARG ;; o) out=$OPTARG ;;
	w) workload=$OPTARG ;; c) cpus=$OPTARG ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
done

kernel=$(ls /boot/vmlinuz-6.12.*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] || { echo "capture: no /boot/vmlinuz-6.12.*-amd64" >&2; exit 1; }
work=$(mktemp -d)
# CAPTURE_KEEP=1 keeps the guest's files (console.log, results.log) for a look.
if [ -n "${CAPTURE_KEEP:-}" ]; then echo "capture: keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

mkdir -p "$work"/root/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$work/root/bin/busybox"
cp "$here/capture-init.sh" "$work/root/init"
chmod 755 "$work/root/init"
if [ "$workload" = fs ] || [ "$workload" = fsload ]; then
	# The file storm's modules, uncompressed (busybox insmod reads plain
	# .ko files), and its xattr tool.
	kver=${kernel#/boot/vmlinuz-}
	mkdir -p "$work/root/lib/modules"
	for m in crc16 crc32c_generic mbcache jbd2 ext4 loop; do
		f=$(modinfo -k "$kver" -n $m) || { echo "capture: no module $m for $kver" >&2; exit 1; }
		case $f in
		*.xz) xz -dc "$f" ;; *.zst) zstd -dc "$f" ;; *) cat "$f" ;;
		esac >"$work/root/lib/modules/$m.ko"
	done
	gcc -static -O2 -Wall -o "$work/root/bin/xattr-storm" "$here/xattr-storm.c"
fi
if [ "$workload" = fsload ]; then
	gcc -static -O2 -Wall -o "$work/root/bin/fsload" "$here/../../tools/fsload.c"
	# Debian's mke2fs (ext4 with a journal, as the routed test makes it)
	# with the shared libraries and loader it names.
	mkdir -p "$work/root/sbin" "$work/root/etc"
	cp /sbin/mke2fs "$work/root/sbin/"
	for l in $(ldd /sbin/mke2fs | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$work/root$(dirname "$l")"
		cp -L "$l" "$work/root$l"
	done
	cp /etc/mke2fs.conf "$work/root/etc/" 2>/dev/null || true
fi
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd"

echo "capture: booting $kernel for a ${secs}s $workload workload on $cpus vCPUs" >&2
rc=0
timeout -k 10 $((secs + 900)) qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp "$cpus" -m 2G \
	-kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet trace_event=kmem:kmalloc,kmem:kfree no_hash_pointers trace_buf_size=96M CAPTURE_SECONDS=$secs CAPTURE_WORKLOAD=$workload CAPTURE_FILES=${CAPTURE_FILES:-2000}" \
	-display none -monitor none -no-reboot \
	-chardev file,id=con,path="$work/console.log" -serial chardev:con \
	-chardev file,id=res,path="$work/results.log" -serial chardev:res \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	</dev/null >"$work/qemu.log" 2>&1 || rc=$?
grep -q '^CAPTURE-END' "$work/results.log" || {
	echo "capture: the guest did not finish (qemu rc=$rc); console:" >&2
	tail -30 "$work/console.log" >&2
	exit 1
}
grep '^CAPTURE-' "$work/results.log" | grep -v DATA >&2
# A full buffer overwrites or drops events: the trace would have holes.
if grep '^CAPTURE-STATS' "$work/results.log" |
	grep -qE 'overrun: [1-9]|dropped events: [1-9]'; then
	echo "capture: events were lost (see the stats above); not writing $out" >&2
	exit 1
fi
tr -d '\r' <"$work/results.log" |
	sed -n '/^CAPTURE-DATA-BEGIN/,/^CAPTURE-DATA-END/p' | sed '1d;$d' |
	base64 -d | gunzip -c >"$work/trace.txt"
# The header (lines starting with '#'), then the first MAX_EVENTS events.
{
	grep '^#' "$work/trace.txt" || true
	echo "# capture: $(basename "$kernel"), $cpus vCPUs, workload $workload ${secs}s, first ${maxev} events kept (0 = all)"
	if [ "$maxev" -gt 0 ]; then
		grep -v '^#' "$work/trace.txt" | head -n "$maxev"
	else
		grep -v '^#' "$work/trace.txt"
	fi
} | xz -9 -T1 >"$out"
echo "capture: $(grep -vc '^#' "$work/trace.txt") events captured; wrote $out ($(stat -c %s "$out") bytes)" >&2
