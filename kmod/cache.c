// SPDX-License-Identifier: GPL-2.0
/*
 * Named caches: goalloc's kmem_cache (Documentation/api.rst, "Named caches").
 *
 * In Go's terms a cache is a span class of its own.  Each cache takes a slot
 * of goalloc_cache_classes[] (sizeclasses.h): a size class past Go's 67
 * whose shape (object size, heap pages and objects per span, divisor) is
 * computed here, and one span class, goalloc_cache_spc(slot), past
 * goalloc_alloc()'s.  Everything below the API is the allocator's own: the
 * cache's current span on each CPU is that CPU's mcache entry for the span
 * class, its central lists are each node's goalloc_central_of(nid, spc), its spans come from the
 * common heap.  So its objects never share a span with another cache's or
 * with goalloc_alloc()'s, its fast paths are goalloc_alloc()'s (take one
 * slot of the CPU's span; the owner's free) with the span class known in
 * advance instead of looked up from a size, and the free path's lookup
 * (span map -> span -> span class) finds the cache of any of its objects.
 *
 * What is SLUB's and not Go's: the constructor (run on each slot when a
 * span is made, mspan.c goalloc_span_construct()), SLUB's rules for
 * init_on_alloc, init_on_free and __GFP_ZERO in constructor and
 * SLAB_TYPESAFE_BY_RCU caches, SLAB_TYPESAFE_BY_RCU's grace period before a
 * span goes back to the heap (mcentral.c span_release()), and destroy:
 * a cache destroyed with objects in use reports them and keeps their spans.
 *
 * Concurrency: create and destroy take goalloc_cache_mutex, which guards
 * the slot table, the list of caches and a slot's class shape; the shape is
 * written before the cache is returned and is constant while the cache or
 * any span of its class lives.  The data path takes no lock of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/debugfs.h>
#include <linux/kmemleak.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "mprof.h"
#include "observe.h"
#include "trace.h"

/* The largest object a cache serves: 256 KiB (a span of at least one). */
#define GOALLOC_CACHE_MAX_SIZE	(256 * 1024)
/* The largest alignment: a span's start, aligned in the heap. */
#define GOALLOC_CACHE_MAX_ALIGN	GOALLOC_CACHE_MAX_SIZE

/* The shape of each cache's class: sizeclasses.h (the base layer's table). */
struct goalloc_cache_class goalloc_cache_classes[GOALLOC_MAX_CACHES];
EXPORT_SYMBOL_IF_KUNIT(goalloc_cache_classes);

/**
 * struct goalloc_cache - a named cache
 * @spc: its span class (goalloc_cache_spc(@slot)): read by every call; a
 *	byte, so the free's goalloc_mcache_free_fast_spc() knows it is not -1
 * @gfp_refused: __GFP_ZERO for a constructor's cache, else 0: a mask the
 *	fast path tests in one instruction
 * @cflags: GOALLOC_CF_* of its class
 * @size: bytes per slot: the object size rounded as SLUB rounds it
 * @object_size: bytes the caller asked for
 * @align: alignment of every object
 * @useroffset: start of the region that may be copied to or from userspace
 * @usersize: its length (0: none); stored, see Documentation/api.rst
 * @slot: index in goalloc_cache_classes[]
 * @flags: the SLAB_* flags it was made with
 * @dead: destroyed with objects in use: kept for the report and its spans
 * @leaked: objects @dead found in use
 * @ctor: constructor, or NULL
 * @list: on goalloc_caches, under goalloc_cache_mutex
 * @name: its name (kstrdup_const())
 */
struct goalloc_cache {
	u8 spc;
	gfp_t gfp_refused;
	u8 cflags;
	unsigned int size;
	unsigned int object_size;
	unsigned int align;
	unsigned int useroffset;
	unsigned int usersize;
	unsigned int slot;
	slab_flags_t flags;
	bool dead;
	unsigned long leaked;
	void (*ctor)(void *obj);
	struct list_head list;
	const char *name;
};

/* Slots of goalloc_cache_classes[], under goalloc_cache_mutex. */
enum cache_slot_state { SLOT_FREE, SLOT_USED, SLOT_LEAKED };

/*
 * goalloc_cache_mutex guards goalloc_caches (every cache, destroyed ones
 * with objects in use included), slot_state[] and the class shape of a
 * slot while it is set up.
 */
static DEFINE_MUTEX(goalloc_cache_mutex);
static LIST_HEAD(goalloc_caches);
static u8 slot_state[GOALLOC_MAX_CACHES];

/* Caches destroyed with objects in use, ever: the KUnit suite reads it. */
atomic_long_t goalloc_cache_leak_reports;
EXPORT_SYMBOL_IF_KUNIT(goalloc_cache_leak_reports);

/* As malloc.c: might_alloc()'s checks only where a debug option checks. */
static __always_inline void cache_might_alloc(gfp_t gfp)
{
	if (IS_ENABLED(CONFIG_LOCKDEP) || IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP))
		might_alloc(gfp);
}

/* As malloc.c: does a fresh object need any work in this kernel? */
static __always_inline bool cache_post_alloc_wanted(gfp_t gfp)
{
	return IS_ENABLED(CONFIG_KASAN_GENERIC) || IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) ||
	       want_init_on_alloc(gfp);
}

/*
 * Make a fresh object usable: SLUB's slab_want_init_on_alloc(): a
 * constructor's cache is never zeroed (__GFP_ZERO is refused before), a
 * SLAB_TYPESAFE_BY_RCU one only for __GFP_ZERO, any other for __GFP_ZERO
 * or init_on_alloc.  SLUB zeroes the object size, so does this.
 */
static void *cache_post_alloc(struct goalloc_cache *cache, void *p, gfp_t gfp)
{
	bool zero = (cache->cflags & GOALLOC_CF_NO_INIT) ? !!(gfp & __GFP_ZERO) :
			want_init_on_alloc(gfp);

	goalloc_kasan_unpoison(p, cache->object_size);
	if (zero)
		memset(p, 0, cache->object_size);
	kmemleak_alloc(p, cache->object_size, 1, goalloc_gfp_reclaim(gfp));
	return p;
}

/* __GFP_ZERO asked of a constructor's cache: refused, never a WARN. */
static noinline void *cache_refuse(struct goalloc_cache *cache, unsigned long caller)
{
	pr_err_ratelimited("cache %s: __GFP_ZERO from %pS refused: the cache has a constructor\n",
			   cache->name, (void *)caller);
	return NULL;
}

static void cache_free_slow(struct goalloc_cache *cache, const void *p, unsigned long caller);

/*
 * The fast path's object, when cache_post_alloc_wanted(): __GFP_ZERO is one
 * of the cases, so a constructor's cache refuses it here, giving back the
 * slot it took (untouched, still constructed), and the fast path tests
 * nothing for it.
 */
static noinline void *cache_post_alloc_fast(struct goalloc_cache *cache, void *p, gfp_t gfp,
					    unsigned long caller)
{
	if (unlikely(gfp & cache->gfp_refused)) {
		/* Made a live object first, so its free is an ordinary one. */
		cache_post_alloc(cache, p, gfp & ~__GFP_ZERO);
		cache_free_slow(cache, p, caller);
		return cache_refuse(cache, caller);
	}
	p = cache_post_alloc(cache, p, gfp);
	goalloc_observe_alloc(caller, p, cache->object_size, cache->size, gfp, NUMA_NO_NODE);
	return p;
}

/*
 * Go's nextFree for the cache's span class, or a node: @want objects asked
 * for in all (1, or a bulk call's count: a span grown here holds them);
 * @asked as goalloc_mcache_next_free_bulk()'s.
 */
static __always_inline void *cache_next_free(struct goalloc_cache *cache, gfp_t gfp, int node,
					     unsigned long caller, size_t want, int asked)
{
	void *p;

	if (unlikely(gfp & cache->gfp_refused))
		return cache_refuse(cache, caller);
	might_alloc(gfp);
	if (want == 1)
		p = goalloc_mcache_next_free(cache->spc, cache->size, gfp, node);
	else
		p = goalloc_mcache_next_free_bulk(cache->spc, cache->size, gfp, want, asked);
	if (!p)
		return NULL;
	if (cache_post_alloc_wanted(gfp))
		p = cache_post_alloc(cache, p, gfp);
	goalloc_observe_alloc(caller, p, cache->object_size, cache->size, gfp, node);
	return p;
}

/* Past the fast path: Go's nextFree for the cache's span class, or a node. */
static noinline void *cache_alloc_slow(struct goalloc_cache *cache, gfp_t gfp, int node,
				       unsigned long caller)
{
	return cache_next_free(cache, gfp, node, caller, 1, NUMA_NO_NODE);
}

/* The fast path's watchers, out of line (as alloc_observed()). */
static noinline void *cache_alloc_observed(struct goalloc_cache *cache, void *p, gfp_t gfp,
					   unsigned long caller)
{
	trace_alloc(caller, p, cache->object_size, cache->size, gfp, NUMA_NO_NODE);
	goalloc_mprof_sampled(p, cache->object_size, gfp, caller);
	return p;
}

/* The fast path's object when it has anything to go through (as alloc_hooked()). */
static noinline void *cache_alloc_hooked(struct goalloc_cache *cache, void *p, gfp_t gfp,
					 unsigned long caller)
{
	if (cache_post_alloc_wanted(gfp))
		return cache_post_alloc_fast(cache, p, gfp, caller);
	if (goalloc_observing() && goalloc_mprof_count(cache->object_size))
		return cache_alloc_observed(cache, p, gfp, caller);
	return p;
}

/*
 * goalloc_cache_alloc()'s body, always inlined: _RET_IP_ here is the API
 * entry's caller, read only where an out-of-line path needs it (as
 * alloc_fast()).
 */
static __always_inline void *cache_alloc_fast(struct goalloc_cache *cache, gfp_t gfp)
{
	void *p;

	cache_might_alloc(gfp);
	if (unlikely(!goalloc_mcache_take_one(cache->spc, &p)))
		return cache_alloc_slow(cache, gfp, NUMA_NO_NODE, _RET_IP_);
	/*
	 * __GFP_ZERO (a ctor's cache refuses it there), and one patched-out
	 * jump for init_on_alloc and the watchers: as alloc_fast().
	 */
	if (unlikely(goalloc_alloc_hooks_wanted(gfp)))
		return cache_alloc_hooked(cache, p, gfp, _RET_IP_);
	return p;
}

/**
 * goalloc_cache_alloc() - allocate an object from a named cache
 * @cache: the cache, from goalloc_cache_create()
 * @gfp: allocation mask, as for kmem_cache_alloc()
 *
 * As kmem_cache_alloc(): sleeps only if @gfp allows; any context but NMI
 * (and hard interrupts on PREEMPT_RT).  The object comes constructed if the
 * cache has a constructor; __GFP_ZERO is then refused (NULL, and one
 * rate-limited message; SLUB warns).  init_on_alloc zeroes objects of
 * caches without a constructor and without SLAB_TYPESAFE_BY_RCU, as SLUB.
 * The fast path is goalloc_alloc()'s, with the span class known: no size
 * lookup.
 *
 * Return: the object, or NULL.
 */
void *goalloc_cache_alloc(struct goalloc_cache *cache, gfp_t gfp)
{
	return cache_alloc_fast(cache, gfp);
}
EXPORT_SYMBOL_GPL(goalloc_cache_alloc);

/**
 * goalloc_cache_alloc_node() - allocate an object from a named cache on a node
 * @cache: the cache
 * @gfp: allocation mask
 * @node: the NUMA node preferred, or NUMA_NO_NODE for this CPU's
 *
 * As kmem_cache_alloc_node(), and goalloc_alloc_node() for the node: this
 * CPU's node (unless __GFP_THISNODE) is goalloc_cache_alloc()'s fast path,
 * another node's objects come from that node's mcentral of the cache.
 *
 * Return: the object, or NULL.
 */
void *goalloc_cache_alloc_node(struct goalloc_cache *cache, gfp_t gfp, int node)
{
	void *p;

	if (node == NUMA_NO_NODE)
		return cache_alloc_fast(cache, gfp);
	if (node == numa_mem_id() && !(gfp & __GFP_THISNODE)) {
		p = cache_alloc_fast(cache, gfp);
		/* Moved to another node's CPU on the way: as goalloc_alloc_node(). */
		if (likely(!p || page_to_nid(virt_to_page(p)) == node))
			return p;
		goalloc_cache_free(cache, p);
	}
	return cache_alloc_slow(cache, gfp, node, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goalloc_cache_alloc_node);

/* Frees the bulk path left, and an object cache_post_alloc_fast() refused. */
static noinline void cache_free_slow(struct goalloc_cache *cache, const void *p,
				     unsigned long caller)
{
	int err = goalloc_mcache_free_spc(p, cache->spc);

	if (unlikely(err))
		goalloc_report_bad_free(p, err, caller);
}

/*
 * What the free's fast path leaves, inside the section it left open with
 * the span it found (@s, NULL if none), which this ends.  NULL comes here
 * too (no span: the fast path tests it not) and is ignored.
 */
static noinline void cache_free_found(struct goalloc_cache *cache, const void *p,
				      struct goalloc_mcache *c, struct goalloc_span *s,
				      unsigned long caller)
{
	int err;

	/* Every call, NULL included, before the free (as goalloc_free()). */
	trace_free(caller, p);
	goalloc_observe_free(s, p);
	err = goalloc_mcache_free_found(c, s, p, cache->spc);
	if (unlikely(err) && !ZERO_OR_NULL_PTR(p))
		goalloc_report_bad_free(p, err, caller);
}

/**
 * goalloc_cache_free() - free an object of a named cache
 * @cache: the cache the object came from
 * @p: the object; NULL is ignored
 *
 * As kmem_cache_free().  A constructor's cache takes the object back as it
 * is: it must be freed constructed.  An object of another cache, of
 * goalloc_alloc(), or anything else goalloc_free() refuses, is refused: one
 * rate-limited report with the caller, nothing changed (SLUB would warn).
 * goalloc_free() also frees a cache's objects, as kfree() does SLUB's.
 */
void goalloc_cache_free(struct goalloc_cache *cache, void *p)
{
	enum goalloc_free_fast r;
	struct goalloc_mcache *c;
	struct goalloc_span *s;

	/* NULL: no span, so cache_free_found() ignores it; it has the event. */
	r = goalloc_mcache_free_fast_spc(p, cache->spc, &c, &s);
	if (likely(r == GOALLOC_FREE_DONE))
		return;
	/* @cache and @p first, where they came: the fast path need not move them. */
	if (r == GOALLOC_FREE_REMOTE)
		goalloc_free_remote(p, _RET_IP_, s);
	else
		cache_free_found(cache, p, c, s, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goalloc_cache_free);

/**
 * goalloc_cache_free_bulk() - free many objects of a named cache
 * @cache: the cache
 * @n: how many
 * @ptrs: the objects (NULL entries skipped)
 *
 * As kmem_cache_free_bulk(); objects not of @cache are refused one by one
 * as goalloc_cache_free() refuses them, the others freed.
 */
void goalloc_cache_free_bulk(struct goalloc_cache *cache, size_t n, void **ptrs)
{
	size_t i;

	if (goalloc_observing())
		goalloc_mprof_forget_many(n, ptrs);
	n = goalloc_mcache_free_bulk_spc(n, ptrs, _RET_IP_, cache->spc);
	for (i = 0; i < n; i++)
		if (!ZERO_OR_NULL_PTR(ptrs[i]))
			cache_free_slow(cache, ptrs[i], _RET_IP_);
}
EXPORT_SYMBOL_GPL(goalloc_cache_free_bulk);

/**
 * goalloc_cache_alloc_bulk() - allocate many objects from a named cache
 * @cache: the cache
 * @gfp: allocation mask
 * @n: how many
 * @ptrs: where to put them
 *
 * All or nothing, as kmem_cache_alloc_bulk(): batches of the CPU's span,
 * as goalloc_alloc_bulk().
 *
 * Return: @n, or 0 (nothing left allocated).
 */
int goalloc_cache_alloc_bulk(struct goalloc_cache *cache, gfp_t gfp, size_t n, void **ptrs)
{
	bool post = cache_post_alloc_wanted(gfp);
	size_t i = 0, j, start, end;
	int asked = NUMA_NO_NODE;

	cache_might_alloc(gfp);
	if (unlikely(gfp & cache->gfp_refused)) {
		cache_refuse(cache, _RET_IP_);
		return 0;
	}
	while (i < n) {
		start = i;
		end = min(n, i + GOALLOC_BULK_BATCH);
		i += goalloc_mcache_alloc_bulk(cache->spc, end - i, ptrs + i, n, &asked);
		for (j = start; post && j < i; j++)
			cache_post_alloc(cache, ptrs[j], gfp);
		for (j = start; goalloc_observing() && j < i; j++)
			goalloc_mprof_alloc(ptrs[j], cache->object_size, gfp, _RET_IP_);
		if (i == end)
			continue;
		/*
		 * A span must grow (or the cache is busy): the single path's,
		 * with a span grown for the call's objects (rule 8).
		 */
		ptrs[i] = cache_next_free(cache, gfp, NUMA_NO_NODE, _RET_IP_, n, asked);
		if (!ptrs[i]) {
			goalloc_cache_free_bulk(cache, i, ptrs);
			return 0;
		}
		i++;
	}
	return n;
}
EXPORT_SYMBOL_GPL(goalloc_cache_alloc_bulk);

/**
 * goalloc_cache_size() - the object size of a named cache (kmem_cache_size())
 * @cache: the cache
 *
 * Return: the size asked for at creation.
 */
unsigned int goalloc_cache_size(struct goalloc_cache *cache)
{
	return cache->object_size;
}
EXPORT_SYMBOL_GPL(goalloc_cache_size);

/*
 * SLUB's rounding (mm/slab_common.c, calculate_alignment() and its caller):
 * SLAB_HWCACHE_ALIGN asks for the cache line, halved while the object fits
 * in half of it; never below the caller's alignment, ARCH_SLAB_MINALIGN or
 * a word.  The size is a word multiple, then a multiple of the alignment.
 * SLUB adds a free pointer outside the object for constructor and
 * SLAB_TYPESAFE_BY_RCU caches; goalloc keeps its free state out of band.
 */
static unsigned int cache_align(slab_flags_t flags, unsigned int align, unsigned int size)
{
	if (flags & SLAB_HWCACHE_ALIGN) {
		unsigned int ralign = cache_line_size();

		while (size <= ralign / 2)
			ralign /= 2;
		align = max(align, ralign);
	}
	align = max_t(unsigned int, align, ARCH_SLAB_MINALIGN);
	return ALIGN(align, sizeof(void *));
}

/*
 * Go's span rule (tools/mksizeclasses.py, rules 2 and 5): the fewest heap
 * pages whose tail (span % size) is at most an eighth of the span, and at
 * least 8 objects or 32 KiB.  cache_big_pages() is rule 6.
 */
static unsigned int cache_span_pages(unsigned int size)
{
	unsigned long span = GOALLOC_PAGE_SIZE;

	while ((span / size < 8 && span < 32768) || span % size > span / 8)
		span += GOALLOC_PAGE_SIZE;
	return span / GOALLOC_PAGE_SIZE;
}

/*
 * The big shape (tools/mksizeclasses.py rule 6): the fewest heap pages from
 * @npages holding at least goalloc_big_objs() objects, tail at most an
 * eighth, within the page cache's largest run; else the most objects that
 * run can hold (@npages if no more than its own).
 */
static unsigned int cache_big_pages(unsigned int size, unsigned int npages)
{
	unsigned int pages, best = npages;

	for (pages = npages; pages <= GOALLOC_BIG_MAX_PAGES; pages++) {
		unsigned long span = pages * GOALLOC_PAGE_SIZE;

		if (span % size > span / 8)
			continue;
		if (span / size >= goalloc_big_objs(size))
			return pages;
		if (span / size > best * GOALLOC_PAGE_SIZE / size)
			best = pages;
	}
	return best;
}

/* Go's divMagic, checked for every slot of the span (as KUnit checks Go's). */
static bool cache_div_exact(u32 div_mul, unsigned int size, unsigned int nelems)
{
	unsigned int i;

	for (i = 0; i < nelems; i++) {
		unsigned long off = (unsigned long)i * size;

		if (goalloc_div_index(div_mul, off) != i ||
		    goalloc_div_index(div_mul, off + size - 1) != i)
			return false;
	}
	return true;
}

/* A free slot, or a leaked cache's whose spans are all gone.  Mutex held. */
static int cache_take_slot(struct goalloc_cache **old)
{
	struct goalloc_cache *c;
	unsigned int i;

	lockdep_assert_held(&goalloc_cache_mutex);
	*old = NULL;
	for (i = 0; i < GOALLOC_MAX_CACHES; i++)
		if (slot_state[i] == SLOT_FREE)
			return i;
	list_for_each_entry(c, &goalloc_caches, list) {
		if (c->dead && !goalloc_central_nspans(c->spc)) {
			list_del(&c->list);
			*old = c;
			return c->slot;
		}
	}
	return -ENOSPC;
}

#ifdef SLAB_NO_MERGE
#define GOALLOC_SLAB_NO_MERGE	SLAB_NO_MERGE
#else
#define GOALLOC_SLAB_NO_MERGE	((__force slab_flags_t)0)
#endif

/* Flags a cache may have; anything else is refused. */
#define GOALLOC_CACHE_FLAGS	(SLAB_HWCACHE_ALIGN | SLAB_TYPESAFE_BY_RCU | SLAB_PANIC | \
				 SLAB_ACCOUNT | SLAB_RECLAIM_ACCOUNT | GOALLOC_SLAB_NO_MERGE | \
				 SLAB_NOLEAKTRACE | SLAB_NO_USER_FLAGS | SLAB_RED_ZONE | \
				 SLAB_POISON | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS | \
				 SLAB_TRACE)

static struct goalloc_cache *cache_create(const char *name, unsigned int object_size,
					  const struct goalloc_cache_args *args,
					  slab_flags_t flags)
{
	unsigned int align, size, npages, big_npages, nelems, useroffset, usersize;
	struct goalloc_cache_class *cc;
	struct goalloc_cache *cache, *old;
	u32 div_mul;
	int slot;

	if (!name || !object_size || object_size > GOALLOC_CACHE_MAX_SIZE ||
	    (args->align && !is_power_of_2(args->align)) ||
	    args->align > GOALLOC_CACHE_MAX_ALIGN || (flags & ~GOALLOC_CACHE_FLAGS)) {
		pr_err("cache %s: object size %u, align %u, flags %#x: not supported\n",
		       name ?: "(null)", object_size, args->align, (__force unsigned int)flags);
		return NULL;
	}
	if (flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS |
		     SLAB_TRACE))
		pr_notice_once("cache %s: SLUB's debug flags are ignored\n", name);
	if (flags & SLAB_ACCOUNT)
		pr_notice_once("cache %s: SLAB_ACCOUNT is not honoured: goalloc objects are not charged to a memory cgroup\n",
			       name);
	useroffset = args->useroffset;
	usersize = args->usersize;
	/* SLUB warns and drops an impossible region; this says so and drops it. */
	if ((!usersize && useroffset) || usersize > object_size ||
	    object_size - usersize < useroffset) {
		pr_err("cache %s: usercopy region %u+%u outside the object: dropped\n",
		       name, useroffset, usersize);
		useroffset = 0;
		usersize = 0;
	}
	size = ALIGN(object_size, sizeof(void *));
	align = cache_align(flags, args->align, size);
	size = ALIGN(size, align);
	npages = cache_span_pages(size);
	big_npages = cache_big_pages(size, npages);
	nelems = npages * GOALLOC_PAGE_SIZE / size;
	div_mul = 0xffffffffU / size + 1;
	if (!cache_div_exact(div_mul, size, big_npages * GOALLOC_PAGE_SIZE / size)) {
		pr_err("cache %s: no exact divisor for %u-byte objects\n", name, size);
		return NULL;
	}

	cache = kzalloc(sizeof(*cache), GFP_KERNEL);
	if (!cache)
		return NULL;
	cache->name = kstrdup_const(name, GFP_KERNEL);
	if (!cache->name) {
		kfree(cache);
		return NULL;
	}
	cache->object_size = object_size;
	cache->size = size;
	cache->align = align;
	cache->useroffset = useroffset;
	cache->usersize = usersize;
	cache->flags = flags;
	cache->ctor = args->ctor;
	if (args->ctor)
		cache->cflags |= GOALLOC_CF_CTOR | GOALLOC_CF_NO_INIT;
	if (flags & SLAB_TYPESAFE_BY_RCU)
		cache->cflags |= GOALLOC_CF_RCU | GOALLOC_CF_NO_INIT;
	cache->cflags |= GOALLOC_CF_CACHE;
	cache->gfp_refused = args->ctor ? __GFP_ZERO : 0;

	mutex_lock(&goalloc_cache_mutex);
	slot = cache_take_slot(&old);
	if (slot < 0) {
		mutex_unlock(&goalloc_cache_mutex);
		pr_err("cache %s: all %u cache slots in use\n", name, GOALLOC_MAX_CACHES);
		kfree_const(cache->name);
		kfree(cache);
		return NULL;
	}
	/* No span of the slot's class is left: its shape may change. */
	cc = &goalloc_cache_classes[slot];
	cc->info.size = size;
	cc->info.npages = npages;
	cc->info.nelems = nelems;
	cc->info.big_npages = big_npages;
	cc->info.small_npages = npages;
	cc->info.div_mul = div_mul;
	cc->ctor = args->ctor;
	cc->align_pages = max(1U, align / (unsigned int)GOALLOC_PAGE_SIZE);
	cc->cflags = cache->cflags;
	cache->slot = slot;
	cache->spc = goalloc_cache_spc(slot);
	slot_state[slot] = SLOT_USED;
	list_add_tail(&cache->list, &goalloc_caches);
	mutex_unlock(&goalloc_cache_mutex);
	if (old) {
		kfree_const(old->name);
		kfree(old);
	}
	return cache;
}

/**
 * goalloc_cache_create_args() - make a named cache (kmem_cache_create() with args)
 * @name: its name, for debugfs and reports (copied)
 * @object_size: bytes per object, up to 256 KiB
 * @args: alignment, usercopy region and constructor, as 6.12's
 *	struct kmem_cache_args; NULL for none
 * @flags: SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU, SLAB_PANIC; SLAB_ACCOUNT
 *	is not honoured (one notice), SLUB's debug flags and the merge and
 *	tracking flags are accepted and ignored; any other flag is refused
 *
 * The object size is rounded as SLUB rounds it (a word, then the
 * alignment); the cache's spans hold as many objects as Go's span rule
 * gives.  Up to 112 caches may exist at once.  May sleep.
 *
 * Return: the cache, or NULL (with a message; SLAB_PANIC panics).
 */
struct goalloc_cache *goalloc_cache_create_args(const char *name, unsigned int object_size,
						const struct goalloc_cache_args *args,
						slab_flags_t flags)
{
	static const struct goalloc_cache_args none;
	struct goalloc_cache *cache;

	cache = cache_create(name, object_size, args ?: &none, flags);
	if (!cache && (flags & SLAB_PANIC))
		panic("goalloc: cannot create cache %s\n", name);
	return cache;
}
EXPORT_SYMBOL_GPL(goalloc_cache_create_args);

/**
 * goalloc_cache_create() - make a named cache (kmem_cache_create())
 * @name: its name (copied)
 * @object_size: bytes per object
 * @align: alignment, a power of two, or 0
 * @flags: as goalloc_cache_create_args()
 * @ctor: constructor, run on each object when its span is made, or NULL
 *
 * Return: the cache, or NULL.
 */
struct goalloc_cache *goalloc_cache_create(const char *name, unsigned int object_size,
					   unsigned int align, slab_flags_t flags,
					   void (*ctor)(void *obj))
{
	struct goalloc_cache_args args = { .align = align, .ctor = ctor };

	return goalloc_cache_create_args(name, object_size, &args, flags);
}
EXPORT_SYMBOL_GPL(goalloc_cache_create);

/**
 * goalloc_cache_destroy() - destroy a named cache (kmem_cache_destroy())
 * @cache: the cache, or NULL
 *
 * Waits for the RCU-deferred frees queued so far (goalloc_free_rcu(), which
 * may hold the cache's objects) and for pending RCU callbacks (a
 * SLAB_TYPESAFE_BY_RCU cache's spans wait for a grace period before they go
 * back to the heap), takes the
 * cache's span back from every CPU and gives every empty span back to the
 * heap.  Objects still in use are reported (cache name and count, one
 * message) and their spans kept: they stay valid memory, never reused, and
 * goalloc_free() still frees them.  May sleep.
 */
void goalloc_cache_destroy(struct goalloc_cache *cache)
{
	unsigned long live;

	if (!cache)
		return;
	/* Objects of the cache may wait on a CPU's goalloc_free_rcu() list. */
	goalloc_rcu_barrier();
	rcu_barrier();
	goalloc_drain_class(cache->spc);
	live = goalloc_central_retire_class(cache->spc);
	/* The spans just retired, if they wait for a grace period. */
	if (cache->cflags & GOALLOC_CF_RCU)
		rcu_barrier();
	mutex_lock(&goalloc_cache_mutex);
	if (live) {
		cache->dead = true;
		cache->leaked = live;
		slot_state[cache->slot] = SLOT_LEAKED;
	} else {
		list_del(&cache->list);
		slot_state[cache->slot] = SLOT_FREE;
	}
	mutex_unlock(&goalloc_cache_mutex);
	if (live) {
		atomic_long_inc(&goalloc_cache_leak_reports);
		pr_err("cache %s destroyed with %lu objects in use: their memory stays allocated\n",
		       cache->name, live);
		return;
	}
	kfree_const(cache->name);
	kfree(cache);
}
EXPORT_SYMBOL_GPL(goalloc_cache_destroy);

/*
 * debugfs goalloc/caches: slabinfo's columns, one line per cache, then the
 * objects allocated in its slot's span class since load (a slot reused by a
 * new cache carries on counting: what moves between two reads is the
 * cache's) and its size class (as goalloc/chunks names the spans); a
 * destroyed cache with objects in use marked "(destroyed)".
 */
/*
 * Slots in @spans spans holding @pages heap pages, each span of one of the
 * class's two shapes (read racily: clamped to what the spans can be).
 */
static unsigned long class_slots(const struct goalloc_class_info *ci, long spans, long pages)
{
	long big = 0;

	/* Bulk calls' spans (rule 8) too: a slot at most per span over. */
	if (pages > spans * (long)ci->big_npages)
		return pages * GOALLOC_PAGE_SIZE / ci->size;
	if (ci->big_npages > ci->npages)
		big = clamp((pages - spans * (long)ci->npages) / (ci->big_npages - ci->npages),
			    0L, spans);
	return (spans - big) * ci->nelems + big * (ci->big_npages * GOALLOC_PAGE_SIZE / ci->size);
}

static int caches_show(struct seq_file *m, void *v)
{
	struct goalloc_cache *cache;

	seq_puts(m, "# name            active_objs num_objs objsize slotsize objs/span pages/span spans held_bytes alloc_objs class\n");
	mutex_lock(&goalloc_cache_mutex);
	list_for_each_entry(cache, &goalloc_caches, list) {
		const struct goalloc_class_info *ci = &goalloc_cache_classes[cache->slot].info;
		struct goalloc_class_usage u;
		unsigned long held;
		long spans;

		goalloc_class_usage(cache->spc, &u);
		spans = max(u.nspans, 0L);
		held = max(u.npages, 0L) * GOALLOC_PAGE_SIZE;
		seq_printf(m, "%-17s %11ld %8lu %7u %8u %9u %10u %5ld %10lu %10lu %5u%s\n",
			   cache->name, (long)(u.nmalloc - u.nfree),
			   class_slots(ci, spans, u.npages), cache->object_size, cache->size,
			   ci->nelems, ci->npages, spans, held,
			   u.nmalloc, goalloc_spc_to_class(cache->spc),
			   cache->dead ? " (destroyed)" : "");
	}
	mutex_unlock(&goalloc_cache_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(caches);

/**
 * goalloc_cache_init() - set up named caches at load
 * @root: goalloc's debugfs directory
 */
void goalloc_cache_init(struct dentry *root)
{
	debugfs_create_file("caches", 0444, root, NULL, &caches_fops);
}

/*
 * At unload, before mcentral goes: every caller is gone, so only caches
 * destroyed with objects in use are left (mcentral reports their objects).
 */
void goalloc_cache_exit(void)
{
	struct goalloc_cache *cache, *tmp;

	mutex_lock(&goalloc_cache_mutex);
	list_for_each_entry_safe(cache, tmp, &goalloc_caches, list) {
		if (!cache->dead)
			pr_err("cache %s never destroyed\n", cache->name);
		list_del(&cache->list);
		kfree_const(cache->name);
		kfree(cache);
	}
	mutex_unlock(&goalloc_cache_mutex);
}
