// SPDX-License-Identifier: GPL-2.0
/*
 * libgoalloc's thread caches (goalloc_cached_alloc(), goalloc_cached_free()):
 * objects come back to the kernel (at a flush, a thread's exit, the arena's
 * close), the kernel counts cached objects as allocated and takes back what
 * a killed process had cached at a reset or when the arena's last user
 * goes, double frees are caught (at the call, or when the cache's batch
 * goes back to the kernel), and a child of fork() does not hand out what
 * its parent has cached.  Also the ABI the caches rest on: GOALLOC_FREE_GEN
 * (ESTALE across a reset), GOALLOC_FREE_KEEP (empty spans kept mapped, up to
 * the arena's budget), and ALLOC's @obj_size and @gen.
 *
 * libgoalloc.c is compiled into this program (selftests/Makefile).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "goalloc_selftest.h"
#include "libgoalloc.h"

#define NOBJ	3000

FIXTURE(cache) {
	struct goalloc_arena *a;
	int fd;			/* a second file of the same arena, for stats */
};

FIXTURE_SETUP(cache)
{
	self->fd = -1;
	self->a = goalloc_open(64 * MiB);
	if (!self->a && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_NE(NULL, self->a) TH_LOG("goalloc_open: %s", strerror(errno));
	self->fd = dup(goalloc_fd(self->a));
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(cache)
{
	if (self->a)
		goalloc_close(self->a);
	if (self->fd >= 0)
		close(self->fd);
}

/* The kernel's count of the arena's live objects (cached ones included). */
static __u64 kobjects(int fd)
{
	struct goalloc_stats st;

	if (ga_stats(fd, &st))
		return ~0ULL;
	return st.objects;
}

static __u64 cached(struct goalloc_arena *a)
{
	struct goalloc_cache_stats cs;

	goalloc_cache_stats(a, &cs);
	return cs.cached;
}

static __u64 double_frees(struct goalloc_arena *a)
{
	struct goalloc_cache_stats cs;

	goalloc_cache_stats(a, &cs);
	return cs.double_frees;
}

static int cmp_ptr(const void *x, const void *y)
{
	uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;

	return a < b ? -1 : a > b;
}

/* How many of @n pointers are duplicates. */
static size_t dups(void **p, size_t n)
{
	void **s = malloc(n * sizeof(*s));
	size_t i, d = 0;

	if (!s)
		return n;
	memcpy(s, p, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_ptr);
	for (i = 1; i < n; i++)
		d += s[i] == s[i - 1];
	free(s);
	return d;
}

/* Objects of several sizes, filled, checked, freed; all back at a flush. */
TEST_F(cache, objects_come_back)
{
	static const size_t sizes[] = { 8, 24, 64, 100, 1024, 5000, 32768, 40000 };
	static void *p[NOBJ];
	unsigned int i, k;

	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t sz = sizes[k], n = sz > 4096 ? 200 : NOBJ;

		for (i = 0; i < n; i++) {
			p[i] = goalloc_cached_alloc(self->a, sz);
			ASSERT_NE(NULL, p[i]) TH_LOG("size %zu #%u: %s", sz, i, strerror(errno));
			fill(p[i], sz, i + 1);
		}
		EXPECT_EQ(0, dups(p, n)) TH_LOG("size %zu", sz);
		for (i = 0; i < n; i++)
			ASSERT_EQ(-1, check(p[i], sz, i + 1)) TH_LOG("size %zu #%u", sz, i);
		/* Live and cached objects are all allocated, as the kernel counts. */
		EXPECT_EQ(n + cached(self->a), kobjects(self->fd)) TH_LOG("size %zu", sz);
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, goalloc_cached_free(self->a, p[i])) TH_LOG("size %zu #%u", sz, i);
		EXPECT_EQ(cached(self->a), kobjects(self->fd)) TH_LOG("size %zu", sz);
		if (sz <= 32768)
			EXPECT_LT(0, cached(self->a)) TH_LOG("size %zu: nothing cached", sz);
		goalloc_cache_flush(self->a);
		EXPECT_EQ(0, cached(self->a));
		EXPECT_EQ(0, kobjects(self->fd)) TH_LOG("size %zu", sz);
	}
	EXPECT_EQ(0, double_frees(self->a));
}

/* The cache reuses what it was given back: no system call per object. */
TEST_F(cache, reuse_without_kernel)
{
	struct goalloc_cache_stats before, after;
	void *p[16];
	unsigned int i, r;

	for (i = 0; i < 16; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 48));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	goalloc_cache_stats(self->a, &before);
	for (r = 0; r < 1000; r++) {
		for (i = 0; i < 16; i++)
			ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 48));
		for (i = 0; i < 16; i++)
			ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	}
	goalloc_cache_stats(self->a, &after);
	EXPECT_EQ(before.refills, after.refills);
	EXPECT_EQ(before.flushes, after.flushes);
}

/*
 * A thread that frees many objects of a class keeps them (its stack grows
 * instead of flushing), but only up to the growth budget: 1/32 of the
 * arena's cap (2 MiB here) over the base stack (1024 objects of 64 bytes).
 */
TEST_F(cache, growth_bounded)
{
	const unsigned int n = 40000;
	void **p = malloc(n * sizeof(*p));
	struct goalloc_cache_stats before, after;
	unsigned int i;
	__u64 c;

	ASSERT_NE(NULL, p);
	for (i = 0; i < n; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	c = cached(self->a);
	EXPECT_EQ(c, kobjects(self->fd));
	EXPECT_LT(4096, c);			/* it grew */
	EXPECT_GE(2 * MiB + 64 * KiB, c * 64);	/* within the budget */
	/* The next round is served by the cache: no refill. */
	goalloc_cache_stats(self->a, &before);
	for (i = 0; i < 4096; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 64));
	goalloc_cache_stats(self->a, &after);
	EXPECT_EQ(before.refills, after.refills);
	for (i = 0; i < 4096; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(0, kobjects(self->fd));
	free(p);
}

static void *thread_body(void *arg)
{
	struct goalloc_arena *a = arg;
	void *p[500];
	unsigned int i;

	for (i = 0; i < 500; i++) {
		p[i] = goalloc_cached_alloc(a, 32 + (i % 4) * 100);
		if (!p[i])
			return (void *)1;
	}
	/* Half freed (into this thread's cache), half left for main to free. */
	for (i = 0; i < 500; i += 2)
		if (goalloc_cached_free(a, p[i]))
			return (void *)2;
	return p[1];
}

/* A thread's exit gives its cache back (the pthread key's destructor). */
TEST_F(cache, thread_exit_flushes)
{
	pthread_t t;
	void *ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, thread_body, self->a));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_LT((uintptr_t)2, (uintptr_t)ret);
	/* 250 live; the thread's cached objects went back at its exit. */
	EXPECT_EQ(0, cached(self->a));
	EXPECT_EQ(250, kobjects(self->fd));
	/* Freed by another thread: into main's cache, then back. */
	EXPECT_EQ(0, goalloc_cached_free(self->a, ret));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(249, kobjects(self->fd));
	ASSERT_EQ(0, goalloc_reset(self->a));
	EXPECT_EQ(0, kobjects(self->fd));
}

/* goalloc_close() gives every cache of the arena back. */
TEST_F(cache, close_flushes)
{
	void *p[100];
	unsigned int i;

	for (i = 0; i < 100; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 200));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	EXPECT_LT(0, kobjects(self->fd));
	goalloc_close(self->a);
	self->a = NULL;
	EXPECT_EQ(0, kobjects(self->fd));
}

/* A second free of an object in the cache: refused at the call. */
TEST_F(cache, double_free_in_cache)
{
	void *p, *q, *r;
	int res;
	__u64 k;

	ASSERT_NE(NULL, p = goalloc_cached_alloc(self->a, 64));
	ASSERT_EQ(0, goalloc_cached_free(self->a, p));
	k = kobjects(self->fd);
	errno = 0;
	EXPECT_EQ(-1, goalloc_cached_free(self->a, p));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(1, double_frees(self->a));
	/* The batch interface and free1 see it too. */
	EXPECT_EQ(-1, goalloc_free1(self->a, p));
	EXPECT_EQ(ENOENT, errno);
	res = 0;
	EXPECT_EQ(0, goalloc_free_batch(self->a, 1, &p, &res));
	EXPECT_EQ(-ENOENT, res);
	EXPECT_EQ(k, kobjects(self->fd));
	/* It is handed out once, not twice. */
	ASSERT_NE(NULL, q = goalloc_cached_alloc(self->a, 64));
	ASSERT_NE(NULL, r = goalloc_cached_alloc(self->a, 64));
	EXPECT_NE(q, r);
	EXPECT_EQ(p, q);
	EXPECT_EQ(0, goalloc_cached_free(self->a, q));
	EXPECT_EQ(0, goalloc_cached_free(self->a, r));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(0, kobjects(self->fd));
}

/* After the cache gave it back, the kernel refuses the second free. */
TEST_F(cache, double_free_after_flush)
{
	void *p;

	ASSERT_NE(NULL, p = goalloc_cached_alloc(self->a, 64));
	ASSERT_EQ(0, goalloc_cached_free(self->a, p));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(0, kobjects(self->fd));
	errno = 0;
	EXPECT_EQ(-1, goalloc_cached_free(self->a, p));
	EXPECT_EQ(ENOENT, errno);
	/* Garbage: inside an object, and outside the mapping. */
	ASSERT_NE(NULL, p = goalloc_cached_alloc(self->a, 64));
	EXPECT_EQ(-1, goalloc_cached_free(self->a, (char *)p + 8));
	EXPECT_EQ(EINVAL, errno);
	/* Inside its first 8 bytes: not taken for the object itself. */
	EXPECT_EQ(-1, goalloc_cached_free(self->a, (char *)p + 3));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, double_frees(self->a));
	EXPECT_EQ(-1, goalloc_cached_free(self->a, &errno));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, goalloc_cached_free(self->a, p));
}

/*
 * An object freed behind the cache's back (by offset, through another file
 * of the arena: the cache cannot see that) while it sits in the cache: the
 * kernel refuses it when the cache's batch goes back, and it is counted.
 */
TEST_F(cache, double_free_caught_at_flush)
{
	void *p;
	__u64 off, nfreed = 0;
	__s32 res = 1;

	ASSERT_NE(NULL, p = goalloc_cached_alloc(self->a, 64));
	ASSERT_EQ(0, goalloc_cached_free(self->a, p));
	off = goalloc_off(self->a, p);
	ASSERT_EQ(0, ga_free(self->fd, 1, &off, &res, &nfreed));
	EXPECT_EQ(1, nfreed);
	EXPECT_EQ(0, double_frees(self->a));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(1, double_frees(self->a));
	EXPECT_EQ(0, kobjects(self->fd));
}

/*
 * fork(): the child's caches are emptied, so it never hands out what the
 * parent has cached; its frees of inherited objects go to the kernel.
 */
TEST_F(cache, fork_child_own_cache)
{
	static void *parent[200], *child[200];
	void *live;
	int pfd[2], status;
	unsigned int i, j;
	pid_t pid;

	ASSERT_NE(NULL, live = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < 200; i++)
		ASSERT_NE(NULL, parent[i] = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, parent[i]));
	ASSERT_LE(200, cached(self->a));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char bad = 0;

		close(pfd[0]);
		if (cached(self->a))
			bad |= 1;
		for (i = 0; i < 200; i++) {
			child[i] = goalloc_cached_alloc(self->a, 64);
			if (!child[i])
				bad |= 2;
			for (j = 0; j < 200; j++)
				if (child[i] == parent[j])
					bad |= 4;
		}
		/* Inherited and live: the kernel frees it. */
		if (goalloc_cached_free(self->a, live))
			bad |= 8;
		/* And a second time: the kernel refuses it. */
		if (goalloc_cached_free(self->a, live) != -1 || errno != ENOENT)
			bad |= 16;
		if (write(pfd[1], &bad, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	{
		unsigned char bad = 0xff;

		ASSERT_EQ(1, read(pfd[0], &bad, 1));
		EXPECT_EQ(0, bad) TH_LOG("child: %#x", bad);
	}
	close(pfd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's cache is intact: its objects come out again. */
	for (i = 0; i < 200; i++) {
		void *q = goalloc_cached_alloc(self->a, 64);
		int found = 0;

		for (j = 0; j < 200; j++)
			found |= q == parent[j];
		EXPECT_TRUE(found) TH_LOG("#%u: %p not one of the parent's", i, q);
	}
}

/*
 * A killed process's cache: the kernel still counts the objects as
 * allocated, and a reset takes them back.
 */
TEST_F(cache, killed_process_reset)
{
	struct goalloc_stats st;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static void *p[300];
		unsigned int i;

		for (i = 0; i < 300; i++)
			if (!(p[i] = goalloc_cached_alloc(self->a, 128)))
				_exit(1);
		for (i = 0; i < 200; i++)
			if (goalloc_cached_free(self->a, p[i]))
				_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* 100 live and at least the 200 cached: nothing came back. */
	EXPECT_LE(300, kobjects(self->fd));
	ASSERT_EQ(0, goalloc_reset(self->a));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_EQ(0, st.spans);
}

/* ... and when the arena's last user goes, everything goes back too. */
TEST(killed_process_last_close)
{
	struct goalloc_stats st0, st;
	int pfd[2], status, fd;
	double end;
	pid_t pid;

	fd = ga_open();
	if (fd < 0 && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ga_stats(fd, &st0));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct goalloc_arena *a = goalloc_open(16 * MiB);
		static void *p[300];
		__u64 held;
		unsigned int k;

		close(pfd[0]);
		if (!a)
			_exit(1);
		for (k = 0; k < 300; k++)
			if (!(p[k] = goalloc_cached_alloc(a, 256)))
				_exit(1);
		for (k = 0; k < 300; k++)
			if (goalloc_cached_free(a, p[k]))
				_exit(1);
		held = kobjects(goalloc_fd(a));
		if (write(pfd[1], &held, sizeof(held)) != sizeof(held))
			_exit(1);
		pause();
		_exit(1);
	}
	close(pfd[1]);
	{
		__u64 held = 0;

		ASSERT_EQ(sizeof(held), read(pfd[0], &held, sizeof(held)));
		EXPECT_LE(300, held);
	}
	close(pfd[0]);
	ASSERT_EQ(0, ga_stats(fd, &st));
	/*
	 * The child's arena is open and holds its cached objects (held,
	 * above).  The heap's bytes in use are not compared here: the kernel
	 * pool's trim pass may give back more meanwhile than the child took.
	 */
	EXPECT_EQ(st0.arenas + 1, st.arenas);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* The arena ended with the process: its spans went back. */
	end = now_s() + 2;
	do {
		ASSERT_EQ(0, ga_stats(fd, &st));
		if (st.arenas == st0.arenas && st.heap_inuse_bytes <= st0.heap_inuse_bytes)
			break;
		usleep(10000);
	} while (now_s() < end);
	EXPECT_EQ(st0.arenas, st.arenas);
	EXPECT_GE(st0.heap_inuse_bytes, st.heap_inuse_bytes);
	close(fd);
}

/*
 * Another process (here: another file of the arena) resets it: the cache's
 * flush is refused whole (ESTALE), so the objects allocated after the reset
 * at the same offsets are not freed, and the stale stacks are dropped.
 */
TEST_F(cache, foreign_reset_frees_nothing)
{
	void *p[10];
	__u64 offs[10];
	unsigned int i;

	for (i = 0; i < 10; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 10, 0, offs));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(10, kobjects(self->fd));
	EXPECT_EQ(0, cached(self->a));
	/* A refill after it works on the new generation. */
	ASSERT_NE(NULL, p[0] = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < 10; i++)
		EXPECT_NE(goalloc_off(self->a, p[0]), offs[i]);
	EXPECT_EQ(0, goalloc_cached_free(self->a, p[0]));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(10, kobjects(self->fd));
	EXPECT_EQ(0, ga_free_all(self->fd, offs, 10));
}

/*
 * Threads pass objects to each other through shared slots and free what
 * they take out: every object keeps its owner's pattern until freed (none
 * is handed out twice), and when the threads are gone all is back.
 */
#define NSLOTS		64
#define NTHREADS	4
#define NITERS		4000

struct swap_ctx {
	struct goalloc_arena *a;
	void *slot[NSLOTS];
	int bad;
};

/* An object of @sz bytes: its size in its first 8, a pattern after. */
static void swap_fill(void *p, size_t sz)
{
	memcpy(p, &sz, sizeof(sz));
	fill((char *)p + 8, sz - 8, (uintptr_t)p);
}

static int swap_check(void *p)
{
	size_t sz;

	memcpy(&sz, p, sizeof(sz));
	return sz >= 16 && sz < 1024 && check((char *)p + 8, sz - 8, (uintptr_t)p) == -1;
}

static void *swap_body(void *arg)
{
	struct swap_ctx **pc = arg, *ctx = pc[0];
	unsigned int me = (unsigned int)(uintptr_t)pc[1], i, k;
	__u64 rnd = me * 7919 + 1;

	for (i = 0; i < NITERS; i++) {
		size_t sz;
		void *p, *old;

		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		sz = 16 + (rnd >> 33) % 500;
		k = (rnd >> 20) % NSLOTS;
		p = goalloc_cached_alloc(ctx->a, sz);
		if (!p) {
			__atomic_store_n(&ctx->bad, 1, __ATOMIC_RELAXED);
			break;
		}
		swap_fill(p, sz);
		old = __atomic_exchange_n(&ctx->slot[k], p, __ATOMIC_ACQ_REL);
		if (!old)
			continue;
		if (!swap_check(old))
			__atomic_store_n(&ctx->bad, 2, __ATOMIC_RELAXED);
		if (goalloc_cached_free(ctx->a, old))
			__atomic_store_n(&ctx->bad, 3, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(cache, threads_swap_objects)
{
	struct swap_ctx ctx = { .a = self->a };
	void *args[NTHREADS][2];
	pthread_t t[NTHREADS];
	unsigned int i;

	for (i = 0; i < NTHREADS; i++) {
		args[i][0] = &ctx;
		args[i][1] = (void *)(uintptr_t)i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, swap_body, args[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, ctx.bad);
	for (i = 0; i < NSLOTS; i++) {
		if (!ctx.slot[i])
			continue;
		EXPECT_TRUE(swap_check(ctx.slot[i]));
		EXPECT_EQ(0, goalloc_cached_free(self->a, ctx.slot[i]));
	}
	goalloc_cache_flush(self->a);
	EXPECT_EQ(0, kobjects(self->fd));
	EXPECT_EQ(0, double_frees(self->a));
}

/* goalloc_reset() drops the caches: nothing stale is handed out. */
TEST_F(cache, reset_drops_cache)
{
	void *p[50], *q;
	unsigned int i;

	for (i = 0; i < 50; i++)
		ASSERT_NE(NULL, p[i] = goalloc_cached_alloc(self->a, 64));
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, goalloc_cached_free(self->a, p[i]));
	ASSERT_EQ(0, goalloc_reset(self->a));
	EXPECT_EQ(0, cached(self->a));
	EXPECT_EQ(0, kobjects(self->fd));
	ASSERT_NE(NULL, q = goalloc_cached_alloc(self->a, 64));
	/* Allocated by the kernel again, and mapped: writable. */
	memset(q, 0xab, 64);
	EXPECT_EQ(1 + cached(self->a), kobjects(self->fd));
	EXPECT_EQ(0, goalloc_cached_free(self->a, q));
	goalloc_cache_flush(self->a);
	EXPECT_EQ(0, kobjects(self->fd));
}

/* ---- The ABI under the caches, raw. ---- */

FIXTURE(raw) {
	int fd;
	char *map;
	size_t maplen;
};

FIXTURE_SETUP(raw)
{
	self->map = NULL;
	self->fd = ga_open();
	if (self->fd < 0 && !module_loaded())
		SKIP(return, "goalloc.ko is not loaded");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ga_setup(self->fd, 4 * MiB, NULL));
	ASSERT_EQ(0, ga_map_all(self->fd, &self->map, &self->maplen));
}

FIXTURE_TEARDOWN(raw)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, self->maplen);
	if (self->fd >= 0)
		close(self->fd);
}

static int free_flags(int fd, __u32 flags, __u64 gen, __u64 n, const __u64 *offs,
		      __u64 *nfreed)
{
	struct goalloc_free f = {
		.argsz = sizeof(f), .flags = flags, .count = n,
		.offsets = (__u64)(uintptr_t)offs, .gen = gen, .nfreed = 77,
	};
	int ret = ioctl(fd, GOALLOC_IOC_FREE, &f) ? -errno : 0;

	*nfreed = f.nfreed;
	return ret;
}

/* ALLOC reports the slot size and the generation; FREE_GEN checks it. */
TEST_F(raw, alloc_outputs_and_free_gen)
{
	struct goalloc_alloc a = { .argsz = sizeof(a), .size = 100, .count = 2 };
	struct goalloc_stats st;
	__u64 offs[2], nfreed, gen;

	a.offsets = (__u64)(uintptr_t)offs;
	a.obj_size = a.gen = 12345;	/* output only */
	ASSERT_EQ(0, ioctl(self->fd, GOALLOC_IOC_ALLOC, &a));
	EXPECT_EQ(112, a.obj_size);	/* Go's class for 100 bytes */
	EXPECT_EQ(0, a.gen);
	gen = a.gen;
	/* The right generation: freed. */
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_GEN, gen, 1, offs, &nfreed));
	EXPECT_EQ(1, nfreed);
	ASSERT_EQ(0, ga_reset(self->fd));
	/* Across a reset: refused whole, nothing freed. */
	ASSERT_EQ(0, ga_alloc(self->fd, 100, 2, 0, offs));
	EXPECT_EQ(-ESTALE, free_flags(self->fd, GOALLOC_FREE_GEN, gen, 2, offs, &nfreed));
	EXPECT_EQ(0, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(2, st.objects);
	/* The new generation is 1; a large object's slot is its span. */
	a.size = 40000;
	a.count = 1;
	ASSERT_EQ(0, ioctl(self->fd, GOALLOC_IOC_ALLOC, &a));
	EXPECT_EQ(1, a.gen);
	EXPECT_EQ(5 * HPAGE, a.obj_size);
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_GEN, 1, 2, offs, &nfreed));
	EXPECT_EQ(2, nfreed);
	/* A caller of the first version gets nothing written back. */
	memset(&a, 0x5a, sizeof(a));
	memset(&a, 0, GOALLOC_ALLOC_SIZE_VER0);
	a.argsz = GOALLOC_ALLOC_SIZE_VER0;
	a.size = 64;
	a.count = 1;
	a.offsets = (__u64)(uintptr_t)offs;
	ASSERT_EQ(0, ioctl(self->fd, GOALLOC_IOC_ALLOC, &a));
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, a.obj_size);
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, a.gen);
	/* A plain FREE (no flag) frees it, whatever the generation. */
	EXPECT_EQ(0, ga_free_all(self->fd, offs, 1));
}

/* FREE_KEEP: an emptied span stays mapped and is reused. */
TEST_F(raw, free_keep_span)
{
	struct goalloc_stats st;
	__u64 off, off2[2], nfreed;

	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &off));
	self->map[off] = 1;
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, 1, &off, &nfreed));
	EXPECT_EQ(1, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.objects);
	EXPECT_EQ(1, st.spans);
	EXPECT_EQ(HPAGE, st.bytes_held);
	/* Still mapped: no SIGBUS, the arena's own memory. */
	EXPECT_NO_SIGNAL(touch_in_child(self->map + off, true));
	/* Reused: no new span. */
	ASSERT_EQ(0, ga_alloc(self->fd, 64, 1, 0, &off2[0]));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(1, st.spans);
	EXPECT_EQ(1, st.objects);
	/* Spans of two classes emptied under KEEP: both kept. */
	ASSERT_EQ(0, ga_alloc(self->fd, 2048, 1, 0, &off2[1]));
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, 2, off2, &nfreed));
	EXPECT_EQ(2, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(2, st.spans);
	EXPECT_EQ(0, st.objects);
	/* Without KEEP, the span's last free releases it and unmaps it. */
	ASSERT_EQ(0, ga_alloc(self->fd, 4096, 1, 0, &off));
	ASSERT_EQ(0, ga_free(self->fd, 1, &off, NULL, &nfreed));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(2, st.spans);
	EXPECT_SIGBUS(touch_in_child(self->map + off, false));
	/* A reset releases the kept ones. */
	ASSERT_EQ(0, ga_reset(self->fd));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_SIGBUS(touch_in_child(self->map + off2[1], false));
}

#define PARAM_KEEP	MODULE_DIR "/parameters/user_keep_bytes"

/* The arena's keep budget, bytes: a quarter of the cap, at most the parameter. */
static __u64 keep_budget(__u64 cap)
{
	char buf[64] = "";
	int fd = open(PARAM_KEEP, O_RDONLY);
	__u64 param = 64 * MiB;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			param = strtoull(buf, NULL, 0);
		close(fd);
	}
	return param < cap / 4 ? param : cap / 4;
}

/* Fill @n objects of @size, each tagged at its first byte; 0 or -errno. */
static int fill_tagged(int fd, char *map, __u64 size, __u64 n, __u64 *offs)
{
	int err = ga_alloc(fd, size, n, 0, offs);
	__u64 i;

	if (err)
		return err;
	for (i = 0; i < n; i++)
		map[offs[i]] = (char)i;
	return 0;
}

/*
 * Does the arena hold no object and exactly the keep budget's worth of
 * kept spans of @span_bytes?  0 if so; else -1, with what it holds.
 */
static int kept_budget_only(int fd, __u64 budget, __u64 span_bytes)
{
	struct goalloc_stats st;

	if (ga_stats(fd, &st))
		return -1;
	if (!st.objects && st.spans == budget / span_bytes &&
	    st.bytes_held == budget / span_bytes * span_bytes)
		return 0;
	fprintf(stderr, "# kept: %llu objects, %llu spans, %llu bytes; budget %llu, spans of %llu\n",
		(unsigned long long)st.objects, (unsigned long long)st.spans,
		(unsigned long long)st.bytes_held, (unsigned long long)budget,
		(unsigned long long)span_bytes);
	return -1;
}

/*
 * FREE_KEEP keeps emptied spans up to the arena's budget, and a fill after
 * a drain takes them again; past the budget spans go back as without KEEP.
 * An allocation that needs their room (the cap) gets it: kept spans make way.
 */
TEST_F(raw, free_keep_budget)
{
	const __u64 size = 4096, cap = 4 * MiB;
	__u64 budget = keep_budget(cap), span_bytes, nspans, n, nfreed, big;
	struct goalloc_stats st;
	__u64 *offs;

	ASSERT_LT(0, budget) TH_LOG("user_keep_bytes is 0: nothing to test");
	/* One span's worth first, to learn the class's span size. */
	offs = calloc(65536, sizeof(*offs));
	ASSERT_NE(NULL, offs);
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, 1, offs));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	span_bytes = st.bytes_held;
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 1));
	/* Spans for the budget and 8 more, within the cap. */
	nspans = budget / span_bytes + 8;
	n = nspans * (span_bytes / size);
	ASSERT_LE(nspans * span_bytes, cap / 2);
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, n, offs));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	ASSERT_EQ(nspans, st.spans);
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, n, offs, &nfreed));
	EXPECT_EQ(n, nfreed);
	/* The budget's worth kept, to the span; the rest went back. */
	EXPECT_EQ(0, kept_budget_only(self->fd, budget, span_bytes));
	/* A kept span is still mapped, with what the objects left in it. */
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs[0], true));
	/* The next fill reuses every kept span: only 8 new ones. */
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, n, offs));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(nspans, st.spans);
	EXPECT_EQ(n, st.objects);
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, n, offs, &nfreed));
	EXPECT_EQ(n, nfreed);
	/* A large object that fits only where the kept spans are: they make way. */
	big = cap - budget / 2;
	ASSERT_EQ(0, ga_alloc(self->fd, big, 1, 0, &offs[0]));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(1, st.spans);
	EXPECT_EQ(1, st.objects);
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 1));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(0, st.bytes_held);
	free(offs);
}

/*
 * Past the budget, the class that kept spans least recently gives them back
 * first: a drain of a new working set (4 KiB objects) keeps the budget's
 * worth, and the older one's kept spans (1 KiB) make way; those of the
 * class being drained are never released for their own class's sake.
 */
TEST_F(raw, free_keep_coldest_first)
{
	const __u64 cap = 4 * MiB, old_size = 1024, size = 4096;
	__u64 budget = keep_budget(cap), span_bytes, nspans, n, n_old, nfreed;
	__u64 *offs, *offs_old;
	struct goalloc_stats st;

	ASSERT_LT(0, budget) TH_LOG("user_keep_bytes is 0: nothing to test");
	offs = calloc(65536, sizeof(*offs));
	offs_old = calloc(65536, sizeof(*offs_old));
	ASSERT_NE(NULL, offs);
	ASSERT_NE(NULL, offs_old);
	/* The new class's span size. */
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, 1, offs));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	span_bytes = st.bytes_held;
	ASSERT_EQ(0, ga_free_all(self->fd, offs, 1));
	/* Half the budget of the old class, kept. */
	n_old = budget / 2 / old_size;
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, old_size, n_old, offs_old));
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, n_old, offs_old, &nfreed));
	ASSERT_EQ(n_old, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	ASSERT_LT(0, st.spans);
	ASSERT_GE(budget / 2 + span_bytes, st.bytes_held);
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs_old[0], false));
	/* The new class, the budget's worth and 4 spans more, drained. */
	nspans = budget / span_bytes + 4;
	n = nspans * (span_bytes / size);
	ASSERT_LE(nspans * span_bytes + budget, cap);
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, n, offs));
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, n, offs, &nfreed));
	ASSERT_EQ(n, nfreed);
	/* All kept spans are the new class's now: the budget's worth. */
	EXPECT_EQ(0, kept_budget_only(self->fd, budget, span_bytes));
	EXPECT_SIGBUS(touch_in_child(self->map + offs_old[0], false));
	/* The next fill takes them again: no new span. */
	ASSERT_EQ(0, fill_tagged(self->fd, self->map, size, budget / size, offs));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(budget / span_bytes, st.spans);
	ASSERT_EQ(0, ga_free_all(self->fd, offs, budget / size));
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.spans);
	free(offs_old);
	free(offs);
}

/* Under memory pressure (drop_caches runs every shrinker) kept spans go back. */
TEST_F(raw, free_keep_shrinker)
{
	struct goalloc_stats st;
	__u64 offs[64], nfreed;
	int fd;

	ASSERT_EQ(0, fill_tagged(self->fd, self->map, 4096, 64, offs));
	ASSERT_EQ(0, free_flags(self->fd, GOALLOC_FREE_KEEP, 0, 64, offs, &nfreed));
	ASSERT_EQ(64, nfreed);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	ASSERT_LT(0, st.spans);
	EXPECT_NO_SIGNAL(touch_in_child(self->map + offs[0], false));
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		SKIP(return, "cannot write drop_caches: %s", strerror(errno));
	ASSERT_EQ(2, write(fd, "2\n", 2));
	close(fd);
	ASSERT_EQ(0, ga_stats(self->fd, &st));
	EXPECT_EQ(0, st.spans);
	EXPECT_EQ(0, st.bytes_held);
	EXPECT_SIGBUS(touch_in_child(self->map + offs[0], false));
}

TEST_HARNESS_MAIN
