// SPDX-License-Identifier: GPL-2.0
/*
 * mspan: slot allocation inside one span, the slow paths (Go's
 * nextFreeIndex and refillAllocCache), recorded frees, and the sweep that
 * folds them into the allocation bitmap.  The fast path is inline in
 * mspan.h.  The caller owns the span (see mspan.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/kmemleak.h>
#include <linux/overflow.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>

#include "internal.h"
#include "mspan.h"

/* The alloc cache is one bitmap word: goalloc supports 64-bit kernels. */
static_assert(BITS_PER_LONG == 64);

/*
 * Double frees found only later, by the owner, per span class: two frees
 * of one object at once, both counted as frees by their callers.  The
 * class's counts (mstats.c) take them back out.
 */
atomic_long_t goalloc_late_doubles[GOALLOC_NUM_SPC];
EXPORT_SYMBOL_IF_KUNIT(goalloc_late_doubles);

/* Set by KUnit around deliberate bad frees: count them, do not print. */
int goalloc_bad_free_quiet;
EXPORT_SYMBOL_IF_KUNIT(goalloc_bad_free_quiet);

static const char *bad_free_reason(int err)
{
	switch (err) {
	case -EFAULT:
		return "not goalloc memory";
	case -EINVAL:
		return "not the start of an object";
	case -EALREADY:
		return "double free";
	case -ESTALE:
		return "pointer into freed memory";
	case -EPERM:
		return "arena memory (freed with its arena)";
	case -EXDEV:
		return "not an object of this cache";
	default:
		return "invalid";
	}
}

/**
 * goalloc_report_bad_free() - report a refused free
 * @p: the pointer
 * @err: why, as an errno from the span layer
 * @caller: the caller's return address, or 0 if the free was found to be
 *	a double free only later (two frees of one object at once)
 *
 * Nothing was changed.  A caller's bad input never WARNs (panic_on_warn
 * machines exist): one rate-limited error line with the caller, and the
 * stack of the first in a burst.
 */
void goalloc_report_bad_free(const void *p, int err, unsigned long caller)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	goalloc_count(GOALLOC_CTR_BAD_FREES, 1);
	if (READ_ONCE(goalloc_bad_free_quiet) || !__ratelimit(&rs))
		return;
	if (caller) {
		pr_err("bad free of %p (%s) from %pS\n", p, bad_free_reason(err), (void *)caller);
		dump_stack();
	} else {
		pr_err("bad free of %p (%s, by two callers at once; found on reuse)\n", p,
		       bad_free_reason(err));
	}
}

/* 64 alloc bits from @idx (a multiple of 64), inverted: 1 = free. */
static u64 span_cache_word(const struct goalloc_span *s, unsigned int idx)
{
	return ~(u64)s->alloc_bits[idx / BITS_PER_LONG];
}

/* Refill the alloc cache for freeindex, which need not be 64-aligned. */
static void span_refill_cache(struct goalloc_span *s)
{
	unsigned int base = round_down(s->freeindex, 64);

	s->alloc_cache = span_cache_word(s, base) >> (s->freeindex - base);
}

/*
 * Descriptors whose bitmaps are one word each (spans of up to 64 slots:
 * classes from 128 bytes up, large objects, arenas) come from a cache of
 * their own, and are initialised field by field rather than zeroed: the
 * big classes make and free a span every few objects, and kzalloc() cost
 * them the size lookup and the memset of the whole descriptor.
 */
static struct kmem_cache *span_cache;

#define SPAN_CACHE_SIZE	struct_size_t(struct goalloc_span, bits, 3)

/**
 * goalloc_span_cache_init() - create the cache of span descriptors
 *
 * Before the first span is made (the heap's init calls it).
 *
 * Return: 0 or -ENOMEM.
 */
int goalloc_span_cache_init(void)
{
	span_cache = kmem_cache_create("goalloc_span", SPAN_CACHE_SIZE, 0, 0, NULL);
	return span_cache ? 0 : -ENOMEM;
}

/**
 * goalloc_span_cache_exit() - destroy the cache of span descriptors
 *
 * After the last span is freed and an rcu_barrier() has run the frees
 * goalloc_span_free_rcu() queued.
 */
void goalloc_span_cache_exit(void)
{
	kmem_cache_destroy(span_cache);
	span_cache = NULL;
}

/**
 * goalloc_span_create() - allocate an empty span over a range of memory
 * @base: address of the first slot
 * @cls: size class, 1 .. GOALLOC_NUM_ALL_CLASSES - 1 (a named cache's
 *	from GOALLOC_NUM_CLASSES on); or 0 for a span holding a
 *	single object of @npages heap pages (a large object, an arena)
 * @npages: heap pages in the span; for @cls > 0, 0 for the class's shape,
 *	or another of the class's shapes: small, big or a bulk call's (up to
 *	GOALLOC_BIG_MAX_PAGES, goalloc_mcache_bulk_shape())
 * @gfp: for the span's own memory
 *
 * The span and its bitmaps are one allocation: from the descriptors' cache
 * for spans of up to 64 slots, else kmalloc().
 *
 * Return: the span, or NULL.
 */
struct goalloc_span *goalloc_span_create(unsigned long base, unsigned int cls,
					 unsigned int npages, gfp_t gfp)
{
	const struct goalloc_class_info *c = goalloc_cls_info(cls);
	unsigned int nelems, nbits, nlongs;
	struct goalloc_span *s;

	if (cls) {
		/* A span of the class's big shape holds more of the same objects. */
		if (!npages)
			npages = c->npages;
		nelems = npages * GOALLOC_PAGE_SIZE / c->size;
	} else {
		nelems = 1;
	}
	/* Whole 64-bit words, so a cache reload never reads past the end. */
	nbits = round_up(nelems, 64);
	nlongs = BITS_TO_LONGS(nbits);

	if (nlongs == 1 && span_cache) {
		s = kmem_cache_alloc(span_cache, gfp & ~__GFP_ZERO);
		if (!s)
			return NULL;
		/* Every field: a new one must be set here too (the rest is zero). */
		*s = (struct goalloc_span) { .state = GOALLOC_SPAN_NEW };
		s->bits[0] = 0;
		s->bits[1] = 0;
		s->bits[2] = 0;
	} else {
		s = kzalloc(struct_size(s, bits, 3 * nlongs), gfp);
		if (!s)
			return NULL;
	}
	/*
	 * @base points at slot 0: were the span scanned, kmemleak would take
	 * that for a reference and never report a leak of the first object.
	 */
	kmemleak_no_scan(s);
	s->base = base;
	s->nelems = nelems;
	s->cls = cls;
	if (cls >= GOALLOC_NUM_CLASSES)
		s->cflags = goalloc_cache_classes[cls - GOALLOC_NUM_CLASSES].cflags;
	s->npages = npages;
	if (cls) {
		s->elemsize = c->size;
		s->div_mul = c->div_mul;
	} else {
		s->elemsize = npages * GOALLOC_PAGE_SIZE;
	}
	s->bytes = nelems * s->elemsize;
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->list);
	s->alloc_bits = s->bits;
	s->free_bits = s->bits + nlongs;
	s->remote_bits = s->bits + 2 * nlongs;
	/*
	 * Slots past nelems read as allocated, so the cache never offers them;
	 * a one-word bitmap (most classes) with one store, not bitmap_set()'s
	 * 26 instructions per span made.
	 */
	if (nbits == BITS_PER_LONG)
		s->alloc_bits[0] = nelems < BITS_PER_LONG ? ~0UL << nelems : 0;
	else
		bitmap_set(s->alloc_bits, nelems, nbits - nelems);
	span_refill_cache(s);
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_create);

/* A span's own memory goes back where it came from (kfree() takes both). */
static void span_free(struct goalloc_span *s)
{
	kfree(s);
}

/**
 * goalloc_span_construct() - run a named cache's constructor on every slot
 * @s: a new span of a cache class with a constructor, not yet on any list
 *	or in any cache: no slot can be handed out meanwhile
 *
 * SLUB runs the constructor on each object when it sets up a slab; so does
 * this, once per slot for the span's life: a slot is handed out
 * constructed and must come back constructed, and no wipe or zeroing
 * touches it in between (GOALLOC_CF_NO_INIT).  Free slots stay poisoned
 * for KASAN, but for a SLAB_TYPESAFE_BY_RCU cache's, which readers may read.
 */
void goalloc_span_construct(struct goalloc_span *s)
{
	void (*ctor)(void *obj) = goalloc_cache_classes[s->cls - GOALLOC_NUM_CLASSES].ctor;
	unsigned int i;

	for (i = 0; i < s->nelems; i++) {
		void *p = (void *)(s->base + (unsigned long)i * s->elemsize);

		goalloc_kasan_unpoison(p, s->elemsize);
		ctor(p);
		if (!(s->cflags & GOALLOC_CF_RCU))
			goalloc_kasan_poison(p, s->elemsize);
	}
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_construct);

/**
 * goalloc_span_destroy() - free a span's own memory at once
 * @s: the span, unreachable by any lookup; its pages are the caller's
 */
void goalloc_span_destroy(struct goalloc_span *s)
{
	span_free(s);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_destroy);

static void span_free_rcu_cb(struct rcu_head *head)
{
	span_free(container_of(head, struct goalloc_span, rcu));
}

/**
 * goalloc_span_free_rcu() - free a span's own memory after a grace period
 * @s: the span, gone from the span map; lookups that found it before may
 *	still read it until their RCU read-side sections end
 *
 * call_rcu() rather than kfree_rcu(), so that rcu_barrier() at unload
 * waits for every descriptor before their cache is destroyed (on every
 * supported kernel).  Any context.
 */
void goalloc_span_free_rcu(struct goalloc_span *s)
{
	call_rcu(&s->rcu, span_free_rcu_cb);
}

/*
 * Slot @idx, free in the owner's view, has a remote free recorded: the
 * remote free raced the owner's own free of the same object (see mspan.h).
 * The slot stays free; the remote record goes, as one double free.  The bit
 * is taken with an atomic test-and-clear, as remote frees set bits of the
 * same word without a lock; if a sweep took it first, the sweep reported it.
 */
static void span_drop_stale_remote(struct goalloc_span *s, unsigned int idx)
{
	if (!test_and_clear_bit(idx, s->remote_bits))
		return;
	atomic_dec(&s->nremote);
	atomic_long_inc(&goalloc_late_doubles[s->spc]);
	goalloc_report_bad_free((void *)(s->base + (unsigned long)idx * s->elemsize),
				-EALREADY, 0);
}

static void *span_next_free(struct goalloc_span *s)
{
	void *p = goalloc_span_next_free_fast(s);
	unsigned int bit, idx;

	if (p)
		return p;
	/* The empty span (nelems 0) stands in for many: never write it. */
	if (!s->nelems)
		return NULL;
	/*
	 * The fast takes leave freeindex on a word boundary with the cache
	 * empty when they take a word's last slot: load that word first.
	 */
	if (!s->alloc_cache && s->freeindex % 64 == 0 && s->freeindex < s->nelems)
		s->alloc_cache = span_cache_word(s, s->freeindex);
	while (!s->alloc_cache) {
		WRITE_ONCE(s->freeindex, round_up(s->freeindex + 1, 64));
		if (s->freeindex >= s->nelems) {
			WRITE_ONCE(s->freeindex, s->nelems);
			return NULL;
		}
		s->alloc_cache = span_cache_word(s, s->freeindex);
	}
	bit = __ffs64(s->alloc_cache);
	idx = s->freeindex + bit;
	if (idx >= s->nelems) {
		WRITE_ONCE(s->freeindex, s->nelems);
		s->alloc_cache = 0;
		return NULL;
	}
	/* No remote bit is set while nremote is 0 (mspan.h). */
	if (unlikely(atomic_read(&s->nremote)) && goalloc_span_remote_freed(s, idx))
		span_drop_stale_remote(s, idx);
	WRITE_ONCE(s->freeindex, idx + 1);
	if (s->freeindex % 64 == 0)
		s->alloc_cache = s->freeindex < s->nelems ?
				 span_cache_word(s, s->freeindex) : 0;
	else
		s->alloc_cache = (s->alloc_cache >> bit) >> 1;
	s->alloc_count++;
	return (void *)(s->base + (unsigned long)idx * s->elemsize);
}

/**
 * goalloc_span_next_free() - take the next free slot (Go's nextFree)
 * @s: the span, owned by the caller, who does not hold @s->lock
 *
 * The fast path first; else move freeindex to the next 64-slot word that
 * has a free slot and reload the cache from it.  A stale remote free of the
 * slot (a concurrent double free) is dropped first.
 *
 * Return: the slot's address, or NULL if the span is full until swept.
 */
void *goalloc_span_next_free(struct goalloc_span *s)
{
	return span_next_free(s);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_next_free);

/**
 * goalloc_span_next_free_locked() - goalloc_span_next_free() under @s->lock
 * @s: the span, owned by the caller (mcentral), who holds @s->lock
 *
 * Return: the slot's address, or NULL if the span is full until swept.
 */
void *goalloc_span_next_free_locked(struct goalloc_span *s)
{
	lockdep_assert_held(&s->lock);
	return span_next_free(s);
}

/**
 * goalloc_span_free() - record the free of one slot, as the span's owner
 * @s: the span
 * @p: the object: the exact start of a slot of this span
 *
 * Nothing changes unless @p is the start of an allocated slot.
 *
 * Return: 0, or an error from goalloc_span_check_free().
 */
int goalloc_span_free(struct goalloc_span *s, const void *p)
{
	unsigned int idx;
	int err = goalloc_span_check_free(s, p, &idx);

	if (err)
		return err;
	goalloc_span_free_owned(s, idx);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_free);

/* What a sweep found, over the words swept so far. */
struct sweep_tally {
	unsigned int freed;		/* slots freed */
	unsigned int count;		/* slots allocated after the sweep (pad bits too) */
	unsigned int taken;		/* remote bits taken */
	unsigned int doubles;		/* double frees reconciled */
	unsigned long first_double;	/* the first one's address */
};

/* One word of goalloc_span_sweep(): word @w, with freeindex @fi. */
static __always_inline void sweep_word(struct goalloc_span *s, unsigned int w, unsigned int fi,
				       struct sweep_tally *t)
{
	unsigned int lo = w * BITS_PER_LONG;
	unsigned long below, alloc, fb, rb, dup, f;

	/* Slots below freeindex in this word were handed out. */
	if (fi >= lo + BITS_PER_LONG)
		below = ~0UL;
	else if (fi > lo)
		below = BIT_MASK(fi - lo) - 1;
	else
		below = 0;
	alloc = s->alloc_bits[w] | below;
	fb = s->free_bits[w];
	rb = READ_ONCE(s->remote_bits[w]);
	if (rb)
		rb = xchg(&s->remote_bits[w], 0);
	t->taken += hweight_long(rb);
	dup = (fb & rb) | (rb & ~alloc);
	f = (fb | rb) & alloc;
	if (unlikely(dup)) {
		if (!t->doubles)
			t->first_double = s->base + (lo + __ffs(dup)) * (unsigned long)s->elemsize;
		t->doubles += hweight_long(dup);
	}
	alloc &= ~f;
	/* Remote checks read it without the lock (span_check_remote()). */
	WRITE_ONCE(s->alloc_bits[w], alloc);
	t->freed += hweight_long(f);
	t->count += hweight_long(alloc);
	WRITE_ONCE(s->free_bits[w], 0);
}

/* A sweep's double frees: counted and reported, after the span is consistent. */
static noinline unsigned int sweep_doubles(struct goalloc_span *s, unsigned int n,
					   unsigned long first, unsigned int freed)
{
	atomic_long_add(n, &goalloc_late_doubles[s->spc]);
	while (n--)
		goalloc_report_bad_free((void *)first, -EALREADY, 0);
	return freed;
}

/**
 * goalloc_span_sweep() - fold recorded frees into the allocation bitmap
 * @s: the span, owned by the caller, who also holds @s->lock if anyone
 *	else can reach the span
 *
 * Go's sweep swaps allocBits for the mark bits; goalloc has no marking, so
 * the recorded frees (the owner's and the remote ones) are cleared out of
 * alloc_bits instead.  Slots handed out since the last sweep (below
 * freeindex) count as allocated, then the scan restarts at slot 0.
 *
 * The two records are reconciled here (model: kmod/models/span_free.pml):
 * a slot freed by the owner and by someone else is freed once, and a
 * remote free of a slot that is not allocated (the owner had already
 * freed it back into its cache) frees nothing; each is one double free.
 * alloc_count is recounted from the bitmap, so it is exact afterwards.
 *
 * Remote frees go on meanwhile, without the lock: each word of remote_bits
 * is taken with xchg(), and nremote loses exactly the bits taken.  A bit
 * set after its word was taken stays for the next sweep.
 *
 * Return: the number of slots freed.
 */
unsigned int goalloc_span_sweep(struct goalloc_span *s)
{
	unsigned int nwords = BITS_TO_LONGS(s->nelems), fi = s->freeindex, w;
	struct sweep_tally t = {};

	/*
	 * Spans of up to 64 slots (every class from 128 bytes up) have one
	 * word: swept with no loop, and the compiler keeps the tally in
	 * registers.
	 */
	if (nwords == 1) {
		sweep_word(s, 0, fi, &t);
	} else {
		for (w = 0; w < nwords; w++)
			sweep_word(s, w, fi, &t);
	}
	/* The pad bits past nelems read as allocated: not objects. */
	s->alloc_count = t.count - (nwords * BITS_PER_LONG - s->nelems);
	s->nfree_pending = 0;
	if (t.taken)
		atomic_sub(t.taken, &s->nremote);
	/* alloc_bits and the recorded frees, then freeindex: span_check_remote(). */
	smp_wmb();
	WRITE_ONCE(s->freeindex, 0);
	span_refill_cache(s);
	if (unlikely(t.doubles))
		return sweep_doubles(s, t.doubles, t.first_double, t.freed);
	return t.freed;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_span_sweep);
