// SPDX-License-Identifier: GPL-2.0
/*
 * arena-demo: a userspace arena from /dev/goalloc, end to end.
 *
 * Opens an 8 MiB arena, allocates 1000 x 64 B and 10 x 100 KiB, writes a
 * pattern, forks a child that checks the bytes through its own (inherited)
 * mapping and writes a reply, frees half of the small objects (and shows
 * three refused frees), resets the arena and shows that an old pointer then
 * raises SIGBUS, and that the mapping serves new objects afterwards.
 * Exits 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libgoalloc.h"

#define CAP		(8U << 20)
#define NSMALL		1000
#define SMALL		64
#define NBIG		10
#define BIG		(100U << 10)
#define REPLY_FMT	"reply from child %d"

static void *small[NSMALL], *big[NBIG];
static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL: %s\n", what);
		failures++;
	}
}

/* The name of a negative errno the demo expects, else its number. */
static const char *errname(int err)
{
	static char buf[16];

	switch (-err) {
	case ENOENT:
		return "-ENOENT";
	case EINVAL:
		return "-EINVAL";
	case EFAULT:
		return "-EFAULT";
	}
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

static unsigned char pattern(unsigned int obj, size_t i)
{
	return (unsigned char)(obj * 151 + i * 7 + 1);
}

static void fill(void)
{
	size_t i;
	unsigned int k;

	for (k = 0; k < NSMALL; k++)
		for (i = 0; i < SMALL; i++)
			((unsigned char *)small[k])[i] = pattern(k, i);
	for (k = 0; k < NBIG; k++)
		for (i = 0; i < BIG; i++)
			((unsigned char *)big[k])[i] = pattern(NSMALL + k, i);
}

/* Bytes that differ from the pattern. */
static size_t verify(void)
{
	size_t i, bad = 0;
	unsigned int k;

	for (k = 0; k < NSMALL; k++)
		for (i = 0; i < SMALL; i++)
			bad += ((unsigned char *)small[k])[i] != pattern(k, i);
	for (k = 0; k < NBIG; k++)
		for (i = 0; i < BIG; i++)
			bad += ((unsigned char *)big[k])[i] != pattern(NSMALL + k, i);
	return bad;
}

static void print_stats(struct goalloc_arena *a, const char *when)
{
	struct goalloc_stats st;

	if (goalloc_stats(a, &st, NULL, NULL) < 0) {
		printf("stats: %s\n", strerror(errno));
		failures++;
		return;
	}
	printf("stats %s:\n", when);
	printf("  arena: %llu objects, %llu bytes allocated, %llu held, %llu charged, %llu spans\n",
	       (unsigned long long)st.objects, (unsigned long long)st.bytes_allocated,
	       (unsigned long long)st.bytes_held, (unsigned long long)st.bytes_charged,
	       (unsigned long long)st.spans);
	printf("         nalloc %llu, nfree %llu, nreset %llu\n",
	       (unsigned long long)st.nalloc, (unsigned long long)st.nfree,
	       (unsigned long long)st.nreset);
	printf("  goalloc: heap %llu bytes, %llu in use, %llu chunks; arenas open: %llu\n",
	       (unsigned long long)st.heap_bytes, (unsigned long long)st.heap_inuse_bytes,
	       (unsigned long long)st.heap_chunks, (unsigned long long)st.arenas);
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Whether reading *@p raises SIGBUS. */
static int raises_sigbus(const unsigned char *p)
{
	unsigned char byte;
	struct sigaction sa, old;
	int faulted;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1) == 0) {
		byte = *p;
		/* Make the compiler perform the load. */
		__asm__ __volatile__("" : : "r"(byte) : "memory");
		faulted = 0;
	} else {
		faulted = 1;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

static int run_child(void)
{
	size_t bad = verify();

	if (bad) {
		printf("the child found %zu bytes not as the parent wrote them\n", bad);
		return 1;
	}
	snprintf(small[NSMALL - 1], SMALL, REPLY_FMT, (int)getpid());
	return 0;
}

int main(void)
{
	void *bad_ptrs[3];
	int results[NSMALL / 2 + 3], status, outside = 0;
	struct goalloc_stats st;
	struct goalloc_arena *a;
	char want[SMALL];
	unsigned int k;
	ssize_t nfreed;
	void *p;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	a = goalloc_open(CAP);
	if (!a) {
		const char *dev = getenv(LIBGOALLOC_DEV_ENV);

		printf("arena-demo: %s: %s%s\n", dev && *dev ? dev : LIBGOALLOC_DEFAULT_DEV,
		       strerror(errno), errno == ENOENT ? " (is goalloc.ko loaded?)" : "");
		return 1;
	}
	printf("arena: fd %d, %zu KiB cap mapped at %p\n", goalloc_fd(a), goalloc_cap(a) >> 10,
	       goalloc_base(a));

	if (goalloc_alloc_batch(a, SMALL, NSMALL, small, 0) < 0 ||
	    goalloc_alloc_batch(a, BIG, NBIG, big, 0) < 0) {
		printf("arena-demo: alloc: %s\n", strerror(errno));
		goalloc_close(a);
		return 1;
	}
	for (k = 0; k < NSMALL; k++)
		outside += (uintptr_t)small[k] % SMALL != 0 ||
			   goalloc_off(a, small[k]) == LIBGOALLOC_NO_OFFSET;
	for (k = 0; k < NBIG; k++)
		outside += (uintptr_t)big[k] % 8 != 0 ||
			   goalloc_off(a, big[k]) == LIBGOALLOC_NO_OFFSET;
	check(!outside, "objects inside the mapping and aligned");
	printf("allocated %u x %u B and %u x %u KiB (offsets %#llx .. %#llx)\n", NSMALL, SMALL,
	       NBIG, BIG >> 10, (unsigned long long)goalloc_off(a, small[0]),
	       (unsigned long long)goalloc_off(a, big[NBIG - 1]));

	fill();
	check(verify() == 0, "pattern reads back");
	printf("wrote a pattern into all %u bytes\n", NSMALL * SMALL + NBIG * BIG);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("arena-demo: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0)
		_exit(run_child());
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child saw the pattern");
	snprintf(want, sizeof(want), REPLY_FMT, (int)pid);
	check(strcmp(small[NSMALL - 1], want) == 0, "child's reply seen by the parent");
	printf("child %d saw the same bytes and replied: \"%s\"\n", (int)pid,
	       (char *)small[NSMALL - 1]);

	/* Free the first half of the small objects, plus three bad entries. */
	bad_ptrs[0] = small[0];				/* freed twice: -ENOENT */
	bad_ptrs[1] = (unsigned char *)big[0] + 8;	/* inside an object: -EINVAL */
	bad_ptrs[2] = &status;				/* not in the arena: -EFAULT */
	nfreed = goalloc_free_batch(a, NSMALL / 2, small, results);
	check(nfreed == NSMALL / 2, "free of half the small objects");
	for (k = 0; k < NSMALL / 2; k++)
		check(results[k] == 0, "free result 0");
	check(goalloc_free_batch(a, 3, bad_ptrs, results) == 0, "bad frees refused");
	check(results[0] == -ENOENT && results[1] == -EINVAL && results[2] == -EFAULT,
	      "bad frees refused with ENOENT, EINVAL, EFAULT");
	printf("freed %zd objects; refused: double free %s, interior pointer %s,\n"
	       "  pointer outside the arena %s\n", nfreed, errname(results[0]),
	       errname(results[1]), errname(results[2]));

	print_stats(a, "before reset");
	check(goalloc_stats(a, &st, NULL, NULL) == 0 &&
	      st.objects == NSMALL / 2 + NBIG, "arena object count");

	check(goalloc_reset(a) == 0, "reset");
	if (raises_sigbus(big[3]) && raises_sigbus(small[NSMALL - 1]))
		printf("SIGBUS after reset, as expected\n");
	else
		check(0, "SIGBUS on an old pointer after reset");

	print_stats(a, "after reset");
	check(goalloc_stats(a, &st, NULL, NULL) == 0 && st.objects == 0 && st.nreset == 1,
	      "arena empty after reset");

	p = goalloc_alloc1(a, SMALL);
	check(!!p, "allocation after reset");
	if (p) {
		memset(p, 0x5a, SMALL);
		check(((unsigned char *)p)[SMALL - 1] == 0x5a, "new object usable after reset");
		check(goalloc_free1(a, p) == 0, "free of the new object");
		printf("the mapping serves new objects after reset\n");
	}
	goalloc_close(a);

	if (failures) {
		printf("arena-demo: %d check%s FAILED\n", failures, failures == 1 ? "" : "s");
		return 1;
	}
	printf("arena-demo: all checks passed\n");
	return 0;
}
