/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc: Go's runtime memory allocator as a kernel module.
 *
 * The interface other kernel modules use.  See Documentation/api.rst.
 */
#ifndef _LINUX_GOALLOC_H
#define _LINUX_GOALLOC_H

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/types.h>

#define GOALLOC_VERSION "0.2"

/**
 * GOALLOC_NOSCAN - allocation flag: the object holds no pointers
 *
 * ORed into the gfp mask of goalloc_alloc() and friends.  The object comes
 * from a noscan span class (Go's noscan spans) and kmemleak does not scan it
 * for references.  A bit above every gfp flag the kernel defines; goalloc
 * removes it before any mask reaches the page allocator.
 */
#define GOALLOC_NOSCAN	((__force gfp_t)BIT(31))
static_assert(__GFP_BITS_SHIFT < 31);

/* The largest object goalloc_alloc() serves: 4 MiB, one buddy block. */
#define GOALLOC_MAX_SIZE	(4UL << 20)

/*
 * The alignment every object of goalloc_alloc() and friends has at least:
 * the smallest size class is 8 bytes and every class is a multiple of 8
 * (Documentation/api.rst, "Alignment").  ARCH_KMALLOC_MINALIGN on x86.
 */
#define GOALLOC_MINALIGN	8

/*
 * What the compiler may assume of goalloc_alloc()'s result, as
 * include/linux/slab.h tells it of kmalloc()'s: __alloc_size() gives
 * __builtin_dynamic_object_size(), and so FORTIFY_SOURCE and
 * UBSAN_BOUNDS, the object's size (the size asked for, not the usable
 * size: see goalloc_size()); __malloc says the memory aliases nothing
 * (__alloc_size() implies it); __realloc_size() is __alloc_size() without
 * __malloc, since a reallocation may return its argument.
 */
#define __goalloc_assume_alignment	__assume_aligned(GOALLOC_MINALIGN)

/*
 * The wrappers below are __always_inline: GCC drops an inline function's
 * alloc_size when it inlines it, and when it clones it with a constant
 * argument, so a size is known through the exported call's attribute,
 * which only inlining reaches for sure.
 */

const char *goalloc_version(void);

void *goalloc_alloc(size_t size, gfp_t gfp) __goalloc_assume_alignment __alloc_size(1);
void *goalloc_alloc_node(size_t size, gfp_t gfp, int node)
	__goalloc_assume_alignment __alloc_size(1);
void goalloc_free(const void *p);
bool goalloc_owns(const void *p);
size_t goalloc_size(const void *p);
size_t goalloc_size_roundup(size_t size);
void * __must_check goalloc_realloc(const void *p, size_t size, gfp_t gfp) __realloc_size(2);
int goalloc_alloc_bulk(size_t size, gfp_t gfp, size_t n, void **ptrs);
void goalloc_free_bulk(size_t n, void **ptrs);

void goalloc_free_rcu_head(struct rcu_head *head, const void *ptr);
void goalloc_rcu_barrier(void);

/**
 * goalloc_free_rcu() - free an object after an RCU grace period
 * @ptr: the object, from goalloc_alloc() and friends, or NULL
 * @field: the name of the struct rcu_head member inside *@ptr
 *
 * As kfree_rcu(): @ptr is freed once every RCU read-side critical section
 * that began before the call has ended, and readers may use it until
 * then.  Any context but NMI; never sleeps.  Objects are batched per CPU,
 * one call_rcu() per batch; goalloc_rcu_barrier() waits for all of them.
 * See goalloc_free_rcu_head() for what is refused.
 */
#define goalloc_free_rcu(ptr, field)					\
do {									\
	typeof(ptr) ___gp = (ptr);					\
									\
	/* (*p).f, not p->f: checkpatch would have "(field)" there. */	\
	if (___gp)							\
		goalloc_free_rcu_head(&(*___gp).field, ___gp);		\
} while (0)

/**
 * goalloc_zalloc() - allocate zeroed memory (as kzalloc())
 * @size: bytes wanted
 * @gfp: allocation mask, as for goalloc_alloc()
 *
 * goalloc_alloc() with __GFP_ZERO: the whole usable size reads as zero.
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
static __always_inline __alloc_size(1) void *goalloc_zalloc(size_t size, gfp_t gfp)
{
	return goalloc_alloc(size, gfp | __GFP_ZERO);
}

/**
 * goalloc_zalloc_node() - allocate zeroed memory on a node (as kzalloc_node())
 * @size: bytes wanted
 * @gfp: allocation mask, as for goalloc_alloc()
 * @node: the node, or NUMA_NO_NODE
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
static __always_inline __alloc_size(1) void *goalloc_zalloc_node(size_t size, gfp_t gfp, int node)
{
	return goalloc_alloc_node(size, gfp | __GFP_ZERO, node);
}

/**
 * goalloc_alloc_array() - allocate an array (as kmalloc_array())
 * @n: number of elements
 * @size: bytes per element
 * @gfp: allocation mask, as for goalloc_alloc()
 *
 * If @n * @size overflows a size_t, nothing is allocated and nothing is
 * logged.
 *
 * Return: the array, ZERO_SIZE_PTR if @n or @size is 0, or NULL.
 */
static __always_inline __alloc_size(1, 2) void *goalloc_alloc_array(size_t n, size_t size,
								    gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return goalloc_alloc(bytes, gfp);
}

/**
 * goalloc_alloc_array_node() - allocate an array on a node (as kmalloc_array_node())
 * @n: number of elements
 * @size: bytes per element
 * @gfp: allocation mask, as for goalloc_alloc()
 * @node: the node, or NUMA_NO_NODE
 *
 * Return: the array, ZERO_SIZE_PTR if @n or @size is 0, or NULL (also
 * when @n * @size overflows).
 */
static __always_inline __alloc_size(1, 2) void *goalloc_alloc_array_node(size_t n, size_t size,
									 gfp_t gfp, int node)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return goalloc_alloc_node(bytes, gfp, node);
}

/**
 * goalloc_calloc() - allocate a zeroed array (as kcalloc())
 * @n: number of elements
 * @size: bytes per element
 * @gfp: allocation mask, as for goalloc_alloc()
 *
 * Return: the array, ZERO_SIZE_PTR if @n or @size is 0, or NULL (also
 * when @n * @size overflows).
 */
static __always_inline __alloc_size(1, 2) void *goalloc_calloc(size_t n, size_t size, gfp_t gfp)
{
	return goalloc_alloc_array(n, size, gfp | __GFP_ZERO);
}

/**
 * goalloc_calloc_node() - allocate a zeroed array on a node (as kcalloc_node())
 * @n: number of elements
 * @size: bytes per element
 * @gfp: allocation mask, as for goalloc_alloc()
 * @node: the node, or NUMA_NO_NODE
 *
 * Return: the array, ZERO_SIZE_PTR if @n or @size is 0, or NULL (also
 * when @n * @size overflows).
 */
static __always_inline __alloc_size(1, 2) void *goalloc_calloc_node(size_t n, size_t size,
								    gfp_t gfp, int node)
{
	return goalloc_alloc_array_node(n, size, gfp | __GFP_ZERO, node);
}

/**
 * goalloc_realloc_array() - resize an array (as krealloc_array())
 * @p: the array, or NULL
 * @new_n: new number of elements
 * @new_size: bytes per element
 * @gfp: allocation mask, as for goalloc_realloc()
 *
 * goalloc_realloc() to @new_n * @new_size bytes.  If that overflows, NULL
 * is returned and @p is untouched and still valid.
 *
 * Return: the array, or NULL (and @p still valid).
 */
static __always_inline __realloc_size(2, 3) void * __must_check
goalloc_realloc_array(const void *p, size_t new_n, size_t new_size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(new_n, new_size, &bytes)))
		return NULL;
	return goalloc_realloc(p, bytes, gfp);
}

struct goalloc_arena;

struct goalloc_arena *goalloc_arena_create(gfp_t gfp);
/* Arena objects may be less than 8-byte aligned (tiny blocks): no assumption. */
void *goalloc_arena_alloc(struct goalloc_arena *a, size_t size, gfp_t gfp) __alloc_size(2);
void goalloc_arena_reset(struct goalloc_arena *a);
void goalloc_arena_destroy(struct goalloc_arena *a);

/*
 * Named caches (goalloc's kmem_cache): Documentation/api.rst, "Named caches".
 * The SLAB_* flags are <linux/slab.h>'s.
 */
struct goalloc_cache;

/**
 * struct goalloc_cache_args - what a named cache may have besides its size
 *	(as 6.12's struct kmem_cache_args)
 * @align: alignment of every object, a power of two, or 0 for the word
 * @useroffset: start of the region copied to and from userspace
 * @usersize: its length, 0 for none (stored; see Documentation/api.rst for
 *	what hardened usercopy can check of goalloc objects)
 * @ctor: run on each object once, when its span is set up; objects are
 *	handed out constructed and must be freed constructed
 */
struct goalloc_cache_args {
	unsigned int align;
	unsigned int useroffset;
	unsigned int usersize;
	void (*ctor)(void *obj);
};

struct goalloc_cache *goalloc_cache_create_args(const char *name, unsigned int object_size,
						const struct goalloc_cache_args *args,
						slab_flags_t flags);
struct goalloc_cache *goalloc_cache_create(const char *name, unsigned int object_size,
					   unsigned int align, slab_flags_t flags,
					   void (*ctor)(void *obj));
/* As kmem_cache_alloc(): a new object, at least pointer-aligned (cache.c). */
void *goalloc_cache_alloc(struct goalloc_cache *cache, gfp_t gfp)
	__goalloc_assume_alignment __malloc;
void *goalloc_cache_alloc_node(struct goalloc_cache *cache, gfp_t gfp, int node)
	__goalloc_assume_alignment __malloc;
void goalloc_cache_free(struct goalloc_cache *cache, void *p);
int goalloc_cache_alloc_bulk(struct goalloc_cache *cache, gfp_t gfp, size_t n, void **ptrs);
void goalloc_cache_free_bulk(struct goalloc_cache *cache, size_t n, void **ptrs);
unsigned int goalloc_cache_size(struct goalloc_cache *cache);
void goalloc_cache_destroy(struct goalloc_cache *cache);

#endif /* _LINUX_GOALLOC_H */
