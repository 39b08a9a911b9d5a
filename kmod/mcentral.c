// SPDX-License-Identifier: GPL-2.0
/*
 * mcentral: the spans of one span class that no CPU is allocating from
 * (Go's mcentral), on two lists: partial (may have free slots) and full.
 *
 * An mcache trades spans with mcentral: it gives back an exhausted span and
 * takes a partial one, which is swept on the way (Go's cacheSpan and
 * uncacheSpan); a span is the batch of the refill.  Frees by anyone but a
 * span's owner take no lock at all (goalloc_span_free_remote(): atomic bit
 * operations); only a span's transitions (full -> partial, partial ->
 * empty and back to the heap) take the mcentral lock, in
 * goalloc_central_fixup(), which the free asks for after it looked at the
 * span's state.  mcentral looks again after each placement it makes
 * (span_settle()), so that a free that read the state just before it is
 * not lost (model: kmod/models/span_free.pml).
 *
 * A span left with no object is swept and kept on the kept list, up to
 * goalloc_central_keep() spans per class (of shapes above the class's own
 * only: span_retire()), so a workload that fills and empties spans over
 * and over (SLUB keeps empty slabs on its partial lists for the same
 * reason) does not pay the heap for each one; beyond that it goes back to
 * the heap.
 * Keeping one asks the heap for a trim pass (goalloc_heap_trim_soon());
 * the pass, scavenge_delay_ms later, gives every kept span back to the
 * heap (goalloc_central_release_kept()), and so does the shrinker.  Both
 * are installed by the layer on top (mgcscavenge.c): mcentral only queues
 * the heap's work item.
 *
 * Lock order: mcentral lock, then span lock.  Both are IRQ-safe.  The heap
 * lock is never taken under either.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/spinlock.h>

#include "hooks.h"
#include "internal.h"
#include "mcentral.h"
#include "mheap.h"

struct goalloc_mcentral **goalloc_centrals __ro_after_init;
EXPORT_SYMBOL_IF_KUNIT(goalloc_centrals);

/* Bytes of empty spans one span class keeps: 128 KiB, and at most four spans. */
#define GOALLOC_KEEP_BYTES	(128 * 1024)
#define GOALLOC_KEEP_SPANS	4

/**
 * goalloc_central_keep() - how many empty spans a span class keeps
 * @spc: span class
 *
 * Return: up to GOALLOC_KEEP_SPANS, fewer for large spans; at least one.
 */
unsigned int goalloc_central_keep(unsigned int spc)
{
	unsigned long bytes = goalloc_cls_info(goalloc_spc_to_class(spc))->npages *
			      GOALLOC_PAGE_SIZE;

	return clamp_t(unsigned long, GOALLOC_KEEP_BYTES / bytes, 1, GOALLOC_KEEP_SPANS);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_keep);

/*
 * Is the span mcentral now owns empty?  The count of objects in use is a
 * hint that a concurrent double free can make too low (mspan.h), never too
 * high; only a sweep makes it exact.  So: sweep when the hint says empty,
 * then believe the swept count.  A remote free in flight (nremote pins the
 * span) may still be reading the span: not empty until it is done.  Both
 * locks held.
 */
static bool span_swept_empty(struct goalloc_span *s)
{
	lockdep_assert_held(&s->lock);
	if (goalloc_span_inuse_hint(s) > 0)
		return false;
	goalloc_span_sweep(s);
	smp_mb();	/* the sweep, then the pins: pairs with the remote free's */
	return !s->alloc_count && !atomic_read(&s->nremote);
}

/*
 * The span @mc keeps that is larger than its class's big shape (a bulk
 * call's, one at most: span_retire()), or NULL.  mcentral's lock held.
 */
static struct goalloc_span *kept_bulk_span(struct goalloc_mcentral *mc,
					   const struct goalloc_class_info *c)
{
	struct goalloc_span *k;

	lockdep_assert_held(&mc->lock);
	list_for_each_entry(k, &mc->kept, list)
		if (k->npages > c->big_npages)
			return k;
	return NULL;
}

/*
 * A span with no object (span_swept_empty()): keep it on the kept list if
 * the class has room and the span is larger than the class's own shape
 * (or of its big shape, the only one of most classes), else mark it dead
 * for the caller to release after dropping the locks.  A class that
 * empties spans often enough to reuse kept ones is a busy one, and its
 * CPUs grow larger spans once they grow (goalloc_mcache_grow_pages()):
 * kept small spans would serve its refills and keep it paying a span's
 * life cycle every few objects.  Of the spans larger than the big shape
 * (a bulk call's, rule 8 of Documentation/sizeclasses.rst: up to 20 pages)
 * one at most is kept, so a class keeps little more than before them: a
 * caller of the same count again finds it, and its refills take no
 * smaller kept span.  Both locks held.  Returns true if the caller must
 * release it.
 */
static bool span_retire(struct goalloc_mcentral *mc, struct goalloc_span *s)
{
	const struct goalloc_class_info *c = goalloc_cls_info(goalloc_spc_to_class(s->spc));

	lockdep_assert_held(&mc->lock);
	lockdep_assert_held(&s->lock);
	if (mc->nkept < goalloc_central_keep(s->spc) &&
	    (s->npages > c->npages || s->npages >= c->big_npages) &&
	    !(s->npages > c->big_npages && kept_bulk_span(mc, c))) {
		goalloc_span_set_state(s, GOALLOC_SPAN_KEPT);
		list_add(&s->list, &mc->kept);
		mc->nkept++;
		goalloc_count(GOALLOC_CTR_KEPT_PAGES, s->npages);
		return false;
	}
	goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
	return true;
}

/* Take a kept empty span off its list.  Both locks held. */
static void span_unkeep(struct goalloc_mcentral *mc, struct goalloc_span *s)
{
	lockdep_assert_held(&mc->lock);
	list_del_init(&s->list);
	mc->nkept--;
	goalloc_count(GOALLOC_CTR_KEPT_PAGES, -(long)s->npages);
}

/*
 * Has a span mcentral owns a slot to give?  Span lock held.  On the hint
 * (a concurrent double free can make it say yes for a full span, which the
 * next sweep sorts out; never no for a span with a free slot).
 * Model: kmod/models/span_free.pml (OLD_HINT shows the unsigned hint's
 * empty span stranded on the full list).
 */
static bool span_has_free(const struct goalloc_span *s)
{
	lockdep_assert_held(&s->lock);
	return goalloc_span_inuse_hint(s) < (int)s->nelems;
}

/* Spans of SLAB_TYPESAFE_BY_RCU caches waiting for a grace period. */
atomic_long_t goalloc_central_rcu_spans;
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_rcu_spans);

static void span_release_rcu(struct rcu_head *head)
{
	struct goalloc_span *s = container_of(head, struct goalloc_span, rcu);

	goalloc_central_span_gone(s);
	/* The heap frees the descriptor with the same rcu_head, now done with. */
	goalloc_heap_free_span(s);
	atomic_long_dec(&goalloc_central_rcu_spans);
}

/*
 * A dead span goes back to the heap.  A SLAB_TYPESAFE_BY_RCU cache's only
 * after a grace period: a reader inside rcu_read_lock() may still load from
 * an object it found before the free, and the memory must stay that
 * cache's (of that type) until every such reader is done.  Meanwhile the
 * span is dead: lookups refuse frees into it, and nothing allocates from it.
 */
static void span_release(struct goalloc_span *s)
{
	if (unlikely(s->cflags & GOALLOC_CF_RCU)) {
		atomic_long_inc(&goalloc_central_rcu_spans);
		call_rcu(&s->rcu, span_release_rcu);
		return;
	}
	goalloc_central_span_gone(s);
	goalloc_heap_free_span(s);
}

/* What span_settle() did with a span. */
enum span_fate {
	SPAN_STAYS,	/* on the partial or full list */
	SPAN_KEPT,	/* empty, on the kept list: queue the trim pass */
	SPAN_RELEASE,	/* empty and dead: release it once the locks are dropped */
};

/*
 * span_settle() - look again after mcentral placed a span, until it holds
 * @mc: the span's mcentral, locked
 * @s: the span, locked, just placed PARTIAL or FULL on @mc's lists
 *
 * A remote free takes no lock (mspan.h): it records (pin, bit), issues a
 * full barrier, then reads the span's state and counts and asks for a
 * fixup if the span is FULL or may be empty.  mcentral writes the state and
 * counts under its locks, issues a full barrier here, then reads nremote
 * and the bits.  Of two such sequences at least one sees the other's write
 * (store buffering with full barriers on both sides): a remote free that
 * read the state from before this placement, and so asked for nothing, is
 * seen here.  So: a FULL span with a free pending goes to the partial list;
 * a span that may be empty is swept, and retired if it is, with no remote
 * free in flight (which will look itself once done); a sweep that freed
 * something changed the counts, so look again.
 *
 * Return: what became of the span.
 */
static enum span_fate span_settle(struct goalloc_mcentral *mc, struct goalloc_span *s)
{
	unsigned int freed;

	lockdep_assert_held(&mc->lock);
	lockdep_assert_held(&s->lock);
	for (;;) {
		smp_mb();	/* the placement, then the remote frees' records */
		if (s->state == GOALLOC_SPAN_FULL && span_has_free(s)) {
			goalloc_span_set_state(s, GOALLOC_SPAN_PARTIAL);
			list_move_tail(&s->list, &mc->partial);
			continue;
		}
		if (goalloc_span_inuse_hint(s) > 0)
			return SPAN_STAYS;
		freed = goalloc_span_sweep(s);
		smp_mb();	/* the sweep, then the pins */
		if (!s->alloc_count && !atomic_read(&s->nremote)) {
			list_del_init(&s->list);
			return span_retire(mc, s) ? SPAN_RELEASE : SPAN_KEPT;
		}
		/*
		 * Nothing freed: the counts a remote free reads did not move,
		 * and one still in flight sees this sweep when it looks.
		 */
		if (!freed)
			return SPAN_STAYS;
	}
}

/*
 * Release the spans span_settle() retired dead, and queue the trim pass if
 * it kept one, once mcentral's lock is dropped.
 */
static void release_victims(struct list_head *victims, bool kept)
{
	struct goalloc_span *s, *tmp;

	list_for_each_entry_safe(s, tmp, victims, list) {
		list_del_init(&s->list);
		span_release(s);
	}
	if (kept)
		goalloc_heap_trim_soon();
}

/* After span_settle(), with both locks dropped. */
static void span_settled(struct goalloc_span *s, enum span_fate fate)
{
	if (fate == SPAN_RELEASE)
		span_release(s);
	else if (fate == SPAN_KEPT)
		goalloc_heap_trim_soon();
}

/**
 * goalloc_central_cache_span_sized() - a span with free slots for a CPU
 * @spc: span class
 * @nid: the CPU's node (numa_mem_id()): a CPU caches its own node's spans
 * @min_pages: the least heap pages a kept (empty) span must have to be
 *	taken: 0 for any, or a bulk call's shape (rule 8), which grows a span
 *	that holds its objects rather than take empty ones that hold fewer
 *
 * A partial span is always taken first: its live objects hold its pages
 * anyway.  With @min_pages and no kept span that large, a kept span goes
 * back to the heap to make room for the one the caller grows: a smaller
 * bulk call's, else the oldest if the list is full.
 *
 * Return: the span, now GOALLOC_SPAN_CACHED, or NULL if the node's mcentral
 * has none it may take.
 */
struct goalloc_span *goalloc_central_cache_span_sized(unsigned int spc, int nid,
						      unsigned int min_pages)
{
	struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);
	struct goalloc_span *s, *tmp;
	enum span_fate fate;
	unsigned long flags;
	LIST_HEAD(victims);
	LIST_HEAD(later);
	bool kept = false;

	spin_lock_irqsave(&mc->lock, flags);
	list_for_each_entry_safe(s, tmp, &mc->partial, list) {
		spin_lock(&s->lock);
		list_del_init(&s->list);
		if (s->nfree_pending || atomic_read(&s->nremote))
			goalloc_span_sweep(s);
		if (!span_has_free(s)) {
			goalloc_span_set_state(s, GOALLOC_SPAN_FULL);
			list_add(&s->list, &mc->full);
			fate = span_settle(mc, s);
			/*
			 * Back on the partial list if a free came meanwhile:
			 * not walked again now (a free still in flight keeps
			 * its hint low until it is done).
			 */
			if (fate == SPAN_STAYS && s->state == GOALLOC_SPAN_PARTIAL)
				list_move_tail(&s->list, &later);
			spin_unlock(&s->lock);
			if (fate == SPAN_RELEASE)
				list_add(&s->list, &victims);
			kept |= fate == SPAN_KEPT;
			continue;
		}
		goalloc_span_set_state(s, GOALLOC_SPAN_CACHED);
		spin_unlock(&s->lock);
		list_splice_tail(&later, &mc->partial);
		spin_unlock_irqrestore(&mc->lock, flags);
		goalloc_count(GOALLOC_CTR_CACHED_PAGES, s->npages);
		goto out;
	}
	list_splice_tail(&later, &mc->partial);
	list_for_each_entry(s, &mc->kept, list) {
		if (s->npages < min_pages)
			continue;
		spin_lock(&s->lock);
		span_unkeep(mc, s);
		goalloc_span_set_state(s, GOALLOC_SPAN_CACHED);
		spin_unlock(&s->lock);
		goalloc_count(GOALLOC_CTR_CACHED_PAGES, s->npages);
		spin_unlock_irqrestore(&mc->lock, flags);
		goto out;
	}
	/*
	 * The bulk call grows its span, which retires here when the call's
	 * objects come back: room for it (else it would be released and grown
	 * again every call).  Out goes a smaller bulk call's span, the one
	 * kept at most (span_retire()), else the oldest if the list is full.
	 */
	s = min_pages ? kept_bulk_span(mc, goalloc_cls_info(goalloc_spc_to_class(spc))) : NULL;
	if (min_pages && !s && mc->nkept >= goalloc_central_keep(spc))
		s = list_last_entry(&mc->kept, struct goalloc_span, list);
	if (s) {
		spin_lock(&s->lock);
		span_unkeep(mc, s);
		goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
		spin_unlock(&s->lock);
		list_add(&s->list, &victims);
	}
	s = NULL;
	spin_unlock_irqrestore(&mc->lock, flags);
out:
	release_victims(&victims, kept);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_cache_span_sized);

/**
 * goalloc_central_cache_span() - hand a swept span with free slots to a CPU
 * @spc: span class
 * @nid: the CPU's node (numa_mem_id()): a CPU caches its own node's spans
 *
 * goalloc_central_cache_span_sized() taking any kept span.
 *
 * Return: the span, now GOALLOC_SPAN_CACHED, or NULL if the node's mcentral
 * has none.
 */
struct goalloc_span *goalloc_central_cache_span(unsigned int spc, int nid)
{
	return goalloc_central_cache_span_sized(spc, nid, 0);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_cache_span);

/**
 * goalloc_central_uncache_span() - take back a span from its CPU's mcache
 * @s: the span, GOALLOC_SPAN_CACHED, removed from the mcache by its owner
 *
 * The span goes on the partial list if its counts say it has a free slot,
 * else on the full list; span_settle() then retires it if it is empty
 * (kept for reuse, or back to the heap) and sees any remote free that read
 * the span's state while it was still CACHED.
 */
void goalloc_central_uncache_span(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = goalloc_span_central(s);
	enum goalloc_span_state to;
	enum span_fate fate;
	unsigned long flags;

	goalloc_count(GOALLOC_CTR_CACHED_PAGES, -(long)s->npages);
	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	to = span_has_free(s) ? GOALLOC_SPAN_PARTIAL : GOALLOC_SPAN_FULL;
	goalloc_hook(GOALLOC_HOOK_CENTRAL_DECIDED, s);
	goalloc_span_set_state(s, to);
	if (to == GOALLOC_SPAN_PARTIAL)
		list_add_tail(&s->list, &mc->partial);
	else
		list_add(&s->list, &mc->full);
	fate = span_settle(mc, s);
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
	span_settled(s, fate);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_uncache_span);

/**
 * goalloc_central_add_span() - give mcentral a fresh span no CPU took
 * @s: a span from goalloc_central_grow(), not yet on any list
 *
 * A span an object was taken from goes on the partial list.  One with no
 * object (its CPU found a free slot elsewhere while it grew) is kept on the
 * empty list, or goes back to the heap if the class keeps enough: on the
 * partial list nothing would ever retire it, as only a free moves a span
 * there, and its pages would stay in use for good.
 */
void goalloc_central_add_span(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = goalloc_span_central(s);
	bool release = false, kept = false;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	if (!s->alloc_count) {
		release = span_retire(mc, s);
		kept = !release;
	} else {
		goalloc_span_set_state(s, GOALLOC_SPAN_PARTIAL);
		list_add(&s->list, &mc->partial);
	}
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
	if (release)
		span_release(s);
	else if (kept)
		goalloc_heap_trim_soon();
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_add_span);

/*
 * goalloc_central_take(), for mcentral's own lists too: a span it moves to
 * @full is settled (span_settle()); one it retired dead goes on @victims
 * for the caller to release once mcentral's lock is dropped, and @kept says
 * whether one was kept.
 */
static void *central_take(struct list_head *partial, struct list_head *full,
			  struct goalloc_span **sp, struct list_head *victims, bool *kept)
{
	struct goalloc_span *s, *tmp;
	enum span_fate fate;
	unsigned long flags;
	LIST_HEAD(later);
	void *p = NULL;

	list_for_each_entry_safe(s, tmp, partial, list) {
		spin_lock_irqsave(&s->lock, flags);
		p = goalloc_span_next_free_locked(s);
		if (!p && (s->nfree_pending || atomic_read(&s->nremote))) {
			goalloc_span_sweep(s);
			p = goalloc_span_next_free_locked(s);
		}
		if (!full && !p) {
			list_del_init(&s->list);
		} else if (full && !span_has_free(s)) {
			goalloc_span_set_state(s, GOALLOC_SPAN_FULL);
			list_move(&s->list, full);
			/* mcentral's span: a remote free may have read PARTIAL. */
			fate = span_settle(goalloc_span_central(s), s);
			/* Back on @partial: not walked again now (as cache_span()). */
			if (!p && fate == SPAN_STAYS && s->state == GOALLOC_SPAN_PARTIAL)
				list_move_tail(&s->list, &later);
			if (fate == SPAN_RELEASE)
				list_add(&s->list, victims);
			*kept |= fate == SPAN_KEPT;
		}
		spin_unlock_irqrestore(&s->lock, flags);
		if (p) {
			*sp = s;
			break;
		}
	}
	list_splice_tail(&later, partial);
	return p;
}

/**
 * goalloc_central_take() - a free slot from the first span of a list that has one
 * @partial: spans that may have free slots, each swept on the way if it
 *	has frees pending and no slot otherwise; the list's owner holds the
 *	list (mcentral's lock, or a user arena's mutex)
 * @full: NULL, for spans that keep their state (a user arena's): a span
 *	found with no slot is taken off @partial, and the one the slot came
 *	from stays first until a walk finds it full.  (mcentral's own walk,
 *	which moves spans to its full list, is goalloc_central_take_slot()'s.)
 * @sp: set to the slot's span
 *
 * The owner's walk over its partial list (Go's mcentral partial sets),
 * shared by mcentral and the user arenas.  Never sleeps.
 *
 * Return: the slot, or NULL if no span of @partial had one.
 */
void *goalloc_central_take(struct list_head *partial, struct list_head *full,
			   struct goalloc_span **sp)
{
	LIST_HEAD(victims);
	bool kept = false;
	void *p;

	/* Without @full nothing is settled, so nothing is retired here. */
	p = central_take(partial, full, sp, &victims, &kept);
	WARN_ON_ONCE(!list_empty(&victims) || kept);
	return p;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_take);

/**
 * goalloc_central_take_slot() - one free slot of mcentral's spans, uncounted
 * @spc: span class
 * @node: NUMA node whose mcentral to take from, or NUMA_NO_NODE for this
 *	CPU's (numa_mem_id())
 * @sp: set to the slot's span
 *
 * The first span of the partial list with a free slot (one with none at
 * hand is swept on the way if it has frees pending), else a kept empty
 * span, under the mcentral lock.
 * The span stays mcentral's: the object's free is a remote free.  The
 * caller counts the allocation (goalloc_central_count_alloc(), or a CPU's
 * count for a quiet class's object).  Never sleeps.
 *
 * Return: the slot, or NULL if no span of the node's mcentral has one.
 */
void *goalloc_central_take_slot(unsigned int spc, int node, struct goalloc_span **sp)
{
	struct goalloc_mcentral *mc = goalloc_central_of(node == NUMA_NO_NODE ? numa_mem_id() :
							 node, spc);
	struct goalloc_span *s;
	unsigned long flags;
	LIST_HEAD(victims);
	bool kept = false;
	void *p;

	spin_lock_irqsave(&mc->lock, flags);
	p = central_take(&mc->partial, &mc->full, &s, &victims, &kept);
	if (!p) {
		s = list_first_entry_or_null(&mc->kept, struct goalloc_span, list);
		if (s) {
			spin_lock(&s->lock);
			span_unkeep(mc, s);
			goalloc_span_set_state(s, GOALLOC_SPAN_PARTIAL);
			list_add(&s->list, &mc->partial);
			p = goalloc_span_next_free_locked(s);
			spin_unlock(&s->lock);
		}
	}
	spin_unlock_irqrestore(&mc->lock, flags);
	release_victims(&victims, kept);
	*sp = s;
	return p;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_take_slot);

/**
 * goalloc_central_alloc() - allocate one object without an mcache
 * @spc: span class
 * @size: bytes asked for
 * @node: NUMA node whose mcentral to take from, or NUMA_NO_NODE for this
 *	CPU's (numa_mem_id())
 *
 * For interrupts that find their CPU's mcache busy, and for requests for
 * another node than this CPU's: goalloc_central_take_slot(), counted in
 * mcentral.  Never sleeps.
 *
 * Return: the object, or NULL if no span of the node's mcentral has a free
 * slot.
 */
void *goalloc_central_alloc(unsigned int spc, size_t size, int node)
{
	struct goalloc_span *s;
	void *p;

	p = goalloc_central_take_slot(spc, node, &s);
	if (p)
		goalloc_central_count_alloc(s);
	return p;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_alloc);

/*
 * goalloc_central_fixup() - move a span after a free changed what it holds
 * @s: a span that a free found in mcentral, full or maybe empty
 *
 * Re-checks under both locks, as the span may have moved since: a span
 * with free slots leaves the full list; an empty one is kept for reuse or
 * goes back to the heap (span_settle()).
 */
static void goalloc_central_fixup(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = goalloc_span_central(s);
	enum span_fate fate = SPAN_STAYS;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	if (s->state == GOALLOC_SPAN_PARTIAL || s->state == GOALLOC_SPAN_FULL)
		fate = span_settle(mc, s);
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
	span_settled(s, fate);
}

/*
 * A free into a span of one large object (or an arena's), under its lock:
 * goalloc_central_free()'s out-of-line half.
 */
int goalloc_central_free_large(struct goalloc_span *s, const void *p)
{
	unsigned long flags;
	int err;

	spin_lock_irqsave(&s->lock, flags);
	err = goalloc_span_refusal(s);
	if (!err && s->state == GOALLOC_SPAN_LARGE && p == (void *)s->base) {
		goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
		goalloc_pre_free(p, s->elemsize);
	} else if (!err) {
		err = -EINVAL;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	if (err)
		return err;
	goalloc_central_count_free(s);
	goalloc_central_span_gone(s);
	goalloc_heap_free_span(s);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_free_large);

/*
 * goalloc_central_fixup(), then @err: a tail call for goalloc_central_free(),
 * which then keeps nothing across a call (no register saved on its way).
 */
noinline int goalloc_central_fixup_then(struct goalloc_span *s, int err)
{
	goalloc_central_fixup(s);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_fixup_then);

/**
 * goalloc_central_free_run() - free a run of objects of a span no CPU owns here
 * @s: the span of @ptrs[@i] (read as for goalloc_central_free())
 * @ptrs: a bulk free's objects
 * @i: the first one to free; the run goes down from it
 * @start: the lowest index the run may reach
 * @caller: the API's caller, for bad-free reports
 * @nfreed: set to the number of objects freed
 *
 * ptrs[@i] and the objects before it down to ptrs[@start] that lie in the
 * same span, each recorded as goalloc_central_free() records one, with at
 * most one fixup, after the last (SLUB's bulk free builds a detached
 * freelist per slab for the same reason).  Bad frees among them are
 * reported here.
 *
 * Return: the index of the last object handled.
 */
size_t goalloc_central_free_run(struct goalloc_span *s, void **ptrs, size_t i, size_t start,
				unsigned long caller, unsigned long *nfreed)
{
	unsigned long range = (unsigned long)s->nelems * s->elemsize;
	unsigned long nfree = 0;
	size_t last = i;
	unsigned int n;
	int err;

	/*
	 * Only a live span's range says its neighbours are its objects: a
	 * dead span's memory may already be another span's.  A span live here
	 * stays live while the run frees its objects: it holds them, and the
	 * run's pin keeps mcentral from retiring it meanwhile.
	 */
	err = goalloc_span_refusal(s);
	if (err) {
		goalloc_report_bad_free(ptrs[i], err, caller);
		*nfreed = 0;
		return i;
	}
	while (last > start && !ZERO_OR_NULL_PTR(ptrs[last - 1]) &&
	       (unsigned long)ptrs[last - 1] - s->base < range)
		last--;
	/* One pin per object of the run, taken at once (mspan.h). */
	n = i - last + 1;
	atomic_add(n, &s->nremote);
	smp_mb__after_atomic();	/* the pin, then every read of the span */
	for (;; i--) {
		err = goalloc_span_free_remote_pinned(s, ptrs[i], true);
		if (likely(!err))
			nfree++;
		else
			goalloc_report_bad_free(ptrs[i], err, caller);
		if (i == last)
			break;
	}
	/* The pins no bit took; a bit set last was a full barrier already. */
	if (nfree != n) {
		atomic_sub(n - nfree, &s->nremote);
		smp_mb__after_atomic();	/* the unpin, then the caller's reads */
	}
	if (goalloc_central_needs_fixup(s))
		goalloc_central_fixup(s);
	*nfreed = nfree;
	return i;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_free_run);

/**
 * goalloc_central_grow_shaped() - a new span of a class, of a given shape
 * @pool: the pool: the kernel's, or a KUnit test's own
 * @spc: span class
 * @npages: 0 for the class's own shape, or another shape's heap pages
 *	(goalloc_mcache_shape())
 * @node: NUMA node preferred, or NUMA_NO_NODE for this CPU's (required with
 *	__GFP_THISNODE in @gfp; goalloc_pool_alloc_span())
 * @gfp: the caller's mask; sleeps only where it allows
 *
 * Spans of power-of-two classes larger than a heap page are aligned to the
 * class size (goalloc_class_align()), so such objects are naturally
 * aligned.  The span goes back to @pool when mcentral releases it.  All
 * shapes of a class live on the same lists: every path reads a span's
 * shape from the span.  A span of the class's own shape for which the pool
 * has no room in a row but would for the class's small shape (rule 7) has
 * the small shape, and the pool does not grow (goalloc_pool_alloc_span_or()).
 *
 * Return: the span (not yet on any list or in any mcache), or NULL.
 */
struct goalloc_span *goalloc_central_grow_shaped(struct goalloc_pool *pool, unsigned int spc,
						 unsigned int npages, int node, gfp_t gfp)
{
	const struct goalloc_class_info *c = goalloc_cls_info(goalloc_spc_to_class(spc));
	struct goalloc_span *s;

	s = goalloc_pool_alloc_span_or(pool, spc, npages,
				       !npages && c->small_npages < c->npages ? c->small_npages : 0,
				       goalloc_spc_align(spc), node, GOALLOC_SPAN_NEW, gfp);
	if (!s)
		return NULL;
	goalloc_central_span_born(s);
	/* A named cache's constructor, on every slot, before any is handed out. */
	if (s->cflags & GOALLOC_CF_CTOR)
		goalloc_span_construct(s);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_grow_shaped);

/**
 * goalloc_central_grow_pool() - a new span of a class's own shape from a pool
 * @pool: the pool: the kernel's, or a KUnit test's own
 * @spc: span class
 * @node: NUMA node preferred, or NUMA_NO_NODE (as goalloc_central_grow_shaped())
 * @gfp: the caller's mask; sleeps only where it allows
 *
 * Return: the span (not yet on any list or in any mcache), or NULL.
 */
struct goalloc_span *goalloc_central_grow_pool(struct goalloc_pool *pool, unsigned int spc,
					       int node, gfp_t gfp)
{
	return goalloc_central_grow_shaped(pool, spc, 0, node, gfp);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_grow_pool);

/**
 * goalloc_central_grow() - a new span of a class from the kernel's pool
 * @spc: span class
 * @npages: 0 for the class's shape, or another's heap pages (goalloc_mcache_grow_pages(),
 *	goalloc_mcache_bulk_shape())
 * @node: NUMA node preferred, or NUMA_NO_NODE (as goalloc_central_grow_shaped())
 * @gfp: the caller's mask; sleeps only where it allows
 *
 * Return: the span (not yet on any list or in any mcache), or NULL.
 */
struct goalloc_span *goalloc_central_grow(unsigned int spc, unsigned int npages, int node,
					  gfp_t gfp)
{
	return goalloc_central_grow_shaped(&goalloc_heap.kernel, spc, npages, node, gfp);
}

/* Every kept span of @mc, made dead, onto @victims.  mcentral's lock held. */
static void kept_to_victims(struct goalloc_mcentral *mc, struct list_head *victims)
{
	struct goalloc_span *s, *tmp;

	lockdep_assert_held(&mc->lock);
	list_for_each_entry_safe(s, tmp, &mc->kept, list) {
		spin_lock(&s->lock);
		span_unkeep(mc, s);
		goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
		list_add(&s->list, victims);
		spin_unlock(&s->lock);
	}
}

/* goalloc_central_release_kept() for one mcentral. */
static unsigned long central_release_kept(struct goalloc_mcentral *mc)
{
	struct goalloc_span *s, *tmp;
	unsigned long pages = 0, flags;
	LIST_HEAD(victims);

	if (!READ_ONCE(mc->nkept))
		return 0;
	spin_lock_irqsave(&mc->lock, flags);
	kept_to_victims(mc, &victims);
	spin_unlock_irqrestore(&mc->lock, flags);
	list_for_each_entry_safe(s, tmp, &victims, list) {
		list_del_init(&s->list);
		pages += s->npages;
		span_release(s);
	}
	return pages;
}

/**
 * goalloc_central_release_kept() - give every kept empty span back to the heap
 *
 * For the trim pass and the shrinker.  Any context that may take the heap
 * lock.
 *
 * Return: heap pages given back.
 */
unsigned long goalloc_central_release_kept(void)
{
	unsigned long pages = 0;
	unsigned int spc;
	int nid;

	for_each_node(nid) {
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++)
			pages += central_release_kept(goalloc_central_of(nid, spc));
	}
	return pages;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_release_kept);

/**
 * goalloc_central_nspans() - live spans of a span class, on every node
 * @spc: span class
 *
 * Return: the count, as a snapshot.
 */
long goalloc_central_nspans(unsigned int spc)
{
	long n = 0;
	int nid;

	for_each_node(nid)
		n += atomic_long_read(&goalloc_central_of(nid, spc)->nspans);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_nspans);

static void central_free_nodes(void)
{
	int nid;

	if (!goalloc_centrals)
		return;
	/* Not reset: after init the pointer is read-only (__ro_after_init). */
	for_each_node(nid)
		kvfree(goalloc_centrals[nid]);
	kfree(goalloc_centrals);
}

/**
 * goalloc_central_init() - set up every node's mcentrals
 *
 * Each node id's array comes from the node itself where it has memory.
 *
 * Return: 0, or -ENOMEM.
 */
int goalloc_central_init(void)
{
	unsigned int spc;
	int nid;

	goalloc_centrals = kcalloc(nr_node_ids, sizeof(*goalloc_centrals), GFP_KERNEL);
	if (!goalloc_centrals)
		return -ENOMEM;
	for_each_node(nid) {
		int where = node_state(nid, N_MEMORY) ? nid : NUMA_NO_NODE;

		/* kvzalloc_node(): 6.1 has no kvcalloc_node(). */
		goalloc_centrals[nid] = kvzalloc_node(array_size(GOALLOC_NUM_SPC,
								 sizeof(**goalloc_centrals)),
						      GFP_KERNEL, where);
		if (!goalloc_centrals[nid]) {
			central_free_nodes();
			return -ENOMEM;
		}
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);

			spin_lock_init(&mc->lock);
			INIT_LIST_HEAD(&mc->partial);
			INIT_LIST_HEAD(&mc->full);
			INIT_LIST_HEAD(&mc->kept);
		}
	}
	return 0;
}

/* goalloc_central_retire_class() on one node's mcentral of the class. */
static unsigned long central_retire(struct goalloc_mcentral *mc)
{
	struct goalloc_span *s, *tmp;
	unsigned long flags, live = 0;
	LIST_HEAD(victims);
	LIST_HEAD(lists);
	bool kept = false;

	spin_lock_irqsave(&mc->lock, flags);
	kept_to_victims(mc, &victims);
	list_splice_init(&mc->full, &lists);
	list_splice_init(&mc->partial, &lists);
	list_for_each_entry_safe(s, tmp, &lists, list) {
		enum span_fate fate;

		spin_lock(&s->lock);
		goalloc_span_sweep(s);
		smp_mb();	/* the sweep, then the pins */
		if (!s->alloc_count && !atomic_read(&s->nremote)) {
			goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
			list_move(&s->list, &victims);
			spin_unlock(&s->lock);
			continue;
		}
		live += s->alloc_count;
		/*
		 * Its objects may still be freed (goalloc_free() of a leaked
		 * one): placed as any span mcentral takes back, and settled.
		 */
		if (span_has_free(s)) {
			goalloc_span_set_state(s, GOALLOC_SPAN_PARTIAL);
			list_move_tail(&s->list, &mc->partial);
		} else {
			goalloc_span_set_state(s, GOALLOC_SPAN_FULL);
			list_move_tail(&s->list, &mc->full);
		}
		fate = span_settle(mc, s);
		if (fate == SPAN_RELEASE)
			list_add(&s->list, &victims);
		kept |= fate == SPAN_KEPT;
		spin_unlock(&s->lock);
	}
	spin_unlock_irqrestore(&mc->lock, flags);
	release_victims(&victims, kept);
	return live;
}

/**
 * goalloc_central_retire_class() - give back every span of a named cache's class
 * @spc: the cache's span class, drained from every CPU's cache; nobody
 *	allocates from it any more
 *
 * For goalloc_cache_destroy(): the kept spans and every span found empty
 * (after a sweep) go back to the heap (after a grace period for a
 * SLAB_TYPESAFE_BY_RCU cache).  A span that still holds objects stays
 * where it is, on the partial or full list, with its memory: those objects
 * stay valid, a later free of one still works, and the span goes back
 * once it empties.  As SLUB keeps a cache whose destroy found objects.
 * Every node's mcentral of the class, one after the other.
 *
 * Return: objects still in use.
 */
unsigned long goalloc_central_retire_class(unsigned int spc)
{
	unsigned long live = 0;
	int nid;

	for_each_node(nid)
		live += central_retire(goalloc_central_of(nid, spc));
	return live;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_central_retire_class);

/* At unload: release what @mc holds, reporting spans with objects left. */
static void central_exit(struct goalloc_mcentral *mc, unsigned int spc)
{
	struct goalloc_span *s, *tmp;

	list_splice_init(&mc->full, &mc->partial);
	list_for_each_entry_safe(s, tmp, &mc->partial, list) {
		unsigned long flags;
		bool empty;

		spin_lock_irqsave(&s->lock, flags);
		empty = span_swept_empty(s);
		if (empty)
			goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
		spin_unlock_irqrestore(&s->lock, flags);
		if (!empty) {
			pr_err("class %u: %u objects never freed\n", goalloc_spc_class(spc),
			       s->alloc_count);
			continue;
		}
		list_del_init(&s->list);
		span_release(s);
	}
}

/* At unload, after every mcache is drained: nothing may be in use. */
void goalloc_central_exit(void)
{
	unsigned int spc;
	int nid;

	goalloc_central_release_kept();
	for_each_node(nid) {
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++)
			central_exit(goalloc_central_of(nid, spc), spc);
	}
	/* SLAB_TYPESAFE_BY_RCU caches' spans, before the heap goes. */
	rcu_barrier();
	central_free_nodes();
}
