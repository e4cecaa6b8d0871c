// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading hvk.ko: repeated cycles, and refusal with EBUSY when
 * KVM already owns VMX or SVM.  Runs with no hypervisor module loaded.
 */
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "hvk_util.h"

/* Is every online CPU in hvk's enabled set, and no other? */
static bool enabled_on_all_online(void)
{
	char online[256], enabled[256];

	return !hvk_read_line("/sys/devices/system/cpu/online", online, sizeof(online)) &&
	       !hvk_read_line("/sys/kernel/debug/hvk/enabled_cpus", enabled, sizeof(enabled)) &&
	       !strcmp(online, enabled);
}

/* Does a kernel log record newer than @fd's position contain @text? */
static bool kmsg_since_contains(int fd, const char *text)
{
	char rec[2048];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* EPIPE: records were overwritten */
		rec[n] = '\0';
		if (strstr(rec, text))
			return true;
	}
	return false;
}

TEST(load_unload_cycles)
{
	char path[256];
	struct stat st;
	int i;

	ASSERT_FALSE(hvk_module_loaded("hvk")) TH_LOG("unload hvk first");
	hvk_module_path(path, sizeof(path));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, hvk_load_module(path)) TH_LOG("load %d", i);
		EXPECT_EQ(0, stat("/dev/hvk", &st)) TH_LOG("cycle %d", i);
		EXPECT_TRUE(enabled_on_all_online()) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, hvk_unload_module("hvk")) TH_LOG("unload %d", i);
		EXPECT_NE(0, stat("/sys/kernel/debug/hvk", &st)) TH_LOG("cycle %d", i);
	}
}

/* Load or unload KVM with modprobe, as a user would.  0 on success. */
static int kvm_modprobe(const char *opt, const char *vendor)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "modprobe %s %s", opt, vendor);
	return system(cmd);
}

TEST(busy_when_kvm_owns_virtualization)
{
	const char *vendor = hvk_cpu_has_flag("vmx") ? "kvm_intel" : "kvm_amd";
	char path[256];
	int kmsg, kvm, vm;

	ASSERT_FALSE(hvk_module_loaded("hvk"));
	ASSERT_FALSE(hvk_module_loaded("kvm"));
	ASSERT_EQ(0, kvm_modprobe("", vendor));

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));

	hvk_module_path(path, sizeof(path));
	EXPECT_EQ(-EBUSY, hvk_load_module(path));
	EXPECT_FALSE(hvk_module_loaded("hvk"));
	EXPECT_TRUE(kmsg_since_contains(kmsg, "already in use"));
	close(kmsg);

	/* KVM is unharmed: it still creates VMs. */
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	EXPECT_LE(0, vm);
	close(vm);
	close(kvm);

	ASSERT_EQ(0, kvm_modprobe("-r", vendor));
	ASSERT_FALSE(hvk_module_loaded("kvm"));

	/* And with KVM gone, hvk loads on every CPU. */
	ASSERT_EQ(0, hvk_load_module(path));
	EXPECT_TRUE(enabled_on_all_online());
	ASSERT_EQ(0, hvk_unload_module("hvk"));
}

TEST_HARNESS_MAIN
