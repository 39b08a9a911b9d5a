#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) and print the output directory of a goalloc test kernel.
#
# Usage: qemu/kernel.sh {debug|kcsan|rt|perf|uml}
#
# Each kernel is tinyconfig plus the fragments in qemu/, built from Debian's
# linux-source-6.12 out of tree into $GOALLOC_CACHE/kernels/<name>-<key>, where
# the key hashes the source version, the arch and the fragments: a changed
# fragment builds a new kernel and leaves the old one alone.  A lock per key
# makes two runs at once wait for one build; the ".done" stamp is written only
# after the kernel and its Module.symvers exist.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:-}
case "$name" in
debug) arch=x86_64; frags=(x86-base.config debug.config) ;;
kcsan) arch=x86_64; frags=(x86-base.config kcsan.config) ;;
rt)    arch=x86_64; frags=(x86-base.config rt.config) ;;
perf)  arch=x86_64; frags=(x86-base.config perf.config) ;;
uml)   arch=um;     frags=(uml.config) ;;
*) die "usage: $0 {debug|kcsan|rt|perf|uml}" ;;
esac

paths=()
for f in "${frags[@]}"; do paths+=("$GOALLOC_TOP/qemu/$f"); done
ver=$(src_version)
key=$( { echo "$ver $arch"; cat "${paths[@]}"; } | sha256sum | cut -c1-12)
out=$GOALLOC_CACHE/kernels/$name-$key
mkdir -p "$GOALLOC_CACHE/kernels"

if [ -e "$out/.done" ]; then
	# The stamp once a day is enough for the 14 days' rule.
	[ -n "$(find "$out/.used" -maxdepth 0 -mtime -1 2>/dev/null)" ] ||
		cache_used "$out" "$name-"
	echo "$out"
	exit 0
fi

src=$(src_tree)
exec 9>"$out.lock"
flock 9
if [ ! -e "$out/.done" ]; then
	mkdir -p "$out"
	logf=$out/build.log
	log "building the $name kernel ($ver, $arch) in $out; log: $logf"
	start=$(date +%s)
	mk() { make -s -C "$src" O="$out" ARCH="$arch" "$@" >>"$logf" 2>&1; }
	mk tinyconfig
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m .config "${paths[@]}") \
		>>"$logf" 2>&1
	mk olddefconfig
	# Every option a fragment asks for must survive olddefconfig: a silently
	# dropped option (an unmet dependency) would make a weaker kernel.
	bad=$(cat "${paths[@]}" | sed -n -e 's/^\(CONFIG_[A-Z0-9_]*\)=\(.*\)$/\1=\2/p' \
		-e 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1=n/p' |
		while IFS== read -r opt val; do
			got=$(grep -E "^$opt=" "$out/.config" | cut -d= -f2-)
			[ "${got:-n}" = "$val" ] || echo "$opt=$val (got ${got:-n})"
		done)
	[ -z "$bad" ] || die "config fragment options did not take: $bad"
	if ! mk -j"$(nproc)" all; then
		tail -30 "$logf" >&2
		die "kernel build failed; log: $logf"
	fi
	[ -e "$out/Module.symvers" ] || die "no Module.symvers in $out"
	log "$name kernel built in $(( $(date +%s) - start ))s"
	touch "$out/.done"
fi
cache_used "$out" "$name-"
echo "$out"
