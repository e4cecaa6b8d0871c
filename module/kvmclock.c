// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock, KVM's paravirtual clock (Documentation/virt/kvm/x86/msr.rst):
 * MSR_KVM_SYSTEM_TIME_NEW points a vCPU at a struct pvclock_vcpu_time_info
 * in guest memory, from which the guest computes the time in nanoseconds
 * out of its own TSC, without calibrating anything; MSR_KVM_WALL_CLOCK_NEW
 * asks for the wall-clock time at which that clock read 0.
 *
 * The VM has one clock, a linear function of the host TSC: it read
 * vm->clock_ns when the host TSC read vm->clock_host_tsc, and advances at
 * the host's tsc_khz since.  Every vCPU gets the same reference point
 * (tsc_timestamp is that host TSC plus the VM's TSC offset, i.e. the guest
 * TSC then), so all vCPUs compute exactly the same time from the same TSC
 * value and never disagree; the page changes only when the reference or the
 * TSC offset changes (KVM_SET_CLOCK, a TSC or TSC_ADJUST write), through
 * HVK_REQ_CLOCK_UPDATE.  The guest TSC is the host's plus one offset per VM,
 * so moving a vCPU thread to another CPU changes nothing here as long as
 * the host's TSCs agree, which PVCLOCK_TSC_STABLE_BIT promises only when
 * the kernel trusts them (constant rate, not marked unstable).
 */
#include <linux/kvm.h>
#include <linux/math64.h>
#include <linux/spinlock.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "hvk.h"

#define HVK_CLOCK_FLAGS	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | \
			 KVM_CLOCK_HOST_TSC)

bool hvk_tsc_stable(void)
{
	return boot_cpu_has(X86_FEATURE_CONSTANT_TSC) && !check_tsc_unstable();
}

/*
 * The pvclock scale for the host's TSC rate: ns = ((ticks << shift) * mul)
 * >> 32 with mul < 2^32, so ticks << shift must outnumber nanoseconds.
 */
static void hvk_tsc_scale(u32 *mul, s8 *shift)
{
	u64 hz = (u64)tsc_khz * 1000;
	s8 s = 0;

	if (WARN_ON_ONCE(!hz))
		hz = NSEC_PER_SEC;
	while ((hz << s) <= NSEC_PER_SEC)
		s++;
	*mul = div64_u64((u64)NSEC_PER_SEC << 32, hz << s);
	*shift = s;
}

/* The VM's clock at host TSC @tsc, computed as the guest computes it. */
static u64 hvk_clock_at(struct hvk_vm *vm, u64 tsc)
{
	s64 delta = tsc - vm->clock_host_tsc;
	u32 mul;
	s8 shift;

	lockdep_assert_held(&vm->clock_lock);
	hvk_tsc_scale(&mul, &shift);
	/* A CPU whose TSC lags the reference's a little: no time yet. */
	if (delta < 0)
		delta = 0;
	return vm->clock_ns + pvclock_scale_delta(delta, mul, shift);
}

void hvk_kvmclock_init(struct hvk_vm *vm)
{
	/* As KVM's, the clock starts at 0 when the VM is created. */
	spin_lock_init(&vm->clock_lock);
	vm->clock_host_tsc = rdtsc();
	vm->clock_ns = 0;
}

/*
 * Write the vCPU's pvclock_vcpu_time_info, if enabled, with the version
 * odd while the rest changes (the guest retries until it reads the same
 * even version before and after).  Guest memory that cannot be written
 * leaves the guest without a clock update, as on KVM.
 */
void hvk_kvmclock_update(struct hvk_vcpu *vcpu)
{
	struct hvk_vm *vm = vcpu->vm;
	struct pvclock_vcpu_time_info ti = { 0 };
	u64 gpa = vcpu->msrs.kvmclock & ~1ULL;

	if (!(vcpu->msrs.kvmclock & 1))
		return;
	spin_lock(&vm->clock_lock);
	ti.tsc_timestamp = vm->clock_host_tsc + READ_ONCE(vm->tsc_offset);
	ti.system_time = vm->clock_ns;
	spin_unlock(&vm->clock_lock);
	hvk_tsc_scale(&ti.tsc_to_system_mul, &ti.tsc_shift);
	ti.flags = hvk_tsc_stable() ? PVCLOCK_TSC_STABLE_BIT : 0;

	ti.version = (vcpu->msrs.kvmclock_version + 1) | 1;
	if (hvk_write_guest(vm, gpa, &ti.version, sizeof(ti.version)))
		return;
	/* The odd version is visible before the fields change... */
	smp_wmb();
	hvk_write_guest(vm, gpa, &ti, sizeof(ti));
	/* ...and they are before the even one. */
	smp_wmb();
	ti.version++;
	hvk_write_guest(vm, gpa, &ti.version, sizeof(ti.version));
	vcpu->msrs.kvmclock_version = ti.version;
}

/*
 * struct pvclock_wall_clock at @gpa: the wall-clock time at which the
 * VM's clock read 0, so that the guest adds its kvmclock to it.  The
 * version continues from what the guest memory holds.
 */
void hvk_kvmclock_write_wall_clock(struct hvk_vcpu *vcpu, u64 gpa)
{
	struct hvk_vm *vm = vcpu->vm;
	struct pvclock_wall_clock wc = { 0 };
	unsigned long flags;
	u64 boot_ns;
	u32 version;

	spin_lock_irqsave(&vm->clock_lock, flags);
	boot_ns = ktime_get_real_ns() - hvk_clock_at(vm, rdtsc());
	spin_unlock_irqrestore(&vm->clock_lock, flags);

	if (hvk_read_guest(vm, gpa, &version, sizeof(version)))
		return;
	wc.version = (version + 1) | 1;
	if (hvk_write_guest(vm, gpa, &wc.version, sizeof(wc.version)))
		return;
	/* Odd version first, fields, then even: as for the time info. */
	smp_wmb();
	wc.sec = div_u64_rem(boot_ns, NSEC_PER_SEC, &wc.nsec);
	hvk_write_guest(vm, gpa, &wc, sizeof(wc));
	/* Pairs with the guest's read of the version after the fields. */
	smp_wmb();
	wc.version++;
	hvk_write_guest(vm, gpa, &wc.version, sizeof(wc.version));
}

/*
 * KVM_GET_CLOCK and KVM_SET_CLOCK (api.rst 4.63): the clock now, with the
 * wall-clock time and host TSC read at the same moment; setting it moves
 * the VM's clock (and every vCPU's page) to the value given, plus the
 * wall-clock time elapsed since @realtime with KVM_CLOCK_REALTIME.
 */
int hvk_clock_ioctl(struct hvk_vm *vm, struct kvm_clock_data __user *argp,
		    bool set)
{
	struct kvm_clock_data d;
	unsigned long flags;
	u64 now;

	if (!set) {
		memset(&d, 0, sizeof(d));
		spin_lock_irqsave(&vm->clock_lock, flags);
		d.host_tsc = rdtsc();
		d.realtime = ktime_get_real_ns();
		d.clock = hvk_clock_at(vm, d.host_tsc);
		spin_unlock_irqrestore(&vm->clock_lock, flags);
		d.flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC |
			  (hvk_tsc_stable() ? KVM_CLOCK_TSC_STABLE : 0);
		return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
	}
	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	/* As KVM: the flags KVM_GET_CLOCK reports, the rest refused. */
	if (d.flags & ~HVK_CLOCK_FLAGS)
		return -EINVAL;
	spin_lock_irqsave(&vm->clock_lock, flags);
	now = ktime_get_real_ns();
	if ((d.flags & KVM_CLOCK_REALTIME) && now > d.realtime)
		d.clock += now - d.realtime;
	vm->clock_host_tsc = rdtsc();
	vm->clock_ns = d.clock;
	spin_unlock_irqrestore(&vm->clock_lock, flags);
	hvk_vm_request_all(vm, HVK_REQ_CLOCK_UPDATE);
	return 0;
}

/*
 * KVM_SET_TSC_KHZ: no TSC scaling, so the guest's TSC runs at the host's
 * rate; 0 means that rate, as does a value within KVM's tolerance of it
 * (250 ppm).  Others are -EINVAL, as on KVM without scaling for a lower
 * rate (KVM accepts a higher one by catching the TSC up on entries; hvk
 * does not).
 */
int hvk_set_tsc_khz(u32 khz)
{
	u64 tol = (u64)tsc_khz * 250 / 1000000;

	if (!khz || (khz >= tsc_khz - tol && khz <= tsc_khz + tol))
		return 0;
	return -EINVAL;
}
