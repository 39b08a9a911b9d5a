/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only hooks at goalloc's racy points.
 *
 * A race between two steps of a lock-free protocol cannot be tested by
 * luck: the window is a few instructions wide.  Each hook names one such
 * window; a KUnit test installs a function there and so runs exactly the
 * code that would race (an "interrupt": an allocation, a free, a drain)
 * between the two steps, deterministically, on every run.
 *
 * Hooks exist only in a build made with GOALLOC_TEST_HOOKS=1 (the test
 * kernels' builds: qemu/lib.sh build_modules); everywhere else goalloc_hook()
 * is empty and costs nothing.  A hook runs in the context of the code it
 * sits in (often with preemption off): it must not sleep.
 */
#ifndef _GOALLOC_HOOKS_H
#define _GOALLOC_HOOKS_H

#include <linux/compiler.h>

/**
 * enum goalloc_hook_id - the racy points, each between two named steps
 * @GOALLOC_HOOK_FREE_LOOKUP: goalloc_mcache_free(), before this CPU's cache is
 *	entered (after the pointer's span is found, where that is done outside
 *	the cache: the fast free looks it up inside)
 * @GOALLOC_HOOK_OWNER_FREE: goalloc_mcache_free(), inside the owner's section, after
 *	the free was checked and before it is recorded
 * @GOALLOC_HOOK_OWNER_FREED: goalloc_mcache_free(), after the owner recorded a free,
 *	still inside the section
 * @GOALLOC_HOOK_REMOTE_FREE: goalloc_central_free(), before the free is recorded
 * @GOALLOC_HOOK_REMOTE_CHECKED: goalloc_span_free_remote(), after the span was
 *	pinned and the slot checked, before the object is made free and its
 *	remote bit set
 * @GOALLOC_HOOK_CENTRAL_DECIDED: mcentral, under both locks, after it decided
 *	from the span's counts where a span a CPU gave back goes and before it
 *	records that (goalloc_central_uncache_span()); its argument is the span.
 *	A lock-free remote free landing here reads the span's old state.  Only
 *	code that takes no span lock may run here
 * @GOALLOC_HOOK_HEAP_GROWN: the heap, after a grow published new pages and
 *	dropped its lock (the span is already carved out of them)
 * @GOALLOC_HOOK_SPAN_GROWN: goalloc_mcache_next_free(), after mcentral grew a span for
 *	this CPU's cache and before the cache is entered again to install it;
 *	its argument is the span
 * @GOALLOC_HOOK_UARENA_COPYOUT: a user arena's ALLOC, after the objects
 *	were taken and the arena unlocked, before their offsets are copied out
 *	(process context, no lock held: this one may sleep); its argument is a
 *	struct goalloc_uarena_copyout
 * @GOALLOC_HOOK_RCU_FREE: free_rcu.c, after a grace period, when a chunk of
 *	a batch's objects has been unlinked and before it is freed (process
 *	context, no lock held); its argument is a struct goalloc_rcu_chunk
 * @GOALLOC_HOOK_DRAIN_WORK: a CPU's drain work item, before it drains
 *	(process context, no lock held: this one may sleep); its argument is
 *	the work
 * @GOALLOC_NR_HOOKS: the number of hooks
 */
enum goalloc_hook_id {
	GOALLOC_HOOK_FREE_LOOKUP,
	GOALLOC_HOOK_OWNER_FREE,
	GOALLOC_HOOK_OWNER_FREED,
	GOALLOC_HOOK_REMOTE_FREE,
	GOALLOC_HOOK_REMOTE_CHECKED,
	GOALLOC_HOOK_CENTRAL_DECIDED,
	GOALLOC_HOOK_HEAP_GROWN,
	GOALLOC_HOOK_SPAN_GROWN,
	GOALLOC_HOOK_UARENA_COPYOUT,
	GOALLOC_HOOK_RCU_FREE,
	GOALLOC_HOOK_DRAIN_WORK,
	GOALLOC_NR_HOOKS
};

typedef void (*goalloc_hook_fn)(void *arg);

#ifdef GOALLOC_TEST_HOOKS
extern goalloc_hook_fn goalloc_hooks[GOALLOC_NR_HOOKS];

/* Run the hook installed at @id, if any, with @arg (what the point has). */
static __always_inline void goalloc_hook(enum goalloc_hook_id id, void *arg)
{
	goalloc_hook_fn fn = READ_ONCE(goalloc_hooks[id]);

	if (unlikely(fn))
		fn(arg);
}
#else
static __always_inline void goalloc_hook(enum goalloc_hook_id id, void *arg) { }
#endif

#endif /* _GOALLOC_HOOKS_H */
