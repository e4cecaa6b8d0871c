/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvk's in-kernel interrupt controllers (KVM_CREATE_IRQCHIP): a local APIC
 * per vCPU (lapic.c), the delivery of interrupt messages to the local APICs
 * of a VM and the decoding of MSIs (deliver.c), one IOAPIC (ioapic.c), a
 * pair of 8259A PICs (pic.c), and the GSI routing table that fans an
 * interrupt line out to them (route.c).
 *
 * These are device models only: they keep the architectural state, and
 * tell their user through callbacks when a vCPU has something new to look
 * at.  Injecting an interrupt into the guest, blocking in HLT and the ioctl
 * plumbing belong to the vCPU run loop.
 *
 * Locking, innermost last; a lock is never held while taking one above it:
 *
 *   hvk_irqchip.routing_lock (mutex)	replacing the routing table
 *   hvk_pic.lock (spinlock)		both 8259As
 *   hvk_ioapic.lock (spinlock)		the IOAPIC
 *   hvk_lapic.lock (raw spinlock)	one local APIC's registers and timer
 *
 * The routing table is read under RCU.  A LAPIC's registers are mostly
 * touched by its own vCPU, but other vCPUs (IPIs), the IOAPIC, MSIs and its
 * own timer (an hrtimer callback, in hardirq context) set bits in its IRR,
 * TMR and pending events.  One raw spinlock per LAPIC, taken with
 * interrupts off, covers all of it: every update is a few instructions,
 * the lock is uncontended in the common case (the owner reading its own
 * state), and a single lock keeps the invariants between IRR, ISR, TMR and
 * PPR simple to state, where per-bit atomics plus a "pending" hint would
 * need ordering arguments on every path.  It is raw because the timer
 * callback takes it in hard interrupt context, also under PREEMPT_RT.
 *
 * No callback runs under a LAPIC lock, except ->guest_tsc, which only
 * reads the TSC.  ->kick (and the PIC's kick) may run under the IOAPIC's
 * or the PICs' lock and in hard interrupt context (the timer): it must not
 * sleep nor take any lock above (setting a request bit and sending an IPI
 * is fine; taking a LAPIC lock is allowed).  The EOI callback
 * (level-triggered EOI broadcast to the IOAPIC) runs with no lock held.
 */
#ifndef HVK_IRQ_H
#define HVK_IRQ_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/* ------------------------------------------------------------------ */
/* Interrupt messages                                                 */
/* ------------------------------------------------------------------ */

/* Delivery modes: ICR, LVT, IOAPIC redirection entry, MSI data[10:8]. */
enum hvk_delivery_mode {
	HVK_DM_FIXED	= 0,
	HVK_DM_LOWEST	= 1,
	HVK_DM_SMI	= 2,
	HVK_DM_NMI	= 4,
	HVK_DM_INIT	= 5,
	HVK_DM_SIPI	= 6,
	HVK_DM_EXTINT	= 7,
};

/* ICR destination shorthand, ICR[19:18]. */
enum hvk_shorthand {
	HVK_SH_NONE	= 0,
	HVK_SH_SELF	= 1,
	HVK_SH_ALL	= 2,	/* all including self */
	HVK_SH_OTHERS	= 3,	/* all excluding self */
};

#define HVK_XAPIC_BROADCAST	0xffu
#define HVK_X2APIC_BROADCAST	0xffffffffu

struct hvk_lapic;

/*
 * One interrupt message on the APIC bus (an IPI, an IOAPIC redirection, an
 * MSI, a local interrupt).
 */
struct hvk_irq_msg {
	u32 dest;		/* destination field */
	u8 vector;
	u8 delivery_mode;	/* enum hvk_delivery_mode */
	u8 shorthand;		/* enum hvk_shorthand; needs @src */
	bool logical;		/* logical destination mode */
	bool level;		/* level-triggered (else edge) */
	bool assert;		/* level: asserted; false only for INIT de-assert */
	/*
	 * @dest is a 32-bit x2APIC destination (an IPI from an x2APIC, an
	 * MSI with KVM_X2APIC_API_USE_32BIT_IDS), else an 8-bit xAPIC one.
	 */
	bool x2apic_dest;
	/* MSI redirection hint: arbitrate among the destinations. */
	bool redir_hint;
	struct hvk_lapic *src;	/* the sending LAPIC, for shorthands */
};

/*
 * The local APICs of one VM, which messages are delivered to.  A LAPIC is
 * published with hvk_irq_dest_add() once it is initialized and stays until
 * the VM is destroyed, when nothing can deliver any more; readers need no
 * lock.
 */
#define HVK_IRQ_MAX_LAPICS	64

struct hvk_irq_dest_ctx {
	struct hvk_lapic *lapics[HVK_IRQ_MAX_LAPICS];	/* (a) */
	unsigned int nr;			/* (a) release/acquire */
	/* KVM_CAP_X2APIC_API flags (KVM_X2APIC_API_*), set before vCPUs. */
	u64 x2apic_api;
};

void hvk_irq_dest_init(struct hvk_irq_dest_ctx *ctx);
/* -ENOSPC when full.  Callers serialize additions (vm->lock). */
int hvk_irq_dest_add(struct hvk_irq_dest_ctx *ctx, struct hvk_lapic *apic);

/*
 * Deliver @msg to the LAPICs it is addressed to.  Returns how many LAPICs
 * accepted it as a new interrupt, 0 when every destination already had it
 * pending (coalesced), -1 when no LAPIC was a destination (or a mode hvk
 * does not model, SMI): KVM_IRQ_LINE_STATUS's convention.  Any context; no
 * lock of the LAPICs held by the caller.
 */
int hvk_irq_deliver(struct hvk_irq_dest_ctx *ctx, const struct hvk_irq_msg *msg);

/* Does @apic match @msg's destination (shorthand aside)?  For tests too. */
bool hvk_lapic_match_dest(struct hvk_lapic *apic, const struct hvk_irq_msg *msg,
			  u64 x2apic_api);

/*
 * Decode an MSI (KVM_SIGNAL_MSI, an MSI route) into a message.  False when
 * the address is not in the 0xfeeXXXXX window or uses high bits without
 * KVM_X2APIC_API_USE_32BIT_IDS.
 */
bool hvk_msi_decode(u32 address_lo, u32 address_hi, u32 data, u64 x2apic_api,
		    struct hvk_irq_msg *msg);

/* ------------------------------------------------------------------ */
/* Local APIC                                                         */
/* ------------------------------------------------------------------ */

/* Register offsets in the xAPIC page (SDM Vol. 3, Table 11-1). */
#define HVK_APIC_ID		0x020
#define HVK_APIC_LVR		0x030
#define HVK_APIC_TPR		0x080
#define HVK_APIC_APR		0x090
#define HVK_APIC_PPR		0x0a0
#define HVK_APIC_EOI		0x0b0
#define HVK_APIC_RRD		0x0c0
#define HVK_APIC_LDR		0x0d0
#define HVK_APIC_DFR		0x0e0
#define HVK_APIC_SVR		0x0f0
#define HVK_APIC_ISR		0x100
#define HVK_APIC_TMR		0x180
#define HVK_APIC_IRR		0x200
#define HVK_APIC_ESR		0x280
#define HVK_APIC_LVT_CMCI	0x2f0
#define HVK_APIC_ICR		0x300
#define HVK_APIC_ICR2		0x310
#define HVK_APIC_LVTT		0x320
#define HVK_APIC_LVT_THERMAL	0x330
#define HVK_APIC_LVT_PMC	0x340
#define HVK_APIC_LVT_LINT0	0x350
#define HVK_APIC_LVT_LINT1	0x360
#define HVK_APIC_LVT_ERROR	0x370
#define HVK_APIC_TMICT		0x380
#define HVK_APIC_TMCCT		0x390
#define HVK_APIC_TDCR		0x3e0
#define HVK_APIC_SELF_IPI	0x3f0	/* x2APIC only */

#define HVK_APIC_SVR_ENABLE		BIT(8)
#define HVK_APIC_SVR_EOI_SUPPRESS	BIT(12)
#define HVK_APIC_LVT_MASKED		BIT(16)
#define HVK_APIC_LVT_LEVEL		BIT(15)
#define HVK_APIC_LVTT_PERIODIC		BIT(17)
#define HVK_APIC_LVTT_TSC_DEADLINE	BIT(18)
#define HVK_APIC_LVTT_MODE		(BIT(17) | BIT(18))

/* ESR bits (SDM Vol. 3, 11.5.3). */
#define HVK_APIC_ESR_SEND_ILLEGAL	BIT(5)
#define HVK_APIC_ESR_RECV_ILLEGAL	BIT(6)

/* IA32_APIC_BASE (SDM Vol. 3, 11.4.4, 11.12.1). */
#define HVK_MSR_APIC_BASE		0x1b
#define HVK_APIC_BASE_BSP		BIT_ULL(8)
#define HVK_APIC_BASE_EXTD		BIT_ULL(10)
#define HVK_APIC_BASE_EN		BIT_ULL(11)
#define HVK_APIC_DEFAULT_BASE		0xfee00000ULL

#define HVK_MSR_X2APIC_FIRST		0x800
#define HVK_MSR_X2APIC_LAST		0x8ff
#define HVK_MSR_TSC_DEADLINE		0x6e0

/* Timer ticks (of the APIC bus clock, before the divider) per ns. */
#define HVK_APIC_BUS_CYCLE_NS		1
/* Shortest periodic timer period, to bound host interrupts per guest. */
#define HVK_APIC_MIN_PERIOD_NS		100000ULL

enum hvk_lapic_mode {
	HVK_LAPIC_DISABLED,	/* IA32_APIC_BASE.EN clear */
	HVK_LAPIC_XAPIC,
	HVK_LAPIC_X2APIC,
};

struct hvk_lapic_ops {
	/*
	 * Something new is pending for the vCPU (an IRR bit, an NMI, INIT,
	 * SIPI, ExtINT): wake it if it blocks, make it exit if it runs.  Any
	 * context, hard interrupt included (see the top of this file).
	 */
	void (*kick)(struct hvk_lapic *apic);
	/*
	 * The guest wrote EOI for a level-triggered vector and EOI broadcast
	 * is not suppressed: tell the IOAPIC (hvk_irqchip_eoi()).  vCPU
	 * context, no lock held.  May be NULL.
	 */
	void (*eoi_level)(struct hvk_lapic *apic, u8 vector);
	/*
	 * The guest's TSC now, for TSC-deadline mode; called with the
	 * LAPIC's lock held and interrupts off (RDTSC plus the offset).
	 * May be NULL: deadlines never fire then.
	 */
	u64 (*guest_tsc)(struct hvk_lapic *apic);
};

/*
 * One vCPU's local APIC.  Tags as in module/hvk.h: (i) set at creation,
 * (o) owned by the vCPU's thread, (l) under @lock.
 */
struct hvk_lapic {
	raw_spinlock_t lock;

	/*
	 * The registers in the xAPIC page's layout (SDM Vol. 3, Table 11-1),
	 * the first KiB: what struct kvm_lapic_state holds.  IRR, ISR and TMR
	 * are 8 words 16 bytes apart, bit v % 32 of word v / 32.  TMCCT is
	 * not kept (computed from the timer), nor the 64-bit ICR of x2APIC
	 * mode, which is ICR + ICR2 here.
	 */
	u32 regs[256];				/* (l) */
	u64 apic_base;				/* (l) IA32_APIC_BASE */
	u32 esr_pending;			/* (l) errors since ESR write */

	/* Events for the run loop. */
	unsigned int nmi_pending;		/* (l) */
	bool init_pending;			/* (l) */
	bool sipi_pending;			/* (l) */
	u8 sipi_vector;				/* (l) */

	/*
	 * Timer.  Only the owner arms it, after hrtimer_cancel() and outside
	 * @lock; the callback re-arms periodic mode itself.  The fields are
	 * read and written under @lock.
	 */
	struct hrtimer timer;
	bool timer_armed;			/* (l) the hrtimer is queued */
	u64 timer_target_ns;			/* (l) next expiry, CLOCK_MONOTONIC */
	u64 timer_period_ns;			/* (l) 0: one-shot */
	u32 timer_divisor;			/* (l) from TDCR: 1..128 */
	u64 tsc_deadline;			/* (l) IA32_TSC_DEADLINE */

	/* Identity and the features the guest's CPUID offers. */
	u32 vcpu_id;				/* (i) x2APIC ID, initial ID */
	u64 base_reserved;			/* (o) reserved IA32_APIC_BASE bits */
	bool x2apic_offered;			/* (o) CPUID.1:ECX.x2APIC */
	bool eoi_suppress_offered;		/* (o) LVR bit 24 */
	bool tsc_deadline_offered;		/* (o) CPUID.1:ECX.TSC_DEADLINE */
	u32 tsc_khz;				/* (o) guest TSC frequency */

	const struct hvk_lapic_ops *ops;	/* (i) */
	void *owner;				/* (i) the vCPU, for callbacks */
	struct hvk_irq_dest_ctx *vm;		/* (i) for IPIs */
};

/*
 * Set up @apic in its power-on state (IA32_APIC_BASE enabled at the default
 * address, BSP when @vcpu_id is 0), x2APIC and TSC-deadline not offered
 * and a physical address width of 52 until hvk_lapic_set_features().
 */
void hvk_lapic_init(struct hvk_lapic *apic, u32 vcpu_id,
		    const struct hvk_lapic_ops *ops, void *owner,
		    struct hvk_irq_dest_ctx *vm);
/* Stop the timer; the LAPIC is not touched again. */
void hvk_lapic_destroy(struct hvk_lapic *apic);
/* From the guest's CPUID, whenever it is set (vCPU thread). */
void hvk_lapic_set_features(struct hvk_lapic *apic, unsigned int maxphyaddr,
			    bool x2apic, bool tsc_deadline, bool eoi_suppress,
			    u32 tsc_khz);
/*
 * Reset per SDM Vol. 3, 11.4.7.1 (power-up) or 11.4.7.3 (@init: INIT keeps
 * the APIC ID, IA32_APIC_BASE and the mode).
 */
void hvk_lapic_reset(struct hvk_lapic *apic, bool init);

enum hvk_lapic_mode hvk_lapic_mode(struct hvk_lapic *apic);
u64 hvk_lapic_get_base(struct hvk_lapic *apic);
/*
 * WRMSR IA32_APIC_BASE.  0, or -EINVAL: reserved bits, the invalid state
 * (EXTD without EN), or, for the guest (!@host), a transition SDM Vol. 3,
 * 11.12.5 forbids (x2APIC to xAPIC, disabled to x2APIC): raise #GP.
 */
int hvk_lapic_set_base(struct hvk_lapic *apic, u64 val, bool host);

/*
 * xAPIC MMIO at @offset (0..0xfff) into the page: 1, 2 or 4 bytes within
 * one dword of a register read the register; anything else, reserved and
 * write-only registers read 0.  Only aligned 32-bit writes to a register
 * take effect.  In x2APIC mode or disabled, the page reads all ones and
 * ignores writes (KVM's LAPIC_MMIO_HOLE behaviour).
 */
void hvk_lapic_mmio_read(struct hvk_lapic *apic, u32 offset, unsigned int len,
			 void *data);
void hvk_lapic_mmio_write(struct hvk_lapic *apic, u32 offset, unsigned int len,
			  const void *data);
/* Is @gpa in the APIC page, as IA32_APIC_BASE maps it (xAPIC mode)? */
bool hvk_lapic_mmio_in_range(struct hvk_lapic *apic, u64 gpa);

/*
 * RDMSR and WRMSR of 0x800-0x8ff.  0, or -EINVAL for #GP (SDM Vol. 3,
 * 11.12.1.2, Table 11-6): not in x2APIC mode, reserved registers, reads of
 * write-only ones (EOI, SELF_IPI), writes to read-only ones, ICR2 and DFR,
 * reserved bits.  ICR is one 64-bit MSR.
 */
int hvk_lapic_x2apic_read(struct hvk_lapic *apic, u32 msr, u64 *val);
int hvk_lapic_x2apic_write(struct hvk_lapic *apic, u32 msr, u64 val);

/* IA32_TSC_DEADLINE (0x6e0); the caller checks CPUID for #GP. */
u64 hvk_lapic_get_tsc_deadline(struct hvk_lapic *apic);
void hvk_lapic_set_tsc_deadline(struct hvk_lapic *apic, u64 deadline);

/* CR8 is TPR[7:4] (SDM Vol. 3, 10.8.6). */
u8 hvk_lapic_get_cr8(struct hvk_lapic *apic);
void hvk_lapic_set_cr8(struct hvk_lapic *apic, u8 cr8);

/*
 * The highest IRR vector whose priority class is above PPR's: the vector
 * to inject when the vCPU can take an interrupt; -1 if none.
 */
int hvk_lapic_pending_vector(struct hvk_lapic *apic);
/*
 * INTA: move the highest deliverable vector from IRR to ISR and return it;
 * -1 if none.
 */
int hvk_lapic_ack(struct hvk_lapic *apic);
/* Does LINT0 take the PIC's INTR (ExtINT unmasked, or APIC disabled)? */
bool hvk_lapic_accepts_pic(struct hvk_lapic *apic);
/*
 * Deliver the local interrupt of an LVT entry (LINT0, LINT1, ...), as the
 * pin's edge would: the vector, NMI or ExtINT of the entry, if unmasked.
 */
void hvk_lapic_local_irq(struct hvk_lapic *apic, u32 lvt_offset);

/* Take one pending NMI; true if there was one. */
bool hvk_lapic_take_nmi(struct hvk_lapic *apic);
/* Anything that ends HLT: a deliverable vector, NMI, INIT or SIPI. */
bool hvk_lapic_has_events(struct hvk_lapic *apic);

/*
 * INIT and SIPI for the multiprocessor state machine (KVM_MP_STATE_*).
 * Consumes pending INIT and SIPI and moves *@mp_state:
 *   INIT: returns HVK_EVENT_INIT; the caller resets the vCPU (INIT reset,
 *         hvk_lapic_reset(apic, true) included); the BSP is RUNNABLE
 *         afterwards, an AP INIT_RECEIVED (wait-for-SIPI).
 *   SIPI in INIT_RECEIVED: returns HVK_EVENT_SIPI with *@sipi_vector; the
 *         caller starts the vCPU at CS = vector << 8, IP 0; RUNNABLE.
 * A SIPI in any other state is dropped (SDM Vol. 3, 9.4.4).
 */
#define HVK_EVENT_INIT	BIT(0)
#define HVK_EVENT_SIPI	BIT(1)
unsigned int hvk_lapic_accept_events(struct hvk_lapic *apic, bool bsp,
				     u32 *mp_state, u8 *sipi_vector);

/*
 * KVM_GET/SET_LAPIC.  In x2APIC mode, the ID register holds the x2APIC ID
 * as KVM's KVM_CAP_X2APIC_API says (@x2apic_api has
 * KVM_X2APIC_API_USE_32BIT_IDS) or shifted into bits 31:24 as an xAPIC ID
 * (without it; an ID set that way is ignored).  Set: -EINVAL for an x2APIC
 * ID that is not the vCPU's in the 32-bit format.  The timer restarts from
 * TMICT; TMCCT reads as the current count.
 */
void hvk_lapic_get_state(struct hvk_lapic *apic, struct kvm_lapic_state *s,
			 u64 x2apic_api);
int hvk_lapic_set_state(struct hvk_lapic *apic, const struct kvm_lapic_state *s,
			u64 x2apic_api);

/*
 * Accept a message addressed to @apic (deliver.c calls this once it has
 * chosen the destinations).  1 if accepted as new, 0 if coalesced or
 * dropped.
 */
int hvk_lapic_accept(struct hvk_lapic *apic, const struct hvk_irq_msg *msg);

/* Timer arithmetic, pure functions (for the tests). */
u32 hvk_lapic_tdcr_divisor(u32 tdcr);
u32 hvk_lapic_timer_count(u64 target_ns, u64 now_ns, u64 period_ns,
			  u32 divisor);
u64 hvk_lapic_timer_next(u64 target_ns, u64 now_ns, u64 period_ns);
u64 hvk_lapic_tsc_to_ns(u64 tsc_delta, u32 tsc_khz);
u8 hvk_lapic_ppr(u8 tpr, int isrv);

/* ------------------------------------------------------------------ */
/* IOAPIC                                                             */
/* ------------------------------------------------------------------ */

#define HVK_IOAPIC_PINS		KVM_IOAPIC_NUM_PINS
#define HVK_IOAPIC_DEFAULT_BASE	0xfec00000ULL
#define HVK_IOAPIC_MMIO_SIZE	0x100
#define HVK_IOAPIC_VERSION	0x11	/* 82093AA, as KVM's */

/* Redirection entry bits (82093AA datasheet, 3.2.4). */
#define HVK_IOAPIC_RTE_REMOTE_IRR	BIT_ULL(14)
#define HVK_IOAPIC_RTE_LEVEL		BIT_ULL(15)
#define HVK_IOAPIC_RTE_MASKED		BIT_ULL(16)

struct hvk_ioapic {
	spinlock_t lock;			/* everything below but (i) */
	u64 base_address;			/* (l) */
	u32 ioregsel;				/* (l) */
	u32 id;					/* (l) ID register, bits 27:24 */
	u32 irr;				/* (l) line asserted, per pin */
	u64 redirtbl[HVK_IOAPIC_PINS];		/* (l) */
	/* Where messages go: hvk_irq_deliver() on the VM's LAPICs. */
	struct hvk_irq_dest_ctx *dest;		/* (i) */
};

void hvk_ioapic_init(struct hvk_ioapic *ioapic, struct hvk_irq_dest_ctx *dest);
/* Reset: every pin masked, ID 0, lines low. */
void hvk_ioapic_reset(struct hvk_ioapic *ioapic);
/*
 * Drive @pin's line: an edge-triggered pin delivers on a rising edge; a
 * level-triggered one while asserted, unmasked and with remote IRR clear.
 * KVM_IRQ_LINE_STATUS's return: > 0 delivered, 0 coalesced, -1 masked or
 * not delivered.
 */
int hvk_ioapic_set_irq(struct hvk_ioapic *ioapic, unsigned int pin, bool level);
/*
 * EOI broadcast for @vector: clear remote IRR of the level-triggered pins
 * with that vector and deliver again those still asserted.
 */
void hvk_ioapic_eoi(struct hvk_ioapic *ioapic, u8 vector);
/* MMIO at @offset from the base: IOREGSEL (0x00) and IOWIN (0x10). */
void hvk_ioapic_mmio_read(struct hvk_ioapic *ioapic, u32 offset,
			  unsigned int len, void *data);
void hvk_ioapic_mmio_write(struct hvk_ioapic *ioapic, u32 offset,
			   unsigned int len, const void *data);
void hvk_ioapic_get_state(struct hvk_ioapic *ioapic,
			  struct kvm_ioapic_state *s);
void hvk_ioapic_set_state(struct hvk_ioapic *ioapic,
			  const struct kvm_ioapic_state *s);

/* ------------------------------------------------------------------ */
/* 8259A pair                                                         */
/* ------------------------------------------------------------------ */

struct hvk_pic {
	spinlock_t lock;			/* both chips, @output */
	/* [0] master (0x20, IRQ 0-7), [1] slave (0xa0, IRQ 8-15). */
	struct kvm_pic_state chip[2];		/* (l) */
	bool output;				/* (l) INTR to the CPU */
	/* Called when INTR rises (to kick the vCPUs taking ExtINT). */
	void (*kick)(struct hvk_pic *pic);	/* (i) may be NULL */
	void *owner;				/* (i) */
};

void hvk_pic_init(struct hvk_pic *pic, void (*kick)(struct hvk_pic *pic),
		  void *owner);
/*
 * Drive IRQ line @irq (0-15): edge or level per ELCR.  KVM_IRQ_LINE_STATUS:
 * 1 newly requested, 0 coalesced (already requested), -1 masked.
 */
int hvk_pic_set_irq(struct hvk_pic *pic, unsigned int irq, bool level);
/* INTR: does the master request an interrupt? */
bool hvk_pic_output(struct hvk_pic *pic);
/* INTA: the vector to take (a spurious IRQ 7 or 15 if none). */
u8 hvk_pic_ack(struct hvk_pic *pic);
/* Ports 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1; false for other ports. */
bool hvk_pic_port_read(struct hvk_pic *pic, u16 port, u8 *val);
bool hvk_pic_port_write(struct hvk_pic *pic, u16 port, u8 val);
/* KVM_GET/SET_IRQCHIP: @which is KVM_IRQCHIP_PIC_MASTER or _SLAVE. */
void hvk_pic_get_state(struct hvk_pic *pic, int which,
		       struct kvm_pic_state *s);
void hvk_pic_set_state(struct hvk_pic *pic, int which,
		       const struct kvm_pic_state *s);

/* ------------------------------------------------------------------ */
/* GSI routing                                                        */
/* ------------------------------------------------------------------ */

#define HVK_MAX_IRQ_ROUTES	4096	/* KVM's KVM_MAX_IRQ_ROUTES */
#define HVK_NR_DEFAULT_GSI	24

struct hvk_irq_route {
	u32 gsi;
	u32 type;		/* KVM_IRQ_ROUTING_IRQCHIP or _MSI */
	union {
		struct {
			u32 chip;	/* KVM_IRQCHIP_* */
			u32 pin;
		} irqchip;
		struct {
			u32 address_lo;
			u32 address_hi;
			u32 data;
		} msi;
	};
};

/* An immutable routing table; replaced whole, freed after RCU. */
struct hvk_irq_routing {
	struct rcu_head rcu;
	u32 nr_gsi;		/* highest GSI + 1 */
	u32 nr;			/* entries */
	u32 *first;		/* [nr_gsi + 1]: entries of gsi g are */
				/* routes[first[g] .. first[g + 1]) */
	struct hvk_irq_route routes[];	/* sorted by GSI */
};

/*
 * The VM's interrupt controllers as KVM_CREATE_IRQCHIP makes them.  The
 * LAPICs are the vCPUs'; @dest lists them.
 */
struct hvk_irqchip {
	struct hvk_pic pic;
	struct hvk_ioapic ioapic;
	struct hvk_irq_dest_ctx dest;
	struct mutex routing_lock;		/* serializes table swaps */
	struct hvk_irq_routing __rcu *routing;	/* (l: routing_lock) write */
};

/*
 * Build a table from KVM_SET_GSI_ROUTING's entries, with KVM's checks
 * (types, pins, GSI < 4096, flags 0, one route per irqchip per GSI, an MSI
 * GSI with no other route): 0, -EINVAL or -ENOMEM.
 */
int hvk_irq_routing_build(const struct kvm_irq_routing_entry *ue, u32 nr,
			  struct hvk_irq_routing **out);
/* KVM's default table: GSI 0-15 to the PICs and IOAPIC, 16-23 IOAPIC. */
int hvk_irq_routing_default(struct hvk_irq_routing **out);
void hvk_irq_routing_free(struct hvk_irq_routing *table);

/* KVM_CREATE_IRQCHIP: devices reset, default routing.  0 or -ENOMEM. */
int hvk_irqchip_init(struct hvk_irqchip *chip,
		     void (*pic_kick)(struct hvk_pic *pic), void *owner);
/* At VM teardown, when nothing can raise an interrupt any more. */
void hvk_irqchip_destroy(struct hvk_irqchip *chip);
/* KVM_SET_GSI_ROUTING: takes ownership of @table; sleeps (RCU). */
void hvk_irqchip_set_routing(struct hvk_irqchip *chip,
			     struct hvk_irq_routing *table);
/*
 * KVM_IRQ_LINE(_STATUS) and irqfd: drive every route of @gsi.  An MSI
 * route fires on @level true only.  -1 if nothing took it, else the sum
 * of the routes' results (KVM's convention).  Any context.
 */
int hvk_irqchip_set_irq(struct hvk_irqchip *chip, u32 gsi, bool level);
/* KVM_SIGNAL_MSI: -1 not delivered (or -EINVAL for bad flags), 0, > 0. */
int hvk_irqchip_signal_msi(struct hvk_irqchip *chip, const struct kvm_msi *msi);
/* The LAPIC EOI callback's target. */
void hvk_irqchip_eoi(struct hvk_irqchip *chip, u8 vector);

#endif /* HVK_IRQ_H */
