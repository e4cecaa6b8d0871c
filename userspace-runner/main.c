// SPDX-License-Identifier: GPL-2.0
/*
 * hvk-run: boot a Linux bzImage as a guest of a KVM-ABI device.
 *
 * Exit status: 0 when the guest powers off (or reboots without --reboot
 * restart, or the user quits with Ctrl-A x), 1 when the guest panics or the
 * hypervisor fails (the reason on stderr), 2 for bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bzimage.h"
#include "hvk-run.h"
#include "vm.h"

#define MEM_MIN		(64ULL << 20)
#define MEM_DEFAULT	(256ULL << 20)
#define CMDLINE_SIZE	4096

static const char usage_text[] =
"usage: hvk-run --kernel BZIMAGE [--initrd FILE] [--append \"CMDLINE\"]\n"
"               [--mem SIZE] [--cpus N] [--disk IMAGE[,ro]] [--dev DEVICE]\n"
"               [--hypervisor hvk|kvm] [--console serial|virtio]\n"
"               [--reboot exit|restart] [--bench]\n"
"\n"
"  --kernel      Linux bzImage (64-bit boot protocol, 2.12 or later)\n"
"  --initrd      initial RAM disk\n"
"  --append      more kernel parameters\n"
"  --mem         guest RAM, with K, M or G (default 256M, 64M to 3G)\n"
"  --cpus        vCPUs, 1 to 8 (default 1)\n"
"  --disk        raw image as virtio-blk /dev/vda, read-only with ,ro\n"
"  --dev         KVM-ABI device (default /dev/hvk)\n"
"  --hypervisor  hvk (/dev/hvk) or kvm (/dev/kvm)\n"
"  --console     guest console on the UART (ttyS0, default) or\n"
"                virtio-console (hvc0)\n"
"  --reboot      on a guest reboot, exit (default) or start again\n"
"  --bench       print the time from start to the kernel's init\n"
"\n"
"Ctrl-A x quits.  Exit status: 0 power-off, 1 guest panic or hypervisor\n"
"error, 2 bad arguments.\n";

struct options {
	const char *kernel, *initrd, *append, *dev, *disk;
	uint64_t mem;
	int cpus;
	bool disk_ro, virtio_console, reboot_restart, bench;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_args(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvk-run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (hvk-run --help)\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		bad_args("--mem %s: not a size", s);
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		/* fall through */
	case 'M': case 'm':
		v <<= 10;
		/* fall through */
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	case 0:
		/* A bare number is MiB, as with --mem 256. */
		v <<= 20;
		break;
	}
	if (*end)
		bad_args("--mem %s: not a size", s);
	return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "dev", required_argument, NULL, 'D' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ "console", required_argument, NULL, 'C' },
		{ "reboot", required_argument, NULL, 'r' },
		{ "bench", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char *end, *comma;
	int opt;

	*o = (struct options){ .dev = "/dev/hvk", .mem = MEM_DEFAULT,
			       .cpus = 1 };
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'a':
			o->append = optarg;
			break;
		case 'm':
			o->mem = parse_size(optarg);
			break;
		case 'c':
			o->cpus = strtol(optarg, &end, 10);
			if (*end || o->cpus < 1 || o->cpus > HVK_RUN_MAX_CPUS)
				bad_args("--cpus %s: 1 to %d", optarg,
					 HVK_RUN_MAX_CPUS);
			break;
		case 'd':
			o->disk = optarg;
			comma = strchr(optarg, ',');
			if (comma) {
				if (strcmp(comma, ",ro"))
					bad_args("--disk %s: only ,ro may follow the image",
						 optarg);
				*comma = 0;
				o->disk_ro = true;
			}
			break;
		case 'D':
			o->dev = optarg;
			break;
		case 'H':
			if (!strcmp(optarg, "hvk"))
				o->dev = "/dev/hvk";
			else if (!strcmp(optarg, "kvm"))
				o->dev = "/dev/kvm";
			else
				bad_args("--hypervisor %s: hvk or kvm", optarg);
			break;
		case 'C':
			if (strcmp(optarg, "serial") && strcmp(optarg, "virtio"))
				bad_args("--console %s: serial or virtio",
					 optarg);
			o->virtio_console = !strcmp(optarg, "virtio");
			break;
		case 'r':
			if (strcmp(optarg, "exit") && strcmp(optarg, "restart"))
				bad_args("--reboot %s: exit or restart", optarg);
			o->reboot_restart = !strcmp(optarg, "restart");
			break;
		case 'b':
			o->bench = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			if (optopt)
				bad_args("%s needs an argument or is unknown",
					 argv[optind - 1]);
			bad_args("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_args("unexpected argument %s", argv[optind]);
	if (!o->kernel)
		bad_args("no kernel: --kernel BZIMAGE is required");
	if (o->mem < MEM_MIN)
		bad_args("--mem: %llu MiB is too small, at least %llu MiB",
			 (unsigned long long)(o->mem >> 20), MEM_MIN >> 20);
	if (o->mem > BZ_MEM_MAX)
		bad_args("--mem: %llu MiB is too large, at most %llu MiB",
			 (unsigned long long)(o->mem >> 20), BZ_MEM_MAX >> 20);
	o->mem &= ~0xfffULL;
	if (o->disk && access(o->disk, o->disk_ro ? R_OK : R_OK | W_OK))
		bad_args("--disk %s: %s", o->disk, strerror(errno));
}

static void *read_file(const char *what, const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		bad_args("%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		bad_args("%s %s: not a file", what, path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		bad_args("%s %s: cannot read it", what, path);
	close(fd);
	*size = st.st_size;
	return buf;
}

static int run(struct options *o)
{
	char *cmdline = calloc(1, CMDLINE_SIZE);
	struct bz_options bzo = { 0 };
	struct bz_image img;
	struct bz_boot boot;
	struct virtio_dev *vcon = NULL;
	struct serial *serial;
	struct vm vm;
	enum stop_reason why;
	const char *msg;
	void *kernel;
	size_t size;
	int index = 0;

	kernel = read_file("--kernel", o->kernel, &size);
	if (bz_parse(&img, kernel, size))
		bad_args("--kernel %s: not a usable bzImage", o->kernel);
	if (o->initrd)
		bzo.initrd = read_file("--initrd", o->initrd, &bzo.initrd_size);

	if (vm_create(&vm, o->dev, o->mem, o->cpus) || vcpus_create(&vm))
		return 1;

	/*
	 * panic=-1: a panicking kernel resets the machine at once, and the
	 * console watch (console.c) tells that reset from a reboot.
	 */
	snprintf(cmdline, CMDLINE_SIZE, "console=%s panic=-1",
		 o->virtio_console ? "hvc0" : "ttyS0");
	serial = serial_init(&vm);
	if (!serial || i8042_init(&vm) || rtc_init(&vm) || pm_init(&vm) ||
	    pit_init(&vm)) {
		fprintf(stderr, "hvk-run: cannot set up the legacy devices\n");
		return 1;
	}
	if (o->disk && virtio_blk_init(&vm, index++, o->disk, o->disk_ro,
				       cmdline, CMDLINE_SIZE)) {
		fprintf(stderr, "hvk-run: --disk %s: %s\n", o->disk,
			strerror(errno));
		return 1;
	}
	if (o->virtio_console) {
		vcon = virtio_console_init(&vm, index++, cmdline, CMDLINE_SIZE);
		if (!vcon) {
			fprintf(stderr, "hvk-run: cannot set up virtio-console\n");
			return 1;
		}
	}
	if (virtio_rng_init(&vm, index++, cmdline, CMDLINE_SIZE)) {
		fprintf(stderr, "hvk-run: cannot set up virtio-rng\n");
		return 1;
	}
	if (o->append) {
		strncat(cmdline, " ", CMDLINE_SIZE - strlen(cmdline) - 1);
		strncat(cmdline, o->append, CMDLINE_SIZE - strlen(cmdline) - 1);
	}

	bzo.cmdline = cmdline;
	bzo.acpi_rsdp = acpi_build(&vm);
	if (bz_load(&img, vm.mem, vm.mem_size, &bzo, &boot))
		bad_args("--kernel %s: does not fit in %llu MiB with its initrd",
			 o->kernel, (unsigned long long)(o->mem >> 20));
	if (bz_setup_vcpu(vcpu_boot_fd(), &boot))
		return 1;

	console_init(o->bench);
	if (vcon)
		term_init(virtio_console_input, vcon);
	else
		term_init(serial_input, serial);
	if (vcpus_start(&vm))
		return 1;

	why = machine_wait(&msg);
	vcpus_stop(&vm);
	virtio_blk_flush();
	term_restore();
	fprintf(stderr, "\nhvk-run: %s\n", msg);
	switch (why) {
	case STOP_REBOOT:
		return o->reboot_restart ? -1 : 0;
	case STOP_POWEROFF:
	case STOP_QUIT:
		return 0;
	default:
		return 1;
	}
}

int main(int argc, char **argv)
{
	struct options o;
	int status;

	parse_args(argc, argv, &o);
	setvbuf(stderr, NULL, _IONBF, 0);
	status = run(&o);
	if (status < 0) {
		/* A reboot with --reboot restart: the same command again. */
		execv("/proc/self/exe", argv);
		fprintf(stderr, "hvk-run: restart: %s\n", strerror(errno));
		return 1;
	}
	return status;
}
