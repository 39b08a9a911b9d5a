/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libgoalloc: userspace arenas from /dev/goalloc.
 *
 * An arena is an open file of /dev/goalloc mapped whole (its cap, from file
 * offset 0) with mmap(MAP_SHARED).  Objects are allocated and freed in
 * batches by ioctl; the kernel hands out offsets, which this library turns
 * into pointers (mapping base + offset) and back.  Offsets, not pointers,
 * are what two processes sharing an arena agree on: each has its own base.
 *
 * goalloc_cached_alloc() and goalloc_cached_free() serve single objects
 * from per-thread caches (batches taken from and given back to the kernel);
 * every other call goes to the kernel.  Any number of threads may use an
 * arena handle at once, but none may still use it once goalloc_close() is
 * called, nor during a goalloc_reset() or goalloc_cache_drop().
 *
 * See Documentation/libgoalloc.rst and uapi/linux/goalloc.h.
 */
#ifndef _LIBGOALLOC_H
#define _LIBGOALLOC_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/goalloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The device goalloc_open() opens unless the environment names another. */
#define LIBGOALLOC_DEFAULT_DEV	"/dev/goalloc"
/* The environment variable that overrides it. */
#define LIBGOALLOC_DEV_ENV	"GOALLOC_DEV"
/* What goalloc_off() returns for a pointer outside the arena's mapping. */
#define LIBGOALLOC_NO_OFFSET	((__u64)-1)

struct goalloc_arena;

struct goalloc_arena *goalloc_open(size_t max_size);
struct goalloc_arena *goalloc_from_fd(int fd);
void goalloc_close(struct goalloc_arena *a);

int goalloc_fd(const struct goalloc_arena *a);
void *goalloc_base(const struct goalloc_arena *a);
size_t goalloc_cap(const struct goalloc_arena *a);

void *goalloc_ptr(const struct goalloc_arena *a, __u64 off);
__u64 goalloc_off(const struct goalloc_arena *a, const void *p);

int goalloc_alloc_batch(struct goalloc_arena *a, size_t size, size_t count, void **ptrs,
			unsigned int flags);
ssize_t goalloc_free_batch(struct goalloc_arena *a, size_t count, void *const *ptrs,
			   int *results);
void *goalloc_alloc1(struct goalloc_arena *a, size_t size);
int goalloc_free1(struct goalloc_arena *a, void *p);

void *goalloc_cached_alloc(struct goalloc_arena *a, size_t size);
int goalloc_cached_free(struct goalloc_arena *a, void *p);
void goalloc_cache_flush(struct goalloc_arena *a);
void goalloc_cache_drop(struct goalloc_arena *a);

/**
 * struct goalloc_cache_stats - this process's thread caches of one arena
 * @cached: objects in the caches now (allocated, as the kernel counts)
 * @double_frees: double frees caught: at the call (the object was in a
 *	cache) or when a cache's batch went back to the kernel
 * @refills: GOALLOC_IOC_ALLOC calls the caches made
 * @flushes: GOALLOC_IOC_FREE calls the caches made
 */
struct goalloc_cache_stats {
	__u64 cached;
	__u64 double_frees;
	__u64 refills;
	__u64 flushes;
};

void goalloc_cache_stats(struct goalloc_arena *a, struct goalloc_cache_stats *st);

int goalloc_reset(struct goalloc_arena *a);
int goalloc_stats(struct goalloc_arena *a, struct goalloc_stats *st,
		  struct goalloc_class_stat *classes, unsigned int *nclasses);
int goalloc_fd_stats(int fd, struct goalloc_stats *st, struct goalloc_class_stat *classes,
		     unsigned int *nclasses);

#ifdef __cplusplus
}
#endif

#endif /* _LIBGOALLOC_H */
