// SPDX-License-Identifier: GPL-2.0
/*
 * AMD-V backend: capability check and SVM enablement on each CPU.
 *
 * SVM is on while EFER.SVME is set; VMRUN saves host state to the page named
 * by VM_HSAVE_PA (APM Vol. 2, 15.4 and 15.30.4).  EFER.SVME already set when
 * hvk arrives means another hypervisor owns SVM on this CPU.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/debugreg.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/svm.h>
#include <asm/trapnr.h>

#include "../hvk.h"
#include "caps.h"

/*
 * Per-CPU state.  ASIDs are handed out per CPU in generations: a vCPU that
 * comes to a CPU, or whose generation there is old, takes the next ASID;
 * when they run out, a new generation starts with a flush of every ASID.
 * A fresh ASID therefore never has stale translations.
 */
struct svm_cpu {
	struct page *hsave;		/* (i) VM_HSAVE_PA */
	struct page *host_save;		/* (i) VMSAVE area for host state */
	bool on;			/* (o) set while hvk holds EFER.SVME */
	u64 asid_generation;		/* (o) */
	u32 next_asid;			/* (o) */
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);

static void svm_read_caps(struct svm_raw_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->max_ext_leaf = cpuid_eax(0x80000000);
	if (caps->max_ext_leaf >= 0x80000001)
		caps->ext1_ecx = cpuid_ecx(0x80000001);
	if (!(caps->ext1_ecx & EXT1_ECX_SVM))
		return;
	if (rdmsrl_safe(MSR_VM_CR, &caps->vm_cr))
		caps->vm_cr = 0;
	if (caps->max_ext_leaf >= 0x8000000a) {
		caps->svm_ebx = cpuid_ebx(0x8000000a);
		caps->svm_edx = cpuid_edx(0x8000000a);
	}
}

static bool svm_present(void)
{
	return cpuid_eax(0x80000000) >= 0x80000001 &&
	       (cpuid_ecx(0x80000001) & EXT1_ECX_SVM);
}

static int svm_check_support(void)
{
	struct svm_raw_caps caps;
	const char *missing;

	svm_read_caps(&caps);
	missing = svm_missing_feature(&caps);
	if (missing) {
		pr_err("hvk: AMD-V lacks %s\n", missing);
		return -ENODEV;
	}
	return 0;
}

/*
 * The I/O and MSR permission maps, shared by every vCPU: all ones, so every
 * port and every MSR access exits (APM Vol. 2, 15.10 and 15.11).
 */
#define IOPM_ORDER	2	/* 12 KiB used */
#define MSRPM_ORDER	1	/* 8 KiB */
static struct page *svm_iopm;		/* (i) */
static struct page *svm_msrpm;		/* (i) */

static struct hvk_mmu_format svm_npt_format;

static u32 svm_max_asid;		/* (i) */
static bool svm_has_nrips;		/* (i) next-RIP save */
static bool svm_has_decode_assists;	/* (i) */

#define SVM_EDX_NRIPS		BIT(3)
#define SVM_EDX_DECODE_ASSISTS	BIT(7)

static void svm_free_cpu_pages(struct svm_cpu *sc)
{
	if (sc->hsave)
		__free_page(sc->hsave);
	if (sc->host_save)
		__free_page(sc->host_save);
	sc->hsave = NULL;
	sc->host_save = NULL;
}

static void svm_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		svm_free_cpu_pages(per_cpu_ptr(&svm_cpu, cpu));
	if (svm_iopm)
		__free_pages(svm_iopm, IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
}

static int svm_setup(void)
{
	u32 edx = cpuid_edx(0x8000000a);
	int cpu;

	svm_max_asid = cpuid_ebx(0x8000000a) - 1;
	svm_npt_format.levels = pgtable_l5_enabled() ? 5 : 4;
	/* NPT leaves are host-format: 1 GiB ones where the CPU has them. */
	svm_npt_format.max_leaf = boot_cpu_has(X86_FEATURE_GBPAGES) ? 3 : 2;
	svm_has_nrips = edx & SVM_EDX_NRIPS;
	svm_has_decode_assists = edx & SVM_EDX_DECODE_ASSISTS;

	svm_iopm = alloc_pages(GFP_KERNEL, IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm)
		goto err;
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << MSRPM_ORDER);

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		sc->hsave = alloc_pages_node(cpu_to_node(cpu),
					     GFP_KERNEL | __GFP_ZERO, 0);
		sc->host_save = alloc_pages_node(cpu_to_node(cpu),
						 GFP_KERNEL | __GFP_ZERO, 0);
		if (!sc->hsave || !sc->host_save)
			goto err;
		/* Generation 0 is no one's: the first vCPU starts generation 1. */
		sc->next_asid = svm_max_asid + 1;
	}
	return 0;
err:
	svm_unsetup();
	return -ENOMEM;
}

static int svm_enable_cpu(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;

	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sc->hsave));
	sc->on = true;
	/* Host perf counters must not count guest mode as host. */
	amd_pmu_enable_virt();
	return 0;
}

/*
 * Leave SVM on this CPU.  GIF may be clear if this runs in an emergency
 * between CLGI and STGI; set it first so that NMIs and INIT reach the CPU
 * again (APM Vol. 2, 15.17).
 */
static void svm_off(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (!sc->on)
		return;
	/* STGI faults only with EFER.SVME clear; go on regardless. */
	asm volatile("1: stgi\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : : "memory");
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	sc->on = false;
}

static void svm_disable_cpu(void)
{
	if (!this_cpu_read(svm_cpu.on))
		return;
	svm_off();
	amd_pmu_disable_virt();
}

static bool svm_cpu_enabled(void)
{
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	return this_cpu_read(svm_cpu.on) && (efer & EFER_SVME);
}

/* --- vCPUs --------------------------------------------------------------- */

/* DR6 and DR7 after reset (SDM Vol. 3, 19.2); the guest's are emulated. */
#define DR6_RESET	0xffff0ff0ULL
#define DR7_RESET	0x400ULL
/* The power-on PAT (SDM Vol. 3, 13.12.4). */
#define PAT_RESET	0x0007040600070406ULL

struct svm_vcpu {
	struct hvk_vcpu vcpu;		/* first: the core allocates us */
	struct vmcb *vmcb;		/* (i) one page */
	int last_cpu;			/* (o) CPU of the last VMRUN, or -1 */
	u64 asid_generation;		/* (o) of vmcb->control.asid */
	/*
	 * NMI blocking, which SVM does not track for the guest: set when an
	 * injected NMI is delivered, ended by the guest's IRET (intercepted).
	 * The IRET exit comes before the instruction: NMIs stay blocked
	 * until RIP has left it (iret_rip), and a single step (TF, hidden
	 * from the guest) brings an exit right after it when an NMI waits.
	 */
	bool nmi_masked;		/* (o) */
	bool awaiting_iret;		/* (o) IRET at iret_rip intercepted */
	u64 iret_rip;			/* (o) */
	bool nmi_singlestep;		/* (o) an NMI waits for a window */
	bool nmi_tf_set;		/* (o) hvk set TF for it this entry */
};

static struct svm_vcpu *to_svm(struct hvk_vcpu *vcpu)
{
	return container_of(vcpu, struct svm_vcpu, vcpu);
}

void __svm_vcpu_run(u64 vmcb_pa, unsigned long *regs, u64 host_save_pa);
static void svm_cpuid_changed(struct hvk_vcpu *vcpu);

static void svm_set_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_clr_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] &= ~BIT(bit % 32);
}

/* Segment attributes in the VMCB's packed form (APM Vol. 2, 15.5.1). */
static u16 svm_pack_attrib(const struct kvm_segment *var)
{
	if (var->unusable || !var->present)
		return 0;
	return (var->type & SVM_SELECTOR_TYPE_MASK) |
	       var->s << SVM_SELECTOR_S_SHIFT |
	       var->dpl << SVM_SELECTOR_DPL_SHIFT |
	       var->present << SVM_SELECTOR_P_SHIFT |
	       var->avl << SVM_SELECTOR_AVL_SHIFT |
	       var->l << SVM_SELECTOR_L_SHIFT |
	       var->db << SVM_SELECTOR_DB_SHIFT |
	       var->g << SVM_SELECTOR_G_SHIFT;
}

static struct vmcb_seg *svm_seg(struct vmcb *vmcb, enum hvk_sreg sreg)
{
	struct vmcb_save_area *save = &vmcb->save;

	switch (sreg) {
	case HVK_SREG_ES: return &save->es;
	case HVK_SREG_CS: return &save->cs;
	case HVK_SREG_SS: return &save->ss;
	case HVK_SREG_DS: return &save->ds;
	case HVK_SREG_FS: return &save->fs;
	case HVK_SREG_GS: return &save->gs;
	case HVK_SREG_TR: return &save->tr;
	default: return &save->ldtr;
	}
}

static void svm_get_segment(struct hvk_vcpu *vcpu, struct kvm_segment *var,
			    enum hvk_sreg sreg)
{
	struct vmcb_seg *s = svm_seg(to_svm(vcpu)->vmcb, sreg);

	*var = (struct kvm_segment) {
		.base = s->base,
		.limit = s->limit,
		.selector = s->selector,
		.type = s->attrib & SVM_SELECTOR_TYPE_MASK,
		.s = !!(s->attrib & SVM_SELECTOR_S_MASK),
		.dpl = (s->attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT,
		.present = !!(s->attrib & SVM_SELECTOR_P_MASK),
		.avl = !!(s->attrib & SVM_SELECTOR_AVL_MASK),
		.l = !!(s->attrib & SVM_SELECTOR_L_MASK),
		.db = !!(s->attrib & SVM_SELECTOR_DB_MASK),
		.g = !!(s->attrib & SVM_SELECTOR_G_MASK),
	};
	var->unusable = !var->present;
}

static void svm_set_segment(struct svm_vcpu *svm, const struct kvm_segment *var,
			    enum hvk_sreg sreg)
{
	struct vmcb_seg *s = svm_seg(svm->vmcb, sreg);

	s->base = var->base;
	s->limit = var->limit;
	s->selector = var->selector;
	s->attrib = svm_pack_attrib(var);
}

static u64 svm_get_cr(struct hvk_vcpu *vcpu, int cr)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	switch (cr) {
	case 0: return save->cr0;
	case 3: return save->cr3;
	default: return save->cr4;
	}
}

/* The VMCB's EFER has SVME set, as VMRUN requires; the guest never sees it. */
static u64 svm_get_efer(struct hvk_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.efer & ~EFER_SVME;
}

static void svm_set_efer(struct hvk_vcpu *vcpu, u64 efer)
{
	to_svm(vcpu)->vmcb->save.efer = efer | EFER_SVME;
}

static void svm_set_cr0(struct hvk_vcpu *vcpu, u64 cr0)
{
	to_svm(vcpu)->vmcb->save.cr0 = cr0;
}

static void svm_set_cr4(struct hvk_vcpu *vcpu, u64 cr4)
{
	to_svm(vcpu)->vmcb->save.cr4 = cr4;
}

/* Where the VMCB keeps an MSR of hvk's list; VMRUN and VMSAVE keep it current. */
static u64 *svm_msr_field(struct vmcb_save_area *save, u32 msr)
{
	switch (msr) {
	case MSR_STAR: return &save->star;
	case MSR_LSTAR: return &save->lstar;
	case MSR_CSTAR: return &save->cstar;
	case MSR_SYSCALL_MASK: return &save->sfmask;
	case MSR_KERNEL_GS_BASE: return &save->kernel_gs_base;
	case MSR_FS_BASE: return &save->fs.base;
	case MSR_GS_BASE: return &save->gs.base;
	case MSR_IA32_SYSENTER_CS: return &save->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP: return &save->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP: return &save->sysenter_eip;
	default: return NULL;
	}
}

static u64 svm_get_msr(struct hvk_vcpu *vcpu, u32 msr)
{
	u64 *field = svm_msr_field(&to_svm(vcpu)->vmcb->save, msr);

	return WARN_ON_ONCE(!field) ? 0 : *field;
}

static void svm_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val)
{
	u64 *field = svm_msr_field(&to_svm(vcpu)->vmcb->save, msr);

	if (!WARN_ON_ONCE(!field))
		*field = val;
}

/* CPL follows SS.DPL in protected mode and is 0 in real mode. */
static void svm_update_cpl(struct svm_vcpu *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	save->cpl = (save->cr0 & X86_CR0_PE) ?
		    (save->ss.attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT : 0;
}

static void svm_get_sregs(struct hvk_vcpu *vcpu, struct kvm_sregs *sregs)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	svm_get_segment(vcpu, &sregs->cs, HVK_SREG_CS);
	svm_get_segment(vcpu, &sregs->ds, HVK_SREG_DS);
	svm_get_segment(vcpu, &sregs->es, HVK_SREG_ES);
	svm_get_segment(vcpu, &sregs->fs, HVK_SREG_FS);
	svm_get_segment(vcpu, &sregs->gs, HVK_SREG_GS);
	svm_get_segment(vcpu, &sregs->ss, HVK_SREG_SS);
	svm_get_segment(vcpu, &sregs->tr, HVK_SREG_TR);
	svm_get_segment(vcpu, &sregs->ldt, HVK_SREG_LDTR);
	sregs->gdt.base = save->gdtr.base;
	sregs->gdt.limit = save->gdtr.limit;
	sregs->idt.base = save->idtr.base;
	sregs->idt.limit = save->idtr.limit;
	sregs->cr0 = save->cr0;
	sregs->cr2 = save->cr2;
	sregs->cr3 = save->cr3;
	sregs->cr4 = save->cr4;
	sregs->efer = svm_get_efer(vcpu);
}

/* Every state hvk_sregs_valid() lets through is one VMRUN accepts. */
static int svm_set_sregs(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_save_area *save = &svm->vmcb->save;

	svm_set_segment(svm, &sregs->cs, HVK_SREG_CS);
	svm_set_segment(svm, &sregs->ds, HVK_SREG_DS);
	svm_set_segment(svm, &sregs->es, HVK_SREG_ES);
	svm_set_segment(svm, &sregs->fs, HVK_SREG_FS);
	svm_set_segment(svm, &sregs->gs, HVK_SREG_GS);
	svm_set_segment(svm, &sregs->ss, HVK_SREG_SS);
	svm_set_segment(svm, &sregs->tr, HVK_SREG_TR);
	svm_set_segment(svm, &sregs->ldt, HVK_SREG_LDTR);
	save->gdtr.base = sregs->gdt.base;
	save->gdtr.limit = sregs->gdt.limit;
	save->idtr.base = sregs->idt.base;
	save->idtr.limit = sregs->idt.limit;
	save->cr0 = sregs->cr0;
	save->cr2 = sregs->cr2;
	save->cr3 = sregs->cr3;
	save->cr4 = sregs->cr4;
	svm_set_efer(vcpu, sregs->efer);
	svm_update_cpl(svm);
	return 0;
}

/* The state of a vCPU after KVM_CREATE_VCPU (APM Vol. 2, 14.1.3). */
static void svm_init_vmcb(struct svm_vcpu *svm)
{
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *save = &vmcb->save;
	static const unsigned int intercepts[] = {
		INTERCEPT_CR0_WRITE, INTERCEPT_CR4_WRITE, INTERCEPT_CR8_WRITE,
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_INIT,
		INTERCEPT_RDPMC, INTERCEPT_CPUID, INTERCEPT_INVD,
		INTERCEPT_HLT, INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT,
		INTERCEPT_MSR_PROT, INTERCEPT_TASK_SWITCH, INTERCEPT_SHUTDOWN,
		INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
		INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
		INTERCEPT_SKINIT, INTERCEPT_MONITOR,
		INTERCEPT_MWAIT, INTERCEPT_XSETBV,
	};
	struct kvm_segment data = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	struct kvm_segment code = data;
	struct kvm_segment ldt = { .limit = 0xffff, .type = 2, .present = 1 };
	struct kvm_segment tr = { .limit = 0xffff, .type = 3, .present = 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(vmcb, intercepts[i]);
	/*
	 * #AC and #DB whose delivery raises them again would loop inside the
	 * CPU with no exit, locking up the host (CVE-2015-5307, -8104): take
	 * them out and reflect them.
	 */
	svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_AC);
	svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_DB);
	/* Every debug register access: DR0-3 are not switched by VMRUN. */
	for (i = 0; i < 8; i++) {
		svm_set_intercept(vmcb, INTERCEPT_DR0_READ + i);
		svm_set_intercept(vmcb, INTERCEPT_DR0_WRITE + i);
	}
	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	/* Host interrupts exit the guest whatever the guest's RFLAGS.IF. */
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = __pa(svm->vcpu.vm->mmu.root);

	code.type = 0xb;
	code.selector = 0xf000;
	code.base = 0xffff0000;
	svm_set_segment(svm, &code, HVK_SREG_CS);
	for (i = HVK_SREG_ES; i <= HVK_SREG_GS; i++)
		if (i != HVK_SREG_CS)
			svm_set_segment(svm, &data, i);
	svm_set_segment(svm, &ldt, HVK_SREG_LDTR);
	svm_set_segment(svm, &tr, HVK_SREG_TR);
	save->gdtr.limit = 0xffff;
	save->idtr.limit = 0xffff;
	save->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	save->efer = EFER_SVME;
	save->dr6 = DR6_RESET;
	save->dr7 = DR7_RESET;
	save->g_pat = PAT_RESET;
	svm_update_cpl(svm);
}

static int svm_vcpu_init(struct hvk_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->last_cpu = -1;
	svm->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb)
		return -ENOMEM;
	svm_init_vmcb(svm);
	svm_cpuid_changed(vcpu);
	return 0;
}

static void svm_vcpu_free(struct hvk_vcpu *vcpu)
{
	free_page((unsigned long)to_svm(vcpu)->vmcb);
}

/*
 * RDTSCP and RDPID run in the guest: VMRUN applies the TSC offset, and the
 * core loads the guest's TSC_AUX between vcpu_load and vcpu_put.
 */
static bool svm_rdtscp_in_guest(void)
{
	return true;
}

/* Nothing in a VMCB is tied to a CPU; ASIDs are taken at VMRUN time. */
static void svm_vcpu_load(struct hvk_vcpu *vcpu, int cpu)
{
}

static void svm_vcpu_put(struct hvk_vcpu *vcpu)
{
}

static void svm_new_asid(struct svm_vcpu *svm, struct svm_cpu *sc)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	if (sc->next_asid > svm_max_asid) {
		sc->asid_generation++;
		sc->next_asid = 1;
		c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	svm->asid_generation = sc->asid_generation;
	c->asid = sc->next_asid++;
}

/* EVENTINJ types (APM Vol. 2, 15.20). */
static const u32 svm_event_types[] = {
	[HVK_EVENT_EXCEPTION] = SVM_EVTINJ_TYPE_EXEPT,
	[HVK_EVENT_SOFT_EXCEPTION] = SVM_EVTINJ_TYPE_EXEPT,
	[HVK_EVENT_PRIV_SOFT_EXCEPTION] = SVM_EVTINJ_TYPE_EXEPT,
	[HVK_EVENT_NMI] = SVM_EVTINJ_TYPE_NMI,
	[HVK_EVENT_INTR] = SVM_EVTINJ_TYPE_INTR,
	[HVK_EVENT_SOFT_INTR] = SVM_EVTINJ_TYPE_SOFT,
};

static void svm_inject_event(struct hvk_vcpu *vcpu, const struct hvk_event *ev)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->event_inj = 0;
	c->event_inj_err = 0;
	if (ev->type == HVK_EVENT_NONE)
		return;
	c->event_inj = ev->vector | svm_event_types[ev->type] | SVM_EVTINJ_VALID;
	/* Never in real mode, where exceptions push no error code. */
	if (ev->has_error_code && (svm_get_cr(vcpu, 0) & X86_CR0_PE)) {
		c->event_inj |= SVM_EVTINJ_VALID_ERR;
		c->event_inj_err = ev->error_code;
	}
	/* Delivering an NMI or interrupt ends the interrupt shadow. */
	if (ev->type == HVK_EVENT_NMI || ev->type == HVK_EVENT_INTR)
		c->int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/*
 * The interrupt window: a virtual interrupt (V_IRQ) that the guest takes
 * when RFLAGS.IF is set and no shadow blocks it, and whose taking is
 * intercepted (VINTR, APM Vol. 2, 15.21.4).  The NMI window: the IRET that
 * ends the NMI handler, or a single step past it or past the shadow.
 */
static void svm_set_windows(struct hvk_vcpu *vcpu, bool irq, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;

	c->int_ctl &= ~V_IRQ_INJECTION_BITS_MASK;
	svm_clr_intercept(svm->vmcb, INTERCEPT_VINTR);
	if (irq) {
		c->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
			      (0xf << V_INTR_PRIO_SHIFT);
		svm_set_intercept(svm->vmcb, INTERCEPT_VINTR);
	}
	/* Blocked NMIs without the IRET seen yet: its intercept is on. */
	svm->nmi_singlestep = nmi && (!svm->nmi_masked || svm->awaiting_iret);
}

static u8 svm_get_interrupt_shadow(struct hvk_vcpu *vcpu)
{
	/* SVM does not say which instruction made it: both, as KVM says. */
	if (to_svm(vcpu)->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK)
		return KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS;
	return 0;
}

static void svm_set_interrupt_shadow(struct hvk_vcpu *vcpu, u8 shadow)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	if (shadow)
		c->int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		c->int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

static void svm_end_instruction(struct hvk_vcpu *vcpu)
{
	svm_set_interrupt_shadow(vcpu, 0);
}

static bool svm_get_nmi_mask(struct hvk_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

static void svm_set_nmi_mask(struct hvk_vcpu *vcpu, bool masked)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->nmi_masked = masked;
	svm->awaiting_iret = false;
	if (masked)
		svm_set_intercept(svm->vmcb, INTERCEPT_IRET);
	else
		svm_clr_intercept(svm->vmcb, INTERCEPT_IRET);
}

static void svm_update_guest_debug(struct hvk_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)
		svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_BP);
	else
		svm_clr_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_BP);
}

static void svm_set_cr2(struct hvk_vcpu *vcpu, u64 cr2)
{
	to_svm(vcpu)->vmcb->save.cr2 = cr2;
}

/* INVPCID runs in the guest where the CPU has it (no intercept). */
static bool svm_has_invpcid(void)
{
	return boot_cpu_has(X86_FEATURE_INVPCID);
}

/* Not offered in the guest's CPUID: intercepted, and #UD. */
static void svm_cpuid_changed(struct hvk_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u32 regs[4];

	hvk_cpuid(vcpu, 7, 0, regs);
	if (svm_has_invpcid() && (regs[1] & BIT(10)))
		svm_clr_intercept(vmcb, INTERCEPT_INVPCID);
	else
		svm_set_intercept(vmcb, INTERCEPT_INVPCID);
}

/*
 * After the exit: the event that EXITINTINFO says was being delivered
 * (15.7.2) is delivered again.  INT n, INT3 and INTO are not: without
 * next-RIP the return address could not be given, and RIP still points at
 * the instruction, which raises them again.  A delivered NMI blocks NMIs.
 */
static void svm_complete_events(struct svm_vcpu *svm)
{
	struct hvk_vcpu *vcpu = &svm->vcpu;
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 info = c->exit_int_info;
	struct hvk_event ev = { .type = HVK_EVENT_NONE };
	bool nmi_injected = vcpu->events.injecting.type == HVK_EVENT_NMI;

	if (info & SVM_EXITINTINFO_VALID) {
		ev.vector = info & SVM_EXITINTINFO_VEC_MASK;
		switch (info & SVM_EXITINTINFO_TYPE_MASK) {
		case SVM_EXITINTINFO_TYPE_INTR:
			ev.type = HVK_EVENT_INTR;
			break;
		case SVM_EXITINTINFO_TYPE_NMI:
			ev.type = HVK_EVENT_NMI;
			break;
		case SVM_EXITINTINFO_TYPE_EXEPT:
			if (ev.vector == X86_TRAP_BP || ev.vector == X86_TRAP_OF)
				break;
			ev.type = HVK_EVENT_EXCEPTION;
			ev.has_error_code = info & SVM_EXITINTINFO_VALID_ERR;
			ev.error_code = c->exit_int_info_err;
			break;
		default:
			break;
		}
	}
	if (nmi_injected && ev.type != HVK_EVENT_NMI)
		svm_set_nmi_mask(vcpu, true);
	hvk_event_delivery_done(vcpu, &ev);
}

static void svm_run(struct hvk_vcpu *vcpu, unsigned int flags)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	struct vmcb *vmcb = svm->vmcb;
	int cpu = smp_processor_id();

	vmcb->save.rip = vcpu->rip;
	vmcb->save.rsp = vcpu->regs[HVK_RSP];
	vmcb->save.rax = vcpu->regs[HVK_RAX];
	svm->nmi_tf_set = svm->nmi_singlestep &&
			  !(vcpu->rflags & X86_EFLAGS_TF);
	vmcb->save.rflags = vcpu->rflags |
			    (svm->nmi_tf_set ? X86_EFLAGS_TF : 0);
	vmcb->control.tsc_offset = READ_ONCE(vcpu->vm->tsc_offset);
	/*
	 * CR8 reads are V_TPR (APM Vol. 2, 15.21.2); writes are intercepted,
	 * so that the core (and the LAPIC's TPR) always holds the value.
	 */
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
				hvk_get_cr8(vcpu);

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	/* A new ASID has no translations: that is the flush. */
	if ((flags & HVK_RUN_FLUSH_TLB) || svm->last_cpu != cpu ||
	    svm->asid_generation != sc->asid_generation)
		svm_new_asid(svm, sc);
	svm->last_cpu = cpu;
	/* No VMCB caching: QEMU's CPU has none, and it is one less invariant. */
	vmcb->control.clean = 0;
	vmcb->control.exit_code = SVM_EXIT_ERR;

	asm volatile("clgi" ::: "memory");
	hvk_guest_state_enter_irqoff();
	hvk_spec_ctrl_enter(vcpu);
	__svm_vcpu_run(__pa(vmcb), vcpu->regs, page_to_phys(sc->host_save));
	hvk_spec_ctrl_exit(vcpu);
	hvk_guest_state_exit_irqoff();
	asm volatile("stgi" ::: "memory");

	/*
	 * TF hvk set goes, unless the instruction was the awaited IRET,
	 * which loaded RFLAGS from the stack.
	 */
	if (svm->nmi_tf_set &&
	    !(svm->awaiting_iret && vcpu->rip == svm->iret_rip &&
	      vmcb->save.rip != svm->iret_rip))
		vmcb->save.rflags &= ~X86_EFLAGS_TF;
	/* The intercepted IRET has completed: NMIs are unblocked. */
	if (svm->awaiting_iret && vmcb->save.rip != svm->iret_rip)
		svm_set_nmi_mask(vcpu, false);

	vcpu->rip = vmcb->save.rip;
	vcpu->regs[HVK_RSP] = vmcb->save.rsp;
	vcpu->regs[HVK_RAX] = vmcb->save.rax;
	vcpu->rflags = vmcb->save.rflags;
	svm_complete_events(svm);
}

/* --- exits --------------------------------------------------------------- */

/*
 * RIP after the intercepted instruction: the CPU's next-RIP where it saves
 * one (APM Vol. 2, 15.7.1), else decoded from guest memory.  0 with an
 * internal-error exit prepared when the instruction cannot be decoded.
 */
static int svm_next_rip(struct svm_vcpu *svm, u64 *next_rip,
			struct hvk_insn *insn)
{
	struct hvk_vcpu *vcpu = &svm->vcpu;

	if (svm_has_nrips && !insn) {
		*next_rip = svm->vmcb->control.next_rip;
		return 1;
	}
	if (hvk_decode_at_rip(vcpu, insn))
		return hvk_exit_emulation_failed(vcpu);
	*next_rip = vcpu->rip + insn->len;
	if (hvk_cs_mode(vcpu) != 64)
		*next_rip = (u32)*next_rip;
	return 1;
}

static int svm_skip(struct svm_vcpu *svm, u64 *next_rip)
{
	struct hvk_insn insn;

	return svm_next_rip(svm, next_rip, svm_has_nrips ? NULL : &insn);
}

static int svm_inject_ud(struct svm_vcpu *svm)
{
	return hvk_queue_exception(&svm->vcpu, X86_TRAP_UD, false, 0);
}

static int svm_exit_ok(struct svm_vcpu *svm)
{
	return 1;
}

/* The interrupt is still pending in the host: it is taken after the exit. */
static int svm_exit_intr(struct svm_vcpu *svm)
{
	svm->vcpu.stat.irq_exits++;
	return 1;
}

static int svm_exit_cpuid(struct svm_vcpu *svm)
{
	u64 next;

	return svm_skip(svm, &next) && hvk_handle_cpuid(&svm->vcpu, next);
}

static int svm_exit_hlt(struct svm_vcpu *svm)
{
	u64 next;

	if (!svm_skip(svm, &next))
		return 0;
	return hvk_handle_hlt(&svm->vcpu, next);
}

static int svm_exit_msr(struct svm_vcpu *svm)
{
	u64 next;

	if (!svm_skip(svm, &next))
		return 0;
	if (svm->vmcb->control.exit_info_1)
		return hvk_handle_wrmsr(&svm->vcpu, next);
	return hvk_handle_rdmsr(&svm->vcpu, next);
}

static int svm_exit_vmmcall(struct svm_vcpu *svm)
{
	u64 next;

	if (!svm_skip(svm, &next))
		return 0;
	return hvk_handle_hypercall(&svm->vcpu, next);
}

static int svm_exit_xsetbv(struct svm_vcpu *svm)
{
	u64 next;

	if (!svm_skip(svm, &next))
		return 0;
	return hvk_handle_xsetbv(&svm->vcpu, next);
}

static int svm_exit_invd(struct svm_vcpu *svm)
{
	u64 next;

	/* INVD would drop the host's dirty cache lines: treat it as a NOP. */
	if (!svm_skip(svm, &next))
		return 0;
	svm->vcpu.rip = next;
	return 1;
}

static int svm_exit_rdpmc(struct svm_vcpu *svm)
{
	/* No performance counters are offered. */
	return hvk_queue_exception(&svm->vcpu, X86_TRAP_GP, true, 0);
}

/*
 * IOIO: EXITINFO1 describes the access, EXITINFO2 is the next RIP (15.10.2).
 * QEMU's CPU leaves the address-size bits clear; 0 lets the core decode it.
 */
static int svm_exit_io(struct svm_vcpu *svm)
{
	u64 info = svm->vmcb->control.exit_info_1;
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	u8 asize = (info & SVM_IOIO_ASIZE_MASK) >> SVM_IOIO_ASIZE_SHIFT;

	return hvk_handle_io(&svm->vcpu, info >> 16,
			     size == 4 ? 4 : size,	/* one-hot: 1, 2, 4 */
			     info & SVM_IOIO_TYPE_MASK,
			     info & SVM_IOIO_STR_MASK,
			     info & SVM_IOIO_REP_MASK,
			     asize == 4 ? 8 : asize * 2,
			     svm->vmcb->control.exit_info_2);
}

/*
 * An intercepted #AC (error code 0) goes back to the guest; #DB to the
 * core, unless it is the single step hvk took for an NMI window.
 */
static int svm_exit_reflect(struct svm_vcpu *svm)
{
	u8 vector = svm->vmcb->control.exit_code - SVM_EXIT_EXCP_BASE;
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (vector == X86_TRAP_DB) {
		/* The CPU put the cause in the VMCB's DR6; it is the guest's. */
		u64 status = save->dr6;

		save->dr6 = DR6_RESET;
		if (svm->nmi_tf_set && (status & DR_STEP)) {
			status &= ~DR_STEP;
			if (!(status & (DR_TRAP_BITS | DR_STEP)))
				return 1;
		}
		return hvk_handle_debug_exception(&svm->vcpu, status);
	}
	if (vector == X86_TRAP_BP)
		return hvk_handle_breakpoint(&svm->vcpu);
	return hvk_queue_exception(&svm->vcpu, vector, true, 0);
}

/* The NMI handler's IRET, not executed yet (APM Vol. 2, 15.9). */
static int svm_exit_iret(struct svm_vcpu *svm)
{
	svm_clr_intercept(svm->vmcb, INTERCEPT_IRET);
	svm->awaiting_iret = true;
	svm->iret_rip = svm->vcpu.rip;
	return 1;
}

static int svm_exit_window(struct svm_vcpu *svm)
{
	return hvk_handle_event_window(&svm->vcpu);
}

static int svm_exit_shutdown(struct svm_vcpu *svm)
{
	return hvk_handle_shutdown(&svm->vcpu);
}

static int svm_exit_npf(struct svm_vcpu *svm)
{
	/* Error code bit 3: a reserved bit in hvk's own tables (15.25.6). */
	if (svm->vmcb->control.exit_info_1 & BIT_ULL(3)) {
		WARN_ON_ONCE(1);
		return hvk_exit_unhandled(&svm->vcpu, SVM_EXIT_NPF,
					  svm->vmcb->control.exit_info_1,
					  svm->vmcb->control.exit_info_2);
	}
	/* Error code bit 1: the access was a write (15.25.6). */
	return hvk_handle_ept_npt_fault(&svm->vcpu,
					svm->vmcb->control.exit_info_2,
					svm->vmcb->control.exit_info_1 & BIT(1));
}

/* The GPR a ModRM r/m field names, with REX.B. */
static unsigned long *svm_modrm_gpr(struct hvk_vcpu *vcpu,
				    const struct hvk_insn *insn)
{
	return &vcpu->regs[(insn->modrm & 7) | ((insn->rex & 1) << 3)];
}

/* Writes to CR0, CR4 and CR8: MOV to CR, and CLTS and LMSW for CR0 (15.8). */
static int svm_exit_cr_write(struct svm_vcpu *svm)
{
	struct hvk_vcpu *vcpu = &svm->vcpu;
	int cr = svm->vmcb->control.exit_code - SVM_EXIT_WRITE_CR0;
	u64 cr0 = svm->vmcb->save.cr0, val;
	struct hvk_insn insn;
	u64 next;

	if (!svm_next_rip(svm, &next, &insn))
		return 0;
	if (insn.opcode[0] == 0x0f && insn.opcode[1] == 0x22) {
		unsigned int reg = ((insn.modrm >> 3) & 7) |
				   ((insn.rex & 4) << 1);

		/* LOCK MOV CR0 is MOV CR8 on AMD; other CRs are not ours. */
		if (insn.lock && reg == 0)
			reg = 8;
		if (reg != cr)
			return hvk_exit_emulation_failed(vcpu);
		val = *svm_modrm_gpr(vcpu, &insn);
		if (hvk_cs_mode(vcpu) != 64)
			val = (u32)val;
	} else if (cr == 0 && insn.opcode[0] == 0x0f && insn.opcode[1] == 0x06) {
		val = cr0 & ~X86_CR0_TS;			/* CLTS */
	} else if (cr == 0 && insn.opcode[0] == 0x0f && insn.opcode[1] == 0x01 &&
		   (insn.modrm & 0xf8) == 0xf0) {
		/* LMSW reg: CR0[3:0], and it cannot clear PE. */
		val = (cr0 & ~0xeULL) | (*svm_modrm_gpr(vcpu, &insn) & 0xf);
	} else {
		return hvk_exit_emulation_failed(vcpu);
	}
	return hvk_handle_cr_write(vcpu, cr, val, next);
}

/* MOV to and from DR0-7, decoded here and emulated by the core. */
static int svm_exit_dr(struct svm_vcpu *svm)
{
	struct hvk_vcpu *vcpu = &svm->vcpu;
	u32 code = svm->vmcb->control.exit_code;
	bool write = code >= SVM_EXIT_WRITE_DR0;
	unsigned int dr = code - (write ? SVM_EXIT_WRITE_DR0 : SVM_EXIT_READ_DR0);
	struct hvk_insn insn;
	u64 next;

	if (!svm_next_rip(svm, &next, &insn))
		return 0;
	if (insn.opcode[1] != (write ? 0x23 : 0x21))
		return hvk_exit_emulation_failed(vcpu);
	return hvk_handle_mov_dr(vcpu, dr,
				 (insn.modrm & 7) | ((insn.rex & 1) << 3),
				 write, next);
}

/*
 * Where and how the instruction at RIP is fetched, straight from the VMCB:
 * what svm_get_segment(), svm_get_cr(), svm_get_efer() and the CPL (SS.DPL,
 * as hvk_cpl_access()) give, without building whole segments.
 */
static void svm_fetch_key(struct svm_vcpu *svm, struct hvk_fetch_key *key)
{
	const struct vmcb_save_area *save = &svm->vmcb->save;
	u16 cs = save->cs.attrib;
	u8 dpl = (save->ss.attrib & SVM_SELECTOR_DPL_MASK) >>
		 SVM_SELECTOR_DPL_SHIFT;

	key->efer = save->efer & ~EFER_SVME;
	key->cr0 = save->cr0;
	key->cr3 = save->cr3;
	key->cr4 = save->cr4;
	key->mode = (key->efer & EFER_LMA) && (cs & SVM_SELECTOR_L_MASK) ? 64 :
		    cs & SVM_SELECTOR_DB_MASK ? 32 : 16;
	/* In 64-bit mode CS has no base (SDM Vol. 3, 3.4.4). */
	key->la = key->mode == 64 ? svm->vcpu.rip :
				    (u32)(save->cs.base + svm->vcpu.rip);
	key->access = HVK_PF_FETCH | (dpl == 3 ? HVK_PF_USER : 0);
}

/*
 * The fast path (fastpath.c), interrupts off.  Without next-RIP the length
 * comes from the instruction at RIP, which must still be the one that
 * exited; anything that cannot be read without sleeping goes the slow way.
 */
static bool svm_fastpath(struct hvk_vcpu *vcpu)
{
	static const u8 cpuid[] = { 0x0f, 0xa2 }, rdmsr[] = { 0x0f, 0x32 },
			wrmsr[] = { 0x0f, 0x30 }, vmmcall[] = { 0x0f, 0x01, 0xd9 };
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct hvk_fetch_key key;
	const u8 *opcode;
	unsigned int len, n;
	u64 next;

	/* hvk's single step over an NMI window, and the IRET it awaits. */
	if (svm->nmi_singlestep || svm->awaiting_iret)
		return false;
	switch (c->exit_code) {
	case SVM_EXIT_CPUID:
		opcode = cpuid;
		n = sizeof(cpuid);
		break;
	case SVM_EXIT_MSR:
		opcode = c->exit_info_1 ? wrmsr : rdmsr;
		n = sizeof(rdmsr);
		break;
	case SVM_EXIT_VMMCALL:
		opcode = vmmcall;
		n = sizeof(vmmcall);
		break;
	default:
		return false;
	}
	if (svm_has_nrips) {
		next = c->next_rip;
	} else {
		svm_fetch_key(svm, &key);
		len = hvk_fast_insn_len(vcpu, &key, opcode, n);
		if (!len)
			return false;
		next = vcpu->rip + len;
		if (key.mode != 64)
			next = (u32)next;
	}
	switch (c->exit_code) {
	case SVM_EXIT_CPUID:
		hvk_handle_cpuid(vcpu, next);
		vcpu->exit_reason = HVK_EXIT_CPUID;
		break;
	case SVM_EXIT_MSR:
		if (!hvk_fast_msr(vcpu, c->exit_info_1, next))
			return false;
		vcpu->exit_reason = c->exit_info_1 ? HVK_EXIT_MSR_WRITE :
						     HVK_EXIT_MSR_READ;
		break;
	default:
		hvk_handle_hypercall(vcpu, next);
		vcpu->exit_reason = HVK_EXIT_HYPERCALL;
		break;
	}
	svm_end_instruction(vcpu);
	return true;
}

static int svm_exit_err(struct svm_vcpu *svm)
{
	/* VMEXIT_INVALID: the VMCB failed VMRUN's consistency checks. */
	return hvk_exit_fail_entry(&svm->vcpu, SVM_EXIT_ERR);
}

typedef int (*svm_exit_handler)(struct svm_vcpu *svm);

static const svm_exit_handler svm_exit_handlers[] = {
	[SVM_EXIT_WRITE_CR0]		= svm_exit_cr_write,
	[SVM_EXIT_WRITE_CR4]		= svm_exit_cr_write,
	[SVM_EXIT_WRITE_CR8]		= svm_exit_cr_write,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR0 + 7]	= svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR0 + 7]	= svm_exit_dr,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_DB]	= svm_exit_reflect,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_AC]	= svm_exit_reflect,
	[SVM_EXIT_INTR]			= svm_exit_intr,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_BP]	= svm_exit_reflect,
	[SVM_EXIT_VINTR]		= svm_exit_window,
	[SVM_EXIT_IRET]			= svm_exit_iret,
	[SVM_EXIT_NMI]			= svm_exit_ok,
	[SVM_EXIT_SMI]			= svm_exit_ok,
	[SVM_EXIT_INIT]			= svm_exit_ok,
	[SVM_EXIT_RDPMC]		= svm_exit_rdpmc,
	[SVM_EXIT_CPUID]		= svm_exit_cpuid,
	[SVM_EXIT_INVD]			= svm_exit_invd,
	[SVM_EXIT_HLT]			= svm_exit_hlt,
	[SVM_EXIT_IOIO]			= svm_exit_io,
	[SVM_EXIT_MSR]			= svm_exit_msr,
	[SVM_EXIT_SHUTDOWN]		= svm_exit_shutdown,
	[SVM_EXIT_XSETBV]		= svm_exit_xsetbv,
	/* No nested virtualization or MONITOR/MWAIT: #UD. */
	[SVM_EXIT_VMRUN]		= svm_inject_ud,
	[SVM_EXIT_VMMCALL]		= svm_exit_vmmcall,
	[SVM_EXIT_VMLOAD]		= svm_inject_ud,
	[SVM_EXIT_VMSAVE]		= svm_inject_ud,
	[SVM_EXIT_STGI]			= svm_inject_ud,
	[SVM_EXIT_CLGI]			= svm_inject_ud,
	[SVM_EXIT_SKINIT]		= svm_inject_ud,
	[SVM_EXIT_INVLPGA]		= svm_inject_ud,
	[SVM_EXIT_MONITOR]		= svm_inject_ud,
	[SVM_EXIT_MWAIT]		= svm_inject_ud,
	[SVM_EXIT_INVPCID]		= svm_inject_ud,
};

static int svm_handle_exit(struct hvk_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 code = c->exit_code;
	svm_exit_handler handler = NULL;

	if (code == (u32)SVM_EXIT_ERR)
		return svm_exit_err(svm);
	if (code == SVM_EXIT_NPF)
		return svm_exit_npf(svm);
	if (code < ARRAY_SIZE(svm_exit_handlers))
		handler = svm_exit_handlers[array_index_nospec(code,
						ARRAY_SIZE(svm_exit_handlers))];
	if (!handler)
		return hvk_exit_unhandled(vcpu, code, c->exit_info_1,
					  c->exit_info_2);
	return handler(svm);
}

/*
 * --- Exit reasons for statistics and tracing (exit_reason.h) ---
 *
 * EXITCODE to the vendor-neutral reason (APM Vol. 2, Appendix C); codes
 * not listed are "other".  #UD for the instructions of svm_inject_ud.
 */
static const u8 svm_exit_reasons[] = {
	[SVM_EXIT_READ_CR0 ... SVM_EXIT_WRITE_CR0 + 15]	= HVK_EXIT_CR,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR0 + 15]	= HVK_EXIT_DR,
	[SVM_EXIT_EXCP_BASE ... SVM_EXIT_LAST_EXCP]	= HVK_EXIT_EXCEPTION,
	[SVM_EXIT_INTR]		= HVK_EXIT_IRQ,
	[SVM_EXIT_NMI]		= HVK_EXIT_NMI,
	[SVM_EXIT_VINTR]	= HVK_EXIT_IRQ_WINDOW,
	[SVM_EXIT_IRET]		= HVK_EXIT_NMI_WINDOW,	/* svm_set_windows() */
	[SVM_EXIT_CPUID]	= HVK_EXIT_CPUID,
	[SVM_EXIT_INVD]		= HVK_EXIT_INVD,
	[SVM_EXIT_WBINVD]	= HVK_EXIT_INVD,
	[SVM_EXIT_PAUSE]	= HVK_EXIT_PAUSE,
	[SVM_EXIT_HLT]		= HVK_EXIT_HLT,
	[SVM_EXIT_IOIO]		= HVK_EXIT_IO,
	[SVM_EXIT_MSR]		= HVK_EXIT_MSR_READ,	/* or write: below */
	[SVM_EXIT_SHUTDOWN]	= HVK_EXIT_SHUTDOWN,
	[SVM_EXIT_VMMCALL]	= HVK_EXIT_HYPERCALL,
	[SVM_EXIT_XSETBV]	= HVK_EXIT_XSETBV,
	[SVM_EXIT_VMRUN]	= HVK_EXIT_UD,
	[SVM_EXIT_VMLOAD ... SVM_EXIT_SKINIT]		= HVK_EXIT_UD,
	[SVM_EXIT_INVLPGA]	= HVK_EXIT_UD,
	[SVM_EXIT_MONITOR]	= HVK_EXIT_UD,
	[SVM_EXIT_MWAIT]	= HVK_EXIT_UD,
	[SVM_EXIT_INVPCID]	= HVK_EXIT_UD,
};

static void svm_exit_info(struct hvk_vcpu *vcpu, struct hvk_exit_info *info)
{
	const struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;
	u32 code = c->exit_code;

	info->hw_reason = code;
	info->info1 = c->exit_info_1;
	info->info2 = c->exit_info_2;
	if (code == SVM_EXIT_NPF)
		info->reason = HVK_EXIT_MEM_FAULT;
	else if (code == (u32)SVM_EXIT_ERR)
		info->reason = HVK_EXIT_ENTRY_FAILED;
	else if (code < ARRAY_SIZE(svm_exit_reasons))
		info->reason = svm_exit_reasons[array_index_nospec(code,
					ARRAY_SIZE(svm_exit_reasons))];
	else
		info->reason = HVK_EXIT_OTHER;
	/* EXITINFO1 bit 0: WRMSR (APM Vol. 2, 15.11). */
	if (info->reason == HVK_EXIT_MSR_READ && (c->exit_info_1 & 1))
		info->reason = HVK_EXIT_MSR_WRITE;
}

/*
 * Nested page tables have the host's format, so as many levels as the host's
 * own paging (APM Vol. 2, 15.25.3); set at setup.  Entries are present,
 * writable and user: NPT walks count as user accesses (15.25.5).
 */
static struct hvk_mmu_format svm_npt_format = {
	.present = _PAGE_PRESENT,
	.table = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER,
	.leaf = _PAGE_PRESENT | _PAGE_USER,
	.writable = _PAGE_RW,
	.huge = _PAGE_PSE,
};

const struct hvk_vendor hvk_svm_vendor = {
	.name = "SVM",
	.present = svm_present,
	.check_support = svm_check_support,
	.setup = svm_setup,
	.unsetup = svm_unsetup,
	.enable_cpu = svm_enable_cpu,
	.disable_cpu = svm_disable_cpu,
	.emergency_disable_cpu = svm_off,
	.cpu_enabled = svm_cpu_enabled,

	.mmu_format = &svm_npt_format,

	.vcpu_size = sizeof(struct svm_vcpu),
	.vcpu_init = svm_vcpu_init,
	.vcpu_free = svm_vcpu_free,
	.vcpu_load = svm_vcpu_load,
	.vcpu_put = svm_vcpu_put,
	.run = svm_run,
	.fastpath = svm_fastpath,
	.handle_exit = svm_handle_exit,
	.exit_info = svm_exit_info,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_segment = svm_get_segment,
	.get_cr = svm_get_cr,
	.get_efer = svm_get_efer,
	.set_cr0 = svm_set_cr0,
	.set_cr4 = svm_set_cr4,
	.set_efer = svm_set_efer,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.set_cr2 = svm_set_cr2,
	.inject_event = svm_inject_event,
	.set_windows = svm_set_windows,
	.get_interrupt_shadow = svm_get_interrupt_shadow,
	.set_interrupt_shadow = svm_set_interrupt_shadow,
	.end_instruction = svm_end_instruction,
	.get_nmi_mask = svm_get_nmi_mask,
	.set_nmi_mask = svm_set_nmi_mask,
	.update_guest_debug = svm_update_guest_debug,
	.cpuid_changed = svm_cpuid_changed,
	.has_invpcid = svm_has_invpcid,
	.rdtscp_in_guest = svm_rdtscp_in_guest,
};
