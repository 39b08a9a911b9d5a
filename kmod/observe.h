/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One switch for everything that watches allocations: goalloc_observe, a
 * static key counting its users (the alloc tracepoint while a probe is
 * attached, trace.c; the allocation-site profile while its rate is set,
 * mprof.c).  The allocation fast paths test it and nothing else: one
 * patched-out jump while nobody watches, so the instruction budget
 * (bench/budget.txt) holds with tracing and profiling compiled in.  Taken,
 * the fast path counts down to the profile's next sample and tail-calls
 * the API's observing path when a sample or the event is due.
 *
 * Each fast path tests one key for all its rare work, so that what is off
 * costs one patched-out jump in all, not one per feature:
 * goalloc_alloc_hooks counts goalloc_observe's users and init_on_alloc (a
 * boot-time setting, read at load), goalloc_free_hooks the free event's
 * probes and init_on_free.  Taken, the fast path leaves the object to the
 * out-of-line path, which tests each feature.  A span holding sampled
 * objects needs no key: it says which slot in the word the owner's free
 * already tests (@prof_slot beside @nremote, mspan.h).
 */
#ifndef _GOALLOC_OBSERVE_H
#define _GOALLOC_OBSERVE_H

#include <linux/gfp_types.h>
#include <linux/jump_label.h>
#include <linux/kconfig.h>

DECLARE_STATIC_KEY_FALSE(goalloc_observe);
DECLARE_STATIC_KEY_FALSE(goalloc_alloc_hooks);
DECLARE_STATIC_KEY_FALSE(goalloc_free_hooks);

/* A watcher of allocations comes or goes: goalloc_observe, and the alloc hooks. */
void goalloc_observe_get(void);
void goalloc_observe_put(void);
/* At load and unload: the init_on_alloc and init_on_free parts of the hooks. */
void goalloc_hooks_init(void);
void goalloc_hooks_exit(void);

/* Is anybody watching allocations and frees?  A patched-out jump if not. */
static __always_inline bool goalloc_observing(void)
{
	return static_branch_unlikely(&goalloc_observe);
}

/* Has an allocation's fast path anything to do past the slot? */
static __always_inline bool goalloc_alloc_hooked(void)
{
	return static_branch_unlikely(&goalloc_alloc_hooks);
}

/*
 * Has a slot from an allocation's fast path anything to go through: the
 * sanitizers' work (built in), __GFP_ZERO, or a hook?  goalloc_alloc()'s
 * and goalloc_cache_alloc()'s one test.
 */
static __always_inline bool goalloc_alloc_hooks_wanted(gfp_t gfp)
{
	return IS_ENABLED(CONFIG_KASAN_GENERIC) || IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) ||
	       (gfp & __GFP_ZERO) || goalloc_alloc_hooked();
}

/* Must a free leave the owner's fast path (free event, init_on_free)? */
static __always_inline bool goalloc_free_hooked(void)
{
	return static_branch_unlikely(&goalloc_free_hooks);
}

#endif /* _GOALLOC_OBSERVE_H */
