#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the trace-capture guest (bench/trace/capture.sh): Debian's stock
# kernel booted with trace_event=kmem:kmalloc,kmem:kfree.  Runs a workload
# that makes the kernel kmalloc many sizes, then sends the ftrace text out
# through the second serial port, gzip'd and base64'd between markers.
# CAPTURE_SECONDS on the kernel command line sets the workload's length.

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
say "CAPTURE-BEGIN kernel=$(uname -r) cpus=$(nproc) seconds=$secs"

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

n=0
while [ $(($(date +%s) - start)) -lt "$secs" ]; do
	round $n
	n=$((n + 1))
done
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
