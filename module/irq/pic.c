// SPDX-License-Identifier: GPL-2.0
/*
 * A pair of 8259A PICs (Intel 8259A datasheet) as the PC wires them: the
 * master at ports 0x20/0x21 takes IRQ 0-7 and the slave's output on IR2;
 * the slave at 0xa0/0xa1 takes IRQ 8-15.  The PIIX edge/level control
 * registers (ELCR) at 0x4d0/0x4d1 choose the trigger mode per line.  The
 * state of each chip is struct kvm_pic_state itself, so KVM_GET/SET_IRQCHIP
 * is a copy.  See irq.h.
 *
 * Fields of struct kvm_pic_state as used here: last_irr, the line levels
 * (for edge detection); irr, isr, imr; priority_add, the IRQ with the
 * lowest priority plus one (rotation); read_reg_select, OCW3 reads ISR
 * rather than IRR; init_state, the ICW expected next (0: initialized,
 * 1: ICW2, 2: ICW3, 3: ICW4).
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "irq.h"

#define MASTER		0
#define SLAVE		1
#define CASCADE_IRQ	2

/* IRQs 0-2 (timer, keyboard, cascade) and 8, 13 are edge only (PIIX). */
#define ELCR_MASK_MASTER	0xf8
#define ELCR_MASK_SLAVE		0xde

/*
 * Priority of the highest-priority IRQ in @mask, 0 (highest) to 7, with
 * the rotation of @c applied; 8 when @mask is empty.
 */
static unsigned int priority_of(const struct kvm_pic_state *c, u8 mask)
{
	unsigned int p;

	for (p = 0; p < 8; p++)
		if (mask & BIT((p + c->priority_add) & 7))
			return p;
	return 8;
}

/* The IRQ chip @c requests, or -1: one above everything in service. */
static int chip_request(const struct kvm_pic_state *c, bool master)
{
	unsigned int pending = priority_of(c, c->irr & ~c->imr), served;
	u8 in_service = c->isr;

	if (pending == 8)
		return -1;
	/* Special mask mode: masked IRQs in service do not block (OCW3). */
	if (c->special_mask)
		in_service &= ~c->imr;
	/*
	 * Special fully nested mode: the slave may interrupt again while one
	 * of its IRQs is in service on the master's IR2 (ICW4 bit 4).
	 */
	if (master && c->special_fully_nested_mode)
		in_service &= ~BIT(CASCADE_IRQ);
	served = priority_of(c, in_service);
	if (pending >= served)
		return -1;
	return (pending + c->priority_add) & 7;
}

/* Drive input @irq of chip @c; edge or level per ELCR. */
static void chip_set_line(struct kvm_pic_state *c, unsigned int irq, bool level)
{
	u8 bit = BIT(irq);

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->last_irr & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->last_irr |= bit;
	else
		c->last_irr &= ~bit;
}

/*
 * Propagate the slave's output to the master's IR2, then the master's to
 * INTR (lock held).  IR2 follows the slave's request as a level, so that
 * a request the slave still has after the master's EOI comes through.
 */
static void pic_update(struct hvk_pic *pic)
{
	struct kvm_pic_state *m = &pic->chip[MASTER];
	bool was = pic->output;

	if (chip_request(&pic->chip[SLAVE], false) >= 0)
		m->irr |= BIT(CASCADE_IRQ);
	else
		m->irr &= ~BIT(CASCADE_IRQ);
	pic->output = chip_request(m, true) >= 0;
	if (pic->output && !was && pic->kick)
		pic->kick(pic);
}

static void chip_reset(struct kvm_pic_state *c)
{
	u8 elcr = c->elcr, elcr_mask = c->elcr_mask;
	u8 asserted = c->last_irr & elcr;

	/*
	 * ICW1 clears everything but the trigger modes; level-triggered
	 * lines still asserted keep requesting.
	 */
	memset(c, 0, sizeof(*c));
	c->irr = asserted;
	c->last_irr = asserted;
	c->elcr = elcr;
	c->elcr_mask = elcr_mask;
}

void hvk_pic_init(struct hvk_pic *pic, void (*kick)(struct hvk_pic *pic),
		  void *owner)
{
	memset(pic, 0, sizeof(*pic));
	spin_lock_init(&pic->lock);
	pic->chip[MASTER].elcr_mask = ELCR_MASK_MASTER;
	pic->chip[SLAVE].elcr_mask = ELCR_MASK_SLAVE;
	pic->kick = kick;
	pic->owner = owner;
}

int hvk_pic_set_irq(struct hvk_pic *pic, unsigned int irq, bool level)
{
	struct kvm_pic_state *c;
	unsigned long flags;
	u8 bit;
	int ret;

	if (irq >= 16)
		return -1;
	c = &pic->chip[irq >> 3];
	bit = BIT(irq & 7);
	spin_lock_irqsave(&pic->lock, flags);
	ret = (c->irr & bit) ? 0 : 1;	/* already requested: coalesced */
	chip_set_line(c, irq & 7, level);
	if (c->imr & bit)
		ret = -1;
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return ret;
}

bool hvk_pic_output(struct hvk_pic *pic)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&pic->lock, flags);
	ret = pic->output;
	spin_unlock_irqrestore(&pic->lock, flags);
	return ret;
}

/* INTA on chip @c for @irq: into service (unless auto-EOI). */
static void chip_ack(struct kvm_pic_state *c, unsigned int irq)
{
	u8 bit = BIT(irq);

	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
	/* A level-triggered request lasts as long as its line. */
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

u8 hvk_pic_ack(struct hvk_pic *pic)
{
	struct kvm_pic_state *m = &pic->chip[MASTER], *s = &pic->chip[SLAVE];
	unsigned long flags;
	int irq, irq2;
	u8 vector;

	spin_lock_irqsave(&pic->lock, flags);
	irq = chip_request(m, true);
	if (irq < 0) {
		/* Nothing left to take: the master's spurious IRQ 7. */
		vector = m->irq_base + 7;
	} else {
		chip_ack(m, irq);
		if (irq == CASCADE_IRQ) {
			irq2 = chip_request(s, false);
			if (irq2 >= 0)
				chip_ack(s, irq2);
			else
				irq2 = 7;	/* the slave's spurious IRQ 15 */
			vector = s->irq_base + irq2;
		} else {
			vector = m->irq_base + irq;
		}
	}
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return vector;
}

/* OCW2 (command port, bits 4:3 = 00). */
static void chip_ocw2(struct kvm_pic_state *c, u8 val)
{
	unsigned int irq, p;

	switch (val >> 5) {
	case 0:		/* clear rotate in auto-EOI mode */
	case 4:		/* set rotate in auto-EOI mode */
		c->rotate_on_auto_eoi = val >> 7;
		break;
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		p = priority_of(c, c->isr);
		if (p == 8)
			break;
		irq = (p + c->priority_add) & 7;
		c->isr &= ~BIT(irq);
		if (val >> 5 == 5)
			c->priority_add = (irq + 1) & 7;
		break;
	case 3:		/* specific EOI */
	case 7:		/* rotate on specific EOI */
		irq = val & 7;
		c->isr &= ~BIT(irq);
		if (val >> 5 == 7)
			c->priority_add = (irq + 1) & 7;
		break;
	case 6:		/* set priority: IRQ val & 7 becomes the lowest */
		c->priority_add = (val + 1) & 7;
		break;
	default:	/* 2: no operation */
		break;
	}
}

static void chip_write(struct kvm_pic_state *c, bool command, u8 val)
{
	if (command) {
		if (val & 0x10) {
			/* ICW1; edge/level (bit 3) comes from the ELCR. */
			chip_reset(c);
			c->init4 = val & 1;
			/* Single mode (bit 1) is not a PC's wiring. */
			c->init_state = 1;
		} else if (val & 0x08) {
			/* OCW3 */
			if (val & 0x04)
				c->poll = 1;
			if (val & 0x02)
				c->read_reg_select = val & 1;
			if (val & 0x40)
				c->special_mask = (val >> 5) & 1;
		} else {
			chip_ocw2(c, val);
		}
		return;
	}

	switch (c->init_state) {
	case 0:		/* OCW1 */
		c->imr = val;
		break;
	case 1:		/* ICW2: vector base, 8-aligned */
		c->irq_base = val & 0xf8;
		c->init_state = 2;
		break;
	case 2:		/* ICW3: cascade wiring, fixed on a PC */
		c->init_state = c->init4 ? 3 : 0;
		break;
	default:	/* ICW4 */
		c->special_fully_nested_mode = (val >> 4) & 1;
		c->auto_eoi = (val >> 1) & 1;
		c->init_state = 0;
		break;
	}
}

/* Poll command (OCW3 P=1): the next read acknowledges, like INTA. */
static u8 chip_poll(struct hvk_pic *pic, unsigned int which)
{
	struct kvm_pic_state *c = &pic->chip[which];
	int irq = chip_request(c, which == MASTER);

	c->poll = 0;
	if (irq < 0)
		return 0;
	chip_ack(c, irq);
	/* The slave's IRQ leaves the master's IR2 in service too. */
	if (which == SLAVE) {
		pic->chip[MASTER].isr &= ~BIT(CASCADE_IRQ);
		pic->chip[MASTER].irr &= ~BIT(CASCADE_IRQ);
	}
	return 0x80 | irq;
}

bool hvk_pic_port_read(struct hvk_pic *pic, u16 port, u8 *val)
{
	struct kvm_pic_state *c;
	unsigned long flags;
	unsigned int which;

	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1:
		break;
	case 0x4d0: case 0x4d1:
		spin_lock_irqsave(&pic->lock, flags);
		*val = pic->chip[port & 1].elcr;
		spin_unlock_irqrestore(&pic->lock, flags);
		return true;
	default:
		return false;
	}
	which = port >> 7;
	c = &pic->chip[which];
	spin_lock_irqsave(&pic->lock, flags);
	if (c->poll) {
		*val = chip_poll(pic, which);
		pic_update(pic);
	} else if (port & 1) {
		*val = c->imr;
	} else {
		*val = c->read_reg_select ? c->isr : c->irr;
	}
	spin_unlock_irqrestore(&pic->lock, flags);
	return true;
}

bool hvk_pic_port_write(struct hvk_pic *pic, u16 port, u8 val)
{
	struct kvm_pic_state *c;
	unsigned long flags;

	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1:
		c = &pic->chip[port >> 7];
		spin_lock_irqsave(&pic->lock, flags);
		chip_write(c, !(port & 1), val);
		break;
	case 0x4d0: case 0x4d1:
		c = &pic->chip[port & 1];
		spin_lock_irqsave(&pic->lock, flags);
		c->elcr = val & c->elcr_mask;
		break;
	default:
		return false;
	}
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return true;
}

void hvk_pic_get_state(struct hvk_pic *pic, int which, struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&pic->lock, flags);
	*s = pic->chip[which];
	spin_unlock_irqrestore(&pic->lock, flags);
}

void hvk_pic_set_state(struct hvk_pic *pic, int which,
		       const struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&pic->lock, flags);
	pic->chip[which] = *s;
	/* The trigger modes the board fixes stay fixed. */
	pic->chip[which].elcr_mask = which == MASTER ? ELCR_MASK_MASTER :
						       ELCR_MASK_SLAVE;
	pic->chip[which].elcr &= pic->chip[which].elcr_mask;
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
}
