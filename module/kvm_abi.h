/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM ABI as hvk implements it.  The ABI is fixed by its numbers and
 * layouts, not by the kernel hvk is built for: where the kernel's
 * <linux/kvm.h> is older than a part of the ABI hvk serves, that part is
 * declared here with KVM's values.
 */
#ifndef HVK_KVM_ABI_H
#define HVK_KVM_ABI_H

#include <linux/kvm.h>

/* Linux 6.8: memory slots with guest_memfd. */
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2		231
#define KVM_MEM_GUEST_MEMFD		(1UL << 2)

struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2	_IOW(KVMIO, 0x49, \
					     struct kvm_userspace_memory_region2)
#endif

#endif /* HVK_KVM_ABI_H */
