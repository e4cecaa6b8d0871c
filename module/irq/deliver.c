// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt messages to local APICs: which LAPICs a message addresses
 * (SDM Vol. 3, 11.6.2 and 11.12.10), lowest-priority arbitration, and the
 * decoding of MSIs (SDM Vol. 3, 11.11).  See irq.h.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "irq.h"

void hvk_irq_dest_init(struct hvk_irq_dest_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

int hvk_irq_dest_add(struct hvk_irq_dest_ctx *ctx, struct hvk_lapic *apic)
{
	unsigned int n = ctx->nr;

	if (n >= HVK_IRQ_MAX_LAPICS)
		return -ENOSPC;
	WRITE_ONCE(ctx->lapics[n], apic);
	/*
	 * Pairs with the acquire in hvk_irq_deliver(): readers that see the
	 * new count see an initialized LAPIC.
	 */
	smp_store_release(&ctx->nr, n + 1);
	return 0;
}

static u32 apic_reg(struct hvk_lapic *apic, u32 offset)
{
	return apic->regs[offset >> 2];
}

bool hvk_lapic_match_dest(struct hvk_lapic *apic, const struct hvk_irq_msg *msg,
			  u64 x2apic_api)
{
	enum hvk_lapic_mode mode;
	unsigned long flags;
	u32 id, ldr, dfr, dest = msg->dest;

	raw_spin_lock_irqsave(&apic->lock, flags);
	mode = hvk_lapic_mode(apic);
	id = apic_reg(apic, HVK_APIC_ID);
	ldr = apic_reg(apic, HVK_APIC_LDR);
	dfr = apic_reg(apic, HVK_APIC_DFR);
	raw_spin_unlock_irqrestore(&apic->lock, flags);

	if (mode == HVK_LAPIC_DISABLED)
		return false;

	if (mode == HVK_LAPIC_X2APIC) {
		/*
		 * An IOAPIC or MSI broadcast (0xff) reaches x2APICs too,
		 * unless user space turned KVM's quirk off.
		 */
		if (!msg->src && dest == HVK_XAPIC_BROADCAST &&
		    !(x2apic_api & KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK))
			return true;
		if (dest == HVK_X2APIC_BROADCAST)
			return true;
		if (!msg->logical)
			return dest == id;
		/* Cluster in 31:16, one bit per APIC in 15:0 (11.12.10.2). */
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}

	if (msg->x2apic_dest) {
		if (dest == HVK_X2APIC_BROADCAST)
			return true;
		if (dest > 0xff)
			return false;
	}
	if (dest == HVK_XAPIC_BROADCAST)
		return true;
	if (!msg->logical)
		return dest == id >> 24;
	ldr >>= 24;
	/* DFR[31:28]: 1111b flat, 0000b cluster (11.6.2.2). */
	switch (dfr >> 28) {
	case 0xf:
		return dest & ldr;
	case 0x0:
		return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
	default:
		return false;
	}
}

static bool is_dest(struct hvk_lapic *apic, const struct hvk_irq_msg *msg,
		    u64 x2apic_api)
{
	switch (msg->shorthand) {
	case HVK_SH_SELF:
		return apic == msg->src;
	case HVK_SH_ALL:
		return hvk_lapic_mode(apic) != HVK_LAPIC_DISABLED;
	case HVK_SH_OTHERS:
		return apic != msg->src &&
		       hvk_lapic_mode(apic) != HVK_LAPIC_DISABLED;
	default:
		return hvk_lapic_match_dest(apic, msg, x2apic_api);
	}
}

/*
 * Lowest-priority delivery (11.6.2.4): the destination running at the
 * lowest processor priority takes the interrupt; among equals, the one
 * with the lowest APIC ID, so that the choice is reproducible.  Focus
 * processors are not modelled.  A software-disabled APIC would drop the
 * interrupt, so it takes part only if no other does.
 */
static struct hvk_lapic *lowest_priority(struct hvk_irq_dest_ctx *ctx,
					 const struct hvk_irq_msg *msg,
					 unsigned int nr)
{
	struct hvk_lapic *best = NULL;
	u32 best_key = U32_MAX;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct hvk_lapic *apic = READ_ONCE(ctx->lapics[i]);
		unsigned long flags;
		u32 key;

		if (!is_dest(apic, msg, ctx->x2apic_api))
			continue;
		raw_spin_lock_irqsave(&apic->lock, flags);
		key = apic_reg(apic, HVK_APIC_PPR) & 0xff;
		if (!(apic_reg(apic, HVK_APIC_SVR) & HVK_APIC_SVR_ENABLE))
			key |= 0x100;
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		if (key < best_key ||
		    (key == best_key && apic->vcpu_id < best->vcpu_id)) {
			best = apic;
			best_key = key;
		}
	}
	return best;
}

int hvk_irq_deliver(struct hvk_irq_dest_ctx *ctx, const struct hvk_irq_msg *msg)
{
	/* Pairs with hvk_irq_dest_add(): LAPICs counted are initialized. */
	unsigned int nr = smp_load_acquire(&ctx->nr), i;
	struct hvk_lapic *apic;
	int ret = -1, r;

	if (msg->delivery_mode == HVK_DM_SMI)
		return -1;

	if (msg->delivery_mode == HVK_DM_LOWEST ||
	    (msg->redir_hint && msg->delivery_mode == HVK_DM_FIXED)) {
		apic = lowest_priority(ctx, msg, nr);
		return apic ? hvk_lapic_accept(apic, msg) : -1;
	}

	for (i = 0; i < nr; i++) {
		apic = READ_ONCE(ctx->lapics[i]);
		if (!is_dest(apic, msg, ctx->x2apic_api))
			continue;
		r = hvk_lapic_accept(apic, msg);
		ret = ret < 0 ? r : ret + r;
	}
	return ret;
}

/*
 * MSI address (11.11.1): 0xfee in 31:20, destination ID in 19:12,
 * redirection hint bit 3, destination mode bit 2.  With KVM's 32-bit
 * x2APIC IDs, address_hi[31:8] carries destination bits 31:8.  Data
 * (11.11.2): vector 7:0, delivery mode 10:8, trigger mode bit 15.  Like
 * KVM, hvk treats every MSI as asserted (data bit 14 is ignored).
 */
bool hvk_msi_decode(u32 address_lo, u32 address_hi, u32 data, u64 x2apic_api,
		    struct hvk_irq_msg *msg)
{
	bool wide = x2apic_api & KVM_X2APIC_API_USE_32BIT_IDS;

	if ((address_lo >> 20) != 0xfee || (wide && (address_hi & 0xff)))
		return false;
	memset(msg, 0, sizeof(*msg));
	msg->dest = (address_lo >> 12) & 0xff;
	if (wide)
		msg->dest |= address_hi & 0xffffff00;
	msg->x2apic_dest = wide;
	msg->redir_hint = address_lo & BIT(3);
	msg->logical = address_lo & BIT(2);
	msg->vector = data & 0xff;
	msg->delivery_mode = (data >> 8) & 7;
	msg->level = data & BIT(15);
	msg->assert = true;
	msg->shorthand = HVK_SH_NONE;
	return true;
}
