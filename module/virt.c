// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU enablement of VMX or SVM for the lifetime of the module.
 *
 * Virtualization is switched on for every online CPU when the module loads,
 * on each CPU that comes online later, and off when a CPU goes offline, when
 * the module unloads, before a reboot or kexec, and in an emergency (crash
 * kexec, emergency reboot).  A CPU left in VMX operation would ignore INIT
 * and a kexec'd kernel could not start it.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <asm/reboot.h>

#include "hvk.h"

static const struct hvk_vendor *virt_vendor;	/* (i) set at init */
static enum cpuhp_state virt_cpuhp_state;	/* (i) dynamic state id */
static struct dentry *virt_debugfs_file;

static int virt_cpu_online(unsigned int cpu)
{
	int r;

	/* Runs on @cpu, in its hotplug thread. */
	preempt_disable();
	r = virt_vendor->enable_cpu();
	preempt_enable();
	if (r == -EBUSY)
		pr_err("hvk: %s is already in use on CPU %u by another hypervisor (kvm_intel or kvm_amd loaded?)\n",
		       virt_vendor->name, cpu);
	else if (r)
		pr_err("hvk: CPU %u refused to enable %s (%d)\n",
		       cpu, virt_vendor->name, r);
	return r;
}

static int virt_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	virt_vendor->disable_cpu();
	preempt_enable();
	return 0;
}

static void virt_disable_this_cpu(void *unused)
{
	virt_vendor->disable_cpu();
}

static int virt_reboot(struct notifier_block *nb, unsigned long code,
		       void *unused)
{
	on_each_cpu(virt_disable_this_cpu, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block virt_reboot_nb = {
	.notifier_call = virt_reboot,
	/* After anything that may still use a guest, before the CPUs stop. */
	.priority = 0,
};

static void virt_note_enabled(void *mask)
{
	if (virt_vendor->cpu_enabled())
		cpumask_set_cpu(smp_processor_id(), mask);
}

/* Which CPUs are in VMX operation or have EFER.SVME set, asked of each. */
static void virt_enabled_mask(struct cpumask *mask)
{
	cpumask_clear(mask);
	cpus_read_lock();
	on_each_cpu(virt_note_enabled, mask, 1);
	cpus_read_unlock();
}

unsigned int hvk_virt_count_enabled(void)
{
	cpumask_var_t mask;
	unsigned int n;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return 0;
	virt_enabled_mask(mask);
	n = cpumask_weight(mask);
	free_cpumask_var(mask);
	return n;
}

static int enabled_cpus_show(struct seq_file *m, void *unused)
{
	cpumask_var_t mask;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	virt_enabled_mask(mask);
	seq_printf(m, "%*pbl\n", cpumask_pr_args(mask));
	free_cpumask_var(mask);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(enabled_cpus);

int hvk_virt_init(const struct hvk_vendor *vendor)
{
	int r;

	virt_vendor = vendor;
	/*
	 * Runs virt_cpu_online() on every online CPU; if one fails, the CPUs
	 * already enabled are disabled again and the error is returned.
	 */
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "hvk:online",
			      virt_cpu_online, virt_cpu_offline);
	if (r < 0)
		return r;
	virt_cpuhp_state = r;
	/*
	 * The kernel keeps one emergency callback, and it belongs to whoever
	 * owns virtualization: register only once the CPUs are hvk's, so that
	 * a load refused because KVM owns them leaves KVM's in place.
	 */
	cpu_emergency_register_virt_callback(vendor->emergency_disable_cpu);
	register_reboot_notifier(&virt_reboot_nb);
	virt_debugfs_file = debugfs_create_file("enabled_cpus", 0400,
						hvk_debugfs_dir, NULL,
						&enabled_cpus_fops);
	return 0;
}

void hvk_virt_exit(void)
{
	debugfs_remove(virt_debugfs_file);
	unregister_reboot_notifier(&virt_reboot_nb);
	cpuhp_remove_state(virt_cpuhp_state);
	cpu_emergency_unregister_virt_callback(virt_vendor->emergency_disable_cpu);
}
