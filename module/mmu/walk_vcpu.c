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

/*
 * The walk of hvk_gva_to_gpa(), under slots_lock held for reading (taken
 * once for the whole walk); pages of the guest's tables may be faulted in.
 * Every entry read is recorded in @rec, and @cacheable says whether the
 * record is the whole story: no Accessed or Dirty bit was set, no entry
 * left out.
 */
struct walk_locked {
	struct hvk_vcpu *vcpu;
	struct hvk_walk_record rec;
	bool cacheable;
};

static unsigned long walk_hva(struct hvk_vm *vm, u64 gpa)
{
	const struct hvk_memslot *slot = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);

	return slot ? slot->hva + gpa - (slot->gfn << PAGE_SHIFT) : 0;
}

static int walk_read_pte_locked(void *priv, u64 gpa, u64 *val,
				unsigned int len)
{
	struct walk_locked *wl = priv;
	struct hvk_walk_record *rec = &wl->rec;
	unsigned long hva = walk_hva(wl->vcpu->vm, gpa);
	u32 narrow;

	if (!hva)
		return -EFAULT;
	/* Naturally aligned, so inside one page and one slot. */
	if (len == 8) {
		if (copy_from_user(val, (void __user *)hva, sizeof(*val)))
			return -EFAULT;
	} else {
		if (copy_from_user(&narrow, (void __user *)hva, sizeof(narrow)))
			return -EFAULT;
		*val = narrow;
	}
	if (rec->n >= ARRAY_SIZE(rec->ptes)) {
		wl->cacheable = false;
		return 0;
	}
	rec->ptes[rec->n].hva = hva;
	rec->ptes[rec->n].val = *val;
	rec->ptes[rec->n].size = len;
	rec->n++;
	return 0;
}

static int walk_update_pte_locked(void *priv, u64 gpa, u64 old, u64 new,
				  unsigned int len)
{
	struct walk_locked *wl = priv;
	unsigned long hva = walk_hva(wl->vcpu->vm, gpa);

	/* The record holds the value before the update: not a hit later. */
	wl->cacheable = false;
	if (!hva)
		return -EFAULT;
	return walk_cmpxchg_user(hva, old, new, len);
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

/* The walk's environment but for the callbacks: the vCPU's registers. */
static void walk_env_init(struct hvk_vcpu *vcpu, struct hvk_walk_env *env,
			  const struct hvk_xlate_key *key)
{
	env->cr0 = key->cr0;
	env->cr3 = key->cr3;
	env->cr4 = key->cr4;
	env->efer = key->efer;
	env->ac = key->ac;
	env->gbpages = walk_guest_gbpages(vcpu);
	/* The processor's rules, which its own walks for the guest follow. */
	env->amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		   boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	env->maxphyaddr = boot_cpu_data.x86_phys_bits;
}

/* Everything but the page: paging is on (CR0.PG). */
static void walk_key_init(struct hvk_vcpu *vcpu, struct hvk_xlate_key *key,
			  u64 cr0, u64 gva, u32 access)
{
	key->la = gva & PAGE_MASK;
	key->cr0 = cr0;
	key->cr3 = hvk_vendor->get_cr(vcpu, 3);
	key->cr4 = hvk_vendor->get_cr(vcpu, 4);
	key->efer = hvk_vendor->get_efer(vcpu);
	key->access = access;
	key->ac = vcpu->rflags & X86_EFLAGS_AC;
}

int hvk_gva_to_gpa_atomic(struct hvk_vcpu *vcpu, u64 gva, u32 access,
			  u64 *gpa, u32 *pferr, struct hvk_walk_record *rec)
{
	struct walk_atomic wa = { .vcpu = vcpu, .rec = rec };
	struct hvk_walk_env env = {
		.read_pte = walk_read_pte_atomic,
		.update_pte = walk_update_pte_atomic,
		.priv = &wa,
	};
	struct hvk_xlate_key key;
	u64 cr0 = hvk_vendor->get_cr(vcpu, 0);

	rec->n = 0;
	if (!(cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	walk_key_init(vcpu, &key, cr0, gva, access);
	walk_env_init(vcpu, &env, &key);
	return hvk_walk(&env, gva, access, gpa, pferr);
}

/* --- the translation cache (struct hvk_xlate_cache) ----------------------- */

/* memcmp() without the call; the padding is not compared. */
static bool xlate_key_equal(const struct hvk_xlate_key *a,
			    const struct hvk_xlate_key *b)
{
	return !((a->la ^ b->la) | (a->cr0 ^ b->cr0) | (a->cr3 ^ b->cr3) |
		 (a->cr4 ^ b->cr4) | (a->efer ^ b->efer) |
		 (a->access ^ b->access) | (a->ac ^ b->ac));
}

/*
 * Do the entries @rec names still hold what the walk read?  Then a walk
 * now reads the same entries (each one's place follows from the registers
 * and the entries above it) and gives the same answer.  Single loads, no
 * page faulted in: a page the host has paged out is a miss.  Under
 * slots_lock, with the slots of @rec's time (slots_gen): the host
 * addresses passed access_ok() in copy_from_user() then.
 */
static bool xlate_walk_unchanged(const struct hvk_walk_record *rec)
{
	bool same = true;
	unsigned int i;
	u64 now64;
	u32 now32;

	pagefault_disable();
	__uaccess_begin_nospec();
	for (i = 0; i < rec->n; i++) {
		if (rec->ptes[i].size == 8) {
			unsafe_get_user(now64, (u64 __user *)rec->ptes[i].hva,
					fail);
		} else {
			unsafe_get_user(now32, (u32 __user *)rec->ptes[i].hva,
					fail);
			now64 = now32;
		}
		if (now64 != rec->ptes[i].val) {
			same = false;
			break;
		}
	}
	user_access_end();
	pagefault_enable();
	return same;
fail:
	user_access_end();
	pagefault_enable();
	return false;
}

static bool xlate_lookup(struct hvk_vcpu *vcpu, const struct hvk_xlate_key *key,
			 u64 *gpa)
{
	struct hvk_xlate_cache *c = &vcpu->xlate_cache;
	u64 gen = vcpu->vm->slots_gen;
	unsigned int i;

	for (i = 0; i < HVK_XLATE_ENTRIES; i++) {
		if (!c->e[i].valid || c->e[i].slots_gen != gen ||
		    !xlate_key_equal(&c->e[i].key, key))
			continue;
		if (!xlate_walk_unchanged(&c->e[i].walk)) {
			c->e[i].valid = false;
			return false;
		}
		*gpa = c->e[i].gpa;
		return true;
	}
	return false;
}

void hvk_xlate_reset(struct hvk_vcpu *vcpu)
{
	unsigned int i;

	for (i = 0; i < HVK_XLATE_ENTRIES; i++)
		vcpu->xlate_cache.e[i].valid = false;
}

int hvk_gva_to_gpa(struct hvk_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		   u32 *pferr)
{
	struct hvk_xlate_cache *c = &vcpu->xlate_cache;
	struct hvk_vm *vm = vcpu->vm;
	struct walk_locked wl = { .vcpu = vcpu, .cacheable = true };
	struct hvk_walk_env env = {
		.read_pte = walk_read_pte_locked,
		.update_pte = walk_update_pte_locked,
		.priv = &wl,
	};
	struct hvk_xlate_key key;
	u64 cr0 = hvk_vendor->get_cr(vcpu, 0), page_gpa;
	unsigned int i;
	int r;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	walk_key_init(vcpu, &key, cr0, gva, access);

	down_read(&vm->slots_lock);
	if (xlate_lookup(vcpu, &key, &page_gpa)) {
		up_read(&vm->slots_lock);
		*gpa = page_gpa | offset_in_page(gva);
		return 0;
	}
	walk_env_init(vcpu, &env, &key);
	r = hvk_walk(&env, gva, access, gpa, pferr);
	if (!r && wl.cacheable) {
		i = c->next;
		c->next = (i + 1) % HVK_XLATE_ENTRIES;
		c->e[i].valid = true;
		c->e[i].slots_gen = vm->slots_gen;
		c->e[i].key = key;
		c->e[i].walk = wl.rec;
		c->e[i].gpa = *gpa & PAGE_MASK;
	}
	up_read(&vm->slots_lock);
	return r;
}
