// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: quiet classes (mcache.c, mcache_quiet()).  A CPU that caches no
 * span of a class and holds few of its objects takes them from mcentral's
 * spans, which every CPU shares; past goalloc_quiet_max such allocations
 * in a second, or once it holds GOALLOC_QUIET_SPANS spans' worth, it
 * caches a span of the class as before.  Each test checks where the
 * objects came from (the CPU's slot, the span's state), that a quiet
 * object's double free is caught, and that the counts come back.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/rcupdate.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mspan.h"
#include "sizeclasses.h"

/* A class no other test allocates from while this suite runs. */
#define QSIZE	1000

static unsigned int quiet_max0;

static int quiet_init(struct kunit *test)
{
	quiet_max0 = READ_ONCE(goalloc_quiet_max);
	/* Every CPU starts with no span of any class cached. */
	goalloc_drain_all();
	return 0;
}

static void quiet_exit(struct kunit *test)
{
	WRITE_ONCE(goalloc_quiet_max, quiet_max0);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
}

/* With one CPU online no class is quiet (the UML run). */
static bool one_cpu(struct kunit *test)
{
	if (num_online_cpus() >= 2)
		return false;
	kunit_skip(test, "one CPU online: no class is quiet");
	return true;
}

static unsigned int spc_of_size(size_t size)
{
	return goalloc_spc(goalloc_size_class(size), false);
}

/*
 * A size whose class this CPU can be quiet with for @room more objects:
 * no span of it cached, and this CPU's count of its objects (which other
 * suites' frees on this CPU move, even below zero) from 0 to @room short
 * of the limit.  With migration disabled; 0 if no candidate qualifies.
 */
static size_t quiet_size(unsigned int room)
{
	static const size_t sizes[] = { QSIZE, 1500, 600, 2500, 3000, 700 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned int cls = goalloc_size_class(sizes[i]), spc = spc_of_size(sizes[i]);
		long live = goalloc_mcache_live_hint(spc);
		long limit = GOALLOC_QUIET_SPANS * (long)goalloc_cls_info(cls)->nelems;

		if (this_cpu_read(goalloc_mcache->alloc[spc]) == &goalloc_placeholder_span &&
		    live >= 0 && live + room < limit)
			return sizes[i];
	}
	return 0;
}

/* The span this CPU allocates @spc from (the empty one: none). */
static struct goalloc_span *cpu_span(unsigned int spc)
{
	return this_cpu_read(goalloc_mcache->alloc[spc]);
}

static enum goalloc_span_state state_of(const void *p)
{
	struct goalloc_span *s;
	u8 st;

	rcu_read_lock();
	s = goalloc_span_of(p);
	st = s ? READ_ONCE(s->state) : GOALLOC_SPAN_DEAD;
	rcu_read_unlock();
	return st;
}

static struct goalloc_span *span_of(const void *p)
{
	struct goalloc_span *s;

	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	return s;
}

/* Pin to this CPU and pick a size (quiet_size()); skip the test if none. */
static size_t pin_quiet(struct kunit *test, unsigned int room)
{
	size_t size;

	migrate_disable();
	size = quiet_size(room);
	if (!size) {
		migrate_enable();
		kunit_skip(test, "this CPU is near the limit with every candidate class");
	}
	return size;
}

/* Not the CPU's: mcentral's, partly used or (its last slot taken) full. */
static bool mcentral_state(enum goalloc_span_state st)
{
	return st == GOALLOC_SPAN_PARTIAL || st == GOALLOC_SPAN_FULL;
}

/*
 * Two objects of a quiet class come from mcentral's spans (one span, where
 * the first left room), which no CPU caches; the CPU counts them as its
 * own.  Freeing one is a remote free, and freeing it again is caught and
 * changes nothing.
 */
static void quiet_objects_share_mcentral_span(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int spc;
	size_t size;
	bool room;
	long live0;
	void *p, *q;

	if (one_cpu(test))
		return;

	WRITE_ONCE(goalloc_quiet_max, 2048);
	size = pin_quiet(test, 2);
	if (!size)
		return;
	spc = spc_of_size(size);
	live0 = goalloc_mcache_live_hint(spc);
	p = goalloc_alloc(size, GFP_KERNEL);
	room = p && goalloc_span_inuse_hint(span_of(p)) < (int)span_of(p)->nelems;
	q = p ? goalloc_alloc(size, GFP_KERNEL) : NULL;
	KUNIT_EXPECT_PTR_EQ(test, cpu_span(spc), &goalloc_placeholder_span);
	KUNIT_EXPECT_EQ(test, goalloc_mcache_live_hint(spc), live0 + 2);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_TRUE(test, mcentral_state(state_of(p)));
	KUNIT_EXPECT_TRUE(test, mcentral_state(state_of(q)));
	if (room)
		KUNIT_EXPECT_PTR_EQ(test, span_of(p), span_of(q));
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 2);
	memset(p, 0x5a, size);
	memset(q, 0xa5, size);
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(p, 0x5a, size), NULL);

	goalloc_free(p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 1);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_free(p);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 1);
	/* The other object is whole, and its span still serves it. */
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(q, 0xa5, size), NULL);
	KUNIT_EXPECT_EQ(test, goalloc_size(q),
			(size_t)goalloc_cls_info(goalloc_size_class(size))->size);
	goalloc_free(q);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
}

/*
 * A lone quiet object: its free may empty its span, which mcentral then
 * gives back to the heap; a second free is refused all the same (named
 * "not goalloc memory" then, not "double free"), counted once, with
 * nothing else changed.
 */
static void quiet_lone_object_double_free(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int spc;
	size_t size;
	bool quiet;
	void *p;

	if (one_cpu(test))
		return;

	WRITE_ONCE(goalloc_quiet_max, 2048);
	size = pin_quiet(test, 1);
	if (!size)
		return;
	spc = spc_of_size(size);
	p = goalloc_alloc(size, GFP_KERNEL);
	quiet = cpu_span(spc) == &goalloc_placeholder_span;
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, quiet);
	goalloc_free(p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_free(p);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * Past goalloc_quiet_max quiet allocations in a second the class is busy
 * on the CPU: the next allocation caches a span, and the fast path serves
 * the class from then on.  The test starts at a new second, whose count no
 * earlier allocation touched; a second that turns during the test starts
 * the count again, and the test then tries again.
 */
static void quiet_class_turns_busy(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	enum goalloc_span_state st[4];
	bool quiet[4] = {}, settled = false;
	unsigned int spc, i, tries;
	void *p[4] = {};
	size_t size;

	if (one_cpu(test))
		return;

	WRITE_ONCE(goalloc_quiet_max, 3);
	for (tries = 0; tries < 5 && !settled; tries++) {
		unsigned long sec;

		goalloc_drain_all();
		/* A new second: no quiet allocation of the class counted in it yet. */
		sec = jiffies / HZ;
		while (jiffies / HZ == sec)
			msleep(20);
		size = pin_quiet(test, ARRAY_SIZE(p));
		if (!size)
			return;
		spc = spc_of_size(size);
		sec = jiffies / HZ;
		for (i = 0; i < ARRAY_SIZE(p); i++) {
			p[i] = goalloc_alloc(size, GFP_KERNEL);
			quiet[i] = cpu_span(spc) == &goalloc_placeholder_span;
			/* Now: the busy CPU's refill may take their span next. */
			st[i] = p[i] ? state_of(p[i]) : GOALLOC_SPAN_DEAD;
		}
		settled = jiffies / HZ == sec;
		migrate_enable();
		for (i = 0; i < ARRAY_SIZE(p); i++)
			KUNIT_ASSERT_NOT_NULL(test, p[i]);
		if (settled) {
			for (i = 0; i < 3; i++) {
				KUNIT_EXPECT_TRUE_MSG(test, quiet[i], "allocation %u", i);
				KUNIT_EXPECT_TRUE_MSG(test, mcentral_state(st[i]), "object %u", i);
			}
			KUNIT_EXPECT_FALSE(test, quiet[3]);
			KUNIT_EXPECT_EQ(test, st[3], GOALLOC_SPAN_CACHED);
		}
		for (i = 0; i < ARRAY_SIZE(p); i++)
			goalloc_free(p[i]);
	}
	KUNIT_EXPECT_TRUE(test, settled);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* quiet_max=0: no class is quiet, the first object's span is the CPU's. */
static void quiet_off_caches_first_span(struct kunit *test)
{
	unsigned int spc = spc_of_size(QSIZE);
	long base = goalloc_objects_in_use();
	void *p;

	WRITE_ONCE(goalloc_quiet_max, 0);
	migrate_disable();
	p = goalloc_alloc(QSIZE, GFP_KERNEL);
	if (p)
		KUNIT_EXPECT_PTR_EQ(test, cpu_span(spc), span_of(p));
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, state_of(p), GOALLOC_SPAN_CACHED);
	goalloc_free(p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * A CPU holding GOALLOC_QUIET_SPANS spans' worth of a class's objects is
 * busy with it however rarely it allocates: each allocation is quiet while
 * the CPU's count of the class (goalloc_mcache_live_hint()) is below that,
 * and the first one at it caches a span.
 */
static void quiet_ends_with_objects_held(struct kunit *test)
{
	long base = goalloc_objects_in_use(), live, limit;
	unsigned int n, spc, i, wrong = 0;
	bool quiet, cached = false;
	size_t size;
	void **v;

	if (one_cpu(test))
		return;

	WRITE_ONCE(goalloc_quiet_max, 0xffff);
	/* The most any candidate class needs: from a count of 0 to its limit. */
	n = GOALLOC_QUIET_SPANS * 64 + 1;
	v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	size = pin_quiet(test, 1);
	if (!size)
		return;
	spc = spc_of_size(size);
	limit = GOALLOC_QUIET_SPANS * (long)goalloc_cls_info(goalloc_size_class(size))->nelems;
	for (i = 0; i < n && !cached; i++) {
		live = goalloc_mcache_live_hint(spc);
		v[i] = goalloc_alloc(size, GFP_KERNEL);
		if (!v[i])
			break;
		quiet = cpu_span(spc) == &goalloc_placeholder_span;
		cached = !quiet;
		wrong += quiet != (live < limit);
	}
	migrate_enable();
	KUNIT_EXPECT_LE(test, limit, (long)n - 1);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_TRUE(test, cached);
	for (i = 0; i < n; i++)
		goalloc_free(v[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

static struct kunit_case mcache_cases[] = {
	KUNIT_CASE(quiet_objects_share_mcentral_span),
	KUNIT_CASE(quiet_lone_object_double_free),
	KUNIT_CASE(quiet_class_turns_busy),
	KUNIT_CASE(quiet_off_caches_first_span),
	KUNIT_CASE(quiet_ends_with_objects_held),
	{}
};

static struct kunit_suite mcache_suite = {
	.name = "goalloc_mcache",
	.init = quiet_init,
	.exit = quiet_exit,
	.test_cases = mcache_cases,
};

kunit_test_suite(mcache_suite);
