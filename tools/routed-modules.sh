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
#   OUTDIR         where the copies are built: OUTDIR/{mbcache,jbd2,ext4}/*.ko,
#                  OUTDIR/{zsmalloc,zram}/*.ko, OUTDIR/lzo/lzo_compress.ko
#   --slub         build the same copies without the routing header (SLUB's)
#
# The sources are copied from the extracted tree (qemu/lib.sh src_tree(),
# which extracts /usr/src/linux-source-6.12.tar.xz once into the cache):
# fs/mbcache.c, fs/jbd2/ and fs/ext4/ with their own Makefiles;
# mm/zsmalloc.c, drivers/block/zram/ (its own Makefile, for the lzo and
# lzo-rle backends) and lib/lzo's compressor.  Only the Kbuild files that
# list them are written here.  The routed build then must import goalloc's
# symbols and none of the kernel's slab entry points but the frees that
# goalloc_owns() sends back to SLUB (imports.txt).
#
# zram and zsmalloc are not configured in the debug kernel (CONFIG_ZRAM and
# CONFIG_ZSMALLOC unset), so the configuration they would have is given
# here: CONFIG_ZSMALLOC_CHAIN_SIZE=8 (Kconfig's default), the lzo backends
# and "lzo-rle" as zram's default compressor (ditto).  One thing of the
# kernel's own depends on CONFIG_ZSMALLOC: the zone counter NR_ZSPAGES is an
# item of enum zone_stat_item only when it is set.  Defining CONFIG_ZSMALLOC
# for zsmalloc's build would make its enum (and struct zone) differ from the
# kernel's; instead zsmalloc's NR_ZSPAGES is named NR_FREE_CMA_PAGES, a
# counter a kernel without CONFIG_CMA keeps but never reads (it shows as
# nr_free_cma in /proc/vmstat, which the guest checks against zram's own
# count of zsmalloc's pages).  The compressor has no slab calls and is built
# on its own, without the routing header.  A kernel that has zsmalloc or
# zram of its own (Debian's: zsmalloc built in) gets ext4's three only.
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"

slub=""
[ "${1:-}" = --slub ] && { slub=1; shift; }
[ $# = 3 ] || die "usage: $0 [--slub] KDIR GOALLOC_BUILD OUTDIR"
kdir=$1 gbuild=$(realpath -m "$2") dest=$(realpath -m "$3")
src=$(src_tree)

# The build runs in a tree of the cache, one per kernel, source version and
# flavour, kept across runs and checkouts and locked while in use (as
# qemu/lib.sh's build_modules does): the copies are made by content, so a
# second build remakes only what changed, and a build that did not end
# clean (failed, warned, cut short) is not reused.  The tree is copied to
# OUTDIR at the end, whatever the outcome.
out=$GOALLOC_CACHE/routed/$( { kernel_key "$kdir"; src_version; echo "$slub"; } |
	sha1sum | cut -c1-12)
mkdir -p "$GOALLOC_CACHE/routed" "$dest"
exec 9>"$out.lock"
flock 9 || die "cannot lock $out"
tree_begin "$out" || die "cannot make $out"
trap 'rc=$?; rsync -a --delete "$out/" "$dest/" || rc=1; exit $rc' EXIT
rsync -rlc --delete --include='*.h' --exclude='*' "$GOALLOC_TOP/kmod/" "$out/goalloc-kmod/"
# What a copy of a source directory leaves in place: the build's products.
keep=(--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c'
      --exclude='*.a' --exclude=modules.order)
rsync -rlc --delete "${keep[@]}" \
	"$src/fs/ext4/" "$out/ext4/"
rsync -rlc --delete "${keep[@]}" \
	"$src/fs/jbd2/" "$out/jbd2/"
mkdir -p "$out/mbcache"
rsync -c "$src/fs/mbcache.c" "$out/mbcache/mbcache.c"
echo 'obj-m += mbcache.o' >"$out/mbcache/Kbuild"
routed="mbcache/mbcache ext4/ext4 jbd2/jbd2"
syms=""
# (The body of this if is not indented: its here-documents.)
if ! grep -qE '^CONFIG_(ZSMALLOC|ZRAM)=' "$kdir/.config"; then
routed="$routed zsmalloc/zsmalloc zram/zram"
rsync -rlc --delete "${keep[@]}" \
	"$src/drivers/block/zram/" "$out/zram/"
mkdir -p "$out/zsmalloc" "$out/lzo"
rsync -c "$src/mm/zsmalloc.c" "$out/zsmalloc/zsmalloc.c"
cat >"$out/zsmalloc/Kbuild" <<'EOF'
# Written by tools/routed-modules.sh: mm/Kconfig's default chain size, and
# the kernel's spare zone counter for NR_ZSPAGES (see the script's head).
obj-m += zsmalloc.o
ccflags-y += -DCONFIG_ZSMALLOC_CHAIN_SIZE=8 -DNR_ZSPAGES=NR_FREE_CMA_PAGES
EOF
cat >"$out/zram/Kbuild" <<'EOF'
# Written by tools/routed-modules.sh: zram's own Makefile, configured as
# drivers/block/zram/Kconfig's defaults would (lzo and lzo-rle, lzo-rle first).
CONFIG_ZRAM := m
CONFIG_ZRAM_BACKEND_LZO := y
include $(src)/Makefile
ccflags-y += -DCONFIG_ZRAM_BACKEND_LZO=1 -DCONFIG_ZRAM_DEF_COMP='"lzo-rle"'
EOF
rsync -c "$src"/lib/lzo/lzo1x_compress.c "$src"/lib/lzo/lzo1x_compress_safe.c \
   "$src"/lib/lzo/lzodefs.h "$out/lzo/"
cat >"$out/lzo/Kbuild" <<'EOF'
# Written by tools/routed-modules.sh: lib/lzo's compressor (CONFIG_LZO_COMPRESS),
# which the kernel lacks; its decompressor is built in.
obj-m += lzo_compress.o
lzo_compress-objs := lzo1x_compress.o lzo1x_compress_safe.o
EOF
# The compressor first, on its own and never routed: no slab calls.
if ! make -C "$kdir" M="$out/lzo" modules -j"$(nproc)" >"$out/build-lzo.log" 2>&1; then
	tail -40 "$out/build-lzo.log" >&2
	die "lzo_compress build failed; log: $dest/build-lzo.log"
fi
syms="$out/lzo/Module.symvers"
fi
: >>"$out/build-lzo.log"
{
	echo '# Written by tools/routed-modules.sh'
	echo "obj-m += $(echo "$routed" | sed 's|/[a-z0-9]*|/|g')"
	if [ -z "$slub" ]; then
		echo "subdir-ccflags-y += -I$out/goalloc-kmod -include $out/goalloc-kmod/goalloc_slab.h"
	fi
} >"$out/Kbuild"
[ -z "$slub" ] && syms="$gbuild/Module.symvers $syms"
if ! make -C "$kdir" M="$out" KBUILD_EXTRA_SYMBOLS="$syms" modules -j"$(nproc)" >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	die "routed module build failed; log: $dest/build.log"
fi
# A file that defines its own pr_fmt (zsmalloc, zram) redefines the one
# <linux/printk.h> gave it through the header: its own wins from there on,
# as in the kernel's build, so that warning alone is let through.
if grep -E 'warning:' "$out/build-lzo.log" "$out/build.log" |
   grep -vE 'warning: "pr_fmt" redefined$' >&2; then
	die "routed module build has warnings; log: $dest/build.log"
fi
tree_done "$out"
cache_used "$out"
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
for m in $routed; do
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
