#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""goalloc's instruction budget: judge an icount run against bench/budget.txt.

Usage:
  bench-budget.py args   [--budget FILE]            the goalloc_bench.ko parameters
  bench-budget.py check  RAW.csv [--budget FILE] [--out DIR]
  bench-budget.py update RAW.csv [--budget FILE]    rewrite base and max from RAW.csv

RAW.csv holds goalloc_bench's rows from a run under QEMU -icount shift=0,
where ns_per_op is an exact count of guest instructions per operation
(tools/check.sh bench-budget, tools/bench.sh icount).  The budget file names
the run's parameters, the margin, and one line per measurement:

  params tests=pair,nthenn,bulk sizes=... rounds=3 iters=5000 allocs=...
  margin 2
  margin nthenn 16384 12      (optional: a wider margin for one test and size)
  # test  variant  size  base  max
  pair    -        64    198.00  202

base is goalloc's count (median over the rounds) when the budget was last
set, max = base * (1 + margin/100) rounded up.  "check" prints a PASS or
FAIL line per budget line and writes DIR/counts ("passed failed skipped"):

  * FAIL when goalloc's count is above max: a slowdown;
  * FAIL when it is below base * (1 - margin/100): a speed-up that did not
    lower the budget in the same commit ("update" does it);
  * FAIL when a budget line has no measurement (a test that did not run
    cannot pass).

"update" keeps the lines (test, variant, size) and the parameters and
rewrites base and max from RAW.csv.
"""
import argparse
import collections
import math
import os
import statistics
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = os.path.join(TOP, "bench/budget.txt")
TAG = "[bench-budget]"


class Budget:
    def __init__(self, path):
        self.path = path
        self.lines = []          # the file's lines, kept for "update"
        self.params = None
        self.margin = None
        self.entries = []        # (index into lines, test, variant, size, base, max)
        self.wide = {}           # (test, size) -> margin in percent, where wider
        with open(path) as f:
            for i, raw in enumerate(f.read().splitlines()):
                self.lines.append(raw)
                line = raw.split("#", 1)[0].strip()
                if not line:
                    continue
                words = line.split()
                if words[0] == "params":
                    self.params = " ".join(words[1:])
                elif words[0] == "margin" and len(words) == 2:
                    self.margin = float(words[1].rstrip("%"))
                elif words[0] == "margin" and len(words) == 4:
                    # margin TEST SIZE PCT: a wider margin for one test at one size
                    self.wide[(words[1], int(words[2]))] = float(words[3].rstrip("%"))
                elif len(words) == 5:
                    self.entries.append((i, words[0], words[1], int(words[2]),
                                         float(words[3]), float(words[4])))
                else:
                    sys.exit("%s:%d: cannot read %r" % (path, i + 1, raw))
        if self.params is None or self.margin is None or not self.entries:
            sys.exit("%s: needs a params line, a margin line and budget lines" % path)

    def margin_for(self, test, size):
        return self.wide.get((test, size), self.margin)

    def max_for(self, base, test, size):
        return math.ceil(base * (1 + self.margin_for(test, size) / 100))


def medians(path):
    """(test, variant, size) -> alloc -> median count over the rounds."""
    per = collections.defaultdict(lambda: collections.defaultdict(list))
    header = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if header is None:
                header = line.split(",")
                continue
            r = dict(zip(header, line.split(",")))
            per[(r["test"], r["variant"], int(r["size"]))][r["alloc"]].append(
                float(r["ns_per_op"]))
    return {k: {a: statistics.median(v) for a, v in d.items()} for k, d in per.items()}


def check(budget, med, out):
    passed = failed = 0
    for _, test, variant, size, base, mx in budget.entries:
        margin = budget.margin_for(test, size)
        low = 1 - margin / 100
        name = "goalloc %s %s %d" % (test, variant, size)
        got = med.get((test, variant, size), {}).get("goalloc")
        if got is None:
            ok, why = False, "no measurement (did the run's parameters change?)"
        elif got > mx:
            ok, why = False, ("%.2f instructions/op > budget %d (base %.2f, +%.1f%%): a slowdown"
                              % (got, mx, base, (got / base - 1) * 100))
        elif got < base * low:
            ok, why = False, ("%.2f instructions/op < %.2f (base %.2f - %g%%): faster; lower the "
                              "budget in the same commit (tools/bench-budget.py update)"
                              % (got, base * low, base, margin))
        else:
            ok = True
            slub = med[(test, variant, size)].get("cache")
            why = "%.2f instructions/op <= %d (base %.2f%s)" % (
                got, mx, base, "; kmem_cache %.2f, %.2fx" % (slub, got / slub) if slub else "")
        passed += ok
        failed += not ok
        print("%s %s %s: %s" % (TAG, "PASS" if ok else "FAIL", name, why))
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "counts"), "w") as f:
            f.write("%d %d 0\n" % (passed, failed))
    return failed == 0


def entry_line(test, variant, size, base, mx):
    return "%-7s %-18s %6d %9.2f %6d" % (test, variant, size, base, mx)


def update(budget, med):
    lines = list(budget.lines)
    missing = []
    for i, test, variant, size, _, _ in budget.entries:
        got = med.get((test, variant, size), {}).get("goalloc")
        if got is None:
            missing.append("%s %s %d" % (test, variant, size))
            continue
        lines[i] = entry_line(test, variant, size, got, budget.max_for(got, test, size))
    if missing:
        sys.exit("bench-budget: no measurement for %s" % ", ".join(missing))
    with open(budget.path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("bench-budget: %d budget lines rewritten in %s" % (len(budget.entries), budget.path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=("args", "check", "update"))
    ap.add_argument("raw", nargs="?")
    ap.add_argument("--budget", default=BUDGET)
    ap.add_argument("--out")
    a = ap.parse_args()
    budget = Budget(a.budget)
    if a.cmd == "args":
        print(budget.params)
        return 0
    if not a.raw:
        ap.error("%s needs RAW.csv" % a.cmd)
    med = medians(a.raw)
    if a.cmd == "update":
        update(budget, med)
        return 0
    return 0 if check(budget, med, a.out) else 1


if __name__ == "__main__":
    sys.exit(main())
