/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Linux/x86 boot protocol for a loader written against the KVM ABI:
 * parse a bzImage, lay it out in guest memory with its zero page (struct
 * boot_params), command line, e820 map and initrd, and start a vCPU at the
 * kernel's 64-bit entry point.  Documentation/arch/x86/boot.rst ("64-bit
 * Boot Protocol") and zero-page.rst in the kernel source are the reference.
 *
 * Use:
 *	bz_parse(&img, file, size);		checks the setup header
 *	bz_load(&img, mem, mem_size, &opts, &boot);	fills guest memory
 *	KVM_SET_CPUID2 with long mode, then
 *	bz_setup_vcpu(vcpu_fd, &boot);		registers for the entry
 *
 * Guest memory is one block of RAM at GPA 0 that the caller maps (mem is
 * its host view).  The loader's own structures live in low memory, which
 * the e820 map reports as RAM: the kernel reads them before it allocates
 * anything, and copies what it keeps.
 *
 *   0x01000  GDT: __BOOT_CS (0x10) and __BOOT_DS (0x18)
 *   0x02000  PML4, 0x3000 PDPT, 0x4000-0x7fff four PDs: the first 4 GiB
 *            identity mapped with 2 MiB pages
 *   0x10000  boot_params (zero page); the entry stack grows down from it
 *   0x20000  command line
 *   1 MiB    the protected-mode kernel, or pref_address if relocatable
 *   top      the initrd, as high as the kernel allows
 */
#ifndef HVK_RUN_BZIMAGE_H
#define HVK_RUN_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BZ_GDT_GPA		0x1000
#define BZ_PML4_GPA		0x2000
#define BZ_PDPT_GPA		0x3000
#define BZ_PD_GPA		0x4000
#define BZ_ZERO_PAGE_GPA	0x10000
#define BZ_CMDLINE_GPA		0x20000
#define BZ_CMDLINE_MAX		0x10000
#define BZ_KERNEL_GPA		0x100000

/* Selectors the 64-bit boot protocol asks for. */
#define BZ_BOOT_CS		0x10
#define BZ_BOOT_DS		0x18

/*
 * RAM stops below the 32-bit PCI hole, which a full machine needs for its
 * devices; memory above 4 GiB would need a second slot and e820 entry.
 */
#define BZ_MEM_MAX		0xc0000000ULL

/* A parsed bzImage: pointers into the caller's copy of the file. */
struct bz_image {
	const uint8_t *file;
	size_t file_size;
	uint16_t version;		/* boot protocol, e.g. 0x020f */
	size_t setup_size;		/* real-mode part, (setup_sects + 1) * 512 */
	const uint8_t *kernel;		/* protected-mode part */
	size_t kernel_size;
	uint64_t load_addr;		/* where bz_load() puts the kernel */
	uint64_t run_addr;		/* where it decompresses itself to run */
	uint32_t init_size;		/* memory the kernel needs from there */
	uint32_t cmdline_size;		/* longest command line, without NUL */
	uint32_t initrd_addr_max;	/* highest initrd byte */
};

/* What to load besides the kernel; initrd may be NULL. */
struct bz_options {
	const char *cmdline;
	const void *initrd;
	size_t initrd_size;
	uint64_t acpi_rsdp;		/* where the ACPI RSDP is, or 0 */
};

/* Where bz_load() put things: what the vCPU and the caller need. */
struct bz_boot {
	uint64_t entry;			/* RIP: 64-bit entry, load address + 0x200 */
	uint64_t boot_params;		/* RSI: the zero page */
	uint64_t stack;			/* RSP at entry */
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t kernel_addr, kernel_end;	/* load address + init_size */
	uint64_t initrd_addr, initrd_size;
};

/*
 * Check the setup header of a bzImage of @size bytes at @file: "HdrS",
 * protocol 2.12 or later with a 64-bit entry point (XLF_KERNEL_64), sizes
 * that fit the file.  0, or -ENOEXEC with the reason on stderr.
 */
int bz_parse(struct bz_image *img, const void *file, size_t size);

/*
 * Write the kernel, zero page, command line, e820 map, initrd, GDT and
 * page tables into guest RAM (@mem, @mem_size bytes from GPA 0, at most
 * BZ_MEM_MAX) and fill @boot.  0, or -EINVAL/-ENOMEM with the reason on
 * stderr.
 */
int bz_load(const struct bz_image *img, uint8_t *mem, uint64_t mem_size,
	    const struct bz_options *opts, struct bz_boot *boot);

/*
 * Put the vCPU in 64-bit mode at the entry point, as the protocol wants it:
 * paging on with bz_load()'s tables, CS = __BOOT_CS, DS/ES/SS = __BOOT_DS,
 * interrupts off, RSI = zero page.  The vCPU's CPUID must offer long mode
 * first (KVM_SET_CPUID2), or the device refuses EFER.LME.  0 or -errno.
 */
int bz_setup_vcpu(int vcpu_fd, const struct bz_boot *boot);

/* e820 address range types (ACPI 6.5, 15.2 "E820 Address Range Types"). */
#define BZ_E820_RESERVED	2

/*
 * Add [@addr, @addr + @size) of @type to the e820 map of the zero page
 * that bz_load() wrote in @mem, for what the caller puts in guest memory
 * afterwards (firmware tables).  The kernel sorts the map; where ranges
 * overlap, the larger type wins.  0, or -ENOSPC when the map is full.
 */
int bz_e820_append(uint8_t *mem, uint64_t addr, uint64_t size, uint32_t type);

#endif /* HVK_RUN_BZIMAGE_H */
