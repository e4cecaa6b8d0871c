// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: capability check, VMX operation on each CPU, and the
 * lifetime of each vCPU's VMCS: where it is active, what host state it holds.
 *
 * A CPU is in VMX operation between VMXON and VMXOFF; CR4.VMXE must stay set
 * in between (SDM Vol. 3, 24.7).  CR4.VMXE already set when hvk arrives
 * means another hypervisor owns VMX on this CPU.
 */
#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/mmu_context.h>	/* load_gs_index() */
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/trapnr.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "../hvk.h"
#include "caps.h"
#include "vmx.h"

/*
 * Per-CPU state.  loaded_vmcss lists the VMCSs active on the CPU, so that
 * they can be made inactive (VMCLEAR) before VMXOFF: an active VMCS may be
 * cached by the CPU and would be lost, or corrupt memory later.
 */
struct vmx_cpu {
	struct page *vmxon_region;	/* (i) allocated at setup */
	bool on;			/* (o) set between VMXON and VMXOFF */
	struct list_head loaded_vmcss;	/* (o, interrupts off) */
	/*
	 * The kernel's SYSCALL MSRs (vmx_syscall_msrs[]), read at
	 * VMXON: it sets them once per CPU at boot (syscall_init()).
	 */
	u64 host_syscall_msrs[4];	/* (o) */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* VMCS revision identifier, IA32_VMX_BASIC bits 30:0 (SDM Vol. 3, A.1). */
static u32 vmx_revision_id;
u64 vmx_basic;
u64 vmx_ept_vpid_caps;

/* VM-execution, VM-exit and VM-entry controls, fixed at load. */
static struct {
	u32 pin, primary, secondary, exit, entry;
} vmx_ctls;

/* CR0 and CR4 bits VMX operation fixes to 1 (FIXED0) or allows (FIXED1). */
u64 vmx_cr0_fixed0, vmx_cr0_fixed1, vmx_cr4_fixed0, vmx_cr4_fixed1;

/* Every RDMSR and WRMSR exits: a page of ones (SDM Vol. 3, 25.6.9). */
static void *vmx_msr_bitmap;

/* VPIDs in use; VPID 0 is the host's (SDM Vol. 3, 29.1). */
static DECLARE_BITMAP(vmx_vpids, VMX_NR_VPIDS);
static DEFINE_SPINLOCK(vmx_vpid_lock);

static u64 vmx_read_msr(u32 msr)
{
	u64 val;

	/* A missing MSR reads as 0, which every check treats as "absent". */
	if (rdmsrl_safe(msr, &val))
		return 0;
	return val;
}

static void vmx_read_caps(struct vmx_raw_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->cpuid1_ecx = cpuid_ecx(1);
	if (!(caps->cpuid1_ecx & CPUID1_ECX_VMX))
		return;
	caps->feature_control = vmx_read_msr(MSR_IA32_FEAT_CTL);
	caps->basic = vmx_read_msr(MSR_IA32_VMX_BASIC);
	if (!vmx_has_true_ctls(caps->basic))
		return;
	caps->true_procbased = vmx_read_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	caps->procbased2 = vmx_read_msr(MSR_IA32_VMX_PROCBASED_CTLS2);
	caps->ept_vpid = vmx_read_msr(MSR_IA32_VMX_EPT_VPID_CAP);
}

static bool vmx_present(void)
{
	return cpuid_ecx(1) & CPUID1_ECX_VMX;
}

/*
 * A control value from what hvk wants, @want, and what it can do without,
 * @optional: bits the allowed-0 settings (low half of @msr) demand are set,
 * bits the allowed-1 settings (high half) forbid are cleared (SDM Vol. 3,
 * A.3 to A.5).  False if a wanted, not optional bit is forbidden.
 */
static bool vmx_adjust_ctls(u32 want, u32 optional, u32 msr, u32 *ctls)
{
	u64 caps = vmx_read_msr(msr);
	u32 v = (want | (u32)caps) & (u32)(caps >> 32);

	*ctls = v;
	return (v & want & ~optional) == (want & ~optional);
}

static bool vmx_setup_ctls(void)
{
	bool vpid = (vmx_ept_vpid_caps & BIT_ULL(32)) &&	/* INVVPID */
		    (vmx_ept_vpid_caps & (BIT_ULL(41) | BIT_ULL(42)));
	u32 secondary = SECONDARY_EXEC_ENABLE_EPT |
			SECONDARY_EXEC_UNRESTRICTED_GUEST |
			SECONDARY_EXEC_WBINVD_EXITING |
			SECONDARY_EXEC_ENABLE_RDTSCP |
			SECONDARY_EXEC_ENABLE_INVPCID |
			(vpid ? SECONDARY_EXEC_ENABLE_VPID : 0);
	bool ok;

	/*
	 * Virtual NMIs: the CPU tracks the guest's NMI blocking and ends it
	 * at IRET, and NMI-window exiting depends on them (SDM Vol. 3, 25.3).
	 */
	ok = vmx_adjust_ctls(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
			     PIN_BASED_VIRTUAL_NMIS |
			     PIN_BASED_VMX_PREEMPTION_TIMER,
			     PIN_BASED_VMX_PREEMPTION_TIMER,
			     MSR_IA32_VMX_TRUE_PINBASED_CTLS, &vmx_ctls.pin);
	/*
	 * Exits for everything that would touch host state: port I/O, MSRs,
	 * CR8 (the host's TPR), debug registers (not switched), MONITOR and
	 * MWAIT, RDPMC (host counters).  No CR3 or INVLPG exits: EPT.
	 */
	ok &= vmx_adjust_ctls(CPU_BASED_HLT_EXITING |
			      CPU_BASED_UNCOND_IO_EXITING |
			      CPU_BASED_USE_MSR_BITMAPS |
			      CPU_BASED_CR8_LOAD_EXITING |
			      CPU_BASED_CR8_STORE_EXITING |
			      CPU_BASED_MOV_DR_EXITING |
			      CPU_BASED_MWAIT_EXITING |
			      CPU_BASED_MONITOR_EXITING |
			      CPU_BASED_RDPMC_EXITING |
			      CPU_BASED_USE_TSC_OFFSETTING |
			      CPU_BASED_INTR_WINDOW_EXITING |
			      CPU_BASED_NMI_WINDOW_EXITING |
			      CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, 0,
			      MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
			      &vmx_ctls.primary);
	/* The windows are opened entry by entry (run.c). */
	vmx_ctls.primary &= ~(CPU_BASED_INTR_WINDOW_EXITING |
			      CPU_BASED_NMI_WINDOW_EXITING);
	/* Without "enable RDTSCP", RDTSCP and RDPID are #UD (25.6.2). */
	ok &= vmx_adjust_ctls(secondary, SECONDARY_EXEC_WBINVD_EXITING |
			      SECONDARY_EXEC_ENABLE_VPID |
			      SECONDARY_EXEC_ENABLE_RDTSCP |
			      SECONDARY_EXEC_ENABLE_INVPCID,
			      MSR_IA32_VMX_PROCBASED_CTLS2,
			      &vmx_ctls.secondary);
	/* DR7 and DEBUGCTL are switched: host breakpoints stay out. */
	ok &= vmx_adjust_ctls(VM_EXIT_HOST_ADDR_SPACE_SIZE |
			      VM_EXIT_SAVE_DEBUG_CONTROLS |
			      VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER, 0,
			      MSR_IA32_VMX_TRUE_EXIT_CTLS, &vmx_ctls.exit);
	ok &= vmx_adjust_ctls(VM_ENTRY_LOAD_DEBUG_CONTROLS |
			      VM_ENTRY_LOAD_IA32_EFER, 0,
			      MSR_IA32_VMX_TRUE_ENTRY_CTLS, &vmx_ctls.entry);
	/* IA-32e mode guest follows EFER.LMA, vCPU by vCPU. */
	vmx_ctls.entry &= ~VM_ENTRY_IA32E_MODE;

	vmx_cr0_fixed0 = vmx_read_msr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_cr0_fixed1 = vmx_read_msr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_cr4_fixed0 = vmx_read_msr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_cr4_fixed1 = vmx_read_msr(MSR_IA32_VMX_CR4_FIXED1);
	return ok;
}

static int vmx_check_support(void)
{
	struct vmx_raw_caps caps;
	const char *missing;

	vmx_read_caps(&caps);
	missing = vmx_missing_feature(&caps);
	if (missing) {
		pr_err("hvk: Intel VT-x lacks %s\n", missing);
		return -ENODEV;
	}
	vmx_revision_id = caps.basic & 0x7fffffff;
	vmx_basic = caps.basic;
	vmx_ept_vpid_caps = caps.ept_vpid;
	if (!vmx_setup_ctls()) {
		pr_err("hvk: Intel VT-x lacks a VM-execution, exit or entry control hvk needs\n");
		return -ENODEV;
	}
	return 0;
}

static void vmx_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		if (vc->vmxon_region)
			__free_page(vc->vmxon_region);
		vc->vmxon_region = NULL;
	}
	free_page((unsigned long)vmx_msr_bitmap);
	vmx_msr_bitmap = NULL;
	vmx_run_unsetup();
}

static struct hvk_mmu_format vmx_ept_format;

static int vmx_setup(void)
{
	int cpu, r;

	/* 2 MiB and 1 GiB EPT leaves (SDM Vol. 3, A.10). */
	if (vmx_ept_vpid_caps & BIT_ULL(16))
		vmx_ept_format.max_leaf = 2;
	if (vmx_ept_vpid_caps & BIT_ULL(17))
		vmx_ept_format.max_leaf = 3;

	vmx_msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	if (!vmx_msr_bitmap)
		return -ENOMEM;
	memset(vmx_msr_bitmap, 0xff, PAGE_SIZE);

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
		struct page *page;

		INIT_LIST_HEAD(&vc->loaded_vmcss);
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			vmx_unsetup();
			return -ENOMEM;
		}
		/* The VMXON region starts with the revision id (SDM 25.11.5). */
		*(u32 *)page_address(page) = vmx_revision_id;
		vc->vmxon_region = page;
	}
	/* VPID 0 is the host's: never handed out. */
	set_bit(0, vmx_vpids);
	r = vmx_run_setup();
	if (r)
		vmx_unsetup();
	return r;
}

/* VMXON, VMCLEAR and VMPTRLD: false on VMfail and on a fault. */
static bool vmx_vmxon(u64 pa)
{
	return vmx_insn_ok("vmxon %[pa]", [pa] "m" (pa));
}

static bool vmx_vmclear(u64 pa)
{
	return vmx_insn_ok("vmclear %[pa]", [pa] "m" (pa));
}

static bool vmx_vmptrld(u64 pa)
{
	return vmx_insn_ok("vmptrld %[pa]", [pa] "m" (pa));
}

/* The SYSCALL MSRs, which only matter to user space on the host. */
static const u32 vmx_syscall_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
};

static int vmx_enable_cpu(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmx_syscall_msrs); i++)
		rdmsrl(vmx_syscall_msrs[i], vc->host_syscall_msrs[i]);

	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;

	intel_pt_handle_vmx(1);
	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_vmxon(page_to_phys(vc->vmxon_region))) {
		cr4_clear_bits(X86_CR4_VMXE);
		intel_pt_handle_vmx(0);
		return -EIO;
	}
	vc->on = true;
	return 0;
}

/*
 * Make every VMCS active on this CPU inactive.  From NMI context
 * (@emergency) the list is only read: the NMI may have interrupted a
 * change to it, which unlinks an entry before it is reused.
 */
static void vmx_clear_loaded(bool emergency)
{
	struct list_head *head = this_cpu_ptr(&vmx_cpu.loaded_vmcss);
	struct vmx_vcpu *vmx, *next;

	if (emergency) {
		list_for_each_entry(vmx, head, loaded_link)
			vmx_vmclear(vmx->vmcs_pa);
		return;
	}
	list_for_each_entry_safe(vmx, next, head, loaded_link) {
		WARN_ON_ONCE(!vmx_vmclear(vmx->vmcs_pa));
		list_del(&vmx->loaded_link);
		vmx->launched = false;
		/* Unlinked before another CPU may link it again. */
		smp_wmb();
		WRITE_ONCE(vmx->loaded_cpu, -1);
	}
}

/* Leave VMX operation; VMXOFF faults only outside it, CR4.VMXE goes anyway. */
static void vmx_off(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (!vc->on)
		return;
	asm volatile("1: vmxoff\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : : "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	vc->on = false;
}

static void vmx_disable_cpu(void)
{
	unsigned long flags;

	if (!this_cpu_read(vmx_cpu.on))
		return;
	local_irq_save(flags);
	vmx_clear_loaded(false);
	vmx_off();
	local_irq_restore(flags);
	intel_pt_handle_vmx(0);
}

static void vmx_emergency_disable_cpu(void)
{
	if (!this_cpu_read(vmx_cpu.on))
		return;
	vmx_clear_loaded(true);
	vmx_off();
}

static bool vmx_cpu_enabled(void)
{
	return this_cpu_read(vmx_cpu.on) && (__read_cr4() & X86_CR4_VMXE);
}

bool vmx_cpu_is_on(void)
{
	return this_cpu_read(vmx_cpu.on);
}

/* --- VMCS lifetime and loading ------------------------------------------- */

/* EPT pointer: WB paging structures, 4-level walk (SDM Vol. 3, 25.6.11). */
u64 vmx_eptp(struct vmx_vcpu *vmx)
{
	return __pa(vmx->vcpu.vm->mmu.root) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
}

/* IPI handler: VMCLEAR @arg's VMCS if it is still active on this CPU. */
static void vmx_clear_on_this_cpu(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	if (READ_ONCE(vmx->loaded_cpu) != smp_processor_id())
		return;
	WARN_ON_ONCE(!vmx_vmclear(vmx->vmcs_pa));
	list_del(&vmx->loaded_link);
	vmx->launched = false;
	/* Pairs with vmx_vcpu_load(): unlinked before it links it elsewhere. */
	smp_wmb();
	WRITE_ONCE(vmx->loaded_cpu, -1);
}

/* Make @vmx's VMCS inactive wherever it is active; may sleep. */
static void vmx_clear_anywhere(struct vmx_vcpu *vmx)
{
	int cpu;

	/* No CPU goes offline meanwhile: its VMCSs would be cleared twice. */
	cpus_read_lock();
	cpu = READ_ONCE(vmx->loaded_cpu);
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_on_this_cpu, vmx, 1);
	cpus_read_unlock();
}

/* Host state that differs from CPU to CPU (SDM Vol. 3, 25.5). */
static void vmx_set_host_cpu_state(struct vmx_vcpu *vmx, int cpu)
{
	struct desc_ptr idt;
	u64 val;

	vmcs_write(vmx, HOST_TR_BASE,
		   (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_write(vmx, HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	store_idt(&idt);
	vmcs_write(vmx, HOST_IDTR_BASE, idt.address);
	/* In the kernel, GS_BASE is this CPU's per-CPU area. */
	rdmsrl(MSR_GS_BASE, val);
	vmcs_write(vmx, HOST_GS_BASE, val);
	rdmsrl(MSR_IA32_SYSENTER_ESP, val);
	vmcs_write(vmx, HOST_IA32_SYSENTER_ESP, val);
	rdmsrl(MSR_IA32_SYSENTER_EIP, val);
	vmcs_write(vmx, HOST_IA32_SYSENTER_EIP, val);
	rdmsrl(MSR_IA32_SYSENTER_CS, val);
	vmcs_write(vmx, HOST_IA32_SYSENTER_CS, val);
	vmcs_write(vmx, HOST_CR0, read_cr0());
	rdmsrl(MSR_EFER, val);
	vmcs_write(vmx, HOST_IA32_EFER, val);
}

/*
 * Host state of the thread, which a VM exit does not restore as it was
 * (SDM Vol. 3, 28.5): user DS, ES, FS and GS selectors (VM exit loads the
 * VMCS's, which must have RPL 0), the LDT (VM exit clears LDTR), the user
 * GS base (VMX does not switch MSR_KERNEL_GS_BASE, the guest's is loaded
 * here), the GDT and TSS limits.  Nothing reads these in the kernel
 * between vcpu_load and vcpu_put, which runs before a context switch
 * saves them.
 */

static void vmx_save_host_state(struct vmx_vcpu *vmx)
{
	unsigned int i;
	u64 fs_base;

	savesegment(ds, vmx->host.ds);
	savesegment(es, vmx->host.es);
	savesegment(fs, vmx->host.fs);
	savesegment(gs, vmx->host.gs);
	store_ldt(vmx->host.ldt);
	vmcs_write(vmx, HOST_FS_SELECTOR, (vmx->host.fs & 7) ? 0 : vmx->host.fs);
	vmcs_write(vmx, HOST_GS_SELECTOR, (vmx->host.gs & 7) ? 0 : vmx->host.gs);
	rdmsrl(MSR_FS_BASE, fs_base);
	vmcs_write(vmx, HOST_FS_BASE, fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->host.kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	/*
	 * The guest's SYSCALL MSRs change only through vmx_set_msr() (every
	 * MSR access exits), which keeps vmx->syscall_msrs[] current: no
	 * reads here or at the put, and no write of a value already there.
	 */
	vmx->host.syscall_msrs = this_cpu_ptr(&vmx_cpu)->host_syscall_msrs;
	for (i = 0; i < ARRAY_SIZE(vmx_syscall_msrs); i++)
		if (vmx->syscall_msrs[i] != vmx->host.syscall_msrs[i])
			wrmsrl(vmx_syscall_msrs[i], vmx->syscall_msrs[i]);
	vmx->host.saved = true;
}

static void vmx_restore_host_state(struct vmx_vcpu *vmx)
{
	unsigned int i;

	if (!vmx->host.saved)
		return;
	vmx->host.saved = false;
	/* Before anything can return to user space through SYSCALL's MSRs. */
	for (i = 0; i < ARRAY_SIZE(vmx_syscall_msrs); i++)
		if (vmx->syscall_msrs[i] != vmx->host.syscall_msrs[i])
			wrmsrl(vmx_syscall_msrs[i], vmx->host.syscall_msrs[i]);
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	if (vmx->host.ldt || (vmx->host.gs & 7)) {
		asm volatile("lldt %0" : : "rm" (vmx->host.ldt));
		load_gs_index(vmx->host.gs);
	}
	if (vmx->host.fs & 7)
		loadsegment(fs, vmx->host.fs);
	if (vmx->host.ds | vmx->host.es) {
		loadsegment(ds, vmx->host.ds);
		loadsegment(es, vmx->host.es);
	}
	/* After load_gs_index(), which replaces the user GS base. */
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->host.kernel_gs_base);
	/* VM exit sets the TR limit to 0x67 and the GDT limit to 0xffff. */
	invalidate_tss_limit();
	load_fixmap_gdt(smp_processor_id());
}

static void vmx_vcpu_load(struct hvk_vcpu *vcpu, int cpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
	bool moved = READ_ONCE(vmx->loaded_cpu) != cpu;
	unsigned long flags;

	vmx->host_cr3 = 0;
	vmx->host_cr4 = 0;
	if (vmx->broken)
		return;
	if (WARN_ON_ONCE(!vc->on)) {
		vmx->broken = true;
		return;
	}
	if (moved) {
		int old = READ_ONCE(vmx->loaded_cpu);

		/* A VMCS is active on one CPU at most (SDM Vol. 3, 25.11.1). */
		if (old >= 0)
			smp_call_function_single(old, vmx_clear_on_this_cpu,
						 vmx, 1);
		/* Pairs with vmx_clear_on_this_cpu(): the old link is gone. */
		smp_rmb();
		if (WARN_ON_ONCE(READ_ONCE(vmx->loaded_cpu) >= 0)) {
			vmx->broken = true;
			return;
		}
		local_irq_save(flags);
		WRITE_ONCE(vmx->loaded_cpu, cpu);
		list_add(&vmx->loaded_link, &vc->loaded_vmcss);
		local_irq_restore(flags);
	}
	/* Another vCPU's VMCS may have been current here meanwhile. */
	if (WARN_ON_ONCE(!vmx_vmptrld(vmx->vmcs_pa))) {
		vmx->broken = true;
		return;
	}
	if (moved)
		vmx_set_host_cpu_state(vmx, cpu);
	vmx_save_host_state(vmx);
}

static void vmx_vcpu_put(struct hvk_vcpu *vcpu)
{
	vmx_restore_host_state(to_vmx(vcpu));
}

/*
 * MSRs of hvk's list [loaded]: FS/GS bases and SYSENTER in the VMCS (the
 * field, or 0); the SYSCALL MSRs and KERNEL_GS_BASE live in the hardware
 * while the vCPU is loaded (vmx_save_host_state).
 */
static unsigned long vmx_msr_field(u32 msr)
{
	switch (msr) {
	case MSR_FS_BASE: return GUEST_FS_BASE;
	case MSR_GS_BASE: return GUEST_GS_BASE;
	case MSR_IA32_SYSENTER_CS: return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP: return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP: return GUEST_SYSENTER_EIP;
	default: return 0;
	}
}

/* The index of a SYSCALL MSR in vmx_syscall_msrs[], or -1. */
static int vmx_syscall_msr_index(u32 msr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmx_syscall_msrs); i++)
		if (vmx_syscall_msrs[i] == msr)
			return i;
	return -1;
}

static u64 vmx_get_msr(struct hvk_vcpu *vcpu, u32 msr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long field = vmx_msr_field(msr);
	int i = vmx_syscall_msr_index(msr);
	u64 val;

	if (field)
		return vmcs_read(vmx, field);
	if (i >= 0)
		return vmx->syscall_msrs[i];
	if (WARN_ON_ONCE(!vmx->host.saved))
		return 0;
	rdmsrl(msr, val);
	return val;
}

static void vmx_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long field = vmx_msr_field(msr);
	int i = vmx_syscall_msr_index(msr);

	if (field) {
		vmcs_write(vmx, field, val);
		return;
	}
	if (WARN_ON_ONCE(!vmx->host.saved))
		return;
	if (i >= 0)
		vmx->syscall_msrs[i] = val;
	wrmsrl(msr, val);
}

static bool vmx_rdtscp_in_guest(void)
{
	return vmx_ctls.secondary & SECONDARY_EXEC_ENABLE_RDTSCP;
}

/* Host state that is the same on every CPU and for every thread. */
static void vmx_set_host_constant_state(struct vmx_vcpu *vmx)
{
	vmcs_write(vmx, HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(vmx, HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(vmx, HOST_DS_SELECTOR, __KERNEL_DS);
	vmcs_write(vmx, HOST_ES_SELECTOR, __KERNEL_DS);
	vmcs_write(vmx, HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_write(vmx, HOST_RIP, (unsigned long)hvk_vmx_vmexit);
}

/*
 * The VMX-preemption timer bounds every stay in the guest to about
 * HVK_VMX_SLICE_MS: without "save VMX-preemption timer value" each entry
 * loads the full count (SDM Vol. 3, 26.5.1), which counts down at the TSC
 * rate divided by 2^IA32_VMX_MISC[4:0].  A host interrupt always ends the
 * stay on a CPU that follows the SDM; Bochs's VMX does not exit for one
 * already pending at entry while the guest runs with RFLAGS.IF=0, and
 * then a guest spinning with interrupts off held the host CPU until RCU
 * reported a stall.  One extra exit per slice of uninterrupted guest
 * execution costs nothing measurable elsewhere.
 */
#define HVK_VMX_SLICE_MS	4

static u32 vmx_preemption_timer_value(void)
{
	unsigned int rate = vmx_read_msr(MSR_IA32_VMX_MISC) & 0x1f;
	u64 ticks = ((u64)tsc_khz * HVK_VMX_SLICE_MS) >> rate;

	return clamp_t(u64, ticks, 1, U32_MAX);
}

static void vmx_set_controls(struct vmx_vcpu *vmx)
{
	vmcs_write(vmx, PIN_BASED_VM_EXEC_CONTROL, vmx_ctls.pin);
	if (vmx_ctls.pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write(vmx, VMX_PREEMPTION_TIMER_VALUE,
			   vmx_preemption_timer_value());
	vmcs_write(vmx, CPU_BASED_VM_EXEC_CONTROL, vmx->primary_ctls);
	/* The VM's TSC offset starts at 0; vmx_run() follows its changes. */
	vmcs_write(vmx, TSC_OFFSET, 0);
	vmcs_write(vmx, SECONDARY_VM_EXEC_CONTROL, vmx->secondary_ctls);
	vmcs_write(vmx, VM_EXIT_CONTROLS, vmx_ctls.exit);
	vmcs_write(vmx, VM_ENTRY_CONTROLS, vmx->entry_ctls);
	vmcs_write(vmx, EXCEPTION_BITMAP, VMX_EXCEPTIONS_INTERCEPTED);
	vmcs_write(vmx, MSR_BITMAP, __pa(vmx_msr_bitmap));
	vmcs_write(vmx, EPT_POINTER, vmx_eptp(vmx));
	if (vmx->vpid)
		vmcs_write(vmx, VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(vmx, VMCS_LINK_POINTER, ~0ULL);
}

static u16 vmx_alloc_vpid(void)
{
	unsigned long vpid;

	if (!(vmx_ctls.secondary & SECONDARY_EXEC_ENABLE_VPID))
		return 0;
	spin_lock(&vmx_vpid_lock);
	vpid = find_first_zero_bit(vmx_vpids, VMX_NR_VPIDS);
	if (vpid < VMX_NR_VPIDS)
		__set_bit(vpid, vmx_vpids);
	else
		vpid = 0;	/* all taken: this vCPU runs without */
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

static void vmx_free_vpid(u16 vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpids);
	spin_unlock(&vmx_vpid_lock);
}

static int vmx_vcpu_init(struct hvk_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct page *page;
	int cpu, r = 0;

	vmx->loaded_cpu = -1;
	vmx->last_run_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	vmx->vmcs = page_address(page);
	vmx->vmcs_pa = page_to_phys(page);
	/* The VMCS region starts with the revision id (SDM Vol. 3, 25.2). */
	*(u32 *)vmx->vmcs = vmx_revision_id;

	vmx->vpid = vmx_alloc_vpid();
	vmx->secondary_ctls = vmx_ctls.secondary;
	if (!vmx->vpid)
		vmx->secondary_ctls &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmx->entry_ctls = vmx_ctls.entry;
	vmx->primary_ctls = vmx_ctls.primary;

	cpu = get_cpu();
	/* A new VMCS is made clear before its first VMPTRLD (25.11.3). */
	if (WARN_ON_ONCE(!vmx_vmclear(vmx->vmcs_pa))) {
		put_cpu();
		return -EIO;
	}
	vmx_vcpu_load(vcpu, cpu);
	vmx_set_controls(vmx);
	vmx_set_host_constant_state(vmx);
	vmx_init_guest_state(vmx);
	vmx_vcpu_put(vcpu);
	put_cpu();
	if (vmx->broken)
		r = -EIO;
	return r;
}

static void vmx_vcpu_free(struct hvk_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx->vmcs) {
		vmx_clear_anywhere(vmx);
		free_page((unsigned long)vmx->vmcs);
		vmx->vmcs = NULL;
	}
	vmx_free_vpid(vmx->vpid);
	vmx->vpid = 0;
}

/* INVPCID runs in the guest, without exits, where the CPU lets it. */
static bool vmx_has_invpcid(void)
{
	return vmx_ctls.secondary & SECONDARY_EXEC_ENABLE_INVPCID;
}

/*
 * INVPCID is #UD unless "enable INVPCID" is set (SDM Vol. 3, 26.3): set
 * it only while the guest's CPUID offers the instruction [loaded].
 */
static void vmx_cpuid_changed(struct hvk_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 regs[4];

	hvk_cpuid(vcpu, 7, 0, regs);
	vmx->secondary_ctls &= ~SECONDARY_EXEC_ENABLE_INVPCID;
	if (vmx_has_invpcid() && (regs[1] & BIT(10)))
		vmx->secondary_ctls |= SECONDARY_EXEC_ENABLE_INVPCID;
	vmcs_write(vmx, SECONDARY_VM_EXEC_CONTROL, vmx->secondary_ctls);
}

/*
 * EPT entries: tables readable, writable and executable, leaves also
 * write-back regardless of the guest's PAT (SDM Vol. 3, 29.3.2 and
 * 29.3.7.2).
 */
static struct hvk_mmu_format vmx_ept_format = {
	.levels = 4,	/* the EPTP's page-walk length */
	.max_leaf = 1,	/* raised by vmx_setup() from the EPT capabilities */
	.present = VMX_EPT_RWX_MASK,
	.table = VMX_EPT_RWX_MASK,
	.leaf = VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
		(VMX_EPTP_MT_WB << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT,
	.writable = VMX_EPT_WRITABLE_MASK,
	.huge = BIT_ULL(7),	/* a 2 MiB or 1 GiB page (29.3.2) */
};

const struct hvk_vendor hvk_vmx_vendor = {
	.name = "VMX",
	.present = vmx_present,
	.check_support = vmx_check_support,
	.setup = vmx_setup,
	.unsetup = vmx_unsetup,
	.enable_cpu = vmx_enable_cpu,
	.disable_cpu = vmx_disable_cpu,
	.emergency_disable_cpu = vmx_emergency_disable_cpu,
	.cpu_enabled = vmx_cpu_enabled,
	.mmu_format = &vmx_ept_format,
	.vcpu_size = sizeof(struct vmx_vcpu),
	.vcpu_init = vmx_vcpu_init,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.run = vmx_run,
	.fastpath = vmx_fastpath,
	.handle_exit = vmx_handle_exit,
	.exit_info = vmx_exit_info,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_segment = vmx_get_segment,
	.get_cr = vmx_get_cr,
	.get_efer = vmx_get_efer,
	.set_cr0 = vmx_set_cr0,
	.set_cr4 = vmx_set_cr4,
	.set_efer = vmx_set_efer,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
	.rdtscp_in_guest = vmx_rdtscp_in_guest,
	.set_cr2 = vmx_set_cr2,
	.inject_event = vmx_inject_event,
	.set_windows = vmx_set_windows,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,
	.end_instruction = vmx_end_instruction,
	.get_nmi_mask = vmx_get_nmi_mask,
	.set_nmi_mask = vmx_set_nmi_mask,
	.update_guest_debug = vmx_update_guest_debug,
	.cpuid_changed = vmx_cpuid_changed,
	.has_invpcid = vmx_has_invpcid,
};
