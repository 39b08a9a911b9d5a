# SPDX-License-Identifier: GPL-2.0
# Shared by the qemu/ scripts: where the cache lives, how the kernel source is
# found, and small helpers.  Sourced, never run.

GOALLOC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOALLOC_CACHE=${GOALLOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/goalloc}
SRC_TARBALL=${SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
SRC_PKG=${SRC_PKG:-linux-source-6.12}

log() { echo "goalloc: $*" >&2; }
die() { echo "goalloc: error: $*" >&2; exit 1; }

# The Debian version of the kernel source package: part of every cache key.
src_version() {
	dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null ||
		die "$SRC_PKG is not installed (tools/install-deps.sh)"
}

# Print the extracted source tree, extracting it once per source version.
# Two runs at once serialise on the lock; the stamp is written last, so an
# interrupted extraction is redone.
src_tree() {
	local ver dir
	ver=$(src_version)
	dir=$GOALLOC_CACHE/src/$ver
	mkdir -p "$GOALLOC_CACHE/src"
	(
		flock 9
		if [ ! -e "$dir/.extracted" ]; then
			log "extracting $SRC_TARBALL into $dir"
			rm -rf "$dir"
			mkdir -p "$dir"
			tar -C "$dir" -xf "$SRC_TARBALL" --strip-components=1
			touch "$dir/.extracted"
		fi
	) 9>"$dir.lock"
	echo "$dir"
}

# build_modules KDIR OUTDIR: build goalloc's modules against KDIR in OUTDIR,
# a copy of the module sources, so builds for several kernels never share
# object files.  Prints nothing; the build log is OUTDIR/build.log.
build_modules() {
	local kdir=$1 out arch=()
	out=$(realpath -m "$2")
	grep -q '^CONFIG_UML=y' "$kdir/.config" 2>/dev/null && arch=(ARCH=um)
	mkdir -p "$out"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		"$GOALLOC_TOP/Kbuild" "$GOALLOC_TOP/kmod" "$GOALLOC_TOP/kunit" "$GOALLOC_TOP/bench" \
		"$GOALLOC_TOP/uapi" "$out/"
	# Test kernels (CONFIG_KUNIT) get the test-only race hooks (kmod/hooks.h);
	# a distro kernel's build never has them, nor does a benchmark build
	# (GOALLOC_NO_HOOKS=1, tools/bench.sh).
	if [ -z "${GOALLOC_NO_HOOKS:-}" ] && grep -q '^CONFIG_KUNIT=[ym]' "$kdir/.config" 2>/dev/null; then
		arch+=(GOALLOC_TEST_HOOKS=1)
	fi
	if ! make -C "$kdir" M="$out" "${arch[@]}" W=1 modules >"$out/build.log" 2>&1; then
		cat "$out/build.log" >&2
		return 1
	fi
	# A warning is a failure: the module must build clean on every kernel.
	if grep -E 'warning:' "$out/build.log" >&2; then
		return 1
	fi
}

# selftests_build OUTDIR: the kselftest binaries, static so that the
# busybox initramfs needs no libc.
build_selftests() {
	make -s -C "$GOALLOC_TOP/selftests" KSRC="$(src_tree)" OUT="$1" >&2
}

# build_libgoalloc OUTDIR: libgoalloc and its programs, static for the guests.
build_libgoalloc() {
	make -s -C "$GOALLOC_TOP/libgoalloc" STATIC=1 OUT="$1" >&2
}
