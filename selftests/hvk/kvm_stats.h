/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading KVM's binary statistics (KVM_GET_STATS_FD on a VM or vCPU fd),
 * by name.  The file holds a header (struct kvm_stats_header) with the
 * offsets of three blocks: an id string, the descriptors (each a struct
 * kvm_stats_desc followed by a name of header.name_size bytes) and the data
 * (u64 values at data_offset + desc.offset).  Only the data block changes,
 * so every read goes through pread() at the offsets the header gives
 * (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD").
 */
#ifndef HVK_SELFTEST_KVM_STATS_H
#define HVK_SELFTEST_KVM_STATS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

/* The stats fd of a VM or vCPU fd, or -errno. */
static inline int kvm_stats_open(int fd)
{
	int r = ioctl(fd, KVM_GET_STATS_FD, NULL);

	return r < 0 ? -errno : r;
}

/*
 * The first value of the statistic named @name into *@val.  0, -ENOENT if
 * the file has no such statistic, or another -errno.
 */
static inline int kvm_stats_read(int stats_fd, const char *name,
				 uint64_t *val)
{
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *desc;
	size_t desc_size;
	uint32_t i;
	int r = -ENOENT;

	if (pread(stats_fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
		return -EIO;
	desc_size = sizeof(*desc) + hdr.name_size;
	desc = malloc(desc_size);
	if (!desc)
		return -ENOMEM;
	for (i = 0; i < hdr.num_desc; i++) {
		if (pread(stats_fd, desc, desc_size,
			  hdr.desc_offset + i * desc_size) != (ssize_t)desc_size) {
			r = -EIO;
			break;
		}
		if (strncmp(desc->name, name, hdr.name_size))
			continue;
		if (pread(stats_fd, val, sizeof(*val),
			  hdr.data_offset + desc->offset) != sizeof(*val))
			r = -EIO;
		else
			r = 0;
		break;
	}
	free(desc);
	return r;
}

/* kvm_stats_read() on a VM or vCPU fd: opens and closes the stats fd. */
static inline int kvm_stat(int fd, const char *name, uint64_t *val)
{
	int stats_fd = kvm_stats_open(fd);
	int r;

	if (stats_fd < 0)
		return stats_fd;
	r = kvm_stats_read(stats_fd, name, val);
	close(stats_fd);
	return r;
}

#endif /* HVK_SELFTEST_KVM_STATS_H */
