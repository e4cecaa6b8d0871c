/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the interrupt-controller suites: a VM of a few real
 * LAPICs (module/irq/lapic.c) whose callbacks count what they see.
 */
#ifndef HVK_IRQ_TEST_H
#define HVK_IRQ_TEST_H

#include <kunit/test.h>
#include <linux/atomic.h>

#include "../irq/irq.h"

#define TEST_VM_LAPICS	4

struct test_vm {
	struct hvk_irq_dest_ctx ctx;
	struct hvk_lapic *apic[TEST_VM_LAPICS];
	unsigned int nr;
	atomic_t kicks[TEST_VM_LAPICS];
	unsigned int eois;		/* level EOIs broadcast */
	int eoi_vector;			/* the last one */
	struct hvk_ioapic *ioapic;	/* if set, gets the EOIs */
	u64 tsc;			/* the guest TSC the LAPICs see */
};

/*
 * @nr LAPICs with vCPU ids 0..nr-1, software-enabled (SVR 0x1ff) when
 * @enable; freed (timers stopped) by test_vm_exit, the suites' .exit.
 */
struct test_vm *test_vm_create(struct kunit *test, unsigned int nr,
			       bool enable);
void test_vm_exit(struct kunit *test);

u32 lapic_rd(struct hvk_lapic *apic, u32 offset);
void lapic_wr(struct hvk_lapic *apic, u32 offset, u32 val);
bool lapic_vec(struct hvk_lapic *apic, u32 base, u8 vector);
/* A fixed interrupt, edge or level, straight to @apic. */
int lapic_fixed(struct hvk_lapic *apic, u8 vector, bool level);

#endif /* HVK_IRQ_TEST_H */
