// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: the vCPU file descriptor, its shared kvm_run page, register state
 * ioctls and the run loop.
 *
 * A vCPU is "loaded" on a CPU while one of its ioctls runs: its VMCS is
 * current there (VMX) and host state the backend switches is set up.  A
 * preempt notifier puts it when the thread is scheduled out and loads it
 * again on whatever CPU the thread resumes on, so that exit handlers may
 * sleep.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/debugreg.h>
#include <asm/fpu/types.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>

#include "hvk.h"
#include "hvk_trace.h"
#include "vmenter.inc"

static struct hvk_vcpu *preempt_notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct hvk_vcpu, preempt_notifier);
}

static void hvk_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct hvk_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	hvk_vendor->vcpu_load(vcpu, cpu);
	hvk_load_guest_tsc_aux(vcpu);
	WRITE_ONCE(vcpu->cpu, cpu);
}

static void hvk_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct hvk_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	hvk_put_guest_tsc_aux(vcpu);
	hvk_vendor->vcpu_put(vcpu);
}

static struct preempt_ops hvk_preempt_ops = {
	.sched_in = hvk_sched_in,
	.sched_out = hvk_sched_out,
};

static void hvk_vcpu_load(struct hvk_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->preempt_notifier);
	hvk_vendor->vcpu_load(vcpu, cpu);
	hvk_load_guest_tsc_aux(vcpu);
	WRITE_ONCE(vcpu->cpu, cpu);
	put_cpu();
}

static void hvk_vcpu_put(struct hvk_vcpu *vcpu)
{
	preempt_disable();
	hvk_put_guest_tsc_aux(vcpu);
	hvk_vendor->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

/*
 * --- Exit statistics and tracing (docs/design.md, "Exit statistics") ---
 *
 * The span timed is host TSC from ->run's return (the exit) to the next
 * call of ->run (the entry), interrupts off at both ends; it is charged at
 * the entry to the reason of the exit, or to user space if KVM_RUN
 * returned in between.  The backends' own entry and exit work inside ->run
 * is not in it.
 */
static __always_inline void hvk_exit_stats_entry(struct hvk_vcpu *vcpu)
{
	struct hvk_exit_time *t = vcpu->exit_time;
	u64 cycles;

	/* exit_tsc is written at every exit, so 0 also means "timed once". */
	if (vcpu->exit_tsc) {
		cycles = rdtsc() - vcpu->exit_tsc;
		t->cycles += cycles;
		hvk_stat_log_hist_add(t->cycles_hist, HVK_EXIT_HIST_BUCKETS,
				      cycles);
	}
	trace_hvk_entry(vcpu);
}

static __always_inline void hvk_exit_stats_exit(struct hvk_vcpu *vcpu)
{
	vcpu->exit_tsc = READ_ONCE(hvk_exit_timing) ? rdtsc() : 0;
	vcpu->stat.exits++;
}

/* After the handler: the reason is final, @r says where the vCPU goes. */
static void hvk_exit_stats_handled(struct hvk_vcpu *vcpu,
				   const struct hvk_exit_info *info, u64 rip,
				   int r)
{
	vcpu->stat.exit[vcpu->exit_reason].count++;
	vcpu->exit_time = &vcpu->stat.exit[vcpu->exit_reason].time;
	trace_hvk_exit(vcpu, info, rip, r);
}

/*
 * The same for an exit the fast path handled, whose ->fastpath set the
 * reason: the backend's exit information only when the tracepoint wants it.
 */
static __always_inline void hvk_exit_stats_fast(struct hvk_vcpu *vcpu, u64 rip)
{
	vcpu->stat.exit[vcpu->exit_reason].count++;
	vcpu->exit_time = &vcpu->stat.exit[vcpu->exit_reason].time;
	if (trace_hvk_exit_enabled()) {
		struct hvk_exit_info info;

		hvk_vendor->exit_info(vcpu, &info);
		trace_hvk_exit(vcpu, &info, rip, 1);
	}
}

/* KVM_RUN returns to user space. */
static void hvk_exit_stats_to_user(struct hvk_vcpu *vcpu, int r)
{
	vcpu->exit_time = &vcpu->stat.userspace;
	trace_hvk_userspace_exit(vcpu, r);
}

/* --- end of exit statistics --- */

/* One entry into the guest and the handling of the exit that ends it. */
static int hvk_vcpu_enter_guest(struct hvk_vcpu *vcpu)
{
	struct hvk_exit_info info;
	unsigned int run_flags = 0, budget;
	enum hvk_fastpath fast;
	u64 rip, rflags;
	bool quiet;
	int r;

	preempt_disable();
	local_irq_disable();
	WRITE_ONCE(vcpu->mode, HVK_IN_GUEST_MODE);
	/*
	 * Pairs with the barrier in hvk_vm_request_all(): either the
	 * requester sees IN_GUEST_MODE and kicks, or this sees the request.
	 * A signal or a kick arriving from here on is an interrupt pending at
	 * entry, which exits the guest at once.
	 */
	smp_mb();
	if (signal_pending(current) || need_resched() ||
	    test_bit(HVK_REQ_CLOCK_UPDATE, &vcpu->requests)) {
		WRITE_ONCE(vcpu->mode, HVK_OUTSIDE_GUEST_MODE);
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	if (test_and_clear_bit(HVK_REQ_TLB_FLUSH, &vcpu->requests))
		run_flags |= HVK_RUN_FLUSH_TLB;
	vcpu->ran = true;
	/*
	 * The guest's FPU state is the task's for all of KVM_RUN, but after
	 * a context switch or a kernel_fpu_begin() the registers hold another
	 * context's until they are loaded again, which the return to user
	 * space would do: load them now.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();

	/* The debugger's single step: TF for this entry, unseen by the guest. */
	if ((vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP) &&
	    !(vcpu->rflags & X86_EFLAGS_TF)) {
		vcpu->rflags |= X86_EFLAGS_TF;
		vcpu->debug_tf_set = true;
	}
	/*
	 * Exits the fast path completes enter the guest again at once; it
	 * takes only those of an entry that had no event to arm, so that
	 * the next one has none either (fastpath.c).
	 */
	quiet = hvk_vendor->fastpath && hvk_fastpath_allowed(vcpu);
	hvk_events_before_entry(vcpu);
	/*
	 * The guest's XCR0 for every entry of the loop: with interrupts off
	 * nothing saves or restores FPU state before the host's is back, and
	 * the fast path changes neither XCR0 nor CR4.
	 */
	hvk_load_guest_xcr0(vcpu);
	budget = HVK_FASTPATH_REENTRIES;
	do {
		u64 exit_rip;

		hvk_exit_stats_entry(vcpu);
		hvk_vendor->run(vcpu, run_flags);
		hvk_exit_stats_exit(vcpu);
		exit_rip = vcpu->rip;
		fast = quiet ? hvk_exit_fastpath(vcpu) : HVK_FASTPATH_NONE;
		/* Counted and traced as the slow path does below. */
		if (fast != HVK_FASTPATH_NONE)
			hvk_exit_stats_fast(vcpu, exit_rip);
		run_flags = HVK_RUN_FAST_REENTRY;
	} while (fast == HVK_FASTPATH_REENTER && --budget);
	hvk_load_host_xcr0(vcpu);

	if (vcpu->debug_tf_set) {
		vcpu->rflags &= ~X86_EFLAGS_TF;
		vcpu->debug_tf_set = false;
	}
	/* The exit left DR7 as the guest had it, or reset: the host's again. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	WRITE_ONCE(vcpu->mode, HVK_OUTSIDE_GUEST_MODE);
	local_irq_enable();
	preempt_enable();
	if (fast != HVK_FASTPATH_NONE)
		return 1;

	rip = vcpu->rip;
	rflags = vcpu->rflags;
	hvk_vendor->exit_info(vcpu, &info);
	vcpu->exit_reason = info.reason;
	r = hvk_vendor->handle_exit(vcpu);
	/* The handler completed the instruction for the guest. */
	if (vcpu->rip != rip)
		r = hvk_instruction_done(vcpu, r, rflags);
	hvk_exit_stats_handled(vcpu, &info, rip, r);
	return r;
}

static int hvk_vcpu_run_loop(struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r = 1;

	if (vcpu->pio_pending) {
		u64 rip = vcpu->rip;

		vcpu->pio_pending = false;
		r = hvk_complete_pio(vcpu);
		if (vcpu->rip != rip)
			r = hvk_instruction_done(vcpu, r, vcpu->rflags);
		if (r <= 0)
			return r;
	}
	if (vcpu->mmio.read_pending) {
		r = hvk_complete_mmio(vcpu);
		if (r <= 0)
			return r;
	}
	if (vcpu->msr_exit.pending) {
		r = hvk_complete_msr_exit(vcpu);
		if (r <= 0)
			return r;
	}
	/* As KVM: -EINTR, and exit_reason left as the last exit set it. */
	if (READ_ONCE(run->HVK_IMMEDIATE_EXIT))
		return -EINTR;

	hvk_fastpath_reset(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			r = -EINTR;
			break;
		}
		/* Writes guest memory, which may sleep: before entering. */
		if (test_and_clear_bit(HVK_REQ_CLOCK_UPDATE, &vcpu->requests))
			hvk_kvmclock_update(vcpu);
		/* INIT, SIPI, and sleeping in HLT with the in-kernel LAPIC. */
		if (vcpu->lapic) {
			r = hvk_irqchip_vcpu_ready(vcpu);
			if (r <= 0)
				break;
		}
		r = hvk_vcpu_enter_guest(vcpu);
		if (r <= 0)
			break;
		/* User-space irqchip: the guest can take what it asked for. */
		if (READ_ONCE(run->request_interrupt_window) &&
		    hvk_ready_for_interrupt(vcpu)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			r = 0;
			break;
		}
		cond_resched();
	}
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
	return r;
}

static int hvk_vcpu_run(struct hvk_vcpu *vcpu)
{
	int r = hvk_vcpu_run_loop(vcpu);

	hvk_events_fill_run(vcpu);
	hvk_exit_stats_to_user(vcpu, r);
	return r;
}

static void hvk_get_regs(struct hvk_vcpu *vcpu, struct kvm_regs *regs)
{
	unsigned long *g = vcpu->regs;

	*regs = (struct kvm_regs) {
		.rax = g[HVK_RAX], .rbx = g[HVK_RBX], .rcx = g[HVK_RCX],
		.rdx = g[HVK_RDX], .rsi = g[HVK_RSI], .rdi = g[HVK_RDI],
		.rsp = g[HVK_RSP], .rbp = g[HVK_RBP],
		.r8 = g[HVK_R8], .r9 = g[HVK_R9], .r10 = g[HVK_R10],
		.r11 = g[HVK_R11], .r12 = g[HVK_R12], .r13 = g[HVK_R13],
		.r14 = g[HVK_R14], .r15 = g[HVK_R15],
		.rip = vcpu->rip, .rflags = vcpu->rflags,
	};
}

static void hvk_set_regs(struct hvk_vcpu *vcpu, const struct kvm_regs *regs)
{
	unsigned long *g = vcpu->regs;

	g[HVK_RAX] = regs->rax;
	g[HVK_RBX] = regs->rbx;
	g[HVK_RCX] = regs->rcx;
	g[HVK_RDX] = regs->rdx;
	g[HVK_RSI] = regs->rsi;
	g[HVK_RDI] = regs->rdi;
	g[HVK_RSP] = regs->rsp;
	g[HVK_RBP] = regs->rbp;
	g[HVK_R8] = regs->r8;
	g[HVK_R9] = regs->r9;
	g[HVK_R10] = regs->r10;
	g[HVK_R11] = regs->r11;
	g[HVK_R12] = regs->r12;
	g[HVK_R13] = regs->r13;
	g[HVK_R14] = regs->r14;
	g[HVK_R15] = regs->r15;
	vcpu->rip = regs->rip;
	/* Bit 1 of RFLAGS always reads as 1 (SDM Vol. 1, 3.4.3). */
	vcpu->rflags = regs->rflags | X86_EFLAGS_FIXED;
	/* New registers: an exception raised for the old ones is void. */
	vcpu->events.exception.pending = false;
}

/*
 * KVM_GET/SET_DEBUGREGS: the guest's DR0-3, DR6 and DR7 as stored (the
 * guest's are emulated, see exits.c); as KVM, flags must be 0 and DR6/DR7
 * fit in 32 bits.
 */
static int hvk_debugregs_ioctl(struct hvk_vcpu *vcpu,
			       struct kvm_debugregs __user *argp, bool set)
{
	struct kvm_debugregs d;

	if (!set) {
		memset(&d, 0, sizeof(d));
		memcpy(d.db, vcpu->dr, sizeof(d.db));
		d.dr6 = vcpu->dr6;
		d.dr7 = vcpu->dr7;
		return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
	}
	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags || (d.dr6 >> 32) || (d.dr7 >> 32))
		return -EINVAL;
	memcpy(vcpu->dr, d.db, sizeof(vcpu->dr));
	vcpu->dr6 = d.dr6;
	vcpu->dr7 = d.dr7;
	return 0;
}

static int hvk_set_sregs(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	unsigned long vec;
	int r;

	if (!hvk_sregs_valid(vcpu, sregs) || sregs->cr8 > 15)
		return -EINVAL;
	/* Checked first: nothing changes if the base is refused. */
	if (hvk_get_apic_base(vcpu) != sregs->apic_base &&
	    hvk_set_apic_base(vcpu, sregs->apic_base, true))
		return -EINVAL;

	r = hvk_vendor->set_sregs(vcpu, sregs);
	if (r)
		return r;
	hvk_set_cr8(vcpu, sregs->cr8);
	/* The interrupt bitmap queues its lowest interrupt, as KVM_INTERRUPT. */
	vec = find_first_bit((const unsigned long *)sregs->interrupt_bitmap, 256);
	if (vec < 256) {
		vcpu->events.interrupt.injected = true;
		vcpu->events.interrupt.soft = false;
		vcpu->events.interrupt.nr = vec;
	}
	return 0;
}

static void hvk_get_sregs(struct hvk_vcpu *vcpu, struct kvm_sregs *sregs)
{
	memset(sregs, 0, sizeof(*sregs));
	hvk_vendor->get_sregs(vcpu, sregs);
	sregs->cr8 = hvk_get_cr8(vcpu);
	sregs->apic_base = hvk_get_apic_base(vcpu);
	if (vcpu->events.interrupt.injected && !vcpu->events.interrupt.soft)
		__set_bit(vcpu->events.interrupt.nr,
			  (unsigned long *)sregs->interrupt_bitmap);
}

/* KVM_GET/SET_REGS and KVM_GET/SET_SREGS. */
static long hvk_regs_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
			   void __user *argp)
{
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
	} *u;
	long r = -EFAULT;

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	switch (ioctl) {
	case KVM_GET_REGS:
		hvk_get_regs(vcpu, &u->regs);
		if (!copy_to_user(argp, &u->regs, sizeof(u->regs)))
			r = 0;
		break;
	case KVM_SET_REGS:
		if (!copy_from_user(&u->regs, argp, sizeof(u->regs))) {
			hvk_set_regs(vcpu, &u->regs);
			r = 0;
		}
		break;
	case KVM_GET_SREGS:
		hvk_get_sregs(vcpu, &u->sregs);
		if (!copy_to_user(argp, &u->sregs, sizeof(u->sregs)))
			r = 0;
		break;
	default: /* KVM_SET_SREGS */
		if (!copy_from_user(&u->sregs, argp, sizeof(u->sregs)))
			r = hvk_set_sregs(vcpu, &u->sregs);
		break;
	}
	kfree(u);
	return r;
}

/* Every vCPU ioctl, with vcpu->mutex held and the vCPU loaded. */
static long hvk_vcpu_do_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
			      void __user *argp)
{
	switch (ioctl) {
	case KVM_RUN:
		return hvk_vcpu_run(vcpu);
	case KVM_GET_REGS:
	case KVM_SET_REGS:
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
		return hvk_regs_ioctl(vcpu, ioctl, argp);
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		return hvk_msrs_ioctl(vcpu, argp, ioctl == KVM_SET_MSRS);
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_GET_XSAVE2:
	case KVM_SET_XSAVE:
		return hvk_fpu_ioctl(vcpu, ioctl, argp);
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		return hvk_xcrs_ioctl(vcpu, argp, ioctl == KVM_SET_XCRS);
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
		return hvk_debugregs_ioctl(vcpu, argp,
					   ioctl == KVM_SET_DEBUGREGS);
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
	case KVM_INTERRUPT:
	case KVM_NMI:
	case KVM_SET_GUEST_DEBUG:
		return hvk_events_ioctl(vcpu, ioctl, argp);
	case KVM_SET_CPUID2:
		return hvk_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return hvk_get_cpuid2(vcpu, argp);
	case KVM_GET_LAPIC:
	case KVM_SET_LAPIC:
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
		return hvk_irqchip_vcpu_ioctl(vcpu, ioctl, argp);
	case KVM_GET_STATS_FD:
		return hvk_vcpu_get_stats_fd(vcpu);
	case KVM_GET_TSC_KHZ:
		/* No TSC scaling: the guest's TSC runs at the host's rate. */
		return tsc_khz;
	case KVM_SET_TSC_KHZ:
		return hvk_set_tsc_khz((unsigned long)argp);
	default:
		return -ENOTTY;
	}
}

static long hvk_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct hvk_vcpu *vcpu = filp->private_data;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (ioctl == KVM_RUN && arg)
		return -EINVAL;

	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	hvk_vcpu_load(vcpu);
	r = hvk_vcpu_do_ioctl(vcpu, ioctl, (void __user *)arg);
	hvk_vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return r;
}

/* The vCPU mmap: page 0 is struct kvm_run, page 1 the PIO data page. */
static vm_fault_t hvk_vcpu_fault(struct vm_fault *vmf)
{
	struct hvk_vcpu *vcpu = vmf->vma->vm_file->private_data;
	void *addr;

	if (vmf->pgoff == 0)
		addr = vcpu->run;
	else if (vmf->pgoff == HVK_PIO_PAGE_OFFSET)
		addr = vcpu->pio_data;
	else
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(addr);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct hvk_vcpu_vm_ops = {
	.fault = hvk_vcpu_fault,
};

static int hvk_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	vma->vm_ops = &hvk_vcpu_vm_ops;
	return 0;
}

static int hvk_vcpu_release(struct inode *inode, struct file *filp)
{
	struct hvk_vcpu *vcpu = filp->private_data;

	hvk_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations hvk_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = hvk_vcpu_release,
	.unlocked_ioctl = hvk_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = hvk_vcpu_mmap,
	.llseek = noop_llseek,
};

/* Called when the VM is destroyed: no fd refers to the vCPU any more. */
void hvk_vcpu_destroy(struct hvk_vcpu *vcpu)
{
	hvk_irqchip_vcpu_destroy(vcpu);
	hvk_vendor->vcpu_free(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	hvk_mmu_free_cache(&vcpu->mmu_cache);
	kvfree(vcpu->cpuid);
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

int hvk_create_vcpu(struct hvk_vm *vm, unsigned long id)
{
	struct hvk_vcpu *vcpu;
	char name[16];
	int r;

	/* The entry stubs address regs[] through vmenter.inc's offsets. */
	BUILD_BUG_ON(HVK_RAX * 8 != HVK_GPR_RAX);
	BUILD_BUG_ON(HVK_RBP * 8 != HVK_GPR_RBP);
	BUILD_BUG_ON(HVK_R15 * 8 != HVK_GPR_R15);
	if (id >= HVK_MAX_VCPU_ID)
		return -EINVAL;

	vcpu = kzalloc(hvk_vendor->vcpu_size, GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	preempt_notifier_init(&vcpu->preempt_notifier, &hvk_preempt_ops);
	/* The reset state a KVM client expects (SDM Vol. 3, 10.1.1). */
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->apic_base = APIC_DEFAULT_PHYS_BASE | BIT_ULL(11) |
			  (id == 0 ? BIT_ULL(8) : 0);
	hvk_reset_debug_registers(vcpu);
	hvk_msrs_reset(vcpu);
	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->exit_time = &vcpu->stat.userspace;
	snprintf(vcpu->stats_id, sizeof(vcpu->stats_id), "hvk-%d/vcpu-%lu",
		 task_pid_nr(current), id);

	r = -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run || !vcpu->pio_data)
		goto err_pages;
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu))
		goto err_pages;
	r = hvk_vendor->vcpu_init(vcpu);
	if (r)
		goto err_vendor;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		r = -EEXIST;
		goto err_unlock;
	}
	if (vm->nr_vcpus >= HVK_MAX_VCPUS) {
		r = -EINVAL;
		goto err_unlock;
	}
	r = hvk_irqchip_vcpu_create(vcpu);
	if (r)
		goto err_unlock;
	hvk_vm_get(vm);
	snprintf(name, sizeof(name), "hvk-vcpu:%lu", id);
	r = anon_inode_getfd(name, &hvk_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		hvk_vm_put(vm);	/* not the last reference: the VM fd holds one */
		goto err_unlock;
	}
	/* Lockless readers (hvk_vm_request_all) see it initialized. */
	smp_store_release(&vm->vcpus[id], vcpu);
	hvk_irqchip_vcpu_publish(vcpu);
	vm->nr_vcpus++;
	hvk_vcpu_debugfs_init(vcpu);
	mutex_unlock(&vm->lock);
	return r;

err_unlock:
	mutex_unlock(&vm->lock);
	hvk_irqchip_vcpu_destroy(vcpu);
err_vendor:
	hvk_vendor->vcpu_free(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
err_pages:
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	return r;
}
