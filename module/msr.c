// SPDX-License-Identifier: GPL-2.0
/*
 * Model-specific registers: the ones hvk virtualizes, for the guest's RDMSR
 * and WRMSR and for KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS and KVM_SET_MSRS.
 * Every other MSR is #GP in the guest, and ends KVM_GET/SET_MSRS there.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>

#include "hvk.h"

/* As KVM: at most this many MSRs in one KVM_GET/SET_MSRS. */
#define HVK_MAX_IO_MSRS	256

/*
 * KVM_GET_MSR_INDEX_LIST: the MSRs user space saves with KVM_GET_MSRS.  As
 * in KVM, EFER, FS_BASE, GS_BASE and the APIC base are not listed: they are
 * part of KVM_GET_SREGS.  They are readable and writable all the same.
 */
static const u32 hvk_msr_index_list[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC,
};

static bool hvk_msr_known(u32 msr)
{
	unsigned int i;

	switch (msr) {
	case MSR_EFER:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_APICBASE:
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(hvk_msr_index_list); i++)
		if (hvk_msr_index_list[i] == msr)
			return true;
	return false;
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

/* 0, or 1 for an MSR hvk does not virtualize. */
int hvk_get_msr(struct hvk_vcpu *vcpu, u32 msr, u64 *val)
{
	if (!hvk_msr_known(msr))
		return 1;
	switch (msr) {
	case MSR_EFER:
		*val = hvk_vendor->get_efer(vcpu);
		break;
	case MSR_IA32_APICBASE:
		*val = vcpu->apic_base;
		break;
	case MSR_IA32_TSC:
		*val = rdtsc() + READ_ONCE(vcpu->vm->tsc_offset);
		break;
	default:
		*val = hvk_vendor->get_msr(vcpu, msr);
	}
	return 0;
}

/*
 * 0, or 1 for an MSR hvk does not virtualize or a value it refuses (#GP
 * for the guest).  @host: from KVM_SET_MSRS, which may also set the APIC
 * base and EFER.LMA, as user space restoring a vCPU needs.  Unlike KVM,
 * non-canonical addresses are refused from user space too: on VMX some of
 * these MSRs are loaded into the host CPU, where such a value faults.
 */
int hvk_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val, bool host)
{
	u64 old;

	if (!hvk_msr_known(msr))
		return 1;
	if (hvk_msr_holds_address(msr) && !hvk_canonical(val))
		return 1;
	switch (msr) {
	case MSR_EFER:
		/* EFER.LMA is the CPU's to set (SDM Vol. 3, 10.8.5). */
		old = hvk_vendor->get_efer(vcpu);
		if (!host)
			val = (val & ~EFER_LMA) | (old & EFER_LMA);
		if (!hvk_efer_valid(vcpu, val))
			return 1;
		hvk_vendor->set_efer(vcpu, val);
		break;
	case MSR_IA32_APICBASE:
		/* No local APIC to move or switch off yet. */
		if (!host || !hvk_apic_base_valid(val))
			return 1;
		vcpu->apic_base = val;
		break;
	case MSR_IA32_TSC:
		/* One offset for the VM: every vCPU's TSC moves together. */
		WRITE_ONCE(vcpu->vm->tsc_offset, val - rdtsc());
		break;
	case MSR_STAR:
	case MSR_SYSCALL_MASK:
	case MSR_IA32_SYSENTER_CS:
		/* 32-bit fields in SYSCALL_MASK and SYSENTER_CS' upper half. */
		if (msr != MSR_STAR && (val >> 32))
			return 1;
		fallthrough;
	default:
		hvk_vendor->set_msr(vcpu, msr, val);
	}
	return 0;
}

int hvk_get_msr_index_list(struct kvm_msr_list __user *argp)
{
	struct kvm_msr_list list;
	u32 n = ARRAY_SIZE(hvk_msr_index_list);

	if (copy_from_user(&list, argp, sizeof(list)))
		return -EFAULT;
	/* As KVM: tell the number, then fail if it does not fit. */
	if (put_user(n, &argp->nmsrs))
		return -EFAULT;
	if (list.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(argp->indices, hvk_msr_index_list,
			 sizeof(hvk_msr_index_list)))
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
			  hvk_get_msr(vcpu, e[i].index, &e[i].data))
			break;
	}
	r = i;
	if (!set && copy_to_user(argp->entries, e, i * sizeof(*e)))
		r = -EFAULT;
	kvfree(e);
	return r;
}
