// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the page heap (kmod/mheap.c) at its racy points, the span map
 * growing for memory it did not cover at load, and the shrinker's count.
 *
 * The tests use the global heap.  Each starts from a heap with no idle
 * chunk (what the shrinker would leave) and gives back every page it took,
 * checking the heap's counters against their values at its start.  None
 * waits for the scavenger: its pending pass is run first, and the rest is
 * driven by the test's own calls.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/sched.h>
#include <linux/shrinker.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"

/* What GOALLOC_HOOK_HEAP_GROWN does to the new pages. */
enum thief_mode {
	THIEF_RELEASE,	/* the scavenger or the shrinker releases idle chunks */
	THIEF_ALLOC,	/* another CPU allocates the same run */
};

#define THIEF_MAX	8

static struct {
	struct task_struct *task;
	enum thief_mode mode;
	unsigned int npages;
	bool inside;
	unsigned int calls;
	unsigned long released;
	unsigned int nstolen;
	struct goalloc_span *stolen[THIEF_MAX];
} thief;

/* Runs right after a grow published its pages and dropped the heap lock. */
static void __maybe_unused thief_fn(void *arg)
{
	struct goalloc_span *s;

	/* Only the test's own allocation, and not the thief's own grows. */
	if (current != thief.task || arg != &goalloc_heap.kernel || thief.inside)
		return;
	thief.inside = true;
	thief.calls++;
	switch (thief.mode) {
	case THIEF_RELEASE:
		thief.released += goalloc_heap_release(0);
		break;
	case THIEF_ALLOC:
		if (thief.nstolen == THIEF_MAX)
			break;
		s = goalloc_heap_alloc_span(0, thief.npages, 1, NUMA_NO_NODE,
					    GOALLOC_SPAN_ARENA, GFP_NOWAIT | __GFP_NOWARN);
		if (s)
			thief.stolen[thief.nstolen++] = s;
		break;
	}
	thief.inside = false;
}

static void heap_put(struct goalloc_span *s)
{
	if (!s)
		return;
	goalloc_span_kill(s);
	goalloc_heap_free_span(s);
}

/* No idle chunk, no kept empty span, no scavenger pass pending. */
static void heap_quiesce(void)
{
	goalloc_scavenger_flush();
	goalloc_central_release_kept();
	goalloc_heap_release(0);
}

/* Is @s in the span map at each of its pages? */
static bool __maybe_unused span_mapped(struct goalloc_span *s)
{
	bool ok = true;
	unsigned long i;

	rcu_read_lock();
	for (i = 0; i < s->npages; i++)
		ok &= goalloc_span_of((void *)(s->base + i * GOALLOC_PAGE_SIZE)) == s;
	rcu_read_unlock();
	return ok;
}

/*
 * Allocate a whole-chunk span while the hook takes the pages of each grow
 * before the allocation can use them.  A whole chunk fits no chunk the heap
 * holds once idle ones are gone, so every attempt must grow.
 */
static void grow_race(struct kunit *test, enum thief_mode mode, gfp_t gfp)
{
#ifdef GOALLOC_TEST_HOOKS
	unsigned long inuse0;
	struct goalloc_span *s;
	unsigned int i;

	heap_quiesce();
	inuse0 = READ_ONCE(goalloc_heap.pages_inuse);
	memset(&thief, 0, sizeof(thief));
	thief.task = current;
	thief.mode = mode;
	thief.npages = GOALLOC_CHUNK_PAGES;
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_HEAP_GROWN], thief_fn);
	s = goalloc_heap_alloc_span(0, GOALLOC_CHUNK_PAGES, 1, NUMA_NO_NODE,
				    GOALLOC_SPAN_ARENA, gfp);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_HEAP_GROWN], NULL);
	/* The hook ran, so the race was forced, not hoped for. */
	KUNIT_EXPECT_GE(test, thief.calls, 1U);
	KUNIT_EXPECT_NOT_NULL_MSG(test, s, "grow lost its pages %u times (released %lu, stolen %u)",
				  thief.calls, thief.released, thief.nstolen);
	if (s) {
		KUNIT_EXPECT_EQ(test, s->npages, (u32)GOALLOC_CHUNK_PAGES);
		KUNIT_EXPECT_TRUE(test, span_mapped(s));
		/* All of its memory is usable. */
		goalloc_kasan_unpoison((void *)s->base, GOALLOC_CHUNK_SIZE);
		memset((void *)s->base, 0x5a, GOALLOC_CHUNK_SIZE);
		KUNIT_EXPECT_EQ(test, ((u8 *)s->base)[GOALLOC_CHUNK_SIZE - 1], 0x5a);
	}
	heap_put(s);
	for (i = 0; i < thief.nstolen; i++)
		heap_put(thief.stolen[i]);
	heap_quiesce();
	/* Every page taken went back. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_inuse), inuse0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_idle), 0UL);
#else
	kunit_skip(test, "built without GOALLOC_TEST_HOOKS");
#endif
}

/* The scavenger or the shrinker releases each new chunk before it is used. */
static void grow_race_scavenged(struct kunit *test)
{
	grow_race(test, THIEF_RELEASE, GFP_KERNEL);
}

/* Another CPU takes each new chunk first; __GFP_NOFAIL must still succeed. */
static void grow_race_nofail(struct kunit *test)
{
	grow_race(test, THIEF_ALLOC, GFP_KERNEL | __GFP_NOFAIL);
}

/*
 * Memory above the span map's table, as memory hot-added after load is:
 * with the heap empty, the table is cut to nothing, so every chunk the
 * buddy allocator gives lies above it.  The heap must grow the table and
 * use the memory.
 */
static void span_map_grows_for_new_memory(struct kunit *test)
{
	struct goalloc_span_map *map;
	unsigned long n0, grows0, grows;
	struct goalloc_span *s;
	void *p;

	heap_quiesce();
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	heap_quiesce();
	if (READ_ONCE(goalloc_heap.nchunks))
		kunit_skip(test, "the heap holds %lu chunks: cannot cut the span map",
			   READ_ONCE(goalloc_heap.nchunks));
	rcu_read_lock();
	n0 = rcu_dereference(goalloc_span_map)->nregions;
	rcu_read_unlock();
	grows0 = READ_ONCE(goalloc_heap.map_grows);
	KUNIT_ASSERT_EQ(test, goalloc_span_map_resize(0, GFP_KERNEL), 0);

	s = goalloc_heap_alloc_span(0, 3, 1, NUMA_NO_NODE, GOALLOC_SPAN_ARENA, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, s);
	p = goalloc_alloc(100, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, p);
	rcu_read_lock();
	map = rcu_dereference(goalloc_span_map);
	if (s) {
		KUNIT_EXPECT_GT(test, map->nregions, __pa(s->base) >> GOALLOC_CHUNK_SHIFT);
		KUNIT_EXPECT_TRUE(test, s == goalloc_span_of((void *)s->base));
	}
	if (p)
		KUNIT_EXPECT_NOT_NULL(test, goalloc_span_of(p));
	rcu_read_unlock();
	grows = READ_ONCE(goalloc_heap.map_grows);
	KUNIT_EXPECT_GT(test, grows, grows0);
	heap_put(s);
	goalloc_free(p);
	/* Back to a table at least as large as at the start. */
	rcu_read_lock();
	map = rcu_dereference(goalloc_span_map);
	if (map->nregions < n0) {
		rcu_read_unlock();
		KUNIT_EXPECT_EQ(test, goalloc_span_map_resize(n0, GFP_KERNEL), 0);
	} else {
		rcu_read_unlock();
	}
	/* Lookups of memory goalloc does not hold still fail cleanly. */
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, goalloc_span_of(&thief));
	rcu_read_unlock();
}

/*
 * The shrinker counts only what a scan can give back, and a scan drains
 * the CPUs' caches only when a cached span holds no object: a span with a
 * live object stays in the heap however it is drained.
 */
static void shrinker_counts_only_what_it_can_free(struct kunit *test)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = 1024 };
	unsigned long inuse0, scavenged0, sys_pages;
	struct goalloc_span *s;
	unsigned int state;
	void *p;

	heap_quiesce();
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	heap_quiesce();
	inuse0 = READ_ONCE(goalloc_heap.pages_inuse);
	p = goalloc_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	KUNIT_ASSERT_NOT_NULL(test, s);
	sys_pages = (unsigned long)s->npages * (GOALLOC_PAGE_SIZE / PAGE_SIZE);
	state = READ_ONCE(s->state);
	KUNIT_EXPECT_EQ(test, state, (unsigned int)GOALLOC_SPAN_CACHED);

	/* One cached span with a live object, nothing idle: nothing to gain. */
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	/* And no CPU was drained for it: the span is still cached. */
	state = READ_ONCE(s->state);
	KUNIT_EXPECT_EQ(test, state, (unsigned int)GOALLOC_SPAN_CACHED);

	/* With the object freed, the span is worth a drain. */
	goalloc_free(p);
	KUNIT_EXPECT_GE(test, goalloc_shrink_count(NULL, &sc), sys_pages);
	scavenged0 = goalloc_counter(GOALLOC_CTR_RELEASED_PAGES);
	KUNIT_EXPECT_NE(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	/* Drained, and its pages went back (by the scan or a scavenger pass). */
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), 0L);
	KUNIT_EXPECT_GE(test, goalloc_counter(GOALLOC_CTR_RELEASED_PAGES) - scavenged0,
			(long)sys_pages);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_inuse), inuse0);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
}

static void heap_test_exit(struct kunit *test)
{
#ifdef GOALLOC_TEST_HOOKS
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_HEAP_GROWN], NULL);
#endif
}

static struct kunit_case heap_cases[] = {
	KUNIT_CASE(grow_race_scavenged),
	KUNIT_CASE(grow_race_nofail),
	KUNIT_CASE(span_map_grows_for_new_memory),
	KUNIT_CASE(shrinker_counts_only_what_it_can_free),
	{}
};

static struct kunit_suite heap_suite = {
	.name = "goalloc_heap",
	.exit = heap_test_exit,
	.test_cases = heap_cases,
};

kunit_test_suite(heap_suite);
