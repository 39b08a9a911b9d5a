// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_hold: objects of goalloc's held on a test's command, so that a
 * userspace test can make goalloc's kernel-side tables move by a known
 * amount (selftests/goalloc_tools_test.sh checks goallocstat --watch's
 * deltas with it).  Nothing here runs unless written to.
 *
 *   /sys/kernel/debug/goalloc_hold/ctl
 *     write "alloc SIZE COUNT"  COUNT objects of SIZE bytes (goalloc_alloc())
 *     write "cache SIZE COUNT"  COUNT objects (0: none) of the named
 *                               cache "goalloc_hold" (made at the first
 *                               such write, of SIZE bytes; later writes
 *                               must give the same SIZE)
 *     write "free"              every object held, each checked first
 *     read                      "held N cached M bad B": objects held by
 *                               goalloc_alloc() and by the cache, and
 *                               objects found changed at their free
 *
 * Each object is filled with a pattern of its own when allocated and
 * checked when freed.  Bad input is refused with EINVAL; more than
 * HOLD_MAX objects with ENOSPC.  Unloading frees everything.  Built with
 * the KUnit module, for the test kernels only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "goalloc.h"
#include "sizeclasses.h"

#define HOLD_MAX	BIT(20)

/**
 * struct hold_set - objects held, all of one origin
 * @obj: the objects
 * @size: bytes of each (of @obj[i], for goalloc_alloc()'s)
 * @n: objects in @obj
 */
struct hold_set {
	void **obj;
	u32 *size;
	unsigned long n;
};

static DEFINE_MUTEX(hold_mutex);	/* protects everything below */
static struct hold_set hold_plain, hold_cached;
static struct goalloc_cache *hold_cache;
static unsigned int hold_cache_size;
static unsigned long hold_bad;
static struct dentry *hold_dir;

static u8 hold_pattern(const void *p)
{
	return (u8)((unsigned long)p >> 4) | 1;
}

static void hold_fill(void *p, size_t size)
{
	memset(p, hold_pattern(p), size);
}

static void hold_check(const void *p, size_t size)
{
	if (memchr_inv(p, hold_pattern(p), size))
		hold_bad++;
}

static int hold_more(struct hold_set *s, unsigned long count, size_t size)
{
	unsigned long i, n = s->n + count;
	void **obj;
	u32 *sz;

	lockdep_assert_held(&hold_mutex);
	if (!count)
		return 0;
	if (n > HOLD_MAX)
		return -ENOSPC;
	/* New arrays rather than kvrealloc(), whose arguments changed in 6.11. */
	obj = kvmalloc_array(n, sizeof(*obj), GFP_KERNEL);
	sz = kvmalloc_array(n, sizeof(*sz), GFP_KERNEL);
	if (!obj || !sz) {
		kvfree(obj);
		kvfree(sz);
		return -ENOMEM;
	}
	if (s->n) {
		memcpy(obj, s->obj, s->n * sizeof(*obj));
		memcpy(sz, s->size, s->n * sizeof(*sz));
	}
	kvfree(s->obj);
	kvfree(s->size);
	s->obj = obj;
	s->size = sz;
	for (i = 0; i < count; i++) {
		void *p = hold_cache && s == &hold_cached ?
			  goalloc_cache_alloc(hold_cache, GFP_KERNEL) :
			  goalloc_alloc(size, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		hold_fill(p, size);
		s->obj[s->n] = p;
		s->size[s->n++] = size;
	}
	return 0;
}

static void hold_free_all(void)
{
	unsigned long i;

	lockdep_assert_held(&hold_mutex);
	for (i = 0; i < hold_plain.n; i++) {
		hold_check(hold_plain.obj[i], hold_plain.size[i]);
		goalloc_free(hold_plain.obj[i]);
	}
	for (i = 0; i < hold_cached.n; i++) {
		hold_check(hold_cached.obj[i], hold_cached.size[i]);
		goalloc_cache_free(hold_cache, hold_cached.obj[i]);
	}
	hold_plain.n = 0;
	hold_cached.n = 0;
}

static ssize_t hold_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	unsigned long count;
	unsigned int size;
	char buf[64], op[8];
	int ret = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	mutex_lock(&hold_mutex);
	if (sysfs_streq(buf, "free")) {
		hold_free_all();
	} else if (sscanf(buf, "%7s %u %lu", op, &size, &count) != 3 || !size ||
		   size > GOALLOC_MAX_CLASS_SIZE) {
		ret = -EINVAL;
	} else if (!strcmp(op, "alloc")) {
		ret = count ? hold_more(&hold_plain, count, size) : -EINVAL;
	} else if (!strcmp(op, "cache")) {
		if (!hold_cache) {
			hold_cache = goalloc_cache_create("goalloc_hold", size, 0, 0, NULL);
			if (!hold_cache)
				ret = -ENOMEM;
			else
				hold_cache_size = size;
		} else if (size != hold_cache_size) {
			ret = -EINVAL;
		}
		if (!ret)
			ret = hold_more(&hold_cached, count, size);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&hold_mutex);
	return ret ? ret : len;
}

static int hold_show(struct seq_file *m, void *v)
{
	mutex_lock(&hold_mutex);
	seq_printf(m, "held %lu cached %lu bad %lu\n", hold_plain.n, hold_cached.n, hold_bad);
	mutex_unlock(&hold_mutex);
	return 0;
}

static int hold_open(struct inode *inode, struct file *file)
{
	return single_open(file, hold_show, NULL);
}

static const struct file_operations hold_fops = {
	.owner = THIS_MODULE,
	.open = hold_open,
	.read = seq_read,
	.write = hold_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init hold_init(void)
{
	hold_dir = debugfs_create_dir("goalloc_hold", NULL);
	debugfs_create_file("ctl", 0600, hold_dir, NULL, &hold_fops);
	return 0;
}

static void __exit hold_exit(void)
{
	debugfs_remove_recursive(hold_dir);
	mutex_lock(&hold_mutex);
	hold_free_all();
	if (hold_bad)
		pr_err("%lu objects changed while held\n", hold_bad);
	if (hold_cache)
		goalloc_cache_destroy(hold_cache);
	mutex_unlock(&hold_mutex);
	kvfree(hold_plain.obj);
	kvfree(hold_plain.size);
	kvfree(hold_cached.obj);
	kvfree(hold_cached.size);
}

module_init(hold_init);
module_exit(hold_exit);
MODULE_DESCRIPTION("goalloc objects held on a test's command (goalloc_tools_test)");
MODULE_LICENSE("GPL");
