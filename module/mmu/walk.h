/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest page-table walker (mmu/walk.c): a linear address to a guest
 * physical address as the guest's processor would translate it, with its
 * access rights, Accessed and Dirty bits and #PF error code.  It is a pure
 * function of the paging registers and of the guest memory reached through
 * two callbacks, so that KUnit can drive it without a vCPU; mmu/walk_vcpu.c
 * binds it to a vCPU (hvk_gva_to_gpa() in hvk.h).
 */
#ifndef HVK_MMU_WALK_H
#define HVK_MMU_WALK_H

#include <linux/bits.h>
#include <linux/types.h>

/*
 * #PF error code bits (SDM Vol. 3, 4.7).  WRITE, USER and FETCH also name
 * the kind of access asked of the walker.
 */
#define HVK_PF_PRESENT		BIT(0)	/* protection, not a missing entry */
#define HVK_PF_WRITE		BIT(1)
#define HVK_PF_USER		BIT(2)	/* user-mode access (CPL 3) */
#define HVK_PF_RSVD		BIT(3)	/* a reserved bit was set */
#define HVK_PF_FETCH		BIT(4)	/* instruction fetch */

/*
 * An implicit supervisor-mode access: a descriptor-table or TSS access made
 * by the processor itself, at any CPL.  It is a supervisor access even at
 * CPL 3 (HVK_PF_USER is ignored), and SMAP checks it whatever RFLAGS.AC
 * says (SDM Vol. 3, 4.6).  Never part of an error code.
 */
#define HVK_WALK_IMPLICIT	BIT(31)

struct hvk_walk_env {
	u64 cr0, cr3, cr4, efer;
	bool ac;		/* RFLAGS.AC */
	bool gbpages;		/* CPUID.80000001H:EDX.Page1GB: 1 GiB pages */
	bool amd;		/* AMD rules: bit 8 of a PML4E/PML5E is reserved */
	unsigned int maxphyaddr;	/* 32 .. 52 */
	/*
	 * Read @len (4 or 8) bytes of a paging structure at guest physical
	 * @gpa (little-endian, zero-extended into *@val): 0, or -EFAULT when
	 * no guest memory is there.
	 */
	int (*read_pte)(void *priv, u64 gpa, u64 *val, unsigned int len);
	/*
	 * Set Accessed and Dirty bits: replace @old by @new in the @len bytes
	 * at @gpa, atomically, if they still hold @old.  0, -EAGAIN when they
	 * changed (the walk starts again), or -EFAULT.
	 */
	int (*update_pte)(void *priv, u64 gpa, u64 old, u64 new,
			  unsigned int len);
	void *priv;
};

/*
 * Translate @gva for an access of kind @access: HVK_PF_WRITE or
 * HVK_PF_FETCH (or neither: a read), ORed with HVK_PF_USER for an access
 * made at CPL 3, or with HVK_WALK_IMPLICIT.  Outside IA-32e mode only the
 * low 32 bits of @gva count.
 *
 * Returns
 *   0        *@gpa is the translation; Accessed (and for writes Dirty) bits
 *            are set in the entries used, as the processor sets them;
 *   -EFAULT  a page fault: inject #PF with error code *@pferr, CR2 = @gva;
 *   -EINVAL  @gva is not canonical: #GP (or #SS) is the caller's to raise;
 *   -EIO     a paging structure lies outside guest memory, or its A/D
 *            update failed: an emulation failure.
 */
int hvk_walk(const struct hvk_walk_env *env, u64 gva, u32 access, u64 *gpa,
	     u32 *pferr);

#endif /* HVK_MMU_WALK_H */
