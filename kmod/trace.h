/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc's tracepoints (system "goalloc"), defined once in trace.c.
 *
 * alloc and free carry the fields of kmem:kmalloc and kmem:kfree under the
 * same names (call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node), so
 * a script or tool written for those reads these by changing the event's
 * name only.  The rest mark the slow path's life cycle of spans and
 * chunks.  Each costs one patched-out jump while disabled (a static key):
 * the instruction budget (bench/budget.txt) holds with them compiled in.
 * alloc is not tested on the fast paths itself: its first probe turns
 * goalloc_observe on (observe.h), which sends the fast paths to the API's
 * observing paths, where the event fires.  free is tested where the free's
 * fast path starts, and leaves every free to the slow path, which fires it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM goalloc

#if !defined(_GOALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GOALLOC_TRACE_H

#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>

/* alloc's first probe in, last out: goalloc_observe (observe.h). */
int goalloc_trace_observe_get(void);
void goalloc_trace_observe_put(void);
/* free's first probe in, last out: goalloc_free_hooks (observe.h). */
int goalloc_trace_free_get(void);
void goalloc_trace_free_put(void);

/* An object handed out: any of the API's allocation calls, on success. */
TRACE_EVENT_FN(alloc,
	TP_PROTO(unsigned long call_site, const void *ptr, size_t bytes_req,
		 size_t bytes_alloc, gfp_t gfp_flags, int node),
	TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node),
	TP_STRUCT__entry(
		__field(unsigned long, call_site)
		__field(const void *, ptr)
		__field(size_t, bytes_req)
		__field(size_t, bytes_alloc)
		__field(unsigned long, gfp_flags)
		__field(int, node)
	),
	TP_fast_assign(
		__entry->call_site = call_site;
		__entry->ptr = ptr;
		__entry->bytes_req = bytes_req;
		__entry->bytes_alloc = bytes_alloc;
		__entry->gfp_flags = (__force unsigned long)gfp_flags;
		__entry->node = node;
	),
	TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d",
		  (void *)__entry->call_site, __entry->ptr, __entry->bytes_req,
		  __entry->bytes_alloc, show_gfp_flags(__entry->gfp_flags), __entry->node),
	goalloc_trace_observe_get, goalloc_trace_observe_put
);

/* A free asked for (NULL included, as kmem:kfree), before it is checked. */
TRACE_EVENT_FN(free,
	TP_PROTO(unsigned long call_site, const void *ptr),
	TP_ARGS(call_site, ptr),
	TP_STRUCT__entry(
		__field(unsigned long, call_site)
		__field(const void *, ptr)
	),
	TP_fast_assign(
		__entry->call_site = call_site;
		__entry->ptr = ptr;
	),
	TP_printk("call_site=%pS ptr=%p", (void *)__entry->call_site, __entry->ptr),
	goalloc_trace_free_get, goalloc_trace_free_put
);

/* A span made from the heap's pages (span_alloc) or given back (span_free). */
DECLARE_EVENT_CLASS(goalloc_span_class,
	TP_PROTO(unsigned long base, unsigned int npages, unsigned int cls, int node),
	TP_ARGS(base, npages, cls, node),
	TP_STRUCT__entry(
		__field(unsigned long, base)
		__field(unsigned int, npages)
		__field(unsigned int, cls)
		__field(int, node)
	),
	TP_fast_assign(
		__entry->base = base;
		__entry->npages = npages;
		__entry->cls = cls;
		__entry->node = node;
	),
	TP_printk("base=%lx npages=%u class=%u node=%d", __entry->base, __entry->npages,
		  __entry->cls, __entry->node)
);

DEFINE_EVENT(goalloc_span_class, span_alloc,
	TP_PROTO(unsigned long base, unsigned int npages, unsigned int cls, int node),
	TP_ARGS(base, npages, cls, node));

DEFINE_EVENT(goalloc_span_class, span_free,
	TP_PROTO(unsigned long base, unsigned int npages, unsigned int cls, int node),
	TP_ARGS(base, npages, cls, node));

/* A chunk of pages taken from the page allocator (grow) or given back (release). */
DECLARE_EVENT_CLASS(goalloc_chunk_class,
	TP_PROTO(unsigned long base, unsigned int npages, int node),
	TP_ARGS(base, npages, node),
	TP_STRUCT__entry(
		__field(unsigned long, base)
		__field(unsigned int, npages)
		__field(int, node)
	),
	TP_fast_assign(
		__entry->base = base;
		__entry->npages = npages;
		__entry->node = node;
	),
	TP_printk("base=%lx npages=%u node=%d", __entry->base, __entry->npages, __entry->node)
);

DEFINE_EVENT(goalloc_chunk_class, chunk_grow,
	TP_PROTO(unsigned long base, unsigned int npages, int node),
	TP_ARGS(base, npages, node));

DEFINE_EVENT(goalloc_chunk_class, chunk_release,
	TP_PROTO(unsigned long base, unsigned int npages, int node),
	TP_ARGS(base, npages, node));

/* One pass of the scavenger (trim pass): what it gave back. */
TRACE_EVENT(scavenge,
	TP_PROTO(unsigned long chunks, unsigned long pages),
	TP_ARGS(chunks, pages),
	TP_STRUCT__entry(
		__field(unsigned long, chunks)
		__field(unsigned long, pages)
	),
	TP_fast_assign(
		__entry->chunks = chunks;
		__entry->pages = pages;
	),
	TP_printk("chunks_released=%lu pages_scavenged=%lu", __entry->chunks, __entry->pages)
);

#endif /* _GOALLOC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
