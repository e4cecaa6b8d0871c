/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VT-x backend: the vCPU, the VMCS accessors and what the files of
 * module/vmx share.  vmx.c: VMX operation per CPU, VMCS lifetime and
 * loading; state.c: guest registers in the VMCS; run.c: guest entry and
 * exit handlers; vmenter.S: the entry stub.
 */
#ifndef HVK_VMX_VMX_H
#define HVK_VMX_VMX_H

#include <linux/bug.h>
#include <linux/list.h>
#include <asm/asm.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "../hvk.h"

struct vmx_vcpu {
	struct hvk_vcpu vcpu;		/* first: the core allocates us */

	void *vmcs;			/* (i) the VMCS region, one page */
	u64 vmcs_pa;			/* (i) */
	u16 vpid;			/* (i) 0: VPID not used */

	/*
	 * The CPU on which the VMCS is active (VMPTRLD'd since its last
	 * VMCLEAR), or -1, and the link in that CPU's list of active VMCSs.
	 * Written with interrupts off, on that CPU or before the VMCS is
	 * added to it; read by other CPUs to know whom to ask for VMCLEAR.
	 */
	int loaded_cpu;			/* (a) */
	struct list_head loaded_link;	/* (l: interrupts off on loaded_cpu) */
	bool launched;			/* (o) VMLAUNCHed since the VMCLEAR */
	int last_run_cpu;		/* (o) CPU of the last entry, or -1 */
	bool flush_guest;		/* (o) guest's TLB is stale (set_sregs) */
	/*
	 * A VMX instruction failed on hvk's side: the VMCS can no longer be
	 * trusted, and every run of this vCPU ends with -EIO.
	 */
	bool broken;			/* (o) */

	u32 entry_ctls;			/* (o) VM_ENTRY_CONTROLS */
	u32 primary_ctls;		/* (o) CPU_BASED_VM_EXEC_CONTROL */
	u32 secondary_ctls;		/* (o) SECONDARY_VM_EXEC_CONTROL */

	/*
	 * Guest state VMX does not switch.  The MSRs are in the hardware
	 * while the vCPU is loaded, and here while it is not.
	 */
	unsigned long cr2;		/* (o) */
	u64 kernel_gs_base;		/* (o) MSR_KERNEL_GS_BASE */
	u64 syscall_msrs[4];		/* (o) vmx_syscall_msrs[] */
	s64 tsc_offset;			/* (o) TSC_OFFSET as written */
	/* HOST_CR3 and HOST_CR4 as written, 0 after a load: rewritten. */
	unsigned long host_cr3;		/* (o) */
	unsigned long host_cr4;		/* (o) */

	/* Host state saved by vcpu_load, restored by vcpu_put. */
	struct {
		bool saved;
		u16 ds, es, fs, gs, ldt;
		u64 kernel_gs_base;
		const u64 *syscall_msrs;	/* the CPU's vmx_cpu */
	} host;				/* (o) */

	/* The last exit, read right after it. */
	bool fail;			/* (o) VMLAUNCH/VMRESUME failed */
	u32 insn_error;			/* (o) VM_INSTRUCTION_ERROR on fail */
	u32 exit_reason;		/* (o) */
	u64 exit_qual;			/* (o) */
	u32 exit_intr_info;		/* (o) */
	u32 exit_insn_len;		/* (o) */
	u32 exit_insn_info;		/* (o) */
	u64 exit_gpa;			/* (o) */
};

/*
 * #AC and #DB whose delivery raises them again would loop inside the CPU
 * (CVE-2015-5307, -8104); #DB also carries the DR6 bits the guest's
 * emulated DR6 needs.  Both are reflected (run.c).  #BP is added while the
 * debugger uses software breakpoints.
 */
#define VMX_EXCEPTIONS_INTERCEPTED	(BIT(X86_TRAP_AC) | BIT(X86_TRAP_DB))

static inline struct vmx_vcpu *to_vmx(struct hvk_vcpu *vcpu)
{
	return container_of(vcpu, struct vmx_vcpu, vcpu);
}

/*
 * Run a VMX instruction that reports VMfail in CF or ZF (SDM Vol. 3, 31.2),
 * given as an asm template and its input operands; true on success.  A
 * fault (outside VMX operation) skips SETNA and counts as a failure.
 */
#define vmx_insn_ok(template, ...)					\
({									\
	u8 __failed = 1;						\
									\
	asm volatile("1: " template "\n\t"				\
		     "setna %[failed]\n\t"				\
		     "2:\n\t"						\
		     _ASM_EXTABLE(1b, 2b)				\
		     : [failed] "+qm" (__failed)			\
		     : __VA_ARGS__					\
		     : "cc", "memory");					\
	!__failed;							\
})

/*
 * VMREAD and VMWRITE on the current VMCS.  A failure (VMfail, or a fault
 * outside VMX operation) is hvk's bug: it warns once and marks the vCPU
 * broken, after which the accessors do nothing (the current VMCS may be
 * another vCPU's) and reads return 0.
 */
static inline u64 vmcs_read(struct vmx_vcpu *vmx, unsigned long field)
{
	unsigned long value = 0;
	u8 failed = 1;

	if (vmx->broken)
		return 0;
	asm volatile("1: vmread %[field], %[value]\n\t"
		     "setna %[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [value] "+r" (value), [failed] "+qm" (failed)
		     : [field] "r" (field)
		     : "cc");
	if (unlikely(failed)) {
		WARN_ONCE(1, "hvk: VMREAD of VMCS field %#lx failed\n", field);
		vmx->broken = true;
		return 0;
	}
	return value;
}

static inline void vmcs_write(struct vmx_vcpu *vmx, unsigned long field,
			      u64 value)
{
	u8 failed = 1;

	if (vmx->broken)
		return;
	asm volatile("1: vmwrite %[value], %[field]\n\t"
		     "setna %[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [failed] "+qm" (failed)
		     : [field] "r" (field), [value] "rm" ((unsigned long)value)
		     : "cc");
	if (unlikely(failed)) {
		WARN_ONCE(1, "hvk: VMWRITE of VMCS field %#lx failed\n", field);
		vmx->broken = true;
	}
}

/* vmx.c */
extern u64 vmx_basic;		/* (i) IA32_VMX_BASIC */
extern u64 vmx_ept_vpid_caps;	/* (i) IA32_VMX_EPT_VPID_CAP */
extern u64 vmx_cr0_fixed0, vmx_cr0_fixed1;	/* (i) IA32_VMX_CR0_FIXED0/1 */
extern u64 vmx_cr4_fixed0, vmx_cr4_fixed1;	/* (i) IA32_VMX_CR4_FIXED0/1 */
bool vmx_cpu_is_on(void);
u64 vmx_eptp(struct vmx_vcpu *vmx);

/* state.c */
void vmx_init_guest_state(struct vmx_vcpu *vmx);
void vmx_get_sregs(struct hvk_vcpu *vcpu, struct kvm_sregs *sregs);
int vmx_set_sregs(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs);
void vmx_get_segment(struct hvk_vcpu *vcpu, struct kvm_segment *seg,
		     enum hvk_sreg sreg);
u64 vmx_get_cr(struct hvk_vcpu *vcpu, int cr);
u64 vmx_get_efer(struct hvk_vcpu *vcpu);
void vmx_set_cr0(struct hvk_vcpu *vcpu, u64 cr0);
void vmx_set_cr4(struct hvk_vcpu *vcpu, u64 cr4);
void vmx_set_efer(struct hvk_vcpu *vcpu, u64 efer);

/* run.c */
int vmx_run_setup(void);
void vmx_run_unsetup(void);
void vmx_run(struct hvk_vcpu *vcpu, unsigned int flags);
bool vmx_fastpath(struct hvk_vcpu *vcpu);
int vmx_handle_exit(struct hvk_vcpu *vcpu);
void vmx_exit_info(struct hvk_vcpu *vcpu, struct hvk_exit_info *info);
void vmx_set_cr2(struct hvk_vcpu *vcpu, u64 cr2);
void vmx_inject_event(struct hvk_vcpu *vcpu, const struct hvk_event *ev);
void vmx_set_windows(struct hvk_vcpu *vcpu, bool irq, bool nmi);
u8 vmx_get_interrupt_shadow(struct hvk_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct hvk_vcpu *vcpu, u8 shadow);
void vmx_end_instruction(struct hvk_vcpu *vcpu);
bool vmx_get_nmi_mask(struct hvk_vcpu *vcpu);
void vmx_set_nmi_mask(struct hvk_vcpu *vcpu, bool masked);
void vmx_update_guest_debug(struct hvk_vcpu *vcpu);

/*
 * vmenter.S: enter the guest of the current VMCS.  0 after a VM exit,
 * 1 if VMLAUNCH/VMRESUME failed; contract in the file.
 */
int hvk_vmx_enter(unsigned long *regs, bool launched);
extern const u8 hvk_vmx_vmexit[];

#endif /* HVK_VMX_VMX_H */
