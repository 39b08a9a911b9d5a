#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check goalloc's lock-free protocols exhaustively with spin
# (kmod/models/*.pml, described in kmod/models/README.rst).
#
# Usage: tools/models.sh [-o OUTDIR] [-k] [-j JOBS] [NAME...]
#   -o OUTDIR  also write OUTDIR/counts ("P F S") and each check's pan
#              output and counterexample trail into OUTDIR
#   -k         keep the scratch directory (printed at the end)
#   -j JOBS    checks run in parallel (default: the number of CPUs)
#   NAME       run only the checks whose name contains NAME
#
# Each check builds one variant of a model (spin -a with its defines; gcc
# -DSAFETY -DNOREDUCE), runs
# the verifier and compares the verdict with the expected one: "pass" (an
# exhaustive search, no error, search depth not too small) or "fail" (an
# assertion violation: the model of the old code must still find its bug,
# or the model has lost its teeth).  One PASS/FAIL line per check, with
# the states stored; a non-zero exit if any check failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
models=$top/kmod/models
outdir="" keep=0 jobs=$(nproc 2>/dev/null || echo 2)
while getopts "o:kj:" opt; do
	case "$opt" in
	o) outdir=$OPTARG ;;
	k) keep=1 ;;
	j) jobs=$OPTARG ;;
	*) sed -n '5,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# name  model  expect  defines  (pan search depth: DEPTH below)
checks=(
	"span_free:new            span_free.pml      pass"
	"span_free:old            span_free.pml      fail  -DOLD"
	"span_free:old-take       span_free.pml      fail  -DOLD_TAKE"
	"span_free:old-sweep      span_free.pml      fail  -DOLD_SWEEP"
	"span_free:old-retire     span_free.pml      fail  -DOLD_RETIRE"
	"span_free:old-hint       span_free.pml      fail  -DOLD_HINT"
	"span_free:no-pin         span_free.pml      fail  -DNO_PIN"
	"span_free:no-settle      span_free.pml      fail  -DNO_SETTLE"
	"span_free:pin-late       span_free.pml      fail  -DPIN_LATE"
	"mcache_section:new       mcache_section.pml pass"
	"mcache_section:new-ipi   mcache_section.pml pass  -DNEW_IPI"
	"mcache_section:old       mcache_section.pml fail  -DOLD"
	"mcache_section:old-free  mcache_section.pml fail  -DOLD_FREE"
	"mcache_section:old-ipi   mcache_section.pml fail  -DOLD_IPI"
	"mcache_section:new-add   mcache_section.pml pass  -DADD_START"
	"mcache_section:old-add   mcache_section.pml fail  -DADD_START -DOLD_ADD"
	"mcache_section:stale-last mcache_section.pml fail -DSTALE_LAST"
	"mcache_section:no-forget mcache_section.pml fail -DNO_FORGET"
	"mprof_slot:new           mprof_slot.pml     pass"
	"mprof_slot:last-wins     mprof_slot.pml     fail  -DLAST_WINS"
	"mprof_slot:forget-one    mprof_slot.pml     fail  -DFORGET_ONE"
	"span_map:new             span_map.pml       pass"
	"span_map:old-publish     span_map.pml       fail  -DOLD_PUBLISH"
	"span_map:no-rcu-span     span_map.pml       fail  -DNO_RCU_SPAN"
	"span_map:no-rcu-region   span_map.pml       fail  -DNO_RCU_REGION"
	"span_map:no-rcu-table    span_map.pml       fail  -DNO_RCU_TABLE"
	"span_map:no-zero-region  span_map.pml       fail  -DNO_ZERO_REGION"
	"span_map:empty-table     span_map.pml       fail  -DEMPTY_TABLE"
	"span_map:kill-late       span_map.pml       fail  -DKILL_LATE"
	"span_map:no-count        span_map.pml       fail  -DNO_COUNT"
)
DEPTH=100000
# pan.c is large and each state space small: an unoptimised build is the
# faster of the two overall (about 2 s vs 11 s of gcc for a second of
# search).  GOALLOC_MODELS_OPT=-O2 for long runs with larger bounds.
OPT=${GOALLOC_MODELS_OPT:--O0}

P=0 F=0 S=0
fail_setup() {
	echo "[models] FAIL $1"
	if [ -n "$outdir" ]; then
		mkdir -p "$outdir" && echo "0 1 0" >"$outdir/counts"
	fi
	exit 1
}

for tool in spin gcc; do
	command -v "$tool" >/dev/null 2>&1 ||
		fail_setup "$tool not found: install it (Debian: apt-get install -y $tool; tools/install-deps.sh)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/goalloc-models.XXXXXX") || fail_setup "mktemp failed"
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
[ -z "$outdir" ] || mkdir -p "$outdir" || fail_setup "cannot create $outdir"

# One check, in its own directory: writes verdict ("PASS ..."/"FAIL ...") to $dir/verdict.
run_check() { # NAME MODEL EXPECT DEFINES...
	local name=$1 model=$2 expect=$3
	shift 3
	local dir=$work/${name//:/-} states depth errors t0 t1
	mkdir -p "$dir"
	cp "$models/$model" "$dir/"
	t0=$(date +%s)
	(
		cd "$dir" || exit 1
		spin "$@" -a "$model" >spin.log 2>&1 || { echo "spin -a failed" >reason; exit 1; }
		# NOREDUCE: the models use "provided" clauses (an interrupt
		# freezes the task), which partial-order reduction does not honour.
		gcc "$OPT" -w -DSAFETY -DNOREDUCE -o pan pan.c >gcc.log 2>&1 ||
			{ echo "gcc failed" >reason; exit 1; }
		./pan -m"$DEPTH" >pan.out 2>&1
		exit 0
	) || { echo "FAIL $name: $(cat "$dir/reason" 2>/dev/null)" >"$dir/verdict"; return; }
	t1=$(date +%s)
	states=$(awk '/states, stored/ {print $1; exit}' "$dir/pan.out")
	depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$dir/pan.out" | head -1)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.out" | head -1)
	local info="${states:-?} states, depth ${depth:-?}, $((t1 - t0))s"
	if [ -z "$errors" ]; then
		echo "FAIL $name: pan gave no verdict" >"$dir/verdict"
	elif grep -q "max search depth too small" "$dir/pan.out"; then
		echo "FAIL $name: search depth $DEPTH too small ($info)" >"$dir/verdict"
	elif [ "$expect" = pass ]; then
		if [ "$errors" = 0 ]; then
			echo "PASS $name: exhaustive, no violation ($info)" >"$dir/verdict"
		else
			echo "FAIL $name: $(grep -m1 '^pan:' "$dir/pan.out") ($info)" >"$dir/verdict"
		fi
	else
		if [ "$errors" != 0 ] && grep -q "assertion violated" "$dir/pan.out"; then
			echo "PASS $name: old protocol violates as expected: $(grep -m1 'assertion violated' "$dir/pan.out" | sed 's/^pan:[0-9]*: //') ($info)" >"$dir/verdict"
		elif [ "$errors" != 0 ]; then
			echo "FAIL $name: expected an assertion violation: $(grep -m1 '^pan:' "$dir/pan.out") ($info)" >"$dir/verdict"
		else
			echo "FAIL $name: the old protocol passed: the model no longer finds its bug ($info)" >"$dir/verdict"
		fi
	fi
	# A counterexample, replayed: keep it with the output.
	if [ -f "$dir/$model.trail" ]; then
		(cd "$dir" && spin "$@" -t -p -g -l "$model" >trail.txt 2>&1)
	fi
}

selected=()
for c in "${checks[@]}"; do
	read -r name _ <<<"$c"
	if [ $# -gt 0 ]; then
		match=0
		for want in "$@"; do
			[[ $name == *"$want"* ]] && match=1
		done
		[ "$match" = 1 ] || { S=$((S + 1)); continue; }
	fi
	selected+=("$c")
done

running=0
for c in "${selected[@]}"; do
	# shellcheck disable=SC2086
	run_check $c &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

for c in "${selected[@]}"; do
	read -r name model _ <<<"$c"
	dir=$work/${name//:/-}
	verdict=$(cat "$dir/verdict" 2>/dev/null || echo "FAIL $name: no verdict")
	echo "[models] $verdict"
	case "$verdict" in
	PASS*) P=$((P + 1)) ;;
	*) F=$((F + 1)) ;;
	esac
	if [ -n "$outdir" ]; then
		cp "$dir/pan.out" "$outdir/${name//:/-}.pan" 2>/dev/null
		cp "$dir/trail.txt" "$outdir/${name//:/-}.trail" 2>/dev/null
	fi
done

echo "models: $P passed, $F failed${S:+, $S skipped}"
[ -z "$outdir" ] || echo "$P $F $S" >"$outdir/counts"
[ "$keep" = 0 ] || echo "models: scratch kept in $work"
[ "$F" = 0 ]
