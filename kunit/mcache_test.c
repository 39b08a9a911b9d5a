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

static unsigned int qspc(void)
{
	return goalloc_spc(goalloc_size_class(QSIZE), false);
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

/*
 * Two objects of a quiet class come from one span of mcentral's, which no
 * CPU caches; the CPU counts them as its own.  Freeing one is a remote
 * free, and freeing it again is caught and changes nothing.
 */
static void quiet_objects_share_mcentral_span(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int spc = qspc();
	bool room;
	long live0;
	void *p, *q;

	if (one_cpu(test))
		return;

	WRITE_ONCE(goalloc_quiet_max, 2048);
	migrate_disable();
	live0 = goalloc_mcache_live_hint(spc);
	p = goalloc_alloc(QSIZE, GFP_KERNEL);
	room = p && goalloc_span_inuse_hint(span_of(p)) < (int)span_of(p)->nelems;
	q = p ? goalloc_alloc(QSIZE, GFP_KERNEL) : NULL;
	KUNIT_EXPECT_PTR_EQ(test, cpu_span(spc), &goalloc_placeholder_span);
	KUNIT_EXPECT_EQ(test, goalloc_mcache_live_hint(spc), live0 + 2);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, state_of(p), GOALLOC_SPAN_PARTIAL);
	/* Where p's span had room for q, q came from it. */
	if (room)
		KUNIT_EXPECT_PTR_EQ(test, span_of(p), span_of(q));
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 2);
	memset(p, 0x5a, QSIZE);
	memset(q, 0xa5, QSIZE);
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(p, 0x5a, QSIZE), NULL);

	goalloc_free(p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 1);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_free(p);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 1);
	/* The other object is whole, and its span still serves it. */
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(q, 0xa5, QSIZE), NULL);
	KUNIT_EXPECT_EQ(test, goalloc_size(q),
			(size_t)goalloc_cls_info(goalloc_size_class(QSIZE))->size);
	goalloc_free(q);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
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
	unsigned int spc = qspc(), i, tries;
	enum goalloc_span_state st[4];
	bool quiet[4] = {}, settled = false;
	void *p[4] = {};

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
		migrate_disable();
		sec = jiffies / HZ;
		for (i = 0; i < ARRAY_SIZE(p); i++) {
			p[i] = goalloc_alloc(QSIZE, GFP_KERNEL);
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
				KUNIT_EXPECT_EQ(test, st[i], GOALLOC_SPAN_PARTIAL);
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
	long base = goalloc_objects_in_use();
	unsigned int spc = qspc();
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
 * the CPU's count of the class (goalloc_mcache_live_hint(), which other
 * tests' frees on this CPU may have moved) is below that, and the first
 * one at it caches a span.
 */
static void quiet_ends_with_objects_held(struct kunit *test)
{
	const struct goalloc_class_info *c = goalloc_cls_info(goalloc_size_class(QSIZE));
	const long limit = GOALLOC_QUIET_SPANS * (long)c->nelems;
	unsigned int n = 4 * limit, spc = qspc(), i, wrong = 0;
	long base = goalloc_objects_in_use(), live;
	bool quiet, cached = false;
	void **v;

	if (one_cpu(test))
		return;

	v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	WRITE_ONCE(goalloc_quiet_max, 0xffff);
	migrate_disable();
	for (i = 0; i < n && !cached; i++) {
		live = goalloc_mcache_live_hint(spc);
		v[i] = goalloc_alloc(QSIZE, GFP_KERNEL);
		if (!v[i])
			break;
		quiet = cpu_span(spc) == &goalloc_placeholder_span;
		cached = !quiet;
		wrong += quiet != (live < limit);
	}
	migrate_enable();
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_TRUE(test, cached);
	for (i = 0; i < n; i++)
		goalloc_free(v[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

static struct kunit_case mcache_cases[] = {
	KUNIT_CASE(quiet_objects_share_mcentral_span),
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
