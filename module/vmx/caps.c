// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX capability checks.  Pure functions of recorded values: no MSR
 * access here, so KUnit can feed them values from real CPUs.
 */
#include <linux/bits.h>
#include <linux/kernel.h>

#include "caps.h"

/* IA32_FEATURE_CONTROL (SDM Vol. 3, 24.7 "Enabling and entering VMX"). */
#define FEATCTL_LOCKED			BIT_ULL(0)
#define FEATCTL_VMX_OUTSIDE_SMX		BIT_ULL(2)

/* IA32_VMX_BASIC (SDM Vol. 3, A.1). */
#define BASIC_REGION_SIZE(v)		(((v) >> 32) & 0x1fff)
#define BASIC_32BIT_ADDRESSES		BIT_ULL(48)
#define BASIC_MEMTYPE(v)		(((v) >> 50) & 0xf)
#define BASIC_TRUE_CTLS			BIT_ULL(55)
#define MEMTYPE_WB			6

/*
 * Control MSRs: bits 63:32 are the allowed-1 settings (SDM Vol. 3, A.3).
 * Primary processor-based bit 31 activates the secondary controls; secondary
 * bit 1 enables EPT and bit 7 unrestricted guest (SDM Vol. 3, 25.6.2).
 */
#define ALLOWED1(msr, bit)		((msr) & BIT_ULL(32 + (bit)))
#define PROCBASED_SECONDARY		31
#define PROCBASED2_EPT			1
#define PROCBASED2_UNRESTRICTED		7

/* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3, A.10). */
#define EPT_CAP_WALK_4			BIT_ULL(6)
#define EPT_CAP_MEMTYPE_WB		BIT_ULL(14)
#define EPT_CAP_INVEPT			BIT_ULL(20)
#define EPT_CAP_INVEPT_SINGLE		BIT_ULL(25)
#define EPT_CAP_INVEPT_ALL		BIT_ULL(26)

bool vmx_has_true_ctls(u64 basic)
{
	return basic & BASIC_TRUE_CTLS;
}

const char *vmx_missing_feature(const struct vmx_raw_caps *caps)
{
	u64 ept = caps->ept_vpid;

	if (!(caps->cpuid1_ecx & CPUID1_ECX_VMX))
		return "VMX (CPUID.1:ECX.VMX is clear)";
	if (!(caps->feature_control & FEATCTL_LOCKED) ||
	    !(caps->feature_control & FEATCTL_VMX_OUTSIDE_SMX))
		return "VMX outside SMX (IA32_FEATURE_CONTROL not locked with it enabled: disabled by firmware)";
	if (!vmx_has_true_ctls(caps->basic))
		return "VMX true controls (IA32_VMX_BASIC bit 55)";
	if (BASIC_MEMTYPE(caps->basic) != MEMTYPE_WB)
		return "write-back VMCS memory type (IA32_VMX_BASIC bits 53:50)";
	if (caps->basic & BASIC_32BIT_ADDRESSES)
		return "64-bit VMX region addresses (IA32_VMX_BASIC bit 48 is set)";
	if (BASIC_REGION_SIZE(caps->basic) == 0 ||
	    BASIC_REGION_SIZE(caps->basic) > 4096)
		return "a VMCS of at most 4 KiB (IA32_VMX_BASIC bits 44:32)";
	if (!ALLOWED1(caps->true_procbased, PROCBASED_SECONDARY))
		return "secondary processor-based VM-execution controls";
	if (!ALLOWED1(caps->procbased2, PROCBASED2_EPT))
		return "EPT (extended page tables)";
	if (!ALLOWED1(caps->procbased2, PROCBASED2_UNRESTRICTED))
		return "unrestricted guest";
	if (!(ept & EPT_CAP_WALK_4))
		return "EPT with 4-level page walks";
	if (!(ept & EPT_CAP_MEMTYPE_WB))
		return "EPT with write-back paging-structure memory type";
	if (!(ept & EPT_CAP_INVEPT) ||
	    !(ept & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		return "INVEPT (single-context or all-context)";
	return NULL;
}
