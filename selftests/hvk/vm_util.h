/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small VM library for hvk's selftests, written against the KVM ABI only:
 * create a VM with one memory slot at GPA 0, create vCPUs, load guest code,
 * put a vCPU in real mode, 32-bit protected mode or long mode, run it and
 * look at the exit.
 *
 * Include "kselftest_harness.h" first: the vcpu_expect_*() helpers use its
 * assertions.  Everything else returns 0 or -errno and prints what failed,
 * so that worker threads and child processes can use it too.
 *
 * Guest memory layout (one slot, VM_MEM_SIZE bytes at GPA 0, identity
 * mapped in long mode):
 *
 *   0x1000  GDT          (VM_GDT_GPA)
 *   0x2000  PML4, 0x3000 PDPT, 0x4000 PD, 0x5000 PT (4 KiB pages, first 2 MiB)
 *   0x6000  two data pages for the tests (VM_DATA_GPA)
 *   0x8000  guest code (VM_CODE_GPA); the stack grows down from here
 *
 * The addresses are plain numbers so that guest assembler can use them
 * through VM_STR().
 */
#ifndef HVK_SELFTEST_VM_UTIL_H
#define HVK_SELFTEST_VM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "hvk_util.h"

#define VM_MEM_SIZE	0x200000
#define VM_GDT_GPA	0x1000
#define VM_PML4_GPA	0x2000
#define VM_PDPT_GPA	0x3000
#define VM_PD_GPA	0x4000
#define VM_PT_GPA	0x5000
#define VM_DATA_GPA	0x6000
#define VM_CODE_GPA	0x8000
#define VM_STACK_TOP	VM_CODE_GPA
#define VM_PAGE_SIZE	0x1000
#define VM_LARGE_PAGE_SIZE	0x200000

/* Selectors of the flat GDT that vcpu_setup_pm32()/_long() write. */
#define VM_SEL_CODE32	0x08
#define VM_SEL_DATA	0x10
#define VM_SEL_CODE64	0x18

#define VM_STR_(x)	#x
#define VM_STR(x)	VM_STR_(x)

/* Control register and EFER bits (SDM vol. 3A 2.5, 2.2.1; APM vol. 2 3.1). */
#define X86_CR0_PE	(1UL << 0)
#define X86_CR0_ET	(1UL << 4)
#define X86_CR0_NE	(1UL << 5)
#define X86_CR0_NW	(1UL << 29)
#define X86_CR0_CD	(1UL << 30)
#define X86_CR0_PG	(1UL << 31)
#define X86_CR4_PSE	(1UL << 4)
#define X86_CR4_PAE	(1UL << 5)
#define X86_CR4_OSFXSR	(1UL << 9)
#define X86_EFER_LME	(1UL << 8)
#define X86_EFER_LMA	(1UL << 10)

/* Page table entry bits (SDM vol. 3A 4.5). */
#define PTE_P		(1UL << 0)
#define PTE_RW		(1UL << 1)
#define PTE_PS		(1UL << 7)

/*
 * Guest code lives in the test binary as assembler between NAME_start and
 * NAME_end, in a data section: it is copied into guest memory, never run on
 * the host.  GUEST_CODE_BEGIN switches the assembler to the guest's mode
 * (".code16", ".code32" or ".code64") and GUEST_CODE_END switches back to
 * 64-bit for whatever the compiler emits next.  Absolute addresses inside the
 * guest are written as "(label - NAME_start + load address)", which the
 * assembler computes because both labels are in the same section.
 */
#define GUEST_CODE_BEGIN(name, mode)					\
	".pushsection .rodata.hvk_guest, \"a\"\n"			\
	".global " #name "_start, " #name "_end\n"			\
	mode "\n"							\
	#name "_start:\n"
#define GUEST_CODE_END(name)						\
	#name "_end:\n"							\
	".code64\n"							\
	".popsection\n"
/* A global label inside guest code, to find an instruction's offset. */
#define GUEST_LABEL(name)						\
	".global " #name "\n"						\
	#name ":\n"
#define GUEST_CODE_DECLARE(name)					\
	extern const uint8_t name##_start[], name##_end[]

struct hvk_vm {
	int sys_fd;		/* the device */
	int fd;			/* the VM */
	uint8_t *mem;		/* host view of guest memory at GPA 0 */
	size_t mem_size;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
};

struct hvk_vcpu {
	struct hvk_vm *vm;
	int fd;
	int id;
	struct kvm_run *run;
};

#define vm_err(fmt, ...)						\
	fprintf(stderr, "# %s: " fmt "\n", __func__, ##__VA_ARGS__)

/* ioctl() that returns 0 or -errno, and says which one failed. */
#define vm_ioctl(fd, req, arg) ({					\
	int __r = ioctl(fd, req, arg);					\
	if (__r < 0) {							\
		__r = -errno;						\
		vm_err(#req ": %s", strerror(errno));			\
	}								\
	__r;								\
})

static inline int vm_open_dev(void)
{
	int fd = open(hvk_dev_path(), O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		vm_err("open %s: %s", hvk_dev_path(), strerror(errno));
		return -errno;
	}
	return fd;
}

/*
 * KVM_SET_USER_MEMORY_REGION: slot @slot at @gpa, @size bytes at @hva, with
 * @flags (KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY).  Size 0 deletes the
 * slot; a new @gpa for an existing slot moves it.  0 or -errno.
 */
static inline int vm_set_slot(struct hvk_vm *vm, uint32_t slot,
			      uint32_t flags, uint64_t gpa, size_t size,
			      void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return vm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region);
}

/* Map @size bytes of anonymous memory and make it slot @slot at @gpa. */
static inline int vm_add_memory(struct hvk_vm *vm, uint32_t slot,
				uint64_t gpa, size_t size, void **hva)
{
	void *mem;
	int r;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		vm_err("mmap: %s", strerror(errno));
		return -errno;
	}
	r = vm_set_slot(vm, slot, 0, gpa, size, mem);
	if (r) {
		munmap(mem, size);
		return r;
	}
	if (hva)
		*hva = mem;
	return 0;
}

/* A VM with @mem_size bytes of memory at GPA 0 (slot 0), or none if 0. */
static inline int vm_create_with(struct hvk_vm *vm, size_t mem_size)
{
	void *mem = NULL;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	vm->sys_fd = vm_open_dev();
	if (vm->sys_fd < 0)
		return vm->sys_fd;
	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		vm_err("KVM_GET_VCPU_MMAP_SIZE: %d", vm->run_size);
		r = vm->run_size < 0 ? -errno : -EINVAL;
		goto err;
	}
	vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		r = -errno;
		vm_err("KVM_CREATE_VM: %s", strerror(errno));
		goto err;
	}
	if (mem_size) {
		r = vm_add_memory(vm, 0, 0, mem_size, &mem);
		if (r)
			goto err;
		vm->mem = mem;
		vm->mem_size = mem_size;
	}
	return 0;
err:
	if (vm->fd >= 0)
		close(vm->fd);
	close(vm->sys_fd);
	vm->fd = vm->sys_fd = -1;
	return r;
}

static inline int vm_create(struct hvk_vm *vm)
{
	return vm_create_with(vm, VM_MEM_SIZE);
}

static inline void vm_destroy(struct hvk_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->fd = vm->sys_fd = -1;
	vm->mem = NULL;
}

/* Host pointer to guest physical address @gpa in slot 0. */
static inline void *vm_gpa(struct hvk_vm *vm, uint64_t gpa)
{
	return vm->mem + gpa;
}

static inline void vm_load(struct hvk_vm *vm, uint64_t gpa,
			   const uint8_t *start, const uint8_t *end)
{
	memcpy(vm_gpa(vm, gpa), start, end - start);
}

static inline int vcpu_create(struct hvk_vm *vm, struct hvk_vcpu *vcpu,
			      int id)
{
	void *run;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		vm_err("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		return -errno;
	}
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu->fd, 0);
	if (run == MAP_FAILED) {
		vm_err("mmap vcpu: %s", strerror(errno));
		close(vcpu->fd);
		vcpu->fd = -1;
		return -errno;
	}
	vcpu->run = run;
	return 0;
}

static inline void vcpu_destroy(struct hvk_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static inline int vcpu_get_regs(struct hvk_vcpu *vcpu, struct kvm_regs *regs)
{
	return vm_ioctl(vcpu->fd, KVM_GET_REGS, regs);
}

static inline int vcpu_set_regs(struct hvk_vcpu *vcpu,
				const struct kvm_regs *regs)
{
	return vm_ioctl(vcpu->fd, KVM_SET_REGS, regs);
}

static inline int vcpu_get_sregs(struct hvk_vcpu *vcpu,
				 struct kvm_sregs *sregs)
{
	return vm_ioctl(vcpu->fd, KVM_GET_SREGS, sregs);
}

static inline int vcpu_set_sregs(struct hvk_vcpu *vcpu,
				 const struct kvm_sregs *sregs)
{
	return vm_ioctl(vcpu->fd, KVM_SET_SREGS, sregs);
}

/* Set RIP and RSP, clear the other GPRs; RFLAGS bit 1 is reserved as 1. */
static inline int vcpu_set_entry(struct hvk_vcpu *vcpu, uint64_t rip,
				 uint64_t rsp)
{
	struct kvm_regs regs = {
		.rip = rip,
		.rsp = rsp,
		.rflags = 0x2,
	};

	return vcpu_set_regs(vcpu, &regs);
}

/*
 * Real mode at @code_gpa (16-byte aligned, below 1 MiB): CS base = code
 * address, so that the guest's offsets start at 0; the data segments keep
 * base 0 and reach all of the first 64 KiB.  Segment attributes stay as the
 * vCPU's reset state has them.
 */
static inline int vcpu_setup_real(struct hvk_vcpu *vcpu, uint64_t code_gpa)
{
	struct kvm_sregs sregs;
	int r;

	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	sregs.cs.selector = code_gpa >> 4;
	sregs.cs.base = code_gpa;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0;
	sregs.ds.base = sregs.es.base = sregs.ss.base = 0;
	sregs.fs.selector = sregs.gs.selector = 0;
	sregs.fs.base = sregs.gs.base = 0;
	r = vcpu_set_sregs(vcpu, &sregs);
	if (r)
		return r;
	return vcpu_set_entry(vcpu, 0, VM_STACK_TOP);
}

/*
 * Segment descriptors (SDM vol. 3A 3.4.5): flat 4 GiB, present, DPL 0.
 * @type: 0xb execute/read accessed code, 0x3 read/write accessed data.
 */
static inline uint64_t vm_gdt_entry(unsigned int type, bool l, bool db)
{
	return 0xffffULL |			/* limit 15:0 */
	       ((uint64_t)type << 40) |		/* type */
	       (1ULL << 44) |			/* S: code or data */
	       (1ULL << 47) |			/* P */
	       (0xfULL << 48) |			/* limit 19:16 */
	       ((uint64_t)l << 53) |		/* L: 64-bit code */
	       ((uint64_t)db << 54) |		/* D/B: 32-bit */
	       (1ULL << 55);			/* G: 4 KiB granularity */
}

static inline void vm_write_gdt(struct hvk_vm *vm)
{
	uint64_t *gdt = vm_gpa(vm, VM_GDT_GPA);

	gdt[0] = 0;
	gdt[VM_SEL_CODE32 >> 3] = vm_gdt_entry(0xb, false, true);
	gdt[VM_SEL_DATA >> 3] = vm_gdt_entry(0x3, false, true);
	gdt[VM_SEL_CODE64 >> 3] = vm_gdt_entry(0xb, true, false);
}

/* The hidden part of a segment register, as its GDT entry describes it. */
static inline void vm_flat_segment(struct kvm_segment *seg, uint16_t sel,
				   unsigned int type, bool l, bool db)
{
	*seg = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = db,
		.s = 1,
		.l = l,
		.g = 1,
	};
}

/*
 * Flat segments from the GDT; TR and LDTR keep their reset state (a busy
 * TSS and an unusable LDT pass the VM-entry checks of SDM vol. 3C 28.3.1.2).
 */
static inline void vm_sregs_flat(struct hvk_vm *vm, struct kvm_sregs *sregs,
				 bool long_mode)
{
	vm_write_gdt(vm);
	if (long_mode)
		vm_flat_segment(&sregs->cs, VM_SEL_CODE64, 0xb, true, false);
	else
		vm_flat_segment(&sregs->cs, VM_SEL_CODE32, 0xb, false, true);
	vm_flat_segment(&sregs->ds, VM_SEL_DATA, 0x3, false, true);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->gdt.base = VM_GDT_GPA;
	sregs->gdt.limit = 4 * 8 - 1;
}

/* 32-bit protected mode, paging off, flat segments, entry at @rip. */
static inline int vcpu_setup_pm32(struct hvk_vcpu *vcpu, uint64_t rip)
{
	struct kvm_sregs sregs;
	int r;

	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	vm_sregs_flat(vcpu->vm, &sregs, false);
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	sregs.cr4 = 0;
	sregs.efer = 0;
	r = vcpu_set_sregs(vcpu, &sregs);
	if (r)
		return r;
	return vcpu_set_entry(vcpu, rip, VM_STACK_TOP);
}

/*
 * 4-level page tables that map the first 2 MiB 1:1 with 4 KiB pages
 * (SDM vol. 3A 4.5).  Tests may change PT entries to make aliases.
 */
static inline void vm_write_page_tables(struct hvk_vm *vm)
{
	uint64_t *pml4 = vm_gpa(vm, VM_PML4_GPA);
	uint64_t *pdpt = vm_gpa(vm, VM_PDPT_GPA);
	uint64_t *pd = vm_gpa(vm, VM_PD_GPA);
	uint64_t *pt = vm_gpa(vm, VM_PT_GPA);
	int i;

	memset(pml4, 0, 4 * VM_PAGE_SIZE);
	pml4[0] = VM_PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = VM_PD_GPA | PTE_P | PTE_RW;
	pd[0] = VM_PT_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 512; i++)
		pt[i] = (uint64_t)i * VM_PAGE_SIZE | PTE_P | PTE_RW;
}

/*
 * KVM_GET_SUPPORTED_CPUID, grown until the table fits: NULL with *@err set
 * (-ENOMEM, or the ioctl's error), or a table to free().
 */
static inline struct kvm_cpuid2 *vm_get_supported_cpuid(struct hvk_vm *vm,
							 int *err)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 64;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) +
				  nent * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			*err = -ENOMEM;
			return NULL;
		}
		cpuid->nent = nent;
		if (!ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			return cpuid;
		*err = -errno;
		free(cpuid);
		if (*err != -E2BIG || nent >= 4096) {
			vm_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-*err));
			return NULL;
		}
		nent *= 2;
	}
}

/* The entry for CPUID leaf @function, subleaf @index, or NULL. */
static inline struct kvm_cpuid_entry2 *vm_cpuid_entry(struct kvm_cpuid2 *cpuid,
						      uint32_t function,
						      uint32_t index)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function &&
		    cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

/*
 * Map [@gpa, @gpa + @size) 1:1 with 2 MiB pages through a page directory at
 * @pd_gpa (a free page in slot 0), for memory above the first GiB that the
 * tables of vm_write_page_tables() do not reach: @gpa 1 GiB aligned, below
 * 512 GiB, @size at most 1 GiB.  Call it after vcpu_setup_long().
 */
static inline void vm_map_2m(struct hvk_vm *vm, uint64_t gpa, uint64_t size,
			     uint64_t pd_gpa)
{
	uint64_t *pdpt = vm_gpa(vm, VM_PDPT_GPA);
	uint64_t *pd = vm_gpa(vm, pd_gpa);
	uint64_t off;

	memset(pd, 0, VM_PAGE_SIZE);
	pdpt[(gpa >> 30) & 511] = pd_gpa | PTE_P | PTE_RW;
	for (off = 0; off < size; off += VM_LARGE_PAGE_SIZE)
		pd[((gpa + off) >> 21) & 511] = (gpa + off) | PTE_P | PTE_RW |
						 PTE_PS;
}

/*
 * Give the vCPU the CPUID that the device supports (KVM_GET_SUPPORTED_CPUID
 * into KVM_SET_CPUID2).  A vCPU's CPUID starts empty, and KVM refuses
 * EFER.LME (KVM_SET_SREGS, and WRMSR in the guest) unless CPUID reports
 * long mode (SDM vol. 3A 10.8.5: IA32_EFER.LME needs CPUID 80000001H:EDX[29]).
 */
static inline int vcpu_set_supported_cpuid(struct hvk_vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	int r;

	/*
	 * Without KVM_SET_CPUID2 the device answers CPUID with its own
	 * default, which must then offer what the tests need (hvk's does).
	 */
	if (ioctl(vcpu->vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID) <= 0)
		return 0;
	cpuid = vm_get_supported_cpuid(vcpu->vm, &r);
	if (!cpuid)
		return r;
	r = vm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return r;
}

/*
 * Long mode (IA-32e, 64-bit code segment): CR0.PE|PG, CR4.PAE,
 * EFER.LME|LMA, CR3 at the PML4 (SDM vol. 3A 10.8.5).
 */
static inline int vcpu_setup_long(struct hvk_vcpu *vcpu, uint64_t rip)
{
	struct kvm_sregs sregs;
	int r;

	r = vcpu_set_supported_cpuid(vcpu);
	if (r)
		return r;
	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	vm_sregs_flat(vcpu->vm, &sregs, true);
	vm_write_page_tables(vcpu->vm);
	sregs.cr3 = VM_PML4_GPA;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	r = vcpu_set_sregs(vcpu, &sregs);
	if (r)
		return r;
	return vcpu_set_entry(vcpu, rip, VM_STACK_TOP);
}

/* KVM_RUN: 0, or -errno (-EINTR for a signal or immediate_exit). */
static inline int vcpu_run(struct hvk_vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, 0) ? -errno : 0;
}

static inline const char *vm_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "other";
}

/* Where the data of a KVM_EXIT_IO is. */
static inline void *vcpu_io_data(struct hvk_vcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

/*
 * An OUT of one element: 0 and its value in *@val, or -EPROTO if the exit
 * is anything else.  For workers that cannot use the harness's asserts.
 */
static inline int vcpu_out_value(struct hvk_vcpu *vcpu, uint16_t port,
				 uint8_t size, uint32_t *val)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.port != port ||
	    run->io.size != size || run->io.count != 1) {
		vm_err("vcpu %d: want OUT %#x/%u, got exit %s (%u)",
		       vcpu->id, port, size, vm_exit_name(run->exit_reason),
		       run->exit_reason);
		return -EPROTO;
	}
	*val = 0;
	memcpy(val, vcpu_io_data(vcpu), size);
	return 0;
}

#ifdef __KSELFTEST_HARNESS_H
/* Run, and assert the exit reason. */
#define vcpu_run_expect(vcpu, reason) do {				\
	struct hvk_vcpu *__v = (vcpu);					\
	ASSERT_EQ(0, vcpu_run(__v));					\
	ASSERT_EQ((uint32_t)(reason), __v->run->exit_reason)		\
		TH_LOG("exit %s (%u), want %s",				\
		       vm_exit_name(__v->run->exit_reason),		\
		       __v->run->exit_reason, vm_exit_name(reason));	\
} while (0)

/*
 * Run to an OUT of one @size-byte element to @port; return its value.
 * Asserts on anything else.
 */
static inline uint32_t __vcpu_run_out(struct __test_metadata *_metadata,
				      struct hvk_vcpu *vcpu, uint16_t port,
				      uint8_t size)
{
	struct kvm_run *run = vcpu->run;
	uint32_t val = 0;

	vcpu_run_expect(vcpu, KVM_EXIT_IO);
	ASSERT_EQ((uint8_t)KVM_EXIT_IO_OUT, run->io.direction);
	ASSERT_EQ(port, run->io.port);
	ASSERT_EQ(size, run->io.size);
	ASSERT_EQ(1U, run->io.count);
	/* The data lies inside the shared area (API: data_offset). */
	ASSERT_LE(run->io.data_offset + size, (uint64_t)vcpu->vm->run_size);
	memcpy(&val, vcpu_io_data(vcpu), size);
	return val;
}
#define vcpu_run_out(vcpu, port, size) \
	__vcpu_run_out(_metadata, vcpu, port, size)

/*
 * Run to a KVM_EXIT_MMIO of @len bytes at @gpa in direction @is_write.
 * A write returns the data the guest wrote; a read gets @data, which the
 * guest sees when the next KVM_RUN completes its instruction (api.rst,
 * KVM_EXIT_MMIO).  Asserts on anything else.
 */
static inline uint64_t __vcpu_run_mmio(struct __test_metadata *_metadata,
				       struct hvk_vcpu *vcpu, uint64_t gpa,
				       uint32_t len, bool is_write,
				       uint64_t data)
{
	struct kvm_run *run = vcpu->run;
	uint64_t val = 0;

	vcpu_run_expect(vcpu, KVM_EXIT_MMIO);
	ASSERT_EQ(gpa, (uint64_t)run->mmio.phys_addr)
		TH_LOG("MMIO %s at %#llx, want %#llx",
		       run->mmio.is_write ? "write" : "read",
		       (unsigned long long)run->mmio.phys_addr,
		       (unsigned long long)gpa);
	ASSERT_EQ(len, run->mmio.len) TH_LOG("at %#llx",
					     (unsigned long long)gpa);
	ASSERT_EQ(is_write, !!run->mmio.is_write)
		TH_LOG("at %#llx", (unsigned long long)gpa);
	if (is_write) {
		memcpy(&val, run->mmio.data, len);
		return val;
	}
	memcpy(run->mmio.data, &data, len);
	return 0;
}
#define vcpu_run_mmio_write(vcpu, gpa, len) \
	__vcpu_run_mmio(_metadata, vcpu, gpa, len, true, 0)
#define vcpu_run_mmio_read(vcpu, gpa, len, data) \
	__vcpu_run_mmio(_metadata, vcpu, gpa, len, false, data)
#endif

#endif /* HVK_SELFTEST_VM_UTIL_H */
