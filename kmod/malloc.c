// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc: Go's runtime memory allocator, rebuilt as a kernel module.
 *
 * The map of the house (Documentation/goalloc.rst tells it at length):
 *
 *   API (this file) / chrdev
 *     -> mcache    per-CPU cache of one span per size class (Go's per-P mcache)
 *     -> mcentral  per-class lists of partial and full spans
 *     -> mheap     runs of 8 KiB heap pages carved from alloc_pages() chunks
 *     -> the buddy allocator
 *
 * A request is rounded up to one of 67 size classes (sizeclasses.c, made by
 * tools/mksizeclasses.py); each class has its own spans.  The data path runs
 * one way, top to bottom; a lower layer never calls up.
 *
 * This file holds module set-up and tear-down.  At this stage the module
 * provides the size-class table and its debugfs view; the layers below
 * arrive with the allocator core.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>

#include "goalloc.h"
#include "internal.h"

static struct dentry *goalloc_debugfs;

/**
 * goalloc_version() - the version of the loaded goalloc module
 *
 * Return: a static string such as "0.1".
 */
const char *goalloc_version(void)
{
	return GOALLOC_VERSION;
}
EXPORT_SYMBOL_GPL(goalloc_version);

static int __init goalloc_init(void)
{
	goalloc_debugfs = debugfs_create_dir("goalloc", NULL);
	goalloc_stats_init(goalloc_debugfs);
	pr_info("version %s loaded: %d size classes, %lu-byte heap pages\n",
		GOALLOC_VERSION, GOALLOC_NUM_CLASSES - 1, GOALLOC_PAGE_SIZE);
	return 0;
}

static void __exit goalloc_exit(void)
{
	debugfs_remove_recursive(goalloc_debugfs);
	pr_info("unloaded\n");
}

module_init(goalloc_init);
module_exit(goalloc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Go's runtime memory allocator for the kernel");
MODULE_VERSION(GOALLOC_VERSION);
