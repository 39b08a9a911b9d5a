# SPDX-License-Identifier: GPL-2.0
# Feature tests for compat.h: what the target kernel's headers provide.
# Included by kmod/Kbuild and kunit/Kbuild, which share compat.h.
ccflags-y += $(if $(wildcard $(srctree)/include/kunit/visibility.h),-DGOALLOC_HAVE_KUNIT_VISIBILITY)
ccflags-y += $(if $(shell grep -s shrinker_alloc $(srctree)/include/linux/shrinker.h),-DGOALLOC_HAVE_SHRINKER_ALLOC)
ccflags-y += $(if $(shell grep -s 'void vm_flags_mod' $(srctree)/include/linux/mm.h),-DGOALLOC_HAVE_VM_FLAGS_MOD)
# Test-only hooks at the racy points (kmod/hooks.h): the test kernels' builds
# pass GOALLOC_TEST_HOOKS=1; a normal build has none.
ccflags-y += $(if $(GOALLOC_TEST_HOOKS),-DGOALLOC_TEST_HOOKS)
