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
#include <linux/mm.h>
#include <linux/string.h>

#include "compat.h"
#include "sizeclasses.h"

struct dentry;
struct goalloc_class_stat;
struct goalloc_span;

/*
 * Span classes: Go's spanClass, size class * 2 + noscan for goalloc_alloc()'s
 * (GOALLOC_NUM_KMALLOC_SPC), then one per named cache (goalloc_cache_spc()).
 * Every per-span-class array and loop covers them all.
 */
#define GOALLOC_NUM_SPC		(GOALLOC_NUM_KMALLOC_SPC + GOALLOC_MAX_CACHES)
static_assert(GOALLOC_NUM_SPC <= 256 && GOALLOC_NUM_ALL_CLASSES <= 256);

/* The flags of a caller's mask that say how hard to try and whether to sleep. */
static inline gfp_t goalloc_gfp_reclaim(gfp_t gfp)
{
	return gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH |
		      __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL |
		      __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC);
}

/**
 * enum goalloc_counter - goalloc's global counters, one table
 * @GOALLOC_CTR_CACHED_PAGES: heap pages in spans some CPU's cache holds
 * @GOALLOC_CTR_KEPT_PAGES: heap pages in empty spans mcentral keeps
 * @GOALLOC_CTR_ARENA_PAGES: heap pages of kernel arenas
 * @GOALLOC_CTR_USER_ARENAS: /dev/goalloc arenas open
 * @GOALLOC_CTR_RELEASED_PAGES: PAGE_SIZE pages of the kernel pool given
 *	back to the buddy allocator, ever
 * @GOALLOC_CTR_BAD_FREES: bad frees, sizes and reallocations reported
 * @GOALLOC_CTR_RCU_BATCHES: batches of goalloc_free_rcu() objects handed to
 *	RCU (one call_rcu() each), ever
 * @GOALLOC_CTR_RCU_OBJECTS: objects in those batches, ever
 * @GOALLOC_CTR_SHAPE_FALLBACKS: spans of the kernel pool made in a class's
 *	small shape because the pool had free pages but no run for the shape
 *	asked for (goalloc_pool_alloc_span_or())
 * @GOALLOC_CTR_COUNT: the number of counters
 *
 * Atomic, written by whichever layer owns the event and read by mstats.c
 * (debugfs "heap": one line each, named by its table of names) and by the
 * tests.  A page count may read below zero for a moment: an add and its
 * matching subtract can run on two CPUs in either order.
 */
enum goalloc_counter {
	GOALLOC_CTR_CACHED_PAGES,
	GOALLOC_CTR_KEPT_PAGES,
	GOALLOC_CTR_ARENA_PAGES,
	GOALLOC_CTR_USER_ARENAS,
	GOALLOC_CTR_RELEASED_PAGES,
	GOALLOC_CTR_BAD_FREES,
	GOALLOC_CTR_RCU_BATCHES,
	GOALLOC_CTR_RCU_OBJECTS,
	GOALLOC_CTR_SHAPE_FALLBACKS,
	GOALLOC_CTR_COUNT
};

extern atomic_long_t goalloc_counters[GOALLOC_CTR_COUNT];

static inline void goalloc_count(enum goalloc_counter ctr, long n)
{
	atomic_long_add(n, &goalloc_counters[ctr]);
}

static inline long goalloc_counter(enum goalloc_counter ctr)
{
	return atomic_long_read(&goalloc_counters[ctr]);
}

/*
 * mgcscavenge.c: the top layer's trim pass (installed in the heap) and the
 * shrinker, whose callbacks are exported to the KUnit tests.
 */
struct shrinker;
struct shrink_control;
unsigned long goalloc_scavenge(void);
unsigned int goalloc_flush_idle_spans(void);
void goalloc_scavenger_flush(void);
unsigned long goalloc_shrink_count(struct shrinker *sh, struct shrink_control *sc);
unsigned long goalloc_shrink_scan(struct shrinker *sh, struct shrink_control *sc);
int goalloc_scavenger_init(void);
void goalloc_scavenger_exit(void);

/* malloc.c: the frees the named caches share with goalloc_free(). */
void goalloc_free_remote(const void *p, unsigned long caller, struct goalloc_span *s);

/* free_rcu.c: RCU-deferred frees. */
extern unsigned long goalloc_rcu_delay;
void goalloc_rcu_flush(void);
long goalloc_rcu_pending(void);
unsigned long goalloc_rcu_cpu_queued(unsigned int cpu);
int goalloc_free_rcu_init(void);
void goalloc_free_rcu_exit(void);

/**
 * struct goalloc_rcu_chunk - objects about to be freed after a grace period
 * @n: how many
 * @ptrs: the objects
 *
 * The argument of the GOALLOC_HOOK_RCU_FREE test hook (hooks.h).
 */
struct goalloc_rcu_chunk {
	unsigned int n;
	void **ptrs;
};

/* cache.c: named caches. */
void goalloc_cache_init(struct dentry *root);
void goalloc_cache_exit(void);
extern atomic_long_t goalloc_cache_leak_reports;

/* chrdev.c: /dev/goalloc. */
int goalloc_chrdev_init(void);
void goalloc_chrdev_exit(void);

/* mstats.c: debugfs view of the allocator. */

/**
 * struct goalloc_class_usage - what one span class holds right now
 * @nmalloc: objects allocated, ever
 * @nfree: objects freed, ever
 * @nspans: live spans
 * @npages: their heap pages
 */
struct goalloc_class_usage {
	unsigned long nmalloc;
	unsigned long nfree;
	long nspans;
	long npages;
};

void goalloc_class_usage(unsigned int spc, struct goalloc_class_usage *u);
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

/*
 * Undo malloc.c's post_alloc() for an object being freed, before its free is
 * visible (where a free is recorded: mcache for the owner, mcentral under
 * the span's lock for anyone else).  init_on_free wipes it, as SLUB does.
 */
/*
 * Does goalloc_pre_free() do anything in this kernel?  If not, a free's fast
 * path makes no call (make bench-budget counts its prologue's pushes).
 * Built in: the sanitizers'; at boot: init_on_free, which the owner's fast
 * path tests through goalloc_free_hooked() (observe.h).
 */
static __always_inline bool goalloc_pre_free_built_in(void)
{
	return IS_ENABLED(CONFIG_KASAN_GENERIC) || IS_ENABLED(CONFIG_DEBUG_KMEMLEAK);
}

static __always_inline bool goalloc_pre_free_wanted(void)
{
	return goalloc_pre_free_built_in() || want_init_on_free();
}

static __always_inline void goalloc_pre_free(const void *p, size_t usable)
{
	kmemleak_free(p);
	if (unlikely(want_init_on_free())) {
		goalloc_kasan_unpoison(p, usable);
		memset((void *)p, 0, usable);
	}
	goalloc_kasan_poison(p, usable);
}

#endif /* _GOALLOC_INTERNAL_H */
