/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An Intel MultiProcessor Specification 1.4 table for a guest without ACPI
 * tables: how a kernel learns how many CPUs there are, their local APIC
 * ids, where the IOAPIC is and which of its pins each ISA IRQ drives.
 *
 * Use:
 *	mp_write_table(mem, MP_TABLE_GPA, MP_TABLE_SIZE, &cfg);
 * and keep [MP_TABLE_GPA, MP_TABLE_GPA + MP_TABLE_SIZE) out of the RAM the
 * e820 map reports (MP spec 4: the structures sit in memory the OS does
 * not take for its own).  Linux looks for the floating pointer structure in
 * the first KiB of the EBDA, the last KiB of base memory and the BIOS ROM
 * area 0xF0000-0xFFFFF; this one is at the start of the ROM area.
 */
#ifndef HVK_SELFTEST_MPTABLE_H
#define HVK_SELFTEST_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MP_TABLE_GPA		0xf0000
#define MP_TABLE_SIZE		0x10000
#define MP_LAPIC_GPA		0xfee00000U
#define MP_IOAPIC_GPA		0xfec00000U
/* The in-kernel IOAPIC of KVM_CREATE_IRQCHIP: 24 pins, version 0x11. */
#define MP_IOAPIC_PINS		24
#define MP_IOAPIC_VERSION	0x11
/* An integrated (xAPIC) local APIC, as KVM's and hvk's LAPIC version. */
#define MP_LAPIC_VERSION	0x14
/* Local APIC ids 0 to 254; 255 means every LAPIC in the entries below. */
#define MP_MAX_CPUS		255

struct mp_config {
	unsigned int cpus;		/* processors, local APIC ids 0..cpus-1 */
	uint32_t cpu_signature;		/* CPUID.1:EAX */
	uint32_t cpu_features;		/* CPUID.1:EDX */
};

/*
 * Write the floating pointer structure at @gpa and the configuration table
 * right after it, in @mem (guest RAM from GPA 0, the region below @gpa +
 * @room): one processor entry per CPU (the BSP, id 0, flagged), the ISA
 * bus, the IOAPIC with id @cfg->cpus, an interrupt entry per ISA IRQ but
 * the cascade, LINT0 ExtINT and LINT1 NMI on every local APIC.  Bytes
 * used, or -EINVAL (too many CPUs, no room).
 */
int mp_write_table(uint8_t *mem, uint64_t gpa, size_t room,
		   const struct mp_config *cfg);

#endif /* HVK_SELFTEST_MPTABLE_H */
