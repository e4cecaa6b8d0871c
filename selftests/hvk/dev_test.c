// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/hvk basics, written against the KVM ABI so that the same binary runs
 * against /dev/kvm (HVK_DEV=/dev/kvm) and proves the test, not just hvk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "hvk_util.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(hvk_dev_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", hvk_dev_path(), strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, api_version)
{
	EXPECT_EQ(12, ioctl(self->fd, KVM_GET_API_VERSION, 0));
}

TEST_F(dev, api_version_with_argument)
{
	EXPECT_EQ(-1, ioctl(self->fd, KVM_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, unknown_capability_is_zero)
{
	/* Far beyond any capability number KVM has assigned. */
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, 100000));
	EXPECT_EQ(0, ioctl(self->fd, KVM_CHECK_EXTENSION, -1L));
}

/*
 * An ioctl the device does not implement fails with ENOTTY on hvk.  KVM on
 * x86 answers unknown system ioctls with EINVAL instead (its arch fallback),
 * which the same test accepts when it runs against /dev/kvm.
 */
TEST_F(dev, unknown_ioctl)
{
	int want = hvk_testing_kvm() ? EINVAL : ENOTTY;

	/* In KVM's range but unassigned, a foreign type, and no type at all. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(KVMIO, 0xff), 0));
	EXPECT_EQ(want, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 0x01), 0));
	EXPECT_EQ(want, errno);
	EXPECT_EQ(-1, ioctl(self->fd, 0, 0));
	EXPECT_EQ(want, errno);
}

TEST_F(dev, read_write_not_supported)
{
	char buf[8];

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

TEST(root_only_by_default)
{
	struct stat st;

	if (hvk_testing_kvm())
		SKIP(return, "only /dev/hvk's mode is hvk's to choose");
	ASSERT_EQ(0, stat("/dev/hvk", &st));
	EXPECT_EQ(0600U, st.st_mode & 0777);
	EXPECT_EQ(0U, st.st_uid);
}

/* hvk's own view: virtualization is on in every online CPU. */
TEST(enabled_on_every_online_cpu)
{
	char online[256], enabled[256];

	if (hvk_testing_kvm())
		SKIP(return, "hvk's debugfs only");
	ASSERT_EQ(0, hvk_read_line("/sys/devices/system/cpu/online",
				   online, sizeof(online)));
	ASSERT_EQ(0, hvk_read_line("/sys/kernel/debug/hvk/enabled_cpus",
				   enabled, sizeof(enabled)));
	EXPECT_STREQ(online, enabled);
}

TEST_HARNESS_MAIN
