/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User arenas: the allocator behind each open file of /dev/goalloc.
 *
 * An arena has an offset space of max_pages heap pages, its own pool of
 * chunks (charged to the opener's memory cgroup) and its own spans, one
 * list of spans with free slots per size class.  A span's pages sit at a
 * run of offsets; userspace reaches them through the arena's mappings,
 * which the fault handler fills from the span found at the faulting offset.
 */
#ifndef _GOALLOC_UARENA_H
#define _GOALLOC_UARENA_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "mheap.h"
#include "sizeclasses.h"

/**
 * struct goalloc_uarena - one user arena
 * @lock: serialises every operation on the arena and its fault handler.
 *	Never held while user memory is touched (copy_{to,from}_user() may
 *	fault on the arena's own mapping and so re-enter the fault handler).
 * @pool: the arena's chunks; its memcg is the opener's
 * @mapping: the address space all of the arena's mappings are in, for
 *	unmap_mapping_range() on a span's release and on reset
 * @max_pages: the cap: heap pages of offset space
 * @offmap: heap pages of offset space in use, @max_pages bits, or NULL
 *	until the first span
 * @spans: heap page index in the offset space -> span there
 * @partial: per size class, spans with free slots or frees to sweep, each
 *	holding at least one object
 * @kept: per size class, the spans kept mapped with no object in them (a
 *	free with GOALLOC_FREE_KEEP emptied them), oldest first, until an
 *	allocation of the class takes the newest back to @partial or one is
 *	released (the keep budget, a reset, the cap or memory cgroup limit
 *	reached, the shrinker)
 * @kept_stamp: per size class, @kept_clock when the class last kept a span:
 *	past the budget the class that kept one least recently gives its
 *	oldest back first (uarena.c)
 * @kept_clock: spans kept, ever
 * @kept_pages: heap pages of the spans on @kept, at most the arena's keep
 *	budget
 * @node: on the list of all arenas, which the shrinker walks
 * @objects: live objects
 * @bytes_allocated: bytes of the live objects' slots
 * @pages: heap pages in spans
 * @nspans: spans
 * @nalloc: objects allocated, ever
 * @nfree: objects freed one by one, ever
 * @nreset: resets, ever; also the generation goalloc_uarena_undo() checks
 * @alloc_seq: objects taken by alloc_one(), ever; never taken back, so that
 *	goalloc_uarena_undo() can tell whether anything was allocated since
 * @free_seq: objects freed by free_one(), ever; never taken back, likewise
 * @nmaps: live mappings (VMAs) of the arena; atomic, as VMAs are copied and
 *	split where the arena's mutex cannot be taken
 *
 * All other fields but the constant ones are under @lock.
 */
struct goalloc_uarena {
	struct mutex lock;	/* see @lock above */
	struct goalloc_pool pool;
	struct address_space *mapping;
	unsigned long max_pages;
	unsigned long *offmap;
	struct xarray spans;
	struct list_head partial[GOALLOC_NUM_CLASSES];
	struct list_head kept[GOALLOC_NUM_CLASSES];
	unsigned long kept_stamp[GOALLOC_NUM_CLASSES];
	unsigned long kept_clock;
	unsigned long kept_pages;
	unsigned long objects;
	unsigned long bytes_allocated;
	unsigned long pages;
	unsigned long nspans;
	unsigned long nalloc;
	unsigned long nfree;
	unsigned long nreset;
	unsigned long alloc_seq;
	unsigned long free_seq;
	atomic_long_t nmaps;
	struct list_head node;
};

/**
 * struct goalloc_uarena_ticket - what goalloc_uarena_undo() needs to know
 *	about a batch goalloc_uarena_alloc() handed out
 * @size: bytes per object, as asked for
 * @obj_size: bytes of each object's slot (its class's, or its whole span)
 * @gen: the arena's @nreset right after the batch was taken
 * @alloc_seq: the arena's @alloc_seq right after the batch was taken
 * @free_seq: the arena's @free_seq right after the batch was taken
 */
struct goalloc_uarena_ticket {
	u64 size;
	u64 obj_size;
	unsigned long gen;
	unsigned long alloc_seq;
	unsigned long free_seq;
};

/**
 * struct goalloc_uarena_stats - an arena's figures and the heap's
 *	(goalloc_uarena_stats()); chrdev.c reports them as the ABI's
 *	struct goalloc_stats
 * @max_bytes: the arena's cap
 * @objects: its live objects
 * @bytes_allocated: bytes of their slots
 * @bytes_held: bytes of its spans
 * @bytes_charged: bytes of its pool's chunks, charged to its memcg
 * @nspans: its spans
 * @nalloc: objects it allocated, ever
 * @nfree: objects freed one by one, ever
 * @nreset: its resets, ever
 * @heap_bytes: the whole heap's bytes held, all pools
 * @heap_inuse_bytes: ... of which in spans
 * @heap_chunks: the heap's chunks
 * @narenas: user arenas open
 */
struct goalloc_uarena_stats {
	u64 max_bytes;
	u64 objects;
	u64 bytes_allocated;
	u64 bytes_held;
	u64 bytes_charged;
	u64 nspans;
	u64 nalloc;
	u64 nfree;
	u64 nreset;
	u64 heap_bytes;
	u64 heap_inuse_bytes;
	u64 heap_chunks;
	u64 narenas;
};

/**
 * struct goalloc_uarena_class_stats - all user arenas' traffic in one size
 *	class (goalloc_uarena_class_stats())
 * @nalloc: objects allocated, ever
 * @nfree: objects freed, ever
 * @nspans: live spans
 */
struct goalloc_uarena_class_stats {
	long nalloc;
	long nfree;
	long nspans;
};

/**
 * struct goalloc_uarena_copyout - GOALLOC_HOOK_UARENA_COPYOUT's argument
 * @ua: the arena, unlocked
 * @count: objects just allocated
 * @offsets: their offsets (the kernel's copy)
 * @uoffsets: where they are about to be copied to
 */
struct goalloc_uarena_copyout {
	struct goalloc_uarena *ua;
	u32 count;
	const u64 *offsets;
	u64 __user *uoffsets;
};

extern unsigned long goalloc_user_max_bytes;

struct goalloc_uarena *goalloc_uarena_create(struct address_space *mapping);
void goalloc_uarena_destroy(struct goalloc_uarena *ua);
int goalloc_uarena_setup(struct goalloc_uarena *ua, u64 *max_size);
int goalloc_uarena_alloc(struct goalloc_uarena *ua, u64 size, u32 count, bool zero,
			 u64 *offsets, struct goalloc_uarena_ticket *t);
u32 goalloc_uarena_undo(struct goalloc_uarena *ua, const struct goalloc_uarena_ticket *t,
			u32 count, const u64 *offsets);
u32 goalloc_uarena_free(struct goalloc_uarena *ua, u32 count, const u64 *offsets,
			s32 *results);
int goalloc_uarena_free_batch(struct goalloc_uarena *ua, u32 count, const u64 *offsets,
			      s32 *results, bool keep, const u64 *gen, u32 *nfreed);
void goalloc_uarena_reset(struct goalloc_uarena *ua);
void goalloc_uarena_stats(struct goalloc_uarena *ua, struct goalloc_uarena_stats *st);
void goalloc_uarena_class_stats(unsigned int cls, struct goalloc_uarena_class_stats *st);
int goalloc_uarena_map(struct goalloc_uarena *ua, unsigned long pgoff, unsigned long npages);
vm_fault_t goalloc_uarena_fault(struct goalloc_uarena *ua, struct vm_area_struct *vma,
				pgoff_t pgoff);
long goalloc_uarena_ioctl(struct goalloc_uarena *ua, unsigned int cmd, void __user *uarg);
int goalloc_uarena_init(void);
void goalloc_uarena_exit(void);

#endif /* _GOALLOC_UARENA_H */
