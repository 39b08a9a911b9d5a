#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# "make run": boot the debug test kernel under QEMU, load goalloc and show
# what it reports.  The first run builds the kernel (a few minutes, cached).
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"
cd "$GOALLOC_TOP"

tools/install-deps.sh
k=$(qemu/kernel.sh debug)
build_modules "$k" build/debug
build_libgoalloc "$GOALLOC_TOP/build/libgoalloc"
qemu/mkinitramfs.sh build/demo-root build/demo.cpio.gz -- build/debug/kmod/goalloc.ko \
	build/debug/kunit/goalloc_test.ko -- -- build/libgoalloc/goallocstat \
	build/libgoalloc/arena-demo
out=results/demo
echo "goalloc: booting $(basename "$k") under QEMU ($((${GA_CPUS:-4})) vCPUs)..." >&2
qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i build/demo.cpio.gz -o "$out" \
	-c "${GA_CPUS:-4}" -m 1G -t 300 -M demo
sed -n '/^GA-DEMO-BEGIN/,/^GA-DEMO-END/p' "$out/results.log" | sed '1d;$d'
echo
qemu/verdict.py "$out" --kind qemu --ksrc "$(src_tree)" --label demo
