// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc's tracepoints: trace.h's events, instantiated once for the
 * module (CREATE_TRACE_POINTS).  Any layer includes trace.h and fires them.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"

/* Other modules may attach probes, as to kmem's events (goalloc_trace KUnit). */
EXPORT_TRACEPOINT_SYMBOL_GPL(alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(free);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(span_free);
