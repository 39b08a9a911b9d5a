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
#include "mcache.h"
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

/* Free as the owner, or as another CPU does it (no lock). */
static int free_either(struct goalloc_span *s, void *p, bool remote)
{
	if (!remote)
		return goalloc_span_free(s, p);
	return goalloc_span_free_remote(s, p, false);
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

/*
 * A remote free recorded as goalloc_central_free() records it (no lock);
 * the span's memory is not real, so nothing is made free in it.
 */
static int remote_free(struct goalloc_span *s, void *p)
{
	return goalloc_span_free_remote(s, p, false);
}

/*
 * Two frees of one object at once, owner and remote, where each checked
 * before the other recorded (kmod/models/span_free.pml).  Forced here at
 * the span level: the remote free is recorded between the owner's check
 * and its record.  The owner's record takes the slot back into the cache
 * (the last slot handed out): the slot must come out once, with one double
 * free counted, and the objects-in-use hint must be right after it.
 */
static void racing_double_free_lifo_found_on_reuse(struct kunit *test)
{
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	long late = atomic_long_read(&goalloc_late_doubles[0]);
	struct goalloc_span *s;
	void *p0, *p1, *q;
	unsigned int idx;

	s = goalloc_span_create(FAKE_BASE, 5, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	p0 = goalloc_span_next_free(s);
	p1 = goalloc_span_next_free(s);
	KUNIT_ASSERT_EQ(test, goalloc_span_check_free(s, p1, &idx), 0);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	KUNIT_EXPECT_EQ(test, remote_free(s, p1), 0);
	goalloc_span_free_owned(s, idx);
	/* Slot 1 is back in the cache with a stale remote record. */
	q = goalloc_span_next_free(s);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_PTR_EQ(test, q, p1);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goalloc_late_doubles[0]), late + 1);
	/* The span is a test's own, outside the object counts: take it back. */
	atomic_long_dec(&goalloc_late_doubles[0]);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nremote), 0);
	/* p0 and q are live, and the next slot is a new one. */
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), 2U);
	KUNIT_EXPECT_EQ(test, slot_of(s, goalloc_span_next_free(s)), 2U);
	KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), 0U);
	KUNIT_EXPECT_EQ(test, s->alloc_count, 3);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, p0), 0);
	goalloc_span_destroy(s);
}

/* The same race where the owner records in free_bits: the sweep frees once. */
static void racing_double_free_swept_once(struct kunit *test)
{
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	long late = atomic_long_read(&goalloc_late_doubles[0]);
	struct goalloc_span *s;
	void *p0, *p1, *p2;
	unsigned int idx;

	s = goalloc_span_create(FAKE_BASE, 5, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	p0 = goalloc_span_next_free(s);
	p1 = goalloc_span_next_free(s);
	p2 = goalloc_span_next_free(s);
	KUNIT_ASSERT_EQ(test, goalloc_span_check_free(s, p0, &idx), 0);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	KUNIT_EXPECT_EQ(test, remote_free(s, p0), 0);
	goalloc_span_free_owned(s, idx);
	/* The hint undercounts (two frees recorded for one object)... */
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), 1U);
	/* ...the sweep frees the slot once and recounts. */
	KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), 1U);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&goalloc_late_doubles[0]), late + 1);
	atomic_long_dec(&goalloc_late_doubles[0]);
	KUNIT_EXPECT_EQ(test, s->alloc_count, 2);
	KUNIT_EXPECT_EQ(test, goalloc_span_inuse(s), 2U);
	/* p1 and p2 are still allocated; slot 0 comes out once. */
	KUNIT_EXPECT_PTR_EQ(test, goalloc_span_next_free(s), p0);
	KUNIT_EXPECT_EQ(test, slot_of(s, goalloc_span_next_free(s)), 3U);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, p1), 0);
	KUNIT_EXPECT_EQ(test, goalloc_span_free(s, p2), 0);
	goalloc_span_destroy(s);
}

/* Slots past nelems read as allocated, before and after any sweep. */
static void sweep_keeps_pad_bits(struct kunit *test)
{
	struct goalloc_span *s;
	unsigned int i, nbits;

	s = goalloc_span_create(FAKE_BASE, 5, 0, GFP_KERNEL);	/* 170 slots */
	KUNIT_ASSERT_NOT_NULL(test, s);
	nbits = round_up(s->nelems, 64);
	KUNIT_ASSERT_NE(test, s->nelems, nbits);
	for (i = 0; i < 3; i++) {
		void *p = goalloc_span_next_free(s), *q = goalloc_span_next_free(s);

		/* p goes to free_bits (not the last handed out), q straight back. */
		KUNIT_EXPECT_EQ(test, goalloc_span_free(s, p), 0);
		KUNIT_EXPECT_EQ(test, goalloc_span_free(s, q), 0);
		KUNIT_EXPECT_EQ(test, goalloc_span_sweep(s), 1U);
		KUNIT_EXPECT_EQ(test, find_next_zero_bit(s->alloc_bits, nbits, s->nelems), nbits);
	}
	goalloc_span_destroy(s);
}

/* The state changes goalloc makes are allowed; the rest are refused. */
static void span_state_transitions(struct kunit *test)
{
	static const enum goalloc_span_state small[] = {
		GOALLOC_SPAN_CACHED, GOALLOC_SPAN_PARTIAL, GOALLOC_SPAN_FULL, GOALLOC_SPAN_KEPT,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		KUNIT_EXPECT_TRUE(test, goalloc_span_transition_ok(GOALLOC_SPAN_NEW, small[i]));
		for (j = 0; j < ARRAY_SIZE(small); j++)
			KUNIT_EXPECT_TRUE(test, goalloc_span_transition_ok(small[i], small[j]));
		KUNIT_EXPECT_TRUE(test, goalloc_span_transition_ok(small[i], GOALLOC_SPAN_DEAD));
		KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(small[i], GOALLOC_SPAN_NEW));
		KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(small[i], GOALLOC_SPAN_USER));
		KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(GOALLOC_SPAN_DEAD, small[i]));
		KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(GOALLOC_SPAN_LARGE, small[i]));
		KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(GOALLOC_SPAN_USER, small[i]));
	}
	KUNIT_EXPECT_TRUE(test, goalloc_span_transition_ok(GOALLOC_SPAN_USER, GOALLOC_SPAN_DEAD));
	KUNIT_EXPECT_FALSE(test, goalloc_span_transition_ok(GOALLOC_SPAN_DEAD, GOALLOC_SPAN_DEAD));
}

static struct kunit_case mspan_cases[] = {
	KUNIT_CASE(span_fills_in_order),
	KUNIT_CASE(sweep_returns_freed_slots),
	KUNIT_CASE(bad_frees_change_nothing),
	KUNIT_CASE(owner_free_of_last_slot_reuses_it),
	KUNIT_CASE(random_ops_match_model),
	KUNIT_CASE(racing_double_free_lifo_found_on_reuse),
	KUNIT_CASE(racing_double_free_swept_once),
	KUNIT_CASE(sweep_keeps_pad_bits),
	KUNIT_CASE(span_state_transitions),
	{}
};

static struct kunit_suite mspan_suite = {
	.name = "goalloc_mspan",
	.test_cases = mspan_cases,
};

kunit_test_suite(mspan_suite);
