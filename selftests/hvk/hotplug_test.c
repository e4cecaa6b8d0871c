// SPDX-License-Identifier: GPL-2.0
/*
 * CPU offline and online with hvk loaded: virtualization follows the CPU,
 * a CPU that comes online after the module loaded gets it too, and a vCPU
 * survives the CPU it last ran on going away.  Needs two or more CPUs and
 * no hypervisor module loaded.
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "hvk_util.h"
#include "vm_util.h"

/* Real mode: OUT 1, 2, 3, ... to port 0x20, one per KVM_RUN. */
GUEST_CODE_DECLARE(count_out);
asm(GUEST_CODE_BEGIN(count_out, ".code16")
"	xorw %ax, %ax\n"
"1:	incw %ax\n"
"	outw %ax, $0x20\n"
"	jmp 1b\n"
GUEST_CODE_END(count_out));

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

static void pin_to_cpu(struct __test_metadata *_metadata, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
}

/*
 * The vCPU last ran on CPU 1, so its VMCS is active there (VMX); CPU 1 then
 * goes offline, which must make that VMCS inactive before VMXOFF.  The vCPU
 * goes on on CPU 0, and on CPU 1 again once it is back.
 */
TEST_F(hotplug, vcpu_survives_cpu_offline)
{
	struct hvk_vm vm;
	struct hvk_vcpu vcpu;

	ASSERT_EQ(0, hvk_load_module(self->module));
	ASSERT_EQ(0, vm_create(&vm));
	vm_load(&vm, VM_CODE_GPA, count_out_start, count_out_end);
	ASSERT_EQ(0, vcpu_create(&vm, &vcpu, 0));
	ASSERT_EQ(0, vcpu_setup_real(&vcpu, VM_CODE_GPA));

	pin_to_cpu(_metadata, 1);
	EXPECT_EQ(1U, vcpu_run_out(&vcpu, 0x20, 2));
	pin_to_cpu(_metadata, 0);
	ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "0"));
	expect_enabled(_metadata, "0");
	EXPECT_EQ(2U, vcpu_run_out(&vcpu, 0x20, 2));
	ASSERT_EQ(0, hvk_write_str(CPU1_ONLINE, "1"));
	pin_to_cpu(_metadata, 1);
	EXPECT_EQ(3U, vcpu_run_out(&vcpu, 0x20, 2));
	pin_to_cpu(_metadata, 0);
	EXPECT_EQ(4U, vcpu_run_out(&vcpu, 0x20, 2));

	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	ASSERT_EQ(0, hvk_unload_module("hvk"));
}

TEST_HARNESS_MAIN
