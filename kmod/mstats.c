// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics (Go's MemStats): the debugfs view of goalloc.
 *
 *  goalloc/classes  one line per size class (scan and noscan together):
 *                   object size, span pages, objects per span, objects in
 *                   use, live spans, bytes those spans hold, and the
 *                   objects allocated since load.  Class 0 is large
 *                   objects.
 *  goalloc/heap     the page heap, the caches, the scavenger, bad frees,
 *                   RCU-deferred frees (pending, batches, objects).
 *  goalloc/nodes    one line per NUMA node: its CPUs, the kernel pool's
 *                   chunks on it (KiB held and free), the live and kept
 *                   spans of its mcentrals, and the objects they handed
 *                   out and took back outside any CPU's cache.
 *  goalloc/mcaches  one line per span a CPU caches (its mcache): the CPU,
 *                   the span's class, object size, heap pages and
 *                   objects, objects in use, the bytes of its free slots,
 *                   and the CPU's live objects of the class; then a total
 *                   per CPU.  What per-CPU caching costs in memory.
 *  goalloc/chunks   one line per chunk of the kernel pool, oldest first:
 *                   its node, buddy order, heap pages (free, scavenged),
 *                   CPUs' windows in it, and a run-length map of its pages
 *                   (goalloc_pool_chunk_map(): one chunk per hold of the
 *                   heap lock).
 *
 * Counts are summed from per-CPU counters without stopping anyone, so a
 * busy system shows a snapshot that may be off by the operations in flight.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "../uapi/linux/goalloc.h"
#include "internal.h"
#include "mcache.h"
#include "mheap.h"
#include "uarena.h"

/**
 * goalloc_class_usage() - sum the counters of one span class
 * @spc: span class
 * @u: filled in
 */
void goalloc_class_usage(unsigned int spc, struct goalloc_class_usage *u)
{
	unsigned int cpu;
	int nid;

	/* Each late-found double free was counted as a free by both callers. */
	u->nfree = -atomic_long_read(&goalloc_late_doubles[spc]);
	u->nmalloc = 0;
	u->nspans = 0;
	u->npages = 0;
	for_each_node(nid) {
		struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);

		u->nmalloc += atomic_long_read(&mc->nmalloc);
		u->nfree += atomic_long_read(&mc->nfree);
		u->nspans += atomic_long_read(&mc->nspans);
		u->npages += atomic_long_read(&mc->npages);
	}
	for_each_possible_cpu(cpu) {
		const struct goalloc_mcache *c = per_cpu_ptr(goalloc_mcache, cpu);

		u->nmalloc += READ_ONCE(c->nmalloc[spc]);
		u->nfree += READ_ONCE(c->nfree[spc]);
		u->nfree += READ_ONCE(c->nfree_remote[spc]);
	}
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_class_usage);

/**
 * goalloc_objects_in_use() - live objects of all classes, large ones included
 *
 * Return: the count, as a snapshot.
 */
long goalloc_objects_in_use(void)
{
	struct goalloc_class_usage u;
	unsigned int spc;
	long n = 0;

	for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
		goalloc_class_usage(spc, &u);
		n += u.nmalloc - u.nfree;
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_objects_in_use);

/**
 * goalloc_class_stat() - one size class, as /dev/goalloc reports it
 * @cls: size class
 * @st: filled in (scan and noscan spans together; the kernel's callers only:
 *	chrdev.c adds the user arenas')
 */
void goalloc_class_stat(unsigned int cls, struct goalloc_class_stat *st)
{
	const struct goalloc_class_info *c = &goalloc_class_info[cls];
	struct goalloc_class_usage u, n;

	goalloc_class_usage(goalloc_spc(cls, false), &u);
	goalloc_class_usage(goalloc_spc(cls, true), &n);
	memset(st, 0, sizeof(*st));
	st->size_class = cls;
	st->obj_size = cls ? c->size : 0;
	st->span_bytes = cls ? c->npages * GOALLOC_PAGE_SIZE : 0;
	st->objs_per_span = cls ? c->nelems : 1;
	st->nalloc = u.nmalloc + n.nmalloc;
	st->nfree = u.nfree + n.nfree;
	st->objs_inuse = st->nalloc - st->nfree;
	st->spans = max(u.nspans + n.nspans, 0L);
	st->bytes_held = cls ? max(u.npages + n.npages, 0L) * GOALLOC_PAGE_SIZE : 0;
}

static int classes_show(struct seq_file *m, void *v)
{
	unsigned int cls;

	seq_puts(m, "class  size  pages  objs/span  tail   inuse  spans  held_bytes  alloc_objs\n");
	for (cls = 0; cls < GOALLOC_NUM_CLASSES; cls++) {
		const struct goalloc_class_info *c = &goalloc_class_info[cls];
		struct goalloc_class_usage u, n;
		unsigned long span = c->npages * GOALLOC_PAGE_SIZE;

		goalloc_class_usage(goalloc_spc(cls, false), &u);
		goalloc_class_usage(goalloc_spc(cls, true), &n);
		u.nmalloc += n.nmalloc;
		u.nfree += n.nfree;
		u.nspans += n.nspans;
		u.npages += n.npages;
		if (!cls) {
			/* Large objects: a span each, sized to the object. */
			seq_printf(m, "%5u %5s %6s %10s %5s %7ld %6ld %11s %11lu\n",
				   0, "large", "-", "1", "-", (long)(u.nmalloc - u.nfree),
				   u.nspans, "-", u.nmalloc);
			continue;
		}
		seq_printf(m, "%5u %5u %6u %10u %5lu %7ld %6ld %11lu %11lu\n",
			   cls, c->size, c->npages, c->nelems,
			   span - (unsigned long)c->nelems * c->size,
			   (long)(u.nmalloc - u.nfree), u.nspans, u.npages * GOALLOC_PAGE_SIZE,
			   u.nmalloc);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(classes);

/*
 * goalloc's global counters (internal.h), KFENCE's pattern: one table, its
 * names beside it, and the compiler checks they stay the same length.
 */
atomic_long_t goalloc_counters[GOALLOC_CTR_COUNT];
EXPORT_SYMBOL_IF_KUNIT(goalloc_counters);

/* Unit of a counter: the debugfs line shows pages as KiB. */
enum goalloc_counter_unit { GOALLOC_UNIT_NUMBER, GOALLOC_UNIT_HEAP_PAGES, GOALLOC_UNIT_PAGES };

static const struct {
	const char *name;
	enum goalloc_counter_unit unit;
} goalloc_counter_names[] = {
	[GOALLOC_CTR_CACHED_PAGES]	= { "cached_kib", GOALLOC_UNIT_HEAP_PAGES },
	[GOALLOC_CTR_KEPT_PAGES]	= { "kept_kib", GOALLOC_UNIT_HEAP_PAGES },
	[GOALLOC_CTR_ARENA_PAGES]	= { "arena_kib", GOALLOC_UNIT_HEAP_PAGES },
	[GOALLOC_CTR_USER_ARENAS]	= { "user_arenas", GOALLOC_UNIT_NUMBER },
	[GOALLOC_CTR_RELEASED_PAGES]	= { "scavenged_kib", GOALLOC_UNIT_PAGES },
	[GOALLOC_CTR_BAD_FREES]		= { "bad_frees", GOALLOC_UNIT_NUMBER },
	[GOALLOC_CTR_RCU_BATCHES]	= { "rcu_batches", GOALLOC_UNIT_NUMBER },
	[GOALLOC_CTR_RCU_OBJECTS]	= { "rcu_objects", GOALLOC_UNIT_NUMBER },
	[GOALLOC_CTR_SHAPE_FALLBACKS]	= { "shape_fallbacks", GOALLOC_UNIT_NUMBER },
};

static_assert(ARRAY_SIZE(goalloc_counter_names) == GOALLOC_CTR_COUNT);

/*
 * One CPU's cached spans (mcaches_show()): the slots of @alloc (the CPU's
 * node) and of @away (another node's, marked "away"); a size class's
 * noscan span class is marked "noscan" (its live count is its own).  Read without
 * stopping the CPU, so a snapshot: the owner may swap a span or take and
 * free objects meanwhile.  A span stays readable while RCU is held: spans
 * are freed after a grace period (goalloc_span_free_rcu()).  Returns the
 * bytes of free slots of the spans shown, adding their count to @nspans.
 */
static unsigned long mcache_show_cpu(struct seq_file *m, unsigned int cpu,
				     unsigned int *nspans)
{
	const struct goalloc_mcache *c = per_cpu_ptr(goalloc_mcache, cpu);
	unsigned long free_bytes, total = 0;
	unsigned int spc, away;
	long live;
	int inuse;

	rcu_read_lock();
	for (away = 0; away < 2; away++) {
		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			/* The owner's slots and counts, read as goalloc_class_usage() does. */
			const struct goalloc_span *s = away ? READ_ONCE(c->away[spc]) :
							      READ_ONCE(c->alloc[spc]);

			if (!s || s == &goalloc_placeholder_span)
				continue;
			inuse = clamp(goalloc_span_inuse_hint(s), 0, (int)s->nelems);
			free_bytes = (unsigned long)(s->nelems - inuse) * s->elemsize;
			live = (long)(READ_ONCE(c->nmalloc[spc]) - READ_ONCE(c->nfree[spc]) -
				      READ_ONCE(c->nfree_remote[spc]));
			seq_printf(m, "%3u %5u %7u %6u %6u %6d %11lu %7ld%s%s\n", cpu,
				   goalloc_spc_to_class(spc), s->elemsize, s->npages, s->nelems,
				   inuse, free_bytes, live,
				   goalloc_spc_noscan(spc) ? " noscan" : "",
				   away ? " away" : "");
			total += free_bytes;
			(*nspans)++;
		}
	}
	rcu_read_unlock();
	return total;
}

static int mcaches_show(struct seq_file *m, void *v)
{
	unsigned long free_bytes, all = 0;
	unsigned int cpu, nspans, spans = 0;

	seq_puts(m, "cpu class    size  pages   objs  inuse  free_bytes    live\n");
	for_each_online_cpu(cpu) {
		nspans = 0;
		free_bytes = mcache_show_cpu(m, cpu, &nspans);
		seq_printf(m, "cpu %u: %u spans, %lu bytes free in them\n", cpu, nspans,
			   free_bytes);
		spans += nspans;
		all += free_bytes;
	}
	seq_printf(m, "all: %u spans, %lu bytes free in them\n", spans, all);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mcaches);

static int heap_show(struct seq_file *m, void *v)
{
	unsigned long kib = GOALLOC_PAGE_SIZE / 1024;
	unsigned long pcache = goalloc_heap_pcache_pages();
	unsigned long inuse = READ_ONCE(goalloc_heap.pages_inuse);
	unsigned int i;

	seq_printf(m, "%-20s %lu\n", "heap_chunks", READ_ONCE(goalloc_heap.nchunks));
	seq_printf(m, "%-20s %lu\n", "heap_held_kib", READ_ONCE(goalloc_heap.pages_held) * kib);
	/* In spans: the CPUs' page caches count in the heap's pages in use. */
	seq_printf(m, "%-20s %lu\n", "heap_inuse_kib", (inuse - min(inuse, pcache)) * kib);
	seq_printf(m, "%-20s %lu\n", "heap_pcache_kib", pcache * kib);
	seq_printf(m, "%-20s %lu\n", "heap_idle_kib", READ_ONCE(goalloc_heap.pages_idle) * kib);
	seq_printf(m, "%-20s %lu\n", "retain_goal_kib", goalloc_heap_retain_goal() * kib);
	seq_printf(m, "%-20s %lu\n", "user_kib", READ_ONCE(goalloc_heap.user_pages) * kib);
	seq_printf(m, "%-20s %ld\n", "objects_in_use", goalloc_objects_in_use());
	seq_printf(m, "%-20s %ld\n", "rcu_pending", goalloc_rcu_pending());
	seq_printf(m, "%-20s %lu\n", "chunk_fallbacks", READ_ONCE(goalloc_heap.grow_fallbacks));
	seq_printf(m, "%-20s %lu\n", "chunks_released", READ_ONCE(goalloc_heap.chunks_released));
	for (i = 0; i < GOALLOC_CTR_COUNT; i++) {
		long n = goalloc_counter(i);

		if (goalloc_counter_names[i].unit == GOALLOC_UNIT_HEAP_PAGES)
			n *= (long)kib;
		else if (goalloc_counter_names[i].unit == GOALLOC_UNIT_PAGES)
			n *= (long)(PAGE_SIZE / 1024);
		seq_printf(m, "%-20s %ld\n", goalloc_counter_names[i].name, n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(heap);

static int nodes_show(struct seq_file *m, void *v)
{
	unsigned long kib = GOALLOC_PAGE_SIZE / 1024;
	struct goalloc_node_usage u;
	unsigned int spc;
	int nid;

	seq_printf(m, "%4s %4s %7s %10s %10s %8s %6s %12s %12s\n", "node", "cpus", "chunks",
		   "held_kib", "free_kib", "spans", "kept", "central_out", "central_in");
	for_each_node(nid) {
		long spans = 0, kept = 0, nmalloc = 0, nfree = 0;

		for (spc = 0; spc < GOALLOC_NUM_SPC; spc++) {
			struct goalloc_mcentral *mc = goalloc_central_of(nid, spc);

			spans += atomic_long_read(&mc->nspans);
			kept += READ_ONCE(mc->nkept);
			nmalloc += atomic_long_read(&mc->nmalloc);
			nfree += atomic_long_read(&mc->nfree);
		}
		goalloc_pool_node_usage(&goalloc_heap.kernel, nid, &u);
		seq_printf(m, "%4d %4u %7lu %10lu %10lu %8ld %6ld %12ld %12ld\n", nid,
			   cpumask_weight(cpumask_of_node(nid)), u.chunks, u.held * kib,
			   u.free * kib, spans, kept, nmalloc, nfree);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nodes);

/* One chunk's page codes (mheap.h) as a map token's kind. */
static void chunk_kind(struct seq_file *m, u8 code)
{
	switch (code) {
	case GOALLOC_PAGE_FREE:
		seq_putc(m, 'f');
		break;
	case GOALLOC_PAGE_WINDOW:
		seq_putc(m, 'w');
		break;
	case GOALLOC_PAGE_SCAV:
		seq_putc(m, 's');
		break;
	case GOALLOC_PAGE_ARENA:
		seq_putc(m, 'A');
		break;
	case 0:
		seq_putc(m, 'L');
		break;
	default:
		seq_printf(m, "c%u", code);
	}
}

/*
 * goalloc/chunks: a seq_file, one record per chunk, so that the output is
 * bounded per record (a chunk's map is at most GOALLOC_CHUNK_PAGES runs)
 * and the heap lock is held for one chunk at a time.  Position 0 is the
 * header; position i + 1 is chunk i.
 */
static void *chunks_at(struct seq_file *m, loff_t pos)
{
	struct goalloc_chunk_map *map = m->private;

	if (!pos)
		return SEQ_START_TOKEN;
	if (!goalloc_pool_chunk_map(&goalloc_heap.kernel, pos - 1, map))
		return NULL;
	return map;
}

static void *chunks_start(struct seq_file *m, loff_t *pos)
{
	return chunks_at(m, *pos);
}

static void *chunks_next(struct seq_file *m, void *v, loff_t *pos)
{
	return chunks_at(m, ++*pos);
}

static void chunks_stop(struct seq_file *m, void *v)
{
}

static int chunks_show(struct seq_file *m, void *v)
{
	const struct goalloc_chunk_map *map = v;
	unsigned int i, run;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "# chunk node order pages free scav windows map: RUN:KIND... (f free, w free in a CPU's window, s scavenged, L large object, A kernel arena, cN span of size class N)\n");
		return 0;
	}
	seq_printf(m, "%lld %d %u %u %u %u %u", m->index - 1, map->nid, map->order, map->npages,
		   map->nfree, map->nscav, map->windows);
	for (i = 0; i < map->npages; i += run) {
		for (run = 1; i + run < map->npages && map->page[i + run] == map->page[i]; run++)
			;
		seq_printf(m, " %u:", run);
		chunk_kind(m, map->page[i]);
	}
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations chunks_sops = {
	.start = chunks_start,
	.next = chunks_next,
	.stop = chunks_stop,
	.show = chunks_show,
};

static int chunks_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &chunks_sops, sizeof(struct goalloc_chunk_map));
}

static const struct file_operations chunks_fops = {
	.owner = THIS_MODULE,
	.open = chunks_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

int goalloc_stats_init(struct dentry *root)
{
	debugfs_create_file("classes", 0444, root, NULL, &classes_fops);
	debugfs_create_file("heap", 0444, root, NULL, &heap_fops);
	debugfs_create_file("nodes", 0444, root, NULL, &nodes_fops);
	debugfs_create_file("mcaches", 0444, root, NULL, &mcaches_fops);
	debugfs_create_file("chunks", 0400, root, NULL, &chunks_fops);
	return 0;
}
