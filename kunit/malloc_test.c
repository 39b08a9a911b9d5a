// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the kernel API (kmod/malloc.c) over the whole allocator: sizes,
 * alignment, zeroing, realloc, bulk, large objects, bad frees, arenas.  The
 * layers below have suites of their own: goalloc_mheap, goalloc_mcentral,
 * goalloc_scavenger.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "pool_test.h"

static long live_objects(void)
{
	return goalloc_objects_in_use();
}

/* A pattern that depends on the address and a seed. */
static void fill(void *p, size_t n, u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		((u8 *)p)[i] = (u8)((unsigned long)p + i) ^ seed;
}

static bool check(const void *p, size_t n, u8 seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((const u8 *)p)[i] != ((u8)((unsigned long)p + i) ^ seed))
			return false;
	return true;
}

/* 0, 1, 8, 16, 17, each class boundary +-1, 32768, 32769, large, the maximum. */
static size_t *test_sizes(struct kunit *test, unsigned int *n)
{
	size_t *v = kunit_kcalloc(test, 3 * GOALLOC_NUM_CLASSES + 16, sizeof(*v), GFP_KERNEL);
	unsigned int i, k = 0;

	KUNIT_ASSERT_NOT_NULL(test, v);
	v[k++] = 1;
	v[k++] = 8;
	v[k++] = 16;
	v[k++] = 17;
	for (i = 1; i < GOALLOC_NUM_CLASSES; i++) {
		v[k++] = goalloc_class_info[i].size - 1;
		v[k++] = goalloc_class_info[i].size;
		v[k++] = goalloc_class_info[i].size + 1;
	}
	v[k++] = 32768;
	v[k++] = 32769;
	v[k++] = 65536;
	v[k++] = 100000;
	v[k++] = 1 << 20;
	v[k++] = GOALLOC_MAX_SIZE - 1;
	v[k++] = GOALLOC_MAX_SIZE;
	*n = k;
	return v;
}

static size_t expected_usable(size_t size)
{
	if (size <= GOALLOC_MAX_CLASS_SIZE)
		return goalloc_class_info[goalloc_size_class(size)].size;
	return round_up(size, GOALLOC_PAGE_SIZE);
}

/* Every size: fits, aligned, usable size right, contents kept, freed. */
static void api_sizes(struct kunit *test)
{
	long base = live_objects();
	unsigned int i, n;
	size_t *sizes = test_sizes(test, &n);

	for (i = 0; i < n; i++) {
		size_t size = sizes[i], usable;
		void *p = goalloc_alloc(size, GFP_KERNEL);
		unsigned long align = is_power_of_2(size) ? size : 8;

		KUNIT_ASSERT_NOT_NULL_MSG(test, p, "size %zu", size);
		KUNIT_EXPECT_EQ_MSG(test, (unsigned long)p & (align - 1), 0UL, "size %zu", size);
		usable = goalloc_size(p);
		KUNIT_EXPECT_EQ_MSG(test, usable, expected_usable(size), "size %zu", size);
		fill(p, usable, 0x5a);
		KUNIT_EXPECT_TRUE_MSG(test, check(p, usable, 0x5a), "size %zu", size);
		KUNIT_EXPECT_EQ(test, live_objects(), base + 1);
		goalloc_free(p);
		KUNIT_EXPECT_EQ(test, live_objects(), base);
	}
}

/* __GFP_ZERO zeroes the whole usable size, even over reused slots. */
static void api_zeroing(struct kunit *test)
{
	unsigned int i, n, round;
	size_t *sizes = test_sizes(test, &n);

	for (round = 0; round < 2; round++) {
		for (i = 0; i < n; i++) {
			size_t usable, j;
			u8 *p = goalloc_alloc(sizes[i], GFP_KERNEL | __GFP_ZERO);

			KUNIT_ASSERT_NOT_NULL(test, p);
			usable = goalloc_size(p);
			for (j = 0; j < usable; j++)
				if (p[j])
					break;
			KUNIT_EXPECT_EQ_MSG(test, j, usable, "size %zu", sizes[i]);
			/*
			 * Past the size asked for on purpose (goalloc_size()
			 * unpoisoned it): hidden from FORTIFY_SOURCE, which
			 * knows the object as sizes[i] bytes (__alloc_size).
			 */
			OPTIMIZER_HIDE_VAR(p);
			memset(p, 0xff, usable);
			goalloc_free(p);
		}
		/* Make the dirtied slots come back on the second round. */
		goalloc_drain_all();
	}
}

static void api_edge_cases(struct kunit *test)
{
	long base = live_objects(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	void *p;

	KUNIT_EXPECT_PTR_EQ(test, goalloc_alloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	goalloc_free(NULL);
	goalloc_free(ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, goalloc_size(NULL), 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_size(ZERO_SIZE_PTR), 0UL);
	KUNIT_EXPECT_NULL(test, goalloc_alloc(GOALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, goalloc_alloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, goalloc_arena_alloc(NULL, SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	/* realloc(NULL) allocates; realloc(p, 0) frees. */
	p = goalloc_realloc(NULL, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, goalloc_size(p), 48UL);
	KUNIT_EXPECT_PTR_EQ(test, goalloc_realloc(p, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, live_objects(), base);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
}

/* Growing moves and keeps the contents; shrinking stays in place. */
static void api_realloc(struct kunit *test)
{
	long base = live_objects();
	size_t size = 5, prev;
	u8 *p = goalloc_alloc(size, GFP_KERNEL), *q;

	KUNIT_ASSERT_NOT_NULL(test, p);
	fill(p, size, 1);
	memcpy(p, "abcde", 5);
	while (size < 200000) {
		prev = size;
		size = size * 3 + 1;
		q = goalloc_realloc(p, size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, q);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(q, "abcde", 5), 0, "%zu -> %zu", prev, size);
		KUNIT_EXPECT_GE(test, goalloc_size(q), size);
		p = q;
	}
	q = goalloc_realloc(p, 10, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_EQ(test, memcmp(q, "abcde", 5), 0);
	goalloc_free(q);
	KUNIT_EXPECT_EQ(test, live_objects(), base);
}

static int cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static void api_bulk(struct kunit *test)
{
	static const size_t sizes[] = { 8, 64, 100, 4096, 32768, 40000 };
	const size_t n = 1500;
	void **v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	long base = live_objects();
	unsigned int k;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, v);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t sz = sizes[k], m = sz > 4096 ? 64 : n;

		KUNIT_ASSERT_EQ(test, goalloc_alloc_bulk(sz, GFP_KERNEL, m, v), (int)m);
		for (i = 0; i < m; i++) {
			KUNIT_ASSERT_NOT_NULL(test, v[i]);
			fill(v[i], sz, (u8)i);
		}
		KUNIT_EXPECT_EQ(test, live_objects(), base + (long)m);
		for (i = 0; i < m; i++)
			KUNIT_EXPECT_TRUE_MSG(test, check(v[i], sz, (u8)i), "size %zu #%zu", sz, i);
		/* Distinct, non-overlapping objects: sorted, each ends before the next. */
		sort(v, m, sizeof(*v), cmp_ptr, NULL);
		for (i = 1; i < m; i++)
			KUNIT_ASSERT_GE_MSG(test, (unsigned long)v[i], (unsigned long)v[i - 1] + sz,
					    "size %zu", sz);
		goalloc_free_bulk(m, v);
		KUNIT_EXPECT_EQ(test, live_objects(), base);
	}
}

/*
 * One free_bulk() over objects of many sizes, some from the current spans
 * and some not, with NULL and ZERO_SIZE_PTR entries and one bad pointer: the
 * bad one is refused and reported, everything else is freed.
 */
static void bulk_free_mixed(struct kunit *test)
{
	static const size_t sizes[] = { 8, 24, 100, 1000, 4096, 9000, 40000 };
	const size_t n = 700;
	void **v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	long base = live_objects(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	void *twice;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, v);
	for (i = 0; i < n; i++) {
		if (i % 50 == 7) {
			v[i] = i % 100 == 7 ? NULL : ZERO_SIZE_PTR;
			continue;
		}
		v[i] = goalloc_alloc(sizes[i % ARRAY_SIZE(sizes)], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	/* Reverse every other pair so frees hit the current span and others. */
	for (i = 0; i + 1 < n; i += 4)
		swap(v[i], v[i + 1]);
	twice = v[n / 2];
	goalloc_free(twice);
	/* 1000 bytes, in a span long since full: freed in a run under its lock. */
	KUNIT_ASSERT_EQ(test, goalloc_size(v[3]), 1024UL);
	goalloc_free(v[3]);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	goalloc_free_bulk(n, v);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 2);
	KUNIT_EXPECT_EQ(test, live_objects(), base);
}

/* NOSCAN picks the noscan span class; both serve the same sizes. */
static void api_noscan(struct kunit *test)
{
	void *a = goalloc_alloc(64, GFP_KERNEL | GOALLOC_NOSCAN);
	void *b = goalloc_alloc(64, GFP_KERNEL);
	void *c = goalloc_alloc(50000, GFP_KERNEL | GOALLOC_NOSCAN);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);
	preempt_disable();
	KUNIT_EXPECT_EQ(test, goalloc_span_of(a)->spc, goalloc_size_class(64) * 2 + 1);
	KUNIT_EXPECT_EQ(test, goalloc_span_of(b)->spc, goalloc_size_class(64) * 2);
	KUNIT_EXPECT_EQ(test, goalloc_span_of(c)->spc, 1);
	preempt_enable();
	goalloc_free(a);
	goalloc_free(b);
	goalloc_free(c);
}

static int global_object;

/* Foreign pointers are told apart without touching them. */
static void span_of_foreign(struct kunit *test)
{
	void *k = kmalloc(64, GFP_KERNEL), *v = vmalloc(8192);
	int on_stack;

	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, v);
	preempt_disable();
	KUNIT_EXPECT_NULL(test, goalloc_span_of(k));
	KUNIT_EXPECT_NULL(test, goalloc_span_of(v));
	KUNIT_EXPECT_NULL(test, goalloc_span_of(&on_stack));
	KUNIT_EXPECT_NULL(test, goalloc_span_of(&global_object));
	KUNIT_EXPECT_NULL(test, goalloc_span_of(NULL));
	KUNIT_EXPECT_NULL(test, goalloc_span_of((void *)-1UL));
	preempt_enable();
	kfree(k);
	vfree(v);
}

/*
 * Every kind of bad free is refused, counted, and changes nothing: the
 * live objects keep their contents and the counts stay.
 */
static void bad_frees_are_refused(struct kunit *test)
{
	void *k = kmalloc(64, GFP_KERNEL), *v = vmalloc(8192);
	struct goalloc_arena *ar = goalloc_arena_create(GFP_KERNEL);
	u8 *a = goalloc_alloc(64, GFP_KERNEL), *b = goalloc_alloc(64, GFP_KERNEL);
	u8 *big = goalloc_alloc(100000, GFP_KERNEL), *gone, *gone_big, *in_arena;
	long bad0 = goalloc_counter(GOALLOC_CTR_BAD_FREES), live;
	int on_stack = 0, i;
	const void *bad[9];

	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_NOT_NULL(test, ar);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, big);
	in_arena = goalloc_arena_alloc(ar, 32, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, in_arena);
	gone = goalloc_alloc(64, GFP_KERNEL);
	gone_big = goalloc_alloc(70000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, gone);
	KUNIT_ASSERT_NOT_NULL(test, gone_big);
	goalloc_free(gone);
	goalloc_free(gone_big);
	fill(a, 64, 1);
	fill(b, 64, 2);
	fill(big, 100000, 3);
	live = live_objects();

	bad[0] = gone;			/* double free */
	bad[1] = gone_big;		/* double free of a large object (span gone) */
	bad[2] = a + 8;			/* interior */
	bad[3] = big + 8192;		/* interior of a large object */
	bad[4] = k;			/* kmalloc */
	bad[5] = v;			/* vmalloc */
	bad[6] = &on_stack;		/* stack */
	bad[7] = in_arena;		/* arena memory */
	bad[8] = &global_object;	/* module data */

	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		goalloc_free(bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad0 + i + 1,
				    "bad free #%d not caught", i);
	}
	/* goalloc_size() refuses the same pointers. */
	KUNIT_EXPECT_EQ(test, goalloc_size(gone), 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_size(a + 8), 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_size(k), 0UL);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);

	KUNIT_EXPECT_EQ(test, live_objects(), live);
	KUNIT_EXPECT_TRUE(test, check(a, 64, 1));
	KUNIT_EXPECT_TRUE(test, check(b, 64, 2));
	KUNIT_EXPECT_TRUE(test, check(big, 100000, 3));
	goalloc_free(a);
	goalloc_free(b);
	goalloc_free(big);
	goalloc_arena_destroy(ar);
	kfree(k);
	vfree(v);
}

/* A large object's span is the object: power-of-two sizes aligned to size. */
static void large_objects(struct kunit *test)
{
	unsigned long inuse;
	size_t size;

	/*
	 * A scavenger pass kicked by an earlier test would move the count, and
	 * so would the empty spans a CPU caches, which a large object's grow
	 * gives back first.
	 */
	goalloc_scavenger_flush();
	goalloc_drain_all();
	inuse = test_heap_span_pages();

	for (size = 65536; size <= GOALLOC_MAX_SIZE; size <<= 1) {
		u8 *p = goalloc_alloc(size, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL_MSG(test, p, "size %zu", size);
		KUNIT_EXPECT_EQ(test, (unsigned long)p & (size - 1), 0UL);
		KUNIT_EXPECT_EQ(test, test_heap_span_pages(), inuse + size / GOALLOC_PAGE_SIZE);
		p[0] = 1;
		p[size - 1] = 2;
		goalloc_free(p);
		KUNIT_EXPECT_EQ(test, test_heap_span_pages(), inuse);
	}
}

/* Arenas: tiny objects packed Go's way, alignment, wholesale free. */
static void arenas(struct kunit *test)
{
	struct goalloc_arena *a = goalloc_arena_create(GFP_KERNEL);
	long arena0 = goalloc_counter(GOALLOC_CTR_ARENA_PAGES);
	u8 *t1, *t2, *t3, *t4, *big, *p;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, a);
	/* 4-byte objects share a 16-byte block, 4-byte aligned. */
	t1 = goalloc_arena_alloc(a, 4, GFP_KERNEL);
	t2 = goalloc_arena_alloc(a, 4, GFP_KERNEL);
	t3 = goalloc_arena_alloc(a, 1, GFP_KERNEL);
	t4 = goalloc_arena_alloc(a, 8, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t1);
	KUNIT_ASSERT_NOT_NULL(test, t4);
	KUNIT_EXPECT_EQ(test, (unsigned long)t1 % 16, 0UL);
	KUNIT_EXPECT_PTR_EQ(test, t2, t1 + 4);
	KUNIT_EXPECT_PTR_EQ(test, t3, t1 + 8);
	/* 8-byte alignment for the 8-byte object: it no longer fits the block. */
	KUNIT_EXPECT_EQ(test, (unsigned long)t4 % 8, 0UL);
	KUNIT_EXPECT_NE(test, (unsigned long)t4 / 16, (unsigned long)t1 / 16);
	for (i = 0; i < 2000; i++) {
		size_t size = 16 + (i * 37) % 3000;

		p = goalloc_arena_alloc(a, size, GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_EQ(test, (unsigned long)p % 8, 0UL);
		KUNIT_EXPECT_EQ(test, p[0] | p[size - 1], 0);
		memset(p, 0xee, size);
	}
	big = goalloc_arena_alloc(a, 1 << 20, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_EXPECT_EQ(test, (unsigned long)big & ((1 << 20) - 1), 0UL);
	KUNIT_EXPECT_GT(test, goalloc_counter(GOALLOC_CTR_ARENA_PAGES), arena0);
	goalloc_arena_reset(a);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_ARENA_PAGES), arena0);
	/* Still usable after a reset. */
	KUNIT_EXPECT_NOT_NULL(test, goalloc_arena_alloc(a, 100, GFP_KERNEL));
	goalloc_arena_destroy(a);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_ARENA_PAGES), arena0);
}

static struct kunit_case malloc_cases[] = {
	KUNIT_CASE(api_sizes),
	KUNIT_CASE(api_zeroing),
	KUNIT_CASE(api_edge_cases),
	KUNIT_CASE(api_realloc),
	KUNIT_CASE(api_bulk),
	KUNIT_CASE(bulk_free_mixed),
	KUNIT_CASE(api_noscan),
	KUNIT_CASE(span_of_foreign),
	KUNIT_CASE(bad_frees_are_refused),
	KUNIT_CASE(large_objects),
	KUNIT_CASE(arenas),
	{}
};

static struct kunit_suite malloc_suite = {
	.name = "goalloc_malloc",
	.test_cases = malloc_cases,
};

kunit_test_suite(malloc_suite);
