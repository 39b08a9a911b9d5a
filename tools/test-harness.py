#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prove that the verdict can fail: tests of the test harness itself.

Each case takes a real passing run (qemu/testdata/good: the serial logs of a
debug-kernel run), injects one kind of failure (a failing KUnit case, a
second KTAP document that fails, an oops, a KASAN report, a KCSAN report
involving goalloc, a lockdep splat, PREEMPT_RT's invalid wait context and
sleeping lock in atomic context, a kmemleak leak, a timeout, a panic, an
expected report that is missing or stands beside an unexpected one, ...) and checks that qemu/verdict.py turns
the run red, naming the right check.  With --kernel and --initrd, one more
case boots a real guest under a 3-second limit and expects a timeout.

Usage: test-harness.py --ksrc KERNEL_SOURCE --out DIR [--kernel BZIMAGE --initrd CPIO]
Writes DIR/counts ("passed failed skipped").

The layering check of make lint (tools/layers.py) gets the same treatment:
copies of kmod/ with an upcall added, an upward include, a stale exception,
a file with no layer must fail, named (layers_cases()).

So does the instruction budget's judge (tools/bench-budget.py, make check's
bench-budget step): rows made from bench/budget.txt itself pass at the base
counts and fail, named, one count over its budget, one far under it (a
speed-up that kept the old budget) and one missing (budget_cases()).  That
a real slowed build turns the step red is shown by a manual run
(Documentation/benchmarks.rst).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = os.path.join(TOP, "qemu/testdata/good")
VERDICT = os.path.join(TOP, "qemu/verdict.py")


def sub(old, new):
    def f(text):
        assert old in text, "fixture lacks %r" % old
        return text.replace(old, new, 1)
    return f


def append(extra):
    return lambda text: text + extra


def drop_block(begin, end):
    def f(text):
        a = text.index(begin)
        b = text.index(end, a)
        b = text.index("\n", b) + 1
        return text[:a] + text[b:]
    return f


SECOND_SUITE = """GA-KTAP-BEGIN goalloc_second
KTAP version 1
1..1
    KTAP version 1
    # Subtest: goalloc_second
    1..2
    ok 1 first_case
    # second_case: EXPECTATION FAILED at kunit/x.c:10
    not ok 2 second_case
not ok 1 goalloc_second
GA-KTAP-END goalloc_second
"""
LEAK = """unreferenced object 0xffff888003a2b000 (size 64):
  comm "insmod", pid 71, jiffies 4294937001
  backtrace (crc 0):
    kmalloc_trace_noprof+0x1a/0x40
"""
KTAP_END = "GA-KTAP-END goalloc_sizeclasses\n"
# The two reports of the kasan-negative run (qemu/verdict.py --expect-report).
UAF = """[   29.781] ==================================================================
[   29.782] BUG: KASAN: use-after-free in goalloc_uaf_init+0x42/0x1000 [goalloc_uaf]
[   29.782] Read of size 1 at addr ffff888005c00000 by task insmod/49
[   29.805] ==================================================================
"""
# goalloc's bad-free report: an error line and the caller's stack (never a WARN).
BAD_FREE = """[   29.806] goalloc: bad free of 00000000b650e8f7 (double free) \
from goalloc_uaf_init+0x59/0x1000 [goalloc_uaf]
[   29.807] CPU: 1 UID: 0 PID: 49 Comm: insmod Tainted: G           O       6.12.117 #1
[   29.807] Call Trace:
[   29.807]  <TASK>
[   29.808]  dump_stack_lvl+0x5d/0x80
[   29.808]  goalloc_report_bad_free+0x8e/0xa0 [goalloc]
[   29.808]  goalloc_uaf_init+0x59/0x1000 [goalloc_uaf]
[   29.809]  </TASK>
"""
OTHER_WARN = """[   40.1] ------------[ cut here ]------------
[   40.1] WARNING: CPU: 0 PID: 50 at kmod/mheap.c:77 goalloc_heap_free_span+0x10/0x20 [goalloc]
"""
# A KCSAN report with goalloc in one stack (the shape of a 6.12 report).
KCSAN_GOALLOC = """[   41.2] ==================================================================
[   41.2] BUG: KCSAN: data-race in goalloc_free / goalloc_shrink_scan
[   41.2] 
[   41.2] write to 0xffff88800a4c1010 of 8 bytes by task 77 on cpu 1:
[   41.2]  goalloc_free+0x1d/0x90 [goalloc]
[   41.2]  kunit_try_run_case+0x8f/0x180
[   41.2]  kthread+0x19e/0x1d0
[   41.2] 
[   41.2] read to 0xffff88800a4c1010 of 8 bytes by interrupt on cpu 0:
[   41.2]  __flush_smp_call_function_queue+0x1c8/0x2a0
[   41.2]  sysvec_call_function_single+0x4d/0xa0
[   41.2] 
[   41.2] value changed: 0x0000000000000000 -> 0xffff88800a4c2000
[   41.2] 
[   41.2] Reported by Kernel Concurrency Sanitizer on:
[   41.2] CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Tainted: G           O       6.12.117 #1
[   41.2] ==================================================================
"""
# A race inside the core kernel, no goalloc frame anywhere: not goalloc's.
KCSAN_FOREIGN = """[    1.5] ==================================================================
[    1.5] BUG: KCSAN: data-race in tick_nohz_next_event / tick_sched_timer
[    1.5] 
[    1.5] write to 0xffffffff82a0e2c8 of 8 bytes by interrupt on cpu 1:
[    1.5]  tick_sched_timer+0x3c/0x120
[    1.5]  __hrtimer_run_queues+0x1a5/0x3a0
[    1.5] 
[    1.5] read to 0xffffffff82a0e2c8 of 8 bytes by task 0 on cpu 0:
[    1.5]  tick_nohz_next_event+0x1e/0x1b0
[    1.5]  do_idle+0x88/0x120
[    1.5] 
[    1.5] Reported by Kernel Concurrency Sanitizer on:
[    1.5] CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.117 #1
[    1.5] ==================================================================
"""
# The same kind of race, but the "other" access is goalloc's (a race of a
# kernel function with goalloc's data: goalloc's to fix or mark).
KCSAN_GOALLOC_DEEP = KCSAN_FOREIGN.replace(
    "[    1.5]  do_idle+0x88/0x120\n",
    "[    1.5]  goalloc_mcache_drain+0x40/0x90 [goalloc]\n")
assert KCSAN_GOALLOC_DEEP != KCSAN_FOREIGN
# A core-kernel race seen while a kworker ran goalloc's work item: the
# "Workqueue:" line names goalloc's function, but neither access is goalloc's
# (the 6.12 workqueue reads the worker's sum_exec_runtime, which the
# uninstrumented scheduler writes: "race at unknown origin").
KCSAN_FOREIGN_IN_WORK = KCSAN_FOREIGN.replace(
    "[    1.5] ==================================================================\n",
    "", 1).replace(
    "Not tainted 6.12.117 #1\n",
    "Tainted: G           O       6.12.117 #1\n"
    "[    1.5] Workqueue: goalloc_drain drain_work_fn [goalloc]\n")
KCSAN_FOREIGN_IN_WORK = "[    1.5] " + "=" * 66 + "\n" + KCSAN_FOREIGN_IN_WORK
assert "Workqueue: goalloc_drain" in KCSAN_FOREIGN_IN_WORK
# A core-kernel race by design below a call goalloc makes (qemu/verdict.py,
# KERNEL_RACES): the TLB shootdown of unmap_mapping_range() reads
# mm_cpumask(mm) while another CPU clears its bit.  Seen in the KCSAN soak of
# 2f64091; goalloc frames are in the caller chain only.
KCSAN_TLB = """[   48.6] ==================================================================
[   48.6] BUG: KCSAN: data-race in smp_call_function_many_cond+0x12e/0x6ee
[   48.6] 
[   48.6] race at unknown origin, with read to 0xffff888000c9ec40 of 8 bytes by task 633 on cpu 1:
[   48.6]  smp_call_function_many_cond+0x12e/0x6ee
[   48.6]  on_each_cpu_cond_mask+0x3d/0x60
[   48.6]  flush_tlb_mm_range+0x140/0x1b1
[   48.6]  tlb_flush_mmu_tlbonly+0xc4/0x1bd
[   48.6]  unmap_page_range+0xb35/0xb47
[   48.6]  unmap_mapping_range+0x1c/0x1d
[   48.6]  uspan_release+0x90/0x1f8 [goalloc]
[   48.6]  goalloc_uarena_free_batch+0x9e/0xf3 [goalloc]
[   48.6]  goalloc_ioctl+0x2a/0x30 [goalloc]
[   48.6]  __x64_sys_ioctl+0xc03/0xc24
[   48.6] 
[   48.6] value changed: 0x0000000000000003 -> 0x0000000000000002
[   48.6] 
[   48.6] Reported by Kernel Concurrency Sanitizer on:
[   48.6] CPU: 1 UID: 0 PID: 633 Comm: goalloc_soak_us Tainted: G           O       6.12.118 #1
[   48.6] ==================================================================
"""
# The same title without the TLB flush in the stack: the mask could be one
# goalloc passed, so it is goalloc's.
KCSAN_IPI_GOALLOC = KCSAN_TLB.replace("[   48.6]  flush_tlb_mm_range+0x140/0x1b1\n", "")
assert KCSAN_IPI_GOALLOC != KCSAN_TLB
# A race of goalloc's with the IPI code (a two-function title) is goalloc's,
# whatever the stacks hold.
KCSAN_TLB_TITLE_GOALLOC = KCSAN_TLB.replace(
    "data-race in smp_call_function_many_cond+0x12e/0x6ee",
    "data-race in goalloc_free / smp_call_function_many_cond")
assert KCSAN_TLB_TITLE_GOALLOC != KCSAN_TLB
# PREEMPT_RT: a spinlock_t (a sleeping lock there) taken under a raw lock, as
# PROVE_RAW_LOCK_NESTING reports it, and a sleep in a preempt-off section.
INVALID_WAIT = """[   42.0] =============================
[   42.0] [ BUG: Invalid wait context ]
[   42.0] 6.12.117-rt #1 Tainted: G           O
[   42.0] -----------------------------
[   42.0] kunit_try_catch/90 is trying to lock:
[   42.0] ffff88800a4c0018 (&c->lock){+.+.}-{3:3}, at: goalloc_mcentral_grow+0x20/0x90 [goalloc]
"""
RT_SLEEP = """[   42.0] BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48
[   42.0] in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 0, name: swapper/1
[   42.0] preempt_count: 10001, expected: 0
[   42.0] Call Trace:
[   42.0]  rt_spin_lock+0x3a/0x100
[   42.0]  goalloc_drain_ipi+0x33/0x80 [goalloc]
"""
EXPECT_UAF = ["--expect-report", r"BUG: KASAN: use-after-free in goalloc_uaf_init\b"]
EXPECT_BAD_FREE = ["--expect-report",
                   r"goalloc: bad free of \S+ \(double free\) from goalloc_uaf_init\b"]

# name, {file: mutation}, extra verdict args, expect pass?, text of the FAIL line
# (for a passing case: a text the output must hold, or None)
CASES = [
    ("good run passes", {}, [], True, None),
    ("failing KUnit case", {"results.log": sub("    ok 4 obj_index", "    not ok 4 obj_index")},
     [], False, "kunit goalloc_sizeclasses"),
    ("failing case in a second KTAP document",
     {"results.log": sub(KTAP_END, KTAP_END + SECOND_SUITE)}, [], False, "kunit goalloc_second"),
    ("KTAP document cut short by a crash",
     {"results.log": sub("    ok 5 power_of_two_sizes_get_own_class\n", "")}, [], False,
     "kunit goalloc_sizeclasses"),
    ("KUnit suite missing", {"results.log": drop_block("GA-KTAP-BEGIN", "GA-KTAP-END")},
     ["--expect-suites", "1"], False, "kunit suites"),
    ("failing selftest case",
     {"results.log": sub("ok 2 global.debugfs", "not ok 2 global.debugfs")}, [], False,
     "selftest goalloc_module_test"),
    ("selftest exits non-zero",
     {"results.log": sub("goalloc_module_test rc=0", "goalloc_module_test rc=139")}, [], False,
     "selftest goalloc_module_test"),
    ("module fails to load", {"results.log": sub("load goalloc_test rc=0", "load goalloc_test rc=1")},
     [], False, "module load goalloc_test"),
    ("module fails to unload",
     {"results.log": sub("unload goalloc rc=0", "unload goalloc rc=1")}, [], False,
     "module unload goalloc"),
    ("oops", {"console.log": append(
        "[   40.1] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "[   40.1] Oops: Oops: 0002 [#1] PREEMPT SMP KASAN\n")}, [], False, "kernel log clean"),
    ("KASAN report", {"console.log": append(
        "[   40.1] ==================================================================\n"
        "[   40.1] BUG: KASAN: slab-use-after-free in goalloc_free+0x2a/0x80 [goalloc]\n")},
     [], False, "KASAN"),
    ("lockdep report", {"console.log": append(
        "[   40.1] ======================================================\n"
        "[   40.1] WARNING: possible circular locking dependency detected\n")},
     [], False, "lockdep"),
    ("WARN_ON", {"console.log": append(
        "[   40.1] WARNING: CPU: 1 PID: 77 at kmod/malloc.c:40 goalloc_init+0x10/0x20\n")},
     [], False, "WARNING"),
    ("goalloc unloaded with an object in use", {"console.log": append(
        "[   40.1] goalloc: class 18: 1 objects never freed\n"
        "[   40.2] goalloc: 1 heap pages still in use at unload (1 spans): leaking 8 KiB\n")},
     [], False, "goalloc-unload-leak"),
    ("named cache never destroyed", {"console.log": append(
        "[   40.1] goalloc: cache ext4_inode_cache never destroyed\n")},
     [], False, "goalloc-unload-leak"),
    ("sleep in atomic context", {"console.log": append(
        "[   40.1] BUG: sleeping function called from invalid context at mm/slub.c:4119\n")},
     [], False, "atomic-sleep"),
    ("kmemleak leak", {"results.log": sub("GA-KMEMLEAK-BEGIN\n", "GA-KMEMLEAK-BEGIN\n" + LEAK)},
     [], False, "kmemleak"),
    ("timeout", {"status": lambda t: "timeout\n"}, [], False, "timed out"),
    ("panic: QEMU exits 0", {"status": lambda t: "exit 0\n"}, [], False, "not a debug-exit"),
    ("init stops before GA-END", {"results.log": sub("GA-END\n", "")}, [], False,
     "stopped before GA-END"),
    ("expected report present", {"console.log": append(
        "[   40.1] BUG: KASAN: slab-use-after-free in goalloc_uaf+0x2a/0x80\n")},
     ["--expect-report", "BUG: KASAN: slab-use-after-free"], True, None),
    ("expected report absent", {}, ["--expect-report", "BUG: KASAN: slab-use-after-free"],
     False, "expected report"),
    ("two expected reports, a KASAN one and a bad free", {"console.log": append(UAF + BAD_FREE)},
     EXPECT_UAF + EXPECT_BAD_FREE, True, None),
    ("one of two expected reports absent", {"console.log": append(UAF)},
     EXPECT_UAF + EXPECT_BAD_FREE, False, "expected report /goalloc: bad free"),
    ("expected bad free not named", {"console.log": append(UAF + BAD_FREE)}, EXPECT_UAF, False,
     "kernel log clean"),
    ("unexpected WARN beside the expected ones",
     {"console.log": append(UAF + BAD_FREE + OTHER_WARN)}, EXPECT_UAF + EXPECT_BAD_FREE, False,
     "kernel log clean"),
    ("KCSAN data race in goalloc", {"console.log": append(KCSAN_GOALLOC)}, [], False, "KCSAN"),
    ("KCSAN race of a kernel function with goalloc in the other stack",
     {"console.log": append(KCSAN_GOALLOC_DEEP)}, [], False, "KCSAN"),
    ("KCSAN race inside the core kernel is noted, not failed",
     {"console.log": append(KCSAN_FOREIGN)}, [], True, "1 KCSAN report(s) without a goalloc"),
    ("KCSAN race in the workqueue core while goalloc's work item ran is noted",
     {"console.log": append(KCSAN_FOREIGN_IN_WORK)}, [], True,
     "1 KCSAN report(s) without a goalloc"),
    ("KCSAN core-kernel race by design below goalloc's call is noted",
     {"console.log": append(KCSAN_TLB)}, [], True,
     "by design: the TLB shootdown's read of mm_cpumask"),
    ("KCSAN race in the IPI code with a mask goalloc could own fails",
     {"console.log": append(KCSAN_IPI_GOALLOC)}, [], False, "KCSAN"),
    ("KCSAN race of goalloc with the IPI code below a TLB flush fails",
     {"console.log": append(KCSAN_TLB_TITLE_GOALLOC)}, [], False, "KCSAN"),
    ("goalloc KCSAN report beside a core-kernel one",
     {"console.log": append(KCSAN_FOREIGN + KCSAN_GOALLOC)}, [], False, "KCSAN"),
    ("KCSAN report cut off by another report",
     {"console.log": append(KCSAN_FOREIGN.rsplit("[    1.5] Reported", 1)[0] +
                            "[    1.6] BUG: kernel NULL pointer dereference, address: 08\n")},
     [], False, "BUG"),
    ("PREEMPT_RT: invalid wait context", {"console.log": append(INVALID_WAIT)}, [], False,
     "lockdep"),
    ("PREEMPT_RT: sleeping lock in atomic context", {"console.log": append(RT_SLEEP)}, [],
     False, "atomic-sleep"),
    ("RCU self-detected stall", {"console.log": append(
        "[   40.1] rcu: INFO: rcu_preempt self-detected stall on CPU\n")}, [], False, "stall"),
    ("expected text outside any report", {"console.log": append(
        "[   40.1] goalloc_uaf: the double free is next\n")},
     ["--expect-report", r"the double free is next"], False, "expected report"),
]


# What a kernel build leaves beside the sources (6.1 and 6.12 kbuild, one
# module NAME of sources SRC): planted into a copy of the tree, none of it may
# reach a test build's copy of the sources (qemu/lib.sh copy_module_sources).
PRODUCTS_PER_DIR = ["modules.order", ".modules.order.cmd", "built-in.a", "lib.a",
                    ".built-in.a.cmd", "Module.symvers"]
PRODUCTS_PER_MODULE = ["{m}.o", "{m}.mod", "{m}.mod.c", "{m}.mod.o", "{m}.ko", "{m}.ko.unsigned",
                       ".{m}.o.cmd", ".{m}.mod.cmd", ".{m}.mod.o.cmd", ".{m}.ko.cmd",
                       "{m}.dwo", "{m}.lst", "{m}.symversions", "{m}.i", "{m}.s"]
PRODUCTS_PER_SOURCE = ["{s}.o", ".{s}.o.cmd", ".{s}.o.d", "{s}.dwo", "{s}.i", "{s}.s",
                       "{s}.lst", "{s}.gcno"]
PRODUCTS_TOP = ["Module.symvers", ".Module.symvers.cmd", "modules.order", ".modules.order.cmd",
                ".module-common.o", "..module-common.o.cmd", ".tmp_versions/goalloc.mod"]


def source_copy_case(out):
    """Plant build products in a copy of the tree, copy its module sources as
    a test build does, and check that every source and no product arrives."""
    tree = os.path.join(out, "source-copy", "tree")
    dest = os.path.join(out, "source-copy", "build")
    shutil.rmtree(os.path.dirname(tree), ignore_errors=True)
    os.makedirs(tree)
    dirs = ["kmod", "kunit", "bench", "uapi"]
    for d in dirs + ["qemu"]:
        shutil.copytree(os.path.join(TOP, d), os.path.join(tree, d),
                        ignore=shutil.ignore_patterns("*.o", "*.ko", "*.mod", "*.mod.c", ".*.cmd",
                                                      ".*.d", "*.a", "modules.order"))
    shutil.copy(os.path.join(TOP, "Kbuild"), tree)
    sources = set()
    for root, _, files in os.walk(tree):
        rel = os.path.relpath(root, tree)
        if rel.split(os.sep)[0] not in dirs and rel != ".":
            continue
        for f in files:
            if f == "Kbuild" or f.endswith((".c", ".h", ".mk")):
                sources.add(os.path.normpath(os.path.join(rel, f)))
    planted = set()

    def plant(rel, what):
        p = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("/* a build product for another kernel: %s */\n" % what)
        planted.add(os.path.normpath(rel))

    for d in dirs:
        for root, _, files in os.walk(os.path.join(tree, d)):
            rel = os.path.relpath(root, tree)
            for name in PRODUCTS_PER_DIR:
                plant(os.path.join(rel, name), name)
            for f in files:
                if f.endswith(".c"):
                    stem = f[:-2]
                    for pat in PRODUCTS_PER_SOURCE + PRODUCTS_PER_MODULE:
                        plant(os.path.join(rel, pat.format(s=stem, m=stem)), pat)
    for name in PRODUCTS_TOP:
        plant(name, name)
    # Whatever a real build of this tree left (make in the tree, build/*/):
    # the names kbuild makes today, should they outgrow the lists above.
    for base in [TOP] + [os.path.join(TOP, "build", b) for b in
                         (os.listdir(os.path.join(TOP, "build"))
                          if os.path.isdir(os.path.join(TOP, "build")) else [])]:
        for d in dirs:
            for root, _, files in os.walk(os.path.join(base, d)):
                rel = os.path.relpath(root, base)
                for f in files:
                    r = os.path.normpath(os.path.join(rel, f))
                    if r not in sources and not os.path.exists(os.path.join(tree, r)):
                        plant(r, "from " + base)
    def copy(key):
        sh = ". '%s/qemu/lib.sh' && copy_module_sources '%s' '%s'" % (tree, dest, key)
        p = subprocess.run(["bash", "-c", sh], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return p.returncode == 0, p.stdout[-300:]

    def files(d):
        got = {}
        for root, _, names in os.walk(d):
            for f in names:
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    got[os.path.normpath(os.path.relpath(path, d))] = fh.read()
        return got

    # The test build's own products from an earlier run: they must stay (an
    # incremental rebuild), and no product of the tree may replace them.
    own = ["kunit/goalloc_test.mod", "kmod/goalloc.mod", "kmod/modules.order",
           "kmod/goalloc.mod.c", "kmod/malloc.o", ".module-common.o"]
    ok, out = copy("kernel-A")
    if not ok:
        return False, "copy_module_sources failed: " + out
    for rel in own:
        with open(os.path.join(dest, rel), "w") as f:
            f.write("own product\n")
    planted_text = "/* a build product for another kernel"
    ok, out = copy("kernel-A")
    if not ok:
        return False, "copy_module_sources failed: " + out
    got = files(dest)
    leaked = sorted(r for r, data in got.items() if data.startswith(planted_text.encode()))
    missing = sorted(sources - set(got))
    lost = sorted(r for r in own if got.get(r) != b"own product\n")
    if leaked or missing or lost:
        return False, ("%d of %d planted products copied (%s), %d sources missing (%s), "
                       "%d own products lost (%s)" % (
                           len(leaked), len(planted), " ".join(leaked[:6]), len(missing),
                           " ".join(missing[:6]), len(lost), " ".join(lost)))
    # Copied by content: an unchanged source keeps its (old) time, so kbuild
    # remakes nothing for it; a changed one arrives with a new time.
    old_ns = 10**18
    for rel in ("kmod/mheap.c", "kmod/mcache.c"):
        os.utime(os.path.join(dest, rel), ns=(old_ns, old_ns))
    with open(os.path.join(tree, "kmod/mcache.c"), "a") as f:
        f.write("/* changed */\n")
    ok, out = copy("kernel-A")
    if not ok:
        return False, "copy_module_sources failed: " + out
    kept = os.stat(os.path.join(dest, "kmod/mheap.c")).st_mtime_ns
    with open(os.path.join(dest, "kmod/mcache.c")) as f:
        changed_text = f.read()
    changed = os.stat(os.path.join(dest, "kmod/mcache.c")).st_mtime_ns
    if kept != old_ns or changed <= old_ns or not changed_text.endswith("/* changed */\n"):
        return False, ("an unchanged source's time %s (want %d), a changed one's %d and %s"
                       % (kept, old_ns, changed, "its new text" if
                          changed_text.endswith("/* changed */\n") else "its old text"))
    # Built last for another kernel: the copy starts from nothing.
    ok, out = copy("kernel-B")
    got = files(dest)
    stale = sorted(r for r in own if r in got)
    if not ok or stale:
        return False, "a copy for another kernel kept the old build's %s" % " ".join(stale)
    return True, ("%d sources copied, none of %d planted build products; an earlier build's "
                  "own products kept, and dropped for another kernel" % (len(sources),
                                                                        len(planted)))


def cache_prune_case(out):
    """qemu/lib.sh cache_used on a cache directory of planted trees: the
    tree used, a fresh one and a locked old one stay; old ones of the same
    prefix go, whatever stamp they carry; another prefix's stays."""
    import fcntl
    import time
    cache = os.path.join(out, "cache-prune", "kernels")
    shutil.rmtree(os.path.dirname(cache), ignore_errors=True)
    old = time.time() - 20 * 86400
    trees = {  # name: (stamp file, old?, expected to stay)
        "debug-new": (".used", False, True),
        "debug-fresh": (".used", False, True),
        "debug-old": (".used", True, False),
        "debug-oldlog": ("build.log", True, False),
        "debug-olddone": (".done", True, False),
        "debug-locked": (".used", True, True),
        "debug-nostamp": (None, True, True),
        "perf-old": (".used", True, True),
    }
    for name, (stamp, is_old, _) in trees.items():
        d = os.path.join(cache, name)
        os.makedirs(d)
        with open(os.path.join(d, "vmlinux"), "w") as f:
            f.write("x")
        if stamp:
            path = os.path.join(d, stamp)
            open(path, "w").close()
            if is_old:
                os.utime(path, (old, old))
    lock = open(os.path.join(cache, "debug-locked.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    sh = ". '%s/qemu/lib.sh' && cache_used '%s' debug-" % (TOP, os.path.join(cache, "debug-new"))
    p = subprocess.run(["bash", "-c", sh], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    lock.close()
    wrong = [n for n, (_, _, stay) in trees.items()
             if os.path.isdir(os.path.join(cache, n)) != stay]
    used = os.path.exists(os.path.join(cache, "debug-new", ".used"))
    if p.returncode or wrong or not used:
        return False, "rc %d, wrong fate: %s, used stamp %s; %s" % (
            p.returncode, " ".join(wrong) or "none", used, p.stdout[-200:])
    return True, "3 old trees of the prefix removed; the used, fresh, locked, unstamped and " \
        "other-prefix ones kept"


LAYERS = os.path.join(TOP, "tools/layers.py")


def layers_cases(out):
    """tools/layers.py on copies of kmod/, each changed one way.

    Yields (name, ok, why).  The functions and files the cases use are
    picked from the table and the sources (a function of the mcache layer
    called from a file of the mheap layer, ...), so the cases keep working
    while the refactor renames and moves things; if a layer they name goes,
    they fail and say so.
    """
    import importlib.util
    spec = importlib.util.spec_from_file_location("layers", LAYERS)
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    table = layers.Table(os.path.join(TOP, "kmod/layers.txt"))
    model = layers.Model(TOP)

    def files_of(layer, ext):
        return sorted(f for f in model.src if table.layer_of(f) == layer and f.endswith(ext))

    def function_of(layer):
        for f in files_of(layer, ".c"):
            src = model.src[f]
            for name in sorted(src.defs):
                if src.defs[name][1] and src.kinds[name] == "function" and \
                        table.layer_of(f, name) == layer:
                    return name
        return None

    def run(name, edit, want_pass, want):
        """Copy kmod/, apply edit(dir), run the check, look for want in its output."""
        d = os.path.join(out, "layers", name.replace(" ", "-"))
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(os.path.join(TOP, "kmod"), os.path.join(d, "kmod"),
                        ignore=shutil.ignore_patterns("*.o", "*.ko", ".*.cmd", "*.mod*"))
        try:
            edit(d)
        except (AssertionError, OSError, IndexError, TypeError) as e:
            return False, "could not set the case up: %r" % e
        p = subprocess.run([sys.executable, LAYERS, "--root", d], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        with open(os.path.join(d, "layers.log"), "w") as f:
            f.write(p.stdout)
        # Every line but the summary is an error.
        errs = [ln for ln in p.stdout.splitlines() if not re.match(r"layers: \d+ files", ln)]
        if want_pass:
            ok = p.returncode == 0 and not errs
        else:
            ok = p.returncode != 0 and any(re.search(want, ln) for ln in errs)
        return ok, "" if ok else "rc=%d, want %s %r: %s" % (
            p.returncode, "pass" if want_pass else "an error matching", want,
            errs or p.stdout[-300:])

    def append_to(rel, text):
        def edit(d):
            with open(os.path.join(d, rel), "a") as f:
                f.write(text)
        return edit

    def lines_of(rel):
        with open(os.path.join(TOP, rel)) as f:
            return f.read().count("\n")

    heap_c, cache_fn = (files_of("mheap", ".c") or [None])[0], function_of("mcache")
    span_c, span_h = (files_of("span", ".c") or [None])[0], (files_of("span", ".h") or [None])[0]
    heap_h = (files_of("mheap", ".h") or [None])[0]
    if not (heap_c and cache_fn and span_c and span_h and heap_h):
        yield ("layers: the cases find their files and functions", False,
               "no .c in layer mheap, .c/.h in span, .h in mheap or function in mcache: "
               "update tools/test-harness.py layers_cases() with the table")
        return
    probe = "\nvoid goalloc_layers_probe(void)\n{\n\t%s();\n}\n" % cache_fn
    probe_line = lines_of(heap_c) + 4
    yield ("layers: the tree as it is passes",) + run("as is", lambda d: None, True, None)
    yield ("layers: %s calling %s() (mheap -> mcache) fails, named" % (heap_c, cache_fn),) + \
        run("upcall", append_to(heap_c, probe), False,
            r"^layers: upcall: %s:%d: goalloc_layers_probe\(\) -> %s\(\) .*\(mheap calls mcache\)"
            % (re.escape(heap_c), probe_line, cache_fn))
    yield ("layers: the same upcall passes with an exception for it",) + \
        run("excepted upcall", lambda d: (
            append_to(heap_c, probe)(d),
            append_to("kmod/layers.txt", "%s -> %s\t# issue 0 (a harness test)\n" % (
                heap_c[5:], cache_fn))(d)), True, None)
    yield ("layers: an exception that names no issue item fails",) + \
        run("exception without issue", lambda d: (
            append_to(heap_c, probe)(d),
            append_to("kmod/layers.txt", "%s -> %s\t# for now\n" % (
                heap_c[5:], cache_fn))(d)), False, r"names the issue item")
    yield ("layers: a stale exception fails",) + \
        run("stale exception", append_to("kmod/layers.txt", "%s -> %s\t# issue 0 (test)\n" % (
            span_c[5:], cache_fn)), False,
            r"stale exception '%s -> %s'" % (re.escape(span_c[5:]), cache_fn))
    yield ("layers: an upcall from a static inline in a lower header fails",) + \
        run("inline upcall", append_to(span_h, "\nstatic inline void goalloc_layers_probe(void)"
                                                "\n{\n\t%s();\n}\n" % cache_fn), False,
            r"^layers: upcall: %s:%d: goalloc_layers_probe\(\) -> %s\(\)" % (
                re.escape(span_h), lines_of(span_h) + 4, cache_fn))
    yield ("layers: %s including %s (span -> mheap) fails, named" % (span_c, heap_h),) + \
        run("upward include", append_to(span_c, '#include "%s"\n' % heap_h[5:]), False,
            r'^layers: upward include: %s:%d: #include "%s" \(span -> mheap\)' % (
                re.escape(span_c), lines_of(span_c) + 1, re.escape(heap_h[5:])))
    yield ("layers: a name in a comment, a string or a member is no upcall",) + \
        run("no false upcall", append_to(heap_c, "\n/* %s() */\nstatic const char *probe_s = "
                                                 "\"%s\";\nstatic int probe_m(struct x *p)\n"
                                                 "{\n\treturn p->%s + p[0].%s;\n}\n" % (
                                                     cache_fn, cache_fn, cache_fn, cache_fn)),
            True, None)
    yield ("layers: a table line naming a function that is gone fails",) + \
        run("gone symbol", lambda d: open(os.path.join(d, "kmod/layers.txt"), "w").write(
            open(os.path.join(TOP, "kmod/layers.txt")).read().replace(
                "\n[except]", "\n%s:goalloc_layers_gone\tmcache\n[except]" % span_c[5:], 1)),
            False, r"%s:goalloc_layers_gone names no definition" % re.escape(span_c))
    yield ("layers: a file of kmod/ with no layer fails",) + \
        run("unlisted file", lambda d: open(os.path.join(d, "kmod/newlayer.c"), "w").close(),
            False, r"kmod/newlayer\.c has no layer")


BENCH_BUDGET = os.path.join(TOP, "tools/bench-budget.py")


def budget_cases(out):
    """tools/bench-budget.py on rows made from bench/budget.txt.  Yields (name, ok, why)."""
    import importlib.util
    import math
    spec = importlib.util.spec_from_file_location("bench_budget", BENCH_BUDGET)
    bb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bb)
    d = os.path.join(out, "budget")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    budget = bb.Budget(os.path.join(TOP, "bench/budget.txt"))
    entries = [(t, v, s, base, mx) for _, t, v, s, base, mx in budget.entries]

    def raw(name, count_of):
        """A raw CSV: goalloc's count for each entry from count_of(entry) (None: no row)."""
        p = os.path.join(d, name + ".csv")
        with open(p, "w") as f:
            f.write("# goalloc_bench: a harness case\n"
                    "test,variant,size,alloc,round,ns_per_op,cycles_per_op\n")
            for e in entries:
                c = count_of(e)
                for rnd in range(3):
                    f.write("%s,%s,%d,cache,%d,%.2f,0.00\n" % (e[0], e[1], e[2], rnd, e[3]))
                    if c is not None:
                        f.write("%s,%s,%d,goalloc,%d,%.2f,0.00\n" % (e[0], e[1], e[2], rnd, c))
        return p

    def run(csv, want_pass, want=None, budget_file=None):
        p = subprocess.run([sys.executable, BENCH_BUDGET, "check", csv, "--budget",
                            budget_file or budget.path, "--out", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        fails = [ln for ln in p.stdout.splitlines() if " FAIL " in ln]
        passes = [ln for ln in p.stdout.splitlines() if " PASS " in ln]
        if want_pass:
            ok = p.returncode == 0 and not fails and len(passes) == len(entries)
        else:
            ok = p.returncode != 0 and any(re.search(want, ln) for ln in fails)
        return ok, "" if ok else "rc=%d, want %s %r: %s" % (
            p.returncode, "pass" if want_pass else "a FAIL matching", want,
            fails or p.stdout[-300:])

    if not entries:
        yield ("budget: bench/budget.txt has budget lines", False, "none")
        return
    first = entries[0]
    name = r"goalloc %s %s %s" % tuple(re.escape(str(x)) for x in first[:3])
    yield ("budget: counts at the budget's base pass",) + \
        run(raw("base", lambda e: e[3]), True)
    yield ("budget: counts exactly at the budget pass",) + \
        run(raw("at-max", lambda e: e[4]), True)
    yield ("budget: one count just over its budget fails, named",) + \
        run(raw("over", lambda e: e[4] + 0.01 if e is first else e[3]), False,
            name + r": .* > budget .*a slowdown")
    low = 1 - budget.margin_for(first[0], first[2]) / 100
    # A line with a margin of its own (margin TEST SIZE PCT): a count above
    # the common margin but within its own passes, one above its max fails.
    wide = [e for e in entries if budget.margin_for(e[0], e[2]) > budget.margin]
    if wide:
        w = wide[0]
        wname = r"goalloc %s %s %s" % tuple(re.escape(str(x)) for x in w[:3])
        mid = w[3] * (1 + (budget.margin + budget.margin_for(w[0], w[2])) / 200)
        yield ("budget: a line's own wider margin lets a count past the common one pass",) + \
            run(raw("wide-in", lambda e: mid if e is w else e[3]), True)
        yield ("budget: past a line's own margin fails",) + \
            run(raw("wide-over", lambda e: e[4] + 0.01 if e is w else e[3]), False,
                wname + r": .* > budget .*a slowdown")
    yield ("budget: one count well under its base (a speed-up, budget kept) fails",) + \
        run(raw("faster", lambda e: e[3] * low - 0.5 if e is first else e[3]), False,
            name + r": .*lower the budget")
    yield ("budget: a budget line without a measurement fails",) + \
        run(raw("missing", lambda e: None if e is first else e[3]), False,
            name + r": no measurement")
    # "update" from a 10% faster run: the check then passes with the new
    # counts, and max is base plus the margin, rounded up.
    copy = os.path.join(d, "budget.txt")
    shutil.copy(budget.path, copy)
    faster = raw("update", lambda e: round(e[3] * 0.9, 2))
    p = subprocess.run([sys.executable, BENCH_BUDGET, "update", faster, "--budget", copy],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    new = bb.Budget(copy)
    want_max = [math.ceil(round(e[3] * 0.9, 2) * (1 + budget.margin_for(e[0], e[2]) / 100))
                for e in entries]
    ok = p.returncode == 0 and [e[5] for e in new.entries] == want_max and \
        new.params == budget.params and run(faster, True, budget_file=copy)[0] and \
        not run(raw("old", lambda e: e[3]), True, budget_file=copy)[0]
    yield ("budget: update lowers every line, and the old counts then fail", ok,
           "" if ok else "rc=%d: %s" % (p.returncode, p.stdout[-300:]))


def run_verdict(ksrc, rundir, extra):
    cmd = [sys.executable, VERDICT, rundir, "--kind", "qemu", "--ksrc", ksrc] + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ksrc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    passed = failed = 0

    def result(ok, name, why=""):
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print("[harness] %s %s%s" % ("PASS" if ok else "FAIL", name, (": " + why) if why else ""))

    for i, (name, muts, extra, want_pass, want_text) in enumerate(CASES):
        d = os.path.join(args.out, "case%02d" % i)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(GOOD, d)
        for fname, mut in muts.items():
            p = os.path.join(d, fname)
            with open(p) as f:
                text = f.read()
            with open(p, "w") as f:
                f.write(mut(text))
        rc, out = run_verdict(args.ksrc, d, extra)
        fail_lines = [ln for ln in out.splitlines() if " FAIL " in ln]
        if want_pass:
            # A passing case may name a text its output must hold (a NOTE).
            ok = rc == 0 and not fail_lines and (want_text is None or want_text in out)
            why = "" if ok else "verdict failed a good run or lacks %r: %s" % (
                want_text, fail_lines or out[-300:])
        else:
            ok = rc != 0 and any(want_text in ln for ln in fail_lines)
            why = "" if ok else "rc=%d, FAIL lines %s lack %r" % (rc, fail_lines, want_text)
        result(ok, "verdict on: " + name, why)

    ok, why = source_copy_case(args.out)
    result(ok, "test builds take sources only, no build product left in the tree", why)
    ok, why = cache_prune_case(args.out)
    result(ok, "the cache drops trees unused for 14 days, and only those", why)

    for name, ok, why in layers_cases(args.out):
        result(ok, name, why)

    for name, ok, why in budget_cases(args.out):
        result(ok, name, why)

    if args.kernel and args.initrd:
        d = os.path.join(args.out, "live-timeout")
        subprocess.run([os.path.join(TOP, "qemu/run-qemu.sh"), "-k", args.kernel,
                        "-i", args.initrd, "-o", d, "-t", "3", "-c", "2"])
        rc, out = run_verdict(args.ksrc, d, [])
        ok = rc != 0 and "timed out" in out
        result(ok, "live guest over its time limit is a failure",
               "" if ok else "rc=%d: %s" % (rc, out[-300:]))

    with open(os.path.join(args.out, "counts"), "w") as f:
        f.write("%d %d 0\n" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
