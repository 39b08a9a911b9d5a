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
# document ("routed-ext4").
#
# Then zram: lzo_compress, zsmalloc and zram (routed) are loaded; on zram0,
# fsload's block phases (write, rewrite and discard, verify; compaction,
# verify again); on a second device (hot_add), swap, and fsload's anon
# phase, in a memory cgroup, pushes GA_ZRAM_MIB / 4 MiB of anonymous memory
# out to it and reads it back; zram's own statistics, goalloc's tables
# while in use, reset, rmmod, and goalloc holds no more objects than before
# zram came.  A second TAP document ("routed-zram").  GA_ROUTED_WORK
# ("ext4 zram" by default) names the parts to run.
#
# qemu/verdict.py also fails the run on any report in the kernel log (a
# kfree() of goalloc memory by core code is a WARN in free_large_kmalloc()).

N=${GA_FS_FILES:-2000}
ZMIB=${GA_ZRAM_MIB:-8}
WORK=" $(echo "${GA_ROUTED_WORK:-ext4,zram}" | tr , " ") "
ZMODS=" lzo_compress zsmalloc zram "
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
# pages that hold the caches ext4, jbd2, mbcache and zsmalloc create (goalloc's
# held_bytes, or SLUB's slabs of those names: the run boots with
# slab_nomerge so that SLUB's are not merged away into other caches).
MODCACHES='^(ext4_|jbd2_|mb_cache_entry|extent_status|pending_reservation|bio_post_read_ctx|zs_handle-|zspage-)'
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
# rmmod_tap MODULE...: unload each, in order, as a check, and off init's list.
rmmod_tap() {
	local m rc
	for m in "$@"; do
		rmmod $m
		rc=$?
		say "GA-MODULE unload $m rc=$rc"
		tap $rc "rmmod $m"
		loaded=$(echo " $loaded " | sed "s/ $m / /")
	done
}
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

tap_doc() { # NAME: write out the checks so far as one TAP document
	say "GA-TAP-BEGIN $1"
	{ echo "TAP version 13"; echo "1..$T"; cat $TAPF; } >&3
	say "GA-TAP-END $1 rc=$RFAIL"
	T=0 RFAIL=0
	: >$TAPF
}

routed=0
[ -e "$D/modules/goalloc.ko" ] && routed=1
# zram's modules come later, in their own part.
for m in $(cat "$D/modules/order"); do
	case $ZMODS in *" $m "*) continue ;; esac
	load "$m" || break
	[ "$m" = goalloc ] && base=$(heapval objects_in_use)
done

ext4_part() {
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

	rmmod_tap ext4 jbd2 mbcache
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
	tap_doc routed-ext4
}

# zram: mm_stat's fields, by name.
ZFIELDS="orig compr mem_used mem_limit mem_used_max same_pages compacted huge_pages"
mmstat() { # DEV FIELD
	awk -v f="$2" -v names="$ZFIELDS" \
		'{ n = split(names, k, " "); for (i = 1; i <= n; i++) if (k[i] == f) print $i }' \
		/sys/block/$1/mm_stat
}
zcache() { # NAME: goalloc's objects in use of that cache, 0 if it has none
	awk -v c="$1" '$1 == c { n = $2 } END { print n + 0 }' $G/caches
}
# The pages zsmalloc holds, by the kernel's zone counter (NR_ZSPAGES, which
# is nr_free_cma for this build: tools/routed-modules.sh), folded first.
zspages() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_free_cma" { print $2 }' /proc/vmstat
}

zram_part() {
	zbase=$(heapval objects_in_use)
	for m in $ZMODS; do
		load "$m"
		tap $? "module $m loaded"
	done
	ZP=$((ZMIB * 256))
	Z=/sys/block/zram0
	say "GA-ROUTED zram routed=$routed mib=$ZMIB before: $(mem_line)"
	t0=$(ms)
	echo lzo-rle >$Z/comp_algorithm && echo $((ZMIB * 2))M >$Z/disksize
	tap $? "zram0: lzo-rle, $((ZMIB * 2)) MiB"
	fsload blkwrite /dev/zram0 $ZP >&3 2>&3
	tap $? "blkwrite $ZP pages"
	cat $Z/mm_stat >&3
	o=$(mmstat zram0 orig) c=$(mmstat zram0 compr)
	[ "$o" -gt 0 ] && [ "$c" -gt 0 ] && [ "$c" -lt "$o" ]
	tap $? "zram0 holds $o bytes compressed into $c"
	sp=$(mmstat zram0 same_pages) hp=$(mmstat zram0 huge_pages)
	[ "$sp" -gt 0 ] && [ "$hp" -gt 0 ]
	tap $? "zram0 holds same-filled ($sp) and huge ($hp) pages"
	used=$(( $(mmstat zram0 mem_used) / 4096 )) zs=$(zspages)
	[ "$used" -gt 0 ] && [ "$zs" = "$used" ]
	tap $? "zsmalloc's pages, zram's count ($used) and the zone counter's ($zs)"
	fsload blkmutate /dev/zram0 $ZP >&3 2>&3
	tap $? "rewrite every third page, discard every tenth"
	say "GA-ROUTED zram peak: $(mem_line)"
	if [ -r /proc/slabinfo ]; then
		echo "== /proc/slabinfo while zram0 is in use: zsmalloc's caches" >&3
		awk 'NR <= 2 || $1 ~ /^(zs_handle|zspage)-/' /proc/slabinfo >&3
	fi
	if [ $routed = 1 ]; then
		echo "== goalloc/caches while zram0 is in use" >&3
		cat $G/caches >&3
		echo "== goalloc/classes while zram0 is in use (classes in use)" >&3
		awk 'NR == 1 || $9 > 0' $G/classes >&3
		for c in zs_handle-zram0 zspage-zram0; do
			n=$(zcache $c)
			[ "$n" -gt 0 ]
			tap $? "goalloc/caches: $c has objects ($n)"
		done
	fi
	fsload blkverify /dev/zram0 $ZP >&3 2>&3
	tap $? "blkverify"
	echo 1 >$Z/compact
	tap $? "compact"
	cat $Z/mm_stat >&3
	fsload blkverify /dev/zram0 $ZP >&3 2>&3
	tap $? "blkverify after compaction"

	# A second device, hot-added, as swap.
	id=$(cat /sys/class/zram-control/hot_add)
	[ "$id" = 1 ]
	tap $? "hot_add: zram$id"
	echo $((ZMIB * 2))M >/sys/block/zram1/disksize &&
		mkswap /dev/zram1 >&3 2>&3 && swapon /dev/zram1
	tap $? "swap on zram1"
	# fsload's ZMIB / 4 MiB in a memory cgroup of half that: much of it
	# goes out to zram1 and comes back at each of fsload's two checks.
	# (The debug kernel counts no VM events, pswpout among them: zram1's
	# block statistics count the traffic.)
	AMIB=$((ZMIB / 4))
	CG=/sys/fs/cgroup/zload
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control && mkdir -p $CG &&
		echo $((AMIB / 2))M >$CG/memory.max
	tap $? "memory cgroup of $((AMIB / 2)) MiB"
	sh -c "echo \$\$ >$CG/cgroup.procs && exec fsload anon - $AMIB" >&3 2>&3
	tap $? "anon: $AMIB MiB written, checked, rewritten, checked in the cgroup"
	# /sys/block/zram1/stat: sectors read are field 3, written field 7.
	in=$(awk '{ print int($3 / 8) }' /sys/block/zram1/stat)
	out=$(awk '{ print int($7 / 8) }' /sys/block/zram1/stat)
	cat /sys/block/zram1/mm_stat >&3
	[ "$out" -ge $((AMIB * 256 / 2)) ] && [ "$in" -ge $((AMIB * 256 / 2)) ]
	tap $? "zram1: $out pages swapped out, $in in (at least $((AMIB * 128)) each)"
	rmdir $CG
	swapoff /dev/zram1
	tap $? "swapoff"

	echo 1 >$Z/reset && echo 1 >/sys/block/zram1/reset
	tap $? "reset zram0 and zram1"
	echo 1 >/sys/class/zram-control/hot_remove
	tap $? "hot_remove zram1"
	zs=$(zspages)
	[ "$zs" = 0 ]
	tap $? "zsmalloc holds no pages after reset ($zs)"
	if [ $routed = 1 ]; then
		left=$(awk '$1 ~ /^(zs_handle|zspage)-/' $G/caches)
		[ -z "$left" ]
		tap $? "zsmalloc's caches gone from goalloc/caches after reset"
	fi
	say "GA-ROUTED zram elapsed_ms=$(( $(ms) - t0 ))"
	rmmod_tap zram zsmalloc lzo_compress
	if [ $routed = 1 ]; then
		now=$(heapval objects_in_use)
		[ "$now" = "$zbase" ]
		tap $? "goalloc objects in use back to $zbase after rmmod (now $now)"
		[ "$(heapval rcu_pending)" = 0 ]
		tap $? "no RCU-deferred frees pending"
		say "GA-ROUTED zram after rmmod: $(mem_line) objects_in_use=$now"
	fi
	tap_doc routed-zram
}

case $WORK in *" ext4 "*) ext4_part ;; esac
case $WORK in *" zram "*) zram_part ;; esac
unload_all
kmemleak_report
