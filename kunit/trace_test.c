// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: goalloc's tracepoints (kmod/trace.h) fire once per call, with the
 * fields kmem:kmalloc and kmem:kfree carry, on the fast path and the slow.
 * A probe attached here records what the events carry; only the test's
 * own pointers are kept, so other CPUs' traffic does not disturb it.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "goalloc.h"
#include "trace.h"

#define TRACE_MAX	16

static struct {
	raw_spinlock_t lock;		/* probes run on any CPU, preemption off */
	const void *want[TRACE_MAX];	/* pointers whose events are kept */
	unsigned int nwant;
	struct {
		bool is_free;
		unsigned long call_site;
		const void *ptr;
		size_t req, alloc;
		gfp_t gfp;
		int node;
	} ev[TRACE_MAX];
	unsigned int n;
	struct task_struct *task;	/* the test's (KUnit's exit runs elsewhere) */
} rec;

static bool wanted(const void *ptr)
{
	unsigned int i;

	for (i = 0; i < rec.nwant; i++)
		if (rec.want[i] == ptr)
			return true;
	return false;
}

static void probe_alloc(void *data, unsigned long call_site, const void *ptr,
			size_t bytes_req, size_t bytes_alloc, gfp_t gfp, int node)
{
	unsigned long flags;

	/* An allocation's pointer is not known before: keep the test task's. */
	if (current != data)
		return;
	raw_spin_lock_irqsave(&rec.lock, flags);
	if (rec.n < TRACE_MAX) {
		rec.ev[rec.n].is_free = false;
		rec.ev[rec.n].call_site = call_site;
		rec.ev[rec.n].ptr = ptr;
		rec.ev[rec.n].req = bytes_req;
		rec.ev[rec.n].alloc = bytes_alloc;
		rec.ev[rec.n].gfp = gfp;
		rec.ev[rec.n].node = node;
		rec.n++;
	}
	raw_spin_unlock_irqrestore(&rec.lock, flags);
}

static void probe_free(void *data, unsigned long call_site, const void *ptr)
{
	unsigned long flags;

	if (current != data && !wanted(ptr))
		return;
	raw_spin_lock_irqsave(&rec.lock, flags);
	if (rec.n < TRACE_MAX) {
		rec.ev[rec.n].is_free = true;
		rec.ev[rec.n].call_site = call_site;
		rec.ev[rec.n].ptr = ptr;
		rec.n++;
	}
	raw_spin_unlock_irqrestore(&rec.lock, flags);
}

static int trace_init(struct kunit *test)
{
	memset(&rec, 0, sizeof(rec));
	raw_spin_lock_init(&rec.lock);
	rec.task = current;
	KUNIT_ASSERT_EQ(test, register_trace_alloc(probe_alloc, rec.task), 0);
	KUNIT_ASSERT_EQ(test, register_trace_free(probe_free, rec.task), 0);
	return 0;
}

static void trace_exit(struct kunit *test)
{
	unregister_trace_alloc(probe_alloc, rec.task);
	unregister_trace_free(probe_free, rec.task);
	tracepoint_synchronize_unregister();
}

/* Is @ip inside the function at @fn (the test's own call site)? */
static bool site_in(unsigned long ip, void *fn)
{
	unsigned long start = (unsigned long)fn;

	return ip > start && ip < start + 4096;
}

/*
 * One alloc and one free event per call, with the caller's site, on the
 * fast path (a small object, twice: the second comes from the CPU's span)
 * and the slow path (a large object), and for a named cache.
 */
static void events_carry_kmem_fields(struct kunit *test)
{
	struct goalloc_cache *cache;
	void *p, *q, *big, *o;
	unsigned int i;

	p = goalloc_alloc(100, GFP_KERNEL);
	q = goalloc_alloc(100, GFP_KERNEL | __GFP_ZERO);
	big = goalloc_alloc(100 * 1024, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_ASSERT_NOT_NULL(test, big);
	goalloc_free(p);
	goalloc_free(q);
	goalloc_free(big);
	goalloc_free(NULL);
	KUNIT_ASSERT_EQ(test, rec.n, 7U);
	KUNIT_EXPECT_FALSE(test, rec.ev[0].is_free);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[0].ptr, (const void *)p);
	KUNIT_EXPECT_EQ(test, rec.ev[0].req, (size_t)100);
	KUNIT_EXPECT_EQ(test, rec.ev[0].alloc, goalloc_size_roundup(100));
	KUNIT_EXPECT_EQ(test, (__force u32)rec.ev[0].gfp, (__force u32)GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, rec.ev[0].node, NUMA_NO_NODE);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[1].ptr, (const void *)q);
	KUNIT_EXPECT_EQ(test, (__force u32)rec.ev[1].gfp, (__force u32)(GFP_KERNEL | __GFP_ZERO));
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[2].ptr, (const void *)big);
	KUNIT_EXPECT_EQ(test, rec.ev[2].req, (size_t)100 * 1024);
	KUNIT_EXPECT_GE(test, rec.ev[2].alloc, (size_t)100 * 1024);
	for (i = 3; i < 7; i++)
		KUNIT_EXPECT_TRUE(test, rec.ev[i].is_free);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[3].ptr, (const void *)p);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[4].ptr, (const void *)q);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[5].ptr, (const void *)big);
	KUNIT_EXPECT_NULL(test, rec.ev[6].ptr);
	for (i = 0; i < 7; i++)
		KUNIT_EXPECT_TRUE_MSG(test, site_in(rec.ev[i].call_site, events_carry_kmem_fields),
				      "event %u: call_site %pS", i, (void *)rec.ev[i].call_site);

	cache = goalloc_cache_create("goalloc_trace_test", 72, 0, 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, cache);
	rec.n = 0;
	o = goalloc_cache_alloc(cache, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	goalloc_cache_free(cache, o);
	KUNIT_EXPECT_EQ(test, rec.n, 2U);
	KUNIT_EXPECT_PTR_EQ(test, rec.ev[0].ptr, (const void *)o);
	KUNIT_EXPECT_EQ(test, rec.ev[0].req, (size_t)72);
	KUNIT_EXPECT_TRUE(test, rec.ev[1].is_free && rec.ev[1].ptr == o);
	KUNIT_EXPECT_TRUE(test, site_in(rec.ev[0].call_site, events_carry_kmem_fields));
	KUNIT_EXPECT_TRUE(test, site_in(rec.ev[1].call_site, events_carry_kmem_fields));
	goalloc_cache_destroy(cache);
}

/*
 * A free into a span the CPU does not own: with the event on, the fast
 * path leaves it to the slow path, which fires it once, before the free.
 */
static void remote_free_has_one_event(struct kunit *test)
{
	const unsigned int nobjs = 200;
	unsigned int i, frees = 0;
	void **objs;

	objs = kunit_kcalloc(test, nobjs, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	for (i = 0; i < nobjs; i++) {
		objs[i] = goalloc_alloc(512, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	rec.n = 0;
	rec.want[rec.nwant++] = objs[0];
	goalloc_free(objs[0]);
	for (i = 0; i < rec.n; i++)
		frees += rec.ev[i].is_free && rec.ev[i].ptr == objs[0];
	KUNIT_EXPECT_EQ(test, frees, 1U);
	for (i = 1; i < nobjs; i++)
		goalloc_free(objs[i]);
}

static struct kunit_case trace_cases[] = {
	KUNIT_CASE(events_carry_kmem_fields),
	KUNIT_CASE(remote_free_has_one_event),
	{}
};

static struct kunit_suite trace_suite = {
	.name = "goalloc_trace",
	.init = trace_init,
	.exit = trace_exit,
	.test_cases = trace_cases,
};

kunit_test_suite(trace_suite);
