/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc_slab.h: serve an unmodified module's slab calls from goalloc.
 *
 * Brought into every file of a module's build with "-include", before the
 * file's own first line (Documentation/routing.rst), where GOALLOC_SLAB_H
 * names this file:
 *
 *	ccflags-y += -I$(GOALLOC)/kmod -include $(GOALLOC_SLAB_H)
 *
 * It includes <linux/slab.h> (and the few headers whose inline functions
 * take a slab cache) first, then redefines the calls a module makes:
 *
 *  - the kmalloc family (kmalloc, kzalloc, kcalloc, kmalloc_array, their
 *    _node variants, krealloc, krealloc_array, the _track_caller forms,
 *    kmalloc_size_roundup) allocates from goalloc;
 *  - the kmem_cache family (kmem_cache_create in both of 6.12's forms,
 *    KMEM_CACHE, KMEM_CACHE_USERCOPY, kmem_cache_create_usercopy,
 *    alloc, zalloc, _node, _lru, bulk, free, destroy, size, shrink) makes
 *    and uses goalloc's named caches.  "struct kmem_cache" is renamed
 *    "struct goalloc_cache" for the module: a goalloc cache handle is not
 *    a SLUB cache, and a call that hands one to a core function declared
 *    in <linux/slab.h>, <linux/fs.h> or <linux/mempool.h> is a type error;
 *    slab-backed mempools are served here;
 *  - the frees (kfree, kfree_const, kfree_sensitive, ksize, kvfree,
 *    kvfree_sensitive, kvrealloc, kfree_rcu, kvfree_rcu,
 *    kfree_rcu_mightsleep, the __free(kfree) and __free(kvfree) cleanups,
 *    kfree_link) ask goalloc_owns() whose the pointer is: goalloc's
 *    objects go back to goalloc, anything else (what core code such as
 *    kstrdup(), kmemdup() or kasprintf() allocated for the module from
 *    SLUB, kvmalloc()'s memory) to the kernel's own call.
 *
 * kvmalloc() and friends, devm_kmalloc() and the page allocator are left to
 * the kernel.  What cannot be routed is memory the module allocates and core
 * code frees with kfree(): Documentation/routing.rst says how to find it.
 */
#ifndef _GOALLOC_SLAB_H
#define _GOALLOC_SLAB_H

#include <linux/fs.h>
#include <linux/mempool.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "goalloc.h"

/*
 * The frees.  Each is __always_inline over the kernel's own call, which
 * these bodies name before the #defines below take the names over.
 */
static __always_inline void goalloc_slab_kfree(const void *p)
{
	if (goalloc_owns(p))
		goalloc_free(p);
	else
		kfree(p);
}

/* kfree_const(): kstrdup_const()'s rodata strings stay the kernel's. */
static __always_inline void goalloc_slab_kfree_const(const void *p)
{
	if (goalloc_owns(p))
		goalloc_free(p);
	else
		kfree_const(p);
}

static __always_inline void goalloc_slab_kfree_sensitive(const void *p)
{
	if (goalloc_owns(p)) {
		memzero_explicit((void *)p, goalloc_size(p));
		goalloc_free(p);
	} else {
		kfree_sensitive(p);
	}
}

static __always_inline size_t goalloc_slab_ksize(const void *p)
{
	return goalloc_owns(p) ? goalloc_size(p) : ksize(p);
}

static __always_inline void goalloc_slab_kvfree(const void *p)
{
	if (goalloc_owns(p))
		goalloc_free(p);
	else
		kvfree(p);
}

static __always_inline void goalloc_slab_kvfree_sensitive(const void *p, size_t len)
{
	if (goalloc_owns(p)) {
		memzero_explicit((void *)p, len);
		goalloc_free(p);
	} else {
		kvfree_sensitive(p, len);
	}
}

/* A SLUB object stays SLUB's: the kernel's krealloc() moves it. */
static __always_inline __realloc_size(2) void * __must_check
goalloc_slab_krealloc(const void *p, size_t size, gfp_t gfp)
{
	if (ZERO_OR_NULL_PTR(p) || goalloc_owns(p))
		return goalloc_realloc(p, size, gfp);
	return krealloc(p, size, gfp);
}

static __always_inline __realloc_size(2, 3) void * __must_check
goalloc_slab_krealloc_array(const void *p, size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return goalloc_slab_krealloc(p, bytes, gfp);
}

/*
 * kvrealloc() of a goalloc object: goalloc's realloc up to its largest
 * object, the kernel's kvmalloc() beyond it.  Anything else is the kernel's.
 */
static inline void * __must_check goalloc_slab_kvrealloc(const void *p, size_t size, gfp_t gfp)
{
	void *n;

	if (!goalloc_owns(p))
		return kvrealloc(p, size, gfp);
	if (size <= GOALLOC_MAX_SIZE)
		return goalloc_realloc(p, size, gfp);
	n = kvmalloc(size, gfp);
	if (n) {
		memcpy(n, p, goalloc_size(p));
		goalloc_free(p);
	}
	return n;
}

/* kfree_rcu_mightsleep(): goalloc's objects wait for a grace period here. */
static inline void goalloc_slab_kvfree_rcu_mightsleep(const void *p)
{
	if (goalloc_owns(p)) {
		synchronize_rcu();
		goalloc_free(p);
	} else {
		kvfree_rcu_arg_1(p);
	}
}

/* What kfree_rcu() does with an object and the rcu_head inside it. */
static inline void goalloc_slab_kfree_rcu_head(struct rcu_head *head, const void *p)
{
	if (goalloc_owns(p))
		goalloc_free_rcu_head(head, p);
	else
		kvfree_call_rcu(head, (void *)p);
}

/* kfree_link(), a delayed_call of ->get_link(): the module's kfree(). */
static inline void goalloc_slab_kfree_link(void *p)
{
	goalloc_slab_kfree(p);
}

/* The __free(kfree) and __free(kvfree) cleanups (<linux/cleanup.h>). */
static inline void goalloc_slab_free_kfree(void *pp)
{
	void *p = *(void **)pp;

	if (!IS_ERR_OR_NULL(p))
		goalloc_slab_kfree(p);
}

static inline void goalloc_slab_free_kvfree(void *pp)
{
	void *p = *(void **)pp;

	if (!IS_ERR_OR_NULL(p))
		goalloc_slab_kvfree(p);
}

/* The kmem_cache family, over goalloc's named caches. */
static inline struct goalloc_cache *
goalloc_slab_create_args(const char *name, unsigned int size, struct kmem_cache_args *args,
			 slab_flags_t flags)
{
	struct goalloc_cache_args ga = {};

	/*
	 * freeptr_offset has no use: goalloc never writes into a free
	 * object (its free slots are bits of the span, as in Go).
	 */
	if (args) {
		ga.align = args->align;
		ga.useroffset = args->useroffset;
		ga.usersize = args->usersize;
		ga.ctor = args->ctor;
	}
	return goalloc_cache_create_args(name, size, &ga, flags);
}

/* kmem_cache_create(name, size, NULL, flags): 6.12's form with no args. */
static inline struct goalloc_cache *
goalloc_slab_create_default(const char *name, unsigned int size, void *args, slab_flags_t flags)
{
	/* SLUB warns and fails on anything but NULL here; this fails. */
	if (args)
		return NULL;
	return goalloc_cache_create(name, size, 0, flags, NULL);
}

static inline struct goalloc_cache *
goalloc_slab_create_usercopy(const char *name, unsigned int size, unsigned int align,
			     slab_flags_t flags, unsigned int useroffset, unsigned int usersize,
			     void (*ctor)(void *))
{
	struct goalloc_cache_args ga = {
		.align = align,
		.useroffset = useroffset,
		.usersize = usersize,
		.ctor = ctor,
	};

	return goalloc_cache_create_args(name, size, &ga, flags);
}

/* goalloc keeps no per-cache free lists to shrink: its heap trims itself. */
static inline int goalloc_slab_cache_shrink(struct goalloc_cache *cache)
{
	return 0;
}

/*
 * kmem_cache_alloc_lru(), which <linux/fs.h>'s alloc_inode_sb() expands to:
 * the list_lru is there for memory cgroups, which goalloc does not charge.
 */
static __always_inline void *goalloc_slab_alloc_lru(struct goalloc_cache *cache,
						    struct list_lru *lru, gfp_t gfp)
{
	return goalloc_cache_alloc(cache, gfp);
}

/* Slab-backed mempools (mempool_create_slab_pool() and _init_): goalloc's. */
static inline void *goalloc_slab_mempool_alloc(gfp_t gfp, void *cache)
{
	return goalloc_cache_alloc(cache, gfp);
}

static inline void goalloc_slab_mempool_free(void *p, void *cache)
{
	goalloc_cache_free(cache, p);
}

/* From here on the module's calls are goalloc's. */
#define kmem_cache			goalloc_cache

#undef kmalloc
#define kmalloc(size, gfp)		goalloc_alloc(size, gfp)
#undef kzalloc
#define kzalloc(size, gfp)		goalloc_zalloc(size, gfp)
#undef kmalloc_node
#define kmalloc_node(size, gfp, node)	goalloc_alloc_node(size, gfp, node)
#undef kzalloc_node
#define kzalloc_node(size, gfp, node)	goalloc_zalloc_node(size, gfp, node)
#undef kmalloc_array
#define kmalloc_array(n, size, gfp)	goalloc_alloc_array(n, size, gfp)
#undef kmalloc_array_node
#define kmalloc_array_node(n, size, gfp, node) goalloc_alloc_array_node(n, size, gfp, node)
#undef kcalloc
#define kcalloc(n, size, gfp)		goalloc_calloc(n, size, gfp)
#undef kcalloc_node
#define kcalloc_node(n, size, gfp, node) goalloc_calloc_node(n, size, gfp, node)
#undef kmalloc_track_caller
#define kmalloc_track_caller(size, gfp)	goalloc_alloc(size, gfp)
#undef kmalloc_node_track_caller
#define kmalloc_node_track_caller(size, gfp, node) goalloc_alloc_node(size, gfp, node)
#undef krealloc
#define krealloc(p, size, gfp)		goalloc_slab_krealloc(p, size, gfp)
#undef krealloc_array
#define krealloc_array(p, n, size, gfp)	goalloc_slab_krealloc_array(p, n, size, gfp)
#define kmalloc_size_roundup		goalloc_size_roundup

#define kfree				goalloc_slab_kfree
#define kfree_sensitive			goalloc_slab_kfree_sensitive
#define kfree_const			goalloc_slab_kfree_const
#define ksize				goalloc_slab_ksize
#define kvfree				goalloc_slab_kvfree
#define kvfree_sensitive		goalloc_slab_kvfree_sensitive
#undef kvrealloc
#define kvrealloc(p, size, gfp)		goalloc_slab_kvrealloc(p, size, gfp)
#define kfree_link			goalloc_slab_kfree_link
/* __free(kfree) pastes __free_ and kfree, and the result is rescanned. */
#define __free_kfree			goalloc_slab_free_kfree
#define __free_kvfree			goalloc_slab_free_kvfree

/*
 * kfree_rcu(ptr, field): goalloc_free_rcu() for goalloc's objects (the
 * rcu_head inside them carries the batch), the kernel's for the rest.
 */
#define goalloc_slab_kfree_rcu(ptr, rhf)				\
do {									\
	typeof(ptr) ___ga_p = (ptr);					\
									\
	/* (*p).f, not p->f: checkpatch would have "(field)" there. */	\
	if (___ga_p)							\
		goalloc_slab_kfree_rcu_head(&(*___ga_p).rhf, ___ga_p);	\
} while (0)
#undef kfree_rcu
#define kfree_rcu(ptr, rhf)		goalloc_slab_kfree_rcu(ptr, rhf)
#undef kvfree_rcu
#define kvfree_rcu(ptr, rhf)		goalloc_slab_kfree_rcu(ptr, rhf)
#undef kfree_rcu_mightsleep
#define kfree_rcu_mightsleep(ptr)	goalloc_slab_kvfree_rcu_mightsleep(ptr)
#undef kvfree_rcu_mightsleep
#define kvfree_rcu_mightsleep(ptr)	goalloc_slab_kvfree_rcu_mightsleep(ptr)

/*
 * 6.12's kmem_cache_create() picks one of three calls by the type of its
 * third argument (_Generic): the args form, NULL args, or the legacy
 * align/flags/ctor form.  Its expansion is rescanned, so these take them
 * over; KMEM_CACHE() and KMEM_CACHE_USERCOPY() expand to the first.
 */
#define __kmem_cache_create_args	goalloc_slab_create_args
#define __kmem_cache_default_args	goalloc_slab_create_default
#define __kmem_cache_create		goalloc_cache_create
#define kmem_cache_create_usercopy	goalloc_slab_create_usercopy
#undef kmem_cache_alloc
#define kmem_cache_alloc(cache, gfp)	goalloc_cache_alloc(cache, gfp)
#undef kmem_cache_alloc_node
#define kmem_cache_alloc_node(cache, gfp, node) goalloc_cache_alloc_node(cache, gfp, node)
#undef kmem_cache_alloc_lru
#define kmem_cache_alloc_lru		goalloc_slab_alloc_lru
#undef kmem_cache_alloc_bulk
#define kmem_cache_alloc_bulk(cache, gfp, n, p) goalloc_cache_alloc_bulk(cache, gfp, n, p)
#define kmem_cache_free_bulk		goalloc_cache_free_bulk
#define kmem_cache_free			goalloc_cache_free
#define kmem_cache_destroy		goalloc_cache_destroy
#define kmem_cache_size			goalloc_cache_size
#define kmem_cache_shrink		goalloc_slab_cache_shrink
#define mempool_alloc_slab		goalloc_slab_mempool_alloc
#define mempool_free_slab		goalloc_slab_mempool_free

#endif /* _GOALLOC_SLAB_H */
