// SPDX-License-Identifier: GPL-2.0
/*
 * bzboot: boot a Linux bzImage as a guest of the device named by HVK_DEV
 * (default /dev/hvk), through the KVM ABI and the 64-bit boot protocol,
 * with just enough of a PC to see the kernel talk: a 16550A UART at 0x3f8
 * whose output goes to stdout, other ports that read as all ones and drop
 * writes, MMIO that does the same.  There is no interrupt controller and no
 * timer, so the kernel gets as far as it can without interrupts.
 *
 *   bzboot [-m MIB] [-c CMDLINE] [-a MORE] [-i INITRD] [-t SECONDS]
 *          [-q SECONDS] BZIMAGE
 *
 *   -m  guest RAM in MiB (default 128)
 *   -c  kernel command line (default below, with the TSC's frequency);
 *       -a appends to it
 *   -i  initrd to load
 *   -t  give up after SECONDS (default 300)
 *   -q  give up after SECONDS without output (default: never)
 *
 * It stops at a HLT (nothing could wake the vCPU), a shutdown, an error
 * exit or a time limit, and prints why with the guest's RIP.  Exit status
 * 0 if the kernel printed its banner ("Linux version"), 1 if not, 2 if the
 * guest could not be set up.
 */
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "vm_util.h"
#include "bzimage.h"

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

static volatile sig_atomic_t bzboot_tick;

static void bzboot_alarm(int sig)
{
	bzboot_tick = 1;
}

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

/* Port I/O: the UART, and all ones from anything else (no device there). */
static void handle_io(struct hvk_vcpu *vcpu, struct uart *uart,
		      struct console *con)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = vcpu_io_data(vcpu);
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i, n = run->io.count;

	if (run->io.port >= UART_BASE && run->io.port < UART_BASE + 8 &&
	    run->io.size == 1) {
		for (i = 0; i < n; i++)
			uart_io(uart, con, run->io.port - UART_BASE, out,
				&data[i]);
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

/* KVM's paravirtual features (CPUID 0x40000001 EAX) that need an APIC. */
#define KVM_PV_NEEDS_APIC	(1U << 4 | 1U << 6 | 1U << 11 | 1U << 13 | 1U << 14)

/*
 * The device's CPUID, less what this machine does not have: no local APIC
 * (nor x2APIC, nor its TSC-deadline timer), since nothing here emulates
 * one, nor the paravirtual features that deliver interrupts through it
 * (Documentation/virt/kvm/x86/cpuid.rst): asynchronous page faults, PV
 * EOI, PV IPIs and yield.  Plus the hypervisor bit (CPUID.1:ECX[31]),
 * which tells the kernel to look at the hypervisor leaves (0x40000000)
 * for the rest, such as KVM's clock.
 */

static int set_cpuid(struct hvk_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *leaf1, *pv;
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = vm_get_supported_cpuid(vcpu->vm, &r);
	if (!cpuid)
		return r;
	leaf1 = vm_cpuid_entry(cpuid, 1, 0);
	if (leaf1) {
		leaf1->edx &= ~(1U << 9);		/* APIC */
		leaf1->ecx &= ~(1U << 21 | 1U << 24);	/* x2APIC, TSC deadline */
		leaf1->ecx |= 1U << 31;			/* hypervisor */
	}
	pv = vm_cpuid_entry(cpuid, 0x40000001, 0);
	if (pv)
		pv->eax &= ~KVM_PV_NEEDS_APIC;
	r = vm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return r;
}

/*
 * The local APIC switched off in IA32_APIC_BASE (SDM vol. 3A 11.4.3): KVM
 * makes CPUID's APIC bit follow the enable bit, and the reset value has it
 * set.
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

static void usage(void)
{
	fprintf(stderr,
		"usage: bzboot [-m MIB] [-c CMDLINE] [-a MORE] [-i INITRD] [-t SECONDS]\n"
		"              [-q SECONDS] BZIMAGE\n"
		"default command line: " BZBOOT_CMDLINE "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmdline = NULL, *append = NULL, *initrd_path = NULL;
	unsigned long mem_mib = 128, timeout = 300, quiet = 0;
	struct console con = { 0 };
	struct itimerval tick = { { 1, 0 }, { 1, 0 } };
	struct sigaction sa = { .sa_handler = bzboot_alarm };
	struct bz_options opts = { 0 };
	struct uart uart = { 0 };
	struct hvk_vcpu vcpu;
	struct bz_image img;
	struct bz_boot boot;
	struct hvk_vm vm;
	const char *why = NULL;
	char *full_cmdline, *tsc_cmdline = NULL;
	time_t start;
	void *image;
	size_t size;
	int opt;

	while ((opt = getopt(argc, argv, "m:c:a:i:t:q:")) != -1) {
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
	if (vm_create_with(&vm, mem_mib << 20) || vcpu_create(&vm, &vcpu, 0) ||
	    set_cpuid(&vcpu))
		return 2;
	if (!cmdline) {
		if (asprintf(&tsc_cmdline, BZBOOT_CMDLINE " tsc_early_khz=%lu",
			     tsc_khz(&vcpu)) < 0)
			return 2;
		cmdline = tsc_cmdline;
	}
	if (asprintf(&full_cmdline, "%s%s%s", cmdline, append ? " " : "",
		     append ? append : "") < 0)
		return 2;
	opts.cmdline = full_cmdline;
	if (bz_load(&img, vm.mem, vm.mem_size, &opts, &boot) ||
	    bz_setup_vcpu(vcpu.fd, &boot) || disable_apic(&vcpu))
		return 2;
	fprintf(stderr, "bzboot: %s on %s, %lu MiB, kernel at %#llx, entry %#llx\n",
		argv[optind], hvk_dev_path(), mem_mib,
		(unsigned long long)boot.kernel_addr,
		(unsigned long long)boot.entry);
	fprintf(stderr, "bzboot: command line: %s\n", full_cmdline);

	/* Once a second KVM_RUN returns -EINTR, to check the time limits. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &tick, NULL);
	start = con.last_output = time(NULL);

	while (!why) {
		struct kvm_run *run = vcpu.run;
		uint64_t rflags = 0;
		int r = vcpu_run(&vcpu);

		if (bzboot_tick) {
			time_t now = time(NULL);

			bzboot_tick = 0;
			if (now - start >= (time_t)timeout)
				why = "time limit";
			else if (quiet && now - con.last_output >= (time_t)quiet)
				why = "no output for a while";
		}
		if (r == -EINTR || why)
			continue;
		if (r) {
			fprintf(stderr, "bzboot: KVM_RUN: %s\n", strerror(-r));
			why = "KVM_RUN failed";
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(&vcpu, &uart, &con);
			break;
		case KVM_EXIT_MMIO:
			/* No device: reads float high, writes go nowhere. */
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			/*
			 * With no interrupt controller nothing can end the
			 * halt, whether the kernel waits for an interrupt or
			 * stopped for good with interrupts off.
			 */
			vcpu_rip(&vcpu, &rflags);
			why = rflags & (1 << 9) ?
			      "HLT with interrupts on: waiting for an interrupt" :
			      "HLT with interrupts off";
			break;
		case KVM_EXIT_SHUTDOWN:
			why = "shutdown (triple fault)";
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "bzboot: internal error %u, data",
				run->internal.suberror);
			for (r = 0; r < (int)run->internal.ndata && r < 16; r++)
				fprintf(stderr, " %#llx",
					(unsigned long long)run->internal.data[r]);
			fprintf(stderr, "\n");
			why = "internal error";
			break;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "bzboot: entry failed, reason %#llx\n",
				(unsigned long long)
				run->fail_entry.hardware_entry_failure_reason);
			why = "VM entry failed";
			break;
		default:
			fprintf(stderr, "bzboot: exit %s (%u)\n",
				vm_exit_name(run->exit_reason), run->exit_reason);
			why = "unexpected exit";
		}
	}
	fflush(stdout);
	fprintf(stderr, "\nbzboot: stopped: %s; RIP %#llx after %ld s, %zu bytes of output, %s\n",
		why, (unsigned long long)vcpu_rip(&vcpu, NULL),
		(long)(time(NULL) - start), con.bytes,
		con.banner ? "banner seen" : "no banner");
	return con.banner ? 0 : 1;
}
