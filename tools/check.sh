#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# goalloc's test driver: "make check" runs every step, "make <step>" one.
#
# Usage: tools/check.sh {all|models|harness-test|kunit-uml|bench-budget|
#                        kunit-qemu|selftests|kunit-kcsan|kunit-rt|
#                        kasan-negative|routed|stock|lint|dkms|soak|kernels|
#                        prebuild}
#
# Each step prints a line per check; the run ends with "N passed, N failed"
# and exits non-zero if anything failed.  Logs of every guest run go to
# results/<step>/ (console.log, results.log, status, counts); the time each
# step took goes to results/timings.
#
# "soak" runs tools/soak.sh for SOAK_SECONDS (default 600) on each kernel of
# SOAK_KERNELS (default "debug kcsan rt"); "all" runs it for 60 seconds in
# total, split over those kernels.
set -uo pipefail
. "$(dirname "$0")/../qemu/lib.sh"

cd "$GOALLOC_TOP"
RES=$GOALLOC_TOP/results
BUILD=$GOALLOC_TOP/build
mkdir -p "$RES" "$BUILD"
P=0 F=0 S=0
t0=$(date +%s)

ok()   { P=$((P + 1)); echo "[$1] PASS $2"; }
bad()  { F=$((F + 1)); echo "[$1] FAIL $2${3:+: $3}"; }
skip() { S=$((S + 1)); echo "[$1] SKIP $2${3:+: $3}"; }
add_counts() { # RUNDIR
	local p=0 f=1 s=0
	[ -r "$1/counts" ] && read -r p f s <"$1/counts"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
}
# Each step's wall-clock time, printed at the end and kept in results/timings.
STEP="" STEP_T0=0 TIMES=()
step_end() {
	[ -n "$STEP" ] && TIMES+=("$(printf '%-24s %5ds' "$STEP" $(( $(date +%s) - STEP_T0 )))")
	STEP=""
}
step() {
	step_end
	STEP=$1 STEP_T0=$(date +%s)
	echo; echo "== $1 ($(( STEP_T0 - t0 ))s)"
}

KSRC=""
ksrc() { [ -n "$KSRC" ] || KSRC=$(src_tree); echo "$KSRC"; }

do_deps() {
	step deps
	tools/install-deps.sh --stock || { bad deps "tools/install-deps.sh failed"; return 1; }
}

# The spin models of the lock-free protocols (kmod/models/): each new
# protocol passes an exhaustive search, each old one still fails.
do_models() {
	step models
	local out=$RES/models
	rm -rf "$out"
	tools/models.sh -o "$out"
	add_counts "$out"
}

# The test kernels, built here (once, cached) so that a cold run's time shows
# where it goes; every step that boots one asks qemu/kernel.sh again.
# The test kernels "make check" boots (perf: the instruction budget's).
TEST_KERNELS=${KERNELS:-debug uml kcsan rt perf}
do_kernels() {
	local k
	for k in $TEST_KERNELS; do
		step "kernel $k"
		qemu/kernel.sh "$k" >/dev/null || bad kernels "$k kernel build"
	done
}

do_sizeclasses() {
	step sizeclasses
	if tools/mksizeclasses.py --check kmod/sizeclasses.c; then
		ok sizeclasses "kmod/sizeclasses.c matches tools/mksizeclasses.py"
	else
		bad sizeclasses "kmod/sizeclasses.c is stale"
	fi
}

do_harness_test() {
	step harness-test
	local k out=$RES/harness-test live=()
	rm -rf "$out"
	# One case boots a real guest (no modules) to prove a timeout is red.
	if k=$(qemu/kernel.sh debug); then
		qemu/mkinitramfs.sh "$BUILD/harness-root" "$BUILD/harness.cpio.gz" --
		live=(--kernel "$k/arch/x86/boot/bzImage" --initrd "$BUILD/harness.cpio.gz")
	fi
	tools/test-harness.py --ksrc "$(ksrc)" --out "$out" "${live[@]}"
	add_counts "$out"
}

# guest_modules KDIR NAME: build the modules for one test kernel.
guest_modules() {
	if ! build_modules "$1" "$BUILD/$2"; then
		bad "$2" "module build against $1"
		return 1
	fi
	ok "$2" "module build"
}

do_kunit_uml() {
	step kunit-uml
	local k out=$RES/kunit-uml
	k=$(qemu/kernel.sh uml) || { bad kunit-uml "UML kernel build"; return; }
	guest_modules "$k" uml || return
	qemu/mkinitramfs.sh "$BUILD/uml-root" - -- \
		"$BUILD/uml/kmod/goalloc.ko" "$BUILD/uml/kunit/goalloc_test.ko"
	qemu/run-uml.sh -k "$k/linux" -r "$BUILD/uml-root" -o "$out" -t 600
	qemu/verdict.py "$out" --kind uml --ksrc "$(ksrc)" --label kunit-uml \
		--expect-suites 1
	add_counts "$out"
}

# The instruction budget (bench/budget.txt, Documentation/benchmarks.rst):
# goalloc_bench.ko's pair, N-then-N and bulk tests at a few sizes on the perf
# kernel under QEMU -icount, where the guest's clock counts instructions, so
# the counts are exact and the same from run to run.  Each budget line is a
# PASS or FAIL (tools/bench-budget.py): a count above its budget (a slower
# fast path) fails, and so does one well below it (a speed-up must lower the
# budget in the same commit).  Built without test hooks, as make bench
# builds.  GOALLOC_KCFLAGS (extra compiler flags for the modules) is for
# proving the check can fail: Documentation/benchmarks.rst.
do_bench_budget() {
	step bench-budget
	local k out=$RES/bench-budget root=$BUILD/bench-budget-root mods=$BUILD/perf args
	rm -rf "$out"
	k=$(qemu/kernel.sh perf) || { bad bench-budget "perf kernel build"; return; }
	[ -n "${GOALLOC_KCFLAGS:-}" ] && mods=$BUILD/perf-kcflags
	if ! GOALLOC_NO_HOOKS=1 build_modules "$k" "$mods"; then
		bad bench-budget "module build against the perf kernel"
		return
	fi
	args=$(tools/bench-budget.py args) || { bad bench-budget "bench/budget.txt unreadable"; return; }
	qemu/mkinitramfs.sh "$root" - -- "$mods/kmod/goalloc.ko" "$mods/bench/goalloc_bench.ko"
	echo "$args" >"$root/goalloc/bench.args"
	pack_reproducible "$root" "$BUILD/bench-budget.cpio.gz"
	GA_ACCEL=icount qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" \
		-i "$BUILD/bench-budget.cpio.gz" -o "$out" -c 1 -m 1G -t 600 -M bench
	qemu/verdict.py "$out" --kind qemu --ksrc "$(ksrc)" --label bench-budget
	add_counts "$out"
	sed -n '/^GA-BENCH-BEGIN/,/^GA-BENCH-END/p' "$out/results.log" | sed '1d;$d' \
		>"$out/raw-icount.csv"
	tools/bench-budget.py check "$out/raw-icount.csv" --out "$out/budget"
	add_counts "$out/budget"
}

# vCPUs of the debug guest: 4, but no more than the host's CPUs.  Under TCG
# a vCPU holding a spinlock can be descheduled by the host while the others
# spin; with more vCPUs than host CPUs (and other guests running) that was
# seen to stall a CPU for minutes (an RCU stall report) with nothing wrong
# in the guest.  At least 2, so cross-CPU frees and CPU hotplug are tested.
guest_cpus() {
	local n
	n=$(nproc)
	[ "$n" -gt 4 ] && n=4
	[ "$n" -lt 2 ] && n=2
	echo "$n"
}

# The selftest binaries and libgoalloc's programs: userspace, static, the
# same for every guest kernel; built once per run.
USERSPACE_BUILT=""
build_userspace() {
	[ -n "$USERSPACE_BUILT" ] && return "$USERSPACE_BUILT"
	USERSPACE_BUILT=1
	if ! build_selftests "$BUILD/selftests"; then
		bad selftests "selftest build"
		return 1
	fi
	if ! build_libgoalloc "$BUILD/libgoalloc"; then
		bad selftests "libgoalloc build"
		return 1
	fi
	cp selftests/*.sh "$BUILD/selftests/"
	# goalloc_replay_test.sh's streams: the fsload trace's boot, both CPUs;
	# three records 0.5 s apart, which the replay must wait for; a header
	# of version 2, which it must refuse.
	if ! python3 bench/trace/trace2bin.py bench/trace/debian-6.12-fsload.trace.xz \
		"$BUILD/selftests/replay.bin" --max-events 40000 >"$BUILD/selftests/replay.txt" ||
	   ! printf '%s\n' \
		' t-1 [000] ..... 10.000000: kmalloc: ptr=ffff888000001000 bytes_req=64 bytes_alloc=64' \
		' t-1 [000] ..... 10.500000: kmalloc: ptr=ffff888000002000 bytes_req=64 bytes_alloc=64' \
		' t-1 [000] ..... 11.000000: kfree: ptr=ffff888000001000' |
	     python3 bench/trace/trace2bin.py /dev/stdin "$BUILD/selftests/replay-pace.bin" \
		>>"$BUILD/selftests/replay.txt" ||
	   ! python3 -c 'import struct, sys; sys.stdout.buffer.write(b"GAREPLAY" + struct.pack("<IIQII", 2, 12, 0, 0, 0))' \
		>"$BUILD/selftests/replay-v2.bin"; then
		bad selftests "replay streams"
		return 1
	fi
	USERSPACE_BUILT=0
}

# guest_tests KERNEL LABEL SELFTESTS TIMEOUT [CMDLINE]: boot test kernel
# KERNEL (debug, kcsan, rt) with goalloc and its KUnit suites, and with the
# selftests if SELFTESTS is 1, in one boot, with CMDLINE added to the
# kernel's command line; the verdict goes to results/LABEL.  The debug
# kernel (NUMA) boots with two nodes, a socket each: every suite runs on a
# two-node machine, and goalloc_numa's cross-node cases run.
guest_tests() {
	local name=$1 label=$2 with_st=$3 tmo=$4 extra=${5:-} k out=$RES/$2 st=() nodes=1 cpus
	cpus=$(guest_cpus)
	if [ "$name" = debug ] && [ $(( cpus % 2 )) = 0 ]; then nodes=2; fi
	k=$(qemu/kernel.sh "$name") || { bad "$label" "$name kernel build"; return; }
	guest_modules "$k" "$name" || return
	if [ "$with_st" = 1 ]; then
		build_userspace || return
		# The tests by their names (*_test, *_test.sh): other programs
		# built beside them (the soak's userspace side) are not tests.
		st=("$BUILD"/selftests/*_test "$BUILD"/selftests/*_test.sh -- \
		    "$BUILD/libgoalloc/goallocstat" "$BUILD/libgoalloc/arena-demo")
		# goalloc_tools_test.sh loads it to move goalloc's tables by a known amount.
		[ -e "$BUILD/$name/kunit/goalloc_hold.ko" ] &&
			st+=("$BUILD/$name/kunit/goalloc_hold.ko")
		# goalloc_replay_test.sh replays a trace's boot with them.
		[ -e "$BUILD/$name/bench/goalloc_replay.ko" ] &&
			st+=("$BUILD/$name/bench/goalloc_replay.ko" "$BUILD"/selftests/replay*.bin)
	fi
	qemu/mkinitramfs.sh "$BUILD/$label-root" "$BUILD/$label.cpio.gz" -- \
		"$BUILD/$name/kmod/goalloc.ko" "$BUILD/$name/kunit/goalloc_test.ko" -- \
		"${st[@]}"
	qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i "$BUILD/$label.cpio.gz" \
		-o "$out" -c "$cpus" -m 2G -n "$nodes" -t "$tmo" -a "$extra"
	qemu/verdict.py "$out" --kind qemu --ksrc "$(ksrc)" --label "$label" \
		--expect-suites 1
	add_counts "$out"
}

# The debug guest (KASAN, lockdep, kmemleak) runs the KUnit suites and the
# selftests in one boot.
do_kunit_qemu() {
	step "kunit-qemu + selftests"
	guest_tests debug kunit-qemu 1 900
}

# The race-detector guest (KCSAN, lockdep): the same suites and selftests.
# A KCSAN report involving goalloc fails the run; one inside the core kernel
# is counted in a NOTE (qemu/verdict.py, Documentation/testing.rst).  It
# boots with init_on_free=1 (and the RT guest with init_on_alloc=1, as
# Debian's kernels do): goalloc must honour both, as SLUB does, and the
# other guests run without them.
do_kunit_kcsan() {
	step "kunit-kcsan + selftests"
	guest_tests kcsan kunit-kcsan 1 1200 init_on_free=1
}

# The PREEMPT_RT guest (lockdep with raw-lock nesting, might-sleep checks):
# the KUnit suites, which drive every per-CPU section, the drain IPI and
# interrupt-context callers, where RT's sleeping locks go wrong.  The
# selftests (the /dev/goalloc ioctls, process context) only with
# GA_RT_SELFTESTS=1: they would add a third of a guest run to make check.
do_kunit_rt() {
	local st=${GA_RT_SELFTESTS:-0}
	step "kunit-rt$([ "$st" = 1 ] && echo ' + selftests')"
	guest_tests rt kunit-rt "$st" 900 init_on_alloc=1
}

# The negative test: goalloc_uaf.ko (kunit/uaf_negative.c) reads a freed
# goalloc object and frees it twice.  The run passes only if KASAN reports the
# use-after-free, goalloc reports the double free and, unloaded with the
# leaked object in use, that object's span, kmemleak reports the object (by
# its size) and nothing of goalloc's own, and nothing else is wrong.
do_kasan_negative() {
	step kasan-negative
	local k out=$RES/kasan-negative
	k=$(qemu/kernel.sh debug) || { bad kasan-negative "debug kernel build"; return; }
	guest_modules "$k" debug || return
	if [ ! -e "$BUILD/debug/kunit/goalloc_uaf.ko" ]; then
		bad kasan-negative "goalloc_uaf.ko not built (needs CONFIG_KASAN_GENERIC)"
		return
	fi
	qemu/mkinitramfs.sh "$BUILD/kasan-negative-root" "$BUILD/kasan-negative.cpio.gz" -- \
		"$BUILD/debug/kmod/goalloc.ko" "$BUILD/debug/kunit/goalloc_uaf.ko"
	qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i "$BUILD/kasan-negative.cpio.gz" \
		-o "$out" -c 2 -m 1G -t 600
	qemu/verdict.py "$out" --kind qemu --ksrc "$(ksrc)" --label kasan-negative \
		--expect-report 'BUG: KASAN: use-after-free in goalloc_uaf_init\b' \
		--expect-report 'goalloc: bad free of \S+ \(double free\) from goalloc_uaf_init\b' \
		--expect-report 'goalloc: class [0-9]+: 1 objects never freed' \
		--expect-report 'goalloc: 1 heap pages still in use at unload \(1 spans\)' \
		--expect-report 'unreferenced object 0x[0-9a-f]+ \(size 256\):' \
		--expect-report 'kmemleak: 1 new suspected memory leaks'
	add_counts "$out"
}

# Real kernel code on goalloc: ext4, jbd2 and mbcache, and zram with
# zsmalloc, of the 6.12 source, unmodified, built with kmod/goalloc_slab.h,
# under a file system workload and block and swap traffic in the debug guest
# (tools/routed-test.sh, Documentation/routing.rst).  GA_FS_FILES files and
# GA_ZRAM_MIB MiB (defaults 1000 and 8 here: the short workloads).
do_routed() {
	step routed
	local out=$RES/routed-ext4
	rm -rf "$out"
	tools/routed-test.sh -n "${GA_FS_FILES:-1000}" -z "${GA_ZRAM_MIB:-8}" -o "$out"
	add_counts "$out"
}

# Debian's stock kernels: the highest installed 6.12 and 6.1 amd64 headers.
stock_kver() { # PREFIX
	ls -d /usr/src/linux-headers-"$1"*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' |
		sort -V | tail -1
}

do_stock() {
	step stock
	local v612 v61 v out=$RES/stock-6.12
	v612=$(stock_kver 6.12.) v61=$(stock_kver 6.1.)
	for v in "$v612" "$v61"; do
		[ -n "$v" ] || { bad stock "no stock headers installed"; continue; }
		if build_modules "/usr/src/linux-headers-$v" "$BUILD/stock-$v"; then
			ok stock "module build against Debian $v headers"
		else
			bad stock "module build against Debian $v headers"
		fi
	done
	[ -e "$BUILD/stock-$v612/kmod/goalloc.ko" ] || return
	[ -e "/boot/vmlinuz-$v612" ] || { bad stock "/boot/vmlinuz-$v612 missing"; return; }
	qemu/mkinitramfs.sh "$BUILD/stock-root" "$BUILD/stock.cpio.gz" -- \
		"$BUILD/stock-$v612/kmod/goalloc.ko"
	qemu/run-qemu.sh -k "/boot/vmlinuz-$v612" -i "$BUILD/stock.cpio.gz" \
		-o "$out" -c 2 -m 1G -t 600 -M insmod
	qemu/verdict.py "$out" --kind qemu --ksrc "$(ksrc)" --label "stock-$v612"
	add_counts "$out"
}

do_lint() {
	step lint
	local k src files log=$RES/lint
	mkdir -p "$log"
	src=$(ksrc)
	files=$(git ls-files --cached --others --exclude-standard 'kmod/*.[ch]' 'kunit/*.[ch]' 'bench/*.[ch]' 'uapi/*.h' | grep -v '^kmod/compat.h$\|^kmod/trace.h$')
	# compat.h defines the pre-6.2 stand-in for EXPORT_SYMBOL_IF_KUNIT, which
	# checkpatch takes for a misplaced export: those two checks are off for
	# that one file only.  trace.h is laid out as TRACE_EVENT() wants (as the
	# kernel's include/trace/events/), which two layout checks flag.
	if "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f $files >"$log/checkpatch.log" 2>&1 &&
	   "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--ignore EXPORT_SYMBOL,MACRO_ARG_REUSE -f kmod/compat.h >>"$log/checkpatch.log" 2>&1 &&
	   "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE -f kmod/trace.h >>"$log/checkpatch.log" 2>&1; then
		ok lint "checkpatch --strict ($(( $(echo $files | wc -w) + 2 )) files)"
	else
		grep -v '^total:' "$log/checkpatch.log"
		bad lint "checkpatch --strict"
	fi
	# The one-way data path (kmod/layers.txt, Documentation/design.rst):
	# no file of kmod/ includes or calls a layer above its own.
	if tools/layers.py >"$log/layers.log" 2>&1; then
		ok lint "layers: $(tail -1 "$log/layers.log" | sed 's/^layers: //')"
	else
		grep -v '^layers: [0-9]* files' "$log/layers.log"
		bad lint "layers: kmod/ calls or includes up (kmod/layers.txt)"
	fi
	# The documentation parses: no malformed table, unterminated literal
	# or short underline (the kernel's Sphinx directives aside).
	if tools/rstcheck.py Documentation/*.rst >"$log/rst.log" 2>&1; then
		ok lint "$(tail -1 "$log/rst.log")"
	else
		cat "$log/rst.log"
		bad lint "reStructuredText (tools/rstcheck.py)"
	fi
	k=$(qemu/kernel.sh debug) || { bad lint "debug kernel build"; return; }
	# C=2 checks every file, built or not; the tree is kept in the cache
	# (as build_modules keeps its own), so only what changed is compiled.
	local tree=$GOALLOC_CACHE/modules/sparse-$(kernel_key "$k" | sha1sum | cut -c1-12)
	mkdir -p "$GOALLOC_CACHE/modules"
	if ! (
		flock 9 || exit 1
		copy_module_sources "$tree" "$(realpath "$k")" || exit 1
		make -C "$k" M="$tree" C=2 CHECK="sparse" -j"$(nproc)" modules &&
			cache_used "$tree"
	) 9>"$tree.lock" >"$log/sparse.log" 2>&1; then
		echo "error: make C=2 did not finish" >>"$log/sparse.log"
	fi
	if grep -E '(warning|error):' "$log/sparse.log"; then
		bad lint "sparse (make C=2)"
	else
		ok lint "sparse (make C=2)"
	fi
}

do_dkms() {
	step dkms
	local v tree
	v=$(stock_kver 6.12.)
	tree=$BUILD/dkms
	rm -rf "$tree"
	mkdir -p "$tree/tree" "$tree/src"
	mkdir -p "$tree/src/goalloc-0.1"
	rsync -a --exclude build --exclude results --exclude .git ./ "$tree/src/goalloc-0.1/"
	if dkms build --dkmstree "$tree/tree" --sourcetree "$tree/src" -m goalloc -v 0.1 \
		-k "$v" >"$tree/dkms.log" 2>&1 &&
	   ls "$tree"/tree/goalloc/0.1/"$v"/x86_64/module/goalloc.ko* >/dev/null 2>&1; then
		ok dkms "dkms build against Debian $v headers"
	else
		cat "$tree/dkms.log"
		bad dkms "dkms build against Debian $v headers"
	fi
}

# do_soak SECONDS: tools/soak.sh (written apart from this driver) on each
# kernel of SOAK_KERNELS, SECONDS each; its verdict is OUTDIR/counts.
do_soak() {
	local secs=$1 k
	if [ ! -x tools/soak.sh ]; then
		step soak
		skip soak "tools/soak.sh does not exist yet"
		return
	fi
	for k in ${SOAK_KERNELS:-debug kcsan rt}; do
		step "soak $k (${secs}s)"
		rm -rf "$RES/soak-$k"
		tools/soak.sh -k "$k" -s "$secs" -o "$RES/soak-$k"
		add_counts "$RES/soak-$k"
	done
}

# The module trees of the KCSAN, RT and stock steps: made in a side lane
# (below) beside routed's guest, they leave those steps an up-to-date tree.
do_prebuild() {
	step prebuild
	local name k v built=0 tried=0
	for name in kcsan rt; do
		tried=$((tried + 1))
		k=$(qemu/kernel.sh "$name") && build_modules "$k" "$BUILD/$name" &&
			built=$((built + 1))
	done
	for v in "$(stock_kver 6.12.)" "$(stock_kver 6.1.)"; do
		[ -n "$v" ] || continue
		tried=$((tried + 1))
		build_modules "/usr/src/linux-headers-$v" "$BUILD/stock-$v" && built=$((built + 1))
	done
	# Not a check: the steps that use these trees build them again and
	# count a failure there.
	echo "[prebuild] $built of $tried module trees built"
}

# The side lanes: steps that boot no guest of several vCPUs (kunit-uml's UML
# kernel has one CPU; bench-budget's -icount guest one vCPU, whose counts no
# host load changes) run one after another in the background, niced, while
# the debug guest runs its suites and selftests; that guest keeps about one
# host core busy of the two (its KUnit cases mostly run on one vCPU), and the
# lane takes the other.  A second lane makes the later guests' module trees
# (prebuild) while routed's guest runs.  A warm make check took 1,355-1,510 s
# with them in line.  Each is a "tools/check.sh STEP" of its own; side_wait
# prints its output and adds its counts and its time.
SIDE_PID="" SIDE_LOG="" SIDE_STEPS=() SIDE_N=0
side_start() {
	SIDE_STEPS=("$@")
	SIDE_N=$((SIDE_N + 1))
	SIDE_LOG=$RES/side-lane-$SIDE_N.log
	(
		# A background subshell ignores SIGINT: take the default back, so
		# an interrupted make check does not leave the lane going on.
		trap - INT TERM
		for s in "$@"; do
			echo "== side lane: $s"
			nice -n 19 "$GOALLOC_TOP/tools/check.sh" "$s"
			rc=$?
			echo "== side lane: $s rc=$rc"
			[ "$rc" -ge 128 ] && break
		done
	) >"$SIDE_LOG" 2>&1 &
	SIDE_PID=$!
	trap side_kill EXIT
	echo; echo "== side lane started: ${SIDE_STEPS[*]} (output: $SIDE_LOG)"
}
side_kill() {
	[ -n "$SIDE_PID" ] && pkill -TERM -P "$SIDE_PID" 2>/dev/null
	[ -n "$SIDE_PID" ] && kill "$SIDE_PID" 2>/dev/null
	SIDE_PID=""
}
# side_wait: each sub-run's block, from "== side lane: STEP" to its "rc=N"
# line, must end with its own verdict ("N passed, N failed[, N skipped]",
# the block's last such line); its time comes from "goalloc STEP: Ns".  A
# block without a verdict, or with a non-zero status and no failure
# counted, is a failure.
side_wait() {
	local line cur="" verdict="" s p f sk
	[ -n "$SIDE_PID" ] || return
	step "side lane (waiting)"
	wait "$SIDE_PID"
	SIDE_PID=""
	trap - EXIT
	cat "$SIDE_LOG"
	side_block_end() { # STEP RC
		if [ -z "$verdict" ]; then
			bad side-lane "$1 ended without a verdict (status $2)"
			return
		fi
		read -r p f sk <<<"$verdict"
		P=$((P + p)) F=$((F + f)) S=$((S + sk))
		[ "$2" = 0 ] || [ "$f" -gt 0 ] || bad side-lane "$1 exited with status $2"
	}
	while IFS= read -r line; do
		if [[ $line =~ ^==\ side\ lane:\ ([a-z-]+)\ rc=([0-9]+)$ ]]; then
			side_block_end "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
			cur=""
		elif [[ $line =~ ^==\ side\ lane:\ ([a-z-]+)$ ]]; then
			cur=${BASH_REMATCH[1]} verdict=""
		elif [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
			verdict="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[4]:-0}"
		elif [[ $line =~ ^goalloc\ ([a-z-]+):\ ([0-9]+)s\; ]]; then
			TIMES+=("$(printf '%-24s %5ds' "${BASH_REMATCH[1]} (side)" "${BASH_REMATCH[2]}")")
		fi
	done <"$SIDE_LOG"
	# A lane cut short: the step it was in never printed its status.
	[ -z "$cur" ] || bad side-lane "$cur did not finish"
	for s in "${SIDE_STEPS[@]}"; do
		grep -qx "== side lane: $s rc=[0-9]*" "$SIDE_LOG" ||
			{ [ "$s" = "$cur" ] || bad side-lane "$s did not run"; }
	done
}

# The 60 seconds of soak in "make check", split over the soak kernels.
check_soak_seconds() {
	local n
	n=$(echo ${SOAK_KERNELS:-debug kcsan rt} | wc -w)
	echo $(( 60 / (n > 0 ? n : 1) ))
}

what=${1:-all}
case "$what" in
all)
	do_deps || exit 1
	do_sizeclasses
	do_harness_test
	do_kernels
	side_start models lint kunit-uml bench-budget dkms
	do_kunit_qemu
	do_kasan_negative
	side_wait
	side_start prebuild
	do_routed
	side_wait
	do_kunit_kcsan
	do_kunit_rt
	do_soak "$(check_soak_seconds)"
	do_stock
	;;
kernels) KERNELS=${KERNELS:-debug uml kcsan rt perf}; TEST_KERNELS=$KERNELS; do_deps && do_kernels ;;
prebuild) do_deps && do_prebuild ;;
harness-test) do_deps && do_harness_test ;;
models) do_deps && do_models ;;
kunit-uml) do_deps && do_kunit_uml ;;
bench-budget) do_deps && do_bench_budget ;;
kunit-qemu|selftests) do_deps && do_kunit_qemu ;;
kunit-kcsan) do_deps && do_kunit_kcsan ;;
kunit-rt) do_deps && do_kunit_rt ;;
soak)
	do_deps || exit 1
	if [ ! -x tools/soak.sh ]; then
		bad soak "tools/soak.sh does not exist"
	else
		do_soak "${SOAK_SECONDS:-600}"
	fi
	;;
kasan-negative) do_deps && do_kasan_negative ;;
routed) do_deps && do_routed ;;
stock) do_deps && do_stock ;;
lint) do_deps && do_lint ;;
dkms) do_deps && do_dkms ;;
*) die "unknown step $what" ;;
esac

step_end
echo
printf '%s\n' "${TIMES[@]}" "$(printf '%-24s %5ds' total $(( $(date +%s) - t0 )))" |
	tee "$RES/timings"
echo "goalloc $what: $(( $(date +%s) - t0 ))s; logs in $RES"
if [ "$S" -gt 0 ]; then
	echo "$P passed, $F failed, $S skipped"
else
	echo "$P passed, $F failed"
fi
[ "$F" = 0 ]
