// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's XSAVE-managed state (SDM Vol. 1, 13): which components hvk
 * offers, XCR0 as the guest sets it with XSETBV and as it is in the
 * hardware while the guest runs, and the state as user space sees it:
 * KVM_GET/SET_XSAVE in the standard (non-compacted) XSAVE layout through the
 * kernel's own converters, KVM_GET/SET_FPU as a view of the same buffer's
 * legacy FXSAVE area (SDM Vol. 1, 10.5.1 and 13.4), KVM_GET/SET_XCRS.
 *
 * Offered: x87, SSE, AVX and the three AVX-512 components, where the host's
 * XCR0 has them.  The kernel's guest fpstate (fpu_alloc_guest_fpstate())
 * holds every user component but the dynamic ones (AMX), so those need no
 * more than what KVM_RUN already does with it.  Not offered: AMX (XFD and
 * the guest permission request), MPX (the kernel no longer supports it) and
 * PKRU (no PKU), nor any supervisor component (IA32_XSS is not
 * virtualized, so no XSAVES).
 */
#include <linux/kvm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/trapnr.h>

#include "hvk.h"

#define HVK_XFEATURES_AVX512	(XFEATURE_MASK_OPMASK | \
				 XFEATURE_MASK_ZMM_Hi256 | \
				 XFEATURE_MASK_Hi16_ZMM)
#define HVK_XFEATURES		(XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM | \
				 HVK_XFEATURES_AVX512)

/* XSTATE_BV in the XSAVE header, just after the 512-byte legacy area. */
#define XSAVE_HDR_XFEATURES	512
/* The legacy area and the XSAVE header (SDM Vol. 1, 13.4). */
#define XSAVE_LEGACY_HDR_SIZE	576

/* The host's XCR0, as the kernel set it at boot; 0 without XSAVE. */
static u64 hvk_host_xcr0 __ro_after_init;
/* What hvk offers: HVK_XFEATURES the host's XCR0 enables. */
static u64 hvk_offered_xcr0 __ro_after_init;

void __init hvk_fpu_setup(void)
{
	u64 offered;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	hvk_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	offered = hvk_host_xcr0 & HVK_XFEATURES;
	/* AVX needs SSE; AVX-512 AVX and all three of its components (13.3). */
	if (!(offered & XFEATURE_MASK_SSE))
		offered &= ~XFEATURE_MASK_YMM;
	if ((offered & HVK_XFEATURES_AVX512) != HVK_XFEATURES_AVX512 ||
	    !(offered & XFEATURE_MASK_YMM))
		offered &= ~HVK_XFEATURES_AVX512;
	hvk_offered_xcr0 = offered | XFEATURE_MASK_FP;
}

u64 hvk_supported_xcr0(void)
{
	return hvk_host_xcr0 ? hvk_offered_xcr0 : 0;
}

/*
 * Bytes of the standard-format XSAVE area for the components in @xcr0:
 * the end of the last one, from CPUID.(EAX=0DH,ECX=i) (13.2).
 */
u32 hvk_xsave_size(u64 xcr0)
{
	u32 size = XSAVE_LEGACY_HDR_SIZE;
	unsigned int i;

	for (i = 2; i < 64; i++) {
		u32 eax, ebx, ecx, edx;

		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		size = max(size, eax + ebx);
	}
	return size;
}

/*
 * XCR0 bits the guest may set: what its CPUID table lists in leaf 0xD (as
 * KVM derives it) and hvk offers; x87 always.  Without a table, hvk's
 * default CPUID, which offers them all.
 */
static u64 hvk_guest_supported_xcr0(struct hvk_vcpu *vcpu)
{
	u32 regs[4];

	if (!hvk_guest_has_xsave(vcpu))
		return XFEATURE_MASK_FP;
	hvk_cpuid(vcpu, 0xd, 0, regs);
	return ((regs[0] | (u64)regs[3] << 32) & hvk_supported_xcr0()) |
	       XFEATURE_MASK_FP;
}

/*
 * A value XSETBV would accept for XCR0 (SDM Vol. 2, XSETBV; Vol. 1, 13.3):
 * x87 set, only offered bits, AVX with SSE, AVX-512 all three components
 * or none, and with AVX.
 */
static bool hvk_xcr0_valid(struct hvk_vcpu *vcpu, u64 xcr0)
{
	if (!(xcr0 & XFEATURE_MASK_FP) ||
	    (xcr0 & ~hvk_guest_supported_xcr0(vcpu)))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	if (xcr0 & HVK_XFEATURES_AVX512) {
		if ((xcr0 & HVK_XFEATURES_AVX512) != HVK_XFEATURES_AVX512 ||
		    !(xcr0 & XFEATURE_MASK_YMM))
			return false;
	}
	return true;
}

/*
 * XSETBV, intercepted on both vendors.  The CPU raises #UD (CR4.OSXSAVE
 * clear) and #GP (CPL > 0) before the exit on hardware; checked again here
 * all the same, as an emulated CPU might not.  Anything else but XCR0 with
 * a valid value is #GP(0).
 */
int hvk_handle_xsetbv(struct hvk_vcpu *vcpu, u64 next_rip)
{
	u64 val = (u32)vcpu->regs[HVK_RAX] | (vcpu->regs[HVK_RDX] << 32);
	struct kvm_segment ss;

	if (!(hvk_vendor->get_cr(vcpu, 4) & X86_CR4_OSXSAVE))
		return hvk_queue_exception(vcpu, X86_TRAP_UD, false, 0);
	/* CPL is SS.DPL (SDM Vol. 3, 5.5). */
	hvk_vendor->get_segment(vcpu, &ss, HVK_SREG_SS);
	if (ss.dpl || (u32)vcpu->regs[HVK_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    !hvk_xcr0_valid(vcpu, val))
		return hvk_queue_exception(vcpu, X86_TRAP_GP, true, 0);
	vcpu->xcr0 = val;
	vcpu->rip = next_rip;
	return 1;
}

/*
 * The guest's XCR0 in the hardware for one entry, with interrupts off
 * until hvk_load_host_xcr0(): nothing that saves or restores this task's
 * FPU registers (a context switch, kernel_fpu_begin() in an interrupt) can
 * run in between, so the kernel always does so under its own XCR0.  Only
 * while the guest has CR4.OSXSAVE: without it, the guest can execute
 * nothing that depends on XCR0 (SDM Vol. 1, 13.3).  Called after the
 * guest's registers were loaded (switch_fpu_return()), which restores
 * every component under the host's XCR0.
 */
void hvk_load_guest_xcr0(struct hvk_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	if (vcpu->xcr0 == hvk_host_xcr0 ||
	    !(hvk_vendor->get_cr(vcpu, 4) & X86_CR4_OSXSAVE))
		return;
	xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	vcpu->xcr0_loaded = true;
}

/* The host's XCR0 again, right after the exit. */
void hvk_load_host_xcr0(struct hvk_vcpu *vcpu)
{
	if (!vcpu->xcr0_loaded)
		return;
	xsetbv(XCR_XFEATURE_ENABLED_MASK, hvk_host_xcr0);
	vcpu->xcr0_loaded = false;
}

/*
 * KVM_CAP_XSAVE2: the size of KVM_GET_XSAVE2's buffer.  struct kvm_xsave
 * holds every component hvk offers (AVX-512's last ends at byte 2688);
 * only AMX, not offered, would need more.
 */
int hvk_xsave2_size(void)
{
	return sizeof(struct kvm_xsave);
}

static int hvk_fpu_get_xsave(struct hvk_vcpu *vcpu, struct kvm_xsave *xs)
{
	memset(xs, 0, sizeof(*xs));
	/* The components the guest may enable, as KVM reports them. */
	fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, xs->region,
				       sizeof(xs->region),
				       hvk_guest_supported_xcr0(vcpu) |
				       XFEATURE_MASK_FPSSE, vcpu->pkru);
	return 0;
}

static int hvk_fpu_set_xsave(struct hvk_vcpu *vcpu, struct kvm_xsave *xs)
{
	/* Refuses components hvk does not offer (EINVAL), as KVM does. */
	return fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, xs->region,
					      hvk_supported_xcr0() |
					      XFEATURE_MASK_FPSSE,
					      &vcpu->pkru);
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
	case KVM_GET_XSAVE2:
		/*
		 * KVM_CAP_XSAVE2 is sizeof(struct kvm_xsave) without AMX,
		 * which hvk does not offer: both fill the same buffer.
		 */
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

/* KVM_GET/SET_XCRS: XCR0 as user space saves and restores it. */
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
		/* XSETBV's rules, CPL and CR4.OSXSAVE aside. */
		if (!hvk_xcr0_valid(vcpu, v))
			return -EINVAL;
		vcpu->xcr0 = v;
		break;
	}
	return 0;
}
