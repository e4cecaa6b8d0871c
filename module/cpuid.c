// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it: the host's answer, masked to the features hvk
 * virtualizes, with the hypervisor bit set.  Anything whose state hvk does
 * not switch or emulate yet (the local APIC, performance counters, nested
 * virtualization, XSAVE components other than those fpu.c offers) is
 * hidden, so that a guest never depends on it.  Features whose MSRs hvk
 * emulates (MTRR, PAT, MCE/MCA banks, TSC_ADJUST, kvmclock) are offered;
 * those that need the host CPU's own (RDTSCP and RDPID with TSC_AUX,
 * SPEC_CTRL and PRED_CMD) where it has them.  XSAVE and the AVX and AVX-512
 * instructions are offered with their state components where the host has
 * them: leaf 0xD lists those and their layout as the host's CPU has it.
 */
#include <linux/bits.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/processor.h>

#include "hvk.h"

/* CPUID.1:ECX */
#define C1_SSE3		BIT(0)
#define C1_PCLMUL	BIT(1)
#define C1_SSSE3	BIT(9)
#define C1_FMA		BIT(12)
#define C1_CX16		BIT(13)
#define C1_PCID		BIT(17)
#define C1_SSE41	BIT(19)
#define C1_SSE42	BIT(20)
#define C1_MOVBE	BIT(22)
#define C1_POPCNT	BIT(23)
#define C1_AES		BIT(25)
#define C1_XSAVE	BIT(26)
#define C1_OSXSAVE	BIT(27)
#define C1_AVX		BIT(28)
#define C1_F16C		BIT(29)
#define C1_RDRAND	BIT(30)
#define C1_HYPERVISOR	BIT(31)
#define C1_X2APIC	BIT(21)
#define C1_TSC_DEADLINE	BIT(24)
#define D1_APIC		BIT(9)

/* CPUID.1:EDX: x87, VME, DE, PSE, TSC, MSR, PAE, MCE, CX8, SEP, MTRR, PGE,
 * MCA, CMOV, PAT, PSE36, CLFSH, MMX, FXSR, SSE, SSE2, SS.
 */
#define D1_ALLOWED	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | \
			 BIT(6) | BIT(7) | BIT(8) | BIT(11) | BIT(12) |        \
			 BIT(13) | BIT(14) | BIT(15) | BIT(16) | BIT(17) |     \
			 BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26) |     \
			 BIT(27))

/* CPUID.7.0:EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, RDSEED, ADX, SMAP,
 * CLFLUSHOPT, CLWB, SHA; TSC_ADJUST is emulated, offered whatever the host.
 */
#define B7_TSC_ADJUST	BIT(1)
#define B7_ALLOWED	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | BIT(18) | \
			 BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29))
#define B7_INVPCID	BIT(10)
/*
 * With the AVX state component: CPUID.7.0:EBX AVX2, ECX VAES and
 * VPCLMULQDQ (VEX-encoded).  With the AVX-512 ones: EBX AVX512F, DQ, IFMA,
 * PF, ER, CD, BW, VL; ECX VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ; EDX 4VNNIW,
 * 4FMAPS, VP2INTERSECT, FP16.
 */
#define B7_AVX		BIT(5)
#define C7_AVX		(BIT(9) | BIT(10))
#define B7_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | \
			 BIT(28) | BIT(30) | BIT(31))
#define C7_AVX512	(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define D7_AVX512	(BIT(2) | BIT(3) | BIT(8) | BIT(23))
/* CPUID.0DH.1:EAX: XSAVEOPT (no XSAVEC, XGETBV with ECX=1, XSAVES). */
#define AD1_XSAVEOPT	BIT(0)
/* CPUID.7.0:ECX: UMIP; RDPID where it reaches the guest's TSC_AUX. */
#define C7_ALLOWED	BIT(2)
#define C7_RDPID	BIT(22)
/* CPUID.7.0:EDX: IBRS and IBPB, STIBP, SSBD: SPEC_CTRL and PRED_CMD. */
#define D7_SPEC_CTRL	(BIT(26) | BIT(27) | BIT(31))
/* CPUID.80000008h:EBX: AMD's IBPB; IBRS, STIBP, SSBD. */
#define BX8_IBPB	BIT(12)
#define BX8_SPEC_CTRL	(BIT(14) | BIT(15) | BIT(24))
/* CPUID.80000001h:EDX: RDTSCP, as RDPID. */
#define DX1_RDTSCP	BIT(27)

/* CPUID.80000001h:ECX: LAHF/SAHF, ABM, SSE4A, misaligned SSE, PREFETCHW. */
#define CX1_ALLOWED	(BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8))
/*
 * CPUID.80000001h:EDX: SYSCALL, NX, MMXEXT, 1 GiB pages, long mode, and
 * AMD's copies of leaf 1's EDX bits 0-9, 12-17, 23 and 24 (the others mean
 * something else there: bit 25 is FFXSR, bit 27 RDTSCP).
 */
#define DX1_ALLOWED	(BIT(11) | BIT(20) | BIT(22) | BIT(26) | BIT(29) | \
			 (D1_ALLOWED & (GENMASK(9, 0) | GENMASK(17, 12) |   \
					BIT(23) | BIT(24))))

#define MAX_BASIC_LEAF	0xd
#define MAX_EXT_LEAF	0x80000008

/* The hypervisor leaves: KVM's signature and the features hvk has. */
#define HV_LEAF_BASE	0x40000000
#define HV_LEAF_MAX	0x40000001
#define HV_FEATURES	(BIT(KVM_FEATURE_CLOCKSOURCE2) | \
			 BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT))

/* Do RDTSCP and RDPID read the guest's TSC_AUX in the guest? */
static bool hvk_cpuid_rdtscp(void)
{
	return hvk_has_tsc_aux() && hvk_vendor->rdtscp_in_guest();
}

/*
 * CPUID.1:ECX and 7.0:EBX/ECX/EDX bits that need the offered XSAVE state,
 * added to @regs where the host's answer @host has them.
 */
static void hvk_cpuid_xsave_bits(u32 leaf, u32 regs[4], const u32 host[4])
{
	u64 xcr0 = hvk_supported_xcr0();
	u32 bits[4] = {};
	u32 *b = &bits[1], *c = &bits[2], *d = &bits[3];
	int i;

	if (leaf == 1) {
		if (xcr0)
			*c |= C1_XSAVE;
		if (xcr0 & XFEATURE_MASK_YMM)
			*c |= C1_AVX | C1_FMA | C1_F16C;
	} else {
		if (xcr0 & XFEATURE_MASK_YMM) {
			*b |= B7_AVX;
			*c |= C7_AVX;
		}
		if (xcr0 & XFEATURE_MASK_AVX512) {
			*b |= B7_AVX512;
			*c |= C7_AVX512;
			*d |= D7_AVX512;
		}
	}
	for (i = 0; i < 4; i++)
		regs[i] |= bits[i] & host[i];
}

/*
 * Leaf 0xD (SDM Vol. 1, 13.2): subleaf 0 the offered components and the
 * standard-format size for them (EBX follows the vCPU's XCR0, hvk_cpuid()),
 * subleaf 1 XSAVEOPT, subleaves 2-63 each offered component's size and
 * offset as the host's CPU has them (@regs holds the host's answer).
 */
static void hvk_cpuid_xsave_leaf(u32 subleaf, u32 regs[4])
{
	u64 xcr0 = hvk_supported_xcr0();

	if (!xcr0 || subleaf >= 64 ||
	    (subleaf >= 2 && !(xcr0 & BIT_ULL(subleaf)))) {
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		return;
	}
	switch (subleaf) {
	case 0:
		regs[0] = lower_32_bits(xcr0);
		regs[3] = upper_32_bits(xcr0);
		regs[1] = regs[2] = hvk_xsave_size(xcr0);
		break;
	case 1:
		regs[0] &= AD1_XSAVEOPT;
		regs[1] = regs[2] = regs[3] = 0;
		break;
	default:
		/* User components only: ECX bit 0 (supervisor) is clear. */
		regs[3] = 0;
		break;
	}
}

/* What hvk offers for @leaf.@subleaf, before any per-vCPU value. */
static void hvk_cpuid_default(u32 leaf, u32 subleaf, u32 regs[4])
{
	u32 max_basic = min_t(u32, cpuid_eax(0), MAX_BASIC_LEAF);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), MAX_EXT_LEAF);
	u32 *a = &regs[0], *b = &regs[1], *c = &regs[2], *d = &regs[3];
	u32 host[4];

	*a = *b = *c = *d = 0;
	if (leaf == HV_LEAF_BASE) {
		/* "KVMKVMKVM\0\0\0": guests look for KVM's interface here. */
		*a = HV_LEAF_MAX;
		*b = 0x4b4d564b;
		*c = 0x564b4d56;
		*d = 0x4d;
		return;
	}
	if (leaf == HV_LEAF_MAX) {
		/* Stable-bit support: the flag may be set, not that it is. */
		*a = HV_FEATURES;
		return;
	}
	if ((leaf < 0x80000000 && leaf > max_basic) ||
	    (leaf >= 0x80000000 && leaf > max_ext))
		return;
	cpuid_count(leaf, subleaf, a, b, c, d);
	memcpy(host, regs, sizeof(host));

	switch (leaf) {
	case 0:
		*a = max_basic;
		break;
	case 1:
		/* One logical processor; the APIC id is the vCPU's (below). */
		*b = (*b & 0xffff) | (1 << 16);
		*c &= C1_SSE3 | C1_PCLMUL | C1_SSSE3 | C1_CX16 | C1_PCID |
		      C1_SSE41 | C1_SSE42 | C1_MOVBE | C1_POPCNT | C1_AES |
		      C1_RDRAND;
		hvk_cpuid_xsave_bits(1, regs, host);
		*c |= C1_HYPERVISOR;
		*d &= D1_ALLOWED;
		break;
	case 2:
		break;	/* cache and TLB descriptors */
	case 4:
		/* Caches as the host has them, shared by one thread only. */
		*a &= GENMASK(13, 0);
		break;
	case 7:
		if (subleaf == 0) {
			*a = 0;
			/* INVPCID where the backend lets the guest run it. */
			*b = (*b & (B7_ALLOWED |
				    (hvk_vendor->has_invpcid() ? B7_INVPCID : 0))) |
			     B7_TSC_ADJUST;
			*c &= C7_ALLOWED | (hvk_cpuid_rdtscp() ? C7_RDPID : 0);
			*d &= boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL) ?
			      D7_SPEC_CTRL : 0;
			hvk_cpuid_xsave_bits(7, regs, host);
		} else {
			*a = *b = *c = *d = 0;
		}
		break;
	case 0xd:
		hvk_cpuid_xsave_leaf(subleaf, regs);
		break;
	case 0x80000000:
		*a = max_ext;
		break;
	case 0x80000001:
		*c &= CX1_ALLOWED;
		*d &= DX1_ALLOWED | (hvk_cpuid_rdtscp() ? DX1_RDTSCP : 0);
		break;
	case 0x80000002 ... 0x80000006:
		break;	/* brand string, cache and TLB information */
	case 0x80000008:
		/* Address sizes, and AMD's speculation controls hvk passes. */
		*b &= (boot_cpu_has(X86_FEATURE_IBPB) ? BX8_IBPB : 0) |
		      (boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL) ?
		       BX8_SPEC_CTRL : 0);
		*c = *d = 0;
		break;
	default:
		/* Power, thermal and topology leaves: nothing to report. */
		*a = *b = *c = *d = 0;
	}
}

/*
 * Leaves whose answer depends on ECX: their entries carry
 * KVM_CPUID_FLAG_SIGNIFCANT_INDEX, as KVM's do, so that a subleaf missing
 * from a vCPU's table reads as zeros instead of as another subleaf (a
 * topology leaf 0xB whose subleaf 0 answered for all of them would keep a
 * guest enumerating levels forever).
 */
static bool cpuid_has_subleaves(u32 leaf)
{
	switch (leaf) {
	case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12:
	case 0x14: case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f:
	case 0x24: case 0x8000001d:
		return true;
	}
	return false;
}

/*
 * Does KVM_GET_SUPPORTED_CPUID list @leaf.@sub?  Subleaf 0 of every leaf;
 * leaf 4's until its null cache type; leaf 0xD's 1 and those of offered
 * components (as KVM lists them).
 */
static bool hvk_supported_subleaf(u32 leaf, u32 sub, const u32 regs[4])
{
	if (!sub)
		return true;
	if (leaf == 4)
		return regs[0] & 0x1f;
	if (leaf == 0xd)
		return sub == 1 || (hvk_supported_xcr0() & BIT_ULL(sub));
	return false;
}

/*
 * The entries KVM_GET_SUPPORTED_CPUID reports: every basic, hypervisor and
 * extended leaf hvk answers, with the subleaves hvk_supported_subleaf()
 * picks.  Returns how many were written, or -E2BIG if @max is too few.
 */
static int hvk_supported_cpuid(struct kvm_cpuid_entry2 *e, int max)
{
	u32 max_basic = min_t(u32, cpuid_eax(0), MAX_BASIC_LEAF);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), MAX_EXT_LEAF);
	u32 ranges[3][2] = {
		{ 0, max_basic },
		{ HV_LEAF_BASE, HV_LEAF_MAX },
		{ 0x80000000, max_ext },
	};
	unsigned int r;
	int n = 0;
	u32 leaf, sub;

	for (r = 0; r < ARRAY_SIZE(ranges); r++) {
		for (leaf = ranges[r][0]; leaf <= ranges[r][1]; leaf++) {
			for (sub = 0; sub < 64; sub++) {
				u32 regs[4];

				hvk_cpuid_default(leaf, sub, regs);
				/*
				 * As KVM: the local APIC and x2APIC, which the
				 * in-kernel irqchip emulates; TSC-deadline is
				 * KVM_CAP_TSC_DEADLINE_TIMER's.
				 */
				if (leaf == 1) {
					regs[3] |= D1_APIC;
					regs[2] |= C1_X2APIC;
				}
				if (!hvk_supported_subleaf(leaf, sub, regs)) {
					/* Leaf 0xD skips components not offered. */
					if (leaf != 0xd)
						break;
					continue;
				}
				if (n == max)
					return -E2BIG;
				e[n] = (struct kvm_cpuid_entry2) {
					.function = leaf, .index = sub,
					.eax = regs[0], .ebx = regs[1],
					.ecx = regs[2], .edx = regs[3],
				};
				if (cpuid_has_subleaves(leaf))
					e[n].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
				n++;
				if (!cpuid_has_subleaves(leaf))
					break;
			}
		}
	}
	return n;
}

int hvk_get_supported_cpuid(struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 hdr;
	int n;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < 1)
		return -E2BIG;
	hdr.nent = min_t(u32, hdr.nent, HVK_MAX_CPUID_ENTRIES);
	e = kvcalloc(hdr.nent, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	n = hvk_supported_cpuid(e, hdr.nent);
	if (n >= 0) {
		hdr.nent = n;
		if (copy_to_user(argp, &hdr, sizeof(hdr)) ||
		    copy_to_user(argp->entries, e, n * sizeof(*e)))
			n = -EFAULT;
	}
	kvfree(e);
	return n < 0 ? n : 0;
}

static const struct kvm_cpuid_entry2 *
cpuid_find(const struct kvm_cpuid_entry2 *table, unsigned int nent, u32 leaf,
	   u32 subleaf)
{
	unsigned int i;

	for (i = 0; i < nent; i++) {
		const struct kvm_cpuid_entry2 *e = &table[i];

		if (e->function == leaf &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == subleaf))
			return e;
	}
	return NULL;
}

/* XSAVE, and so CR4.OSXSAVE and XSETBV, where the vCPU's CPUID has it. */
bool hvk_guest_has_xsave(struct hvk_vcpu *vcpu)
{
	u32 regs[4];

	if (!hvk_supported_xcr0())
		return false;
	hvk_cpuid(vcpu, 1, 0, regs);
	return regs[2] & C1_XSAVE;
}

bool hvk_guest_has_long_mode(const struct hvk_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e;

	/* No table yet: hvk's default, which offers long mode. */
	if (!vcpu->cpuid_set)
		return true;
	e = cpuid_find(vcpu->cpuid, vcpu->cpuid_nent, 0x80000001, 0);
	return e && (e->edx & BIT(29));
}

/* KVM_SET_CPUID2: the table the guest's CPUID answers from. */
int hvk_set_cpuid2(struct hvk_vcpu *vcpu, struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid_entry2 *e = NULL;
	const struct kvm_cpuid_entry2 *ext8;
	struct kvm_cpuid2 hdr;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent > HVK_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (hdr.nent) {
		e = vmemdup_array_user(argp->entries, hdr.nent, sizeof(*e));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	/* The guest cannot address more than the CPU (MAXPHYADDR). */
	ext8 = cpuid_find(e, hdr.nent, 0x80000008, 0);
	if (ext8 && (ext8->eax & 0xff) > boot_cpu_data.x86_phys_bits) {
		kvfree(e);
		return -EINVAL;
	}
	/*
	 * Once the vCPU ran, its CPUID may only be set again unchanged;
	 * anything else is EINVAL, as in KVM.
	 */
	if (vcpu->ran && (hdr.nent != vcpu->cpuid_nent ||
			  memcmp(e, vcpu->cpuid, hdr.nent * sizeof(*e)))) {
		kvfree(e);
		return -EINVAL;
	}
	kvfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->cpuid_nent = hdr.nent;
	vcpu->cpuid_set = true;
	hvk_xlate_reset(vcpu);
	hvk_vendor->cpuid_changed(vcpu);
	hvk_irqchip_cpuid_changed(vcpu);
	return 0;
}

int hvk_get_cpuid2(struct hvk_vcpu *vcpu, struct kvm_cpuid2 __user *argp)
{
	struct kvm_cpuid2 hdr;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	/* As KVM: too small an array is E2BIG, and nent is left alone. */
	if (hdr.nent < vcpu->cpuid_nent)
		return -E2BIG;
	hdr.nent = vcpu->cpuid_nent;
	if (copy_to_user(argp, &hdr, sizeof(hdr)) ||
	    copy_to_user(argp->entries, vcpu->cpuid,
			 vcpu->cpuid_nent * sizeof(*vcpu->cpuid)))
		return -EFAULT;
	return 0;
}

/* CPUID.1:EDX.APIC reads as IA32_APIC_BASE.EN. */
static void hvk_cpuid_apic_bit(struct hvk_vcpu *vcpu, u32 regs[4])
{
	regs[3] &= ~D1_APIC;
	if (hvk_get_apic_base(vcpu) & BIT_ULL(11))
		regs[3] |= D1_APIC;
}

void hvk_cpuid(struct hvk_vcpu *vcpu, u32 leaf, u32 subleaf, u32 regs[4])
{
	const struct kvm_cpuid_entry2 *e;

	if (!vcpu->cpuid_set) {
		hvk_cpuid_default(leaf, subleaf, regs);
		/* Initial APIC id = vCPU id. */
		if (leaf == 1)
			regs[1] = (regs[1] & 0xffffff) | (vcpu->id << 24);
		/* With the in-kernel LAPIC: x2APIC and its TSC-deadline timer. */
		if (leaf == 1 && vcpu->lapic)
			regs[2] |= C1_X2APIC | C1_TSC_DEADLINE;
	} else {
		/*
		 * A leaf the table lacks reads as zeros.  A topology level
		 * past the last of a leaf 0xB or 0x1F that has levels (a
		 * subleaf 1, as KVM checks) echoes ECX[7:0] and gives the
		 * x2APIC ID in EDX (SDM Vol. 2A, CPUID).
		 */
		e = cpuid_find(vcpu->cpuid, vcpu->cpuid_nent, leaf, subleaf);
		if (!e) {
			regs[0] = regs[1] = regs[2] = regs[3] = 0;
			if (leaf != 0xb && leaf != 0x1f)
				return;
			e = cpuid_find(vcpu->cpuid, vcpu->cpuid_nent, leaf, 1);
			if (e) {
				regs[2] = subleaf & 0xff;
				regs[3] = e->edx;
			}
			return;
		}
		regs[0] = e->eax;
		regs[1] = e->ebx;
		regs[2] = e->ecx;
		regs[3] = e->edx;
	}
	/*
	 * Bits that follow the vCPU's state: CPUID.1:ECX.OSXSAVE; with the
	 * in-kernel LAPIC, EDX.APIC (IA32_APIC_BASE.EN, SDM Vol. 3, 11.4.3);
	 * CPUID.(EAX=0DH,ECX=0):EBX, the XSAVE area size for the XCR0 in
	 * effect (SDM Vol. 1, 13.2).
	 */
	if (leaf == 1) {
		regs[2] &= ~C1_OSXSAVE;
		if (hvk_vendor->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
			regs[2] |= C1_OSXSAVE;
		if (vcpu->lapic)
			hvk_cpuid_apic_bit(vcpu, regs);
	} else if (leaf == 0xd && subleaf == 0 && hvk_supported_xcr0()) {
		regs[1] = hvk_xsave_size(vcpu->xcr0);
	}
}
