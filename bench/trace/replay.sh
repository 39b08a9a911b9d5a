#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Replay a kmalloc/kfree trace through goalloc and through kmalloc (SLUB) in
# the project's perf kernel under QEMU, and tabulate the memory each holds.
#
# Usage: bench/trace/replay.sh [-t TRACE] [-s STEP] [-k perf|debug] [-c CPUS]
#                              [-a ALLOCATORS] [-p PARAMS] [-u] [RESULTS_DIR]
#
# TRACE: an ftrace text trace (.xz, .gz or plain; default the committed
# bench/trace/debian-6.12-busybox.trace.xz).  STEP: records replayed between
# two snapshots of the counters (default 250).  RESULTS_DIR (default
# results/bench/trace) gets the stream's summary, each guest's logs,
# results.md and results.csv.
#
# -c CPUS (default 1) > 1 replays the records of each CPU of the trace on a
# CPU of its own (trace CPU c on replay CPU c mod CPUS), in a guest of CPUS
# vCPUs: both allocators' per-CPU caches then hold what they did on the
# traced machine.  -a "goalloc" (or "kmalloc", or "slub") boots only that
# allocator's guest and prints its trajectory instead of the table (for
# experiments; default "goalloc kmalloc").  "slub" is SLUB from empty, as
# goalloc starts: caches of kmalloc()'s sizes that the replay module makes
# for the replay, where kmalloc()'s own hold slabs from boot on every CPU;
# -a "goalloc kmalloc slub" tabulates all three.  -p "retain_percent=0,scavenge_delay_ms=100"
# loads goalloc.ko with those module parameters (comma-separated).
#
# The records run at the pace they were traced (goalloc_replay's "timed
# 1"): the replay sleeps whenever it is ahead of the trace's clock, so what
# runs on a timer (goalloc's trim pass, a second after it is asked for)
# runs between the same records as on the traced machine.  Under icount
# the guest's idle time costs no host time.  -u replays as fast as it can
# instead ("timed 0"): a minute of trace in a fraction of a second, with no
# timer firing inside it (the figures before the traces carried times).
#
# -k debug replays in the debug kernel (KASAN, lockdep, kmemleak) instead of
# the perf kernel: a check of the module, not a measurement.
#
# Each allocator runs in a fresh boot of the same kernel and initramfs (2
# vCPUs, 2 GiB), so neither inherits the other's pages.  QEMU runs with
# GA_ACCEL=icount unless GA_ACCEL says otherwise (qemu/run-qemu.sh): the
# guest's clock counts its instructions, so an untimed replay (-u) is the
# same on every run and a timed one nearly (trace-replay.rst: fsload on
# two CPUs gave 4,736 or 4,744 KiB before the initramfs below was made
# the same bytes every time).  Under plain TCG the peak moved by 100-250 KiB
# from run to run, with where goalloc's trim pass (a wall-clock delay)
# landed in an untimed replay, and a timed one takes the trace's length
# of host time.  The modules come
# from qemu/lib.sh's build_modules against that kernel, or from
# GOALLOC_MODULES_DIR (a build_modules output directory for that kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/qemu/lib.sh"

trace=$here/debian-6.12-busybox.trace.xz step=250 kname=perf cpus=1 allocs="goalloc kmalloc"
params= timed=1
while getopts t:s:k:c:a:p:u opt; do
	case $opt in
	t) trace=$OPTARG ;; s) step=$OPTARG ;; k) kname=$OPTARG ;;
	c) cpus=$OPTARG ;; a) allocs=$OPTARG ;; p) params=$OPTARG ;; u) timed=0 ;;
	*) die "usage: see the head of $0" ;;
	esac
done
shift $((OPTIND - 1))
out=$(realpath -m "${1:-$top/results/bench/trace}")
mkdir -p "$out"

export GA_ACCEL=${GA_ACCEL:-icount}
kdir=$("$top/qemu/kernel.sh" "$kname")
mods=${GOALLOC_MODULES_DIR:-$out/build}
if [ -z "${GOALLOC_MODULES_DIR:-}" ]; then
	log "building the modules against $kdir"
	build_modules "$kdir" "$mods"
fi
[ -e "$mods/bench/goalloc_replay.ko" ] ||
	die "no $mods/bench/goalloc_replay.ko (is bench/ in the top Kbuild?)"

log "converting $trace"
python3 "$here/trace2bin.py" "$trace" "$out/trace.bin" >"$out/stream.txt"
cat "$out/stream.txt" >&2

root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,replay}
cp /bin/busybox "$root/bin/busybox"
cp "$here/replay-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$mods/kmod/goalloc.ko" "$mods/bench/goalloc_replay.ko" "$out/trace.bin" "$root/replay/"
# The same bytes on every run (times, inode numbers, order): the guest's
# instructions unpacking it, and so a timed replay's, then do not move.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | gzip -1 -n) \
	>"$out/initrd"
rm -rf "$root"

vcpus=$((cpus > 2 ? cpus : 2))
for a in $allocs; do
	log "replaying through $a on $cpus CPU(s) (fresh boot, $vcpus vCPUs)"
	"$top/qemu/run-qemu.sh" -k "$kdir/arch/x86/boot/bzImage" -i "$out/initrd" \
		-o "$out/$a" -c "$vcpus" -m 2G -t 900 -M replay \
		-a "REPLAY_ALLOC=$a REPLAY_STEP=$step REPLAY_CPUS=$cpus REPLAY_TIMED=$timed REPLAY_GOALLOC_PARAMS=$params"
	grep -q '^REPLAY-END' "$out/$a/results.log" ||
		die "the $a guest did not finish: $out/$a/console.log"
	! grep '^REPLAY-ERROR' "$out/$a/results.log" || die "the $a replay failed"
done
rm -f "$out/initrd" "$out/trace.bin"

if [ "$allocs" != "goalloc kmalloc" ] && [ "$allocs" != "goalloc kmalloc slub" ]; then
	for a in $allocs; do
		python3 "$here/replay-report.py" --trajectory "$out/$a/results.log" --alloc "$a"
	done
	exit 0
fi
python3 "$here/replay-report.py" --trace "$(basename "$trace")" --stream "$out/stream.txt" \
	"$out/goalloc/results.log" "$out/kmalloc/results.log" \
	$([ "$allocs" = "goalloc kmalloc slub" ] && echo "$out/slub/results.log") \
	--md "$out/results.md" --csv "$out/results.csv" --accel "$GA_ACCEL"
cat "$out/results.md"
