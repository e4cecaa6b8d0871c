// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the SVM capability check against CPUID and VM_CR values recorded on
 * real CPUs (VirtualBox's CPU database, VBoxCpuReport dumps), and variants
 * that firmware or another CPU would present.
 */
#include <kunit/test.h>

#include "../svm/caps.c"

struct svm_caps_case {
	const char *name;
	struct svm_raw_caps caps;
	const char *missing;	/* NULL: accepted; else a substring */
};

/*
 * The dumps list leaf 8000000Ah, so their maximum extended leaf is at least
 * that; the check needs no more.
 */
#define RECORDED_MAX_LEAF	0x8000000a

#define RYZEN_1800X {				\
	.max_ext_leaf = RECORDED_MAX_LEAF,		\
	.ext1_ecx = 0x35c233ff,			\
	.vm_cr = 0x8,				\
	.svm_ebx = 0x8000,			\
	.svm_edx = 0x1bcff,			\
}

static const struct svm_caps_case svm_cases[] = {
	{ "Ryzen 7 1800X", RYZEN_1800X, NULL },
	{ "FX-8150", {
		.max_ext_leaf = RECORDED_MAX_LEAF,
		.ext1_ecx = 0x01c9bfff,
		.vm_cr = 0x8,
		.svm_ebx = 0x10000,
		.svm_edx = 0x14ff,
	}, NULL },
	{ "Phenom II X6 1100T", {
		.max_ext_leaf = RECORDED_MAX_LEAF,
		.ext1_ecx = 0x000837ff,
		.vm_cr = 0x8,
		.svm_ebx = 0x40,
		.svm_edx = 0x40f,
	}, NULL },
	{ "no extended leaves", { .max_ext_leaf = 0x80000000 }, "SVM" },
};

struct svm_variant {
	const char *name;
	void (*change)(struct svm_raw_caps *caps);
	const char *missing;
};

static void no_svm_bit(struct svm_raw_caps *c) { c->ext1_ecx &= ~EXT1_ECX_SVM; }
static void svmdis(struct svm_raw_caps *c) { c->vm_cr |= BIT_ULL(4); }
static void no_svm_leaf(struct svm_raw_caps *c) { c->max_ext_leaf = 0x80000008; }
static void no_npt(struct svm_raw_caps *c) { c->svm_edx &= ~BIT(0); }
static void one_asid(struct svm_raw_caps *c) { c->svm_ebx = 1; }
static void no_nrips(struct svm_raw_caps *c) { c->svm_edx &= ~BIT(3); }

static const struct svm_variant svm_variants[] = {
	{ "SVM bit clear", no_svm_bit, "CPUID Fn8000_0001" },
	{ "SVM disabled by firmware", svmdis, "SVMDIS" },
	{ "no SVM leaf", no_svm_leaf, "Fn8000_000A" },
	{ "no nested paging", no_npt, "nested paging" },
	{ "a single ASID", one_asid, "ASIDs" },
	/* QEMU's emulated CPU has no next-RIP save; hvk copes without it. */
	{ "no next-RIP save", no_nrips, NULL },
};

static void svm_expect(struct kunit *test, const char *name,
		       const struct svm_raw_caps *caps, const char *want)
{
	const char *got = svm_missing_feature(caps);

	if (!want) {
		KUNIT_EXPECT_NULL_MSG(test, got, "%s: refused for %s", name, got);
		return;
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, got, "%s: accepted", name);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(got, want),
				  "%s: \"%s\" does not name \"%s\"",
				  name, got, want);
}

static void svm_caps_recorded_cpus(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(svm_cases); i++)
		svm_expect(test, svm_cases[i].name, &svm_cases[i].caps,
			   svm_cases[i].missing);
}

static void svm_caps_one_feature_missing(struct kunit *test)
{
	const struct svm_raw_caps ryzen = RYZEN_1800X;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(svm_variants); i++) {
		struct svm_raw_caps caps = ryzen;

		svm_variants[i].change(&caps);
		svm_expect(test, svm_variants[i].name, &caps,
			   svm_variants[i].missing);
	}
}

static struct kunit_case svm_caps_test_cases[] = {
	KUNIT_CASE(svm_caps_recorded_cpus),
	KUNIT_CASE(svm_caps_one_feature_missing),
	{}
};

static struct kunit_suite svm_caps_test_suite = {
	.name = "hvk_svm_caps",
	.test_cases = svm_caps_test_cases,
};

kunit_test_suite(svm_caps_test_suite);
