/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio over MMIO, version 2 ("modern"; virtio 1.2, 4.2 "Virtio Over
 * MMIO"), with split virtqueues (2.7).  virtio-mmio.c is the transport and
 * the queues; a device (virtio-blk.c, virtio-console.c, virtio-rng.c) gives
 * its ID, features, configuration space and a function that serves a queue
 * when the driver notifies it.  That function runs on the device's own
 * thread, with the device's lock held.
 */
#ifndef HVK_RUN_VIRTIO_H
#define HVK_RUN_VIRTIO_H

#include <sys/uio.h>

#include "hvk-run.h"

#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

#define VIRTIO_F_VERSION_1	32
#define VIRTIO_MAX_QUEUES	2
#define VIRTIO_QUEUE_MAX	256	/* QueueNumMax */
#define VIRTIO_MAX_SEGS		(VIRTIO_QUEUE_MAX + 2)

struct virtq {
	uint32_t num;
	bool ready;
	uint64_t desc, avail, used;	/* guest-physical */
	uint16_t last_avail;
	int notify_fd;			/* eventfd the driver's notify writes */
};

/* One chain of descriptors: the driver's buffers in order. */
struct virtq_elem {
	uint16_t head;
	unsigned int n_out, n_in;	/* readable ones first, then writable */
	struct iovec iov[VIRTIO_MAX_SEGS];
};

struct virtio_dev;

struct virtio_ops {
	uint32_t device_id;
	uint64_t features;		/* besides VIRTIO_F_VERSION_1 */
	unsigned int num_queues;
	void *config;			/* device configuration space */
	size_t config_size;
	/* The driver notified queue @q. */
	void (*notify)(struct virtio_dev *dev, unsigned int q);
	/* The driver reset the device, or set DRIVER_OK (@ready). */
	void (*status)(struct virtio_dev *dev, bool ready);
};

struct virtio_dev {
	pthread_mutex_t lock;
	struct vm *vm;
	const struct virtio_ops *ops;
	void *priv;
	uint64_t base;
	unsigned int gsi;
	int irq_fd;			/* irqfd, or -1: KVM_IRQ_LINE */
	uint32_t status, isr, queue_sel;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/*
 * Put device number @index on the MMIO bus, start its thread, and append
 * the kernel parameter that announces it to @cmdline (@size bytes).
 */
struct virtio_dev *virtio_mmio_create(struct vm *vm, int index,
				      const struct virtio_ops *ops, void *priv,
				      char *cmdline, size_t size);

/* The next chain the driver made available on @q, or false if none. */
bool virtq_pop(struct virtio_dev *dev, struct virtq *q, struct virtq_elem *e);
/* Give the chain back with @len bytes written into it. */
void virtq_push(struct virtio_dev *dev, struct virtq *q,
		const struct virtq_elem *e, uint32_t len);
/* Tell the driver that used buffers are waiting (interrupt). */
void virtio_interrupt(struct virtio_dev *dev);

/* Copy @len bytes of a chain's writable buffers from @buf; bytes copied. */
size_t virtq_elem_fill(struct virtq_elem *e, const void *buf, size_t len);

#endif /* HVK_RUN_VIRTIO_H */
