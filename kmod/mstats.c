// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics (Go's MemStats): the debugfs view of goalloc.
 *
 * goalloc/classes lists every size class: its object size, the heap pages of
 * one of its spans and the objects a span holds.  Usage columns (objects in
 * use, spans, pages held, bytes requested) join them as the layers that own
 * those counters land.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

static int classes_show(struct seq_file *m, void *v)
{
	unsigned int i;

	seq_puts(m, "class  size  pages  objs/span  tail_bytes\n");
	for (i = 1; i < GOALLOC_NUM_CLASSES; i++) {
		const struct goalloc_class_info *c = &goalloc_class_info[i];
		unsigned long span = c->npages * GOALLOC_PAGE_SIZE;

		seq_printf(m, "%5u %5u %6u %10u %11lu\n", i, c->size, c->npages,
			   c->nelems, span - (unsigned long)c->nelems * c->size);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(classes);

int goalloc_stats_init(struct dentry *root)
{
	debugfs_create_file("classes", 0444, root, NULL, &classes_fops);
	return 0;
}
