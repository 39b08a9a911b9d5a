// SPDX-License-Identifier: GPL-2.0
/*
 * libgoalloc: userspace arenas from /dev/goalloc.
 *
 * A layer over the ioctls of uapi/linux/goalloc.h: it opens and maps an
 * arena, splits batches into GOALLOC_MAX_BATCH pieces and converts between
 * the kernel's offsets and pointers into the caller's mapping.  On top of
 * that, the thread caches (the userspace mcache, see "Thread caches" below)
 * serve goalloc_cached_alloc() and goalloc_cached_free() without a system
 * call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libgoalloc.h"

struct ga_tcache;

/*
 * Fields up to @cap are fixed from goalloc_new() to goalloc_close().  The
 * cache fields: @tcs and the list of arenas under ga_lock; @lgen, @ndouble,
 * @nrefill and @nflush atomic; @shadow's words atomic.
 */
struct goalloc_arena {
	int fd;			/* the open file of /dev/goalloc: the arena */
	unsigned char *base;	/* where file offset 0 is mapped */
	size_t cap;		/* the arena's cap: bytes mapped */
	/*
	 * The state of each 8-byte granule's object as this process's caches
	 * know it, 2 bits per granule (GA_ST_*), or NULL (no caching).
	 */
	unsigned long *shadow;
	/*
	 * Per 4 KiB page of offsets, the class index (ga_idx_size[]) of the
	 * objects this process was last handed there, 0 if none: a span is
	 * of one class and whole pages, and while an object handed out here
	 * is live its page cannot change class.  Atomic bytes; after @shadow
	 * in the same mapping.
	 */
	unsigned char *pagemap;
	size_t shadow_len;	/* bytes mapped at @shadow, @pagemap included */
	unsigned long lgen;	/* bumped by a reset or goalloc_cache_drop() */
	__u64 kgen;		/* the kernel's reset generation last seen, ga_lock */
	int has_kgen;
	struct ga_tcache *tcs;	/* the thread caches of this arena */
	struct goalloc_arena *next, **pprev;	/* ga_arenas */
	size_t grow_budget;	/* bytes the stacks may grow by, in all */
	size_t grown;		/* bytes they have grown by (atomic) */
	__u64 ndouble;		/* double frees caught */
	__u64 nrefill;		/* GOALLOC_IOC_ALLOC calls of the caches */
	__u64 nflush;		/* GOALLOC_IOC_FREE calls of the caches */
};

static void ga_cache_init(struct goalloc_arena *a);
static void ga_cache_fini(struct goalloc_arena *a);
static void ga_cache_reset(struct goalloc_arena *a);
static unsigned int learn_class(size_t size, __u64 obj_size);

/* Objects above this size are not cached: each is a span of its own. */
#define GA_TC_MAX_SIZE	32768U

/*
 * The shadow: what this process knows of the object starting at each 8-byte
 * granule of the arena (every object starts on one).  The states:
 *
 *   GA_ST_NONE    nothing known: the kernel decides (a free goes to it)
 *   GA_ST_LIVE    handed out by this process (a thread cache or a batch
 *                 allocation) and not freed since: allocated in the kernel
 *   GA_ST_CACHED  in a thread cache of this process: allocated in the
 *                 kernel, free for the process; a free of it is a double free
 *
 * A cache takes back only LIVE objects, so it never holds an offset the
 * kernel has not allocated to this arena's users.
 */
#define GA_ST_NONE	0UL
#define GA_ST_LIVE	1UL
#define GA_ST_CACHED	2UL
#define GA_ST_BITS	2
#define GA_GRANULE_SHIFT	3
#define GA_PER_WORD	(sizeof(unsigned long) * 8 / GA_ST_BITS)
#define GA_PAGEMAP_SHIFT	12

static inline unsigned long *shadow_word(struct goalloc_arena *a, __u64 off,
					 unsigned int *shift)
{
	__u64 g = off >> GA_GRANULE_SHIFT;

	*shift = (unsigned int)(g % GA_PER_WORD) * GA_ST_BITS;
	return &a->shadow[g / GA_PER_WORD];
}

/*
 * Set the state of @off to @to if it is @from (any state if @from is -1).
 * Return: the state it had.
 */
static inline unsigned long shadow_cas(struct goalloc_arena *a, __u64 off, long from,
				       unsigned long to)
{
	unsigned long *w, old, st;
	unsigned int sh;

	w = shadow_word(a, off, &sh);
	old = __atomic_load_n(w, __ATOMIC_RELAXED);
	do {
		st = (old >> sh) & 3UL;
		if (from >= 0 && st != (unsigned long)from)
			return st;
		if (st == to)
			return st;
	} while (!__atomic_compare_exchange_n(w, &old, (old & ~(3UL << sh)) | (to << sh), 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return st;
}

/*
 * A free outside the caches: LIVE becomes NONE (the kernel is told), and a
 * CACHED object stays so (the caller reports the double free).  Return: the
 * state @off had.
 */
static unsigned long shadow_take_live(struct goalloc_arena *a, __u64 off)
{
	/* Every object starts on a granule: anything else is the kernel's. */
	if (!a->shadow || off >= a->cap || off % 8)
		return GA_ST_NONE;
	return shadow_cas(a, off, GA_ST_LIVE, GA_ST_NONE);
}

/* An object handed out by a batch allocation. */
static void shadow_mark_live(struct goalloc_arena *a, __u64 off)
{
	if (a->shadow && off < a->cap)
		shadow_cas(a, off, -1, GA_ST_LIVE);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ioctl(), restarted if a signal interrupts it before it did anything. */
static int goalloc_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

/*
 * Map the whole cap of the arena behind @fd.  The kernel aligns power-of-two
 * objects above 8 KiB only as far as the mapping's base is aligned, so the
 * base is placed on a GOALLOC_MAX_OBJECT boundary (or the largest power of
 * two not above the cap, if that is smaller): an anonymous PROT_NONE
 * reservation of cap + alignment is made, the arena is mapped over its
 * aligned part with MAP_FIXED and the rest is given back.  If the address
 * space is too short for that, the arena is mapped wherever mmap() puts it.
 */
static void *goalloc_map(int fd, size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t align = GOALLOC_MAX_OBJECT;
	size_t len, maplen;
	unsigned char *res, *p;
	int err;

	while (align > cap)
		align >>= 1;
	maplen = (cap + page - 1) & ~(page - 1);
	if (align > page && maplen >= cap && maplen <= SIZE_MAX - align) {
		len = maplen + align - page;
		res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
		if (res != MAP_FAILED) {
			p = (unsigned char *)(((uintptr_t)res + align - 1) &
					      ~(uintptr_t)(align - 1));
			if (mmap(p, cap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 fd, 0) == MAP_FAILED) {
				err = errno;
				munmap(res, len);
				errno = err;
				return MAP_FAILED;
			}
			if (p > res)
				munmap(res, (size_t)(p - res));
			if (p + maplen < res + len)
				munmap(p + maplen, (size_t)(res + len - (p + maplen)));
			return p;
		}
	}
	return mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* The handle for @fd, an arena whose cap is @cap, mapped; @fd is not closed on failure. */
static struct goalloc_arena *goalloc_new(int fd, __u64 cap)
{
	struct goalloc_arena *a;
	void *base;
	int err;

	if (!cap) {
		errno = EINVAL;
		return NULL;
	}
	if (cap > SIZE_MAX) {
		errno = EOVERFLOW;
		return NULL;
	}
	a = malloc(sizeof(*a));
	if (!a)
		return NULL;
	base = goalloc_map(fd, (size_t)cap);
	if (base == MAP_FAILED) {
		err = errno;
		free(a);
		errno = err;
		return NULL;
	}
	a->fd = fd;
	a->base = base;
	a->cap = (size_t)cap;
	ga_cache_init(a);
	return a;
}

/**
 * goalloc_open() - open a new arena and map it
 * @max_size: the arena's cap in bytes, or 0 for the module's default
 *
 * Opens the device ($GOALLOC_DEV, else /dev/goalloc) with O_RDWR | O_CLOEXEC,
 * sets the cap with GOALLOC_IOC_SETUP if @max_size is not 0, and maps the
 * whole cap.
 *
 * Return: the arena, or NULL with errno set (nothing is left open).
 */
struct goalloc_arena *goalloc_open(size_t max_size)
{
	struct goalloc_setup setup;
	struct goalloc_stats st;
	struct goalloc_arena *a;
	const char *dev;
	__u64 cap;
	int fd, err;

	dev = secure_getenv(LIBGOALLOC_DEV_ENV);
	if (!dev || !*dev)
		dev = LIBGOALLOC_DEFAULT_DEV;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;

	if (max_size) {
		memset(&setup, 0, sizeof(setup));
		setup.argsz = sizeof(setup);
		setup.max_size = max_size;
		if (goalloc_ioctl(fd, GOALLOC_IOC_SETUP, &setup) < 0)
			goto fail;
		cap = setup.max_size;
	} else {
		if (goalloc_fd_stats(fd, &st, NULL, NULL) < 0)
			goto fail;
		cap = st.max_size;
	}

	a = goalloc_new(fd, cap);
	if (!a)
		goto fail;
	return a;

fail:
	err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/**
 * goalloc_from_fd() - adopt an arena's file descriptor and map it
 * @fd: an open file of /dev/goalloc (received with SCM_RIGHTS, inherited...)
 *
 * On success the handle owns @fd: goalloc_close() closes it.  On failure
 * @fd is left open and is still the caller's.
 *
 * Return: the arena, or NULL with errno set.
 */
struct goalloc_arena *goalloc_from_fd(int fd)
{
	struct goalloc_stats st;

	if (goalloc_fd_stats(fd, &st, NULL, NULL) < 0)
		return NULL;
	return goalloc_new(fd, st.max_size);
}

/**
 * goalloc_close() - unmap the arena and close its file descriptor
 * @a: the arena, or NULL (nothing is done)
 *
 * The arena itself lives on while another process holds it.  errno is kept.
 */
void goalloc_close(struct goalloc_arena *a)
{
	int err = errno;

	if (!a)
		return;
	ga_cache_fini(a);
	munmap(a->base, a->cap);
	close(a->fd);
	free(a);
	errno = err;
}

int goalloc_fd(const struct goalloc_arena *a)
{
	return a->fd;
}

void *goalloc_base(const struct goalloc_arena *a)
{
	return a->base;
}

size_t goalloc_cap(const struct goalloc_arena *a)
{
	return a->cap;
}

/* The pointer for offset @off, or NULL if @off is at or beyond the cap. */
void *goalloc_ptr(const struct goalloc_arena *a, __u64 off)
{
	if (off >= a->cap)
		return NULL;
	return a->base + (size_t)off;
}

/* The offset of @p, or LIBGOALLOC_NO_OFFSET if @p is outside the mapping. */
__u64 goalloc_off(const struct goalloc_arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->base;

	if (u < b || u - b >= a->cap)
		return LIBGOALLOC_NO_OFFSET;
	return u - b;
}

/*
 * Offsets are passed to and from the kernel as __u64 arrays.  Where a pointer
 * is as wide as a __u64, goalloc_alloc_batch() lets the kernel write them
 * straight into the caller's pointer array and converts them in place; these
 * two access such an array bytewise, whatever its declared type.
 */
static __u64 get_off(const void *buf, size_t i)
{
	__u64 off;

	memcpy(&off, (const unsigned char *)buf + i * sizeof(off), sizeof(off));
	return off;
}

static void put_off(void *buf, size_t i, __u64 off)
{
	memcpy((unsigned char *)buf + i * sizeof(off), &off, sizeof(off));
}

static int free_offsets(struct goalloc_arena *a, const __u64 *offs, size_t n)
{
	struct goalloc_free fr;

	memset(&fr, 0, sizeof(fr));
	fr.argsz = sizeof(fr);
	fr.count = n;
	fr.offsets = (uintptr_t)offs;
	return goalloc_ioctl(a->fd, GOALLOC_IOC_FREE, &fr);
}

/*
 * Undo the first @n objects of a failed goalloc_alloc_batch(), whose pointers
 * are in @ptrs, chunk by chunk through @buf (NULL: in place).
 */
static void undo_alloc(struct goalloc_arena *a, void **ptrs, size_t n, __u64 *buf)
{
	size_t done, m, i;
	void *chunk;

	for (done = 0; done < n; done += m) {
		m = min_size(n - done, GOALLOC_MAX_BATCH);
		chunk = buf ? (void *)buf : (void *)(ptrs + done);
		for (i = 0; i < m; i++) {
			__u64 off = goalloc_off(a, ptrs[done + i]);

			shadow_take_live(a, off);
			put_off(chunk, i, off);
		}
		free_offsets(a, chunk, m);
	}
}

/**
 * goalloc_alloc_batch() - allocate @count objects of @size bytes
 * @a: the arena
 * @size: bytes per object, 1 .. GOALLOC_MAX_OBJECT
 * @count: objects; 0 does nothing
 * @ptrs: filled with the objects' addresses in this process's mapping
 * @flags: GOALLOC_ALLOC_ZERO or 0
 *
 * All or nothing, also when @count is above GOALLOC_MAX_BATCH and takes
 * several calls: if one fails, the objects of the calls before it are freed.
 *
 * Return: 0, or -1 with errno set (@ptrs then holds nothing of use).
 */
int goalloc_alloc_batch(struct goalloc_arena *a, size_t size, size_t count, void **ptrs,
			unsigned int flags)
{
	const int in_place = sizeof(void *) == sizeof(__u64);
	struct goalloc_alloc req;
	__u64 *buf = NULL, off;
	size_t done, m, i;
	unsigned int idx;
	void *chunk;
	int err;

	if (!count)
		return 0;
	if (!ptrs) {
		errno = EINVAL;
		return -1;
	}
	if (!in_place) {
		buf = malloc(min_size(count, GOALLOC_MAX_BATCH) * sizeof(*buf));
		if (!buf)
			return -1;
	}

	for (done = 0; done < count; done += m) {
		m = min_size(count - done, GOALLOC_MAX_BATCH);
		chunk = in_place ? (void *)(ptrs + done) : (void *)buf;

		memset(&req, 0, sizeof(req));
		req.argsz = sizeof(req);
		req.flags = flags;
		req.size = size;
		req.count = m;
		req.offsets = (uintptr_t)chunk;
		if (goalloc_ioctl(a->fd, GOALLOC_IOC_ALLOC, &req) < 0)
			goto fail;

		/* An offset the mapping cannot reach would be a kernel bug. */
		for (i = 0; i < m; i++) {
			off = get_off(chunk, i);
			if (off >= a->cap || size > a->cap - off)
				break;
		}
		if (i < m) {
			free_offsets(a, chunk, m);
			errno = EIO;
			goto fail;
		}
		idx = a->shadow && size <= GA_TC_MAX_SIZE ? learn_class(size, req.obj_size) : 0;
		for (i = 0; i < m; i++) {
			off = get_off(chunk, i);
			/* 0 too: a large object's page must not look cached. */
			if (a->shadow && off < a->cap)
				__atomic_store_n(&a->pagemap[off >> GA_PAGEMAP_SHIFT],
						 (unsigned char)idx, __ATOMIC_RELAXED);
			shadow_mark_live(a, off);
			ptrs[done + i] = a->base + (size_t)off;
		}
	}
	free(buf);
	return 0;

fail:
	err = errno;
	undo_alloc(a, ptrs, done, buf);
	free(buf);
	errno = err;
	return -1;
}

/**
 * goalloc_free_batch() - free @count objects
 * @a: the arena
 * @count: entries of @ptrs; 0 does nothing
 * @ptrs: the objects' addresses in this process's mapping
 * @results: NULL, or @count entries: 0 (freed) or a negative errno: -EFAULT
 *	(outside the mapping: not sent to the kernel), -ERANGE, -ENOENT,
 *	-EINVAL (see struct goalloc_free)
 *
 * Entries are independent: a bad one does not stop the others.
 *
 * Return: objects freed, or -1 with errno set if a call failed.  The calls
 * before it did their work (their entries of @results are filled); the
 * entries it and the later ones would have sent get its negative errno.
 */
ssize_t goalloc_free_batch(struct goalloc_arena *a, size_t count, void *const *ptrs,
			   int *results)
{
	size_t room, w, m, n, i, j;
	struct goalloc_free fr;
	ssize_t nfreed = 0;
	__u64 *offs, off;
	__s32 *res;
	__u32 *idx;
	int err;

	if (!count)
		return 0;
	if (!ptrs) {
		errno = EINVAL;
		return -1;
	}
	room = min_size(count, GOALLOC_MAX_BATCH);
	offs = malloc(room * (sizeof(*offs) + sizeof(*res) + sizeof(*idx)));
	if (!offs)
		return -1;
	res = (__s32 *)(offs + room);
	idx = (__u32 *)(res + room);

	for (w = 0; w < count; w += m) {
		m = min_size(count - w, GOALLOC_MAX_BATCH);
		for (n = 0, i = 0; i < m; i++) {
			off = goalloc_off(a, ptrs[w + i]);
			if (off == LIBGOALLOC_NO_OFFSET) {
				if (results)
					results[w + i] = -EFAULT;
				continue;
			}
			/* Freed already and waiting in a thread cache. */
			if (shadow_take_live(a, off) == GA_ST_CACHED) {
				if (results)
					results[w + i] = -ENOENT;
				continue;
			}
			offs[n] = off;
			idx[n++] = i;
		}
		if (!n)
			continue;

		memset(&fr, 0, sizeof(fr));
		fr.argsz = sizeof(fr);
		fr.count = n;
		fr.offsets = (uintptr_t)offs;
		fr.results = results ? (uintptr_t)res : 0;
		if (goalloc_ioctl(a->fd, GOALLOC_IOC_FREE, &fr) < 0) {
			err = errno;
			if (results) {
				for (i = 0; i < n; i++)
					results[w + idx[i]] = -err;
				for (j = w + m; j < count; j++)
					results[j] = -err;
			}
			free(offs);
			errno = err;
			return -1;
		}
		if (results)
			for (i = 0; i < n; i++)
				results[w + idx[i]] = res[i];
		nfreed += (ssize_t)fr.nfreed;
	}
	free(offs);
	return nfreed;
}

/* One object of @size bytes, or NULL with errno set. */
void *goalloc_alloc1(struct goalloc_arena *a, size_t size)
{
	void *p;

	if (goalloc_alloc_batch(a, size, 1, &p, 0) < 0)
		return NULL;
	return p;
}

/* Free one object: 0, or -1 with errno set to the entry's error.  NULL: 0. */
int goalloc_free1(struct goalloc_arena *a, void *p)
{
	struct goalloc_free fr;
	__s32 res = 0;
	__u64 off;

	if (!p)
		return 0;
	off = goalloc_off(a, p);
	if (off == LIBGOALLOC_NO_OFFSET) {
		errno = EFAULT;
		return -1;
	}
	if (shadow_take_live(a, off) == GA_ST_CACHED) {
		errno = ENOENT;
		return -1;
	}
	memset(&fr, 0, sizeof(fr));
	fr.argsz = sizeof(fr);
	fr.count = 1;
	fr.offsets = (uintptr_t)&off;
	fr.results = (uintptr_t)&res;
	if (goalloc_ioctl(a->fd, GOALLOC_IOC_FREE, &fr) < 0)
		return -1;
	if (res < 0) {
		errno = -res;
		return -1;
	}
	if (fr.nfreed != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Free every object of the arena, in every process: 0 or -1 with errno set. */
int goalloc_reset(struct goalloc_arena *a)
{
	struct goalloc_reset rs;

	memset(&rs, 0, sizeof(rs));
	rs.argsz = sizeof(rs);
	if (goalloc_ioctl(a->fd, GOALLOC_IOC_RESET, &rs) < 0)
		return -1;
	/* What the caches held went with everything else. */
	ga_cache_reset(a);
	return 0;
}

/**
 * goalloc_fd_stats() - GOALLOC_IOC_STATS on an open file of /dev/goalloc
 * @fd: the file
 * @st: filled with the arena's and goalloc's counters
 * @classes: NULL, or room for *@nclasses per-class entries
 * @nclasses: in: the room in @classes; out: the classes there are, which may
 *	be more than were written.  With @classes NULL it only asks for the
 *	number; both NULL: no per-class view.
 *
 * Return: 0, or -1 with errno set.
 */
int goalloc_fd_stats(int fd, struct goalloc_stats *st, struct goalloc_class_stat *classes,
		     unsigned int *nclasses)
{
	if (!st || (classes && !nclasses)) {
		errno = EINVAL;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	if (nclasses) {
		st->class_stat_size = sizeof(*classes);
		st->nclasses = classes ? *nclasses : 0;
		st->classes = (uintptr_t)classes;
		if (classes)
			memset(classes, 0, (size_t)*nclasses * sizeof(*classes));
	}
	if (goalloc_ioctl(fd, GOALLOC_IOC_STATS, st) < 0)
		return -1;
	if (nclasses)
		*nclasses = st->nclasses;
	return 0;
}

/* goalloc_fd_stats() on the arena's file. */
int goalloc_stats(struct goalloc_arena *a, struct goalloc_stats *st,
		  struct goalloc_class_stat *classes, unsigned int *nclasses)
{
	return goalloc_fd_stats(a->fd, st, classes, nclasses);
}

/*
 * Thread caches: the userspace mcache.
 *
 * Each thread has, per arena it uses, a cache (struct ga_tcache) with one
 * stack of offsets per size class.  goalloc_cached_alloc() pops, and
 * goalloc_cached_free() pushes, without a system call.  An empty stack is
 * refilled with one GOALLOC_IOC_ALLOC of half its capacity; a full one
 * doubles within a budget (GA_TC_GROW_BYTES), and past it gives its older
 * half back with GOALLOC_IOC_FREE (GOALLOC_FREE_GEN, so nothing is freed
 * across a reset, and GOALLOC_FREE_KEEP, so the span a flush empties stays
 * mapped for the next refill, up to the arena's keep budget).  Sizes are mapped to
 * classes by what the kernel reports (@obj_size of the refill): no size
 * table is compiled in.
 *
 * The kernel's metadata never sees the caches: a cached object is simply
 * allocated, as far as the kernel knows.  What a process had cached when
 * it died comes back at a reset or when the arena's last user goes.
 *
 * Locking: ga_lock (a mutex) covers the list of arenas, each arena's list
 * of caches and the caches' arena pointers; a cache's stacks are its
 * thread's only, touched by others only where the program must not be
 * using the arena any more (goalloc_close(), the child after fork()).
 */

/* Size classes the process can tell apart (goalloc has 67). */
#define GA_TC_CLASSES	96U
/* A stack holds at most this many bytes of objects, and this many objects. */
#define GA_TC_BYTES	(256U << 10)
#define GA_TC_MAX_OBJS	1024U
#define GA_TC_MIN_OBJS	8U
/* Objects per refill or flush call, at most. */
#define GA_TC_BATCH	512U
/*
 * A stack found full on a free doubles instead of flushing while the
 * process's caches of the arena have grown by less than this in all (and
 * than 1/32 of the arena's cap): a thread that frees and reallocates many
 * objects of a class keeps them, as malloc keeps its freed chunks.
 */
#define GA_TC_GROW_BYTES	(8U << 20)
#define GA_TC_GROW_MAX_OBJS	65536U

struct ga_tclass {
	unsigned int n;		/* offsets in @offs (atomic for stats readers) */
	unsigned int cap;	/* room in @offs, 0 until first used */
	__u64 *offs;		/* a stack: the last pushed is popped first */
};

struct ga_tcache {
	struct goalloc_arena *a;	/* atomic; NULL once the arena is closed */
	struct ga_tcache *tnext;	/* the thread's caches */
	struct ga_tcache *anext, **apprev;	/* the arena's caches, ga_lock */
	pthread_t owner;
	size_t grown;		/* this cache's part of the arena's @grown */
	unsigned long lgen;	/* the arena's @lgen the stacks belong to */
	__u64 gen;		/* the kernel's reset generation of the offsets */
	int has_gen;
	struct ga_tclass cls[GA_TC_CLASSES];
};

static pthread_mutex_t ga_lock = PTHREAD_MUTEX_INITIALIZER;
static struct goalloc_arena *ga_arenas;		/* ga_lock */
static pthread_once_t ga_once = PTHREAD_ONCE_INIT;
static pthread_key_t ga_key;
static int ga_key_ok;

/* Size (in 8-byte steps) -> class index, 0 while unknown; atomic bytes. */
static unsigned char ga_size_idx[GA_TC_MAX_SIZE / 8 + 1];
/* Class index -> slot size; ga_lock for writers, set before ga_size_idx. */
static unsigned int ga_idx_size[GA_TC_CLASSES];
static unsigned int ga_nidx = 1;			/* ga_lock */

static __thread struct ga_tcache *ga_tc_last;	/* the last cache used */
static __thread struct ga_tcache *ga_tc_head;	/* this thread's caches */

static unsigned int tc_cap(unsigned int obj_size)
{
	unsigned int n = GA_TC_BYTES / obj_size;

	if (n > GA_TC_MAX_OBJS)
		n = GA_TC_MAX_OBJS;
	return n < GA_TC_MIN_OBJS ? GA_TC_MIN_OBJS : n;
}

static void tc_thread_exit(void *unused);

static void ga_atfork_prepare(void)
{
	pthread_mutex_lock(&ga_lock);
}

static void ga_atfork_parent(void)
{
	pthread_mutex_unlock(&ga_lock);
}

/*
 * The child: its caches are copies of the parent's, whose objects the
 * parent will hand out; the child must not.  Every stack is emptied without
 * a free, the caches of threads that do not exist here are dropped, and the
 * shadow is cleared: the child's frees of objects it inherited go to the
 * kernel, which checks them.
 */
static void ga_atfork_child(void)
{
	pthread_t self = pthread_self();
	struct goalloc_arena *a;
	struct ga_tcache *tc, *next;
	unsigned int i;

	for (a = ga_arenas; a; a = a->next) {
		for (tc = a->tcs; tc; tc = next) {
			next = tc->anext;
			for (i = 0; i < GA_TC_CLASSES; i++)
				tc->cls[i].n = 0;
			if (pthread_equal(tc->owner, self))
				continue;
			a->grown -= tc->grown;
			*tc->apprev = tc->anext;
			if (tc->anext)
				tc->anext->apprev = tc->apprev;
			for (i = 0; i < GA_TC_CLASSES; i++)
				free(tc->cls[i].offs);
			free(tc);
		}
		if (a->shadow)
			madvise(a->shadow, a->shadow_len, MADV_DONTNEED);
	}
	pthread_mutex_init(&ga_lock, NULL);
}

static void ga_init_once(void)
{
	ga_key_ok = !pthread_key_create(&ga_key, tc_thread_exit);
	pthread_atfork(ga_atfork_prepare, ga_atfork_parent, ga_atfork_child);
}

/* Set up @a's caches: a shadow, and the arena on the list fork() walks. */
static void ga_cache_init(struct goalloc_arena *a)
{
	size_t words = (a->cap >> GA_GRANULE_SHIFT) / GA_PER_WORD + 1;
	size_t pages = (a->cap >> GA_PAGEMAP_SHIFT) + 1;
	void *p;

	a->shadow = NULL;
	a->shadow_len = 0;
	a->lgen = 0;
	a->tcs = NULL;
	a->ndouble = a->nrefill = a->nflush = 0;
	a->grown = 0;
	a->kgen = 0;
	a->has_kgen = 0;
	a->grow_budget = a->cap / 32 < GA_TC_GROW_BYTES ? a->cap / 32 : GA_TC_GROW_BYTES;
	pthread_once(&ga_once, ga_init_once);
	if (!ga_key_ok)
		return;
	p = mmap(NULL, words * sizeof(unsigned long) + pages, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/* Without a shadow the cached calls go to the kernel each time. */
	if (p == MAP_FAILED)
		return;
	a->shadow = p;
	a->pagemap = (unsigned char *)(a->shadow + words);
	a->shadow_len = words * sizeof(unsigned long) + pages;
	pthread_mutex_lock(&ga_lock);
	a->next = ga_arenas;
	a->pprev = &ga_arenas;
	if (ga_arenas)
		ga_arenas->pprev = &a->next;
	ga_arenas = a;
	pthread_mutex_unlock(&ga_lock);
}

/* Empty a stack without telling the kernel (its objects are gone or not ours). */
static void tclass_drop(struct goalloc_arena *a, struct ga_tclass *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		shadow_cas(a, c->offs[i], GA_ST_CACHED, GA_ST_NONE);
	__atomic_store_n(&c->n, 0, __ATOMIC_RELAXED);
}

static void tc_drop(struct ga_tcache *tc, struct goalloc_arena *a)
{
	unsigned int i;

	for (i = 0; i < GA_TC_CLASSES; i++)
		if (tc->cls[i].n)
			tclass_drop(a, &tc->cls[i]);
}

/*
 * Give the first @k offsets of a stack back to the kernel.  Their shadow
 * goes to NONE first: once the kernel has freed them another thread may be
 * handed them, and its marks must not be undone here.  An entry the kernel
 * refuses was freed meanwhile behind the cache's back (a double free that
 * reached the kernel between the shadow and the call): counted.
 */
static void tclass_flush(struct ga_tcache *tc, struct goalloc_arena *a,
			 struct ga_tclass *c, unsigned int k)
{
	__s32 res[GA_TC_BATCH];
	struct goalloc_free fr;
	unsigned int i, done, m;
	int stale = 0;

	if (!k)
		return;
	for (i = 0; i < k; i++)
		shadow_cas(a, c->offs[i], GA_ST_CACHED, GA_ST_NONE);
	for (done = 0; done < k; done += m) {
		m = k - done < GA_TC_BATCH ? k - done : GA_TC_BATCH;
		memset(&fr, 0, sizeof(fr));
		fr.argsz = sizeof(fr);
		fr.flags = GOALLOC_FREE_GEN | GOALLOC_FREE_KEEP;
		fr.count = m;
		fr.offsets = (uintptr_t)(c->offs + done);
		fr.results = (uintptr_t)res;
		fr.gen = tc->gen;
		__atomic_fetch_add(&a->nflush, 1, __ATOMIC_RELAXED);
		if (goalloc_ioctl(a->fd, GOALLOC_IOC_FREE, &fr) == 0) {
			if (fr.nfreed != m)
				for (i = 0; i < m; i++)
					if (res[i])
						__atomic_fetch_add(&a->ndouble, 1,
								   __ATOMIC_RELAXED);
		} else if (errno == ESTALE) {
			stale = 1;
		}
	}
	memmove(c->offs, c->offs + k, (c->n - k) * sizeof(*c->offs));
	__atomic_store_n(&c->n, c->n - k, __ATOMIC_RELAXED);
	/*
	 * ESTALE: the arena was reset since the stacks were filled; their
	 * objects are gone already, and so is what the rest of them holds.
	 */
	if (stale)
		tc_drop(tc, a);
}

static void tc_flush_all(struct ga_tcache *tc, struct goalloc_arena *a)
{
	unsigned int i;

	if (tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED)) {
		tc_drop(tc, a);
		return;
	}
	for (i = 0; i < GA_TC_CLASSES; i++)
		tclass_flush(tc, a, &tc->cls[i], tc->cls[i].n);
}

static void tc_free(struct ga_tcache *tc)
{
	unsigned int i;

	/* Its growth was given back to the arena when it was unlinked. */
	for (i = 0; i < GA_TC_CLASSES; i++)
		free(tc->cls[i].offs);
	free(tc);
}

/* Unlink a live cache from its arena; ga_lock held. */
static void tc_unlink(struct ga_tcache *tc)
{
	__atomic_fetch_sub(&tc->a->grown, tc->grown, __ATOMIC_RELAXED);
	tc->grown = 0;
	*tc->apprev = tc->anext;
	if (tc->anext)
		tc->anext->apprev = tc->apprev;
	__atomic_store_n(&tc->a, NULL, __ATOMIC_RELEASE);
}

/*
 * The thread ends (the pthread key's destructor): every cache goes back to
 * its arena's kernel side.
 */
static void tc_thread_exit(void *unused)
{
	struct ga_tcache *tc, *next;
	struct goalloc_arena *a;

	(void)unused;
	pthread_mutex_lock(&ga_lock);
	for (tc = ga_tc_head; tc; tc = next) {
		next = tc->tnext;
		a = __atomic_load_n(&tc->a, __ATOMIC_ACQUIRE);
		if (a) {
			tc_flush_all(tc, a);
			tc_unlink(tc);
		}
		tc_free(tc);
	}
	ga_tc_head = NULL;
	ga_tc_last = NULL;
	pthread_mutex_unlock(&ga_lock);
}

/* Close: every thread's cache of @a back to the kernel, the shadow unmapped. */
static void ga_cache_fini(struct goalloc_arena *a)
{
	if (!a->shadow)
		return;
	pthread_mutex_lock(&ga_lock);
	while (a->tcs) {
		struct ga_tcache *tc = a->tcs;

		tc_flush_all(tc, a);
		/* Its thread frees it when it next walks its caches. */
		tc_unlink(tc);
	}
	*a->pprev = a->next;
	if (a->next)
		a->next->pprev = a->pprev;
	pthread_mutex_unlock(&ga_lock);
	munmap(a->shadow, a->shadow_len);
	a->shadow = NULL;
}

/* This thread's cache of @a, made if need be; NULL if it cannot be. */
static struct ga_tcache *tc_get(struct goalloc_arena *a)
{
	struct ga_tcache *tc, **pp;

	if (!a->shadow)
		return NULL;
	for (pp = &ga_tc_head; (tc = *pp);) {
		struct goalloc_arena *ta = __atomic_load_n(&tc->a, __ATOMIC_ACQUIRE);

		if (!ta) {
			/* Its arena was closed: nobody else refers to it. */
			*pp = tc->tnext;
			if (ga_tc_last == tc)
				ga_tc_last = NULL;
			tc_free(tc);
			continue;
		}
		if (ta == a)
			return ga_tc_last = tc;
		pp = &tc->tnext;
	}
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	/* Non-NULL, so that the destructor runs at the thread's exit. */
	if (pthread_setspecific(ga_key, tc)) {
		free(tc);
		return NULL;
	}
	tc->owner = pthread_self();
	tc->a = a;
	pthread_mutex_lock(&ga_lock);
	tc->lgen = __atomic_load_n(&a->lgen, __ATOMIC_RELAXED);
	tc->anext = a->tcs;
	tc->apprev = &a->tcs;
	if (a->tcs)
		a->tcs->apprev = &tc->anext;
	a->tcs = tc;
	pthread_mutex_unlock(&ga_lock);
	tc->tnext = ga_tc_head;
	ga_tc_head = tc;
	return ga_tc_last = tc;
}

/* Room for a stack of class @idx; c->cap stays 0 if there is no memory. */
static void tclass_alloc(struct ga_tclass *c, unsigned int idx)
{
	unsigned int cap = tc_cap(ga_idx_size[idx]);

	c->offs = malloc(cap * sizeof(*c->offs));
	if (c->offs)
		c->cap = cap;
}

/* The index of the class whose slots are @obj_size bytes; 0 if no room. */
static unsigned int class_index(unsigned int obj_size)
{
	unsigned int i;

	for (i = 1; i < ga_nidx; i++)
		if (ga_idx_size[i] == obj_size)
			return i;
	if (ga_nidx == GA_TC_CLASSES)
		return 0;
	ga_idx_size[ga_nidx] = obj_size;
	return ga_nidx++;
}

/* The kernel said requests of @size get @obj_size slots: so do all up to it. */
static unsigned int learn_class(size_t size, __u64 obj_size)
{
	unsigned int idx, t;

	if (obj_size < size || obj_size > GA_TC_MAX_SIZE || obj_size % 8)
		return 0;
	pthread_mutex_lock(&ga_lock);
	idx = class_index((unsigned int)obj_size);
	if (idx)
		for (t = (unsigned int)(size + 7) / 8; t <= obj_size / 8; t++)
			__atomic_store_n(&ga_size_idx[t], (unsigned char)idx, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ga_lock);
	return idx;
}

/* Take @k offsets (the cache's copy of them is in @offs) back to the kernel. */
static void give_back(struct goalloc_arena *a, const __u64 *offs, unsigned int k, __u64 gen)
{
	struct goalloc_free fr;

	if (!k)
		return;
	memset(&fr, 0, sizeof(fr));
	fr.argsz = sizeof(fr);
	fr.flags = GOALLOC_FREE_GEN | GOALLOC_FREE_KEEP;
	fr.count = k;
	fr.offsets = (uintptr_t)offs;
	fr.gen = gen;
	goalloc_ioctl(a->fd, GOALLOC_IOC_FREE, &fr);
}

/*
 * A refill reported the kernel's reset generation @gen.  If it is not the
 * one the process knew, another process has reset the arena: every cached
 * offset and every live state of the process is stale, and all are
 * forgotten (goalloc_cache_drop(), once per reset, by the first thread to
 * see it).
 */
static void note_gen(struct goalloc_arena *a, struct ga_tcache *tc, __u64 gen)
{
	if (tc->has_gen && tc->gen == gen)
		return;
	pthread_mutex_lock(&ga_lock);
	if (a->has_kgen && a->kgen != gen)
		goalloc_cache_drop(a);
	a->kgen = gen;
	a->has_kgen = 1;
	pthread_mutex_unlock(&ga_lock);
	if (tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED)) {
		tc_drop(tc, a);
		tc->lgen = __atomic_load_n(&a->lgen, __ATOMIC_RELAXED);
	}
	tc->gen = gen;
	tc->has_gen = 1;
}

/*
 * The slow path of goalloc_cached_alloc(): the stack for @size is empty or
 * the class not known yet.  Refill it with one GOALLOC_IOC_ALLOC.
 */
static void *cached_alloc_slow(struct goalloc_arena *a, struct ga_tcache *tc, size_t size)
{
	__u64 offs[GA_TC_BATCH];
	struct goalloc_alloc req;
	struct ga_tclass *c;
	unsigned int idx, want, i, room;

	if (tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED)) {
		tc_drop(tc, a);
		tc->lgen = __atomic_load_n(&a->lgen, __ATOMIC_RELAXED);
	}
	idx = __atomic_load_n(&ga_size_idx[(size + 7) / 8], __ATOMIC_ACQUIRE);
	want = tc_cap(idx ? ga_idx_size[idx] : (unsigned int)size) / 2;
	if (idx && tc->cls[idx].cap)
		want = tc->cls[idx].cap / 2;
	if (want > GA_TC_BATCH)
		want = GA_TC_BATCH;

	memset(&req, 0, sizeof(req));
	req.argsz = sizeof(req);
	req.size = size;
	req.count = want;
	req.offsets = (uintptr_t)offs;
	__atomic_fetch_add(&a->nrefill, 1, __ATOMIC_RELAXED);
	if (goalloc_ioctl(a->fd, GOALLOC_IOC_ALLOC, &req) < 0) {
		/* Short of memory for a batch: one object may still fit. */
		if (errno != ENOMEM || want == 1)
			return NULL;
		req.count = want = 1;
		if (goalloc_ioctl(a->fd, GOALLOC_IOC_ALLOC, &req) < 0)
			return NULL;
	}
	for (i = 0; i < want; i++)
		if (offs[i] >= a->cap || size > a->cap - offs[i])
			break;
	if (i < want) {
		/* An offset the mapping cannot reach would be a kernel bug. */
		give_back(a, offs, want, req.gen);
		errno = EIO;
		return NULL;
	}
	note_gen(a, tc, req.gen);

	if (!idx)
		idx = learn_class(size, req.obj_size);
	c = idx ? &tc->cls[idx] : NULL;
	if (c && !c->cap)
		tclass_alloc(c, idx);
	if (!c || !c->cap) {
		/* Not cacheable: keep one, give the rest back. */
		give_back(a, offs + 1, want - 1, req.gen);
		__atomic_store_n(&a->pagemap[offs[0] >> GA_PAGEMAP_SHIFT], 0, __ATOMIC_RELAXED);
		shadow_mark_live(a, offs[0]);
		return a->base + offs[0];
	}
	room = c->cap - c->n;
	if (room < want - 1) {
		give_back(a, offs + 1 + room, want - 1 - room, req.gen);
		want = room + 1;
	}
	for (i = 0; i < want; i++)
		__atomic_store_n(&a->pagemap[offs[i] >> GA_PAGEMAP_SHIFT], (unsigned char)idx,
				 __ATOMIC_RELAXED);
	for (i = 1; i < want; i++) {
		shadow_cas(a, offs[i], -1, GA_ST_CACHED);
		c->offs[c->n + i - 1] = offs[i];
	}
	__atomic_store_n(&c->n, c->n + want - 1, __ATOMIC_RELAXED);
	shadow_cas(a, offs[0], -1, GA_ST_LIVE);
	return a->base + offs[0];
}

/**
 * goalloc_cached_alloc() - one object of @size bytes from this thread's cache
 * @a: the arena
 * @size: bytes, 1 .. GOALLOC_MAX_OBJECT
 *
 * Objects up to 32 KiB come from the calling thread's cache of @a, which is
 * refilled from the kernel in batches; larger ones are allocated by the
 * kernel one by one.  A reused slot is not zeroed.
 *
 * Return: the object, or NULL with errno set.
 */
void *goalloc_cached_alloc(struct goalloc_arena *a, size_t size)
{
	struct ga_tcache *tc = ga_tc_last;
	struct ga_tclass *c;
	unsigned int idx, n;
	__u64 off;

	if (size - 1 >= GA_TC_MAX_SIZE)
		return goalloc_alloc1(a, size);
	if (!tc || __atomic_load_n(&tc->a, __ATOMIC_RELAXED) != a) {
		tc = tc_get(a);
		if (!tc)
			return goalloc_alloc1(a, size);
	}
	idx = __atomic_load_n(&ga_size_idx[(size + 7) / 8], __ATOMIC_ACQUIRE);
	c = &tc->cls[idx];
	n = c->n;
	if (!idx || !n || tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED))
		return cached_alloc_slow(a, tc, size);
	off = c->offs[--n];
	__atomic_store_n(&c->n, n, __ATOMIC_RELAXED);
	shadow_cas(a, off, -1, GA_ST_LIVE);
	return a->base + off;
}

/* Double a full stack if the arena's growth budget allows: true if it did. */
static int tclass_grow(struct goalloc_arena *a, struct ga_tcache *tc, struct ga_tclass *c,
		       unsigned int idx)
{
	size_t delta = (size_t)c->cap * ga_idx_size[idx];
	__u64 *offs;

	if (c->cap * 2 > GA_TC_GROW_MAX_OBJS)
		return 0;
	if (__atomic_add_fetch(&a->grown, delta, __ATOMIC_RELAXED) > a->grow_budget)
		goto undo;
	offs = realloc(c->offs, (size_t)c->cap * 2 * sizeof(*offs));
	if (!offs)
		goto undo;
	c->offs = offs;
	c->cap *= 2;
	tc->grown += delta;
	return 1;
undo:
	__atomic_fetch_sub(&a->grown, delta, __ATOMIC_RELAXED);
	return 0;
}

/**
 * goalloc_cached_free() - free one object into this thread's cache
 * @a: the arena
 * @p: the object, or NULL (nothing is done)
 *
 * An object this process handed out (goalloc_cached_alloc(),
 * goalloc_alloc_batch(), goalloc_alloc1()) and has not freed since goes to
 * the calling thread's cache of @a, whatever thread allocated it; a full
 * stack gives its older half back to the kernel.  Any other address goes
 * to the kernel at once, which frees it or refuses it.
 *
 * Return: 0, or -1 with errno set: ENOENT for a double free (the object is
 * in a cache of this process already, or the kernel has no object there),
 * EINVAL (inside an object), EFAULT (outside the mapping).
 */
int goalloc_cached_free(struct goalloc_arena *a, void *p)
{
	struct ga_tcache *tc = ga_tc_last;
	struct ga_tclass *c;
	unsigned long st;
	unsigned int idx, n;
	__u64 off;

	if (!p)
		return 0;
	off = (uintptr_t)p - (uintptr_t)a->base;
	if ((uintptr_t)p < (uintptr_t)a->base || off >= a->cap || !a->shadow) {
		errno = EFAULT;
		return a->shadow ? -1 : goalloc_free1(a, p);
	}
	/* Not an object's start: the kernel says what it is (EINVAL...). */
	if (off % 8)
		return goalloc_free1(a, p);
	st = shadow_cas(a, off, GA_ST_LIVE, GA_ST_CACHED);
	if (st == GA_ST_CACHED) {
		__atomic_fetch_add(&a->ndouble, 1, __ATOMIC_RELAXED);
		errno = ENOENT;
		return -1;
	}
	if (st != GA_ST_LIVE)
		return goalloc_free1(a, p);
	/* CACHED now: find the stack; the class is known since the refill. */
	if (!tc || __atomic_load_n(&tc->a, __ATOMIC_RELAXED) != a)
		tc = tc_get(a);
	idx = 0;
	if (tc) {
		if (tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED)) {
			tc_drop(tc, a);
			tc->lgen = __atomic_load_n(&a->lgen, __ATOMIC_RELAXED);
		}
		/* A LIVE object's page was recorded when it was handed out. */
		idx = __atomic_load_n(&a->pagemap[off >> GA_PAGEMAP_SHIFT], __ATOMIC_RELAXED);
	}
	c = idx ? &tc->cls[idx] : NULL;
	if (c && !c->cap)
		tclass_alloc(c, idx);
	if (!c || !c->cap) {
		shadow_cas(a, off, GA_ST_CACHED, GA_ST_NONE);
		return goalloc_free1(a, p);
	}
	n = c->n;
	if (n == c->cap && !tclass_grow(a, tc, c, idx)) {
		tclass_flush(tc, a, c, c->cap / 2);
		n = c->n;
	}
	c->offs[n] = off;
	__atomic_store_n(&c->n, n + 1, __ATOMIC_RELAXED);
	return 0;
}

/**
 * goalloc_cache_flush() - give this thread's cache of @a back to the kernel
 * @a: the arena
 *
 * Every object the calling thread's cache holds is freed in the kernel (a
 * batch per class).  Other threads' caches are theirs to flush; each is
 * flushed when its thread exits and when the arena is closed.
 */
void goalloc_cache_flush(struct goalloc_arena *a)
{
	struct ga_tcache *tc;

	if (!a->shadow)
		return;
	tc = tc_get(a);
	if (tc)
		tc_flush_all(tc, a);
}

/**
 * goalloc_cache_drop() - forget what this process's caches of @a hold
 * @a: the arena
 *
 * For a process whose arena another process has reset: the objects its
 * caches hold are gone, and their offsets may be handed to others.  They
 * are forgotten without a free, and so is what the process handed out
 * (its frees go to the kernel, which checks them).  goalloc_reset() does
 * this itself.  No other thread may use @a meanwhile.
 */
void goalloc_cache_drop(struct goalloc_arena *a)
{
	if (!a->shadow)
		return;
	/* Each thread empties its stacks when it sees the new generation. */
	__atomic_fetch_add(&a->lgen, 1, __ATOMIC_RELAXED);
	madvise(a->shadow, a->shadow_len, MADV_DONTNEED);
}

/**
 * goalloc_cache_stats() - what this process's caches of @a hold and did
 * @a: the arena
 * @st: filled in (all zero without caches)
 */
void goalloc_cache_stats(struct goalloc_arena *a, struct goalloc_cache_stats *st)
{
	struct ga_tcache *tc;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (!a->shadow)
		return;
	pthread_mutex_lock(&ga_lock);
	for (tc = a->tcs; tc; tc = tc->anext) {
		if (tc->lgen != __atomic_load_n(&a->lgen, __ATOMIC_RELAXED))
			continue;
		for (i = 0; i < GA_TC_CLASSES; i++)
			st->cached += __atomic_load_n(&tc->cls[i].n, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&ga_lock);
	st->double_frees = __atomic_load_n(&a->ndouble, __ATOMIC_RELAXED);
	st->refills = __atomic_load_n(&a->nrefill, __ATOMIC_RELAXED);
	st->flushes = __atomic_load_n(&a->nflush, __ATOMIC_RELAXED);
}

/*
 * This process reset the arena: forget the caches, and learn the new
 * generation, so that the next refill does not take the reset for someone
 * else's and drop the stacks filled after it.
 */
static void ga_cache_reset(struct goalloc_arena *a)
{
	struct goalloc_stats st;

	if (!a->shadow)
		return;
	pthread_mutex_lock(&ga_lock);
	goalloc_cache_drop(a);
	if (goalloc_fd_stats(a->fd, &st, NULL, NULL) == 0) {
		a->kgen = st.nreset;
		a->has_kgen = 1;
	}
	pthread_mutex_unlock(&ga_lock);
}
