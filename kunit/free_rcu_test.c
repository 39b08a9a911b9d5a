// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: RCU-deferred frees (kmod/free_rcu.c).  An object given to
 * goalloc_free_rcu() stays readable, and counted in use, while a reader
 * that began before is inside rcu_read_lock(), and is freed (its slot free
 * and handed out again) after the grace period; objects go to RCU in
 * batches, far fewer call_rcu()s than objects; every context kfree_rcu()
 * accepts may queue (interrupts off, a raw spinlock held, a hard interrupt);
 * all CPUs at once under RCU readers, and a dying CPU's list still goes out;
 * bad pointers are refused at once and touched not, and a double free that
 * slips past the check is refused after the grace period.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/preempt.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "mspan.h"
#include "quiet.h"

/* A caller's object: an rcu_head inside, at an offset other than 0. */
struct tobj {
	u64 tag;
	struct rcu_head rcu;
	u8 data[];
};

static void fill(struct tobj *o, size_t size, u8 seed)
{
	size_t i;

	o->tag = (unsigned long)o ^ seed;
	for (i = 0; i < size - sizeof(*o); i++)
		o->data[i] = (u8)((unsigned long)o + i) ^ seed;
}

static bool intact(const struct tobj *o, size_t size, u8 seed)
{
	size_t i;

	if (READ_ONCE(o->tag) != ((unsigned long)o ^ seed))
		return false;
	for (i = 0; i < size - sizeof(*o); i++)
		if (READ_ONCE(o->data[i]) != ((u8)((unsigned long)o + i) ^ seed))
			return false;
	return true;
}

static long ctr(enum goalloc_counter c)
{
	return goalloc_counter(c);
}

/* Is @p a free slot of its span right now? */
static bool slot_free(const void *p)
{
	struct goalloc_span *s;
	unsigned int idx;
	bool ret;

	rcu_read_lock();
	s = goalloc_span_of(p);
	ret = s && goalloc_span_check_remote(s, p, &idx) == -EALREADY;
	rcu_read_unlock();
	return ret;
}

/* Allocate @size objects until @want comes back; free them all. */
static bool reused(struct kunit *test, const void *want, size_t size, gfp_t gfp)
{
	const unsigned int max = 2048;
	void **v = kunit_kcalloc(test, max, sizeof(*v), GFP_KERNEL);
	unsigned int n;
	bool found = false;

	KUNIT_ASSERT_NOT_NULL(test, v);
	/*
	 * Every CPU's spans to mcentral, whose partial spans (the one of
	 * @want among them) this CPU then takes in turn before the heap
	 * grows; on this CPU only, so that none goes to another CPU's cache.
	 * From @want's node: a CPU refills from its own node's mcentral, and
	 * the test may have allocated @want on a CPU of the other node (the
	 * two-node debug guest), where goalloc_alloc() here would never look.
	 */
	goalloc_drain_all();
	migrate_disable();
	for (n = 0; n < max && !found; n++) {
		v[n] = goalloc_alloc_node(size, gfp, page_to_nid(virt_to_page(want)));
		if (!v[n])
			break;
		found = v[n] == want;
	}
	migrate_enable();
	goalloc_free_bulk(n, v);
	kunit_info(test, "slot back after %u allocations\n", n);
	return found;
}

#define RSIZE	3000	/* class 3072: used by no other test */
#define RGFP	(GFP_KERNEL | GOALLOC_NOSCAN)
#define KEEP	4

/*
 * The object may be read until the grace period ends: the batch is handed
 * to RCU inside our own read-side section, which then lasts 50 ms; after
 * it the object is freed, its slot free and handed out again.
 */
static void reader_keeps_object(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	long batches = ctr(GOALLOC_CTR_RCU_BATCHES);
	struct tobj *keep[KEEP], *o;
	unsigned int i, bad = 0;

	goalloc_rcu_barrier();
	/* From a span this CPU caches, where the slot comes back at once. */
	quiet_classes_off();
	/* Objects beside it keep its span alive, so the slot can come back. */
	for (i = 0; i < KEEP; i++) {
		keep[i] = goalloc_alloc(RSIZE, RGFP);
		KUNIT_ASSERT_NOT_NULL(test, keep[i]);
	}
	o = goalloc_alloc(RSIZE, RGFP);
	KUNIT_ASSERT_NOT_NULL(test, o);
	fill(o, RSIZE, 0x5a);
	batches = ctr(GOALLOC_CTR_RCU_BATCHES);

	rcu_read_lock();
	goalloc_free_rcu(o, rcu);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 1L);
	goalloc_rcu_flush();
	/* Handed to RCU: one batch... */
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_RCU_BATCHES), batches + 1);
	/* ...whose grace period cannot end while this section lasts. */
	for (i = 0; i < 50; i++) {
		mdelay(1);
		/* The rcu_head is goalloc's now: the rest must be untouched. */
		if (!intact(o, RSIZE, 0x5a))
			bad++;
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + KEEP + 1);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 1L);
	KUNIT_EXPECT_FALSE(test, slot_free(o));
	rcu_read_unlock();

	goalloc_rcu_barrier();
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + KEEP);
	KUNIT_EXPECT_TRUE(test, slot_free(o));
	/* The slot is handed out again (keep[] holds its span). */
	KUNIT_EXPECT_TRUE(test, reused(test, o, RSIZE, RGFP));
	for (i = 0; i < KEEP; i++)
		goalloc_free(keep[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

struct reader {
	struct tobj *o;
	struct completion inside, done;
	bool stop;
	unsigned long reads, bad;
};

static int reader_fn(void *data)
{
	struct reader *r = data;
	unsigned long i;

	rcu_read_lock();
	complete(&r->inside);
	/* At most ~2 s, in case the test never says stop. */
	for (i = 0; i < 2000 && !READ_ONCE(r->stop); i++) {
		if (!intact(r->o, RSIZE, 0x3c))
			r->bad++;
		r->reads++;
		mdelay(1);
	}
	rcu_read_unlock();
	complete(&r->done);
	return 0;
}

/* The same with the reader on another CPU and the free from this one. */
static void reader_on_other_cpu(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	struct reader *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t;
	unsigned int cpu;
	struct tobj *keep[KEEP];
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	goalloc_rcu_barrier();
	/* From a span this CPU caches, whose free slots slot_free() sees. */
	quiet_classes_off();
	for (i = 0; i < KEEP; i++) {
		keep[i] = goalloc_alloc(RSIZE, RGFP);
		KUNIT_ASSERT_NOT_NULL(test, keep[i]);
	}
	r->o = goalloc_alloc(RSIZE, RGFP);
	KUNIT_ASSERT_NOT_NULL(test, r->o);
	fill(r->o, RSIZE, 0x3c);
	init_completion(&r->inside);
	init_completion(&r->done);
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	t = kthread_create(reader_fn, r, "goalloc_rcu_reader");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, cpu);
	wake_up_process(t);
	wait_for_completion(&r->inside);

	goalloc_free_rcu(r->o, rcu);
	goalloc_rcu_flush();
	msleep(100);
	/* The reader is still inside: nothing may have been freed. */
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + KEEP + 1);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 1L);
	KUNIT_EXPECT_FALSE(test, slot_free(r->o));
	WRITE_ONCE(r->stop, true);
	wait_for_completion(&r->done);
	KUNIT_EXPECT_EQ(test, r->bad, 0UL);
	KUNIT_EXPECT_GT(test, r->reads, 0UL);

	goalloc_rcu_barrier();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + KEEP);
	KUNIT_EXPECT_TRUE(test, slot_free(r->o));
	for (i = 0; i < KEEP; i++)
		goalloc_free(keep[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	kunit_info(test, "reader on CPU %u read the object %lu times\n", cpu, r->reads);
}

#define NBATCH	4096

/* N objects go to RCU in far fewer batches, and all come back. */
static void batches_not_objects(struct kunit *test)
{
	struct tobj **v = kunit_kcalloc(test, NBATCH, sizeof(*v), GFP_KERNEL);
	long base, batches, objects, nb, no;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, v);
	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	for (i = 0; i < NBATCH; i++) {
		v[i] = goalloc_alloc(sizeof(struct tobj) + (i % 200), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	batches = ctr(GOALLOC_CTR_RCU_BATCHES);
	objects = ctr(GOALLOC_CTR_RCU_OBJECTS);
	for (i = 0; i < NBATCH; i++)
		goalloc_free_rcu(v[i], rcu);
	goalloc_rcu_barrier();
	nb = ctr(GOALLOC_CTR_RCU_BATCHES) - batches;
	no = ctr(GOALLOC_CTR_RCU_OBJECTS) - objects;
	KUNIT_EXPECT_EQ(test, no, (long)NBATCH);
	KUNIT_EXPECT_GE(test, nb, 1L);
	/* At least 64 objects per call_rcu() on average. */
	KUNIT_EXPECT_LE(test, nb, (long)NBATCH / 64);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	kunit_info(test, "%d objects in %ld batches (call_rcu): %ld per batch\n",
		   NBATCH, nb, nb ? no / nb : 0);
}

/* A lone object is not held forever: the monitor sends it after the delay. */
static void lone_object_goes_out(struct kunit *test)
{
	unsigned long delay = goalloc_rcu_delay;
	long base, batches;
	struct tobj *o;
	unsigned int i;

	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	batches = ctr(GOALLOC_CTR_RCU_BATCHES);
	goalloc_rcu_delay = msecs_to_jiffies(20);
	o = goalloc_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	goalloc_free_rcu(o, rcu);
	for (i = 0; i < 250 && goalloc_objects_in_use() != base; i++)
		msleep(20);
	goalloc_rcu_delay = delay;
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_RCU_BATCHES), batches + 1);
}

#define NCTX	64

static struct {
	struct tobj *o[NCTX];
	struct hrtimer timer;
	atomic_t fired;
	struct completion done;
	bool in_hardirq;
} irqt;

static enum hrtimer_restart rcu_timer_fn(struct hrtimer *t)
{
	unsigned int i;

	irqt.in_hardirq = in_hardirq();
	for (i = 0; i < NCTX; i++)
		goalloc_free_rcu(irqt.o[i], rcu);
	atomic_inc(&irqt.fired);
	complete(&irqt.done);
	return HRTIMER_NORESTART;
}

static void alloc_n(struct kunit *test, struct tobj **v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		v[i] = goalloc_alloc(sizeof(struct tobj) + 40 * i, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
}

static DEFINE_RAW_SPINLOCK(test_raw_lock);

/*
 * Every context kfree_rcu() accepts: interrupts off, a raw spinlock held
 * (a real spinning lock on PREEMPT_RT too), preemption off, and a hard
 * interrupt (an hrtimer in HARD mode, on PREEMPT_RT as well).
 */
static void atomic_contexts(struct kunit *test)
{
	struct tobj *v[NCTX];
	unsigned long flags;
	long base, objects;
	unsigned int i;

	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	objects = ctr(GOALLOC_CTR_RCU_OBJECTS);

	alloc_n(test, v, NCTX);
	local_irq_save(flags);
	for (i = 0; i < NCTX; i++)
		goalloc_free_rcu(v[i], rcu);
	local_irq_restore(flags);

	alloc_n(test, v, NCTX);
	raw_spin_lock_irqsave(&test_raw_lock, flags);
	for (i = 0; i < NCTX; i++)
		goalloc_free_rcu(v[i], rcu);
	raw_spin_unlock_irqrestore(&test_raw_lock, flags);

	alloc_n(test, v, NCTX);
	preempt_disable();
	for (i = 0; i < NCTX; i++)
		goalloc_free_rcu(v[i], rcu);
	preempt_enable();

	alloc_n(test, irqt.o, NCTX);
	atomic_set(&irqt.fired, 0);
	init_completion(&irqt.done);
	hrtimer_init(&irqt.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	irqt.timer.function = rcu_timer_fn;
	hrtimer_start(&irqt.timer, ns_to_ktime(NSEC_PER_MSEC), HRTIMER_MODE_REL_HARD);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&irqt.done, 10 * HZ), 0UL);
	hrtimer_cancel(&irqt.timer);
	KUNIT_EXPECT_EQ(test, atomic_read(&irqt.fired), 1);
	KUNIT_EXPECT_TRUE(test, irqt.in_hardirq);

	goalloc_rcu_barrier();
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_RCU_OBJECTS) - objects, 4L * NCTX);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * All CPUs at once, the classic RCU pattern: each worker publishes a new
 * object in a shared pointer and goalloc_free_rcu()s the one it replaced,
 * and reads whatever is published inside rcu_read_lock(), checking its
 * contents: an object freed before its readers left would read wrong
 * (poisoned under KASAN, wiped under init_on_free, or reused).
 */
static struct tobj __rcu *shared;
/* Per CPU: about 30 s under the debug kernel on TCG with two vCPUs. */
#define CHURN_ITERS	5000
static atomic_t churn_errors;
static atomic_long_t churn_reads;

struct churner {
	struct completion done;
	unsigned int iters;
	u32 seed;
	bool started;
};

static size_t churn_size(u32 r)
{
	return sizeof(struct tobj) + 8 + r % 1000;
}

/* A published object: its size in the data's first 4 bytes, then a pattern. */
static void churn_fill(struct tobj *o, size_t size)
{
	size_t i;

	o->tag = (unsigned long)o;
	*(u32 *)o->data = size;
	for (i = 4; i < size - sizeof(*o); i++)
		o->data[i] = (u8)((unsigned long)o + i);
}

static bool churn_intact(const struct tobj *o)
{
	size_t i, size = READ_ONCE(*(const u32 *)o->data);

	if (READ_ONCE(o->tag) != (unsigned long)o || size < sizeof(*o) + 8 || size > 2048)
		return false;
	for (i = 4; i < size - sizeof(*o); i++)
		if (READ_ONCE(o->data[i]) != (u8)((unsigned long)o + i))
			return false;
	return true;
}

static int churn_fn(void *data)
{
	struct churner *w = data;
	struct rnd_state rnd;
	struct tobj *n, *old;
	unsigned int i;

	prandom_seed_state(&rnd, w->seed);
	for (i = 0; i < w->iters; i++) {
		u32 r = prandom_u32_state(&rnd);
		size_t size = churn_size(r);

		n = goalloc_alloc(size, GFP_KERNEL);
		if (!n) {
			atomic_inc(&churn_errors);
			break;
		}
		churn_fill(n, size);
		old = unrcu_pointer(xchg(&shared, RCU_INITIALIZER(n)));
		goalloc_free_rcu(old, rcu);

		rcu_read_lock();
		old = rcu_dereference(shared);
		if (old && !churn_intact(old))
			atomic_inc(&churn_errors);
		rcu_read_unlock();
		atomic_long_inc(&churn_reads);
		if (!(i % 64))
			cond_resched();
	}
	complete(&w->done);
	return 0;
}

static struct churner *start_churn(struct kunit *test, unsigned int iters, bool bind)
{
	struct churner *w = kunit_kcalloc(test, nr_cpu_ids, sizeof(*w), GFP_KERNEL);
	unsigned int cpu;

	KUNIT_ASSERT_NOT_NULL(test, w);
	atomic_set(&churn_errors, 0);
	atomic_long_set(&churn_reads, 0);
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		init_completion(&w[cpu].done);
		w[cpu].iters = iters;
		w[cpu].seed = cpu * 7919 + 3;
		t = kthread_create(churn_fn, &w[cpu], "goalloc_rcu/%u", cpu);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		if (bind)
			kthread_bind(t, cpu);
		w[cpu].started = true;
		wake_up_process(t);
	}
	return w;
}

static void stop_churn(struct churner *w)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (w[cpu].started)
			wait_for_completion(&w[cpu].done);
	goalloc_free_rcu(unrcu_pointer(xchg(&shared, NULL)), rcu);
	goalloc_rcu_barrier();
}

static void all_cpus_with_readers(struct kunit *test)
{
	long base, batches, objects;
	struct churner *w;

	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	batches = ctr(GOALLOC_CTR_RCU_BATCHES);
	objects = ctr(GOALLOC_CTR_RCU_OBJECTS);
	w = start_churn(test, CHURN_ITERS, true);
	stop_churn(w);
	KUNIT_EXPECT_EQ(test, atomic_read(&churn_errors), 0);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	kunit_info(test, "%u CPUs, %ld reads, %ld objects in %ld batches\n", num_online_cpus(),
		   atomic_long_read(&churn_reads), ctr(GOALLOC_CTR_RCU_OBJECTS) - objects,
		   ctr(GOALLOC_CTR_RCU_BATCHES) - batches);
}

struct queuer {
	struct tobj *o[8];
	struct completion done;
};

static int queuer_fn(void *data)
{
	struct queuer *q = data;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(q->o); i++)
		goalloc_free_rcu(q->o[i], rcu);
	complete(&q->done);
	return 0;
}

/*
 * A CPU dies with objects on its list: they go to RCU from a surviving CPU
 * (cpuhp) and are freed; and CPUs go down and up under the churn.
 */
/* Does @cpu's list of queued objects empty within two seconds? */
static bool rcu_list_drains(unsigned int cpu)
{
	unsigned int i;

	for (i = 0; i < 100; i++) {
		if (!goalloc_rcu_cpu_queued(cpu))
			return true;
		msleep(20);
	}
	return false;
}

static void cpu_hotplug(struct kunit *test)
{
	unsigned long delay = goalloc_rcu_delay;
	struct queuer *q = kunit_kzalloc(test, sizeof(*q), GFP_KERNEL);
	struct task_struct *t;
	unsigned int victim, i, round;
	struct churner *w;
	long base;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, q);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	victim = cpumask_last(cpu_online_mask);
	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();

	/* Hold lists: no monitor may send them during the test. */
	goalloc_rcu_delay = 600 * HZ;
	for (i = 0; i < ARRAY_SIZE(q->o); i++) {
		q->o[i] = goalloc_alloc(sizeof(struct tobj) + i, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, q->o[i]);
	}
	init_completion(&q->done);
	t = kthread_create(queuer_fn, q, "goalloc_rcu_q");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	kthread_bind(t, victim);
	wake_up_process(t);
	wait_for_completion(&q->done);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_cpu_queued(victim), (unsigned long)ARRAY_SIZE(q->o));
	err = remove_cpu(victim);
	if (err) {
		goalloc_rcu_delay = delay;
		goalloc_rcu_barrier();
		kunit_skip(test, "CPU %u cannot go offline (%d)", victim, err);
	}
	/* The dead CPU's list went to RCU. */
	KUNIT_EXPECT_EQ(test, goalloc_rcu_cpu_queued(victim), 0UL);
	goalloc_rcu_barrier();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_ASSERT_EQ(test, add_cpu(victim), 0);
	goalloc_rcu_delay = delay;

	/* Under load: unbound churners, the victim going down and up. */
	w = start_churn(test, CHURN_ITERS, false);
	for (round = 0; round < 3; round++) {
		msleep(20);
		if (remove_cpu(victim))
			break;
		/*
		 * The dead CPU's list goes to RCU at once if one of its batch
		 * slots is free; under this load both may be in flight, and
		 * the list goes when the first comes back (its work item
		 * submits a list that is wanted out).
		 */
		KUNIT_EXPECT_TRUE_MSG(test, rcu_list_drains(victim), "round %u: %lu left", round,
				      goalloc_rcu_cpu_queued(victim));
		KUNIT_ASSERT_EQ(test, add_cpu(victim), 0);
	}
	stop_churn(w);
	KUNIT_EXPECT_EQ(test, atomic_read(&churn_errors), 0);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/*
 * Bad pointers are refused at once, as goalloc_free() refuses them: one
 * bad free counted, nothing queued, nothing written (the rcu_head of a
 * refused object keeps its bytes).
 */
static void bad_pointers_refused(struct kunit *test)
{
	long base, bad, batches, objects;
	struct tobj *k, *g, *g2, stack_obj;
	struct goalloc_arena *a;
	struct rcu_head copy;
	struct tobj *ao;

	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	bad = ctr(GOALLOC_CTR_BAD_FREES);
	batches = ctr(GOALLOC_CTR_RCU_BATCHES);
	objects = ctr(GOALLOC_CTR_RCU_OBJECTS);
	WRITE_ONCE(goalloc_bad_free_quiet, 1);

	/* Slab memory. */
	k = kmalloc(sizeof(*k) + 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	memset(k, 0x77, sizeof(*k) + 64);
	copy = k->rcu;
	goalloc_free_rcu(k, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, memcmp(&copy, &k->rcu, sizeof(copy)), 0);
	kfree(k);

	/* The stack. */
	memset(&stack_obj, 0x66, sizeof(stack_obj));
	copy = stack_obj.rcu;
	goalloc_free_rcu(&stack_obj, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 2);
	KUNIT_EXPECT_EQ(test, memcmp(&copy, &stack_obj.rcu, sizeof(copy)), 0);

	/* Inside an object; and an rcu_head outside the object. */
	g = goalloc_alloc(256, GFP_KERNEL);
	g2 = goalloc_alloc(256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, g2);
	memset(g, 0x55, 256);
	copy = g->rcu;
	goalloc_free_rcu_head(&g->rcu, (u8 *)g + 8);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 3);
	goalloc_free_rcu_head(&g2->rcu, g);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 4);
	goalloc_free_rcu_head((struct rcu_head *)((u8 *)g + 256 - 8), g);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 5);
	KUNIT_EXPECT_EQ(test, memcmp(&copy, &g->rcu, sizeof(copy)), 0);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base + 2);

	/* Queued twice: the second is refused, the object freed once. */
	goalloc_free_rcu(g, rcu);
	goalloc_free_rcu(g, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 6);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 1L);

	/* Already freed: refused, and its (poisoned) memory not written. */
	goalloc_free(g2);
	goalloc_free_rcu(g2, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 7);

	/* Arena memory. */
	a = goalloc_arena_create(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ao = goalloc_arena_alloc(a, 128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ao);
	goalloc_free_rcu(ao, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 8);
	goalloc_arena_destroy(a);

	/* NULL and ZERO_SIZE_PTR: ignored. */
	goalloc_free_rcu((struct tobj *)NULL, rcu);
	goalloc_free_rcu_head(NULL, ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 8);

	goalloc_rcu_barrier();
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_RCU_OBJECTS) - objects, 1L);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_RCU_BATCHES) - batches, 1L);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 8);
}

/*
 * A double free that passes the queue-time check (the caller frees the
 * object itself while its RCU free is pending, after the check): forced
 * through the hook between a chunk's unlinking and its free.  The RCU free
 * is then refused as goalloc_free() refuses a double free, after the
 * grace period; the object is freed once, the counts are exact.
 */
#ifdef GOALLOC_TEST_HOOKS
static void *racing_victim;

static void free_behind_rcu(void *arg)
{
	struct goalloc_rcu_chunk *c = arg;
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (c->ptrs[i] == racing_victim) {
			goalloc_free(racing_victim);
			racing_victim = NULL;
		}
}
#endif

static void double_free_after_grace_period(struct kunit *test)
{
#ifndef GOALLOC_TEST_HOOKS
	kunit_skip(test, "needs GOALLOC_TEST_HOOKS");
#else
	long base, bad;
	struct tobj *o;

	goalloc_rcu_barrier();
	base = goalloc_objects_in_use();
	bad = ctr(GOALLOC_CTR_BAD_FREES);
	o = goalloc_alloc(128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	racing_victim = o;
	WRITE_ONCE(goalloc_bad_free_quiet, 1);
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_RCU_FREE], free_behind_rcu);
	goalloc_free_rcu(o, rcu);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad);
	goalloc_rcu_barrier();
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_RCU_FREE], NULL);
	WRITE_ONCE(goalloc_bad_free_quiet, 0);
	KUNIT_EXPECT_NULL(test, racing_victim);
	KUNIT_EXPECT_EQ(test, ctr(GOALLOC_CTR_BAD_FREES), bad + 1);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, goalloc_rcu_pending(), 0L);
#endif
}

static struct kunit_case free_rcu_cases[] = {
	KUNIT_CASE_SLOW(reader_keeps_object),
	KUNIT_CASE_SLOW(reader_on_other_cpu),
	KUNIT_CASE_SLOW(batches_not_objects),
	KUNIT_CASE_SLOW(lone_object_goes_out),
	KUNIT_CASE(atomic_contexts),
	KUNIT_CASE_SLOW(all_cpus_with_readers),
	KUNIT_CASE_SLOW(cpu_hotplug),
	KUNIT_CASE(bad_pointers_refused),
	KUNIT_CASE(double_free_after_grace_period),
	{}
};

static struct kunit_suite free_rcu_suite = {
	.name = "goalloc_free_rcu",
	.exit = quiet_classes_exit,
	.test_cases = free_rcu_cases,
};

kunit_test_suite(free_rcu_suite);
