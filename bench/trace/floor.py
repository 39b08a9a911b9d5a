#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""How little could an allocator with goalloc's size classes hold for a
trace?  The packing floor of a replay stream (trace2bin.py's output).

Usage: floor.py STREAM.bin [--page BYTES] [--step N]

Replays the stream's records in order (CPUs ignored) and, every STEP
records (default 250, the replay's snapshot step), packs each size class's
live objects into spans of the shapes goalloc grows for the class (rules
5-7 of tools/mksizeclasses.py: its own, its small one, and every shape from
its own to its big one), full spans of one shape and the rest in spans of
another, whichever two take the fewest bytes; large objects take their heap
pages.  The largest such figure is the floor: about what a heap of these
classes holds at its peak with every class's objects in as few spans as
they fit, no CPU caching a partly used span of its own, and no free page
between spans.  (Bulk calls' spans, up to 20 pages, are left out: the
replays make none.)

--page 4096 computes the same for heap pages of 4 KiB: Go's class sizes,
with each class's own shape recomputed from one 4 KiB page up by rules 2
and 5, its small shape by rule 7 and its big one up to 40 pages by rule 6
(large objects still in 8 KiB pages): what smaller spans would leave.

Prints key=value lines: the requested bytes' peak (every record, as the
replay reports it), the class-rounded bytes' peak, the floor, their ratios
to the requested peak, the record the floor peaks at, and 1.10x the
requested peak (issue 12's memory bar), in KiB.
"""
import argparse
import bisect
import importlib.util
import os
import struct
import sys

HEAP_PAGE = 8192
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "mksizeclasses", os.path.join(here, "..", "..", "tools", "mksizeclasses.py"))
msc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(msc)


def shapes(page):
    """(size, [span bytes of each shape]) of each class, for @page."""
    out = []
    for size, npages in msc.classes()[1:]:
        if page == HEAP_PAGE:
            own = npages * page
            big = msc.big_pages(size, npages) * page
            small = msc.small_pages(size, npages) * page
        else:
            own = page
            while own % size > own // 8 or \
                    (own // size < msc.MIN_SPAN_OBJS and own < msc.MIN_SPAN_BYTES):
                own += page
            big = own
            while big < msc.BIG_MAX_PAGES * HEAP_PAGE and \
                    (big // size < msc.big_objs(size) or big % size > big // 8):
                big += page
            if big % size > big // 8:
                big = own
            small = own
            if size >= msc.SMALL_MIN_SIZE:
                for sp in range(page, own, page):
                    if sp >= size and sp % size <= sp // msc.SMALL_TAIL_DIV:
                        small = sp
                        break
        spans = {small} | {sp for sp in range(own, big + 1, page)
                           if sp % size <= sp // 8}
        out.append((size, sorted(spans)))
    return out


def packed(n, size, spans):
    """Fewest bytes of spans holding n objects: full spans of one shape,
    the rest in spans of one other (or the same)."""
    best = None
    for a in spans:
        full, rest = divmod(n, a // size)
        for b in spans:
            cost = full * a + -(-rest // (b // size)) * b
            if best is None or cost < best:
                best = cost
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stream")
    ap.add_argument("--page", type=int, default=HEAP_PAGE)
    ap.add_argument("--step", type=int, default=250)
    a = ap.parse_args()

    cls = shapes(a.page)
    sizes = [c[0] for c in cls]
    with open(a.stream, "rb") as f:
        data = f.read()
    if data[:8] != b"GAREPLAY":
        sys.exit(f"floor: {a.stream} is not a replay stream")
    version, rsize, nev = struct.unpack_from("<IIQ", data, 8)
    if (version, rsize) not in ((1, 8), (2, 8), (3, 12)):
        sys.exit(f"floor: {a.stream}: stream version {version} not known")
    live = {}
    count = [0] * len(cls)
    req = rounded = large = 0
    req_peak = rounded_peak = floor_peak = floor_at = 0
    for k in range(nev):
        op, arg = struct.unpack_from("<II", data, 32 + rsize * k)
        oid = op & 0x7fffffff
        if op & 0x80000000:
            if oid not in live:
                continue
            n, c = live.pop(oid)
            req -= n
            if c is None:
                large -= -(-n // HEAP_PAGE) * HEAP_PAGE
                rounded -= -(-n // HEAP_PAGE) * HEAP_PAGE
            else:
                count[c] -= 1
                rounded -= sizes[c]
        else:
            n = arg & 0xffffff
            c = bisect.bisect_left(sizes, n)
            c = c if c < len(sizes) else None
            live[oid] = (n, c)
            req += n
            if c is None:
                large += -(-n // HEAP_PAGE) * HEAP_PAGE
                rounded += -(-n // HEAP_PAGE) * HEAP_PAGE
            else:
                count[c] += 1
                rounded += sizes[c]
        req_peak = max(req_peak, req)
        rounded_peak = max(rounded_peak, rounded)
        if k % a.step == a.step - 1 or k == nev - 1:
            fl = large + sum(packed(n, *cls[i]) for i, n in enumerate(count) if n)
            if fl > floor_peak:
                floor_peak, floor_at = fl, k + 1
    kib = 1024
    print(f"page={a.page}")
    print(f"requested_peak_kib={req_peak // kib}")
    print(f"rounded_peak_kib={rounded_peak // kib}")
    print(f"floor_peak_kib={floor_peak // kib}")
    print(f"floor_peak_record={floor_at}")
    print(f"rounded_per_requested={rounded_peak / req_peak:.3f}")
    print(f"floor_per_requested={floor_peak / req_peak:.3f}")
    print(f"bar_1_10_kib={int(req_peak * 1.1) // kib}")


if __name__ == "__main__":
    main()
