#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The instructions of one benchmark iteration, one by one (tools/insn-trace.sh).

Two halves:

  insn-trace.py gdb PLAN OUT     run inside gdb (gdb -x): attaches to QEMU's
                                 gdb stub, and for each allocator of PLAN
                                 (lines "NAME ENTRY SKIP REPS") lets ENTRY be
                                 hit SKIP times, then single-steps REPS whole
                                 iterations (ENTRY to ENTRY), writing each
                                 executed PC to OUT ("NAME REP PC" lines).
  insn-trace.py report PCS SYMS  turns those PCs into instructions per
                                 iteration and per function (SYMS: "ADDR NAME"
                                 lines for vmlinux and the loaded modules).

QEMU's stub steps with interrupts and timers masked (its default
sstepbits), so a traced iteration is the code path alone.
"""
import bisect
import collections
import sys


def gdb_main(plan_path, out_path):
    import gdb  # noqa: only inside gdb

    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("target remote :%s" % open(plan_path).readline().split()[1])
    plan = [ln.split() for ln in open(plan_path).read().splitlines()[1:] if ln.strip()]
    with open(out_path, "w") as out:
        for name, entry, skip, reps in plan:
            entry = int(entry, 16)
            bp = gdb.Breakpoint("*0x%x" % entry, internal=True)
            bp.ignore_count = int(skip)
            gdb.execute("continue")
            for rep in range(int(reps)):
                n = 0
                while True:
                    pc = int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF
                    out.write("%s %d %x\n" % (name, rep, pc))
                    n += 1
                    gdb.execute("stepi", to_string=True)
                    pc = int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF
                    if pc == entry or n > 20000:
                        break
            bp.delete()
            out.flush()
    gdb.execute("detach")


def report(pcs_path, syms_path):
    syms = []
    for ln in open(syms_path):
        a, nm = ln.split()
        syms.append((int(a, 16), nm))
    syms.sort()
    addrs = [a for a, _ in syms]

    def sym(pc):
        i = bisect.bisect_right(addrs, pc) - 1
        return syms[i][1] if i >= 0 else "?"

    runs = collections.OrderedDict()
    for ln in open(pcs_path):
        name, rep, pc = ln.split()
        runs.setdefault((name, int(rep)), []).append(int(pc, 16))
    by_alloc = collections.OrderedDict()
    for (name, rep), pcs in runs.items():
        by_alloc.setdefault(name, []).append(pcs)
    for name, iters in by_alloc.items():
        counts = [len(p) for p in iters]
        # The most common length is the steady-state iteration.
        mode = collections.Counter(counts).most_common(1)[0][0]
        pcs = next(p for p in iters if len(p) == mode)
        print("## %s: %d instructions per iteration (iterations traced: %s)"
              % (name, mode, " ".join(map(str, counts))))
        per = collections.OrderedDict()
        seq = []
        for pc in pcs:
            s = sym(pc)
            per[s] = per.get(s, 0) + 1
            if seq and seq[-1][0] == s:
                seq[-1][1] += 1
            else:
                seq.append([s, 1])
        print("by function:")
        for s, c in per.items():
            print("  %5d  %s" % (c, s))
        print("in order:")
        print("  " + " > ".join("%s %d" % (s, c) for s, c in seq))
        print()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "gdb":
        gdb_main(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
