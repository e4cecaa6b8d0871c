// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU lifecycle and bad input, written against the KVM ABI
 * (Documentation/virt/kvm/api.rst) so that it passes on /dev/kvm too.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vm_util.h"

/* A system fd, a VM without memory and its vCPU 0. */
FIXTURE(vm) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(vm)
{
	ASSERT_EQ(0, vm_create_with(&self->vm, 0));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
}

FIXTURE_TEARDOWN(vm)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

TEST(api_version)
{
	int fd = vm_open_dev();

	ASSERT_LE(0, fd);
	EXPECT_EQ(KVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(12, KVM_API_VERSION);
	close(fd);
}

TEST(create_vm_types)
{
	/* Type 0 is the only VM type without optional features on x86. */
	unsigned long bad[] = { 1, 2, 3, 31, 32, 0x100, ~0UL };
	int fd = vm_open_dev();
	unsigned int i;
	int vm;

	ASSERT_LE(0, fd);
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM 0: %s", strerror(errno));
	close(vm);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/*
		 * KVM answers 1 (KVM_X86_SW_PROTECTED_VM) only when built with
		 * CONFIG_KVM_SW_PROTECTED_VM, and 2-4 (SEV) only on SEV hosts:
		 * the test kernel has neither.
		 */
		if (hvk_testing_kvm() &&
		    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES) > 0 &&
		    bad[i] < 32 &&
		    (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES) &
		     (1UL << bad[i])))
			continue;
		errno = 0;
		vm = ioctl(fd, KVM_CREATE_VM, bad[i]);
		EXPECT_EQ(-1, vm) TH_LOG("type %#lx", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("type %#lx", bad[i]);
		if (vm >= 0)
			close(vm);
	}
	close(fd);
}

TEST(vcpu_mmap_size)
{
	int fd = vm_open_dev();
	long size;

	ASSERT_LE(0, fd);
	size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	EXPECT_LE(4096, size);
	EXPECT_EQ(0, size % getpagesize());
	EXPECT_LE((long)sizeof(struct kvm_run), size);
	close(fd);
}

/* Capabilities every user needs, asked on the system fd and on a VM fd. */
static void check_caps(struct __test_metadata *_metadata, int fd, bool vm)
{
	static const struct { long cap; } caps[] = {
		{ KVM_CAP_USER_MEMORY },
		{ KVM_CAP_NR_VCPUS },
		{ KVM_CAP_MAX_VCPUS },
		{ KVM_CAP_MAX_VCPU_ID },
		{ KVM_CAP_NR_MEMSLOTS },
		{ KVM_CAP_IMMEDIATE_EXIT },
	};
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		EXPECT_LT(0, ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap))
			TH_LOG("capability %ld on the %s fd", caps[i].cap,
			       vm ? "VM" : "system");
	/* api.rst: the recommended vCPU count cannot exceed the maximum. */
	EXPECT_LE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS),
		  ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
	EXPECT_LE(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS),
		  ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID));
}

TEST_F(vm, check_extension)
{
	check_caps(_metadata, self->vm.sys_fd, false);
	check_caps(_metadata, self->vm.fd, true);
}

/*
 * KVM_SET_TSS_ADDR, which VMX clients call before creating vCPUs: an
 * address with three pages below 4 GiB works, one without fails.
 */
TEST_F(vm, set_tss_addr)
{
	if (ioctl(self->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) <= 0)
		SKIP(return, "no KVM_CAP_SET_TSS_ADDR");
	EXPECT_EQ(0, ioctl(self->vm.fd, KVM_SET_TSS_ADDR, 0xfffbd000UL));
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_SET_TSS_ADDR, 0xfffff000UL));
	EXPECT_EQ(EINVAL, errno);
}

/* KVM_GET_SUPPORTED_CPUID into an array of @nent; 0 or -errno. */
static int get_supported(int sys_fd, struct kvm_cpuid2 **out, int nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	if (!c)
		return -ENOMEM;
	c->nent = nent;
	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c)) {
		int r = -errno;

		free(c);
		return r;
	}
	*out = c;
	return 0;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *c,
						 uint32_t leaf)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf)
			return &c->entries[i];
	return NULL;
}

/*
 * The supported CPUID: E2BIG for too small an array; leaves 0, 1 and
 * 0x80000001 with long mode, and KVM's signature at 0x40000000.
 */
TEST_F(vm, supported_cpuid)
{
	const struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *c = NULL;

	if (ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID) <= 0)
		SKIP(return, "no KVM_CAP_EXT_CPUID");
	EXPECT_EQ(-E2BIG, get_supported(self->vm.sys_fd, &c, 1));
	ASSERT_EQ(0, get_supported(self->vm.sys_fd, &c, 256));
	ASSERT_NE(NULL, find_leaf(c, 0));
	ASSERT_NE(NULL, find_leaf(c, 1));
	e = find_leaf(c, 0x80000001);
	ASSERT_NE(NULL, e);
	EXPECT_NE(0U, e->edx & (1U << 29));
	e = find_leaf(c, 0x40000000);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0x4b4d564bU, e->ebx);		/* "KVMK" */
	EXPECT_EQ(0x564b4d56U, e->ecx);		/* "VMKV" */
	EXPECT_EQ(0x4dU, e->edx);		/* "M" */
	free(c);
}

/*
 * SET_CPUID2 then GET_CPUID2 gives the same leaves back (hvk: the same
 * table; KVM rewrites bits that follow the vCPU's state, so leaf 0 is
 * compared there); too small an array is E2BIG with nent untouched.
 */
TEST_F(vm, cpuid2_round_trip)
{
	struct kvm_cpuid2 *c = NULL, *back;
	uint32_t n;

	if (ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID) <= 0)
		SKIP(return, "no KVM_CAP_EXT_CPUID");
	ASSERT_EQ(0, get_supported(self->vm.sys_fd, &c, 256));
	n = c->nent;
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_SET_CPUID2, c));

	back = calloc(1, sizeof(*back) + 257 * sizeof(back->entries[0]));
	ASSERT_NE(NULL, back);
	back->nent = n - 1;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_GET_CPUID2, back));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(n - 1, back->nent);
	back->nent = n;
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_GET_CPUID2, back));
	EXPECT_EQ(n, back->nent);
	if (hvk_testing_kvm()) {
		EXPECT_EQ(0, memcmp(find_leaf(c, 0), find_leaf(back, 0),
				    sizeof(c->entries[0])));
	} else {
		EXPECT_EQ(0, memcmp(c->entries, back->entries,
				    n * sizeof(c->entries[0])));
	}

	back->nent = 257;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_CPUID2, back));
	EXPECT_EQ(E2BIG, errno);
	free(back);
	free(c);
}

#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_EFER		0xc0000080

/* MSRs that KVM_GET_MSR_INDEX_LIST names (EFER and the bases are SREGS'). */
static const uint32_t listed_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};

static const uint32_t state_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_FS_BASE,
	MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_SYSENTER_CS, MSR_SYSENTER_ESP,
	MSR_SYSENTER_EIP, MSR_EFER,
};

/* The MSR index list: E2BIG with the count, then every listed MSR in it. */
TEST_F(vm, msr_index_list)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + 4096 * sizeof(uint32_t));
	uint32_t i, j;

	ASSERT_NE(NULL, l);
	l->nmsrs = 1;
	EXPECT_EQ(-1, ioctl(self->vm.sys_fd, KVM_GET_MSR_INDEX_LIST, l));
	EXPECT_EQ(E2BIG, errno);
	ASSERT_LE(ARRAY_SIZE(listed_msrs), l->nmsrs);
	ASSERT_GE(4096U, l->nmsrs);
	ASSERT_EQ(0, ioctl(self->vm.sys_fd, KVM_GET_MSR_INDEX_LIST, l));
	for (i = 0; i < ARRAY_SIZE(listed_msrs); i++) {
		for (j = 0; j < l->nmsrs; j++)
			if (l->indices[j] == listed_msrs[i])
				break;
		EXPECT_NE(l->nmsrs, j) TH_LOG("MSR %#x missing", listed_msrs[i]);
	}
	free(l);
}

struct msrs {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[16];
};

/* KVM_SET_MSRS then KVM_GET_MSRS: every value comes back. */
TEST_F(vm, msrs_round_trip)
{
	struct msrs set = { .hdr.nmsrs = ARRAY_SIZE(state_msrs) - 1 };
	struct msrs get = set;
	unsigned int i;

	for (i = 0; i < set.hdr.nmsrs; i++) {
		set.e[i].index = get.e[i].index = state_msrs[i];
		/* Canonical addresses; 32-bit values where the MSR has 32. */
		set.e[i].data = 0xffff800000001000ULL + i * 0x10;
		if (state_msrs[i] == MSR_SYSCALL_MASK ||
		    state_msrs[i] == MSR_SYSENTER_CS)
			set.e[i].data = 0x4700 + i;
		if (state_msrs[i] == MSR_STAR)
			set.e[i].data = 0x0023001000000000ULL;
	}
	ASSERT_EQ((int)set.hdr.nmsrs, ioctl(self->vcpu.fd, KVM_SET_MSRS, &set));
	ASSERT_EQ((int)get.hdr.nmsrs, ioctl(self->vcpu.fd, KVM_GET_MSRS, &get));
	for (i = 0; i < set.hdr.nmsrs; i++)
		EXPECT_EQ(set.e[i].data, get.e[i].data)
			TH_LOG("MSR %#x", state_msrs[i]);
	/* This process's own SYSCALL still works. */
	EXPECT_LT(0, getpid());
}

/*
 * KVM_SET_MSRS stops at the first MSR it refuses and says how far it got:
 * an MSR that does not exist, and on hvk a non-canonical address (which
 * KVM refuses from user space on VMX and takes on SVM; see docs/abi.md).
 */
TEST_F(vm, set_msrs_stops)
{
	struct msrs m = { .hdr.nmsrs = 3 };
	int r;

	m.e[0].index = MSR_LSTAR;
	m.e[0].data = 0xffff800000002000ULL;
	m.e[1].index = 0x12345;			/* no such MSR */
	m.e[2].index = MSR_CSTAR;
	EXPECT_EQ(1, ioctl(self->vcpu.fd, KVM_SET_MSRS, &m));
	m.e[1].index = MSR_LSTAR;
	m.e[1].data = 0x0000800000000000ULL;	/* not canonical */
	r = ioctl(self->vcpu.fd, KVM_SET_MSRS, &m);
	if (hvk_testing_kvm()) {
		EXPECT_TRUE(r == 1 || r == 3) TH_LOG("KVM_SET_MSRS: %d", r);
	} else {
		EXPECT_EQ(1, r);
	}
	m.hdr.nmsrs = 100000;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_MSRS, &m));
	EXPECT_EQ(E2BIG, errno);
}

/* XCR0: x87 only after reset; it can be set so, never without x87. */
TEST_F(vm, xcrs)
{
	struct kvm_xcrs x;

	if (ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
		SKIP(return, "no KVM_CAP_XCRS");
	memset(&x, 0, sizeof(x));
	ASSERT_EQ(0, ioctl(self->vcpu.fd, KVM_GET_XCRS, &x));
	ASSERT_EQ(1U, x.nr_xcrs);
	EXPECT_EQ(0U, x.xcrs[0].xcr);
	EXPECT_EQ(1ULL, x.xcrs[0].value);

	EXPECT_EQ(0, ioctl(self->vcpu.fd, KVM_SET_XCRS, &x));
	x.xcrs[0].value = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(EINVAL, errno);
	x.xcrs[0].value = 1;
	x.flags = 1;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(EINVAL, errno);
	x.flags = 0;
	x.nr_xcrs = 17;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_XCRS, &x));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vm, create_vcpu_same_id)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
}

TEST_F(vm, create_vcpu_id_too_big)
{
	long max_id = ioctl(self->vm.fd, KVM_CHECK_EXTENSION,
			    KVM_CAP_MAX_VCPU_ID);
	int fd;

	ASSERT_LT(0, max_id);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_CREATE_VCPU, max_id));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_CREATE_VCPU, -1));
	EXPECT_EQ(EINVAL, errno);
	/* The largest valid id works. */
	fd = ioctl(self->vm.fd, KVM_CREATE_VCPU, max_id - 1);
	EXPECT_LE(0, fd) TH_LOG("id %ld: %s", max_id - 1, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* KVM_SET_USER_MEMORY_REGION: -1 and errno, or 0. */
static int set_region(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		      uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	errno = 0;
	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

FIXTURE(slots) {
	struct hvk_vm vm;
	uint8_t *mem;
	size_t size;
};

FIXTURE_SETUP(slots)
{
	ASSERT_EQ(0, vm_create_with(&self->vm, 0));
	self->size = 0x10000;
	self->mem = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(slots)
{
	vm_destroy(&self->vm);
	munmap(self->mem, self->size);
}

/* api.rst: GPA, size and host address must be page aligned. */
TEST_F(slots, unaligned)
{
	uintptr_t hva = (uintptr_t)self->mem;

	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0x1001, 0x1000, hva));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0, 0x1001, hva));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0, 0x1000, hva + 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0, 0x1000, hva + 0x800));
	EXPECT_EQ(EINVAL, errno);
	/* And then the aligned one works. */
	EXPECT_EQ(0, set_region(self->vm.fd, 0, 0, 0x1000, hva));
}

TEST_F(slots, overlap)
{
	uintptr_t hva = (uintptr_t)self->mem;

	ASSERT_EQ(0, set_region(self->vm.fd, 0, 0x100000, 0x4000, hva));
	/* Inside, straddling either end, and covering the whole slot. */
	EXPECT_EQ(-1, set_region(self->vm.fd, 1, 0x101000, 0x1000,
				 hva + 0x4000));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 1, 0xff000, 0x2000,
				 hva + 0x4000));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 1, 0x103000, 0x2000,
				 hva + 0x4000));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 1, 0xf0000, 0x20000,
				 hva));
	EXPECT_EQ(EEXIST, errno);
	/* Right next to it on both sides is fine. */
	EXPECT_EQ(0, set_region(self->vm.fd, 1, 0x104000, 0x1000,
				hva + 0x4000));
	EXPECT_EQ(0, set_region(self->vm.fd, 2, 0xff000, 0x1000,
				hva + 0x5000));
}

TEST_F(slots, slot_id_too_big)
{
	long nr = ioctl(self->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	uintptr_t hva = (uintptr_t)self->mem;

	ASSERT_LT(0, nr);
	EXPECT_EQ(-1, set_region(self->vm.fd, nr, 0, 0x1000, hva));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0xffff, 0, 0x1000, hva));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, set_region(self->vm.fd, nr - 1, 0, 0x1000, hva));
}

TEST_F(slots, delete_and_readd)
{
	uintptr_t hva = (uintptr_t)self->mem;

	ASSERT_EQ(0, set_region(self->vm.fd, 3, 0x200000, 0x4000, hva));
	/* Size 0 deletes the slot; then its range and id are free. */
	EXPECT_EQ(0, set_region(self->vm.fd, 3, 0x200000, 0, hva));
	EXPECT_EQ(0, set_region(self->vm.fd, 4, 0x200000, 0x4000, hva));
	EXPECT_EQ(0, set_region(self->vm.fd, 4, 0x200000, 0, 0));
	EXPECT_EQ(0, set_region(self->vm.fd, 3, 0x300000, 0x8000, hva));
	/* Deleting a slot that does not exist is refused. */
	EXPECT_EQ(-1, set_region(self->vm.fd, 5, 0, 0, hva));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A host address outside the user address space.  KVM checks it with
 * access_ok() and answers EINVAL; hvk answers EFAULT, the errno of a bad
 * user pointer.  An unmapped or read-only *user* range is accepted by KVM
 * here and only fails when the guest touches it (see run_test).
 */
/*
 * Guest-physical addresses beyond what the CPU can address (its
 * physical-address width, at most 52 bits; 48 with 4-level EPT).
 */
TEST_F(slots, beyond_guest_physical_space)
{
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 1ULL << 48, 0x1000,
				 (uintptr_t)self->mem));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, (1ULL << 52) - 0x1000, 0x2000,
				 (uintptr_t)self->mem));
	EXPECT_EQ(EINVAL, errno);
}

/* A host range access_ok() refuses: EINVAL, as KVM checks at creation. */
TEST_F(slots, kernel_address)
{
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0, 0x1000,
				 0xffff800000000000ULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_region(self->vm.fd, 0, 0, 0x1000,
				 0xfffffffffffff000ULL));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(slots, region2_guest_memfd)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = 0,
		.flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = 0,
		.memory_size = 0x1000,
		.userspace_addr = (uintptr_t)self->mem,
		.guest_memfd = 0,
	};

	if (ioctl(self->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2) <= 0)
		SKIP(return, "no KVM_CAP_USER_MEMORY2");
	/* Type 0 VMs have no private memory, so no guest_memfd. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_SET_USER_MEMORY_REGION2, &r));
	EXPECT_EQ(EINVAL, errno);
	/* Unknown flags too; without them region2 works like region. */
	r.flags = 1U << 30;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, KVM_SET_USER_MEMORY_REGION2, &r));
	EXPECT_EQ(EINVAL, errno);
	r.flags = 0;
	EXPECT_EQ(0, ioctl(self->vm.fd, KVM_SET_USER_MEMORY_REGION2, &r));
}

/*
 * Unknown ioctls.  KVM answers unknown VM ioctls with ENOTTY (x86's
 * kvm_arch_vm_ioctl) but unknown vCPU ioctls with EINVAL (x86's
 * kvm_arch_vcpu_ioctl, and kvm_vcpu_ioctl for a foreign type); hvk answers
 * ENOTTY for both.
 */
TEST_F(vm, unknown_vm_ioctl)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, _IO(KVMIO, 0xff), 0));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, _IO('x', 0x01), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(vm, unknown_vcpu_ioctl)
{
	int want = hvk_testing_kvm() ? EINVAL : ENOTTY;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, _IO(KVMIO, 0xff), 0));
	EXPECT_EQ(want, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, _IO('x', 0x01), 0));
	EXPECT_EQ(want, errno);
}

TEST_F(vm, regs_round_trip)
{
	struct kvm_regs set, get;
	uint64_t *p = (uint64_t *)&set;
	unsigned int i;

	/* A distinct value in every register, RFLAGS with bit 1 set. */
	for (i = 0; i < sizeof(set) / sizeof(*p); i++)
		p[i] = 0x0101010101010101ULL * (i + 1) + i;
	set.rflags = 0x2 | 0x1 | 0x4 | 0x80 | 0x800;	/* CF PF SF OF */
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &set));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &get));
	EXPECT_EQ(set.rax, get.rax);
	EXPECT_EQ(set.rbx, get.rbx);
	EXPECT_EQ(set.rcx, get.rcx);
	EXPECT_EQ(set.rdx, get.rdx);
	EXPECT_EQ(set.rsi, get.rsi);
	EXPECT_EQ(set.rdi, get.rdi);
	EXPECT_EQ(set.rsp, get.rsp);
	EXPECT_EQ(set.rbp, get.rbp);
	EXPECT_EQ(set.r8, get.r8);
	EXPECT_EQ(set.r9, get.r9);
	EXPECT_EQ(set.r10, get.r10);
	EXPECT_EQ(set.r11, get.r11);
	EXPECT_EQ(set.r12, get.r12);
	EXPECT_EQ(set.r13, get.r13);
	EXPECT_EQ(set.r14, get.r14);
	EXPECT_EQ(set.r15, get.r15);
	EXPECT_EQ(set.rip, get.rip);
	EXPECT_EQ(set.rflags, get.rflags);
}

/* A vCPU at reset is in real mode at F000:FFF0 (SDM vol. 3A 10.1.4). */
TEST_F(vm, reset_state)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sregs));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	EXPECT_EQ(0xfff0ULL, regs.rip);
	EXPECT_EQ(0x2ULL, regs.rflags);
	EXPECT_EQ(0xf000, sregs.cs.selector);
	EXPECT_EQ(0xffff0000ULL, sregs.cs.base);
	EXPECT_EQ(0U, sregs.cr0 & (X86_CR0_PE | X86_CR0_PG));
	EXPECT_EQ(0ULL, sregs.efer & (X86_EFER_LME | X86_EFER_LMA));
}

static void expect_seg_eq(struct __test_metadata *_metadata,
			  const struct kvm_segment *a,
			  const struct kvm_segment *b, const char *name)
{
	EXPECT_EQ(a->base, b->base) TH_LOG("%s", name);
	EXPECT_EQ(a->limit, b->limit) TH_LOG("%s", name);
	EXPECT_EQ(a->selector, b->selector) TH_LOG("%s", name);
	EXPECT_EQ(a->type, b->type) TH_LOG("%s", name);
	EXPECT_EQ(a->present, b->present) TH_LOG("%s", name);
	EXPECT_EQ(a->dpl, b->dpl) TH_LOG("%s", name);
	EXPECT_EQ(a->db, b->db) TH_LOG("%s", name);
	EXPECT_EQ(a->s, b->s) TH_LOG("%s", name);
	EXPECT_EQ(a->l, b->l) TH_LOG("%s", name);
	EXPECT_EQ(a->g, b->g) TH_LOG("%s", name);
}

static void expect_sregs_eq(struct __test_metadata *_metadata,
			    const struct kvm_sregs *a,
			    const struct kvm_sregs *b)
{
	expect_seg_eq(_metadata, &a->cs, &b->cs, "cs");
	expect_seg_eq(_metadata, &a->ds, &b->ds, "ds");
	expect_seg_eq(_metadata, &a->es, &b->es, "es");
	expect_seg_eq(_metadata, &a->fs, &b->fs, "fs");
	expect_seg_eq(_metadata, &a->gs, &b->gs, "gs");
	expect_seg_eq(_metadata, &a->ss, &b->ss, "ss");
	EXPECT_EQ(a->gdt.base, b->gdt.base);
	EXPECT_EQ(a->gdt.limit, b->gdt.limit);
	EXPECT_EQ(a->idt.base, b->idt.base);
	EXPECT_EQ(a->idt.limit, b->idt.limit);
	EXPECT_EQ(a->cr0, b->cr0);
	EXPECT_EQ(a->cr2, b->cr2);
	EXPECT_EQ(a->cr3, b->cr3);
	EXPECT_EQ(a->cr4, b->cr4);
	EXPECT_EQ(a->efer, b->efer);
}

/* Long mode state, with segments that differ from each other. */
TEST_F(vm, sregs_round_trip_long)
{
	struct kvm_sregs set, get;

	/* EFER.LME needs CPUID to report long mode. */
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &set));
	vm_flat_segment(&set.cs, 0x18, 0xb, true, false);
	vm_flat_segment(&set.ds, 0x10, 0x3, false, true);
	vm_flat_segment(&set.es, 0x20, 0x3, false, true);
	vm_flat_segment(&set.ss, 0x10, 0x3, false, true);
	vm_flat_segment(&set.fs, 0x28, 0x3, false, true);
	vm_flat_segment(&set.gs, 0x30, 0x1, false, true);
	set.fs.base = 0x12345000;
	set.gs.base = 0xffff888012345678ULL;
	set.es.limit = 0xfffff;
	set.es.g = 0;
	set.gdt.base = 0x1000;
	set.gdt.limit = 0x37;
	set.idt.base = 0xfffff000ULL;
	set.idt.limit = 0xfff;
	set.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	set.cr2 = 0xdead000;
	set.cr3 = 0x5000;
	set.cr4 = X86_CR4_PAE;
	set.efer = X86_EFER_LME | X86_EFER_LMA;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &set));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &get));
	expect_sregs_eq(_metadata, &set, &get);
}

/* 32-bit protected mode, paging off, and back to real mode. */
TEST_F(vm, sregs_round_trip_pm32)
{
	struct kvm_sregs reset, set, get;

	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &reset));
	set = reset;
	vm_flat_segment(&set.cs, 0x08, 0xb, false, true);
	vm_flat_segment(&set.ds, 0x10, 0x3, false, true);
	set.es = set.fs = set.gs = set.ss = set.ds;
	set.ss.base = 0x10000;
	set.gdt.base = 0x2000;
	set.gdt.limit = 0x1f;
	set.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	set.cr3 = 0x3000;
	set.cr4 = 0;
	set.efer = 0;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &set));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &get));
	expect_sregs_eq(_metadata, &set, &get);
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &reset));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &get));
	expect_sregs_eq(_metadata, &reset, &get);
}

/*
 * SREGS that no CPU can be in are refused with EINVAL, and the vCPU keeps
 * its state:
 * - CR0.PG without CR0.PE: MOV to CR0 raises #GP (SDM vol. 3A 2.5);
 * - CR0.NW without CR0.CD: #GP as well (SDM vol. 3A 2.5);
 * - EFER.LME and CR0.PG without CR4.PAE: IA-32e mode needs PAE paging
 *   (SDM vol. 3A 10.8.5; APM vol. 2 14.6.1);
 * - EFER.LMA without paging: LMA is LME && PG (APM vol. 2 3.1.7);
 * - a 64-bit code segment (CS.L) outside IA-32e mode.
 * KVM checks these in kvm_is_valid_sregs().
 */
TEST_F(vm, sregs_invalid)
{
	struct kvm_sregs good, bad, get;

	/* So that EFER.LME itself is fine, only its combinations are not. */
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &good));

	bad = good;
	bad.cr0 = X86_CR0_PG | X86_CR0_ET;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno) TH_LOG("CR0.PG without PE");

	bad = good;
	bad.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NW;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno) TH_LOG("CR0.NW without CD");

	bad = good;
	vm_flat_segment(&bad.cs, 0x18, 0xb, true, false);
	bad.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	bad.cr3 = 0x2000;
	bad.cr4 = 0;
	bad.efer = X86_EFER_LME | X86_EFER_LMA;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno) TH_LOG("LME and PG without PAE");

	bad = good;
	bad.cr0 = X86_CR0_PE | X86_CR0_ET;
	bad.efer = X86_EFER_LME | X86_EFER_LMA;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno) TH_LOG("LMA without PG");

	bad = good;
	vm_flat_segment(&bad.cs, 0x18, 0xb, true, false);
	bad.cr0 = X86_CR0_PE | X86_CR0_ET;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, KVM_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno) TH_LOG("CS.L outside long mode");

	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &get));
	expect_sregs_eq(_metadata, &good, &get);
}

/* Close the vCPU first, then the VM; the run area outlives the fd. */
TEST(close_vcpu_first)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;

	ASSERT_EQ(0, vm_create(&vm));
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	ASSERT_EQ(0, close(vcpu.fd));
	vcpu.fd = -1;
	/* The mapping keeps the vCPU's run area: reading it must not fault. */
	EXPECT_EQ(0U, vcpu.run->immediate_exit);
	vcpu_destroy(&vcpu);
	/* The VM still works after its vCPU went away. */
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 1));
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
}

/* Close the VM and the device first: the vCPU keeps the VM alive. */
TEST(close_vm_first)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	struct kvm_regs regs;
	int vm_fd;

	ASSERT_EQ(0, vm_create(&vm));
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	/* HLT at the code address, in real mode. */
	*(uint8_t *)vm_gpa(&vm, VM_CODE_GPA) = 0xf4;
	ASSERT_EQ(0, vcpu_setup_real(&vcpu, VM_CODE_GPA));
	vm_fd = vm.fd;
	ASSERT_EQ(0, close(vm.sys_fd));
	ASSERT_EQ(0, close(vm_fd));
	vm.fd = vm.sys_fd = -1;
	ASSERT_EQ(0, vcpu_get_regs(&vcpu, &regs));
	EXPECT_EQ(0ULL, regs.rip);
	/* It even runs: guest memory belongs to the VM, not to its fd. */
	vcpu_run_expect(&vcpu, KVM_EXIT_HLT);
	ASSERT_EQ(0, vcpu_get_regs(&vcpu, &regs));
	EXPECT_EQ(1ULL, regs.rip);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
}

/* A child creates a VM and a vCPU, runs it, and exits with all of it open. */
TEST(child_exits_with_vm)
{
	int i, status;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct hvk_vm vm;
			struct hvk_vcpu vcpu;

			if (vm_create(&vm) || vcpu_create(&vm, &vcpu, 0))
				_exit(1);
			/* OUT to port 0x10, stopped at the exit. */
			memcpy(vm_gpa(&vm, VM_CODE_GPA), "\xe6\x10\xf4", 3);
			if (vcpu_setup_real(&vcpu, VM_CODE_GPA) ||
			    vcpu_run(&vcpu) ||
			    vcpu.run->exit_reason != KVM_EXIT_IO)
				_exit(2);
			_exit(42);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(42, WEXITSTATUS(status));
	}
}

/*
 * A VM belongs to the process that created it (api.rst, "General
 * description"): a forked child that inherited the fds gets EIO.
 */
TEST_F(vm, child_cannot_use_parent_vm)
{
	struct kvm_regs regs;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (ioctl(self->vm.fd, KVM_CREATE_VCPU, 1) != -1 ||
		    errno != EIO)
			_exit(1);
		if (ioctl(self->vcpu.fd, KVM_GET_REGS, &regs) != -1 ||
		    errno != EIO)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* And the parent still can. */
	EXPECT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
}

TEST_HARNESS_MAIN
