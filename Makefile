# SPDX-License-Identifier: GPL-2.0
#
#   make                 build hvk.ko against KDIR (the running kernel)
#   make install         install it (modules_install) and the udev rule
#   make deps            install the Debian packages the test machines need
#   make setup           build both test kernels, the module and the selftests
#   make demo [EMU=vmx]  load hvk in an emulated machine with VT-x or AMD-V and
#                        run guests on it
#   make check           the test suite on both emulated machines
#   make bench-mmu [EMU=vmx]  second-level paging figures, hvk next to KVM
#   make bench [EMU=vmx]      VM-exit round trips (exit_bench), hvk next to KVM
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
EMU ?= svm
FLAVOUR ?= plain
VM := $(CURDIR)/selftests/vm

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	install -D -m 0644 docs/99-hvk.rules /etc/udev/rules.d/99-hvk.rules
	depmod -a

deps:
	$(VM)/install-deps

# The test kernel of FLAVOUR, hvk's modules built against it, the selftests.
vm-artifacts:
	$(VM)/build-all $(FLAVOUR)

setup:
	$(VM)/build-all plain
	$(VM)/build-all debug

demo:
	$(VM)/run --emu $(EMU) --cpus 2 -- sh -c 'dmesg | grep "hvk:"; \
		echo "enabled on CPUs: $$(cat /sys/kernel/debug/hvk/enabled_cpus)"; \
		/selftests/hvk/run_test'


check:
	$(VM)/check

bench-mmu:
	$(VM)/bench-mmu $(EMU)

bench:
	$(VM)/bench-exits $(EMU)

clean:
	rm -rf build
	find . -path ./build -prune -o \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' \
		-o -name '*.mod' -o -name '*.mod.c' -o -name modules.order \
		-o -name Module.symvers \) -print0 | xargs -0 rm -f

.PHONY: all modules install deps vm-artifacts setup demo check bench bench-mmu clean
