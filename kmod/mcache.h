/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mcache (mcache.c): each CPU's cache of one span per span class, Go's
 * per-P mcache.  The API (malloc.c) calls it and nothing below it: its
 * fast paths are the inlines here, its slow path (Go's nextFree: refill
 * from mcentral, grow outside the section, install) and large objects
 * (Go's allocLarge) are in mcache.c.  It calls mcentral (mcentral.h) and,
 * for large objects, the heap.
 */
#ifndef _GOALLOC_MCACHE_H
#define _GOALLOC_MCACHE_H

#include <linux/local_lock.h>
#include <linux/percpu.h>

#include "hooks.h"
#include "internal.h"
#include "mcentral.h"
#include "mheap.h"
#include "observe.h"

/**
 * struct goalloc_mcache - one CPU's cache (Go's per-P mcache)
 * @lock: with PREEMPT_RT only: keeps the CPU's other tasks (and its
 *	threaded interrupts) out of a section; see goalloc_mcache_get()
 * @busy: set while this CPU's code uses the cache.  Process context runs
 *	with preemption off and interrupts on; an interrupt that finds @busy
 *	set goes to mcentral instead, so it never sees a half-done update.
 *	Model: kmod/models/mcache_section.pml.
 * @alloc: the span each span class allocates from (never NULL: an empty
 *	span stands in, as Go's emptymspan does)
 * @nmalloc: objects allocated through this cache, per span class
 * @nfree: objects freed through this cache, per span class (one array
 *	each, so that a count is one instruction on the fast path)
 * @nfree_remote: objects this CPU freed into spans it does not own, per
 *	span class; written with this_cpu_inc() (one instruction, safe
 *	against this CPU's interrupts), outside the section
 * @away: the span each class allocates from for requests for another node
 *	than this CPU's (goalloc_alloc_node()), of whichever node asked last;
 *	the CPU owns it as it owns @alloc's, and the trim pass takes it back
 * @grows: spans this CPU grew per span class since the last trim pass:
 *	the pass's number (low 8 bits) above the count (up to
 *	GOALLOC_BIG_AFTER), so that a pass starts every count again without
 *	touching other CPUs' caches (goalloc_mcache_grow_pages(),
 *	goalloc_mcache_pass_reset()); written with this_cpu ops outside the
 *	section, a count that may miss a grow
 * @quiet: a quiet class's allocations from mcentral's spans this second,
 *	per span class: the second (jiffies / HZ, low 16 bits) above the
 *	count, so that a new second starts every count again
 *	(mcache_quiet()); read and written in the section
 * @ncached: slots of @alloc and @away holding a span (not the empty
 *	one), so that a flush of a cache holding none scans nothing
 * @flush_gen: the heap shortage (mcache.c's short_gen) this CPU last gave
 *	its empty spans back for; read and written in the section
 * @last: the span this CPU's last fast-path allocation came from, one of
 *	@alloc, or the empty span: the owner's free looks there before the
 *	span map (an alloc+free pair needs no lookup).  Reset wherever a span
 *	leaves @alloc (slot_uncache()).  Last in the struct: before @alloc it
 *	moved every offset and the bulk allocation's registers (+2
 *	instructions a call)
 * @last_obj: the object the fast path handed out last, from @last, while
 *	no other section has touched the cache since (else NULL): its free
 *	is the undo of that allocation, with no check of the slot
 *	(goalloc_span_undo_take()).  Set by goalloc_mcache_take_one(),
 *	consumed by the fast free, cleared by goalloc_mcache_enter() (every
 *	other section) and slot_uncache()
 *
 * Only the owning CPU touches it, inside a @busy section; cpuhp drains a
 * dead CPU's cache from another CPU.  Whether a span is this CPU's is read
 * only inside the section: an interrupt before it may change the cache.
 */
struct goalloc_mcache {
#ifdef CONFIG_PREEMPT_RT
	local_lock_t lock;
#endif
	u8 busy;
	struct goalloc_span *alloc[GOALLOC_NUM_SPC];
	unsigned long nmalloc[GOALLOC_NUM_SPC];
	unsigned long nfree[GOALLOC_NUM_SPC];
	struct goalloc_span *away[GOALLOC_NUM_SPC];
	unsigned long nfree_remote[GOALLOC_NUM_SPC];
	u16 grows[GOALLOC_NUM_SPC];
	u32 quiet[GOALLOC_NUM_SPC];
	unsigned int ncached;
	unsigned int flush_gen;
	struct goalloc_span *last;
	const void *last_obj;
};

/*
 * A CPU that has grown this many spans of a class since the last trim pass
 * grows spans above the class's own shape from then on, of twice as many
 * objects as it holds up to the big shape (tools/mksizeclasses.py rule 6,
 * goalloc_mcache_shape()).  At 4, a boot's bursts made big spans of
 * classes that then held a few objects each: 256 KiB more at the peak of
 * the busybox trace than at 8 (Documentation/trace-replay.rst); a busy
 * class reaches 8 within its first round all the same.
 */
#define GOALLOC_BIG_AFTER	8

/*
 * A class is quiet on a CPU that caches no span of it and holds fewer of its
 * objects than this many spans of the class's own shape hold: the CPU takes
 * them one at a time from mcentral's spans, which all CPUs share, rather
 * than cache a partly used span of its own (mcache_quiet(),
 * Documentation/design.rst).  In scratch builds with no big shape for any
 * grow and no limit a second, the two-CPU peaks of busybox and fsload were
 * 64 KiB higher at 2 than at 4 (4,376 and 4,720 KiB against 4,312 and
 * 4,656; Documentation/trace-replay.rst).
 */
#define GOALLOC_QUIET_SPANS	4

extern unsigned int goalloc_quiet_max;

extern struct goalloc_mcache __percpu *goalloc_mcache;

/**
 * goalloc_mcache_get() - pin to this CPU and get its cache
 *
 * Without PREEMPT_RT: preemption off.  With PREEMPT_RT, where spinlock_t
 * sleeps and interrupt handlers are threads: the cache's local_lock_t
 * (migration off, and a per-CPU lock the CPU's other tasks wait on), so
 * the section may take spinlock_t and free pages.  Either is an RCU
 * read-side section, as goalloc_span_of() needs.  Callers from hard
 * interrupt context are not supported on PREEMPT_RT (as for kmalloc()).
 *
 * Return: this CPU's cache, to enter with goalloc_mcache_enter().
 */
static __always_inline struct goalloc_mcache *goalloc_mcache_get(void)
{
#ifdef CONFIG_PREEMPT_RT
	local_lock(&goalloc_mcache->lock);
#else
	preempt_disable();
#endif
	return this_cpu_ptr(goalloc_mcache);
}

/* Undo goalloc_mcache_get(). */
static __always_inline void goalloc_mcache_put(void)
{
#ifdef CONFIG_PREEMPT_RT
	local_unlock(&goalloc_mcache->lock);
#else
	preempt_enable();
#endif
}

/*
 * Enter and leave a CPU's cache, got with goalloc_mcache_get().  The fast
 * paths (goalloc_mcache_take_one(), goalloc_mcache_free_fast()) enter with
 * goalloc_mcache_enter_fast(); every other section with
 * goalloc_mcache_enter(), which also forgets @last_obj: whatever it does
 * to the cache, the fast free no longer undoes the last allocation.
 */
static __always_inline bool goalloc_mcache_enter_fast(struct goalloc_mcache *c)
{
	/*
	 * A plain read, one compare with memory (READ_ONCE()'s volatile load
	 * took a load and a test): only this CPU writes @busy, and an
	 * interrupt that sets it clears it before it returns, so the one value
	 * read is the one the section starts from (data_race(): KCSAN sees
	 * the interrupt's writes).
	 */
	if (unlikely(data_race(c->busy)))
		return false;
	WRITE_ONCE(c->busy, 1);
	barrier();
	return true;
}

static __always_inline bool goalloc_mcache_enter(struct goalloc_mcache *c)
{
	if (unlikely(!goalloc_mcache_enter_fast(c)))
		return false;
	c->last_obj = NULL;
	return true;
}

static __always_inline void goalloc_mcache_leave(struct goalloc_mcache *c)
{
	barrier();
	WRITE_ONCE(c->busy, 0);
}

/* Bulk calls enter a CPU's cache for at most this many objects at a time. */
#define GOALLOC_BULK_BATCH	64

/* Count an allocation from this CPU's cache, entered. */
static __always_inline void goalloc_mcache_count_alloc(struct goalloc_mcache *c,
						       unsigned int spc)
{
	c->nmalloc[spc]++;
}

/**
 * goalloc_mcache_take_one() - the allocation fast path: one slot of a class
 * @spc: span class
 * @pp: set to the slot on success; not yet made usable (post_alloc)
 *
 * Pin to the CPU, enter its cache, take a slot from the span it allocates
 * from for @spc (goalloc_span_take_one()), count it, leave.  Calls nothing:
 * the API's fast paths (goalloc_alloc(), goalloc_cache_alloc()) are this
 * and a tail call to their slow path.
 *
 * Return: true if a slot was taken; false if the slow path must look (the
 * span has no slot at hand, or an interrupt landed inside the cache).
 */
static __always_inline bool goalloc_mcache_take_one(unsigned int spc, void **pp)
{
	struct goalloc_mcache *c;

	c = goalloc_mcache_get();
	if (likely(goalloc_mcache_enter_fast(c))) {
		struct goalloc_span *s = c->alloc[spc];

		/*
		 * Each outcome ends the section on its own: one shared exit
		 * made the compiler keep the outcome in a register and test it
		 * again after the preemption point (three instructions).
		 */
		if (likely(goalloc_span_take_one(s, pp))) {
			goalloc_mcache_count_alloc(c, spc);
			c->last = s;
			c->last_obj = *pp;
			goalloc_mcache_leave(c);
			goalloc_mcache_put();
			return true;
		}
		goalloc_mcache_leave(c);
	}
	goalloc_mcache_put();
	return false;
}

static __always_inline int goalloc_mcache_free_spc(const void *p, int want);

/**
 * goalloc_mcache_free() - free one object, from any CPU
 * @p: the object, not NULL
 *
 * Whether the span is this CPU's is decided inside the cache's section: an
 * interrupt landing before it may run the span out, drain it or give it to
 * mcentral, after which only the locked path may touch it (model:
 * kmod/models/mcache_section.pml).  The owner's free takes no lock and no
 * atomic instruction; any other goes to mcentral under the span's lock.
 *
 * Return: 0, or the errno goalloc_report_bad_free() reports.
 */
static __always_inline int goalloc_mcache_free(const void *p)
{
	return goalloc_mcache_free_spc(p, -1);
}

/*
 * goalloc_mcache_free() for a named cache: @want is the span class @p must
 * be of (a constant -1: any); an object of another is refused (-EXDEV)
 * with nothing changed.
 */
static __always_inline int goalloc_mcache_free_found(struct goalloc_mcache *c,
						     struct goalloc_span *s,
						     const void *p, int want);

static __always_inline int goalloc_mcache_free_spc(const void *p, int want)
{
	struct goalloc_mcache *c;
	struct goalloc_span *s;

	c = goalloc_mcache_get();
	s = goalloc_span_of(p);
	if (s && (want < 0 || s->spc == want))
		goalloc_hook(GOALLOC_HOOK_FREE_LOOKUP, (void *)p);
	return goalloc_mcache_free_found(c, s, p, want);
}

/**
 * goalloc_mcache_free_found() - goalloc_mcache_free_spc() past the lookup
 * @c: this CPU's cache, from goalloc_mcache_get(): the caller's section,
 *	which this ends (goalloc_mcache_put())
 * @s: goalloc_span_of(@p), looked up inside that section; NULL if none
 * @p: the object
 * @want: as goalloc_mcache_free_spc()
 *
 * For the API's slow paths, which goalloc_mcache_free_fast() hands the
 * section and the span it found: no second lookup for a free it leaves.
 *
 * Return: as goalloc_mcache_free_spc().
 */
static __always_inline int goalloc_mcache_free_found(struct goalloc_mcache *c,
						     struct goalloc_span *s,
						     const void *p, int want)
{
	unsigned int idx;
	int err;

	if (unlikely(!s)) {
		goalloc_mcache_put();
		return -EFAULT;
	}
	if (want >= 0 && unlikely(s->spc != want)) {
		goalloc_mcache_put();
		return -EXDEV;
	}
	if (likely(goalloc_mcache_enter(c))) {
		/* The CPU owns its span of the class for another node as well. */
		if (likely(c->alloc[s->spc] == s || c->away[s->spc] == s)) {
			err = goalloc_span_check_free(s, p, &idx);
			if (likely(!err)) {
				goalloc_hook(GOALLOC_HOOK_OWNER_FREE, (void *)p);
				goalloc_span_pre_free(s, p);
				goalloc_span_free_owned(s, idx);
				c->nfree[s->spc]++;
				goalloc_hook(GOALLOC_HOOK_OWNER_FREED, (void *)p);
			}
			goalloc_mcache_leave(c);
			goalloc_mcache_put();
			return err;
		}
		goalloc_mcache_leave(c);
	}
	err = goalloc_central_free(s, p);
	if (!err && s->cls) {
		if (goalloc_mcache_enter(c)) {
			c->nfree[s->spc]++;
			goalloc_mcache_leave(c);
		} else {
			goalloc_central_count_free(s);
		}
	}
	goalloc_mcache_put();
	return err;
}

/* What goalloc_mcache_free_fast() did, and what its caller does next. */
enum goalloc_free_fast {
	GOALLOC_FREE_SLOW,	/* the slow path finishes, in the open section */
	GOALLOC_FREE_DONE,	/* freed, section over */
	GOALLOC_FREE_REMOTE,	/* a span this CPU does not own: goalloc_mcache_free_remote() */
};

static __always_inline enum goalloc_free_fast
goalloc_mcache_free_fast_spc(const void *p, int want, struct goalloc_mcache **cp,
			     struct goalloc_span **sp);

/**
 * goalloc_mcache_free_fast() - the owner's free, with no call on its way
 * @p: any pointer (NULL, ZERO_SIZE_PTR and foreign ones have no span)
 * @cp: where the cache goes when the free is left to the caller
 * @sp: where @p's span (or NULL) goes when the free is left to the caller
 *
 * goalloc_mcache_free() for the common case alone: @p is a valid object of
 * the span this CPU allocates from, and freeing it needs no sanitizer or
 * init_on_free work.  It calls nothing (outside test hooks), so the API's
 * free needs no stack frame.  Inside the cache's section it tries the span
 * of the CPU's last allocation (@last) before the span map: an object
 * freed soon after it was allocated is found with one compare.
 *
 * Two cases are left to the caller, with the pin (goalloc_mcache_get())
 * still held.  A span this CPU owns neither for its node nor for another
 * (@alloc, @away): GOALLOC_FREE_REMOTE, finished by
 * goalloc_mcache_free_remote(@p, *@sp), which takes no section: what an
 * interrupt does to the span meanwhile is what another CPU's owner could
 * do, and the remote free's protocol (span_free.pml) allows for it.
 * Anything else, a bad free included: GOALLOC_FREE_SLOW, the pin still
 * held and the section left, for the caller's slow path to finish with
 * goalloc_mcache_free_found(*@cp, *@sp, ...), which enters the section
 * again, checks it again and drops the pin.  The span is looked up once
 * either way.
 *
 * Return: what was done (enum goalloc_free_fast).
 */
static __always_inline enum goalloc_free_fast
goalloc_mcache_free_fast(const void *p, struct goalloc_mcache **cp, struct goalloc_span **sp)
{
	return goalloc_mcache_free_fast_spc(p, -1, cp, sp);
}

/**
 * goalloc_mcache_free_fast_spc() - goalloc_mcache_free_fast(), for one span class
 * @p: any pointer
 * @want: the span class @p must be of (a named cache's), or -1 for any;
 *	a constant -1 compiles to goalloc_mcache_free_fast()
 * @cp: as goalloc_mcache_free_fast()
 * @sp: as goalloc_mcache_free_fast()
 *
 * A span this CPU allocates from for @want is of @want: the ownership test
 * is the class test too, so a cache's free costs nothing more.  An object
 * of another class is left, untouched, for the caller's slow path.
 *
 * Return: as goalloc_mcache_free_fast().
 */
static __always_inline enum goalloc_free_fast
goalloc_mcache_free_fast_spc(const void *p, int want, struct goalloc_mcache **cp,
			     struct goalloc_span **sp)
{
	struct goalloc_mcache *c;
	struct goalloc_span *s;
	unsigned long off;
	unsigned int spc;

	c = goalloc_mcache_get();
	*cp = c;
	/*
	 * The free event and init_on_free are the slow path's, behind one
	 * patched-out jump while off (observe.h); so is a free into a span
	 * with sampled objects (the owner's free refuses it, the remote path
	 * drops the record).
	 */
	goalloc_hook(GOALLOC_HOOK_FREE_LOOKUP, (void *)p);
	if (likely(!goalloc_free_hooked()) && !goalloc_pre_free_built_in()) {
		if (likely(goalloc_mcache_enter_fast(c))) {
			s = c->last;
			/*
			 * The object this CPU handed out last, nothing done to
			 * the cache since: the free undoes that allocation.
			 * Unless a remote free or a sample is pending on the
			 * span (the watch word): then the checked path below.
			 * NULL is @last_obj's "none", never an object.
			 */
			if (p == c->last_obj && likely(p)) {
				c->last_obj = NULL;
				if (likely(!goalloc_span_watched(s)) &&
				    (want < 0 || s->spc == want)) {
					*sp = s;
					goalloc_hook(GOALLOC_HOOK_OWNER_FREE, (void *)p);
					goalloc_span_undo_take(s);
					goto freed;
				}
			}
			/*
			 * The span of this CPU's last allocation: one of its
			 * own, so a hit needs neither the span map nor the
			 * owner test, and the bound test is the owner free's.
			 */
			off = (unsigned long)p - s->base;
			if (likely(off < s->bytes) && (want < 0 || s->spc == want)) {
				*sp = s;
				if (likely(goalloc_span_owner_free_at(s, p, off, false)))
					goto freed;
				goalloc_mcache_leave(c);
				return GOALLOC_FREE_SLOW;
			}
			s = goalloc_span_of(p);
			*sp = s;
			if (likely(s)) {
				spc = want < 0 ? s->spc : want;
				if (likely(c->alloc[spc] == s)) {
					if (likely(goalloc_span_owner_free(s, p, false)))
						goto freed;
				} else if (c->away[spc] != s && (want < 0 || s->spc == want)) {
					goalloc_mcache_leave(c);
					return GOALLOC_FREE_REMOTE;
				}
			}
			goalloc_mcache_leave(c);
			return GOALLOC_FREE_SLOW;
		}
	}
	*sp = goalloc_span_of(p);
	return GOALLOC_FREE_SLOW;

freed:
	c->nfree[s->spc]++;
	goalloc_hook(GOALLOC_HOOK_OWNER_FREED, (void *)p);
	goalloc_mcache_leave(c);
	goalloc_mcache_put();
	return GOALLOC_FREE_DONE;
}

/**
 * goalloc_mcache_free_remote() - finish a free of a span this CPU does not own
 * @p: the object
 * @s: its span, from goalloc_mcache_free_fast(), which returned
 *	GOALLOC_FREE_REMOTE; its pin is still held, and this drops it
 *
 * goalloc_mcache_free_found()'s non-owner case without its second look at
 * the cache: goalloc_central_free(), counted on this CPU.  Any span, any
 * object; goalloc_mcache_free_remote_small() is the common case's.
 *
 * Return: 0, or the errno goalloc_report_bad_free() reports.
 */
static __always_inline int goalloc_mcache_free_remote(const void *p, struct goalloc_span *s)
{
	unsigned int spc = s->spc;
	bool small = s->cls;
	int err;

	err = goalloc_central_free(s, p);
	/* A large object's free is counted by mcentral (goalloc_central_free_large()). */
	if (likely(!err) && small)
		this_cpu_inc(goalloc_mcache->nfree_remote[spc]);
	goalloc_mcache_put();
	return err;
}

/**
 * goalloc_mcache_free_remote_small() - goalloc_mcache_free_remote()'s common case
 * @p: the object
 * @s: its span, as for goalloc_mcache_free_remote(), a small-object span
 *	of the API's (the caller found goalloc_span_small_live()); the pin
 *	stays held
 * @fixp: set if mcentral must move the span: then the caller calls
 *	goalloc_mcache_free_remote_end() with it
 *
 * The free recorded and counted, calling nothing (outside test hooks), so
 * that the API's remote free saves no register on its way: the moves of
 * mcentral and a bad free's report come after, as tail calls.  No pre-free
 * work: goalloc_mcache_free_fast() returns GOALLOC_FREE_REMOTE only while
 * goalloc_pre_free_wanted() is false, which is decided at boot (KASAN and
 * kmemleak are built in or not; init_on_free is a boot parameter), so
 * goalloc_span_pre_free() would do nothing here.
 *
 * Return: 0, or the errno goalloc_report_bad_free() reports.
 */
static __always_inline int goalloc_mcache_free_remote_small(const void *p,
							    struct goalloc_span *s, bool *fixp)
{
	unsigned int spc = s->spc;
	int err;

	err = goalloc_central_free_small(s, p, false, true);
	if (likely(!err))
		this_cpu_inc(goalloc_mcache->nfree_remote[spc]);
	*fixp = goalloc_central_needs_fixup(s);
	return err;
}

/*
 * After goalloc_mcache_free_remote_small(): mcentral's move if @fix, and
 * the pin dropped.
 */
static __always_inline void goalloc_mcache_free_remote_end(struct goalloc_span *s, bool fix)
{
	if (fix)
		goalloc_central_fixup_then(s, 0);
	goalloc_mcache_put();
}

/* mcache.c */
extern struct goalloc_span goalloc_placeholder_span;
int goalloc_mcache_node(int node, gfp_t gfp);
void *goalloc_mcache_next_free(unsigned int spc, size_t size, gfp_t gfp, int node);
void *goalloc_mcache_next_free_bulk(unsigned int spc, size_t size, gfp_t gfp, size_t want,
				    int asked);
struct goalloc_span *goalloc_mcache_alloc_large(size_t size, unsigned int spc, gfp_t gfp,
						int node);
void *goalloc_mcache_refill(struct goalloc_mcache *c, unsigned int spc, size_t want);
void goalloc_mcache_drain(struct goalloc_mcache *c);
void goalloc_mcache_uncache(struct goalloc_mcache *c, unsigned int spc);
void goalloc_mcache_uncache_away(struct goalloc_mcache *c, unsigned int spc);
long goalloc_mcache_live_hint(unsigned int spc);
unsigned int goalloc_mcache_shape(const struct goalloc_class_info *c, long live, bool busy);
unsigned int goalloc_mcache_grow_pages(unsigned int spc);
unsigned int goalloc_mcache_bulk_shape(const struct goalloc_class_info *c, unsigned int npages,
				       size_t want);
void goalloc_mcache_pass_reset(void);
bool goalloc_mcache_drained(unsigned int cpu);
unsigned int goalloc_drain_all(void);
void goalloc_drain_all_nowait(void);
void goalloc_drain_wait(void);
void goalloc_drain_class(unsigned int spc);
int goalloc_mcache_init(void);
void goalloc_mcache_exit(void);

/*
 * The bulk paths, inline like the single ones: a call per batch cost bulk
 * frees and allocations of 8 objects 4 instructions per object (make
 * bench-budget).
 */
/*
 * Is a refill of @spc worth asking for on this CPU (@c, entered)?  Not
 * where a bulk call has just found this node's mcentral with no span
 * (@asked: that node, else NUMA_NO_NODE) and the CPU has no span of the
 * class to sweep: the call grows one instead.
 */
static __always_inline bool goalloc_mcache_may_refill(const struct goalloc_mcache *c,
						      unsigned int spc, int asked)
{
	return asked != numa_mem_id() || c->alloc[spc] != &goalloc_placeholder_span;
}

/**
 * goalloc_mcache_alloc_bulk() - take up to @n objects from this CPU's cache
 * @spc: span class
 * @n: how many, at most GOALLOC_BULK_BATCH
 * @ptrs: where to put them
 * @want: the objects the bulk call asks for in all (goalloc_mcache_refill())
 * @asked: in and out: the node whose mcentral this bulk call last asked for
 *	a span and got none, or NUMA_NO_NODE; a CPU of that node with no span
 *	of the class does not ask again, but stops for a grow
 *
 * One entry of the cache: runs of the current span's alloc cache, the next
 * bitmap word, an in-place sweep or a span from mcentral.  Stops where a
 * span would have to grow (which may sleep) or if the cache is busy.
 *
 * Return: the number of objects taken, from @ptrs[0]; not yet made usable.
 */
static __always_inline size_t goalloc_mcache_alloc_bulk(unsigned int spc, size_t n,
							void **ptrs, size_t want, int *asked)
{
	struct goalloc_mcache *c;
	size_t i = 0;

	c = goalloc_mcache_get();
	if (goalloc_mcache_enter(c)) {
		while (i < n) {
			i += goalloc_span_take_fast(c->alloc[spc], ptrs + i, n - i);
			if (i == n)
				break;
			ptrs[i] = goalloc_span_next_free(c->alloc[spc]);
			if (!ptrs[i] && goalloc_mcache_may_refill(c, spc, *asked))
				ptrs[i] = goalloc_mcache_refill(c, spc, want);
			if (!ptrs[i]) {
				*asked = numa_mem_id();
				break;
			}
			i++;
		}
		c->nmalloc[spc] += i;
		/* A bulk free of these objects starts there, without the span map. */
		c->last = c->alloc[spc];
		goalloc_mcache_leave(c);
	}
	goalloc_mcache_put();
	return i;
}

static __always_inline size_t
goalloc_mcache_free_bulk_spc(size_t n, void **ptrs, unsigned long caller, int want);

/**
 * goalloc_mcache_free_bulk() - free objects in batches of one cache entry
 * @n: how many
 * @ptrs: the objects (NULL and ZERO_SIZE_PTR skipped)
 * @caller: the API's caller, for bad-free reports
 *
 * Last to first: objects taken by goalloc_alloc_bulk() come back in the
 * reverse of the order they were handed out, so each owner's free undoes
 * the allocation before it and no sweep is needed.  Objects in a span this
 * CPU owns are freed without the span map while they stay in it; runs of
 * objects in another span go to mcentral under one hold of its lock.  Bad
 * frees are reported here.
 *
 * Return: how many objects, from @ptrs[0], are left for single frees (an
 * interrupt landed inside this CPU's section); 0 when all are done.
 */
static __always_inline size_t goalloc_mcache_free_bulk(size_t n, void **ptrs, unsigned long caller)
{
	return goalloc_mcache_free_bulk_spc(n, ptrs, caller, -1);
}

/*
 * goalloc_mcache_free_bulk() for a named cache: @want is the span class
 * every object must be of (a constant -1: any).  An object of another
 * class is refused (-EXDEV) and reported, nothing changed.
 */
static __always_inline size_t
goalloc_mcache_free_bulk_spc(size_t n, void **ptrs, unsigned long caller, int want)
{
	bool pre_free = goalloc_pre_free_wanted();
	unsigned long nfree, own_base = 0, own_len = 0;
	struct goalloc_span *s, *own;
	struct goalloc_mcache *c;
	unsigned int idx;
	size_t i, start;
	int err;

	while (n) {
		start = n > GOALLOC_BULK_BATCH ? n - GOALLOC_BULK_BATCH : 0;
		c = goalloc_mcache_get();
		if (!goalloc_mcache_enter(c)) {
			goalloc_mcache_put();
			break;
		}
		/*
		 * Objects freed together mostly share a span: while they are
		 * in the span this CPU owns, skip the span map.  An owned span
		 * cannot go away inside the section.  The first guess is the
		 * span the CPU allocated from last (a bulk allocation's, or the
		 * empty span, whose length of 0 fails every object's test).
		 */
		own = c->last;
		own_base = own->base;
		own_len = pre_free || (want >= 0 && own->spc != want) ? 0 : own->bytes;
		nfree = 0;
		for (i = n; i-- > start;) {
			const void *p = ptrs[i];
			unsigned long off = (unsigned long)p - own_base;

			if (off < own_len) {
				/* Still this CPU's span: no lookup, no owner or bound test. */
				if (likely(goalloc_span_owner_free_at(own, p, off, true))) {
					nfree++;
					continue;
				}
				s = own;
			} else {
				if (unlikely(ZERO_OR_NULL_PTR(p)))
					continue;
				c->nfree[own->spc] += nfree;
				own_len = 0;
				nfree = 0;
				s = goalloc_span_of(p);
			}
			if (unlikely(!s)) {
				err = -EFAULT;
			} else if (want >= 0 && unlikely(s->spc != want)) {
				err = -EXDEV;
			} else if (likely(c->alloc[s->spc] == s)) {
				if (likely(!pre_free) &&
				    likely(goalloc_span_owner_free(s, p, true))) {
					err = 0;
				} else {
					err = goalloc_span_check_free(s, p, &idx);
					if (likely(!err)) {
						goalloc_span_pre_free(s, p);
						goalloc_span_free_owned(s, idx);
					}
				}
				if (likely(!err)) {
					if (own != s) {
						own = s;
						own_base = s->base;
						/*
						 * With pre-free work, each object takes
						 * the checked path above: no run.
						 */
						own_len = pre_free ? 0 : s->bytes;
					}
					nfree++;
					continue;
				}
			} else if (s->cls) {
				unsigned long freed;

				i = goalloc_central_free_run(s, ptrs, i, start, caller, &freed);
				c->nfree[s->spc] += freed;
				continue;
			} else {
				err = goalloc_central_free(s, p);
			}
			if (unlikely(err))
				goalloc_report_bad_free(p, err, caller);
		}
		c->nfree[own->spc] += nfree;
		goalloc_mcache_leave(c);
		goalloc_mcache_put();
		n = start;
	}
	return n;
}

#endif /* _GOALLOC_MCACHE_H */
