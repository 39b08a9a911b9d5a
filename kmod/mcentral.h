/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcentral (mcentral.c): the spans of each span class that no CPU caches,
 * Go's mcentral.  Below mcache, above the heap (mheap.h): mcache trades
 * spans with it, frees of objects in spans no CPU owns go through it, and
 * it takes new spans from the heap and gives empty ones back.
 */
#ifndef _GOALLOC_MCENTRAL_H
#define _GOALLOC_MCENTRAL_H

#include <linux/list.h>
#include <linux/spinlock.h>

#include "internal.h"
#include "mheap.h"

/**
 * struct goalloc_mcentral - the spans of one span class (Go's mcentral)
 * @lock: protects the lists and, with each span's own lock, the state of
 *	spans on them; IRQ-safe
 * @partial: spans that may have free slots
 * @full: spans with no free slot and no free pending
 * @kept: swept spans with no object (GOALLOC_SPAN_KEPT), kept for reuse
 *	rather than given back to the heap at once (at most
 *	goalloc_central_keep() of them)
 * @nkept: spans on @kept
 * @nspans: live spans of the class, wherever they are
 * @nmalloc: objects allocated outside any mcache (interrupt fallback, node
 *	requests)
 * @nfree: objects freed outside the owner's mcache
 */
struct goalloc_mcentral {
	spinlock_t lock;	/* see @lock above */
	struct list_head partial;
	struct list_head full;
	struct list_head kept;
	unsigned int nkept;
	atomic_long_t nspans;
	atomic_long_t nmalloc;
	atomic_long_t nfree;
} ____cacheline_aligned_in_smp;

extern struct goalloc_mcentral goalloc_central[GOALLOC_NUM_SPC];

/* Count an allocation made outside any mcache (mstats.c adds them up). */
static inline void goalloc_central_count_alloc(unsigned int spc)
{
	atomic_long_inc(&goalloc_central[spc].nmalloc);
}

/* Count a large object's span, which the heap gave to mcache directly. */
static inline void goalloc_central_count_large(unsigned int spc)
{
	atomic_long_inc(&goalloc_central[spc].nspans);
	goalloc_central_count_alloc(spc);
}

void goalloc_central_init(void);
void goalloc_central_exit(void);
struct goalloc_span *goalloc_central_cache_span(unsigned int spc);
void goalloc_central_uncache_span(struct goalloc_span *s);
void goalloc_central_add_span(struct goalloc_span *s);
void *goalloc_central_take(struct list_head *partial, struct list_head *full, int node,
			   struct goalloc_span **sp);
void *goalloc_central_alloc(unsigned int spc, size_t size, int node);
struct goalloc_span *goalloc_central_grow(unsigned int spc, int node, gfp_t gfp);
struct goalloc_span *goalloc_central_grow_pool(struct goalloc_pool *pool, unsigned int spc,
					       int node, gfp_t gfp);
int goalloc_central_free(struct goalloc_span *s, const void *p);
size_t goalloc_central_free_run(struct goalloc_span *s, void **ptrs, size_t i, size_t start,
				unsigned long caller, unsigned long *nfreed);
unsigned int goalloc_central_keep(unsigned int spc);
unsigned long goalloc_central_release_kept(void);
unsigned long goalloc_central_retire_class(unsigned int spc);
extern atomic_long_t goalloc_central_rcu_spans;

#endif /* _GOALLOC_MCENTRAL_H */
