#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel and an initramfs under QEMU and record how it went.
#
# Usage: qemu/run-qemu.sh -k KERNEL -i INITRD -o OUTDIR [-c CPUS] [-m MEM]
#                         [-t SECONDS] [-M MODE] [-a "EXTRA CMDLINE"]
#
# OUTDIR gets console.log (serial 0: the kernel's console), results.log
# (serial 1: what /init reports) and status: "exit N" from QEMU, or
# "timeout" when the wall-clock limit ran out.  A clean end is exit 1 (the
# guest wrote 0 to isa-debug-exit); a panic makes QEMU exit 0 under
# -no-reboot, which the verdict treats as a failure.
#
# The accelerator is TCG unless GA_ACCEL=kvm, or GA_ACCEL=auto and a probe
# boot under KVM once reached /init (cached; nested hypervisors often fail).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cpus=4 mem=2G tmo=900 mode=test extra="" kernel="" initrd="" out=""
while getopts k:i:o:c:m:t:M:a: opt; do
	case $opt in
	k) kernel=$OPTARG ;; i) initrd=$OPTARG ;; o) out=$OPTARG ;;
	c) cpus=$OPTARG ;; m) mem=$OPTARG ;; t) tmo=$OPTARG ;;
	M) mode=$OPTARG ;; a) extra=$OPTARG ;;
	*) die "usage: see the head of $0" ;;
	esac
done
[ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$out" ] || die "need -k, -i and -o"
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.log" "$out/status"

accel="tcg,thread=multi"
case "${GA_ACCEL:-tcg}" in
kvm) accel=kvm ;;
tcg) ;;
auto) [ "$(cat "$GOALLOC_CACHE/kvm-works" 2>/dev/null)" = yes ] && accel=kvm ;;
esac

cmdline="console=ttyS0 panic=-1 loglevel=7 log_buf_len=4M"
cmdline+=" kasan.fault=report GA_RUNNER=qemu GA_MODE=$mode $extra"

rc=0
timeout -k 10 "$tmo" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp "$cpus" -m "$mem" \
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
	-display none -monitor none -no-reboot \
	-chardev file,id=con,path="$out/console.log" -serial chardev:con \
	-chardev file,id=res,path="$out/results.log" -serial chardev:res \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	</dev/null >"$out/qemu.log" 2>&1 || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo timeout >"$out/status"
else
	echo "exit $rc" >"$out/status"
fi
touch "$out/console.log" "$out/results.log"
