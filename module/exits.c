// SPDX-License-Identifier: GPL-2.0
/*
 * Vendor-neutral handling of VM exits.  The backends decode the hardware's
 * exit information and call these; each returns per the exit-handler rule:
 * 1 = enter the guest again, 0 = return to user space with vcpu->run filled
 * in, < 0 = an error for KVM_RUN.
 */
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "hvk.h"

int hvk_cs_mode(struct hvk_vcpu *vcpu)
{
	struct kvm_segment cs;

	hvk_vendor->get_segment(vcpu, &cs, HVK_SREG_CS);
	if ((hvk_vendor->get_efer(vcpu) & EFER_LMA) && cs.l)
		return 64;
	return cs.db ? 32 : 16;
}

/* Write @val to @reg as an operand of @bytes would: 32-bit writes zero-extend. */
static void write_sized(unsigned long *reg, u64 val, unsigned int bytes)
{
	switch (bytes) {
	case 1:
		*reg = (*reg & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		*reg = (*reg & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		*reg = (u32)val;
		break;
	default:
		*reg = val;
	}
}

static u64 size_mask(unsigned int bytes)
{
	return bytes == 8 ? ~0ULL : (1ULL << (bytes * 8)) - 1;
}

/*
 * Copy between a buffer and guest linear memory, translating each page as
 * the vCPU would for an explicit access at its CPL: @access is 0 (read),
 * HVK_PF_WRITE or HVK_PF_FETCH.  0, or < 0 where the translation
 * (hvk_gva_to_gpa()) or the memory fails.
 */
static int hvk_access_linear(struct hvk_vcpu *vcpu, u64 la, void *buf,
			     unsigned int len, u32 access)
{
	bool write = access & HVK_PF_WRITE;

	access |= hvk_cpl_access(vcpu);
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(la));
		u32 pferr;
		u64 gpa;
		int r;

		r = hvk_gva_to_gpa(vcpu, la, access, &gpa, &pferr);
		if (r)
			return r;
		r = write ? hvk_write_guest(vcpu->vm, gpa, buf, n) :
			    hvk_read_guest(vcpu->vm, gpa, buf, n);
		if (r)
			return r;
		la += n;
		buf += n;
		len -= n;
	}
	return 0;
}

u64 hvk_segment_base(struct hvk_vcpu *vcpu, enum hvk_sreg sreg)
{
	struct kvm_segment seg;

	/* In 64-bit mode only FS and GS have a base (SDM Vol. 3, 3.4.4). */
	if (hvk_cs_mode(vcpu) == 64 && sreg != HVK_SREG_FS &&
	    sreg != HVK_SREG_GS)
		return 0;
	hvk_vendor->get_segment(vcpu, &seg, sreg);
	return seg.base;
}

int hvk_decode_at_rip(struct hvk_vcpu *vcpu, struct hvk_insn *insn)
{
	int mode = hvk_cs_mode(vcpu);
	u64 la = hvk_segment_base(vcpu, HVK_SREG_CS) + vcpu->rip;
	unsigned int len = 15, first;
	u8 buf[15];

	if (mode != 64)
		la = (u32)la;
	/* The bytes on a second page matter only if the first page ends. */
	first = min_t(unsigned int, len, PAGE_SIZE - offset_in_page(la));
	if (hvk_access_linear(vcpu, la, buf, first, HVK_PF_FETCH))
		return -EFAULT;
	if (first < len && hvk_access_linear(vcpu, la + first, buf + first,
					     len - first, HVK_PF_FETCH))
		len = first;
	return hvk_insn_decode(insn, buf, len, mode);
}

int hvk_handle_shutdown(struct hvk_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

static int hvk_inject_gp(struct hvk_vcpu *vcpu)
{
	return hvk_queue_exception(vcpu, X86_TRAP_GP, true, 0);
}

int hvk_exit_emulation_failed(struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 1;
	run->internal.data[0] = vcpu->rip;
	return 0;
}

int hvk_exit_unhandled(struct hvk_vcpu *vcpu, u64 hw_reason, u64 info1,
		       u64 info2)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 4;
	run->internal.data[0] = hw_reason;
	run->internal.data[1] = info1;
	run->internal.data[2] = info2;
	run->internal.data[3] = READ_ONCE(vcpu->cpu);
	return 0;
}

int hvk_exit_fail_entry(struct hvk_vcpu *vcpu, u64 hw_reason)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = hw_reason;
	run->fail_entry.cpu = READ_ONCE(vcpu->cpu);
	return 0;
}

int hvk_handle_hlt(struct hvk_vcpu *vcpu, u64 next_rip)
{
	vcpu->stat.halt_exits++;
	vcpu->rip = next_rip;
	/* The in-kernel LAPIC wakes it; the run loop sleeps till then. */
	if (vcpu->lapic)
		return hvk_irqchip_halt(vcpu);
	/* No in-kernel interrupt controller: user space decides what next. */
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

/* --- port I/O ------------------------------------------------------------ */

/*
 * The elements of a string I/O instruction handled in one exit: as many as
 * REP asks for, at most a page of data.  For OUTS, the data is read here;
 * for INS it is written at completion.
 */
static int hvk_string_io_prepare(struct hvk_vcpu *vcpu)
{
	struct hvk_pio *pio = &vcpu->pio;
	u64 amask = size_mask(pio->addr_bytes);
	unsigned int i, n = 1;
	int step, ptr_reg;
	u64 base, ptr;

	if (pio->rep) {
		u64 count = vcpu->regs[HVK_RCX] & amask;

		if (!count) {
			vcpu->rip = pio->next_rip;
			return 1;
		}
		n = min_t(u64, count, PAGE_SIZE / pio->size);
	}
	pio->count = n;
	if (pio->in)
		return 0;

	ptr_reg = HVK_RSI;
	step = vcpu->rflags & X86_EFLAGS_DF ? -pio->size : pio->size;
	base = hvk_segment_base(vcpu, pio->seg);
	ptr = vcpu->regs[ptr_reg] & amask;
	for (i = 0; i < n; i++) {
		u64 la = base + ((ptr + (s64)i * step) & amask);

		if (hvk_cs_mode(vcpu) != 64)
			la = (u32)la;
		if (hvk_access_linear(vcpu, la, vcpu->pio_data + i * pio->size,
				      pio->size, 0))
			return hvk_exit_emulation_failed(vcpu);
	}
	return 0;
}

static int hvk_string_io_complete(struct hvk_vcpu *vcpu)
{
	struct hvk_pio *pio = &vcpu->pio;
	u64 amask = size_mask(pio->addr_bytes);
	int ptr_reg = pio->in ? HVK_RDI : HVK_RSI;
	int step = vcpu->rflags & X86_EFLAGS_DF ? -pio->size : pio->size;
	u64 ptr = vcpu->regs[ptr_reg] & amask;
	unsigned int i;

	if (pio->in) {
		/* INS stores through ES:RDI; no override (SDM Vol. 2, INS). */
		u64 base = hvk_segment_base(vcpu, HVK_SREG_ES);

		for (i = 0; i < pio->count; i++) {
			u64 la = base + ((ptr + (s64)i * step) & amask);

			if (hvk_cs_mode(vcpu) != 64)
				la = (u32)la;
			if (hvk_access_linear(vcpu, la,
					      vcpu->pio_data + i * pio->size,
					      pio->size, HVK_PF_WRITE))
				return hvk_exit_emulation_failed(vcpu);
		}
	}
	write_sized(&vcpu->regs[ptr_reg], ptr + (s64)pio->count * step,
		    pio->addr_bytes);
	if (pio->rep) {
		u64 left = (vcpu->regs[HVK_RCX] & amask) - pio->count;

		write_sized(&vcpu->regs[HVK_RCX], left, pio->addr_bytes);
		/* Not done: the guest executes the instruction again. */
		if (left)
			return 1;
	}
	vcpu->rip = pio->next_rip;
	return 1;
}

int hvk_handle_io(struct hvk_vcpu *vcpu, u16 port, u8 size, bool in,
		  bool string, bool rep, u8 addr_bytes, u64 next_rip)
{
	struct hvk_pio *pio = &vcpu->pio;
	struct kvm_run *run = vcpu->run;
	int r;

	vcpu->stat.io_exits++;
	*pio = (struct hvk_pio) {
		.port = port, .size = size, .in = in, .string = string,
		.rep = rep, .count = 1, .rip = vcpu->rip, .next_rip = next_rip,
		.seg = HVK_SREG_DS, .addr_bytes = addr_bytes,
	};
	if (string) {
		struct hvk_insn insn;

		/*
		 * OUTS may name another segment than DS; and the hardware may
		 * not tell the address size (addr_bytes 0).
		 */
		if (!in || !addr_bytes) {
			if (hvk_decode_at_rip(vcpu, &insn))
				return hvk_exit_emulation_failed(vcpu);
			if (!in && insn.seg_override >= 0)
				pio->seg = insn.seg_override;
			if (!addr_bytes)
				pio->addr_bytes = hvk_insn_address_bytes(&insn,
							hvk_cs_mode(vcpu));
		}
		r = hvk_string_io_prepare(vcpu);
		if (r || vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			return r;
	} else {
		u32 val = vcpu->regs[HVK_RAX];

		/* The PICs, in the kernel with the irqchip; ioeventfds. */
		if (hvk_irqchip_pio(vcpu, port, in, size, &val) ||
		    (!in && hvk_ioeventfd_write(vcpu->vm, true, port, size,
						&val))) {
			if (in)
				write_sized(&vcpu->regs[HVK_RAX], val, size);
			vcpu->rip = next_rip;
			return 1;
		}
		if (!in)
			memcpy(vcpu->pio_data, &vcpu->regs[HVK_RAX], size);
	}

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = pio->count;
	run->io.data_offset = HVK_PIO_PAGE_OFFSET * PAGE_SIZE;
	vcpu->pio_pending = true;
	return 0;
}

int hvk_complete_pio(struct hvk_vcpu *vcpu)
{
	struct hvk_pio *pio = &vcpu->pio;
	u64 val = 0;

	/* User space moved the vCPU elsewhere: the I/O is abandoned. */
	if (vcpu->rip != pio->rip)
		return 1;
	if (pio->string)
		return hvk_string_io_complete(vcpu);
	if (pio->in) {
		memcpy(&val, vcpu->pio_data, pio->size);
		write_sized(&vcpu->regs[HVK_RAX], val, pio->size);
	}
	vcpu->rip = pio->next_rip;
	return 1;
}

/* --- CPUID, MSRs, control registers -------------------------------------- */

int hvk_handle_cpuid(struct hvk_vcpu *vcpu, u64 next_rip)
{
	u32 regs[4];

	hvk_cpuid(vcpu, vcpu->regs[HVK_RAX], vcpu->regs[HVK_RCX], regs);
	/* CPUID writes 32-bit registers: the upper halves are cleared. */
	vcpu->regs[HVK_RAX] = regs[0];
	vcpu->regs[HVK_RBX] = regs[1];
	vcpu->regs[HVK_RCX] = regs[2];
	vcpu->regs[HVK_RDX] = regs[3];
	vcpu->rip = next_rip;
	return 1;
}

int hvk_handle_rdmsr(struct hvk_vcpu *vcpu, u64 next_rip)
{
	u32 msr = vcpu->regs[HVK_RCX];
	u64 val;
	int r;

	r = hvk_get_msr(vcpu, msr, &val, false);
	if (r)
		return hvk_msr_failed(vcpu, true, msr, 0, r, next_rip);
	vcpu->regs[HVK_RAX] = (u32)val;
	vcpu->regs[HVK_RDX] = val >> 32;
	vcpu->rip = next_rip;
	return 1;
}

int hvk_handle_wrmsr(struct hvk_vcpu *vcpu, u64 next_rip)
{
	u64 val = (u32)vcpu->regs[HVK_RAX] | (vcpu->regs[HVK_RDX] << 32);
	u32 msr = vcpu->regs[HVK_RCX];
	int r;

	r = hvk_set_msr(vcpu, msr, val, false);
	if (r)
		return hvk_msr_failed(vcpu, false, msr, val, r, next_rip);
	vcpu->rip = next_rip;
	return 1;
}

int hvk_handle_cr_write(struct hvk_vcpu *vcpu, int cr, u64 val, u64 next_rip)
{
	u64 efer;
	bool lma;

	switch (cr) {
	case 0:
		if (!hvk_cr0_valid(vcpu, val))
			return hvk_inject_gp(vcpu);
		hvk_vendor->set_cr0(vcpu, val);
		/* Paging with EFER.LME on activates IA-32e mode, off leaves it. */
		efer = hvk_vendor->get_efer(vcpu);
		lma = (val & X86_CR0_PG) && (efer & EFER_LME);
		if (lma != !!(efer & EFER_LMA))
			hvk_vendor->set_efer(vcpu, lma ? efer | EFER_LMA :
							 efer & ~EFER_LMA);
		break;
	case 4:
		if (!hvk_cr4_valid(vcpu, val))
			return hvk_inject_gp(vcpu);
		hvk_vendor->set_cr4(vcpu, val);
		break;
	case 8:
		if (val & ~0xfULL)
			return hvk_inject_gp(vcpu);
		hvk_set_cr8(vcpu, val);
		break;
	default:
		return hvk_exit_unhandled(vcpu, 0, cr, val);
	}
	vcpu->rip = next_rip;
	return 1;
}

/*
 * Debug registers (SDM Vol. 3, 19.2).  The guest's are emulated: MOV to and
 * from them always exits, the values live in the vCPU and never reach the
 * hardware, so the host's breakpoints are never disturbed and the guest's
 * do not fire.  DR6 bits that read as 1 and those software may change; DR7
 * bits fixed to 1 and to 0.
 */
#define DR6_FIXED_1	0xffff0ff0ULL
#define DR6_WRITABLE	(GENMASK_ULL(3, 0) | GENMASK_ULL(15, 13))
#define DR7_FIXED_1	BIT_ULL(10)
#define DR7_FIXED_0	(BIT_ULL(11) | BIT_ULL(12) | BIT_ULL(14) | BIT_ULL(15))

void hvk_reset_debug_registers(struct hvk_vcpu *vcpu)
{
	memset(vcpu->dr, 0, sizeof(vcpu->dr));
	vcpu->dr6 = DR6_FIXED_1;
	vcpu->dr7 = DR7_FIXED_1;
}

int hvk_handle_mov_dr(struct hvk_vcpu *vcpu, unsigned int dr, unsigned int gpr,
		      bool to_dr, u64 next_rip)
{
	bool wide = hvk_cs_mode(vcpu) == 64;
	u64 val;

	/* DR4 and DR5 alias DR6 and DR7 unless CR4.DE makes them #UD. */
	if (dr == 4 || dr == 5) {
		if (hvk_vendor->get_cr(vcpu, 4) & X86_CR4_DE)
			return hvk_queue_exception(vcpu, X86_TRAP_UD, false, 0);
		dr += 2;
	}
	if (dr > 7 || gpr >= HVK_NR_GPRS)
		return hvk_exit_emulation_failed(vcpu);

	if (to_dr) {
		val = wide ? vcpu->regs[gpr] : (u32)vcpu->regs[gpr];
		if (dr >= 6 && (val >> 32))
			return hvk_inject_gp(vcpu);
		if (dr < 4)
			vcpu->dr[dr] = val;
		else if (dr == 6)
			vcpu->dr6 = (val & DR6_WRITABLE) | DR6_FIXED_1;
		else
			vcpu->dr7 = (val & ~DR7_FIXED_0) | DR7_FIXED_1;
	} else {
		val = dr < 4 ? vcpu->dr[dr] : dr == 6 ? vcpu->dr6 : vcpu->dr7;
		write_sized(&vcpu->regs[gpr], val, wide ? 8 : 4);
	}
	vcpu->rip = next_rip;
	return 1;
}

/*
 * VMCALL (Intel) and VMMCALL (AMD), KVM's hypercall ABI: number in RAX,
 * result in RAX, truncated to 32 bits outside 64-bit mode; -KVM_EPERM from
 * CPL > 0.  Only KVM_HC_VAPIC_POLL_IRQ exists, and does nothing, as in KVM;
 * any other number is -KVM_ENOSYS.
 */
int hvk_handle_hypercall(struct hvk_vcpu *vcpu, u64 next_rip)
{
	struct kvm_segment ss;
	long ret = -KVM_ENOSYS;

	vcpu->stat.hypercalls++;
	hvk_vendor->get_segment(vcpu, &ss, HVK_SREG_SS);
	if ((hvk_vendor->get_cr(vcpu, 0) & X86_CR0_PE) && ss.dpl)
		ret = -KVM_EPERM;
	else if (vcpu->regs[HVK_RAX] == KVM_HC_VAPIC_POLL_IRQ)
		ret = 0;
	if (hvk_cs_mode(vcpu) != 64)
		ret = (u32)ret;
	vcpu->regs[HVK_RAX] = ret;
	vcpu->rip = next_rip;
	return 1;
}

/* --- second-level page faults -------------------------------------------- */

int hvk_handle_ept_npt_fault(struct hvk_vcpu *vcpu, u64 gpa, bool write)
{
	int r = hvk_mmu_fault(vcpu, gpa, write);

	/* No memory there, or a write to a read-only slot: device memory. */
	if (r == -ENOENT || r == -EROFS) {
		vcpu->exit_reason = HVK_EXIT_MMIO;	/* statistics */
		return hvk_emulate_mmio(vcpu, gpa);
	}
	return r ? r : 1;
}
