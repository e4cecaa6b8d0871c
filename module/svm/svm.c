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
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>

#include "../hvk.h"
#include "caps.h"

struct svm_cpu {
	struct page *hsave;	/* (i) allocated at setup */
	bool on;		/* (o) set while hvk holds EFER.SVME */
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

static void svm_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		if (sc->hsave)
			__free_page(sc->hsave);
		sc->hsave = NULL;
	}
}

static int svm_setup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpu, cpu);

		sc->hsave = alloc_pages_node(cpu_to_node(cpu),
					     GFP_KERNEL | __GFP_ZERO, 0);
		if (!sc->hsave) {
			svm_unsetup();
			return -ENOMEM;
		}
	}
	return 0;
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
};
