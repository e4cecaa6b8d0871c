/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small decoder for the instructions hvk emulates on a VM exit when the
 * hardware does not say enough about them (AMD without next-RIP save or
 * decode assists): prefixes, opcode, ModRM and the total length.
 */
#ifndef HVK_INSN_H
#define HVK_INSN_H

#include <linux/types.h>

/* Segment registers, in the order of the hardware's encodings. */
enum hvk_sreg {
	HVK_SREG_ES, HVK_SREG_CS, HVK_SREG_SS, HVK_SREG_DS, HVK_SREG_FS,
	HVK_SREG_GS, HVK_SREG_TR, HVK_SREG_LDTR,
};

struct hvk_insn {
	u8 len;			/* total length in bytes */
	u8 opcode[3];		/* opcode bytes, after the prefixes */
	u8 opcode_len;
	bool has_modrm;
	u8 modrm;
	u8 rex;			/* 0 if none */
	int seg_override;	/* enum hvk_sreg or -1 */
	bool opsize;		/* 0x66 */
	bool adsize;		/* 0x67 */
	bool lock;		/* 0xf0 */
	bool rep;		/* 0xf2 or 0xf3 */
};

/*
 * Decode the instruction in @buf (@len bytes fetched at CS:RIP) as the CPU
 * would in a code segment of @mode bits (16, 32 or 64).  Knows one-byte and
 * 0F-escaped opcodes without immediates, IN/OUT with imm8, and ModRM forms
 * of 0F 00, 0F 01 and 0F 20-23.  0, or -EINVAL for anything else or a
 * truncated buffer.
 */
int hvk_insn_decode(struct hvk_insn *insn, const u8 *buf, unsigned int len,
		    int mode);

/* Address size in bytes (2, 4 or 8) of @insn in a code segment of @mode bits. */
unsigned int hvk_insn_address_bytes(const struct hvk_insn *insn, int mode);

#endif /* HVK_INSN_H */
