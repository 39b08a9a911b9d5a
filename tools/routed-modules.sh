#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build real kernel modules from Debian's linux-source-6.12, unmodified, out
# of tree, with their slab calls routed to goalloc by kmod/goalloc_slab.h
# (Documentation/routing.rst), and check what they import.
#
# Usage: tools/routed-modules.sh [--slub] KDIR GOALLOC_BUILD OUTDIR
#   KDIR           the kernel's build tree (qemu/kernel.sh debug)
#   GOALLOC_BUILD  goalloc's module build for KDIR (its Module.symvers)
#   OUTDIR         where the copies are built: OUTDIR/{mbcache,jbd2,ext4}/*.ko
#   --slub         build the same copies without the routing header (SLUB's)
#
# The sources are copied from the extracted tree (qemu/lib.sh src_tree(),
# which extracts /usr/src/linux-source-6.12.tar.xz once into the cache):
# fs/mbcache.c, fs/jbd2/ and fs/ext4/ with their own Makefiles; only the
# Kbuild files that list them are written here.  The routed build then must
# import goalloc's symbols and none of the kernel's slab entry points but
# the frees that goalloc_owns() sends back to SLUB (imports.txt).
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"

slub=""
[ "${1:-}" = --slub ] && { slub=1; shift; }
[ $# = 3 ] || die "usage: $0 [--slub] KDIR GOALLOC_BUILD OUTDIR"
kdir=$1 gbuild=$(realpath "$2") out=$(realpath -m "$3")
src=$(src_tree)

mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	"$src/fs/ext4/" "$out/ext4/"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	"$src/fs/jbd2/" "$out/jbd2/"
mkdir -p "$out/mbcache"
cp "$src/fs/mbcache.c" "$out/mbcache/mbcache.c"
echo 'obj-m += mbcache.o' >"$out/mbcache/Kbuild"
{
	echo '# Written by tools/routed-modules.sh'
	echo 'obj-m += mbcache/ jbd2/ ext4/'
	if [ -z "$slub" ]; then
		echo "subdir-ccflags-y += -I$GOALLOC_TOP/kmod -include $GOALLOC_TOP/kmod/goalloc_slab.h"
	fi
} >"$out/Kbuild"
syms=()
[ -z "$slub" ] && syms=("KBUILD_EXTRA_SYMBOLS=$gbuild/Module.symvers")
if ! make -C "$kdir" M="$out" "${syms[@]}" modules -j"$(nproc)" >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	die "routed module build failed; log: $out/build.log"
fi
if grep -E 'warning:' "$out/build.log" >&2; then
	die "routed module build has warnings; log: $out/build.log"
fi
[ -n "$slub" ] && exit 0

# What the routed modules import.  Allowed from the kernel's slab API: the
# frees, ksize, krealloc and kvrealloc that goalloc_owns() hands a SLUB
# pointer to, and kvmalloc's (left to the kernel).  Refused: any other
# kmalloc / kmem_cache entry point, the slab mempool callbacks, kfree_link,
# and every "extern struct kmem_cache *" of the kernel's headers (a core
# cache the module would hand to goalloc's calls).  The check is of the
# symbols alone: a core cache reached some other way, or module memory that
# core code frees, shows only at run time (the guest test).
# (A cache one of the routed modules exports, jbd2_inode_cache, is goalloc's.)
core_caches=$(grep -rhoE 'extern struct kmem_cache \*[a-z_0-9]+' "$src/include" |
	      awk '{print $4}' | tr -d '*' | sort -u |
	      grep -vxF -f <(awk '{print $2}' "$out/Module.symvers") | paste -sd'|')
refused="^(__?kmalloc.*|kmalloc.*|__?kmem_cache.*|kmem_cache.*|krealloc_array.*|mempool_(alloc|free)_slab|kfree_link|${core_caches})\$"
bad=0
: >"$out/imports.txt"
for m in mbcache/mbcache ext4/ext4 jbd2/jbd2; do
	u=$(nm -u "$out/$m.ko" | awk '{print $2}')
	echo "$m: goalloc $(echo "$u" | grep -c '^goalloc_'): $(echo "$u" | grep '^goalloc_' | paste -sd' ')" >>"$out/imports.txt"
	echo "$m: slab fallback: $(echo "$u" | grep -E '^(kfree|kfree_const|kfree_sensitive|ksize|krealloc_noprof|kvfree|kvfree_sensitive|kvrealloc_noprof|kvfree_call_rcu|__kvmalloc_node_noprof)$' | paste -sd' ')" >>"$out/imports.txt"
	r=$(echo "$u" | grep -E "$refused" || true)
	if [ -n "$r" ]; then
		echo "$m: REFUSED: $(echo "$r" | paste -sd' ')" >>"$out/imports.txt"
		bad=1
	fi
	echo "$u" | grep -q '^goalloc_' || { echo "$m: imports nothing of goalloc" >>"$out/imports.txt"; bad=1; }
done
cat "$out/imports.txt"
[ "$bad" = 0 ] || die "a routed module imports the kernel's slab calls: $out/imports.txt"
