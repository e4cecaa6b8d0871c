// SPDX-License-Identifier: GPL-2.0
/*
 * Events: the exceptions hvk raises, the events whose delivery a VM exit cut
 * short, NMIs (KVM_NMI) and external interrupts (KVM_INTERRUPT, user-space
 * irqchip), their state for user space (KVM_GET/SET_VCPU_EVENTS), and the
 * guest debugger (KVM_SET_GUEST_DEBUG).
 *
 * Before every entry hvk_events_before_entry() picks at most one event to
 * inject, in the order the processor itself would take them (SDM Vol. 3,
 * 6.9; APM Vol. 2, 8.5): first an event whose delivery has begun (it must
 * complete before anything else happens), then an exception raised by the
 * last instruction, then an NMI, then a maskable interrupt.  What cannot be
 * injected yet opens a window: the backend makes the guest exit as soon as
 * it can take an NMI (VMX NMI-window exiting; SVM the IRET intercept and a
 * single step past it) or an interrupt (VMX interrupt-window exiting; SVM a
 * virtual interrupt, V_IRQ, with the VINTR intercept).  With the in-kernel
 * irqchip (irqchip.c), the LAPIC's NMIs join the NMI slot and, when the
 * guest can take a maskable interrupt and nothing comes before it, INTA
 * (the PICs' ExtINT, else the LAPIC's highest deliverable vector) fills
 * the interrupt slot; what the guest cannot take yet opens the window.
 */
#include <linux/kvm.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "hvk.h"
#include "hvk_trace.h"

/* DR6 bits that read as 1, and the status bits a #DB sets (SDM Vol. 3, 19.2.3). */
#define DR6_FIXED_1		0xffff0ff0ULL
#define DR6_STATUS		(GENMASK_ULL(3, 0) | GENMASK_ULL(15, 13))
#define DR6_BS			BIT_ULL(14)

#define HVK_GUESTDBG_VALID	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | \
				 KVM_GUESTDBG_USE_SW_BP)

/* --- exceptions ---------------------------------------------------------- */

/* Exception classes for the double-fault rules (SDM Vol. 3, Table 6-4). */
enum hvk_exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

static enum hvk_exc_class hvk_exception_class(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DE:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
		return EXC_CONTRIBUTORY;
	case X86_TRAP_PF:
		return EXC_PAGE_FAULT;
	default:
		return EXC_BENIGN;
	}
}

int hvk_queue_exception_payload(struct hvk_vcpu *vcpu, u8 vector,
				bool has_error, u32 error_code, u64 payload)
{
	struct hvk_events *e = &vcpu->events;
	bool has_payload = vector == X86_TRAP_PF || vector == X86_TRAP_DB;

	/*
	 * An NMI or INT n whose delivery an exit interrupted: the new
	 * exception comes first.  The NMI stays pending; INT n is executed
	 * again (RIP still points at it) and so is raised again.
	 */
	if (e->nmi.injected) {
		e->nmi.injected = false;
		e->nmi.pending = min_t(u8, e->nmi.pending + 1, 2);
	}
	if (e->interrupt.injected && e->interrupt.soft)
		e->interrupt.injected = false;

	if ((e->exception.pending || e->exception.injected) &&
	    e->exception.type == HVK_EVENT_EXCEPTION) {
		enum hvk_exc_class first = hvk_exception_class(e->exception.vector);
		enum hvk_exc_class second = hvk_exception_class(vector);

		/* A fault while delivering #DF shuts the processor down. */
		if (e->exception.vector == X86_TRAP_DF) {
			e->exception.pending = false;
			e->exception.injected = false;
			return hvk_handle_shutdown(vcpu);
		}
		if ((first == EXC_CONTRIBUTORY && second == EXC_CONTRIBUTORY) ||
		    (first == EXC_PAGE_FAULT && second != EXC_BENIGN)) {
			vector = X86_TRAP_DF;
			has_error = true;
			error_code = 0;
			has_payload = false;
		}
		/*
		 * Otherwise the two are handled serially: the new one is
		 * delivered, and the old one, if it was a fault, comes back
		 * when the instruction runs again.
		 */
	}
	e->exception.pending = true;
	e->exception.injected = false;
	e->exception.type = HVK_EVENT_EXCEPTION;
	e->exception.vector = vector;
	e->exception.has_error_code = has_error;
	e->exception.error_code = error_code;
	e->exception.insn_len = 0;
	e->exception.has_payload = has_payload;
	e->exception.payload = payload;
	return 1;
}

int hvk_queue_exception(struct hvk_vcpu *vcpu, u8 vector, bool has_error,
			u32 error_code)
{
	return hvk_queue_exception_payload(vcpu, vector, has_error, error_code,
					   0);
}

/*
 * Delivery begins: what the exception puts in CR2 or DR6 is written now,
 * as the processor does when it delivers it (SDM Vol. 3, 6.15).
 */
static void hvk_deliver_payload(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;

	if (e->exception.has_payload) {
		if (e->exception.vector == X86_TRAP_PF)
			hvk_vendor->set_cr2(vcpu, e->exception.payload);
		else if (e->exception.vector == X86_TRAP_DB)
			vcpu->dr6 |= e->exception.payload & DR6_STATUS;
	}
	e->exception.has_payload = false;
	e->exception.payload = 0;
	e->exception.pending = false;
	e->exception.injected = true;
}

/* --- injection ----------------------------------------------------------- */

/* Can the guest take a maskable interrupt now (RFLAGS.IF, no shadow)? */
static bool hvk_interrupt_allowed(struct hvk_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !hvk_vendor->get_interrupt_shadow(vcpu);
}

/* NMIs are blocked by NMI handling and by the STI and MOV SS shadows. */
static bool hvk_nmi_allowed(struct hvk_vcpu *vcpu)
{
	return !hvk_vendor->get_nmi_mask(vcpu) &&
	       !hvk_vendor->get_interrupt_shadow(vcpu);
}

/* What user space may inject with KVM_INTERRUPT now (KVM's rule). */
bool hvk_ready_for_interrupt(struct hvk_vcpu *vcpu)
{
	return !vcpu->events.interrupt.injected && hvk_interrupt_allowed(vcpu);
}

static void hvk_exception_event(struct hvk_vcpu *vcpu, struct hvk_event *ev)
{
	struct hvk_events *e = &vcpu->events;

	*ev = (struct hvk_event) {
		.type = e->exception.type,
		.vector = e->exception.vector,
		.has_error_code = e->exception.has_error_code,
		.error_code = e->exception.error_code,
		.insn_len = e->exception.insn_len,
	};
}

/*
 * With the in-kernel irqchip, when the interrupt slot is free and the
 * guest can take an interrupt: INTA fills the slot.  Acknowledged now, it
 * is delivered again until its delivery completes.
 */
static bool hvk_take_irqchip_interrupt(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;
	int vec;

	if (!vcpu->lapic || e->interrupt.injected ||
	    !hvk_interrupt_allowed(vcpu))
		return false;
	vec = hvk_irqchip_ack(vcpu);
	if (vec < 0)
		return false;
	e->interrupt.injected = true;
	e->interrupt.soft = false;
	e->interrupt.nr = vec;
	return true;
}

void hvk_events_before_entry(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;
	struct hvk_event ev = { .type = HVK_EVENT_NONE };
	bool irq_window, nmi_window;

	if (vcpu->lapic)
		hvk_irqchip_take_nmis(vcpu);
	if (e->exception.injected) {
		hvk_exception_event(vcpu, &ev);
	} else if (e->nmi.injected) {
		ev = (struct hvk_event) { .type = HVK_EVENT_NMI, .vector = 2 };
	} else if (e->interrupt.injected && e->interrupt.soft) {
		ev = (struct hvk_event) {
			.type = HVK_EVENT_SOFT_INTR, .vector = e->interrupt.nr,
			.insn_len = e->interrupt.insn_len,
		};
	} else if (e->exception.pending) {
		hvk_deliver_payload(vcpu);
		hvk_exception_event(vcpu, &ev);
	} else if (e->nmi.pending && hvk_nmi_allowed(vcpu)) {
		e->nmi.pending--;
		e->nmi.injected = true;
		ev = (struct hvk_event) { .type = HVK_EVENT_NMI, .vector = 2 };
	} else if (e->interrupt.injected && hvk_interrupt_allowed(vcpu)) {
		ev = (struct hvk_event) {
			.type = HVK_EVENT_INTR, .vector = e->interrupt.nr,
		};
	} else if (hvk_take_irqchip_interrupt(vcpu)) {
		ev = (struct hvk_event) {
			.type = HVK_EVENT_INTR, .vector = e->interrupt.nr,
		};
	}
	e->injecting = ev;
	hvk_vendor->inject_event(vcpu, &ev);
	trace_hvk_inject(vcpu, &ev);

	/*
	 * The windows: an exit as soon as the guest can take what is still
	 * waiting, after the event injected now has been delivered.
	 */
	nmi_window = e->nmi.pending;
	irq_window = ev.type != HVK_EVENT_INTR &&
		     (e->interrupt.injected ||
		      READ_ONCE(vcpu->run->request_interrupt_window) ||
		      (vcpu->lapic && hvk_irqchip_has_interrupt(vcpu)));
	hvk_vendor->set_windows(vcpu, irq_window, nmi_window);
}

void hvk_event_delivery_done(struct hvk_vcpu *vcpu,
			     const struct hvk_event *interrupted)
{
	struct hvk_events *e = &vcpu->events;

	switch (e->injecting.type) {
	case HVK_EVENT_NONE:
		break;
	case HVK_EVENT_NMI:
		e->nmi.injected = false;
		break;
	case HVK_EVENT_INTR:
	case HVK_EVENT_SOFT_INTR:
		e->interrupt.injected = false;
		break;
	default:
		e->exception.injected = false;
		break;
	}
	e->injecting.type = HVK_EVENT_NONE;
	if (!interrupted)
		return;

	/* Delivered again, unchanged, at the next entry (SDM Vol. 3, 28.2.4). */
	switch (interrupted->type) {
	case HVK_EVENT_NONE:
		break;
	case HVK_EVENT_NMI:
		e->nmi.injected = true;
		break;
	case HVK_EVENT_INTR:
	case HVK_EVENT_SOFT_INTR:
		e->interrupt.injected = true;
		e->interrupt.soft = interrupted->type == HVK_EVENT_SOFT_INTR;
		e->interrupt.nr = interrupted->vector;
		e->interrupt.insn_len = interrupted->insn_len;
		break;
	default:
		e->exception.injected = true;
		e->exception.pending = false;
		e->exception.type = interrupted->type;
		e->exception.vector = interrupted->vector;
		e->exception.has_error_code = interrupted->has_error_code;
		e->exception.error_code = interrupted->error_code;
		e->exception.insn_len = interrupted->insn_len;
		e->exception.has_payload = false;
		break;
	}
}

int hvk_handle_event_window(struct hvk_vcpu *vcpu)
{
	return 1;
}

/* --- debugging ----------------------------------------------------------- */

static u64 hvk_linear_rip(struct hvk_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (hvk_cs_mode(vcpu) == 64)
		return vcpu->rip;
	hvk_vendor->get_segment(vcpu, &cs, HVK_SREG_CS);
	return (u32)(cs.base + vcpu->rip);
}

static int hvk_exit_debug(struct hvk_vcpu *vcpu, u32 vector, u64 dr6)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = vector;
	run->debug.arch.pc = hvk_linear_rip(vcpu);
	run->debug.arch.dr6 = dr6 | DR6_FIXED_1;
	run->debug.arch.dr7 = vcpu->dr7;
	return 0;
}

/*
 * An intercepted #DB.  Single-stepped by the debugger: KVM_EXIT_DEBUG.  The
 * guest's own (TF it set itself; its breakpoints never fire, DR0-3 are not
 * loaded): delivered to the guest with its cause in DR6.
 */
int hvk_handle_debug_exception(struct hvk_vcpu *vcpu, u64 dr6)
{
	if ((vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP) && (dr6 & DR6_BS))
		return hvk_exit_debug(vcpu, X86_TRAP_DB, dr6 & DR6_STATUS);
	return hvk_queue_exception_payload(vcpu, X86_TRAP_DB, false, 0,
					   dr6 & DR6_STATUS);
}

/* #BP is intercepted only for KVM_GUESTDBG_USE_SW_BP: RIP is the INT3. */
int hvk_handle_breakpoint(struct hvk_vcpu *vcpu)
{
	return hvk_exit_debug(vcpu, X86_TRAP_BP, 0);
}

/*
 * hvk completed an instruction for the guest (RIP moved past it): what the
 * processor does at the end of an instruction happens here.  The STI or
 * MOV SS shadow ends; a single-step trap (TF at the start of the
 * instruction) is the debugger's exit or the guest's #DB.  @r is the exit
 * handler's result: when it already leaves KVM_RUN, only the shadow ends.
 */
int hvk_instruction_done(struct hvk_vcpu *vcpu, int r, u64 old_rflags)
{
	hvk_vendor->end_instruction(vcpu);
	if (r <= 0)
		return r;
	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		return hvk_exit_debug(vcpu, X86_TRAP_DB, DR6_BS);
	if (old_rflags & X86_EFLAGS_TF)
		return hvk_queue_exception_payload(vcpu, X86_TRAP_DB, false, 0,
						   DR6_BS);
	return r;
}

/*
 * KVM_SET_GUEST_DEBUG.  Single-step sets RFLAGS.TF around each entry (the
 * run loop), hidden from the guest's registers as KVM hides it; software
 * breakpoints intercept #BP.  Hardware breakpoints (USE_HW_BP) would need
 * DR0-3 and DR7 loaded around every entry: refused.
 */
static int hvk_set_guest_debug(struct hvk_vcpu *vcpu,
			       struct kvm_guest_debug __user *argp)
{
	struct kvm_guest_debug dbg;

	if (copy_from_user(&dbg, argp, sizeof(dbg)))
		return -EFAULT;
	if (dbg.control & ~HVK_GUESTDBG_VALID)
		return -EINVAL;
	vcpu->guest_debug = dbg.control & KVM_GUESTDBG_ENABLE ? dbg.control : 0;
	hvk_vendor->update_guest_debug(vcpu);
	return 0;
}

/* --- user space ---------------------------------------------------------- */

/* NMIs waiting: one more than blocked ones may be latched (KVM's rule). */
static u8 hvk_nmi_limit(struct hvk_vcpu *vcpu)
{
	return hvk_vendor->get_nmi_mask(vcpu) || vcpu->events.nmi.injected ?
	       1 : 2;
}

static void hvk_get_vcpu_events(struct hvk_vcpu *vcpu,
				struct kvm_vcpu_events *ev)
{
	struct hvk_events *e = &vcpu->events;

	/*
	 * Without KVM_CAP_EXCEPTION_PAYLOAD a pending exception is shown as
	 * injected, its payload already in CR2 or DR6, as KVM does.
	 */
	if (e->exception.pending)
		hvk_deliver_payload(vcpu);

	memset(ev, 0, sizeof(*ev));
	/* Software exceptions come back when their instruction runs again. */
	if (e->exception.type == HVK_EVENT_EXCEPTION ||
	    e->exception.type == HVK_EVENT_PRIV_SOFT_EXCEPTION)
		ev->exception.injected = e->exception.injected;
	ev->exception.nr = e->exception.vector;
	ev->exception.has_error_code = e->exception.has_error_code;
	ev->exception.error_code = e->exception.error_code;

	ev->interrupt.injected = e->interrupt.injected && !e->interrupt.soft;
	ev->interrupt.nr = e->interrupt.nr;
	ev->interrupt.shadow = hvk_vendor->get_interrupt_shadow(vcpu);

	ev->nmi.injected = e->nmi.injected;
	ev->nmi.pending = min(e->nmi.pending, hvk_nmi_limit(vcpu));
	ev->nmi.masked = hvk_vendor->get_nmi_mask(vcpu);

	ev->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		    KVM_VCPUEVENT_VALID_SMM;
}

static int hvk_set_vcpu_events(struct hvk_vcpu *vcpu,
			       const struct kvm_vcpu_events *ev)
{
	struct hvk_events *e = &vcpu->events;

	/*
	 * KVM's flags.  Exception payloads and triple-fault events are
	 * capabilities hvk does not offer; there is no SMM; the SIPI vector
	 * is ignored without an in-kernel local APIC, as in KVM.
	 */
	if (ev->flags & ~(KVM_VCPUEVENT_VALID_NMI_PENDING |
			  KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			  KVM_VCPUEVENT_VALID_SHADOW |
			  KVM_VCPUEVENT_VALID_SMM))
		return -EINVAL;
	if (ev->exception.injected &&
	    (ev->exception.nr > 31 || ev->exception.nr == X86_TRAP_NMI))
		return -EINVAL;
	if ((ev->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (ev->smi.smm || ev->smi.pending || ev->smi.smm_inside_nmi))
		return -EINVAL;

	e->exception.pending = false;
	e->exception.injected = ev->exception.injected;
	e->exception.type = HVK_EVENT_EXCEPTION;
	e->exception.vector = ev->exception.nr;
	e->exception.has_error_code = ev->exception.has_error_code;
	e->exception.error_code = ev->exception.error_code;
	e->exception.insn_len = 0;
	e->exception.has_payload = false;

	/*
	 * An INT n has no instruction length in this API: it is dropped, and
	 * raised again when the guest executes the instruction at RIP.
	 */
	e->interrupt.injected = ev->interrupt.injected && !ev->interrupt.soft;
	e->interrupt.soft = false;
	e->interrupt.nr = ev->interrupt.nr;
	if (ev->flags & KVM_VCPUEVENT_VALID_SHADOW)
		hvk_vendor->set_interrupt_shadow(vcpu, ev->interrupt.shadow);

	e->nmi.injected = ev->nmi.injected;
	hvk_vendor->set_nmi_mask(vcpu, ev->nmi.masked);
	if (ev->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		e->nmi.pending = min(ev->nmi.pending, hvk_nmi_limit(vcpu));
	return 0;
}

/* KVM_INTERRUPT without an in-kernel irqchip: delivered once IF allows. */
static int hvk_interrupt(struct hvk_vcpu *vcpu, struct kvm_interrupt __user *argp)
{
	struct kvm_interrupt irq;

	/* As KVM: the in-kernel LAPIC owns interrupt injection. */
	if (vcpu->lapic)
		return -ENXIO;
	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= 256)
		return -EINVAL;
	vcpu->events.interrupt.injected = true;
	vcpu->events.interrupt.soft = false;
	vcpu->events.interrupt.nr = irq.irq;
	return 0;
}

static int hvk_nmi(struct hvk_vcpu *vcpu)
{
	struct hvk_events *e = &vcpu->events;

	e->nmi.pending = min_t(u8, e->nmi.pending + 1, hvk_nmi_limit(vcpu));
	return 0;
}

/* What KVM_RUN leaves in kvm_run on every return (KVM's post-run fields). */
void hvk_events_fill_run(struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->cr8 = hvk_get_cr8(vcpu);
	run->apic_base = hvk_get_apic_base(vcpu);
	run->ready_for_interrupt_injection = hvk_ready_for_interrupt(vcpu);
	run->flags = 0;
}

long hvk_events_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp)
{
	struct kvm_vcpu_events ev;

	switch (ioctl) {
	case KVM_GET_VCPU_EVENTS:
		hvk_get_vcpu_events(vcpu, &ev);
		return copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
	case KVM_SET_VCPU_EVENTS:
		if (copy_from_user(&ev, argp, sizeof(ev)))
			return -EFAULT;
		return hvk_set_vcpu_events(vcpu, &ev);
	case KVM_INTERRUPT:
		return hvk_interrupt(vcpu, argp);
	case KVM_NMI:
		return hvk_nmi(vcpu);
	default: /* KVM_SET_GUEST_DEBUG */
		return hvk_set_guest_debug(vcpu, argp);
	}
}
