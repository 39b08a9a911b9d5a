#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a UML kernel on a staged hostfs root and record how it went.
#
# Usage: qemu/run-uml.sh -k LINUX -r ROOTDIR -o OUTDIR [-m MEM] [-t SECONDS]
#                        [-M MODE]
#
# Same /init as the QEMU guests; OUTDIR gets console.log (the kernel's
# console on UML's stdio), results.log (written by /init into the hostfs
# root) and status ("exit N" or "timeout").  UML has one CPU and no
# isa-debug-exit: a clean end is told by the GA-END marker alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mem=512M tmo=600 mode=test kernel="" root="" out=""
while getopts k:r:o:m:t:M: opt; do
	case $opt in
	k) kernel=$OPTARG ;; r) root=$OPTARG ;; o) out=$OPTARG ;;
	m) mem=$OPTARG ;; t) tmo=$OPTARG ;; M) mode=$OPTARG ;;
	*) die "usage: see the head of $0" ;;
	esac
done
[ -n "$kernel" ] && [ -n "$root" ] && [ -n "$out" ] || die "need -k, -r and -o"
root=$(cd "$root" && pwd)
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.log" "$out/status" "$root/goalloc/results.log"

rc=0
timeout -k 10 "$tmo" "$kernel" mem="$mem" \
	root=/dev/root rootfstype=hostfs rootflags="$root" rw init=/init \
	con=null con0=fd:0,fd:1 panic=-1 loglevel=7 \
	GA_RUNNER=uml GA_MODE="$mode" \
	</dev/null >"$out/console.log" 2>&1 || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo timeout >"$out/status"
else
	echo "exit $rc" >"$out/status"
fi
cp "$root/goalloc/results.log" "$out/results.log" 2>/dev/null || touch "$out/results.log"
