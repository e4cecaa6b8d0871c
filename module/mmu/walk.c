// SPDX-License-Identifier: GPL-2.0
/*
 * The guest page-table walker: linear to guest physical address translation
 * as the guest's processor does it (SDM Vol. 3, chapter 4; APM Vol. 2,
 * chapter 5), for the accesses hvk makes on the guest's behalf.
 *
 * Paging modes: 32-bit (4 KiB pages, 4 MiB pages with CR4.PSE and PSE-36
 * addresses), PAE (2 MiB pages), 4-level and 5-level (2 MiB and 1 GiB
 * pages).  Access rights: U/S and R/W combined over every level, CR0.WP,
 * XD with EFER.NXE, SMEP and SMAP.  Protection keys are not offered to
 * guests and are not checked.
 *
 * PAE PDPTEs are read from memory on every walk, as AMD's processors do
 * under nested paging.  Intel's load them with CR3 (into the VMCS under
 * EPT), so a guest that rewrites a PDPTE without reloading CR3 would see
 * its new value here before the processor does.
 *
 * Nothing here knows about vCPUs or how guest memory is reached: see
 * walk.h, and walk_vcpu.c for the binding to a vCPU.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "walk.h"

#define PTE_P		BIT_ULL(0)
#define PTE_W		BIT_ULL(1)
#define PTE_U		BIT_ULL(2)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_XD		BIT_ULL(63)

#define WALK_MAX_LEVELS	5

/* One walk: the paging mode and what it makes of the entries' bits. */
struct walk {
	const struct hvk_walk_env *env;
	/*
	 * 2: 32-bit paging, 4-byte entries; 3: PAE; 4 or 5: 4- or 5-level
	 * paging, 8-byte entries.  Level 1 entries map 4 KiB pages; in PAE
	 * paging level 3 is the PDPT.
	 */
	unsigned int levels;
	unsigned int maxphyaddr;
	bool nx;		/* XD bits count: EFER.NXE, 8-byte entries */
	u64 high_rsvd;		/* reserved high bits of every 8-byte entry */
};

static bool walk_is_pdpte(const struct walk *w, unsigned int level)
{
	return w->levels == 3 && level == 3;
}

/* Does the entry at @level, present, map a page rather than a table? */
static bool walk_is_leaf(const struct walk *w, unsigned int level, u64 pte)
{
	if (level == 1)
		return true;
	if (!(pte & PTE_PS))
		return false;
	/* In 32-bit paging PS is ignored unless CR4.PSE (SDM Vol. 3, 4.3). */
	if (w->levels == 2)
		return w->env->cr4 & X86_CR4_PSE;
	/*
	 * No PAE PDPTE, PML4E or PML5E maps a page; PS is reserved in the
	 * latter two (and in PDPTEs on Intel): walk_rsvd_bits().
	 */
	return level == 2 || (level == 3 && w->levels >= 4);
}

/*
 * Reserved bits of a present entry at @level that maps a page (@leaf) or
 * references a table: SDM Vol. 3, Tables 4-4 to 4-6 (32-bit), 4-8 to 4-11
 * (PAE), 4-14 to 4-20 (4- and 5-level).  Any of them set is a #PF with
 * RSVD, whatever the access.
 */
static u64 walk_rsvd_bits(const struct walk *w, unsigned int level, bool leaf)
{
	unsigned int m;

	if (w->levels == 2) {
		/*
		 * Only a 4 MiB page has any: bit 21, and those of bits 20:13
		 * (physical address bits 39:32, PSE-36) at or above
		 * MAXPHYADDR, which counts as at most 40 here.
		 */
		if (!leaf || level != 2)
			return 0;
		m = clamp(w->maxphyaddr, 32U, 40U);
		return GENMASK_ULL(21, 13 + m - 32);
	}
	/*
	 * A PDPTE has no R/W, U/S, A or XD bits: Intel reserves 2:1, 8:5 and
	 * 63:M.  AMD processors under nested paging read PDPTEs at each walk
	 * and may set bit 5 as an Accessed bit (the emulated AMD processor
	 * of hvk's test machines does), so there only 63:M are checked: a
	 * PDPTE the processor accepted never faults here.
	 */
	if (walk_is_pdpte(w, level))
		return w->high_rsvd | PTE_XD |
		       (w->env->amd ? 0 : GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1));
	/*
	 * No PML4E or PML5E maps a page.  AMD also reserves bit 8 there
	 * (APM Vol. 2, 5.3.3, "MBZ").
	 */
	if (level >= 4)
		return w->high_rsvd | PTE_PS | (w->env->amd ? BIT_ULL(8) : 0);
	if (!leaf || level == 1)
		return w->high_rsvd;
	/* 1 GiB pages exist only where CPUID says so; else PS is reserved. */
	if (level == 3 && !w->env->gbpages)
		return w->high_rsvd | PTE_PS;
	/* A large page: the bits between PAT (12) and its address. */
	return w->high_rsvd | GENMASK_ULL(12 + 9 * (level - 1) - 1, 13);
}

/* Linear address bits that index the table at @level. */
static unsigned int walk_index(const struct walk *w, unsigned int level,
			       u64 gva)
{
	if (w->levels == 2)
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

/* The table a present, non-leaf entry references. */
static u64 walk_table(const struct walk *w, u64 pte)
{
	/* Reserved bits were zero: the mask need not depend on MAXPHYADDR. */
	return pte & (w->levels == 2 ? GENMASK_ULL(31, 12) :
				       GENMASK_ULL(51, 12));
}

static u64 walk_leaf_gpa(const struct walk *w, unsigned int level, u64 pte,
			 u64 gva)
{
	unsigned int shift = 12 + 9 * (level - 1);

	if (w->levels == 2) {
		if (level == 1)
			return (pte & GENMASK_ULL(31, 12)) | (gva & 0xfff);
		/* PDE bits 20:13 are address bits 39:32 (PSE-36). */
		return (pte & GENMASK_ULL(31, 22)) |
		       ((pte & GENMASK_ULL(20, 13)) << 19) |
		       (gva & GENMASK_ULL(21, 0));
	}
	return (pte & GENMASK_ULL(51, shift)) | (gva & GENMASK_ULL(shift - 1, 0));
}

/*
 * May the access be made to a page whose combined rights are @rights (R/W
 * and U/S set only if set at every level) and @xd (XD set at some level)?
 * SDM Vol. 3, 4.6.
 */
static bool walk_allowed(const struct walk *w, u32 access, bool user,
			 u64 rights, bool xd)
{
	const struct hvk_walk_env *env = w->env;
	bool user_page = rights & PTE_U;
	bool writable = rights & PTE_W;
	bool write = access & HVK_PF_WRITE;

	if (access & HVK_PF_FETCH) {
		if (xd)
			return false;
		if (user)
			return user_page;
		/* SMEP: no supervisor fetch from a user page. */
		return !(user_page && (env->cr4 & X86_CR4_SMEP));
	}
	if (user)
		return user_page && (!write || writable);
	/*
	 * SMAP: no supervisor data access to a user page, except explicit
	 * ones with RFLAGS.AC set; implicit ones are always checked.
	 */
	if (user_page && (env->cr4 & X86_CR4_SMAP) &&
	    ((access & HVK_WALK_IMPLICIT) || !env->ac))
		return false;
	/* Supervisor writes ignore R/W unless CR0.WP. */
	return !write || writable || !(env->cr0 & X86_CR0_WP);
}

/* Linear address width of 4- and 5-level paging: 48 or 57 bits. */
static bool walk_canonical(const struct walk *w, u64 gva)
{
	unsigned int bits = 12 + 9 * w->levels;

	return (u64)((s64)(gva << (64 - bits)) >> (64 - bits)) == gva;
}

int hvk_walk(const struct hvk_walk_env *env, u64 gva, u32 access, u64 *gpa,
	     u32 *pferr)
{
	bool implicit = access & HVK_WALK_IMPLICIT;
	bool user = (access & HVK_PF_USER) && !implicit;
	u64 pte[WALK_MAX_LEVELS], pte_gpa[WALK_MAX_LEVELS];
	struct walk w = { .env = env };
	unsigned int level, leaf_level, size, i, n;
	u64 root, table, rights;
	bool leaf, xd;
	u32 ec;
	int r;

	if (!(env->cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}

	w.maxphyaddr = clamp(env->maxphyaddr, 32U, 52U);
	if (env->efer & EFER_LMA) {
		w.levels = env->cr4 & X86_CR4_LA57 ? 5 : 4;
		if (!walk_canonical(&w, gva))
			return -EINVAL;
		if (w.maxphyaddr < 52)
			w.high_rsvd = GENMASK_ULL(51, w.maxphyaddr);
		root = env->cr3 & GENMASK_ULL(w.maxphyaddr - 1, 12);
	} else if (env->cr4 & X86_CR4_PAE) {
		w.levels = 3;
		/* PAE entries have no ignored high bits: 62:M are reserved. */
		w.high_rsvd = GENMASK_ULL(62, w.maxphyaddr);
		/* The PDPT: four entries at CR3[31:5] (SDM Vol. 3, 4.4.1). */
		root = env->cr3 & GENMASK_ULL(31, 5);
	} else {
		w.levels = 2;
		root = env->cr3 & GENMASK_ULL(31, 12);
	}
	/* Outside IA-32e mode linear addresses have 32 bits. */
	if (w.levels <= 3)
		gva = (u32)gva;
	if (w.levels == 2) {
		size = 4;
	} else {
		size = 8;
		w.nx = env->efer & EFER_NX;
		/* Without EFER.NXE the XD bit is reserved at every level. */
		if (!w.nx)
			w.high_rsvd |= PTE_XD;
	}

	/*
	 * The error code reports the access whatever went wrong; I/D only
	 * where fetches can fault for their own sake: with SMEP, or with XD
	 * bits in use (SDM Vol. 3, 4.7).
	 */
	ec = access & HVK_PF_WRITE;
	if (user)
		ec |= HVK_PF_USER;
	if ((access & HVK_PF_FETCH) &&
	    (w.nx || (env->cr4 & X86_CR4_SMEP)))
		ec |= HVK_PF_FETCH;

retry:
	table = root;
	rights = PTE_W | PTE_U;
	xd = false;
	for (level = w.levels, i = 0;; level--, i++) {
		pte_gpa[i] = table + walk_index(&w, level, gva) * size;
		if (env->read_pte(env->priv, pte_gpa[i], &pte[i], size))
			return -EIO;
		if (!(pte[i] & PTE_P))
			goto fault;
		leaf = walk_is_leaf(&w, level, pte[i]);
		if (pte[i] & walk_rsvd_bits(&w, level, leaf)) {
			ec |= HVK_PF_RSVD | HVK_PF_PRESENT;
			goto fault;
		}
		if (!walk_is_pdpte(&w, level)) {
			rights &= pte[i];
			xd |= w.nx && (pte[i] & PTE_XD);
		}
		if (leaf)
			break;
		table = walk_table(&w, pte[i]);
	}
	n = i + 1;
	leaf_level = level;

	/*
	 * Rights are those of the whole translation: a missing or malformed
	 * entry at any level is reported before a protection violation.
	 */
	if (!walk_allowed(&w, access, user, rights, xd)) {
		ec |= HVK_PF_PRESENT;
		goto fault;
	}

	/*
	 * Accessed in every entry used, Dirty in the one that maps the page
	 * for a write (SDM Vol. 3, 4.8), top down, each with a locked update
	 * as the processor does: an entry the guest changed meanwhile makes
	 * the walk start again.  They are set only for an access that is
	 * allowed, so a faulting access leaves guest memory alone.
	 */
	for (i = 0, level = w.levels; i < n; i++, level--) {
		u64 new = pte[i] | PTE_A;

		if (walk_is_pdpte(&w, level))
			continue;
		if (i == n - 1 && (access & HVK_PF_WRITE))
			new |= PTE_D;
		if (new == pte[i])
			continue;
		r = env->update_pte(env->priv, pte_gpa[i], pte[i], new, size);
		if (r == -EAGAIN)
			goto retry;
		if (r)
			return -EIO;
	}

	*gpa = walk_leaf_gpa(&w, leaf_level, pte[n - 1], gva);
	return 0;

fault:
	*pferr = ec;
	return -EFAULT;
}
