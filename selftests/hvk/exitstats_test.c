// SPDX-License-Identifier: GPL-2.0
/*
 * hvk's exit statistics (docs/abi.md, "Exit statistics"): per-reason
 * counts and histograms in the vCPU stats file, exact for a guest that
 * does N CPUIDs and M OUTs; the exit_timing switch; the per-VM debugfs
 * files and their removal with the VM; the tracepoints; hvk-stat on a
 * stopped and on a running guest.
 *
 * These statistics are hvk's own: on KVM every test skips (stats_test
 * checks the format, on both).
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vm_util.h"
#include "../../tools/hvk-stat/stats_file.h"

#define HIST_BUCKETS	32
#define DEBUGFS_HVK	"/sys/kernel/debug/hvk"
#define EXIT_TIMING	"/sys/module/hvk/parameters/exit_timing"

/* Every reason, as docs/abi.md lists them. */
static const char *const reasons[] = {
	"other", "cpuid", "hlt", "io", "mmio", "mem_fault", "msr_read",
	"msr_write", "irq", "irq_window", "nmi", "nmi_window", "exception",
	"cr", "dr", "hypercall", "xsetbv", "invd", "shutdown", "pause",
	"entry_failed", "ud",
};
#define NR_REASONS	(sizeof(reasons) / sizeof(reasons[0]))

/*
 * Real mode: M times (N CPUIDs, then an OUT), then HLT.  The loop
 * counters are in SI and DI, which CPUID leaves alone.  From the label
 * cpuid_loop: CPUID three times and an OUT, forever.
 */
#define GUEST_N		5
#define GUEST_M		3
GUEST_CODE_DECLARE(cpuid_out);
extern const uint8_t cpuid_loop[];
asm(GUEST_CODE_BEGIN(cpuid_out, ".code16")
"	mov $" VM_STR(GUEST_M) ", %si\n"
"1:	mov $" VM_STR(GUEST_N) ", %di\n"
"2:	xor %eax, %eax\n"
"	cpuid\n"
"	dec %di\n"
"	jnz 2b\n"
"	outb %al, $0x10\n"
"	dec %si\n"
"	jnz 1b\n"
"	hlt\n"
GUEST_LABEL(cpuid_loop)
"3:	xor %eax, %eax\n"
"	cpuid\n"
"	cpuid\n"
"	cpuid\n"
"	outb %al, $0x10\n"
"	jmp 3b\n"
GUEST_CODE_END(cpuid_out));

static void __run_pass(struct __test_metadata *_metadata,
		       struct hvk_vcpu *vcpu)
{
	int i;

	ASSERT_EQ(0, vcpu_setup_real(vcpu, VM_CODE_GPA));
	for (i = 0; i < GUEST_M; i++)
		vcpu_run_out(vcpu, 0x10, 1);
	vcpu_run_expect(vcpu, KVM_EXIT_HLT);
}
#define run_pass(vcpu) __run_pass(_metadata, vcpu)

/* The vCPU's statistics now. */
static void __read_stats(struct __test_metadata *_metadata,
			 struct hvk_vcpu *vcpu, struct stats_file *s)
{
	int fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, stats_file_read(fd, s));
	close(fd);
}
#define read_stats(vcpu, s) __read_stats(_metadata, vcpu, s)

static uint64_t __stat(struct __test_metadata *_metadata,
		       const struct stats_file *s, const char *name)
{
	const struct kvm_stats_desc *d = stats_file_find(s, name);

	EXPECT_NE(NULL, d) TH_LOG("no statistic %s", name);
	return d ? stats_file_values(s, d)[0] : 0;
}
#define stat_u64(s, name) __stat(_metadata, s, name)

/* Samples in a histogram: the sum of its buckets. */
static uint64_t __hist_sum(struct __test_metadata *_metadata,
			   const struct stats_file *s, const char *name)
{
	const struct kvm_stats_desc *d = stats_file_find(s, name);
	uint64_t sum = 0;
	unsigned int i;

	EXPECT_NE(NULL, d) TH_LOG("no statistic %s", name);
	if (!d)
		return 0;
	for (i = 0; i < d->size; i++)
		sum += stats_file_values(s, d)[i];
	return sum;
}
#define hist_sum(s, name) __hist_sum(_metadata, s, name)

static uint64_t __reason_stat(struct __test_metadata *_metadata,
			      const struct stats_file *s, const char *reason,
			      const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "exit_%s%s", reason, suffix);
	return strstr(suffix, "hist") ? __hist_sum(_metadata, s, name) :
					__stat(_metadata, s, name);
}
#define reason_count(s, r) __reason_stat(_metadata, s, r, "")
#define reason_timed(s, r) __reason_stat(_metadata, s, r, "_cycles_hist")

/* Samples in every histogram: exits that were followed by an entry. */
static uint64_t __all_timed(struct __test_metadata *_metadata,
			    const struct stats_file *s)
{
	uint64_t sum = __hist_sum(_metadata, s, "userspace_cycles_hist");
	unsigned int i;

	for (i = 0; i < NR_REASONS; i++)
		sum += reason_timed(s, reasons[i]);
	return sum;
}
#define all_timed(s) __all_timed(_metadata, s)

FIXTURE(exitstats) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(exitstats)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
	vm_load(&self->vm, VM_CODE_GPA, cpuid_out_start, cpuid_out_end);
}

FIXTURE_TEARDOWN(exitstats)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

#define SKIP_ON_KVM() do {						\
	if (hvk_testing_kvm())						\
		SKIP(return, "hvk's own statistics");			\
} while (0)

/* Three statistics per reason, and the user-space round trips. */
TEST_F(exitstats, descriptors)
{
	static const char *const suffixes[] = {
		"", "_cycles", "_cycles_hist",
	};
	struct stats_file s;
	unsigned int i, j;
	char name[64];

	SKIP_ON_KVM();
	read_stats(&self->vcpu, &s);
	for (i = 0; i < NR_REASONS; i++) {
		for (j = 0; j < 3; j++) {
			const struct kvm_stats_desc *d;
			uint32_t type, unit;

			snprintf(name, sizeof(name), "exit_%s%s", reasons[i],
				 suffixes[j]);
			d = stats_file_find(&s, name);
			ASSERT_NE(NULL, d) TH_LOG("no statistic %s", name);
			type = d->flags & KVM_STATS_TYPE_MASK;
			unit = d->flags & KVM_STATS_UNIT_MASK;
			EXPECT_EQ(j == 2 ? (uint32_t)KVM_STATS_TYPE_LOG_HIST :
				  (uint32_t)KVM_STATS_TYPE_CUMULATIVE, type)
				TH_LOG("%s", name);
			EXPECT_EQ(j ? (uint32_t)KVM_STATS_UNIT_CYCLES :
				  (uint32_t)KVM_STATS_UNIT_NONE, unit)
				TH_LOG("%s", name);
			EXPECT_EQ((uint32_t)KVM_STATS_BASE_POW10,
				  d->flags & KVM_STATS_BASE_MASK);
			EXPECT_EQ(0, d->exponent) TH_LOG("%s", name);
			EXPECT_EQ(j == 2 ? HIST_BUCKETS : 1, d->size)
				TH_LOG("%s", name);
			/* Nothing ran yet. */
			EXPECT_EQ(0ULL, j == 2 ? hist_sum(&s, name) :
				  stat_u64(&s, name)) TH_LOG("%s", name);
		}
	}
	EXPECT_EQ(0ULL, hist_sum(&s, "userspace_cycles_hist"));
	EXPECT_EQ(0ULL, stat_u64(&s, "userspace_cycles"));
	stats_file_free(&s);
}

/*
 * The second pass (code page mapped by the first) exits exactly for
 * N * M CPUIDs, M OUTs and a HLT, plus host interrupts.  Every exit has
 * one reason; every exit followed by an entry is in one histogram: its
 * reason's if handled in the kernel, user space's if KVM_RUN returned.
 */
TEST_F(exitstats, counts_and_histograms)
{
	struct stats_file a, b;
	uint64_t sum = 0, exits, irqs;
	unsigned int i;

	SKIP_ON_KVM();
	run_pass(&self->vcpu);
	read_stats(&self->vcpu, &a);
	run_pass(&self->vcpu);
	read_stats(&self->vcpu, &b);

	EXPECT_EQ((uint64_t)GUEST_N * GUEST_M,
		  reason_count(&b, "cpuid") - reason_count(&a, "cpuid"));
	EXPECT_EQ((uint64_t)GUEST_M,
		  reason_count(&b, "io") - reason_count(&a, "io"));
	EXPECT_EQ(1ULL, reason_count(&b, "hlt") - reason_count(&a, "hlt"));
	exits = stat_u64(&b, "exits") - stat_u64(&a, "exits");
	irqs = reason_count(&b, "irq") - reason_count(&a, "irq");
	EXPECT_EQ(GUEST_N * GUEST_M + GUEST_M + 1ULL + irqs, exits);
	EXPECT_EQ(irqs, stat_u64(&b, "irq_exits") - stat_u64(&a, "irq_exits"));
	EXPECT_EQ(0ULL, reason_count(&b, "mmio"));

	/* CPUIDs are handled in the kernel, OUT and HLT in user space. */
	EXPECT_EQ((uint64_t)GUEST_N * GUEST_M,
		  reason_timed(&b, "cpuid") - reason_timed(&a, "cpuid"));
	EXPECT_EQ(0ULL, reason_timed(&b, "io"));
	EXPECT_EQ(0ULL, reason_timed(&b, "hlt"));
	/* The first pass's HLT, and the M OUTs, then entered again. */
	EXPECT_EQ(GUEST_M + 1ULL,
		  hist_sum(&b, "userspace_cycles_hist") -
		  hist_sum(&a, "userspace_cycles_hist"));
	EXPECT_LE(hist_sum(&b, "userspace_cycles_hist"),
		  stat_u64(&b, "userspace_cycles"));

	for (i = 0; i < NR_REASONS; i++)
		sum += reason_count(&b, reasons[i]);
	EXPECT_EQ(stat_u64(&b, "exits"), sum);
	/* All but the last exit (the HLT) were followed by an entry. */
	EXPECT_EQ(stat_u64(&b, "exits") - 1, all_timed(&b));
	/* A CPUID round trip takes some cycles. */
	EXPECT_LE(reason_timed(&b, "cpuid"), stat_u64(&b, "exit_cpuid_cycles"));
	stats_file_free(&a);
	stats_file_free(&b);
}

/* exit_timing=0: counts go on, histograms stand still. */
TEST_F(exitstats, timing_switch)
{
	struct stats_file a, b, c;
	char old[8];

	SKIP_ON_KVM();
	ASSERT_EQ(0, hvk_read_line(EXIT_TIMING, old, sizeof(old)));
	run_pass(&self->vcpu);
	ASSERT_EQ(0, hvk_write_str(EXIT_TIMING, "0"));
	read_stats(&self->vcpu, &a);
	run_pass(&self->vcpu);
	read_stats(&self->vcpu, &b);
	ASSERT_EQ(0, hvk_write_str(EXIT_TIMING, "1"));
	run_pass(&self->vcpu);
	read_stats(&self->vcpu, &c);
	hvk_write_str(EXIT_TIMING, old);

	EXPECT_EQ((uint64_t)GUEST_N * GUEST_M,
		  reason_count(&b, "cpuid") - reason_count(&a, "cpuid"));
	/* Only the exit timed before the switch: the first pass's HLT. */
	EXPECT_EQ(1ULL, all_timed(&b) - all_timed(&a));
	EXPECT_EQ(0ULL, reason_timed(&b, "cpuid") - reason_timed(&a, "cpuid"));
	/* On again: all but the first exit, which was not timed. */
	EXPECT_EQ(stat_u64(&c, "exits") - stat_u64(&b, "exits") - 1,
		  all_timed(&c) - all_timed(&b));
	EXPECT_EQ((uint64_t)GUEST_N * GUEST_M,
		  reason_timed(&c, "cpuid") - reason_timed(&b, "cpuid"));
	stats_file_free(&a);
	stats_file_free(&b);
	stats_file_free(&c);
}

/* The debugfs directory of this process's only VM, into @dir. */
static int find_vm_dir(char *dir, size_t len)
{
	DIR *d = opendir(DEBUGFS_HVK);
	struct dirent *e;
	char prefix[32];
	int found = 0;

	if (!d)
		return -errno;
	snprintf(prefix, sizeof(prefix), "vm-%d-", gettid());
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		if (snprintf(dir, len, "%s/%s", DEBUGFS_HVK, e->d_name) <
		    (int)len)
			found++;
	}
	closedir(d);
	return found == 1 ? 0 : -ENOENT;
}

/*
 * The VM's directory holds "vm" and "vcpu0", with the stats fds' bytes;
 * it goes with the VM, and a file open then reads -EIO.
 */
TEST_F(exitstats, debugfs)
{
	struct stats_file fd_stats, fs_stats;
	char dir[256], path[300], id[64];
	uint8_t byte;
	int fd, vm_fd;
	struct stat st;

	SKIP_ON_KVM();
	ASSERT_EQ(0, find_vm_dir(dir, sizeof(dir)));
	run_pass(&self->vcpu);

	snprintf(path, sizeof(path), "%s/vcpu0", dir);
	ASSERT_EQ(0, stats_file_read_path(path, &fs_stats));
	read_stats(&self->vcpu, &fd_stats);
	ASSERT_EQ(fd_stats.size, fs_stats.size);
	EXPECT_EQ(0, memcmp(fd_stats.buf, fs_stats.buf, fd_stats.size));
	snprintf(id, sizeof(id), "hvk-%d/vcpu-0", gettid());
	EXPECT_STREQ(id, stats_file_id(&fs_stats));
	EXPECT_EQ(0, stat(path, &st));
	EXPECT_EQ((off_t)fs_stats.size, st.st_size);
	stats_file_free(&fd_stats);
	stats_file_free(&fs_stats);

	snprintf(path, sizeof(path), "%s/vm", dir);
	ASSERT_EQ(0, stats_file_read_path(path, &fs_stats));
	vm_fd = ioctl(self->vm.fd, KVM_GET_STATS_FD, 0);
	ASSERT_LE(0, vm_fd);
	ASSERT_EQ(0, stats_file_read(vm_fd, &fd_stats));
	close(vm_fd);
	ASSERT_EQ(fd_stats.size, fs_stats.size);
	EXPECT_EQ(0, memcmp(fd_stats.buf, fs_stats.buf, fd_stats.size));
	stats_file_free(&fd_stats);
	stats_file_free(&fs_stats);

	/* Open across the VM's end: the VM is freed, the file fails. */
	snprintf(path, sizeof(path), "%s/vcpu0", dir);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
	EXPECT_NE(0, access(dir, F_OK));
	EXPECT_EQ(-1, pread(fd, &byte, 1, 0));
	EXPECT_EQ(EIO, errno);
	close(fd);
	/* For the teardown. */
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
}

/* tracefs, mounted if it is not: 0 and its path in @dir, or -errno. */
static int tracefs(char *dir, size_t len)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char events[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(events, sizeof(events), "%s/events", paths[i]);
		if (!access(events, F_OK)) {
			snprintf(dir, len, "%s", paths[i]);
			return 0;
		}
	}
	if (mount("tracefs", paths[0], "tracefs", 0, NULL))
		return -errno;
	snprintf(dir, len, "%s", paths[0]);
	return 0;
}

/* Lines of the trace buffer holding both @a and @b. */
static int count_trace(const char *trace, const char *a, const char *b)
{
	FILE *f = fopen(trace, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && strstr(line, b))
			n++;
	fclose(f);
	return n;
}

static int trace_set(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return hvk_write_str(path, val);
}

/* The four events exist; hvk_exit names the reasons of a pass's exits. */
TEST_F(exitstats, tracepoints)
{
	static const char *const events[] = {
		"hvk_entry", "hvk_exit", "hvk_userspace_exit", "hvk_inject",
	};
	char dir[128], path[256], trace[160];
	unsigned int i;
	int fd;

	SKIP_ON_KVM();
	ASSERT_EQ(0, tracefs(dir, sizeof(dir)));
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/events/hvk/%s/format", dir,
			 events[i]);
		EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s", path);
	}
	run_pass(&self->vcpu);

	snprintf(trace, sizeof(trace), "%s/trace", dir);
	fd = open(trace, O_WRONLY | O_TRUNC);	/* empties the buffer */
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, trace_set(dir, "events/hvk/hvk_exit/enable", "1"));
	ASSERT_EQ(0, trace_set(dir, "events/hvk/hvk_userspace_exit/enable",
			       "1"));
	run_pass(&self->vcpu);
	trace_set(dir, "events/hvk/hvk_exit/enable", "0");
	trace_set(dir, "events/hvk/hvk_userspace_exit/enable", "0");

	EXPECT_EQ(GUEST_N * GUEST_M,
		  count_trace(trace, "hvk_exit:", "reason cpuid "));
	EXPECT_EQ(GUEST_M, count_trace(trace, "hvk_exit:", "reason io "));
	EXPECT_EQ(1, count_trace(trace, "hvk_exit:", "reason hlt "));
	/* CPUID goes back into the guest, OUT and HLT to user space. */
	EXPECT_EQ(GUEST_N * GUEST_M,
		  count_trace(trace, "reason cpuid ", "ret 1"));
	EXPECT_EQ(GUEST_M + 1, count_trace(trace, "hvk_userspace_exit:",
					   "ret 0"));
	fd = open(trace, O_WRONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
}

/* hvk-stat next to this test: /selftests/hvk-stat in the test machine. */
static int hvk_stat_path(char *buf, size_t len)
{
	const char *env = getenv("HVK_STAT");
	char exe[256];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(buf, len, "%s/../hvk-stat", exe);
	return access(buf, X_OK) ? -errno : 0;
}

/* Run hvk-stat with @args; its output (malloc'd) or NULL. */
static char *run_hvk_stat(const char *tool, const char *args)
{
	char cmd[512], *out;
	size_t len = 0, n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s", tool, args);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	out = malloc(65536);
	if (out) {
		while ((n = fread(out + len, 1, 65535 - len, p)) > 0)
			len += n;
		out[len] = '\0';
	}
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The number after "key": in the object of reason @reason, or -1. */
static double json_field(const char *json, const char *reason,
			 const char *key)
{
	char want[64];
	const char *p, *end;

	snprintf(want, sizeof(want), "{\"reason\": \"%s\"", reason);
	p = strstr(json, want);
	if (!p)
		return -1;
	end = strchr(p, '}');
	snprintf(want, sizeof(want), "\"%s\": ", key);
	p = strstr(p, want);
	if (!p || p > end)
		return -1;
	return strtod(p + strlen(want), NULL);
}

/* --once --json on a stopped guest: exact counts. */
TEST_F(exitstats, hvk_stat_once_json)
{
	char tool[300], dir[256], args[300], *out;

	SKIP_ON_KVM();
	if (hvk_stat_path(tool, sizeof(tool)))
		SKIP(return, "no hvk-stat next to the test");
	ASSERT_EQ(0, find_vm_dir(dir, sizeof(dir)));
	run_pass(&self->vcpu);
	run_pass(&self->vcpu);

	snprintf(args, sizeof(args), "--once --json --interval 0 --vm %s",
		 strrchr(dir, '/') + 1);
	out = run_hvk_stat(tool, args);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, strrchr(dir, '/') + 1)) TH_LOG("%s", out);
	EXPECT_EQ(2.0 * GUEST_N * GUEST_M, json_field(out, "cpuid", "count"))
		TH_LOG("%s", out);
	EXPECT_EQ(2.0 * GUEST_N * GUEST_M, json_field(out, "cpuid", "timed"));
	EXPECT_LT(0, json_field(out, "cpuid", "p50"));
	EXPECT_LE(json_field(out, "cpuid", "p50"),
		  json_field(out, "cpuid", "p99"));
	EXPECT_EQ(2.0 * GUEST_M, json_field(out, "io", "count"));
	EXPECT_EQ(2.0, json_field(out, "hlt", "count"));
	free(out);

	/* The table and the histograms, by pid. */
	snprintf(args, sizeof(args), "--once --hist --interval 0 --vm %d",
		 gettid());
	out = run_hvk_stat(tool, args);
	ASSERT_NE(NULL, out);
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "cpuid"));
	EXPECT_NE(NULL, strstr(out, "p99"));
	EXPECT_NE(NULL, strstr(out, "cpuid (cycles):"));
	free(out);
}

struct runner {
	struct hvk_vcpu *vcpu;
	volatile bool stop;
	int error;
};

/* Run the CPUID loop until told to stop; it exits at each OUT. */
static void *run_loop(void *arg)
{
	struct runner *w = arg;
	uint32_t val;

	while (!w->stop) {
		if (vcpu_run(w->vcpu) ||
		    vcpu_out_value(w->vcpu, 0x10, 1, &val)) {
			w->error = 1;
			break;
		}
	}
	return NULL;
}

/* A live guest: hvk-stat sees its CPUIDs at a rate. */
TEST_F(exitstats, hvk_stat_live)
{
	char tool[300], dir[256], args[300], *out;
	struct runner w = { .vcpu = &self->vcpu };
	pthread_t thread;

	SKIP_ON_KVM();
	if (hvk_stat_path(tool, sizeof(tool)))
		SKIP(return, "no hvk-stat next to the test");
	ASSERT_EQ(0, find_vm_dir(dir, sizeof(dir)));
	ASSERT_EQ(0, vcpu_setup_real(&self->vcpu, VM_CODE_GPA));
	ASSERT_EQ(0, vcpu_set_entry(&self->vcpu, cpuid_loop - cpuid_out_start,
				    VM_STACK_TOP));
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_loop, &w));

	snprintf(args, sizeof(args), "--once --json --interval 0.5 --vm %s",
		 strrchr(dir, '/') + 1);
	out = run_hvk_stat(tool, args);
	w.stop = true;
	pthread_join(thread, NULL);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, w.error);
	EXPECT_LT(0, json_field(out, "cpuid", "rate")) TH_LOG("%s", out);
	EXPECT_LT(0, json_field(out, "io", "rate"));
	EXPECT_LT(0, json_field(out, "userspace", "count"));
	free(out);
}

TEST_HARNESS_MAIN
