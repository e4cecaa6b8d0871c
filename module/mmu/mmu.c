// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level page tables (EPT on Intel, NPT on AMD), built on demand from
 * the memslots: a guest access to an unmapped guest-physical page exits
 * (EPT violation, nested page fault) and hvk_mmu_map() pins the host page
 * behind it and maps it, 4 KiB at a time.
 *
 * Invariants:
 * - A leaf entry that is not zero holds a page pinned for the VM.  Present
 *   leaves map it; a leaf zapped by hvk_mmu_zap_range() keeps the frame
 *   number, without its present bits, until every vCPU has flushed its TLB,
 *   and only then is the page unpinned and the entry cleared.
 * - Entries above the leaves are zero or present tables; tables are freed
 *   with the VM.
 * - The tables change under mmu->lock; a fault maps under vm->slots_lock
 *   held for reading, a slot change zaps under it held for writing, so no
 *   page is mapped from a slot that is going away.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/io.h>
#include <asm/processor.h>

#include "../hvk.h"

#define PT_ENTRIES	512
#define PT_MAX_LEVELS	5
#define PTE_ADDR_MASK	GENMASK_ULL(51, 12)

static u64 *mmu_table(u64 pte)
{
	return __va(pte & PTE_ADDR_MASK);
}

static struct page *mmu_leaf_page(u64 pte)
{
	return pfn_to_page((pte & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

u64 hvk_mmu_max_gfn(const struct hvk_mmu *mmu)
{
	/*
	 * 9 bits a level, and no more than the CPU's physical-address width,
	 * which CPUID reports to the guest as its own.
	 */
	return 1ULL << min_t(unsigned int, 9 * mmu->fmt->levels,
			     boot_cpu_data.x86_phys_bits - PAGE_SHIFT);
}

int hvk_mmu_init(struct hvk_mmu *mmu, const struct hvk_mmu_format *fmt)
{
	if (WARN_ON_ONCE(fmt->levels < 4 || fmt->levels > PT_MAX_LEVELS))
		return -EINVAL;
	mmu->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!mmu->root)
		return -ENOMEM;
	mmu->fmt = fmt;
	mmu->nr_tables = 1;
	spin_lock_init(&mmu->lock);
	return 0;
}

static void mmu_free_table(u64 *table, int level)
{
	unsigned int i;

	for (i = 0; i < PT_ENTRIES; i++) {
		u64 pte = table[i];

		if (!pte)
			continue;
		if (level == 1)
			unpin_user_page(mmu_leaf_page(pte));
		else
			mmu_free_table(mmu_table(pte), level - 1);
	}
	free_page((unsigned long)table);
}

void hvk_mmu_destroy(struct hvk_mmu *mmu)
{
	if (mmu->root)
		mmu_free_table(mmu->root, mmu->fmt->levels);
	mmu->root = NULL;
}

/* Tables a walk from the root to a leaf may need: one per level below it. */
struct mmu_table_cache {
	u64 *pages[PT_MAX_LEVELS - 1];
	unsigned int nr;
};

static int mmu_fill_cache(struct mmu_table_cache *cache)
{
	while (cache->nr < ARRAY_SIZE(cache->pages)) {
		u64 *page = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

		if (!page)
			return -ENOMEM;
		cache->pages[cache->nr++] = page;
	}
	return 0;
}

static void mmu_free_cache(struct mmu_table_cache *cache)
{
	while (cache->nr)
		free_page((unsigned long)cache->pages[--cache->nr]);
}

/* The leaf entry for @gfn, creating tables from @cache on the way. */
static u64 *mmu_leaf(struct hvk_mmu *mmu, u64 gfn,
		     struct mmu_table_cache *cache)
{
	u64 *table = mmu->root;
	int level;

	lockdep_assert_held(&mmu->lock);
	for (level = mmu->fmt->levels; level > 1; level--) {
		u64 *pte = &table[(gfn >> (9 * (level - 1))) & (PT_ENTRIES - 1)];

		if (!*pte) {
			u64 *new = cache->pages[--cache->nr];

			*pte = __pa(new) | mmu->fmt->table;
			mmu->nr_tables++;
		}
		table = mmu_table(*pte);
	}
	return &table[gfn & (PT_ENTRIES - 1)];
}

int hvk_mmu_map(struct hvk_vm *vm, u64 gfn)
{
	struct hvk_mmu *mmu = &vm->mmu;
	struct mmu_table_cache cache = { .nr = 0 };
	const struct hvk_memslot *slot;
	struct page *page;
	unsigned long hva;
	u64 *leaf;
	int r;

	r = mmu_fill_cache(&cache);
	if (r)
		goto out_cache;

	down_read(&vm->slots_lock);
	slot = hvk_find_memslot(vm, gfn);
	if (!slot) {
		r = -ENOENT;
		goto out;
	}
	hva = slot->hva + ((gfn - slot->gfn) << PAGE_SHIFT);
	/* Always writable: read-only slots and dirty logging do not exist. */
	r = pin_user_pages_fast(hva, 1, FOLL_WRITE | FOLL_LONGTERM, &page);
	if (r != 1) {
		r = -EFAULT;
		goto out;
	}
	r = 0;

	spin_lock(&mmu->lock);
	leaf = mmu_leaf(mmu, gfn, &cache);
	if (*leaf) {
		/* Another vCPU mapped it first. */
		unpin_user_page(page);
	} else {
		*leaf = page_to_phys(page) | mmu->fmt->leaf_rw;
		hvk_stat_pages(vm, 1, 1);
	}
	spin_unlock(&mmu->lock);
out:
	up_read(&vm->slots_lock);
out_cache:
	mmu_free_cache(&cache);
	return r;
}

typedef void (*mmu_leaf_fn)(struct hvk_mmu *mmu, u64 *pte);

/* Apply @fn to each non-zero leaf for guest frames [start, end). */
static void mmu_walk_range(struct hvk_mmu *mmu, u64 *table, int level,
			   u64 base, u64 start, u64 end, mmu_leaf_fn fn)
{
	u64 span = 1ULL << (9 * (level - 1));
	unsigned int i;

	for (i = 0; i < PT_ENTRIES; i++) {
		u64 first = base + i * span;
		u64 *pte = &table[i];

		if (first >= end)
			break;
		if (first + span <= start || !*pte)
			continue;
		if (level == 1)
			fn(mmu, pte);
		else
			mmu_walk_range(mmu, mmu_table(*pte), level - 1, first,
				       start, end, fn);
	}
}

static void mmu_unmap_leaf(struct hvk_mmu *mmu, u64 *pte)
{
	*pte &= ~mmu->fmt->present;
	hvk_stat_pages(container_of(mmu, struct hvk_vm, mmu), 1, -1);
}

static void mmu_release_leaf(struct hvk_mmu *mmu, u64 *pte)
{
	unpin_user_page(mmu_leaf_page(*pte));
	*pte = 0;
}

void hvk_mmu_zap_range(struct hvk_vm *vm, u64 gfn, u64 npages)
{
	struct hvk_mmu *mmu = &vm->mmu;

	lockdep_assert_held_write(&vm->slots_lock);
	spin_lock(&mmu->lock);
	mmu_walk_range(mmu, mmu->root, mmu->fmt->levels, 0, gfn, gfn + npages,
		       mmu_unmap_leaf);
	spin_unlock(&mmu->lock);

	/* No CPU may use the old translations once the pages go back. */
	hvk_vm_request_all(vm, HVK_REQ_TLB_FLUSH);

	spin_lock(&mmu->lock);
	mmu_walk_range(mmu, mmu->root, mmu->fmt->levels, 0, gfn, gfn + npages,
		       mmu_release_leaf);
	spin_unlock(&mmu->lock);
}
