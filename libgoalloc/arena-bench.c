// SPDX-License-Identifier: GPL-2.0
/*
 * arena-bench: what one object costs through /dev/goalloc's batched
 * ioctls, against glibc malloc/free in the same process.
 *
 *   arena-bench [SIZE [ROUNDS]]
 *
 * For batches of 1, 16 and 256 objects of SIZE bytes (default 64), it
 * allocates and frees 65536 objects per round, batch by batch, and prints
 * nanoseconds per object for the ALLOC and the FREE ioctl and for the same
 * number of malloc() and free() calls.  Informal: a single process, no
 * pinning, wall-clock time; the benchmark suite does this rigorously.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/goalloc.h>

#define OBJECTS		65536U
#define MAX_BATCH	256U

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int one_round(int fd, unsigned long size, unsigned int n, double res[4])
{
	static __u64 offs[MAX_BATCH];
	static void *ptrs[MAX_BATCH];
	unsigned int i, j;
	double t0, t1;

	memset(res, 0, 4 * sizeof(double));
	for (i = 0; i < OBJECTS / n; i++) {
		struct goalloc_alloc a = {
			.argsz = sizeof(a), .size = size, .count = n,
			.offsets = (__u64)(unsigned long)offs,
		};
		struct goalloc_free f = {
			.argsz = sizeof(f), .count = n,
			.offsets = (__u64)(unsigned long)offs,
		};

		t0 = now_ns();
		if (ioctl(fd, GOALLOC_IOC_ALLOC, &a))
			return -errno;
		t1 = now_ns();
		if (ioctl(fd, GOALLOC_IOC_FREE, &f))
			return -errno;
		if (f.nfreed != n)
			return -EIO;
		res[0] += t1 - t0;
		res[1] += now_ns() - t1;
	}
	for (i = 0; i < OBJECTS / n; i++) {
		t0 = now_ns();
		for (j = 0; j < n; j++) {
			ptrs[j] = malloc(size);
			if (!ptrs[j])
				return -ENOMEM;
			/* Keep the compiler from pairing malloc with free. */
			*(volatile char *)ptrs[j] = 0;
		}
		t1 = now_ns();
		for (j = 0; j < n; j++)
			free(ptrs[j]);
		res[2] += t1 - t0;
		res[3] += now_ns() - t1;
	}
	for (i = 0; i < 4; i++)
		res[i] /= OBJECTS;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 16, MAX_BATCH };
	unsigned long size = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	const char *dev = getenv("GOALLOC_DEV") ?: "/dev/goalloc";
	double res[4];
	int fd, r, err;
	unsigned int b;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "arena-bench: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	printf("arena-bench: %lu-byte objects, %u per round, ns per object\n", size, OBJECTS);
	printf("round  batch  ioctl-alloc  ioctl-free  malloc   free\n");
	for (r = 0; r < rounds; r++) {
		for (b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
			err = one_round(fd, size, batches[b], res);
			if (err) {
				fprintf(stderr, "arena-bench: %s\n", strerror(-err));
				return 1;
			}
			printf("%5d  %5u  %11.1f  %10.1f  %6.1f  %5.1f\n", r, batches[b],
			       res[0], res[1], res[2], res[3]);
		}
	}
	close(fd);
	return 0;
}
