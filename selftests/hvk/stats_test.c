// SPDX-License-Identifier: GPL-2.0
/*
 * Binary statistics (KVM_GET_STATS_FD on VM and vCPU fds), checked strictly
 * against the layout of Documentation/virt/kvm/api.rst: header, id string,
 * descriptors and data, read at any offset and in any chunks; the fd's
 * lifetime and mode; and counters that follow a small guest's exits.
 *
 * Written against the KVM ABI, so that it passes on /dev/kvm too.  Where
 * KVM counts more (it may exit for more reasons, and maps guest memory its
 * own way) the test asserts lower bounds there and exact values on hvk.
 */
#include <signal.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "vm_util.h"

#define STATS_TYPE(d)	((d)->flags & KVM_STATS_TYPE_MASK)
#define STATS_UNIT(d)	((d)->flags & KVM_STATS_UNIT_MASK)
#define STATS_BASE(d)	((d)->flags & KVM_STATS_BASE_MASK)

/* A whole stats file, and where its blocks are. */
struct stats {
	uint8_t *file;
	size_t size;
	struct kvm_stats_header h;
	size_t desc_size;	/* one descriptor with its name */
	size_t data_size;	/* up to the end of the last statistic */
};

static struct kvm_stats_desc *stats_desc(const struct stats *s,
					 unsigned int i)
{
	return (struct kvm_stats_desc *)(s->file + s->h.desc_offset +
					 i * s->desc_size);
}

static const struct kvm_stats_desc *stats_find(const struct stats *s,
					       const char *name)
{
	unsigned int i;

	for (i = 0; i < s->h.num_desc; i++)
		if (!strcmp(stats_desc(s, i)->name, name))
			return stats_desc(s, i);
	return NULL;
}

/* The whole file through pread at offset 0: it ends where reads return 0. */
static int stats_read_file(int fd, uint8_t **file, size_t *size)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap), *bigger;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while ((n = pread(fd, buf + len, cap - len, len)) > 0) {
		len += n;
		if (len < cap)
			continue;
		cap *= 2;
		bigger = realloc(buf, cap);
		if (!bigger) {
			free(buf);
			return -ENOMEM;
		}
		buf = bigger;
	}
	if (n < 0) {
		free(buf);
		return -errno;
	}
	*file = buf;
	*size = len;
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/*
 * Read and check a stats file: the header, the id string (@id), every
 * descriptor, and that the four blocks fit in the file without overlapping.
 */
static void __stats_parse(struct __test_metadata *_metadata, int fd,
			  const char *id, struct stats *s)
{
	const struct kvm_stats_header *h = &s->h;
	uint64_t blocks[4][2];
	unsigned int i, j;

	memset(s, 0, sizeof(*s));
	ASSERT_EQ(0, stats_read_file(fd, &s->file, &s->size));
	ASSERT_LE(sizeof(*h), s->size);
	memcpy(&s->h, s->file, sizeof(*h));

	EXPECT_EQ(0U, h->flags);
	ASSERT_LT(0U, h->name_size);
	ASSERT_LT(0U, h->num_desc);
	EXPECT_EQ(0U, h->id_offset % 8);
	EXPECT_EQ(0U, h->desc_offset % 8);
	EXPECT_EQ(0U, h->data_offset % 8);
	s->desc_size = sizeof(struct kvm_stats_desc) + h->name_size;

	/* The id string: NUL-terminated inside its block. */
	ASSERT_LE((uint64_t)h->id_offset + h->name_size, s->size);
	ASSERT_NE(NULL, memchr(s->file + h->id_offset, 0, h->name_size));
	EXPECT_STREQ(id, (char *)s->file + h->id_offset);

	ASSERT_LE((uint64_t)h->desc_offset + h->num_desc * s->desc_size,
		  s->size);
	for (i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = stats_desc(s, i);
		uint64_t end = d->offset + (uint64_t)d->size * 8;

		ASSERT_NE(NULL, memchr(d->name, 0, h->name_size))
			TH_LOG("descriptor %u: name not terminated", i);
		EXPECT_NE(0, d->name[0]) TH_LOG("descriptor %u: no name", i);
		EXPECT_EQ(0U, d->flags & ~(KVM_STATS_TYPE_MASK |
					   KVM_STATS_UNIT_MASK |
					   KVM_STATS_BASE_MASK)) TH_LOG("%s", d->name);
		EXPECT_LE(STATS_TYPE(d), (uint32_t)KVM_STATS_TYPE_MAX)
			TH_LOG("%s", d->name);
		EXPECT_LE(STATS_UNIT(d), (uint32_t)KVM_STATS_UNIT_MAX)
			TH_LOG("%s", d->name);
		EXPECT_LE(STATS_BASE(d), (uint32_t)KVM_STATS_BASE_MAX)
			TH_LOG("%s", d->name);
		EXPECT_LE(1, d->size) TH_LOG("%s", d->name);

		/* Exponents scale units the way they are meant to go. */
		switch (STATS_UNIT(d)) {
		case KVM_STATS_UNIT_SECONDS:
			EXPECT_GE(0, d->exponent) TH_LOG("%s", d->name);
			break;
		case KVM_STATS_UNIT_BOOLEAN:
			EXPECT_EQ(0, d->exponent) TH_LOG("%s", d->name);
			break;
		default:
			EXPECT_LE(0, d->exponent) TH_LOG("%s", d->name);
		}
		switch (STATS_TYPE(d)) {
		case KVM_STATS_TYPE_LINEAR_HIST:
			EXPECT_NE(0U, d->bucket_size) TH_LOG("%s", d->name);
			break;
		case KVM_STATS_TYPE_LOG_HIST:
			EXPECT_EQ(0U, d->bucket_size) TH_LOG("%s", d->name);
			EXPECT_NE((uint32_t)KVM_STATS_UNIT_BOOLEAN,
				  STATS_UNIT(d)) TH_LOG("%s", d->name);
			break;
		default:
			/* Cumulative, instant and peak: one value. */
			EXPECT_EQ(1, d->size) TH_LOG("%s", d->name);
			EXPECT_EQ(0U, d->bucket_size) TH_LOG("%s", d->name);
		}

		EXPECT_EQ(0U, d->offset % 8) TH_LOG("%s", d->name);
		for (j = 0; j < i; j++) {
			const struct kvm_stats_desc *o = stats_desc(s, j);

			EXPECT_STRNE(o->name, d->name);
			EXPECT_FALSE(ranges_overlap(d->offset, d->size * 8ULL,
						    o->offset, o->size * 8ULL))
				TH_LOG("%s and %s overlap", d->name, o->name);
		}
		if (end > s->data_size)
			s->data_size = end;
	}

	/* All four blocks inside the file, none over another. */
	ASSERT_LE((uint64_t)h->data_offset + s->data_size, s->size);
	blocks[0][0] = 0;
	blocks[0][1] = sizeof(*h);
	blocks[1][0] = h->id_offset;
	blocks[1][1] = h->name_size;
	blocks[2][0] = h->desc_offset;
	blocks[2][1] = h->num_desc * s->desc_size;
	blocks[3][0] = h->data_offset;
	blocks[3][1] = s->data_size;
	for (i = 0; i < 4; i++)
		for (j = 0; j < i; j++)
			EXPECT_FALSE(ranges_overlap(blocks[i][0], blocks[i][1],
						    blocks[j][0], blocks[j][1]))
				TH_LOG("blocks %u and %u overlap", i, j);
}
#define stats_parse(fd, id, s) __stats_parse(_metadata, fd, id, s)

static void stats_free(struct stats *s)
{
	free(s->file);
	s->file = NULL;
}

/* A statistic of one u64, by name, from an fd (now) or from a file read. */
static uint64_t __stat_value(struct __test_metadata *_metadata,
			     const struct stats *s, int fd, const char *name)
{
	const struct kvm_stats_desc *d = stats_find(s, name);
	uint64_t v;

	EXPECT_NE(NULL, d) TH_LOG("no statistic %s", name);
	if (!d)
		return 0;
	if (fd < 0) {
		memcpy(&v, s->file + s->h.data_offset + d->offset, sizeof(v));
		return v;
	}
	EXPECT_EQ((ssize_t)sizeof(v),
		  pread(fd, &v, sizeof(v), s->h.data_offset + d->offset));
	return v;
}
#define stat_value(s, fd, name) __stat_value(_metadata, s, fd, name)

static void __expect_stat(struct __test_metadata *_metadata,
			  const struct stats *s, const char *name,
			  uint32_t type)
{
	const struct kvm_stats_desc *d = stats_find(s, name);

	ASSERT_NE(NULL, d) TH_LOG("no statistic %s", name);
	EXPECT_EQ(type, STATS_TYPE(d)) TH_LOG("%s", name);
	EXPECT_EQ((uint32_t)KVM_STATS_UNIT_NONE, STATS_UNIT(d))
		TH_LOG("%s", name);
	EXPECT_EQ(1, d->size) TH_LOG("%s", name);
}
#define expect_stat(s, name, type) __expect_stat(_metadata, s, name, type)

/* The id string KVM or hvk gives a VM or (@vcpu >= 0) a vCPU of ours. */
static void stats_id(char *buf, size_t len, int vcpu)
{
	const char *prefix = hvk_testing_kvm() ? "kvm" : "hvk";

	if (vcpu < 0)
		snprintf(buf, len, "%s-%d", prefix, gettid());
	else
		snprintf(buf, len, "%s-%d/vcpu-%d", prefix, gettid(), vcpu);
}

/*
 * The fd is read-only and close-on-exec; pread at every offset, and read()
 * in odd chunks from the start, give the bytes of @s; the position lseek
 * reports is where read() left it.
 */
static void __check_reads(struct __test_metadata *_metadata, int fd,
			  const struct stats *s,
			  int (*reopen)(struct __test_metadata *, void *),
			  void *arg)
{
	static const size_t chunks[] = { 1, 3, 7, 24, 61, 4096 };
	static uint8_t buf[65536];	/* more than a whole file */
	unsigned int i;
	size_t off;

	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, write(fd, s->file, 8));
	EXPECT_EQ(EBADF, errno);

	for (off = 0; off < s->size; off++) {
		size_t want = s->size - off < 13 ? s->size - off : 13;

		ASSERT_EQ((ssize_t)want, pread(fd, buf, 13, off))
			TH_LOG("offset %zu", off);
		ASSERT_EQ(0, memcmp(buf, s->file + off, want))
			TH_LOG("offset %zu", off);
	}
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), s->size));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), s->size + 100000));

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		int rfd = reopen(_metadata, arg);
		ssize_t n;

		ASSERT_LE(0, rfd);
		EXPECT_EQ(0, lseek(rfd, 0, SEEK_CUR));
		off = 0;
		while ((n = read(rfd, buf, chunks[i])) > 0) {
			ASSERT_LE(off + n, s->size);
			ASSERT_EQ(0, memcmp(buf, s->file + off, n))
				TH_LOG("chunk %zu at %zu", chunks[i], off);
			off += n;
			EXPECT_EQ((off_t)off, lseek(rfd, 0, SEEK_CUR));
		}
		EXPECT_EQ(0, n);
		EXPECT_EQ(s->size, off) TH_LOG("chunk %zu", chunks[i]);

		/*
		 * hvk moves the position; KVM's stats fd ignores lseek
		 * (noop_llseek), though api.rst mentions it.
		 */
		if (!hvk_testing_kvm()) {
			EXPECT_EQ((off_t)s->h.data_offset,
				  lseek(rfd, s->h.data_offset, SEEK_SET));
			n = read(rfd, buf, sizeof(buf));
			EXPECT_EQ((ssize_t)(s->size - s->h.data_offset), n);
			EXPECT_EQ(0, memcmp(buf, s->file + s->h.data_offset,
					    s->size - s->h.data_offset));
			EXPECT_EQ((off_t)s->size, lseek(rfd, 0, SEEK_END));
			EXPECT_EQ(3, lseek(rfd, 3, SEEK_SET));
			EXPECT_EQ(1, read(rfd, buf, 1));
			EXPECT_EQ(s->file[3], buf[0]);
		}
		close(rfd);
	}
}
#define check_reads(fd, s, reopen, arg) \
	__check_reads(_metadata, fd, s, reopen, arg)

static int stats_fd(struct __test_metadata *_metadata, void *fdp)
{
	int fd = ioctl(*(int *)fdp, KVM_GET_STATS_FD, 0);

	EXPECT_LE(0, fd) TH_LOG("KVM_GET_STATS_FD: %s", strerror(errno));
	return fd;
}

FIXTURE(stats) {
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;
};

FIXTURE_SETUP(stats)
{
	ASSERT_EQ(0, vm_create(&self->vm));
	ASSERT_EQ(0, vcpu_create(&self->vm, &self->vcpu, 0));
}

FIXTURE_TEARDOWN(stats)
{
	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);
}

TEST_F(stats, capability)
{
	EXPECT_EQ(1, ioctl(self->vm.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_BINARY_STATS_FD));
	EXPECT_EQ(1, ioctl(self->vm.fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_BINARY_STATS_FD));
}

TEST_F(stats, vm_layout)
{
	struct stats s;
	char id[64];
	int fd;

	fd = stats_fd(_metadata, &self->vm.fd);
	ASSERT_LE(0, fd);
	stats_id(id, sizeof(id), -1);
	stats_parse(fd, id, &s);
	expect_stat(&s, "pages_4k", KVM_STATS_TYPE_INSTANT);
	expect_stat(&s, "pages_2m", KVM_STATS_TYPE_INSTANT);
	expect_stat(&s, "pages_1g", KVM_STATS_TYPE_INSTANT);
	check_reads(fd, &s, stats_fd, &self->vm.fd);
	stats_free(&s);
	close(fd);
}

TEST_F(stats, vcpu_layout)
{
	static const char *const counters[] = {
		"exits", "io_exits", "mmio_exits", "halt_exits",
		"signal_exits", "irq_exits", "hypercalls",
	};
	struct stats s;
	unsigned int i;
	char id[64];
	int fd;

	fd = stats_fd(_metadata, &self->vcpu.fd);
	ASSERT_LE(0, fd);
	stats_id(id, sizeof(id), 0);
	stats_parse(fd, id, &s);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		expect_stat(&s, counters[i], KVM_STATS_TYPE_CUMULATIVE);
		/* The vCPU never ran. */
		EXPECT_EQ(0ULL, stat_value(&s, -1, counters[i]))
			TH_LOG("%s", counters[i]);
	}
	check_reads(fd, &s, stats_fd, &self->vcpu.fd);
	stats_free(&s);
	close(fd);
}

/* A stats fd keeps its VM, and a vCPU's keeps the vCPU, after they close. */
TEST_F(stats, outlives_vm_and_vcpu_fds)
{
	int vm_fd, vcpu_fd;
	struct stats before, after;
	char vm_id[64], vcpu_id[64];

	vm_fd = stats_fd(_metadata, &self->vm.fd);
	vcpu_fd = stats_fd(_metadata, &self->vcpu.fd);
	ASSERT_LE(0, vm_fd);
	ASSERT_LE(0, vcpu_fd);
	stats_id(vm_id, sizeof(vm_id), -1);
	stats_id(vcpu_id, sizeof(vcpu_id), 0);
	stats_parse(vcpu_fd, vcpu_id, &before);
	stats_free(&before);

	vcpu_destroy(&self->vcpu);
	vm_destroy(&self->vm);

	stats_parse(vm_fd, vm_id, &after);
	stats_free(&after);
	stats_parse(vcpu_fd, vcpu_id, &after);
	EXPECT_EQ(0ULL, stat_value(&after, vcpu_fd, "exits"));
	stats_free(&after);
	close(vm_fd);
	close(vcpu_fd);
}

/*
 * Real mode: three OUTs and a HLT; then a loop for the signal test, with
 * interrupts enabled for Bochs's sake (see run_test.c's spin guest).
 */
GUEST_CODE_DECLARE(outs_hlt);
extern const uint8_t outs_hlt_spin[];
asm(GUEST_CODE_BEGIN(outs_hlt, ".code16")
"	outb %al, $0x10\n"
"	outb %al, $0x10\n"
"	outb %al, $0x10\n"
"	hlt\n"
GUEST_LABEL(outs_hlt_spin)
"	sti\n"
"1:	jmp 1b\n"
GUEST_CODE_END(outs_hlt));

#define OUTS_HLT_OUTS	3

static void __run_outs_hlt(struct __test_metadata *_metadata,
			   struct hvk_vcpu *vcpu)
{
	int i;

	ASSERT_EQ(0, vcpu_setup_real(vcpu, VM_CODE_GPA));
	for (i = 0; i < OUTS_HLT_OUTS; i++)
		vcpu_run_out(vcpu, 0x10, 1);
	vcpu_run_expect(vcpu, KVM_EXIT_HLT);
}
#define run_outs_hlt(vcpu) __run_outs_hlt(_metadata, vcpu)

struct counters {
	uint64_t exits, io_exits, halt_exits, irq_exits, signal_exits;
	uint64_t mmio_exits;
};

static void __read_counters(struct __test_metadata *_metadata,
			    const struct stats *s, int fd, struct counters *c)
{
	c->exits = stat_value(s, fd, "exits");
	c->io_exits = stat_value(s, fd, "io_exits");
	c->halt_exits = stat_value(s, fd, "halt_exits");
	c->irq_exits = stat_value(s, fd, "irq_exits");
	c->signal_exits = stat_value(s, fd, "signal_exits");
	c->mmio_exits = stat_value(s, fd, "mmio_exits");
}
#define read_counters(s, fd, c) __read_counters(_metadata, s, fd, c)

/*
 * Counters follow the guest's exits.  The first pass maps the code page;
 * the second must then exit only for its OUTs, its HLT and host
 * interrupts (hvk), or at least for those (KVM).
 */
TEST_F(stats, exit_counters)
{
	struct counters a, b;
	struct stats s;
	char id[64];
	int fd;

	fd = stats_fd(_metadata, &self->vcpu.fd);
	ASSERT_LE(0, fd);
	stats_id(id, sizeof(id), 0);
	stats_parse(fd, id, &s);

	vm_load(&self->vm, VM_CODE_GPA, outs_hlt_start, outs_hlt_end);
	run_outs_hlt(&self->vcpu);
	read_counters(&s, fd, &a);
	EXPECT_EQ((uint64_t)OUTS_HLT_OUTS, a.io_exits);
	EXPECT_EQ(1ULL, a.halt_exits);
	EXPECT_LE(OUTS_HLT_OUTS + 1ULL, a.exits);

	run_outs_hlt(&self->vcpu);
	read_counters(&s, fd, &b);
	EXPECT_EQ((uint64_t)OUTS_HLT_OUTS, b.io_exits - a.io_exits);
	EXPECT_EQ(1ULL, b.halt_exits - a.halt_exits);
	EXPECT_EQ(0ULL, b.signal_exits - a.signal_exits);
	EXPECT_EQ(0ULL, b.mmio_exits);
	if (hvk_testing_kvm()) {
		EXPECT_LE(OUTS_HLT_OUTS + 1ULL, b.exits - a.exits);
	} else {
		EXPECT_EQ(OUTS_HLT_OUTS + 1ULL + (b.irq_exits - a.irq_exits),
			  b.exits - a.exits);
	}
	stats_free(&s);
	close(fd);
}

static void on_alarm(int sig)
{
}

/* A signal that ends KVM_RUN counts once in signal_exits. */
TEST_F(stats, signal_exits)
{
	struct itimerval it = {
		.it_interval = { .tv_usec = 20000 },
		.it_value = { .tv_usec = 20000 },
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	struct counters a, b;
	struct stats s;
	char id[64];
	int fd, r;

	fd = stats_fd(_metadata, &self->vcpu.fd);
	ASSERT_LE(0, fd);
	stats_id(id, sizeof(id), 0);
	stats_parse(fd, id, &s);

	vm_load(&self->vm, VM_CODE_GPA, outs_hlt_start, outs_hlt_end);
	run_outs_hlt(&self->vcpu);
	ASSERT_EQ(0, vcpu_set_entry(&self->vcpu, outs_hlt_spin - outs_hlt_start,
				    VM_STACK_TOP));
	read_counters(&s, fd, &a);

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	r = vcpu_run(&self->vcpu);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	ASSERT_EQ(-EINTR, r);
	ASSERT_EQ((uint32_t)KVM_EXIT_INTR, self->vcpu.run->exit_reason);

	read_counters(&s, fd, &b);
	EXPECT_EQ(1ULL, b.signal_exits - a.signal_exits);
	EXPECT_EQ(0ULL, b.io_exits - a.io_exits);
	EXPECT_EQ(0ULL, b.halt_exits - a.halt_exits);
	/* The loop only exits for interrupts (hvk); KVM may exit for more. */
	if (hvk_testing_kvm()) {
		EXPECT_LE(b.irq_exits - a.irq_exits, b.exits - a.exits);
	} else {
		EXPECT_EQ(b.irq_exits - a.irq_exits, b.exits - a.exits);
	}
	stats_free(&s);
	close(fd);
}

static uint64_t __mapped_pages(struct __test_metadata *_metadata,
			       const struct stats *s, int fd)
{
	return stat_value(s, fd, "pages_4k") + stat_value(s, fd, "pages_2m") +
	       stat_value(s, fd, "pages_1g");
}
#define mapped_pages(s, fd) __mapped_pages(_metadata, s, fd)

/*
 * Guest memory is mapped on demand: nothing before the first run,
 * something after it, and (hvk) nothing once the slot is gone.
 */
TEST_F(stats, vm_pages)
{
	struct kvm_userspace_memory_region region = { .slot = 0 };
	uint64_t before, ran, deleted;
	struct stats s;
	char id[64];
	int fd;

	fd = stats_fd(_metadata, &self->vm.fd);
	ASSERT_LE(0, fd);
	stats_id(id, sizeof(id), -1);
	stats_parse(fd, id, &s);

	before = mapped_pages(&s, fd);
	vm_load(&self->vm, VM_CODE_GPA, outs_hlt_start, outs_hlt_end);
	run_outs_hlt(&self->vcpu);
	ran = mapped_pages(&s, fd);
	ASSERT_EQ(0, ioctl(self->vm.fd, KVM_SET_USER_MEMORY_REGION, &region));
	deleted = mapped_pages(&s, fd);

	EXPECT_EQ(0ULL, before);
	EXPECT_LE(1ULL, ran);
	/* KVM may zap the slot's mappings later, or keep others. */
	if (hvk_testing_kvm()) {
		EXPECT_LE(deleted, ran);
	} else {
		EXPECT_EQ(0ULL, deleted);
	}
	stats_free(&s);
	close(fd);
}

TEST_HARNESS_MAIN
