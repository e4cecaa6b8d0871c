// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the VMX capability check against MSR values recorded on real CPUs
 * (VirtualBox's CPU database, VBoxCpuReport dumps), and variants of them
 * that firmware or an older CPU would present.
 */
#include <kunit/test.h>

#include "../vmx/caps.c"

struct vmx_caps_case {
	const char *name;
	struct vmx_raw_caps caps;
	const char *missing;	/* NULL: accepted; else a substring */
};

/* CPUID.1:ECX of a CPU with VMX; only bit 5 matters to the check. */
#define ECX_VMX		CPUID1_ECX_VMX

#define SKYLAKE_6700K {						\
	.cpuid1_ecx = ECX_VMX,					\
	.feature_control = 0x5,					\
	.basic = 0x00da040000000004ULL,				\
	.true_procbased = 0xfff9fffe04006172ULL,		\
	.procbased2 = 0x001ffcff00000000ULL,			\
	.ept_vpid = 0x00000f0106334141ULL,			\
}

static const struct vmx_caps_case vmx_cases[] = {
	{ "i7-6700K Skylake", SKYLAKE_6700K, NULL },
	{ "i7-5600U Broadwell", {
		.cpuid1_ecx = ECX_VMX,
		.feature_control = 0x5,
		.basic = 0x00da040000000012ULL,
		.true_procbased = 0xfff9fffe04006172ULL,
		.procbased2 = 0x00057cff00000000ULL,
		.ept_vpid = 0x00000f0106334141ULL,
	}, NULL },
	{ "i7-3960X Sandy Bridge-E", {
		.cpuid1_ecx = ECX_VMX,
		.feature_control = 0x5,
		.basic = 0x00da040000000010ULL,
		.true_procbased = 0xfff9fffe04006172ULL,
		.procbased2 = 0x000004ff00000000ULL,
		.ept_vpid = 0x00000f0106134141ULL,
	}, NULL },
	/* Penryn: no true controls, no EPT, no unrestricted guest. */
	{ "Xeon X5482 Penryn", {
		.cpuid1_ecx = ECX_VMX,
		.feature_control = 0x5,
		.basic = 0x005a08000000000dULL,
	}, "true controls" },
	{ "Penryn with true controls forced", {
		.cpuid1_ecx = ECX_VMX,
		.feature_control = 0x5,
		.basic = 0x005a08000000000dULL | BIT_ULL(55),
		.true_procbased = 0xf7f9fffe0401e172ULL,
		.procbased2 = 0x0000004100000000ULL,
	}, "EPT" },
	{ "no VMX in CPUID", { .cpuid1_ecx = 0 }, "CPUID.1:ECX.VMX" },
};

/* Skylake with one field changed, as firmware or another CPU would have it. */
struct vmx_variant {
	const char *name;
	void (*change)(struct vmx_raw_caps *caps);
	const char *missing;
};

static void featctl_unlocked(struct vmx_raw_caps *c) { c->feature_control = 0x4; }
static void featctl_no_vmx(struct vmx_raw_caps *c) { c->feature_control = 0x1; }
static void featctl_smx_only(struct vmx_raw_caps *c) { c->feature_control = 0x3; }
static void basic_uc_memtype(struct vmx_raw_caps *c) { c->basic &= ~(0xfULL << 50); }
static void basic_32bit(struct vmx_raw_caps *c) { c->basic |= BIT_ULL(48); }
static void basic_size_8k(struct vmx_raw_caps *c)
{
	c->basic = (c->basic & ~(0x1fffULL << 32)) | (0x2000ULL << 32);
}
static void no_secondary(struct vmx_raw_caps *c) { c->true_procbased &= ~BIT_ULL(63); }
static void no_ug(struct vmx_raw_caps *c) { c->procbased2 &= ~BIT_ULL(32 + 7); }
static void no_ept(struct vmx_raw_caps *c) { c->procbased2 &= ~BIT_ULL(32 + 1); }
static void ept_walk3(struct vmx_raw_caps *c) { c->ept_vpid &= ~BIT_ULL(6); }
static void ept_uc_only(struct vmx_raw_caps *c) { c->ept_vpid &= ~BIT_ULL(14); }
static void no_invept(struct vmx_raw_caps *c) { c->ept_vpid &= ~BIT_ULL(20); }
static void invept_no_types(struct vmx_raw_caps *c)
{
	c->ept_vpid &= ~(BIT_ULL(25) | BIT_ULL(26));
}
static void invept_single_only(struct vmx_raw_caps *c) { c->ept_vpid &= ~BIT_ULL(26); }

static const struct vmx_variant vmx_variants[] = {
	{ "IA32_FEATURE_CONTROL unlocked", featctl_unlocked, "outside SMX" },
	{ "VMX disabled by firmware", featctl_no_vmx, "outside SMX" },
	{ "VMX only inside SMX", featctl_smx_only, "outside SMX" },
	{ "VMCS memory type UC", basic_uc_memtype, "write-back VMCS" },
	{ "32-bit VMX addresses", basic_32bit, "64-bit VMX region" },
	{ "VMCS larger than 4 KiB", basic_size_8k, "at most 4 KiB" },
	{ "no secondary controls", no_secondary, "secondary" },
	{ "no unrestricted guest", no_ug, "unrestricted guest" },
	{ "no EPT", no_ept, "EPT" },
	{ "EPT without 4-level walks", ept_walk3, "4-level" },
	{ "EPT without WB", ept_uc_only, "write-back paging" },
	{ "no INVEPT", no_invept, "INVEPT" },
	{ "INVEPT without types", invept_no_types, "INVEPT" },
	{ "INVEPT single-context only", invept_single_only, NULL },
};

static void vmx_expect(struct kunit *test, const char *name,
		       const struct vmx_raw_caps *caps, const char *want)
{
	const char *got = vmx_missing_feature(caps);

	if (!want) {
		KUNIT_EXPECT_NULL_MSG(test, got, "%s: refused for %s", name, got);
		return;
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, got, "%s: accepted", name);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(got, want),
				  "%s: \"%s\" does not name \"%s\"",
				  name, got, want);
}

static void vmx_caps_recorded_cpus(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmx_cases); i++)
		vmx_expect(test, vmx_cases[i].name, &vmx_cases[i].caps,
			   vmx_cases[i].missing);
}

static void vmx_caps_one_feature_missing(struct kunit *test)
{
	const struct vmx_raw_caps skylake = SKYLAKE_6700K;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmx_variants); i++) {
		struct vmx_raw_caps caps = skylake;

		vmx_variants[i].change(&caps);
		vmx_expect(test, vmx_variants[i].name, &caps,
			   vmx_variants[i].missing);
	}
}

static void vmx_caps_true_ctls_bit(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, vmx_has_true_ctls(0x00da040000000004ULL));
	KUNIT_EXPECT_FALSE(test, vmx_has_true_ctls(0x005a08000000000dULL));
}

static struct kunit_case vmx_caps_test_cases[] = {
	KUNIT_CASE(vmx_caps_recorded_cpus),
	KUNIT_CASE(vmx_caps_one_feature_missing),
	KUNIT_CASE(vmx_caps_true_ctls_bit),
	{}
};

static struct kunit_suite vmx_caps_test_suite = {
	.name = "hvk_vmx_caps",
	.test_cases = vmx_caps_test_cases,
};

kunit_test_suite(vmx_caps_test_suite);
