// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_soak_user: /dev/goalloc hammered for a while, patterns checked.
 *
 * Usage: goalloc_soak_user [-s SECONDS]     (default 5)
 *
 * Worker processes, all at once until the time is up:
 *  - threads (two processes of three threads, each process one arena):
 *    random batches of ALLOC and FREE, every object patterned at
 *    allocation and checked before its free, every FREE result checked;
 *    between rounds the arena, emptied, must count no object, and is reset
 *    or closed and opened again.  The first of these processes is killed
 *    with SIGKILL about once a second, mid-ioctl, and started again;
 *  - fork: a child shares the parent's arena, allocates and frees its own
 *    objects, and checks the parent's;
 *  - kill: a child sharing the arena loops on 65536-object ALLOC and FREE
 *    calls and is killed at a random moment; the parent's objects must be
 *    intact, the arena usable, and a RESET must leave it empty;
 *  - reset: fill, check, RESET; the arena must then be empty, and memory
 *    allocated after the reset must read as zero.
 *
 * Counts go to a shared page; the end is TAP (kselftest.h) and one
 * parseable line, "# SOAK-USER key=value ...", which tools/soak.sh reads.
 * Run in the normal test guest with its 5-second default, and by the soak.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/goalloc.h>

#include "kselftest.h"

#define DEV		"/dev/goalloc"
#define ARENA_CAP	(16ULL << 20)
#define MAXLIVE		256
#define THREADS		3
#define BIG_BATCH	65536

struct counts {
	long alloc_calls, objects, free_calls, freed, enomem, resets, reopens;
	long forks, kills, respawns, rounds, stats_calls;
	long mismatches, errors;
	int reported;
};

static struct counts *cnt;	/* shared by every process */
static double deadline;

#define COUNT(f, n)	__atomic_fetch_add(&cnt->f, (n), __ATOMIC_RELAXED)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 mix(__u64 x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 29;
	return x;
}

/* One report of the first problem; every problem counted. */
static void problem(bool mismatch, const char *fmt, ...)
{
	va_list ap;

	if (mismatch)
		COUNT(mismatches, 1);
	else
		COUNT(errors, 1);
	if (__atomic_exchange_n(&cnt->reported, 1, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "# goalloc_soak_user[%d]: %s: ", getpid(),
		mismatch ? "PATTERN MISMATCH" : "ERROR");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct arena {
	int fd;
	char *map;
};

static int arena_open(struct arena *a)
{
	struct goalloc_setup s = { .argsz = sizeof(s), .max_size = ARENA_CAP };

	a->fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (a->fd < 0) {
		problem(false, "open %s: %s", DEV, strerror(errno));
		return -1;
	}
	if (ioctl(a->fd, GOALLOC_IOC_SETUP, &s)) {
		problem(false, "SETUP: %s", strerror(errno));
		close(a->fd);
		return -1;
	}
	a->map = mmap(NULL, ARENA_CAP, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (a->map == MAP_FAILED) {
		problem(false, "mmap: %s", strerror(errno));
		close(a->fd);
		return -1;
	}
	COUNT(reopens, 1);
	return 0;
}

static void arena_close(struct arena *a)
{
	munmap(a->map, ARENA_CAP);
	close(a->fd);
}

/* 0, -ENOMEM, or another -errno (counted as an error). */
static int ga_alloc(struct arena *a, __u64 size, __u64 count, __u32 flags, __u64 *offs)
{
	struct goalloc_alloc r = {
		.argsz = sizeof(r), .flags = flags, .size = size, .count = count,
		.offsets = (__u64)(uintptr_t)offs,
	};

	if (!ioctl(a->fd, GOALLOC_IOC_ALLOC, &r)) {
		COUNT(alloc_calls, 1);
		COUNT(objects, count);
		return 0;
	}
	if (errno == ENOMEM) {
		COUNT(enomem, 1);
		return -ENOMEM;
	}
	problem(false, "ALLOC %llu x %llu: %s", (unsigned long long)count,
		(unsigned long long)size, strerror(errno));
	return -errno;
}

/* Free objects the caller owns: every one must go. */
static void ga_free(struct arena *a, __u64 count, const __u64 *offs)
{
	__s32 res[MAXLIVE];
	struct goalloc_free f = {
		.argsz = sizeof(f), .count = count, .offsets = (__u64)(uintptr_t)offs,
		.results = count <= MAXLIVE ? (__u64)(uintptr_t)res : 0,
	};
	__u64 i;

	if (ioctl(a->fd, GOALLOC_IOC_FREE, &f)) {
		problem(false, "FREE of %llu: %s", (unsigned long long)count, strerror(errno));
		return;
	}
	COUNT(free_calls, 1);
	COUNT(freed, f.nfreed);
	if (f.nfreed != count)
		problem(false, "FREE of %llu own objects freed %llu", (unsigned long long)count,
			(unsigned long long)f.nfreed);
	for (i = 0; f.results && i < count; i++)
		if (res[i])
			problem(false, "FREE of own object at %#llx: result %d",
				(unsigned long long)offs[i], res[i]);
}

static int ga_reset(struct arena *a)
{
	struct goalloc_reset r = { .argsz = sizeof(r) };

	if (ioctl(a->fd, GOALLOC_IOC_RESET, &r)) {
		problem(false, "RESET: %s", strerror(errno));
		return -1;
	}
	COUNT(resets, 1);
	return 0;
}

static int ga_stats(struct arena *a, struct goalloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	if (ioctl(a->fd, GOALLOC_IOC_STATS, st)) {
		problem(false, "STATS: %s", strerror(errno));
		return -1;
	}
	COUNT(stats_calls, 1);
	return 0;
}

/* The arena must hold no object (and after a reset, no memory). */
static void expect_empty(struct arena *a, const char *when, bool no_memory)
{
	struct goalloc_stats st;

	if (ga_stats(a, &st))
		return;
	if (st.objects || (no_memory && st.bytes_held))
		problem(false, "%s: %llu objects, %llu bytes held", when,
			(unsigned long long)st.objects, (unsigned long long)st.bytes_held);
}

struct obj {
	__u64 off;
	__u32 size;
	__u32 seed;
};

static void fill(struct arena *a, const struct obj *o)
{
	char *p = a->map + o->off;
	__u32 i;

	for (i = 0; i < o->size; i += 8) {
		__u64 w = mix((__u64)o->seed << 32 | i);

		memcpy(p + i, &w, o->size - i < 8 ? o->size - i : 8);
	}
}

static bool verify(struct arena *a, const struct obj *o, const char *what)
{
	const char *p = a->map + o->off;
	__u32 i, k;

	for (i = 0; i < o->size; i += 8) {
		__u64 w = mix((__u64)o->seed << 32 | i);
		__u32 len = o->size - i < 8 ? o->size - i : 8;

		if (!memcmp(p + i, &w, len))
			continue;
		for (k = 0; k < len && p[i + k] == ((char *)&w)[k]; k++)
			;
		problem(true, "%s: object at offset %#llx, %u bytes, seed %#x: byte %u is %#x, expected %#x",
			what, (unsigned long long)o->off, o->size, o->seed, i + k,
			p[i + k] & 0xff, ((char *)&w)[k] & 0xff);
		return false;
	}
	return true;
}

static bool is_zero(struct arena *a, __u64 off, __u32 size)
{
	const char *p = a->map + off;
	__u32 i;

	for (i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

static __u32 rnd(__u64 *s)
{
	*s = mix(*s);
	return *s >> 32;
}

static __u32 obj_size(__u32 r)
{
	switch (r % 100) {
	case 0:
		return 32769 + (r >> 8) % 200000;
	case 1 ... 10:
		return 1025 + (r >> 8) % 31743;
	default:
		return 1 + (r >> 8) % 1024;
	}
}

/* Allocate @n objects of one size into @live; false on ENOMEM or error. */
static bool alloc_some(struct arena *a, struct obj *live, int *nlive, int n, __u32 size,
		       __u64 *seed)
{
	__u64 offs[MAXLIVE];
	__u32 flags = rnd(seed) % 8 ? 0 : GOALLOC_ALLOC_ZERO;
	int i;

	if (ga_alloc(a, size, n, flags, offs))
		return false;
	for (i = 0; i < n; i++) {
		struct obj *o = &live[(*nlive)++];

		o->off = offs[i];
		o->size = size;
		o->seed = rnd(seed);
		if (flags && !is_zero(a, o->off, size))
			problem(true, "GOALLOC_ALLOC_ZERO object at %#llx not zero",
				(unsigned long long)o->off);
		fill(a, o);
	}
	return true;
}

/* Free @n random objects of @live, checking each. */
static void free_some(struct arena *a, struct obj *live, int *nlive, int n, __u64 *seed,
		      const char *what)
{
	__u64 offs[MAXLIVE];
	int i;

	for (i = 0; i < n && *nlive; i++) {
		int k = rnd(seed) % *nlive;

		verify(a, &live[k], what);
		offs[i] = live[k].off;
		live[k] = live[--(*nlive)];
	}
	if (i)
		ga_free(a, i, offs);
}

struct thread_arg {
	struct arena *a;
	__u64 seed;
	double until;
};

static void *thread_fn(void *p)
{
	struct thread_arg *t = p;
	struct obj live[MAXLIVE];
	int nlive = 0;

	while (now_s() < t->until) {
		__u32 r = rnd(&t->seed);

		if (nlive < MAXLIVE && (r % 3 || !nlive)) {
			int room = MAXLIVE - nlive, n = 1 + (r >> 4) % (room < 32 ? room : 32);

			if (!alloc_some(t->a, live, &nlive, n, obj_size(rnd(&t->seed)), &t->seed))
				free_some(t->a, live, &nlive, nlive / 2 + 1, &t->seed,
					  "before free after ENOMEM");
		} else {
			free_some(t->a, live, &nlive, 1 + (r >> 4) % 64, &t->seed, "before free");
		}
	}
	free_some(t->a, live, &nlive, MAXLIVE, &t->seed, "at the end of a round");
	return NULL;
}

static void worker_threads(__u64 seed)
{
	struct thread_arg args[THREADS];
	pthread_t th[THREADS];
	struct arena a;
	int i;

	if (arena_open(&a))
		return;
	/* Every worker runs at least once, however late it started. */
	do {
		double until = now_s() + 0.5 + (rnd(&seed) % 1000) / 1000.0;

		for (i = 0; i < THREADS; i++) {
			args[i] = (struct thread_arg){ &a, mix(seed + i), until };
			if (pthread_create(&th[i], NULL, thread_fn, &args[i])) {
				problem(false, "pthread_create");
				return;
			}
		}
		for (i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		COUNT(rounds, 1);
		expect_empty(&a, "after a round", false);
		if (rnd(&seed) % 2) {
			ga_reset(&a);
			expect_empty(&a, "after RESET", true);
		} else {
			arena_close(&a);
			if (arena_open(&a))
				return;
		}
	} while (now_s() < deadline);
	arena_close(&a);
}

static void worker_fork(__u64 seed)
{
	do {
		struct obj mine[64];
		int nmine = 0, status, i;
		struct arena a;
		pid_t pid;

		if (arena_open(&a))
			return;
		alloc_some(&a, mine, &nmine, 64, obj_size(rnd(&seed)) % 4096 + 1, &seed);
		pid = fork();
		if (pid == 0) {
			struct obj theirs[64];
			int ntheirs = 0;
			__u64 s = mix(seed ^ 0xc0ffee);

			for (i = 0; i < 20; i++) {
				alloc_some(&a, theirs, &ntheirs, 16, obj_size(rnd(&s)) % 8192 + 1,
					   &s);
				free_some(&a, theirs, &ntheirs, 16, &s, "child, before free");
			}
			for (i = 0; i < nmine; i++)
				verify(&a, &mine[i], "parent's object seen by its child");
			_exit(0);
		}
		if (pid < 0) {
			problem(false, "fork: %s", strerror(errno));
			return;
		}
		COUNT(forks, 1);
		for (i = 0; i < 10; i++) {
			struct obj tmp[8];
			int ntmp = 0;

			alloc_some(&a, tmp, &ntmp, 8, 100 + i, &seed);
			free_some(&a, tmp, &ntmp, 8, &seed, "parent, before free");
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			problem(false, "fork child ended with status %#x", status);
		free_some(&a, mine, &nmine, 64, &seed, "parent, after its child");
		expect_empty(&a, "after parent and child freed all", false);
		arena_close(&a);
	} while (now_s() < deadline);
}

static void worker_kill(__u64 seed)
{
	static __u64 big[BIG_BATCH];

	do {
		struct obj mine[32], tmp[8];
		int nmine = 0, ntmp = 0, status;
		struct arena a;
		pid_t pid;

		if (arena_open(&a))
			return;
		alloc_some(&a, mine, &nmine, 32, 1 + rnd(&seed) % 3000, &seed);
		pid = fork();
		if (pid == 0) {
			struct goalloc_free f = {
				.argsz = sizeof(f), .count = BIG_BATCH,
				.offsets = (__u64)(uintptr_t)big,
			};

			for (;;) {
				if (ga_alloc(&a, 16, BIG_BATCH, 0, big))
					continue;
				ioctl(a.fd, GOALLOC_IOC_FREE, &f);
			}
		}
		if (pid < 0) {
			problem(false, "fork: %s", strerror(errno));
			return;
		}
		usleep(rnd(&seed) % 30000);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
		    WTERMSIG(status) != SIGKILL)
			problem(false, "killed child ended with status %#x", status);
		COUNT(kills, 1);
		/* The parent's objects and the arena survive the kill. */
		alloc_some(&a, tmp, &ntmp, 8, 64, &seed);
		free_some(&a, tmp, &ntmp, 8, &seed, "after the kill, before free");
		free_some(&a, mine, &nmine, 32, &seed, "after the kill, before free");
		/* What the child held when it died is left: a reset frees it. */
		ga_reset(&a);
		expect_empty(&a, "after RESET following a kill", true);
		arena_close(&a);
	} while (now_s() < deadline);
}

static void worker_reset(__u64 seed)
{
	struct obj live[MAXLIVE];
	__u64 offs[16];
	struct arena a;
	int nlive, i;

	if (arena_open(&a))
		return;
	do {
		nlive = 0;
		while (nlive + 32 <= MAXLIVE &&
		       alloc_some(&a, live, &nlive, 32, obj_size(rnd(&seed)) % 16384 + 1, &seed))
			;
		for (i = 0; i < nlive; i++)
			verify(&a, &live[i], "before RESET");
		ga_reset(&a);
		expect_empty(&a, "after RESET", true);
		/* After a reset every span is new to the arena: it reads as zero. */
		if (!ga_alloc(&a, 4096, 16, 0, offs)) {
			for (i = 0; i < 16; i++)
				if (!is_zero(&a, offs[i], 4096))
					problem(true, "object at %#llx after RESET not zero",
						(unsigned long long)offs[i]);
			ga_free(&a, 16, offs);
		}
	} while (now_s() < deadline);
	arena_close(&a);
}

enum kind { W_THREADS_KILLED, W_THREADS, W_FORK, W_KILL, W_RESET, NR_WORKERS };

static pid_t spawn(enum kind k, __u64 seed)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	switch (k) {
	case W_THREADS_KILLED:
	case W_THREADS:
		worker_threads(seed);
		break;
	case W_FORK:
		worker_fork(seed);
		break;
	case W_KILL:
		worker_kill(seed);
		break;
	default:
		worker_reset(seed);
		break;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct rlimit nocore = { 0, 0 };
	double seconds = 5, t0, next_kill;
	pid_t pid[NR_WORKERS];
	struct goalloc_stats st;
	struct arena a;
	__u64 seed = 1;
	int opt, status, k;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's')
			ksft_exit_fail_msg("usage: %s [-s SECONDS]\n", argv[0]);
		seconds = atof(optarg);
	}
	ksft_print_header();
	if (access(DEV, R_OK | W_OK))
		ksft_exit_skip("%s: %s\n", DEV, strerror(errno));
	ksft_set_plan(4);
	/* Killed children must not dump a 16 MiB arena into the guest's RAM. */
	setrlimit(RLIMIT_CORE, &nocore);
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	t0 = now_s();
	deadline = t0 + seconds;
	for (k = 0; k < NR_WORKERS; k++)
		pid[k] = spawn(k, mix(seed + k));
	next_kill = t0 + 0.5;
	/* At least one kill and restart, however slow the machine. */
	while (now_s() < deadline || !cnt->respawns) {
		usleep(50000);
		if (now_s() < next_kill)
			continue;
		/* The victim dies mid-ioctl, its threads with it, and starts again. */
		kill(pid[W_THREADS_KILLED], SIGKILL);
		if (waitpid(pid[W_THREADS_KILLED], &status, 0) != pid[W_THREADS_KILLED] ||
		    !((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
		      (WIFEXITED(status) && !WEXITSTATUS(status))))
			problem(false, "killed worker ended with status %#x", status);
		COUNT(kills, 1);
		COUNT(respawns, 1);
		pid[W_THREADS_KILLED] = spawn(W_THREADS_KILLED, mix(seed += 1000));
		next_kill = now_s() + 0.5 + (rnd(&seed) % 1000) / 1000.0;
	}
	for (k = 0; k < NR_WORKERS; k++)
		if (waitpid(pid[k], &status, 0) != pid[k] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			problem(false, "worker %d ended with status %#x", k, status);

	ksft_test_result(!cnt->mismatches, "patterns intact (%ld mismatches)\n", cnt->mismatches);
	ksft_test_result(!cnt->errors, "no unexpected result (%ld errors)\n", cnt->errors);
	ksft_test_result(cnt->alloc_calls && cnt->free_calls && cnt->resets && cnt->forks &&
			 cnt->kills && cnt->respawns && cnt->rounds,
			 "every kind of operation ran\n");
	/* Every arena of the workers is gone: a new one is the only one. */
	memset(&st, 0, sizeof(st));
	if (!arena_open(&a)) {
		ga_stats(&a, &st);
		arena_close(&a);
	}
	ksft_test_result(st.arenas == 1, "no arena left behind (%llu open)\n",
			 (unsigned long long)st.arenas);
	ksft_print_msg("SOAK-USER seconds=%.0f alloc_calls=%ld objects=%ld free_calls=%ld freed=%ld enomem=%ld resets=%ld arenas_opened=%ld rounds=%ld forks=%ld kills=%ld respawns=%ld stats_calls=%ld mismatches=%ld errors=%ld\n",
		       now_s() - t0, cnt->alloc_calls, cnt->objects, cnt->free_calls, cnt->freed,
		       cnt->enomem, cnt->resets, cnt->reopens, cnt->rounds, cnt->forks,
		       cnt->kills, cnt->respawns, cnt->stats_calls, cnt->mismatches, cnt->errors);
	ksft_finished();
}
