// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfds (KVM_IOEVENTFD, api.rst 4.59): a guest write to a registered
 * port or guest-physical address signals an eventfd in the kernel, and the
 * guest goes on without an exit to user space.  A registration matches a
 * write at exactly its address, of its length (any length if 0), and of
 * its value if it has one (KVM_IOEVENTFD_FLAG_DATAMATCH).
 *
 * The writes come from the exit handlers: port I/O (OUT, exits.c) and
 * emulated MMIO writes (mmio.c), after the in-kernel irqchip had its look.
 * They find the registration in a sorted array, searched by binary search
 * under RCU: vCPUs never wait for the ioctl, and a VM without
 * registrations pays one pointer load.  The ioctl copies the array,
 * changed, and publishes the copy; an eventfd leaves only after a grace
 * period, so that a vCPU inside the old array may still signal it.
 *
 * Registrations are checked as KVM checks them, so that the same calls
 * succeed and fail alike on both:
 * - assign: len 0, 1, 2, 4 or 8; addr + len must not wrap; flags within
 *   KVM_IOEVENTFD_VALID_FLAG_MASK (KVM accepts VIRTIO_CCW_NOTIFY on x86,
 *   on a bus no x86 access reaches; so does hvk); no DATAMATCH with len 0;
 *   then the fd (EBADF, or EINVAL if not an eventfd); EEXIST if a write
 *   could match both it and an existing registration on its bus;
 * - deassign: finds the registration of the same bus, eventfd, address,
 *   length and datamatch (or none), else ENOENT; no other checks.
 */
#include <linux/eventfd.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hvk.h"

/*
 * Registrations per VM.  KVM counts none against its 1000 I/O bus
 * devices (NR_IOBUS_DEVS); its bound is the size it can allocate.  hvk's
 * is a number, far above what virtio devices register.
 */
#define HVK_MAX_IOEVENTFDS	32768

/* The address spaces a registration may be on; KVM's buses. */
enum hvk_iobus {
	HVK_IOBUS_MMIO,
	HVK_IOBUS_PIO,
	HVK_IOBUS_CCW,		/* virtio-ccw's (s390): never written on x86 */
};

struct hvk_ioeventfd {
	u64 addr;
	u64 datamatch;		/* unless wildcard */
	struct eventfd_ctx *eventfd;	/* a reference of its own */
	u32 len;		/* 1, 2, 4, 8; 0 = a write of any length */
	u8 bus;			/* enum hvk_iobus */
	bool wildcard;		/* no DATAMATCH: any value */
};

/* Immutable once published; sorted by bus, then address. */
struct hvk_ioeventfds {
	struct rcu_head rcu;
	unsigned int nr;
	struct hvk_ioeventfd e[];
};

/* Linux 6.8 dropped eventfd_signal()'s count (Kbuild): it adds 1. */
static void hvk_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef HVK_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* The first entry at or after (@bus, @addr). */
static unsigned int ioeventfds_find(const struct hvk_ioeventfds *t, u8 bus,
				    u64 addr)
{
	unsigned int lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct hvk_ioeventfd *p = &t->e[mid];

		if (p->bus < bus || (p->bus == bus && p->addr < addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool ioeventfd_at(const struct hvk_ioeventfds *t, unsigned int i,
			 u8 bus, u64 addr)
{
	return i < t->nr && t->e[i].bus == bus && t->e[i].addr == addr;
}

/* Does a write of @len bytes of @data at @p's address match @p? */
static bool ioeventfd_matches(const struct hvk_ioeventfd *p, unsigned int len,
			      const void *data)
{
	u64 val = 0;

	if (!p->len)
		return true;
	if (p->len != len)
		return false;
	if (p->wildcard)
		return true;
	/* x86 is little-endian: the bytes written are the value's low ones. */
	memcpy(&val, data, len);
	return val == p->datamatch;
}

/*
 * Could one write match both @a and @b (same bus and address)?  A
 * length-0 registration takes every write there; otherwise only writes
 * of the same length, and one value matches both unless both have
 * different datamatch values.  At most one registration matches a write.
 */
static bool ioeventfds_collide(const struct hvk_ioeventfd *a,
			       const struct hvk_ioeventfd *b)
{
	if (!a->len || !b->len)
		return true;
	if (a->len != b->len)
		return false;
	return a->wildcard || b->wildcard || a->datamatch == b->datamatch;
}

bool hvk_ioeventfd_write(struct hvk_vm *vm, bool pio, u64 addr,
			 unsigned int len, const void *data)
{
	u8 bus = pio ? HVK_IOBUS_PIO : HVK_IOBUS_MMIO;
	const struct hvk_ioeventfds *t;
	bool hit = false;
	unsigned int i;

	if (!rcu_access_pointer(vm->ioeventfds))
		return false;
	rcu_read_lock();
	t = rcu_dereference(vm->ioeventfds);
	if (t) {
		for (i = ioeventfds_find(t, bus, addr);
		     ioeventfd_at(t, i, bus, addr); i++) {
			if (ioeventfd_matches(&t->e[i], len, data)) {
				hvk_eventfd_signal(t->e[i].eventfd);
				hit = true;
				break;
			}
		}
	}
	rcu_read_unlock();
	return hit;
}

static struct hvk_ioeventfds *ioeventfds_alloc(unsigned int nr)
{
	struct hvk_ioeventfds *t;

	t = kvmalloc(struct_size(t, e, nr), GFP_KERNEL_ACCOUNT);
	if (t)
		t->nr = nr;
	return t;
}

static u8 ioeventfd_bus(u32 flags)
{
	if (flags & KVM_IOEVENTFD_FLAG_PIO)
		return HVK_IOBUS_PIO;
	if (flags & KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)
		return HVK_IOBUS_CCW;
	return HVK_IOBUS_MMIO;
}

static struct hvk_ioeventfds *ioeventfds_locked(struct hvk_vm *vm)
{
	return rcu_dereference_protected(vm->ioeventfds,
					 lockdep_is_held(&vm->ioeventfds_lock));
}

static int hvk_ioeventfd_assign(struct hvk_vm *vm,
				const struct kvm_ioeventfd *args)
{
	struct hvk_ioeventfd p = {
		.addr = args->addr,
		.len = args->len,
		.bus = ioeventfd_bus(args->flags),
		.wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH),
	};
	struct hvk_ioeventfds *old, *t;
	unsigned int i, pos, nr = 0;
	int r;

	switch (args->len) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	if (args->flags & ~KVM_IOEVENTFD_VALID_FLAG_MASK)
		return -EINVAL;
	if (!args->len && !p.wildcard)
		return -EINVAL;
	if (!p.wildcard)
		p.datamatch = args->datamatch;

	p.eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(p.eventfd))
		return PTR_ERR(p.eventfd);

	mutex_lock(&vm->ioeventfds_lock);
	old = ioeventfds_locked(vm);
	pos = 0;
	if (old) {
		nr = old->nr;
		pos = ioeventfds_find(old, p.bus, p.addr);
		for (i = pos; ioeventfd_at(old, i, p.bus, p.addr); i++) {
			if (ioeventfds_collide(&old->e[i], &p)) {
				r = -EEXIST;
				goto fail;
			}
		}
	}
	if (nr >= HVK_MAX_IOEVENTFDS) {
		r = -ENOSPC;
		goto fail;
	}
	t = ioeventfds_alloc(nr + 1);
	if (!t) {
		r = -ENOMEM;
		goto fail;
	}
	if (old) {
		memcpy(t->e, old->e, pos * sizeof(t->e[0]));
		memcpy(t->e + pos + 1, old->e + pos,
		       (nr - pos) * sizeof(t->e[0]));
	}
	t->e[pos] = p;
	rcu_assign_pointer(vm->ioeventfds, t);
	mutex_unlock(&vm->ioeventfds_lock);
	/* Readers of the old table signal only eventfds the new one holds. */
	if (old)
		kvfree_rcu(old, rcu);
	return 0;

fail:
	mutex_unlock(&vm->ioeventfds_lock);
	eventfd_ctx_put(p.eventfd);
	return r;
}

static int hvk_ioeventfd_deassign(struct hvk_vm *vm,
				  const struct kvm_ioeventfd *args)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	u8 bus = ioeventfd_bus(args->flags);
	struct hvk_ioeventfds *old, *t = NULL;
	struct eventfd_ctx *eventfd, *gone;
	unsigned int i;
	int r = -ENOENT;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);

	mutex_lock(&vm->ioeventfds_lock);
	old = ioeventfds_locked(vm);
	if (!old)
		goto out;
	for (i = ioeventfds_find(old, bus, args->addr);
	     ioeventfd_at(old, i, bus, args->addr); i++) {
		const struct hvk_ioeventfd *p = &old->e[i];

		if (p->eventfd == eventfd && p->len == args->len &&
		    p->wildcard == wildcard &&
		    (wildcard || p->datamatch == args->datamatch))
			break;
	}
	if (!ioeventfd_at(old, i, bus, args->addr))
		goto out;
	if (old->nr > 1) {
		t = ioeventfds_alloc(old->nr - 1);
		if (!t) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(t->e, old->e, i * sizeof(t->e[0]));
		memcpy(t->e + i, old->e + i + 1,
		       (old->nr - i - 1) * sizeof(t->e[0]));
	}
	gone = old->e[i].eventfd;
	rcu_assign_pointer(vm->ioeventfds, t);
	mutex_unlock(&vm->ioeventfds_lock);

	/* A vCPU may still be signalling it through the old table. */
	synchronize_rcu();
	kvfree(old);
	eventfd_ctx_put(gone);
	eventfd_ctx_put(eventfd);
	return 0;

out:
	mutex_unlock(&vm->ioeventfds_lock);
	eventfd_ctx_put(eventfd);
	return r;
}

long hvk_ioeventfd_ioctl(struct hvk_vm *vm, struct kvm_ioeventfd __user *argp)
{
	struct kvm_ioeventfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return hvk_ioeventfd_deassign(vm, &args);
	return hvk_ioeventfd_assign(vm, &args);
}

void hvk_ioeventfd_vm_destroy(struct hvk_vm *vm)
{
	/* The VM's last reference is gone: no vCPU, no ioctl left. */
	struct hvk_ioeventfds *t = rcu_dereference_protected(vm->ioeventfds,
							     true);
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->nr; i++)
		eventfd_ctx_put(t->e[i].eventfd);
	kvfree(t);
	RCU_INIT_POINTER(vm->ioeventfds, NULL);
}
