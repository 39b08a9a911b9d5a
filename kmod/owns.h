/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc_owns(), the span map's exported query (owns.c): declared here for
 * the mheap layer, and in goalloc.h for the modules that call it.
 */
#ifndef _GOALLOC_OWNS_H
#define _GOALLOC_OWNS_H

#include <linux/types.h>

bool goalloc_owns(const void *p);

#endif /* _GOALLOC_OWNS_H */
