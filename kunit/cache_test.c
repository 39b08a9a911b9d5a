// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: named caches (kmod/cache.c, goalloc_cache_*()): SLUB's rounding and
 * alignment, a span class per cache (checked through the span map),
 * constructors run once per slot, SLUB's init_on_alloc/init_on_free and
 * __GFP_ZERO rules for constructor and SLAB_TYPESAFE_BY_RCU caches (6.12's
 * lib/test_meminit.c is the reference), bulk calls, destroy (empty: the heap
 * back to where it was; with objects in use: reported, memory kept), a
 * SLAB_TYPESAFE_BY_RCU span held until a grace period, and refused frees of
 * other caches' objects.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"
#include "pool_test.h"
#include "quiet.h"

/* The span of an object, and what it says, read under RCU. */
static struct goalloc_span *span_of(const void *p)
{
	struct goalloc_span *s;

	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	return s;
}

/*
 * The kernel pool's pages in spans: the CPUs' page-cache windows count in
 * use too, so they go back to their chunks first.
 */
static unsigned long span_pages(void)
{
	goalloc_pool_pcache_flush(&goalloc_heap.kernel);
	return READ_ONCE(goalloc_heap.pages_inuse);
}

static unsigned int spc_of_obj(const void *p)
{
	struct goalloc_span *s = span_of(p);

	return s ? s->spc : 0;
}

/* @n objects of @c into @p, up to the first failure: how many it got. */
static unsigned int cache_fill(struct goalloc_cache *c, void **p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		p[i] = goalloc_cache_alloc(c, GFP_KERNEL);
		if (!p[i])
			break;
	}
	return i;
}

static void cache_destroy_action(void *c)
{
	goalloc_cache_destroy(c);
}

static struct goalloc_cache *make_cache(struct kunit *test, const char *name,
					unsigned int size, unsigned int align,
					slab_flags_t flags, void (*ctor)(void *))
{
	struct goalloc_cache *c = goalloc_cache_create(name, size, align, flags, ctor);

	KUNIT_ASSERT_NOT_NULL(test, c);
	return c;
}

/*
 * SLUB's rounding: a word, then the alignment (SLAB_HWCACHE_ALIGN: the
 * cache line, halved while the object fits in half of it).  Every object
 * of several spans is aligned, sized as SLUB would, and in a span of its
 * own cache's class; its memory holds what was written.
 */
static void cache_align_and_size(struct kunit *test)
{
	static const struct {
		unsigned int size, align;
		bool hw;
	} cases[] = {
		{ 1, 0, false }, { 20, 0, false }, { 24, 16, false }, { 100, 64, false },
		{ 64, 128, false }, { 256, 256, false }, { 300, 4096, false },
		{ 2048, 0, false }, { 3000, 0, false }, { 20, 0, true }, { 40, 0, true },
		{ 100, 0, true }, { 5000, 16384, false },
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int size = cases[i].size, align = cases[i].align, want_align, want;
		struct goalloc_cache *c;
		slab_flags_t flags;
		void *objs[100];
		unsigned int spc = 0;

		want = ALIGN(size, sizeof(void *));
		want_align = max_t(unsigned int, align, ARCH_SLAB_MINALIGN);
		if (cases[i].hw) {
			unsigned int ralign = cache_line_size();

			while (want <= ralign / 2)
				ralign /= 2;
			want_align = max(want_align, ralign);
		}
		want_align = ALIGN(want_align, sizeof(void *));
		want = ALIGN(want, want_align);
		flags = (__force slab_flags_t)0;
		if (cases[i].hw)
			flags = SLAB_HWCACHE_ALIGN;
		c = make_cache(test, "test_align", size, align, flags, NULL);
		KUNIT_EXPECT_EQ(test, goalloc_cache_size(c), size);
		for (j = 0; j < ARRAY_SIZE(objs); j++) {
			struct goalloc_span *s;

			objs[j] = goalloc_cache_alloc(c, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, objs[j]);
			KUNIT_EXPECT_EQ_MSG(test, (unsigned long)objs[j] % want_align, 0UL,
					    "size %u align %u", size, align);
			memset(objs[j], j, size);
			s = span_of(objs[j]);
			KUNIT_ASSERT_NOT_NULL(test, s);
			KUNIT_EXPECT_EQ(test, s->elemsize, want);
			/* Go's span rule: the tail is at most an eighth of the span. */
			KUNIT_EXPECT_LE(test, s->npages * GOALLOC_PAGE_SIZE -
					(unsigned long)s->nelems * s->elemsize,
					s->npages * GOALLOC_PAGE_SIZE / 8);
			if (!spc)
				spc = s->spc;
			KUNIT_EXPECT_EQ(test, (unsigned int)s->spc, spc);
			KUNIT_EXPECT_GE(test, spc, (unsigned int)GOALLOC_NUM_KMALLOC_SPC);
			KUNIT_EXPECT_EQ(test, goalloc_size(objs[j]), (size_t)want);
		}
		for (j = 0; j < ARRAY_SIZE(objs); j++) {
			KUNIT_EXPECT_NULL(test, memchr_inv(objs[j], j & 0xff, size));
			goalloc_cache_free(c, objs[j]);
		}
		goalloc_cache_destroy(c);
	}
}

/* Objects of two caches of one size, and goalloc_alloc()'s, never share a span. */
static void cache_spans_separate(struct kunit *test)
{
	const unsigned int n = 600;
	struct goalloc_cache *a, *b;
	void **pa, **pb, **pk;
	unsigned int i, j;

	pa = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	pb = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	pk = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, pa && pb && pk);
	a = make_cache(test, "test_a", 64, 0, 0, NULL);
	b = make_cache(test, "test_b", 64, 0, 0, NULL);
	for (i = 0; i < n; i++) {
		pa[i] = goalloc_cache_alloc(a, GFP_KERNEL);
		pb[i] = goalloc_cache_alloc(b, GFP_KERNEL);
		pk[i] = goalloc_alloc(64, GFP_KERNEL);
		KUNIT_ASSERT_TRUE(test, pa[i] && pb[i] && pk[i]);
	}
	KUNIT_EXPECT_NE(test, spc_of_obj(pa[0]), spc_of_obj(pb[0]));
	for (i = 0; i < n; i++) {
		struct goalloc_span *sa = span_of(pa[i]), *sb = span_of(pb[i]);

		KUNIT_EXPECT_EQ(test, spc_of_obj(pa[i]), spc_of_obj(pa[0]));
		KUNIT_EXPECT_EQ(test, spc_of_obj(pb[i]), spc_of_obj(pb[0]));
		KUNIT_EXPECT_LT(test, spc_of_obj(pk[i]), (unsigned int)GOALLOC_NUM_KMALLOC_SPC);
		/* The span map: no span holds objects of two of them. */
		for (j = 0; j < n; j += 7) {
			KUNIT_EXPECT_PTR_NE(test, sa, span_of(pb[j]));
			KUNIT_EXPECT_PTR_NE(test, sa, span_of(pk[j]));
			KUNIT_EXPECT_PTR_NE(test, sb, span_of(pk[j]));
		}
	}
	for (i = 0; i < n; i++) {
		goalloc_cache_free(a, pa[i]);
		goalloc_cache_free(b, pb[i]);
		goalloc_free(pk[i]);
	}
	goalloc_cache_destroy(a);
	goalloc_cache_destroy(b);
}

#define CTOR_MAGIC	0x5a5a1234deadbeefULL

static atomic_long_t ctor_calls;

struct ctor_obj {
	u64 magic;
	u64 payload[7];
};

static void test_ctor(void *p)
{
	struct ctor_obj *o = p;

	atomic_long_inc(&ctor_calls);
	o->magic = CTOR_MAGIC;
	memset(o->payload, 0xc7, sizeof(o->payload));
}

#ifdef GOALLOC_TEST_HOOKS
/* Slots of the spans grown for span class ctor_spc while the hook is in. */
static unsigned int ctor_spc;
static atomic_long_t ctor_grown_slots;

static void hook_count_grown(void *arg)
{
	const struct goalloc_span *s = arg;

	if (s->spc == READ_ONCE(ctor_spc))
		atomic_long_add(s->nelems, &ctor_grown_slots);
}
#else
/*
 * Is @calls a whole number of spans of @ci's shapes (its own up to its big
 * one, goalloc_mcache_shape(); a named cache's class has no small one)?
 */
static bool whole_spans(const struct goalloc_class_info *ci, long calls)
{
	unsigned long *can = bitmap_zalloc(calls + 1, GFP_KERNEL);
	unsigned int np;
	long c, n;
	bool ok;

	if (!can)
		return false;
	__set_bit(0, can);
	for (c = 1; c <= calls; c++)
		for (np = ci->npages; np <= ci->big_npages; np++) {
			n = np * GOALLOC_PAGE_SIZE / ci->size;
			if (n <= c && test_bit(c - n, can)) {
				__set_bit(c, can);
				break;
			}
		}
	ok = test_bit(calls, can);
	bitmap_free(can);
	return ok;
}
#endif

/*
 * The constructor runs exactly once per slot of every span the cache got,
 * not per allocation; every object comes constructed; one freed constructed
 * comes back as it was freed (never wiped: SLUB's rule for init_on_free and
 * init_on_alloc with a constructor); __GFP_ZERO is refused.
 */
static void cache_ctor_once(struct kunit *test)
{
	const unsigned int n = 1000;
	struct goalloc_span **spans;
	struct goalloc_cache *c;
	unsigned int i, j, nspans = 0, reused = 0;
	long slots = 0, fresh_slots = 0;
#ifndef GOALLOC_TEST_HOOKS
	const struct goalloc_class_info *ci;
#endif
	long base = atomic_long_read(&ctor_calls), live, calls;
	void **p;

	p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	spans = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, p && spans);
	c = make_cache(test, "test_ctor", sizeof(struct ctor_obj), 0, 0, test_ctor);
	for (i = 0; i < n; i++) {
		struct goalloc_span *s;
		struct ctor_obj *o;

		o = goalloc_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o);
		KUNIT_EXPECT_EQ(test, o->magic, CTOR_MAGIC);
		KUNIT_EXPECT_EQ(test, o->payload[3], 0xc7c7c7c7c7c7c7c7ULL);
		p[i] = o;
		s = span_of(o);
		for (j = 0; j < nspans && spans[j] != s; j++)
			;
		if (j == nspans) {
			spans[nspans++] = s;
			slots += s->nelems;
		}
	}
	KUNIT_EXPECT_GT(test, nspans, 1U);
	/*
	 * Once per slot of each span, not once per object handed out (spans
	 * of either shape: a busy class grows big ones, rule 6).
	 */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctor_calls) - base, slots);
	/* Changed, then restored before the free: freed constructed. */
	for (i = 0; i < n; i++) {
		struct ctor_obj *o = p[i];

		o->payload[0] = i;
	}
	/*
	 * Every other one: no span empties, so none is given back.  On one CPU
	 * none is made anew either; were one made (another CPU's cache has no
	 * span of the cache), it is constructed whole, once: counted per span.
	 */
	migrate_disable();
	for (i = 1; i < n; i += 2)
		goalloc_cache_free(c, p[i]);
	base = atomic_long_read(&ctor_calls);
	for (i = 1; i < n; i += 2) {
		struct ctor_obj *o = goalloc_cache_alloc(c, GFP_KERNEL);
		struct goalloc_span *s;

		if (!o) {
			KUNIT_FAIL(test, "allocation %u failed", i);
			break;
		}
		KUNIT_EXPECT_EQ(test, o->magic, CTOR_MAGIC);
		s = span_of(o);
		for (j = 0; j < nspans && spans[j] != s; j++)
			;
		if (j == nspans && nspans < n) {
			spans[nspans++] = s;
			fresh_slots += s->nelems;
		}
		/*
		 * As it was freed (an odd index: neither wiped nor constructed
		 * again), or a slot never handed out yet, as constructed.
		 */
		if (o->payload[0] != 0xc7c7c7c7c7c7c7c7ULL) {
			KUNIT_EXPECT_LT(test, o->payload[0], (u64)n);
			KUNIT_EXPECT_EQ(test, o->payload[0] % 2, 1ULL);
			reused++;
		}
		p[i] = o;
	}
	migrate_enable();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctor_calls) - base, fresh_slots);
	/* The freed slots came back as they were freed. */
	KUNIT_EXPECT_GT(test, reused, 0U);
	KUNIT_EXPECT_LE(test, reused, n / 2);
	/* All of them, twice over: spans given back and made anew, whole. */
#ifdef GOALLOC_TEST_HOOKS
	WRITE_ONCE(ctor_spc, spc_of_obj(p[0]));
	atomic_long_set(&ctor_grown_slots, 0);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_SPAN_GROWN], hook_count_grown);
#endif
	base = atomic_long_read(&ctor_calls);
	for (j = 0; j < 2; j++) {
		goalloc_cache_free_bulk(c, n, p);
		KUNIT_ASSERT_EQ(test, goalloc_cache_alloc_bulk(c, GFP_KERNEL, n, p), (int)n);
		for (i = 0; i < n; i++)
			KUNIT_EXPECT_EQ(test, ((struct ctor_obj *)p[i])->magic, CTOR_MAGIC);
	}
#ifdef GOALLOC_TEST_HOOKS
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_SPAN_GROWN], NULL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctor_calls) - base,
			atomic_long_read(&ctor_grown_slots));
#else
	ci = goalloc_cls_info(goalloc_spc_to_class(spc_of_obj(p[0])));
	KUNIT_EXPECT_TRUE(test, whole_spans(ci, atomic_long_read(&ctor_calls) - base));
#endif
	/* __GFP_ZERO with a constructor: refused, nothing allocated, no WARN. */
	live = goalloc_objects_in_use();
	calls = atomic_long_read(&ctor_calls);
	KUNIT_EXPECT_NULL(test, goalloc_cache_alloc(c, GFP_KERNEL | __GFP_ZERO));
	KUNIT_EXPECT_NULL(test, goalloc_cache_alloc_node(c, GFP_KERNEL | __GFP_ZERO, 0));
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctor_calls), calls);
	KUNIT_EXPECT_EQ(test, goalloc_cache_alloc_bulk(c, GFP_KERNEL | __GFP_ZERO, 4, p), 0);
	KUNIT_EXPECT_EQ(test, ((struct ctor_obj *)p[0])->magic, CTOR_MAGIC);
	goalloc_cache_free_bulk(c, n, p);
	goalloc_cache_destroy(c);
}

/*
 * lib/test_meminit.c's rules for caches without a constructor: with
 * init_on_alloc (or __GFP_ZERO) an object comes zeroed; a
 * SLAB_TYPESAFE_BY_RCU cache zeroes only for __GFP_ZERO, and its freed
 * object stays readable, unwiped, to a reader inside rcu_read_lock().
 */
static void cache_meminit(struct kunit *test)
{
	struct goalloc_cache *plain, *rcu;
	u8 *p, *q;

	plain = make_cache(test, "test_plain", 200, 0, 0, NULL);
	rcu = make_cache(test, "test_rcu_init", 200, 0, SLAB_TYPESAFE_BY_RCU, NULL);

	p = goalloc_cache_alloc(plain, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0xab, 200);
	goalloc_cache_free(plain, p);
	q = goalloc_cache_alloc(plain, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0, 200));
	memset(q, 0xab, 200);
	goalloc_cache_free(plain, q);
	q = goalloc_cache_alloc(plain, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	if (want_init_on_alloc(GFP_KERNEL) || want_init_on_free())
		KUNIT_EXPECT_NULL(test, memchr_inv(q, 0, 200));
	goalloc_cache_free(plain, q);

	/*
	 * One CPU's cache throughout: the slot freed is the one handed out
	 * next, from the span the CPU caches (no quiet class: its slot would
	 * come from mcentral's spans, where a free waits for a sweep).
	 */
	quiet_classes_off();
	migrate_disable();
	p = goalloc_cache_alloc(rcu, GFP_KERNEL);
	if (!p)
		migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0xcd, 200);
	rcu_read_lock();
	goalloc_cache_free(rcu, p);
	/* Never wiped on free, init_on_free or not: a reader may still look. */
	KUNIT_EXPECT_NULL(test, memchr_inv(p, 0xcd, 200));
	rcu_read_unlock();
	/* Reused at once, and not zeroed by init_on_alloc: only __GFP_ZERO zeroes. */
	q = goalloc_cache_alloc(rcu, GFP_KERNEL);
	migrate_enable();
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0xcd, 200));
	goalloc_cache_free(rcu, q);
	q = goalloc_cache_alloc(rcu, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_NULL(test, memchr_inv(q, 0, 200));
	goalloc_cache_free(rcu, q);
	goalloc_cache_destroy(plain);
	goalloc_cache_destroy(rcu);
}

/*
 * Rule 8: a bulk call that must grow gets a span for the call's objects,
 * and takes no empty span that holds fewer.  A new cache of 320-byte
 * objects: single allocations first, enough for the CPU to grow big spans
 * (51 objects), which mcentral keeps once freed; then calls of 128.  The
 * first call may end in the span grown for it; from the second on, every
 * call is served from that one span (of at least 128 objects), where the
 * kept spans would make it three a call.  Pinned to the CPU, so every
 * batch enters the same CPU's cache.
 */
static void cache_bulk_grows_for_the_call(struct kunit *test)
{
	const unsigned int n = 128, singles = 600;
	struct goalloc_span *s;
	struct goalloc_cache *c;
	unsigned int i, round;
	void **p;

	p = kunit_kcalloc(test, singles, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	c = make_cache(test, "test_bulk_shape", 320, 8, 0, NULL);
	migrate_disable();
	i = cache_fill(c, p, singles);
	KUNIT_EXPECT_EQ(test, i, singles);
	while (i)
		goalloc_cache_free(c, p[--i]);
	for (round = 0; round < 3; round++) {
		if (goalloc_cache_alloc_bulk(c, GFP_KERNEL, n, p) != n) {
			KUNIT_FAIL(test, "round %u: bulk allocation failed", round);
			break;
		}
		s = span_of(p[n - 1]);
		KUNIT_EXPECT_NOT_NULL(test, s);
		for (i = n; s && i && span_of(p[i - 1]) == s; i--)
			;
		if (s)
			KUNIT_EXPECT_GE_MSG(test, (unsigned int)s->nelems, n, "round %u", round);
		/* The call's last objects come from its own span; then all. */
		if (round)
			KUNIT_EXPECT_EQ_MSG(test, i, 0U, "round %u: object %u in another span",
					    round, i - 1);
		goalloc_cache_free_bulk(c, n, p);
	}
	migrate_enable();
	goalloc_cache_destroy(c);
}

/* Bulk: all or nothing, distinct objects of the cache, and all freed. */
static void cache_bulk(struct kunit *test)
{
	const unsigned int n = 700;
	long base = goalloc_objects_in_use();
	struct goalloc_cache *c;
	unsigned int i, spc;
	void **p;

	p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	c = make_cache(test, "test_bulk", 96, 32, 0, NULL);
	KUNIT_ASSERT_EQ(test, goalloc_cache_alloc_bulk(c, GFP_KERNEL, n, p), (int)n);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + n);
	spc = spc_of_obj(p[0]);
	KUNIT_EXPECT_GE(test, spc, (unsigned int)GOALLOC_NUM_KMALLOC_SPC);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, spc_of_obj(p[i]), spc);
		KUNIT_EXPECT_EQ(test, (unsigned long)p[i] % 32, 0UL);
		memset(p[i], 0x11, 96);
		if (i)
			KUNIT_EXPECT_PTR_NE(test, p[i], p[i - 1]);
	}
	goalloc_cache_free_bulk(c, n, p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	goalloc_cache_destroy(c);
}

/*
 * Destroying an empty cache gives every span back: the heap's pages in use
 * and the class's spans are back where they were before the cache existed.
 */
static void cache_destroy_empty(struct kunit *test)
{
	const unsigned int n = 2000;
	unsigned long inuse;
	struct goalloc_cache *c;
	unsigned int i, spc;
	void **p;

	p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	test_trim_hold(test);
	/*
	 * No span cached with nothing in it: the cache's grows would give
	 * those back first (mcache_flush_empty()), and the count would drop.
	 */
	goalloc_drain_all();
	inuse = span_pages();
	c = make_cache(test, "test_empty", 500, 0, 0, NULL);
	for (i = 0; i < n; i++) {
		p[i] = goalloc_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	spc = spc_of_obj(p[0]);
	KUNIT_EXPECT_GT(test, goalloc_central_nspans(spc), 1L);
	KUNIT_EXPECT_GT(test, span_pages(), inuse);
	for (i = 0; i < n; i++)
		goalloc_cache_free(c, p[i]);
	goalloc_cache_destroy(c);
	KUNIT_EXPECT_EQ(test, goalloc_central_nspans(spc), 0L);
	KUNIT_EXPECT_EQ(test, span_pages(), inuse);
	KUNIT_EXPECT_NULL(test, span_of(p[0]));
}

/*
 * Destroying a cache with objects in use reports it once and keeps their
 * memory: the objects hold what was written, their spans stay live in the
 * span map, and goalloc_free() still frees them, after which the spans go.
 */
static void cache_destroy_leaks(struct kunit *test)
{
	const unsigned int n = 300;
	long reports = atomic_long_read(&goalloc_cache_leak_reports);
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	struct goalloc_cache *c;
	unsigned int i, spc;
	void **p;

	p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	c = make_cache(test, "test_leaky", 128, 0, 0, NULL);
	for (i = 0; i < n; i++) {
		p[i] = goalloc_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		memset(p[i], i & 0xff, 128);
	}
	spc = spc_of_obj(p[0]);
	/* Keep every 43rd: spread over the spans. */
	for (i = 0; i < n; i++)
		if (i % 43)
			goalloc_cache_free(c, p[i]);
	goalloc_cache_destroy(c);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goalloc_cache_leak_reports), reports + 1);
	for (i = 0; i < n; i += 43) {
		struct goalloc_span *s = span_of(p[i]);

		KUNIT_ASSERT_NOT_NULL(test, s);
		KUNIT_EXPECT_NE(test, (int)s->state, (int)GOALLOC_SPAN_DEAD);
		KUNIT_EXPECT_EQ(test, (unsigned int)s->spc, spc);
		KUNIT_EXPECT_NULL(test, memchr_inv(p[i], i & 0xff, 128));
	}
	for (i = 0; i < n; i += 43)
		goalloc_free(p[i]);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
	/* Empty now: kept or given back; the kept ones go with the trim pass's call. */
	goalloc_central_release_kept();
	KUNIT_EXPECT_EQ(test, goalloc_central_nspans(spc), 0L);
}

/*
 * SLAB_TYPESAFE_BY_RCU: a span emptied goes back to the heap only after a
 * grace period.  Inside rcu_read_lock() the span, retired, stays in the
 * span map and its pages in use; after the grace period they are gone.
 */
static void cache_rcu_span(struct kunit *test)
{
	long pending = atomic_long_read(&goalloc_central_rcu_spans), in_nspans, in_pending;
	struct goalloc_span *s, *in_span;
	int in_state;
	struct goalloc_cache *c;
	unsigned long inuse;
	unsigned int i, n, spc, npages;
	void **p;

	test_trim_hold(test);
	/*
	 * 16 bytes: a class of one shape (256 or more to a one-page span),
	 * whose empty spans mcentral keeps.
	 */
	c = make_cache(test, "test_rcu", 16, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, cache_destroy_action, c));
	p = kunit_kcalloc(test, 1024, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p[0] = goalloc_cache_alloc(c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p[0]);
	s = span_of(p[0]);
	spc = s->spc;
	n = s->nelems;
	npages = s->npages;
	KUNIT_ASSERT_EQ(test, goalloc_cls_info(goalloc_spc_to_class(spc))->big_npages,
			goalloc_cls_info(goalloc_spc_to_class(spc))->npages);
	KUNIT_ASSERT_LE(test, n, 1024U);
	for (i = 1; i < n; i++) {
		p[i] = goalloc_cache_alloc(c, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	for (i = 0; i < n; i++)
		goalloc_cache_free(c, p[i]);
	/* The span to mcentral, kept empty; every other class's kept span goes. */
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	/* The windows' pages back to their chunks: pages_inuse is the spans'. */
	goalloc_pool_pcache_flush(&goalloc_heap.kernel);
	/* No grace period can end inside: read there, checked after. */
	rcu_read_lock();
	goalloc_central_release_kept();
	in_nspans = goalloc_central_nspans(spc);
	in_pending = atomic_long_read(&goalloc_central_rcu_spans);
	in_span = goalloc_span_of(p[0]);
	in_state = READ_ONCE(s->state);
	inuse = READ_ONCE(goalloc_heap.pages_inuse);
	rcu_read_unlock();
	/* Retired, but its memory is the cache's, still mapped, until the grace period. */
	KUNIT_EXPECT_EQ(test, in_nspans, 1L);
	KUNIT_EXPECT_EQ(test, in_pending, pending + 1);
	KUNIT_EXPECT_PTR_EQ(test, in_span, s);
	KUNIT_EXPECT_EQ(test, in_state, (int)GOALLOC_SPAN_DEAD);
	synchronize_rcu();
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goalloc_central_rcu_spans), pending);
	KUNIT_EXPECT_EQ(test, goalloc_central_nspans(spc), 0L);
	KUNIT_EXPECT_NULL(test, span_of(p[0]));
	KUNIT_EXPECT_LE(test, span_pages(), inuse - npages);
}

/*
 * A free of another cache's object, or of goalloc_alloc()'s, through
 * goalloc_cache_free() is refused: one report, the object still allocated,
 * the counts unchanged.  goalloc_free() of a cache's object is fine.
 */
static void cache_foreign_free(struct kunit *test)
{
	struct goalloc_cache *a, *b;
	void *pa, *pb, *pk, *v[3];
	long bad, live;

	a = make_cache(test, "test_fa", 48, 0, 0, NULL);
	b = make_cache(test, "test_fb", 48, 0, 0, NULL);
	pa = goalloc_cache_alloc(a, GFP_KERNEL);
	pb = goalloc_cache_alloc(b, GFP_KERNEL);
	pk = goalloc_alloc(48, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, pa && pb && pk);
	memset(pa, 0x3c, 48);
	live = goalloc_objects_in_use();
	bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_cache_free(b, pa);
	goalloc_cache_free(a, pk);
	goalloc_cache_free(a, (u8 *)pa + 8);
	v[0] = pb;
	v[1] = pa;	/* a's, in b's bulk free: refused alone */
	v[2] = NULL;
	goalloc_cache_free_bulk(b, 3, v);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 4);
	/* pb went; pa and pk are still allocated, pa's contents untouched. */
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live - 1);
	KUNIT_EXPECT_NULL(test, memchr_inv(pa, 0x3c, 48));
	goalloc_cache_free(a, pa);
	goalloc_free(pk);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 4);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live - 3);
	/* goalloc_free() of a cache's object, as kfree() of a kmem_cache's. */
	pa = goalloc_cache_alloc(a, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pa);
	goalloc_free(pa);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 4);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live - 3);
	goalloc_cache_destroy(a);
	goalloc_cache_destroy(b);
}

/* Bad arguments: refused with a message, never a WARN. */
static void cache_bad_create(struct kunit *test)
{
	struct goalloc_cache_args args = { .align = 24 };

	KUNIT_EXPECT_NULL(test, goalloc_cache_create("test_bad", 0, 0, 0, NULL));
	KUNIT_EXPECT_NULL(test, goalloc_cache_create("test_bad", 1 << 20, 0, 0, NULL));
	KUNIT_EXPECT_NULL(test, goalloc_cache_create_args("test_bad", 64, &args, 0));
	/* A flag goalloc does not know (SLAB_CACHE_DMA's zone is not its memory). */
	KUNIT_EXPECT_NULL(test, goalloc_cache_create("test_bad", 64, 0,
						     (__force slab_flags_t)BIT(30), NULL));
}

/*
 * What debugfs goalloc/caches shows comes from the class's counters: the
 * objects in use and the spans, exact when nothing else runs.  A node
 * request is served from that node.
 */
static void cache_usage_and_node(struct kunit *test)
{
	const unsigned int n = 300;
	struct goalloc_class_usage u;
	struct goalloc_span *s;
	struct goalloc_cache *c;
	unsigned int i, spc;
	int node = numa_node_id();
	void **p;

	p = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	/* A class of one shape (32 bytes, 256 a span): n objects fill two. */
	c = make_cache(test, "test_usage", 32, 0, 0, NULL);
	/* One CPU's cache: the spans are filled one after the other. */
	migrate_disable();
	i = cache_fill(c, p, n);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, i, n);
	s = span_of(p[0]);
	spc = s->spc;
	goalloc_class_usage(spc, &u);
	KUNIT_EXPECT_EQ(test, (long)(u.nmalloc - u.nfree), (long)n);
	KUNIT_EXPECT_EQ(test, u.nspans, (long)DIV_ROUND_UP(n, s->nelems));
	for (i = 0; i < n; i++)
		goalloc_cache_free(c, p[i]);
	goalloc_class_usage(spc, &u);
	KUNIT_EXPECT_EQ(test, (long)(u.nmalloc - u.nfree), 0L);

	p[0] = goalloc_cache_alloc_node(c, GFP_KERNEL, node);
	KUNIT_ASSERT_NOT_NULL(test, p[0]);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p[0])), node);
	KUNIT_EXPECT_EQ(test, spc_of_obj(p[0]), spc);
	goalloc_cache_free(c, p[0]);
	goalloc_cache_destroy(c);
}

/*
 * Caches are bounded by their span classes: creates fail, with a message,
 * once every slot is taken, and a destroyed cache's slot serves again.
 */
static void cache_slots(struct kunit *test)
{
	struct goalloc_cache **c, *extra;
	unsigned int i, n = 0;

	c = kunit_kcalloc(test, GOALLOC_MAX_CACHES + 1, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	while (n <= GOALLOC_MAX_CACHES) {
		c[n] = goalloc_cache_create("test_slot", 32, 0, 0, NULL);
		if (!c[n])
			break;
		n++;
	}
	/* The other tests' caches are gone (a leaked one's slot once empty). */
	KUNIT_EXPECT_EQ(test, n, (unsigned int)GOALLOC_MAX_CACHES);
	KUNIT_EXPECT_NULL(test, goalloc_cache_create("test_slot", 32, 0, 0, NULL));
	if (n) {
		goalloc_cache_destroy(c[n / 2]);
		extra = goalloc_cache_create("test_slot", 64, 0, 0, NULL);
		KUNIT_EXPECT_NOT_NULL(test, extra);
		c[n / 2] = extra;
	}
	for (i = 0; i < n; i++)
		goalloc_cache_destroy(c[i]);
}

static struct kunit_case cache_cases[] = {
	KUNIT_CASE(cache_align_and_size),
	KUNIT_CASE(cache_spans_separate),
	KUNIT_CASE(cache_ctor_once),
	KUNIT_CASE(cache_meminit),
	KUNIT_CASE(cache_bulk),
	KUNIT_CASE(cache_bulk_grows_for_the_call),
	KUNIT_CASE(cache_destroy_empty),
	KUNIT_CASE(cache_destroy_leaks),
	KUNIT_CASE(cache_rcu_span),
	KUNIT_CASE(cache_foreign_free),
	KUNIT_CASE(cache_bad_create),
	KUNIT_CASE(cache_usage_and_node),
	KUNIT_CASE(cache_slots),
	{}
};

static struct kunit_suite cache_suite = {
	.name = "goalloc_cache",
	.exit = quiet_classes_exit,
	.test_cases = cache_cases,
};

kunit_test_suite(cache_suite);
