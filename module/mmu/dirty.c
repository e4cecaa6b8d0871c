// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page logging (KVM_MEM_LOG_DIRTY_PAGES): a slot that logs maps its
 * pages read-only until the guest writes one; the write fault sets the
 * page's bit in slot->dirty_bitmap and maps it writable (mmu.c), and so do
 * hvk's own writes to guest memory (vm.c).
 *
 * KVM_GET_DIRTY_LOG returns the bitmap.  Without manual protection it also
 * clears it and write-protects the pages it reported, so that the next
 * write is seen again; with KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE user space
 * does that for the pages it chooses with KVM_CLEAR_DIRTY_LOG.  Either way
 * every vCPU's TLB is flushed before the ioctl returns: a page reported
 * clean cannot be written through an old writable translation.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../hvk.h"

void hvk_mark_page_dirty(struct hvk_vm *vm, const struct hvk_memslot *slot,
			 u64 gfn)
{
	if (slot->dirty_bitmap)
		set_bit(gfn - slot->gfn, slot->dirty_bitmap);
}

/* The slot @id names, if it logs dirty pages; the errnos are KVM's. */
static struct hvk_memslot *hvk_dirty_slot(struct hvk_vm *vm, u32 id)
{
	struct hvk_memslot *slot;

	lockdep_assert_held(&vm->slots_lock);
	if (id >> 16 || (id & 0xffff) >= HVK_NR_MEMSLOTS)
		return ERR_PTR(-EINVAL);
	slot = &vm->slots[id & 0xffff];
	if (!slot->npages || !slot->dirty_bitmap)
		return ERR_PTR(-ENOENT);
	return slot;
}

static size_t hvk_dirty_bytes(u64 npages)
{
	return BITS_TO_LONGS(npages) * sizeof(long);
}

int hvk_get_dirty_log(struct hvk_vm *vm, struct kvm_dirty_log __user *argp)
{
	struct kvm_dirty_log log;
	struct hvk_memslot *slot;
	unsigned long *buf = NULL;
	bool changed = false;
	size_t i, bytes = 0;
	int r = 0;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;

	/* Read side: vCPU faults keep setting bits, atomically. */
	down_read(&vm->slots_lock);
	slot = hvk_dirty_slot(vm, log.slot);
	if (IS_ERR(slot)) {
		r = PTR_ERR(slot);
		goto out;
	}
	bytes = hvk_dirty_bytes(slot->npages);
	buf = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < bytes / sizeof(long); i++) {
		unsigned long mask;

		if (vm->dirty_log_manual & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) {
			buf[i] = READ_ONCE(slot->dirty_bitmap[i]);
			continue;
		}
		mask = READ_ONCE(slot->dirty_bitmap[i]) ?
		       xchg(&slot->dirty_bitmap[i], 0) : 0;
		buf[i] = mask;
		if (mask)
			changed |= hvk_mmu_write_protect_mask(vm,
					slot->gfn + i * BITS_PER_LONG, mask);
	}
	if (changed)
		hvk_vm_request_all(vm, HVK_REQ_TLB_FLUSH);
out:
	up_read(&vm->slots_lock);
	if (!r && copy_to_user(log.dirty_bitmap, buf, bytes))
		r = -EFAULT;
	kvfree(buf);
	return r;
}

int hvk_clear_dirty_log(struct hvk_vm *vm,
			struct kvm_clear_dirty_log __user *argp)
{
	struct kvm_clear_dirty_log log;
	struct hvk_memslot *slot;
	unsigned long *buf = NULL;
	bool changed = false;
	size_t i, bytes;
	int r = 0;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	if (log.first_page & (BITS_PER_LONG - 1))
		return -EINVAL;

	down_read(&vm->slots_lock);
	slot = hvk_dirty_slot(vm, log.slot);
	if (IS_ERR(slot)) {
		r = PTR_ERR(slot);
		goto out;
	}
	/* Whole words, except for a range that ends with the slot. */
	if (log.first_page > slot->npages ||
	    log.num_pages > slot->npages - log.first_page ||
	    (log.num_pages < slot->npages - log.first_page &&
	     (log.num_pages & (BITS_PER_LONG - 1)))) {
		r = -EINVAL;
		goto out;
	}
	bytes = hvk_dirty_bytes(log.num_pages);
	buf = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (copy_from_user(buf, log.dirty_bitmap, bytes)) {
		r = -EFAULT;
		goto out;
	}
	/* Bits past the slot's last page do not exist. */
	if (log.num_pages % BITS_PER_LONG)
		buf[bytes / sizeof(long) - 1] &=
			BITMAP_LAST_WORD_MASK(log.num_pages);
	for (i = 0; i < bytes / sizeof(long); i++) {
		size_t word = log.first_page / BITS_PER_LONG + i;
		unsigned long mask = buf[i] & READ_ONCE(slot->dirty_bitmap[word]);

		if (!mask)
			continue;
		atomic_long_andnot(mask, (atomic_long_t *)&slot->dirty_bitmap[word]);
		changed |= hvk_mmu_write_protect_mask(vm,
				slot->gfn + word * BITS_PER_LONG, mask);
	}
	if (changed)
		hvk_vm_request_all(vm, HVK_REQ_TLB_FLUSH);
out:
	up_read(&vm->slots_lock);
	kvfree(buf);
	return r;
}
