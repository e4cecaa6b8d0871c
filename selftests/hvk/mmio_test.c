// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: guest accesses to guest-physical addresses no memory slot covers
 * leave KVM_RUN with KVM_EXIT_MMIO (api.rst): phys_addr, len, is_write and,
 * for a write, the data.  A read completes when user space calls KVM_RUN
 * again, with the data it put in run->mmio.data.  The guests below use the
 * instruction forms that drivers use on device memory, in long mode, 32-bit
 * protected mode and real mode, and store what they computed in RAM for the
 * test to check.
 *
 * Layout: slot 0 is RAM from 0 to MMIO_RAM_SIZE only; MMIO_GPA lies above
 * it, below 1 MiB so that real mode reaches it, and inside the 2 MiB that
 * the long-mode page tables map 1:1.
 */
#include "kselftest_harness.h"
#include "vm_util.h"

#define MMIO_RAM_SIZE	0xc0000
#define MMIO_GPA	0xd0000
#define M		VM_STR(MMIO_GPA)
/* Where the guests store their results (RAM). */
#define RES_GPA		VM_DATA_GPA
#define RES		VM_STR(RES_GPA)

/* Arithmetic flags (SDM vol. 1 3.4.3.1): CF PF AF ZF SF OF. */
#define FLAGS_ARITH	0x8d5
/* TEST leaves AF undefined (SDM vol. 2B, TEST). */
#define FLAGS_LOGIC	(FLAGS_ARITH & ~0x10)

/* Long mode: MOV of every size and form, to and from MMIO. */
GUEST_CODE_DECLARE(lm_mov);
asm(GUEST_CODE_BEGIN(lm_mov, ".code64")
"	movabsq $0x1122334455667788, %rax\n"
"	movb %al, " M "\n"			/* 88 /r */
"	movw %ax, " M " + 2\n"			/* 66 89 /r */
"	movl %eax, " M " + 4\n"			/* 89 /r */
"	movq %rax, " M " + 8\n"			/* REX.W 89 /r */
"	movb " M " + 16, %bl\n"			/* 8a /r */
"	movw " M " + 18, %cx\n"
"	movl " M " + 20, %edx\n"
"	movq " M " + 24, %rsi\n"		/* REX.W 8b /r */
"	movq %rbx, " RES "\n"
"	movq %rcx, " RES " + 8\n"
"	movq %rdx, " RES " + 16\n"
"	movq %rsi, " RES " + 24\n"
"	movb $0x5a, " M " + 32\n"		/* c6 /0 ib */
"	movw $0x1234, " M " + 34\n"		/* 66 c7 /0 iw */
"	movl $0x89abcdef, " M " + 36\n"		/* c7 /0 id */
"	movq $-2, " M " + 40\n"			/* REX.W c7 /0, sign-extended */
"	movabsb " M " + 48, %al\n"		/* a0, 64-bit moffs */
"	movq %rax, " RES " + 32\n"
"	movabsl " M " + 52, %eax\n"		/* a1 */
"	movq %rax, " RES " + 40\n"
"	movabsb %al, " M " + 56\n"		/* a2 */
"	movabsq %rax, " M " + 64\n"		/* REX.W a3 */
"	movabsw " M " + 72, %ax\n"		/* 66 a1 */
"	movq %rax, " RES " + 48\n"
"	hlt\n"
GUEST_CODE_END(lm_mov));

/* Long mode: MOVZX, MOVSX, MOVSXD from MMIO. */
GUEST_CODE_DECLARE(lm_movx);
asm(GUEST_CODE_BEGIN(lm_movx, ".code64")
"	movq $-1, %rax\n"
"	movq %rax, %rbx\n"
"	movq %rax, %rcx\n"
"	movq %rax, %rdx\n"
"	movzbl " M ", %eax\n"			/* 0f b6 */
"	movzwq " M " + 2, %rbx\n"		/* REX.W 0f b7 */
"	movsbq " M " + 4, %rcx\n"		/* REX.W 0f be */
"	movswl " M " + 6, %edx\n"		/* 0f bf */
"	movslq " M " + 8, %rsi\n"		/* REX.W 63 */
"	movsbw " M " + 12, %di\n"		/* 66 0f be */
"	movq %rax, " RES "\n"
"	movq %rbx, " RES " + 8\n"
"	movq %rcx, " RES " + 16\n"
"	movq %rdx, " RES " + 24\n"
"	movq %rsi, " RES " + 32\n"
"	movq %rdi, " RES " + 40\n"
"	hlt\n"
GUEST_CODE_END(lm_movx));

/*
 * Long mode: string instructions with REP, from RAM to MMIO, MMIO to RAM,
 * STOS forwards and backwards, and LODS.
 */
GUEST_CODE_DECLARE(lm_string);
asm(GUEST_CODE_BEGIN(lm_string, ".code64")
"	cld\n"
"	movq $" RES " + 0x100, %rsi\n"
"	movq $" M ", %rdi\n"
"	movq $3, %rcx\n"
"	rep movsl\n"
"	movq $" M " + 0x100, %rsi\n"
"	movq $" RES " + 0x200, %rdi\n"
"	movq $2, %rcx\n"
"	rep movsw\n"
"	movq $" M " + 0x200, %rdi\n"
"	movabsq $0x0102030405060708, %rax\n"
"	movq $2, %rcx\n"
"	rep stosq\n"
"	std\n"
"	movq $" M " + 0x303, %rdi\n"
"	movb $0xee, %al\n"
"	movq $2, %rcx\n"
"	rep stosb\n"
"	cld\n"
"	movq %rdi, " RES "\n"
"	movq %rcx, " RES " + 8\n"
"	movq $" M " + 0x400, %rsi\n"
"	lodsl\n"
"	movq %rax, " RES " + 16\n"
"	movq %rsi, " RES " + 24\n"
"	hlt\n"
GUEST_CODE_END(lm_string));

/*
 * Long mode: ALU instructions with a memory operand: read-modify-write
 * (a read exit, then a write exit), reads only (CMP, TEST, ALU into a
 * register), XCHG; the flags the guest sees after each.
 */
GUEST_CODE_DECLARE(lm_alu);
asm(GUEST_CODE_BEGIN(lm_alu, ".code64")
"	movl $0xf0f0f0f0, %eax\n"
"	andl $0x0ff00ff0, " M "\n"		/* 81 /4 id */
"	orb $0x81, " M " + 4\n"			/* 80 /1 ib */
"	xorw %ax, " M " + 6\n"			/* 66 31 /r */
"	addq %rax, " M " + 8\n"			/* REX.W 01 /r */
"	subl $1, " M " + 16\n"			/* 83 /5 ib */
"	pushfq\n"
"	popq " RES "\n"
"	addl " M " + 20, %eax\n"		/* 03 /r: read only */
"	movq %rax, " RES " + 8\n"
"	cmpl $0x100, " M " + 24\n"		/* 81 /7 id */
"	pushfq\n"
"	popq " RES " + 16\n"
"	cmpl $0x200, " M " + 24\n"
"	pushfq\n"
"	popq " RES " + 24\n"
"	testb $0x80, " M " + 28\n"		/* f6 /0 ib */
"	pushfq\n"
"	popq " RES " + 32\n"
"	testl %eax, " M " + 32\n"		/* 85 /r */
"	pushfq\n"
"	popq " RES " + 40\n"
"	movl $0x11111111, %ecx\n"
"	xchgl %ecx, " M " + 36\n"		/* 87 /r */
"	movq %rcx, " RES " + 48\n"
"	hlt\n"
GUEST_CODE_END(lm_alu));

/*
 * Long mode addressing: base + index * scale + displacement (SIB), REX
 * registers, RIP-relative, a 32-bit address (67 prefix), FS with a base
 * from KVM_SET_SREGS, GS with a base the guest writes to IA32_GS_BASE.
 * The assembler makes "X(%rip)" the distance from the next instruction to
 * X in this binary; the guest's target, relative to where the code is
 * loaded, is written as such a place.
 */
#define LM_FS_BASE	(MMIO_GPA + 0x80)
#define LM_GS_BASE	(MMIO_GPA + 0x100)
GUEST_CODE_DECLARE(lm_addr);
asm(GUEST_CODE_BEGIN(lm_addr, ".code64")
"	movq $" M ", %rbx\n"
"	movq $2, %rcx\n"
"	movl $0xa1b2c3d4, %eax\n"
"	movl %eax, 0x10(%rbx,%rcx,8)\n"
"	movq $" M " + 0x40, %r10\n"
"	movabsq $0x0f1e2d3c4b5a6978, %r9\n"
"	movq %r9, (%r10)\n"			/* REX.WRB */
"	movw 2(%r10), %r11w\n"			/* 66 REX.RB */
"	movq %r11, " RES "\n"
"	movl %eax, lm_addr_start + " M " + 0x60 - " VM_STR(VM_CODE_GPA)
	"(%rip)\n"
"	movl 0x70(%ebx), %edx\n"		/* 67: 32-bit address */
"	movq %rdx, " RES " + 8\n"
"	movl %eax, %fs:0x8\n"
"	movl $0xc0000101, %ecx\n"		/* IA32_GS_BASE */
"	movl $" VM_STR(LM_GS_BASE) ", %eax\n"
"	xorl %edx, %edx\n"
"	wrmsr\n"
"	movb %gs:0x10, %al\n"
"	movq %rax, " RES " + 16\n"
"	hlt\n"
GUEST_CODE_END(lm_addr));

/*
 * 32-bit protected mode with DS based at PM_DS_BASE (so that DS offsets
 * 0x10000 and up reach MMIO_GPA); results go through ES, based at 0.
 */
#define PM_DS_BASE	(MMIO_GPA - 0x10000)
GUEST_CODE_DECLARE(pm32_mmio);
asm(GUEST_CODE_BEGIN(pm32_mmio, ".code32")
"	movl $0x11223344, %eax\n"
"	movl %eax, 0x10000\n"			/* a3, 32-bit moffs */
"	movw %ax, 0x10004\n"			/* 66 a3 */
"	movb 0x10008, %al\n"			/* a0 */
"	movl %eax, %es:" RES "\n"
"	movl 0x1000c, %eax\n"			/* a1 */
"	movl %eax, %es:" RES " + 4\n"
"	movl $0x10010, %ebx\n"
"	movb $0x7e, (%ebx)\n"			/* c6 /0 */
"	movzwl 2(%ebx), %ecx\n"
"	movsbl 4(%ebx), %edx\n"
"	movl %ecx, %es:" RES " + 8\n"
"	movl %edx, %es:" RES " + 12\n"
"	movl $1, %esi\n"
"	orl $0x100, 8(%ebx,%esi,4)\n"		/* SIB, read-modify-write */
"	cmpw $5, 0x20(%ebx)\n"
"	pushfl\n"
"	popl %es:" RES " + 16\n"
"	movb $0x3c, %cl\n"
"	xchgb %cl, 0x22(%ebx)\n"
"	movl %ecx, %es:" RES " + 20\n"
"	movl $0x11223344, %edx\n"
"	subl %edx, 0x24(%ebx)\n"		/* 29 /r */
"	pushfl\n"
"	popl %es:" RES " + 24\n"
"	cld\n"
"	movl $" M " + 0x40, %edi\n"		/* ES base 0 */
"	movl $2, %ecx\n"
"	movw $0xabcd, %ax\n"
"	rep stosw\n"
"	movl %edi, %es:" RES " + 28\n"
"	hlt\n"
GUEST_CODE_END(pm32_mmio));

/* Real mode with DS = MMIO_GPA >> 4; results through ES = 0. */
GUEST_CODE_DECLARE(real_mmio);
asm(GUEST_CODE_BEGIN(real_mmio, ".code16")
"	movw $(" M " >> 4), %ax\n"
"	movw %ax, %ds\n"
"	movb $0x42, %al\n"
"	movb %al, 0\n"				/* a2, 16-bit moffs */
"	movw $0x1234, 2\n"			/* c7 /0 iw */
"	movl $0xdeadbeef, %eax\n"
"	movl %eax, 4\n"				/* 66 a3 */
"	movw 8, %dx\n"				/* 8b /r, disp16 */
"	movw %dx, %es:" RES "\n"
"	movl $0xc, %ebx\n"
"	movl (%ebx), %ecx\n"			/* 67 66 8b: 32-bit address */
"	movl %ecx, %es:" RES " + 4\n"
"	movw $0x10, %si\n"
"	movzbw (%si), %dx\n"
"	movsbw 1(%si), %di\n"
"	movw %dx, %es:" RES " + 8\n"
"	movw %di, %es:" RES " + 10\n"
"	addw $0x10, 2(%si)\n"			/* read-modify-write */
"	cmpb $0x10, 4(%si)\n"
"	pushfw\n"
"	popw %es:" RES " + 12\n"
"	xchgw %dx, 6(%si)\n"
"	movw %dx, %es:" RES " + 14\n"
"	pushw %ds\n"
"	popw %es\n"
"	movw $0x20, %di\n"
"	movw $3, %cx\n"
"	movb $0x77, %al\n"
"	cld\n"
"	rep stosb\n"				/* ES:DI, ES = DS here */
"	xorw %ax, %ax\n"
"	movw %ax, %es\n"
"	movw %di, %es:" RES " + 16\n"
"	hlt\n"
GUEST_CODE_END(real_mmio));

/* Long mode: a read whose completion the test looks at register by register. */
GUEST_CODE_DECLARE(lm_read_once);
asm(GUEST_CODE_BEGIN(lm_read_once, ".code64")
"	movl " M ", %eax\n"
GUEST_LABEL(lm_read_once_next)
"	hlt\n"
GUEST_CODE_END(lm_read_once));
extern const uint8_t lm_read_once_next[];

/*
 * Long mode: one linear address whose page-table entry changes between
 * MMIO writes, by the guest (then INVLPG) and by user space while the
 * vCPU is out of KVM_RUN: each write goes where the entry points now, and
 * the entry that user space wrote without Accessed and Dirty bits has
 * both once the write went through it (SDM Vol. 3, 4.8).
 * vcpu_setup_long() maps the first 2 MiB with 4 KiB pages from VM_PT_GPA.
 */
#define REMAP_PTE_GPA	(VM_PT_GPA + (MMIO_GPA >> 12) * 8)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
GUEST_CODE_DECLARE(lm_remap);
asm(GUEST_CODE_BEGIN(lm_remap, ".code64")
"	movl $1, %eax\n"
"	movl %eax, " M "\n"
"	movq $" M " + 0x1000 + 3, " VM_STR(REMAP_PTE_GPA) "\n"
"	invlpg " M "\n"
"	movl $2, %eax\n"
"	movl %eax, " M "\n"
"	invlpg " M "\n"
"	movl $3, %eax\n"
"	movl %eax, " M "\n"
"	hlt\n"
GUEST_CODE_END(lm_remap));

/*
 * Long mode: an x87 load from MMIO.  KVM's instruction emulator knows only
 * FNSTCW, FNSTSW and FNINIT of the x87 set, so it cannot complete this
 * access; neither should any emulator that has not been taught x87.
 */
GUEST_CODE_DECLARE(lm_fld);
asm(GUEST_CODE_BEGIN(lm_fld, ".code64")
"	flds " M "\n"
"	hlt\n"
GUEST_CODE_END(lm_fld));

FIXTURE(mmio) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(mmio)
{
	ASSERT_EQ(0, vm_create_with(&self->vm, MMIO_RAM_SIZE));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
}

FIXTURE_TEARDOWN(mmio)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

#define LOAD(self, name) \
	vm_load(&(self)->vm, VM_CODE_GPA, name##_start, name##_end)

static uint64_t *res(struct hvk_vm *vm)
{
	return vm_gpa(vm, RES_GPA);
}

#define WR(off, len) vcpu_run_mmio_write(&self->vcpu, MMIO_GPA + (off), len)
#define RD(off, len, val) \
	vcpu_run_mmio_read(&self->vcpu, MMIO_GPA + (off), len, val)

TEST_F(mmio, long_mode_mov)
{
	uint64_t *r = res(&self->vm);

	LOAD(self, lm_mov);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	EXPECT_EQ(0x88ULL, WR(0, 1));
	EXPECT_EQ(0x7788ULL, WR(2, 2));
	EXPECT_EQ(0x55667788ULL, WR(4, 4));
	EXPECT_EQ(0x1122334455667788ULL, WR(8, 8));
	RD(16, 1, 0xa1);
	RD(18, 2, 0xb2b1);
	RD(20, 4, 0xc4c3c2c1);
	RD(24, 8, 0xd8d7d6d5d4d3d2d1ULL);
	EXPECT_EQ(0x5aULL, WR(32, 1));
	EXPECT_EQ(0x1234ULL, WR(34, 2));
	EXPECT_EQ(0x89abcdefULL, WR(36, 4));
	EXPECT_EQ(0xfffffffffffffffeULL, WR(40, 8));
	RD(48, 1, 0xe1);
	RD(52, 4, 0xf4f3f2f1);
	EXPECT_EQ(0xf1ULL, WR(56, 1));
	EXPECT_EQ(0xf4f3f2f1ULL, WR(64, 8));
	RD(72, 2, 0x9988);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0xa1ULL, r[0]);
	EXPECT_EQ(0xb2b1ULL, r[1]);
	EXPECT_EQ(0xc4c3c2c1ULL, r[2]);
	EXPECT_EQ(0xd8d7d6d5d4d3d2d1ULL, r[3]);
	/* An 8-bit load keeps the rest of RAX, a 32-bit load clears it. */
	EXPECT_EQ(0x11223344556677e1ULL, r[4]);
	EXPECT_EQ(0xf4f3f2f1ULL, r[5]);
	EXPECT_EQ(0xf4f39988ULL, r[6]);
}

TEST_F(mmio, long_mode_movzx_movsx)
{
	uint64_t *r = res(&self->vm);

	LOAD(self, lm_movx);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	RD(0, 1, 0x80);
	RD(2, 2, 0x8001);
	RD(4, 1, 0x80);
	RD(6, 2, 0x8001);
	RD(8, 4, 0x80000001);
	RD(12, 1, 0xfe);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0x80ULL, r[0]);
	EXPECT_EQ(0x8001ULL, r[1]);
	EXPECT_EQ(0xffffffffffffff80ULL, r[2]);
	EXPECT_EQ(0xffff8001ULL, r[3]);
	EXPECT_EQ(0xffffffff80000001ULL, r[4]);
	/* A 16-bit destination: the upper bits of RDI (0) stay. */
	EXPECT_EQ(0xfffeULL, r[5]);
}

/* One exit per element, in the direction DF says. */
TEST_F(mmio, long_mode_rep_string)
{
	uint64_t *r = res(&self->vm);
	uint32_t *src = vm_gpa(&self->vm, RES_GPA + 0x100);
	uint16_t *dst = vm_gpa(&self->vm, RES_GPA + 0x200);

	src[0] = 0x10101010;
	src[1] = 0x20202020;
	src[2] = 0x30303030;
	LOAD(self, lm_string);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	EXPECT_EQ(0x10101010ULL, WR(0, 4));
	EXPECT_EQ(0x20202020ULL, WR(4, 4));
	EXPECT_EQ(0x30303030ULL, WR(8, 4));
	RD(0x100, 2, 0x1111);
	RD(0x102, 2, 0x2222);
	EXPECT_EQ(0x0102030405060708ULL, WR(0x200, 8));
	EXPECT_EQ(0x0102030405060708ULL, WR(0x208, 8));
	EXPECT_EQ(0xeeULL, WR(0x303, 1));
	EXPECT_EQ(0xeeULL, WR(0x302, 1));
	RD(0x400, 4, 0xcafef00d);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0x1111, dst[0]);
	EXPECT_EQ(0x2222, dst[1]);
	EXPECT_EQ((uint64_t)MMIO_GPA + 0x301, r[0]);
	EXPECT_EQ(0ULL, r[1]);
	EXPECT_EQ(0xcafef00dULL, r[2]);
	EXPECT_EQ((uint64_t)MMIO_GPA + 0x404, r[3]);
}

TEST_F(mmio, long_mode_alu)
{
	uint64_t *r = res(&self->vm);

	LOAD(self, lm_alu);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	RD(0, 4, 0x12345678);
	EXPECT_EQ(0x02300670ULL, WR(0, 4));
	RD(4, 1, 0x10);
	EXPECT_EQ(0x91ULL, WR(4, 1));
	RD(6, 2, 0x1234);
	EXPECT_EQ(0xe2c4ULL, WR(6, 2));
	RD(8, 8, 0x100000000ULL);
	EXPECT_EQ(0x1f0f0f0f0ULL, WR(8, 8));
	RD(16, 4, 0);
	EXPECT_EQ(0xffffffffULL, WR(16, 4));
	RD(20, 4, 0x10);		/* ADD into a register: no write */
	RD(24, 4, 0x100);		/* CMP: no write */
	RD(24, 4, 0x100);
	RD(28, 1, 0x7f);		/* TEST: no write */
	RD(32, 4, 0x80000000);
	RD(36, 4, 0xabcdef01);		/* XCHG: read, then write */
	EXPECT_EQ(0x11111111ULL, WR(36, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	/* 0 - 1: CF, PF (0xff), AF (borrow from bit 4), SF. */
	EXPECT_EQ(0x95ULL, r[0] & FLAGS_ARITH);
	EXPECT_EQ(0xf0f0f100ULL, r[1]);
	/* 0x100 - 0x100: ZF, PF. */
	EXPECT_EQ(0x44ULL, r[2] & FLAGS_ARITH);
	/* 0x100 - 0x200 = 0xffffff00: CF, PF, SF. */
	EXPECT_EQ(0x85ULL, r[3] & FLAGS_ARITH);
	/* 0x7f & 0x80 = 0: ZF, PF. */
	EXPECT_EQ(0x44ULL, r[4] & FLAGS_LOGIC);
	/* 0x80000000 & 0xf0f0f100: SF, PF (low byte 0). */
	EXPECT_EQ(0x84ULL, r[5] & FLAGS_LOGIC);
	EXPECT_EQ(0xabcdef01ULL, r[6]);
}

TEST_F(mmio, long_mode_addressing)
{
	struct kvm_sregs sregs;
	uint64_t *r = res(&self->vm);

	LOAD(self, lm_addr);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	sregs.fs.base = LM_FS_BASE;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sregs));
	EXPECT_EQ(0xa1b2c3d4ULL, WR(0x20, 4));
	EXPECT_EQ(0x0f1e2d3c4b5a6978ULL, WR(0x40, 8));
	RD(0x42, 2, 0x7788);
	EXPECT_EQ(0xa1b2c3d4ULL, WR(0x60, 4));
	RD(0x70, 4, 0x76543210);
	EXPECT_EQ(0xa1b2c3d4ULL, WR(0x88, 4));
	RD(0x110, 1, 0x5e);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	/* A 16-bit load into R11W keeps R11's upper bits (0). */
	EXPECT_EQ(0x7788ULL, r[0]);
	EXPECT_EQ(0x76543210ULL, r[1]);
	EXPECT_EQ((uint64_t)(LM_GS_BASE & ~0xffULL) | 0x5e, r[2]);
}

TEST_F(mmio, protected_mode)
{
	struct kvm_sregs sregs;
	uint32_t *r = vm_gpa(&self->vm, RES_GPA);

	LOAD(self, pm32_mmio);
	ASSERT_EQ(0, vcpu_setup_pm32(&self->vcpu, VM_CODE_GPA));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	sregs.ds.base = PM_DS_BASE;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sregs));
	EXPECT_EQ(0x11223344ULL, WR(0, 4));
	EXPECT_EQ(0x3344ULL, WR(4, 2));
	RD(8, 1, 0x99);
	RD(0xc, 4, 0x55aa55aa);
	EXPECT_EQ(0x7eULL, WR(0x10, 1));
	RD(0x12, 2, 0x8001);
	RD(0x14, 1, 0x80);
	RD(0x1c, 4, 0x1);
	EXPECT_EQ(0x101ULL, WR(0x1c, 4));
	RD(0x30, 2, 5);
	RD(0x32, 1, 0xc3);
	EXPECT_EQ(0x3cULL, WR(0x32, 1));
	RD(0x34, 4, 0x11223344);
	EXPECT_EQ(0ULL, WR(0x34, 4));
	EXPECT_EQ(0xabcdULL, WR(0x40, 2));
	EXPECT_EQ(0xabcdULL, WR(0x42, 2));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0x11223399U, r[0]);
	EXPECT_EQ(0x55aa55aaU, r[1]);
	EXPECT_EQ(0x8001U, r[2]);
	EXPECT_EQ(0xffffff80U, r[3]);
	/* 5 - 5: ZF, PF. */
	EXPECT_EQ(0x44U, r[4] & FLAGS_ARITH);
	EXPECT_EQ(0x000080c3U, r[5]);
	EXPECT_EQ(0x44U, r[6] & FLAGS_ARITH);
	EXPECT_EQ((uint32_t)MMIO_GPA + 0x44, r[7]);
}

TEST_F(mmio, real_mode)
{
	uint16_t *r = vm_gpa(&self->vm, RES_GPA);

	LOAD(self, real_mmio);
	ASSERT_EQ(0, vcpu_setup_real(&self->vcpu, VM_CODE_GPA));
	EXPECT_EQ(0x42ULL, WR(0, 1));
	EXPECT_EQ(0x1234ULL, WR(2, 2));
	EXPECT_EQ(0xdeadbeefULL, WR(4, 4));
	RD(8, 2, 0x5566);
	RD(0xc, 4, 0x01020304);
	RD(0x10, 1, 0xfe);
	RD(0x11, 1, 0x80);
	RD(0x12, 2, 0x1);
	EXPECT_EQ(0x11ULL, WR(0x12, 2));
	RD(0x14, 1, 0x08);
	RD(0x16, 2, 0x4321);
	EXPECT_EQ(0xfeULL, WR(0x16, 2));
	EXPECT_EQ(0x77ULL, WR(0x20, 1));
	EXPECT_EQ(0x77ULL, WR(0x21, 1));
	EXPECT_EQ(0x77ULL, WR(0x22, 1));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0x5566, r[0]);
	EXPECT_EQ(0x0304, r[2]);
	EXPECT_EQ(0x0102, r[3]);
	EXPECT_EQ(0x00fe, r[4]);
	EXPECT_EQ(0xff80, r[5]);
	/* 0x08 - 0x10 = 0xf8: CF, SF; PF clear (five bits set). */
	EXPECT_EQ(0x81, r[6] & FLAGS_ARITH);
	EXPECT_EQ(0x4321, r[7]);
	EXPECT_EQ(0x23, r[8]);
}

/*
 * The read completes on the next KVM_RUN: with immediate_exit set, that
 * KVM_RUN finishes the instruction and returns -EINTR before the guest
 * runs on (api.rst, immediate_exit), so RAX and RIP show the completion.
 */
TEST_F(mmio, read_completes_on_next_run)
{
	struct kvm_regs regs;

	LOAD(self, lm_read_once);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	RD(0, 4, 0x600df00d);
	self->vcpu.run->immediate_exit = 1;
	EXPECT_EQ(-EINTR, vcpu_run(&self->vcpu));
	self->vcpu.run->immediate_exit = 0;
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	EXPECT_EQ(0x600df00dULL, regs.rax);
	EXPECT_EQ((uint64_t)(lm_read_once_next - lm_read_once_start +
			     VM_CODE_GPA), regs.rip);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/*
 * The same linear address, mapped elsewhere after each access: an
 * emulator that remembers translations must notice the entry changed.
 */
TEST_F(mmio, page_table_changes_between_accesses)
{
	uint64_t *pte = vm_gpa(&self->vm, REMAP_PTE_GPA);

	LOAD(self, lm_remap);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	EXPECT_EQ(1ULL, WR(0, 4));
	EXPECT_EQ(2ULL, WR(0x1000, 4));
	*pte = (MMIO_GPA + 0x2000) | PTE_P | PTE_RW;
	EXPECT_EQ(3ULL, WR(0x2000, 4));
	EXPECT_EQ(PTE_A | PTE_D, *pte & (PTE_A | PTE_D));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/*
 * An instruction the in-kernel emulator cannot complete on MMIO: the run
 * ends with KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION.
 * What the ndata words hold differs (KVM: instruction bytes, exit
 * information); only their count is bounded.
 */
TEST_F(mmio, unknown_instruction)
{
	struct kvm_run *run = self->vcpu.run;

	LOAD(self, lm_fld);
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_INTERNAL_ERROR);
	EXPECT_EQ((uint32_t)KVM_INTERNAL_ERROR_EMULATION,
		  run->internal.suberror);
	EXPECT_GE(16U, run->internal.ndata);
}

TEST_HARNESS_MAIN
