// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_bench: goalloc against SLUB in the same boot.
 *
 * Loading the module runs the benchmarks chosen by its parameters and keeps
 * the raw results in /sys/kernel/debug/goalloc_bench/results, one CSV row
 * per measurement:
 *
 *   test,variant,size,alloc,round,ns_per_op,cycles_per_op
 *
 * alloc is goalloc, kmalloc, cache (a kmem_cache of the size created
 * with SLAB_NO_MERGE, so SLUB cannot share it with another cache), gcache
 * (a goalloc named cache of the size, goalloc_cache_create()), or loop:
 * the same loop around no allocator at all (the "allocation" is a static
 * object, the free does nothing), which prices the loop's own work - the
 * counter, the dispatch on the allocator, the write to each object.  Each
 * round runs every allocator once, in an order that rotates from round to
 * round, so slow drifts of the machine hit all of them alike.  The
 * calibration rows (test "calib") price the primitives the allocators are
 * built from.  tools/bench.sh turns the rows into medians and ratios.
 *
 * Under QEMU with -icount shift=0 (make bench icount) the guest's clock
 * advances one nanosecond per guest instruction: ns_per_op is then an exact
 * count of instructions per operation, loop included.
 *
 * Parameters: tests= (comma list: calib,pair,nthenn,bulk,remote,random,
 * scaling; default all), allocs= (comma list: goalloc,kmalloc,cache,loop,
 * gcache; default all but gcache, which tools/bench.sh asks for), sizes=
 * (comma list of bytes), rounds=, iters= (operations per measurement for
 * the loops), par_sizes= (the sizes of the multi-CPU tests).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timex.h>
#include <linux/topology.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>

#include "goalloc.h"

static char *tests = "calib,pair,nthenn,bulk,remote,random,scaling";
module_param(tests, charp, 0444);
MODULE_PARM_DESC(tests, "Benchmarks to run (comma list)");

static char *allocs = "goalloc,kmalloc,cache,loop";
module_param(allocs, charp, 0444);
MODULE_PARM_DESC(allocs, "Allocators to measure (comma list: goalloc,kmalloc,cache,loop)");

/* Powers of two 8..32768 with 96 and 192, then sizes between classes. */
#define BENCH_SIZES \
	"8,16,32,64,96,128,192,256,512,1024,2048,4096,8192,16384,32768,65,200,300,513,1100,4097,9000"
static char *sizes = BENCH_SIZES;
module_param(sizes, charp, 0444);
MODULE_PARM_DESC(sizes, "Object sizes of the single-CPU tests (comma list)");

static char *par_sizes = "64,256,1024";
module_param(par_sizes, charp, 0444);
MODULE_PARM_DESC(par_sizes, "Object sizes of the remote-free and scaling tests");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Interleaved A/B rounds per measurement (>= 1)");

static unsigned int iters = 20000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "Operations per measurement");

#define MAX_SIZES	32
#define RANDOM_LIVE	100000
#define RANDOM_MIN	8
#define RANDOM_MAX	4096
#define RING_SIZE	1024
/* The scaling test uses CPUs below this number. */
#define BENCH_MAX_CPUS	256

/*
 * gcache (goalloc_cache_*(), a named cache of the size) comes last: where it
 * is not wanted (the budget's runs) the order of the others is unchanged.
 */
enum allocator { A_GOALLOC, A_KMALLOC, A_CACHE, A_LOOP, A_GCACHE, NR_ALLOC };

static const char *const alloc_name[NR_ALLOC] = {
	"goalloc", "kmalloc", "cache", "loop", "gcache"
};

/* What the loop "allocator" hands out: every object is this one. */
static char loop_obj[SMP_CACHE_BYTES] __aligned(SMP_CACHE_BYTES);

/* The results, as text; read through debugfs once the run is over. */
static char *out;
static size_t out_len, out_size;
static struct dentry *bench_dir;

static __printf(1, 2) void emit(const char *fmt, ...)
{
	va_list args;
	int n;

	if (!out)
		return;
	va_start(args, fmt);
	n = vsnprintf(out + out_len, out_size - out_len, fmt, args);
	va_end(args);
	if (n > 0 && out_len + n < out_size)
		out_len += n;
	else
		out_len = out_size - 1;
}

static void row(const char *test, const char *variant, unsigned int size, const char *alloc,
		unsigned int round, u64 ns, u64 cycles, unsigned long ops)
{
	/* ns and cycles per operation, with two decimals. */
	u64 nsx = div64_u64(ns * 100, ops), cyx = div64_u64(cycles * 100, ops);

	emit("%s,%s,%u,%s,%u,%llu.%02llu,%llu.%02llu\n", test, variant, size, alloc, round,
	     nsx / 100, nsx % 100, cyx / 100, cyx % 100);
}

/* One allocator of one size. */
struct allocator_ops {
	enum allocator which;
	unsigned int size;
	struct kmem_cache *cache;
	struct goalloc_cache *gcache;
};

/*
 * One allocation or free of allocator @which.  The pair and N-then-N loops
 * pass a constant (a switch around the loop): each allocator gets a loop of its own,
 * whose only difference from the others' is its calls, so the loop's
 * instructions (the "loop" row) are the same in every row.  A switch on
 * a->which inside one shared loop cost 18 to 27 instructions a pair,
 * depending on where the compiler placed each case (goalloc's the most).
 */
static __always_inline void *a_alloc_as(const struct allocator_ops *a, enum allocator which)
{
	switch (which) {
	case A_GOALLOC:
		return goalloc_alloc(a->size, GFP_KERNEL);
	case A_KMALLOC:
		return kmalloc(a->size, GFP_KERNEL);
	case A_CACHE:
		return kmem_cache_alloc(a->cache, GFP_KERNEL);
	case A_GCACHE:
		return goalloc_cache_alloc(a->gcache, GFP_KERNEL);
	default:
		return loop_obj;
	}
}

static __always_inline void a_free_as(const struct allocator_ops *a, enum allocator which,
				      void *p)
{
	switch (which) {
	case A_GOALLOC:
		goalloc_free(p);
		break;
	case A_KMALLOC:
		kfree(p);
		break;
	case A_CACHE:
		kmem_cache_free(a->cache, p);
		break;
	case A_GCACHE:
		goalloc_cache_free(a->gcache, p);
		break;
	default:
		break;
	}
}

static __always_inline void *a_alloc(const struct allocator_ops *a)
{
	return a_alloc_as(a, a->which);
}

static __always_inline void a_free(const struct allocator_ops *a, void *p)
{
	a_free_as(a, a->which, p);
}

#ifndef SLAB_NO_MERGE
static void noop_ctor(void *p)
{
}
#endif

/* A cache SLUB will not merge with another: SLAB_NO_MERGE, or a ctor before 6.5. */
static struct kmem_cache *make_cache(unsigned int size)
{
	char name[32];

	snprintf(name, sizeof(name), "goalloc_bench_%u", size);
#ifdef SLAB_NO_MERGE
	return kmem_cache_create(name, size, 0, SLAB_NO_MERGE, NULL);
#else
	return kmem_cache_create(name, size, 0, 0, noop_ctor);
#endif
}

struct timing {
	ktime_t t0;
	cycles_t c0;
};

static __always_inline void t_start(struct timing *t)
{
	t->c0 = get_cycles();
	t->t0 = ktime_get();
}

static __always_inline void t_stop(struct timing *t, u64 *ns, u64 *cycles)
{
	*ns = ktime_to_ns(ktime_sub(ktime_get(), t->t0));
	*cycles = get_cycles() - t->c0;
}

/* ---- calibration ---- */

static DEFINE_PER_CPU(unsigned long, calib_pcpu);

static void bench_calib(unsigned int round)
{
	unsigned long flags, n = iters * 10UL, i;
	atomic_t at = ATOMIC_INIT(0);
	struct timing t;
	u64 ns, cy;

	t_start(&t);
	for (i = 0; i < n; i++)
		barrier();
	t_stop(&t, &ns, &cy);
	row("calib", "empty_loop", 0, "-", round, ns, cy, n);

	t_start(&t);
	for (i = 0; i < n; i++) {
		preempt_disable();
		barrier();
		preempt_enable();
	}
	t_stop(&t, &ns, &cy);
	row("calib", "preempt_disable_enable", 0, "-", round, ns, cy, n);

	t_start(&t);
	for (i = 0; i < n; i++) {
		local_irq_save(flags);
		barrier();
		local_irq_restore(flags);
	}
	t_stop(&t, &ns, &cy);
	row("calib", "local_irq_save_restore", 0, "-", round, ns, cy, n);

	t_start(&t);
	for (i = 0; i < n; i++)
		this_cpu_cmpxchg(calib_pcpu, i, i + 1);
	t_stop(&t, &ns, &cy);
	row("calib", "this_cpu_cmpxchg", 0, "-", round, ns, cy, n);

	t_start(&t);
	for (i = 0; i < n; i++)
		atomic_inc(&at);
	t_stop(&t, &ns, &cy);
	row("calib", "atomic_inc", 0, "-", round, ns, cy, n);
}

/* ---- single-CPU patterns ---- */

static void **ptrs;
#define MAX_N	10000
/* The N of the N-then-N test, and a fixed shuffled order of 0..N-1 for each. */
static const unsigned int nthenn_n[] = { 32, 256, MAX_N };
static unsigned int *perm[ARRAY_SIZE(nthenn_n)];

/* alloc+free pairs: the fast path reusing the same slot. */
static __always_inline void pair_loop(const struct allocator_ops *a, enum allocator which,
				      unsigned int round)
{
	struct timing t;
	unsigned int i;
	u64 ns, cy;

	t_start(&t);
	for (i = 0; i < iters; i++) {
		void *p = a_alloc_as(a, which);

		if (unlikely(!p))
			return;
		/* The object is used, as any caller's would be. */
		WRITE_ONCE(*(char *)p, 1);
		a_free_as(a, which, p);
	}
	t_stop(&t, &ns, &cy);
	row("pair", "-", a->size, alloc_name[which], round, ns, cy, iters);
}

static void run_pair(const struct allocator_ops *a, unsigned int round)
{
	switch (a->which) {
	case A_GOALLOC:
		pair_loop(a, A_GOALLOC, round);
		break;
	case A_KMALLOC:
		pair_loop(a, A_KMALLOC, round);
		break;
	case A_CACHE:
		pair_loop(a, A_CACHE, round);
		break;
	case A_GCACHE:
		pair_loop(a, A_GCACHE, round);
		break;
	default:
		pair_loop(a, A_LOOP, round);
		break;
	}
}

/* N allocations, then N frees in order or shuffled; ns per object (alloc + free). */
static __always_inline void nthenn_loop(const struct allocator_ops *a, enum allocator alloc,
					unsigned int which, bool shuffled, unsigned int round)
{
	unsigned int n = nthenn_n[which], reps = max(1U, iters / n), r, i;
	const unsigned int *order = perm[which];
	struct timing t;
	char variant[24];
	u64 ns, cy;

	t_start(&t);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++) {
			ptrs[i] = a_alloc_as(a, alloc);
			if (unlikely(!ptrs[i]))
				goto oom;
			WRITE_ONCE(*(char *)ptrs[i], 1);
		}
		if (shuffled) {
			for (i = 0; i < n; i++)
				a_free_as(a, alloc, ptrs[order[i]]);
		} else {
			for (i = 0; i < n; i++)
				a_free_as(a, alloc, ptrs[i]);
		}
	}
	t_stop(&t, &ns, &cy);
	snprintf(variant, sizeof(variant), "n%u_%s", n, shuffled ? "shuffled" : "inorder");
	row("nthenn", variant, a->size, alloc_name[alloc], round, ns, cy,
	    (unsigned long)reps * n);
	return;
oom:
	while (i--)
		a_free_as(a, alloc, ptrs[i]);
}

static void run_nthenn(const struct allocator_ops *a, unsigned int which, bool shuffled,
		       unsigned int round)
{
	switch (a->which) {
	case A_GOALLOC:
		nthenn_loop(a, A_GOALLOC, which, shuffled, round);
		break;
	case A_KMALLOC:
		nthenn_loop(a, A_KMALLOC, which, shuffled, round);
		break;
	case A_CACHE:
		nthenn_loop(a, A_CACHE, which, shuffled, round);
		break;
	case A_GCACHE:
		nthenn_loop(a, A_GCACHE, which, shuffled, round);
		break;
	default:
		nthenn_loop(a, A_LOOP, which, shuffled, round);
		break;
	}
}

/* Bulk: goalloc's bulk calls against kmem_cache_{alloc,free}_bulk. */
static void run_bulk(const struct allocator_ops *a, unsigned int n, unsigned int round)
{
	unsigned int reps = max(1U, iters / n), r, i;
	struct timing t;
	char variant[16];
	u64 ns, cy;

	if (a->which == A_LOOP) {
		for (i = 0; i < n; i++)
			ptrs[i] = loop_obj;
	}
	t_start(&t);
	for (r = 0; r < reps; r++) {
		if (a->which == A_LOOP) {
			/* No allocator: only the writes the others' loops make. */
			for (i = 0; i < n; i++)
				WRITE_ONCE(*(char *)ptrs[i], 1);
		} else if (a->which == A_GOALLOC) {
			if (goalloc_alloc_bulk(a->size, GFP_KERNEL, n, ptrs) != n)
				return;
			for (i = 0; i < n; i++)
				WRITE_ONCE(*(char *)ptrs[i], 1);
			goalloc_free_bulk(n, ptrs);
		} else if (a->which == A_GCACHE) {
			if (goalloc_cache_alloc_bulk(a->gcache, GFP_KERNEL, n, ptrs) != n)
				return;
			for (i = 0; i < n; i++)
				WRITE_ONCE(*(char *)ptrs[i], 1);
			goalloc_cache_free_bulk(a->gcache, n, ptrs);
		} else {
			if (kmem_cache_alloc_bulk(a->cache, GFP_KERNEL, n, ptrs) != n)
				return;
			for (i = 0; i < n; i++)
				WRITE_ONCE(*(char *)ptrs[i], 1);
			kmem_cache_free_bulk(a->cache, n, ptrs);
		}
	}
	t_stop(&t, &ns, &cy);
	snprintf(variant, sizeof(variant), "n%u", n);
	row("bulk", variant, a->size, alloc_name[a->which], round, ns, cy,
	    (unsigned long)reps * n);
}

/* ---- NUMA: _node calls for this CPU's node and for another ---- */

static __always_inline void *a_alloc_node(const struct allocator_ops *a, int node)
{
	switch (a->which) {
	case A_GOALLOC:
		return goalloc_alloc_node(a->size, GFP_KERNEL, node);
	case A_KMALLOC:
		return kmalloc_node(a->size, GFP_KERNEL, node);
	case A_CACHE:
		return kmem_cache_alloc_node(a->cache, GFP_KERNEL, node);
	default:
		if (a->which == A_GCACHE)
			return goalloc_cache_alloc_node(a->gcache, GFP_KERNEL, node);
		return loop_obj;
	}
}

/*
 * One NUMA variant: @iters pairs (@n 1) or rounds of @n allocations then @n
 * frees, each allocation for node @nodes[i % 2].  The task stays on its CPU.
 */
static void run_numa_one(const struct allocator_ops *a, const char *variant, const int *nodes,
			 unsigned int n, unsigned int round)
{
	unsigned int reps = max(1U, iters / n), r, i;
	unsigned long wrong = 0;
	struct timing t;
	u64 ns, cy;

	t_start(&t);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++) {
			ptrs[i] = a_alloc_node(a, nodes[i % 2]);
			if (unlikely(!ptrs[i]))
				goto oom;
			WRITE_ONCE(*(char *)ptrs[i], 1);
		}
		for (i = 0; i < n; i++)
			a_free(a, ptrs[i]);
	}
	t_stop(&t, &ns, &cy);
	row("numa", variant, a->size, alloc_name[a->which], round, ns, cy,
	    (unsigned long)reps * n);
	/* Placement, outside the timing: each object of the last round's on its node. */
	if (a->which == A_LOOP)
		return;
	for (i = 0; i < n; i++) {
		ptrs[i] = a_alloc_node(a, nodes[i % 2]);
		if (!ptrs[i])
			break;
		wrong += page_to_nid(virt_to_page(ptrs[i])) != nodes[i % 2];
	}
	while (i--)
		a_free(a, ptrs[i]);
	if (wrong)
		emit("# numa %s %u %s: %lu of %u objects off their node\n", variant, a->size,
		     alloc_name[a->which], wrong, n);
	return;
oom:
	while (i--)
		a_free(a, ptrs[i]);
}

/*
 * This CPU's node and another (with a second node with memory): pairs, and
 * 256 allocations then 256 frees, for each; and pairs alternating between
 * the two (SLUB swaps its CPU slab at each change of node).
 */
static void do_numa(const struct allocator_ops *a, unsigned int round, void *arg)
{
	int local, remote = NUMA_NO_NODE, nid, nodes[2];

	migrate_disable();
	local = numa_mem_id();
	for_each_node_state(nid, N_MEMORY) {
		if (nid != local) {
			remote = nid;
			break;
		}
	}
	nodes[0] = local;
	nodes[1] = local;
	run_numa_one(a, "local_pair", nodes, 1, round);
	run_numa_one(a, "local_n256", nodes, 256, round);
	if (remote != NUMA_NO_NODE) {
		nodes[0] = remote;
		nodes[1] = remote;
		run_numa_one(a, "remote_pair", nodes, 1, round);
		run_numa_one(a, "remote_n256", nodes, 256, round);
		nodes[0] = local;
		run_numa_one(a, "alternate_n2", nodes, 2, round);
	}
	migrate_enable();
}

/* Random sizes, log-uniform in [8, 4096], over a live set of 100k objects. */
static u32 *rnd_sizes;

static void *r_alloc(enum allocator which, size_t size)
{
	switch (which) {
	case A_GOALLOC:
		return goalloc_alloc(size, GFP_KERNEL);
	case A_KMALLOC:
		return kmalloc(size, GFP_KERNEL);
	default:
		return loop_obj;
	}
}

static void r_free(enum allocator which, void *p)
{
	switch (which) {
	case A_GOALLOC:
		goalloc_free(p);
		break;
	case A_KMALLOC:
		kfree(p);
		break;
	default:
		break;
	}
}

static void run_random(enum allocator which, unsigned int round)
{
	struct rnd_state rs;
	unsigned int i, k, nops = iters * 5;
	struct timing t;
	void **live;
	u64 ns, cy;

	live = vzalloc(array_size(RANDOM_LIVE, sizeof(*live)));
	if (!live)
		return;
	prandom_seed_state(&rs, 42);
	for (i = 0; i < RANDOM_LIVE; i++)
		live[i] = r_alloc(which, rnd_sizes[i]);
	t_start(&t);
	for (i = 0; i < nops; i++) {
		k = prandom_u32_state(&rs) % RANDOM_LIVE;
		r_free(which, live[k]);
		live[k] = r_alloc(which, rnd_sizes[(k + i) % RANDOM_LIVE]);
		if (live[k])
			WRITE_ONCE(*(char *)live[k], 1);
	}
	t_stop(&t, &ns, &cy);
	row("random", "live100k", 0, alloc_name[which], round, ns, cy, nops);
	for (i = 0; i < RANDOM_LIVE; i++)
		r_free(which, live[i]);
	vfree(live);
}

/* ---- multi-CPU patterns ---- */

/* remote frees: a single-producer single-consumer ring per producer */
struct bench_ring {
	void *slot[RING_SIZE];
	unsigned long head;	/* written by the producer */
	unsigned long tail;	/* written by the consumer */
	bool done;		/* the producer has published its last object */
} ____cacheline_aligned;

struct par_ctx {
	const struct allocator_ops *a;
	atomic_t ready;
	struct completion go;
	atomic_t done;
	struct completion all_done;
	u64 ns[BENCH_MAX_CPUS];
	struct bench_ring *rings;
	unsigned int nrings;
};

static struct par_ctx *par;

static void par_wait_start(void)
{
	atomic_inc(&par->ready);
	wait_for_completion(&par->go);
}

static void par_finish(void)
{
	if (atomic_dec_and_test(&par->done))
		complete(&par->all_done);
}

static int scaling_thread(void *arg)
{
	unsigned int cpu = (unsigned long)arg, i;
	ktime_t t0;

	par_wait_start();
	t0 = ktime_get();
	for (i = 0; i < iters; i++) {
		void *p = a_alloc(par->a);

		if (unlikely(!p))
			break;
		WRITE_ONCE(*(char *)p, 1);
		a_free(par->a, p);
	}
	par->ns[cpu] = ktime_to_ns(ktime_sub(ktime_get(), t0));
	par_finish();
	return 0;
}

static int producer_thread(void *arg)
{
	unsigned int idx = (unsigned long)arg, i;
	struct bench_ring *r = &par->rings[idx];
	ktime_t t0;

	par_wait_start();
	t0 = ktime_get();
	for (i = 0; i < iters; i++) {
		void *p = a_alloc(par->a);
		unsigned long h = r->head;

		if (unlikely(!p))
			break;
		WRITE_ONCE(*(char *)p, 1);
		/*
		 * Acquire: the consumer is done with the slot it gave back.
		 * Waiting yields: with one thread per CPU and no preemption, a
		 * stop_machine() (the TSC's clocksource switch at boot) would
		 * otherwise wait forever for this CPU while its stopper waits
		 * for the consumer's.
		 */
		while (h - smp_load_acquire(&r->tail) >= RING_SIZE)
			cond_resched();
		r->slot[h % RING_SIZE] = p;
		/* Release: the slot's pointer is visible before the new head. */
		smp_store_release(&r->head, h + 1);
	}
	/* Release: every published object is visible before "done". */
	smp_store_release(&r->done, true);
	par->ns[idx] = ktime_to_ns(ktime_sub(ktime_get(), t0));
	par_finish();
	return 0;
}

/* Frees what every producer publishes, ring by ring, until all are done. */
static int consumer_thread(void *arg)
{
	unsigned int i, live;
	ktime_t t0;

	par_wait_start();
	t0 = ktime_get();
	do {
		live = 0;
		for (i = 0; i < par->nrings; i++) {
			struct bench_ring *r = &par->rings[i];
			/* Acquire: pairs with the producer's release of "done". */
			bool done = smp_load_acquire(&r->done);
			/* Acquire: pairs with the producer's release of the head. */
			unsigned long h = smp_load_acquire(&r->head), t = r->tail;

			for (; t != h; t++)
				a_free(par->a, r->slot[t % RING_SIZE]);
			/* Release: the slots are read before the producer reuses them. */
			smp_store_release(&r->tail, t);
			if (!done)
				live++;
		}
		/* Yields, as the producer's wait does. */
		cond_resched();
	} while (live);
	par->ns[par->nrings] = ktime_to_ns(ktime_sub(ktime_get(), t0));
	par_finish();
	return 0;
}

/* Run @fn in @n kthreads, one on each of @cpus[], from one start signal. */
static int par_run(unsigned int n, const unsigned int *cpus, int (*fn)(void *), bool ids)
{
	struct task_struct **tsk = kcalloc(n, sizeof(*tsk), GFP_KERNEL);
	unsigned int i;

	if (!tsk)
		return -ENOMEM;
	atomic_set(&par->ready, 0);
	atomic_set(&par->done, n);
	init_completion(&par->go);
	init_completion(&par->all_done);
	for (i = 0; i < n; i++) {
		tsk[i] = kthread_create(fn, (void *)(unsigned long)(ids ? cpus[i] : i),
					"goalloc_bench/%u", cpus[i]);
		if (IS_ERR(tsk[i])) {
			int err = PTR_ERR(tsk[i]);

			/* Not started yet: stopping them makes them exit at once. */
			while (i--)
				kthread_stop(tsk[i]);
			kfree(tsk);
			return err;
		}
		kthread_bind(tsk[i], cpus[i]);
	}
	for (i = 0; i < n; i++)
		wake_up_process(tsk[i]);
	while (atomic_read(&par->ready) < n)
		usleep_range(1000, 2000);
	complete_all(&par->go);
	wait_for_completion(&par->all_done);
	kfree(tsk);
	return 0;
}

/*
 * Remote frees: producers allocate and pass each object through a ring to
 * a consumer on another CPU, which frees it.  @all_to_one: every other CPU
 * produces for the first; else one producer, one consumer.
 */
static void run_remote(const struct allocator_ops *a, bool all_to_one, unsigned int round)
{
	unsigned int max = min_t(unsigned int, num_online_cpus(), BENCH_MAX_CPUS);
	unsigned int *cpus, cpu, n = 0, nprod, i;
	struct task_struct **tsk;
	u64 worst = 0;

	if (max < 2 || (all_to_one && max < 3))
		return;
	cpus = kcalloc(max, sizeof(*cpus), GFP_KERNEL);
	tsk = kcalloc(max, sizeof(*tsk), GFP_KERNEL);
	memset(par, 0, sizeof(*par));
	if (!cpus || !tsk)
		goto out;
	for_each_online_cpu(cpu) {
		if (n < max)
			cpus[n++] = cpu;
	}
	if (n < 2 || (all_to_one && n < 3))
		goto out;
	nprod = all_to_one ? n - 1 : 1;
	par->a = a;
	par->nrings = nprod;
	par->rings = vzalloc(array_size(nprod, sizeof(*par->rings)));
	if (!par->rings)
		goto out;
	atomic_set(&par->ready, 0);
	atomic_set(&par->done, nprod + 1);
	init_completion(&par->go);
	init_completion(&par->all_done);
	/* Thread i < nprod produces on cpus[i + 1]; thread nprod consumes on cpus[0]. */
	for (i = 0; i <= nprod; i++) {
		if (i < nprod)
			tsk[i] = kthread_create(producer_thread, (void *)(unsigned long)i,
						"goalloc_bench/p%u", i);
		else
			tsk[i] = kthread_create(consumer_thread, NULL, "goalloc_bench/c");
		if (IS_ERR(tsk[i])) {
			while (i--)
				kthread_stop(tsk[i]);
			goto out;
		}
		kthread_bind(tsk[i], i < nprod ? cpus[i + 1] : cpus[0]);
	}
	for (i = 0; i <= nprod; i++)
		wake_up_process(tsk[i]);
	while (atomic_read(&par->ready) < nprod + 1)
		usleep_range(1000, 2000);
	complete_all(&par->go);
	wait_for_completion(&par->all_done);
	/* Done when the consumer has freed the last object. */
	for (i = 0; i <= nprod; i++)
		worst = max(worst, par->ns[i]);
	row("remote", all_to_one ? "all_to_one" : "producer_consumer", a->size,
	    alloc_name[a->which], round, worst, 0, (unsigned long)iters * nprod);
out:
	vfree(par->rings);
	par->rings = NULL;
	kfree(tsk);
	kfree(cpus);
}

/* free_elsewhere: the objects one CPU allocated, for another to free. */
static void **seq_objs;

static int seq_alloc_thread(void *arg)
{
	unsigned int i;

	par_wait_start();
	for (i = 0; i < iters; i++) {
		seq_objs[i] = a_alloc(par->a);
		if (seq_objs[i])
			WRITE_ONCE(*(char *)seq_objs[i], 1);
	}
	par_finish();
	return 0;
}

static int seq_free_thread(void *arg)
{
	unsigned int i;
	ktime_t t0;

	par_wait_start();
	t0 = ktime_get();
	for (i = 0; i < iters; i++) {
		if (seq_objs[i])
			a_free(par->a, seq_objs[i]);
	}
	par->ns[0] = ktime_to_ns(ktime_sub(ktime_get(), t0));
	par_finish();
	return 0;
}

/*
 * Remote frees alone: one CPU allocates @iters objects, then, once it is
 * done, another frees them all; only the frees are timed.  No thread waits
 * for another while timed, so the figure is the cross-CPU free path's own
 * cost (under -icount, its instructions), without the ring's hand-offs.
 */
static void run_free_elsewhere(const struct allocator_ops *a, unsigned int round)
{
	unsigned int cpus[2], cpu, n = 0;

	for_each_online_cpu(cpu) {
		if (n < 2)
			cpus[n++] = cpu;
	}
	if (n < 2)
		return;
	seq_objs = vmalloc(array_size(iters, sizeof(*seq_objs)));
	if (!seq_objs)
		return;
	memset(par, 0, sizeof(*par));
	par->a = a;
	if (!par_run(1, &cpus[1], seq_alloc_thread, false) &&
	    !par_run(1, &cpus[0], seq_free_thread, false))
		row("remote", "free_elsewhere", a->size, alloc_name[a->which], round, par->ns[0],
		    0, iters);
	vfree(seq_objs);
	seq_objs = NULL;
}

static void run_scaling(const struct allocator_ops *a, unsigned int ncpus, unsigned int round)
{
	unsigned int *cpus, cpu, n = 0, i;
	char variant[16];
	u64 worst = 0;

	cpus = kcalloc(ncpus, sizeof(*cpus), GFP_KERNEL);
	if (!cpus)
		return;
	for_each_online_cpu(cpu) {
		if (n < ncpus && cpu < BENCH_MAX_CPUS)
			cpus[n++] = cpu;
	}
	memset(par, 0, sizeof(*par));
	par->a = a;
	if (n < ncpus || par_run(n, cpus, scaling_thread, true)) {
		kfree(cpus);
		return;
	}
	for (i = 0; i < n; i++)
		worst = max(worst, par->ns[cpus[i]]);
	kfree(cpus);
	snprintf(variant, sizeof(variant), "cpus%u", n);
	/* Time per pair on each CPU while all run at once. */
	row("scaling", variant, a->size, alloc_name[a->which], round, worst, 0, iters);
}

/* ---- driver ---- */

/* Is @name an item of the comma list @list? */
static bool in_list(const char *list, const char *name)
{
	const char *p = list;
	size_t len = strlen(name);

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

static bool want(const char *test)
{
	return in_list(tests, test);
}

static bool want_alloc(enum allocator which)
{
	return in_list(allocs, alloc_name[which]);
}

static unsigned int parse_sizes(const char *list, unsigned int *v)
{
	char buf[256], *s = buf, *tok;
	unsigned int n = 0;

	strscpy(buf, list, sizeof(buf));
	while ((tok = strsep(&s, ",")) && n < MAX_SIZES) {
		unsigned int x;

		if (!kstrtouint(tok, 0, &x) && x && x <= GOALLOC_MAX_SIZE)
			v[n++] = x;
	}
	return n;
}

#define WITH_GOALLOC	BIT(A_GOALLOC)
#define WITH_KMALLOC	BIT(A_KMALLOC)
#define WITH_CACHE	BIT(A_CACHE)
#define WITH_LOOP	BIT(A_LOOP)
#define WITH_GCACHE	BIT(A_GCACHE)

/*
 * Run @fn for each allocator of one size that @with names and allocs=
 * wants, rotating the order by round.
 */
static void each_alloc(unsigned int size, unsigned int round, unsigned long with,
		       void (*fn)(const struct allocator_ops *a, unsigned int round, void *arg),
		       void *arg)
{
	struct allocator_ops ops[NR_ALLOC];
	unsigned int i;

	for (i = 0; i < NR_ALLOC; i++) {
		ops[i].which = i;
		ops[i].size = size;
		ops[i].cache = NULL;
		ops[i].gcache = NULL;
	}
	if ((with & WITH_CACHE) && want_alloc(A_CACHE))
		ops[A_CACHE].cache = make_cache(size);
	if ((with & WITH_GCACHE) && want_alloc(A_GCACHE))
		ops[A_GCACHE].gcache = goalloc_cache_create("goalloc_bench_gcache", size, 0, 0,
							    NULL);
	for (i = 0; i < NR_ALLOC; i++) {
		const struct allocator_ops *a = &ops[(i + round) % NR_ALLOC];

		if (!(with & BIT(a->which)) || !want_alloc(a->which))
			continue;
		if (a->which == A_CACHE && !a->cache)
			continue;
		if (a->which == A_GCACHE && !a->gcache)
			continue;
		fn(a, round, arg);
		cond_resched();
	}
	kmem_cache_destroy(ops[A_CACHE].cache);
	goalloc_cache_destroy(ops[A_GCACHE].gcache);
}

static void do_pair(const struct allocator_ops *a, unsigned int round, void *arg)
{
	run_pair(a, round);
}

static void do_nthenn(const struct allocator_ops *a, unsigned int round, void *arg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nthenn_n); i++) {
		run_nthenn(a, i, false, round);
		run_nthenn(a, i, true, round);
	}
}

static void do_bulk(const struct allocator_ops *a, unsigned int round, void *arg)
{
	static const unsigned int ns[] = { 8, 32, 128 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ns); i++)
		run_bulk(a, ns[i], round);
}

static void do_remote(const struct allocator_ops *a, unsigned int round, void *arg)
{
	run_remote(a, false, round);
	run_remote(a, true, round);
	run_free_elsewhere(a, round);
}

static void do_scaling(const struct allocator_ops *a, unsigned int round, void *arg)
{
	unsigned int n;

	for (n = 1; n <= min(num_online_cpus(), BENCH_MAX_CPUS); n++)
		run_scaling(a, n, round);
}

static int bench_run(void)
{
	unsigned int sz[MAX_SIZES], psz[MAX_SIZES], nsz, npsz, r, i, k;
	struct rnd_state rs;
	ktime_t t0 = ktime_get();

	nsz = parse_sizes(sizes, sz);
	npsz = parse_sizes(par_sizes, psz);
	emit("# goalloc_bench: kernel %s, %u online CPUs, HZ %u, rounds %u, iters %u, allocs %s\n",
	     init_utsname()->release, num_online_cpus(), HZ, rounds, iters, allocs);
	emit("test,variant,size,alloc,round,ns_per_op,cycles_per_op\n");

	/* A fixed shuffle and fixed random sizes: every allocator sees the same. */
	prandom_seed_state(&rs, 1);
	for (k = 0; k < ARRAY_SIZE(nthenn_n); k++) {
		unsigned int *p = perm[k], n = nthenn_n[k];

		for (i = 0; i < n; i++)
			p[i] = i;
		for (i = n - 1; i > 0; i--) {
			unsigned int j = prandom_u32_state(&rs) % (i + 1);

			swap(p[i], p[j]);
		}
	}
	for (i = 0; i < RANDOM_LIVE; i++) {
		/*
		 * Log-uniform by octave: an octave 8..2048 picked uniformly,
		 * then a size uniformly within it, so [8, 4096) is covered
		 * with every octave equally likely.
		 */
		unsigned int e = 3 + prandom_u32_state(&rs) % 9;
		unsigned int f = prandom_u32_state(&rs) % 1024;

		rnd_sizes[i] = min_t(u32, RANDOM_MAX, (1U << e) + (((1U << e) * f) >> 10));
	}

	for (r = 0; r < rounds; r++) {
		if (want("calib"))
			bench_calib(r);
		for (i = 0; i < nsz; i++) {
			if (want("pair"))
				each_alloc(sz[i], r, WITH_GOALLOC | WITH_KMALLOC | WITH_CACHE |
					   WITH_LOOP | WITH_GCACHE, do_pair, NULL);
			if (want("nthenn"))
				each_alloc(sz[i], r, WITH_GOALLOC | WITH_KMALLOC | WITH_CACHE |
					   WITH_LOOP | WITH_GCACHE, do_nthenn, NULL);
			if (want("bulk"))
				each_alloc(sz[i], r, WITH_GOALLOC | WITH_CACHE | WITH_LOOP |
					   WITH_GCACHE, do_bulk, NULL);
			if (want("numa"))
				each_alloc(sz[i], r, WITH_GOALLOC | WITH_KMALLOC | WITH_CACHE |
					   WITH_LOOP | WITH_GCACHE, do_numa, NULL);
		}
		if (want("random")) {
			static const enum allocator order[2][3] = {
				{ A_GOALLOC, A_KMALLOC, A_LOOP },
				{ A_KMALLOC, A_GOALLOC, A_LOOP },
			};

			for (k = 0; k < ARRAY_SIZE(order[0]); k++) {
				if (want_alloc(order[r % 2][k]))
					run_random(order[r % 2][k], r);
			}
		}
		for (i = 0; i < npsz; i++) {
			/* The loop alone says nothing across CPUs: not measured. */
			if (want("remote"))
				each_alloc(psz[i], r, WITH_GOALLOC | WITH_KMALLOC | WITH_CACHE,
					   do_remote, NULL);
			if (want("scaling"))
				each_alloc(psz[i], r, WITH_GOALLOC | WITH_KMALLOC | WITH_CACHE,
					   do_scaling, NULL);
		}
	}
	emit("# done in %lld ms\n", ktime_to_ms(ktime_sub(ktime_get(), t0)));
	return 0;
}

static int results_show(struct seq_file *m, void *v)
{
	seq_write(m, out, out_len);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static void bench_free(void)
{
	unsigned int i;

	vfree(par);
	vfree(rnd_sizes);
	for (i = 0; i < ARRAY_SIZE(nthenn_n); i++)
		vfree(perm[i]);
	vfree(ptrs);
	vfree(out);
}

static int __init goalloc_bench_init(void)
{
	int err = -ENOMEM;
	unsigned int i;

	if (!rounds)
		return -EINVAL;
	out_size = 4 << 20;
	out = vzalloc(out_size);
	ptrs = vmalloc(array_size(MAX_N, sizeof(*ptrs)));
	for (i = 0; i < ARRAY_SIZE(nthenn_n); i++) {
		perm[i] = vmalloc(array_size(nthenn_n[i], sizeof(*perm[i])));
		if (!perm[i])
			goto fail;
	}
	rnd_sizes = vmalloc(array_size(RANDOM_LIVE, sizeof(*rnd_sizes)));
	par = vzalloc(sizeof(*par));
	if (!out || !ptrs || !rnd_sizes || !par)
		goto fail;
	err = bench_run();
	if (err)
		goto fail;
	bench_dir = debugfs_create_dir("goalloc_bench", NULL);
	debugfs_create_file("results", 0444, bench_dir, NULL, &results_fops);
	pr_info("done: %zu bytes of results in /sys/kernel/debug/goalloc_bench/results\n",
		out_len);
	return 0;
fail:
	bench_free();
	return err;
}

static void __exit goalloc_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	bench_free();
}

module_init(goalloc_bench_init);
module_exit(goalloc_bench_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goalloc against SLUB: fast paths, bulk, remote frees, scaling");
