// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc's tracepoints: trace.h's events, instantiated once for the
 * module (CREATE_TRACE_POINTS).  Any layer includes trace.h and fires them.
 */
#define CREATE_TRACE_POINTS
#include <linux/mm.h>

#include "observe.h"
#include "trace.h"

/* Other modules may attach probes, as to kmem's events (goalloc_trace KUnit). */
EXPORT_TRACEPOINT_SYMBOL_GPL(alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(free);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_free);

DEFINE_STATIC_KEY_FALSE(goalloc_observe);
DEFINE_STATIC_KEY_FALSE(goalloc_alloc_hooks);
DEFINE_STATIC_KEY_FALSE(goalloc_free_hooks);

/*
 * Each key counts its users (observe.h).  The static keys take the CPU
 * hotplug lock and jump_label_mutex, as a tracepoint's own key does.
 */
void goalloc_observe_get(void)
{
	static_branch_inc(&goalloc_observe);
	static_branch_inc(&goalloc_alloc_hooks);
}

void goalloc_observe_put(void)
{
	static_branch_dec(&goalloc_alloc_hooks);
	static_branch_dec(&goalloc_observe);
}

/*
 * init_on_alloc and init_on_free are set at boot and never change after
 * (mm_core_init()): read once, at load, before the first allocation.
 */
void goalloc_hooks_init(void)
{
	if (want_init_on_alloc(0))
		static_branch_inc(&goalloc_alloc_hooks);
	if (want_init_on_free())
		static_branch_inc(&goalloc_free_hooks);
}

void goalloc_hooks_exit(void)
{
	if (want_init_on_free())
		static_branch_dec(&goalloc_free_hooks);
	if (want_init_on_alloc(0))
		static_branch_dec(&goalloc_alloc_hooks);
}

/*
 * The tracepoint core calls these when an event's first probe is attached
 * and after its last is gone (under tracepoints_mutex).
 */
int goalloc_trace_observe_get(void)
{
	goalloc_observe_get();
	return 0;
}

void goalloc_trace_observe_put(void)
{
	goalloc_observe_put();
}

int goalloc_trace_free_get(void)
{
	static_branch_inc(&goalloc_free_hooks);
	return 0;
}

void goalloc_trace_free_put(void)
{
	static_branch_dec(&goalloc_free_hooks);
}
