/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests of the paths of a CPU's own spans (the owner's free, its LIFO reuse,
 * the races between an owner and the others) need the CPU to cache a span
 * of the class they allocate from its first object on: where a class is
 * quiet (mcache.c, mcache_quiet()) a CPU holding few objects of it takes
 * them from mcentral's spans instead.  quiet_classes_off() turns quiet
 * classes off for the rest of a test, and the suite's .exit
 * (quiet_classes_exit(), or its own exit calling quiet_classes_restore())
 * turns them back on whether the test passed or not; quiet_classes_init()
 * as a suite's .init turns them off for each of its tests.
 */
#ifndef _GOALLOC_KUNIT_QUIET_H
#define _GOALLOC_KUNIT_QUIET_H

#include <kunit/test.h>

#include "mcache.h"

static unsigned int quiet_saved;
static bool quiet_is_off;

static inline void quiet_classes_off(void)
{
	if (quiet_is_off)
		return;
	quiet_saved = READ_ONCE(goalloc_quiet_max);
	quiet_is_off = true;
	WRITE_ONCE(goalloc_quiet_max, 0);
}

static inline void quiet_classes_restore(void)
{
	if (!quiet_is_off)
		return;
	WRITE_ONCE(goalloc_quiet_max, quiet_saved);
	quiet_is_off = false;
}

static inline int quiet_classes_init(struct kunit *test)
{
	quiet_classes_off();
	return 0;
}

static inline void quiet_classes_exit(struct kunit *test)
{
	quiet_classes_restore();
}

#endif /* _GOALLOC_KUNIT_QUIET_H */
