// SPDX-License-Identifier: GPL-2.0
/*
 * goalloc_owns(): the span map's answer to "is this goalloc's memory?",
 * for code that holds a pointer it did not necessarily get from goalloc.
 *
 * The routing header (kmod/goalloc_slab.h, Documentation/routing.rst) sends
 * a module's kmalloc() and kmem_cache calls to goalloc, but the module also
 * frees objects that the core kernel allocated for it from SLUB (kstrdup(),
 * kmemdup(), kasprintf(), match_strdup()...).  Its kfree() asks here which
 * allocator a pointer belongs to, and never guesses: the span map (mheap.h)
 * maps every heap page of every live span to its span, and nothing else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/rcupdate.h>

#include "mheap.h"
#include "owns.h"

/**
 * goalloc_owns() - does goalloc's heap hold this address?
 * @p: any pointer: an object, a byte inside one, NULL, ZERO_SIZE_PTR, a
 *	SLUB, vmalloc, stack or static address
 *
 * Looks @p up in the span map, goalloc_span_of(): the same lock-free lookup
 * goalloc_free() starts with, which reads only goalloc's own tables, so any
 * pointer may be asked about.  True when @p lies in a heap page of a span
 * goalloc holds: an object goalloc_alloc() and friends, a named cache or an
 * arena handed out (live or already freed: the span is still goalloc's).
 * False for every other address: SLUB's objects, vmalloc and page
 * allocator memory, heap pages not in a span (a CPU's page cache, pages
 * given back to the buddy allocator, whose map entries are cleared before
 * the pages go back), NULL and ZERO_SIZE_PTR.
 *
 * The answer for an object the caller holds cannot change while it holds
 * it: its span stays mapped until every object in it is freed.  For any
 * other address it is a snapshot.  Any context, NMI included; never sleeps.
 *
 * Return: true if @p is in goalloc's heap.
 */
bool goalloc_owns(const void *p)
{
	bool owned;

	rcu_read_lock();
	owned = goalloc_span_of(p);
	rcu_read_unlock();
	return owned;
}
EXPORT_SYMBOL_GPL(goalloc_owns);
