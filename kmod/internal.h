/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc's internal interfaces, shared by the files of goalloc.ko and by the
 * KUnit module (through EXPORT_SYMBOL_IF_KUNIT).
 */
#ifndef _GOALLOC_INTERNAL_H
#define _GOALLOC_INTERNAL_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>

#include "compat.h"
#include "sizeclasses.h"

struct dentry;
struct goalloc_class_stat;
struct goalloc_span;

/* Span classes: Go's spanClass, size class * 2 + noscan. */
#define GOALLOC_NUM_SPC		(GOALLOC_NUM_CLASSES * 2)

/**
 * struct goalloc_class_stats - per-CPU event counts of one span class
 * @nmalloc: objects allocated
 * @nfree: objects freed
 * @requested: bytes asked for by those allocations
 */
struct goalloc_class_stats {
	unsigned long nmalloc;
	unsigned long nfree;
	unsigned long requested;
};

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
 * @stats: counts of what went through this cache
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
	struct goalloc_class_stats stats[GOALLOC_NUM_SPC];
};

DECLARE_PER_CPU(struct goalloc_mcache, goalloc_mcache);

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
	local_lock(&goalloc_mcache.lock);
#else
	preempt_disable();
#endif
	return this_cpu_ptr(&goalloc_mcache);
}

/* Undo goalloc_mcache_get(). */
static __always_inline void goalloc_mcache_put(void)
{
#ifdef CONFIG_PREEMPT_RT
	local_unlock(&goalloc_mcache.lock);
#else
	preempt_enable();
#endif
}

/* Enter and leave a CPU's cache, got with goalloc_mcache_get(). */
static __always_inline bool goalloc_mcache_enter(struct goalloc_mcache *c)
{
	if (unlikely(READ_ONCE(c->busy)))
		return false;
	WRITE_ONCE(c->busy, 1);
	barrier();
	return true;
}

static __always_inline void goalloc_mcache_leave(struct goalloc_mcache *c)
{
	barrier();
	WRITE_ONCE(c->busy, 0);
}

/* mcache.c */
extern struct goalloc_span goalloc_empty_span;
void *goalloc_mcache_refill(struct goalloc_mcache *c, unsigned int spc);
void *goalloc_mcache_install(struct goalloc_mcache *c, unsigned int spc,
			     struct goalloc_span *s);
void goalloc_mcache_drain(struct goalloc_mcache *c);
bool goalloc_mcache_empty(unsigned int cpu);
unsigned int goalloc_drain_all(void);
int goalloc_mcache_init(void);
void goalloc_mcache_exit(void);

/**
 * struct goalloc_mcentral - the spans of one span class (Go's mcentral)
 * @lock: protects the lists and, with each span's own lock, the state of
 *	spans on them; IRQ-safe
 * @partial: spans that may have free slots
 * @full: spans with no free slot and no free pending
 * @empty: swept spans with no object, kept for reuse rather than given
 *	back to the heap at once (at most goalloc_central_keep() of them)
 * @nempty: spans on @empty
 * @nspans: live spans of the class, wherever they are
 * @nmalloc: objects allocated outside any mcache (interrupt fallback, node
 *	requests)
 * @nfree: objects freed outside the owner's mcache
 * @requested: bytes requested by @nmalloc allocations
 */
struct goalloc_mcentral {
	spinlock_t lock;	/* see @lock above */
	struct list_head partial;
	struct list_head full;
	struct list_head empty;
	unsigned int nempty;
	atomic_long_t nspans;
	atomic_long_t nmalloc;
	atomic_long_t nfree;
	atomic_long_t requested;
} ____cacheline_aligned_in_smp;

extern struct goalloc_mcentral goalloc_central[GOALLOC_NUM_SPC];
extern atomic_long_t goalloc_cached_pages;
extern atomic_long_t goalloc_empty_pages;

/* mcentral.c */
void goalloc_central_init(void);
void goalloc_central_exit(void);
struct goalloc_span *goalloc_central_cache_span(unsigned int spc);
void goalloc_central_uncache_span(struct goalloc_span *s);
void goalloc_central_add_span(struct goalloc_span *s);
void *goalloc_central_alloc(unsigned int spc, int node);
void goalloc_central_fixup(struct goalloc_span *s);
struct goalloc_span *goalloc_central_grow(unsigned int spc, int node, gfp_t gfp);
unsigned int goalloc_central_keep(unsigned int spc);
unsigned long goalloc_central_release_empty(void);

/* The flags of a caller's mask that say how hard to try and whether to sleep. */
static inline gfp_t goalloc_gfp_reclaim(gfp_t gfp)
{
	return gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH |
		      __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL |
		      __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC);
}

/*
 * mgcscavenge.c: the top layer's trim pass (installed in the heap) and the
 * shrinker, whose callbacks are exported to the KUnit tests.
 */
struct shrinker;
struct shrink_control;
unsigned long goalloc_scavenge(void);
void goalloc_scavenger_flush(void);
unsigned long goalloc_shrink_count(struct shrinker *sh, struct shrink_control *sc);
unsigned long goalloc_shrink_scan(struct shrinker *sh, struct shrink_control *sc);
int goalloc_scavenger_init(void);
void goalloc_scavenger_exit(void);

/* arena.c */
extern atomic_long_t goalloc_arena_pages;

/* chrdev.c: /dev/goalloc. */
int goalloc_chrdev_init(void);
void goalloc_chrdev_exit(void);

/* mstats.c: debugfs view of the allocator. */
long goalloc_objects_in_use(void);
void goalloc_class_stat(unsigned int cls, struct goalloc_class_stat *st);
int goalloc_stats_init(struct dentry *root);

/*
 * Sanitizer hooks.  KASAN (generic): free heap memory and free slots are
 * poisoned, live objects unpoisoned to their requested size rounded up to the
 * 8-byte granule.  kasan_poison() is exported but declared only in
 * mm/kasan/kasan.h, so its prototype is repeated here.
 */
#ifdef CONFIG_KASAN_GENERIC
void kasan_poison(const void *addr, size_t size, u8 value, bool init);
#define GOALLOC_KASAN_FREE	0xFF	/* mm/kasan/kasan.h: KASAN_PAGE_FREE */
#define GOALLOC_KASAN_GRANULE	8

static inline void goalloc_kasan_poison(const void *p, size_t size)
{
	kasan_poison(p, round_up(size, GOALLOC_KASAN_GRANULE), GOALLOC_KASAN_FREE, false);
}

static inline void goalloc_kasan_unpoison(const void *p, size_t size)
{
	kasan_poison(p, round_up(size, GOALLOC_KASAN_GRANULE), 0, false);
}
#else
static inline void goalloc_kasan_poison(const void *p, size_t size) { }
static inline void goalloc_kasan_unpoison(const void *p, size_t size) { }
#endif

#endif /* _GOALLOC_INTERNAL_H */
