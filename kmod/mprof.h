/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocation-site profile (Go's mprof.go, MemProfileRate): mprof.c.
 * The API's observing paths call these only while goalloc_observing()
 * (observe.h) is true.
 */
#ifndef _GOALLOC_MPROF_H
#define _GOALLOC_MPROF_H

#include <linux/percpu.h>
#include <linux/types.h>

#include "goalloc.h"
#include "mspan.h"
#include "observe.h"
#include "trace.h"

struct dentry;
struct goalloc_span;

/*
 * Bytes this CPU may still hand out before its next sample (Go's
 * mcache.nextSample); LONG_MAX while the profile is off, so the tracepoints
 * alone never sample.  Written by this CPU only (a task moved between the
 * subtraction and the test costs one misplaced sample, not a wrong count).
 */
DECLARE_PER_CPU(long, goalloc_mprof_next);

void goalloc_mprof_sample(const void *p, size_t size, gfp_t gfp, unsigned long caller);
void goalloc_mprof_free(struct goalloc_span *s, const void *p);
void goalloc_mprof_forget_many(size_t n, void *const *ptrs);
int goalloc_mprof_init(struct dentry *root);
void goalloc_mprof_exit(void);

/**
 * goalloc_mprof_count() - count an allocation towards this CPU's next sample
 * @size: the bytes asked for (what the rate counts)
 *
 * For the fast paths, under goalloc_observing(): four instructions.
 *
 * Return: whether the caller must go on to its observing path: the
 * object's turn came, or the alloc event is on.
 */
static __always_inline bool goalloc_mprof_count(size_t size)
{
	this_cpu_sub(goalloc_mprof_next, size);
	return unlikely(this_cpu_read(goalloc_mprof_next) < 0) || trace_alloc_enabled();
}

/**
 * goalloc_mprof_sampled() - record @p if goalloc_mprof_count() made it its turn
 * @p: the object handed out
 * @size: the bytes asked for
 * @gfp: the caller's allocation mask (the record is allocated with its
 *	reclaim bits)
 * @caller: the call site the object is charged to
 */
static __always_inline void goalloc_mprof_sampled(const void *p, size_t size, gfp_t gfp,
						  unsigned long caller)
{
	if (unlikely(this_cpu_read(goalloc_mprof_next) < 0))
		goalloc_mprof_sample(p, size, gfp, caller);
}

/**
 * goalloc_mprof_alloc() - count an allocation, and record it if its turn came
 * @p: the object handed out
 * @size: the bytes asked for
 * @gfp: the caller's allocation mask
 * @caller: the call site
 *
 * For the slow and bulk paths, under goalloc_observing().
 */
static __always_inline void goalloc_mprof_alloc(const void *p, size_t size, gfp_t gfp,
						unsigned long caller)
{
	this_cpu_sub(goalloc_mprof_next, size);
	goalloc_mprof_sampled(p, size, gfp, caller);
}

/**
 * goalloc_observe_alloc() - tell the watchers about an object handed out
 * @caller: the API's caller
 * @p: the object
 * @size: bytes asked for
 * @usable: the slot's bytes
 * @gfp: the caller's mask (GOALLOC_NOSCAN allowed)
 * @node: the node asked for, or NUMA_NO_NODE
 *
 * For the API's slow paths: the alloc event, and the profile's countdown
 * while anybody watches (the fast paths tail-call their own).
 */
static __always_inline void goalloc_observe_alloc(unsigned long caller, const void *p,
						  size_t size, size_t usable, gfp_t gfp, int node)
{
	trace_alloc(caller, p, size, usable, gfp & ~GOALLOC_NOSCAN, node);
	if (goalloc_observing())
		goalloc_mprof_alloc(p, size, gfp, caller);
}

/* Must goalloc_observe_free() drop a record for a free into @s (or NULL)? */
static __always_inline bool goalloc_observe_free_wanted(const struct goalloc_span *s)
{
	return goalloc_observing() && s && READ_ONCE(s->nprof);
}

/**
 * goalloc_observe_free() - before a free: drop the object's profile record
 * @s: the object's span (NULL if none)
 * @p: the object
 *
 * For the API's slow paths, which the fast paths leave every free of a
 * span with samples to (goalloc_mcache_free_watched()).
 */
static __always_inline void goalloc_observe_free(struct goalloc_span *s, const void *p)
{
	if (goalloc_observe_free_wanted(s))
		goalloc_mprof_free(s, p);
}

/* Results of goalloc_mprof_site(), the estimates rounded to whole units. */
struct goalloc_mprof_site_stats {
	u64 samples;		/* allocations sampled at the site */
	u64 live_samples;	/* of those, not freed yet */
	u64 calls;		/* allocations made there, estimated */
	u64 live_objects;	/* live objects, estimated */
	u64 live_bytes;		/* usable bytes they hold, estimated */
};

int goalloc_mprof_set_rate(unsigned long rate);
unsigned long goalloc_mprof_rate(void);
bool goalloc_mprof_site(unsigned long ip, struct goalloc_mprof_site_stats *st);
unsigned long goalloc_mprof_records(void);
unsigned long goalloc_mprof_site_of(const void *p);

#endif /* _GOALLOC_MPROF_H */
