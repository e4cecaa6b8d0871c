// SPDX-License-Identifier: GPL-2.0
/*
 * hvk-bench: what one VM exit costs, round trip, in the spirit of
 * kvm-unit-tests' vmexit test.  Figures, not a test.  Each benchmark is a
 * long-mode guest that runs its exiting instruction WARMUP times, then N
 * times between two RDTSCs, then runs the same loop without the exiting
 * instruction (the loop overhead, measured the same way); the figure is
 * (timed - overhead) / N guest TSC ticks.  Under `run --bench` the guest
 * TSC counts instructions of the whole emulated machine (guest, hypervisor,
 * host kernel, user space), so the figures repeat.
 *
 *   cpuid        CPUID leaf 0, handled in the kernel
 *   vmcall       KVM_HC_VAPIC_POLL_IRQ through VMCALL (VMMCALL on AMD)
 *   rdmsr        RDMSR of IA32_MISC_ENABLE (intercepted by both)
 *   wrmsr        WRMSR of IA32_MISC_ENABLE with its own value
 *   pio_kernel   IN from port 0x21, the master PIC's IMR (in-kernel irqchip)
 *   pio_user     OUT to port 0xe0, answered by the KVM_RUN loop here
 *   mmio_user    a 32-bit write to unbacked memory, answered here
 *   hlt_timer    arm the TSC-deadline timer for "now", STI; HLT: the timer's
 *                interrupt wakes the vCPU, its handler writes the EOI
 *   self_ipi     a fixed IPI to self through the xAPIC ICR, taken at once
 *   ipi          ping-pong with a second vCPU (which halts between pings):
 *                IPI there, its handler IPIs back, this vCPU halts until
 *                the answer arrives; one round trip is two IPIs
 *   first_touch  a write to each 4 KiB page of a fresh 64 MiB slot (a
 *                second-level page fault and map per page); the overhead
 *                is a second pass over the same pages
 *
 * Output, one line per benchmark and device:
 *
 *   hvk_bench NAME DEV=CYCLES          (DEV: "hvk" for /dev/hvk, "kvm"...)
 *   hvk_bench NAME DEV=NA unsupported: WHY
 *
 * and with -c FILE (an earlier run's output on another device), the ratio
 * of this device's figure to that one's, as
 *
 *   bench NAME hvk=CYCLES kvm=CYCLES ratio=HVK/KVM
 *
 * usage: exit_bench [-d DEV] [-n N] [-c FILE] [NAME...]
 *   -d DEV   the device (default $HVK_DEV, else /dev/hvk)
 *   -n N     timed iterations (default 1000; warm-up N / 10)
 *   -c FILE  compare with the figures in FILE
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <libgen.h>

#include "vm_util.h"

/* Guest memory (slot 0, 2 MiB) beyond vm_util.h's layout. */
#define RESULT_GPA	VM_DATA_GPA		/* u64 timed, u64 overhead */
#define PARAM_WARMUP	(VM_DATA_GPA + 0x100)	/* u64 */
#define PARAM_N		(VM_DATA_GPA + 0x108)	/* u64 */
#define FLAG_READY	(VM_DATA_GPA + 0x110)	/* u8: vCPU 1 listens */
#define FLAG_PONG	(VM_DATA_GPA + 0x118)	/* u8: vCPU 0 got its answer */
#define IDT_GPA		0x10000
#define APIC_PD_GPA	0x11000			/* maps the 4th GiB */
#define MMIO_PD_GPA	0x12000			/* maps the 2nd GiB */
#define TOUCH_PD_GPA	0x13000			/* maps the 3rd GiB */
#define HANDLER_GPA	0x20000			/* the interrupt handlers */
#define STACK1_TOP	0x30000			/* vCPU 1's stack */

#define DONE_PORT	0x90
#define USER_PORT	0xe0
#define PIC_IMR_PORT	0x21
#define MMIO_GPA	0x40000000
#define TOUCH_GPA	0x80000000
#define TOUCH_SIZE	(64ULL << 20)
#define TOUCH_SLOT	1

/*
 * xAPIC registers (SDM Vol. 3, 11.4.1, Table 11-1), mapped 1:1, as offsets
 * from R13, which the APIC benchmarks load with the base: an absolute
 * address above 2 GiB does not fit a sign-extended 32-bit displacement.
 */
#define APIC_BASE	0xfee00000
#define APIC_EOI	0xb0(%r13)
#define APIC_SVR	0xf0(%r13)
#define APIC_ICR_LO	0x300(%r13)
#define APIC_ICR_HI	0x310(%r13)
#define APIC_LVTT	0x320(%r13)
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_MISC_ENABLE		0x1a0

#define VEC_TIMER	0xec
#define VEC_SELF	0xed
#define VEC_PING	0xee
#define VEC_PONG	0xef

/*
 * One benchmark's guest: SETUP once, then warm-up, the timed loop of PREP
 * plus EXIT, and the timed loop of PREP alone.  RDTSC is fenced on both
 * sides (LFENCE: earlier instructions done, later ones not started), as
 * kvm-unit-tests does where RDTSCP is not relied on.  The loops count in
 * R15 and keep the start TSC in R14, which no benchmark body touches.
 */
#define TSC_START							\
	"	lfence\n	rdtsc\n	lfence\n"				\
	"	shlq $32, %rdx\n	orq %rdx, %rax\n	movq %rax, %r14\n"
#define TSC_STOP(slot)							\
	"	lfence\n	rdtsc\n	lfence\n"				\
	"	shlq $32, %rdx\n	orq %rdx, %rax\n	subq %r14, %rax\n"	\
	"	movq %rax, " VM_STR(RESULT_GPA) " + " #slot "\n"

#define BENCH_GUEST(name, setup, prep, exit)				\
asm(GUEST_CODE_BEGIN(name, ".code64")					\
	setup "\n"							\
"	movq " VM_STR(PARAM_WARMUP) ", %r15\n"				\
"81:\n" prep "\n" exit "\n"						\
"	decq %r15\n	jnz 81b\n"					\
"	movq " VM_STR(PARAM_N) ", %r15\n"				\
	TSC_START							\
"82:\n" prep "\n" exit "\n"						\
"	decq %r15\n	jnz 82b\n"					\
	TSC_STOP(0)							\
"	movq " VM_STR(PARAM_N) ", %r15\n"				\
	TSC_START							\
"83:\n" prep "\n"							\
"	decq %r15\n	jnz 83b\n"					\
	TSC_STOP(8)							\
"	outb %al, $" VM_STR(DONE_PORT) "\n"				\
"	hlt\n"								\
GUEST_CODE_END(name))

/* The xAPIC on, and STI; HLT until the interrupt has been handled. */
#define APIC_ENABLE							\
	"	movl $" VM_STR(APIC_BASE) ", %r13d\n"				\
	"	movl $0x1ff, " VM_STR(APIC_SVR) "\n"
#define WAIT_PONG							\
	"84:	sti\n	hlt\n	cli\n"					\
	"	cmpb $0, " VM_STR(FLAG_PONG) "\n	je 84b\n"		\
	"	movb $0, " VM_STR(FLAG_PONG) "\n"

GUEST_CODE_DECLARE(g_cpuid);
GUEST_CODE_DECLARE(g_vmcall);
GUEST_CODE_DECLARE(g_vmmcall);
GUEST_CODE_DECLARE(g_rdmsr);
GUEST_CODE_DECLARE(g_wrmsr);
GUEST_CODE_DECLARE(g_pio_kernel);
GUEST_CODE_DECLARE(g_pio_user);
GUEST_CODE_DECLARE(g_mmio_user);
GUEST_CODE_DECLARE(g_hlt_timer);
GUEST_CODE_DECLARE(g_self_ipi);
GUEST_CODE_DECLARE(g_ipi);

BENCH_GUEST(g_cpuid, "", "xorl %eax, %eax", "cpuid");
BENCH_GUEST(g_vmcall, "", "movl $1, %eax", "vmcall");
BENCH_GUEST(g_vmmcall, "", "movl $1, %eax", "vmmcall");
BENCH_GUEST(g_rdmsr, "", "movl $" VM_STR(MSR_MISC_ENABLE) ", %ecx", "rdmsr");
BENCH_GUEST(g_wrmsr,
	    "movl $" VM_STR(MSR_MISC_ENABLE) ", %ecx\n rdmsr\n"
	    "movl %eax, %r12d\n movl %edx, %r13d",
	    "movl $" VM_STR(MSR_MISC_ENABLE) ", %ecx\n"
	    "movl %r12d, %eax\n movl %r13d, %edx",
	    "wrmsr");
BENCH_GUEST(g_pio_kernel, "", "", "inb $" VM_STR(PIC_IMR_PORT) ", %al");
BENCH_GUEST(g_pio_user, "", "", "outb %al, $" VM_STR(USER_PORT));
BENCH_GUEST(g_mmio_user, "", "", "movl %eax, " VM_STR(MMIO_GPA));
/* TSC-deadline mode: LVT timer bits 18:17 = 2 (SDM Vol. 3, 11.5.4.1). */
BENCH_GUEST(g_hlt_timer,
	    APIC_ENABLE
	    "	movl $(2 << 17) | " VM_STR(VEC_TIMER) ", " VM_STR(APIC_LVTT),
	    "",
	    "	rdtsc\n	movl $" VM_STR(MSR_TSC_DEADLINE) ", %ecx\n	wrmsr\n"
	    "	sti\n	hlt\n	cli");
/* ICR: vector, fixed, physical, assert (bit 14), shorthand self (18). */
BENCH_GUEST(g_self_ipi, APIC_ENABLE "	sti", "",
	    "	movl $0x44000 | " VM_STR(VEC_SELF) ", " VM_STR(APIC_ICR_LO));
BENCH_GUEST(g_ipi,
	    APIC_ENABLE
	    "85:	pause\n	cmpb $0, " VM_STR(FLAG_READY) "\n	je 85b\n"
	    "	movl $(1 << 24), " VM_STR(APIC_ICR_HI),
	    "",
	    "	movl $0x4000 | " VM_STR(VEC_PING) ", " VM_STR(APIC_ICR_LO) "\n"
	    WAIT_PONG);

/* vCPU 1 of "ipi": listen, halted, for pings. */
GUEST_CODE_DECLARE(g_ipi_peer);
asm(GUEST_CODE_BEGIN(g_ipi_peer, ".code64")
	APIC_ENABLE
"	movl $0, " VM_STR(APIC_ICR_HI) "\n"
"	movb $1, " VM_STR(FLAG_READY) "\n"
"	sti\n"
"1:	hlt\n"
"	jmp 1b\n"
GUEST_CODE_END(g_ipi_peer));

/*
 * The interrupt handlers, at HANDLER_GPA (R13 holds the APIC's base in
 * every guest that enables interrupts): each writes the EOI; PING answers
 * with PONG to APIC ID 0 (ICR_HI was set to 0 by the peer's setup), PONG
 * raises the flag that vCPU 0 waits for.
 */
GUEST_CODE_DECLARE(g_handlers);
asm(GUEST_CODE_BEGIN(g_handlers, ".code64")
GUEST_LABEL(g_handler_eoi)
"	movl $0, " VM_STR(APIC_EOI) "\n"
"	iretq\n"
GUEST_LABEL(g_handler_ping)
"	movl $0, " VM_STR(APIC_EOI) "\n"
"	movl $0x4000 | " VM_STR(VEC_PONG) ", " VM_STR(APIC_ICR_LO) "\n"
"	iretq\n"
GUEST_LABEL(g_handler_pong)
"	movl $0, " VM_STR(APIC_EOI) "\n"
"	movb $1, " VM_STR(FLAG_PONG) "\n"
"	iretq\n"
GUEST_CODE_END(g_handlers));
extern const uint8_t g_handler_eoi[], g_handler_ping[], g_handler_pong[];

/* first_touch: one write per page, then the same over mapped pages. */
GUEST_CODE_DECLARE(g_first_touch);
asm(GUEST_CODE_BEGIN(g_first_touch, ".code64")
"	movl $" VM_STR(TOUCH_GPA) ", %edi\n"
	TSC_START
"	movq $" VM_STR(TOUCH_SIZE) " / 4096, %r15\n"
"1:	movb $0, (%rdi)\n"
"	addq $4096, %rdi\n"
"	decq %r15\n	jnz 1b\n"
	TSC_STOP(0)
"	movl $" VM_STR(TOUCH_GPA) ", %edi\n"
	TSC_START
"	movq $" VM_STR(TOUCH_SIZE) " / 4096, %r15\n"
"2:	movb $0, (%rdi)\n"
"	addq $4096, %rdi\n"
"	decq %r15\n	jnz 2b\n"
	TSC_STOP(8)
"	outb %al, $" VM_STR(DONE_PORT) "\n"
"	hlt\n"
GUEST_CODE_END(g_first_touch));

enum bench_need {
	NEED_IRQCHIP = 1 << 0,
	NEED_DEADLINE = 1 << 1,		/* the TSC-deadline timer */
	NEED_PEER = 1 << 2,		/* a second vCPU */
	NEED_TOUCH = 1 << 3,		/* the 64 MiB slot */
};

struct bench {
	const char *name;
	const uint8_t *start, *end;
	unsigned int needs;
};

static struct bench benches[] = {
	{ "cpuid", g_cpuid_start, g_cpuid_end, 0 },
	{ "vmcall", g_vmcall_start, g_vmcall_end, 0 },
	{ "rdmsr", g_rdmsr_start, g_rdmsr_end, 0 },
	{ "wrmsr", g_wrmsr_start, g_wrmsr_end, 0 },
	{ "pio_kernel", g_pio_kernel_start, g_pio_kernel_end, NEED_IRQCHIP },
	{ "pio_user", g_pio_user_start, g_pio_user_end, 0 },
	{ "mmio_user", g_mmio_user_start, g_mmio_user_end, 0 },
	{ "hlt_timer", g_hlt_timer_start, g_hlt_timer_end,
	  NEED_IRQCHIP | NEED_DEADLINE },
	{ "self_ipi", g_self_ipi_start, g_self_ipi_end, NEED_IRQCHIP },
	{ "ipi", g_ipi_start, g_ipi_end, NEED_IRQCHIP | NEED_PEER },
	{ "first_touch", g_first_touch_start, g_first_touch_end, NEED_TOUCH },
};

#define N_BENCHES	(sizeof(benches) / sizeof(benches[0]))

static const char *dev_name;	/* "hvk", "kvm": basename of the device */
static uint64_t iterations = 1000;
static volatile sig_atomic_t timed_out;

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		timed_out = 1;
}

/* 64-bit interrupt gate to @handler, kernel code (SDM Vol. 3, 6.14.1). */
static void idt_set(struct hvk_vm *vm, unsigned int vec, uint64_t handler)
{
	uint64_t *gate = vm_gpa(vm, IDT_GPA + vec * 16);

	gate[0] = (handler & 0xffff) | ((uint64_t)VM_SEL_CODE64 << 16) |
		  (0xeULL << 40) | (1ULL << 47) |
		  ((handler >> 16 & 0xffff) << 48);
	gate[1] = handler >> 32;
}

static uint64_t handler_gpa(const uint8_t *label)
{
	return HANDLER_GPA + (label - g_handlers_start);
}

/* The IDT, the handlers, and the mappings of the APIC and MMIO pages. */
static int setup_vcpu_extras(struct hvk_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	int r;

	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	return vcpu_set_sregs(vcpu, &sregs);
}

static void setup_memory(struct hvk_vm *vm)
{
	uint64_t *pdpt = vm_gpa(vm, VM_PDPT_GPA);
	uint64_t *pd;

	vm_load(vm, HANDLER_GPA, g_handlers_start, g_handlers_end);
	idt_set(vm, VEC_TIMER, handler_gpa(g_handler_eoi));
	idt_set(vm, VEC_SELF, handler_gpa(g_handler_eoi));
	idt_set(vm, VEC_PING, handler_gpa(g_handler_ping));
	idt_set(vm, VEC_PONG, handler_gpa(g_handler_pong));
	/* The APIC page, uncached (PCD), in the 4th GiB's directory. */
	pd = vm_gpa(vm, APIC_PD_GPA);
	memset(pd, 0, VM_PAGE_SIZE);
	pdpt[3] = APIC_PD_GPA | PTE_P | PTE_RW;
	pd[(APIC_BASE >> 21) & 511] = (APIC_BASE & ~(VM_LARGE_PAGE_SIZE - 1)) |
				      PTE_P | PTE_RW | PTE_PS | (1 << 4);
	vm_map_2m(vm, MMIO_GPA, VM_LARGE_PAGE_SIZE, MMIO_PD_GPA);
	vm_map_2m(vm, TOUCH_GPA, TOUCH_SIZE, TOUCH_PD_GPA);
}

/*
 * KVM_RUN until the guest says done: port I/O to USER_PORT and MMIO at
 * MMIO_GPA are answered (reads get 0) and the guest goes on.  0, or -1
 * with the reason printed.  vCPU 1 of "ipi" runs until @stop.
 */
static int run_guest(struct hvk_vcpu *vcpu, volatile bool *stop)
{
	struct kvm_run *run = vcpu->run;

	for (;;) {
		if (vcpu_run(vcpu)) {
			if (errno == EINTR && stop && *stop)
				return 0;
			if (errno == EINTR && !timed_out)
				continue;
			fprintf(stderr, "# vcpu %d: KVM_RUN: %s\n", vcpu->id,
				timed_out ? "timed out" : strerror(errno));
			return -1;
		}
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == USER_PORT)
			continue;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == DONE_PORT && !stop)
			return 0;
		if (run->exit_reason == KVM_EXIT_MMIO &&
		    run->mmio.phys_addr == MMIO_GPA) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			continue;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		fprintf(stderr, "# vcpu %d: unexpected exit %s (%u)", vcpu->id,
			vm_exit_name(run->exit_reason), run->exit_reason);
		if (run->exit_reason == KVM_EXIT_IO)
			fprintf(stderr, " port %#x", run->io.port);
		if (run->exit_reason == KVM_EXIT_MMIO)
			fprintf(stderr, " gpa %#llx",
				(unsigned long long)run->mmio.phys_addr);
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			fprintf(stderr, " suberror %u", run->internal.suberror);
		fprintf(stderr, "\n");
		return -1;
	}
}

struct peer {
	struct hvk_vcpu *vcpu;
	volatile bool stop;
	int r;
};

static void *peer_thread(void *arg)
{
	struct peer *p = arg;
	sigset_t alrm;

	/* The alarm is for vCPU 0's thread, which waits for the result. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);

	p->r = run_guest(p->vcpu, &p->stop);
	return NULL;
}

/*
 * The TSC-deadline timer in the vCPU's CPUID (1.ECX[24]): KVM reports it
 * through KVM_CAP_TSC_DEADLINE_TIMER, not KVM_GET_SUPPORTED_CPUID, and
 * user space sets the bit (api.rst).  0, or -1 if it is not offered.
 */
static int offer_deadline(struct hvk_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *cpuid;
	int r;

	if (ioctl(vcpu->vm->sys_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		return -1;
	cpuid = vm_get_supported_cpuid(vcpu->vm, &r);
	if (!cpuid)
		return -1;
	e = vm_cpuid_entry(cpuid, 1, 0);
	r = -1;
	if (e) {
		e->ecx |= 1U << 24;
		r = vm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) ? -1 : 0;
	}
	free(cpuid);
	return r;
}

static bool host_is_amd(void)
{
	uint32_t eax = 0, ebx, ecx, edx;

	asm volatile("cpuid" : "+a" (eax), "=b" (ebx), "=c" (ecx), "=d" (edx));
	return ebx == 0x68747541;	/* "Auth"enticAMD */
}

/*
 * Measure @b: 0 with the cycles per iteration in *@cycles, 1 if the device
 * lacks what it needs (*@why says what), -1 on failure.
 */
static int measure(struct bench *b, double *cycles, const char **why)
{
	uint64_t warmup = iterations / 10 ? iterations / 10 : 1;
	struct hvk_vcpu vcpu, vcpu1 = { .fd = -1 };
	struct peer peer = { .vcpu = &vcpu1 };
	uint64_t *result;
	pthread_t thread;
	bool peer_started = false;
	void *touch = NULL;
	struct hvk_vm vm;
	int r = -1;

	if (vm_create(&vm))
		return -1;
	vcpu.fd = -1;
	if (b->needs & NEED_IRQCHIP) {
		if (ioctl(vm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) {
			*why = "no in-kernel irqchip (KVM_CAP_IRQCHIP)";
			r = 1;
			goto out;
		}
		if (ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0)) {
			*why = "KVM_CREATE_IRQCHIP failed";
			r = 1;
			goto out;
		}
	}
	if (b->needs & NEED_TOUCH) {
		touch = mmap(NULL, TOUCH_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (touch == MAP_FAILED) {
			touch = NULL;
			goto out;
		}
		/* One fault per 4 KiB page, on the host as in the guest. */
		madvise(touch, TOUCH_SIZE, MADV_NOHUGEPAGE);
		if (vm_set_slot(&vm, TOUCH_SLOT, 0, TOUCH_GPA, TOUCH_SIZE, touch))
			goto out;
	}
	if (vcpu_create(&vm, &vcpu, 0) ||
	    ((b->needs & NEED_PEER) && vcpu_create(&vm, &vcpu1, 1)))
		goto out;
	if (vcpu_setup_long(&vcpu, VM_CODE_GPA) || setup_vcpu_extras(&vcpu))
		goto out;
	if ((b->needs & NEED_DEADLINE) && offer_deadline(&vcpu)) {
		*why = "no TSC-deadline timer (KVM_CAP_TSC_DEADLINE_TIMER)";
		r = 1;
		goto out;
	}
	if (b->needs & NEED_PEER) {
		struct kvm_mp_state runnable = { KVM_MP_STATE_RUNNABLE };

		/* With an in-kernel irqchip an AP waits for INIT-SIPI. */
		if (vm_ioctl(vcpu1.fd, KVM_SET_MP_STATE, &runnable) ||
		    vcpu_setup_long(&vcpu1, VM_CODE_GPA + 0x4000) ||
		    vcpu_set_entry(&vcpu1, VM_CODE_GPA + 0x4000, STACK1_TOP) ||
		    setup_vcpu_extras(&vcpu1))
			goto out;
		vm_load(&vm, VM_CODE_GPA + 0x4000, g_ipi_peer_start,
			g_ipi_peer_end);
	}
	/* After vcpu_setup_long(), which rewrites the page tables. */
	setup_memory(&vm);
	vm_load(&vm, VM_CODE_GPA, b->start, b->end);
	*(uint64_t *)vm_gpa(&vm, PARAM_WARMUP) = warmup;
	*(uint64_t *)vm_gpa(&vm, PARAM_N) = iterations;

	timed_out = 0;
	alarm(120);
	if (b->needs & NEED_PEER) {
		if (pthread_create(&thread, NULL, peer_thread, &peer))
			goto out;
		peer_started = true;
	}
	r = run_guest(&vcpu, NULL);
	alarm(0);
	if (peer_started) {
		peer.stop = true;
		while (pthread_tryjoin_np(thread, NULL)) {
			pthread_kill(thread, SIGUSR1);
			usleep(1000);
		}
		if (!r)
			r = peer.r;
	}
	if (r)
		goto out;
	result = vm_gpa(&vm, RESULT_GPA);
	if (b->needs & NEED_TOUCH)
		*cycles = ((double)result[0] - (double)result[1]) /
			  (TOUCH_SIZE / VM_PAGE_SIZE);
	else
		*cycles = ((double)result[0] - (double)result[1]) / iterations;
out:
	alarm(0);
	if (vcpu1.fd >= 0)
		vcpu_destroy(&vcpu1);
	if (vcpu.fd >= 0)
		vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	if (touch)
		munmap(touch, TOUCH_SIZE);
	return r;
}

/* The figure for @name and device @dev in an earlier run's output, or < 0. */
static double earlier_figure(const char *file, const char *name,
			     char *dev, size_t dev_len)
{
	char line[256], n[64], d[64], v[64];
	double val = -1;
	FILE *f;

	if (!file)
		return -1;
	f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "hvk_bench %63s %63[^=]=%63s", n, d, v) != 3 ||
		    strcmp(n, name))
			continue;
		snprintf(dev, dev_len, "%s", d);
		val = strcmp(v, "NA") ? atof(v) : -2;
		break;
	}
	fclose(f);
	return val;
}

static void print_ratio(const char *name, double mine, const char *file)
{
	char other_dev[64] = "kvm";
	double other = earlier_figure(file, name, other_dev,
				      sizeof(other_dev));
	const char *hvk_first = strcmp(dev_name, "kvm") ? dev_name : other_dev;
	const char *kvm_second = strcmp(dev_name, "kvm") ? other_dev : dev_name;
	double h = strcmp(dev_name, "kvm") ? mine : other;
	double k = strcmp(dev_name, "kvm") ? other : mine;
	char hs[32] = "NA", ks[32] = "NA", rs[32] = "NA";

	if (other == -1)
		return;
	if (h >= 0)
		snprintf(hs, sizeof(hs), "%.0f", h);
	if (k >= 0)
		snprintf(ks, sizeof(ks), "%.0f", k);
	if (h >= 0 && k > 0)
		snprintf(rs, sizeof(rs), "%.3f", h / k);
	printf("bench %s %s=%s %s=%s ratio=%s\n", name, hvk_first, hs,
	       kvm_second, ks, rs);
}

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: exit_bench [-d DEV] [-n N] [-c FILE] [NAME...]\n"
			"names:");
	for (i = 0; i < N_BENCHES; i++)
		fprintf(stderr, " %s", benches[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const char *compare = NULL;
	char dev_copy[256];
	int opt, failed = 0;
	size_t i;

	while ((opt = getopt(argc, argv, "d:n:c:h")) != -1) {
		switch (opt) {
		case 'd':
			setenv("HVK_DEV", optarg, 1);
			break;
		case 'n':
			iterations = strtoull(optarg, NULL, 0);
			if (!iterations)
				usage();
			break;
		case 'c':
			compare = optarg;
			break;
		default:
			usage();
		}
	}
	for (i = optind; i < (size_t)argc; i++) {
		size_t j;

		for (j = 0; j < N_BENCHES; j++)
			if (!strcmp(argv[i], benches[j].name))
				break;
		if (j == N_BENCHES)
			usage();
	}
	snprintf(dev_copy, sizeof(dev_copy), "%s", hvk_dev_path());
	dev_name = basename(dev_copy);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (host_is_amd()) {
		benches[1].start = g_vmmcall_start;
		benches[1].end = g_vmmcall_end;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 0; i < N_BENCHES; i++) {
		struct bench *b = &benches[i];
		const char *why = "";
		double cycles = 0;
		int j, r;

		if (optind < argc) {
			for (j = optind; j < argc; j++)
				if (!strcmp(argv[j], b->name))
					break;
			if (j == argc)
				continue;
		}
		r = measure(b, &cycles, &why);
		if (r < 0) {
			printf("hvk_bench %s %s=NA failed\n", b->name, dev_name);
			failed = 1;
			print_ratio(b->name, -2, compare);
			continue;
		}
		if (r > 0) {
			printf("hvk_bench %s %s=NA unsupported: %s\n", b->name,
			       dev_name, why);
			print_ratio(b->name, -2, compare);
			continue;
		}
		printf("hvk_bench %s %s=%.0f\n", b->name, dev_name, cycles);
		print_ratio(b->name, cycles, compare);
	}
	return failed;
}
