// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: what the compiler may know of goalloc's objects (kmod/goalloc.h's
 * allocation attributes, as include/linux/slab.h gives kmalloc()'s) and
 * the overflow-checked conveniences built on them: array and zeroing
 * variants, goalloc_size_roundup(), and FORTIFY_SOURCE stopping an
 * overflow into a goalloc object as it stops one into a kmalloc() object.
 */

/* First: it takes FORTIFY_SOURCE's reports (see there). */
#include "attrs_fortify.h"

#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/kasan.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "goalloc.h"
#include "internal.h"
#include "sizeclasses.h"

/* What fortify_panic() and fortify_warn_once() saw in the running test. */
struct attrs_fortify {
	int reports;
	int warned;
	int func;
	int write;
	size_t avail;
	size_t size;
};

void goalloc_attrs_fortify_report(int func, int write, unsigned long avail,
				  unsigned long size)
{
	struct kunit *test = kunit_get_current_test();
	struct attrs_fortify *f = test ? test->priv : NULL;

	if (!f)
		return;
	f->reports++;
	f->func = func;
	f->write = write;
	f->avail = avail;
	f->size = size;
}

void goalloc_attrs_fortify_warned(int warn)
{
	struct kunit *test = kunit_get_current_test();
	struct attrs_fortify *f = test ? test->priv : NULL;

	if (f && warn)
		f->warned++;
}

/*
 * A value the compiler cannot see as a constant (OPTIMIZER_HIDE_VAR()
 * passes it through an empty asm), so __builtin_object_size() (static)
 * knows nothing of a size made from it and only
 * __builtin_dynamic_object_size() can follow it.
 */
static __always_inline size_t opaque(size_t v)
{
	OPTIMIZER_HIDE_VAR(v);
	return v;
}

/*
 * n * size overflows a size_t, and wraps to 16 bytes: a wrapper that did
 * not check would allocate 16 bytes, return an object and leave it live
 * (goalloc_objects_in_use() counts it).
 */

static void array_overflow_allocates_nothing(struct kunit *test)
{
	size_t n = opaque(SIZE_MAX / 16 + 2), size = opaque(16), other = opaque(SIZE_MAX);
	long live = goalloc_objects_in_use();
	long bad = goalloc_counter(GOALLOC_CTR_BAD_FREES);
	int node = numa_node_id();
	u8 *p, *q;
	size_t i;

	KUNIT_ASSERT_EQ(test, n * size, (size_t)16);
	KUNIT_EXPECT_NULL(test, goalloc_alloc_array(n, size, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goalloc_alloc_array(size, n, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goalloc_alloc_array(other, 2, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goalloc_alloc_array_node(n, size, GFP_KERNEL, NUMA_NO_NODE));
	KUNIT_EXPECT_NULL(test, goalloc_alloc_array_node(n, size, GFP_KERNEL, node));
	KUNIT_EXPECT_NULL(test, goalloc_calloc(n, size, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goalloc_calloc(size, n, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, goalloc_calloc_node(n, size, GFP_KERNEL, NUMA_NO_NODE));
	KUNIT_EXPECT_NULL(test, goalloc_calloc_node(n, size, GFP_KERNEL, node));
	KUNIT_EXPECT_NULL(test, goalloc_realloc_array(NULL, n, size, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);

	/* A reallocation that overflows leaves the object as it was. */
	p = goalloc_alloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < 64; i++)
		p[i] = i ^ 0x3c;
	q = goalloc_realloc_array(p, n, size, GFP_KERNEL);
	KUNIT_EXPECT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live + 1);
	KUNIT_EXPECT_EQ(test, goalloc_size(p), (size_t)64);
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ_MSG(test, p[i], (u8)(i ^ 0x3c), "byte %zu", i);
	goalloc_free(p);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
	KUNIT_EXPECT_EQ(test, goalloc_counter(GOALLOC_CTR_BAD_FREES), bad);
}

/* Products that fit: the object is n * size bytes and holds what it is given. */
static void array_variants_allocate(struct kunit *test)
{
	long live = goalloc_objects_in_use();
	u64 *a, *b;
	size_t i;

	a = goalloc_alloc_array(3, 40, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, goalloc_size(a), goalloc_size_roundup(120));
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live + 1);
	for (i = 0; i < 15; i++)
		a[i] = i * 0x0101010101010101ULL;
	b = goalloc_realloc_array(a, 500, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, goalloc_size(b), goalloc_size_roundup(500 * sizeof(*b)));
	for (i = 0; i < 15; i++)
		KUNIT_EXPECT_EQ(test, b[i], i * 0x0101010101010101ULL);
	goalloc_free(b);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);

	/* A zero count or size is a zero-size allocation, as for kmalloc_array(). */
	KUNIT_EXPECT_PTR_EQ(test, goalloc_alloc_array(0, 40, GFP_KERNEL), ZERO_SIZE_PTR);
	KUNIT_EXPECT_PTR_EQ(test, goalloc_calloc(40, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}

static bool all_zero(const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Each zeroing variant on a dirtied slot.  An allocation right after the
 * free of the slot handed out last gets that slot back (the LIFO reuse of
 * Documentation/design.rst, "Freeing"), so the zeroing is tested over
 * memory known to be dirty, and the test checks that it was.
 */
static void zeroing_variants(struct kunit *test)
{
	static const size_t sizes[] = { 8, 37, 100, 1000, 4096, 20000, 40000 };
	long live = goalloc_objects_in_use();
	unsigned int i, v, reused = 0, tried = 0;
	int node = numa_node_id();

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i], whole = goalloc_size_roundup(size);

		for (v = 0; v < 6; v++) {
			u8 *dirty, *p;

			migrate_disable();
			dirty = goalloc_alloc(whole, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, dirty);
			memset(dirty, 0xa5, whole);
			goalloc_free(dirty);
			switch (v) {
			case 0:
				p = goalloc_zalloc(size, GFP_KERNEL);
				break;
			case 1:
				p = goalloc_zalloc_node(size, GFP_KERNEL, NUMA_NO_NODE);
				break;
			case 2:
				p = goalloc_calloc(1, size, GFP_KERNEL);
				break;
			case 3:
				p = goalloc_calloc(size, 1, GFP_KERNEL);
				break;
			case 4:
				p = goalloc_zalloc_node(size, GFP_KERNEL, node);
				break;
			default:
				p = goalloc_calloc_node(size, 1, GFP_KERNEL, node);
				break;
			}
			migrate_enable();
			KUNIT_ASSERT_NOT_NULL(test, p);
			if (v < 4) {
				tried++;
				reused += p == dirty;
			}
			KUNIT_EXPECT_EQ_MSG(test, goalloc_size(p), whole, "size %zu", size);
			KUNIT_EXPECT_TRUE_MSG(test, all_zero(p, whole), "size %zu variant %u",
					      size, v);
			goalloc_free(p);
		}
	}
	/* Most of the NUMA_NO_NODE variants must have met a dirty slot. */
	KUNIT_EXPECT_GT(test, reused * 2, tried);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}

/*
 * goalloc_size_roundup() is what goalloc_size() reports of a real object,
 * at every class boundary and across the large sizes; rounding is
 * idempotent, and 0 and the sizes goalloc refuses come back unchanged.
 */
static void size_roundup_matches_objects(struct kunit *test)
{
	static const size_t large[] = { 32768, 32769, 40000, 65536, 65537, 100000,
					1 << 20, (1 << 20) + 1, GOALLOC_MAX_SIZE - 1,
					GOALLOC_MAX_SIZE };
	long live = goalloc_objects_in_use();
	unsigned int i, k;

	KUNIT_EXPECT_EQ(test, goalloc_size_roundup(0), (size_t)0);
	KUNIT_EXPECT_EQ(test, goalloc_size_roundup(GOALLOC_MAX_SIZE + 1), GOALLOC_MAX_SIZE + 1);
	KUNIT_EXPECT_EQ(test, goalloc_size_roundup(SIZE_MAX), SIZE_MAX);
	for (i = 1; i < GOALLOC_NUM_CLASSES + ARRAY_SIZE(large); i++) {
		for (k = 0; k < 3; k++) {
			size_t size, r;
			void *p;

			if (i < GOALLOC_NUM_CLASSES)
				size = goalloc_class_info[i].size - 1 + k;
			else if (k == 0)
				size = large[i - GOALLOC_NUM_CLASSES];
			else
				break;
			if (!size)
				continue;
			r = goalloc_size_roundup(size);
			KUNIT_EXPECT_GE_MSG(test, r, size, "size %zu", size);
			KUNIT_EXPECT_EQ_MSG(test, goalloc_size_roundup(r), r, "size %zu", size);
			p = goalloc_alloc(size, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL_MSG(test, p, "size %zu", size);
			KUNIT_EXPECT_EQ_MSG(test, goalloc_size(p), r, "size %zu", size);
			goalloc_free(p);
		}
	}
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}

/*
 * __builtin_dynamic_object_size() where the allocation is in sight, as
 * lib/fortify_kunit.c measures kmalloc()'s: each helper is noinline, so
 * what it returns is what the compiler knew inside it.  A size read from a
 * opaque() value is no constant, so only the dynamic builtin can follow it.
 */
#if __has_builtin(__builtin_dynamic_object_size)
#define BDOS_CHECK(name, n, alloc, free)				\
static noinline size_t bdos_##name(size_t n)				\
{									\
	void *p = (alloc);						\
	size_t ret = p ? __builtin_dynamic_object_size(p, 0) : 0;	\
									\
	free;								\
	return ret;							\
}

BDOS_CHECK(alloc, n, goalloc_alloc(n, GFP_KERNEL), goalloc_free(p))
BDOS_CHECK(alloc_node, n, goalloc_alloc_node(n, GFP_KERNEL, NUMA_NO_NODE), goalloc_free(p))
BDOS_CHECK(zalloc, n, goalloc_zalloc(n, GFP_KERNEL), goalloc_free(p))
BDOS_CHECK(zalloc_node, n, goalloc_zalloc_node(n, GFP_KERNEL, numa_node_id()), goalloc_free(p))
/*
 * The array variants with a factor of 1, as lib/fortify_kunit.c checks
 * kmalloc_array() and kcalloc(): where n * size can overflow, the compiler
 * sees the overflow's NULL as well, and with the kernel's
 * -fno-delete-null-pointer-checks it may then know no size (it knew none
 * for n * 3 in the debug kernel's build, but did in UML's), for
 * kmalloc_array() as for these.
 */
BDOS_CHECK(array_n_1, n, goalloc_alloc_array(n, 1, GFP_KERNEL), goalloc_free(p))
BDOS_CHECK(array_1_n, n, goalloc_alloc_array(1, n, GFP_KERNEL), goalloc_free(p))
BDOS_CHECK(array_node, n, goalloc_alloc_array_node(n, 1, GFP_KERNEL, NUMA_NO_NODE),
	   goalloc_free(p))
BDOS_CHECK(calloc, n, goalloc_calloc(1, n, GFP_KERNEL), goalloc_free(p))
BDOS_CHECK(calloc_node, n, goalloc_calloc_node(n, 1, GFP_KERNEL, NUMA_NO_NODE), goalloc_free(p))
BDOS_CHECK(realloc, n, goalloc_realloc(goalloc_alloc(8, GFP_KERNEL), n, GFP_KERNEL),
	   goalloc_free(p))
BDOS_CHECK(realloc_array, n, goalloc_realloc_array(NULL, 1, n, GFP_KERNEL), goalloc_free(p))
/* The control: through a pointer the compiler cannot see past, it knows nothing. */
static __always_inline void *hidden_alloc(size_t n, gfp_t gfp)
{
	void *(*alloc)(size_t, gfp_t) = goalloc_alloc;

	OPTIMIZER_HIDE_VAR(alloc);
	return alloc(n, gfp);
}

BDOS_CHECK(hidden, n, hidden_alloc(n, GFP_KERNEL), goalloc_free(p))

static noinline size_t bdos_arena(size_t n)
{
	struct goalloc_arena *a = goalloc_arena_create(GFP_KERNEL);
	void *p = a ? goalloc_arena_alloc(a, n, GFP_KERNEL) : NULL;
	size_t ret = p ? __builtin_dynamic_object_size(p, 0) : 0;

	goalloc_arena_destroy(a);
	return ret;
}

/* A constant size: even the static __builtin_object_size() sees it. */
static noinline size_t bos_const_37(void)
{
	void *p = goalloc_alloc(37, GFP_KERNEL);
	size_t ret = p ? __builtin_object_size(p, 0) : 0;

	goalloc_free(p);
	return ret;
}

/* What the compiler may assume of the address's low bits. */
static noinline bool alignment_known_hidden(void)
{
	void *p = hidden_alloc(opaque(37), GFP_KERNEL);
	bool known = __builtin_constant_p((unsigned long)p & (GOALLOC_MINALIGN - 1)) &&
		     !((unsigned long)p & (GOALLOC_MINALIGN - 1));

	goalloc_free(p);
	return known;
}

static noinline bool alignment_known_direct(void)
{
	void *p = goalloc_alloc(opaque(37), GFP_KERNEL);
	bool known = __builtin_constant_p((unsigned long)p & (GOALLOC_MINALIGN - 1)) &&
		     !((unsigned long)p & (GOALLOC_MINALIGN - 1));

	goalloc_free(p);
	return known;
}

static void compiler_sees_object_size(struct kunit *test)
{
	size_t n = opaque(37);
	long live = goalloc_objects_in_use();

	KUNIT_EXPECT_EQ(test, bos_const_37(), (size_t)37);
	KUNIT_EXPECT_EQ(test, bdos_alloc(n), n);
	KUNIT_EXPECT_EQ(test, bdos_alloc_node(n), n);
	KUNIT_EXPECT_EQ(test, bdos_zalloc(n), n);
	KUNIT_EXPECT_EQ(test, bdos_zalloc_node(n), n);
	KUNIT_EXPECT_EQ(test, bdos_array_n_1(n), n);
	KUNIT_EXPECT_EQ(test, bdos_array_1_n(n), n);
	KUNIT_EXPECT_EQ(test, bdos_array_node(n), n);
	KUNIT_EXPECT_EQ(test, bdos_calloc(n), n);
	KUNIT_EXPECT_EQ(test, bdos_calloc_node(n), n);
	KUNIT_EXPECT_EQ(test, bdos_realloc(n), n);
	KUNIT_EXPECT_EQ(test, bdos_realloc_array(n), n);
	KUNIT_EXPECT_EQ(test, bdos_arena(n), n);
	KUNIT_EXPECT_EQ(test, bdos_hidden(n), SIZE_MAX);
	/* __assume_aligned(GOALLOC_MINALIGN): the low bits fold to zero. */
	KUNIT_EXPECT_TRUE(test, alignment_known_direct());
	KUNIT_EXPECT_FALSE(test, alignment_known_hidden());
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);
}
#else
static void compiler_sees_object_size(struct kunit *test)
{
	kunit_skip(test, "the compiler has no __builtin_dynamic_object_size()");
}
#endif

#ifdef CONFIG_FORTIFY_SOURCE
/*
 * One object's memcpy() and memset() overflows under FORTIFY_SOURCE: an
 * in-bounds copy passes, a write and a read past the size asked for are
 * each reported once, with the size the compiler knew and the size asked.
 * The accesses go 3 bytes past a 37-byte object, and still happen after
 * the report (attrs_fortify.h), inside the object's slot.  Inlined, so
 * that the allocation stays in sight of the checks.
 */
static __always_inline void fortify_one(struct kunit *test, void *obj, size_t known,
					const char *what)
{
	struct attrs_fortify *f = test->priv;
	size_t over = opaque(known + 3);
	u8 buf[64] = { };

	KUNIT_ASSERT_LT(test, known, over);
	memcpy(obj, buf, known);
	memset(obj, 0x11, known);
	KUNIT_EXPECT_EQ_MSG(test, f->reports, 0, "%s: in bounds", what);

	memcpy(obj, buf, over);
	KUNIT_EXPECT_EQ_MSG(test, f->reports, 1, "%s: memcpy write", what);
	/* Not a write across a struct member: no fortify_warn_once(). */
	KUNIT_EXPECT_EQ_MSG(test, f->warned, 0, "%s: memcpy write", what);
	KUNIT_EXPECT_EQ(test, f->func, (int)FORTIFY_FUNC_memcpy);
	KUNIT_EXPECT_EQ(test, f->write, FORTIFY_WRITE);
	KUNIT_EXPECT_EQ(test, f->avail, known);
	KUNIT_EXPECT_EQ(test, f->size, over);

	memcpy(buf, obj, over);
	KUNIT_EXPECT_EQ_MSG(test, f->reports, 2, "%s: memcpy read", what);
	KUNIT_EXPECT_EQ(test, f->write, FORTIFY_READ);
	KUNIT_EXPECT_EQ(test, f->avail, known);

	memset(obj, 0x22, over);
	KUNIT_EXPECT_EQ_MSG(test, f->reports, 3, "%s: memset", what);
	KUNIT_EXPECT_EQ(test, f->func, (int)FORTIFY_FUNC_memset);
	KUNIT_EXPECT_EQ(test, f->write, FORTIFY_WRITE);
	KUNIT_EXPECT_EQ(test, f->size, over);
	memset(f, 0, sizeof(*f));
}

static void fortify_catches_overflow(struct kunit *test)
{
	size_t n = opaque(37);
	long live = goalloc_objects_in_use();
	void *g, *k;

	/*
	 * goalloc's KASAN poison starts at the size rounded up to KASAN's
	 * 8-byte granule (Documentation/api.rst, "KASAN"): the 3 bytes are
	 * not a KASAN report, only FORTIFY_SOURCE sees them.
	 */
	g = goalloc_alloc(n, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g);
	fortify_one(test, g, n, "goalloc");
	goalloc_free(g);
	KUNIT_EXPECT_EQ(test, goalloc_objects_in_use(), live);

	/*
	 * kmalloc()'s KASAN poison starts at the exact size, so the 3 bytes
	 * would be a KASAN report as well; this thread's KASAN reports are
	 * held back, so that FORTIFY_SOURCE's alone are counted.
	 */
	k = kmalloc(n, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	kasan_disable_current();
	fortify_one(test, k, n, "kmalloc");
	kasan_enable_current();
	kfree(k);
}
#else
static void fortify_catches_overflow(struct kunit *test)
{
	kunit_skip(test,
		   "the kernel has no CONFIG_FORTIFY_SOURCE (UML, KCSAN and RT test kernels)");
}
#endif

static int attrs_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct attrs_fortify), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static struct kunit_case attrs_cases[] = {
	KUNIT_CASE(array_overflow_allocates_nothing),
	KUNIT_CASE(array_variants_allocate),
	KUNIT_CASE(zeroing_variants),
	KUNIT_CASE(size_roundup_matches_objects),
	KUNIT_CASE(compiler_sees_object_size),
	KUNIT_CASE(fortify_catches_overflow),
	{}
};

static struct kunit_suite attrs_suite = {
	.name = "goalloc_attrs",
	.init = attrs_init,
	.test_cases = attrs_cases,
};

kunit_test_suite(attrs_suite);
