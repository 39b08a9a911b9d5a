# SPDX-License-Identifier: GPL-2.0
#
# The guest side of the routed-module test (tools/routed-test.sh,
# Documentation/routing.rst).  Staged as /goalloc/bin/routed-guest.sh and
# sourced by qemu/init.sh in GA_MODE=routed, so it uses init's say, load,
# unload_all, kmemleak_report, $D and fd 3 (the results channel).
#
# The modules of /goalloc/modules/order are loaded in order: the kernel's
# crypto modules ext4 needs, then goalloc (absent in the SLUB run), then
# mbcache, jbd2 and ext4 (routed to goalloc, or built normally).  Then, on
# a loop device over a tmpfs file: mkfs.ext4, mount, fsload populate and
# mutate GA_FS_FILES files, sync, goalloc's tables while mounted, verify,
# umount, e2fsck -fn, mount again, verify, umount, rmmod; and goalloc must
# hold no more objects than before ext4 came.  The checks are a TAP
# document ("routed-ext4"); qemu/verdict.py also fails the run on any
# report in the kernel log (a kfree() of goalloc memory by core code is a
# WARN in free_large_kmalloc()).

N=${GA_FS_FILES:-2000}
G=/sys/kernel/debug/goalloc
T=0
RFAIL=0
TAPF=/tmp/routed.tap
: >$TAPF
tap() { # OK DESCRIPTION
	T=$((T + 1))
	if [ "$1" = 0 ]; then
		echo "ok $T - $2" >>$TAPF
	else
		echo "not ok $T - $2" >>$TAPF
		RFAIL=1
	fi
}
heapval() { awk -v k="$1" '$1 == k { print $2 }' $G/heap; }
# Kernel memory in KiB: all of SLUB's slabs, goalloc's heap, and the
# pages that hold the caches ext4, jbd2 and mbcache create (goalloc's
# held_bytes, or SLUB's slabs of those names: the run boots with
# slab_nomerge so that SLUB's are not merged away into other caches).
MODCACHES='^(ext4_|jbd2_|mb_cache_entry|extent_status|pending_reservation|bio_post_read_ctx)'
mem_line() {
	slab=$(awk '$1 == "Slab:" { print $2 }' /proc/meminfo)
	gh=0 mc=0
	if [ -e $G/caches ]; then
		gh=$(heapval heap_held_kib)
		mc=$(awk -v re="$MODCACHES" '$1 ~ re { s += $9 } END { printf "%d", s / 1024 }' $G/caches)
	elif [ -r /proc/slabinfo ]; then
		mc=$(awk -v re="$MODCACHES" '$1 ~ re { s += $15 * $6 * 4 } END { printf "%d", s }' /proc/slabinfo)
	fi
	echo "slab_kib=$slab goalloc_heap_kib=$gh module_caches_kib=$mc"
}
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

routed=0
[ -e "$D/modules/goalloc.ko" ] && routed=1
for m in $(cat "$D/modules/order"); do
	load "$m" || break
	[ "$m" = goalloc ] && base=$(heapval objects_in_use)
done
for m in mbcache jbd2 ext4; do
	[ -d /sys/module/$m ]; tap $? "module $m loaded"
done
say "GA-ROUTED routed=$routed files=$N before: $(mem_line)"

IMG=/tmp/ext4.img
MNT=/mnt
mkdir -p $MNT
t0=$(ms)
truncate -s $((64 + N / 50))M $IMG
LOOP=$(losetup -f)
losetup "$LOOP" $IMG
tap $? "losetup $LOOP on a tmpfs file"
/sbin/mke2fs -q -F -t ext4 -N $((N * 2 + 256)) "$LOOP" >&3 2>&3
tap $? "mkfs.ext4"
mount -t ext4 "$LOOP" $MNT
tap $? "mount"
fsload populate $MNT "$N" >&3 2>&3
tap $? "populate $N files (xattrs, symlinks)"
fsload mutate $MNT "$N" >&3 2>&3
tap $? "copy, rename, delete"
sync
tap $? "sync"
say "GA-ROUTED peak: $(mem_line)"
if [ -r /proc/slabinfo ]; then
	echo "== /proc/slabinfo while mounted: the modules' caches" >&3
	awk -v re="$MODCACHES" 'NR <= 2 || $1 ~ re' /proc/slabinfo >&3
fi
if [ $routed = 1 ]; then
	echo "== goalloc/caches while mounted" >&3
	cat $G/caches >&3
	echo "== goalloc/classes while mounted (classes in use)" >&3
	awk 'NR == 1 || $9 > 0' $G/classes >&3
	for c in ext4_inode_cache jbd2_journal_head mb_cache_entry extent_status; do
		n=$(awk -v c=$c '$1 == c { print $2 }' $G/caches)
		[ "${n:-0}" -gt 0 ]
		tap $? "goalloc/caches: $c has objects (${n:-none})"
	done
fi
fsload verify $MNT "$N" >&3 2>&3
tap $? "verify while mounted"
umount $MNT
tap $? "umount"
/sbin/e2fsck -fn "$LOOP" >&3 2>&3
tap $? "e2fsck -fn clean"
mount -t ext4 "$LOOP" $MNT
tap $? "mount again"
fsload verify $MNT "$N" >&3 2>&3
tap $? "verify after remount"
umount $MNT
tap $? "umount again"
losetup -d "$LOOP"
rm -f $IMG
say "GA-ROUTED elapsed_ms=$(( $(ms) - t0 ))"

for m in ext4 jbd2 mbcache; do
	rmmod $m
	rc=$?
	say "GA-MODULE unload $m rc=$rc"
	tap $rc "rmmod $m"
	loaded=$(echo " $loaded " | sed "s/ $m / /")
done
if [ $routed = 1 ]; then
	# Deferred frees (kfree_rcu, TYPESAFE_BY_RCU spans) are done by now:
	# each cache's destroy waited for them.
	now=$(heapval objects_in_use)
	[ "$now" = "$base" ]
	tap $? "goalloc objects in use back to $base after rmmod (now $now)"
	[ "$(heapval rcu_pending)" = 0 ]
	tap $? "no RCU-deferred frees pending"
	left=$(awk '$1 ~ /^(ext4|jbd2|mb_cache|ext4_groupinfo)/' $G/caches)
	[ -z "$left" ]
	tap $? "no ext4, jbd2 or mbcache cache left in goalloc/caches"
	say "GA-ROUTED after rmmod: $(mem_line) objects_in_use=$now"
fi

say "GA-TAP-BEGIN routed-ext4"
{ echo "TAP version 13"; echo "1..$T"; cat $TAPF; } >&3
say "GA-TAP-END routed-ext4 rc=$RFAIL"
unload_all
kmemleak_report
