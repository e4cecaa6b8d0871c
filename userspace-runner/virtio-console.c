// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio 1.2, 5.3) with one port, no multiport: queue 0
 * carries the terminal's input to the guest, queue 1 the guest's output to
 * the console.  Input that finds no buffer waits here until the driver
 * adds some.
 */
#include <string.h>

#include "virtio.h"

#define CONSOLE_RX	0
#define CONSOLE_TX	1
#define CONSOLE_PENDING	4096

struct vconsole {
	uint8_t pending[CONSOLE_PENDING];
	size_t npending;
};

static struct vconsole vcon;

/* Move waiting input into the receive queue's buffers; lock held. */
static void console_rx(struct virtio_dev *dev)
{
	struct vconsole *c = dev->priv;
	struct virtq *q = &dev->vq[CONSOLE_RX];
	struct virtq_elem e;
	bool done = false;

	while (c->npending && virtq_pop(dev, q, &e)) {
		size_t n = virtq_elem_fill(&e, c->pending, c->npending);

		memmove(c->pending, c->pending + n, c->npending - n);
		c->npending -= n;
		virtq_push(dev, q, &e, n);
		done = true;
	}
	if (done)
		virtio_interrupt(dev);
}

static void console_tx(struct virtio_dev *dev)
{
	struct virtq *q = &dev->vq[CONSOLE_TX];
	struct virtq_elem e;
	bool done = false;

	while (virtq_pop(dev, q, &e)) {
		unsigned int i;

		for (i = 0; i < e.n_out; i++)
			console_output(e.iov[i].iov_base, e.iov[i].iov_len);
		virtq_push(dev, q, &e, 0);
		done = true;
	}
	if (done)
		virtio_interrupt(dev);
}

static void vconsole_notify(struct virtio_dev *dev, unsigned int q)
{
	if (q == CONSOLE_TX)
		console_tx(dev);
	else
		console_rx(dev);
}

static const struct virtio_ops vconsole_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.notify = vconsole_notify,
};

void virtio_console_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_dev *dev = opaque;
	struct vconsole *c = dev->priv;

	pthread_mutex_lock(&dev->lock);
	if (len > CONSOLE_PENDING - c->npending)
		len = CONSOLE_PENDING - c->npending;
	memcpy(c->pending + c->npending, buf, len);
	c->npending += len;
	console_rx(dev);
	pthread_mutex_unlock(&dev->lock);
}

struct virtio_dev *virtio_console_init(struct vm *vm, int index,
				       char *cmdline, size_t size)
{
	return virtio_mmio_create(vm, index, &vconsole_ops, &vcon, cmdline,
				  size);
}
