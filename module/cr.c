// SPDX-License-Identifier: GPL-2.0
/*
 * Control registers and EFER: which values the guest, or user space through
 * KVM_SET_SREGS, may load.  A value refused here is #GP for the guest
 * (SDM Vol. 3, 2.5 and Vol. 2, MOV to CR, WRMSR) and EINVAL for user space,
 * never a failed VM entry.
 */
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "hvk.h"

/* CR4 bits the guest may set: those whose feature CPUID reports (cpuid.c). */
static u64 hvk_cr4_allowed(void)
{
	u64 allowed = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		      X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		      X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_UMIP))
		allowed |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		allowed |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		allowed |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		allowed |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		allowed |= X86_CR4_SMAP;
	if (hvk_supported_xcr0())
		allowed |= X86_CR4_OSXSAVE;
	return allowed;
}

/* CR4 bits that also depend on the vCPU's own CPUID table: OSXSAVE. */
static bool hvk_cr4_cpuid_ok(struct hvk_vcpu *vcpu, u64 cr4)
{
	return !(cr4 & X86_CR4_OSXSAVE) || hvk_guest_has_xsave(vcpu);
}

static u64 hvk_efer_allowed(void)
{
	u64 allowed = EFER_SCE | EFER_LME | EFER_LMA;

	if (boot_cpu_has(X86_FEATURE_NX))
		allowed |= EFER_NX;
	return allowed;
}

/* Checks on CR0 alone (SDM Vol. 3, 2.5: reserved bits, PG needs PE). */
static bool cr0_self_consistent(u64 cr0)
{
	if (cr0 >> 32)
		return false;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return false;
	return !(cr0 & X86_CR0_PG) || (cr0 & X86_CR0_PE);
}

bool hvk_sregs_valid(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	if (!cr0_self_consistent(sregs->cr0) ||
	    (sregs->cr4 & ~hvk_cr4_allowed()) ||
	    !hvk_cr4_cpuid_ok(vcpu, sregs->cr4) ||
	    (sregs->efer & ~hvk_efer_allowed()))
		return false;
	/* Long mode only where the guest's CPUID has it, as KVM does. */
	if ((sregs->efer & (EFER_LME | EFER_LMA)) &&
	    !hvk_guest_has_long_mode(vcpu))
		return false;
	if ((sregs->efer & EFER_LME) && (sregs->cr0 & X86_CR0_PG)) {
		/* IA-32e mode: PAE paging, LMA set (SDM Vol. 3, 10.8.5). */
		if (!(sregs->cr4 & X86_CR4_PAE) || !(sregs->efer & EFER_LMA))
			return false;
		if (sregs->cr3 >> boot_cpu_data.x86_phys_bits)
			return false;
	} else {
		/* Outside IA-32e mode: no LMA, no 64-bit code segment. */
		if ((sregs->efer & EFER_LMA) || sregs->cs.l)
			return false;
	}
	/* PCIDE only in IA-32e mode (SDM Vol. 3, 4.10.1). */
	if ((sregs->cr4 & X86_CR4_PCIDE) && !(sregs->efer & EFER_LMA))
		return false;
	return true;
}

bool hvk_cr0_valid(struct hvk_vcpu *vcpu, u64 cr0)
{
	u64 old = hvk_vendor->get_cr(vcpu, 0);
	u64 cr4 = hvk_vendor->get_cr(vcpu, 4);
	u64 efer = hvk_vendor->get_efer(vcpu);

	if (!cr0_self_consistent(cr0))
		return false;
	/* Entering IA-32e mode needs PAE and a CS that is not 64-bit yet. */
	if ((cr0 & X86_CR0_PG) && !(old & X86_CR0_PG) && (efer & EFER_LME)) {
		struct kvm_segment cs;

		if (!(cr4 & X86_CR4_PAE))
			return false;
		hvk_vendor->get_segment(vcpu, &cs, HVK_SREG_CS);
		if (cs.l)
			return false;
	}
	/* Paging off with PCIDE on is #GP (SDM Vol. 2, MOV to CR). */
	if (!(cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PCIDE))
		return false;
	return true;
}

bool hvk_cr4_valid(struct hvk_vcpu *vcpu, u64 cr4)
{
	u64 old = hvk_vendor->get_cr(vcpu, 4);
	u64 efer = hvk_vendor->get_efer(vcpu);

	if ((cr4 & ~hvk_cr4_allowed()) || !hvk_cr4_cpuid_ok(vcpu, cr4))
		return false;
	if ((efer & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return false;
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE)) {
		if (!(efer & EFER_LMA) ||
		    (hvk_vendor->get_cr(vcpu, 3) & X86_CR3_PCID_MASK))
			return false;
	}
	return true;
}

bool hvk_efer_valid(struct hvk_vcpu *vcpu, u64 efer)
{
	u64 old = hvk_vendor->get_efer(vcpu);

	if (efer & ~hvk_efer_allowed())
		return false;
	if ((efer & EFER_LME) && !hvk_guest_has_long_mode(vcpu))
		return false;
	/* LME may not change while paging is on (SDM Vol. 3, 10.8.5). */
	if (((efer ^ old) & EFER_LME) &&
	    (hvk_vendor->get_cr(vcpu, 0) & X86_CR0_PG))
		return false;
	return true;
}
