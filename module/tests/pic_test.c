// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the 8259A pair (module/irq/pic.c), programmed through its ports
 * as Linux and SeaBIOS program it.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "../irq/pic.c"

static void pic_count_kick(struct hvk_pic *pic)
{
	(*(unsigned int *)pic->owner)++;
}

struct pic_env {
	struct hvk_pic *pic;
	unsigned int *kicks;
};

static struct pic_env pic_env(struct kunit *test)
{
	struct pic_env e;

	e.pic = kunit_kzalloc(test, sizeof(*e.pic), GFP_KERNEL);
	e.kicks = kunit_kzalloc(test, sizeof(*e.kicks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e.pic);
	KUNIT_ASSERT_NOT_NULL(test, e.kicks);
	hvk_pic_init(e.pic, pic_count_kick, e.kicks);
	return e;
}

static void out(struct hvk_pic *pic, u16 port, u8 val)
{
	hvk_pic_port_write(pic, port, val);
}

static u8 in(struct hvk_pic *pic, u16 port)
{
	u8 val = 0;

	hvk_pic_port_read(pic, port, &val);
	return val;
}

/* arch/x86/kernel/i8259.c, init_8259A(): vectors 0x30 and 0x38. */
static void linux_init(struct hvk_pic *pic, bool auto_eoi)
{
	out(pic, 0x21, 0xff);
	out(pic, 0xa1, 0xff);
	out(pic, 0x20, 0x11);
	out(pic, 0x21, 0x30);
	out(pic, 0x21, 0x04);
	out(pic, 0x21, auto_eoi ? 0x03 : 0x01);
	out(pic, 0xa0, 0x11);
	out(pic, 0xa1, 0x38);
	out(pic, 0xa1, 0x02);
	out(pic, 0xa1, 0x01);
	/* All lines unmasked, for the tests. */
	out(pic, 0x21, 0x00);
	out(pic, 0xa1, 0x00);
}

static u8 isr(struct hvk_pic *pic, u16 cmd)
{
	u8 v;

	out(pic, cmd, 0x0b);
	v = in(pic, cmd);
	out(pic, cmd, 0x0a);
	return v;
}

static void pic_init_sequences(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct kvm_pic_state m, s;

	linux_init(e.pic, false);
	hvk_pic_get_state(e.pic, KVM_IRQCHIP_PIC_MASTER, &m);
	hvk_pic_get_state(e.pic, KVM_IRQCHIP_PIC_SLAVE, &s);
	KUNIT_EXPECT_EQ(test, m.irq_base, 0x30);
	KUNIT_EXPECT_EQ(test, s.irq_base, 0x38);
	KUNIT_EXPECT_EQ(test, m.init_state, 0);
	KUNIT_EXPECT_EQ(test, s.init_state, 0);
	KUNIT_EXPECT_EQ(test, m.init4, 1);
	KUNIT_EXPECT_EQ(test, m.auto_eoi, 0);

	/* SeaBIOS, pic_reset(): both chips interleaved, vectors 8, 0x70. */
	out(e.pic, 0x20, 0x11);
	out(e.pic, 0xa0, 0x11);
	out(e.pic, 0x21, 0x08);
	out(e.pic, 0xa1, 0x70);
	out(e.pic, 0x21, 0x04);
	out(e.pic, 0xa1, 0x02);
	out(e.pic, 0x21, 0x01);
	out(e.pic, 0xa1, 0x01);
	out(e.pic, 0x21, 0xfb);
	out(e.pic, 0xa1, 0xff);
	hvk_pic_get_state(e.pic, KVM_IRQCHIP_PIC_MASTER, &m);
	hvk_pic_get_state(e.pic, KVM_IRQCHIP_PIC_SLAVE, &s);
	KUNIT_EXPECT_EQ(test, m.irq_base, 0x08);
	KUNIT_EXPECT_EQ(test, s.irq_base, 0x70);
	KUNIT_EXPECT_EQ(test, in(e.pic, 0x21), 0xfb);
	KUNIT_EXPECT_EQ(test, in(e.pic, 0xa1), 0xff);
	KUNIT_EXPECT_EQ(test, m.init_state, 0);
	/* Without ICW4 (ICW1 bit 0 clear) ICW3 ends the sequence. */
	out(e.pic, 0x20, 0x10);
	out(e.pic, 0x21, 0x20);
	out(e.pic, 0x21, 0x04);
	out(e.pic, 0x21, 0x5a);
	KUNIT_EXPECT_EQ(test, in(e.pic, 0x21), 0x5a);
	/* Not our ports. */
	KUNIT_EXPECT_FALSE(test, hvk_pic_port_write(e.pic, 0x22, 0));
}

static void pic_edge_and_eoi(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;

	linux_init(pic, false);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_set_irq(pic, 0, true), 1);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, *e.kicks, 1u);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x30);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x01);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	/* A new edge waits behind the one in service. */
	hvk_pic_set_irq(pic, 0, false);
	hvk_pic_set_irq(pic, 0, true);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, in(pic, 0x20), 0x01);	/* IRR */
	out(pic, 0x20, 0x20);				/* EOI */
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x30);
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0);
	/* The line held high gives no new edge. */
	KUNIT_EXPECT_EQ(test, hvk_pic_set_irq(pic, 0, true), 1);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	/* A masked line is requested, and comes through when unmasked. */
	out(pic, 0x21, 0x02);
	KUNIT_EXPECT_EQ(test, hvk_pic_set_irq(pic, 1, true), -1);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0x21, 0x00);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_set_irq(pic, 1, true), 0);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x31);
}

static void pic_priority(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;

	linux_init(pic, false);
	hvk_pic_set_irq(pic, 3, true);
	hvk_pic_set_irq(pic, 1, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x31);
	/* IRQ 3 is below IRQ 1 in service, IRQ 0 above it. */
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	hvk_pic_set_irq(pic, 0, true);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x30);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x03);
	/* Non-specific EOI retires the highest priority first. */
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x02);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x33);
	/* Specific EOI of IRQ 3. */
	out(pic, 0x20, 0x63);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0);
	/* Spurious: nothing requested at INTA gives IRQ 7, not in service. */
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x37);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0);
}

static void pic_rotation(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;
	struct kvm_pic_state m;

	linux_init(pic, false);
	/* Set priority: IRQ 4 lowest, so IRQ 5 highest. */
	out(pic, 0x20, 0xc4);
	hvk_pic_set_irq(pic, 3, true);
	hvk_pic_set_irq(pic, 6, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x36);
	/* Rotate on non-specific EOI: IRQ 6 becomes the lowest. */
	out(pic, 0x20, 0xa0);
	hvk_pic_get_state(pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_EQ(test, m.priority_add, 7);
	hvk_pic_set_irq(pic, 6, false);
	hvk_pic_set_irq(pic, 6, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x33);
	/* IRQ 6 (lowest) waits behind IRQ 3 until its EOI. */
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	/* Rotate on specific EOI of IRQ 3: IRQ 4 is now the highest. */
	out(pic, 0x20, 0xe3);
	hvk_pic_get_state(pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_EQ(test, m.priority_add, 4);
	hvk_pic_set_irq(pic, 5, true);
	hvk_pic_set_irq(pic, 4, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x34);
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x35);
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x36);
}

static void pic_auto_eoi(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;
	struct kvm_pic_state m;

	linux_init(pic, true);
	hvk_pic_set_irq(pic, 1, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x31);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0);
	/* Rotate in auto-EOI mode (OCW2 0x80). */
	out(pic, 0x20, 0x80);
	hvk_pic_set_irq(pic, 4, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x34);
	hvk_pic_get_state(pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_EQ(test, m.priority_add, 5);
	KUNIT_EXPECT_EQ(test, m.rotate_on_auto_eoi, 1);
	out(pic, 0x20, 0x00);
	hvk_pic_get_state(pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_EQ(test, m.rotate_on_auto_eoi, 0);
}

static void pic_cascade(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;

	linux_init(pic, false);
	hvk_pic_set_irq(pic, 10, true);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x3a);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x04);
	KUNIT_EXPECT_EQ(test, isr(pic, 0xa0), 0x04);
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	/* Two on the slave: the second follows both EOIs of the first. */
	hvk_pic_set_irq(pic, 12, true);
	hvk_pic_set_irq(pic, 9, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x39);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0xa0, 0x20);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x3c);
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	/* Masking the cascade line on the master holds every slave IRQ. */
	out(pic, 0x21, 0x04);
	hvk_pic_set_irq(pic, 14, true);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0x21, 0x00);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x3e);
}

static void pic_elcr_level(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;

	linux_init(pic, false);
	/* IRQ 0-2, 8 and 13 cannot be level-triggered. */
	out(pic, 0x4d0, 0xff);
	out(pic, 0x4d1, 0xff);
	KUNIT_EXPECT_EQ(test, in(pic, 0x4d0), 0xf8);
	KUNIT_EXPECT_EQ(test, in(pic, 0x4d1), 0xde);
	out(pic, 0x4d0, 0x08);
	out(pic, 0x4d1, 0x02);
	hvk_pic_set_irq(pic, 9, true);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x39);
	/* Still asserted after the EOIs: requested again. */
	out(pic, 0xa0, 0x20);
	out(pic, 0x20, 0x20);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	hvk_pic_set_irq(pic, 9, false);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	/* Deasserted between INTR and INTA: the spurious IRQ 7. */
	hvk_pic_set_irq(pic, 3, true);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	hvk_pic_set_irq(pic, 3, false);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x37);
	/* A level line still high survives ICW1. */
	hvk_pic_set_irq(pic, 3, true);
	out(pic, 0x20, 0x11);
	out(pic, 0x21, 0x30);
	out(pic, 0x21, 0x04);
	out(pic, 0x21, 0x01);
	KUNIT_EXPECT_EQ(test, in(pic, 0x4d0), 0x08);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
}

static void pic_poll_and_special_mask(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct hvk_pic *pic = e.pic;

	linux_init(pic, false);
	/* Poll with nothing pending. */
	out(pic, 0x20, 0x0c);
	KUNIT_EXPECT_EQ(test, in(pic, 0x20), 0);
	hvk_pic_set_irq(pic, 4, true);
	out(pic, 0x20, 0x0c);
	KUNIT_EXPECT_EQ(test, in(pic, 0x20), 0x84);
	/* The poll acknowledged it; the next read is the IRR again. */
	KUNIT_EXPECT_EQ(test, in(pic, 0x20), 0x00);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x10);
	/* Slave poll. */
	hvk_pic_set_irq(pic, 11, true);
	out(pic, 0xa0, 0x0c);
	KUNIT_EXPECT_EQ(test, in(pic, 0xa0), 0x83);

	/* Special mask mode: IRQ 4 in service and masked lets IRQ 6 in. */
	hvk_pic_set_irq(pic, 6, true);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(pic));
	out(pic, 0x21, 0x10);
	out(pic, 0x20, 0x68);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(pic));
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(pic), 0x36);
	out(pic, 0x20, 0x48);
	KUNIT_EXPECT_EQ(test, isr(pic, 0x20), 0x50);
}

static void pic_state(struct kunit *test)
{
	struct pic_env e = pic_env(test);
	struct kvm_pic_state m;

	linux_init(e.pic, false);
	hvk_pic_set_irq(e.pic, 5, true);
	hvk_pic_get_state(e.pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_EQ(test, m.irr, 0x20);
	KUNIT_EXPECT_EQ(test, m.last_irr, 0x20);
	KUNIT_EXPECT_EQ(test, m.elcr_mask, 0xf8);

	hvk_pic_init(e.pic, pic_count_kick, e.kicks);
	KUNIT_EXPECT_FALSE(test, hvk_pic_output(e.pic));
	m.elcr = 0xff;
	m.elcr_mask = 0xff;
	hvk_pic_set_state(e.pic, KVM_IRQCHIP_PIC_MASTER, &m);
	KUNIT_EXPECT_TRUE(test, hvk_pic_output(e.pic));
	KUNIT_EXPECT_EQ(test, in(e.pic, 0x4d0), 0xf8);
	KUNIT_EXPECT_EQ(test, hvk_pic_ack(e.pic), 0x35);
}

static struct kunit_case pic_test_cases[] = {
	KUNIT_CASE(pic_init_sequences),
	KUNIT_CASE(pic_edge_and_eoi),
	KUNIT_CASE(pic_priority),
	KUNIT_CASE(pic_rotation),
	KUNIT_CASE(pic_auto_eoi),
	KUNIT_CASE(pic_cascade),
	KUNIT_CASE(pic_elcr_level),
	KUNIT_CASE(pic_poll_and_special_mask),
	KUNIT_CASE(pic_state),
	{}
};

static struct kunit_suite pic_test_suite = {
	.name = "hvk_pic",
	.test_cases = pic_test_cases,
};

kunit_test_suite(pic_test_suite);
