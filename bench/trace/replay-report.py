#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tabulate the snapshots of two replay guests (bench/trace/replay.sh).

Usage: replay-report.py GOALLOC_RESULTS KMALLOC_RESULTS [SLUB_RESULTS]
                        --stream STREAM.txt
                        [--trace NAME] [--md OUT.md] [--csv OUT.csv]
       replay-report.py --trajectory RESULTS --alloc goalloc|kmalloc|slub
                        [--every N]

Each results file holds "SNAP <phase>" ... "ENDSNAP" blocks: the replay
module's key=value result, goalloc's debugfs heap file ("key value" lines)
and "<cache dir>/slabs:<n> N0=<n>" lines, plus "REPLAY-CACHE <dir>
order=<o>" lines.  Held memory is counted in bytes:

  goalloc  heap_held_kib of its debugfs heap file (its 8 KiB heap pages in
           chunks from the page allocator), minus the value before "start"
  kmalloc  pages of the slabs of every kmalloc-* cache, minus the value
           before "start", plus the pages of live kmallocs above
           KMALLOC_MAX_CACHE_SIZE (counted by the module)
  slub     the same, of the replay's own caches of kmalloc's sizes, which
           are empty at "start" (goalloc_replay's "start slub")

sampled at every snapshot; the peak is the largest snapshot.  A peak
lands where a grow lands and moves by whole grows between builds, so the
mean over the snapshots at which at least 1 MiB is requested (the same
records for every allocator) is given beside it.  The
--trajectory form prints one run's snapshots (every Nth) and its peak, for
experiments with one allocator, with its peak and mean.
"""
import argparse
import csv
import re
import sys

PAGE = 4096
# Snapshots counted in the means: those with at least this much requested.
MEAN_FROM = 1 << 20
MEAN_FROM_TEXT = f"{MEAN_FROM / (1 << 20):g} MiB"
snaps_info = {}


def parse(path):
    orders, snaps = {}, []
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("REPLAY-BEGIN "):
                snaps_info.update(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
                continue
            m = re.match(r"REPLAY-CACHE (\S+) order=(\d+)", line)
            if m:
                orders[m.group(1)] = int(m.group(2))
                continue
            if line.startswith("SNAP "):
                cur = {"phase": line[5:], "slab_pages": 0}
                continue
            if line == "ENDSNAP":
                snaps.append(cur)
                cur = None
                continue
            if cur is None:
                continue
            m = re.match(r"(\S+)/slabs:(\d+)", line)
            if m:
                cur["slab_pages"] += int(m.group(2)) << orders.get(m.group(1), 0)
                continue
            m = re.match(r"(\w+)[= ]\s*(-?\d+)$", line)
            if m:
                cur[m.group(1)] = int(m.group(2))
    return snaps


def cached_at_peak(path):
    """Spans the CPUs cached at goalloc's peak and the bytes of their free
    slots: the "all:" total of debugfs mcaches, which replay-init.sh keeps
    at the peak and sends as GA-PIC lines; None if the log has none."""
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"GA-PIC mcaches all: (\d+) spans, (\d+) bytes free", line)
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def held(s, alloc, base):
    """Bytes the allocator holds at snapshot s."""
    if alloc == "goalloc":
        return (s["heap_held_kib"] - base["heap_held_kib"]) * 1024
    return (s["slab_pages"] - base["slab_pages"] + s["large_live_pages"]) * PAGE


def summarize(path, alloc):
    snaps = parse(path)
    if not snaps:
        sys.exit(f"replay-report: no snapshots in {path}")
    ph = {}
    for s in snaps:
        ph.setdefault(s["phase"], s)
        if s["phase"] in ("step", "end"):
            ph["last_step"] = s
    base = ph["start"]
    run = [s for s in snaps if s["phase"] in ("start", "step", "end")]
    peak = max(run, key=lambda s: held(s, alloc, base))
    # The end snapshot repeats the last step's record: count it once.
    busy = [s for i, s in enumerate(run)
            if s.get("req_live_bytes", 0) >= MEAN_FROM
            and not (s["phase"] == "end" and i and
                     run[i - 1].get("events_done") == s.get("events_done"))]
    r = {
        "alloc": alloc,
        "snapshots": len(run),
        "events": ph["end"]["events_done"],
        "req_peak": ph["end"]["req_peak_bytes"],
        "req_end": ph["end"]["req_live_bytes"],
        "usable_peak": ph["end"]["usable_peak_bytes"],
        "held_peak": held(peak, alloc, base),
        "held_peak_at_event": peak["events_done"],
        "held_end": held(ph["end"], alloc, base),
        "mean_snapshots": len(busy),
        "held_mean": round(sum(held(s, alloc, base) for s in busy) / len(busy)) if busy else 0,
        "req_mean": round(sum(s["req_live_bytes"] for s in busy) / len(busy)) if busy else 0,
        "held_freed": held(ph["freed"], alloc, base),
        "held_idle": held(ph["idle"], alloc, base),
        "held_released": held(ph["released"], alloc, base),
        # The other allocator's view of the same run: goalloc's metadata
        # lives in kmalloc caches; the kmalloc run leaves goalloc at zero.
        "kmalloc_caches_peak": max((s["slab_pages"] - base["slab_pages"]) * PAGE for s in run),
        "nr_slab_peak_every_event": ph["end"]["slab_delta_peak_pages"] * PAGE,
        "failures": ph["end"]["failures"],
        "bad_records": ph["end"]["bad_records"],
        "replay_ms": ph["end"]["replay_ns"] / 1e6,
        "slept_s": ph["end"].get("slept_ns", 0) / 1e9,
        "trace_s": ph["end"].get("trace_usec", 0) / 1e6,
    }
    if alloc == "goalloc":
        r["inuse_peak"] = max((s["heap_inuse_kib"] - base["heap_inuse_kib"]) * 1024 for s in run)
        r["chunks_released"] = ph["released"]["chunks_released"]
        cached = cached_at_peak(path)
        if cached:
            r["cached_spans_peak"], r["cached_free_peak"] = cached
    return r


def cached_note(r):
    """The CPUs' cached spans at goalloc's peak, as a clause, or ""."""
    if "cached_free_peak" not in r:
        return ""
    return (f"; free slots in the CPUs' {r['cached_spans_peak']} cached spans at peak "
            f"{kib(r['cached_free_peak'])} KiB")


def kib(b):
    return f"{b / 1024:,.0f}"


def trajectory(path, alloc, every):
    snaps = parse(path)
    base = next(s for s in snaps if s["phase"] == "start")
    run = [s for s in snaps if s["phase"] in ("start", "step", "end")]
    for i, s in enumerate(run):
        if i % every and s["phase"] != "end":
            continue
        line = [f"rec={s['events_done']}", f"held={kib(held(s, alloc, base))}",
                f"req={kib(s['req_live_bytes'])}", f"usable={kib(s['usable_live_bytes'])}"]
        if alloc == "goalloc":
            line += [f"inuse={kib((s['heap_inuse_kib'] - base['heap_inuse_kib']) * 1024)}",
                     f"cached={s.get('cached_kib', 0)}", f"kept={s.get('kept_kib', 0)}",
                     f"chunks={s['heap_chunks']}"]
        print(" ".join(line))
    r = summarize(path, alloc)
    print(f"{alloc}: held at peak {kib(r['held_peak'])} KiB at record "
          f"{r['held_peak_at_event']}; requested at peak {kib(r['req_peak'])} KiB; "
          f"held/requested {r['held_peak'] / r['req_peak']:.3f}"
          + (f"; in spans at peak {kib(r['inuse_peak'])} KiB" + cached_note(r)
             if alloc == "goalloc" else "")
          + (f"; mean held {kib(r['held_mean'])} KiB over {r['mean_snapshots']} snapshots "
             f"with at least {MEAN_FROM_TEXT} requested" if r["mean_snapshots"] else
             f"; no snapshot with {MEAN_FROM_TEXT} requested"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("goalloc", nargs="?")
    ap.add_argument("kmalloc", nargs="?")
    ap.add_argument("slub", nargs="?",
                    help="results of a third guest, SLUB from empty (replay.sh -a '... slub')")
    ap.add_argument("--trajectory")
    ap.add_argument("--alloc", default="goalloc")
    ap.add_argument("--every", type=int, default=40)
    ap.add_argument("--stream")
    ap.add_argument("--trace", default="")
    ap.add_argument("--md")
    ap.add_argument("--csv")
    ap.add_argument("--accel", default="tcg",
                    help="how QEMU ran the guests: tcg, or icount (time counts instructions)")
    a = ap.parse_args()
    if a.trajectory:
        trajectory(a.trajectory, a.alloc, a.every)
        return
    if not (a.goalloc and a.kmalloc and a.stream):
        ap.error("GOALLOC_RESULTS, KMALLOC_RESULTS and --stream are needed")

    stream = {}
    with open(a.stream) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            stream[k] = int(v)
    g = summarize(a.goalloc, "goalloc")
    k = summarize(a.kmalloc, "kmalloc")
    f = summarize(a.slub, "slub") if a.slub else None
    req = g["req_peak"]

    def waste(r, key):
        return 100.0 * (r[key] - r["req_peak" if key == "held_peak" else "req_end"]) / r[key] \
            if r[key] else 0.0

    runs = [g, k] + ([f] if f else [])

    def row(name, fmt):
        return (name,) + tuple(fmt(r) for r in runs)

    def returned(r):
        return (f"{100.0 * (1 - r['held_released'] / r['held_peak']):.1f}"
                if r["held_peak"] else "-")

    rows = [
        row("requested, peak (KiB)", lambda r: kib(r["req_peak"])),
        row("requested, end of trace (KiB)", lambda r: kib(r["req_end"])),
        row("usable (size class), peak (KiB)", lambda r: kib(r["usable_peak"])),
        row("held at peak (KiB)", lambda r: kib(r["held_peak"])),
        row("held at end of trace (KiB)", lambda r: kib(r["held_end"])),
        row("waste at peak (% of held)", lambda r: f"{waste(r, 'held_peak'):.1f}"),
        row("waste at end (% of held)", lambda r: f"{waste(r, 'held_end'):.1f}"),
        row("held / requested at peak", lambda r: f"{r['held_peak'] / r['req_peak']:.2f}"),
        row(f"held, mean of the snapshots with at least {MEAN_FROM_TEXT} requested (KiB)",
            lambda r: kib(r["held_mean"])),
        row("held / requested, those snapshots' means",
            lambda r: f"{r['held_mean'] / r['req_mean']:.3f}" if r["req_mean"] else "-"),
        row("held after freeing all (KiB)", lambda r: kib(r["held_freed"])),
        row("held 3 s later (KiB)", lambda r: kib(r["held_idle"])),
        row("held after shrinking (KiB)", lambda r: kib(r["held_released"])),
        row("returned of the peak after shrinking (%)", returned),
        row("kmalloc caches' slab pages"
            + (" (SLUB from empty: its own caches')" if f else "") + ", peak change (KiB)",
            lambda r: kib(r["kmalloc_caches_peak"])),
        row("NR_SLAB_UNRECLAIMABLE change, peak, every record (KiB)",
            lambda r: kib(r["nr_slab_peak_every_event"])),
        row("allocation failures", lambda r: str(r["failures"])),
        row("replay time in the guest (ms, TCG)" if a.accel != "icount" else
            "replay in the guest (million instructions, icount)",
            lambda r: f"{r['replay_ms']:.0f}"),
    ]
    ratio_slub = g["held_peak"] / k["held_peak"] if k["held_peak"] else float("inf")
    ratio_req = g["held_peak"] / req
    md = []
    md.append(f"# Trace replay: {a.trace}\n")
    rcpus = int(snaps_info.get("replay_cpus", "1"))
    how = ("single-threaded on one CPU" if rcpus <= 1 else
           f"in the trace's order, each traced CPU's records on a CPU of its own "
           f"({rcpus} CPUs; trace CPU c on CPU c mod {rcpus})")
    timed = snaps_info.get("timed", "0") == "1"
    icount = ((", -icount: the guest's time counts its instructions, so a run is "
               + ("nearly deterministic" if timed else "deterministic"))
              if a.accel == "icount" else "")
    if timed:
        how += (f", at the pace the trace was taken (no record more than 1 ms before its trace time; "
                f"{g['trace_s']:.1f} s of trace, of which the goalloc replay slept "
                f"{g['slept_s']:.1f} s and SLUB's {k['slept_s']:.1f})")
    else:
        how += ", as fast as it goes (replay.sh -u: no timer fires inside the replay)"
    md.append(f"Made by bench/trace/replay.sh: replayed {how} in kernel "
              f"{snaps_info.get('kernel', '?')} under QEMU ({snaps_info.get('cpus', '?')} "
              f"vCPUs{icount}), one fresh boot per allocator. Held memory: goalloc's heap pages "
              f"(debugfs heap_held); SLUB's kmalloc-<size> slab pages (/sys/kernel/slab) "
              f"plus its large kmallocs' pages"
              + ("; SLUB from empty: the same of caches of kmalloc's sizes that the replay "
                 "module made for the replay (goalloc_replay's \"start slub\")" if f else "")
              + "; all as changes since the replay's start. "
              f"See Documentation/trace-replay.rst.\n")
    md.append(f"Stream: {stream['events']} records ({stream['allocs']} kmallocs, "
              f"{stream['frees']} kfrees); dropped: {stream['frees_unknown']} kfrees of "
              f"pointers not allocated in the window, {stream['frees_null']} kfrees of "
              f"NULL, {stream['allocs_zero']} kmallocs of 0 bytes; "
              f"{stream['implicit_frees']} implicit frees (address reused while live); "
              f"{stream['live_at_end']} objects live at the end. "
              f"Snapshots every {snaps_info.get('step', '?')} records.\n")
    if f:
        md.append("| | goalloc | kmalloc (SLUB) | SLUB from empty |")
        md.append("|---|---:|---:|---:|")
    else:
        md.append("| | goalloc | kmalloc (SLUB) |")
        md.append("|---|---:|---:|")
    for r in rows:
        md.append("| " + " | ".join(r) + " |")
    md.append("")
    md.append(f"goalloc held at peak / SLUB held at peak: **{ratio_slub:.3f}** (bar: < 1)  ")
    if f:
        md.append(f"goalloc held at peak / SLUB from empty held at peak: "
                  f"**{g['held_peak'] / f['held_peak']:.3f}** (SLUB's caches of kmalloc's "
                  f"sizes made for the replay, empty at its start as goalloc is)  ")
    md.append(f"goalloc held at peak / bytes requested at peak: **{ratio_req:.3f}** (bar: <= 1.10)  ")
    if g["mean_snapshots"] and k["held_mean"]:
        md.append(f"goalloc / SLUB, mean held over the {g['mean_snapshots']} snapshots with at "
                  f"least {MEAN_FROM_TEXT} requested: {g['held_mean'] / k['held_mean']:.3f}"
                  + (f" ({g['held_mean'] / f['held_mean']:.3f} against SLUB from empty)"
                     if f and f["held_mean"] else "") + "  ")
    md.append(f"goalloc: heap pages in spans at peak {kib(g['inuse_peak'])} KiB"
              f"{cached_note(g)}; "
              f"its span metadata is in the kmalloc caches' row above; "
              f"chunks released after shrinking: {g['chunks_released']}.")
    md.append(f"goalloc's peak held at record {g['held_peak_at_event']}, "
              f"SLUB's at record {k['held_peak_at_event']}"
              + (f", SLUB from empty's at record {f['held_peak_at_event']}." if f else "."))
    text = "\n".join(md) + "\n"
    if a.md:
        with open(a.md, "w") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    if a.csv:
        keys = sorted(set().union(*runs))
        with open(a.csv, "w", newline="") as out:
            w = csv.writer(out)
            w.writerow(["metric"] + [r["alloc"] for r in runs])
            for key in keys:
                if key != "alloc":
                    w.writerow([key] + [r.get(key, "") for r in runs])


if __name__ == "__main__":
    main()
