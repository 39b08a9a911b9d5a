/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mheap: the page heap (Go's mheap and pageAlloc) and the pointer -> span
 * map (Go's heapArena.spans and spanOf).
 *
 * Memory comes from the buddy allocator in chunks of up to GOALLOC_CHUNK_SIZE
 * (4 MiB, falling back to smaller orders under fragmentation).  Buddy blocks
 * are naturally aligned, so a chunk never straddles a 4 MiB boundary of the
 * physical address space.  Each such 4 MiB region that holds a chunk has a
 * struct goalloc_span_region whose spans[] maps every 8 KiB heap page to the
 * span using it; a flat table indexed by direct-map offset / 4 MiB
 * (goalloc_map_offset(): the physical address on x86-64; struct
 * goalloc_span_map) finds the region.  goalloc_span_of() therefore
 * takes no lock and touches only goalloc's own tables, so any pointer may be
 * asked about.
 *
 * The table covers the direct map as it is at load and grows when a chunk
 * lands above it (memory hot-added later): a larger copy replaces it under
 * the heap lock and the old one is freed after a grace period.
 *
 * Publication order (each writer's barrier and the reader's that pairs with
 * it are named on both sides):
 *  [M1] span_map_replace() fills a new table, then rcu_assign_pointer()
 *       publishes it; goalloc_span_of() reads it with
 *       rcu_dereference_check().
 *  [M2] chunk_publish() zeroes a new region's spans[], then
 *       rcu_assign_pointer() publishes it in the table; goalloc_span_of()
 *       reads the entry with rcu_dereference_check(), so it never reads
 *       kzalloc's stale bytes.
 *  [M3] map_span() issues smp_wmb() after the span is initialised and
 *       before its spans[] entries are stored; goalloc_span_of() reads the
 *       entry with READ_ONCE() and its callers dereference it: an address
 *       dependency, ordered on every CPU Linux supports.
 * Model: kmod/models/span_map.pml.
 */
#ifndef _GOALLOC_MHEAP_H
#define _GOALLOC_MHEAP_H

#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "mspan.h"

#define GOALLOC_CHUNK_SHIFT	22
#define GOALLOC_CHUNK_SIZE	BIT(GOALLOC_CHUNK_SHIFT)
#define GOALLOC_CHUNK_ORDER	(GOALLOC_CHUNK_SHIFT - PAGE_SHIFT)
#define GOALLOC_CHUNK_PAGES	(GOALLOC_CHUNK_SIZE / GOALLOC_PAGE_SIZE)
/* The smallest chunk is one heap page. */
#define GOALLOC_MIN_CHUNK_ORDER	(GOALLOC_PAGE_SHIFT - PAGE_SHIFT)
/* The largest object: a whole chunk, the largest buddy block used. */
#define GOALLOC_MAX_LARGE	GOALLOC_CHUNK_SIZE

/**
 * struct goalloc_chunk - a block of pages from the buddy allocator
 * @list: on its pool's @chunks
 * @pool: the pool the chunk belongs to
 * @base: address of the first byte
 * @page: the first struct page, for __free_pages()
 * @order: buddy order of the block; an exact-fit pool's block may have been
 *	split and cut to its first @npages heap pages
 * @nid: NUMA node of the pages
 * @npages: heap pages in the chunk
 * @nfree: heap pages not in any span and not scavenged
 * @max_run: summary: the longest run of free heap pages (Go's pallocSum max)
 * @nscav: heap pages scavenged: given back to the buddy allocator while the
 *	chunk stays (goalloc_pool_scavenge()); their bits stay set in @used,
 *	so no span is ever placed on them, and they no longer count as held
 * @split: the block was split into order-0 pages (split_page()), cut to
 *	fit when it grew or to scavenge some: the rest goes back page by page
 * @windows: CPUs' page caches holding a window in the chunk (struct
 *	goalloc_pcache); a chunk with one is never idle, so a window's chunk
 *	stays while the window does
 * @used: one bit per heap page, set while a span or a CPU's page cache
 *	holds it, or it is scavenged
 *
 * All fields but the constant ones are under goalloc_heap.lock.
 */
struct goalloc_chunk {
	struct list_head list;
	struct goalloc_pool *pool;
	unsigned long base;
	struct page *page;
	unsigned int order;
	int nid;
	u16 npages;
	u16 nfree;
	u16 max_run;
	u16 nscav;
	bool split;
	u16 windows;
	DECLARE_BITMAP(used, GOALLOC_CHUNK_PAGES);
};

struct goalloc_span_region;

/* Heap pages in a page cache's window: one bitmap word. */
#define GOALLOC_PCACHE_PAGES	64
/*
 * The largest span a page cache serves: every class's big shape
 * (sizeclasses.h), 20 pages, a little above Go's pageCachePages / 4 (16),
 * so that a 4,864-byte class's big span holds 32 objects (19 pages).
 * Served by the heap under its lock instead, spans of 17-20 pages cost
 * N-then-N of 256 32 KiB objects 31 % more instructions.
 */
#define GOALLOC_PCACHE_MAX_SPAN	GOALLOC_BIG_MAX_PAGES

/**
 * struct goalloc_pcache - one CPU's cache of free heap pages of a pool
 *	(Go's pageCache)
 * @lock: protects the fields below; IRQ-safe.  Taken before
 *	goalloc_heap.lock, never under it.  A spinlock rather than a
 *	local_lock: another CPU flushes the cache (the trim pass, the
 *	shrinker, CPU hotplug), and on PREEMPT_RT it is a sleeping lock as
 *	the heap lock nested in it is.
 * @free: one bit per heap page of the window, set while the page is free
 *	and this cache's (taken out of the chunk: set in its @used)
 * @base: address of the window's first heap page
 * @chunk: the chunk of the window, NULL if there is none; pinned
 *	(goalloc_chunk.windows) while set
 * @region: the span map of @chunk's region, which lives as long as @chunk
 * @first: index in @chunk of the window's first heap page (a multiple of
 *	GOALLOC_PCACHE_PAGES)
 *
 * A window is an aligned block of GOALLOC_PCACHE_PAGES heap pages of one
 * chunk: a refill takes every free page of the block under the heap lock,
 * then spans of up to GOALLOC_PCACHE_MAX_SPAN pages are carved from it, and
 * given back into it when freed on this CPU, under @lock alone.  Pages in
 * a window count in the pool's pages in use (they are out of the chunk's
 * free runs) until the window is flushed back to its chunk: on a refill,
 * by goalloc_pool_trim() (the trim pass, the shrinker, unload) and when the
 * CPU goes offline.
 */
struct goalloc_pcache {
	spinlock_t lock;	/* see @lock above */
	u64 free;
	unsigned long base;
	struct goalloc_chunk *chunk;
	struct goalloc_span_region *region;
	unsigned int first;
};

struct mem_cgroup;

/**
 * struct goalloc_pool_policy - how a pool grows, whom it charges and what
 *	idle memory it keeps; set once, by goalloc_pool_init()
 * @memcg: the memory cgroup charged when @charge (its owner holds a
 *	reference for the pool's life); NULL charges the current task's
 * @charge: the pool's pages and the heap's metadata for them are charged
 *	(__GFP_ACCOUNT) to @memcg, and past its limit a grow fails (ENOMEM)
 *	rather than calling the OOM killer; its pages count as user pages
 *	(goalloc_heap.user_pages)
 * @exact_fit: each chunk is the smallest block that fits the span that
 *	needed it, cut to that span's pages, and holds that span only: the
 *	pool pays for what it uses, and a kept idle chunk serves only a span
 *	of its size (so the excess over the spans stays one kept chunk)
 * @trimmed: the heap's trim pass and the shrinker release the pool's idle
 *	chunks (goalloc_heap_release()): its idle pages count in
 *	goalloc_heap.pages_idle and GOALLOC_CTR_RELEASED_PAGES, and going
 *	over its retention goal asks for a pass
 * @retain_percent: idle heap pages kept, as a percentage of the pool's
 *	pages in use (a tunable, read with READ_ONCE()); NULL: one idle chunk
 *	of at most @keep_chunk_pages is kept instead
 * @keep_chunk_pages: without @retain_percent, the largest idle chunk kept
 *	(one at most); any other chunk goes back as soon as it is idle
 * @grow_min_order: buddy order of the smallest chunk a pool that is not
 *	@exact_fit grows by; larger as the pool grows (see grow_order())
 */
struct goalloc_pool_policy {
	struct mem_cgroup *memcg;
	bool charge;
	bool exact_fit;
	bool trimmed;
	const unsigned int *retain_percent;
	unsigned int keep_chunk_pages;
	unsigned int grow_min_order;
};

/**
 * struct goalloc_pool - chunks that serve one owner's spans
 * @chunks: the pool's chunks
 * @policy: how it grows, charges and keeps idle memory; constant after
 *	goalloc_pool_init()
 * @nchunks: chunks in @chunks
 * @pages_held: heap pages in the pool's chunks
 * @pages_peak: the most @pages_held has been since goalloc_pool_trim()
 *	last ran (a trim pass, the shrinker): the base of the grow step, so
 *	that a heap emptied by a burst's frees and growing again steps as a
 *	heap of its recent size does
 * @pages_inuse: heap pages in the pool's spans and in its CPUs' page caches
 * @pages_idle: heap pages in the pool's chunks with no span at all
 * @pcache: each CPU's page cache of the pool, or NULL: spans are then
 *	carved under the heap lock only (goalloc_pool_pcache_init())
 * @pcache_node: on the list of pools with page caches, which CPU hotplug
 *	flushes (under that list's mutex, mheap.c)
 *
 * All fields but @policy, @pcache and @pcache_node are under
 * goalloc_heap.lock; the
 * counters are also read without it, as snapshots (READ_ONCE()).
 * @pages_inuse counts the pages of the CPUs' page caches too
 * (goalloc_pool_pcache_pages() says how many).
 *
 * The kernel's callers share goalloc_heap.kernel: its chunks grow with it
 * up to the buddy allocator's 4 MiB, and idle ones are kept up to the
 * retention goal (struct goalloc_heap_trim), the rest released.  A user
 * arena has a pool of its own, charged to its memory cgroup and to no one
 * else, exact-fit, that keeps one small idle chunk (uarena.c sets its
 * policy).  A KUnit test may make a pool of its own, so as to test the heap
 * on chunks no one else uses.
 */
struct goalloc_pool {
	struct list_head chunks;
	struct goalloc_pool_policy policy;
	unsigned long nchunks;
	unsigned long pages_held;
	unsigned long pages_peak;
	unsigned long pages_inuse;
	unsigned long pages_idle;
	struct goalloc_pcache __percpu *pcache;
	struct list_head pcache_node;
};

/**
 * goalloc_pool_charge_begin() - charge what is allocated for a pool to its memcg
 * @pool: the pool
 * @gfp: the mask of the allocations to come; __GFP_ACCOUNT is added for a
 *	pool that charges (struct goalloc_pool_policy, @charge)
 *
 * The one place a pool's memory cgroup is made the one charged, whoever
 * makes the call; goalloc_pool_charge_end() restores the caller's.  Does
 * nothing for a pool that charges no one.
 *
 * Return: what goalloc_pool_charge_end() needs.
 */
static inline struct mem_cgroup *goalloc_pool_charge_begin(const struct goalloc_pool *pool,
							   gfp_t *gfp)
{
	if (!pool->policy.charge)
		return NULL;
	*gfp |= __GFP_ACCOUNT;
	return set_active_memcg(pool->policy.memcg);
}

/**
 * goalloc_pool_charge_end() - end what goalloc_pool_charge_begin() began
 * @pool: the pool
 * @old: goalloc_pool_charge_begin()'s return value
 */
static inline void goalloc_pool_charge_end(const struct goalloc_pool *pool,
					   struct mem_cgroup *old)
{
	if (pool->policy.charge)
		set_active_memcg(old);
}

/**
 * struct goalloc_span_region - the span map of one 4 MiB physical region
 * @nchunks: chunks in the region (under goalloc_heap.lock)
 * @rcu: freed after a grace period: lookups run under RCU (preemption off)
 * @spans: span using each heap page, NULL where goalloc has no span
 */
struct goalloc_span_region {
	unsigned int nchunks;
	struct rcu_head rcu;
	struct goalloc_span *spans[GOALLOC_CHUNK_PAGES];
};

/**
 * struct goalloc_span_map - the region table of the span map
 * @nregions: entries in @region: 4 MiB regions from physical address 0
 * @rcu: a table replaced by a larger one is freed after a grace period
 * @region: the span map of each region, NULL where goalloc has no chunk;
 *	written under goalloc_heap.lock, read locklessly under RCU
 */
struct goalloc_span_map {
	unsigned long nregions;
	struct rcu_head rcu;
	struct goalloc_span_region __rcu *region[];
};

/*
 * The current table; never NULL while the module is loaded (an empty table
 * before goalloc_heap_init()).  Replaced under goalloc_heap.lock, read
 * locklessly.  Apart from struct goalloc_mheap, whose cache line the heap
 * lock's holders write.
 */
extern struct goalloc_span_map __rcu *goalloc_span_map;

/**
 * struct goalloc_mheap - the page heap
 * @lock: protects everything below, and the span map's writers; IRQ-safe
 *	(GFP_ATOMIC callers reach the heap from interrupts)
 * @kernel: the pool of kernel callers (goalloc_alloc() and kernel arenas)
 * @nchunks: chunks held, all pools
 * @pages_held: heap pages in chunks, all pools
 * @pages_inuse: heap pages in spans and in CPUs' page caches, all pools
 * @pages_idle: heap pages in the chunks with no span at all of the pools
 *	the trim pass and the shrinker release (the kernel's)
 * @user_pages: heap pages held by pools that charge a memory cgroup (user
 *	arenas')
 * @chunks_released: chunks given back to the buddy allocator, ever
 * @grow_fallbacks: chunks allocated below the order asked for, ever (pools
 *	that are not exact-fit)
 * @map_grows: times the span map's region table grew after load (memory
 *	hot-added above it), ever
 */
struct goalloc_mheap {
	spinlock_t lock;	/* see @lock above */
	struct goalloc_pool kernel;
	unsigned long nchunks;
	unsigned long pages_held;
	unsigned long pages_inuse;
	unsigned long pages_idle;
	unsigned long user_pages;
	unsigned long chunks_released;
	unsigned long grow_fallbacks;
	unsigned long map_grows;
};

extern struct goalloc_mheap goalloc_heap;

/**
 * struct goalloc_heap_trim - the heap's retention: how much idle memory the
 *	kernel pool keeps, and the work item that gives the rest back
 * @retain_percent: idle heap pages the kernel pool keeps, as a percentage
 *	of its pages in use (goalloc_heap_retain_goal()); the kernel pool's
 *	policy points at it; the module parameter retain_percent,
 *	written through sysfs at any time, so read with READ_ONCE()
 * @delay_ms: how long after a request the trim pass runs (module parameter
 *	scavenge_delay_ms); read with READ_ONCE(), as @retain_percent
 * @enabled: set once @work has its function (goalloc_heap_trim_start()),
 *	cleared at unload (goalloc_heap_trim_stop()); read locklessly by
 *	goalloc_heap_trim_soon(), so nothing is queued before the pass exists
 *	or after teardown.  [T1] set with smp_store_release() after @work is
 *	initialised; read with smp_load_acquire() before @work is queued.
 * @work: the trim pass, queued on system_unbound_wq.  The heap only queues
 *	it: its function belongs to the layer on top (mgcscavenge.c), as the
 *	pass also returns the empty spans mcentral keeps, which lie above the
 *	heap.
 *
 * Not under goalloc_heap.lock: every field is atomic, written once, or a
 * tunable read as it is.
 */
struct goalloc_heap_trim {
	unsigned int retain_percent;
	unsigned int delay_ms;
	bool enabled;
	struct delayed_work work;
};

extern struct goalloc_heap_trim goalloc_heap_trim;

/**
 * goalloc_heap_trim_soon() - ask for a trim pass after the trim delay
 *
 * mcentral calls it when it keeps an empty span, the heap when idle memory
 * is above the retention goal.  A pass already pending is not postponed.
 * Does nothing before goalloc_heap_trim_start() or after
 * goalloc_heap_trim_stop().  Callable from any context.
 */
static inline void goalloc_heap_trim_soon(void)
{
	/* [T1]: pairs with the smp_store_release() in goalloc_heap_trim_start(). */
	if (!smp_load_acquire(&goalloc_heap_trim.enabled))
		return;
	/*
	 * A pass already queued and not yet started will see what the caller
	 * did: test before queueing, as queueing costs ~25 instructions and
	 * the big classes ask at every span they empty.  The barrier orders
	 * the caller's stores before the test, as queue_delayed_work()'s
	 * test_and_set_bit() would; the worker clears the pending bit with a
	 * full barrier before the pass runs.
	 */
	smp_mb();
	if (delayed_work_pending(&goalloc_heap_trim.work))
		return;
	queue_delayed_work(system_unbound_wq, &goalloc_heap_trim.work,
			   msecs_to_jiffies(READ_ONCE(goalloc_heap_trim.delay_ms)));
}

int goalloc_heap_init(void);
void goalloc_heap_exit(void);
struct goalloc_span *goalloc_heap_alloc_span(unsigned int spc, unsigned int npages,
					     unsigned int align, int node,
					     enum goalloc_span_state state, gfp_t gfp);
struct goalloc_span *goalloc_pool_alloc_span(struct goalloc_pool *pool, unsigned int spc,
					     unsigned int npages, unsigned int align, int node,
					     enum goalloc_span_state state, gfp_t gfp);
struct goalloc_span *goalloc_pool_alloc_span_or(struct goalloc_pool *pool, unsigned int spc,
						unsigned int npages, unsigned int fallback,
						unsigned int align, int node,
						enum goalloc_span_state state, gfp_t gfp);
void goalloc_pool_init(struct goalloc_pool *pool, const struct goalloc_pool_policy *policy);
int goalloc_pool_pcache_init(struct goalloc_pool *pool);
void goalloc_pool_pcache_exit(struct goalloc_pool *pool);
void goalloc_pool_pcache_flush(struct goalloc_pool *pool);
unsigned long goalloc_pool_pcache_pages(const struct goalloc_pool *pool);
unsigned long goalloc_heap_pcache_pages(void);

/* A pool's chunks on one node (goalloc_pool_node_usage()). */
struct goalloc_node_usage {
	unsigned long chunks;
	unsigned long held;
	unsigned long free;
};

void goalloc_pool_node_usage(struct goalloc_pool *pool, int nid, struct goalloc_node_usage *u);

/*
 * What a heap page holds, in struct goalloc_chunk_map: a size class (0: a
 * large object; GOALLOC_NUM_CLASSES and above: a named cache's class), or
 * one of these.
 */
#define GOALLOC_PAGE_ARENA	252	/* a span of a kernel arena */
#define GOALLOC_PAGE_SCAV	253	/* scavenged: given back to the buddy allocator */
#define GOALLOC_PAGE_WINDOW	254	/* free, in a CPU's page cache window */
#define GOALLOC_PAGE_FREE	255	/* free in its chunk */
static_assert(GOALLOC_NUM_ALL_CLASSES <= GOALLOC_PAGE_ARENA);

/**
 * struct goalloc_chunk_map - one chunk of a pool, page by page
 *	(goalloc_pool_chunk_map())
 * @nid: NUMA node of its pages
 * @order: buddy order of the block
 * @npages: heap pages in the chunk
 * @nfree: heap pages free in it (not in a span, a window or scavenged)
 * @nscav: heap pages scavenged
 * @windows: CPUs' page caches with a window in it
 * @page: for each heap page, its size class or a GOALLOC_PAGE_* code
 */
struct goalloc_chunk_map {
	int nid;
	unsigned int order;
	unsigned int npages;
	unsigned int nfree;
	unsigned int nscav;
	unsigned int windows;
	u8 page[GOALLOC_CHUNK_PAGES];
};

bool goalloc_pool_chunk_map(struct goalloc_pool *pool, unsigned long idx,
			    struct goalloc_chunk_map *map);
unsigned long goalloc_pool_trim(struct goalloc_pool *pool, unsigned long keep_pages);
unsigned long goalloc_pool_retain_goal(const struct goalloc_pool *pool);
bool goalloc_heap_short(unsigned int npages);
void goalloc_heap_free_span(struct goalloc_span *s);
void goalloc_heap_put_span(struct goalloc_span *s);
unsigned long goalloc_heap_release(unsigned long keep_pages);
unsigned long goalloc_pool_scavenge(struct goalloc_pool *pool, unsigned long keep_pages);
unsigned long goalloc_heap_scavenge(unsigned long keep_pages);
unsigned long goalloc_heap_retain_goal(void);
void goalloc_heap_trim_start(work_func_t pass);
void goalloc_heap_trim_flush(void);
void goalloc_heap_trim_stop(void);
int goalloc_span_map_resize(unsigned long nregions, gfp_t gfp);

/**
 * goalloc_map_offset() - where an address is in the direct map
 * @addr: an address of the direct map (any address, for goalloc_span_of())
 *
 * The span map is indexed by it.  On x86-64 it is the physical address, as
 * __pa() computes it for the direct map, without __pa()'s test for the
 * kernel image's addresses (which goalloc never hands out).  Chunks are
 * buddy blocks, aligned to their size in physical memory, and the direct map
 * starts on a boundary larger than a chunk on every architecture with one,
 * so a chunk never straddles two regions of the map.
 *
 * Return: @addr - PAGE_OFFSET; past the map's end for any address outside
 * the direct map.
 */
static __always_inline unsigned long goalloc_map_offset(unsigned long addr)
{
	return addr - PAGE_OFFSET;
}

/**
 * goalloc_span_of() - the span holding an address, if goalloc has one there
 * @p: any pointer
 *
 * Never touches memory outside goalloc's tables.  The caller must be in an
 * RCU read-side section (preemption disabled is one): spans, region arrays
 * and replaced tables are freed after a grace period, so the result stays
 * readable until the section ends; its state field says whether it is
 * still live.  Reads pair with the writers' barriers [M1] [M2] [M3] (see
 * the top of this file).
 *
 * Return: the span, or NULL for a pointer goalloc did not hand out.
 */
static __always_inline struct goalloc_span *goalloc_span_of(const void *p)
{
	unsigned long off = goalloc_map_offset((unsigned long)p);
	struct goalloc_span_map *map;
	struct goalloc_span_region *a;

	/* [M1]: pairs with rcu_assign_pointer() of a new table in span_map_replace(). */
	map = rcu_dereference_check(goalloc_span_map, rcu_read_lock_any_held());
	/*
	 * The map covers only the direct map (chunks are in it, and it grows
	 * only for them), so this one test refuses any other address too.
	 */
	if (off >> GOALLOC_CHUNK_SHIFT >= map->nregions)
		return NULL;
	/* [M2]: pairs with rcu_assign_pointer() of a new region in chunk_publish(). */
	a = rcu_dereference_check(map->region[off >> GOALLOC_CHUNK_SHIFT],
				  rcu_read_lock_any_held());
	if (!a)
		return NULL;
	/* [M3]: pairs with the smp_wmb() in map_span(); callers' loads depend on it. */
	return READ_ONCE(a->spans[(off >> GOALLOC_PAGE_SHIFT) & (GOALLOC_CHUNK_PAGES - 1)]);
}

#endif /* _GOALLOC_MHEAP_H */
