#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage a guest root and pack it as a gzip'd cpio initramfs.
#
# Usage: qemu/mkinitramfs.sh ROOTDIR [CPIO] -- MODULE.ko... [-- SELFTEST... [-- PROGRAM...]]
#   ROOTDIR   staging directory (also the hostfs root of a UML run)
#   CPIO      initramfs to write; "-" to stage only (UML)
# Modules are loaded in the order given; selftests run in the order given;
# programs (static binaries: libgoalloc's tools) go to /goalloc/bin, on PATH.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$1 cpio=$2
shift 2
[ "${1:-}" = -- ] && shift
mods=() tests=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do mods+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
while [ $# -gt 0 ] && [ "$1" != -- ]; do tests+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
progs=("$@")

# busybox-static's binary: a dynamic busybox would need a libc in the guest.
bb=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	die "busybox-static is not installed (tools/install-deps.sh)"

rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,goalloc/modules,goalloc/selftests,goalloc/bin}
cp "$bb" "$root/bin/busybox"
cp "$GOALLOC_TOP/qemu/init.sh" "$root/init"
chmod 755 "$root/init"
: >"$root/goalloc/modules/order"
for m in "${mods[@]}"; do
	cp "$m" "$root/goalloc/modules/"
	basename "$m" .ko >>"$root/goalloc/modules/order"
done
for t in "${tests[@]}"; do cp "$t" "$root/goalloc/selftests/"; done
for p in "${progs[@]}"; do cp "$p" "$root/goalloc/bin/"; done

if [ "$cpio" != - ]; then
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$cpio"
fi
