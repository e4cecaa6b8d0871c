// SPDX-License-Identifier: GPL-2.0
/*
 * VMs: the VM file descriptor, memory slots, and access to guest memory.
 *
 * A VM lives while its fd, any of its vCPU fds or a stats fd is open
 * (vm->refs).  Its vCPUs live as long as the VM.  Guest memory is the
 * creator's: every VM and vCPU ioctl must come from the creating address
 * space (-EIO otherwise), so that slot host addresses mean the same thing
 * to every caller.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>

#include "hvk.h"

long hvk_check_extension(struct hvk_vm *vm, unsigned long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_USER_MEMORY2:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_SYNC_MMU:
	case KVM_CAP_BINARY_STATS_FD:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_X86_USER_SPACE_MSR:
		return 1;
	case KVM_CAP_TSC_CONTROL:
	case KVM_CAP_VM_TSC_CONTROL:
		return 0;	/* no TSC scaling, as KVM without it */
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
		       KVM_CLOCK_HOST_TSC;
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_SET_GUEST_DEBUG:
		return 1;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
		       KVM_GUESTDBG_USE_SW_BP;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return HVK_DIRTY_LOG_MANUAL_CAPS;
	/* The in-kernel irqchip (irqchip.c). */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IRQ_ROUTING:
	case KVM_CAP_IRQFD:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_ENABLE_CAP:
		return 1;
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
		return 1;
	case KVM_CAP_X2APIC_API:
		return KVM_X2APIC_API_USE_32BIT_IDS |
		       KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;
	case KVM_CAP_PIT2:
		return 0;	/* the PIT is user space's */
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
		return boot_cpu_has(X86_FEATURE_XSAVE);
	case KVM_CAP_XSAVE2:
		return hvk_xsave2_size();
	case KVM_CAP_NR_VCPUS:
		return min_t(unsigned int, num_online_cpus(), HVK_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return HVK_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return HVK_MAX_VCPU_ID;
	case KVM_CAP_NR_MEMSLOTS:
		return HVK_NR_MEMSLOTS;
	default:
		return 0;
	}
}

static void hvk_vm_destroy(struct hvk_vm *vm)
{
	unsigned int i;

	/* Waits for debugfs readers of the stats; later ones get -EIO. */
	hvk_vm_debugfs_destroy(vm);
	/* The notifier kicks vCPUs: stop it before they go. */
	hvk_mmu_detach(vm);
	/* So do irqfds and LAPIC timers. */
	hvk_irqchip_vm_shutdown(vm);
	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++)
		if (vm->vcpus[i])
			hvk_vcpu_destroy(vm->vcpus[i]);
	hvk_irqchip_vm_destroy(vm);
	hvk_ioeventfd_vm_destroy(vm);
	/* No vCPU runs any more: free every table. */
	hvk_mmu_destroy(vm);
	for (i = 0; i < ARRAY_SIZE(vm->slots); i++)
		kvfree(vm->slots[i].dirty_bitmap);
	mmdrop(vm->mm);
	kfree(vm);
}

void hvk_vm_put(struct hvk_vm *vm)
{
	if (refcount_dec_and_test(&vm->refs))
		hvk_vm_destroy(vm);
}

const struct hvk_memslot *hvk_find_memslot(struct hvk_vm *vm, u64 gfn)
{
	unsigned int i;

	lockdep_assert_held(&vm->slots_lock);
	for (i = 0; i < vm->slots_end; i++) {
		const struct hvk_memslot *s = &vm->slots[i];

		if (s->npages && gfn >= s->gfn && gfn - s->gfn < s->npages)
			return s;
	}
	return NULL;
}

/*
 * Copy guest memory by guest physical address, page by page: a range may
 * span slots.  0, or -EFAULT if part of it is outside every slot, in a
 * read-only slot for a write, or the host mapping cannot be accessed.
 * Writes count as dirty pages for dirty logging.
 */
static int hvk_access_guest(struct hvk_vm *vm, u64 gpa, void *buf,
			    unsigned int len, bool write)
{
	int r = 0;

	down_read(&vm->slots_lock);
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gpa));
		const struct hvk_memslot *s;
		unsigned long hva;

		s = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);
		if (!s || (write && (s->flags & KVM_MEM_READONLY))) {
			r = -EFAULT;
			break;
		}
		hva = s->hva + (gpa - (s->gfn << PAGE_SHIFT));
		if (write)
			hvk_mark_page_dirty(vm, s, gpa >> PAGE_SHIFT);
		if (write ? copy_to_user((void __user *)hva, buf, n) :
			    copy_from_user(buf, (void __user *)hva, n)) {
			r = -EFAULT;
			break;
		}
		gpa += n;
		buf += n;
		len -= n;
	}
	up_read(&vm->slots_lock);
	return r;
}

int hvk_read_guest(struct hvk_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	return hvk_access_guest(vm, gpa, buf, len, false);
}

int hvk_write_guest(struct hvk_vm *vm, u64 gpa, const void *buf,
		    unsigned int len)
{
	return hvk_access_guest(vm, gpa, (void *)buf, len, true);
}

static void hvk_kick_ack(void *unused)
{
}

/*
 * Ask every vCPU to do @req before it next enters the guest, and wait until
 * every vCPU that may be in guest mode has left it.  Takes no lock and does
 * not sleep (the MMU notifier calls it where sleeping is not allowed); must
 * not be called with interrupts disabled.  vCPUs are published once
 * initialized and live as long as the VM.
 */
void hvk_vm_request_all(struct hvk_vm *vm, enum hvk_request req)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++) {
		/* Pairs with the release that publishes the vCPU. */
		struct hvk_vcpu *vcpu = smp_load_acquire(&vm->vcpus[i]);

		if (vcpu)
			set_bit(req, &vcpu->requests);
	}
	/* Pairs with the barrier between vcpu->mode and the request check. */
	smp_mb__after_atomic();
	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++) {
		/* As above. */
		struct hvk_vcpu *vcpu = smp_load_acquire(&vm->vcpus[i]);
		int cpu;

		if (!vcpu || READ_ONCE(vcpu->mode) != HVK_IN_GUEST_MODE)
			continue;
		cpu = READ_ONCE(vcpu->cpu);
		/* Any interrupt makes the vCPU exit; waiting means it has. */
		if (cpu >= 0 && cpu != raw_smp_processor_id())
			smp_call_function_single(cpu, hvk_kick_ack, NULL, 1);
	}
}

/* Change a slot's fields under mmu->lock too: the MMU notifier reads them. */
static void hvk_slot_update(struct hvk_vm *vm, struct hvk_memslot *slot,
			    const struct hvk_memslot *new)
{
	unsigned int end = ARRAY_SIZE(vm->slots);

	spin_lock(&vm->mmu.lock);
	*slot = *new;
	vm->slots_gen++;
	while (end && !vm->slots[end - 1].npages)
		end--;
	vm->slots_end = end;
	spin_unlock(&vm->mmu.lock);
}

/*
 * KVM_SET_USER_MEMORY_REGION(2): create, delete (size 0), move a slot or
 * change its dirty logging.  The checks and their errnos are KVM's.  vCPUs
 * may run meanwhile: a slot's old translations are gone from every TLB
 * before this returns.
 */
static int hvk_set_memory_region(struct hvk_vm *vm,
				 const struct kvm_userspace_memory_region2 *mem)
{
	u16 id = mem->slot & 0xffff, as_id = mem->slot >> 16;
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	u64 gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	bool log = mem->flags & KVM_MEM_LOG_DIRTY_PAGES;
	unsigned long *bitmap = NULL;
	struct hvk_memslot *slot, new;
	bool was_logging;
	unsigned int i;
	int r = 0;

	if (mem->flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
		return -EINVAL;
	if ((mem->memory_size | mem->guest_phys_addr | mem->userspace_addr) &
	    ~PAGE_MASK)
		return -EINVAL;
	if (mem->memory_size != (unsigned long)mem->memory_size ||
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	if (as_id || id >= HVK_NR_MEMSLOTS)
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	/* Only what the CPU and the second-level tables can address. */
	if (gfn + npages > hvk_mmu_max_gfn(&vm->mmu))
		return -EINVAL;

	down_write(&vm->slots_lock);
	slot = &vm->slots[id];
	if (!npages) {
		if (!slot->npages) {
			r = -EINVAL;
			goto out;
		}
		hvk_mmu_zap_range(vm, slot->gfn, slot->npages);
		bitmap = slot->dirty_bitmap;
		memset(&new, 0, sizeof(new));
		hvk_slot_update(vm, slot, &new);
		goto out;
	}
	/*
	 * An existing slot may move and start or stop logging: same host
	 * range, same size, same read-only flag.
	 */
	if (slot->npages && (slot->hva != mem->userspace_addr ||
			     slot->npages != npages ||
			     ((slot->flags ^ mem->flags) & KVM_MEM_READONLY))) {
		r = -EINVAL;
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(vm->slots); i++) {
		const struct hvk_memslot *o = &vm->slots[i];

		if (i == id || !o->npages)
			continue;
		if (gfn < o->gfn + o->npages && o->gfn < gfn + npages) {
			r = -EEXIST;
			goto out;
		}
	}

	was_logging = slot->npages && slot->dirty_bitmap;
	new = (struct hvk_memslot) {
		.gfn = gfn,
		.npages = npages,
		.hva = mem->userspace_addr,
		.flags = mem->flags,
		.dirty_bitmap = was_logging ? slot->dirty_bitmap : NULL,
	};
	if (log && !was_logging) {
		new.dirty_bitmap = kvcalloc(BITS_TO_LONGS(npages),
					    sizeof(long), GFP_KERNEL_ACCOUNT);
		if (!new.dirty_bitmap) {
			r = -ENOMEM;
			goto out;
		}
		if (vm->dirty_log_manual & KVM_DIRTY_LOG_INITIALLY_SET)
			bitmap_set(new.dirty_bitmap, 0, npages);
	} else if (!log && was_logging) {
		bitmap = new.dirty_bitmap;
		new.dirty_bitmap = NULL;
	}
	if (slot->npages && slot->gfn != gfn)
		hvk_mmu_zap_range(vm, slot->gfn, slot->npages);
	hvk_slot_update(vm, slot, &new);
	/*
	 * Logging from now on: every write must fault once.  With the
	 * bitmap initially set, pages are protected when user space clears
	 * their bits; huge leaves go now, logging maps 4 KiB pages.
	 */
	if (log && !was_logging)
		hvk_mmu_write_protect(vm, gfn, npages,
				      vm->dirty_log_manual &
				      KVM_DIRTY_LOG_INITIALLY_SET);
out:
	up_write(&vm->slots_lock);
	kvfree(bitmap);
	return r;
}

static int hvk_vm_enable_cap(struct hvk_vm *vm,
			     const struct kvm_enable_cap *cap)
{
	if (cap->flags)
		return -EINVAL;
	switch (cap->cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		/* Initially-set bitmaps only with manual protection. */
		if (cap->args[0] & ~(cap->args[0] &
				     KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE ?
				     HVK_DIRTY_LOG_MANUAL_CAPS :
				     KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
			return -EINVAL;
		down_write(&vm->slots_lock);
		vm->dirty_log_manual = cap->args[0];
		up_write(&vm->slots_lock);
		return 0;
	case KVM_CAP_X86_USER_SPACE_MSR:
		/* No MSR filter (KVM_X86_SET_MSR_FILTER): no _FILTER exits. */
		if (cap->args[0] & ~(u64)(KVM_MSR_EXIT_REASON_INVAL |
					  KVM_MSR_EXIT_REASON_UNKNOWN))
			return -EINVAL;
		WRITE_ONCE(vm->user_space_msr_mask, cap->args[0]);
		return 0;
	case KVM_CAP_X2APIC_API:
		return hvk_irqchip_enable_x2apic_api(vm, cap->args[0]);
	default:
		return -EINVAL;
	}
}

static long hvk_vm_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	struct hvk_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct kvm_userspace_memory_region2 mem;
	struct kvm_enable_cap cap;

	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return hvk_create_vcpu(vm, arg);
	case KVM_CHECK_EXTENSION:
		return hvk_check_extension(vm, arg);
	case KVM_SET_TSS_ADDR:
		/*
		 * The three pages KVM reserves there serve real mode on VMX
		 * without unrestricted guest, which hvk does not support:
		 * nothing to set up, but the address is checked as KVM does.
		 */
		if (arg > (unsigned int)(-3 * PAGE_SIZE))
			return -EINVAL;
		return 0;
	case KVM_SET_USER_MEMORY_REGION:
		memset(&mem, 0, sizeof(mem));
		if (copy_from_user(&mem, argp,
				   sizeof(struct kvm_userspace_memory_region)))
			return -EFAULT;
		/* The old ABI has no guest_memfd: its flag is unknown there. */
		if (mem.flags & KVM_MEM_GUEST_MEMFD)
			return -EINVAL;
		return hvk_set_memory_region(vm, &mem);
	case KVM_SET_USER_MEMORY_REGION2:
		if (copy_from_user(&mem, argp, sizeof(mem)))
			return -EFAULT;
		return hvk_set_memory_region(vm, &mem);
	case KVM_GET_DIRTY_LOG:
		return hvk_get_dirty_log(vm, argp);
	case KVM_CLEAR_DIRTY_LOG:
		return hvk_clear_dirty_log(vm, argp);
	case KVM_ENABLE_CAP:
		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return hvk_vm_enable_cap(vm, &cap);
	case KVM_GET_STATS_FD:
		return hvk_vm_get_stats_fd(vm);
	case KVM_GET_CLOCK:
	case KVM_SET_CLOCK:
		return hvk_clock_ioctl(vm, argp, ioctl == KVM_SET_CLOCK);
	case KVM_CREATE_IRQCHIP:
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
	case KVM_SET_GSI_ROUTING:
	case KVM_SIGNAL_MSI:
	case KVM_IRQFD:
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
		return hvk_irqchip_vm_ioctl(vm, ioctl, argp);
	case KVM_IOEVENTFD:
		return hvk_ioeventfd_ioctl(vm, argp);
	default:
		return -ENOTTY;
	}
}

static int hvk_vm_release(struct inode *inode, struct file *filp)
{
	hvk_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations hvk_vm_fops = {
	.owner = THIS_MODULE,
	.release = hvk_vm_release,
	.unlocked_ioctl = hvk_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* A vCPU fd or a stats fd keeps its VM alive. */
void hvk_vm_get(struct hvk_vm *vm)
{
	refcount_inc(&vm->refs);
}

int hvk_create_vm(unsigned long type)
{
	struct hvk_vm *vm;
	int r;

	/* Only the default VM type exists. */
	if (type)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	refcount_set(&vm->refs, 1);
	mutex_init(&vm->lock);
	init_rwsem(&vm->slots_lock);
	spin_lock_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	mutex_init(&vm->ioeventfds_lock);
	hvk_kvmclock_init(vm);
	mmgrab(current->mm);
	vm->mm = current->mm;
	r = hvk_mmu_init(vm);
	if (r) {
		hvk_mmu_destroy(vm);
		mmdrop(vm->mm);
		kfree(vm);
		return r;
	}
	/* KVM's "kvm-<pid>", with the creating thread's id. */
	snprintf(vm->stats_id, sizeof(vm->stats_id), "hvk-%d",
		 task_pid_nr(current));
	hvk_vm_debugfs_init(vm);

	r = anon_inode_getfd("hvk-vm", &hvk_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (r < 0)
		hvk_vm_put(vm);
	return r;
}
