// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's x87/SSE state for user space: KVM_GET/SET_XSAVE in the
 * standard XSAVE layout, through the kernel's own converters, and
 * KVM_GET/SET_FPU as a view of the same buffer's legacy FXSAVE area
 * (SDM Vol. 1, 10.5.1 and 13.4).  hvk offers no XSAVE features beyond FP
 * and SSE to the guest, so those are all a buffer may carry.
 */
#include <linux/kvm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>

#include "hvk.h"

#define HVK_GUEST_XFEATURES	XFEATURE_MASK_FPSSE

/* XSTATE_BV in the XSAVE header, just after the 512-byte legacy area. */
#define XSAVE_HDR_XFEATURES	512

static int hvk_fpu_get_xsave(struct hvk_vcpu *vcpu, struct kvm_xsave *xs)
{
	memset(xs, 0, sizeof(*xs));
	fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, xs->region,
				       sizeof(xs->region), HVK_GUEST_XFEATURES,
				       vcpu->pkru);
	return 0;
}

static int hvk_fpu_set_xsave(struct hvk_vcpu *vcpu, struct kvm_xsave *xs)
{
	/* Refuses what the guest does not have (EINVAL), as KVM does. */
	return fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, xs->region,
					      HVK_GUEST_XFEATURES, &vcpu->pkru);
}

int hvk_fpu_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl, void __user *argp)
{
	struct kvm_xsave *xs;
	struct fxregs_state *fx;
	struct kvm_fpu fpu;
	int r = 0;

	xs = kzalloc(sizeof(*xs), GFP_KERNEL_ACCOUNT);
	if (!xs)
		return -ENOMEM;
	fx = (struct fxregs_state *)xs->region;

	switch (ioctl) {
	case KVM_GET_XSAVE:
		hvk_fpu_get_xsave(vcpu, xs);
		if (copy_to_user(argp, xs, sizeof(*xs)))
			r = -EFAULT;
		break;
	case KVM_SET_XSAVE:
		if (copy_from_user(xs, argp, sizeof(*xs)))
			r = -EFAULT;
		else
			r = hvk_fpu_set_xsave(vcpu, xs);
		break;
	case KVM_GET_FPU:
		hvk_fpu_get_xsave(vcpu, xs);
		memset(&fpu, 0, sizeof(fpu));
		memcpy(fpu.fpr, fx->st_space, sizeof(fpu.fpr));
		fpu.fcw = fx->cwd;
		fpu.fsw = fx->swd;
		fpu.ftwx = fx->twd;
		fpu.last_opcode = fx->fop;
		fpu.last_ip = fx->rip;
		fpu.last_dp = fx->rdp;
		memcpy(fpu.xmm, fx->xmm_space, sizeof(fpu.xmm));
		fpu.mxcsr = fx->mxcsr;
		if (copy_to_user(argp, &fpu, sizeof(fpu)))
			r = -EFAULT;
		break;
	default: /* KVM_SET_FPU */
		if (copy_from_user(&fpu, argp, sizeof(fpu))) {
			r = -EFAULT;
			break;
		}
		/* The rest of the state as it is; then the legacy area. */
		hvk_fpu_get_xsave(vcpu, xs);
		memcpy(fx->st_space, fpu.fpr, sizeof(fpu.fpr));
		fx->cwd = fpu.fcw;
		fx->swd = fpu.fsw;
		fx->twd = fpu.ftwx;
		fx->fop = fpu.last_opcode;
		fx->rip = fpu.last_ip;
		fx->rdp = fpu.last_dp;
		memcpy(fx->xmm_space, fpu.xmm, sizeof(fpu.xmm));
		fx->mxcsr = fpu.mxcsr;
		/* The legacy area counts only where XSTATE_BV says so. */
		*(u64 *)(xs->region + XSAVE_HDR_XFEATURES / 4) |= XFEATURE_MASK_FPSSE;
		r = hvk_fpu_set_xsave(vcpu, xs);
	}
	kfree(xs);
	return r;
}

/*
 * KVM_GET/SET_XCRS: XCR0 as user space saves and restores it.  The guest
 * cannot execute XSETBV (hvk offers no XSAVE, so CR4.OSXSAVE stays clear),
 * so the value is state only: x87 always, SSE where the vCPU's CPUID table
 * lists it in leaf 0xD, as KVM derives it.
 */
static u64 hvk_guest_supported_xcr0(struct hvk_vcpu *vcpu)
{
	u32 regs[4];

	if (!vcpu->cpuid_set)
		return XFEATURE_MASK_FP;
	hvk_cpuid(vcpu, 0xd, 0, regs);
	return (regs[0] & HVK_GUEST_XFEATURES) | XFEATURE_MASK_FP;
}

int hvk_xcrs_ioctl(struct hvk_vcpu *vcpu, struct kvm_xcrs __user *argp,
		   bool set)
{
	struct kvm_xcrs x;
	u32 i;

	if (!set) {
		memset(&x, 0, sizeof(x));
		if (boot_cpu_has(X86_FEATURE_XSAVE)) {
			x.nr_xcrs = 1;
			x.xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
			x.xcrs[0].value = vcpu->xcr0;
		}
		return copy_to_user(argp, &x, sizeof(x)) ? -EFAULT : 0;
	}
	if (copy_from_user(&x, argp, sizeof(x)))
		return -EFAULT;
	if (!boot_cpu_has(X86_FEATURE_XSAVE) || x.nr_xcrs > KVM_MAX_XCRS ||
	    x.flags)
		return -EINVAL;
	/* As KVM: the first XCR0 entry counts, other XCRs do not exist. */
	for (i = 0; i < x.nr_xcrs; i++) {
		u64 v = x.xcrs[i].value;

		if (x.xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK)
			continue;
		/* x87 is always on (SDM Vol. 1, 13.3). */
		if (!(v & XFEATURE_MASK_FP) ||
		    (v & ~hvk_guest_supported_xcr0(vcpu)))
			return -EINVAL;
		vcpu->xcr0 = v;
		break;
	}
	return 0;
}
