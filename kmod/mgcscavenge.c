// SPDX-License-Identifier: GPL-2.0
/*
 * The scavenger (Go's mgcscavenge.go): idle heap memory goes back to the
 * buddy allocator.
 *
 * Each pass first gives the empty spans mcentral keeps for reuse back to
 * the heap (a span is kept at most one pass), then releases idle chunks.
 *
 * Go keeps the heap's retained memory near its goal plus 10% and returns
 * the rest in the background.  goalloc keeps idle chunks (chunks holding no
 * span) up to retain_percent of the pages in use, and a delayed work item
 * releases the rest whenever a chunk goes idle beyond that.  A shrinker
 * answers memory pressure: it releases every idle chunk, and if that is not
 * enough, drains the per-CPU caches first so their empty spans go back too.
 *
 * goalloc releases whole chunks; Go releases individual pages of partly used
 * chunks, which goalloc does not do.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "mcache.h"
#include "mheap.h"

static unsigned int retain_percent = 10;
module_param(retain_percent, uint, 0644);
MODULE_PARM_DESC(retain_percent,
		 "idle heap memory kept, as a percentage of the heap in use (default 10)");

static unsigned int scavenge_delay_ms = 1000;
module_param(scavenge_delay_ms, uint, 0644);
MODULE_PARM_DESC(scavenge_delay_ms,
		 "delay before idle memory beyond the goal is released (default 1000)");

static void scavenger_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(scavenger_work, scavenger_work_fn);
static bool scavenger_stopped;

/* Pages released by the scavenger and by the shrinker, ever (PAGE_SIZE). */
atomic_long_t goalloc_scavenged_pages = ATOMIC_LONG_INIT(0);
EXPORT_SYMBOL_IF_KUNIT(goalloc_scavenged_pages);

/**
 * goalloc_retained_goal() - idle heap pages the scavenger leaves alone
 *
 * Return: the goal, in heap pages.
 */
unsigned long goalloc_retained_goal(void)
{
	return READ_ONCE(goalloc_heap.pages_inuse) * READ_ONCE(retain_percent) / 100;
}

/**
 * goalloc_scavenge() - release idle chunks beyond the retention goal now
 *
 * Return: PAGE_SIZE pages released.
 */
unsigned long goalloc_scavenge(void)
{
	unsigned long n;

	goalloc_central_release_empty();
	n = goalloc_heap_release(goalloc_retained_goal());

	atomic_long_add(n, &goalloc_scavenged_pages);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_scavenge);

static void scavenger_work_fn(struct work_struct *work)
{
	goalloc_scavenge();
}

/**
 * goalloc_scavenger_kick() - schedule the scavenger if idle memory is over goal
 *
 * Callable from any context.
 */
void goalloc_scavenger_kick(void)
{
	if (READ_ONCE(scavenger_stopped))
		return;
	if (READ_ONCE(goalloc_heap.pages_idle) > goalloc_retained_goal() ||
	    atomic_long_read(&goalloc_empty_pages) > 0)
		queue_delayed_work(system_unbound_wq, &scavenger_work,
				   msecs_to_jiffies(READ_ONCE(scavenge_delay_ms)));
}

/**
 * goalloc_scavenger_flush() - run a scavenger pass now and wait for it, and for any running
 */
void goalloc_scavenger_flush(void)
{
	/* Also waits for a pass already running: it may hold spans it is releasing. */
	mod_delayed_work(system_unbound_wq, &scavenger_work, 0);
	flush_delayed_work(&scavenger_work);
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

	if (atomic_long_read(&goalloc_cached_pages) <= 0)
		return 0;
	rcu_read_lock();
	for_each_online_cpu(cpu) {
		struct goalloc_mcache *c = per_cpu_ptr(&goalloc_mcache, cpu);

		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_span *s = READ_ONCE(c->alloc[spc]);

			/* Racy on purpose (see above): a stale figure costs one scan. */
			if (data_race(s->state == GOALLOC_SPAN_CACHED &&
				      goalloc_span_inuse_hint(s) <= 0))
				n += s->npages;
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
 * Idle chunks, empty spans mcentral keeps and cached spans with no object.
 * It is an upper bound: a span's pages go back to the buddy allocator only
 * with the last span of their chunk.
 *
 * Return: PAGE_SIZE pages, or SHRINK_EMPTY.
 */
unsigned long goalloc_shrink_count(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long n = READ_ONCE(goalloc_heap.pages_idle) +
			  max(0L, atomic_long_read(&goalloc_empty_pages)) +
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
 * Releases kept empty spans and idle chunks, and drains the CPUs' caches
 * only if that was not enough and some cache holds a span with no object.
 *
 * Return: PAGE_SIZE pages released, or SHRINK_STOP.
 */
unsigned long goalloc_shrink_scan(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long held0 = READ_ONCE(goalloc_heap.pages_held), n;

	goalloc_central_release_empty();
	n = goalloc_heap_release(0);
	/* A drain costs every CPU an interruption: only where it gains pages. */
	if (shrink_freed(held0, n) < sc->nr_to_scan && cached_empty_pages()) {
		goalloc_drain_all();
		goalloc_central_release_empty();
		n += goalloc_heap_release(0);
	}
	atomic_long_add(n, &goalloc_scavenged_pages);
	n = shrink_freed(held0, n);
	return n ? n : SHRINK_STOP;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_shrink_scan);

#ifdef GOALLOC_HAVE_SHRINKER_ALLOC
static struct shrinker *goalloc_shrinker;

static int shrinker_start(void)
{
	goalloc_shrinker = shrinker_alloc(0, "goalloc");
	if (!goalloc_shrinker)
		return -ENOMEM;
	goalloc_shrinker->count_objects = goalloc_shrink_count;
	goalloc_shrinker->scan_objects = goalloc_shrink_scan;
	goalloc_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(goalloc_shrinker);
	return 0;
}

static void shrinker_stop(void)
{
	shrinker_free(goalloc_shrinker);
}
#else
static struct shrinker goalloc_shrinker = {
	.count_objects = goalloc_shrink_count,
	.scan_objects = goalloc_shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

static int shrinker_start(void)
{
	return register_shrinker(&goalloc_shrinker, "goalloc");
}

static void shrinker_stop(void)
{
	unregister_shrinker(&goalloc_shrinker);
}
#endif

int goalloc_scavenger_init(void)
{
	return shrinker_start();
}

/* At unload, before the heap lets go of its chunks. */
void goalloc_scavenger_exit(void)
{
	shrinker_stop();
	WRITE_ONCE(scavenger_stopped, true);
	cancel_delayed_work_sync(&scavenger_work);
}
