// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the guest page-table walker (module/mmu/walk.c), table-driven.
 * Each case builds one chain of paging-structure entries in a small fake
 * guest memory, walks one address with one set of paging controls, and
 * checks the translation or the exact #PF error code, then the Accessed
 * and Dirty bits the walk left in memory.  The expectations come from the
 * SDM's rules (Vol. 3, chapter 4), not from the walker.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "../mmu/walk.c"

/* Fake guest memory: pages 0 .. WT_PAGES - 1; beyond is not memory. */
#define WT_PAGES	8
#define WT_SIZE		(WT_PAGES * 4096)
#define WT_ROOT		0x1000ULL	/* default CR3: the top table */

enum wt_mode { WT_OFF, WT_32, WT_PAE, WT_4, WT_5 };

/* Paging controls beyond the mode's own: CR0.WP is on unless C_NOWP. */
#define C_NOWP		BIT(0)
#define C_PSE		BIT(1)	/* CR4.PSE */
#define C_NXE		BIT(2)	/* EFER.NXE */
#define C_SMEP		BIT(3)
#define C_SMAP		BIT(4)
#define C_AC		BIT(5)	/* RFLAGS.AC */
#define C_GB		BIT(6)	/* 1 GiB pages offered */
#define C_AMD		BIT(7)	/* AMD's reserved bits */

/* Entry bits. */
#define PT_P		BIT_ULL(0)
#define PT_W		BIT_ULL(1)
#define PT_U		BIT_ULL(2)
#define PT_A		BIT_ULL(5)
#define PT_D		BIT_ULL(6)
#define PT_PS		BIT_ULL(7)
#define PT_G		BIT_ULL(8)
#define PT_XD		BIT_ULL(63)
#define PW		(PT_P | PT_W)
#define PU		(PT_P | PT_U)
#define PWU		(PT_P | PT_W | PT_U)

/* Accesses and error codes. */
#define RD		0
#define WR		HVK_PF_WRITE
#define EX		HVK_PF_FETCH
#define US		HVK_PF_USER
#define IMP		HVK_WALK_IMPLICIT
#define EC_P		HVK_PF_PRESENT
#define EC_W		HVK_PF_WRITE
#define EC_U		HVK_PF_USER
#define EC_R		HVK_PF_RSVD
#define EC_I		HVK_PF_FETCH

/* Addresses whose index differs at every level. */
#define GVA32		0x12345678ULL
#define GVAPAE		0x80345678ULL		/* PDPTE 2 */
#define GVA4		0xffff812345678abcULL
#define GVA5		0x00ff812345678abcULL	/* canonical with 57 bits only */
#define OFF(gva, bits)	((gva) & GENMASK_ULL((bits) - 1, 0))

struct walk_case {
	const char *name;
	enum wt_mode mode;
	u32 ctl;
	unsigned int maxphyaddr;	/* 0: 46 */
	u64 cr3;			/* 0: WT_ROOT */
	u64 gva;
	/*
	 * The entries that translate gva, top level first (PDPTE, PML4E or
	 * PML5E), up to the first zero.  An entry above the last level with
	 * neither an address nor PS gets the next table's address, at page
	 * 2, 3, ... in turn.
	 */
	u64 ent[5];
	u32 access;
	int ret;
	u64 gpa;			/* when ret is 0 */
	u32 pferr;			/* when ret is -EFAULT */
};

static const struct walk_case walk_cases[] = {
	{ "paging off: 32-bit identity", WT_OFF, 0, 0, 0,
	  0xdead000012345678ULL, {}, WR, 0, 0x12345678 },

	/* --- 32-bit paging --- */
	{ "32: 4K read", WT_32, 0, 0, 0, GVA32,
	  { PWU, PWU | 0xabcde000 }, RD, 0, 0xabcde678 },
	{ "32: 4K write sets D", WT_32, 0, 0, 0, GVA32,
	  { PWU, PWU | 0xabcde000 }, WR, 0, 0xabcde678 },
	{ "32: A and D already set, no update", WT_32, 0, 0, 0, GVA32,
	  { PWU | PT_A, PWU | PT_A | PT_D | 0xabcde000 }, WR, 0, 0xabcde678 },
	{ "32: bits 63:32 of the address ignored", WT_32, 0, 0, 0,
	  0xdeadbeef00000000ULL | GVA32,
	  { PWU, PWU | 0xabcde000 }, RD, 0, 0xabcde678 },
	{ "32: PDE not present", WT_32, 0, 0, 0, GVA32,
	  { PT_W | PT_U | 0x2000 }, RD, -EFAULT, 0, 0 },
	{ "32: PTE not present, user write", WT_32, 0, 0, 0, GVA32,
	  { PWU }, US | WR, -EFAULT, 0, EC_W | EC_U },
	{ "32: 4M page, PSE-36 address", WT_32, C_PSE, 0, 0, GVA32,
	  { PWU | PT_PS | 0x80000000 | (0x12 << 13) }, RD, 0,
	  0x1280000000ULL | OFF(GVA32, 22) },
	{ "32: 4M page bit 21 reserved", WT_32, C_PSE, 0, 0, GVA32,
	  { PWU | PT_PS | BIT(21) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "32: 4M page, PSE-36 bit at MAXPHYADDR 36 reserved", WT_32, C_PSE,
	  36, 0, GVA32, { PWU | PT_PS | BIT(17) }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "32: 4M page, PSE-36 bit below MAXPHYADDR 36", WT_32, C_PSE, 36, 0,
	  GVA32, { PWU | PT_PS | BIT(16) | 0x400000 }, RD, 0,
	  0x800400000ULL | OFF(GVA32, 22) },
	{ "32: PS ignored without CR4.PSE", WT_32, 0, 0, 0, GVA32,
	  { PWU | PT_PS | 0x2000, PWU | 0x5000 }, RD, 0, 0x5678 },
	{ "32: user read, supervisor PDE", WT_32, 0, 0, 0, GVA32,
	  { PW, PWU | 0x5000 }, US, -EFAULT, 0, EC_P | EC_U },
	{ "32: user read, supervisor PTE", WT_32, 0, 0, 0, GVA32,
	  { PWU, PW | 0x5000 }, US, -EFAULT, 0, EC_P | EC_U },
	{ "32: user read, user page", WT_32, 0, 0, 0, GVA32,
	  { PWU, PU | 0x5000 }, US, 0, 0x5678 },
	{ "32: user write, read-only PDE", WT_32, 0, 0, 0, GVA32,
	  { PU, PWU | 0x5000 }, US | WR, -EFAULT, 0, EC_P | EC_W | EC_U },
	{ "32: user write, read-only, no WP", WT_32, C_NOWP, 0, 0, GVA32,
	  { PWU, PU | 0x5000 }, US | WR, -EFAULT, 0, EC_P | EC_W | EC_U },
	{ "32: supervisor write, read-only, WP", WT_32, 0, 0, 0, GVA32,
	  { PWU, PU | 0x5000 }, WR, -EFAULT, 0, EC_P | EC_W },
	{ "32: supervisor write, read-only, no WP", WT_32, C_NOWP, 0, 0,
	  GVA32, { PWU, PU | 0x5000 }, WR, 0, 0x5678 },
	{ "32: SMEP, supervisor fetch from user page", WT_32, C_SMEP, 0, 0,
	  GVA32, { PWU, PWU | 0x5000 }, EX, -EFAULT, 0, EC_P | EC_I },
	{ "32: no I/D bit without SMEP or XD", WT_32, 0, 0, 0, GVA32,
	  { PW, PWU | 0x5000 }, US | EX, -EFAULT, 0, EC_P | EC_U },
	{ "32: EFER.NXE alone reports no I/D bit", WT_32, C_NXE, 0, 0, GVA32,
	  { PW, PWU | 0x5000 }, US | EX, -EFAULT, 0, EC_P | EC_U },
	{ "32: supervisor fetch, user page, no SMEP", WT_32, C_NXE, 0, 0,
	  GVA32, { PWU, PWU | 0x5000 }, EX, 0, 0x5678 },
	{ "32: page table outside memory", WT_32, 0, 0, 0, GVA32,
	  { PWU | 0x100000 }, RD, -EIO },

	/* --- PAE paging --- */
	{ "PAE: 4K", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | 0x123456000ULL }, RD, 0,
	  0x123456000ULL | OFF(GVAPAE, 12) },
	{ "PAE: 4K write", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | 0x123456000ULL }, WR, 0,
	  0x123456000ULL | OFF(GVAPAE, 12) },
	{ "PAE: bits 63:32 of the address ignored", WT_PAE, 0, 0, 0,
	  0xdeadbeef00000000ULL | GVAPAE, { PT_P, PWU, PWU | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVAPAE, 12) },
	{ "PAE: CR3 bits 31:5 locate the PDPT", WT_PAE, 0, 0, 0x1fe0, GVAPAE,
	  { PT_P, PWU, PWU | 0x5000 }, RD, 0, 0x5000 | OFF(GVAPAE, 12) },
	{ "PAE: 2M page", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PWU | PT_PS | 0x123400000ULL }, WR, 0,
	  0x123400000ULL | OFF(GVAPAE, 21) },
	{ "PAE: 2M page, PAT bit is not an address bit", WT_PAE, 0, 0, 0,
	  GVAPAE, { PT_P, PWU | PT_PS | BIT(12) | 0x123400000ULL }, RD, 0,
	  0x123400000ULL | OFF(GVAPAE, 21) },
	{ "PAE: 2M page bit 13 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PWU | PT_PS | BIT(13) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: 2M page bit 20 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PWU | PT_PS | BIT(20) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE not present", WT_PAE, 0, 0, 0, GVAPAE,
	  {}, WR, -EFAULT, 0, EC_W },
	{ "PAE: PDPTE not present, fetch with NXE", WT_PAE, C_NXE, 0, 0,
	  GVAPAE, {}, EX, -EFAULT, 0, EC_I },
	{ "PAE: PDPTE bit 1 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P | PT_W }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE bit 2 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P | PT_U }, US, -EFAULT, 0, EC_R | EC_P | EC_U },
	{ "PAE: PDPTE bit 5 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P | PT_A }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE bit 7 reserved", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P | PT_PS }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE bits 2:1 and 8:5 ignored on AMD", WT_PAE, C_AMD, 0, 0,
	  GVAPAE, { PT_P | PT_W | PT_U | PT_A | PT_D | PT_PS | PT_G | 0x2000, PWU,
	  PWU | 0x5000 }, RD, 0, 0x5000 | OFF(GVAPAE, 12) },
	{ "PAE: PDPTE bit 63 reserved on AMD", WT_PAE, C_AMD | C_NXE, 0, 0,
	  GVAPAE, { PT_P | PT_XD }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE above MAXPHYADDR on AMD", WT_PAE, C_AMD, 36, 0, GVAPAE,
	  { PT_P | BIT_ULL(40) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE bit 63 reserved with NXE", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P | PT_XD }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PDPTE above MAXPHYADDR", WT_PAE, 0, 36, 0, GVAPAE,
	  { PT_P | BIT_ULL(36) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: PTE bit 62 reserved", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | BIT_ULL(62) | 0x5000 }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "PAE: PTE above MAXPHYADDR 36", WT_PAE, 0, 36, 0, GVAPAE,
	  { PT_P, PWU, PWU | BIT_ULL(36) | 0x5000 }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "PAE: PTE XD reserved without NXE", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | PT_XD | 0x5000 }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "PAE: XD PTE, fetch", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | PT_XD | 0x5000 }, EX, -EFAULT, 0, EC_P | EC_I },
	{ "PAE: XD PDE, fetch", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU | PT_XD, PWU | 0x5000 }, EX, -EFAULT, 0, EC_P | EC_I },
	{ "PAE: XD PDE, read", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU | PT_XD, PWU | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVAPAE, 12) },
	{ "PAE: XD PTE, user fetch", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | PT_XD | 0x5000 }, US | EX, -EFAULT, 0,
	  EC_P | EC_U | EC_I },
	{ "PAE: fetch from non-XD page", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU, PWU | 0x5000 }, US | EX, 0, 0x5000 | OFF(GVAPAE, 12) },
	{ "PAE: no I/D bit without NXE or SMEP", WT_PAE, 0, 0, 0, GVAPAE,
	  { PT_P, PW, PWU | 0x5000 }, US | EX, -EFAULT, 0, EC_P | EC_U },
	{ "PAE: PTE not present, fetch with NXE", WT_PAE, C_NXE, 0, 0, GVAPAE,
	  { PT_P, PWU }, EX, -EFAULT, 0, EC_I },

	/* --- 4-level paging --- */
	{ "4: 4K", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x123456789000ULL }, RD, 0,
	  0x123456789000ULL | OFF(GVA4, 12) },
	{ "4: 4K write", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x123456789000ULL }, WR, 0,
	  0x123456789000ULL | OFF(GVA4, 12) },
	{ "4: A and D already set, no update", WT_4, 0, 0, 0, GVA4,
	  { PWU | PT_A, PWU | PT_A, PWU | PT_A,
	    PWU | PT_A | PT_D | 0x5000 }, WR, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: Dirty already set, read", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | PT_D | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: 2M page", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU | PT_PS | 0x123456600000ULL }, WR, 0,
	  0x123456600000ULL | OFF(GVA4, 21) },
	{ "4: 2M page bit 20 reserved", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU | PT_PS | BIT(20) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: 2M page, PAT bit is not an address bit", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU | PT_PS | BIT(12) | 0x123456600000ULL }, RD, 0,
	  0x123456600000ULL | OFF(GVA4, 21) },
	{ "4: 1G page", WT_4, C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | 0x123440000000ULL }, RD, 0,
	  0x123440000000ULL | OFF(GVA4, 30) },
	{ "4: 1G page write", WT_4, C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | 0x123440000000ULL }, WR, 0,
	  0x123440000000ULL | OFF(GVA4, 30) },
	{ "4: 1G page, PAT bit is not an address bit", WT_4, C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | BIT(12) | 0x123440000000ULL }, RD, 0,
	  0x123440000000ULL | OFF(GVA4, 30) },
	{ "4: 1G page without Page1GB: PS reserved", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | 0x123440000000ULL }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "4: 1G page bit 13 reserved", WT_4, C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | BIT(13) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: 1G page bit 29 reserved", WT_4, C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | BIT(29) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PML4E PS reserved", WT_4, C_GB, 0, 0, GVA4,
	  { PWU | PT_PS }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PML4E bit 8 reserved on AMD", WT_4, C_AMD, 0, 0, GVA4,
	  { PWU | PT_G, PWU, PWU, PWU | 0x5000 }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "4: PML4E bit 8 ignored on Intel", WT_4, 0, 0, 0, GVA4,
	  { PWU | PT_G, PWU, PWU, PWU | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: PDPTE bit 8 ignored on AMD", WT_4, C_AMD, 0, 0, GVA4,
	  { PWU, PWU | PT_G, PWU, PWU | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: PML4E above MAXPHYADDR", WT_4, 0, 0, 0, GVA4,
	  { PWU | BIT_ULL(51) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PDPTE at MAXPHYADDR", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU | BIT_ULL(46) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PDE at MAXPHYADDR 40", WT_4, 0, 40, 0, GVA4,
	  { PWU, PWU, PWU | BIT_ULL(40) }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PTE at MAXPHYADDR", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | BIT_ULL(46) | 0x5000 }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "4: PTE just below MAXPHYADDR", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | BIT_ULL(45) | 0x5000 }, RD, 0,
	  BIT_ULL(45) | 0x5000 | OFF(GVA4, 12) },
	{ "4: MAXPHYADDR 52, bit 51 is an address bit", WT_4, 0, 52, 0, GVA4,
	  { PWU, PWU, PWU, PWU | BIT_ULL(51) | 0x5000 }, RD, 0,
	  BIT_ULL(51) | 0x5000 | OFF(GVA4, 12) },
	{ "4: bits 62:52 ignored", WT_4, C_NXE, 0, 0, GVA4,
	  { PWU | BIT_ULL(52), PWU, PWU | BIT_ULL(58),
	    PWU | GENMASK_ULL(62, 52) | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: PML4E XD reserved without NXE", WT_4, 0, 0, 0, GVA4,
	  { PWU | PT_XD }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "4: PTE XD reserved without NXE, fetch", WT_4, C_SMEP, 0, 0, GVA4,
	  { PWU, PWU, PW, PW | PT_XD | 0x5000 }, EX, -EFAULT, 0,
	  EC_R | EC_P | EC_I },
	{ "4: XD PDPTE, fetch", WT_4, C_NXE, 0, 0, GVA4,
	  { PWU, PWU | PT_XD, PWU, PWU | 0x5000 }, EX, -EFAULT, 0,
	  EC_P | EC_I },
	{ "4: XD PML4E, write", WT_4, C_NXE, 0, 0, GVA4,
	  { PWU | PT_XD, PWU, PWU, PWU | 0x5000 }, WR, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: XD 1G page, fetch", WT_4, C_NXE | C_GB, 0, 0, GVA4,
	  { PWU, PWU | PT_PS | PT_XD }, EX, -EFAULT, 0, EC_P | EC_I },
	{ "4: user read, supervisor PML4E", WT_4, 0, 0, 0, GVA4,
	  { PW, PWU, PWU, PWU | 0x5000 }, US, -EFAULT, 0, EC_P | EC_U },
	{ "4: user read, supervisor 2M page", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PW | PT_PS }, US, -EFAULT, 0, EC_P | EC_U },
	{ "4: user write, user page", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, US | WR, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: user write, read-only PDPTE", WT_4, 0, 0, 0, GVA4,
	  { PWU, PU, PWU, PWU | 0x5000 }, US | WR, -EFAULT, 0,
	  EC_P | EC_W | EC_U },
	{ "4: supervisor write, read-only PML4E, WP", WT_4, 0, 0, 0, GVA4,
	  { PU, PWU, PWU, PWU | 0x5000 }, WR, -EFAULT, 0, EC_P | EC_W },
	{ "4: supervisor write, read-only PML4E, no WP", WT_4, C_NOWP, 0, 0,
	  GVA4, { PU, PWU, PWU, PWU | 0x5000 }, WR, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: supervisor read, read-only supervisor page", WT_4, 0, 0, 0,
	  GVA4, { PT_P, PT_P, PT_P, PT_P | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: SMEP, supervisor fetch from user page", WT_4, C_SMEP | C_NXE, 0,
	  0, GVA4, { PWU, PWU, PWU, PWU | 0x5000 }, EX, -EFAULT, 0,
	  EC_P | EC_I },
	{ "4: SMEP, supervisor fetch from supervisor page", WT_4, C_SMEP, 0, 0,
	  GVA4, { PWU, PWU, PW, PWU | 0x5000 }, EX, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: SMEP, user fetch from user page", WT_4, C_SMEP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, US | EX, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: no SMEP, supervisor fetch from user page", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, EX, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: SMAP, supervisor read of user page", WT_4, C_SMAP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, RD, -EFAULT, 0, EC_P },
	{ "4: SMAP, supervisor write to user page", WT_4, C_SMAP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, WR, -EFAULT, 0, EC_P | EC_W },
	{ "4: SMAP, AC, supervisor read of user page", WT_4, C_SMAP | C_AC, 0,
	  0, GVA4, { PWU, PWU, PWU, PWU | 0x5000 }, RD, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: SMAP, AC, implicit read of user page", WT_4, C_SMAP | C_AC, 0,
	  0, GVA4, { PWU, PWU, PWU, PWU | 0x5000 }, IMP, -EFAULT, 0, EC_P },
	{ "4: SMAP, AC, implicit write at CPL 3", WT_4, C_SMAP | C_AC, 0, 0,
	  GVA4, { PWU, PWU, PWU, PWU | 0x5000 }, IMP | US | WR, -EFAULT, 0,
	  EC_P | EC_W },
	{ "4: SMAP, implicit read of supervisor page", WT_4, C_SMAP, 0, 0,
	  GVA4, { PWU, PWU, PW, PWU | 0x5000 }, IMP, 0,
	  0x5000 | OFF(GVA4, 12) },
	{ "4: no SMAP, implicit read of user page", WT_4, C_SMEP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, IMP, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: SMAP, AC, write to read-only user page, WP", WT_4,
	  C_SMAP | C_AC, 0, 0, GVA4, { PWU, PWU, PWU, PU | 0x5000 }, WR,
	  -EFAULT, 0, EC_P | EC_W },
	{ "4: SMAP, AC, write to read-only user page, no WP", WT_4,
	  C_SMAP | C_AC | C_NOWP, 0, 0, GVA4, { PWU, PWU, PWU, PU | 0x5000 },
	  WR, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: SMAP, supervisor fetch from user page", WT_4, C_SMAP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, EX, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: SMAP, user read of user page", WT_4, C_SMAP, 0, 0, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, US, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: not-present PTE before U/S violation", WT_4, 0, 0, 0, GVA4,
	  { PW, PWU, PWU }, US, -EFAULT, 0, EC_U },
	{ "4: reserved PTE bit before U/S violation", WT_4, 0, 0, 0, GVA4,
	  { PW, PWU, PWU, PWU | BIT_ULL(46) | 0x5000 }, US, -EFAULT, 0,
	  EC_R | EC_P | EC_U },
	{ "4: reserved bits of a not-present entry ignored", WT_4, 0, 0, 0,
	  GVA4, { PWU, PWU, PT_W | PT_PS | BIT_ULL(46) | BIT(13) }, RD,
	  -EFAULT, 0, 0 },
	{ "4: CR3 PCID bits ignored", WT_4, 0, 0, 0x1abc, GVA4,
	  { PWU, PWU, PWU, PWU | 0x5000 }, RD, 0, 0x5000 | OFF(GVA4, 12) },
	{ "4: non-canonical, bit 47 clear", WT_4, 0, 0, 0, 0x0000800000000000,
	  { PWU, PWU, PWU, PWU | 0x5000 }, RD, -EINVAL },
	{ "4: non-canonical, bit 47 set", WT_4, 0, 0, 0, 0xff7fffffffffffff,
	  { PWU, PWU, PWU, PWU | 0x5000 }, RD, -EINVAL },
	{ "4: canonical only with 57 bits", WT_4, 0, 0, 0, GVA5,
	  { PWU, PWU, PWU, PWU | 0x5000 }, RD, -EINVAL },
	{ "4: page directory outside memory", WT_4, 0, 0, 0, GVA4,
	  { PWU, PWU | 0x7fff000 }, RD, -EIO },

	/* --- 5-level paging --- */
	{ "5: 4K", WT_5, 0, 0, 0, GVA5,
	  { PWU, PWU, PWU, PWU, PWU | 0x5000 }, WR, 0,
	  0x5000 | OFF(GVA5, 12) },
	{ "5: 1G page", WT_5, C_GB, 0, 0, GVA5,
	  { PWU, PWU, PWU | PT_PS | 0x123440000000ULL }, RD, 0,
	  0x123440000000ULL | OFF(GVA5, 30) },
	{ "5: PML5E PS reserved", WT_5, 0, 0, 0, GVA5,
	  { PWU | PT_PS }, RD, -EFAULT, 0, EC_R | EC_P },
	{ "5: PML5E bit 8 reserved on AMD", WT_5, C_AMD, 0, 0, GVA5,
	  { PWU | PT_G, PWU, PWU, PWU, PWU | 0x5000 }, RD, -EFAULT, 0,
	  EC_R | EC_P },
	{ "5: user read, supervisor PML5E", WT_5, 0, 0, 0, GVA5,
	  { PW, PWU, PWU, PWU, PWU | 0x5000 }, US, -EFAULT, 0, EC_P | EC_U },
	{ "5: non-canonical", WT_5, 0, 0, 0, 0x0100000000000000,
	  { PWU, PWU, PWU, PWU, PWU | 0x5000 }, RD, -EINVAL },
};

/* The fake guest: its memory and what the walker did to it. */
struct wt_guest {
	u8 *mem;
	unsigned int updates;
	/* Before the n-th update (from 1), the guest changes the entry. */
	unsigned int race_at;
	u64 race_set, race_clear;
};

static u64 wt_get(struct wt_guest *g, u64 gpa, unsigned int len)
{
	u64 val = 0;

	memcpy(&val, g->mem + gpa, len);
	return val;
}

static void wt_set(struct wt_guest *g, u64 gpa, u64 val, unsigned int len)
{
	memcpy(g->mem + gpa, &val, len);
}

static int wt_read_pte(void *priv, u64 gpa, u64 *val, unsigned int len)
{
	struct wt_guest *g = priv;

	if (gpa >= WT_SIZE || gpa + len > WT_SIZE)
		return -EFAULT;
	*val = wt_get(g, gpa, len);
	return 0;
}

static int wt_update_pte(void *priv, u64 gpa, u64 old, u64 new,
			 unsigned int len)
{
	struct wt_guest *g = priv;
	u64 cur;

	if (gpa >= WT_SIZE || gpa + len > WT_SIZE)
		return -EFAULT;
	cur = wt_get(g, gpa, len);
	if (++g->updates == g->race_at) {
		cur = (cur | g->race_set) & ~g->race_clear;
		wt_set(g, gpa, cur, len);
	}
	if (cur != old)
		return -EAGAIN;
	wt_set(g, gpa, new, len);
	return 0;
}

static unsigned int wt_levels(enum wt_mode mode)
{
	return mode == WT_32 ? 2 : mode == WT_PAE ? 3 : mode == WT_4 ? 4 :
	       mode == WT_5 ? 5 : 0;
}

/* Where the walk of @gva reads the entry @i levels below the top. */
static u64 wt_entry_gpa(const struct walk_case *c, unsigned int i, u64 gva)
{
	unsigned int level = wt_levels(c->mode) - i;
	u64 cr3 = c->cr3 ?: WT_ROOT;
	u64 table;

	if (!i)
		table = cr3 & (c->mode == WT_PAE ? ~0x1fULL : ~0xfffULL);
	else
		table = WT_ROOT + i * 4096;
	if (c->mode == WT_32)
		return table + ((gva >> (12 + 10 * (level - 1))) & 0x3ff) * 4;
	return table + ((gva >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
}

static void wt_env(const struct walk_case *c, struct wt_guest *g,
		   struct hvk_walk_env *env)
{
	*env = (struct hvk_walk_env) {
		.cr0 = X86_CR0_PE | X86_CR0_ET,
		.cr3 = c->cr3 ?: WT_ROOT,
		.ac = c->ctl & C_AC,
		.gbpages = c->ctl & C_GB,
		.amd = c->ctl & C_AMD,
		.maxphyaddr = c->maxphyaddr ?: 46,
		.read_pte = wt_read_pte,
		.update_pte = wt_update_pte,
		.priv = g,
	};
	if (!(c->ctl & C_NOWP))
		env->cr0 |= X86_CR0_WP;
	if (c->mode != WT_OFF)
		env->cr0 |= X86_CR0_PG;
	if (c->mode >= WT_PAE)
		env->cr4 |= X86_CR4_PAE;
	if (c->mode >= WT_4)
		env->efer |= EFER_LME | EFER_LMA;
	if (c->mode == WT_5)
		env->cr4 |= X86_CR4_LA57;
	if (c->ctl & C_PSE)
		env->cr4 |= X86_CR4_PSE;
	if (c->ctl & C_SMEP)
		env->cr4 |= X86_CR4_SMEP;
	if (c->ctl & C_SMAP)
		env->cr4 |= X86_CR4_SMAP;
	if (c->ctl & C_NXE)
		env->efer |= EFER_NX;
}

/* Write the case's entries; returns how many. */
static unsigned int wt_build(const struct walk_case *c, struct wt_guest *g,
			     u64 *ent, u64 *ent_gpa)
{
	unsigned int levels = wt_levels(c->mode), size = levels == 2 ? 4 : 8;
	u64 addr = levels == 2 ? GENMASK_ULL(31, 12) : GENMASK_ULL(51, 12);
	u64 gva = levels <= 3 ? (u32)c->gva : c->gva;
	unsigned int i;

	for (i = 0; i < levels && c->ent[i]; i++) {
		ent[i] = c->ent[i];
		if (i + 1 < levels && !(ent[i] & (addr | PT_PS)))
			ent[i] |= WT_ROOT + (i + 1) * 4096;
		ent_gpa[i] = wt_entry_gpa(c, i, gva);
		wt_set(g, ent_gpa[i], ent[i], size);
	}
	return i;
}

static void walk_table_cases(struct kunit *test)
{
	struct wt_guest g = {};
	unsigned int i, j, n, changed, size;
	u64 ent[5], ent_gpa[5];

	g.mem = kunit_kzalloc(test, WT_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g.mem);

	for (i = 0; i < ARRAY_SIZE(walk_cases); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct hvk_walk_env env;
		u64 gpa = ~0ULL;
		u32 pferr = ~0U;
		int r;

		memset(g.mem, 0, WT_SIZE);
		g.updates = 0;
		wt_env(c, &g, &env);
		n = wt_build(c, &g, ent, ent_gpa);
		size = c->mode == WT_32 ? 4 : 8;

		r = hvk_walk(&env, c->gva, c->access, &gpa, &pferr);
		KUNIT_EXPECT_EQ_MSG(test, c->ret, r, "%s", c->name);
		if (r != c->ret)
			continue;
		if (!r)
			KUNIT_EXPECT_EQ_MSG(test, c->gpa, gpa, "%s", c->name);
		if (r == -EFAULT)
			KUNIT_EXPECT_EQ_MSG(test, c->pferr, pferr, "%s", c->name);

		/*
		 * Accessed in every entry used but a PDPTE, Dirty in the last
		 * for a write, nothing else; nothing at all for a failure.
		 */
		changed = 0;
		for (j = 0; j < n; j++) {
			u64 want = ent[j];

			if (!r && !(c->mode == WT_PAE && j == 0))
				want |= PT_A;
			if (!r && j == n - 1 && (c->access & HVK_PF_WRITE))
				want |= PT_D;
			changed += want != ent[j];
			KUNIT_EXPECT_EQ_MSG(test, want,
					    wt_get(&g, ent_gpa[j], size),
					    "%s: entry %u", c->name, j);
		}
		KUNIT_EXPECT_EQ_MSG(test, changed, g.updates, "%s: updates",
				    c->name);
	}
}

/* The case a race test starts from: a 4-level 4 KiB write. */
static const struct walk_case wt_race_base = {
	"race", WT_4, 0, 0, 0, GVA4, { PWU, PWU, PWU, PWU | 0x5000 }, WR,
};

/*
 * The guest changes an entry between the walker's read and its A/D
 * update: the update fails and the walk starts again from the new entry.
 */
static void walk_race_restarts(struct kunit *test)
{
	const struct walk_case *c = &wt_race_base;
	struct wt_guest g = {};
	struct hvk_walk_env env;
	u64 ent[5], ent_gpa[5], gpa;
	u32 pferr;

	g.mem = kunit_kzalloc(test, WT_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g.mem);
	wt_env(c, &g, &env);

	/* The PDE loses P before its update: not present, no more updates. */
	wt_build(c, &g, ent, ent_gpa);
	g.race_at = 3;
	g.race_clear = PT_P;
	KUNIT_EXPECT_EQ(test, -EFAULT,
			hvk_walk(&env, c->gva, c->access, &gpa, &pferr));
	KUNIT_EXPECT_EQ(test, (u32)EC_W, pferr);
	KUNIT_EXPECT_EQ(test, 3U, g.updates);

	/* The PTE turns read-only: a protection fault this time. */
	memset(g.mem, 0, WT_SIZE);
	wt_build(c, &g, ent, ent_gpa);
	g.updates = 0;
	g.race_at = 4;
	g.race_clear = PT_W;
	KUNIT_EXPECT_EQ(test, -EFAULT,
			hvk_walk(&env, c->gva, c->access, &gpa, &pferr));
	KUNIT_EXPECT_EQ(test, (u32)(EC_P | EC_W), pferr);

	/* The guest sets A itself: the walk completes with the others. */
	memset(g.mem, 0, WT_SIZE);
	wt_build(c, &g, ent, ent_gpa);
	g.updates = 0;
	g.race_at = 2;
	g.race_clear = 0;
	g.race_set = PT_A;
	KUNIT_EXPECT_EQ(test, 0,
			hvk_walk(&env, c->gva, c->access, &gpa, &pferr));
	KUNIT_EXPECT_EQ(test, 0x5000 | OFF(GVA4, 12), gpa);
	/* 1 and 2 (lost), then 1 again (already done) skipped: 3 and 4. */
	KUNIT_EXPECT_EQ(test, 4U, g.updates);
	KUNIT_EXPECT_EQ(test, ent[3] | PT_A | PT_D, wt_get(&g, ent_gpa[3], 8));
}

static int wt_update_fails(void *priv, u64 gpa, u64 old, u64 new,
			   unsigned int len)
{
	return -EFAULT;
}

/* An A/D update that cannot reach guest memory: an emulation failure. */
static void walk_update_failure(struct kunit *test)
{
	const struct walk_case *c = &wt_race_base;
	struct wt_guest g = {};
	struct hvk_walk_env env;
	u64 ent[5], ent_gpa[5], gpa;
	u32 pferr;

	g.mem = kunit_kzalloc(test, WT_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g.mem);
	wt_env(c, &g, &env);
	env.update_pte = wt_update_fails;
	wt_build(c, &g, ent, ent_gpa);
	KUNIT_EXPECT_EQ(test, -EIO,
			hvk_walk(&env, c->gva, c->access, &gpa, &pferr));
}

static struct kunit_case walk_test_cases[] = {
	KUNIT_CASE(walk_table_cases),
	KUNIT_CASE(walk_race_restarts),
	KUNIT_CASE(walk_update_failure),
	{}
};

static struct kunit_suite walk_test_suite = {
	.name = "hvk_walk",
	.test_cases = walk_test_cases,
};

kunit_test_suite(walk_test_suite);
