#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The routed side-by-side's figures, out of its guests' logs.

Usage: tools/routed-bench.py RUNS_DIR >raw-routed.csv

RUNS_DIR holds a directory per kernel (stock, debug) and in it one per run
of tools/routed-test.sh that tools/bench.sh made: goalloc-<round> (ext4,
jbd2 and mbcache routed to goalloc) and slub-<round> (the kernel's own,
built normally).  From each run's results.log (tools/routed-guest.sh's
lines) it writes CSV rows "kernel,side,round,metric,value":

  files                   files of the workload
  elapsed_ms              mkfs to the last umount (GA-ROUTED elapsed_ms)
  populate_ms, mutate_ms, verify_ms, verify_remount_ms
                          fsload's own times
  {before,peak}_{slab,heap,caches}_kib
                          /proc/meminfo Slab, goalloc's heap_held_kib, the
                          modules' caches (goalloc's spans of those caches,
                          or SLUB's slabs of those names), after the module
                          loads and while mounted after the workload
  cache:NAME:{objs,kib,objsize}
                          each of the modules' caches while mounted:
                          objects in use, memory held (goalloc's spans or
                          SLUB's slabs), object size as the allocator has it
                          (SLUB's includes the debug kernel's KASAN records)

A run that did not finish cleanly (its counts file shows a failure) is an
error: bench.sh stops before this on a failed run.
"""
import os
import re
import sys

MODCACHES = re.compile(r"^(ext4_|jbd2_|mb_cache_entry|extent_status|pending_reservation|"
                       r"bio_post_read_ctx)")


def parse(path, side):
    rows = {}
    section = None
    verifies = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            m = re.search(r"GA-ROUTED routed=\d+ files=(\d+) ", line)
            if m:
                rows["files"] = int(m.group(1))
            m = re.search(r"GA-ROUTED (?:routed=\d+ files=\d+ )?(before|peak): "
                          r"slab_kib=(\d+) goalloc_heap_kib=(\d+) module_caches_kib=(\d+)", line)
            if m:
                for k, v in zip(("slab", "heap", "caches"), m.group(2, 3, 4)):
                    rows["%s_%s_kib" % (m.group(1), k)] = int(v)
                continue
            m = re.search(r"GA-ROUTED elapsed_ms=(\d+)", line)
            if m:
                rows["elapsed_ms"] = int(m.group(1))
                continue
            m = re.match(r"fsload (populate|mutate|verify): \d+ files, (\d+) ms, (\d+) errors",
                         line)
            if m:
                name = m.group(1)
                if name == "verify":
                    verifies += 1
                    if verifies == 2:
                        name = "verify_remount"
                rows[name + "_ms"] = int(m.group(2))
                continue
            if line.startswith("== "):
                section = ("slabinfo" if "/proc/slabinfo" in line else
                           "caches" if "goalloc/caches" in line else None)
                continue
            if line.startswith("GA-"):
                section = None
                continue
            f_ = line.split()
            if not f_ or f_[0].startswith("#") or not MODCACHES.match(f_[0]):
                continue
            if section == "slabinfo" and side == "slub" and len(f_) >= 15:
                # name active num objsize objperslab pagesperslab : tunables
                # ... : slabdata active_slabs num_slabs sharedavail
                rows["cache:%s:objs" % f_[0]] = int(f_[1])
                rows["cache:%s:objsize" % f_[0]] = int(f_[3])
                rows["cache:%s:kib" % f_[0]] = int(f_[14]) * int(f_[5]) * 4
            elif section == "caches" and side == "goalloc" and len(f_) >= 9:
                # name active_objs num_objs objsize slotsize objs/span
                # pages/span spans held_bytes
                rows["cache:%s:objs" % f_[0]] = int(f_[1])
                rows["cache:%s:objsize" % f_[0]] = int(f_[3])
                rows["cache:%s:kib" % f_[0]] = int(f_[8]) // 1024
    return rows


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = sys.argv[1]
    print("kernel,side,round,metric,value")
    found = 0
    for kern in sorted(os.listdir(runs)):
        if not os.path.isdir(os.path.join(runs, kern)):
            continue
        for d in sorted(os.listdir(os.path.join(runs, kern))):
            m = re.fullmatch(r"(goalloc|slub)-(\d+)", d)
            if not m:
                continue
            log = os.path.join(runs, kern, d, "results.log")
            rows = parse(log, m.group(1))
            if "elapsed_ms" not in rows or "peak_slab_kib" not in rows:
                sys.exit("routed-bench: %s has no elapsed time or peak (did the run finish?)"
                         % log)
            for k, v in rows.items():
                print("%s,%s,%s,%s,%d" % (kern, m.group(1), m.group(2), k, v))
            found += 1
    if not found:
        sys.exit("routed-bench: no KERNEL/goalloc-N or KERNEL/slub-N runs in %s" % runs)


if __name__ == "__main__":
    main()
