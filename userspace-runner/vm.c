// SPDX-License-Identifier: GPL-2.0
/*
 * The VM on the KVM-ABI device: RAM, the in-kernel interrupt controllers,
 * each vCPU's CPUID and its thread, which runs KVM_RUN and sends port and
 * MMIO exits to the buses.  Nothing here knows a device.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "hvk-run.h"
#include "vm.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- stopping the machine --- */

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static enum stop_reason stop_why;
static char stop_msg[320];
static volatile int stopping;
static char panic_line[256];

void machine_stop(enum stop_reason why, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&stop_lock);
	if (stop_why == STOP_NONE) {
		stop_why = why;
		va_start(ap, fmt);
		vsnprintf(stop_msg, sizeof(stop_msg), fmt, ap);
		va_end(ap);
		/* A panicking kernel restarts the machine (panic=N). */
		if (why == STOP_REBOOT && panic_line[0]) {
			stop_why = STOP_PANIC;
			snprintf(stop_msg, sizeof(stop_msg), "guest panic: %s",
				 panic_line);
		}
		stopping = 1;
		pthread_cond_signal(&stop_cond);
	}
	pthread_mutex_unlock(&stop_lock);
}

void machine_panic_seen(const char *line)
{
	pthread_mutex_lock(&stop_lock);
	if (!panic_line[0])
		snprintf(panic_line, sizeof(panic_line), "%s", line);
	pthread_mutex_unlock(&stop_lock);
}

enum stop_reason machine_wait(const char **msg)
{
	pthread_mutex_lock(&stop_lock);
	while (stop_why == STOP_NONE)
		pthread_cond_wait(&stop_cond, &stop_lock);
	pthread_mutex_unlock(&stop_lock);
	*msg = stop_msg;
	return stop_why;
}

/* --- interrupts --- */

void irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq))
		machine_stop(STOP_ERROR, "KVM_IRQ_LINE %u: %s", gsi,
			     strerror(errno));
}

void irq_pulse(struct vm *vm, unsigned int gsi)
{
	irq_line(vm, gsi, 1);
	irq_line(vm, gsi, 0);
}

int irq_eventfd(struct vm *vm, unsigned int gsi)
{
	struct kvm_irqfd irqfd = { .gsi = gsi };
	int fd;

	if (!vm->has_irqfd)
		return -1;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -1;
	irqfd.fd = fd;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd)) {
		close(fd);
		return -1;
	}
	return fd;
}

int mmio_eventfd(struct vm *vm, uint64_t addr, uint32_t datamatch)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = 4,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	int fd;

	if (!vm->has_ioeventfd)
		return -1;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -1;
	io.fd = fd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io)) {
		close(fd);
		return -1;
	}
	return fd;
}

void *guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* --- the VM --- */

static int check_cap(struct vm *vm, long cap)
{
	int r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap);

	return r > 0 ? r : 0;
}

int vm_create(struct vm *vm, const char *dev, uint64_t mem_size, int ncpus)
{
	struct kvm_userspace_memory_region region = { 0 };
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->dev_path = dev;
	vm->ncpus = ncpus;
	vm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		fprintf(stderr, "hvk-run: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	r = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		fprintf(stderr, "hvk-run: %s: API version %d, not %d\n", dev, r,
			KVM_API_VERSION);
		return -1;
	}
	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "hvk-run: KVM_CREATE_VM: %s\n", strerror(errno));
		return -1;
	}
	if (check_cap(vm, KVM_CAP_NR_VCPUS) &&
	    ncpus > check_cap(vm, KVM_CAP_MAX_VCPUS)) {
		fprintf(stderr, "hvk-run: %s runs at most %d vCPUs\n", dev,
			check_cap(vm, KVM_CAP_MAX_VCPUS));
		return -1;
	}
	/*
	 * Where VMX needs a TSS for real mode without unrestricted guest:
	 * three pages below the BIOS ROM, outside RAM.  Not every device
	 * needs it, so a failure is no error.
	 */
	if (check_cap(vm, KVM_CAP_SET_TSS_ADDR))
		ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);

	/*
	 * The local APICs, IOAPIC and 8259s are the device's: without them
	 * this machine has no interrupts.
	 */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		fprintf(stderr, "hvk-run: KVM_CREATE_IRQCHIP: %s (%s has no in-kernel interrupt controller)\n",
			strerror(errno), dev);
		return -1;
	}
	vm->has_irqfd = check_cap(vm, KVM_CAP_IRQFD);
	vm->has_ioeventfd = check_cap(vm, KVM_CAP_IOEVENTFD);

	vm->mem_size = mem_size;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		fprintf(stderr, "hvk-run: %llu MiB of guest RAM: %s\n",
			(unsigned long long)(mem_size >> 20), strerror(errno));
		return -1;
	}
	region.memory_size = mem_size;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		fprintf(stderr, "hvk-run: KVM_SET_USER_MEMORY_REGION: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* --- vCPUs --- */

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
};

static struct vcpu vcpus[HVK_RUN_MAX_CPUS];

static struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *c,
					    uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* Bits needed to number @n things. */
static unsigned int order_of(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

/* Leaf 0xB subleaf @level of vCPU @id, in a package of @ncpus cores. */
static struct kvm_cpuid_entry2 topology_level(uint32_t level, uint32_t id,
					      unsigned int ncpus)
{
	struct kvm_cpuid_entry2 e = {
		.function = 0xb, .index = level,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .edx = id,
	};

	if (level == 0) {		/* SMT: one thread per core */
		e.ebx = 1;
		e.ecx = 1 << 8;
	} else {			/* core: the package */
		e.eax = order_of(ncpus);
		e.ebx = ncpus;
		e.ecx = 2 << 8 | 1;
	}
	return e;
}

/*
 * The device's CPUID for vCPU @id of @ncpus: one package of @ncpus cores,
 * one thread each, APIC ID = vCPU index.  Leaf 1 EBX[31:24] and the x2APIC
 * topology leaf 0xB (its SMT and core levels; the levels past them read as
 * invalid) give the APIC ID (SDM vol. 3A 10.12.8.1; leaf 0x1F, which would
 * say the same, is dropped).  The TSC-deadline timer is not in
 * KVM_GET_SUPPORTED_CPUID: KVM_CAP_TSC_DEADLINE_TIMER says whether the
 * in-kernel local APIC has it.
 */
static int set_cpuid(struct vcpu *vcpu, struct kvm_cpuid2 *base)
{
	size_t size = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *c = malloc(size + 2 * sizeof(base->entries[0]));
	struct kvm_cpuid_entry2 *e;
	uint32_t i, n = 0;
	int r, ncpus = vcpu->vm->ncpus;

	if (!c)
		return -ENOMEM;
	memcpy(c, base, size);
	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function != 0xb &&
		    c->entries[i].function != 0x1f)
			c->entries[n++] = c->entries[i];
	c->nent = n;
	e = cpuid_entry(c, 0, 0);
	if (e && e->eax >= 0xb) {
		c->entries[c->nent++] = topology_level(0, vcpu->id, ncpus);
		c->entries[c->nent++] = topology_level(1, vcpu->id, ncpus);
	}

	e = cpuid_entry(c, 1, 0);
	if (e) {
		e->ebx = (e->ebx & 0xffff) | ncpus << 16 | vcpu->id << 24;
		e->ecx |= 1U << 31;				/* hypervisor */
		if (check_cap(vcpu->vm, KVM_CAP_TSC_DEADLINE_TIMER))
			e->ecx |= 1U << 24;
		if (ncpus > 1)
			e->edx |= 1U << 28;			/* HTT */
	}
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, c) ? -errno : 0;
	free(c);
	return r;
}

static struct kvm_cpuid2 *supported_cpuid(struct vm *vm)
{
	int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
					      nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (!ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG || nent >= 1024)
			return NULL;
		nent *= 2;
	}
}

int vcpus_create(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid = supported_cpuid(vm);
	long run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int i, r;

	if (!cpuid || run_size <= 0) {
		fprintf(stderr, "hvk-run: KVM_GET_SUPPORTED_CPUID: %s\n",
			strerror(errno));
		return -1;
	}
	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0) {
			fprintf(stderr, "hvk-run: KVM_CREATE_VCPU %d: %s\n", i,
				strerror(errno));
			return -1;
		}
		v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			fprintf(stderr, "hvk-run: kvm_run of vCPU %d: %s\n", i,
				strerror(errno));
			return -1;
		}
		r = set_cpuid(v, cpuid);
		if (r) {
			fprintf(stderr, "hvk-run: KVM_SET_CPUID2: %s\n",
				strerror(-r));
			return -1;
		}
	}
	free(cpuid);
	return 0;
}

int vcpu_boot_fd(void)
{
	return vcpus[0].fd;
}

/* The signal that takes a vCPU thread out of KVM_RUN when the run ends. */
#define SIG_VCPU_KICK	SIGUSR1

static void vcpu_kick_handler(int sig)
{
}

static void vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size)
		bus_access(BUS_PIO, run->io.port, data, run->io.size,
			   run->io.direction == KVM_EXIT_IO_OUT);
}

static void vcpu_exit_error(struct vcpu *v, const char *what)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs = { 0 };

	ioctl(v->fd, KVM_GET_REGS, &regs);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		machine_stop(STOP_ERROR,
			     "vCPU %d: %s, suberror %u, RIP %#llx", v->id, what,
			     run->internal.suberror, regs.rip);
	else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		machine_stop(STOP_ERROR, "vCPU %d: %s, reason %#llx, RIP %#llx",
			     v->id, what, (unsigned long long)
			     run->fail_entry.hardware_entry_failure_reason,
			     regs.rip);
	else
		machine_stop(STOP_ERROR, "vCPU %d: %s (exit %u), RIP %#llx",
			     v->id, what, run->exit_reason, regs.rip);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%d", v->id);
	pthread_setname_np(pthread_self(), name);
	while (!stopping) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			machine_stop(STOP_ERROR, "vCPU %d: KVM_RUN: %s", v->id,
				     strerror(errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			vcpu_exit_io(v);
			break;
		case KVM_EXIT_MMIO:
			bus_access(BUS_MMIO, run->mmio.phys_addr,
				   run->mmio.data, run->mmio.len,
				   run->mmio.is_write);
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault resets a PC (SDM vol. 3A 6.15, #DF). */
			machine_stop(STOP_REBOOT, "vCPU %d: triple fault",
				     v->id);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				machine_stop(STOP_POWEROFF, "power-off");
			else if (run->system_event.type ==
				 KVM_SYSTEM_EVENT_RESET)
				machine_stop(STOP_REBOOT, "reset");
			else
				vcpu_exit_error(v, "system event");
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vcpu_exit_error(v, "internal error");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vcpu_exit_error(v, "VM entry failed");
			break;
		default:
			vcpu_exit_error(v, "unexpected exit");
		}
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	int i;

	/* No SA_RESTART: KVM_RUN must return EINTR. */
	sigaction(SIG_VCPU_KICK, &sa, NULL);
	for (i = 0; i < vm->ncpus; i++)
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread,
				   &vcpus[i])) {
			fprintf(stderr, "hvk-run: no thread for vCPU %d\n", i);
			return -1;
		}
	return 0;
}

/*
 * Take every vCPU out of the guest and wait for its thread: the run is over
 * (machine_stop() set stopping), so a thread that sees EINTR leaves its loop.
 * immediate_exit covers a signal that comes just before KVM_RUN where the
 * device has it; elsewhere the kick is repeated until the thread is gone.
 */
void vcpus_stop(struct vm *vm)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < vm->ncpus; i++) {
		if (!vcpus[i].thread)
			continue;
		vcpus[i].run->immediate_exit = 1;
		while (pthread_kill(vcpus[i].thread, SIG_VCPU_KICK) == 0 &&
		       pthread_tryjoin_np(vcpus[i].thread, NULL) == EBUSY)
			nanosleep(&pause, NULL);
	}
}
