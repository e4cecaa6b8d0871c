/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvk core: the interface between the vendor-neutral core and the vendor
 * backends (module/vmx, module/svm).  The core never asks which vendor it
 * runs on; it calls through the backend's struct hvk_vendor.
 */
#ifndef HVK_H
#define HVK_H

#include <linux/types.h>

/*
 * A vendor backend.  Every callback except ->present() and ->check_support()
 * is called only after ->check_support() succeeded.
 */
struct hvk_vendor {
	const char *name;	/* "VMX" or "SVM", for messages */

	/* Does this CPU implement the extension at all (raw CPUID)? */
	bool (*present)(void);
	/*
	 * Does it have everything hvk needs?  0, or -ENODEV after printing
	 * one line naming the missing feature.
	 */
	int (*check_support)(void);

	/* Allocate and free per-CPU state for every possible CPU. */
	int (*setup)(void);
	void (*unsetup)(void);

	/*
	 * Enter and leave virtualization on the calling CPU (preemption
	 * disabled).  ->enable_cpu() returns -EBUSY when another hypervisor
	 * already owns the extension, -EIO when the CPU refused.
	 * ->disable_cpu() is a no-op on a CPU that is not enabled.
	 * ->emergency_disable_cpu() does only what a crash or emergency
	 * reboot needs, from NMI context.
	 */
	int (*enable_cpu)(void);
	void (*disable_cpu)(void);
	void (*emergency_disable_cpu)(void);
	/* Is virtualization on in the calling CPU's hardware state? */
	bool (*cpu_enabled)(void);
};

extern const struct hvk_vendor hvk_vmx_vendor;
extern const struct hvk_vendor hvk_svm_vendor;

struct dentry;

/* The module's debugfs directory, /sys/kernel/debug/hvk (may be an error). */
extern struct dentry *hvk_debugfs_dir;

/* virt.c: per-CPU enablement for the lifetime of the module. */
int hvk_virt_init(const struct hvk_vendor *vendor);
void hvk_virt_exit(void);
unsigned int hvk_virt_count_enabled(void);

#endif /* HVK_H */
