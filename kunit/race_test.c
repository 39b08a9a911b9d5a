// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the races of the free path, each forced at the exact point where
 * it happens through a test-only hook (kmod/hooks.h), so every run takes
 * the interleaving instead of hoping for it.
 *
 * The code a hook runs is what an interrupt landing at that point would
 * run: goalloc_alloc(GFP_ATOMIC) or goalloc_free() on the same CPU, which
 * finds the CPU's cache free (before the section) or busy (inside it) just
 * as an interrupt does.  The test pins itself to one CPU with
 * migrate_disable() so that its own calls share one cache.
 *
 * On PREEMPT_RT, a section is a sleeping per-CPU lock and interrupts are
 * threads that wait for it: nothing can run inside a section, so the
 * in-section cases are skipped there (goalloc_mcache_get()).
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "pool_test.h"
#include "quiet.h"

#define RACE_SIZE	64

#ifdef GOALLOC_TEST_HOOKS
static struct {
	const void *target;	/* the free the hook fires in */
	void **objs;		/* what the "interrupt" allocated */
	unsigned int n, max;
	struct goalloc_span *span;
	struct task_struct *task;	/* the test's, for hooks with no target */
	bool fired;
} race;

static void hook_remove(enum goalloc_hook_id id)
{
	WRITE_ONCE(goalloc_hooks[id], NULL);
	race.target = NULL;
}

static void hook_remove_action(void *id)
{
	hook_remove((enum goalloc_hook_id)(uintptr_t)id);
}

/*
 * Install @fn at @id for the test's free of @target.  Removed at the end of
 * the test whatever happens: a failed assertion before the test's own
 * hook_remove() must not leave it to fire in later suites.
 */
static void hook_install(enum goalloc_hook_id id, goalloc_hook_fn fn, const void *target)
{
	struct kunit *test = kunit_get_current_test();

	race.target = target;
	race.fired = false;
	WRITE_ONCE(goalloc_hooks[id], fn);
	if (test)
		KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, hook_remove_action,
								   (void *)(uintptr_t)id));
}

/* Does this hook call belong to the test's free, for the first time? */
static bool hook_mine(const void *arg)
{
	if (arg != race.target || race.fired)
		return false;
	race.fired = true;
	return true;
}

/*
 * An interrupt between the free's span lookup and its section: GFP_ATOMIC
 * allocations of the same class until the CPU's current span is no longer
 * the freed object's span (goalloc_mcache_next_free() -> refill -> uncache).
 */
static void hook_run_span_out(void *arg)
{
	void *q;

	if (!hook_mine(arg))
		return;
	while (race.n < race.max) {
		q = goalloc_alloc(RACE_SIZE, GFP_ATOMIC);
		if (!q)
			break;
		race.objs[race.n++] = q;
		if (goalloc_span_of(q) != race.span)
			break;
	}
}

/* An interrupt inside the owner's free freeing the same object again. */
static void hook_free_again(void *arg)
{
	if (hook_mine(arg))
		goalloc_free(arg);
}

static bool skip_on_rt(struct kunit *test)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		kunit_skip(test, "no interrupt can land inside a section on PREEMPT_RT");
		return true;
	}
	return false;
}

/*
 * Bug: the owner check ran before the section.  An interrupt between them
 * runs the span out and gives it to mcentral (FULL); the task then freed
 * into it as its owner, without a lock, and no fixup moved it off the full
 * list.  Now ownership is decided inside the section: the free is a remote
 * one, and the span, no longer full, moves to the partial list.
 */
static void free_decides_ownership_inside_section(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	struct goalloc_span *s;
	unsigned int i;
	void *p;

	if (skip_on_rt(test))
		return;
	race.max = 2 * 1024;
	race.n = 0;
	race.objs = kunit_kcalloc(test, race.max, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race.objs);

	migrate_disable();
	p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	race.span = s;
	hook_install(GOALLOC_HOOK_FREE_LOOKUP, hook_run_span_out, p);
	goalloc_free(p);
	hook_remove(GOALLOC_HOOK_FREE_LOOKUP);
	KUNIT_EXPECT_TRUE(test, race.fired);
	KUNIT_ASSERT_GT(test, race.n, 0U);
	/* The interrupt left the CPU on another span; s went to mcentral. */
	rcu_read_lock();
	KUNIT_EXPECT_PTR_NE(test, goalloc_span_of(race.objs[race.n - 1]), s);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_PARTIAL);
	KUNIT_EXPECT_EQ(test, s->nfree_pending, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->nremote), 1);
	for (i = 0; i < race.n; i++)
		goalloc_free(race.objs[i]);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * Free @p with @fn hooked at @id (it runs once, on @p's free), bad frees
 * reported quietly, then take two objects of the class: @q and @r, which
 * must be two.
 */
static void free_hooked_take_two(struct kunit *test, enum goalloc_hook_id id,
				 goalloc_hook_fn fn, void *p, void **q, void **r)
{
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	hook_install(id, fn, p);
	goalloc_free(p);
	hook_remove(id);
	KUNIT_EXPECT_TRUE(test, race.fired);
	*q = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	*r = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_ASSERT_NOT_NULL(test, *q);
	KUNIT_ASSERT_NOT_NULL(test, *r);
	KUNIT_EXPECT_PTR_NE(test, *q, *r);
}

/*
 * Bug: two frees of one object at once both succeeded.  The owner checks
 * the object, an interrupt frees it again (the cache is busy: the remote
 * path, whose check passes too), then the owner records its free of the
 * slot it handed out last, straight back into the alloc cache.  The next
 * allocation finds the stale remote record: the slot comes out once, and
 * the double free is counted.
 */
static void concurrent_double_free_found_on_reuse(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	void *p, *q, *r;

	if (skip_on_rt(test))
		return;
	migrate_disable();
	p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	free_hooked_take_two(test, GOALLOC_HOOK_OWNER_FREE, hook_free_again, p, &q, &r);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 2);
	/* Both are live objects of their own: a sweep must keep them. */
	goalloc_drain_all();
	KUNIT_EXPECT_EQ(test, goalloc_size(q), (size_t)RACE_SIZE);
	KUNIT_EXPECT_EQ(test, goalloc_size(r), (size_t)RACE_SIZE);
	goalloc_free(q);
	goalloc_free(r);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* An interrupt before the free's section frees the same object in bulk. */
static void hook_bulk_free(void *arg)
{
	void *p = arg;

	if (hook_mine(arg))
		goalloc_free_bulk(1, &p);
}

/*
 * Bug (caught before it landed): the fast free undoes the CPU's last
 * allocation with no check of the slot (the cache's last_obj).  An
 * interrupt between the allocation and the free that frees the object by
 * another path (goalloc_free_bulk(), whose LIFO chain gives the slot
 * back) left last_obj naming a slot that was free again; the task's free
 * (now a double free) undid once more, stepping freeindex back over the
 * slot below, a live object, which the next allocation handed out a
 * second time.  Every section but the fast paths' forgets last_obj
 * (goalloc_mcache_enter()): the free is checked, and refused.
 */
static void undo_forgotten_after_other_section(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	struct goalloc_mcache *c;
	void *objs[8], *p = NULL, *q, *r;
	unsigned int n = 0, i;

	/* The hook runs with the cache's local lock held there: no interrupt can. */
	if (skip_on_rt(test))
		return;
	migrate_disable();
	c = this_cpu_ptr(goalloc_mcache);
	/* Two slots in a row of one span, the second the fast path's last. */
	while (n < ARRAY_SIZE(objs)) {
		objs[n] = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, objs[n]);
		n++;
		if (n >= 2 && READ_ONCE(c->last_obj) == objs[n - 1] &&
		    objs[n - 1] == objs[n - 2] + RACE_SIZE) {
			p = objs[--n];
			break;
		}
	}
	KUNIT_ASSERT_NOT_NULL(test, p);
	free_hooked_take_two(test, GOALLOC_HOOK_FREE_LOOKUP, hook_bulk_free, p, &q, &r);
	/* The slot below p is still objs[n - 1]'s alone. */
	KUNIT_EXPECT_PTR_NE(test, q, objs[n - 1]);
	KUNIT_EXPECT_PTR_NE(test, r, objs[n - 1]);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + n + 2);
	for (i = 0; i < n; i++)
		goalloc_free(objs[i]);
	goalloc_free(q);
	goalloc_free(r);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * The same race on an object that is not the last one handed out: both
 * records (owner and remote) hold the slot.  The span holds one more live
 * object; when the CPU gives the span back, the count of objects in use
 * reads zero.  The span must not be retired with the live object in it:
 * the sweep frees the slot once and recounts.
 */
static void concurrent_double_free_never_retires_live_span(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	const size_t size = 1536;	/* few objects a span: 5 small, 10 own */
	void *p1, *p2;
	bool same;

	if (skip_on_rt(test))
		return;
	/* Start from an empty cache, so p1 and p2 share a span of their own. */
	goalloc_drain_all();
	goalloc_central_release_kept();
	migrate_disable();
	p1 = goalloc_alloc(size, GFP_KERNEL);
	p2 = goalloc_alloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p1);
	KUNIT_ASSERT_NOT_NULL(test, p2);
	rcu_read_lock();
	same = goalloc_span_of(p1) == goalloc_span_of(p2);
	rcu_read_unlock();
	KUNIT_ASSERT_TRUE(test, same);
	memset(p2, 0x5a, size);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	hook_install(GOALLOC_HOOK_OWNER_FREE, hook_free_again, p1);
	goalloc_free(p1);
	hook_remove(GOALLOC_HOOK_OWNER_FREE);
	KUNIT_EXPECT_TRUE(test, race.fired);
	migrate_enable();
	goalloc_drain_all();
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_size(p2), size);
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_span_of(p2)->state), (u8)GOALLOC_SPAN_PARTIAL);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 1);
	KUNIT_EXPECT_EQ(test, ((u8 *)p2)[size - 1], 0x5a);
	goalloc_free(p2);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * Inside goalloc_mcache_next_free(), after it grew a span outside the section: the task's
 * last two objects (in the span it ran out of, which mcentral now holds as
 * full) are freed from elsewhere, and an interrupt allocates one object (its
 * refill takes that span back).  The task comes back to install with a free
 * slot in its current span.
 */
static void hook_free_slot_while_growing(void *arg)
{
	void *q;

	if (current != race.task || race.fired || race.n < 2)
		return;
	race.fired = true;
	race.span = arg;
	goalloc_free(race.objs[--race.n]);
	goalloc_free(race.objs[--race.n]);
	q = goalloc_alloc(RACE_SIZE, GFP_ATOMIC);
	if (q)
		race.objs[race.n++] = q;
}

/*
 * Spans of @spc on mcentral's partial and full lists with nothing in them
 * and no free pending: no free will ever come to retire them.
 */
static unsigned int idle_listed_spans(unsigned int spc)
{
	struct goalloc_span *s;
	unsigned int i, n = 0;
	unsigned long flags;
	int nid;

	for_each_node(nid) {
		struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);
		struct list_head *lists[] = { &mc->partial, &mc->full };

		spin_lock_irqsave(&mc->lock, flags);
		for (i = 0; i < ARRAY_SIZE(lists); i++) {
			list_for_each_entry(s, lists[i], list) {
				spin_lock(&s->lock);
				n += !s->alloc_count && !s->nfree_pending &&
				     !atomic_read(&s->nremote);
				spin_unlock(&s->lock);
			}
		}
		spin_unlock_irqrestore(&mc->lock, flags);
	}
	return n;
}

/*
 * Found by the soak (heap pages in use with no object left): when install
 * found a free slot in the current span, the span it had grown went to
 * mcentral's partial list with no object in it.  Only a free moves a span
 * off that list, so none ever retired it and its pages stayed in use.  Now
 * such a span is kept on the kept list (or goes back to the heap).
 */
static void grown_span_not_needed_is_not_stranded(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int spc, idle0, i;
	void *p = NULL;

	race.max = 16 * 1024;
	race.n = 0;
	race.fired = false;
	race.task = current;
	race.objs = kunit_kcalloc(test, race.max, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race.objs);

	migrate_disable();
	p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	rcu_read_lock();
	spc = goalloc_span_of(p)->spc;
	rcu_read_unlock();
	race.objs[race.n++] = p;
	idle0 = idle_listed_spans(spc);
	/* Allocate until this CPU's allocation has to grow a span. */
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_SPAN_GROWN], hook_free_slot_while_growing);
	while (!race.fired && race.n < race.max) {
		p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
		if (!p)
			break;
		race.objs[race.n++] = p;
	}
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_SPAN_GROWN], NULL);
	race.task = NULL;
	KUNIT_EXPECT_TRUE_MSG(test, race.fired, "no grow after %u objects", race.n);
	/* Install gave the object from the slot freed meanwhile. */
	if (race.fired) {
		rcu_read_lock();
		KUNIT_EXPECT_PTR_NE(test, goalloc_span_of(p), race.span);
		rcu_read_unlock();
	}
	KUNIT_EXPECT_EQ(test, idle_listed_spans(spc), idle0);
	for (i = 0; i < race.n; i++)
		goalloc_free(race.objs[i]);
	migrate_enable();
	goalloc_drain_all();
	KUNIT_EXPECT_EQ(test, idle_listed_spans(spc), idle0);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* For remote_free_into_span_made_ours: a class of few objects a span. */
#define TAKE_SIZE	1536

/*
 * An interrupt between the free's section and the record of its remote
 * free (goalloc_central_free()): allocations of the class until one comes
 * from the freed object's span, which makes that span this CPU's.
 */
static void hook_take_span(void *arg)
{
	void *q;

	if (!hook_mine(arg))
		return;
	while (race.n < race.max) {
		q = goalloc_alloc(TAKE_SIZE, GFP_ATOMIC);
		if (!q)
			break;
		race.objs[race.n++] = q;
		/* The free's pin is an RCU read-side section. */
		if (goalloc_span_of(q) == race.span)
			break;
	}
}

/*
 * The free's fast path decides, inside the section, that the span is not
 * this CPU's, leaves the section and records a remote free with no second
 * look at the cache (goalloc_mcache_free_remote()).  An interrupt in
 * between makes the span this CPU's again: the remote record lands in a
 * span the CPU owns, as another CPU's would.  The owner must find it: the
 * slot comes out again, once, and every count comes back.
 */
static void remote_free_into_span_made_ours(struct kunit *test)
{
	long base = goalloc_objects_in_use(), bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int i, n, nmine = 0, first = 0;
	struct goalloc_span *s = NULL;
	void **mine, *r;
	bool again = false;

	if (skip_on_rt(test))
		return;
	race.max = 64;
	race.n = 0;
	race.objs = kunit_kcalloc(test, race.max, sizeof(void *), GFP_KERNEL);
	mine = kunit_kcalloc(test, 256, sizeof(void *), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race.objs);
	KUNIT_ASSERT_NOT_NULL(test, mine);
	goalloc_drain_all();
	goalloc_central_release_kept();
	migrate_disable();
	/*
	 * Allocate until the CPU moves to another span, and again until the
	 * span it left holds two of ours (it may have held others' objects):
	 * that span, full, is mcentral's now, and no longer this CPU's.
	 */
	while (nmine < 256) {
		r = goalloc_alloc(TAKE_SIZE, GFP_KERNEL);
		if (!r)
			break;
		mine[nmine++] = r;
		rcu_read_lock();
		if (goalloc_span_of(r) != goalloc_span_of(mine[first])) {
			if (nmine - 1 - first >= 2)
				s = goalloc_span_of(mine[first]);
			first = nmine - 1;
		}
		rcu_read_unlock();
		if (s)
			break;
	}
	if (!s) {
		for (i = 0; i < nmine; i++)
			goalloc_free(mine[i]);
		migrate_enable();
		KUNIT_FAIL(test, "no span of two of ours after %u objects", nmine);
		return;
	}
	/* The two of ours: mine[first - 2] and mine[first - 1], both in s. */
	race.span = s;
	/* A remote free makes s partial. */
	goalloc_free(mine[first - 1]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(s->state), (u8)GOALLOC_SPAN_PARTIAL);
	hook_install(GOALLOC_HOOK_REMOTE_FREE, hook_take_span, mine[first - 2]);
	goalloc_free(mine[first - 2]);
	hook_remove(GOALLOC_HOOK_REMOTE_FREE);
	KUNIT_EXPECT_TRUE(test, race.fired);
	/* The interrupt ended in s, with the slot freed first. */
	rcu_read_lock();
	KUNIT_EXPECT_TRUE(test, race.n > 0 && goalloc_span_of(race.objs[race.n - 1]) == s);
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, race.n > 0 && race.objs[race.n - 1] == mine[first - 1]);
	/* The slot recorded remote in the CPU's own span comes out, once. */
	n = race.n;
	for (i = 0; i < 8 && race.n < race.max; i++) {
		r = goalloc_alloc(TAKE_SIZE, GFP_KERNEL);
		if (!r)
			break;
		race.objs[race.n++] = r;
		again |= r == mine[first - 2];
	}
	KUNIT_EXPECT_TRUE(test, again);
	KUNIT_EXPECT_TRUE(test, race.n > n && race.objs[n] == mine[first - 2]);
	for (i = 0; i < nmine; i++)
		if (i != first - 1 && i != first - 2)
			goalloc_free(mine[i]);
	for (i = 0; i < race.n; i++)
		goalloc_free(race.objs[i]);
	migrate_enable();
	goalloc_drain_all();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* A pool that gives an idle chunk back at once. */
static unsigned int keep_nothing_percent;
static const struct goalloc_pool_policy keeps_nothing = {
	.retain_percent = &keep_nothing_percent,
	.grow_min_order = GOALLOC_MIN_CHUNK_ORDER,
};

/* The "interrupt": the free of the test's other object, race.objs[0]. */
static void hook_free_other(void *arg)
{
	if (hook_mine(arg))
		goalloc_free(race.objs[0]);
}

/*
 * Bug: a free that finds its CPU's cache busy (an interrupt inside a
 * section) counts itself in the span's mcentral once goalloc_central_free()
 * is done.  When that free emptied the span and the heap took the span
 * back with its chunk, the count read the span's node from the freed chunk
 * (KASAN: slab-use-after-free in goalloc_central_count_free(), under
 * goalloc_concurrency.all_cpus_with_irq_callers).  The span keeps its node
 * now.  Forced: inside the owner's free of one object, the free of the
 * only object of a 32 KiB span of a pool that keeps no idle chunk (a span
 * of the class's own shape is not kept empty: it goes at once).
 */
static void busy_cache_free_counts_after_release(struct kunit *test)
{
	unsigned int spc = goalloc_spc(goalloc_size_class(32768), false);
	long base = goalloc_objects_in_use();
	struct goalloc_pool *pool;
	struct goalloc_span *s;
	void *obj[1], *p;

	if (skip_on_rt(test))
		return;
	pool = test_pool_create(test, &keeps_nothing);
	s = goalloc_central_grow_pool(pool, spc, test_pool_node(pool), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, (unsigned int)s->nelems, 1U);
	/* Its one object taken while the span is ours alone, then to mcentral. */
	obj[0] = goalloc_span_next_free(s);
	KUNIT_ASSERT_NOT_NULL(test, obj[0]);
	goalloc_central_add_span(s);
	goalloc_central_count_alloc(s);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 1UL);
	race.objs = obj;
	migrate_disable();
	p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	hook_install(GOALLOC_HOOK_OWNER_FREE, hook_free_other, p);
	goalloc_free(p);
	hook_remove(GOALLOC_HOOK_OWNER_FREE);
	migrate_enable();
	KUNIT_EXPECT_TRUE(test, race.fired);
	/* The scenario happened: the span and its chunk went inside the free. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->nchunks), 0UL);
	/* Both frees counted, each once. */
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	race.objs = NULL;
	/* Had the span been kept, it must not outlive the test's pool. */
	goalloc_central_release_kept();
	test_pool_check_empty(test, pool);
}
#else
static void no_hooks(struct kunit *test)
{
	kunit_skip(test, "goalloc.ko was built without GOALLOC_TEST_HOOKS");
}

#define free_decides_ownership_inside_section no_hooks
#define concurrent_double_free_found_on_reuse no_hooks
#define undo_forgotten_after_other_section no_hooks
#define concurrent_double_free_never_retires_live_span no_hooks
#define grown_span_not_needed_is_not_stranded no_hooks
#define remote_free_into_span_made_ours no_hooks
#define busy_cache_free_counts_after_release no_hooks
#endif

/*
 * A bulk free's run into a span that died between its lookup and its lock
 * (another CPU freed the span's last object and the heap took its pages
 * back): its range no longer says the neighbours are its objects, as the
 * pages may already be another span's.  goalloc_central_free_run() used to
 * refuse every neighbour in that range as a stale pointer too, leaking live
 * objects of the span that holds those pages now.  The dead span is handed
 * to it directly: the state a racing CPU leaves at the lock.
 */
static void free_run_stops_at_dead_span(struct kunit *test)
{
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES), base = goalloc_objects_in_use();
	struct goalloc_span *now, *dead;
	unsigned long freed = ~0UL;
	void *ptrs[2], *q;
	size_t i;

	q = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	rcu_read_lock();
	now = goalloc_span_of(q);
	rcu_read_unlock();
	/* The span that held the same pages before, dead now. */
	dead = goalloc_span_create(now->base, now->cls, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dead);
	goalloc_span_init_state(dead, GOALLOC_SPAN_DEAD);
	/* Freed last to first: the stale pointer, then q, a live object. */
	ptrs[0] = q;
	ptrs[1] = (void *)(q == (void *)now->base ? now->base + now->elemsize : now->base);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	i = goalloc_central_free_run(dead, ptrs, 1, 0, _THIS_IP_, &freed);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	goalloc_span_destroy(dead);
	/* Only the stale pointer was handled, and refused. */
	KUNIT_EXPECT_EQ(test, i, (size_t)1);
	KUNIT_EXPECT_EQ(test, freed, 0UL);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	/* q is still a live object, and frees through its own span. */
	KUNIT_EXPECT_EQ(test, goalloc_size(q), (size_t)RACE_SIZE);
	goalloc_free(q);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * krealloc() in 6.12 zeroes what lies past the new size when the object
 * stays in place under __GFP_ZERO or init_on_alloc; so must goalloc.
 */
static void realloc_in_place_zeroes_tail(struct kunit *test)
{
	size_t usable, i;
	u8 *p, *q;

	p = goalloc_alloc(100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	usable = goalloc_size(p);
	/* The whole slot on purpose: hidden from FORTIFY_SOURCE (__alloc_size). */
	OPTIMIZER_HIDE_VAR(p);
	memset(p, 0xff, usable);
	q = goalloc_realloc(p, 40, GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_PTR_EQ(test, q, p);
	KUNIT_ASSERT_EQ(test, goalloc_size(q), usable);
	for (i = 0; i < 40; i++)
		KUNIT_ASSERT_EQ_MSG(test, q[i], 0xff, "byte %zu", i);
	for (i = 40; i < usable; i++)
		KUNIT_ASSERT_EQ_MSG(test, q[i], 0, "byte %zu", i);
	goalloc_free(q);
}

/*
 * With init_on_alloc (Debian's default) or init_on_free, a new object reads
 * as zero even when it reuses the slot just freed with data in it.
 */
static void init_on_alloc_or_free_zeroes(struct kunit *test)
{
	size_t i;
	u8 *p, *q;

	if (!want_init_on_alloc(GFP_KERNEL) && !want_init_on_free()) {
		kunit_skip(test, "boot with init_on_alloc=1 or init_on_free=1 to run this");
		return;
	}
	migrate_disable();
	p = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0xab, RACE_SIZE);
	goalloc_free(p);
	q = goalloc_alloc(RACE_SIZE, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, q);
	/* The slot handed out last comes back first (mspan.h). */
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	for (i = 0; i < RACE_SIZE; i++)
		KUNIT_ASSERT_EQ_MSG(test, q[i], 0, "byte %zu", i);
	goalloc_free(q);
}

static struct kunit_case race_cases[] = {
	KUNIT_CASE(free_decides_ownership_inside_section),
	KUNIT_CASE(concurrent_double_free_found_on_reuse),
	KUNIT_CASE(undo_forgotten_after_other_section),
	KUNIT_CASE(concurrent_double_free_never_retires_live_span),
	KUNIT_CASE(grown_span_not_needed_is_not_stranded),
	KUNIT_CASE(remote_free_into_span_made_ours),
	KUNIT_CASE(busy_cache_free_counts_after_release),
	KUNIT_CASE(free_run_stops_at_dead_span),
	KUNIT_CASE(realloc_in_place_zeroes_tail),
	KUNIT_CASE(init_on_alloc_or_free_zeroes),
	{}
};

static struct kunit_suite race_suite = {
	.name = "goalloc_race",
	.init = quiet_classes_init,
	.exit = quiet_classes_exit,
	.test_cases = race_cases,
};

kunit_test_suite(race_suite);
