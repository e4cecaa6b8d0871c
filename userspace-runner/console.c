// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's console output, from the UART or virtio-console, to stdout.
 * It is also watched, line by line, for two lines of the Linux kernel: its
 * panic message, so that the reset that follows a panic ends the run as a
 * failure rather than a reboot (no firmware interface tells a panic from a
 * reboot here), and with --bench the start of init, whose time is printed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hvk-run.h"

#define PANIC_LINE	"Kernel panic - not syncing"
#define INIT_LINE	"Run /init as init process"

static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static char line[256];
static size_t line_len;
static bool bench, init_seen;
static uint64_t start_ns;

void console_init(bool want_bench)
{
	bench = want_bench;
	start_ns = now_ns();
}

static void console_line(void)
{
	line[line_len] = 0;
	if (strstr(line, PANIC_LINE))
		machine_panic_seen(line);
	if (bench && !init_seen && strstr(line, INIT_LINE)) {
		init_seen = true;
		fprintf(stderr, "\r\nhvk-run: boot-to-init %llu ms\r\n",
			(unsigned long long)(now_ns() - start_ns) / 1000000);
	}
}

void console_output(const uint8_t *buf, size_t len)
{
	size_t i;

	pthread_mutex_lock(&console_lock);
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] == '\n') {
				console_line();
				line_len = 0;
			} else if (line_len < sizeof(line) - 1) {
				line[line_len++] = buf[i];
			}
		}
		buf += n;
		len -= n;
	}
	pthread_mutex_unlock(&console_lock);
}
