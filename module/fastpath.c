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
#include <asm/processor-flags.h>

#include "hvk.h"

/* Nothing but the instruction itself is to be done for this exit. */
static bool hvk_fastpath_allowed(struct hvk_vcpu *vcpu)
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

/* Work that the run loop does between entries (hvk_vcpu_enter_guest()). */
static bool hvk_fastpath_work_pending(struct hvk_vcpu *vcpu)
{
	return READ_ONCE(vcpu->requests) || signal_pending(current) ||
	       need_resched();
}

enum hvk_fastpath hvk_exit_fastpath(struct hvk_vcpu *vcpu)
{
	if (!hvk_fastpath_allowed(vcpu) || !hvk_vendor->fastpath(vcpu))
		return HVK_FASTPATH_NONE;
	/* What hvk_instruction_done() does when neither TF nor a debugger. */
	hvk_vendor->end_instruction(vcpu);
	if (hvk_fastpath_work_pending(vcpu))
		return HVK_FASTPATH_DONE;
	return HVK_FASTPATH_REENTER;
}

/* Do @len bytes at the user address @hva still read as @bytes? */
static bool hvk_fast_same(unsigned long hva, const void *bytes,
			  unsigned int len)
{
	u8 now[15];
	bool same;

	pagefault_disable();
	same = !__copy_from_user_inatomic(now, (void __user *)hva, len) &&
	       !memcmp(now, bytes, len);
	pagefault_enable();
	return same;
}

/*
 * Is the cached fetch still what a walk and a decode would give?  The walk
 * is a function of the paging registers, the access and the entries it
 * reads, the decode of the mode and the bytes: if none changed, neither did
 * the length.  The memslot generation vouches for the host addresses.
 */
static bool hvk_fetch_cache_hit(struct hvk_vcpu *vcpu,
				const struct hvk_fetch_cache *key)
{
	const struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	unsigned int i;

	if (!c->valid || c->slots_gen != vcpu->vm->slots_gen ||
	    c->la != key->la || c->mode != key->mode ||
	    c->access != key->access || c->cr0 != key->cr0 ||
	    c->cr3 != key->cr3 || c->cr4 != key->cr4 || c->efer != key->efer)
		return false;
	for (i = 0; i < c->walk.n; i++) {
		u64 val = c->walk.ptes[i].val;

		if (!hvk_fast_same(c->walk.ptes[i].hva, &val,
				   c->walk.ptes[i].size))
			return false;
	}
	return hvk_fast_same(c->insn_hva, c->bytes, c->len);
}

/* Walk and decode, with interrupts off; fill the cache.  0 if it cannot. */
static unsigned int hvk_fetch_decode(struct hvk_vcpu *vcpu,
				     struct hvk_fetch_cache *key)
{
	struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	struct hvk_insn insn;
	unsigned int first;
	u32 pferr;
	u64 gpa;

	c->valid = false;
	/* An instruction that crosses a page is left to the slow path. */
	first = min_t(unsigned int, sizeof(key->bytes),
		      PAGE_SIZE - offset_in_page(key->la));
	if (hvk_gva_to_gpa_atomic(vcpu, key->la, key->access, &gpa, &pferr,
				  &key->walk) ||
	    hvk_read_guest_atomic(vcpu->vm, gpa, key->bytes, first,
				  &key->insn_hva) ||
	    hvk_insn_decode(&insn, key->bytes, first, key->mode))
		return 0;
	key->len = insn.len;
	key->slots_gen = vcpu->vm->slots_gen;
	key->valid = true;
	*c = *key;
	return insn.len;
}

unsigned int hvk_fast_insn_len(struct hvk_vcpu *vcpu, const u8 *opcode,
			       unsigned int opcode_len)
{
	struct hvk_fetch_cache *c = &vcpu->fetch_cache;
	struct hvk_fetch_cache key;
	struct kvm_segment cs;
	unsigned int len = 0;

	hvk_vendor->get_segment(vcpu, &cs, HVK_SREG_CS);
	key.efer = hvk_vendor->get_efer(vcpu);
	key.mode = (key.efer & EFER_LMA) && cs.l ? 64 : cs.db ? 32 : 16;
	/* In 64-bit mode CS has no base (SDM Vol. 3, 3.4.4). */
	key.la = key.mode == 64 ? vcpu->rip : (u32)(cs.base + vcpu->rip);
	key.access = HVK_PF_FETCH | hvk_cpl_access(vcpu);
	key.cr0 = hvk_vendor->get_cr(vcpu, 0);
	key.cr3 = hvk_vendor->get_cr(vcpu, 3);
	key.cr4 = hvk_vendor->get_cr(vcpu, 4);

	if (!down_read_trylock(&vcpu->vm->slots_lock))
		return 0;
	if (hvk_fetch_cache_hit(vcpu, &key))
		len = c->len;
	else
		len = hvk_fetch_decode(vcpu, &key);
	up_read(&vcpu->vm->slots_lock);
	/*
	 * The bytes must be the instruction that exits, not one the guest
	 * (another vCPU) wrote there since.
	 */
	if (len < opcode_len || memcmp(c->bytes + len - opcode_len, opcode,
				       opcode_len))
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
