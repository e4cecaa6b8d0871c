/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvk-run: a small VMM for any device that speaks the KVM ABI (/dev/hvk,
 * /dev/kvm).  The machine is a PC without firmware: the kernel is loaded by
 * the 64-bit boot protocol (bzimage.c), described by ACPI tables (acpi.c),
 * and talks to devices on two buses, ports and MMIO (bus.c), one device per
 * file.  The local APICs, the IOAPIC and the 8259s are the device's own
 * (KVM_CREATE_IRQCHIP); the PIT is hvk-run's (pit.c).
 *
 * Threads: one per vCPU (vm.c), one per virtio device for its queues, one
 * for the PIT, one for the terminal's input (term.c).  Every device has a
 * lock of its own; no thread holds two.
 */
#ifndef HVK_RUN_H
#define HVK_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVK_RUN_MAX_CPUS	8

/* Fixed addresses of the machine. */
#define IOAPIC_GPA		0xfec00000ULL
#define LAPIC_GPA		0xfee00000ULL
#define ACPI_TABLES_GPA		0xe0000ULL	/* the BIOS area, RSDP first */
#define VIRTIO_MMIO_GPA		0xd0000000ULL	/* above RAM (at most 3 GiB) */
#define VIRTIO_MMIO_SIZE	0x1000
#define PM_BASE_PORT		0x600		/* ACPI PM1a event, control, timer */

/* ISA interrupt lines (GSIs, wired 1:1 to IOAPIC pins). */
#define IRQ_PIT			0
#define IRQ_SERIAL		4
#define IRQ_RTC			8
#define IRQ_SCI			9
#define IRQ_VIRTIO_FIRST	5	/* 5, 6, 7: below the SCI */

/* How the run ended; the exit status follows from it. */
enum stop_reason {
	STOP_NONE,
	STOP_POWEROFF,		/* status 0 */
	STOP_REBOOT,		/* restart, or status 0 */
	STOP_QUIT,		/* the escape key: status 0 */
	STOP_PANIC,		/* the guest kernel panicked: status 1 */
	STOP_ERROR,		/* the hypervisor failed: status 1 */
};

struct vm;

/* --- bus.c: devices claim ranges of ports or guest-physical addresses --- */
enum bus_space { BUS_PIO, BUS_MMIO };

/* One access of @len bytes (1, 2, 4 or 8) at @off into the device's range. */
typedef void (*bus_access_fn)(void *dev, uint64_t off, void *data,
			      unsigned int len, bool write);

int bus_register(enum bus_space space, uint64_t base, uint64_t size,
		 bus_access_fn fn, void *dev);
/* Reads of nothing give all ones, writes to nothing are dropped. */
void bus_access(enum bus_space space, uint64_t addr, void *data,
		unsigned int len, bool write);

/* --- vm.c --- */
struct vm {
	int sys_fd, vm_fd;
	const char *dev_path;
	uint8_t *mem;
	uint64_t mem_size;
	int ncpus;
	bool has_irqfd, has_ioeventfd;
};

/* Raise (1) or lower (0) the interrupt line @gsi (KVM_IRQ_LINE). */
void irq_line(struct vm *vm, unsigned int gsi, int level);
/* An edge on @gsi: up then down. */
void irq_pulse(struct vm *vm, unsigned int gsi);
/*
 * An eventfd that pulses @gsi when written: irqfd if the device has it,
 * else -1 and the caller pulses the line itself.
 */
int irq_eventfd(struct vm *vm, unsigned int gsi);
/*
 * An eventfd written when the guest writes @datamatch (4 bytes) to MMIO
 * address @addr: ioeventfd if the device has it, else -1 and the MMIO exit
 * reaches the device.
 */
int mmio_eventfd(struct vm *vm, uint64_t addr, uint32_t datamatch);
/* Host view of guest memory [gpa, gpa + len), or NULL if outside RAM. */
void *guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len);

/* End the run: the first reason given wins.  Safe from any thread. */
void machine_stop(enum stop_reason why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The guest printed its panic @line: its next reset ends the run. */
void machine_panic_seen(const char *line);

/* --- console.c: the guest's console output, watched --- */
void console_init(bool bench);
void console_output(const uint8_t *buf, size_t len);

/* --- term.c: the terminal, raw while the guest runs --- */
typedef void (*term_input_fn)(void *dev, const uint8_t *buf, size_t len);
void term_init(term_input_fn fn, void *dev);
void term_restore(void);

/* --- acpi.c --- */
/* Write the tables at ACPI_TABLES_GPA; returns the RSDP's address. */
uint64_t acpi_build(struct vm *vm);

/* --- devices, one per file --- */
struct serial;
struct serial *serial_init(struct vm *vm);
void serial_input(void *serial, const uint8_t *buf, size_t len);
int i8042_init(struct vm *vm);
int rtc_init(struct vm *vm);
int pm_init(struct vm *vm);
int pit_init(struct vm *vm);

/* virtio-mmio devices: @index picks the address and interrupt line. */
struct virtio_dev;
int virtio_blk_init(struct vm *vm, int index, const char *path, bool ro,
		    char *cmdline, size_t size);
void virtio_blk_flush(void);
struct virtio_dev *virtio_console_init(struct vm *vm, int index,
				       char *cmdline, size_t size);
void virtio_console_input(void *dev, const uint8_t *buf, size_t len);
int virtio_rng_init(struct vm *vm, int index, char *cmdline, size_t size);

/* The monotonic clock in nanoseconds. */
uint64_t now_ns(void);

#endif /* HVK_RUN_H */
