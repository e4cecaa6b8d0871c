// SPDX-License-Identifier: GPL-2.0
/*
 * bzboot: boot a Linux bzImage as a guest of the device named by HVK_DEV
 * (default /dev/hvk), through the KVM ABI and the 64-bit boot protocol,
 * with just enough of a PC to see the kernel talk: a 16550A UART at 0x3f8
 * whose output goes to stdout, other ports that read as all ones and drop
 * writes, MMIO that does the same.
 *
 * By default there is no interrupt controller and no timer, so the kernel
 * gets as far as it can without interrupts on one vCPU.  With --cpus N the
 * machine has the in-kernel irqchip (KVM_CREATE_IRQCHIP: a local APIC per
 * vCPU, the IOAPIC, the PICs), N vCPUs each run by a thread of its own,
 * and an MP table (mptable.h) that tells the kernel about them: it boots
 * the APs itself with INIT and SIPI through its local APIC.
 *
 *   bzboot [-m MIB] [-c CMDLINE] [-a MORE] [-i INITRD] [-t SECONDS]
 *          [-q SECONDS] [-n N] BZIMAGE
 *
 *   -m  guest RAM in MiB (default 128)
 *   -c  kernel command line (default below, with the TSC's frequency);
 *       -a appends to it
 *   -i  initrd to load
 *   -t  give up after SECONDS (default 300)
 *   -q  give up after SECONDS without output (default: never)
 *   -n, --cpus  N vCPUs with the in-kernel irqchip (1 to 64)
 *
 * It stops at a HLT without the irqchip (nothing could wake the vCPU), a
 * shutdown, an error exit or a time limit, and prints why with the RIP of
 * the vCPU that stopped.  Exit status 0 if the kernel printed its banner
 * ("Linux version"), 1 if not, 2 if the guest could not be set up.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "vm_util.h"
#include "bzimage.h"
#include "mptable.h"

/*
 * The default command line, for a machine without interrupts:
 * earlyprintk: the kernel writes to the UART from setup_arch() on, long
 *   before the 8250 driver's console exists;
 * lpj: no delay-loop calibration, which counts timer ticks;
 * panic=-1 reboot=t: a panic restarts at once by a triple fault, which
 *   ends the run with a shutdown exit (the other ways go through the
 *   keyboard controller and the BIOS, which are not here).
 */
#define BZBOOT_CMDLINE \
	"console=ttyS0 earlyprintk=ttyS0 lpj=1000000 panic=-1 reboot=t"

/*
 * With --cpus there are interrupts but still no PIT, HPET or ACPI PM
 * timer, and bzboot does not emulate one: nothing in the kernel's boot
 * needs a tick source once it knows the TSC's frequency and has the
 * TSC-deadline LAPIC timer, and a PIT raising IRQ0 from a host thread
 * would cost the slow emulated test machines (Bochs) hundreds of exits a
 * second for nothing.  So: tsc_early_khz= (added below) instead of TSC
 * calibration against the PIT; lpj= (above) for the delay loop, on the APs
 * too; the TSC-deadline timer in CPUID, which the kernel takes without
 * calibrating the LAPIC timer; no_timer_check, so that the IO-APIC set-up
 * does not wait for IRQ0 ticks to prove the timer's routing (a KVM guest
 * kernel sets it itself; said here for any kernel).  The kernel may still
 * register the PIT as its global clock event device (hvk offers no ARAT);
 * its programming goes nowhere and the LAPIC timers take over the ticks.
 */
#define BZBOOT_SMP_CMDLINE	"no_timer_check"

/* The MP table's processor entries take APIC ids below 255. */
#define BZBOOT_MAX_CPUS		64

#define BZBOOT_BANNER	"Linux version"

/* 16550A registers, as offsets from the base port (PC16550D data sheet). */
#define UART_BASE	0x3f8
#define UART_RBR_THR	0	/* DLL when LCR.DLAB */
#define UART_IER	1	/* DLM when LCR.DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define UART_LCR_DLAB	0x80
#define UART_MCR_LOOP	0x10
#define UART_IIR_NO_INT	0x01
#define UART_IIR_FIFO	0xc0	/* FIFOs enabled: a 16550A */
#define UART_FCR_ENABLE	0x01
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
/* A modem that is there: carrier, data set ready, clear to send. */
#define UART_MSR_IDLE	0xb0

struct uart {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
};

/* The guest's output, and whether the banner went by. */
struct console {
	size_t bytes;
	size_t matched;		/* bytes of BZBOOT_BANNER seen in a row */
	bool banner;
	time_t last_output;
};

static void console_put(struct console *con, uint8_t c)
{
	static const char banner[] = BZBOOT_BANNER;

	con->bytes++;
	con->last_output = time(NULL);
	if (c == banner[con->matched])
		con->matched++;
	else
		con->matched = c == banner[0];
	if (con->matched == sizeof(banner) - 1)
		con->banner = true;
	/* The 8250 driver sends CR LF; a log wants LF. */
	if (c != '\r')
		putchar(c);
}

/*
 * One byte to or from a UART register.  Reads describe an idle 16550A
 * that is always ready to send and never has data; in loopback mode the
 * modem inputs follow the modem outputs, as the 8250 driver's probe checks.
 */
static void uart_io(struct uart *u, struct console *con, unsigned int reg,
		    bool out, uint8_t *val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	if (out) {
		switch (reg) {
		case UART_RBR_THR:
			if (dlab)
				u->dll = *val;
			else
				console_put(con, *val);
			break;
		case UART_IER:
			if (dlab)
				u->dlm = *val;
			else
				u->ier = *val & 0x0f;
			break;
		case UART_IIR_FCR:
			u->fcr = *val;
			break;
		case UART_LCR:
			u->lcr = *val;
			break;
		case UART_MCR:
			u->mcr = *val & 0x1f;
			break;
		case UART_SCR:
			u->scr = *val;
			break;
		}
		return;
	}
	switch (reg) {
	case UART_RBR_THR:
		*val = dlab ? u->dll : 0;
		break;
	case UART_IER:
		*val = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		*val = UART_IIR_NO_INT |
		       (u->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0);
		break;
	case UART_LCR:
		*val = u->lcr;
		break;
	case UART_MCR:
		*val = u->mcr;
		break;
	case UART_LSR:
		*val = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case UART_MSR:
		if (u->mcr & UART_MCR_LOOP)
			/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			*val = (u->mcr & 0x01) << 5 | (u->mcr & 0x02) << 3 |
			       (u->mcr & 0x04) << 4 | (u->mcr & 0x08) << 4;
		else
			*val = UART_MSR_IDLE;
		break;
	case UART_SCR:
		*val = u->scr;
		break;
	}
}

/*
 * The machine: what the vCPU threads share.  lock covers the UART, the
 * console and the first reason to stop; stop and done[] are read
 * without it, with atomic loads.
 */
struct machine {
	struct hvk_vm vm;
	struct hvk_vcpu vcpus[BZBOOT_MAX_CPUS];
	pthread_t threads[BZBOOT_MAX_CPUS];
	bool done[BZBOOT_MAX_CPUS];	/* the thread has returned (atomic) */
	unsigned int cpus;
	bool irqchip;
	pthread_mutex_t lock;
	struct uart uart;
	struct console con;
	const char *why;
	int why_vcpu;
	bool stop;
};

static void machine_stop(struct machine *m, int vcpu, const char *why)
{
	pthread_mutex_lock(&m->lock);
	if (!m->why) {
		m->why = why;
		m->why_vcpu = vcpu;
	}
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
}

/* Port I/O: the UART, and all ones from anything else (no device there). */
static void handle_io(struct machine *m, struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = vcpu_io_data(vcpu);
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i, n = run->io.count;

	if (run->io.port >= UART_BASE && run->io.port < UART_BASE + 8 &&
	    run->io.size == 1) {
		pthread_mutex_lock(&m->lock);
		for (i = 0; i < n; i++)
			uart_io(&m->uart, &m->con, run->io.port - UART_BASE,
				out, &data[i]);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (!out)
		memset(data, 0xff, (size_t)run->io.size * n);
}

static uint64_t vcpu_rip(struct hvk_vcpu *vcpu, uint64_t *rflags)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		return ~0ULL;
	if (rflags)
		*rflags = regs.rflags;
	return regs.rip;
}

/* What one exit to user space means; NULL to go on running. */
static const char *handle_exit(struct machine *m, struct hvk_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint64_t rflags = 0;
	uint32_t i;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(m, vcpu);
		return NULL;
	case KVM_EXIT_MMIO:
		/* No device: reads float high, writes go nowhere. */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return NULL;
	case KVM_EXIT_HLT:
		/*
		 * Only without the irqchip (with it, HLT sleeps in the
		 * kernel): nothing can end the halt, whether the kernel
		 * waits for an interrupt or stopped with interrupts off.
		 */
		vcpu_rip(vcpu, &rflags);
		return rflags & (1 << 9) ?
		       "HLT with interrupts on: waiting for an interrupt" :
		       "HLT with interrupts off";
	case KVM_EXIT_SHUTDOWN:
		return "shutdown (triple fault)";
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "bzboot: vCPU %d: internal error %u, data",
			vcpu->id, run->internal.suberror);
		for (i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, " %#llx",
				(unsigned long long)run->internal.data[i]);
		fprintf(stderr, "\n");
		return "internal error";
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "bzboot: vCPU %d: entry failed, reason %#llx\n",
			vcpu->id, (unsigned long long)
			run->fail_entry.hardware_entry_failure_reason);
		return "VM entry failed";
	default:
		fprintf(stderr, "bzboot: vCPU %d: exit %s (%u)\n", vcpu->id,
			vm_exit_name(run->exit_reason), run->exit_reason);
		return "unexpected exit";
	}
}

struct vcpu_thread {
	struct machine *m;
	unsigned int index;
};

/*
 * One vCPU's KVM_RUN loop, until the machine stops.  The main thread ends
 * KVM_RUN with SIGUSR1 (EINTR) to make it look at m->stop.  An AP sleeps
 * in KVM_RUN until the BSP's INIT and SIPI; KVM returns EAGAIN when it
 * takes the INIT, hvk sleeps on until the SIPI: both mean "run again".
 */
static void *vcpu_thread(void *arg)
{
	struct vcpu_thread *t = arg;
	struct machine *m = t->m;
	struct hvk_vcpu *vcpu = &m->vcpus[t->index];
	const char *why;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		int r = vcpu_run(vcpu);

		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r) {
			fprintf(stderr, "bzboot: vCPU %d: KVM_RUN: %s\n",
				vcpu->id, strerror(-r));
			machine_stop(m, vcpu->id, "KVM_RUN failed");
			break;
		}
		why = handle_exit(m, vcpu);
		if (why)
			machine_stop(m, vcpu->id, why);
	}
	__atomic_store_n(&m->done[t->index], true, __ATOMIC_RELEASE);
	return NULL;
}

static void sig_nop(int sig)
{
}

/* KVM's paravirtual features (CPUID 0x40000001 EAX) that need an APIC. */
#define KVM_PV_NEEDS_APIC	(1U << 4 | 1U << 6 | 1U << 11 | 1U << 13 | 1U << 14)
#define KVM_PV_EOI		(1U << 6)	/* KVM_FEATURE_PV_EOI */

#define CPUID1_EDX_APIC		(1U << 9)
#define CPUID1_EDX_HTT		(1U << 28)
#define CPUID1_ECX_X2APIC	(1U << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1U << 24)
#define CPUID1_ECX_HYPERVISOR	(1U << 31)

/*
 * The device's CPUID, plus the hypervisor bit (CPUID.1:ECX[31]), which
 * tells the kernel to look at the hypervisor leaves (0x40000000) for the
 * rest, such as KVM's clock.
 *
 * Without the irqchip, less what this machine does not have: no local
 * APIC (nor x2APIC, nor its TSC-deadline timer), nor the paravirtual
 * features that deliver interrupts through it
 * (Documentation/virt/kvm/x86/cpuid.rst): asynchronous page faults, PV
 * EOI, PV IPIs and yield.
 *
 * With it, the APIC as offered, plus the TSC-deadline timer when the
 * device has it (KVM_CAP_TSC_DEADLINE_TIMER: it is not in
 * KVM_GET_SUPPORTED_CPUID); the vCPU's initial APIC id in CPUID.1:EBX[31:24]
 * and, where the topology leaves 0xB and 0x1F are there, its x2APIC id in
 * their EDX (SDM Vol. 3A 10.4.6, 11.12.8.1).  Each vCPU is a package with
 * one logical processor (no HTT, one in EBX[23:16]), as the MP table lists
 * them.  CPUID.1's EAX and EDX go into the MP table's processor entries.
 * Less KVM's PV EOI, which hvk does not offer: in the emulated SVM test
 * machine (QEMU's software CPU) a guest of KVM with PV EOI locks up within
 * seconds of its timer interrupts starting, a CPU spinning in
 * hrtimer_interrupt() on the lock it holds, in a second timer interrupt
 * taken with RFLAGS.IF clear (a dozen 2-vCPU boots of a dozen); without it,
 * KVM's other PV features kept, the same boot completes.
 */
static int set_cpuid(struct hvk_vcpu *vcpu, bool irqchip, uint32_t *signature,
		     uint32_t *features)
{
	struct kvm_cpuid_entry2 *leaf1, *pv, *e;
	struct kvm_cpuid2 *cpuid;
	uint32_t i;
	int r;

	cpuid = vm_get_supported_cpuid(vcpu->vm, &r);
	if (!cpuid)
		return r;
	leaf1 = vm_cpuid_entry(cpuid, 1, 0);
	pv = vm_cpuid_entry(cpuid, 0x40000001, 0);
	if (!irqchip) {
		if (leaf1) {
			leaf1->edx &= ~CPUID1_EDX_APIC;
			leaf1->ecx &= ~(CPUID1_ECX_X2APIC |
					CPUID1_ECX_TSC_DEADLINE);
		}
		if (pv)
			pv->eax &= ~KVM_PV_NEEDS_APIC;
	} else if (leaf1) {
		if (pv)
			pv->eax &= ~KVM_PV_EOI;
		if (ioctl(vcpu->vm->sys_fd, KVM_CHECK_EXTENSION,
			  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
			leaf1->ecx |= CPUID1_ECX_TSC_DEADLINE;
		leaf1->ebx = (leaf1->ebx & 0xffff) | 1 << 16 |
			     (uint32_t)vcpu->id << 24;
		leaf1->edx &= ~CPUID1_EDX_HTT;
		for (i = 0; i < cpuid->nent; i++) {
			e = &cpuid->entries[i];
			if (e->function == 0xb || e->function == 0x1f)
				e->edx = vcpu->id;
		}
	}
	if (leaf1) {
		leaf1->ecx |= CPUID1_ECX_HYPERVISOR;
		*signature = leaf1->eax;
		*features = leaf1->edx;
	}
	r = vm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return r;
}

/*
 * Without the irqchip, the local APIC switched off in IA32_APIC_BASE (SDM
 * vol. 3A 11.4.3): KVM makes CPUID's APIC bit follow the enable bit, and
 * the reset value has it set.
 */
static int disable_apic(struct hvk_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	int r;

	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	sregs.apic_base &= ~(1ULL << 11);
	return vcpu_set_sregs(vcpu, &sregs);
}

/*
 * The guest's TSC frequency in kHz: KVM_GET_TSC_KHZ, or else the host's,
 * measured against CLOCK_MONOTONIC (the guest's TSC runs at the host's
 * rate when nothing scales it).  The kernel cannot measure it itself
 * without a PIT, HPET or ACPI timer, nor learn it without kvmclock.
 */
static unsigned long tsc_khz(struct hvk_vcpu *vcpu)
{
	struct timespec t0, t1, pause = { 0, 50 * 1000 * 1000 };
	uint64_t c0, c1, ns;
	int khz;

	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	if (khz > 0)
		return khz;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&pause, NULL);
	c1 = __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	return ns ? (c1 - c0) * 1000000 / ns : 0;
}

static void *read_file(const char *path, size_t *size)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "bzboot: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		fprintf(stderr, "bzboot: %s: short read\n", path);
		free(buf);
		buf = NULL;
	}
	close(fd);
	*size = st.st_size;
	return buf;
}

/* Where each vCPU was when the machine stopped, for a hang's post-mortem. */
static void show_vcpus(struct machine *m)
{
	static const char *const states[] = {
		[KVM_MP_STATE_RUNNABLE] = "runnable",
		[KVM_MP_STATE_UNINITIALIZED] = "waiting for INIT",
		[KVM_MP_STATE_INIT_RECEIVED] = "waiting for SIPI",
		[KVM_MP_STATE_HALTED] = "halted",
	};
	struct kvm_mp_state mp;
	unsigned int i;
	uint64_t rflags = 0, rip;

	for (i = 0; i < m->cpus; i++) {
		rip = vcpu_rip(&m->vcpus[i], &rflags);
		if (ioctl(m->vcpus[i].fd, KVM_GET_MP_STATE, &mp))
			mp.mp_state = ~0U;
		fprintf(stderr, "\nbzboot: vCPU %u: RIP %#llx, RFLAGS %#llx, %s",
			i, (unsigned long long)rip, (unsigned long long)rflags,
			mp.mp_state < sizeof(states) / sizeof(states[0]) &&
			states[mp.mp_state] ? states[mp.mp_state] : "?");
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bzboot [-m MIB] [-c CMDLINE] [-a MORE] [-i INITRD] [-t SECONDS]\n"
		"              [-q SECONDS] [-n|--cpus N] BZIMAGE\n"
		"default command line: " BZBOOT_CMDLINE "\n"
		"with --cpus, also: " BZBOOT_SMP_CMDLINE "\n");
	exit(2);
}

/*
 * The VM: RAM, with --cpus the irqchip (before any vCPU, as KVM wants it)
 * and the MP table, then the vCPUs, the BSP (vCPU 0) at the kernel's
 * 64-bit entry.  The APs keep their reset state: the kernel starts them.
 */
static int machine_create(struct machine *m, unsigned long mem_mib,
			  const struct bz_image *img, struct bz_options *opts,
			  const char *cmdline, const char *append,
			  struct bz_boot *boot)
{
	struct mp_config mp = { .cpus = m->cpus };
	char *tsc_cmdline = NULL, *full_cmdline;
	unsigned int i;
	int r;

	r = vm_create_with(&m->vm, mem_mib << 20);
	if (r)
		return r;
	if (m->irqchip) {
		r = vm_ioctl(m->vm.fd, KVM_CREATE_IRQCHIP, 0);
		if (r)
			return r;
	}
	for (i = 0; i < m->cpus; i++) {
		r = vcpu_create(&m->vm, &m->vcpus[i], i);
		if (r)
			return r;
		r = set_cpuid(&m->vcpus[i], m->irqchip, &mp.cpu_signature,
			      &mp.cpu_features);
		if (r)
			return r;
	}
	if (!cmdline) {
		if (asprintf(&tsc_cmdline, BZBOOT_CMDLINE "%s tsc_early_khz=%lu",
			     m->irqchip ? " " BZBOOT_SMP_CMDLINE : "",
			     tsc_khz(&m->vcpus[0])) < 0)
			return -ENOMEM;
		cmdline = tsc_cmdline;
	}
	if (asprintf(&full_cmdline, "%s%s%s", cmdline, append ? " " : "",
		     append ? append : "") < 0)
		return -ENOMEM;
	free(tsc_cmdline);
	opts->cmdline = full_cmdline;
	r = bz_load(img, m->vm.mem, m->vm.mem_size, opts, boot);
	if (r)
		return r;
	if (m->irqchip) {
		r = mp_write_table(m->vm.mem, MP_TABLE_GPA, MP_TABLE_SIZE, &mp);
		if (r < 0)
			return r;
		r = bz_e820_append(m->vm.mem, MP_TABLE_GPA, MP_TABLE_SIZE,
				   BZ_E820_RESERVED);
		if (r)
			return r;
	}
	r = bz_setup_vcpu(m->vcpus[0].fd, boot);
	if (!r && !m->irqchip)
		r = disable_apic(&m->vcpus[0]);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "cpus", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmdline = NULL, *append = NULL, *initrd_path = NULL;
	unsigned long mem_mib = 128, timeout = 300, quiet = 0, cpus = 0;
	struct sigaction sa = { .sa_handler = sig_nop };
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct vcpu_thread threads[BZBOOT_MAX_CPUS];
	struct bz_options opts = { 0 };
	static struct machine m;
	struct bz_image img;
	struct bz_boot boot;
	time_t start, last_output;
	unsigned int i, left;
	void *image;
	size_t size;
	int opt;

	while ((opt = getopt_long(argc, argv, "m:c:a:i:t:q:n:", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'm':
			mem_mib = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'a':
			append = optarg;
			break;
		case 'i':
			initrd_path = optarg;
			break;
		case 't':
			timeout = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			quiet = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			cpus = strtoul(optarg, NULL, 0);
			if (!cpus || cpus > BZBOOT_MAX_CPUS)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || !mem_mib || !timeout)
		usage();

	image = read_file(argv[optind], &size);
	if (!image || bz_parse(&img, image, size))
		return 2;
	if (initrd_path) {
		opts.initrd = read_file(initrd_path, &opts.initrd_size);
		if (!opts.initrd)
			return 2;
	}
	pthread_mutex_init(&m.lock, NULL);
	m.irqchip = cpus > 0;
	m.cpus = cpus ? cpus : 1;
	if (machine_create(&m, mem_mib, &img, &opts, cmdline, append, &boot))
		return 2;
	fprintf(stderr, "bzboot: %s on %s, %lu MiB, %u vCPU%s%s, kernel at %#llx, entry %#llx\n",
		argv[optind], hvk_dev_path(), mem_mib, m.cpus,
		m.cpus > 1 ? "s" : "", m.irqchip ? " with the irqchip" : "",
		(unsigned long long)boot.kernel_addr,
		(unsigned long long)boot.entry);
	fprintf(stderr, "bzboot: command line: %s\n", opts.cmdline);

	/* No SA_RESTART: SIGUSR1 ends a vCPU thread's KVM_RUN with EINTR. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	start = m.con.last_output = time(NULL);
	for (i = 0; i < m.cpus; i++) {
		threads[i] = (struct vcpu_thread){ .m = &m, .index = i };
		if (pthread_create(&m.threads[i], NULL, vcpu_thread,
				   &threads[i])) {
			fprintf(stderr, "bzboot: pthread_create failed\n");
			return 2;
		}
	}

	while (!__atomic_load_n(&m.stop, __ATOMIC_ACQUIRE)) {
		time_t now;

		nanosleep(&pause, NULL);
		now = time(NULL);
		pthread_mutex_lock(&m.lock);
		last_output = m.con.last_output;
		pthread_mutex_unlock(&m.lock);
		if (now - start >= (time_t)timeout)
			machine_stop(&m, -1, "time limit");
		else if (quiet && now - last_output >= (time_t)quiet)
			machine_stop(&m, -1, "no output for a while");
	}
	/*
	 * A signal sent just before a thread enters KVM_RUN is lost, and a
	 * vCPU may sleep there for good (halted, an AP never started): kick
	 * until every thread has returned.
	 */
	do {
		left = 0;
		for (i = 0; i < m.cpus; i++) {
			if (__atomic_load_n(&m.done[i], __ATOMIC_ACQUIRE))
				continue;
			pthread_kill(m.threads[i], SIGUSR1);
			left++;
		}
		if (left)
			nanosleep(&pause, NULL);
	} while (left);
	for (i = 0; i < m.cpus; i++)
		pthread_join(m.threads[i], NULL);

	fflush(stdout);
	if (m.cpus > 1)
		show_vcpus(&m);
	fprintf(stderr, "\nbzboot: stopped: %s", m.why);
	if (m.why_vcpu >= 0)
		fprintf(stderr, " on vCPU %d", m.why_vcpu);
	fprintf(stderr, "; RIP %#llx after %ld s, %zu bytes of output, %s\n",
		(unsigned long long)vcpu_rip(&m.vcpus[m.why_vcpu >= 0 ?
						      m.why_vcpu : 0], NULL),
		(long)(time(NULL) - start), m.con.bytes,
		m.con.banner ? "banner seen" : "no banner");
	return m.con.banner ? 0 : 1;
}
