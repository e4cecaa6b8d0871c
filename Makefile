# SPDX-License-Identifier: GPL-2.0
#
#   make                 build hvk.ko against KDIR (the running kernel)
#   make install         install it (modules_install) and the udev rule
#   make deps            install the Debian packages the test machines need
#   make setup           build both test kernels, the module and the selftests
#   make demo [EMU=vmx] [HV=kvm]  hvk-run boots a Linux guest (2 vCPUs) on
#                        hvk (or KVM) in an emulated machine with VT-x or AMD-V
#   make demo-bzboot     the same guest booted by the selftests' bzboot
#   make shell [HV=kvm]  the same guest with an interactive shell (svm only)
#   make check           the test suite on both emulated machines
#   make bench-mmu [EMU=vmx]  second-level paging figures, hvk next to KVM
#   make bench [EMU=vmx]      VM-exit round trips (exit_bench), hvk next to KVM
#   make bench-boot [EMU=vmx] hvk-run's guest boot-to-init, hvk next to KVM
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
EMU ?= svm
HV ?= hvk
FLAVOUR ?= plain
VM := $(CURDIR)/selftests/vm

all: modules runner

# hvk-run against the installed kernel headers.
runner:
	$(MAKE) -C userspace-runner O=$(CURDIR)/build/runner

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: modules runner
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	install -D -m 0755 build/runner/hvk-run $(DESTDIR)/usr/local/bin/hvk-run
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

# The guest: the plain test kernel booted by hvk-run with 2 vCPUs, an
# 8 MiB virtio disk and a busybox init that prints uname -a and its CPUs,
# checks the disk and powers off (status 0).
demo:
	$(VM)/run --emu $(EMU) --hypervisor $(HV) --flavour plain --cpus 2 \
		--timeout 900 -- /selftests/runner/hvk-run-demo $(HV) --cpus 2 \
		--append hvk.test=demo

# The same kernel and init booted by bzboot, the selftests' minimal loader
# (no devices but a UART without interrupts; init halts).
demo-bzboot:
	$(VM)/run --emu $(EMU) --hypervisor $(HV) --flavour plain --cpus 2 \
		--timeout 900 -- sh -c 'HVK_DEV=/dev/$(HV) /selftests/hvk/bzboot \
		-n 2 -i /selftests/runner/guest-initrd.gz -a hvk.test=demo \
		-t 300 -q 20 /boot/bzImage'

shell:
	$(VM)/run --emu svm --hypervisor $(HV) --flavour plain --cpus 2 \
		--interactive -- /selftests/runner/hvk-run --hypervisor $(HV) \
		--kernel /boot/bzImage --initrd /selftests/runner/guest-initrd.gz \
		--cpus 2 --append hvk.test=shell


check:
	$(VM)/check

bench-mmu:
	$(VM)/bench-mmu $(EMU)

bench:
	$(VM)/bench-exits $(EMU)

bench-boot:
	$(VM)/bench-boot $(EMU)

clean:
	rm -rf build
	find . -path ./build -prune -o \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' \
		-o -name '*.mod' -o -name '*.mod.c' -o -name modules.order \
		-o -name Module.symvers \) -print0 | xargs -0 rm -f

.PHONY: all modules runner install deps vm-artifacts setup demo demo-bzboot shell check bench \
	bench-mmu bench-boot clean
