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
#include "mheap.h"

static_assert(GOALLOC_MAX_SIZE == GOALLOC_MAX_LARGE);

/* Bulk calls enter a CPU's cache for at most this many objects at a time. */
#define GOALLOC_BULK_BATCH	64

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

static __always_inline unsigned int spc_of(size_t size, gfp_t gfp)
{
	return goalloc_size_class(size) * 2 + ((gfp & GOALLOC_NOSCAN) ? 1 : 0);
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

/*
 * Undo post_alloc() for an object being freed; its free is not yet visible.
 * init_on_free wipes it, as SLUB does.
 */
static __always_inline void pre_free(const void *p, size_t usable)
{
	kmemleak_free(p);
	if (unlikely(want_init_on_free())) {
		goalloc_kasan_unpoison(p, usable);
		memset((void *)p, 0, usable);
	}
	goalloc_kasan_poison(p, usable);
}

/* __GFP_ACCOUNT cannot be honoured (Documentation/api.rst): say so once. */
static void note_gfp_account(gfp_t gfp)
{
	if (unlikely(gfp & __GFP_ACCOUNT))
		pr_notice_once("__GFP_ACCOUNT from %pS is not honoured: goalloc objects are not charged to a memory cgroup\n",
			       __builtin_return_address(0));
}

static void *large_alloc(size_t size, gfp_t gfp, int node)
{
	unsigned int npages = DIV_ROUND_UP(size, GOALLOC_PAGE_SIZE);
	struct goalloc_span *s;
	struct goalloc_mcentral *mc;

	note_gfp_account(gfp);
	s = goalloc_heap_alloc_span(!!(gfp & GOALLOC_NOSCAN), npages,
				    is_power_of_2(size) ? npages : 1, node,
				    GOALLOC_SPAN_LARGE, gfp);
	if (!s)
		return NULL;
	mc = &goalloc_central[s->spc];
	atomic_long_inc(&mc->nspans);
	atomic_long_inc(&mc->nmalloc);
	atomic_long_add(size, &mc->requested);
	return post_alloc((void *)s->base, size, s->elemsize, gfp);
}

static void count_alloc(struct goalloc_mcache *c, unsigned int spc, size_t size)
{
	c->stats[spc].nmalloc++;
	c->stats[spc].requested += size;
}

/*
 * Everything but the fast path: the current span ran out (refill from
 * mcentral or the heap), this CPU's cache is busy (an interrupt inside a
 * section: use mcentral), or a node was asked for.
 */
static noinline void *alloc_slow(size_t size, unsigned int spc, gfp_t gfp, int node)
{
	struct goalloc_mcache *c;
	struct goalloc_span *s;
	void *p;

	note_gfp_account(gfp);
	if (node == NUMA_NO_NODE) {
		c = goalloc_mcache_get();
		if (goalloc_mcache_enter(c)) {
			p = goalloc_span_next_free(c->alloc[spc]);
			if (!p)
				p = goalloc_mcache_refill(c, spc);
			if (p)
				count_alloc(c, spc, size);
			goalloc_mcache_leave(c);
			goalloc_mcache_put();
			if (p)
				return p;
			goto grow;
		}
		goalloc_mcache_put();
	}
	p = goalloc_central_alloc(spc, node);
	if (p) {
		atomic_long_inc(&goalloc_central[spc].nmalloc);
		atomic_long_add(size, &goalloc_central[spc].requested);
		return p;
	}
grow:
	/*
	 * Outside any section: this may sleep if @gfp allows.  A grow that
	 * succeeds yields the object (mheap carves the span under its lock;
	 * for __GFP_NOFAIL it retries the page allocator until it does).
	 */
	s = goalloc_central_grow(spc, node, gfp);
	if (!s)
		return NULL;
	if (node == NUMA_NO_NODE) {
		goalloc_hook(GOALLOC_HOOK_SPAN_GROWN, s);
		c = goalloc_mcache_get();
		if (goalloc_mcache_enter(c)) {
			p = goalloc_mcache_install(c, spc, s);
			count_alloc(c, spc, size);
			goalloc_mcache_leave(c);
			goalloc_mcache_put();
			return p;
		}
		goalloc_mcache_put();
	}
	/*
	 * A node request, or an interrupt inside this CPU's section: take the
	 * object while the span is still ours alone, then give the span to
	 * mcentral.
	 */
	p = goalloc_span_next_free(s);
	goalloc_central_add_span(s);
	atomic_long_inc(&goalloc_central[spc].nmalloc);
	atomic_long_add(size, &goalloc_central[spc].requested);
	return p;
}

/**
 * goalloc_alloc_node() - allocate memory from a NUMA node
 * @size: bytes wanted
 * @gfp: allocation mask, as for kmalloc(); GOALLOC_NOSCAN may be ORed in
 * @node: the node, or NUMA_NO_NODE for any (the fast path)
 *
 * Like kmalloc_node(): sleeps only if @gfp allows, so GFP_ATOMIC and
 * GFP_NOWAIT work in any context but NMI (and, on PREEMPT_RT, but hard
 * interrupt context, as for kmalloc()).  __GFP_ZERO zeroes the whole
 * usable size, and so does init_on_alloc.  __GFP_ACCOUNT is not honoured
 * (one notice says so): goalloc objects are not charged to a memcg.
 * Objects are 8-byte aligned at least, and power-of-two sizes are
 * naturally aligned.  Sizes up to GOALLOC_MAX_SIZE are served; a larger
 * one fails with one rate-limited warning (none under __GFP_NOWARN).
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
void *goalloc_alloc_node(size_t size, gfp_t gfp, int node)
{
	struct goalloc_mcache *c;
	unsigned int spc;
	void *p = NULL;

	might_alloc(gfp & ~GOALLOC_NOSCAN);
	if (unlikely(!size))
		return ZERO_SIZE_PTR;
	if (unlikely(size > GOALLOC_MAX_SMALL)) {
		if (unlikely(size > GOALLOC_MAX_SIZE)) {
			if (!(gfp & __GFP_NOWARN))
				pr_warn_ratelimited("allocation of %zu bytes from %pS: over the %lu-byte maximum\n",
						    size, (void *)_RET_IP_, GOALLOC_MAX_SIZE);
			return NULL;
		}
		return large_alloc(size, gfp, node);
	}
	spc = spc_of(size, gfp);
	if (likely(node == NUMA_NO_NODE)) {
		c = goalloc_mcache_get();
		if (likely(goalloc_mcache_enter(c))) {
			p = goalloc_span_next_free_fast(c->alloc[spc]);
			if (likely(p))
				count_alloc(c, spc, size);
			goalloc_mcache_leave(c);
		}
		goalloc_mcache_put();
	}
	if (unlikely(!p)) {
		p = alloc_slow(size, spc, gfp, node);
		if (!p)
			return NULL;
	}
	return post_alloc(p, size, goalloc_class_info[spc >> 1].size, gfp);
}
EXPORT_SYMBOL_GPL(goalloc_alloc_node);

/*
 * Record a non-owner's free of one slot of a small-object span, whose lock
 * the caller holds.
 */
static int free_slot_locked(struct goalloc_span *s, const void *p)
{
	int err;

	switch (s->state) {
	case GOALLOC_SPAN_DEAD:
		return -ESTALE;
	case GOALLOC_SPAN_ARENA:
	case GOALLOC_SPAN_USER:
		return -EPERM;
	default:
		err = goalloc_span_free_remote(s, p);
		/* The slot cannot be reused before a sweep, which needs our lock. */
		if (!err)
			pre_free(p, s->elemsize);
		return err;
	}
}

/* Must mcentral move the span after frees into it?  Span lock held. */
static bool needs_fixup(const struct goalloc_span *s)
{
	return (s->state == GOALLOC_SPAN_PARTIAL || s->state == GOALLOC_SPAN_FULL) &&
	       (s->state == GOALLOC_SPAN_FULL || goalloc_span_inuse_hint(s) <= 0);
}

/*
 * A free by anyone but the span's owner: under the span's lock, with no
 * mcentral lock unless the span must move.  The caller is in an RCU
 * read-side section (the mcache pin is one), which keeps @s readable.
 */
static int free_remote(struct goalloc_span *s, const void *p)
{
	unsigned long flags;
	bool fixup = false;
	int err = 0;

	goalloc_hook(GOALLOC_HOOK_REMOTE_FREE, (void *)p);
	spin_lock_irqsave(&s->lock, flags);
	switch (s->state) {
	case GOALLOC_SPAN_DEAD:
		err = -ESTALE;
		break;
	case GOALLOC_SPAN_ARENA:
	case GOALLOC_SPAN_USER:
		err = -EPERM;
		break;
	case GOALLOC_SPAN_LARGE:
		if (p != (void *)s->base) {
			err = -EINVAL;
			break;
		}
		goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
		pre_free(p, s->elemsize);
		break;
	default:
		err = free_slot_locked(s, p);
		fixup = !err && needs_fixup(s);
		break;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	if (err)
		return err;
	if (s->cls == 0) {
		atomic_long_inc(&goalloc_central[s->spc].nfree);
		atomic_long_dec(&goalloc_central[s->spc].nspans);
		goalloc_heap_free_span(s);
	} else if (fixup) {
		goalloc_central_fixup(s);
	}
	return 0;
}

/*
 * One free.  Whether the span is this CPU's is decided inside the cache's
 * section: an interrupt landing before it may run the span out, drain it or
 * give it to mcentral, after which only the locked path may touch it
 * (model: kmod/models/mcache_section.pml).
 */
static __always_inline int free_one(const void *p)
{
	struct goalloc_mcache *c;
	struct goalloc_span *s;
	unsigned int idx;
	int err;

	c = goalloc_mcache_get();
	s = goalloc_span_of(p);
	if (unlikely(!s)) {
		goalloc_mcache_put();
		return -EFAULT;
	}
	goalloc_hook(GOALLOC_HOOK_FREE_LOOKUP, (void *)p);
	if (likely(goalloc_mcache_enter(c))) {
		if (likely(c->alloc[s->spc] == s)) {
			/* The owner's free: no lock, no atomic instruction. */
			err = goalloc_span_check_free(s, p, &idx);
			if (likely(!err)) {
				goalloc_hook(GOALLOC_HOOK_OWNER_FREE, (void *)p);
				pre_free(p, s->elemsize);
				goalloc_span_free_owned(s, idx);
				c->stats[s->spc].nfree++;
				goalloc_hook(GOALLOC_HOOK_OWNER_FREED, (void *)p);
			}
			goalloc_mcache_leave(c);
			goalloc_mcache_put();
			return err;
		}
		goalloc_mcache_leave(c);
	}
	err = free_remote(s, p);
	if (!err && s->cls) {
		if (goalloc_mcache_enter(c)) {
			c->stats[s->spc].nfree++;
			goalloc_mcache_leave(c);
		} else {
			atomic_long_inc(&goalloc_central[s->spc].nfree);
		}
	}
	goalloc_mcache_put();
	return err;
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
	int err;

	if (unlikely(ZERO_OR_NULL_PTR(p)))
		return;
	err = free_one(p);
	if (unlikely(err))
		goalloc_report_bad_free(p, err, _RET_IP_);
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
	switch (s->state) {
	case GOALLOC_SPAN_DEAD:
		ret = -ESTALE;
		break;
	case GOALLOC_SPAN_ARENA:
	case GOALLOC_SPAN_USER:
		ret = -EPERM;
		break;
	case GOALLOC_SPAN_LARGE:
		ret = p == (void *)s->base ? s->elemsize : -EINVAL;
		break;
	default:
		ret = goalloc_span_check_free(s, p, &idx);
		if (!ret)
			ret = s->elemsize;
		break;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	rcu_read_unlock();
	return ret;
}

/**
 * goalloc_size() - usable size of an object (as ksize())
 * @p: an object from goalloc_alloc()
 *
 * The whole usable size may be used afterwards, as with ksize().
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
		return goalloc_alloc(size, gfp);
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
	n = goalloc_alloc(size, gfp);
	if (!n)
		return NULL;
	goalloc_kasan_unpoison(p, old);
	memcpy(n, p, old);
	goalloc_free(p);
	return n;
}
EXPORT_SYMBOL_GPL(goalloc_realloc);

/**
 * goalloc_alloc_bulk() - allocate many objects of one size
 * @size: bytes per object
 * @gfp: allocation mask
 * @n: how many
 * @ptrs: where to put them
 *
 * All or nothing, as kmem_cache_alloc_bulk(): the objects come off the CPU's
 * spans with the cache entered once per GOALLOC_BULK_BATCH objects,
 * refilling from mcentral inside; only a heap grow leaves the batch.
 *
 * Return: @n, or 0 if the allocation failed (nothing is left allocated).
 */
int goalloc_alloc_bulk(size_t size, gfp_t gfp, size_t n, void **ptrs)
{
	bool small = size && size <= GOALLOC_MAX_SMALL;
	unsigned int spc = small ? spc_of(size, gfp) : 0;
	struct goalloc_mcache *c;
	size_t i = 0, j, start, end;

	might_alloc(gfp & ~GOALLOC_NOSCAN);
	note_gfp_account(gfp);
	while (i < n) {
		start = i;
		end = min(n, i + GOALLOC_BULK_BATCH);
		c = goalloc_mcache_get();
		if (small && goalloc_mcache_enter(c)) {
			while (i < end) {
				i += goalloc_span_take_fast(c->alloc[spc], ptrs + i, end - i);
				if (i == end)
					break;
				/* Next word, an in-place sweep or a span from mcentral. */
				ptrs[i] = goalloc_span_next_free(c->alloc[spc]);
				if (!ptrs[i])
					ptrs[i] = goalloc_mcache_refill(c, spc);
				if (!ptrs[i])
					break;
				i++;
			}
			c->stats[spc].nmalloc += i - start;
			c->stats[spc].requested += (i - start) * size;
			goalloc_mcache_leave(c);
		}
		goalloc_mcache_put();
		for (j = start; j < i; j++)
			post_alloc(ptrs[j], size, goalloc_class_info[spc >> 1].size, gfp);
		if (i == end)
			continue;
		/* The heap must grow (or the cache is busy): the single path. */
		ptrs[i] = goalloc_alloc(size, gfp);
		if (!ptrs[i]) {
			goalloc_free_bulk(i, ptrs);
			return 0;
		}
		i++;
	}
	return n;
}
EXPORT_SYMBOL_GPL(goalloc_alloc_bulk);

/*
 * goalloc_free_bulk()'s frees into a small-object span this CPU does not
 * own: ptrs[@i] and the objects before it down to ptrs[@start] that lie in
 * the same span, under one hold of the span's lock and with at most one
 * mcentral fixup (SLUB's bulk free builds a detached freelist per slab for
 * the same reason).  Returns the index of the last object handled.
 */
static size_t free_remote_run(struct goalloc_mcache *c, struct goalloc_span *s,
			      void **ptrs, size_t i, size_t start, unsigned long caller)
{
	unsigned long range = (unsigned long)s->nelems * s->elemsize;
	unsigned long flags, nfree = 0;
	bool fixup, live;
	int err;

	spin_lock_irqsave(&s->lock, flags);
	/*
	 * Only a live span's range says its neighbours are its objects: a
	 * dead span's memory may already be another span's.
	 */
	live = s->state != GOALLOC_SPAN_DEAD && s->state != GOALLOC_SPAN_USER &&
	       s->state != GOALLOC_SPAN_ARENA;
	for (;;) {
		err = free_slot_locked(s, ptrs[i]);
		if (likely(!err))
			nfree++;
		else
			goalloc_report_bad_free(ptrs[i], err, caller);
		if (!live || i == start || ZERO_OR_NULL_PTR(ptrs[i - 1]) ||
		    (unsigned long)ptrs[i - 1] - s->base >= range)
			break;
		i--;
	}
	fixup = nfree && needs_fixup(s);
	spin_unlock_irqrestore(&s->lock, flags);
	if (fixup)
		goalloc_central_fixup(s);
	c->stats[s->spc].nfree += nfree;
	return i;
}

/**
 * goalloc_free_bulk() - free many objects
 * @n: how many
 * @ptrs: the objects, as goalloc_free() takes them
 */
void goalloc_free_bulk(size_t n, void **ptrs)
{
	struct goalloc_span *s, *own;
	struct goalloc_mcache *c;
	unsigned long nfree;
	unsigned int idx;
	size_t i, start;
	int err;

	/*
	 * Last to first: objects taken by goalloc_alloc_bulk() come back in
	 * the reverse of the order they were handed out, so each owner's
	 * free undoes the allocation before it and no sweep is needed.
	 */
	while (n) {
		start = n > GOALLOC_BULK_BATCH ? n - GOALLOC_BULK_BATCH : 0;
		c = goalloc_mcache_get();
		if (!goalloc_mcache_enter(c)) {
			/* An interrupt inside this CPU's section: one at a time. */
			goalloc_mcache_put();
			break;
		}
		/*
		 * Objects freed together mostly share a span: while they are
		 * in the span this CPU owns, skip the span map.  An owned span
		 * cannot go away inside the section.
		 */
		own = NULL;
		nfree = 0;
		for (i = n; i-- > start;) {
			const void *p = ptrs[i];

			if (unlikely(ZERO_OR_NULL_PTR(p)))
				continue;
			if (own && (unsigned long)p - own->base <
				   (unsigned long)own->nelems * own->elemsize) {
				s = own;
			} else {
				if (own)
					c->stats[own->spc].nfree += nfree;
				own = NULL;
				nfree = 0;
				s = goalloc_span_of(p);
			}
			if (unlikely(!s)) {
				err = -EFAULT;
			} else if (likely(c->alloc[s->spc] == s)) {
				err = goalloc_span_check_free(s, p, &idx);
				if (likely(!err)) {
					pre_free(p, s->elemsize);
					goalloc_span_free_owned(s, idx);
					own = s;
					nfree++;
				}
			} else if (s->cls) {
				i = free_remote_run(c, s, ptrs, i, start, _RET_IP_);
				continue;
			} else {
				err = free_remote(s, p);
			}
			if (unlikely(err))
				goalloc_report_bad_free(p, err, _RET_IP_);
		}
		if (own)
			c->stats[own->spc].nfree += nfree;
		goalloc_mcache_leave(c);
		goalloc_mcache_put();
		n = start;
	}
	for (i = 0; i < n; i++) {
		if (ZERO_OR_NULL_PTR(ptrs[i]))
			continue;
		err = free_one(ptrs[i]);
		if (unlikely(err))
			goalloc_report_bad_free(ptrs[i], err, _RET_IP_);
	}
}
EXPORT_SYMBOL_GPL(goalloc_free_bulk);

static int __init goalloc_init(void)
{
	int ret;

	ret = goalloc_heap_init();
	if (ret)
		return ret;
	goalloc_central_init();
	ret = goalloc_mcache_init();
	if (ret)
		goto out_heap;
	ret = goalloc_scavenger_init();
	if (ret)
		goto out_mcache;
	ret = goalloc_chrdev_init();
	if (ret)
		goto out_scavenger;
	goalloc_debugfs = debugfs_create_dir("goalloc", NULL);
	goalloc_stats_init(goalloc_debugfs);
	pr_info("version %s loaded: %d size classes, %lu-byte heap pages, objects up to %lu bytes\n",
		GOALLOC_VERSION, GOALLOC_NUM_CLASSES - 1, GOALLOC_PAGE_SIZE, GOALLOC_MAX_SIZE);
	return 0;

out_scavenger:
	goalloc_scavenger_exit();
out_mcache:
	goalloc_mcache_exit();
out_heap:
	goalloc_heap_exit();
	return ret;
}

static void __exit goalloc_exit(void)
{
	goalloc_chrdev_exit();
	debugfs_remove_recursive(goalloc_debugfs);
	/* No shrinker or scavenger pass may run while the caches go. */
	goalloc_scavenger_exit();
	goalloc_mcache_exit();
	goalloc_central_exit();
	goalloc_heap_exit();
	pr_info("unloaded\n");
}

module_init(goalloc_init);
module_exit(goalloc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Go's runtime memory allocator for the kernel");
MODULE_VERSION(GOALLOC_VERSION);
