// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: GSI routing (module/irq/route.c): KVM's default table, the checks
 * of KVM_SET_GSI_ROUTING, and the fan-out of a GSI to the PICs, the IOAPIC
 * and MSIs, with real device models behind it.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "../irq/route.c"
#include "irq_test.h"

#define CHIP(g, c, p)	{ .gsi = (g), .type = KVM_IRQ_ROUTING_IRQCHIP, \
			  .u.irqchip = { .irqchip = (c), .pin = (p) } }
#define MSI(g, lo, d)	{ .gsi = (g), .type = KVM_IRQ_ROUTING_MSI, \
			  .u.msi = { .address_lo = (lo), .data = (d) } }

static void route_default_table(struct kunit *test)
{
	struct hvk_irq_routing *t;
	u32 gsi;

	KUNIT_ASSERT_EQ(test, hvk_irq_routing_default(&t), 0);
	KUNIT_EXPECT_EQ(test, t->nr, 40u);
	KUNIT_EXPECT_EQ(test, t->nr_gsi, 24u);
	for (gsi = 0; gsi < 24; gsi++) {
		u32 i, n = t->first[gsi + 1] - t->first[gsi];
		bool pic = false, ioapic = false;

		KUNIT_EXPECT_EQ_MSG(test, n, gsi < 16 ? 2u : 1u, "GSI %u", gsi);
		for (i = t->first[gsi]; i < t->first[gsi + 1]; i++) {
			const struct hvk_irq_route *r = &t->routes[i];

			KUNIT_EXPECT_EQ(test, r->gsi, gsi);
			if (r->irqchip.chip == KVM_IRQCHIP_IOAPIC) {
				ioapic = true;
				KUNIT_EXPECT_EQ(test, r->irqchip.pin, gsi);
			} else {
				pic = true;
				KUNIT_EXPECT_EQ(test, r->irqchip.chip,
						gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
							  KVM_IRQCHIP_PIC_SLAVE);
				KUNIT_EXPECT_EQ(test, r->irqchip.pin, gsi % 8);
			}
		}
		KUNIT_EXPECT_TRUE(test, ioapic);
		KUNIT_EXPECT_EQ(test, pic, gsi < 16);
	}
	hvk_irq_routing_free(t);
}

struct build_case {
	const char *name;
	struct kvm_irq_routing_entry e[3];
	u32 nr;
	int ret;
};

static const struct build_case build_cases[] = {
	{ "empty", {}, 0, 0 },
	{ "pic and ioapic", { CHIP(3, 0, 3), CHIP(3, 2, 3) }, 2, 0 },
	{ "all three chips", { CHIP(9, 2, 9), CHIP(9, 1, 1), CHIP(9, 0, 7) },
	  3, 0 },
	{ "pic pin 8", { CHIP(3, 0, 8) }, 1, -EINVAL },
	{ "slave pin 7", { CHIP(15, 1, 7) }, 1, 0 },
	{ "ioapic pin 24", { CHIP(3, 2, 24) }, 1, -EINVAL },
	{ "chip 3", { CHIP(3, 3, 0) }, 1, -EINVAL },
	{ "gsi 4095", { MSI(4095, 0xfee00000, 0x30) }, 1, 0 },
	{ "gsi 4096", { MSI(4096, 0xfee00000, 0x30) }, 1, -EINVAL },
	{ "flags", { { .gsi = 1, .type = KVM_IRQ_ROUTING_MSI, .flags = 1 } },
	  1, -EINVAL },
	{ "s390 adapter", { { .gsi = 1, .type = 3 } }, 1, -EINVAL },
	{ "same chip twice", { CHIP(3, 2, 3), CHIP(3, 2, 4) }, 2, -EINVAL },
	{ "msi with a pin", { CHIP(5, 2, 5), MSI(5, 0xfee00000, 0x30) }, 2,
	  -EINVAL },
	{ "two msis", { MSI(5, 0xfee00000, 0x30), MSI(5, 0xfee00000, 0x31) },
	  2, -EINVAL },
	{ "gsis apart", { MSI(7, 0xfee00000, 0x30), CHIP(2, 2, 2),
	  MSI(100, 0xfee00000, 0x31) }, 3, 0 },
};

static void build_case_desc(const struct build_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(build, build_cases, build_case_desc);

static void route_build_checks(struct kunit *test)
{
	const struct build_case *c = test->param_value;
	struct hvk_irq_routing *t = NULL;
	u32 i, gsi;

	KUNIT_ASSERT_EQ(test, hvk_irq_routing_build(c->e, c->nr, &t), c->ret);
	if (c->ret)
		return;
	/* Every entry is found under its GSI. */
	for (i = 0; i < c->nr; i++) {
		bool found = false;
		u32 j;

		gsi = c->e[i].gsi;
		KUNIT_ASSERT_LT(test, gsi, t->nr_gsi);
		for (j = t->first[gsi]; j < t->first[gsi + 1]; j++)
			found |= t->routes[j].gsi == gsi &&
				 t->routes[j].type == c->e[i].type;
		KUNIT_EXPECT_TRUE_MSG(test, found, "entry %u", i);
	}
	KUNIT_EXPECT_EQ(test, t->first[t->nr_gsi], t->nr);
	hvk_irq_routing_free(t);
}

static struct hvk_irqchip *chip_create(struct kunit *test, struct test_vm *vm)
{
	struct hvk_irqchip *chip = kunit_kzalloc(test, sizeof(*chip),
						 GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, chip);
	KUNIT_ASSERT_EQ(test, hvk_irqchip_init(chip, NULL, NULL), 0);
	for (i = 0; i < vm->nr; i++)
		KUNIT_ASSERT_EQ(test, hvk_irq_dest_add(&chip->dest, vm->apic[i]),
				0);
	vm->ioapic = &chip->ioapic;
	/* The PICs as Linux leaves them, all lines unmasked. */
	hvk_pic_port_write(&chip->pic, 0x20, 0x11);
	hvk_pic_port_write(&chip->pic, 0x21, 0x30);
	hvk_pic_port_write(&chip->pic, 0x21, 0x04);
	hvk_pic_port_write(&chip->pic, 0x21, 0x01);
	hvk_pic_port_write(&chip->pic, 0xa0, 0x11);
	hvk_pic_port_write(&chip->pic, 0xa1, 0x38);
	hvk_pic_port_write(&chip->pic, 0xa1, 0x02);
	hvk_pic_port_write(&chip->pic, 0xa1, 0x01);
	return chip;
}

static void ioapic_route(struct hvk_ioapic *io, unsigned int pin, u64 rte)
{
	u32 sel = 0x10 + 2 * pin, lo = rte, hi = rte >> 32;

	hvk_ioapic_mmio_write(io, 0x00, 4, &sel);
	hvk_ioapic_mmio_write(io, 0x10, 4, &lo);
	sel++;
	hvk_ioapic_mmio_write(io, 0x00, 4, &sel);
	hvk_ioapic_mmio_write(io, 0x10, 4, &hi);
}

static void route_fanout(struct kunit *test)
{
	struct test_vm *vm = test_vm_create(test, 2, true);
	struct hvk_irqchip *chip = chip_create(test, vm);

	/* GSI 4: the PIC takes it, the IOAPIC pin is masked. */
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 4, true), 1);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(&chip->pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(&chip->pic), 0x34);
	KUNIT_EXPECT_EQ(test, chip->ioapic.irr, BIT(4));
	hvk_irqchip_set_irq(chip, 4, false);
	/* Both take it: 2. */
	ioapic_route(&chip->ioapic, 4, (1ULL << 56) | 0x54);
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 4, true), 2);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[1], HVK_APIC_IRR, 0x54));
	/* GSI 20: the IOAPIC alone, level-triggered, EOI through the chip. */
	ioapic_route(&chip->ioapic, 20, HVK_IOAPIC_RTE_LEVEL | 0x64);
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 20, true), 1);
	KUNIT_EXPECT_EQ(test, hvk_lapic_ack(vm->apic[0]), 0x64);
	hvk_irqchip_set_irq(chip, 20, false);
	lapic_wr(vm->apic[0], HVK_APIC_EOI, 0);
	KUNIT_EXPECT_EQ(test, vm->eois, 1u);
	KUNIT_EXPECT_FALSE(test, chip->ioapic.redirtbl[20] &
			   HVK_IOAPIC_RTE_REMOTE_IRR);
	/* Nothing routed. */
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 24, true), -1);
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 5000, true), -1);
	vm->ioapic = NULL;
	hvk_irqchip_destroy(chip);
}

static void route_msi_and_replace(struct kunit *test)
{
	static const struct kvm_irq_routing_entry e[] = {
		MSI(40, 0xfee01000, 0x45),
		CHIP(41, KVM_IRQCHIP_PIC_SLAVE, 3),
		MSI(42, 0xfed00000, 0x46),
	};
	struct test_vm *vm = test_vm_create(test, 2, true);
	struct hvk_irqchip *chip = chip_create(test, vm);
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x47 };
	struct hvk_irq_routing *t;

	KUNIT_ASSERT_EQ(test, hvk_irq_routing_build(e, ARRAY_SIZE(e), &t), 0);
	hvk_irqchip_set_routing(chip, t);
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 40, true), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[1], HVK_APIC_IRR, 0x45));
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 40, true), 0);
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 40, false), -1);
	/* A GSI to slave pin 3 is IRQ 11. */
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 41, true), 1);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(&chip->pic), 0x3b);
	/* An MSI outside the APIC window goes nowhere. */
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 42, true), -1);
	/* The default routes are gone. */
	KUNIT_EXPECT_EQ(test, hvk_irqchip_set_irq(chip, 4, true), -1);

	KUNIT_EXPECT_EQ(test, hvk_irqchip_signal_msi(chip, &msi), 1);
	KUNIT_EXPECT_TRUE(test, lapic_vec(vm->apic[0], HVK_APIC_IRR, 0x47));
	msi.flags = KVM_MSI_VALID_DEVID;
	KUNIT_EXPECT_EQ(test, hvk_irqchip_signal_msi(chip, &msi), -EINVAL);
	msi.flags = 0;
	msi.address_lo = 0xfee09000;
	KUNIT_EXPECT_EQ(test, hvk_irqchip_signal_msi(chip, &msi), -1);
	/* With 32-bit x2APIC IDs, address_hi[7:0] must be 0. */
	chip->dest.x2apic_api = KVM_X2APIC_API_USE_32BIT_IDS;
	msi.address_lo = 0xfee00000;
	msi.address_hi = 1;
	KUNIT_EXPECT_EQ(test, hvk_irqchip_signal_msi(chip, &msi), -1);
	vm->ioapic = NULL;
	hvk_irqchip_destroy(chip);
}

static struct kunit_case route_test_cases[] = {
	KUNIT_CASE(route_default_table),
	KUNIT_CASE_PARAM(route_build_checks, build_gen_params),
	KUNIT_CASE(route_fanout),
	KUNIT_CASE(route_msi_and_replace),
	{}
};

static struct kunit_suite route_test_suite = {
	.name = "hvk_irq_route",
	.exit = test_vm_exit,
	.test_cases = route_test_cases,
};

kunit_test_suite(route_test_suite);
