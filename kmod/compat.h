/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences goalloc adapts to, in one place.  Supported:
 * Linux 6.1 (Debian bookworm stock) and 6.12 (Debian stock and our test
 * kernels).  Code elsewhere uses the 6.12 spelling; this header supplies it
 * on older kernels.
 */
#ifndef _GOALLOC_COMPAT_H
#define _GOALLOC_COMPAT_H

#include <linux/version.h>

/*
 * EXPORT_SYMBOL_IF_KUNIT / VISIBLE_IF_KUNIT arrived in 6.2
 * (<kunit/visibility.h>).  Without KUnit they expand to nothing, so older
 * kernels (which our KUnit runs never use) get the no-KUnit spelling.
 */
#if __has_include(<kunit/visibility.h>)
#include <kunit/visibility.h>
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

#endif /* _GOALLOC_COMPAT_H */
