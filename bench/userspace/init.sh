#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the userspace benchmark guest (bench/userspace/run.sh puts it in
# place of qemu/init.sh).  Loads goalloc, runs uarena_bench once, and reports
# on the results channel (the second serial port) between markers that
# run.sh reads:
#   GA-UBENCH-CSV-BEGIN ... GA-UBENCH-CSV-END      the CSV (stdout)
#   GA-UBENCH-LOG-BEGIN ... GA-UBENCH-LOG-END      the table (stderr)
# then "GA-END" and power-off through isa-debug-exit, as qemu/init.sh ends.
# The kernel command line passes UB_ROUNDS and UB_OBJECTS (environment).

/bin/busybox --install -s /bin
export PATH=/bin:/goalloc/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
# Boost's managed_shared_memory uses shm_open(): glibc puts it in /dev/shm.
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm

exec 3>>/dev/ttyS1
say() { echo "$*" >&3; echo "ubench-init: $*"; }

say "GA-BEGIN mode=ubench kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
# UB_GOALLOC_ARGS: module parameters, comma-separated (run.sh -g).
insmod /goalloc/modules/goalloc.ko $(echo "$UB_GOALLOC_ARGS" | tr , ' ')
rc=$?
say "GA-MODULE load goalloc rc=$rc"
if [ $rc = 0 ]; then
	# Pin to the last CPU: CPU 0 takes the serial console's interrupts.
	cpu=$(( $(grep -c ^processor /proc/cpuinfo) - 1 ))
	uarena_bench -r "${UB_ROUNDS:-11}" -n "${UB_OBJECTS:-8192}" -c "$cpu" \
		>/tmp/ubench.csv 2>/tmp/ubench.log
	rc=$?
	say "GA-UBENCH-CSV-BEGIN"
	cat /tmp/ubench.csv >&3
	say "GA-UBENCH-CSV-END"
	say "GA-UBENCH-LOG-BEGIN"
	cat /tmp/ubench.log >&3
	say "GA-UBENCH-LOG-END"
	say "GA-UBENCH rc=$rc"
	# After the run: the kernel may have switched clocksource meanwhile.
	say "GA-UBENCH-CLOCKSOURCE $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	rmmod goalloc
	say "GA-MODULE unload goalloc rc=$?"
fi

say "GA-END"
exec 3>&-
# isa-debug-exit: QEMU exits with status (0 << 1) | 1 = 1.
printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
