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
#include <linux/nodemask.h>
#include <linux/spinlock.h>

#include "hooks.h"
#include "internal.h"
#include "mheap.h"
#include "mspan.h"

/**
 * struct goalloc_mcentral - the spans of one span class on one NUMA node
 *	(Go's mcentral, per node as SLUB's kmem_cache_node)
 * @lock: protects the lists and, with each span's own lock, the state of
 *	spans on them; IRQ-safe
 * @partial: spans that may have free slots
 * @full: spans with no free slot and no free pending
 * @kept: swept spans with no object (GOALLOC_SPAN_KEPT), kept for reuse
 *	rather than given back to the heap at once (at most
 *	goalloc_central_keep() of them)
 * @nkept: spans on @kept
 * @nspans: live spans of the class on the node, wherever they are
 * @npages: their heap pages (a class's spans have up to three shapes: sizeclasses.h)
 * @nmalloc: objects allocated outside any mcache (interrupt fallback, node
 *	requests)
 * @nfree: objects freed outside the owner's mcache
 *
 * Every span on a node's lists lies in a chunk of that node
 * (goalloc_span_nid()): a span goes back to its own node's mcentral,
 * whichever CPU or node freed or cached it.
 */
struct goalloc_mcentral {
	spinlock_t lock;	/* see @lock above */
	struct list_head partial;
	struct list_head full;
	struct list_head kept;
	unsigned int nkept;
	atomic_long_t nspans;
	atomic_long_t npages;
	atomic_long_t nmalloc;
	atomic_long_t nfree;
} ____cacheline_aligned_in_smp;

/*
 * goalloc_centrals[nid][spc]: every possible node has its array (allocated
 * on the node where it has memory, at init), so a node that comes online
 * later has one already; walk them with for_each_node().  Constant after
 * goalloc_central_init().
 */
extern struct goalloc_mcentral **goalloc_centrals;

/* The mcentral of span class @spc on node @nid. */
static inline struct goalloc_mcentral *goalloc_central_of(int nid, unsigned int spc)
{
	return &goalloc_centrals[nid][spc];
}

/*
 * A span's node: its chunk's, kept in the span, so that a free that
 * released the span (and maybe its chunk) can still count itself.
 */
static inline int goalloc_span_nid(const struct goalloc_span *s)
{
	return s->nid;
}

/* The mcentral a span belongs to, for its whole life. */
static inline struct goalloc_mcentral *goalloc_span_central(const struct goalloc_span *s)
{
	return goalloc_central_of(goalloc_span_nid(s), s->spc);
}

/* Count an allocation from @s made outside any mcache (mstats.c adds them up). */
static inline void goalloc_central_count_alloc(const struct goalloc_span *s)
{
	atomic_long_inc(&goalloc_span_central(s)->nmalloc);
}

/* Count a free into @s made outside its owner's mcache, with no CPU's cache to count it. */
static inline void goalloc_central_count_free(const struct goalloc_span *s)
{
	atomic_long_inc(&goalloc_span_central(s)->nfree);
}

/* A span of the class is born (mcentral's grow, or a large object's). */
static inline void goalloc_central_span_born(const struct goalloc_span *s)
{
	atomic_long_inc(&goalloc_span_central(s)->nspans);
	atomic_long_add(s->npages, &goalloc_span_central(s)->npages);
}

/* A span of the class goes back to the heap. */
static inline void goalloc_central_span_gone(const struct goalloc_span *s)
{
	atomic_long_dec(&goalloc_span_central(s)->nspans);
	atomic_long_sub(s->npages, &goalloc_span_central(s)->npages);
}

/* Count a large object's span, which the heap gave to mcache directly. */
static inline void goalloc_central_count_large(const struct goalloc_span *s)
{
	goalloc_central_span_born(s);
	goalloc_central_count_alloc(s);
}

long goalloc_central_nspans(unsigned int spc);
int goalloc_central_init(void);
void goalloc_central_exit(void);
struct goalloc_span *goalloc_central_cache_span(unsigned int spc, int nid);
struct goalloc_span *goalloc_central_cache_span_sized(unsigned int spc, int nid,
						      unsigned int min_pages);
void goalloc_central_uncache_span(struct goalloc_span *s);
void goalloc_central_add_span(struct goalloc_span *s);
void *goalloc_central_take_slot(unsigned int spc, int node, struct goalloc_span **sp);
void *goalloc_central_take(struct list_head *partial, struct list_head *full,
			   struct goalloc_span **sp);
void *goalloc_central_alloc(unsigned int spc, size_t size, int node);
struct goalloc_span *goalloc_central_grow(unsigned int spc, unsigned int npages, int node,
					  gfp_t gfp);
struct goalloc_span *goalloc_central_grow_shaped(struct goalloc_pool *pool, unsigned int spc,
						 unsigned int npages, int node, gfp_t gfp);
struct goalloc_span *goalloc_central_grow_pool(struct goalloc_pool *pool, unsigned int spc,
					       int node, gfp_t gfp);
int goalloc_central_free_large(struct goalloc_span *s, const void *p);
int goalloc_central_fixup_then(struct goalloc_span *s, int err);
size_t goalloc_central_free_run(struct goalloc_span *s, void **ptrs, size_t i, size_t start,
				unsigned long caller, unsigned long *nfreed);
unsigned int goalloc_central_keep(unsigned int spc);
unsigned long goalloc_central_release_kept(void);
unsigned long goalloc_central_retire_class(unsigned int spc);
extern atomic_long_t goalloc_central_rcu_spans;

/*
 * Must mcentral move the span after a remote free into it?  Read after the
 * free's last write and its full barrier (goalloc_span_free_remote()), with
 * no lock: if this reads a state from before mcentral's last placement,
 * that placement's span_settle() sees the free instead.
 */
static __always_inline bool goalloc_central_needs_fixup(const struct goalloc_span *s)
{
	u8 state = READ_ONCE(s->state);

	return (state == GOALLOC_SPAN_PARTIAL || state == GOALLOC_SPAN_FULL) &&
	       (state == GOALLOC_SPAN_FULL || goalloc_span_inuse_hint(s) <= 0);
}

/*
 * goalloc_central_free()'s record alone, for a small object's span: no
 * call (outside test hooks and, with @pre_free, the sanitizers' and
 * init_on_free's work), no move.  @live: the caller found
 * goalloc_span_small_live(@s), so the state is not read again.  The caller
 * asks goalloc_central_needs_fixup() afterwards, whatever this returned,
 * and calls goalloc_central_fixup_then() if so.
 */
static __always_inline int goalloc_central_free_small(struct goalloc_span *s, const void *p,
						      bool pre_free, bool live)
{
	goalloc_hook(GOALLOC_HOOK_REMOTE_FREE, (void *)p);
	if (live)
		return goalloc_span_free_remote_live(s, p, pre_free);
	return goalloc_span_free_remote(s, p, pre_free);
}

/**
 * goalloc_central_free() - free an object of a span no CPU owns here
 * @s: the object's span, from goalloc_span_of() inside an RCU read-side
 *	section (the mcache pin is one), which keeps @s readable
 * @p: the object
 *
 * A free by anyone but the span's owner: recorded with no lock
 * (goalloc_span_free_remote()), and with mcentral's lock only if the span
 * must move (goalloc_central_fixup_then()).  A large object's span goes
 * back to the heap (goalloc_central_free_large()).  Inline: a CPU's free
 * into a span it no longer owns (every free of an N-then-N pattern past the
 * CPU's current span) pays no call for it, only for the rare move.
 *
 * Return: 0, or -ESTALE, -EPERM, -EINVAL, -EFAULT, -EALREADY for a bad free
 * (nothing changed; the caller reports it).
 */
static __always_inline int goalloc_central_free(struct goalloc_span *s, const void *p)
{
	int err;

	if (unlikely(!s->cls)) {
		goalloc_hook(GOALLOC_HOOK_REMOTE_FREE, (void *)p);
		return goalloc_central_free_large(s, p);
	}
	err = goalloc_central_free_small(s, p, true, false);
	/* Also after a refused free: its pin may have held back a retire. */
	if (unlikely(goalloc_central_needs_fixup(s)))
		return goalloc_central_fixup_then(s, err);
	return err;
}

#endif /* _GOALLOC_MCENTRAL_H */
