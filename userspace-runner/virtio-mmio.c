// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2 "MMIO Device
 * Register Layout"), and split virtqueues (2.7).  Each device has a page of
 * MMIO space at VIRTIO_MMIO_GPA + index * VIRTIO_MMIO_SIZE and ISA line
 * IRQ_VIRTIO_FIRST + index, announced on the kernel command line
 * (virtio_mmio.device=SIZE@ADDR:IRQ), so no firmware table names them.
 * A write to QueueNotify goes to an eventfd, through the device's
 * ioeventfd when it has one, and the device's thread serves the queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "virtio.h"

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR		0x4b5648	/* "HVK" */

/* Registers (4.2.2). */
#define REG_MAGIC			0x000
#define REG_VERSION			0x004
#define REG_DEVICE_ID			0x008
#define REG_VENDOR_ID			0x00c
#define REG_DEVICE_FEATURES		0x010
#define REG_DEVICE_FEATURES_SEL		0x014
#define REG_DRIVER_FEATURES		0x020
#define REG_DRIVER_FEATURES_SEL		0x024
#define REG_QUEUE_SEL			0x030
#define REG_QUEUE_NUM_MAX		0x034
#define REG_QUEUE_NUM			0x038
#define REG_QUEUE_READY			0x044
#define REG_QUEUE_NOTIFY		0x050
#define REG_INTERRUPT_STATUS		0x060
#define REG_INTERRUPT_ACK		0x064
#define REG_STATUS			0x070
#define REG_QUEUE_DESC_LOW		0x080
#define REG_QUEUE_DESC_HIGH		0x084
#define REG_QUEUE_DRIVER_LOW		0x090
#define REG_QUEUE_DRIVER_HIGH		0x094
#define REG_QUEUE_DEVICE_LOW		0x0a0
#define REG_QUEUE_DEVICE_HIGH		0x0a4
#define REG_CONFIG_GENERATION		0x0fc
#define REG_CONFIG			0x100

#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_INT_USED_BUFFER		1

/* Split virtqueue layout (2.7.5, 2.7.6, 2.7.8). */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2
#define VIRTQ_DESC_F_INDIRECT		4

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void set_low(uint64_t *v, uint32_t low)
{
	*v = (*v & ~0xffffffffULL) | low;
}

static void set_high(uint64_t *v, uint32_t high)
{
	*v = (*v & 0xffffffffULL) | (uint64_t)high << 32;
}

static void virtio_reset(struct virtio_dev *dev)
{
	unsigned int i;

	dev->status = dev->isr = dev->queue_sel = 0;
	dev->dev_features_sel = dev->drv_features_sel = 0;
	dev->driver_features = 0;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *q = &dev->vq[i];

		q->num = VIRTIO_QUEUE_MAX;
		q->ready = false;
		q->desc = q->avail = q->used = 0;
		q->last_avail = 0;
	}
	if (dev->ops->status)
		dev->ops->status(dev, false);
}

static uint64_t virtio_features(struct virtio_dev *dev)
{
	return dev->ops->features | 1ULL << VIRTIO_F_VERSION_1;
}

static uint32_t virtio_reg_read(struct virtio_dev *dev, unsigned int reg)
{
	struct virtq *q = &dev->vq[dev->queue_sel];
	bool valid_q = dev->queue_sel < dev->ops->num_queues;

	switch (reg) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return dev->ops->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		if (dev->dev_features_sel > 1)
			return 0;
		return virtio_features(dev) >> (32 * dev->dev_features_sel);
	case REG_QUEUE_NUM_MAX:
		return valid_q ? VIRTIO_QUEUE_MAX : 0;
	case REG_QUEUE_READY:
		return valid_q && q->ready;
	case REG_INTERRUPT_STATUS:
		return dev->isr;
	case REG_STATUS:
		return dev->status;
	case REG_CONFIG_GENERATION:
		return 0;
	}
	return 0;
}

static void virtio_notify(struct virtio_dev *dev, uint32_t q)
{
	uint64_t one = 1;

	if (q < dev->ops->num_queues &&
	    write(dev->vq[q].notify_fd, &one, sizeof(one)) != sizeof(one))
		machine_stop(STOP_ERROR, "virtio: notify: %s", strerror(errno));
}

static void virtio_reg_write(struct virtio_dev *dev, unsigned int reg,
			     uint32_t val)
{
	struct virtq *q = &dev->vq[dev->queue_sel];
	bool valid_q = dev->queue_sel < dev->ops->num_queues;

	switch (reg) {
	case REG_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = val;
		break;
	case REG_DRIVER_FEATURES:
		if (dev->drv_features_sel == 0)
			set_low(&dev->driver_features, val);
		else if (dev->drv_features_sel == 1)
			set_high(&dev->driver_features, val);
		dev->driver_features &= virtio_features(dev);
		break;
	case REG_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = val;
		break;
	case REG_QUEUE_SEL:
		if (val < VIRTIO_MAX_QUEUES)
			dev->queue_sel = val;
		break;
	case REG_QUEUE_NUM:
		/* Split queues come in powers of two (2.7). */
		if (valid_q && val && val <= VIRTIO_QUEUE_MAX &&
		    !(val & (val - 1)))
			q->num = val;
		break;
	case REG_QUEUE_READY:
		if (valid_q)
			q->ready = val & 1;
		break;
	case REG_QUEUE_NOTIFY:
		virtio_notify(dev, val);
		break;
	case REG_INTERRUPT_ACK:
		dev->isr &= ~val;
		break;
	case REG_STATUS:
		if (!val) {
			virtio_reset(dev);
			break;
		}
		if (val & VIRTIO_STATUS_DRIVER_OK &&
		    !(dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->ops->status) {
			dev->status = val;
			dev->ops->status(dev, true);
		}
		dev->status = val;
		break;
	case REG_QUEUE_DESC_LOW:
		set_low(&q->desc, val);
		break;
	case REG_QUEUE_DESC_HIGH:
		set_high(&q->desc, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
		set_low(&q->avail, val);
		break;
	case REG_QUEUE_DRIVER_HIGH:
		set_high(&q->avail, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
		set_low(&q->used, val);
		break;
	case REG_QUEUE_DEVICE_HIGH:
		set_high(&q->used, val);
		break;
	}
}

static void virtio_mmio_access(void *opaque, uint64_t off, void *data,
			       unsigned int len, bool write)
{
	struct virtio_dev *dev = opaque;
	uint32_t val = 0;

	/* The QueueNotify fallback must not wait for the queue's thread. */
	if (off == REG_QUEUE_NOTIFY && write && len == 4) {
		memcpy(&val, data, 4);
		virtio_notify(dev, val);
		return;
	}
	pthread_mutex_lock(&dev->lock);
	if (off >= REG_CONFIG) {
		off -= REG_CONFIG;
		if (off + len <= dev->ops->config_size) {
			if (write)
				memcpy((uint8_t *)dev->ops->config + off, data,
				       len);
			else
				memcpy(data, (uint8_t *)dev->ops->config + off,
				       len);
		} else if (!write) {
			memset(data, 0, len);
		}
	} else if (len == 4) {
		/* The registers take 32-bit accesses only (4.2.2). */
		if (write) {
			memcpy(&val, data, 4);
			virtio_reg_write(dev, off, val);
		} else {
			val = virtio_reg_read(dev, off);
			memcpy(data, &val, 4);
		}
	} else if (!write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* --- split virtqueues --- */

static uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

bool virtq_pop(struct virtio_dev *dev, struct virtq *q, struct virtq_elem *e)
{
	struct vm *vm = dev->vm;
	uint8_t *avail = guest_ptr(vm, q->avail, 4 + 2 * q->num);
	struct virtq_desc *table = guest_ptr(vm, q->desc, 16ULL * q->num);
	uint16_t idx, next;
	unsigned int hops = 0;

	if (!q->ready || !avail || !table)
		return false;
	idx = load16(avail + 2);
	if (idx == q->last_avail)
		return false;
	e->head = load16(avail + 4 + 2 * (q->last_avail % q->num));
	q->last_avail++;
	e->n_out = e->n_in = 0;
	next = e->head;
	for (;;) {
		struct virtq_desc *d;
		void *buf;

		if (next >= q->num || hops++ >= q->num)
			goto bad;
		d = &table[next];
		/* VIRTIO_F_INDIRECT_DESC is not offered. */
		if (d->flags & VIRTQ_DESC_F_INDIRECT)
			goto bad;
		buf = guest_ptr(vm, d->addr, d->len);
		if (!buf || e->n_out + e->n_in == VIRTIO_MAX_SEGS)
			goto bad;
		/* Readable buffers come before writable ones (2.7.4.2). */
		if (!(d->flags & VIRTQ_DESC_F_WRITE) && e->n_in)
			goto bad;
		e->iov[e->n_out + e->n_in] =
			(struct iovec){ .iov_base = buf, .iov_len = d->len };
		if (d->flags & VIRTQ_DESC_F_WRITE)
			e->n_in++;
		else
			e->n_out++;
		if (!(d->flags & VIRTQ_DESC_F_NEXT))
			return true;
		next = d->next;
	}
bad:
	machine_stop(STOP_ERROR, "virtio device %u: bad descriptor chain %u",
		     dev->ops->device_id, e->head);
	return false;
}

void virtq_push(struct virtio_dev *dev, struct virtq *q,
		const struct virtq_elem *e, uint32_t len)
{
	uint8_t *used = guest_ptr(dev->vm, q->used, 4 + 8 * q->num);
	uint16_t idx;
	uint32_t *ent;

	if (!used)
		return;
	idx = *(uint16_t *)(used + 2);
	ent = (uint32_t *)(used + 4 + 8 * (idx % q->num));
	ent[0] = e->head;
	ent[1] = len;
	/* The entry before the index that publishes it (2.7.8.2). */
	__atomic_store_n((uint16_t *)(used + 2), idx + 1, __ATOMIC_RELEASE);
}

void virtio_interrupt(struct virtio_dev *dev)
{
	uint64_t one = 1;

	dev->isr |= VIRTIO_INT_USED_BUFFER;
	if (dev->irq_fd < 0)
		irq_pulse(dev->vm, dev->gsi);
	else if (write(dev->irq_fd, &one, sizeof(one)) != sizeof(one))
		machine_stop(STOP_ERROR, "virtio: irqfd: %s", strerror(errno));
}

size_t virtq_elem_fill(struct virtq_elem *e, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	unsigned int i;

	for (i = e->n_out; i < e->n_out + e->n_in && done < len; i++) {
		size_t n = e->iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		memcpy(e->iov[i].iov_base, p + done, n);
		done += n;
	}
	return done;
}

/* --- the device's thread: serves a queue when its eventfd fires --- */

static void *virtio_thread(void *arg)
{
	struct virtio_dev *dev = arg;
	struct pollfd pfd[VIRTIO_MAX_QUEUES];
	unsigned int i, n = dev->ops->num_queues;
	uint64_t count;

	pthread_setname_np(pthread_self(), "virtio");
	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = dev->vq[i].notify_fd,
					  .events = POLLIN };
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			machine_stop(STOP_ERROR, "virtio: poll: %s",
				     strerror(errno));
			return NULL;
		}
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (read(pfd[i].fd, &count, sizeof(count)) < 0)
				continue;
			pthread_mutex_lock(&dev->lock);
			dev->ops->notify(dev, i);
			pthread_mutex_unlock(&dev->lock);
		}
	}
}

struct virtio_dev *virtio_mmio_create(struct vm *vm, int index,
				      const struct virtio_ops *ops, void *priv,
				      char *cmdline, size_t size)
{
	struct virtio_dev *dev = calloc(1, sizeof(*dev));
	size_t used = strlen(cmdline);
	pthread_t thread;
	unsigned int i;

	if (!dev)
		return NULL;
	pthread_mutex_init(&dev->lock, NULL);
	dev->vm = vm;
	dev->ops = ops;
	dev->priv = priv;
	dev->base = VIRTIO_MMIO_GPA + (uint64_t)index * VIRTIO_MMIO_SIZE;
	dev->gsi = IRQ_VIRTIO_FIRST + index;
	dev->irq_fd = irq_eventfd(vm, dev->gsi);
	for (i = 0; i < ops->num_queues; i++) {
		int fd = mmio_eventfd(vm, dev->base + REG_QUEUE_NOTIFY, i);

		if (fd < 0)
			fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		dev->vq[i].notify_fd = fd;
	}
	virtio_reset(dev);
	if (bus_register(BUS_MMIO, dev->base, VIRTIO_MMIO_SIZE,
			 virtio_mmio_access, dev))
		return NULL;
	snprintf(cmdline + used, size - used,
		 " virtio_mmio.device=%u@%#llx:%u", VIRTIO_MMIO_SIZE,
		 (unsigned long long)dev->base, dev->gsi);
	if (pthread_create(&thread, NULL, virtio_thread, dev))
		return NULL;
	pthread_detach(thread);
	return dev;
}
