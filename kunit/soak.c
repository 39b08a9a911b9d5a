// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_soak: a long, random, all-contexts workload for goalloc.
 *
 * Loading it starts the soak; unloading it stops it, frees everything,
 * checks, and prints one parseable line (SOAK-RESULT, see soak_report()).
 * tools/soak.sh ("make soak") boots a test kernel with it; the guest side
 * (tools/soak-guest.sh) adds CPU hotplug, drop_caches and userspace arenas
 * meanwhile.  See Documentation/soak.rst.
 *
 * What runs, on every CPU:
 *
 *  - a per-CPU thread (smpboot: parked while its CPU is offline) doing
 *    random goalloc_alloc(), goalloc_alloc_node(), goalloc_free(),
 *    goalloc_realloc(), goalloc_alloc_bulk() and goalloc_free_bulk(), some
 *    with __GFP_ZERO or GOALLOC_NOSCAN;
 *  - cross-CPU frees: objects are handed to another CPU's inbox (a list
 *    under a raw spinlock), freed there by its thread or its interrupts;
 *  - GFP_ATOMIC allocations, reallocations, bulk calls and frees from an
 *    hrtimer (hard interrupt; on PREEMPT_RT in softirq, see
 *    SOAK_HRTIMER_MODE), a timer and a tasklet (softirq) and an irq_work;
 *  - if balloon_free_pages is set, a balloon thread that takes pages from
 *    the buddy allocator until free memory falls below that mark, holds them
 *    briefly and gives some back (soak_balloon_fn()): kswapd and reclaim
 *    then call goalloc's shrinker, whose drain IPIs land inside the other
 *    CPUs' cache sections.
 *
 * Every object carries a pattern derived from its own seed, written at
 * allocation and checked before every free and across every realloc (large
 * objects are sampled).  A mismatch is counted and the first one is
 * reported in detail (SOAK-MISMATCH).  A GFP_KERNEL allocation of a class
 * size (at most 32 KiB) that fails while the balloon holds nothing is
 * counted as a "calm failure": goalloc must not fail a request the page
 * allocator can satisfy.
 *
 * Built only for kernels with KUnit: it reads goalloc's internal figures
 * (the heap, objects in use, bad frees) through the symbols goalloc exports
 * for its tests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/percpu.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/smpboot.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/topology.h>
#include <linux/vmstat.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "mspan.h"

static unsigned long balloon_free_pages;
module_param(balloon_free_pages, ulong, 0444);
MODULE_PARM_DESC(balloon_free_pages,
		 "balloon down to this many free pages, then release (0: no balloon)");

static unsigned int balloon_hold_ms = 200;
module_param(balloon_hold_ms, uint, 0444);
MODULE_PARM_DESC(balloon_hold_ms, "how long the balloon holds its pages (default 200)");

static unsigned int balloon_swing_mb = 128;
module_param(balloon_swing_mb, uint, 0444);
MODULE_PARM_DESC(balloon_swing_mb,
		 "memory the balloon gives back and takes again per cycle (default 128)");

static unsigned int balloon_pause_ms = 4000;
module_param(balloon_pause_ms, uint, 0444);
MODULE_PARM_DESC(balloon_pause_ms, "pause between balloon cycles (default 4000)");

static unsigned int irq_period_us = 4000;
module_param(irq_period_us, uint, 0444);
MODULE_PARM_DESC(irq_period_us, "period of each CPU's hrtimer (default 4000)");

static unsigned int thread_rest_us = 2000;
module_param(thread_rest_us, uint, 0444);
MODULE_PARM_DESC(thread_rest_us,
		 "each CPU's thread sleeps this long after every 64 steps (default 2000)");

static unsigned int seed = 1;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "seed of the random workload (default 1)");

/*
 * goalloc must not be called from hard interrupt context on PREEMPT_RT (its
 * spinlock_t sleeps there, as kmalloc's locks do), so there the hrtimer runs
 * in softirq context (the timer thread).  Elsewhere it fires in hard IRQ.
 */
#ifdef CONFIG_PREEMPT_RT
#define SOAK_HRTIMER_MODE	HRTIMER_MODE_REL_PINNED_SOFT
#define SOAK_HRTIMER_CTX	"softirq"
#else
#define SOAK_HRTIMER_MODE	HRTIMER_MODE_REL_PINNED_HARD
#define SOAK_HRTIMER_CTX	"hardirq"
#endif

#define SOAK_SLOTS	128	/* objects a CPU's thread holds at most */
#define SOAK_BULKS	4	/* bulk groups a thread holds at most */
#define SOAK_BULK_MAX	64	/* objects per bulk call */
#define SOAK_BATCH	64	/* steps per thread_fn call */
#define SOAK_INBOX	256	/* objects waiting in a CPU's inbox at most */
#define SOAK_IRQ_SLOTS	8	/* objects each interrupt context holds at most */
#define SOAK_IRQ_BULK	16	/* objects per bulk call in interrupt context */

/* Operation counts, per context. */
enum soak_op {
	OP_ALLOC,	/* goalloc_alloc() and goalloc_alloc_node() that succeeded */
	OP_NODE,	/* ... of which goalloc_alloc_node() */
	OP_FREE,	/* goalloc_free() */
	OP_REALLOC,	/* goalloc_realloc() that succeeded */
	OP_BULK_ALLOC,	/* goalloc_alloc_bulk() that succeeded */
	OP_BULK_OBJS,	/* objects those calls allocated */
	OP_BULK_FREE,	/* goalloc_free_bulk() */
	OP_HANDOFF,	/* objects put into another CPU's inbox */
	OP_REMOTE,	/* objects taken from an inbox and freed */
	OP_FAIL,	/* allocations that returned NULL (all kinds) */
	OP_CALM_FAIL,	/* GFP_KERNEL, <= 32 KiB, NULL, no balloon */
	OP_CALM_FAIL_LARGE,	/* the same above 32 KiB (not a failure) */
	SOAK_NR_OPS
};

static const char * const soak_op_names[SOAK_NR_OPS] = {
	"alloc", "alloc_node", "free", "realloc", "bulk_alloc", "bulk_objs",
	"bulk_free", "handoff", "remote_free", "alloc_fail", "calm_fail",
	"calm_fail_large",
};

/* Where an object was allocated or which context acts (reports, counts). */
enum soak_ctx_kind {
	CTX_THREAD,
	CTX_HRTIMER,
	CTX_TIMER,
	CTX_TASKLET,
	CTX_IRQ_WORK,
	SOAK_NR_CTX
};

static const char * const soak_ctx_names[SOAK_NR_CTX] = {
	"thread", "hrtimer", "timer", "tasklet", "irq_work",
};

/**
 * struct soak_obj - one live object and what it must hold
 * @p: the object
 * @size: bytes asked for (and patterned)
 * @seed: the pattern's seed
 * @origin: the soak_ctx_kind that allocated it
 */
struct soak_obj {
	u8 *p;
	u32 size;
	u32 seed;
	u8 origin;
};

/**
 * struct soak_ctx - the state of one acting context
 * @rnd: its random stream
 * @ops: what it did
 */
struct soak_ctx {
	struct rnd_state rnd;
	unsigned long ops[SOAK_NR_OPS];
};

/**
 * struct soak_bulk - objects from one goalloc_alloc_bulk() call
 * @p: the objects
 * @n: how many (0: none held)
 * @size: their size
 * @seed: object i's seed is @seed + i
 */
struct soak_bulk {
	void *p[SOAK_BULK_MAX];
	u32 n;
	u32 size;
	u32 seed;
};

/**
 * struct soak_irq - one interrupt context's state on one CPU
 * @busy: set while a callback uses this state (a migrated timer and the
 *	next one of the same kind never share it)
 * @x: counts and random stream
 * @slot: objects held across ticks
 * @b: a bulk group, allocated and freed within one tick
 * @win_start: ktime_get_ns() at the start of the current duty window
 * @win_ns: time this context's steps took in that window
 * @skipped: steps skipped because of the duty cap (soak_irq_step())
 *
 * Only the callback holding @busy touches the fields after it.
 */
struct soak_irq {
	atomic_t busy;
	struct soak_ctx x;
	struct soak_obj slot[SOAK_IRQ_SLOTS];
	struct soak_bulk b;
	u64 win_start;
	u64 win_ns;
	unsigned long skipped;
};

/**
 * struct soak_inbox - objects handed to one CPU for freeing
 * @lock: protects the rest; raw, since hard interrupts take it
 * @head: first entry of the ring
 * @count: entries in use
 * @o: the ring
 */
struct soak_inbox {
	raw_spinlock_t lock;
	unsigned int head, count;
	struct soak_obj o[SOAK_INBOX];
};

/**
 * struct soak_cpu - everything of one CPU
 * @cpu: the CPU
 * @x: its thread's counts and random stream
 * @slot: its thread's objects
 * @bulk: its thread's bulk groups
 * @scratch: its thread's scratch array for goalloc_free_bulk()
 * @steps: steps its thread made
 * @in: its inbox
 * @irq: its interrupt contexts' states (indexed by soak_ctx_kind)
 * @hrt: its hrtimer (CTX_HRTIMER)
 * @tl: its timer (CTX_TIMER)
 * @tasklet: its tasklet (CTX_TASKLET), scheduled by @hrt
 * @iw: its irq_work (CTX_IRQ_WORK), queued by @hrt
 * @hrt_ticks: @hrt's ticks
 * @timers: @hrt and @tl were started (the CPU was online at load)
 */
struct soak_cpu {
	unsigned int cpu;
	struct soak_ctx x;
	struct soak_obj slot[SOAK_SLOTS];
	struct soak_bulk bulk[SOAK_BULKS];
	void *scratch[SOAK_BULK_MAX];
	unsigned long steps;
	struct soak_inbox in;
	struct soak_irq irq[SOAK_NR_CTX];
	struct hrtimer hrt;
	struct timer_list tl;
	struct tasklet_struct tasklet;
	struct irq_work iw;
	unsigned int hrt_ticks;
	bool timers;
};

static struct soak_cpu **soak_cpus;
static bool soak_running;
static DEFINE_PER_CPU(struct task_struct *, soak_tasks);
static struct task_struct *soak_balloon;
static ktime_t soak_t0;
static long soak_base_objects, soak_base_bad_frees;

static atomic_long_t soak_mismatches = ATOMIC_LONG_INIT(0);
static atomic_long_t soak_errors = ATOMIC_LONG_INIT(0);
static atomic_t soak_reported = ATOMIC_INIT(0);
static atomic_t soak_error_reported = ATOMIC_INIT(0);

/* Balloon state: @soak_balloon_gen is odd while the balloon holds pages. */
static atomic_long_t soak_balloon_gen = ATOMIC_LONG_INIT(0);
static unsigned long soak_balloon_cycles, soak_balloon_max, soak_balloon_short;

/*
 * The pages the balloon holds (linked by page->lru, order in page_private)
 * and their count in pages.  soak_balloon_lock guards both: the balloon
 * thread adds and releases, and the OOM notifier releases everything.
 */
static DEFINE_SPINLOCK(soak_balloon_lock);
static LIST_HEAD(soak_balloon_pages);
static unsigned long soak_balloon_held;
static unsigned long soak_balloon_ooms;

/* The pattern: one 64-bit word per 8 bytes, from the object's seed. */
static inline u64 soak_word(u32 s, size_t i)
{
	return ((u64)s << 32 | (u32)~s) ^ ((i + 1) * 0x9E3779B97F4A7C15ULL);
}

/*
 * The words a pattern covers: all of them up to 4 KiB; beyond, the first
 * KiB, one word in 64 and the last 64 bytes, so large objects stay cheap.
 */
static inline size_t soak_next_word(size_t nw, size_t i)
{
	i++;
	if (nw <= 512 || i < 128 || i + 8 >= nw)
		return i;
	return min(round_up(i, 64), nw - 8);
}

static void soak_fill(u8 *p, size_t n, u32 s)
{
	size_t nw = n / 8, i, k;
	u64 w;

	for (i = 0; i < nw; i = soak_next_word(nw, i))
		((u64 *)p)[i] = soak_word(s, i);
	w = soak_word(s, nw);
	for (k = nw * 8; k < n; k++)
		p[k] = (u8)(w >> (8 * (k - nw * 8)));
}

/*
 * Check the pattern of an object of @n bytes, only its first @limit bytes
 * (@zero: check for zeroes instead).  Return the offset of the first bad
 * byte, or -1.
 */
static long soak_check(const u8 *p, size_t n, u32 s, size_t limit, bool zero)
{
	size_t nw = n / 8, i, k;
	u64 w;

	for (i = 0; i < nw && i * 8 < limit; i = soak_next_word(nw, i)) {
		w = zero ? 0 : soak_word(s, i);
		if (((const u64 *)p)[i] != w) {
			for (k = 0; k < 8; k++)
				if (i * 8 + k < limit && p[i * 8 + k] != (u8)(w >> (8 * k)))
					return i * 8 + k;
		}
	}
	w = zero ? 0 : soak_word(s, nw);
	for (k = nw * 8; k < n && k < limit; k++)
		if (p[k] != (u8)(w >> (8 * (k - nw * 8))))
			return k;
	return -1;
}

/* A pattern mismatch: counted always, the first one reported in detail. */
static void soak_mismatch(const char *what, const struct soak_obj *o, long off, bool zero)
{
	u32 s = o->seed;
	size_t nw = o->size / 8, i = off / 8;
	u8 want = zero ? 0 : (u8)(soak_word(s, i < nw ? i : nw) >> (8 * (off % 8)));
	size_t from = round_down(off, 16);

	atomic_long_inc(&soak_mismatches);
	if (atomic_xchg(&soak_reported, 1))
		return;
	pr_err("SOAK-MISMATCH %s on CPU %d (%s): object %p of %u bytes from %s, seed %#x: byte %ld is %#04x, expected %#04x\n",
	       what, raw_smp_processor_id(),
	       in_hardirq() ? "hardirq" : in_serving_softirq() ? "softirq" : "task",
	       o->p, o->size, soak_ctx_names[o->origin], s, off, o->p[off], want);
	print_hex_dump(KERN_ERR, KBUILD_MODNAME ": ", DUMP_PREFIX_OFFSET, 16, 1,
		       o->p + from, min_t(size_t, 32, o->size - from), false);
}

/* A broken API promise other than a pattern: counted, the first reported. */
static void soak_error(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	atomic_long_inc(&soak_errors);
	if (atomic_xchg(&soak_error_reported, 1))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("SOAK-ERROR %pV\n", &vaf);
	va_end(args);
}

static bool soak_verify(const char *what, const struct soak_obj *o)
{
	long off = soak_check(o->p, o->size, o->seed, o->size, false);

	if (off >= 0) {
		soak_mismatch(what, o, off, false);
		return false;
	}
	return true;
}

static size_t soak_size(u32 r, bool irq)
{
	switch (r % 1000) {
	case 0 ... 4:	/* large: a span of its own */
		return 32769 + (r >> 10) % (irq ? 65536 : 480000);
	case 5 ... 59:	/* the big classes */
		return 1025 + (r >> 10) % 31743;
	default:
		return 1 + (r >> 10) % 1024;
	}
}

static bool soak_calm(long gen)
{
	return !(gen & 1) && atomic_long_read(&soak_balloon_gen) == gen;
}

static void soak_count_fail(struct soak_ctx *x, size_t size, gfp_t gfp, long gen)
{
	x->ops[OP_FAIL]++;
	if ((gfp & __GFP_DIRECT_RECLAIM) && soak_calm(gen))
		x->ops[size <= 32768 ? OP_CALM_FAIL : OP_CALM_FAIL_LARGE]++;
}

static bool soak_alloc(struct soak_ctx *x, struct soak_obj *o, size_t size, gfp_t gfp,
		       int node, u8 origin)
{
	long gen = atomic_long_read(&soak_balloon_gen);
	long off;
	u8 *p;

	p = goalloc_alloc_node(size, gfp, node);
	if (!p) {
		soak_count_fail(x, size, gfp, gen);
		return false;
	}
	o->p = p;
	o->size = size;
	o->seed = prandom_u32_state(&x->rnd);
	o->origin = origin;
	if (gfp & __GFP_ZERO) {
		off = soak_check(p, size, 0, size, true);
		if (off >= 0)
			soak_mismatch("__GFP_ZERO allocation", o, off, true);
	}
	soak_fill(p, size, o->seed);
	x->ops[OP_ALLOC]++;
	if (node != NUMA_NO_NODE)
		x->ops[OP_NODE]++;
	return true;
}

static void soak_free(struct soak_ctx *x, struct soak_obj *o, const char *what)
{
	soak_verify(what, o);
	goalloc_free(o->p);
	o->p = NULL;
	x->ops[OP_FREE]++;
}

static void soak_realloc(struct soak_ctx *x, struct soak_obj *o, size_t size, gfp_t gfp)
{
	long gen = atomic_long_read(&soak_balloon_gen);
	struct soak_obj n = *o;
	long off;

	soak_verify("before realloc", o);
	n.p = goalloc_realloc(o->p, size, gfp);
	if (!n.p) {
		/* The old object must be untouched: checked at its free. */
		soak_count_fail(x, size, gfp, gen);
		return;
	}
	/* What the old pattern covered, up to the new size, must have moved. */
	off = soak_check(n.p, o->size, o->seed, min_t(size_t, o->size, size), false);
	if (off >= 0)
		soak_mismatch("after realloc", &n, off, false);
	n.size = size;
	soak_fill(n.p, size, n.seed);
	*o = n;
	x->ops[OP_REALLOC]++;
}

/* Free a bulk group, checking each object first. */
static void soak_bulk_free(struct soak_ctx *x, struct soak_bulk *b, u8 origin)
{
	struct soak_obj o = { .size = b->size, .origin = origin };
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		o.p = b->p[i];
		o.seed = b->seed + i;
		soak_verify("before bulk free", &o);
	}
	goalloc_free_bulk(b->n, b->p);
	b->n = 0;
	x->ops[OP_BULK_FREE]++;
}

static bool soak_bulk_alloc(struct soak_ctx *x, struct soak_bulk *b, unsigned int n,
			    size_t size, gfp_t gfp)
{
	long gen = atomic_long_read(&soak_balloon_gen);
	unsigned int i;
	int got;

	got = goalloc_alloc_bulk(size, gfp, n, b->p);
	if (got != n) {
		if (got)
			soak_error("goalloc_alloc_bulk(%zu, %u) returned %d, not all or nothing",
				   size, n, got);
		soak_count_fail(x, size, gfp, gen);
		b->n = 0;
		return false;
	}
	b->n = n;
	b->size = size;
	b->seed = prandom_u32_state(&x->rnd);
	for (i = 0; i < n; i++)
		soak_fill(b->p[i], size, b->seed + i);
	x->ops[OP_BULK_ALLOC]++;
	x->ops[OP_BULK_OBJS] += n;
	return true;
}

/* Hand @o to a random other online CPU's inbox; false if none takes it. */
static bool soak_handoff(struct soak_ctx *x, struct soak_obj *o, unsigned int self)
{
	unsigned int n = num_online_cpus(), t;
	struct soak_inbox *in;
	unsigned long flags;
	bool ok = false;

	if (n < 2)
		return false;
	/*
	 * The online mask changes under hotplug while this reads it; a stale
	 * view picks a CPU that just went offline, whose inbox then keeps the
	 * object until the CPU is back or the soak ends.  Benign: data_race().
	 */
	t = data_race(cpumask_nth(prandom_u32_state(&x->rnd) % n, cpu_online_mask));
	if (t == self || t >= nr_cpu_ids)
		return false;
	in = &soak_cpus[t]->in;
	raw_spin_lock_irqsave(&in->lock, flags);
	if (in->count < SOAK_INBOX) {
		in->o[(in->head + in->count++) % SOAK_INBOX] = *o;
		ok = true;
	}
	raw_spin_unlock_irqrestore(&in->lock, flags);
	if (ok) {
		o->p = NULL;
		x->ops[OP_HANDOFF]++;
	}
	return ok;
}

static bool soak_inbox_pop(struct soak_inbox *in, struct soak_obj *o)
{
	unsigned long flags;
	bool ok = false;

	raw_spin_lock_irqsave(&in->lock, flags);
	if (in->count) {
		*o = in->o[in->head];
		in->head = (in->head + 1) % SOAK_INBOX;
		in->count--;
		ok = true;
	}
	raw_spin_unlock_irqrestore(&in->lock, flags);
	return ok;
}

/* Free up to @max objects from @in. */
static void soak_inbox_free(struct soak_ctx *x, struct soak_inbox *in, unsigned int max)
{
	struct soak_obj o;

	while (max-- && soak_inbox_pop(in, &o)) {
		soak_free(x, &o, "cross-CPU free");
		x->ops[OP_REMOTE]++;
	}
}

/* Free a random set of the thread's objects with one goalloc_free_bulk(). */
static void soak_mixed_free(struct soak_cpu *c)
{
	unsigned int i, k = 0, start = prandom_u32_state(&c->x.rnd) % SOAK_SLOTS;

	for (i = 0; i < SOAK_SLOTS && k < SOAK_BULK_MAX / 2; i++) {
		struct soak_obj *o = &c->slot[(start + i) % SOAK_SLOTS];

		if (!o->p || (i & 1))
			continue;
		soak_verify("before mixed bulk free", o);
		c->scratch[k++] = o->p;
		o->p = NULL;
	}
	if (k) {
		goalloc_free_bulk(k, c->scratch);
		c->x.ops[OP_BULK_FREE]++;
	}
}

/* One step of a CPU's thread. */
static void soak_thread_step(struct soak_cpu *c)
{
	u32 r = prandom_u32_state(&c->x.rnd), r2 = prandom_u32_state(&c->x.rnd);
	struct soak_obj *o = &c->slot[r % SOAK_SLOTS];
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;

	if (!(++c->steps % 16)) {
		struct soak_bulk *b = &c->bulk[r2 % SOAK_BULKS];

		size_t size = soak_size(r2 >> 4, false);
		unsigned int n = 1 + (r2 >> 8) % SOAK_BULK_MAX;

		/* At most 4 large objects at once: 64 would be 30 MiB. */
		if (size > 32768)
			n = min(n, 4U);
		if (b->n)
			soak_bulk_free(&c->x, b, CTX_THREAD);
		else
			soak_bulk_alloc(&c->x, b, n, size, GFP_KERNEL | __GFP_NOWARN);
	}
	if (!(c->steps % 256))
		soak_mixed_free(c);

	if (!o->p) {
		if (!(r2 % 16))
			gfp |= __GFP_ZERO;
		if (!((r2 >> 4) % 4))
			gfp |= GOALLOC_NOSCAN;
		soak_alloc(&c->x, o, soak_size(r >> 8, false), gfp,
			   (r2 >> 8) % 32 ? NUMA_NO_NODE : cpu_to_node(c->cpu), CTX_THREAD);
		return;
	}
	switch ((r2 >> 12) % 8) {
	case 0 ... 3:
		soak_free(&c->x, o, "before free");
		break;
	case 4 ... 5:
		soak_realloc(&c->x, o, soak_size(r >> 8, false), GFP_KERNEL | __GFP_NOWARN);
		break;
	default:
		if (!soak_handoff(&c->x, o, c->cpu))
			soak_free(&c->x, o, "before free");
		break;
	}
}

static int soak_thread_should_run(unsigned int cpu)
{
	return READ_ONCE(soak_running);
}

static void soak_thread_fn(unsigned int cpu)
{
	struct soak_cpu *c = soak_cpus[cpu];
	unsigned int i;

	for (i = 0; i < SOAK_BATCH && READ_ONCE(soak_running); i++)
		soak_thread_step(c);
	soak_inbox_free(&c->x, &c->in, SOAK_BATCH / 2);
	/*
	 * A rest, so that the rest of the guest (the userspace hammer, the
	 * hotplug and drop_caches loops) runs too under slow emulation.
	 *
	 * Not when the thread is to park: a CPU going offline sets the flag
	 * and wakes the thread once, and only smpboot's loop parks it.  Were
	 * it to sleep here after that wake, only the timeout would end the
	 * rest, and on PREEMPT_RT the timer softirq runs in ksoftirqd, parked
	 * before this thread: CPU offline hung for good in the first RT soaks.
	 * The state is set before the check, so a wake in between is kept.
	 */
	if (thread_rest_us) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_park())
			schedule_timeout(usecs_to_jiffies(thread_rest_us));
		__set_current_state(TASK_RUNNING);
	} else {
		cond_resched();
	}
}

static struct smp_hotplug_thread soak_threads = {
	.store = &soak_tasks,
	.thread_should_run = soak_thread_should_run,
	.thread_fn = soak_thread_fn,
	.thread_comm = "goalloc_soak/%u",
};

/*
 * The duty cap: each interrupt context's steps may take at most
 * SOAK_IRQ_DUTY_PCT percent of its CPU's time, over windows of
 * SOAK_IRQ_WINDOW_NS.  A step takes microseconds on a CPU, far below it;
 * on the debug kernel under TCG one took 3-12 ms against a 4 ms period,
 * so the four contexts kept a CPU in interrupt context: CPU hotplug and
 * drop_caches then took 30-55 s each, and a 20 s soak ran 115 s.  A CPU
 * living in its interrupts tests the emulator, not goalloc.
 */
#define SOAK_IRQ_DUTY_PCT	10
#define SOAK_IRQ_WINDOW_NS	NSEC_PER_SEC

/* True if context @q has used its share of the CPU in this window. */
static bool soak_irq_over_duty(struct soak_irq *q, u64 now)
{
	if (now - q->win_start >= SOAK_IRQ_WINDOW_NS) {
		q->win_start = now;
		q->win_ns = 0;
		return false;
	}
	return q->win_ns * 100 > (now - q->win_start) * SOAK_IRQ_DUTY_PCT;
}

/* One tick of an interrupt context (@k) of CPU @c, running on this CPU. */
static void soak_irq_step(struct soak_cpu *c, unsigned int k)
{
	struct soak_irq *q = &c->irq[k];
	gfp_t gfp = GFP_ATOMIC | __GFP_NOWARN;
	unsigned int here = smp_processor_id();
	struct soak_obj *o;
	u64 t0;
	u32 r;

	if (atomic_xchg(&q->busy, 1))
		return;
	t0 = ktime_get_ns();
	if (soak_irq_over_duty(q, t0)) {
		q->skipped++;
		atomic_set_release(&q->busy, 0);
		return;
	}
	r = prandom_u32_state(&q->x.rnd);
	o = &q->slot[r % SOAK_IRQ_SLOTS];
	if (!o->p) {
		if (!((r >> 4) % 16))
			gfp |= __GFP_ZERO;
		soak_alloc(&q->x, o, soak_size(r >> 8, true), gfp, NUMA_NO_NODE, k);
	} else {
		switch ((r >> 4) % 6) {
		case 0 ... 1:
			soak_free(&q->x, o, "before free in interrupt");
			break;
		case 2:
			soak_realloc(&q->x, o, soak_size(r >> 8, true), gfp);
			break;
		case 3:
			if (!soak_handoff(&q->x, o, here))
				soak_free(&q->x, o, "before free in interrupt");
			break;
		default:
			/* A bulk round trip; o stays for later. */
			if (soak_bulk_alloc(&q->x, &q->b, 1 + (r >> 12) % SOAK_IRQ_BULK,
					    1 + (r >> 16) % 2048, gfp))
				soak_bulk_free(&q->x, &q->b, k);
			break;
		}
	}
	/* Frees of other CPUs' objects, in interrupt context. */
	if (!((r >> 20) % 4))
		soak_inbox_free(&q->x, &soak_cpus[here]->in, 2);
	q->win_ns += ktime_get_ns() - t0;
	atomic_set_release(&q->busy, 0);
}

static enum hrtimer_restart soak_hrtimer_fn(struct hrtimer *t)
{
	struct soak_cpu *c = container_of(t, struct soak_cpu, hrt);

	if (!READ_ONCE(soak_running))
		return HRTIMER_NORESTART;
	soak_irq_step(c, CTX_HRTIMER);
	c->hrt_ticks++;
	if (c->hrt_ticks % 2)
		irq_work_queue(&c->iw);
	if (!(c->hrt_ticks % 4))
		tasklet_schedule(&c->tasklet);
	hrtimer_forward_now(t, ns_to_ktime((u64)irq_period_us * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void soak_timer_fn(struct timer_list *t)
{
	struct soak_cpu *c = from_timer(c, t, tl);

	if (!READ_ONCE(soak_running))
		return;
	soak_irq_step(c, CTX_TIMER);
	mod_timer(t, jiffies + 1);
}

static void soak_tasklet_fn(struct tasklet_struct *t)
{
	struct soak_cpu *c = from_tasklet(c, t, tasklet);

	if (READ_ONCE(soak_running))
		soak_irq_step(c, CTX_TASKLET);
}

static void soak_irq_work_fn(struct irq_work *w)
{
	struct soak_cpu *c = container_of(w, struct soak_cpu, iw);

	if (READ_ONCE(soak_running))
		soak_irq_step(c, CTX_IRQ_WORK);
}

/* Runs on the CPU by IPI: a pinned hrtimer must be started there. */
static void soak_start_hrtimer(void *info)
{
	struct soak_cpu *c = info;

	hrtimer_start(&c->hrt, ns_to_ktime((u64)irq_period_us * NSEC_PER_USEC), SOAK_HRTIMER_MODE);
}

/* Give pages back until the balloon holds at most @keep; returns how many. */
static unsigned long soak_balloon_release(unsigned long keep)
{
	struct page *page, *tmp;
	unsigned long freed = 0;
	unsigned int order;

	spin_lock(&soak_balloon_lock);
	list_for_each_entry_safe(page, tmp, &soak_balloon_pages, lru) {
		if (soak_balloon_held <= keep)
			break;
		list_del(&page->lru);
		order = page_private(page);
		set_page_private(page, 0);
		__free_pages(page, order);
		soak_balloon_held -= 1UL << order;
		freed += 1UL << order;
	}
	spin_unlock(&soak_balloon_lock);
	return freed;
}

/*
 * The OOM killer is about to pick a victim: the balloon is what took the
 * memory, so it gives everything back instead (as a virtio balloon does);
 * out_of_memory() then kills nobody.  The soak tests goalloc under
 * pressure, not the OOM killer's choice among its helper shells.
 */
static int soak_balloon_oom(struct notifier_block *nb, unsigned long unused, void *freed)
{
	unsigned long n = soak_balloon_release(0);

	if (n) {
		soak_balloon_ooms++;
		*(unsigned long *)freed += n;
	}
	return NOTIFY_OK;
}

static struct notifier_block soak_balloon_oom_nb = {
	.notifier_call = soak_balloon_oom,
};

/*
 * The balloon: take pages down to balloon_free_pages (or until the page
 * allocator refuses), hold them, and give back balloon_swing_mb of them;
 * again after a pause.  Only the swing is
 * allocated and freed each cycle (the rest stays held), so a cycle is short
 * even under TCG, and between cycles free memory sits balloon_swing_mb
 * above the mark: no pressure.  Should the system still run out of memory,
 * soak_balloon_oom() empties the balloon.
 */
static int soak_balloon_fn(void *unused)
{
	/*
	 * Never direct reclaim: below the low watermark an allocation wakes
	 * kswapd (which calls the shrinkers), and at the min watermark it
	 * fails, which ends the fill before anyone else must reclaim.
	 */
	const gfp_t gfp = (GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN | __GFP_NOMEMALLOC;
	const unsigned int big_order = min(9, GOALLOC_MAX_PAGE_ORDER);
	const unsigned long swing = (unsigned long)balloon_swing_mb << (20 - PAGE_SHIFT);
	unsigned long held;
	struct page *page;
	unsigned int order;

	while (!kthread_should_stop()) {
		order = big_order;
		atomic_long_inc(&soak_balloon_gen);	/* odd: pressure */
		while (!kthread_should_stop()) {
			unsigned long free = global_zone_page_state(NR_FREE_PAGES);

			if (free <= balloon_free_pages)
				break;
			if (free < balloon_free_pages + (4UL << big_order))
				order = 0;
			page = alloc_pages(gfp, order);
			if (!page) {
				if (!order) {
					soak_balloon_short++;
					break;
				}
				order = 0;
				continue;
			}
			set_page_private(page, order);
			/* Order-0 pages go first, so the swing frees them first. */
			spin_lock(&soak_balloon_lock);
			list_add(&page->lru, &soak_balloon_pages);
			soak_balloon_held += 1UL << order;
			held = soak_balloon_held;
			spin_unlock(&soak_balloon_lock);
			if (!(held % 256))
				cond_resched();
		}
		soak_balloon_cycles++;
		held = READ_ONCE(soak_balloon_held);
		soak_balloon_max = max(soak_balloon_max, held);
		schedule_timeout_interruptible(msecs_to_jiffies(balloon_hold_ms));
		soak_balloon_release(held > swing ? held - swing : 0);
		atomic_long_inc(&soak_balloon_gen);	/* even: calm */
		schedule_timeout_interruptible(msecs_to_jiffies(balloon_pause_ms));
	}
	soak_balloon_release(0);
	return 0;
}

static void soak_free_cpu_objects(struct soak_cpu *c, struct soak_ctx *x)
{
	unsigned int i, k;

	for (i = 0; i < SOAK_SLOTS; i++)
		if (c->slot[i].p)
			soak_free(x, &c->slot[i], "at the end");
	for (i = 0; i < SOAK_BULKS; i++)
		if (c->bulk[i].n)
			soak_bulk_free(x, &c->bulk[i], CTX_THREAD);
	for (k = 0; k < SOAK_NR_CTX; k++)
		for (i = 0; i < SOAK_IRQ_SLOTS; i++)
			if (c->irq[k].slot[i].p)
				soak_free(x, &c->irq[k].slot[i], "at the end");
	soak_inbox_free(x, &c->in, SOAK_INBOX);
}

static void soak_free_cpus(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		kfree(soak_cpus[cpu]);
	kfree(soak_cpus);
}

static int __init soak_init(void)
{
	unsigned int cpu;
	int ret;

	soak_cpus = kcalloc(nr_cpu_ids, sizeof(*soak_cpus), GFP_KERNEL);
	if (!soak_cpus)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct soak_cpu *c = kzalloc(sizeof(*c), GFP_KERNEL);
		unsigned int k;

		if (!c) {
			soak_free_cpus();
			return -ENOMEM;
		}
		soak_cpus[cpu] = c;
		c->cpu = cpu;
		prandom_seed_state(&c->x.rnd, (u64)seed << 32 | cpu);
		for (k = 0; k < SOAK_NR_CTX; k++)
			prandom_seed_state(&c->irq[k].x.rnd, (u64)seed << 32 | (k + 1) << 16 | cpu);
		raw_spin_lock_init(&c->in.lock);
		hrtimer_init(&c->hrt, CLOCK_MONOTONIC, SOAK_HRTIMER_MODE);
		c->hrt.function = soak_hrtimer_fn;
		timer_setup(&c->tl, soak_timer_fn, TIMER_PINNED);
		tasklet_setup(&c->tasklet, soak_tasklet_fn);
		init_irq_work(&c->iw, soak_irq_work_fn);
	}

	soak_base_objects = goalloc_objects_in_use();
	soak_base_bad_frees = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	soak_t0 = ktime_get();
	WRITE_ONCE(soak_running, true);
	ret = smpboot_register_percpu_thread(&soak_threads);
	if (ret) {
		soak_free_cpus();
		return ret;
	}
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct soak_cpu *c = soak_cpus[cpu];

		c->timers = true;
		smp_call_function_single(cpu, soak_start_hrtimer, c, 1);
		c->tl.expires = jiffies + 1;
		add_timer_on(&c->tl, cpu);
	}
	cpus_read_unlock();
	if (balloon_free_pages) {
		ret = register_oom_notifier(&soak_balloon_oom_nb);
		if (ret)
			soak_error("balloon OOM notifier: %d", ret);
		soak_balloon = kthread_run(soak_balloon_fn, NULL, "goalloc_soak_balloon");
		if (IS_ERR(soak_balloon)) {
			soak_error("balloon thread: %ld", PTR_ERR(soak_balloon));
			soak_balloon = NULL;
		}
	}
	pr_info("SOAK-START cpus=%u hrtimer=%s irq_period_us=%u balloon_free_pages=%lu seed=%u\n",
		num_online_cpus(), SOAK_HRTIMER_CTX, irq_period_us, balloon_free_pages, seed);
	return 0;
}

/* The parseable summary line; tools/soak.sh reads it from the console. */
static void soak_report(struct soak_ctx *end)
{
	unsigned long ops[SOAK_NR_OPS] = {}, ctx_ops[SOAK_NR_CTX] = {}, total = 0, skipped = 0;
	unsigned int cpu, k, i;
	s64 ms = ktime_ms_delta(ktime_get(), soak_t0);
	char buf[640];
	int len = 0;

	for_each_possible_cpu(cpu) {
		struct soak_cpu *c = soak_cpus[cpu];

		for (k = 0; k < SOAK_NR_CTX; k++) {
			const struct soak_ctx *x = k == CTX_THREAD ? &c->x : &c->irq[k].x;

			for (i = 0; i < SOAK_NR_OPS; i++)
				ops[i] += x->ops[i];
			for (i = OP_ALLOC; i <= OP_BULK_FREE; i++)
				if (i != OP_NODE && i != OP_BULK_OBJS)
					ctx_ops[k] += x->ops[i];
			if (k != CTX_THREAD)
				skipped += c->irq[k].skipped;
		}
	}
	for (i = 0; i < SOAK_NR_OPS; i++)
		ops[i] += end->ops[i];
	for (i = OP_ALLOC; i <= OP_BULK_FREE; i++)
		if (i != OP_NODE && i != OP_BULK_OBJS)
			total += ops[i];

	for (i = 0; i < SOAK_NR_OPS; i++)
		len += scnprintf(buf + len, sizeof(buf) - len, " %s=%lu", soak_op_names[i], ops[i]);
	for (k = 0; k < SOAK_NR_CTX; k++)
		len += scnprintf(buf + len, sizeof(buf) - len, " %s_ops=%lu", soak_ctx_names[k],
				 ctx_ops[k]);
	pr_info("SOAK-RESULT ms=%lld cpus=%u hrtimer=%s ops=%lu%s irq_skipped=%lu\n",
		ms, num_online_cpus(), SOAK_HRTIMER_CTX, total, buf, skipped);
}

static void __exit soak_exit(void)
{
	struct soak_ctx end = {};
	unsigned int cpu, skipped;
	long objects, bad;

	WRITE_ONCE(soak_running, false);
	if (soak_balloon)
		kthread_stop(soak_balloon);
	if (balloon_free_pages)
		unregister_oom_notifier(&soak_balloon_oom_nb);
	smpboot_unregister_percpu_thread(&soak_threads);
	for_each_possible_cpu(cpu) {
		struct soak_cpu *c = soak_cpus[cpu];

		if (!c->timers)
			continue;
		/* The hrtimer first: it schedules the tasklet and the irq_work. */
		hrtimer_cancel(&c->hrt);
		timer_shutdown_sync(&c->tl);
	}
	for_each_possible_cpu(cpu) {
		tasklet_kill(&soak_cpus[cpu]->tasklet);
		irq_work_sync(&soak_cpus[cpu]->iw);
	}
	for_each_possible_cpu(cpu)
		soak_free_cpu_objects(soak_cpus[cpu], &end);
	soak_report(&end);

	/* Every page back: drain the caches, release the empty spans and chunks. */
	skipped = goalloc_drain_all();
	goalloc_scavenger_flush();
	goalloc_scavenge();
	objects = goalloc_objects_in_use() - soak_base_objects;
	bad = goalloc_counter(GOALLOC_CTR_BAD_FREES) - soak_base_bad_frees;
	pr_info("SOAK-END mismatches=%ld errors=%ld bad_frees=%ld objects_left=%ld heap_pages_held=%lu heap_pages_inuse=%lu empty_pages=%ld drain_skipped=%u balloon_cycles=%lu balloon_max_pages=%lu balloon_short=%lu balloon_ooms=%lu\n",
		atomic_long_read(&soak_mismatches), atomic_long_read(&soak_errors), bad, objects,
		READ_ONCE(goalloc_heap.pages_held), READ_ONCE(goalloc_heap.pages_inuse),
		goalloc_counter(GOALLOC_CTR_KEPT_PAGES), skipped, soak_balloon_cycles,
		soak_balloon_max, soak_balloon_short, soak_balloon_ooms);
	soak_free_cpus();
}

module_init(soak_init);
module_exit(soak_exit);

MODULE_DESCRIPTION("goalloc soak test: random load from every CPU and context");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
