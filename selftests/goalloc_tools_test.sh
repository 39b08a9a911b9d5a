#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# goalloc_tools_test: libgoalloc's programs inside the test guest, as TAP.
# arena-demo must pass its own checks (fork sharing, bad frees refused,
# SIGBUS after reset); goallocstat must print a table whose per-class rows
# show the classes the demo used, valid-looking JSON with all 68 classes, and
# fail with a clear message on a path that is not the device; --caches must
# print the named caches' table (debugfs goalloc/caches).
#
# goallocstat --watch must show what moved between two frames: between
# frames 1 and 2 goalloc_hold.ko (kunit/hold.c, staged beside goallocstat)
# allocates NOBJ objects of one size class and NCACHE of a named cache, and
# frees them between frames 2 and 3; frame 2 must show +NOBJ objects and
# NOBJ allocs on the class's row (+NCACHE on the cache's), frame 3 the
# same taken away.  Nothing else allocates in goalloc meanwhile, so the
# figures are exact.  --chunks must turn the heap's chunk map (debugfs
# goalloc/chunks) into CSV, and show the spans of objects goalloc_hold holds.
# debugfs goalloc/mcaches must show the span CPU 0 caches for objects
# goalloc_hold allocated there, with its free slots' bytes, and totals per
# CPU that add up its lines.
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }

echo "TAP version 13"
echo "1..22"
out=/tmp/goalloc-tools.$$
mkdir -p $out

arena-demo >$out/demo 2>&1
rc=$?
sed 's/^/# /' $out/demo
check "arena-demo passes its checks" [ $rc = 0 ]

goallocstat >$out/table 2>&1
rc=$?
sed 's/^/# /' $out/table
check "goallocstat prints a table" [ $rc = 0 ]
# The demo allocated 64-byte objects: their class's row must be there.
check "goallocstat shows the 64-byte class the demo used" \
	awk '$1 ~ /^[0-9]+$/ && $2 == 64 { found = 1 } END { exit !found }' $out/table

goallocstat --json --all >$out/json 2>&1
rc=$?
check "goallocstat --json exits 0" [ $rc = 0 ]
classes=$(grep -o '"class"' $out/json | wc -l)
check "goallocstat --json --all lists 68 classes as one object ($classes)" \
	sh -c "[ $classes = 68 ] && head -c1 $out/json | grep -q '{' && tail -c2 $out/json | grep -q '}'"

goallocstat /proc/self/status >$out/bad 2>&1
rc=$?
sed 's/^/# /' $out/bad
check "goallocstat on a non-device fails with a message" \
	sh -c "[ $rc != 0 ] && grep -q goallocstat $out/bad"

goallocstat --caches >$out/caches 2>&1
rc=$?
sed 's/^/# /' $out/caches
check "goallocstat --caches prints the caches' table" \
	sh -c "[ $rc = 0 ] && head -1 $out/caches | grep -q '^# name *active_objs num_objs objsize'"

# goallocstat --watch.  The class of 3072-byte objects, and a cache of
# 200-byte ones made before frame 1 (so that frame 2 has its deltas).
NOBJ=1000 NCACHE=500 SIZE=3072 CSIZE=200 IV=3
H=/sys/kernel/debug/goalloc_hold/ctl
hold=
for d in $(echo "$PATH" | tr : ' '); do [ -e "$d/goalloc_hold.ko" ] && hold=$d/goalloc_hold.ko; done
[ -n "$hold" ] && insmod "$hold"
check "goalloc_hold.ko is loaded" [ -w $H ]
echo "cache $CSIZE 0" >$H 2>/dev/null
# wait_for TEXT: until the watch's output holds TEXT (30 s at most).
wait_for() {
	i=0
	while ! grep -q "$1" $out/watch && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
	grep -q "$1" $out/watch
}
goallocstat --watch --interval $IV --count 3 >$out/watch 2>&1 &
wpid=$!
wait_for 'frame 1/3' && echo "alloc $SIZE $NOBJ" >$H && echo "cache $CSIZE $NCACHE" >$H
arc=$?
wait_for 'frame 2/3' && echo free >$H
frc=$?
wait $wpid
rc=$?
sed 's/^/# /' $out/watch
check "goallocstat --watch --count 3 shows 3 frames and exits 0 (alloc rc $arc, free rc $frc)" \
	sh -c "[ $rc = 0 ] && [ $arc = 0 ] && [ $frc = 0 ] && [ \$(grep -c '^goalloc --watch: frame' $out/watch) = 3 ]"
# row FRAME TABLE SIZE [NAME]: the row of TABLE (class or cache) for
# objects of SIZE bytes (named NAME) in frame FRAME, as "objects +objs
# held_kib +held_kib allocs frees".
row() {
	awk -v f="frame $1/3" -v t="$2" -v s="$3" -v n="${4:-}" '
		/^goalloc --watch: frame/ { inf = index($0, f) > 0; tab = ""; next }
		inf && ($1 == "class" || $1 == "cache") && $2 == "size" { tab = $1; next }
		inf && tab == t && $2 == s && (n == "" || $1 == n) {
			print $3, $4, $5, $6, $7, $8; exit }' $out/watch
}
r2=$(row 2 class $SIZE) r3=$(row 3 class $SIZE)
c2=$(row 2 cache $CSIZE goalloc_hold) c3=$(row 3 cache $CSIZE goalloc_hold)
echo "# class of $SIZE bytes, frame 2: $r2; frame 3: $r3"
echo "# cache goalloc_hold ($CSIZE bytes), frame 2: $c2; frame 3: $c3"
# is ROW EXPECT: ROW's fields match EXPECT's ("*" matches anything).
is() {
	[ -n "$1" ] && echo "$1|$2" | awk -F'|' '{
		n = split($1, a, " "); m = split($2, b, " ")
		if (n != m) exit 1
		for (i = 1; i <= n; i++) if (b[i] != "*" && b[i] != a[i]) exit 1 }'
}
check "--watch frame 2: +$NOBJ objects, $NOBJ allocs, 0 frees of $SIZE bytes" \
	is "$r2" "* +$NOBJ * * $NOBJ 0"
check "--watch frame 2: the class's spans hold at least its objects' bytes" \
	[ "$(echo "$r2" | awk '{ print $3 }')" -ge $((NOBJ * SIZE / 1024)) ]
check "--watch frame 3: -$NOBJ objects, 0 allocs, $NOBJ frees of $SIZE bytes" \
	is "$r3" "* -$NOBJ * * 0 $NOBJ"
check "--watch frame 2: the cache +$NCACHE objects, $NCACHE allocs, 0 frees" \
	is "$c2" "$NCACHE +$NCACHE * * $NCACHE 0"
check "--watch frame 3: the cache -$NCACHE objects, 0 allocs, $NCACHE frees" \
	is "$c3" "* -$NCACHE * * 0 $NCACHE"
check "goalloc_hold found every object as written" \
	grep -q "held 0 cached 0 bad 0" $H

# goallocstat --sites: the allocation-site profile, exact at profile_rate=1.
# NPROF objects of SIZE bytes held by goalloc_hold are its busiest site.
NPROF=300
P=/sys/module/goalloc/parameters/profile_rate
echo 1 >$P
echo "alloc $SIZE $NPROF" >$H
goallocstat --sites >$out/sites 2>&1
src=$?
goallocstat --sites --folded >$out/folded 2>&1
frc=$?
echo free >$H
goallocstat --sites >$out/sites2 2>&1
echo 0 >$P
sed 's/^/# /' $out/sites
sed 's/^/# folded: /' $out/folded
check "goallocstat --sites: the hold's site first, $NPROF objects of $SIZE bytes live" \
	sh -c "[ $src = 0 ] && head -1 $out/sites | grep -q 'profile_rate=1 ' &&
	       sed -n 3p $out/sites | awk '\$1 == $((NPROF * SIZE)) && \$2 == $NPROF && \$3 == $NPROF' |
	       grep -q goalloc_hold"
check "goallocstat --sites --folded: module;function;site and the live bytes" \
	sh -c "[ $frc = 0 ] && grep -q '^goalloc_hold;[^;]*;[^;]* $((NPROF * SIZE))\$' $out/folded"
check "goallocstat --sites after the free: the site holds nothing, its $NPROF calls kept" \
	sh -c "grep goalloc_hold $out/sites2 | awk '\$1 == 0 && \$2 == 0 && \$3 >= $NPROF' | grep -q ."

# The chunk map while NMAP objects of SIZE bytes are held: its spans (of
# 3 heap pages and 8 objects each) must be in it, on at least
# NMAP / 8 x 3 pages (more if spans of the class were already partly used).
NMAP=100
echo "alloc $SIZE $NMAP" >$H
goallocstat --chunks >$out/chunks.csv 2>&1
rc=$?
echo free >$H
cls=$(awk -v s=$SIZE '$2 == s { print $1 }' /sys/kernel/debug/goalloc/classes)
pages=$(awk -F, -v c="$cls" '$6 == "span" && $7 == c { n += $5 } END { print n + 0 }' $out/chunks.csv)
nchunks=$(tail -n +2 $out/chunks.csv | cut -d, -f1 | sort -u | wc -l)
head -5 $out/chunks.csv | sed 's/^/# /'
check "goallocstat --chunks: CSV, runs adding up, class $cls's spans on $pages pages of $nchunks chunks" \
	sh -c "[ $rc = 0 ] && head -1 $out/chunks.csv | grep -q '^chunk,node,order,first,pages,kind,class\$' &&
	       [ $nchunks -ge 1 ] && [ $pages -ge $(((NMAP + 7) / 8 * 3)) ]"

# debugfs goalloc/mcaches while NMC objects of MSIZE bytes, allocated on
# CPU 0, are held: CPU 0 caches the span the last of them came from
# (nothing else allocates in goalloc here), so its line shows an object in
# use at least, and free bytes = (objects - in use) x size.
# A CPU holding few objects of a class takes them from mcentral's spans
# while another CPU is online (quiet classes, Documentation/design.rst):
# quiet_max=0 makes CPU 0 cache its span from the first object on.
NMC=3 MSIZE=1152 MC=/sys/kernel/debug/goalloc/mcaches
QM=/sys/module/goalloc/parameters/quiet_max
qm0=$(cat $QM)
echo 0 >$QM
# The read runs right after the allocation, on the same CPU.
taskset 1 sh -c "echo 'alloc $MSIZE $NMC' >$H && cat $MC" >$out/mcaches 2>&1
rc=$?
echo free >$H
echo "$qm0" >$QM
sed 's/^/# /' $out/mcaches
check "mcaches: CPU 0 caches the span of $MSIZE bytes its last allocation came from (rc $rc)" \
	sh -c "[ $rc = 0 ] && head -1 $out/mcaches | grep -q '^cpu class *size *pages *objs *inuse *free_bytes *live\$' &&
	       awk -v s=$MSIZE '\$1 == 0 && \$3 == s && \$6 >= 1 && \$6 <= \$5 &&
		   \$7 == (\$5 - \$6) * s && \$4 * 8192 >= \$5 * s { f = 1 } END { exit !f }' $out/mcaches"
check "mcaches: the format holds (each CPU's total and the last line sum its lines)" \
	awk '$1 ~ /^[0-9]+$/ { n[$1]++; b[$1] += $7; an++; ab += $7; next }
	     $1 == "cpu" && $2 ~ /:$/ { c = $2; sub(":", "", c); t++;
		if ($3 != n[c] + 0 || $5 != b[c] + 0) bad = 1; next }
	     $1 == "all:" { all = 1; if ($2 != an + 0 || $4 != ab + 0) bad = 1 }
	     END { exit bad || !all || !t }' $out/mcaches
[ -n "$hold" ] && rmmod goalloc_hold
goallocstat --watch --count 1 /proc >$out/bad 2>&1
rc=$?
check "goallocstat --watch on a directory without goalloc's tables fails with a message" \
	sh -c "[ $rc != 0 ] && grep -q 'goallocstat: /proc/heap' $out/bad"

rm -rf $out
[ $fails = 0 ]
