// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, 5.2) on a raw image file: reads, writes, flushes
 * and the device ID, one request at a time on one queue.  Writes reach the
 * file with pwritev(); a flush request, and the end of the run, make them
 * durable with fdatasync().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "virtio.h"

#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_ID_BYTES	20
#define SECTOR_SIZE		512

struct virtio_blk_config {
	uint64_t capacity;	/* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
} __attribute__((packed));

struct virtio_blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct blk {
	int fd;
	bool ro;
	struct virtio_blk_config config;
	struct virtio_ops ops;
} blk = { .fd = -1 };

/* Read or write the data buffers of a request at byte @pos of the image. */
static uint8_t blk_rw(struct blk *b, struct iovec *iov, int n, uint64_t pos,
		      bool write, uint32_t *written)
{
	ssize_t done, want = 0;
	int i;

	for (i = 0; i < n; i++)
		want += iov[i].iov_len;
	if (pos / SECTOR_SIZE + (want + SECTOR_SIZE - 1) / SECTOR_SIZE >
	    b->config.capacity)
		return VIRTIO_BLK_S_IOERR;
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	done = write ? pwritev(b->fd, iov, n, pos) : preadv(b->fd, iov, n, pos);
	if (done != want)
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*written = done;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_request(struct blk *b, struct virtq_elem *e,
			   uint32_t *written)
{
	struct virtio_blk_req req;
	struct iovec *data = &e->iov[1];
	int n_data = e->n_out + e->n_in - 2;
	uint64_t pos;

	memcpy(&req, e->iov[0].iov_base, sizeof(req));
	pos = req.sector * SECTOR_SIZE;
	switch (req.type) {
	case VIRTIO_BLK_T_IN:
		if (e->n_out != 1)
			return VIRTIO_BLK_S_IOERR;
		return blk_rw(b, data, n_data, pos, false, written);
	case VIRTIO_BLK_T_OUT:
		if (e->n_in != 1)
			return VIRTIO_BLK_S_IOERR;
		return blk_rw(b, data, n_data, pos, true, written);
	case VIRTIO_BLK_T_FLUSH:
		return fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		if (e->n_in < 2)
			return VIRTIO_BLK_S_IOERR;
		*written = virtq_elem_fill(e, "hvk-run", 8);
		return VIRTIO_BLK_S_OK;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static void blk_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct blk *b = dev->priv;
	struct virtq *q = &dev->vq[qi];
	struct virtq_elem e;
	bool done = false;

	while (virtq_pop(dev, q, &e)) {
		uint32_t written = 0;
		struct iovec *status = &e.iov[e.n_out + e.n_in - 1];
		uint8_t st;

		/* Header readable, status byte writable, data in between. */
		if (e.n_out < 1 || e.n_in < 1 ||
		    e.iov[0].iov_len < sizeof(struct virtio_blk_req) ||
		    status->iov_len < 1) {
			machine_stop(STOP_ERROR, "virtio-blk: malformed request");
			return;
		}
		st = blk_request(b, &e, &written);
		*(uint8_t *)status->iov_base = st;
		virtq_push(dev, q, &e, written + 1);
		done = true;
	}
	if (done)
		virtio_interrupt(dev);
}

int virtio_blk_init(struct vm *vm, int index, const char *path, bool ro,
		    char *cmdline, size_t size)
{
	struct stat st;

	blk.fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk.fd < 0 || fstat(blk.fd, &st))
		return -errno;
	blk.ro = ro;
	blk.config.capacity = st.st_size / SECTOR_SIZE;
	blk.config.seg_max = VIRTIO_QUEUE_MAX;
	blk.ops = (struct virtio_ops){
		.device_id = VIRTIO_ID_BLOCK,
		.features = 1ULL << VIRTIO_BLK_F_FLUSH |
			    1ULL << VIRTIO_BLK_F_SEG_MAX |
			    (ro ? 1ULL << VIRTIO_BLK_F_RO : 0),
		.num_queues = 1,
		.config = &blk.config,
		.config_size = sizeof(blk.config),
		.notify = blk_notify,
	};
	return virtio_mmio_create(vm, index, &blk.ops, &blk, cmdline, size) ?
	       0 : -ENOMEM;
}

void virtio_blk_flush(void)
{
	if (blk.fd >= 0 && !blk.ro)
		fsync(blk.fd);
}
