/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * goalloc userspace ABI: /dev/goalloc, arenas for userspace.
 *
 * Each open file of /dev/goalloc is an arena.  The process maps it with
 * mmap(MAP_SHARED) and carves objects out of it with batched ioctls; an
 * object lives at (mapping base + offset - mapping's file offset).  Every
 * process holding the file (fork, SCM_RIGHTS) sees the same bytes at the
 * same offsets.  The allocator's metadata stays in the kernel.
 *
 * Every ioctl argument begins with @argsz, the size of the structure the
 * caller knows (set it to sizeof).  Newer kernels accept older, shorter
 * structures (missing fields read as zero); older kernels accept newer,
 * longer ones only if the fields they do not know are zero (else E2BIG),
 * and never longer than 4096 bytes (E2BIG).
 * Pointers are passed as __u64 so 32-bit and 64-bit callers share one
 * layout.  Unknown ioctls fail with ENOTTY, unknown flags and an @argsz
 * below the first version's size with EINVAL, unreadable or unwritable
 * user memory with EFAULT.  Every call reads all of its input (the
 * structure and the arrays it points to) before it writes anything, so
 * input and output may overlap: what the kernel writes never changes what
 * it acts on.
 *
 * mmap: MAP_SHARED only (EINVAL otherwise); PROT_EXEC is refused (EPERM),
 * and so is a later mprotect() to it; the range (file offset + length) must
 * lie within the arena's cap (EINVAL); a mapping cannot grow with mremap()
 * (refused, EFAULT, as for any VM_DONTEXPAND mapping).  A page of the
 * mapping that holds no allocated span raises SIGBUS when touched.  The
 * arena lives until its last file descriptor is closed and its last
 * mapping is gone.
 */
#ifndef _UAPI_LINUX_GOALLOC_H
#define _UAPI_LINUX_GOALLOC_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The ioctl type byte of every /dev/goalloc ioctl. */
#define GOALLOC_IOC_MAGIC	0xB7

/* Objects up to this size; larger requests fail with E2BIG. */
#define GOALLOC_MAX_OBJECT	(4U << 20)
/* Objects per GOALLOC_IOC_ALLOC or GOALLOC_IOC_FREE call, at most. */
#define GOALLOC_MAX_BATCH	65536U

/**
 * struct goalloc_setup - GOALLOC_IOC_SETUP: size the arena
 * @argsz: sizeof(struct goalloc_setup)
 * @flags: none defined: must be 0
 * @max_size: in: the arena's size cap in bytes (0 keeps the current cap);
 *	rounded up to the heap page (8 KiB).  It can only be lowered from
 *	the module's default (parameter user_max_bytes).  Out: the cap in
 *	effect.  Offsets and mappings lie below it, and the arena's spans
 *	never hold more memory than it: allocations past it fail with ENOMEM.
 *	(The pages charged, bytes_charged, may exceed the spans' bytes by one
 *	idle block of at most 16 KiB kept for reuse until a reset.)
 *
 * Only an arena that holds no memory and has no mapping can be set up:
 * EBUSY otherwise.  EINVAL for a cap above the default.
 */
struct goalloc_setup {
	__u32 argsz;
	__u32 flags;
	__u64 max_size;
};

/* goalloc_alloc.flags: zero the objects (fresh memory is always zeroed). */
#define GOALLOC_ALLOC_ZERO	0x1U

/**
 * struct goalloc_alloc - GOALLOC_IOC_ALLOC: allocate a batch of objects
 * @argsz: sizeof(struct goalloc_alloc)
 * @flags: GOALLOC_ALLOC_ZERO or 0
 * @size: bytes per object, 1 .. GOALLOC_MAX_OBJECT
 * @count: objects, 1 .. GOALLOC_MAX_BATCH
 * @offsets: user address of a __u64 array of @count entries, filled with
 *	the objects' offsets on success
 * @obj_size: out: bytes of each object's slot (the size class's, or the
 *	large object's whole span); a request of any size from @size up to
 *	@obj_size gets a slot of this class.  Since the second version.
 * @gen: out: the arena's reset generation (@nreset of GOALLOC_IOC_STATS)
 *	right after the batch was taken; GOALLOC_FREE_GEN gives it back.
 *	Since the second version.
 *
 * All or nothing: on any error no object is allocated.  (One exception: if
 * @offsets stops being writable while the call runs, because another
 * thread unmapped it or freed the span it lies in, the call fails with
 * EFAULT and takes its objects back, but only those it can be sure are
 * still its own: if other threads of the arena both freed and allocated
 * objects meanwhile, an offset of the batch may already be someone else's,
 * so the batch's objects stay allocated, counted in @objects of
 * GOALLOC_IOC_STATS, until a reset or the arena's end.)  Objects are
 * aligned to 8 bytes, power-of-two sizes to their size (up to 8 KiB, and
 * beyond that as far as the mapping's base is aligned).  Memory that is new
 * to the arena reads as zero; a slot reused after a free keeps what was
 * written to it unless GOALLOC_ALLOC_ZERO is given.
 *
 * @obj_size and @gen are written back only to a caller whose @argsz covers
 * them (an older caller's structure is not written to); the whole structure
 * must then be writable, proven before anything is allocated (EFAULT).  If
 * it stops being writable while the call runs, the call fails with EFAULT
 * as for @offsets above, with the same exception.
 *
 * Errors: EINVAL (size or count 0, unknown flag), E2BIG (size or count
 * above the maxima), ENOMEM (the cap or the memory cgroup's limit is
 * reached, or memory is short), EFAULT (@offsets not writable).
 */
struct goalloc_alloc {
	__u32 argsz;
	__u32 flags;
	__u64 size;
	__u64 count;
	__u64 offsets;
	__u64 obj_size;
	__u64 gen;
};

/* Size of the first version of struct goalloc_alloc, without the outputs. */
#define GOALLOC_ALLOC_SIZE_VER0	32

/*
 * goalloc_free.flags: refuse the whole call with ESTALE if the arena was
 * reset since @gen (the generation GOALLOC_IOC_ALLOC reported): a batch
 * cached across a reset must not free another user's new objects.
 */
#define GOALLOC_FREE_GEN	0x1U
/*
 * goalloc_free.flags: a span this call leaves without objects stays mapped
 * and held by the arena, for the next allocations of its class, instead of
 * going back to the heap (spans of size classes, objects up to 32 KiB):
 * empty spans up to a quarter of the arena's cap and at most the module
 * parameter user_keep_bytes (32 MiB) in all; others go back as without the
 * flag.  Kept spans go back when the arena needs their room, at a reset,
 * and under memory pressure (then unmapped, as on any release).
 */
#define GOALLOC_FREE_KEEP	0x2U

/**
 * struct goalloc_free - GOALLOC_IOC_FREE: free a batch of objects
 * @argsz: sizeof(struct goalloc_free)
 * @flags: GOALLOC_FREE_GEN, GOALLOC_FREE_KEEP, or 0
 * @count: entries, 1 .. GOALLOC_MAX_BATCH
 * @offsets: user address of a __u64 array of @count offsets to free
 * @results: user address of a __s32 array of @count results, or 0 for
 *	none; it may overlap @offsets (all offsets are read first).  Each
 *	entry is 0 (freed) or a negative errno:
 *	-ERANGE (at or beyond the arena's cap), -ENOENT (no object starts
 *	there: never allocated, or already freed), -EINVAL (inside an object,
 *	not at its start)
 * @nfreed: out: how many entries were freed
 * @gen: with GOALLOC_FREE_GEN: the reset generation the offsets belong to
 *	(GOALLOC_IOC_ALLOC's @gen); ignored otherwise.  Since the second
 *	version.
 *
 * Entries are independent: a bad one changes nothing and the others are
 * still freed.  The call itself fails only for a bad argument (EINVAL,
 * E2BIG, EFAULT; then nothing is freed), or with ESTALE under
 * GOALLOC_FREE_GEN (nothing freed, @nfreed 0); it returns 0 even when some
 * entries were refused, so check @nfreed.  A span left empty goes back to
 * goalloc's heap and its pages are unmapped from every process, unless
 * GOALLOC_FREE_KEEP keeps it (then it stays mapped: a use after free of its
 * objects reads and writes the arena's own memory, as with any allocator
 * that reuses memory, and never the kernel's metadata, which is not in it).
 */
struct goalloc_free {
	__u32 argsz;
	__u32 flags;
	__u64 count;
	__u64 offsets;
	__u64 results;
	__u64 nfreed;
	__u64 gen;
};

/* Size of the first version of struct goalloc_free, without @gen. */
#define GOALLOC_FREE_SIZE_VER0	40

/**
 * struct goalloc_reset - GOALLOC_IOC_RESET: free every object at once
 * @argsz: sizeof(struct goalloc_reset)
 * @flags: none defined: must be 0
 *
 * All of the arena's memory goes back to goalloc, and every mapping of it,
 * in every process, loses its pages: a later access raises SIGBUS, as a
 * freed Go arena faults.  The mappings themselves stay and serve objects
 * allocated afterwards.
 */
struct goalloc_reset {
	__u32 argsz;
	__u32 flags;
};

/**
 * struct goalloc_class_stat - one size class, goalloc-wide (kernel callers
 * and every arena together)
 * @size_class: size class number (0: objects above 32 KiB)
 * @obj_size: bytes per object (0 for class 0)
 * @span_bytes: bytes per span of the class's own shape (0 for class 0; a
 *	busy class's kernel spans may be of its big shape, of 16 objects)
 * @objs_per_span: objects per span (1 for class 0)
 * @objs_inuse: objects allocated and not freed
 * @spans: spans of the class
 * @bytes_held: bytes those spans hold (class 0: not tracked, 0)
 * @nalloc: objects allocated, ever
 * @nfree: objects freed, ever
 */
struct goalloc_class_stat {
	__u32 size_class;
	__u32 obj_size;
	__u32 span_bytes;
	__u32 objs_per_span;
	__u64 objs_inuse;
	__u64 spans;
	__u64 bytes_held;
	__u64 nalloc;
	__u64 nfree;
};

/**
 * struct goalloc_stats - GOALLOC_IOC_STATS: this arena and goalloc as a whole
 * @argsz: sizeof(struct goalloc_stats)
 * @flags: none defined: must be 0
 * @max_size: the arena's cap, bytes
 * @objects: the arena's live objects
 * @bytes_allocated: bytes of the arena's live objects' slots
 * @bytes_held: bytes of the arena's spans (what offsets can reach)
 * @bytes_charged: bytes of the pages the arena holds from the buddy
 *	allocator, charged to the opener's memory cgroup
 * @spans: the arena's spans
 * @nalloc: objects the arena allocated, ever
 * @nfree: objects freed one by one, ever
 * @nreset: resets, ever
 * @heap_bytes: goalloc's whole page heap: bytes held
 * @heap_inuse_bytes: ... of which in spans
 * @heap_chunks: chunks from the buddy allocator
 * @arenas: user arenas open
 * @class_stat_size: in: sizeof(struct goalloc_class_stat) as the caller
 *	knows it (0: no per-class view wanted), at most 4096 (E2BIG above);
 *	each entry is written with min(this, the kernel's size) bytes and the
 *	rest of it zeroed
 * @nclasses: in: entries @classes has room for; out: entries there are
 *	(all of them, even if more than were written)
 * @classes: user address of the array of per-class entries, or 0
 *
 * Anyone who can open the device sees the arena's own figures and the
 * heap's totals (as /proc/meminfo shows the slab's).  The per-class view
 * counts the allocations of goalloc's kernel callers, object by object, so
 * like /proc/slabinfo (mode 0400) it is privileged: a caller without
 * CAP_PERFMON or CAP_SYS_ADMIN that asks for entries (@class_stat_size,
 * @classes and @nclasses all non-zero) fails with EPERM, and nothing is
 * written; it may still ask with @nclasses 0 how many entries there are.
 *
 * Errors: EINVAL (unknown flag), E2BIG (@class_stat_size above 4096),
 * EPERM (the per-class view without the privilege), EFAULT (the structure
 * or @classes not writable).
 */
struct goalloc_stats {
	__u32 argsz;
	__u32 flags;
	__u64 max_size;
	__u64 objects;
	__u64 bytes_allocated;
	__u64 bytes_held;
	__u64 bytes_charged;
	__u64 spans;
	__u64 nalloc;
	__u64 nfree;
	__u64 nreset;
	__u64 heap_bytes;
	__u64 heap_inuse_bytes;
	__u64 heap_chunks;
	__u64 arenas;
	__u32 class_stat_size;
	__u32 nclasses;
	__u64 classes;
};

#define GOALLOC_IOC_SETUP	_IO(GOALLOC_IOC_MAGIC, 0x01)
#define GOALLOC_IOC_ALLOC	_IO(GOALLOC_IOC_MAGIC, 0x02)
#define GOALLOC_IOC_FREE	_IO(GOALLOC_IOC_MAGIC, 0x03)
#define GOALLOC_IOC_RESET	_IO(GOALLOC_IOC_MAGIC, 0x04)
#define GOALLOC_IOC_STATS	_IO(GOALLOC_IOC_MAGIC, 0x05)

#endif /* _UAPI_LINUX_GOALLOC_H */
