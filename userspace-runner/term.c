// SPDX-License-Identifier: GPL-2.0
/*
 * The terminal: raw while the guest runs, so that every key reaches the
 * guest's console, and restored on every way out.  Ctrl-A x quits;
 * Ctrl-A Ctrl-A sends one Ctrl-A.  A thread reads standard input and hands
 * the bytes to the console device; input that is not a terminal (a pipe, a
 * file) is passed on as it is, and its end is no reason to stop.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "hvk-run.h"

#define TERM_ESCAPE	0x01	/* Ctrl-A */
#define TERM_QUIT	'x'

static struct termios saved;
static bool raw;
static term_input_fn input_fn;
static void *input_dev;

void term_restore(void)
{
	if (raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw = false;
	}
}

static void *term_thread(void *arg)
{
	bool escape = false;
	uint8_t buf[64], out[64];

	pthread_setname_np(pthread_self(), "term");
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		size_t i, m = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		for (i = 0; i < (size_t)n; i++) {
			if (escape) {
				escape = false;
				if (buf[i] == TERM_QUIT) {
					machine_stop(STOP_QUIT, "quit (Ctrl-A x)");
					return NULL;
				}
				if (buf[i] != TERM_ESCAPE)
					continue;
			} else if (raw && buf[i] == TERM_ESCAPE) {
				escape = true;
				continue;
			}
			out[m++] = buf[i];
		}
		if (m)
			input_fn(input_dev, out, m);
	}
}

void term_init(term_input_fn fn, void *dev)
{
	pthread_t thread;
	struct termios t;

	input_fn = fn;
	input_dev = dev;
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		t = saved;
		cfmakeraw(&t);
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &t)) {
			raw = true;
			atexit(term_restore);
		}
	}
	if (pthread_create(&thread, NULL, term_thread, NULL) == 0)
		pthread_detach(thread);
}
