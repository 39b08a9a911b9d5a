// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc's tracepoints: trace.h's events, instantiated once for the
 * module (CREATE_TRACE_POINTS).  Any layer includes trace.h and fires them.
 */
#define CREATE_TRACE_POINTS
#include "observe.h"
#include "trace.h"

/* Other modules may attach probes, as to kmem's events (goalloc_trace KUnit). */
EXPORT_TRACEPOINT_SYMBOL_GPL(alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(free);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_free);

DEFINE_STATIC_KEY_FALSE(goalloc_observe);

/*
 * The tracepoint core calls these when alloc's first probe is attached
 * and after its last is gone (under tracepoints_mutex; the static
 * key takes the CPU hotplug lock and jump_label_mutex, as the tracepoint's
 * own key does right after).
 */
int goalloc_trace_observe_get(void)
{
	static_branch_inc(&goalloc_observe);
	return 0;
}

void goalloc_trace_observe_put(void)
{
	static_branch_dec(&goalloc_observe);
}
