// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel interrupt controllers (KVM_CREATE_IRQCHIP) wired to a VM
 * and its vCPUs.  module/irq/ holds the device models; this file gives
 * them their ioctls, the guest's accesses (the APIC page and the IOAPIC
 * window through MMIO, the PICs' ports, the x2APIC MSRs, CR8), the kick
 * that tells a vCPU something arrived, and the run loop's side: INIT and
 * SIPI, and sleeping in HLT or while waiting for SIPI.
 *
 * A kick sets HVK_REQ_EVENT, then wakes the vCPU if it sleeps or sends a
 * reschedule IPI to its CPU if it may be in guest mode.  The vCPU picks
 * interrupts after it has set IN_GUEST_MODE and cleared the request, with
 * interrupts off (events.c): a kick after that finds it in guest mode and
 * its IPI, pending at entry, makes it exit at once; a kick before that is
 * seen by the picking.  The sleeping vCPU waits for the same request bit.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kvm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>
#include <trace/events/ipi.h>	/* smp_send_reschedule() traces */

#include "hvk.h"
#include "irq/irq.h"

#define HVK_X2APIC_API_VALID	(KVM_X2APIC_API_USE_32BIT_IDS | \
				 KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK)

/* CPUID bits the LAPIC's features follow (SDM Vol. 2A, CPUID). */
#define CPUID1_ECX_X2APIC	BIT(21)
#define CPUID1_ECX_TSC_DEADLINE	BIT(24)

static struct hvk_irqchip *vm_irqchip(struct hvk_vm *vm)
{
	/* Pairs with the release that publishes it. */
	return smp_load_acquire(&vm->irqchip);
}

/* --- kicks --------------------------------------------------------------- */

void hvk_vcpu_kick(struct hvk_vcpu *vcpu)
{
	int cpu, me;

	set_bit(HVK_REQ_EVENT, &vcpu->requests);
	/*
	 * Pairs with the barrier between vcpu->mode and the request check in
	 * the run loop, and with rcuwait's between the sleeper's state and
	 * its condition.
	 */
	smp_mb__after_atomic();
	if (rcuwait_wake_up(&vcpu->wait))
		return;
	if (READ_ONCE(vcpu->mode) != HVK_IN_GUEST_MODE)
		return;
	cpu = READ_ONCE(vcpu->cpu);
	me = get_cpu();
	/* Any interrupt makes the guest exit; the vCPU then sees the bit. */
	if (cpu >= 0 && cpu != me && cpu_online(cpu))
		smp_send_reschedule(cpu);
	put_cpu();
}

static void hvk_lapic_kick(struct hvk_lapic *apic)
{
	hvk_vcpu_kick(apic->owner);
}

static void hvk_lapic_eoi_level(struct hvk_lapic *apic, u8 vector)
{
	struct hvk_vcpu *vcpu = apic->owner;

	hvk_irqchip_eoi(vm_irqchip(vcpu->vm), vector);
}

static u64 hvk_lapic_guest_tsc(struct hvk_lapic *apic)
{
	struct hvk_vcpu *vcpu = apic->owner;

	return rdtsc() + READ_ONCE(vcpu->vm->tsc_offset);
}

static const struct hvk_lapic_ops hvk_lapic_ops = {
	.kick = hvk_lapic_kick,
	.eoi_level = hvk_lapic_eoi_level,
	.guest_tsc = hvk_lapic_guest_tsc,
};

/* The PICs' INTR rose: the vCPUs whose LINT0 takes ExtINT look at it. */
static void hvk_pic_kick(struct hvk_pic *pic)
{
	struct hvk_vm *vm = pic->owner;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++) {
		/* vCPUs are published initialized and live with the VM. */
		struct hvk_vcpu *vcpu = smp_load_acquire(&vm->vcpus[i]);

		if (vcpu && vcpu->lapic && hvk_lapic_accepts_pic(vcpu->lapic))
			hvk_vcpu_kick(vcpu);
	}
}

/* --- creation and teardown ----------------------------------------------- */

static int hvk_create_irqchip(struct hvk_vm *vm)
{
	struct hvk_irqchip *chip;
	int r;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->irqchip)
		goto out;
	/* As KVM: the LAPICs are made with the vCPUs, so none may exist. */
	r = -EINVAL;
	if (vm->nr_vcpus)
		goto out;
	r = -ENOMEM;
	chip = kzalloc(sizeof(*chip), GFP_KERNEL_ACCOUNT);
	if (!chip)
		goto out;
	r = hvk_irqchip_init(chip, hvk_pic_kick, vm);
	if (r) {
		kfree(chip);
		goto out;
	}
	chip->dest.x2apic_api = vm->x2apic_api;
	/* Lockless readers (vm_irqchip()) see it initialized. */
	smp_store_release(&vm->irqchip, chip);
out:
	mutex_unlock(&vm->lock);
	return r;
}

int hvk_irqchip_enable_x2apic_api(struct hvk_vm *vm, u64 flags)
{
	int r = 0;

	if (flags & ~(u64)HVK_X2APIC_API_VALID)
		return -EINVAL;
	mutex_lock(&vm->lock);
	/* The IDs' format is fixed once a LAPIC exists (KVM: -EINVAL too). */
	if (vm->nr_vcpus) {
		r = -EINVAL;
	} else {
		vm->x2apic_api = flags;
		if (vm->irqchip)
			vm->irqchip->dest.x2apic_api = flags;
	}
	mutex_unlock(&vm->lock);
	return r;
}

int hvk_irqchip_vcpu_create(struct hvk_vcpu *vcpu)
{
	struct hvk_vm *vm = vcpu->vm;
	struct hvk_lapic *apic;

	lockdep_assert_held(&vm->lock);
	rcuwait_init(&vcpu->wait);
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	if (!vm->irqchip)
		return 0;
	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	hvk_lapic_init(apic, vcpu->id, &hvk_lapic_ops, vcpu,
		       &vm->irqchip->dest);
	vcpu->lapic = apic;
	/* hvk's default CPUID offers x2APIC and TSC-deadline with a LAPIC. */
	hvk_lapic_set_features(apic, boot_cpu_data.x86_phys_bits, true, true,
			       false, tsc_khz);
	/* The APs wait for INIT and SIPI in the kernel (SDM Vol. 3, 9.4). */
	if (!(hvk_lapic_get_base(apic) & HVK_APIC_BASE_BSP))
		vcpu->mp_state = KVM_MP_STATE_UNINITIALIZED;
	return 0;
}

void hvk_irqchip_vcpu_publish(struct hvk_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->vm->lock);
	/* As many places as vCPUs: it cannot be full. */
	BUILD_BUG_ON(HVK_IRQ_MAX_LAPICS < HVK_MAX_VCPUS);
	if (vcpu->lapic)
		WARN_ON_ONCE(hvk_irq_dest_add(&vcpu->vm->irqchip->dest,
					      vcpu->lapic));
}

/* The LAPIC is published: it stays (idle) until the VM is destroyed. */
void hvk_irqchip_vcpu_destroy(struct hvk_vcpu *vcpu)
{
	if (vcpu->lapic)
		hvk_lapic_destroy(vcpu->lapic);
	kfree(vcpu->lapic);
}

/* --- irqfd ----------------------------------------------------------------- */

/*
 * An eventfd that raises a GSI (KVM_IRQFD): its wait-queue entry runs in
 * the writer's context, with the eventfd's wait-queue lock held, and pulses
 * the GSI there (hvk_irqchip_set_irq() takes only spinlocks and RCU).
 */
struct hvk_irqfd {
	struct hvk_vm *vm;
	struct eventfd_ctx *eventfd;
	u32 gsi;
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	struct list_head list;			/* (l: vm->irqfds_lock) */
};

static void hvk_irqfd_raise(struct hvk_irqfd *irqfd)
{
	struct hvk_irqchip *chip = vm_irqchip(irqfd->vm);

	hvk_irqchip_set_irq(chip, irqfd->gsi, true);
	hvk_irqchip_set_irq(chip, irqfd->gsi, false);
}

static int hvk_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct hvk_irqfd *irqfd = container_of(wait, struct hvk_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	u64 cnt;

	/*
	 * A write: consume the count and pulse the line.  EPOLLHUP (the
	 * eventfd's file closed) changes nothing: the irqfd holds the
	 * context and goes at deassignment or with the VM.
	 */
	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		hvk_irqfd_raise(irqfd);
	}
	return 0;
}

static void hvk_irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			    poll_table *pt)
{
	struct hvk_irqfd *irqfd = container_of(pt, struct hvk_irqfd, pt);

	irqfd->wqh = wqh;
	add_wait_queue_priority(wqh, &irqfd->wait);
}

static void hvk_irqfd_free(struct hvk_irqfd *irqfd)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

static int hvk_irqfd_assign(struct hvk_vm *vm, const struct kvm_irqfd *args)
{
	struct hvk_irqfd *irqfd, *tmp;
	struct eventfd_ctx *eventfd;
	__poll_t events;
	struct file *f;
	int r;

	f = fget(args->fd);
	if (!f)
		return -EBADF;
	eventfd = eventfd_ctx_fileget(f);
	if (IS_ERR(eventfd)) {
		r = PTR_ERR(eventfd);
		goto out;
	}
	r = -ENOMEM;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd) {
		eventfd_ctx_put(eventfd);
		goto out;
	}
	irqfd->vm = vm;
	irqfd->eventfd = eventfd;
	irqfd->gsi = args->gsi;
	init_waitqueue_func_entry(&irqfd->wait, hvk_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, hvk_irqfd_queue);

	spin_lock(&vm->irqfds_lock);
	list_for_each_entry(tmp, &vm->irqfds, list) {
		if (tmp->eventfd == eventfd) {
			/* One GSI per eventfd, as KVM. */
			spin_unlock(&vm->irqfds_lock);
			eventfd_ctx_put(eventfd);
			kfree(irqfd);
			r = -EBUSY;
			goto out;
		}
	}
	list_add_tail(&irqfd->list, &vm->irqfds);
	spin_unlock(&vm->irqfds_lock);

	/*
	 * Hook the eventfd's wait queue.  A count already there fires now;
	 * the next write's wake-up consumes it.
	 */
	events = vfs_poll(f, &irqfd->pt);
	if (events & EPOLLIN)
		hvk_irqfd_raise(irqfd);
	r = 0;
out:
	fput(f);
	return r;
}

static int hvk_irqfd_deassign(struct hvk_vm *vm, const struct kvm_irqfd *args)
{
	struct hvk_irqfd *irqfd, *found = NULL;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	spin_lock(&vm->irqfds_lock);
	list_for_each_entry(irqfd, &vm->irqfds, list) {
		if (irqfd->eventfd == eventfd && irqfd->gsi == args->gsi) {
			list_del(&irqfd->list);
			found = irqfd;
			break;
		}
	}
	spin_unlock(&vm->irqfds_lock);
	eventfd_ctx_put(eventfd);
	/* KVM returns 0 for an irqfd it does not know too. */
	if (found)
		hvk_irqfd_free(found);
	return 0;
}

static int hvk_irqfd(struct hvk_vm *vm, struct kvm_irqfd __user *argp)
{
	struct kvm_irqfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	/* No resampling irqfd (KVM_CAP_IRQFD_RESAMPLE is 0). */
	if (args.flags & ~KVM_IRQFD_FLAG_DEASSIGN)
		return -EINVAL;
	if (args.flags & KVM_IRQFD_FLAG_DEASSIGN)
		return hvk_irqfd_deassign(vm, &args);
	/* As KVM on x86: an irqfd needs the in-kernel irqchip. */
	if (!vm_irqchip(vm))
		return -EINVAL;
	return hvk_irqfd_assign(vm, &args);
}

void hvk_irqchip_vm_shutdown(struct hvk_vm *vm)
{
	struct hvk_irqfd *irqfd, *tmp;
	unsigned int i;
	LIST_HEAD(list);

	spin_lock(&vm->irqfds_lock);
	list_splice_init(&vm->irqfds, &list);
	spin_unlock(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &list, list)
		hvk_irqfd_free(irqfd);
	/*
	 * No timer may fire into a LAPIC, nor kick a vCPU, that is being
	 * freed: stop them all before any goes.
	 */
	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++)
		if (vm->vcpus[i] && vm->vcpus[i]->lapic)
			hvk_lapic_destroy(vm->vcpus[i]->lapic);
}

void hvk_irqchip_vm_destroy(struct hvk_vm *vm)
{
	if (vm->irqchip) {
		hvk_irqchip_destroy(vm->irqchip);
		kfree(vm->irqchip);
	}
}

/* --- VM ioctls ------------------------------------------------------------ */

static int hvk_irq_line(struct hvk_irqchip *chip, struct kvm_irq_level __user *argp,
			bool status)
{
	struct kvm_irq_level irq;
	int r;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	r = hvk_irqchip_set_irq(chip, irq.irq, irq.level);
	if (!status)
		return 0;
	irq.status = r;
	return copy_to_user(argp, &irq, sizeof(irq)) ? -EFAULT : 0;
}

static int hvk_set_gsi_routing(struct hvk_irqchip *chip,
			       struct kvm_irq_routing __user *argp)
{
	struct kvm_irq_routing_entry *entries = NULL;
	struct hvk_irq_routing *table;
	struct kvm_irq_routing hdr;
	int r;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nr > HVK_MAX_IRQ_ROUTES || hdr.flags)
		return -EINVAL;
	if (hdr.nr) {
		/* At most HVK_MAX_IRQ_ROUTES entries: no overflow. */
		entries = memdup_user(argp->entries,
				      hdr.nr * sizeof(*entries));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}
	r = hvk_irq_routing_build(entries, hdr.nr, &table);
	kfree(entries);
	if (r)
		return r;
	hvk_irqchip_set_routing(chip, table);
	return 0;
}

static int hvk_irqchip_state(struct hvk_irqchip *chip,
			     struct kvm_irqchip __user *argp, bool set)
{
	struct kvm_irqchip *s;
	int r = 0;

	s = memdup_user(argp, sizeof(*s));
	if (IS_ERR(s))
		return PTR_ERR(s);
	switch (s->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			hvk_pic_set_state(&chip->pic, s->chip_id, &s->chip.pic);
		else
			hvk_pic_get_state(&chip->pic, s->chip_id, &s->chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			hvk_ioapic_set_state(&chip->ioapic, &s->chip.ioapic);
		else
			hvk_ioapic_get_state(&chip->ioapic, &s->chip.ioapic);
		break;
	default:
		r = -EINVAL;
	}
	if (!r && !set && copy_to_user(argp, s, sizeof(*s)))
		r = -EFAULT;
	kfree(s);
	/* A restored PIC may request INTR, a restored IOAPIC deliver. */
	if (!r && set)
		hvk_pic_kick(&chip->pic);
	return r;
}

long hvk_irqchip_vm_ioctl(struct hvk_vm *vm, unsigned int ioctl,
			  void __user *argp)
{
	struct hvk_irqchip *chip;
	struct kvm_msi msi;

	switch (ioctl) {
	case KVM_CREATE_IRQCHIP:
		return hvk_create_irqchip(vm);
	case KVM_IRQFD:
		return hvk_irqfd(vm, argp);
	}
	chip = vm_irqchip(vm);
	if (!chip)
		return -ENXIO;
	switch (ioctl) {
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
		return hvk_irq_line(chip, argp, ioctl == KVM_IRQ_LINE_STATUS);
	case KVM_SET_GSI_ROUTING:
		return hvk_set_gsi_routing(chip, argp);
	case KVM_SIGNAL_MSI:
		if (copy_from_user(&msi, argp, sizeof(msi)))
			return -EFAULT;
		return hvk_irqchip_signal_msi(chip, &msi);
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
		return hvk_irqchip_state(chip, argp, ioctl == KVM_SET_IRQCHIP);
	default:
		return -ENOTTY;
	}
}

/* --- the guest's accesses -------------------------------------------------- */

bool hvk_irqchip_pio(struct hvk_vcpu *vcpu, u16 port, bool in, u8 size,
		     u32 *val)
{
	struct hvk_irqchip *chip = vm_irqchip(vcpu->vm);
	u8 v = *val;

	if (!chip || size != 1)
		return false;
	if (in)
		return hvk_pic_port_read(&chip->pic, port, (u8 *)val);
	return hvk_pic_port_write(&chip->pic, port, v);
}

bool hvk_irqchip_mmio(struct hvk_vcpu *vcpu, u64 gpa, unsigned int len,
		      void *data, bool write)
{
	struct hvk_irqchip *chip = vm_irqchip(vcpu->vm);
	struct hvk_ioapic *io;
	u64 base;

	if (!chip)
		return false;
	if (vcpu->lapic && hvk_lapic_mmio_in_range(vcpu->lapic, gpa)) {
		u32 off = gpa & (PAGE_SIZE - 1);

		if (write)
			hvk_lapic_mmio_write(vcpu->lapic, off, len, data);
		else
			hvk_lapic_mmio_read(vcpu->lapic, off, len, data);
		return true;
	}
	io = &chip->ioapic;
	base = READ_ONCE(io->base_address);
	if (gpa >= base && gpa - base < HVK_IOAPIC_MMIO_SIZE) {
		if (write)
			hvk_ioapic_mmio_write(io, gpa - base, len, data);
		else
			hvk_ioapic_mmio_read(io, gpa - base, len, data);
		return true;
	}
	return false;
}

u8 hvk_get_cr8(struct hvk_vcpu *vcpu)
{
	return vcpu->lapic ? hvk_lapic_get_cr8(vcpu->lapic) : vcpu->cr8;
}

void hvk_set_cr8(struct hvk_vcpu *vcpu, u8 cr8)
{
	if (vcpu->lapic)
		hvk_lapic_set_cr8(vcpu->lapic, cr8);
	else
		vcpu->cr8 = cr8;
}

u64 hvk_get_apic_base(struct hvk_vcpu *vcpu)
{
	return vcpu->lapic ? hvk_lapic_get_base(vcpu->lapic) : vcpu->apic_base;
}

/*
 * 0 or -EINVAL.  Without a LAPIC only user space sets it, to any address
 * with BSP and enable (x2APIC is not offered then).
 */
int hvk_set_apic_base(struct hvk_vcpu *vcpu, u64 val, bool host)
{
	if (vcpu->lapic)
		return hvk_lapic_set_base(vcpu->lapic, val, host);
	if (!host || (val & ~(GENMASK_ULL(51, 12) | HVK_APIC_BASE_BSP |
			      HVK_APIC_BASE_EN)))
		return -EINVAL;
	vcpu->apic_base = val;
	return 0;
}

static bool hvk_tsc_deadline_msr(struct hvk_vcpu *vcpu, u32 msr)
{
	return msr == HVK_MSR_TSC_DEADLINE && vcpu->lapic &&
	       vcpu->lapic->tsc_deadline_offered;
}

int hvk_irqchip_get_msr(struct hvk_vcpu *vcpu, u32 msr, u64 *val)
{
	if (hvk_tsc_deadline_msr(vcpu, msr)) {
		*val = hvk_lapic_get_tsc_deadline(vcpu->lapic);
		return 0;
	}
	if (!vcpu->lapic || msr < HVK_MSR_X2APIC_FIRST ||
	    msr > HVK_MSR_X2APIC_LAST)
		return HVK_MSR_UNKNOWN;
	return hvk_lapic_x2apic_read(vcpu->lapic, msr, val) ?
	       HVK_MSR_INVALID : 0;
}

int hvk_irqchip_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val)
{
	if (hvk_tsc_deadline_msr(vcpu, msr)) {
		hvk_lapic_set_tsc_deadline(vcpu->lapic, val);
		return 0;
	}
	if (!vcpu->lapic || msr < HVK_MSR_X2APIC_FIRST ||
	    msr > HVK_MSR_X2APIC_LAST)
		return HVK_MSR_UNKNOWN;
	return hvk_lapic_x2apic_write(vcpu->lapic, msr, val) ?
	       HVK_MSR_INVALID : 0;
}

void hvk_irqchip_cpuid_changed(struct hvk_vcpu *vcpu)
{
	u32 regs[4], phys_bits = 36;

	if (!vcpu->lapic)
		return;
	hvk_cpuid(vcpu, 0x80000000, 0, regs);
	if (regs[0] >= 0x80000008) {
		hvk_cpuid(vcpu, 0x80000008, 0, regs);
		if (regs[0] & 0xff)
			phys_bits = regs[0] & 0xff;
	}
	hvk_cpuid(vcpu, 1, 0, regs);
	hvk_lapic_set_features(vcpu->lapic, phys_bits,
			       regs[2] & CPUID1_ECX_X2APIC,
			       regs[2] & CPUID1_ECX_TSC_DEADLINE, false,
			       tsc_khz);
}

/* --- the run loop --------------------------------------------------------- */

void hvk_irqchip_take_nmis(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;

	/* At most two NMIs wait: one more than the one being handled. */
	while (hvk_lapic_take_nmi(vcpu->lapic))
		e->nmi.pending = min_t(u8, e->nmi.pending + 1, 2);
}

/* Does the PIC's INTR reach this vCPU through LINT0 (ExtINT)? */
static bool hvk_extint_pending(struct hvk_vcpu *vcpu)
{
	struct hvk_irqchip *chip = vm_irqchip(vcpu->vm);

	return hvk_lapic_accepts_pic(vcpu->lapic) && hvk_pic_output(&chip->pic);
}

bool hvk_irqchip_has_interrupt(struct hvk_vcpu *vcpu)
{
	return hvk_extint_pending(vcpu) ||
	       hvk_lapic_pending_vector(vcpu->lapic) >= 0;
}

/*
 * INTA: the PICs' vector through ExtINT first (the 8259A drives INTR, and
 * the LAPIC passes it on without priority), else the LAPIC's highest
 * deliverable vector, moved to ISR.  -1 if none.
 */
int hvk_irqchip_ack(struct hvk_vcpu *vcpu)
{
	if (hvk_extint_pending(vcpu))
		return hvk_pic_ack(&vm_irqchip(vcpu->vm)->pic);
	return hvk_lapic_ack(vcpu->lapic);
}

/* INIT (SDM Vol. 3, 10.1, Table 10-1): the state a processor restarts in. */
static void hvk_vcpu_init_reset(struct hvk_vcpu *vcpu)
{
	struct kvm_segment data = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	struct kvm_sregs s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	hvk_vendor->get_sregs(vcpu, &s);
	s.cs = data;
	s.cs.type = 0xb;
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	s.ds = data;
	s.es = data;
	s.fs = data;
	s.gs = data;
	s.ss = data;
	s.ldt = (struct kvm_segment) { .limit = 0xffff, .type = 2, .present = 1 };
	/*
	 * A busy 32-bit TSS, as at vCPU creation: VMX refuses to enter an
	 * IA-32e mode guest whose TR is a 16-bit one (SDM Vol. 3C 28.3.1.2),
	 * and an AP goes to long mode without loading TR first.
	 */
	s.tr = (struct kvm_segment) { .limit = 0xffff, .type = 0xb, .present = 1 };
	s.gdt = (struct kvm_dtable) { .limit = 0xffff };
	s.idt = s.gdt;
	/* CD and NW are kept by INIT, ET reads 1; paging and PE off. */
	s.cr0 = X86_CR0_ET | (s.cr0 & (X86_CR0_CD | X86_CR0_NW));
	s.cr2 = 0;
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	hvk_vendor->set_sregs(vcpu, &s);
	hvk_vendor->set_cr2(vcpu, 0);

	for (i = 0; i < HVK_NR_GPRS; i++)
		vcpu->regs[i] = 0;
	/* EDX: the processor's signature, family 6 as KVM's vCPUs. */
	vcpu->regs[HVK_RDX] = 0x600;
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	memset(&vcpu->events, 0, sizeof(vcpu->events));
	hvk_vendor->set_interrupt_shadow(vcpu, 0);
	hvk_vendor->set_nmi_mask(vcpu, false);
	hvk_reset_debug_registers(vcpu);
	hvk_lapic_reset(vcpu->lapic, true);
}

/* SIPI (SDM Vol. 3, 9.4.4): real mode at vector << 12, CS = vector << 8. */
static void hvk_vcpu_sipi(struct hvk_vcpu *vcpu, u8 vector)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	hvk_vendor->get_sregs(vcpu, &s);
	s.cs.selector = vector << 8;
	s.cs.base = (u64)vector << 12;
	hvk_vendor->set_sregs(vcpu, &s);
	vcpu->rip = 0;
}

static void hvk_irqchip_accept_events(struct hvk_vcpu *vcpu)
{
	unsigned int ev;
	u8 vector = 0;

	ev = hvk_lapic_accept_events(vcpu->lapic,
				     hvk_get_apic_base(vcpu) & HVK_APIC_BASE_BSP,
				     &vcpu->mp_state, &vector);
	if (ev & HVK_EVENT_INIT)
		hvk_vcpu_init_reset(vcpu);
	if (ev & HVK_EVENT_SIPI)
		hvk_vcpu_sipi(vcpu, vector);
}

/*
 * What ends HLT (SDM Vol. 2A, HLT): an NMI, an event already being
 * delivered, or an interrupt the guest takes (RFLAGS.IF set).  INIT and
 * SIPI went through hvk_irqchip_accept_events() first.
 */
static bool hvk_halt_ends(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;

	hvk_irqchip_take_nmis(vcpu);
	if (e->nmi.pending || e->nmi.injected || e->exception.pending ||
	    e->exception.injected || e->interrupt.injected)
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) && hvk_irqchip_has_interrupt(vcpu);
}

int hvk_irqchip_halt(struct hvk_vcpu *vcpu)
{
	vcpu->mp_state = KVM_MP_STATE_HALTED;
	return 1;
}

int hvk_irqchip_vcpu_ready(struct hvk_vcpu *vcpu)
{
	for (;;) {
		clear_bit(HVK_REQ_EVENT, &vcpu->requests);
		/*
		 * Pairs with the kick's: a kick from here on is seen by the
		 * checks below, or sets the bit the sleep waits for.
		 */
		smp_mb__after_atomic();
		hvk_irqchip_accept_events(vcpu);
		if (vcpu->mp_state == KVM_MP_STATE_HALTED && hvk_halt_ends(vcpu))
			vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
		if (vcpu->mp_state == KVM_MP_STATE_RUNNABLE)
			return 1;
		if (rcuwait_wait_event(&vcpu->wait,
				       test_bit(HVK_REQ_EVENT, &vcpu->requests),
				       TASK_INTERRUPTIBLE)) {
			vcpu->run->exit_reason = KVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			return -EINTR;
		}
	}
}

/* --- vCPU ioctls ---------------------------------------------------------- */

static int hvk_mp_state_ioctl(struct hvk_vcpu *vcpu,
			      struct kvm_mp_state __user *argp, bool set)
{
	struct kvm_mp_state mp;

	if (!set) {
		mp.mp_state = vcpu->mp_state;
		return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
	}
	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		/* As KVM: only RUNNABLE without a local APIC in the kernel. */
		if (!vcpu->lapic)
			return -EINVAL;
		break;
	default:
		/* SIPI_RECEIVED (KVM's old AP start-up) is not supported. */
		return -EINVAL;
	}
	vcpu->mp_state = mp.mp_state;
	return 0;
}

long hvk_irqchip_vcpu_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
			    void __user *argp)
{
	struct kvm_lapic_state *s;
	int r;

	switch (ioctl) {
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
		return hvk_mp_state_ioctl(vcpu, argp, ioctl == KVM_SET_MP_STATE);
	}
	if (!vcpu->lapic)
		return -ENXIO;
	if (ioctl == KVM_GET_LAPIC) {
		s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
		if (!s)
			return -ENOMEM;
		hvk_lapic_get_state(vcpu->lapic, s, vcpu->vm->x2apic_api);
		r = copy_to_user(argp, s, sizeof(*s)) ? -EFAULT : 0;
	} else { /* KVM_SET_LAPIC */
		s = memdup_user(argp, sizeof(*s));
		if (IS_ERR(s))
			return PTR_ERR(s);
		r = hvk_lapic_set_state(vcpu->lapic, s, vcpu->vm->x2apic_api);
		hvk_vcpu_kick(vcpu);
	}
	kfree(s);
	return r;
}
