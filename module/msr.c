// SPDX-License-Identifier: GPL-2.0
/*
 * Model-specific registers: the ones hvk virtualizes, for the guest's RDMSR
 * and WRMSR and for KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS and KVM_SET_MSRS.
 * Every other MSR is #GP in the guest (or an exit to user space with
 * KVM_CAP_X86_USER_SPACE_MSR), and ends KVM_GET/SET_MSRS there.
 *
 * Where the values live: the SYSCALL, SYSENTER and segment-base MSRs in
 * the backend (VMCS, VMCB or the CPU itself, see hvk.h), the TSC as the
 * VM's offset, the rest in struct hvk_msrs.  The guest never reaches an MSR
 * directly: both backends intercept every RDMSR and WRMSR, so what hvk holds
 * is always the guest's value.  Two of them act on the host CPU: TSC_AUX is
 * loaded between vcpu_load and vcpu_put (RDTSCP and RDPID read it in the
 * guest), SPEC_CTRL around each entry (hvk_spec_ctrl_enter()).
 *
 * Memory types are stored and checked but not applied: EPT and NPT map
 * guest memory write-back whatever the guest's MTRRs and PAT say.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/kvm_para.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "hvk.h"

/* As KVM: at most this many MSRs in one KVM_GET/SET_MSRS. */
#define HVK_MAX_IO_MSRS	256

/* PAT after reset: WB, WT, UC-, UC, twice (SDM Vol. 3, 13.12.4). */
#define HVK_PAT_RESET	0x0007040600070406ULL

/* MTRRcap: WC, fixed ranges, HVK_MTRR_VAR variable ranges (SDM 13.11.1). */
#define HVK_MTRR_CAP	(BIT_ULL(10) | BIT_ULL(8) | HVK_MTRR_VAR)
#define MTRR_VAR_FIRST	0x200
#define MTRR_VAR_LAST	(MTRR_VAR_FIRST + 2 * HVK_MTRR_VAR - 1)

/* MISC_ENABLE: no branch trace store or PEBS, which are read-only. */
#define MISC_ENABLE_RO	(MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | \
			 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)

#define MCE_BANK_LAST	(MSR_IA32_MC0_CTL + 4 * HVK_MCE_BANKS - 1)

/*
 * KVM_GET_MSR_INDEX_LIST: the MSRs user space saves with KVM_GET_MSRS,
 * those KVM lists.  As in KVM, EFER, FS_BASE, GS_BASE and the APIC base
 * are not listed (they are part of KVM_GET_SREGS), nor are the MTRRs,
 * MCG_CAP and the banks; they are readable and writable all the same.
 */
static const u32 hvk_msr_index_list[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC, MSR_IA32_CR_PAT,
	MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
	MSR_IA32_TSC_ADJUST, MSR_IA32_MISC_ENABLE,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
};

/* TSC_AUX exists where the host has RDTSCP or RDPID. */
bool hvk_has_tsc_aux(void)
{
	return boot_cpu_has(X86_FEATURE_RDTSCP) ||
	       boot_cpu_has(X86_FEATURE_RDPID);
}

/* The SPEC_CTRL bits the host CPU implements; 0 without the MSR. */
static u64 hvk_spec_ctrl_bits(void)
{
	u64 bits = 0;

	if (!boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL))
		return 0;
	if (boot_cpu_has(X86_FEATURE_SPEC_CTRL) ||
	    boot_cpu_has(X86_FEATURE_AMD_IBRS))
		bits |= SPEC_CTRL_IBRS;
	if (boot_cpu_has(X86_FEATURE_STIBP) ||
	    boot_cpu_has(X86_FEATURE_AMD_STIBP))
		bits |= SPEC_CTRL_STIBP;
	if (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ||
	    boot_cpu_has(X86_FEATURE_AMD_SSBD))
		bits |= SPEC_CTRL_SSBD;
	return bits;
}

/* The MSRs that the backend keeps (struct hvk_vendor's get_msr). */
static bool hvk_msr_in_vendor(u32 msr)
{
	switch (msr) {
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SYSCALL_MASK:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return true;
	default:
		return false;
	}
}

/* MSRs that hold linear addresses: non-canonical values are #GP. */
static bool hvk_msr_holds_address(u32 msr)
{
	switch (msr) {
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return true;
	default:
		return false;
	}
}

static bool hvk_canonical(u64 va)
{
	/* 48-bit linear addresses: 5-level paging is not offered. */
	return ((s64)va << 16 >> 16) == (s64)va;
}

/* --- memory types (SDM Vol. 3, 13.11 and 13.12) -------------------------- */

/* UC, WC, WT, WP, WB: the types an MTRR may hold. */
static bool hvk_mtrr_type_valid(u8 type)
{
	return type < 8 && (BIT(type) & 0x73);
}

/* PAT entries may also be UC- (7); 2 and 3 are reserved. */
static bool hvk_pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (8 * i);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* The slot of a fixed-range or variable-range MTRR, or NULL. */
static u64 *hvk_mtrr_slot(struct hvk_vcpu *vcpu, u32 msr)
{
	struct hvk_msrs *m = &vcpu->msrs;

	switch (msr) {
	case MTRR_VAR_FIRST ... MTRR_VAR_LAST:
		return &m->mtrr_var[array_index_nospec(msr - MTRR_VAR_FIRST,
						       2 * HVK_MTRR_VAR)];
	case MSR_MTRRfix64K_00000:
		return &m->mtrr_fixed[0];
	case MSR_MTRRfix16K_80000:
	case MSR_MTRRfix16K_A0000:
		return &m->mtrr_fixed[1 + msr - MSR_MTRRfix16K_80000];
	case MSR_MTRRfix4K_C0000 ... MSR_MTRRfix4K_F8000:
		return &m->mtrr_fixed[3 + array_index_nospec(msr -
					MSR_MTRRfix4K_C0000, 8)];
	case MSR_MTRRdefType:
		return &m->mtrr_deftype;
	default:
		return NULL;
	}
}

static bool hvk_mtrr_valid(u32 msr, u64 val)
{
	u64 rsvd = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits);
	unsigned int i;

	if (msr == MSR_MTRRdefType)	/* type, FE (10), E (11) */
		return !(val & ~0xcffULL) && hvk_mtrr_type_valid(val);
	if (msr < MTRR_VAR_FIRST || msr > MTRR_VAR_LAST) {
		/* Fixed ranges: a type in each byte. */
		for (i = 0; i < 8; i++)
			if (!hvk_mtrr_type_valid(val >> (8 * i)))
				return false;
		return true;
	}
	if (msr & 1)			/* PhysMask: V (11), mask */
		return !(val & (rsvd | GENMASK_ULL(10, 0)));
	/* PhysBase: type, base */
	return !(val & (rsvd | GENMASK_ULL(11, 8))) &&
	       hvk_mtrr_type_valid(val);
}

/* --- machine check (SDM Vol. 3, 16.3) ------------------------------------ */

/*
 * MCG_CAP offers HVK_MCE_BANKS banks and neither MCG_CTL nor CMCI: MCG_CTL
 * exists for user space only (as 0), MCG_CAP is read-only.  Writes follow
 * KVM's: MCi_CTL all ones or 0 (bits 0 and 10 may be clear, as some guests
 * clear them), MCi_STATUS only cleared by the guest.
 */
static int hvk_set_mce(struct hvk_vcpu *vcpu, u32 msr, u64 val, bool host)
{
	struct hvk_msrs *m = &vcpu->msrs;
	unsigned int i;

	switch (msr) {
	case MSR_IA32_MCG_STATUS:
		m->mcg_status = val;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!host || val)
			return HVK_MSR_INVALID;
		m->mcg_ctl = val;
		return 0;
	}
	i = array_index_nospec(msr - MSR_IA32_MC0_CTL, 4 * HVK_MCE_BANKS);
	if (i % 4 == 0 && val && (val | BIT_ULL(10) | BIT_ULL(0)) != ~0ULL)
		return HVK_MSR_INVALID;
	if (i % 4 == 1 && val && !host)
		return HVK_MSR_INVALID;
	m->mce_banks[i] = val;
	return 0;
}

/* --- the TSC and what moves with it -------------------------------------- */

static void hvk_move_tsc(struct hvk_vcpu *vcpu, s64 delta)
{
	struct hvk_vm *vm = vcpu->vm;
	s64 old = READ_ONCE(vm->tsc_offset);

	/* vCPUs may move it at once: no delta is lost. */
	while (!try_cmpxchg(&vm->tsc_offset, &old, old + delta))
		;
	/* tsc_timestamp in every vCPU's kvmclock follows the offset. */
	hvk_vm_request_all(vm, HVK_REQ_CLOCK_UPDATE);
}

/*
 * TSC_AUX is loaded into the host CPU from vcpu_load to vcpu_put, the
 * SYSCALL MSRs' way on VMX: a context switch or the return to user space
 * always passes vcpu_put first, and the kernel reads TSC_AUX only for user
 * space (getcpu() in the vDSO), never in its own entry code.
 */
void hvk_load_guest_tsc_aux(struct hvk_vcpu *vcpu)
{
	if (!hvk_has_tsc_aux() || vcpu->tsc_aux_loaded)
		return;
	rdmsrl(MSR_TSC_AUX, vcpu->host_tsc_aux);
	if (vcpu->msrs.tsc_aux != vcpu->host_tsc_aux)
		wrmsrl(MSR_TSC_AUX, vcpu->msrs.tsc_aux);
	vcpu->tsc_aux_loaded = true;
}

void hvk_put_guest_tsc_aux(struct hvk_vcpu *vcpu)
{
	if (!vcpu->tsc_aux_loaded)
		return;
	if (vcpu->msrs.tsc_aux != vcpu->host_tsc_aux)
		wrmsrl(MSR_TSC_AUX, vcpu->host_tsc_aux);
	vcpu->tsc_aux_loaded = false;
}

static void hvk_set_tsc_aux(struct hvk_vcpu *vcpu, u64 val)
{
	preempt_disable();
	vcpu->msrs.tsc_aux = val;
	if (vcpu->tsc_aux_loaded)
		wrmsrl(MSR_TSC_AUX, val);
	preempt_enable();
}

/* --- get and set --------------------------------------------------------- */

/* The state of struct hvk_msrs after KVM_CREATE_VCPU. */
void hvk_msrs_reset(struct hvk_vcpu *vcpu)
{
	memset(&vcpu->msrs, 0, sizeof(vcpu->msrs));
	vcpu->msrs.pat = HVK_PAT_RESET;
	/* Fast strings on, as firmware leaves it; KVM's read-only bits. */
	vcpu->msrs.misc_enable = MSR_IA32_MISC_ENABLE_FAST_STRING |
				 MISC_ENABLE_RO;
}

/*
 * 0, HVK_MSR_UNKNOWN or HVK_MSR_INVALID.  @host: from KVM_GET_MSRS, which
 * may read what the guest may not (MCG_CTL).
 */
int hvk_get_msr(struct hvk_vcpu *vcpu, u32 msr, u64 *val, bool host)
{
	struct hvk_msrs *m = &vcpu->msrs;
	u64 *slot;
	int r;

	/* The in-kernel LAPIC's: x2APIC registers and TSC_DEADLINE. */
	r = hvk_irqchip_get_msr(vcpu, msr, val);
	if (r != HVK_MSR_UNKNOWN)
		return r;
	if (hvk_msr_in_vendor(msr)) {
		*val = hvk_vendor->get_msr(vcpu, msr);
		return 0;
	}
	switch (msr) {
	case MSR_EFER:
		*val = hvk_vendor->get_efer(vcpu);
		return 0;
	case MSR_IA32_APICBASE:
		*val = hvk_get_apic_base(vcpu);
		return 0;
	case MSR_IA32_TSC:
		*val = rdtsc() + READ_ONCE(vcpu->vm->tsc_offset);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*val = m->tsc_adjust;
		return 0;
	case MSR_TSC_AUX:
		if (!hvk_has_tsc_aux())
			return HVK_MSR_UNKNOWN;
		*val = m->tsc_aux;
		return 0;
	case MSR_IA32_CR_PAT:
		*val = m->pat;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*val = m->misc_enable;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!hvk_spec_ctrl_bits())
			return HVK_MSR_UNKNOWN;
		*val = m->spec_ctrl;
		return 0;
	case MSR_IA32_PRED_CMD:
		/* Write-only. */
		return boot_cpu_has(X86_FEATURE_IBPB) ? HVK_MSR_INVALID :
							HVK_MSR_UNKNOWN;
	case MSR_MTRRcap:
		*val = HVK_MTRR_CAP;
		return 0;
	case MSR_IA32_MCG_CAP:
		*val = HVK_MCE_BANKS;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*val = m->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!host)
			return HVK_MSR_INVALID;
		*val = m->mcg_ctl;
		return 0;
	case MSR_IA32_MC0_CTL ... MCE_BANK_LAST:
		*val = m->mce_banks[array_index_nospec(msr - MSR_IA32_MC0_CTL,
						       4 * HVK_MCE_BANKS)];
		return 0;
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = m->kvmclock;
		return 0;
	case MSR_KVM_WALL_CLOCK_NEW:
		*val = READ_ONCE(vcpu->vm->wall_clock_msr);
		return 0;
	}
	slot = hvk_mtrr_slot(vcpu, msr);
	if (!slot)
		return HVK_MSR_UNKNOWN;
	*val = *slot;
	return 0;
}

/* The MSRs of hvk_set_msr() that the core keeps in struct hvk_msrs. */
static int hvk_set_core_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val,
			    bool host)
{
	struct hvk_msrs *m = &vcpu->msrs;
	u64 *slot;

	switch (msr) {
	case MSR_IA32_TSC_ADJUST:
		/* A guest's write moves the TSC by as much (SDM 18.17.3). */
		if (!host)
			hvk_move_tsc(vcpu, val - m->tsc_adjust);
		m->tsc_adjust = val;
		return 0;
	case MSR_TSC_AUX:
		if (!hvk_has_tsc_aux())
			return HVK_MSR_UNKNOWN;
		if (val >> 32)
			return HVK_MSR_INVALID;
		hvk_set_tsc_aux(vcpu, val);
		return 0;
	case MSR_IA32_CR_PAT:
		if (!hvk_pat_valid(val))
			return HVK_MSR_INVALID;
		m->pat = val;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		/* As KVM: the PMU bits are fixed, EMON ignores writes. */
		if (!host) {
			if ((val ^ m->misc_enable) & MISC_ENABLE_RO)
				return HVK_MSR_INVALID;
			val = (val & ~MSR_IA32_MISC_ENABLE_EMON) |
			      (m->misc_enable & MSR_IA32_MISC_ENABLE_EMON);
		}
		m->misc_enable = val;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!hvk_spec_ctrl_bits())
			return HVK_MSR_UNKNOWN;
		if (val & ~hvk_spec_ctrl_bits())
			return HVK_MSR_INVALID;
		m->spec_ctrl = val;
		return 0;
	case MSR_IA32_PRED_CMD:
		if (!boot_cpu_has(X86_FEATURE_IBPB))
			return HVK_MSR_UNKNOWN;
		if (val & ~PRED_CMD_IBPB)
			return HVK_MSR_INVALID;
		/* The barrier the guest asks for, on the CPU it runs on. */
		if (val)
			wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	case MSR_MTRRcap:
	case MSR_IA32_MCG_CAP:
		return HVK_MSR_INVALID;		/* read-only */
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_MCG_CTL:
	case MSR_IA32_MC0_CTL ... MCE_BANK_LAST:
		return hvk_set_mce(vcpu, msr, val, host);
	case MSR_KVM_SYSTEM_TIME_NEW:
		/* Bit 0 enables; the rest is the GPA of the time info. */
		m->kvmclock = val;
		hvk_kvmclock_update(vcpu);
		return 0;
	case MSR_KVM_WALL_CLOCK_NEW:
		WRITE_ONCE(vcpu->vm->wall_clock_msr, val);
		hvk_kvmclock_write_wall_clock(vcpu, val);
		return 0;
	}
	slot = hvk_mtrr_slot(vcpu, msr);
	if (!slot)
		return HVK_MSR_UNKNOWN;
	if (!hvk_mtrr_valid(msr, val))
		return HVK_MSR_INVALID;
	*slot = val;
	return 0;
}

/*
 * 0, HVK_MSR_UNKNOWN or HVK_MSR_INVALID.  @host: from KVM_SET_MSRS, which
 * may also set the APIC base, EFER.LMA, MCi_STATUS and the TSC_ADJUST
 * value without moving the TSC, as user space restoring a vCPU needs.
 * Unlike KVM, non-canonical addresses are refused from user space too: on
 * VMX some of these MSRs are loaded into the host CPU, where such a value
 * faults.
 */
int hvk_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val, bool host)
{
	s64 delta;
	u64 old;
	int r;

	r = hvk_irqchip_set_msr(vcpu, msr, val);
	if (r != HVK_MSR_UNKNOWN)
		return r;
	if (hvk_msr_holds_address(msr) && !hvk_canonical(val))
		return HVK_MSR_INVALID;
	switch (msr) {
	case MSR_EFER:
		/* EFER.LMA is the CPU's to set (SDM Vol. 3, 10.8.5). */
		old = hvk_vendor->get_efer(vcpu);
		if (!host)
			val = (val & ~EFER_LMA) | (old & EFER_LMA);
		if (!hvk_efer_valid(vcpu, val))
			return HVK_MSR_INVALID;
		hvk_vendor->set_efer(vcpu, val);
		return 0;
	case MSR_IA32_APICBASE:
		/* The guest's writes need the in-kernel LAPIC. */
		return hvk_set_apic_base(vcpu, val, host) ? HVK_MSR_INVALID : 0;
	case MSR_IA32_TSC:
		/*
		 * One offset for the VM: every vCPU's TSC moves together.  A
		 * guest's write changes TSC_ADJUST by as much (SDM 18.17.3).
		 */
		delta = val - (rdtsc() + READ_ONCE(vcpu->vm->tsc_offset));
		if (!host)
			vcpu->msrs.tsc_adjust += delta;
		hvk_move_tsc(vcpu, delta);
		return 0;
	case MSR_STAR:
		break;
	case MSR_SYSCALL_MASK:
	case MSR_IA32_SYSENTER_CS:
		/* 32-bit fields in SYSCALL_MASK and SYSENTER_CS' upper half. */
		if (val >> 32)
			return HVK_MSR_INVALID;
		break;
	default:
		if (!hvk_msr_in_vendor(msr))
			return hvk_set_core_msr(vcpu, msr, val, host);
	}
	hvk_vendor->set_msr(vcpu, msr, val);
	return 0;
}

/* --- guest accesses that fail ------------------------------------------- */

int hvk_msr_failed(struct hvk_vcpu *vcpu, bool read, u32 msr, u64 val,
		   int err, u64 next_rip)
{
	struct kvm_run *run = vcpu->run;
	u32 reason = err == HVK_MSR_UNKNOWN ? KVM_MSR_EXIT_REASON_UNKNOWN :
					      KVM_MSR_EXIT_REASON_INVAL;

	if (!(READ_ONCE(vcpu->vm->user_space_msr_mask) & reason))
		return hvk_queue_exception(vcpu, X86_TRAP_GP, true, 0);
	run->exit_reason = read ? KVM_EXIT_X86_RDMSR : KVM_EXIT_X86_WRMSR;
	memset(&run->msr, 0, sizeof(run->msr));
	run->msr.reason = reason;
	run->msr.index = msr;
	run->msr.data = read ? 0 : val;
	vcpu->msr_exit = (struct hvk_msr_exit) {
		.pending = true, .read = read, .next_rip = next_rip,
	};
	return 0;
}

/*
 * As KVM (api.rst, KVM_EXIT_X86_RDMSR): user space's error = 1 is #GP,
 * otherwise the instruction completes, RDMSR with user space's data.
 */
int hvk_complete_msr_exit(struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	vcpu->msr_exit.pending = false;
	if (run->msr.error)
		return hvk_queue_exception(vcpu, X86_TRAP_GP, true, 0);
	if (vcpu->msr_exit.read) {
		vcpu->regs[HVK_RAX] = (u32)run->msr.data;
		vcpu->regs[HVK_RDX] = run->msr.data >> 32;
	}
	vcpu->rip = vcpu->msr_exit.next_rip;
	return 1;
}

/* --- ioctls -------------------------------------------------------------- */

int hvk_get_msr_index_list(struct kvm_msr_list __user *argp)
{
	u32 list[ARRAY_SIZE(hvk_msr_index_list) + 2];
	struct kvm_msr_list hdr;
	u32 n = ARRAY_SIZE(hvk_msr_index_list);

	memcpy(list, hvk_msr_index_list, sizeof(hvk_msr_index_list));
	/* As KVM, those that depend on the host CPU where it has them. */
	if (hvk_has_tsc_aux())
		list[n++] = MSR_TSC_AUX;
	if (hvk_spec_ctrl_bits())
		list[n++] = MSR_IA32_SPEC_CTRL;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	/* As KVM: tell the number, then fail if it does not fit. */
	if (put_user(n, &argp->nmsrs))
		return -EFAULT;
	if (hdr.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(argp->indices, list, n * sizeof(list[0])))
		return -EFAULT;
	return 0;
}

/*
 * KVM_GET_MSRS and KVM_SET_MSRS: as KVM, the number of MSRs done, which
 * stops at the first one hvk does not have or refuses.
 */
int hvk_msrs_ioctl(struct hvk_vcpu *vcpu, struct kvm_msrs __user *argp,
		   bool set)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs hdr;
	unsigned int i;
	int r;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nmsrs > HVK_MAX_IO_MSRS)
		return -E2BIG;
	if (!hdr.nmsrs)
		return 0;
	e = vmemdup_array_user(argp->entries, hdr.nmsrs, sizeof(*e));
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < hdr.nmsrs; i++) {
		if (set ? hvk_set_msr(vcpu, e[i].index, e[i].data, true) :
			  hvk_get_msr(vcpu, e[i].index, &e[i].data, true))
			break;
	}
	r = i;
	if (!set && copy_to_user(argp->entries, e, i * sizeof(*e)))
		r = -EFAULT;
	kvfree(e);
	return r;
}
