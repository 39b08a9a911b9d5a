// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc: Go's runtime memory allocator, rebuilt as a kernel module.
 *
 * The map of the house (Documentation/design.rst tells it at length):
 *
 *   API (this file, arena.c) / chrdev
 *     -> mcache    per-CPU cache of one span per span class (Go's per-P mcache)
 *     -> mcentral  per-class lists of partial and full spans
 *     -> mheap     runs of 8 KiB heap pages carved from alloc_pages() chunks
 *     -> the buddy allocator
 *
 * A request is rounded up to one of 67 size classes (sizeclasses.c, made by
 * tools/mksizeclasses.py); each class has a scan and a noscan span class.
 * Objects above 32 KiB get a span of their own straight from the heap.  The
 * data path runs one way, top to bottom; a lower layer never calls up.
 *
 * This file holds the kernel API (Go's mallocgc and its free), bad-free
 * reporting, and module set-up and tear-down.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kmemleak.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
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

static_assert(GOALLOC_MAX_SIZE == GOALLOC_MAX_LARGE);

static struct dentry *goalloc_debugfs;

#ifdef GOALLOC_TEST_HOOKS
/* kmod/hooks.h: installed by KUnit tests only. */
goalloc_hook_fn goalloc_hooks[GOALLOC_NR_HOOKS];
EXPORT_SYMBOL_IF_KUNIT(goalloc_hooks);
#endif

/**
 * goalloc_version() - the version of the loaded goalloc module
 *
 * Return: a static string such as "0.2".
 */
const char *goalloc_version(void)
{
	return GOALLOC_VERSION;
}
EXPORT_SYMBOL_GPL(goalloc_version);

/*
 * goalloc_spc() for a request, spelled out: through goalloc_spc()'s bool
 * the compiler made three more instructions per allocation of it (make
 * bench-budget counted the pair at 234 instead of 231).  One table load
 * (goalloc_size_spc()) where two tables and a branch were.
 */
static __always_inline unsigned int spc_of(size_t size, gfp_t gfp)
{
	return goalloc_size_spc(size) + ((gfp & GOALLOC_NOSCAN) ? 1 : 0);
}

/*
 * Make a fresh object usable: sanitizers, and zeroing for __GFP_ZERO or
 * init_on_alloc (Debian's kernels boot with it on), as SLUB does.
 */
static __always_inline void *post_alloc(void *p, size_t size, size_t usable, gfp_t gfp)
{
	if (unlikely(want_init_on_alloc(gfp))) {
		goalloc_kasan_unpoison(p, usable);
		memset(p, 0, usable);
		if (round_up(size, 8) < usable)
			goalloc_kasan_poison(p + round_up(size, 8), usable - round_up(size, 8));
	} else {
		goalloc_kasan_unpoison(p, size);
	}
	kmemleak_alloc(p, size, 1, goalloc_gfp_reclaim(gfp));
	if (gfp & GOALLOC_NOSCAN)
		kmemleak_no_scan(p);
	return p;
}

/* __GFP_ACCOUNT cannot be honoured (Documentation/api.rst): say so once. */
static void note_gfp_account(gfp_t gfp)
{
	if (unlikely(gfp & __GFP_ACCOUNT))
		pr_notice_once("__GFP_ACCOUNT from %pS is not honoured: goalloc objects are not charged to a memory cgroup\n",
			       __builtin_return_address(0));
}

/*
 * Does post_alloc() do anything for @gfp in this kernel?  If not, the fast
 * path returns the slot as it is and calls nothing.
 */
static __always_inline bool post_alloc_wanted(gfp_t gfp)
{
	return IS_ENABLED(CONFIG_KASAN_GENERIC) || IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) ||
	       want_init_on_alloc(gfp);
}

/*
 * might_alloc()'s checks where a debug option makes them check something
 * (lockdep's reclaim annotation, DEBUG_ATOMIC_SLEEP), without the voluntary
 * preemption point it is on other kernels: 16 of the 231 instructions of an
 * alloc+free pair (tools/insn-trace.sh), for a call that never sleeps when
 * it takes a slot from its CPU's cache.  The slow path's page allocations
 * keep their own.
 */
static __always_inline void goalloc_might_alloc(gfp_t gfp)
{
	if (IS_ENABLED(CONFIG_LOCKDEP) || IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP))
		might_alloc(gfp & ~GOALLOC_NOSCAN);
}

/* Go's c.allocLarge: a span of its own, from mcache (which asks the heap). */
static noinline void *large_alloc(size_t size, gfp_t gfp, int node, unsigned long caller)
{
	struct goalloc_span *s;
	void *p;

	note_gfp_account(gfp);
	s = goalloc_mcache_alloc_large(size, (gfp & GOALLOC_NOSCAN) ? 1 : 0, gfp, node);
	if (!s)
		return NULL;
	p = post_alloc((void *)s->base, size, s->elemsize, gfp);
	goalloc_observe_alloc(caller, p, size, s->elemsize, gfp, node);
	return p;
}

/* goalloc_observe_alloc() for @p, an object of a size class (not a large one). */
static __always_inline void observe_small(unsigned long caller, const void *p, size_t size,
					  gfp_t gfp, int node)
{
	goalloc_observe_alloc(caller, p, size, goalloc_class_info[goalloc_size_class(size)].size,
			      gfp, node);
}

/* The alloc event of the fast path's object @p. */
static __always_inline void trace_small(unsigned long caller, const void *p, size_t size,
					gfp_t gfp)
{
	trace_alloc(caller, p, size, goalloc_class_info[goalloc_size_class(size)].size,
		    gfp & ~GOALLOC_NOSCAN, NUMA_NO_NODE);
}

/*
 * Go's nextFree for a size class's object, made usable and observed:
 * @want objects asked for in all (1, or a bulk call's count: a span grown
 * here then holds them); @asked, the node whose mcentral a bulk call found
 * with no span (goalloc_mcache_alloc_bulk()), else NUMA_NO_NODE.
 */
static __always_inline void *small_slow(size_t size, gfp_t gfp, int node, unsigned long caller,
					size_t want, int asked)
{
	void *p;

	might_alloc(gfp & ~GOALLOC_NOSCAN);
	note_gfp_account(gfp);
	if (want == 1)
		p = goalloc_mcache_next_free(spc_of(size, gfp), size, gfp, node);
	else
		p = goalloc_mcache_next_free_bulk(spc_of(size, gfp), size, gfp, want, asked);
	if (!p)
		return NULL;
	p = post_alloc(p, size, goalloc_class_info[goalloc_size_class(size)].size, gfp);
	observe_small(caller, p, size, gfp, node);
	return p;
}

/*
 * Everything goalloc_alloc_node()'s fast path leaves: size 0, too large,
 * large objects, a NUMA node asked for, and Go's nextFree (the CPU's span
 * has no free slot at hand, or the cache is busy: an interrupt inside it).
 * @caller: the API's caller, for the alloc event and messages.
 */
static noinline void *alloc_slow(size_t size, gfp_t gfp, int node, unsigned long caller)
{
	if (unlikely(!size))
		return ZERO_SIZE_PTR;
	if (unlikely(size > GOALLOC_MAX_CLASS_SIZE)) {
		might_alloc(gfp & ~GOALLOC_NOSCAN);
		if (unlikely(size > GOALLOC_MAX_SIZE)) {
			if (!(gfp & __GFP_NOWARN))
				pr_warn_ratelimited("allocation of %zu bytes from %pS: over the %lu-byte maximum\n",
						    size, (void *)caller, GOALLOC_MAX_SIZE);
			return NULL;
		}
		return large_alloc(size, gfp, node, caller);
	}
	return small_slow(size, gfp, node, caller, 1, NUMA_NO_NODE);
}

/*
 * The fast path's object when its alloc event is on or its turn in the
 * profile came (@p last: the fast path makes it where it returns it, and
 * moves it only for this call).
 */
static noinline void *alloc_observed(size_t size, gfp_t gfp, unsigned long caller, void *p)
{
	trace_small(caller, p, size, gfp);
	goalloc_mprof_sampled(p, size, gfp, caller);
	return p;
}

/*
 * A slot from the fast path when goalloc_alloc_hooks_wanted(): made usable
 * (post_alloc_wanted()) and observed, or only counted down to the
 * profile's next sample, with a tail call when there is more to do.  @p
 * last, as alloc_observed()'s.
 */
static noinline void *alloc_hooked(size_t size, gfp_t gfp, unsigned long caller, void *p)
{
	if (post_alloc_wanted(gfp)) {
		p = post_alloc(p, size, goalloc_class_info[goalloc_size_class(size)].size, gfp);
		observe_small(caller, p, size, gfp, NUMA_NO_NODE);
		return p;
	}
	if (goalloc_observing() && goalloc_mprof_count(size))
		return alloc_observed(size, gfp, caller, p);
	return p;
}

/*
 * goalloc_alloc()'s body, for it and for goalloc_alloc_node()'s calls for
 * this CPU's node.  Always inlined, so _RET_IP_ in it is the API entry's
 * caller (GCC's __builtin_return_address() in an inlined body), and it is
 * read only on the way into an out-of-line path, which takes it as an
 * argument: reading their own return address would name goalloc wherever
 * the compiler does not make them tail calls (the KCSAN kernel's
 * instrumentation, for one).  Read up front and kept in a register, it
 * cost the fast path three instructions a pair (a register saved, the
 * load).
 */
static __always_inline void *alloc_fast(size_t size, gfp_t gfp)
{
	void *p;

	goalloc_might_alloc(gfp);
	/*
	 * The fast path calls nothing: every other case is one tail call.
	 * Size 0 maps to span class 0 or 1 (large objects), whose cached span
	 * is always the empty placeholder: its take fails, and alloc_slow()
	 * returns ZERO_SIZE_PTR.
	 */
	if (unlikely(size > GOALLOC_MAX_CLASS_SIZE))
		return alloc_slow(size, gfp, NUMA_NO_NODE, _RET_IP_);
	if (unlikely(!goalloc_mcache_take_one(spc_of(size, gfp), &p)))
		return alloc_slow(size, gfp, NUMA_NO_NODE, _RET_IP_);
	/*
	 * __GFP_ZERO, and one patched-out jump for everything else
	 * (observe.h): init_on_alloc, the profile, the alloc event.
	 */
	if (unlikely(goalloc_alloc_hooks_wanted(gfp)))
		return alloc_hooked(size, gfp, _RET_IP_, p);
	return p;
}

/**
 * goalloc_alloc() - allocate memory
 * @size: bytes wanted
 * @gfp: allocation mask, as for kmalloc(), optionally with GOALLOC_NOSCAN
 *
 * goalloc_alloc_node() for any node (kmalloc()), its own entry so that the
 * fast path tests no node.
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
void *goalloc_alloc(size_t size, gfp_t gfp)
{
	return alloc_fast(size, gfp);
}
EXPORT_SYMBOL_GPL(goalloc_alloc);

/**
 * goalloc_alloc_node() - allocate memory from a NUMA node
 * @size: bytes wanted
 * @gfp: allocation mask, as for kmalloc(); GOALLOC_NOSCAN may be ORed in
 * @node: the node preferred, or NUMA_NO_NODE for this CPU's
 *
 * Like kmalloc_node(): the object comes from @node if it has memory, else
 * from the nearest node that has (the page allocator's zonelist order);
 * with __GFP_THISNODE from @node or not at all.  A request for this CPU's
 * own node, unless required, takes the fast path: each CPU's cache holds
 * spans of its node.  Another node's objects come from that node's
 * mcentral under its lock.  A node id that does not exist fails, with one
 * rate-limited message.  Sleeps only if @gfp allows, so GFP_ATOMIC and
 * GFP_NOWAIT work in any context but NMI (and, on PREEMPT_RT, but hard
 * interrupt context, as for kmalloc()).  __GFP_ZERO zeroes the whole
 * usable size, and so does init_on_alloc.  __GFP_ACCOUNT is not honoured
 * (one notice says so): goalloc objects are not charged to a memcg.
 * Objects are 8-byte aligned at least, and power-of-two sizes are
 * naturally aligned.  Sizes up to GOALLOC_MAX_SIZE are served; a larger
 * one fails with one rate-limited warning (none under __GFP_NOWARN).
 * Unlike kmalloc(), a call served from the CPU's cache is not a voluntary
 * preemption point (see goalloc_might_alloc()).
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
void *goalloc_alloc_node(size_t size, gfp_t gfp, int node)
{
	void *p;

	if (node == NUMA_NO_NODE)
		return alloc_fast(size, gfp);
	if (node == numa_mem_id() && !(gfp & __GFP_THISNODE)) {
		p = alloc_fast(size, gfp);
		/*
		 * The task may have moved to another node's CPU before the
		 * fast path pinned it (or the node is out of memory): then the
		 * node's own path, which looks inside its section.
		 */
		if (likely(ZERO_OR_NULL_PTR(p) || page_to_nid(virt_to_page(p)) == node))
			return p;
		goalloc_free(p);
	}
	return alloc_slow(size, gfp, node, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goalloc_alloc_node);

/*
 * What goalloc_free()'s fast path leaves, inside the section it left open
 * with the span it found (@s, NULL if none), which this ends.  NULL and
 * ZERO_SIZE_PTR come here too (the span map has no span for them, so the
 * fast path tests neither) and are ignored; @caller for a bad free's report.
 */
static noinline void free_slow(const void *p, struct goalloc_mcache *c, struct goalloc_span *s,
			       unsigned long caller)
{
	int err;

	/* Every call, NULL included, as kmem:kfree; before the free. */
	trace_free(caller, p);
	goalloc_observe_free(s, p);
	err = goalloc_mcache_free_found(c, s, p, -1);
	if (unlikely(err) && !ZERO_OR_NULL_PTR(p))
		goalloc_report_bad_free(p, err, caller);
}

/*
 * goalloc_free_remote()'s every other case: a span with sampled objects (the
 * record goes first), a large object's, or a refused free.
 */
static noinline void free_remote_slow(const void *p, unsigned long caller,
				      struct goalloc_span *s)
{
	int err;

	goalloc_observe_free(s, p);
	err = goalloc_mcache_free_remote(p, s);
	if (unlikely(err))
		goalloc_report_bad_free(p, err, caller);
}

/* goalloc_free_remote() after the record: mcentral's move, then a refusal's report. */
static noinline void free_remote_end(const void *p, unsigned long caller,
				     struct goalloc_span *s, int err, bool fix)
{
	goalloc_mcache_free_remote_end(s, fix);
	if (unlikely(err))
		goalloc_report_bad_free(p, err, caller);
}

/**
 * goalloc_free_remote() - a free into a span this CPU does not own
 * @p: the object
 * @caller: the API's caller, for a bad free's report
 * @s: @p's span, from goalloc_mcache_free_fast() or
 *	goalloc_mcache_free_fast_spc(), which returned GOALLOC_FREE_REMOTE;
 *	their pin is still held, and this drops it
 *
 * goalloc_free()'s and goalloc_cache_free()'s (a tail call from each, @s
 * last, where their slow paths take it, so their fast paths load no
 * register more).  No free event here: the fast paths leave every free to
 * the slow path while the event is enabled.  A sampled object's record is
 * dropped here (the owner's path refuses spans with samples).  The common
 * case, a small object's free recorded in its span, calls nothing but in
 * tail position: it saves no register (every free of an N-then-N pattern
 * past the CPU's current span comes here).
 */
noinline void goalloc_free_remote(const void *p, unsigned long caller, struct goalloc_span *s)
{
	bool fix;
	int err;

	/*
	 * Sampled spans, large objects and spans that take no free (an
	 * arena's, a dead one: refused there) go the slow way; one read of
	 * the state tells the last two.
	 */
	if (unlikely(goalloc_observe_free_wanted(s)) || unlikely(!goalloc_span_small_live(s)))
		return free_remote_slow(p, caller, s);
	err = goalloc_mcache_free_remote_small(p, s, &fix);
	if (unlikely(fix || err))
		return free_remote_end(p, caller, s, err, fix);
	goalloc_mcache_put();
}

/**
 * goalloc_free() - free memory from goalloc_alloc() and friends
 * @p: the object; NULL and ZERO_SIZE_PTR are ignored
 *
 * Any context but NMI, any CPU.  A pointer goalloc did not hand out, one
 * inside an object, one already freed or one into an arena is refused: it
 * is reported once (rate-limited) with the caller, and nothing changes.
 */
void goalloc_free(const void *p)
{
	enum goalloc_free_fast r;
	struct goalloc_mcache *c;
	struct goalloc_span *s;

	/*
	 * NULL and ZERO_SIZE_PTR: no span, so free_slow() ignores them.  The
	 * free event is free_slow()'s and goalloc_free_remote()'s: the fast path
	 * leaves every free to them while it is enabled.
	 */
	r = goalloc_mcache_free_fast(p, &c, &s);
	if (likely(r == GOALLOC_FREE_DONE))
		return;
	/* @p first, where it came: the fast path need not move it. */
	if (r == GOALLOC_FREE_REMOTE)
		goalloc_free_remote(p, _RET_IP_, s);
	else
		free_slow(p, c, s, _RET_IP_);
}
EXPORT_SYMBOL_GPL(goalloc_free);

/* The usable size of a live object, or an errno. */
static long object_size(const void *p)
{
	struct goalloc_span *s;
	unsigned long flags;
	unsigned int idx;
	long ret;

	rcu_read_lock();
	s = goalloc_span_of(p);
	if (!s) {
		rcu_read_unlock();
		return -EFAULT;
	}
	spin_lock_irqsave(&s->lock, flags);
	ret = goalloc_span_refusal(s);
	if (!ret && s->state == GOALLOC_SPAN_LARGE) {
		ret = p == (void *)s->base ? s->elemsize : -EINVAL;
	} else if (!ret) {
		ret = goalloc_span_check_free(s, p, &idx);
		if (!ret)
			ret = s->elemsize;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	rcu_read_unlock();
	return ret;
}

/**
 * goalloc_size() - usable size of an object (as ksize())
 * @p: an object from goalloc_alloc()
 *
 * KASAN lets the whole usable size be used afterwards (6.12's ksize() no
 * longer does), but the compiler still knows the object by the size that
 * was asked for (__alloc_size()): with FORTIFY_SOURCE a memcpy() or
 * memset() past it, where the allocation is in sight, is stopped as an
 * overflow, as it is for kmalloc() memory.  To use a whole slot, ask
 * goalloc_size_roundup() first and allocate that.
 *
 * Return: the size of the object's slot, 0 for NULL or ZERO_SIZE_PTR, or 0
 * (with a report) for a pointer that is not a live goalloc object.
 */
size_t goalloc_size(const void *p)
{
	long ret;

	if (ZERO_OR_NULL_PTR(p))
		return 0;
	ret = object_size(p);
	if (ret < 0) {
		goalloc_report_bad_free(p, ret, _RET_IP_);
		return 0;
	}
	goalloc_kasan_unpoison(p, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(goalloc_size);

/**
 * goalloc_size_roundup() - the usable size an allocation would get (as kmalloc_size_roundup())
 * @size: bytes that would be asked of goalloc_alloc()
 *
 * What goalloc_size() would report for an object of @size bytes: its size
 * class up to 32 KiB, above that whole 8 KiB heap pages.  Allocating the
 * rounded size up front is how a caller uses a whole slot with
 * FORTIFY_SOURCE on (see goalloc_size()).  Any context; reads only a
 * constant table.
 *
 * Return: the usable size; @size itself for 0 (goalloc_alloc() returns
 * ZERO_SIZE_PTR) and for sizes above GOALLOC_MAX_SIZE (which fail), as
 * kmalloc_size_roundup() does for its own limits.
 */
size_t goalloc_size_roundup(size_t size)
{
	if (!size || size > GOALLOC_MAX_SIZE)
		return size;
	if (size <= GOALLOC_MAX_CLASS_SIZE)
		return goalloc_class_info[goalloc_size_class(size)].size;
	return round_up(size, GOALLOC_PAGE_SIZE);
}
EXPORT_SYMBOL_GPL(goalloc_size_roundup);

/**
 * goalloc_realloc() - resize an object (as krealloc())
 * @p: the object, or NULL (then this is goalloc_alloc())
 * @size: the new size; 0 frees @p and returns ZERO_SIZE_PTR
 * @gfp: allocation mask for a new object
 *
 * Stays in place when @size fits the usable size; else moves the contents
 * to a new object.  On failure @p is untouched.  As with krealloc(),
 * __GFP_ZERO zeroes only memory that is new to the caller if @p itself was
 * allocated with __GFP_ZERO; and, as 6.12's krealloc(), under __GFP_ZERO or
 * init_on_alloc an object kept in place reads as zero past @size.
 *
 * Return: the object, or NULL (and @p still valid).
 */
void *goalloc_realloc(const void *p, size_t size, gfp_t gfp)
{
	long old;
	void *n;

	if (ZERO_OR_NULL_PTR(p))
		return alloc_fast(size, gfp);
	if (!size) {
		goalloc_free(p);
		return ZERO_SIZE_PTR;
	}
	old = object_size(p);
	if (old < 0) {
		goalloc_report_bad_free(p, old, _RET_IP_);
		return NULL;
	}
	if (size <= old) {
		/* As 6.12's krealloc(): what is past the new size reads as zero. */
		if (want_init_on_alloc(gfp)) {
			goalloc_kasan_unpoison(p, old);
			memset((void *)p + size, 0, old - size);
		}
		goalloc_kasan_unpoison(p, size);
		if (round_up(size, 8) < old)
			goalloc_kasan_poison(p + round_up(size, 8), old - round_up(size, 8));
		return (void *)p;
	}
	n = alloc_fast(size, gfp);
	if (!n)
		return NULL;
	goalloc_kasan_unpoison(p, old);
	memcpy(n, p, old);
	goalloc_free(p);
	return n;
}
EXPORT_SYMBOL_GPL(goalloc_realloc);

/*
 * goalloc_alloc_bulk() past its first batch, or for what that batch does
 * not take: from @ptrs[@i] on, the objects before it taken and made usable.
 * @caller: the API's caller, for the profile and the alloc event (read by
 * goalloc_alloc_bulk(): where the compiler makes this a call rather than a
 * tail call, this function's own return address names goalloc).  @asked:
 * the first batch's (goalloc_mcache_alloc_bulk()).
 */
static noinline int alloc_bulk_from(size_t size, gfp_t gfp, size_t n, void **ptrs, size_t i,
				    unsigned long caller, int asked)
{
	bool small = size && size <= GOALLOC_MAX_CLASS_SIZE;
	unsigned int spc = small ? spc_of(size, gfp) : 0;
	size_t usable = goalloc_class_info[goalloc_spc_class(spc)].size;
	bool post = post_alloc_wanted(gfp);
	size_t j, start, end;

	note_gfp_account(gfp);
	while (i < n) {
		start = i;
		end = min(n, i + GOALLOC_BULK_BATCH);
		if (small)
			i += goalloc_mcache_alloc_bulk(spc, end - i, ptrs + i, n, &asked);
		for (j = start; post && j < i; j++)
			post_alloc(ptrs[j], size, usable, gfp);
		for (j = start; goalloc_observing() && j < i; j++)
			goalloc_mprof_alloc(ptrs[j], size, gfp, caller);
		if (i == end)
			continue;
		/*
		 * A span must grow (or the cache is busy): the single path's,
		 * with a span grown for the call's objects (rule 8).
		 */
		ptrs[i] = small ? small_slow(size, gfp, NUMA_NO_NODE, caller, n, asked) :
				  alloc_slow(size, gfp, NUMA_NO_NODE, caller);
		if (!ptrs[i]) {
			goalloc_free_bulk(i, ptrs);
			return 0;
		}
		i++;
	}
	return n;
}

/**
 * goalloc_alloc_bulk() - allocate many objects of one size
 * @size: bytes per object
 * @gfp: allocation mask
 * @n: how many
 * @ptrs: where to put them
 *
 * All or nothing, as kmem_cache_alloc_bulk(): the objects come off the CPU's
 * spans with the cache entered once per GOALLOC_BULK_BATCH objects,
 * refilling from mcentral inside; only a heap grow leaves the batch.  Up to
 * one batch of a size class with nothing to do per object (no zeroing,
 * sanitizer or profiling) is one entry with nothing else around it.
 *
 * Return: @n, or 0 if the allocation failed (nothing is left allocated).
 */
int goalloc_alloc_bulk(size_t size, gfp_t gfp, size_t n, void **ptrs)
{
	int asked = NUMA_NO_NODE;
	size_t i = 0;

	goalloc_might_alloc(gfp);
	if (likely(size - 1 < GOALLOC_MAX_CLASS_SIZE && n <= GOALLOC_BULK_BATCH) &&
	    likely(!post_alloc_wanted(gfp) && !(gfp & __GFP_ACCOUNT)) && !goalloc_observing()) {
		i = goalloc_mcache_alloc_bulk(spc_of(size, gfp), n, ptrs, n, &asked);
		if (likely(i == n))
			return n;
	}
	return alloc_bulk_from(size, gfp, n, ptrs, i, _RET_IP_, asked);
}
EXPORT_SYMBOL_GPL(goalloc_alloc_bulk);

/**
 * goalloc_free_bulk() - free many objects
 * @n: how many
 * @ptrs: the objects, as goalloc_free() takes them
 */
void goalloc_free_bulk(size_t n, void **ptrs)
{
	size_t i;
	int err;

	if (goalloc_observing())
		goalloc_mprof_forget_many(n, ptrs);
	/* Batches in the cache; what an interrupt inside a section left, singly. */
	n = goalloc_mcache_free_bulk(n, ptrs, _RET_IP_);
	for (i = 0; i < n; i++) {
		if (ZERO_OR_NULL_PTR(ptrs[i]))
			continue;
		err = goalloc_mcache_free(ptrs[i]);
		if (unlikely(err))
			goalloc_report_bad_free(ptrs[i], err, _RET_IP_);
	}
}
EXPORT_SYMBOL_GPL(goalloc_free_bulk);

static int __init goalloc_init(void)
{
	int ret;

	/* Before the first allocation: init_on_alloc's zeroing is a hook. */
	goalloc_hooks_init();
	ret = goalloc_heap_init();
	if (ret)
		goto out_hooks;
	ret = goalloc_central_init();
	if (ret)
		goto out_heap;
	ret = goalloc_mcache_init();
	if (ret)
		goto out_central;
	ret = goalloc_scavenger_init();
	if (ret)
		goto out_mcache;
	ret = goalloc_free_rcu_init();
	if (ret)
		goto out_scavenger;
	ret = goalloc_chrdev_init();
	if (ret)
		goto out_free_rcu;
	goalloc_debugfs = debugfs_create_dir("goalloc", NULL);
	goalloc_stats_init(goalloc_debugfs);
	goalloc_cache_init(goalloc_debugfs);
	ret = goalloc_mprof_init(goalloc_debugfs);
	if (ret)
		goto out_debugfs;
	pr_info("version %s loaded: %d size classes, %lu-byte heap pages, objects up to %lu bytes\n",
		GOALLOC_VERSION, GOALLOC_NUM_CLASSES - 1, GOALLOC_PAGE_SIZE, GOALLOC_MAX_SIZE);
	return 0;

out_debugfs:
	debugfs_remove_recursive(goalloc_debugfs);
	goalloc_cache_exit();
	goalloc_chrdev_exit();
out_free_rcu:
	goalloc_free_rcu_exit();
out_scavenger:
	goalloc_scavenger_exit();
out_mcache:
	goalloc_mcache_exit();
out_central:
	goalloc_central_exit();
out_heap:
	goalloc_heap_exit();
out_hooks:
	goalloc_hooks_exit();
	return ret;
}

static void __exit goalloc_exit(void)
{
	goalloc_chrdev_exit();
	debugfs_remove_recursive(goalloc_debugfs);
	/* The profile's records name spans: dropped while every span is there. */
	goalloc_mprof_exit();
	/* The objects still waiting for a grace period go back first. */
	goalloc_free_rcu_exit();
	/* No shrinker or scavenger pass may run while the caches go. */
	goalloc_scavenger_exit();
	goalloc_mcache_exit();
	goalloc_cache_exit();
	goalloc_central_exit();
	goalloc_heap_exit();
	goalloc_hooks_exit();
	pr_info("unloaded\n");
}

module_init(goalloc_init);
module_exit(goalloc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Go's runtime memory allocator for the kernel");
MODULE_VERSION(GOALLOC_VERSION);
