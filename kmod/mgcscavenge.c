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
#include <linux/moduleparam.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include "internal.h"
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

static unsigned long goalloc_shrink_count(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long n = READ_ONCE(goalloc_heap.pages_idle) +
			  max(0L, atomic_long_read(&goalloc_empty_pages)) +
			  max(0L, atomic_long_read(&goalloc_cached_pages));

	return n ? pages_to_sys(n) : SHRINK_EMPTY;
}

static unsigned long goalloc_shrink_scan(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long freed;

	goalloc_central_release_empty();
	freed = goalloc_heap_release(0);
	if (freed < sc->nr_to_scan && atomic_long_read(&goalloc_cached_pages) > 0) {
		goalloc_drain_all();
		goalloc_central_release_empty();
		freed += goalloc_heap_release(0);
	}
	atomic_long_add(freed, &goalloc_scavenged_pages);
	return freed ? freed : SHRINK_STOP;
}

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
