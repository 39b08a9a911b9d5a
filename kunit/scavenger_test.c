// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: retention and the scavenger (kmod/mheap.c's retention goal and
 * trim work item, kmod/mgcscavenge.c's pass and shrinker): what idle memory
 * a pool keeps, the trim pass being asked for and doing its work, and the
 * shrinker's count and scan.
 *
 * The goal is checked on a heap pool of the test's own (pool_test.h).  The
 * trim pass and the shrinker work on the whole module (the kernel pool and
 * mcentral's lists): those tests first bring it to a known state (drained
 * caches, nothing kept, no idle chunk), hold the trim pass so that it runs
 * only when the test runs it (test_trim_hold()), and check exact counts;
 * none waits for the scavenger's timing.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"
#include "pool_test.h"
#include "quiet.h"

static unsigned int test_retain_percent;

/* Spans of 16 heap pages each fill a chunk of their own. */
static const struct goalloc_pool_policy retaining = {
	.retain_percent = &test_retain_percent,
	.grow_min_order = GOALLOC_PAGE_SHIFT + 4 - PAGE_SHIFT,
};

/*
 * 16 bytes: a class of one shape (a span of one heap page holds 256 or
 * more), whose empty spans mcentral keeps (sizeclasses.rst, rule 6).
 */
#define ONE_SHAPE_SIZE	16

/* ONE_SHAPE_SIZE's span class, asserted to be of one shape. */
static unsigned int one_shape_spc(struct kunit *test)
{
	unsigned int cls = goalloc_size_class(ONE_SHAPE_SIZE);

	KUNIT_ASSERT_EQ(test, goalloc_class_info[cls].big_npages, goalloc_class_info[cls].npages);
	return goalloc_spc(cls, true);
}

/* One-page spans of one class, each in a chunk of its own while the pool is small. */
static const struct goalloc_pool_policy small_chunks = {
	.retain_percent = &test_retain_percent,
	.grow_min_order = GOALLOC_MIN_CHUNK_ORDER,
};

/* The module with nothing idle: drained caches, no kept span, no idle chunk. */
static void heap_quiesce(struct kunit *test)
{
	test_trim_hold(test);
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	goalloc_central_release_kept();
	goalloc_heap_release(0);
	goalloc_heap_scavenge(0);
	/* A pass the drain asked for (spans it emptied went to the heap): run now. */
	goalloc_heap_trim_flush();
}

/*
 * A pool keeps idle chunks up to its goal, retain_percent of its pages in
 * use, a tunable read as it is; the trim pass trims to the goal.
 */
static void scavenger_retain_goal(struct kunit *test)
{
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	struct goalloc_pool *pool;
	struct goalloc_span *s[10];
	unsigned int i;

	test_retain_percent = 25;
	pool = test_pool_create(test, &retaining);
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = test_pool_span(pool, 16, 1);
		KUNIT_ASSERT_NOT_NULL(test, s[i]);
	}
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_inuse), 160UL);
	KUNIT_EXPECT_EQ(test, goalloc_pool_retain_goal(pool), 40UL);
	/* 16 idle, goal 36; 32 idle, goal 32: both kept. */
	goalloc_heap_put_span(s[0]);
	KUNIT_EXPECT_EQ(test, goalloc_pool_retain_goal(pool), 36UL);
	goalloc_heap_put_span(s[1]);
	KUNIT_EXPECT_EQ(test, goalloc_pool_retain_goal(pool), 32UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 32UL);
	/* 48 idle, goal 28: the third goes back at once. */
	goalloc_heap_put_span(s[2]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 32UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 9UL);
	/* The goal follows the tunable: at 100 % the next is kept. */
	WRITE_ONCE(test_retain_percent, 100);
	KUNIT_EXPECT_EQ(test, goalloc_pool_retain_goal(pool), 112UL);
	goalloc_heap_put_span(s[3]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 48UL);
	/* A trim to the goal keeps what is within it... */
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, goalloc_pool_retain_goal(pool)), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 48UL);
	/* ... and at 10 %, releases down to it: 9 pages, no chunk of 16 stays. */
	WRITE_ONCE(test_retain_percent, 10);
	KUNIT_EXPECT_EQ(test, goalloc_pool_retain_goal(pool), 9UL);
	KUNIT_EXPECT_EQ(test, goalloc_pool_trim(pool, goalloc_pool_retain_goal(pool)),
			48 * per);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_idle), 0UL);
	for (i = 4; i < ARRAY_SIZE(s); i++)
		goalloc_heap_put_span(s[i]);
	test_pool_check_empty(test, pool);
}

/*
 * Keeping an empty span asks for a trim pass, which gives kept spans back
 * to the heap: here, to the test's pool, which lets the chunk go.
 */
static void scavenger_trim_work(struct kunit *test)
{
	unsigned int spc = one_shape_spc(test);
	int nid = numa_mem_id();
	struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);
	struct goalloc_pool *pool;
	struct goalloc_span *s;

	heap_quiesce(test);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&goalloc_heap_trim.work));
	KUNIT_ASSERT_EQ(test, READ_ONCE(mc->nkept), 0U);
	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	s = goalloc_central_grow_pool(pool, spc, nid, GFP_KERNEL | __GFP_THISNODE);
	KUNIT_ASSERT_NOT_NULL(test, s);
	/* No object taken: mcentral keeps it, and asks for a pass. */
	goalloc_central_add_span(s);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 1U);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&goalloc_heap_trim.work));
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	/* The pass, run now rather than a delay later. */
	goalloc_heap_trim_flush();
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&goalloc_heap_trim.work));
	KUNIT_EXPECT_EQ(test, READ_ONCE(mc->nkept), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 0UL);
	test_pool_check_empty(test, pool);
}

/*
 * The shrinker counts exactly what is idle and kept, and its scan gives it
 * back: here, empty spans of the test's pool that mcentral keeps.
 */
static void scavenger_shrinker_kept_spans(struct kunit *test)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = 1024 };
	unsigned int spc = one_shape_spc(test);
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	unsigned int keep = goalloc_central_keep(spc), i;
	unsigned long npages = 0;
	struct goalloc_pool *pool;
	struct goalloc_span *s;

	heap_quiesce(test);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
	test_retain_percent = 0;
	pool = test_pool_create(test, &small_chunks);
	for (i = 0; i < keep; i++) {
		s = goalloc_central_grow_pool(pool, spc, test_pool_node(pool), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, s);
		npages += s->npages;
		goalloc_central_add_span(s);
	}
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), npages * per);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_scan(NULL, &sc), npages * per);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->pages_held), 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	test_pool_check_empty(test, pool);
}

/*
 * The shrinker counts only what a scan can give back, and a scan drains
 * the CPUs' caches only when a cached span holds no object: a span with a
 * live object stays in the heap however it is drained, though the free
 * pages around it go back (goalloc_heap_scavenge()).
 */
static void shrinker_counts_only_what_it_can_free(struct kunit *test)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = 1024 };
	const unsigned long per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	unsigned long inuse0, scavenged0, sys_pages, free;
	struct goalloc_span *s;
	unsigned int state;
	void *p;

	heap_quiesce(test);
	inuse0 = test_heap_span_pages();
	/*
	 * A class of one shape: its empty span is kept, not released at the
	 * drain.  On one CPU: a task that moves to another node's CPU while
	 * it grows the span gives the span to mcentral.
	 */
	one_shape_spc(test);
	migrate_disable();
	p = goalloc_alloc(ONE_SHAPE_SIZE, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	KUNIT_ASSERT_NOT_NULL(test, s);
	sys_pages = (unsigned long)s->npages * (GOALLOC_PAGE_SIZE / PAGE_SIZE);
	state = READ_ONCE(s->state);
	KUNIT_EXPECT_EQ(test, state, (unsigned int)GOALLOC_SPAN_CACHED);

	/*
	 * One cached span with a live object: what can go back is the free
	 * pages of its chunk, scavenged without a drain.
	 */
	free = READ_ONCE(goalloc_heap.kernel.pages_held) -
	       READ_ONCE(goalloc_heap.kernel.pages_inuse);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), free ? free * per : SHRINK_EMPTY);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_scan(NULL, &sc), free ? free * per : SHRINK_STOP);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.kernel.pages_held),
			READ_ONCE(goalloc_heap.kernel.pages_inuse));
	/* Then nothing is left to gain. */
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	/* And no CPU was drained for it: the span is still cached. */
	state = READ_ONCE(s->state);
	KUNIT_EXPECT_EQ(test, state, (unsigned int)GOALLOC_SPAN_CACHED);

	/* With the object freed, the span is worth a drain. */
	goalloc_free(p);
	KUNIT_EXPECT_GE(test, goalloc_shrink_count(NULL, &sc), sys_pages);
	scavenged0 = goalloc_counter(GOALLOC_CTR_RELEASED_PAGES);
	/* The scan asks the CPUs to drain and does not wait for them... */
	goalloc_shrink_scan(NULL, &sc);
	goalloc_drain_wait();
	/* ...the next one gives back what they drained. */
	KUNIT_EXPECT_NE(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	/* Drained, and its pages went back (by the scans: the pass is held). */
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), 0L);
	KUNIT_EXPECT_GE(test, goalloc_counter(GOALLOC_CTR_RELEASED_PAGES) - scavenged0,
			(long)sys_pages);
	KUNIT_EXPECT_EQ(test, test_heap_span_pages(), inuse0);
	KUNIT_EXPECT_EQ(test, goalloc_shrink_count(NULL, &sc), SHRINK_EMPTY);
}

#ifdef GOALLOC_TEST_HOOKS
static DECLARE_COMPLETION(drain_release);

/* GOALLOC_HOOK_DRAIN_WORK: every CPU's drain item waits for the test. */
static void hook_hold_drain(void *work)
{
	wait_for_completion(&drain_release);
}

struct scan_call {
	struct completion done;
	unsigned long ret;
};

static int scan_thread(void *arg)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = 1024 };
	struct scan_call *call = arg;

	call->ret = goalloc_shrink_scan(NULL, &sc);
	complete(&call->done);
	return 0;
}

/*
 * Free and allocate on @cpu, so that its cache holds an empty span (of a
 * class of one shape, kept by mcentral when drained).
 */
static long cache_empty_span(void *unused)
{
	void *p = goalloc_alloc(ONE_SHAPE_SIZE, GFP_KERNEL);

	goalloc_free(p);
	return p ? 0 : -ENOMEM;
}
#endif

/*
 * A scan in reclaim never waits for the CPUs' drain work: that work may
 * need a new worker thread, made by kthreadd with an allocation that can
 * be this very reclaim (the PREEMPT_RT soak hung that way while a CPU went
 * offline).  The hook holds every drain item; the scan, run by a thread
 * of its own, must still return, and once the items are let go the next
 * scan gives back the pages they drained.
 */
static void shrinker_never_waits_for_drains(struct kunit *test)
{
#ifdef GOALLOC_TEST_HOOKS
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = 1024 };
	struct scan_call call;
	struct task_struct *t;
	unsigned int cpu;
	bool returned;

	heap_quiesce(test);
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	if (cpu >= nr_cpu_ids)
		kunit_skip(test, "needs two online CPUs");
	one_shape_spc(test);
	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, cache_empty_span, NULL), 0L);
	KUNIT_ASSERT_FALSE(test, goalloc_mcache_drained(cpu));

	init_completion(&call.done);
	reinit_completion(&drain_release);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_DRAIN_WORK], hook_hold_drain);
	t = kthread_run(scan_thread, &call, "goalloc_scan");
	if (IS_ERR(t)) {
		WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_DRAIN_WORK], NULL);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(t));
		return;
	}
	/* Minutes, not instructions: a scan that waits never returns here. */
	returned = wait_for_completion_timeout(&call.done, 20 * HZ);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_DRAIN_WORK], NULL);
	complete_all(&drain_release);
	if (!returned)
		wait_for_completion(&call.done);
	KUNIT_EXPECT_TRUE_MSG(test, returned, "the scan waited for the held drain work");

	goalloc_drain_wait();
	KUNIT_EXPECT_TRUE(test, goalloc_mcache_drained(cpu));
	KUNIT_EXPECT_NE(test, goalloc_shrink_scan(NULL, &sc), SHRINK_STOP);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), 0L);
#else
	kunit_skip(test, "needs GOALLOC_TEST_HOOKS");
#endif
}

/*
 * With everything freed, draining the caches and running the scavenger
 * leaves goalloc holding no memory at all.
 */
static void scavenger_releases_everything(struct kunit *test)
{
	void **v = kunit_kcalloc(test, 300, sizeof(*v), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, v);
	for (i = 0; i < 300; i++) {
		v[i] = goalloc_alloc(i * 97 + 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	KUNIT_EXPECT_GT(test, READ_ONCE(goalloc_heap.pages_held), 0UL);
	for (i = 0; i < 300; i++)
		goalloc_free(v[i]);
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), 0L);
	/* What is still in use is empty spans mcentral keeps for reuse. */
	KUNIT_EXPECT_EQ(test, test_heap_span_pages(),
			(unsigned long)goalloc_counter(GOALLOC_CTR_KEPT_PAGES));
	/* The background pass, as the module runs it. */
	goalloc_scavenger_flush();
	goalloc_scavenge();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), 0L);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_inuse), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_held), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.nchunks), 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_CACHED_PAGES), 0L);
}

/*
 * A grow of the kernel pool asks for a trim pass (goalloc_heap_trim_soon()),
 * as Go starts a collection when its heap grows; a test's pool, which no
 * pass trims, does not.
 */
static void scavenger_pass_on_grow(struct kunit *test)
{
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void *p;

	heap_quiesce(test);
	KUNIT_ASSERT_FALSE(test, delayed_work_pending(&goalloc_heap_trim.work));
	test_retain_percent = 0;
	pool = test_pool_create(test, &retaining);
	s = test_pool_span(pool, 1, 1);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&goalloc_heap_trim.work));
	goalloc_heap_put_span(s);
	test_pool_check_empty(test, pool);
	/* No free page is left (heap_quiesce()): a large object grows the pool. */
	KUNIT_ASSERT_EQ(test, READ_ONCE(goalloc_heap.kernel.pages_held),
			READ_ONCE(goalloc_heap.kernel.pages_inuse));
	p = goalloc_alloc(64 * 1024, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&goalloc_heap_trim.work));
	goalloc_free(p);
}

/* The state of the span of @p. */
static unsigned int span_state_of(void *p)
{
	struct goalloc_span *s;
	unsigned int state;

	rcu_read_lock();
	s = goalloc_span_of(p);
	state = s ? READ_ONCE(s->state) : GOALLOC_SPAN_DEAD;
	rcu_read_unlock();
	return state;
}

/*
 * A pass takes back the span of each class a CPU has allocated nothing
 * from since the pass before (goalloc_flush_idle_spans()), and leaves the
 * others: here two classes, one of them used again between two passes.
 */
static void scavenger_flushes_idle_spans(struct kunit *test)
{
	long live0;
	unsigned int cpu;
	void *p, *q;

	heap_quiesce(test);
	live0 = goalloc_objects_in_use();
	migrate_disable();
	cpu = smp_processor_id();
	p = goalloc_alloc(64, GFP_KERNEL);
	q = goalloc_alloc(1024, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	/* Both classes allocated since the last look: nothing flushed. */
	goalloc_flush_idle_spans();
	KUNIT_EXPECT_EQ(test, span_state_of(p), (unsigned int)GOALLOC_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, span_state_of(q), (unsigned int)GOALLOC_SPAN_CACHED);
	/* The 64-byte class allocates again, the 1024-byte one does not. */
	goalloc_free(p);
	p = goalloc_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_GE(test, goalloc_flush_idle_spans(), 1U);
	KUNIT_EXPECT_EQ(test, span_state_of(p), (unsigned int)GOALLOC_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, span_state_of(q), (unsigned int)GOALLOC_SPAN_PARTIAL);
	/* Nothing allocated since: the CPU's cache ends up empty. */
	KUNIT_EXPECT_GE(test, goalloc_flush_idle_spans(), 1U);
	KUNIT_EXPECT_EQ(test, span_state_of(p), (unsigned int)GOALLOC_SPAN_PARTIAL);
	KUNIT_EXPECT_TRUE(test, goalloc_mcache_drained(cpu));
	migrate_enable();
	goalloc_free(p);
	goalloc_free(q);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live0);
}

/* The number of slots of the span of @p. */
static unsigned int span_nelems_of(void *p)
{
	struct goalloc_span *s;
	unsigned int n;

	rcu_read_lock();
	s = goalloc_span_of(p);
	n = s ? s->nelems : 0;
	rcu_read_unlock();
	return n;
}

/*
 * Rules 6 and 7 (goalloc_mcache_shape()), for every class with a shape
 * other than its own: the small one below a span's worth of live objects
 * (for a CPU that freed more than it allocated, whose hint says nothing,
 * the own shape, then the big one once busy), the own one until the CPU is
 * busy, then one holding twice as many objects as are live, between the
 * own shape and the big one, never shrinking as they grow.
 */
static void scavenger_grow_shapes(struct kunit *test)
{
	unsigned int i, r, prev, checked = 0;
	long live, big;

	for (i = 1; i < GOALLOC_NUM_CLASSES; i++) {
		const struct goalloc_class_info *c = &goalloc_class_info[i];
		unsigned int small = c->small_npages < c->npages ? c->small_npages : 0;

		if (c->big_npages == c->npages && !small)
			continue;
		checked++;
		big = c->big_npages * GOALLOC_PAGE_SIZE / c->size;
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, -1, false), 0U, "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, -1, true),
				    c->big_npages == c->npages ? 0U : (unsigned int)c->big_npages,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, 0, false), small, "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, c->nelems - 1, true), small,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, c->nelems, false), 0U,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, 1000000, false), 0U,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, big, true),
				    c->big_npages == c->npages ? 0U : (unsigned int)c->big_npages,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mcache_shape(c, 1000000, true),
				    c->big_npages == c->npages ? 0U : (unsigned int)c->big_npages,
				    "class %u", i);
		prev = c->npages;
		for (live = c->nelems; live <= big + 1; live++) {
			r = goalloc_mcache_shape(c, live, true) ?: c->npages;
			KUNIT_EXPECT_GE_MSG(test, r, prev, "class %u live %ld", i, live);
			/* A busy CPU holding a span's worth grows more than a span. */
			if (c->big_npages > c->npages)
				KUNIT_EXPECT_GT_MSG(test, r, (unsigned int)c->npages,
						    "class %u live %ld", i, live);
			KUNIT_EXPECT_LE_MSG(test, r, (unsigned int)c->big_npages,
					    "class %u live %ld", i, live);
			/* Room for as many objects again, up to the big shape. */
			if (r < c->big_npages)
				KUNIT_EXPECT_GE_MSG(test, (long)(r * GOALLOC_PAGE_SIZE / c->size),
						    2 * live, "class %u live %ld", i, live);
			prev = r;
		}
	}
	KUNIT_EXPECT_GT(test, checked, 0U);
}

/* One answer of goalloc_mcache_bulk_shape() for a class and a chosen shape. */
static bool check_bulk_shape(struct kunit *test, const struct goalloc_class_info *c,
			     unsigned int npages, size_t asked)
{
	unsigned int r = goalloc_mcache_bulk_shape(c, npages, asked);
	unsigned int pages = npages ?: c->npages, got = r ?: c->npages;
	size_t want = min_t(size_t, asked, GOALLOC_BULK_SHAPE_OBJS);
	unsigned int held = got * GOALLOC_PAGE_SIZE / c->size;

	if (asked == 1 || c->size > GOALLOC_BULK_SHAPE_MAX_SIZE) {
		KUNIT_EXPECT_EQ_MSG(test, r, npages, "size %u", c->size);
		return false;
	}
	/* Never smaller than chosen, never past the page cache's run. */
	KUNIT_EXPECT_GE_MSG(test, got, pages, "size %u", c->size);
	KUNIT_EXPECT_LE_MSG(test, got, max_t(unsigned int, pages, GOALLOC_BIG_MAX_PAGES),
			    "size %u", c->size);
	/* The call's objects, or as many as the run holds. */
	KUNIT_EXPECT_TRUE_MSG(test, held >= want || got == GOALLOC_BIG_MAX_PAGES,
			      "size %u want %zu: %u", c->size, want, held);
	if (r == npages)
		return false;
	/* Larger only by the pages the call's objects need. */
	KUNIT_EXPECT_LT_MSG(test, (got - 1) * GOALLOC_PAGE_SIZE, want * c->size,
			    "size %u", c->size);
	return true;
}

/*
 * Rule 8: a bulk call's grow holds the call's objects (up to
 * GOALLOC_BULK_SHAPE_OBJS, within GOALLOC_BIG_MAX_PAGES) where the shape
 * chosen holds fewer, for classes up to GOALLOC_BULK_SHAPE_MAX_SIZE; the
 * chosen shape otherwise, and always for one object.
 */
static void scavenger_bulk_grow_shape(struct kunit *test)
{
	static const size_t wants[] = { 1, 2, 8, 32, 128, 256, 1000 };
	unsigned int i, j, k, grew = 0;

	for (i = 1; i < GOALLOC_NUM_CLASSES; i++) {
		const struct goalloc_class_info *c = &goalloc_class_info[i];
		unsigned int shapes[] = { 0, c->small_npages, c->big_npages };

		for (k = 0; k < ARRAY_SIZE(shapes); k++) {
			unsigned int npages = shapes[k] == c->npages ? 0 : shapes[k];

			for (j = 0; j < ARRAY_SIZE(wants); j++)
				grew += check_bulk_shape(test, c, npages, wants[j]);
		}
	}
	KUNIT_EXPECT_GT(test, grew, 0U);
}

/*
 * A CPU that keeps growing spans of a class of few objects a span grows
 * larger ones once it has grown GOALLOC_BIG_AFTER of its own shape, twice
 * as many objects as it holds up to the big shape; a pass starts the count
 * again.  32 KiB: spans of one object, up to five.
 */
static void scavenger_busy_class_grows_big_spans(struct kunit *test)
{
	const size_t size = 32768;
	unsigned int cls = goalloc_size_class(size), spc = goalloc_spc(cls, false);
	const struct goalloc_class_info *c = &goalloc_class_info[cls];
	unsigned int big_nelems = c->big_npages * GOALLOC_PAGE_SIZE / c->size;
	unsigned int i, n, want, counted = 0, own = 0, larger = 0, big = 0;
	const void *span, *prev = NULL;
	enum { N = 64 };
	long live0, hint0, hint;
	void **p;

	KUNIT_ASSERT_GT(test, c->big_npages, c->npages);
	p = kunit_kcalloc(test, N, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	heap_quiesce(test);
	live0 = goalloc_objects_in_use();
	migrate_disable();
	goalloc_flush_idle_spans();
	hint0 = goalloc_mcache_live_hint(spc);
	/*
	 * Every object whole and its own; each span grown of the shape the
	 * rules give for the hint then, and the count of grows (all but the
	 * small shape's) then.  The hint starts wherever earlier work on this
	 * CPU left it (below zero where it freed other CPUs' objects of the
	 * class: the count alone decides then).
	 */
	for (i = 0; i < N; i++) {
		hint = goalloc_mcache_live_hint(spc);
		p[i] = goalloc_alloc(size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		memset(p[i], i, size);
		rcu_read_lock();
		span = goalloc_span_of(p[i]);
		rcu_read_unlock();
		n = span_nelems_of(p[i]);
		if (span != prev) {
			want = goalloc_mcache_shape(c, hint, counted >= GOALLOC_BIG_AFTER) ?:
			       c->npages;
			want = want * (unsigned int)GOALLOC_PAGE_SIZE / c->size;
			KUNIT_EXPECT_EQ_MSG(test, n, want, "object %u, hint %ld, %u grows", i, hint,
					    counted);
			if ((hint < 0 || hint >= c->nelems) && counted < GOALLOC_BIG_AFTER)
				counted++;
			prev = span;
		}
		if (n == c->nelems)
			own++;
		else if (n == big_nelems)
			big++;
		else if (n > c->nelems && n < big_nelems)
			larger++;
		else
			KUNIT_FAIL(test, "object %u in a span of %u slots", i, n);
	}
	/* The hint counts this CPU's allocations. */
	KUNIT_EXPECT_EQ(test, goalloc_mcache_live_hint(spc), hint0 + N);
	/* A pass: the count starts again, whatever is live. */
	goalloc_flush_idle_spans();
	for (i = 0; i < GOALLOC_BIG_AFTER; i++)
		KUNIT_EXPECT_EQ(test, goalloc_mcache_grow_pages(spc), 0U);
	KUNIT_EXPECT_EQ(test, goalloc_mcache_grow_pages(spc),
			goalloc_mcache_shape(c, hint0 + N, true));
	migrate_enable();
	/* 64 objects: eight own spans, then big ones, whatever the hint. */
	KUNIT_EXPECT_GT(test, big, 0U);
	KUNIT_EXPECT_EQ(test, own + larger + big, (unsigned int)N);
	for (i = 0; i < N; i++) {
		KUNIT_EXPECT_PTR_EQ_MSG(test, memchr_inv(p[i], i, size), NULL, "object %u", i);
		/* A larger span's objects are aligned as the class's own are. */
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p[i], size));
		goalloc_free(p[i]);
	}
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live0);
	heap_quiesce(test);
}

/*
 * A CPU holding fewer objects of a class than a span of the class's own
 * shape holds grows the small shape (tools/mksizeclasses.py rule 7), then
 * its own: 6,784 bytes, one object in one heap page, then six in five.
 * Where the heap has free pages but no run of five, it places the small
 * shape rather than grow (goalloc_pool_alloc_span_or()), and counts it.
 */
static void scavenger_first_span_is_small(struct kunit *test)
{
	const size_t size = 6784;
	unsigned int cls = goalloc_size_class(size), spc = goalloc_spc(cls, false);
	const struct goalloc_class_info *c = &goalloc_class_info[cls];
	unsigned int small_nelems = c->small_npages * GOALLOC_PAGE_SIZE / c->size, i, n;
	unsigned int nsmall = 0, nown = 0, nfallback = 0;
	const void *span, *prev = NULL;
	long live0, hint0, hint, fallbacks;
	void *p[8];

	KUNIT_ASSERT_LT(test, c->small_npages, c->npages);
	KUNIT_ASSERT_EQ(test, small_nelems, 1U);
	KUNIT_ASSERT_GT(test, ARRAY_SIZE(p), (size_t)c->nelems);
	heap_quiesce(test);
	live0 = goalloc_objects_in_use();
	migrate_disable();
	/*
	 * End to end, after a pass: each new span is of the small shape while
	 * this CPU holds fewer objects of the class than its own shape holds
	 * (and not fewer than none: the hint counts other CPUs' frees too).
	 */
	goalloc_flush_idle_spans();
	hint0 = goalloc_mcache_live_hint(spc);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		hint = goalloc_mcache_live_hint(spc);
		fallbacks = atomic_long_read(&goalloc_counters[GOALLOC_CTR_SHAPE_FALLBACKS]);
		p[i] = goalloc_alloc(size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		memset(p[i], 0x5a + i, size);
		rcu_read_lock();
		span = goalloc_span_of(p[i]);
		rcu_read_unlock();
		n = span_nelems_of(p[i]);
		if (span == prev)
			continue;
		prev = span;
		if (hint >= 0 && hint < c->nelems) {
			KUNIT_EXPECT_EQ_MSG(test, n, small_nelems, "object %u, hint %ld", i, hint);
			nsmall++;
		} else if (n == small_nelems &&
			   atomic_long_read(&goalloc_counters[GOALLOC_CTR_SHAPE_FALLBACKS]) ==
			   fallbacks + 1) {
			/* The heap had no run of the own shape: the small one, counted. */
			nfallback++;
		} else {
			KUNIT_EXPECT_EQ_MSG(test, n, (unsigned int)c->nelems, "object %u, hint %ld",
					    i, hint);
			nown++;
		}
	}
	migrate_enable();
	/* Eight objects: a span of the own shape, and the small one first if quiet. */
	KUNIT_EXPECT_GT(test, nown + nfallback, 0U);
	if (hint0 >= 0 && hint0 < c->nelems)
		KUNIT_EXPECT_GT(test, nsmall, 0U);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		KUNIT_EXPECT_PTR_EQ_MSG(test, memchr_inv(p[i], 0x5a + i, size), NULL,
					"object %u", i);
		goalloc_free(p[i]);
	}
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live0);
	heap_quiesce(test);
}

/* The kernel pool's retention as it was before a test changed it. */
static unsigned int test_retain_percent0;

static void test_retain_restore_action(void *unused)
{
	WRITE_ONCE(goalloc_heap_trim.retain_percent, test_retain_percent0);
}

/*
 * A CPU about to grow the heap first gives back the spans it caches with
 * no object in them (mcache.c's mcache_flush_empty()), so that their pages
 * serve the grow: here an 18 KiB class's span (its small shape), emptied,
 * then 2 KiB objects (spans of the small shape, then the class's own) until
 * the heap is short.  The heap must not grow while the empty span is
 * still cached, and the span that takes its place needs no new chunk.
 */
static void scavenger_grow_takes_back_empty_spans(struct kunit *test)
{
	const unsigned int spc_a = goalloc_spc(goalloc_size_class(18432), false);
	const struct goalloc_pool *pool = &goalloc_heap.kernel;
	struct goalloc_mcache *c;
	unsigned int i, n = 0;
	unsigned long held;
	bool flushed = false;
	enum { N = 4096 };
	long live0;
	void **q, *a, *keep;

	q = kunit_kcalloc(test, N, sizeof(*q), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	heap_quiesce(test);
	live0 = goalloc_objects_in_use();
	/*
	 * Idle chunks kept, with an object of another class in use so that
	 * the goal is not nothing: in a heap this empty, the chunk the flushed
	 * span leaves idle would go back at once, and the grow take a new one
	 * (the retention's doing, not the flush's).
	 */
	test_retain_percent0 = READ_ONCE(goalloc_heap_trim.retain_percent);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, test_retain_restore_action,
							   NULL));
	WRITE_ONCE(goalloc_heap_trim.retain_percent, 100000);
	migrate_disable();
	c = this_cpu_ptr(goalloc_mcache);
	keep = goalloc_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, keep);
	a = goalloc_alloc(18432, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	goalloc_free(a);
	/* Empty, and still this CPU's span of the class. */
	KUNIT_ASSERT_PTR_NE(test, READ_ONCE(c->alloc[spc_a]), &goalloc_placeholder_span);
	for (i = 0; i < N && !flushed; i++) {
		held = READ_ONCE(pool->pages_held);
		q[i] = goalloc_alloc(2048, GFP_KERNEL);
		if (!q[i]) {
			KUNIT_FAIL(test, "allocation %u failed", i);
			break;
		}
		memset(q[i], i, 2048);
		n++;
		flushed = READ_ONCE(c->alloc[spc_a]) == &goalloc_placeholder_span;
		/* Before the span went back, or as it went: no grow. */
		if (READ_ONCE(pool->pages_held) != held) {
			KUNIT_FAIL(test, "heap pages %lu -> %lu at object %u (flushed: %d)",
				   held, READ_ONCE(pool->pages_held), i, flushed);
			break;
		}
	}
	migrate_enable();
	KUNIT_EXPECT_TRUE(test, flushed);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_PTR_EQ_MSG(test, memchr_inv(q[i], i & 0xff, 2048), NULL,
					"object %u", i);
		goalloc_free(q[i]);
	}
	goalloc_free(keep);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live0);
	heap_quiesce(test);
}

static struct kunit_case scavenger_cases[] = {
	KUNIT_CASE(scavenger_retain_goal),
	KUNIT_CASE(scavenger_trim_work),
	KUNIT_CASE(scavenger_shrinker_kept_spans),
	KUNIT_CASE(shrinker_counts_only_what_it_can_free),
	KUNIT_CASE(shrinker_never_waits_for_drains),
	KUNIT_CASE(scavenger_flushes_idle_spans),
	KUNIT_CASE(scavenger_grow_shapes),
	KUNIT_CASE(scavenger_busy_class_grows_big_spans),
	KUNIT_CASE(scavenger_bulk_grow_shape),
	KUNIT_CASE(scavenger_first_span_is_small),
	KUNIT_CASE(scavenger_grow_takes_back_empty_spans),
	KUNIT_CASE(scavenger_pass_on_grow),
	KUNIT_CASE(scavenger_releases_everything),
	{}
};

static struct kunit_suite scavenger_suite = {
	.name = "goalloc_scavenger",
	.init = quiet_classes_init,
	.exit = quiet_classes_exit,
	.test_cases = scavenger_cases,
};

kunit_test_suite(scavenger_suite);
