#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Pictures of goalloc's heap from its debugfs tables: per-class bars and the chunk map.

Usage: tools/goalloc-pictures.py [--title TEXT] [--goallocstat PATH]
                                 (--log RESULTS_LOG | --dir CAPTURE_DIR) OUT_DIR

The tables come from a capture: either a directory holding copies of
debugfs goalloc/classes, goalloc/caches and goalloc/chunks (and optionally
chunks.csv, goallocstat --chunks's CSV of the last), or a guest's results log
in which each line of those files was written as "GA-PIC <file> <line>"
(tools/demo-guest.sh, bench/trace/replay-init.sh).  The chunk map goes
through goallocstat --chunks (PATH, default build/libgoalloc/goallocstat,
else goallocstat on PATH), which turns it into CSV.

Writes to OUT_DIR:

  goalloc-classes.png  per size class (and named cache): the bytes its
                       spans hold beside the bytes of its objects in use
  goalloc-chunks.png   each chunk of the heap a row, each 8 KiB heap page a
                       cell: free, in a CPU's page-cache window, scavenged,
                       a large object, a kernel arena, or a span (coloured
                       by size class; wide runs labelled with the object
                       size)
  goalloc-pictures/    the tables and gnuplot's data

Labels are drawn as written (gnuplot's noenhanced: a cache name's '_' is no
subscript).  Prints the PNGs' paths.
"""
import argparse
import colorsys
import csv
import os
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_CLASSES = 68
HEAP_PAGE_KIB = 8
# Colours of what is not a span of a class.
KIND_RGB = {
    "free": 0xE4E4E4,
    "window": 0x9ECAE1,
    "scavenged": 0xFFFFFF,
    "large": 0x252525,
    "arena": 0x8C510A,
}
KIND_LABEL = {
    "free": "free",
    "window": "free, in a CPU's page cache",
    "scavenged": "scavenged (given back)",
    "large": "large object",
    "arena": "kernel arena",
}
MAX_BARS = 96
MAX_CHUNKS = 160


def from_log(path, dest):
    """Split "GA-PIC <file> <line>" lines of a results log into files of dest."""
    files = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.startswith("GA-PIC "):
                continue
            parts = line.split(" ", 2)
            if len(parts) < 2 or parts[1] not in ("classes", "caches", "chunks", "heap"):
                continue
            files.setdefault(parts[1], []).append(parts[2] if len(parts) > 2 else "")
    if "classes" not in files or "chunks" not in files:
        sys.exit("goalloc-pictures: no GA-PIC classes and chunks lines in %s" % path)
    for name, lines in files.items():
        with open(os.path.join(dest, name), "w") as f:
            f.write("\n".join(lines) + "\n")


def read_classes(path):
    """[(class, size, inuse objects, held bytes)] from goalloc/classes."""
    rows = []
    with open(path) as f:
        for line in f:
            c = line.split()
            if len(c) < 9 or not c[0].isdigit():
                continue
            size = int(c[1]) if c[1].isdigit() else 0
            held = int(c[7]) if c[7].isdigit() else 0
            rows.append((int(c[0]), size, int(c[5]), held))
    return rows


def read_caches(path):
    """[(name, object size, objects in use, held bytes, size class or None)]
    from goalloc/caches."""
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            c = line.split()
            if len(c) < 9 or c[0].startswith("#"):
                continue
            cls = int(c[10]) if len(c) > 10 and c[10].isdigit() else None
            rows.append((c[0], int(c[3]), int(c[1]), int(c[8]), cls))
    return rows


def gnuplot(script, png):
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode or not os.path.exists(png):
        sys.exit("goalloc-pictures: gnuplot failed for %s:\n%s" % (png, r.stderr))


def quote(s):
    """A gnuplot single-quoted string (taken as written)."""
    return "'" + s.replace("'", "''") + "'"


def dquote(s):
    """A gnuplot double-quoted string: newlines allowed."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def class_bars(classes, caches, work, png, title):
    bars = [("%d B" % size, held, inuse * size) for cls, size, inuse, held in classes
            if cls and (held or inuse)]
    bars += [(name, held, inuse * size) for name, size, inuse, held, _ in caches
             if held or inuse]
    left = 0
    if len(bars) > MAX_BARS:
        keep = set(sorted(range(len(bars)), key=lambda i: -bars[i][1])[:MAX_BARS])
        left = len(bars) - MAX_BARS
        bars = [b for i, b in enumerate(bars) if i in keep]
    dat = os.path.join(work, "classes.dat")
    with open(dat, "w") as f:
        f.write("# label held_kib inuse_kib\n")
        for label, held, used in bars:
            f.write('"%s" %.1f %.1f\n' % (label.replace('"', "'"), held / 1024, used / 1024))
    sub = "size classes by object size, then named caches (large objects not shown)"
    if left:
        sub += "; the %d holding most of %d" % (MAX_BARS, MAX_BARS + left)
    width = max(900, 60 + 22 * len(bars))
    gnuplot("""set terminal pngcairo size %d,600 noenhanced font ',9'
set output %s
set title %s
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set xtics rotate by 90 right nomirror
set ylabel 'KiB'
set grid ytics
set key outside top center horizontal
set datafile missing '-'
plot %s using 2:xtic(1) title 'held by its spans' lc rgb '#4575b4', \\
     '' using 3 title 'its objects in use (objects x size)' lc rgb '#fdae61'
""" % (width, quote(png), dquote("%s\n%s" % (title, sub)), quote(dat)), png)


# Distinct colours for the classes with the most pages (none grey, black,
# white, light blue or brown: those are the other kinds').
PALETTE = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0xE377C2, 0xBCBD22,
           0x17BECF, 0xFFBB78, 0x98DF8A, 0xFF9896, 0xC5B0D5, 0xF7B6D2, 0xDBDB8D,
           0x393B79, 0x637939, 0xAD494A, 0x7B4173, 0x3182BD, 0xE6550D]


def class_rgb(cls):
    """A colour for a class past the palette: a hue by class number."""
    h, l, s = (cls * 0.381966) % 1.0, 0.5 if cls < NUM_CLASSES else 0.35, 0.7
    r, g, b = colorsys.hls_to_rgb(h, l, s)
    return (int(r * 255) << 16) | (int(g * 255) << 8) | int(b * 255)


def chunk_map(chunks_csv, classes, caches, work, png, title):
    size_of = {cls: size for cls, size, _, _ in classes}
    cache_of = {cls: name for name, _, _, _, cls in caches if cls is not None}
    runs = []
    with open(chunks_csv) as f:
        for r in csv.DictReader(f):
            runs.append(r)
    if not runs:
        sys.exit("goalloc-pictures: no chunk in %s" % chunks_csv)
    # The palette to the classes with the most pages, in that order.
    total = {}
    for r in runs:
        if r["kind"] == "span":
            total[int(r["class"])] = total.get(int(r["class"]), 0) + int(r["pages"])
    rgb_of = {cls: PALETTE[i] if i < len(PALETTE) else class_rgb(cls)
              for i, cls in enumerate(sorted(total, key=lambda k: (-total[k], k)))}
    chunks = sorted({int(r["chunk"]) for r in runs})
    shown = chunks[:MAX_CHUNKS]
    row = {c: i for i, c in enumerate(shown)}
    pages = {}
    kinds, class_pages = set(), {}
    box = os.path.join(work, "chunks.dat")
    label = os.path.join(work, "chunk-labels.dat")
    with open(box, "w") as fb, open(label, "w") as fl:
        fb.write("# x_centre y_centre half_width half_height rgb\n")
        for r in runs:
            c = int(r["chunk"])
            if c not in row:
                continue
            first, n, kind = int(r["first"]), int(r["pages"]), r["kind"]
            pages[c] = max(pages.get(c, 0), first + n)
            if kind == "span":
                cls = int(r["class"])
                rgb = rgb_of[cls]
                class_pages[cls] = class_pages.get(cls, 0) + n
                if n >= 24:
                    text = ("%d" % size_of[cls]) if size_of.get(cls) else \
                        cache_of.get(cls, "c%d" % cls)
                    fl.write('%g %d "%s"\n' % (first + n / 2.0, row[c], text))
            else:
                rgb = KIND_RGB.get(kind, 0xFF00FF)
                kinds.add(kind)
            fb.write("%g %d %g 0.4 %d\n" % (first + n / 2.0, row[c], n / 2.0, rgb))
    outline = os.path.join(work, "chunk-outline.dat")
    with open(outline, "w") as f:
        for c in shown:
            f.write("%g %d %g 0.4\n" % (pages[c] / 2.0, row[c], pages[c] / 2.0))
    xmax = max(pages.values())
    keys = []
    for kind in ("free", "window", "scavenged", "large", "arena"):
        if kind in kinds:
            keys.append("NaN with boxes fs solid 1.0 border lc rgb '#000000' lc rgb '#%06x' "
                        "title %s" % (KIND_RGB[kind], quote(KIND_LABEL[kind])))
    for cls in sorted(class_pages, key=lambda k: (-class_pages[k], k))[:12]:
        name = ("span of %d-byte objects" % size_of[cls]) if size_of.get(cls) else \
            ("span of size class %d" % cls) if cls < NUM_CLASSES else \
            ("span of cache %s" % cache_of[cls]) if cls in cache_of else \
            "span of a named cache (class %d)" % cls
        keys.append("NaN with boxes fs solid 1.0 lc rgb '#%06x' title %s" % (
            rgb_of[cls], quote(name)))
    sub = "%d chunk%s, one row each; a cell is an 8 KiB heap page" % (
        len(chunks), "" if len(chunks) == 1 else "s")
    if len(chunks) > len(shown):
        sub += " (the first %d shown)" % len(shown)
    height = max(320, min(4000, 150 + 16 * len(shown)))
    script = """set terminal pngcairo size 1200,%d noenhanced font ',9'
set output %s
set title %s
set xrange [0:%d]
set yrange [%g:-0.6]
set xlabel 'heap page in the chunk (8 KiB each; a 4 MiB chunk has 512)'
set ylabel 'chunk'
set ytics 1
set ytics out nomirror
set key outside right top
set style fill solid 1.0 noborder
set lmargin 8
plot %s using 1:2:3:4:5 with boxxyerror lc rgb variable notitle, \\
     %s using 1:2:3:4 with boxxyerror fs empty border lc rgb '#606060' notitle, \\
     %s using 1:2:3 with labels font ',7' tc rgb '#000000' notitle%s
""" % (height, quote(png), dquote("%s\n%s" % (title, sub)), xmax, len(shown) - 0.4,
       quote(box), quote(outline), quote(label), "".join(", \\\n     " + k for k in keys))
    if len(shown) > 40:
        script = script.replace("set ytics 1\n", "set ytics 10\n")
    if not os.path.getsize(label):
        script = script.replace(", \\\n     %s using 1:2:3 with labels font ',7' tc rgb "
                                "'#000000' notitle" % quote(label), "")
    gnuplot(script, png)


def find_goallocstat(path):
    for p in ([path] if path else []) + [os.path.join(TOP, "build/libgoalloc/goallocstat")]:
        if p and os.access(p, os.X_OK):
            return p
    p = shutil.which("goallocstat")
    if not p:
        sys.exit("goalloc-pictures: no goallocstat (make -C libgoalloc, or --goallocstat)")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--log", help="a results log with GA-PIC lines")
    src.add_argument("--dir", help="a directory with classes, caches, chunks")
    ap.add_argument("--title", default="goalloc's heap")
    ap.add_argument("--goallocstat", help="the goallocstat program (for --chunks)")
    ap.add_argument("out")
    a = ap.parse_args()
    if not shutil.which("gnuplot"):
        sys.exit("goalloc-pictures: gnuplot is not installed (tools/install-deps.sh --bench)")
    work = os.path.join(a.out, "goalloc-pictures")
    os.makedirs(work, exist_ok=True)
    cap = a.dir
    if a.log:
        cap = work
        from_log(a.log, cap)
    chunks_csv = os.path.join(cap, "chunks.csv")
    if not os.path.exists(chunks_csv):
        with open(chunks_csv, "w") as f:
            r = subprocess.run([find_goallocstat(a.goallocstat), "--chunks",
                                os.path.join(cap, "chunks")], stdout=f)
        if r.returncode:
            sys.exit("goalloc-pictures: goallocstat --chunks failed on %s" %
                     os.path.join(cap, "chunks"))
    classes = read_classes(os.path.join(cap, "classes"))
    caches = read_caches(os.path.join(cap, "caches"))
    bars = os.path.join(a.out, "goalloc-classes.png")
    cmap = os.path.join(a.out, "goalloc-chunks.png")
    class_bars(classes, caches, work, bars, a.title + ": bytes held and in use")
    chunk_map(chunks_csv, classes, caches, work, cmap, a.title + ": the chunk map")
    print(bars)
    print(cmap)


if __name__ == "__main__":
    main()
