# SPDX-License-Identifier: GPL-2.0
#
# goalloc: Go's runtime memory allocator as a Linux kernel module.
#
#   make                 build kmod/goalloc.ko (and the KUnit module where the
#                        kernel has KUnit) against KDIR
#   make check           every test: KUnit under UML and QEMU (debug, KCSAN and
#                        PREEMPT_RT kernels), selftests, a 60 s soak,
#                        stock-kernel insmod, checkpatch, sparse, harness tests,
#                        the instruction budget (bench/budget.txt)
#   make soak            tools/soak.sh for SOAK_SECONDS (default 600) on each
#                        of SOAK_KERNELS (default "debug kcsan rt")
#   make run             the demo: boot a VM, mount ext4 (routed to goalloc)
#                        and fill it, show goalloc's tables, the SLUB
#                        comparison, a userspace arena
#   make bench           goalloc against SLUB: instructions per operation under
#                        QEMU -icount, time under UML and QEMU TCG, memory on
#                        recorded traces, real ext4/jbd2/mbcache routed and
#                        not; reports in results/bench/ ("make check" runs
#                        only the instruction budget, bench/budget.txt: make
#                        bench-budget)
#   make kunit-uml | kunit-qemu | selftests | kunit-kcsan | kunit-rt |
#        kasan-negative | stock | lint | harness-test | dkms | models | kernels |
#        bench-budget | routed
#                        one part of "make check"
#   make clean           remove everything the build made in this tree
#
# KDIR defaults to the running kernel's build tree; where that is absent,
# to goalloc's own debug test kernel (built once, cached; see README).

KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; \
	  if [ -d $$d ]; then echo $$d; else qemu/kernel.sh debug; fi)
KARCH = $(shell grep -q '^CONFIG_UML=y' $(KDIR)/.config 2>/dev/null && echo ARCH=um)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(KARCH) modules

sizeclasses:
	tools/mksizeclasses.py -o kmod/sizeclasses.c

check:
	tools/check.sh all

kunit-uml kunit-qemu selftests kunit-kcsan kunit-rt kasan-negative stock lint \
harness-test dkms models kernels bench-budget routed:
	tools/check.sh $@

SOAK_SECONDS ?= 600
SOAK_KERNELS ?= debug kcsan rt
soak:
	SOAK_SECONDS='$(SOAK_SECONDS)' SOAK_KERNELS='$(SOAK_KERNELS)' tools/check.sh soak

run:
	tools/demo.sh

bench:
	tools/bench.sh

clean:
	rm -rf build results
	find kmod kunit bench \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.a' \
		-o -name '.*.d' -o -name modules.order \) -delete
	rm -f Module.symvers modules.order .*.cmd .module-common.o
	$(MAKE) -s -C selftests clean KSRC=.
	$(MAKE) -s -C libgoalloc clean

.PHONY: all modules sizeclasses check kunit-uml kunit-qemu selftests kunit-kcsan kunit-rt \
	kasan-negative routed stock lint harness-test dkms models kernels bench-budget soak run bench \
	clean
