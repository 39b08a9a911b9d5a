// SPDX-License-Identifier: GPL-2.0
/*
 * xattr-storm: set, read, list and remove extended attributes on files, for
 * the "fs" workload of the trace-capture guest (bench/trace/capture-init.sh),
 * whose busybox has no setfattr.  Built static by bench/trace/capture.sh.
 *
 * Usage: xattr-storm N FILE...
 *
 * On every FILE: sets N attributes user.gaK (K = 0..N-1) with values of
 * 1 to 300 bytes, lists them, reads each back and checks it, then
 * removes every other one.  Exits 1 on the first failure (with its errno),
 * so a file system without user xattrs is noticed, not traced silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

static int one_file(const char *path, int n)
{
	char name[32], val[640], got[640], list[8192];
	ssize_t len;
	int k;

	for (k = 0; k < n; k++) {
		size_t sz = 1 + (size_t)(k * 97 + strlen(path) * 13) % 300;

		snprintf(name, sizeof(name), "user.ga%d", k);
		memset(val, 'a' + k % 26, sz);
		if (setxattr(path, name, val, sz, 0)) {
			fprintf(stderr, "xattr-storm: setxattr %s %s: %s\n", path, name,
				strerror(errno));
			return 1;
		}
	}
	len = listxattr(path, list, sizeof(list));
	if (len < 0) {
		fprintf(stderr, "xattr-storm: listxattr %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "user.ga%d", k);
		len = getxattr(path, name, got, sizeof(got));
		if (len <= 0 || got[0] != 'a' + k % 26) {
			fprintf(stderr, "xattr-storm: getxattr %s %s: wrong value\n", path, name);
			return 1;
		}
	}
	for (k = 0; k < n; k += 2) {
		snprintf(name, sizeof(name), "user.ga%d", k);
		if (removexattr(path, name)) {
			fprintf(stderr, "xattr-storm: removexattr %s %s: %s\n", path, name,
				strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i, n;

	if (argc < 3) {
		fprintf(stderr, "usage: xattr-storm N FILE...\n");
		return 2;
	}
	n = atoi(argv[1]);
	for (i = 2; i < argc; i++)
		if (one_file(argv[i], n))
			return 1;
	return 0;
}
