#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the instructions of a fast path go, one by one.
#
# Usage: tools/insn-trace.sh [SIZE] [TEST]   (defaults: 256 pair; TEST is
#        pair, nthenn or bulk)
#
# Boots the perf kernel under QEMU -icount (as make bench-budget does) with
# goalloc_bench.ko running TEST at SIZE, twice: once to
# learn where the modules land (the same on every boot of one build: no
# KASLR, deterministic guest), once with gdb attached, single-stepping a few
# whole iterations of each allocator's loop from one call of its entry
# function to the next (goalloc_alloc, __kmalloc_noprof,
# kmem_cache_alloc_noprof; for bulk, goalloc_alloc_bulk and
# kmem_cache_alloc_bulk_noprof with 8 objects a call).  Prints instructions per iteration, per
# function and in order; the executed PCs are in results/insn-trace/.
# The loop's own instructions are in every row (the same loop for all).
# INSN_TRACE_FN, INSN_TRACE_SKIP and INSN_TRACE_REPS trace goalloc from
# another entry function, after that many calls, for that many iterations
# (default goalloc_alloc, 500, 4): e.g. INSN_TRACE_FN=goalloc_free with
# INSN_TRACE_SKIP=3978 steps the frees of nthenn's n256 in order.
# INSN_TRACE_ARGS replaces goalloc_bench.ko's parameters (default
# "tests=TEST sizes=SIZE rounds=1 iters=2000 allocs=goalloc,kmalloc,cache"):
# the heap's state at a size depends on the sizes run before it.
# Stepping distorts time: the guest clock runs on while gdb holds it, so
# the trim pass (scavenge_delay_ms after a request) lands far more often
# than in make bench, and a slow path may release and grow chunks round
# after round here that never does there.  INSN_TRACE_GOALLOC_ARGS gives
# goalloc.ko parameters: "scavenge_delay_ms=3600000" keeps the passes out,
# as they are out of nearly every round of make bench (n32 at 1024 bytes
# after 4096: 164.3 an object stepped, 165.8 in make bench; with the
# passes, 245).  Check a slow path's figure against make bench's.
set -euo pipefail
. "$(dirname "$0")/../qemu/lib.sh"
cd "$GOALLOC_TOP"
export GOALLOC_NO_HOOKS=1

size=${1:-256} test=${2:-pair}
out=$GOALLOC_TOP/results/insn-trace
rm -rf "$out"
mkdir -p "$out"
command -v gdb >/dev/null || die "gdb is needed (apt-get install gdb)"

k=$(qemu/kernel.sh perf)
root=build/insn-trace-root
build_modules "$k" build/perf
qemu/mkinitramfs.sh "$root" - -- build/perf/kmod/goalloc.ko build/perf/bench/goalloc_bench.ko
echo "${INSN_TRACE_ARGS:-tests=$test sizes=$size rounds=1 iters=2000 allocs=goalloc,kmalloc,cache}" \
	>"$root/goalloc/bench.args"
[ -n "${INSN_TRACE_GOALLOC_ARGS:-}" ] && echo "$INSN_TRACE_GOALLOC_ARGS" >"$root/goalloc/goalloc.args"
pack_reproducible "$root" build/insn-trace.cpio.gz

run() { # OUTDIR
	GA_ACCEL=icount qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" \
		-i build/insn-trace.cpio.gz -o "$1" -c 1 -m 2G -t 600 -M bench
}

log "insn-trace: where the modules land"
run "$out/probe"
grep -q '^GA-SECTIONS goalloc_bench' "$out/probe/results.log" ||
	die "no GA-SECTIONS lines (see $out/probe)"

# Symbols: vmlinux's, and each module's at its section's load address.
syms=$out/syms
awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' "$k/System.map" >"$syms"
modsyms() { # NAME KO
	local line
	line=$(grep "^GA-SECTIONS $1 " "$out/probe/results.log" | head -1)
	python3 - "$2" "$line" >>"$syms" <<'PY'
import subprocess, sys
ko, line = sys.argv[1], sys.argv[2].split()[2:]
base = dict(kv.split("=") for kv in line)
for ln in subprocess.run(["objdump", "-t", ko], capture_output=True,
                         text=True).stdout.splitlines():
    f = ln.split()
    if len(f) >= 6 and "F" in f[-4:-2] and f[-3] in base:
        print("%x %s" % (int(base[f[-3]], 16) + int(f[0], 16), f[-1]))
PY
}
modsyms goalloc build/perf/kmod/goalloc.ko
modsyms goalloc_bench build/perf/bench/goalloc_bench.ko

addr() { awk -v n="$1" '$2 == n { print $1; exit }' "$syms"; }
port=$((20000 + RANDOM % 20000))
{
	echo "port $port"
	if [ "$test" = bulk ]; then
		# The n8 variant (the first): 250 calls of 8 objects each.
		echo "goalloc $(addr goalloc_alloc_bulk) 100 3"
		echo "kmem_cache $(addr kmem_cache_alloc_bulk_noprof) 100 3"
	else
		echo "goalloc $(addr "${INSN_TRACE_FN:-goalloc_alloc}")" \
			"${INSN_TRACE_SKIP:-500} ${INSN_TRACE_REPS:-4}"
		echo "kmalloc $(addr __kmalloc_noprof) 500 4"
		echo "kmem_cache $(addr kmem_cache_alloc_noprof) 500 4"
	fi
} >"$out/plan"

log "insn-trace: stepping $test at $size bytes under gdb"
GA_QEMU_ARGS="-gdb tcp::$port -S" run "$out/trace" &
qpid=$!
sleep 2
timeout 600 gdb -nx -batch \
	-ex "python import sys; sys.argv = ['insn-trace.py', 'gdb', '$out/plan', '$out/pcs']" \
	-x tools/insn-trace.py >"$out/gdb.log" 2>&1 || die "gdb failed (see $out/gdb.log)"
wait $qpid || true
tools/insn-trace.py report "$out/pcs" "$syms" | tee "$out/report.txt"
