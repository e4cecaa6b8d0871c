// SPDX-License-Identifier: GPL-2.0
/*
 * What second-level paging costs: a 1 GiB guest (one slot of anonymous
 * memory) writes one byte in every 4 KiB page, once with the host memory
 * in 4 KiB pages (MADV_NOHUGEPAGE) and once in 2 MiB pages (MADV_HUGEPAGE).
 * Figures, not a test; on the device in HVK_DEV (default /dev/hvk):
 *
 *   fault_in_tsc          guest TSC ticks for the whole loop (rdtsc in the
 *                         guest; under `run --bench` one tick per emulated
 *                         instruction, so deterministic)
 *   sec_page_tables_kib_per_gib
 *                         growth of "SecPageTables" in /proc/meminfo, where
 *                         the kernel accounts second-level page tables, per
 *                         GiB of guest memory
 *   host_thp_kib          AnonHugePages of the guest memory afterwards: what
 *                         backing the guest really got
 *   pages_4k, pages_2m    the VM's statistics of the same names, where the
 *                         device offers KVM_GET_STATS_FD
 *
 * Each figure is one line "mmu_bench backing=4k|2m NAME=VALUE".
 * The guest maps its memory 1:1 with 2 MiB pages.
 *
 *   mmu_bench [4k|2m]...   (default: both)
 */
#include <time.h>

#include "vm_util.h"
#include "kvm_stats.h"

#define GUEST_SIZE	(1ULL << 30)
#define RESULT_GPA	VM_DATA_GPA
#define DONE_PORT	0x90

/*
 * Long mode: rdtsc, write a zero to the last byte of every page, rdtsc.
 * A plain write, not a read-modify-write: the emulated CPUs report the
 * read of an RMW as a read fault, for which KVM maps the (huge) zero page
 * and then has to break it up into 4 KiB copies on the write.  The last
 * byte is zero and unused in every page this guest's code, tables, stack
 * and result occupy.
 */
GUEST_CODE_DECLARE(touch_all);
asm(GUEST_CODE_BEGIN(touch_all, ".code64")
"	rdtsc\n"
"	shlq $32, %rdx\n"
"	orq %rdx, %rax\n"
"	movq %rax, %r8\n"
"	xorl %edi, %edi\n"
"	movq $(" VM_STR(GUEST_SIZE) " / " VM_STR(VM_PAGE_SIZE) "), %rcx\n"
"1:	movb $0, " VM_STR(VM_PAGE_SIZE) " - 1(%rdi)\n"
"	addq $" VM_STR(VM_PAGE_SIZE) ", %rdi\n"
"	decq %rcx\n"
"	jnz 1b\n"
"	rdtsc\n"
"	shlq $32, %rdx\n"
"	orq %rdx, %rax\n"
"	subq %r8, %rax\n"
"	movq %rax, " VM_STR(RESULT_GPA) "\n"
"	outb %al, $" VM_STR(DONE_PORT) "\n"
"	hlt\n"
GUEST_CODE_END(touch_all));

/* A /proc/meminfo field in KiB, or -1. */
static long meminfo_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			kib = atol(line + len + 1);
			break;
		}
	}
	fclose(f);
	return kib;
}

static void figure(const char *backing, const char *name, long long val)
{
	printf("mmu_bench backing=%s %s=%lld\n", backing, name, val);
	fflush(stdout);
}

/* The page directory 1:1 over the whole guest with 2 MiB pages. */
static void map_guest(struct hvk_vm *vm)
{
	uint64_t *pd = vm_gpa(vm, VM_PD_GPA);
	uint64_t gpa;

	for (gpa = 0; gpa < GUEST_SIZE; gpa += VM_LARGE_PAGE_SIZE)
		pd[gpa >> 21] = gpa | PTE_P | PTE_RW | PTE_PS;
}

static int bench(const char *backing)
{
	bool huge = !strcmp(backing, "2m");
	size_t map_size = GUEST_SIZE + VM_LARGE_PAGE_SIZE;
	struct hvk_vcpu vcpu;
	struct hvk_vm vm;
	long sec_before, sec_after;
	uint64_t stat;
	uint32_t val;
	uint8_t *raw, *mem;
	int r;

	raw = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* 2 MiB aligned, so that the host can back it with huge pages. */
	mem = (uint8_t *)(((uintptr_t)raw + VM_LARGE_PAGE_SIZE - 1) &
			  ~(uintptr_t)(VM_LARGE_PAGE_SIZE - 1));
	if (madvise(mem, GUEST_SIZE, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		perror("madvise");
		munmap(raw, map_size);
		return 1;
	}

	sec_before = meminfo_kib("SecPageTables");
	r = vm_create_with(&vm, 0);
	if (r)
		goto out_unmap;
	r = vm_set_slot(&vm, 0, 0, 0, GUEST_SIZE, mem);
	if (r)
		goto out_vm;
	vm.mem = mem;	/* for vm_gpa(); unmapped here, not by vm_destroy() */
	r = vcpu_create(&vm, &vcpu, 0);
	if (r)
		goto out_vm;
	vm_load(&vm, VM_CODE_GPA, touch_all_start, touch_all_end);
	r = vcpu_setup_long(&vcpu, VM_CODE_GPA);
	if (r)
		goto out_vcpu;
	map_guest(&vm);

	r = vcpu_run(&vcpu);
	if (!r)
		r = vcpu_out_value(&vcpu, DONE_PORT, 1, &val);
	if (r) {
		fprintf(stderr, "mmu_bench: guest did not finish: %s\n",
			r < 0 ? strerror(-r) : "wrong exit");
		r = 1;
		goto out_vcpu;
	}
	sec_after = meminfo_kib("SecPageTables");

	figure(backing, "fault_in_tsc",
	       (long long)*(uint64_t *)vm_gpa(&vm, RESULT_GPA));
	if (sec_before >= 0 && sec_after >= 0)
		figure(backing, "sec_page_tables_kib_per_gib",
		       (sec_after - sec_before) / (long)(GUEST_SIZE >> 30));
	figure(backing, "host_thp_kib", hvk_anon_huge_kib(mem));
	if (!kvm_stat(vm.fd, "pages_4k", &stat))
		figure(backing, "pages_4k", (long long)stat);
	if (!kvm_stat(vm.fd, "pages_2m", &stat))
		figure(backing, "pages_2m", (long long)stat);
	r = 0;
out_vcpu:
	vcpu_destroy(&vcpu);
out_vm:
	vm.mem = NULL;
	vm_destroy(&vm);
out_unmap:
	munmap(raw, map_size);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "4k", "2m" };
	struct timespec settle = { .tv_sec = 1 };
	const char *const *which = all;
	int i, n = 2, failed = 0;

	if (argc > 1) {
		which = (const char *const *)argv + 1;
		n = argc - 1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(which[i], "4k") && strcmp(which[i], "2m")) {
			fprintf(stderr, "usage: mmu_bench [4k|2m]...\n");
			return 2;
		}
		failed |= bench(which[i]);
		/* Let the last VM's tables go before the next baseline. */
		nanosleep(&settle, NULL);
	}
	return failed;
}
