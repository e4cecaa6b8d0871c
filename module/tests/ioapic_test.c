// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the IOAPIC (module/irq/ioapic.c) delivering to real LAPICs, with
 * the LAPICs' EOI broadcast wired back to it.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "../irq/ioapic.c"
#include "irq_test.h"

struct io_vm {
	struct test_vm *vm;
	struct hvk_ioapic *io;
};

static struct io_vm io_vm_create(struct kunit *test)
{
	struct io_vm v;

	v.vm = test_vm_create(test, 2, true);
	v.io = kunit_kzalloc(test, sizeof(*v.io), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v.io);
	hvk_ioapic_init(v.io, &v.vm->ctx);
	v.vm->ioapic = v.io;
	return v;
}

static u32 io_rd(struct hvk_ioapic *io, u32 index)
{
	u32 val;

	hvk_ioapic_mmio_write(io, IOREGSEL, 4, &index);
	hvk_ioapic_mmio_read(io, IOWIN, 4, &val);
	return val;
}

static void io_wr(struct hvk_ioapic *io, u32 index, u32 val)
{
	hvk_ioapic_mmio_write(io, IOREGSEL, 4, &index);
	hvk_ioapic_mmio_write(io, IOWIN, 4, &val);
}

static void rte_set(struct hvk_ioapic *io, unsigned int pin, u64 rte)
{
	io_wr(io, IOAPIC_REG_RTE + 2 * pin + 1, rte >> 32);
	io_wr(io, IOAPIC_REG_RTE + 2 * pin, (u32)rte);
}

static u64 rte_get(struct hvk_ioapic *io, unsigned int pin)
{
	return io_rd(io, IOAPIC_REG_RTE + 2 * pin) |
	       (u64)io_rd(io, IOAPIC_REG_RTE + 2 * pin + 1) << 32;
}

#define DEST(id)	((u64)(id) << 56)

/* Take the vector on @a and EOI it, as the guest's handler would. */
static void service(struct kunit *test, struct hvk_lapic *a, int vector)
{
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), vector);
	lapic_wr(a, HVK_APIC_EOI, 0);
}

static void ioapic_registers(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	u32 sel = 0x12;
	u8 b;

	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_VERSION), 0x170011u);
	io_wr(v.io, IOAPIC_REG_VERSION, 0);
	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_VERSION), 0x170011u);
	io_wr(v.io, IOAPIC_REG_ID, 0xffffffff);
	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_ID), 0x0f000000u);
	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_ARB), 0x0f000000u);
	/* Reset: every pin masked. */
	KUNIT_EXPECT_EQ(test, rte_get(v.io, 0), (u64)HVK_IOAPIC_RTE_MASKED);
	KUNIT_EXPECT_EQ(test, rte_get(v.io, 23), (u64)HVK_IOAPIC_RTE_MASKED);
	/* Delivery status and remote IRR are read-only. */
	rte_set(v.io, 3, DEST(0xab) | 0x1ffff);
	KUNIT_EXPECT_EQ(test, rte_get(v.io, 3), DEST(0xab) | 0x1afff);
	/* IOREGSEL reads back, also a byte at a time. */
	hvk_ioapic_mmio_write(v.io, IOREGSEL, 4, &sel);
	hvk_ioapic_mmio_read(v.io, IOREGSEL, 1, &b);
	KUNIT_EXPECT_EQ(test, b, 0x12);
	/* Beyond the last pin. */
	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_RTE + 48), 0xffffffffu);
	io_wr(v.io, IOAPIC_REG_RTE + 48, 0);
	/* Other offsets read 0. */
	hvk_ioapic_mmio_read(v.io, 0x20, 1, &b);
	KUNIT_EXPECT_EQ(test, b, 0);
}

static void ioapic_edge(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	struct hvk_lapic *a = v.vm->apic[0];

	rte_set(v.io, 4, DEST(0) | 0x34);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 4, true), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x34));
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_TMR, 0x34));
	/* No edge while the line stays high. */
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 4, true), 0);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 4, false), 1);
	/* An edge while the LAPIC still has it pending: coalesced. */
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 4, true), 0);
	hvk_ioapic_set_irq(v.io, 4, false);
	service(test, a, 0x34);
	KUNIT_EXPECT_EQ(test, v.vm->eois, 0u);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 4, true), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x34));
	KUNIT_EXPECT_FALSE(test, rte_get(v.io, 4) & HVK_IOAPIC_RTE_REMOTE_IRR);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 24, true), -1);
}

static void ioapic_level(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	struct hvk_lapic *a = v.vm->apic[1];

	rte_set(v.io, 9, DEST(1) | HVK_IOAPIC_RTE_LEVEL | 0x39);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 9, true), 1);
	KUNIT_EXPECT_TRUE(test, rte_get(v.io, 9) & HVK_IOAPIC_RTE_REMOTE_IRR);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_TMR, 0x39));
	KUNIT_EXPECT_FALSE(test, lapic_vec(v.vm->apic[0], HVK_APIC_IRR, 0x39));
	/* In service: nothing more until the EOI. */
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 9, true), 0);
	/* The EOI with the line still high sends it again. */
	service(test, a, 0x39);
	KUNIT_EXPECT_EQ(test, v.vm->eois, 1u);
	KUNIT_EXPECT_EQ(test, v.vm->eoi_vector, 0x39);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x39));
	KUNIT_EXPECT_TRUE(test, rte_get(v.io, 9) & HVK_IOAPIC_RTE_REMOTE_IRR);
	/* Lowered first: the EOI just clears remote IRR. */
	hvk_ioapic_set_irq(v.io, 9, false);
	service(test, a, 0x39);
	KUNIT_EXPECT_EQ(test, v.vm->eois, 2u);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x39));
	KUNIT_EXPECT_FALSE(test, rte_get(v.io, 9) & HVK_IOAPIC_RTE_REMOTE_IRR);
	/* An EOI for another vector leaves remote IRR alone. */
	hvk_ioapic_set_irq(v.io, 9, true);
	hvk_ioapic_eoi(v.io, 0x38);
	KUNIT_EXPECT_TRUE(test, rte_get(v.io, 9) & HVK_IOAPIC_RTE_REMOTE_IRR);
	/* Switching the pin to edge drops remote IRR. */
	rte_set(v.io, 9, DEST(1) | 0x39);
	KUNIT_EXPECT_FALSE(test, rte_get(v.io, 9) & HVK_IOAPIC_RTE_REMOTE_IRR);
}

static void ioapic_masked(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	struct hvk_lapic *a = v.vm->apic[0];

	/* Edge while masked: lost. */
	rte_set(v.io, 5, HVK_IOAPIC_RTE_MASKED | 0x35);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 5, true), -1);
	rte_set(v.io, 5, 0x35);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x35));
	/* Level while masked: delivered on unmask. */
	rte_set(v.io, 6, HVK_IOAPIC_RTE_MASKED | HVK_IOAPIC_RTE_LEVEL | 0x36);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 6, true), -1);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x36));
	rte_set(v.io, 6, HVK_IOAPIC_RTE_LEVEL | 0x36);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x36));
	KUNIT_EXPECT_TRUE(test, rte_get(v.io, 6) & HVK_IOAPIC_RTE_REMOTE_IRR);
	/* Masked again while in service: the EOI clears, sends nothing. */
	rte_set(v.io, 6, HVK_IOAPIC_RTE_MASKED | HVK_IOAPIC_RTE_LEVEL | 0x36);
	service(test, a, 0x36);
	KUNIT_EXPECT_FALSE(test, rte_get(v.io, 6) & HVK_IOAPIC_RTE_REMOTE_IRR);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x36));
	/* A level pin with no destination holds no remote IRR. */
	rte_set(v.io, 7, DEST(7) | HVK_IOAPIC_RTE_LEVEL | 0x37);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 7, true), -1);
	KUNIT_EXPECT_FALSE(test, rte_get(v.io, 7) & HVK_IOAPIC_RTE_REMOTE_IRR);
}

static void ioapic_destinations(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	struct hvk_lapic *a0 = v.vm->apic[0], *a1 = v.vm->apic[1];

	lapic_wr(a0, HVK_APIC_LDR, 0x01000000);
	lapic_wr(a1, HVK_APIC_LDR, 0x02000000);
	/* Physical broadcast. */
	rte_set(v.io, 1, DEST(0xff) | 0x41);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 1, true), 2);
	/* Logical, flat: APIC 1 only. */
	rte_set(v.io, 2, DEST(0x02) | BIT(11) | 0x42);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 2, true), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a1, HVK_APIC_IRR, 0x42));
	KUNIT_EXPECT_FALSE(test, lapic_vec(a0, HVK_APIC_IRR, 0x42));
	/* Lowest priority between both: APIC 0 runs at a higher TPR. */
	lapic_wr(a0, HVK_APIC_TPR, 0x20);
	rte_set(v.io, 3, DEST(0x03) | BIT(11) | (1 << 8) | 0x43);
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 3, true), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a1, HVK_APIC_IRR, 0x43));
	/* NMI delivery mode. */
	rte_set(v.io, 8, DEST(0) | (4 << 8));
	KUNIT_EXPECT_EQ(test, hvk_ioapic_set_irq(v.io, 8, true), 1);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_take_nmi(a0));
}

static void ioapic_state(struct kunit *test)
{
	struct io_vm v = io_vm_create(test);
	struct kvm_ioapic_state *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct hvk_lapic *a = v.vm->apic[0];

	KUNIT_ASSERT_NOT_NULL(test, s);
	io_wr(v.io, IOAPIC_REG_ID, 0x02000000);
	rte_set(v.io, 10, HVK_IOAPIC_RTE_LEVEL | 0x4a);
	hvk_ioapic_set_irq(v.io, 10, true);
	hvk_ioapic_get_state(v.io, s);
	KUNIT_EXPECT_EQ(test, s->base_address, HVK_IOAPIC_DEFAULT_BASE);
	KUNIT_EXPECT_EQ(test, s->id, 0x02000000u);
	KUNIT_EXPECT_EQ(test, s->irr, BIT(10));
	KUNIT_EXPECT_EQ(test, s->redirtbl[10].fields.vector, 0x4a);
	KUNIT_EXPECT_EQ(test, (int)s->redirtbl[10].fields.remote_irr, 1);
	KUNIT_EXPECT_EQ(test, (int)s->redirtbl[10].fields.trig_mode, 1);
	KUNIT_EXPECT_EQ(test, (int)s->redirtbl[11].fields.mask, 1);

	/* Restored not in service with the line high: it interrupts. */
	service(test, a, 0x4a);
	hvk_ioapic_reset(v.io);
	s->redirtbl[10].fields.remote_irr = 0;
	s->redirtbl[10].fields.vector = 0x4b;
	hvk_ioapic_set_state(v.io, s);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x4b));
	KUNIT_EXPECT_TRUE(test, rte_get(v.io, 10) & HVK_IOAPIC_RTE_REMOTE_IRR);
	KUNIT_EXPECT_EQ(test, io_rd(v.io, IOAPIC_REG_ID), 0x02000000u);
}

static struct kunit_case ioapic_test_cases[] = {
	KUNIT_CASE(ioapic_registers),
	KUNIT_CASE(ioapic_edge),
	KUNIT_CASE(ioapic_level),
	KUNIT_CASE(ioapic_masked),
	KUNIT_CASE(ioapic_destinations),
	KUNIT_CASE(ioapic_state),
	{}
};

static struct kunit_suite ioapic_test_suite = {
	.name = "hvk_ioapic",
	.exit = test_vm_exit,
	.test_cases = ioapic_test_cases,
};

kunit_test_suite(ioapic_test_suite);
