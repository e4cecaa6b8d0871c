// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-x backend: capability check and VMX operation on each CPU.
 *
 * A CPU is in VMX operation between VMXON and VMXOFF; CR4.VMXE must stay set
 * in between (SDM Vol. 3, 24.7).  CR4.VMXE already set when hvk arrives
 * means another hypervisor owns VMX on this CPU.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>

#include "../hvk.h"
#include "caps.h"

struct vmx_cpu {
	struct page *vmxon_region;	/* (i) allocated at setup */
	bool on;			/* (o) set between VMXON and VMXOFF */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* VMCS revision identifier, IA32_VMX_BASIC bits 30:0 (SDM Vol. 3, A.1). */
static u32 vmx_revision_id;

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
}

static int vmx_setup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);
		struct page *page;

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
	return 0;
}

/* VMXON; false on VMfail (CF or ZF set) and on a fault. */
static bool vmx_vmxon(u64 pa)
{
	u8 failed = 1;

	/* A fault skips SETNA and leaves "failed" set. */
	asm volatile("1: vmxon %[pa]\n\t"
		     "setna %[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [failed] "+qm" (failed)
		     : [pa] "m" (pa)
		     : "cc", "memory");
	return !failed;
}

static int vmx_enable_cpu(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

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
	if (!this_cpu_read(vmx_cpu.on))
		return;
	vmx_off();
	intel_pt_handle_vmx(0);
}

static bool vmx_cpu_enabled(void)
{
	return this_cpu_read(vmx_cpu.on) && (__read_cr4() & X86_CR4_VMXE);
}

const struct hvk_vendor hvk_vmx_vendor = {
	.name = "VMX",
	.present = vmx_present,
	.check_support = vmx_check_support,
	.setup = vmx_setup,
	.unsetup = vmx_unsetup,
	.enable_cpu = vmx_enable_cpu,
	.disable_cpu = vmx_disable_cpu,
	.emergency_disable_cpu = vmx_off,
	.cpu_enabled = vmx_cpu_enabled,
};
