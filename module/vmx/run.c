// SPDX-License-Identifier: GPL-2.0
/*
 * VMX guest entry and exit handling.
 *
 * vmx_run() loads what the core keeps outside the VMCS (RIP, RSP, RFLAGS,
 * a pending exception), switches what VMX does not (CR2), enters through
 * vmenter.S and reads the exit information back; vmx_handle_exit()
 * dispatches on the basic exit reason (SDM Vol. 3, Appendix C) to
 * handlers that share the core's return rule: 1 = enter again, 0 = to user
 * space with vcpu->run filled in, < 0 = error.
 */
#include <linux/gfp.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "vmx.h"

/* IA32_VMX_BASIC bit 54: INS/OUTS exits report instruction information. */
#define VMX_BASIC_INS_OUTS_INFO	BIT_ULL(54)

/* IA32_VMX_EPT_VPID_CAP: INVEPT and INVVPID types (SDM Vol. 3, A.10). */
#define CAP_INVEPT_SINGLE	BIT_ULL(25)
#define CAP_INVVPID_SINGLE	BIT_ULL(41)

/* Exit qualification for I/O instructions (SDM Vol. 3, Table 28-5). */
#define IO_SIZE(q)		(((q) & 7) + 1)
#define IO_IN			BIT(3)
#define IO_STRING		BIT(4)
#define IO_REP			BIT(5)
#define IO_PORT(q)		((q) >> 16)

/* Exit qualification for control-register accesses (Table 28-3). */
#define CR_NUM(q)		((q) & 15)
#define CR_TYPE(q)		(((q) >> 4) & 3)
#define CR_TYPE_MOV_TO		0
#define CR_TYPE_MOV_FROM	1
#define CR_TYPE_CLTS		2
#define CR_TYPE_LMSW		3
#define CR_GPR(q)		(((q) >> 8) & 15)
#define CR_LMSW_DATA(q)		(((q) >> 16) & 0xffff)

/* Event types in interruption information (Table 25-17). */
#define EVENT_TYPE(info)	(((info) >> 8) & 7)
#define EVENT_EXT_INTR		0
#define EVENT_NMI		2
#define EVENT_HW_EXCEPTION	3
#define EVENT_SW_INTR		4
#define EVENT_PRIV_SW_EXCEPTION	5
#define EVENT_SW_EXCEPTION	6

/* RFLAGS bits that are reserved, as 0 (SDM Vol. 1, 3.4.3). */
#define RFLAGS_RESERVED		(GENMASK_ULL(63, 22) | BIT(15) | BIT(5) | BIT(3))

/*
 * L1D flush before each entry where the CPU is affected by L1TF and the
 * kernel's policy wants it (l1tf= and the VMX-specific l1tf_vmx_mitigation,
 * set by kvm_intel when loaded).  Without the FLUSH_CMD MSR, reading a
 * buffer twice the size of the L1D pushes out the rest.
 */
#define L1D_FLUSH_SIZE		(64 * 1024)
static bool vmx_l1d_flush_needed;	/* (i) */
static void *vmx_l1d_flush_buf;		/* (i) */

int vmx_run_setup(void)
{
	u64 arch_cap = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		return 0;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, arch_cap);
	if (arch_cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return 0;
	switch (l1tf_vmx_mitigation) {
	case VMENTER_L1D_FLUSH_NEVER:
	case VMENTER_L1D_FLUSH_NOT_REQUIRED:
	case VMENTER_L1D_FLUSH_EPT_DISABLED:
		return 0;
	case VMENTER_L1D_FLUSH_AUTO:
		if (l1tf_mitigation == L1TF_MITIGATION_OFF)
			return 0;
		break;
	default:
		break;
	}
	vmx_l1d_flush_needed = true;
	if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		return 0;
	vmx_l1d_flush_buf = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
						     get_order(L1D_FLUSH_SIZE));
	return vmx_l1d_flush_buf ? 0 : -ENOMEM;
}

void vmx_run_unsetup(void)
{
	if (vmx_l1d_flush_buf)
		free_pages((unsigned long)vmx_l1d_flush_buf,
			   get_order(L1D_FLUSH_SIZE));
	vmx_l1d_flush_buf = NULL;
	vmx_l1d_flush_needed = false;
}

static void vmx_l1d_flush(void)
{
	unsigned int off;

	if (!vmx_l1d_flush_buf) {
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* First the TLB entries, so that the second pass only reads lines. */
	for (off = 0; off < L1D_FLUSH_SIZE; off += PAGE_SIZE)
		READ_ONCE(*(u8 *)(vmx_l1d_flush_buf + off));
	for (off = 0; off < L1D_FLUSH_SIZE; off += L1_CACHE_BYTES)
		READ_ONCE(*(u8 *)(vmx_l1d_flush_buf + off));
}

/* INVEPT and INVVPID (SDM Vol. 3, 31.3); false on VMfail or fault. */
static bool vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };

	return vmx_insn_ok("invept %[desc], %[type]",
			   [desc] "m" (desc), [type] "r" (type));
}

static bool vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };

	return vmx_insn_ok("invvpid %[desc], %[type]",
			   [desc] "m" (desc), [type] "r" (type));
}

/*
 * Guest-physical and combined mappings of the VM's EPT, for every VPID:
 * after a change to the EPT, or on a CPU that may hold mappings from an
 * earlier stint of the vCPU (zaps meanwhile were flushed elsewhere).
 */
static void vmx_flush_ept(struct vmx_vcpu *vmx)
{
	bool single = vmx_ept_vpid_caps & CAP_INVEPT_SINGLE;

	if (WARN_ON_ONCE(!vmx_invept(single ? VMX_EPT_EXTENT_CONTEXT :
					      VMX_EPT_EXTENT_GLOBAL,
				     vmx_eptp(vmx))))
		vmx->broken = true;
}

/*
 * The guest's own TLB entries (its page tables changed under it, by
 * KVM_SET_SREGS).  Without VPID, every VM entry does this already.
 */
static void vmx_flush_guest(struct vmx_vcpu *vmx)
{
	bool single = vmx_ept_vpid_caps & CAP_INVVPID_SINGLE;

	if (!vmx->vpid)
		return;
	if (WARN_ON_ONCE(!vmx_invvpid(single ? VMX_VPID_EXTENT_SINGLE_CONTEXT :
					       VMX_VPID_EXTENT_ALL_CONTEXT,
				      vmx->vpid)))
		vmx->broken = true;
}

static bool vmx_long_mode_code(struct vmx_vcpu *vmx)
{
	return (vmx->entry_ctls & VM_ENTRY_IA32E_MODE) &&
	       (vmcs_read(vmx, GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
}

/* Interruption types, in the event's and in VMX's numbering (Table 25-17). */
static const u8 vmx_event_types[] = {
	[HVK_EVENT_EXCEPTION] = EVENT_HW_EXCEPTION,
	[HVK_EVENT_SOFT_EXCEPTION] = EVENT_SW_EXCEPTION,
	[HVK_EVENT_PRIV_SOFT_EXCEPTION] = EVENT_PRIV_SW_EXCEPTION,
	[HVK_EVENT_NMI] = EVENT_NMI,
	[HVK_EVENT_INTR] = EVENT_EXT_INTR,
	[HVK_EVENT_SOFT_INTR] = EVENT_SW_INTR,
};

/* The event to inject at this entry, if any (SDM Vol. 3, 27.6). */
void vmx_inject_event(struct hvk_vcpu *vcpu, const struct hvk_event *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u8 type = vmx_event_types[ev->type];
	u32 info, intr_state;

	if (ev->type == HVK_EVENT_NONE) {
		vmcs_write(vmx, VM_ENTRY_INTR_INFO_FIELD, 0);
		return;
	}
	info = ev->vector | (type << 8) | INTR_INFO_VALID_MASK;
	/* No error code in real mode (27.2.1.3). */
	if (ev->has_error_code && (vmcs_read(vmx, GUEST_CR0) & X86_CR0_PE))
		info |= INTR_INFO_DELIVER_CODE_MASK;
	/*
	 * Delivering an NMI or interrupt ends the shadows, and an NMI
	 * being delivered (again) is not blocked: VM entry checks both
	 * (27.3.1.5).  Only user space can make them disagree.
	 */
	if (type == EVENT_NMI || type == EVENT_EXT_INTR) {
		intr_state = vmcs_read(vmx, GUEST_INTERRUPTIBILITY_INFO);
		intr_state &= ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
		if (type == EVENT_NMI)
			intr_state &= ~GUEST_INTR_STATE_NMI;
		vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO, intr_state);
	}
	vmcs_write(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
	vmcs_write(vmx, VM_ENTRY_INSTRUCTION_LEN, ev->insn_len);
	vmcs_write(vmx, VM_ENTRY_INTR_INFO_FIELD, info);
}

/* Interrupt- and NMI-window exiting (SDM Vol. 3, 26.7.5 and 26.7.6). */
void vmx_set_windows(struct hvk_vcpu *vcpu, bool irq, bool nmi)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 ctls = vmx->primary_ctls & ~(CPU_BASED_INTR_WINDOW_EXITING |
					 CPU_BASED_NMI_WINDOW_EXITING);

	if (irq)
		ctls |= CPU_BASED_INTR_WINDOW_EXITING;
	if (nmi)
		ctls |= CPU_BASED_NMI_WINDOW_EXITING;
	if (ctls != vmx->primary_ctls) {
		vmx->primary_ctls = ctls;
		vmcs_write(vmx, CPU_BASED_VM_EXEC_CONTROL, ctls);
	}
}

u8 vmx_get_interrupt_shadow(struct hvk_vcpu *vcpu)
{
	u32 intr_state = vmcs_read(to_vmx(vcpu), GUEST_INTERRUPTIBILITY_INFO);
	u8 shadow = 0;

	if (intr_state & GUEST_INTR_STATE_STI)
		shadow |= KVM_X86_SHADOW_INT_STI;
	if (intr_state & GUEST_INTR_STATE_MOV_SS)
		shadow |= KVM_X86_SHADOW_INT_MOV_SS;
	return shadow;
}

/* The two blockings never coexist (27.3.1.5): MOV SS wins, as in KVM. */
void vmx_set_interrupt_shadow(struct hvk_vcpu *vcpu, u8 shadow)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 intr_state = vmcs_read(vmx, GUEST_INTERRUPTIBILITY_INFO);
	u32 old = intr_state;

	intr_state &= ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	if (shadow & KVM_X86_SHADOW_INT_MOV_SS)
		intr_state |= GUEST_INTR_STATE_MOV_SS;
	else if (shadow & KVM_X86_SHADOW_INT_STI)
		intr_state |= GUEST_INTR_STATE_STI;
	if (intr_state != old)
		vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO, intr_state);
}

/*
 * Bochs keeps a single-step trap pending (BS) for an instruction that
 * exited with TF set, and delivers it at the next entry: the instruction
 * did not complete in the hardware, so nothing of it is pending.
 */
void vmx_end_instruction(struct hvk_vcpu *vcpu)
{
	vmx_set_interrupt_shadow(vcpu, 0);
	vmcs_write(to_vmx(vcpu), GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* Virtual-NMI blocking: set by NMI delivery, cleared by IRET (25.3). */
bool vmx_get_nmi_mask(struct hvk_vcpu *vcpu)
{
	return vmcs_read(to_vmx(vcpu), GUEST_INTERRUPTIBILITY_INFO) &
	       GUEST_INTR_STATE_NMI;
}

void vmx_set_nmi_mask(struct hvk_vcpu *vcpu, bool masked)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 intr_state = vmcs_read(vmx, GUEST_INTERRUPTIBILITY_INFO);

	if (masked)
		intr_state |= GUEST_INTR_STATE_NMI;
	else
		intr_state &= ~GUEST_INTR_STATE_NMI;
	vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO, intr_state);
}

void vmx_update_guest_debug(struct hvk_vcpu *vcpu)
{
	u32 bitmap = VMX_EXCEPTIONS_INTERCEPTED;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		bitmap |= BIT(X86_TRAP_BP);
	vmcs_write(to_vmx(vcpu), EXCEPTION_BITMAP, bitmap);
}

void vmx_set_cr2(struct hvk_vcpu *vcpu, u64 cr2)
{
	to_vmx(vcpu)->cr2 = cr2;
}

/* Registers the core keeps, in the form VM entry accepts (27.3.1.4). */
static void vmx_load_core_regs(struct vmx_vcpu *vmx)
{
	struct hvk_vcpu *vcpu = &vmx->vcpu;
	u32 intr_state;

	if (!vmx_long_mode_code(vmx))
		vcpu->rip = (u32)vcpu->rip;
	vcpu->rflags = (vcpu->rflags & ~RFLAGS_RESERVED) | X86_EFLAGS_FIXED;
	vmcs_write(vmx, GUEST_RIP, vcpu->rip);
	vmcs_write(vmx, GUEST_RSP, vcpu->regs[HVK_RSP]);
	vmcs_write(vmx, GUEST_RFLAGS, vcpu->rflags);

	/*
	 * Blocking by STI never outlives a clear IF (user space may clear
	 * it); the core ends both shadows when it completes an instruction.
	 * Under a shadow, a single-step trap is pending exactly when TF is
	 * set (27.3.1.5): the debugger's TF, or the guest's.
	 */
	intr_state = vmcs_read(vmx, GUEST_INTERRUPTIBILITY_INFO);
	if (intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) {
		if (!(vcpu->rflags & X86_EFLAGS_IF))
			intr_state &= ~GUEST_INTR_STATE_STI;
		vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO, intr_state);
		vmcs_write(vmx, GUEST_PENDING_DBG_EXCEPTIONS,
			   vcpu->rflags & X86_EFLAGS_TF ? DR_STEP : 0);
	}
}

/* An interruption-information value as an hvk event. */
static void vmx_event_from_info(struct vmx_vcpu *vmx, u32 info, u32 error_code,
				struct hvk_event *ev)
{
	static const u8 types[8] = {
		[EVENT_EXT_INTR] = HVK_EVENT_INTR,
		[EVENT_NMI] = HVK_EVENT_NMI,
		[EVENT_HW_EXCEPTION] = HVK_EVENT_EXCEPTION,
		[EVENT_SW_INTR] = HVK_EVENT_SOFT_INTR,
		[EVENT_PRIV_SW_EXCEPTION] = HVK_EVENT_PRIV_SOFT_EXCEPTION,
		[EVENT_SW_EXCEPTION] = HVK_EVENT_SOFT_EXCEPTION,
	};

	*ev = (struct hvk_event) {
		.type = types[EVENT_TYPE(info)],
		.vector = info & INTR_INFO_VECTOR_MASK,
		.has_error_code = info & INTR_INFO_DELIVER_CODE_MASK,
		.error_code = error_code,
		.insn_len = vmx->exit_insn_len,
	};
}

/* Exits whose handlers need the instruction length only (the fast path's). */
static bool vmx_exit_needs_len_only(u32 exit_reason)
{
	switch (exit_reason) {
	case EXIT_REASON_CPUID:
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
	case EXIT_REASON_VMCALL:
		return true;
	default:
		return false;
	}
}

static void vmx_read_exit_info(struct vmx_vcpu *vmx)
{
	struct hvk_vcpu *vcpu = &vmx->vcpu;
	struct hvk_event interrupted;
	bool unblock_nmi;
	u32 idt_info;

	vmx->exit_reason = vmcs_read(vmx, VM_EXIT_REASON);
	vcpu->rip = vmcs_read(vmx, GUEST_RIP);
	vcpu->regs[HVK_RSP] = vmcs_read(vmx, GUEST_RSP);
	vcpu->rflags = vmcs_read(vmx, GUEST_RFLAGS);
	if (vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		vmx->exit_qual = vmcs_read(vmx, EXIT_QUALIFICATION);
		hvk_event_delivery_done(vcpu, NULL);
		return;
	}
	vmx->exit_insn_len = vmcs_read(vmx, VM_EXIT_INSTRUCTION_LEN);
	/*
	 * An instruction's own exit never comes from event delivery: its
	 * IDT-vectoring information is never valid (28.2.4).
	 */
	if (vmx_exit_needs_len_only(vmx->exit_reason)) {
		vmx->exit_qual = 0;
		vmx->exit_intr_info = 0;
		vmx->exit_insn_info = 0;
		hvk_event_delivery_done(vcpu, NULL);
		return;
	}
	vmx->exit_qual = vmcs_read(vmx, EXIT_QUALIFICATION);
	vmx->exit_intr_info = vmcs_read(vmx, VM_EXIT_INTR_INFO);
	vmx->exit_insn_info = vmcs_read(vmx, VMX_INSTRUCTION_INFO);
	if ((u16)vmx->exit_reason == EXIT_REASON_EPT_VIOLATION ||
	    (u16)vmx->exit_reason == EXIT_REASON_EPT_MISCONFIG)
		vmx->exit_gpa = vmcs_read(vmx, GUEST_PHYSICAL_ADDRESS);

	/* An event whose delivery the exit cut short (28.2.4). */
	idt_info = vmcs_read(vmx, IDT_VECTORING_INFO_FIELD);
	if (idt_info & VECTORING_INFO_VALID_MASK) {
		vmx_event_from_info(vmx, idt_info,
				    vmcs_read(vmx, IDT_VECTORING_ERROR_CODE),
				    &interrupted);
		hvk_event_delivery_done(vcpu, &interrupted);
		return;
	}
	hvk_event_delivery_done(vcpu, NULL);

	/*
	 * A fault in an IRET that had already unblocked NMIs: the blocking
	 * comes back with the IRET executed again (28.2.3, 28.2.1).
	 */
	switch ((u16)vmx->exit_reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		unblock_nmi = vmx->exit_intr_info & INTR_INFO_UNBLOCK_NMI;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		unblock_nmi = vmx->exit_qual & BIT(12);
		break;
	default:
		unblock_nmi = false;
	}
	if (unblock_nmi)
		vmx_set_nmi_mask(vcpu, true);
}

void vmx_run(struct hvk_vcpu *vcpu, unsigned int flags)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = smp_processor_id();

	vmx->fail = false;
	if (vmx->broken)
		return;
	/* An emergency or a reboot took VMX away: no entry, no warning. */
	if (!vmx_cpu_is_on()) {
		vmx->broken = true;
		return;
	}
	if ((flags & HVK_RUN_FLUSH_TLB) || vmx->last_run_cpu != cpu)
		vmx_flush_ept(vmx);
	else if (vmx->flush_guest)
		vmx_flush_guest(vmx);
	vmx->flush_guest = false;
	vmx->last_run_cpu = cpu;

	if (vmx->tsc_offset != READ_ONCE(vcpu->vm->tsc_offset)) {
		vmx->tsc_offset = READ_ONCE(vcpu->vm->tsc_offset);
		vmcs_write(vmx, TSC_OFFSET, vmx->tsc_offset);
	}

	/*
	 * The kernel may change these at any time (PCID, cr4 bits): written
	 * when they differ from what the VMCS holds since this vCPU was
	 * last loaded.
	 */
	if (unlikely(vmx->host_cr3 != __read_cr3())) {
		vmx->host_cr3 = __read_cr3();
		vmcs_write(vmx, HOST_CR3, vmx->host_cr3);
	}
	if (unlikely(vmx->host_cr4 != cr4_read_shadow())) {
		vmx->host_cr4 = cr4_read_shadow();
		vmcs_write(vmx, HOST_CR4, vmx->host_cr4);
	}
	/*
	 * After a fast-path exit only RIP changed, already in the form
	 * vmx_next_rip() gives, and the shadows are gone: RSP and RFLAGS in
	 * the VMCS are the guest's still.
	 */
	if (flags & HVK_RUN_FAST_REENTRY)
		vmcs_write(vmx, GUEST_RIP, vcpu->rip);
	else
		vmx_load_core_regs(vmx);
	if (vmx->broken)
		return;

	if (vmx_l1d_flush_needed)
		vmx_l1d_flush();
	if (vmx->cr2 != native_read_cr2())
		native_write_cr2(vmx->cr2);

	hvk_guest_state_enter_irqoff();
	hvk_spec_ctrl_enter(vcpu);
	vmx->fail = hvk_vmx_enter(vcpu->regs, vmx->launched);
	hvk_spec_ctrl_exit(vcpu);
	vmx->cr2 = native_read_cr2();
	hvk_guest_state_exit_irqoff();

	if (vmx->fail) {
		vmx->insn_error = vmcs_read(vmx, VM_INSTRUCTION_ERROR);
		hvk_event_delivery_done(vcpu, NULL);
		return;
	}
	vmx->launched = true;
	vmx_read_exit_info(vmx);

	/*
	 * An NMI that exited is the host's, and NMIs stay blocked until an
	 * IRET: have the kernel's handler take it now, interrupts still off.
	 */
	if ((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI &&
	    (vmx->exit_intr_info & INTR_INFO_VALID_MASK) &&
	    EVENT_TYPE(vmx->exit_intr_info) == EVENT_NMI)
		asm volatile("int $2");
}

/* --- exit handlers ------------------------------------------------------- */

static u64 vmx_next_rip(struct vmx_vcpu *vmx)
{
	u64 rip = vmx->vcpu.rip + vmx->exit_insn_len;

	return vmx_long_mode_code(vmx) ? rip : (u32)rip;
}

static int vmx_handle_exception_nmi(struct vmx_vcpu *vmx)
{
	u32 info = vmx->exit_intr_info;
	struct hvk_event ev;

	if (EVENT_TYPE(info) == EVENT_NMI)
		return 1;	/* taken by the host in vmx_run() */
	/* #DB: the exit qualification has its DR6 bits (SDM Vol. 3, 28.2.1). */
	if (EVENT_TYPE(info) == EVENT_HW_EXCEPTION &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_DB)
		return hvk_handle_debug_exception(&vmx->vcpu, vmx->exit_qual);
	/* INT3, intercepted only for the debugger's software breakpoints. */
	if (EVENT_TYPE(info) == EVENT_SW_EXCEPTION &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_BP)
		return hvk_handle_breakpoint(&vmx->vcpu);
	/*
	 * ICEBP (INT1) raises #DB as a privileged software exception: it goes
	 * back as one, with the instruction's length, so that it returns past
	 * the instruction (SDM Vol. 3, 27.6.1.1): as an event whose delivery
	 * has begun.
	 */
	if (EVENT_TYPE(info) == EVENT_PRIV_SW_EXCEPTION &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_DB) {
		vmx_event_from_info(vmx, info, 0, &ev);
		hvk_event_delivery_done(&vmx->vcpu, &ev);
		return 1;
	}
	/* Intercepted #AC goes back to the guest; the error code is 0. */
	if (EVENT_TYPE(info) == EVENT_HW_EXCEPTION &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_AC) {
		return hvk_queue_exception(&vmx->vcpu, X86_TRAP_AC, true, 0);
	}
	return hvk_exit_unhandled(&vmx->vcpu, vmx->exit_reason,
				  vmx->exit_qual, info);
}

/*
 * The interrupt is still pending in the host: it is taken on the way out.
 * The end of a preemption-timer slice (vmx.c) is counted the same way.
 */
static int vmx_handle_external_interrupt(struct vmx_vcpu *vmx)
{
	vmx->vcpu.stat.irq_exits++;
	return 1;
}

/* Interrupt or NMI window: the guest can take what waits. */
static int vmx_handle_window(struct vmx_vcpu *vmx)
{
	return hvk_handle_event_window(&vmx->vcpu);
}

static int vmx_handle_triple_fault(struct vmx_vcpu *vmx)
{
	return hvk_handle_shutdown(&vmx->vcpu);
}

static int vmx_handle_cpuid(struct vmx_vcpu *vmx)
{
	return hvk_handle_cpuid(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_handle_hlt(struct vmx_vcpu *vmx)
{
	return hvk_handle_hlt(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_handle_rdmsr(struct vmx_vcpu *vmx)
{
	return hvk_handle_rdmsr(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_handle_wrmsr(struct vmx_vcpu *vmx)
{
	return hvk_handle_wrmsr(&vmx->vcpu, vmx_next_rip(vmx));
}

/*
 * Instructions CPUID does not offer the guest: VMX (no nested
 * virtualization), MONITOR/MWAIT.  #UD, as on hardware without them.
 */
static int vmx_inject_ud(struct vmx_vcpu *vmx)
{
	return hvk_queue_exception(&vmx->vcpu, X86_TRAP_UD, false, 0);
}

static int vmx_handle_vmcall(struct vmx_vcpu *vmx)
{
	return hvk_handle_hypercall(&vmx->vcpu, vmx_next_rip(vmx));
}

/* XSETBV always exits (SDM Vol. 3, 26.1.2). */
static int vmx_handle_xsetbv(struct vmx_vcpu *vmx)
{
	return hvk_handle_xsetbv(&vmx->vcpu, vmx_next_rip(vmx));
}

/* No performance counters are offered: RDPMC is #GP. */
static int vmx_handle_rdpmc(struct vmx_vcpu *vmx)
{
	return hvk_queue_exception(&vmx->vcpu, X86_TRAP_GP, true, 0);
}

/*
 * MOV to or from a debug register, emulated by the core.  Exit
 * qualification (SDM Vol. 3, 28.2.1): bits 2:0 the DR, bit 4 set for MOV
 * from DR, bits 11:8 the GPR.
 */
static int vmx_handle_dr(struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;

	return hvk_handle_mov_dr(&vmx->vcpu, q & 7, (q >> 8) & 0xf,
				 !(q & BIT(4)), vmx_next_rip(vmx));
}

/* Caches are not the guest's to flush: WBINVD and INVD do nothing. */
static int vmx_handle_wbinvd(struct vmx_vcpu *vmx)
{
	vmx->vcpu.rip = vmx_next_rip(vmx);
	return 1;
}

/* Address size of INS/OUTS: from the exit, else from the instruction. */
static int vmx_string_io_addr_bytes(struct vmx_vcpu *vmx, u8 *bytes)
{
	struct hvk_insn insn;
	int mode;

	if (vmx_basic & VMX_BASIC_INS_OUTS_INFO) {
		/* Bits 9:7: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit (28.2.5). */
		*bytes = 2 << ((vmx->exit_insn_info >> 7) & 3);
		return 0;
	}
	if (hvk_decode_at_rip(&vmx->vcpu, &insn))
		return -EFAULT;
	mode = hvk_cs_mode(&vmx->vcpu);
	if (mode == 64)
		*bytes = insn.adsize ? 4 : 8;
	else if (mode == 32)
		*bytes = insn.adsize ? 2 : 4;
	else
		*bytes = insn.adsize ? 4 : 2;
	return 0;
}

static int vmx_handle_io(struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;
	u8 addr_bytes = 0;

	if ((q & IO_STRING) && vmx_string_io_addr_bytes(vmx, &addr_bytes))
		return hvk_exit_emulation_failed(&vmx->vcpu);
	return hvk_handle_io(&vmx->vcpu, IO_PORT(q), IO_SIZE(q), q & IO_IN,
			     q & IO_STRING, q & IO_REP, addr_bytes,
			     vmx_next_rip(vmx));
}

static int vmx_handle_cr(struct vmx_vcpu *vmx)
{
	struct hvk_vcpu *vcpu = &vmx->vcpu;
	u64 q = vmx->exit_qual, next_rip = vmx_next_rip(vmx);
	unsigned long *gpr = &vcpu->regs[CR_GPR(q)];
	int cr = CR_NUM(q);
	u64 val, cr0;

	switch (CR_TYPE(q)) {
	case CR_TYPE_MOV_TO:
		/* Outside 64-bit mode the operand is 32 bits. */
		val = vmx_long_mode_code(vmx) ? *gpr : (u32)*gpr;
		return hvk_handle_cr_write(vcpu, cr, val, next_rip);
	case CR_TYPE_MOV_FROM:
		/* Only CR8 reads exit (CR3 is the guest's with EPT). */
		if (cr != 8)
			break;
		*gpr = hvk_get_cr8(vcpu);
		vcpu->rip = next_rip;
		return 1;
	case CR_TYPE_CLTS:
		cr0 = vmx_get_cr(vcpu, 0) & ~X86_CR0_TS;
		return hvk_handle_cr_write(vcpu, 0, cr0, next_rip);
	case CR_TYPE_LMSW:
		/* LMSW loads PE, MP, EM and TS, and cannot clear PE. */
		cr0 = vmx_get_cr(vcpu, 0);
		cr0 = (cr0 & ~0xeULL) | (CR_LMSW_DATA(q) & 0xf);
		return hvk_handle_cr_write(vcpu, 0, cr0, next_rip);
	}
	return hvk_exit_unhandled(vcpu, vmx->exit_reason, q, 0);
}

static int vmx_handle_ept_violation(struct vmx_vcpu *vmx)
{
	/* Qualification bit 1: the access was a write (SDM Vol. 3, 28.2.1). */
	return hvk_handle_ept_npt_fault(&vmx->vcpu, vmx->exit_gpa,
					vmx->exit_qual & BIT(1));
}

/* hvk wrote an EPT entry the CPU does not accept: hvk's bug, not the guest's. */
static int vmx_handle_ept_misconfig(struct vmx_vcpu *vmx)
{
	WARN_ONCE(1, "hvk: EPT misconfiguration at GPA %#llx\n", vmx->exit_gpa);
	return hvk_exit_unhandled(&vmx->vcpu, vmx->exit_reason, 0,
				  vmx->exit_gpa);
}

/*
 * The end of an instruction the fast path completed: the shadows end.  The
 * fast path runs without TF, so no single-step trap is pending, which
 * vmx_end_instruction() must clear for Bochs.
 */
static void vmx_fast_end_instruction(struct vmx_vcpu *vmx)
{
	u32 intr_state = vmcs_read(vmx, GUEST_INTERRUPTIBILITY_INFO);

	if (intr_state & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO,
			   intr_state & ~(GUEST_INTR_STATE_STI |
					  GUEST_INTR_STATE_MOV_SS));
}

/*
 * The fast path (fastpath.c), interrupts off: VM exits for instructions
 * give their length (SDM Vol. 3, 28.2.5).
 */
bool vmx_fastpath(struct hvk_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx->broken || vmx->fail ||
	    (vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		return false;
	switch ((u16)vmx->exit_reason) {
	case EXIT_REASON_CPUID:
		hvk_handle_cpuid(vcpu, vmx_next_rip(vmx));
		vcpu->exit_reason = HVK_EXIT_CPUID;
		break;
	case EXIT_REASON_MSR_READ:
		if (!hvk_fast_msr(vcpu, false, vmx_next_rip(vmx)))
			return false;
		vcpu->exit_reason = HVK_EXIT_MSR_READ;
		break;
	case EXIT_REASON_MSR_WRITE:
		if (!hvk_fast_msr(vcpu, true, vmx_next_rip(vmx)))
			return false;
		vcpu->exit_reason = HVK_EXIT_MSR_WRITE;
		break;
	case EXIT_REASON_VMCALL:
		hvk_handle_hypercall(vcpu, vmx_next_rip(vmx));
		vcpu->exit_reason = HVK_EXIT_HYPERCALL;
		break;
	default:
		return false;
	}
	vmx_fast_end_instruction(vmx);
	return true;
}

typedef int (*vmx_exit_handler)(struct vmx_vcpu *vmx);

static const vmx_exit_handler vmx_exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI] = vmx_handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = vmx_handle_external_interrupt,
	[EXIT_REASON_PREEMPTION_TIMER] = vmx_handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = vmx_handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW] = vmx_handle_window,
	[EXIT_REASON_NMI_WINDOW] = vmx_handle_window,
	[EXIT_REASON_CPUID] = vmx_handle_cpuid,
	[EXIT_REASON_HLT] = vmx_handle_hlt,
	[EXIT_REASON_INVD] = vmx_handle_wbinvd,
	[EXIT_REASON_VMCALL] = vmx_handle_vmcall,
	[EXIT_REASON_VMCLEAR] = vmx_inject_ud,
	[EXIT_REASON_VMLAUNCH] = vmx_inject_ud,
	[EXIT_REASON_VMPTRLD] = vmx_inject_ud,
	[EXIT_REASON_VMPTRST] = vmx_inject_ud,
	[EXIT_REASON_VMREAD] = vmx_inject_ud,
	[EXIT_REASON_VMRESUME] = vmx_inject_ud,
	[EXIT_REASON_VMWRITE] = vmx_inject_ud,
	[EXIT_REASON_VMOFF] = vmx_inject_ud,
	[EXIT_REASON_VMON] = vmx_inject_ud,
	[EXIT_REASON_CR_ACCESS] = vmx_handle_cr,
	[EXIT_REASON_DR_ACCESS] = vmx_handle_dr,
	[EXIT_REASON_RDPMC] = vmx_handle_rdpmc,
	[EXIT_REASON_MWAIT_INSTRUCTION] = vmx_inject_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION] = vmx_inject_ud,
	[EXIT_REASON_IO_INSTRUCTION] = vmx_handle_io,
	[EXIT_REASON_MSR_READ] = vmx_handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = vmx_handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = vmx_handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = vmx_handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = vmx_inject_ud,
	[EXIT_REASON_WBINVD] = vmx_handle_wbinvd,
	[EXIT_REASON_INVVPID] = vmx_inject_ud,
	[EXIT_REASON_VMFUNC] = vmx_inject_ud,
	[EXIT_REASON_XSETBV] = vmx_handle_xsetbv,
};

int vmx_handle_exit(struct hvk_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 basic = (u16)vmx->exit_reason;
	vmx_exit_handler handler = NULL;

	if (vmx->broken)
		return -EIO;
	if (vmx->fail) {
		/* hvk's controls or host state: a bug, not the guest's doing. */
		WARN_ONCE(1, "hvk: VM entry failed, VM-instruction error %u\n",
			  vmx->insn_error);
		return hvk_exit_fail_entry(vcpu, vmx->insn_error);
	}
	/* Invalid guest state, MSR loading or a machine check (27.8). */
	if (vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
		return hvk_exit_fail_entry(vcpu, vmx->exit_reason);

	if (basic < ARRAY_SIZE(vmx_exit_handlers))
		handler = vmx_exit_handlers[array_index_nospec(basic,
					    ARRAY_SIZE(vmx_exit_handlers))];
	if (!handler)
		return hvk_exit_unhandled(vcpu, vmx->exit_reason,
					  vmx->exit_qual, vmx->exit_intr_info);
	return handler(vmx);
}

/*
 * --- Exit reasons for statistics and tracing (exit_reason.h) ---
 *
 * Basic exit reason to the vendor-neutral reason (SDM Vol. 3, Appendix C);
 * reasons not listed are "other".  #UD for the instructions of
 * vmx_inject_ud.
 */
static const u8 vmx_exit_reasons[] = {
	[EXIT_REASON_EXCEPTION_NMI] = HVK_EXIT_EXCEPTION,	/* or NMI */
	[EXIT_REASON_EXTERNAL_INTERRUPT] = HVK_EXIT_IRQ,
	/* The slice's end (vmx.c): the host gets its CPU back, as for an IRQ. */
	[EXIT_REASON_PREEMPTION_TIMER] = HVK_EXIT_IRQ,
	[EXIT_REASON_TRIPLE_FAULT] = HVK_EXIT_SHUTDOWN,
	[EXIT_REASON_INTERRUPT_WINDOW] = HVK_EXIT_IRQ_WINDOW,
	[EXIT_REASON_NMI_WINDOW] = HVK_EXIT_NMI_WINDOW,
	[EXIT_REASON_CPUID] = HVK_EXIT_CPUID,
	[EXIT_REASON_HLT] = HVK_EXIT_HLT,
	[EXIT_REASON_INVD] = HVK_EXIT_INVD,
	[EXIT_REASON_VMCALL] = HVK_EXIT_HYPERCALL,
	[EXIT_REASON_VMCLEAR] = HVK_EXIT_UD,
	[EXIT_REASON_VMLAUNCH] = HVK_EXIT_UD,
	[EXIT_REASON_VMPTRLD] = HVK_EXIT_UD,
	[EXIT_REASON_VMPTRST] = HVK_EXIT_UD,
	[EXIT_REASON_VMREAD] = HVK_EXIT_UD,
	[EXIT_REASON_VMRESUME] = HVK_EXIT_UD,
	[EXIT_REASON_VMWRITE] = HVK_EXIT_UD,
	[EXIT_REASON_VMOFF] = HVK_EXIT_UD,
	[EXIT_REASON_VMON] = HVK_EXIT_UD,
	[EXIT_REASON_CR_ACCESS] = HVK_EXIT_CR,
	[EXIT_REASON_DR_ACCESS] = HVK_EXIT_DR,
	[EXIT_REASON_IO_INSTRUCTION] = HVK_EXIT_IO,
	[EXIT_REASON_MSR_READ] = HVK_EXIT_MSR_READ,
	[EXIT_REASON_MSR_WRITE] = HVK_EXIT_MSR_WRITE,
	[EXIT_REASON_MWAIT_INSTRUCTION] = HVK_EXIT_UD,
	[EXIT_REASON_MONITOR_INSTRUCTION] = HVK_EXIT_UD,
	[EXIT_REASON_PAUSE_INSTRUCTION] = HVK_EXIT_PAUSE,
	[EXIT_REASON_EPT_VIOLATION] = HVK_EXIT_MEM_FAULT,
	[EXIT_REASON_INVEPT] = HVK_EXIT_UD,
	[EXIT_REASON_WBINVD] = HVK_EXIT_INVD,
	[EXIT_REASON_XSETBV] = HVK_EXIT_XSETBV,
	[EXIT_REASON_INVVPID] = HVK_EXIT_UD,
	[EXIT_REASON_VMFUNC] = HVK_EXIT_UD,
};

void vmx_exit_info(struct hvk_vcpu *vcpu, struct hvk_exit_info *info)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 basic = (u16)vmx->exit_reason;

	info->hw_reason = vmx->exit_reason;
	info->info1 = vmx->exit_qual;
	info->info2 = vmx->exit_intr_info;
	if (vmx->broken || vmx->fail ||
	    (vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY)) {
		info->reason = HVK_EXIT_ENTRY_FAILED;
		if (vmx->fail)
			info->hw_reason = vmx->insn_error;
		return;
	}
	if (basic == EXIT_REASON_EXCEPTION_NMI &&
	    EVENT_TYPE(vmx->exit_intr_info) == EVENT_NMI)
		info->reason = HVK_EXIT_NMI;
	else if (basic < ARRAY_SIZE(vmx_exit_reasons))
		info->reason = vmx_exit_reasons[array_index_nospec(basic,
					ARRAY_SIZE(vmx_exit_reasons))];
	else
		info->reason = HVK_EXIT_OTHER;
}
