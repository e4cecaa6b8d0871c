// SPDX-License-Identifier: GPL-2.0
/*
 * hvk_kunit.ko: KUnit suites for the logic inside hvk.  Each suite includes
 * the source file it tests, so the suites run on any CPU, with or without
 * hvk.ko loaded.  Loading the module runs them; results are in the kernel
 * log and in /sys/kernel/debug/kunit/hvk_*.
 */
#include <linux/module.h>

MODULE_DESCRIPTION("KUnit tests for hvk");
MODULE_LICENSE("GPL");
