/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What goalloc's /dev/goalloc selftests share: the ioctl wrappers (each
 * returns 0 or -errno), per-object patterns, and a child that touches one
 * address so that a test can expect SIGBUS.  Included after
 * kselftest_harness.h by goalloc_dev_test.c and goalloc_hostile_test.c.
 */
#ifndef _GOALLOC_SELFTEST_H
#define _GOALLOC_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/goalloc.h>

#define DEV		"/dev/goalloc"
#define MODULE_DIR	"/sys/module/goalloc"
#define PARAM_MAX	MODULE_DIR "/parameters/user_max_bytes"
#define HPAGE		8192ULL
#define KiB		1024ULL
#define MiB		(1024ULL * 1024)

static int ga_open(void)
{
	return open(DEV, O_RDWR);
}

static int ga_setup(int fd, __u64 max, __u64 *out)
{
	struct goalloc_setup s = { .argsz = sizeof(s), .max_size = max };

	if (ioctl(fd, GOALLOC_IOC_SETUP, &s))
		return -errno;
	if (out)
		*out = s.max_size;
	return 0;
}

static int ga_alloc(int fd, __u64 size, __u64 count, __u32 flags, __u64 *offs)
{
	struct goalloc_alloc a = {
		.argsz = sizeof(a), .flags = flags, .size = size, .count = count,
		.offsets = (__u64)(uintptr_t)offs,
	};

	return ioctl(fd, GOALLOC_IOC_ALLOC, &a) ? -errno : 0;
}

static int ga_free(int fd, __u64 count, const __u64 *offs, __s32 *res, __u64 *nfreed)
{
	struct goalloc_free f = {
		.argsz = sizeof(f), .count = count,
		.offsets = (__u64)(uintptr_t)offs, .results = (__u64)(uintptr_t)res,
	};

	if (ioctl(fd, GOALLOC_IOC_FREE, &f))
		return -errno;
	if (nfreed)
		*nfreed = f.nfreed;
	return 0;
}

static int ga_reset(int fd)
{
	struct goalloc_reset r = { .argsz = sizeof(r) };

	return ioctl(fd, GOALLOC_IOC_RESET, &r) ? -errno : 0;
}

static int ga_stats(int fd, struct goalloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	return ioctl(fd, GOALLOC_IOC_STATS, st) ? -errno : 0;
}

/* Free @n objects, 0 when all of them were freed. */
static int ga_free_all(int fd, const __u64 *offs, __u64 n)
{
	__u64 nfreed = ~0ULL;
	int ret = ga_free(fd, n, offs, NULL, &nfreed);

	if (ret)
		return ret;
	return nfreed == n ? 0 : -EIO;
}

static bool module_loaded(void)
{
	struct stat st;

	return stat(MODULE_DIR, &st) == 0;
}

static void *ga_map(int fd, size_t len, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

/* Map the whole arena (its current cap): 0, or -errno with *map NULL. */
static int ga_map_all(int fd, char **map, size_t *maplen)
{
	struct goalloc_stats st;
	int ret = ga_stats(fd, &st);

	if (ret)
		return ret;
	*maplen = st.max_size;
	*map = ga_map(fd, *maplen, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline __u64 mix(__u64 seed, __u64 i)
{
	__u64 x = seed * 0x9E3779B97F4A7C15ULL + i + 1;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 29;
	return x;
}

static void fill(void *p, size_t n, __u64 seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i += 8) {
		__u64 w = mix(seed, i >> 3);

		memcpy(c + i, &w, n - i < 8 ? n - i : 8);
	}
}

/* Index of the first byte that differs from the pattern, or -1. */
static long check(const void *p, size_t n, __u64 seed)
{
	const unsigned char *c = p;
	size_t i, k;

	for (i = 0; i < n; i += 8) {
		__u64 w = mix(seed, i >> 3);
		size_t len = n - i < 8 ? n - i : 8;

		if (memcmp(c + i, &w, len))
			for (k = 0; k < len; k++)
				if (c[i + k] != ((unsigned char *)&w)[k])
					return i + k;
	}
	return -1;
}

/*
 * Touch @p in a child; returns its wait status.  No core dump: the child
 * maps a whole arena and would dump it into the guest's RAM.
 */
static int touch_in_child(volatile char *p, bool write)
{
	struct rlimit rl = { 0, 0 };
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &rl);
		if (write)
			*p = 0x5a;
		else
			(void)*p;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

#define EXPECT_SIGBUS(_status) do { \
	int __s = (_status); \
	EXPECT_TRUE(WIFSIGNALED(__s)) \
		TH_LOG("child status %#x: no signal", __s); \
	if (WIFSIGNALED(__s)) { \
		EXPECT_EQ(SIGBUS, WTERMSIG(__s)); \
	} \
} while (0)

#define EXPECT_NO_SIGNAL(_status) do { \
	int __s = (_status); \
	EXPECT_TRUE(WIFEXITED(__s) && WEXITSTATUS(__s) == 0) \
		TH_LOG("child status %#x", __s); \
} while (0)

#endif /* _GOALLOC_SELFTEST_H */
