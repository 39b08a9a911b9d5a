/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One switch for everything that watches allocations: goalloc_observe, a
 * static key counting its users (the alloc tracepoint while a probe is
 * attached, trace.c; the allocation-site profile while its rate is set,
 * mprof.c).  The allocation fast paths test it and nothing else: one
 * patched-out jump while nobody watches, so the instruction budget
 * (bench/budget.txt) holds with tracing and profiling compiled in.  Taken,
 * the fast path counts down to the profile's next sample and tail-calls
 * the API's observing path when a sample or the event is due.  Frees need
 * no switch of their own: the free event has its tracepoint's key, and a
 * span holding sampled objects says which slot in the word the owner's
 * free already tests (@prof_slot beside @nremote, mspan.h).
 */
#ifndef _GOALLOC_OBSERVE_H
#define _GOALLOC_OBSERVE_H

#include <linux/jump_label.h>

DECLARE_STATIC_KEY_FALSE(goalloc_observe);

/* Is anybody watching allocations and frees?  A patched-out jump if not. */
static __always_inline bool goalloc_observing(void)
{
	return static_branch_unlikely(&goalloc_observe);
}

#endif /* _GOALLOC_OBSERVE_H */
