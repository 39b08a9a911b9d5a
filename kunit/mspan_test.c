// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: slot allocation inside a span (kmod/mspan.[ch]).
 *
 * A span's functions never touch object memory (all state is out of band),
 * so these tests run spans over a fake address range that is never
 * dereferenced, and check every outcome against a plain model.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/prandom.h>

#include "internal.h"
#include "mspan.h"

#define FAKE_BASE	0x100000UL

static unsigned int slot_of(struct goalloc_span *s, void *p)
{
	return ((unsigned long)p - s->base) / s->elemsize;
}

/* A fresh span hands out every slot once, in address order, then NULL. */
static void span_fills_in_order(struct kunit *test)
{
	struct goalloc_span *s;
	unsigned int cls, i;

	for (cls = 1; cls < GOALLOC_NUM_CLASSES; cls++) {
		s = goalloc_span_create(FAKE_BASE, cls, 0, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, s);
		for (i = 0; i < s->nelems; i++) {
			void *p = goalloc_span_next_free(s);

			if ((unsigned long)p != FAKE_BASE + (unsigned long)i * s->elemsize) {
				KUNIT_FAIL(test, "class %u slot %u: got offset %ld", cls, i,
					   (long)((unsigned long)p - FAKE_BASE));
				break;
			}
		}
		KUNIT_EXPECT_NULL_MSG(test, goalloc_span_next_free(s), "class %u", cls);
		KUNIT_EXPECT_EQ_MSG(test, goalloc_span_inuse(s), s->nelems, "class %u", cls);
		goalloc_span_destroy(s);
	}
}

/* Frees take effect at the sweep; the freed slots come back in order. */
static void sweep_returns_freed_slots(struct kunit *test)
{
	struct goalloc_span *s;
	unsigned int i, n = 0;
	void *p;

	s = goalloc_span_create(FAKE_BASE, 1, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	while (goalloc_span_next_free(s))
		;
	for (i = 0; i < s->nelems; i += 3, n++)
		KUNIT_ASSERT_EQ(test, goalloc_span_free(s, (void *)(FAKE_BASE + i * 8)), 0);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), s->nelems - n);
	/* Not yet swept: the span is still full. */
	KUNIT_EXPECT_NULL(test, goalloc_span_next_free(s));
	KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), n);
	for (i = 0; i < s->nelems; i += 3) {
		p = goalloc_span_next_free(s);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_EQ(test, slot_of(s, p), i);
	}
	KUNIT_EXPECT_NULL(test, goalloc_span_next_free(s));
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), s->nelems);
	goalloc_span_destroy(s);
}

/* Bad frees are refused with a distinct errno and change nothing. */
static void bad_frees_change_nothing(struct kunit *test)
{
	struct goalloc_span *s;
	void *a, *b;
	u16 count;

	s = goalloc_span_create(FAKE_BASE, 5, 0, GFP_KERNEL); /* 48 B */
	KUNIT_ASSERT_NOT_NULL(test, s);
	a = goalloc_span_next_free(s);
	b = goalloc_span_next_free(s);
	count = goalloc_span_inuse(s);

	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, (void *)(FAKE_BASE - 48)), -EFAULT);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, (void *)(FAKE_BASE + 170 * 48)), -EFAULT);
	/* Never handed out. */
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, b + 48), -EALREADY);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), count);

	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a), 0);
	/* Double free before the sweep ... */
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a), -EALREADY);
	KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), 1);
	/* ... and after it. */
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a), -EALREADY);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), count - 1);
	KUNIT_EXPECT_TRUE(test, goalloc_span_allocated(s, slot_of(s, b)));
	KUNIT_EXPECT_FALSE(test, goalloc_span_allocated(s, slot_of(s, a)));
	/* The freed slot is the next one handed out. */
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_next_free(s), a);
	goalloc_span_destroy(s);
}

/*
 * The owner's free of the slot it handed out last gives the slot straight
 * back, with no sweep; any other free, and a remote one, waits for the sweep.
 * A double free of the returned slot is still caught.
 */
static void owner_free_of_last_slot_reuses_it(struct kunit *test)
{
	struct goalloc_span *s;
	unsigned int i;
	void *a, *b;

	s = goalloc_span_create(FAKE_BASE, 5, 0, GFP_KERNEL); /* 48 B, 170 slots */
	KUNIT_ASSERT_NOT_NULL(test, s);
	for (i = 0; i < 1000; i++) {
		a = goalloc_span_next_free(s);
		KUNIT_ASSERT_PTR_EQ(test, a, (void *)FAKE_BASE);
		KUNIT_ASSERT_EQ(test, goalloc_span_free(s, a), 0);
		KUNIT_ASSERT_EQ(test, goalloc_span_inuse(s), 0U);
	}
	KUNIT_EXPECT_EQ(test, s->nfree_pending, 0);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a), -EALREADY);
	KUNIT_EXPECT_FALSE(test, goalloc_span_allocated(s, 0));

	/* Not the last one: recorded for the sweep. */
	a = goalloc_span_next_free(s);
	b = goalloc_span_next_free(s);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, a), 0);
	KUNIT_EXPECT_EQ(test, s->nfree_pending, 1);
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_next_free(s), b + 48);

	/* The last slot of a 64-slot word: the cache moved on, so no undo. */
	while (s->freeindex < 64)
		KUNIT_ASSERT_NOT_NULL(test, goalloc_span_next_free(s));
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, (void *)(FAKE_BASE + 63 * 48)), 0);
	KUNIT_EXPECT_EQ(test, s->nfree_pending, 2);
	KUNIT_EXPECT_EQ(test, s->freeindex, 64);
	KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), 2U);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), 62U);
	goalloc_span_destroy(s);
}

/* Free as the owner, or as another CPU does it, under the span's lock. */
static int free_either(struct goalloc_span *s, void *p, bool remote)
{
	unsigned long flags;
	int err;

	if (!remote)
		return goalloc_span_free(s, p);
	spin_lock_irqsave(&s->lock, flags);
	err = goalloc_span_free_remote(s, p);
	spin_unlock_irqrestore(&s->lock, flags);
	return err;
}

/*
 * Random allocs, frees (owner and remote) and sweeps against a model, over classes whose slot
 * counts are and are not multiples of 64 (1024, 341, 170, 7, 1).
 */
static void random_ops_match_model(struct kunit *test)
{
	static const unsigned int classes[] = { 1, 3, 5, 33, 67 };
	struct rnd_state rnd;
	unsigned int k, step, i;

	prandom_seed_state(&rnd, 42);
	for (k = 0; k < ARRAY_SIZE(classes); k++) {
		struct goalloc_span *s;
		unsigned long *live;	/* allocated and not freed */
		unsigned long *pending;	/* freed, not yet swept */

		s = goalloc_span_create(FAKE_BASE, classes[k], 0, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, s);
		live = kunit_kcalloc(test, BITS_TO_LONGS(s->nelems), sizeof(long), GFP_KERNEL);
		pending = kunit_kcalloc(test, BITS_TO_LONGS(s->nelems), sizeof(long), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, live);
		KUNIT_ASSERT_NOT_NULL(test, pending);

		for (step = 0; step < 20000; step++) {
			u32 r = prandom_u32_state(&rnd);
			void *p;

			if (r % 100 < 50) {
				p = goalloc_span_next_free(s);
				/* Full until swept: free slots are only the pending ones-> */
				if (!p) {
					KUNIT_ASSERT_EQ(test,
							bitmap_weight(live, s->nelems) +
							bitmap_weight(pending, s->nelems),
							(unsigned int)s->nelems);
					continue;
				}
				i = slot_of(s, p);
				KUNIT_ASSERT_FALSE_MSG(test, test_bit(i, live),
						       "slot %u given twice", i);
				KUNIT_ASSERT_FALSE(test, test_bit(i, pending));
				__set_bit(i, live);
			} else if (r % 100 < 97) {
				i = (r >> 8) % s->nelems;
				p = (void *)(s->base + (unsigned long)i * s->elemsize);
				/* Half the frees come from "another CPU". */
				int want = test_bit(i, live) ? 0 : -EALREADY;
				unsigned int before = s->freeindex;

				KUNIT_ASSERT_EQ(test, free_either(s, p, r & BIT(30)), want);
				if (!want) {
					__clear_bit(i, live);
					/* An owner free of the last slot handed out: undone. */
					if (s->freeindex != before) {
						KUNIT_ASSERT_FALSE(test, r & BIT(30));
						KUNIT_ASSERT_EQ(test, before, i + 1);
						KUNIT_ASSERT_EQ(test, s->freeindex, i);
					} else {
						__set_bit(i, pending);
					}
				}
			} else {
				KUNIT_ASSERT_EQ(test, goalloc_span_sweep(s),
						bitmap_weight(pending, s->nelems));
				bitmap_zero(pending, s->nelems);
			}
			KUNIT_ASSERT_EQ(test, goalloc_span_inuse(s),
					bitmap_weight(live, s->nelems));
		}
		goalloc_span_destroy(s);
	}
}

static struct kunit_case mspan_cases[] = {
	KUNIT_CASE(span_fills_in_order),
	KUNIT_CASE(sweep_returns_freed_slots),
	KUNIT_CASE(bad_frees_change_nothing),
	KUNIT_CASE(owner_free_of_last_slot_reuses_it),
	KUNIT_CASE(random_ops_match_model),
	{}
};

static struct kunit_suite mspan_suite = {
	.name = "goalloc_mspan",
	.test_cases = mspan_cases,
};

kunit_test_suite(mspan_suite);
