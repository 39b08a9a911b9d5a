#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel and an initramfs under QEMU and record how it went.
#
# Usage: qemu/run-qemu.sh -k KERNEL -i INITRD -o OUTDIR [-c CPUS] [-m MEM]
#                         [-n NODES] [-t SECONDS] [-M MODE] [-a "EXTRA CMDLINE"]
#
# -n NODES (default 1) makes NUMA nodes, each a socket with CPUS/NODES
# vCPUs and MEM/NODES of memory (MEM in M or G), which a kernel with
# ACPI_NUMA reads from the SRAT: CPU i is on node i / (CPUS/NODES).  One
# socket per node, or the kernel finds two nodes under one last-level cache
# and WARNs (topology_sane()).
#
# OUTDIR gets console.log (serial 0: the kernel's console), results.log
# (serial 1: what /init reports) and status: "exit N" from QEMU, or
# "timeout" when the wall-clock limit ran out.  A clean end is exit 1 (the
# guest wrote 0 to isa-debug-exit); a panic makes QEMU exit 0 under
# -no-reboot, which the verdict treats as a failure.
#
# The accelerator: GA_ACCEL=auto (default) uses KVM only where a probe boot
# under KVM once reached /init (cached), else TCG; GA_ACCEL=kvm|tcg forces.
# GA_ACCEL=icount is TCG with one thread and an instruction counter for a
# clock ("-icount shift=0,align=off,sleep=off"): the guest's time advances
# exactly one nanosecond per guest instruction, whatever the host does, so a
# run is deterministic, given the same kernel and initramfs bytes
# (tools/bench.sh icount, tools/check.sh bench-budget).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cpus=4 mem=2G nodes=1 tmo=900 mode=test extra="" kernel="" initrd="" out=""
while getopts k:i:o:c:m:n:t:M:a: opt; do
	case $opt in
	k) kernel=$OPTARG ;; i) initrd=$OPTARG ;; o) out=$OPTARG ;;
	c) cpus=$OPTARG ;; m) mem=$OPTARG ;; n) nodes=$OPTARG ;; t) tmo=$OPTARG ;;
	M) mode=$OPTARG ;; a) extra=$OPTARG ;;
	*) die "usage: see the head of $0" ;;
	esac
done
[ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$out" ] || die "need -k, -i and -o"
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.log" "$out/status"

# boot ACCEL CPU SMP MEM SECONDS DIR CMDLINE: one guest, serial 0 (console)
# and serial 1 (results) into DIR; returns QEMU's (or timeout's) status.
# ACCEL is QEMU's -accel value; the icount options, if any, are in $icount.
icount=()
# GA_QEMU_ARGS: more QEMU options (tools/insn-trace.sh: "-s -S" for gdb).
read -r -a qemu_extra <<<"${GA_QEMU_ARGS:-}"
smp=$cpus
if [ "$nodes" -gt 1 ]; then
	case $mem in
	*G) mem_mb=$(( ${mem%G} * 1024 )) ;;
	*M) mem_mb=${mem%M} ;;
	*) die "-m must be in M or G with -n" ;;
	esac
	per=$(( cpus / nodes ))
	[ $(( per * nodes )) = "$cpus" ] && [ $(( mem_mb % nodes )) = 0 ] ||
		die "-n $nodes must divide -c $cpus and -m $mem"
	smp="$cpus,sockets=$nodes,cores=$per,threads=1"
	for ((n = 0; n < nodes; n++)); do
		qemu_extra+=(-object "memory-backend-ram,id=m$n,size=$(( mem_mb / nodes ))M"
			     -numa "node,nodeid=$n,cpus=$(( n * per ))-$(( n * per + per - 1 )),memdev=m$n")
	done
fi
boot() {
	timeout -k 10 "$5" qemu-system-x86_64 \
		-accel "$1" "${icount[@]}" -cpu "$2" -smp "$3" -m "$4" \
		-kernel "$kernel" -initrd "$initrd" -append "$7" \
		-display none -monitor none -no-reboot \
		-chardev file,id=con,path="$6/console.log" -serial chardev:con \
		-chardev file,id=res,path="$6/results.log" -serial chardev:res \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "${qemu_extra[@]}" \
		</dev/null >"$6/qemu.log" 2>&1
}

# kvm_works: boot this kernel once under KVM with an /init that only says
# hello; cache the answer per host kernel and QEMU version.  A nested PVM
# host, for one, has /dev/kvm but kills ordinary guests.
kvm_works() {
	local key cache probe rc=0
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	key=$(uname -r)-$(qemu-system-x86_64 --version | head -1 | tr -cd '0-9.')
	cache=$GOALLOC_CACHE/kvm-works-$key
	if [ ! -e "$cache" ]; then
		probe=$(mktemp -d)
		( boot kvm host 2 512M 60 "$probe" \
			"console=ttyS0 panic=-1 GA_RUNNER=qemu GA_MODE=probe" ) 2>/dev/null || rc=$?
		if [ $rc = 1 ] && grep -q '^GA-END' "$probe/results.log"; then
			echo yes >"$cache"
		else
			echo no >"$cache"
		fi
		log "KVM probe: $(cat "$cache") (cached in $cache)"
		rm -rf "$probe"
	fi
	[ "$(cat "$cache")" = yes ]
}

accel="tcg,thread=multi" cpu=max
case "${GA_ACCEL:-auto}" in
kvm) accel=kvm cpu=host ;;
tcg) ;;
icount)
	# Nothing from the host may reach the guest either: the RTC runs on
	# the virtual clock from a fixed date, and RDRAND/RDSEED are hidden
	# (random numbers steer the kernel's paths).
	accel=tcg cpu=max,-rdrand,-rdseed
	icount=(-icount shift=0,align=off,sleep=off -rtc base=2026-01-01T00:00:00,clock=vm)
	;;
auto) if kvm_works; then accel=kvm cpu=host; fi ;;
*) die "GA_ACCEL must be auto, kvm, tcg or icount" ;;
esac
echo "$accel${icount[*]:+ ${icount[*]}} -cpu $cpu" >"$out/accel"

cmdline="console=ttyS0 panic=-1 loglevel=7 log_buf_len=4M"
cmdline+=" kasan.fault=report GA_RUNNER=qemu GA_MODE=$mode $extra"

rc=0
boot "$accel" "$cpu" "$smp" "$mem" "$tmo" "$out" "$cmdline" || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo timeout >"$out/status"
else
	echo "exit $rc" >"$out/status"
fi
touch "$out/console.log" "$out/results.log"
