// SPDX-License-Identifier: GPL-2.0
/*
 * mspan: slot allocation inside one span, the slow paths (Go's
 * nextFreeIndex and refillAllocCache), recorded frees, and the sweep that
 * folds them into the allocation bitmap.  The fast path is inline in
 * mspan.h.  The caller owns the span (see mspan.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/kmemleak.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "internal.h"
#include "mspan.h"

/* The alloc cache is one bitmap word: goalloc supports 64-bit kernels. */
static_assert(BITS_PER_LONG == 64);

/* 64 alloc bits from @idx (a multiple of 64), inverted: 1 = free. */
static u64 span_cache_word(const struct goalloc_span *s, unsigned int idx)
{
	return ~(u64)s->alloc_bits[idx / BITS_PER_LONG];
}

/* Refill the alloc cache for freeindex, which need not be 64-aligned. */
static void span_refill_cache(struct goalloc_span *s)
{
	unsigned int base = round_down(s->freeindex, 64);

	s->alloc_cache = span_cache_word(s, base) >> (s->freeindex - base);
}

/**
 * goalloc_span_create() - allocate an empty span over a range of memory
 * @base: address of the first slot
 * @cls: size class, 1 .. GOALLOC_NUM_CLASSES - 1; or 0 for a span holding a
 *	single object of @npages heap pages (a large object, an arena)
 * @npages: heap pages in the span; ignored for @cls > 0
 * @gfp: for the span's own memory
 *
 * The span and its bitmaps are one kmalloc() allocation.
 *
 * Return: the span, or NULL.
 */
struct goalloc_span *goalloc_span_create(unsigned long base, unsigned int cls,
					 unsigned int npages, gfp_t gfp)
{
	const struct goalloc_class_info *c = &goalloc_class_info[cls];
	unsigned int nelems = cls ? c->nelems : 1;
	/* Whole 64-bit words, so a cache reload never reads past the end. */
	unsigned int nbits = round_up(nelems, 64);
	unsigned int nlongs = BITS_TO_LONGS(nbits);
	struct goalloc_span *s;

	s = kzalloc(struct_size(s, bits, 3 * nlongs), gfp);
	if (!s)
		return NULL;
	/*
	 * @base points at slot 0: were the span scanned, kmemleak would take
	 * that for a reference and never report a leak of the first object.
	 */
	kmemleak_no_scan(s);
	s->base = base;
	s->nelems = nelems;
	s->cls = cls;
	if (cls) {
		s->elemsize = c->size;
		s->div_mul = c->div_mul;
		s->npages = c->npages;
	} else {
		s->elemsize = npages * GOALLOC_PAGE_SIZE;
		s->npages = npages;
	}
	s->cpu = -1;
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->list);
	s->alloc_bits = s->bits;
	s->free_bits = s->bits + nlongs;
	s->remote_bits = s->bits + 2 * nlongs;
	/* Slots past nelems read as allocated, so the cache never offers them. */
	bitmap_set(s->alloc_bits, nelems, nbits - nelems);
	span_refill_cache(s);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_create);

/**
 * goalloc_span_destroy() - free a span's own memory at once
 * @s: the span, unreachable by any lookup; its pages are the caller's
 */
void goalloc_span_destroy(struct goalloc_span *s)
{
	kfree(s);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_destroy);

/**
 * goalloc_span_next_free() - take the next free slot (Go's nextFree)
 * @s: the span
 *
 * The fast path first; else move freeindex to the next 64-slot word that
 * has a free slot and reload the cache from it.
 *
 * Return: the slot's address, or NULL if the span is full until swept.
 */
void *goalloc_span_next_free(struct goalloc_span *s)
{
	void *p = goalloc_span_next_free_fast(s);
	unsigned int bit, idx;

	if (p)
		return p;
	while (!s->alloc_cache) {
		WRITE_ONCE(s->freeindex, round_up(s->freeindex + 1, 64));
		if (s->freeindex >= s->nelems) {
			WRITE_ONCE(s->freeindex, s->nelems);
			return NULL;
		}
		s->alloc_cache = span_cache_word(s, s->freeindex);
	}
	bit = __ffs64(s->alloc_cache);
	idx = s->freeindex + bit;
	if (idx >= s->nelems) {
		WRITE_ONCE(s->freeindex, s->nelems);
		s->alloc_cache = 0;
		return NULL;
	}
	WRITE_ONCE(s->freeindex, idx + 1);
	if (s->freeindex % 64 == 0)
		s->alloc_cache = s->freeindex < s->nelems ?
				 span_cache_word(s, s->freeindex) : 0;
	else
		s->alloc_cache = (s->alloc_cache >> bit) >> 1;
	s->alloc_count++;
	return (void *)(s->base + (unsigned long)idx * s->elemsize);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_next_free);

/**
 * goalloc_span_free() - record the free of one slot, as the span's owner
 * @s: the span
 * @p: the object: the exact start of a slot of this span
 *
 * Nothing changes unless @p is the start of an allocated slot.
 *
 * Return: 0, or an error from goalloc_span_check_free().
 */
int goalloc_span_free(struct goalloc_span *s, const void *p)
{
	unsigned int idx;
	int err = goalloc_span_check_free(s, p, &idx);

	if (err)
		return err;
	goalloc_span_free_owned(s, idx);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_free);

/**
 * goalloc_span_free_remote() - record the free of one slot, as a non-owner
 * @s: the span, whose @lock the caller holds
 * @p: the object: the exact start of a slot of this span
 *
 * Return: 0, or an error from goalloc_span_check_free().
 */
int goalloc_span_free_remote(struct goalloc_span *s, const void *p)
{
	unsigned int idx;
	int err;

	lockdep_assert_held(&s->lock);
	err = goalloc_span_check_free(s, p, &idx);
	if (err)
		return err;
	__set_bit(idx, s->remote_bits);
	WRITE_ONCE(s->nremote, s->nremote + 1);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_free_remote);

/**
 * goalloc_span_sweep() - fold recorded frees into the allocation bitmap
 * @s: the span, owned by the caller, who also holds @s->lock if anyone
 *	else can reach the span
 *
 * Go's sweep swaps allocBits for the mark bits; goalloc has no marking, so
 * the recorded frees (the owner's and the remote ones) are cleared out of
 * alloc_bits instead.  Slots handed out since the last sweep (below
 * freeindex) are first written into alloc_bits, then the scan restarts at
 * slot 0.
 *
 * Return: the number of slots freed.
 */
unsigned int goalloc_span_sweep(struct goalloc_span *s)
{
	unsigned int freed = s->nfree_pending + s->nremote;

	bitmap_or(s->free_bits, s->free_bits, s->remote_bits, s->nelems);
	bitmap_zero(s->remote_bits, s->nelems);
	bitmap_set(s->alloc_bits, 0, s->freeindex);
	bitmap_andnot(s->alloc_bits, s->alloc_bits, s->free_bits, s->nelems);
	bitmap_zero(s->free_bits, s->nelems);
	s->alloc_count -= freed;
	s->nfree_pending = 0;
	WRITE_ONCE(s->nremote, 0);
	WRITE_ONCE(s->freeindex, 0);
	span_refill_cache(s);
	return freed;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_sweep);
