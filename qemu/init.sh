#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of every goalloc test guest, QEMU or UML.  The kernel command line
# passes (as environment) GA_RUNNER=qemu|uml and GA_MODE=test|demo|bench|insmod.
#
# Structured output goes to the results channel ($R: the second serial port
# under QEMU, a file on the hostfs root under UML) between GA-* markers that
# qemu/verdict.py reads; the kernel's own log goes to the console.  The guest
# always ends the same way: "GA-END", then power-off (QEMU: a write to the
# isa-debug-exit port, so the runner can tell a clean end from a panic).

/bin/busybox --install -s /bin
export PATH=/bin:/goalloc/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

if [ "$GA_RUNNER" = uml ]; then
	R=/goalloc/results.log
else
	R=/dev/ttyS1
fi
exec 3>>"$R"
say() { echo "$*" >&3; echo "goalloc-init: $*"; }

D=/goalloc
KL=/sys/kernel/debug/kmemleak
say "GA-BEGIN mode=${GA_MODE:-test} kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"

# Leaks from boot are not ours: report only what is found after this point.
# The scan that finds them takes 10-16 s of a debug guest under TCG, so it
# runs beside the first tests.  It cannot hide a leak of theirs: a scan
# reports (and "clear" then forgets) only objects at least 5 s older than
# the scan's start, and no test starts before the scanning subshell has
# reached its write (it leaves a mark just before).
kl_boot=""
if [ -w $KL ]; then
	echo scan=off >$KL
	(: >/tmp/kmemleak-boot-scan; echo scan >$KL; echo clear >$KL) &
	kl_boot=$!
	while [ ! -e /tmp/kmemleak-boot-scan ] && [ -e /proc/$kl_boot ]; do
		sleep 0.05
	done
fi

loaded=""
# load MODULE: insmod it, with the parameters staged in $D/MODULE.args if
# any (tools/bench.sh profile: goalloc's profile_rate).
load() {
	# shellcheck disable=SC2046 # the parameters are words
	insmod "$D/modules/$1.ko" $(cat "$D/$1.args" 2>/dev/null)
	rc=$?
	say "GA-MODULE load $1 rc=$rc"
	[ $rc = 0 ] && loaded="$1 $loaded"
	return $rc
}

# sections MODULE: "NAME=ADDR ..." for the module's loaded sections.
sections() {
	for f in /sys/module/$1/sections/.text*; do
		[ -e "$f" ] && printf '%s=%s ' "${f##*/}" "$(cat "$f")"
	done
}

unload_all() {
	for m in $loaded; do
		rmmod "$m"
		say "GA-MODULE unload $m rc=$?"
	done
	loaded=""
}

kunit_results() {
	for s in /sys/kernel/debug/kunit/*/results; do
		[ -e "$s" ] || continue
		suite=${s%/results}; suite=${suite##*/}
		say "GA-KTAP-BEGIN $suite"
		cat "$s" >&3
		say "GA-KTAP-END $suite"
	done
}

selftests() {
	for t in "$D"/selftests/*; do
		[ -x "$t" ] || continue
		name=${t##*/}
		say "GA-TAP-BEGIN $name"
		t0=$(cut -d' ' -f1 /proc/uptime)
		timeout 300 "$t" >&3 2>&1
		rc=$?
		say "GA-TAP-END $name rc=$rc"
		# The console only (qemu/verdict.py reads the results channel):
		# where a guest's time goes.
		echo "goalloc-init: $name took $(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime) s"
	done
}

kmemleak_report() {
	[ -w $KL ] || return 0
	[ -n "$kl_boot" ] && wait "$kl_boot"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# kmemleak reports an object that a scan finds unreferenced, unchanged
	# since the scan before (the first records its checksum), and at least
	# 5 s old at the scan's start.  So: scan once now, and again once 5.5 s
	# have passed since this point (the first scan takes longer than that
	# in a debug guest; the wait is for a quicker one).
	echo scan >$KL
	sleep "$(awk -v a="$t0" '{ d = a + 5.5 - $1; printf "%.2f", d > 0 ? d : 0 }' /proc/uptime)"
	echo scan >$KL
	echo "goalloc-init: kmemleak's wait and last scans took $(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime) s"
	say "GA-KMEMLEAK-BEGIN"
	cat $KL >&3
	say "GA-KMEMLEAK-END"
}

case "${GA_MODE:-test}" in
test)
	for m in $(cat "$D/modules/order"); do
		load "$m" || break
	done
	kunit_results
	selftests
	unload_all
	kmemleak_report
	;;
demo)
	# make run (tools/demo.sh): the guest side is tools/demo-guest.sh,
	# staged in /goalloc/bin and sourced so that it uses the helpers above.
	. "$D/bin/demo-guest.sh"
	;;
bench)
	# make bench: goalloc_bench.ko runs at load; its parameters come from
	# /goalloc/bench.args.  Its results go out whole, then the userspace
	# benchmark if one was staged.
	args=$(cat $D/bench.args 2>/dev/null)
	load goalloc && {
		# Where the modules' sections are, for tools/insn-trace.sh:
		# the same on every boot of the same build (no KASLR).
		say "GA-SECTIONS goalloc $(sections goalloc)"
		# A run's own set-up (tools/bench.sh profile: tracing on).
		# shellcheck disable=SC1091
		[ -s "$D/bench.pre" ] && . "$D/bench.pre"
		insmod "$D/modules/goalloc_bench.ko" $args
		rc=$?
		say "GA-MODULE load goalloc_bench rc=$rc"
		say "GA-SECTIONS goalloc_bench $(sections goalloc_bench)"
		[ $rc = 0 ] && loaded="goalloc_bench $loaded"
		say "GA-BENCH-BEGIN"
		cat /sys/kernel/debug/goalloc_bench/results >&3
		say "GA-BENCH-END"
		# The allocation-site profile, when the run turned it on.
		if [ -s "$D/goalloc.args" ]; then
			say "GA-ALLOCINFO-BEGIN"
			cat /sys/kernel/debug/goalloc/allocinfo >&3
			say "GA-ALLOCINFO-END"
		fi
	}
	unload_all
	;;
soak)
	# make soak (tools/soak.sh): the guest side is tools/soak-guest.sh,
	# staged in /goalloc/bin and sourced so that it uses the helpers above.
	. "$D/bin/soak-guest.sh"
	;;
routed)
	# tools/routed-test.sh: ext4 on goalloc (tools/routed-guest.sh, staged
	# in /goalloc/bin and sourced so that it uses the helpers above).
	. "$D/bin/routed-guest.sh"
	;;
insmod)
	load goalloc
	[ -d /sys/module/goalloc ] && say "GA-SYSFS $(cat /sys/module/goalloc/initstate)"
	unload_all
	[ -d /sys/module/goalloc ] && say "GA-SYSFS still-present"
	;;
esac

say "GA-END"
exec 3>&-
if [ "$GA_RUNNER" = uml ]; then
	poweroff -f
else
	# isa-debug-exit: QEMU exits with status (0 << 1) | 1 = 1.
	printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
fi
