// SPDX-License-Identifier: GPL-2.0
/*
 * The allocation-site profile (Go's mprof.go): per call site, the calls,
 * live objects and live bytes, as 6.10's /proc/allocinfo shows them for
 * the page and slab allocators and as Go's heap profile does.
 *
 * Sampling is Go's MemProfileRate: the parameter profile_rate is the mean
 * number of bytes asked for between two samples.  Each CPU counts down the
 * bytes to its next sample (goalloc_mprof_next), drawn from an exponential
 * distribution of that mean, so every byte has the same chance to be the
 * one sampled, whatever the sizes; an object of @size bytes is sampled
 * with probability 1 - exp(-@size / rate), and each sample stands for
 * 1 / that many allocations (its weight), which makes the estimates
 * unbiased.  profile_rate=1 records every allocation with weight 1: the
 * profile is exact.  0 (the default) turns it off and drops what was
 * recorded; any other change of rate keeps the records.
 *
 * While the profile is off its only cost is the static key of observe.h,
 * shared with the alloc tracepoint.  While it is on, an allocation pays
 * the countdown (seven instructions), and a free nothing unless its span
 * holds a sampled object: the span's @prof_slot shares a word with
 * @nremote, which the owner's fast free tests anyway; the free of the
 * sampled slot (of any slot, while the span holds two samples or more)
 * takes the slow path, which calls goalloc_mprof_free().
 *
 * A sample is a record (struct mprof_obj) keyed by the object's address,
 * charged to a site (struct mprof_site) keyed by the caller's address.
 * Records and sites are SLUB memory (goalloc does not profile itself) and
 * live in two hash tables under mprof_lock.  The record is dropped before
 * the object is freed, so an address freed and handed out again is never
 * matched with an old record; a free that is then refused (a named cache's
 * free of another cache's object) has lost its sample, and the profile
 * undercounts that object.  A sample that finds no memory for its record
 * is dropped and counted ("dropped" in debugfs).
 *
 * debugfs goalloc/allocinfo: a header with the rate, then one line per
 * site, "live_bytes live_objects calls site", estimates, in /proc/allocinfo's
 * order of columns (goallocstat --sites sorts them).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "internal.h"
#include "mheap.h"
#include "mprof.h"
#include "observe.h"

/* Weights and estimates are fixed point with this many fraction bits. */
#define MPROF_W_SHIFT	16
#define MPROF_W_ONE	BIT_ULL(MPROF_W_SHIFT)
/* The largest rate: keeps weight * bytes sums far inside 64 bits. */
#define MPROF_MAX_RATE	BIT(30)

/* One sampled live object. */
struct mprof_obj {
	struct hlist_node node;		/* in mprof_objs, by @p */
	const void *p;
	struct goalloc_span *span;	/* @p's, alive while @p is */
	struct mprof_site *site;
	u64 weight;			/* allocations it stands for (fixed point) */
	u32 usable;			/* the slot's bytes */
	u32 slot;			/* its index in @span */
};

/* One call site; never freed while the profile is on. */
struct mprof_site {
	struct hlist_node node;		/* in mprof_sites, by @ip */
	unsigned long ip;
	u64 samples;
	u64 live_samples;
	u64 calls_w;			/* sums of weights (fixed point) */
	u64 live_objects_w;
	u64 live_bytes_w;
};

DEFINE_PER_CPU(long, goalloc_mprof_next) = LONG_MAX;
static DEFINE_PER_CPU(struct rnd_state, mprof_rnd);

/*
 * mprof_lock guards both tables, every site's counters, @nprof of every
 * span (mspan.h) and mprof_on; interrupts off, as allocations and frees
 * come from any context.  mprof_mutex serialises changes of the rate.
 */
static DEFINE_SPINLOCK(mprof_lock);
static DEFINE_MUTEX(mprof_mutex);
static DEFINE_HASHTABLE(mprof_objs, 13);
static DEFINE_HASHTABLE(mprof_sites, 10);
static bool mprof_on;
static unsigned long mprof_nrecords;
static unsigned long mprof_nsites;
static atomic_long_t mprof_dropped;

/* The rate (0 off); set before goalloc_mprof_init() it applies there. */
static unsigned long mprof_rate;
static bool mprof_ready;
static struct kmem_cache *mprof_obj_cache;

/* log2(@u) in 16.16 fixed point, @u > 0 (bit by bit: square, compare). */
static u32 log2_fixed(u32 u)
{
	unsigned int i = ilog2(u), b;
	u64 m = (u64)u << (31 - i);	/* [2^31, 2^32): the mantissa, 1.31 */
	u32 frac = 0;

	for (b = 0; b < MPROF_W_SHIFT; b++) {
		m = (m * m) >> 31;
		frac <<= 1;
		if (m >= 1ULL << 32) {
			m >>= 1;
			frac |= 1;
		}
	}
	return (i << MPROF_W_SHIFT) | frac;
}

/*
 * Bytes to the next sample: -ln(U) * @rate for U uniform on (0, 1] (Go's
 * fastexprand), or 0 at rate 1 (every allocation).
 */
static long next_sample(unsigned long rate)
{
	struct rnd_state *st;
	u64 neglog2;
	u32 u;

	if (rate <= 1)
		return 0;
	st = get_cpu_ptr(&mprof_rnd);
	u = prandom_u32_state(st) | 1;
	put_cpu_ptr(&mprof_rnd);
	/* -log2(U) = 32 - log2(u); times ln 2 (45426 / 2^16). */
	neglog2 = (32ULL << MPROF_W_SHIFT) - log2_fixed(u);
	return (((neglog2 * 45426) >> MPROF_W_SHIFT) * rate) >> MPROF_W_SHIFT;
}

#define FIX30		((s64)BIT_ULL(30))

/* 1 - exp(-@x) for @x >= 0, both 2.30 fixed point. */
static s64 one_minus_exp_neg(s64 x)
{
	s64 t, sum, e;
	int k, n;

	if (x < FIX30) {
		/* x - x^2/2! + x^3/3! - ...: past x^8/8! below 2^-30 * 10 */
		t = x;
		sum = x;
		for (k = 2; k <= 9; k++) {
			t = div_s64((t * x) >> 30, k);
			sum += (k & 1) ? t : -t;
		}
		return sum;
	}
	/* exp(-x) = exp(-frac) * exp(-1)^n */
	n = x >> 30;
	x &= FIX30 - 1;
	t = FIX30;
	e = FIX30;
	for (k = 1; k <= 10; k++) {
		t = div_s64((t * x) >> 30, k);
		e += (k & 1) ? -t : t;
	}
	while (n-- && e)
		e = (e * 395007542LL) >> 30;	/* exp(-1) */
	return FIX30 - e;
}

/* What one sample of @size bytes stands for: 1 / (1 - exp(-@size / @rate)). */
static u64 sample_weight(size_t size, unsigned long rate)
{
	s64 x, q;

	if (rate <= 1)
		return MPROF_W_ONE;
	x = div64_u64((u64)size << 30, rate);
	if (x >= 20 * FIX30)
		return MPROF_W_ONE;
	q = one_minus_exp_neg(x);
	if (q <= 0)
		q = 1;
	return div64_u64(1ULL << (30 + MPROF_W_SHIFT), q);
}

static struct mprof_site *site_find(unsigned long ip)
{
	struct mprof_site *site;

	lockdep_assert_held(&mprof_lock);
	hash_for_each_possible(mprof_sites, site, node, ip)
		if (site->ip == ip)
			return site;
	return NULL;
}

static struct mprof_obj *obj_find(const void *p)
{
	struct mprof_obj *o;

	lockdep_assert_held(&mprof_lock);
	hash_for_each_possible(mprof_objs, o, node, (unsigned long)p)
		if (o->p == p)
			return o;
	return NULL;
}

/* The record's memory, as the caller's mask allows (never a warning). */
static gfp_t record_gfp(gfp_t gfp)
{
	gfp_t r = (gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS)) | __GFP_NOWARN;

	return (gfp & __GFP_DIRECT_RECLAIM) ? r : r | __GFP_HIGH;
}

/**
 * goalloc_mprof_sample() - record an object whose turn came (goalloc_mprof_alloc())
 * @p: the object
 * @size: the bytes asked for
 * @gfp: the caller's mask
 * @caller: its call site
 *
 * Draws this CPU's next countdown and records @p, charged to @caller.
 */
void goalloc_mprof_sample(const void *p, size_t size, gfp_t gfp, unsigned long caller)
{
	unsigned long rate = READ_ONCE(mprof_rate);
	struct mprof_site *site, *spare = NULL;
	struct goalloc_span *s;
	struct mprof_obj *o;
	unsigned long flags;

	this_cpu_write(goalloc_mprof_next, rate ? next_sample(rate) : LONG_MAX);
	if (!rate || !mprof_ready)
		return;
	o = kmem_cache_alloc(mprof_obj_cache, record_gfp(gfp));
	if (!o)
		goto dropped;
	o->p = p;
	o->weight = sample_weight(size, rate);
	rcu_read_lock();
	s = goalloc_span_of(p);
	rcu_read_unlock();
	/* A live object's span stays while the object does. */
	if (WARN_ON_ONCE(!s))
		goto out_free;
	o->span = s;
	o->usable = s->elemsize;
	o->slot = div_u64((unsigned long)p - s->base, s->elemsize);
again:
	spin_lock_irqsave(&mprof_lock, flags);
	if (!mprof_on) {
		spin_unlock_irqrestore(&mprof_lock, flags);
		goto out_free;
	}
	site = site_find(caller);
	if (!site && !spare) {
		spin_unlock_irqrestore(&mprof_lock, flags);
		spare = kzalloc(sizeof(*spare), record_gfp(gfp));
		if (!spare)
			goto out_free_dropped;
		goto again;
	}
	if (!site) {
		site = spare;
		spare = NULL;
		site->ip = caller;
		hash_add(mprof_sites, &site->node, caller);
		mprof_nsites++;
	}
	o->site = site;
	hash_add(mprof_objs, &o->node, (unsigned long)p);
	mprof_nrecords++;
	site->samples++;
	site->live_samples++;
	site->calls_w += o->weight;
	site->live_objects_w += o->weight;
	site->live_bytes_w += o->weight * o->usable;
	/*
	 * The owner's fast free leaves this slot (or, with two, all) to us
	 * (kmod/models/mprof_slot.pml).
	 */
	WRITE_ONCE(s->prof_slot, s->nprof ? GOALLOC_PROF_ANY : o->slot + 1);
	WRITE_ONCE(s->nprof, s->nprof + 1);
	spin_unlock_irqrestore(&mprof_lock, flags);
	kfree(spare);
	return;

out_free_dropped:
	kmem_cache_free(mprof_obj_cache, o);
dropped:
	atomic_long_inc(&mprof_dropped);
	return;
out_free:
	kfree(spare);
	kmem_cache_free(mprof_obj_cache, o);
}

/* Unlink @o and take it off its site's live counts; mprof_lock held. */
static void obj_forget(struct mprof_obj *o)
{
	struct mprof_site *site = o->site;

	lockdep_assert_held(&mprof_lock);
	hash_del(&o->node);
	mprof_nrecords--;
	site->live_samples--;
	site->live_objects_w -= o->weight;
	site->live_bytes_w -= o->weight * o->usable;
	WRITE_ONCE(o->span->nprof, o->span->nprof - 1);
	/* Which slots are left is not known: all stay the slow path's. */
	if (!o->span->nprof)
		WRITE_ONCE(o->span->prof_slot, 0);
}

/**
 * goalloc_mprof_free() - drop @p's record before it is freed, if it has one
 * @s: @p's span, whose @nprof the caller found nonzero
 * @p: the object about to be freed
 */
void goalloc_mprof_free(struct goalloc_span *s, const void *p)
{
	struct mprof_obj *o;
	unsigned long flags;

	spin_lock_irqsave(&mprof_lock, flags);
	o = obj_find(p);
	if (o && o->span == s)
		obj_forget(o);
	else
		o = NULL;
	spin_unlock_irqrestore(&mprof_lock, flags);
	if (o)
		kmem_cache_free(mprof_obj_cache, o);
}

/**
 * goalloc_mprof_forget_many() - goalloc_mprof_free() for a bulk free's objects
 * @n: how many
 * @ptrs: the objects (NULL, ZERO_SIZE_PTR and foreign pointers skipped)
 */
void goalloc_mprof_forget_many(size_t n, void *const *ptrs)
{
	struct goalloc_span *s;
	size_t i;

	for (i = 0; i < n; i++) {
		rcu_read_lock();
		s = goalloc_span_of(ptrs[i]);
		if (s && READ_ONCE(s->nprof))
			goalloc_mprof_free(s, ptrs[i]);
		rcu_read_unlock();
	}
}

/* Drop every record and site; mprof_on already false. */
static void mprof_clear(void)
{
	struct mprof_site *site;
	struct hlist_node *tmp;
	struct mprof_obj *o;
	unsigned long flags;
	unsigned int bkt;
	HLIST_HEAD(sites);
	HLIST_HEAD(objs);

	spin_lock_irqsave(&mprof_lock, flags);
	hash_for_each_safe(mprof_objs, bkt, tmp, o, node) {
		obj_forget(o);
		hlist_add_head(&o->node, &objs);
	}
	hash_for_each_safe(mprof_sites, bkt, tmp, site, node) {
		hash_del(&site->node);
		hlist_add_head(&site->node, &sites);
	}
	mprof_nsites = 0;
	spin_unlock_irqrestore(&mprof_lock, flags);
	hlist_for_each_entry_safe(o, tmp, &objs, node)
		kmem_cache_free(mprof_obj_cache, o);
	hlist_for_each_entry_safe(site, tmp, &sites, node)
		kfree(site);
}

/* Apply @rate: start, change or stop the profile.  mprof_mutex held. */
static void mprof_apply(unsigned long old, unsigned long rate)
{
	unsigned long flags;
	unsigned int cpu;

	lockdep_assert_held(&mprof_mutex);
	WRITE_ONCE(mprof_rate, rate);
	if (!mprof_ready)
		return;
	if (rate && !old) {
		spin_lock_irqsave(&mprof_lock, flags);
		mprof_on = true;
		spin_unlock_irqrestore(&mprof_lock, flags);
	}
	/* Each CPU starts a fresh countdown; a sample in flight redraws its own. */
	for_each_possible_cpu(cpu)
		WRITE_ONCE(*per_cpu_ptr(&goalloc_mprof_next, cpu),
			   rate ? next_sample(rate) : LONG_MAX);
	if (rate && !old) {
		goalloc_observe_get();
	} else if (!rate && old) {
		goalloc_observe_put();
		spin_lock_irqsave(&mprof_lock, flags);
		mprof_on = false;
		spin_unlock_irqrestore(&mprof_lock, flags);
		mprof_clear();
	}
}

/**
 * goalloc_mprof_set_rate() - set the profile's sampling rate
 * @rate: mean bytes between samples; 1 every allocation, 0 off
 *
 * Process context.  0 drops the profile.
 *
 * Return: 0, or -EINVAL for a rate above 2^30.
 */
int goalloc_mprof_set_rate(unsigned long rate)
{
	if (rate > MPROF_MAX_RATE)
		return -EINVAL;
	mutex_lock(&mprof_mutex);
	mprof_apply(mprof_rate, rate);
	mutex_unlock(&mprof_mutex);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mprof_set_rate);

/**
 * goalloc_mprof_rate() - the profile's sampling rate
 *
 * Return: mean bytes between samples, 0 when the profile is off.
 */
unsigned long goalloc_mprof_rate(void)
{
	return READ_ONCE(mprof_rate);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mprof_rate);

static u64 w_round(u64 w)
{
	return (w + MPROF_W_ONE / 2) >> MPROF_W_SHIFT;
}

static void site_stats(const struct mprof_site *site, struct goalloc_mprof_site_stats *st)
{
	st->samples = site->samples;
	st->live_samples = site->live_samples;
	st->calls = w_round(site->calls_w);
	st->live_objects = w_round(site->live_objects_w);
	st->live_bytes = w_round(site->live_bytes_w);
}

/**
 * goalloc_mprof_site() - the profile of one call site
 * @ip: the call site (the return address into the caller)
 * @st: filled in when the site has samples
 *
 * Return: whether the site is in the profile.
 */
bool goalloc_mprof_site(unsigned long ip, struct goalloc_mprof_site_stats *st)
{
	struct mprof_site *site;
	unsigned long flags;

	spin_lock_irqsave(&mprof_lock, flags);
	site = site_find(ip);
	if (site)
		site_stats(site, st);
	spin_unlock_irqrestore(&mprof_lock, flags);
	return site;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mprof_site);

/**
 * goalloc_mprof_site_of() - the call site a sampled object is charged to
 * @p: an object
 *
 * Return: the site's address, or 0 if @p has no record.
 */
unsigned long goalloc_mprof_site_of(const void *p)
{
	unsigned long flags, ip = 0;
	struct mprof_obj *o;

	spin_lock_irqsave(&mprof_lock, flags);
	o = obj_find(p);
	if (o)
		ip = o->site->ip;
	spin_unlock_irqrestore(&mprof_lock, flags);
	return ip;
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mprof_site_of);

/**
 * goalloc_mprof_records() - sampled objects the profile holds records of
 *
 * Return: the number of records (0 once the profile is off).
 */
unsigned long goalloc_mprof_records(void)
{
	return READ_ONCE(mprof_nrecords);
}
EXPORT_SYMBOL_IF_KUNIT(goalloc_mprof_records);

/* One site, copied out of the table for printing. */
struct mprof_line {
	unsigned long ip;
	struct goalloc_mprof_site_stats st;
};

static int allocinfo_show(struct seq_file *m, void *v)
{
	struct mprof_line *lines;
	struct mprof_site *site;
	unsigned long flags, cap, n = 0, i;
	unsigned int bkt;

	cap = READ_ONCE(mprof_nsites) + 64;
	lines = kvmalloc_array(cap, sizeof(*lines), GFP_KERNEL);
	if (!lines)
		return -ENOMEM;
	spin_lock_irqsave(&mprof_lock, flags);
	hash_for_each(mprof_sites, bkt, site, node) {
		if (n == cap)
			break;
		lines[n].ip = site->ip;
		site_stats(site, &lines[n].st);
		n++;
	}
	spin_unlock_irqrestore(&mprof_lock, flags);
	seq_printf(m, "# goalloc allocinfo: profile_rate=%lu records=%lu dropped=%ld sites=%lu\n",
		   READ_ONCE(mprof_rate), READ_ONCE(mprof_nrecords),
		   atomic_long_read(&mprof_dropped), n);
	seq_printf(m, "# %14s %12s %12s %10s  %s\n", "live_bytes", "live_objects", "calls",
		   "samples", "call_site");
	for (i = 0; i < n; i++)
		seq_printf(m, "%16llu %12llu %12llu %10llu  %pS\n", lines[i].st.live_bytes,
			   lines[i].st.live_objects, lines[i].st.calls, lines[i].st.samples,
			   (void *)lines[i].ip);
	kvfree(lines);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(allocinfo);

static int rate_set(const char *val, const struct kernel_param *kp)
{
	unsigned long rate;
	int ret;

	ret = kstrtoul(val, 0, &rate);
	if (ret)
		return ret;
	return goalloc_mprof_set_rate(rate);
}

static int rate_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(mprof_rate));
}

static const struct kernel_param_ops rate_ops = {
	.set = rate_set,
	.get = rate_get,
};
module_param_cb(profile_rate, &rate_ops, NULL, 0644);
MODULE_PARM_DESC(profile_rate,
		 "allocation-site profile: mean bytes between samples (1: every allocation; 0: off)");

/**
 * goalloc_mprof_init() - make the profile ready, start it if the rate is set
 * @root: goalloc's debugfs directory, for allocinfo
 *
 * Return: 0 or -ENOMEM.
 */
int goalloc_mprof_init(struct dentry *root)
{
	mprof_obj_cache = KMEM_CACHE(mprof_obj, 0);
	if (!mprof_obj_cache)
		return -ENOMEM;
	prandom_seed_full_state(&mprof_rnd);
	mutex_lock(&mprof_mutex);
	mprof_ready = true;
	mprof_apply(0, mprof_rate);
	mutex_unlock(&mprof_mutex);
	debugfs_create_file("allocinfo", 0444, root, NULL, &allocinfo_fops);
	return 0;
}

/* Stop the profile (the module goes): every record back to SLUB. */
void goalloc_mprof_exit(void)
{
	mutex_lock(&mprof_mutex);
	mprof_apply(mprof_rate, 0);
	mprof_ready = false;
	mutex_unlock(&mprof_mutex);
	kmem_cache_destroy(mprof_obj_cache);
}
