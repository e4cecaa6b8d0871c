/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvk's user-space API beyond KVM's.
 *
 * /dev/hvk and the VM and vCPU descriptors it creates implement the KVM ABI:
 * use <linux/kvm.h>, KVMIO ioctls and KVM_CHECK_EXTENSION as with /dev/kvm.
 * What KVM does not have lives here, under an ioctl type of its own so that
 * no hvk extension can ever be mistaken for a KVM ioctl, and is announced by
 * a capability number far above KVM's.
 */
#ifndef _UAPI_LINUX_HVK_H
#define _UAPI_LINUX_HVK_H

#include <linux/ioctl.h>

/* hvk extension ioctls: type HVKIO, numbers 0x80 to 0xff. */
#define HVKIO			0xAF
#define HVK_IOCTL_NR_FIRST	0x80

/* hvk extension capabilities start here (KVM_CHECK_EXTENSION). */
#define HVK_CAP_BASE		0x10000

#endif /* _UAPI_LINUX_HVK_H */
