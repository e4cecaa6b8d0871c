// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the instruction decoder (module/insn.c): a table of encodings
 * assembled by hand from the SDM's opcode map, thousands of encodings made
 * by GNU as (gen-insn-vectors.sh), and random bytes.
 */
#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "../insn.c"

struct insn_case {
	const char *name;
	u8 bytes[16];
	u8 nbytes;
	int mode;
	int ret;		/* 0 or -EINVAL */
	u8 len;
	u8 op0, op1;
	u8 modrm;
	u8 rex;
	int seg;
	bool rep, lock, adsize;
	u8 addr_bytes;		/* hvk_insn_address_bytes(), 0: not checked */
};

#define B(...)	.bytes = { __VA_ARGS__ }, .nbytes = sizeof((u8[]){ __VA_ARGS__ })

static const struct insn_case insn_cases[] = {
	{ "hlt", B(0xf4), 16, 0, 1, 0xf4, .seg = -1 },
	{ "cpuid", B(0x0f, 0xa2), 32, 0, 2, 0x0f, 0xa2, .seg = -1 },
	{ "cpuid with 66", B(0x66, 0x0f, 0xa2), 64, 0, 3, 0x0f, 0xa2, .seg = -1 },
	{ "rdmsr", B(0x0f, 0x32), 64, 0, 2, 0x0f, 0x32, .seg = -1 },
	{ "wrmsr", B(0x0f, 0x30), 32, 0, 2, 0x0f, 0x30, .seg = -1 },
	{ "invd", B(0x0f, 0x08), 32, 0, 2, 0x0f, 0x08, .seg = -1 },
	{ "rep outsb 16", B(0xf3, 0x6e), 16, 0, 2, 0x6e, .seg = -1,
	  .rep = true, .addr_bytes = 2 },
	{ "cs: rep outsb", B(0x2e, 0xf3, 0x6e), 16, 0, 3, 0x6e, .seg = 1,
	  .rep = true, .addr_bytes = 2 },
	{ "es: a16 rep insb 32", B(0x26, 0x67, 0xf3, 0x6c), 32, 0, 4, 0x6c,
	  .seg = 0, .rep = true, .adsize = true, .addr_bytes = 2 },
	{ "fs: outsd 64", B(0x64, 0x6f), 64, 0, 2, 0x6f, .seg = 4,
	  .addr_bytes = 8 },
	{ "a32 rep outsw 64", B(0x66, 0x67, 0xf3, 0x6f), 64, 0, 4, 0x6f,
	  .seg = -1, .rep = true, .adsize = true, .addr_bytes = 4 },
	{ "a32 insb 16", B(0x67, 0x6c), 16, 0, 2, 0x6c, .seg = -1,
	  .adsize = true, .addr_bytes = 4 },
	{ "out imm8", B(0xe6, 0x80), 16, 0, 2, 0xe6, .seg = -1 },
	{ "in dx", B(0xec), 32, 0, 1, 0xec, .seg = -1 },
	{ "mov cr0, eax", B(0x0f, 0x22, 0xc0), 32, 0, 3, 0x0f, 0x22, 0xc0,
	  .seg = -1 },
	{ "mov cr4, rbx", B(0x0f, 0x22, 0xe3), 64, 0, 3, 0x0f, 0x22, 0xe3,
	  .seg = -1 },
	{ "mov cr0, r8", B(0x41, 0x0f, 0x22, 0xc0), 64, 0, 4, 0x0f, 0x22,
	  0xc0, 0x41, -1 },
	{ "lock mov cr0 (cr8)", B(0xf0, 0x0f, 0x22, 0xc0), 32, 0, 4, 0x0f,
	  0x22, 0xc0, .seg = -1, .lock = true },
	/* MOV CR ignores mod: the register form is implied (SDM MOV CR). */
	{ "mov cr0 with mod 0", B(0x0f, 0x22, 0x00), 32, 0, 3, 0x0f, 0x22,
	  0xc0, .seg = -1 },
	{ "mov dr7, eax", B(0x0f, 0x23, 0xf8), 32, 0, 3, 0x0f, 0x23, 0xf8,
	  .seg = -1 },
	{ "clts", B(0x0f, 0x06), 16, 0, 2, 0x0f, 0x06, .seg = -1 },
	{ "lmsw ax", B(0x0f, 0x01, 0xf0), 16, 0, 3, 0x0f, 0x01, 0xf0,
	  .seg = -1 },
	{ "invlpg [rax]", B(0x0f, 0x01, 0x38), 64, 0, 3, 0x0f, 0x01, 0x38,
	  .seg = -1 },
	{ "invlpg [rsp] (SIB)", B(0x0f, 0x01, 0x3c, 0x24), 64, 0, 4, 0x0f,
	  0x01, 0x3c, .seg = -1 },
	{ "invlpg [rip+disp32]", B(0x0f, 0x01, 0x3d, 1, 2, 3, 4), 64, 0, 7,
	  0x0f, 0x01, 0x3d, .seg = -1 },
	{ "invlpg [rsp+8]", B(0x0f, 0x01, 0x7c, 0x24, 0x08), 64, 0, 5, 0x0f,
	  0x01, 0x7c, .seg = -1 },
	{ "invlpg [disp32+index] (SIB base 5)",
	  B(0x0f, 0x01, 0x3c, 0x25, 1, 2, 3, 4), 32, 0, 8, 0x0f, 0x01, 0x3c,
	  .seg = -1 },
	{ "invlpg [eax+disp32]", B(0x0f, 0x01, 0xb8, 1, 2, 3, 4), 32, 0, 7,
	  0x0f, 0x01, 0xb8, .seg = -1 },
	{ "invlpg [disp16] 16", B(0x0f, 0x01, 0x3e, 0x34, 0x12), 16, 0, 5,
	  0x0f, 0x01, 0x3e, .seg = -1 },
	{ "invlpg [bx+disp16] 16", B(0x0f, 0x01, 0xbf, 0x34, 0x12), 16, 0, 5,
	  0x0f, 0x01, 0xbf, .seg = -1 },
	{ "invlpg [bx+si+disp8] 16", B(0x0f, 0x01, 0x78, 0x10), 16, 0, 4,
	  0x0f, 0x01, 0x78, .seg = -1 },
	/* 0x67 in 32-bit code selects 16-bit addressing: no SIB, disp16. */
	{ "a16 invlpg [disp16] 32", B(0x67, 0x0f, 0x01, 0x3e, 0x34, 0x12), 32,
	  0, 6, 0x0f, 0x01, 0x3e, .seg = -1, .adsize = true },
	/* REX exists only in 64-bit mode: 0x41 is INC ECX elsewhere. */
	{ "rex outside 64-bit", B(0x41, 0x0f, 0x22, 0xc0), 32, -EINVAL },
	{ "truncated escape", B(0x0f), 32, -EINVAL },
	{ "truncated modrm", B(0x0f, 0x01), 32, -EINVAL },
	{ "truncated sib", B(0x0f, 0x01, 0x3c), 64, -EINVAL },
	{ "truncated disp", B(0x0f, 0x01, 0x3d, 1, 2), 64, -EINVAL },
	{ "truncated imm8", B(0xe6), 16, -EINVAL },
	{ "prefixes only", B(0x66, 0x66, 0x66), 32, -EINVAL },
	{ "15 prefixes", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xf4),
	  32, -EINVAL },
	{ "14 prefixes and hlt", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0xf4), 32, 0, 15, 0xf4, .seg = -1 },
	{ "nop is not decoded", B(0x90), 32, -EINVAL },
	{ "vmcall (0f 01 c1) has a register modrm", B(0x0f, 0x01, 0xc1), 64,
	  0, 3, 0x0f, 0x01, 0xc1, .seg = -1 },
	{ "unknown 0f escape", B(0x0f, 0xff), 64, -EINVAL },
};

static void insn_decode_table(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(insn_cases); i++) {
		const struct insn_case *c = &insn_cases[i];
		struct hvk_insn insn;
		int r = hvk_insn_decode(&insn, c->bytes, c->nbytes, c->mode);

		KUNIT_EXPECT_EQ_MSG(test, c->ret, r, "%s", c->name);
		if (r || c->ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, c->len, insn.len, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->op0, insn.opcode[0], "%s", c->name);
		if (c->op0 == 0x0f)
			KUNIT_EXPECT_EQ_MSG(test, c->op1, insn.opcode[1], "%s",
					    c->name);
		if (insn.has_modrm)
			KUNIT_EXPECT_EQ_MSG(test, c->modrm, insn.modrm, "%s",
					    c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->rex, insn.rex, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->seg, insn.seg_override, "%s",
				    c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->rep, insn.rep, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->lock, insn.lock, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, c->adsize, insn.adsize, "%s", c->name);
		if (c->addr_bytes)
			KUNIT_EXPECT_EQ_MSG(test, (unsigned int)c->addr_bytes,
					    hvk_insn_address_bytes(&insn, c->mode),
					    "%s", c->name);
	}
}

/* A decode of any prefix of a valid encoding fails or is that encoding. */
static void insn_decode_truncations(struct kunit *test)
{
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(insn_cases); i++) {
		const struct insn_case *c = &insn_cases[i];
		struct hvk_insn insn;

		if (c->ret)
			continue;
		for (n = 0; n < c->len; n++)
			KUNIT_EXPECT_EQ_MSG(test, -EINVAL,
					    hvk_insn_decode(&insn, c->bytes, n,
							    c->mode),
					    "%s cut to %u bytes", c->name, n);
	}
}

/* The vectors, made by gen-insn-vectors.sh with GNU as. */
#include "insn_vectors_test.h"
#include "insn_vectors.h"

static void insn_decode_vectors(struct kunit *test)
{
	unsigned long regs[16];
	u64 rip = 0xfffffff0ULL;
	unsigned int i, n;

	insn_test_regs(regs);
	KUNIT_ASSERT_GE(test, nr_insn_vectors, 3000U);
	for (i = 0; i < nr_insn_vectors; i++) {
		const struct insn_vector *v = &insn_vectors[i];
		struct hvk_insn insn;
		u8 buf[16];
		int r;

		/* What follows the instruction must not matter. */
		memset(buf, 0x0f, sizeof(buf));
		memcpy(buf, v->bytes, v->len);
		r = hvk_insn_decode(&insn, buf, 15, v->mode);
		KUNIT_ASSERT_EQ_MSG(test, r, 0, "%d: %s", v->mode, v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.len, v->len, "%s", v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.op_bytes, v->op_bytes, "%s", v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.addr_bytes, v->addr_bytes, "%s",
				    v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.access, v->access, "%s", v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.mem_bytes, v->mem_bytes, "%s",
				    v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.seg, v->seg, "%s", v->text);
		KUNIT_EXPECT_EQ_MSG(test, insn.string, v->kind == V_S, "%s",
				    v->text);
		if (v->kind == V_O)
			KUNIT_EXPECT_TRUE_MSG(test, insn.moffs, "%s", v->text);
		if (v->kind != V_S) {
			KUNIT_EXPECT_TRUE_MSG(test, insn.has_mem, "%s", v->text);
			KUNIT_EXPECT_EQ_MSG(test, hvk_insn_ea(&insn, regs, rip),
					    insn_vector_ea(v, regs, rip),
					    "%s", v->text);
		}
		if (v->kind == V_M && insn.has_modrm) {
			KUNIT_EXPECT_EQ_MSG(test, insn.base, v->base, "%s",
					    v->text);
			KUNIT_EXPECT_EQ_MSG(test, insn.index, v->index, "%s",
					    v->text);
			if (v->index >= 0)
				KUNIT_EXPECT_EQ_MSG(test, insn.scale, v->scale,
						    "%s", v->text);
			if (v->reg >= 0)
				KUNIT_EXPECT_EQ_MSG(test, insn.reg, v->reg,
						    "%s", v->text);
		}
		/* Every shorter piece of it is refused. */
		for (n = 0; n < v->len; n++)
			KUNIT_EXPECT_EQ_MSG(test, hvk_insn_decode(&insn, buf, n,
								  v->mode),
					    -EINVAL, "%s cut to %u", v->text, n);
	}
}

/* Random bytes: the decoder ends, reads only what it is given, says <= 15. */
static void insn_decode_fuzz(struct kunit *test)
{
	/* Prefixes and opcodes it knows, so that decodes get far. */
	static const u8 likely[] = {
		0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2,
		0xf3, 0x40, 0x48, 0x4f, 0x0f, 0x01, 0x8b, 0x89, 0xa1, 0xa5,
		0xc7, 0xf7, 0x80, 0x83, 0x04, 0x05, 0x24, 0x25, 0x44, 0x84,
		0xb6, 0x63, 0x22, 0xe4,
	};
	struct rnd_state rnd;
	unsigned int i, j;
	u8 *end;

	/* The bytes end where the allocation ends: KASAN sees a read past them. */
	end = kunit_kmalloc(test, 16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, end);
	end += 16;
	prandom_seed_state(&rnd, 0x6876cafe);
	for (i = 0; i < 40000; i++) {
		unsigned int len = prandom_u32_state(&rnd) % 17;
		int mode = 16 << (prandom_u32_state(&rnd) % 3);
		u8 *buf = end - min(len, 16U);
		struct hvk_insn insn;
		int r;

		for (j = 0; j < len; j++) {
			u32 x = prandom_u32_state(&rnd);

			buf[j] = x & 0x100 ? likely[(x >> 9) % sizeof(likely)] : x;
		}
		r = hvk_insn_decode(&insn, buf, len, mode);
		if (r == 0) {
			KUNIT_EXPECT_GE(test, insn.len, 1);
			KUNIT_EXPECT_LE(test, insn.len, min(len, 15U));
		} else {
			KUNIT_EXPECT_EQ(test, r, -EINVAL);
		}
	}
}

static struct kunit_case insn_test_cases[] = {
	KUNIT_CASE(insn_decode_table),
	KUNIT_CASE(insn_decode_truncations),
	KUNIT_CASE(insn_decode_vectors),
	KUNIT_CASE(insn_decode_fuzz),
	{}
};

static struct kunit_suite insn_test_suite = {
	.name = "hvk_insn",
	.test_cases = insn_test_cases,
};

kunit_test_suite(insn_test_suite);
