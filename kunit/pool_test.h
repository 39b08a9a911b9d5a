/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: a heap pool of a test's own (as Go's tests make a pageAlloc of
 * their own): its chunks hold only the test's spans, so the test can check
 * the heap's layout and counters exactly, whatever the rest of goalloc
 * holds, and no trim pass or shrinker touches them.  The pool is given back
 * when the test ends, whether it passed or not.
 */
#ifndef _GOALLOC_POOL_TEST_H
#define _GOALLOC_POOL_TEST_H

#include <kunit/resource.h>
#include <kunit/test.h>

#include "mheap.h"

static void __maybe_unused test_pool_trim_action(void *pool)
{
	goalloc_pool_trim(pool, 0);
}

/* A new empty pool with @policy, trimmed to nothing at the test's end. */
static inline struct goalloc_pool *test_pool_create(struct kunit *test,
						    const struct goalloc_pool_policy *policy)
{
	struct goalloc_pool *pool = kunit_kzalloc(test, sizeof(*pool), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pool);
	goalloc_pool_init(pool, policy);
	/* Registered after the allocation, so run before it is freed. */
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, test_pool_trim_action, pool));
	return pool;
}

/* The test gave back every span: the pool must then give back every chunk. */
static inline void test_pool_check_empty(struct kunit *test, struct goalloc_pool *pool)
{
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 0UL);
	goalloc_pool_trim(pool, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 0UL);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool->chunks));
}

/*
 * The node of a test pool's spans: one node whatever CPU the case runs on,
 * so that its spans share chunks on a machine of several nodes (an
 * unpinned case may migrate between them).  A pool with page caches is used
 * from pinned CPUs (work_on_cpu(), timers) and asks for each CPU's own.
 */
static inline int test_pool_node(const struct goalloc_pool *pool)
{
	return pool->pcache ? NUMA_NO_NODE : first_memory_node;
}

/* A span of @npages heap pages aligned to @align, for the test's own use. */
static inline struct goalloc_span *test_pool_span(struct goalloc_pool *pool,
						  unsigned int npages, unsigned int align)
{
	return goalloc_pool_alloc_span(pool, 0, npages, align, test_pool_node(pool),
				       GOALLOC_SPAN_ARENA, GFP_KERNEL);
}

/*
 * The heap's pages in spans, all pools: its pages in use less those the
 * CPUs' page caches hold.  Exact while nothing else allocates.
 */
static inline unsigned long __maybe_unused test_heap_span_pages(void)
{
	return READ_ONCE(goalloc_heap.pages_inuse) - goalloc_heap_pcache_pages();
}

static unsigned int test_trim_delay_ms;

static void __maybe_unused test_trim_release_action(void *unused)
{
	WRITE_ONCE(goalloc_heap_trim.delay_ms, test_trim_delay_ms);
	/* What the test asked for runs now rather than a delay later. */
	goalloc_heap_trim_flush();
}

/*
 * Hold the trim pass for the rest of the test: run the pending one now and
 * queue later ones an hour away, so that none runs behind the test's back
 * (the test runs it itself with goalloc_heap_trim_flush()).  The delay is
 * put back, and a pass queued meanwhile run, when the test ends.
 */
static inline void test_trim_hold(struct kunit *test)
{
	goalloc_heap_trim_flush();
	test_trim_delay_ms = READ_ONCE(goalloc_heap_trim.delay_ms);
	WRITE_ONCE(goalloc_heap_trim.delay_ms, 3600 * 1000);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, test_trim_release_action, NULL));
}

#endif /* _GOALLOC_POOL_TEST_H */
