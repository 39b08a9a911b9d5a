// SPDX-License-Identifier: GPL-2.0
/*
 * mheap: runs of heap pages for spans, carved first-fit out of chunks from
 * the buddy allocator (Go's mheap.alloc and pageAlloc), and the span map
 * that goalloc_span_of() reads.
 *
 * Go keeps a radix tree of summaries over the whole address space; goalloc
 * has at most a few thousand chunks, so it keeps one summary (the longest
 * free run) per chunk and skips chunks whose summary is too short.  Freeing
 * a span clears its bits, so neighbouring free runs coalesce by
 * construction.
 *
 * Chunks belong to pools (struct goalloc_pool): the kernel's, each user
 * arena's, a test's.  What differs between pools is data, set once at
 * goalloc_pool_init() (struct goalloc_pool_policy): whom the pages are
 * charged to, whether chunks are cut to fit one span, what idle memory is
 * kept, and whether the trim pass and the shrinker release it.  No code
 * here asks which pool it has.
 *
 * The heap owns retention (Go's scavenger goal): the kernel pool keeps idle
 * chunks (chunks with no span left) up to retain_percent of its pages in
 * use.  A span free that leaves a chunk idle beyond that goal releases
 * the chunk at once; the rest goes back through goalloc_heap_release(),
 * called by a trim pass or the shrinker.  The heap and mcentral ask for a
 * pass with goalloc_heap_trim_soon(); the pass itself, which also empties
 * mcentral's kept spans, is installed by the layer on top (mgcscavenge.c)
 * with goalloc_heap_trim_start(), so no layer below it calls up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "hooks.h"
#include "internal.h"
#include "mheap.h"
#include "trace.h"

/* Buddy blocks up to the chunk size exist on every supported kernel. */
static_assert(GOALLOC_CHUNK_ORDER <= GOALLOC_MAX_PAGE_ORDER);
static_assert(GOALLOC_CHUNK_PAGES <= U16_MAX);

/*
 * The kernel pool's smallest chunk: 64 KiB, a few spans of the common
 * classes (a larger span's chunk is of the span's order, or more).
 */
#define GOALLOC_GROW_MIN_ORDER	(16 - PAGE_SHIFT)

struct goalloc_mheap goalloc_heap = {
	.lock = __SPIN_LOCK_UNLOCKED(goalloc_heap.lock),
	.kernel = {
		.chunks = LIST_HEAD_INIT(goalloc_heap.kernel.chunks),
		.policy = {
			.trimmed = true,
			.retain_percent = &goalloc_heap_trim.retain_percent,
			.grow_min_order = GOALLOC_GROW_MIN_ORDER,
		},
	},
};
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap);

struct goalloc_heap_trim goalloc_heap_trim = {
	.retain_percent = 10,
	.delay_ms = 1000,
};
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_trim);

module_param_named(retain_percent, goalloc_heap_trim.retain_percent, uint, 0644);
MODULE_PARM_DESC(retain_percent,
		 "idle heap memory kept, as a percentage of the heap in use (default 10)");
module_param_named(scavenge_delay_ms, goalloc_heap_trim.delay_ms, uint, 0644);
MODULE_PARM_DESC(scavenge_delay_ms,
		 "delay before idle memory beyond the goal is released (default 1000)");

/* The table before goalloc_heap_init() and after goalloc_heap_exit(). */
static struct goalloc_span_map span_map_none;

struct goalloc_span_map __rcu *goalloc_span_map __read_mostly = RCU_INITIALIZER(&span_map_none);
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_map);

/* The table, for its writers (heap lock held). */
static struct goalloc_span_map *span_map(void)
{
	return rcu_dereference_protected(goalloc_span_map,
					 lockdep_is_held(&goalloc_heap.lock));
}

/* Recompute a chunk's summary after its bitmap changed.  Heap lock held. */
static void chunk_summarise(struct goalloc_chunk *ch)
{
	unsigned int start = 0, end, best = 0;

	lockdep_assert_held(&goalloc_heap.lock);
	while (start < ch->npages) {
		start = find_next_zero_bit(ch->used, ch->npages, start);
		if (start >= ch->npages)
			break;
		end = find_next_bit(ch->used, ch->npages, start);
		best = max(best, end - start);
		start = end;
	}
	ch->max_run = best;
}

/* Heap pages a chunk holds: all but the scavenged ones. */
static unsigned int chunk_held(const struct goalloc_chunk *ch)
{
	return ch->npages - ch->nscav;
}

/*
 * The length of the free run of @ch holding free heap page @at.  Heap lock
 * held.
 */
static unsigned int chunk_run_at(const struct goalloc_chunk *ch, unsigned int at)
{
	unsigned int prev = find_last_bit(ch->used, at);

	lockdep_assert_held(&goalloc_heap.lock);
	return find_next_bit(ch->used, ch->npages, at) - (prev >= at ? 0 : prev + 1);
}

/*
 * Is @ch idle: no span (its pages all free or scavenged), and no CPU's page
 * cache holding a window in it?  Heap lock held.
 */
static bool chunk_idle(const struct goalloc_chunk *ch)
{
	lockdep_assert_held(&goalloc_heap.lock);
	return ch->nfree + ch->nscav == ch->npages && !ch->windows;
}

/* The span map of the region holding @addr, which a chunk covers.  Heap lock held. */
static struct goalloc_span_region *region_of(unsigned long addr)
{
	unsigned long i = goalloc_map_offset(addr) >> GOALLOC_CHUNK_SHIFT;

	return rcu_dereference_protected(span_map()->region[i],
					 lockdep_is_held(&goalloc_heap.lock));
}

/*
 * Point region @a's span map at @s (or clear it) for each of @s's pages.
 * The caller owns the pages: the heap lock, or the page cache whose window
 * holds them.
 */
static void map_span_in(struct goalloc_span_region *a, struct goalloc_span *s,
			struct goalloc_span *val)
{
	unsigned int first = (goalloc_map_offset(s->base) >> GOALLOC_PAGE_SHIFT) &
			     (GOALLOC_CHUNK_PAGES - 1);
	unsigned int i;

	/*
	 * [M3] Lookups may follow the pointer at once: publish a finished
	 * span.  Pairs with the READ_ONCE() of the entry in goalloc_span_of()
	 * and the address dependency of its callers' loads.
	 */
	smp_wmb();
	for (i = 0; i < s->npages; i++)
		WRITE_ONCE(a->spans[first + i], val);
}

/* Point the span map at @s (or clear it) for each of its pages.  Heap lock held. */
static void map_span(struct goalloc_span *s, struct goalloc_span *val)
{
	lockdep_assert_held(&goalloc_heap.lock);
	map_span_in(region_of(s->base), s, val);
}

/* First fit of @npages pages aligned to @align pages, in a chunk of @node. */
static struct goalloc_chunk *heap_find(struct goalloc_pool *pool, unsigned int npages,
				       unsigned int align, int node, unsigned int *first)
{
	struct goalloc_chunk *ch;

	lockdep_assert_held(&goalloc_heap.lock);
	list_for_each_entry(ch, &pool->chunks, list) {
		unsigned long idx;

		if (ch->max_run < npages)
			continue;
		/*
		 * An exact-fit chunk holds one span that fills it: a span
		 * placed in part of the kept idle chunk would leave the rest
		 * charged and unused, and that chunk would go back only once
		 * wholly empty, so the pool's excess over its spans would grow
		 * past the one kept chunk (a user arena's ABI bounds it:
		 * bytes_charged).
		 */
		if (pool->policy.exact_fit && ch->npages != npages)
			continue;
		if (node != NUMA_NO_NODE && ch->nid != node)
			continue;
		idx = bitmap_find_next_zero_area(ch->used, ch->npages, 0, npages, align - 1);
		if (idx < ch->npages) {
			*first = idx;
			return ch;
		}
	}
	return NULL;
}

/* Free a block of 2^@order pages, or the first @nr of it if it was split. */
static void block_free(struct page *page, unsigned int order, unsigned long nr)
{
	unsigned long i;

	if (nr == (1UL << order)) {
		__free_pages(page, order);
		return;
	}
	for (i = 0; i < nr; i++)
		__free_page(page + i);
}

/*
 * The order of a pool's next chunk, at least @need: for an exact-fit pool
 * just that; else a part of the most the pool has held since the last
 * trim (struct goalloc_pool, @pages_peak), between its policy's smallest
 * chunk and a full one.  A small heap grows in small steps, so its
 * footprint stays near what it uses (Go commits arena memory page by page
 * for the same reason); a large one in 4 MiB chunks, so the chunk list
 * stays short.  Each grow's unused rest is held until spans fill it or a
 * trim pass scavenges it, so a pool growing past its peak, where that rest
 * is what a new peak holds beyond its spans, grows by a 64th of it (with a
 * 32nd the one-CPU replays held 64-128 KiB more at their peaks; with an
 * eighth, most of a 512 KiB grow was unused at the committed trace's
 * peak: Documentation/trace-replay.rst).  A pool growing back below its
 * peak, whose pages were in use lately, grows by a 32nd of the peak: a
 * heap emptied by a burst's frees grows back in large steps (with a 64th
 * of the peak, N allocations then N frees of 10,000 1,100-byte objects
 * took 10 % more instructions in the rounds after the first, for twice
 * the grows; with a 64th of what it held then, 20-30 % more at 2-16 KiB).
 */
static unsigned int grow_order(const struct goalloc_pool *pool, unsigned int need)
{
	unsigned long peak = READ_ONCE(pool->pages_peak);
	unsigned long div = READ_ONCE(pool->pages_held) < peak ? 32 : 64;
	unsigned int order;

	peak *= GOALLOC_PAGE_SIZE / PAGE_SIZE;
	order = peak >= div ? ilog2(peak / div) : 0;

	if (pool->policy.exact_fit)
		return need;
	return clamp_t(unsigned int, order, max(need, pool->policy.grow_min_order),
		       GOALLOC_CHUNK_ORDER);
}

/*
 * Heap pages held, idle and in use: in the pool and in the heap's totals,
 * which the policy says how to sort.  Heap lock held.
 */
static void pool_add_held(struct goalloc_pool *pool, long n)
{
	lockdep_assert_held(&goalloc_heap.lock);
	pool->pages_held += n;
	pool->pages_peak = max(pool->pages_peak, pool->pages_held);
	goalloc_heap.pages_held += n;
	if (pool->policy.charge)
		goalloc_heap.user_pages += n;
}

static void pool_add_idle(struct goalloc_pool *pool, long n)
{
	lockdep_assert_held(&goalloc_heap.lock);
	pool->pages_idle += n;
	if (pool->policy.trimmed)
		goalloc_heap.pages_idle += n;
}

static void pool_add_inuse(struct goalloc_pool *pool, long n)
{
	lockdep_assert_held(&goalloc_heap.lock);
	pool->pages_inuse += n;
	goalloc_heap.pages_inuse += n;
}

/* Regions of the direct map as far as it reaches now (memory hot-added moves it). */
static unsigned long span_map_direct_regions(void)
{
	return (goalloc_map_offset((unsigned long)high_memory - 1) >> GOALLOC_CHUNK_SHIFT) + 1;
}

/* Carve @s out of @ch at heap page @first, and map it.  Heap lock held. */
static void span_carve(struct goalloc_span *s, struct goalloc_chunk *ch, unsigned int first)
{
	bool longest = chunk_run_at(ch, first) == ch->max_run;

	if (chunk_idle(ch))
		pool_add_idle(ch->pool, -(long)chunk_held(ch));
	bitmap_set(ch->used, first, s->npages);
	ch->nfree -= s->npages;
	/* Only the longest free run getting shorter can change the summary. */
	if (longest)
		chunk_summarise(ch);
	pool_add_inuse(ch->pool, s->npages);
	s->chunk = ch;
	s->nid = ch->nid;
	s->base = ch->base + (unsigned long)first * GOALLOC_PAGE_SIZE;
	map_span(s, s);
}

static int span_map_replace(unsigned long nregions, gfp_t gfp, bool grow_only);

/*
 * Make the span map's table cover region @idx: memory hot-added after load
 * lies above the table sized then.  The new table also covers the direct
 * map as it reaches now, rounded up to 256 MiB, so a hot-added block does
 * not grow it one region at a time.
 */
static int span_map_cover(unsigned long idx, gfp_t gfp)
{
	unsigned long n = round_up(max(idx + 1, span_map_direct_regions()), 64);

	return span_map_replace(n, gfp, true);
}

/*
 * The gfp mask of a chunk's block of 2^@order pages when it is the smallest
 * that fits the span.  __GFP_NOFAIL is supported by the page allocator only
 * up to order 1 (above, it warns when it has to retry): there the caller's
 * loop in goalloc_pool_alloc_span() retries instead.
 */
static gfp_t block_gfp_needed(gfp_t meta, unsigned int order)
{
	if ((meta & __GFP_NOFAIL) && order > 1)
		meta = (meta & ~__GFP_NOFAIL) | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	return meta;
}

/*
 * A block of pages for a chunk of @pool that can hold @npages heap pages:
 * of the order grow_order() picks, else of smaller ones down to the
 * smallest that fits.  An exact-fit pool's block is split and cut to
 * @npages; for a @large span (a large object's or an arena's, one of
 * size class 0), a block above the pool's step is cut to the span or the
 * step, whichever is more.  Sets the block's order, its PAGE_SIZE pages
 * and whether it fell short of the order wanted.
 */
static struct page *chunk_block(struct goalloc_pool *pool, unsigned int npages, bool large,
				int node, bool thisnode, gfp_t meta, unsigned int *orderp,
				unsigned long *nr_pages, bool *fallback)
{
	unsigned long need_pages = (unsigned long)npages * (GOALLOC_PAGE_SIZE / PAGE_SIZE);
	unsigned int need = max_t(unsigned int, GOALLOC_MIN_CHUNK_ORDER,
				  get_order((size_t)npages * GOALLOC_PAGE_SIZE));
	unsigned int want = grow_order(pool, need), order;
	struct page *page = NULL;
	unsigned long i, keep;

	for (order = want; order >= need; order--) {
		gfp_t g = block_gfp_needed(meta, order);

		/* Larger blocks are a preference, not a need: try them lightly. */
		if (order > need)
			g = (meta | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
		/*
		 * @node is preferred: without @thisnode the buddy allocator
		 * falls back along its zonelist, as for kmalloc_node().
		 */
		if (thisnode)
			g |= __GFP_THISNODE;
		page = alloc_pages_node(node, g, order);
		if (page)
			break;
	}
	if (!page)
		return NULL;
	*orderp = order;
	*fallback = order < want;
	*nr_pages = 1UL << order;
	/*
	 * An exact-fit pool pays for what it uses; a large span keeps the
	 * pool's step (grow_order() of a page), or itself if above it: the
	 * tail goes straight back.  Kept, it was held until spans filled it (a
	 * 152 KiB object grew a 4.4 MiB heap by 256 KiB at the peak of the
	 * second trace, Documentation/trace-replay.rst).  A size class's span
	 * keeps the whole block: its class's next spans fill it, and a grow
	 * per big span cost N-then-N of 16 KiB objects 4x the instructions.
	 */
	if (pool->policy.exact_fit)
		keep = need_pages;
	else if (large)
		keep = max(need_pages, 1UL << grow_order(pool, 0));
	else
		keep = *nr_pages;
	if (keep < *nr_pages) {
		split_page(page, order);
		for (i = keep; i < *nr_pages; i++)
			__free_page(page + i);
		*nr_pages = keep;
	}
	return page;
}

/*
 * Add @ch to its pool and the span map, and carve @s from its start, under
 * one hold of the heap lock; @spare is a region's span map, taken if the
 * chunk's region has none yet.  Fails only if the span map's table could
 * not grow to cover the chunk.
 */
static int chunk_publish(struct goalloc_chunk *ch, struct goalloc_span *s,
			 struct goalloc_span_region **spare, gfp_t gfp, bool fallback)
{
	unsigned long idx = goalloc_map_offset(ch->base) >> GOALLOC_CHUNK_SHIFT, flags;
	struct goalloc_pool *pool = ch->pool;
	struct goalloc_span_region *a;

	spin_lock_irqsave(&goalloc_heap.lock, flags);
	while (idx >= span_map()->nregions) {
		/* Memory hot-added after load: the table must grow to cover it. */
		spin_unlock_irqrestore(&goalloc_heap.lock, flags);
		if (span_map_cover(idx, gfp))
			return -ENOMEM;
		spin_lock_irqsave(&goalloc_heap.lock, flags);
	}
	a = region_of(ch->base);
	if (!a) {
		a = *spare;
		*spare = NULL;
		/*
		 * [M2] kzalloc()'s zeroes before the pointer: pairs with the
		 * rcu_dereference_check() of the entry in goalloc_span_of().
		 */
		rcu_assign_pointer(span_map()->region[idx], a);
	}
	a->nchunks++;
	list_add_tail(&ch->list, &pool->chunks);
	pool->nchunks++;
	goalloc_heap.nchunks++;
	pool_add_held(pool, ch->npages);
	pool_add_idle(pool, ch->npages);
	if (fallback)
		goalloc_heap.grow_fallbacks++;
	/* A fresh chunk is aligned to its size: its first page suits any alignment. */
	span_carve(s, ch, 0);
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	return 0;
}

/*
 * Add a chunk able to hold @s to @pool and carve @s out of it, both under
 * one hold of the heap lock (chunk_publish()).  The block, the chunk and
 * (for a pool that charges) the span map's region are allocated under the
 * pool's memcg, the region excepted: the span map is shared, not the
 * user's to pay for.
 *
 * The span is carved before the lock is dropped: pages published idle
 * could be taken first by the scavenger, the shrinker or another CPU,
 * leaving the grower with nothing however often it grows.  A grow that
 * succeeds is an allocation that succeeds.
 */
static int heap_grow(struct goalloc_pool *pool, struct goalloc_span *s, int node, gfp_t gfp)
{
	bool thisnode = gfp & __GFP_THISNODE;
	struct goalloc_span_region *spare = NULL;
	gfp_t meta = goalloc_gfp_reclaim(gfp);
	struct goalloc_chunk *ch = NULL;
	unsigned long nr_pages = 0;
	struct mem_cgroup *old;
	unsigned int order = 0;
	struct page *page;
	bool fallback = false;

	old = goalloc_pool_charge_begin(pool, &meta);
	/* The memcg decides, not the OOM killer: past its limit the grow fails. */
	if (pool->policy.charge)
		meta |= __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	page = chunk_block(pool, s->npages, !s->cls, node, thisnode, meta, &order, &nr_pages,
			   &fallback);
	if (page) {
		ch = kzalloc(sizeof(*ch), meta);
		spare = kzalloc(sizeof(*spare), meta & ~__GFP_ACCOUNT);
	}
	goalloc_pool_charge_end(pool, old);
	if (!page)
		return -ENOMEM;
	if (!ch || !spare)
		goto fail;
	/* Its base is an object's address too: not a reference kmemleak should see. */
	kmemleak_no_scan(ch);
	ch->page = page;
	ch->pool = pool;
	ch->base = (unsigned long)page_address(page);
	ch->order = order;
	/* Cut to fit by chunk_block(): its pages go back one by one. */
	ch->split = nr_pages < (1UL << order);
	ch->nid = page_to_nid(page);
	ch->npages = nr_pages * PAGE_SIZE / GOALLOC_PAGE_SIZE;
	ch->nfree = ch->npages;
	ch->max_run = ch->npages;
	/* Free heap memory is poisoned; slots are unpoisoned as handed out. */
	goalloc_kasan_poison((void *)ch->base, nr_pages * PAGE_SIZE);
	if (chunk_publish(ch, s, &spare, meta & ~__GFP_ACCOUNT, fallback)) {
		goalloc_kasan_unpoison(page_address(page), nr_pages * PAGE_SIZE);
		goto fail;
	}
	kfree(spare);
	trace_chunk_grow(ch->base, ch->npages, ch->nid);
	/* The rest of the new pages is anyone's now: a test may take it here. */
	goalloc_hook(GOALLOC_HOOK_HEAP_GROWN, pool);
	/*
	 * The heap grew (Go starts a collection, and flushes the caches, when
	 * it has grown enough): a trim pass takes back what caches hold for
	 * nothing and scavenges free pages beyond the goal.
	 */
	if (pool->policy.trimmed)
		goalloc_heap_trim_soon();
	return 0;

fail:
	kfree(spare);
	kfree(ch);
	block_free(page, order, nr_pages);
	return -ENOMEM;
}

static bool pcache_alloc(struct goalloc_pool *pool, struct goalloc_span *s, unsigned int align,
			 int node);
static void pcache_flush_all(struct goalloc_pool *pool, struct list_head *victims);

/* Carve @s from room in a chunk of @node (NUMA_NO_NODE: any), if there is some. */
static bool heap_place(struct goalloc_pool *pool, struct goalloc_span *s, unsigned int align,
		       int node)
{
	struct goalloc_chunk *ch;
	unsigned long flags;
	unsigned int first;

	spin_lock_irqsave(&goalloc_heap.lock, flags);
	ch = heap_find(pool, s->npages, align, node, &first);
	if (ch)
		span_carve(s, ch, first);
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	return ch;
}

/* A span of @npages for @pool, not yet placed; NULL if its descriptor could not be had. */
static struct goalloc_span *pool_span_new(struct goalloc_pool *pool, unsigned int spc,
					  unsigned int npages, enum goalloc_span_state state,
					  gfp_t meta)
{
	struct goalloc_span *s;
	struct mem_cgroup *old;

	old = goalloc_pool_charge_begin(pool, &meta);
	s = goalloc_span_create(0, goalloc_spc_to_class(spc), npages, meta);
	goalloc_pool_charge_end(pool, old);
	if (!s)
		return NULL;
	s->spc = spc;
	goalloc_span_init_state(s, state);
	return s;
}

/* Place @s in room @pool has; Go's pageCache serves small runs of its CPU's node. */
static bool pool_place(struct goalloc_pool *pool, struct goalloc_span *s, unsigned int align,
		       int node)
{
	bool pcache = pool->pcache && s->npages <= GOALLOC_PCACHE_MAX_SPAN &&
		      align <= GOALLOC_PCACHE_PAGES;

	if (pcache && pcache_alloc(pool, s, align, node))
		return true;
	if (!pcache || node != numa_mem_id())
		return heap_place(pool, s, align, node);
	return false;
}

/* goalloc_pool_alloc_span_or() but for its event. */
static struct goalloc_span *pool_alloc_span(struct goalloc_pool *pool, unsigned int spc,
					    unsigned int npages, unsigned int fallback,
					    unsigned int align, int node,
					    enum goalloc_span_state state, gfp_t gfp)
{
	gfp_t meta = goalloc_gfp_reclaim(gfp);
	bool strict = gfp & __GFP_THISNODE;
	struct goalloc_span *s, *t;
	gfp_t light;

	if ((gfp & __GFP_NOFAIL) && !gfpflags_allow_blocking(gfp)) {
		/* The page allocator cannot honour it either (and would warn). */
		pr_warn_once("__GFP_NOFAIL without direct reclaim cannot be honoured: ignored\n");
		gfp &= ~__GFP_NOFAIL;
	}
	s = pool_span_new(pool, spc, npages, state, meta);
	if (!s)
		return NULL;
	if (node == NUMA_NO_NODE)
		node = numa_mem_id();
	if (pool_place(pool, s, align, node))
		return s;
	/*
	 * The room may be in other CPUs' windows: a small heap's windows can
	 * be most of its free pages.  Take them back once (their chunks stay)
	 * before the heap grows for want of room.
	 */
	if (pool->pcache) {
		pcache_flush_all(pool, NULL);
		if (pool_place(pool, s, align, node))
			return s;
	}
	/* Where the room is too scattered for @s, the smaller shape may fit it. */
	if (fallback && fallback < s->npages) {
		t = pool_span_new(pool, spc, fallback, state, meta);
		if (t && pool_place(pool, t, align, node)) {
			goalloc_span_destroy(s);
			if (pool->policy.trimmed)
				goalloc_count(GOALLOC_CTR_SHAPE_FALLBACKS, 1);
			return t;
		}
		if (t)
			goalloc_span_destroy(t);
	}
	/* A grow that succeeds carves the span: no retry, no race. */
	if (!strict) {
		/* The node's free pages, if it has them at hand. */
		light = (gfp | __GFP_THISNODE | __GFP_NOWARN | __GFP_NORETRY) &
			~(__GFP_DIRECT_RECLAIM | __GFP_NOFAIL);
		if (!heap_grow(pool, s, node, light))
			return s;
		if (heap_place(pool, s, align, NUMA_NO_NODE))
			return s;
	}
	for (;;) {
		if (!heap_grow(pool, s, node, gfp))
			return s;
		/* Only a block above order 1 can fail under __GFP_NOFAIL: try again. */
		if (!(gfp & __GFP_NOFAIL))
			break;
		memalloc_retry_wait(gfp);
	}
	goalloc_span_destroy(s);
	return NULL;
}

/**
 * goalloc_pool_alloc_span() - a new span over fresh heap pages of a pool
 * @pool: the pool whose chunks hold the span
 * @spc: span class; size class 0 means one object of @npages pages
 * @npages: heap pages, used when @spc is of size class 0
 * @align: alignment of the run, in heap pages (a power of two)
 * @node: NUMA node preferred for the pages, or NUMA_NO_NODE for this CPU's
 *	(numa_mem_id()); __GFP_THISNODE in @gfp makes it required
 * @state: the span's state when it becomes visible to lookups
 * @gfp: how to allocate; sleeps only where it allows
 *
 * Where the pages come from, in order (SLUB's order for a new slab, with
 * the heap's free room first): room in the node's chunks (this CPU's page
 * cache for a small span on its own node), after taking back every CPU's
 * window once; a new chunk of the node's free pages, taken without reclaim;
 * unless the node is required, room in any node's chunks; a new chunk from
 * the buddy allocator, which reclaims and falls back along the node's
 * zonelist as for kmalloc_node().  Room on another node comes before a
 * remote grow so that a full node does not grow the heap chunk by chunk
 * for spans it can place.
 *
 * Fails only when the buddy allocator (or the memory cgroup) refuses the
 * pages; never with __GFP_NOFAIL in a context that may sleep.
 *
 * Return: the span, registered in the span map, or NULL.
 */
struct goalloc_span *goalloc_pool_alloc_span(struct goalloc_pool *pool, unsigned int spc,
					     unsigned int npages, unsigned int align, int node,
					     enum goalloc_span_state state, gfp_t gfp)
{
	return goalloc_pool_alloc_span_or(pool, spc, npages, 0, align, node, state, gfp);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_alloc_span);

/**
 * goalloc_pool_alloc_span_or() - goalloc_pool_alloc_span(), or a smaller span
 *	where the pool has room for that one only
 * @pool: the pool whose chunks hold the span
 * @spc: span class; size class 0 means one object of @npages pages
 * @npages: heap pages of the span wanted (0: the class's own shape)
 * @fallback: heap pages of a smaller shape of the class, or 0
 * @align: alignment of the run, in heap pages (a power of two)
 * @node: NUMA node preferred, or NUMA_NO_NODE for this CPU's
 * @state: the span's state when it becomes visible to lookups
 * @gfp: how to allocate; sleeps only where it allows
 *
 * Where the pool has no run of @npages but one of @fallback, the span has
 * @fallback pages and the pool does not grow: free pages too scattered for
 * a span of the class's own shape grew the heap by a chunk at the peak of
 * the fsload trace (four free pages, none three in a row, for a 2,688-byte
 * class's span of three).
 *
 * Return: the span, registered in the span map, or NULL.
 */
struct goalloc_span *goalloc_pool_alloc_span_or(struct goalloc_pool *pool, unsigned int spc,
						unsigned int npages, unsigned int fallback,
						unsigned int align, int node,
						enum goalloc_span_state state, gfp_t gfp)
{
	struct goalloc_span *s = pool_alloc_span(pool, spc, npages, fallback, align, node,
						 state, gfp);

	if (s)
		trace_span_alloc(s->base, s->npages, s->cls, s->chunk->nid);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_alloc_span_or);

/**
 * goalloc_heap_alloc_span() - a new span over fresh pages of the kernel pool
 * @spc: span class; size class 0 means one object of @npages pages
 * @npages: heap pages, used when @spc is of size class 0
 * @align: alignment of the run, in heap pages (a power of two)
 * @node: NUMA node preferred, or NUMA_NO_NODE for this CPU's (required
 *	with __GFP_THISNODE; goalloc_pool_alloc_span())
 * @state: the span's state when it becomes visible to lookups
 * @gfp: how to allocate; sleeps only where it allows
 *
 * Return: the span, registered in the span map, or NULL.
 */
struct goalloc_span *goalloc_heap_alloc_span(unsigned int spc, unsigned int npages,
					     unsigned int align, int node,
					     enum goalloc_span_state state, gfp_t gfp)
{
	return goalloc_pool_alloc_span(&goalloc_heap.kernel, spc, npages, align, node,
				       state, gfp);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_alloc_span);

/**
 * goalloc_heap_short() - would the kernel pool grow to place a span?
 * @npages: heap pages the span needs
 *
 * A hint, read without the heap lock: the pool's free pages outside the
 * CPUs' windows plus those in this CPU's window are fewer than @npages.
 * It says nothing of runs (free pages may be too scattered for a span) nor
 * of other CPUs' windows (which goalloc_pool_alloc_span() takes back before
 * it grows); mcache asks it before a grow, to give back what it caches for
 * nothing first.
 *
 * Return: true if the pool looks too short of free pages for @npages.
 */
bool goalloc_heap_short(unsigned int npages)
{
	struct goalloc_pool *pool = &goalloc_heap.kernel;
	long free = (long)READ_ONCE(pool->pages_held) - (long)READ_ONCE(pool->pages_inuse);

	if (pool->pcache)
		/* A snapshot: the owner changes its window under the window's lock. */
		free += hweight64(data_race(READ_ONCE(raw_cpu_ptr(pool->pcache)->free)));
	return free < (long)npages;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_short);

/**
 * goalloc_pool_init() - set up an empty pool
 * @pool: the pool
 * @policy: how it grows, whom it charges and what idle memory it keeps;
 *	copied (a memcg in it stays referenced by the caller for the pool's
 *	life)
 *
 * The pool is given back with goalloc_pool_trim(@pool, 0) once its last
 * span is freed.
 */
void goalloc_pool_init(struct goalloc_pool *pool, const struct goalloc_pool_policy *policy)
{
	INIT_LIST_HEAD(&pool->chunks);
	pool->policy = *policy;
	pool->nchunks = 0;
	pool->pages_held = 0;
	pool->pages_inuse = 0;
	pool->pages_idle = 0;
	pool->pcache = NULL;
	INIT_LIST_HEAD(&pool->pcache_node);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_init);

/* Take an idle chunk out of its pool and the heap; the caller frees it. */
static void chunk_unlink(struct goalloc_chunk *ch, struct list_head *victims)
{
	struct goalloc_span_region *a = region_of(ch->base);

	lockdep_assert_held(&goalloc_heap.lock);
	list_move(&ch->list, victims);
	ch->pool->nchunks--;
	goalloc_heap.nchunks--;
	pool_add_held(ch->pool, -(long)chunk_held(ch));
	pool_add_idle(ch->pool, -(long)chunk_held(ch));
	goalloc_heap.chunks_released++;
	if (!--a->nchunks) {
		/* Lookups still inside the region's array finish before it is freed. */
		RCU_INIT_POINTER(span_map()->region[goalloc_map_offset(ch->base) >>
						    GOALLOC_CHUNK_SHIFT], NULL);
		kfree_rcu(a, rcu);
	}
}

/* PAGE_SIZE pages of one heap page. */
#define HEAP_PAGE_PAGES	(GOALLOC_PAGE_SIZE / PAGE_SIZE)

/* Give @n heap pages from @page, of a split chunk, back to the buddy allocator. */
static void pages_free_run(struct page *page, unsigned int n)
{
	unsigned long i;

	/* The page allocator tracks its own poison from here on. */
	goalloc_kasan_unpoison(page_address(page), (size_t)n * GOALLOC_PAGE_SIZE);
	for (i = 0; i < (unsigned long)n * HEAP_PAGE_PAGES; i++)
		__free_page(page + i);
}

/*
 * Free what is left of an unlinked chunk that was split to scavenge part of
 * it: with no span in it, its set bits are exactly the scavenged pages.
 * Returns PAGE_SIZE pages freed.
 */
static unsigned long chunk_free_unscavenged(struct goalloc_chunk *ch)
{
	unsigned int start = 0, end;
	unsigned long freed = 0;

	while ((start = find_next_zero_bit(ch->used, ch->npages, start)) < ch->npages) {
		end = find_next_bit(ch->used, ch->npages, start);
		pages_free_run(ch->page + (unsigned long)start * HEAP_PAGE_PAGES, end - start);
		freed += (unsigned long)(end - start) * HEAP_PAGE_PAGES;
		start = end;
	}
	return freed;
}

/* Give unlinked chunks back to the buddy allocator; returns PAGE_SIZE pages. */
static unsigned long chunks_free(struct list_head *victims)
{
	struct goalloc_chunk *ch, *tmp;
	unsigned long released = 0;

	list_for_each_entry_safe(ch, tmp, victims, list) {
		unsigned long nr = (unsigned long)ch->npages * (GOALLOC_PAGE_SIZE / PAGE_SIZE);

		if (ch->split) {
			trace_chunk_release(ch->base, ch->npages, ch->nid);
			/* Scavenged in part: the pages left go back one by one. */
			released += chunk_free_unscavenged(ch);
			kfree(ch);
			continue;
		}
		released += nr;
		trace_chunk_release(ch->base, ch->npages, ch->nid);
		/* The page allocator tracks its own poison from here on. */
		goalloc_kasan_unpoison((void *)ch->base, nr * PAGE_SIZE);
		block_free(ch->page, ch->order, nr);
		kfree(ch);
	}
	return released;
}

/*
 * May @pool keep @ch, just gone idle (and counted in the pool's idle
 * pages)?  Its policy says: up to its retention goal, or one small chunk.
 * Heap lock held.
 */
static bool pool_keeps_idle(const struct goalloc_pool *pool, const struct goalloc_chunk *ch)
{
	lockdep_assert_held(&goalloc_heap.lock);
	if (pool->policy.retain_percent)
		return pool->pages_idle <= goalloc_pool_retain_goal(pool);
	/* @ch is the pool's only idle chunk, and a small one. */
	return pool->pages_idle == chunk_held(ch) && ch->npages <= pool->policy.keep_chunk_pages;
}

/* Give unlinked chunks back and count them; for a pool the trim pass owns. */
static void chunks_release(struct goalloc_pool *pool, struct list_head *victims)
{
	unsigned long n;

	if (list_empty(victims))
		return;
	n = chunks_free(victims);
	if (pool->policy.trimmed)
		goalloc_count(GOALLOC_CTR_RELEASED_PAGES, n);
}

/*
 * Pools with page caches, for CPU hotplug; and the CPU hotplug state that
 * flushes a dead CPU's caches.
 */
static LIST_HEAD(pcache_pools);
static DEFINE_MUTEX(pcache_pools_mutex);
static int pcache_cpuhp_state = -1;

/* Bits of the heap pages of a window at which a run aligned to 2^i may start. */
static const u64 pcache_align_mask[] = {
	~0ULL, 0x5555555555555555ULL, 0x1111111111111111ULL, 0x0101010101010101ULL,
	0x0001000100010001ULL, 0x0000000100000001ULL, 0x0000000000000001ULL,
};

static_assert(ARRAY_SIZE(pcache_align_mask) == ilog2(GOALLOC_PCACHE_PAGES) + 1);
/* A window is one word of its chunk's bitmap. */
static_assert(GOALLOC_PCACHE_PAGES == BITS_PER_LONG);

/*
 * The first page of a run of @npages set bits of @free starting at a
 * multiple of @align, or GOALLOC_PCACHE_PAGES if there is none (Go's
 * findBitRange64: each step halves what is left to check).
 */
static unsigned int pcache_find(u64 free, unsigned int npages, unsigned int align)
{
	unsigned int p = npages - 1, k = 1;

	while (p) {
		if (p <= k) {
			free &= free >> p;
			break;
		}
		free &= free >> k;
		p -= k;
		k *= 2;
	}
	free &= pcache_align_mask[ilog2(align)];
	return free ? __ffs64(free) : GOALLOC_PCACHE_PAGES;
}

/* Carve @s (its npages set) out of @pc's window, if it has room.  @pc->lock held. */
static bool pcache_carve(struct goalloc_pcache *pc, struct goalloc_span *s, unsigned int align)
{
	unsigned int idx;

	lockdep_assert_held(&pc->lock);
	if (!pc->free)
		return false;
	idx = pcache_find(pc->free, s->npages, align);
	if (idx >= GOALLOC_PCACHE_PAGES)
		return false;
	pc->free &= ~(GENMASK_ULL(s->npages - 1, 0) << idx);
	s->chunk = pc->chunk;
	s->nid = pc->chunk->nid;
	s->base = pc->base + (unsigned long)idx * GOALLOC_PAGE_SIZE;
	map_span_in(pc->region, s, s);
	return true;
}

/*
 * Give @pc's window back to its chunk.  A chunk left idle beyond what its
 * pool keeps goes on @victims for the caller to free after dropping the
 * locks; with no @victims it stays, for a refill about to look for room
 * (the trim pass releases it if it stays idle).  @pc->lock and the heap
 * lock held.
 */
static void pcache_flush_locked(struct goalloc_pool *pool, struct goalloc_pcache *pc,
				struct list_head *victims)
{
	struct goalloc_chunk *ch = pc->chunk;
	unsigned int n = hweight64(pc->free);

	lockdep_assert_held(&pc->lock);
	lockdep_assert_held(&goalloc_heap.lock);
	if (!ch)
		return;
	ch->used[pc->first / BITS_PER_LONG] &= ~(unsigned long)pc->free;
	ch->nfree += n;
	ch->windows--;
	if (n)
		chunk_summarise(ch);
	pool_add_inuse(pool, -(long)n);
	pc->chunk = NULL;
	pc->region = NULL;
	pc->free = 0;
	if (chunk_idle(ch)) {
		pool_add_idle(pool, chunk_held(ch));
		if (victims && !pool_keeps_idle(pool, ch))
			chunk_unlink(ch, victims);
	}
}

/*
 * Make the block of @ch holding heap page @at @pc's window: every free page
 * of it.  @pc has no window.  @pc->lock and the heap lock held.
 */
static void pcache_take(struct goalloc_pool *pool, struct goalloc_pcache *pc,
			struct goalloc_chunk *ch, unsigned int at)
{
	unsigned int first = round_down(at, GOALLOC_PCACHE_PAGES);
	unsigned int n = min_t(unsigned int, GOALLOC_PCACHE_PAGES, ch->npages - first);
	u64 free = ~(u64)ch->used[first / BITS_PER_LONG] & GENMASK_ULL(n - 1, 0);

	lockdep_assert_held(&pc->lock);
	lockdep_assert_held(&goalloc_heap.lock);
	if (chunk_idle(ch))
		pool_add_idle(pool, -(long)chunk_held(ch));
	ch->used[first / BITS_PER_LONG] |= (unsigned long)free;
	n = hweight64(free);
	ch->nfree -= n;
	ch->windows++;
	chunk_summarise(ch);
	pool_add_inuse(pool, n);
	pc->chunk = ch;
	pc->region = region_of(ch->base);
	pc->first = first;
	pc->base = ch->base + (unsigned long)first * GOALLOC_PAGE_SIZE;
	pc->free = free;
}

/*
 * Carve @s (of at most GOALLOC_PCACHE_MAX_SPAN pages) out of this CPU's
 * page cache of @pool, refilling it first-fit from the pool's chunks of
 * @node if it has no room.  A window holds pages of its CPU's node only: a
 * span for another node is not the cache's.  False if no chunk of @node
 * has room, or @node is not this CPU's: the heap must look itself.
 */
static bool pcache_alloc(struct goalloc_pool *pool, struct goalloc_span *s, unsigned int align,
			 int node)
{
	/* Any CPU's cache will do, under its lock: this one's, mostly. */
	struct goalloc_pcache *pc = raw_cpu_ptr(pool->pcache);
	struct goalloc_chunk *ch;
	unsigned long flags;
	unsigned int first;
	bool ok = true;

	spin_lock_irqsave(&pc->lock, flags);
	/* Moved to another node's CPU since the caller looked: not this cache. */
	if (unlikely(node != numa_mem_id() || (pc->chunk && pc->chunk->nid != node))) {
		ok = false;
		goto out;
	}
	if (likely(pcache_carve(pc, s, align)))
		goto out;
	spin_lock(&goalloc_heap.lock);
	/*
	 * The window's pages may make the run: back to the chunk first, which
	 * stays even if that leaves it idle (releasing it and then growing
	 * the heap for want of room would trade a chunk for a chunk).
	 */
	pcache_flush_locked(pool, pc, NULL);
	ch = heap_find(pool, s->npages, align, node, &first);
	if (!ch) {
		ok = false;
	} else if (round_down(first, GOALLOC_PCACHE_PAGES) !=
		   round_down(first + s->npages - 1, GOALLOC_PCACHE_PAGES)) {
		/* The run straddles two windows: carve it from the chunk. */
		span_carve(s, ch, first);
	} else {
		pcache_take(pool, pc, ch, first);
		ok = pcache_carve(pc, s, align);
		WARN_ON_ONCE(!ok);
	}
	spin_unlock(&goalloc_heap.lock);
	spin_unlock_irqrestore(&pc->lock, flags);
	/* A chunk the flush left idle over the goal: the trim pass's. */
	if (pool->policy.trimmed &&
	    READ_ONCE(pool->pages_idle) > goalloc_pool_retain_goal(pool))
		goalloc_heap_trim_soon();
	return ok;
out:
	spin_unlock_irqrestore(&pc->lock, flags);
	return ok;
}

/*
 * Give @s's pages back into this CPU's page cache of its pool, if they lie
 * in its window.  The span is dead and on no list.  False if the pages are
 * the heap's to take back.
 */
static bool pcache_free(struct goalloc_pool *pool, struct goalloc_span *s)
{
	struct goalloc_pcache *pc = raw_cpu_ptr(pool->pcache);
	unsigned long flags, off;
	bool ok;

	spin_lock_irqsave(&pc->lock, flags);
	off = (s->base - pc->base) / GOALLOC_PAGE_SIZE;
	/* A window pins its chunk: the same chunk pointer is the same chunk. */
	ok = pc->chunk == s->chunk && s->base >= pc->base &&
	     off + s->npages <= GOALLOC_PCACHE_PAGES;
	if (ok) {
		map_span_in(pc->region, s, NULL);
		pc->free |= GENMASK_ULL(s->npages - 1, 0) << off;
	}
	spin_unlock_irqrestore(&pc->lock, flags);
	return ok;
}

/*
 * Flush one CPU's page cache of @pool back to its chunk; a chunk to
 * release goes on @victims.
 */
static void pcache_flush_cpu(struct goalloc_pool *pool, unsigned int cpu,
			     struct list_head *victims)
{
	struct goalloc_pcache *pc = per_cpu_ptr(pool->pcache, cpu);
	unsigned long flags;

	spin_lock_irqsave(&pc->lock, flags);
	if (pc->chunk) {
		spin_lock(&goalloc_heap.lock);
		pcache_flush_locked(pool, pc, victims);
		spin_unlock(&goalloc_heap.lock);
	}
	spin_unlock_irqrestore(&pc->lock, flags);
}

/* Flush every CPU's page cache of @pool; chunks to release go on @victims. */
static void pcache_flush_all(struct goalloc_pool *pool, struct list_head *victims)
{
	unsigned int cpu;

	if (!pool->pcache)
		return;
	for_each_possible_cpu(cpu)
		pcache_flush_cpu(pool, cpu, victims);
}

/**
 * goalloc_pool_pcache_flush() - give every CPU's cached pages of a pool back
 * @pool: the pool
 *
 * The pages go back to their chunks, where the trim pass and the shrinker
 * can release them.  Any context that may take the heap lock; a CPU
 * carving a span meanwhile may take a window again.
 */
void goalloc_pool_pcache_flush(struct goalloc_pool *pool)
{
	LIST_HEAD(victims);

	pcache_flush_all(pool, &victims);
	chunks_release(pool, &victims);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_pcache_flush);

/**
 * goalloc_pool_pcache_pages() - heap pages in a pool's page caches
 * @pool: the pool
 *
 * They count in the pool's pages in use; a snapshot, read without the
 * caches' locks.
 *
 * Return: the number of free heap pages the CPUs' caches hold.
 */
unsigned long goalloc_pool_pcache_pages(const struct goalloc_pool *pool)
{
	unsigned long n = 0;
	unsigned int cpu;

	if (!pool->pcache)
		return 0;
	for_each_possible_cpu(cpu) {
		/* A snapshot: the owners change their windows under their locks. */
		n += hweight64(data_race(READ_ONCE(per_cpu_ptr(pool->pcache, cpu)->free)));
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_pcache_pages);

/**
 * goalloc_pool_node_usage() - a pool's chunks on one NUMA node
 * @pool: the pool
 * @nid: the node
 * @u: filled in: chunks, heap pages they hold (scavenged ones not) and
 *	heap pages free in them (CPUs' windows count as used)
 */
void goalloc_pool_node_usage(struct goalloc_pool *pool, int nid, struct goalloc_node_usage *u)
{
	struct goalloc_chunk *ch;
	unsigned long flags;

	memset(u, 0, sizeof(*u));
	spin_lock_irqsave(&goalloc_heap.lock, flags);
	list_for_each_entry(ch, &pool->chunks, list) {
		if (ch->nid != nid)
			continue;
		u->chunks++;
		u->held += chunk_held(ch);
		u->free += ch->nfree;
	}
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_node_usage);

/*
 * Mark in @map the pages of @ch free in a CPU's window of @pool.  The
 * windows' chunks and places change under the heap lock, held; their free
 * bits under each cache's own lock, which is never taken under the heap's:
 * those are read as a snapshot (a span being carved from a window may show
 * as neither free nor mapped yet).
 */
static void chunk_map_windows(const struct goalloc_pool *pool, const struct goalloc_chunk *ch,
			      struct goalloc_chunk_map *map)
{
	unsigned int cpu, i;

	lockdep_assert_held(&goalloc_heap.lock);
	if (!pool->pcache || !ch->windows)
		return;
	for_each_possible_cpu(cpu) {
		struct goalloc_pcache *pc = per_cpu_ptr(pool->pcache, cpu);
		u64 free;

		if (pc->chunk != ch)
			continue;
		/* A snapshot: the owner carves and frees under its own lock. */
		free = data_race(READ_ONCE(pc->free));
		for (i = 0; i < GOALLOC_PCACHE_PAGES && pc->first + i < ch->npages; i++) {
			if ((free & BIT_ULL(i)) && map->page[pc->first + i] == GOALLOC_PAGE_SCAV)
				map->page[pc->first + i] = GOALLOC_PAGE_WINDOW;
		}
	}
}

/**
 * goalloc_pool_chunk_map() - what each heap page of one of a pool's chunks holds
 * @pool: the pool
 * @idx: the chunk's position in the pool's list (oldest first)
 * @map: filled in, under the heap lock: each page free, in a CPU's window,
 *	scavenged, or in a span (its size class; large objects and kernel
 *	arenas marked as such)
 *
 * For the debugfs chunk map (mstats.c): one call per chunk, so the heap
 * lock is held for one walk of the list and one chunk's pages at a time,
 * and chunks that come or go between two calls may be missed or seen
 * twice.  Process context.
 *
 * Return: false if the pool has no chunk @idx.
 */
bool goalloc_pool_chunk_map(struct goalloc_pool *pool, unsigned long idx,
			    struct goalloc_chunk_map *map)
{
	struct goalloc_span_region *a;
	struct goalloc_chunk *ch;
	unsigned int i, first;
	bool found = false;

	spin_lock_irq(&goalloc_heap.lock);
	list_for_each_entry(ch, &pool->chunks, list) {
		if (idx--)
			continue;
		found = true;
		break;
	}
	if (!found)
		goto out;
	map->nid = ch->nid;
	map->order = ch->order;
	map->npages = ch->npages;
	map->nfree = ch->nfree;
	map->nscav = ch->nscav;
	map->windows = ch->windows;
	a = region_of(ch->base);
	first = (goalloc_map_offset(ch->base) >> GOALLOC_PAGE_SHIFT) & (GOALLOC_CHUNK_PAGES - 1);
	for (i = 0; i < ch->npages; i++) {
		/*
		 * Spans are mapped under the heap lock, or under a window's
		 * lock for a window's pages: a span read here stays readable
		 * (freed after a grace period; holding the heap lock is an RCU
		 * read-side section, on PREEMPT_RT too), whatever its state.
		 */
		struct goalloc_span *s = READ_ONCE(a->spans[first + i]);

		if (!test_bit(i, ch->used))
			map->page[i] = GOALLOC_PAGE_FREE;
		else if (!s)
			map->page[i] = GOALLOC_PAGE_SCAV;	/* or a window's: below */
		else if (READ_ONCE(s->state) == GOALLOC_SPAN_ARENA)
			map->page[i] = GOALLOC_PAGE_ARENA;
		else
			map->page[i] = s->cls;
	}
	chunk_map_windows(pool, ch, map);
out:
	spin_unlock_irq(&goalloc_heap.lock);
	return found;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_chunk_map);

/**
 * goalloc_heap_pcache_pages() - heap pages in the page caches of every pool
 *
 * goalloc_heap.pages_inuse less this is the heap's pages in spans.  A
 * snapshot; process context.
 *
 * Return: the number of free heap pages the CPUs' caches hold.
 */
unsigned long goalloc_heap_pcache_pages(void)
{
	struct goalloc_pool *pool;
	unsigned long n = 0;

	mutex_lock(&pcache_pools_mutex);
	list_for_each_entry(pool, &pcache_pools, pcache_node)
		n += goalloc_pool_pcache_pages(pool);
	mutex_unlock(&pcache_pools_mutex);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_pcache_pages);

/* CPU hotplug: a dead CPU's page caches go back to their chunks. */
static int pcache_cpu_dead(unsigned int cpu)
{
	struct goalloc_pool *pool;

	mutex_lock(&pcache_pools_mutex);
	list_for_each_entry(pool, &pcache_pools, pcache_node) {
		LIST_HEAD(victims);

		pcache_flush_cpu(pool, cpu, &victims);
		chunks_release(pool, &victims);
	}
	mutex_unlock(&pcache_pools_mutex);
	return 0;
}

/**
 * goalloc_pool_pcache_init() - give a pool per-CPU page caches
 * @pool: an empty pool, neither charging a memcg nor exact-fit
 *
 * Spans of up to GOALLOC_PCACHE_MAX_SPAN heap pages are then carved from,
 * and freed into, a window of free pages each CPU holds (struct
 * goalloc_pcache), without the heap lock.  Process context.
 *
 * Return: 0, -EINVAL for a pool whose policy rules them out, or -ENOMEM.
 */
int goalloc_pool_pcache_init(struct goalloc_pool *pool)
{
	struct goalloc_pcache __percpu *pcache;
	unsigned int cpu;

	if (pool->policy.charge || pool->policy.exact_fit || pool->pcache)
		return -EINVAL;
	pcache = alloc_percpu(struct goalloc_pcache);
	if (!pcache)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(pcache, cpu)->lock);
	mutex_lock(&pcache_pools_mutex);
	pool->pcache = pcache;
	list_add(&pool->pcache_node, &pcache_pools);
	mutex_unlock(&pcache_pools_mutex);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_pcache_init);

/**
 * goalloc_pool_pcache_exit() - flush and free a pool's page caches
 * @pool: the pool; no span of it may be made or freed any more
 *
 * Process context.
 */
void goalloc_pool_pcache_exit(struct goalloc_pool *pool)
{
	if (!pool->pcache)
		return;
	mutex_lock(&pcache_pools_mutex);
	list_del(&pool->pcache_node);
	mutex_unlock(&pcache_pools_mutex);
	goalloc_pool_pcache_flush(pool);
	free_percpu(pool->pcache);
	pool->pcache = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_pcache_exit);

/**
 * goalloc_heap_free_span() - give a dead span's pages back to the heap
 * @s: the span, in state GOALLOC_SPAN_DEAD and on no list
 *
 * The span leaves the span map at once and its memory is freed after an
 * RCU grace period.  A chunk left idle beyond what its pool keeps
 * (struct goalloc_pool_policy) goes back to the buddy allocator at once,
 * uncharging a memory cgroup if the pool charged one: a burst that grew
 * the heap must not leave it grown for a whole trim delay, and the goal is
 * the hysteresis.  May be called from any context.
 */
void goalloc_heap_free_span(struct goalloc_span *s)
{
	struct goalloc_chunk *ch = s->chunk;
	struct goalloc_pool *pool = ch->pool;
	unsigned int first = (s->base - ch->base) / GOALLOC_PAGE_SIZE;
	unsigned long flags;
	LIST_HEAD(victims);
	bool idle;

	/*
	 * Lock-free lookups (goalloc_span_of()) may still find @s until its
	 * entries are cleared below, and refuse a free into it only for its
	 * state: DEAD, as goalloc_span_refusal() says (an arena's span is
	 * refused in any state).  The span map model's KILL_LATE variant
	 * (kmod/models/span_map.pml) shows a lookup taking a span that no
	 * longer holds the page when the kill comes after.  Every caller
	 * kills the span first; one that did not is goalloc's bug.
	 */
	WARN_ON_ONCE(READ_ONCE(s->state) != GOALLOC_SPAN_DEAD);
	trace_span_free(s->base, s->npages, s->cls, ch->nid);
	goalloc_kasan_poison((void *)s->base, (size_t)s->npages * GOALLOC_PAGE_SIZE);
	if (pool->pcache && s->npages <= GOALLOC_PCACHE_MAX_SPAN && pcache_free(pool, s)) {
		goalloc_span_free_rcu(s);
		return;
	}
	spin_lock_irqsave(&goalloc_heap.lock, flags);
	map_span(s, NULL);
	bitmap_clear(ch->used, first, s->npages);
	ch->nfree += s->npages;
	/* The freed run joins its neighbours: the longest is it or as before. */
	ch->max_run = max_t(unsigned int, ch->max_run, chunk_run_at(ch, first));
	pool_add_inuse(pool, -(long)s->npages);
	idle = chunk_idle(ch);
	if (idle) {
		pool_add_idle(pool, chunk_held(ch));
		if (!pool_keeps_idle(pool, ch))
			chunk_unlink(ch, &victims);
	}
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	goalloc_span_free_rcu(s);
	if (!list_empty(&victims)) {
		chunks_release(pool, &victims);
	} else if (pool->policy.trimmed &&
		   READ_ONCE(pool->pages_held) - READ_ONCE(pool->pages_inuse) >
		   goalloc_pool_retain_goal(pool)) {
		/*
		 * Free pages, in idle chunks or between spans, over the goal:
		 * a pass trims and scavenges them.  mcentral asks for its own
		 * kept spans when it keeps them.
		 */
		goalloc_heap_trim_soon();
	}
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_free_span);

/**
 * goalloc_heap_put_span() - kill a published span and give its pages back
 * @s: the span, on no list, that no one will allocate from or free into
 *	any more; lookups that still find it see GOALLOC_SPAN_DEAD and refuse
 *	frees into it
 *
 * The teardown of a span that an engine above mcentral owns outright (a
 * kernel or user arena's).  Any context.
 */
void goalloc_heap_put_span(struct goalloc_span *s)
{
	goalloc_span_kill(s);
	goalloc_heap_free_span(s);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_put_span);

/**
 * goalloc_pool_retain_goal() - idle heap pages a pool keeps
 * @pool: the pool
 *
 * retain_percent of the pool's pages in use, for a pool whose policy sets
 * it (the kernel's: the module parameter); else the one small chunk it
 * keeps.  Read without the heap lock, the figure is a snapshot.
 *
 * Return: the goal, in heap pages.
 */
unsigned long goalloc_pool_retain_goal(const struct goalloc_pool *pool)
{
	const unsigned int *pct = pool->policy.retain_percent;

	if (!pct)
		return pool->policy.keep_chunk_pages;
	return READ_ONCE(pool->pages_inuse) * READ_ONCE(*pct) / 100;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_retain_goal);

/**
 * goalloc_heap_retain_goal() - idle pages the kernel pool keeps
 *
 * Return: goalloc_pool_retain_goal() of the kernel pool, in heap pages.
 */
unsigned long goalloc_heap_retain_goal(void)
{
	return goalloc_pool_retain_goal(&goalloc_heap.kernel);
}

/**
 * goalloc_pool_trim() - return a pool's idle chunks to the buddy allocator
 * @pool: the pool
 * @keep_pages: heap pages of idle chunks to keep: the retention goal for a
 *	trim pass, 0 under memory pressure or when the pool's owner is done
 *
 * A pool the trim pass owns (struct goalloc_pool_policy, @trimmed) counts
 * what it releases in GOALLOC_CTR_RELEASED_PAGES.
 *
 * Return: the number of PAGE_SIZE pages released.
 */
unsigned long goalloc_pool_trim(struct goalloc_pool *pool, unsigned long keep_pages)
{
	struct goalloc_chunk *ch, *tmp;
	unsigned long flags, n;
	LIST_HEAD(victims);

	/* The CPUs' cached pages first: they may be all a chunk still has. */
	pcache_flush_all(pool, &victims);
	spin_lock_irqsave(&goalloc_heap.lock, flags);
	list_for_each_entry_safe(ch, tmp, &pool->chunks, list) {
		if (pool->pages_idle <= keep_pages)
			break;
		if (chunk_idle(ch))
			chunk_unlink(ch, &victims);
	}
	/* Steps start again from what the pool holds now. */
	pool->pages_peak = pool->pages_held;
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	n = chunks_free(&victims);
	if (pool->policy.trimmed)
		goalloc_count(GOALLOC_CTR_RELEASED_PAGES, n);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_trim);

/**
 * goalloc_heap_release() - return the kernel pool's idle chunks to the buddy
 * allocator
 * @keep_pages: heap pages of idle chunks to keep: goalloc_heap_retain_goal()
 *	for a trim pass, 0 under memory pressure
 *
 * Counted in GOALLOC_CTR_RELEASED_PAGES.
 *
 * Return: the number of PAGE_SIZE pages released.
 */
unsigned long goalloc_heap_release(unsigned long keep_pages)
{
	return goalloc_pool_trim(&goalloc_heap.kernel, keep_pages);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_release);

/* Runs of free pages one hold of the heap lock scavenges at most. */
#define SCAVENGE_BATCH	16

/* A run of scavenged heap pages, to free once the heap lock is dropped. */
struct scavenge_run {
	struct page *page;
	unsigned int n;
};

/*
 * Take free runs of @ch out of every span's reach, as scavenged, until its
 * pool's free pages are down to @keep_pages or @run holds SCAVENGE_BATCH
 * runs.  The block is split into order-0 pages the first time.  Heap lock
 * held.  Returns the number of runs in @run.
 */
static unsigned int chunk_scavenge(struct goalloc_chunk *ch, unsigned long keep_pages,
				   struct scavenge_run *run, unsigned int nrun)
{
	struct goalloc_pool *pool = ch->pool;
	unsigned int start = 0, end;
	unsigned long excess;

	lockdep_assert_held(&goalloc_heap.lock);
	while (nrun < SCAVENGE_BATCH) {
		excess = pool->pages_held - pool->pages_inuse;
		if (excess <= keep_pages)
			break;
		start = find_next_zero_bit(ch->used, ch->npages, start);
		if (start >= ch->npages)
			break;
		end = find_next_bit(ch->used, ch->npages, start);
		end = min_t(unsigned long, end, start + excess - keep_pages);
		if (!ch->split) {
			split_page(ch->page, ch->order);
			ch->split = true;
		}
		bitmap_set(ch->used, start, end - start);
		ch->nfree -= end - start;
		ch->nscav += end - start;
		pool_add_held(pool, -(long)(end - start));
		run[nrun].page = ch->page + (unsigned long)start * HEAP_PAGE_PAGES;
		run[nrun++].n = end - start;
		start = end;
	}
	chunk_summarise(ch);
	return nrun;
}

/**
 * goalloc_pool_scavenge() - give free heap pages between spans back to the buddy
 * allocator
 * @pool: the pool; not an exact-fit one (each of its chunks holds one span
 *	that fills it: nothing is done)
 * @keep_pages: free heap pages to keep, idle chunks' included: the
 *	retention goal for a trim pass, 0 under memory pressure
 *
 * Go's scavenger releases free pages of its arenas, not only whole free
 * arenas; goalloc_pool_trim() releases idle chunks only, so a chunk holding
 * one span would keep all its other pages.  This releases free runs inside
 * chunks that hold spans, newest chunk first (spans are placed first-fit
 * from the oldest), until the pool's free pages are down to @keep_pages
 * (chunk_scavenge()).  A scavenged page stays marked used, so no span is
 * placed on it again, and counts as held no more; what is left of the
 * chunk goes back page by page when it is released.  The span map needs no
 * change: free pages have no span in it.  A pool the trim pass owns counts
 * what it releases in GOALLOC_CTR_RELEASED_PAGES.
 *
 * Return: the number of PAGE_SIZE pages released.
 */
unsigned long goalloc_pool_scavenge(struct goalloc_pool *pool, unsigned long keep_pages)
{
	struct scavenge_run run[SCAVENGE_BATCH];
	unsigned long flags, released = 0;
	struct goalloc_chunk *ch;
	unsigned int nrun, i;

	if (pool->policy.exact_fit)
		return 0;
	do {
		nrun = 0;
		spin_lock_irqsave(&goalloc_heap.lock, flags);
		list_for_each_entry_reverse(ch, &pool->chunks, list) {
			if (chunk_idle(ch) || !ch->nfree)
				continue;
			nrun = chunk_scavenge(ch, keep_pages, run, nrun);
			if (nrun == SCAVENGE_BATCH ||
			    pool->pages_held - pool->pages_inuse <= keep_pages)
				break;
		}
		spin_unlock_irqrestore(&goalloc_heap.lock, flags);
		/*
		 * The runs are out of every span's reach, and out of their
		 * chunk's own release (scavenged bits stay set): they are ours
		 * to free, even if the chunk goes meanwhile.
		 */
		for (i = 0; i < nrun; i++) {
			pages_free_run(run[i].page, run[i].n);
			released += (unsigned long)run[i].n * HEAP_PAGE_PAGES;
		}
	} while (nrun == SCAVENGE_BATCH);
	if (pool->policy.trimmed)
		goalloc_count(GOALLOC_CTR_RELEASED_PAGES, released);
	return released;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_pool_scavenge);

/**
 * goalloc_heap_scavenge() - give the kernel pool's free pages between spans back
 * @keep_pages: free heap pages to keep, idle chunks' included
 *
 * Return: the number of PAGE_SIZE pages released (goalloc_pool_scavenge()).
 */
unsigned long goalloc_heap_scavenge(unsigned long keep_pages)
{
	return goalloc_pool_scavenge(&goalloc_heap.kernel, keep_pages);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_scavenge);

/**
 * goalloc_heap_trim_start() - install the trim pass and let it be queued
 * @pass: the pass, run from system_unbound_wq; it should give idle memory
 *	beyond goalloc_heap_retain_goal() back
 *
 * Called once, at load, by the layer that owns the pass (mgcscavenge.c).
 */
void goalloc_heap_trim_start(work_func_t pass)
{
	INIT_DELAYED_WORK(&goalloc_heap_trim.work, pass);
	/* [T1]: pairs with the smp_load_acquire() in goalloc_heap_trim_soon(). */
	smp_store_release(&goalloc_heap_trim.enabled, true);
}

/**
 * goalloc_heap_trim_flush() - run the trim pass now and wait for it
 *
 * Also waits for a pass already running: it may hold spans it is releasing.
 * Does nothing when no pass is installed.  Process context.
 */
void goalloc_heap_trim_flush(void)
{
	/* [T1]: pairs with the smp_store_release() in goalloc_heap_trim_start(). */
	if (!smp_load_acquire(&goalloc_heap_trim.enabled))
		return;
	mod_delayed_work(system_unbound_wq, &goalloc_heap_trim.work, 0);
	flush_delayed_work(&goalloc_heap_trim.work);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_heap_trim_flush);

/**
 * goalloc_heap_trim_stop() - queue no trim pass any more, and cancel a pending one
 *
 * At unload, before the caches are drained: requests made by the drain are
 * dropped, and the heap's and mcentral's exits release what is left.
 * Waits for a pass already running.
 */
void goalloc_heap_trim_stop(void)
{
	if (!READ_ONCE(goalloc_heap_trim.enabled))
		return;
	WRITE_ONCE(goalloc_heap_trim.enabled, false);
	cancel_delayed_work_sync(&goalloc_heap_trim.work);
}

/*
 * Replace the region table by one of @nregions entries; with @grow_only,
 * only if that is larger than the current one.  Fails with -EBUSY if a
 * chunk lies at or above @nregions.
 */
static int span_map_replace(unsigned long nregions, gfp_t gfp, bool grow_only)
{
	struct goalloc_span_map *map, *old;
	unsigned long flags, i;

	map = kvzalloc(struct_size(map, region, nregions), gfp);
	if (!map)
		return -ENOMEM;
	map->nregions = nregions;
	spin_lock_irqsave(&goalloc_heap.lock, flags);
	old = span_map();
	if (grow_only && old->nregions >= nregions) {
		/* Another grow got there first. */
		spin_unlock_irqrestore(&goalloc_heap.lock, flags);
		kvfree(map);
		return 0;
	}
	for (i = nregions; i < old->nregions; i++) {
		if (rcu_access_pointer(old->region[i])) {
			spin_unlock_irqrestore(&goalloc_heap.lock, flags);
			kvfree(map);
			return -EBUSY;
		}
	}
	for (i = 0; i < min(nregions, old->nregions); i++)
		RCU_INIT_POINTER(map->region[i],
				 rcu_dereference_protected(old->region[i],
							   lockdep_is_held(&goalloc_heap.lock)));
	/*
	 * [M1] The copied entries before the pointer: pairs with the
	 * rcu_dereference_check() of the table in goalloc_span_of().
	 */
	rcu_assign_pointer(goalloc_span_map, map);
	if (old != &span_map_none && grow_only)
		goalloc_heap.map_grows++;
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	if (old != &span_map_none)
		kvfree_rcu(old, rcu);
	return 0;
}

/**
 * goalloc_span_map_resize() - replace the span map's region table
 * @nregions: entries wanted: 4 MiB regions from physical address 0
 * @gfp: how to allocate the new table
 *
 * Grows the table, or shrinks it where no region above @nregions holds a
 * chunk.  Lookups keep running: they see the old table or the new one,
 * with the same regions in both, and the old one is freed after a grace
 * period.  The heap grows the table by itself when a chunk lands above it.
 *
 * Return: 0, -ENOMEM, or -EBUSY if a chunk lies at or above @nregions.
 */
int goalloc_span_map_resize(unsigned long nregions, gfp_t gfp)
{
	return span_map_replace(nregions, gfp, false);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_map_resize);

int goalloc_heap_init(void)
{
	int ret;

	ret = goalloc_span_cache_init();
	if (ret)
		return ret;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "goalloc/mheap:dead",
					NULL, pcache_cpu_dead);
	if (ret < 0)
		goto out_cache;
	pcache_cpuhp_state = ret;
	ret = goalloc_pool_pcache_init(&goalloc_heap.kernel);
	if (ret)
		goto out_cpuhp;
	/* One entry per 4 MiB of the direct map, as far as it reaches now. */
	ret = goalloc_span_map_resize(span_map_direct_regions(), GFP_KERNEL);
	if (ret)
		goto out_pcache;
	return 0;

out_pcache:
	goalloc_pool_pcache_exit(&goalloc_heap.kernel);
out_cpuhp:
	cpuhp_remove_state_nocalls(pcache_cpuhp_state);
	pcache_cpuhp_state = -1;
out_cache:
	goalloc_span_cache_exit();
	return ret;
}

/*
 * Unload with heap pages still in use: a caller never freed some objects,
 * and kmemleak reports them as that caller's (their records are its, made
 * at allocation).  Their pages stay allocated for good, as anything may
 * still point into them; the free pages between them were scavenged just
 * before.  What describes them is goalloc's and goes with the module: every
 * span left (mcentral's exit kept those with objects; a large object's
 * never was on a list), the chunks' records and the span map's regions, so
 * the descriptors' cache is empty when it is destroyed.  No lookup can
 * reach them any more: every module that calls goalloc is gone before it
 * unloads, and so is every user arena (its file pins the module).
 */
static void heap_abandon(void)
{
	struct goalloc_pool *pool = &goalloc_heap.kernel;
	unsigned long flags, inuse, others;
	struct goalloc_chunk *ch, *tmp;
	unsigned int nspans = 0;

	spin_lock_irqsave(&goalloc_heap.lock, flags);
	inuse = pool->pages_inuse;
	list_for_each_entry_safe(ch, tmp, &pool->chunks, list) {
		unsigned long idx = goalloc_map_offset(ch->base) >> GOALLOC_CHUNK_SHIFT;
		struct goalloc_span_region *a = region_of(ch->base);
		unsigned int first = (goalloc_map_offset(ch->base) >> GOALLOC_PAGE_SHIFT) &
				     (GOALLOC_CHUNK_PAGES - 1);
		unsigned int i;

		/* A span lies in one chunk: met first at its first page. */
		for (i = 0; i < ch->npages; i++) {
			struct goalloc_span *s = a->spans[first + i];

			if (!s)
				continue;
			map_span_in(a, s, NULL);
			goalloc_span_destroy(s);
			nspans++;
		}
		list_del(&ch->list);
		pool->nchunks--;
		goalloc_heap.nchunks--;
		pool_add_held(pool, -(long)chunk_held(ch));
		kfree(ch);
		if (!--a->nchunks) {
			RCU_INIT_POINTER(span_map()->region[idx], NULL);
			kfree(a);
		}
	}
	goalloc_heap.pages_inuse -= pool->pages_inuse;
	goalloc_heap.pages_idle -= pool->pages_idle;
	pool->pages_inuse = 0;
	pool->pages_idle = 0;
	/* Another pool's chunks (a test's pool never finished): not ours to free. */
	others = goalloc_heap.nchunks;
	spin_unlock_irqrestore(&goalloc_heap.lock, flags);
	if (inuse)
		pr_err("%lu heap pages still in use at unload (%u spans): leaking %lu KiB\n",
		       inuse, nspans, inuse * GOALLOC_PAGE_SIZE >> 10);
	if (others)
		pr_err("%lu chunks of other pools left at unload\n", others);
}

void goalloc_heap_exit(void)
{
	struct goalloc_span_map *map;

	/* No span is made or freed any more: the caches' pages go back. */
	goalloc_pool_pcache_exit(&goalloc_heap.kernel);
	if (pcache_cpuhp_state >= 0) {
		cpuhp_remove_state_nocalls(pcache_cpuhp_state);
		pcache_cpuhp_state = -1;
	}
	goalloc_heap_release(0);
	/* Chunks left: spans still in use (no other pool outlives its user). */
	if (goalloc_heap.nchunks) {
		/* The free pages between the spans left go back first. */
		goalloc_heap_scavenge(0);
		heap_abandon();
	}
	map = rcu_dereference_protected(goalloc_span_map, 1);
	/* No lookup is left: the module's callers are gone. */
	RCU_INIT_POINTER(goalloc_span_map, &span_map_none);
	if (map != &span_map_none)
		kvfree_rcu(map, rcu);
	/*
	 * Wait for the frees of spans (call_rcu(), the module's callback)
	 * before the descriptors' cache and the module go.  Regions and
	 * tables go by kfree_rcu()/kvfree_rcu(), which run no module code.
	 */
	rcu_barrier();
	goalloc_span_cache_exit();
}
