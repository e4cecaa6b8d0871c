// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD (api.rst 4.59): a guest write to a registered MMIO address
 * or port, of the registered length (any length for 0) and value (with
 * KVM_IOEVENTFD_FLAG_DATAMATCH), signals the eventfd and the guest goes on
 * without an exit; any other access exits as before.  The guests write
 * to registered places, then to a place nobody registered, whose exit
 * tells the test that everything before it ran in the kernel; the eventfd
 * counters say how many writes matched.  Every errno is KVM's, and so are
 * the cases KVM accepts.
 *
 * Layout: RAM from 0 to RAM_SIZE; MMIO_GPA above it, inside the 2 MiB the
 * long-mode page tables map 1:1.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "kvm_stats.h"
#include "vm_util.h"

#define RAM_SIZE	0xc0000
#define MMIO_GPA	0xd0000
#define M		VM_STR(MMIO_GPA)
/* An MMIO address nobody registers: the guests' "stop here". */
#define SYNC_GPA	(MMIO_GPA + 0x800)
#define SYNC		VM_STR(SYNC_GPA)
#define PORT		0x510
#define PORT2		0x520
#define P		VM_STR(PORT)
#define P2		VM_STR(PORT2)

/* 4-byte writes to MMIO_GPA, then the stop. */
GUEST_CODE_DECLARE(mmio_writes);
asm(GUEST_CODE_BEGIN(mmio_writes, ".code64")
"	movl $0x11, " M "\n"
"	movl $0x22, " M "\n"
"	movl $0x33, " M "\n"
"	movl $0x44, " SYNC "\n"
"	movl $0x55, " M "\n"
"	hlt\n"
GUEST_CODE_END(mmio_writes));

/* OUTs of each size to PORT, then the stop. */
GUEST_CODE_DECLARE(pio_writes);
asm(GUEST_CODE_BEGIN(pio_writes, ".code64")
"	movw $" P ", %dx\n"
"	movl $0x12345678, %eax\n"
"	outb %al, %dx\n"
"	outw %ax, %dx\n"
"	outl %eax, %dx\n"
"	outl %eax, %dx\n"
"	movl $0x44, " SYNC "\n"
"	inb %dx, %al\n"
"	hlt\n"
GUEST_CODE_END(pio_writes));

/*
 * Against a 2-byte registration with datamatch 0x1234 at MMIO_GPA: a hit,
 * a miss on the value, a hit, then the value with the wrong lengths.
 */
GUEST_CODE_DECLARE(mmio_datamatch);
asm(GUEST_CODE_BEGIN(mmio_datamatch, ".code64")
"	movw $0x1234, " M "\n"
"	movw $0x5678, " M "\n"
"	movw $0x1234, " M "\n"
"	movl $0x1234, " M "\n"
"	movb $0x34, " M "\n"
"	movq $0x1234, " M "\n"
"	movabsq $0x1122334455667788, %rax\n"
"	movq %rax, " M " + 8\n"
"	movl $0x44, " SYNC "\n"
"	hlt\n"
GUEST_CODE_END(mmio_datamatch));

/*
 * PORT2, 4 bytes, datamatch 0x5a5a: a hit, a miss; then a read of MMIO_GPA
 * and an IN, which no registration takes.
 */
GUEST_CODE_DECLARE(pio_datamatch);
asm(GUEST_CODE_BEGIN(pio_datamatch, ".code64")
"	movw $" P2 ", %dx\n"
"	movl $0x5a5a, %eax\n"
"	outl %eax, %dx\n"
"	movl $0x5a5b, %eax\n"
"	outl %eax, %dx\n"
"	inl %dx, %eax\n"
"	movl " M ", %eax\n"
"	hlt\n"
GUEST_CODE_END(pio_datamatch));

/* Every length to MMIO_GPA and PORT, for length-0 registrations. */
GUEST_CODE_DECLARE(any_length);
asm(GUEST_CODE_BEGIN(any_length, ".code64")
"	movb $1, " M "\n"
"	movw $2, " M "\n"
"	movl $3, " M "\n"
"	movq $4, " M "\n"
"	movw $" P ", %dx\n"
"	outb %al, %dx\n"
"	outw %ax, %dx\n"
"	outl %eax, %dx\n"
"	movl $0x44, " SYNC "\n"
"	hlt\n"
GUEST_CODE_END(any_length));

/* RCX writes to MMIO_GPA and as many OUTs to PORT, then the stop. */
GUEST_CODE_DECLARE(write_loop);
asm(GUEST_CODE_BEGIN(write_loop, ".code64")
"	movw $" P ", %dx\n"
"1:	movl %ecx, " M "\n"
"	outb %al, %dx\n"
"	loop 1b\n"
"	movl $0x44, " SYNC "\n"
"	hlt\n"
GUEST_CODE_END(write_loop));

static int ioeventfd(struct hvk_vm *vm, uint64_t addr, uint32_t len, int fd,
		     uint32_t flags, uint64_t datamatch)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = flags,
	};

	return ioctl(vm->fd, KVM_IOEVENTFD, &io) ? -errno : 0;
}

/* The eventfd's count, reset to 0 (EFD_NONBLOCK: 0 when nothing came). */
static uint64_t efd_take(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

#define DM	KVM_IOEVENTFD_FLAG_DATAMATCH
#define PIO	KVM_IOEVENTFD_FLAG_PIO
#define DEASSIGN KVM_IOEVENTFD_FLAG_DEASSIGN

FIXTURE(ioeventfd) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	int efd;
	int efd2;
};

FIXTURE_SETUP(ioeventfd)
{
	ASSERT_EQ(0, vm_create_with(&self->vm, RAM_SIZE));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	self->efd2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	ASSERT_LE(0, self->efd2);
}

FIXTURE_TEARDOWN(ioeventfd)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
	close(self->efd);
	close(self->efd2);
}

#define LOAD(self, name)						\
	do {								\
		vm_load(&(self)->vm, VM_CODE_GPA, name##_start,		\
			name##_end);					\
		ASSERT_EQ(0, vcpu_setup_long(&(self)->vcpu,		\
					     VM_CODE_GPA));		\
	} while (0)

#define STOP(self) \
	EXPECT_EQ(0x44ULL, vcpu_run_mmio_write(&(self)->vcpu, SYNC_GPA, 4))

TEST_F(ioeventfd, capabilities)
{
	EXPECT_EQ(1, ioctl(self->vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD));
	EXPECT_EQ(1, ioctl(self->vm.fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_IOEVENTFD_ANY_LENGTH));
	EXPECT_EQ(1, ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_IOEVENTFD));
}

/* Each bad input fails with KVM's errno and registers nothing. */
TEST_F(ioeventfd, bad_input)
{
	struct hvk_vm *vm = &self->vm;
	int efd = self->efd, notefd, closed;

	notefd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, notefd);
	closed = dup(efd);
	ASSERT_LE(0, closed);
	close(closed);

	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 3, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 16, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 5, efd, PIO, 0));
	/* addr + len wraps. */
	EXPECT_EQ(-EINVAL, ioeventfd(vm, ~0ULL - 1, 4, efd, 0, 0));
	/* Flags beyond KVM_IOEVENTFD_VALID_FLAG_MASK. */
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 4, efd,
				     KVM_IOEVENTFD_VALID_FLAG_MASK + 1, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 4, efd, 1U << 31, 0));
	/* Length 0 takes any value: no datamatch. */
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 0, efd, DM, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 0, efd, PIO | DM, 0));
	/* Not a file, a closed fd, not an eventfd. */
	EXPECT_EQ(-EBADF, ioeventfd(vm, MMIO_GPA, 4, -1, 0, 0));
	EXPECT_EQ(-EBADF, ioeventfd(vm, MMIO_GPA, 4, closed, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 4, notefd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 1, notefd, PIO, 0));
	/* The length is checked before the fd. */
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 3, -1, 0, 0));
	EXPECT_EQ(-EFAULT, ioctl(vm->fd, KVM_IOEVENTFD, NULL) ? -errno : 0);

	/* Deassign: the fd first, then ENOENT for what is not there. */
	EXPECT_EQ(-EBADF, ioeventfd(vm, MMIO_GPA, 4, -1, DEASSIGN, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, MMIO_GPA, 4, notefd, DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 4, efd, DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 3, efd, DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, PORT, 1, efd, PIO | DEASSIGN, 0));

	/* Nothing was registered: the guest's writes all exit. */
	LOAD(self, mmio_writes);
	EXPECT_EQ(0x11ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 4));
	EXPECT_EQ(0x22ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 4));
	EXPECT_EQ(0ULL, efd_take(efd));
	close(notefd);
}

/* EEXIST where one write could match both; elsewhere both coexist. */
TEST_F(ioeventfd, duplicates)
{
	struct hvk_vm *vm = &self->vm;
	int a = self->efd, b = self->efd2;

	ASSERT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, a, 0, 0));
	/* Same place, any eventfd, with or without a datamatch. */
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 4, a, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 4, b, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 4, b, DM, 7));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 0, b, 0, 0));
	/* Another length, another bus, another address. */
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 2, b, DM, 7));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, a, PIO, 0));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA + 4, 4, a, 0, 0));
	/* Datamatch: another value is another registration. */
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 2, a, DM, 7));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 2, a, 0, 0));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 2, a, DM, 8));
	/* Length 0 collides with every length there. */
	EXPECT_EQ(0, ioeventfd(vm, PORT, 0, a, PIO, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, PORT, 1, b, PIO | DM, 1));

	/* Deassign names the registration exactly: eventfd, length, value. */
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 4, b, DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 4, a, DM | DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 2, b, DM | DEASSIGN, 8));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 2, b, DEASSIGN, 0));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 2, b, DM | DEASSIGN, 7));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, MMIO_GPA, 2, b, DM | DEASSIGN, 7));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 2, b, DM, 7));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, a, DEASSIGN, 0));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, b, DM, 7));
}

/*
 * KVM accepts VIRTIO_CCW_NOTIFY on x86 too, on a bus of its own that no
 * x86 access reaches: a registration there takes no MMIO write.
 */
TEST_F(ioeventfd, virtio_ccw_flag)
{
	struct hvk_vm *vm = &self->vm;
	uint32_t ccw = KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY;

	ASSERT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, self->efd, ccw, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, MMIO_GPA, 4, self->efd, ccw, 0));
	LOAD(self, mmio_writes);
	EXPECT_EQ(0x11ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 4));
	EXPECT_EQ(0ULL, efd_take(self->efd));
	EXPECT_EQ(0, ioeventfd(vm, MMIO_GPA, 4, self->efd,
			       ccw | DEASSIGN, 0));
}

TEST_F(ioeventfd, mmio_write_signals)
{
	uint64_t exits;

	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd, 0, 0));
	LOAD(self, mmio_writes);
	STOP(self);
	EXPECT_EQ(3ULL, efd_take(self->efd));
	/* Writes taken by an ioeventfd are no MMIO exits (KVM's count). */
	ASSERT_EQ(0, kvm_stat(self->vcpu.fd, "mmio_exits", &exits));
	EXPECT_EQ(1ULL, exits);
	/* Deassigned: the next write exits, and nothing is signalled. */
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd,
			       DEASSIGN, 0));
	EXPECT_EQ(0x55ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 4));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0ULL, efd_take(self->efd));
}

TEST_F(ioeventfd, pio_write_signals)
{
	uint64_t exits;

	/* Bytes to PORT signal efd, dwords efd2; words exit. */
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT, 1, self->efd, PIO, 0));
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT, 4, self->efd2, PIO, 0));
	/* The same address on the MMIO bus takes no OUT. */
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT, 2, self->efd, 0, 0));
	LOAD(self, pio_writes);
	EXPECT_EQ(0x5678U, vcpu_run_out(&self->vcpu, PORT, 2));
	STOP(self);
	EXPECT_EQ(1ULL, efd_take(self->efd));
	EXPECT_EQ(2ULL, efd_take(self->efd2));
	/* An IN exits. */
	vcpu_run_expect(&self->vcpu, KVM_EXIT_IO);
	EXPECT_EQ((uint8_t)KVM_EXIT_IO_IN, self->vcpu.run->io.direction);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	/* KVM counts every port I/O exit, in the kernel or not. */
	ASSERT_EQ(0, kvm_stat(self->vcpu.fd, "io_exits", &exits));
	EXPECT_EQ(5ULL, exits);
}

TEST_F(ioeventfd, datamatch)
{
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 2, self->efd, DM, 0x1234));
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA + 8, 8, self->efd2, DM,
			       0x1122334455667788ULL));
	LOAD(self, mmio_datamatch);
	/* Another value, or the value at another length, exits. */
	EXPECT_EQ(0x5678ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 2));
	EXPECT_EQ(0x1234ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 4));
	EXPECT_EQ(0x34ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 1));
	EXPECT_EQ(0x1234ULL, vcpu_run_mmio_write(&self->vcpu, MMIO_GPA, 8));
	STOP(self);
	EXPECT_EQ(2ULL, efd_take(self->efd));
	EXPECT_EQ(1ULL, efd_take(self->efd2));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/* Datamatch on a port; reads are never an ioeventfd's. */
TEST_F(ioeventfd, pio_datamatch_and_reads)
{
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT2, 4, self->efd, PIO | DM,
			       0x5a5a));
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd2, 0, 0));
	LOAD(self, pio_datamatch);
	EXPECT_EQ(0x5a5bU, vcpu_run_out(&self->vcpu, PORT2, 4));
	EXPECT_EQ(1ULL, efd_take(self->efd));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_IO);
	EXPECT_EQ((uint8_t)KVM_EXIT_IO_IN, self->vcpu.run->io.direction);
	vcpu_run_mmio_read(&self->vcpu, MMIO_GPA, 4, 0);
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(0ULL, efd_take(self->efd));
	EXPECT_EQ(0ULL, efd_take(self->efd2));
}

/* Length 0 (KVM_CAP_IOEVENTFD_ANY_LENGTH): every write there, both buses. */
TEST_F(ioeventfd, any_length)
{
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 0, self->efd, 0, 0));
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT, 0, self->efd2, PIO, 0));
	LOAD(self, any_length);
	STOP(self);
	EXPECT_EQ(4ULL, efd_take(self->efd));
	EXPECT_EQ(3ULL, efd_take(self->efd2));
	vcpu_run_expect(&self->vcpu, KVM_EXIT_HLT);
}

/*
 * The VM holds its own reference: the fd the registration was made with
 * may be closed, and the eventfd is still signalled (and still the same
 * eventfd for deassigning, through another fd).
 */
TEST_F(ioeventfd, fd_closed_after_assign)
{
	int fd = dup(self->efd);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, fd, 0, 0));
	close(fd);
	LOAD(self, mmio_writes);
	STOP(self);
	EXPECT_EQ(3ULL, efd_take(self->efd));
	EXPECT_EQ(-EBADF, ioeventfd(&self->vm, MMIO_GPA, 4, fd, DEASSIGN, 0));
	EXPECT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd,
			       DEASSIGN, 0));
}

/*
 * Destroying a VM drops its registrations and their references (the
 * kernel's leak checker runs after the tests); the eventfds live on.
 */
TEST_F(ioeventfd, vm_destroyed_with_registrations)
{
	struct pollfd pfd = { .fd = self->efd, .events = POLLIN };
	struct hvk_vm vm2;
	int fd, i;

	ASSERT_EQ(0, vm_create_with(&vm2, 0));
	fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, ioeventfd(&vm2, MMIO_GPA + 8 * i, 8, fd, 0, 0));
		ASSERT_EQ(0, ioeventfd(&vm2, PORT + i, 1, self->efd, PIO, 0));
	}
	close(fd);
	vm_destroy(&vm2);

	/* This VM's registrations too, after a signal. */
	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd, 0, 0));
	LOAD(self, mmio_writes);
	STOP(self);
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(3ULL, efd_take(self->efd));
}

/*
 * KVM leaves ioeventfds out of its limit of 1000 devices on an I/O bus:
 * more registrations than that work, and each still finds its writes.
 */
#define MANY	1100
TEST_F(ioeventfd, many_registrations)
{
	int i;

	for (i = 0; i < MANY; i++)
		ASSERT_EQ(0, ioeventfd(&self->vm, PORT + 2 - MANY / 2 + i, 1,
				       i == MANY / 2 - 2 ? self->efd :
				       self->efd2, PIO, 0)) TH_LOG("i %d", i);
	LOAD(self, pio_writes);
	EXPECT_EQ(0x5678U, vcpu_run_out(&self->vcpu, PORT, 2));
	EXPECT_EQ(0x12345678U, vcpu_run_out(&self->vcpu, PORT, 4));
	EXPECT_EQ(0x12345678U, vcpu_run_out(&self->vcpu, PORT, 4));
	STOP(self);
	EXPECT_EQ(1ULL, efd_take(self->efd));
	EXPECT_EQ(0ULL, efd_take(self->efd2));
}

/*
 * Registrations change while a vCPU writes: the writes to a registration
 * that stays are all signalled, whatever else comes and goes.
 */
#define LOOPS	5000
struct runner {
	struct hvk_vcpu *vcpu;
	int r;
	uint32_t exit_reason;
	int done;
};

static void *run_vcpu(void *arg)
{
	struct runner *rn = arg;

	rn->r = vcpu_run(rn->vcpu);
	rn->exit_reason = rn->vcpu->run->exit_reason;
	__atomic_store_n(&rn->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F(ioeventfd, changes_while_running)
{
	struct runner rn = { .vcpu = &self->vcpu };
	struct kvm_regs regs;
	pthread_t thread;
	unsigned int i;

	ASSERT_EQ(0, ioeventfd(&self->vm, MMIO_GPA, 4, self->efd, 0, 0));
	ASSERT_EQ(0, ioeventfd(&self->vm, PORT, 1, self->efd, PIO, 0));
	LOAD(self, write_loop);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	regs.rcx = LOOPS;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &regs));
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_vcpu, &rn));
	/* Others come and go, before and after in both arrays, meanwhile. */
	for (i = 0; !__atomic_load_n(&rn.done, __ATOMIC_ACQUIRE); i++) {
		uint64_t gpa = MMIO_GPA + (i % 2 ? 16 : -64) + 8 * (i % 4);
		uint16_t port = PORT + (i % 2 ? 1 : -1) * (1 + i % 4);

		ASSERT_EQ(0, ioeventfd(&self->vm, gpa, 4, self->efd2, 0, 0));
		ASSERT_EQ(0, ioeventfd(&self->vm, port, 1, self->efd2, PIO, 0));
		ASSERT_EQ(0, ioeventfd(&self->vm, gpa, 4, self->efd2,
				       DEASSIGN, 0));
		ASSERT_EQ(0, ioeventfd(&self->vm, port, 1, self->efd2,
				       PIO | DEASSIGN, 0));
	}
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TH_LOG("%u changes while the vCPU ran", 4 * i);
	ASSERT_EQ(0, rn.r);
	ASSERT_EQ((uint32_t)KVM_EXIT_MMIO, rn.exit_reason)
		TH_LOG("exit %s", vm_exit_name(rn.exit_reason));
	EXPECT_EQ((uint64_t)SYNC_GPA, (uint64_t)self->vcpu.run->mmio.phys_addr);
	EXPECT_EQ(2ULL * LOOPS, efd_take(self->efd));
	EXPECT_EQ(0ULL, efd_take(self->efd2));
}

TEST_HARNESS_MAIN
