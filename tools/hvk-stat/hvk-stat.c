// SPDX-License-Identifier: GPL-2.0
/*
 * hvk-stat: hvk's exit statistics per reason, live, for every VM or one.
 *
 * It reads /sys/kernel/debug/hvk/vm-<pid>-<n>/vcpu<id>, which hold what a
 * vCPU's KVM_GET_STATS_FD reads (docs/abi.md), adds the vCPUs of each VM
 * up and shows per exit reason: count, rate over the last interval, and the
 * mean and the 50th, 90th and 99th percentiles of the exit-to-entry time in
 * TSC cycles.  Percentiles come from the log2 histograms: the bucket that
 * holds the rank is found, and the value interpolated linearly inside it,
 * as if its samples were spread evenly; the error is below the bucket's
 * width (a factor of 2).  The mean is exact (the sum of cycles over the
 * timed exits).  The row "userspace" is the round trips through user space
 * (VM exit to the next VM entry when KVM_RUN returned in between).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats_file.h"

#define MAX_REASONS	64
#define MAX_BUCKETS	40
#define MAX_VMS		64
#define NAME_LEN	64

struct reason {
	char name[NAME_LEN];
	uint64_t count;		/* exits (round trips for "userspace") */
	uint64_t cycles;	/* sum over the timed ones */
	uint64_t hist[MAX_BUCKETS];
	unsigned int buckets;
};

struct vm {
	char name[NAME_LEN];
	unsigned int vcpus;
	uint64_t exits;
	struct reason r[MAX_REASONS];
	unsigned int nr;
};

struct sample {
	struct vm vms[MAX_VMS];
	unsigned int n;
	double time;		/* CLOCK_MONOTONIC, seconds */
};

static struct {
	const char *root;
	const char *vm;
	double interval;
	bool once, json, hist, all;
	long count;
} opt = {
	.root = "/sys/kernel/debug/hvk",
	.interval = 1.0,
	.count = -1,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct reason *vm_reason(struct vm *vm, const char *name)
{
	unsigned int i;

	for (i = 0; i < vm->nr; i++)
		if (!strcmp(vm->r[i].name, name))
			return &vm->r[i];
	if (vm->nr == MAX_REASONS)
		return NULL;
	memset(&vm->r[vm->nr], 0, sizeof(vm->r[0]));
	snprintf(vm->r[vm->nr].name, NAME_LEN, "%s", name);
	return &vm->r[vm->nr++];
}

static uint64_t stat_u64(const struct stats_file *s, const char *name)
{
	const struct kvm_stats_desc *d = stats_file_find(s, name);

	return d ? stats_file_values(s, d)[0] : 0;
}

/* Add a histogram (and its sum of cycles) to @r. */
static void add_hist(struct reason *r, const struct stats_file *s,
		     const struct kvm_stats_desc *hd, uint64_t cycles)
{
	const uint64_t *v = stats_file_values(s, hd);
	unsigned int i, n = hd->size < MAX_BUCKETS ? hd->size : MAX_BUCKETS;

	for (i = 0; i < n; i++)
		r->hist[i] += v[i];
	if (n > r->buckets)
		r->buckets = n;
	r->cycles += cycles;
}

/*
 * One vCPU's file: every "exit_<reason>" counter that has an
 * "exit_<reason>_cycles_hist" is a reason; so found, a future reason
 * needs no change here.
 */
static void add_vcpu(struct vm *vm, const struct stats_file *s)
{
	char name[NAME_LEN + 32];
	unsigned int i;

	vm->vcpus++;
	vm->exits += stat_u64(s, "exits");
	for (i = 0; i < s->h.num_desc; i++) {
		const struct kvm_stats_desc *d = stats_file_desc(s, i);
		const struct kvm_stats_desc *hd;
		struct reason *r;

		if (strncmp(d->name, "exit_", 5) ||
		    (d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE)
			continue;
		snprintf(name, sizeof(name), "%s_cycles_hist", d->name);
		hd = stats_file_find(s, name);
		if (!hd || (hd->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_LOG_HIST)
			continue;
		r = vm_reason(vm, d->name + 5);
		if (!r)
			continue;
		r->count += stats_file_values(s, d)[0];
		snprintf(name, sizeof(name), "%s_cycles", d->name);
		add_hist(r, s, hd, stat_u64(s, name));
	}
	/* User-space round trips: one per sample of their histogram. */
	for (i = 0; i < s->h.num_desc; i++) {
		const struct kvm_stats_desc *d = stats_file_desc(s, i);
		struct reason *r;
		unsigned int b;

		if (strcmp(d->name, "userspace_cycles_hist"))
			continue;
		r = vm_reason(vm, "userspace");
		if (!r)
			break;
		for (b = 0; b < d->size; b++)
			r->count += stats_file_values(s, d)[b];
		add_hist(r, s, d, stat_u64(s, "userspace_cycles"));
	}
}

static bool vm_selected(const char *name)
{
	size_t n;

	if (strncmp(name, "vm-", 3))
		return false;
	if (!opt.vm || !strcmp(opt.vm, name))
		return true;
	/* A pid selects every VM of that process: vm-<pid>-<n>. */
	n = strlen(opt.vm);
	return !strncmp(name + 3, opt.vm, n) && name[3 + n] == '-';
}

static int take_sample(struct sample *smp)
{
	DIR *root = opendir(opt.root), *dir;
	struct dirent *e, *f;
	char path[512];

	if (!root) {
		fprintf(stderr, "hvk-stat: %s: %s (is hvk loaded, debugfs mounted, are you root?)\n",
			opt.root, strerror(errno));
		return -1;
	}
	smp->n = 0;
	smp->time = now();
	while ((e = readdir(root)) && smp->n < MAX_VMS) {
		struct vm *vm = &smp->vms[smp->n];

		if (!vm_selected(e->d_name) || strlen(e->d_name) >= NAME_LEN)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", opt.root,
			     e->d_name) >= (int)sizeof(path))
			continue;
		dir = opendir(path);
		if (!dir)
			continue;	/* the VM just went away */
		memset(vm, 0, sizeof(*vm));
		strcpy(vm->name, e->d_name);	/* fits: checked above */
		while ((f = readdir(dir))) {
			struct stats_file s;

			if (strncmp(f->d_name, "vcpu", 4))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s/%s", opt.root,
				     e->d_name, f->d_name) >= (int)sizeof(path) ||
			    stats_file_read_path(path, &s))
				continue;
			add_vcpu(vm, &s);
			stats_file_free(&s);
		}
		closedir(dir);
		smp->n++;
	}
	closedir(root);
	return 0;
}

static uint64_t hist_total(const struct reason *r)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < r->buckets; i++)
		t += r->hist[i];
	return t;
}

/* Bucket 0 holds 0; bucket i holds [2^(i-1), 2^i); the last, all above. */
static double bucket_lo(unsigned int i)
{
	return i ? ldexp(1, i - 1) : 0;
}

static double bucket_hi(unsigned int i)
{
	return i ? ldexp(1, i) : 0;
}

/* The @p quantile (0 < p <= 1) of @r's histogram; NAN when empty. */
static double percentile(const struct reason *r, double p)
{
	uint64_t total = hist_total(r), cum = 0;
	double rank;
	unsigned int i;

	if (!total)
		return NAN;
	rank = ceil(p * total);
	for (i = 0; i < r->buckets; i++) {
		if (!r->hist[i] || cum + r->hist[i] < rank) {
			cum += r->hist[i];
			continue;
		}
		/* The last bucket has no upper bound: its lower one. */
		if (i == r->buckets - 1)
			return bucket_lo(i);
		return bucket_lo(i) + (bucket_hi(i) - bucket_lo(i)) *
		       (rank - cum - 0.5) / r->hist[i];
	}
	return bucket_lo(r->buckets - 1);
}

static double mean(const struct reason *r)
{
	uint64_t total = hist_total(r);

	return total ? (double)r->cycles / total : NAN;
}

static const struct reason *find_prev(const struct sample *prev,
				      const struct vm *vm, const char *reason)
{
	unsigned int i, j;

	if (!prev)
		return NULL;
	for (i = 0; i < prev->n; i++) {
		if (strcmp(prev->vms[i].name, vm->name))
			continue;
		for (j = 0; j < prev->vms[i].nr; j++)
			if (!strcmp(prev->vms[i].r[j].name, reason))
				return &prev->vms[i].r[j];
	}
	return NULL;
}

static double rate(const struct sample *prev, const struct sample *cur,
		   const struct vm *vm, const struct reason *r)
{
	const struct reason *p = find_prev(prev, vm, r->name);
	double dt = prev ? cur->time - prev->time : 0;

	if (dt <= 0)
		return 0;
	return (r->count - (p ? p->count : 0)) / dt;
}

/* Rows by count, most frequent first; "userspace" last. */
static int cmp_reason(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;
	bool ux = !strcmp(x->name, "userspace"), uy = !strcmp(y->name, "userspace");

	if (ux != uy)
		return ux - uy;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_cycles(double v)
{
	if (isnan(v))
		printf(" %10s", "-");
	else
		printf(" %10.0f", v);
}

static void print_hist(const struct reason *r)
{
	uint64_t max = 0;
	unsigned int i, first = MAX_BUCKETS, last = 0;

	for (i = 0; i < r->buckets; i++) {
		if (!r->hist[i])
			continue;
		if (first == MAX_BUCKETS)
			first = i;
		last = i;
		if (r->hist[i] > max)
			max = r->hist[i];
	}
	if (!max)
		return;
	printf("  %s (cycles):\n", r->name);
	for (i = first; i <= last; i++) {
		int bar = (int)((r->hist[i] * 40 + max - 1) / max);

		if (i == r->buckets - 1)
			printf("    %11.0f -     inf", bucket_lo(i));
		else if (!i)
			printf("    %11d          ", 0);
		else
			printf("    %11.0f - %7.0f", bucket_lo(i), bucket_hi(i) - 1);
		printf(" %10" PRIu64 " %.*s\n", r->hist[i], bar,
		       "########################################");
	}
}

static void print_table(const struct sample *prev, struct sample *cur)
{
	unsigned int i, j;

	for (i = 0; i < cur->n; i++) {
		struct vm *vm = &cur->vms[i];

		qsort(vm->r, vm->nr, sizeof(vm->r[0]), cmp_reason);
		printf("%s: %u vCPU%s, %" PRIu64 " exits\n", vm->name,
		       vm->vcpus, vm->vcpus == 1 ? "" : "s", vm->exits);
		printf("  %-14s %12s %10s %10s %10s %10s %10s\n", "reason",
		       "count", "rate/s", "mean", "p50", "p90", "p99");
		for (j = 0; j < vm->nr; j++) {
			const struct reason *r = &vm->r[j];

			if (!r->count && !opt.all)
				continue;
			printf("  %-14s %12" PRIu64 " %10.0f", r->name,
			       r->count, rate(prev, cur, vm, r));
			print_cycles(mean(r));
			print_cycles(percentile(r, 0.50));
			print_cycles(percentile(r, 0.90));
			print_cycles(percentile(r, 0.99));
			printf("\n");
		}
		if (opt.hist)
			for (j = 0; j < vm->nr; j++)
				print_hist(&vm->r[j]);
		printf("\n");
	}
	if (!cur->n)
		printf("no hvk VM%s%s\n", opt.vm ? " matches " : "",
		       opt.vm ? opt.vm : "");
}

static void json_number(const char *key, double v)
{
	if (isnan(v))
		printf(", \"%s\": null", key);
	else
		printf(", \"%s\": %.1f", key, v);
}

/* One line of JSON per sample. */
static void print_json(const struct sample *prev, struct sample *cur)
{
	unsigned int i, j, b, n;

	printf("{\"interval\": %.3f, \"vms\": [",
	       prev ? cur->time - prev->time : 0.0);
	for (i = 0; i < cur->n; i++) {
		struct vm *vm = &cur->vms[i];

		qsort(vm->r, vm->nr, sizeof(vm->r[0]), cmp_reason);
		printf("%s{\"name\": \"%s\", \"vcpus\": %u, \"exits\": %" PRIu64
		       ", \"reasons\": [", i ? ", " : "", vm->name, vm->vcpus,
		       vm->exits);
		for (j = 0, n = 0; j < vm->nr; j++) {
			const struct reason *r = &vm->r[j];

			if (!r->count && !opt.all)
				continue;
			printf("%s{\"reason\": \"%s\", \"count\": %" PRIu64,
			       n++ ? ", " : "", r->name, r->count);
			printf(", \"timed\": %" PRIu64 ", \"cycles\": %" PRIu64,
			       hist_total(r), r->cycles);
			json_number("rate", rate(prev, cur, vm, r));
			json_number("mean", mean(r));
			json_number("p50", percentile(r, 0.50));
			json_number("p90", percentile(r, 0.90));
			json_number("p99", percentile(r, 0.99));
			printf(", \"hist\": [");
			for (b = 0; b < r->buckets; b++)
				printf("%s%" PRIu64, b ? ", " : "", r->hist[b]);
			printf("]}");
		}
		printf("]}");
	}
	printf("]}\n");
	fflush(stdout);
}

static void sleep_for(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s };

	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: hvk-stat [options]\n"
"  -v, --vm NAME       one VM: vm-<pid>-<n>, or a pid for all its VMs\n"
"  -i, --interval SEC  refresh interval (default 1; with --once, the\n"
"                      time over which rates are measured, 0 for none)\n"
"  -1, --once          print once and exit\n"
"  -n, --count N       print N times and exit\n"
"  -j, --json          one JSON object per refresh, one per line\n"
"  -H, --hist          the histograms too\n"
"  -a, --all           reasons with no exits too\n"
"  -d, --debugfs DIR   hvk's debugfs directory (default %s)\n"
"Times are TSC cycles from a VM exit to the next VM entry; p50/p90/p99\n"
"are estimated from log2 histograms (see docs/abi.md).\n", opt.root);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, '1' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "hist", no_argument, NULL, 'H' },
		{ "all", no_argument, NULL, 'a' },
		{ "debugfs", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct sample samples[2];
	struct sample *prev = NULL, *cur;
	bool tty = isatty(STDOUT_FILENO);
	char *end;
	long n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "v:i:1n:jHad:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'v':
			opt.vm = optarg;
			break;
		case 'i':
			opt.interval = strtod(optarg, &end);
			if (*end || opt.interval < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case '1':
			opt.once = true;
			break;
		case 'n':
			opt.count = strtol(optarg, &end, 10);
			if (*end || opt.count < 1) {
				usage(stderr);
				return 2;
			}
			break;
		case 'j':
			opt.json = true;
			break;
		case 'H':
			opt.hist = true;
			break;
		case 'a':
			opt.all = true;
			break;
		case 'd':
			opt.root = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (opt.once)
		opt.count = 1;

	/* With --once, a first sample an interval earlier gives the rates. */
	if (opt.once && opt.interval > 0) {
		if (take_sample(&samples[1]))
			return 1;
		prev = &samples[1];
		sleep_for(opt.interval);
	}
	for (;;) {
		cur = &samples[prev == &samples[0]];
		if (take_sample(cur))
			return 1;
		if (opt.json) {
			print_json(prev, cur);
		} else {
			/* Top-like: home and clear, on a terminal. */
			if (tty && !opt.once && opt.count != 1)
				printf("\033[H\033[2J");
			print_table(prev, cur);
			fflush(stdout);
		}
		prev = cur;
		if (opt.count > 0 && ++n >= opt.count)
			break;
		sleep_for(opt.interval);
	}
	return 0;
}
