// SPDX-License-Identifier: GPL-2.0
/*
 * COM1: a 16550A UART at port 0x3f8 on ISA interrupt 4 (PC16550D data
 * sheet).  What the guest sends goes to the console at once, so the
 * transmitter is always empty; what the terminal sends waits in the receive
 * FIFO.  The interrupt line is high while an enabled interrupt is pending
 * and OUT2 is set, the gate a PC puts between the UART and its interrupt
 * controller.
 */
#include <stdlib.h>

#include "hvk-run.h"

#define SERIAL_PORT	0x3f8
#define SERIAL_RX_SIZE	4096

/* Registers, as offsets from the base port. */
#define UART_RBR_THR	0	/* DLL when LCR.DLAB */
#define UART_IER	1	/* DLM when LCR.DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01	/* receive data available */
#define UART_IER_THRI	0x02	/* transmit holding register empty */
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLR_RX	0x02
#define UART_LCR_DLAB	0x80
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
/* Carrier, data set ready, clear to send: a modem that is there. */
#define UART_MSR_IDLE	0xb0

struct serial {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;	/* THRE interrupt not yet taken by an IIR read */
	int irq_level;
	uint8_t rx[SERIAL_RX_SIZE];
	unsigned int rx_head, rx_count;
};

static uint8_t serial_iir(struct serial *s)
{
	uint8_t fifo = s->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0;

	if (s->ier & UART_IER_RDI && s->rx_count)
		return fifo | UART_IIR_RDI;
	if (s->ier & UART_IER_THRI && s->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & UART_IIR_NO_INT) &&
		    s->mcr & UART_MCR_OUT2;

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line(s->vm, IRQ_SERIAL, level);
	}
}

static void serial_rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count < SERIAL_RX_SIZE) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_SIZE] = c;
		s->rx_count++;
	}
}

static void serial_write(struct serial *s, unsigned int reg, uint8_t val)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			s->dll = val;
			break;
		}
		if (s->mcr & UART_MCR_LOOP)
			serial_rx_push(s, val);
		else
			console_output(&val, 1);
		s->thri_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = val;
			break;
		}
		/* Enabling THRI with the transmitter empty interrupts at once. */
		if (val & UART_IER_THRI && !(s->ier & UART_IER_THRI))
			s->thri_pending = true;
		s->ier = val & 0x0f;
		break;
	case UART_IIR_FCR:
		s->fcr = val & ~UART_FCR_CLR_RX;
		if (val & UART_FCR_CLR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t val = 0, iir;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return s->dll;
		if (s->rx_count) {
			val = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
			s->rx_count--;
		}
		return val;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		iir = serial_iir(s);
		/* Reading IIR takes the THRE interrupt it reports. */
		if ((iir & 0x0f) == UART_IIR_THRI)
			s->thri_pending = false;
		return iir;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT |
		       (s->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		if (s->mcr & UART_MCR_LOOP)
			/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			return (s->mcr & 0x01) << 5 | (s->mcr & 0x02) << 3 |
			       (s->mcr & 0x04) << 4 | (s->mcr & 0x08) << 4;
		return UART_MSR_IDLE;
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

static void serial_access(void *dev, uint64_t off, void *data,
			  unsigned int len, bool write)
{
	struct serial *s = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&s->lock);
	if (write)
		serial_write(s, off, *p);
	else
		*p = serial_read(s, off);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_input(void *dev, const uint8_t *buf, size_t len)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	while (len--)
		serial_rx_push(s, *buf++);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

struct serial *serial_init(struct vm *vm)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->vm = vm;
	if (bus_register(BUS_PIO, SERIAL_PORT, 8, serial_access, s)) {
		free(s);
		return NULL;
	}
	return s;
}
