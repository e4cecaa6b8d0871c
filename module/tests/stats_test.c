// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the binary stats layout (module/stats_layout.c): the header and
 * descriptors rendered from a table, the bytes at every file offset, the
 * tables refused for breaking api.rst's rules, and the log2 histogram
 * buckets.
 */
#include <kunit/test.h>

#include "../stats_layout.c"

struct test_stat {
	u64 count;
	u64 level;
	u64 hist[8];
	u64 lin[4];
	u64 flag[2];
};

#define STRIDE	(HVK_STATS_DESC_FIXED + HVK_STATS_NAME_SIZE)

static const struct hvk_stat_desc good_table[] = {
	HVK_STAT_COUNTER(test_stat, count),
	HVK_STAT_ICOUNTER(test_stat, level),
	HVK_STAT_LOG_HIST(test_stat, hist, KVM_STATS_UNIT_CYCLES,
			  KVM_STATS_BASE_POW10, 0),
	HVK_STAT(test_stat, lin, KVM_STATS_TYPE_LINEAR_HIST, KVM_STATS_UNIT_SECONDS,
		 KVM_STATS_BASE_POW10, -9, 1000),
	HVK_STAT(test_stat, flag, KVM_STATS_TYPE_LINEAR_HIST,
		 KVM_STATS_UNIT_BOOLEAN, KVM_STATS_BASE_POW10, 0, 1),
};

static void stats_layout_header_and_descs(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(good_table);
	struct hvk_stats_layout l;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, 0, hvk_stats_layout_init(&l, good_table, n,
						       sizeof(struct test_stat)));
	KUNIT_EXPECT_EQ(test, 0U, l.header.flags);
	KUNIT_EXPECT_EQ(test, HVK_STATS_NAME_SIZE, l.header.name_size);
	KUNIT_EXPECT_EQ(test, n, l.header.num_desc);
	KUNIT_EXPECT_EQ(test, 24U, l.header.id_offset);
	KUNIT_EXPECT_EQ(test, 24U + HVK_STATS_NAME_SIZE, l.header.desc_offset);
	KUNIT_EXPECT_EQ(test, l.header.desc_offset + n * STRIDE,
			(size_t)l.header.data_offset);
	KUNIT_EXPECT_EQ(test, l.header.data_offset + sizeof(struct test_stat),
			hvk_stats_file_size(&l));

	for (i = 0; i < n; i++) {
		const struct kvm_stats_desc *d = l.descs + i * STRIDE;
		const char *name = (const char *)d + HVK_STATS_DESC_FIXED;
		unsigned int k;

		KUNIT_EXPECT_EQ(test, good_table[i].flags, d->flags);
		KUNIT_EXPECT_EQ(test, good_table[i].exponent, d->exponent);
		KUNIT_EXPECT_EQ(test, good_table[i].size, d->size);
		KUNIT_EXPECT_EQ(test, good_table[i].offset, d->offset);
		KUNIT_EXPECT_EQ(test, good_table[i].bucket_size,
				d->bucket_size);
		KUNIT_EXPECT_STREQ(test, good_table[i].name, name);
		/* The rest of the name block is zero. */
		for (k = strlen(name); k < HVK_STATS_NAME_SIZE; k++)
			KUNIT_EXPECT_EQ(test, 0, name[k]);
	}
	KUNIT_EXPECT_EQ(test, 8, good_table[2].size);
	KUNIT_EXPECT_EQ(test, offsetof(struct test_stat, hist),
			(size_t)good_table[2].offset);
	hvk_stats_layout_free(&l);
}

/* Every offset of the file, against the blocks laid end to end by hand. */
static void stats_layout_chunks(struct kunit *test)
{
	struct hvk_stats_layout l;
	struct test_stat data;
	char id[HVK_STATS_NAME_SIZE] = "hvk-42/vcpu-7";
	size_t size, off, pos;
	const void *end;
	u8 *ref, *got;
	unsigned int i;

	for (i = 0; i < sizeof(data) / sizeof(u64); i++)
		((u64 *)&data)[i] = 0x0101010101010101ULL * (i + 1);
	KUNIT_ASSERT_EQ(test, 0, hvk_stats_layout_init(&l, good_table,
						       ARRAY_SIZE(good_table),
						       sizeof(data)));
	size = hvk_stats_file_size(&l);
	ref = kunit_kzalloc(test, size, GFP_KERNEL);
	got = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	KUNIT_ASSERT_NOT_NULL(test, got);
	off = 0;
	memcpy(ref + off, &l.header, sizeof(l.header));
	off += sizeof(l.header);
	memcpy(ref + off, id, sizeof(id));
	off += sizeof(id);
	memcpy(ref + off, l.descs, l.desc_bytes);
	off += l.desc_bytes;
	memcpy(ref + off, &data, sizeof(data));
	KUNIT_ASSERT_EQ(test, size, off + sizeof(data));

	for (off = 0; off < size; off++) {
		const void *src = NULL;
		size_t n = hvk_stats_chunk(&l, id, &data, off, &src);

		KUNIT_ASSERT_GT_MSG(test, n, 0, "offset %zu", off);
		KUNIT_ASSERT_LE_MSG(test, off + n, size, "offset %zu", off);
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(src, ref + off, n),
				    "offset %zu", off);
	}
	/* Reassembled from chunks as read() does it. */
	for (pos = 0; pos < size; ) {
		const void *src;
		size_t n = hvk_stats_chunk(&l, id, &data, pos, &src);

		KUNIT_ASSERT_GT(test, n, 0);
		memcpy(got + pos, src, n);
		pos += n;
	}
	KUNIT_EXPECT_EQ(test, 0, memcmp(got, ref, size));
	KUNIT_EXPECT_EQ(test, 0, hvk_stats_chunk(&l, id, &data, size, &end));
	KUNIT_EXPECT_EQ(test, 0, hvk_stats_chunk(&l, id, &data, U64_MAX,
						 &end));
	hvk_stats_layout_free(&l);
}

struct bad_case {
	const char *why;
	struct hvk_stat_desc desc;
};

#define DESC(n, fl, exp, sz, off, bsz) {				\
	.name = (n), .flags = (fl), .exponent = (exp), .size = (sz),	\
	.offset = (off), .bucket_size = (bsz),				\
}

#define CUM	(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE)
#define LOG	(KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_CYCLES)
#define LIN	(KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_NONE)
#define HIST	offsetof(struct test_stat, hist)

/* Each is refused after a good first entry, "count" at offset 0. */
static const struct bad_case bad_cases[] = {
	{ "no name", DESC(NULL, CUM, 0, 1, 8, 0) },
	{ "empty name", DESC("", CUM, 0, 1, 8, 0) },
	{ "name of 48 bytes",
	  DESC("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", CUM, 0, 1,
	       8, 0) },
	{ "same name", DESC("count", CUM, 0, 1, 8, 0) },
	{ "same offset", DESC("other", CUM, 0, 1, 0, 0) },
	{ "overlapping histogram", DESC("h", LOG, 0, 2, 0, 0) },
	{ "unaligned offset", DESC("x", CUM, 0, 1, 12, 0) },
	{ "past the data", DESC("x", CUM, 0, 1, sizeof(struct test_stat), 0) },
	{ "histogram past the data", DESC("h", LOG, 0, 32, HIST, 0) },
	{ "size 0", DESC("x", CUM, 0, 0, 8, 0) },
	{ "counter of 2", DESC("x", CUM, 0, 2, 8, 0) },
	{ "counter with buckets", DESC("x", CUM, 0, 1, 8, 4) },
	{ "log histogram with bucket size", DESC("h", LOG, 0, 8, HIST, 1) },
	{ "linear histogram without bucket size",
	  DESC("h", LIN, 0, 8, HIST, 0) },
	{ "boolean log histogram",
	  DESC("h", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_BOOLEAN, 0, 8,
	       HIST, 0) },
	{ "boolean linear histogram of 3",
	  DESC("h", KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_BOOLEAN, 0, 3,
	       HIST, 1) },
	{ "unknown type", DESC("x", KVM_STATS_TYPE_MAX + 1, 0, 1, 8, 0) },
	{ "unknown unit",
	  DESC("x", KVM_STATS_UNIT_MAX + KVM_STATS_UNIT_BYTES, 0, 1, 8, 0) },
	{ "unknown base",
	  DESC("x", KVM_STATS_BASE_MAX + KVM_STATS_BASE_POW2, 0, 1, 8, 0) },
	{ "stray flag", DESC("x", CUM | BIT(12), 0, 1, 8, 0) },
	{ "seconds scaled up",
	  DESC("x", KVM_STATS_UNIT_SECONDS, 3, 1, 8, 0) },
	{ "count scaled down", DESC("x", CUM, -1, 1, 8, 0) },
	{ "boolean scaled",
	  DESC("x", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 1, 1, 8,
	       0) },
};

static void stats_layout_refuses(struct kunit *test)
{
	struct hvk_stats_layout l;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct hvk_stat_desc table[] = {
			HVK_STAT_COUNTER(test_stat, count),
			bad_cases[i].desc,
		};

		KUNIT_EXPECT_EQ_MSG(test, -EINVAL,
				    hvk_stats_layout_init(&l, table, 2,
							  sizeof(struct test_stat)),
				    "%s", bad_cases[i].why);
	}
	/* A data size that is not whole u64s. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			hvk_stats_layout_init(&l, good_table, 1, 12));
}

static void stats_log_hist_buckets(struct kunit *test)
{
	static const struct { u64 value; unsigned int bucket; } cases[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 2 }, { 4, 3 }, { 7, 3 },
		{ 64, 7 }, { 127, 7 }, { 128, 7 }, { U64_MAX, 7 },
	};
	unsigned int i, b;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 hist[8] = {};

		hvk_stat_log_hist_add(hist, ARRAY_SIZE(hist), cases[i].value);
		for (b = 0; b < ARRAY_SIZE(hist); b++)
			KUNIT_EXPECT_EQ_MSG(test, b == cases[i].bucket, hist[b],
					    "value %llu bucket %u",
					    cases[i].value, b);
	}
}

static struct kunit_case stats_test_cases[] = {
	KUNIT_CASE(stats_layout_header_and_descs),
	KUNIT_CASE(stats_layout_chunks),
	KUNIT_CASE(stats_layout_refuses),
	KUNIT_CASE(stats_log_hist_buckets),
	{}
};

static struct kunit_suite stats_test_suite = {
	.name = "hvk_stats",
	.test_cases = stats_test_cases,
};

kunit_test_suite(stats_test_suite);
