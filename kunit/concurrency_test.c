// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: goalloc under concurrency.  A kthread per CPU allocates and frees
 * at random, writing a pattern into every object and checking it before the
 * free; some objects are handed to other CPUs through a shared ring and
 * freed there; an hrtimer and an irq_work allocate and free with GFP_ATOMIC
 * in hard-interrupt context meanwhile; and CPUs go offline and online under
 * that load.  Workers count errors; the test checks them from its own
 * thread, with the object counts back at their baseline afterwards.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/prandom.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"

#define SLOTS		64
#define RING		512
#define IRQ_SLOTS	8

struct obj {
	u8 *p;
	size_t size;
};

static struct {
	spinlock_t lock;	/* protects the ring */
	struct obj o[RING];
	unsigned int head, count;
} ring;

static atomic_t errors;
static atomic_long_t irq_allocs;

static void fill(struct obj *o)
{
	size_t i, n = min_t(size_t, o->size - 1, 256);

	for (i = 0; i < n; i++)
		o->p[i] = (u8)((unsigned long)o->p >> 4) + i;
	o->p[o->size - 1] = 0xa5;
}

static void check_and_free(struct obj *o)
{
	size_t i, n = min_t(size_t, o->size - 1, 256);

	for (i = 0; i < n; i++)
		if (o->p[i] != (u8)((u8)((unsigned long)o->p >> 4) + i))
			break;
	if (i != n || o->p[o->size - 1] != 0xa5)
		atomic_inc(&errors);
	goalloc_free(o->p);
	o->p = NULL;
}

static bool ring_push(struct obj *o)
{
	bool ok = false;

	spin_lock(&ring.lock);
	if (ring.count < RING) {
		ring.o[(ring.head + ring.count++) % RING] = *o;
		ok = true;
	}
	spin_unlock(&ring.lock);
	return ok;
}

static bool ring_pop(struct obj *o)
{
	bool ok = false;

	spin_lock(&ring.lock);
	if (ring.count) {
		*o = ring.o[ring.head];
		ring.head = (ring.head + 1) % RING;
		ring.count--;
		ok = true;
	}
	spin_unlock(&ring.lock);
	return ok;
}

static size_t random_size(struct rnd_state *rnd)
{
	u32 r = prandom_u32_state(rnd);

	switch (r % 100) {
	case 0:
		return 32769 + r % 100000;		/* large */
	case 1 ... 5:
		return 1024 + (r >> 8) % 31744;		/* up to 32 KiB */
	default:
		return 1 + (r >> 8) % 512;
	}
}

/*
 * A worker stops after its iterations or at its deadline, whichever comes
 * first: under TCG on a loaded host the debug guest may run a hundred times
 * slower than on a CPU, and a storm that outlasts KUnit's timeout proves
 * nothing more than one that stops in time.  The test says how far each got.
 */
#define WORK_SECONDS	60

struct worker {
	struct completion done;
	unsigned int iters;
	unsigned int did;
	unsigned long deadline;
	u32 seed;
};

static int worker_fn(void *data)
{
	struct worker *w = data;
	struct obj *live = kcalloc(SLOTS, sizeof(*live), GFP_KERNEL);
	struct rnd_state rnd;
	struct obj o;
	unsigned int i;

	if (!live) {
		atomic_inc(&errors);
		goto out;
	}
	prandom_seed_state(&rnd, w->seed);
	for (i = 0; i < w->iters; i++) {
		u32 r = prandom_u32_state(&rnd);
		struct obj *s = &live[r % SLOTS];

		if (s->p) {
			/* A quarter go to whichever CPU pops them. */
			if (!(r & (3 << 16)) && ring_push(s))
				s->p = NULL;
			else
				check_and_free(s);
		} else {
			s->size = random_size(&rnd);
			s->p = goalloc_alloc(s->size, GFP_KERNEL);
			if (!s->p) {
				atomic_inc(&errors);
				continue;
			}
			fill(s);
		}
		if ((r & (7 << 20)) == 0 && ring_pop(&o))
			check_and_free(&o);
		if (!(i % 64)) {
			cond_resched();
			if (time_after(jiffies, w->deadline))
				break;
		}
	}
	w->did = i;
	for (i = 0; i < SLOTS; i++)
		if (live[i].p)
			check_and_free(&live[i]);
	kfree(live);
out:
	complete(&w->done);
	return 0;
}

/* Interrupt-context allocations: an hrtimer, and an irq_work it raises. */
static struct obj irq_objs[2][IRQ_SLOTS];
static unsigned int irq_ticks[2];

static void irq_alloc_free(unsigned int who)
{
	struct obj *o = &irq_objs[who][irq_ticks[who]++ % IRQ_SLOTS];

	if (o->p)
		check_and_free(o);
	o->size = 8 + (irq_ticks[who] * 40) % 2000;
	o->p = goalloc_alloc(o->size, GFP_ATOMIC);
	if (o->p) {
		fill(o);
		atomic_long_inc(&irq_allocs);
	}
}

static void irq_work_fn(struct irq_work *work)
{
	irq_alloc_free(1);
}

static struct irq_work test_irq_work;
static struct hrtimer test_timer;

/*
 * Enough interrupt-context allocations: past them the timer stops.  In the
 * debug guest (KASAN, lockdep, kmemleak under TCG) an interrupt's
 * allocation and free took about as long as the 1 ms tick, so CPU 0 spent
 * the storm in interrupt context: its worker made 832-4,864 of its 20,000
 * iterations by the deadline, with 82,000-199,000 interrupt allocations,
 * and the test took 80-120 s where the KCSAN and RT guests took 2 s (with
 * 1,300-2,400).
 */
#define IRQ_ALLOCS_MAX	20000

static enum hrtimer_restart timer_fn(struct hrtimer *t)
{
	if (atomic_long_read(&irq_allocs) >= IRQ_ALLOCS_MAX)
		return HRTIMER_NORESTART;
	irq_alloc_free(0);
	irq_work_queue(&test_irq_work);
	hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_MSEC));
	return HRTIMER_RESTART;
}

/*
 * Hard interrupt context, except on PREEMPT_RT, where allocating there is
 * not allowed (as for kmalloc()): there the timer expires in softirq
 * context and the irq_work runs in its per-CPU thread.
 */
#define TEST_TIMER_MODE	(IS_ENABLED(CONFIG_PREEMPT_RT) ? HRTIMER_MODE_REL_SOFT : \
			 HRTIMER_MODE_REL_HARD)

static void irq_start(void)
{
	memset(irq_objs, 0, sizeof(irq_objs));
	init_irq_work(&test_irq_work, irq_work_fn);
	hrtimer_init(&test_timer, CLOCK_MONOTONIC, TEST_TIMER_MODE);
	test_timer.function = timer_fn;
	hrtimer_start(&test_timer, ns_to_ktime(NSEC_PER_MSEC), TEST_TIMER_MODE);
}

static void irq_stop(void)
{
	unsigned int i, j;

	hrtimer_cancel(&test_timer);
	irq_work_sync(&test_irq_work);
	for (i = 0; i < 2; i++)
		for (j = 0; j < IRQ_SLOTS; j++)
			if (irq_objs[i][j].p)
				check_and_free(&irq_objs[i][j]);
}

/*
 * Start a worker per online CPU, bound to it if @bind (not under hotplug:
 * a CPU going down must be able to push its threads away).
 */
static struct worker *start_workers(struct kunit *test, unsigned int iters, bool bind,
				    unsigned int *n)
{
	struct worker *w = kunit_kcalloc(test, nr_cpu_ids, sizeof(*w), GFP_KERNEL);
	unsigned int cpu;

	KUNIT_ASSERT_NOT_NULL(test, w);
	spin_lock_init(&ring.lock);
	ring.head = 0;
	ring.count = 0;
	*n = 0;
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		init_completion(&w[cpu].done);
		w[cpu].iters = iters;
		w[cpu].deadline = jiffies + WORK_SECONDS * HZ;
		w[cpu].seed = cpu * 7919 + 1;
		t = kthread_create(worker_fn, &w[cpu], "goalloc_test/%u", cpu);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		if (bind)
			kthread_bind(t, cpu);
		wake_up_process(t);
		(*n)++;
	}
	return w;
}

/* Wait for every worker; the least number of iterations one of them made. */
static unsigned int wait_workers(struct worker *w)
{
	unsigned int cpu, least = UINT_MAX;

	for_each_possible_cpu(cpu) {
		if (!w[cpu].iters)
			continue;
		wait_for_completion(&w[cpu].done);
		least = min(least, w[cpu].did);
	}
	return least;
}

static void drain_ring(void)
{
	struct obj o;

	while (ring_pop(&o))
		check_and_free(&o);
}

/* All CPUs at once, cross-CPU frees, and interrupt-context callers. */
static void all_cpus_with_irq_callers(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	unsigned int n, i, least;
	struct worker *w;

	atomic_set(&errors, 0);
	atomic_long_set(&irq_allocs, 0);
	irq_start();
	w = start_workers(test, 20000, true, &n);
	least = wait_workers(w);
	/* On a fast machine the workers may finish first: let the timer run on. */
	for (i = 0; i < 200 && atomic_long_read(&irq_allocs) < 100; i++)
		msleep(20);
	irq_stop();
	drain_ring();
	KUNIT_EXPECT_EQ(test, atomic_read(&errors), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&irq_allocs), 0L);
	KUNIT_EXPECT_GT(test, least, 0U);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	kunit_info(test, "%u workers, at least %u iterations each, %ld allocations in interrupt context\n",
		   n, least, atomic_long_read(&irq_allocs));
}

/* CPUs go offline and come back under load; a dead CPU's cache is drained. */
static void cpu_hotplug_under_load(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	unsigned int victim, n, round;
	struct worker *w;
	int err;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	victim = cpumask_last(cpu_online_mask);
	atomic_set(&errors, 0);
	w = start_workers(test, 20000, false, &n);
	for (round = 0; round < 3; round++) {
		msleep(20);
		err = remove_cpu(victim);
		if (err) {
			wait_workers(w);
			drain_ring();
			kunit_skip(test, "CPU %u cannot go offline (%d)", victim, err);
		}
		KUNIT_EXPECT_TRUE_MSG(test, goalloc_mcache_drained(victim), "round %u", round);
		KUNIT_ASSERT_EQ(test, add_cpu(victim), 0);
	}
	KUNIT_EXPECT_GT(test, wait_workers(w), 0U);
	drain_ring();
	KUNIT_EXPECT_EQ(test, atomic_read(&errors), 0);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* After the storms, everything still goes back to the buddy allocator. */
static void everything_released_after_load(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, goalloc_drain_all(), 0U);
	/* A background pass may be releasing spans right now: wait for it. */
	goalloc_scavenger_flush();
	goalloc_scavenge();
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_KEPT_PAGES), 0L);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_inuse), 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(goalloc_heap.pages_held), 0UL);
}

static struct kunit_case concurrency_cases[] = {
	KUNIT_CASE_SLOW(all_cpus_with_irq_callers),
	KUNIT_CASE_SLOW(cpu_hotplug_under_load),
	KUNIT_CASE(everything_released_after_load),
	{}
};

static struct kunit_suite concurrency_suite = {
	.name = "goalloc_concurrency",
	.test_cases = concurrency_cases,
};

kunit_test_suite(concurrency_suite);
