// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_replay: replay a recorded kmalloc/kfree trace through goalloc or
 * through kmalloc, and count the memory each holds.
 *
 * bench/trace/trace2bin.py turns an ftrace text trace of kmem:kmalloc and
 * kmem:kfree into a stream of fixed-size records: allocate object id N of
 * B bytes, or free object id N.  Userspace writes the stream to
 * /sys/kernel/debug/goalloc_replay/trace (in as many writes as it likes,
 * from offset 0), then drives the replay through .../run:
 *
 *   timed 0|1               whether records run at the pace they were
 *                           traced (not while objects are live; default 1)
 *   cpus N                  how the records are run (before "start"): 0 or
 *                           1, in the writer's context, on its CPU; N > 1,
 *                           each on the CPU its event ran on in the trace,
 *                           modulo N, among the first N online CPUs
 *   start goalloc|kmalloc|slub
 *                           rewind to the first record, choose the allocator
 *                           (slub: kmalloc()'s sizes in caches made empty
 *                           for the replay, fresh_size[] below)
 *   step N                  replay the next N records (0: all that remain)
 *   finish                  free every object still live
 *
 * and reads .../result: key=value lines.  The replay is sequential, in the
 * trace's order, with GFP_KERNEL.  With "cpus N", each run of consecutive
 * records of one traced CPU is handed to a work item bound to its CPU
 * (work_on_cpu()) and the next run waits for it, so the per-CPU caches of
 * both allocators fill and empty as they did when the trace was taken, and
 * an object allocated on one CPU and freed on another is a remote free.
 *
 * With "timed 1" (the default) a record runs at most 1 ms before its trace
 * time (since the first record) has passed since the replay's first
 * record: the writer sleeps until then whenever the replay is 1 ms or more
 * ahead (in steps of at most a second, killable between two), and records
 * run as fast as they can while it is behind.  The lock the commands take
 * is held meanwhile, so a "step" takes the trace's time and "result" waits
 * for it.  What the kernel does on a clock (goalloc's trim pass, a second
 * after it is asked for; RCU, the workqueues) then happens as often,
 * between the same records, as on the traced machine.  "timed 0" replays
 * as fast as it can: a trace of a minute then takes a fraction of a
 * second, and no timer fires inside it.
 *
 * What the module measures itself: the bytes requested (live and peak), the
 * bytes the allocator reports usable (goalloc_size(), ksize()), the pages of
 * kmallocs above KMALLOC_MAX_CACHE_SIZE (SLUB passes those to the page
 * allocator), and the change of NR_SLAB_UNRECLAIMABLE_B since "start",
 * sampled after every record (it counts SLUB's large kmallocs too, and every
 * other unreclaimable slab of the kernel).  goalloc's own heap counters are not exported
 * outside KUnit builds, so userspace reads goalloc's debugfs "heap" file
 * between steps, and SLUB's per-cache slab counts from /sys/kernel/slab
 * (bench/trace/replay.sh does both).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "goalloc.h"

#define REPLAY_MAGIC	"GAREPLAY"
/* Version 3: records carry their time; 2 did not, and 1 had no CPU either. */
#define REPLAY_VERSION	3
#define REPLAY_FREE	BIT(31)
#define REPLAY_CPU_SHIFT	24
#define REPLAY_BYTES_MASK	(BIT(REPLAY_CPU_SHIFT) - 1)
#define REPLAY_MAX_EVENTS	(64UL << 20)

/* The stream's header, as trace2bin.py writes it. */
struct replay_header {
	char magic[8];
	__le32 version;
	__le32 record_size;
	__le64 nr_events;
	__le32 nr_ids;
	__le32 nr_cpus;
} __packed;

/*
 * One record: bit 31 of @op_id set for a free; @arg holds the bytes of an
 * allocation in bits 0-23 and the event's CPU in bits 24-31; @usec the
 * event's time, in microseconds since the trace's first event line (never
 * decreasing).
 */
struct replay_record {
	__le32 op_id;
	__le32 arg;
	__le32 usec;
} __packed;

/* How far ahead of its trace the replay may run before it sleeps. */
#define REPLAY_PACE_SLACK_NS	(1000 * NSEC_PER_USEC)
/* The longest sleep between two looks for a fatal signal. */
#define REPLAY_PACE_MAX_US	USEC_PER_SEC

enum replay_alloc { R_NONE, R_GOALLOC, R_KMALLOC, R_SLUB };

static const char *const alloc_name[] = { "none", "goalloc", "kmalloc", "slub" };

/*
 * "start slub": SLUB from empty.  kmalloc()'s caches hold slabs from boot
 * on every CPU, with free slots a replay fills before it takes a page, and
 * goalloc starts with nothing; these caches have kmalloc()'s sizes and are
 * made at each "start slub", unmerged (their own slabs, counted in
 * /sys/kernel/slab/replay-<size>), and empty whenever a replay starts.
 * Sizes above the last one go to kmalloc() (the page allocator) as SLUB's
 * do; 0 bytes to kmalloc() too (ZERO_SIZE_PTR).
 */
static const unsigned int fresh_size[] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

static struct kmem_cache *fresh_cache[ARRAY_SIZE(fresh_size)];

#ifdef SLAB_NO_MERGE
#define FRESH_FLAGS	SLAB_NO_MERGE
#else
/* Before 6.5 a cache may be merged with kmalloc()'s: no "start slub". */
#define FRESH_FLAGS	0
#endif

/*
 * The fresh cache kmalloc() would pick for @size (x86-64's sizes), or NULL:
 * kmalloc() itself.
 */
static struct kmem_cache *fresh_of(u32 size)
{
	unsigned int i;

	if (!size || size > KMALLOC_MAX_CACHE_SIZE)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(fresh_size); i++)
		if (size <= fresh_size[i])
			return fresh_cache[i];
	return NULL;
}

static int fresh_create(void)
{
	unsigned int i;
	char name[32];

	if (!FRESH_FLAGS)
		return -EOPNOTSUPP;
	for (i = 0; i < ARRAY_SIZE(fresh_size); i++) {
		snprintf(name, sizeof(name), "replay-%u", fresh_size[i]);
		fresh_cache[i] = kmem_cache_create(name, fresh_size[i], 0, FRESH_FLAGS, NULL);
		if (!fresh_cache[i])
			return -ENOMEM;
	}
	return 0;
}

static void fresh_destroy(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fresh_size); i++) {
		kmem_cache_destroy(fresh_cache[i]);
		fresh_cache[i] = NULL;
	}
}

/**
 * struct replay_state - the loaded stream and the replay's counters
 * @hdr: the header, once its bytes are in
 * @recs: the records (kvmalloc'd)
 * @loaded: bytes of the stream written so far, header included
 * @objs: live object of each id, or NULL
 * @sizes: requested size of each id while live
 * @alloc: allocator of the current replay
 * @next: index of the next record to replay
 * @live: objects live
 * @req_live: bytes requested by live objects
 * @req_peak: peak of @req_live
 * @usable_live: usable bytes of live objects (goalloc_size(), ksize())
 * @usable_peak: peak of @usable_live
 * @large_live: pages of live kmallocs above KMALLOC_MAX_CACHE_SIZE
 * @large_peak: peak of @large_live
 * @slab_base: NR_SLAB_UNRECLAIMABLE_B pages at "start"
 * @slab_peak: peak of the change of NR_SLAB_UNRECLAIMABLE_B since "start"
 * @failures: allocations that failed (their frees are skipped)
 * @bad_records: records naming an id out of range, or in the wrong state
 * @replay_ns: time spent replaying records (sleeps not counted)
 * @start_ns: when the first record paced ran, for "timed 1"
 * @start_usec: that record's trace time
 * @slept_ns: time slept to keep to the trace's pace
 * @sleeps: how many times
 * @finish_ns: time spent in "finish"
 * @handoffs: runs of records handed to a CPU's work item ("cpus N")
 */
struct replay_state {
	struct replay_header hdr;
	struct replay_record *recs;
	size_t loaded;
	void **objs;
	u32 *sizes;
	enum replay_alloc alloc;
	u64 next;
	u64 live;
	u64 req_live, req_peak;
	u64 usable_live, usable_peak;
	u64 large_live, large_peak;
	long slab_base, slab_peak;
	u64 failures;
	u64 bad_records;
	u64 replay_ns, finish_ns;
	u64 start_ns, slept_ns, sleeps;
	u32 start_usec;
	u64 handoffs;
};

#define REPLAY_MAX_CPUS	BIT(32 - REPLAY_CPU_SHIFT)

static DEFINE_MUTEX(replay_lock);
static struct replay_state st;
/*
 * "cpus N": records run on @replay_cpus CPUs, trace CPU c on
 * @replay_cpu_map[c % N]; 0 or 1: in the writer's context.  Under
 * replay_lock; kept across streams, as @replay_timed ("timed N") is.
 */
static unsigned int replay_cpus;
static bool replay_timed = true;
static unsigned int replay_cpu_map[REPLAY_MAX_CPUS];
static struct dentry *replay_dir;

static long slab_pages(void)
{
	return (long)global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
}

static u64 nr_events(void)
{
	return le64_to_cpu(st.hdr.nr_events);
}

static u32 nr_ids(void)
{
	return le32_to_cpu(st.hdr.nr_ids);
}

static bool stream_complete(void)
{
	return st.recs && st.loaded == sizeof(st.hdr) + nr_events() * sizeof(*st.recs);
}

/* Pages SLUB takes from the page allocator for a kmalloc of @size. */
static unsigned long large_pages(size_t size)
{
	if (size <= KMALLOC_MAX_CACHE_SIZE)
		return 0;
	return 1UL << get_order(size);
}

static void sample(void)
{
	long slab = slab_pages() - st.slab_base;

	st.slab_peak = max(st.slab_peak, slab);
}

static void free_one(u32 id)
{
	void *p = st.objs[id];
	u32 size = st.sizes[id];

	if (st.alloc == R_GOALLOC) {
		st.usable_live -= goalloc_size(p);
		goalloc_free(p);
	} else {
		struct kmem_cache *c = st.alloc == R_SLUB ? fresh_of(size) : NULL;

		st.usable_live -= ksize(p);
		st.large_live -= large_pages(size);
		if (c)
			kmem_cache_free(c, p);
		else
			kfree(p);
	}
	st.objs[id] = NULL;
	st.live--;
	st.req_live -= size;
}

static void alloc_one(u32 id, u32 size)
{
	struct kmem_cache *c = st.alloc == R_SLUB ? fresh_of(size) : NULL;
	void *p;

	if (st.alloc == R_GOALLOC)
		p = goalloc_alloc(size, GFP_KERNEL);
	else if (c)
		p = kmem_cache_alloc(c, GFP_KERNEL);
	else
		p = kmalloc(size, GFP_KERNEL);
	if (!p) {
		st.failures++;
		return;
	}
	st.objs[id] = p;
	st.sizes[id] = size;
	st.live++;
	st.req_live += size;
	st.req_peak = max(st.req_peak, st.req_live);
	if (st.alloc == R_GOALLOC) {
		st.usable_live += goalloc_size(p);
	} else {
		st.usable_live += ksize(p);
		st.large_live += large_pages(size);
		st.large_peak = max(st.large_peak, st.large_live);
	}
	st.usable_peak = max(st.usable_peak, st.usable_live);
}

static u32 record_bytes(const struct replay_record *r)
{
	return le32_to_cpu(r->arg) & REPLAY_BYTES_MASK;
}

/* The replay CPU slot of a record: its traced CPU, modulo "cpus N". */
static unsigned int record_slot(const struct replay_record *r)
{
	return (le32_to_cpu(r->arg) >> REPLAY_CPU_SHIFT) % replay_cpus;
}

/*
 * "timed 1": how far ahead of @r's trace time the replay is, in ns (<= 0:
 * due); the first record asked about sets the start.
 */
static s64 ahead_of(const struct replay_record *r, u64 now)
{
	s64 since;

	if (!st.start_ns) {
		st.start_ns = now;
		st.start_usec = le32_to_cpu(r->usec);
	}
	since = ((s64)le32_to_cpu(r->usec) - st.start_usec) * NSEC_PER_USEC;
	return since - (s64)(now - st.start_ns);
}

/*
 * "timed 1": sleep until @r is due, if it is the slack or more away.  In
 * the writer's context, in steps of at most REPLAY_PACE_MAX_US, so a fatal
 * signal ends it within a second and no sleep looks hung.
 *
 * Return: 0, or -EINTR if a fatal signal came first.
 */
static int pace(const struct replay_record *r)
{
	u64 now = ktime_get_ns(), then;
	s64 ahead = ahead_of(r, now);
	unsigned long us;

	if (ahead < (s64)REPLAY_PACE_SLACK_NS)
		return 0;
	st.sleeps++;
	while (ahead >= (s64)REPLAY_PACE_SLACK_NS) {
		if (fatal_signal_pending(current))
			return -EINTR;
		us = min_t(u64, div_u64(ahead, NSEC_PER_USEC), REPLAY_PACE_MAX_US);
		usleep_idle_range(us, us + us / 64 + 1);
		then = ktime_get_ns();
		st.slept_ns += then - now;
		ahead -= then - now;
		now = then;
	}
	return 0;
}

static void replay_one(const struct replay_record *r)
{
	u32 op = le32_to_cpu(r->op_id);
	u32 id = op & ~REPLAY_FREE;

	if (id >= nr_ids()) {
		st.bad_records++;
		return;
	}
	if (op & REPLAY_FREE) {
		if (st.objs[id])
			free_one(id);
		/* else: the allocation failed, or a malformed stream */
		return;
	}
	if (st.objs[id]) {
		st.bad_records++;
		return;
	}
	alloc_one(id, record_bytes(r));
}

static void free_all(void)
{
	u32 id;

	for (id = 0; id < nr_ids() && st.live; id++) {
		if (st.objs[id])
			free_one(id);
		if (!(id & 1023))
			cond_resched();
	}
}

static void reset_counters(enum replay_alloc a)
{
	st.alloc = a;
	st.next = 0;
	st.req_live = 0;
	st.req_peak = 0;
	st.usable_live = 0;
	st.usable_peak = 0;
	st.large_live = 0;
	st.large_peak = 0;
	st.slab_base = slab_pages();
	st.slab_peak = 0;
	st.failures = 0;
	st.bad_records = 0;
	st.replay_ns = 0;
	st.finish_ns = 0;
	st.start_ns = 0;
	st.slept_ns = 0;
	st.sleeps = 0;
	st.handoffs = 0;
}

static void drop_stream(void)
{
	if (st.live)
		free_all();
	kvfree(st.recs);
	kvfree(st.objs);
	kvfree(st.sizes);
	memset(&st, 0, sizeof(st));
}

static int load_header(void)
{
	u64 n = nr_events();
	u32 ids = nr_ids();

	if (!memcmp(st.hdr.magic, REPLAY_MAGIC, sizeof(st.hdr.magic)) &&
	    le32_to_cpu(st.hdr.version) != REPLAY_VERSION)
		pr_warn_ratelimited("a stream of version %u, not %u: make it again with trace2bin.py\n",
				    le32_to_cpu(st.hdr.version), REPLAY_VERSION);
	if (memcmp(st.hdr.magic, REPLAY_MAGIC, sizeof(st.hdr.magic)) ||
	    le32_to_cpu(st.hdr.version) != REPLAY_VERSION ||
	    le32_to_cpu(st.hdr.record_size) != sizeof(struct replay_record) ||
	    n > REPLAY_MAX_EVENTS || ids > REPLAY_FREE)
		return -EINVAL;
	st.recs = kvmalloc_array(max_t(u64, n, 1), sizeof(*st.recs), GFP_KERNEL);
	st.objs = kvcalloc(max(ids, 1U), sizeof(*st.objs), GFP_KERNEL);
	st.sizes = kvcalloc(max(ids, 1U), sizeof(*st.sizes), GFP_KERNEL);
	if (!st.recs || !st.objs || !st.sizes)
		return -ENOMEM;
	return 0;
}

static ssize_t trace_write(struct file *file, const char __user *buf, size_t len,
			   loff_t *ppos)
{
	size_t done = 0, total;
	ssize_t ret;

	mutex_lock(&replay_lock);
	if (*ppos == 0)
		drop_stream();
	ret = -EINVAL;
	if (*ppos != st.loaded)
		goto out;
	while (done < len) {
		size_t n;
		char *dst;

		if (st.loaded < sizeof(st.hdr)) {
			n = min(len - done, sizeof(st.hdr) - st.loaded);
			dst = (char *)&st.hdr + st.loaded;
		} else {
			total = sizeof(st.hdr) + nr_events() * sizeof(*st.recs);
			ret = -EFBIG;
			if (st.loaded >= total)
				goto out;
			n = min(len - done, total - st.loaded);
			dst = (char *)st.recs + (st.loaded - sizeof(st.hdr));
		}
		ret = -EFAULT;
		if (copy_from_user(dst, buf + done, n))
			goto out;
		st.loaded += n;
		done += n;
		if (st.loaded == sizeof(st.hdr) && !st.recs) {
			ret = load_header();
			if (ret) {
				drop_stream();
				goto out;
			}
		}
	}
	*ppos += done;
	ret = done;
out:
	mutex_unlock(&replay_lock);
	return ret;
}

static const struct file_operations trace_fops = {
	.owner = THIS_MODULE,
	.write = trace_write,
};

/*
 * Replay records up to *@arg (a u64), in the caller's context: the writer's,
 * or a work item on the records' CPU, which the writer waits for (holding
 * replay_lock, so the state is the work item's alone meanwhile).  With
 * "timed 1", stop at a record the slack or more ahead of its time, for the
 * writer to sleep until it (pace()); the first record is due.
 */
static long run_records(void *arg)
{
	u64 end = *(u64 *)arg, first = st.next;

	for (; st.next < end; st.next++) {
		if (replay_timed && st.next != first &&
		    ahead_of(&st.recs[st.next], ktime_get_ns()) >= (s64)REPLAY_PACE_SLACK_NS)
			break;
		replay_one(&st.recs[st.next]);
		sample();
		if (!(st.next & 1023))
			cond_resched();
	}
	return 0;
}

static int run_step(u64 n)
{
	u64 end = n ? min(st.next + n, nr_events()) : nr_events();
	u64 t0 = ktime_get_ns(), slept0 = st.slept_ns;
	int err = 0;

	if (st.alloc == R_NONE)
		return -EINVAL;
	while (st.next < end) {
		unsigned int slot;
		u64 stop;

		if (replay_timed) {
			err = pace(&st.recs[st.next]);
			if (err)
				break;
		}
		if (replay_cpus <= 1) {
			run_records(&end);
			continue;
		}
		slot = record_slot(&st.recs[st.next]);
		stop = st.next + 1;
		while (stop < end && record_slot(&st.recs[stop]) == slot)
			stop++;
		work_on_cpu(replay_cpu_map[slot], run_records, &stop);
		st.handoffs++;
	}
	st.replay_ns += ktime_get_ns() - t0 - (st.slept_ns - slept0);
	return err;
}

/* "cpus N": spread the records over the first N online CPUs. */
static int set_cpus(unsigned int n)
{
	unsigned int cpu, i = 0;

	if (st.live)
		return -EBUSY;
	if (n > REPLAY_MAX_CPUS || n > num_online_cpus())
		return -EINVAL;
	for_each_online_cpu(cpu) {
		if (i == n)
			break;
		replay_cpu_map[i++] = cpu;
	}
	if (i < n)
		return -EINVAL;
	replay_cpus = n;
	return 0;
}

static int run_cmd(char *cmd)
{
	unsigned int ncpus;
	u64 n;

	if (!strncmp(cmd, "timed ", 6)) {
		if (kstrtouint(cmd + 6, 0, &ncpus) || ncpus > 1)
			return -EINVAL;
		if (st.live)
			return -EBUSY;
		replay_timed = ncpus;
		return 0;
	}
	if (!strncmp(cmd, "cpus ", 5)) {
		if (kstrtouint(cmd + 5, 0, &ncpus))
			return -EINVAL;
		return set_cpus(ncpus);
	}
	if (!stream_complete())
		return -ENODATA;
	if (!strcmp(cmd, "start goalloc") || !strcmp(cmd, "start kmalloc") ||
	    !strcmp(cmd, "start slub")) {
		int ret;

		if (st.live)
			return -EBUSY;
		if (cmd[6] == 's') {
			/* Empty again: what an earlier replay left in slabs goes back. */
			fresh_destroy();
			ret = fresh_create();
			if (ret) {
				/* No replay to resume, and no cache half made. */
				fresh_destroy();
				reset_counters(R_NONE);
				return ret;
			}
		}
		reset_counters(cmd[6] == 'g' ? R_GOALLOC : cmd[6] == 'k' ? R_KMALLOC : R_SLUB);
		return 0;
	}
	if (!strncmp(cmd, "step ", 5)) {
		if (kstrtou64(cmd + 5, 0, &n))
			return -EINVAL;
		return run_step(n);
	}
	if (!strcmp(cmd, "finish")) {
		u64 t0 = ktime_get_ns();

		if (st.alloc == R_NONE)
			return -EINVAL;
		free_all();
		sample();
		st.finish_ns = ktime_get_ns() - t0;
		return 0;
	}
	return -EINVAL;
}

static ssize_t run_write(struct file *file, const char __user *buf, size_t len,
			 loff_t *ppos)
{
	char cmd[32];
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, buf, len))
		return -EFAULT;
	cmd[len] = '\0';
	strim(cmd);
	mutex_lock(&replay_lock);
	ret = run_cmd(strim(cmd));
	mutex_unlock(&replay_lock);
	return ret ? ret : len;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
};

static int result_show(struct seq_file *m, void *v)
{
	mutex_lock(&replay_lock);
	seq_printf(m, "allocator=%s\n", alloc_name[st.alloc]);
	seq_printf(m, "events_total=%llu\n", stream_complete() ? nr_events() : 0);
	seq_printf(m, "events_done=%llu\n", st.next);
	seq_printf(m, "ids=%u\n", stream_complete() ? nr_ids() : 0);
	seq_printf(m, "live_objects=%llu\n", st.live);
	seq_printf(m, "req_live_bytes=%llu\n", st.req_live);
	seq_printf(m, "req_peak_bytes=%llu\n", st.req_peak);
	seq_printf(m, "usable_live_bytes=%llu\n", st.usable_live);
	seq_printf(m, "usable_peak_bytes=%llu\n", st.usable_peak);
	seq_printf(m, "large_live_pages=%llu\n", st.large_live);
	seq_printf(m, "large_peak_pages=%llu\n", st.large_peak);
	seq_printf(m, "slab_delta_pages=%ld\n",
		   st.alloc == R_NONE ? 0 : slab_pages() - st.slab_base);
	seq_printf(m, "slab_delta_peak_pages=%ld\n", st.slab_peak);
	seq_printf(m, "page_size=%lu\n", PAGE_SIZE);
	seq_printf(m, "failures=%llu\n", st.failures);
	seq_printf(m, "bad_records=%llu\n", st.bad_records);
	seq_printf(m, "replay_ns=%llu\n", st.replay_ns);
	seq_printf(m, "finish_ns=%llu\n", st.finish_ns);
	seq_printf(m, "timed=%d\n", replay_timed);
	seq_printf(m, "slept_ns=%llu\n", st.slept_ns);
	seq_printf(m, "sleeps=%llu\n", st.sleeps);
	seq_printf(m, "trace_usec=%u\n", st.next ?
		   le32_to_cpu(st.recs[st.next - 1].usec) - le32_to_cpu(st.recs[0].usec) : 0);
	seq_printf(m, "replay_cpus=%u\n", max(replay_cpus, 1U));
	seq_printf(m, "trace_cpus=%u\n",
		   stream_complete() ? max(le32_to_cpu(st.hdr.nr_cpus), 1U) : 0);
	seq_printf(m, "handoffs=%llu\n", st.handoffs);
	mutex_unlock(&replay_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(result);

static int __init replay_init(void)
{
	replay_dir = debugfs_create_dir("goalloc_replay", NULL);
	debugfs_create_file("trace", 0200, replay_dir, NULL, &trace_fops);
	debugfs_create_file("run", 0200, replay_dir, NULL, &run_fops);
	debugfs_create_file("result", 0444, replay_dir, NULL, &result_fops);
	pr_info("ready: /sys/kernel/debug/goalloc_replay\n");
	return 0;
}

static void __exit replay_exit(void)
{
	debugfs_remove_recursive(replay_dir);
	mutex_lock(&replay_lock);
	drop_stream();
	fresh_destroy();
	mutex_unlock(&replay_lock);
}

module_init(replay_init);
module_exit(replay_exit);

MODULE_DESCRIPTION("Replay a kmalloc/kfree trace through goalloc and through kmalloc");
MODULE_LICENSE("GPL");
