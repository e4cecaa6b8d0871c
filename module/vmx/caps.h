/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hvk requires of Intel VMX, decided from raw MSR and CPUID values so
 * that the decision can be tested with values recorded on real CPUs.
 */
#ifndef HVK_VMX_CAPS_H
#define HVK_VMX_CAPS_H

#include <linux/bits.h>
#include <linux/types.h>

/* CPUID.1:ECX (SDM Vol. 2A, CPUID). */
#define CPUID1_ECX_VMX		BIT(5)

/* The raw values the decision is made from (SDM Vol. 3, Appendix A). */
struct vmx_raw_caps {
	u32 cpuid1_ecx;		/* CPUID.1:ECX, bit 5 = VMX */
	u64 feature_control;	/* IA32_FEATURE_CONTROL (0x3a) */
	u64 basic;		/* IA32_VMX_BASIC (0x480) */
	u64 true_procbased;	/* IA32_VMX_TRUE_PROCBASED_CTLS (0x48e) */
	u64 procbased2;		/* IA32_VMX_PROCBASED_CTLS2 (0x48b) */
	u64 ept_vpid;		/* IA32_VMX_EPT_VPID_CAP (0x48c) */
};

/*
 * Returns NULL when the CPU has everything hvk needs, otherwise a short
 * description of the first missing feature.  Fields after the first
 * missing one may be left zero by the caller (their MSRs may not exist).
 */
const char *vmx_missing_feature(const struct vmx_raw_caps *caps);

/* Is IA32_VMX_BASIC's "true controls" bit set (so the TRUE MSRs exist)? */
bool vmx_has_true_ctls(u64 basic);

#endif /* HVK_VMX_CAPS_H */
