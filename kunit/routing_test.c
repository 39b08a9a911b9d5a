// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the routing header (kmod/goalloc_slab.h) and goalloc_owns().
 *
 * This file is built with "-include goalloc_slab.h" (kunit/Kbuild), as a
 * routed module is: its kmalloc(), kmem_cache_*(), kfree() and kfree_rcu()
 * are goalloc's, and each case checks that by goalloc_owns() and by
 * goalloc's count of live objects, and that what core code allocated from
 * SLUB (kstrdup(), kmemdup()) goes back to SLUB through the routed frees
 * (KASAN and kmemleak would report it going anywhere else).
 */
#include <kunit/test.h>
#include <linux/cleanup.h>
#include <linux/mempool.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "goalloc.h"
#include "internal.h"

struct routed_obj {
	u64 a, b;
	struct rcu_head rcu;
};

/* goalloc_owns(): goalloc's objects, inside bytes too, and nothing else. */
static void owns_answers_for_every_kind(struct kunit *test)
{
	static int in_data;
	int on_stack = 0;
	char *g = goalloc_alloc(100, GFP_KERNEL);
	char *large = goalloc_alloc(64 * 1024, GFP_KERNEL);
	char *s = kstrdup("slub", GFP_KERNEL);
	void *v = vmalloc(PAGE_SIZE);

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, large);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_TRUE(test, goalloc_owns(g));
	KUNIT_EXPECT_TRUE(test, goalloc_owns(g + 99));
	KUNIT_EXPECT_TRUE(test, goalloc_owns(large + 40000));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(s));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(v));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(&on_stack));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(&in_data));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(NULL));
	KUNIT_EXPECT_FALSE(test, goalloc_owns(ZERO_SIZE_PTR));
	vfree(v);
	kfree(s);
	goalloc_free(large);
	goalloc_free(g);
}

/* The kmalloc family is goalloc's; every routed free finds its allocator. */
static void kmalloc_family_is_goalloc(struct kunit *test)
{
	long live = goalloc_objects_in_use();
	void *p[8];
	char *s, *d, *n;
	int i;

	p[0] = kmalloc(24, GFP_KERNEL);
	p[1] = kzalloc(200, GFP_KERNEL);
	p[2] = kcalloc(10, 30, GFP_KERNEL);
	p[3] = kmalloc_array(4, 1000, GFP_KERNEL);
	p[4] = kmalloc_node(64, GFP_KERNEL, NUMA_NO_NODE);
	p[5] = kzalloc_node(64, GFP_KERNEL, NUMA_NO_NODE);
	p[6] = kmalloc_track_caller(48, GFP_KERNEL);
	p[7] = kmalloc(20000, GFP_KERNEL);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		KUNIT_EXPECT_TRUE(test, goalloc_owns(p[i]));
	}
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live + 8);
	KUNIT_EXPECT_EQ(test, ksize(p[0]), goalloc_size_roundup(24));
	KUNIT_EXPECT_EQ(test, kmalloc_size_roundup(24), goalloc_size_roundup(24));
	KUNIT_EXPECT_TRUE(test, mem_is_zero(p[1], 200));

	/* krealloc() moves a goalloc object within goalloc. */
	n = krealloc(p[0], 3000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_TRUE(test, goalloc_owns(n));
	p[0] = n;

	/* Core code's SLUB objects: SLUB's ksize, krealloc and kfree. */
	s = kstrdup("a string core code allocated", GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_FALSE(test, goalloc_owns(s));
	KUNIT_EXPECT_GE(test, ksize(s), strlen(s) + 1);
	n = krealloc(s, 500, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_FALSE(test, goalloc_owns(n));
	s = n;
	KUNIT_EXPECT_STREQ(test, s, "a string core code allocated");
	d = kmemdup(s, 500, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d);
	kfree_sensitive(d);
	kfree(s);
	kfree_const(kstrdup_const("rodata", GFP_KERNEL));

	kfree_sensitive(p[7]);
	kvfree(p[6]);
	for (i = 0; i < 6; i++)
		kfree(p[i]);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}

/* kfree_rcu() of either kind; __free(kfree) of a goalloc object. */
static void rcu_and_cleanup_frees(struct kunit *test)
{
	long live = goalloc_objects_in_use();
	struct routed_obj *g = kmalloc(sizeof(*g), GFP_KERNEL);
	struct routed_obj *s = kmemdup(&(struct routed_obj){ .a = 1 }, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_FALSE(test, goalloc_owns(s));
	kfree_rcu(g, rcu);
	kfree_rcu(s, rcu);
	{
		char *c __free(kfree) = kmalloc(40, GFP_KERNEL);

		KUNIT_EXPECT_TRUE(test, goalloc_owns(c));
	}
	goalloc_rcu_barrier();
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);

	g = kmalloc(sizeof(*g), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g);
	kfree_rcu_mightsleep(g);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}

static int ctor_runs;

static void routed_ctor(void *p)
{
	ctor_runs++;
	memset(p, 0x5a, sizeof(struct routed_obj));
}

/* 6.12's three kmem_cache_create() forms, KMEM_CACHE(), the usercopy one. */
static void kmem_cache_family_is_goalloc(struct kunit *test)
{
	struct kmem_cache_args args = { .align = 64, .ctor = routed_ctor };
	struct kmem_cache *c[5];
	long live = goalloc_objects_in_use();
	void *objs[16];
	u8 *o;
	int i;

	c[0] = kmem_cache_create("routed_args", sizeof(struct routed_obj), &args, 0);
	c[1] = kmem_cache_create("routed_null", 40, NULL, SLAB_HWCACHE_ALIGN);
	c[2] = kmem_cache_create("routed_legacy", 24, 8, 0, NULL);
	c[3] = KMEM_CACHE(routed_obj, SLAB_RECLAIM_ACCOUNT);
	c[4] = kmem_cache_create_usercopy("routed_usercopy", 64, 0, 0, 8, 16, NULL);
	for (i = 0; i < ARRAY_SIZE(c); i++)
		KUNIT_ASSERT_NOT_NULL(test, c[i]);
	KUNIT_EXPECT_EQ(test, kmem_cache_size(c[1]), 40);

	o = kmem_cache_alloc(c[0], GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_TRUE(test, goalloc_owns(o));
	KUNIT_EXPECT_EQ(test, (unsigned long)o % 64, 0);
	KUNIT_EXPECT_GT(test, ctor_runs, 0);
	KUNIT_EXPECT_EQ(test, o[0], 0x5a);
	kmem_cache_free(c[0], o);

	o = kmem_cache_zalloc(c[1], GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_EXPECT_TRUE(test, mem_is_zero(o, 40));
	kmem_cache_free(c[1], o);
	o = kmem_cache_alloc_node(c[2], GFP_KERNEL, NUMA_NO_NODE);
	KUNIT_ASSERT_NOT_NULL(test, o);
	kmem_cache_free(c[2], o);
	o = kmem_cache_alloc_lru(c[3], NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	kmem_cache_free(c[3], o);
	KUNIT_EXPECT_EQ(test, kmem_cache_alloc_bulk(c[4], GFP_KERNEL, 16, objs), 16);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_TRUE(test, goalloc_owns(objs[i]));
	kmem_cache_free_bulk(c[4], 16, objs);
	KUNIT_EXPECT_EQ(test, kmem_cache_shrink(c[4]), 0);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
	for (i = 0; i < ARRAY_SIZE(c); i++)
		kmem_cache_destroy(c[i]);
}

/* A slab-backed mempool takes goalloc's cache and gives goalloc's objects. */
static void slab_mempool_is_goalloc(struct kunit *test)
{
	struct kmem_cache *c = kmem_cache_create("routed_pool", 96, NULL, 0);
	long live = goalloc_objects_in_use();
	mempool_t *pool;
	void *e;

	KUNIT_ASSERT_NOT_NULL(test, c);
	pool = mempool_create_slab_pool(4, c);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live + 4);
	e = mempool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_TRUE(test, goalloc_owns(e));
	mempool_free(e, pool);
	mempool_destroy(pool);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
	kmem_cache_destroy(c);
}

static struct kunit_case routing_cases[] = {
	KUNIT_CASE(owns_answers_for_every_kind),
	KUNIT_CASE(kmalloc_family_is_goalloc),
	KUNIT_CASE(rcu_and_cleanup_frees),
	KUNIT_CASE(kmem_cache_family_is_goalloc),
	KUNIT_CASE(slab_mempool_is_goalloc),
	{}
};

static struct kunit_suite routing_suite = {
	.name = "goalloc_routing",
	.test_cases = routing_cases,
};

kunit_test_suite(routing_suite);
