#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the trace-capture guest (bench/trace/capture.sh): Debian's stock
# kernel booted with trace_event=kmem:kmalloc,kmem:kfree.  Runs a workload
# that makes the kernel kmalloc many sizes, then sends the ftrace text out
# through the second serial port, gzip'd and base64'd between markers.
# CAPTURE_SECONDS on the kernel command line sets the workload's length,
# CAPTURE_WORKLOAD which one: "mixed" (the default: files, pipes, loopback
# TCP, unix sockets, fork/exec, /proc and /sys) or "fs" (a file storm on an
# ext2 file system on a loop device and on tmpfs: thousands of files
# created, given extended attributes, copied, renamed, linked, archived and
# deleted, with the dentry and inode caches dropped after every round) or
# "fsload" (the routed-module test's workload, tools/routed-guest.sh: ext4
# with its journal made by mke2fs on a loop device over tmpfs, fsload
# populate, mutate, verify of CAPTURE_FILES files, umount, mount, verify,
# umount, each round on a new file system).

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmp /tmp

exec 3>/dev/ttyS1
say() { echo "$*" >&3; echo "capture-init: $*"; }
T=/sys/kernel/tracing
secs=${CAPTURE_SECONDS:-60}
workload=${CAPTURE_WORKLOAD:-mixed}
say "CAPTURE-BEGIN kernel=$(uname -r) cpus=$(nproc) online=$(cat /sys/devices/system/cpu/online) seconds=$secs workload=$workload"
dmesg | grep -iE "smpboot|smp:|cpu.*(fail|not)" | sed "s/^/CAPTURE-DMESG /" >&3

ip link set lo up
mkdir -p /tmp/www /tmp/work
# Files of diverse sizes for the web server and the pipes.
for sz in 1 100 1000 3000 9000 40000 200000; do
	head -c $sz /dev/urandom >/tmp/www/f$sz
done
syslogd -O /tmp/messages -s 64
httpd -p 127.0.0.1:8080 -h /tmp/www
nc -ll -p 9000 -e cat >/dev/null 2>&1 &

# The trace window starts at boot (trace_event= enables the events during
# early init): what the kernel allocated while booting and still holds is
# part of the live set the replay rebuilds.
say "CAPTURE-WORKLOAD-START $(cut -d' ' -f1 /proc/uptime)"
start=$(date +%s)

# One round of the workload: tmpfs files, pipes, TCP and unix sockets,
# fork/exec of applets, /proc and /sys reads.
round() {
	n=$1
	d=/tmp/work/r$n
	mkdir -p $d/a/b/c
	for k in 1 2 3 4 5 6 7 8; do
		head -c $((k * k * 517)) /dev/urandom >$d/a/f$k
		ln -s f$k $d/a/l$k
		cp $d/a/f$k $d/a/b/c/g$k
	done
	mv $d/a/b/c/g1 $d/a/g1
	ls -lR $d >/dev/null
	cat $d/a/f* | gzip -c | gunzip -c | md5sum >/dev/null
	seq 1 2000 | sort -r | uniq | wc -l >/dev/null
	for f in f1 f1000 f9000 f200000; do
		wget -q -O - http://127.0.0.1:8080/$f >/dev/null 2>&1
	done
	echo "round $n" | nc -w 1 127.0.0.1 9000 >/dev/null 2>&1
	logger -t capture "round $n unix datagram"
	cat /proc/self/status /proc/meminfo /proc/slabinfo /proc/interrupts >/dev/null 2>&1
	cat /proc/[0-9]*/stat /proc/[0-9]*/cmdline >/dev/null 2>&1
	ps >/dev/null
	find /sys/devices -maxdepth 3 -name uevent 2>/dev/null | head -50 | xargs cat >/dev/null 2>&1
	ls /sys/kernel/slab >/dev/null 2>&1
	netstat -an >/dev/null 2>&1
	sh -c 'exec true'
	rm -rf $d
}

# The "fs" workload: an ext2 file system (the ext4 driver) on a loop device
# over a file in tmpfs, and tmpfs itself, both with user xattrs.  The
# modules come from the host's /lib/modules (capture.sh copies them).
fs_setup() {
	for m in crc16 crc32c_generic mbcache jbd2 ext4 loop; do
		insmod /lib/modules/$m.ko || { say "CAPTURE-ERROR insmod $m"; return 1; }
	done
	mkdir -p /mnt/e2 /tmp/fs
	dd if=/dev/zero of=/tmp/ext2.img bs=1M count=128 2>/dev/null
	mke2fs -F -b 4096 -I 256 -i 4096 /tmp/ext2.img >/dev/null 2>&1 ||
		{ say "CAPTURE-ERROR mke2fs"; return 1; }
	[ -e /dev/loop0 ] || mknod /dev/loop0 b 7 0
	losetup /dev/loop0 /tmp/ext2.img || { say "CAPTURE-ERROR losetup"; return 1; }
	mount -t ext2 -o user_xattr /dev/loop0 /mnt/e2 ||
		{ say "CAPTURE-ERROR mount: $(dmesg | tail -3)"; return 1; }
	xattr-storm 2 /tmp/www/f1 /mnt/e2 || { say "CAPTURE-ERROR xattrs"; return 1; }
	say "CAPTURE-FS ext2 on /dev/loop0 and tmpfs, user xattrs"
}

# One round on each file system: 10 directories of 30 files of 1 B to
# 9 KB, 8 xattrs each (half removed again), a copy of the tree, every
# directory and file of the copy renamed, hard and symbolic links, a tar
# archive of the copy unpacked again, a walk, truncation, deletion; then
# sync and the dentry and inode caches dropped, which frees what they held.
fs_round() {
	n=$1
	for top in /mnt/e2 /tmp/fs; do
		d=$top/r$n
		mkdir -p $d/src
		for i in 0 1 2 3 4 5 6 7 8 9; do
			mkdir $d/src/d$i
			for j in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29; do
				head -c $(((i * 30 + j) * 157 % 9000 + 1)) /dev/urandom >$d/src/d$i/f$j
			done
		done
		xattr-storm 8 $d/src/d*/f* || say "CAPTURE-WARN xattr-storm failed on $top"
		cp -a $d/src $d/copy
		for i in 0 1 2 3 4 5 6 7 8 9; do
			mv $d/copy/d$i $d/copy/e$i
			for f in $d/copy/e$i/f*; do mv $f $f.renamed; done
			ln $d/copy/e$i/f0.renamed $d/copy/e$i/hard
			ln -s f1.renamed $d/copy/e$i/soft
		done
		tar -cf $d/copy.tar -C $d copy
		mkdir $d/untar
		tar -xf $d/copy.tar -C $d/untar
		find $d -type f | wc -l >/dev/null
		ls -lR $d >/dev/null
		for f in $d/untar/copy/e*/f1*; do truncate -s 100 $f; done
		cat $d/src/d*/f* | md5sum >/dev/null
		rm -rf $d
	done
	sync
	echo 2 >/proc/sys/vm/drop_caches
}

# The "fsload" workload: as tools/routed-guest.sh, one file system a round.
fsload_setup() {
	for m in crc16 crc32c_generic mbcache jbd2 ext4 loop; do
		insmod /lib/modules/$m.ko || { say "CAPTURE-ERROR insmod $m"; return 1; }
	done
	[ -e /dev/loop0 ] || mknod /dev/loop0 b 7 0
	mkdir -p /mnt/e4
	say "CAPTURE-FS ext4 (mke2fs defaults) on /dev/loop0, fsload ${CAPTURE_FILES:-2000} files"
}

fsload_round() {
	nf=${CAPTURE_FILES:-2000}
	truncate -s $((64 + nf / 50))M /tmp/ext4.img
	losetup /dev/loop0 /tmp/ext4.img || { say "CAPTURE-ERROR losetup"; return 1; }
	/sbin/mke2fs -q -F -t ext4 -N $((nf * 2 + 256)) /dev/loop0 >/dev/null 2>&1 ||
		{ say "CAPTURE-ERROR mke2fs"; return 1; }
	mount -t ext4 /dev/loop0 /mnt/e4 || { say "CAPTURE-ERROR mount: $(dmesg | tail -3)"; return 1; }
	for step in populate mutate; do
		say "CAPTURE-FSLOAD $(fsload $step /mnt/e4 "$nf" 2>&1 | tail -1)"
	done
	sync
	say "CAPTURE-FSLOAD $(fsload verify /mnt/e4 "$nf" 2>&1 | tail -1)"
	umount /mnt/e4
	mount -t ext4 /dev/loop0 /mnt/e4 || { say "CAPTURE-ERROR mount again"; return 1; }
	say "CAPTURE-FSLOAD $(fsload verify /mnt/e4 "$nf" 2>&1 | tail -1)"
	umount /mnt/e4
	losetup -d /dev/loop0
	rm -f /tmp/ext4.img
}

n=0
if [ "$workload" = fsload ]; then
	fsload_setup || { say "CAPTURE-ERROR fsload setup"; workload=none; }
fi
if [ "$workload" = fs ]; then
	fs_setup || { say "CAPTURE-ERROR fs setup"; workload=none; }
fi
# fsload's rounds are long: its first one runs whatever SECONDS says.
while [ $(($(date +%s) - start)) -lt "$secs" ] || { [ "$workload" = fsload ] && [ $n = 0 ]; }; do
	case $workload in
	fs) fs_round $n ;;
	fsload) fsload_round || break ;;
	mixed) round $n ;;
	*) break ;;
	esac
	n=$((n + 1))
done
[ "$workload" = fs ] && { umount /mnt/e2; losetup -d /dev/loop0; }
echo 0 >$T/tracing_on
say "CAPTURE-ROUNDS $n"
for s in $T/per_cpu/cpu*/stats; do
	say "CAPTURE-STATS ${s%/stats} $(tr '\n' ' ' <$s)"
done
say "CAPTURE-DATA-BEGIN"
gzip -c $T/trace | base64 >&3
say "CAPTURE-DATA-END"
say "CAPTURE-END"
exec 3>&-
printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
