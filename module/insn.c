// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction decoder of insn.h (SDM Vol. 2, chapter 2: instruction
 * format; Appendix A: opcode map).
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "insn.h"

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

/* Bytes of ModRM, SIB and displacement for @modrm (SDM Vol. 2, 2.1.5). */
static int modrm_length(const u8 *p, unsigned int avail, bool addr16)
{
	u8 modrm = p[0], mod = modrm >> 6, rm = modrm & 7;
	int n = 1;

	if (mod == 3)
		return 1;
	if (addr16) {
		if (mod == 0 && rm == 6)
			return 3;
		return 1 + mod;		/* disp8 or disp16 */
	}
	if (rm == 4) {			/* SIB */
		if (avail < 2)
			return -EINVAL;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5) {
		n += 4;			/* disp32 or RIP-relative */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

int hvk_insn_decode(struct hvk_insn *insn, const u8 *buf, unsigned int len,
		    int mode)
{
	unsigned int i = 0;
	bool addr16;
	u8 op;
	int n;

	memset(insn, 0, sizeof(*insn));
	insn->seg_override = -1;

	/* Legacy prefixes, then a REX prefix in 64-bit mode. */
	for (; i < len && i < 15; i++) {
		u8 b = buf[i];

		if (prefix_segment(b) >= 0)
			insn->seg_override = prefix_segment(b);
		else if (b == 0x66)
			insn->opsize = true;
		else if (b == 0x67)
			insn->adsize = true;
		else if (b == 0xf0)
			insn->lock = true;
		else if (b == 0xf2 || b == 0xf3)
			insn->rep = true;
		else
			break;
	}
	if (mode == 64 && i < len && (buf[i] & 0xf0) == 0x40)
		insn->rex = buf[i++];
	if (i >= len)
		return -EINVAL;

	addr16 = (mode == 16) != insn->adsize && mode != 64;
	op = buf[i++];
	insn->opcode[0] = op;
	insn->opcode_len = 1;

	if (op != 0x0f) {
		switch (op) {
		case 0x6c ... 0x6f:	/* INS, OUTS */
		case 0xec ... 0xef:	/* IN, OUT with DX */
		case 0xf4:		/* HLT */
		case 0xcc:		/* INT3 */
			break;
		case 0xe4 ... 0xe7:	/* IN, OUT with imm8 */
			i++;
			break;
		default:
			return -EINVAL;
		}
		goto done;
	}

	if (i >= len)
		return -EINVAL;
	op = buf[i++];
	insn->opcode[1] = op;
	insn->opcode_len = 2;
	switch (op) {
	case 0x06:	/* CLTS */
	case 0x08:	/* INVD */
	case 0x09:	/* WBINVD */
	case 0x0b:	/* UD2 */
	case 0x30:	/* WRMSR */
	case 0x31:	/* RDTSC */
	case 0x32:	/* RDMSR */
	case 0x33:	/* RDPMC */
	case 0xa2:	/* CPUID */
		goto done;
	case 0x00:	/* group 6: SLDT ... VERW */
	case 0x01:	/* group 7: LGDT ... INVLPG, VMMCALL ... */
		break;
	case 0x20 ... 0x23:
		/* MOV to/from CR/DR: the ModRM is always a register form. */
		if (i >= len)
			return -EINVAL;
		insn->has_modrm = true;
		insn->modrm = buf[i++] | 0xc0;
		goto done;
	default:
		return -EINVAL;
	}

	if (i >= len)
		return -EINVAL;
	insn->has_modrm = true;
	insn->modrm = buf[i];
	n = modrm_length(buf + i, len - i, addr16);
	if (n < 0)
		return n;
	i += n;
done:
	if (i > len || i > 15)
		return -EINVAL;
	insn->len = i;
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
