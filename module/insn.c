// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction decoder of insn.h (SDM Vol. 2, chapter 2: instruction
 * format; Appendix A: opcode map).
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "insn.h"

/* What the opcode tables say about an opcode. */
#define A_KNOWN		BIT(0)	/* decoded at all */
#define A_MODRM		BIT(1)
#define A_IMM8		BIT(2)	/* imm8 */
#define A_IMMZ		BIT(3)	/* imm16 or imm32 by operand size */
#define A_BYTE		BIT(4)	/* 8-bit operand size */
#define A_R		BIT(5)	/* reads its memory operand */
#define A_W		BIT(6)	/* writes its memory operand */
#define A_MOFFS		BIT(7)	/* A0-A3: moffs of the address size */
#define A_STRING	BIT(8)	/* MOVS, STOS, LODS */
#define A_NO64		BIT(9)	/* invalid in 64-bit mode */
#define A_REGFORM	BIT(10)	/* MOV CR/DR: ModRM.mod is ignored, always 3 */
#define A_GROUP		BIT(11)	/* ModRM.reg selects: fixed up in decode_group() */
#define A_SRC8		BIT(12)	/* MOVZX/MOVSX from a byte */
#define A_SRC16		BIT(13)	/* MOVZX/MOVSX from a word */
#define A_SRC32		BIT(14)	/* MOVSXD: from a dword (a word with 0x66) */

#define K		A_KNOWN
#define M		(A_KNOWN | A_MODRM)
#define RW		(A_R | A_W)

/* ADD OR ADC SBB AND SUB XOR: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  eAX,Iz */
#define ALU_ROW(op)							\
	[(op) + 0] = M | A_BYTE | RW, [(op) + 1] = M | RW,		\
	[(op) + 2] = M | A_BYTE | A_R, [(op) + 3] = M | A_R,		\
	[(op) + 4] = K | A_IMM8 | A_BYTE, [(op) + 5] = K | A_IMMZ

static const u16 one_byte[256] = {
	ALU_ROW(0x00), ALU_ROW(0x08), ALU_ROW(0x10), ALU_ROW(0x18),
	ALU_ROW(0x20), ALU_ROW(0x28), ALU_ROW(0x30),
	/* CMP only reads. */
	[0x38] = M | A_BYTE | A_R, [0x39] = M | A_R,
	[0x3a] = M | A_BYTE | A_R, [0x3b] = M | A_R,
	[0x3c] = K | A_IMM8 | A_BYTE, [0x3d] = K | A_IMMZ,
	[0x6c ... 0x6f] = K,				/* INS, OUTS */
	[0x80] = M | A_GROUP | A_IMM8 | A_BYTE | RW,	/* group 1 */
	[0x81] = M | A_GROUP | A_IMMZ | RW,
	[0x82] = M | A_GROUP | A_IMM8 | A_BYTE | RW | A_NO64,
	[0x83] = M | A_GROUP | A_IMM8 | RW,
	[0x84] = M | A_BYTE | A_R, [0x85] = M | A_R,	/* TEST */
	[0x86] = M | A_BYTE | RW, [0x87] = M | RW,	/* XCHG */
	[0x88] = M | A_BYTE | A_W, [0x89] = M | A_W,	/* MOV */
	[0x8a] = M | A_BYTE | A_R, [0x8b] = M | A_R,
	[0xa0] = K | A_MOFFS | A_BYTE | A_R, [0xa1] = K | A_MOFFS | A_R,
	[0xa2] = K | A_MOFFS | A_BYTE | A_W, [0xa3] = K | A_MOFFS | A_W,
	[0xa4] = K | A_STRING | A_BYTE | RW,		/* MOVS */
	[0xa5] = K | A_STRING | RW,
	[0xa8] = K | A_IMM8 | A_BYTE, [0xa9] = K | A_IMMZ, /* TEST */
	[0xaa] = K | A_STRING | A_BYTE | A_W,		/* STOS */
	[0xab] = K | A_STRING | A_W,
	[0xac] = K | A_STRING | A_BYTE | A_R,		/* LODS */
	[0xad] = K | A_STRING | A_R,
	[0xc6] = M | A_GROUP | A_IMM8 | A_BYTE | A_W,	/* group 11: MOV */
	[0xc7] = M | A_GROUP | A_IMMZ | A_W,
	[0xcc] = K,					/* INT3 */
	[0xe4 ... 0xe7] = K | A_IMM8,			/* IN, OUT imm8 */
	[0xec ... 0xef] = K,				/* IN, OUT DX */
	[0xf4] = K,					/* HLT */
	[0xf6] = M | A_GROUP | A_BYTE,			/* group 3 */
	[0xf7] = M | A_GROUP,
	[0xfe] = M | A_GROUP | A_BYTE,			/* group 4: INC, DEC */
	[0xff] = M | A_GROUP,				/* group 5 */
};

static const u16 two_byte[256] = {
	[0x00] = M, [0x01] = M,		/* groups 6 and 7 */
	[0x06] = K,			/* CLTS */
	[0x08] = K, [0x09] = K,		/* INVD, WBINVD */
	[0x0b] = K,			/* UD2 */
	[0x20 ... 0x23] = M | A_REGFORM, /* MOV to/from CR, DR */
	[0x30 ... 0x33] = K,		/* WRMSR, RDTSC, RDMSR, RDPMC */
	[0xa2] = K,			/* CPUID */
	[0xb6] = M | A_R | A_SRC8, [0xb7] = M | A_R | A_SRC16,	/* MOVZX */
	[0xbe] = M | A_R | A_SRC8, [0xbf] = M | A_R | A_SRC16,	/* MOVSX */
};

/* Reads the instruction bytes, never past the ones it was given. */
struct insn_cursor {
	const u8 *buf;
	unsigned int len, pos;
};

/* The next @n bytes as a little-endian number sign-extended from @n bytes. */
static bool take(struct insn_cursor *c, unsigned int n, s64 *val)
{
	u64 v = 0;
	unsigned int i;

	if (n > c->len - c->pos)
		return false;
	for (i = 0; i < n; i++)
		v |= (u64)c->buf[c->pos + i] << (8 * i);
	c->pos += n;
	if (n && n < 8)
		*val = (s64)(v << (64 - 8 * n)) >> (64 - 8 * n);
	else
		*val = v;
	return true;
}

static int prefix_segment(u8 b)
{
	switch (b) {
	case 0x26: return HVK_SREG_ES;
	case 0x2e: return HVK_SREG_CS;
	case 0x36: return HVK_SREG_SS;
	case 0x3e: return HVK_SREG_DS;
	case 0x64: return HVK_SREG_FS;
	case 0x65: return HVK_SREG_GS;
	default: return -1;
	}
}

/* Legacy prefixes and REX (SDM Vol. 2, 2.1.1 and 2.2.1). */
static void decode_prefixes(struct hvk_insn *insn, struct insn_cursor *c,
			    int mode)
{
	for (; c->pos < c->len; c->pos++) {
		u8 b = c->buf[c->pos];

		/* REX counts only right before the opcode: a legacy prefix after it voids it. */
		if (mode == 64 && (b & 0xf0) == 0x40) {
			insn->rex = b;
			continue;
		}
		if (prefix_segment(b) >= 0)
			insn->seg_override = prefix_segment(b);
		else if (b == 0x66)
			insn->opsize = true;
		else if (b == 0x67)
			insn->adsize = true;
		else if (b == 0xf0)
			insn->lock = true;
		else if (b == 0xf2 || b == 0xf3)
			insn->rep_prefix = b;
		else
			break;
		insn->rex = 0;
	}
	insn->rep = insn->rep_prefix != 0;
}

/* ModRM, SIB and displacement (SDM Vol. 2, 2.1.5, tables 2-1 to 2-3, 2.2.1). */
static int decode_modrm(struct hvk_insn *insn, struct insn_cursor *c,
			int mode, u16 attr)
{
	static const s8 base16[8] = { HVK_RBX, HVK_RBX, HVK_RBP, HVK_RBP,
				      HVK_RSI, HVK_RDI, HVK_RBP, HVK_RBX };
	static const s8 index16[8] = { HVK_RSI, HVK_RDI, HVK_RSI, HVK_RDI,
				       -1, -1, -1, -1 };
	u8 mod, rm;
	s64 v;

	if (!take(c, 1, &v))
		return -EINVAL;
	insn->has_modrm = true;
	insn->modrm = v;
	if (attr & A_REGFORM)
		insn->modrm |= 0xc0;
	mod = insn->modrm >> 6;
	rm = insn->modrm & 7;
	insn->reg = ((insn->modrm >> 3) & 7) | ((insn->rex & 4) << 1);
	insn->rm = rm | ((insn->rex & 1) << 3);
	if (mod == 3)
		return 0;

	insn->has_mem = true;
	insn->scale = 1;
	insn->index = HVK_INSN_NOREG;
	if (insn->addr_bytes == 2) {
		insn->base = base16[rm];
		insn->index = index16[rm];
		if (mod == 0 && rm == 6) {
			insn->base = HVK_INSN_NOREG;
			insn->disp_bytes = 2;
		} else {
			insn->disp_bytes = mod == 2 ? 2 : mod;
		}
	} else {
		insn->base = insn->rm;
		if (rm == 4) {
			u8 sib, x;

			if (!take(c, 1, &v))
				return -EINVAL;
			sib = v;
			insn->has_sib = true;
			insn->sib = sib;
			insn->scale = 1 << (sib >> 6);
			x = ((sib >> 3) & 7) | ((insn->rex & 2) << 2);
			/* Index 100b without REX.X means none. */
			if (x != 4)
				insn->index = x;
			insn->base = (sib & 7) | ((insn->rex & 1) << 3);
			if (mod == 0 && (sib & 7) == 5)
				insn->base = HVK_INSN_NOREG;
		} else if (mod == 0 && rm == 5) {
			insn->base = mode == 64 ? HVK_INSN_RIP : HVK_INSN_NOREG;
		}
		if (insn->base == HVK_INSN_NOREG || insn->base == HVK_INSN_RIP)
			insn->disp_bytes = 4;
		else
			insn->disp_bytes = mod == 2 ? 4 : mod;
	}
	if (!take(c, insn->disp_bytes, &v))
		return -EINVAL;
	insn->disp = v;
	/* rSP and rBP as a base select SS (SDM Vol. 1, 3.7.4). */
	insn->seg = HVK_SREG_DS;
	if (insn->base == HVK_RSP || insn->base == HVK_RBP)
		insn->seg = HVK_SREG_SS;
	if (insn->seg_override >= 0)
		insn->seg = insn->seg_override;
	return 0;
}

/* The attributes of the group opcodes depend on ModRM.reg (SDM Vol. 2, A.4). */
static int decode_group(struct hvk_insn *insn, u16 *attr)
{
	u8 reg = (insn->modrm >> 3) & 7;

	switch (insn->opcode[0]) {
	case 0x80 ... 0x83:
		if (reg == 7)			/* CMP */
			*attr &= ~A_W;
		return 0;
	case 0xc6:
	case 0xc7:
		/* Only MOV: C6 F8 and C7 F8 are XABORT and XBEGIN. */
		return reg == 0 ? 0 : -EINVAL;
	case 0xf6:
	case 0xf7:
		if (reg <= 1)			/* TEST Ib/Iz (/1 is an alias) */
			*attr |= A_R | (insn->opcode[0] == 0xf6 ? A_IMM8 : A_IMMZ);
		else if (reg <= 3)		/* NOT, NEG */
			*attr |= RW;
		else				/* MUL, IMUL, DIV, IDIV */
			*attr |= A_R;
		return 0;
	case 0xfe:
	case 0xff:
		/* INC and DEC; the calls, jumps and PUSH of FF are not known. */
		if (reg > 1)
			return -EINVAL;
		*attr |= RW;
		return 0;
	}
	return 0;
}

int hvk_insn_decode(struct hvk_insn *insn, const u8 *buf, unsigned int len,
		    int mode)
{
	struct insn_cursor c = { .buf = buf, .len = min(len, 15U) };
	u16 attr;
	s64 v;

	memset(insn, 0, sizeof(*insn));
	insn->seg_override = -1;
	insn->base = HVK_INSN_NOREG;
	insn->index = HVK_INSN_NOREG;

	decode_prefixes(insn, &c, mode);
	insn->addr_bytes = hvk_insn_address_bytes(insn, mode);
	if (mode == 64)
		insn->op_bytes = insn->rex & 8 ? 8 : insn->opsize ? 2 : 4;
	else
		insn->op_bytes = (mode == 16) != insn->opsize ? 2 : 4;

	if (!take(&c, 1, &v))
		return -EINVAL;
	insn->opcode[0] = v;
	insn->opcode_len = 1;
	attr = one_byte[insn->opcode[0]];
	if (insn->opcode[0] == 0x0f) {
		if (!take(&c, 1, &v))
			return -EINVAL;
		insn->opcode[1] = v;
		insn->opcode_len = 2;
		attr = two_byte[insn->opcode[1]];
	} else if (insn->opcode[0] == 0x63 && mode == 64) {
		attr = M | A_R | A_SRC32;	/* MOVSXD (ARPL elsewhere) */
	}
	if (!(attr & A_KNOWN) || (mode == 64 && (attr & A_NO64)))
		return -EINVAL;
	if (attr & A_BYTE)
		insn->op_bytes = 1;

	if (attr & A_MODRM) {
		if (decode_modrm(insn, &c, mode, attr))
			return -EINVAL;
		if ((attr & A_GROUP) && decode_group(insn, &attr))
			return -EINVAL;
	}
	if (attr & A_MOFFS) {
		if (!take(&c, insn->addr_bytes, &v))
			return -EINVAL;
		insn->moffs = true;
		insn->moffs_addr = v;
		if (insn->addr_bytes < 8)
			insn->moffs_addr &= (1ULL << (8 * insn->addr_bytes)) - 1;
		insn->has_mem = true;
		insn->scale = 1;
		insn->seg = insn->seg_override >= 0 ? insn->seg_override :
			    HVK_SREG_DS;
	}
	if (attr & (A_IMM8 | A_IMMZ)) {
		insn->imm_bytes = attr & A_IMM8 ? 1 : insn->op_bytes == 2 ? 2 : 4;
		if (!take(&c, insn->imm_bytes, &v))
			return -EINVAL;
		insn->imm = v;
	}

	insn->string = attr & A_STRING;
	if (insn->has_mem || insn->string) {
		insn->access = (attr & A_R ? HVK_INSN_READ : 0) |
			       (attr & A_W ? HVK_INSN_WRITE : 0);
		if (attr & A_SRC8)
			insn->mem_bytes = 1;
		else if (attr & A_SRC16)
			insn->mem_bytes = 2;
		else if (attr & A_SRC32)
			insn->mem_bytes = min_t(u8, insn->op_bytes, 4);
		else if (insn->access)
			insn->mem_bytes = insn->op_bytes;
	}
	if (insn->string && insn->seg_override < 0)
		insn->seg = HVK_SREG_DS;
	else if (insn->string)
		insn->seg = insn->seg_override;
	insn->len = c.pos;
	return 0;
}

unsigned int hvk_insn_address_bytes(const struct hvk_insn *insn, int mode)
{
	/* 0x67 toggles 16/32 outside 64-bit mode, and 64/32 in it. */
	switch (mode) {
	case 64:
		return insn->adsize ? 4 : 8;
	case 32:
		return insn->adsize ? 2 : 4;
	default:
		return insn->adsize ? 4 : 2;
	}
}

u64 hvk_insn_ea(const struct hvk_insn *insn, const unsigned long *regs,
		u64 rip)
{
	u64 ea;

	if (insn->moffs) {
		ea = insn->moffs_addr;
	} else {
		ea = (s64)insn->disp;
		if (insn->base == HVK_INSN_RIP)
			ea += rip + insn->len;
		else if (insn->base >= 0)
			ea += regs[insn->base];
		if (insn->index >= 0)
			ea += regs[insn->index] * insn->scale;
	}
	/* Wrap-around at the address size (SDM Vol. 1, 3.3.7). */
	if (insn->addr_bytes < 8)
		ea &= (1ULL << (8 * insn->addr_bytes)) - 1;
	return ea;
}
