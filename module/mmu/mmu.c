// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level page tables (EPT on Intel, NPT on AMD), built on demand from
 * the memslots: a guest access to an unmapped guest-physical page exits
 * (EPT violation, nested page fault) and hvk_mmu_fault() maps the host page
 * behind it, with a 2 MiB or 1 GiB leaf when the host maps the memory that
 * way and the slot's alignment allows.
 *
 * The host stays in charge of its memory.  A leaf holds no reference on the
 * page it maps: before the host unmaps, moves, swaps out, merges or splits
 * anything in the VM's address space it calls the MMU notifier, which zaps
 * the leaves for that range and flushes every vCPU's TLB before returning.
 * A fault maps nothing it looked up before an invalidation that may cover
 * it (mmu->invalidate_seq and the active range, checked under mmu->lock).
 *
 * Invariants:
 * - The tables change under mmu->lock.  Entries above the leaves are zero,
 *   present tables or huge leaves; tables are freed with the VM.
 * - A fault reads the slots under vm->slots_lock held for reading; slot
 *   changes hold it for writing and mmu->lock, so the notifier, which may
 *   not sleep, reads the slots under mmu->lock alone.
 * - A leaf is writable only in a slot that is neither read-only nor logging
 *   dirty pages, or, when logging, after its page was marked dirty.
 */
#include <linux/gfp.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>
#include <linux/vmstat.h>
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

static u64 level_pages(int level)
{
	return 1ULL << (9 * (level - 1));
}

static bool mmu_is_leaf(const struct hvk_mmu *mmu, u64 pte, int level)
{
	return level == 1 || (pte & mmu->fmt->huge);
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

/* Tables count as the host's secondary page tables (SecPageTables). */
static u64 *mmu_alloc_table(void)
{
	u64 *table = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (table)
		mod_lruvec_page_state(virt_to_page(table),
				      NR_SECONDARY_PAGETABLE, 1);
	return table;
}

static void mmu_free_table_page(u64 *table)
{
	mod_lruvec_page_state(virt_to_page(table), NR_SECONDARY_PAGETABLE, -1);
	free_page((unsigned long)table);
}

static void mmu_free_tables(const struct hvk_mmu *mmu, u64 *table, int level)
{
	unsigned int i;

	for (i = 0; level > 1 && i < PT_ENTRIES; i++)
		if (table[i] && !mmu_is_leaf(mmu, table[i], level))
			mmu_free_tables(mmu, mmu_table(table[i]), level - 1);
	mmu_free_table_page(table);
}

/*
 * The vCPU's spare table pages: a walk from the root to a leaf may need one
 * per level below it.  Filled before a fault takes mmu->lock, kept between
 * faults (most faults use none: zeroing four pages each time cost more than
 * the rest of the fault), freed with the vCPU.
 */
static int mmu_fill_cache(struct hvk_mmu_cache *cache)
{
	while (cache->nr < ARRAY_SIZE(cache->pages)) {
		u64 *page = mmu_alloc_table();

		if (!page)
			return -ENOMEM;
		cache->pages[cache->nr++] = page;
	}
	return 0;
}

void hvk_mmu_free_cache(struct hvk_mmu_cache *cache)
{
	while (cache->nr)
		mmu_free_table_page(cache->pages[--cache->nr]);
}

/* --- walking a range of guest frames ------------------------------------ */

/*
 * Called on each leaf overlapping the range, under mmu->lock; returns true
 * when it changed the leaf so that the TLBs need a flush.
 */
typedef bool (*mmu_leaf_fn)(struct hvk_mmu *mmu, u64 *pte, int level);

static bool mmu_walk_range(struct hvk_mmu *mmu, u64 *table, int level,
			   u64 base, u64 start, u64 end, mmu_leaf_fn fn)
{
	u64 span = level_pages(level);
	unsigned int i = start > base ? (start - base) / span : 0;
	bool changed = false;

	for (; i < PT_ENTRIES && base + i * span < end; i++) {
		u64 *pte = &table[i];

		if (!*pte)
			continue;
		if (mmu_is_leaf(mmu, *pte, level))
			changed |= fn(mmu, pte, level);
		else
			changed |= mmu_walk_range(mmu, mmu_table(*pte),
						  level - 1, base + i * span,
						  start, end, fn);
	}
	return changed;
}

static bool mmu_range(struct hvk_mmu *mmu, u64 start, u64 end, mmu_leaf_fn fn)
{
	lockdep_assert_held(&mmu->lock);
	return mmu_walk_range(mmu, mmu->root, mmu->fmt->levels, 0, start, end,
			      fn);
}

static struct hvk_vm *mmu_vm(struct hvk_mmu *mmu)
{
	return container_of(mmu, struct hvk_vm, mmu);
}

static bool mmu_zap_leaf(struct hvk_mmu *mmu, u64 *pte, int level)
{
	*pte = 0;
	hvk_stat_pages(mmu_vm(mmu), level, -1);
	return true;
}

static bool mmu_protect_leaf(struct hvk_mmu *mmu, u64 *pte, int level)
{
	/* A huge leaf goes: dirty logging maps 4 KiB pages. */
	if (level > 1)
		return mmu_zap_leaf(mmu, pte, level);
	if (!(*pte & mmu->fmt->writable))
		return false;
	*pte &= ~mmu->fmt->writable;
	return true;
}

static bool mmu_zap_huge_leaf(struct hvk_mmu *mmu, u64 *pte, int level)
{
	return level > 1 && mmu_zap_leaf(mmu, pte, level);
}

static void mmu_flush(struct hvk_vm *vm, bool changed)
{
	/* No vCPU may use an old translation once this returns. */
	if (changed)
		hvk_vm_request_all(vm, HVK_REQ_TLB_FLUSH);
}

void hvk_mmu_zap_range(struct hvk_vm *vm, u64 gfn, u64 npages)
{
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed;

	spin_lock(&mmu->lock);
	changed = mmu_range(mmu, gfn, gfn + npages, mmu_zap_leaf);
	spin_unlock(&mmu->lock);
	mmu_flush(vm, changed);
}

void hvk_mmu_write_protect(struct hvk_vm *vm, u64 gfn, u64 npages,
			   bool huge_only)
{
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed;

	spin_lock(&mmu->lock);
	changed = mmu_range(mmu, gfn, gfn + npages,
			    huge_only ? mmu_zap_huge_leaf : mmu_protect_leaf);
	spin_unlock(&mmu->lock);
	mmu_flush(vm, changed);
}

bool hvk_mmu_write_protect_mask(struct hvk_vm *vm, u64 gfn,
				unsigned long mask)
{
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed = false;

	spin_lock(&mmu->lock);
	while (mask) {
		unsigned int bit = __ffs(mask);

		changed |= mmu_range(mmu, gfn + bit, gfn + bit + 1,
				     mmu_protect_leaf);
		mask &= mask - 1;
	}
	spin_unlock(&mmu->lock);
	return changed;
}

/* --- the MMU notifier ---------------------------------------------------- */

static struct hvk_vm *notifier_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct hvk_vm, mmu.notifier);
}

/* Zap every leaf backed by host addresses [start, end); under mmu->lock. */
static bool mmu_zap_hva_range(struct hvk_vm *vm, unsigned long start,
			      unsigned long end)
{
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed = false;
	unsigned int i;

	for (i = 0; i < vm->slots_end; i++) {
		const struct hvk_memslot *s = &vm->slots[i];
		unsigned long s_end = s->hva + (s->npages << PAGE_SHIFT);
		unsigned long lo, hi;

		if (!s->npages || start >= s_end || end <= s->hva)
			continue;
		lo = max(start, s->hva);
		hi = min(end, s_end);
		changed |= mmu_range(mmu, s->gfn + ((lo - s->hva) >> PAGE_SHIFT),
				     s->gfn + ((hi - s->hva + PAGE_SIZE - 1) >>
					       PAGE_SHIFT),
				     mmu_zap_leaf);
	}
	return changed;
}

static int hvk_mmu_invalidate_range_start(struct mmu_notifier *mn,
					  const struct mmu_notifier_range *range)
{
	struct hvk_vm *vm = notifier_to_vm(mn);
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed;

	/*
	 * May be called where sleeping is not allowed (the OOM reaper):
	 * nothing here sleeps, and waiting for the vCPUs to leave guest mode
	 * is bounded.
	 */
	spin_lock(&mmu->lock);
	if (!mmu->invalidate_active++) {
		mmu->invalidate_start = range->start;
		mmu->invalidate_end = range->end;
	} else {
		mmu->invalidate_start = min(mmu->invalidate_start,
					    range->start);
		mmu->invalidate_end = max(mmu->invalidate_end, range->end);
	}
	changed = mmu_zap_hva_range(vm, range->start, range->end);
	spin_unlock(&mmu->lock);
	mmu_flush(vm, changed);
	return 0;
}

static void hvk_mmu_invalidate_range_end(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct hvk_mmu *mmu = &notifier_to_vm(mn)->mmu;

	spin_lock(&mmu->lock);
	mmu->invalidate_seq++;
	if (!WARN_ON_ONCE(!mmu->invalidate_active))
		mmu->invalidate_active--;
	spin_unlock(&mmu->lock);
}

/* The address space is going away: nothing of it may stay mapped. */
static void hvk_mmu_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hvk_vm *vm = notifier_to_vm(mn);
	struct hvk_mmu *mmu = &vm->mmu;
	bool changed;

	spin_lock(&mmu->lock);
	changed = mmu_zap_hva_range(vm, 0, ULONG_MAX);
	mmu->invalidate_seq++;
	spin_unlock(&mmu->lock);
	mmu_flush(vm, changed);
}

static const struct mmu_notifier_ops hvk_mmu_notifier_ops = {
	.invalidate_range_start = hvk_mmu_invalidate_range_start,
	.invalidate_range_end = hvk_mmu_invalidate_range_end,
	.release = hvk_mmu_release,
};

/* Has the host changed, or is it changing, what @hva maps since @seq? */
static bool mmu_invalidated(const struct hvk_mmu *mmu, unsigned long seq,
			    unsigned long hva)
{
	lockdep_assert_held(&mmu->lock);
	if (mmu->invalidate_active && hva >= mmu->invalidate_start &&
	    hva < mmu->invalidate_end)
		return true;
	return mmu->invalidate_seq != seq;
}

/* --- faults --------------------------------------------------------------- */

/*
 * The level at which the host maps @hva: 3 for a 1 GiB leaf, 2 for 2 MiB,
 * 1 otherwise.  The walk runs with interrupts off, as the kernel's own
 * lockless walks do, so that no table goes away under it; the answer stays
 * true while no invalidation of @hva starts, which the caller ensures under
 * mmu->lock.
 */
static int mmu_host_level(struct mm_struct *mm, unsigned long hva)
{
	unsigned long flags;
	int level = 1;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (pgd_none(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || !p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		level = 3;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_none(pmd) || !pmd_present(pmd))
		goto out;
	if (pmd_leaf(pmd))
		level = 2;
out:
	local_irq_restore(flags);
	return level;
}

/* The largest leaf the slot allows at @gfn: aligned like the host, inside. */
static int mmu_slot_level(const struct hvk_mmu *mmu,
			  const struct hvk_memslot *slot, u64 gfn)
{
	unsigned long hva_pfn = slot->hva >> PAGE_SHIFT;
	int level;

	if (slot->flags & KVM_MEM_LOG_DIRTY_PAGES)
		return 1;
	for (level = mmu->fmt->max_leaf; level > 1; level--) {
		u64 n = level_pages(level), first = gfn & ~(n - 1);

		if (((slot->gfn ^ hva_pfn) & (n - 1)) == 0 &&
		    first >= slot->gfn && first + n <= slot->gfn + slot->npages)
			break;
	}
	return level;
}

/*
 * Install a leaf for @gfn at @level (or lower where tables already exist
 * below), mapping host frame @pfn, the frame of @gfn itself.
 */
static void mmu_install(struct hvk_vcpu *vcpu, u64 gfn, int level, u64 pfn,
			bool writable, struct hvk_mmu_cache *cache)
{
	struct hvk_mmu *mmu = &vcpu->vm->mmu;
	const struct hvk_mmu_format *fmt = mmu->fmt;
	u64 *table = mmu->root, *pte, new;
	int l;

	lockdep_assert_held(&mmu->lock);
	for (l = fmt->levels; ; l--) {
		pte = &table[(gfn >> (9 * (l - 1))) & (PT_ENTRIES - 1)];
		if (l == level) {
			if (!*pte || mmu_is_leaf(mmu, *pte, l))
				break;
			/* Smaller mappings exist here: add one more. */
			level = 1;
		}
		if (*pte && mmu_is_leaf(mmu, *pte, l)) {
			/*
			 * A huge leaf with too few rights (read-only): the
			 * same frames, so stale TLB entries are harmless,
			 * but this vCPU must not keep using them.
			 */
			mmu_zap_leaf(mmu, pte, l);
			set_bit(HVK_REQ_TLB_FLUSH, &vcpu->requests);
		}
		if (!*pte) {
			*pte = __pa(cache->pages[--cache->nr]) | fmt->table;
			mmu->nr_tables++;
		}
		table = mmu_table(*pte);
	}

	new = fmt->leaf | (writable ? fmt->writable : 0);
	if (level > 1) {
		pfn &= ~(level_pages(level) - 1);
		new |= fmt->huge;
	}
	new |= pfn << PAGE_SHIFT;
	if (!*pte)
		hvk_stat_pages(vcpu->vm, level, 1);
	WRITE_ONCE(*pte, new);
}

int hvk_mmu_fault(struct hvk_vcpu *vcpu, u64 gpa, bool write)
{
	struct hvk_vm *vm = vcpu->vm;
	struct hvk_mmu *mmu = &vm->mmu;
	struct hvk_mmu_cache *cache = &vcpu->mmu_cache;
	u64 gfn = gpa >> PAGE_SHIFT;
	const struct hvk_memslot *slot;
	unsigned long hva, seq;
	struct page *page;
	bool writable;
	int level, r;

	r = mmu_fill_cache(cache);
	if (r)
		return r;

	down_read(&vm->slots_lock);
	slot = hvk_find_memslot(vm, gfn);
	if (!slot) {
		r = -ENOENT;
		goto out;
	}
	if (write && (slot->flags & KVM_MEM_READONLY)) {
		r = -EROFS;
		goto out;
	}
	hva = slot->hva + ((gfn - slot->gfn) << PAGE_SHIFT);

	seq = READ_ONCE(mmu->invalidate_seq);
	/* Pairs with the lock around the increment: look up after reading. */
	smp_rmb();

	/*
	 * Writable when the access writes; for a read, only if the page is
	 * already writable in the host, so that reading never allocates or
	 * breaks copy-on-write sharing (zero page, KSM).  A slot that logs
	 * dirty pages maps writable only for a write, which marks the page.
	 */
	writable = write;
	if (write) {
		r = get_user_pages_fast(hva, 1, FOLL_WRITE, &page);
	} else if (!(slot->flags & (KVM_MEM_READONLY |
				    KVM_MEM_LOG_DIRTY_PAGES)) &&
		   get_user_page_fast_only(hva, FOLL_WRITE, &page)) {
		writable = true;
		r = 1;
	} else {
		r = get_user_pages_fast(hva, 1, 0, &page);
	}
	if (r != 1) {
		r = r == -ENOMEM ? r : -EFAULT;
		goto out;
	}
	r = 0;
	if (writable)
		set_page_dirty_lock(page);

	spin_lock(&mmu->lock);
	/* The host changed the mapping meanwhile: let the guest fault again. */
	if (!mmu_invalidated(mmu, seq, hva)) {
		level = min(mmu_slot_level(mmu, slot, gfn),
			    mmu_host_level(vm->mm, hva));
		mmu_install(vcpu, gfn, level, page_to_pfn(page), writable,
			    cache);
		/*
		 * Under the lock, after the leaf: a dirty-log reader that
		 * clears the bit then write-protects the page either sees
		 * this bit or removes this leaf's write access.
		 */
		if (writable)
			hvk_mark_page_dirty(vm, slot, gfn);
	}
	spin_unlock(&mmu->lock);
	put_page(page);
out:
	up_read(&vm->slots_lock);
	return r;
}

/* --- the VM's tables ------------------------------------------------------ */

int hvk_mmu_init(struct hvk_vm *vm)
{
	const struct hvk_mmu_format *fmt = hvk_vendor->mmu_format;
	struct hvk_mmu *mmu = &vm->mmu;
	int r;

	BUILD_BUG_ON(PT_MAX_LEVELS - 1 > HVK_MMU_CACHE_PAGES);
	if (WARN_ON_ONCE(fmt->levels < 4 || fmt->levels > PT_MAX_LEVELS ||
			 fmt->max_leaf < 1 || fmt->max_leaf > 3))
		return -EINVAL;
	mmu->fmt = fmt;
	spin_lock_init(&mmu->lock);
	mmu->root = mmu_alloc_table();
	if (!mmu->root)
		return -ENOMEM;
	mmu->nr_tables = 1;

	mmu->notifier.ops = &hvk_mmu_notifier_ops;
	r = mmu_notifier_register(&mmu->notifier, vm->mm);
	if (r)
		return r;
	mmu->notifier_registered = true;
	return 0;
}

void hvk_mmu_detach(struct hvk_vm *vm)
{
	struct hvk_mmu *mmu = &vm->mmu;

	/* After this, no callback runs: the tables are the VM's alone. */
	if (mmu->notifier_registered)
		mmu_notifier_unregister(&mmu->notifier, vm->mm);
	mmu->notifier_registered = false;
}

void hvk_mmu_destroy(struct hvk_vm *vm)
{
	struct hvk_mmu *mmu = &vm->mmu;

	hvk_mmu_detach(vm);
	if (mmu->root)
		mmu_free_tables(mmu, mmu->root, mmu->fmt->levels);
	mmu->root = NULL;
}
