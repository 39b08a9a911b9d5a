// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the size-class table and its lookups (kmod/sizeclasses.[ch]).
 *
 * Checks, for every request size 1 .. 32768, that the lookup returns the
 * smallest class that fits and that the round-up waste stays within the
 * bounds Documentation/sizeclasses.rst promises; for every class, that its
 * span wastes at most 1/8 in the tail and that the multiply-shift object
 * index equals offset / size at every byte offset of the span.
 */
#include <kunit/test.h>
#include <linux/log2.h>

#include "internal.h"
#include "mcache.h"

/*
 * Documented worst round-up waste (Documentation/sizeclasses.rst), in units
 * of 0.01%, as a share of the request and as a share of the object: above
 * 128 bytes 4097 -> 4864 (18.72%, 15.77%); from 9 bytes 9 -> 16 (77.78%,
 * 43.75%).
 */
#define WASTE_ABOVE_128_PERMYRIAD	1873
#define WASTE_FROM_9_PERMYRIAD		7778
#define OBJ_WASTE_ABOVE_128_PERMYRIAD	1577
#define OBJ_WASTE_FROM_9_PERMYRIAD	4375

static void class_table_shape(struct kunit *test)
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, goalloc_class_info[0].size, 0);
	KUNIT_EXPECT_EQ(test, goalloc_class_info[1].size, 8);
	KUNIT_EXPECT_EQ(test, goalloc_class_info[GOALLOC_NUM_CLASSES - 1].size,
			GOALLOC_MAX_CLASS_SIZE);
	for (i = 1; i < GOALLOC_NUM_CLASSES; i++) {
		const struct goalloc_class_info *c = &goalloc_class_info[i];
		unsigned long span = c->npages * GOALLOC_PAGE_SIZE;

		KUNIT_EXPECT_GT_MSG(test, c->size, goalloc_class_info[i - 1].size,
				    "class %u", i);
		KUNIT_EXPECT_EQ_MSG(test, c->nelems, span / c->size, "class %u", i);
		KUNIT_EXPECT_LE_MSG(test, c->nelems, 1024, "class %u", i);
		KUNIT_EXPECT_LE_MSG(test, span, 80 * 1024, "class %u", i);
		/*
		 * The big shape (rule 6): from the class's own pages, within
		 * the page cache's largest run, more objects than the class's
		 * own with the tail rule: goalloc_big_objs(), or as many as
		 * the run holds.
		 */
		KUNIT_EXPECT_GE_MSG(test, c->big_npages, c->npages, "class %u", i);
		KUNIT_EXPECT_LE_MSG(test, c->big_npages,
				    max_t(unsigned int, c->npages, GOALLOC_BIG_MAX_PAGES),
				    "class %u", i);
		if (c->big_npages > c->npages) {
			unsigned long big = c->big_npages * GOALLOC_PAGE_SIZE;

			KUNIT_EXPECT_LT_MSG(test, c->nelems, goalloc_big_objs(c->size),
					    "class %u", i);
			KUNIT_EXPECT_GT_MSG(test, big / c->size, c->nelems, "class %u", i);
			KUNIT_EXPECT_TRUE_MSG(test, big / c->size >= goalloc_big_objs(c->size) ||
					      goalloc_big_objs(c->size) * c->size >
					      GOALLOC_BIG_MAX_PAGES * GOALLOC_PAGE_SIZE,
					      "class %u", i);
			KUNIT_EXPECT_LE_MSG(test, big % c->size, big / 8, "class %u", i);
		} else {
			/* One shape: the class's own holds that many already. */
			KUNIT_EXPECT_GE_MSG(test, c->nelems, goalloc_big_objs(c->size),
					    "class %u", i);
		}
		/*
		 * The small shape (rule 7): from GOALLOC_SMALL_MIN_SIZE up
		 * (1,152 B is the first class it changes), the fewest pages
		 * holding an object with tail waste at most 1/4, if fewer than
		 * the class's own; else the class's own.
		 */
		KUNIT_EXPECT_LE_MSG(test, c->small_npages, c->npages, "class %u", i);
		if (c->size < GOALLOC_SMALL_MIN_SIZE) {
			KUNIT_EXPECT_EQ_MSG(test, c->small_npages, c->npages, "class %u", i);
		} else {
			unsigned int p;

			for (p = 1; p <= c->small_npages; p++) {
				unsigned long sp = p * GOALLOC_PAGE_SIZE;
				bool fits = sp >= c->size && sp % c->size <= sp / 4;

				KUNIT_EXPECT_EQ_MSG(test, fits, p == c->small_npages,
						    "class %u, %u pages", i, p);
			}
		}
		/* Tail waste of a span is at most 1/8. */
		KUNIT_EXPECT_LE_MSG(test, span % c->size, span / 8, "class %u", i);
		/* kmalloc's alignment guarantees: 8 bytes, 16 from 32 bytes. */
		KUNIT_EXPECT_EQ_MSG(test, c->size % 8, 0, "class %u", i);
		if (c->size >= 32)
			KUNIT_EXPECT_EQ_MSG(test, c->size % 16, 0, "class %u", i);
	}
}

/* The fast path's one table says what goalloc_size_class() says, at every size. */
static void flat_table_matches_lookup(struct kunit *test)
{
	size_t n;

	for (n = 1; n <= GOALLOC_MAX_CLASS_SIZE; n++)
		KUNIT_ASSERT_EQ_MSG(test, goalloc_size_spc(n),
				    goalloc_spc(goalloc_size_class(n), false), "size %zu", n);
}

static void every_size_fits_smallest_class(struct kunit *test)
{
	size_t n;

	for (n = 1; n <= GOALLOC_MAX_CLASS_SIZE; n++) {
		unsigned int cls = goalloc_size_class(n);

		if (cls < 1 || cls >= GOALLOC_NUM_CLASSES) {
			KUNIT_FAIL(test, "size %zu: class %u out of range", n, cls);
			return;
		}
		if (goalloc_class_info[cls].size < n ||
		    goalloc_class_info[cls - 1].size >= n) {
			KUNIT_FAIL(test, "size %zu: class %u (%u bytes) is not the smallest fit",
				   n, cls, goalloc_class_info[cls].size);
			return;
		}
	}
}

static void round_up_waste_within_bounds(struct kunit *test)
{
	unsigned long worst_above_128 = 0, worst_from_9 = 0;
	unsigned long obj_above_128 = 0, obj_from_9 = 0;
	size_t n, worst_n = 0;

	for (n = 9; n <= GOALLOC_MAX_CLASS_SIZE; n++) {
		unsigned long size = goalloc_class_info[goalloc_size_class(n)].size;
		unsigned long w = (size - n) * 10000UL / n;
		unsigned long wo = (size - n) * 10000UL / size;

		if (n > 128 && w > worst_above_128) {
			worst_above_128 = w;
			worst_n = n;
		}
		if (n > 128)
			obj_above_128 = max(obj_above_128, wo);
		worst_from_9 = max(worst_from_9, w);
		obj_from_9 = max(obj_from_9, wo);
	}
	kunit_info(test, "worst round-up waste above 128 B: %lu.%02lu%% at %zu bytes\n",
		   worst_above_128 / 100, worst_above_128 % 100, worst_n);
	KUNIT_EXPECT_LE(test, worst_above_128, WASTE_ABOVE_128_PERMYRIAD);
	KUNIT_EXPECT_EQ(test, worst_n, 4097);
	KUNIT_EXPECT_LE(test, worst_from_9, WASTE_FROM_9_PERMYRIAD);
	KUNIT_EXPECT_LE(test, obj_above_128, OBJ_WASTE_ABOVE_128_PERMYRIAD);
	KUNIT_EXPECT_LE(test, obj_from_9, OBJ_WASTE_FROM_9_PERMYRIAD);
}

static void obj_index_matches_division(struct kunit *test)
{
	unsigned int cls, idx;
	u32 off;
	bool start;

	for (cls = 1; cls < GOALLOC_NUM_CLASSES; cls++) {
		const struct goalloc_class_info *c = &goalloc_class_info[cls];
		/*
		 * Over the largest span of the class: a bulk call's (rule 8,
		 * up to GOALLOC_BIG_MAX_PAGES) or the big shape's, which
		 * holds the class's own.
		 */
		u32 span = (c->size <= GOALLOC_BULK_SHAPE_MAX_SIZE ? GOALLOC_BIG_MAX_PAGES :
			    c->big_npages) * GOALLOC_PAGE_SIZE;
		unsigned int nelems = span / c->size;

		for (off = 0; off <= span; off++) {
			if (goalloc_obj_index(cls, off) != off / c->size) {
				KUNIT_FAIL(test, "class %u offset %u: index %u, want %u",
					   cls, off, goalloc_obj_index(cls, off),
					   off / c->size);
				return;
			}
			/* The free's one-multiply test, over the slots. */
			if (off >= nelems * c->size)
				continue;
			start = goalloc_div_slot(c->div_mul, off, &idx);
			if (start != !(off % c->size) || idx != off / c->size) {
				KUNIT_FAIL(test, "class %u offset %u: slot %u start %d, want %u %d",
					   cls, off, idx, start, off / c->size, !(off % c->size));
				return;
			}
		}
		cond_resched();
	}
}

static void power_of_two_sizes_get_own_class(struct kunit *test)
{
	size_t n;

	/* A power-of-two request up to 32 KiB lands in a class of that size. */
	for (n = 8; n <= GOALLOC_MAX_CLASS_SIZE; n <<= 1)
		KUNIT_EXPECT_EQ_MSG(test, goalloc_class_info[goalloc_size_class(n)].size,
				    n, "size %zu", n);
}

static struct kunit_case sizeclasses_cases[] = {
	KUNIT_CASE(class_table_shape),
	KUNIT_CASE(every_size_fits_smallest_class),
	KUNIT_CASE(flat_table_matches_lookup),
	KUNIT_CASE(round_up_waste_within_bounds),
	KUNIT_CASE(obj_index_matches_division),
	KUNIT_CASE(power_of_two_sizes_get_own_class),
	{}
};

static struct kunit_suite sizeclasses_suite = {
	.name = "goalloc_sizeclasses",
	.test_cases = sizeclasses_cases,
};

kunit_test_suite(sizeclasses_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for goalloc");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
