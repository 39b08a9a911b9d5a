/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goalloc: Go's runtime memory allocator as a kernel module.
 *
 * The interface other kernel modules use.  See Documentation/goalloc.rst.
 */
#ifndef _LINUX_GOALLOC_H
#define _LINUX_GOALLOC_H

#include <linux/types.h>

#define GOALLOC_VERSION "0.1"

const char *goalloc_version(void);

#endif /* _LINUX_GOALLOC_H */
