#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# goalloc_replay_test: the trace replay (bench/replay.c) inside the test
# guest, as TAP.  tools/check.sh stages goalloc_replay.ko and three streams
# beside the other programs: replay.bin, the first 40,000 lines of the
# committed fsload trace through trace2bin.py (the boot, on both traced
# CPUs); replay-pace.bin, three records at 0, 0.5 and 1 s; replay-v2.bin,
# a header of version 2.
#
# The replay must refuse bad input with the errno it documents (a stream of
# another version, an unknown "timed" value, "timed" while objects are
# live), replay every record through goalloc on two CPUs with no failure,
# give goalloc's live objects back to their count before it at "finish",
# and, timed, take at least the trace's own time, sleeping to keep to it
# (and sleep the second the three paced records span, as they are replayed
# in far less); then the same records through kmalloc, and some through
# SLUB from empty ("start slub": caches it makes empty).  The guest's checks (KASAN,
# lockdep, kmemleak; KCSAN in its guest) watch goalloc under a real
# kernel's mix of sizes and cross-CPU frees meanwhile.
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }

echo "TAP version 13"
echo "1..23"
R=/sys/kernel/debug/goalloc_replay
H=/sys/kernel/debug/goalloc/heap
out=/tmp/goalloc-replay.$$
mkdir -p $out

mod='' dir=''
for d in $(echo "$PATH" | tr : ' '); do
	[ -e "$d/goalloc_replay.ko" ] && mod=$d/goalloc_replay.ko
	[ -e "$d/replay.bin" ] && dir=$d
done
stream=$dir/replay.bin
[ -n "$mod" ] && insmod "$mod"
check "goalloc_replay.ko is loaded" [ -w $R/run ]
check "the streams are staged" \
	sh -c "[ -n '$dir' ] && [ -e '$dir/replay-pace.bin' ] && [ -e '$dir/replay-v2.bin' ]"

# key=value from the replay's result file.
res() { sed -n "s/^$1=//p" $R/result; }
inuse() { awk '$1 == "objects_in_use" { print $2 }' $H; }
# run CMD: write a command; its stderr (the errno's text) is kept.
run() { echo "$1" 2>$out/err >$R/run; }

# A version-2 header (with version 3's record size): refused whole.
cat "$dir/replay-v2.bin" 2>$out/err >$R/trace
check "a version-2 stream is refused (EINVAL)" grep -q "Invalid argument" $out/err

cat "$stream" >$R/trace
size=$(wc -c <"$stream")
nrec=$(( (size - 32) / 12 ))
check "the stream is loaded: $(res events_total) of $nrec records" [ "$(res events_total)" = $nrec ]

run "timed 2"
check "\"timed 2\" is refused (EINVAL)" grep -q "Invalid argument" $out/err
run "cpus 2"
check "cpus 2 (the guest has $(nproc))" [ "$(res replay_cpus)" = 2 ]

# Objects an earlier test freed through RCU may still be counted.
i=0
while [ "$(awk '$1 == "rcu_pending" { print $2 }' $H)" != 0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
base=$(inuse)
run "timed 0" && run "start goalloc" && run "step 0"
cat $R/result | sed 's/^/# untimed: /'
check "untimed: every record replayed through goalloc" \
	sh -c "[ '$(res events_done)' = $nrec ] && [ '$(res failures)' = 0 ] && [ '$(res bad_records)' = 0 ]"
check "untimed: it slept not once" [ "$(res sleeps)" = 0 ]
check "untimed: goalloc holds the live objects ($(res live_objects))" \
	[ "$(( $(inuse) - base ))" = "$(res live_objects)" ]
run "timed 1"
check "\"timed 1\" with objects live is refused (EBUSY)" \
	grep -q "busy" $out/err
run finish
check "finish: no object left, goalloc's count back to $base ($(inuse))" \
	sh -c "[ '$(res live_objects)' = 0 ] && [ '$(inuse)' = $base ]"

run "timed 1" && run "start goalloc" && run "step 0"
cat $R/result | sed 's/^/# timed: /'
trace_ns=$(( $(res trace_usec) * 1000 ))
took_ns=$(( $(res replay_ns) + $(res slept_ns) ))
check "timed: every record replayed through goalloc" \
	sh -c "[ '$(res events_done)' = $nrec ] && [ '$(res failures)' = 0 ] && [ '$(res bad_records)' = 0 ]"
check "timed: it covers the trace's $(res trace_usec) us" [ "$trace_ns" -gt 1000000000 ]
check "timed: it slept to keep to the trace ($(res sleeps) times)" [ "$(res sleeps)" -gt 0 ]
# A record runs at most 1 ms before its time; the sleeps never exceed it.
check "timed: it took the trace's time, less 1 ms at most ($took_ns >= $trace_ns ns)" \
	[ "$((took_ns + 1000000))" -ge "$trace_ns" ]
check "timed: it slept no more than the trace's time ($(res slept_ns) ns)" \
	[ "$(res slept_ns)" -le "$trace_ns" ]
run finish
check "timed finish: goalloc's count back to $base ($(inuse))" \
	sh -c "[ '$(res live_objects)' = 0 ] && [ '$(inuse)' = $base ]"

run "timed 0" && run "start kmalloc" && run "step 0"
check "the same records through kmalloc" \
	sh -c "[ '$(res events_done)' = $nrec ] && [ '$(res failures)' = 0 ] && [ '$(res bad_records)' = 0 ]"
run finish

# SLUB from empty: caches of kmalloc's sizes made for the replay.  A later
# "start slub" makes them anew, so they hold nothing when it starts.
slabs_of() { cat /sys/kernel/slab/replay-*/slabs 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'; }
run "start slub" && run "step 5000"
check "5,000 records through SLUB from empty, in its own caches ($(slabs_of) slabs), usable bytes at least those asked" \
	sh -c "[ '$(res events_done)' = 5000 ] && [ '$(res failures)' = 0 ] && [ $(slabs_of) -gt 0 ] &&
	       [ '$(res allocator)' = slub ] && [ $(res usable_peak_bytes) -ge $(res req_peak_bytes) ]"
run finish
check "\"start slub\" again: its caches are there, empty" \
	sh -c "echo 'start slub' >$R/run && [ -e /sys/kernel/slab/replay-8192 ] && [ \$(cat /sys/kernel/slab/replay-*/slabs | awk '{ n += \$1 } END { print n + 0 }') = 0 ]"

# Three records 0.5 s apart, replayed in microseconds: the replay must
# sleep before the second and the third, about a second in all.
cat "$dir/replay-pace.bin" >$R/trace
run "timed 1" && run "start goalloc" && run "step 0"
cat $R/result | sed 's/^/# paced: /'
check "paced: 3 records, 2 sleeps" \
	sh -c "[ '$(res events_done)' = 3 ] && [ '$(res sleeps)' = 2 ] && [ '$(res failures)' = 0 ]"
# The step takes the second, less the 1 ms a record may run early; most
# of it asleep (replaying three records took 20 ms under KASAN and TCG).
slept=$(res slept_ns)
took=$(( $(res replay_ns) + slept ))
check "paced: took 0.999-1.5 s ($took ns), asleep for most ($slept ns)" \
	sh -c "[ $took -ge 999000000 ] && [ $took -le 1500000000 ] && [ $slept -ge 500000000 ]"
run finish
rmmod goalloc_replay
check "goalloc_replay unloads" [ ! -e $R ]

rm -rf $out
[ $fails = 0 ]
