// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux/x86 64-bit boot protocol: see bzimage.h for the interface and
 * the guest memory layout, Documentation/arch/x86/boot.rst for the rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <asm/bootparam.h>

#include "bzimage.h"

#define bz_err(fmt, ...) fprintf(stderr, "bzimage: " fmt "\n", ##__VA_ARGS__)

/* Offsets in the image (boot.rst, "The Real-Mode Kernel Header"). */
#define BZ_HDR_OFFSET		0x1f1
#define BZ_HDR_LEN_OFFSET	0x201	/* end of the header, minus 0x202 */
#define BZ_HDR_MAGIC		0x53726448	/* "HdrS" */
#define BZ_BOOT_FLAG		0xaa55
/* The setup header ends where the zero page's next field starts. */
#define BZ_HDR_END_MAX		0x290
/* 64-bit entry point: start of the protected-mode kernel plus 0x200. */
#define BZ_ENTRY64_OFFSET	0x200
/* boot.rst: type_of_loader 0xff means "undefined", no assigned ID. */
#define BZ_LOADER_UNDEFINED	0xff

/* e820 address range types (ACPI 6.5, 15.2 "E820 Address Range Types"). */
#define BZ_E820_RAM		1

#define BZ_LOW_RAM_END		0xa0000	/* 640 KiB: legacy video, ROMs above */
#define BZ_PAGE_SIZE		0x1000
#define BZ_2M			0x200000ULL
#define BZ_1G			0x40000000ULL

/* Page table entry bits (SDM vol. 3A 4.5). */
#define BZ_PTE_P		(1ULL << 0)
#define BZ_PTE_RW		(1ULL << 1)
#define BZ_PTE_PS		(1ULL << 7)

/* CR0, CR4 and EFER bits (SDM vol. 3A 2.5, 2.2.1). */
#define BZ_CR0_PE		(1ULL << 0)
#define BZ_CR0_ET		(1ULL << 4)
#define BZ_CR0_NE		(1ULL << 5)
#define BZ_CR0_PG		(1ULL << 31)
#define BZ_CR4_PAE		(1ULL << 5)
#define BZ_EFER_LME		(1ULL << 8)
#define BZ_EFER_LMA		(1ULL << 10)

static uint64_t bz_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int bz_parse(struct bz_image *img, const void *file, size_t size)
{
	const uint8_t *p = file;
	struct setup_header hdr;
	unsigned int sects;

	memset(img, 0, sizeof(*img));
	if (size < BZ_HDR_END_MAX) {
		bz_err("%zu bytes: too small for a bzImage", size);
		return -ENOEXEC;
	}
	memcpy(&hdr, p + BZ_HDR_OFFSET, sizeof(hdr));
	if (hdr.boot_flag != BZ_BOOT_FLAG || hdr.header != BZ_HDR_MAGIC) {
		bz_err("no \"HdrS\" setup header: not a bzImage");
		return -ENOEXEC;
	}
	/* 2.12 brought xloadflags, which says whether there is a 64-bit entry. */
	if (hdr.version < 0x020c) {
		bz_err("boot protocol %u.%02u: 2.12 or later needed",
		       hdr.version >> 8, hdr.version & 0xff);
		return -ENOEXEC;
	}
	if (!(hdr.xloadflags & XLF_KERNEL_64)) {
		bz_err("no 64-bit entry point (xloadflags %#x)", hdr.xloadflags);
		return -ENOEXEC;
	}
	if (!(hdr.loadflags & LOADED_HIGH)) {
		bz_err("a zImage (loaded at 0x10000): not supported");
		return -ENOEXEC;
	}
	/* setup_sects 0 means 4, for very old images. */
	sects = hdr.setup_sects ? hdr.setup_sects : 4;
	img->setup_size = (sects + 1) * 512;
	if (img->setup_size >= size ||
	    (uint64_t)hdr.syssize * 16 > size - img->setup_size) {
		bz_err("setup (%zu bytes) and kernel (%u bytes) exceed the file",
		       img->setup_size, hdr.syssize * 16);
		return -ENOEXEC;
	}
	img->file = p;
	img->file_size = size;
	img->version = hdr.version;
	img->kernel = p + img->setup_size;
	img->kernel_size = size - img->setup_size;
	img->init_size = hdr.init_size;
	img->cmdline_size = hdr.cmdline_size;
	img->initrd_addr_max = hdr.initrd_addr_max;
	/*
	 * A relocatable kernel runs where it is loaded, aligned to
	 * kernel_alignment: loading it at pref_address spares it a move.  A
	 * fixed one is loaded at 1 MiB and moves itself to pref_address.
	 */
	if (hdr.relocatable_kernel) {
		if (!hdr.kernel_alignment ||
		    (hdr.kernel_alignment & (hdr.kernel_alignment - 1))) {
			bz_err("kernel_alignment %#x is not a power of two",
			       hdr.kernel_alignment);
			return -ENOEXEC;
		}
		img->load_addr = bz_align_up(hdr.pref_address,
					     hdr.kernel_alignment);
		img->run_addr = img->load_addr;
	} else {
		img->load_addr = BZ_KERNEL_GPA;
		img->run_addr = hdr.pref_address;
	}
	if (img->init_size < img->kernel_size) {
		bz_err("init_size %#x is smaller than the kernel (%#zx)",
		       img->init_size, img->kernel_size);
		return -ENOEXEC;
	}
	return 0;
}

/* Flat 4 GiB code (64-bit) and data descriptors (SDM vol. 3A 3.4.5). */
static uint64_t bz_gdt_entry(unsigned int type, int l, int db)
{
	return 0xffffULL |			/* limit 15:0 */
	       ((uint64_t)type << 40) |		/* type */
	       (1ULL << 44) |			/* S: code or data */
	       (1ULL << 47) |			/* P */
	       (0xfULL << 48) |			/* limit 19:16 */
	       ((uint64_t)l << 53) |		/* L: 64-bit code */
	       ((uint64_t)db << 54) |		/* D/B */
	       (1ULL << 55);			/* G: 4 KiB granularity */
}

static void bz_write_gdt(uint8_t *mem, struct bz_boot *boot)
{
	uint64_t *gdt = (uint64_t *)(mem + BZ_GDT_GPA);

	memset(gdt, 0, 4 * sizeof(*gdt));
	gdt[BZ_BOOT_CS >> 3] = bz_gdt_entry(0xb, 1, 0);	/* execute/read */
	gdt[BZ_BOOT_DS >> 3] = bz_gdt_entry(0x3, 0, 1);	/* read/write */
	boot->gdt_base = BZ_GDT_GPA;
	boot->gdt_limit = 4 * sizeof(*gdt) - 1;
}

/*
 * The first 4 GiB identity mapped with 2 MiB pages: that covers the kernel
 * up to init_size, the zero page and the command line, which is what the
 * protocol asks for, and the initrd.
 */
static void bz_write_page_tables(uint8_t *mem, struct bz_boot *boot)
{
	uint64_t *pml4 = (uint64_t *)(mem + BZ_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + BZ_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + BZ_PD_GPA);
	unsigned int i;

	memset(pml4, 0, 2 * BZ_PAGE_SIZE);
	pml4[0] = BZ_PDPT_GPA | BZ_PTE_P | BZ_PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (BZ_PD_GPA + i * BZ_PAGE_SIZE) | BZ_PTE_P | BZ_PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = i * BZ_2M | BZ_PTE_P | BZ_PTE_RW | BZ_PTE_PS;
	boot->cr3 = BZ_PML4_GPA;
}

static void bz_add_e820(struct boot_params *bp, uint64_t addr, uint64_t size,
			uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

int bz_load(const struct bz_image *img, uint8_t *mem, uint64_t mem_size,
	    const struct bz_options *opts, struct bz_boot *boot)
{
	const char *cmdline = opts->cmdline ? opts->cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	struct boot_params *bp;
	size_t hdr_end;

	memset(boot, 0, sizeof(*boot));
	if (mem_size > BZ_MEM_MAX || mem_size & (BZ_PAGE_SIZE - 1)) {
		bz_err("%#llx bytes of RAM: at most %#llx, in pages",
		       (unsigned long long)mem_size, BZ_MEM_MAX);
		return -EINVAL;
	}
	/* init_size counts from where the kernel runs, which may be higher. */
	boot->kernel_addr = img->load_addr;
	boot->kernel_end = img->init_size +
		(img->run_addr > img->load_addr ? img->run_addr : img->load_addr);
	if (boot->kernel_end > mem_size) {
		bz_err("the kernel needs RAM up to %#llx, the guest has %#llx",
		       (unsigned long long)boot->kernel_end,
		       (unsigned long long)mem_size);
		return -ENOMEM;
	}
	if (cmdline_len > img->cmdline_size ||
	    cmdline_len >= BZ_CMDLINE_MAX) {
		bz_err("command line of %zu bytes: the kernel takes %u",
		       cmdline_len, img->cmdline_size);
		return -EINVAL;
	}

	memcpy(mem + img->load_addr, img->kernel, img->kernel_size);
	memcpy(mem + BZ_CMDLINE_GPA, cmdline, cmdline_len + 1);

	/*
	 * A zero page that is all zeroes but for the image's setup header,
	 * whose end the image gives at 0x201 (boot.rst, "64-bit Boot
	 * Protocol"), then the fields a boot loader fills in.
	 */
	bp = (struct boot_params *)(mem + BZ_ZERO_PAGE_GPA);
	memset(bp, 0, sizeof(*bp));
	hdr_end = 0x202 + img->file[BZ_HDR_LEN_OFFSET];
	if (hdr_end > BZ_HDR_END_MAX)
		hdr_end = BZ_HDR_END_MAX;
	memcpy(&bp->hdr, img->file + BZ_HDR_OFFSET, hdr_end - BZ_HDR_OFFSET);
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.code32_start = img->load_addr;
	bp->hdr.cmd_line_ptr = BZ_CMDLINE_GPA;
	bp->ext_cmd_line_ptr = 0;
	/* Protocol 2.14: spares the kernel its scan of the BIOS area. */
	bp->acpi_rsdp_addr = opts->acpi_rsdp;

	if (opts->initrd_size) {
		uint64_t top = mem_size;
		uint64_t bottom = bz_align_up(boot->kernel_end, BZ_PAGE_SIZE);

		if (top > (uint64_t)img->initrd_addr_max + 1)
			top = (uint64_t)img->initrd_addr_max + 1;
		if (top < bottom || opts->initrd_size > top - bottom) {
			bz_err("initrd of %zu bytes does not fit above the kernel",
			       opts->initrd_size);
			return -ENOMEM;
		}
		boot->initrd_addr = (top - opts->initrd_size) &
				    ~(uint64_t)(BZ_PAGE_SIZE - 1);
		boot->initrd_size = opts->initrd_size;
		memcpy(mem + boot->initrd_addr, opts->initrd, opts->initrd_size);
		bp->hdr.ramdisk_image = boot->initrd_addr;
		bp->hdr.ramdisk_size = boot->initrd_size;
	}

	/*
	 * RAM below 640 KiB, nothing where a PC has video memory and ROMs,
	 * RAM from 1 MiB on.
	 */
	bz_add_e820(bp, 0, BZ_LOW_RAM_END, BZ_E820_RAM);
	bz_add_e820(bp, BZ_KERNEL_GPA, mem_size - BZ_KERNEL_GPA, BZ_E820_RAM);

	bz_write_gdt(mem, boot);
	bz_write_page_tables(mem, boot);
	boot->entry = img->load_addr + BZ_ENTRY64_OFFSET;
	boot->boot_params = BZ_ZERO_PAGE_GPA;
	boot->stack = BZ_ZERO_PAGE_GPA;
	return 0;
}

static void bz_segment(struct kvm_segment *seg, uint16_t sel, unsigned int type,
		       int l, int db)
{
	*seg = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
		.l = l,
		.db = db,
		.g = 1,
	};
}

int bz_e820_append(uint8_t *mem, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_params *bp = (struct boot_params *)(mem + BZ_ZERO_PAGE_GPA);

	if (bp->e820_entries >= E820_MAX_ENTRIES_ZEROPAGE) {
		bz_err("e820 map full");
		return -ENOSPC;
	}
	bz_add_e820(bp, addr, size, type);
	return 0;
}

int bz_setup_vcpu(int vcpu_fd, const struct bz_boot *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs)) {
		bz_err("KVM_GET_SREGS: %s", strerror(errno));
		return -errno;
	}
	/* TR and LDTR keep their reset state, which VM entry accepts. */
	bz_segment(&sregs.cs, BZ_BOOT_CS, 0xb, 1, 0);
	bz_segment(&sregs.ds, BZ_BOOT_DS, 0x3, 0, 1);
	sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.ds;
	sregs.gdt.base = boot->gdt_base;
	sregs.gdt.limit = boot->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = BZ_CR0_PE | BZ_CR0_ET | BZ_CR0_NE | BZ_CR0_PG;
	sregs.cr3 = boot->cr3;
	sregs.cr4 = BZ_CR4_PAE;
	sregs.efer = BZ_EFER_LME | BZ_EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs)) {
		bz_err("KVM_SET_SREGS: %s", strerror(errno));
		return -errno;
	}

	/* RFLAGS: only the reserved bit 1, so IF = 0. */
	memset(&regs, 0, sizeof(regs));
	regs.rip = boot->entry;
	regs.rsi = boot->boot_params;
	regs.rsp = boot->stack;
	regs.rflags = 0x2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs)) {
		bz_err("KVM_SET_REGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
