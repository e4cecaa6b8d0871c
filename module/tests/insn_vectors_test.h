/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test vectors of insn_vectors.h (made by gen-insn-vectors.sh with GNU
 * as), shared by the decoder's and the emulator's KUnit suites.
 */
#ifndef HVK_INSN_VECTORS_TEST_H
#define HVK_INSN_VECTORS_TEST_H

#include <linux/types.h>

#include "../insn.h"

enum { V_R = HVK_INSN_READ, V_W = HVK_INSN_WRITE, V_RW = V_R | V_W };

enum insn_vector_kind {
	V_M,		/* a ModRM memory operand (or moffs, as GNU as chose) */
	V_O,		/* moffs */
	V_S,		/* a string instruction: DS:rSI and ES:rDI */
};

struct insn_vector {
	u8 mode, len, op_bytes, addr_bytes, access, mem_bytes, kind, seg;
	s8 base, index;		/* 0-15, 16 = RIP, -1 = none */
	u8 scale;
	s64 disp;		/* or the moffs */
	s8 reg;			/* ModRM.reg with REX.R, -1: none */
	const char *text;
	const char *bytes;
};

extern const struct insn_vector insn_vectors[];
extern const unsigned int nr_insn_vectors;

/* Distinct values for the registers, in every byte. */
static inline void insn_test_regs(unsigned long *regs)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		regs[i] = 0x0123456789abcdefULL * (i + 1) + 0x1111 * i;
}

/* The effective address of @v at @rip from its description alone. */
static inline u64 insn_vector_ea(const struct insn_vector *v,
				 const unsigned long *regs, u64 rip)
{
	u64 ea = v->disp;

	if (v->base == HVK_INSN_RIP)
		ea += rip + v->len;
	else if (v->base >= 0)
		ea += regs[v->base];
	if (v->index >= 0)
		ea += regs[v->index] * v->scale;
	return v->addr_bytes == 8 ? ea : ea & ((1ULL << (8 * v->addr_bytes)) - 1);
}

#endif /* HVK_INSN_VECTORS_TEST_H */
