/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Size classes: Go's table of object sizes (8 B .. 32 KiB over 8 KiB heap
 * pages), generated into sizeclasses.c by tools/mksizeclasses.py.
 *
 * A request of n bytes is served from the smallest class whose size is >= n.
 * Two byte tables make the lookup constant-time: one in 8-byte steps up to
 * GOALLOC_FINE_MAX, one in 128-byte steps above it.  An object's index in
 * its span is (offset * div_mul) >> 32, which equals offset / size for every
 * offset inside a span (proved by the generator and by KUnit), so no division
 * is done on the free path.
 */
#ifndef _GOALLOC_SIZECLASSES_H
#define _GOALLOC_SIZECLASSES_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/log2.h>
#include <linux/math.h>

#define GOALLOC_PAGE_SHIFT	13
#define GOALLOC_PAGE_SIZE	BIT(GOALLOC_PAGE_SHIFT)
/* The largest size class: larger objects get a span of their own. */
#define GOALLOC_MAX_CLASS_SIZE	32768
#define GOALLOC_NUM_CLASSES	68
/*
 * Rule 6 (Documentation/sizeclasses.rst): a class's big shape holds at
 * least GOALLOC_BIG_OBJS objects, GOALLOC_BIG_SMALL_OBJS for objects up to
 * GOALLOC_BIG_SMALL_SIZE bytes (or as many as GOALLOC_BIG_MAX_PAGES pages
 * hold, the most a big span has, which the per-CPU page cache serves):
 * goalloc_big_objs().  tools/mksizeclasses.py's BIG_OBJS, BIG_SMALL_SIZE,
 * BIG_SMALL_OBJS and BIG_MAX_PAGES; sizeclasses.c asserts they agree.
 */
#define GOALLOC_BIG_OBJS	32
#define GOALLOC_BIG_SMALL_SIZE	256
#define GOALLOC_BIG_SMALL_OBJS	256
#define GOALLOC_BIG_MAX_PAGES	20
/*
 * Rule 8 (Documentation/sizeclasses.rst): a bulk allocation that must grow
 * a span of a class of up to GOALLOC_BULK_SHAPE_MAX_SIZE bytes grows one
 * holding the call's objects, up to GOALLOC_BULK_SHAPE_OBJS of them and
 * GOALLOC_BIG_MAX_PAGES pages (goalloc_mcache_bulk_shape()).  Above
 * 2 KiB a big shape holds 32 objects in up to 20 pages already, and a
 * bulk span would hold few more (40 at 4 KiB) for a span's life cycle per
 * call (make bench: 128 a call of 4 KiB, 73 -> 106 instructions an
 * object with the limit at 16 KiB).  div_mul is
 * exact over such a span without a check of its own: with size * div_mul
 * = 2^32 + e (0 <= e < size), offset * div_mul >> 32 is offset / size
 * whenever offset * e < 2^32, which offset * size < 2^32 ensures.
 */
#define GOALLOC_BULK_SHAPE_OBJS		256
#define GOALLOC_BULK_SHAPE_MAX_SIZE	2048
static_assert((u64)GOALLOC_BIG_MAX_PAGES * GOALLOC_PAGE_SIZE * GOALLOC_BULK_SHAPE_MAX_SIZE <
	      (1ULL << 32));

/*
 * Rule 7 (Documentation/sizeclasses.rst): classes from this size have a
 * small shape, fewer heap pages than their own (tools/mksizeclasses.py's
 * SMALL_MIN_SIZE; sizeclasses.c asserts they agree).  Below it a class's
 * own shape is one heap page already.
 */
#define GOALLOC_SMALL_MIN_SIZE	1024

/* The last size the fine table (GOALLOC_SMALL_DIV steps) serves. */
#define GOALLOC_FINE_MAX	(1024 - 8)
#define GOALLOC_SMALL_DIV	8
#define GOALLOC_LARGE_DIV	128

/**
 * struct goalloc_class_info - the fixed shape of one size class
 * @size: bytes per object
 * @npages: heap pages (GOALLOC_PAGE_SIZE) per span
 * @nelems: objects per span
 * @big_npages: heap pages of the class's big span (32 objects, 256 up to
 *	256 bytes, or as many as the per-CPU page cache's largest run holds;
 *	@npages for classes whose spans hold that many already), made for a
 *	CPU that keeps growing spans of the class
 *	(tools/mksizeclasses.py rule 6, goalloc_mcache_grow_pages())
 * @small_npages: heap pages of the class's small span (one to seven
 *	objects, from GOALLOC_SMALL_MIN_SIZE up; @npages for the others and
 *	named caches' classes), grown by a CPU holding fewer objects of the
 *	class than a span of its own shape holds (rule 7)
 * @div_mul: multiplier turning an offset in the span into an object index,
 *	exact over every shape of the class
 */
struct goalloc_class_info {
	u32 size;
	u16 npages;
	u16 nelems;
	u16 big_npages;
	u16 small_npages;
	u32 div_mul;
};

extern const struct goalloc_class_info goalloc_class_info[GOALLOC_NUM_CLASSES];
extern const u8 goalloc_size_to_class8[(GOALLOC_FINE_MAX + GOALLOC_SMALL_DIV - 1) /
				       GOALLOC_SMALL_DIV + 1];
extern const u8 goalloc_size_to_class128[(GOALLOC_MAX_CLASS_SIZE - 1024) /
					 GOALLOC_LARGE_DIV + 1];

/**
 * goalloc_size_class() - the size class serving a request
 * @size: requested bytes, 1 .. GOALLOC_MAX_CLASS_SIZE
 *
 * Return: the class index (1 .. GOALLOC_NUM_CLASSES - 1).
 */
static __always_inline unsigned int goalloc_size_class(size_t size)
{
	if (size <= GOALLOC_FINE_MAX)
		return goalloc_size_to_class8[DIV_ROUND_UP(size, GOALLOC_SMALL_DIV)];
	return goalloc_size_to_class128[DIV_ROUND_UP(size - 1024, GOALLOC_LARGE_DIV)];
}

/*
 * goalloc_size_class()'s two tables as one: the scan span class of every
 * request size in GOALLOC_SMALL_DIV steps (4 KiB).  Every class size is a
 * multiple of GOALLOC_SMALL_DIV (tools/mksizeclasses.py checks), so one step
 * never spans two classes; the fast path looks a request up with no branch.
 */
extern const u8 goalloc_size_to_spc8[GOALLOC_MAX_CLASS_SIZE / GOALLOC_SMALL_DIV + 1];

/**
 * goalloc_size_spc() - the scan span class serving a request
 * @size: requested bytes, 1 .. GOALLOC_MAX_CLASS_SIZE
 *
 * Return: goalloc_spc(goalloc_size_class(@size), false), by one load.
 */
static __always_inline unsigned int goalloc_size_spc(size_t size)
{
	return goalloc_size_to_spc8[DIV_ROUND_UP(size, GOALLOC_SMALL_DIV)];
}

/**
 * goalloc_div_index() - offset / size by a class's multiplier
 * @div_mul: the class's div_mul (a span keeps a copy)
 * @offset: byte offset from the span's start (inside the span)
 *
 * Go's divMagic: exact for every offset inside a span of the class
 * (kunit/sizeclasses_test.c checks them all).
 *
 * Return: the index of the slot @offset falls in.
 */
static __always_inline unsigned int goalloc_div_index(u32 div_mul, u32 offset)
{
	return (u32)(((u64)offset * div_mul) >> 32);
}

/**
 * goalloc_div_slot() - the slot at an offset, and whether it starts there
 * @div_mul: the class's div_mul, for which goalloc_div_index() is exact
 *	(below 2^32; a long, as the span keeps it)
 * @offset: byte offset from the span's start, inside the span's slots
 *	(below 4 GiB: a caller's offset past its bound test needs no
 *	truncation to 32 bits, which would cost an instruction)
 * @idxp: set to goalloc_div_index(@div_mul, @offset)
 *
 * One multiply for both: with size * div_mul = 2^32 + e (0 <= e < size)
 * and offset = q * size + r, the product is q * 2^32 + q * e + r * div_mul.
 * goalloc_div_index() being exact up to the last byte of every slot means
 * q * e + (size - 1) * div_mul < 2^32, so the low 32 bits are q * e <
 * div_mul when r is 0, and at least div_mul otherwise (KUnit checks every
 * offset of every class: sizeclasses_test.c).
 *
 * Return: true iff @offset is a multiple of the size.
 */
static __always_inline bool goalloc_div_slot(unsigned long div_mul, unsigned long offset,
					     unsigned int *idxp)
{
	u64 prod = offset * div_mul;

	*idxp = prod >> 32;
	return (u32)prod < (u32)div_mul;
}

/* Rule 6: the objects a big shape of @size-byte objects holds at least. */
static inline unsigned int goalloc_big_objs(unsigned int size)
{
	return size <= GOALLOC_BIG_SMALL_SIZE ? GOALLOC_BIG_SMALL_OBJS : GOALLOC_BIG_OBJS;
}

/**
 * goalloc_obj_index() - index of the object at an offset in its span
 * @cls: size class of the span
 * @offset: byte offset from the span's start (inside the span)
 *
 * Return: offset / size, by multiply-shift.
 */
static __always_inline unsigned int goalloc_obj_index(unsigned int cls, u32 offset)
{
	return goalloc_div_index(goalloc_class_info[cls].div_mul, offset);
}

/*
 * Span classes (Go's spanClass): each size class has a scan and a noscan
 * span class, spc = size class * 2 + noscan.  Spell them with these only.
 */

/**
 * goalloc_spc() - the span class of a size class
 * @cls: size class, 0 for a large object
 * @noscan: the noscan span class (objects kmemleak does not scan)
 *
 * Return: the span class.
 */
static __always_inline unsigned int goalloc_spc(unsigned int cls, bool noscan)
{
	return cls << 1 | (noscan ? 1 : 0);
}

/**
 * goalloc_spc_class() - the size class of a span class of goalloc_alloc()
 * @spc: span class, below GOALLOC_NUM_KMALLOC_SPC (a named cache's:
 *	goalloc_spc_to_class())
 *
 * Return: the size class.
 */
static __always_inline unsigned int goalloc_spc_class(unsigned int spc)
{
	return spc >> 1;
}

/**
 * goalloc_class_align() - the alignment of a new span of a size class
 * @cls: size class, 1 .. GOALLOC_NUM_CLASSES - 1
 *
 * Objects whose size is a power of two above a heap page are naturally
 * aligned: their spans are aligned to the size.
 *
 * Return: the alignment in heap pages (a power of two, 1 for none).
 */
static __always_inline unsigned int goalloc_class_align(unsigned int cls)
{
	unsigned int size = goalloc_class_info[cls].size;

	return is_power_of_2(size) && size > GOALLOC_PAGE_SIZE ? size / GOALLOC_PAGE_SIZE : 1;
}

/*
 * Named caches (kmod/cache.c, goalloc_cache_create()): each has a size
 * class of its own above Go's, GOALLOC_NUM_CLASSES + slot, with a span class
 * of its own (goalloc_cache_spc()), so its objects never share a span with
 * another cache's or with goalloc_alloc()'s.  The shape of such a class is
 * set when the cache is made and stays until its slot is reused.
 */
#define GOALLOC_MAX_CACHES	112
#define GOALLOC_NUM_ALL_CLASSES	(GOALLOC_NUM_CLASSES + GOALLOC_MAX_CACHES)
/* Span classes of goalloc_alloc(): scan and noscan of each size class. */
#define GOALLOC_NUM_KMALLOC_SPC	(GOALLOC_NUM_CLASSES * 2)

/* Flags of a cache's class, copied into each of its spans (->cflags). */
#define GOALLOC_CF_CTOR		BIT(0)	/* slots are constructed when a span is made */
#define GOALLOC_CF_NO_INIT	BIT(1)	/* no init_on_alloc / init_on_free (SLUB's rule) */
#define GOALLOC_CF_RCU		BIT(2)	/* SLAB_TYPESAFE_BY_RCU: spans go back after a GP */
#define GOALLOC_CF_CACHE	BIT(3)	/* a named cache's span */

/**
 * struct goalloc_cache_class - the shape of a named cache's size class
 * @info: size, heap pages and objects per span, divisor, as a size class's
 * @ctor: run on each slot when a span of the class is made, or NULL
 * @align_pages: alignment of a span, in heap pages (a power of two)
 * @cflags: GOALLOC_CF_* flags
 *
 * Written by goalloc_cache_create() under its mutex before the class's first
 * span exists; read by the layers below (mcentral grows and constructs
 * spans) without a lock, as constant from then on.
 */
struct goalloc_cache_class {
	struct goalloc_class_info info;
	void (*ctor)(void *obj);
	u32 align_pages;
	u8 cflags;
};

extern struct goalloc_cache_class goalloc_cache_classes[GOALLOC_MAX_CACHES];

/**
 * goalloc_cls_info() - the shape of any size class, a cache's included
 * @cls: size class, 1 .. GOALLOC_NUM_ALL_CLASSES - 1
 *
 * Return: its info.
 */
static __always_inline const struct goalloc_class_info *goalloc_cls_info(unsigned int cls)
{
	if (cls < GOALLOC_NUM_CLASSES)
		return &goalloc_class_info[cls];
	return &goalloc_cache_classes[cls - GOALLOC_NUM_CLASSES].info;
}

/**
 * goalloc_cache_spc() - the span class of a named cache's slot
 * @slot: 0 .. GOALLOC_MAX_CACHES - 1
 *
 * Return: the span class, past goalloc_alloc()'s.
 */
static __always_inline unsigned int goalloc_cache_spc(unsigned int slot)
{
	return GOALLOC_NUM_KMALLOC_SPC + slot;
}

/**
 * goalloc_spc_noscan() - is a span class a noscan one?
 * @spc: span class, goalloc_alloc()'s or a named cache's (never noscan)
 *
 * Return: true for the noscan twin of a size class's span classes.
 */
static __always_inline bool goalloc_spc_noscan(unsigned int spc)
{
	return spc < GOALLOC_NUM_KMALLOC_SPC && (spc & 1);
}

/**
 * goalloc_spc_to_class() - the size class of any span class
 * @spc: span class, goalloc_alloc()'s or a named cache's
 *
 * goalloc_spc_class() for every span class: a cache's span class has a
 * size class of its own, with no noscan twin.
 *
 * Return: the size class.
 */
static __always_inline unsigned int goalloc_spc_to_class(unsigned int spc)
{
	if (spc < GOALLOC_NUM_KMALLOC_SPC)
		return spc >> 1;
	return spc - GOALLOC_NUM_KMALLOC_SPC + GOALLOC_NUM_CLASSES;
}

/**
 * goalloc_spc_align() - the alignment of a new span of a span class
 * @spc: span class, goalloc_alloc()'s or a named cache's
 *
 * Return: the alignment in heap pages (a power of two, 1 for none).
 */
static __always_inline unsigned int goalloc_spc_align(unsigned int spc)
{
	if (spc < GOALLOC_NUM_KMALLOC_SPC)
		return goalloc_class_align(spc >> 1);
	return goalloc_cache_classes[spc - GOALLOC_NUM_KMALLOC_SPC].align_pages;
}

#endif /* _GOALLOC_SIZECLASSES_H */
