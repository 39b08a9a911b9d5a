#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace benchmark: /dev/goalloc arenas (raw batched ioctls, and
# libgoalloc's thread cache one object per call) against glibc malloc and
# Boost.Interprocess managed_shared_memory, per object, in one perf-kernel
# guest under QEMU.
#
# Usage: bench/userspace/run.sh [-o OUT] [-r ROUNDS] [-n OBJECTS] [-g PARAMS] [-p]
#   OUT      where the results go (default results/bench/userspace)
#   ROUNDS   counted rounds (default 11; a warm-up round comes first)
#   OBJECTS  objects per sample (default 8192, a multiple of 256)
#   PARAMS   goalloc.ko's module parameters, comma-separated
#            (e.g. user_keep_bytes=67108864); none by default
#   -p       no build and no boot: redo the tables and plot from OUT/guest
#
# Builds uarena_bench (static) and goalloc.ko for the perf kernel, stages an
# initramfs with qemu/mkinitramfs.sh and puts bench/userspace/init.sh in as
# its /init, boots it, and writes into OUT:
#   userspace.csv   allocator,size,batch,op,median_ns,min_ns,max_ns
#   userspace.md    the tables, with goalloc/malloc and goalloc/Boost ratios
#   userspace.png   ns per object against batch, 64-byte objects
#   userspace.log   the bench's own table and setup lines
#   guest/          the guest's console.log, results.log, status
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/qemu/lib.sh"

out=results/bench/userspace rounds=11 nobj=8192 post=0 params=
while getopts o:r:n:g:p opt; do
	case $opt in
	o) out=$OPTARG ;; r) rounds=$OPTARG ;; n) nobj=$OPTARG ;; p) post=1 ;;
	g) params=$OPTARG ;;
	*) die "usage: see the head of $0" ;;
	esac
done
cd "$top"
for t in g++ gnuplot cpio gzip qemu-system-x86_64; do
	command -v $t >/dev/null || die "$t is missing (tools/install-deps.sh --bench)"
done
[ -e /usr/include/boost/interprocess/managed_shared_memory.hpp ] ||
	die "Boost.Interprocess is missing (tools/install-deps.sh --bench)"

bld=$top/build/userspace
guest=$out/guest
res=$guest/results.log
if [ $post = 0 ]; then
	log "building uarena_bench"
	make -s -C "$here" OUT="$bld" >&2
	k=$(qemu/kernel.sh perf)
	log "building goalloc for the perf kernel ($k)"
	build_modules "$k" build/perf

	# Stage with the common script, then swap in our /init and pack.
	root=$bld/root cpio=$bld/initramfs.cpio.gz
	qemu/mkinitramfs.sh "$root" - -- build/perf/kmod/goalloc.ko -- -- "$bld/uarena_bench"
	install -m 755 "$here/init.sh" "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$cpio"

	mkdir -p "$out"
	log "booting the perf kernel; results in $guest"
	qemu/run-qemu.sh -k "$k/arch/x86/boot/bzImage" -i "$cpio" -o "$guest" \
		-c 2 -m 1G -t 600 -M ubench -a "UB_ROUNDS=$rounds UB_OBJECTS=$nobj${params:+ UB_GOALLOC_ARGS=$params}"
fi
# A clean end is QEMU's exit 1 (isa-debug-exit) after GA-END.
if [ "$(cat "$guest/status")" != "exit 1" ] || ! grep -q '^GA-END' "$res" ||
	! grep -q '^GA-UBENCH rc=0' "$res"; then
	tail -20 "$guest/console.log" >&2
	tail -20 "$res" >&2
	die "the guest run failed ($(cat "$guest/status")); see $guest"
fi

sed -n '/^GA-UBENCH-CSV-BEGIN/,/^GA-UBENCH-CSV-END/p' "$res" | sed '1d;$d' |
	tr -d '\r' >"$out/userspace.csv"
sed -n '/^GA-UBENCH-LOG-BEGIN/,/^GA-UBENCH-LOG-END/p' "$res" | sed '1d;$d' |
	tr -d '\r' >"$out/userspace.log"
[ "$(wc -l <"$out/userspace.csv")" -gt 1 ] || die "no CSV in $res"

# The Markdown tables.
{
	echo "# Userspace: /dev/goalloc arenas, glibc malloc, Boost.Interprocess"
	echo
	echo "Nanoseconds per object, median of the rounds" \
		"($(grep 'objects per sample' "$out/userspace.log"));" \
		"min and max are in userspace.csv."
	echo "Guest: $(sed -n 's/^GA-BEGIN mode=ubench //p' "$res" | tr -d '\r')," \
		"accel $(cat "$guest/accel"), clocksource" \
		"$(sed -n 's/^GA-UBENCH-CLOCKSOURCE //p' "$res" | tr -d '\r')."
	echo "Every object is touched (one byte written) when it is allocated;"
	echo "goalloc (ioctl) takes one ioctl per batch; libgoalloc, malloc and Boost"
	echo "one call per object (libgoalloc's thread cache goes to the kernel in"
	echo "batches of its own)."
	if grep -q tcg "$guest/accel"; then
		echo
		echo "Under TCG (no KVM) every instruction is emulated, and system calls,"
		echo "page faults and TLB flushes cost far more next to plain userspace"
		echo "code than on hardware: read the ratios as TCG's, not a CPU's."
	fi
	echo
	awk -F, '
	NR > 1 { m[$1, $2, $3, $4] = $5; if (!($2 in seen)) { seen[$2]; sz[++ns] = $2 }
		 if (!($3 in seenb)) { seenb[$3]; bt[++nb] = $3 } }
	function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
	function af(x, s, b) { return m[x, s, b, "alloc"] + m[x, s, b, "free"] }
	END {
		print "## Fill, then drain: all objects live, then all freed"
		print ""
		print "| size | batch | libgoalloc alloc | libgoalloc free | goalloc ioctl alloc+free |" \
		      " malloc alloc | malloc free | Boost alloc | Boost free |" \
		      " libgoalloc/malloc | libgoalloc/Boost | ioctl/malloc | ioctl/Boost |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= ns; i++) for (j = 1; j <= nb; j++) {
			s = sz[i]; b = bt[j]
			l = af("libgoalloc", s, b); g = af("goalloc", s, b)
			c = af("malloc", s, b); x = af("boost", s, b)
			printf "| %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				s, b, m["libgoalloc", s, b, "alloc"], m["libgoalloc", s, b, "free"], g,
				m["malloc", s, b, "alloc"], m["malloc", s, b, "free"],
				m["boost", s, b, "alloc"], m["boost", s, b, "free"],
				r(l, c), r(l, x), r(g, c), r(g, x)
		}
		print ""
		print "Ratios: (alloc + free) of libgoalloc or of the raw ioctls over the same"
		print "for malloc or Boost."
		print ""
		print "## Cycle: allocate a batch, touch it, free it (alloc + free)"
		print ""
		print "| size | batch | libgoalloc | goalloc ioctl | malloc | Boost |" \
		      " libgoalloc/malloc | libgoalloc/Boost | ioctl/malloc | ioctl/Boost |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= ns; i++) for (j = 1; j <= nb; j++) {
			s = sz[i]; b = bt[j]
			l = m["libgoalloc", s, b, "cycle"]
			g = m["goalloc", s, b, "cycle"]
			c = m["malloc", s, b, "cycle"]
			x = m["boost", s, b, "cycle"]
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s, b, l, g, c, x,
				r(l, c), r(l, x), r(g, c), r(g, x)
		}
	}' "$out/userspace.csv"
} >"$out/userspace.md"

# The plot: 64-byte objects, alloc + free per object against the batch.
dat=$bld/plot64.dat
awk -F, 'NR > 1 && $2 == 64 && ($4 == "alloc" || $4 == "free") { t[$3, $1] += $5; b[$3] }
	END { print "# batch goalloc malloc boost libgoalloc"
	      for (x in b) print x, t[x, "goalloc"], t[x, "malloc"], t[x, "boost"],
		      t[x, "libgoalloc"] }' \
	"$out/userspace.csv" | sort -n >"$dat"
gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set output "$out/userspace.png"
set title "Userspace, 64-byte objects: alloc + free (fill, then drain)"
set xlabel "objects per batch"
set ylabel "ns per object (median)"
set logscale xy
set xtics ("1" 1, "16" 16, "256" 256)
set grid
set key top right
plot "$dat" using 1:2 with linespoints lw 2 title "goalloc ioctl", \
     "" using 1:5 with linespoints lw 2 title "libgoalloc thread cache", \
     "" using 1:3 with linespoints lw 2 title "glibc malloc", \
     "" using 1:4 with linespoints lw 2 title "Boost managed_shared_memory"
GP
log "wrote $out/userspace.csv, userspace.md, userspace.png"
cat "$out/userspace.md"
