// SPDX-License-Identifier: GPL-2.0
/*
 * Guest virtual to guest physical translation, for the accesses hvk makes on
 * the guest's behalf (instruction fetch, string I/O): 32-bit, PAE and 4-level
 * paging (SDM Vol. 3, 4.3 to 4.5).  Access rights beyond the write check
 * are not enforced here.
 */
#include <linux/bits.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "../hvk.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_PS		BIT_ULL(7)
#define PTE_ADDR	GENMASK_ULL(51, 12)

static int walk_read(struct hvk_vcpu *vcpu, u64 gpa, u64 *pte, bool wide)
{
	u32 narrow;

	if (wide)
		return hvk_read_guest(vcpu->vm, gpa, pte, sizeof(*pte));
	if (hvk_read_guest(vcpu->vm, gpa, &narrow, sizeof(narrow)))
		return -EFAULT;
	*pte = narrow;
	return 0;
}

int hvk_gva_to_gpa(struct hvk_vcpu *vcpu, u64 gva, bool write, u64 *gpa)
{
	u64 cr0 = hvk_vendor->get_cr(vcpu, 0);
	u64 cr3, cr4, efer, pte, table;
	int level, bits, shift;
	bool wide;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	cr3 = hvk_vendor->get_cr(vcpu, 3);
	cr4 = hvk_vendor->get_cr(vcpu, 4);
	efer = hvk_vendor->get_efer(vcpu);

	if (efer & EFER_LMA) {
		if (cr4 & X86_CR4_LA57)
			return -EFAULT;	/* 5-level paging is not offered */
		level = 4;
		bits = 9;
		wide = true;
		table = cr3 & PTE_ADDR;
	} else if (cr4 & X86_CR4_PAE) {
		/* The PDPT: four entries at CR3[31:5] (SDM Vol. 3, 4.4.1). */
		gva = (u32)gva;
		if (walk_read(vcpu, (cr3 & GENMASK_ULL(31, 5)) + (gva >> 30) * 8,
			      &pte, true) || !(pte & PTE_P))
			return -EFAULT;
		level = 2;
		bits = 9;
		wide = true;
		table = pte & PTE_ADDR;
	} else {
		gva = (u32)gva;
		level = 2;
		bits = 10;
		wide = false;
		table = cr3 & GENMASK_ULL(31, 12);
	}

	for (;; level--) {
		shift = 12 + bits * (level - 1);
		if (walk_read(vcpu, table + ((gva >> shift) & (BIT(bits) - 1)) *
				    (wide ? 8 : 4), &pte, wide))
			return -EFAULT;
		if (!(pte & PTE_P))
			return -EFAULT;
		if (write && !(pte & PTE_RW) && (cr0 & X86_CR0_WP))
			return -EFAULT;
		if (level == 1)
			break;
		if ((pte & PTE_PS) && (level <= 3)) {
			/* A large page: 1 GiB, 2 MiB, or 4 MiB without PAE. */
			if (!wide) {
				if (!(cr4 & X86_CR4_PSE))
					goto table;
				/* PSE-36: PDE bits 20:13 are address bits 39:32. */
				*gpa = (pte & GENMASK_ULL(31, 22)) |
				       ((pte & GENMASK_ULL(20, 13)) << 19) |
				       (gva & GENMASK_ULL(21, 0));
				return 0;
			}
			*gpa = (pte & PTE_ADDR & ~GENMASK_ULL(shift - 1, 0)) |
			       (gva & GENMASK_ULL(shift - 1, 0));
			return 0;
		}
table:
		table = pte & (wide ? PTE_ADDR : GENMASK_ULL(31, 12));
	}
	*gpa = (pte & (wide ? PTE_ADDR : GENMASK_ULL(31, 12))) |
	       (gva & (PAGE_SIZE - 1));
	return 0;
}
