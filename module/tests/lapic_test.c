// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the local APIC (module/irq/lapic.c) and interrupt delivery
 * (module/irq/deliver.c), against the rules of SDM Vol. 3, chapter 11.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/slab.h>

#include "../irq/lapic.c"
#include "../irq/deliver.c"
#include "irq_test.h"

/* ---- the test VM ---- */

static void test_kick(struct hvk_lapic *apic)
{
	struct test_vm *vm = apic->owner;

	atomic_inc(&vm->kicks[apic->vcpu_id]);
}

static void test_eoi(struct hvk_lapic *apic, u8 vector)
{
	struct test_vm *vm = apic->owner;

	vm->eois++;
	vm->eoi_vector = vector;
	if (vm->ioapic)
		hvk_ioapic_eoi(vm->ioapic, vector);
}

static u64 test_guest_tsc(struct hvk_lapic *apic)
{
	struct test_vm *vm = apic->owner;

	return READ_ONCE(vm->tsc);
}

static const struct hvk_lapic_ops test_lapic_ops = {
	.kick = test_kick,
	.eoi_level = test_eoi,
	.guest_tsc = test_guest_tsc,
};

struct test_vm *test_vm_create(struct kunit *test, unsigned int nr,
			       bool enable)
{
	struct test_vm *vm = kunit_kzalloc(test, sizeof(*vm), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, vm);
	hvk_irq_dest_init(&vm->ctx);
	for (i = 0; i < nr; i++) {
		vm->apic[i] = kunit_kzalloc(test, sizeof(*vm->apic[i]),
					    GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, vm->apic[i]);
		hvk_lapic_init(vm->apic[i], i, &test_lapic_ops, vm, &vm->ctx);
		vm->nr = i + 1;
		KUNIT_ASSERT_EQ(test, hvk_irq_dest_add(&vm->ctx, vm->apic[i]), 0);
		if (enable)
			lapic_wr(vm->apic[i], HVK_APIC_SVR, 0x1ff);
	}
	test->priv = vm;
	return vm;
}

void test_vm_exit(struct kunit *test)
{
	struct test_vm *vm = test->priv;
	unsigned int i;

	for (i = 0; vm && i < vm->nr; i++)
		hvk_lapic_destroy(vm->apic[i]);
}

u32 lapic_rd(struct hvk_lapic *apic, u32 offset)
{
	u32 val;

	hvk_lapic_mmio_read(apic, offset, 4, &val);
	return val;
}

void lapic_wr(struct hvk_lapic *apic, u32 offset, u32 val)
{
	hvk_lapic_mmio_write(apic, offset, 4, &val);
}

bool lapic_vec(struct hvk_lapic *apic, u32 base, u8 vector)
{
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&apic->lock, flags);
	ret = vec_test(apic, base, vector);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}

int lapic_fixed(struct hvk_lapic *apic, u8 vector, bool level)
{
	struct hvk_irq_msg msg = {
		.vector = vector,
		.delivery_mode = HVK_DM_FIXED,
		.level = level,
		.assert = true,
	};

	return hvk_lapic_accept(apic, &msg);
}

/* ---- priority ---- */

static void lapic_ppr_rule(struct kunit *test)
{
	static const struct { u8 tpr; int isrv; u8 ppr; } c[] = {
		{ 0x00, -1, 0x00 }, { 0x20, -1, 0x20 }, { 0x25, -1, 0x25 },
		{ 0x20, 0x31, 0x30 }, { 0x35, 0x31, 0x35 }, { 0x30, 0x3f, 0x30 },
		{ 0x4f, 0x31, 0x4f }, { 0x10, 0xff, 0xf0 }, { 0xff, 0x20, 0xff },
		{ 0x0f, 0x10, 0x10 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		KUNIT_EXPECT_EQ_MSG(test, hvk_lapic_ppr(c[i].tpr, c[i].isrv),
				    c[i].ppr, "TPR %#x ISRV %d", c[i].tpr,
				    c[i].isrv);
}

struct pending_case {
	u8 tpr;
	u8 in_service;		/* 0: none */
	u8 irr[3];		/* 0-terminated */
	int expect;
};

static const struct pending_case pending_cases[] = {
	{ 0x00, 0, { 0x30 }, 0x30 },
	{ 0x30, 0, { 0x30 }, -1 },		/* class must be above */
	{ 0x30, 0, { 0x3f }, -1 },
	{ 0x2f, 0, { 0x30 }, 0x30 },
	{ 0x00, 0x40, { 0x45 }, -1 },		/* same class as in service */
	{ 0x00, 0x40, { 0x51 }, 0x51 },
	{ 0x60, 0x40, { 0x51 }, -1 },
	{ 0x00, 0, { 0x30, 0x80, 0x55 }, 0x80 },
	{ 0xf0, 0, { 0xff }, -1 },
	{ 0x00, 0xe0, { 0xef, 0xf1 }, 0xf1 },
	{ 0x00, 0x50, { 0x20, 0x4f }, -1 },
};

static void lapic_pending_vs_ppr(struct kunit *test)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(pending_cases); i++) {
		const struct pending_case *c = &pending_cases[i];
		struct test_vm *vm = test_vm_create(test, 1, true);
		struct hvk_lapic *a = vm->apic[0];

		if (c->in_service) {
			lapic_fixed(a, c->in_service, false);
			KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), c->in_service);
		}
		lapic_wr(a, HVK_APIC_TPR, c->tpr);
		for (j = 0; j < ARRAY_SIZE(c->irr) && c->irr[j]; j++)
			KUNIT_EXPECT_EQ(test, lapic_fixed(a, c->irr[j], false), 1);
		KUNIT_EXPECT_EQ_MSG(test, hvk_lapic_pending_vector(a), c->expect,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, hvk_lapic_has_events(a),
				    c->expect >= 0, "case %u", i);
		KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_PPR),
				(u32)hvk_lapic_ppr(c->tpr, c->in_service ?
						   c->in_service : -1));
		test_vm_exit(test);
	}
}

static void lapic_ack_eoi_order(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];

	lapic_fixed(a, 0x30, false);
	lapic_fixed(a, 0x50, false);
	/* The same vector again while requested is coalesced. */
	KUNIT_EXPECT_EQ(test, lapic_fixed(a, 0x50, false), 0);
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x50);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_ISR, 0x50));
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x50));
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_PPR), 0x50u);
	/* 0x30 waits below the in-service class; 0x60 nests. */
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), -1);
	lapic_fixed(a, 0x60, false);
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x60);
	/* EOI retires the highest in-service vector first. */
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_ISR, 0x60));
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_ISR, 0x50));
	KUNIT_EXPECT_EQ(test, hvk_lapic_pending_vector(a), -1);
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_PPR), 0u);
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x30);
	lapic_wr(a, HVK_APIC_EOI, 0);
	/* EOI with nothing in service does nothing. */
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, vm->eois, 0u);
	/* CR8 is TPR[7:4]. */
	hvk_lapic_set_cr8(a, 0x7);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TPR), 0x70u);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_cr8(a), 7);
}

static void lapic_level_eoi_broadcast(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];

	lapic_fixed(a, 0x41, true);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_TMR, 0x41));
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x41);
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, vm->eois, 1u);
	KUNIT_EXPECT_EQ(test, vm->eoi_vector, 0x41);

	/* An edge-triggered vector clears its TMR bit, and no broadcast. */
	lapic_fixed(a, 0x41, false);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_TMR, 0x41));
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x41);
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, vm->eois, 1u);

	/* SVR bit 12 is not writable unless offered... */
	lapic_wr(a, HVK_APIC_SVR, 0x11ff);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_SVR), 0x1ffu);
	KUNIT_EXPECT_FALSE(test, lapic_rd(a, HVK_APIC_LVR) & BIT(24));
	/* ...and, offered and set, suppresses the broadcast (11.8.5). */
	hvk_lapic_set_features(a, 52, true, false, true, 0);
	KUNIT_EXPECT_TRUE(test, lapic_rd(a, HVK_APIC_LVR) & BIT(24));
	lapic_wr(a, HVK_APIC_SVR, 0x11ff);
	lapic_fixed(a, 0x42, true);
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(a), 0x42);
	lapic_wr(a, HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, vm->eois, 1u);
	/* A level-triggered de-assert message carries no interrupt. */
	{
		struct hvk_irq_msg m = { .vector = 0x43, .level = true };

		KUNIT_EXPECT_EQ(test, hvk_lapic_accept(a, &m), 0);
		KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x43));
	}
}

static void lapic_esr(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];

	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ESR), 0u);
	/* A fixed IPI with vector 3: send illegal vector, not sent. */
	lapic_wr(a, HVK_APIC_ICR, (HVK_SH_SELF << 18) | 3);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 3));
	/* The error shows only after a write (11.5.3). */
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ESR), 0u);
	lapic_wr(a, HVK_APIC_ESR, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ESR),
			(u32)HVK_APIC_ESR_SEND_ILLEGAL);
	lapic_wr(a, HVK_APIC_ESR, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ESR), 0u);

	/* Received illegal vector, signalled through LVT error. */
	lapic_wr(a, HVK_APIC_LVT_ERROR, 0xe3);
	KUNIT_EXPECT_EQ(test, lapic_fixed(a, 5, false), 0);
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0xe3));
	lapic_wr(a, HVK_APIC_ESR, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ESR),
			(u32)HVK_APIC_ESR_RECV_ILLEGAL);
}

static void lapic_svr_disable(struct kunit *test)
{
	static const u32 lvts[] = {
		HVK_APIC_LVTT, HVK_APIC_LVT_THERMAL, HVK_APIC_LVT_PMC,
		HVK_APIC_LVT_LINT0, HVK_APIC_LVT_LINT1, HVK_APIC_LVT_ERROR,
	};
	struct test_vm *vm = test_vm_create(test, 2, false);
	struct hvk_lapic *a = vm->apic[1];
	struct hvk_irq_msg nmi = { .delivery_mode = HVK_DM_NMI };
	unsigned int i;

	/* The BSP's LINT0 starts in virtual-wire mode (KVM's quirk). */
	KUNIT_EXPECT_EQ(test, lapic_rd(vm->apic[0], HVK_APIC_LVT_LINT0), 0x700u);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_accepts_pic(vm->apic[0]));
	KUNIT_EXPECT_FALSE(test, hvk_lapic_accepts_pic(a));
	/* Reset state: SVR 0xff, software-disabled, LVTs masked. */
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_SVR), 0xffu);
	for (i = 0; i < ARRAY_SIZE(lvts); i++) {
		KUNIT_EXPECT_EQ(test, lapic_rd(a, lvts[i]),
				(u32)HVK_APIC_LVT_MASKED);
		lapic_wr(a, lvts[i], 0x40 + i);
		KUNIT_EXPECT_EQ(test, lapic_rd(a, lvts[i]),
				(u32)HVK_APIC_LVT_MASKED | (0x40 + i));
	}
	/* Fixed interrupts are dropped, NMIs still taken. */
	KUNIT_EXPECT_EQ(test, lapic_fixed(a, 0x40, false), 0);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x40));
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept(a, &nmi), 1);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_has_events(a));
	KUNIT_EXPECT_TRUE(test, hvk_lapic_take_nmi(a));
	KUNIT_EXPECT_FALSE(test, hvk_lapic_take_nmi(a));

	lapic_wr(a, HVK_APIC_SVR, 0x1ff);
	lapic_wr(a, HVK_APIC_LVT_LINT0, 0x700);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVT_LINT0), 0x700u);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_accepts_pic(a));
	lapic_wr(a, HVK_APIC_LVT_LINT1, 0x400);
	/* Disabling masks every entry, and enabling unmasks none. */
	lapic_wr(a, HVK_APIC_SVR, 0xff);
	lapic_wr(a, HVK_APIC_SVR, 0x1ff);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVT_LINT0), 0x10700u);
	KUNIT_EXPECT_FALSE(test, hvk_lapic_accepts_pic(a));
	/* LINT1 as NMI: the local interrupt follows the entry. */
	hvk_lapic_local_irq(a, HVK_APIC_LVT_LINT1);
	KUNIT_EXPECT_FALSE(test, hvk_lapic_take_nmi(a));
	lapic_wr(a, HVK_APIC_LVT_LINT1, 0x400);
	hvk_lapic_local_irq(a, HVK_APIC_LVT_LINT1);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_take_nmi(a));
	/* Reserved LVT bits do not stick; delivery status reads 0. */
	lapic_wr(a, HVK_APIC_LVT_ERROR, 0xfffff0ff);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVT_ERROR), 0x100ffu);
	lapic_wr(a, HVK_APIC_LVTT, 0x70055);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVTT), 0x30055u);
}

/* ---- x2APIC MSRs ---- */

struct msr_case {
	u32 msr;
	bool write;
	u64 val;
	int ret;
};

static const struct msr_case x2apic_msr_cases[] = {
	{ 0x800, false, 0, -EINVAL },		/* reserved */
	{ 0x802, false, 0, 0 },			/* ID */
	{ 0x802, true, 5, -EINVAL },
	{ 0x803, false, 0, 0 },			/* version */
	{ 0x803, true, 0, -EINVAL },
	{ 0x804, false, 0, -EINVAL },
	{ 0x808, false, 0, 0 },			/* TPR */
	{ 0x808, true, 0x20, 0 },
	{ 0x808, true, BIT_ULL(32), -EINVAL },
	{ 0x809, false, 0, -EINVAL },		/* no APR */
	{ 0x80a, false, 0, 0 },			/* PPR */
	{ 0x80a, true, 0, -EINVAL },
	{ 0x80b, false, 0, -EINVAL },		/* EOI: write-only */
	{ 0x80b, true, 0, 0 },
	{ 0x80b, true, 1, -EINVAL },
	{ 0x80c, false, 0, -EINVAL },		/* no RRD */
	{ 0x80d, false, 0, 0 },			/* LDR: read-only */
	{ 0x80d, true, 0, -EINVAL },
	{ 0x80e, false, 0, -EINVAL },		/* no DFR */
	{ 0x80e, true, 0xffffffff, -EINVAL },
	{ 0x80f, false, 0, 0 },			/* SVR */
	{ 0x80f, true, 0x1ff, 0 },
	{ 0x810, false, 0, 0 },			/* ISR */
	{ 0x817, true, 0, -EINVAL },
	{ 0x818, false, 0, 0 },			/* TMR */
	{ 0x820, false, 0, 0 },			/* IRR */
	{ 0x827, true, 0, -EINVAL },
	{ 0x828, false, 0, 0 },			/* ESR */
	{ 0x828, true, 0, 0 },
	{ 0x828, true, 0x40, -EINVAL },
	{ 0x82f, false, 0, -EINVAL },		/* no CMCI */
	{ 0x830, false, 0, 0 },			/* ICR, 64-bit */
	{ 0x830, true, 0x40040, 0 },		/* self IPI, vector 0x40 */
	{ 0x830, true, BIT_ULL(13) | 0x40, -EINVAL },
	{ 0x830, true, BIT_ULL(20) | 0x40, -EINVAL },
	{ 0x831, false, 0, -EINVAL },		/* no ICR2 */
	{ 0x831, true, 0, -EINVAL },
	{ 0x832, true, 0x10000, 0 },		/* LVT timer */
	{ 0x835, false, 0, 0 },			/* LINT0 */
	{ 0x837, true, 0x10000, 0 },		/* LVT error */
	{ 0x838, false, 0, 0 },			/* TMICT */
	{ 0x838, true, 0, 0 },
	{ 0x839, false, 0, 0 },			/* TMCCT */
	{ 0x839, true, 0, -EINVAL },
	{ 0x83e, true, 0xb, 0 },		/* TDCR */
	{ 0x83f, false, 0, -EINVAL },		/* SELF IPI: write-only */
	{ 0x83f, true, 0x41, 0 },
	{ 0x83f, true, 0x141, -EINVAL },
	{ 0x840, false, 0, -EINVAL },
	{ 0x8ff, true, 0, -EINVAL },
};

static void lapic_x2apic_msr_gp(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];
	unsigned int i;
	u64 val;

	/* Not in x2APIC mode: every x2APIC MSR faults. */
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(a, 0x802, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_write(a, 0x808, 0), -EINVAL);

	hvk_lapic_set_features(a, 52, true, false, false, 0);
	KUNIT_ASSERT_EQ(test, hvk_lapic_set_base(a, HVK_APIC_DEFAULT_BASE |
			HVK_APIC_BASE_EN | HVK_APIC_BASE_EXTD, false), 0);
	for (i = 0; i < ARRAY_SIZE(x2apic_msr_cases); i++) {
		const struct msr_case *c = &x2apic_msr_cases[i];
		int r = c->write ? hvk_lapic_x2apic_write(a, c->msr, c->val) :
				   hvk_lapic_x2apic_read(a, c->msr, &val);

		KUNIT_EXPECT_EQ_MSG(test, r, c->ret, "%s %#x = %#llx",
				    c->write ? "wrmsr" : "rdmsr", c->msr,
				    c->val);
	}
	/* The self IPIs above arrived. */
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x40));
	KUNIT_EXPECT_TRUE(test, lapic_vec(a, HVK_APIC_IRR, 0x41));
	/* ICR reads back as one 64-bit register. */
	val = (5ULL << 32) | 0x4000 | 0x4f0;
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_write(a, 0x830, val), 0);
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(a, 0x830, &val), 0);
	KUNIT_EXPECT_EQ(test, val, (5ULL << 32) | 0x4000 | 0x4f0);
	/* In x2APIC mode, the MMIO page reads all ones. */
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ID), 0xffffffffu);
	KUNIT_EXPECT_FALSE(test, hvk_lapic_mmio_in_range(a, HVK_APIC_DEFAULT_BASE));
}

/* ---- IA32_APIC_BASE ---- */

#define B_X	(HVK_APIC_DEFAULT_BASE | HVK_APIC_BASE_EN)
#define B_X2	(B_X | HVK_APIC_BASE_EXTD)
#define B_OFF	HVK_APIC_DEFAULT_BASE

struct base_case {
	const char *name;
	u64 from, to;
	bool host, x2apic;
	int ret;
};

static const struct base_case base_cases[] = {
	{ "xapic->x2apic", B_X, B_X2, false, true, 0 },
	{ "xapic->x2apic not offered", B_X, B_X2, false, false, -EINVAL },
	{ "x2apic->xapic", B_X2, B_X, false, true, -EINVAL },
	{ "x2apic->xapic host", B_X2, B_X, true, true, 0 },
	{ "x2apic->disabled", B_X2, B_OFF, false, true, 0 },
	{ "disabled->x2apic", B_OFF, B_X2, false, true, -EINVAL },
	{ "disabled->x2apic host", B_OFF, B_X2, true, true, 0 },
	{ "disabled->xapic", B_OFF, B_X, false, true, 0 },
	{ "xapic->disabled", B_X, B_OFF, false, true, 0 },
	{ "xapic->invalid", B_X, B_OFF | HVK_APIC_BASE_EXTD, false, true,
	  -EINVAL },
	{ "xapic->invalid host", B_X, B_OFF | HVK_APIC_BASE_EXTD, true, true,
	  -EINVAL },
	{ "bsp bit", B_X, B_X | HVK_APIC_BASE_BSP, false, true, 0 },
	{ "bit 9", B_X, B_X | BIT_ULL(9), false, true, -EINVAL },
	{ "bit 0", B_X, B_X | 1, true, true, -EINVAL },
	{ "above maxphyaddr", B_X, B_X | BIT_ULL(40), false, true, -EINVAL },
	{ "below maxphyaddr", B_X, B_X | BIT_ULL(39), false, true, 0 },
	{ "moved", B_X, 0xfed00000ULL | HVK_APIC_BASE_EN, false, true, 0 },
};

static void base_case_desc(const struct base_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(base, base_cases, base_case_desc);

static void lapic_base_transitions(struct kunit *test)
{
	const struct base_case *c = test->param_value;
	struct test_vm *vm = test_vm_create(test, 2, false);
	struct hvk_lapic *a = vm->apic[1];
	enum hvk_lapic_mode mode;
	u64 val;

	hvk_lapic_set_features(a, 40, c->x2apic, false, false, 0);
	KUNIT_ASSERT_EQ(test, hvk_lapic_set_base(a, c->from, true), 0);
	KUNIT_EXPECT_EQ(test, hvk_lapic_set_base(a, c->to, c->host), c->ret);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_base(a), c->ret ? c->from : c->to);
	mode = hvk_lapic_mode(a);
	if (mode == HVK_LAPIC_X2APIC) {
		/* 11.12.5.1: x2APIC ID and LDR from the initial APIC ID. */
		KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(a, 0x802, &val), 0);
		KUNIT_EXPECT_EQ(test, val, 1ull);
		KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(a, 0x80d, &val), 0);
		KUNIT_EXPECT_EQ(test, val, 0x2ull);
	} else if (mode == HVK_LAPIC_XAPIC) {
		KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ID), 1u << 24);
		val = hvk_lapic_get_base(a) & ~0xfffULL;
		KUNIT_EXPECT_TRUE(test, hvk_lapic_mmio_in_range(a, val));
	} else {
		KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ID), 0xffffffffu);
		KUNIT_EXPECT_TRUE(test, hvk_lapic_accepts_pic(a));
	}
}

static void lapic_disable_resets(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];

	lapic_wr(a, HVK_APIC_TPR, 0x20);
	lapic_fixed(a, 0x40, false);
	KUNIT_EXPECT_EQ(test, hvk_lapic_set_base(a, B_OFF, false), 0);
	/* A disabled APIC takes nothing. */
	KUNIT_EXPECT_EQ(test, lapic_fixed(a, 0x41, false), 0);
	KUNIT_EXPECT_EQ(test, hvk_lapic_set_base(a, B_X, false), 0);
	/* Enabled again, it is in its power-up state (11.4.3). */
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TPR), 0u);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_SVR), 0xffu);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x40));
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_DFR), 0xffffffffu);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVR), 0x50014u);
}

/* ---- xAPIC MMIO ---- */

static void lapic_mmio_access(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 4, true);
	struct hvk_lapic *a = vm->apic[3];
	u32 v32;
	u16 v16;
	u8 v8;

	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ID), 3u << 24);
	hvk_lapic_mmio_read(a, 0x23, 1, &v8);
	KUNIT_EXPECT_EQ(test, v8, 3);
	hvk_lapic_mmio_read(a, 0x22, 2, &v16);
	KUNIT_EXPECT_EQ(test, v16, 3 << 8);
	/* Accesses across the dword, or beyond it, read nothing. */
	hvk_lapic_mmio_read(a, 0x22, 4, &v32);
	KUNIT_EXPECT_EQ(test, v32, 0u);
	hvk_lapic_mmio_read(a, 0x24, 4, &v32);
	KUNIT_EXPECT_EQ(test, v32, 0u);
	/* Reserved and write-only registers read 0. */
	KUNIT_EXPECT_EQ(test, lapic_rd(a, 0x40), 0u);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_EOI), 0u);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_SELF_IPI), 0u);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, 0x800), 0u);
	/* Only aligned 32-bit writes count. */
	v16 = 0x30;
	hvk_lapic_mmio_write(a, HVK_APIC_TPR, 2, &v16);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TPR), 0u);
	v32 = 0x30;
	hvk_lapic_mmio_write(a, HVK_APIC_TPR + 4, 4, &v32);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TPR), 0u);
	lapic_wr(a, HVK_APIC_TPR, 0x1234);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TPR), 0x34u);
	/* Read-only registers ignore writes in xAPIC mode. */
	lapic_wr(a, HVK_APIC_LVR, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVR), 0x50014u);
	lapic_wr(a, HVK_APIC_PPR, 0x80);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_PPR), 0x34u);
	/* The xAPIC ID is writable, bits 31:24. */
	lapic_wr(a, HVK_APIC_ID, 0x0512ffff);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ID), 0x05000000u);
	lapic_wr(a, HVK_APIC_DFR, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_DFR), 0x0fffffffu);
	lapic_wr(a, HVK_APIC_ICR2, 0xffffffff);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_ICR2), 0xff000000u);
}

/* ---- timer ---- */

static void lapic_timer_math(struct kunit *test)
{
	static const struct { u32 tdcr, div; } d[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 },
		{ 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 }, { 0x4, 2 }, { 0xf, 1 },
	};
	static const struct {
		u64 target, now, period;
		u32 div, count;
	} c[] = {
		{ 1000, 400, 0, 2, 300 },
		{ 1000, 1000, 0, 1, 0 },
		{ 1000, 5000, 0, 1, 0 },
		{ 1000, 1250, 1000, 1, 750 },	/* periodic, late */
		{ 1000, 0, 0, 16, 62 },
		{ 2000000000ULL, 0, 0, 128, 15625000 },
	};
	static const struct { u64 target, now, period, next; } n[] = {
		{ 1000, 1500, 1000, 2000 },
		{ 1000, 1000, 1000, 2000 },
		{ 1000, 1999, 1000, 2000 },
		{ 1000, 2000, 1000, 3000 },
		{ 1000, 5500, 1000, 6000 },	/* missed periods skipped */
		{ 1000, 900, 1000, 2000 },	/* callback early */
		{ 7, 1000000007, 3, 1000000009 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(d); i++)
		KUNIT_EXPECT_EQ_MSG(test, hvk_lapic_tdcr_divisor(d[i].tdcr),
				    d[i].div, "TDCR %#x", d[i].tdcr);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		u32 count = hvk_lapic_timer_count(c[i].target, c[i].now,
						  c[i].period, c[i].div);

		KUNIT_EXPECT_EQ_MSG(test, count, c[i].count, "count case %u", i);
	}
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		u64 next = hvk_lapic_timer_next(n[i].target, n[i].now,
						n[i].period);

		KUNIT_EXPECT_EQ_MSG(test, next, n[i].next, "next case %u", i);
	}
	/* 1 GHz: ticks are ns; 3 GHz: 3 ticks a ns; 2.5 MHz: 400 ns. */
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(1000000, 1000000), 1000000ull);
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(3000, 3000000), 1000ull);
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(5, 2500), 2000ull);
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(5, 0), 0ull);
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(U64_MAX, 1), U64_MAX);
	KUNIT_EXPECT_EQ(test, hvk_lapic_tsc_to_ns(1ULL << 40, 4000000),
			274877906944ull);
}

/* Wait up to a second for @vector in IRR. */
static bool wait_irr(struct hvk_lapic *a, u8 vector)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (lapic_vec(a, HVK_APIC_IRR, vector))
			return true;
		usleep_range(1000, 2000);
	}
	return false;
}

static void lapic_timer_oneshot(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];
	u32 count;

	lapic_wr(a, HVK_APIC_LVTT, 0x50);
	lapic_wr(a, HVK_APIC_TDCR, 0xb);
	/* One second: the current count starts near TMICT. */
	lapic_wr(a, HVK_APIC_TMICT, 1000000000);
	count = lapic_rd(a, HVK_APIC_TMCCT);
	KUNIT_EXPECT_LE(test, count, 1000000000u);
	KUNIT_EXPECT_GT(test, count, 900000000u);
	/* Divide by 128 from now: the count is kept, the rate changes. */
	lapic_wr(a, HVK_APIC_TDCR, 0xa);
	KUNIT_EXPECT_LE(test, lapic_rd(a, HVK_APIC_TMCCT), count);
	KUNIT_EXPECT_GT(test, lapic_rd(a, HVK_APIC_TMCCT), count - 100000000);
	/* TMICT 0 stops it. */
	lapic_wr(a, HVK_APIC_TMICT, 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TMCCT), 0u);

	lapic_wr(a, HVK_APIC_TDCR, 0xb);
	lapic_wr(a, HVK_APIC_TMICT, 2000000);	/* 2 ms */
	KUNIT_EXPECT_TRUE(test, wait_irr(a, 0x50));
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TMCCT), 0u);
	KUNIT_EXPECT_GE(test, atomic_read(&vm->kicks[0]), 1);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TMICT), 2000000u);
}

static void lapic_timer_periodic(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];
	const u64 period = 1000000;	/* 1 ms */
	unsigned long flags;
	u64 first, later;

	lapic_wr(a, HVK_APIC_LVTT, HVK_APIC_LVTT_PERIODIC | 0x51);
	lapic_wr(a, HVK_APIC_TDCR, 0xb);
	lapic_wr(a, HVK_APIC_TMICT, period);
	raw_spin_lock_irqsave(&a->lock, flags);
	first = a->timer_target_ns;
	raw_spin_unlock_irqrestore(&a->lock, flags);
	KUNIT_EXPECT_TRUE(test, wait_irr(a, 0x51));
	msleep(20);
	raw_spin_lock_irqsave(&a->lock, flags);
	later = a->timer_target_ns;
	KUNIT_EXPECT_TRUE(test, a->timer_armed);
	raw_spin_unlock_irqrestore(&a->lock, flags);
	/* Expiries stay on the grid of the first one: no drift. */
	KUNIT_EXPECT_GT(test, later, first);
	KUNIT_EXPECT_EQ(test, (later - first) % period, 0ull);
	KUNIT_EXPECT_LE(test, lapic_rd(a, HVK_APIC_TMCCT), (u32)period);
	/* Periods below the floor are stretched to it. */
	first = ktime_get_ns();
	lapic_wr(a, HVK_APIC_TMICT, 10);
	raw_spin_lock_irqsave(&a->lock, flags);
	KUNIT_EXPECT_GE(test, a->timer_target_ns,
			first + HVK_APIC_MIN_PERIOD_NS);
	raw_spin_unlock_irqrestore(&a->lock, flags);
	/* A masked timer runs on silently. */
	lapic_wr(a, HVK_APIC_LVTT, HVK_APIC_LVTT_PERIODIC | 0x10051);
	if (hvk_lapic_ack(a) >= 0)
		lapic_wr(a, HVK_APIC_EOI, 0);
	usleep_range(5000, 6000);
	KUNIT_EXPECT_TRUE(test, a->timer_armed);
	KUNIT_EXPECT_FALSE(test, lapic_vec(a, HVK_APIC_IRR, 0x51));
	lapic_wr(a, HVK_APIC_TMICT, 0);
	KUNIT_EXPECT_FALSE(test, a->timer_armed);
}

static void lapic_timer_tsc_deadline(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 1, true);
	struct hvk_lapic *a = vm->apic[0];
	u64 val;

	vm->tsc = 1000;
	/* Not offered: the mode bits do not stick. */
	lapic_wr(a, HVK_APIC_LVTT, HVK_APIC_LVTT_TSC_DEADLINE | 0x52);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVTT), 0x52u);
	/* Outside TSC-deadline mode the MSR ignores writes, reads 0. */
	hvk_lapic_set_tsc_deadline(a, 5000);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_tsc_deadline(a), 0ull);

	hvk_lapic_set_features(a, 52, false, true, false, 1000000);
	lapic_wr(a, HVK_APIC_LVTT, HVK_APIC_LVTT_TSC_DEADLINE | 0x52);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_LVTT),
			HVK_APIC_LVTT_TSC_DEADLINE | 0x52);
	/* TMICT is ignored in this mode. */
	lapic_wr(a, HVK_APIC_TMICT, 100);
	KUNIT_EXPECT_EQ(test, lapic_rd(a, HVK_APIC_TMICT), 0u);
	/* A deadline already passed fires at once, and the MSR reads 0. */
	hvk_lapic_set_tsc_deadline(a, 500);
	KUNIT_EXPECT_TRUE(test, wait_irr(a, 0x52));
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_tsc_deadline(a), 0ull);
	/* One second ahead stays armed; leaving the mode disarms it. */
	hvk_lapic_set_tsc_deadline(a, 1000 + 1000000000ULL);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_tsc_deadline(a),
			1000 + 1000000000ULL);
	KUNIT_EXPECT_TRUE(test, a->timer_armed);
	lapic_wr(a, HVK_APIC_LVTT, 0x52);
	KUNIT_EXPECT_FALSE(test, a->timer_armed);
	lapic_wr(a, HVK_APIC_LVTT, HVK_APIC_LVTT_TSC_DEADLINE | 0x52);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_tsc_deadline(a), 0ull);
	hvk_lapic_set_features(a, 52, false, false, false, 0);
	val = hvk_lapic_get_tsc_deadline(a);
	KUNIT_EXPECT_EQ(test, val, 0ull);
}

/* ---- INIT, SIPI, state ---- */

static void lapic_init_sipi(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 2, true);
	struct hvk_lapic *bsp = vm->apic[0], *ap = vm->apic[1];
	u32 mp = KVM_MP_STATE_RUNNABLE;
	u8 vector = 0;

	/* INIT level de-assert (level trigger, not asserted): ignored. */
	lapic_wr(bsp, HVK_APIC_ICR2, 1 << 24);
	lapic_wr(bsp, HVK_APIC_ICR, 0x8500);
	KUNIT_EXPECT_FALSE(test, hvk_lapic_has_events(ap));
	/* INIT assert, then a SIPI with vector 9. */
	lapic_wr(bsp, HVK_APIC_ICR, 0xc500);
	KUNIT_EXPECT_EQ(test, lapic_rd(bsp, HVK_APIC_ICR), 0xc500u);
	KUNIT_EXPECT_TRUE(test, hvk_lapic_has_events(ap));
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept_events(ap, false, &mp, &vector),
			(unsigned int)HVK_EVENT_INIT);
	KUNIT_EXPECT_EQ(test, mp, (u32)KVM_MP_STATE_INIT_RECEIVED);
	hvk_lapic_reset(ap, true);
	lapic_wr(bsp, HVK_APIC_ICR, 0x4609);
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept_events(ap, false, &mp, &vector),
			(unsigned int)HVK_EVENT_SIPI);
	KUNIT_EXPECT_EQ(test, mp, (u32)KVM_MP_STATE_RUNNABLE);
	KUNIT_EXPECT_EQ(test, vector, 9);
	/* A SIPI to a running processor is dropped. */
	lapic_wr(bsp, HVK_APIC_ICR, 0x460a);
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept_events(ap, false, &mp, &vector),
			0u);
	KUNIT_EXPECT_EQ(test, vector, 9);
	/* INIT and SIPI together, as a fast sender leaves them. */
	lapic_wr(bsp, HVK_APIC_ICR, 0xc500);
	lapic_wr(bsp, HVK_APIC_ICR, 0x460b);
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept_events(ap, false, &mp, &vector),
			(unsigned int)(HVK_EVENT_INIT | HVK_EVENT_SIPI));
	KUNIT_EXPECT_EQ(test, vector, 0xb);
	/* The BSP runs on after INIT. */
	lapic_wr(ap, HVK_APIC_ICR2, 0);
	lapic_wr(ap, HVK_APIC_ICR, 0xc500);
	mp = KVM_MP_STATE_HALTED;
	KUNIT_EXPECT_EQ(test, hvk_lapic_accept_events(bsp, true, &mp, &vector),
			(unsigned int)HVK_EVENT_INIT);
	KUNIT_EXPECT_EQ(test, mp, (u32)KVM_MP_STATE_RUNNABLE);
	/* INIT keeps the ID and base, resets the rest (11.4.7.3). */
	lapic_wr(ap, HVK_APIC_TPR, 0x30);
	hvk_lapic_reset(ap, true);
	KUNIT_EXPECT_EQ(test, lapic_rd(ap, HVK_APIC_TPR), 0u);
	KUNIT_EXPECT_EQ(test, lapic_rd(ap, HVK_APIC_ID), 1u << 24);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_base(ap), B_X);
	KUNIT_EXPECT_EQ(test, hvk_lapic_get_base(bsp), B_X | HVK_APIC_BASE_BSP);
}

static void lapic_state_roundtrip(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 4, true);
	struct hvk_lapic *a = vm->apic[2], *b = vm->apic[3];
	struct kvm_lapic_state *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u32 *regs = (u32 *)s->regs;
	u64 val;

	KUNIT_ASSERT_NOT_NULL(test, s);
	lapic_wr(a, HVK_APIC_TPR, 0x20);
	lapic_wr(a, HVK_APIC_LVT_LINT0, 0x700);
	lapic_fixed(a, 0x61, true);
	lapic_wr(a, HVK_APIC_TDCR, 0xb);
	lapic_wr(a, HVK_APIC_TMICT, 1000000000);
	hvk_lapic_get_state(a, s, 0);
	KUNIT_EXPECT_EQ(test, regs[HVK_APIC_ID >> 2], 2u << 24);
	KUNIT_EXPECT_EQ(test, regs[HVK_APIC_TPR >> 2], 0x20u);
	KUNIT_EXPECT_GT(test, regs[HVK_APIC_TMCCT >> 2], 0u);
	KUNIT_EXPECT_EQ(test, regs[(HVK_APIC_IRR + 0x30) >> 2], BIT(1));
	KUNIT_EXPECT_EQ(test, regs[(HVK_APIC_TMR + 0x30) >> 2], BIT(1));

	/* Onto another vCPU's APIC: the registers, with the timer running. */
	regs[HVK_APIC_ID >> 2] = 3u << 24;
	KUNIT_EXPECT_EQ(test, hvk_lapic_set_state(b, s, 0), 0);
	KUNIT_EXPECT_EQ(test, lapic_rd(b, HVK_APIC_PPR), 0x20u);
	KUNIT_EXPECT_EQ(test, lapic_rd(b, HVK_APIC_LVT_LINT0), 0x700u);
	KUNIT_EXPECT_TRUE(test, lapic_vec(b, HVK_APIC_TMR, 0x61));
	KUNIT_EXPECT_EQ(test, hvk_lapic_pending_vector(b), 0x61);
	KUNIT_EXPECT_GT(test, lapic_rd(b, HVK_APIC_TMCCT), 900000000u);
	KUNIT_EXPECT_TRUE(test, b->timer_armed);

	/* x2APIC: KVM's two conventions for the ID in the state. */
	hvk_lapic_set_features(b, 52, true, false, false, 0);
	KUNIT_ASSERT_EQ(test, hvk_lapic_set_base(b, B_X2, false), 0);
	hvk_lapic_get_state(b, s, 0);
	KUNIT_EXPECT_EQ(test, regs[HVK_APIC_ID >> 2], 3u << 24);
	hvk_lapic_get_state(b, s, KVM_X2APIC_API_USE_32BIT_IDS);
	KUNIT_EXPECT_EQ(test, regs[HVK_APIC_ID >> 2], 3u);
	KUNIT_EXPECT_EQ(test, regs[HVK_APIC_LDR >> 2], 0x8u);
	regs[HVK_APIC_ID >> 2] = 7;
	KUNIT_EXPECT_EQ(test,
			hvk_lapic_set_state(b, s, KVM_X2APIC_API_USE_32BIT_IDS),
			-EINVAL);
	/* Without the 32-bit format, a wrong ID is ignored. */
	regs[HVK_APIC_LDR >> 2] = 0x1234;
	KUNIT_EXPECT_EQ(test, hvk_lapic_set_state(b, s, 0), 0);
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(b, 0x802, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 3ull);
	KUNIT_EXPECT_EQ(test, hvk_lapic_x2apic_read(b, 0x80d, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0x8ull);
}

static struct kunit_case lapic_test_cases[] = {
	KUNIT_CASE(lapic_ppr_rule),
	KUNIT_CASE(lapic_pending_vs_ppr),
	KUNIT_CASE(lapic_ack_eoi_order),
	KUNIT_CASE(lapic_level_eoi_broadcast),
	KUNIT_CASE(lapic_esr),
	KUNIT_CASE(lapic_svr_disable),
	KUNIT_CASE(lapic_x2apic_msr_gp),
	KUNIT_CASE_PARAM(lapic_base_transitions, base_gen_params),
	KUNIT_CASE(lapic_disable_resets),
	KUNIT_CASE(lapic_mmio_access),
	KUNIT_CASE(lapic_timer_math),
	KUNIT_CASE(lapic_timer_oneshot),
	KUNIT_CASE(lapic_timer_periodic),
	KUNIT_CASE(lapic_timer_tsc_deadline),
	KUNIT_CASE(lapic_init_sipi),
	KUNIT_CASE(lapic_state_roundtrip),
	{}
};

static struct kunit_suite lapic_test_suite = {
	.name = "hvk_lapic",
	.exit = test_vm_exit,
	.test_cases = lapic_test_cases,
};

/* ---- delivery ---- */

struct dest_case {
	const char *name;
	bool x2apic;		/* target in x2APIC mode */
	u32 id;			/* vCPU id; xAPIC ID */
	u8 ldr;			/* xAPIC LDR[31:24] */
	bool cluster;		/* xAPIC DFR cluster model */
	struct hvk_irq_msg msg;
	bool ipi;		/* sent by a LAPIC */
	u64 api;
	bool match;
};

#define PHYS(d)		{ .dest = (d) }
#define LOG(d)		{ .dest = (d), .logical = true }
#define PHYS32(d)	{ .dest = (d), .x2apic_dest = true }
#define LOG32(d)	{ .dest = (d), .logical = true, .x2apic_dest = true }

static const struct dest_case dest_cases[] = {
	{ "xapic phys hit", false, 3, 0, false, PHYS(3), false, 0, true },
	{ "xapic phys miss", false, 3, 0, false, PHYS(4), false, 0, false },
	{ "xapic phys broadcast", false, 3, 0, false, PHYS(0xff), false, 0, true },
	{ "xapic flat hit", false, 3, 0x04, false, LOG(0x04), false, 0, true },
	{ "xapic flat multi", false, 3, 0x04, false, LOG(0x06), false, 0, true },
	{ "xapic flat miss", false, 3, 0x04, false, LOG(0x01), false, 0, false },
	{ "xapic flat broadcast", false, 3, 0, false, LOG(0xff), false, 0, true },
	{ "xapic cluster hit", false, 3, 0x21, true, LOG(0x21), false, 0, true },
	{ "xapic cluster multi", false, 3, 0x21, true, LOG(0x23), false, 0, true },
	{ "xapic cluster other", false, 3, 0x21, true, LOG(0x11), false, 0, false },
	{ "xapic cluster bit", false, 3, 0x21, true, LOG(0x22), false, 0, false },
	{ "xapic cluster broadcast", false, 3, 0x21, true, LOG(0xff), false, 0,
	  true },
	{ "xapic from x2apic ipi", false, 3, 0, false, PHYS32(3), true, 0, true },
	{ "xapic wide miss", false, 3, 0, false, PHYS32(0x103), true, 0, false },
	{ "xapic x2 broadcast", false, 3, 0, false, PHYS32(0xffffffff), true, 0,
	  true },
	{ "x2apic phys hit", true, 0x13, 0, false, PHYS32(0x13), true, 0, true },
	{ "x2apic phys miss", true, 0x13, 0, false, PHYS32(0x14), true, 0, false },
	{ "x2apic broadcast", true, 0x13, 0, false, PHYS32(0xffffffff), true, 0,
	  true },
	{ "x2apic ioapic 0xff quirk", true, 0x13, 0, false, PHYS(0xff), false, 0,
	  true },
	{ "x2apic ioapic 0xff no quirk", true, 0x13, 0, false, PHYS(0xff), false,
	  KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK, false },
	{ "x2apic ipi 0xff", true, 0x13, 0, false, PHYS32(0xff), true, 0, false },
	{ "x2apic cluster hit", true, 0x13, 0, false, LOG32(0x10008), true, 0,
	  true },
	{ "x2apic cluster multi", true, 0x13, 0, false, LOG32(0x1000c), true, 0,
	  true },
	{ "x2apic cluster other", true, 0x13, 0, false, LOG32(0x20008), true, 0,
	  false },
	{ "x2apic cluster bit", true, 0x13, 0, false, LOG32(0x10004), true, 0,
	  false },
	{ "x2apic cluster 0", true, 0x2, 0, false, LOG32(0x4), true, 0, true },
};

static void dest_case_desc(const struct dest_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(dest, dest_cases, dest_case_desc);

static void deliver_match(struct kunit *test)
{
	const struct dest_case *c = test->param_value;
	struct hvk_lapic *a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	struct hvk_irq_msg msg = c->msg;
	struct hvk_irq_dest_ctx ctx;

	KUNIT_ASSERT_NOT_NULL(test, a);
	hvk_irq_dest_init(&ctx);
	hvk_lapic_init(a, c->id, &test_lapic_ops, NULL, &ctx);
	if (c->x2apic) {
		hvk_lapic_set_features(a, 52, true, false, false, 0);
		KUNIT_ASSERT_EQ(test, hvk_lapic_set_base(a, B_X2, false), 0);
	} else {
		lapic_wr(a, HVK_APIC_LDR, c->ldr << 24);
		lapic_wr(a, HVK_APIC_DFR, c->cluster ? 0x0fffffff : 0xffffffff);
	}
	msg.src = c->ipi ? a : NULL;
	KUNIT_EXPECT_EQ(test, hvk_lapic_match_dest(a, &msg, c->api), c->match);
	hvk_lapic_destroy(a);
}

static void deliver_shorthands(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 4, true);
	struct hvk_lapic *src = vm->apic[1];
	struct hvk_irq_msg m = { .src = src, .assert = true, .dest = 0 };
	unsigned int i;

	m.shorthand = HVK_SH_SELF;
	m.vector = 0x31;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	m.shorthand = HVK_SH_ALL;
	m.vector = 0x32;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 4);
	m.shorthand = HVK_SH_OTHERS;
	m.vector = 0x33;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 3);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, lapic_vec(vm->apic[i], HVK_APIC_IRR, 0x31),
				i == 1);
		KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[i], HVK_APIC_IRR, 0x32));
		KUNIT_EXPECT_EQ(test, lapic_vec(vm->apic[i], HVK_APIC_IRR, 0x33),
				i != 1);
		KUNIT_EXPECT_GE(test, atomic_read(&vm->kicks[i]), 1);
	}
	/* Through the ICR: all-but-self NMI. */
	lapic_wr(src, HVK_APIC_ICR, (HVK_SH_OTHERS << 18) | 0x400);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, hvk_lapic_take_nmi(vm->apic[i]), i != 1);
}

static void deliver_broadcast_and_status(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 4, true);
	struct hvk_irq_msg m = { .dest = 0xff, .vector = 0x44, .assert = true };

	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 4);
	/* Everyone has it already: coalesced. */
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 0);
	/* Nobody there. */
	m.dest = 9;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), -1);
	/* SMI is not modelled. */
	m.dest = 0xff;
	m.delivery_mode = HVK_DM_SMI;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), -1);
	/* A disabled APIC is nobody's destination. */
	KUNIT_ASSERT_EQ(test, hvk_lapic_set_base(vm->apic[3], B_OFF, false), 0);
	m.delivery_mode = HVK_DM_FIXED;
	m.vector = 0x45;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 3);
	m.dest = 3;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), -1);
	/* Physical IPI through ICR to APIC 2. */
	lapic_wr(vm->apic[0], HVK_APIC_ICR2, 2 << 24);
	lapic_wr(vm->apic[0], HVK_APIC_ICR, 0x4046);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[2], HVK_APIC_IRR, 0x46));
	KUNIT_EXPECT_FALSE(test, lapic_vec(vm->apic[1], HVK_APIC_IRR, 0x46));
	KUNIT_EXPECT_FALSE(test, lapic_vec(vm->apic[2], HVK_APIC_TMR, 0x46));
}

static void deliver_lowest_priority(struct kunit *test)
{
	static const u8 tpr[] = { 0x20, 0x10, 0x10, 0x30 };
	struct test_vm *vm = test_vm_create(test, 4, true);
	struct hvk_irq_msg m = {
		.dest = 0x0f, .logical = true, .vector = 0x50,
		.delivery_mode = HVK_DM_LOWEST, .assert = true,
	};
	unsigned int i;

	for (i = 0; i < 4; i++) {
		lapic_wr(vm->apic[i], HVK_APIC_LDR, BIT(i) << 24);
		lapic_wr(vm->apic[i], HVK_APIC_TPR, tpr[i]);
	}
	/* APICs 1 and 2 tie at the lowest priority: the lower ID wins. */
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[1], HVK_APIC_IRR, 0x50));
	KUNIT_EXPECT_FALSE(test, lapic_vec(vm->apic[2], HVK_APIC_IRR, 0x50));
	lapic_wr(vm->apic[1], HVK_APIC_TPR, 0x40);
	m.vector = 0x51;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[2], HVK_APIC_IRR, 0x51));
	/* Only among the destinations: APICs 0 and 3. */
	m.dest = 0x09;
	m.vector = 0x52;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[0], HVK_APIC_IRR, 0x52));
	/* A software-disabled APIC loses to any enabled one. */
	lapic_wr(vm->apic[0], HVK_APIC_SVR, 0xff);
	m.vector = 0x53;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[3], HVK_APIC_IRR, 0x53));
	/* An MSI with the redirection hint arbitrates the same way. */
	m.delivery_mode = HVK_DM_FIXED;
	m.redir_hint = true;
	m.dest = 0x0f;
	m.vector = 0x54;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[2], HVK_APIC_IRR, 0x54));
	m.dest = 0;
	KUNIT_EXPECT_EQ(test, hvk_irq_deliver(&vm->ctx, &m), -1);
}

struct msi_case {
	const char *name;
	u32 lo, hi, data;
	u64 api;
	bool ok;
	u32 dest;
	u8 vector, dm;
	bool logical, level, rh;
};

static const struct msi_case msi_cases[] = {
	{ "fixed edge", 0xfee01000, 0, 0x4031, 0, true, 1, 0x31, 0, false,
	  false, false },
	{ "lowest logical hint", 0xfee0300c, 0, 0x0141, 0, true, 3, 0x41, 1,
	  true, false, true },
	{ "level", 0xfee00000, 0, 0xc022, 0, true, 0, 0x22, 0, false, true,
	  false },
	{ "nmi", 0xfeeff000, 0, 0x0400, 0, true, 0xff, 0, 4, false, false,
	  false },
	{ "not the apic window", 0xfed01000, 0, 0x31, 0, false },
	{ "wide id", 0xfee05000, 0x100, 0x31, KVM_X2APIC_API_USE_32BIT_IDS,
	  true, 0x105, 0x31, 0, false, false, false },
	{ "high ignored", 0xfee05000, 0x100, 0x31, 0, true, 0x5, 0x31, 0, false,
	  false, false },
	{ "wide low bits", 0xfee05000, 0x1, 0x31, KVM_X2APIC_API_USE_32BIT_IDS,
	  false },
};

static void msi_case_desc(const struct msi_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(msi, msi_cases, msi_case_desc);

static void deliver_msi_decode(struct kunit *test)
{
	const struct msi_case *c = test->param_value;
	struct hvk_irq_msg m;

	KUNIT_ASSERT_EQ(test, hvk_msi_decode(c->lo, c->hi, c->data, c->api, &m),
			c->ok);
	if (!c->ok)
		return;
	KUNIT_EXPECT_EQ(test, m.dest, c->dest);
	KUNIT_EXPECT_EQ(test, m.vector, c->vector);
	KUNIT_EXPECT_EQ(test, m.delivery_mode, c->dm);
	KUNIT_EXPECT_EQ(test, m.logical, c->logical);
	KUNIT_EXPECT_EQ(test, m.level, c->level);
	KUNIT_EXPECT_EQ(test, m.redir_hint, c->rh);
	KUNIT_EXPECT_TRUE(test, m.assert);
	KUNIT_EXPECT_EQ(test, m.shorthand, HVK_SH_NONE);
	KUNIT_EXPECT_NULL(test, m.src);
}

static struct kunit_case deliver_test_cases[] = {
	KUNIT_CASE_PARAM(deliver_match, dest_gen_params),
	KUNIT_CASE(deliver_shorthands),
	KUNIT_CASE(deliver_broadcast_and_status),
	KUNIT_CASE(deliver_lowest_priority),
	KUNIT_CASE_PARAM(deliver_msi_decode, msi_gen_params),
	{}
};

static struct kunit_suite deliver_test_suite = {
	.name = "hvk_irq_deliver",
	.exit = test_vm_exit,
	.test_cases = deliver_test_cases,
};

kunit_test_suites(&lapic_test_suite, &deliver_test_suite);
