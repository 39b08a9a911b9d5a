// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_uaf: a negative test, never loaded by the normal test run.
 *
 * Loading it makes three deliberate mistakes: with a goalloc object, a
 * read after free, which KASAN must report ("BUG: KASAN: use-after-free"),
 * and a double free, which goalloc must refuse with its rate-limited error
 * report ("goalloc: bad free of ... (double free)"); and a leak, which
 * kmemleak must report when the guest's /init scans at its end (an
 * "unreferenced object" of GOALLOC_UAF_LEAK_SIZE bytes, the size that
 * marks it).  The leaked object is goalloc's, so goalloc unloads with it
 * still in use: it must say so, keep the object's pages and free its own
 * records, with no WARN and no kmemleak report but the object's.
 * "tools/check.sh kasan-negative" boots the debug kernel with it, unloads
 * both modules and passes only if all these reports appear.  Built only
 * where the kernel has generic KASAN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/string.h>

#include "goalloc.h"

#define GOALLOC_UAF_LEAK_SIZE	256

static int __init goalloc_uaf_init(void)
{
	char *p, *q, *n;

	/*
	 * A neighbour in @p's span keeps the span alive through both frees:
	 * on a machine with another CPU online a class's first objects come
	 * from mcentral's spans (quiet classes, Documentation/design.rst), and
	 * the free of a span's last object sends it back to the heap, after
	 * which a second free is refused as "not goalloc memory", not as a
	 * double free.
	 */
	n = goalloc_alloc(64, GFP_KERNEL);
	p = n ? goalloc_alloc(64, GFP_KERNEL) : NULL;
	if (!p) {
		goalloc_free(n);
		return -ENOMEM;
	}
	memset(p, 0x5a, 64);
	goalloc_free(p);

	/*
	 * The use-after-free: READ_ONCE() is a volatile one-byte load, which
	 * the compiler must emit and KASAN instruments.
	 */
	pr_info("read after free: %#x\n", READ_ONCE(p[0]) & 0xff);

	/* The double free: refused, counted and reported. */
	goalloc_free(p);
	goalloc_free(n);

	/* The leak: nothing points to @q once this returns. */
	q = goalloc_alloc(GOALLOC_UAF_LEAK_SIZE, GFP_KERNEL);
	OPTIMIZER_HIDE_VAR(q);
	if (q)
		memset(q, 0x6b, GOALLOC_UAF_LEAK_SIZE);
	return 0;
}

static void __exit goalloc_uaf_exit(void)
{
}

module_init(goalloc_uaf_init);
module_exit(goalloc_uaf_exit);

MODULE_DESCRIPTION("goalloc negative test: a use-after-free, a double free and a leak");
MODULE_LICENSE("GPL");
