// SPDX-License-Identifier: GPL-2.0
/*
 * hvk: a hypervisor with the KVM ioctl ABI.
 *
 * Module entry: pick the vendor backend this CPU supports, enable
 * virtualization on every CPU, and serve /dev/hvk.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "hvk.h"

struct dentry *hvk_debugfs_dir;

static const struct hvk_vendor *const hvk_vendors[] = {
	&hvk_vmx_vendor,
	&hvk_svm_vendor,
};

const struct hvk_vendor *hvk_vendor;	/* (i) chosen at load */

static long hvk_dev_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return hvk_check_extension(NULL, arg);
	case KVM_CREATE_VM:
		return hvk_create_vm(arg);
	case KVM_GET_MSR_INDEX_LIST:
		return hvk_get_msr_index_list((void __user *)arg);
	case KVM_GET_SUPPORTED_CPUID:
		return hvk_get_supported_cpuid((void __user *)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return HVK_VCPU_MMAP_PAGES * PAGE_SIZE;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvk_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvk_dev_ioctl,
	.compat_ioctl = hvk_dev_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hvk_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hvk",
	.fops = &hvk_dev_fops,
	.mode = 0600,
};

static const struct hvk_vendor *hvk_pick_vendor(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hvk_vendors); i++)
		if (hvk_vendors[i]->present())
			return hvk_vendors[i];
	return NULL;
}

static int __init hvk_init(void)
{
	int r;

	hvk_vendor = hvk_pick_vendor();
	if (!hvk_vendor) {
		pr_err("hvk: this CPU has neither Intel VT-x (VMX) nor AMD-V (SVM)\n");
		return -ENODEV;
	}
	r = hvk_vendor->check_support();
	if (r)
		return r;
	r = hvk_vendor->setup();
	if (r)
		return r;
	hvk_fpu_setup();
	r = hvk_stats_init();
	if (r) {
		hvk_vendor->unsetup();
		return r;
	}

	/* vCPUs follow their thread between CPUs (vcpu.c). */
	preempt_notifier_inc();
	hvk_debugfs_dir = debugfs_create_dir("hvk", NULL);
	r = hvk_virt_init(hvk_vendor);
	if (r)
		goto err_virt;
	r = misc_register(&hvk_dev);
	if (r) {
		pr_err("hvk: cannot register /dev/hvk (%d)\n", r);
		goto err_misc;
	}
	pr_info("hvk: %s enabled on %u of %u online CPUs\n", hvk_vendor->name,
		hvk_virt_count_enabled(), num_online_cpus());
	return 0;

err_misc:
	hvk_virt_exit();
err_virt:
	debugfs_remove(hvk_debugfs_dir);
	preempt_notifier_dec();
	hvk_stats_exit();
	hvk_vendor->unsetup();
	return r;
}

static void __exit hvk_exit(void)
{
	misc_deregister(&hvk_dev);
	hvk_virt_exit();
	debugfs_remove(hvk_debugfs_dir);
	preempt_notifier_dec();
	hvk_stats_exit();
	hvk_vendor->unsetup();
}

module_init(hvk_init);
module_exit(hvk_exit);
MODULE_DESCRIPTION("hvk: a hypervisor with the KVM ioctl ABI");
MODULE_LICENSE("GPL");
