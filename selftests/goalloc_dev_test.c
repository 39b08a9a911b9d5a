// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_dev_test: /dev/goalloc as uapi/linux/goalloc.h describes it.
 *
 * Open, map, allocate, free, reset and read the statistics of user arenas:
 * objects of many sizes keep their own bytes, fresh memory is zero, freed
 * slots come back, the cap is all or nothing, the arena is shared across
 * fork() and SCM_RIGHTS, pages without a span raise SIGBUS, the memory is
 * charged to the opener's memory cgroup and honours its limit, and several
 * threads can use one arena at once.
 *
 * Children forked by a test report through their exit status or a pipe,
 * never through the harness's ASSERT_*(), which would longjmp() in the
 * wrong process; threads record their first error for the test to report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/goalloc.h>

#include "kselftest_harness.h"
#include "goalloc_selftest.h"

#define CGROOT		"/sys/fs/cgroup"

/* ------------------------------------------------------------------ */
/* Files                                                               */

static int read_u64_file(const char *path, __u64 *v)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	*v = strtoull(buf, NULL, 0);
	return 0;
}

static int write_str_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static __u64 default_cap(void)
{
	__u64 v = 0;

	if (read_u64_file(PARAM_MAX, &v))
		return 256 * MiB;
	return v;
}

/* ------------------------------------------------------------------ */
/* Patterns (see goalloc_selftest.h)                                  */

static long check_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i])
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Fixture: one fresh arena                                            */

FIXTURE(arena) {
	int fd;
	__u64 defcap;
	char *map;
	size_t maplen;
};

FIXTURE_SETUP(arena)
{
	self->map = NULL;
	self->maplen = 0;
	self->defcap = default_cap();
	self->fd = ga_open();
	if (self->fd < 0 && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV, strerror(errno));
}

FIXTURE_TEARDOWN(arena)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, self->maplen);
	if (self->fd >= 0)
		close(self->fd);
}

/* Map the whole arena (its current cap) into self->map. */
static int map_all(FIXTURE_DATA(arena) *self)
{
	return ga_map_all(self->fd, &self->map, &self->maplen);
}

/* ------------------------------------------------------------------ */

TEST(device_node)
{
	struct stat st;

	if (stat(DEV, &st) && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_EQ(0, stat(DEV, &st)) TH_LOG("%s: %s", DEV, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
}

TEST_F(arena, fresh_stats)
{
	struct goalloc_stats st, st2;
	__u64 off;
	double end;
	int fd2;

	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(self->defcap, st.max_size);
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.bytes_charged);
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(0, st.nalloc);
	EXPECT_EQ(0, st.nfree);
	EXPECT_EQ(0, st.nreset);
	EXPECT_LE(1, st.arenas);
	EXPECT_LE(st.heap_inuse_bytes, st.heap_bytes);

	/* A second open is a second, independent arena. */
	fd2 = ga_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ga_stats(fd2, &st2));
	EXPECT_EQ(st.arenas + 1, st2.arenas);
	ASSERT_EQ(0, ga_alloc(fd2, 64, 1, 0, &off));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	ASSERT_EQ(0, ga_stats(fd2, &st2));
	EXPECT_EQ(1, st2.objects);
	close(fd2);
	/* The arena is gone once its last file reference is. */
	end = now_s() + 2;
	do {
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		if (st.arenas + 1 == st2.arenas)
			break;
		usleep(20000);
	} while (now_s() < end);
	EXPECT_EQ(st2.arenas - 1, st.arenas);
}

TEST_F(arena, setup_cap)
{
	struct goalloc_stats st;
	__u64 out = 0;

	/* 0 keeps the cap and reports it. */
	ASSERT_EQ(0, ga_setup(self->fd, 0, &out));
	EXPECT_EQ(self->defcap, out);
	/* Above the default: refused, cap unchanged. */
	EXPECT_EQ(-EINVAL, ga_setup(self->fd, self->defcap + HPAGE, NULL));
	EXPECT_EQ(-EINVAL, ga_setup(self->fd, self->defcap * 2, NULL));
	EXPECT_EQ(-EINVAL, ga_setup(self->fd, ~0ULL, NULL));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(self->defcap, st.max_size);
	/* The default itself is fine. */
	ASSERT_EQ(0, ga_setup(self->fd, self->defcap, &out));
	EXPECT_EQ(self->defcap, out);
	/* Rounded up to the heap page. */
	ASSERT_EQ(0, ga_setup(self->fd, 1, &out));
	EXPECT_EQ(HPAGE, out);
	ASSERT_EQ(0, ga_setup(self->fd, MiB + 1, &out));
	EXPECT_EQ(MiB + HPAGE, out);
	ASSERT_EQ(0, ga_setup(self->fd, MiB, &out));
	EXPECT_EQ(MiB, out);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(MiB, st.max_size);
	ASSERT_EQ(0, ga_setup(self->fd, 0, &out));
	EXPECT_EQ(MiB, out);
}

TEST_F(arena, setup_busy_after_alloc)
{
	__u64 off, out = 0;
	struct goalloc_stats st;

	ASSERT_EQ(0, ga_alloc(self->fd, 100, 1, 0, &off));
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(self->defcap, st.max_size);
	/* A reset gives everything back: the arena holds no memory again. */
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_setup(self->fd, MiB, &out));
	EXPECT_EQ(MiB, out);
}

TEST_F(arena, setup_busy_after_mmap)
{
	__u64 out = 0;
	void *p = ga_map(self->fd, 64 * KiB, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	/* ... and the mapping pins it even if split. */
	ASSERT_EQ(0, munmap((char *)p + 16 * KiB, 16 * KiB));
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, munmap(p, 16 * KiB));
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, munmap((char *)p + 32 * KiB, 32 * KiB));
	/* No mapping left. */
	ASSERT_EQ(0, ga_setup(self->fd, MiB, &out));
	EXPECT_EQ(MiB, out);
}

/* Objects of many sizes keep their own bytes; none overlaps another. */
#define NSIZES 15
static const __u64 sizes[NSIZES] = {
	1, 8, 16, 17, 64, 100, 4096, 8192, 32768, 32769, 1 << 20,
	GOALLOC_MAX_OBJECT, 24, 3000, 100000,
};

static int cmp_range(const void *a, const void *b)
{
	const __u64 *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

TEST_F_TIMEOUT(arena, sizes_patterns, 120)
{
	enum { PER = 3 };
	__u64 offs[NSIZES * PER], osize[NSIZES * PER], ranges[NSIZES * PER][2];
	struct goalloc_stats st;
	__u64 sum = 0, nfreed = 0;
	unsigned int i, n = 0;

	ASSERT_EQ(0, map_all(self));
	for (i = 0; i < NSIZES; i++) {
		__u64 size = sizes[i], cnt = size >= MiB ? 1 : PER, k;

		ASSERT_EQ(0, ga_alloc(self->fd, size, cnt, 0, &offs[n]))
			TH_LOG("size %llu", (unsigned long long)size);
		for (k = 0; k < cnt; k++, n++) {
			__u64 o = offs[n];

			osize[n] = size;
			ranges[n][0] = o;
			ranges[n][1] = o + size;
			sum += size;
			EXPECT_EQ(0, o % 8) TH_LOG("size %llu off %#llx",
					      (unsigned long long)size, (unsigned long long)o);
			if (!(size & (size - 1)) && size <= HPAGE) {
				EXPECT_EQ(0, o % size) TH_LOG("size %llu off %#llx",
					(unsigned long long)size, (unsigned long long)o);
			}
			if (!(size & (size - 1)) && size > HPAGE) {
				EXPECT_EQ(0, o % HPAGE);
			}
			ASSERT_LE(o + size, self->maplen)
				TH_LOG("off %#llx size %llu cap %zu", (unsigned long long)o,
				       (unsigned long long)size, self->maplen);
			/* Fresh memory is zero. */
			EXPECT_EQ(-1, check_zero(self->map + o, size))
				TH_LOG("size %llu off %#llx", (unsigned long long)size,
				       (unsigned long long)o);
			fill(self->map + o, size, n * 7919 + size);
		}
	}
	/* No two objects overlap. */
	qsort(ranges, n, sizeof(ranges[0]), cmp_range);
	for (i = 1; i < n; i++) {
		EXPECT_LE(ranges[i - 1][1], ranges[i][0])
			TH_LOG("[%#llx,%#llx) overlaps [%#llx,%#llx)",
			       (unsigned long long)ranges[i - 1][0],
			       (unsigned long long)ranges[i - 1][1],
			       (unsigned long long)ranges[i][0],
			       (unsigned long long)ranges[i][1]);
	}
	/* Every object kept its bytes after all were written. */
	for (i = 0; i < n; i++) {
		EXPECT_EQ(-1, check(self->map + offs[i], osize[i], i * 7919 + osize[i]))
			TH_LOG("object %u size %llu off %#llx", i,
			       (unsigned long long)osize[i], (unsigned long long)offs[i]);
	}

	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(n, st.objects);
	EXPECT_EQ(n, st.nalloc);
	EXPECT_LE(sum, st.bytes_allocated);
	EXPECT_LE(st.bytes_allocated, st.bytes_held);
	EXPECT_LE(st.bytes_held, st.max_size);
	EXPECT_EQ(0, st.bytes_held % HPAGE);
	EXPECT_LE(1, st.spans);
	EXPECT_LE(st.bytes_held, st.bytes_charged);
	EXPECT_LE(st.heap_inuse_bytes, st.heap_bytes);

	/* Free them all: back to an empty arena. */
	ASSERT_EQ(0, ga_free(self->fd, n, offs, NULL, &nfreed));
	EXPECT_EQ(n, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(n, st.nalloc);
	EXPECT_EQ(n, st.nfree);
	EXPECT_EQ(0, st.nreset);
}

/* Slot sizes of the small classes, per the Go size classes. */
TEST_F(arena, bytes_allocated_slots)
{
	static const struct { __u64 size, slot; } t[] = {
		{ 1, 8 }, { 9, 16 }, { 17, 24 }, { 33, 48 }, { 100, 112 },
		{ 129, 144 }, { 1025, 1152 }, { 4097, 4864 }, { 32767, 32768 },
	};
	struct goalloc_stats st;
	__u64 off[16], expect = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		ASSERT_EQ(0, ga_alloc(self->fd, t[i].size, 1, 0, &off[i]));
		expect += t[i].slot;
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		EXPECT_EQ(expect, st.bytes_allocated) TH_LOG("size %llu",
							      (unsigned long long)t[i].size);
	}
	/* Large objects: whole heap pages. */
	ASSERT_EQ(0, ga_alloc(self->fd, 32769, 1, 0, &off[i]));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_LE(expect + 5 * HPAGE, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_allocated % 8);
	EXPECT_EQ(ARRAY_SIZE(t) + 1, st.objects);
	ASSERT_EQ(0, ga_free_all(self->fd, off, ARRAY_SIZE(t) + 1));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
}

/* A whole batch of the smallest objects. */
TEST_F_TIMEOUT(arena, max_batch_small, 120)
{
	const __u64 n = GOALLOC_MAX_BATCH;
	__u64 *offs = calloc(n, sizeof(*offs)), i, nfreed = 0, bad = 0;
	struct goalloc_stats st;

	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 8, n, 0, offs));
	for (i = 0; i < n; i++) {
		if (offs[i] % 8 || offs[i] + 8 > self->maplen) {
			if (!bad++)
				TH_LOG("object %llu at %#llx", (unsigned long long)i,
				       (unsigned long long)offs[i]);
			continue;
		}
		if (*(__u64 *)(self->map + offs[i]))
			bad++;
		*(__u64 *)(self->map + offs[i]) = i + 1;
	}
	EXPECT_EQ(0, bad);
	for (i = 0; i < n; i++)
		if (offs[i] % 8 == 0 && offs[i] + 8 <= self->maplen &&
		    *(__u64 *)(self->map + offs[i]) != i + 1)
			bad++;
	EXPECT_EQ(0, bad) TH_LOG("objects overwritten by others");
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(n, st.objects);
	EXPECT_EQ(n * 8, st.bytes_allocated);
	/* 1024 objects of 8 bytes fill an 8 KiB span. */
	EXPECT_EQ(n * 8, st.bytes_held);
	EXPECT_EQ(n / 1024, st.spans);
	ASSERT_EQ(0, ga_free(self->fd, n, offs, NULL, &nfreed));
	EXPECT_EQ(n, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_held);
	free(offs);
}

/*
 * With a cap of one heap page, the arena is exactly one span of 64-byte
 * objects: a freed slot is the only place a new object can go.
 */
TEST_F(arena, free_realloc_reuses_slot)
{
	__u64 offs[128], off = 0, nfreed = 0;
	struct goalloc_stats st, st2;
	unsigned int i;
	int victim = 37;

	ASSERT_EQ(0, ga_setup(self->fd, HPAGE, NULL));
	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(HPAGE, self->maplen);
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 128, 0, offs));
	for (i = 0; i < 128; i++) {
		ASSERT_LT(offs[i], HPAGE);
		EXPECT_EQ(0, offs[i] % 64);
		EXPECT_EQ(-1, check_zero(self->map + offs[i], 64));
		fill(self->map + offs[i], 64, 1000 + i);
	}
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(128, st.objects);
	EXPECT_EQ(HPAGE, st.bytes_held);
	/* Full. */
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 64, 1, 0, &off));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 8, 1, 0, &off));
	ASSERT_EQ(0, ga_stats(self->fd, &st2));
	EXPECT_EQ(st.objects, st2.objects);
	EXPECT_EQ(st.nalloc, st2.nalloc);

	/* Free one: its slot comes back, with what was written to it. */
	ASSERT_EQ(0, ga_free(self->fd, 1, &offs[victim], NULL, &nfreed));
	ASSERT_EQ(1, nfreed);
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &off));
	EXPECT_EQ(offs[victim], off);
	EXPECT_EQ(-1, check(self->map + off, 64, 1000 + victim));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 64, 1, 0, &off));

	/* Again with GOALLOC_ALLOC_ZERO: the reused slot reads as zero. */
	ASSERT_EQ(0, ga_free(self->fd, 1, &offs[victim], NULL, &nfreed));
	ASSERT_EQ(1, nfreed);
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, GOALLOC_ALLOC_ZERO, &off));
	EXPECT_EQ(offs[victim], off);
	EXPECT_EQ(-1, check_zero(self->map + off, 64));
	/* Nothing else was touched. */
	for (i = 0; i < 128; i++)
		if ((int)i != victim) {
			EXPECT_EQ(-1, check(self->map + offs[i], 64, 1000 + i));
		}

	/* A batch reuses several freed slots at once. */
	{
		__u64 again[4], want[4] = { offs[3], offs[50], offs[51], offs[127] };
		__u64 freeing[4] = { offs[3], offs[50], offs[51], offs[127] };

		ASSERT_EQ(0, ga_free(self->fd, 4, freeing, NULL, &nfreed));
		ASSERT_EQ(4, nfreed);
		ASSERT_EQ(0, ga_alloc(self->fd, 64, 4, GOALLOC_ALLOC_ZERO, again));
		qsort(again, 4, sizeof(__u64), cmp_range);
		qsort(want, 4, sizeof(__u64), cmp_range);
		for (i = 0; i < 4; i++) {
			EXPECT_EQ(want[i], again[i]);
			EXPECT_EQ(-1, check_zero(self->map + again[i], 64));
		}
	}

	/*
	 * Emptied, the page can take another class with one-page spans
	 * (1024 bytes; from 1152 up spans are 8 objects or 32 KiB).
	 */
	ASSERT_EQ(0, ga_free(self->fd, 128, offs, NULL, &nfreed));
	EXPECT_EQ(128, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 8192, 1, 0, &off));
	ASSERT_EQ(0, ga_alloc(self->fd, 1024, 1, GOALLOC_ALLOC_ZERO, &off));
	EXPECT_EQ(0, off);
	EXPECT_EQ(-1, check_zero(self->map, 1024));
}

/* The cap is all or nothing, and freeing makes room again. */
TEST_F(arena, cap_enomem)
{
	__u64 offs[8], two[2], three[3], off, nfreed = 0;
	struct goalloc_stats st, st2;
	unsigned int i;

	ASSERT_EQ(0, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 128 * KiB, 8, 0, offs));
	for (i = 0; i < 8; i++) {
		ASSERT_LE(offs[i] + 128 * KiB, MiB);
		fill(self->map + offs[i], 128 * KiB, i + 1);
	}
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(MiB, st.bytes_held);

	/* Nothing fits: every failure leaves the arena as it was. */
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 1, 1, 0, &off));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 64 * KiB, 2, 0, two));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, MiB, 1, 0, &off));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 2 * MiB, 1, 0, &off));
	ASSERT_EQ(0, ga_stats(self->fd, &st2));
	EXPECT_EQ(st.objects, st2.objects);
	EXPECT_EQ(st.bytes_allocated, st2.bytes_allocated);
	EXPECT_EQ(st.bytes_held, st2.bytes_held);
	EXPECT_EQ(st.spans, st2.spans);
	EXPECT_EQ(st.nalloc, st2.nalloc);
	EXPECT_EQ(st.nfree, st2.nfree);

	/* Free 128 KiB: two 64 KiB objects fit, a third does not. */
	ASSERT_EQ(0, ga_free(self->fd, 1, &offs[5], NULL, &nfreed));
	ASSERT_EQ(1, nfreed);
	ASSERT_EQ(0, ga_alloc(self->fd, 64 * KiB, 2, 0, two));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 64 * KiB, 1, 0, &off));
	for (i = 0; i < 8; i++)
		if (i != 5) {
			EXPECT_EQ(-1, check(self->map + offs[i], 128 * KiB, i + 1));
		}

	/* Partly fitting batches are refused whole. */
	ASSERT_EQ(0, ga_free(self->fd, 2, two, NULL, &nfreed));
	ASSERT_EQ(2, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 64 * KiB, 3, 0, three));
	ASSERT_EQ(0, ga_stats(self->fd, &st2));
	EXPECT_EQ(st.objects, st2.objects);
	EXPECT_EQ(st.bytes_held, st2.bytes_held);
	EXPECT_EQ(st.nalloc, st2.nalloc);

	/* Empty again: one object the size of the cap fits. */
	offs[5] = offs[7];
	ASSERT_EQ(0, ga_free(self->fd, 7, offs, NULL, &nfreed));
	ASSERT_EQ(7, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.bytes_held);
	ASSERT_EQ(0, ga_alloc(self->fd, MiB, 1, 0, &off));
	EXPECT_EQ(0, off);
	fill(self->map, MiB, 99);
	EXPECT_EQ(-1, check(self->map, MiB, 99));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 8, 1, 0, two));
	ASSERT_EQ(0, ga_free_all(self->fd, &off, 1));
	ASSERT_EQ(0, ga_alloc(self->fd, 8, 1, 0, two));
}

TEST_F(arena, reset)
{
	__u64 offs[6], off2[6], nfreed = 1;
	struct goalloc_stats st, st0;
	__s32 res[6];
	unsigned int i;

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_stats(self->fd, &st0));
	ASSERT_EQ(0, ga_alloc(self->fd, 48, 3, 0, offs));
	ASSERT_EQ(0, ga_alloc(self->fd, 20000, 2, 0, offs + 3));
	ASSERT_EQ(0, ga_alloc(self->fd, 300 * KiB, 1, 0, offs + 5));
	for (i = 0; i < 6; i++)
		self->map[offs[i]] = 1;
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(st0.bytes_charged, st.bytes_charged);
	EXPECT_EQ(6, st.nalloc);
	EXPECT_EQ(0, st.nfree);
	EXPECT_EQ(1, st.nreset);
	EXPECT_EQ(self->defcap, st.max_size);

	/* The old objects are gone. */
	ASSERT_EQ(0, ga_free(self->fd, 6, offs, res, &nfreed));
	EXPECT_EQ(0, nfreed);
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(-ENOENT, res[i]);
	}
	/* The same mapping serves new objects. */
	ASSERT_EQ(0, ga_alloc(self->fd, 48, 3, 0, off2));
	ASSERT_EQ(0, ga_alloc(self->fd, 20000, 2, 0, off2 + 3));
	ASSERT_EQ(0, ga_alloc(self->fd, 300 * KiB, 1, 0, off2 + 5));
	for (i = 0; i < 3; i++)
		fill(self->map + off2[i], 48, i);
	for (i = 3; i < 5; i++)
		fill(self->map + off2[i], 20000, i);
	fill(self->map + off2[5], 300 * KiB, 5);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, check(self->map + off2[i], 48, i));
	}
	for (i = 3; i < 5; i++) {
		EXPECT_EQ(-1, check(self->map + off2[i], 20000, i));
	}
	EXPECT_EQ(-1, check(self->map + off2[5], 300 * KiB, 5));
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(3, st.nreset);
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_held);
}

TEST_F(arena, sigbus_after_reset)
{
	__u64 offs[2];

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, offs));
	ASSERT_EQ(0, ga_alloc(self->fd, 64 * KiB, 1, 0, offs + 1));
	fill(self->map + offs[0], 64, 1);
	fill(self->map + offs[1], 64 * KiB, 2);
	/* Mapped and readable in a child too, before the reset. */
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs[0], false));
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs[1] + 32 * KiB, true));
	ASSERT_EQ(0, ga_reset(self->fd));
	EXPECT_SIGBUS(touch_in_child(self->map + offs[0], false));
	EXPECT_SIGBUS(touch_in_child(self->map + offs[0], true));
	EXPECT_SIGBUS(touch_in_child(self->map + offs[1], false));
	EXPECT_SIGBUS(touch_in_child(self->map + offs[1] + 60 * KiB, true));
	/* New objects work through the same mapping. */
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, offs));
	fill(self->map + offs[0], 64, 3);
	EXPECT_EQ(-1, check(self->map + offs[0], 64, 3));
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs[0], true));
}

TEST_F(arena, sigbus_no_span)
{
	__u64 off, span, other, nfreed = 0;

	ASSERT_EQ(0, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	/* Nothing allocated: every page faults. */
	EXPECT_SIGBUS(touch_in_child(self->map, false));
	EXPECT_SIGBUS(touch_in_child(self->map + MiB - 1, true));
	EXPECT_SIGBUS(touch_in_child(self->map + MiB / 2, false));

	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &off));
	ASSERT_LT(off, MiB);
	span = off & ~(HPAGE - 1);
	other = (span + HPAGE) % MiB;
	self->map[off] = 7;
	EXPECT_EQ(7, self->map[off]);
	/* The whole heap page of the span is there, both of its 4 KiB halves. */
	EXPECT_NO_SIGNAL(touch_in_child(self->map + span, false));
	EXPECT_NO_SIGNAL(touch_in_child(self->map + span + HPAGE - 1, false));
	/* Another page holds no span. */
	EXPECT_SIGBUS(touch_in_child(self->map + other, false));
	EXPECT_SIGBUS(touch_in_child(self->map + other + 4096, true));

	/* Freed, the span leaves and its page with it, in every process. */
	ASSERT_EQ(0, ga_free(self->fd, 1, &off, NULL, &nfreed));
	ASSERT_EQ(1, nfreed);
	EXPECT_SIGBUS(touch_in_child(self->map + off, false));
	EXPECT_SIGBUS(touch_in_child(self->map + span, true));
}

/*
 * A child maps @p in (it faults it while the parent waits), then the parent
 * runs @action, then the child touches @p again.  Returns the child's wait
 * status, or -1.
 */
static int touch_around(volatile char *p, int (*action)(int, __u64), int fd, __u64 arg)
{
	struct rlimit rl = { 0, 0 };
	int up[2], down[2], status = 0, ret;
	char c = 'x';
	pid_t pid;

	if (pipe(up) || pipe(down))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &rl);
		(void)*p;
		if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(3);
		*p = 1;
		_exit(0);
	}
	if (pid < 0)
		return -1;
	ret = read(up[0], &c, 1) == 1 ? action(fd, arg) : -1;
	if (write(down[1], &c, 1) != 1)
		ret = -1;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	return ret ? -1 : status;
}

static int act_free(int fd, __u64 off)
{
	return ga_free_all(fd, &off, 1);
}

static int act_reset(int fd, __u64 unused)
{
	return ga_reset(fd);
}

/* Free and reset take the pages from every process's mapping. */
TEST_F(arena, other_process_loses_pages)
{
	__u64 small, large;

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &small));
	ASSERT_EQ(0, ga_alloc(self->fd, 64 * KiB, 1, 0, &large));
	fill(self->map + small, 64, 1);
	fill(self->map + large, 64 * KiB, 2);
	/* An object of its own span: freeing it empties the span. */
	EXPECT_SIGBUS(touch_around(self->map + large + 40 * KiB, act_free, self->fd, large));
	EXPECT_EQ(-1, check(self->map + small, 64, 1));
	EXPECT_SIGBUS(touch_around(self->map + small, act_reset, self->fd, 0));
	/* And the parent's own mapping lost them too. */
	EXPECT_SIGBUS(touch_in_child(self->map + small, false));
}

/* An object lives at base + offset - the mapping's file offset. */
TEST_F(arena, mmap_file_offset)
{
	const size_t big = 2 * MiB;
	__u64 off, small;
	char *m8, *m4, *ms, *last;
	size_t i;

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, big, 1, 0, &off));
	ASSERT_EQ(0, off % HPAGE);
	fill(self->map + off, big, 42);

	/* A window starting 8 KiB into the object. */
	m8 = ga_map(self->fd, MiB, off + HPAGE);
	ASSERT_NE(MAP_FAILED, m8);
	EXPECT_EQ(0, memcmp(m8, self->map + off + HPAGE, MiB));
	/* ... and 4 KiB into it: a page offset inside a heap page. */
	m4 = ga_map(self->fd, MiB, off + 4096);
	ASSERT_NE(MAP_FAILED, m4);
	EXPECT_EQ(0, memcmp(m4, self->map + off + 4096, MiB));

	/* Writes through a window are the object's bytes. */
	for (i = 0; i < MiB; i += 4096)
		m4[i] = (char)(i >> 12);
	for (i = 0; i < MiB; i += 4096) {
		EXPECT_EQ((char)(i >> 12), self->map[off + 4096 + i]);
		if (i >= 4096) {
			EXPECT_EQ((char)(i >> 12), m8[i - 4096]);
		}
	}

	/* A small object through a window at its page. */
	ASSERT_EQ(0, ga_alloc(self->fd, 200, 1, 0, &small));
	fill(self->map + small, 200, 7);
	ms = ga_map(self->fd, 4096, small & ~4095ULL);
	ASSERT_NE(MAP_FAILED, ms);
	EXPECT_EQ(-1, check(ms + (small & 4095), 200, 7));
	fill(ms + (small & 4095), 200, 8);
	EXPECT_EQ(-1, check(self->map + small, 200, 8));

	/* A window on the last page of the arena is valid (and has no span). */
	last = ga_map(self->fd, 4096, self->maplen - 4096);
	ASSERT_NE(MAP_FAILED, last);
	munmap(last, 4096);
	munmap(ms, 4096);
	munmap(m4, MiB);
	munmap(m8, MiB);
}

/* fork(): parent and child share the arena, both ways. */
TEST_F(arena, fork_shares)
{
	__u64 offs[2], child_off = 0;
	struct goalloc_stats st;
	int p[2], status;
	pid_t pid;

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 5000, 2, 0, offs));
	fill(self->map + offs[0], 5000, 11);
	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 o;

		close(p[0]);
		if (check(self->map + offs[0], 5000, 11) != -1)
			_exit(10);
		fill(self->map + offs[1], 5000, 12);
		if (ga_alloc(self->fd, 70000, 1, 0, &o))
			_exit(11);
		fill(self->map + o, 70000, 13);
		if (write(p[1], &o, sizeof(o)) != sizeof(o))
			_exit(12);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(child_off), read(p[0], &child_off, sizeof(child_off)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-1, check(self->map + offs[1], 5000, 12));
	EXPECT_EQ(-1, check(self->map + child_off, 70000, 13));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(3, st.objects);
	EXPECT_EQ(3, st.nalloc);
	/* The parent frees what the child allocated. */
	ASSERT_EQ(0, ga_free_all(self->fd, &child_off, 1));
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 2));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
}

static int send_fd(int sock, int fd, __u64 val)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &val, .iov_len = sizeof(val) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == sizeof(val) ? 0 : -1;
}

static int recv_fd(int sock, __u64 *val)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = val, .iov_len = sizeof(*val) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, 0) != sizeof(*val))
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* SCM_RIGHTS: a process that never had the arena maps it itself. */
TEST_F(arena, scm_rights)
{
	__u64 offs[2], child_off = 0;
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* The child is forked before the arena is set up and mapped. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct goalloc_stats st;
		__u64 o, obj1, mine;
		char *m;
		int fd;

		close(sv[0]);
		close(self->fd);
		fd = recv_fd(sv[1], &o);
		if (fd < 0)
			_exit(20);
		if (read(sv[1], &obj1, sizeof(obj1)) != sizeof(obj1))
			_exit(21);
		if (ga_stats(fd, &st) || st.max_size != 4 * MiB || st.objects != 2)
			_exit(22);
		m = ga_map(fd, st.max_size, 0);
		if (m == MAP_FAILED)
			_exit(23);
		if (check(m + o, 30000, 31) != -1)
			_exit(24);
		fill(m + obj1, 30000, 32);
		if (ga_alloc(fd, 999, 1, 0, &mine))
			_exit(25);
		fill(m + mine, 999, 33);
		if (write(sv[1], &mine, sizeof(mine)) != sizeof(mine))
			_exit(26);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, ga_setup(self->fd, 4 * MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 30000, 2, 0, offs));
	fill(self->map + offs[0], 30000, 31);
	ASSERT_EQ(0, send_fd(sv[0], self->fd, offs[0]));
	ASSERT_EQ(sizeof(offs[1]), write(sv[0], &offs[1], sizeof(offs[1])));
	ASSERT_EQ(sizeof(child_off), read(sv[0], &child_off, sizeof(child_off)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
	EXPECT_EQ(-1, check(self->map + offs[1], 30000, 32));
	ASSERT_LT(child_off, 4 * MiB);
	EXPECT_EQ(-1, check(self->map + child_off, 999, 33));
	ASSERT_EQ(0, ga_free_all(self->fd, &child_off, 1));
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 2));
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */

/*
 * 2000 iterations per thread, or as many as fit in THREADS_SECONDS: under
 * TCG emulation with KASAN an ioctl costs about a millisecond, and the whole
 * binary has 300 s.  Each thread must get through MIN_ITER at least.
 */
#define NTHREADS	8
#define NITER		2000
#define MIN_ITER	100
#define THREADS_SECONDS	40
#define KEEP		4

struct worker {
	pthread_t th;
	int fd;
	unsigned int id;
	unsigned int iters;
	double deadline;
	char *map;
	__u64 cap;
	__u64 nalloc;
	char err[160];
};

static const __u64 thread_sizes[] = {
	8, 24, 64, 100, 256, 1000, 4096, 5000, 8192, 20000, 40000, 100000,
};

/*
 * Sparse pattern: a word every 256 bytes and the last byte; cheap under
 * emulation.  The last byte is left out when the last word covers it.
 */
static bool tail_alone(__u64 size)
{
	return size < 8 || size - 1 >= (size - 8) / 256 * 256 + 8;
}

static void tag(char *p, __u64 size, __u64 seed)
{
	__u64 i, w;

	for (i = 0; i + 8 <= size; i += 256) {
		w = mix(seed, i);
		memcpy(p + i, &w, 8);
	}
	if (tail_alone(size))
		p[size - 1] = (char)seed;
}

static bool tagged(const char *p, __u64 size, __u64 seed)
{
	__u64 i, w;

	for (i = 0; i + 8 <= size; i += 256) {
		memcpy(&w, p + i, 8);
		if (w != mix(seed, i))
			return false;
	}
	return !tail_alone(size) || p[size - 1] == (char)seed;
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	__u64 keep[KEEP], ksize = 3000, offs[8], rng = w->id * 2654435761ULL + 1;
	__u64 nfreed;
	unsigned int it, j;
	int ret;

	ret = ga_alloc(w->fd, ksize, KEEP, 0, keep);
	if (ret) {
		snprintf(w->err, sizeof(w->err), "keep alloc: %d", ret);
		return NULL;
	}
	w->nalloc += KEEP;
	for (j = 0; j < KEEP; j++)
		tag(w->map + keep[j], ksize, ((__u64)w->id << 40) | j);

	for (it = 0; it < NITER; it++) {
		__u64 size, n;

		if (it >= MIN_ITER && it % 16 == 0 && now_s() > w->deadline)
			break;
		w->iters = it + 1;
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		size = thread_sizes[(rng >> 33) % ARRAY_SIZE(thread_sizes)];
		n = 1 + (rng >> 50) % 8;
		ret = ga_alloc(w->fd, size, n, it & 1 ? GOALLOC_ALLOC_ZERO : 0, offs);
		if (ret) {
			snprintf(w->err, sizeof(w->err), "iter %u: alloc %llu x %llu: %d",
				 it, (unsigned long long)n, (unsigned long long)size, ret);
			return NULL;
		}
		w->nalloc += n;
		for (j = 0; j < n; j++) {
			if (offs[j] % 8 || offs[j] + size > w->cap) {
				snprintf(w->err, sizeof(w->err), "iter %u: bad offset %#llx",
					 it, (unsigned long long)offs[j]);
				return NULL;
			}
			if (it & 1 && check_zero(w->map + offs[j], size < 4096 ? size : 4096) != -1) {
				snprintf(w->err, sizeof(w->err),
					 "iter %u: GOALLOC_ALLOC_ZERO object %#llx not zero",
					 it, (unsigned long long)offs[j]);
				return NULL;
			}
			tag(w->map + offs[j], size, ((__u64)w->id << 40) | ((__u64)it << 8) | j);
		}
		for (j = 0; j < n; j++)
			if (!tagged(w->map + offs[j], size,
				    ((__u64)w->id << 40) | ((__u64)it << 8) | j)) {
				snprintf(w->err, sizeof(w->err),
					 "iter %u: object %#llx size %llu overwritten",
					 it, (unsigned long long)offs[j],
					 (unsigned long long)size);
				return NULL;
			}
		nfreed = 0;
		ret = ga_free(w->fd, n, offs, NULL, &nfreed);
		if (ret || nfreed != n) {
			snprintf(w->err, sizeof(w->err), "iter %u: free: %d, %llu of %llu",
				 it, ret, (unsigned long long)nfreed, (unsigned long long)n);
			return NULL;
		}
		if (it % 128 == 0)
			for (j = 0; j < KEEP; j++)
				if (!tagged(w->map + keep[j], ksize, ((__u64)w->id << 40) | j)) {
					snprintf(w->err, sizeof(w->err),
						 "iter %u: long-lived object %#llx overwritten",
						 it, (unsigned long long)keep[j]);
					return NULL;
				}
	}
	for (j = 0; j < KEEP; j++)
		if (!tagged(w->map + keep[j], ksize, ((__u64)w->id << 40) | j)) {
			snprintf(w->err, sizeof(w->err), "long-lived object %#llx overwritten",
				 (unsigned long long)keep[j]);
			return NULL;
		}
	ret = ga_free_all(w->fd, keep, KEEP);
	if (ret)
		snprintf(w->err, sizeof(w->err), "free of long-lived objects: %d", ret);
	return NULL;
}

TEST_F_TIMEOUT(arena, threads, 150)
{
	struct worker w[NTHREADS];
	struct goalloc_stats st;
	__u64 total = 0;
	double t0 = now_s();
	unsigned int i, iters = 0;

	ASSERT_EQ(0, map_all(self));
	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].fd = self->fd;
		w[i].id = i;
		w[i].map = self->map;
		w[i].cap = self->maplen;
		w[i].deadline = t0 + THREADS_SECONDS;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, worker_fn, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].th, NULL);
		EXPECT_STREQ("", w[i].err) TH_LOG("thread %u", i);
		EXPECT_LE(MIN_ITER, w[i].iters) TH_LOG("thread %u", i);
		total += w[i].nalloc;
		iters += w[i].iters;
	}
	TH_LOG("%u threads, %u iterations in all: %.1f s", NTHREADS, iters, now_s() - t0);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(total, st.nalloc);
	EXPECT_EQ(total, st.nfree);
}

/* ------------------------------------------------------------------ */
/* Statistics: the per-class view                                     */

static int ga_stats_classes(int fd, struct goalloc_stats *st, __u32 entsize, __u32 n,
			    void *classes)
{
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	st->class_stat_size = entsize;
	st->nclasses = n;
	st->classes = (__u64)(uintptr_t)classes;
	return ioctl(fd, GOALLOC_IOC_STATS, st) ? -errno : 0;
}

TEST_F(arena, stats_classes)
{
	struct goalloc_class_stat cls[80], cls2[80];
	struct { __u32 size_class, obj_size; } small[80];
	struct { struct goalloc_class_stat s; __u64 more[3]; } big[80];
	struct goalloc_stats st;
	__u64 offs[10], nalloc64 = 0;
	unsigned int i, n;

	/* How many there are. */
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(cls[0]), 0, NULL));
	n = st.nclasses;
	ASSERT_EQ(68, n);

	memset(cls, 0xa5, sizeof(cls));
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(cls[0]), 80, cls));
	EXPECT_EQ(n, st.nclasses);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i, cls[i].size_class);
		EXPECT_LE(cls[i].objs_inuse * cls[i].obj_size, cls[i].bytes_held);
		EXPECT_LE(cls[i].nfree, cls[i].nalloc);
		if (i == 0) {
			EXPECT_EQ(0, cls[i].obj_size);
			EXPECT_EQ(1, cls[i].objs_per_span);
			continue;
		}
		EXPECT_GT(cls[i].obj_size, cls[i - 1].obj_size);
		EXPECT_EQ(0, cls[i].span_bytes % HPAGE);
		EXPECT_EQ(cls[i].span_bytes / cls[i].obj_size, cls[i].objs_per_span);
		/*
		 * Spans of the class's own shape, or of its big one (a busy
		 * class's, at most 16 heap pages: sizeclasses.rst rule 6).
		 */
		EXPECT_LE(cls[i].spans * cls[i].span_bytes, cls[i].bytes_held);
		EXPECT_LE(cls[i].bytes_held, cls[i].spans * 16 * HPAGE);
		EXPECT_EQ(0, cls[i].bytes_held % HPAGE);
		if (cls[i].obj_size == 64)
			nalloc64 = cls[i].nalloc;
	}
	EXPECT_EQ(8, cls[1].obj_size);
	EXPECT_EQ(32768, cls[67].obj_size);
	/* Entries past nclasses are untouched. */
	EXPECT_EQ(0xa5a5a5a5U, cls[n].size_class);

	/* Our allocations show in the goalloc-wide counters. */
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 10, 0, offs));
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(cls2[0]), 80, cls2));
	for (i = 1; i < n; i++) {
		if (cls2[i].obj_size != 64)
			continue;
		EXPECT_LE(nalloc64 + 10, cls2[i].nalloc);
		EXPECT_LE(10, cls2[i].objs_inuse);
	}
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 10));

	/* A shorter entry, as an older caller knows it: stride and size are its. */
	memset(small, 0xa5, sizeof(small));
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(small[0]), 80, small));
	EXPECT_EQ(n, st.nclasses);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i, small[i].size_class);
		EXPECT_EQ(cls[i].obj_size, small[i].obj_size);
	}
	EXPECT_EQ(0xa5a5a5a5U, small[n].size_class);

	/* Room for three: three written, all counted. */
	memset(cls2, 0xa5, sizeof(cls2));
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(cls2[0]), 3, cls2));
	EXPECT_EQ(n, st.nclasses);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i, cls2[i].size_class);
	}
	EXPECT_EQ(0xa5a5a5a5U, cls2[3].size_class);

	/* A longer entry: the kernel's part is written, stride is the caller's. */
	memset(big, 0xa5, sizeof(big));
	ASSERT_EQ(0, ga_stats_classes(self->fd, &st, sizeof(big[0]), 80, big));
	EXPECT_EQ(n, st.nclasses);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i, big[i].s.size_class);
		EXPECT_EQ(cls[i].obj_size, big[i].s.obj_size);
		EXPECT_EQ(cls[i].span_bytes, big[i].s.span_bytes);
	}
}

/* ------------------------------------------------------------------ */
/* The charge bound: bytes_charged - bytes_held is one idle 16 KiB block */

#define IDLE_MAX	(16 * KiB)

/* 0 if the arena's charge is within the bound; else logs and returns -1. */
static int charge_within(struct __test_metadata *_metadata, int fd, const char *when,
			 __u64 *held, __u64 *charged)
{
	struct goalloc_stats st;

	if (ga_stats(fd, &st))
		return -1;
	*held = st.bytes_held;
	*charged = st.bytes_charged;
	if (st.bytes_charged >= st.bytes_held && st.bytes_charged <= st.bytes_held + IDLE_MAX)
		return 0;
	TH_LOG("%s: held %llu, charged %llu: more than one idle 16 KiB block", when,
	       (unsigned long long)st.bytes_held, (unsigned long long)st.bytes_charged);
	return -1;
}

/*
 * A 16 KiB span emptied (its chunk kept idle), then a span of one heap page
 * wanted: it must not take half of the kept chunk and leave the other half
 * charged.  32 rounds of that held 256 KiB and charged 512 KiB.
 */
TEST_F(arena, charge_bound_fixed_pattern)
{
	__u64 held, charged, big, small[8 * 32];
	unsigned int r;
	char when[64];

	for (r = 0; r < 32; r++) {
		/* 2048 bytes: a span of two heap pages, alone in its chunk. */
		ASSERT_EQ(0, ga_alloc(self->fd, 2048, 1, 0, &big));
		ASSERT_EQ(0, ga_free_all(self->fd, &big, 1));
		/* Eight of 1024 bytes: a new span of one heap page. */
		ASSERT_EQ(0, ga_alloc(self->fd, 1024, 8, 0, &small[8 * r]));
		snprintf(when, sizeof(when), "round %u", r);
		ASSERT_EQ(0, charge_within(_metadata, self->fd, when, &held, &charged));
	}
	EXPECT_EQ(32 * HPAGE, held);
	TH_LOG("32 rounds: held %llu, charged %llu", (unsigned long long)held,
	       (unsigned long long)charged);
	/* Half of them freed: every other span emptied. */
	for (r = 0; r < 32; r += 2)
		ASSERT_EQ(0, ga_free_all(self->fd, &small[8 * r], 8));
	ASSERT_EQ(0, charge_within(_metadata, self->fd, "half freed", &held, &charged));
	EXPECT_EQ(16 * HPAGE, held);
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, charge_within(_metadata, self->fd, "reset", &held, &charged));
	EXPECT_EQ(0, held);
	EXPECT_EQ(0, charged);
}

/* Random sizes, batches and frees; the bound is checked after every call. */
TEST_F_TIMEOUT(arena, charge_bound_random, 120)
{
	static const __u64 sizes[] = {
		8, 64, 500, 1024, 1152, 2048, 2304, 3072, 4096, 6784, 8192, 9472,
		16384, 18432, 27264, 32768, 32769, 40000, 65536, 100000, 262144,
	};
	enum { LIVE = 512 };
	__u64 *live = calloc(LIVE, sizeof(*live)), held, charged, maxexcess = 0;
	unsigned int nlive = 0, op, fails = 0;
	__u64 seed = 10;
	char when[64];

	ASSERT_NE(NULL, live);
	for (op = 0; op < 3000 && !fails; op++) {
		__u64 r = mix(seed, op);

		if (nlive < 8 || (nlive < LIVE - 8 && r % 100 < 55)) {
			__u64 size = sizes[(r >> 8) % (sizeof(sizes) / sizeof(sizes[0]))];
			unsigned int n = 1 + (r >> 16) % 8;

			ASSERT_EQ(0, ga_alloc(self->fd, size, n, 0, &live[nlive]));
			nlive += n;
		} else {
			unsigned int i = (r >> 8) % nlive;

			ASSERT_EQ(0, ga_free_all(self->fd, &live[i], 1));
			live[i] = live[--nlive];
		}
		snprintf(when, sizeof(when), "op %u", op);
		if (charge_within(_metadata, self->fd, when, &held, &charged))
			fails++;
		if (charged - held > maxexcess)
			maxexcess = charged - held;
	}
	EXPECT_EQ(0, fails);
	TH_LOG("%u calls, %u live objects, %llu bytes held at the end; largest excess %llu",
	       op, nlive, (unsigned long long)held, (unsigned long long)maxexcess);
	if (nlive)
		ASSERT_EQ(0, ga_free_all(self->fd, live, nlive));
	ASSERT_EQ(0, charge_within(_metadata, self->fd, "all freed", &held, &charged));
	EXPECT_EQ(0, held);

	/*
	 * Whole spans of one and of two heap pages (8 objects of 1024 or of
	 * 2048 bytes), allocated and freed at random: spans come and go with
	 * every call, so every kept idle chunk meets the next span.
	 */
	maxexcess = 0;
	nlive = 0;
	for (op = 0; op < 2000 && !fails; op++) {
		__u64 r = mix(seed + 1, op);

		if (nlive < 8 || (nlive < LIVE - 8 && r % 100 < 50)) {
			ASSERT_EQ(0, ga_alloc(self->fd, (r >> 8) % 2 ? 2048 : 1024, 8, 0,
					      &live[nlive]));
			nlive += 8;
		} else {
			unsigned int i = 8 * ((r >> 8) % (nlive / 8));

			ASSERT_EQ(0, ga_free_all(self->fd, &live[i], 8));
			nlive -= 8;
			memmove(&live[i], &live[nlive], 8 * sizeof(*live));
		}
		snprintf(when, sizeof(when), "whole spans, op %u", op);
		if (charge_within(_metadata, self->fd, when, &held, &charged))
			fails++;
		if (charged - held > maxexcess)
			maxexcess = charged - held;
	}
	EXPECT_EQ(0, fails);
	TH_LOG("whole spans: %u calls, %llu bytes held at the end; largest excess %llu",
	       op, (unsigned long long)held, (unsigned long long)maxexcess);
	if (nlive)
		ASSERT_EQ(0, ga_free_all(self->fd, live, nlive));
	free(live);
}

/* ------------------------------------------------------------------ */
/* Memory cgroups                                                      */

FIXTURE(memcg) {
	char cg[2][128];
	bool made[2];
	bool enabled_memory;
	pid_t child;
};

static bool has_word(const char *path, const char *word)
{
	char buf[512] = "", *tok, *save = NULL;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

FIXTURE_SETUP(memcg)
{
	int i, fd;

	self->made[0] = self->made[1] = false;
	self->enabled_memory = false;
	self->child = 0;
	fd = ga_open();
	if (fd < 0 && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_LE(0, fd);
	close(fd);
	if (!has_word(CGROOT "/cgroup.controllers", "memory"))
		SKIP(return, "no cgroup2 memory controller at " CGROOT);
	if (!has_word(CGROOT "/cgroup.subtree_control", "memory")) {
		if (write_str_file(CGROOT "/cgroup.subtree_control", "+memory"))
			SKIP(return, "cannot enable the memory controller");
		self->enabled_memory = true;
	}
	for (i = 0; i < 2; i++) {
		snprintf(self->cg[i], sizeof(self->cg[i]), CGROOT "/goalloc-st-%d-%d",
			 getpid(), i);
		ASSERT_EQ(0, mkdir(self->cg[i], 0755)) TH_LOG("mkdir %s: %s", self->cg[i],
							      strerror(errno));
		self->made[i] = true;
	}
}

FIXTURE_TEARDOWN(memcg)
{
	int i, status;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
	}
	for (i = 0; i < 2; i++)
		if (self->made[i]) {
			double end = now_s() + 5;

			while (rmdir(self->cg[i]) && errno == EBUSY && now_s() < end)
				usleep(50000);
		}
	if (self->enabled_memory)
		write_str_file(CGROOT "/cgroup.subtree_control", "-memory");
}

static __u64 cg_read(const char *cg, const char *file)
{
	char path[256];
	__u64 v = ~0ULL;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	read_u64_file(path, &v);
	return v;
}

static __u64 cg_event(const char *cg, const char *key)
{
	char path[256], line[128], k[64];
	unsigned long long v, found = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.events", cg);
	f = fopen(path, "r");
	if (!f)
		return ~0ULL;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", k, &v) == 2 && !strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

/* Poll memory.current until it is at most @limit; returns the last value. */
static __u64 cg_settle(const char *cg, __u64 limit)
{
	double end = now_s() + 3;
	__u64 cur;

	for (;;) {
		cur = cg_read(cg, "memory.current");
		if (cur <= limit || now_s() > end)
			return cur;
		usleep(50000);
	}
}

static int join_cgroup(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return write_str_file(path, "0");
}

struct cg_report {
	int err;
	int stage;
	__u64 cur;
	struct goalloc_stats st;
};

/*
 * The per-CPU charge caches of memcg (up to 64 pages per CPU) and the
 * process's own kernel objects make memory.current move by more than the
 * arena alone: allow 2 MiB either way, against 16 MiB of arena memory.
 */
#define CG_SLACK	(2 * MiB)

TEST_F_TIMEOUT(memcg, charge, 60)
{
	struct cg_report r[4];
	__u64 base = 0, peak = 0, after_reset = 0, after_close = 0;
	int up[2], down[2], status, i;
	char go = 'g';

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	fflush(stdout);
	fflush(stderr);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		struct cg_report c = { 0 };
		__u64 offs[16];
		int fd;

		close(up[0]);
		close(down[1]);
#define REPORT(stage_) do { c.stage = (stage_); \
		if (write(up[1], &c, sizeof(c)) != sizeof(c) || \
		    read(down[0], &go, 1) != 1) _exit(1); } while (0)
		if (join_cgroup(self->cg[0])) {
			c.err = -errno;
			REPORT(-1);
		}
		fd = ga_open();
		if (fd < 0) {
			c.err = -errno;
			REPORT(-1);
		}
		REPORT(0);
		c.err = ga_alloc(fd, MiB, 16, 0, offs);
		ga_stats(fd, &c.st);
		REPORT(1);
		c.err = ga_reset(fd);
		ga_stats(fd, &c.st);
		REPORT(2);
		close(fd);
		REPORT(3);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(sizeof(r[i]), read(up[0], &r[i], sizeof(r[i])));
		ASSERT_EQ(i, r[i].stage) TH_LOG("child failed: %d", r[i].err);
		ASSERT_EQ(0, r[i].err) TH_LOG("stage %d", i);
		switch (i) {
		case 0:
			base = cg_read(self->cg[0], "memory.current");
			ASSERT_NE(~0ULL, base);
			break;
		case 1:
			peak = cg_read(self->cg[0], "memory.current");
			EXPECT_LE(16 * MiB, r[1].st.bytes_held);
			EXPECT_LE(r[1].st.bytes_held, r[1].st.bytes_charged);
			EXPECT_LE(base + 15 * MiB, peak)
				TH_LOG("memory.current %llu -> %llu, bytes_charged %llu",
				       (unsigned long long)base, (unsigned long long)peak,
				       (unsigned long long)r[1].st.bytes_charged);
			EXPECT_LE(base + r[1].st.bytes_charged, peak + CG_SLACK);
			break;
		case 2:
			/* What the reset gave back leaves the cgroup's count. */
			EXPECT_EQ(0, r[2].st.bytes_held);
			after_reset = cg_settle(self->cg[0], peak + CG_SLACK -
						(r[1].st.bytes_charged - r[2].st.bytes_charged));
			EXPECT_LE(after_reset, peak + CG_SLACK -
				  (r[1].st.bytes_charged - r[2].st.bytes_charged))
				TH_LOG("memory.current %llu after reset, %llu before; charged %llu -> %llu",
				       (unsigned long long)after_reset, (unsigned long long)peak,
				       (unsigned long long)r[1].st.bytes_charged,
				       (unsigned long long)r[2].st.bytes_charged);
			break;
		case 3:
			/* Closed: the cgroup is back where it was. */
			after_close = cg_settle(self->cg[0], base + CG_SLACK);
			EXPECT_LE(after_close, base + CG_SLACK)
				TH_LOG("memory.current %llu after close, %llu before the arena",
				       (unsigned long long)after_close, (unsigned long long)base);
			break;
		}
		if (i == 3) {
			/* The record the closing notes quote. */
			TH_LOG("memory.current: %llu before, %llu with %llu charged, %llu after reset, %llu after close",
			       (unsigned long long)base, (unsigned long long)peak,
			       (unsigned long long)r[1].st.bytes_charged,
			       (unsigned long long)after_reset, (unsigned long long)after_close);
		}
		ASSERT_EQ(1, write(down[1], &go, 1));
	}
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F_TIMEOUT(memcg, limit, 60)
{
	struct { int err_batch, held_after_batch, n_single, err_single, err_again; } r;
	char path[256];
	int p[2], status;

	snprintf(path, sizeof(path), "%s/memory.max", self->cg[1]);
	ASSERT_EQ(0, write_str_file(path, "8388608"));
	ASSERT_EQ(8 * MiB, cg_read(self->cg[1], "memory.max"));
	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		struct goalloc_stats st;
		__u64 offs[40];
		int fd;

		close(p[0]);
		memset(&r, 0, sizeof(r));
		if (join_cgroup(self->cg[1]))
			_exit(2);
		fd = ga_open();
		if (fd < 0)
			_exit(3);
		/* 32 MiB at once: refused whole. */
		r.err_batch = ga_alloc(fd, MiB, 32, 0, offs);
		ga_stats(fd, &st);
		r.held_after_batch = (int)(st.bytes_held / KiB) + (int)st.objects;
		/* One MiB at a time until the limit. */
		for (r.n_single = 0; r.n_single < 40; r.n_single++) {
			r.err_single = ga_alloc(fd, MiB, 1, 0, &offs[r.n_single]);
			if (r.err_single)
				break;
		}
		/* Room again after a reset. */
		ga_reset(fd);
		r.err_again = ga_alloc(fd, MiB, 1, 0, offs);
		close(fd);
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_FALSE(WIFSIGNALED(status)) TH_LOG("child killed by signal %d", WTERMSIG(status));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(r), read(p[0], &r, sizeof(r)));
	close(p[0]);
	EXPECT_EQ(-ENOMEM, r.err_batch);
	EXPECT_EQ(0, r.held_after_batch);
	EXPECT_EQ(-ENOMEM, r.err_single);
	EXPECT_LE(1, r.n_single);
	EXPECT_GT(8, r.n_single);
	EXPECT_EQ(0, r.err_again);
	EXPECT_EQ(0, cg_event(self->cg[1], "oom_kill"));
	EXPECT_LE(1, cg_event(self->cg[1], "max"));
}

/*
 * The charge follows the opener: an arena opened in one cgroup and used by
 * a process of another charges the first, whoever allocates.
 */
TEST_F_TIMEOUT(memcg, charged_to_opener, 60)
{
	__u64 base, cur, offs[16];
	struct goalloc_stats st;
	int sv[2], status, afd;
	char c = 'g';

	/* A: a child in cg[0] opens the arena and hands it to us (root cgroup). */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fflush(stdout);
	fflush(stderr);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		__u64 dummy = 0;
		int fd;

		close(sv[0]);
		if (join_cgroup(self->cg[0]))
			_exit(2);
		fd = ga_open();
		if (fd < 0 || send_fd(sv[1], fd, dummy))
			_exit(3);
		if (read(sv[1], &c, 1) != 1)
			_exit(4);
		close(fd);
		if (write(sv[1], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	{
		__u64 dummy;

		afd = recv_fd(sv[0], &dummy);
	}
	ASSERT_LE(0, afd);
	base = cg_read(self->cg[0], "memory.current");
	ASSERT_EQ(0, ga_alloc(afd, MiB, 16, 0, offs));
	ASSERT_EQ(0, ga_stats(afd, &st));
	EXPECT_LE(16 * MiB, st.bytes_charged);
	cur = cg_read(self->cg[0], "memory.current");
	EXPECT_LE(base + 15 * MiB, cur)
		TH_LOG("opener's cgroup: memory.current %llu -> %llu",
		       (unsigned long long)base, (unsigned long long)cur);
	/* Both files closed: the charge leaves the opener's cgroup. */
	close(afd);
	ASSERT_EQ(1, write(sv[0], &c, 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	cur = cg_settle(self->cg[0], base + CG_SLACK);
	EXPECT_LE(cur, base + CG_SLACK);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);

	/* B: we open it; a child in cg[1] allocates on it: cg[1] is not charged. */
	afd = ga_open();
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fflush(stdout);
	fflush(stderr);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(sv[0]);
		if (join_cgroup(self->cg[1]))
			_exit(2);
		if (write(sv[1], &c, 1) != 1 || read(sv[1], &c, 1) != 1)
			_exit(3);
		if (ga_alloc(afd, MiB, 16, 0, offs))
			_exit(4);
		if (write(sv[1], &c, 1) != 1 || read(sv[1], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	base = cg_read(self->cg[1], "memory.current");
	ASSERT_EQ(1, write(sv[0], &c, 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	cur = cg_read(self->cg[1], "memory.current");
	EXPECT_GE(base + CG_SLACK, cur)
		TH_LOG("user's cgroup: memory.current %llu -> %llu",
		       (unsigned long long)base, (unsigned long long)cur);
	ASSERT_EQ(0, ga_stats(afd, &st));
	EXPECT_EQ(16, st.objects);
	EXPECT_LE(16 * MiB, st.bytes_charged);
	ASSERT_EQ(1, write(sv[0], &c, 1));
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	close(afd);
}

TEST_HARNESS_MAIN
