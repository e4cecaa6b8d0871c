// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel irqchip (KVM_CREATE_IRQCHIP): the LAPIC timer in one-shot,
 * periodic and TSC-deadline modes counted against the TSC, HLT that sleeps
 * in the kernel until the timer wakes it, self-IPIs and IPIs between vCPUs,
 * lowest-priority delivery, an IOAPIC level-triggered line with remote IRR
 * and EOI, the PIC through ExtINT, MSIs from KVM_SIGNAL_MSI and an irqfd,
 * the STI interrupt shadow, NMIs and NMI blocking, INIT/SIPI bring-up of
 * one and three application processors, and the ioctls' errors and state.
 * Written against the KVM ABI (Documentation/virt/kvm/api.rst): passes on
 * /dev/kvm too.
 *
 * Guests run in 32-bit protected mode without paging, so that the xAPIC
 * page (0xfee00000) and the IOAPIC (0xfec00000) are plain addresses, with
 * an IDT of 32-bit interrupt gates at IDT_GPA (SDM Vol. 3, 6.11).  Guests
 * talk to the test with OUT: 0xe2 "ready", 0xe0 a value from a handler,
 * 0xe3 "done" with a result in EAX; their data lives at VM_DATA_GPA.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#define IDT_GPA		0x10000
#define AP_STACK_GPA	0x20000		/* + 0x1000 per AP */
#define SIPI_VECTOR	0x30		/* APs start at 0x30000 */
#define SIPI_GPA	(SIPI_VECTOR << 12)
#define ADDR(name, label)	(VM_CODE_GPA + (uint64_t)((label) - name##_start))

#define PORT_REPORT	0xe0
#define PORT_READY	0xe2
#define PORT_DONE	0xe3

/* Guest data at VM_DATA_GPA (0x6000). */
#define D_COUNT		0x6000		/* handler runs */
#define D_VALUE		0x6004
#define D_FLAG		0x6008
#define D_NESTED	0x600c
#define D_TARGET	0x6010
#define D_ARG		0x6014
#define D_LVTT		0x6018
#define D_TSC_START	0x6020
#define D_DEADLINE	0x6028
#define D_TSC_END	0x6030
#define D_TSC_TICK	0x6038		/* TSC at the last tick */
#define D_AP_READY	0x6040
#define D_AP_GOT	0x6044
#define D_BSP_GOT	0x6048
#define D_PER_APIC	0x6050		/* a counter per APIC ID */
#define D_AP_COUNT	0x6060

#define S(x)		VM_STR(x)

/* 32-bit interrupt gate (SDM Vol. 3, Figure 6-2): P, DPL 0, type 0xe. */
static void set_gate(struct hvk_vm *vm, unsigned int vector, uint64_t handler)
{
	uint64_t *e = (uint64_t *)vm_gpa(vm, IDT_GPA) + vector;

	*e = (handler & 0xffff) | ((uint64_t)VM_SEL_CODE32 << 16) |
	     (0x8eULL << 40) | ((handler >> 16 & 0xffff) << 48);
}

static uint32_t data32(struct hvk_vm *vm, uint64_t gpa)
{
	return *(volatile uint32_t *)vm_gpa(vm, gpa);
}

static uint64_t data64(struct hvk_vm *vm, uint64_t gpa)
{
	return *(volatile uint64_t *)vm_gpa(vm, gpa);
}

/*
 * The supported CPUID plus TSC-deadline, which KVM offers through
 * KVM_CAP_TSC_DEADLINE_TIMER rather than in the table.
 */
static int set_cpuid(struct hvk_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *leaf1;
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = vm_get_supported_cpuid(vcpu->vm, &r);
	if (!cpuid)
		return r;
	leaf1 = vm_cpuid_entry(cpuid, 1, 0);
	if (leaf1 && ioctl(vcpu->vm->fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		leaf1->ecx |= 1U << 24;
	r = vm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return r;
}

/* 32-bit protected mode at @rip with the IDT and @rsp. */
static int setup_pm32(struct hvk_vcpu *vcpu, uint64_t rip, uint64_t rsp)
{
	struct kvm_sregs sregs;
	int r;

	r = set_cpuid(vcpu);
	if (!r)
		r = vcpu_setup_pm32(vcpu, rip);
	if (!r)
		r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 8 - 1;
	r = vcpu_set_sregs(vcpu, &sregs);
	if (r)
		return r;
	return vcpu_set_entry(vcpu, rip, rsp);
}

struct irq_vm {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu[4];
	int nr;
};

/* A VM with the irqchip, @nr vCPUs, @code loaded at VM_CODE_GPA. */
static int irq_vm_create(struct irq_vm *v, int nr, const uint8_t *start,
			 const uint8_t *end)
{
	int r, i;

	memset(v, 0, sizeof(*v));
	r = vm_create(&v->vm);
	if (r)
		return r;
	r = vm_ioctl(v->vm.fd, KVM_CREATE_IRQCHIP, 0);
	for (i = 0; !r && i < nr; i++) {
		r = vcpu_create(&v->vm, &v->vcpu[i], i);
		if (!r)
			v->nr++;
	}
	if (!r) {
		vm_load(&v->vm, VM_CODE_GPA, start, end);
		r = setup_pm32(&v->vcpu[0], VM_CODE_GPA, VM_STACK_TOP);
	}
	return r;
}

static void irq_vm_destroy(struct irq_vm *v)
{
	int i;

	for (i = 0; i < v->nr; i++)
		vcpu_destroy(&v->vcpu[i]);
	vm_destroy(&v->vm);
}

/* Run to an OUT to @port (any size); return its value. */
static uint32_t __run_to(struct __test_metadata *_metadata,
			 struct hvk_vcpu *vcpu, uint16_t port)
{
	struct kvm_run *run = vcpu->run;
	uint32_t val = 0;

	vcpu_run_expect(vcpu, KVM_EXIT_IO);
	EXPECT_EQ((uint8_t)KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(port, run->io.port)
		TH_LOG("OUT to %#x, want %#x", run->io.port, port);
	memcpy(&val, vcpu_io_data(vcpu), run->io.size);
	return val;
}
#define run_to(vcpu, port)	__run_to(_metadata, vcpu, port)

/* Writes to the xAPIC page and the IOAPIC, as guest assembler. */
#define APIC(reg, val)	"	movl $" S(val) ", 0xfee00" S(reg) "\n"
#define APIC_ENABLE	APIC(0f0, 0x1ff)	/* SVR: enabled, vector 0xff */
#define APIC_EOI	APIC(0b0, 0)
#define IOAPIC(sel, val) "	movl $" S(sel) ", 0xfec00000\n"		\
			 "	movl $" S(val) ", 0xfec00010\n"

/* ------------------------------------------------------------------ */
/* The LAPIC timer: one-shot, periodic, TSC-deadline, against the TSC */
/* ------------------------------------------------------------------ */

/*
 * EBX: TMICT (or the TSC delta of the deadline), ECX: ticks to wait, EDX:
 * LVTT.  Waits in HLT; each tick the handler counts and notes the TSC.
 */
GUEST_CODE_DECLARE(timer);
extern const uint8_t timer_handler[];
asm(GUEST_CODE_BEGIN(timer, ".code32")
"	movl %ecx, " S(D_TARGET) "\n"
"	movl %ebx, " S(D_ARG) "\n"
"	movl %edx, " S(D_LVTT) "\n"
APIC_ENABLE
APIC(3e0, 0xb)					/* divide by 1 */
"	movl %edx, 0xfee00320\n"		/* LVTT */
"	rdtsc\n"
"	movl %eax, " S(D_TSC_START) "\n"
"	movl %edx, " S(D_TSC_START) "+4\n"
"	testl $0x40000, " S(D_LVTT) "\n"
"	jz 2f\n"
"	addl " S(D_ARG) ", %eax\n"
"	adcl $0, %edx\n"
"	movl %eax, " S(D_DEADLINE) "\n"
"	movl %edx, " S(D_DEADLINE) "+4\n"
"	movl $0x6e0, %ecx\n"
"	wrmsr\n"
"	jmp 3f\n"
"2:	movl " S(D_ARG) ", %eax\n"
"	movl %eax, 0xfee00380\n"		/* TMICT */
"3:	sti\n"
"	hlt\n"
"	cli\n"
"	movl " S(D_COUNT) ", %eax\n"
"	cmpl " S(D_TARGET) ", %eax\n"
"	jb 3b\n"
"	rdtsc\n"
"	movl %eax, " S(D_TSC_END) "\n"
"	movl %edx, " S(D_TSC_END) "+4\n"
APIC(380, 0)					/* stop it */
"	outb %al, $" S(PORT_DONE) "\n"
"	hlt\n"
GUEST_LABEL(timer_handler)
"	pushl %eax\n"
"	pushl %edx\n"
"	rdtsc\n"
"	movl %eax, " S(D_TSC_TICK) "\n"
"	movl %edx, " S(D_TSC_TICK) "+4\n"
"	incl " S(D_COUNT) "\n"
APIC_EOI
"	popl %edx\n"
"	popl %eax\n"
"	iret\n"
GUEST_CODE_END(timer));

#define TIMER_VECTOR	0x40

/*
 * Run the timer guest; return the TSC ticks from arming to the last tick.
 * Emulated machines are slow and jittery: the bounds are generous, but a
 * timer must not fire early (beyond the TSC's and the clock's slack).
 */
static void timer_run(struct __test_metadata *_metadata, uint32_t lvtt,
		      uint32_t arg, uint32_t ticks, uint64_t expect_ns)
{
	struct irq_vm v;
	struct kvm_regs regs;
	uint64_t elapsed, expect;
	uint32_t count;
	long khz;

	ASSERT_EQ(0, irq_vm_create(&v, 1, timer_start, timer_end));
	set_gate(&v.vm, TIMER_VECTOR, ADDR(timer, timer_handler));
	khz = ioctl(v.vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
	ASSERT_GT(khz, 0);
	if (lvtt & 0x40000)
		arg = expect_ns * khz / 1000000;
	ASSERT_EQ(0, vcpu_get_regs(&v.vcpu[0], &regs));
	regs.rbx = arg;
	regs.rcx = ticks;
	regs.rdx = lvtt;
	ASSERT_EQ(0, vcpu_set_regs(&v.vcpu[0], &regs));

	/* HLT sleeps in the kernel: the first exit is the guest's OUT. */
	run_to(&v.vcpu[0], PORT_DONE);
	count = data32(&v.vm, D_COUNT);
	if (lvtt & 0x20000) {
		/*
		 * Periodic: one more tick may come between the handler's
		 * IRET and the guest's CLI when the machine is slow; the
		 * last tick's time then covers that many periods.
		 */
		ASSERT_GE(count, ticks);
		ASSERT_LE(count, ticks + 1);
	} else {
		ASSERT_EQ(ticks, count);
	}
	elapsed = data64(&v.vm, D_TSC_TICK) - data64(&v.vm, D_TSC_START);
	expect = expect_ns * khz / 1000000 / ticks * count;
	TH_LOG("%u tick(s): %llu TSC ticks, expected %llu (%ld kHz)", count,
	       (unsigned long long)elapsed, (unsigned long long)expect, khz);
	if (lvtt & 0x40000) {
		/* Not before the deadline (SDM Vol. 3, 11.5.4.1). */
		EXPECT_GE(data64(&v.vm, D_TSC_TICK), data64(&v.vm, D_DEADLINE));
	} else {
		EXPECT_GE(elapsed, expect * 9 / 10);
	}
	EXPECT_LE(elapsed, expect * 20 + 100ULL * khz);
	irq_vm_destroy(&v);
}

TEST(timer_oneshot)
{
	/* 20 ms at the 1 GHz bus clock, divide by 1. */
	timer_run(_metadata, TIMER_VECTOR, 20000000, 1, 20000000);
}

TEST(timer_periodic)
{
	/* 10 periods of 2 ms. */
	timer_run(_metadata, TIMER_VECTOR | 0x20000, 2000000, 10, 20000000);
}

TEST(timer_tsc_deadline)
{
	/* 20 ms ahead of the TSC. */
	timer_run(_metadata, TIMER_VECTOR | 0x40000, 0, 1, 20000000);
}

/* ------------------------------------------------------------------ */
/* HLT: a signal ends KVM_RUN; the vCPU is HALTED                      */
/* ------------------------------------------------------------------ */

GUEST_CODE_DECLARE(halt);
asm(GUEST_CODE_BEGIN(halt, ".code32")
"	cli\n"
"	hlt\n"
"	outb %al, $" S(PORT_DONE) "\n"
GUEST_CODE_END(halt));

static void sig_nop(int sig)
{
}

struct kicker {
	pthread_t target;
	int delay_ms;
};

static void *kicker_thread(void *arg)
{
	struct kicker *k = arg;
	struct timespec ts = { .tv_nsec = k->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

static void install_sigusr1(void)
{
	struct sigaction sa = { .sa_handler = sig_nop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns */
}

TEST(hlt_signal)
{
	struct kicker k = { .target = pthread_self(), .delay_ms = 200 };
	struct kvm_mp_state mp;
	struct irq_vm v;
	pthread_t t;

	install_sigusr1();
	ASSERT_EQ(0, irq_vm_create(&v, 1, halt_start, halt_end));
	ASSERT_EQ(0, pthread_create(&t, NULL, kicker_thread, &k));
	/* CLI; HLT never wakes by itself: only the signal ends KVM_RUN. */
	EXPECT_EQ(-EINTR, vcpu_run(&v.vcpu[0]));
	EXPECT_EQ((uint32_t)KVM_EXIT_INTR, v.vcpu[0].run->exit_reason);
	pthread_join(t, NULL);
	ASSERT_EQ(0, ioctl(v.vcpu[0].fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ((uint32_t)KVM_MP_STATE_HALTED, mp.mp_state);
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* Self-IPI and the STI shadow                                         */
/* ------------------------------------------------------------------ */

/*
 * With IF clear, a self-IPI waits in IRR; STI lets it in only after the
 * next instruction (SDM Vol. 3, 6.8.3): the handler reports where it
 * interrupted.
 */
GUEST_CODE_DECLARE(shadow);
extern const uint8_t shadow_handler[], shadow_after[];
asm(GUEST_CODE_BEGIN(shadow, ".code32")
"	cli\n"
APIC_ENABLE
APIC(300, 0x44070)			/* self, fixed, vector 0x70 */
"	sti\n"
"	movl $1, %ecx\n"
GUEST_LABEL(shadow_after)
"	nop\n"
"	movl " S(D_COUNT) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(shadow_handler)
"	incl " S(D_COUNT) "\n"
"	movl (%esp), %eax\n"
"	outl %eax, $" S(PORT_REPORT) "\n"
APIC_EOI
"	iret\n"
GUEST_CODE_END(shadow));

TEST(self_ipi_sti_shadow)
{
	struct irq_vm v;

	ASSERT_EQ(0, irq_vm_create(&v, 1, shadow_start, shadow_end));
	set_gate(&v.vm, 0x70, ADDR(shadow, shadow_handler));
	EXPECT_EQ(ADDR(shadow, shadow_after), run_to(&v.vcpu[0], PORT_REPORT));
	EXPECT_EQ(1U, run_to(&v.vcpu[0], PORT_DONE));
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* NMIs: delivery and blocking                                          */
/* ------------------------------------------------------------------ */

/*
 * An NMI to itself through the ICR; its handler sends a second one, which
 * must wait for the IRET (SDM Vol. 3, 6.7.1) rather than nest.
 */
GUEST_CODE_DECLARE(nmi);
extern const uint8_t nmi_handler[];
asm(GUEST_CODE_BEGIN(nmi, ".code32")
APIC_ENABLE
APIC(310, 0)
APIC(300, 0x4400)			/* NMI to APIC ID 0 */
"	movl $100000000, %ecx\n"
"1:	cmpl $2, " S(D_COUNT) "\n"
"	jae 2f\n"
"	pause\n"
"	loop 1b\n"
"2:	movl " S(D_NESTED) ", %eax\n"
"	shll $8, %eax\n"
"	orl " S(D_COUNT) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(nmi_handler)
"	cmpl $0, " S(D_FLAG) "\n"
"	je 3f\n"
"	incl " S(D_NESTED) "\n"
"	iret\n"
"3:	movl $1, " S(D_FLAG) "\n"
"	incl " S(D_COUNT) "\n"
"	cmpl $1, " S(D_COUNT) "\n"
"	jne 4f\n"
APIC(300, 0x4400)			/* another, while blocked */
"	pushl %ecx\n"
"	movl $1000, %ecx\n"
"5:	pause\n"
"	loop 5b\n"
"	popl %ecx\n"
"4:	movl $0, " S(D_FLAG) "\n"
"	iret\n"
GUEST_CODE_END(nmi));

TEST(nmi_blocking)
{
	struct irq_vm v;

	ASSERT_EQ(0, irq_vm_create(&v, 1, nmi_start, nmi_end));
	set_gate(&v.vm, 2, ADDR(nmi, nmi_handler));
	/* Two NMIs, none nested. */
	EXPECT_EQ(2U, run_to(&v.vcpu[0], PORT_DONE));
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* IOAPIC: a level-triggered line, remote IRR and EOI                   */
/* ------------------------------------------------------------------ */

/*
 * Pin 10 level-triggered to vector 0x60 on APIC 0; the PICs, which GSI 10
 * also reaches, masked as an IOAPIC guest does.
 */
GUEST_CODE_DECLARE(ioapic);
extern const uint8_t ioapic_handler[];
asm(GUEST_CODE_BEGIN(ioapic, ".code32")
APIC_ENABLE
"	movb $0xff, %al\n"
"	outb %al, $0x21\n"
"	outb %al, $0xa1\n"
IOAPIC(0x25, 0)
IOAPIC(0x24, 0xa060)			/* level, vector 0x60, unmasked */
"	outb %al, $" S(PORT_READY) "\n"
"	sti\n"
"	movl $100000, %ecx\n"
"1:	pause\n"
"	loop 1b\n"
"	cli\n"
"	movl " S(D_COUNT) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(ioapic_handler)
"	pushl %eax\n"
"	incl " S(D_COUNT) "\n"
"	movl " S(D_COUNT) ", %eax\n"
"	outl %eax, $" S(PORT_REPORT) "\n"
APIC_EOI
"	popl %eax\n"
"	iret\n"
GUEST_CODE_END(ioapic));

static uint64_t ioapic_rte(struct __test_metadata *_metadata,
			   struct hvk_vm *vm, int pin)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	EXPECT_EQ(0, ioctl(vm->fd, KVM_GET_IRQCHIP, &chip));
	return chip.chip.ioapic.redirtbl[pin].bits;
}

#define RTE_REMOTE_IRR	(1ULL << 14)

TEST(ioapic_level_eoi)
{
	struct kvm_irq_level line = { .irq = 10, .level = 1 };
	struct irq_vm v;

	ASSERT_EQ(0, irq_vm_create(&v, 1, ioapic_start, ioapic_end));
	set_gate(&v.vm, 0x60, ADDR(ioapic, ioapic_handler));
	run_to(&v.vcpu[0], PORT_READY);

	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_IRQ_LINE_STATUS, &line));
	EXPECT_GE(line.status, 1);
	/* In the handler, before EOI: remote IRR holds the line. */
	EXPECT_EQ(1U, run_to(&v.vcpu[0], PORT_REPORT));
	EXPECT_NE(0ULL, ioapic_rte(_metadata, &v.vm, 10) & RTE_REMOTE_IRR);
	/* EOI with the line still asserted: delivered again. */
	EXPECT_EQ(2U, run_to(&v.vcpu[0], PORT_REPORT));
	/* irq and status share their place. */
	line.irq = 10;
	line.level = 0;
	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_IRQ_LINE, &line));
	/* EOI with the line low: over. */
	EXPECT_EQ(2U, run_to(&v.vcpu[0], PORT_DONE));
	EXPECT_EQ(0ULL, ioapic_rte(_metadata, &v.vm, 10) & RTE_REMOTE_IRR);
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* The PICs through LINT0 (ExtINT)                                      */
/* ------------------------------------------------------------------ */

/* Master at vectors 0x30-0x37, IRQ 3 unmasked; the handler EOIs the PIC. */
GUEST_CODE_DECLARE(pic);
extern const uint8_t pic_handler[];
asm(GUEST_CODE_BEGIN(pic, ".code32")
APIC_ENABLE
"	movb $0x11, %al\n"
"	outb %al, $0x20\n"			/* ICW1: edge, cascade, ICW4 */
"	movb $0x30, %al\n"
"	outb %al, $0x21\n"			/* ICW2: vector base */
"	movb $0x04, %al\n"
"	outb %al, $0x21\n"			/* ICW3: slave on IR2 */
"	movb $0x01, %al\n"
"	outb %al, $0x21\n"			/* ICW4: 8086 mode */
"	movb $0xf7, %al\n"
"	outb %al, $0x21\n"			/* OCW1: only IRQ 3 */
"	outb %al, $" S(PORT_READY) "\n"
"1:	sti\n"
"	hlt\n"
"	cli\n"
"	cmpl $0, " S(D_COUNT) "\n"
"	je 1b\n"
"	movl " S(D_VALUE) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(pic_handler)
"	pushl %eax\n"
"	incl " S(D_COUNT) "\n"
"	movl $0x33, " S(D_VALUE) "\n"
"	movb $0x20, %al\n"
"	outb %al, $0x20\n"			/* OCW2: non-specific EOI */
"	popl %eax\n"
"	iret\n"
GUEST_CODE_END(pic));

TEST(pic_extint)
{
	struct kvm_irq_level line = { .irq = 3, .level = 1 };
	struct irq_vm v;

	ASSERT_EQ(0, irq_vm_create(&v, 1, pic_start, pic_end));
	set_gate(&v.vm, 0x33, ADDR(pic, pic_handler));
	run_to(&v.vcpu[0], PORT_READY);
	/* GSI 3: the PIC takes it (1), the masked IOAPIC pin does not. */
	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_IRQ_LINE_STATUS, &line));
	EXPECT_EQ(1, line.status);
	line.irq = 3;
	line.level = 0;
	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_IRQ_LINE, &line));
	EXPECT_EQ(0x33U, run_to(&v.vcpu[0], PORT_DONE));
	EXPECT_EQ(1U, data32(&v.vm, D_COUNT));
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* MSIs: KVM_SIGNAL_MSI, and an irqfd on an MSI route                  */
/* ------------------------------------------------------------------ */

GUEST_CODE_DECLARE(msi);
extern const uint8_t msi_handler61[], msi_handler62[];
asm(GUEST_CODE_BEGIN(msi, ".code32")
APIC_ENABLE
"	outb %al, $" S(PORT_READY) "\n"
"1:	sti\n"
"	hlt\n"
"	cli\n"
"	cmpl $2, " S(D_COUNT) "\n"
"	jb 1b\n"
"	movl " S(D_VALUE) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(msi_handler61)
"	orl $1, " S(D_VALUE) "\n"
"	incl " S(D_COUNT) "\n"
APIC_EOI
"	iret\n"
GUEST_LABEL(msi_handler62)
"	orl $2, " S(D_VALUE) "\n"
"	incl " S(D_COUNT) "\n"
APIC_EOI
"	iret\n"
GUEST_CODE_END(msi));

TEST(msi_signal_and_irqfd)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x61 };
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[1];
	} routing = {
		.hdr.nr = 1,
		.e[0] = {
			.gsi = 5, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = 0xfee00000, .data = 0x62 },
		},
	};
	struct kvm_irqfd irqfd = { .gsi = 5 };
	uint64_t one = 1;
	struct irq_vm v;
	int efd;

	ASSERT_EQ(0, irq_vm_create(&v, 1, msi_start, msi_end));
	set_gate(&v.vm, 0x61, ADDR(msi, msi_handler61));
	set_gate(&v.vm, 0x62, ADDR(msi, msi_handler62));
	run_to(&v.vcpu[0], PORT_READY);

	EXPECT_EQ(1, ioctl(v.vm.fd, KVM_SIGNAL_MSI, &msi));
	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_SET_GSI_ROUTING, &routing));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(efd, 0);
	irqfd.fd = efd;
	ASSERT_EQ(0, ioctl(v.vm.fd, KVM_IRQFD, &irqfd));
	/* One eventfd, one GSI. */
	EXPECT_EQ(-1, ioctl(v.vm.fd, KVM_IRQFD, &irqfd));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(8, write(efd, &one, sizeof(one)));
	EXPECT_EQ(3U, run_to(&v.vcpu[0], PORT_DONE));

	irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	EXPECT_EQ(0, ioctl(v.vm.fd, KVM_IRQFD, &irqfd));
	close(efd);
	irq_vm_destroy(&v);
}

/* ------------------------------------------------------------------ */
/* Several vCPUs                                                         */
/* ------------------------------------------------------------------ */

struct ap_thread {
	struct hvk_vcpu *vcpu;
	pthread_t thread;
	int result;		/* 0: ended by the signal; -errno, or exit */
};

/*
 * An AP's KVM_RUN loop: it sleeps in the kernel (waiting for SIPI, or in
 * HLT) until the main thread ends it with SIGUSR1.  Any exit to user space
 * is a failure, but KVM's -EAGAIN: KVM returns it once a vCPU that waited
 * for INIT (KVM_MP_STATE_UNINITIALIZED) has taken it.
 */
static void *ap_run(void *arg)
{
	struct ap_thread *t = arg;
	int r;

	do {
		r = vcpu_run(t->vcpu);
	} while (r == -EAGAIN);

	if (r == -EINTR && t->vcpu->run->exit_reason == KVM_EXIT_INTR)
		t->result = 0;
	else
		t->result = r ? r : (int)t->vcpu->run->exit_reason;
	return NULL;
}

static void ap_start(struct __test_metadata *_metadata, struct ap_thread *t,
		     struct hvk_vcpu *vcpu)
{
	t->vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&t->thread, NULL, ap_run, t));
}

static void ap_stop(struct __test_metadata *_metadata, struct ap_thread *t)
{
	pthread_kill(t->thread, SIGUSR1);
	pthread_join(t->thread, NULL);
	EXPECT_EQ(0, t->result) TH_LOG("vCPU %d: exit %s (%d)", t->vcpu->id,
				      vm_exit_name(t->result), t->result);
}

/* A common handler: counts per APIC ID at D_PER_APIC. */
#define PER_APIC_HANDLER(name)						\
GUEST_LABEL(name)							\
"	pushl %eax\n"							\
"	movl 0xfee00020, %eax\n"					\
"	shrl $24, %eax\n"						\
"	lock incl " S(D_PER_APIC) "(,%eax,4)\n"				\
APIC_EOI								\
"	popl %eax\n"							\
"	iret\n"

/*
 * The BSP waits for the AP, sends it vector 0x50 and waits for its answer
 * (vector 0x52); the AP is started directly in protected mode.
 */
GUEST_CODE_DECLARE(ipi);
extern const uint8_t ipi_ap[], ipi_handler[];
asm(GUEST_CODE_BEGIN(ipi, ".code32")
APIC_ENABLE
"1:	pause\n"
"	cmpl $1, " S(D_AP_READY) "\n"
"	jne 1b\n"
APIC(310, 0x01000000)			/* to APIC ID 1 */
APIC(300, 0x4050)			/* fixed, vector 0x50 */
"2:	sti\n"
"	hlt\n"
"	cli\n"
"	cmpl $0, " S(D_PER_APIC) "\n"	/* the AP's answer to APIC 0 */
"	je 2b\n"
"	movl " S(D_PER_APIC) "+4, %eax\n"
"	shll $8, %eax\n"
"	orl " S(D_PER_APIC) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(ipi_ap)
APIC_ENABLE
"	movl $1, " S(D_AP_READY) "\n"
"3:	sti\n"
"	hlt\n"
"	cli\n"
"	cmpl $0, " S(D_PER_APIC) "+4\n"
"	je 3b\n"
APIC(310, 0)				/* to APIC ID 0 */
APIC(300, 0x4052)
"4:	hlt\n"
"	jmp 4b\n"
PER_APIC_HANDLER(ipi_handler)
GUEST_CODE_END(ipi));

static void start_ap_pm32(struct __test_metadata *_metadata, struct irq_vm *v,
			  int i, uint64_t rip)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	ASSERT_EQ(0, setup_pm32(&v->vcpu[i], rip, AP_STACK_GPA + i * 0x1000));
	ASSERT_EQ(0, ioctl(v->vcpu[i].fd, KVM_SET_MP_STATE, &mp));
}

TEST(ipi_two_vcpus)
{
	struct ap_thread ap;
	struct irq_vm v;

	install_sigusr1();
	ASSERT_EQ(0, irq_vm_create(&v, 2, ipi_start, ipi_end));
	set_gate(&v.vm, 0x50, ADDR(ipi, ipi_handler));
	set_gate(&v.vm, 0x52, ADDR(ipi, ipi_handler));
	start_ap_pm32(_metadata, &v, 1, ADDR(ipi, ipi_ap));
	ap_start(_metadata, &ap, &v.vcpu[1]);
	/* One for each: the BSP's IPI to the AP and the AP's answer. */
	EXPECT_EQ(0x101U, run_to(&v.vcpu[0], PORT_DONE));
	ap_stop(_metadata, &ap);
	irq_vm_destroy(&v);
}

/*
 * Lowest priority to both APICs (logical flat, LDR bits 0 and 1): exactly
 * one takes it.  The BSP's TPR is 0x80, the AP's 0x10.
 */
GUEST_CODE_DECLARE(lowest);
extern const uint8_t lowest_ap[], lowest_handler[];
asm(GUEST_CODE_BEGIN(lowest, ".code32")
APIC_ENABLE
APIC(0d0, 0x01000000)			/* LDR: bit 0 */
APIC(080, 0x80)				/* TPR */
"1:	pause\n"
"	cmpl $1, " S(D_AP_READY) "\n"
"	jne 1b\n"
APIC(310, 0x03000000)			/* logical 0b11 */
APIC(300, 0x4993)			/* lowest priority, logical, 0x93 */
"	sti\n"
"	movl $1000000, %ecx\n"
"2:	pause\n"
"	loop 2b\n"
"	cli\n"
"	movl " S(D_PER_APIC) "+4, %eax\n"
"	shll $8, %eax\n"
"	orl " S(D_PER_APIC) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_LABEL(lowest_ap)
APIC_ENABLE
APIC(0d0, 0x02000000)			/* LDR: bit 1 */
APIC(080, 0x10)
"	movl $1, " S(D_AP_READY) "\n"
"3:	sti\n"
"	hlt\n"
"	jmp 3b\n"
PER_APIC_HANDLER(lowest_handler)
GUEST_CODE_END(lowest));

TEST(lowest_priority)
{
	struct ap_thread ap;
	struct irq_vm v;
	uint32_t got;

	install_sigusr1();
	ASSERT_EQ(0, irq_vm_create(&v, 2, lowest_start, lowest_end));
	set_gate(&v.vm, 0x93, ADDR(lowest, lowest_handler));
	start_ap_pm32(_metadata, &v, 1, ADDR(lowest, lowest_ap));
	ap_start(_metadata, &ap, &v.vcpu[1]);
	got = run_to(&v.vcpu[0], PORT_DONE);
	/* hvk arbitrates by priority; KVM may hash the vector instead. */
	if (hvk_testing_kvm()) {
		EXPECT_TRUE(got == 0x100 || got == 0x001) TH_LOG("got %#x", got);
	} else {
		EXPECT_EQ(0x100U, got);
	}
	ap_stop(_metadata, &ap);
	irq_vm_destroy(&v);
}

/*
 * INIT, then SIPI twice (SDM Vol. 3, 9.4.4.1) to all but self; each AP
 * starts in real mode at SIPI_GPA, counts itself and halts for ever.
 */
GUEST_CODE_DECLARE(bsp_boot);
asm(GUEST_CODE_BEGIN(bsp_boot, ".code32")
APIC_ENABLE
APIC(310, 0)
APIC(300, 0xc4500)			/* INIT, all excluding self */
APIC(300, 0xc4600 + SIPI_VECTOR)	/* SIPI */
APIC(300, 0xc4600 + SIPI_VECTOR)	/* SIPI, dropped by running APs */
"	movl %ebx, " S(D_TARGET) "\n"
"	movl $20000000, %esi\n"
"1:	xorl %eax, %eax\n"		/* CPUID exits: the host runs others */
"	cpuid\n"
"	movl " S(D_AP_COUNT) ", %eax\n"
"	cmpl " S(D_TARGET) ", %eax\n"
"	jae 2f\n"
"	decl %esi\n"
"	jnz 1b\n"
"2:	movl $1000000, %ecx\n"		/* a second AP start would show */
"3:	loop 3b\n"
"	movl " S(D_AP_COUNT) ", %eax\n"
"	outl %eax, $" S(PORT_DONE) "\n"
GUEST_CODE_END(bsp_boot));

GUEST_CODE_DECLARE(ap_boot);
asm(GUEST_CODE_BEGIN(ap_boot, ".code16")
"	lock incl " S(D_AP_COUNT) "\n"
"	cli\n"
"1:	hlt\n"
"	jmp 1b\n"
GUEST_CODE_END(ap_boot));

static void bringup(struct __test_metadata *_metadata, int nr)
{
	struct ap_thread ap[4];
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct irq_vm v;
	int i;

	install_sigusr1();
	ASSERT_EQ(0, irq_vm_create(&v, nr, bsp_boot_start, bsp_boot_end));
	vm_load(&v.vm, SIPI_GPA, ap_boot_start, ap_boot_end);
	ASSERT_EQ(0, vcpu_get_regs(&v.vcpu[0], &regs));
	regs.rbx = nr - 1;
	ASSERT_EQ(0, vcpu_set_regs(&v.vcpu[0], &regs));
	for (i = 1; i < nr; i++) {
		ASSERT_EQ(0, set_cpuid(&v.vcpu[i]));
		/* With the irqchip, APs wait for INIT and SIPI. */
		ASSERT_EQ(0, ioctl(v.vcpu[i].fd, KVM_GET_MP_STATE, &mp));
		EXPECT_EQ((uint32_t)KVM_MP_STATE_UNINITIALIZED, mp.mp_state);
		ap_start(_metadata, &ap[i], &v.vcpu[i]);
	}
	EXPECT_EQ((uint32_t)nr - 1, run_to(&v.vcpu[0], PORT_DONE));
	for (i = 1; i < nr; i++) {
		ap_stop(_metadata, &ap[i]);
		ASSERT_EQ(0, ioctl(v.vcpu[i].fd, KVM_GET_MP_STATE, &mp));
		EXPECT_EQ((uint32_t)KVM_MP_STATE_HALTED, mp.mp_state);
		/* Started at the SIPI vector: CS = vector << 8. */
		ASSERT_EQ(0, vcpu_get_regs(&v.vcpu[i], &regs));
		EXPECT_EQ(ap_boot_end - ap_boot_start - 2, (long)regs.rip);
	}
	irq_vm_destroy(&v);
}

TEST(bringup_2_vcpus)
{
	bringup(_metadata, 2);
}

TEST(bringup_4_vcpus)
{
	bringup(_metadata, 4);
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                           */
/* ------------------------------------------------------------------ */

TEST(irqchip_ioctls)
{
	struct kvm_interrupt intr = { .irq = 0x40 };
	struct kvm_irq_level line = { .irq = 4, .level = 1 };
	struct kvm_lapic_state lapic, lapic2;
	struct kvm_irqchip chip;
	struct hvk_vcpu vcpu;
	struct hvk_vm vm;

	ASSERT_EQ(0, vm_create(&vm));
	EXPECT_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	EXPECT_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_INJECT_STATUS));
	EXPECT_GT(ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING), 0);
	EXPECT_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD));
	EXPECT_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI));
	/* Without the irqchip. */
	EXPECT_EQ(-1, ioctl(vm.fd, KVM_IRQ_LINE, &line));
	EXPECT_EQ(ENXIO, errno);

	ASSERT_EQ(0, ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(-1, ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));

	/* The in-kernel LAPIC owns injection. */
	EXPECT_EQ(-1, ioctl(vcpu.fd, KVM_INTERRUPT, &intr));
	EXPECT_EQ(ENXIO, errno);

	/* LAPIC state: TPR and the spurious vector round-trip. */
	ASSERT_EQ(0, ioctl(vcpu.fd, KVM_GET_LAPIC, &lapic));
	EXPECT_EQ(0U, *(uint32_t *)&lapic.regs[0x20] >> 24);	/* ID 0 */
	*(uint32_t *)&lapic.regs[0x80] = 0x30;
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_EQ(0, ioctl(vcpu.fd, KVM_SET_LAPIC, &lapic));
	ASSERT_EQ(0, ioctl(vcpu.fd, KVM_GET_LAPIC, &lapic2));
	EXPECT_EQ(0x30U, *(uint32_t *)&lapic2.regs[0x80]);
	EXPECT_EQ(0x1ffU, *(uint32_t *)&lapic2.regs[0xf0]);

	/* IOAPIC state: a redirection entry round-trips. */
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	ASSERT_EQ(0, ioctl(vm.fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_NE(0ULL, (unsigned long long)chip.chip.ioapic.redirtbl[4].bits &
		  (1ULL << 16));
	chip.chip.ioapic.redirtbl[4].bits = 0x0300000000000045ULL;
	ASSERT_EQ(0, ioctl(vm.fd, KVM_SET_IRQCHIP, &chip));
	memset(&chip.chip, 0, sizeof(chip.chip));
	ASSERT_EQ(0, ioctl(vm.fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(0x0300000000000045ULL,
		  (unsigned long long)chip.chip.ioapic.redirtbl[4].bits);
	chip.chip_id = 3;
	EXPECT_EQ(-1, ioctl(vm.fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(EINVAL, errno);

	vcpu_destroy(&vcpu);
	vm_destroy(&vm);

	/* After a vCPU exists, no irqchip. */
	ASSERT_EQ(0, vm_create(&vm));
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	EXPECT_EQ(-1, ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EINVAL, errno);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
}

TEST_HARNESS_MAIN
