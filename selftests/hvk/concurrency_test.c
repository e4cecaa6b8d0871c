// SPDX-License-Identifier: GPL-2.0
/*
 * Several guests at once: VMs in parallel threads and in parallel
 * processes, and the vCPUs of one VM each run by its own thread.  Every
 * guest counts up from its own seed and OUTs each value, so a worker that
 * sees another guest's exit or state notices.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#define NR_WORKERS	4
#define ITERATIONS	100
#define COUNT_PORT	0x90

/*
 * Real mode.  In: EAX seed, ECX iterations, DX port, BX where to store.
 * OUT each value of EAX to DX and store it at DS:BX, then HLT.
 */
GUEST_CODE_DECLARE(count);
asm(GUEST_CODE_BEGIN(count, ".code16")
"1:	outl %eax, %dx\n"
"	movl %eax, (%bx)\n"
"	incl %eax\n"
"	loopl 1b\n"
"	hlt\n"
GUEST_CODE_END(count));

/* Each guest's seed: distinct, and with bits set in every byte. */
static uint32_t seed_of(int id)
{
	return 0x01010000 * (id + 1) + 0x100 * id;
}

/*
 * Run @vcpu through the count guest to its HLT.  0, or a negative errno or
 * a positive iteration number at which things went wrong.
 */
static int run_count(struct hvk_vcpu *vcpu, uint32_t seed, uint16_t port,
		     uint64_t store_gpa)
{
	struct kvm_regs regs = {
		.rax = seed,
		.rcx = ITERATIONS,
		.rdx = port,
		.rbx = store_gpa,
		.rip = 0,
		.rflags = 0x2,
	};
	uint32_t val;
	int i, r;

	r = vcpu_setup_real(vcpu, VM_CODE_GPA);
	if (r)
		return r;
	r = vcpu_set_regs(vcpu, &regs);
	if (r)
		return r;
	for (i = 0; i < ITERATIONS; i++) {
		r = vcpu_run(vcpu);
		if (r) {
			vm_err("vcpu %d: KVM_RUN: %s", vcpu->id, strerror(-r));
			return r;
		}
		if (vcpu_out_value(vcpu, port, 4, &val))
			return i + 1;
		if (val != seed + i) {
			vm_err("vcpu %d: got %#x, want %#x", vcpu->id, val,
			       seed + i);
			return i + 1;
		}
	}
	r = vcpu_run(vcpu);
	if (r)
		return r;
	if (vcpu->run->exit_reason != KVM_EXIT_HLT) {
		vm_err("vcpu %d: exit %s, want HLT", vcpu->id,
		       vm_exit_name(vcpu->run->exit_reason));
		return ITERATIONS + 1;
	}
	r = vcpu_get_regs(vcpu, &regs);
	if (r)
		return r;
	if (regs.rax != seed + ITERATIONS || regs.rcx != 0) {
		vm_err("vcpu %d: rax %#llx rcx %#llx at HLT", vcpu->id,
		       regs.rax, regs.rcx);
		return ITERATIONS + 2;
	}
	return 0;
}

/* A whole VM with one vCPU: create, run, check memory, destroy. */
static int one_vm(int id)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	uint32_t seed = seed_of(id);
	int r;

	r = vm_create(&vm);
	if (r)
		return r;
	r = vcpu_create(&vm, &vcpu, 0);
	if (r)
		goto out_vm;
	vm_load(&vm, VM_CODE_GPA, count_start, count_end);
	r = run_count(&vcpu, seed, COUNT_PORT, VM_DATA_GPA);
	if (!r && *(uint32_t *)vm_gpa(&vm, VM_DATA_GPA) !=
		  seed + ITERATIONS - 1) {
		vm_err("vm %d: memory %#x", id,
		       *(uint32_t *)vm_gpa(&vm, VM_DATA_GPA));
		r = ITERATIONS + 3;
	}
	vcpu_destroy(&vcpu);
out_vm:
	vm_destroy(&vm);
	return r;
}

struct worker {
	pthread_t thread;
	int id;
	int result;
	struct hvk_vcpu *vcpu;
	pthread_barrier_t *start;
};

static void *vm_thread(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	w->result = one_vm(w->id);
	return NULL;
}

TEST(vms_in_threads)
{
	struct worker w[NR_WORKERS];
	pthread_barrier_t start;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, NR_WORKERS));
	for (i = 0; i < NR_WORKERS; i++) {
		w[i] = (struct worker){ .id = i, .result = -1, .start = &start };
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, vm_thread,
					    &w[i]));
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
		EXPECT_EQ(0, w[i].result) TH_LOG("thread %d", i);
	}
	pthread_barrier_destroy(&start);
}

TEST(vms_in_processes)
{
	pid_t pid[NR_WORKERS];
	int i, status, r;

	for (i = 0; i < NR_WORKERS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			r = one_vm(i);
			/* 0 passes; anything else maps to a non-zero status. */
			_exit(r == 0 ? 0 : r < 0 ? 100 + (-r % 100) : 1 +
			      r % 99);
		}
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("process %d", i);
	}
}

static void *vcpu_thread(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	/* Each vCPU its own port and its own slot in the data page. */
	w->result = run_count(w->vcpu, seed_of(w->id), COUNT_PORT + w->id,
			      VM_DATA_GPA + 4 * w->id);
	return NULL;
}

/* One VM, NR_WORKERS vCPUs created here and run by their own threads. */
TEST(vcpus_in_threads)
{
	struct hvk_vcpu vcpu[NR_WORKERS];
	struct worker w[NR_WORKERS];
	pthread_barrier_t start;
	struct hvk_vm vm;
	int i;

	ASSERT_EQ(0, vm_create(&vm));
	vm_load(&vm, VM_CODE_GPA, count_start, count_end);
	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, vcpu_create(&vm, &vcpu[i], i));
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, NR_WORKERS));
	for (i = 0; i < NR_WORKERS; i++) {
		w[i] = (struct worker){
			.id = i, .result = -1, .vcpu = &vcpu[i],
			.start = &start,
		};
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, vcpu_thread,
					    &w[i]));
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(0, pthread_join(w[i].thread, NULL));
		EXPECT_EQ(0, w[i].result) TH_LOG("vcpu %d", i);
		EXPECT_EQ(seed_of(i) + ITERATIONS - 1,
			  *(uint32_t *)vm_gpa(&vm, VM_DATA_GPA + 4 * i))
			TH_LOG("vcpu %d", i);
	}
	pthread_barrier_destroy(&start);
	for (i = 0; i < NR_WORKERS; i++)
		vcpu_destroy(&vcpu[i]);
	vm_destroy(&vm);
}

/*
 * One vCPU run from different threads in turn (api.rst: KVM_RUN may come
 * from any thread of the process, one at a time).
 */
struct handoff {
	struct hvk_vcpu *vcpu;
	uint32_t val;
	int result;
};

static void *run_once(void *arg)
{
	struct handoff *h = arg;

	h->result = vcpu_run(h->vcpu);
	if (!h->result)
		h->result = vcpu_out_value(h->vcpu, COUNT_PORT, 4, &h->val);
	return NULL;
}

TEST(vcpu_moves_between_threads)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
	struct kvm_regs regs = {
		.rax = 0x5000, .rcx = 10, .rdx = COUNT_PORT,
		.rbx = VM_DATA_GPA, .rflags = 0x2,
	};
	struct handoff h = { .vcpu = &vcpu };
	pthread_t t;
	int i;

	ASSERT_EQ(0, vm_create(&vm));
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	vm_load(&vm, VM_CODE_GPA, count_start, count_end);
	ASSERT_EQ(0, vcpu_setup_real(&vcpu, VM_CODE_GPA));
	ASSERT_EQ(0, vcpu_set_regs(&vcpu, &regs));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, pthread_create(&t, NULL, run_once, &h));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, h.result) TH_LOG("run %d", i);
		EXPECT_EQ(0x5000U + i, h.val);
	}
	vcpu_run_expect(&vcpu, KVM_EXIT_HLT);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
}

TEST_HARNESS_MAIN
