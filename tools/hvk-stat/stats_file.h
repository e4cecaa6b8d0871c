/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A binary statistics file in KVM's format (Documentation/virt/kvm/api.rst,
 * KVM_GET_STATS_FD): a stats fd, or one of hvk's debugfs files, which hold
 * the same bytes.  The file is read whole, then checked: the header's
 * blocks and every descriptor's values lie inside it.
 *
 *   header | id string | descriptors (fixed part + name_size bytes) | data
 */
#ifndef HVK_STATS_FILE_H
#define HVK_STATS_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

struct stats_file {
	uint8_t *buf;
	size_t size;
	struct kvm_stats_header h;
	size_t desc_size;	/* a descriptor with its name */
};

static inline const struct kvm_stats_desc *
stats_file_desc(const struct stats_file *s, unsigned int i)
{
	return (const struct kvm_stats_desc *)(s->buf + s->h.desc_offset +
					       i * s->desc_size);
}

/* Read the whole file from offset 0 and check it: 0 or -errno. */
static inline int stats_file_read(int fd, struct stats_file *s)
{
	size_t cap = 16384, len = 0;
	uint8_t *bigger;
	unsigned int i;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->buf = malloc(cap);
	if (!s->buf)
		return -ENOMEM;
	while ((n = pread(fd, s->buf + len, cap - len, len)) > 0) {
		len += n;
		if (len < cap)
			continue;
		cap *= 2;
		bigger = realloc(s->buf, cap);
		if (!bigger)
			goto nomem;
		s->buf = bigger;
	}
	if (n < 0) {
		n = -errno;
		free(s->buf);
		s->buf = NULL;
		return n;
	}
	s->size = len;
	if (len < sizeof(s->h))
		goto bad;
	memcpy(&s->h, s->buf, sizeof(s->h));
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	if (!s->h.name_size || s->h.data_offset % 8 ||
	    (uint64_t)s->h.id_offset + s->h.name_size > len ||
	    (uint64_t)s->h.desc_offset + (uint64_t)s->h.num_desc * s->desc_size > len)
		goto bad;
	for (i = 0; i < s->h.num_desc; i++) {
		const struct kvm_stats_desc *d = stats_file_desc(s, i);

		if (!memchr(d->name, 0, s->h.name_size) ||
		    (uint64_t)s->h.data_offset + d->offset +
		    (uint64_t)d->size * 8 > len)
			goto bad;
	}
	if (!memchr(s->buf + s->h.id_offset, 0, s->h.name_size))
		goto bad;
	return 0;
bad:
	free(s->buf);
	s->buf = NULL;
	return -EBADMSG;
nomem:
	free(s->buf);
	s->buf = NULL;
	return -ENOMEM;
}

static inline int stats_file_read_path(const char *path, struct stats_file *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = stats_file_read(fd, s);
	close(fd);
	return r;
}

static inline void stats_file_free(struct stats_file *s)
{
	free(s->buf);
	s->buf = NULL;
}

static inline const char *stats_file_id(const struct stats_file *s)
{
	return (const char *)s->buf + s->h.id_offset;
}

static inline const struct kvm_stats_desc *
stats_file_find(const struct stats_file *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->h.num_desc; i++)
		if (!strcmp(stats_file_desc(s, i)->name, name))
			return stats_file_desc(s, i);
	return NULL;
}

/* The values of @d: d->size u64s (data_offset is 8-byte aligned). */
static inline const uint64_t *stats_file_values(const struct stats_file *s,
						const struct kvm_stats_desc *d)
{
	return (const uint64_t *)(s->buf + s->h.data_offset + d->offset);
}

#endif /* HVK_STATS_FILE_H */
