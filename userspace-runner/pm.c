// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI fixed hardware at PM_BASE_PORT (ACPI 6.5, 4.8 "ACPI Hardware
 * Model"): the PM1a event block (status, enable), the PM1a control block,
 * whose SLP_EN with the sleep type of \_S5 (acpi.c's DSDT) powers the
 * machine off, and the PM timer, 32 bits at 3.579545 MHz.  The machine is
 * always in ACPI mode (SCI_EN reads as set, and the FADT has no SMI_CMD
 * port) and raises no SCI: no event here needs one.
 */
#include "hvk-run.h"

#define PM1_EVT		0	/* status (2 bytes), enable (2 bytes) */
#define PM1_CNT		4
#define PM_TMR		8

#define PM1_CNT_SCI_EN		0x0001
#define PM1_CNT_SLP_TYP_SHIFT	10
#define PM1_CNT_SLP_TYP_MASK	0x1c00
#define PM1_CNT_SLP_EN		0x2000
#define PM_SLP_TYP_S5		5	/* the value acpi.c's \_S5 gives */

#define PM_TMR_HZ		3579545ULL

static struct pm {
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
} pm = { .lock = PTHREAD_MUTEX_INITIALIZER, .cnt = PM1_CNT_SCI_EN };

static uint32_t pm_timer(void)
{
	uint64_t ns = now_ns();

	/* ns * 3579545 / 10^9 without overflow for centuries. */
	return (ns / 1000000000ULL) * PM_TMR_HZ +
	       (ns % 1000000000ULL) * PM_TMR_HZ / 1000000000ULL;
}

static void pm_write(struct pm *p, unsigned int reg, uint32_t val,
		     unsigned int len)
{
	switch (reg) {
	case PM1_EVT:
		/* Status bits are cleared by writing ones. */
		p->sts &= ~val;
		if (len == 4)
			p->en = val >> 16;
		break;
	case PM1_EVT + 2:
		p->en = val;
		break;
	case PM1_CNT:
		p->cnt = (val & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN;
		if (val & PM1_CNT_SLP_EN &&
		    ((val & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT) ==
		    PM_SLP_TYP_S5)
			machine_stop(STOP_POWEROFF, "power-off (ACPI S5)");
		break;
	}
}

static uint32_t pm_read(struct pm *p, unsigned int reg)
{
	switch (reg) {
	case PM1_EVT:
		return p->sts | (uint32_t)p->en << 16;
	case PM1_EVT + 2:
		return p->en;
	case PM1_CNT:
		return p->cnt;
	case PM_TMR:
		return pm_timer();
	}
	return ~0U;
}

static void pm_access(void *dev, uint64_t off, void *data, unsigned int len,
		      bool write)
{
	struct pm *p = dev;
	uint32_t val = 0;

	pthread_mutex_lock(&p->lock);
	if (write) {
		__builtin_memcpy(&val, data, len > 4 ? 4 : len);
		pm_write(p, off, val, len);
	} else {
		val = pm_read(p, off);
		__builtin_memcpy(data, &val, len > 4 ? 4 : len);
	}
	pthread_mutex_unlock(&p->lock);
}

int pm_init(struct vm *vm)
{
	return bus_register(BUS_PIO, PM_BASE_PORT, 12, pm_access, &pm);
}
