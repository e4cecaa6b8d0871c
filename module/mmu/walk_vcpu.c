// SPDX-License-Identifier: GPL-2.0
/*
 * The page-table walker (walk.c) bound to a vCPU: its paging registers, and
 * its VM's memory through the host mappings of the memslots.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "../hvk.h"

static int walk_read_pte(void *priv, u64 gpa, u64 *val, unsigned int len)
{
	struct hvk_vcpu *vcpu = priv;
	u32 narrow;
	int r;

	if (len == 8)
		return hvk_read_guest(vcpu->vm, gpa, val, sizeof(*val));
	r = hvk_read_guest(vcpu->vm, gpa, &narrow, sizeof(narrow));
	*val = narrow;
	return r;
}

/*
 * Compare and exchange @len bytes at the user address @hva, as the
 * processor's locked update of a paging-structure entry.  The entry is
 * naturally aligned in guest memory and memslots are page-aligned, so it
 * never crosses a page.
 */
static int walk_cmpxchg_user(unsigned long hva, u64 old, u64 new,
			     unsigned int len)
{
	int r;

	if (len == 8) {
		u64 __user *p = (u64 __user *)hva;

		if (!access_ok(p, sizeof(*p)))
			return -EFAULT;
		r = __try_cmpxchg_user(p, &old, new, fault8);
	} else {
		u32 __user *p = (u32 __user *)hva;
		u32 old32 = old;

		if (!access_ok(p, sizeof(*p)))
			return -EFAULT;
		r = __try_cmpxchg_user(p, &old32, (u32)new, fault4);
	}
	/* 0: exchanged, 1: the value differed, -EFAULT. */
	if (r > 0)
		return -EAGAIN;
	return r;
}

static int walk_update_pte(void *priv, u64 gpa, u64 old, u64 new,
			   unsigned int len)
{
	struct hvk_vm *vm = ((struct hvk_vcpu *)priv)->vm;
	const struct hvk_memslot *slot;
	int r = -EFAULT;

	down_read(&vm->slots_lock);
	slot = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);
	if (slot)
		r = walk_cmpxchg_user(slot->hva + gpa -
				      (slot->gfn << PAGE_SHIFT), old, new, len);
	up_read(&vm->slots_lock);
	return r;
}

static bool walk_guest_gbpages(struct hvk_vcpu *vcpu)
{
	u32 regs[4];

	hvk_cpuid(vcpu, 0x80000001, 0, regs);
	return regs[3] & BIT(26);	/* EDX.Page1GB */
}

u32 hvk_cpl_access(struct hvk_vcpu *vcpu)
{
	struct kvm_segment ss;

	/* CPL is SS.DPL, in every mode (SDM Vol. 3, 5.5). */
	hvk_vendor->get_segment(vcpu, &ss, HVK_SREG_SS);
	return ss.dpl == 3 ? HVK_PF_USER : 0;
}

/*
 * The fast path's accesses, with interrupts off and slots_lock held for
 * reading (taken with a trylock): nothing may sleep or fault a page in.  A
 * page the host has not mapped fails the access, and the exit goes the
 * slow way, which can wait.  *@hva: where the bytes were read.
 */
int hvk_read_guest_atomic(struct hvk_vm *vm, u64 gpa, void *buf,
			  unsigned int len, unsigned long *hva)
{
	const struct hvk_memslot *s;
	int r = -EFAULT;

	lockdep_assert_held_read(&vm->slots_lock);
	if (offset_in_page(gpa) + len > PAGE_SIZE)
		return -EFAULT;
	s = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);
	if (!s)
		return -EFAULT;
	*hva = s->hva + (gpa - (s->gfn << PAGE_SHIFT));
	pagefault_disable();
	if (!__copy_from_user_inatomic(buf, (void __user *)*hva, len))
		r = 0;
	pagefault_enable();
	return r;
}

struct walk_atomic {
	struct hvk_vcpu *vcpu;
	struct hvk_walk_record *rec;
};

static int walk_read_pte_atomic(void *priv, u64 gpa, u64 *val,
				unsigned int len)
{
	struct walk_atomic *wa = priv;
	struct hvk_walk_record *rec = wa->rec;
	unsigned long hva;
	u32 narrow;
	int r;

	if (len == 8) {
		r = hvk_read_guest_atomic(wa->vcpu->vm, gpa, val, 8, &hva);
	} else {
		r = hvk_read_guest_atomic(wa->vcpu->vm, gpa, &narrow,
					  sizeof(narrow), &hva);
		*val = narrow;
	}
	if (r)
		return r;
	if (WARN_ON_ONCE(rec->n >= ARRAY_SIZE(rec->ptes)))
		return -EIO;
	rec->ptes[rec->n].hva = hva;
	rec->ptes[rec->n].val = *val;
	rec->ptes[rec->n].size = len;
	rec->n++;
	return 0;
}

/* Setting an Accessed or Dirty bit is left to the slow path. */
static int walk_update_pte_atomic(void *priv, u64 gpa, u64 old, u64 new,
				  unsigned int len)
{
	return -EBUSY;
}

static int gva_to_gpa(struct hvk_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		      u32 *pferr, struct hvk_walk_record *rec)
{
	struct walk_atomic wa = { .vcpu = vcpu, .rec = rec };
	struct hvk_walk_env env = {
		.cr0 = hvk_vendor->get_cr(vcpu, 0),
		.read_pte = rec ? walk_read_pte_atomic : walk_read_pte,
		.update_pte = rec ? walk_update_pte_atomic : walk_update_pte,
		.priv = rec ? (void *)&wa : vcpu,
	};

	if (!(env.cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	env.cr3 = hvk_vendor->get_cr(vcpu, 3);
	env.cr4 = hvk_vendor->get_cr(vcpu, 4);
	env.efer = hvk_vendor->get_efer(vcpu);
	env.ac = vcpu->rflags & X86_EFLAGS_AC;
	env.gbpages = walk_guest_gbpages(vcpu);
	/* The processor's rules, which its own walks for the guest follow. */
	env.amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		  boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	env.maxphyaddr = boot_cpu_data.x86_phys_bits;
	return hvk_walk(&env, gva, access, gpa, pferr);
}

int hvk_gva_to_gpa(struct hvk_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		   u32 *pferr)
{
	return gva_to_gpa(vcpu, gva, access, gpa, pferr, NULL);
}

int hvk_gva_to_gpa_atomic(struct hvk_vcpu *vcpu, u64 gva, u32 access,
			  u64 *gpa, u32 *pferr, struct hvk_walk_record *rec)
{
	rec->n = 0;
	return gva_to_gpa(vcpu, gva, access, gpa, pferr, rec);
}
