// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the allocation-site profile (kmod/mprof.c).  At profile_rate=1
 * every allocation is recorded and the site's counts are exact: checked
 * after allocations and frees through every API path (single, named cache,
 * bulk, RCU, large, a free from another CPU).  At a sampling rate the
 * estimates are unbiased: checked within a bound many standard errors
 * wide, and exactly back to zero when everything is freed.
 */
#include <kunit/test.h>
#include <linux/kallsyms.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "goalloc.h"
#include "mheap.h"
#include "internal.h"
#include "mprof.h"

static void rate(struct kunit *test, unsigned long r)
{
	KUNIT_ASSERT_EQ(test, goalloc_mprof_set_rate(r), 0);
}

/* One call site for every allocation of a test (the profile's key). */
static noinline void *alloc_site(size_t size)
{
	return goalloc_alloc(size, GFP_KERNEL);
}

/* A bulk call site of its own; not a tail call, so the site is this function. */
static noinline int bulk_site(size_t n, void **v)
{
	int r = goalloc_alloc_bulk(100, GFP_KERNEL, n, v);

	barrier();
	return r;
}

static void site(struct kunit *test, const void *p, struct goalloc_mprof_site_stats *st)
{
	unsigned long ip = goalloc_mprof_site_of(p);

	KUNIT_ASSERT_NE(test, ip, 0UL);
	KUNIT_ASSERT_TRUE(test, goalloc_mprof_site(ip, st));
}

static void profile_exact_at_rate_one(struct kunit *test)
{
	const size_t size = 100, usable = goalloc_size_roundup(100);
	struct goalloc_mprof_site_stats st;
	unsigned long ip, records0;
	long bad0;
	void *v[64];
	unsigned int i;

	rate(test, 1);
	records0 = goalloc_mprof_records();
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		v[i] = alloc_site(size);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	ip = goalloc_mprof_site_of(v[0]);
	for (i = 1; i < ARRAY_SIZE(v); i++)
		KUNIT_EXPECT_EQ(test, goalloc_mprof_site_of(v[i]), ip);
	site(test, v[0], &st);
	KUNIT_EXPECT_EQ(test, st.samples, (u64)ARRAY_SIZE(v));
	KUNIT_EXPECT_EQ(test, st.calls, (u64)ARRAY_SIZE(v));
	KUNIT_EXPECT_EQ(test, st.live_objects, (u64)ARRAY_SIZE(v));
	KUNIT_EXPECT_EQ(test, st.live_bytes, (u64)(ARRAY_SIZE(v) * usable));

	for (i = 0; i < ARRAY_SIZE(v) / 2; i++)
		goalloc_free(v[i]);
	KUNIT_ASSERT_TRUE(test, goalloc_mprof_site(ip, &st));
	KUNIT_EXPECT_EQ(test, st.calls, (u64)ARRAY_SIZE(v));
	KUNIT_EXPECT_EQ(test, st.live_objects, (u64)(ARRAY_SIZE(v) / 2));
	KUNIT_EXPECT_EQ(test, goalloc_mprof_site_of(v[0]), 0UL);
	/* A double free of a sampled object is still refused: nothing changes. */
	bad0 = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_free(v[0]);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad0 + 1);
	KUNIT_ASSERT_TRUE(test, goalloc_mprof_site(ip, &st));
	KUNIT_EXPECT_EQ(test, st.live_objects, (u64)(ARRAY_SIZE(v) / 2));
	for (; i < ARRAY_SIZE(v); i++)
		goalloc_free(v[i]);
	KUNIT_ASSERT_TRUE(test, goalloc_mprof_site(ip, &st));
	KUNIT_EXPECT_EQ(test, st.live_objects, 0ULL);
	KUNIT_EXPECT_EQ(test, st.live_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), records0);
	rate(test, 0);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), 0UL);
	KUNIT_EXPECT_FALSE(test, goalloc_mprof_site(ip, &st));
}

struct rcu_obj {
	struct rcu_head rcu;
	char pad[40];
};

static long free_elsewhere(void *p)
{
	goalloc_free(p);
	return 0;
}

/*
 * A bulk call's objects are its caller's: the site of every object of a
 * call of 100 (past a batch of 64, and every call the profile watches goes
 * through the batch loop's function) is bulk_site(), not a function of
 * goalloc (the KCSAN build makes that loop a call, not a tail call).
 */
static void profile_bulk_names_its_caller(struct kunit *test)
{
	const unsigned int n = 100;
	char name[KSYM_SYMBOL_LEN];
	unsigned long ip;
	unsigned int i;
	void **v;

	if (!IS_ENABLED(CONFIG_KALLSYMS))
		kunit_skip(test, "no kallsyms to name the site");
	v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	rate(test, 1);
	KUNIT_ASSERT_EQ(test, bulk_site(n, v), (int)n);
	ip = goalloc_mprof_site_of(v[0]);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mprof_site_of(v[i]), ip, "object %u", i);
	sprint_symbol_no_offset(name, ip);
	/* bulk_site, bulk_site.isra.0, bulk_site [goalloc_test]... */
	KUNIT_EXPECT_TRUE_MSG(test, str_has_prefix(name, "bulk_site"), "site %s", name);
	goalloc_free_bulk(n, v);
	rate(test, 0);
}

/* Every free path drops the record: cache, bulk, RCU, large, remote. */
static void profile_every_free_path(struct kunit *test)
{
	struct goalloc_cache *cache;
	struct rcu_obj *r;
	void *bulk[16], *c, *large, *remote;
	const void *objs[6];
	unsigned int other, i;

	rate(test, 1);
	cache = goalloc_cache_create("goalloc_mprof_test", 72, 0, 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, cache);
	c = goalloc_cache_alloc(cache, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test, goalloc_alloc_bulk(64, GFP_KERNEL, ARRAY_SIZE(bulk), bulk),
			(int)ARRAY_SIZE(bulk));
	r = goalloc_alloc(sizeof(*r), GFP_KERNEL);
	large = goalloc_alloc(64 << 10, GFP_KERNEL);
	remote = goalloc_alloc(256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, large);
	KUNIT_ASSERT_NOT_NULL(test, remote);
	objs[0] = c;
	objs[1] = bulk[0];
	objs[2] = bulk[ARRAY_SIZE(bulk) - 1];
	objs[3] = r;
	objs[4] = large;
	objs[5] = remote;
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		KUNIT_EXPECT_NE_MSG(test, goalloc_mprof_site_of(objs[i]), 0UL, "object %u", i);

	goalloc_cache_free(cache, c);
	goalloc_free_bulk(ARRAY_SIZE(bulk), bulk);
	goalloc_free_rcu(r, rcu);
	goalloc_free(large);
	other = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	if (other < nr_cpu_ids)
		work_on_cpu(other, free_elsewhere, remote);
	else
		goalloc_free(remote);
	goalloc_rcu_barrier();
	/* The addresses only, as keys: every record must be gone. */
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		KUNIT_EXPECT_EQ_MSG(test, goalloc_mprof_site_of(objs[i]), 0UL, "object %u", i);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), 0UL);
	goalloc_cache_destroy(cache);
	rate(test, 0);
}

/* Sampled: estimates near the truth, and back to exactly zero. */
static void profile_sampled_estimates(struct kunit *test)
{
	const unsigned int n = 50000, size = 64;
	struct goalloc_mprof_site_stats st = {};
	unsigned long ip = 0;
	unsigned int i;
	void **v;

	v = kvmalloc_array(n, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	/* About 780 samples: a standard error of 3.6%; the bound is 20%. */
	rate(test, 4096);
	for (i = 0; i < n; i++) {
		v[i] = alloc_site(size);
		if (!v[i])
			break;
		if (!ip)
			ip = goalloc_mprof_site_of(v[i]);
	}
	KUNIT_EXPECT_EQ(test, i, n);
	KUNIT_EXPECT_NE(test, ip, 0UL);
	if (ip && goalloc_mprof_site(ip, &st)) {
		kunit_info(test, "%u objects: %llu samples, estimated %llu calls, %llu live, %llu bytes",
			   i, st.samples, st.calls, st.live_objects, st.live_bytes);
		KUNIT_EXPECT_GT(test, st.samples, 400ULL);
		KUNIT_EXPECT_LT(test, st.samples, 1200ULL);
		KUNIT_EXPECT_GT(test, st.calls, (u64)i * 8 / 10);
		KUNIT_EXPECT_LT(test, st.calls, (u64)i * 12 / 10);
		KUNIT_EXPECT_EQ(test, st.live_objects, st.calls);
		KUNIT_EXPECT_GT(test, st.live_bytes, (u64)i * size * 8 / 10);
		KUNIT_EXPECT_LT(test, st.live_bytes, (u64)i * size * 12 / 10);
	}
	while (i--)
		goalloc_free(v[i]);
	if (ip && goalloc_mprof_site(ip, &st)) {
		KUNIT_EXPECT_EQ(test, st.live_objects, 0ULL);
		KUNIT_EXPECT_EQ(test, st.live_bytes, 0ULL);
	}
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), 0UL);
	rate(test, 0);
	kvfree(v);
}

/*
 * N objects then N frees, in order and in reverse, many times over: every
 * record goes with its object, whichever free path the span's state sends
 * the free down (owner's LIFO, owner's recorded free, slow path).
 */
static void profile_records_follow_objects(struct kunit *test)
{
	struct goalloc_mprof_site_stats st;
	unsigned long ip = 0;
	unsigned int round, i;
	void *v[32];

	rate(test, 2048);
	for (round = 0; round < 2000; round++) {
		for (i = 0; i < ARRAY_SIZE(v); i++) {
			v[i] = alloc_site(16);
			KUNIT_ASSERT_NOT_NULL(test, v[i]);
			if (!ip)
				ip = goalloc_mprof_site_of(v[i]);
		}
		for (i = 0; i < ARRAY_SIZE(v); i++)
			goalloc_free(round & 1 ? v[ARRAY_SIZE(v) - 1 - i] : v[i]);
	}
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), 0UL);
	KUNIT_ASSERT_NE(test, ip, 0UL);
	KUNIT_ASSERT_TRUE(test, goalloc_mprof_site(ip, &st));
	kunit_info(test, "%llu samples, %llu live", st.samples, st.live_samples);
	KUNIT_EXPECT_GT(test, st.samples, 100ULL);
	KUNIT_EXPECT_EQ(test, st.live_samples, 0ULL);
	rate(test, 0);
}

/* Turning the profile off drops every record and clears the spans' counts. */
static void profile_off_drops_records(struct kunit *test)
{
	struct goalloc_span *s;
	void *v[8];
	unsigned int i, nprof;

	rate(test, 1);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		v[i] = alloc_site(48);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	rcu_read_lock();
	s = goalloc_span_of(v[0]);
	nprof = s ? READ_ONCE(s->nprof) : 0;
	rcu_read_unlock();
	KUNIT_EXPECT_GE(test, nprof, 1U);
	rate(test, 0);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_records(), 0UL);
	rcu_read_lock();
	s = goalloc_span_of(v[0]);
	nprof = s ? READ_ONCE(s->nprof) : 1;
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, nprof, 0U);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_set_rate(1UL << 31), -EINVAL);
	KUNIT_EXPECT_EQ(test, goalloc_mprof_rate(), 0UL);
	for (i = 0; i < ARRAY_SIZE(v); i++)
		goalloc_free(v[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), 0L);
}

static void mprof_exit(struct kunit *test)
{
	goalloc_mprof_set_rate(0);
}

static struct kunit_case mprof_cases[] = {
	KUNIT_CASE(profile_exact_at_rate_one),
	KUNIT_CASE(profile_bulk_names_its_caller),
	KUNIT_CASE(profile_every_free_path),
	KUNIT_CASE(profile_sampled_estimates),
	KUNIT_CASE(profile_records_follow_objects),
	KUNIT_CASE(profile_off_drops_records),
	{}
};

static struct kunit_suite mprof_suite = {
	.name = "goalloc_mprof",
	.exit = mprof_exit,
	.test_cases = mprof_cases,
};

kunit_test_suite(mprof_suite);
