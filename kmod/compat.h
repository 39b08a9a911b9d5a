/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences goalloc adapts to, in one place.  Supported:
 * Linux 6.1 (Debian bookworm stock) and 6.12 (Debian stock and our test
 * kernels).  Code elsewhere uses the 6.12 spelling; this header supplies it
 * on older kernels.  Features are detected by kmod/Kbuild (which headers
 * the kernel has), not by version numbers, so backports are handled too.
 */
#ifndef _GOALLOC_COMPAT_H
#define _GOALLOC_COMPAT_H

/*
 * <kunit/visibility.h> (EXPORT_SYMBOL_IF_KUNIT, VISIBLE_IF_KUNIT) arrived in
 * 6.2.  Without it the kernel cannot run our KUnit module anyway, so the
 * symbols stay private, as they do on any kernel built without KUnit.
 */
#include <linux/build_bug.h>
#include <linux/compiler.h>

#ifdef GOALLOC_HAVE_KUNIT_VISIBILITY
#include <kunit/visibility.h>
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(sym) static_assert(__same_type(sym, sym))
#endif

/*
 * The largest buddy order: MAX_PAGE_ORDER (inclusive) since 6.8; before
 * that MAX_ORDER, which was exclusive until 6.4.
 */
#include <linux/mmzone.h>
#ifdef MAX_PAGE_ORDER
#define GOALLOC_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#else
#define GOALLOC_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/*
 * VMA flags are changed through vm_flags_mod() since 6.3; before that the
 * field was written directly.
 */
#include <linux/mm.h>
#ifdef GOALLOC_HAVE_VM_FLAGS_MOD
#define goalloc_vm_flags_mod(vma, set, clear)	vm_flags_mod(vma, set, clear)
#else
static inline void goalloc_vm_flags_mod(struct vm_area_struct *vma, unsigned long set,
					unsigned long clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#endif

/*
 * Shrinkers are allocated with shrinker_alloc() since 6.7; before that the
 * caller provided the struct and called register_shrinker().  One pair of
 * calls for either: a registered shrinker, or NULL.
 */
#include <linux/shrinker.h>
#include <linux/slab.h>

typedef unsigned long (*goalloc_shrink_fn)(struct shrinker *sh, struct shrink_control *sc);

static inline struct shrinker *goalloc_shrinker_start(const char *name, goalloc_shrink_fn count,
						      goalloc_shrink_fn scan)
{
	struct shrinker *sh;

#ifdef GOALLOC_HAVE_SHRINKER_ALLOC
	sh = shrinker_alloc(0, "%s", name);
#else
	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
#endif
	if (!sh)
		return NULL;
	sh->count_objects = count;
	sh->scan_objects = scan;
	sh->seeks = DEFAULT_SEEKS;
#ifdef GOALLOC_HAVE_SHRINKER_ALLOC
	shrinker_register(sh);
#else
	if (register_shrinker(sh, "%s", name)) {
		kfree(sh);
		return NULL;
	}
#endif
	return sh;
}

static inline void goalloc_shrinker_stop(struct shrinker *sh)
{
#ifdef GOALLOC_HAVE_SHRINKER_ALLOC
	shrinker_free(sh);
#else
	unregister_shrinker(sh);
	kfree(sh);
#endif
}

#endif /* _GOALLOC_COMPAT_H */
