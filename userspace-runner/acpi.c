// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables (ACPI 6.5, chapter 5), in the BIOS area at ACPI_TABLES_GPA
 * where a kernel also finds the RSDP by its scan: RSDP -> XSDT -> FADT
 * (PM1a blocks and PM timer at PM_BASE_PORT, SCI on line 9) -> FACS and
 * DSDT (\_S5 only: the sleep type pm.c takes as power-off), and the MADT
 * (one local APIC per vCPU, the IOAPIC, the SCI's polarity).  The virtio
 * devices are not here: the kernel command line announces them.
 */
#include <string.h>

#include "hvk-run.h"

/* Where each table goes, from ACPI_TABLES_GPA. */
#define RSDP_OFF	0x000
#define XSDT_OFF	0x040
#define FADT_OFF	0x100
#define FACS_OFF	0x240	/* 64-byte aligned (5.2.10) */
#define MADT_OFF	0x300
#define DSDT_OFF	0x800
#define ACPI_AREA_SIZE	0x1000

#define ACPI_OEM_ID	"HVK   "
#define ACPI_OEM_TABLE	"HVKRUN  "

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

/* The FADT up to X_DSDT (5.2.9); a kernel takes a short FADT. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t facs, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr;
	uint32_t gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_len, gpe1_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	uint8_t reset_reg[12];
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_facs, x_dsdt;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length, hw_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version, reserved[31];
} __attribute__((packed));

#define FADT_F_WBINVD		(1U << 0)
#define FADT_F_PROC_C1		(1U << 2)	/* HLT works */
#define FADT_F_SLP_BUTTON	(1U << 5)	/* no sleep button */
#define FADT_F_TMR_VAL_EXT	(1U << 8)	/* 32-bit PM timer */
#define FADT_BOOT_NO_VGA	(1U << 2)
#define FADT_BOOT_NO_MSI	(1U << 3)	/* no PCI devices to use MSI */
#define RTC_CENTURY_INDEX	0x32

/* MADT (5.2.12) and its entries. */
struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr, flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT	1	/* 8259s present, masked by the OS */

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr, gsi_base;
} __attribute__((packed));

struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

/* MPS INTI flags: active high, level triggered (5.2.12.5). */
#define MADT_INTI_HIGH_LEVEL	(1 | 3 << 2)

/*
 * DefinitionBlock body: Name (\_S5, Package () { 5, 5, 0, 0 }), AML bytes
 * (ACPI 6.5, 20.2): NameOp, "_S5_", PackageOp, PkgLength 8, NumElements 4,
 * BytePrefix 5, BytePrefix 5, ZeroOp, ZeroOp.  The first value is
 * SLP_TYPa, which pm.c takes as power-off.
 */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void acpi_header(struct acpi_header *h, const char *sig,
			uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "HVKR", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = acpi_checksum(h, len);
}

static uint32_t build_madt(struct vm *vm, uint8_t *p)
{
	struct acpi_madt *madt = (void *)p;
	uint32_t len = sizeof(*madt);
	struct madt_ioapic *io;
	struct madt_override *timer, *sci;
	int i;

	madt->lapic_addr = LAPIC_GPA;
	madt->flags = MADT_PCAT_COMPAT;
	for (i = 0; i < vm->ncpus; i++) {
		struct madt_lapic *l = (void *)(p + len);

		*l = (struct madt_lapic){ .type = 0, .length = sizeof(*l),
					  .uid = i, .apic_id = i, .flags = 1 };
		len += sizeof(*l);
	}
	io = (void *)(p + len);
	*io = (struct madt_ioapic){ .type = 1, .length = sizeof(*io),
				    .id = vm->ncpus, .addr = IOAPIC_GPA };
	len += sizeof(*io);
	/*
	 * ISA line 0, the PIT, is IOAPIC pin 2 as on a PC: where a KVM-ABI
	 * device's default GSI routing sends KVM_IRQ_LINE 0 (the 8259's line
	 * 0 too), the other lines being the pin of their number.
	 */
	timer = (void *)(p + len);
	*timer = (struct madt_override){ .type = 2, .length = sizeof(*timer),
					 .source = IRQ_PIT, .gsi = 2 };
	len += sizeof(*timer);
	/*
	 * The SCI is level triggered and active high here; ISA lines without
	 * an override are edge triggered, active high, GSI = line (5.2.12.5).
	 */
	sci = (void *)(p + len);
	*sci = (struct madt_override){ .type = 2, .length = sizeof(*sci),
				       .source = IRQ_SCI, .gsi = IRQ_SCI,
				       .flags = MADT_INTI_HIGH_LEVEL };
	len += sizeof(*sci);
	acpi_header(&madt->h, "APIC", len, 5);
	return len;
}

uint64_t acpi_build(struct vm *vm)
{
	uint8_t *area = vm->mem + ACPI_TABLES_GPA;
	struct acpi_rsdp *rsdp = (void *)(area + RSDP_OFF);
	struct acpi_header *xsdt = (void *)(area + XSDT_OFF);
	struct acpi_fadt *fadt = (void *)(area + FADT_OFF);
	struct acpi_facs *facs = (void *)(area + FACS_OFF);
	struct acpi_header *dsdt = (void *)(area + DSDT_OFF);
	uint64_t *entries = (uint64_t *)(xsdt + 1);

	memset(area, 0, ACPI_AREA_SIZE);

	memcpy(dsdt + 1, dsdt_aml, sizeof(dsdt_aml));
	acpi_header(dsdt, "DSDT", sizeof(*dsdt) + sizeof(dsdt_aml), 2);

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	fadt->facs = ACPI_TABLES_GPA + FACS_OFF;
	fadt->dsdt = ACPI_TABLES_GPA + DSDT_OFF;
	fadt->x_dsdt = fadt->dsdt;
	fadt->sci_int = IRQ_SCI;
	fadt->pm1a_evt = PM_BASE_PORT;
	fadt->pm1a_cnt = PM_BASE_PORT + 4;
	fadt->pm_tmr = PM_BASE_PORT + 8;
	fadt->pm1_evt_len = 4;
	fadt->pm1_cnt_len = 2;
	fadt->pm_tmr_len = 4;
	/* No C2 or C3 states (latencies above 100 and 1000 us). */
	fadt->p_lvl2_lat = 101;
	fadt->p_lvl3_lat = 1001;
	fadt->century = RTC_CENTURY_INDEX;
	fadt->iapc_boot_arch = FADT_BOOT_NO_VGA | FADT_BOOT_NO_MSI;
	fadt->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
		      FADT_F_TMR_VAL_EXT;
	fadt->minor_version = 5;
	acpi_header(&fadt->h, "FACP", sizeof(*fadt), 6);

	build_madt(vm, area + MADT_OFF);

	entries[0] = ACPI_TABLES_GPA + FADT_OFF;
	entries[1] = ACPI_TABLES_GPA + MADT_OFF;
	acpi_header(xsdt, "XSDT", sizeof(*xsdt) + 2 * sizeof(*entries), 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = ACPI_TABLES_GPA + XSDT_OFF;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->ext_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return ACPI_TABLES_GPA + RSDP_OFF;
}
