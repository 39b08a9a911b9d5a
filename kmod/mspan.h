/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mspan: a run of heap pages cut into equal slots (Go's mspan).
 *
 * Allocation state lives out of band, in two bitmaps, never in the objects:
 *
 *  - alloc_bits: 1 = allocated, as of the last sweep.  Allocation never
 *    writes it.  Every slot below freeindex is allocated; at or above
 *    freeindex a slot is free iff its alloc bit is 0.
 *  - alloc_cache: the complement of the 64 alloc bits from freeindex on,
 *    shifted so that bit 0 is slot freeindex; ctz finds the next free slot.
 *  - free_bits: frees recorded since the last sweep (the slot Go's
 *    gcmarkBits occupies).  goalloc_span_sweep() folds them into alloc_bits.
 *
 * Locking: a span has one owner at a time (a CPU's mcache, or mcentral under
 * its lock); every function here expects the caller to be that owner.
 */
#ifndef _GOALLOC_MSPAN_H
#define _GOALLOC_MSPAN_H

#include <linux/bitops.h>
#include <linux/types.h>

#include "sizeclasses.h"

/**
 * struct goalloc_span - a span of equal-sized slots
 * @base: address of slot 0
 * @alloc_cache: inverted alloc bits from @freeindex (1 = free)
 * @elemsize: bytes per slot
 * @div_mul: multiplier for offset -> slot index (sizeclasses.h)
 * @nelems: slots in the span
 * @freeindex: slots below it are allocated; the scan for free slots starts here
 * @alloc_count: allocated slots (as the allocator sees them, frees included
 *	once recorded)
 * @nfree_pending: frees recorded in @free_bits and not yet swept
 * @cls: size class
 * @alloc_bits: allocation bitmap as of the last sweep
 * @free_bits: frees recorded since the last sweep
 */
struct goalloc_span {
	unsigned long base;
	u64 alloc_cache;
	u32 elemsize;
	u32 div_mul;
	u16 nelems;
	u16 freeindex;
	u16 alloc_count;
	u16 nfree_pending;
	u8 cls;
	unsigned long *alloc_bits;
	unsigned long *free_bits;
};

int goalloc_span_init(struct goalloc_span *s, unsigned long base, unsigned int cls,
		      gfp_t gfp);
void goalloc_span_destroy(struct goalloc_span *s);
void *goalloc_span_next_free(struct goalloc_span *s);
int goalloc_span_free(struct goalloc_span *s, const void *p);
unsigned int goalloc_span_sweep(struct goalloc_span *s);
bool goalloc_span_allocated(const struct goalloc_span *s, unsigned int idx);

/**
 * goalloc_span_next_free_fast() - take a free slot from the alloc cache
 * @s: the span, owned by the caller
 *
 * Go's nextFreeFast: one ctz, no bitmap access.  Leaves the cache refill at
 * a 64-slot boundary to the slow path.
 *
 * Return: the slot's address, or NULL if the slow path must look.
 */
static __always_inline void *goalloc_span_next_free_fast(struct goalloc_span *s)
{
	unsigned int bit, idx;

	if (unlikely(!s->alloc_cache))
		return NULL;
	bit = __ffs64(s->alloc_cache);
	idx = s->freeindex + bit;
	if (unlikely(idx >= s->nelems))
		return NULL;
	if (unlikely((idx + 1) % 64 == 0 && idx + 1 != s->nelems))
		return NULL;
	/* bit + 1 may be 64: shift in two steps to stay defined. */
	s->alloc_cache = (s->alloc_cache >> bit) >> 1;
	s->freeindex = idx + 1;
	s->alloc_count++;
	return (void *)(s->base + (unsigned long)idx * s->elemsize);
}

#endif /* _GOALLOC_MSPAN_H */
