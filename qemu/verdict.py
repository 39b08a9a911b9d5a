#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one guest run of goalloc: did everything pass, and is the kernel log
clean?

Usage: verdict.py RUNDIR --kind qemu|uml --ksrc KERNEL_SOURCE
                  [--label NAME] [--expect-suites N] [--expect-report REGEX]...

RUNDIR holds console.log (the kernel's console), results.log (the GA-*
markers written by qemu/init.sh) and status (from the runner).  KTAP from
KUnit and TAP from the kselftests are parsed with the kernel's own parser
(tools/testing/kunit/kunit_parser.py), one document at a time: kunit.py
would read only the first.

The run fails when a KUnit or kselftest case fails, a module does not load
or unload, the guest does not end cleanly (timeout, panic, no GA-END), or the
kernel log holds a report: WARNING, BUG (KASAN, KCSAN, sleeping in atomic
context, bad page, soft lockup...), Oops, a lockdep splat (PREEMPT_RT's
"Invalid wait context" too), an RCU stall or a kmemleak leak.

A KCSAN report whose title and stacks hold no goalloc frame (a race inside
the core kernel), or one listed in KERNEL_RACES (a core-kernel race by
design below a call goalloc makes), is not goalloc's: it is counted,
printed as a NOTE line and kept in RUNDIR/kcsan-foreign.log, and does not
fail the run.

--expect-report REGEX names a report that must appear (negative tests); it
may be given more than once.  A report is one matching line, except a WARN,
which runs from its "cut here" line through its message to its "WARNING:
CPU: ... at" line.  A report any line of which matches an expected REGEX is
not a failure; every REGEX must match in at least one report (a matching
line outside a report does not count); every other report still fails.

Prints one line per check and writes RUNDIR/counts ("passed failed
skipped").  Exit status: 0 if the run passed, 1 if not.
"""
import argparse
import io
import os
import re
import sys
import contextlib

# A line of the kernel log that means something went wrong.
REPORTS = [
    # The specific kinds first: a lockdep splat also says "WARNING:" or "BUG:".
    ("KASAN", re.compile(r"KASAN: ")),
    ("KCSAN", re.compile(r"BUG: KCSAN: ")),
    ("lockdep", re.compile(r"possible circular locking|possible recursive locking|"
                           r"inconsistent lock state|DEBUG_LOCKS_WARN_ON|"
                           r"suspicious RCU usage|lock held when returning|"
                           r"bad unlock balance|held lock freed|"
                           # PREEMPT_RT's nesting rules (PROVE_RAW_LOCK_NESTING):
                           # a sleeping lock taken where the context may not sleep.
                           r"Invalid wait context|"
                           r"irq lock inversion|lock order detected|"
                           r"[Nn]ested lock was not taken|bad contention detected|"
                           r"MAX_LOCKDEP_\w+ too low")),
    ("atomic-sleep", re.compile(r"sleeping function called from invalid context|"
                                r"scheduling while atomic")),
    ("kmemleak", re.compile(r"kmemleak: \d+ new suspected memory leaks|unreferenced object 0x")),
    ("stall", re.compile(r"detected stalls|self-detected stall|soft lockup|hung_task|"
                         r"blocked for more than")),
    ("UBSAN", re.compile(r"UBSAN: ")),
    ("Oops", re.compile(r"Oops: |general protection fault|Kernel panic")),
    ("BUG", re.compile(r"\bBUG: ")),
    ("WARNING", re.compile(r"WARNING: |------------\[ cut here \]------------")),
    # goalloc's own report of a refused free (an error line, never a WARN):
    # in a test run nobody frees badly unless a test says so (and silences it).
    ("goalloc-bad-free", re.compile(r"goalloc: bad free of ")),
    # goalloc unloaded with objects in use, or a named cache never destroyed:
    # a test module leaked them.
    ("goalloc-unload-leak", re.compile(r"goalloc: (\d+ heap pages still in use at unload|"
                                       r"class \d+: \d+ objects never freed|"
                                       r"cache \S+ never destroyed|"
                                       r"\d+ chunks of other pools left at unload)")),
]

STRIP_TIME = re.compile(r"^\[\s*\d+\.\d+\]\s?")

# A KCSAN report runs from its "BUG: KCSAN:" line to the "=====" line that
# closes it: the two accesses with their stacks, the value change, the CPU.
KCSAN_END = re.compile(r"^={20,}$")
KCSAN_MAX_LINES = 120
# A KCSAN report involves goalloc when its title or a stack frame names a
# goalloc function or module (goalloc, goalloc_test, goalloc_uaf, goalloc_soak,
# ...).  Module frames carry the module's name in brackets.
GOALLOC_FRAME = re.compile(r"\[goalloc\w*\]|\bgoalloc\w*\+0x|data-race in .*\bgoalloc|"
                           r"race in .*\bgoalloc")


class Verdict:
    def __init__(self, label):
        self.label = label
        self.passed = self.failed = self.skipped = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("[%s] %s %s%s" % (self.label, "PASS" if ok else "FAIL", what,
                                (": " + detail) if detail else ""))

    def counts(self, what, p, f, s):
        self.passed += p
        self.failed += f
        self.skipped += s
        print("[%s] %s %s: %d passed, %d failed, %d skipped" %
              (self.label, "PASS" if f == 0 else "FAIL", what, p, f, s))


def blocks(lines, begin, end):
    """Yield (name, body lines, end line) for each BEGIN..END block."""
    cur = None
    for ln in lines:
        if ln == begin or ln.startswith(begin + " "):
            cur = (ln[len(begin):].strip(), [])
        elif ln.startswith(end) and cur is not None:
            yield cur[0], cur[1], ln
            cur = None
        elif cur is not None:
            cur[1].append(ln)
    if cur is not None:
        yield cur[0], cur[1], None


def parse_tap(parser, body):
    """Parse one (K)TAP document; return (passed, failed, skipped, log)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        test = parser.parse_run_tests(body)
    c = test.counts
    # Crashes and parser errors (a truncated document) count as failures.
    failed = c.failed + c.crashed + c.errors
    return c.passed, failed, c.skipped, out.getvalue()


# A WARN: "cut here", the message, then the "WARNING: CPU: ... at" line.
# A "cut here" with no header within WARN_MAX_LINES stands alone.
WARN_MAX_LINES = 20
WARN_CUT = re.compile(r"------------\[ cut here \]------------")
WARN_HEAD = re.compile(r"WARNING: CPU: \d+ PID: \d+ at ")


def group_reports(console):
    """Group the report lines of the log: yield (kind, first report line, lines)."""
    warn = None
    kcsan = None
    for ln in console:
        text = STRIP_TIME.sub("", ln).strip()
        kind = next((k for k, rx in REPORTS if rx.search(text)), None)
        if kcsan is not None:
            if kind is None and not KCSAN_END.match(text) and len(kcsan[2]) < KCSAN_MAX_LINES:
                kcsan[2].append(text)
                continue
            yield kcsan  # its closing line, another report, or too long
            kcsan = None
            if kind is None:
                continue
        if kind == "KCSAN":
            if warn is not None:  # a report ends a WARN still open
                yield warn
                warn = None
            kcsan = (kind, text, [text])
            continue
        if warn is not None:
            if WARN_HEAD.search(text):  # the WARN's own header closes it
                warn[2].append(text)
                yield warn
                warn = None
                continue
            if kind is None and len(warn[2]) < WARN_MAX_LINES:  # its message
                warn[2].append(text)
                continue
            yield warn  # no header in time, or another report: it ends
            warn = None
        if kind is None:
            continue
        if WARN_CUT.search(text):
            warn = (kind, text, [text])
        else:
            yield kind, text, [text]
    if warn is not None:
        yield warn
    if kcsan is not None:
        yield kcsan


# The "Workqueue:" line of a report names the work item the kworker was
# running, not a frame of either access: a race inside the workqueue core
# while goalloc's work item ran is not goalloc's.
WORKQUEUE_LINE = re.compile(r"\bWorkqueue: ")


# Races the core kernel has by design, made by core-kernel code on
# core-kernel data below a call goalloc makes (so goalloc frames are in the
# caller chain, but neither racing access is goalloc's).  Each entry: the
# report's title, a frame that must be in its stacks (which pins down the
# data raced on), and why it is benign.  The title must name no goalloc
# function.  Documentation/testing.rst, "The race detector", lists them.
KERNEL_RACES = [
    # unmap_mapping_range() (a userspace span leaving its arena) flushes the
    # TLBs of the CPUs in mm_cpumask(mm); smp_call_function_many_cond() reads
    # that mask with plain loads while another CPU switching away from the
    # mm clears its bit (switch_mm_irqs_off()).  kernel/smp.c handles a mask
    # cleared under it since "smp_call_function_many: handle concurrent
    # clearing of mask" (2011); the writer is an atomic bitop, so KCSAN sees
    # only the value change ("race at unknown origin").
    (re.compile(r"data-race in smp_call_function_many_cond(\+0x[0-9a-f]+/0x[0-9a-f]+)?$"),
     re.compile(r"^flush_tlb_mm_range\+0x"),
     "the TLB shootdown's read of mm_cpumask"),
]


def known_kernel_race(lines):
    """The reason of the KERNEL_RACES entry a KCSAN report matches, or None."""
    title = lines[0]
    if GOALLOC_FRAME.search(title):
        return None
    for title_rx, frame_rx, why in KERNEL_RACES:
        if title_rx.search(title) and any(frame_rx.search(t) for t in lines[1:]):
            return why
    return None


def foreign_kcsan(kind, lines):
    """A KCSAN report none of whose frames is goalloc's (the core kernel's
    own), or one of the core kernel's races by design (KERNEL_RACES)."""
    if kind != "KCSAN":
        return False
    if not any(GOALLOC_FRAME.search(t) for t in lines if not WORKQUEUE_LINE.search(t)):
        return True
    return known_kernel_race(lines) is not None


def kernel_reports(console, expect):
    """Return (unexpected (kind, line) reports, set of expected REGEXes seen,
    foreign KCSAN reports as lists of lines)."""
    found = []
    seen = set()
    foreign = []
    for kind, first, lines in group_reports(console):
        hits = [rx for rx in expect if any(re.search(rx, t) for t in lines)]
        if hits:
            seen.update(hits)
        elif foreign_kcsan(kind, lines):
            foreign.append(lines)
        else:
            found.append((kind, first))
    return found, seen, foreign


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rundir")
    ap.add_argument("--kind", choices=("qemu", "uml"), required=True)
    ap.add_argument("--ksrc", required=True, help="kernel source (for kunit_parser)")
    ap.add_argument("--label", default=None)
    ap.add_argument("--expect-suites", type=int, default=0)
    ap.add_argument("--expect-report", action="append", default=[])
    args = ap.parse_args()

    sys.path.insert(0, os.path.join(os.path.abspath(args.ksrc), "tools/testing/kunit"))
    import kunit_parser  # the kernel's own KTAP parser

    def read(name):
        try:
            with open(os.path.join(args.rundir, name), errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    v = Verdict(args.label or os.path.basename(os.path.normpath(args.rundir)))
    console, results = read("console.log"), read("results.log")
    status = " ".join(read("status")).strip()

    # 1. The guest ran /init to its end and powered off the expected way.
    began = any(ln.startswith("GA-BEGIN") for ln in results)
    ended = any(ln.startswith("GA-END") for ln in results)
    if status == "timeout":
        v.check(False, "guest ended", "timed out (wall-clock limit)")
    elif args.kind == "qemu" and status != "exit 1":
        v.check(False, "guest ended", "QEMU %s, not a debug-exit power-off "
                "(panic or crash)" % (status or "status missing"))
    elif not began or not ended:
        v.check(False, "guest ended", "/init %s" % ("never reported" if not began
                                                   else "stopped before GA-END"))
    else:
        v.check(True, "guest ended")

    # 2. Modules loaded and unloaded.
    loaded = set()
    for ln in results:
        m = re.match(r"GA-MODULE (load|unload) (\S+) rc=(\d+)", ln)
        if not m:
            continue
        op, mod, rc = m.group(1), m.group(2), int(m.group(3))
        v.check(rc == 0, "module %s %s" % (op, mod), "" if rc == 0 else "rc=%d" % rc)
        if op == "load" and rc == 0:
            loaded.add(mod)
        elif op == "unload" and rc == 0:
            loaded.discard(mod)
    if ended and loaded:
        v.check(False, "modules unloaded", "still loaded: " + " ".join(sorted(loaded)))

    # 3. KUnit suites, one KTAP document each.
    nsuites = 0
    for name, body, end in blocks(results, "GA-KTAP-BEGIN", "GA-KTAP-END"):
        nsuites += 1
        p, f, s, log = parse_tap(kunit_parser, body)
        if end is None:
            f += 1
        if f:
            sys.stdout.write(log)
        v.counts("kunit " + name, p, f, s)
    if nsuites < args.expect_suites:
        v.check(False, "kunit suites", "%d of %d expected suites reported"
                % (nsuites, args.expect_suites))

    # 4. kselftest binaries, one TAP document each; the exit code counts too.
    for name, body, end in blocks(results, "GA-TAP-BEGIN", "GA-TAP-END"):
        p, f, s, log = parse_tap(kunit_parser, body)
        m = re.search(r"rc=(\d+)", end or "")
        rc = int(m.group(1)) if m else -1
        if rc not in (0, 4) and f == 0:  # 4: kselftest's "skip"
            f = 1
        if f:
            sys.stdout.write("\n".join(body) + "\n")
        v.counts("selftest " + name, p, f, s)

    # 5. The kernel log, and kmemleak's own report.
    leak_lines = [ln for _, body, _ in blocks(results, "GA-KMEMLEAK-BEGIN", "GA-KMEMLEAK-END")
                  for ln in body]
    reports, seen, foreign = kernel_reports(console + leak_lines, args.expect_report)
    for rx in args.expect_report:
        v.check(rx in seen, "expected report /%s/" % rx,
                "" if rx in seen else "not in the kernel log")
    # KCSAN reports of races inside the core kernel, with no goalloc frame in
    # either stack, are not goalloc's (Documentation/testing.rst, "The race
    # detector"): counted and kept in RUNDIR/kcsan-foreign.log, not failed.
    foreign_log = os.path.join(args.rundir, "kcsan-foreign.log")
    if foreign:
        with open(foreign_log, "w") as f:
            for lines in foreign:
                f.write("\n".join(lines) + "\n\n")
        titles = set()
        for lines in foreign:
            why = known_kernel_race(lines)
            titles.add(lines[0] + ("" if why is None else " [by design: %s]" % why))
        titles = sorted(titles)
        print("[%s] NOTE %d KCSAN report(s) without a goalloc access, not counted "
              "against goalloc (%s): %s" % (v.label, len(foreign), foreign_log,
                                           "; ".join(titles)))
    elif os.path.exists(foreign_log):
        os.unlink(foreign_log)
    if reports:
        kinds = sorted(set(k for k, _ in reports))
        v.check(False, "kernel log clean", "%d report(s) [%s]; first: %s"
                % (len(reports), ", ".join(kinds), reports[0][1]))
    else:
        v.check(True, "kernel log clean")

    with open(os.path.join(args.rundir, "counts"), "w") as f:
        f.write("%d %d %d\n" % (v.passed, v.failed, v.skipped))
    return 0 if v.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
