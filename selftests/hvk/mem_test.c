// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory through the KVM ABI: read-only slots, dirty logging (with
 * and without manual write protection), second-level mappings that follow
 * the host's page tables (MADV_DONTNEED, mprotect, munmap, MAP_FIXED),
 * slots deleted and moved under a running vCPU, and huge second-level
 * mappings for THP and hugetlbfs memory (the VM's binary statistics).
 *
 * The guests run with slot 0 (VM_MEM_SIZE at GPA 0) holding code, stack
 * and tables; the memory under test is another slot above it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "kvm_stats.h"

#define TEST_SLOT	1
#define TEST_GPA	0x200000	/* right above slot 0 */

#define LOAD(vm, name) vm_load(vm, VM_CODE_GPA, name##_start, name##_end)

static int check_cap(struct hvk_vm *vm, long cap)
{
	return ioctl(vm->fd, KVM_CHECK_EXTENSION, cap);
}

/* 32-bit: read the page at EBX, OUT it; write ECX behind it, OUT; again. */
#define PORT_READ	0x81
#define PORT_WROTE	0x82
GUEST_CODE_DECLARE(rw_loop);
asm(GUEST_CODE_BEGIN(rw_loop, ".code32")
"1:	movl (%ebx), %eax\n"
"	outl %eax, $" VM_STR(PORT_READ) "\n"
"	movl %ecx, 4(%ebx)\n"
"	incl %ecx\n"
"	outl %eax, $" VM_STR(PORT_WROTE) "\n"
"	jmp 1b\n"
GUEST_CODE_END(rw_loop));

/* A pm32 vCPU at @code with EBX = @ebx and ECX = @ecx. */
static int setup_pm32_regs(struct hvk_vcpu *vcpu, uint64_t ebx, uint64_t ecx)
{
	struct kvm_regs regs;
	int r;

	r = vcpu_setup_pm32(vcpu, VM_CODE_GPA);
	if (r)
		return r;
	r = vcpu_get_regs(vcpu, &regs);
	if (r)
		return r;
	regs.rbx = ebx;
	regs.rcx = ecx;
	return vcpu_set_regs(vcpu, &regs);
}

/* --- read-only slots ----------------------------------------------------- */

#define RO_PORT		0x87
GUEST_CODE_DECLARE(ro_slot);
asm(GUEST_CODE_BEGIN(ro_slot, ".code32")
"	movl " VM_STR(TEST_GPA) ", %eax\n"
"	outl %eax, $" VM_STR(RO_PORT) "\n"
"	movl $0xabcdef00, " VM_STR(TEST_GPA) "\n"
"	movl " VM_STR(TEST_GPA) ", %eax\n"
"	outl %eax, $" VM_STR(RO_PORT) "\n"
"	incl " VM_STR(TEST_GPA) " + 4\n"
"	movl " VM_STR(TEST_GPA) " + 4, %eax\n"
"	outl %eax, $" VM_STR(RO_PORT) "\n"
"	movb $0x77, " VM_STR(TEST_GPA) " + 8\n"
"	hlt\n"
GUEST_CODE_END(ro_slot));

/*
 * KVM_MEM_READONLY (api.rst, KVM_SET_USER_MEMORY_REGION): the guest reads
 * the memory; its writes leave KVM_RUN as KVM_EXIT_MMIO writes, the memory
 * keeps its contents, and the guest goes on after the exit.  A
 * read-modify-write reads the memory and exits with the new value.
 */
TEST(readonly_slot)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	uint32_t *mem;

	ASSERT_EQ(0, vm_create(&vm));
	if (check_cap(&vm, KVM_CAP_READONLY_MEM) <= 0) {
		vm_destroy(&vm);
		SKIP(return, "no KVM_CAP_READONLY_MEM");
	}
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	mem = mmap(NULL, VM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 0x12345678;
	mem[1] = 0x100;
	mem[2] = 0x11223344;
	ASSERT_EQ(0, vm_set_slot(&vm, TEST_SLOT, KVM_MEM_READONLY, TEST_GPA,
				 VM_PAGE_SIZE, mem));
	LOAD(&vm, ro_slot);
	ASSERT_EQ(0, vcpu_setup_pm32(&vcpu, VM_CODE_GPA));
	EXPECT_EQ(0x12345678U, vcpu_run_out(&vcpu, RO_PORT, 4));
	EXPECT_EQ(0xabcdef00ULL, vcpu_run_mmio_write(&vcpu, TEST_GPA, 4));
	EXPECT_EQ(0x12345678U, vcpu_run_out(&vcpu, RO_PORT, 4));
	EXPECT_EQ(0x101ULL, vcpu_run_mmio_write(&vcpu, TEST_GPA + 4, 4));
	EXPECT_EQ(0x100U, vcpu_run_out(&vcpu, RO_PORT, 4));
	EXPECT_EQ(0x77ULL, vcpu_run_mmio_write(&vcpu, TEST_GPA + 8, 1));
	vcpu_run_expect(&vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0x12345678U, mem[0]);
	EXPECT_EQ(0x100U, mem[1]);
	EXPECT_EQ(0x11223344U, mem[2]);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	munmap(mem, VM_PAGE_SIZE);
}

/* --- dirty logging ------------------------------------------------------- */

#define DIRTY_PAGES	64
#define DIRTY_SIZE	(DIRTY_PAGES * VM_PAGE_SIZE)
#define WRITE_TABLE	VM_DATA_GPA
#define READ_TABLE	(VM_DATA_GPA + 0x800)
#define DIRTY_PORT	0x80

/*
 * 32-bit: write to every address of the zero-terminated table at
 * WRITE_TABLE, read every address of the one at READ_TABLE, OUT, again.
 */
GUEST_CODE_DECLARE(dirty_round);
asm(GUEST_CODE_BEGIN(dirty_round, ".code32")
"	cld\n"
"1:	movl $" VM_STR(WRITE_TABLE) ", %esi\n"
"2:	lodsl\n"
"	testl %eax, %eax\n"
"	jz 3f\n"
"	movl %esi, (%eax)\n"
"	jmp 2b\n"
"3:	movl $" VM_STR(READ_TABLE) ", %esi\n"
"4:	lodsl\n"
"	testl %eax, %eax\n"
"	jz 5f\n"
"	movl (%eax), %edx\n"
"	jmp 4b\n"
"5:	outb %al, $" VM_STR(DIRTY_PORT) "\n"
"	jmp 1b\n"
GUEST_CODE_END(dirty_round));

FIXTURE(dirty) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	void *mem;
};

FIXTURE_SETUP(dirty)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	/*
	 * The host never touches this memory: a page the guest only reads
	 * is then the zero page, which nothing may map writable.
	 */
	self->mem = mmap(NULL, DIRTY_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	LOAD(&self->vm, dirty_round);
	ASSERT_EQ(0, vcpu_setup_pm32(&self->vcpu, VM_CODE_GPA));
}

FIXTURE_TEARDOWN(dirty)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
	munmap(self->mem, DIRTY_SIZE);
}

/* Page lists end with -1. */
static void set_table(struct hvk_vm *vm, uint64_t table, const int *pages)
{
	uint32_t *t = vm_gpa(vm, table);
	int i;

	for (i = 0; pages[i] >= 0; i++)
		t[i] = TEST_GPA + pages[i] * VM_PAGE_SIZE + 8 * i;
	t[i] = 0;
}

static uint64_t page_mask(const int *pages)
{
	uint64_t m = 0;
	int i;

	for (i = 0; pages[i] >= 0; i++)
		m |= 1ULL << pages[i];
	return m;
}

/* One round of the guest: write @writes, read @reads. */
#define dirty_round(self, writes, reads) do {				\
	set_table(&(self)->vm, WRITE_TABLE, writes);			\
	set_table(&(self)->vm, READ_TABLE, reads);			\
	vcpu_run_out(&(self)->vcpu, DIRTY_PORT, 1);			\
} while (0)

static int get_dirty_log(struct hvk_vm *vm, uint64_t *bitmap)
{
	struct kvm_dirty_log log = {
		.slot = TEST_SLOT,
		.dirty_bitmap = bitmap,
	};

	*bitmap = 0;
	return ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

static int clear_dirty_log(struct hvk_vm *vm, uint64_t bitmap)
{
	struct kvm_clear_dirty_log clear = {
		.slot = TEST_SLOT,
		.first_page = 0,
		.num_pages = DIRTY_PAGES,
		.dirty_bitmap = &bitmap,
	};

	return vm_ioctl(vm->fd, KVM_CLEAR_DIRTY_LOG, &clear);
}

/* Every third page, and page 10 twice. */
static const int round1_writes[] = {
	0, 3, 6, 9, 10, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48,
	51, 54, 57, 60, 63, 10, -1
};
/* Never touched before: the zero page. */
static const int round1_reads[] = { 1, 2, 4, -1 };
static const int round2_writes[] = { 1, 5, 62, 5, -1 };
/* Written in round 1, clean since. */
static const int round2_reads[] = { 0, 3, 30, 10, 2, -1 };

/*
 * Without manual protection KVM_GET_DIRTY_LOG returns the pages written
 * since the last call and starts over: exactly the written pages, never
 * the ones only read.
 */
TEST_F(dirty, get_dirty_log)
{
	uint64_t bitmap;

	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				 TEST_GPA, DIRTY_SIZE, self->mem));
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(0ULL, bitmap);
	dirty_round(self, round1_writes, round1_reads);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round1_writes), bitmap);
	dirty_round(self, round2_writes, round2_reads);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round2_writes), bitmap);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(0ULL, bitmap);
	/* The writes reached the memory. */
	EXPECT_EQ(WRITE_TABLE + 4U * 3,
		  *(uint32_t *)((char *)self->mem + 62 * VM_PAGE_SIZE + 8 * 2));
}

/*
 * Logging off: no bitmap (KVM: ENOENT), and writes made meanwhile are not
 * reported once logging is back on.
 */
TEST_F(dirty, logging_off_and_on)
{
	static const int off_writes[] = { 7, 8, -1 };
	static const int on_writes[] = { 11, 40, -1 };
	static const int none[] = { -1 };
	uint64_t bitmap;

	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				 TEST_GPA, DIRTY_SIZE, self->mem));
	dirty_round(self, round1_writes, none);
	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, 0, TEST_GPA, DIRTY_SIZE,
				 self->mem));
	EXPECT_EQ(-ENOENT, get_dirty_log(&self->vm, &bitmap));
	dirty_round(self, off_writes, none);
	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				 TEST_GPA, DIRTY_SIZE, self->mem));
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(0ULL, bitmap);
	/* Pages the guest wrote with logging off and on: dirty again. */
	dirty_round(self, on_writes, none);
	dirty_round(self, off_writes, none);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(on_writes) | page_mask(off_writes), bitmap);
}

/*
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (api.rst 7.18): KVM_GET_DIRTY_LOG no
 * longer clears or write-protects; KVM_CLEAR_DIRTY_LOG does, for the pages
 * it names.  With KVM_DIRTY_LOG_INITIALLY_SET the bitmap of a slot starts
 * with every page set.
 */
static void manual_protect(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dirty) *self, uint64_t flags)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { flags },
	};
	int supported;
	uint64_t bitmap;

	supported = check_cap(&self->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	if (supported <= 0 || (supported & flags) != flags)
		SKIP(return, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 %d", supported);
	ASSERT_EQ(0, vm_ioctl(self->vm.fd, KVM_ENABLE_CAP, &cap));
	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
				 TEST_GPA, DIRTY_SIZE, self->mem));
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	if (flags & KVM_DIRTY_LOG_INITIALLY_SET) {
		EXPECT_EQ(~0ULL, bitmap);
		ASSERT_EQ(0, clear_dirty_log(&self->vm, ~0ULL));
		ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	}
	EXPECT_EQ(0ULL, bitmap);

	dirty_round(self, round1_writes, round1_reads);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round1_writes), bitmap);
	/* Reading the log does not clear it. */
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round1_writes), bitmap);
	/* Clearing part of it leaves the rest. */
	ASSERT_EQ(0, clear_dirty_log(&self->vm, page_mask(round1_writes) &
					       0xffffffffULL));
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round1_writes) & ~0xffffffffULL, bitmap);
	ASSERT_EQ(0, clear_dirty_log(&self->vm, page_mask(round1_writes)));

	dirty_round(self, round2_writes, round2_reads);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round2_writes), bitmap);
	/* A page written again after its bit was cleared is dirty again. */
	ASSERT_EQ(0, clear_dirty_log(&self->vm, bitmap));
	dirty_round(self, round1_writes, round2_reads);
	ASSERT_EQ(0, get_dirty_log(&self->vm, &bitmap));
	EXPECT_EQ(page_mask(round1_writes), bitmap);
}

TEST_F(dirty, manual_protect)
{
	manual_protect(_metadata, self, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
}

TEST_F(dirty, manual_protect_initially_set)
{
	manual_protect(_metadata, self, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
					KVM_DIRTY_LOG_INITIALLY_SET);
}

/* --- the host's mapping changes under the guest -------------------------- */

#define HOST_PAGES	4
#define HOST_SIZE	(HOST_PAGES * VM_PAGE_SIZE)

FIXTURE(host) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	uint32_t *mem;
};

FIXTURE_SETUP(host)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	self->mem = mmap(NULL, HOST_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, vm_set_slot(&self->vm, TEST_SLOT, 0, TEST_GPA, HOST_SIZE,
				 self->mem));
	LOAD(&self->vm, rw_loop);
	ASSERT_EQ(0, setup_pm32_regs(&self->vcpu, TEST_GPA, 0x1000));
}

FIXTURE_TEARDOWN(host)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
	munmap(self->mem, HOST_SIZE);
}

/*
 * One pass of rw_loop: the guest reads word 0 (returned) and then writes
 * @wrote into word 1, which the host must see.
 */
#define guest_pass(self, wrote) ({					\
	uint32_t __v = vcpu_run_out(&(self)->vcpu, PORT_READ, 4);	\
	vcpu_run_out(&(self)->vcpu, PORT_WROTE, 4);			\
	EXPECT_EQ((uint32_t)(wrote), (self)->mem[1]);			\
	__v;								\
})

/*
 * MADV_DONTNEED drops the pages: anonymous memory reads as zero after it,
 * and a guest write lands in the new page, not the freed one.
 */
TEST_F(host, madv_dontneed)
{
	int r;

	self->mem[0] = 0x11111111;
	EXPECT_EQ(0x11111111U, guest_pass(self, 0x1000));
	self->mem[0] = 0x22222222;
	EXPECT_EQ(0x22222222U, guest_pass(self, 0x1001));
	r = madvise(self->mem, HOST_SIZE, MADV_DONTNEED);
	if (r && errno == ENOSYS)
		SKIP(return, "no madvise() in this kernel");
	ASSERT_EQ(0, r);
	EXPECT_EQ(0U, self->mem[1]);
	EXPECT_EQ(0U, guest_pass(self, 0x1002));
	self->mem[0] = 0x33333333;
	EXPECT_EQ(0x33333333U, guest_pass(self, 0x1003));
}

/*
 * mprotect: without read access the guest's access fails KVM_RUN with
 * EFAULT (the instruction has not run: it runs again once access is back);
 * read-only memory can be read but not written.
 */
TEST_F(host, mprotect)
{
	self->mem[0] = 0x44444444;
	EXPECT_EQ(0x44444444U, guest_pass(self, 0x1000));
	ASSERT_EQ(0, mprotect(self->mem, HOST_SIZE, PROT_NONE));
	EXPECT_EQ(-EFAULT, vcpu_run(&self->vcpu));
	EXPECT_EQ(-EFAULT, vcpu_run(&self->vcpu));
	ASSERT_EQ(0, mprotect(self->mem, HOST_SIZE, PROT_READ));
	EXPECT_EQ(0x44444444U, vcpu_run_out(&self->vcpu, PORT_READ, 4));
	EXPECT_EQ(-EFAULT, vcpu_run(&self->vcpu));
	ASSERT_EQ(0, mprotect(self->mem, HOST_SIZE, PROT_READ | PROT_WRITE));
	vcpu_run_out(&self->vcpu, PORT_WROTE, 4);
	EXPECT_EQ(0x1001U, self->mem[1]);
}

/*
 * munmap: the guest's next access fails KVM_RUN with EFAULT.  KVM 6.12
 * leaves exit_reason alone on this path although it offers
 * KVM_CAP_MEMORY_FAULT_INFO (api.rst allows that: not every EFAULT comes
 * with KVM_EXIT_MEMORY_FAULT); when given, it must name the page.  A new
 * mapping at the same address (MAP_FIXED) is what the guest then sees,
 * and so is one that replaces a live mapping without munmap.
 */
TEST_F(host, munmap_and_remap)
{
	struct kvm_run *run = self->vcpu.run;
	void *p;

	self->mem[0] = 0x55555555;
	EXPECT_EQ(0x55555555U, guest_pass(self, 0x1000));
	ASSERT_EQ(0, munmap(self->mem, VM_PAGE_SIZE));
	run->exit_reason = KVM_EXIT_UNKNOWN;
	EXPECT_EQ(-EFAULT, vcpu_run(&self->vcpu));
	if (run->exit_reason == KVM_EXIT_MEMORY_FAULT)
		EXPECT_EQ((uint64_t)TEST_GPA,
			  run->memory_fault.gpa & ~0xfffULL);

	p = mmap(self->mem, VM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ((void *)self->mem, p);
	self->mem[0] = 0x66666666;
	EXPECT_EQ(0x66666666U, guest_pass(self, 0x1001));

	p = mmap(self->mem, VM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ((void *)self->mem, p);
	self->mem[0] = 0x77777777;
	EXPECT_EQ(0x77777777U, guest_pass(self, 0x1002));
}

/* --- slots deleted and moved while a vCPU runs ---------------------------- */

#define MOVE_X_GPA	0x400000
#define MOVE_Y_GPA	0x600000
#define PORT_X		0x84
#define PORT_Y		0x85
#define MEM_VALUE	0x600d600dU
#define MMIO_X		0xdead0001U
#define MMIO_Y		0xdead0002U
#define MOVE_CYCLES	3
#define PHASE_RUNS	10

/* 32-bit: read X, OUT; read Y, OUT; again. */
GUEST_CODE_DECLARE(xy_loop);
asm(GUEST_CODE_BEGIN(xy_loop, ".code32")
"1:	movl " VM_STR(MOVE_X_GPA) ", %eax\n"
"	outl %eax, $" VM_STR(PORT_X) "\n"
"	movl " VM_STR(MOVE_Y_GPA) ", %eax\n"
"	outl %eax, $" VM_STR(PORT_Y) "\n"
"	jmp 1b\n"
GUEST_CODE_END(xy_loop));

/*
 * Phases of the slot: at X, deleted, at Y, then moved back to X in one
 * KVM_SET_USER_MEMORY_REGION.  seq is even while a phase (seq / 2) holds
 * and odd while the main thread changes the slot.
 */
struct mover {
	struct hvk_vcpu *vcpu;
	atomic_uint seq;
	atomic_uint runs;
	atomic_bool stop;
	int error;
	char msg[128];
};

static bool slot_at(unsigned int phase, uint64_t gpa)
{
	switch (phase % 3) {
	case 0:
		return gpa == MOVE_X_GPA;
	case 2:
		return gpa == MOVE_Y_GPA;
	default:
		return false;
	}
}

static void *mover_vcpu(void *arg)
{
	struct mover *m = arg;
	struct kvm_run *run = m->vcpu->run;
	uint32_t pending = 0, val;
	unsigned int s1, s2;
	uint64_t gpa;
	int r;

	while (!atomic_load(&m->stop)) {
		s1 = atomic_load(&m->seq);
		r = vcpu_run(m->vcpu);
		s2 = atomic_load(&m->seq);
		if (r) {
			snprintf(m->msg, sizeof(m->msg), "KVM_RUN: %s",
				 strerror(-r));
			break;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			gpa = run->mmio.phys_addr;
			if (run->mmio.is_write || run->mmio.len != 4 ||
			    (gpa != MOVE_X_GPA && gpa != MOVE_Y_GPA)) {
				snprintf(m->msg, sizeof(m->msg),
					 "MMIO %s %u at %#llx",
					 run->mmio.is_write ? "write" : "read",
					 run->mmio.len,
					 (unsigned long long)gpa);
				break;
			}
			/* Within one phase, only where no slot is. */
			if (s1 == s2 && !(s1 & 1) && slot_at(s1 / 2, gpa)) {
				snprintf(m->msg, sizeof(m->msg),
					 "phase %u: MMIO at %#llx", s1 / 2,
					 (unsigned long long)gpa);
				break;
			}
			pending = gpa == MOVE_X_GPA ? MMIO_X : MMIO_Y;
			memcpy(run->mmio.data, &pending, 4);
			continue;
		}
		if (vcpu_out_value(m->vcpu, run->io.port, 4, &val) ||
		    (run->io.port != PORT_X && run->io.port != PORT_Y)) {
			snprintf(m->msg, sizeof(m->msg), "unexpected exit");
			break;
		}
		gpa = run->io.port == PORT_X ? MOVE_X_GPA : MOVE_Y_GPA;
		if (pending) {
			/* The read that exited completes with our data. */
			if (val != pending) {
				snprintf(m->msg, sizeof(m->msg),
					 "MMIO read gave %#x, want %#x", val,
					 pending);
				break;
			}
			pending = 0;
		} else if (val != MEM_VALUE) {
			snprintf(m->msg, sizeof(m->msg),
				 "read %#x at %#llx", val,
				 (unsigned long long)gpa);
			break;
		} else if (s1 == s2 && !(s1 & 1) && !slot_at(s1 / 2, gpa)) {
			/* Memory where, all through this run, none was. */
			snprintf(m->msg, sizeof(m->msg),
				 "phase %u: stale read at %#llx", s1 / 2,
				 (unsigned long long)gpa);
			break;
		}
		atomic_fetch_add(&m->runs, 1);
	}
	m->error = m->msg[0] != '\0';
	atomic_store(&m->stop, true);
	return NULL;
}

static bool wait_runs(struct mover *m, unsigned int target)
{
	struct timespec ts = { .tv_nsec = 1000000 };
	int ms;

	for (ms = 0; ms < 60000; ms++) {
		if (atomic_load(&m->runs) >= target)
			return true;
		if (atomic_load(&m->stop))
			return false;
		nanosleep(&ts, NULL);
	}
	return false;
}

TEST(slot_delete_and_move_while_running)
{
	struct mover m = { 0 };
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	unsigned int phase;
	pthread_t t;
	uint32_t *mem;
	int r = 0;

	ASSERT_EQ(0, vm_create(&vm));
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	mem = mmap(NULL, VM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = MEM_VALUE;
	ASSERT_EQ(0, vm_set_slot(&vm, TEST_SLOT, 0, MOVE_X_GPA, VM_PAGE_SIZE,
				 mem));
	LOAD(&vm, xy_loop);
	ASSERT_EQ(0, vcpu_setup_pm32(&vcpu, VM_CODE_GPA));
	m.vcpu = &vcpu;
	ASSERT_EQ(0, pthread_create(&t, NULL, mover_vcpu, &m));
	for (phase = 0; phase < 3 * MOVE_CYCLES && !r; phase++) {
		if (!wait_runs(&m, atomic_load(&m.runs) + PHASE_RUNS))
			break;
		atomic_fetch_add(&m.seq, 1);
		switch (phase % 3) {
		case 0:		/* delete */
			r = vm_set_slot(&vm, TEST_SLOT, 0, MOVE_X_GPA, 0, mem);
			break;
		case 1:		/* add at Y */
			r = vm_set_slot(&vm, TEST_SLOT, 0, MOVE_Y_GPA,
					VM_PAGE_SIZE, mem);
			break;
		case 2:		/* move to X */
			r = vm_set_slot(&vm, TEST_SLOT, 0, MOVE_X_GPA,
					VM_PAGE_SIZE, mem);
			break;
		}
		atomic_fetch_add(&m.seq, 1);
	}
	if (!r && !atomic_load(&m.stop))
		wait_runs(&m, atomic_load(&m.runs) + PHASE_RUNS);
	atomic_store(&m.stop, true);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, r);
	EXPECT_EQ(0, m.error) TH_LOG("%s", m.msg);
	EXPECT_EQ(3U * MOVE_CYCLES, phase) TH_LOG("vCPU stalled");
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	munmap(mem, VM_PAGE_SIZE);
}

/* --- huge second-level mappings ------------------------------------------ */

#define HUGE_GPA	0x40000000ULL
#define HUGE_SIZE	(2 * VM_LARGE_PAGE_SIZE)
#define HUGE_PD_GPA	0x10000
#define HUGE_PORT	0x86

/*
 * Long mode, HUGE_GPA mapped with 2 MiB pages: sum the first byte of every
 * 4 KiB page and increment it, then OUT the sum.
 */
GUEST_CODE_DECLARE(huge_touch);
asm(GUEST_CODE_BEGIN(huge_touch, ".code64")
"	movq $" VM_STR(HUGE_GPA) ", %rdi\n"
"	movq $(" VM_STR(HUGE_SIZE) " / " VM_STR(VM_PAGE_SIZE) "), %rcx\n"
"	xorl %eax, %eax\n"
"1:	movzbl (%rdi), %edx\n"
"	addl %edx, %eax\n"
"	incb (%rdi)\n"
"	addq $" VM_STR(VM_PAGE_SIZE) ", %rdi\n"
"	loop 1b\n"
"	outl %eax, $" VM_STR(HUGE_PORT) "\n"
"	hlt\n"
GUEST_CODE_END(huge_touch));

/*
 * Run huge_touch over @mem (HUGE_SIZE, 2 MiB aligned, every byte 0x5a) as
 * slot 1 at HUGE_GPA; the VM's "pages_2m" statistic must count the two
 * huge mappings.
 */
static void huge_guest(struct __test_metadata *_metadata, uint8_t *mem)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	uint64_t before, after;
	size_t off;

	ASSERT_EQ(0, vm_create(&vm));
	if (check_cap(&vm, KVM_CAP_BINARY_STATS_FD) <= 0) {
		vm_destroy(&vm);
		SKIP(return, "no KVM_CAP_BINARY_STATS_FD");
	}
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	ASSERT_EQ(0, vm_set_slot(&vm, TEST_SLOT, 0, HUGE_GPA, HUGE_SIZE, mem));
	LOAD(&vm, huge_touch);
	ASSERT_EQ(0, vcpu_setup_long(&vcpu, VM_CODE_GPA));
	vm_map_2m(&vm, HUGE_GPA, HUGE_SIZE, HUGE_PD_GPA);
	ASSERT_EQ(0, kvm_stat(vm.fd, "pages_2m", &before));
	EXPECT_EQ((uint32_t)(0x5a * (HUGE_SIZE / VM_PAGE_SIZE)),
		  vcpu_run_out(&vcpu, HUGE_PORT, 4));
	vcpu_run_expect(&vcpu, KVM_EXIT_HLT);
	ASSERT_EQ(0, kvm_stat(vm.fd, "pages_2m", &after));
	EXPECT_LE(before + HUGE_SIZE / VM_LARGE_PAGE_SIZE, after)
		TH_LOG("pages_2m %llu before, %llu after",
		       (unsigned long long)before, (unsigned long long)after);
	for (off = 0; off < HUGE_SIZE; off += VM_PAGE_SIZE)
		if (mem[off] != 0x5b)
			break;
	EXPECT_EQ((size_t)HUGE_SIZE, off);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
}

TEST(thp_mapped_huge)
{
	uint8_t *raw, *mem;
	long kib;

	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		SKIP(return, "no transparent huge pages");
	raw = mmap(NULL, HUGE_SIZE + VM_LARGE_PAGE_SIZE,
		   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (uint8_t *)(((uintptr_t)raw + VM_LARGE_PAGE_SIZE - 1) &
			  ~(uintptr_t)(VM_LARGE_PAGE_SIZE - 1));
	/* Without madvise() (ENOSYS), THP may still be on for everything. */
	if (madvise(mem, HUGE_SIZE, MADV_HUGEPAGE))
		ASSERT_EQ(ENOSYS, errno);
	memset(mem, 0x5a, HUGE_SIZE);
	kib = hvk_anon_huge_kib(mem);
	if (kib < (long)(HUGE_SIZE / 1024)) {
		munmap(raw, HUGE_SIZE + VM_LARGE_PAGE_SIZE);
		SKIP(return, "THP did not back the memory (%ld KiB)", kib);
	}
	huge_guest(_metadata, mem);
	munmap(raw, HUGE_SIZE + VM_LARGE_PAGE_SIZE);
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

FIXTURE(hugetlb) {
	char old[32];
	void *mem;
};

FIXTURE_SETUP(hugetlb)
{
	self->mem = MAP_FAILED;
	self->old[0] = '\0';
}

FIXTURE_TEARDOWN(hugetlb)
{
	if (self->mem != MAP_FAILED)
		munmap(self->mem, HUGE_SIZE);
	if (self->old[0])
		hvk_write_str(NR_HUGEPAGES, self->old);
}

TEST_F(hugetlb, mapped_huge)
{
	char want[32];

	if (hvk_read_line(NR_HUGEPAGES, self->old, sizeof(self->old)))
		SKIP(return, "no hugetlbfs");
	snprintf(want, sizeof(want), "%ld",
		 atol(self->old) + (long)(HUGE_SIZE / VM_LARGE_PAGE_SIZE));
	if (hvk_write_str(NR_HUGEPAGES, want))
		SKIP(return, "cannot set nr_hugepages");
	self->mem = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (self->mem == MAP_FAILED)
		SKIP(return, "no free huge pages: %s", strerror(errno));
	memset(self->mem, 0x5a, HUGE_SIZE);
	huge_guest(_metadata, self->mem);
}

TEST_HARNESS_MAIN
