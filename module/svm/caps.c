// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM capability checks.  Pure functions of recorded values: no MSR
 * access here, so KUnit can feed them values from real CPUs.
 */
#include <linux/bits.h>
#include <linux/kernel.h>

#include "caps.h"

#define CPUID_SVM_LEAF		0x8000000a
#define VM_CR_SVMDIS		BIT_ULL(4)	/* APM Vol. 2, 15.30.1 */
#define SVM_EDX_NP		BIT(0)		/* nested paging, Fn8000_000A */

const char *svm_missing_feature(const struct svm_raw_caps *caps)
{
	if (caps->max_ext_leaf < 0x80000001 || !(caps->ext1_ecx & EXT1_ECX_SVM))
		return "SVM (CPUID Fn8000_0001:ECX.SVM is clear)";
	if (caps->vm_cr & VM_CR_SVMDIS)
		return "SVM enabled (VM_CR.SVMDIS is set: disabled by firmware)";
	if (caps->max_ext_leaf < CPUID_SVM_LEAF)
		return "the SVM feature leaf (CPUID Fn8000_000A)";
	if (!(caps->svm_edx & SVM_EDX_NP))
		return "nested paging (NPT)";
	/* ASID 0 is the host's; a guest needs at least one more. */
	if (caps->svm_ebx < 2)
		return "at least two ASIDs";
	return NULL;
}
