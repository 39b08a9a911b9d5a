// SPDX-License-Identifier: GPL-2.0
/*
 * fsload: the file system workload of the routed-module guest test
 * (tools/routed-guest.sh, Documentation/routing.rst).  Static, for the
 * busybox initramfs; one process, so that thousands of files cost no
 * thousands of forks under TCG.
 *
 * Usage: fsload populate|mutate|verify DIR N
 *        fsload blkwrite|blkmutate|blkverify DEV PAGES
 *        fsload anon - MIB
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
 *
 * The block and anonymous-memory phases drive zram (and zsmalloc under it).
 * Page i of generation g holds one of eight kinds of contents, by
 * (i + g) % 8, so that every path of zram's is taken: a zero page and a page
 * of one repeated byte (zram keeps those without zsmalloc), pages whose
 * first 64 to 3900 bytes are random and the rest zero (compressed objects
 * of every zsmalloc size class), and a random page (incompressible: a
 * "huge" object of a whole page).
 *   blkwrite  pages 0..PAGES-1 of DEV, generation 0, 64 KiB per O_DIRECT write
 *   blkmutate i % 3 == 0 rewritten with generation 1, one page per write;
 *             then i % 10 == 9 discarded (BLKDISCARD: read back as zeros)
 *   blkverify every page against what blkwrite and blkmutate left
 *   anon      MIB of private anonymous memory filled with generation 2,
 *             checked, i % 3 == 0 rewritten with generation 3, checked
 *             again.  Run in a memory cgroup whose memory.max is below MIB
 *             (tools/routed-guest.sh), it pushes most of its pages out to
 *             swap (a zram device) and each check brings them back: the
 *             caller counts that traffic (pswpout, pswpin).
 * Prints one line per phase ("fsload PHASE: N files, M ms") and, for
 * verify, each mismatch (up to 20); exits 1 on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define NDIRS	16
#define MAXSZ	6001
#define PG	4096
#define CHUNK	16		/* pages per blkwrite / blkverify I/O */

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

/* Page i of generation g (see the head of the file). */
static void page_of(long i, int g, unsigned char *buf)
{
	unsigned int x = 2166136261u ^ (unsigned int)(i * 8 + g);
	size_t k, r;

	switch ((i + g) % 8) {
	case 0:
		memset(buf, 0, PG);
		return;
	case 1:
		memset(buf, (int)(i * 7 + g) | 1, PG);
		return;
	case 6:
		r = PG;
		break;
	case 7:
		r = 64 + (size_t)(i * 131 % 3837);
		break;
	default:
		r = (size_t)((i + g) % 8 - 1) * 700 + (size_t)(i * 37 % 256);
		break;
	}
	for (k = 0; k < r; k++) {
		x = x * 16777619u + 0x9e3779b9u;
		buf[k] = (unsigned char)(x >> 24);
	}
	memset(buf + r, 0, PG - r);
}

/* What blkverify expects of page i after blkwrite and blkmutate. */
static void blk_expect(long i, unsigned char *buf)
{
	if (i % 10 == 9)
		memset(buf, 0, PG);
	else
		page_of(i, i % 3 == 0 ? 1 : 0, buf);
}

static void page_fail(const char *what, long i)
{
	char p[64];

	snprintf(p, sizeof(p), "%s page %ld", root, i);
	errno = 0;
	fail(what, p);
}

static unsigned char *aligned(size_t n)
{
	void *p;

	if (posix_memalign(&p, PG, n)) {
		fprintf(stderr, "fsload: out of memory\n");
		exit(1);
	}
	return p;
}

static void blk(const char *phase, long n)
{
	unsigned char *buf = aligned(CHUNK * PG), *want = aligned(PG);
	uint64_t range[2];
	long i, k, c;
	int fd;

	fd = open(root, O_RDWR | O_DIRECT);
	if (fd < 0) {
		fail("open", root);
		return;
	}
	if (!strcmp(phase, "blkwrite")) {
		for (i = 0; i < n; i += c) {
			c = n - i < CHUNK ? n - i : CHUNK;
			for (k = 0; k < c; k++)
				page_of(i + k, 0, buf + k * PG);
			if (pwrite(fd, buf, c * PG, i * PG) != c * PG)
				page_fail("write", i);
		}
	} else if (!strcmp(phase, "blkmutate")) {
		for (i = 0; i < n; i += 3) {
			page_of(i, 1, buf);
			if (pwrite(fd, buf, PG, i * PG) != PG)
				page_fail("rewrite", i);
		}
		for (i = 9; i < n; i += 10) {
			range[0] = (uint64_t)i * PG;
			range[1] = PG;
			if (ioctl(fd, BLKDISCARD, range))
				page_fail("discard", i);
		}
	} else {
		for (i = 0; i < n; i += c) {
			c = n - i < CHUNK ? n - i : CHUNK;
			if (pread(fd, buf, c * PG, i * PG) != c * PG) {
				page_fail("read", i);
				continue;
			}
			for (k = 0; k < c; k++) {
				blk_expect(i + k, want);
				if (memcmp(buf + k * PG, want, PG))
					page_fail("contents differ", i + k);
			}
		}
	}
	if (fsync(fd))
		fail("fsync", root);
	close(fd);
	free(buf);
	free(want);
}

static void anon_check(unsigned char *a, long n, int mutated)
{
	unsigned char *want = aligned(PG);
	long i;

	for (i = 0; i < n; i++) {
		page_of(i, mutated && i % 3 == 0 ? 3 : 2, want);
		if (memcmp(a + i * PG, want, PG))
			page_fail("anon contents differ", i);
	}
	free(want);
}

static void anon(long mib)
{
	long n = mib * 256, i;
	unsigned char *a;

	a = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		fail("mmap", "anon");
		return;
	}
	for (i = 0; i < n; i++)
		page_of(i, 2, a + i * PG);
	anon_check(a, n, 0);
	for (i = 0; i < n; i += 3)
		page_of(i, 3, a + i * PG);
	anon_check(a, n, 1);
	munmap(a, n * PG);
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
		fprintf(stderr, "usage: fsload populate|mutate|verify DIR N\n"
			"       fsload blkwrite|blkmutate|blkverify DEV PAGES\n"
			"       fsload anon - MIB\n");
		return 2;
	}
	root = argv[2];
	if (!strncmp(argv[1], "blk", 3) && (!strcmp(argv[1], "blkwrite") ||
	    !strcmp(argv[1], "blkmutate") || !strcmp(argv[1], "blkverify")))
		blk(argv[1], n);
	else if (!strcmp(argv[1], "anon"))
		anon(n);
	else if (!strcmp(argv[1], "populate"))
		populate(n);
	else if (!strcmp(argv[1], "mutate"))
		mutate(n);
	else if (!strcmp(argv[1], "verify"))
		verify(n);
	else
		return 2;
	printf("fsload %s: %d %s, %ld ms, %d errors\n", argv[1], n,
	       !strcmp(argv[1], "anon") ? "MiB" : !strncmp(argv[1], "blk", 3) ? "pages" : "files",
	       now_ms() - t0, errors);
	return errors ? 1 : 0;
}
