// SPDX-License-Identifier: GPL-2.0
/*
 * XSAVE and AVX in the guest (SDM Vol. 1, 13): CPUID leaf 0xD and
 * CPUID.1:ECX.OSXSAVE as the guest sees them, XSETBV and XGETBV, the
 * guest's YMM registers kept apart from the host thread's (and from another
 * thread's across preemption), KVM_GET/SET_XSAVE and KVM_GET_XSAVE2 with
 * the AVX component, KVM_GET/SET_XCRS, XSETBV's #GP and #UD.  Written
 * against the KVM ABI (Documentation/virt/kvm/api.rst): passes on /dev/kvm
 * too.  Tests skip where the device offers no XSAVE, or no AVX.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#define X86_CR4_OSXSAVE		(1UL << 18)
#define CPUID1_ECX_XSAVE	(1U << 26)
#define CPUID1_ECX_OSXSAVE	(1U << 27)
#define CPUID1_ECX_AVX		(1U << 28)

#define XCR0_FP			0x1ULL
#define XCR0_SSE		0x2ULL
#define XCR0_YMM		0x4ULL
#define XCR0_AVX		(XCR0_FP | XCR0_SSE | XCR0_YMM)

/* Standard-format offsets (SDM Vol. 1, 13.4, 13.5.3). */
#define XSAVE_XMM(n)		(160 + 16 * (n))
#define XSAVE_XSTATE_BV		512
#define XSAVE_YMM_HI(n)		(576 + 16 * (n))

#define IDT_GPA			0x10000
/* The guest's YMM5 pattern, and where it stores YMM5 back. */
#define PAT_GPA			VM_DATA_GPA
#define OUT_GPA			(VM_DATA_GPA + 0x40)

/*
 * Long mode, CR4.OSFXSR set by the host: leaf 0xD's size (OUT 0x71), then
 * CR4.OSXSAVE set and OSXSAVE in leaf 1 (OUT 0x72), leaf 0xD's size again
 * (OUT 0x73; the host changes XCR0 with KVM_SET_XCRS in between), XGETBV
 * (OUT 0x74); YMM5 loaded from PAT_GPA, OUT 0x75; YMM5 stored to OUT_GPA,
 * OUT 0x76.  XCR0 comes from KVM_SET_XCRS, not XSETBV: QEMU's software CPU
 * does not intercept XSETBV (see xsetbv_faults).
 */
GUEST_CODE_DECLARE(avx_guest);
asm(GUEST_CODE_BEGIN(avx_guest, ".code64")
"	movl $0xd, %eax\n"
"	xorl %ecx, %ecx\n"
"	cpuid\n"
"	movl %ebx, %eax\n"
"	outl %eax, $0x71\n"
"	movq %cr4, %rax\n"
"	orq $" VM_STR(X86_CR4_OSXSAVE) ", %rax\n"
"	movq %rax, %cr4\n"
"	movl $1, %eax\n"
"	cpuid\n"
"	movl %ecx, %eax\n"
"	outl %eax, $0x72\n"
"	movl $0xd, %eax\n"
"	xorl %ecx, %ecx\n"
"	cpuid\n"
"	movl %ebx, %eax\n"
"	outl %eax, $0x73\n"
"	xorl %ecx, %ecx\n"
"	xgetbv\n"
"	outl %eax, $0x74\n"
"	vmovdqu " VM_STR(PAT_GPA) ", %ymm5\n"
"	outb %al, $0x75\n"
"	vmovdqu %ymm5, " VM_STR(OUT_GPA) "\n"
"	outb %al, $0x76\n"
"	hlt\n"
GUEST_CODE_END(avx_guest));

/*
 * Long mode, XCR0 = x87|SSE|AVX from the host: CR4.OSXSAVE, YMM5 and YMM6
 * from PAT_GPA, then CPUID
 * exits (handled in the kernel, so one KVM_RUN), comparing all 256 bits of
 * YMM5 with YMM6 after each; OUT 0x77 at the end, OUT 0x78 with the
 * iterations left if they differed.
 */
#define FPU_LOOPS	20000
GUEST_CODE_DECLARE(avx_loop);
asm(GUEST_CODE_BEGIN(avx_loop, ".code64")
"	movq %cr4, %rax\n"
"	orq $" VM_STR(X86_CR4_OSXSAVE) ", %rax\n"
"	movq %rax, %cr4\n"
"	vmovdqu " VM_STR(PAT_GPA) ", %ymm5\n"
"	vmovdqu " VM_STR(PAT_GPA) ", %ymm6\n"
"	movl $" VM_STR(FPU_LOOPS) ", %esi\n"
"1:	xorl %eax, %eax\n"
"	cpuid\n"
"	vxorps %ymm5, %ymm6, %ymm7\n"
"	vptest %ymm7, %ymm7\n"
"	jnz 2f\n"
"	decl %esi\n"
"	jnz 1b\n"
"	outb %al, $0x77\n"
"	hlt\n"
"2:	movl %esi, %eax\n"
"	outl %eax, $0x78\n"
"	hlt\n"
GUEST_CODE_END(avx_loop));

/*
 * Long mode, #UD and #GP handlers that OUT the vector (port 6 and 13, with
 * #GP's error code) and skip the 3-byte XSETBV.  XSETBV without
 * CR4.OSXSAVE, then with values and XCRs the SDM refuses, then XCR0 =
 * x87|SSE, which XGETBV reads back (OUT 0x74).
 */
GUEST_CODE_DECLARE(xsetbv_faults);
extern const uint8_t xsetbv_ud_handler[], xsetbv_gp_handler[];
asm(GUEST_CODE_BEGIN(xsetbv_faults, ".code64")
"	xorl %ecx, %ecx\n"
"	xorl %edx, %edx\n"
"	movl $3, %eax\n"
"	xsetbv\n"				/* no CR4.OSXSAVE: #UD */
"	movq %cr4, %rax\n"
"	orq $" VM_STR(X86_CR4_OSXSAVE) ", %rax\n"
"	movq %rax, %cr4\n"
"	xorl %eax, %eax\n"
"	xsetbv\n"				/* no x87: #GP */
"	movl $5, %eax\n"
"	xsetbv\n"				/* AVX without SSE: #GP */
"	movl $0x27, %eax\n"
"	xsetbv\n"				/* part of AVX-512: #GP */
"	movl $0x103, %eax\n"
"	xsetbv\n"				/* bit 8, supervisor (PT): #GP */
"	movl $3, %eax\n"
"	movl $1, %edx\n"
"	xsetbv\n"				/* bit 32, reserved: #GP */
"	xorl %edx, %edx\n"
"	movl $1, %ecx\n"
"	xsetbv\n"				/* XCR1: #GP */
"	xorl %ecx, %ecx\n"
"	xsetbv\n"				/* x87|SSE: valid */
"	xgetbv\n"
"	outl %eax, $0x74\n"
"	hlt\n"
GUEST_LABEL(xsetbv_ud_handler)
"	outb %al, $6\n"
"	addq $3, (%rsp)\n"
"	iretq\n"
GUEST_LABEL(xsetbv_gp_handler)
"	movq %rax, %rbx\n"
"	popq %rax\n"				/* the error code */
"	outl %eax, $13\n"
"	movq %rbx, %rax\n"
"	addq $3, (%rsp)\n"
"	iretq\n"
GUEST_CODE_END(xsetbv_faults));

#define LOAD(self, name)						\
	vm_load(&(self)->vm, VM_CODE_GPA, name##_start, name##_end)
#define ADDR(name, label)	(VM_CODE_GPA + (uint64_t)((label) - name##_start))

FIXTURE(xsave) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	bool xsave, avx;
	uint32_t avx_size;	/* CPUID.(0DH,2): EAX */
	uint32_t avx_offset;	/* and EBX */
};

FIXTURE_SETUP(xsave)
{
	struct kvm_cpuid_entry2 *e1, *ed, *ed2;
	struct kvm_cpuid2 *cpuid;
	int r;

	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	cpuid = vm_get_supported_cpuid(&self->vm, &r);
	ASSERT_NE(NULL, cpuid);
	e1 = vm_cpuid_entry(cpuid, 1, 0);
	ed = vm_cpuid_entry(cpuid, 0xd, 0);
	ed2 = vm_cpuid_entry(cpuid, 0xd, 2);
	self->xsave = e1 && (e1->ecx & CPUID1_ECX_XSAVE) && ed &&
		      (ed->eax & (XCR0_FP | XCR0_SSE)) == (XCR0_FP | XCR0_SSE);
	self->avx = self->xsave && (e1->ecx & CPUID1_ECX_AVX) &&
		    (ed->eax & XCR0_YMM) && ed2;
	if (self->avx) {
		self->avx_size = ed2->eax;
		self->avx_offset = ed2->ebx;
	}
	free(cpuid);
}

FIXTURE_TEARDOWN(xsave)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

/* Long mode at the guest code, with CR4.OSFXSR for SSE (SDM Vol. 3, 13.1.3). */
static int setup_long_sse(struct hvk_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	int r = vcpu_setup_long(vcpu, VM_CODE_GPA);

	if (r)
		return r;
	r = vcpu_get_sregs(vcpu, &sregs);
	if (r)
		return r;
	sregs.cr4 |= X86_CR4_OSFXSR;
	return vcpu_set_sregs(vcpu, &sregs);
}

static void guest_pattern(struct hvk_vm *vm, uint8_t pat[32])
{
	int i;

	for (i = 0; i < 32; i++)
		pat[i] = 0xa0 + i;
	memcpy(vm_gpa(vm, PAT_GPA), pat, 32);
}

/*
 * KVM_RUN as a raw syscall with the host's YMM5 holding @pat; returns the
 * syscall's result and the host's YMM5 after it.  (A libc call could use
 * vector registers itself; this cannot.)
 */
static long run_with_ymm5(int fd, const uint8_t pat[32], uint8_t after[32])
{
	long ret;

	asm volatile("vmovdqu %[pat], %%ymm5\n\t"
		     "syscall\n\t"
		     "vmovdqu %%ymm5, %[after]\n\t"
		     "vzeroupper"
		     : "=a" (ret), [after] "=m" (*(uint8_t (*)[32])after)
		     : "a" ((long)SYS_ioctl), "D" ((long)fd),
		       "S" ((long)KVM_RUN), "d" (0L),
		       [pat] "m" (*(const uint8_t (*)[32])pat)
		     : "rcx", "r11", "memory", "xmm5");
	return ret;
}

/* Run with the host's YMM5 at @host_pat to an OUT to @out_port; check both. */
#define run_ymm5_to_out(self, host_pat, out_port) do {			\
	uint8_t __after[32];						\
	ASSERT_EQ(0, run_with_ymm5((self)->vcpu.fd, host_pat, __after)); \
	ASSERT_EQ((uint32_t)KVM_EXIT_IO, (self)->vcpu.run->exit_reason); \
	ASSERT_EQ(out_port, (self)->vcpu.run->io.port);			\
	EXPECT_EQ(0, memcmp(host_pat, __after, 32))			\
		TH_LOG("the host's YMM5 changed across KVM_RUN");	\
} while (0)

static uint64_t get_xcr0(struct __test_metadata *_metadata,
			 struct hvk_vcpu *vcpu)
{
	struct kvm_xcrs xcrs;
	uint32_t i;

	memset(&xcrs, 0, sizeof(xcrs));
	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_GET_XCRS, &xcrs));
	for (i = 0; i < xcrs.nr_xcrs; i++)
		if (xcrs.xcrs[i].xcr == 0)
			return xcrs.xcrs[i].value;
	return 0;
}

static int set_xcr0(struct hvk_vcpu *vcpu, uint64_t xcr0)
{
	struct kvm_xcrs xcrs;

	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = xcr0;
	return ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs) ? -errno : 0;
}

/*
 * Leaf 0xD as KVM_GET_SUPPORTED_CPUID lists it: x87, SSE and AVX; the
 * maximum size covers the AVX component, which starts after the legacy
 * area and header (SDM Vol. 1, 13.4.3).
 */
TEST_F(xsave, supported_cpuid)
{
	struct kvm_cpuid_entry2 *ed;
	struct kvm_cpuid2 *cpuid;
	int r;

	if (!self->avx)
		SKIP(return, "the device offers no AVX");
	cpuid = vm_get_supported_cpuid(&self->vm, &r);
	ASSERT_NE(NULL, cpuid);
	ed = vm_cpuid_entry(cpuid, 0xd, 0);
	ASSERT_NE(NULL, ed);
	EXPECT_NE(0U, ed->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	EXPECT_EQ(XCR0_AVX, ed->eax & XCR0_AVX);
	EXPECT_GE(ed->ecx, self->avx_offset + self->avx_size);
	EXPECT_EQ(576U, self->avx_offset);
	EXPECT_EQ(256U, self->avx_size);
	free(cpuid);
}

/*
 * The guest enables AVX and loads YMM5; the host's YMM5 survives every
 * KVM_RUN, and the guest's survives the host's use of its own.  CPUID
 * follows the guest's CR4 and XCR0, and XGETBV reads what XSETBV wrote.
 */
TEST_F(xsave, avx_kept_apart)
{
	uint8_t host_pat[32], gpat[32];
	int i;

	if (!self->avx)
		SKIP(return, "the device offers no AVX");
	for (i = 0; i < 32; i++)
		host_pat[i] = 0x30 + i;
	guest_pattern(&self->vm, gpat);
	LOAD(self, avx_guest);
	ASSERT_EQ(0, setup_long_sse(&self->vcpu));

	/* XCR0 = x87 out of reset: the size of the legacy area and header. */
	EXPECT_EQ(576U, vcpu_run_out(&self->vcpu, 0x71, 4));
	ASSERT_EQ(0, set_xcr0(&self->vcpu, XCR0_AVX));
	EXPECT_NE(0U, vcpu_run_out(&self->vcpu, 0x72, 4) & CPUID1_ECX_OSXSAVE);
	EXPECT_EQ(self->avx_offset + self->avx_size,
		  vcpu_run_out(&self->vcpu, 0x73, 4));
	/* The guest's XCR0 is the CPU's while it runs. */
	EXPECT_EQ((uint32_t)XCR0_AVX, vcpu_run_out(&self->vcpu, 0x74, 4));

	run_ymm5_to_out(self, host_pat, 0x75);
	run_ymm5_to_out(self, host_pat, 0x76);
	EXPECT_EQ(0, memcmp(gpat, vm_gpa(&self->vm, OUT_GPA), 32))
		TH_LOG("the guest's YMM5 changed across the exit");
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/*
 * KVM_GET_XSAVE shows the guest's YMM5 (low half in the legacy area, high
 * half in the AVX component); KVM_SET_XSAVE changes what the guest reads.
 * KVM_GET_XSAVE2 with KVM_CAP_XSAVE2's size gives the same buffer.
 */
TEST_F(xsave, get_set_xsave)
{
	struct kvm_xsave *xs, *xs2;
	uint8_t gpat[32], newhi[16];
	uint8_t *out = vm_gpa(&self->vm, OUT_GPA);
	uint64_t bv;
	int size, i;

	if (!self->avx)
		SKIP(return, "the device offers no AVX");
	size = ioctl(self->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	ASSERT_GE(size, (int)sizeof(struct kvm_xsave));
	guest_pattern(&self->vm, gpat);
	LOAD(self, avx_guest);
	ASSERT_EQ(0, setup_long_sse(&self->vcpu));
	vcpu_run_out(&self->vcpu, 0x71, 4);
	ASSERT_EQ(0, set_xcr0(&self->vcpu, XCR0_AVX));
	vcpu_run_out(&self->vcpu, 0x72, 4);
	vcpu_run_out(&self->vcpu, 0x73, 4);
	vcpu_run_out(&self->vcpu, 0x74, 4);
	vcpu_run_out(&self->vcpu, 0x75, 1);

	xs = calloc(1, size);
	xs2 = calloc(1, size);
	ASSERT_NE(NULL, xs);
	ASSERT_NE(NULL, xs2);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_GET_XSAVE, xs));
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_GET_XSAVE2, xs2));
	EXPECT_EQ(0, memcmp(xs, xs2, sizeof(*xs)));
	memcpy(&bv, (uint8_t *)xs->region + XSAVE_XSTATE_BV, sizeof(bv));
	EXPECT_NE(0ULL, bv & XCR0_YMM);
	EXPECT_EQ(0, memcmp(gpat, (uint8_t *)xs->region + XSAVE_XMM(5), 16));
	EXPECT_EQ(0, memcmp(gpat + 16,
			    (uint8_t *)xs->region + XSAVE_YMM_HI(5), 16));

	/* A new high half: the guest stores it with its own low half. */
	for (i = 0; i < 16; i++)
		newhi[i] = 0x50 + i;
	memcpy((uint8_t *)xs->region + XSAVE_YMM_HI(5), newhi, 16);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_SET_XSAVE, xs));
	vcpu_run_out(&self->vcpu, 0x76, 1);
	EXPECT_EQ(0, memcmp(gpat, out, 16));
	EXPECT_EQ(0, memcmp(newhi, out + 16, 16));

	/* A component the device does not offer (bit 8, PT): refused. */
	bv |= 1ULL << 8;
	memcpy((uint8_t *)xs->region + XSAVE_XSTATE_BV, &bv, sizeof(bv));
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_XSAVE, xs));
	EXPECT_EQ(EINVAL, errno);
	free(xs);
	free(xs2);
}

/* KVM_SET_XCRS takes what XSETBV would, and KVM_GET_XCRS gives it back. */
TEST_F(xsave, xcrs)
{
	if (!self->xsave)
		SKIP(return, "the device offers no XSAVE");
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, &self->vcpu));
	EXPECT_EQ(0, set_xcr0(&self->vcpu, XCR0_FP | XCR0_SSE));
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, &self->vcpu));
	if (self->avx) {
		EXPECT_EQ(0, set_xcr0(&self->vcpu, XCR0_AVX));
		EXPECT_EQ(XCR0_AVX, get_xcr0(_metadata, &self->vcpu));
	}
	EXPECT_EQ(-EINVAL, set_xcr0(&self->vcpu, 0));
	EXPECT_EQ(-EINVAL, set_xcr0(&self->vcpu, XCR0_FP | XCR0_YMM));
	EXPECT_EQ(-EINVAL, set_xcr0(&self->vcpu, 0x103));
	EXPECT_EQ(-EINVAL, set_xcr0(&self->vcpu, 0x27));
	EXPECT_EQ(-EINVAL, set_xcr0(&self->vcpu, (1ULL << 32) | 3));
	/* Refused values leave XCR0 as it was. */
	EXPECT_EQ(self->avx ? XCR0_AVX : XCR0_FP | XCR0_SSE,
		  get_xcr0(_metadata, &self->vcpu));
}

static void set_gate(void *idt, unsigned int vector, uint64_t handler)
{
	uint64_t *e = (uint64_t *)idt + 2 * vector;

	e[0] = (handler & 0xffff) | ((uint64_t)VM_SEL_CODE64 << 16) |
	       (0x8eULL << 40) |			/* P, DPL 0, 64-bit int gate */
	       ((handler >> 16 & 0xffff) << 48);
	e[1] = handler >> 32;
}

/*
 * XSETBV without CR4.OSXSAVE is #UD; with a value or an XCR the SDM
 * refuses, #GP(0) (SDM Vol. 2, XSETBV); a valid XCR0 is what XGETBV reads
 * and what KVM_GET_XCRS gives, unless the CPU did not intercept XSETBV
 * (QEMU 7.2's software CPU does not, whatever the VMCB says): skipped then.
 */
TEST_F(xsave, xsetbv_faults)
{
	struct kvm_sregs sregs;
	void *idt = vm_gpa(&self->vm, IDT_GPA);
	int i;

	if (!self->xsave)
		SKIP(return, "the device offers no XSAVE");
	LOAD(self, xsetbv_faults);
	memset(idt, 0, 256 * 16);
	set_gate(idt, 6, ADDR(xsetbv_faults, xsetbv_ud_handler));
	set_gate(idt, 13, ADDR(xsetbv_faults, xsetbv_gp_handler));
	ASSERT_EQ(0, setup_long_sse(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sregs));

	vcpu_run_out(&self->vcpu, 6, 1);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(0U, vcpu_run_out(&self->vcpu, 13, 4));
	EXPECT_EQ((uint32_t)(XCR0_FP | XCR0_SSE),
		  vcpu_run_out(&self->vcpu, 0x74, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	if (get_xcr0(_metadata, &self->vcpu) == XCR0_FP)
		SKIP(return, "the CPU did not intercept XSETBV");
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, &self->vcpu));
}

/* CR4.OSXSAVE needs XSAVE in the vCPU's CPUID (KVM_SET_SREGS: EINVAL). */
TEST_F(xsave, osxsave_needs_cpuid)
{
	struct kvm_cpuid_entry2 *e1;
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	int r;

	if (!self->xsave)
		SKIP(return, "the device offers no XSAVE");
	ASSERT_EQ(0, vcpu_setup_long(&self->vcpu, VM_CODE_GPA));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	sregs.cr4 |= X86_CR4_OSXSAVE;
	EXPECT_EQ(0, vcpu_set_sregs(&self->vcpu, &sregs));

	/* A second vCPU whose CPUID lacks XSAVE. */
	vcpu_destroy(&self->vcpu);
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 1));
	cpuid = vm_get_supported_cpuid(&self->vm, &r);
	ASSERT_NE(NULL, cpuid);
	e1 = vm_cpuid_entry(cpuid, 1, 0);
	ASSERT_NE(NULL, e1);
	e1->ecx &= ~(CPUID1_ECX_XSAVE | CPUID1_ECX_AVX);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_SET_CPUID2, cpuid));
	free(cpuid);
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	sregs.cr4 |= X86_CR4_OSXSAVE;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &sregs));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A thread that keeps its own YMM5 and YMM6 equal on the CPU the vCPU runs
 * on, counting the times they were not: neither the guest's registers nor
 * its XCR0 may reach it.
 */
static volatile int ymm_hog_stop;
static volatile long ymm_hog_bad;

static void *ymm_hog(void *arg)
{
	static const uint8_t pat[32] = { 0x5a, 0x5a, 0x5a, 0x5a, [31] = 0xa5 };

	while (!ymm_hog_stop) {
		long bad;

		asm volatile("vmovdqu %[pat], %%ymm5\n\t"
			     "vmovdqu %[pat], %%ymm6\n\t"
			     "xorl %k[bad], %k[bad]\n\t"
			     "movl $100000, %%ecx\n"
			     "1:\tvxorps %%ymm5, %%ymm6, %%ymm7\n\t"
			     "vptest %%ymm7, %%ymm7\n\t"
			     "jz 2f\n\t"
			     "incl %k[bad]\n"
			     "2:\tdecl %%ecx\n\t"
			     "jnz 1b\n\t"
			     "vzeroupper"
			     : [bad] "=&r" (bad)
			     : [pat] "m" (pat)
			     : "rcx", "xmm5", "xmm6", "xmm7", "cc");
		ymm_hog_bad += bad;
	}
	return arg;
}

/*
 * The guest's YMM registers and XCR0 survive the vCPU thread being
 * preempted inside KVM_RUN by a thread using its own, and the other way
 * round.  The run repeats until the thread was preempted during one.
 */
TEST_F(xsave, avx_survives_preemption)
{
	struct kvm_run *run = self->vcpu.run;
	uint8_t host_pat[32], gpat[32];
	pthread_t hog;
	cpu_set_t cpus;
	int tries, i;

	if (!self->avx)
		SKIP(return, "the device offers no AVX");
	for (i = 0; i < 32; i++)
		host_pat[i] = 0x70 + i;
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	ASSERT_EQ(0, pthread_create(&hog, NULL, ymm_hog, NULL));
	ASSERT_EQ(0, pthread_setaffinity_np(hog, sizeof(cpus), &cpus));

	guest_pattern(&self->vm, gpat);
	LOAD(self, avx_loop);
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
	ASSERT_EQ(0, set_xcr0(&self->vcpu, XCR0_AVX));
	for (tries = 0; tries < 20; tries++) {
		long before = hvk_thread_nivcsw();
		uint8_t after[32];

		ASSERT_EQ(0, setup_long_sse(&self->vcpu));
		ASSERT_EQ(0, run_with_ymm5(self->vcpu.fd, host_pat, after));
		EXPECT_EQ(0, memcmp(host_pat, after, 32));
		ASSERT_EQ((uint32_t)KVM_EXIT_IO, run->exit_reason);
		if (run->io.port != 0x77 || hvk_thread_nivcsw() > before)
			break;
	}
	ymm_hog_stop = 1;
	pthread_join(hog, NULL);
	EXPECT_EQ(0x77, run->io.port) {
		TH_LOG("guest YMM5 changed, %u iterations left",
		       *(uint32_t *)vcpu_io_data(&self->vcpu));
	}
	EXPECT_EQ(0, ymm_hog_bad);
	EXPECT_LT(tries, 20) TH_LOG("never preempted during KVM_RUN");
}

TEST_HARNESS_MAIN
