// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: mcentral (kmod/mcentral.c): its partial, full and empty lists, the
 * number of empty spans a class keeps, the fixup after frees, and spans
 * retired back to the heap.
 *
 * The spans come from a heap pool of the test's own (pool_test.h), through
 * mcentral's own grow (goalloc_central_grow_pool()), so the pages each step
 * gives back are counted exactly in that pool.  mcentral's lists are one
 * set per span class for the whole module; the tests use one class and
 * begin by asserting that no one else holds a span of it (every test that
 * ran before gave back what it took, and the caches were drained).  The
 * trim pass is held (test_trim_hold()), so it never empties the lists
 * behind a test's back.
 *
 * The tests act as mcentral's callers do: they take slots as a span's
 * owner or through goalloc_central_alloc(), free them as non-owners
 * through goalloc_central_free(), and count those frees in the class's
 * counters as the free path does.
 */
#include <kunit/test.h>
#include <linux/kmemleak.h>

#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"
#include "pool_test.h"

/*
 * The class the tests use: 16-byte objects, 256 or more to a one-page span,
 * a class of one shape with 4 KiB heap pages too (its spans are kept when
 * empty; sizeclasses.rst).  The tests hold a span's objects in an array of
 * nelems (span_objs()).
 */
#define TEST_SIZE	16

/* An array for a span's @n objects, freed with the test. */
static void **span_objs(struct kunit *test, unsigned int n)
{
	void **v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, v);
	return v;
}

/* The node of the case's spans (mcentral_test_init()). */
static int test_nid;

static unsigned int no_retain;

/* Spans of one heap page, each in a chunk of its own while the pool is small. */
static const struct goalloc_pool_policy central_pool = {
	.retain_percent = &no_retain,
	.grow_min_order = GOALLOC_MIN_CHUNK_ORDER,
};

static unsigned int test_spc(void)
{
	return goalloc_spc(goalloc_size_class(TEST_SIZE), true);
}

/* No span of the class anywhere in mcentral: the test's are the only ones. */
static void central_check_clean(struct kunit *test, struct goalloc_mcentral *mc)
{
	const struct goalloc_class_info *ci = goalloc_cls_info(goalloc_spc_to_class(test_spc()));
	unsigned long flags;
	bool clean;

	/* The tests' premise: a class of one shape. */
	KUNIT_ASSERT_EQ(test, ci->big_npages, ci->npages);

	goalloc_drain_all();
	goalloc_central_release_kept();
	spin_lock_irqsave(&mc->lock, flags);
	clean = list_empty(&mc->partial) && list_empty(&mc->full) && list_empty(&mc->kept) &&
		!mc->nkept;
	spin_unlock_irqrestore(&mc->lock, flags);
	KUNIT_ASSERT_TRUE_MSG(test, clean, "class %u holds spans with everything freed",
			      goalloc_spc_class(test_spc()));
}

/* Is @s on @list?  mcentral's lock held by the caller or no one else racing. */
static bool span_on(struct goalloc_mcentral *mc, struct list_head *list,
		    struct goalloc_span *s)
{
	struct goalloc_span *t;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&mc->lock, flags);
	list_for_each_entry(t, list, list)
		found |= t == s;
	spin_unlock_irqrestore(&mc->lock, flags);
	return found;
}

/* What malloc.c's post_alloc() does that a free undoes (goalloc_pre_free()). */
static void *handed_out(void *p)
{
	if (p)
		kmemleak_alloc(p, TEST_SIZE, 1, GFP_KERNEL);
	return p;
}

/* A free by a non-owner, as goalloc_free() makes it. */
static int central_free(struct goalloc_span *s, void *p)
{
	int err;

	rcu_read_lock();
	err = goalloc_central_free(s, p);
	rcu_read_unlock();
	return err;
}

static void test_init_hold(struct kunit *test)
{
	test_trim_hold(test);
}

/*
 * One span through every list: partial with a free slot, full once the
 * last slot is taken, partial again after a free (the fixup), kept empty
 * after the last free, handed to a CPU and back, released to the heap.
 */
static void mcentral_lists(struct kunit *test)
{
	unsigned int spc = test_spc(), n, i;
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	long nspans0, live0, empty0, cached0, counted = 0;
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void **v, *p;

	test_init_hold(test);
	central_check_clean(test, mc);
	nspans0 = atomic_long_read(&mc->nspans);
	live0 = goalloc_objects_in_use();
	empty0 = goalloc_counter(GOALLOC_CTR_KEPT_PAGES);
	cached0 = goalloc_counter(GOALLOC_CTR_CACHED_PAGES);
	pool = test_pool_create(test, &central_pool);

	s = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_PTR_EQ(test, s->chunk->pool, pool);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0 + 1);
	n = s->nelems;
	KUNIT_ASSERT_GE(test, n, 3U);
	v = span_objs(test, n);

	/* The grower took one slot as the span's owner, then gave it to mcentral. */
	v[0] = handed_out(goalloc_span_next_free(s));
	KUNIT_ASSERT_NOT_NULL(test, v[0]);
	goalloc_central_add_span(s);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_PARTIAL);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->partial, s));

	/* The other slots, from mcentral: the span goes full with the last. */
	for (i = 1; i < n; i++) {
		v[i] = handed_out(goalloc_central_alloc(spc, TEST_SIZE, test_nid));
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
		counted++;
		rcu_read_lock();
		KUNIT_EXPECT_PTR_EQ(test, goalloc_span_of(v[i]), s);
		rcu_read_unlock();
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_FULL);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->full, s));
	KUNIT_EXPECT_TRUE(test, list_empty(&mc->partial));
	/* mcentral does not grow by itself. */
	KUNIT_EXPECT_NULL(test, goalloc_central_alloc(spc, TEST_SIZE, test_nid));
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), (unsigned long)s->npages);

	/* A free into a full span moves it back to the partial list... */
	KUNIT_EXPECT_EQ(test, central_free(s, v[1]), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_PARTIAL);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->partial, s));
	/* ... and the slot comes back, by a sweep, to the next allocation. */
	p = handed_out(goalloc_central_alloc(spc, TEST_SIZE, test_nid));
	KUNIT_EXPECT_PTR_EQ(test, p, v[1]);
	if (p)
		counted++;
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_FULL);

	/* The last free empties it: kept for reuse, not given back. */
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, central_free(s, v[i]), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->kept, s));
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 1U);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), empty0 + s->npages);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), (unsigned long)s->npages);

	/* A CPU asking for a span gets the kept one, and gives it back. */
	KUNIT_EXPECT_PTR_EQ(test, goalloc_central_cache_span(spc, test_nid), s);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), cached0 + s->npages);
	goalloc_central_uncache_span(s);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), cached0);

	/* The trim pass's and the shrinker's call gives it to the heap. */
	KUNIT_EXPECT_GE(test, goalloc_central_release_kept(), (unsigned long)s->npages);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), empty0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0);
	/* The caller's count of its frees, as the free path keeps it. */
	atomic_long_add(counted, &mc->nfree);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live0);
	test_pool_check_empty(test, pool);
}

/*
 * A class keeps goalloc_central_keep() empty spans, the rest goes back to
 * the heap at once; the kept ones serve the next requests before the heap
 * is asked for more.
 */
static void mcentral_keep_limit(struct kunit *test)
{
	unsigned int spc = test_spc(), keep = goalloc_central_keep(spc), i;
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	struct goalloc_span *s[8], *c[8];
	struct goalloc_pool *pool;
	unsigned long held, npages;
	long nspans0, empty0;
	void *v[8];

	test_init_hold(test);
	central_check_clean(test, mc);
	/* One-page spans: 128 KiB of them is more than four. */
	KUNIT_ASSERT_EQ(test, keep, 4U);
	nspans0 = atomic_long_read(&mc->nspans);
	empty0 = goalloc_counter(GOALLOC_CTR_KEPT_PAGES);
	pool = test_pool_create(test, &central_pool);

	for (i = 0; i < keep + 2; i++) {
		s[i] = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
		v[i] = handed_out(goalloc_span_next_free(s[i]));
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
		goalloc_central_add_span(s[i]);
	}
	npages = s[0]->npages;
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), (keep + 2) * npages);
	/* Emptied one by one: keep of them stay, the others go back. */
	for (i = 0; i < keep + 2; i++)
		KUNIT_EXPECT_EQ(test, central_free(s[i], v[i]), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), keep);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0 + keep);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), keep * npages);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), empty0 + keep * npages);

	/* Requests take the kept spans: the heap is not asked for more. */
	held = READ_ONCE(pool->pages_held);
	for (i = 0; i < keep; i++) {
		c[i] = goalloc_central_cache_span(spc, test_nid);
		KUNIT_ASSERT_NOT_NULL(test, c[i]);
		KUNIT_EXPECT_PTR_EQ(test, c[i]->chunk->pool, pool);
	}
	KUNIT_EXPECT_NULL(test, goalloc_central_cache_span(spc, test_nid));
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), held);
	for (i = 0; i < keep; i++)
		goalloc_central_uncache_span(c[i]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), keep);

	KUNIT_EXPECT_GE(test, goalloc_central_release_kept(), keep * npages);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), empty0);
	test_pool_check_empty(test, pool);
}

/*
 * A grown span no object was taken from (its CPU found a slot elsewhere
 * while it grew) is kept empty, not left on the partial list where nothing
 * would ever retire it; once the class keeps enough, it goes back at once.
 */
static void mcentral_retire_unused(struct kunit *test)
{
	unsigned int spc = test_spc(), keep = goalloc_central_keep(spc), i;
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	unsigned long npages = 0;
	long nspans0;

	test_init_hold(test);
	central_check_clean(test, mc);
	nspans0 = atomic_long_read(&mc->nspans);
	pool = test_pool_create(test, &central_pool);
	for (i = 0; i <= keep; i++) {
		s = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
		KUNIT_ASSERT_NOT_NULL(test, s);
		npages = s->npages;
		goalloc_central_add_span(s);
		if (i < keep) {
			KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
			KUNIT_EXPECT_FALSE(test, span_on(mc, &mc->partial, s));
		}
	}
	/* The last one found the class full of kept spans: gone already. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), keep);
	KUNIT_EXPECT_TRUE(test, list_empty(&mc->partial));
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), keep * npages);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0 + keep);
	goalloc_central_release_kept();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&mc->nspans), nspans0);
	test_pool_check_empty(test, pool);
}

/*
 * A run of frees into one span (goalloc_free_bulk()'s) is recorded with one
 * fixup, after the last: the span empties, and is kept.
 */
static void mcentral_free_run(struct kunit *test)
{
	unsigned int spc = test_spc(), n, i;
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	unsigned long nfreed = 0;
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void **v;
	size_t last;

	test_init_hold(test);
	central_check_clean(test, mc);
	pool = test_pool_create(test, &central_pool);
	s = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
	KUNIT_ASSERT_NOT_NULL(test, s);
	n = s->nelems;
	v = span_objs(test, n);
	for (i = 0; i < n; i++) {
		v[i] = handed_out(goalloc_span_next_free(s));
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	goalloc_central_add_span(s);
	rcu_read_lock();
	last = goalloc_central_free_run(s, v, n - 1, 0, _THIS_IP_, &nfreed);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, last, (size_t)0);
	KUNIT_EXPECT_EQ(test, nfreed, (unsigned long)n);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 1U);
	goalloc_central_release_kept();
	test_pool_check_empty(test, pool);
}

#ifdef GOALLOC_TEST_HOOKS
/* What a hook-forced test hands its hook. */
static struct {
	struct goalloc_span *span;
	void *obj;
	int err;
	u8 state;
	bool fired;
} placed;

static void placed_set(struct goalloc_span *s, void *obj)
{
	placed.span = s;
	placed.obj = obj;
	placed.err = -1;
	placed.state = 0;
	placed.fired = false;
}

/*
 * Another CPU's free, without a lock, between mcentral's decision on a span
 * a CPU gave back and its record of it: it reads the old state (CACHED)
 * and asks for no fixup.
 */
static void hook_free_while_placed(void *arg)
{
	if (arg != placed.span || placed.fired)
		return;
	placed.fired = true;
	placed.err = goalloc_central_free(placed.span, placed.obj);
}

/*
 * Remote frees take no lock, so one may land between mcentral's decision on
 * a span a CPU gives back and its record of that decision, and read the
 * span's old state: it asks for nothing.  mcentral's second look after the
 * placement (span_settle()) must see it: a span given back full that
 * gained a free slot goes to the partial list, one whose last object went
 * is kept (kmod/models/span_free.pml, NO_SETTLE).
 */
static void mcentral_remote_free_while_placed(struct kunit *test)
{
	unsigned int spc = test_spc(), n, i;
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void **v;

	test_init_hold(test);
	central_check_clean(test, mc);
	pool = test_pool_create(test, &central_pool);
	s = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
	KUNIT_ASSERT_NOT_NULL(test, s);
	n = s->nelems;
	KUNIT_ASSERT_GE(test, n, 3U);
	v = span_objs(test, n);
	v[0] = handed_out(goalloc_span_next_free(s));
	KUNIT_ASSERT_NOT_NULL(test, v[0]);
	goalloc_central_add_span(s);
	/* A CPU takes the span and fills it. */
	KUNIT_ASSERT_PTR_EQ(test, goalloc_central_cache_span(spc, test_nid), s);
	for (i = 1; i < n; i++) {
		v[i] = handed_out(goalloc_span_next_free(s));
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}

	/* Given back full; a free lands as mcentral decides "full". */
	placed_set(s, v[n - 1]);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_CENTRAL_DECIDED], hook_free_while_placed);
	goalloc_central_uncache_span(s);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_CENTRAL_DECIDED], NULL);
	KUNIT_EXPECT_TRUE(test, placed.fired);
	KUNIT_EXPECT_EQ(test, placed.err, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_PARTIAL);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->partial, s));

	/* All but v[0] freed; a CPU takes the span again and gives it back. */
	for (i = 1; i < n - 1; i++)
		KUNIT_EXPECT_EQ(test, central_free(s, v[i]), 0);
	KUNIT_ASSERT_PTR_EQ(test, goalloc_central_cache_span(spc, test_nid), s);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), 1U);
	/* The last object's free lands as mcentral decides "partial". */
	placed_set(s, v[0]);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_CENTRAL_DECIDED], hook_free_while_placed);
	goalloc_central_uncache_span(s);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_CENTRAL_DECIDED], NULL);
	KUNIT_EXPECT_TRUE(test, placed.fired);
	KUNIT_EXPECT_EQ(test, placed.err, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->kept, s));
	KUNIT_EXPECT_FALSE(test, span_on(mc, &mc->partial, s));
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
	goalloc_central_release_kept();
	test_pool_check_empty(test, pool);
}

/*
 * The owner frees the object too (a double free) and gives the span back,
 * emptied, after the remote free checked the object and before it records
 * the free: the remote free is still reading the span and about to write
 * into the object (goalloc_pre_free()).
 */
static void hook_owner_frees_and_gives_back(void *arg)
{
	if (arg != placed.obj || placed.fired)
		return;
	placed.fired = true;
	placed.err = goalloc_span_free(placed.span, arg);
	goalloc_central_uncache_span(placed.span);
	placed.state = READ_ONCE(placed.span->state);
}

/*
 * A span is not retired while a remote free is in flight in it (nremote
 * pins it): a retired span's pages may be another span's by the time the
 * free writes into its object.  The free then records its bit on a slot
 * that is free, and asks for the fixup, whose sweep reports the double
 * free and retires the span (kmod/models/span_free.pml, NO_PIN).
 */
static void mcentral_no_retire_while_remote_free_in_flight(struct kunit *test)
{
	unsigned int spc = test_spc();
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	long late = atomic_long_read(&goalloc_late_doubles[spc]);
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void *p;
	int err;

	test_init_hold(test);
	central_check_clean(test, mc);
	pool = test_pool_create(test, &central_pool);
	s = goalloc_central_grow_pool(pool, spc, test_nid, GFP_KERNEL | __GFP_THISNODE);
	KUNIT_ASSERT_NOT_NULL(test, s);
	p = handed_out(goalloc_span_next_free(s));
	KUNIT_ASSERT_NOT_NULL(test, p);
	goalloc_central_add_span(s);
	KUNIT_ASSERT_PTR_EQ(test, goalloc_central_cache_span(spc, test_nid), s);

	placed_set(s, p);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_REMOTE_CHECKED], hook_owner_frees_and_gives_back);
	err = central_free(s, p);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_REMOTE_CHECKED], NULL);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_TRUE(test, placed.fired);
	/* The owner's free was first; the span stayed while pinned. */
	KUNIT_EXPECT_EQ(test, placed.err, 0);
	KUNIT_EXPECT_EQ(test, placed.state, (u8)GOALLOC_SPAN_PARTIAL);
	/* The remote free passed its check; its record was found stale. */
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goalloc_late_doubles[spc]), late + 1);
	/* The test's objects are outside the class counts: take it back. */
	atomic_long_dec(&goalloc_late_doubles[spc]);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nremote), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_KEPT);
	KUNIT_EXPECT_TRUE(test, span_on(mc, &mc->kept, s));
	goalloc_central_release_kept();
	test_pool_check_empty(test, pool);
}
#else
static void no_hooks(struct kunit *test)
{
	kunit_skip(test, "goalloc.ko was built without GOALLOC_TEST_HOOKS");
}

#define mcentral_remote_free_while_placed no_hooks
#define mcentral_no_retire_while_remote_free_in_flight no_hooks
#endif

/*
 * A class of several shapes (2,688 bytes: three pages of 9, up to eleven of
 * 32) keeps only spans above its own shape empty: one of its own shape goes
 * back to the heap at once, so that its busy CPUs grow larger spans rather
 * than cycle small kept spans (span_retire(), sizeclasses.rst rule 6).
 */
static void mcentral_keeps_larger_shapes_only(struct kunit *test)
{
	const size_t size = 2688;
	unsigned int spc = goalloc_spc(goalloc_size_class(size), true);
	const struct goalloc_class_info *ci = &goalloc_class_info[goalloc_size_class(size)];
	struct goalloc_mcentral *mc = goalloc_central_of(test_nid, spc);
	const unsigned int shapes[] = { 0, ci->big_npages, ci->npages + 2 };
	unsigned int nkept0, i, kept = 0;
	unsigned long held = 0;
	struct goalloc_span *s;
	struct goalloc_pool *pool;
	void *p;

	test_init_hold(test);
	KUNIT_ASSERT_GT(test, ci->big_npages, ci->npages + 2);
	pool = test_pool_create(test, &central_pool);
	nkept0 = READ_ONCE(mc->nkept);
	KUNIT_ASSERT_LE(test, nkept0 + 2, goalloc_central_keep(spc));
	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		s = goalloc_central_grow_shaped(pool, spc, shapes[i], test_nid,
						GFP_KERNEL | __GFP_THISNODE);
		KUNIT_ASSERT_NOT_NULL(test, s);
		KUNIT_EXPECT_EQ(test, (unsigned int)s->npages, shapes[i] ?: ci->npages);
		KUNIT_EXPECT_EQ(test, (unsigned int)s->nelems,
				s->npages * (unsigned int)GOALLOC_PAGE_SIZE / ci->size);
		p = goalloc_span_next_free(s);
		KUNIT_ASSERT_NOT_NULL(test, p);
		kmemleak_alloc(p, size, 1, GFP_KERNEL);
		goalloc_central_add_span(s);
		KUNIT_EXPECT_EQ(test, central_free(s, p), 0);
		/* Its own shape: gone.  A larger one: kept, its pages still held. */
		if (shapes[i]) {
			kept++;
			held += shapes[i];
		}
		KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), nkept0 + kept);
		KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), held);
	}
	KUNIT_EXPECT_GE(test, goalloc_central_release_kept(), held);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	test_pool_check_empty(test, pool);
}

static struct kunit_case mcentral_cases[] = {
	KUNIT_CASE(mcentral_lists),
	KUNIT_CASE(mcentral_keep_limit),
	KUNIT_CASE(mcentral_keeps_larger_shapes_only),
	KUNIT_CASE(mcentral_retire_unused),
	KUNIT_CASE(mcentral_free_run),
	KUNIT_CASE(mcentral_remote_free_while_placed),
	KUNIT_CASE(mcentral_no_retire_while_remote_free_in_flight),
	{}
};

/*
 * Each case's spans are of one node's mcentral, the node its thread was on
 * when it began: the spans are required on it, and mcentral asked for it,
 * however the thread migrates (a two-node guest).
 */
static int mcentral_test_init(struct kunit *test)
{
	test_nid = numa_mem_id();
	return 0;
}

static struct kunit_suite mcentral_suite = {
	.name = "goalloc_mcentral",
	.init = mcentral_test_init,
	.test_cases = mcentral_cases,
};

kunit_test_suite(mcentral_suite);
