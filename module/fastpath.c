// SPDX-License-Identifier: GPL-2.0
/*
 * The exit fast path.  Some exits need neither user space nor anything that
 * sleeps: CPUID, VMCALL/VMMCALL, RDMSR and WRMSR of MSRs the core keeps in
 * memory.  The backend's ->fastpath handles them right after ->run, with
 * interrupts still off, and the guest is entered again at once: no trip
 * through the run loop (interrupts on, preemption point, signal check, the
 * next entry's preparation).  Entry and exit themselves are unchanged, so
 * every mitigation ->run applies (SPEC_CTRL, RSB filling, the L1D flush on
 * VMX) is applied to each of these entries as to any other.
 *
 * Only the plain case is fast: no debugger (single step, breakpoints),
 * no guest TF, no event pending, injected or being delivered, no interrupt
 * window asked for by user space.  After the instruction, a request, a
 * signal or a reschedule sends the vCPU back through the run loop, which
 * does what they need; the exit counts as handled.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>

#include "hvk.h"

/*
 * No debugger, no TF, no event to inject or wait for: nothing but the
 * instruction is to be done for an exit, and an entry arms no event and
 * opens no window (hvk_events_before_entry()), so that the next entry
 * needs no preparation either: VM exits clear VMX's injection field, and
 * SVM's EVENTINJ was left empty.
 */
bool hvk_fastpath_allowed(struct hvk_vcpu *vcpu)
{
	const struct hvk_events *e = &vcpu->events;

	if (vcpu->guest_debug || vcpu->debug_tf_set ||
	    (vcpu->rflags & X86_EFLAGS_TF))
		return false;
	if (e->exception.pending || e->exception.injected ||
	    e->interrupt.injected || e->nmi.pending || e->nmi.injected)
		return false;
	return !READ_ONCE(vcpu->run->request_interrupt_window);
}

/*
 * After each exit of a quiet entry, what that exit may have changed: the
 * guest's TF, an event whose delivery it cut short.  The debugger, user
 * space's window and pending NMIs change only in ioctls, not while the
 * vCPU runs; an NMI or interrupt for it from elsewhere comes as a request.
 */
static bool hvk_fastpath_still_allowed(struct hvk_vcpu *vcpu)
{
	const struct hvk_events *e = &vcpu->events;

	return !(vcpu->rflags & X86_EFLAGS_TF) && !e->exception.pending &&
	       !e->exception.injected && !e->interrupt.injected &&
	       !e->nmi.injected;
}

/* Work that the run loop does between entries (hvk_vcpu_enter_guest()). */
static bool hvk_fastpath_work_pending(struct hvk_vcpu *vcpu)
{
	return READ_ONCE(vcpu->requests) || signal_pending(current) ||
	       need_resched();
}

enum hvk_fastpath hvk_exit_fastpath(struct hvk_vcpu *vcpu)
{
	if (!hvk_fastpath_still_allowed(vcpu) || !hvk_vendor->fastpath(vcpu))
		return HVK_FASTPATH_NONE;
	if (hvk_fastpath_work_pending(vcpu))
		return HVK_FASTPATH_DONE;
	return HVK_FASTPATH_REENTER;
}

/* memcmp() without the call and the byte loop its tail may run. */
static bool hvk_fetch_key_equal(const struct hvk_fetch_key *a,
				const struct hvk_fetch_key *b)
{
	return !((a->la ^ b->la) | (a->cr0 ^ b->cr0) | (a->cr3 ^ b->cr3) |
		 (a->cr4 ^ b->cr4) | (a->efer ^ b->efer) |
		 (a->access ^ b->access) | (a->mode ^ b->mode));
}

/*
 * Is the cached fetch still what a walk and a decode would give?  The walk
 * is a function of the paging registers, the access and the entries it
 * reads, the decode of the mode and the bytes: if none changed, neither did
 * the length.  The memslot generation vouches for the host addresses, which
 * passed access_ok() when the cache was filled: single loads, no page
 * faulted in.
 */
static bool hvk_fetch_cache_hit(struct hvk_vcpu *vcpu,
				const struct hvk_fetch_key *key)
{
	const struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	unsigned int i;
	u64 now64;
	u32 now32;
	u8 now8;

	if (!c->valid || c->slots_gen != READ_ONCE(vcpu->vm->slots_gen) ||
	    !hvk_fetch_key_equal(&c->key, key))
		return false;
	pagefault_disable();
	__uaccess_begin_nospec();
	for (i = 0; i < c->walk.n; i++) {
		if (c->walk.ptes[i].size == 8) {
			unsafe_get_user(now64,
					(u64 __user *)c->walk.ptes[i].hva, fail);
		} else {
			unsafe_get_user(now32,
					(u32 __user *)c->walk.ptes[i].hva, fail);
			now64 = now32;
		}
		if (now64 != c->walk.ptes[i].val)
			goto fail;
	}
	for (i = 0; i < c->len; i++) {
		unsafe_get_user(now8, (u8 __user *)c->insn_hva + i, fail);
		if (now8 != c->bytes[i])
			goto fail;
	}
	user_access_end();
	pagefault_enable();
	/* No slot changed while the loads ran (see hvk_fast_insn_len()). */
	smp_rmb();
	return c->slots_gen == READ_ONCE(vcpu->vm->slots_gen);
fail:
	user_access_end();
	pagefault_enable();
	return false;
}

/* Walk and decode, with interrupts off; fill the cache.  0 if it cannot. */
static unsigned int hvk_fetch_decode(struct hvk_vcpu *vcpu,
				     const struct hvk_fetch_key *key)
{
	struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	struct hvk_insn insn;
	unsigned int first, i;
	u32 pferr;
	u64 gpa;

	c->valid = false;
	/* An instruction that crosses a page is left to the slow path. */
	first = min_t(unsigned int, sizeof(c->bytes),
		      PAGE_SIZE - offset_in_page(key->la));
	if (hvk_gva_to_gpa_atomic(vcpu, key->la, key->access, &gpa, &pferr,
				  &c->walk) ||
	    hvk_read_guest_atomic(vcpu->vm, gpa, c->bytes, first,
				  &c->insn_hva) ||
	    hvk_insn_decode(&insn, c->bytes, first, key->mode))
		return 0;
	for (i = 0; i < c->walk.n; i++)
		if (!access_ok((void __user *)c->walk.ptes[i].hva, 8))
			return 0;
	if (!access_ok((void __user *)c->insn_hva, insn.len))
		return 0;
	c->key = *key;
	c->len = insn.len;
	c->slots_gen = vcpu->vm->slots_gen;
	c->valid = true;
	return insn.len;
}

unsigned int hvk_fast_insn_len(struct hvk_vcpu *vcpu,
			       const struct hvk_fetch_key *key,
			       const u8 *opcode, unsigned int opcode_len)
{
	struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	unsigned int len, i;

	/*
	 * A hit needs no slots_lock: a slot is deleted or moved only after
	 * its mappings are zapped, and the zap waits for every vCPU in guest
	 * mode, this one included, to take its request with interrupts on
	 * (hvk_vm_request_all()).  So the slots the cache read stay until
	 * this vCPU leaves the fast path; a slot update without a zap (no
	 * page of it mapped) shows as a new slots_gen, checked before and
	 * after the loads.  A miss reads the slots themselves.
	 */
	if (hvk_fetch_cache_hit(vcpu, key)) {
		len = c->len;
	} else {
		if (!down_read_trylock(&vcpu->vm->slots_lock))
			return 0;
		len = hvk_fetch_decode(vcpu, key);
		up_read(&vcpu->vm->slots_lock);
	}
	/*
	 * The bytes must be the instruction that exits, not one the guest
	 * (another vCPU) wrote there since.
	 */
	if (len < opcode_len)
		return 0;
	for (i = 0; i < opcode_len; i++)
		if (c->bytes[len - opcode_len + i] != opcode[i])
			return 0;
	return len;
}

/*
 * MSRs whose emulation only reads or writes struct hvk_msrs: no guest
 * memory, no TSC, no request, no exit to user space.  A read or write that
 * fails (#GP, or user space's MSR exit) goes the slow way, which redoes it.
 */
static bool hvk_msr_is_fast(u32 msr)
{
	switch (msr) {
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_CR_PAT:
	case MSR_MTRRcap:
	case MSR_MTRRdefType:
	case MSR_MTRRfix64K_00000:
	case MSR_MTRRfix16K_80000:
	case MSR_MTRRfix16K_A0000:
	case MSR_MTRRfix4K_C0000 ... MSR_MTRRfix4K_F8000:
	/* The variable-range MTRRs' bases and masks (SDM Vol. 3, 13.11.2.3). */
	case 0x200 ... 0x200 + 2 * HVK_MTRR_VAR - 1:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
		return true;
	default:
		return false;
	}
}

bool hvk_fast_msr(struct hvk_vcpu *vcpu, bool write, u64 next_rip)
{
	u32 msr = vcpu->regs[HVK_RCX];
	u64 val;

	if (!hvk_msr_is_fast(msr))
		return false;
	if (write) {
		val = (u32)vcpu->regs[HVK_RAX] | (vcpu->regs[HVK_RDX] << 32);
		if (hvk_set_msr(vcpu, msr, val, false))
			return false;
	} else {
		if (hvk_get_msr(vcpu, msr, &val, false))
			return false;
		vcpu->regs[HVK_RAX] = (u32)val;
		vcpu->regs[HVK_RDX] = val >> 32;
	}
	vcpu->rip = next_rip;
	return true;
}
