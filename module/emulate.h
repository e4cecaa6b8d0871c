/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 instruction emulator for guest accesses to device memory (a
 * guest-physical address without a memslot).  Pure logic: it sees the guest
 * only through struct hvk_emu (registers in, registers out) and its ops
 * (instruction fetch and data accesses by linear address), so that KUnit
 * drives it with fake memory.
 *
 * Emulated, with a memory operand only: MOV (88-8B, A0-A3 moffs, C6, C7),
 * MOVZX, MOVSX, MOVSXD, MOVS, STOS and LODS with or without REP, ADD, OR,
 * ADC, SBB, AND, SUB, XOR, CMP (00-3B, 80-83), TEST (84, 85, F6/F7 /0 /1),
 * NOT, NEG (F6/F7 /2 /3) and XCHG (86, 87).  Anything else, and register
 * forms of these, is HVK_EMU_UNHANDLED; LOCK on a form that cannot be
 * locked is #UD, as on the CPU (SDM Vol. 2, LOCK).
 *
 * Segment limits, access rights and canonical-address checks are not made:
 * the CPU made them before the access that brought us here, and the
 * glue's page walk rejects what it cannot translate.
 */
#ifndef HVK_EMULATE_H
#define HVK_EMULATE_H

#include <linux/types.h>

#include "insn.h"

enum hvk_emu_status {
	HVK_EMU_DONE,		/* completed; regs/rip/rflags updated */
	HVK_EMU_EXIT,		/* stopped for user space, see below */
	HVK_EMU_FAULT,		/* raise emu->fault in the guest; nothing committed */
	HVK_EMU_UNHANDLED,	/* cannot emulate; nothing committed */
};

struct hvk_emu_fault {
	u8 vector;
	bool has_error_code;
	u32 error_code;
	bool has_cr2;
	u64 cr2;
};

struct hvk_emu;

struct hvk_emu_ops {
	/*
	 * Up to @len instruction bytes at linear @la into @buf; *@got = bytes
	 * read (may be < len when the next page is not readable: the decoder
	 * then works with what it has).  HVK_EMU_DONE, or HVK_EMU_FAULT
	 * (fault set) or HVK_EMU_UNHANDLED.
	 */
	int (*fetch)(struct hvk_emu *emu, u64 la, void *buf, unsigned int len,
		     unsigned int *got);
	/*
	 * Data read/write at linear @la: returns an enum hvk_emu_status.  A
	 * read returning HVK_EMU_EXIT means "user space must supply this
	 * data": the emulator stops at once, commits nothing, and will be
	 * called again from scratch later (the glue then returns the data).
	 * A write returning HVK_EMU_EXIT means "user space performs this
	 * write": the emulator still completes the instruction (commits
	 * registers) and returns HVK_EMU_EXIT.
	 */
	int (*read)(struct hvk_emu *emu, u64 la, void *buf, unsigned int len);
	int (*write)(struct hvk_emu *emu, u64 la, const void *buf,
		     unsigned int len);
};

struct hvk_emu {
	const struct hvk_emu_ops *ops;
	void *priv;
	int mode;			/* code segment size: 16, 32 or 64 */
	u64 seg_base[6];		/* ES CS SS DS FS GS (enum hvk_sreg order) */
	unsigned long regs[16];		/* enum hvk_reg order */
	u64 rip, rflags;
	u8 bytes[15];			/* fetched instruction bytes, */
	unsigned int nbytes;		/* for error reports */
	struct hvk_insn insn;
	struct hvk_emu_fault fault;
};

/*
 * Fetch, decode and execute the one instruction at CS:RIP.  All reads of
 * the instruction happen before its one write, if any.  REP MOVS, STOS and
 * LODS do one element per call and leave RIP on the instruction until the
 * count reaches 0, so that the guest executes it again.
 */
int hvk_emulate(struct hvk_emu *emu);

#endif /* HVK_EMULATE_H */
