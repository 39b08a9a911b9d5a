// SPDX-License-Identifier: GPL-2.0
/*
 * mcache: the per-CPU cache (Go's per-P mcache), one current span per span
 * class.  The allocation and free fast paths using it are in malloc.c; this
 * file holds its slow paths: refill from mcentral, installing a fresh span,
 * and draining on CPU offline, on demand and at unload.
 *
 * Concurrency: a CPU's cache is used pinned to the CPU (goalloc_mcache_get:
 * preemption off, or the cache's local lock on PREEMPT_RT), inside a
 * section marked by mcache->busy (goalloc_mcache_enter/leave).  Interrupts
 * stay on; an interrupt that lands inside a section finds busy set and
 * allocates from mcentral instead, so the process-context fast path needs
 * neither interrupt masking nor atomic instructions.  Model:
 * kmod/models/mcache_section.pml.
 *
 * Draining every CPU's cache (the shrinker, tests) runs a work item on each
 * CPU, in process context: it can never land inside a section, and it may
 * take sleeping locks and free pages on PREEMPT_RT, which an IPI could not.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <linux/workqueue.h>

#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"

/*
 * Allocated at load rather than defined per CPU: with a span class per
 * named cache it is about 11.5 KiB per CPU, and a module's static per-CPU data
 * comes from a reserve of 8 KiB that every module shares.
 */
struct goalloc_mcache __percpu *goalloc_mcache __ro_after_init;
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache);

/*
 * Go's emptymspan: never has a free slot, so the fast path needs no test.
 * Every CPU's cache points at it; nothing ever writes it (nelems is 0:
 * goalloc_span_next_free() returns before touching it).
 */
struct goalloc_span goalloc_placeholder_span = {
	.state = GOALLOC_SPAN_DEAD,
	.lock = __SPIN_LOCK_UNLOCKED(goalloc_placeholder_span.lock),
};
EXPORT_SYMBOL_IF_KUNIT(goalloc_placeholder_span);

/* Per-CPU drain work, for goalloc_drain_all(), which one caller runs at a time. */
static DEFINE_PER_CPU(struct work_struct, goalloc_drain_work);
static DEFINE_MUTEX(goalloc_drain_mutex);
/* The span class goalloc_drain_class() drains, or -1: all; under the mutex. */
static int goalloc_drain_spc = -1;
static struct workqueue_struct *goalloc_drain_wq;

static enum cpuhp_state goalloc_cpuhp_state;

static void mcache_set(struct goalloc_mcache *c, unsigned int spc, struct goalloc_span *s)
{
	c->alloc[spc] = s;
	c->ncached++;
}

/*
 * Give the span of a slot of @c (@alloc or @away) back to its node's
 * mcentral; the owner's free no longer finds it through @last either.
 */
static void slot_uncache(struct goalloc_mcache *c, struct goalloc_span **slot)
{
	struct goalloc_span *s = *slot;

	if (s == &goalloc_placeholder_span)
		return;
	*slot = &goalloc_placeholder_span;
	WARN_ON_ONCE(!c->ncached);
	c->ncached--;
	if (c->last == s) {
		c->last = &goalloc_placeholder_span;
		c->last_obj = NULL;
	}
	goalloc_central_uncache_span(s);
}

/**
 * goalloc_mcache_uncache() - give the current span of a class back to mcentral
 * @c: a cache that is entered, or whose CPU is dead
 * @spc: span class
 */
void goalloc_mcache_uncache(struct goalloc_mcache *c, unsigned int spc)
{
	slot_uncache(c, &c->alloc[spc]);
}

/**
 * goalloc_mcache_uncache_away() - give a class's span for other nodes back
 * @c: a cache that is entered, or whose CPU is dead
 * @spc: span class
 */
void goalloc_mcache_uncache_away(struct goalloc_mcache *c, unsigned int spc)
{
	slot_uncache(c, &c->away[spc]);
}

/*
 * A cached span with no free slot at hand: sweep it in place if enough of
 * it has been freed (the common case of a CPU freeing what it allocated).
 * The object, or NULL if the span should go back.
 */
static void *span_reuse(struct goalloc_span *s)
{
	unsigned int pending = s->nfree_pending + atomic_read(&s->nremote);
	unsigned long flags;

	if (!pending || pending < max(1, s->nelems / 8))
		return NULL;
	spin_lock_irqsave(&s->lock, flags);
	goalloc_span_sweep(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return goalloc_span_next_free(s);
}

/**
 * goalloc_mcache_refill() - allocate after the current span ran out
 * @c: this CPU's cache, entered
 * @spc: span class
 * @want: objects the call asks for in all: 1, or a bulk call's count
 *
 * Sweeps the current span in place if enough of it has been freed (the
 * common case of a CPU freeing what it allocated), else trades it for a
 * partial span from mcentral (Go's refill).  A bulk call takes no empty
 * span smaller than the one it would grow (rule 8): a caller of 128
 * objects of 320 bytes a call would otherwise go round the class's kept
 * spans of 51 for good, three spans a call.
 *
 * Return: an object, or NULL if a new span must come from the heap.
 */
void *goalloc_mcache_refill(struct goalloc_mcache *c, unsigned int spc, size_t want)
{
	unsigned int min_pages = 0;
	struct goalloc_span *s = c->alloc[spc];
	void *p;

	if (s != &goalloc_placeholder_span) {
		p = span_reuse(s);
		if (p)
			return p;
		goalloc_mcache_uncache(c, spc);
	}
	if (want > 1)
		min_pages = goalloc_mcache_bulk_shape(goalloc_cls_info(goalloc_spc_to_class(spc)),
						      0, want);
	/* A CPU caches spans of its own node (as SLUB's CPU slabs). */
	s = goalloc_central_cache_span_sized(spc, numa_mem_id(), min_pages);
	if (!s)
		return NULL;
	mcache_set(c, spc, s);
	return goalloc_span_next_free(s);
}

/*
 * slot_install() - make a fresh span a slot's span (@alloc's or @away's), and allocate
 * @c: this CPU's cache, entered
 * @slot: its slot for the span's class
 * @s: a span from goalloc_central_grow(), allocated while outside the cache
 *
 * If the slot's span (of the same node) got free slots meanwhile (or this
 * is another CPU than the one that ran out), the fresh span goes to
 * mcentral instead.
 *
 * Return: an object.
 */
static void *slot_install(struct goalloc_mcache *c, struct goalloc_span **slot,
			  struct goalloc_span *s)
{
	struct goalloc_span *old = *slot;
	unsigned long flags;
	void *p;

	if (old != &goalloc_placeholder_span && goalloc_span_nid(old) == goalloc_span_nid(s)) {
		p = goalloc_span_next_free(old);
		if (p) {
			goalloc_central_add_span(s);
			return p;
		}
	}
	slot_uncache(c, slot);
	spin_lock_irqsave(&s->lock, flags);
	goalloc_span_set_state(s, GOALLOC_SPAN_CACHED);
	spin_unlock_irqrestore(&s->lock, flags);
	goalloc_count(GOALLOC_CTR_CACHED_PAGES, s->npages);
	*slot = s;
	c->ncached++;
	return goalloc_span_next_free(s);
}

/*
 * An object for another node than this CPU's (or for this one, required):
 * from the span the CPU keeps for other nodes if it is @node's, else from
 * a span of @node's mcentral, which becomes that span.  So a run of
 * requests for one other node is the fast path's work plus a call, and a
 * mix of this node and another swaps no span (SLUB swaps its CPU slab at
 * each change of node).  @c entered.  NULL if @node's mcentral has no span
 * with a free slot: the caller grows one.
 */
static void *away_next_free(struct goalloc_mcache *c, unsigned int spc, int node)
{
	struct goalloc_span *s = c->away[spc];
	void *p;

	if (s != &goalloc_placeholder_span && goalloc_span_nid(s) == node) {
		p = goalloc_span_next_free(s);
		if (!p)
			p = span_reuse(s);
		if (p)
			return p;
	}
	slot_uncache(c, &c->away[spc]);
	s = goalloc_central_cache_span(spc, node);
	if (!s)
		return NULL;
	c->away[spc] = s;
	c->ncached++;
	return goalloc_span_next_free(s);
}

/**
 * goalloc_mcache_node() - the node an allocation asks for, checked
 * @node: the caller's node: NUMA_NO_NODE, or a node id
 * @gfp: the caller's mask: with __GFP_THISNODE the node is required
 *
 * NUMA_NO_NODE, and this CPU's node unless required, become NUMA_NO_NODE:
 * the mcache's spans are this CPU's node's.  A node without memory is
 * NUMA_NO_NODE too (the nearest node with memory serves, as the page
 * allocator's zonelist would), unless required.
 *
 * Return: the node to ask mcentral and the heap for, NUMA_NO_NODE for this
 * CPU's mcache, or -EINVAL (a node id out of range, reported once a while)
 * or -ENOMEM (a required node without memory).
 */
int goalloc_mcache_node(int node, gfp_t gfp)
{
	bool required = gfp & __GFP_THISNODE;

	if (node == NUMA_NO_NODE || (node == numa_mem_id() && !required))
		return NUMA_NO_NODE;
	if (unlikely(node < 0 || node >= nr_node_ids)) {
		pr_warn_ratelimited("allocation for NUMA node %d, which does not exist\n", node);
		return -EINVAL;
	}
	if (!node_state(node, N_MEMORY))
		return required ? -ENOMEM : NUMA_NO_NODE;
	return node;
}

/**
 * goalloc_mcache_live_hint() - this CPU's objects of a span class
 * @spc: span class
 *
 * Objects of @spc this CPU allocated less those it freed, wherever: its
 * live objects of the class when no other CPU frees them.  A hint: objects
 * another CPU frees count here, and objects of another CPU freed here
 * count against (a CPU freeing what others allocate reads below 0).
 *
 * Return: the count, which may be negative.
 */
long goalloc_mcache_live_hint(unsigned int spc)
{
	return (long)(this_cpu_read(goalloc_mcache->nmalloc[spc]) -
		      this_cpu_read(goalloc_mcache->nfree[spc]) -
		      this_cpu_read(goalloc_mcache->nfree_remote[spc]));
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache_live_hint);

/* Trim passes so far: the counts of struct goalloc_mcache.grows are per pass. */
static atomic_t grow_pass;

/**
 * goalloc_mcache_shape() - rules 6 and 7: the heap pages of a span to grow
 * @c: the span class's shape
 * @live: the class's objects this CPU holds (goalloc_mcache_live_hint())
 * @busy: this CPU has grown GOALLOC_BIG_AFTER spans of the class since the
 *	last trim pass
 *
 * Rule 7 of tools/mksizeclasses.py: a class from 1 KiB up has a small shape
 * of one to seven objects, which a CPU holding fewer objects of the class
 * than a span of its own shape holds grows, so a class allocated now and
 * then holds a page or two rather than a span of its own shape (18-24 KiB
 * classes held 32-72 KiB each, for nothing, at the second trace's peak).
 *
 * Rule 6: a class whose spans hold fewer than 32 objects (256 up to 256
 * bytes) has a big shape of that many (as many as 20 heap pages hold from
 * 5,376 bytes: 5 at 32 KiB).  A busy CPU grows a span of twice as many
 * objects as it holds, up to the big shape, so a busy class pays a span's
 * life cycle (about 1,000-1,500 instructions) every 32 or 256 objects,
 * and a round of N allocations then N frees of up to 32 fits the span the
 * CPU keeps (with room for the objects it holds only, a 300-byte class's
 * 27 left every round of 32 in two spans: 0.79x kmem_cache's instructions
 * against 0.47x); a CPU holding few objects of a class grows spans near
 * its own shape.  Any shape in between is one: the class's div_mul is
 * exact up to the big one.
 *
 * A hint below zero (the CPU freed more of the class than it allocated:
 * other CPUs' objects, an RCU callback's or a consumer's frees) says
 * nothing of what the CPU holds, and stays so long after: such a CPU grows
 * its own shape, and the big one once busy, by the count alone (spans of
 * one object would cost it a grow per allocation; its own shape only, the
 * speed of a busy class, for as long as its past frees outweigh).
 *
 * Return: 0 for the class's own shape, else the heap pages of another.
 */
unsigned int goalloc_mcache_shape(const struct goalloc_class_info *c, long live, bool busy)
{
	unsigned long npages;

	/* The hint says nothing of what the CPU holds: the count decides. */
	if (live < 0)
		return busy && c->big_npages > c->npages ? c->big_npages : 0;
	if (live < c->nelems)
		return c->small_npages < c->npages ? c->small_npages : 0;
	if (!busy)
		return 0;
	npages = clamp_t(unsigned long, DIV_ROUND_UP(2 * live * c->size, GOALLOC_PAGE_SIZE),
			 c->npages, c->big_npages);
	return npages == c->npages ? 0 : npages;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache_shape);

/**
 * goalloc_mcache_grow_pages() - the shape of the next span this CPU grows
 * @spc: span class
 *
 * goalloc_mcache_shape() for this CPU: its objects of the class, and
 * whether it has grown GOALLOC_BIG_AFTER spans of the class's own shape or
 * above since the last trim pass (a boot's bursts would otherwise grow
 * larger spans of classes that then hold a few objects).  Counted on this
 * CPU; a count lost to migration costs one span of another shape.
 *
 * Return: 0 for the class's own shape, else the heap pages of another.
 */
unsigned int goalloc_mcache_grow_pages(unsigned int spc)
{
	const struct goalloc_class_info *c = goalloc_cls_info(goalloc_spc_to_class(spc));
	u16 pass = (atomic_read(&grow_pass) & 0xff) << 8, v;
	long live = goalloc_mcache_live_hint(spc);

	v = this_cpu_read(goalloc_mcache->grows[spc]);
	if ((v & 0xff00) != pass)
		v = pass;
	/* Spans of the small shape do not count: they are a quiet class's. */
	if ((live < 0 || live >= c->nelems) && (v & 0xff) < GOALLOC_BIG_AFTER)
		this_cpu_write(goalloc_mcache->grows[spc], v + 1);
	return goalloc_mcache_shape(c, live, (v & 0xff) >= GOALLOC_BIG_AFTER);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache_grow_pages);

/**
 * goalloc_mcache_bulk_shape() - rule 8: the span a bulk allocation grows
 * @c: the span class's shape
 * @npages: the shape goalloc_mcache_grow_pages() chose (0: the class's own)
 * @want: the objects the bulk call asked for, in all
 *
 * A bulk call that must grow gets a span holding its @want objects (up to
 * GOALLOC_BULK_SHAPE_OBJS, within GOALLOC_BIG_MAX_PAGES pages, for objects
 * up to GOALLOC_BULK_SHAPE_MAX_SIZE bytes) where @npages holds fewer: a
 * caller asking for 128 objects of 320 bytes at a time otherwise crosses
 * four or five spans of 25-51 per call, paying mcentral's lock and a span
 * change each time, every call, since the span the CPU keeps between calls
 * holds fewer objects than a call takes.  Only bulk callers grow such
 * spans; they hold no more than one call asked for.
 *
 * Return: 0 for the class's own shape, else the heap pages of another.
 */
unsigned int goalloc_mcache_bulk_shape(const struct goalloc_class_info *c, unsigned int npages,
				       size_t want)
{
	unsigned long need;

	if (c->size > GOALLOC_BULK_SHAPE_MAX_SIZE)
		return npages;
	want = min_t(size_t, want, GOALLOC_BULK_SHAPE_OBJS);
	need = min_t(unsigned long, DIV_ROUND_UP(want * c->size, GOALLOC_PAGE_SIZE),
		     GOALLOC_BIG_MAX_PAGES);
	if (need <= (npages ?: c->npages))
		return npages;
	/* Above a small shape, the own one: 0, so a grow may still fall back. */
	return need == c->npages ? 0 : need;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache_bulk_shape);

/**
 * goalloc_mcache_pass_reset() - a trim pass: grow every class's own shape again
 *
 * Called by the trim pass (mgcscavenge.c), so that a class busy once does
 * not keep growing big spans for good: every CPU's counts start again.
 */
void goalloc_mcache_pass_reset(void)
{
	atomic_inc(&grow_pass);
}

/*
 * Heap shortages so far: a CPU whose grow found the heap short counts one,
 * and every CPU gives back its empty spans once per count, at its next
 * grow (mcache_flush_empty()).  Only ever incremented.
 */
static atomic_t short_gen;

/*
 * Before a grow of @npages heap pages (a span of a class whose refill
 * failed, its slot now empty, or a large object): if the heap is short of
 * free pages (it would grow), give back to mcentral every span this CPU
 * caches with no object in it, and ask the other CPUs to do the same at
 * their next grow (Go starts a collection when its heap has grown, and the
 * collection flushes every P's mcache).  mcentral retires such a span
 * (span_settle()), so its pages can take new spans instead of fresh ones.
 * A class used now and then otherwise keeps a whole span per CPU cached
 * for nothing until the next trim pass, and a heap growing through a burst
 * holds them all at its peak.  Read only on the way to a grow (a span's
 * worth of allocations apart); the scan is of this CPU's slots.  A CPU
 * that never grows keeps its spans until the trim pass.  @c entered.
 */
static void mcache_flush_empty(struct goalloc_mcache *c, unsigned int npages)
{
	unsigned int gen = atomic_read(&short_gen), i, left;

	if (c->flush_gen == gen) {
		if (!goalloc_heap_short(npages))
			return;
		gen = atomic_inc_return(&short_gen);
	}
	c->flush_gen = gen;
	/* Up to the last span the cache holds (a busy CPU's are few). */
	left = c->ncached;
	for (i = 0; i < GOALLOC_NUM_SPC && left; i++) {
		struct goalloc_span *s = c->alloc[i];

		if (s == &goalloc_placeholder_span)
			continue;
		left--;
		if (goalloc_span_inuse_hint(s) <= 0)
			goalloc_mcache_uncache(c, i);
	}
}

/* The most heap pages a grow for @want objects of class @cls may ask for. */
static unsigned int grow_most(unsigned int cls, size_t want)
{
	const struct goalloc_class_info *c = goalloc_cls_info(cls);

	/* For one object, goalloc_mcache_bulk_shape() is the own shape: 0. */
	return max_t(unsigned int, c->big_npages, goalloc_mcache_bulk_shape(c, 0, want));
}

/*
 * How many allocations of a quiet class a CPU takes from mcentral's spans in
 * a second before the class counts as busy there, and the CPU caches a span
 * of it as before: a class allocated and freed in pairs stays below
 * GOALLOC_QUIET_SPANS spans' worth of objects for good, and would otherwise
 * pay mcentral's lock and a remote free for every pair: about 1,100-1,600
 * instructions where the fast path's pair takes 79 (measured on a build
 * whose one-CPU benchmark guest had quiet classes: the first round of
 * 5,000 pairs, 2,048 of them quiet, averaged 508-688).  At four spans'
 * worth a second (at most 255) the two-CPU peaks of the committed traces
 * gave most of what sharing saves back; at 2,048 they keep it
 * (Documentation/trace-replay.rst).  0: no class is ever quiet; the
 * value is taken at most 65,535.
 */
unsigned int goalloc_quiet_max = 2048;
module_param_named(quiet_max, goalloc_quiet_max, uint, 0644);
MODULE_PARM_DESC(quiet_max,
		 "Allocations a second a CPU takes a quiet class's objects from the shared spans (0: off)");
EXPORT_SYMBOL_IF_KUNIT(goalloc_quiet_max);

/*
 * Is @spc quiet on this CPU?  It is when the CPU caches no span of it,
 * another CPU is online to share mcentral's spans with, the CPU holds fewer
 * of its objects than GOALLOC_QUIET_SPANS spans of its own shape do, and it
 * has taken fewer than goalloc_quiet_max of them from mcentral this second;
 * a yes counts one, and sets *@npages to the shape of a span grown for
 * mcentral, the class's small one (quiet_alloc()).  In the section.  (With
 * one CPU online its own span holds what mcentral's would, and the fast
 * path serves it.)
 *
 * On two CPUs each CPU's partly used span of every class it allocates was
 * what the second CPU cost (Documentation/trace-replay.rst): a class both
 * allocate a few objects of now fills one span, mcentral's, where each
 * filled its own.  A busy class keeps the fast path: a CPU holding many of
 * its objects, or allocating it often, caches a span of it.
 */
static bool mcache_quiet(struct goalloc_mcache *c, unsigned int spc, unsigned int *npages)
{
	const struct goalloc_class_info *ci = goalloc_cls_info(goalloc_spc_to_class(spc));
	unsigned int max = min(READ_ONCE(goalloc_quiet_max), 0xffffU);
	u32 sec = (u16)(jiffies / HZ), v = c->quiet[spc];
	long live;

	if (c->alloc[spc] != &goalloc_placeholder_span || num_online_cpus() < 2)
		return false;
	live = goalloc_mcache_live_hint(spc);
	if (live >= GOALLOC_QUIET_SPANS * (long)ci->nelems)
		return false;
	if (v >> 16 != sec)
		v = sec << 16;
	if ((v & 0xffff) >= max)
		return false;
	c->quiet[spc] = v + 1;
	/* Rule 7's small shape however many it holds; below zero the own (quiet_alloc()). */
	*npages = goalloc_mcache_shape(ci, live < 0 ? live : 0, false);
	return true;
}

/*
 * A quiet class's object (mcache_quiet()), outside any section: a slot of
 * mcentral's spans, else of a span grown for mcentral, of @npages: the
 * class's small shape where it has one (rule 7), else its own, never the
 * big one, as a busy CPU's count of grows does not apply to spans no CPU
 * caches; a CPU whose hint is below zero grows the own shape
 * (goalloc_mcache_shape() says why).  The small shape fits where the heap's
 * free pages are scattered (the own shape there costs two failed
 * placements, every CPU's page-cache window taken back between them, and
 * the fallback to the small shape anyway: goalloc_pool_alloc_span_or()),
 * and held no more at the replays' peaks than the shape of the objects
 * held (Documentation/trace-replay.rst).
 * Counted on this CPU, as its cached spans' allocations are, so that its
 * objects of the class (the hint above) count them; its frees are remote
 * frees, counted there too.  No empty cached spans are given back before the
 * grow (mcache_flush_empty()): the quiet CPU caches none of this class,
 * and the grow is of a small span.
 */
static noinline void *quiet_alloc(unsigned int spc, unsigned int npages, gfp_t gfp)
{
	struct goalloc_mcache *c;
	struct goalloc_span *s;
	void *p;

	p = goalloc_central_take_slot(spc, NUMA_NO_NODE, &s);
	if (!p) {
		s = goalloc_central_grow(spc, npages, numa_mem_id(), gfp);
		if (!s)
			return NULL;
		/* Still the grower's alone: no lookup finds a NEW span. */
		p = goalloc_span_next_free(s);
		goalloc_central_add_span(s);
	}
	c = goalloc_mcache_get();
	if (goalloc_mcache_enter(c)) {
		goalloc_mcache_count_alloc(c, spc);
		goalloc_mcache_leave(c);
	} else {
		goalloc_central_count_alloc(s);
	}
	goalloc_mcache_put();
	return p;
}

/*
 * Go's nextFree, whole (goalloc_mcache_next_free()), for @want objects in
 * all: 1, or a bulk call's count (goalloc_mcache_next_free_bulk()).
 * Inlined into both, so a single allocation's carries no count.  @asked:
 * the node whose mcentral the bulk call has just asked for a span, and got
 * none (else NUMA_NO_NODE): a CPU of that node with no span of the class
 * grows one without asking again.
 */
static __always_inline void *next_free(unsigned int spc, size_t size, gfp_t gfp, int node,
				       size_t want, int asked)
{
	unsigned int cls = goalloc_spc_to_class(spc);
	struct goalloc_mcache *c;
	struct goalloc_span *s;
	unsigned int npages;
	int nid;
	void *p;

	node = goalloc_mcache_node(node, gfp);
	if (unlikely(node < NUMA_NO_NODE))
		return NULL;
	c = goalloc_mcache_get();
	if (goalloc_mcache_enter(c)) {
		if (node == NUMA_NO_NODE) {
			p = goalloc_span_next_free(c->alloc[spc]);
			if (!p && want == 1 && mcache_quiet(c, spc, &npages)) {
				goalloc_mcache_leave(c);
				goalloc_mcache_put();
				return quiet_alloc(spc, npages, gfp);
			}
			if (!p && goalloc_mcache_may_refill(c, spc, asked))
				p = goalloc_mcache_refill(c, spc, want);
			/* The most a grow asks for: the big shape, or a bulk call's. */
			if (!p)
				mcache_flush_empty(c, grow_most(cls, want));
		} else {
			p = away_next_free(c, spc, node);
		}
		if (p)
			goalloc_mcache_count_alloc(c, spc);
		goalloc_mcache_leave(c);
		goalloc_mcache_put();
		if (p)
			return p;
		goto grow;
	}
	goalloc_mcache_put();
	p = goalloc_central_alloc(spc, size, node);
	if (p)
		return p;
grow:
	/*
	 * Outside any section: this may sleep if @gfp allows.  A grow that
	 * succeeds yields the object (mheap carves the span under its lock;
	 * for __GFP_NOFAIL it retries the page allocator until it does).
	 */
	nid = node == NUMA_NO_NODE ? numa_mem_id() : node;
	npages = goalloc_mcache_grow_pages(spc);
	if (want > 1)
		npages = goalloc_mcache_bulk_shape(goalloc_cls_info(cls), npages, want);
	s = goalloc_central_grow(spc, npages, nid, gfp);
	if (!s)
		return NULL;
	if (node == NUMA_NO_NODE)
		goalloc_hook(GOALLOC_HOOK_SPAN_GROWN, s);
	c = goalloc_mcache_get();
	/* Moved to another node's CPU while growing: not this CPU's span. */
	if ((node != NUMA_NO_NODE || nid == numa_mem_id()) && goalloc_mcache_enter(c)) {
		p = slot_install(c, node == NUMA_NO_NODE ? &c->alloc[spc] : &c->away[spc], s);
		goalloc_mcache_count_alloc(c, spc);
		goalloc_mcache_leave(c);
		goalloc_mcache_put();
		return p;
	}
	goalloc_mcache_put();
	/*
	 * An interrupt inside this CPU's section, or a span of the node this
	 * task left: take the object while the span is still ours alone,
	 * then give the span to mcentral.
	 */
	p = goalloc_span_next_free(s);
	goalloc_central_add_span(s);
	goalloc_central_count_alloc(s);
	return p;
}

/**
 * goalloc_mcache_next_free() - an object of a span class, past the fast path
 * @spc: span class
 * @size: bytes asked for
 * @gfp: the caller's mask; sleeps only where it allows
 * @node: NUMA node, or NUMA_NO_NODE
 *
 * Go's nextFree, whole: the current span ran out (refill from this node's
 * mcentral, else grow a span outside the section, re-enter and install
 * it); another node was asked for, or this one required (the span the CPU
 * keeps for other nodes, else one from that node's mcentral, else a new
 * span of that node, installed the same way); or this CPU's cache is busy
 * (an interrupt inside a section: the node's mcentral, under its lock, else
 * a new span for mcentral).
 *
 * Return: the object, not yet made usable (the API does that), or NULL.
 */
void *goalloc_mcache_next_free(unsigned int spc, size_t size, gfp_t gfp, int node)
{
	return next_free(spc, size, gfp, node, 1, NUMA_NO_NODE);
}

/**
 * goalloc_mcache_next_free_bulk() - goalloc_mcache_next_free() for a bulk call
 * @spc: span class
 * @size: bytes per object
 * @gfp: the caller's mask; sleeps only where it allows
 * @want: objects the call asks for in all
 * @asked: goalloc_mcache_alloc_bulk()'s: the node whose mcentral had no
 *	span for this call, or NUMA_NO_NODE
 *
 * For this CPU's node, after goalloc_mcache_alloc_bulk() stopped.  Where
 * its refill found no span in this node's mcentral, a CPU of the node with
 * no span of the class grows one without asking again: one mcentral lock
 * round trip fewer a grow (a busy class of 16 KiB objects grows a span
 * every 10).  A CPU of another node (the task moved) asks its own.  The
 * span holds the call's objects (goalloc_mcache_bulk_shape()), and a
 * refill takes no kept span that holds fewer.  If that span finds no room
 * (an atomic caller, a heap without a run that long), a single
 * allocation's path: mcentral, kept spans and the shapes that fall back
 * included.
 *
 * Return: the object, not yet made usable, or NULL.
 */
void *goalloc_mcache_next_free_bulk(unsigned int spc, size_t size, gfp_t gfp, size_t want,
				    int asked)
{
	void *p = next_free(spc, size, gfp, NUMA_NO_NODE, want, asked);

	return p ?: goalloc_mcache_next_free(spc, size, gfp, NUMA_NO_NODE);
}

/**
 * goalloc_mcache_alloc_large() - a span of its own for one large object
 * @size: bytes, above the largest size class
 * @spc: span class 0 (scan) or 1 (noscan)
 * @gfp: the caller's mask
 * @node: NUMA node, or NUMA_NO_NODE
 *
 * Go's allocLarge: straight from the heap, no CPU caches it.  A
 * power-of-two size gets a naturally aligned span.  @node as for
 * goalloc_mcache_next_free().
 *
 * Return: the span (its object at ->base, ->elemsize usable), or NULL.
 */
struct goalloc_span *goalloc_mcache_alloc_large(size_t size, unsigned int spc, gfp_t gfp,
						int node)
{
	unsigned int npages = DIV_ROUND_UP(size, GOALLOC_PAGE_SIZE);
	struct goalloc_mcache *c;
	struct goalloc_span *s;

	node = goalloc_mcache_node(node, gfp);
	if (unlikely(node < NUMA_NO_NODE))
		return NULL;
	/* A grow of the heap as a span's is: empty cached spans go back first. */
	c = goalloc_mcache_get();
	if (goalloc_mcache_enter(c)) {
		mcache_flush_empty(c, npages);
		goalloc_mcache_leave(c);
	}
	goalloc_mcache_put();
	s = goalloc_heap_alloc_span(spc, npages,
				    is_power_of_2(size) ? npages : 1, node,
				    GOALLOC_SPAN_LARGE, gfp);
	if (s)
		goalloc_central_count_large(s);
	return s;
}

/**
 * goalloc_mcache_drain() - give every cached span back to mcentral
 * @c: a cache that is entered, or whose CPU is dead
 */
void goalloc_mcache_drain(struct goalloc_mcache *c)
{
	unsigned int spc;

	for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
		goalloc_mcache_uncache(c, spc);
		goalloc_mcache_uncache_away(c, spc);
	}
}

/**
 * goalloc_mcache_drained() - does a CPU's cache hold no span?
 * @cpu: the CPU, offline or quiet
 *
 * Return: true if every span class has the empty span.
 */
bool goalloc_mcache_drained(unsigned int cpu)
{
	struct goalloc_mcache *c = per_cpu_ptr(goalloc_mcache, cpu);
	unsigned int spc;

	for (spc = 0; spc < GOALLOC_NUM_SPC; spc++)
		if (READ_ONCE(c->alloc[spc]) != &goalloc_placeholder_span ||
		    READ_ONCE(c->away[spc]) != &goalloc_placeholder_span)
			return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mcache_drained);

static void drain_work_fn(struct work_struct *w)
{
	struct goalloc_mcache *c;

	goalloc_hook(GOALLOC_HOOK_DRAIN_WORK, w);
	c = goalloc_mcache_get();

	/*
	 * Process context on the CPU: no section of this CPU is open (they
	 * are never preempted), so entering cannot fail.  Should the CPU have
	 * gone offline since queueing, this runs elsewhere and drains that
	 * CPU's cache, which is harmless; cpuhp drains the dead one.
	 */
	if (!WARN_ON_ONCE(!goalloc_mcache_enter(c))) {
		/* The mutex's holder set it before queueing: ordered by the queue. */
		int spc = READ_ONCE(goalloc_drain_spc);

		if (spc < 0) {
			goalloc_mcache_drain(c);
		} else {
			goalloc_mcache_uncache(c, spc);
			goalloc_mcache_uncache_away(c, spc);
		}
		goalloc_mcache_leave(c);
	}
	goalloc_mcache_put();
}

/**
 * goalloc_drain_all() - drain every online CPU's cache
 *
 * Runs a work item on each online CPU and waits for them all.  May sleep;
 * the shrinker calls it, so the work runs on a WQ_MEM_RECLAIM workqueue.
 * Takes no CPU hotplug lock (reclaim may run under it).
 *
 * Return: the number of CPUs whose cache could not be drained (always 0:
 * a drain cannot land inside a section; kept for the tests that check it).
 */
unsigned int goalloc_drain_all(void)
{
	unsigned int cpu;

	mutex_lock(&goalloc_drain_mutex);
	for_each_online_cpu(cpu)
		queue_work_on(cpu, goalloc_drain_wq, per_cpu_ptr(&goalloc_drain_work, cpu));
	for_each_possible_cpu(cpu)
		flush_work(per_cpu_ptr(&goalloc_drain_work, cpu));
	mutex_unlock(&goalloc_drain_mutex);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_drain_all);

/**
 * goalloc_drain_all_nowait() - ask every online CPU to drain its cache
 *
 * For reclaim (the shrinker): queues each online CPU's drain work item and
 * does not wait for them.  Waiting could deadlock: an item may need a new
 * worker thread, which kthreadd makes with an allocation that can land in
 * this very reclaim, and during a CPU offline the pool's mayday timer
 * (which summons the rescuer) may sit on the CPU whose softirq threads are
 * parked (seen in the PREEMPT_RT soak).  memcg's drain_all_stock() does not
 * wait either.  This CPU's cache is not drained in place: the reclaim may
 * come from inside a section of it.  The spans come back to mcentral when
 * the items run; the next scan or trim pass gives their pages back.  Takes
 * no lock; never sleeps.
 */
void goalloc_drain_all_nowait(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		queue_work_on(cpu, goalloc_drain_wq, per_cpu_ptr(&goalloc_drain_work, cpu));
}

/**
 * goalloc_drain_wait() - wait for the drains goalloc_drain_all_nowait() asked for
 *
 * May sleep; not from reclaim.
 */
void goalloc_drain_wait(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		flush_work(per_cpu_ptr(&goalloc_drain_work, cpu));
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_drain_wait);

/**
 * goalloc_drain_class() - every online CPU gives back its span of one class
 * @spc: the span class (a named cache's, being destroyed)
 *
 * goalloc_drain_all() for one span class: the other classes' spans stay
 * where they are.  May sleep.  A dead CPU's cache was drained whole.
 */
void goalloc_drain_class(unsigned int spc)
{
	unsigned int cpu;

	mutex_lock(&goalloc_drain_mutex);
	WRITE_ONCE(goalloc_drain_spc, spc);
	for_each_online_cpu(cpu)
		queue_work_on(cpu, goalloc_drain_wq, per_cpu_ptr(&goalloc_drain_work, cpu));
	for_each_possible_cpu(cpu)
		flush_work(per_cpu_ptr(&goalloc_drain_work, cpu));
	WRITE_ONCE(goalloc_drain_spc, -1);
	mutex_unlock(&goalloc_drain_mutex);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_drain_class);

/* CPU hotplug: a dead CPU's cache is drained from a surviving one. */
static int goalloc_cpu_dead(unsigned int cpu)
{
	goalloc_mcache_drain(per_cpu_ptr(goalloc_mcache, cpu));
	return 0;
}

int goalloc_mcache_init(void)
{
	unsigned int cpu, spc;
	int ret;

	goalloc_mcache = alloc_percpu(struct goalloc_mcache);
	if (!goalloc_mcache)
		return -ENOMEM;
	goalloc_drain_wq = alloc_workqueue("goalloc_drain", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!goalloc_drain_wq) {
		free_percpu(goalloc_mcache);
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		struct goalloc_mcache *c = per_cpu_ptr(goalloc_mcache, cpu);

#ifdef CONFIG_PREEMPT_RT
		local_lock_init(&c->lock);
#endif
		c->last = &goalloc_placeholder_span;
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			c->alloc[spc] = &goalloc_placeholder_span;
			c->away[spc] = &goalloc_placeholder_span;
		}
		INIT_WORK(per_cpu_ptr(&goalloc_drain_work, cpu), drain_work_fn);
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "goalloc:dead",
					NULL, goalloc_cpu_dead);
	if (ret < 0) {
		destroy_workqueue(goalloc_drain_wq);
		free_percpu(goalloc_mcache);
		return ret;
	}
	goalloc_cpuhp_state = ret;
	return 0;
}

/* At unload: no caller is left, so every cache can be drained from here. */
void goalloc_mcache_exit(void)
{
	unsigned int cpu;

	cpuhp_remove_state_nocalls(goalloc_cpuhp_state);
	destroy_workqueue(goalloc_drain_wq);
	for_each_possible_cpu(cpu)
		goalloc_mcache_drain(per_cpu_ptr(goalloc_mcache, cpu));
	free_percpu(goalloc_mcache);
}
