// SPDX-License-Identifier: GPL-2.0
/*
 * The i8042 keyboard controller, for what a PC kernel without a keyboard
 * still asks of it: its pulse of the CPU's reset line (command 0xfe), the
 * classic way to reboot.  No keyboard or mouse is behind it: the
 * controller answers its own commands and the ports keep their buffers
 * empty otherwise.
 */
#include "hvk-run.h"

#define I8042_DATA		0x60
#define I8042_STATUS_CMD	0x64

#define I8042_STR_OBF		0x01	/* output buffer full */
#define I8042_STR_SYSFLAG	0x04	/* self test passed */
#define I8042_CMD_READ_CTR	0x20
#define I8042_CMD_WRITE_CTR	0x60
#define I8042_CMD_SELF_TEST	0xaa
#define I8042_CMD_RESET_CPU	0xfe
#define I8042_SELF_TEST_OK	0x55

static struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;		/* controller command byte */
	uint8_t out;		/* output buffer */
	bool out_full, write_ctr;
} kbc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void i8042_reply(struct i8042 *k, uint8_t val)
{
	k->out = val;
	k->out_full = true;
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case I8042_CMD_READ_CTR:
		i8042_reply(k, k->ctr);
		break;
	case I8042_CMD_WRITE_CTR:
		k->write_ctr = true;
		break;
	case I8042_CMD_SELF_TEST:
		i8042_reply(k, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_RESET_CPU:
		machine_stop(STOP_REBOOT, "reset through the i8042");
		break;
	}
}

static void i8042_status_access(void *dev, uint64_t off, void *data,
				unsigned int len, bool write)
{
	struct i8042 *k = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&k->lock);
	if (write)
		i8042_command(k, *p);
	else
		*p = I8042_STR_SYSFLAG | (k->out_full ? I8042_STR_OBF : 0);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_access(void *dev, uint64_t off, void *data,
			      unsigned int len, bool write)
{
	struct i8042 *k = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&k->lock);
	if (write && k->write_ctr) {
		k->ctr = *p;
		k->write_ctr = false;
	} else if (!write) {
		*p = k->out;
		k->out_full = false;
	}
	pthread_mutex_unlock(&k->lock);
}

int i8042_init(struct vm *vm)
{
	/* Port 0x61 (PIT gate and speaker) lies between: the PIT's. */
	return bus_register(BUS_PIO, I8042_DATA, 1, i8042_data_access, &kbc) ?:
	       bus_register(BUS_PIO, I8042_STATUS_CMD, 1, i8042_status_access,
			    &kbc);
}
