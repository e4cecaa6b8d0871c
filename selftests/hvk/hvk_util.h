/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by hvk's selftests. */
#ifndef HVK_SELFTEST_UTIL_H
#define HVK_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The device under test: /dev/hvk, or /dev/kvm for a baseline run. */
static inline const char *hvk_dev_path(void)
{
	const char *dev = getenv("HVK_DEV");

	return dev && *dev ? dev : "/dev/hvk";
}

/* Is this a baseline run against KVM rather than hvk? */
static inline bool hvk_testing_kvm(void)
{
	return strstr(hvk_dev_path(), "kvm") != NULL;
}

/* Where hvk.ko is: $HVK_MODULE_DIR, or /lib/modules/hvk in the test machine. */
static inline void hvk_module_path(char *buf, size_t len)
{
	const char *dir = getenv("HVK_MODULE_DIR");

	snprintf(buf, len, "%s/hvk.ko", dir && *dir ? dir : "/lib/modules/hvk");
}

/* Read the first line of a file, without its newline.  0 or -errno. */
static inline int hvk_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int r = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		r = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return r;
}

/* Write a string to a file.  0 or -errno. */
static inline int hvk_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Load a kernel module from a file.  0 or -errno. */
static inline int hvk_load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		r = -errno;
	close(fd);
	return r;
}

/* Unload a module by name, waiting for users to go.  0 or -errno. */
static inline int hvk_unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* Does /proc/cpuinfo list @flag (e.g. "vmx", "svm")? */
static inline bool hvk_cpu_has_flag(const char *flag)
{
	char line[4096], word[34];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	snprintf(word, sizeof(word), " %s ", flag);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = ' ';
		found = strstr(line, word) != NULL;
	}
	fclose(f);
	return found;
}

static inline bool hvk_module_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

/*
 * AnonHugePages of this process's mapping that holds @addr, in KiB (THP
 * backing), or -ENOENT when no mapping holds it, -errno if smaps cannot be
 * read.
 */
static inline long hvk_anon_huge_kib(void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	char line[256];
	bool in = false;
	long kib = -ENOENT;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's first line: "start-end perms ...". */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start <= a && a < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* Times the calling thread was preempted (involuntary context switches). */
static inline long hvk_thread_nivcsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nivcsw;
}

#endif /* HVK_SELFTEST_UTIL_H */
