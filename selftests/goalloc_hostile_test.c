// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_hostile_test: /dev/goalloc against bad and malicious callers.
 *
 * Every case asserts the exact errno uapi/linux/goalloc.h promises, that a
 * refused call changed nothing, and that the arena still works afterwards:
 * unknown ioctls, short and long argument structures, bad flags, bad
 * pointers (NULL, unmapped, read-only, kernel, half-mapped, inside the
 * arena's own mapping), limits and overflows of counts and sizes, bad
 * offsets to free, bad mappings, and races: resets against allocations,
 * faults and mmap, a process killed inside big ioctls, a file closed or a
 * mapping split while in use.
 *
 * Children forked by a test report through their exit status, never through
 * the harness's ASSERT_*(); threads record their first error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/goalloc.h>

#include "kselftest_harness.h"
#include "goalloc_selftest.h"

#define PAGE		4096UL
/* Addresses no user pointer may reach. */
#define KERNEL_PTR	0xffffffff81000000ULL
#define NONCANON_PTR	0x8000000000000000ULL

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int raw(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int raw_ul(int fd, unsigned long cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int ga_alloc_at(int fd, __u64 size, __u64 count, __u64 offs_addr)
{
	struct goalloc_alloc a = {
		.argsz = sizeof(a), .size = size, .count = count, .offsets = offs_addr,
	};

	return ioctl(fd, GOALLOC_IOC_ALLOC, &a) ? -errno : 0;
}

static int ga_free_at(int fd, __u64 count, __u64 offs_addr, __u64 res_addr)
{
	struct goalloc_free f = {
		.argsz = sizeof(f), .count = count, .offsets = offs_addr, .results = res_addr,
	};

	return ioctl(fd, GOALLOC_IOC_FREE, &f) ? -errno : 0;
}

/* The arena still works: a small allocation and its free succeed. */
static int works(int fd)
{
	__u64 off = ~0ULL;
	int ret = ga_alloc(fd, 64, 1, 0, &off);

	if (ret)
		return ret;
	return ga_free_all(fd, &off, 1);
}

static __u64 default_cap(void)
{
	char buf[64] = "";
	int fd = open(PARAM_MAX, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 256 * MiB;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtoull(buf, NULL, 0) : 256 * MiB;
}

/*
 * Two pages: the first read-write, the second PROT_NONE.  Returns the
 * address @before bytes before the boundary.
 */
static char *guard_area(char **base, size_t before)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, 2 * PAGE);
	if (mprotect(p + PAGE, PAGE, PROT_NONE)) {
		munmap(p, 2 * PAGE);
		return NULL;
	}
	*base = p;
	return p + PAGE - before;
}

/* A page of nothing (PROT_NONE) and a read-only page of zeroes. */
static void *none_page(void)
{
	return mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void *ro_page(void)
{
	return mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* ------------------------------------------------------------------ */
/* The fixture: a fresh arena with two live 64-byte objects            */

FIXTURE(arena) {
	int fd;
	int empty;		/* a second arena, never used: SETUP cases */
	__u64 defcap;
	__u64 live[2];
	struct goalloc_stats st0;	/* after the two objects */
	char *map;
	size_t maplen;
};

FIXTURE_SETUP(arena)
{
	self->map = NULL;
	self->maplen = 0;
	self->empty = -1;
	self->defcap = default_cap();
	self->fd = ga_open();
	if (self->fd < 0 && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV, strerror(errno));
	self->empty = ga_open();
	ASSERT_LE(0, self->empty);
}

FIXTURE_TEARDOWN(arena)
{
	if (self->map)
		munmap(self->map, self->maplen);
	if (self->fd >= 0)
		close(self->fd);
	if (self->empty >= 0)
		close(self->empty);
}

/*
 * SETUP on a populated arena fails with EBUSY, so the argument checks of
 * SETUP are made on the empty arena, where nothing else can fail.
 */
static int fd_for(FIXTURE_DATA(arena) *self, unsigned long cmd)
{
	return cmd == GOALLOC_IOC_SETUP ? self->empty : self->fd;
}

/* The empty arena is still empty and its cap untouched. */
#define EXPECT_EMPTY_UNTOUCHED() do { \
	struct goalloc_stats __st; \
	ASSERT_EQ(0, ga_stats(self->empty, &__st)); \
	EXPECT_EQ(self->defcap, __st.max_size); \
	EXPECT_EQ(0, __st.objects); \
	EXPECT_EQ(0, __st.nalloc); \
} while (0)

/* Two live objects and a snapshot of the stats, to see that nothing moves. */
static int populate(FIXTURE_DATA(arena) *self)
{
	int ret = ga_alloc(self->fd, 64, 2, 0, self->live);

	return ret ? ret : ga_stats(self->fd, &self->st0);
}

static int map_all(FIXTURE_DATA(arena) *self)
{
	return ga_map_all(self->fd, &self->map, &self->maplen);
}

/* Nothing was allocated, freed or reset since populate(). */
#define EXPECT_UNCHANGED() do { \
	struct goalloc_stats __st; \
	ASSERT_EQ(0, ga_stats(self->fd, &__st)); \
	EXPECT_EQ(self->st0.objects, __st.objects); \
	EXPECT_EQ(self->st0.bytes_allocated, __st.bytes_allocated); \
	EXPECT_EQ(self->st0.bytes_held, __st.bytes_held); \
	EXPECT_EQ(self->st0.spans, __st.spans); \
	EXPECT_EQ(self->st0.nalloc, __st.nalloc); \
	EXPECT_EQ(self->st0.nfree, __st.nfree); \
	EXPECT_EQ(self->st0.nreset, __st.nreset); \
	EXPECT_EQ(self->st0.max_size, __st.max_size); \
} while (0)

#define ASSERT_WORKS() do { \
	ASSERT_EQ(0, works(self->fd)); \
	EXPECT_UNCHANGED_BUT_COUNTERS(); \
} while (0)

/* After works(): one more allocated and freed, nothing else. */
#define EXPECT_UNCHANGED_BUT_COUNTERS() do { \
	struct goalloc_stats __st; \
	ASSERT_EQ(0, ga_stats(self->fd, &__st)); \
	EXPECT_EQ(self->st0.objects, __st.objects); \
	EXPECT_EQ(self->st0.bytes_allocated, __st.bytes_allocated); \
	EXPECT_EQ(self->st0.nreset, __st.nreset); \
	self->st0 = __st; \
} while (0)

/* The five ioctls and their structure sizes. */
/*
 * The five ioctls: their structure sizes (today's, and the first
 * version's, below which EINVAL), and the flags each takes.
 */
static const struct {
	unsigned long cmd;
	size_t size;
	size_t size0;
	__u32 flags;
	const char *name;
} cmds[] = {
	{ GOALLOC_IOC_SETUP, sizeof(struct goalloc_setup), sizeof(struct goalloc_setup), 0,
	  "SETUP" },
	{ GOALLOC_IOC_ALLOC, sizeof(struct goalloc_alloc), GOALLOC_ALLOC_SIZE_VER0,
	  GOALLOC_ALLOC_ZERO, "ALLOC" },
	{ GOALLOC_IOC_FREE, sizeof(struct goalloc_free), GOALLOC_FREE_SIZE_VER0,
	  GOALLOC_FREE_GEN | GOALLOC_FREE_KEEP, "FREE" },
	{ GOALLOC_IOC_RESET, sizeof(struct goalloc_reset), sizeof(struct goalloc_reset), 0,
	  "RESET" },
	{ GOALLOC_IOC_STATS, sizeof(struct goalloc_stats), sizeof(struct goalloc_stats), 0,
	  "STATS" },
};

/*
 * A valid argument for each ioctl, in a buffer with room for a tail: SETUP
 * asks for 1 MiB (sent to the empty arena, see fd_for()), ALLOC for one
 * 64-byte object, FREE frees self->live[1].  Each case then spoils one thing.
 */
union argbuf {
	struct goalloc_setup setup;
	struct goalloc_alloc alloc;
	struct goalloc_free free;
	struct goalloc_reset reset;
	struct goalloc_stats stats;
	unsigned char bytes[sizeof(struct goalloc_stats) + 128];
};

static __u64 scratch_offs[4];

static void valid_arg(union argbuf *b, unsigned int i, const __u64 *live)
{
	memset(b, 0, sizeof(*b));
	switch (i) {
	case 0:
		b->setup.max_size = MiB;
		break;
	case 1:
		b->alloc.size = 64;
		b->alloc.count = 1;
		b->alloc.offsets = (__u64)(uintptr_t)scratch_offs;
		break;
	case 2:
		b->free.count = 1;
		b->free.offsets = (__u64)(uintptr_t)&live[1];
		break;
	}
	b->setup.argsz = cmds[i].size;	/* argsz is first in all of them */
}

/* ------------------------------------------------------------------ */

TEST_F(arena, unknown_ioctls)
{
	const unsigned long bad[] = {
		_IO(GOALLOC_IOC_MAGIC, 0x00), _IO(GOALLOC_IOC_MAGIC, 0x06),
		_IO(GOALLOC_IOC_MAGIC, 0x07), _IO(GOALLOC_IOC_MAGIC, 0x7f),
		_IO(GOALLOC_IOC_MAGIC, 0x80), _IO(GOALLOC_IOC_MAGIC, 0xff),
		_IO(GOALLOC_IOC_MAGIC - 1, 0x02), _IO(GOALLOC_IOC_MAGIC + 1, 0x02),
		_IO(0x01, 0x02), _IO('x', 0x05),
		/*
		 * Not type 0: the VFS answers some of those itself (FIBMAP,
		 * FIGETBSZ).  Our numbers with a direction or a size encoded:
		 */
		_IOW(GOALLOC_IOC_MAGIC, 0x01, struct goalloc_setup),
		_IOWR(GOALLOC_IOC_MAGIC, 0x01, struct goalloc_setup),
		_IOW(GOALLOC_IOC_MAGIC, 0x02, struct goalloc_alloc),
		_IOWR(GOALLOC_IOC_MAGIC, 0x02, struct goalloc_alloc),
		_IOR(GOALLOC_IOC_MAGIC, 0x03, struct goalloc_free),
		_IOW(GOALLOC_IOC_MAGIC, 0x04, struct goalloc_reset),
		_IOWR(GOALLOC_IOC_MAGIC, 0x05, struct goalloc_stats),
		_IOC(_IOC_NONE, GOALLOC_IOC_MAGIC, 0x02, 32),
		_IOC(_IOC_NONE, GOALLOC_IOC_MAGIC, 0x04, 1),
		TCGETS,
	};
	union argbuf b;
	unsigned int i;

	ASSERT_EQ(0, populate(self));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		/* A well-formed ALLOC argument: only the number is wrong. */
		valid_arg(&b, 1, self->live);
		EXPECT_EQ(-ENOTTY, raw(self->fd, bad[i], &b)) TH_LOG("cmd %#lx", bad[i]);
		EXPECT_EQ(-ENOTTY, raw_ul(self->fd, bad[i], 0)) TH_LOG("cmd %#lx", bad[i]);
	}
	EXPECT_FALSE(isatty(self->fd));
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

TEST_F(arena, argsz_too_small)
{
	union argbuf b;
	unsigned int i, k;

	ASSERT_EQ(0, populate(self));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const __u32 sz[] = {
			0, 1, 4, 7, cmds[i].size0 - 8, cmds[i].size0 - 4, cmds[i].size0 - 1,
		};

		for (k = 0; k < ARRAY_SIZE(sz); k++) {
			valid_arg(&b, i, self->live);
			b.setup.argsz = sz[k];
			EXPECT_EQ(-EINVAL, raw(fd_for(self, cmds[i].cmd), cmds[i].cmd, &b))
				TH_LOG("%s argsz %u", cmds[i].name, sz[k]);
		}
	}
	EXPECT_EMPTY_UNTOUCHED();
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

TEST_F(arena, argsz_longer_zero_tail)
{
	const __u32 extra[] = { 1, 4, 8, 64, 128 };
	union argbuf b;
	unsigned int k, j;

	for (k = 0; k < ARRAY_SIZE(extra); k++) {
		/* SETUP on an empty arena: accepted, cap set. */
		valid_arg(&b, 0, self->live);
		b.setup.argsz = sizeof(b.setup) + extra[k];
		b.setup.max_size = MiB + k * HPAGE;
		ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_SETUP, &b)) TH_LOG("extra %u", extra[k]);
		EXPECT_EQ(MiB + k * HPAGE, b.setup.max_size);
		for (j = sizeof(b.setup); j < sizeof(b.setup) + extra[k]; j++)
			if (b.bytes[j])
				break;
		EXPECT_EQ(sizeof(b.setup) + extra[k], j);
	}
	for (k = 0; k < ARRAY_SIZE(extra); k++) {
		struct goalloc_stats st;

		valid_arg(&b, 1, self->live);
		b.alloc.argsz = sizeof(b.alloc) + extra[k];
		b.alloc.count = 2;
		b.alloc.offsets = (__u64)(uintptr_t)self->live;
		self->live[0] = self->live[1] = ~0ULL;
		ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_ALLOC, &b)) TH_LOG("extra %u", extra[k]);
		EXPECT_GT(MiB + 4 * HPAGE, self->live[0]);
		EXPECT_GT(MiB + 4 * HPAGE, self->live[1]);

		valid_arg(&b, 4, self->live);
		b.stats.argsz = sizeof(b.stats) + extra[k];
		ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, &b)) TH_LOG("extra %u", extra[k]);
		EXPECT_EQ(2, b.stats.objects);
		EXPECT_EQ(MiB + 4 * HPAGE, b.stats.max_size);
		for (j = sizeof(b.stats); j < sizeof(b.stats) + extra[k]; j++)
			if (b.bytes[j])
				break;
		EXPECT_EQ(sizeof(b.stats) + extra[k], j);

		valid_arg(&b, 2, self->live);
		b.free.argsz = sizeof(b.free) + extra[k];
		b.free.count = 2;
		b.free.offsets = (__u64)(uintptr_t)self->live;
		ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_FREE, &b)) TH_LOG("extra %u", extra[k]);
		EXPECT_EQ(2, b.free.nfreed);

		ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, self->live));
		valid_arg(&b, 3, self->live);
		b.reset.argsz = sizeof(b.reset) + extra[k];
		ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_RESET, &b)) TH_LOG("extra %u", extra[k]);
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		EXPECT_EQ(0, st.objects);
		EXPECT_EQ(k + 1, st.nreset);
	}
	ASSERT_EQ(0, works(self->fd));
}

/* The longest structure accepted here: a page, zero past what is known. */
TEST_F(arena, argsz_page_zero_tail)
{
	unsigned char *buf = calloc(1, PAGE);
	struct goalloc_alloc *a = (void *)buf;
	struct goalloc_stats *st = (void *)buf;
	__u64 off = ~0ULL;

	ASSERT_NE(NULL, buf);
	a->argsz = PAGE;
	a->size = 100;
	a->count = 1;
	a->offsets = (__u64)(uintptr_t)&off;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_ALLOC, buf));
	EXPECT_GT(self->defcap, off);
	memset(buf, 0, PAGE);
	st->argsz = PAGE;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, buf));
	EXPECT_EQ(1, st->objects);
	/* ... and the same page with one byte set at its end. */
	memset(buf, 0, PAGE);
	st->argsz = PAGE;
	buf[PAGE - 1] = 1;
	EXPECT_EQ(-E2BIG, raw(self->fd, GOALLOC_IOC_STATS, buf));
	free(buf);
	ASSERT_EQ(0, ga_free_all(self->fd, &off, 1));
}

/* Mode 0600: only root opens it; a file handed down keeps working. */
TEST_F(arena, unprivileged_open)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 off;
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(DEV, O_RDWR);
		if (fd >= 0)
			_exit(3);
		if (errno != EACCES)
			_exit(4);
		/* The inherited file of the fixture's arena. */
		if (ga_alloc(self->fd, 64, 1, 0, &off) || ga_free_all(self->fd, &off, 1))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("2: setuid, 3: opened, 4: other errno, "
						 "5: inherited file refused");
}

TEST_F(arena, argsz_longer_nonzero_tail)
{
	union argbuf b;
	unsigned int i, k;

	ASSERT_EQ(0, populate(self));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		/* Non-zero at the first, a middle and the last byte of the tail. */
		const unsigned int at[] = { 0, 13, 63 };

		for (k = 0; k < ARRAY_SIZE(at); k++) {
			valid_arg(&b, i, self->live);
			b.setup.argsz = cmds[i].size + 64;
			b.bytes[cmds[i].size + at[k]] = 0x01 << (k * 3);
			EXPECT_EQ(-E2BIG, raw(fd_for(self, cmds[i].cmd), cmds[i].cmd, &b))
				TH_LOG("%s tail byte %u", cmds[i].name, at[k]);
		}
	}
	EXPECT_EMPTY_UNTOUCHED();
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

TEST_F(arena, garbage_flags)
{
	union argbuf b;
	unsigned int i, bit;

	ASSERT_EQ(0, populate(self));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const __u32 flags[] = { ~0U, cmds[i].flags | (1U << 7), cmds[i].flags | (1U << 31) };

		/* Every bit an ioctl does not take, alone, and with all it takes. */
		for (bit = 0; bit < 32; bit++) {
			if (cmds[i].flags & (1U << bit))
				continue;
			valid_arg(&b, i, self->live);
			b.setup.flags = 1U << bit;
			EXPECT_EQ(-EINVAL, raw(fd_for(self, cmds[i].cmd), cmds[i].cmd, &b))
				TH_LOG("%s flags %#x", cmds[i].name, 1U << bit);
		}
		for (bit = 0; bit < ARRAY_SIZE(flags); bit++) {
			valid_arg(&b, i, self->live);
			b.setup.flags = flags[bit];
			EXPECT_EQ(-EINVAL, raw(fd_for(self, cmds[i].cmd), cmds[i].cmd, &b))
				TH_LOG("%s flags %#x", cmds[i].name, flags[bit]);
		}
	}
	EXPECT_EMPTY_UNTOUCHED();
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

TEST_F(arena, bad_struct_pointer)
{
	char *none = none_page(), *ro = ro_page(), *gbase = NULL;
	unsigned int i;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, populate(self));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		union argbuf b;
		char *straddle = guard_area(&gbase, 4);

		int fd = fd_for(self, cmds[i].cmd);

		ASSERT_NE(NULL, straddle);
		EXPECT_EQ(-EFAULT, raw_ul(fd, cmds[i].cmd, 0)) TH_LOG("%s NULL", cmds[i].name);
		EXPECT_EQ(-EFAULT, raw(fd, cmds[i].cmd, none)) TH_LOG("%s unmapped", cmds[i].name);
		EXPECT_EQ(-EFAULT, raw_ul(fd, cmds[i].cmd, KERNEL_PTR))
			TH_LOG("%s kernel pointer", cmds[i].name);
		EXPECT_EQ(-EFAULT, raw_ul(fd, cmds[i].cmd, NONCANON_PTR))
			TH_LOG("%s non-canonical pointer", cmds[i].name);
		/* @argsz readable, the rest of the structure not. */
		valid_arg(&b, i, self->live);
		memcpy(straddle, &b, 4);
		EXPECT_EQ(-EFAULT, raw(fd, cmds[i].cmd, straddle))
			TH_LOG("%s half mapped", cmds[i].name);
		munmap(gbase, 2 * PAGE);
	}
	/* Read-only: the ioctls that write their structure back. */
	{
		struct goalloc_free f = {
			.argsz = sizeof(f), .count = 1,
			.offsets = (__u64)(uintptr_t)&self->live[1],
		};
		struct goalloc_stats s = { .argsz = sizeof(s) };

		munmap(ro, PAGE);
		ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, ro);
		memcpy(ro, &f, sizeof(f));
		memcpy(ro + 512, &s, sizeof(s));
		ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
		/* FREE cannot report nfreed: refused, nothing freed. */
		EXPECT_EQ(-EFAULT, raw(self->fd, GOALLOC_IOC_FREE, ro));
		EXPECT_EQ(-EFAULT, raw(self->fd, GOALLOC_IOC_STATS, ro + 512));
	}
	EXPECT_EMPTY_UNTOUCHED();
	EXPECT_UNCHANGED();
	munmap(none, PAGE);
	munmap(ro, PAGE);
	ASSERT_WORKS();
	/* Both objects are still there to free. */
	ASSERT_EQ(0, ga_free_all(self->fd, self->live, 2));
}

TEST_F(arena, alloc_bad_offsets)
{
	char *none = none_page(), *ro = ro_page(), *gbase = NULL, *g;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, populate(self));

	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 1, 0));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 16, (uintptr_t)none));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 16, (uintptr_t)ro));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 16, KERNEL_PTR));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 16, NONCANON_PTR));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 1 * MiB, 2, (uintptr_t)ro));
	/* Half writable: eight entries fit before the guard page, not sixteen. */
	g = guard_area(&gbase, 8 * sizeof(__u64));
	ASSERT_NE(NULL, g);
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 16, (uintptr_t)g));
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 128 * KiB, 9, (uintptr_t)g));
	/* ... and an unaligned array whose last byte is beyond. */
	EXPECT_EQ(-EFAULT, ga_alloc_at(self->fd, 64, 8, (uintptr_t)g + 1));
	munmap(gbase, 2 * PAGE);
	EXPECT_UNCHANGED();
	munmap(none, PAGE);
	munmap(ro, PAGE);
	ASSERT_WORKS();
}

TEST_F(arena, free_bad_arrays)
{
	char *none = none_page(), *ro = ro_page(), *gbase = NULL, *g;
	__u64 offs[4], nfreed = 0;
	__s32 res[4];

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 2, 0, offs));
	ASSERT_EQ(0, populate(self));
	offs[2] = self->live[0];
	offs[3] = self->live[1];

	/* Offsets unreadable. */
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, 0, 0));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)none, 0));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, KERNEL_PTR, (uintptr_t)res));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, NONCANON_PTR, 0));
	g = guard_area(&gbase, 2 * sizeof(__u64));
	ASSERT_NE(NULL, g);
	memcpy(g, offs, 2 * sizeof(__u64));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)g, 0));
	munmap(gbase, 2 * PAGE);
	EXPECT_UNCHANGED();

	/* Results unwritable: refused before anything is freed. */
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)offs, (uintptr_t)none));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)offs, (uintptr_t)ro));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)offs, KERNEL_PTR));
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)offs, NONCANON_PTR));
	g = guard_area(&gbase, 3 * sizeof(__s32));
	ASSERT_NE(NULL, g);
	EXPECT_EQ(-EFAULT, ga_free_at(self->fd, 4, (uintptr_t)offs, (uintptr_t)g));
	munmap(gbase, 2 * PAGE);
	EXPECT_UNCHANGED();

	/* All four still live: freed now, with results. */
	memset(res, 0x7f, sizeof(res));
	ASSERT_EQ(0, ga_free(self->fd, 4, offs, res, &nfreed));
	EXPECT_EQ(4, nfreed);
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[1]);
	EXPECT_EQ(0, res[2]);
	EXPECT_EQ(0, res[3]);
	munmap(none, PAGE);
	munmap(ro, PAGE);
	ASSERT_EQ(0, works(self->fd));
}

TEST_F(arena, count_limits)
{
	const __u64 toobig[] = {
		GOALLOC_MAX_BATCH + 1ULL, 1ULL << 32, (1ULL << 32) + 1, 1ULL << 63, ~0ULL,
	};
	__u64 *offs = calloc(GOALLOC_MAX_BATCH + 1ULL, sizeof(__u64)), nfreed = 0;
	unsigned int k;

	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, populate(self));
	EXPECT_EQ(-EINVAL, ga_alloc(self->fd, 64, 0, 0, offs));
	EXPECT_EQ(-EINVAL, ga_free(self->fd, 0, self->live, NULL, NULL));
	for (k = 0; k < ARRAY_SIZE(toobig); k++) {
		offs[0] = self->live[0];
		EXPECT_EQ(-E2BIG, ga_alloc(self->fd, 8, toobig[k], 0, offs))
			TH_LOG("count %#llx", (unsigned long long)toobig[k]);
		EXPECT_EQ(-E2BIG, ga_free(self->fd, toobig[k], offs, NULL, NULL))
			TH_LOG("count %#llx", (unsigned long long)toobig[k]);
	}
	EXPECT_UNCHANGED();
	/* The largest batch is fine. */
	ASSERT_EQ(0, ga_alloc(self->fd, 8, GOALLOC_MAX_BATCH, 0, offs));
	ASSERT_EQ(0, ga_free(self->fd, GOALLOC_MAX_BATCH, offs, NULL, &nfreed));
	EXPECT_EQ(GOALLOC_MAX_BATCH, nfreed);
	free(offs);
	ASSERT_WORKS();
}

TEST_F_TIMEOUT(arena, size_limits, 120)
{
	const __u64 toobig[] = {
		GOALLOC_MAX_OBJECT + 1ULL, GOALLOC_MAX_OBJECT + 8ULL, 1ULL << 32,
		(1ULL << 32) + 8, 1ULL << 63, ~0ULL, ~0ULL - 7,
	};
	__u64 *offs = calloc(GOALLOC_MAX_BATCH, sizeof(__u64)), n;
	unsigned int k;

	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, populate(self));
	EXPECT_EQ(-EINVAL, ga_alloc(self->fd, 0, 1, 0, offs));
	EXPECT_EQ(-EINVAL, ga_alloc(self->fd, 0, 16, 0, offs));
	for (k = 0; k < ARRAY_SIZE(toobig); k++) {
		EXPECT_EQ(-E2BIG, ga_alloc(self->fd, toobig[k], 1, 0, offs))
			TH_LOG("size %#llx", (unsigned long long)toobig[k]);
		EXPECT_EQ(-E2BIG, ga_alloc(self->fd, toobig[k], 3, 0, offs))
			TH_LOG("size %#llx", (unsigned long long)toobig[k]);
	}
	/* size * count wraps around 64 bits: still out of range, E2BIG. */
	EXPECT_EQ(-E2BIG, ga_alloc(self->fd, 1ULL << 42, 1ULL << 22, 0, offs));
	EXPECT_EQ(-E2BIG, ga_alloc(self->fd, 3, ~0ULL / 3 + 1, 0, offs));
	EXPECT_EQ(-E2BIG, ga_alloc(self->fd, 1ULL << 61, 8, 0, offs));
	EXPECT_UNCHANGED();
	/* Each in range, together beyond the cap: ENOMEM, nothing allocated. */
	n = self->defcap / GOALLOC_MAX_OBJECT + 1;
	ASSERT_GE(GOALLOC_MAX_BATCH, n);
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, GOALLOC_MAX_OBJECT, n, 0, offs));
	EXPECT_UNCHANGED();
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, GOALLOC_MAX_OBJECT, GOALLOC_MAX_BATCH, 0, offs));
	EXPECT_UNCHANGED();
	free(offs);
	ASSERT_WORKS();
}

/* A small cap: ENOMEM for what cannot fit, E2BIG still for what is too big. */
TEST_F(arena, size_over_small_cap)
{
	__u64 *offs = calloc(GOALLOC_MAX_BATCH, sizeof(__u64));

	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, ga_setup(self->fd, 256 * KiB, NULL));
	ASSERT_EQ(0, populate(self));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 256 * KiB + 1, 1, 0, offs));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 512 * KiB, 1, 0, offs));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 8, GOALLOC_MAX_BATCH, 0, offs));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 128 * KiB, 2, 0, offs));
	EXPECT_EQ(-E2BIG, ga_alloc(self->fd, GOALLOC_MAX_OBJECT + 1ULL, 1, 0, offs));
	EXPECT_UNCHANGED();
	free(offs);
	ASSERT_WORKS();
}

TEST_F(arena, setup_hostile)
{
	const __u64 bad[] = {
		~0ULL, ~0ULL - 100, ~0ULL - HPAGE + 2, 1ULL << 63, 1ULL << 40,
	};
	struct goalloc_stats st;
	unsigned int k;
	__u64 out = 0;

	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		EXPECT_EQ(-EINVAL, ga_setup(self->fd, bad[k], NULL))
			TH_LOG("max_size %#llx", (unsigned long long)bad[k]);
	}
	/* One byte above the default rounds up past it. */
	EXPECT_EQ(-EINVAL, ga_setup(self->fd, self->defcap + 1, NULL));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(self->defcap, st.max_size);
	/* Still set up-able. */
	ASSERT_EQ(0, ga_setup(self->fd, 3 * HPAGE - 1, &out));
	EXPECT_EQ(3 * HPAGE, out);
	ASSERT_EQ(0, works(self->fd));
	/* Busy now?  No: works() gave everything back.  But a live object... */
	ASSERT_EQ(0, populate(self));
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, HPAGE, NULL));
	EXPECT_UNCHANGED();
}

TEST_F(arena, free_bad_offsets)
{
	const __u64 cap = MiB;
	__u64 small[3], large, span, never_slot = ~0ULL, nospan = ~0ULL, p, nfreed = 7;
	struct goalloc_stats st;
	__u64 b[16];
	__s32 res[16];
	unsigned int j;

	ASSERT_EQ(0, ga_setup(self->fd, cap, NULL));
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 3, 0, small));
	ASSERT_EQ(0, ga_alloc(self->fd, 100 * KiB, 1, 0, &large));
	ASSERT_EQ(0, ga_free_all(self->fd, &small[2], 1));	/* small[2]: already freed */
	span = small[0] & ~(HPAGE - 1);
	ASSERT_EQ(span, small[1] & ~(HPAGE - 1));
	/* A slot of the live span that was never handed out. */
	for (j = 0; j < HPAGE / 64; j++) {
		p = span + j * 64;
		if (p != small[0] && p != small[1] && p != small[2]) {
			never_slot = p;
			break;
		}
	}
	/* A heap page with no span. */
	for (p = 0; p < cap; p += HPAGE)
		if (p != span && (p + HPAGE <= large || p >= large + 104 * KiB)) {
			nospan = p;
			break;
		}
	ASSERT_NE(~0ULL, never_slot);
	ASSERT_NE(~0ULL, nospan);

	b[0] = small[0] + 1;				/* -EINVAL */
	b[1] = small[0] + 8;
	b[2] = large + HPAGE;
	b[3] = large + 4096;
	b[4] = large + 100;
	b[5] = cap;					/* -ERANGE */
	b[6] = cap + 8;
	b[7] = ~0ULL;
	b[8] = 1ULL << 63;
	b[9] = small[2];				/* -ENOENT */
	b[10] = never_slot;
	b[11] = nospan;
	b[12] = small[1];				/* freed */
	b[13] = small[1];				/* -ENOENT: just freed */
	b[14] = large;					/* freed */
	b[15] = large;					/* -ENOENT */
	memset(res, 0x55, sizeof(res));
	ASSERT_EQ(0, ga_free(self->fd, 16, b, res, &nfreed));
	EXPECT_EQ(2, nfreed);
	for (j = 0; j < 5; j++) {
		EXPECT_EQ(-EINVAL, res[j]) TH_LOG("entry %u: %#llx", j, (unsigned long long)b[j]);
	}
	for (j = 5; j < 9; j++) {
		EXPECT_EQ(-ERANGE, res[j]) TH_LOG("entry %u: %#llx", j, (unsigned long long)b[j]);
	}
	for (j = 9; j < 12; j++) {
		EXPECT_EQ(-ENOENT, res[j]) TH_LOG("entry %u: %#llx", j, (unsigned long long)b[j]);
	}
	EXPECT_EQ(0, res[12]);
	EXPECT_EQ(-ENOENT, res[13]);
	EXPECT_EQ(0, res[14]);
	EXPECT_EQ(-ENOENT, res[15]);

	/* Without a results array: the count alone tells. */
	ASSERT_EQ(0, ga_free(self->fd, 12, b, NULL, &nfreed));
	EXPECT_EQ(0, nfreed);
	/* small[0] survived all of it. */
	ASSERT_EQ(0, ga_free(self->fd, 1, small, res, &nfreed));
	EXPECT_EQ(1, nfreed);
	EXPECT_EQ(0, res[0]);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(4, st.nalloc);
	EXPECT_EQ(4, st.nfree);
	ASSERT_EQ(0, works(self->fd));
}

/* nfreed is output only; output fields of STATS are too. */
TEST_F(arena, out_fields_ignored_on_input)
{
	struct goalloc_free f;
	struct goalloc_stats st;

	ASSERT_EQ(0, populate(self));
	memset(&f, 0, sizeof(f));
	f.argsz = sizeof(f);
	f.count = 1;
	f.offsets = (__u64)(uintptr_t)&self->live[1];
	f.nfreed = 0xdeadbeefULL;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_FREE, &f));
	EXPECT_EQ(1, f.nfreed);

	memset(&st, 0x5a, sizeof(st));
	st.argsz = sizeof(st);
	st.flags = 0;
	st.class_stat_size = 0;		/* no per-class view: classes ignored */
	st.nclasses = 1000;
	st.classes = 0xdeadbeef000ULL;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, &st));
	EXPECT_EQ(1, st.objects);
	EXPECT_EQ(self->defcap, st.max_size);
	EXPECT_EQ(self->st0.nalloc, st.nalloc);
	EXPECT_EQ(1, st.nfree);
	EXPECT_EQ(0, st.nreset);
	EXPECT_EQ(0, ga_free_all(self->fd, self->live, 1));
}

TEST_F(arena, stats_bad_classes)
{
	char *none = none_page(), *ro = ro_page(), *gbase = NULL, *g;
	struct goalloc_stats st;
	const __u32 es = sizeof(struct goalloc_class_stat);

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, populate(self));
#define STATS_AT(addr, n) ({ \
	memset(&st, 0, sizeof(st)); \
	st.argsz = sizeof(st); \
	st.class_stat_size = es; \
	st.nclasses = (n); \
	st.classes = (addr); \
	raw(self->fd, GOALLOC_IOC_STATS, &st); })
	EXPECT_EQ(-EFAULT, STATS_AT((uintptr_t)none, 10));
	EXPECT_EQ(-EFAULT, STATS_AT((uintptr_t)ro, 10));
	EXPECT_EQ(-EFAULT, STATS_AT(KERNEL_PTR, 10));
	EXPECT_EQ(-EFAULT, STATS_AT(NONCANON_PTR, 10));
	g = guard_area(&gbase, 3 * es);
	ASSERT_NE(NULL, g);
	EXPECT_EQ(-EFAULT, STATS_AT((uintptr_t)g, 4));
	/* Three fit exactly. */
	EXPECT_EQ(0, STATS_AT((uintptr_t)g, 3));
	EXPECT_EQ(68, st.nclasses);
	munmap(gbase, 2 * PAGE);
#undef STATS_AT
	munmap(none, PAGE);
	munmap(ro, PAGE);
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

/*
 * results[] overlapping offsets[]: every offset is read before any result
 * is written, so the objects named are freed, not whatever a zeroed offset
 * names (the object at offset 0, someone else's).
 */
TEST_F(arena, free_results_overlap_offsets)
{
	__u64 victim = ~0ULL, offs[4], buf[4], nfreed = 0;
	struct goalloc_stats st;
	unsigned int shift, i;

	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &victim));
	ASSERT_EQ(0, victim);	/* the first object of a fresh arena */
	/* results at the start of offsets[], then over its second half. */
	for (shift = 0; shift <= 2; shift += 2) {
		__s32 *res = (__s32 *)&buf[shift];

		ASSERT_EQ(0, ga_alloc(self->fd, 64, 4, 0, offs));
		memcpy(buf, offs, sizeof(buf));
		ASSERT_EQ(0, ga_free(self->fd, 4, buf, res, &nfreed));
		EXPECT_EQ(4, nfreed) TH_LOG("results at offsets[%u]", shift);
		for (i = 0; i < 4; i++)
			EXPECT_EQ(0, res[i]) TH_LOG("results at offsets[%u]: entry %u", shift, i);
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		EXPECT_EQ(1, st.objects);
		/* None of the named objects is left; the victim is untouched. */
		EXPECT_EQ(-EIO, ga_free_all(self->fd, offs, 4));
	}
	EXPECT_EQ(0, ga_free_all(self->fd, &victim, 1)) TH_LOG("the object at offset 0 was freed");
	ASSERT_EQ(0, works(self->fd));
}

/* class_stat_size: up to 4096 bytes per entry, E2BIG above. */
TEST_F(arena, stats_class_stat_size_limit)
{
	const size_t es = sizeof(struct goalloc_class_stat);
	struct goalloc_stats st;
	unsigned char *buf;
	unsigned int i;
	size_t k;

	ASSERT_EQ(0, populate(self));
	buf = malloc(3 * 4097);
	ASSERT_NE(NULL, buf);
	memset(buf, 0xa5, 3 * 4097);
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.class_stat_size = 4097;
	st.nclasses = 3;
	st.classes = (__u64)(uintptr_t)buf;
	EXPECT_EQ(-E2BIG, raw(self->fd, GOALLOC_IOC_STATS, &st));
	for (k = 0; k < 3 * 4097; k++)
		if (buf[k] != 0xa5)
			break;
	EXPECT_EQ(3 * 4097, k) TH_LOG("E2BIG, yet byte %zu was written", k);
	/* Without a classes array: still E2BIG, as documented. */
	st.classes = 0;
	EXPECT_EQ(-E2BIG, raw(self->fd, GOALLOC_IOC_STATS, &st));
	/* 4096: each entry is the kernel's part, then zeroes. */
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.class_stat_size = 4096;
	st.nclasses = 3;
	st.classes = (__u64)(uintptr_t)buf;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, &st));
	EXPECT_EQ(68, st.nclasses);
	EXPECT_EQ(2, st.objects);
	for (i = 0; i < 3; i++) {
		struct goalloc_class_stat cs;

		memcpy(&cs, buf + i * 4096, es);
		EXPECT_EQ(i, cs.size_class);
		for (k = es; k < 4096; k++)
			if (buf[i * 4096 + k])
				break;
		EXPECT_EQ(4096, k) TH_LOG("entry %u: byte %zu not zeroed", i, k);
	}
	EXPECT_EQ(0xa5, buf[3 * 4096]);
	free(buf);
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

/* Drop CAP_SYS_ADMIN and CAP_PERFMON from this process: 0 or -errno. */
static int drop_stats_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	const unsigned int drop[] = { CAP_SYS_ADMIN, 38 /* CAP_PERFMON */ };
	unsigned int i;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < 2; i++) {
		d[drop[i] / 32].effective &= ~(1U << (drop[i] % 32));
		d[drop[i] / 32].permitted &= ~(1U << (drop[i] % 32));
		d[drop[i] / 32].inheritable &= ~(1U << (drop[i] % 32));
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

/*
 * The per-class view is goalloc-wide, kernel callers included: like
 * /proc/slabinfo, only for CAP_PERFMON or CAP_SYS_ADMIN.  Without them the
 * arena's own figures still come, and the number of classes.
 */
TEST_F(arena, stats_classes_privileged)
{
	struct goalloc_class_stat cls[4];
	struct goalloc_stats st;
	int status;
	pid_t pid;

	ASSERT_EQ(0, populate(self));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned int k;

		if (drop_stats_caps())
			_exit(2);
		memset(cls, 0xa5, sizeof(cls));
		memset(&st, 0, sizeof(st));
		st.argsz = sizeof(st);
		st.class_stat_size = sizeof(cls[0]);
		st.nclasses = 4;
		st.classes = (__u64)(uintptr_t)cls;
		if (raw(self->fd, GOALLOC_IOC_STATS, &st) != -EPERM)
			_exit(3);
		for (k = 0; k < sizeof(cls); k++)
			if (((unsigned char *)cls)[k] != 0xa5)
				_exit(4);
		/* How many there are is no secret; the arena's own figures neither. */
		st.nclasses = 0;
		if (raw(self->fd, GOALLOC_IOC_STATS, &st) || st.nclasses != 68)
			_exit(5);
		if (ga_stats(self->fd, &st) || st.objects != 2 || st.nalloc != 2)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("2: capset, 3: not EPERM, 4: written, "
						 "5: nclasses 0 refused, 6: own figures");
	/* With the privilege (this process): the entries come. */
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.class_stat_size = sizeof(cls[0]);
	st.nclasses = 4;
	st.classes = (__u64)(uintptr_t)cls;
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, &st));
	EXPECT_EQ(3, cls[3].size_class);
	EXPECT_EQ(24, cls[3].obj_size);
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

/* ------------------------------------------------------------------ */
/* User buffers inside the arena's own mapping                        */

TEST_F_TIMEOUT(arena, buffers_in_own_mapping, 60)
{
	__u64 store, offs_in, *arr, nfreed = 0;
	struct goalloc_stats *st;
	char *nospan, buf[256];
	int ret, pfd[2];
	__s32 *res;
	__u64 p;

	ASSERT_EQ(0, ga_setup(self->fd, 4 * MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	/* A 64 KiB object holds the argument arrays; not touched yet. */
	ASSERT_EQ(0, ga_alloc(self->fd, 64 * KiB, 1, 0, &store));
	arr = (__u64 *)(self->map + store);
	res = (__s32 *)(self->map + store + 32 * KiB);
	st = (struct goalloc_stats *)(self->map + store + 48 * KiB);

	/* The kernel writes the offsets into the arena itself (first fault). */
	ASSERT_EQ(0, ga_alloc(self->fd, 100, 1000, 0, arr));
	EXPECT_EQ(0, arr[999] % 8);
	EXPECT_GT(4 * MiB, arr[999]);
	/* ... reads them from there and writes the results there too. */
	ASSERT_EQ(0, ga_free(self->fd, 1000, arr, res, &nfreed));
	EXPECT_EQ(1000, nfreed);
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[999]);
	/* The stats structure itself in the arena. */
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	ASSERT_EQ(0, raw(self->fd, GOALLOC_IOC_STATS, st));
	EXPECT_EQ(1, st->objects);

	/* A page of the mapping with no span: EFAULT, not SIGBUS. */
	offs_in = store + 64 * KiB;
	ASSERT_EQ(0, ga_alloc(self->fd, 8, 1, 0, &offs_in));	/* a page elsewhere */
	nospan = NULL;
	for (p = 0; p < 4 * MiB; p += HPAGE)
		if ((p < store || p >= store + 64 * KiB) && p != (offs_in & ~(HPAGE - 1))) {
			nospan = self->map + p;
			break;
		}
	ASSERT_NE(NULL, nospan);
	ret = ga_alloc(self->fd, 64, 4, 0, (__u64 *)nospan);
	EXPECT_EQ(-EFAULT, ret);
	ret = ga_free_at(self->fd, 1, (uintptr_t)nospan, 0);
	EXPECT_EQ(-EFAULT, ret);
	ret = ga_free_at(self->fd, 1, (uintptr_t)&offs_in, (uintptr_t)nospan);
	EXPECT_EQ(-EFAULT, ret);
	ret = raw(self->fd, GOALLOC_IOC_STATS, nospan);
	EXPECT_EQ(-EFAULT, ret);
	/* Syscalls on arena memory: copies work, a page with no span is EFAULT. */
	fill(self->map + store, 256, 77);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(256, write(pfd[1], self->map + store, 256));
	EXPECT_EQ(256, read(pfd[0], self->map + store + 1024, 256));
	EXPECT_EQ(-1, check(self->map + store + 1024, 256, 77));
	EXPECT_EQ(-1, write(pfd[1], nospan, 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(16, write(pfd[1], buf, 16));
	EXPECT_EQ(-1, read(pfd[0], nospan, 16));
	EXPECT_EQ(EFAULT, errno);
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(0, ga_stats(self->fd, st));
	EXPECT_EQ(2, st->objects);
	ASSERT_EQ(0, works(self->fd));
}

/* ------------------------------------------------------------------ */
/* mmap                                                                */

TEST_F(arena, mmap_hostile)
{
	const size_t cap = self->defcap;
	int fd2;
	void *p;

	ASSERT_EQ(0, populate(self));
	/* MAP_SHARED only. */
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 64 * KiB, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* No PROT_EXEC, in any combination. */
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, 64 * KiB, PROT_EXEC, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	/* Within the cap. */
	p = mmap(NULL, cap + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, cap);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, cap - PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 1ULL << 44);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Exactly the cap, the last page, MAP_SHARED_VALIDATE: fine. */
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, cap);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, cap - PAGE);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PAGE);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PAGE);

	/* A smaller cap limits mappings the same way. */
	fd2 = ga_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ga_setup(fd2, MiB, NULL));
	p = mmap(NULL, MiB + PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, MiB - PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, MiB);
	close(fd2);
	EXPECT_UNCHANGED();
	ASSERT_WORKS();
}

TEST_F(arena, mprotect_exec)
{
	__u64 off;
	char *m;

	ASSERT_EQ(0, map_all(self));
	m = self->map;
	ASSERT_EQ(0, ga_alloc(self->fd, 4096, 1, 0, &off));
	fill(m + off, 4096, 5);
	EXPECT_EQ(-1, mprotect(m, self->maplen, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(m + (off & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(m, PAGE, PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	/* The mapping is unharmed. */
	EXPECT_EQ(-1, check(m + off, 4096, 5));
	fill(m + off, 4096, 6);
	EXPECT_EQ(-1, check(m + off, 4096, 6));
	/* Read-only and back is fine. */
	ASSERT_EQ(0, mprotect(m, self->maplen, PROT_READ));
	EXPECT_EQ(-1, check(m + off, 4096, 6));
	ASSERT_EQ(0, mprotect(m, self->maplen, PROT_READ | PROT_WRITE));
	fill(m + off, 4096, 7);
	EXPECT_EQ(-1, check(m + off, 4096, 7));
	ASSERT_EQ(0, ga_free_all(self->fd, &off, 1));
}

/* Growing a mapping past the cap: refused, or what lies beyond faults. */
TEST_F(arena, mremap_beyond_cap)
{
	__u64 off;
	char *m, *n;

	ASSERT_EQ(0, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	m = self->map;
	ASSERT_EQ(0, ga_alloc(self->fd, MiB, 1, 0, &off));
	ASSERT_EQ(0, off);
	fill(m, MiB, 3);
	n = mremap(m, MiB, 2 * MiB, MREMAP_MAYMOVE);
	if (n == MAP_FAILED) {
		TH_LOG("mremap refused: %s", strerror(errno));
		EXPECT_EQ(-1, check(m, MiB, 3));
	} else {
		self->map = n;
		self->maplen = 2 * MiB;
		EXPECT_EQ(-1, check(n, MiB, 3));
		EXPECT_SIGBUS(touch_in_child(n + MiB, false));
		EXPECT_SIGBUS(touch_in_child(n + 2 * MiB - 1, true));
	}
	/* Shrinking is fine. */
	n = mremap(self->map, self->maplen, 512 * KiB, 0);
	ASSERT_NE(MAP_FAILED, n);
	self->maplen = 512 * KiB;
	EXPECT_EQ(-1, check(n, 512 * KiB, 3));
	ASSERT_EQ(0, ga_free_all(self->fd, &off, 1));
	ASSERT_EQ(0, works(self->fd));
}

/* MADV_DONTNEED drops at most the PTEs, never the memory. */
TEST_F(arena, madvise_dontneed)
{
	__u64 off;

	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, ga_alloc(self->fd, 256 * KiB, 1, 0, &off));
	fill(self->map + off, 256 * KiB, 9);
	/* A VM_PFNMAP mapping may refuse it (EINVAL); if taken, nothing is lost. */
	if (madvise(self->map + off, 256 * KiB, MADV_DONTNEED)) {
		if (errno == ENOSYS)
			SKIP(return, "no madvise() in this kernel (CONFIG_ADVISE_SYSCALLS)");
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(-1, check(self->map + off, 256 * KiB, 9));
	ASSERT_EQ(0, ga_free_all(self->fd, &off, 1));
}

/* ------------------------------------------------------------------ */
/* Close and unmap while in use                                        */

TEST_F(arena, close_with_live_mapping)
{
	struct goalloc_stats st;
	__u64 small[3], big, arenas0, nospan = ~0ULL, p;
	int fd_probe, fd;
	double end;
	char *m;
	size_t len = 4 * MiB;

	fd_probe = ga_open();	/* to read goalloc-wide counters */
	ASSERT_LE(0, fd_probe);
	ASSERT_EQ(0, ga_stats(fd_probe, &st));
	arenas0 = st.arenas;

	ASSERT_EQ(0, ga_setup(self->fd, len, NULL));
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 3, 0, small));
	ASSERT_EQ(0, ga_alloc(self->fd, 300 * KiB, 1, 0, &big));
	m = ga_map(self->fd, len, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill(m + small[0], 64, 1);
	fill(m + big, 300 * KiB, 2);
	for (p = 0; p < len; p += HPAGE)
		if (p != (small[0] & ~(HPAGE - 1)) && (p + HPAGE <= big || p >= big + 304 * KiB)) {
			nospan = p;
			break;
		}
	ASSERT_NE(~0ULL, nospan);

	/* The last file reference goes; the mapping holds the arena. */
	fd = self->fd;
	self->fd = -1;
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(-1, check(m + small[0], 64, 1));
	EXPECT_EQ(-1, check(m + big, 300 * KiB, 2));
	/* Allocated but never touched: faults in now, zeroed. */
	EXPECT_EQ(0, m[small[1]]);
	fill(m + small[1], 64, 3);
	EXPECT_EQ(-1, check(m + small[1], 64, 3));
	EXPECT_SIGBUS(touch_in_child(m + nospan, false));
	/* A child inherits the mapping, and with it the arena. */
	EXPECT_NO_SIGNAL(touch_in_child(m + small[2], true));
	EXPECT_EQ(0x5a, m[small[2]]);

	/* Split it and drop the pieces one by one. */
	ASSERT_EQ(0, munmap(m + MiB, MiB));
	EXPECT_EQ(-1, check(m + small[0], 64, 1));
	ASSERT_EQ(0, munmap(m, MiB));
	ASSERT_EQ(0, munmap(m + 2 * MiB, 2 * MiB));
	/* Now the arena is gone. */
	end = now_s() + 2;
	do {
		ASSERT_EQ(0, ga_stats(fd_probe, &st));
		if (st.arenas == arenas0 - 1)
			break;
		usleep(20000);
	} while (now_s() < end);
	EXPECT_EQ(arenas0 - 1, st.arenas);
	close(fd_probe);
}

TEST_F(arena, partial_munmap)
{
	const size_t osz = 3 * MiB;
	__u64 off, nfreed = 0, again;
	char *m, *hole, *w;

	ASSERT_EQ(0, ga_setup(self->fd, 8 * MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	m = self->map;
	ASSERT_EQ(0, ga_alloc(self->fd, osz, 1, 0, &off));
	fill(m + off, osz, 4);
	/* Punch out the middle MiB of the object's window. */
	hole = m + off + MiB;
	ASSERT_EQ(0, munmap(hole, MiB));
	/* Both sides still show the object, as a fresh window does. */
	w = ga_map(self->fd, osz, off);
	ASSERT_NE(MAP_FAILED, w);
	EXPECT_EQ(-1, check(w, osz, 4));
	EXPECT_EQ(0, memcmp(w, m + off, MiB));
	EXPECT_EQ(0, memcmp(w + 2 * MiB, m + off + 2 * MiB, MiB));
	/* Writes on both sides of the hole land in the object. */
	m[off + 5] ^= 0xff;
	m[off + osz - 5] ^= 0xff;
	EXPECT_EQ(0, memcmp(w, m + off, MiB));
	EXPECT_EQ(0, memcmp(w + 2 * MiB, m + off + 2 * MiB, MiB));
	m[off + 5] ^= 0xff;
	m[off + osz - 5] ^= 0xff;
	/* Map the hole again, in place, from its file offset. */
	ASSERT_EQ(hole, mmap(hole, MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			     self->fd, off + MiB));
	EXPECT_EQ(-1, check(m + off, osz, 4));
	munmap(w, osz);
	/* Split by mprotect too. */
	ASSERT_EQ(0, mprotect(m + off + MiB / 2, MiB, PROT_READ));
	EXPECT_EQ(-1, check(m + off, osz, 4));
	ASSERT_EQ(0, mprotect(m + off + MiB / 2, MiB, PROT_READ | PROT_WRITE));
	/* Free the object: every piece faults. */
	ASSERT_EQ(0, ga_free(self->fd, 1, &off, NULL, &nfreed));
	ASSERT_EQ(1, nfreed);
	EXPECT_SIGBUS(touch_in_child(m + off, false));
	EXPECT_SIGBUS(touch_in_child(hole, false));
	EXPECT_SIGBUS(touch_in_child(m + off + osz - 1, false));
	/* New objects still come through the pieces. */
	ASSERT_EQ(0, ga_alloc(self->fd, 4 * MiB, 1, GOALLOC_ALLOC_ZERO, &again));
	fill(m + again, 4 * MiB, 5);
	EXPECT_EQ(-1, check(m + again, 4 * MiB, 5));
	ASSERT_EQ(0, ga_free_all(self->fd, &again, 1));
	ASSERT_EQ(0, works(self->fd));
}

/* Many arenas at once, closed in an odd order, some mappings outliving. */
TEST_F(arena, many_arenas)
{
	enum { N = 64 };
	int fds[N];
	char *maps[N];
	__u64 off[N];
	unsigned int i;

	for (i = 0; i < N; i++) {
		fds[i] = ga_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, ga_setup(fds[i], 64 * KiB, NULL));
		ASSERT_EQ(0, ga_alloc(fds[i], 100 + i, 1, 0, &off[i]));
		maps[i] = ga_map(fds[i], 64 * KiB, 0);
		ASSERT_NE(MAP_FAILED, maps[i]);
		fill(maps[i] + off[i], 100 + i, i);
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ(-1, check(maps[i] + off[i], 100 + i, i));
	}
	for (i = 0; i < N; i += 2)
		close(fds[i]);
	for (i = 1; i < N; i += 2)
		munmap(maps[i], 64 * KiB);
	for (i = 0; i < N; i += 2) {
		EXPECT_EQ(-1, check(maps[i] + off[i], 100 + i, i));
	}
	for (i = 1; i < N; i += 2) {
		EXPECT_EQ(0, works(fds[i]));
		close(fds[i]);
	}
	for (i = 0; i < N; i += 2)
		munmap(maps[i], 64 * KiB);
}

/* Hundreds of small windows on one object: a reset empties every one. */
TEST_F_TIMEOUT(arena, many_mappings, 60)
{
	enum { N = 512 };
	char *win[N];
	__u64 off, out = 0;
	unsigned int i;

	ASSERT_EQ(0, ga_alloc(self->fd, N * PAGE, 1, 0, &off));
	for (i = 0; i < N; i++) {
		win[i] = ga_map(self->fd, PAGE, off + i * PAGE);
		ASSERT_NE(MAP_FAILED, win[i]) TH_LOG("window %u: %s", i, strerror(errno));
		win[i][i % PAGE] = (char)(i | 1);
	}
	ASSERT_EQ(0, map_all(self));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((char)(i | 1), self->map[off + i * PAGE + i % PAGE]);
	}
	ASSERT_EQ(0, ga_reset(self->fd));
	EXPECT_SIGBUS(touch_in_child(win[0], false));
	EXPECT_SIGBUS(touch_in_child(win[N / 2] + 17, true));
	EXPECT_SIGBUS(touch_in_child(win[N - 1] + PAGE - 1, false));
	EXPECT_SIGBUS(touch_in_child(self->map + off, false));
	/* While any window is left, the arena cannot be set up. */
	munmap(self->map, self->maplen);
	self->map = NULL;
	for (i = 0; i < N - 1; i++)
		munmap(win[i], PAGE);
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	munmap(win[N - 1], PAGE);
	ASSERT_EQ(0, ga_setup(self->fd, MiB, &out));
	EXPECT_EQ(MiB, out);
	ASSERT_EQ(0, works(self->fd));
}

/* Mappings copied by fork() count as mappings until the child drops them. */
TEST_F(arena, mappings_of_a_child)
{
	int up[2], down[2], status;
	__u64 off, out = 0;
	char c = 'x', *m;
	pid_t pid;

	m = ga_map(self->fd, MiB, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &off));
	m[off] = 1;
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Split the inherited mapping, keep both halves. */
		if (mprotect(m + 256 * KiB, 256 * KiB, PROT_READ))
			_exit(2);
		if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	/* The parent lets go of everything; the child still maps the arena. */
	ASSERT_EQ(0, munmap(m, MiB));
	ASSERT_EQ(0, ga_reset(self->fd));
	EXPECT_EQ(-EBUSY, ga_setup(self->fd, MiB, NULL));
	ASSERT_EQ(1, write(down[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Gone with the child. */
	ASSERT_EQ(0, ga_setup(self->fd, MiB, &out));
	EXPECT_EQ(MiB, out);
	ASSERT_EQ(0, works(self->fd));
}

/* ------------------------------------------------------------------ */
/* Races                                                               */

struct race {
	int fd;
	char *map;
	__u64 cap;
	volatile int stop;
	pthread_barrier_t go;
	unsigned long iters[8];
	unsigned long sigbus;
	char err[8][160];
};

struct race_arg {
	struct race *r;
	int id;
};

static __thread sigjmp_buf touch_jb;
static __thread volatile int touching;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (touching)
		siglongjmp(touch_jb, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

#define RACE_ERR(r, id, ...) do { \
	if (!(r)->err[id][0]) \
		snprintf((r)->err[id], sizeof((r)->err[id]), __VA_ARGS__); \
} while (0)

static const __u64 race_sizes[] = { 8, 64, 1000, 8192, 30000, 100000, MiB };

static void *race_worker(void *arg)
{
	struct race *r = ((struct race_arg *)arg)->r;
	int id = ((struct race_arg *)arg)->id;
	__u64 offs[16], rng = id * 0x9E3779B97F4A7C15ULL + 1, nfreed, n, size, ok, j;
	__s32 res[16];
	int ret;

	pthread_barrier_wait(&r->go);
	while (!r->stop) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		size = race_sizes[(rng >> 33) % ARRAY_SIZE(race_sizes)];
		n = 1 + (rng >> 45) % 16;
		ret = ga_alloc(r->fd, size, n, 0, offs);
		if (ret == -ENOMEM)
			continue;
		if (ret) {
			RACE_ERR(r, id, "alloc %llu x %llu: %d", (unsigned long long)n,
				 (unsigned long long)size, ret);
			break;
		}
		for (j = 0; j < n; j++)
			if (offs[j] + size > r->cap || offs[j] % 8)
				RACE_ERR(r, id, "offset %#llx size %llu",
					 (unsigned long long)offs[j], (unsigned long long)size);
		nfreed = ~0ULL;
		memset(res, 0x55, sizeof(res));
		ret = ga_free(r->fd, n, offs, res, &nfreed);
		if (ret) {
			RACE_ERR(r, id, "free: %d", ret);
			break;
		}
		/* A reset may have taken them, and others reused the offsets. */
		for (j = 0, ok = 0; j < n; j++) {
			if (!res[j])
				ok++;
			else if (res[j] != -ENOENT && res[j] != -EINVAL)
				RACE_ERR(r, id, "free result %d for %#llx", res[j],
					 (unsigned long long)offs[j]);
		}
		if (ok != nfreed)
			RACE_ERR(r, id, "nfreed %llu, %llu results 0", (unsigned long long)nfreed,
				 (unsigned long long)ok);
		r->iters[id]++;
	}
	return NULL;
}

static void *race_toucher(void *arg)
{
	struct race *r = ((struct race_arg *)arg)->r;
	int id = ((struct race_arg *)arg)->id;
	__u64 off;
	int ret;

	pthread_barrier_wait(&r->go);
	while (!r->stop) {
		ret = ga_alloc(r->fd, 64 * KiB, 1, 0, &off);
		if (ret == -ENOMEM)
			continue;
		if (ret) {
			RACE_ERR(r, id, "alloc: %d", ret);
			break;
		}
		touching = 1;
		if (sigsetjmp(touch_jb, 1) == 0) {
			volatile char *p = r->map + off;
			size_t i;

			for (i = 0; i < 64 * KiB; i += PAGE)
				p[i] = (char)i;
			for (i = 0; i < 64 * KiB; i += PAGE)
				(void)p[i];
		} else {
			__atomic_fetch_add(&r->sigbus, 1, __ATOMIC_RELAXED);
		}
		touching = 0;
		ga_free(r->fd, 1, &off, NULL, NULL);
		r->iters[id]++;
	}
	return NULL;
}

static void *race_resetter(void *arg)
{
	struct race *r = ((struct race_arg *)arg)->r;
	int id = ((struct race_arg *)arg)->id;
	int ret;

	pthread_barrier_wait(&r->go);
	while (!r->stop) {
		ret = ga_reset(r->fd);
		if (ret) {
			RACE_ERR(r, id, "reset: %d", ret);
			break;
		}
		r->iters[id]++;
		sched_yield();
	}
	return NULL;
}

static void *race_other(void *arg)
{
	struct race *r = ((struct race_arg *)arg)->r;
	int id = ((struct race_arg *)arg)->id;
	struct goalloc_stats st;
	__u64 off;
	void *m;
	int fd, ret;

	pthread_barrier_wait(&r->go);
	while (!r->stop) {
		/* Stats stay coherent. */
		ret = ga_stats(r->fd, &st);
		if (ret || st.bytes_allocated > st.bytes_held || st.bytes_held > st.max_size)
			RACE_ERR(r, id, "stats %d: allocated %llu held %llu cap %llu", ret,
				 (unsigned long long)st.bytes_allocated,
				 (unsigned long long)st.bytes_held,
				 (unsigned long long)st.max_size);
		/* Another file of the same arena comes and goes. */
		fd = dup(r->fd);
		if (fd < 0 || ga_stats(fd, &st)) {
			RACE_ERR(r, id, "dup: %s", strerror(errno));
			break;
		}
		m = ga_map(fd, r->cap, 0);
		close(fd);
		if (m == MAP_FAILED)
			RACE_ERR(r, id, "mmap: %s", strerror(errno));
		else
			munmap(m, r->cap);
		/* And a whole other arena. */
		fd = ga_open();
		if (fd < 0 || ga_alloc(fd, 5000, 3, 0, (__u64[3]){ 0 }) ||
		    (m = ga_map(fd, MiB, 0)) == MAP_FAILED) {
			RACE_ERR(r, id, "second arena: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			break;
		}
		close(fd);
		munmap(m, MiB);
		(void)off;
		r->iters[id]++;
	}
	return NULL;
}

TEST_F_TIMEOUT(arena, race_reset_alloc_free_fault, 120)
{
	void *(*fns[8])(void *) = {
		race_worker, race_worker, race_worker, race_worker,
		race_toucher, race_toucher, race_resetter, race_other,
	};
	struct race_arg args[8];
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct goalloc_stats st;
	__u64 two[2], off;
	pthread_t th[8];
	struct race *r;
	unsigned int i;

	r = calloc(1, sizeof(*r));
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ga_setup(self->fd, 8 * MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	r->fd = self->fd;
	r->map = self->map;
	r->cap = self->maplen;
	ASSERT_EQ(0, pthread_barrier_init(&r->go, NULL, 9));
	for (i = 0; i < 8; i++) {
		args[i].r = r;
		args[i].id = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fns[i], &args[i]));
	}
	pthread_barrier_wait(&r->go);
	sleep(6);
	r->stop = 1;
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 8; i++) {
		EXPECT_STREQ("", r->err[i]) TH_LOG("thread %u", i);
		EXPECT_LT(0, r->iters[i]) TH_LOG("thread %u made no progress", i);
	}
	TH_LOG("iterations: alloc/free %lu %lu %lu %lu, touch %lu %lu (%lu SIGBUS), "
	       "reset %lu, other %lu", r->iters[0], r->iters[1], r->iters[2], r->iters[3],
	       r->iters[4], r->iters[5], r->sigbus, r->iters[6], r->iters[7]);
	/* Quiet again: one reset and the arena is empty and whole. */
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_allocated);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.spans);
	/* No offset space leaked: the whole cap in two objects. */
	ASSERT_EQ(0, ga_alloc(self->fd, GOALLOC_MAX_OBJECT, 2, 0, two));
	EXPECT_EQ(-ENOMEM, ga_alloc(self->fd, 8, 1, 0, &off));
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, works(self->fd));
	pthread_barrier_destroy(&r->go);
	free(r);
}

/*
 * An ALLOC whose offsets array sits in the arena's own mapping, against a
 * RESET that takes that very page away while the offsets are copied out:
 * the ALLOC fails (EFAULT) and undoes itself, and the undo must not free
 * what another thread allocated after the reset.  A third thread allocates
 * all along; what it got after the reset (it reads nreset under the same
 * lock first) must all still be its own at the end of the round.
 */
#define RB_OBJS		8192
#define RB_COBJS	4096

struct rollback {
	int fd;
	char *map;
	volatile int stop, a_started, a_done;
	__u64 store, base_nreset;
	int a_ret;
	unsigned int spin;
	unsigned long rounds, efault, c_objs;
	char err[160];
	pthread_barrier_t start, end;
};

static void *rb_alloc(void *arg)
{
	struct rollback *rb = arg;

	for (;;) {
		pthread_barrier_wait(&rb->start);
		if (rb->stop)
			return NULL;
		rb->a_started = 1;
		rb->a_ret = ga_alloc(rb->fd, 8, RB_OBJS, 0, (__u64 *)(rb->map + rb->store));
		rb->a_done = 1;
		pthread_barrier_wait(&rb->end);
	}
}

static void *rb_reset(void *arg)
{
	struct rollback *rb = arg;
	volatile unsigned int i;

	for (;;) {
		pthread_barrier_wait(&rb->start);
		if (rb->stop)
			return NULL;
		while (!rb->a_started)
			;
		for (i = 0; i < rb->spin; i++)
			;
		if (ga_reset(rb->fd) && !rb->err[0])
			snprintf(rb->err, sizeof(rb->err), "reset: %s", strerror(errno));
		pthread_barrier_wait(&rb->end);
	}
}

static void *rb_other(void *arg)
{
	struct rollback *rb = arg;
	static __u64 mine[RB_COBJS];
	static __s32 res[RB_COBJS];
	struct goalloc_stats st;
	__u64 n, nfreed, j, batch[16];
	int ret;

	for (;;) {
		pthread_barrier_wait(&rb->start);
		if (rb->stop)
			return NULL;
		n = 0;
		while (!rb->a_done && n + 16 <= RB_COBJS) {
			if (ga_stats(rb->fd, &st))
				break;
			ret = ga_alloc(rb->fd, 8, 16, 0, batch);
			if (ret) {
				if (!rb->err[0])
					snprintf(rb->err, sizeof(rb->err), "other alloc: %d", ret);
				break;
			}
			/* Only what was allocated after this round's reset. */
			if (st.nreset == rb->base_nreset + 1) {
				memcpy(&mine[n], batch, sizeof(batch));
				n += 16;
			}
		}
		rb->c_objs += n;
		if (n) {
			memset(res, 0x55, n * sizeof(res[0]));
			nfreed = 0;
			ret = ga_free(rb->fd, n, mine, res, &nfreed);
			for (j = 0; j < n && !ret; j++)
				if (res[j] && !rb->err[0])
					snprintf(rb->err, sizeof(rb->err),
						 "round %lu: object %#llx, allocated after the reset, "
						 "was no longer ours: %d (ALLOC's undo freed it?)",
						 rb->rounds, (unsigned long long)mine[j], res[j]);
			if (ret && !rb->err[0])
				snprintf(rb->err, sizeof(rb->err), "other free: %d", ret);
		}
		pthread_barrier_wait(&rb->end);
	}
}

TEST_F_TIMEOUT(arena, alloc_undo_vs_reset, 60)
{
	void *(*fns[3])(void *) = { rb_alloc, rb_reset, rb_other };
	struct goalloc_stats st;
	struct rollback *rb;
	pthread_t th[3];
	double end;
	unsigned int i;

	rb = calloc(1, sizeof(*rb));
	ASSERT_NE(NULL, rb);
	ASSERT_EQ(0, ga_setup(self->fd, 16 * MiB, NULL));
	ASSERT_EQ(0, map_all(self));
	rb->fd = self->fd;
	rb->map = self->map;
	ASSERT_EQ(0, pthread_barrier_init(&rb->start, NULL, 4));
	ASSERT_EQ(0, pthread_barrier_init(&rb->end, NULL, 4));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fns[i], rb));
	end = now_s() + 10;
	while (!rb->err[0] && now_s() < end) {
		ASSERT_EQ(0, ga_reset(self->fd));
		ASSERT_EQ(0, ga_alloc(self->fd, RB_OBJS * 8, 1, 0, &rb->store));
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		rb->base_nreset = st.nreset;
		rb->a_started = rb->a_done = 0;
		rb->spin = (rb->rounds * 7919) % 20000;
		pthread_barrier_wait(&rb->start);
		pthread_barrier_wait(&rb->end);
		if (rb->a_ret == -EFAULT)
			rb->efault++;
		else if (rb->a_ret && !rb->err[0])
			snprintf(rb->err, sizeof(rb->err), "alloc: %d", rb->a_ret);
		rb->rounds++;
	}
	rb->stop = 1;
	pthread_barrier_wait(&rb->start);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	TH_LOG("%lu rounds, %lu ALLOCs refused with EFAULT, %lu objects checked",
	       rb->rounds, rb->efault, rb->c_objs);
	EXPECT_STREQ("", rb->err);
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, works(self->fd));
	pthread_barrier_destroy(&rb->start);
	pthread_barrier_destroy(&rb->end);
	free(rb);
}

/* A process killed inside big ioctls leaves a consistent arena behind. */
TEST_F_TIMEOUT(arena, sigkill_in_ioctl, 180)
{
	const useconds_t delays[] = { 50000, 200000, 600000 };
	struct goalloc_stats st;
	__u64 *offs = calloc(GOALLOC_MAX_BATCH, sizeof(__u64));
	unsigned int k;

	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, ga_setup(self->fd, 64 * MiB, NULL));
	for (k = 0; k < ARRAY_SIZE(delays); k++) {
		__u64 base;
		int p[2], status;
		char c;
		pid_t pid;

		ASSERT_EQ(0, ga_stats(self->fd, &st));
		ASSERT_EQ(0, st.objects);
		base = st.nalloc - st.nfree;

		ASSERT_EQ(0, pipe(p));
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(p[0]);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			for (;;) {
				if (!ga_alloc(self->fd, 8, GOALLOC_MAX_BATCH, 0, offs))
					ga_free(self->fd, GOALLOC_MAX_BATCH, offs, NULL, NULL);
				if (!ga_alloc(self->fd, MiB, 48, GOALLOC_ALLOC_ZERO, offs))
					ga_free(self->fd, 48, offs, NULL, NULL);
			}
		}
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1));
		close(p[0]);
		usleep(delays[k]);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		/* Counters agree with each other; objects come in whole batches. */
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		EXPECT_EQ(st.nalloc - st.nfree - base, st.objects);
		EXPECT_LE(st.objects, GOALLOC_MAX_BATCH);
		EXPECT_EQ(st.objects == 0, st.bytes_allocated == 0);
		EXPECT_LE(st.bytes_allocated, st.bytes_held);
		EXPECT_LE(st.bytes_held, 64 * MiB);
		TH_LOG("killed after %u ms: %llu objects, %llu bytes held", delays[k] / 1000,
		       (unsigned long long)st.objects, (unsigned long long)st.bytes_held);
		/* The survivor can use it, all of it. */
		ASSERT_EQ(0, ga_reset(self->fd));
		ASSERT_EQ(0, ga_stats(self->fd, &st));
		EXPECT_EQ(0, st.objects);
		EXPECT_EQ(0, st.bytes_held);
		ASSERT_EQ(0, ga_alloc(self->fd, GOALLOC_MAX_OBJECT, 16, 0, offs));
		ASSERT_EQ(0, ga_free_all(self->fd, offs, 16));
	}
	free(offs);
	ASSERT_EQ(0, works(self->fd));
}

TEST_HARNESS_MAIN
