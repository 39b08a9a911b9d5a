# SPDX-License-Identifier: GPL-2.0
#
# The guest side of "make run" (tools/demo.sh).  Staged as
# /goalloc/bin/demo-guest.sh and sourced by qemu/init.sh in GA_MODE=demo,
# so it uses init's say, load, unload_all, kmemleak_report, $D and fd 3.
#
# The story, between GA-DEMO-BEGIN and GA-DEMO-END (what make run prints):
# ext4, jbd2 and mbcache of the 6.12 source, unmodified, with their slab
# calls routed to goalloc, mount a file system on a loop device; fsload
# fills it while goalloc's per-cache table shows the modules' caches (the
# largest few) and goallocstat --watch the changes over two seconds (its
# tables are kept for the pictures: GA-PIC lines after GA-DEMO-END, drawn by
# demo.sh); goalloc's tracepoints, read through ftrace, while fsload
# mutates the tree (counts, busiest call sites); the workload finishes, fsck finds it clean, the modules go
# and goalloc holds nothing of theirs; the side-by-side with SLUB that
# make bench measured (/goalloc/routed-summary.txt, staged by demo.sh);
# then the userspace arena scene.  The full tables go to the results log
# after GA-DEMO-END.

N=${GA_DEMO_FILES:-600}
G=/sys/kernel/debug/goalloc
MNT=/mnt
IMG=/tmp/ext4.img
FULL=/tmp/full-tables
MODCACHES='^(ext4_|jbd2_|mb_cache_entry|extent_status|pending_reservation|bio_post_read_ctx)'
: >$FULL
heapval() { awk -v k="$1" '$1 == k { print $2 }' $G/heap; }
now() { cut -d' ' -f1 /proc/uptime; }

# the modules' caches, the largest (held) first: TOP rows, KiB.
top_caches() {
	awk -v re="$MODCACHES" -v top="$1" '
		$1 ~ re { n++; row[n] = sprintf("  %-20s %8d %6d %8d", $1, $2, $8, $9 / 1024); held[n] = $9 }
		END {
			printf "  %-20s %8s %6s %8s\n", "cache", "objects", "spans", "KiB"
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (held[j] > held[i]) { t = held[i]; held[i] = held[j]; held[j] = t
					t = row[i]; row[i] = row[j]; row[j] = t }
			for (i = 1; i <= n && i <= top; i++) print row[i]
			if (n > top) printf "  (%d more of theirs; every cache and class: results/demo/results.log)\n", n - top
		}' $G/caches
}

T=/sys/kernel/tracing
# goalloc:alloc and goalloc:free into a fresh ftrace buffer.
trace_on() {
	[ -e $T/trace ] || mount -t tracefs tracefs $T 2>/dev/null
	[ -d $T/events/goalloc ] || return 0
	echo 0 >$T/tracing_on
	echo 8192 >$T/buffer_size_kb
	: >$T/trace
	echo 1 >$T/events/goalloc/alloc/enable
	echo 1 >$T/events/goalloc/free/enable
	echo 1 >$T/tracing_on
}

# What the events said: counts, the busiest call sites, two lines as ftrace prints them.
trace_report() {
	[ -d $T/events/goalloc ] || { echo "(no goalloc events in tracefs)" >&3; return 0; }
	echo 0 >$T/tracing_on
	echo 0 >$T/events/goalloc/alloc/enable
	echo 0 >$T/events/goalloc/free/enable
	cat $T/trace >/tmp/goalloc.trace
	echo "goalloc's tracepoints during fsload mutate (ftrace, events/goalloc; kmem:kmalloc's fields):" >&3
	grep -m1 'entries-in-buffer' /tmp/goalloc.trace | sed 's/^#/ /' >&3
	awk '/ alloc: / { a++ } / free: / { f++ }
	     END { printf "  goalloc:alloc %d, goalloc:free %d in the buffer\n", a, f }' /tmp/goalloc.trace >&3
	awk '/ alloc: / { if (match($0, /call_site=[^ ]+/)) { s = substr($0, RSTART + 10, RLENGTH - 10)
				sub(/\+.*/, "", s); n[s]++; b[s] += 0 }
			  if (match($0, /bytes_alloc=[0-9]+/)) b[s] += substr($0, RSTART + 12, RLENGTH - 12) }
	     END { for (s in n) printf "%d %d %s\n", n[s], b[s], s }' /tmp/goalloc.trace |
		sort -rn | head -5 | awk 'BEGIN { print "  busiest allocation sites: calls, KiB, call_site" }
			{ printf "  %8d %8d  %s\n", $1, $2 / 1024, $3 }' >&3
	grep -m1 ' alloc: ' /tmp/goalloc.trace | sed 's/^ */  /' >&3
	grep -m1 ' free: ' /tmp/goalloc.trace | sed 's/^ */  /' >&3
}

# full TITLE: goalloc's whole caches and classes tables, for the results.
full() {
	{
		echo "== $1: goalloc/caches"
		cat $G/caches
		echo "== $1: goalloc/classes (classes in use)"
		awk 'NR == 1 || $9 > 0' $G/classes
		echo "== $1: goalloc/heap"
		cat $G/heap
	} >>$FULL
}

for m in $(cat "$D/modules/order"); do
	load "$m" || break
	[ "$m" = goalloc ] && base=$(heapval objects_in_use)
done
say "GA-DEMO-BEGIN"
echo "== ext4 on goalloc" >&3
echo "ext4, jbd2 and mbcache: Debian's 6.12 source, unmodified, built with kmod/goalloc_slab.h" >&3
echo "modules that use goalloc: $(ls /sys/module/goalloc/holders 2>/dev/null | paste -sd' ')" >&3
mkdir -p $MNT
truncate -s $((64 + N / 50))M $IMG
LOOP=$(losetup -f)
losetup "$LOOP" $IMG &&
	/sbin/mke2fs -q -F -t ext4 -N $((N * 2 + 256)) "$LOOP" >/tmp/mkfs.out 2>&1 &&
	mount -t ext4 "$LOOP" $MNT
ok=$?
if [ $ok != 0 ]; then
	cat /tmp/mkfs.out >&3
	echo "losetup, mkfs.ext4 or mount failed (rc $ok): see results/demo/console.log" >&3
	say "GA-DEMO mount rc=$ok"
fi
[ $ok = 0 ] && {
	grep " $MNT " /proc/mounts | sed 's/^/mounted: /' >&3
	echo >&3
	echo "== a workload: $N files with xattrs and symlinks (fsload populate), while goalloc serves ext4" >&3
	t0=$(now)
	# The allocation-site profile (Documentation/admin.rst), sampled as
	# Go's MemProfileRate: one sample per 64 KiB asked for, on average.
	echo 65536 >/sys/module/goalloc/parameters/profile_rate
	fsload populate $MNT "$N" >/tmp/populate.out 2>&1 &
	pid=$!
	sleep "${GA_DEMO_SNAPSHOT_S:-8}"
	echo "goalloc/caches at $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s, fsload still running: the modules' caches, largest first" >&3
	top_caches 6 >&3
	awk 'NR > 1 && $6 > 0 { n += $6; c++; h += $8 } END { printf "  and %d objects of their kmalloc() calls in %d of goalloc'"'"'s size classes, %d KiB\n", n, c, h / 1024 }' $G/classes >&3
	echo "goalloc heap: $(heapval heap_held_kib) KiB held, $(heapval objects_in_use) objects in use" >&3
	full "while fsload populate runs"
	# The tables for the pictures (GA-PIC, after GA-DEMO-END; demo.sh draws them).
	mkdir -p /tmp/pic
	for t in heap classes caches chunks; do cat $G/$t >/tmp/pic/$t 2>/dev/null; done
	# The live view, two seconds apart: its second frame, the changes in them.
	if command -v goallocstat >/dev/null; then
		echo "goallocstat --watch, while fsload populate runs (its second frame, 2 s after the first):" >&3
		goallocstat --watch --interval 2 --count 2 --top 5 2>&1 |
			awk '/^goalloc --watch: frame 2/ { p = 1 } p && NF' >&3
	fi
	wait $pid
	prc=$?
	cat /tmp/populate.out >&3
	if command -v goallocstat >/dev/null; then
		echo "goallocstat --sites after fsload populate: the busiest allocation sites (profile_rate 65536, estimates):" >&3
		goallocstat --sites --top 6 2>&1 | sed 's/^/  /' >&3
	fi
	echo 0 >/sys/module/goalloc/parameters/profile_rate
	# goalloc's tracepoints (Documentation/admin.rst) while fsload mutates:
	# read through ftrace, as any kmem:kmalloc tool would read kmem's.
	trace_on
	fsload mutate $MNT "$N" >&3 2>&3
	mrc=$?
	trace_report
	sync
	full "after populate, mutate and sync"
	echo "after copy/rename/delete and sync: goalloc heap $(heapval heap_held_kib) KiB," \
		"$(awk -v re="$MODCACHES" '$1 ~ re { n += $2 } END { print n + 0 }' $G/caches) objects in the modules' caches" >&3
	# perf reads the same events as any tracepoint (the host's perf,
	# staged with its libraries by demo.sh when the host has it).
	if [ -x /usr/bin/perf ]; then
		/usr/bin/perf stat -x, -e goalloc:alloc,goalloc:free -a -o /tmp/perf.stat -- \
			fsload verify $MNT "$N" >&3 2>&3
		vrc=$?
		awk -F, '$3 ~ /^goalloc:/ { printf "%s%s %s", s, $3, $1; s = ", " }
			END { print "" }' /tmp/perf.stat |
			sed 's/^/perf stat -e goalloc:alloc,goalloc:free -a during fsload verify: /' >&3
	else
		fsload verify $MNT "$N" >&3 2>&3
		vrc=$?
	fi
	umount $MNT
	/sbin/e2fsck -fn "$LOOP" >/tmp/fsck.out 2>&1
	frc=$?
	echo "e2fsck -fn: $(tail -1 /tmp/fsck.out) (rc $frc)" >&3
	losetup -d "$LOOP"
	rm -f $IMG
	say "GA-DEMO fsload rc=$prc/$mrc/$vrc e2fsck rc=$frc"
	for m in ext4 jbd2 mbcache; do
		rmmod $m
		say "GA-MODULE unload $m rc=$?"
		loaded=$(echo " $loaded " | sed "s/ $m / /")
	done
	echo "rmmod ext4 jbd2 mbcache: goalloc objects in use $(heapval objects_in_use)" \
		"(before ext4: $base), RCU-deferred frees pending $(heapval rcu_pending)," \
		"caches of theirs left $(awk -v re="$MODCACHES" '$1 ~ re' $G/caches | wc -l)" >&3
	echo >&3
}
echo "== the same workload on SLUB (make bench)" >&3
cat $D/routed-summary.txt >&3 2>/dev/null || echo "(no figures staged)" >&3
echo >&3

# The userspace scene: an arena filled, shared with a child, reset.
if command -v arena-demo >/dev/null; then
	echo "== userspace: a goalloc arena through /dev/goalloc (arena-demo)" >&3
	arena-demo >&3 2>&1
	say "GA-DEMO arena-demo rc=$?"
fi
say "GA-DEMO-END"
cat $FULL >&3
for t in heap classes caches chunks; do
	[ -e /tmp/pic/$t ] && sed "s/^/GA-PIC $t /" /tmp/pic/$t >&3
done
unload_all
kmemleak_report
