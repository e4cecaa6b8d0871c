// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics file descriptors (KVM_GET_STATS_FD on a VM or a vCPU fd), in
 * KVM's binary format (stats.h).  The tables below name every statistic of
 * struct hvk_vm_stat and struct hvk_vcpu_stat; their layouts are rendered
 * once at module load.
 *
 * A stats fd is read-only and keeps the VM alive (vm->refs) while it is
 * open, so a vCPU's statistics outlive its fd too.  read() copies the
 * counters as they are while the vCPU may be updating them: a value may be
 * torn or one event behind, as on KVM.  Unlike KVM (noop_llseek), lseek()
 * moves the file position.
 */
#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "hvk.h"

/* KVM's names, where KVM counts the same event. */
static const struct hvk_stat_desc hvk_vm_stats_table[] = {
	HVK_STAT_ICOUNTER(hvk_vm_stat, pages_4k),
	HVK_STAT_ICOUNTER(hvk_vm_stat, pages_2m),
	HVK_STAT_ICOUNTER(hvk_vm_stat, pages_1g),
};

static const struct hvk_stat_desc hvk_vcpu_base_stats[] = {
	HVK_STAT_COUNTER(hvk_vcpu_stat, exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, io_exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, mmio_exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, halt_exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, signal_exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, irq_exits),
	HVK_STAT_COUNTER(hvk_vcpu_stat, hypercalls),

	/* hvk's own: round trips through user space (docs/abi.md). */
	HVK_STAT_NAMED(hvk_vcpu_stat, "userspace_cycles", userspace.cycles,
		       KVM_STATS_TYPE_CUMULATIVE, KVM_STATS_UNIT_CYCLES,
		       KVM_STATS_BASE_POW10, 0, 0),
	HVK_STAT_NAMED(hvk_vcpu_stat, "userspace_cycles_hist",
		       userspace.cycles_hist, KVM_STATS_TYPE_LOG_HIST,
		       KVM_STATS_UNIT_CYCLES, KVM_STATS_BASE_POW10, 0, 0),
};

/*
 * Then three per exit reason, named after it: "exit_<reason>" (count),
 * "exit_<reason>_cycles" (sum) and "exit_<reason>_cycles_hist".  Built at
 * load from hvk_exit_reason_names[]; these are reason 0's.
 */
static const struct hvk_stat_desc hvk_exit_stat_templates[] = {
	HVK_STAT_NAMED(hvk_vcpu_stat, NULL, exit[0].count,
		       KVM_STATS_TYPE_CUMULATIVE, KVM_STATS_UNIT_NONE,
		       KVM_STATS_BASE_POW10, 0, 0),
	HVK_STAT_NAMED(hvk_vcpu_stat, NULL, exit[0].time.cycles,
		       KVM_STATS_TYPE_CUMULATIVE, KVM_STATS_UNIT_CYCLES,
		       KVM_STATS_BASE_POW10, 0, 0),
	HVK_STAT_NAMED(hvk_vcpu_stat, NULL, exit[0].time.cycles_hist,
		       KVM_STATS_TYPE_LOG_HIST, KVM_STATS_UNIT_CYCLES,
		       KVM_STATS_BASE_POW10, 0, 0),
};

static const char *const hvk_exit_stat_suffixes[] = {
	"", "_cycles", "_cycles_hist",
};

#define HVK_EXIT_NR_STATS	ARRAY_SIZE(hvk_exit_stat_templates)
#define HVK_VCPU_NR_STATS	(ARRAY_SIZE(hvk_vcpu_base_stats) + \
				 HVK_EXIT_NR * HVK_EXIT_NR_STATS)

static struct hvk_stat_desc hvk_vcpu_stats_table[HVK_VCPU_NR_STATS]; /* (i) */
static char hvk_exit_stat_names[HVK_EXIT_NR][HVK_EXIT_NR_STATS]
			       [HVK_STATS_NAME_SIZE];			/* (i) */

/* Fill hvk_vcpu_stats_table; -EINVAL for a reason without a valid name. */
static int hvk_vcpu_stats_table_build(void)
{
	struct hvk_stat_desc *d = hvk_vcpu_stats_table;
	unsigned int i, j;

	memcpy(d, hvk_vcpu_base_stats, sizeof(hvk_vcpu_base_stats));
	d += ARRAY_SIZE(hvk_vcpu_base_stats);
	for (i = 0; i < HVK_EXIT_NR; i++) {
		const char *reason = hvk_exit_reason_names[i];

		if (WARN_ON_ONCE(!reason ||
				 strlen(reason) >= HVK_EXIT_NAME_SIZE))
			return -EINVAL;
		for (j = 0; j < HVK_EXIT_NR_STATS; j++, d++) {
			char *name = hvk_exit_stat_names[i][j];

			snprintf(name, HVK_STATS_NAME_SIZE, "exit_%s%s",
				 reason, hvk_exit_stat_suffixes[j]);
			*d = hvk_exit_stat_templates[j];
			d->name = name;
			d->offset += i * sizeof_field(struct hvk_vcpu_stat,
						      exit[0]);
		}
	}
	return 0;
}

static struct hvk_stats_layout hvk_vm_stats_layout;	/* (i) */
static struct hvk_stats_layout hvk_vcpu_stats_layout;	/* (i) */

/* A table that breaks KVM's rules is hvk's bug: the module does not load. */
static int hvk_stats_build(struct hvk_stats_layout *layout,
			   const struct hvk_stat_desc *table, unsigned int n,
			   size_t data_size)
{
	int r = hvk_stats_layout_init(layout, table, n, data_size);

	WARN_ON_ONCE(r == -EINVAL);
	return r;
}

int hvk_stats_init(void)
{
	int r;

	r = hvk_vcpu_stats_table_build();
	if (r)
		return r;
	r = hvk_stats_build(&hvk_vm_stats_layout, hvk_vm_stats_table,
			    ARRAY_SIZE(hvk_vm_stats_table),
			    sizeof(struct hvk_vm_stat));
	if (r)
		return r;
	r = hvk_stats_build(&hvk_vcpu_stats_layout, hvk_vcpu_stats_table,
			    ARRAY_SIZE(hvk_vcpu_stats_table),
			    sizeof(struct hvk_vcpu_stat));
	if (r)
		hvk_stats_layout_free(&hvk_vm_stats_layout);
	return r;
}

void hvk_stats_exit(void)
{
	hvk_stats_layout_free(&hvk_vcpu_stats_layout);
	hvk_stats_layout_free(&hvk_vm_stats_layout);
}

/* Any range of the file, as KVM: short at the end, 0 past it. */
static ssize_t hvk_stats_read(const struct hvk_stats_layout *layout,
			      const char *id, const void *data,
			      char __user *buf, size_t size, loff_t *ppos)
{
	u64 pos = *ppos;
	size_t done = 0;

	while (done < size) {
		const void *src;
		size_t n = hvk_stats_chunk(layout, id, data, pos, &src);

		if (!n)
			break;
		n = min(n, size - done);
		if (copy_to_user(buf + done, src, n))
			return -EFAULT;
		done += n;
		pos += n;
	}
	*ppos = pos;
	return done;
}

static ssize_t hvk_vm_stats_read(struct file *filp, char __user *buf,
				 size_t size, loff_t *ppos)
{
	struct hvk_vm *vm = filp->private_data;

	return hvk_stats_read(&hvk_vm_stats_layout, vm->stats_id, &vm->stat,
			      buf, size, ppos);
}

static loff_t hvk_vm_stats_llseek(struct file *filp, loff_t offset,
				  int whence)
{
	return fixed_size_llseek(filp, offset, whence,
				 hvk_stats_file_size(&hvk_vm_stats_layout));
}

static int hvk_vm_stats_release(struct inode *inode, struct file *filp)
{
	hvk_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations hvk_vm_stats_fops = {
	.owner = THIS_MODULE,
	.read = hvk_vm_stats_read,
	.llseek = hvk_vm_stats_llseek,
	.release = hvk_vm_stats_release,
};

static ssize_t hvk_vcpu_stats_read(struct file *filp, char __user *buf,
				   size_t size, loff_t *ppos)
{
	struct hvk_vcpu *vcpu = filp->private_data;

	return hvk_stats_read(&hvk_vcpu_stats_layout, vcpu->stats_id,
			      &vcpu->stat, buf, size, ppos);
}

static loff_t hvk_vcpu_stats_llseek(struct file *filp, loff_t offset,
				    int whence)
{
	return fixed_size_llseek(filp, offset, whence,
				 hvk_stats_file_size(&hvk_vcpu_stats_layout));
}

static int hvk_vcpu_stats_release(struct inode *inode, struct file *filp)
{
	struct hvk_vcpu *vcpu = filp->private_data;

	hvk_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations hvk_vcpu_stats_fops = {
	.owner = THIS_MODULE,
	.read = hvk_vcpu_stats_read,
	.llseek = hvk_vcpu_stats_llseek,
	.release = hvk_vcpu_stats_release,
};

/*
 * debugfs: /sys/kernel/debug/hvk/vm-<pid>-<n>/ holds "vm" and "vcpu<id>",
 * the bytes a stats fd of the VM or the vCPU reads (docs/abi.md), for tools
 * that attach to a VM they do not own.  The files hold no reference: the
 * VM removes its directory before it frees anything, and debugfs makes that
 * removal wait for reads in progress and fail later ones with -EIO
 * (debugfs_file_get()/put() around every call of these fops).
 */
static ssize_t hvk_debugfs_vm_read(struct file *filp, char __user *buf,
				   size_t size, loff_t *ppos)
{
	struct hvk_vm *vm = filp->private_data;

	return hvk_stats_read(&hvk_vm_stats_layout, vm->stats_id, &vm->stat,
			      buf, size, ppos);
}

static const struct file_operations hvk_debugfs_vm_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = hvk_debugfs_vm_read,
	.llseek = hvk_vm_stats_llseek,
};

static const struct file_operations hvk_debugfs_vcpu_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = hvk_vcpu_stats_read,
	.llseek = hvk_vcpu_stats_llseek,
};

void hvk_vm_debugfs_init(struct hvk_vm *vm)
{
	static atomic_t nr_vms = ATOMIC_INIT(0);
	char name[32];

	snprintf(name, sizeof(name), "vm-%d-%d", task_pid_nr(current),
		 atomic_inc_return(&nr_vms));
	vm->debugfs_dir = debugfs_create_dir(name, hvk_debugfs_dir);
	debugfs_create_file_size("vm", 0400, vm->debugfs_dir, vm,
				 &hvk_debugfs_vm_fops,
				 hvk_stats_file_size(&hvk_vm_stats_layout));
}

void hvk_vcpu_debugfs_init(struct hvk_vcpu *vcpu)
{
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	debugfs_create_file_size(name, 0400, vcpu->vm->debugfs_dir, vcpu,
				 &hvk_debugfs_vcpu_fops,
				 hvk_stats_file_size(&hvk_vcpu_stats_layout));
}

void hvk_vm_debugfs_destroy(struct hvk_vm *vm)
{
	debugfs_remove(vm->debugfs_dir);
}

/* A read-only fd on @priv that holds a reference to @vm. */
static int hvk_stats_fd(const char *name, const struct file_operations *fops,
			void *priv, struct hvk_vm *vm)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile(name, fops, priv, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	hvk_vm_get(vm);
	/* Anonymous inodes do not get pread and lseek by default. */
	file->f_mode |= FMODE_PREAD | FMODE_LSEEK;
	fd_install(fd, file);
	return fd;
}

int hvk_vm_get_stats_fd(struct hvk_vm *vm)
{
	return hvk_stats_fd("hvk-vm-stats", &hvk_vm_stats_fops, vm, vm);
}

int hvk_vcpu_get_stats_fd(struct hvk_vcpu *vcpu)
{
	char name[32];

	snprintf(name, sizeof(name), "hvk-vcpu-stats:%u", vcpu->id);
	return hvk_stats_fd(name, &hvk_vcpu_stats_fops, vcpu, vcpu->vm);
}
