// SPDX-License-Identifier: GPL-2.0
/*
 * The scavenger (Go's mgcscavenge.go): idle heap memory goes back to the
 * buddy allocator.  This file is the top of the data path: it installs the
 * background pass in the heap and registers the shrinker, and only calls
 * down (mcache, mcentral, mheap); nothing below calls into it.
 *
 * Go keeps the heap's retained memory near its goal plus 10% and returns
 * the rest in the background.  The heap owns that policy (mheap.c): it
 * keeps idle chunks (chunks holding no span) up to retain_percent of the
 * pages in use, and it and mcentral ask for a pass through the heap's work
 * item (goalloc_heap_trim_soon()) whenever a chunk goes idle beyond that or
 * an empty span is kept.  The pass, installed here, first gives the empty
 * spans mcentral keeps for reuse back to the heap (a span is kept at most
 * one pass), then releases idle chunks beyond the goal.  A shrinker answers
 * memory pressure: it releases every idle chunk, and if that is not enough,
 * drains the per-CPU caches first so their empty spans go back too.
 *
 * As Go's scavenger releases free pages, not only free arenas, the pass
 * and the shrinker also release free pages between the spans of chunks
 * still in use (goalloc_heap_scavenge()), down to the same goal.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "trace.h"

/*
 * Spans that caches hold for nothing (Go flushes every P's mcache at each
 * collection): a CPU's cache keeps a current span for every class it ever
 * allocated from, however long ago, and for a class used once that is a
 * whole span, often with no object left in it.  Each pass, every CPU gives
 * back to mcentral the span of each class it has allocated nothing from
 * since the pass before (an idle CPU, all of them); there other CPUs take
 * them, and the empty ones go back to the heap.  Idleness is read off the
 * cache's own allocation counts, on its CPU, so the fast path pays nothing.
 *
 * @flush_seen: each class's allocation count at the CPU's last flush, read
 * and written only by the flush on that CPU (passes run one at a time).
 */
static DEFINE_PER_CPU(unsigned long [GOALLOC_NUM_SPC], flush_seen);
static DEFINE_PER_CPU(struct work_struct, idle_flush_work);
static DEFINE_PER_CPU(unsigned int, idle_flushed);

/*
 * On the CPU whose cache it flushes, in process context: no section of the
 * CPU is open (sections are never preempted).  Should the CPU have gone
 * offline, this runs elsewhere and looks at that CPU's cache, which is
 * harmless.
 */
static void idle_flush_fn(struct work_struct *w)
{
	struct goalloc_mcache *c = goalloc_mcache_get();
	unsigned long *seen = this_cpu_ptr(flush_seen);
	unsigned int spc, n = 0;

	if (goalloc_mcache_enter(c)) {
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_span *s = c->alloc[spc];

			if (s != &goalloc_placeholder_span && c->nmalloc[spc] == seen[spc]) {
				goalloc_mcache_uncache(c, spc);
				n++;
			}
			seen[spc] = c->nmalloc[spc];
			/* The span for other nodes goes back at every pass. */
			if (c->away[spc] != &goalloc_placeholder_span) {
				goalloc_mcache_uncache_away(c, spc);
				n++;
			}
		}
		goalloc_mcache_leave(c);
	}
	this_cpu_write(idle_flushed, n);
	goalloc_mcache_put();
}

/**
 * goalloc_flush_idle_spans() - take back the spans caches have not used since the last call
 *
 * On every online CPU whose cache holds a span, by a work item on that CPU
 * that this waits for: the span of each class the CPU allocated nothing
 * from since the previous call goes back to mcentral.  Every CPU's counts
 * of spans grown start again (goalloc_mcache_pass_reset()).  The trim pass
 * calls it; process context.
 *
 * Return: the number of spans taken back.
 */
unsigned int goalloc_flush_idle_spans(void)
{
	unsigned int cpu, n = 0;
	cpumask_var_t queued;

	goalloc_mcache_pass_reset();
	if (!zalloc_cpumask_var(&queued, GFP_KERNEL))
		return 0;
	for_each_online_cpu(cpu) {
		if (goalloc_mcache_drained(cpu))
			continue;
		per_cpu(idle_flushed, cpu) = 0;
		queue_work_on(cpu, system_wq, per_cpu_ptr(&idle_flush_work, cpu));
		cpumask_set_cpu(cpu, queued);
	}
	for_each_cpu(cpu, queued) {
		flush_work(per_cpu_ptr(&idle_flush_work, cpu));
		n += per_cpu(idle_flushed, cpu);
	}
	free_cpumask_var(queued);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_flush_idle_spans);

/**
 * goalloc_scavenge() - run a trim pass now
 *
 * Takes back the spans of classes CPUs have not allocated from since the
 * last pass (goalloc_flush_idle_spans()), gives the empty spans mcentral keeps back
 * to the heap, then releases the
 * idle chunks beyond the retention goal (goalloc_heap_retain_goal()), then
 * free pages between spans until the heap's free pages, idle chunks'
 * included, are down to the goal.
 *
 * Return: PAGE_SIZE pages released to the buddy allocator.
 */
unsigned long goalloc_scavenge(void)
{
	unsigned long n, m;

	goalloc_flush_idle_spans();
	goalloc_central_release_kept();
	n = goalloc_heap_release(goalloc_heap_retain_goal());
	m = goalloc_heap_scavenge(goalloc_heap_retain_goal());
	trace_scavenge(n, m);
	return n + m;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_scavenge);

/* The heap's trim work item runs this (goalloc_heap_trim_start()). */
static void scavenger_work_fn(struct work_struct *work)
{
	goalloc_scavenge();
}

/**
 * goalloc_scavenger_flush() - run a scavenger pass now and wait for it, and for any running
 */
void goalloc_scavenger_flush(void)
{
	goalloc_heap_trim_flush();
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_scavenger_flush);

static unsigned long pages_to_sys(unsigned long heap_pages)
{
	return heap_pages * (GOALLOC_PAGE_SIZE / PAGE_SIZE);
}

/*
 * Heap pages of spans some CPU caches that hold no object: what draining
 * the caches can give back.  A span with a live object goes from the cache
 * to mcentral's lists and stays in the heap, so it is not counted: a
 * shrinker that counted it would drain every CPU on every reclaim pass for
 * nothing.
 *
 * Other CPUs' caches are read without their owners' sections: the figure
 * is an estimate, which the drain does not rely on (each CPU re-checks its
 * own spans).  A span read from a cache stays readable until
 * rcu_read_unlock(): spans are freed with kfree_rcu() after they leave the
 * cache.
 */
static unsigned long cached_empty_pages(void)
{
	unsigned long n = 0;
	unsigned int cpu, spc;

	if (goalloc_counter(GOALLOC_CTR_CACHED_PAGES) <= 0)
		return 0;
	rcu_read_lock();
	for_each_online_cpu(cpu) {
		struct goalloc_mcache *c = per_cpu_ptr(goalloc_mcache, cpu);

		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_span *s = READ_ONCE(c->alloc[spc]);
			struct goalloc_span *a = READ_ONCE(c->away[spc]);

			/* Racy on purpose (see above): a stale figure costs one scan. */
			if (data_race(s->state == GOALLOC_SPAN_CACHED &&
				      goalloc_span_inuse_hint(s) <= 0))
				n += s->npages;
			/* The span for other nodes, as racy and for the same reason. */
			if (data_race(a->state == GOALLOC_SPAN_CACHED &&
				      goalloc_span_inuse_hint(a) <= 0))
				n += a->npages;
		}
	}
	rcu_read_unlock();
	return n;
}

/**
 * goalloc_shrink_count() - the shrinker's count: what a scan can give back
 * @sh: the shrinker
 * @sc: the reclaim's control
 *
 * Free heap pages (idle chunks and between spans), empty spans mcentral
 * keeps and cached spans with no object.  An estimate: the heap's counters
 * are read without its lock.
 *
 * Return: PAGE_SIZE pages, or SHRINK_EMPTY.
 */
unsigned long goalloc_shrink_count(struct shrinker *sh, struct shrink_control *sc)
{
	long free = (long)READ_ONCE(goalloc_heap.kernel.pages_held) -
		    (long)READ_ONCE(goalloc_heap.kernel.pages_inuse);
	unsigned long n = max(0L, free) +
			  max(0L, goalloc_counter(GOALLOC_CTR_KEPT_PAGES)) +
			  cached_empty_pages();

	return n ? pages_to_sys(n) : SHRINK_EMPTY;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_shrink_count);

/*
 * PAGE_SIZE pages freed since the heap held @held0 heap pages, of which
 * goalloc_heap_release() returned @released.  A span given back may release
 * its chunk at once (goalloc_heap_free_span()), which goalloc_heap_release()
 * does not see: what the heap lost counts too.
 */
static unsigned long shrink_freed(unsigned long held0, unsigned long released)
{
	unsigned long held = READ_ONCE(goalloc_heap.pages_held);

	return max(released, held0 > held ? pages_to_sys(held0 - held) : 0);
}

/**
 * goalloc_shrink_scan() - the shrinker's scan: give back what goalloc holds idle
 * @sh: the shrinker
 * @sc: the reclaim's control; nr_to_scan in PAGE_SIZE pages
 *
 * Releases kept empty spans, idle chunks and free pages between spans, and
 * drains the CPUs' caches only if that was not enough and some cache holds
 * a span with no object: this CPU's at once, the others' without waiting.
 *
 * Return: PAGE_SIZE pages released, or SHRINK_STOP.
 */
unsigned long goalloc_shrink_scan(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long held0 = READ_ONCE(goalloc_heap.pages_held), n;

	goalloc_central_release_kept();
	n = goalloc_heap_release(0);
	n += goalloc_heap_scavenge(0);
	/*
	 * A drain costs every CPU an interruption: only where it gains pages.
	 * The other CPUs' caches drain after this returns (no wait in
	 * reclaim: goalloc_drain_all_nowait()); their pages go back at the
	 * next scan or trim pass.
	 */
	if (shrink_freed(held0, n) < sc->nr_to_scan && cached_empty_pages())
		goalloc_drain_all_nowait();
	n = shrink_freed(held0, n);
	return n ? n : SHRINK_STOP;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_shrink_scan);

static struct shrinker *goalloc_shrinker;

/* At load, after the heap, mcentral and the caches are up. */
int goalloc_scavenger_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		INIT_WORK(per_cpu_ptr(&idle_flush_work, cpu), idle_flush_fn);
	goalloc_heap_trim_start(scavenger_work_fn);
	goalloc_shrinker = goalloc_shrinker_start("goalloc", goalloc_shrink_count,
						  goalloc_shrink_scan);
	if (!goalloc_shrinker) {
		goalloc_heap_trim_stop();
		return -ENOMEM;
	}
	return 0;
}

/* At unload, before the caches are drained and the heap lets go of its chunks. */
void goalloc_scavenger_exit(void)
{
	goalloc_shrinker_stop(goalloc_shrinker);
	goalloc_heap_trim_stop();
}
