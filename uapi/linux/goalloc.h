/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * goalloc userspace ABI: /dev/goalloc.
 *
 * The device arrives with the userspace-arena work; this header reserves
 * the ioctl type so the numbers stay stable from the first release.
 */
#ifndef _UAPI_LINUX_GOALLOC_H
#define _UAPI_LINUX_GOALLOC_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The ioctl type byte of every /dev/goalloc ioctl. */
#define GOALLOC_IOC_MAGIC	0xB7

#endif /* _UAPI_LINUX_GOALLOC_H */
