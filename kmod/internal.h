/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc's internal interfaces, shared by the files of goalloc.ko and by the
 * KUnit module (through EXPORT_SYMBOL_IF_KUNIT).
 */
#ifndef _GOALLOC_INTERNAL_H
#define _GOALLOC_INTERNAL_H

#include "compat.h"
#include "sizeclasses.h"

struct dentry;

/* mstats.c: debugfs view of the allocator. */
int goalloc_stats_init(struct dentry *root);

#endif /* _GOALLOC_INTERNAL_H */
