// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_uaf: a negative test, never loaded by the normal test run.
 *
 * Loading it makes two deliberate mistakes with a goalloc object: a read
 * after free, which KASAN must report ("BUG: KASAN: use-after-free"), and a
 * double free, which goalloc must refuse with its rate-limited error report
 * ("goalloc: bad free of ... (double free)").  "tools/check.sh
 * kasan-negative" boots the debug kernel with it and passes only if both
 * reports appear.  Built only where the kernel has generic KASAN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/string.h>

#include "goalloc.h"

static int __init goalloc_uaf_init(void)
{
	char *p;

	p = goalloc_alloc(64, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 64);
	goalloc_free(p);

	/*
	 * The use-after-free: READ_ONCE() is a volatile one-byte load, which
	 * the compiler must emit and KASAN instruments.
	 */
	pr_info("read after free: %#x\n", READ_ONCE(p[0]) & 0xff);

	/* The double free: refused, counted and reported. */
	goalloc_free(p);
	return 0;
}

static void __exit goalloc_uaf_exit(void)
{
}

module_init(goalloc_uaf_init);
module_exit(goalloc_uaf_exit);

MODULE_DESCRIPTION("goalloc negative test: a use-after-free and a double free");
MODULE_LICENSE("GPL");
