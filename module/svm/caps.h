/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hvk requires of AMD SVM, decided from raw MSR and CPUID values so
 * that the decision can be tested with values recorded on real CPUs.
 */
#ifndef HVK_SVM_CAPS_H
#define HVK_SVM_CAPS_H

#include <linux/bits.h>
#include <linux/types.h>

/* CPUID Fn8000_0001:ECX (APM Vol. 3, E.4.2). */
#define EXT1_ECX_SVM		BIT(2)

/* The raw values the decision is made from (APM Vol. 2, 15.4 and 15.30). */
struct svm_raw_caps {
	u32 max_ext_leaf;	/* CPUID.80000000h:EAX */
	u32 ext1_ecx;		/* CPUID.80000001h:ECX, bit 2 = SVM */
	u64 vm_cr;		/* VM_CR (C001_0114h) */
	u32 svm_ebx;		/* CPUID.8000000Ah:EBX = number of ASIDs */
	u32 svm_edx;		/* CPUID.8000000Ah:EDX, feature bits */
};

/*
 * Returns NULL when the CPU has everything hvk needs, otherwise a short
 * description of the first missing feature.
 */
const char *svm_missing_feature(const struct svm_raw_caps *caps);

#endif /* HVK_SVM_CAPS_H */
