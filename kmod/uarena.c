// SPDX-License-Identifier: GPL-2.0
/*
 * User arenas (Go's arenas, for userspace): the allocator behind each open
 * file of /dev/goalloc (chrdev.c).
 *
 * The arena owns its spans outright.  They come from a pool of chunks of its
 * own (mheap.c), charged to the memory cgroup of the process that opened the
 * arena, so no page is ever shared with another arena or with the kernel's
 * callers.  Each span is also placed at a run of the arena's offset space:
 * an object's offset is its span's offset plus its slot's.  Allocation walks
 * the class's spans with free slots with mcentral's walk
 * (goalloc_central_take()); frees are recorded in the span's free bitmap and
 * folded in by the sweep when the span runs dry.
 * A span left empty is unmapped from every process and goes back to the heap
 * at once, unless the free asks to keep it (GOALLOC_FREE_KEEP, which
 * libgoalloc's thread caches use): then empty spans stay mapped, up to the
 * arena's keep budget (uarena_keep_pages(): a quarter of its cap,
 * at most the module parameter user_keep_bytes), so that a working set
 * that is filled and drained again and again is zeroed and faulted in once,
 * as a malloc heap's is, rather than on every fill.  Past the budget the
 * class that kept a span least recently gives its oldest back first, so a
 * program that moves from one working set to another keeps the new one;
 * only when no other class has any does the emptied span itself go back.
 * An allocation takes its class's newest kept span.  Their memory is the
 * arena's own and the metadata is out of band, so what userspace writes to
 * it reaches nothing of the kernel's.  Kept spans go back at a reset, when
 * the arena needs their room (its cap or its memory cgroup's limit is
 * reached), and under memory pressure (the arenas' shrinker; it is not
 * memory-cgroup aware, so a cgroup's own reclaim does not reach them, only
 * the arena's next allocation that fails for want of room).  (The pool
 * keeps one small idle chunk charged for reuse until the reset or the
 * arena's end.)
 *
 * Everything runs in process context under the arena's mutex: an arena is
 * not a fast path shared by CPUs, it is a batch interface.  Whatever the
 * arena allocates for its own bookkeeping (the offset map, the xarray of
 * spans) is charged to the opener's memory cgroup too, whoever makes the
 * call that needs it.
 *
 * The arenas count their own traffic: each arena its figures, and all of
 * them together per size class (goalloc_uarena_class_stats()), never in the
 * kernel callers' counters.  goalloc_uarena_stats() fills a kernel-side
 * struct; chrdev.c turns it into the ABI's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"
#include "mcentral.h"
#include "uarena.h"

/* The device maps heap pages whole: a page must not straddle two spans. */
static_assert(PAGE_SIZE <= GOALLOC_PAGE_SIZE);

/* The largest idle chunk an arena's pool keeps: 16 KiB, two heap pages. */
#define UARENA_KEEP_PAGES	2

/* Spans of user arenas are noscan: no kernel pointer is ever in them. */
#define UARENA_NOSCAN		true

/*
 * The most an arena keeps in empty spans (GOALLOC_FREE_KEEP), bytes; an
 * arena keeps at most a quarter of its cap.  64 MiB: what glibc's malloc
 * may keep freed at the top of its heap before it trims (its dynamic trim
 * threshold, twice the mmap threshold's 32 MiB bound on 64-bit); the
 * shrinker takes it back under memory pressure.
 */
static unsigned long goalloc_user_keep_bytes = 64UL << 20;
module_param_named(user_keep_bytes, goalloc_user_keep_bytes, ulong, 0644);
MODULE_PARM_DESC(user_keep_bytes,
		 "Most bytes of empty spans a /dev/goalloc arena keeps mapped for reuse (64 MiB)");

/*
 * Every arena, for the shrinker.  An arena joins at creation and leaves
 * before its end; the shrinker takes this mutex and each arena's with
 * mutex_trylock() only, so it never waits for an arena (which may itself be
 * in reclaim, holding its lock, or unmapping under the mapping's lock).
 */
static LIST_HEAD(uarenas);
static DEFINE_MUTEX(uarenas_lock);

/* Heap pages of kept spans, all arenas: the shrinker's count. */
static atomic_long_t uarena_kept_pages;

/* The default cap of a new arena, bytes; SETUP may only lower it. */
unsigned long goalloc_user_max_bytes = 256UL << 20;
module_param_named(user_max_bytes, goalloc_user_max_bytes, ulong, 0644);
MODULE_PARM_DESC(user_max_bytes,
		 "Default and largest size cap of a /dev/goalloc arena, bytes (256 MiB)");

/**
 * struct uarena_class - the traffic of all user arenas in one size class
 * @nalloc: objects allocated, ever (less those of batches taken back)
 * @nfree: objects freed, ever, by a free, a reset or an arena's end
 * @nspans: live spans
 */
struct uarena_class {
	atomic_long_t nalloc;
	atomic_long_t nfree;
	atomic_long_t nspans;
};

static struct uarena_class uarena_class[GOALLOC_NUM_CLASSES];

/**
 * goalloc_uarena_class_stats() - what all user arenas hold in one size class
 * @cls: size class (0: large objects)
 * @st: filled in
 */
void goalloc_uarena_class_stats(unsigned int cls, struct goalloc_uarena_class_stats *st)
{
	st->nalloc = atomic_long_read(&uarena_class[cls].nalloc);
	st->nfree = atomic_long_read(&uarena_class[cls].nfree);
	st->nspans = atomic_long_read(&uarena_class[cls].nspans);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_class_stats);

static unsigned long default_max_pages(void)
{
	return READ_ONCE(goalloc_user_max_bytes) >> GOALLOC_PAGE_SHIFT;
}

/**
 * goalloc_uarena_create() - a new, empty arena
 * @mapping: the address space its mappings will be in
 *
 * The arena's pages are charged to the calling process's memory cgroup.
 *
 * Return: the arena, or NULL.
 */
struct goalloc_uarena *goalloc_uarena_create(struct address_space *mapping)
{
	struct goalloc_uarena *ua = kzalloc(sizeof(*ua), GFP_KERNEL_ACCOUNT);
	/*
	 * The arena's pages are the opener's, and only its: charged to its
	 * memcg, chunks cut to their span, one small idle chunk kept (the ABI
	 * bounds bytes_charged by it), the rest back at once.
	 */
	struct goalloc_pool_policy policy = {
		.memcg = current->mm ? get_mem_cgroup_from_mm(current->mm) : NULL,
		.charge = true,
		.exact_fit = true,
		.keep_chunk_pages = UARENA_KEEP_PAGES,
	};
	unsigned int cls;

	if (!ua) {
		mem_cgroup_put(policy.memcg);
		return NULL;
	}
	mutex_init(&ua->lock);
	goalloc_pool_init(&ua->pool, &policy);
	ua->mapping = mapping;
	ua->max_pages = default_max_pages();
	xa_init(&ua->spans);
	for (cls = 0; cls < GOALLOC_NUM_CLASSES; cls++) {
		INIT_LIST_HEAD(&ua->partial[cls]);
		INIT_LIST_HEAD(&ua->kept[cls]);
	}
	mutex_lock(&uarenas_lock);
	list_add(&ua->node, &uarenas);
	mutex_unlock(&uarenas_lock);
	goalloc_count(GOALLOC_CTR_USER_ARENAS, 1);
	return ua;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_create);

/* Give a span back to the heap; @zap: unmap its pages from every process. */
static void uspan_release(struct goalloc_uarena *ua, struct goalloc_span *s, bool zap)
{
	unsigned int i;

	lockdep_assert_held(&ua->lock);
	if (zap)
		unmap_mapping_range(ua->mapping, (loff_t)s->upage << GOALLOC_PAGE_SHIFT,
				    (loff_t)s->npages << GOALLOC_PAGE_SHIFT, 1);
	for (i = 0; i < s->npages; i++)
		xa_erase(&ua->spans, s->upage + i);
	bitmap_clear(ua->offmap, s->upage, s->npages);
	list_del_init(&s->list);
	ua->pages -= s->npages;
	ua->nspans--;
	atomic_long_dec(&uarena_class[s->cls].nspans);
	/* A stray goalloc_free() from the kernel must see it gone. */
	goalloc_heap_put_span(s);
}

/**
 * uarena_keep_pages() - the most an arena keeps in empty spans
 * @ua: the arena
 *
 * Return: heap pages: a quarter of the arena's cap, at most the module
 * parameter user_keep_bytes.
 */
static unsigned long uarena_keep_pages(const struct goalloc_uarena *ua)
{
	return min(READ_ONCE(goalloc_user_keep_bytes) >> GOALLOC_PAGE_SHIFT, ua->max_pages / 4);
}

static void kept_add(struct goalloc_uarena *ua, long pages)
{
	lockdep_assert_held(&ua->lock);
	/* The shrinker peeks at it without the lock. */
	WRITE_ONCE(ua->kept_pages, ua->kept_pages + pages);
	atomic_long_add(pages, &uarena_kept_pages);
}

/* Keep @s, just emptied, as its class's newest kept span. */
static void span_keep(struct goalloc_uarena *ua, struct goalloc_span *s)
{
	lockdep_assert_held(&ua->lock);
	list_move_tail(&s->list, &ua->kept[s->cls]);
	ua->kept_stamp[s->cls] = ++ua->kept_clock;
	kept_add(ua, s->npages);
}

/*
 * The class with kept spans that kept one least recently, other than
 * @skip (0: none skipped; large objects are never kept); 0 if there is none.
 */
static unsigned int kept_coldest(const struct goalloc_uarena *ua, unsigned int skip)
{
	unsigned int cls, best = 0;

	for (cls = 1; cls < GOALLOC_NUM_CLASSES; cls++) {
		if (cls == skip || list_empty(&ua->kept[cls]))
			continue;
		if (!best || ua->kept_stamp[cls] < ua->kept_stamp[best])
			best = cls;
	}
	return best;
}

/*
 * Release kept spans until @want heap pages went back or none is left but
 * @skip's: the class that kept a span least recently first, its oldest
 * span first (a working set the program has moved away from goes before
 * the one it uses).
 *
 * Return: heap pages released.
 */
static unsigned long release_kept(struct goalloc_uarena *ua, unsigned long want,
				  unsigned int skip)
{
	struct goalloc_span *s;
	unsigned long done = 0;
	unsigned int cls;

	lockdep_assert_held(&ua->lock);
	while (done < want && (cls = kept_coldest(ua, skip))) {
		s = list_first_entry(&ua->kept[cls], struct goalloc_span, list);
		done += s->npages;
		kept_add(ua, -(long)s->npages);
		uspan_release(ua, s, true);
	}
	return done;
}

/* A new span of class @cls (or of @npages for one large object). */
static struct goalloc_span *uspan_create(struct goalloc_uarena *ua, unsigned int cls,
					 unsigned int npages)
{
	unsigned long first, align;
	struct mem_cgroup *old_memcg;
	gfp_t gfp = GFP_KERNEL;
	struct goalloc_span *s;
	unsigned int i;
	int err = 0;

	lockdep_assert_held(&ua->lock);
	/*
	 * Offsets are aligned as the kernel's spans are: a class's as
	 * mcentral's, and a large object of a power-of-two number of heap
	 * pages to that number.
	 */
	if (cls) {
		npages = goalloc_class_info[cls].npages;
		align = goalloc_class_align(cls);
	} else {
		align = is_power_of_2(npages) ? npages : 1;
	}
	if (!ua->offmap) {
		/* The opener pays for the arena's metadata, not the caller. */
		old_memcg = goalloc_pool_charge_begin(&ua->pool, &gfp);
		ua->offmap = kvcalloc(BITS_TO_LONGS(ua->max_pages), sizeof(long), gfp);
		goalloc_pool_charge_end(&ua->pool, old_memcg);
		if (!ua->offmap)
			return ERR_PTR(-ENOMEM);
	}
	first = bitmap_find_next_zero_area(ua->offmap, ua->max_pages, 0, npages, align - 1);
	if (first >= ua->max_pages)
		return ERR_PTR(-ENOMEM);

	s = goalloc_pool_alloc_span(&ua->pool, goalloc_spc(cls, UARENA_NOSCAN), npages, 1,
				    NUMA_NO_NODE, GOALLOC_SPAN_USER, GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->upage = first;
	INIT_LIST_HEAD(&s->list);
	old_memcg = goalloc_pool_charge_begin(&ua->pool, &gfp);
	for (i = 0; i < npages; i++) {
		err = xa_err(xa_store(&ua->spans, first + i, s, gfp));
		if (err)
			break;
	}
	goalloc_pool_charge_end(&ua->pool, old_memcg);
	if (err) {
		while (i--)
			xa_erase(&ua->spans, first + i);
		goalloc_heap_put_span(s);
		return ERR_PTR(err);
	}
	bitmap_set(ua->offmap, first, npages);
	ua->pages += npages;
	ua->nspans++;
	atomic_long_inc(&uarena_class[cls].nspans);
	/*
	 * Userspace may see any byte of it from now on: the previous owner's
	 * data must not show.  The kernel writes it, so KASAN must allow that.
	 */
	goalloc_kasan_unpoison((void *)s->base, (size_t)npages * GOALLOC_PAGE_SIZE);
	memset((void *)s->base, 0, (size_t)npages * GOALLOC_PAGE_SIZE);
	return s;
}

static u64 obj_offset(const struct goalloc_span *s, const void *p)
{
	return ((u64)s->upage << GOALLOC_PAGE_SHIFT) + ((unsigned long)p - s->base);
}

/* The size class serving @size bytes, 0 for a large object. */
static unsigned int uarena_class_of(u64 size)
{
	return size <= GOALLOC_MAX_CLASS_SIZE ? goalloc_size_class(size) : 0;
}

static int alloc_one(struct goalloc_uarena *ua, u64 size, bool zero, u64 *offp)
{
	unsigned int cls = uarena_class_of(size);
	struct goalloc_span *s = NULL;
	void *p = NULL;

	lockdep_assert_held(&ua->lock);
	/* A span found full leaves the list until a free puts it back. */
	if (cls) {
		p = goalloc_central_take(&ua->partial[cls], NULL, &s);
		if (!p && !list_empty(&ua->kept[cls])) {
			/* The newest kept span: the likeliest still in the caches. */
			s = list_last_entry(&ua->kept[cls], struct goalloc_span, list);
			list_move(&s->list, &ua->partial[cls]);
			kept_add(ua, -(long)s->npages);
			p = goalloc_central_take(&ua->partial[cls], NULL, &s);
			WARN_ON_ONCE(!p);
		}
	}
	if (!p) {
		unsigned int npages = cls ? 0 : DIV_ROUND_UP(size, GOALLOC_PAGE_SIZE);

		s = uspan_create(ua, cls, npages);
		/* Out of room (cap, memcg or memory): the kept spans make way. */
		if (PTR_ERR_OR_ZERO(s) == -ENOMEM && ua->kept_pages) {
			release_kept(ua, ULONG_MAX, 0);
			s = uspan_create(ua, cls, npages);
		}
		if (IS_ERR(s))
			return PTR_ERR(s);
		p = goalloc_span_next_free(s);
		if (cls)
			list_add(&s->list, &ua->partial[cls]);
	}
	if (zero)
		memset(p, 0, s->elemsize);
	ua->objects++;
	ua->bytes_allocated += s->elemsize;
	ua->nalloc++;
	ua->alloc_seq++;
	atomic_long_inc(&uarena_class[s->cls].nalloc);
	*offp = obj_offset(s, p);
	return 0;
}

/*
 * Free the object at @off; @keep: keep its span if it empties, within the
 * keep budget, which colder classes' kept spans make room in.
 */
static int free_one(struct goalloc_uarena *ua, u64 off, bool keep)
{
	unsigned long budget;
	struct goalloc_span *s;
	u64 rel;
	int err;

	lockdep_assert_held(&ua->lock);
	if (off >= (u64)ua->max_pages << GOALLOC_PAGE_SHIFT)
		return -ERANGE;
	s = xa_load(&ua->spans, off >> GOALLOC_PAGE_SHIFT);
	if (!s)
		return -ENOENT;
	rel = off - ((u64)s->upage << GOALLOC_PAGE_SHIFT);
	err = goalloc_span_free(s, (void *)(s->base + rel));
	/* Inside a slot: -EINVAL; past the last slot or a free slot: no object. */
	if (err)
		return err == -EINVAL ? -EINVAL : -ENOENT;
	ua->objects--;
	ua->bytes_allocated -= s->elemsize;
	ua->nfree++;
	ua->free_seq++;
	atomic_long_inc(&uarena_class[s->cls].nfree);
	if (!goalloc_span_inuse(s)) {
		budget = keep && s->cls ? uarena_keep_pages(ua) : 0;
		if (ua->kept_pages + s->npages > budget && s->npages <= budget)
			release_kept(ua, ua->kept_pages + s->npages - budget, s->cls);
		if (ua->kept_pages + s->npages > budget) {
			uspan_release(ua, s, true);
			return 0;
		}
		span_keep(ua, s);
		return 0;
	}
	if (list_empty(&s->list))
		list_add_tail(&s->list, &ua->partial[s->cls]);
	return 0;
}

/* Make @n objects of @size taken back by the caller as if never allocated. */
static void uncount(struct goalloc_uarena *ua, u64 size, u32 n)
{
	unsigned int cls = uarena_class_of(size);

	ua->nalloc -= n;
	ua->nfree -= n;
	atomic_long_sub(n, &uarena_class[cls].nalloc);
	atomic_long_sub(n, &uarena_class[cls].nfree);
}

/**
 * goalloc_uarena_alloc() - allocate a batch of objects of one size
 * @ua: the arena
 * @size: bytes per object, 1 .. GOALLOC_MAX_OBJECT
 * @count: objects
 * @zero: zero every object, not only fresh memory
 * @offsets: filled with the objects' offsets
 * @t: filled in for goalloc_uarena_undo()
 *
 * All or nothing.
 *
 * Return: 0, or -ENOMEM (cap, memory cgroup limit or memory) with nothing
 * allocated.
 */
int goalloc_uarena_alloc(struct goalloc_uarena *ua, u64 size, u32 count, bool zero,
			 u64 *offsets, struct goalloc_uarena_ticket *t)
{
	int err = 0;
	u32 i;

	mutex_lock(&ua->lock);
	for (i = 0; i < count; i++) {
		err = alloc_one(ua, size, zero, &offsets[i]);
		if (err)
			break;
	}
	if (err && i) {
		u32 n = i;

		/*
		 * The lock was held throughout: the objects are this call's,
		 * so each free succeeds.
		 */
		while (i--)
			WARN_ON_ONCE(free_one(ua, offsets[i], false));
		/* Nothing happened, as far as the counters can tell either. */
		uncount(ua, size, n);
	}
	t->size = size;
	t->obj_size = uarena_class_of(size) ?
		goalloc_class_info[uarena_class_of(size)].size :
		(u64)DIV_ROUND_UP(size, GOALLOC_PAGE_SIZE) << GOALLOC_PAGE_SHIFT;
	t->gen = ua->nreset;
	t->alloc_seq = ua->alloc_seq;
	t->free_seq = ua->free_seq;
	mutex_unlock(&ua->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_alloc);

/**
 * goalloc_uarena_undo() - take back a batch the caller could not deliver
 * @ua: the arena
 * @t: the ticket goalloc_uarena_alloc() gave with the batch
 * @count: objects
 * @offsets: their offsets
 *
 * Between the allocation and the undo the arena was unlocked, and the
 * offsets are predictable: another thread sharing the file may have freed
 * some of them, and an offset freed and then allocated again is no longer
 * this batch's.  Only what is certainly still the batch's is freed:
 *
 *  - the arena was reset since: nothing (the reset took the objects, and
 *    the offsets may be someone else's now);
 *  - nothing was freed since: every object is still the batch's;
 *  - nothing was allocated since: no offset can have been reused, so the
 *    objects still allocated are the batch's and those already freed are
 *    skipped;
 *  - both: which offsets were reused cannot be known, so nothing is freed.
 *    The objects stay allocated and counted until freed by offset, a reset
 *    or the arena's end: a leak inside the arena, never a free of someone
 *    else's object.
 *
 * Return: the number of objects taken back.
 */
u32 goalloc_uarena_undo(struct goalloc_uarena *ua, const struct goalloc_uarena_ticket *t,
			u32 count, const u64 *offsets)
{
	u32 i, n = 0;

	mutex_lock(&ua->lock);
	if (ua->nreset != t->gen)
		goto out;
	if (ua->free_seq != t->free_seq && ua->alloc_seq != t->alloc_seq)
		goto out;
	for (i = 0; i < count; i++)
		if (!free_one(ua, offsets[i], false))
			n++;
	/* The objects taken back were never handed out. */
	uncount(ua, t->size, n);
out:
	mutex_unlock(&ua->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_undo);

/**
 * goalloc_uarena_free() - free a batch of objects
 * @ua: the arena
 * @count: entries
 * @offsets: the objects' offsets
 * @results: per entry, 0 or a negative errno (see the uapi header); may be NULL
 *
 * Return: the number of objects freed.
 */
u32 goalloc_uarena_free(struct goalloc_uarena *ua, u32 count, const u64 *offsets,
			s32 *results)
{
	u32 nfreed;

	goalloc_uarena_free_batch(ua, count, offsets, results, false, NULL, &nfreed);
	return nfreed;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_free);

/**
 * goalloc_uarena_free_batch() - free a batch of objects, with options
 * @ua: the arena
 * @count: entries
 * @offsets: the objects' offsets
 * @results: per entry, 0 or a negative errno (see the uapi header); may be NULL
 * @keep: keep a span the batch empties mapped, within the arena's keep
 *	budget (GOALLOC_FREE_KEEP, uarena_keep_pages())
 * @gen: NULL, or the reset generation the offsets belong to: if the arena
 *	was reset since, nothing is freed (GOALLOC_FREE_GEN)
 * @nfreed: set to the number of objects freed
 *
 * Return: 0, or -ESTALE (@gen is not the arena's generation; *@nfreed 0 and
 * @results untouched).
 */
int goalloc_uarena_free_batch(struct goalloc_uarena *ua, u32 count, const u64 *offsets,
			      s32 *results, bool keep, const u64 *gen, u32 *nfreed)
{
	u32 i, n = 0;

	*nfreed = 0;
	mutex_lock(&ua->lock);
	if (gen && *gen != ua->nreset) {
		mutex_unlock(&ua->lock);
		return -ESTALE;
	}
	for (i = 0; i < count; i++) {
		int err = free_one(ua, offsets[i], keep);

		if (results)
			results[i] = err;
		if (!err)
			n++;
	}
	mutex_unlock(&ua->lock);
	*nfreed = n;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_free_batch);

/* Release every span; @zap: unmap the whole arena from every process first. */
static void release_all(struct goalloc_uarena *ua, bool zap)
{
	struct goalloc_span *s;
	unsigned long idx;

	lockdep_assert_held(&ua->lock);
	if (zap)
		unmap_mapping_range(ua->mapping, 0, 0, 1);
	xa_for_each(&ua->spans, idx, s) {
		ua->objects -= goalloc_span_inuse(s);
		ua->bytes_allocated -= (unsigned long)goalloc_span_inuse(s) * s->elemsize;
		atomic_long_add(goalloc_span_inuse(s), &uarena_class[s->cls].nfree);
		uspan_release(ua, s, false);
	}
	kept_add(ua, -(long)ua->kept_pages);
	WARN_ON_ONCE(ua->objects || ua->bytes_allocated || ua->pages || ua->nspans);
}

/**
 * goalloc_uarena_reset() - free every object; unmap the arena everywhere
 * @ua: the arena
 *
 * A later access through an existing mapping raises SIGBUS until new
 * objects are allocated there.
 */
void goalloc_uarena_reset(struct goalloc_uarena *ua)
{
	mutex_lock(&ua->lock);
	release_all(ua, true);
	goalloc_pool_trim(&ua->pool, 0);
	ua->nreset++;
	mutex_unlock(&ua->lock);
}

/**
 * goalloc_uarena_destroy() - free an arena and all its memory
 * @ua: the arena, with no file and no mapping left
 */
void goalloc_uarena_destroy(struct goalloc_uarena *ua)
{
	/* Out of the shrinker's reach first: it holds uarenas_lock while in one. */
	mutex_lock(&uarenas_lock);
	list_del(&ua->node);
	mutex_unlock(&uarenas_lock);
	mutex_lock(&ua->lock);
	release_all(ua, false);
	mutex_unlock(&ua->lock);
	goalloc_pool_trim(&ua->pool, 0);
	/* Every other chunk of the pool went back as soon as it was idle. */
	WARN_ON_ONCE(ua->pool.pages_held);
	mem_cgroup_put(ua->pool.policy.memcg);
	xa_destroy(&ua->spans);
	kvfree(ua->offmap);
	mutex_destroy(&ua->lock);
	goalloc_count(GOALLOC_CTR_USER_ARENAS, -1);
	kfree(ua);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_destroy);

/**
 * goalloc_uarena_setup() - set the arena's cap
 * @ua: the arena
 * @max_size: in: the cap in bytes, 0 to keep it; out: the cap in effect
 *
 * Return: 0; -EBUSY if the arena holds memory or is mapped; -EINVAL for a
 * cap above the module's default.
 */
int goalloc_uarena_setup(struct goalloc_uarena *ua, u64 *max_size)
{
	int err = 0;

	mutex_lock(&ua->lock);
	if (ua->pages || atomic_long_read(&ua->nmaps)) {
		err = -EBUSY;
	} else if (*max_size) {
		if (*max_size > (u64)default_max_pages() << GOALLOC_PAGE_SHIFT) {
			err = -EINVAL;
		} else {
			ua->max_pages = DIV_ROUND_UP_ULL(*max_size, GOALLOC_PAGE_SIZE);
			kvfree(ua->offmap);
			ua->offmap = NULL;
		}
	}
	*max_size = (u64)ua->max_pages << GOALLOC_PAGE_SHIFT;
	mutex_unlock(&ua->lock);
	return err;
}

/**
 * goalloc_uarena_map() - admit a new mapping of the arena
 * @ua: the arena
 * @pgoff: its first page, in PAGE_SIZE units of the arena's offsets
 * @npages: its length in PAGE_SIZE pages
 *
 * Return: 0, or -EINVAL if the range goes past the cap.
 */
int goalloc_uarena_map(struct goalloc_uarena *ua, unsigned long pgoff, unsigned long npages)
{
	unsigned long max;
	int err = 0;

	mutex_lock(&ua->lock);
	max = ua->max_pages << (GOALLOC_PAGE_SHIFT - PAGE_SHIFT);
	if (pgoff > max || npages > max - pgoff)
		err = -EINVAL;
	else
		atomic_long_inc(&ua->nmaps);
	mutex_unlock(&ua->lock);
	return err;
}

/**
 * goalloc_uarena_stats() - the arena's and the heap's numbers
 * @ua: the arena
 * @st: filled in
 */
void goalloc_uarena_stats(struct goalloc_uarena *ua, struct goalloc_uarena_stats *st)
{
	unsigned long inuse;

	mutex_lock(&ua->lock);
	st->max_bytes = (u64)ua->max_pages << GOALLOC_PAGE_SHIFT;
	st->objects = ua->objects;
	st->bytes_allocated = ua->bytes_allocated;
	st->bytes_held = (u64)ua->pages << GOALLOC_PAGE_SHIFT;
	st->bytes_charged = (u64)READ_ONCE(ua->pool.pages_held) << GOALLOC_PAGE_SHIFT;
	st->nspans = ua->nspans;
	st->nalloc = ua->nalloc;
	st->nfree = ua->nfree;
	st->nreset = ua->nreset;
	mutex_unlock(&ua->lock);
	st->heap_bytes = (u64)READ_ONCE(goalloc_heap.pages_held) << GOALLOC_PAGE_SHIFT;
	/* In spans: the CPUs' page-cache windows count in pages_inuse too. */
	inuse = READ_ONCE(goalloc_heap.pages_inuse);
	inuse -= min(inuse, goalloc_heap_pcache_pages());
	st->heap_inuse_bytes = (u64)inuse << GOALLOC_PAGE_SHIFT;
	st->heap_chunks = READ_ONCE(goalloc_heap.nchunks);
	st->narenas = goalloc_counter(GOALLOC_CTR_USER_ARENAS);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_uarena_stats);

/**
 * goalloc_uarena_fault() - map the span at a faulting offset
 * @ua: the arena
 * @vma: the faulting mapping
 * @pgoff: the faulting page, in PAGE_SIZE units of the arena's offsets
 *
 * The whole span is mapped, as far as @vma covers it.
 *
 * Return: VM_FAULT_NOPAGE when mapped, VM_FAULT_SIGBUS where no span is.
 */
vm_fault_t goalloc_uarena_fault(struct goalloc_uarena *ua, struct vm_area_struct *vma,
				pgoff_t pgoff)
{
	const unsigned int per = GOALLOC_PAGE_SIZE / PAGE_SIZE;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	struct goalloc_span *s = NULL;
	unsigned long i, first;

	mutex_lock(&ua->lock);
	if (pgoff < ua->max_pages * per)
		s = xa_load(&ua->spans, pgoff / per);
	if (!s)
		goto out;
	first = (unsigned long)s->upage * per;
	for (i = 0; i < (unsigned long)s->npages * per; i++) {
		unsigned long addr;
		vm_fault_t r;

		if (first + i < vma->vm_pgoff)
			continue;
		addr = vma->vm_start + ((first + i - vma->vm_pgoff) << PAGE_SHIFT);
		if (addr >= vma->vm_end)
			break;
		r = vmf_insert_pfn(vma, addr, PHYS_PFN(__pa(s->base + i * PAGE_SIZE)));
		if (first + i == pgoff)
			ret = r;
	}
out:
	mutex_unlock(&ua->lock);
	return ret;
}

/**
 * uarena_shrink_count() - the arenas' shrinker's count
 * @sh: the shrinker
 * @sc: the reclaim's control
 *
 * Return: heap pages in kept spans, all arenas (SHRINK_EMPTY for none).
 */
static unsigned long uarena_shrink_count(struct shrinker *sh, struct shrink_control *sc)
{
	long n = atomic_long_read(&uarena_kept_pages);

	return n > 0 ? n : SHRINK_EMPTY;
}

/**
 * uarena_shrink_scan() - the arenas' shrinker's scan
 * @sh: the shrinker
 * @sc: the reclaim's control: @nr_to_scan heap pages
 *
 * Releases kept spans, unmapped from every process, of each arena whose
 * lock is free.  Never waits for an arena: one busy (maybe in this very
 * reclaim) is skipped.
 *
 * Return: heap pages released, or SHRINK_STOP if none could be.
 */
static unsigned long uarena_shrink_scan(struct shrinker *sh, struct shrink_control *sc)
{
	unsigned long done = 0;
	struct goalloc_uarena *ua;

	if (!mutex_trylock(&uarenas_lock))
		return SHRINK_STOP;
	list_for_each_entry(ua, &uarenas, node) {
		if (done >= sc->nr_to_scan)
			break;
		if (!READ_ONCE(ua->kept_pages) || !mutex_trylock(&ua->lock))
			continue;
		done += release_kept(ua, sc->nr_to_scan - done, 0);
		mutex_unlock(&ua->lock);
	}
	mutex_unlock(&uarenas_lock);
	return done ? done : SHRINK_STOP;
}

static struct shrinker *uarena_shrinker;

/**
 * goalloc_uarena_init() - register the arenas' shrinker
 *
 * Return: 0 or -ENOMEM.
 */
int goalloc_uarena_init(void)
{
	uarena_shrinker = goalloc_shrinker_start("goalloc-uarena", uarena_shrink_count,
						 uarena_shrink_scan);
	return uarena_shrinker ? 0 : -ENOMEM;
}

/** goalloc_uarena_exit() - unregister the arenas' shrinker */
void goalloc_uarena_exit(void)
{
	goalloc_shrinker_stop(uarena_shrinker);
}
