// SPDX-License-Identifier: GPL-2.0
/*
 * The MP table: see mptable.h.  Layouts and values from the Intel
 * MultiProcessor Specification 1.4, chapter 4 ("MP Configuration Table").
 */
#include <errno.h>
#include <string.h>

#include "mptable.h"

#define MP_SPEC_REV		4	/* 1.4 */

/* Entry types (MP spec 4.3, Table 4-3). */
#define MP_ENTRY_PROCESSOR	0
#define MP_ENTRY_BUS		1
#define MP_ENTRY_IOAPIC		2
#define MP_ENTRY_IO_INTR	3
#define MP_ENTRY_LOCAL_INTR	4

#define MP_CPU_ENABLED		0x01
#define MP_CPU_BSP		0x02
#define MP_IOAPIC_ENABLED	0x01

/* Interrupt types (MP spec 4.3.4, Table 4-10). */
#define MP_INT			0	/* vectored, from the APIC's redirection */
#define MP_NMI			1
#define MP_EXTINT		3	/* vectored, from the 8259A */

/* Polarity and trigger mode: 0 = conforms to the bus (edge, high for ISA). */
#define MP_IRQ_CONFORMS		0

#define MP_ISA_BUS_ID		0
#define MP_ISA_IRQS		16
/* IRQ2 is where the slave 8259A cascades into the master: no ISA device. */
#define MP_ISA_CASCADE		2
#define MP_ALL_LAPICS		0xff

/* MP floating pointer structure (MP spec 4.1, Figure 4-2): 16 bytes. */
struct mp_floating {
	char signature[4];		/* "_MP_" */
	uint32_t config_gpa;
	uint8_t length;			/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* 1: 0 = a table is there; 2: IMCRP */
} __attribute__((packed));

/* MP configuration table header (MP spec 4.2, Figure 4-3): 44 bytes. */
struct mp_config_header {
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic_gpa;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {			/* Figure 4-4: 20 bytes */
	uint8_t type;
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {				/* Figure 4-5: 8 bytes */
	uint8_t type;
	uint8_t id;
	char type_string[6];
} __attribute__((packed));

struct mp_ioapic {			/* Figure 4-6: 8 bytes */
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t gpa;
} __attribute__((packed));

/* I/O (Figure 4-7) and local (Figure 4-8) interrupt assignment: 8 bytes. */
struct mp_interrupt {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;
	uint8_t bus_id;
	uint8_t bus_irq;
	uint8_t dest_id;		/* IOAPIC id, or LAPIC id (0xff: all) */
	uint8_t dest_pin;		/* INTIN#, or LINTIN# */
} __attribute__((packed));

/* What makes the bytes of a structure sum to zero (MP spec 4.1, 4.2). */
static uint8_t mp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void mp_add_interrupt(uint8_t **pos, uint8_t type, uint8_t irq_type,
			     uint8_t bus_irq, uint8_t dest_id, uint8_t dest_pin)
{
	struct mp_interrupt e = {
		.type = type,
		.irq_type = irq_type,
		.flags = MP_IRQ_CONFORMS,
		.bus_id = MP_ISA_BUS_ID,
		.bus_irq = bus_irq,
		.dest_id = dest_id,
		.dest_pin = dest_pin,
	};

	memcpy(*pos, &e, sizeof(e));
	*pos += sizeof(e);
}

int mp_write_table(uint8_t *mem, uint64_t gpa, size_t room,
		   const struct mp_config *cfg)
{
	struct mp_floating *mpf = (struct mp_floating *)(mem + gpa);
	struct mp_config_header *hdr = (struct mp_config_header *)(mpf + 1);
	uint8_t *pos = (uint8_t *)(hdr + 1);
	/* Bus type strings are blank padded (MP spec Table 4-8). */
	struct mp_bus bus = {
		.type = MP_ENTRY_BUS,
		.id = MP_ISA_BUS_ID,
		.type_string = "ISA   ",
	};
	struct mp_ioapic ioapic = {
		.type = MP_ENTRY_IOAPIC,
		.version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED,
		.gpa = MP_IOAPIC_GPA,
	};
	uint8_t ioapic_id = cfg->cpus;
	size_t size;
	unsigned int i;
	uint16_t entries = 0;

	size = sizeof(*mpf) + sizeof(*hdr) +
	       cfg->cpus * sizeof(struct mp_processor) +
	       sizeof(struct mp_bus) + sizeof(struct mp_ioapic) +
	       (MP_ISA_IRQS - 1 + 2) * sizeof(struct mp_interrupt);
	if (!cfg->cpus || cfg->cpus > MP_MAX_CPUS - 1 || size > room)
		return -EINVAL;
	memset(mpf, 0, size);

	/* Processors in APIC id order; the BSP is vCPU 0, APIC id 0. */
	for (i = 0; i < cfg->cpus; i++) {
		struct mp_processor cpu = {
			.type = MP_ENTRY_PROCESSOR,
			.lapic_id = i,
			.lapic_version = MP_LAPIC_VERSION,
			.flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = cfg->cpu_signature,
			.features = cfg->cpu_features,
		};

		memcpy(pos, &cpu, sizeof(cpu));
		pos += sizeof(cpu);
		entries++;
	}

	memcpy(pos, &bus, sizeof(bus));
	pos += sizeof(bus);
	ioapic.id = ioapic_id;
	memcpy(pos, &ioapic, sizeof(ioapic));
	pos += sizeof(ioapic);
	entries += 2;

	/*
	 * ISA IRQ n on IOAPIC pin n, IRQ0 included: that is the default GSI
	 * routing of KVM_CREATE_IRQCHIP on KVM and hvk (GSI n to PIC line n
	 * and IOAPIC pin n), so KVM_IRQ_LINE on GSI n reaches the pin the
	 * kernel programs for IRQ n.  A PC firmware that wires the PIT to
	 * pin 2 says so with an IRQ0 -> INTIN2 entry (QEMU routes GSI 0 to
	 * pin 2 itself to match); Linux follows whatever the table says.
	 */
	for (i = 0; i < MP_ISA_IRQS; i++) {
		if (i == MP_ISA_CASCADE)
			continue;
		mp_add_interrupt(&pos, MP_ENTRY_IO_INTR, MP_INT, i, ioapic_id,
				 i);
		entries++;
	}

	/*
	 * Virtual wire mode (MP spec 3.6.2.2): the 8259A's output reaches
	 * the CPUs through LINT0 as ExtINT, NMIs through LINT1.
	 */
	mp_add_interrupt(&pos, MP_ENTRY_LOCAL_INTR, MP_EXTINT, 0,
			 MP_ALL_LAPICS, 0);
	mp_add_interrupt(&pos, MP_ENTRY_LOCAL_INTR, MP_NMI, 0,
			 MP_ALL_LAPICS, 1);
	entries += 2;

	memcpy(hdr->signature, "PCMP", 4);
	hdr->length = pos - (uint8_t *)hdr;
	hdr->spec_rev = MP_SPEC_REV;
	memcpy(hdr->oem_id, "HVK     ", 8);
	memcpy(hdr->product_id, "BZBOOT      ", 12);
	hdr->entries = entries;
	hdr->lapic_gpa = MP_LAPIC_GPA;
	hdr->checksum = mp_checksum(hdr, hdr->length);

	/* Feature bytes all zero: a table follows, no IMCR (virtual wire). */
	memcpy(mpf->signature, "_MP_", 4);
	mpf->config_gpa = gpa + sizeof(*mpf);
	mpf->length = sizeof(*mpf) / 16;
	mpf->spec_rev = MP_SPEC_REV;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));
	return pos - (uint8_t *)mpf;
}
