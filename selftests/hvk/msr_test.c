// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs, the TSC and kvmclock through the KVM ABI: KVM_GET_MSR_INDEX_LIST,
 * KVM_GET/SET_MSRS, the guest's RDMSR and WRMSR (with #GP for what the
 * architecture refuses), exits to user space with
 * KVM_CAP_X86_USER_SPACE_MSR, RDTSCP and RDPID with the guest's TSC_AUX,
 * TSC_ADJUST, kvmclock on two vCPUs and KVM_GET/SET_TSC_KHZ.  Passes on
 * /dev/kvm too.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#define MSR_TSC			0x10
#define MSR_TSC_ADJUST		0x3b
#define MSR_SPEC_CTRL		0x48
#define MSR_PRED_CMD		0x49
#define MSR_MTRRCAP		0xfe
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_MISC_ENABLE		0x1a0
#define MSR_MTRR_BASE0		0x200
#define MSR_MTRR_MASK0		0x201
#define MSR_MTRR_FIX64K		0x250
#define MSR_PAT			0x277
#define MSR_MTRR_DEFTYPE	0x2ff
#define MSR_MC0_CTL		0x400
#define MSR_MC0_STATUS		0x401
#define MSR_MC0_ADDR		0x402
#define MSR_TSC_AUX		0xc0000103
#define MSR_WALL_CLOCK_NEW	0x4b564d00
#define MSR_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_NOBODY		0x12345

#define PAT_RESET		0x0007040600070406ULL

/* Ports of the MSR server below. */
#define PORT_INDEX		0x90
#define PORT_OP			0x91
#define PORT_LO			0x92
#define PORT_HI			0x93
#define PORT_RES_LO		0x94
#define PORT_RES_HI		0x95
#define PORT_FAULT		0x96
#define PORT_AUX		0x97

/*
 * Real mode: an MSR server.  It reads an MSR index, an operation (0 RDMSR,
 * 1 WRMSR) and a value from ports, runs the instruction, and reports
 * EDX:EAX and whether it took #GP, which its handler (IVT vector 13)
 * notes and skips the 2-byte instruction.
 */
GUEST_CODE_DECLARE(msr_server);
asm(GUEST_CODE_BEGIN(msr_server, ".code16")
"	movw $(ms_gp - msr_server_start + " VM_STR(VM_CODE_GPA) "), 13 * 4\n"
"	movw $0, 13 * 4 + 2\n"
"ms_loop:\n"
"	inl $0x90, %eax\n"
"	movl %eax, %ecx\n"
"	inl $0x91, %eax\n"
"	movl %eax, %esi\n"
"	inl $0x92, %eax\n"
"	movl %eax, %edi\n"
"	inl $0x93, %eax\n"
"	movl %eax, %edx\n"
"	movl %edi, %eax\n"
"	xorw %bp, %bp\n"
"	testl %esi, %esi\n"
"	jnz ms_write\n"
"	rdmsr\n"
"	jmp ms_report\n"
"ms_write:\n"
"	wrmsr\n"
"ms_report:\n"
"	outl %eax, $0x94\n"
"	movl %edx, %eax\n"
"	outl %eax, $0x95\n"
"	movw %bp, %ax\n"
"	outw %ax, $0x96\n"
"	jmp ms_loop\n"
"ms_gp:\n"
"	movw $1, %bp\n"
"	movw %sp, %bx\n"
"	addw $2, (%bx)\n"
"	iret\n"
GUEST_CODE_END(msr_server));

/* Real mode: RDTSCP's ECX out; at rdpid_entry, RDPID's result out. */
GUEST_CODE_DECLARE(aux_reader);
extern const uint8_t rdpid_entry[];
asm(GUEST_CODE_BEGIN(aux_reader, ".code16")
"	rdtscp\n"
"	movl %ecx, %eax\n"
"	outl %eax, $0x97\n"
"	hlt\n"
GUEST_LABEL(rdpid_entry)
"	.byte 0xf3, 0x0f, 0xc7, 0xf8\n"		/* rdpid %eax */
"	outl %eax, $0x97\n"
"	hlt\n"
GUEST_CODE_END(aux_reader));

/*
 * Long mode: kvmclock.  RBX: GPA of this vCPU's pvclock_vcpu_time_info,
 * R12: iterations, R13: GPA of a time shared by the vCPUs, R14: GPA for
 * the wall clock, or 0.  Enables the clock, reports a first reading (clock
 * and TSC, port 0x98), then reads the clock R12 times, each time after
 * reading the shared time, which some vCPU read from its clock before:
 * the clock must not be behind it.  Reports a last reading, the number of
 * times it was behind and the flags (port 0x99).  kc_read computes the
 * time as the guest ABI says (msr.rst, pvclock): retry while the version
 * is odd or changes, system_time + ((tsc - tsc_timestamp) << shift) * mul
 * >> 32.
 */
GUEST_CODE_DECLARE(kvmclock_guest);
asm(GUEST_CODE_BEGIN(kvmclock_guest, ".code64")
"	movl $0x4b564d01, %ecx\n"
"	movq %rbx, %rax\n"
"	orq $1, %rax\n"
"	movq %rax, %rdx\n"
"	shrq $32, %rdx\n"
"	wrmsr\n"
"	testq %r14, %r14\n"
"	jz 1f\n"
"	movl $0x4b564d00, %ecx\n"
"	movq %r14, %rax\n"
"	movq %rax, %rdx\n"
"	shrq $32, %rdx\n"
"	wrmsr\n"
"1:\n"
"	xorq %r15, %r15\n"
"	call kc_read\n"
"	call kc_report\n"
"2:\n"
"	movq (%r13), %r10\n"
"	call kc_read\n"
"	cmpq %r10, %rax\n"
"	jae 3f\n"
"	incq %r15\n"
"3:\n"
"	movq %rax, (%r13)\n"
"	decq %r12\n"
"	jnz 2b\n"
"	call kc_read\n"
"	call kc_report\n"
"	movq %r15, %rax\n"
"	outl %eax, $0x99\n"
"	movzbl 29(%rbx), %eax\n"
"	outl %eax, $0x99\n"
"	hlt\n"
"kc_report:\n"
"	outl %eax, $0x98\n"
"	shrq $32, %rax\n"
"	outl %eax, $0x98\n"
"	movq %r9, %rax\n"
"	outl %eax, $0x98\n"
"	shrq $32, %rax\n"
"	outl %eax, $0x98\n"
"	ret\n"
"kc_read:\n"
"	movl (%rbx), %r8d\n"
"	testl $1, %r8d\n"
"	jnz kc_read\n"
"	lfence\n"
"	rdtsc\n"
"	shlq $32, %rdx\n"
"	orq %rdx, %rax\n"
"	movq %rax, %r9\n"
"	subq 8(%rbx), %rax\n"
"	movsbl 28(%rbx), %ecx\n"
"	testl %ecx, %ecx\n"
"	js 4f\n"
"	shlq %cl, %rax\n"
"	jmp 5f\n"
"4:\n"
"	negl %ecx\n"
"	shrq %cl, %rax\n"
"5:\n"
"	movl 24(%rbx), %ecx\n"
"	mulq %rcx\n"
"	shrdq $32, %rdx, %rax\n"
"	addq 16(%rbx), %rax\n"
"	lfence\n"
"	cmpl (%rbx), %r8d\n"
"	jne kc_read\n"
"	ret\n"
GUEST_CODE_END(kvmclock_guest));

#define LOAD(self, name)						\
	vm_load(&(self)->vm, VM_CODE_GPA, name##_start, name##_end)

/* The device's supported CPUID entry for @leaf (subleaf 0), or zeros. */
static struct kvm_cpuid_entry2 supported_cpuid(int sys_fd, uint32_t leaf)
{
	struct kvm_cpuid_entry2 found = { 0 };
	struct kvm_cpuid2 *c;
	int nent = 256;
	uint32_t i;

	c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
	if (!c)
		return found;
	c->nent = nent;
	if (!ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c)) {
		for (i = 0; i < c->nent; i++)
			if (c->entries[i].function == leaf &&
			    c->entries[i].index == 0)
				found = c->entries[i];
	}
	free(c);
	return found;
}

/* Is @msr in KVM_GET_MSR_INDEX_LIST? */
static bool msr_listed(int sys_fd, uint32_t msr)
{
	struct kvm_msr_list *l;
	bool found = false;
	uint32_t i;

	l = calloc(1, sizeof(*l) + 1024 * sizeof(l->indices[0]));
	if (!l)
		return false;
	l->nmsrs = 1024;
	if (!ioctl(sys_fd, KVM_GET_MSR_INDEX_LIST, l))
		for (i = 0; i < l->nmsrs; i++)
			found |= l->indices[i] == msr;
	free(l);
	return found;
}

/* KVM_GET_MSRS / KVM_SET_MSRS of one MSR: 1 when done, 0 when refused. */
static int host_msr(struct hvk_vcpu *vcpu, bool set, uint32_t index,
		    uint64_t *val)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e = { .index = index, .data = *val } };
	int r = ioctl(vcpu->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);

	if (r == 1 && !set)
		*val = m.e.data;
	return r;
}

static uint64_t host_rdmsr(struct hvk_vcpu *vcpu, uint32_t index)
{
	uint64_t val = 0;

	if (host_msr(vcpu, false, index, &val) != 1)
		return ~0ULL;
	return val;
}

/* Feed the MSR server's next IN with @val (the run completes it). */
static void __feed_in(struct __test_metadata *_metadata,
		      struct hvk_vcpu *vcpu, uint16_t port, uint32_t val)
{
	vcpu_run_expect(vcpu, KVM_EXIT_IO);
	ASSERT_EQ((uint8_t)KVM_EXIT_IO_IN, vcpu->run->io.direction);
	ASSERT_EQ(port, vcpu->run->io.port);
	ASSERT_EQ(4, vcpu->run->io.size);
	memcpy(vcpu_io_data(vcpu), &val, 4);
}
#define feed_in(vcpu, port, val) __feed_in(_metadata, vcpu, port, val)

/* Ask the server for RDMSR or WRMSR; it runs at the next KVM_RUN. */
static void __msr_request(struct __test_metadata *_metadata,
			  struct hvk_vcpu *vcpu, bool write, uint32_t index,
			  uint64_t val)
{
	feed_in(vcpu, PORT_INDEX, index);
	feed_in(vcpu, PORT_OP, write);
	feed_in(vcpu, PORT_LO, (uint32_t)val);
	feed_in(vcpu, PORT_HI, val >> 32);
}
#define msr_request(vcpu, write, index, val) \
	__msr_request(_metadata, vcpu, write, index, val)

/* The server's report: 1 if the instruction took #GP; EDX:EAX in @val. */
static int __msr_result(struct __test_metadata *_metadata,
			struct hvk_vcpu *vcpu, uint64_t *val)
{
	uint64_t v;

	v = vcpu_run_out(vcpu, PORT_RES_LO, 4);
	v |= (uint64_t)vcpu_run_out(vcpu, PORT_RES_HI, 4) << 32;
	if (val)
		*val = v;
	return vcpu_run_out(vcpu, PORT_FAULT, 2);
}
#define msr_result(vcpu, val) __msr_result(_metadata, vcpu, val)

/* The guest's WRMSR; 1 if it took #GP. */
#define guest_wrmsr(vcpu, index, val) ({				\
	msr_request(vcpu, true, index, val);				\
	msr_result(vcpu, NULL);						\
})
/* The guest's RDMSR into *@valp; 1 if it took #GP. */
#define guest_rdmsr(vcpu, index, valp) ({				\
	msr_request(vcpu, false, index, 0);				\
	msr_result(vcpu, valp);						\
})

FIXTURE(msr) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(msr)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	/* KVM checks some MSRs against the vCPU's CPUID (TSC_ADJUST). */
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
}

FIXTURE_TEARDOWN(msr)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

static void start_msr_server(struct __test_metadata *_metadata,
			     FIXTURE_DATA(msr) *self)
{
	LOAD(self, msr_server);
	ASSERT_EQ(0, vcpu_setup_real(&self->vcpu, VM_CODE_GPA));
}

/* What KVM lists for the MSRs of this part (x86.c, msrs_to_save etc.). */
TEST_F(msr, index_list)
{
	static const uint32_t want[] = {
		MSR_PAT, MSR_TSC_ADJUST, MSR_MISC_ENABLE, MSR_MCG_STATUS,
		MSR_MCG_CTL, MSR_WALL_CLOCK_NEW, MSR_SYSTEM_TIME_NEW,
	};
	unsigned int i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_TRUE(msr_listed(self->vm.sys_fd, want[i]))
			TH_LOG("MSR %#x not listed", want[i]);
	}
	/* Not listed by KVM: the MTRRs and MCG_CAP. */
	EXPECT_FALSE(msr_listed(self->vm.sys_fd, MSR_MTRR_DEFTYPE));
	EXPECT_FALSE(msr_listed(self->vm.sys_fd, MSR_MCG_CAP));
}

/* Every new MSR through KVM_SET_MSRS and back through KVM_GET_MSRS. */
TEST_F(msr, host_round_trip)
{
	struct { uint32_t index; uint64_t val; } rt[] = {
		{ MSR_PAT, 0x0606060606060606ULL },
		{ MSR_MISC_ENABLE, 0x1801 },
		{ MSR_TSC_ADJUST, 12345 },
		{ MSR_MTRR_DEFTYPE, 0xc06 },
		{ MSR_MTRR_FIX64K, 0x0505050505050505ULL },
		{ MSR_MTRR_BASE0, 0x80000006 },
		{ MSR_MTRR_MASK0, 0xf0000800 },
		{ MSR_MCG_STATUS, 0 },
		{ MSR_MCG_CTL, 0 },
		{ MSR_MC0_CTL, ~0ULL },
		{ MSR_MC0_STATUS, 0x8000000000000001ULL },
		{ MSR_MC0_ADDR, 0x1234000 },
		{ MSR_MC0_ADDR + 1, 0x86 },
		{ MSR_SYSTEM_TIME_NEW, VM_DATA_GPA | 1 },
		{ MSR_WALL_CLOCK_NEW, VM_DATA_GPA + 0x100 },
		{ MSR_TSC_AUX, 0x1234 },
		{ MSR_SPEC_CTRL, 0 },
	};
	unsigned int i;
	uint64_t val;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		if ((rt[i].index == MSR_TSC_AUX ||
		     rt[i].index == MSR_SPEC_CTRL) &&
		    !msr_listed(self->vm.sys_fd, rt[i].index))
			continue;
		val = rt[i].val;
		EXPECT_EQ(1, host_msr(&self->vcpu, true, rt[i].index, &val))
			TH_LOG("KVM_SET_MSRS %#x", rt[i].index);
		EXPECT_EQ(rt[i].val, host_rdmsr(&self->vcpu, rt[i].index))
			TH_LOG("KVM_GET_MSRS %#x", rt[i].index);
	}
	/* What the architecture refuses, user space may not set either. */
	val = 0x0002;					/* type 2 */
	EXPECT_EQ(0, host_msr(&self->vcpu, true, MSR_PAT, &val));
	EXPECT_EQ(0, host_msr(&self->vcpu, true, MSR_MTRR_DEFTYPE, &val));
	val = 0x80000106;				/* reserved bit 8 */
	EXPECT_EQ(0, host_msr(&self->vcpu, true, MSR_MTRR_BASE0, &val));
	val = 5;					/* not 0 nor ~0 */
	EXPECT_EQ(0, host_msr(&self->vcpu, true, MSR_MC0_CTL, &val));
	EXPECT_EQ(0, host_msr(&self->vcpu, true, MSR_MTRRCAP, &val));
	/* Defaults a guest relies on. */
	EXPECT_EQ(0x500ULL, host_rdmsr(&self->vcpu, MSR_MTRRCAP) & 0x500);
	EXPECT_NE(0ULL, host_rdmsr(&self->vcpu, MSR_MTRRCAP) & 0xff);
	EXPECT_NE(0ULL, host_rdmsr(&self->vcpu, MSR_MCG_CAP) & 0xff);
}

TEST_F(msr, defaults)
{
	EXPECT_EQ(PAT_RESET, host_rdmsr(&self->vcpu, MSR_PAT));
	/* No BTS, no PEBS: read-only bits a guest may look at. */
	EXPECT_EQ(0x1800ULL, host_rdmsr(&self->vcpu, MSR_MISC_ENABLE) & 0x1800);
	EXPECT_EQ(0ULL, host_rdmsr(&self->vcpu, MSR_TSC_ADJUST));
	EXPECT_EQ(0ULL, host_rdmsr(&self->vcpu, MSR_MTRR_DEFTYPE));
}

/* The guest's RDMSR and WRMSR of them, and #GP for what is refused. */
TEST_F(msr, guest_access)
{
	uint64_t val, banks;

	start_msr_server(_metadata, self);

	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_PAT, &val));
	EXPECT_EQ(PAT_RESET, val);
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_PAT, 0x0007010600070106ULL));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_PAT, &val));
	EXPECT_EQ(0x0007010600070106ULL, val);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_PAT, 0x0007040600070402ULL));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_PAT, 0x08));

	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MTRRCAP, &val));
	EXPECT_EQ(0x500ULL, val & 0x500);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRRCAP, val));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MTRR_DEFTYPE, 0xc06));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MTRR_DEFTYPE, &val));
	EXPECT_EQ(0xc06ULL, val);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_DEFTYPE, 0x2));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_DEFTYPE, 0x1006));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MTRR_FIX64K,
				 0x0001040506060606ULL));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MTRR_FIX64K, &val));
	EXPECT_EQ(0x0001040506060606ULL, val);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_FIX64K, 0x0300ULL));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MTRR_BASE0, 0x80000006));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_BASE0, 0x80000106));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_BASE0, 1ULL << 63));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MTRR_MASK0, 0xf0000800));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MTRR_MASK0, &val));
	EXPECT_EQ(0xf0000800ULL, val);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MTRR_MASK0, 0xf0000801));

	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MISC_ENABLE, &val));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MISC_ENABLE, val));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MISC_ENABLE, val ^ 0x1000));

	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MCG_CAP, &banks));
	banks &= 0xff;
	EXPECT_LT(0ULL, banks);
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MCG_CAP, banks));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MCG_STATUS, 0));
	/* No MCG_CTL_P in MCG_CAP: MCG_CTL is not the guest's. */
	EXPECT_EQ(1, guest_rdmsr(&self->vcpu, MSR_MCG_CTL, &val));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MC0_CTL, ~0ULL));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MC0_CTL, 0));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MC0_CTL, 0x5));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MC0_STATUS, 0));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_MC0_STATUS, 1));
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_MC0_ADDR, 0xabc000));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_MC0_ADDR, &val));
	EXPECT_EQ(0xabc000ULL, val);
	/* Past the last bank (with 32, that is VMX_BASIC: not a bank). */
	if (banks < 32) {
		EXPECT_EQ(1, guest_rdmsr(&self->vcpu, MSR_MC0_CTL + 4 * banks,
					 &val));
	}

	if (msr_listed(self->vm.sys_fd, MSR_TSC_AUX)) {
		EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_TSC_AUX, 0x42));
		EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_TSC_AUX, &val));
		EXPECT_EQ(0x42ULL, val);
	}
	/*
	 * SPEC_CTRL is the guest's where its CPUID says so (IBRS, STIBP or
	 * SSBD, Intel's or AMD's bits); KVM may list it for user space
	 * where the guest has none of them.
	 */
	if ((supported_cpuid(self->vm.sys_fd, 7).edx &
	     ((1U << 26) | (1U << 27) | (1U << 31))) ||
	    (supported_cpuid(self->vm.sys_fd, 0x80000008).ebx &
	     ((1U << 14) | (1U << 15) | (1U << 24)))) {
		EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_SPEC_CTRL, 0));
		EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_SPEC_CTRL, &val));
		EXPECT_EQ(0ULL, val);
		EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_SPEC_CTRL,
					 1ULL << 63));
	} else {
		EXPECT_EQ(1, guest_rdmsr(&self->vcpu, MSR_SPEC_CTRL, &val));
	}
	/* PRED_CMD: IBPB where offered (CPUID.7:EDX[26] or AMD's), write-only. */
	if ((supported_cpuid(self->vm.sys_fd, 7).edx & (1U << 26)) ||
	    (supported_cpuid(self->vm.sys_fd, 0x80000008).ebx & (1U << 12))) {
		EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_PRED_CMD, 1));
		EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_PRED_CMD, 2));
	}
	EXPECT_EQ(1, guest_rdmsr(&self->vcpu, MSR_NOBODY, &val));
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_NOBODY, 0));
}

/*
 * TSC_ADJUST follows the guest's TSC writes and moves the TSC when the
 * guest writes it (SDM Vol. 3, 18.17.3); user space sets either alone.
 */
#define TSC_BIG		(1ULL << 45)
#define TSC_SLACK	(1ULL << 36)
TEST_F(msr, tsc_adjust)
{
	uint64_t before, adj, tsc, val;

	start_msr_server(_metadata, self);
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_TSC_ADJUST, &adj));
	EXPECT_EQ(0ULL, adj);

	before = host_rdmsr(&self->vcpu, MSR_TSC);
	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_TSC, TSC_BIG));
	EXPECT_EQ(0, guest_rdmsr(&self->vcpu, MSR_TSC_ADJUST, &adj));
	/* TSC_BIG - the TSC at the write, a little after @before. */
	EXPECT_GE(TSC_BIG - before, adj);
	EXPECT_LT(TSC_BIG - before - TSC_SLACK, adj);

	EXPECT_EQ(0, guest_wrmsr(&self->vcpu, MSR_TSC_ADJUST, adj + TSC_BIG));
	tsc = host_rdmsr(&self->vcpu, MSR_TSC);
	EXPECT_LE(2 * TSC_BIG, tsc);
	EXPECT_GT(2 * TSC_BIG + TSC_SLACK, tsc);

	/* From user space, each alone. */
	val = 5;
	EXPECT_EQ(1, host_msr(&self->vcpu, true, MSR_TSC_ADJUST, &val));
	tsc = host_rdmsr(&self->vcpu, MSR_TSC);
	EXPECT_LE(2 * TSC_BIG, tsc);
	EXPECT_GT(2 * TSC_BIG + TSC_SLACK, tsc);
	val = TSC_BIG;
	EXPECT_EQ(1, host_msr(&self->vcpu, true, MSR_TSC, &val));
	EXPECT_EQ(5ULL, host_rdmsr(&self->vcpu, MSR_TSC_ADJUST));
}

/*
 * KVM_CAP_X86_USER_SPACE_MSR: an unknown MSR, and with _INVAL a refused
 * value, exit to user space; its answer completes the instruction, or
 * error = 1 makes it #GP.
 */
TEST_F(msr, user_space_exits)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR };
	struct kvm_run *run = self->vcpu.run;
	uint64_t val;

	ASSERT_LT(0, ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_X86_USER_SPACE_MSR));
	cap.args[0] = 1ULL << 31;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN;
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_ENABLE_CAP, &cap));
	start_msr_server(_metadata, self);

	/* RDMSR answered by user space: its data in EDX:EAX. */
	msr_request(&self->vcpu, false, MSR_NOBODY, 0);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_X86_RDMSR);
	EXPECT_EQ((uint32_t)KVM_MSR_EXIT_REASON_UNKNOWN, run->msr.reason);
	EXPECT_EQ((uint32_t)MSR_NOBODY, run->msr.index);
	run->msr.data = 0x1122334455667788ULL;
	run->msr.error = 0;
	EXPECT_EQ(0, msr_result(&self->vcpu, &val));
	EXPECT_EQ(0x1122334455667788ULL, val);

	/* RDMSR refused by user space: #GP. */
	msr_request(&self->vcpu, false, MSR_NOBODY + 1, 0);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_X86_RDMSR);
	EXPECT_EQ((uint32_t)MSR_NOBODY + 1, run->msr.index);
	run->msr.error = 1;
	EXPECT_EQ(1, msr_result(&self->vcpu, NULL));

	/* WRMSR: the value for user space, accepted, then refused. */
	msr_request(&self->vcpu, true, MSR_NOBODY, 0xaabbccdd00112233ULL);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_X86_WRMSR);
	EXPECT_EQ((uint32_t)KVM_MSR_EXIT_REASON_UNKNOWN, run->msr.reason);
	EXPECT_EQ((uint32_t)MSR_NOBODY, run->msr.index);
	EXPECT_EQ(0xaabbccdd00112233ULL, run->msr.data);
	run->msr.error = 0;
	EXPECT_EQ(0, msr_result(&self->vcpu, NULL));
	msr_request(&self->vcpu, true, MSR_NOBODY, 1);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_X86_WRMSR);
	run->msr.error = 1;
	EXPECT_EQ(1, msr_result(&self->vcpu, NULL));

	/* A known MSR with a bad value is #GP without _INVAL... */
	EXPECT_EQ(1, guest_wrmsr(&self->vcpu, MSR_PAT, 0x2));
	/* ...and an exit with it. */
	cap.args[0] = KVM_MSR_EXIT_REASON_INVAL;
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_ENABLE_CAP, &cap));
	msr_request(&self->vcpu, true, MSR_PAT, 0x2);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_X86_WRMSR);
	EXPECT_EQ((uint32_t)KVM_MSR_EXIT_REASON_INVAL, run->msr.reason);
	EXPECT_EQ((uint32_t)MSR_PAT, run->msr.index);
	EXPECT_EQ(2ULL, run->msr.data);
	run->msr.error = 1;
	EXPECT_EQ(1, msr_result(&self->vcpu, NULL));
	/* Unknown MSRs are #GP again: _UNKNOWN is off now. */
	EXPECT_EQ(1, guest_rdmsr(&self->vcpu, MSR_NOBODY, &val));
}

/*
 * RDTSCP and RDPID read the guest's TSC_AUX, and the host's getcpu()
 * (which reads the host's TSC_AUX through the vDSO) still works.
 */
TEST_F(msr, rdtscp_rdpid)
{
	struct kvm_cpuid_entry2 ext1, leaf7;
	uint64_t aux = 0x1234;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);

	ext1 = supported_cpuid(self->vm.sys_fd, 0x80000001);
	leaf7 = supported_cpuid(self->vm.sys_fd, 7);
	if (!(ext1.edx & (1U << 27)))
		SKIP(return, "no RDTSCP offered");
	ASSERT_TRUE(msr_listed(self->vm.sys_fd, MSR_TSC_AUX));

	LOAD(self, aux_reader);
	ASSERT_EQ(0, vcpu_setup_real(&self->vcpu, VM_CODE_GPA));
	ASSERT_EQ(1, host_msr(&self->vcpu, true, MSR_TSC_AUX, &aux));
	EXPECT_EQ(0x1234U, vcpu_run_out(&self->vcpu, PORT_AUX, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_GT(ncpus, sched_getcpu());
	EXPECT_LE(0, sched_getcpu());

	if (!(leaf7.ecx & (1U << 22)))
		return;
	aux = 0x4321;
	ASSERT_EQ(1, host_msr(&self->vcpu, true, MSR_TSC_AUX, &aux));
	ASSERT_EQ(0, vcpu_set_entry(&self->vcpu, rdpid_entry -
				    aux_reader_start, VM_STACK_TOP));
	EXPECT_EQ(0x4321U, vcpu_run_out(&self->vcpu, PORT_AUX, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_GT(ncpus, sched_getcpu());
}

/* The host's tsc_khz, as /proc/cpuinfo tells it ("cpu MHz"), or 0. */
static double cpuinfo_mhz(void)
{
	char line[256];
	double mhz = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz;
}

/*
 * KVM_GET_TSC_KHZ is the host's rate; without TSC scaling
 * (KVM_CAP_TSC_CONTROL = 0) KVM_SET_TSC_KHZ takes that rate and refuses
 * a lower one.
 */
TEST_F(msr, tsc_khz)
{
	int khz = ioctl(self->vcpu.fd, KVM_GET_TSC_KHZ, 0);
	double mhz = cpuinfo_mhz();

	EXPECT_EQ(1, ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_GET_TSC_KHZ));
	ASSERT_LT(0, khz);
	if (mhz > 0) {
		EXPECT_LT(mhz * 1000 * 0.95, (double)khz);
		EXPECT_GT(mhz * 1000 * 1.05, (double)khz);
	}
	EXPECT_EQ(0, ioctl(self->vcpu.fd, KVM_SET_TSC_KHZ, khz));
	EXPECT_EQ(khz, ioctl(self->vcpu.fd, KVM_GET_TSC_KHZ, 0));
	if (ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL))
		return;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_TSC_KHZ, khz / 2));
	EXPECT_EQ(EINVAL, errno);
}

/* --- kvmclock ------------------------------------------------------------ */

#define KC_PVTI_GPA(id)		(VM_DATA_GPA + 0x40 * (id))
#define KC_SHARED_GPA		(VM_DATA_GPA + 0x800)
#define KC_WALL_GPA		(VM_DATA_GPA + 0x900)
#define KC_ITERATIONS		20000

struct kc_vcpu {
	struct hvk_vcpu vcpu;
	pthread_barrier_t *start;
	uint64_t clock[2], tsc[2];	/* first and last reading */
	uint32_t behind, flags;
	int err;
};

static int kc_reading(struct kc_vcpu *k, int i)
{
	uint32_t v[4];
	int j, r;

	for (j = 0; j < 4; j++) {
		r = vcpu_run(&k->vcpu);
		if (r)
			return r;
		r = vcpu_out_value(&k->vcpu, 0x98, 4, &v[j]);
		if (r)
			return r;
	}
	k->clock[i] = v[0] | (uint64_t)v[1] << 32;
	k->tsc[i] = v[2] | (uint64_t)v[3] << 32;
	return 0;
}

static void *kc_thread(void *arg)
{
	struct kc_vcpu *k = arg;
	int r;

	pthread_barrier_wait(k->start);
	r = kc_reading(k, 0);
	if (!r)
		r = kc_reading(k, 1);
	if (!r)
		r = vcpu_run(&k->vcpu) ?:
		    vcpu_out_value(&k->vcpu, 0x99, 4, &k->behind);
	if (!r)
		r = vcpu_run(&k->vcpu) ?:
		    vcpu_out_value(&k->vcpu, 0x99, 4, &k->flags);
	if (!r && (vcpu_run(&k->vcpu) ||
		   k->vcpu.run->exit_reason != KVM_EXIT_HLT))
		r = -EPROTO;
	k->err = r;
	return NULL;
}

/*
 * Two vCPUs enable kvmclock and read it at the same time, each checking
 * that its clock is never behind a time another read before: where the
 * clock is stable (PVCLOCK_TSC_STABLE_BIT, which hvk's always is), the
 * vCPUs agree.  The clock advances at the TSC's rate (KVM_GET_TSC_KHZ),
 * and the wall clock plus kvmclock is the host's wall-clock time.
 */
TEST_F(msr, kvmclock)
{
	struct kc_vcpu k[2] = { 0 };
	pthread_barrier_t start;
	pthread_t threads[2];
	struct kvm_regs regs;
	struct kvm_clock_data clk = { 0 };
	uint32_t *wall;
	uint64_t dtsc, dns, want;
	long khz;
	int i;

	khz = ioctl(self->vcpu.fd, KVM_GET_TSC_KHZ, 0);
	ASSERT_LT(0, khz);
	EXPECT_NE(0U, supported_cpuid(self->vm.sys_fd, 0x40000001).eax &
		  (1U << 3));			/* KVM_FEATURE_CLOCKSOURCE2 */
	LOAD(self, kvmclock_guest);
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		struct hvk_vcpu *v = &k[i].vcpu;

		if (i == 0) {
			*v = self->vcpu;
		} else {
			ASSERT_EQ(0, vcpu_create(&self->vm, v, 1));
			ASSERT_EQ(0, vcpu_set_supported_cpuid(v));
		}
		ASSERT_EQ(0, vcpu_setup_long(v, VM_CODE_GPA));
		ASSERT_EQ(0, vcpu_get_regs(v, &regs));
		regs.rsp = VM_STACK_TOP - 0x400 * i;
		regs.rbx = KC_PVTI_GPA(i);
		regs.r12 = KC_ITERATIONS;
		regs.r13 = KC_SHARED_GPA;
		regs.r14 = i == 0 ? KC_WALL_GPA : 0;
		ASSERT_EQ(0, vcpu_set_regs(v, &regs));
		k[i].start = &start;
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, kc_thread,
					    &k[i]));
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	vcpu_destroy(&k[1].vcpu);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, k[i].err) TH_LOG("vCPU %d", i);
		EXPECT_LE(k[i].clock[0], k[i].clock[1]);
		if ((k[i].flags & 1) || !hvk_testing_kvm()) {
			EXPECT_EQ(0U, k[i].behind)
				TH_LOG("vCPU %d behind %u times", i,
				       k[i].behind);
		}
		/* The rate: TSC ticks at khz per ms, within 1%. */
		dtsc = k[i].tsc[1] - k[i].tsc[0];
		dns = k[i].clock[1] - k[i].clock[0];
		want = dtsc * 1000000 / khz;
		ASSERT_LT(2000ULL, want);
		EXPECT_LE(want - want / 100 - 1000, dns)
			TH_LOG("vCPU %d: %llu ns for %llu ticks", i,
			       (unsigned long long)dns,
			       (unsigned long long)dtsc);
		EXPECT_GE(want + want / 100 + 1000, dns);
	}

	/* Wall clock: even version; boot time + kvmclock = now. */
	wall = vm_gpa(&self->vm, KC_WALL_GPA);
	EXPECT_EQ(0U, wall[0] & 1);
	EXPECT_NE(0U, wall[0]);
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_GET_CLOCK, &clk));
	EXPECT_GE(5LL, llabs((long long)wall[1] +
			     (long long)(clk.clock / 1000000000) -
			     (long long)time(NULL)));
}

/* KVM_SET_CLOCK moves the clock; KVM_GET_CLOCK reads it back. */
TEST_F(msr, clock_ioctls)
{
	struct kvm_clock_data clk = { .clock = 1000000000000ULL };

	EXPECT_NE(0, ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_ADJUST_CLOCK));
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_SET_CLOCK, &clk));
	memset(&clk, 0, sizeof(clk));
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_GET_CLOCK, &clk));
	EXPECT_LE(1000000000000ULL, clk.clock);
	EXPECT_GT(1000000000000ULL + 100000000000ULL, clk.clock);
	clk.flags = 1U << 30;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_SET_CLOCK, &clk));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
