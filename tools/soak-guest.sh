# SPDX-License-Identifier: GPL-2.0
#
# The guest side of the soak (tools/soak.sh, Documentation/soak.rst).
# Staged as /goalloc/bin/soak-guest.sh and sourced by qemu/init.sh in
# GA_MODE=soak, so it uses init's say, load, unload_all, kmemleak_report,
# $D and fd 3 (the results channel).  The duration comes from the kernel
# command line: GA_SOAK_SECONDS.
#
# While goalloc_soak.ko runs its load: CPUs go offline and online in turn,
# "echo 3 > drop_caches" runs every second (goalloc's shrinker, and its
# drain IPIs, from another CPU), and goalloc_soak_user hammers /dev/goalloc.
# Then the module is unloaded (it frees everything and prints its
# SOAK-RESULT and SOAK-END lines), goalloc's heap figures are reported, and
# goalloc is unloaded.

soak_vm() {
	awk '$1 ~ /^(slabs_scanned|pageoutrun|drop_slab|drop_pagecache|allocstall_)/ {
		printf "%s=%s ", $1, $2 }' /proc/vmstat
}

# 6.12's deadline "fair server" (the dl_server that guards SCHED_NORMAL
# tasks from RT starvation) is stopped by sched_cpu_dying() at CPU offline,
# and there, with no goalloc code on any stack, it was seen to WARN in
# sub_running_bw() ("Dying CPU not properly vacated!") in two of six debug
# runs (Documentation/soak.rst, "The scheduler at CPU offline").  A runtime
# of 0 turns the server off on that CPU (dl_server_stop() and
# dl_server_start() then return at once).  Not on PREEMPT_RT: there the
# soak's timer, hrtimer and irq_work load runs in SCHED_FIFO threads, and
# the server is the only thing in 6.12 (without RT_GROUP_SCHED) that keeps
# them from starving this script.  Prints how many CPUs it turned off.
soak_fair_server_off() {
	n=0
	if uname -v | grep -q PREEMPT_RT; then
		echo 0
		return
	fi
	for f in /sys/kernel/debug/sched/fair_server/cpu*/runtime; do
		[ -w "$f" ] || continue
		echo 0 >"$f" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}

soak_hotplug() { # END: offline and online each CPU but 0 in turn until END
	# At least two cycles however slow the guest is, so that a soak whose
	# time ran out before this started still cycles the CPUs.
	n=0 bad=0
	while [ "$(date +%s)" -lt "$1" ] || [ $n -lt 2 ]; do
		for f in /sys/devices/system/cpu/cpu[1-9]*/online; do
			[ -w "$f" ] || { sleep 1; continue; }
			if echo 0 >"$f"; then
				sleep 0.3
				echo 1 >"$f" || bad=$((bad + 1))
				n=$((n + 1))
			else
				bad=$((bad + 1))
			fi
			sleep 1
		done
		[ -n "$(ls /sys/devices/system/cpu/cpu[1-9]*/online 2>/dev/null)" ] || break
	done
	# Every CPU comes back, whatever happened.
	for f in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ "$(cat "$f")" = 1 ] || echo 1 >"$f" || bad=$((bad + 1))
	done
	echo "cycles=$n failed=$bad" >/tmp/soak-hotplug
}

# If the run is not over three minutes after its load should have ended,
# say who is stuck where: every task's state, wait channel and kernel
# stack, three times, two minutes apart.  A stalled soak then shows its
# cause in the console log instead of a silent time-out.
soak_watchdog() { # SECONDS: wait that long first
	sleep "$1"
	for round in 1 2 3; do
		say "GA-SOAK-STUCK round=$round: tasks (pid comm state wchan), then stacks"
		for d in /proc/[0-9]*; do
			st=$(awk '{ print $3 }' "$d/stat" 2>/dev/null)
			[ -n "$st" ] || continue
			echo "GA-SOAK-TASK ${d#/proc/} $(cat "$d/comm" 2>/dev/null) $st $(cat "$d/wchan" 2>/dev/null)"
			case "$st" in
			R|D) sed 's/^/GA-SOAK-STACK   /' "$d/stack" 2>/dev/null ;;
			esac
		done
		sleep 120
	done
}

# Where the guest's CPU time went: the "cpu" line of /proc/stat, in ticks.
soak_cpu() {
	awk '$1 == "cpu" { print "user=" $2 + $3, "system=" $4, "idle=" $5 + $6,
		"irq=" $7, "softirq=" $8 }' /proc/stat
}

soak_main() {
	S=${GA_SOAK_SECONDS:-60}
	load goalloc || return
	say "GA-SOAK-BEGIN seconds=$S fair_server_off=$(soak_fair_server_off)"
	say "GA-SOAK-VM-BEFORE $(soak_vm)"
	# The balloon's mark: the largest zone (where allocations come from)
	# halfway between its min and low watermarks, plus what the other
	# zones hold free (their lowmem reserve keeps that unused).  kswapd
	# wakes, and calls the shrinkers, on every cycle, while ordinary
	# allocations stay above min and need no direct reclaim.
	low=$(awk '/^Node/ { z = $4 } $1 == "pages" && $2 == "free" { free[z] = $3; all += $3 }
		$1 == "min" { min[z] = $2 } $1 == "low" { low[z] = $2 }
		$1 == "managed" && $2 > big { big = $2; main = z }
		END { print all - free[main] + int((min[main] + low[main]) / 2) }' /proc/zoneinfo)
	# The allocation-site profile on, sampling often (a record every 4 KiB
	# asked for on average), so its records are made and dropped from
	# every context the soak allocates and frees in.
	echo 4096 >/sys/module/goalloc/parameters/profile_rate
	insmod "$D/modules/goalloc_soak.ko" balloon_free_pages="$low"
	rc=$?
	say "GA-MODULE load goalloc_soak rc=$rc"
	[ $rc = 0 ] || return
	loaded="goalloc_soak $loaded"
	end=$(($(date +%s) + S))
	goalloc_soak_user -s "$S" >/tmp/soak-user.log 2>&1 &
	upid=$!
	soak_hotplug "$end" &
	hpid=$!
	soak_watchdog $((S + 180)) &
	wpid=$!
	drops=0
	cpu0=$(soak_cpu)
	while [ "$(date +%s)" -lt "$end" ] || [ $drops -lt 3 ]; do
		echo 3 >/proc/sys/vm/drop_caches && drops=$((drops + 1))
		sleep 1
	done
	say "GA-SOAK-WAIT hotplug"
	wait $hpid
	say "GA-SOAK-WAIT user"
	wait $upid
	urc=$?
	kill $wpid 2>/dev/null
	say "GA-SOAK-CPU $(echo "$cpu0 $(soak_cpu)" | awk '{
		for (i = 1; i <= 5; i++) { split($i, a, "="); split($(i + 5), b, "=");
			printf "%s=%d ", a[1], b[2] - a[2] } }')"
	say "GA-TAP-BEGIN goalloc_soak_user"
	cat /tmp/soak-user.log >&3
	say "GA-TAP-END goalloc_soak_user rc=$urc"
	say "GA-SOAK-HOTPLUG $(cat /tmp/soak-hotplug 2>/dev/null) drop_caches=$drops"
	rmmod goalloc_soak
	say "GA-MODULE unload goalloc_soak rc=$?"
	say "GA-SOAK-PROFILE $(head -1 /sys/kernel/debug/goalloc/allocinfo 2>/dev/null)"
	echo 0 >/sys/module/goalloc/parameters/profile_rate
	loaded=${loaded#goalloc_soak }
	say "GA-SOAK-VM-AFTER $(soak_vm)"
	say "GA-SOAK-HEAP $(awk '{ printf "%s=%s ", $1, $2 }' /sys/kernel/debug/goalloc/heap)"
	dmesg | grep 'goalloc_soak: SOAK-' >&3
}

soak_main
unload_all
kmemleak_report
say "GA-SOAK-END"
