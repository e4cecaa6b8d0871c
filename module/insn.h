/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 instruction decoder: the instructions hvk emulates on a VM exit
 * when the hardware does not say enough about them (AMD without next-RIP
 * save or decode assists), and the instructions guests use on device memory
 * (emulate.h).  It finds prefixes, opcode, ModRM, SIB, displacement,
 * immediate and the total length, and describes the memory operand: how it
 * is addressed, its size and whether it is read, written or both.
 */
#ifndef HVK_INSN_H
#define HVK_INSN_H

#include <linux/types.h>

/* Segment registers, in the order of the hardware's encodings. */
enum hvk_sreg {
	HVK_SREG_ES, HVK_SREG_CS, HVK_SREG_SS, HVK_SREG_DS, HVK_SREG_FS,
	HVK_SREG_GS, HVK_SREG_TR, HVK_SREG_LDTR,
};

/* General-purpose registers, in the hardware's numbering. */
enum hvk_reg {
	HVK_RAX, HVK_RCX, HVK_RDX, HVK_RBX, HVK_RSP, HVK_RBP, HVK_RSI, HVK_RDI,
	HVK_R8, HVK_R9, HVK_R10, HVK_R11, HVK_R12, HVK_R13, HVK_R14, HVK_R15,
	HVK_NR_GPRS
};

/* hvk_insn.base for a RIP-relative operand (64-bit mode, SDM Vol. 2, 2.2.1.6). */
#define HVK_INSN_RIP		16
/* hvk_insn.base or .index: no register. */
#define HVK_INSN_NOREG		(-1)

/* hvk_insn.access: what the instruction does with its memory operand. */
#define HVK_INSN_READ		1
#define HVK_INSN_WRITE		2

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
	u8 rep_prefix;		/* the last of 0xf2 and 0xf3, or 0 */

	u8 op_bytes;		/* operand size: 1 for byte forms, else 2, 4, 8 */
	u8 addr_bytes;		/* address size: 2, 4 or 8 */
	u8 reg;			/* ModRM.reg extended by REX.R */
	u8 rm;			/* ModRM.rm extended by REX.B (register forms) */
	bool has_sib;
	u8 sib;
	u8 disp_bytes;		/* 0, 1, 2 or 4 */
	s32 disp;		/* sign-extended */
	u8 imm_bytes;		/* 0, 1, 2 or 4 */
	s64 imm;		/* sign-extended to 64 bits */
	bool moffs;		/* A0-A3: the address is @moffs */
	u64 moffs_addr;

	/*
	 * The explicit memory operand (ModRM with mod != 3, or moffs), when
	 * has_mem: effective address base + index * scale + disp (or moffs),
	 * in segment @seg.  String instructions (@string) address DS:rSI (or
	 * an override) and ES:rDI instead.  @access and @mem_bytes are set
	 * for the instructions emulate.c knows, 0 for the others.
	 */
	bool has_mem;
	bool string;
	s8 base;		/* enum hvk_reg, HVK_INSN_RIP or HVK_INSN_NOREG */
	s8 index;		/* enum hvk_reg or HVK_INSN_NOREG */
	u8 scale;		/* 1, 2, 4 or 8 */
	u8 seg;			/* enum hvk_sreg: the override or the default */
	u8 access;		/* HVK_INSN_READ | HVK_INSN_WRITE */
	u8 mem_bytes;		/* size of the memory access */
};

/*
 * Decode the instruction in @buf (@len bytes fetched at CS:RIP) as the CPU
 * would in a code segment of @mode bits (16, 32 or 64).  Never reads past
 * @len bytes.  0, or -EINVAL for an instruction it does not know, one
 * longer than 15 bytes or one cut short by @len.
 *
 * Known: IN, OUT, INS, OUTS, HLT, INT3; CLTS, INVD, WBINVD, UD2, WRMSR,
 * RDTSC, RDMSR, RDPMC, CPUID and the groups 0F 00, 0F 01; MOV to and from
 * CR and DR; and everything emulate.c emulates (the ALU opcodes 00-3B,
 * groups 80-83, F6, F7, TEST, XCHG, MOV 88-8B, A0-A3, C6, C7, MOVS, STOS,
 * LODS, MOVZX, MOVSX, MOVSXD) including their register forms.
 */
int hvk_insn_decode(struct hvk_insn *insn, const u8 *buf, unsigned int len,
		    int mode);

/* Address size in bytes (2, 4 or 8) of @insn in a code segment of @mode bits. */
unsigned int hvk_insn_address_bytes(const struct hvk_insn *insn, int mode);

/*
 * Effective address of @insn's memory operand (has_mem), truncated to the
 * address size, with the general registers @regs (enum hvk_reg order) and
 * @rip the address of the instruction itself.
 */
u64 hvk_insn_ea(const struct hvk_insn *insn, const unsigned long *regs,
		u64 rip);

#endif /* HVK_INSN_H */
