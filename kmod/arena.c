// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel arenas (Go's user arenas, GOEXPERIMENT=arenas): memory handed out
 * by bumping a pointer through spans of the heap, and freed all at once by
 * goalloc_arena_reset() or goalloc_arena_destroy().  Objects smaller than
 * 16 bytes share 16-byte blocks, as with Go's tiny allocator: their
 * lifetime ends with the arena, as a tiny object's ends with the GC.
 *
 * An arena is not safe for concurrent use: its caller serialises calls on
 * one arena (different arenas are independent).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kmemleak.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "goalloc.h"
#include "internal.h"
#include "mheap.h"

/* Heap pages per arena span, unless an object needs more. */
#define ARENA_SPAN_PAGES	8
/* Go's maxTinySize. */
#define TINY_SIZE		16

/**
 * struct goalloc_arena - a kernel arena
 * @spans: the arena's spans, newest first
 * @cur: next free byte of the newest span
 * @end: end of the newest span
 * @tiny: the current 16-byte tiny block, or 0
 * @tinyoffset: bytes of @tiny used
 */
struct goalloc_arena {
	struct list_head spans;
	unsigned long cur;
	unsigned long end;
	unsigned long tiny;
	unsigned int tinyoffset;
};

/**
 * goalloc_arena_create() - make an empty arena
 * @gfp: allocation mask for the arena's own structure
 *
 * Return: the arena, or NULL.
 */
struct goalloc_arena *goalloc_arena_create(gfp_t gfp)
{
	struct goalloc_arena *a = kzalloc(sizeof(*a), goalloc_gfp_reclaim(gfp));

	if (a)
		INIT_LIST_HEAD(&a->spans);
	return a;
}
EXPORT_SYMBOL_GPL(goalloc_arena_create);

/* Take @size bytes aligned to @align from the arena, growing it if needed. */
static void *arena_bump(struct goalloc_arena *a, size_t size, size_t align, gfp_t gfp)
{
	unsigned long p = ALIGN(a->cur, align);
	unsigned int npages, alpages;
	struct goalloc_span *s;

	if (a->cur && p + size <= a->end) {
		a->cur = p + size;
		return (void *)p;
	}
	npages = max_t(unsigned int, ARENA_SPAN_PAGES, DIV_ROUND_UP(size, GOALLOC_PAGE_SIZE));
	alpages = align > GOALLOC_PAGE_SIZE ? align / GOALLOC_PAGE_SIZE : 1;
	s = goalloc_heap_alloc_span(0, npages, alpages, NUMA_NO_NODE, GOALLOC_SPAN_ARENA, gfp);
	if (!s)
		return NULL;
	goalloc_count(GOALLOC_CTR_ARENA_PAGES, s->npages);
	list_add(&s->list, &a->spans);
	/* Pointers stored in arena memory keep other objects alive. */
	kmemleak_alloc((void *)s->base, s->elemsize, 1, goalloc_gfp_reclaim(gfp));
	a->cur = s->base + size;
	a->end = s->base + s->elemsize;
	return (void *)s->base;
}

/**
 * goalloc_arena_alloc() - allocate from an arena
 * @a: the arena
 * @size: bytes wanted, up to GOALLOC_MAX_SIZE
 * @gfp: allocation mask; __GFP_ZERO zeroes
 *
 * Objects of 16 bytes or more are 8-byte aligned, and power-of-two sizes
 * naturally aligned.  Smaller objects are packed into 16-byte blocks and
 * aligned as Go aligns tiny objects: by 8, 4 or 2 when their size is a
 * multiple of it.  The memory is freed only with the arena; goalloc_free()
 * refuses it.
 *
 * Return: the object, ZERO_SIZE_PTR for @size 0, or NULL.
 */
void *goalloc_arena_alloc(struct goalloc_arena *a, size_t size, gfp_t gfp)
{
	unsigned long off;
	void *p;

	might_alloc(gfp & ~GOALLOC_NOSCAN);
	if (!size)
		return ZERO_SIZE_PTR;
	if (size > GOALLOC_MAX_SIZE) {
		if (!(gfp & __GFP_NOWARN))
			pr_warn_ratelimited("arena allocation of %zu bytes from %pS: over the maximum\n",
					    size, (void *)_RET_IP_);
		return NULL;
	}
	if (size < TINY_SIZE) {
		off = a->tinyoffset;
		if (!(size & 7))
			off = round_up(off, 8);
		else if (!(size & 3))
			off = round_up(off, 4);
		else if (!(size & 1))
			off = round_up(off, 2);
		if (a->tiny && off + size <= TINY_SIZE) {
			p = (void *)(a->tiny + off);
			a->tinyoffset = off + size;
		} else {
			p = arena_bump(a, TINY_SIZE, TINY_SIZE, gfp);
			if (!p)
				return NULL;
			goalloc_kasan_unpoison(p, TINY_SIZE);
			a->tiny = (unsigned long)p;
			a->tinyoffset = size;
		}
	} else {
		size_t align = is_power_of_2(size) ? size : 8;

		p = arena_bump(a, size, align, gfp);
		if (!p)
			return NULL;
		goalloc_kasan_unpoison(p, size);
	}
	if (gfp & __GFP_ZERO)
		memset(p, 0, size);
	return p;
}
EXPORT_SYMBOL_GPL(goalloc_arena_alloc);

/**
 * goalloc_arena_reset() - free everything allocated from an arena
 * @a: the arena, which stays usable
 *
 * Every object of the arena dies at once; its spans go back to the heap.
 */
void goalloc_arena_reset(struct goalloc_arena *a)
{
	struct goalloc_span *s, *tmp;

	list_for_each_entry_safe(s, tmp, &a->spans, list) {
		list_del_init(&s->list);
		kmemleak_free((void *)s->base);
		goalloc_span_kill(s);
		goalloc_count(GOALLOC_CTR_ARENA_PAGES, -(long)s->npages);
		goalloc_heap_free_span(s);
	}
	a->cur = 0;
	a->end = 0;
	a->tiny = 0;
	a->tinyoffset = 0;
}
EXPORT_SYMBOL_GPL(goalloc_arena_reset);

/**
 * goalloc_arena_destroy() - free an arena and everything in it
 * @a: the arena, or NULL
 */
void goalloc_arena_destroy(struct goalloc_arena *a)
{
	if (!a)
		return;
	goalloc_arena_reset(a);
	kfree(a);
}
EXPORT_SYMBOL_GPL(goalloc_arena_destroy);
