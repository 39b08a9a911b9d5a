// SPDX-License-Identifier: GPL-2.0
/*
 * fsload: the file system workload of the routed-module guest test
 * (tools/routed-guest.sh, Documentation/routing.rst).  Static, for the
 * busybox initramfs; one process, so that thousands of files cost no
 * thousands of forks under TCG.
 *
 * Usage: fsload populate|mutate|verify DIR N
 *
 * Every file's fate is a function of its number i (0 <= i < N), so verify
 * knows what must be there without a record of what was done:
 *   populate  DIR/d<i%16>/f<i>: (i * 37) % 6000 + 1 bytes of a pattern of i;
 *             xattr user.ga = "v<i>"; for i % 7 == 0 also user.big, 200
 *             bytes shared by every seventh file (an xattr block outside
 *             the inode, shared through mbcache); for i % 3 == 0 a symlink
 *             l<i> -> "f<i>", a long one (a block of its own) for i % 9 == 0
 *   mutate    i % 5 == 0: copied to c<i> (contents and xattrs);
 *             i % 4 == 1: renamed to d<(i+1)%16>/r<i>;
 *             i % 6 == 2: deleted (never one of the renamed: i is even)
 *   verify    the state after mutate: contents, xattrs, links, and that the
 *             deleted and renamed-away names are gone.
 * Prints one line per phase ("fsload PHASE: N files, M ms") and, for
 * verify, each mismatch (up to 20); exits 1 on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define NDIRS	16
#define MAXSZ	6001

static const char *root;
static int errors;

static void fail(const char *what, const char *path)
{
	if (errors++ < 20)
		fprintf(stderr, "fsload: %s: %s: %s\n", what, path, errno ? strerror(errno) : "");
	errno = 0;
}

static size_t fsize(int i)
{
	return (size_t)i * 37 % (MAXSZ - 1) + 1;
}

static void pattern(int i, char *buf, size_t n)
{
	unsigned int x = 2166136261u ^ (unsigned int)i;
	size_t k;

	for (k = 0; k < n; k++) {
		x = x * 16777619u + 0x9e3779b9u;
		buf[k] = (char)(x >> 24);
	}
}

static void big_xattr(char *v)
{
	memset(v, 'B', 200);
}

static void name(char *p, size_t n, int dir, char kind, int i)
{
	snprintf(p, n, "%s/d%d/%c%d", root, dir, kind, i);
}

static void long_target(int i, char *t, size_t n)
{
	snprintf(t, n, "../d%d/%0120d/f%d", i % NDIRS, 0, i);
}

static int write_file(const char *p, const char *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
		fail("write", p);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd))
		fail("close", p);
	return 0;
}

static void set_xattrs(const char *p, int i)
{
	char v[256];

	snprintf(v, sizeof(v), "v%d", i);
	if (setxattr(p, "user.ga", v, strlen(v), 0))
		fail("setxattr user.ga", p);
	if (i % 7 == 0) {
		big_xattr(v);
		if (setxattr(p, "user.big", v, 200, 0))
			fail("setxattr user.big", p);
	}
}

static void populate(int n)
{
	static char buf[MAXSZ];
	char p[512], t[256];
	int i;

	for (i = 0; i < NDIRS; i++) {
		snprintf(p, sizeof(p), "%s/d%d", root, i);
		if (mkdir(p, 0755) && errno != EEXIST)
			fail("mkdir", p);
	}
	for (i = 0; i < n; i++) {
		name(p, sizeof(p), i % NDIRS, 'f', i);
		pattern(i, buf, fsize(i));
		if (write_file(p, buf, fsize(i)))
			continue;
		set_xattrs(p, i);
		if (i % 3)
			continue;
		name(p, sizeof(p), i % NDIRS, 'l', i);
		if (i % 9 == 0)
			long_target(i, t, sizeof(t));
		else
			snprintf(t, sizeof(t), "f%d", i);
		if (symlink(t, p))
			fail("symlink", p);
	}
}

static void mutate(int n)
{
	static char buf[MAXSZ];
	char p[512], q[512];
	int i, fd;
	ssize_t got;

	for (i = 0; i < n; i++) {
		name(p, sizeof(p), i % NDIRS, 'f', i);
		if (i % 5 == 0) {
			name(q, sizeof(q), i % NDIRS, 'c', i);
			fd = open(p, O_RDONLY);
			got = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
			if (fd >= 0)
				close(fd);
			if (got < 0)
				fail("read for copy", p);
			else if (!write_file(q, buf, got))
				set_xattrs(q, i);
		}
		if (i % 4 == 1) {
			name(q, sizeof(q), (i + 1) % NDIRS, 'r', i);
			if (rename(p, q))
				fail("rename", p);
		} else if (i % 6 == 2) {
			if (unlink(p))
				fail("unlink", p);
		}
	}
}

static void check_file(const char *p, int i)
{
	static char buf[MAXSZ + 1], want[MAXSZ];
	char v[256], w[256];
	ssize_t got;
	int fd;

	fd = open(p, O_RDONLY);
	if (fd < 0) {
		fail("missing", p);
		return;
	}
	got = read(fd, buf, sizeof(buf));
	close(fd);
	pattern(i, want, fsize(i));
	if (got != (ssize_t)fsize(i) || memcmp(buf, want, fsize(i))) {
		errno = 0;
		fail("contents differ", p);
	}
	snprintf(w, sizeof(w), "v%d", i);
	got = getxattr(p, "user.ga", v, sizeof(v));
	if (got != (ssize_t)strlen(w) || memcmp(v, w, got)) {
		errno = 0;
		fail("user.ga differs", p);
	}
	got = getxattr(p, "user.big", v, sizeof(v));
	if (i % 7 == 0) {
		big_xattr(w);
		if (got != 200 || memcmp(v, w, 200)) {
			errno = 0;
			fail("user.big differs", p);
		}
	} else if (got >= 0 || errno != ENODATA) {
		fail("user.big unexpected", p);
	}
}

static void check_gone(const char *p)
{
	struct stat st;

	if (!lstat(p, &st)) {
		errno = 0;
		fail("still there", p);
	}
}

static void verify(int n)
{
	char p[512], t[256], got[256];
	ssize_t len;
	int i;

	for (i = 0; i < n; i++) {
		name(p, sizeof(p), i % NDIRS, 'f', i);
		if (i % 4 == 1) {
			check_gone(p);
			name(p, sizeof(p), (i + 1) % NDIRS, 'r', i);
			check_file(p, i);
		} else if (i % 6 == 2) {
			check_gone(p);
		} else {
			check_file(p, i);
		}
		if (i % 5 == 0) {
			name(p, sizeof(p), i % NDIRS, 'c', i);
			check_file(p, i);
		}
		if (i % 3 == 0) {
			name(p, sizeof(p), i % NDIRS, 'l', i);
			if (i % 9 == 0)
				long_target(i, t, sizeof(t));
			else
				snprintf(t, sizeof(t), "f%d", i);
			len = readlink(p, got, sizeof(got) - 1);
			if (len < 0 || (size_t)len != strlen(t) || memcmp(got, t, len))
				fail("symlink differs", p);
		}
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long t0 = now_ms();
	int n;

	if (argc != 4 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: fsload populate|mutate|verify DIR N\n");
		return 2;
	}
	root = argv[2];
	if (!strcmp(argv[1], "populate"))
		populate(n);
	else if (!strcmp(argv[1], "mutate"))
		mutate(n);
	else if (!strcmp(argv[1], "verify"))
		verify(n);
	else
		return 2;
	printf("fsload %s: %d files, %ld ms, %d errors\n", argv[1], n, now_ms() - t0, errors);
	return errors ? 1 : 0;
}
