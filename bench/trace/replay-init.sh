#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the replay guest (bench/trace/replay.sh): loads goalloc.ko and
# goalloc_replay.ko, writes /replay/trace.bin to the module, replays it
# through REPLAY_ALLOC (goalloc, kmalloc, or slub: SLUB caches of kmalloc's
# sizes made empty for the replay; from the kernel command line)
# REPLAY_STEP records at a time, and after every step sends a snapshot to
# the second serial port: the module's result, goalloc's debugfs heap file
# and the slab count of every kmalloc cache.  Then it frees what
# is still live ("freed"), waits past goalloc's scavenger delay ("idle"),
# and asks both allocators to give back what they can ("released": the
# shrinkers through drop_caches, and each kmalloc cache's shrink file).
# REPLAY_CPUS > 1 replays each traced CPU's records on a CPU of its own
# (goalloc_replay's "cpus N"); otherwise everything runs on CPU 0.
# REPLAY_TIMED=0 replays as fast as it can instead of at the trace's pace
# (goalloc_replay's "timed N").

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp

exec 3>/dev/ttyS1
say() { echo "$*" >&3; echo "replay-init: $*"; }
alloc=${REPLAY_ALLOC:-goalloc}
step=${REPLAY_STEP:-250}
rcpus=${REPLAY_CPUS:-1}
timed=${REPLAY_TIMED:-1}
R=/sys/kernel/debug/goalloc_replay
G=/sys/kernel/debug/goalloc/heap
say "REPLAY-BEGIN alloc=$alloc step=$step kernel=$(uname -r) cpus=$(nproc) replay_cpus=$rcpus timed=$timed goalloc_params=${REPLAY_GOALLOC_PARAMS:-none}"

finish() {
	say "REPLAY-END"
	exec 3>&-
	printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}

# REPLAY_GOALLOC_PARAMS: goalloc.ko's module parameters, "," for " ".
if ! insmod /replay/goalloc.ko $(echo "${REPLAY_GOALLOC_PARAMS:-}" | tr , ' ') ||
	! insmod /replay/goalloc_replay.ko; then
	say "REPLAY-ERROR insmod"
	finish
fi
cat /replay/trace.bin >$R/trace || { say "REPLAY-ERROR trace write"; finish; }

# The caches a GFP_KERNEL kmalloc() uses (not -cg-, -rcl-, dma-): one
# directory each; a cache merged with others is counted once.  For "slub",
# the replay's own caches of kmalloc()'s sizes, which "start slub" makes
# empty (goalloc_replay's fresh_size[]).
caches='' slabs=''
list_caches() {
	pat=/sys/kernel/slab/kmalloc-[0-9]*
	[ "$alloc" = slub ] && pat=/sys/kernel/slab/replay-[0-9]*
	caches=$(for d in $pat; do [ -e "$d" ] && realpath "$d"; done | sort -u)
	slabs=$(for d in $caches; do echo "$d/slabs"; done)
	for d in $caches; do
		say "REPLAY-CACHE $d order=$(cat "$d/order") objsize=$(cat "$d/object_size")"
	done
}
[ "$alloc" = slub ] || list_caches

snap() {
	{
		echo "SNAP $1"
		cat $R/result $G
		[ -z "$slabs" ] || grep -H . $slabs
		[ "$1" = end ] && sed 's/^/CLASS /' /sys/kernel/debug/goalloc/classes
		echo "ENDSNAP"
	} >&3
}

# The replay runs in this shell's writes: keep it on CPU 0, so each
# allocator works from one CPU's caches, as the documentation says.
taskset -p 1 $$ >/dev/null || say "REPLAY-WARN taskset failed: the replay may move between CPUs"
echo "timed $timed" >$R/run || { say "REPLAY-ERROR timed $timed"; finish; }
if [ "$rcpus" -gt 1 ]; then
	echo "cpus $rcpus" >$R/run || { say "REPLAY-ERROR cpus $rcpus (online: $(nproc))"; finish; }
fi
# goalloc's tables at the replay's peak (the most heap held after a step),
# for the pictures of make bench (tools/goalloc-pictures.py) and the CPUs'
# cached spans in replay-report.py (mcaches): copied at each new peak,
# sent as "GA-PIC <file> <line>" after the replay.
P=/sys/kernel/debug/goalloc
peak=-1
peak_keep() {
	[ "$alloc" = goalloc ] && [ -e $P/chunks ] || return 0
	# The shell's own read: no process per step, so the replay's pace
	# (and the trim passes it meets) stays as it was.
	h=0
	while read -r k v; do [ "$k" = heap_held_kib ] && h=$v; done <$G
	[ "$h" -gt "$peak" ] || return 0
	peak=$h
	mkdir -p /tmp/peak
	for t in heap classes caches chunks mcaches; do cat $P/$t >/tmp/peak/$t 2>/dev/null; done
}
peak_send() {
	[ -d /tmp/peak ] || return 0
	for t in heap classes caches chunks mcaches; do
		[ -e /tmp/peak/$t ] && sed "s/^/GA-PIC $t /" /tmp/peak/$t >&3
	done
}

snap base
echo "start $alloc" >$R/run || { say "REPLAY-ERROR start"; finish; }
[ "$alloc" = slub ] && list_caches
snap start
total=$(sed -n 's/^events_total=//p' $R/result)
done_=0
while [ "$done_" -lt "$total" ]; do
	echo "step $step" >$R/run || { say "REPLAY-ERROR step"; break; }
	done_=$((done_ + step))
	snap step
	peak_keep
done
snap end
peak_send
echo finish >$R/run
snap freed
sleep 3
snap idle
sync
echo 2 >/proc/sys/vm/drop_caches
for d in $caches; do echo 1 >"$d/shrink"; done
sleep 1
snap released
rmmod goalloc_replay
rmmod goalloc
dmesg | grep -iE 'warn|bug|error|goalloc' | head -20 | sed 's/^/DMESG /' >&3
finish
