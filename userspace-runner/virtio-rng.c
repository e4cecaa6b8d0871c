// SPDX-License-Identifier: GPL-2.0
/* virtio-rng (virtio 1.2, 5.4): the host's getrandom() into every buffer. */
#include <errno.h>
#include <sys/random.h>

#include "virtio.h"

static void rng_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct virtq *q = &dev->vq[qi];
	struct virtq_elem e;
	bool done = false;

	while (virtq_pop(dev, q, &e)) {
		uint32_t len = 0;
		unsigned int i;

		for (i = e.n_out; i < e.n_out + e.n_in; i++) {
			ssize_t n = getrandom(e.iov[i].iov_base,
					      e.iov[i].iov_len, 0);

			if (n > 0)
				len += n;
		}
		virtq_push(dev, q, &e, len);
		done = true;
	}
	if (done)
		virtio_interrupt(dev);
}

static const struct virtio_ops rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.notify = rng_notify,
};

int virtio_rng_init(struct vm *vm, int index, char *cmdline, size_t size)
{
	return virtio_mmio_create(vm, index, &rng_ops, NULL, cmdline, size) ?
	       0 : -ENOMEM;
}
