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
	case KVM_CAP_BINARY_STATS_FD:
		return 1;
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
		return boot_cpu_has(X86_FEATURE_XSAVE);
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

	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++)
		if (vm->vcpus[i])
			hvk_vcpu_destroy(vm->vcpus[i]);
	/* No vCPU runs any more: unpin and free every table and page. */
	hvk_mmu_destroy(&vm->mmu);
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
	for (i = 0; i < ARRAY_SIZE(vm->slots); i++) {
		const struct hvk_memslot *s = &vm->slots[i];

		if (s->npages && gfn >= s->gfn && gfn - s->gfn < s->npages)
			return s;
	}
	return NULL;
}

/* Host user address of a guest physical address, or 0 outside the slots. */
static unsigned long hvk_gpa_to_hva(struct hvk_vm *vm, u64 gpa)
{
	const struct hvk_memslot *s = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);

	if (!s)
		return 0;
	return s->hva + (gpa - (s->gfn << PAGE_SHIFT));
}

/*
 * Copy guest memory by guest physical address, page by page: a range may
 * span slots.  0, or -EFAULT if part of it is outside every slot or the host
 * mapping cannot be accessed.
 */
static int hvk_access_guest(struct hvk_vm *vm, u64 gpa, void *buf,
			    unsigned int len, bool write)
{
	int r = 0;

	down_read(&vm->slots_lock);
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gpa));
		unsigned long hva = hvk_gpa_to_hva(vm, gpa);

		if (!hva) {
			r = -EFAULT;
			break;
		}
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
 * every vCPU that may be in guest mode has left it.
 */
void hvk_vm_request_all(struct hvk_vm *vm, enum hvk_request req)
{
	unsigned int i;

	mutex_lock(&vm->lock);
	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++)
		if (vm->vcpus[i])
			set_bit(req, &vm->vcpus[i]->requests);
	/* Pairs with the barrier between vcpu->mode and the request check. */
	smp_mb__after_atomic();
	for (i = 0; i < ARRAY_SIZE(vm->vcpus); i++) {
		struct hvk_vcpu *vcpu = vm->vcpus[i];
		int cpu;

		if (!vcpu || READ_ONCE(vcpu->mode) != HVK_IN_GUEST_MODE)
			continue;
		cpu = READ_ONCE(vcpu->cpu);
		/* Any interrupt makes the vCPU exit; waiting means it has. */
		if (cpu >= 0 && cpu != raw_smp_processor_id())
			smp_call_function_single(cpu, hvk_kick_ack, NULL, 1);
	}
	mutex_unlock(&vm->lock);
}

/*
 * KVM_SET_USER_MEMORY_REGION(2): create, delete (size 0) or move a slot.
 * The checks and their errnos are KVM's.
 */
static int hvk_set_memory_region(struct hvk_vm *vm,
				 const struct kvm_userspace_memory_region2 *mem)
{
	u16 id = mem->slot & 0xffff, as_id = mem->slot >> 16;
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	u64 gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	struct hvk_memslot *slot;
	unsigned int i;
	int r = 0;

	/* Dirty logging and read-only slots are not implemented yet. */
	if (mem->flags)
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
		memset(slot, 0, sizeof(*slot));
		goto out;
	}
	/* An existing slot may only move: same host range, same size. */
	if (slot->npages && (slot->hva != mem->userspace_addr ||
			     slot->npages != npages)) {
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
	if (slot->npages && slot->gfn != gfn)
		hvk_mmu_zap_range(vm, slot->gfn, slot->npages);
	slot->gfn = gfn;
	slot->npages = npages;
	slot->hva = mem->userspace_addr;
	slot->flags = mem->flags;
out:
	up_write(&vm->slots_lock);
	return r;
}

static long hvk_vm_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	struct hvk_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	struct kvm_userspace_memory_region2 mem;

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
	case KVM_GET_STATS_FD:
		return hvk_vm_get_stats_fd(vm);
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
	r = hvk_mmu_init(&vm->mmu, hvk_vendor->mmu_format);
	if (r) {
		kfree(vm);
		return r;
	}
	mmgrab(current->mm);
	vm->mm = current->mm;
	/* KVM's "kvm-<pid>", with the creating thread's id. */
	snprintf(vm->stats_id, sizeof(vm->stats_id), "hvk-%d",
		 task_pid_nr(current));

	r = anon_inode_getfd("hvk-vm", &hvk_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (r < 0)
		hvk_vm_put(vm);
	return r;
}
