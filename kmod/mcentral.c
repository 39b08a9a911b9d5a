// SPDX-License-Identifier: GPL-2.0
/*
 * mcentral: the spans of one span class that no CPU is allocating from
 * (Go's mcentral), on two lists: partial (may have free slots) and full.
 *
 * An mcache trades spans with mcentral: it gives back an exhausted span and
 * takes a partial one, which is swept on the way (Go's cacheSpan and
 * uncacheSpan); a span is the batch of the refill.  Frees into spans
 * mcentral owns are recorded under the span's own lock, with no mcentral
 * lock per object; only a span's transitions (full -> partial, partial ->
 * empty and back to the heap) take the mcentral lock, in
 * goalloc_central_fixup().
 *
 * Lock order: mcentral lock, then span lock.  Both are IRQ-safe.  The heap
 * lock is never taken under either.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/spinlock.h>

#include "internal.h"
#include "mheap.h"

struct goalloc_mcentral goalloc_central[GOALLOC_NUM_SPC];
EXPORT_SYMBOL_IF_KUNIT(goalloc_central);

/* Heap pages of spans cached by some CPU: what draining would give back. */
atomic_long_t goalloc_cached_pages = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goalloc_cached_pages);

/* Has a span mcentral owns a slot to give?  Span lock held. */
static bool span_has_free(const struct goalloc_span *s)
{
	return goalloc_span_inuse(s) < s->nelems;
}

static void span_release(struct goalloc_span *s)
{
	atomic_long_dec(&goalloc_central[s->spc].nspans);
	goalloc_heap_free_span(s);
}

/**
 * goalloc_central_cache_span() - hand a swept span with free slots to a CPU
 * @spc: span class
 * @cpu: the CPU whose mcache takes it
 *
 * Return: the span, now GOALLOC_SPAN_CACHED, or NULL if mcentral has none.
 */
struct goalloc_span *goalloc_central_cache_span(unsigned int spc, int cpu)
{
	struct goalloc_mcentral *mc = &goalloc_central[spc];
	struct goalloc_span *s, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	list_for_each_entry_safe(s, tmp, &mc->partial, list) {
		spin_lock(&s->lock);
		list_del_init(&s->list);
		if (s->nfree_pending || s->nremote)
			goalloc_span_sweep(s);
		if (!span_has_free(s)) {
			s->state = GOALLOC_SPAN_FULL;
			list_add(&s->list, &mc->full);
			spin_unlock(&s->lock);
			continue;
		}
		s->state = GOALLOC_SPAN_CACHED;
		s->cpu = cpu;
		spin_unlock(&s->lock);
		spin_unlock_irqrestore(&mc->lock, flags);
		atomic_long_add(s->npages, &goalloc_cached_pages);
		return s;
	}
	spin_unlock_irqrestore(&mc->lock, flags);
	return NULL;
}

/**
 * goalloc_central_uncache_span() - take back a span from its CPU's mcache
 * @s: the span, GOALLOC_SPAN_CACHED, removed from the mcache by its owner
 *
 * An empty span goes back to the heap.
 */
void goalloc_central_uncache_span(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = &goalloc_central[s->spc];
	unsigned long flags;
	bool empty;

	atomic_long_sub(s->npages, &goalloc_cached_pages);
	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	s->cpu = -1;
	empty = !goalloc_span_inuse(s);
	if (empty) {
		s->state = GOALLOC_SPAN_DEAD;
	} else if (span_has_free(s)) {
		s->state = GOALLOC_SPAN_PARTIAL;
		list_add_tail(&s->list, &mc->partial);
	} else {
		s->state = GOALLOC_SPAN_FULL;
		list_add(&s->list, &mc->full);
	}
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
	if (empty)
		span_release(s);
}

/**
 * goalloc_central_add_span() - put a span no CPU took on the partial list
 * @s: a fresh span from goalloc_central_grow()
 */
void goalloc_central_add_span(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = &goalloc_central[s->spc];
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	s->state = GOALLOC_SPAN_PARTIAL;
	list_add(&s->list, &mc->partial);
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
}

/**
 * goalloc_central_alloc() - allocate one object without an mcache
 * @spc: span class
 * @node: NUMA node the object must come from, or NUMA_NO_NODE
 *
 * For interrupts that find their CPU's mcache busy, and for requests for a
 * particular node.  Never sleeps.
 *
 * Return: the object, or NULL if no span of mcentral has a free slot.
 */
void *goalloc_central_alloc(unsigned int spc, int node)
{
	struct goalloc_mcentral *mc = &goalloc_central[spc];
	struct goalloc_span *s, *tmp;
	unsigned long flags;
	void *p = NULL;

	spin_lock_irqsave(&mc->lock, flags);
	list_for_each_entry_safe(s, tmp, &mc->partial, list) {
		if (node != NUMA_NO_NODE && s->chunk->nid != node)
			continue;
		spin_lock(&s->lock);
		p = goalloc_span_next_free(s);
		if (!p && (s->nfree_pending || s->nremote)) {
			goalloc_span_sweep(s);
			p = goalloc_span_next_free(s);
		}
		if (!span_has_free(s)) {
			s->state = GOALLOC_SPAN_FULL;
			list_move(&s->list, &mc->full);
		}
		spin_unlock(&s->lock);
		if (p)
			break;
	}
	spin_unlock_irqrestore(&mc->lock, flags);
	return p;
}

/**
 * goalloc_central_fixup() - move a span after a free changed what it holds
 * @s: a span that a free found in mcentral, full or now empty
 *
 * Re-checks under both locks, as the span may have moved since.  A span
 * with free slots leaves the full list; an empty one goes back to the heap.
 */
void goalloc_central_fixup(struct goalloc_span *s)
{
	struct goalloc_mcentral *mc = &goalloc_central[s->spc];
	unsigned long flags;
	bool release = false;

	spin_lock_irqsave(&mc->lock, flags);
	spin_lock(&s->lock);
	if (s->state == GOALLOC_SPAN_PARTIAL || s->state == GOALLOC_SPAN_FULL) {
		if (!goalloc_span_inuse(s)) {
			list_del_init(&s->list);
			s->state = GOALLOC_SPAN_DEAD;
			release = true;
		} else if (s->state == GOALLOC_SPAN_FULL && span_has_free(s)) {
			s->state = GOALLOC_SPAN_PARTIAL;
			list_move_tail(&s->list, &mc->partial);
		}
	}
	spin_unlock(&s->lock);
	spin_unlock_irqrestore(&mc->lock, flags);
	if (release)
		span_release(s);
}

/**
 * goalloc_central_grow() - a new span of a class from the heap
 * @spc: span class
 * @node: NUMA node, or NUMA_NO_NODE
 * @gfp: the caller's mask; sleeps only where it allows
 *
 * Spans of power-of-two classes larger than a heap page are aligned to the
 * class size, so such objects are naturally aligned.
 *
 * Return: the span (not yet on any list or in any mcache), or NULL.
 */
struct goalloc_span *goalloc_central_grow(unsigned int spc, int node, gfp_t gfp)
{
	unsigned int size = goalloc_class_info[spc >> 1].size;
	unsigned int align = 1;
	struct goalloc_span *s;

	if (is_power_of_2(size) && size > GOALLOC_PAGE_SIZE)
		align = size / GOALLOC_PAGE_SIZE;
	s = goalloc_heap_alloc_span(spc, 0, align, node, GOALLOC_SPAN_CACHED, gfp);
	if (s)
		atomic_long_inc(&goalloc_central[spc].nspans);
	return s;
}

void goalloc_central_init(void)
{
	unsigned int spc;

	for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
		struct goalloc_mcentral *mc = &goalloc_central[spc];

		spin_lock_init(&mc->lock);
		INIT_LIST_HEAD(&mc->partial);
		INIT_LIST_HEAD(&mc->full);
	}
}

/* At unload, after every mcache is drained: nothing may be in use. */
void goalloc_central_exit(void)
{
	unsigned int spc;

	for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
		struct goalloc_mcentral *mc = &goalloc_central[spc];
		struct goalloc_span *s, *tmp;

		list_splice_init(&mc->full, &mc->partial);
		list_for_each_entry_safe(s, tmp, &mc->partial, list) {
			if (goalloc_span_inuse(s)) {
				pr_err("class %u: %u objects never freed\n", spc >> 1,
				       goalloc_span_inuse(s));
				continue;
			}
			list_del_init(&s->list);
			s->state = GOALLOC_SPAN_DEAD;
			span_release(s);
		}
	}
}
