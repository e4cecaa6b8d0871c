// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC of a vCPU (SDM Vol. 3, chapter 11 "Advanced Programmable
 * Interrupt Controller"): registers in xAPIC (MMIO) and x2APIC (MSR) modes,
 * interrupt priority, EOI, the timer on an hrtimer, INIT and SIPI.  See
 * irq.h for the interface and the locking rules.
 */
#include <linux/bitops.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "irq.h"

/* Version register: integrated APIC 0x14, six LVT entries (max index 5). */
#define LAPIC_VERSION		(0x14 | (5 << 16))
#define LAPIC_LVR_EOI_SUPPRESS	BIT(24)

#define LVT_VECTOR		0xffu
#define LVT_DM			(7u << 8)
#define LVT_POLARITY		BIT(13)

#define ICR_VECTOR		0xffu
#define ICR_DM_SHIFT		8
#define ICR_LOGICAL		BIT(11)
#define ICR_BUSY		BIT(12)
#define ICR_ASSERT		BIT(14)
#define ICR_LEVEL		BIT(15)
#define ICR_SHORTHAND_SHIFT	18
/* x2APIC ICR bits that are reserved: WRMSR with any set raises #GP. */
#define X2APIC_ICR_RESERVED	(GENMASK_ULL(31, 20) | GENMASK_ULL(17, 16) | \
				 BIT_ULL(13))

static u32 *reg(struct hvk_lapic *apic, u32 offset)
{
	return &apic->regs[offset >> 2];
}

/* IRR, ISR, TMR: bit @vec of the 256-bit register at @base. */
static u32 *vec_word(struct hvk_lapic *apic, u32 base, u8 vec)
{
	return reg(apic, base + (vec / 32) * 0x10);
}

static bool vec_test(struct hvk_lapic *apic, u32 base, u8 vec)
{
	return *vec_word(apic, base, vec) & BIT(vec % 32);
}

static void vec_set(struct hvk_lapic *apic, u32 base, u8 vec)
{
	*vec_word(apic, base, vec) |= BIT(vec % 32);
}

static void vec_clear(struct hvk_lapic *apic, u32 base, u8 vec)
{
	*vec_word(apic, base, vec) &= ~BIT(vec % 32);
}

/* Highest vector set in the 256-bit register at @base, or -1. */
static int vec_highest(struct hvk_lapic *apic, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = *reg(apic, base + i * 0x10);

		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

static enum hvk_lapic_mode mode_of(u64 apic_base)
{
	if (!(apic_base & HVK_APIC_BASE_EN))
		return HVK_LAPIC_DISABLED;
	return apic_base & HVK_APIC_BASE_EXTD ? HVK_LAPIC_X2APIC :
						 HVK_LAPIC_XAPIC;
}

static bool sw_enabled(struct hvk_lapic *apic)
{
	return *reg(apic, HVK_APIC_SVR) & HVK_APIC_SVR_ENABLE;
}

static u32 x2apic_ldr(u32 id)
{
	/* SDM Vol. 3, 11.12.10.2: cluster ID 31:16, one bit of 16 in 15:0. */
	return ((id >> 4) << 16) | BIT(id & 0xf);
}

static u32 lapic_version(struct hvk_lapic *apic)
{
	return LAPIC_VERSION |
	       (apic->eoi_suppress_offered ? LAPIC_LVR_EOI_SUPPRESS : 0);
}

/* SDM Vol. 3, 11.8.3.1: PPR from TPR and the highest in-service vector. */
u8 hvk_lapic_ppr(u8 tpr, int isrv)
{
	u8 isr_class = isrv < 0 ? 0 : isrv & 0xf0;

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

static void update_ppr(struct hvk_lapic *apic)
{
	*reg(apic, HVK_APIC_PPR) = hvk_lapic_ppr(*reg(apic, HVK_APIC_TPR),
						 vec_highest(apic, HVK_APIC_ISR));
}

/* ---- timer arithmetic ---- */

/* SDM Vol. 3, Figure 11-10: TDCR bits 3, 1:0 select 2, 4, ... 128, 1. */
u32 hvk_lapic_tdcr_divisor(u32 tdcr)
{
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

/*
 * Current count: the ticks left until @target_ns, for a timer whose
 * ticks last @divisor bus cycles.  A periodic timer (@period_ns != 0) whose
 * expiry is late is already counting the next period.
 */
u32 hvk_lapic_timer_count(u64 target_ns, u64 now_ns, u64 period_ns,
			  u32 divisor)
{
	u64 tick_ns = (u64)divisor * HVK_APIC_BUS_CYCLE_NS;
	u64 left, late;

	if (now_ns < target_ns) {
		left = target_ns - now_ns;
	} else {
		if (!period_ns)
			return 0;
		div64_u64_rem(now_ns - target_ns, period_ns, &late);
		left = period_ns - late;
	}
	return min_t(u64, div64_u64(left, tick_ns), U32_MAX);
}

/*
 * The expiry after @target_ns of a periodic timer: counted from the
 * previous expiry, never from now, so the period does not drift with the
 * latency of the callback.  Periods missed entirely (the host was busy)
 * are skipped: they would only set the same IRR bit again.
 */
u64 hvk_lapic_timer_next(u64 target_ns, u64 now_ns, u64 period_ns)
{
	u64 n = 1;

	if (now_ns >= target_ns + period_ns)
		n = div64_u64(now_ns - target_ns, period_ns) + 1;
	return target_ns + n * period_ns;
}

/*
 * Guest TSC ticks to ns at @tsc_khz: delta * 10^6 / kHz, in two steps so
 * that no product overflows; deadlines centuries away saturate.
 */
u64 hvk_lapic_tsc_to_ns(u64 tsc_delta, u32 tsc_khz)
{
	u64 ms, rem;

	if (!tsc_khz)
		return 0;
	ms = div64_u64_rem(tsc_delta, tsc_khz, &rem);
	if (ms > U64_MAX / NSEC_PER_MSEC)
		return U64_MAX;
	return ms * NSEC_PER_MSEC + div64_u64(rem * NSEC_PER_MSEC, tsc_khz);
}

static u64 timer_mode(struct hvk_lapic *apic)
{
	return *reg(apic, HVK_APIC_LVTT) & HVK_APIC_LVTT_MODE;
}

static u64 periodic_period(struct hvk_lapic *apic)
{
	return max(apic->timer_period_ns, HVK_APIC_MIN_PERIOD_NS);
}

/* Queue the hrtimer at timer_target_ns; timer cancelled, lock held. */
static void timer_arm(struct hvk_lapic *apic)
{
	apic->timer_armed = true;
	hrtimer_start(&apic->timer, ns_to_ktime(apic->timer_target_ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* Start counting TMICT from @now_ns (one-shot, periodic); lock held. */
static void timer_start_count(struct hvk_lapic *apic, u64 now_ns)
{
	u32 tmict = *reg(apic, HVK_APIC_TMICT);

	apic->timer_armed = false;
	if (!tmict || timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)
		return;
	apic->timer_period_ns = (u64)tmict * apic->timer_divisor *
				HVK_APIC_BUS_CYCLE_NS;
	apic->timer_target_ns = now_ns +
		(timer_mode(apic) == HVK_APIC_LVTT_PERIODIC ?
		 periodic_period(apic) : apic->timer_period_ns);
	timer_arm(apic);
}

static void timer_start_deadline(struct hvk_lapic *apic)
{
	u64 now_ns = ktime_get_ns(), now_tsc;

	apic->timer_armed = false;
	if (!apic->tsc_deadline || !apic->ops->guest_tsc)
		return;
	now_tsc = apic->ops->guest_tsc(apic);
	apic->timer_target_ns = now_ns;
	/* Deadlines beyond KTIME_MAX wait for ever rather than wrap. */
	if (apic->tsc_deadline > now_tsc)
		apic->timer_target_ns +=
			min(hvk_lapic_tsc_to_ns(apic->tsc_deadline - now_tsc,
						apic->tsc_khz),
			    (u64)KTIME_MAX - now_ns);
	timer_arm(apic);
}

static u32 timer_current_count(struct hvk_lapic *apic)
{
	u32 count;

	if (!apic->timer_armed ||
	    timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)
		return 0;
	count = hvk_lapic_timer_count(apic->timer_target_ns, ktime_get_ns(),
				      timer_mode(apic) == HVK_APIC_LVTT_PERIODIC ?
				      periodic_period(apic) : 0,
				      apic->timer_divisor);
	return min(count, *reg(apic, HVK_APIC_TMICT));
}

/* ---- accepting interrupts ---- */

static int accept_locked(struct hvk_lapic *apic, const struct hvk_irq_msg *msg);

/*
 * An APIC error (SDM Vol. 3, 11.5.3): latched until the next ESR write,
 * and signalled through the error LVT entry.
 */
static void lapic_error(struct hvk_lapic *apic, u32 bit)
{
	u32 lvt = *reg(apic, HVK_APIC_LVT_ERROR);
	struct hvk_irq_msg msg = {
		.vector = lvt & LVT_VECTOR,
		.delivery_mode = HVK_DM_FIXED,
	};

	apic->esr_pending |= bit;
	/* An illegal error vector raises no further error. */
	if (!(lvt & HVK_APIC_LVT_MASKED) && msg.vector >= 16)
		accept_locked(apic, &msg);
}

static int accept_locked(struct hvk_lapic *apic, const struct hvk_irq_msg *msg)
{
	if (mode_of(apic->apic_base) == HVK_LAPIC_DISABLED)
		return 0;

	switch (msg->delivery_mode) {
	case HVK_DM_FIXED:
	case HVK_DM_LOWEST:
		/*
		 * A software-disabled APIC takes no fixed interrupts (SDM
		 * Vol. 3, 11.4.7.2); a level-triggered de-assert carries
		 * none.
		 */
		if (!sw_enabled(apic) || (msg->level && !msg->assert))
			return 0;
		if (msg->vector < 16) {
			lapic_error(apic, HVK_APIC_ESR_RECV_ILLEGAL);
			return 0;
		}
		if (msg->level)
			vec_set(apic, HVK_APIC_TMR, msg->vector);
		else
			vec_clear(apic, HVK_APIC_TMR, msg->vector);
		if (vec_test(apic, HVK_APIC_IRR, msg->vector))
			return 0;
		vec_set(apic, HVK_APIC_IRR, msg->vector);
		return 1;
	case HVK_DM_NMI:
		apic->nmi_pending++;
		return 1;
	case HVK_DM_INIT:
		/* INIT level de-assert only synchronizes arbitration IDs. */
		if (msg->level && !msg->assert)
			return 0;
		apic->init_pending = true;
		return 1;
	case HVK_DM_SIPI:
		apic->sipi_vector = msg->vector;
		apic->sipi_pending = true;
		return 1;
	case HVK_DM_EXTINT:
		/* The vector comes from the PIC at INTA; just look. */
		return 1;
	default:
		return 0;	/* SMI: no SMM */
	}
}

int hvk_lapic_accept(struct hvk_lapic *apic, const struct hvk_irq_msg *msg)
{
	unsigned long flags;
	int r;

	raw_spin_lock_irqsave(&apic->lock, flags);
	r = accept_locked(apic, msg);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (r > 0)
		apic->ops->kick(apic);
	return r;
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer)
{
	struct hvk_lapic *apic = container_of(timer, struct hvk_lapic, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	struct hvk_irq_msg msg = { .delivery_mode = HVK_DM_FIXED };
	unsigned long flags;
	u32 lvtt;
	int r = 0;

	raw_spin_lock_irqsave(&apic->lock, flags);
	if (!apic->timer_armed)
		goto out;
	lvtt = *reg(apic, HVK_APIC_LVTT);
	/* A masked timer counts on, and expires silently (11.5.4). */
	if (!(lvtt & HVK_APIC_LVT_MASKED)) {
		msg.vector = lvtt & LVT_VECTOR;
		r = accept_locked(apic, &msg);
	}
	switch (timer_mode(apic)) {
	case HVK_APIC_LVTT_PERIODIC:
		apic->timer_target_ns =
			hvk_lapic_timer_next(apic->timer_target_ns,
					     ktime_get_ns(),
					     periodic_period(apic));
		hrtimer_set_expires(timer, ns_to_ktime(apic->timer_target_ns));
		ret = HRTIMER_RESTART;
		break;
	case HVK_APIC_LVTT_TSC_DEADLINE:
		/* The MSR reads 0 once the deadline has passed (11.5.4.1). */
		apic->tsc_deadline = 0;
		fallthrough;
	default:
		apic->timer_armed = false;
	}
out:
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (r > 0)
		apic->ops->kick(apic);
	return ret;
}

/* ---- set-up and reset ---- */

static void reset_regs(struct hvk_lapic *apic)
{
	static const u32 lvts[] = {
		HVK_APIC_LVTT, HVK_APIC_LVT_THERMAL, HVK_APIC_LVT_PMC,
		HVK_APIC_LVT_LINT0, HVK_APIC_LVT_LINT1, HVK_APIC_LVT_ERROR,
	};
	bool x2apic = mode_of(apic->apic_base) == HVK_LAPIC_X2APIC;
	unsigned int i;

	/* SDM Vol. 3, 11.4.7.1: all zero but these. */
	memset(apic->regs, 0, sizeof(apic->regs));
	*reg(apic, HVK_APIC_ID) = x2apic ? apic->vcpu_id : apic->vcpu_id << 24;
	*reg(apic, HVK_APIC_LVR) = lapic_version(apic);
	*reg(apic, HVK_APIC_LDR) = x2apic ? x2apic_ldr(apic->vcpu_id) : 0;
	*reg(apic, HVK_APIC_DFR) = 0xffffffff;
	*reg(apic, HVK_APIC_SVR) = 0xff;
	for (i = 0; i < ARRAY_SIZE(lvts); i++)
		*reg(apic, lvts[i]) = HVK_APIC_LVT_MASKED;
	/*
	 * As KVM (KVM_X86_QUIRK_LINT0_REENABLED): the BSP's LINT0 starts in
	 * virtual-wire mode, so that a guest that never programs its APIC
	 * still gets the PIC's interrupts.
	 */
	if (apic->apic_base & HVK_APIC_BASE_BSP)
		*reg(apic, HVK_APIC_LVT_LINT0) = HVK_DM_EXTINT << 8;
	apic->esr_pending = 0;
	apic->timer_divisor = hvk_lapic_tdcr_divisor(0);
	apic->timer_armed = false;
	apic->timer_period_ns = 0;
	apic->tsc_deadline = 0;
}

void hvk_lapic_reset(struct hvk_lapic *apic, bool init)
{
	unsigned long flags;

	hrtimer_cancel(&apic->timer);
	raw_spin_lock_irqsave(&apic->lock, flags);
	if (!init) {
		apic->apic_base = HVK_APIC_DEFAULT_BASE | HVK_APIC_BASE_EN |
				  (apic->vcpu_id ? 0 : HVK_APIC_BASE_BSP);
		/*
		 * Events already latched survive an INIT: the run loop takes
		 * INIT and a SIPI that follows it in one go.
		 */
		apic->nmi_pending = 0;
		apic->init_pending = false;
		apic->sipi_pending = false;
	}
	reset_regs(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

void hvk_lapic_init(struct hvk_lapic *apic, u32 vcpu_id,
		    const struct hvk_lapic_ops *ops, void *owner,
		    struct hvk_irq_dest_ctx *vm)
{
	memset(apic, 0, sizeof(*apic));
	raw_spin_lock_init(&apic->lock);
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lapic_timer_fn;
	apic->vcpu_id = vcpu_id;
	apic->ops = ops;
	apic->owner = owner;
	apic->vm = vm;
	hvk_lapic_set_features(apic, 52, false, false, false, 0);
	hvk_lapic_reset(apic, false);
}

void hvk_lapic_destroy(struct hvk_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
}

void hvk_lapic_set_features(struct hvk_lapic *apic, unsigned int maxphyaddr,
			    bool x2apic, bool tsc_deadline, bool eoi_suppress,
			    u32 tsc_khz)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&apic->lock, flags);
	/* SDM Vol. 3, Figure 11-26: bits 7:0, 9 and above MAXPHYADDR. */
	apic->base_reserved = GENMASK_ULL(7, 0) | BIT_ULL(9) |
			      (x2apic ? 0 : HVK_APIC_BASE_EXTD);
	if (maxphyaddr < 64)
		apic->base_reserved |= GENMASK_ULL(63, maxphyaddr);
	apic->x2apic_offered = x2apic;
	apic->tsc_deadline_offered = tsc_deadline;
	apic->eoi_suppress_offered = eoi_suppress;
	apic->tsc_khz = tsc_khz;
	*reg(apic, HVK_APIC_LVR) = lapic_version(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

/* ---- IA32_APIC_BASE ---- */

enum hvk_lapic_mode hvk_lapic_mode(struct hvk_lapic *apic)
{
	return mode_of(READ_ONCE(apic->apic_base));
}

u64 hvk_lapic_get_base(struct hvk_lapic *apic)
{
	return READ_ONCE(apic->apic_base);
}

int hvk_lapic_set_base(struct hvk_lapic *apic, u64 val, bool host)
{
	enum hvk_lapic_mode old, new = mode_of(val);
	unsigned long flags;

	if (val & apic->base_reserved)
		return -EINVAL;
	/* EXTD without EN is the invalid state of SDM Vol. 3, 11.12.5. */
	if ((val & HVK_APIC_BASE_EXTD) && !(val & HVK_APIC_BASE_EN))
		return -EINVAL;
	old = hvk_lapic_mode(apic);
	/*
	 * Figure 11-27: x2APIC goes back to xAPIC only through disabled,
	 * and disabled goes to x2APIC only through xAPIC.  User space
	 * restoring a state may jump (as KVM lets it).
	 */
	if (!host && ((old == HVK_LAPIC_X2APIC && new == HVK_LAPIC_XAPIC) ||
		      (old == HVK_LAPIC_DISABLED && new == HVK_LAPIC_X2APIC)))
		return -EINVAL;

	if (new == HVK_LAPIC_DISABLED)
		hrtimer_cancel(&apic->timer);
	raw_spin_lock_irqsave(&apic->lock, flags);
	WRITE_ONCE(apic->apic_base, val);
	if (old != new) {
		if (new == HVK_LAPIC_DISABLED) {
			/*
			 * 11.4.3: a disabled APIC is as if absent; enabled
			 * again, it is in its power-up state.
			 */
			reset_regs(apic);
		} else if (new == HVK_LAPIC_X2APIC) {
			/* 11.12.5.1: ID and LDR change format, the rest stays. */
			*reg(apic, HVK_APIC_ID) = apic->vcpu_id;
			*reg(apic, HVK_APIC_LDR) = x2apic_ldr(apic->vcpu_id);
		} else {
			*reg(apic, HVK_APIC_ID) = apic->vcpu_id << 24;
		}
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return 0;
}

/* ---- register reads and writes ---- */

/* Read a register; @offset is 16-byte aligned and readable.  Lock held. */
static u32 read_reg_locked(struct hvk_lapic *apic, u32 offset)
{
	if (offset == HVK_APIC_TMCCT)
		return timer_current_count(apic);
	return *reg(apic, offset);
}

static bool is_lvt(u32 offset)
{
	return offset >= HVK_APIC_LVTT && offset <= HVK_APIC_LVT_ERROR;
}

/* Registers readable in the current mode (KVM's list; no CMCI). */
static bool readable(u32 offset, bool x2apic)
{
	if (offset >= HVK_APIC_ISR && offset < HVK_APIC_ESR)
		return true;		/* ISR, TMR, IRR */
	if (is_lvt(offset))
		return true;
	switch (offset) {
	case HVK_APIC_ID:
	case HVK_APIC_LVR:
	case HVK_APIC_TPR:
	case HVK_APIC_PPR:
	case HVK_APIC_LDR:
	case HVK_APIC_SVR:
	case HVK_APIC_ESR:
	case HVK_APIC_ICR:
	case HVK_APIC_TMICT:
	case HVK_APIC_TMCCT:
	case HVK_APIC_TDCR:
		return true;
	case HVK_APIC_APR:
	case HVK_APIC_DFR:
	case HVK_APIC_ICR2:
		return !x2apic;
	default:
		return false;
	}
}

static u32 lvt_writable(struct hvk_lapic *apic, u32 offset)
{
	switch (offset) {
	case HVK_APIC_LVTT:
		return LVT_VECTOR | HVK_APIC_LVT_MASKED |
		       (apic->tsc_deadline_offered ? HVK_APIC_LVTT_MODE :
						     HVK_APIC_LVTT_PERIODIC);
	case HVK_APIC_LVT_LINT0:
	case HVK_APIC_LVT_LINT1:
		return LVT_VECTOR | LVT_DM | LVT_POLARITY | HVK_APIC_LVT_LEVEL |
		       HVK_APIC_LVT_MASKED;
	case HVK_APIC_LVT_ERROR:
		return LVT_VECTOR | HVK_APIC_LVT_MASKED;
	default:		/* thermal, performance counters */
		return LVT_VECTOR | LVT_DM | HVK_APIC_LVT_MASKED;
	}
}

static void mask_lvts(struct hvk_lapic *apic)
{
	u32 off;

	for (off = HVK_APIC_LVTT; off <= HVK_APIC_LVT_ERROR; off += 0x10)
		*reg(apic, off) |= HVK_APIC_LVT_MASKED;
}

static void lapic_eoi(struct hvk_lapic *apic)
{
	unsigned long flags;
	bool broadcast;
	int vec;

	raw_spin_lock_irqsave(&apic->lock, flags);
	vec = vec_highest(apic, HVK_APIC_ISR);
	if (vec < 0) {
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		return;
	}
	vec_clear(apic, HVK_APIC_ISR, vec);
	update_ppr(apic);
	/*
	 * Level-triggered: tell the IOAPIC, unless the guest suppresses the
	 * broadcast to send a directed EOI itself (11.8.5).
	 */
	broadcast = vec_test(apic, HVK_APIC_TMR, vec) &&
		    !(apic->eoi_suppress_offered &&
		      (*reg(apic, HVK_APIC_SVR) & HVK_APIC_SVR_EOI_SUPPRESS));
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (broadcast && apic->ops->eoi_level)
		apic->ops->eoi_level(apic, vec);
}

/* Build an IPI from ICR; lock held. */
static void icr_to_msg(struct hvk_lapic *apic, u32 low, u32 high, bool x2apic,
		       struct hvk_irq_msg *msg)
{
	msg->vector = low & ICR_VECTOR;
	msg->delivery_mode = (low >> ICR_DM_SHIFT) & 7;
	msg->logical = low & ICR_LOGICAL;
	msg->level = low & ICR_LEVEL;
	msg->assert = low & ICR_ASSERT;
	msg->shorthand = (low >> ICR_SHORTHAND_SHIFT) & 3;
	msg->dest = x2apic ? high : high >> 24;
	msg->x2apic_dest = x2apic;
	msg->redir_hint = false;
	msg->src = apic;
}

/*
 * Send the IPI ICR holds (11.6.1).  Called without the lock, as delivery
 * takes the destinations' locks, this APIC's included.
 */
static void send_ipi(struct hvk_lapic *apic, u32 low, u32 high, bool x2apic)
{
	struct hvk_irq_msg msg;
	unsigned long flags;

	icr_to_msg(apic, low, high, x2apic, &msg);
	if (msg.delivery_mode == HVK_DM_FIXED ||
	    msg.delivery_mode == HVK_DM_LOWEST) {
		if (msg.vector < 16) {
			raw_spin_lock_irqsave(&apic->lock, flags);
			lapic_error(apic, HVK_APIC_ESR_SEND_ILLEGAL);
			raw_spin_unlock_irqrestore(&apic->lock, flags);
			apic->ops->kick(apic);
			return;
		}
		/* A fixed IPI is edge-triggered whatever bit 15 says. */
		msg.level = false;
		msg.assert = true;
	}
	hvk_irq_deliver(apic->vm, &msg);
}

static void write_timer_reg(struct hvk_lapic *apic, u32 offset, u32 val)
{
	u64 now = ktime_get_ns();
	unsigned long flags;
	u32 old, count;

	/* Only this thread arms the timer: cancel, update, re-arm. */
	hrtimer_cancel(&apic->timer);
	raw_spin_lock_irqsave(&apic->lock, flags);
	switch (offset) {
	case HVK_APIC_LVTT:
		old = timer_mode(apic);
		if (!sw_enabled(apic))
			val |= HVK_APIC_LVT_MASKED;
		*reg(apic, offset) = val & lvt_writable(apic, offset);
		/*
		 * Into or out of TSC-deadline mode disarms the timer
		 * (11.5.4.1); one-shot and periodic continue.
		 */
		if (old != timer_mode(apic) &&
		    (old == HVK_APIC_LVTT_TSC_DEADLINE ||
		     timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)) {
			apic->timer_armed = false;
			apic->tsc_deadline = 0;
			*reg(apic, HVK_APIC_TMICT) = 0;
		}
		break;
	case HVK_APIC_TMICT:
		/* Ignored in TSC-deadline mode. */
		if (timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)
			break;
		*reg(apic, offset) = val;
		timer_start_count(apic, now);
		break;
	case HVK_APIC_TDCR:
		/* Keep the ticks left, now at the new rate. */
		count = timer_current_count(apic);
		*reg(apic, offset) = val & 0xb;
		apic->timer_divisor = hvk_lapic_tdcr_divisor(val);
		if (apic->timer_armed &&
		    timer_mode(apic) != HVK_APIC_LVTT_TSC_DEADLINE) {
			apic->timer_period_ns = (u64)*reg(apic, HVK_APIC_TMICT) *
				apic->timer_divisor * HVK_APIC_BUS_CYCLE_NS;
			apic->timer_target_ns = now + (u64)count *
				apic->timer_divisor * HVK_APIC_BUS_CYCLE_NS;
		}
		break;
	}
	if (apic->timer_armed)
		timer_arm(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

/*
 * Write a register at a 16-byte aligned @offset, in either mode; what the
 * mode forbids was refused by the caller.
 */
static void write_reg(struct hvk_lapic *apic, u32 offset, u32 val, bool x2apic)
{
	unsigned long flags;
	u32 icr2;

	switch (offset) {
	case HVK_APIC_EOI:
		lapic_eoi(apic);
		return;
	case HVK_APIC_LVTT:
	case HVK_APIC_TMICT:
	case HVK_APIC_TDCR:
		write_timer_reg(apic, offset, val);
		return;
	case HVK_APIC_ICR:
		raw_spin_lock_irqsave(&apic->lock, flags);
		/* Delivery is immediate: the busy bit never stays set. */
		*reg(apic, HVK_APIC_ICR) = val & ~ICR_BUSY;
		icr2 = *reg(apic, HVK_APIC_ICR2);
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		send_ipi(apic, val, icr2, x2apic);
		return;
	case HVK_APIC_SELF_IPI:
		send_ipi(apic, (val & ICR_VECTOR) |
			 (HVK_SH_SELF << ICR_SHORTHAND_SHIFT), 0, x2apic);
		return;
	}

	raw_spin_lock_irqsave(&apic->lock, flags);
	switch (offset) {
	case HVK_APIC_ID:
		*reg(apic, offset) = val & 0xff000000;
		break;
	case HVK_APIC_TPR:
		*reg(apic, offset) = val & 0xff;
		update_ppr(apic);
		break;
	case HVK_APIC_LDR:
		*reg(apic, offset) = val & 0xff000000;
		break;
	case HVK_APIC_DFR:
		*reg(apic, offset) = val | 0x0fffffff;
		break;
	case HVK_APIC_SVR:
		*reg(apic, offset) = val & (0x3ff | (apic->eoi_suppress_offered ?
					     HVK_APIC_SVR_EOI_SUPPRESS : 0));
		/* Software-disabled: every LVT entry masked (11.4.7.2). */
		if (!(val & HVK_APIC_SVR_ENABLE))
			mask_lvts(apic);
		break;
	case HVK_APIC_ESR:
		/* A write latches the errors seen since the last one. */
		*reg(apic, offset) = apic->esr_pending;
		apic->esr_pending = 0;
		break;
	case HVK_APIC_ICR2:
		*reg(apic, offset) = val & 0xff000000;
		break;
	case HVK_APIC_LVT_THERMAL:
	case HVK_APIC_LVT_PMC:
	case HVK_APIC_LVT_LINT0:
	case HVK_APIC_LVT_LINT1:
	case HVK_APIC_LVT_ERROR:
		if (!sw_enabled(apic))
			val |= HVK_APIC_LVT_MASKED;
		*reg(apic, offset) = val & lvt_writable(apic, offset);
		break;
	default:
		break;		/* read-only or reserved: ignored (xAPIC) */
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

bool hvk_lapic_mmio_in_range(struct hvk_lapic *apic, u64 gpa)
{
	u64 base = hvk_lapic_get_base(apic);

	if (mode_of(base) != HVK_LAPIC_XAPIC)
		return false;
	base &= ~(u64)(PAGE_SIZE - 1) & ~apic->base_reserved;
	return gpa >= base && gpa < base + PAGE_SIZE;
}

void hvk_lapic_mmio_read(struct hvk_lapic *apic, u32 offset, unsigned int len,
			 void *data)
{
	u32 aligned = offset & ~0xfu, val = 0;
	unsigned int in_dword = offset & 0xf;
	unsigned long flags;

	if (len > 8)
		return;
	if (hvk_lapic_mode(apic) != HVK_LAPIC_XAPIC) {
		memset(data, 0xff, len);
		return;
	}
	memset(data, 0, len);
	if ((len != 1 && len != 2 && len != 4) || in_dword + len > 4 ||
	    aligned > HVK_APIC_TDCR || !readable(aligned, false))
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	val = read_reg_locked(apic, aligned);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	memcpy(data, (u8 *)&val + in_dword, len);
}

void hvk_lapic_mmio_write(struct hvk_lapic *apic, u32 offset, unsigned int len,
			  const void *data)
{
	u32 val;

	/* Only aligned 32-bit stores reach a register (as KVM's model). */
	if (len != 4 || (offset & 0xf) || offset > HVK_APIC_TDCR ||
	    hvk_lapic_mode(apic) != HVK_LAPIC_XAPIC)
		return;
	memcpy(&val, data, 4);
	write_reg(apic, offset, val, false);
}

int hvk_lapic_x2apic_read(struct hvk_lapic *apic, u32 msr, u64 *val)
{
	u32 offset = (msr - HVK_MSR_X2APIC_FIRST) << 4;
	unsigned long flags;

	if (msr < HVK_MSR_X2APIC_FIRST || msr > HVK_MSR_X2APIC_LAST ||
	    hvk_lapic_mode(apic) != HVK_LAPIC_X2APIC || !readable(offset, true))
		return -EINVAL;
	raw_spin_lock_irqsave(&apic->lock, flags);
	*val = read_reg_locked(apic, offset);
	if (offset == HVK_APIC_ICR)
		*val |= (u64)*reg(apic, HVK_APIC_ICR2) << 32;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return 0;
}

int hvk_lapic_x2apic_write(struct hvk_lapic *apic, u32 msr, u64 val)
{
	u32 offset = (msr - HVK_MSR_X2APIC_FIRST) << 4;
	unsigned long flags;

	if (msr < HVK_MSR_X2APIC_FIRST || msr > HVK_MSR_X2APIC_LAST ||
	    hvk_lapic_mode(apic) != HVK_LAPIC_X2APIC)
		return -EINVAL;

	if (offset == HVK_APIC_ICR) {
		if (val & X2APIC_ICR_RESERVED)
			return -EINVAL;
		raw_spin_lock_irqsave(&apic->lock, flags);
		*reg(apic, HVK_APIC_ICR) = (u32)val & ~ICR_BUSY;
		*reg(apic, HVK_APIC_ICR2) = val >> 32;
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		send_ipi(apic, val, val >> 32, true);
		return 0;
	}
	/* The upper halves of all but ICR are reserved (11.12.1.2). */
	if (val >> 32)
		return -EINVAL;
	if (is_lvt(offset))
		goto write;
	switch (offset) {
	case HVK_APIC_TPR:
	case HVK_APIC_SVR:
	case HVK_APIC_TMICT:
	case HVK_APIC_TDCR:
		break;
	case HVK_APIC_EOI:
	case HVK_APIC_ESR:
		/* Only 0 may be written (Table 11-6). */
		if (val)
			return -EINVAL;
		break;
	case HVK_APIC_SELF_IPI:
		if (val & ~ICR_VECTOR)
			return -EINVAL;
		break;
	default:
		/* Read-only (ID, LDR, ...), DFR, ICR2 and reserved. */
		return -EINVAL;
	}
write:
	write_reg(apic, offset, val, true);
	return 0;
}

u64 hvk_lapic_get_tsc_deadline(struct hvk_lapic *apic)
{
	unsigned long flags;
	u64 val = 0;

	raw_spin_lock_irqsave(&apic->lock, flags);
	if (timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)
		val = apic->tsc_deadline;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return val;
}

void hvk_lapic_set_tsc_deadline(struct hvk_lapic *apic, u64 deadline)
{
	unsigned long flags;

	hrtimer_cancel(&apic->timer);
	raw_spin_lock_irqsave(&apic->lock, flags);
	/* Ignored outside TSC-deadline mode; 0 disarms (11.5.4.1). */
	if (timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE) {
		apic->tsc_deadline = deadline;
		timer_start_deadline(apic);
	} else if (apic->timer_armed) {
		timer_arm(apic);
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

u8 hvk_lapic_get_cr8(struct hvk_lapic *apic)
{
	return READ_ONCE(apic->regs[HVK_APIC_TPR >> 2]) >> 4;
}

void hvk_lapic_set_cr8(struct hvk_lapic *apic, u8 cr8)
{
	write_reg(apic, HVK_APIC_TPR, (cr8 & 0xf) << 4, false);
}

/* ---- the run loop's view ---- */

static int pending_locked(struct hvk_lapic *apic)
{
	int vec = vec_highest(apic, HVK_APIC_IRR);

	/* Deliverable only above the processor priority class (11.8.3). */
	if (vec < 0 || (vec & 0xf0) <= (*reg(apic, HVK_APIC_PPR) & 0xf0))
		return -1;
	return vec;
}

int hvk_lapic_pending_vector(struct hvk_lapic *apic)
{
	unsigned long flags;
	int vec;

	raw_spin_lock_irqsave(&apic->lock, flags);
	vec = pending_locked(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return vec;
}

int hvk_lapic_ack(struct hvk_lapic *apic)
{
	unsigned long flags;
	int vec;

	raw_spin_lock_irqsave(&apic->lock, flags);
	vec = pending_locked(apic);
	if (vec >= 0) {
		vec_clear(apic, HVK_APIC_IRR, vec);
		vec_set(apic, HVK_APIC_ISR, vec);
		update_ppr(apic);
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return vec;
}

bool hvk_lapic_accepts_pic(struct hvk_lapic *apic)
{
	unsigned long flags;
	bool ret;
	u32 lvt0;

	raw_spin_lock_irqsave(&apic->lock, flags);
	lvt0 = *reg(apic, HVK_APIC_LVT_LINT0);
	ret = mode_of(apic->apic_base) == HVK_LAPIC_DISABLED ||
	      (!(lvt0 & HVK_APIC_LVT_MASKED) &&
	       ((lvt0 & LVT_DM) >> 8) == HVK_DM_EXTINT);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}

void hvk_lapic_local_irq(struct hvk_lapic *apic, u32 lvt_offset)
{
	struct hvk_irq_msg msg = { .assert = true };
	unsigned long flags;
	int r = 0;
	u32 lvt;

	if (!is_lvt(lvt_offset))
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	lvt = *reg(apic, lvt_offset);
	if (!(lvt & HVK_APIC_LVT_MASKED)) {
		msg.vector = lvt & LVT_VECTOR;
		msg.delivery_mode = (lvt & LVT_DM) >> 8;
		if (lvt_offset == HVK_APIC_LVTT || lvt_offset == HVK_APIC_LVT_ERROR)
			msg.delivery_mode = HVK_DM_FIXED;
		msg.level = msg.delivery_mode == HVK_DM_FIXED &&
			    (lvt & HVK_APIC_LVT_LEVEL);
		r = accept_locked(apic, &msg);
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (r > 0)
		apic->ops->kick(apic);
}

bool hvk_lapic_take_nmi(struct hvk_lapic *apic)
{
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&apic->lock, flags);
	ret = apic->nmi_pending;
	if (ret)
		apic->nmi_pending--;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}

bool hvk_lapic_has_events(struct hvk_lapic *apic)
{
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&apic->lock, flags);
	ret = pending_locked(apic) >= 0 || apic->nmi_pending ||
	      apic->init_pending || apic->sipi_pending;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return ret;
}

unsigned int hvk_lapic_accept_events(struct hvk_lapic *apic, bool bsp,
				     u32 *mp_state, u8 *sipi_vector)
{
	unsigned int ret = 0;
	unsigned long flags;
	bool init, sipi;
	u8 vector;

	raw_spin_lock_irqsave(&apic->lock, flags);
	init = apic->init_pending;
	sipi = apic->sipi_pending;
	vector = apic->sipi_vector;
	apic->init_pending = false;
	apic->sipi_pending = false;
	raw_spin_unlock_irqrestore(&apic->lock, flags);

	if (init) {
		*mp_state = bsp ? KVM_MP_STATE_RUNNABLE :
				  KVM_MP_STATE_INIT_RECEIVED;
		ret |= HVK_EVENT_INIT;
	}
	/* Only a processor waiting for SIPI takes one (SDM Vol. 3, 9.4.4). */
	if (sipi && *mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		*sipi_vector = vector;
		*mp_state = KVM_MP_STATE_RUNNABLE;
		ret |= HVK_EVENT_SIPI;
	}
	return ret;
}

/* ---- KVM_GET/SET_LAPIC ---- */

void hvk_lapic_get_state(struct hvk_lapic *apic, struct kvm_lapic_state *s,
			 u64 x2apic_api)
{
	unsigned long flags;
	u32 *regs = (u32 *)s->regs;

	BUILD_BUG_ON(sizeof(s->regs) != sizeof(apic->regs));
	raw_spin_lock_irqsave(&apic->lock, flags);
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	regs[HVK_APIC_TMCCT >> 2] = timer_current_count(apic);
	/*
	 * Without KVM_X2APIC_API_USE_32BIT_IDS, user space sees an x2APIC ID
	 * where an xAPIC one would be, in bits 31:24.
	 */
	if (mode_of(apic->apic_base) == HVK_LAPIC_X2APIC &&
	    !(x2apic_api & KVM_X2APIC_API_USE_32BIT_IDS))
		regs[HVK_APIC_ID >> 2] = apic->vcpu_id << 24;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

int hvk_lapic_set_state(struct hvk_lapic *apic, const struct kvm_lapic_state *s,
			u64 x2apic_api)
{
	const u32 *regs = (const u32 *)s->regs;
	unsigned long flags;
	bool x2apic;

	x2apic = hvk_lapic_mode(apic) == HVK_LAPIC_X2APIC;
	/* The x2APIC ID is read-only; in the 32-bit format it must match. */
	if (x2apic && (x2apic_api & KVM_X2APIC_API_USE_32BIT_IDS) &&
	    regs[HVK_APIC_ID >> 2] != apic->vcpu_id)
		return -EINVAL;

	hrtimer_cancel(&apic->timer);
	raw_spin_lock_irqsave(&apic->lock, flags);
	memcpy(apic->regs, s->regs, sizeof(apic->regs));
	if (x2apic) {
		*reg(apic, HVK_APIC_ID) = apic->vcpu_id;
		*reg(apic, HVK_APIC_LDR) = x2apic_ldr(apic->vcpu_id);
	}
	*reg(apic, HVK_APIC_LVR) = lapic_version(apic);
	*reg(apic, HVK_APIC_ICR) &= ~ICR_BUSY;
	*reg(apic, HVK_APIC_TMCCT) = 0;
	*reg(apic, HVK_APIC_TDCR) &= 0xb;
	update_ppr(apic);
	apic->esr_pending = 0;
	apic->timer_divisor = hvk_lapic_tdcr_divisor(*reg(apic, HVK_APIC_TDCR));
	/* The count restarts from TMICT; a deadline from the MSR's value. */
	if (timer_mode(apic) == HVK_APIC_LVTT_TSC_DEADLINE)
		timer_start_deadline(apic);
	else
		timer_start_count(apic, ktime_get_ns());
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return 0;
}
