// SPDX-License-Identifier: GPL-2.0
/*
 * libgoalloc: userspace arenas from /dev/goalloc.
 *
 * A thin layer over the ioctls of uapi/linux/goalloc.h: it opens and maps an
 * arena, splits batches into GOALLOC_MAX_BATCH pieces and converts between
 * the kernel's offsets and pointers into the caller's mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libgoalloc.h"

struct goalloc_arena {
	int fd;			/* the open file of /dev/goalloc: the arena */
	unsigned char *base;	/* where file offset 0 is mapped */
	size_t cap;		/* the arena's cap: bytes mapped */
};

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
		for (i = 0; i < m; i++)
			put_off(chunk, i, goalloc_off(a, ptrs[done + i]));
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
		for (i = 0; i < m; i++)
			ptrs[done + i] = a->base + (size_t)get_off(chunk, i);
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
	return goalloc_ioctl(a->fd, GOALLOC_IOC_RESET, &rs);
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
