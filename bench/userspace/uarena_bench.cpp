// SPDX-License-Identifier: GPL-2.0
/*
 * uarena_bench: what one object costs through /dev/goalloc's batched
 * ioctls, against glibc malloc/free and against Boost.Interprocess
 * managed_shared_memory, in one process.
 *
 *   uarena_bench [-r ROUNDS] [-n OBJECTS] [-d DEVICE] [-s SHMNAME] [-c CPU]
 *
 * A sample is one allocator, one object size and one batch size.  It works
 * through OBJECTS objects (default 8192) in two patterns:
 *
 *   alloc, free  fill then drain: OBJECTS / batch allocations of a batch,
 *                every object touched (one byte written) as it is allocated,
 *                all of them live at once; then the same batches freed.
 *                One clock reading around each phase.
 *   cycle        allocate a batch, touch it, free it, OBJECTS / batch times:
 *                only one batch is ever live.  Alloc and free together.
 *
 * goalloc allocates a batch with one GOALLOC_IOC_ALLOC and frees it with one
 * GOALLOC_IOC_FREE (raw ioctls, argsz = sizeof); libgoalloc (an arena of its
 * own, opened with goalloc_open()) takes one goalloc_cached_alloc() or
 * goalloc_cached_free() per object, served by the thread cache, which goes
 * to the kernel in batches; malloc and Boost take one call per object.  Touching makes every allocator pay for usable memory:
 * goalloc's fresh spans fault in through the arena mapping, malloc's heap
 * grows with brk, Boost's segment is tmpfs memory mapped once.
 *
 * A round runs every size and batch, and for each of them the three
 * allocators one after the other (their order rotated by round).  Round 0
 * warms up and is not counted; ROUNDS (default 11) more are.  Per cell: median, min and max over the
 * rounds of nanoseconds per object.
 *
 * stdout: CSV "allocator,size,batch,op,median_ns,min_ns,max_ns".
 * stderr: the same as a table, and what was set up.
 */
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/interprocess/managed_shared_memory.hpp>

#include <linux/goalloc.h>

#include "libgoalloc.h"

namespace bip = boost::interprocess;

static const size_t sizes[] = { 16, 64, 256, 1024, 4096 };
static const unsigned int batches[] = { 1, 16, 256 };
static const char *const op_names[] = { "alloc", "free", "cycle" };

enum { OP_ALLOC, OP_FREE, OP_CYCLE, NR_OPS };

/* Nanoseconds per object of one sample, per op. */
struct sample {
	double ns[NR_OPS];
};

[[noreturn]] static void die(const char *what, int err)
{
	fprintf(stderr, "uarena_bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static inline uint64_t now_ns()
{
	using namespace std::chrono;

	return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

static inline void touch(void *p)
{
	*static_cast<volatile char *>(p) = 1;
}

/*
 * Each allocator has the same two calls: alloc_batch() fills ptrs[0..n) and
 * touches each object, free_batch() frees them.  The interface is the
 * batch, so goalloc can make one ioctl of it.  run_sample() is a template
 * over the allocator, so the calls inline and the harness costs every
 * allocator the same few instructions per batch.
 */
static const char *const alloc_names[] = { "goalloc", "malloc", "boost", "libgoalloc" };

class goalloc_arena {
public:
	explicit goalloc_arena(const char *dev)
	{
		struct goalloc_stats st = {};

		fd_ = open(dev, O_RDWR | O_CLOEXEC);
		if (fd_ < 0)
			die(dev, errno);
		st.argsz = sizeof(st);
		if (ioctl(fd_, GOALLOC_IOC_STATS, &st))
			die("GOALLOC_IOC_STATS", errno);
		len_ = st.max_size;
		base_ = static_cast<char *>(mmap(nullptr, len_, PROT_READ | PROT_WRITE,
						 MAP_SHARED, fd_, 0));
		if (base_ == MAP_FAILED)
			die("mmap /dev/goalloc", errno);
		offs_.resize(GOALLOC_MAX_BATCH);
		fprintf(stderr, "goalloc: arena on %s, cap %llu MiB mapped\n", dev,
			(unsigned long long)(len_ >> 20));
	}

	~goalloc_arena()
	{
		munmap(base_, len_);
		close(fd_);
	}

	void alloc_batch(size_t size, unsigned int n, void **ptrs)
	{
		struct goalloc_alloc a = {};
		unsigned int i;

		a.argsz = sizeof(a);
		a.size = size;
		a.count = n;
		a.offsets = reinterpret_cast<uintptr_t>(offs_.data());
		if (ioctl(fd_, GOALLOC_IOC_ALLOC, &a))
			die("GOALLOC_IOC_ALLOC", errno);
		for (i = 0; i < n; i++) {
			ptrs[i] = base_ + offs_[i];
			touch(ptrs[i]);
		}
	}

	void free_batch(unsigned int n, void **ptrs)
	{
		struct goalloc_free f = {};
		unsigned int i;

		for (i = 0; i < n; i++)
			offs_[i] = static_cast<char *>(ptrs[i]) - base_;
		f.argsz = sizeof(f);
		f.count = n;
		f.offsets = reinterpret_cast<uintptr_t>(offs_.data());
		if (ioctl(fd_, GOALLOC_IOC_FREE, &f))
			die("GOALLOC_IOC_FREE", errno);
		if (f.nfreed != n)
			die("GOALLOC_IOC_FREE: not all freed", EIO);
	}

private:
	int fd_;
	char *base_;
	size_t len_;
	std::vector<__u64> offs_;
};

/* libgoalloc's thread cache: one call per object, as malloc. */
class libgoalloc_cached {
public:
	explicit libgoalloc_cached(const char *dev)
	{
		setenv(LIBGOALLOC_DEV_ENV, dev, 1);
		a_ = goalloc_open(0);
		if (!a_)
			die("goalloc_open", errno);
		fprintf(stderr, "libgoalloc: arena on %s, cap %zu MiB mapped, thread cache\n",
			dev, goalloc_cap(a_) >> 20);
	}

	~libgoalloc_cached()
	{
		goalloc_close(a_);
	}

	void alloc_batch(size_t size, unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++) {
			ptrs[i] = goalloc_cached_alloc(a_, size);
			if (!ptrs[i])
				die("goalloc_cached_alloc", errno);
			touch(ptrs[i]);
		}
	}

	void free_batch(unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++)
			if (goalloc_cached_free(a_, ptrs[i]))
				die("goalloc_cached_free", errno);
	}

	void report()
	{
		struct goalloc_cache_stats st;

		goalloc_cache_stats(a_, &st);
		fprintf(stderr, "libgoalloc: %llu refills, %llu flushes, %llu cached at the end,"
			" %llu double frees\n", (unsigned long long)st.refills,
			(unsigned long long)st.flushes, (unsigned long long)st.cached,
			(unsigned long long)st.double_frees);
	}

private:
	struct goalloc_arena *a_;
};

class glibc_malloc {
public:
	void alloc_batch(size_t size, unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++) {
			ptrs[i] = malloc(size);
			if (!ptrs[i])
				die("malloc", ENOMEM);
			touch(ptrs[i]);
		}
	}

	void free_batch(unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++)
			free(ptrs[i]);
	}
};

/*
 * Boost.Interprocess: a managed_shared_memory segment (shm_open, so a
 * tmpfs at /dev/shm) with its default allocator, rbtree_best_fit under a
 * process-shared mutex.  The segment is removed at once after it is
 * mapped, so nothing is left behind if the run dies.
 */
class boost_shm {
public:
	boost_shm(const char *shm_name, size_t bytes) : name_(shm_name)
	{
		bip::shared_memory_object::remove(name_.c_str());
		try {
			seg_.reset(new bip::managed_shared_memory(bip::create_only,
								  name_.c_str(), bytes));
		} catch (const bip::interprocess_exception &e) {
			fprintf(stderr, "uarena_bench: boost segment /dev/shm/%s: %s\n",
				name_.c_str(), e.what());
			exit(1);
		}
		bip::shared_memory_object::remove(name_.c_str());
		fprintf(stderr, "boost: managed_shared_memory /dev/shm/%s, %zu MiB\n",
			name_.c_str(), bytes >> 20);
	}

	void alloc_batch(size_t size, unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++) {
			ptrs[i] = seg_->allocate(size, std::nothrow);
			if (!ptrs[i])
				die("boost allocate", ENOMEM);
			touch(ptrs[i]);
		}
	}

	void free_batch(unsigned int n, void **ptrs)
	{
		for (unsigned int i = 0; i < n; i++)
			seg_->deallocate(ptrs[i]);
	}

private:
	std::string name_;
	std::unique_ptr<bip::managed_shared_memory> seg_;
};

/* One sample: nobj objects of size bytes, batch by batch. */
template <typename A>
static sample run_sample(A &a, size_t size, unsigned int batch,
			 unsigned int nobj, std::vector<void *> &ptrs)
{
	unsigned int nb = nobj / batch, i;
	uint64_t t0, t1, t2, t3;
	sample s;

	t0 = now_ns();
	for (i = 0; i < nb; i++)
		a.alloc_batch(size, batch, &ptrs[i * batch]);
	t1 = now_ns();
	for (i = 0; i < nb; i++)
		a.free_batch(batch, &ptrs[i * batch]);
	t2 = now_ns();
	for (i = 0; i < nb; i++) {
		a.alloc_batch(size, batch, ptrs.data());
		a.free_batch(batch, ptrs.data());
	}
	t3 = now_ns();

	s.ns[OP_ALLOC] = double(t1 - t0) / (nb * batch);
	s.ns[OP_FREE] = double(t2 - t1) / (nb * batch);
	s.ns[OP_CYCLE] = double(t3 - t2) / (nb * batch);
	return s;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "uarena_bench: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
	else
		fprintf(stderr, "pinned to CPU %d\n", cpu);
}

static void usage()
{
	fprintf(stderr, "usage: uarena_bench [-r ROUNDS] [-n OBJECTS] [-d DEVICE] "
		"[-s SHMNAME] [-c CPU]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/goalloc", *shm = "uarena_bench";
	unsigned int rounds = 11, nobj = 8192;
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	const size_t nbatches = sizeof(batches) / sizeof(batches[0]);
	int cpu = -1, opt;

	while ((opt = getopt(argc, argv, "r:n:d:s:c:")) != -1) {
		switch (opt) {
		case 'r': rounds = strtoul(optarg, nullptr, 0); break;
		case 'n': nobj = strtoul(optarg, nullptr, 0); break;
		case 'd': dev = optarg; break;
		case 's': shm = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		default: usage();
		}
	}
	/* Every batch size must divide the object count. */
	if (rounds < 1 || nobj < 256 || nobj % 256 || nobj > (1U << 20))
		usage();
	if (cpu >= 0)
		pin_to(cpu);

	/* Boost's blocks carry a header and round up to 16 bytes. */
	size_t seg_bytes = nobj * (sizes[nsizes - 1] + 64) + (4UL << 20);
	goalloc_arena ga(dev);
	glibc_malloc gm;
	boost_shm bs(shm, seg_bytes);
	libgoalloc_cached lg(dev);
	const size_t nalloc = sizeof(alloc_names) / sizeof(alloc_names[0]);

	std::vector<void *> ptrs(nobj);
	/* res[alloc][size][batch][round] */
	std::vector<sample> res(nalloc * nsizes * nbatches * rounds);
	auto at = [&](size_t a, size_t s, size_t b, size_t r) -> sample & {
		return res[((a * nsizes + s) * nbatches + b) * rounds + r];
	};

	fprintf(stderr, "%u objects per sample, %u rounds after a warm-up round\n",
		nobj, rounds);
	for (unsigned int r = 0; r <= rounds; r++) {
		for (size_t s = 0; s < nsizes; s++) {
			for (size_t b = 0; b < nbatches; b++) {
				for (size_t k = 0; k < nalloc; k++) {
					size_t a = (k + r) % nalloc;
					size_t sz = sizes[s];
					unsigned int bt = batches[b];
					sample x = a == 0 ? run_sample(ga, sz, bt, nobj, ptrs) :
						   a == 1 ? run_sample(gm, sz, bt, nobj, ptrs) :
						   a == 2 ? run_sample(bs, sz, bt, nobj, ptrs) :
							    run_sample(lg, sz, bt, nobj, ptrs);

					if (r)
						at(a, s, b, r - 1) = x;
				}
			}
		}
		if (r)
			fprintf(stderr, "round %u/%u done\n", r, rounds);
	}

	lg.report();
	printf("allocator,size,batch,op,median_ns,min_ns,max_ns\n");
	fprintf(stderr, "\nns per object: median [min .. max] over %u rounds\n", rounds);
	fprintf(stderr, "%-8s %5s %5s  %-28s %-28s %-28s\n", "alloc", "size", "batch",
		op_names[OP_ALLOC], op_names[OP_FREE], op_names[OP_CYCLE]);
	for (size_t a = 0; a < nalloc; a++) {
		for (size_t s = 0; s < nsizes; s++) {
			for (size_t b = 0; b < nbatches; b++) {
				fprintf(stderr, "%-8s %5zu %5u ", alloc_names[a], sizes[s],
					batches[b]);
				for (int op = 0; op < NR_OPS; op++) {
					std::vector<double> v(rounds);
					double med;
					char cell[64];

					for (unsigned int r = 0; r < rounds; r++)
						v[r] = at(a, s, b, r).ns[op];
					std::sort(v.begin(), v.end());
					med = rounds % 2 ? v[rounds / 2] :
						(v[rounds / 2 - 1] + v[rounds / 2]) / 2;
					printf("%s,%zu,%u,%s,%.1f,%.1f,%.1f\n", alloc_names[a],
					       sizes[s], batches[b], op_names[op], med, v.front(),
					       v.back());
					snprintf(cell, sizeof(cell), "%.1f [%.1f .. %.1f]", med,
						 v.front(), v.back());
					fprintf(stderr, " %-28s", cell);
				}
				fprintf(stderr, "\n");
			}
		}
	}
	return 0;
}
