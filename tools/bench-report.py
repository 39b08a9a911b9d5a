#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn goalloc_bench's raw rows into medians, ratios, a Markdown report and plots.

Usage: tools/bench-report.py RESULTS_DIR

Reads RESULTS_DIR/raw-<env>.csv (rows "test,variant,size,alloc,round,
ns_per_op,cycles_per_op" from bench/goalloc_bench.c) for each environment
present (icount, numa, uml, tcg) and writes:

  bench.csv   env,test,variant,size,ratio_vs,goalloc_median,median_ratio,
              min_ratio,max_ratio
  bench.md    instructions per operation (icount) first, the NUMA run's
              (numa: icount, two nodes), then for the timed runs
              calibration, the bar, and every measurement
  *.png       plots (gnuplot), when gnuplot is installed; the heap's
              pictures (goalloc-classes.png, goalloc-chunks.png) if
              tools/bench.sh trace drew them

and, from RESULTS_DIR/raw-routed.csv (tools/routed-bench.py: real ext4,
jbd2 and mbcache routed to goalloc against the same built normally), a
section of its own in bench.md and routed-summary.txt, the few lines
"make run" shows.

icount is QEMU with -icount shift=0: the guest clock advances one ns per
guest instruction, so its "ns" are instructions, exact and the same from
run to run; its ratio is goalloc's median count over SLUB's.  For the timed
runs a ratio is goalloc's time over SLUB's *in the same round* (the rounds
interleave the allocators), so a drift of the machine cancels out; the
median over rounds is reported with its min and max.
"""
import collections
import csv
import os
import shutil
import statistics
import subprocess
import sys

ENVS = ("icount", "numa", "uml", "tcg")
TIMED = ("uml", "tcg")
ALLOCS = ("goalloc", "kmalloc", "cache", "loop")
TEST_ORDER = {"pair": 0, "nthenn": 1, "bulk": 2, "random": 3}

# The bar in instructions (issue 12): test, label, the SLUB side, the limit.
ICOUNT_BAR = [
    ("pair", "alloc+free pair", "cache", 0.5),
    ("nthenn", "N allocs then N frees", "cache", 0.6),
    ("bulk", "bulk", "cache", 0.8),
]

# The bar (../shared/design/goalloc.md): test -> (the SLUB side, the limit).
BAR = [
    ("pair", "alloc+free pair", ("kmalloc", "cache"), 0.7),
    ("nthenn", "N allocs then N frees", ("kmalloc", "cache"), 0.8),
    ("bulk", "bulk", ("cache",), 1.0),
    ("remote", "remote free", ("kmalloc", "cache"), 1.0),
]


def gcache_table(med, what, digits):
    """Markdown lines: goalloc's named caches (gcache) beside kmem_cache and
    goalloc_alloc(), for every measurement that has all three; none if the
    run did not ask for gcache."""
    keys = sorted((k for k in med if k[0] in TEST_ORDER and med[k].get("gcache")
                   and med[k].get("cache") and med[k].get("goalloc")),
                  key=lambda k: (TEST_ORDER[k[0]], k[1], k[2]))
    if not keys:
        return []
    out = ["### Named caches against kmem_cache (%s)" % what, "",
           "A goalloc named cache (*gcache*: goalloc_cache_alloc/free and the bulk "
           "calls, a cache of the measured size) beside kmem_cache and goalloc_alloc(); "
           "the same loop around each, *loop* its own cost.", "",
           "| test | variant | size | gcache | kmem_cache | goalloc | loop | "
           "gcache / kmem_cache | goalloc / kmem_cache |",
           "|---|---|---|---|---|---|---|---|---|"]
    for k in keys:
        m = med[k]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            k[0], k[1], k[2], fmt(m["gcache"], digits), fmt(m["cache"], digits),
            fmt(m["goalloc"], digits), fmt(m.get("loop"), digits),
            fmt(m["gcache"] / m["cache"]), fmt(m["goalloc"] / m["cache"])))
    out.append("")
    summary = []
    for test in sorted({k[0] for k in keys}, key=lambda t: TEST_ORDER[t]):
        rs = [med[k]["gcache"] / med[k]["cache"] for k in keys if k[0] == test]
        summary.append("- %s: gcache / kmem_cache geomean %s (%s) over %d measurements" % (
            test, fmt(geomean(rs)), span(rs, 2), len(rs)))
    # The summary first, then the table.
    return out[:4] + summary + [""] + out[4:]


def load(path):
    rows = []
    header = None
    meta = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                meta.append(line.lstrip("# "))
                continue
            if header is None:
                header = line.split(",")
                continue
            r = dict(zip(header, line.split(",")))
            r["size"] = int(r["size"])
            r["round"] = int(r["round"])
            r["ns"] = float(r["ns_per_op"])
            rows.append(r)
    return meta, rows


def aggregate(rows):
    """(test, variant, size) -> alloc -> {round: ns}"""
    t = collections.defaultdict(lambda: collections.defaultdict(dict))
    for r in rows:
        t[(r["test"], r["variant"], r["size"])][r["alloc"]][r["round"]] = r["ns"]
    return t


def ratios(per_alloc, a, b):
    ra, rb = per_alloc.get(a, {}), per_alloc.get(b, {})
    return [ra[k] / rb[k] for k in sorted(set(ra) & set(rb)) if rb[k] > 0]


def geomean(xs):
    xs = [x for x in xs if x > 0]
    if not xs:
        return float("nan")
    p = 1.0
    for x in xs:
        p *= x
    return p ** (1.0 / len(xs))


def fmt(x, nd=2):
    return "-" if x is None or x != x else ("%.*f" % (nd, x))


def span(xs, nd=0):
    """'a-b' (or 'a' when they are equal) of a list of numbers, '-' if empty."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    lo, hi = fmt(min(xs), nd), fmt(max(xs), nd)
    return lo if lo == hi else "%s-%s" % (lo, hi)


def icount_medians(rows):
    """(test, variant, size) -> alloc -> median instructions per operation."""
    agg = aggregate(rows)
    return {k: {a: statistics.median(v.values()) for a, v in per.items() if v}
            for k, per in agg.items()}


# The summary rows of the icount table: label, which measurements, SLUB sides.
ICOUNT_GROUPS = [
    ("alloc+free pair, 8 B - 8 KiB", lambda t, v, s: t == "pair" and s <= 8192),
    ("alloc+free pair above 8 KiB (kmalloc: page allocator)",
     lambda t, v, s: t == "pair" and s > 8192),
    ("N allocs then N frees, 8 B - 8 KiB (N = 32, 256, 10000; in order, shuffled)",
     lambda t, v, s: t == "nthenn" and s <= 8192),
    ("N allocs then N frees above 8 KiB", lambda t, v, s: t == "nthenn" and s > 8192),
    ("bulk (N = 8, 32, 128)", lambda t, v, s: t == "bulk"),
    ("random sizes 8 B - 4 KiB, 100k live", lambda t, v, s: t == "random"),
]


def icount_section(meta, rows, csv_rows):
    """The instruction-exact tables: a summary, the bar, every measurement."""
    med = icount_medians(rows)
    md = ["## Instructions per operation (QEMU -icount, one vCPU, perf kernel)", ""]
    md.append("Exact counts: under `-icount shift=0` the guest's clock advances one ns per "
              "guest instruction, so a run gives the same figures every time. An operation is "
              "one object allocated, written once and freed (per object for N-then-N and "
              "bulk). Every count includes the benchmark's own loop; *loop* is the same loop "
              "around no allocator (a static object, an empty free), so *goalloc - loop* is "
              "what the allocator itself executes. Ratios are goalloc's count over SLUB's, "
              "loop included on both sides (not subtracted). Median over the rounds.")
    md.append("")
    md += ["    " + m for m in meta]
    md.append("")
    md += ["| pattern | goalloc | kmalloc | kmem_cache | loop | goalloc / kmalloc | "
           "goalloc / kmem_cache |", "|---|---|---|---|---|---|---|"]
    for label, sel in ICOUNT_GROUPS:
        keys = [k for k in med if sel(*k)]
        if not keys:
            continue
        cells = []
        for a in ("goalloc", "kmalloc", "cache", "loop"):
            cells.append(span([med[k].get(a) for k in keys]))
        for slub in ("kmalloc", "cache"):
            rs = [med[k]["goalloc"] / med[k][slub] for k in keys
                  if med[k].get("goalloc") and med[k].get(slub)]
            cells.append("%s (%s)" % (fmt(geomean(rs)), span(rs, 2)) if rs else "-")
        md.append("| %s | %s |" % (label, " | ".join(cells)))
    md.append("")
    md.append("Counts as min-max over the sizes (and variants); ratios as the geometric "
              "mean (min-max).")
    md.append("")
    md += ["### The bar in instructions (issue 12)", "",
           "| pattern | vs | bar | geomean | worst | met |", "|---|---|---|---|---|---|"]
    for test, label, slub, limit in ICOUNT_BAR:
        rs = [(med[k]["goalloc"] / med[k][slub], k[2], k[1]) for k in med
              if k[0] == test and med[k].get("goalloc") and med[k].get(slub)]
        if not rs:
            continue
        worst = max(rs)
        md.append("| %s | %s | <= %.2f | %s | %s (%s %s) | %d/%d |" % (
            label, slub, limit, fmt(geomean([r for r, _, _ in rs])), fmt(worst[0]), worst[1],
            worst[2], sum(1 for r, _, _ in rs if r <= limit), len(rs)))
    md.append("")
    calib = sorted((k[1], v.get("-")) for k, v in med.items() if k[0] == "calib")
    if calib:
        md += ["### Calibration (instructions per primitive, loop included)", "",
               "| primitive | instructions |", "|---|---|"]
        md += ["| %s | %s |" % (name, fmt(v)) for name, v in calib]
        md.append("")
    md += ["### Every measurement (instructions per operation)", "",
           "| test | variant | size | goalloc | kmalloc | kmem_cache | loop | goalloc - loop | "
           "vs kmalloc | vs kmem_cache |", "|---|---|---|---|---|---|---|---|---|---|"]
    for k in sorted((k for k in med if k[0] in TEST_ORDER),
                    key=lambda k: (TEST_ORDER[k[0]], k[1], k[2])):
        m = med[k]
        g, lp = m.get("goalloc"), m.get("loop")
        cells = []
        for slub in ("kmalloc", "cache"):
            if g and m.get(slub):
                r = g / m[slub]
                cells.append(fmt(r))
                csv_rows.append(["icount", k[0], k[1], k[2], slub, fmt(g), fmt(r, 3),
                                 fmt(r, 3), fmt(r, 3)])
            else:
                cells.append("-")
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            k[0], k[1], k[2] or "mixed", fmt(g), fmt(m.get("kmalloc")), fmt(m.get("cache")),
            fmt(lp), fmt(g - lp if g is not None and lp is not None else None),
            cells[0], cells[1]))
    md.append("")
    md += gcache_table(med, "instructions per operation", 2)
    return md


NUMA_VARIANTS = [
    ("local_pair", "pair, this CPU's node"),
    ("local_n256", "256 allocs then 256 frees, this CPU's node"),
    ("remote_pair", "pair, the other node"),
    ("remote_n256", "256 allocs then 256 frees, the other node"),
    ("alternate_n2", "pairs of allocs alternating the two nodes"),
]


def numa_section(meta, rows):
    """The NUMA run: _node calls for this CPU's node and the other, exact counts."""
    med = icount_medians(rows)
    md = ["## NUMA: `_node` calls, instructions per object (QEMU -icount, two nodes)", ""]
    md.append("The perf kernel on two NUMA nodes of one vCPU each (`run-qemu.sh -n 2`); the "
              "test runs on one CPU and asks for its own node or the other: goalloc_alloc_node "
              "/ kmalloc_node / kmem_cache_alloc_node / goalloc_cache_alloc_node. Counts as "
              "in the table above (loop included; median over the rounds). After each "
              "measurement the bench checks page_to_nid() of the objects; any off their node "
              "are listed under the run's header.")
    md.append("")
    md += ["    " + m for m in meta]
    md.append("")
    md += ["| pattern | size | goalloc | kmalloc | kmem_cache | gcache | loop | "
           "goalloc / kmalloc | goalloc / kmem_cache | gcache / kmem_cache |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for variant, label in NUMA_VARIANTS:
        for k in sorted(k for k in med if k[0] == "numa" and k[1] == variant):
            m = med[k]
            cells = [fmt(m.get(a)) for a in ("goalloc", "kmalloc", "cache", "gcache", "loop")]
            for a, b in (("goalloc", "kmalloc"), ("goalloc", "cache"), ("gcache", "cache")):
                cells.append(fmt(m[a] / m[b]) if m.get(a) and m.get(b) else "-")
            md.append("| %s | %s | %s |" % (label, k[2], " | ".join(cells)))
    md.append("")
    return md


def routed_load(path):
    """kernel -> side -> round -> metric -> value"""
    d = collections.defaultdict(lambda: collections.defaultdict(dict))
    with open(path) as f:
        for r in csv.DictReader(f):
            d[r["kernel"]][r["side"]].setdefault(int(r["round"]), {})[r["metric"]] = \
                int(r["value"])
    return d


KERNEL_NOTE = {
    "stock": ("Debian's stock 6.12 kernel (6.12.117+deb12-amd64: no KASAN, no lockdep; "
              "goalloc and the routed modules built against its headers, SLUB's side its "
              "own modules): the memory figures that compare like with like"),
    "debug": ("the debug kernel (KASAN, lockdep, kmemleak): KASAN's records sit inside "
              "SLUB's objects and not goalloc's, and its quarantine keeps SLUB's freed "
              "objects allocated for a while, which flatters goalloc's memory; both "
              "sides run about twenty times slower than on the stock kernel"),
}


def med_span(xs, scale=1.0, nd=1):
    """"median [min, max]" of xs / scale."""
    xs = [x / scale for x in xs]
    return "%s [%s, %s]" % (fmt(statistics.median(xs), nd), fmt(min(xs), nd), fmt(max(xs), nd))


def routed_section(path, out):
    """Markdown lines for the routed side-by-side, a subsection per kernel
    (stock first); writes routed-summary.txt."""
    d = routed_load(path)
    md, summary = [], []
    for kern in sorted(d, key=lambda k: (k != "stock", k)):
        m, s = routed_kernel(kern, d[kern])
        md += m
        summary += s
    with open(os.path.join(out, "routed-summary.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")
    return md


def routed_kernel(kern, d):
    """(markdown lines, summary lines) for one kernel's runs."""
    g, s = d.get("goalloc", {}), d.get("slub", {})
    both = sorted(set(g) & set(s))
    if not both:
        return (["## Real modules on the %s kernel" % kern, "",
                 "raw-routed.csv holds no round with both sides.", ""], [])

    def col(side, metric, rounds=both):
        return [side[r][metric] for r in rounds if metric in side[r]]

    md = ["## Real modules: ext4, jbd2, mbcache on goalloc and on SLUB, %s kernel" % kern, ""]
    md.append("ext4, jbd2 and mbcache of the 6.12 source, unmodified: routed to goalloc "
              "(kmod/goalloc_slab.h) against the same built normally (SLUB), under "
              "tools/routed-test.sh's workload (mkfs.ext4 on a loop device over tmpfs, "
              "fsload populate, mutate, verify, umount, e2fsck, remount, verify), 2 vCPUs "
              "under TCG. On %s. %d rounds, each a fresh boot per side, the order "
              "alternating; %s files; median [min, max] over rounds; ratio = goalloc / SLUB "
              "in the same round. The perf kernel has no block layer." % (
                  KERNEL_NOTE.get(kern, "the %s kernel" % kern), len(both),
                  g[both[0]].get("files", "?")))
    md.append("")
    md += ["| elapsed (s, TCG) | goalloc | SLUB | goalloc / SLUB |", "|---|---|---|---|"]
    summary = []
    for metric, label in (("elapsed_ms", "whole workload, mkfs to umount"),
                          ("populate_ms", "fsload populate"),
                          ("mutate_ms", "fsload mutate"),
                          ("verify_ms", "fsload verify (warm)"),
                          ("verify_remount_ms", "fsload verify (after remount)")):
        rs = [g[r][metric] / s[r][metric] for r in both
              if s[r].get(metric) and metric in g[r]]
        if not rs:
            continue
        md.append("| %s | %s | %s | %s |" % (label, med_span(col(g, metric), 1000),
                                             med_span(col(s, metric), 1000),
                                             med_span(rs, 1, 2)))
        if metric == "elapsed_ms":
            summary.append("%s kernel, %s files, elapsed mkfs to umount under TCG (s, median "
                           "[min, max] of %d rounds): goalloc %s, SLUB %s, goalloc/SLUB %s" % (
                               kern, g[both[0]].get("files", "?"), len(both), med_span(col(g, metric), 1000),
                               med_span(col(s, metric), 1000), med_span(rs, 1, 2)))
    md.append("")

    def grow(side, what):
        return [side[r]["peak_%s_kib" % what] - side[r]["before_%s_kib" % what] for r in both]

    def kib(xs):
        return med_span(xs, 1, 0)

    md += ["| memory while mounted, after the workload (KiB) | goalloc | SLUB |",
           "|---|---|---|"]
    md.append("| the modules' caches: goalloc's spans / SLUB's slabs | %s | %s |" % (
        kib(col(g, "peak_caches_kib")), kib(col(s, "peak_caches_kib"))))
    # The objects' own bytes: objects in use times the module's object size
    # (goalloc's objsize is the size the module asked for, the same on both
    # sides; SLUB's on the debug kernel carries KASAN's records).
    size = {}
    for r in both:
        for k, v in g[r].items():
            if k.startswith("cache:") and k.endswith(":objsize"):
                size[k.split(":")[1]] = v

    def live(side):
        return [sum(v * size.get(k.split(":")[1], 0) for k, v in side[r].items()
                    if k.startswith("cache:") and k.endswith(":objs")) // 1024 for r in both]
    md.append("| the modules' caches: objects x the module's object size (SLUB's count "
              "includes its per-CPU slabs' free objects) | %s | %s |" % (
        kib(live(g)), kib(live(s))))
    md.append("| goalloc's heap grew by (the caches and the modules' kmalloc) | %s | - |" %
              kib(grow(g, "heap")))
    md.append("| SLUB's slabs grew by (/proc/meminfo Slab) | %s | %s |" % (
        kib(grow(g, "slab")), kib(grow(s, "slab"))))
    tot_g = [a + b for a, b in zip(grow(g, "heap"), grow(g, "slab"))]
    md.append("| kernel slab memory grew by, total (goalloc's heap + SLUB's slabs) | %s | %s |"
              % (kib(tot_g), kib(grow(s, "slab"))))
    md.append("")
    summary.append("  their caches while mounted (KiB): goalloc %s, SLUB %s (goalloc's "
                   "objects in use: %s KiB)" % (
                       fmt(statistics.median(col(g, "peak_caches_kib")), 0),
                       fmt(statistics.median(col(s, "peak_caches_kib")), 0),
                       fmt(statistics.median(live(g)), 0)))
    summary.append("  all slab memory the workload added (goalloc's heap + SLUB's slabs, KiB): "
                   "goalloc %s, SLUB %s" % (fmt(statistics.median(tot_g), 0),
                                fmt(statistics.median(grow(s, "slab")), 0)))

    # Per cache, the first round of each side: objects, held, object size.
    r0 = both[0]
    names = sorted({k.split(":")[1] for k in list(g[r0]) + list(s[r0])
                    if k.startswith("cache:")},
                   key=lambda n: -max(g[r0].get("cache:%s:kib" % n, 0),
                                      s[r0].get("cache:%s:kib" % n, 0)))
    md += ["Per cache while mounted (round %d): objects, memory held (KiB), object "
           "size as each allocator lays it out. goalloc's objects are those in use; "
           "SLUB's are /proc/slabinfo's active_objs, which count the free objects of "
           "per-CPU slabs as active; SLUB's size is its slot (on the debug kernel with "
           "KASAN's records and redzones)." % r0, "",
           "| cache | goalloc objects | goalloc KiB | goalloc size | SLUB objects | "
           "SLUB KiB | SLUB size |", "|---|---|---|---|---|---|---|"]
    for n in names:
        def c(side, m):
            v = side[r0].get("cache:%s:%s" % (n, m))
            return "-" if v is None else str(v)
        md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            n, c(g, "objs"), c(g, "kib"), c(g, "objsize"), c(s, "objs"), c(s, "kib"),
            c(s, "objsize")))
    md.append("")
    return md, summary


def profile_section(path):
    """The allocation-site profile's cost: instructions per operation with
    goalloc's profile_rate off, at 512 KiB (Go's default) and at 1."""
    per = {}
    rates = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["alloc"] != "goalloc":
                continue
            if r["profile_rate"] not in rates:
                rates.append(r["profile_rate"])
            key = (r["test"], r["variant"], int(r["size"]))
            per.setdefault(key, {}).setdefault(r["profile_rate"], []).append(
                float(r["ns_per_op"]))
    if "0" not in rates:
        return []
    on = [x for x in rates if x != "0"]
    md = ["## Allocation-site profile and tracepoints: cost (instructions, exact)", "",
          "goalloc's instructions per operation (loop included) with `profile_rate` "
          "off and on, and (column trace) with the goalloc:alloc and goalloc:free "
          "events on, the profile off (tools/bench.sh profile: one icount boot per "
          "configuration; median over rounds). Off is the build the budget checks; "
          "a background pass of the heap landing in a round (the same with the "
          "profile off) moves one round, not the median.", "",
          "| test | variant | size | off | " +
          " | ".join("%s | ratio" % (x if x == "trace" else "rate " + x) for x in on) + " |",
          "|---|---|---|---|" + "---|---|" * len(on)]
    worst = {x: [] for x in on}
    for (test, variant, size), v in sorted(per.items()):
        off = statistics.median(v["0"])
        cells = []
        for x in on:
            m = statistics.median(v[x]) if x in v else None
            cells.append("%s | %s" % (fmt(m, 1), fmt(m / off, 3) if m else "-"))
            if m:
                worst[x].append(m / off)
        md.append("| %s | %s | %d | %s | %s |" % (test, variant, size, fmt(off, 1),
                                                   " | ".join(cells)))
    md.append("")
    for x in on:
        if worst[x]:
            md.append("%s: geometric mean %s, worst %s." % (
                "Events on" if x == "trace" else "Rate " + x, fmt(geomean(worst[x]), 3),
                fmt(max(worst[x]), 3)))
    md.append("")
    return md


def pictures_section(out):
    """The heap's pictures, if tools/bench.sh trace drew them."""
    pngs = [p for p in ("goalloc-classes.png", "goalloc-chunks.png")
            if os.path.exists(os.path.join(out, p))]
    if not pngs:
        return []
    md = ["## goalloc's heap at the peak of the trace replay", "",
          "goalloc's debugfs tables (classes, caches, chunks) in the replay guest after "
          "the step that left the most heap held (bench/trace/replay-init.sh), drawn by "
          "tools/goalloc-pictures.py: the bytes each size class's spans hold beside its "
          "objects' bytes, and the chunk map (each chunk a row, each 8 KiB heap page a "
          "cell: free, in a CPU's page-cache window, scavenged, or a span coloured by "
          "size class).", ""]
    md += ["![%s](%s)" % (p[:-4], p) for p in pngs]
    md.append("")
    return md


def main():
    out = sys.argv[1]
    envs = {}
    for env in ENVS:
        p = os.path.join(out, "raw-%s.csv" % env)
        if os.path.exists(p):
            envs[env] = load(p)
    routed = os.path.join(out, "raw-routed.csv")
    if not envs and not os.path.exists(routed) and \
            not os.path.exists(os.path.join(out, "raw-profile.csv")):
        sys.exit("bench-report: no raw-*.csv in %s" % out)

    csv_rows = []
    md = ["# goalloc against SLUB", ""]
    md.append("Generated by `make bench` (tools/bench.sh, tools/bench-report.py). "
              "Instructions per operation first (exact), then timing: "
              "ns per operation (an operation is one object allocated and freed, "
              "or one step of the test); ratio = goalloc / SLUB in the same round, "
              "median over rounds [min, max]. Ratios below 1 favour goalloc.")
    md.append("")
    if "icount" in envs:
        md += icount_section(*envs["icount"], csv_rows)
    if "numa" in envs:
        md += numa_section(*envs["numa"])
    prof = os.path.join(out, "raw-profile.csv")
    if os.path.exists(prof):
        md += profile_section(prof)
    head = len(md)
    timed = {e: v for e, v in envs.items() if e in TIMED}
    bar_lines = {}
    for env, (meta, rows) in timed.items():
        agg = aggregate(rows)
        md += ["## %s" % env.upper(), ""]
        md += ["    " + m for m in meta]
        md.append("")
        # Calibration.
        md += ["### Calibration (ns per operation)", "", "| primitive | median | min | max |",
               "|---|---|---|---|"]
        for (test, variant, size), per in sorted(agg.items()):
            if test != "calib":
                continue
            v = list(per["-"].values())
            md.append("| %s | %s | %s | %s |" % (variant, fmt(statistics.median(v)),
                                               fmt(min(v)), fmt(max(v))))
        md.append("")
        # Every measurement.
        md += ["### Measurements", "",
               "| test | variant | size | goalloc ns | kmalloc ns | cache ns | "
               "vs kmalloc | vs cache |", "|---|---|---|---|---|---|---|---|"]
        for (test, variant, size), per in sorted(agg.items(),
                                                 key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
            if test == "calib":
                continue
            med = {a: statistics.median(v.values()) for a, v in per.items() if v}
            cells = []
            for slub in ("kmalloc", "cache"):
                rs = ratios(per, "goalloc", slub)
                if rs:
                    m = statistics.median(rs)
                    cells.append("%s [%s, %s]" % (fmt(m), fmt(min(rs)), fmt(max(rs))))
                    csv_rows.append([env, test, variant, size, slub,
                                     fmt(med.get("goalloc")), fmt(m, 3), fmt(min(rs), 3),
                                     fmt(max(rs), 3)])
                else:
                    cells.append("-")
            md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                test, variant, size or "mixed", fmt(med.get("goalloc"), 1),
                fmt(med.get("kmalloc"), 1), fmt(med.get("cache"), 1), cells[0], cells[1]))
        md.append("")
        md += gcache_table({k: {a: statistics.median(v.values()) for a, v in per.items() if v}
                            for k, per in agg.items() if k[0] != "calib"},
                           "ns per operation; ratios of the medians over rounds", 1)
        # The bar: geometric mean over sizes of the per-size median ratios.
        for test, label, sides, limit in BAR:
            for slub in sides:
                meds = []
                for (t, variant, size), per in agg.items():
                    if t != test:
                        continue
                    rs = ratios(per, "goalloc", slub)
                    if rs:
                        meds.append((statistics.median(rs), size, variant))
                if not meds:
                    continue
                g = geomean([m for m, _, _ in meds])
                worst = max(meds)
                ok = sum(1 for m, _, _ in meds if m <= limit)
                bar_lines.setdefault((label, slub, limit), {})[env] = (g, worst, ok, len(meds))
    md_bar = ["## The bar (timing)", "",
              "Geometric mean over sizes (and variants) of the per-size median ratio; "
              "the worst case; how many cases meet the bar.", "",
              "| pattern | vs | bar | " + " | ".join("%s geomean | %s worst | %s met" %
                                                      (e, e, e) for e in timed) + " |",
              "|---|---|---|" + "---|---|---|" * len(timed)]
    for (label, slub, limit), per_env in bar_lines.items():
        cells = []
        for e in timed:
            if e in per_env:
                g, worst, ok, n = per_env[e]
                cells.append("%s | %s (%s %s) | %d/%d" % (fmt(g), fmt(worst[0]), worst[1] or "",
                                                          worst[2], ok, n))
            else:
                cells.append("- | - | -")
        md_bar.append("| %s | %s | <= %.2f | %s |" % (label, slub, limit, " | ".join(cells)))
    md_bar.append("")
    if timed:
        md = md[:head] + md_bar + md[head:]
    if os.path.exists(routed):
        md += routed_section(routed, out)
    md += pictures_section(out)

    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["env", "test", "variant", "size", "ratio_vs", "goalloc_median_ns",
                    "median_ratio", "min_ratio", "max_ratio"])
        w.writerows(csv_rows)

    if shutil.which("gnuplot"):
        for env, (meta, rows) in envs.items():
            if env == "numa":
                continue
            unit = "instructions" if env == "icount" else "ns"
            agg = aggregate(rows)
            dat = os.path.join(out, "pair-%s.dat" % env)
            with open(dat, "w") as f:
                for (test, variant, size), per in sorted(agg.items(), key=lambda kv: kv[0][2]):
                    if test != "pair":
                        continue
                    med = {a: statistics.median(v.values()) for a, v in per.items() if v}
                    f.write("%d %s %s %s\n" % (size, fmt(med.get("goalloc")),
                                               fmt(med.get("kmalloc")), fmt(med.get("cache"))))
            png = os.path.join(out, "pair-%s.png" % env)
            script = (
                "set terminal png size 900,500 noenhanced; set output '%s';"
                "set title 'alloc+free pair, %s (median %s)'; set logscale x 2;"
                "set xlabel 'object size (bytes)'; set ylabel '%s per pair';"
                "set datafile missing '-'; set key left top;"
                "plot '%s' using 1:2 with linespoints title 'goalloc',"
                " '' using 1:3 with linespoints title 'kmalloc',"
                " '' using 1:4 with linespoints title 'kmem_cache'" % (png, env.upper(), unit,
                                                                      unit, dat))
            subprocess.run(["gnuplot", "-e", script], check=False)
    print("bench-report: wrote %s" % os.path.join(out, "bench.md"))


if __name__ == "__main__":
    main()
