// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: user arenas (/dev/goalloc, kmod/uarena.c) at their racy point.
 *
 * An ALLOC takes its objects under the arena's mutex, drops it, and only
 * then copies the offsets out.  Offsets are predictable, so another thread
 * sharing the file may free them in that window, and allocate them again,
 * before the copy-out fails (the buffer unmapped, or zapped because it lay
 * in an emptied span of the arena itself).  The undo must then neither WARN
 * nor free what is no longer the call's.  GOALLOC_HOOK_UARENA_COPYOUT runs
 * the other thread's part exactly in that window; the test drives the real
 * ioctl handler over user memory of its own (kunit_vm_mmap()).
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/panic.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../uapi/linux/goalloc.h"
#include "hooks.h"
#include "internal.h"
#include "mcache.h"
#include "uarena.h"

#define BATCH	2

/**
 * struct copyout_case - what the other thread does in the window
 * @name: for the parameter's description
 * @size: object size of the batch
 * @nfree: how many of the batch's objects it frees (its last ones)
 * @nrealloc: how many objects of the same size it then allocates
 */
struct copyout_case {
	const char *name;
	u64 size;
	u32 nfree;
	u32 nrealloc;
};

static const struct copyout_case copyout_cases[] = {
	{ "small, untouched", 64, 0, 0 },
	{ "small, freed", 64, BATCH, 0 },
	{ "small, freed and reused", 64, BATCH, BATCH },
	{ "small, one freed and reused", 64, 1, 1 },
	{ "large, untouched", 64 << 10, 0, 0 },
	{ "large, freed", 64 << 10, BATCH, 0 },
	{ "large, freed and reused", 64 << 10, BATCH, BATCH },
	{ "large, one freed and reused", 64 << 10, 1, 1 },
};

static void copyout_case_desc(const struct copyout_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(copyout, copyout_cases, copyout_case_desc);

#ifdef GOALLOC_TEST_HOOKS
/* The other thread's view, filled in by the hook. */
static struct {
	const struct copyout_case *c;
	unsigned long ubuf;		/* the page the offsets go to */
	u64 ours[BATCH];		/* the batch, as the hook saw it */
	u64 theirs[BATCH];		/* what the other thread allocated */
	u32 nfreed;
	int alloc_err;
	int unmap_err;
	bool ran;
} other;

static void copyout_hook(void *arg)
{
	struct goalloc_uarena_copyout *co = arg;
	const struct copyout_case *c = other.c;
	struct goalloc_uarena_ticket t;
	u64 victims[BATCH];
	u32 i;

	other.ran = true;
	memcpy(other.ours, co->offsets, sizeof(other.ours));
	/* Last first: each slot goes back to where the next allocation looks. */
	for (i = 0; i < c->nfree; i++)
		victims[i] = co->offsets[co->count - 1 - i];
	if (c->nfree)
		other.nfreed = goalloc_uarena_free(co->ua, c->nfree, victims, NULL);
	if (c->nrealloc)
		other.alloc_err = goalloc_uarena_alloc(co->ua, c->size, c->nrealloc, false,
						       other.theirs, &t);
	/* And the buffer goes away: the copy-out fails. */
	other.unmap_err = vm_munmap(other.ubuf, PAGE_SIZE);
}

static void uninstall_hook(void *unused)
{
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_UARENA_COPYOUT], NULL);
}

static void destroy_arena(void *ua)
{
	goalloc_uarena_destroy(ua);
}
#endif

static void uarena_copyout_race(struct kunit *test)
{
#ifdef GOALLOC_TEST_HOOKS
	const struct copyout_case *c = test->param_value;
	bool small = c->size <= GOALLOC_MAX_CLASS_SIZE;
	bool warned = test_taint(TAINT_WARN);
	struct goalloc_uarena_ticket t;
	struct goalloc_alloc a = {
		.argsz = sizeof(a), .size = c->size, .count = BATCH,
	};
	struct address_space *mapping;
	struct goalloc_uarena_stats st, st0;
	struct goalloc_uarena *ua;
	u64 pin = 0, ours_left[BATCH];
	unsigned long ubase;
	s32 res[BATCH];
	u32 i, n;
	long ret;

	/* Two pages of user memory: the argument, then the offsets. */
	ubase = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, ubase, 0, "no user memory for the test");
	mapping = kunit_kzalloc(test, sizeof(*mapping), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mapping);
	address_space_init_once(mapping);
	ua = goalloc_uarena_create(mapping);
	KUNIT_ASSERT_NOT_NULL(test, ua);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, destroy_arena, ua));

	/* A small batch shares its span with an object that keeps it alive. */
	if (small)
		KUNIT_ASSERT_EQ(test, 0, goalloc_uarena_alloc(ua, c->size, 1, false, &pin, &t));
	goalloc_uarena_stats(ua, &st0);

	memset(&other, 0, sizeof(other));
	other.c = c;
	other.ubuf = ubase + PAGE_SIZE;
	a.offsets = other.ubuf;
	KUNIT_ASSERT_EQ(test, 0, copy_to_user((void __user *)ubase, &a, sizeof(a)));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, uninstall_hook, NULL));
	WRITE_ONCE(goalloc_hooks[GOALLOC_HOOK_UARENA_COPYOUT], copyout_hook);
	ret = goalloc_uarena_ioctl(ua, GOALLOC_IOC_ALLOC, (void __user *)ubase);
	uninstall_hook(NULL);

	/* The interleaving happened as staged. */
	KUNIT_ASSERT_TRUE(test, other.ran);
	KUNIT_ASSERT_EQ(test, 0, other.unmap_err);
	KUNIT_ASSERT_EQ(test, c->nfree, other.nfreed);
	KUNIT_ASSERT_EQ(test, 0, other.alloc_err);
	/* ... and the other thread got the batch's freed offsets back. */
	for (i = 0; i < c->nrealloc; i++) {
		u32 k;

		for (k = BATCH - c->nfree; k < BATCH; k++)
			if (other.theirs[i] == other.ours[k])
				break;
		KUNIT_ASSERT_LT_MSG(test, k, BATCH, "offset %llu is not one the batch had",
				    other.theirs[i]);
	}

	KUNIT_EXPECT_EQ(test, -EFAULT, ret);
	/* Userspace must never make goalloc WARN. */
	if (!warned)
		KUNIT_EXPECT_FALSE_MSG(test, test_taint(TAINT_WARN),
				       "the undo of a failed copy-out WARNed");

	/* The other thread's objects are still its own. */
	if (c->nrealloc) {
		memset(res, 0x55, sizeof(res));
		n = goalloc_uarena_free(ua, c->nrealloc, other.theirs, res);
		KUNIT_EXPECT_EQ_MSG(test, c->nrealloc, n,
				    "the undo freed the other thread's objects");
		for (i = 0; i < c->nrealloc; i++)
			KUNIT_EXPECT_EQ(test, 0, res[i]);
	}
	/*
	 * The batch's objects not freed by the other thread: taken back if
	 * no offset can have been reused, else left allocated (and counted).
	 */
	n = 0;
	for (i = 0; i < BATCH - c->nfree; i++)
		ours_left[n++] = other.ours[i];
	goalloc_uarena_stats(ua, &st);
	if (c->nfree && c->nrealloc) {
		KUNIT_EXPECT_EQ(test, st0.objects + n, st.objects);
		if (n)
			KUNIT_EXPECT_EQ(test, n, goalloc_uarena_free(ua, n, ours_left, NULL));
	} else {
		KUNIT_EXPECT_EQ(test, st0.objects, st.objects);
		if (n)
			KUNIT_EXPECT_EQ(test, 0, goalloc_uarena_free(ua, n, ours_left, NULL));
	}
	/* Taken back means never handed out: the counters do not show it. */
	if (!c->nfree) {
		KUNIT_EXPECT_EQ(test, st0.nalloc, st.nalloc);
		KUNIT_EXPECT_EQ(test, st0.nfree, st.nfree);
	}

	if (small)
		KUNIT_EXPECT_EQ(test, 1, goalloc_uarena_free(ua, 1, &pin, NULL));
	goalloc_uarena_stats(ua, &st);
	KUNIT_EXPECT_EQ(test, 0, st.objects);
	KUNIT_EXPECT_EQ(test, 0, st.bytes_allocated);
	KUNIT_EXPECT_EQ(test, 0, st.bytes_held);
	KUNIT_EXPECT_EQ(test, st.nalloc, st.nfree);
#else
	kunit_skip(test, "goalloc built without GOALLOC_TEST_HOOKS");
#endif
}

static struct kunit_case uarena_cases[] = {
	KUNIT_CASE_PARAM(uarena_copyout_race, copyout_gen_params),
	{}
};

static struct kunit_suite uarena_suite = {
	.name = "goalloc_uarena",
	.test_cases = uarena_cases,
};

kunit_test_suite(uarena_suite);
