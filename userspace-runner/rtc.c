// SPDX-License-Identifier: GPL-2.0
/*
 * The CMOS real-time clock (MC146818A): index port 0x70, data port 0x71.
 * The time is the host's, in UTC, read at every access; the format is the
 * one the guest chose in register B (BCD or binary, 12 or 24 hours).  No
 * alarm, periodic or update interrupts: the guest keeps time with its own
 * timers and reads this only at boot.  The other 114 bytes are plain RAM.
 */
#include <string.h>
#include <time.h>

#include "hvk-run.h"

#define RTC_INDEX	0x70
#define RTC_DATA	0x71

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32	/* the FADT's CENTURY field points here */

#define RTC_B_24H	0x02
#define RTC_B_BINARY	0x04
#define RTC_A_DIVIDER	0x20	/* 32.768 kHz time base, update cycle clear */
#define RTC_D_VRT	0x80	/* valid RAM and time: the battery is good */

static struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
} rtc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint8_t rtc_encode(struct rtc *r, unsigned int v)
{
	return r->ram[RTC_REG_B] & RTC_B_BINARY ? v : (v / 10) << 4 | v % 10;
}

static uint8_t rtc_hours(struct rtc *r, unsigned int h)
{
	unsigned int h12;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(r, h);
	/* 12-hour format: 1-12, bit 7 for PM. */
	h12 = h % 12 ? h % 12 : 12;
	return rtc_encode(r, h12) | (h >= 12 ? 0x80 : 0);
}

static uint8_t rtc_read(struct rtc *r, unsigned int reg)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(r, tm.tm_sec);
	case RTC_MINUTES:
		return rtc_encode(r, tm.tm_min);
	case RTC_HOURS:
		return rtc_hours(r, tm.tm_hour);
	case RTC_WEEKDAY:
		return rtc_encode(r, tm.tm_wday + 1);
	case RTC_DAY:
		return rtc_encode(r, tm.tm_mday);
	case RTC_MONTH:
		return rtc_encode(r, tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(r, tm.tm_year % 100);
	case RTC_CENTURY:
		return rtc_encode(r, (tm.tm_year + 1900) / 100);
	case RTC_REG_C:
		return 0;	/* no interrupt flags */
	case RTC_REG_D:
		return RTC_D_VRT;
	}
	return r->ram[reg];
}

static void rtc_access(void *dev, uint64_t port, void *data,
		       unsigned int len, bool write)
{
	struct rtc *r = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&r->lock);
	if (port == 0) {
		/* Bit 7 masks NMIs on a PC, which this machine never raises. */
		if (write)
			r->index = *p & 0x7f;
		else
			*p = r->index;
	} else if (write) {
		/* The time registers are the host's; the rest is RAM. */
		if (r->index >= RTC_REG_A && r->index != RTC_REG_C &&
		    r->index != RTC_REG_D && r->index != RTC_CENTURY)
			r->ram[r->index] = *p;
	} else {
		*p = rtc_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
}

int rtc_init(struct vm *vm)
{
	rtc.ram[RTC_REG_A] = RTC_A_DIVIDER;
	rtc.ram[RTC_REG_B] = RTC_B_24H;
	return bus_register(BUS_PIO, RTC_INDEX, 2, rtc_access, &rtc);
}
