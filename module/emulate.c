// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction emulator of emulate.h.  It works on a copy of the
 * registers and commits them only when the instruction completes (or its
 * write goes to user space), so that a fault, an instruction it cannot
 * emulate or a read that user space must answer leaves the guest as it was.
 */
#include <linux/bitops.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/processor-flags.h>

#include "emulate.h"

#define EMU_UD_VECTOR	6

#define ARITH_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

/* The ALU operations in the order of their opcodes and of group 1's /r. */
enum emu_alu_op {
	EMU_ADD, EMU_OR, EMU_ADC, EMU_SBB, EMU_AND, EMU_SUB, EMU_XOR, EMU_CMP,
};

/* One instruction in flight: the registers it will commit. */
struct emu_ctx {
	struct hvk_emu *emu;
	const struct hvk_insn *insn;
	unsigned long regs[16];
	u64 rip, rflags;
	bool wrote;		/* the write was made or handed to user space */
};

static u64 size_mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

static u64 sign_extend(u64 val, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	return (u64)((s64)(val << shift) >> shift);
}

/* Without REX, byte registers 4-7 are AH, CH, DH, BH (SDM Vol. 1, 3.4.1.1). */
static bool high_byte_reg(const struct emu_ctx *c, unsigned int reg,
			  unsigned int size)
{
	return size == 1 && !c->insn->rex && reg >= 4 && reg < 8;
}

static u64 reg_get(const struct emu_ctx *c, unsigned int reg,
		   unsigned int size)
{
	if (high_byte_reg(c, reg, size))
		return (c->regs[reg - 4] >> 8) & 0xff;
	return c->regs[reg] & size_mask(size);
}

static void reg_set(struct emu_ctx *c, unsigned int reg, unsigned int size,
		    u64 val)
{
	unsigned long *r = &c->regs[reg];

	switch (size) {
	case 1:
		if (high_byte_reg(c, reg, size)) {
			r = &c->regs[reg - 4];
			*r = (*r & ~0xff00UL) | ((val & 0xff) << 8);
		} else {
			*r = (*r & ~0xffUL) | (val & 0xff);
		}
		break;
	case 2:
		*r = (*r & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		/* A 32-bit result zero-extends into the whole register. */
		*r = (u32)val;
		break;
	default:
		*r = val;
	}
}

/* rSI, rDI or rCX written at the address size (a 16-bit one keeps bits 63:16). */
static void addr_reg_set(struct emu_ctx *c, unsigned int reg, u64 val)
{
	reg_set(c, reg, c->insn->addr_bytes, val);
}

/*
 * Segment base plus effective address (already truncated to the address
 * size); in 64-bit mode only FS and GS have a base (SDM Vol. 3, 3.4.4),
 * elsewhere linear addresses are 32 bits wide.
 */
static u64 linear(const struct emu_ctx *c, unsigned int seg, u64 ea)
{
	u64 base = c->emu->seg_base[seg];

	if (c->emu->mode == 64)
		return (seg == HVK_SREG_FS || seg == HVK_SREG_GS ? base : 0) + ea;
	return (u32)(base + ea);
}

static int mem_read(struct emu_ctx *c, u64 la, unsigned int size, u64 *val)
{
	u8 buf[8] = {};
	unsigned int i;
	int r;

	r = c->emu->ops->read(c->emu, la, buf, size);
	if (r != HVK_EMU_DONE)
		return r;
	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (u64)buf[i] << (8 * i);
	return HVK_EMU_DONE;
}

/* The instruction's one write: the last thing it does. */
static int mem_write(struct emu_ctx *c, u64 la, unsigned int size, u64 val)
{
	u8 buf[8];
	unsigned int i;
	int r;

	for (i = 0; i < size; i++)
		buf[i] = val >> (8 * i);
	r = c->emu->ops->write(c->emu, la, buf, size);
	if (r == HVK_EMU_DONE || r == HVK_EMU_EXIT)
		c->wrote = true;
	return r;
}

static int emu_ud(struct emu_ctx *c)
{
	c->emu->fault = (struct hvk_emu_fault) { .vector = EMU_UD_VECTOR };
	return HVK_EMU_FAULT;
}

/* ZF, SF and PF of @res (PF: even parity of the low byte). */
static u64 result_flags(u64 res, unsigned int size)
{
	u64 f = hweight8(res & 0xff) & 1 ? 0 : X86_EFLAGS_PF;

	if (!(res & size_mask(size)))
		f |= X86_EFLAGS_ZF;
	if ((res >> (8 * size - 1)) & 1)
		f |= X86_EFLAGS_SF;
	return f;
}

/*
 * @a op @b at @size bytes, with the arithmetic flags in *@rflags as the CPU
 * sets them (SDM Vol. 1, appendix A; each instruction's "Flags Affected").
 * Carry and overflow out of the top bit come from the operands' and the
 * result's top bits, so one formula serves every size.  The logical
 * operations leave AF undefined; the CPUs we know clear it, and so do we.
 */
static u64 alu(enum emu_alu_op op, u64 a, u64 b, unsigned int size,
	       u64 *rflags)
{
	unsigned int top = 8 * size - 1;
	u64 cf_in = *rflags & X86_EFLAGS_CF ? 1 : 0;
	u64 mask = size_mask(size), res, carry = 0, over = 0, f;

	a &= mask;
	b &= mask;
	switch (op) {
	case EMU_ADD:
	case EMU_ADC:
		res = a + b + (op == EMU_ADC ? cf_in : 0);
		carry = (a & b) | ((a | b) & ~res);
		over = (a ^ res) & (b ^ res);
		break;
	case EMU_SUB:
	case EMU_SBB:
	case EMU_CMP:
		res = a - b - (op == EMU_SBB ? cf_in : 0);
		carry = (~a & b) | ((~a | b) & res);
		over = (a ^ b) & (a ^ res);
		break;
	case EMU_OR:
		res = a | b;
		break;
	case EMU_AND:
		res = a & b;
		break;
	default:
		res = a ^ b;
		break;
	}
	res &= mask;
	f = result_flags(res, size);
	if ((carry >> top) & 1)
		f |= X86_EFLAGS_CF;
	if ((over >> top) & 1)
		f |= X86_EFLAGS_OF;
	if (op != EMU_OR && op != EMU_AND && op != EMU_XOR &&
	    ((a ^ b ^ res) & 0x10))
		f |= X86_EFLAGS_AF;
	*rflags = (*rflags & ~(u64)ARITH_FLAGS) | f;
	return res;
}

/*
 * The forms LOCK may prefix: a read-modify-write of the memory destination
 * (SDM Vol. 2, LOCK).  Emulated as a read and then a write, which is what
 * a device sees of a locked access anyway.
 */
static bool lockable(const struct hvk_insn *insn)
{
	u8 op = insn->opcode[0], reg = (insn->modrm >> 3) & 7;

	if (insn->opcode_len != 1 || !insn->has_modrm || !insn->has_mem)
		return false;
	switch (op) {
	case 0x00 ... 0x37:
		return (op & 7) <= 1;		/* E,G forms, not CMP */
	case 0x80 ... 0x83:
		return reg != EMU_CMP;
	case 0x86:
	case 0x87:
		return true;
	case 0xf6:
	case 0xf7:
		return reg == 2 || reg == 3;	/* NOT, NEG */
	case 0xfe:
	case 0xff:
		return reg <= 1;		/* INC, DEC */
	}
	return false;
}

/*
 * ALU op between memory and a register (@to_reg: the register is the
 * destination) or an immediate.
 */
static int emu_alu(struct emu_ctx *c, u64 la, enum emu_alu_op op,
		   bool to_reg, bool imm)
{
	const struct hvk_insn *insn = c->insn;
	unsigned int size = insn->op_bytes;
	u64 m, res;
	int r;

	r = mem_read(c, la, size, &m);
	if (r)
		return r;
	if (to_reg) {
		res = alu(op, reg_get(c, insn->reg, size), m, size, &c->rflags);
		if (op != EMU_CMP)
			reg_set(c, insn->reg, size, res);
		return HVK_EMU_DONE;
	}
	res = alu(op, m, imm ? insn->imm : reg_get(c, insn->reg, size), size,
		  &c->rflags);
	if (op == EMU_CMP)
		return HVK_EMU_DONE;
	return mem_write(c, la, size, res);
}

/* Group 3 (F6, F7): TEST Ib/Iz, NOT, NEG on memory. */
static int emu_group3(struct emu_ctx *c, u64 la)
{
	const struct hvk_insn *insn = c->insn;
	unsigned int size = insn->op_bytes, reg = (insn->modrm >> 3) & 7;
	u64 m;
	int r;

	if (reg >= 4)				/* MUL, IMUL, DIV, IDIV */
		return HVK_EMU_UNHANDLED;
	r = mem_read(c, la, size, &m);
	if (r)
		return r;
	switch (reg) {
	case 0:
	case 1:
		alu(EMU_AND, m, insn->imm, size, &c->rflags);
		return HVK_EMU_DONE;
	case 2:					/* NOT: no flags */
		return mem_write(c, la, size, ~m);
	default:				/* NEG: 0 - m, CF = (m != 0) */
		return mem_write(c, la, size,
				 alu(EMU_SUB, 0, m, size, &c->rflags));
	}
}

/* INC and DEC (FE, FF /0 /1): ADD or SUB of 1 that leaves CF alone. */
static int emu_incdec(struct emu_ctx *c, u64 la)
{
	const struct hvk_insn *insn = c->insn;
	unsigned int size = insn->op_bytes;
	u64 m, cf = c->rflags & X86_EFLAGS_CF, res;
	int r;

	r = mem_read(c, la, size, &m);
	if (r)
		return r;
	res = alu(insn->modrm & 0x08 ? EMU_SUB : EMU_ADD, m, 1, size,
		  &c->rflags);
	c->rflags = (c->rflags & ~(u64)X86_EFLAGS_CF) | cf;
	return mem_write(c, la, size, res);
}

/* MOVZX, MOVSX (0F B6/B7/BE/BF) and MOVSXD (63): @signed extends the sign. */
static int emu_movx(struct emu_ctx *c, u64 la, bool sign)
{
	const struct hvk_insn *insn = c->insn;
	u64 m;
	int r;

	r = mem_read(c, la, insn->mem_bytes, &m);
	if (r)
		return r;
	if (sign)
		m = sign_extend(m, insn->mem_bytes);
	reg_set(c, insn->reg, insn->op_bytes, m);
	return HVK_EMU_DONE;
}

/*
 * MOVS, STOS, LODS: one element per call (SDM Vol. 2, REP).  With REP, a
 * count of 0 does nothing, and RIP stays on the instruction until the count
 * reaches 0.  F2 repeats these as F3 does.  The source is DS:rSI or its
 * override, the destination always ES:rDI.
 */
static int emu_string(struct emu_ctx *c, u64 *next_rip)
{
	const struct hvk_insn *insn = c->insn;
	unsigned int size = insn->op_bytes;
	u64 amask = size_mask(insn->addr_bytes);
	u64 si = c->regs[HVK_RSI] & amask, di = c->regs[HVK_RDI] & amask;
	u64 step = c->rflags & X86_EFLAGS_DF ? -(u64)size : size;
	u64 count = c->regs[HVK_RCX] & amask, val;
	int r;

	if (insn->rep) {
		if (!count)
			return HVK_EMU_DONE;
		addr_reg_set(c, HVK_RCX, count - 1);
		if (count > 1)
			*next_rip = c->rip;
	}
	switch (insn->opcode[0]) {
	case 0xa4:				/* MOVS */
	case 0xa5:
		r = mem_read(c, linear(c, insn->seg, si), size, &val);
		if (r)
			return r;
		addr_reg_set(c, HVK_RSI, si + step);
		addr_reg_set(c, HVK_RDI, di + step);
		return mem_write(c, linear(c, HVK_SREG_ES, di), size, val);
	case 0xaa:				/* STOS */
	case 0xab:
		addr_reg_set(c, HVK_RDI, di + step);
		return mem_write(c, linear(c, HVK_SREG_ES, di), size,
				 reg_get(c, HVK_RAX, size));
	default:				/* LODS */
		r = mem_read(c, linear(c, insn->seg, si), size, &val);
		if (r)
			return r;
		addr_reg_set(c, HVK_RSI, si + step);
		reg_set(c, HVK_RAX, size, val);
		return HVK_EMU_DONE;
	}
}

static int emu_execute(struct emu_ctx *c, u64 *next_rip)
{
	const struct hvk_insn *insn = c->insn;
	unsigned int size = insn->op_bytes;
	u8 op = insn->opcode[0];
	u64 la, m;
	int r;

	/* Only memory forms of the instructions the decoder describes. */
	if (!insn->access)
		return HVK_EMU_UNHANDLED;
	if (insn->lock && !lockable(insn))
		return emu_ud(c);
	if (insn->string)
		return emu_string(c, next_rip);
	la = linear(c, insn->seg, hvk_insn_ea(insn, c->regs, c->rip));

	if (insn->opcode_len == 2) {
		/* F2 and F3 select other instructions in the 0F map. */
		if (insn->rep_prefix)
			return HVK_EMU_UNHANDLED;
		return emu_movx(c, la, insn->opcode[1] >= 0xbe);
	}
	switch (op) {
	case 0x00 ... 0x3b:
		return emu_alu(c, la, op >> 3, op & 2, false);
	case 0x63:
		return emu_movx(c, la, true);
	case 0x80 ... 0x83:
		return emu_alu(c, la, (insn->modrm >> 3) & 7, false, true);
	case 0x84:
	case 0x85:
		r = mem_read(c, la, size, &m);
		if (!r)
			alu(EMU_AND, m, reg_get(c, insn->reg, size), size,
			    &c->rflags);
		return r;
	case 0x86:
	case 0x87:
		r = mem_read(c, la, size, &m);
		if (r)
			return r;
		r = mem_write(c, la, size, reg_get(c, insn->reg, size));
		reg_set(c, insn->reg, size, m);
		return r;
	case 0x88:
	case 0x89:
		return mem_write(c, la, size, reg_get(c, insn->reg, size));
	case 0x8a:
	case 0x8b:
		r = mem_read(c, la, size, &m);
		if (!r)
			reg_set(c, insn->reg, size, m);
		return r;
	case 0xa0:
	case 0xa1:
		r = mem_read(c, la, size, &m);
		if (!r)
			reg_set(c, HVK_RAX, size, m);
		return r;
	case 0xa2:
	case 0xa3:
		return mem_write(c, la, size, reg_get(c, HVK_RAX, size));
	case 0xc6:
	case 0xc7:
		return mem_write(c, la, size, insn->imm);
	case 0xf6:
	case 0xf7:
		return emu_group3(c, la);
	case 0xfe:
	case 0xff:
		return emu_incdec(c, la);
	}
	return HVK_EMU_UNHANDLED;
}

int hvk_emulate(struct hvk_emu *emu)
{
	struct emu_ctx c = { .emu = emu, .insn = &emu->insn };
	unsigned int got = 0;
	u64 la, next_rip;
	int r;

	emu->nbytes = 0;
	if (emu->mode != 16 && emu->mode != 32 && emu->mode != 64)
		return HVK_EMU_UNHANDLED;
	la = emu->mode == 64 ? emu->rip :
	     (u32)(emu->seg_base[HVK_SREG_CS] + emu->rip);
	r = emu->ops->fetch(emu, la, emu->bytes, sizeof(emu->bytes), &got);
	if (r == HVK_EMU_FAULT)
		return r;
	if (r != HVK_EMU_DONE)
		return HVK_EMU_UNHANDLED;
	emu->nbytes = min_t(unsigned int, got, sizeof(emu->bytes));
	if (hvk_insn_decode(&emu->insn, emu->bytes, emu->nbytes, emu->mode))
		return HVK_EMU_UNHANDLED;

	memcpy(c.regs, emu->regs, sizeof(c.regs));
	c.rip = emu->rip;
	c.rflags = emu->rflags;
	next_rip = emu->rip + emu->insn.len;
	if (emu->mode != 64)
		next_rip = (u32)next_rip;

	r = emu_execute(&c, &next_rip);
	/* A read that must go to user space commits nothing; a write does. */
	if (r == HVK_EMU_DONE || (r == HVK_EMU_EXIT && c.wrote)) {
		memcpy(emu->regs, c.regs, sizeof(emu->regs));
		emu->rip = next_rip;
		emu->rflags = c.rflags;
	} else if (r != HVK_EMU_EXIT && r != HVK_EMU_FAULT) {
		r = HVK_EMU_UNHANDLED;
	}
	return r;
}
