// SPDX-License-Identifier: GPL-2.0
/*
 * The IOAPIC (Intel 82093AA datasheet): 24 pins, each with a redirection
 * entry that turns the pin's line into a message to the local APICs.
 * Edge-triggered pins send on a rising edge; level-triggered pins send
 * while asserted and hold remote IRR until the LAPIC's EOI broadcast.  See
 * irq.h.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "irq.h"

#define IOREGSEL		0x00
#define IOWIN			0x10

#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_RTE		0x10	/* pin n: 0x10 + 2n (low), + 1 (high) */

#define RTE_VECTOR		0xffULL
#define RTE_DM_SHIFT		8
#define RTE_LOGICAL		BIT_ULL(11)
#define RTE_DEST_SHIFT		56
/* What the guest may write: all but delivery status and remote IRR. */
#define RTE_WRITABLE		(GENMASK_ULL(11, 0) | BIT_ULL(13) | \
				 HVK_IOAPIC_RTE_LEVEL | HVK_IOAPIC_RTE_MASKED | \
				 GENMASK_ULL(63, 48))

void hvk_ioapic_reset(struct hvk_ioapic *ioapic)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&ioapic->lock, flags);
	ioapic->base_address = HVK_IOAPIC_DEFAULT_BASE;
	ioapic->ioregsel = 0;
	ioapic->id = 0;
	ioapic->irr = 0;
	for (i = 0; i < HVK_IOAPIC_PINS; i++)
		ioapic->redirtbl[i] = HVK_IOAPIC_RTE_MASKED;
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

void hvk_ioapic_init(struct hvk_ioapic *ioapic, struct hvk_irq_dest_ctx *dest)
{
	spin_lock_init(&ioapic->lock);
	ioapic->dest = dest;
	hvk_ioapic_reset(ioapic);
}

/*
 * Send pin @pin's message (lock held): the caller has checked that the
 * line calls for one.  A level-triggered pin holds remote IRR from here to
 * the EOI, if some LAPIC took the message.
 */
static int ioapic_send(struct hvk_ioapic *ioapic, unsigned int pin)
{
	u64 rte = ioapic->redirtbl[pin];
	struct hvk_irq_msg msg = {
		.vector = rte & RTE_VECTOR,
		.delivery_mode = (rte >> RTE_DM_SHIFT) & 7,
		.logical = rte & RTE_LOGICAL,
		.level = rte & HVK_IOAPIC_RTE_LEVEL,
		.assert = true,
		.dest = rte >> RTE_DEST_SHIFT,
	};
	int ret;

	if (rte & HVK_IOAPIC_RTE_MASKED)
		return -1;
	ret = hvk_irq_deliver(ioapic->dest, &msg);
	if (ret >= 0 && msg.level)
		ioapic->redirtbl[pin] |= HVK_IOAPIC_RTE_REMOTE_IRR;
	return ret;
}

int hvk_ioapic_set_irq(struct hvk_ioapic *ioapic, unsigned int pin, bool level)
{
	unsigned long flags;
	u32 bit = BIT(pin);
	bool was;
	u64 rte;
	int ret;

	if (pin >= HVK_IOAPIC_PINS)
		return -1;
	spin_lock_irqsave(&ioapic->lock, flags);
	was = ioapic->irr & bit;
	rte = ioapic->redirtbl[pin];
	if (!level) {
		ioapic->irr &= ~bit;
		ret = 1;
	} else {
		ioapic->irr |= bit;
		if (rte & HVK_IOAPIC_RTE_LEVEL) {
			/* Still in service: sent again after the EOI. */
			ret = rte & HVK_IOAPIC_RTE_REMOTE_IRR ? 0 :
							      ioapic_send(ioapic, pin);
		} else {
			/* Edge: only a rising edge sends. */
			ret = was ? 0 : ioapic_send(ioapic, pin);
		}
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return ret;
}

void hvk_ioapic_eoi(struct hvk_ioapic *ioapic, u8 vector)
{
	unsigned long flags;
	unsigned int pin;

	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < HVK_IOAPIC_PINS; pin++) {
		u64 rte = ioapic->redirtbl[pin];

		if ((rte & RTE_VECTOR) != vector ||
		    !(rte & HVK_IOAPIC_RTE_LEVEL) ||
		    !(rte & HVK_IOAPIC_RTE_REMOTE_IRR))
			continue;
		ioapic->redirtbl[pin] &= ~HVK_IOAPIC_RTE_REMOTE_IRR;
		/* A line still asserted interrupts again. */
		if (ioapic->irr & BIT(pin))
			ioapic_send(ioapic, pin);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

static u32 read_indirect(struct hvk_ioapic *ioapic)
{
	u32 sel = ioapic->ioregsel, pin;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return ioapic->id;
	case IOAPIC_REG_VERSION:
		return HVK_IOAPIC_VERSION | ((HVK_IOAPIC_PINS - 1) << 16);
	}
	if (sel < IOAPIC_REG_RTE)
		return 0;
	pin = (sel - IOAPIC_REG_RTE) / 2;
	if (pin >= HVK_IOAPIC_PINS)
		return ~0u;
	return sel & 1 ? ioapic->redirtbl[pin] >> 32 : ioapic->redirtbl[pin];
}

static void write_indirect(struct hvk_ioapic *ioapic, u32 val)
{
	u32 sel = ioapic->ioregsel, pin;
	u64 rte, new;

	if (sel == IOAPIC_REG_ID) {
		ioapic->id = val & (0xfu << 24);
		return;
	}
	if (sel < IOAPIC_REG_RTE)
		return;		/* version, arbitration: read-only */
	pin = (sel - IOAPIC_REG_RTE) / 2;
	if (pin >= HVK_IOAPIC_PINS)
		return;
	rte = ioapic->redirtbl[pin];
	if (sel & 1)
		new = (rte & 0xffffffffULL) | ((u64)val << 32);
	else
		new = (rte & ~0xffffffffULL) | val;
	new = (new & RTE_WRITABLE) | (rte & ~RTE_WRITABLE);
	/* Remote IRR means nothing to an edge-triggered pin. */
	if (!(new & HVK_IOAPIC_RTE_LEVEL))
		new &= ~HVK_IOAPIC_RTE_REMOTE_IRR;
	ioapic->redirtbl[pin] = new;
	/*
	 * A level-triggered line asserted while masked interrupts when
	 * unmasked; an edge seen while masked is lost.
	 */
	if ((new & HVK_IOAPIC_RTE_LEVEL) && !(new & HVK_IOAPIC_RTE_MASKED) &&
	    !(new & HVK_IOAPIC_RTE_REMOTE_IRR) && (ioapic->irr & BIT(pin)))
		ioapic_send(ioapic, pin);
}

void hvk_ioapic_mmio_read(struct hvk_ioapic *ioapic, u32 offset,
			  unsigned int len, void *data)
{
	unsigned long flags;
	u32 val = 0;

	if (len > 8)
		return;
	memset(data, 0, len);
	spin_lock_irqsave(&ioapic->lock, flags);
	switch (offset & ~3u) {
	case IOREGSEL:
		val = ioapic->ioregsel;
		break;
	case IOWIN:
		val = read_indirect(ioapic);
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	val >>= (offset & 3) * 8;
	memcpy(data, &val, min_t(unsigned int, len, 4 - (offset & 3)));
}

void hvk_ioapic_mmio_write(struct hvk_ioapic *ioapic, u32 offset,
			   unsigned int len, const void *data)
{
	unsigned long flags;
	u32 val = 0;

	/* Registers are 32-bit; a narrower store writes the low bytes. */
	if (len > 8 || (offset & 3))
		return;
	memcpy(&val, data, min(len, 4u));
	spin_lock_irqsave(&ioapic->lock, flags);
	switch (offset) {
	case IOREGSEL:
		ioapic->ioregsel = val & 0xff;
		break;
	case IOWIN:
		write_indirect(ioapic, val);
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

void hvk_ioapic_get_state(struct hvk_ioapic *ioapic, struct kvm_ioapic_state *s)
{
	unsigned long flags;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&ioapic->lock, flags);
	s->base_address = ioapic->base_address;
	s->ioregsel = ioapic->ioregsel;
	s->id = ioapic->id;
	s->irr = ioapic->irr;
	for (i = 0; i < HVK_IOAPIC_PINS; i++)
		s->redirtbl[i].bits = ioapic->redirtbl[i];
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

void hvk_ioapic_set_state(struct hvk_ioapic *ioapic,
			  const struct kvm_ioapic_state *s)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&ioapic->lock, flags);
	ioapic->base_address = s->base_address;
	ioapic->ioregsel = s->ioregsel;
	ioapic->id = s->id;
	ioapic->irr = s->irr & GENMASK(HVK_IOAPIC_PINS - 1, 0);
	for (i = 0; i < HVK_IOAPIC_PINS; i++)
		ioapic->redirtbl[i] = s->redirtbl[i].bits;
	/* Asserted level-triggered lines not in service interrupt now. */
	for (i = 0; i < HVK_IOAPIC_PINS; i++) {
		u64 rte = ioapic->redirtbl[i];

		if ((ioapic->irr & BIT(i)) && (rte & HVK_IOAPIC_RTE_LEVEL) &&
		    !(rte & (HVK_IOAPIC_RTE_REMOTE_IRR | HVK_IOAPIC_RTE_MASKED)))
			ioapic_send(ioapic, i);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}
