#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing goalloc needs on a Debian bookworm host.
# Idempotent: does nothing when every package is already present.  As root it
# runs apt-get; otherwise it names the missing packages and exits 1.
#
# The base list includes spin, the model checker that checks the Promela
# models of goalloc's lock-free protocols (kmod/models/).
#
# Usage: tools/install-deps.sh [--stock] [--bench] [--pictures] [--perf]
#   --stock  also install Debian's stock 6.12 kernel image and the 6.12 and 6.1
#            headers (for the "insmod on a distro kernel" checks).
#   --bench  also what "make bench" needs: gnuplot for the plots, g++ and
#            Boost (Boost.Interprocess, the userspace comparison).
#   --pictures  gnuplot alone: make run's pictures of goalloc's heap.
#   --perf   linux-perf: make run reads goalloc's tracepoints with it.
set -euo pipefail

base=(build-essential bc bison flex cpio kmod xz-utils libelf-dev libssl-dev
      dwarves python3 python3-docutils busybox-static qemu-system-x86 sparse dkms rsync
      linux-source-6.12 spin e2fsprogs)

want=("${base[@]}")
stock=0
for a in "$@"; do
	case "$a" in
	--stock) stock=1 ;;
	--bench) want+=(gnuplot-nox g++ libboost-dev) ;;
	--pictures) want+=(gnuplot-nox) ;;
	--perf) want+=(linux-perf) ;;
	*) echo "goalloc: install-deps: unknown option $a" >&2; exit 2 ;;
	esac
done

need_update() {
	# apt lists are empty on a fresh image: apt-cache would find nothing.
	[ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]
}

if [ "$(id -u)" = 0 ] && need_update; then
	apt-get update -q >/dev/null
fi

# The stock kernel packages move with Debian's point releases; resolve the
# versions behind the meta-packages instead of pinning a name that expires.
# One apt-cache call for both (each one rebuilds apt's cache in memory where
# the image keeps no pkgcache.bin: seconds apiece), one dpkg-query for all.
if [ $stock = 1 ]; then
	h612="" h61=""
	{ read -r h612 && read -r h61; } < <(apt-cache depends linux-headers-6.12-amd64 \
		linux-headers-amd64 2>/dev/null | awk '/^[^ ]/ {n = 0} /Depends:/ && !n++ {print $2}') || true
	if [ -z "$h612" ] || [ -z "$h61" ]; then
		echo "goalloc: install-deps: apt knows no linux-headers-6.12-amd64 or" \
			"linux-headers-amd64 (apt-get update?)" >&2
		exit 1
	fi
	i612=${h612/headers/image}-unsigned
	want+=("$h612" "$h61" "$i612")
fi

# dpkg-query fails when any of them is unknown (not installed, say): that is
# an answer here, not an error (set -e and pipefail would end the script).
present=$({ dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true; } |
	awk '/ install ok installed$/ {print $1}')
missing=()
for p in "${want[@]}"; do
	[ -n "$p" ] || continue
	grep -qxF "$p" <<<"$present" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "goalloc: missing packages: ${missing[*]}" >&2
	echo "goalloc: run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "goalloc: installing ${missing[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >&2
