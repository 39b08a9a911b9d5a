#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate goalloc's size-class table (kmod/sizeclasses.c).

Our own implementation of the rule Go's runtime uses (mksizeclasses.go),
described in shared/design/go-allocator-digest.md section 2.2:

 1. walk candidate sizes from 8, stepping by an alignment that grows at powers
    of two (16 from 32, size/8 from 128, 256 from 2048), which bounds the
    round-up waste near 12.5%;
 2. give each candidate the fewest heap pages whose tail (span % size) is at
    most span/8, which bounds the tail waste at 12.5%;
 3. a candidate with the same pages and objects per span as the previous class
    replaces it;
 4. raise each class to the largest multiple of 128 (or its own size) that
    still fits the same number of objects in the same pages.

Then one rule of goalloc's own, which changes spans but not sizes:

 5. a span of a class from 1 KiB up is at least 8 objects or 32 KiB, the
    shape of SLUB's order-3 kmalloc slabs, still with tail waste <= 1/8.
    Go's spans for those classes hold 1-7 objects, so a program allocating
    and freeing many of them pays a span's whole life cycle every one to
    seven objects; Go amortises that against a garbage collection cycle,
    an explicit free cannot.  Sizes, and so every round-up bound, stay Go's.

 6. a second, big shape for each class: the fewest heap pages, from the
    class's own, holding at least 32 objects (256 for classes up to 256
    bytes) with tail waste <= 1/8, within the per-CPU page cache's largest
    run (20 pages); above 4 KiB, where 20 pages cannot hold 32 (from
    5,376 bytes), the most objects 20 pages can hold.  Classes whose spans hold that many already
    (8 to 32 bytes) have one shape.  A CPU that keeps growing spans of a
    class grows larger ones, of twice the objects it holds, up to the big
    shape (kmod/mcache.c goalloc_mcache_shape(); any shape in between is
    one): a busy class pays a span's life cycle every 32 objects (256 up
    to 256 bytes, 5 at 32 KiB), a rare one keeps its small spans and the
    memory a cached span holds.  32, as
    SLUB's kmalloc-1k slab (order 3): N allocations then N frees of up to
    32 objects stay in one span a round, where two spans of 16 sent half
    the frees into a span the CPU had given up; 256 for small objects, whose
    8 KiB spans of 32 to 170 left a round of 256 in 2 to 8 spans, for at
    most 64 KiB a span (a busy class of 2 KiB objects holds as much).
    20 pages rather than Go's page cache's 16: a 4,864-byte class holds 32
    in 19 (26 in 16, so that a round of 32 filled two spans), and classes
    of 5-32 KiB hold 1-8 more; N-then-N and bulk from 4 KiB up took 4-37 %
    fewer instructions, and the replayed traces held the same or less.

 7. a third, small shape for each class from 1 KiB up: the fewest heap
    pages holding one object with tail waste <= 1/4, where that is fewer
    than the class's own (1,152-1,792 B: one page of 4 to 7 objects, not
    2 pages of 9 to 14; 3,456 B: one page of 2, not 4 pages of 9;
    13,568 B: 2 pages of 1, not 5 of 3).  A CPU holding fewer objects
    of the class than a span of its own shape holds grows it
    (kmod/mcache.c), so a class allocated now and then holds a page or
    two, not rule 5's 16-32 KiB: on the committed traces, a dozen such
    classes held 20-40 KiB each for one object at the replay's peak, and
    on two CPUs each CPU held a 16 KiB span of each 1,152-1,792 B class
    for a few objects.  The tail bound is looser than rule 2's because the
    span holds one to seven objects; rule 5's spans follow for a class
    used more.

Heap pages are 8 KiB, as in Go: the rule and its proven bounds carry over
unchanged, and a span of one heap page is one order-1 buddy block.

Usage: mksizeclasses.py [--check FILE] [-o FILE]
"""
import argparse
import sys

PAGE_SIZE = 8192
MAX_CLASS_SIZE = 32768
MIN_SPAN_OBJS = 8     # rule 5: at least this many objects per span...
MIN_SPAN_BYTES = 32768  # ...or a span this large
BIG_OBJS = 32         # rule 6: objects in a class's big span...
BIG_SMALL_SIZE = 256  # ...and in a class's up to this size...
BIG_SMALL_OBJS = 256  # ...this many
BIG_MAX_PAGES = 20    # ...of at most this many pages (GOALLOC_BIG_MAX_PAGES)
BULK_SHAPE_MAX_SIZE = 2048  # rule 8: bulk calls' spans, up to BIG_MAX_PAGES
SMALL_MIN_SIZE = 1024  # rule 7: classes from this size have a small shape...
SMALL_TAIL_DIV = 4     # ...with tail waste at most span / this
SMALL_DIV = 8         # step of the fine lookup table
LARGE_DIV = 128       # step of the coarse lookup table
FINE_MAX = 1024 - 8  # last size served by the fine (8-byte step) table


def is_pow2(x):
    return x & (x - 1) == 0


def classes():
    out = [(0, 0)]  # class 0: large objects, own span
    align = 8
    size = align
    while size <= MAX_CLASS_SIZE:
        if is_pow2(size):
            if size >= 2048:
                align = 256
            elif size >= 128:
                align = size // 8
            elif size >= 32:
                align = 16
        span = PAGE_SIZE
        while span % size > span // 8:
            span += PAGE_SIZE
        npages = span // PAGE_SIZE
        prev = out[-1]
        if len(out) > 1 and prev[1] == npages and \
                span // size == (prev[1] * PAGE_SIZE) // prev[0]:
            out[-1] = (size, npages)
        else:
            out.append((size, npages))
        size += align
    res = [(0, 0)]
    for size, npages in out[1:]:
        span = npages * PAGE_SIZE
        bigger = (span // (span // size)) & ~(LARGE_DIV - 1)
        size = max(size, bigger)
        while span // size < MIN_SPAN_OBJS and span < MIN_SPAN_BYTES or \
                span % size > span // 8:
            span += PAGE_SIZE
        res.append((size, span // PAGE_SIZE))
    return res


def big_objs(size):
    """Rule 6: the objects a class's big shape holds at least."""
    return BIG_SMALL_OBJS if size <= BIG_SMALL_SIZE else BIG_OBJS


def big_pages(size, npages):
    """Rule 6: the class's big shape, in heap pages."""
    best = npages
    for pages in range(npages, BIG_MAX_PAGES + 1):
        span = pages * PAGE_SIZE
        if span % size > span // 8:
            continue
        if span // size >= big_objs(size):
            return pages
        if span // size > best * PAGE_SIZE // size:
            best = pages
    return best


def small_pages(size, npages):
    """Rule 7: the class's small shape, in heap pages (npages if none)."""
    if size < SMALL_MIN_SIZE:
        return npages
    for pages in range(1, npages):
        span = pages * PAGE_SIZE
        if span >= size and span % size <= span // SMALL_TAIL_DIV:
            return pages
    return npages


def div_magic(size):
    """Multiplier m such that (off * m) >> 32 == off // size for every
    offset inside a span (checked exhaustively below and in KUnit)."""
    return (0xffffffff // size) + 1


def lookup_tables(cls):
    def first_fit(n):
        for i, (size, _) in enumerate(cls):
            if i and size >= n:
                return i
        raise ValueError(n)
    small = [first_fit(i * SMALL_DIV) if i else 0
             for i in range((FINE_MAX + SMALL_DIV - 1) // SMALL_DIV + 1)]
    large = [first_fit(1024 + i * LARGE_DIV)
             for i in range((MAX_CLASS_SIZE - 1024) // LARGE_DIV + 1)]
    return small, large


def waste_bounds(cls):
    """Worst round-up waste (class size / request - 1) per class, and the
    tail waste of its span, as fractions."""
    res = []
    for i in range(1, len(cls)):
        size, npages = cls[i]
        smallest = cls[i - 1][0] + 1
        span = npages * PAGE_SIZE
        res.append(((size - smallest) / smallest, (span % size) / span))
    return res


def verify(cls):
    assert len(cls) == 68, len(cls)
    for size, npages in cls[1:]:
        span = npages * PAGE_SIZE
        assert size % SMALL_DIV == 0, size
        assert span % size <= span // 8, size
        big = big_pages(size, npages) * PAGE_SIZE
        assert big % size <= big // 8, size
        small = small_pages(size, npages) * PAGE_SIZE
        assert size <= small <= span and small % size <= small // SMALL_TAIL_DIV, size
        m = div_magic(size)
        for off in range(0, max(span, big) + 1):
            assert (off * m) >> 32 == off // size, (size, off)
        # Rule 8: a bulk call's span, up to BIG_MAX_PAGES, for classes up to
        # BULK_SHAPE_MAX_SIZE.  (off * m) >> 32 grows with off and is at
        # least off // size, so it is exact iff exact at each slot's last byte.
        if size <= BULK_SHAPE_MAX_SIZE:
            bulk = BIG_MAX_PAGES * PAGE_SIZE
            for off in list(range(size - 1, bulk, size)) + [bulk]:
                assert (off * m) >> 32 == off // size, (size, off)


def emit(cls):
    small, large = lookup_tables(cls)
    w = []
    p = w.append
    p("// SPDX-License-Identifier: GPL-2.0")
    p("/*")
    p(" * Size classes: generated by tools/mksizeclasses.py, do not edit.")
    p(" *")
    p(" * class  bytes/obj  pages  objs  tail waste  max round-up waste  big: pages objs"
      "  small: pages objs")
    for i, ((size, npages), (ru, tail)) in enumerate(zip(cls[1:], waste_bounds(cls)), 1):
        objs = npages * PAGE_SIZE // size
        big = big_pages(size, npages)
        sml = small_pages(size, npages)
        p(" * %5d  %9d  %5d  %4d  %9.2f%%  %17.2f%%  %9d %4d  %11d %4d" %
          (i, size, npages, objs, tail * 100, ru * 100, big, big * PAGE_SIZE // size,
           sml, sml * PAGE_SIZE // size))
    p(" */")
    p("#include <linux/export.h>")
    p("")
    p('#include "compat.h"')
    p('#include "sizeclasses.h"')
    p("")
    p("static_assert(GOALLOC_BIG_OBJS == %d);" % BIG_OBJS)
    p("static_assert(GOALLOC_BIG_SMALL_SIZE == %d);" % BIG_SMALL_SIZE)
    p("static_assert(GOALLOC_BIG_SMALL_OBJS == %d);" % BIG_SMALL_OBJS)
    p("static_assert(GOALLOC_BIG_MAX_PAGES == %d);" % BIG_MAX_PAGES)
    p("static_assert(GOALLOC_BULK_SHAPE_MAX_SIZE == %d);" % BULK_SHAPE_MAX_SIZE)
    p("static_assert(GOALLOC_SMALL_MIN_SIZE == %d);" % SMALL_MIN_SIZE)
    p("")
    p("const struct goalloc_class_info goalloc_class_info[GOALLOC_NUM_CLASSES] = {")
    p("\t[0] = { .size = 0, .npages = 0, .nelems = 0, .big_npages = 0, .small_npages = 0,")
    p("\t\t.div_mul = 0 },")
    for i, (size, npages) in enumerate(cls[1:], 1):
        p("\t[%d] = { .size = %d, .npages = %d, .nelems = %d, .big_npages = %d, .small_npages = %d," %
          (i, size, npages, npages * PAGE_SIZE // size, big_pages(size, npages),
           small_pages(size, npages)))
        p("\t\t.div_mul = %du }," % div_magic(size))
    p("};")
    p("EXPORT_SYMBOL_IF_KUNIT(goalloc_class_info);")
    p("")

    def table(name, vals):
        p("const u8 %s[%d] = {" % (name, len(vals)))
        for k in range(0, len(vals), 12):
            p("\t" + " ".join("%d," % v for v in vals[k:k + 12]))
        p("};")
        p("EXPORT_SYMBOL_IF_KUNIT(%s);" % name)
    table("goalloc_size_to_class8", small)
    p("")
    table("goalloc_size_to_class128", large)
    p("")
    # The fast path's table: both above as one, as scan span classes
    # (class * 2), every size in SMALL_DIV steps (class sizes are multiples
    # of it: verify() checks).
    flat = [0] + [2 * next(i for i, (size, _) in enumerate(cls) if i and size >= s)
                  for s in range(SMALL_DIV, MAX_CLASS_SIZE + 1, SMALL_DIV)]
    table("goalloc_size_to_spc8", flat)
    return "\n".join(w) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", help="write the table here (default stdout)")
    ap.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from the output")
    args = ap.parse_args()
    cls = classes()
    verify(cls)
    text = emit(cls)
    if args.check:
        with open(args.check) as f:
            if f.read() != text:
                print("%s is stale: rerun tools/mksizeclasses.py -o %s" % (args.check, args.check),
                      file=sys.stderr)
                return 1
        return 0
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
