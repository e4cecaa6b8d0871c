// SPDX-License-Identifier: GPL-2.0
/*
 * The layout of a binary stats file (stats.h): checking a descriptor table
 * against the rules of Documentation/virt/kvm/api.rst (KVM_GET_STATS_FD),
 * rendering its header and descriptor blocks, and finding the bytes at any
 * file offset.  Pure: no VM, no hardware; tested by module/tests.
 */
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "stats.h"

static bool hvk_stat_flags_valid(const struct hvk_stat_desc *d)
{
	u32 type = d->flags & KVM_STATS_TYPE_MASK;
	u32 unit = d->flags & KVM_STATS_UNIT_MASK;
	u32 base = d->flags & KVM_STATS_BASE_MASK;

	if (d->flags & ~(KVM_STATS_TYPE_MASK | KVM_STATS_UNIT_MASK |
			 KVM_STATS_BASE_MASK))
		return false;
	if (type > KVM_STATS_TYPE_MAX || unit > KVM_STATS_UNIT_MAX ||
	    base > KVM_STATS_BASE_MAX)
		return false;

	/* Units scale up (counts, bytes, cycles) or down (seconds) only. */
	switch (unit) {
	case KVM_STATS_UNIT_SECONDS:
		if (d->exponent > 0)
			return false;
		break;
	case KVM_STATS_UNIT_BOOLEAN:
		if (d->exponent)
			return false;
		break;
	default:
		if (d->exponent < 0)
			return false;
	}

	switch (type) {
	case KVM_STATS_TYPE_LINEAR_HIST:
		/* A boolean histogram has exactly the buckets 0 and 1. */
		if (unit == KVM_STATS_UNIT_BOOLEAN && d->size != 2)
			return false;
		return d->size >= 1 && d->bucket_size;
	case KVM_STATS_TYPE_LOG_HIST:
		return d->size >= 1 && !d->bucket_size &&
		       unit != KVM_STATS_UNIT_BOOLEAN;
	default:
		/* Cumulative, instant and peak values are a single u64. */
		return d->size == 1 && !d->bucket_size;
	}
}

/* Entry @i of @table, against the rules and against the entries before it. */
static bool hvk_stat_desc_valid(const struct hvk_stat_desc *table,
				unsigned int i, size_t data_size)
{
	const struct hvk_stat_desc *d = &table[i];
	u64 end = d->offset + (u64)d->size * sizeof(u64);
	unsigned int j;

	if (!d->name || !d->name[0] ||
	    strnlen(d->name, HVK_STATS_NAME_SIZE) >= HVK_STATS_NAME_SIZE)
		return false;
	if (!hvk_stat_flags_valid(d))
		return false;
	if (d->offset % sizeof(u64) || end > data_size)
		return false;
	for (j = 0; j < i; j++) {
		const struct hvk_stat_desc *o = &table[j];
		u64 o_end = o->offset + (u64)o->size * sizeof(u64);

		if (!strcmp(o->name, d->name))
			return false;
		if (d->offset < o_end && o->offset < end)
			return false;
	}
	return true;
}

int hvk_stats_layout_init(struct hvk_stats_layout *layout,
			  const struct hvk_stat_desc *table, unsigned int n,
			  size_t data_size)
{
	const size_t stride = HVK_STATS_DESC_FIXED + HVK_STATS_NAME_SIZE;
	struct kvm_stats_header *h = &layout->header;
	unsigned int i;
	u64 data_offset;

	/* Every block starts 8-byte aligned (api.rst). */
	BUILD_BUG_ON(sizeof(*h) % 8 || HVK_STATS_NAME_SIZE % 8 ||
		     HVK_STATS_DESC_FIXED % 8);

	memset(layout, 0, sizeof(*layout));
	data_offset = sizeof(*h) + HVK_STATS_NAME_SIZE + (u64)n * stride;
	if (data_size % sizeof(u64) || data_offset + data_size > INT_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!hvk_stat_desc_valid(table, i, data_size))
			return -EINVAL;

	layout->descs = kcalloc(n ? n : 1, stride, GFP_KERNEL);
	if (!layout->descs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct kvm_stats_desc *w = layout->descs + i * stride;

		w->flags = table[i].flags;
		w->exponent = table[i].exponent;
		w->size = table[i].size;
		w->offset = table[i].offset;
		w->bucket_size = table[i].bucket_size;
		strscpy(w->name, table[i].name, HVK_STATS_NAME_SIZE);
	}
	layout->desc_bytes = n * stride;
	layout->data_size = data_size;

	h->flags = 0;
	h->name_size = HVK_STATS_NAME_SIZE;
	h->num_desc = n;
	h->id_offset = sizeof(*h);
	h->desc_offset = h->id_offset + HVK_STATS_NAME_SIZE;
	h->data_offset = data_offset;
	return 0;
}

void hvk_stats_layout_free(struct hvk_stats_layout *layout)
{
	kfree(layout->descs);
	layout->descs = NULL;
}

size_t hvk_stats_chunk(const struct hvk_stats_layout *layout, const char *id,
		       const void *data, u64 pos, const void **src)
{
	const struct kvm_stats_header *h = &layout->header;
	const struct {
		u64 start;
		u64 len;
		const void *base;
	} blocks[] = {
		{ 0, sizeof(*h), h },
		{ h->id_offset, h->name_size, id },
		{ h->desc_offset, layout->desc_bytes, layout->descs },
		{ h->data_offset, layout->data_size, data },
	};
	unsigned int i;

	/* The blocks are adjacent: every offset before the end is in one. */
	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		if (pos >= blocks[i].start &&
		    pos - blocks[i].start < blocks[i].len) {
			*src = blocks[i].base + (pos - blocks[i].start);
			return blocks[i].len - (pos - blocks[i].start);
		}
	}
	return 0;
}
