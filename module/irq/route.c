// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing: which interrupt controller pins, or which MSI, a global
 * system interrupt number drives (KVM_IRQ_LINE, KVM_SET_GSI_ROUTING,
 * irqfd), and the VM's set of in-kernel interrupt controllers.  See irq.h.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "irq.h"

static int route_cmp(const void *a, const void *b)
{
	const struct hvk_irq_route *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

static bool route_valid(const struct kvm_irq_routing_entry *e)
{
	if (e->gsi >= HVK_MAX_IRQ_ROUTES || e->flags)
		return false;
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		switch (e->u.irqchip.irqchip) {
		case KVM_IRQCHIP_PIC_MASTER:
		case KVM_IRQCHIP_PIC_SLAVE:
			return e->u.irqchip.pin < 8;
		case KVM_IRQCHIP_IOAPIC:
			return e->u.irqchip.pin < HVK_IOAPIC_PINS;
		default:
			return false;
		}
	case KVM_IRQ_ROUTING_MSI:
		return true;
	default:
		return false;
	}
}

void hvk_irq_routing_free(struct hvk_irq_routing *table)
{
	if (table)
		kfree(table->first);
	kfree(table);
}

int hvk_irq_routing_build(const struct kvm_irq_routing_entry *ue, u32 nr,
			  struct hvk_irq_routing **out)
{
	struct hvk_irq_routing *t;
	u32 i, g, nr_gsi = 0;

	if (nr > HVK_MAX_IRQ_ROUTES)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (!route_valid(&ue[i]))
			return -EINVAL;
		nr_gsi = max(nr_gsi, ue[i].gsi + 1);
	}

	t = kzalloc(struct_size(t, routes, nr), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->first = kcalloc(nr_gsi + 1, sizeof(*t->first), GFP_KERNEL_ACCOUNT);
	if (!t->first) {
		kfree(t);
		return -ENOMEM;
	}
	t->nr = nr;
	t->nr_gsi = nr_gsi;
	for (i = 0; i < nr; i++) {
		struct hvk_irq_route *r = &t->routes[i];

		r->gsi = ue[i].gsi;
		r->type = ue[i].type;
		if (r->type == KVM_IRQ_ROUTING_IRQCHIP) {
			r->irqchip.chip = ue[i].u.irqchip.irqchip;
			r->irqchip.pin = ue[i].u.irqchip.pin;
		} else {
			r->msi.address_lo = ue[i].u.msi.address_lo;
			r->msi.address_hi = ue[i].u.msi.address_hi;
			r->msi.data = ue[i].u.msi.data;
		}
	}
	sort(t->routes, nr, sizeof(t->routes[0]), route_cmp, NULL);

	/*
	 * KVM's rules for one GSI: at most one route per irqchip, and an
	 * MSI route alone.
	 */
	for (i = 0; i < nr; i++) {
		const struct hvk_irq_route *r = &t->routes[i], *p;
		u32 j;

		t->first[r->gsi + 1] = i + 1;
		for (j = i; j-- > 0 && t->routes[j].gsi == r->gsi;) {
			p = &t->routes[j];
			if (r->type != KVM_IRQ_ROUTING_IRQCHIP ||
			    p->type != KVM_IRQ_ROUTING_IRQCHIP ||
			    p->irqchip.chip == r->irqchip.chip) {
				hvk_irq_routing_free(t);
				return -EINVAL;
			}
		}
	}
	/* first[g + 1] is the end of g's routes; carry it over empty GSIs. */
	for (g = 1; g <= nr_gsi; g++)
		t->first[g] = max(t->first[g], t->first[g - 1]);
	*out = t;
	return 0;
}

int hvk_irq_routing_default(struct hvk_irq_routing **out)
{
	struct kvm_irq_routing_entry *e;
	unsigned int n = 0, gsi;
	int r;

	e = kcalloc(HVK_NR_DEFAULT_GSI + 16, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	/*
	 * As KVM's KVM_CREATE_IRQCHIP: GSI 0-15 drive both the PICs' IRQ
	 * 0-15 and the IOAPIC pin of the same number (the guest decides
	 * which controller it listens to), GSI 16-23 the IOAPIC alone.
	 */
	for (gsi = 0; gsi < HVK_NR_DEFAULT_GSI; gsi++) {
		if (gsi < 16) {
			e[n].gsi = gsi;
			e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
							   KVM_IRQCHIP_PIC_SLAVE;
			e[n].u.irqchip.pin = gsi & 7;
			n++;
		}
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n].u.irqchip.pin = gsi;
		n++;
	}
	r = hvk_irq_routing_build(e, n, out);
	kfree(e);
	return r;
}

/* ---- the VM's interrupt controllers ---- */

int hvk_irqchip_init(struct hvk_irqchip *chip,
		     void (*pic_kick)(struct hvk_pic *pic), void *owner)
{
	struct hvk_irq_routing *table;
	int r;

	r = hvk_irq_routing_default(&table);
	if (r)
		return r;
	hvk_irq_dest_init(&chip->dest);
	hvk_pic_init(&chip->pic, pic_kick, owner);
	hvk_ioapic_init(&chip->ioapic, &chip->dest);
	mutex_init(&chip->routing_lock);
	RCU_INIT_POINTER(chip->routing, table);
	return 0;
}

void hvk_irqchip_destroy(struct hvk_irqchip *chip)
{
	hvk_irq_routing_free(rcu_dereference_protected(chip->routing, true));
	mutex_destroy(&chip->routing_lock);
}

void hvk_irqchip_set_routing(struct hvk_irqchip *chip,
			     struct hvk_irq_routing *table)
{
	struct hvk_irq_routing *old;

	mutex_lock(&chip->routing_lock);
	old = rcu_dereference_protected(chip->routing,
					lockdep_is_held(&chip->routing_lock));
	rcu_assign_pointer(chip->routing, table);
	mutex_unlock(&chip->routing_lock);
	/* No reader may still be walking the old table when it is freed. */
	synchronize_rcu();
	hvk_irq_routing_free(old);
}

static int route_set(struct hvk_irqchip *chip, const struct hvk_irq_route *r,
		     bool level)
{
	struct hvk_irq_msg msg;

	if (r->type == KVM_IRQ_ROUTING_MSI) {
		/* An MSI is a write, not a line: nothing to do on 0. */
		if (!level)
			return -1;
		if (!hvk_msi_decode(r->msi.address_lo, r->msi.address_hi,
				    r->msi.data, chip->dest.x2apic_api, &msg))
			return -1;
		return hvk_irq_deliver(&chip->dest, &msg);
	}
	switch (r->irqchip.chip) {
	case KVM_IRQCHIP_PIC_MASTER:
		return hvk_pic_set_irq(&chip->pic, r->irqchip.pin, level);
	case KVM_IRQCHIP_PIC_SLAVE:
		return hvk_pic_set_irq(&chip->pic, 8 + r->irqchip.pin, level);
	default:
		return hvk_ioapic_set_irq(&chip->ioapic, r->irqchip.pin, level);
	}
}

int hvk_irqchip_set_irq(struct hvk_irqchip *chip, u32 gsi, bool level)
{
	const struct hvk_irq_routing *t;
	int ret = -1, r;
	u32 i;

	rcu_read_lock();
	t = rcu_dereference(chip->routing);
	if (gsi < t->nr_gsi) {
		for (i = t->first[gsi]; i < t->first[gsi + 1]; i++) {
			r = route_set(chip, &t->routes[i], level);
			if (r >= 0)
				ret = ret < 0 ? r : ret + r;
		}
	}
	rcu_read_unlock();
	return ret;
}

int hvk_irqchip_signal_msi(struct hvk_irqchip *chip, const struct kvm_msi *msi)
{
	struct hvk_irq_msg msg;

	/* No device IDs on x86 (KVM_MSI_VALID_DEVID is for ITS). */
	if (msi->flags)
		return -EINVAL;
	if (!hvk_msi_decode(msi->address_lo, msi->address_hi, msi->data,
			    chip->dest.x2apic_api, &msg))
		return -1;
	return hvk_irq_deliver(&chip->dest, &msg);
}

void hvk_irqchip_eoi(struct hvk_irqchip *chip, u8 vector)
{
	hvk_ioapic_eoi(&chip->ioapic, vector);
}
