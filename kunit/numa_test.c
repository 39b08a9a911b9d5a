// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: node-correct allocation.  Each node has its own mcentral per span
 * class and the heap places a span's pages on the node asked for; a CPU's
 * cache holds spans of its own node; goalloc_alloc_node() and
 * goalloc_cache_alloc_node() return memory of the node asked for (checked
 * with page_to_nid()), the node itself or nothing under __GFP_THISNODE;
 * frees, from any CPU, go back to the span's own node; requests for
 * another node are served from a span the CPU keeps for them; a node id
 * that does not exist is refused.  On a one-node kernel (UML) the cases check node 0
 * and skip the cross-node ones; make check's debug guest has two nodes, a
 * socket each (tools/check.sh).
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/topology.h>
#include <linux/workqueue.h>

#include "goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mcentral.h"
#include "mheap.h"
#include "quiet.h"

/* Small, medium, a multi-page class, the largest class and a large object. */
static const size_t numa_sizes[] = { 16, 256, 2048, 16384, GOALLOC_MAX_CLASS_SIZE + 1 };

#define NUMA_OBJS	64

static int nid_of(const void *p)
{
	return page_to_nid(virt_to_page(p));
}

/* The byte written at offset @i of object @n. */
static u8 pattern(unsigned int n, size_t i)
{
	return (u8)(n * 31 + i);
}

static void fill(void *p, size_t size, unsigned int n)
{
	size_t i;

	for (i = 0; i < size; i += 64)
		((u8 *)p)[i] = pattern(n, i);
	((u8 *)p)[size - 1] = pattern(n, size - 1);
}

static bool intact(const void *p, size_t size, unsigned int n)
{
	size_t i;

	for (i = 0; i < size; i += 64)
		if (((const u8 *)p)[i] != pattern(n, i))
			return false;
	return ((const u8 *)p)[size - 1] == pattern(n, size - 1);
}

/*
 * Spans on a node's mcentral lists that lie on another node.  mcentral
 * takes a span back to its own node's lists, whoever frees or caches it:
 * this must stay 0.
 */
static unsigned long misplaced_spans(void)
{
	unsigned long n = 0, flags;
	struct goalloc_span *s;
	unsigned int spc, i;
	int nid;

	for_each_node(nid) {
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);
			struct list_head *lists[] = { &mc->partial, &mc->full, &mc->kept };

			spin_lock_irqsave(&mc->lock, flags);
			for (i = 0; i < ARRAY_SIZE(lists); i++)
				list_for_each_entry(s, lists[i], list)
					n += goalloc_span_nid(s) != nid;
			spin_unlock_irqrestore(&mc->lock, flags);
		}
	}
	return n;
}

/* A node with memory other than @local, or NUMA_NO_NODE. */
static int other_node(int local)
{
	int nid;

	for_each_node_state(nid, N_MEMORY)
		if (nid != local)
			return nid;
	return NUMA_NO_NODE;
}

/* Two nodes with memory, or skip: @local is this CPU's, @remote another. */
static void two_nodes(struct kunit *test, int *local, int *remote)
{
	*local = numa_mem_id();
	*remote = other_node(*local);
	if (*remote == NUMA_NO_NODE)
		kunit_skip(test, "one node with memory: nothing is remote");
}

/* NUMA_OBJS objects of @size for @nid: how many lie elsewhere. */
static unsigned int place_on_node(struct kunit *test, int nid, size_t size, gfp_t gfp)
{
	unsigned int i, wrong = 0;
	void *p[NUMA_OBJS];

	for (i = 0; i < NUMA_OBJS; i++) {
		p[i] = goalloc_alloc_node(size, gfp, nid);
		KUNIT_ASSERT_NOT_NULL_MSG(test, p[i], "node %d size %zu", nid, size);
		fill(p[i], size, i);
		wrong += nid_of(p[i]) != nid;
	}
	for (i = 0; i < NUMA_OBJS; i++) {
		KUNIT_EXPECT_TRUE(test, intact(p[i], size, i));
		goalloc_free(p[i]);
	}
	return wrong;
}

/*
 * goalloc_alloc_node() for every node with memory, every size, the node
 * preferred and the node required: every object lies on its node (there is
 * memory enough on each), holds what was written until freed, and the
 * counts come back.
 */
static void numa_alloc_node_placement(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	unsigned int k, wrong = 0, nodes = 0;
	int nid;

	for_each_node_state(nid, N_MEMORY) {
		nodes++;
		for (k = 0; k < ARRAY_SIZE(numa_sizes); k++) {
			wrong += place_on_node(test, nid, numa_sizes[k], GFP_KERNEL);
			wrong += place_on_node(test, nid, numa_sizes[k],
					       GFP_KERNEL | __GFP_THISNODE);
		}
	}
	KUNIT_EXPECT_GE(test, nodes, 1U);
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0U, "objects on another node than asked for");
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
}

struct local_run {
	unsigned int wrong;	/* objects not on the CPU's node */
	unsigned int foreign;	/* cached spans not of the CPU's node */
	unsigned int failed;
};

/* On one CPU (a bound worker): its allocations, and its cached spans, are its node's. */
static long local_alloc_fn(void *arg)
{
	struct local_run *r = arg;
	int nid = numa_mem_id();
	unsigned int i, k, v;
	void *p[NUMA_OBJS];

	for (k = 0; k < ARRAY_SIZE(numa_sizes); k++) {
		size_t size = numa_sizes[k];

		for (v = 0; v < 3; v++) {
			for (i = 0; i < NUMA_OBJS; i++) {
				p[i] = v == 0 ? goalloc_alloc(size, GFP_KERNEL) :
				       goalloc_alloc_node(size, GFP_KERNEL,
							  v == 1 ? NUMA_NO_NODE : nid);
				if (!p[i]) {
					r->failed++;
					continue;
				}
				r->wrong += nid_of(p[i]) != nid;
			}
			if (size <= GOALLOC_MAX_CLASS_SIZE) {
				struct goalloc_mcache *c = goalloc_mcache_get();
				struct goalloc_span *s;

				/* The class's cached span, read with the CPU pinned. */
				s = c->alloc[goalloc_spc(goalloc_size_class(size), false)];
				if (s != &goalloc_placeholder_span)
					r->foreign += goalloc_span_nid(s) != nid;
				goalloc_mcache_put();
			}
			for (i = 0; i < NUMA_OBJS; i++)
				goalloc_free(p[i]);
		}
	}
	return 0;
}

/*
 * NUMA_NO_NODE is this CPU's node: on every online CPU, goalloc_alloc(),
 * goalloc_alloc_node(NUMA_NO_NODE) and goalloc_alloc_node(its own node)
 * return memory of the CPU's node, and the span the CPU caches for the
 * class is its node's (as SLUB's CPU slabs).
 */
static void numa_local_by_default(struct kunit *test)
{
	long base = goalloc_objects_in_use();
	struct local_run r = {};
	unsigned int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ(test, work_on_cpu(cpu, local_alloc_fn, &r), 0L);
	cpus_read_unlock();
	KUNIT_EXPECT_EQ(test, r.failed, 0U);
	KUNIT_EXPECT_EQ_MSG(test, r.wrong, 0U, "objects not on their CPU's node");
	KUNIT_EXPECT_EQ_MSG(test, r.foreign, 0U, "a CPU caches another node's span");
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
}

/*
 * Objects of another node, allocated and freed from this CPU: the spans are
 * the other node's mcentral's (none lands on this node's lists), the frees
 * go back to them, and once kept spans are released the other node holds
 * what it held before.
 */
static void numa_frees_go_home(struct kunit *test)
{
	unsigned int spc = goalloc_spc(goalloc_size_class(1024), false), i, wrong = 0;
	long base = goalloc_objects_in_use(), home0, here0;
	struct goalloc_mcentral *home, *here;
	int local, remote, n;
	void **p;

	n = 4 * goalloc_class_info[goalloc_size_class(1024)].nelems;
	p = kunit_kcalloc(test, n, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	two_nodes(test, &local, &remote);
	/* This CPU's node stays "here" while the case runs. */
	migrate_disable();
	local = numa_mem_id();
	remote = other_node(local);
	home = goalloc_central_of(remote, spc);
	here = goalloc_central_of(local, spc);
	goalloc_central_release_kept();
	home0 = atomic_long_read(&home->nspans);
	here0 = atomic_long_read(&here->nspans);
	for (i = 0; i < n; i++) {
		p[i] = goalloc_alloc_node(1000, GFP_KERNEL | __GFP_THISNODE, remote);
		if (!p[i])
			break;
		fill(p[i], 1000, i);
		wrong += nid_of(p[i]) != remote;
	}
	KUNIT_EXPECT_EQ(test, i, (unsigned int)n);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_GE(test, atomic_long_read(&home->nspans), home0 + 4);
	/* Other work (an RCU batch's frees) may retire spans here, never add. */
	KUNIT_EXPECT_LE(test, atomic_long_read(&here->nspans), here0);
	while (i--) {
		KUNIT_EXPECT_TRUE(test, intact(p[i], 1000, i));
		goalloc_free(p[i]);
	}
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
	/* The span this CPU keeps for other nodes goes back too. */
	goalloc_drain_all();
	goalloc_central_release_kept();
	KUNIT_EXPECT_LE(test, atomic_long_read(&home->nspans), home0);
	KUNIT_EXPECT_LE(test, atomic_long_read(&here->nspans), here0);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
}

/* This CPU's span of @spc for other nodes, and its own, read pinned. */
static void cached_spans(unsigned int spc, struct goalloc_span **own, struct goalloc_span **away)
{
	struct goalloc_mcache *c = goalloc_mcache_get();

	*own = c->alloc[spc];
	*away = c->away[spc];
	goalloc_mcache_put();
}

/*
 * Requests for the other node are served from the span this CPU keeps for
 * other nodes (mcache's @away), not through that node's mcentral: mixed
 * with requests for this node, a thousand pairs take nothing from the
 * other node's mcentral (its central_out count stays: before, each took a
 * slot under its lock), and their frees on this CPU are the owner's.  This
 * CPU's own span stays its node's throughout.
 */
static void numa_away_span(struct kunit *test)
{
	unsigned int spc = goalloc_spc(goalloc_size_class(500), false), i, wrong = 0;
	long base = goalloc_objects_in_use(), out0, in0;
	struct goalloc_span *own, *away;
	struct goalloc_mcentral *home;
	int local, remote;
	void *p, *q;

	two_nodes(test, &local, &remote);
	/* The CPU's own span of the class, which a quiet class would not take. */
	quiet_classes_off();
	migrate_disable();
	local = numa_mem_id();
	remote = other_node(local);
	home = goalloc_central_of(remote, spc);
	p = goalloc_alloc(500, GFP_KERNEL);
	q = goalloc_alloc_node(500, GFP_KERNEL, remote);
	goalloc_free(q);
	goalloc_free(p);
	out0 = atomic_long_read(&home->nmalloc);
	in0 = atomic_long_read(&home->nfree);
	for (i = 0; i < 1000; i++) {
		p = goalloc_alloc(500, GFP_KERNEL);
		q = goalloc_alloc_node(500, GFP_KERNEL, remote);
		if (!p || !q) {
			wrong++;
		} else {
			wrong += nid_of(p) != local;
			wrong += nid_of(q) != remote;
		}
		goalloc_free(q);
		goalloc_free(p);
	}
	cached_spans(spc, &own, &away);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&home->nmalloc), out0);
	/* A trim pass may take the span back between an object and its free. */
	KUNIT_EXPECT_LE(test, atomic_long_read(&home->nfree) - in0, 4L);
	KUNIT_EXPECT_TRUE(test, own != &goalloc_placeholder_span && goalloc_span_nid(own) == local);
	KUNIT_EXPECT_TRUE(test, away == &goalloc_placeholder_span ||
			  goalloc_span_nid(away) == remote);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
}

struct cross_run {
	void **p;
	unsigned int n;
	unsigned int wrong;
	unsigned int bad;
	int nid;
};

static long cross_alloc_fn(void *arg)
{
	struct cross_run *r = arg;
	unsigned int i;

	r->nid = numa_mem_id();
	for (i = 0; i < r->n; i++) {
		r->p[i] = goalloc_alloc(256, GFP_KERNEL);
		if (!r->p[i])
			return -ENOMEM;
		fill(r->p[i], 256, i);
		r->wrong += nid_of(r->p[i]) != r->nid;
	}
	return 0;
}

static long cross_free_fn(void *arg)
{
	struct cross_run *r = arg;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		r->bad += !intact(r->p[i], 256, i);
		goalloc_free(r->p[i]);
	}
	return 0;
}

/* The first online CPU of @nid, or nr_cpu_ids. */
static unsigned int cpu_of_node(int nid)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (cpu_to_mem(cpu) == nid)
			return cpu;
	return nr_cpu_ids;
}

/*
 * A producer on one node, a consumer on another, twice over: the
 * producer's objects are its node's both times (the second round reuses
 * the slots the consumer's remote frees gave back), the consumer sees
 * what was written, and nothing stays.
 */
static void numa_cross_node_frees(struct kunit *test)
{
	struct cross_run r = { .n = 4096 };
	long base = goalloc_objects_in_use();
	unsigned int a, b, round;
	int local, remote;

	two_nodes(test, &local, &remote);
	a = cpu_of_node(local);
	b = cpu_of_node(remote);
	if (a >= nr_cpu_ids || b >= nr_cpu_ids)
		kunit_skip(test, "no online CPU on one of the nodes");
	r.p = kunit_kcalloc(test, r.n, sizeof(*r.p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r.p);
	for (round = 0; round < 2; round++) {
		KUNIT_ASSERT_EQ(test, work_on_cpu(a, cross_alloc_fn, &r), 0L);
		KUNIT_EXPECT_EQ(test, r.nid, local);
		KUNIT_EXPECT_EQ(test, work_on_cpu(b, cross_free_fn, &r), 0L);
	}
	KUNIT_EXPECT_EQ(test, r.wrong, 0U);
	KUNIT_EXPECT_EQ(test, r.bad, 0U);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
}

static void numa_ctor(void *p)
{
	memset(p, 0x5a, 200);
}

/* A named cache's objects on each node: placed there, and constructed. */
static void numa_cache_alloc_node(struct kunit *test)
{
	struct goalloc_cache *c = goalloc_cache_create("numa_test", 200, 0, 0, numa_ctor);
	unsigned int i, wrong = 0, unconstructed = 0;
	void *p[NUMA_OBJS];
	int nid;

	KUNIT_ASSERT_NOT_NULL(test, c);
	for_each_node_state(nid, N_MEMORY) {
		for (i = 0; i < NUMA_OBJS; i++) {
			p[i] = goalloc_cache_alloc_node(c, GFP_KERNEL, nid);
			KUNIT_ASSERT_NOT_NULL(test, p[i]);
			wrong += nid_of(p[i]) != nid;
			unconstructed += !!memchr_inv(p[i], 0x5a, 200);
		}
		for (i = 0; i < NUMA_OBJS; i++)
			goalloc_cache_free(c, p[i]);
	}
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_EQ(test, unconstructed, 0U);
	KUNIT_EXPECT_EQ(test, misplaced_spans(), 0UL);
	goalloc_cache_destroy(c);
}

/*
 * A node id that does not exist is the caller's bug: NULL, for every entry,
 * nothing allocated, nothing reported as a bad free (and, made check's
 * verdict says, no WARN).  A node without memory: NULL if required, else
 * the nearest node's memory.
 */
static void numa_bad_node(struct kunit *test)
{
	static const int bad[] = { -2, -100, MAX_NUMNODES, MAX_NUMNODES + 7 };
	struct goalloc_cache *c = goalloc_cache_create("numa_bad", 64, 0, 0, NULL);
	long base = goalloc_objects_in_use(), frees = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	unsigned int i;
	void *p;
	int nid;

	KUNIT_ASSERT_NOT_NULL(test, c);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_NULL(test, goalloc_alloc_node(64, GFP_KERNEL, bad[i]));
		KUNIT_EXPECT_NULL(test, goalloc_alloc_node(64 * 1024, GFP_KERNEL, bad[i]));
		KUNIT_EXPECT_NULL(test, goalloc_cache_alloc_node(c, GFP_KERNEL, bad[i]));
	}
	KUNIT_EXPECT_NULL(test, goalloc_alloc_node(64, GFP_KERNEL, nr_node_ids));
	for_each_node(nid) {
		if (node_state(nid, N_MEMORY))
			continue;
		KUNIT_EXPECT_NULL(test, goalloc_alloc_node(64, GFP_KERNEL | __GFP_THISNODE, nid));
		p = goalloc_alloc_node(64, GFP_KERNEL, nid);
		KUNIT_EXPECT_NOT_NULL(test, p);
		goalloc_free(p);
	}
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), base);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), frees);
	goalloc_cache_destroy(c);
}

static struct kunit_case numa_cases[] = {
	KUNIT_CASE(numa_alloc_node_placement),
	KUNIT_CASE(numa_local_by_default),
	KUNIT_CASE(numa_frees_go_home),
	KUNIT_CASE(numa_away_span),
	KUNIT_CASE(numa_cross_node_frees),
	KUNIT_CASE(numa_cache_alloc_node),
	KUNIT_CASE(numa_bad_node),
	{}
};

static struct kunit_suite numa_suite = {
	.name = "goalloc_numa",
	.exit = quiet_classes_exit,
	.test_cases = numa_cases,
};

kunit_test_suite(numa_suite);
