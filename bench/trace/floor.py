#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""How little could an allocator with goalloc's size classes hold for a
trace?  The packing floor of a replay stream (trace2bin.py's output).

Usage: floor.py STREAM.bin [--page BYTES] [--step N]

Replays the stream's records in order (CPUs ignored) and, every STEP
records (default 250, the replay's snapshot step), takes each size class's
live objects packed into the fewest bytes of spans of its own shape and of
its small one (rules 5 and 7 of tools/mksizeclasses.py: full spans of the
own shape, the rest in whichever of the two holds it in less), plus each
large object's heap pages.  The largest such figure is the floor: what a
heap of these classes and shapes would hold at its peak with every class's
objects in as few spans as they fit, no CPU caching a partly used span of
its own, and no free page between spans.  Every replay of the stream, on
any number of CPUs, holds at least this much at its peak.

--page 4096 computes the same for heap pages of 4 KiB (Go's class sizes,
span shapes recomputed with rules 5 and 7 in 4 KiB pages; large objects
still in 8 KiB pages): what smaller spans would leave.

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
    """(size, own span bytes, small span bytes) of each class, for @page."""
    out = []
    for size, _ in msc.classes()[1:]:
        span = page
        while span % size > span // 8 or \
                (span // size < msc.MIN_SPAN_OBJS and span < msc.MIN_SPAN_BYTES):
            span += page
        small = span
        if size >= msc.SMALL_MIN_SIZE:
            for s in range(page, span, page):
                if s >= size and s % size <= s // msc.SMALL_TAIL_DIV:
                    small = s
                    break
        out.append((size, span, small))
    return out


def packed(n, size, own, small):
    """Fewest bytes of spans of the two shapes holding n objects."""
    per = own // size
    full, rest = divmod(n, per)
    best = (full + (rest > 0)) * own
    if rest:
        best = min(best, full * own + -(-rest // (small // size)) * small)
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
    nev, = struct.unpack_from("<Q", data, 16)
    live = {}
    count = [0] * len(cls)
    req = rounded = large = 0
    req_peak = rounded_peak = floor_peak = floor_at = 0
    for k in range(nev):
        op, arg = struct.unpack_from("<II", data, 32 + 8 * k)
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
        if k % a.step == a.step - 1 or k == nev - 1:
            rounded_peak = max(rounded_peak, rounded)
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
