#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The soak: goalloc under random load from every CPU and every context for
# a while, on one test kernel (Documentation/soak.rst).
#
# Usage: tools/soak.sh -k {debug|kcsan|rt} -s SECONDS -o OUTDIR
#
# Builds the modules and the userspace hammer for that kernel, boots it
# under QEMU with every vCPU, and runs goalloc_soak.ko (kunit/soak.c) with
# the guest side (tools/soak-guest.sh: CPU hotplug, drop_caches,
# goalloc_soak_user) for SECONDS.  The run is judged by qemu/verdict.py
# (clean end, modules loaded and unloaded, the userspace TAP, no kernel
# report, no kmemleak leak) and by the soak's own checks below.  OUTDIR gets
# the guest's logs, "summary" (the numbers, one line) and "counts"
# ("passed failed skipped").  Exit status 0 only if every check passed.
set -uo pipefail
. "$(dirname "$0")/../qemu/lib.sh"

kind="" secs="" out=""
while getopts k:s:o: opt; do
	case $opt in
	k) kind=$OPTARG ;; s) secs=$OPTARG ;; o) out=$OPTARG ;;
	*) die "usage: $0 -k {debug|kcsan|rt} -s SECONDS -o OUTDIR" ;;
	esac
done
case "$kind" in debug|kcsan|rt) ;; *) die "-k must be debug, kcsan or rt" ;; esac
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "-s SECONDS must be a positive integer"
[ -n "$out" ] || die "-o OUTDIR is required"
mkdir -p "$out"
out=$(realpath "$out")
rm -f "$out/counts" "$out/summary"

cd "$GOALLOC_TOP"
BUILD=$GOALLOC_TOP/build
label=soak-$kind

# Before the guest runs, a failure is one failed check.
fail_early() {
	echo "[$label] FAIL $1"
	echo "0 1 0" >"$out/counts"
	exit 1
}

# As tools/check.sh: 4 vCPUs at most, no more than the host's CPUs, at least 2.
cpus=$(nproc)
[ "$cpus" -gt 4 ] && cpus=4
[ "$cpus" -lt 2 ] && cpus=2

k=$(qemu/kernel.sh "$kind") || fail_early "$kind kernel build"
# The modules are built where tools/check.sh builds them for this kernel's
# KUnit guest (same flags), so within "make check" this build has nothing
# left to do.
m=$BUILD/$kind
b=$BUILD/soak-$kind
build_modules "$k" "$m" || fail_early "module build against $k"
[ -e "$m/kunit/goalloc_soak.ko" ] || fail_early "goalloc_soak.ko not built (no CONFIG_KUNIT?)"
build_selftests "$BUILD/soak-selftests" || fail_early "selftest build"
qemu/mkinitramfs.sh "$b-root" "$b.cpio.gz" -- \
	"$m/kmod/goalloc.ko" "$m/kunit/goalloc_soak.ko" -- -- \
	"$BUILD/soak-selftests/goalloc_soak_user" tools/soak-guest.sh ||
	fail_early "initramfs"

# Boot and teardown take minutes under TCG with the debug kernel's checkers
# (kmemleak's last scans alone about one), and on a host busy with other
# work (kernel builds, other guests) a 60-second soak was seen to take 15
# minutes: the limit is twice the soak plus 20 minutes.
qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i "$b.cpio.gz" -o "$out" \
	-c "$cpus" -m 1G -t $((2 * secs + 1200)) -M soak -a "GA_SOAK_SECONDS=$secs"
qemu/verdict.py "$out" --kind qemu --ksrc "$(src_tree)" --label "$label"

# The soak's own checks; they add to the verdict's counts.
python3 - "$out" "$label" "$kind" "$secs" <<'PY'
import re
import sys

out, label, kind, secs = sys.argv[1:5]
con = open(out + "/console.log", errors="replace").read()
res = open(out + "/results.log", errors="replace").read()
p, f, s = map(int, open(out + "/counts").read().split())


def check(ok, what, detail=""):
    global p, f
    if ok:
        p += 1
    else:
        f += 1
    print("[%s] %s %s%s" % (label, "PASS" if ok else "FAIL", what,
                            (": " + detail) if detail else ""))


def fields(text, tag):
    """key=value pairs of the last line holding tag, or None."""
    lines = [ln for ln in text.splitlines() if tag in ln]
    if not lines:
        return None
    return dict(re.findall(r"(\w+)=(\S+)", lines[-1].split(tag, 1)[1]))


def num(d, k):
    try:
        return int(d.get(k, "-1"))
    except ValueError:
        return -1


result = fields(con, "goalloc_soak: SOAK-RESULT")
end = fields(con, "goalloc_soak: SOAK-END")
heap = fields(res, "GA-SOAK-HEAP")
user = fields(res, "SOAK-USER")
hot = fields(res, "GA-SOAK-HOTPLUG")
vm0 = fields(res, "GA-SOAK-VM-BEFORE") or {}
vm1 = fields(res, "GA-SOAK-VM-AFTER") or {}
cpu = fields(res, "GA-SOAK-CPU") or {}
prof = fields(res, "GA-SOAK-PROFILE") or {}

check(result is not None, "goalloc_soak printed SOAK-RESULT")
check(end is not None, "goalloc_soak printed SOAK-END")
result, end, heap, user, hot = (d or {} for d in (result, end, heap, user, hot))

m = re.search(r"SOAK-MISMATCH.*", con)
check(num(end, "mismatches") == 0, "kernel objects' patterns intact",
      "%s mismatches; first: %s" % (end.get("mismatches"), m.group(0) if m else "?"))
m = re.search(r"SOAK-ERROR.*", con)
check(num(end, "errors") == 0, "kernel API promises kept",
      "%s errors; first: %s" % (end.get("errors"), m.group(0) if m else "?"))
check(num(result, "calm_fail") == 0, "no GFP_KERNEL class-size failure without pressure",
      "%s calm failures" % result.get("calm_fail"))
check(num(end, "bad_frees") == 0, "no bad free counted", "%s" % end.get("bad_frees"))
check(num(end, "objects_left") == 0, "every object freed",
      "%s objects left" % end.get("objects_left"))
check(num(end, "heap_pages_held") == 0, "every heap page back after the soak module",
      "%s heap pages held, %s in use" % (end.get("heap_pages_held"),
                                          end.get("heap_pages_inuse")))
for k in ("heap_held_kib", "objects_in_use", "user_arenas", "user_kib"):
    check(num(heap, k) == 0, "debugfs heap %s 0 before goalloc's unload" % k,
          "%s" % heap.get(k))
check("still in use at unload" not in con and "goalloc: unloaded" in con,
      "goalloc unloaded with nothing in use")
# The allocation-site profile ran through the soak (soak-guest.sh): it
# sampled, and every record went with its object.
check(num(prof, "profile_rate") == 4096 and num(prof, "sites") > 0 and
      num(prof, "records") == 0, "allocation-site profile: sampled, no record left",
      "allocinfo: %s" % " ".join("%s=%s" % kv for kv in prof.items()))

ops = ["alloc", "alloc_node", "free", "realloc", "bulk_alloc", "bulk_free",
       "handoff", "remote_free", "thread_ops", "hrtimer_ops", "timer_ops",
       "tasklet_ops", "irq_work_ops"]
none = [k for k in ops if num(result, k) <= 0]
check(not none, "every operation and context exercised",
      "none of: " + " ".join(none))
check(num(end, "balloon_cycles") > 0, "the balloon cycled",
      "%s cycles" % end.get("balloon_cycles"))
# Without CONFIG_VM_EVENT_COUNTERS (the test kernels) vmstat has no
# reclaim events; drop_caches calls every shrinker for certain.
scanned = num(vm1, "slabs_scanned") - num(vm0, "slabs_scanned")
check(num(hot, "drop_caches") > 0 and scanned >= 0, "drop_caches called the shrinkers",
      "%s writes, slabs_scanned +%d" % (hot.get("drop_caches"), scanned))
check(num(hot, "cycles") > 0 and num(hot, "failed") == 0, "CPUs went offline and online",
      "%s cycles, %s failed" % (hot.get("cycles"), hot.get("failed")))
check(num(user, "mismatches") == 0 and num(user, "errors") == 0 and
      num(user, "alloc_calls") > 0, "userspace hammer clean",
      "SOAK-USER %s" % " ".join("%s=%s" % kv for kv in user.items()))

summary = ("kernel=%s seconds=%s cpus=%s ms=%s ops=%s %s | user %s | pages_held=%s "
           "objects_left=%s mismatches=%s hotplug=%s drop_caches=%s balloon_cycles=%s "
           "balloon_ooms=%s | cpu %s | %d passed, %d failed" % (
               kind, secs, result.get("cpus"), result.get("ms"), result.get("ops"),
               " ".join("%s=%s" % (k, result.get(k)) for k in (
                   "alloc", "alloc_node", "free", "realloc", "bulk_alloc", "bulk_objs",
                   "bulk_free", "handoff", "remote_free", "alloc_fail", "thread_ops",
                   "hrtimer_ops", "timer_ops", "tasklet_ops", "irq_work_ops", "irq_skipped")),
               " ".join("%s=%s" % (k, user.get(k)) for k in (
                   "alloc_calls", "objects", "free_calls", "resets", "forks", "kills",
                   "mismatches", "errors")),
               end.get("heap_pages_held"), end.get("objects_left"),
               end.get("mismatches"), hot.get("cycles"), hot.get("drop_caches"),
               end.get("balloon_cycles"), end.get("balloon_ooms"), " ".join("%s=%s" % kv for kv in cpu.items()),
               p, f))
open(out + "/summary", "w").write(summary + "\n")
open(out + "/counts", "w").write("%d %d %d\n" % (p, f, s))
print("[%s] %s" % (label, summary))
PY
read -r p f s <"$out/counts" 2>/dev/null || { echo "0 1 0" >"$out/counts"; exit 1; }
[ "$f" = 0 ]
