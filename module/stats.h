/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics in KVM's binary format (Documentation/virt/kvm/api.rst,
 * KVM_GET_STATS_FD): the file a stats fd reads is
 *
 *   header (struct kvm_stats_header) | id string | descriptors | data
 *
 * with every block 8-byte aligned and next to the one before it.  A
 * descriptor is the fixed part of struct kvm_stats_desc followed by a name
 * of name_size bytes; the data block is the statistics struct itself
 * (struct hvk_vm_stat or struct hvk_vcpu_stat, all u64).
 *
 * Each kind of fd has one table of struct hvk_stat_desc, written with the
 * HVK_STAT_* macros; hvk_stats_layout_init() checks it against KVM's rules
 * and renders the header and descriptor blocks once.  What follows is pure
 * (no hardware, no VM), for KUnit.
 */
#ifndef HVK_STATS_H
#define HVK_STATS_H

#include <linux/bitops.h>
#include <linux/kvm.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* Bytes of a name and of the id string, '\0' included: KVM's size. */
#define HVK_STATS_NAME_SIZE	48

/*
 * The fixed part of a descriptor on the wire.  Not sizeof(struct
 * kvm_stats_desc): inside the kernel, Linux 6.9 and later give that struct
 * a name array of their own size.
 */
#define HVK_STATS_DESC_FIXED	offsetof(struct kvm_stats_desc, name)

/* One statistic: a u64, or @size u64 buckets of a histogram. */
struct hvk_stat_desc {
	const char *name;
	u32 flags;		/* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | _BASE_* */
	s16 exponent;		/* of the unit, in the base */
	u16 size;		/* values: 1, or the number of buckets */
	u32 offset;		/* bytes into the statistics struct */
	u32 bucket_size;	/* linear histograms only, else 0 */
};

#define HVK_STAT(stat, field, type, unit, base, exp, bsz)		\
	HVK_STAT_NAMED(stat, #field, field, type, unit, base, exp, bsz)

/* The same, with a name of its own (@field may be "a[i].b"). */
#define HVK_STAT_NAMED(stat, nm, field, type, unit, base, exp, bsz) {	\
	.name = nm,							\
	.flags = (type) | (unit) | (base),				\
	.exponent = (exp),						\
	.size = sizeof_field(struct stat, field) / sizeof(u64),		\
	.offset = offsetof(struct stat, field),				\
	.bucket_size = (bsz),						\
}

/* An event count that only grows (KVM's STATS_DESC_COUNTER). */
#define HVK_STAT_COUNTER(stat, field)					\
	HVK_STAT(stat, field, KVM_STATS_TYPE_CUMULATIVE,		\
		 KVM_STATS_UNIT_NONE, KVM_STATS_BASE_POW10, 0, 0)

/* A count that goes up and down (KVM's STATS_DESC_ICOUNTER). */
#define HVK_STAT_ICOUNTER(stat, field)					\
	HVK_STAT(stat, field, KVM_STATS_TYPE_INSTANT,			\
		 KVM_STATS_UNIT_NONE, KVM_STATS_BASE_POW10, 0, 0)

/*
 * A log2 histogram over a u64 array field: bucket 0 counts values of 0,
 * bucket i values in [2^(i-1), 2^i), the last one everything above.  The
 * unit is that of the values, e.g. KVM_STATS_UNIT_CYCLES.
 */
#define HVK_STAT_LOG_HIST(stat, field, unit, base, exp)			\
	HVK_STAT(stat, field, KVM_STATS_TYPE_LOG_HIST, unit, base, exp, 0)

/* Count @value in a log2 histogram of @size buckets (the layout above). */
static inline void hvk_stat_log_hist_add(u64 *hist, unsigned int size,
					 u64 value)
{
	unsigned int i = fls64(value);

	hist[i < size ? i : size - 1]++;
}

/* The rendered, immutable part of one kind of stats file. */
struct hvk_stats_layout {
	struct kvm_stats_header header;
	void *descs;		/* header.num_desc descriptors on the wire */
	size_t desc_bytes;
	size_t data_size;	/* bytes of the statistics struct */
};

/*
 * Check @table (@n entries describing a struct of @data_size bytes) against
 * KVM's rules, and render the header and the descriptors.  0, -EINVAL for
 * a table that breaks a rule, -ENOMEM.
 */
int hvk_stats_layout_init(struct hvk_stats_layout *layout,
			  const struct hvk_stat_desc *table, unsigned int n,
			  size_t data_size);
void hvk_stats_layout_free(struct hvk_stats_layout *layout);

/* Size of the whole file. */
static inline size_t hvk_stats_file_size(const struct hvk_stats_layout *layout)
{
	return layout->header.data_offset + layout->data_size;
}

/*
 * The file's bytes at @pos, for the fd whose id string is @id (name_size
 * bytes) and whose statistics are @data: *@src and the number of bytes that
 * follow it contiguously, 0 at or past the end.
 */
size_t hvk_stats_chunk(const struct hvk_stats_layout *layout, const char *id,
		       const void *data, u64 pos, const void **src);

#endif /* HVK_STATS_H */
