// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 programmable interval timer (Intel 8254 data sheet), in user
 * space because a KVM-ABI device need not have one (hvk has no
 * KVM_CREATE_PIT2).  Ports 0x40-0x42 are the three counters, 0x43 the
 * control word; port 0x61 holds counter 2's gate (bit 0) and output (bit 5).
 * Counter 0 interrupts on ISA line 0 in modes 0 and 4 (once) and 2 and 3
 * (periodically), timed by a timerfd that a thread of its own waits on.
 * Counts are worked out from the monotonic clock when read, not ticked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "hvk-run.h"

#define PIT_HZ		1193182ULL
#define PIT_PORT	0x40
#define PIT_CONTROL	3
#define PIT_PORT_61	0x61

/* Control word fields. */
#define PIT_SC(cw)	((cw) >> 6)		/* 3: read-back */
#define PIT_RW(cw)	(((cw) >> 4) & 3)	/* 0: latch the count */
#define PIT_MODE(cw)	(((cw) >> 1) & 7)
#define PIT_RW_LSB	1
#define PIT_RW_MSB	2
#define PIT_RW_WORD	3

#define PORT61_GATE2	0x01
#define PORT61_SPEAKER	0x02
#define PORT61_OUT2	0x20

struct pit_channel {
	uint32_t reload;	/* 1 to 65536 */
	uint8_t mode, rw;
	bool gate;
	bool write_msb, read_msb;	/* second byte of a word next */
	bool latched;
	uint16_t latch;
	uint64_t start_ns;	/* counting started (count loaded, gate up) */
	bool counting;
	uint8_t lsb;		/* first byte of a word being written */
};

static struct pit {
	pthread_mutex_t lock;
	struct vm *vm;
	struct pit_channel ch[3];
	uint8_t port61;
	int timer_fd;
} pit = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t pit_ticks(struct pit_channel *c)
{
	uint64_t ns = now_ns() - c->start_ns;

	return (ns / 1000000000ULL) * PIT_HZ +
	       (ns % 1000000000ULL) * PIT_HZ / 1000000000ULL;
}

static uint16_t pit_count(struct pit_channel *c)
{
	uint64_t t;

	if (!c->counting)
		return c->reload;
	t = pit_ticks(c);
	switch (c->mode) {
	case 2:
	case 3:
	case 6:
	case 7:
		return c->reload - t % c->reload;
	default:	/* 0, 1, 4, 5: down through zero, wrapping */
		return (c->reload - t) & 0xffff;
	}
}

static bool pit_output(struct pit_channel *c)
{
	uint64_t t;

	if (!c->counting)
		return c->mode != 0;
	t = pit_ticks(c);
	switch (c->mode) {
	case 0:
		return t >= c->reload;
	case 3:
	case 7:
		return t % c->reload < (c->reload + 1) / 2;
	default:
		return true;
	}
}

static uint64_t pit_ticks_to_ns(uint64_t ticks)
{
	return ticks * 1000000000ULL / PIT_HZ;
}

/* Counter 0's interrupts, from its mode and count. */
static void pit_arm_timer(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	struct itimerspec its = { 0 };
	uint64_t first, period = 0;

	if (c->counting) {
		first = pit_ticks_to_ns(c->reload);
		if (c->mode == 2 || c->mode == 3 || c->mode == 6 || c->mode == 7)
			period = first;
		first += c->start_ns;
		its.it_value.tv_sec = first / 1000000000ULL;
		its.it_value.tv_nsec = first % 1000000000ULL;
		its.it_interval.tv_sec = period / 1000000000ULL;
		its.it_interval.tv_nsec = period % 1000000000ULL;
	}
	timerfd_settime(p->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void pit_load(struct pit *p, int n, uint32_t count)
{
	struct pit_channel *c = &p->ch[n];

	c->reload = count ? count : 0x10000;
	c->start_ns = now_ns();
	c->counting = c->gate;
	if (n == 0)
		pit_arm_timer(p);
}

static void pit_control(struct pit *p, uint8_t cw)
{
	struct pit_channel *c;
	int n;

	if (PIT_SC(cw) == 3) {
		/* Read-back (8254 only): bit 5 clear latches the counts. */
		for (n = 0; n < 3; n++)
			if (cw & (2 << n) && !(cw & 0x20) && !p->ch[n].latched) {
				p->ch[n].latch = pit_count(&p->ch[n]);
				p->ch[n].latched = true;
			}
		return;
	}
	c = &p->ch[PIT_SC(cw)];
	if (PIT_RW(cw) == 0) {
		if (!c->latched) {
			c->latch = pit_count(c);
			c->latched = true;
			c->read_msb = false;
		}
		return;
	}
	c->rw = PIT_RW(cw);
	c->mode = PIT_MODE(cw);
	c->write_msb = c->read_msb = false;
	c->latched = false;
	/* A new mode stops the counter until a count is written. */
	c->counting = false;
	if (c == &p->ch[0])
		pit_arm_timer(p);
}

static void pit_write_counter(struct pit *p, int n, uint8_t val)
{
	struct pit_channel *c = &p->ch[n];

	switch (c->rw) {
	case PIT_RW_LSB:
		pit_load(p, n, val);
		break;
	case PIT_RW_MSB:
		pit_load(p, n, (uint32_t)val << 8);
		break;
	case PIT_RW_WORD:
		if (!c->write_msb) {
			c->lsb = val;
			c->write_msb = true;
		} else {
			c->write_msb = false;
			pit_load(p, n, c->lsb | (uint32_t)val << 8);
		}
		break;
	}
}

static uint8_t pit_read_counter(struct pit *p, int n)
{
	struct pit_channel *c = &p->ch[n];
	uint16_t v = c->latched ? c->latch : pit_count(c);
	uint8_t byte;

	switch (c->rw) {
	case PIT_RW_MSB:
		c->latched = false;
		return v >> 8;
	case PIT_RW_WORD:
		byte = c->read_msb ? v >> 8 : v & 0xff;
		c->read_msb = !c->read_msb;
		if (!c->read_msb)
			c->latched = false;
		return byte;
	default:
		c->latched = false;
		return v & 0xff;
	}
}

static void pit_access(void *dev, uint64_t off, void *data, unsigned int len,
		       bool write)
{
	struct pit *p = dev;
	uint8_t *v = data;

	pthread_mutex_lock(&p->lock);
	if (off == PIT_CONTROL) {
		if (write)
			pit_control(p, *v);
		else
			*v = 0xff;	/* the control word is write-only */
	} else if (write) {
		pit_write_counter(p, off, *v);
	} else {
		*v = pit_read_counter(p, off);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Port 0x61: counter 2's gate in, its output out (the PC's speaker port). */
static void port61_access(void *dev, uint64_t off, void *data,
			  unsigned int len, bool write)
{
	struct pit *p = dev;
	struct pit_channel *c2 = &p->ch[2];
	uint8_t *v = data;

	pthread_mutex_lock(&p->lock);
	if (write) {
		bool gate = *v & PORT61_GATE2;

		/* A rising gate restarts the count (modes 1, 2, 3, 5). */
		if (gate && !c2->gate) {
			c2->start_ns = now_ns();
			c2->counting = c2->reload != 0;
		} else if (!gate) {
			c2->counting = false;
		}
		c2->gate = gate;
		p->port61 = *v & (PORT61_GATE2 | PORT61_SPEAKER);
	} else {
		*v = p->port61 | (pit_output(c2) ? PORT61_OUT2 : 0);
	}
	pthread_mutex_unlock(&p->lock);
}

static void *pit_thread(void *arg)
{
	struct pit *p = arg;
	uint64_t expired;

	pthread_setname_np(pthread_self(), "pit");
	for (;;) {
		ssize_t n = read(p->timer_fd, &expired, sizeof(expired));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(expired))
			return NULL;
		/* Ticks missed while this thread slept are not replayed. */
		irq_pulse(p->vm, IRQ_PIT);
	}
}

int pit_init(struct vm *vm)
{
	pthread_t thread;
	int i;

	pit.vm = vm;
	for (i = 0; i < 3; i++)
		pit.ch[i] = (struct pit_channel){ .reload = 0x10000,
						  .gate = i != 2 };
	pit.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (pit.timer_fd < 0)
		return -errno;
	if (pthread_create(&thread, NULL, pit_thread, &pit))
		return -EAGAIN;
	pthread_detach(thread);
	return bus_register(BUS_PIO, PIT_PORT, 4, pit_access, &pit) ?:
	       bus_register(BUS_PIO, PIT_PORT_61, 1, port61_access, &pit);
}
