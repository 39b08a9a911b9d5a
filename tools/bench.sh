#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": goalloc against SLUB, in the same boot: instructions per
# operation under QEMU with -icount (one vCPU, the perf kernel; exact and
# repeatable), then time under UML (one CPU, native speed) and under QEMU
# TCG (SMP) on the non-debug perf kernel.
#
# Usage: tools/bench.sh [icount|profile|numa|uml|tcg|userspace|trace|routed|all]
#                       (default all)
#   BENCH_ARGS  goalloc_bench.ko parameters of the timed runs (default:
#               rounds=5 iters=20000, and iters=5000 under TCG, which runs
#               ~20x slower)
#   BENCH_ICOUNT_ARGS  those of the icount run (default: the single-CPU
#               tests, rounds=3 iters=5000)
#   BENCH_NUMA_ARGS  those of the NUMA run (icount, two vCPUs on two
#               nodes: _node calls for the CPU's node and the other)
#   GA_CPUS     vCPUs of the TCG guest (default 4)
#   BENCH_FS_FILES, BENCH_FS_ROUNDS, BENCH_FS_KERNELS  the routed run
#               (real modules, below): files of the file system workload
#               (default 2000), rounds (default 3; each round boots once
#               per side), kernels (default "stock debug")
#
# Raw rows, the aggregated CSV, bench.md and PNG plots go to results/bench/.
# Benchmarks never fail: this reports numbers, it does not judge them (the
# instruction budget of make check does: tools/check.sh bench-budget).
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"
cd "$GOALLOC_TOP"
# Benchmarks measure the code as shipped: no test-only hooks (kmod/hooks.h).
export GOALLOC_NO_HOOKS=1

what=${1:-all}
out=$GOALLOC_TOP/results/bench
mkdir -p "$out"
tools/install-deps.sh --bench

# stage NAME KDIR ARGS [ROOT]: a guest root build/bench-ROOT-root (ROOT
# defaults to NAME) with goalloc.ko and goalloc_bench.ko built for KDIR in
# build/NAME.
stage() {
	local root=build/bench-${4:-$1}-root
	build_modules "$2" "build/$1"
	qemu/mkinitramfs.sh "$root" - -- "build/$1/kmod/goalloc.ko" \
		"build/$1/bench/goalloc_bench.ko"
	echo "$3" >"$root/goalloc/bench.args"
}

# pack ROOT: build/bench-ROOT.cpio.gz from the staged root, reproducibly.
pack() {
	pack_reproducible "build/bench-$1-root" "build/bench-$1.cpio.gz"
}

# extract RUNDIR NAME: the rows between the GA-BENCH markers.
extract() {
	sed -n '/^GA-BENCH-BEGIN/,/^GA-BENCH-END/p' "$1/results.log" | sed '1d;$d' \
		>"$out/raw-$2.csv"
	[ -s "$out/raw-$2.csv" ] || die "no benchmark rows from the $2 run (see $1)"
	qemu/verdict.py "$1" --kind "$3" --ksrc "$(src_tree)" --label "bench-$2" ||
		die "the $2 benchmark run was not clean (see $1)"
}

# Instruction-exact: under -icount shift=0 the guest's clock advances one ns
# per guest instruction, so ns_per_op is instructions per operation.  One
# vCPU (icount runs one TCG thread), the single-CPU tests only.
if [ "$what" = icount ] || [ "$what" = all ]; then
	k=$(qemu/kernel.sh perf)
	stage perf "$k" \
		"${BENCH_ICOUNT_ARGS:-tests=calib,pair,nthenn,bulk,random allocs=goalloc,kmalloc,cache,gcache,loop rounds=3 iters=5000}" icount
	pack icount
	log "QEMU icount benchmark run (1 vCPU, perf kernel; 1 ns = 1 instruction)"
	GA_ACCEL=icount qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" \
		-i build/bench-icount.cpio.gz -o results/bench-icount -c 1 -m 2G -t 1800 -M bench
	extract results/bench-icount icount qemu
fi

# The allocation-site profile's cost, instruction-exact: the pair and
# N-then-N with goalloc's profile_rate off, at Go's default rate (512 KiB),
# at 1 (every allocation recorded), and with the alloc and free events on
# (profile off), each a boot of its own.
if [ "$what" = profile ] || [ "$what" = all ]; then
	k=$(qemu/kernel.sh perf)
	: >"$out/raw-profile.csv"
	for rate in 0 524288 1 trace; do
		stage perf "$k" \
			"${BENCH_PROFILE_ARGS:-tests=pair,nthenn allocs=goalloc,loop sizes=16,256,2048 rounds=5 iters=5000}" \
			profile
		if [ "$rate" = trace ]; then
			# goalloc:alloc and goalloc:free on (ftrace's ring buffer,
			# overwritten as it fills), the profile off.
			printf '%s\n' "mount -t tracefs tracefs /sys/kernel/tracing" \
				"echo 1 >/sys/kernel/tracing/events/goalloc/alloc/enable" \
				"echo 1 >/sys/kernel/tracing/events/goalloc/free/enable" \
				>build/bench-profile-root/goalloc/bench.pre
		else
			echo "profile_rate=$rate" >build/bench-profile-root/goalloc/goalloc.args
		fi
		pack profile
		log "QEMU icount run, goalloc profile_rate=$rate"
		GA_ACCEL=icount qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" \
			-i build/bench-profile.cpio.gz -o "results/bench-profile-$rate" -c 1 -m 1G -t 900 -M bench
		extract "results/bench-profile-$rate" "profile-$rate" qemu
		sed "/^#/d;/^test,/d;s/^/$rate,/" "$out/raw-profile-$rate.csv" >>"$out/raw-profile.csv"
		rm -f "$out/raw-profile-$rate.csv"
	done
	sed -i '1i profile_rate,test,variant,size,alloc,round,ns_per_op,cycles_per_op' \
		"$out/raw-profile.csv"
fi

# NUMA, instruction-exact too: two nodes of one vCPU each (run-qemu.sh -n),
# the test on one CPU asking for its own node and for the other.
if [ "$what" = numa ] || [ "$what" = all ]; then
	k=$(qemu/kernel.sh perf)
	stage perf "$k" \
		"${BENCH_NUMA_ARGS:-tests=numa allocs=goalloc,kmalloc,cache,gcache,loop sizes=64,256,2048,16384 rounds=3 iters=5000}" numa
	pack numa
	log "QEMU icount NUMA benchmark run (2 vCPUs on 2 nodes, perf kernel)"
	GA_ACCEL=icount qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" \
		-i build/bench-numa.cpio.gz -o results/bench-numa -c 2 -n 2 -m 2G -t 1800 -M bench
	extract results/bench-numa numa qemu
fi

if [ "$what" = uml ] || [ "$what" = all ]; then
	k=$(qemu/kernel.sh uml)
	stage uml "$k" "${BENCH_ARGS:-rounds=5 iters=20000}"
	log "UML benchmark run (one CPU; the multi-CPU tests are skipped)"
	qemu/run-uml.sh -k "$k/linux" -r build/bench-uml-root -o results/bench-uml -m 2G \
		-t 1800 -M bench
	extract results/bench-uml uml uml
fi

if [ "$what" = tcg ] || [ "$what" = all ]; then
	k=$(qemu/kernel.sh perf)
	stage perf "$k" "${BENCH_ARGS:-rounds=5 iters=5000}"
	pack perf
	log "QEMU TCG benchmark run (${GA_CPUS:-4} vCPUs, perf kernel)"
	qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i build/bench-perf.cpio.gz \
		-o results/bench-tcg -c "${GA_CPUS:-4}" -m 2G -t 3600 -M bench
	extract results/bench-tcg tcg qemu
fi

if [ "$what" = userspace ] || [ "$what" = all ]; then
	log "userspace benchmark: /dev/goalloc against malloc and Boost.Interprocess"
	bench/userspace/run.sh -o "$out/userspace"
fi

if [ "$what" = trace ] || [ "$what" = all ]; then
	log "memory on a real kmalloc trace: bench/trace/debian-6.12-busybox.trace.xz"
	# Three guests: goalloc, kmalloc()'s caches, and SLUB from empty.
	bench/trace/replay.sh -a "goalloc kmalloc slub" "$out/trace"
	# Pictures of goalloc's heap at the replay's peak (its guest sent the
	# tables): per-class bars and the chunk map, into bench.md.
	build_libgoalloc "$GOALLOC_TOP/build/libgoalloc"
	tools/goalloc-pictures.py --log "$out/trace/goalloc/results.log" \
		--title "goalloc's heap at the peak of the replayed busybox boot trace" "$out"
fi

# Real modules (Documentation/routing.rst): ext4, jbd2 and mbcache of the
# 6.12 source under tools/routed-test.sh's file system workload, routed to
# goalloc and built normally (SLUB).  Not on the perf kernel: it has no
# block layer (no CONFIG_BLOCK, so no loop device and no ext4).  On
# Debian's stock kernel (no KASAN: the honest memory figures) and on the
# debug kernel (KASAN's records inflate SLUB's objects; lockdep and KASAN
# slow both sides).  Each round boots once per side, the order alternating
# from round to round, so that a drift of the (shared) host weighs on both.
# The figures: raw-routed.csv, then bench-report.py's section.
if [ "$what" = routed ] || [ "$what" = all ]; then
	files=${BENCH_FS_FILES:-2000} rounds=${BENCH_FS_ROUNDS:-3}
	rdir=$GOALLOC_TOP/results/bench-routed
	for kern in ${BENCH_FS_KERNELS:-stock debug}; do
		rm -rf "${rdir:?}/$kern"
		for r in $(seq 1 "$rounds"); do
			sides="goalloc slub"
			[ $((r % 2)) = 0 ] && sides="slub goalloc"
			for side in $sides; do
				log "routed run, round $r/$rounds: ext4 on $side, $files files ($kern kernel)"
				flag=(-k "$kern")
				[ "$side" = slub ] && flag+=(-s)
				tools/routed-test.sh "${flag[@]}" -n "$files" -o "$rdir/$kern/$side-$r" ||
					die "the routed $side run of round $r was not clean (see $rdir/$kern/$side-$r)"
			done
		done
	done
	tools/routed-bench.py "$rdir" >"$out/raw-routed.csv"
fi

case "$what" in
userspace|trace) ;;
*) tools/bench-report.py "$out" ;;
esac
echo "goalloc bench: results in $out (bench.md, bench.csv, *.png)"
