/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FORTIFY_SOURCE's reports, taken by kunit/attrs_test.c instead of the
 * kernel's WARN and BUG.  <linux/fortify-string.h> lets a test define
 * fortify_panic() and fortify_warn_once() before it is included
 * ("Overridden by KUnit tests"); this header defines them, so it must be
 * the first that attrs_test.c includes, and no other file may include it.
 *
 * fortify_panic() is called where a fortified function found an access
 * past the object the compiler knows; the kernel's reports with WARN and
 * then BUG()s, and a WARN fails any goalloc run.  Here it only records
 * the report, and the fortified function carries on (for memcpy() and
 * memset() that is the copy, as it is when the kernel's own KUnit test
 * overrides it).  fortify_warn_once() is the WARN_ONCE() that memcpy() and
 * memmove() issue for a write across a struct member; here it only counts.
 *
 * Nothing is declared yet where this is included: the types are the
 * compiler's own.
 */
#ifndef _GOALLOC_ATTRS_FORTIFY_H
#define _GOALLOC_ATTRS_FORTIFY_H

#ifdef _LINUX_FORTIFY_STRING_H_
#error "attrs_fortify.h must come before <linux/string.h>"
#endif

void goalloc_attrs_fortify_report(int func, int write, unsigned long avail,
				  unsigned long size);
void goalloc_attrs_fortify_warned(int warn);

/* @retfail, the value the kernel's test returns, is not: the function carries on. */
#define fortify_panic(func, write, avail, size, retfail)		\
	((void)(retfail), goalloc_attrs_fortify_report(func, write, avail, size))
#define fortify_warn_once(chk, fmt...)	goalloc_attrs_fortify_warned(chk)

#endif /* _GOALLOC_ATTRS_FORTIFY_H */
