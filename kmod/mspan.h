/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mspan: a run of heap pages cut into equal slots (Go's mspan).
 *
 * Allocation state lives out of band, in three bitmaps, never in the objects:
 *
 *  - alloc_bits: 1 = allocated, as of the last sweep.  Only the sweep writes
 *    it.  Every slot below freeindex is allocated; at or above freeindex a
 *    slot is free iff its alloc bit is 0.  Bits past nelems always read 1.
 *  - alloc_cache: the complement of the 64 alloc bits from freeindex on,
 *    shifted so that bit 0 is slot freeindex; ctz finds the next free slot.
 *  - free_bits: frees recorded by the span's owner since the last sweep (the
 *    slot Go's gcmarkBits occupies).
 *  - remote_bits: frees recorded by anyone else, with atomic bit operations
 *    and no lock (goalloc_span_free_remote()).
 *
 * The sweep folds remote_bits into free_bits and free_bits into alloc_bits.
 *
 * Ownership and locking.  A small span has one owner at a time: the mcache
 * of the CPU it is cached on (state GOALLOC_SPAN_CACHED, no lock: the
 * mcache's section keeps other users of that cache away), or mcentral
 * (states PARTIAL, FULL and EMPTY, under the class's mcentral lock *and*
 * @lock).  The owner alone changes freeindex, alloc_cache, alloc_count,
 * free_bits, nfree_pending and alloc_bits (the sweep, which also needs
 * @lock).  Anyone else frees through goalloc_span_free_remote(), with no
 * lock: it reads the owner's fields without changing them and writes only
 * remote_bits and nremote, with atomic instructions.
 *
 * Remote frees without a lock (model: kmod/models/span_free.pml).  A
 * remote free is: pin (atomic_inc(nremote), a full barrier), check the slot
 * against the owner's state, test_and_set_bit() in remote_bits (a full
 * barrier); a failed check or a bit found set unpins (atomic_dec, full
 * barrier).  So nremote counts the remote bits set plus the remote frees in
 * flight, and is never below the bits set: the owner need look at
 * remote_bits only while nremote != 0 (goalloc_span_next_free(),
 * goalloc_span_take_one() and the owner's free, goalloc_span_owner_free(),
 * skip the look when it is 0; the bulk take, goalloc_span_take_fast(),
 * reads the slot's remote word every time, which is always safe).  A pin
 * the owner's read of nremote missed belongs to a free whose
 * bit comes after that take: it frees the object just handed out, as any
 * double free racing a slot's reuse does (by address, no allocator can
 * tell it from a valid free of the new object).  The
 * sweep takes each word with xchg() and subtracts what it took.  After its
 * last write the remote free reads the span's state and counts and asks
 * mcentral to move the span if it must (a FULL span that gained a free
 * slot, a span that may be empty); mcentral, after each placement it
 * makes, issues a full barrier and looks again (mcentral.c, span_settle()):
 * of two such writer-then-reader sequences one always sees the other's
 * write, so no transition is missed although neither takes the other's
 * lock.  mcentral never retires a span while nremote != 0 (a remote free
 * in flight may still be reading it), and the sweep publishes alloc_bits
 * before it resets freeindex (smp_wmb(), paired in the remote check), so a
 * valid remote free is never refused because its check read a sweep
 * half-done.
 *
 * Concurrent double frees.  The owner's free and a remote free of one
 * object can run at once: each checks the slot is allocated, and neither
 * sees the other's record yet.  Rather than pay an atomic instruction on
 * the owner's free, the two records are reconciled by the owner, which is
 * the only one that can hand the slot out again:
 *
 *  - a slot set in both free_bits and remote_bits is freed once by the
 *    sweep, and one double free is reported;
 *  - a remote bit on a slot the owner already gave back to its alloc cache
 *    (the owner's LIFO free, goalloc_span_free_owned()) is found when the
 *    owner is about to hand the slot out again (goalloc_span_take_fast()
 *    stops there; goalloc_span_next_free() clears the bit and reports it)
 *    or by the sweep; the slot stays free, once.
 *
 * So a double free is reported exactly once and never frees a slot that is
 * free, and no count is off after a sweep.  Between sweeps alloc_count -
 * nfree_pending - nremote may undercount the objects in use by such a race:
 * it is a hint, and a span is only retired as empty after a sweep under
 * @lock (goalloc_span_sweep() recounts alloc_count from the bitmap).
 *
 * Span state (@state) changes only through goalloc_span_set_state(), under
 * @lock (and mcentral's lock where the list changes), which warns on a
 * transition the code must never make.
 */
#ifndef _GOALLOC_MSPAN_H
#define _GOALLOC_MSPAN_H

#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "hooks.h"
#include "internal.h"
#include "sizeclasses.h"

/* Where a span is; @state changes under @lock (and mcentral's lock). */
enum goalloc_span_state {
	GOALLOC_SPAN_NEW,	/* just made, not yet reachable by any lookup */
	GOALLOC_SPAN_CACHED,	/* current span of one CPU's mcache */
	GOALLOC_SPAN_PARTIAL,	/* in mcentral, may have free slots */
	GOALLOC_SPAN_FULL,	/* in mcentral, no free slots, no frees pending */
	GOALLOC_SPAN_KEPT,	/* in mcentral, no object, swept: kept for reuse */
	GOALLOC_SPAN_LARGE,	/* one large object */
	GOALLOC_SPAN_ARENA,	/* memory of a kernel arena */
	GOALLOC_SPAN_USER,	/* owned by a user arena (/dev/goalloc) */
	GOALLOC_SPAN_DEAD,	/* returned to the heap; freed after RCU */
};

struct goalloc_chunk;

/* goalloc_span.prof_slot: more than one sampled object, any slot may be one. */
#define GOALLOC_PROF_ANY	0xffff

/**
 * struct goalloc_span - a span of equal-sized slots
 * @base: address of slot 0
 * @bytes: @nelems * @elemsize, where the slots end (from @base); constant,
 *	so that a free's bound test is one compare with memory
 * @alloc_cache: inverted alloc bits from @freeindex to the end of its
 *	64-slot word (1 = free); at a word boundary, 0 may also mean the
 *	word is not loaded yet (the slow path loads it)
 * @elemsize: bytes per slot
 * @div_mul: multiplier for offset -> slot index (sizeclasses.h); a u32
 *	value kept in a long, so that the free's multiply reads it as is
 *	and its slot-start compare needs no copy of it (one instruction)
 * @nelems: slots in the span
 * @freeindex: slots below it are allocated; the scan for free slots starts here
 * @alloc_count: slots allocated as of the last sweep plus those handed out
 *	since (frees do not change it; the sweep subtracts them)
 * @nfree_pending: frees in @free_bits, not yet swept
 * @nremote: frees in @remote_bits not yet folded, plus remote frees in
 *	flight (mspan.h, top); atomic, written by anyone
 * @nprof: live objects of the span that the allocation-site profile
 *	sampled (mprof.c), changed under its lock, read without it: a free
 *	sees its own object's record (the object was handed out after it
 *	was made), so 0 means none of this free's concern
 * @prof_slot: which slot's free the owner's fast free must leave to the
 *	API's slow path (which drops the record): 0 with no sample, the
 *	sampled slot's index + 1 with one, GOALLOC_PROF_ANY (every slot)
 *	with more; under the profile's lock, read without it (a free reads
 *	its own object's slot or GOALLOC_PROF_ANY, never another's; model:
 *	kmod/models/mprof_slot.pml)
 * @watch: @nprof, @prof_slot and @nremote in one word, which the owner's
 *	fast free reads once for all (all are rarely nonzero)
 * @cls: size class, 0 for a large object or an arena
 * @spc: span class: cls * 2 + noscan
 * @state: an enum goalloc_span_state
 * @cflags: GOALLOC_CF_* flags of a named cache's span (sizeclasses.h), 0
 *	for others; constant
 * @npages: heap pages (GOALLOC_PAGE_SIZE) in the span
 * @nid: the node of @chunk, set with it when the heap carves the span: the
 *	span's mcentral (goalloc_span_central()) for its whole life, readable
 *	as long as the descriptor is (an RCU read-side section), also after
 *	the span went back to the heap and its chunk was freed
 * @upage: for a user arena's span, its first heap page in the arena's
 *	offset space
 * @lock: serialises the sweep, state changes and mcentral's decisions
 * @list: on an mcentral list (under its lock) or an arena's list
 * @chunk: the heap chunk holding the span's pages
 * @rcu: the span is freed after an RCU grace period, as lock-free lookups
 *	(goalloc_span_of()) may still hold it
 * @alloc_bits: allocation bitmap as of the last sweep
 * @free_bits: owner frees since the last sweep
 * @remote_bits: non-owner frees since the last fold
 * @bits: storage for the three bitmaps
 */
struct goalloc_span {
	unsigned long base;
	unsigned long bytes;
	u64 alloc_cache;
	u32 elemsize;
	u16 nelems;
	u16 freeindex;
	unsigned long div_mul;
	u16 alloc_count;
	u16 nfree_pending;
	u8 cls;
	u8 spc;
	u8 state;
	u8 cflags;
	u16 npages;
	u16 nid;
	union {
		struct {
			u16 nprof;
			u16 prof_slot;
			atomic_t nremote;
		};
		u64 watch;
	};
	u32 upage;
	spinlock_t lock;	/* see "Ownership and locking" above */
	struct list_head list;
	struct goalloc_chunk *chunk;
	struct rcu_head rcu;
	unsigned long *alloc_bits;
	unsigned long *free_bits;
	unsigned long *remote_bits;
	unsigned long bits[];
};

struct goalloc_span *goalloc_span_create(unsigned long base, unsigned int cls,
					 unsigned int npages, gfp_t gfp);
void goalloc_span_destroy(struct goalloc_span *s);
void goalloc_span_free_rcu(struct goalloc_span *s);
int goalloc_span_cache_init(void);
void goalloc_span_cache_exit(void);
void goalloc_span_construct(struct goalloc_span *s);
void *goalloc_span_next_free(struct goalloc_span *s);
int goalloc_span_free(struct goalloc_span *s, const void *p);
void *goalloc_span_next_free_locked(struct goalloc_span *s);
unsigned int goalloc_span_sweep(struct goalloc_span *s);

/**
 * goalloc_span_transition_ok() - may a span move from one state to another?
 * @from: its state now
 * @to: the state asked for
 *
 * Inline: every state change of a span's life asks (goalloc_span_set_state()),
 * and with @to known there the switch folds to a test or two.
 *
 * Return: true for the changes goalloc makes; a span that is dead or that
 * belongs to an arena or to one large object never comes back.
 */
static inline bool goalloc_span_transition_ok(enum goalloc_span_state from,
					      enum goalloc_span_state to)
{
	switch (from) {
	case GOALLOC_SPAN_NEW:
		return to != GOALLOC_SPAN_NEW;
	case GOALLOC_SPAN_CACHED:
	case GOALLOC_SPAN_PARTIAL:
	case GOALLOC_SPAN_FULL:
	case GOALLOC_SPAN_KEPT:
		return to == GOALLOC_SPAN_CACHED || to == GOALLOC_SPAN_PARTIAL ||
		       to == GOALLOC_SPAN_FULL || to == GOALLOC_SPAN_KEPT ||
		       to == GOALLOC_SPAN_DEAD;
	case GOALLOC_SPAN_LARGE:
	case GOALLOC_SPAN_ARENA:
	case GOALLOC_SPAN_USER:
		return to == GOALLOC_SPAN_DEAD;
	default:
		return false;
	}
}

/* Bad frees (mspan.c): counted always, reported once per burst. */
extern atomic_long_t goalloc_late_doubles[];
extern int goalloc_bad_free_quiet;
void goalloc_report_bad_free(const void *p, int err, unsigned long caller);

/**
 * goalloc_span_pre_free() - goalloc_pre_free() for an object of a span
 * @s: the object's span
 * @p: the object
 *
 * As SLUB's slab_want_init_on_free(): a constructor's cache or a
 * SLAB_TYPESAFE_BY_RCU one is never wiped (its objects stay constructed,
 * or readable by RCU readers); a SLAB_TYPESAFE_BY_RCU one is not poisoned
 * either, as readers may still load from it until they recheck it (KASAN
 * does the same for SLUB).  Everything else as goalloc_pre_free().
 */
static __always_inline void goalloc_span_pre_free(const struct goalloc_span *s, const void *p)
{
	/* The flags are read only where a check is on: no cost otherwise. */
	kmemleak_free(p);
	if (unlikely(want_init_on_free()) && !(s->cflags & GOALLOC_CF_NO_INIT)) {
		goalloc_kasan_unpoison(p, s->elemsize);
		memset((void *)p, 0, s->elemsize);
	}
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) && !(s->cflags & GOALLOC_CF_RCU))
		goalloc_kasan_poison(p, s->elemsize);
}

/**
 * goalloc_span_init_state() - set the state of a span nobody can reach yet
 * @s: a span from goalloc_span_create(), not yet published
 * @state: its first state
 */
static inline void goalloc_span_init_state(struct goalloc_span *s, enum goalloc_span_state state)
{
	WARN_ON_ONCE(s->state != GOALLOC_SPAN_NEW);
	s->state = state;
}

/**
 * goalloc_span_set_state() - move a span to another state
 * @s: the span, whose @lock the caller holds
 * @state: the new state
 *
 * Every state change of a published span goes through here.  A transition
 * goalloc never makes (goalloc_span_transition_ok()) warns: it is a bug in
 * goalloc, never the effect of a caller's bad input.
 */
static inline void goalloc_span_set_state(struct goalloc_span *s, enum goalloc_span_state state)
{
	lockdep_assert_held(&s->lock);
	WARN_ONCE(!goalloc_span_transition_ok(s->state, state),
		  "goalloc: span %p: illegal state change %u -> %u\n", s, s->state, state);
	WRITE_ONCE(s->state, state);
}

/**
 * goalloc_span_kill() - mark a published span dead, under its lock
 * @s: the span, about to go back to the heap; lookups that still find it
 *	see GOALLOC_SPAN_DEAD and refuse frees into it
 */
static inline void goalloc_span_kill(struct goalloc_span *s)
{
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	goalloc_span_set_state(s, GOALLOC_SPAN_DEAD);
	spin_unlock_irqrestore(&s->lock, flags);
}

/* Was slot @idx freed by a non-owner since the last sweep?  Any context. */
static __always_inline bool goalloc_span_remote_freed(const struct goalloc_span *s,
						      unsigned long idx)
{
	/*
	 * Set by remote frees with atomic bit operations; read without a lock.
	 * test_bit() is one read of the word (an atomic read to KCSAN): one
	 * bt with a memory operand, where READ_ONCE() of the word and a mask
	 * took five instructions.
	 */
	return test_bit(idx, s->remote_bits);
}

/*
 * Might a remote bit be set?  The owner's gate (the top of this file): no
 * bit is set while nremote is 0.  A remote free this read misses sets its
 * bit after it, as the model (kmod/models/span_free.pml) has it.
 */
static __always_inline bool goalloc_span_remote_pending(const struct goalloc_span *s)
{
	return atomic_read(&s->nremote) != 0;
}

/**
 * goalloc_span_inuse_hint() - objects allocated and not freed, as a hint
 * @s: the span
 *
 * For the owner, or for anyone holding @s->lock while mcentral owns the
 * span.  A concurrent double free (see the top of this file) records two
 * frees of one object until the owner reconciles them, so this may be too
 * low, even below zero; never too high.  Decide "empty" only after a sweep.
 *
 * Return: the count, signed.
 */
static inline int goalloc_span_inuse_hint(const struct goalloc_span *s)
{
	/* A remote free reads the owner's counts racily: a hint (see above). */
	return (int)data_race(s->alloc_count) - (int)data_race(s->nfree_pending) -
	       atomic_read(&s->nremote);
}

/**
 * goalloc_span_inuse() - objects allocated and not freed
 * @s: the span, with no concurrent double free pending: a user arena's, a
 *	test's, or one just swept
 *
 * Return: the count.
 */
static inline unsigned int goalloc_span_inuse(const struct goalloc_span *s)
{
	return max(goalloc_span_inuse_hint(s), 0);
}

/**
 * goalloc_span_take_fast() - take up to @n free slots from the alloc cache
 * @s: the span, owned by the caller
 * @ptrs: where to put the slots' addresses
 * @n: how many are wanted
 *
 * Go's nextFreeFast, for a run of slots.  The slots on offer are the
 * cache's bits (the rest of freeindex's 64-slot word; the next word's
 * load is the slow path's), cut
 * before the first slot with a remote free recorded (a concurrent double
 * free, see the top of this file: the slow path resolves it).  Then one
 * ctz and one clear-lowest-bit per slot; cache and freeindex are written
 * back once.
 *
 * Return: the number of slots taken.
 */
static __always_inline unsigned int goalloc_span_take_fast(struct goalloc_span *s, void **ptrs,
							   unsigned int n)
{
	unsigned int fi = s->freeindex, w = fi % 64, k;
	unsigned long size = s->elemsize, bit = 0, first;
	u64 cache = s->alloc_cache, avail = cache, remote;
	void **out = ptrs, **end = ptrs + n;

	/* An empty cache (the placeholder span's too, which has no bitmaps). */
	if (!cache)
		return 0;
	/* The cache's window lies in one word of remote_bits. */
	remote = (READ_ONCE(s->remote_bits[fi / 64]) >> w) & avail;
	if (unlikely(remote))
		avail &= (remote & -remote) - 1;
	/* Slot freeindex's address once; then a multiply, a store per slot. */
	first = s->base + (unsigned long)fi * size;
	while (out < end && avail) {
		bit = __ffs(avail);
		*out++ = (void *)(first + bit * size);
		avail &= avail - 1;
	}
	k = out - ptrs;
	if (k) {
		/* bit + 1 may be 64: shift in two steps to stay defined. */
		s->alloc_cache = (cache >> bit) >> 1;
		/* Remote frees read freeindex without the owner's help. */
		WRITE_ONCE(s->freeindex, fi + bit + 1);
		s->alloc_count += k;
	}
	return k;
}

/**
 * goalloc_span_take_one() - take a free slot from the alloc cache
 * @s: the span, owned by the caller
 * @pp: set to the slot's address on success
 *
 * Go's nextFreeFast: one ctz, no bitmap access but the remote-free word of
 * the slot, and that only while nremote != 0.  goalloc_span_take_fast()
 * for one slot, written for the fewest instructions: the cache never offers
 * a slot at or past nelems (the pad bits of alloc_bits read as allocated,
 * and the cache is their complement from freeindex), so that bound is not
 * tested; taking a word's last slot empties the cache, and the slow path
 * loads the next word (goalloc_span_next_free()).
 *
 * Return: true if a slot was taken, false if the slow path must look.
 */
static __always_inline bool goalloc_span_take_one(struct goalloc_span *s, void **pp)
{
	u64 cache = s->alloc_cache;
	unsigned long bit, idx;

	if (unlikely(!cache))
		return false;
	bit = __ffs(cache);
	idx = s->freeindex + bit;
	if (unlikely(goalloc_span_remote_pending(s)) && goalloc_span_remote_freed(s, idx))
		return false;
	/* bit + 1 may be 64: shift in two steps to stay defined. */
	s->alloc_cache = (cache >> bit) >> 1;
	/* Remote frees read freeindex without the owner's help. */
	WRITE_ONCE(s->freeindex, idx + 1);
	s->alloc_count++;
	*pp = (void *)(s->base + (unsigned long)idx * s->elemsize);
	return true;
}

/**
 * goalloc_span_next_free_fast() - take a free slot from the alloc cache
 * @s: the span, owned by the caller
 *
 * goalloc_span_take_one(), as a pointer.
 *
 * Return: the slot's address, or NULL if the slow path must look.
 */
static __always_inline void *goalloc_span_next_free_fast(struct goalloc_span *s)
{
	void *p;

	return goalloc_span_take_one(s, &p) ? p : NULL;
}

/**
 * goalloc_span_allocated() - is a slot allocated right now?
 * @s: the span
 * @idx: slot index, below nelems
 *
 * For the owner.  A non-owner checks with its own reads, ordered against
 * the sweep's writes (mspan.c, span_check_remote()).
 *
 * Return: true if the slot was handed out and its free not yet recorded.
 */
static __always_inline bool goalloc_span_allocated(const struct goalloc_span *s,
						   unsigned int idx)
{
	/* Benign race for a non-owner: see above. */
	if (data_race(test_bit(idx, s->free_bits)) || goalloc_span_remote_freed(s, idx))
		return false;
	return idx < READ_ONCE(s->freeindex) || test_bit(idx, s->alloc_bits);
}

/**
 * goalloc_span_refusal() - is every pointer into this span refused?
 * @s: the span, with its lock held, or owned by the caller
 *
 * The one place that says which span states the kernel API refuses
 * outright, for frees, sizes and reallocations alike: a dead span (its
 * memory went back to the heap: a stale pointer) and an arena's (the
 * arena's memory, never freed object by object).
 *
 * Return: -ESTALE, -EPERM, or 0 if @s holds objects of the API.
 */
static __always_inline int goalloc_span_refusal(const struct goalloc_span *s)
{
	u8 state = READ_ONCE(s->state);

	/* The states the API takes come first (enum goalloc_span_state): one test. */
	BUILD_BUG_ON(GOALLOC_SPAN_USER - GOALLOC_SPAN_ARENA != 1);
	BUILD_BUG_ON(GOALLOC_SPAN_DEAD - GOALLOC_SPAN_ARENA != 2);
	if (likely(state < GOALLOC_SPAN_ARENA))
		return 0;
	return state == GOALLOC_SPAN_DEAD ? -ESTALE : -EPERM;
}

/**
 * goalloc_span_check_free() - may this pointer be freed?
 * @s: the span
 * @p: the object: the exact start of an allocated slot of this span
 * @idxp: the slot index, set on success
 *
 * Return: 0; -EFAULT if @p is outside the span; -EINVAL if it points inside
 * a slot; -EALREADY if the slot is not allocated (a double free).
 */
static __always_inline int goalloc_span_check_free(const struct goalloc_span *s,
						   const void *p, unsigned int *idxp)
{
	unsigned long off = (unsigned long)p - s->base;
	unsigned int idx;

	/* Below @s->base, @off wraps past the end: one test for both. */
	if (off >= s->bytes)
		return -EFAULT;
	idx = goalloc_div_index(s->div_mul, off);
	/* @off < @bytes < 4 GiB: 32 bits suffice. */
	if ((u32)off != idx * s->elemsize)
		return -EINVAL;
	if (!goalloc_span_allocated(s, idx))
		return -EALREADY;
	*idxp = idx;
	return 0;
}

/**
 * goalloc_span_free_owned() - record the owner's free of an allocated slot
 * @s: the span, owned by the caller
 * @idx: the slot, checked by goalloc_span_check_free()
 *
 * The slot handed out last, if the alloc cache still covers it, goes
 * straight back into the cache (freeindex steps back over it), so an
 * alloc/free pair reuses one hot slot and needs no sweep.  Any other slot
 * is recorded in @free_bits for the next sweep.  "Handed out last" means
 * just below freeindex, inside the cache's 64-slot word, and free as of the
 * last sweep: freeindex also jumps over allocated slots, to a word
 * boundary or to the end of the span.  Stepping freeindex back
 * keeps the rule remote frees rely on: every other allocated slot stays
 * below it.
 */
static __always_inline void goalloc_span_free_owned(struct goalloc_span *s, unsigned int idx)
{
	if (idx + 1 == s->freeindex && s->freeindex % 64 && !test_bit(idx, s->alloc_bits)) {
		s->alloc_cache = (s->alloc_cache << 1) | 1;
		WRITE_ONCE(s->freeindex, idx);
		s->alloc_count--;
		return;
	}
	/* Remote readers of this word race benignly (goalloc_span_allocated()). */
	__set_bit(idx, s->free_bits);
	s->nfree_pending++;
}

/**
 * goalloc_span_undo_take() - the owner's free of the slot it took last
 * @s: the span, owned by the caller, whose last change to its alloc cache
 *	and freeindex was a goalloc_span_take_one() of the slot being freed
 *	(the mcache's @last_obj says so), with no remote free or sampled
 *	object pending (@watch 0)
 *
 * That take, undone: the slot was free as of the last sweep (the cache
 * offered it), is just below freeindex, and the cache still covers its
 * word (only the slow path loads the next one), so it goes back into the
 * cache with no test, as goalloc_span_owner_free()'s LIFO case would put
 * it.
 */
static __always_inline void goalloc_span_undo_take(struct goalloc_span *s)
{
	s->alloc_cache = (s->alloc_cache << 1) | 1;
	/* Remote frees read freeindex without the owner's help. */
	WRITE_ONCE(s->freeindex, s->freeindex - 1);
	s->alloc_count--;
}

/*
 * The owner's look at the watch word (@nremote, @prof_slot): is a remote
 * free or a sample pending on its span?  A racy read, on purpose, and not
 * READ_ONCE(), which GCC will not fold into a compare with memory (one
 * instruction more on every owner's free).  Any value it can return is
 * one the protocol allows: @prof_slot is written before the sampled object
 * is handed out, so a free of that object comes after it (mprof_slot.pml),
 * and an @nremote pin it misses belongs to a remote free whose bit comes
 * after it, which the sweep reconciles (see the top of this file;
 * span_free.pml's owner_free() gates on one read of nrem).  It is read
 * once, for one branch, so the compiler has nothing to re-read or tear
 * that a READ_ONCE() would have kept whole.
 */
static __always_inline bool goalloc_span_watched(const struct goalloc_span *s)
{
	/* Racy with remote frees' pins: any value is one the protocol allows. */
	return data_race(s->watch) != 0;
}

/**
 * goalloc_span_owner_free() - check and record the owner's free, in one
 * @s: the span, owned by the caller
 * @p: the pointer being freed, inside @s's pages
 * @lifo: a constant: the caller frees mostly in the reverse order of the
 *	allocations (the bulk free), so test first for the slot just handed
 *	out; else first for one handed out earlier (one compare)
 *
 * goalloc_span_check_free() and goalloc_span_free_owned() as one, for the
 * free's fast path: freeindex read once, "allocated" tested only where the
 * record needs it.  The same decisions: a slot is freed iff check_free()
 * would pass it, and goes back to the alloc cache iff free_owned() would
 * put it there.  No sanitizer or init_on_free work (the caller has none
 * to do).
 *
 * Return: true if @p was freed; false if it is not the start of an
 * allocated slot, with nothing changed (the slow path reports it).
 */
static __always_inline bool goalloc_span_owner_free_at(struct goalloc_span *s, const void *p,
						       unsigned long off, bool lifo);

static __always_inline bool goalloc_span_owner_free(struct goalloc_span *s, const void *p,
						    bool lifo)
{
	unsigned long off = (unsigned long)p - s->base;

	if (off >= s->bytes)
		return false;
	return goalloc_span_owner_free_at(s, p, off, lifo);
}

/*
 * goalloc_span_owner_free() past the bound test, for a caller that made it
 * (the bulk free's test that @p is still in the span it owns): @off is
 * @p - @s->base, below @s->bytes.
 */
static __always_inline bool goalloc_span_owner_free_at(struct goalloc_span *s, const void *p,
						       unsigned long off, bool lifo)
{
	unsigned long *free_bits = s->free_bits;
	unsigned int idx, fi;

	/* A small span's: its div_mul is exact (an interior pointer fails here). */
	if (!goalloc_div_slot(s->div_mul, off, &idx))
		return false;
	if (test_bit(idx, free_bits))
		return false;
	/*
	 * One load for two rare cases: remote frees pending (then the slot's
	 * remote bit decides), and a sampled object (the slow path must see
	 * its free: @prof_slot).
	 */
	if (unlikely(goalloc_span_watched(s))) {
		unsigned int ps = READ_ONCE(s->prof_slot);

		if (unlikely(ps) && (ps == idx + 1 || ps == GOALLOC_PROF_ANY))
			return false;
		if (goalloc_span_remote_pending(s) && goalloc_span_remote_freed(s, idx))
			return false;
	}
	/*
	 * Past freeindex only a slot the last sweep left allocated is an
	 * object.  Below it, the slot just handed out from the alloc cache
	 * (not one the sweep left) goes back to the cache: the allocation is
	 * undone.  (idx + 1) % 64 is freeindex % 64 there, and leaves no copy
	 * of freeindex live.
	 */
	fi = s->freeindex;
	if (lifo) {
		if (likely(idx + 1 == fi) && likely((idx + 1) % 64) &&
		    likely(!test_bit(idx, s->alloc_bits)))
			goto undo;
		if (idx >= fi && !test_bit(idx, s->alloc_bits))
			return false;
	} else if (unlikely(idx >= fi)) {
		if (!test_bit(idx, s->alloc_bits))
			return false;
	} else if (idx + 1 == fi && likely((idx + 1) % 64) &&
		   likely(!test_bit(idx, s->alloc_bits))) {
		goto undo;
	}
	goalloc_hook(GOALLOC_HOOK_OWNER_FREE, (void *)p);
	/* Remote readers of this word race benignly (goalloc_span_allocated()). */
	__set_bit(idx, free_bits);
	s->nfree_pending++;
	return true;

undo:
	goalloc_hook(GOALLOC_HOOK_OWNER_FREE, (void *)p);
	s->alloc_cache = (s->alloc_cache << 1) | 1;
	WRITE_ONCE(s->freeindex, idx);
	s->alloc_count--;
	return true;
}

/*
 * The remote free's check (goalloc_span_check_free() for a non-owner, with
 * no lock): the recorded frees, then freeindex, then alloc_bits.  The sweep
 * writes alloc_bits and the recorded frees, then (smp_wmb()) resets
 * freeindex: a check that reads the reset freeindex reads that sweep's
 * alloc_bits, so a valid free is never refused because it read a sweep
 * half-done.  A double free racing a sweep or the owner's own free of the
 * slot may pass; the owner reconciles it (see the top of this file).
 * @remote_bit: read the slot's remote bit too (goalloc_span_check_remote());
 * a caller that writes nothing into the object before its test_and_set_bit()
 * of the bit may leave it to that.
 */
static __always_inline int goalloc_span_check_remote_slot(const struct goalloc_span *s,
							  const void *p, unsigned int *idxp,
							  bool remote_bit)
{
	unsigned long off = (unsigned long)p - s->base;
	unsigned int idx, fi;

	/* Below @s->base, @off wraps past the end: one test for both. */
	if (off >= s->bytes)
		return -EFAULT;
	/* One multiply gives the slot and whether @p starts it, as the owner's. */
	if (!goalloc_div_slot(s->div_mul, off, &idx))
		return -EINVAL;
	/*
	 * The owner writes free_bits without a lock: a racy read, see above.
	 * The remote bit only where test_and_set_bit() does not decide first.
	 */
	if (data_race(test_bit(idx, s->free_bits)) ||
	    (remote_bit && goalloc_span_remote_freed(s, idx)))
		return -EALREADY;
	fi = READ_ONCE(s->freeindex);
	smp_rmb();	/* freeindex, then alloc_bits: pairs with goalloc_span_sweep() */
	if (idx >= fi && !(READ_ONCE(s->alloc_bits[BIT_WORD(idx)]) & BIT_MASK(idx)))
		return -EALREADY;
	*idxp = idx;
	return 0;
}

/*
 * The remote check with the slot's remote bit: a slot with a remote free
 * pending is refused before anything is written into it.
 */
static __always_inline int goalloc_span_check_remote(const struct goalloc_span *s,
						     const void *p, unsigned int *idxp)
{
	return goalloc_span_check_remote_slot(s, p, idxp, true);
}

/**
 * goalloc_span_free_remote() - record the free of one slot, as a non-owner
 * @s: a small-object span, found by goalloc_span_of() inside an RCU
 *	read-side section that lasts until the caller is done with it
 * @p: the object: the exact start of a slot of this span
 * @pre_free: call goalloc_pre_free() on the object before it is recorded
 *	(the span's memory is real; false only for the span layer's tests)
 *
 * No lock (see "Remote frees without a lock" above): pin the span in
 * @nremote, check the slot, set its bit with test_and_set_bit(); a failed
 * check or a bit found set (two remote frees of one object) unpins.  A span
 * that died after the state was read is refused by the check: mcentral
 * retires a span only after a sweep and with no pin, so a free pinned after
 * that reads the swept bitmaps.  The object is made free
 * (goalloc_pre_free()) before its bit is set: once the bit is set the owner
 * may fold it and hand the slot out again.  Ends with a full barrier after
 * its last write to the span, so that the caller's reads of the span's
 * state see any placement mcentral made before that write, or mcentral's
 * second look sees this free (mcentral.c, span_settle()).  Inline: it is
 * the whole of a cross-CPU free.
 *
 * Return: 0; -ESTALE or -EPERM for a span that takes no free
 * (goalloc_span_refusal()); or an error from goalloc_span_check_free().
 */

/*
 * goalloc_span_free_remote() after the pin: the check, the object made free,
 * the bit.  For a run of frees into one span under one pin of the run's
 * length (goalloc_central_free_run()), which keeps nremote at or above the
 * bits set and gives back what it did not use.
 */
static __always_inline int goalloc_span_free_remote_pinned(struct goalloc_span *s,
							   const void *p, bool pre_free)
{
	unsigned int idx;
	int err;

	/*
	 * Without pre-free work nothing is written into the object before its
	 * bit: test_and_set_bit() refuses a slot whose bit is set, and the
	 * check need not read it (one load and test fewer).
	 */
	err = goalloc_span_check_remote_slot(s, p, &idx, pre_free);
	if (unlikely(err))
		return err;
	goalloc_hook(GOALLOC_HOOK_REMOTE_CHECKED, (void *)p);
	if (pre_free)
		goalloc_span_pre_free(s, p);
	/* Fully ordered: the bit, then the caller's reads of the span. */
	if (unlikely(test_and_set_bit(idx, s->remote_bits)))
		return -EALREADY;
	return 0;
}

/*
 * Is @s a small-object span of the API's (state below GOALLOC_SPAN_LARGE)?
 * One read of the state for two tests, as goalloc_span_refusal()'s: a
 * large object's span (LARGE, then DEAD) and a span the API takes no free
 * into (ARENA, USER, DEAD) all fail it.
 */
static __always_inline bool goalloc_span_small_live(const struct goalloc_span *s)
{
	BUILD_BUG_ON(GOALLOC_SPAN_ARENA - GOALLOC_SPAN_LARGE != 1);
	return READ_ONCE(s->state) < GOALLOC_SPAN_LARGE;
}

/*
 * goalloc_span_free_remote() past goalloc_span_refusal(), for a caller that
 * read the state itself before (goalloc_span_small_live()): the pin, the
 * record, the unpin on failure.
 */
static __always_inline int goalloc_span_free_remote_live(struct goalloc_span *s,
							 const void *p, bool pre_free)
{
	int err;

	atomic_inc(&s->nremote);
	smp_mb__after_atomic();	/* the pin, then every read of the span */
	err = goalloc_span_free_remote_pinned(s, p, pre_free);
	if (unlikely(err)) {
		atomic_dec(&s->nremote);
		smp_mb__after_atomic();	/* the unpin, then the caller's reads */
	}
	return err;
}

static __always_inline int goalloc_span_free_remote(struct goalloc_span *s, const void *p,
						    bool pre_free)
{
	int err;

	/* An arena's span never takes a pin: its counts are its owner's. */
	err = goalloc_span_refusal(s);
	if (err)
		return err;
	return goalloc_span_free_remote_live(s, p, pre_free);
}

#endif /* _GOALLOC_MSPAN_H */
