// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: a guest access to a guest-physical address outside every slot, or
 * a write to a read-only slot, is emulated.  The instruction is fetched at
 * CS:RIP through the guest's page tables, decoded and executed by the
 * emulator (emulate.c) against guest memory, with the device access handed
 * to user space as KVM_EXIT_MMIO:
 *
 * - a write: the instruction completes, then the exit carries the data;
 * - a read: the exit asks for the data and nothing is committed; the next
 *   KVM_RUN executes the instruction again from the start, and this time
 *   the read returns what user space left in run->mmio.data.  A
 *   read-modify-write ends with a second exit, for its write.
 *
 * One device access per exit: the emulator reads before it writes and
 * writes at most once.  What it cannot emulate ends KVM_RUN with
 * KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_EMULATION) and the
 * instruction bytes, never with a guess.
 */
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/trapnr.h>

#include "emulate.h"
#include "hvk.h"

struct hvk_mmio_ctxt {
	struct hvk_emu emu;
	struct hvk_vcpu *vcpu;
	u64 fault_gpa;
	u32 cpl_access;		/* HVK_PF_USER at CPL 3: explicit accesses */
};

static struct hvk_mmio_ctxt *emu_ctxt(struct hvk_emu *emu)
{
	return container_of(emu, struct hvk_mmio_ctxt, emu);
}

static struct hvk_vcpu *emu_vcpu(struct hvk_emu *emu)
{
	return emu_ctxt(emu)->vcpu;
}

/*
 * Translate linear @la for @access (HVK_PF_*); a failed walk becomes the
 * emulator's fault.
 */
static int emu_translate(struct hvk_emu *emu, u64 la, u32 access, u64 *gpa)
{
	struct hvk_vcpu *vcpu = emu_vcpu(emu);
	u32 pferr = 0;
	int r;

	access |= emu_ctxt(emu)->cpl_access;
	r = hvk_gva_to_gpa(vcpu, la, access, gpa, &pferr);
	if (!r)
		return HVK_EMU_DONE;
	if (r == -EFAULT) {
		emu->fault = (struct hvk_emu_fault) {
			.vector = X86_TRAP_PF,
			.has_error_code = true,
			.error_code = pferr,
			.has_cr2 = true,
			.cr2 = la,
		};
		return HVK_EMU_FAULT;
	}
	if (r == -EINVAL) {
		/* Not canonical: #GP(0) (#SS for stack accesses, not emulated). */
		emu->fault = (struct hvk_emu_fault) {
			.vector = X86_TRAP_GP,
			.has_error_code = true,
		};
		return HVK_EMU_FAULT;
	}
	return HVK_EMU_UNHANDLED;
}

static int emu_fetch(struct hvk_emu *emu, u64 la, void *buf, unsigned int len,
		     unsigned int *got)
{
	struct hvk_vcpu *vcpu = emu_vcpu(emu);

	*got = 0;
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(la));
		u64 gpa;
		int r;

		r = emu_translate(emu, la, HVK_PF_FETCH, &gpa);
		/* Bytes on a page that cannot be fetched may not be needed. */
		if (r != HVK_EMU_DONE)
			return *got ? HVK_EMU_DONE : r;
		/* Instructions are fetched from memory, not from devices. */
		if (hvk_read_guest(vcpu->vm, gpa, buf, n))
			return *got ? HVK_EMU_DONE : HVK_EMU_UNHANDLED;
		*got += n;
		la += n;
		buf += n;
		len -= n;
	}
	return HVK_EMU_DONE;
}

/* Is @gpa guest memory for this access, or a device? */
static bool emu_is_memory(struct hvk_vcpu *vcpu, u64 gpa, bool write)
{
	struct hvk_vm *vm = vcpu->vm;
	const struct hvk_memslot *slot;
	bool memory;

	down_read(&vm->slots_lock);
	slot = hvk_find_memslot(vm, gpa >> PAGE_SHIFT);
	memory = slot && !(write && (slot->flags & KVM_MEM_READONLY));
	up_read(&vm->slots_lock);
	return memory;
}

static int emu_read(struct hvk_emu *emu, u64 la, void *buf, unsigned int len)
{
	struct hvk_vcpu *vcpu = emu_vcpu(emu);
	struct hvk_mmio *mmio = &vcpu->mmio;
	u64 gpa;
	int r;

	/* Page by page; a device access must be whole (KVM splits it). */
	if (offset_in_page(la) + len > PAGE_SIZE) {
		unsigned int n = PAGE_SIZE - offset_in_page(la);

		r = emu_read(emu, la, buf, n);
		if (r != HVK_EMU_DONE)
			return r;
		if (mmio->read_pending)
			return HVK_EMU_UNHANDLED;
		r = emu_read(emu, la + n, buf + n, len - n);
		return mmio->read_pending ? HVK_EMU_UNHANDLED : r;
	}
	r = emu_translate(emu, la, 0, &gpa);
	if (r != HVK_EMU_DONE)
		return r;
	/*
	 * The read user space answered, even if a slot appeared there
	 * meanwhile: the instruction reads once, and that read was MMIO.
	 */
	if (mmio->read_done && mmio->gpa == gpa && mmio->len == len) {
		memcpy(buf, mmio->data, len);
		mmio->read_done = false;
		return HVK_EMU_DONE;
	}
	if (emu_is_memory(vcpu, gpa, false))
		return hvk_read_guest(vcpu->vm, gpa, buf, len) ?
		       HVK_EMU_UNHANDLED : HVK_EMU_DONE;
	if (len > sizeof(mmio->data))
		return HVK_EMU_UNHANDLED;
	/* The APIC page and the IOAPIC are the kernel's with the irqchip. */
	if (hvk_irqchip_mmio(vcpu, gpa, len, buf, false))
		return HVK_EMU_DONE;

	/* The one device read of this emulation: ask user space. */
	if (mmio->read_done || mmio->read_pending)
		return HVK_EMU_UNHANDLED;
	mmio->read_pending = true;
	mmio->gpa = gpa;
	mmio->len = len;
	return HVK_EMU_EXIT;
}

static int emu_write(struct hvk_emu *emu, u64 la, const void *buf,
		     unsigned int len)
{
	struct hvk_vcpu *vcpu = emu_vcpu(emu);
	struct kvm_run *run = vcpu->run;
	unsigned int n = len;
	u64 gpa, gpa2 = 0;
	int r;

	/* Translate both pages before writing either. */
	if (offset_in_page(la) + len > PAGE_SIZE) {
		n = PAGE_SIZE - offset_in_page(la);
		r = emu_translate(emu, la + n, HVK_PF_WRITE, &gpa2);
		if (r != HVK_EMU_DONE)
			return r;
	}
	r = emu_translate(emu, la, HVK_PF_WRITE, &gpa);
	if (r != HVK_EMU_DONE)
		return r;
	if (emu_is_memory(vcpu, gpa, true) &&
	    (n == len || emu_is_memory(vcpu, gpa2, true))) {
		if (hvk_write_guest(vcpu->vm, gpa, buf, n) ||
		    (n < len && hvk_write_guest(vcpu->vm, gpa2, buf + n,
						len - n)))
			return HVK_EMU_UNHANDLED;
		return HVK_EMU_DONE;
	}
	if (n < len || len > sizeof(run->mmio.data))
		return HVK_EMU_UNHANDLED;
	if (hvk_irqchip_mmio(vcpu, gpa, len, (void *)buf, true))
		return HVK_EMU_DONE;
	if (hvk_ioeventfd_write(vcpu->vm, false, gpa, len, buf))
		return HVK_EMU_DONE;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, buf, len);
	return HVK_EMU_EXIT;
}

static const struct hvk_emu_ops hvk_mmio_ops = {
	.fetch = emu_fetch,
	.read = emu_read,
	.write = emu_write,
};

/* KVM's emulation-failure exit: the instruction bytes, then RIP and GPA. */
static int hvk_mmio_failed(struct hvk_mmio_ctxt *ctxt)
{
	struct kvm_run *run = ctxt->vcpu->run;
	unsigned int n = min_t(unsigned int, ctxt->emu.nbytes,
			       sizeof(run->emulation_failure.insn_bytes));

	memset(&run->internal, 0, sizeof(run->internal));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = n;
	memcpy(run->emulation_failure.insn_bytes, ctxt->emu.bytes, n);
	/* data[0] flags, data[1..2] the bytes, then RIP and the GPA. */
	run->internal.data[3] = ctxt->vcpu->rip;
	run->internal.data[4] = ctxt->fault_gpa;
	run->emulation_failure.ndata = 5;
	ctxt->vcpu->mmio.read_pending = false;
	ctxt->vcpu->mmio.read_done = false;
	return 0;
}

static int hvk_mmio_run(struct hvk_vcpu *vcpu, u64 gpa)
{
	struct hvk_mmio_ctxt ctxt = { .vcpu = vcpu, .fault_gpa = gpa };
	struct hvk_emu *emu = &ctxt.emu;
	struct hvk_mmio *mmio = &vcpu->mmio;
	struct kvm_run *run = vcpu->run;
	unsigned int i;
	int r;

	emu->ops = &hvk_mmio_ops;
	emu->mode = hvk_cs_mode(vcpu);
	/*
	 * In 64-bit mode only FS and GS have a base (SDM Vol. 3, 3.4.4): the
	 * others are not read, each read being a VMREAD or a conversion.
	 */
	for (i = HVK_SREG_ES; i <= HVK_SREG_GS; i++) {
		struct kvm_segment seg;

		emu->seg_base[i] = 0;
		if (emu->mode == 64 && i != HVK_SREG_FS && i != HVK_SREG_GS)
			continue;
		hvk_vendor->get_segment(vcpu, &seg, i);
		emu->seg_base[i] = seg.base;
	}
	ctxt.cpl_access = hvk_cpl_access(vcpu);
	memcpy(emu->regs, vcpu->regs, sizeof(emu->regs));
	emu->rip = vcpu->rip;
	emu->rflags = vcpu->rflags;

	r = hvk_emulate(emu);
	if (r == HVK_EMU_EXIT)
		vcpu->stat.mmio_exits++;
	switch (r) {
	case HVK_EMU_EXIT:
		if (mmio->read_pending) {
			/* Nothing done yet: ask for the data. */
			run->exit_reason = KVM_EXIT_MMIO;
			run->mmio.phys_addr = mmio->gpa;
			run->mmio.len = mmio->len;
			run->mmio.is_write = 0;
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
			return 0;
		}
		fallthrough;	/* a write: the instruction completed */
	case HVK_EMU_DONE:
		memcpy(vcpu->regs, emu->regs, sizeof(vcpu->regs));
		vcpu->rip = emu->rip;
		vcpu->rflags = emu->rflags;
		mmio->read_done = false;
		return r == HVK_EMU_DONE ? 1 : 0;
	case HVK_EMU_FAULT:
		mmio->read_done = false;
		mmio->read_pending = false;
		/* The payload is CR2 for a #PF (and ignored otherwise). */
		return hvk_queue_exception_payload(vcpu, emu->fault.vector,
						   emu->fault.has_error_code,
						   emu->fault.error_code,
						   emu->fault.cr2);
	default:
		return hvk_mmio_failed(&ctxt);
	}
}

int hvk_emulate_mmio(struct hvk_vcpu *vcpu, u64 gpa)
{
	vcpu->mmio.read_pending = false;
	vcpu->mmio.read_done = false;
	return hvk_mmio_run(vcpu, gpa);
}

int hvk_complete_mmio(struct hvk_vcpu *vcpu)
{
	struct hvk_mmio *mmio = &vcpu->mmio;

	mmio->read_pending = false;
	mmio->read_done = true;
	memcpy(mmio->data, vcpu->run->mmio.data, mmio->len);
	return hvk_mmio_run(vcpu, mmio->gpa);
}
