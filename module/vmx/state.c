// SPDX-License-Identifier: GPL-2.0
/*
 * Guest registers that live in the VMCS: segments, descriptor tables,
 * control registers and EFER, as the guest and user space see them.
 *
 * What the hardware holds may differ from what the guest sees: CR0.NE and
 * CR4.VMXE are forced on (IA32_VMX_CR{0,4}_FIXED0), CR0.CD and CR0.NW off
 * (the guest's memory type comes from EPT), and the guest reads its own
 * values through the read shadows of the bits the guest/host masks own.
 * With unrestricted guest, PE and PG are the guest's in the hardware too.
 *
 * KVM_SET_SREGS may only produce state that VM entry accepts (SDM Vol. 3,
 * 27.3.1): segment access rights are normalized where the meaning is
 * clear, and values no CPU could hold are refused with -EINVAL.
 */
#include <linux/errno.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>

#include "vmx.h"

/* CR0 bits the guest owns: changing them does not exit. */
#define CR0_GUEST_OWNED	(X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_WP | \
			 X86_CR0_AM)

/* PAE page-directory-pointer-table entries (SDM Vol. 3, 4.4.1). */
#define PDPTE_P		BIT_ULL(0)
#define PDPTE_RSVD	(BIT_ULL(1) | BIT_ULL(2) | GENMASK_ULL(8, 5))

/* Segment field encodings by enum hvk_sreg (SDM Vol. 3, B.1.2 to B.4.3). */
static const struct {
	u32 selector, base, limit, ar;
} vmx_seg_fields[] = {
	[HVK_SREG_ES] = { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT,
			  GUEST_ES_AR_BYTES },
	[HVK_SREG_CS] = { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT,
			  GUEST_CS_AR_BYTES },
	[HVK_SREG_SS] = { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT,
			  GUEST_SS_AR_BYTES },
	[HVK_SREG_DS] = { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT,
			  GUEST_DS_AR_BYTES },
	[HVK_SREG_FS] = { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT,
			  GUEST_FS_AR_BYTES },
	[HVK_SREG_GS] = { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT,
			  GUEST_GS_AR_BYTES },
	[HVK_SREG_TR] = { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT,
			  GUEST_TR_AR_BYTES },
	[HVK_SREG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE,
			    GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES },
};

/* --- control registers and EFER ------------------------------------------ */

u64 vmx_get_cr(struct hvk_vcpu *vcpu, int cr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 mask;

	switch (cr) {
	case 0:
		mask = vmcs_read(vmx, CR0_GUEST_HOST_MASK);
		return (vmcs_read(vmx, GUEST_CR0) & ~mask) |
		       (vmcs_read(vmx, CR0_READ_SHADOW) & mask);
	case 3:
		return vmcs_read(vmx, GUEST_CR3);
	case 4:
		mask = vmcs_read(vmx, CR4_GUEST_HOST_MASK);
		return (vmcs_read(vmx, GUEST_CR4) & ~mask) |
		       (vmcs_read(vmx, CR4_READ_SHADOW) & mask);
	}
	WARN_ON_ONCE(1);
	return 0;
}

u64 vmx_get_efer(struct hvk_vcpu *vcpu)
{
	return vmcs_read(to_vmx(vcpu), GUEST_IA32_EFER);
}

static bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) &&
	       !(efer & EFER_LMA);
}

/*
 * PAE paging keeps the four PDPTEs in registers, loaded when CR3, CR0 or
 * CR4 is written; with EPT, VM entry loads them from the VMCS (SDM Vol. 3,
 * 4.4.1 and 27.3.2.4).  Reads them at @cr3; false if they cannot be read
 * or one that is present sets a reserved bit, which a MOV to CR would
 * answer with #GP.
 */
static bool vmx_read_pdptes(struct vmx_vcpu *vmx, u64 cr3, u64 pdptes[4])
{
	u64 rsvd = PDPTE_RSVD | GENMASK_ULL(63, boot_cpu_data.x86_phys_bits);
	int i;

	if (hvk_read_guest(vmx->vcpu.vm, cr3 & GENMASK_ULL(31, 5), pdptes,
			   4 * sizeof(u64)))
		return false;
	for (i = 0; i < 4; i++)
		if ((pdptes[i] & PDPTE_P) && (pdptes[i] & rsvd))
			return false;
	return true;
}

static void vmx_write_pdptes(struct vmx_vcpu *vmx, const u64 pdptes[4])
{
	vmcs_write(vmx, GUEST_PDPTR0, pdptes[0]);
	vmcs_write(vmx, GUEST_PDPTR1, pdptes[1]);
	vmcs_write(vmx, GUEST_PDPTR2, pdptes[2]);
	vmcs_write(vmx, GUEST_PDPTR3, pdptes[3]);
}

/*
 * The guest's MOV to CR0 or CR4 has turned on or changed PAE paging.  Bad
 * PDPTEs are loaded as they are: the VM entry fails, which ends only this
 * VM (the guest would have taken #GP).
 */
static void vmx_reload_pdptes(struct vmx_vcpu *vmx, u64 cr0, u64 cr4,
			      u64 efer)
{
	u64 pdptes[4] = { 0 };

	if (!vmx_pae_paging(cr0, cr4, efer))
		return;
	vmx_read_pdptes(vmx, vmcs_read(vmx, GUEST_CR3), pdptes);
	vmx_write_pdptes(vmx, pdptes);
}

static void vmx_write_cr0(struct vmx_vcpu *vmx, u64 cr0)
{
	/* FIXED0's PE and PG do not apply with unrestricted guest (27.3.1.1). */
	u64 fixed0 = vmx_cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	u64 hw = ((cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | fixed0) &
		 vmx_cr0_fixed1;

	vmcs_write(vmx, CR0_READ_SHADOW, cr0);
	vmcs_write(vmx, GUEST_CR0, hw);
}

static void vmx_write_cr4(struct vmx_vcpu *vmx, u64 cr4)
{
	vmcs_write(vmx, CR4_READ_SHADOW, cr4);
	vmcs_write(vmx, GUEST_CR4,
		   (cr4 | vmx_cr4_fixed0) & vmx_cr4_fixed1);
}

/* EFER, and the IA-32e mode guest entry control, which must equal LMA. */
static void vmx_write_efer(struct vmx_vcpu *vmx, u64 efer)
{
	if (efer & EFER_LMA)
		vmx->entry_ctls |= VM_ENTRY_IA32E_MODE;
	else
		vmx->entry_ctls &= ~VM_ENTRY_IA32E_MODE;
	vmcs_write(vmx, VM_ENTRY_CONTROLS, vmx->entry_ctls);
	vmcs_write(vmx, GUEST_IA32_EFER, efer);
}

void vmx_set_cr0(struct hvk_vcpu *vcpu, u64 cr0)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 cr4 = vmx_get_cr(vcpu, 4);
	u64 efer = vmx_get_efer(vcpu);

	vmx_write_cr0(vmx, cr0);
	/* LMA follows once the core has seen PG with LME: judge by LME. */
	if (efer & EFER_LME)
		efer |= EFER_LMA;
	vmx_reload_pdptes(vmx, cr0, cr4, efer);
}

void vmx_set_cr4(struct hvk_vcpu *vcpu, u64 cr4)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_write_cr4(vmx, cr4);
	vmx_reload_pdptes(vmx, vmx_get_cr(vcpu, 0), cr4, vmx_get_efer(vcpu));
}

void vmx_set_efer(struct hvk_vcpu *vcpu, u64 efer)
{
	vmx_write_efer(to_vmx(vcpu), efer);
}

/* --- segments ------------------------------------------------------------ */

void vmx_get_segment(struct hvk_vcpu *vcpu, struct kvm_segment *seg,
		     enum hvk_sreg sreg)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 ar = vmcs_read(vmx, vmx_seg_fields[sreg].ar);

	*seg = (struct kvm_segment) {
		.base = vmcs_read(vmx, vmx_seg_fields[sreg].base),
		.limit = vmcs_read(vmx, vmx_seg_fields[sreg].limit),
		.selector = vmcs_read(vmx, vmx_seg_fields[sreg].selector),
		.type = ar & VMX_AR_TYPE_MASK,
		.s = !!(ar & VMX_AR_S_MASK),
		.dpl = VMX_AR_DPL(ar),
		.present = !(ar & VMX_AR_UNUSABLE_MASK),
		.avl = !!(ar & BIT(12)),
		.l = !!(ar & VMX_AR_L_MASK),
		.db = !!(ar & VMX_AR_DB_MASK),
		.g = !!(ar & VMX_AR_G_MASK),
		.unusable = !!(ar & VMX_AR_UNUSABLE_MASK),
	};
}

/* What a segment's access rights are checked against. */
struct vmx_seg_ctx {
	bool pe;		/* CR0.PE */
	bool lma;		/* IA-32e mode guest */
	u8 ss_dpl;		/* the SS DPL being loaded */
};

static bool vmx_canonical(u64 la)
{
	u8 bits = boot_cpu_has(X86_FEATURE_LA57) ? 57 : 48;

	return (u64)((s64)(la << (64 - bits)) >> (64 - bits)) == la;
}

/*
 * G must agree with the limit, which the VMCS holds in bytes: G = 1 needs
 * the low 12 bits set, a limit above 1 MiB needs G = 1 (27.3.1.2).
 */
static int vmx_normalize_g(const struct kvm_segment *s, bool *g)
{
	if (s->limit > 0xfffff) {
		if ((s->limit & 0xfff) != 0xfff)
			return -EINVAL;
		*g = true;
	} else if ((s->limit & 0xfff) != 0xfff) {
		*g = false;
	} else {
		*g = s->g;
	}
	return 0;
}

/*
 * The access rights VM entry accepts for @s in @sreg, or -EINVAL for a
 * segment no CPU could have loaded (SDM Vol. 3, 27.3.1.2, unrestricted
 * guest, not virtual-8086 mode).  Accessed bits are set, TR is a busy TSS,
 * CS and TR are always usable, and in real mode CS and SS have DPL 0.
 */
static int vmx_seg_ar(const struct kvm_segment *s, enum hvk_sreg sreg,
		      const struct vmx_seg_ctx *ctx, u32 *arp)
{
	bool usable = s->present && !s->unusable;
	u8 type = s->type, dpl = s->dpl;
	bool sys = false, g;

	if (sreg == HVK_SREG_CS || sreg == HVK_SREG_SS)
		dpl = ctx->pe ? dpl : 0;
	if (sreg == HVK_SREG_SS)
		dpl = ctx->ss_dpl;

	switch (sreg) {
	case HVK_SREG_CS:
		usable = true;
		if (!s->s)
			return -EINVAL;
		if (type & VMX_AR_TYPE_CODE_MASK) {
			type |= VMX_AR_TYPE_ACCESSES_MASK;
			/* Non-conforming code: DPL = CPL = SS.DPL. */
			if (!(type & BIT(2)) && dpl != ctx->ss_dpl)
				return -EINVAL;
			if ((type & BIT(2)) && dpl > ctx->ss_dpl)
				return -EINVAL;
			if (ctx->lma && s->l && s->db)
				return -EINVAL;
		} else {
			/* Read/write data: unrestricted guest only, DPL 0. */
			type |= VMX_AR_TYPE_ACCESSES_MASK;
			if (type != 3 || dpl || ctx->ss_dpl)
				return -EINVAL;
		}
		break;
	case HVK_SREG_SS:
		if (!usable)
			break;
		type |= VMX_AR_TYPE_ACCESSES_MASK;
		if (!s->s || (type != 3 && type != 7))
			return -EINVAL;
		break;
	case HVK_SREG_TR:
		/* A TR that is not a busy TSS becomes one (27.3.1.2). */
		usable = true;
		sys = true;
		if (s->selector & SEGMENT_TI_MASK)
			return -EINVAL;
		if (ctx->lma || !(type == 1 || type == 3))
			type = VMX_AR_TYPE_BUSY_32_TSS;
		else
			type = VMX_AR_TYPE_BUSY_16_TSS;
		break;
	case HVK_SREG_LDTR:
		if (!usable)
			break;
		sys = true;
		if (s->s || type != VMX_AR_TYPE_LDT ||
		    (s->selector & SEGMENT_TI_MASK))
			return -EINVAL;
		break;
	default:	/* DS, ES, FS, GS */
		if (!usable)
			break;
		type |= VMX_AR_TYPE_ACCESSES_MASK;
		if (!s->s || ((type & VMX_AR_TYPE_CODE_MASK) &&
			      !(type & VMX_AR_TYPE_READABLE_MASK)))
			return -EINVAL;
	}

	if (!usable) {
		/* SS.DPL is the CPL even when SS is unusable (28.3.1). */
		*arp = VMX_AR_UNUSABLE_MASK | (dpl << VMX_AR_DPL_SHIFT);
		return 0;
	}
	if (vmx_normalize_g(s, &g))
		return -EINVAL;
	*arp = type | (sys ? 0 : VMX_AR_S_MASK) | (dpl << VMX_AR_DPL_SHIFT) |
	       VMX_AR_P_MASK | (s->avl ? BIT(12) : 0) |
	       (s->l && sreg == HVK_SREG_CS ? VMX_AR_L_MASK : 0) |
	       (s->db ? VMX_AR_DB_MASK : 0) | (g ? VMX_AR_G_MASK : 0);
	return 0;
}

static void vmx_write_segment(struct vmx_vcpu *vmx, enum hvk_sreg sreg,
			      const struct kvm_segment *s, u32 ar)
{
	u64 base = s->base;

	/* Only FS, GS, TR and LDTR have 64-bit bases (27.3.1.2). */
	if (sreg == HVK_SREG_CS || sreg == HVK_SREG_SS ||
	    sreg == HVK_SREG_DS || sreg == HVK_SREG_ES)
		base = (u32)base;
	vmcs_write(vmx, vmx_seg_fields[sreg].selector, s->selector);
	vmcs_write(vmx, vmx_seg_fields[sreg].base, base);
	vmcs_write(vmx, vmx_seg_fields[sreg].limit, s->limit);
	vmcs_write(vmx, vmx_seg_fields[sreg].ar, ar);
}

void vmx_get_sregs(struct hvk_vcpu *vcpu, struct kvm_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_get_segment(vcpu, &sregs->cs, HVK_SREG_CS);
	vmx_get_segment(vcpu, &sregs->ds, HVK_SREG_DS);
	vmx_get_segment(vcpu, &sregs->es, HVK_SREG_ES);
	vmx_get_segment(vcpu, &sregs->fs, HVK_SREG_FS);
	vmx_get_segment(vcpu, &sregs->gs, HVK_SREG_GS);
	vmx_get_segment(vcpu, &sregs->ss, HVK_SREG_SS);
	vmx_get_segment(vcpu, &sregs->tr, HVK_SREG_TR);
	vmx_get_segment(vcpu, &sregs->ldt, HVK_SREG_LDTR);
	sregs->gdt.base = vmcs_read(vmx, GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read(vmx, GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(vmx, GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read(vmx, GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_get_cr(vcpu, 0);
	sregs->cr2 = vmx->cr2;
	sregs->cr3 = vmx_get_cr(vcpu, 3);
	sregs->cr4 = vmx_get_cr(vcpu, 4);
	sregs->efer = vmx_get_efer(vcpu);
}

int vmx_set_sregs(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	static const enum hvk_sreg order[] = {
		HVK_SREG_CS, HVK_SREG_SS, HVK_SREG_DS, HVK_SREG_ES,
		HVK_SREG_FS, HVK_SREG_GS, HVK_SREG_TR, HVK_SREG_LDTR,
	};
	const struct kvm_segment *segs[] = {
		[HVK_SREG_ES] = &sregs->es, [HVK_SREG_CS] = &sregs->cs,
		[HVK_SREG_SS] = &sregs->ss, [HVK_SREG_DS] = &sregs->ds,
		[HVK_SREG_FS] = &sregs->fs, [HVK_SREG_GS] = &sregs->gs,
		[HVK_SREG_TR] = &sregs->tr, [HVK_SREG_LDTR] = &sregs->ldt,
	};
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_seg_ctx ctx = {
		.pe = sregs->cr0 & X86_CR0_PE,
		.lma = sregs->efer & EFER_LMA,
		.ss_dpl = (sregs->cr0 & X86_CR0_PE) ? sregs->ss.dpl : 0,
	};
	u64 pdptes[4] = { 0 };
	u32 ar[ARRAY_SIZE(segs)];
	unsigned int i;

	/* CR3 may not set bits beyond the physical-address width (27.3.1.1). */
	if (sregs->cr3 >> boot_cpu_data.x86_phys_bits)
		return -EINVAL;
	if (!vmx_canonical(sregs->gdt.base) || !vmx_canonical(sregs->idt.base))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		enum hvk_sreg sreg = order[i];

		if (vmx_seg_ar(segs[sreg], sreg, &ctx, &ar[sreg]))
			return -EINVAL;
		if ((sreg == HVK_SREG_FS || sreg == HVK_SREG_GS ||
		     sreg == HVK_SREG_TR || sreg == HVK_SREG_LDTR) &&
		    !vmx_canonical(segs[sreg]->base))
			return -EINVAL;
	}
	if (vmx_pae_paging(sregs->cr0, sregs->cr4, sregs->efer) &&
	    !vmx_read_pdptes(vmx, sregs->cr3, pdptes))
		return -EINVAL;

	for (i = 0; i < ARRAY_SIZE(order); i++)
		vmx_write_segment(vmx, order[i], segs[order[i]], ar[order[i]]);
	vmcs_write(vmx, GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(vmx, GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(vmx, GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(vmx, GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmx_write_cr0(vmx, sregs->cr0);
	vmcs_write(vmx, GUEST_CR3, sregs->cr3);
	vmx_write_cr4(vmx, sregs->cr4);
	vmx_write_efer(vmx, sregs->efer);
	vmx_write_pdptes(vmx, pdptes);
	vmx->cr2 = sregs->cr2;
	/* New paging state: whatever the guest's TLB holds is stale. */
	vmx->flush_guest = true;
	return 0;
}

/*
 * The state after KVM_CREATE_VCPU, as on KVM: the architectural reset
 * state (SDM Vol. 3, 10.1.1) with CS at 0xf000:0xfff0, base 0xffff0000.
 * The core owns RIP, RFLAGS and the GPRs.
 */
void vmx_init_guest_state(struct vmx_vcpu *vmx)
{
	struct kvm_segment seg = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	enum hvk_sreg sreg;
	u32 ar;

	for (sreg = HVK_SREG_ES; sreg <= HVK_SREG_GS; sreg++) {
		if (sreg == HVK_SREG_CS)
			continue;
		ar = 0x93;	/* present, read/write data, accessed */
		vmx_write_segment(vmx, sreg, &seg, ar);
	}
	seg.selector = 0xf000;
	seg.base = 0xffff0000;
	vmx_write_segment(vmx, HVK_SREG_CS, &seg, 0x9b);	/* code, r/x */
	seg.selector = 0;
	seg.base = 0;
	vmx_write_segment(vmx, HVK_SREG_LDTR, &seg, 0x82);	/* LDT */
	vmx_write_segment(vmx, HVK_SREG_TR, &seg, 0x8b);	/* busy TSS */
	vmcs_write(vmx, GUEST_GDTR_BASE, 0);
	vmcs_write(vmx, GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(vmx, GUEST_IDTR_BASE, 0);
	vmcs_write(vmx, GUEST_IDTR_LIMIT, 0xffff);

	/* Every CR0 and CR4 bit but the guest-owned ones exits. */
	vmcs_write(vmx, CR0_GUEST_HOST_MASK, ~(u64)CR0_GUEST_OWNED);
	vmcs_write(vmx, CR4_GUEST_HOST_MASK, ~0ULL);
	vmx_write_cr0(vmx, X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	vmcs_write(vmx, GUEST_CR3, 0);
	vmx_write_cr4(vmx, 0);
	vmx_write_efer(vmx, 0);

	vmcs_write(vmx, GUEST_DR7, 0x400);	/* bit 10 reads as 1 */
	vmcs_write(vmx, GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(vmx, GUEST_SYSENTER_CS, 0);
	vmcs_write(vmx, GUEST_SYSENTER_ESP, 0);
	vmcs_write(vmx, GUEST_SYSENTER_EIP, 0);
	vmcs_write(vmx, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(vmx, GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(vmx, GUEST_PENDING_DBG_EXCEPTIONS, 0);
}
