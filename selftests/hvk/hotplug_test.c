// SPDX-License-Identifier: GPL-2.0
/*
 * CPU offline and online with hvk loaded: virtualization follows the CPU,
 * and a CPU that comes online after the module loaded gets it too.
 * Needs two or more CPUs and no hypervisor module loaded.
 */
#include "kselftest_harness.h"
#include "hvk_util.h"

#define CPU1_ONLINE "/sys/devices/system/cpu/cpu1/online"

static void expect_enabled(struct __test_metadata *_metadata, const char *want)
{
	char enabled[256];

	ASSERT_EQ(0, hvk_read_line("/sys/kernel/debug/hvk/enabled_cpus",
				   enabled, sizeof(enabled)));
	EXPECT_STREQ(want, enabled);
}

FIXTURE(hotplug) {
	char module[256];
};

FIXTURE_SETUP(hotplug)
{
	struct stat st;

	if (stat(CPU1_ONLINE, &st))
		SKIP(return, "needs a second CPU that can go offline");
	hvk_module_path(self->module, sizeof(self->module));
	ASSERT_FALSE(hvk_module_loaded("hvk"));
	ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "1"));
}

FIXTURE_TEARDOWN(hotplug)
{
	hvk_write_str(CPU1_ONLINE, "1");
	if (hvk_module_loaded("hvk"))
		hvk_unload_module("hvk");
}

TEST_F(hotplug, offline_online_with_module_loaded)
{
	int i;

	ASSERT_EQ(0, hvk_load_module(self->module));
	expect_enabled(_metadata, "0-1");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "0"));
		expect_enabled(_metadata, "0");
		ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "1"));
		expect_enabled(_metadata, "0-1");
	}
	ASSERT_EQ(0, hvk_unload_module("hvk"));
}

TEST_F(hotplug, cpu_onlined_after_load)
{
	ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "0"));
	ASSERT_EQ(0, hvk_load_module(self->module));
	expect_enabled(_metadata, "0");
	ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "1"));
	expect_enabled(_metadata, "0-1");
	ASSERT_EQ(0, hvk_unload_module("hvk"));
	ASSERT_EQ(0, hvk_load_module(self->module));
	expect_enabled(_metadata, "0-1");
	ASSERT_EQ(0, hvk_unload_module("hvk"));
}

TEST_HARNESS_MAIN
