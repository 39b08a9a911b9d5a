#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn an ftrace text trace of kmem:kmalloc and kmem:kfree (or of
goalloc:alloc and goalloc:free, which carry the same fields; kmod/trace.h)
into the replay stream goalloc_replay.ko reads.

Usage: trace2bin.py TRACE[.xz|.gz] OUT.bin [--max-events N]

TRACE is the text of /sys/kernel/tracing/trace (or trace_pipe), recorded
with no_hash_pointers so that ptr= holds real addresses.  Each allocation
gets a dense object id; a kfree is matched to the live allocation of the
same pointer.  Dropped, and counted in the summary: kfrees of pointers not
allocated inside the trace window (allocated before it, or by
kmem_cache_alloc), kfrees of NULL or ZERO_SIZE_PTR, failed kmallocs (ptr 0)
and kmallocs of 0 bytes.  A kmalloc of a pointer that is still live (its
kfree was lost) frees the old object first, counted as implicit_frees.

Each record keeps the CPU the event ran on (the trace's [NNN] field), so
that goalloc_replay.ko can replay the records of each traced CPU on a CPU
of its own; lines without the field count as CPU 0.  Each record also
keeps the event's time (the trace's timestamp, in microseconds since the
trace's first kmalloc or kfree line, kept or dropped), so that the replay can run them at the
pace they ran (goalloc_replay.ko's "timed 1"): what a kernel does every
second (goalloc's trim pass) then runs as often, against the same records,
as it would have.

OUT is little-endian: a 32-byte header
  char magic[8] = "GAREPLAY"; u32 version = 3; u32 record_size = 12;
  u64 nr_events; u32 nr_ids; u32 nr_cpus (highest CPU seen + 1)
then nr_events records of
  u32 op_id (bit 31 set: free; bits 0-30: object id);
  u32 arg: bits 0-23 the requested size of an allocation (0 for a free),
      bits 24-31 the CPU of the event;
  u32 usec: microseconds since the trace's first kmalloc or kfree line,
      never decreasing (an out-of-order timestamp takes its predecessor's).
A trace without timestamps in seconds (ftrace's trace_clock counter or
x86-tsc) cannot be replayed at its pace: a kmalloc or kfree line without
one stops the conversion.
(Version 2 had no usec and 8-byte records; version 1 had no CPU either.)
The summary (key=value lines) goes to stdout; duration_usec is the last
record's usec.
"""
import argparse
import gzip
import lzma
import re
import struct
import sys

MAGIC = b"GAREPLAY"
VERSION = 3
RECORD = struct.Struct("<III")
CPU_SHIFT = 24
MAX_CPUS = 256
FREE = 1 << 31
# Pointers at or below ZERO_SIZE_PTR (16) are NULL and kmalloc(0)'s answer.
ZERO_SIZE_PTR = 16

EVENT = re.compile(r"\s(kmalloc|kfree|alloc|free):\s")
# goalloc's events count as kmem's (whitespace before the name: not kmem_cache_alloc).
KIND = {"alloc": "kmalloc", "free": "kfree"}
CPU = re.compile(r"\[(\d{3,})\]")
# The timestamp ends in ": " right before the event's name.
TIME = re.compile(r"\s(\d+)\.(\d+):\s*$")
PTR = re.compile(r"\bptr=(?:0x)?([0-9a-fA-F]+)")
REQ = re.compile(r"\bbytes_req=(\d+)")
ALLOC = re.compile(r"\bbytes_alloc=(\d+)")


def open_text(path):
    if path.endswith(".xz"):
        return lzma.open(path, "rt", errors="replace")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", errors="replace")
    return open(path, "r", errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--max-events", type=int, default=0,
                    help="stop after this many kmalloc/kfree lines (0: all)")
    a = ap.parse_args()

    st = dict.fromkeys(("lines_kmalloc", "lines_kfree", "allocs", "frees",
                        "frees_unknown", "frees_null", "allocs_failed",
                        "allocs_zero", "implicit_frees", "live_at_end",
                        "req_total_bytes", "req_peak_bytes", "alloc_peak_bytes",
                        "large_allocs", "max_bytes_req", "cpu_switches"), 0)
    live = {}           # ptr -> (id, bytes_req, bytes_alloc)
    recs = bytearray()
    nid = 0
    req_live = alloc_live = 0
    pack = RECORD.pack

    cpus = {}           # cpu -> records
    last_cpu = None
    t_first = None      # the first event's timestamp, microseconds
    usec = 0            # the current event's, since t_first

    def emit(op, arg, cpu):
        nonlocal last_cpu
        recs.extend(pack(op, arg | cpu << CPU_SHIFT, usec))
        cpus[cpu] = cpus.get(cpu, 0) + 1
        if last_cpu is not None and cpu != last_cpu:
            st["cpu_switches"] += 1
        last_cpu = cpu

    def free(ptr, cpu):
        nonlocal req_live, alloc_live
        oid, req, alc = live.pop(ptr)
        req_live -= req
        alloc_live -= alc
        emit(FREE | oid, 0, cpu)
        st["frees"] += 1

    with open_text(a.trace) as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = EVENT.search(line)
            if not m:
                continue
            kind = KIND.get(m.group(1), m.group(1))
            if a.max_events and st["lines_kmalloc"] + st["lines_kfree"] >= a.max_events:
                break
            st["lines_" + kind] += 1
            pm = PTR.search(line, m.end())
            if not pm:
                continue
            ptr = int(pm.group(1), 16)
            cm = CPU.search(line, 0, m.start())
            cpu = int(cm.group(1)) if cm else 0
            tm = TIME.search(line, 0, m.start() + 1)
            if tm:
                frac = (tm.group(2) + "000000")[:6]
                t = int(tm.group(1)) * 1000000 + int(frac)
                if t_first is None:
                    t_first = t
                if t - t_first > usec:
                    usec = t - t_first
                    if usec >= 1 << 32:
                        sys.exit("trace2bin: a trace longer than 71 minutes")
            else:
                sys.exit(f"trace2bin: no timestamp in seconds on: {line.strip()}")
            if cpu >= MAX_CPUS:
                sys.exit(f"trace2bin: CPU {cpu} above {MAX_CPUS - 1}")
            if kind == "kfree":
                if ptr <= ZERO_SIZE_PTR:
                    st["frees_null"] += 1
                elif ptr in live:
                    free(ptr, cpu)
                else:
                    st["frees_unknown"] += 1
                continue
            req = int(REQ.search(line, m.end()).group(1))
            am = ALLOC.search(line, m.end())
            alc = int(am.group(1)) if am else req
            if ptr == 0:
                st["allocs_failed"] += 1
                continue
            if req == 0 or ptr <= ZERO_SIZE_PTR:
                st["allocs_zero"] += 1
                continue
            if req >= 1 << CPU_SHIFT:
                sys.exit(f"trace2bin: a kmalloc of {req} bytes does not fit a record")
            if ptr in live:
                free(ptr, cpu)
                st["frees"] -= 1
                st["implicit_frees"] += 1
            if nid >= FREE:
                sys.exit("trace2bin: too many objects")
            live[ptr] = (nid, req, alc)
            emit(nid, req, cpu)
            nid += 1
            st["allocs"] += 1
            st["req_total_bytes"] += req
            st["max_bytes_req"] = max(st["max_bytes_req"], req)
            if req > 8192:
                st["large_allocs"] += 1
            req_live += req
            alloc_live += alc
            st["req_peak_bytes"] = max(st["req_peak_bytes"], req_live)
            st["alloc_peak_bytes"] = max(st["alloc_peak_bytes"], alloc_live)

    st["live_at_end"] = len(live)
    st["req_end_bytes"] = req_live
    nev = len(recs) // RECORD.size
    st["duration_usec"] = usec
    st["events"] = nev
    st["ids"] = nid
    st["cpus"] = max(cpus) + 1 if cpus else 1
    for c in sorted(cpus):
        st[f"records_cpu{c}"] = cpus[c]
    with open(a.out, "wb") as o:
        o.write(MAGIC + struct.pack("<IIQII", VERSION, RECORD.size, nev, nid, st["cpus"]))
        o.write(recs)
    for k in sorted(st):
        print(f"{k}={st[k]}")


if __name__ == "__main__":
    main()
