// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it: the host's answer, masked to the features hvk
 * virtualizes, with the hypervisor bit set.  Anything whose state hvk does
 * not switch or emulate yet (XSAVE and AVX, MTRR and PAT MSRs, the local
 * APIC, TSC_AUX, performance counters, speculation-control MSRs, nested
 * virtualization) is hidden, so that a guest never depends on it.
 */
#include <linux/bits.h>
#include <asm/processor.h>

#include "hvk.h"

/* CPUID.1:ECX */
#define C1_SSE3		BIT(0)
#define C1_PCLMUL	BIT(1)
#define C1_SSSE3	BIT(9)
#define C1_CX16		BIT(13)
#define C1_PCID		BIT(17)
#define C1_SSE41	BIT(19)
#define C1_SSE42	BIT(20)
#define C1_MOVBE	BIT(22)
#define C1_POPCNT	BIT(23)
#define C1_AES		BIT(25)
#define C1_RDRAND	BIT(30)
#define C1_HYPERVISOR	BIT(31)

/* CPUID.1:EDX: x87, VME, DE, PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV,
 * PSE36, CLFSH, MMX, FXSR, SSE, SSE2, SS.
 */
#define D1_ALLOWED	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | \
			 BIT(6) | BIT(8) | BIT(11) | BIT(13) | BIT(15) |       \
			 BIT(17) | BIT(19) | BIT(23) | BIT(24) | BIT(25) |     \
			 BIT(26) | BIT(27))

/* CPUID.7.0:EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, RDSEED, ADX, SMAP,
 * CLFLUSHOPT, CLWB, SHA.
 */
#define B7_ALLOWED	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | BIT(18) | \
			 BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29))
/* CPUID.7.0:ECX: UMIP. */
#define C7_ALLOWED	BIT(2)

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

#define MAX_BASIC_LEAF	0x7
#define MAX_EXT_LEAF	0x80000008

void hvk_cpuid(struct hvk_vcpu *vcpu, u32 leaf, u32 subleaf, u32 regs[4])
{
	u32 max_basic = min_t(u32, cpuid_eax(0), MAX_BASIC_LEAF);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), MAX_EXT_LEAF);
	u32 *a = &regs[0], *b = &regs[1], *c = &regs[2], *d = &regs[3];

	if ((leaf < 0x80000000 && leaf > max_basic) ||
	    (leaf >= 0x80000000 && leaf > max_ext)) {
		*a = *b = *c = *d = 0;
		return;
	}
	cpuid_count(leaf, subleaf, a, b, c, d);

	switch (leaf) {
	case 0:
		*a = max_basic;
		break;
	case 1:
		/* Initial APIC id = vCPU id; one logical processor. */
		*b = (*b & 0xffff) | (vcpu->id << 24) | (1 << 16);
		*c &= C1_SSE3 | C1_PCLMUL | C1_SSSE3 | C1_CX16 | C1_PCID |
		      C1_SSE41 | C1_SSE42 | C1_MOVBE | C1_POPCNT | C1_AES |
		      C1_RDRAND;
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
			*b &= B7_ALLOWED;
			*c &= C7_ALLOWED;
			*d = 0;
		} else {
			*a = *b = *c = *d = 0;
		}
		break;
	case 0x80000000:
		*a = max_ext;
		break;
	case 0x80000001:
		*c &= CX1_ALLOWED;
		*d &= DX1_ALLOWED;
		break;
	case 0x80000002 ... 0x80000006:
		break;	/* brand string, cache and TLB information */
	case 0x80000008:
		/* Address sizes only; no AMD speculation-control bits. */
		*b = *c = *d = 0;
		break;
	default:
		/* Power, thermal and topology leaves: nothing to report. */
		*a = *b = *c = *d = 0;
	}
}
