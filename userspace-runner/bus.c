// SPDX-License-Identifier: GPL-2.0
/*
 * The port and MMIO buses: each device claims a range when the machine is
 * built, before any vCPU runs, so lookups need no lock.  A handful of
 * devices makes a linear search the fastest.
 */
#include <errno.h>
#include <string.h>

#include "hvk-run.h"

#define BUS_MAX_RANGES	16

struct bus_range {
	uint64_t base, size;
	bus_access_fn fn;
	void *dev;
};

static struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	int n;
} buses[2];

int bus_register(enum bus_space space, uint64_t base, uint64_t size,
		 bus_access_fn fn, void *dev)
{
	struct bus *bus = &buses[space];
	int i;

	for (i = 0; i < bus->n; i++) {
		struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->size && r->base < base + size)
			return -EBUSY;
	}
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->n++] = (struct bus_range){ base, size, fn, dev };
	return 0;
}

void bus_access(enum bus_space space, uint64_t addr, void *data,
		unsigned int len, bool write)
{
	struct bus *bus = &buses[space];
	int i;

	for (i = 0; i < bus->n; i++) {
		struct bus_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->size) {
			r->fn(r->dev, addr - r->base, data, len, write);
			return;
		}
	}
	/* Nothing there: the data lines float high. */
	if (!write)
		memset(data, 0xff, len);
}
