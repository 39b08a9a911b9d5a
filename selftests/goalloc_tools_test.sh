#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# goalloc_tools_test: libgoalloc's programs inside the test guest, as TAP.
# arena-demo must pass its own checks (fork sharing, bad frees refused,
# SIGBUS after reset); goallocstat must print a table whose per-class rows
# show the classes the demo used, valid-looking JSON with all 68 classes, and
# fail with a clear message on a path that is not the device; --caches must
# print the named caches' table (debugfs goalloc/caches).
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }

echo "TAP version 13"
echo "1..7"
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

rm -rf $out
[ $fails = 0 ]
