// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the page heap (kmod/mheap.c) on a pool of the test's own
 * (pool_test.h): the layout of runs and their coalescing, exact-fit pools,
 * what an idle chunk becomes, the span map, the heap's racy points, and
 * the span map growing for memory it did not cover at load.
 *
 * Every test but the last runs on its own pool, so it checks the layout
 * and the pool's counters exactly: no other span can sit in its chunks, and
 * no trim pass or shrinker releases them.
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/sched.h>
#include <linux/workqueue.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"
#include "pool_test.h"

/* The retention goal of the tests' retaining pools, in percent. */
static unsigned int test_retain_percent;

/* Idle chunks go back at once (a goal of 0 % of what is in use). */
static const struct goalloc_pool_policy retaining = {
	.retain_percent = &test_retain_percent,
	.grow_min_order = GOALLOC_CHUNK_ORDER - 3,
};

/* Chunks from two heap pages: a span above that is above the pool's step. */
static const struct goalloc_pool_policy stepped = {
	.retain_percent = &test_retain_percent,
	.grow_min_order = GOALLOC_MIN_CHUNK_ORDER + 1,
};

/* A user arena's policy (uarena.c), charging the test's own memcg. */
static const struct goalloc_pool_policy exact = {
	.charge = true,
	.exact_fit = true,
	.keep_chunk_pages = 2,
};

/* What GOALLOC_HOOK_HEAP_GROWN does to the new pages. */
enum thief_mode {
	THIEF_RELEASE,	/* the scavenger or the shrinker releases idle chunks */
	THIEF_ALLOC,	/* another CPU allocates the same run */
};

#define THIEF_MAX	8

static struct {
	struct task_struct *task;
	struct goalloc_pool *pool;
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
	if (current != thief.task || arg != thief.pool || thief.inside)
		return;
	thief.inside = true;
	thief.calls++;
	switch (thief.mode) {
	case THIEF_RELEASE:
		thief.released += goalloc_pool_trim(thief.pool, 0);
		break;
	case THIEF_ALLOC:
		if (thief.nstolen == THIEF_MAX)
			break;
		s = goalloc_pool_alloc_span(thief.pool, 0, thief.npages, 1,
					    test_pool_node(thief.pool), GOALLOC_SPAN_ARENA,
					    GFP_NOWAIT | __GFP_NOWARN);
		if (s)
			thief.stolen[thief.nstolen++] = s;
		break;
	}
	thief.inside = false;
}

static void heap_put(struct goalloc_span *s)
{
	if (s)
		goalloc_heap_put_span(s);
}

/* Is @s in the span map at each of its pages? */
static bool span_mapped(struct goalloc_span *s)
{
	bool ok = true;
	unsigned long i;

	rcu_read_lock();
	for (i = 0; i < s->npages; i++)
		ok &= goalloc_span_of((void *)(s->base + i * GOALLOC_PAGE_SIZE)) == s;
	rcu_read_unlock();
	return ok;
}

/* The summary of @ch (its longest free run), read under the heap lock. */
static unsigned int chunk_max_run(struct goalloc_chunk *ch)
{
	unsigned long flags;
	unsigned int run;

	spin_lock_irqsave(&goalloc_heap.lock, flags);
	run = ch->max_run;
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	return run;
}

/*
 * The first size class whose own span is three heap pages and whose small
 * span (rule 7) is one: 2,304 bytes with 8 KiB heap pages, 1,152 with 4 KiB.
 */
static unsigned int three_page_class(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOALLOC_NUM_CLASSES; cls++)
		if (goalloc_class_info[cls].npages == 3 &&
		    goalloc_class_info[cls].small_npages == 1)
			return cls;
	KUNIT_FAIL(test, "no class of three heap pages with a small shape of one");
	return 0;
}

/* First fit, alignment, and freed runs coalescing with their neighbours. */
static void mheap_runs_coalesce(struct kunit *test)
{
	struct goalloc_pool *pool;
	struct goalloc_span *a, *b, *c, *d, *e;
	struct goalloc_chunk *ch;
	unsigned long base;

	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	a = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ch = a->chunk;
	base = ch->base;
	/* The pool's first chunk: a starts it, and there is room for all. */
	KUNIT_EXPECT_EQ(test, a->base, base);
	KUNIT_ASSERT_GE(test, ch->npages, 32);
	b = test_pool_span(pool, 5, 1);
	c = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_PTR_EQ(test, b->chunk, ch);
	KUNIT_EXPECT_PTR_EQ(test, c->chunk, ch);
	KUNIT_EXPECT_EQ(test, b->base, base + 3 * GOALLOC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, c->base, base + 8 * GOALLOC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 11UL);
	KUNIT_EXPECT_EQ(test, chunk_max_run(ch), ch->npages - 11U);

	/* Free b: the next 5-page run takes its place (first fit)... */
	heap_put(b);
	d = test_pool_span(pool, 5, 1);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_EQ(test, d->base, base + 3 * GOALLOC_PAGE_SIZE);
	/* ... and so does a 4-page run: first fit, not best fit. */
	heap_put(d);
	e = test_pool_span(pool, 4, 1);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->base, base + 3 * GOALLOC_PAGE_SIZE);
	heap_put(e);
	/* Freeing a coalesces 8 pages in front of c: an 8-page run fits there. */
	heap_put(a);
	KUNIT_EXPECT_EQ(test, chunk_max_run(ch), ch->npages - 11U);
	e = test_pool_span(pool, 8, 1);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_EQ(test, e->base, base);

	/* Alignment: a 16-page run aligned to 16 pages skips pages 11..15. */
	d = test_pool_span(pool, 16, 16);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_EQ(test, (d->base - base) % (16 * GOALLOC_PAGE_SIZE), 0UL);
	KUNIT_EXPECT_EQ(test, d->base, base + 16 * GOALLOC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 27UL);
	heap_put(c);
	heap_put(d);
	/* Only e is left: the rest is one run again. */
	KUNIT_EXPECT_EQ(test, chunk_max_run(ch), ch->npages - 8U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	heap_put(e);
	/* Idle, beyond a goal of 0 %: gone at once. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 0UL);
	test_pool_check_empty(test, pool);
}

/*
 * An exact-fit pool (a user arena's): each chunk is cut to its span, one
 * idle chunk of at most keep_chunk_pages is kept, and it serves only a
 * span of its own size.
 */
static void mheap_exact_fit(struct kunit *test)
{
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	unsigned long user0 = READ_ONCE(goalloc_heap.user_pages);
	struct goalloc_span *s1, *s2, *s3;
	struct goalloc_chunk *ch2;
	struct goalloc_pool *pool;

	pool = test_pool_create(test, &exact);
	s3 = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, s3);
	/* A 32 KiB block, cut to the span's 24 KiB. */
	KUNIT_EXPECT_EQ(test, s3->chunk->npages, 3);
	KUNIT_EXPECT_EQ(test, s3->chunk->order, (unsigned int)get_order(4 * GOALLOC_PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, s3->base, s3->chunk->base);
	s2 = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, s2);
	ch2 = s2->chunk;
	KUNIT_EXPECT_EQ(test, ch2->npages, 2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 5UL);
	/* Its pages count as user pages in the heap's totals. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.user_pages), user0 + 5);

	/* A small chunk gone idle is kept... */
	heap_put(s2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 2UL);
	/* ... but a smaller span does not take part of it... */
	s1 = test_pool_span(pool, 1, 1);
	KUNIT_ASSERT_NOT_NULL(test, s1);
	KUNIT_EXPECT_PTR_NE(test, s1->chunk, ch2);
	KUNIT_EXPECT_EQ(test, s1->chunk->npages, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	/* ... while one of its size does. */
	s2 = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, s2);
	KUNIT_EXPECT_PTR_EQ(test, s2->chunk, ch2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);

	/* A chunk larger than keep_chunk_pages goes back as soon as it is idle. */
	heap_put(s3);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 3UL);
	/* One small idle chunk is kept, a second goes back. */
	heap_put(s1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 1UL);
	heap_put(s2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	/* The owner's trim gives the kept one back: one heap page. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, 0), per);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.user_pages), user0);
	test_pool_check_empty(test, pool);
}

/*
 * A span above the pool's step (a large object's, an arena's) grows a
 * block cut to it: the rest goes back to the buddy allocator at once, and
 * the chunk's pages go back one by one with the span.  A size class's span
 * keeps the whole block, for the spans that follow.  Steps of two heap
 * pages: three pages take a block of four.
 */
static void mheap_large_cut_to_fit(struct kunit *test)
{
	unsigned int cls = three_page_class(test), spc = goalloc_spc(cls, false);
	struct goalloc_span *s, *t;
	struct goalloc_pool *pool;

	KUNIT_ASSERT_NE(test, cls, 0U);
	test_retain_percent = 0;
	pool = test_pool_create(test, &stepped);
	s = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->chunk->order, (unsigned int)get_order(4 * GOALLOC_PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, s->chunk->npages, 3);
	KUNIT_EXPECT_TRUE(test, s->chunk->split);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 3UL);
	KUNIT_EXPECT_TRUE(test, span_mapped(s));
	/* A span of the same size needs a chunk of its own. */
	t = test_pool_span(pool, 1, 1);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_PTR_NE(test, t->chunk, s->chunk);
	heap_put(t);
	heap_put(s);
	test_pool_check_empty(test, pool);

	/* A class's span of three pages: the block of four stays whole. */
	s = goalloc_pool_alloc_span(pool, spc, 0, goalloc_spc_align(spc), test_pool_node(pool),
				    GOALLOC_SPAN_NEW, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->npages, 3);
	KUNIT_EXPECT_EQ(test, s->chunk->npages, 4);
	KUNIT_EXPECT_FALSE(test, s->chunk->split);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 4UL);
	heap_put(s);
	test_pool_check_empty(test, pool);
}

/*
 * A span of a class's own shape for which the pool has room, but none in a
 * row, takes the class's small shape in that room instead of growing the
 * pool (goalloc_pool_alloc_span_or()); without a fallback the pool grows.
 * Chunks of two heap pages, each with one page free; a class of three
 * pages, or one (three_page_class()).
 */
static void mheap_fallback_fits_room(struct kunit *test)
{
	unsigned int cls = three_page_class(test), spc = goalloc_spc(cls, false);
	const struct goalloc_class_info *c = &goalloc_class_info[cls];
	struct goalloc_span *s[4], *t, *u;
	struct goalloc_pool *pool;
	unsigned int i;

	KUNIT_ASSERT_NE(test, cls, 0U);
	test_retain_percent = 100;
	pool = test_pool_create(test, &stepped);
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = test_pool_span(pool, 1, 1);
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
	}
	KUNIT_ASSERT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	/* One page free in each chunk. */
	heap_put(s[0]);
	heap_put(s[2]);
	KUNIT_ASSERT_EQ(test, READ_ONCE(pool->pages_held) - READ_ONCE(pool->pages_inuse), 2UL);

	t = goalloc_pool_alloc_span_or(pool, spc, 0, c->small_npages, goalloc_spc_align(spc),
				       test_pool_node(pool), GOALLOC_SPAN_NEW, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, (unsigned int)t->npages, 1U);
	KUNIT_EXPECT_EQ(test, (unsigned int)t->nelems, (unsigned int)(GOALLOC_PAGE_SIZE / c->size));
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	KUNIT_EXPECT_TRUE(test, span_mapped(t));
	/* No fallback: the own shape, in a chunk of its own. */
	u = goalloc_pool_alloc_span_or(pool, spc, 0, 0, goalloc_spc_align(spc),
				       test_pool_node(pool), GOALLOC_SPAN_NEW, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u);
	KUNIT_EXPECT_EQ(test, (unsigned int)u->npages, 3U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	heap_put(u);
	heap_put(t);
	heap_put(s[1]);
	heap_put(s[3]);
	test_retain_percent = 0;
	test_pool_check_empty(test, pool);
}

/*
 * A retaining pool keeps idle chunks up to its goal and gives back a chunk
 * that goes idle beyond it at once; goalloc_pool_trim() releases down to
 * what it is told to keep.  Spans of 16 heap pages each fill a chunk of
 * their own (grow_min_order is their order).
 */
static void mheap_release(struct kunit *test)
{
	static const struct goalloc_pool_policy one_span_chunks = {
		.retain_percent = &test_retain_percent,
		.grow_min_order = GOALLOC_PAGE_SHIFT + 4 - PAGE_SHIFT,
	};
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	unsigned long released0, idle0;
	struct goalloc_span *s[4];
	struct goalloc_pool *pool;
	unsigned int i;

	/*
	 * The kernel pool's own trim pass, which earlier cases' frees may
	 * have queued, would move the global counters meanwhile: held off.
	 */
	test_trim_hold(test);
	released0 = goalloc_counter(GOALLOC_CTR_RELEASED_PAGES);
	idle0 = READ_ONCE(goalloc_heap.pages_idle);
	test_retain_percent = 50;
	pool = test_pool_create(test, &one_span_chunks);
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = test_pool_span(pool, 16, 1);
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
		KUNIT_EXPECT_EQ(test, s[i]->chunk->npages, 16);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 4UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 64UL);

	/* 16 idle, goal 48 * 50 % = 24: kept. */
	heap_put(s[0]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 4UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 16UL);
	/* 32 idle, goal 32 * 50 % = 16: the chunk goes back at once. */
	heap_put(s[1]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 16UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 48UL);
	/* A trim that may keep what is idle releases nothing... */
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, 16), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	/* ... one that may keep nothing, the idle chunk. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, 0), 16 * per);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	/* The idle chunk is reused before the pool grows. */
	s[0] = test_pool_span(pool, 16, 1);
	KUNIT_ASSERT_NOT_NULL(test, s[0]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	heap_put(s[0]);
	s[1] = test_pool_span(pool, 16, 1);
	KUNIT_ASSERT_NOT_NULL(test, s[1]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 3UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	/* 16 idle, goal 16: kept; then 32 idle, goal 8, and 32, goal 0: released. */
	for (i = 1; i < ARRAY_SIZE(s); i++)
		heap_put(s[i]);
	/* The chunk kept while the goal allowed it stays until a trim. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 16UL);
	/* A private pool is none of the trim pass's business. */
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_RELEASED_PAGES), released0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_idle), idle0);
	test_pool_check_empty(test, pool);
}

/*
 * The grow step: a 64th of the pool's peak while it grows past it, a 32nd
 * of the peak while it grows back below it, and from what it holds again
 * after a trim.  Spans of four heap pages in a pool whose chunks may be as
 * small as one heap page: past 1,024 heap pages (1,024 * per PAGE_SIZE
 * pages) a grow takes a 64th of that, 16 heap pages; emptied (every chunk
 * released at once), a 32nd, 32 heap pages; after a trim, the span's own
 * block.
 */
static void mheap_grow_steps(struct kunit *test)
{
	static const struct goalloc_pool_policy small_steps = {
		.retain_percent = &test_retain_percent,
		.grow_min_order = GOALLOC_MIN_CHUNK_ORDER,
	};
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	const unsigned int order16 = ilog2(16 * per);
	struct goalloc_span **s, *t;
	struct goalloc_pool *pool;
	unsigned long held, peak;
	unsigned int i, n = 0;
	enum { MAX = 320 };

	s = kunit_kcalloc(test, MAX, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	test_retain_percent = 0;
	pool = test_pool_create(test, &small_steps);
	/* Past its peak all along: up to 1,024 heap pages, then one more grow. */
	for (;;) {
		KUNIT_ASSERT_LT(test, n, (unsigned int)MAX);
		held = READ_ONCE(pool->pages_held);
		peak = READ_ONCE(pool->pages_peak);
		KUNIT_EXPECT_EQ(test, peak, held);
		s[n] = test_pool_span(pool, 4, 1);
		KUNIT_ASSERT_NOT_NULL(test, s[n]);
		t = s[n++];
		if (held >= 1024 && READ_ONCE(pool->pages_held) > held)
			break;
	}
	KUNIT_ASSERT_LT(test, peak, 2048UL);
	KUNIT_EXPECT_EQ(test, t->chunk->order, order16);
	/* Emptied: each chunk went back as its last span did; the peak stays. */
	for (i = 0; i < n; i++)
		heap_put(s[i]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 0UL);
	peak = READ_ONCE(pool->pages_peak);
	KUNIT_EXPECT_GE(test, peak, 1024UL);
	KUNIT_EXPECT_LT(test, peak, 2048UL);
	/* Growing back below the peak: a 32nd of it. */
	t = test_pool_span(pool, 4, 1);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, t->chunk->order, order16 + 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 32UL);
	heap_put(t);
	/* A trim: the peak is what the pool holds, nothing; the span's block. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, 0), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_peak), 0UL);
	t = test_pool_span(pool, 4, 1);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, t->chunk->order, (unsigned int)get_order(4 * GOALLOC_PAGE_SIZE));
	heap_put(t);
	test_pool_check_empty(test, pool);
}

/* The span map finds a span from each of its pages, and nothing after it is freed. */
static void mheap_span_map(struct kunit *test)
{
	struct goalloc_span *s, *t;
	struct goalloc_pool *pool;
	unsigned long base, i;

	test_retain_percent = 100;
	pool = test_pool_create(test, &retaining);
	s = test_pool_span(pool, 3, 1);
	t = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, t);
	base = s->chunk->base;
	KUNIT_EXPECT_TRUE(test, span_mapped(s));
	KUNIT_EXPECT_TRUE(test, span_mapped(t));
	rcu_read_lock();
	/* Any byte of a page maps, not only its start. */
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_of((void *)(s->base + 3 * GOALLOC_PAGE_SIZE - 1)),
			    s);
	/* The chunk's free pages map to no span. */
	KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)(base + 5 * GOALLOC_PAGE_SIZE)));
	KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)(base + (s->chunk->npages - 1) *
								 GOALLOC_PAGE_SIZE)));
	rcu_read_unlock();
	heap_put(s);
	/* Gone from the map at once; t is still there. */
	rcu_read_lock();
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)(base + i * GOALLOC_PAGE_SIZE)));
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, span_mapped(t));
	heap_put(t);
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)(base + 3 * GOALLOC_PAGE_SIZE)));
	rcu_read_unlock();
	test_pool_check_empty(test, pool);
}

/*
 * Allocate a whole-chunk span while the hook takes the pages of each grow
 * before the allocation can use them.  A whole chunk fits no chunk the
 * test's pool holds, so every attempt must grow.
 */
static void grow_race(struct kunit *test, enum thief_mode mode, gfp_t gfp)
{
#ifdef GOALLOC_TEST_HOOKS
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	unsigned int i;

	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	memset(&thief, 0, sizeof(thief));
	thief.task = current;
	thief.pool = pool;
	thief.mode = mode;
	thief.npages = GOALLOC_CHUNK_PAGES;
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_HEAP_GROWN], thief_fn);
	s = goalloc_pool_alloc_span(pool, 0, GOALLOC_CHUNK_PAGES, 1, test_pool_node(pool),
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
	/* The release found nothing idle: the grow had carved its span. */
	if (mode == THIEF_RELEASE)
		KUNIT_EXPECT_EQ(test, thief.released, 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL + thief.nstolen);
	heap_put(s);
	for (i = 0; i < thief.nstolen; i++)
		heap_put(thief.stolen[i]);
	/* Every page taken went back. */
	test_pool_check_empty(test, pool);
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
 * use the memory, for the test's pool and for the kernel's.
 */
static void span_map_grows_for_new_memory(struct kunit *test)
{
	struct goalloc_span_map *map;
	unsigned long n0, grows0, grows;
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void *p;

	/*
	 * The span map is the whole heap's: it can be cut to nothing only
	 * when no pool holds a chunk.  Every test gives back what it took,
	 * so once the caches, mcentral and the kernel pool let go of theirs,
	 * none is left; one that is would be a leak, and fails the test.
	 */
	goalloc_scavenger_flush();
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	goalloc_central_release_kept();
	goalloc_heap_release(0);
	KUNIT_ASSERT_EQ_MSG(test, READ_ONCE(goalloc_heap.nchunks), 0UL,
			    "the heap holds chunks with everything freed");
	rcu_read_lock();
	n0 = rcu_dereference(goalloc_span_map)->nregions;
	rcu_read_unlock();
	grows0 = READ_ONCE(goalloc_heap.map_grows);
	KUNIT_ASSERT_EQ(test, goalloc_span_map_resize(0, GFP_KERNEL), 0);

	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	s = test_pool_span(pool, 3, 1);
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
	test_pool_check_empty(test, pool);
}

static void heap_test_exit(struct kunit *test)
{
#ifdef GOALLOC_TEST_HOOKS
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_HEAP_GROWN], NULL);
#endif
}

/*
 * Free pages between spans go back to the buddy allocator while their chunk
 * stays (goalloc_pool_scavenge()), down to what the caller keeps; the spans
 * left are still found, no span is placed on a scavenged page again, and
 * the chunk's last pages go back with its last span.
 */
static void mheap_scavenge(struct kunit *test)
{
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	struct goalloc_span *s[4], *t;
	struct goalloc_pool *pool;
	struct goalloc_chunk *ch;
	unsigned long npages, base1;
	unsigned int i;

	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = test_pool_span(pool, 2, 1);
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
		KUNIT_ASSERT_PTR_EQ(test, s[i]->chunk, s[0]->chunk);
	}
	ch = s[0]->chunk;
	npages = ch->npages;
	KUNIT_ASSERT_GE(test, npages, 16UL);
	base1 = s[1]->base;
	/* Pages 2-3 free, and 6 to the end: npages - 4 free pages. */
	heap_put(s[1]);
	heap_put(s[3]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), npages);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 4UL);

	/* Keeping 4 free pages releases the others. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_scavenge(pool, 4), (npages - 8) * per);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 8UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->nscav), (u16)(npages - 8));
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->nfree), (u16)4);
	/* Keeping none, the last 4; then there is nothing left to release. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_scavenge(pool, 0), 4 * per);
	KUNIT_EXPECT_EQ(test, goalloc_pool_scavenge(pool, 0), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 4UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->max_run), (u16)0);

	/* The span map still finds the spans left, and nothing where s[1] was. */
	rcu_read_lock();
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_of((void *)s[0]->base), s[0]);
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_of((void *)(s[2]->base + GOALLOC_PAGE_SIZE)), s[2]);
	KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)base1));
	rcu_read_unlock();

	/* A new span cannot use the scavenged pages: the pool grows. */
	t = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_PTR_NE(test, t->chunk, ch);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 2UL);
	heap_put(t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	/* A span freed leaves its pages free, not scavenged, until a pass. */
	heap_put(s[0]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 4UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 2UL);
	/* With its last span the chunk goes, what is left of it page by page. */
	heap_put(s[2]);
	test_pool_check_empty(test, pool);
}

/*
 * The chunk map (debugfs goalloc/chunks): each page of a chunk says what
 * holds it: a kernel arena's span, a size class's span, a large object,
 * free, scavenged.
 */
static void mheap_chunk_map(struct kunit *test)
{
	struct goalloc_span *a, *b, *c, *d;
	struct goalloc_chunk_map *map;
	struct goalloc_pool *pool;
	unsigned int i, npages, cls = 1;

	map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	while (goalloc_class_info[cls].npages != 1)
		cls++;
	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	KUNIT_EXPECT_FALSE(test, goalloc_pool_chunk_map(pool, 0, map));
	/* Pages 0-1 an arena's, 2 a span of @cls, 3-5 a large object, 6-7 an arena's. */
	a = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	b = goalloc_pool_alloc_span(pool, goalloc_spc(cls, false), 0, 1, test_pool_node(pool),
				    GOALLOC_SPAN_NEW, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	c = goalloc_pool_alloc_span(pool, 0, 3, 1, test_pool_node(pool), GOALLOC_SPAN_LARGE,
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	d = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_ASSERT_PTR_EQ(test, b->chunk, a->chunk);
	KUNIT_ASSERT_PTR_EQ(test, c->chunk, a->chunk);
	KUNIT_ASSERT_PTR_EQ(test, d->chunk, a->chunk);
	KUNIT_ASSERT_EQ(test, d->base - a->base, 6 * GOALLOC_PAGE_SIZE);

	KUNIT_EXPECT_FALSE(test, goalloc_pool_chunk_map(pool, 1, map));
	KUNIT_ASSERT_TRUE(test, goalloc_pool_chunk_map(pool, 0, map));
	npages = map->npages;
	KUNIT_ASSERT_EQ(test, npages, (unsigned int)a->chunk->npages);
	KUNIT_ASSERT_GE(test, npages, 16U);
	KUNIT_EXPECT_EQ(test, map->nfree, npages - 8);
	KUNIT_EXPECT_EQ(test, map->nscav, 0U);
	KUNIT_EXPECT_EQ(test, map->page[0], GOALLOC_PAGE_ARENA);
	KUNIT_EXPECT_EQ(test, map->page[1], GOALLOC_PAGE_ARENA);
	KUNIT_EXPECT_EQ(test, map->page[2], cls);
	for (i = 3; i < 6; i++)
		KUNIT_EXPECT_EQ(test, map->page[i], 0);
	KUNIT_EXPECT_EQ(test, map->page[6], GOALLOC_PAGE_ARENA);
	KUNIT_EXPECT_EQ(test, map->page[7], GOALLOC_PAGE_ARENA);
	for (i = 8; i < npages; i++)
		KUNIT_EXPECT_EQ(test, map->page[i], GOALLOC_PAGE_FREE);

	/* a's pages and the tail scavenged; then c's freed, not scavenged. */
	heap_put(a);
	KUNIT_EXPECT_GT(test, goalloc_pool_scavenge(pool, 0), 0UL);
	heap_put(c);
	KUNIT_ASSERT_TRUE(test, goalloc_pool_chunk_map(pool, 0, map));
	KUNIT_EXPECT_EQ(test, map->nfree, 3U);
	KUNIT_EXPECT_EQ(test, map->nscav, npages - 6);
	KUNIT_EXPECT_EQ(test, map->page[0], GOALLOC_PAGE_SCAV);
	KUNIT_EXPECT_EQ(test, map->page[1], GOALLOC_PAGE_SCAV);
	KUNIT_EXPECT_EQ(test, map->page[2], cls);
	for (i = 3; i < 6; i++)
		KUNIT_EXPECT_EQ(test, map->page[i], GOALLOC_PAGE_FREE);
	KUNIT_EXPECT_EQ(test, map->page[6], GOALLOC_PAGE_ARENA);
	for (i = 8; i < npages; i++)
		KUNIT_EXPECT_EQ(test, map->page[i], GOALLOC_PAGE_SCAV);
	heap_put(b);
	heap_put(d);
	test_pool_check_empty(test, pool);
}

/* goalloc_pool_pcache_exit() as a test's deferred action. */
static void pcache_exit_action(void *pool)
{
	goalloc_pool_pcache_exit(pool);
}

/* Chunks of one page-cache window (GOALLOC_PCACHE_PAGES heap pages). */
static const struct goalloc_pool_policy windowed = {
	.retain_percent = &test_retain_percent,
	.grow_min_order = GOALLOC_PAGE_SHIFT + ilog2(GOALLOC_PCACHE_PAGES) - PAGE_SHIFT,
};

/*
 * A pool of the test's own with per-CPU page caches: chunks of one window
 * each.  Its caches are flushed and freed before the pool is trimmed,
 * whether the test passed or not.
 */
static struct goalloc_pool *pcache_pool_create(struct kunit *test)
{
	struct goalloc_pool *pool;

	test_retain_percent = 0;
	pool = test_pool_create(test, &windowed);
	KUNIT_ASSERT_EQ(test, goalloc_pool_pcache_init(pool), 0);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, pcache_exit_action, pool));
	return pool;
}

/* Is any page of [@base, @base + @npages heap pages) in the span map? */
static bool range_mapped(unsigned long base, unsigned int npages)
{
	bool any = false;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < npages; i++)
		any |= !!goalloc_span_of((void *)(base + i * GOALLOC_PAGE_SIZE));
	rcu_read_unlock();
	return any;
}

/*
 * A CPU's page cache: the window is the first-fit block of the chunk, spans
 * come from it in order and go back into it, its pages count in use until
 * it is flushed, and a trim flushes it so that the chunk can go back.
 */
static void mheap_pcache_window(struct kunit *test)
{
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	struct goalloc_span *a, *b, *c;
	struct goalloc_pool *pool;
	unsigned long base, b_base;
	struct goalloc_chunk *ch;

	pool = pcache_pool_create(test);
	/* One CPU's cache throughout: this one's. */
	migrate_disable();
	/* No chunk yet: the heap grows and carves the first span itself. */
	a = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ch = a->chunk;
	base = ch->base;
	KUNIT_ASSERT_EQ(test, ch->npages, GOALLOC_PCACHE_PAGES);
	KUNIT_EXPECT_EQ(test, a->base, base);
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 2UL);

	/* The next span refills the window: every free page of the block. */
	b = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_EQ(test, b->chunk, ch);
	KUNIT_EXPECT_EQ(test, b->base, base + 2 * GOALLOC_PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, span_mapped(b));
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), GOALLOC_PCACHE_PAGES - 5UL);
	/* The window's pages count in use; the chunk is neither idle nor free. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), (unsigned long)GOALLOC_PCACHE_PAGES);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->nfree), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->windows), 1);

	/* Aligned runs are aligned in the chunk: 4 pages at page 8. */
	c = test_pool_span(pool, 4, 4);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, c->base, base + 8 * GOALLOC_PAGE_SIZE);
	heap_put(c);

	/* Freed on this CPU, b's pages go back into the window, unmapped. */
	b_base = b->base;
	heap_put(b);
	KUNIT_EXPECT_FALSE(test, range_mapped(b_base, 3));
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), GOALLOC_PCACHE_PAGES - 2UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), (unsigned long)GOALLOC_PCACHE_PAGES);
	/* And come out again first. */
	b = test_pool_span(pool, 3, 1);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, b->base, b_base);

	/* a was carved by the heap, but lies in the window: it goes back there. */
	heap_put(a);
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), GOALLOC_PCACHE_PAGES - 3UL);
	KUNIT_EXPECT_FALSE(test, range_mapped(base, 2));

	/* A flush gives the window back: only b is in use. */
	goalloc_pool_pcache_flush(pool);
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 3UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->nfree), GOALLOC_PCACHE_PAGES - 3);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ch->windows), 0);
	KUNIT_EXPECT_EQ(test, chunk_max_run(ch), GOALLOC_PCACHE_PAGES - 5U);

	/* Back in a window, then freed into it: only a trim lets the chunk go. */
	a = test_pool_span(pool, 2, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	heap_put(a);
	heap_put(b);
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), (unsigned long)GOALLOC_PCACHE_PAGES);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, 0), GOALLOC_PCACHE_PAGES * per);
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(pool), 0UL);
	test_pool_check_empty(test, pool);
}

struct pcache_on_cpu {
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	int node;	/* pcache_span_on_cpu()'s node, or NUMA_NO_NODE */
};

static long pcache_alloc_on_cpu(void *arg)
{
	struct pcache_on_cpu *w = arg;

	/* Two spans: the second refills this CPU's window. */
	w->s = test_pool_span(w->pool, 1, 1);
	if (w->s)
		heap_put(test_pool_span(w->pool, 1, 1));
	return 0;
}

static long pcache_span_on_cpu(void *arg)
{
	struct pcache_on_cpu *w = arg;

	w->s = goalloc_pool_alloc_span(w->pool, 0, 4, 1, w->node, GOALLOC_SPAN_ARENA, GFP_KERNEL);
	return 0;
}

/*
 * Another CPU's window holds the room a span needs: the window is taken
 * back and the span carved from it, and the heap does not grow.  (A small
 * heap's windows can be most of its free pages; growing past them each
 * time made a chunk per span in the all-CPUs storm.)  The span is asked
 * for the window's node: the first CPU's own node if it is the victim's,
 * else by name (a CPU of another node would rightly grow a chunk of its
 * own node rather than take the victim's room).
 */
static void mheap_pcache_window_taken_back(struct kunit *test)
{
	struct pcache_on_cpu w = { }, v = { };
	unsigned int first, victim;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	first = cpumask_first(cpu_online_mask);
	victim = cpumask_last(cpu_online_mask);
	v.node = cpu_to_mem(first) == cpu_to_mem(victim) ? NUMA_NO_NODE : cpu_to_mem(victim);
	w.pool = pcache_pool_create(test);
	KUNIT_ASSERT_EQ(test, work_on_cpu(victim, pcache_alloc_on_cpu, &w), 0L);
	KUNIT_ASSERT_NOT_NULL(test, w.s);
	/* The victim's window holds the rest of the pool's only chunk. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(w.pool), GOALLOC_PCACHE_PAGES - 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w.pool->nchunks), 1UL);
	v.pool = w.pool;
	KUNIT_ASSERT_EQ(test, work_on_cpu(first, pcache_span_on_cpu, &v), 0L);
	KUNIT_ASSERT_NOT_NULL(test, v.s);
	KUNIT_EXPECT_PTR_EQ(test, v.s->chunk, w.s->chunk);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w.pool->nchunks), 1UL);
	heap_put(v.s);
	heap_put(w.s);
	goalloc_pool_pcache_flush(w.pool);
	test_pool_check_empty(test, w.pool);
}

/*
 * A CPU going offline gives its window back to the chunk (cpuhp), so the
 * pool's counters come back to its spans.
 */
static void mheap_pcache_cpu_dead(struct kunit *test)
{
	struct pcache_on_cpu w = { };
	unsigned int victim;
	int err;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	victim = cpumask_last(cpu_online_mask);
	w.pool = pcache_pool_create(test);
	KUNIT_ASSERT_EQ(test, work_on_cpu(victim, pcache_alloc_on_cpu, &w), 0L);
	KUNIT_ASSERT_NOT_NULL(test, w.s);
	/* The victim's window holds the rest of the chunk. */
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(w.pool), GOALLOC_PCACHE_PAGES - 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w.pool->pages_inuse), (unsigned long)GOALLOC_PCACHE_PAGES);
	err = remove_cpu(victim);
	if (err) {
		heap_put(w.s);
		kunit_skip(test, "CPU %u cannot go offline (%d)", victim, err);
	}
	KUNIT_EXPECT_EQ(test, goalloc_pool_pcache_pages(w.pool), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w.pool->pages_inuse), 1UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w.s->chunk->windows), 0);
	KUNIT_ASSERT_EQ(test, add_cpu(victim), 0);
	heap_put(w.s);
	test_pool_check_empty(test, w.pool);
}

/* Interrupt context: GFP_ATOMIC spans from an hrtimer, through the page cache. */
static struct {
	struct hrtimer timer;
	struct goalloc_pool *pool;
	atomic_t runs, failures;
} pcache_irq;

static enum hrtimer_restart pcache_irq_fn(struct hrtimer *t)
{
	struct goalloc_span *s;

	s = goalloc_pool_alloc_span(pcache_irq.pool, 0, 2, 2, NUMA_NO_NODE, GOALLOC_SPAN_ARENA,
				    GFP_ATOMIC | __GFP_NOWARN);
	if (s)
		goalloc_heap_put_span(s);
	else
		atomic_inc(&pcache_irq.failures);
	if (atomic_inc_return(&pcache_irq.runs) >= 200)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/*
 * Spans made and freed from interrupts while the test's thread does the
 * same: the caches' lock is IRQ-safe, and every page comes back.
 */
static void mheap_pcache_irq(struct kunit *test)
{
	struct goalloc_span *keep;
	unsigned int i;

	pcache_irq.pool = pcache_pool_create(test);
	atomic_set(&pcache_irq.runs, 0);
	atomic_set(&pcache_irq.failures, 0);
	/* A chunk to start from, so that the interrupts need not grow the pool. */
	keep = test_pool_span(pcache_irq.pool, 1, 1);
	KUNIT_ASSERT_NOT_NULL(test, keep);
	hrtimer_init(&pcache_irq.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	pcache_irq.timer.function = pcache_irq_fn;
	hrtimer_start(&pcache_irq.timer, ns_to_ktime(50 * NSEC_PER_USEC), HRTIMER_MODE_REL);
	for (i = 0; atomic_read(&pcache_irq.runs) < 200 && i < 1000000; i++) {
		struct goalloc_span *s = test_pool_span(pcache_irq.pool, 3, 1);

		/* No assertion with the timer running: it must be cancelled first. */
		KUNIT_EXPECT_NOT_NULL(test, s);
		if (!s)
			break;
		heap_put(s);
		if (!(i % 64))
			cond_resched();
	}
	hrtimer_cancel(&pcache_irq.timer);
	KUNIT_EXPECT_GE(test, atomic_read(&pcache_irq.runs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&pcache_irq.failures), 0);
	heap_put(keep);
	goalloc_pool_pcache_flush(pcache_irq.pool);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pcache_irq.pool->pages_inuse), 0UL);
	test_pool_check_empty(test, pcache_irq.pool);
}

static struct kunit_case mheap_cases[] = {
	KUNIT_CASE(mheap_runs_coalesce),
	KUNIT_CASE(mheap_exact_fit),
	KUNIT_CASE(mheap_large_cut_to_fit),
	KUNIT_CASE(mheap_fallback_fits_room),
	KUNIT_CASE(mheap_release),
	KUNIT_CASE(mheap_grow_steps),
	KUNIT_CASE(mheap_scavenge),
	KUNIT_CASE(mheap_span_map),
	KUNIT_CASE(mheap_chunk_map),
	KUNIT_CASE(grow_race_scavenged),
	KUNIT_CASE(grow_race_nofail),
	KUNIT_CASE(mheap_pcache_window),
	KUNIT_CASE_SLOW(mheap_pcache_cpu_dead),
	KUNIT_CASE(mheap_pcache_window_taken_back),
	KUNIT_CASE(mheap_pcache_irq),
	KUNIT_CASE(span_map_grows_for_new_memory),
	{}
};

static struct kunit_suite mheap_suite = {
	.name = "goalloc_mheap",
	.exit = heap_test_exit,
	.test_cases = mheap_cases,
};

kunit_test_suite(mheap_suite);
