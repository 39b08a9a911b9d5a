// SPDX-License-Identifier: GPL-2.0
/*
 * RCU-deferred frees: goalloc_free_rcu(), goalloc's kfree_rcu().
 *
 * A caller hands over an object with a struct rcu_head inside it.  The
 * object is checked at once (lock-free, as a remote free checks: goalloc's
 * own tables, never the object's memory) and, if it is a live goalloc
 * object, linked into this CPU's list through its own rcu_head: head->next
 * is the link, head->func holds the object's address (as kvfree_rcu()
 * keeps an offset there).  Nothing is allocated, so queueing cannot fail.
 *
 * A list becomes a batch when it reaches GOALLOC_RCU_BATCH objects, when
 * its first object has waited goalloc_rcu_delay jiffies (the monitor, a
 * delayed work item per CPU), when its CPU dies (cpuhp, from a surviving
 * CPU) or when goalloc_rcu_barrier() asks.  Each CPU has GOALLOC_RCU_NR_BATCHES
 * batch slots; a batch is handed to RCU with one queue_rcu_work() (one
 * call_rcu()), and after the grace period its work item frees the objects
 * with goalloc_free_bulk(), in chunks, in process context.  With every slot
 * of a CPU in flight, its list keeps growing and goes out whole when a slot
 * comes back.
 *
 * Locking: a CPU's list and slots are under its raw_spinlock_t, taken with
 * interrupts disabled, as kfree_rcu()'s per-CPU lock is: queueing works in
 * any context kfree_rcu() accepts (interrupts off, hard interrupts, raw
 * spinlocks held, on PREEMPT_RT too), never NMI.  Under it only bounded
 * work runs: linking, and queue_rcu_work() and queue_delayed_work(), which
 * take only raw locks.  The lock is per CPU, so it is contended only by the
 * monitor, a batch's completion, hotplug and the barrier.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mheap.h"
#include "mspan.h"

/* Objects a CPU's list holds before it goes to RCU as one batch. */
#define GOALLOC_RCU_BATCH	256
/* Batches of one CPU in flight at once (kfree_rcu() has two as well). */
#define GOALLOC_RCU_NR_BATCHES	2
/* Objects freed per goalloc_free_bulk() call after a grace period. */
#define GOALLOC_RCU_CHUNK	32

/**
 * struct goalloc_rcu_batch - one batch handed to RCU
 * @rwork: its queue_rcu_work(): one call_rcu(), then the work item
 * @head: the objects, linked through their rcu_heads; NULL while the slot
 *	is free
 * @n: how many
 * @seq: the batch's number among its CPU's (goalloc_rcu_barrier())
 * @rc: the CPU it belongs to
 *
 * @head, @n and @seq are written under @rc->lock: set when a batch is
 * submitted, @head cleared when its objects are freed.  The work item
 * reads them without the lock: nothing writes them while it is in flight.
 */
struct goalloc_rcu_batch {
	struct rcu_work rwork;
	struct rcu_head *head;
	unsigned long n;
	unsigned long seq;
	struct goalloc_rcu_cpu *rc;
};

/**
 * struct goalloc_rcu_cpu - a CPU's RCU-deferred frees
 * @lock: protects everything below and the @batch slots' @head, @n, @seq
 * @head: objects queued and not yet in a batch, newest first
 * @count: how many
 * @since: jiffies when the first of them was queued
 * @want: submit the list as soon as a slot is free (the monitor or a
 *	barrier found none)
 * @nsubmitted: batches submitted, ever (the last one's @seq)
 * @monitor: submits a list whose first object has waited goalloc_rcu_delay
 * @batch: the slots
 */
struct goalloc_rcu_cpu {
	raw_spinlock_t lock;	/* see above */
	struct rcu_head *head;
	unsigned long count;
	unsigned long since;
	bool want;
	unsigned long nsubmitted;
	struct delayed_work monitor;
	struct goalloc_rcu_batch batch[GOALLOC_RCU_NR_BATCHES];
};

static DEFINE_PER_CPU(struct goalloc_rcu_cpu, goalloc_rcu_cpus);
static struct workqueue_struct *goalloc_rcu_wq;
static enum cpuhp_state goalloc_rcu_cpuhp_state;

/* Objects in submitted batches, not yet freed. */
static atomic_long_t goalloc_rcu_inflight;

/*
 * How long a lone object may wait for company before its list goes to RCU
 * anyway (kfree_rcu() waits 5 s).  A variable so the tests can hold lists.
 */
unsigned long goalloc_rcu_delay = HZ;
EXPORT_SYMBOL_IF_KUNIT(goalloc_rcu_delay);

/*
 * Make the CPU's list a batch in a free slot and hand it to RCU; with no
 * slot free, note that the list is wanted out.  Return: true if submitted.
 */
static bool rcu_submit(struct goalloc_rcu_cpu *rc)
{
	struct goalloc_rcu_batch *b = NULL;
	unsigned int i;

	lockdep_assert_held(&rc->lock);
	if (!rc->count)
		return false;
	for (i = 0; i < GOALLOC_RCU_NR_BATCHES; i++) {
		if (!rc->batch[i].head) {
			b = &rc->batch[i];
			break;
		}
	}
	if (!b) {
		rc->want = true;
		return false;
	}
	b->head = rc->head;
	b->n = rc->count;
	b->seq = ++rc->nsubmitted;
	rc->head = NULL;
	rc->count = 0;
	rc->want = false;
	atomic_long_add(b->n, &goalloc_rcu_inflight);
	goalloc_count(GOALLOC_CTR_RCU_BATCHES, 1);
	goalloc_count(GOALLOC_CTR_RCU_OBJECTS, b->n);
	/* A slot with @head NULL has no work pending: this queues. */
	queue_rcu_work(goalloc_rcu_wq, &b->rwork);
	return true;
}

/* Free a chunk of objects whose grace period has passed. */
static void rcu_free_chunk(unsigned int n, void **ptrs)
{
	struct goalloc_rcu_chunk chunk = { .n = n, .ptrs = ptrs };

	goalloc_hook(GOALLOC_HOOK_RCU_FREE, &chunk);
	/* A bad one (a double free by a racing caller) is refused and reported. */
	goalloc_free_bulk(n, ptrs);
}

/* After a batch's grace period: free its objects, then free its slot. */
static void rcu_batch_work(struct work_struct *work)
{
	struct goalloc_rcu_batch *b = container_of(to_rcu_work(work), struct goalloc_rcu_batch,
						   rwork);
	struct goalloc_rcu_cpu *rc = b->rc;
	struct rcu_head *h = b->head, *next;
	void *ptrs[GOALLOC_RCU_CHUNK];
	unsigned long i, n = b->n;
	unsigned long flags;
	unsigned int k = 0;

	/* Never more than @n links: a caller's bug cannot make this loop forever. */
	for (i = 0; i < n && h; i++) {
		next = h->next;
		ptrs[k++] = (void *)(unsigned long)h->func;
		/* No longer queued: goalloc_free_rcu_head()'s double-queue test. */
		WRITE_ONCE(h->func, NULL);
		h = next;
		if (k == GOALLOC_RCU_CHUNK) {
			rcu_free_chunk(k, ptrs);
			k = 0;
			cond_resched();
		}
	}
	if (k)
		rcu_free_chunk(k, ptrs);
	atomic_long_sub(n, &goalloc_rcu_inflight);

	raw_spin_lock_irqsave(&rc->lock, flags);
	b->head = NULL;
	b->n = 0;
	if (rc->want || rc->count >= GOALLOC_RCU_BATCH)
		rcu_submit(rc);
	raw_spin_unlock_irqrestore(&rc->lock, flags);
}

/* A CPU's list has waited long enough (or its time is not yet up: wait on). */
static void rcu_monitor_work(struct work_struct *work)
{
	struct goalloc_rcu_cpu *rc = container_of(to_delayed_work(work), struct goalloc_rcu_cpu,
						  monitor);
	unsigned long flags, delay = READ_ONCE(goalloc_rcu_delay);

	raw_spin_lock_irqsave(&rc->lock, flags);
	if (rc->count && time_before(jiffies, rc->since + delay))
		queue_delayed_work(goalloc_rcu_wq, &rc->monitor, rc->since + delay - jiffies);
	else
		rcu_submit(rc);
	raw_spin_unlock_irqrestore(&rc->lock, flags);
}

/*
 * Is @p, with its rcu_head at @head, a live goalloc object?  The remote
 * free's lock-free check (goalloc_span_check_remote()), which never
 * refuses a valid object; a double free racing it may pass, and is then
 * refused after the grace period.  Return: 0 or the errno of the refusal.
 */
static int rcu_check(struct rcu_head *head, const void *p)
{
	struct goalloc_span *s;
	unsigned int idx;
	int err;

	rcu_read_lock();
	s = goalloc_span_of(p);
	if (!s) {
		err = -EFAULT;
		goto out;
	}
	err = goalloc_span_refusal(s);
	if (err)
		goto out;
	if (READ_ONCE(s->state) == GOALLOC_SPAN_LARGE)
		err = p == (void *)s->base ? 0 : -EINVAL;
	else
		err = goalloc_span_check_remote(s, p, &idx);
	/* The rcu_head must lie inside the object (the macro's always does). */
	if (!err && (s->elemsize < sizeof(*head) ||
		     (unsigned long)head - (unsigned long)p > s->elemsize - sizeof(*head)))
		err = -EINVAL;
out:
	rcu_read_unlock();
	return err;
}

/**
 * goalloc_free_rcu_head() - free an object after an RCU grace period
 * @head: a struct rcu_head inside the object
 * @ptr: the object, from goalloc_alloc() and friends; NULL and
 *	ZERO_SIZE_PTR are ignored
 *
 * The function behind goalloc_free_rcu(), as kvfree_call_rcu() is behind
 * kfree_rcu().  @ptr is freed, as by goalloc_free(), once every RCU
 * read-side critical section that began before this call has ended;
 * until then its memory stays as it is, @head aside, which goalloc uses.
 * Any context but NMI: interrupts disabled, hard interrupt context and
 * raw spinlocks held included, on PREEMPT_RT too.  Never sleeps, never
 * fails: nothing is allocated.
 *
 * A pointer goalloc did not hand out, one inside an object, arena memory,
 * an object already freed, one already queued here, or an @head outside
 * the object is refused at once: reported (rate-limited) with the caller,
 * as goalloc_free() reports it, and neither @head nor the object is
 * touched.  A double free that races this check is refused when the grace
 * period ends, the same way.
 */
void goalloc_free_rcu_head(struct rcu_head *head, const void *ptr)
{
	struct goalloc_rcu_cpu *rc;
	unsigned long flags;
	int err;

	if (unlikely(ZERO_OR_NULL_PTR(ptr)))
		return;
	err = rcu_check(head, ptr);
	/* Already queued: linking it again would tie the list in a loop. */
	if (!err && READ_ONCE(head->func) == (rcu_callback_t)(unsigned long)ptr)
		err = -EALREADY;
	if (unlikely(err)) {
		goalloc_report_bad_free(ptr, err, _RET_IP_);
		return;
	}

	local_irq_save(flags);
	rc = this_cpu_ptr(&goalloc_rcu_cpus);
	raw_spin_lock(&rc->lock);
	head->func = (rcu_callback_t)(unsigned long)ptr;
	head->next = rc->head;
	rc->head = head;
	if (!rc->count++) {
		rc->since = jiffies;
		queue_delayed_work(goalloc_rcu_wq, &rc->monitor, READ_ONCE(goalloc_rcu_delay));
	}
	if (rc->count >= GOALLOC_RCU_BATCH)
		rcu_submit(rc);
	raw_spin_unlock(&rc->lock);
	local_irq_restore(flags);
}
EXPORT_SYMBOL_GPL(goalloc_free_rcu_head);

/**
 * goalloc_rcu_flush() - hand every CPU's queued objects to RCU now
 *
 * Does not wait.  A CPU whose batch slots are all in flight sends its list
 * as soon as one comes back.  Any context but NMI.
 */
void goalloc_rcu_flush(void)
{
	unsigned long flags;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct goalloc_rcu_cpu *rc = per_cpu_ptr(&goalloc_rcu_cpus, cpu);

		raw_spin_lock_irqsave(&rc->lock, flags);
		rcu_submit(rc);
		raw_spin_unlock_irqrestore(&rc->lock, flags);
	}
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_rcu_flush);

/* Are all of @rc's batches up to @target freed? */
static bool rcu_cpu_done(struct goalloc_rcu_cpu *rc, unsigned long target)
{
	unsigned long flags;
	unsigned int i;
	bool done;

	raw_spin_lock_irqsave(&rc->lock, flags);
	done = rc->nsubmitted >= target;
	for (i = 0; i < GOALLOC_RCU_NR_BATCHES; i++)
		if (rc->batch[i].head && rc->batch[i].seq <= target)
			done = false;
	raw_spin_unlock_irqrestore(&rc->lock, flags);
	return done;
}

/**
 * goalloc_rcu_barrier() - wait for the RCU-deferred frees queued so far
 *
 * Every object given to goalloc_free_rcu() before this call has been
 * freed when it returns: the CPUs' lists are handed to RCU at once, and
 * the call waits for their grace periods and their frees (kfree_rcu()'s
 * kvfree_rcu_barrier()).  Objects queued meanwhile may or may not be.
 * Module unload calls it, and so must anything that needs the objects
 * gone (a cache being destroyed).  May sleep.
 */
void goalloc_rcu_barrier(void)
{
	unsigned long flags, target;
	unsigned int cpu, i;

	might_sleep();
	for_each_possible_cpu(cpu) {
		struct goalloc_rcu_cpu *rc = per_cpu_ptr(&goalloc_rcu_cpus, cpu);

		raw_spin_lock_irqsave(&rc->lock, flags);
		rcu_submit(rc);
		/* With no slot free, the list goes out next, as batch nsubmitted + 1. */
		target = rc->nsubmitted + (rc->count ? 1 : 0);
		raw_spin_unlock_irqrestore(&rc->lock, flags);
		while (!rcu_cpu_done(rc, target))
			for (i = 0; i < GOALLOC_RCU_NR_BATCHES; i++)
				flush_rcu_work(&rc->batch[i].rwork);
	}
}
EXPORT_SYMBOL_GPL(goalloc_rcu_barrier);

/**
 * goalloc_rcu_pending() - objects queued by goalloc_free_rcu(), not yet freed
 *
 * Return: the count, as a snapshot.
 */
long goalloc_rcu_pending(void)
{
	long n = atomic_long_read(&goalloc_rcu_inflight);
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		/* A snapshot: each CPU's count changes under its lock, read without. */
		n += data_race(READ_ONCE(per_cpu_ptr(&goalloc_rcu_cpus, cpu)->count));
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_rcu_pending);

/**
 * goalloc_rcu_cpu_queued() - objects on a CPU's list, not yet in a batch
 * @cpu: the CPU
 *
 * Return: the count, as a snapshot.
 */
unsigned long goalloc_rcu_cpu_queued(unsigned int cpu)
{
	/* A snapshot: the count changes under the CPU's lock, read without. */
	return data_race(READ_ONCE(per_cpu_ptr(&goalloc_rcu_cpus, cpu)->count));
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_rcu_cpu_queued);

/* CPU hotplug: a dead CPU's list goes to RCU from a surviving CPU. */
static int goalloc_rcu_cpu_dead(unsigned int cpu)
{
	struct goalloc_rcu_cpu *rc = per_cpu_ptr(&goalloc_rcu_cpus, cpu);
	unsigned long flags;

	raw_spin_lock_irqsave(&rc->lock, flags);
	rcu_submit(rc);
	raw_spin_unlock_irqrestore(&rc->lock, flags);
	return 0;
}

int goalloc_free_rcu_init(void)
{
	unsigned int cpu, i;
	int ret;

	/* Its work frees memory: it must run under reclaim too. */
	goalloc_rcu_wq = alloc_workqueue("goalloc_rcu", WQ_MEM_RECLAIM, 0);
	if (!goalloc_rcu_wq)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct goalloc_rcu_cpu *rc = per_cpu_ptr(&goalloc_rcu_cpus, cpu);

		raw_spin_lock_init(&rc->lock);
		INIT_DELAYED_WORK(&rc->monitor, rcu_monitor_work);
		for (i = 0; i < GOALLOC_RCU_NR_BATCHES; i++) {
			INIT_RCU_WORK(&rc->batch[i].rwork, rcu_batch_work);
			rc->batch[i].rc = rc;
		}
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "goalloc/rcu:dead",
					NULL, goalloc_rcu_cpu_dead);
	if (ret < 0) {
		destroy_workqueue(goalloc_rcu_wq);
		return ret;
	}
	goalloc_rcu_cpuhp_state = ret;
	return 0;
}

/*
 * At unload, before the caches go: no caller is left (a module that calls
 * goalloc_free_rcu() holds goalloc), so the barrier frees everything.
 */
void goalloc_free_rcu_exit(void)
{
	unsigned int cpu;

	goalloc_rcu_barrier();
	for_each_possible_cpu(cpu)
		cancel_delayed_work_sync(&per_cpu_ptr(&goalloc_rcu_cpus, cpu)->monitor);
	cpuhp_remove_state_nocalls(goalloc_rcu_cpuhp_state);
	/* No RCU callback of ours may be left: each queues our work item. */
	rcu_barrier();
	destroy_workqueue(goalloc_rcu_wq);
	WARN_ON_ONCE(goalloc_rcu_pending());
}
