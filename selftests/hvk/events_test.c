// SPDX-License-Identifier: GPL-2.0
/*
 * Events and the guest debugger: KVM_GET/SET_VCPU_EVENTS, KVM_NMI,
 * KVM_INTERRUPT with request_interrupt_window (user-space irqchip), the
 * interrupt shadow, an exception whose delivery a VM exit interrupts,
 * KVM_SET_GUEST_DEBUG single-step and software breakpoints, INVPCID.
 * Written against the KVM ABI (Documentation/virt/kvm/api.rst): passes on
 * /dev/kvm too.
 *
 * The guests run in long mode with an IDT at IDT_GPA whose gates point
 * into the guest code (64-bit interrupt gates, SDM Vol. 3, 6.14.1).
 */
#include <signal.h>

#include "kselftest_harness.h"
#include "kvm_stats.h"
#include "vm_util.h"

#define IDT_GPA		0x10000
#define ADDR(name, label)	(VM_CODE_GPA + (uint64_t)((label) - name##_start))

/* A second slot, mapped by a 2 MiB page: untouched until the guest uses it. */
#define FRESH_GPA	0x200000
#define FRESH_SIZE	0x10000
#define FRESH_IDT	FRESH_GPA
#define FRESH_CODE	(FRESH_GPA + 0x1000)
#define FRESH_STACK	(FRESH_GPA + 0x3000)

#define X86_EFLAGS_IF	(1UL << 9)
#define X86_EFLAGS_TF	(1UL << 8)

static void set_gate(void *idt, unsigned int vector, uint64_t handler)
{
	uint64_t *e = (uint64_t *)idt + 2 * vector;

	e[0] = (handler & 0xffff) | ((uint64_t)VM_SEL_CODE64 << 16) |
	       (0x8eULL << 40) |			/* P, DPL 0, 64-bit int gate */
	       ((handler >> 16 & 0xffff) << 48);
	e[1] = handler >> 32;
}

static int setup_idt(struct hvk_vcpu *vcpu, uint64_t base)
{
	struct kvm_sregs sregs;
	int r = vcpu_get_sregs(vcpu, &sregs);

	if (r)
		return r;
	sregs.idt.base = base;
	sregs.idt.limit = 256 * 16 - 1;
	return vcpu_set_sregs(vcpu, &sregs);
}

/* NMI handler: OUT 0x20 with the count, OUT 0x21, IRET. */
GUEST_CODE_DECLARE(nmi);
extern const uint8_t nmi_handler[];
asm(GUEST_CODE_BEGIN(nmi, ".code64")
"	xorl %ebx, %ebx\n"
"	outb %al, $0x10\n"
"	outb %al, $0x30\n"
"	hlt\n"
GUEST_LABEL(nmi_handler)
"	incl %ebx\n"
"	movl %ebx, %eax\n"
"	outl %eax, $0x20\n"
"	outb %al, $0x21\n"
"	iretq\n"
GUEST_CODE_END(nmi));

/* IRQ 0x41 handler: OUT of its return RIP. Main: IF=0, then STI. */
GUEST_CODE_DECLARE(irq);
extern const uint8_t irq_handler[], irq_after_sti[], irq_after_hlt[];
asm(GUEST_CODE_BEGIN(irq, ".code64")
"	cli\n"
"	outb %al, $0x10\n"
"	sti\n"
"	nop\n"
GUEST_LABEL(irq_after_sti)
"	nop\n"
"	outb %al, $0x11\n"
"	cli\n"
"	outb %al, $0x12\n"
"	sti\n"
"	hlt\n"
GUEST_LABEL(irq_after_hlt)
"	outb %al, $0x13\n"
"	hlt\n"
GUEST_LABEL(irq_handler)
"	movl (%rsp), %eax\n"
"	outl %eax, $0x41\n"
"	iretq\n"
GUEST_CODE_END(irq));

/* STI, then an OUT inside its shadow. */
GUEST_CODE_DECLARE(shadow);
asm(GUEST_CODE_BEGIN(shadow, ".code64")
"	sti\n"
"	outb %al, $0x10\n"
"	hlt\n"
GUEST_CODE_END(shadow));

/* #DE with its IDT, handler and stack in pages the guest never touched. */
GUEST_CODE_DECLARE(redeliver);
extern const uint8_t redeliver_div[];
asm(GUEST_CODE_BEGIN(redeliver, ".code64")
"	movq $" VM_STR(FRESH_STACK) ", %rsp\n"
"	xorl %ecx, %ecx\n"
"	movl $7, %eax\n"
GUEST_LABEL(redeliver_div)
"	divl %ecx\n"
"	movl " VM_STR(VM_DATA_GPA) ", %eax\n"
"	outl %eax, $0x21\n"
"	hlt\n"
GUEST_CODE_END(redeliver));

/* #DE handler, at FRESH_CODE: count, report the faulting RIP, skip DIV. */
GUEST_CODE_DECLARE(de_handler);
asm(GUEST_CODE_BEGIN(de_handler, ".code64")
"	incl " VM_STR(VM_DATA_GPA) "\n"
"	movl (%rsp), %eax\n"
"	outl %eax, $0x20\n"
"	addq $2, (%rsp)\n"
"	iretq\n"
GUEST_CODE_END(de_handler));

/* Instructions to single-step, then an OUT and HLT. */
GUEST_CODE_DECLARE(step);
extern const uint8_t step_1[], step_2[], step_3[], step_4[], step_5[];
extern const uint8_t step_db[];
asm(GUEST_CODE_BEGIN(step, ".code64")
"	nop\n"
GUEST_LABEL(step_1)
"	movl $1, %eax\n"
GUEST_LABEL(step_2)
"	addl $2, %eax\n"
GUEST_LABEL(step_3)
"	incl %eax\n"
GUEST_LABEL(step_4)
"	outb %al, $0x10\n"
GUEST_LABEL(step_5)
"	hlt\n"
GUEST_LABEL(step_db)
"	iretq\n"
GUEST_CODE_END(step));

/*
 * Exits the fast path handles (CPUID, RDMSR), under the debugger's single
 * step: each still ends in a KVM_EXIT_DEBUG.
 */
GUEST_CODE_DECLARE(step_fast);
extern const uint8_t step_fast_1[], step_fast_2[], step_fast_3[],
	step_fast_4[];
asm(GUEST_CODE_BEGIN(step_fast, ".code64")
"	xorl %eax, %eax\n"
GUEST_LABEL(step_fast_1)
"	cpuid\n"
GUEST_LABEL(step_fast_2)
"	movl $0x1a0, %ecx\n"
GUEST_LABEL(step_fast_3)
"	rdmsr\n"
GUEST_LABEL(step_fast_4)
"	hlt\n"
GUEST_CODE_END(step_fast));

/*
 * The guest's own TF over CPUID: the #DB comes after CPUID (POPF that sets
 * TF traps only after the next instruction).  The handler keeps the first
 * return address in R10, which is OUT to port 0x10.
 */
GUEST_CODE_DECLARE(tf_cpuid);
extern const uint8_t tf_cpuid_after[], tf_cpuid_db[];
asm(GUEST_CODE_BEGIN(tf_cpuid, ".code64")
"	xorl %r10d, %r10d\n"
"	xorl %eax, %eax\n"
"	pushfq\n"
"	orq $0x100, (%rsp)\n"
"	popfq\n"
"	cpuid\n"
GUEST_LABEL(tf_cpuid_after)
"	pushfq\n"
"	andq $~0x100, (%rsp)\n"
"	popfq\n"
"	movl %r10d, %eax\n"
"	outl %eax, $0x10\n"
"	hlt\n"
GUEST_LABEL(tf_cpuid_db)
"	testq %r10, %r10\n"
"	jnz 1f\n"
"	movq (%rsp), %r10\n"
"1:	iretq\n"
GUEST_CODE_END(tf_cpuid));

/*
 * CPUID forever, interrupts off: only a signal ends KVM_RUN.  With IF
 * clear, Bochs's VMX does not exit for a host interrupt pending at entry,
 * so the host's timer (and the signal) reach the vCPU only if the fast path
 * leaves its loop by itself now and then.
 */
GUEST_CODE_DECLARE(cpuid_loop);
asm(GUEST_CODE_BEGIN(cpuid_loop, ".code64")
"	cli\n"
"1:	xorl %eax, %eax\n"
"	cpuid\n"
"	jmp 1b\n"
GUEST_CODE_END(cpuid_loop));

GUEST_CODE_DECLARE(bp);
extern const uint8_t bp_int3[];
asm(GUEST_CODE_BEGIN(bp, ".code64")
"	nop\n"
GUEST_LABEL(bp_int3)
"	int3\n"
"	outb %al, $0x10\n"
"	hlt\n"
GUEST_CODE_END(bp));

/* INVPCID type 2 (all contexts, globals too); #UD handler OUTs 0x06. */
GUEST_CODE_DECLARE(invpcid);
extern const uint8_t invpcid_ud[];
asm(GUEST_CODE_BEGIN(invpcid, ".code64")
"	movl $2, %eax\n"
"	movq $" VM_STR(VM_DATA_GPA) ", %rbx\n"
"	invpcid (%rbx), %rax\n"
"	outb %al, $0x10\n"
"	hlt\n"
GUEST_LABEL(invpcid_ud)
"	outb %al, $0x06\n"
"	hlt\n"
GUEST_CODE_END(invpcid));

FIXTURE(events) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(events)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
}

FIXTURE_TEARDOWN(events)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

#define LOAD(self, name) \
	vm_load(&(self)->vm, VM_CODE_GPA, name##_start, name##_end)

static void start_long(struct __test_metadata *_metadata,
		       FIXTURE_DATA(events) *self)
{
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	memset(vm_gpa(&self->vm, IDT_GPA), 0, 4096);
	ASSERT_EQ(0, setup_idt(&self->vcpu, IDT_GPA));
}

static int get_events(struct hvk_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	return vm_ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, ev);
}

static bool on_svm(void)
{
	return hvk_cpu_has_flag("svm");
}

TEST_F(events, capabilities)
{
	int fd = self->vm.sys_fd;

	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS));
	/* Shadow state is in KVM_GET_VCPU_EVENTS; x86 KVM reports 0. */
	EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_INTR_SHADOW));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_NMI));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG));
	EXPECT_NE(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2) &
		     KVM_GUESTDBG_SINGLESTEP);
}

/* Every field set, read back as set (KVM_SET_VCPU_EVENTS, api.rst). */
TEST_F(events, round_trip)
{
	struct kvm_vcpu_events set = {
		.exception = {
			.injected = 1, .nr = 13, .has_error_code = 1,
			.error_code = 0x1234,
		},
		.interrupt = { .injected = 1, .nr = 0x41,
			       .shadow = KVM_X86_SHADOW_INT_STI },
		.nmi = { .injected = 1, .pending = 1, .masked = 1 },
		.flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
			 KVM_VCPUEVENT_VALID_SHADOW,
	};
	struct kvm_vcpu_events get;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/* STI blocking goes with RFLAGS.IF set. */
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	regs.rflags |= X86_EFLAGS_IF;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &regs));

	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &set));
	ASSERT_EQ(0, get_events(&self->vcpu, &get));
	EXPECT_EQ(1, get.exception.injected);
	EXPECT_EQ(0, get.exception.pending);
	EXPECT_EQ(13, get.exception.nr);
	EXPECT_EQ(1, get.exception.has_error_code);
	EXPECT_EQ(0x1234U, get.exception.error_code);
	EXPECT_EQ(1, get.interrupt.injected);
	EXPECT_EQ(0x41, get.interrupt.nr);
	EXPECT_EQ(0, get.interrupt.soft);
	/* SVM's shadow does not say which instruction set it: both. */
	if (on_svm()) {
		EXPECT_EQ(KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS,
			  get.interrupt.shadow);
	} else {
		EXPECT_EQ(KVM_X86_SHADOW_INT_STI, get.interrupt.shadow);
	}
	EXPECT_EQ(1, get.nmi.injected);
	EXPECT_EQ(1, get.nmi.pending);
	EXPECT_EQ(1, get.nmi.masked);
	EXPECT_NE(0U, get.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	EXPECT_NE(0U, get.flags & KVM_VCPUEVENT_VALID_SHADOW);
	EXPECT_EQ(0U, get.flags & KVM_VCPUEVENT_VALID_PAYLOAD);

	/* The interrupt shows in KVM_GET_SREGS' bitmap too. */
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	EXPECT_EQ(1ULL << 1, sregs.interrupt_bitmap[1]);

	/* And all cleared again. */
	memset(&set, 0, sizeof(set));
	set.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &set));
	ASSERT_EQ(0, get_events(&self->vcpu, &get));
	EXPECT_EQ(0, get.exception.injected);
	EXPECT_EQ(0, get.interrupt.injected);
	EXPECT_EQ(0, get.interrupt.shadow);
	EXPECT_EQ(0, get.nmi.injected);
	EXPECT_EQ(0, get.nmi.pending);
	EXPECT_EQ(0, get.nmi.masked);
}

/* KVM's errnos for what it refuses. */
TEST_F(events, bad_values)
{
	struct kvm_vcpu_events ev = { 0 };
	struct kvm_interrupt irq = { .irq = 256 };
	struct kvm_guest_debug dbg = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
	};

	ev.flags = 1U << 15;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	/* Payloads need KVM_CAP_EXCEPTION_PAYLOAD enabled. */
	ev.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 32;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.exception.nr = 2;	/* NMI is not an exception */
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_INTERRUPT, &irq));
	EXPECT_EQ(EINVAL, errno);

	/*
	 * hvk refuses the debug flags it does not implement (hardware
	 * breakpoints); KVM implements them and ignores unknown ones.
	 */
	if (!hvk_testing_kvm()) {
		EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_GUEST_DEBUG, &dbg));
		EXPECT_EQ(EINVAL, errno);
	}
}

/*
 * KVM_NMI reaches the guest's NMI handler; a second NMI while the handler
 * runs waits for its IRET (SDM Vol. 3, 6.7.1).
 */
TEST_F(events, nmi_blocked_until_iret)
{
	struct kvm_vcpu_events ev;

	LOAD(self, nmi);
	start_long(_metadata, self);
	set_gate(vm_gpa(&self->vm, IDT_GPA), 2, ADDR(nmi, nmi_handler));

	vcpu_run_out(&self->vcpu, 0x10, 1);
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_NMI, NULL));
	EXPECT_EQ(1U, vcpu_run_out(&self->vcpu, 0x20, 4));
	/* In the handler: NMIs blocked.  A second one is latched. */
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_NMI, NULL));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.masked);
	EXPECT_EQ(1, ev.nmi.pending);
	EXPECT_EQ(0, ev.nmi.injected);
	vcpu_run_out(&self->vcpu, 0x21, 1);
	/* After the IRET, the second NMI. */
	EXPECT_EQ(2U, vcpu_run_out(&self->vcpu, 0x20, 4));
	vcpu_run_out(&self->vcpu, 0x21, 1);
	vcpu_run_out(&self->vcpu, 0x30, 1);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.masked);
	EXPECT_EQ(0, ev.nmi.pending);
}

/*
 * User-space irqchip: with request_interrupt_window set and IF=0, the
 * window opens after STI and its one-instruction shadow; KVM_INTERRUPT
 * then delivers there.  STI;HLT: HLT exits with the interrupt allowed, the
 * interrupt returns past the HLT.
 */
TEST_F(events, interrupt_window)
{
	struct kvm_run *run = self->vcpu.run;
	struct kvm_interrupt irq = { .irq = 0x41 };

	LOAD(self, irq);
	start_long(_metadata, self);
	set_gate(vm_gpa(&self->vm, IDT_GPA), 0x41, ADDR(irq, irq_handler));

	run->request_interrupt_window = 1;
	vcpu_run_out(&self->vcpu, 0x10, 1);
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);

	vcpu_run_expect(&self->vcpu, KVM_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_INTERRUPT, &irq));
	run->request_interrupt_window = 0;
	EXPECT_EQ((uint32_t)ADDR(irq, irq_after_sti),
		  vcpu_run_out(&self->vcpu, 0x41, 4));
	vcpu_run_out(&self->vcpu, 0x11, 1);

	/* STI; HLT. */
	vcpu_run_out(&self->vcpu, 0x12, 1);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	run->request_interrupt_window = 1;
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_INTERRUPT, &irq));
	run->request_interrupt_window = 0;
	EXPECT_EQ((uint32_t)ADDR(irq, irq_after_hlt),
		  vcpu_run_out(&self->vcpu, 0x41, 4));
	vcpu_run_out(&self->vcpu, 0x13, 1);
}

/*
 * The STI shadow is visible in KVM_GET_VCPU_EVENTS at an exit inside it.
 * QEMU's SVM drops the shadow when it resumes a guest whose exit for a host
 * interrupt came inside it (KVM shows the same), so an attempt that took
 * such an exit between the STI and the OUT is run again.
 */
TEST_F(events, sti_shadow)
{
	struct kvm_run *run = self->vcpu.run;
	struct kvm_vcpu_events ev;
	uint64_t irqs_before, irqs_after;
	int attempt;

	LOAD(self, shadow);
	for (attempt = 0; attempt < 20; attempt++) {
		start_long(_metadata, self);
		ASSERT_EQ(0, kvm_stat(self->vcpu.fd, "irq_exits",
				      &irqs_before));
		vcpu_run_out(&self->vcpu, 0x10, 1);
		ASSERT_EQ(0, kvm_stat(self->vcpu.fd, "irq_exits",
				      &irqs_after));
		ASSERT_EQ(0, get_events(&self->vcpu, &ev));
		if (ev.interrupt.shadow || irqs_after == irqs_before)
			break;
		vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	}
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	EXPECT_NE(0, ev.interrupt.shadow & KVM_X86_SHADOW_INT_STI);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt.shadow);
}

/*
 * #DE whose delivery reads an IDT and pushes on a stack that are not yet
 * in the second-level tables: the delivery exits midway, is delivered
 * again, and the handler runs exactly once.
 */
TEST_F(events, exception_redelivered)
{
	uint64_t *pd = vm_gpa(&self->vm, VM_PD_GPA);
	void *fresh = NULL;

	LOAD(self, redeliver);
	start_long(_metadata, self);
	ASSERT_EQ(0, vm_add_memory(&self->vm, 1, FRESH_GPA, FRESH_SIZE, &fresh));
	pd[1] = FRESH_GPA | PTE_P | PTE_RW | PTE_PS;
	memcpy((uint8_t *)fresh + (FRESH_CODE - FRESH_GPA), de_handler_start,
	       de_handler_end - de_handler_start);
	set_gate(fresh, 0, FRESH_CODE);
	ASSERT_EQ(0, setup_idt(&self->vcpu, FRESH_IDT));

	EXPECT_EQ((uint32_t)ADDR(redeliver, redeliver_div),
		  vcpu_run_out(&self->vcpu, 0x20, 4));
	/* The handler's count. */
	EXPECT_EQ(1U, vcpu_run_out(&self->vcpu, 0x21, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

static void set_debug(struct __test_metadata *_metadata,
		      struct hvk_vcpu *vcpu, uint32_t control)
{
	struct kvm_guest_debug dbg = { .control = control };

	ASSERT_EQ(0, vm_ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg));
}

static void check_debug_exit(struct __test_metadata *_metadata,
			     struct hvk_vcpu *vcpu, uint32_t exception,
			     uint64_t pc)
{
	struct kvm_run *run = vcpu->run;

	ASSERT_EQ((uint32_t)KVM_EXIT_DEBUG, run->exit_reason)
		TH_LOG("exit %s", vm_exit_name(run->exit_reason));
	EXPECT_EQ(exception, run->debug.arch.exception);
	EXPECT_EQ(pc, run->debug.arch.pc);
	if (exception == 1) {
		/* DR6.BS: a single-step trap (SDM Vol. 3, 19.2.3). */
		EXPECT_NE(0ULL, run->debug.arch.dr6 & (1ULL << 14));
	}
}

static void expect_debug_exit(struct __test_metadata *_metadata,
			      struct hvk_vcpu *vcpu, uint32_t exception,
			      uint64_t pc)
{
	ASSERT_EQ(0, vcpu_run(vcpu));
	check_debug_exit(_metadata, vcpu, exception, pc);
}

/* One KVM_EXIT_DEBUG per instruction, the one hvk completes included. */
TEST_F(events, single_step)
{
	struct kvm_regs regs;

	LOAD(self, step);
	start_long(_metadata, self);
	/*
	 * Under KVM, Bochs's VMX delivers a stray single-step #DB to the
	 * guest after the debugger is gone: the guest ignores it.
	 */
	set_gate(vm_gpa(&self->vm, IDT_GPA), 1, ADDR(step, step_db));
	set_debug(_metadata, &self->vcpu,
		  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP);

	/*
	 * Bochs's VMX reports a single-step trap before the first guest
	 * instruction when the fetch of that instruction first took an EPT
	 * violation, under KVM as under hvk: one such exit is let through.
	 */
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	if (self->vcpu.run->exit_reason == KVM_EXIT_DEBUG &&
	    self->vcpu.run->debug.arch.pc == VM_CODE_GPA && !on_svm()) {
		TH_LOG("a single-step exit before the first instruction");
		ASSERT_EQ(0, vcpu_run(&self->vcpu));
	}
	check_debug_exit(_metadata, &self->vcpu, 1, ADDR(step, step_1));
	/* The debugger's TF is not the guest's. */
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	EXPECT_EQ(0ULL, regs.rflags & X86_EFLAGS_TF);
	expect_debug_exit(_metadata, &self->vcpu, 1, ADDR(step, step_2));
	expect_debug_exit(_metadata, &self->vcpu, 1, ADDR(step, step_3));
	expect_debug_exit(_metadata, &self->vcpu, 1, ADDR(step, step_4));
	EXPECT_EQ(4U, vcpu_run_out(&self->vcpu, 0x10, 1));
	expect_debug_exit(_metadata, &self->vcpu, 1, ADDR(step, step_5));

	set_debug(_metadata, &self->vcpu, 0);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/* The fast path leaves single-stepped instructions to the slow one. */
TEST_F(events, single_step_fast_exits)
{
	LOAD(self, step_fast);
	start_long(_metadata, self);
	set_gate(vm_gpa(&self->vm, IDT_GPA), 1, ADDR(step, step_db));
	set_debug(_metadata, &self->vcpu,
		  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP);
	/* As in single_step: Bochs's trap before the first instruction. */
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	if (self->vcpu.run->exit_reason == KVM_EXIT_DEBUG &&
	    self->vcpu.run->debug.arch.pc == VM_CODE_GPA && !on_svm()) {
		TH_LOG("a single-step exit before the first instruction");
		/*
		 * KVM on Bochs then also reports the steps over CPUID one
		 * instruction late: the emulator's pending trap, not the
		 * exits under test here (hvk's fast path).
		 */
		if (hvk_testing_kvm())
			SKIP(return, "Bochs's stray single-step trap under KVM");
		ASSERT_EQ(0, vcpu_run(&self->vcpu));
	}
	check_debug_exit(_metadata, &self->vcpu, 1,
			 ADDR(step_fast, step_fast_1));
	expect_debug_exit(_metadata, &self->vcpu, 1,
			  ADDR(step_fast, step_fast_2));
	expect_debug_exit(_metadata, &self->vcpu, 1,
			  ADDR(step_fast, step_fast_3));
	expect_debug_exit(_metadata, &self->vcpu, 1,
			  ADDR(step_fast, step_fast_4));
	set_debug(_metadata, &self->vcpu, 0);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/* The guest's TF over CPUID: its #DB right after CPUID. */
TEST_F(events, guest_tf_over_cpuid)
{
	LOAD(self, tf_cpuid);
	start_long(_metadata, self);
	set_gate(vm_gpa(&self->vm, IDT_GPA), 1, ADDR(tf_cpuid, tf_cpuid_db));
	EXPECT_EQ(ADDR(tf_cpuid, tf_cpuid_after),
		  vcpu_run_out(&self->vcpu, 0x10, 4));
}

static void on_alarm(int sig)
{
}

/*
 * A guest whose every exit the fast path handles still returns to user
 * space for a signal, with KVM_EXIT_INTR.
 */
TEST_F(events, signal_ends_fast_exits)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;

	LOAD(self, cpuid_loop);
	start_long(_metadata, self);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	alarm(1);
	EXPECT_EQ(-EINTR, vcpu_run(&self->vcpu));
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ((uint32_t)KVM_EXIT_INTR, self->vcpu.run->exit_reason);
}

/* INT3 with software breakpoints: KVM_EXIT_DEBUG, exception 3, at INT3. */
TEST_F(events, software_breakpoint)
{
	LOAD(self, bp);
	start_long(_metadata, self);
	set_debug(_metadata, &self->vcpu,
		  KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP);
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	/*
	 * QEMU's SVM checks the software-interrupt intercept for INT3, not
	 * the #BP one: the guest takes the #BP (no IDT: shutdown), under KVM
	 * as under hvk.
	 */
	if (on_svm() && self->vcpu.run->exit_reason == KVM_EXIT_SHUTDOWN)
		SKIP(return, "the CPU did not intercept INT3 as #BP");
	ASSERT_EQ((uint32_t)KVM_EXIT_DEBUG, self->vcpu.run->exit_reason);
	EXPECT_EQ(3U, self->vcpu.run->debug.arch.exception);
	EXPECT_EQ(ADDR(bp, bp_int3), self->vcpu.run->debug.arch.pc);
}

static bool cpuid_has_invpcid(struct kvm_cpuid2 *cpuid)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 7 && !cpuid->entries[i].index)
			return cpuid->entries[i].ebx & (1U << 10);
	return false;
}

/*
 * INVPCID runs where CPUID offers it, and is #UD where the vCPU's CPUID
 * does not.
 */
TEST_F(events, invpcid)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	unsigned int i;

	LOAD(self, invpcid);
	start_long(_metadata, self);
	set_gate(vm_gpa(&self->vm, IDT_GPA), 6, ADDR(invpcid, invpcid_ud));
	memset(vm_gpa(&self->vm, VM_DATA_GPA), 0, 16);

	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	ASSERT_NE(NULL, cpuid);
	cpuid->nent = 256;
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_GET_CPUID2, cpuid));
	if (cpuid_has_invpcid(cpuid)) {
		vcpu_run_out(&self->vcpu, 0x10, 1);
	} else {
		TH_LOG("INVPCID not offered");
		vcpu_run_out(&self->vcpu, 0x06, 1);
	}

	/* A vCPU whose CPUID lacks it. */
	vcpu_destroy(&self->vcpu);
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 1));
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 7)
			cpuid->entries[i].ebx &= ~(1U << 10);
	ASSERT_EQ(0, vm_ioctl(self->vcpu.fd, KVM_SET_CPUID2, cpuid));
	free(cpuid);
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	vm_sregs_flat(&self->vm, &sregs, true);
	sregs.cr3 = VM_PML4_GPA;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sregs));
	ASSERT_EQ(0, vcpu_set_entry(&self->vcpu, VM_CODE_GPA, VM_STACK_TOP));
	vcpu_run_out(&self->vcpu, 0x06, 1);
}

TEST_HARNESS_MAIN
