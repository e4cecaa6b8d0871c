// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the instruction emulator (module/emulate.c) against fake memory:
 * every form it emulates, the arithmetic flags against the CPU running the
 * same operations, the encodings of insn_vectors.h, and random bytes.
 */
#include <kunit/test.h>
#include <linux/prandom.h>

#include "../emulate.c"
#include "insn_vectors_test.h"
#include "insn_vectors_test.h"

/*
 * Guest memory: RAM in [RAM_LA, RAM_LA + sizeof(ram)), device memory
 * everywhere else.  A device read goes to user space (HVK_EMU_EXIT) until
 * the test supplies its data; a device write goes to user space too.
 */
#define RAM_LA		0x10000
#define CODE_LA		0x7000

struct fake_access {
	u64 la;
	unsigned int len;
	u8 data[8];
};

struct fake {
	struct kunit *test;
	u8 code[15];
	unsigned int code_len;
	u64 code_la;
	u8 ram[128];
	bool mmio_ready;		/* the answer to device reads is known */
	u8 mmio_data[8];
	int read_status;		/* forced result of reads, if not DONE */
	int write_status;		/* forced result of writes, if not DONE */
	unsigned int nr, nw;
	struct fake_access reads[4], writes[4];
};

static int fake_fetch(struct hvk_emu *emu, u64 la, void *buf,
		      unsigned int len, unsigned int *got)
{
	struct fake *f = emu->priv;

	KUNIT_EXPECT_EQ(f->test, la, f->code_la);
	KUNIT_EXPECT_LE(f->test, len, 15U);
	*got = min(len, f->code_len);
	memcpy(buf, f->code, *got);
	return HVK_EMU_DONE;
}

static bool fake_is_ram(u64 la, unsigned int len)
{
	return la >= RAM_LA && la - RAM_LA + len <= sizeof_field(struct fake, ram);
}

static int fake_read(struct hvk_emu *emu, u64 la, void *buf,
		     unsigned int len)
{
	struct fake *f = emu->priv;
	struct fake_access *a = &f->reads[min(f->nr, 3U)];

	/* Every read comes before the write. */
	KUNIT_EXPECT_EQ(f->test, f->nw, 0U);
	KUNIT_EXPECT_LE(f->test, len, 8U);
	f->nr++;
	a->la = la;
	a->len = len;
	if (f->read_status != HVK_EMU_DONE) {
		if (f->read_status == HVK_EMU_FAULT)
			emu->fault = (struct hvk_emu_fault) { .vector = 14 };
		return f->read_status;
	}
	if (fake_is_ram(la, len))
		memcpy(buf, f->ram + la - RAM_LA, len);
	else if (f->mmio_ready)
		memcpy(buf, f->mmio_data, len);
	else
		return HVK_EMU_EXIT;
	memcpy(a->data, buf, len);
	return HVK_EMU_DONE;
}

static int fake_write(struct hvk_emu *emu, u64 la, const void *buf,
		      unsigned int len)
{
	struct fake *f = emu->priv;
	struct fake_access *a = &f->writes[min(f->nw, 3U)];

	/* At most one write. */
	KUNIT_EXPECT_EQ(f->test, f->nw, 0U);
	KUNIT_EXPECT_LE(f->test, len, 8U);
	f->nw++;
	a->la = la;
	a->len = len;
	memcpy(a->data, buf, len);
	if (f->write_status != HVK_EMU_DONE) {
		if (f->write_status == HVK_EMU_FAULT)
			emu->fault = (struct hvk_emu_fault) { .vector = 14 };
		return f->write_status;
	}
	if (fake_is_ram(la, len)) {
		memcpy(f->ram + la - RAM_LA, buf, len);
		return HVK_EMU_DONE;
	}
	return HVK_EMU_EXIT;
}

static const struct hvk_emu_ops fake_ops = {
	.fetch = fake_fetch,
	.read = fake_read,
	.write = fake_write,
};

/* An emulator at CS:RIP = CODE_LA in @mode, with zero bases and registers. */
static void emu_setup(struct kunit *test, struct hvk_emu *emu, struct fake *f,
		      int mode, const void *code, unsigned int len)
{
	memset(f, 0, sizeof(*f));
	f->test = test;
	memcpy(f->code, code, len);
	f->code_len = len;
	f->code_la = CODE_LA;
	memset(emu, 0, sizeof(*emu));
	emu->ops = &fake_ops;
	emu->priv = f;
	emu->mode = mode;
	emu->rip = CODE_LA;
	emu->rflags = X86_EFLAGS_FIXED;
}

/* Run again after user space's answer: a fresh start, counters cleared. */
static int emu_rerun(struct hvk_emu *emu, struct fake *f)
{
	f->nr = 0;
	f->nw = 0;
	return hvk_emulate(emu);
}

static u64 le_bytes(const u8 *p, unsigned int len)
{
	u64 v = 0;

	while (len--)
		v = (v << 8) | p[len];
	return v;
}

/* MOV to device memory: the write goes out and the instruction completes. */
static void emu_mov_store_exit(struct kunit *test)
{
	struct hvk_emu emu;
	struct fake f;

	/* mov %ecx, 0x10(%rax) */
	emu_setup(test, &emu, &f, 64, "\x89\x48\x10", 3);
	emu.regs[HVK_RAX] = 0xfee00000;
	emu.regs[HVK_RCX] = 0xaaaaaaaa12345678;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.nw, 1U);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0xfee00010ULL);
	KUNIT_EXPECT_EQ(test, f.writes[0].len, 4U);
	KUNIT_EXPECT_EQ(test, le_bytes(f.writes[0].data, 4), 0x12345678ULL);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 3ULL);
	KUNIT_EXPECT_EQ(test, emu.nbytes, 3U);

	/* mov %ah, (%rbx) and, with REX, mov %spl, (%rbx) */
	emu_setup(test, &emu, &f, 64, "\x88\x23", 2);
	emu.regs[HVK_RAX] = 0x1234;
	emu.regs[HVK_RSP] = 0x99;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].data[0], 0x12);
	emu_setup(test, &emu, &f, 64, "\x40\x88\x23", 3);
	emu.regs[HVK_RAX] = 0x1234;
	emu.regs[HVK_RSP] = 0x99;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].data[0], 0x99);

	/* movq $-2, (%rax): imm32 sign-extended */
	emu_setup(test, &emu, &f, 64,
		  "\x48\xc7\x00\xfe\xff\xff\xff", 7);
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].len, 8U);
	KUNIT_EXPECT_EQ(test, le_bytes(f.writes[0].data, 8), (u64)-2);
}

/*
 * MOV from device memory: the first run stops for user space and commits
 * nothing; the run after the answer completes.
 */
static void emu_mov_load_reexecute(struct kunit *test)
{
	static const struct {
		const char *name;
		u8 code[8];
		unsigned int len, size, reg;
		u64 before, after;
	} cases[] = {
		/* mov (%rax), %ecx: zero-extends */
		{ "mov32", { 0x8b, 0x08 }, 2, 4, HVK_RCX, ~0ULL, 0x44332211 },
		/* mov (%rax), %cx: keeps bits 63:16 */
		{ "mov16", { 0x66, 0x8b, 0x08 }, 3, 2, HVK_RCX, ~0ULL,
		  0xffffffffffff2211 },
		/* mov (%rax), %ch */
		{ "mov8 ch", { 0x8a, 0x28 }, 2, 1, HVK_RCX, ~0ULL,
		  0xffffffffffff11ff },
		/* mov (%rax), %bpl */
		{ "mov8 bpl", { 0x40, 0x8a, 0x28 }, 3, 1, HVK_RBP, ~0ULL,
		  0xffffffffffffff11 },
		/* mov (%rax), %r9 */
		{ "mov64", { 0x4c, 0x8b, 0x08 }, 3, 8, HVK_R9, 0,
		  0x8877665544332211 },
		/* movzbl (%rax), %ecx */
		{ "movzx8", { 0x0f, 0xb6, 0x08 }, 3, 1, HVK_RCX, ~0ULL, 0x11 },
		/* movswq (%rax), %rcx */
		{ "movsx16", { 0x48, 0x0f, 0xbf, 0x08 }, 4, 2, HVK_RCX, 0,
		  0x2211 },
		/* movsbw (%rax), %cx */
		{ "movsx8 to 16", { 0x66, 0x0f, 0xbe, 0x08 }, 4, 1, HVK_RCX,
		  0x1234567800000000, 0x1234567800000011 },
		/* movslq (%rax), %rcx */
		{ "movsxd", { 0x48, 0x63, 0x08 }, 3, 4, HVK_RCX, 0,
		  0x44332211 },
		/* movsbq (%rax), %rcx */
		{ "movsbq", { 0x48, 0x0f, 0xbe, 0x08 }, 4, 1, HVK_RCX, 0,
		  0x11 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hvk_emu emu;
		struct fake f;

		emu_setup(test, &emu, &f, 64, cases[i].code, cases[i].len);
		emu.regs[HVK_RAX] = 0xfee00300;
		emu.regs[cases[i].reg] = cases[i].before;
		KUNIT_ASSERT_EQ_MSG(test, hvk_emulate(&emu), HVK_EMU_EXIT,
				    "%s", cases[i].name);
		KUNIT_EXPECT_EQ(test, f.nr, 1U);
		KUNIT_EXPECT_EQ(test, f.reads[0].la, 0xfee00300ULL);
		KUNIT_EXPECT_EQ_MSG(test, f.reads[0].len, cases[i].size, "%s",
				    cases[i].name);
		KUNIT_EXPECT_EQ(test, emu.rip, (u64)CODE_LA);
		KUNIT_EXPECT_EQ(test, emu.regs[cases[i].reg], cases[i].before);

		memcpy(f.mmio_data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
		f.mmio_ready = true;
		KUNIT_ASSERT_EQ(test, emu_rerun(&emu, &f), HVK_EMU_DONE);
		KUNIT_EXPECT_EQ_MSG(test, emu.regs[cases[i].reg],
				    cases[i].after, "%s", cases[i].name);
		KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + (u64)cases[i].len);
	}
}

/* moffs, RIP-relative and segment bases in each mode. */
static void emu_addressing(struct kunit *test)
{
	struct hvk_emu emu;
	struct fake f;

	/* movabs 0x1122334455667788, %eax */
	emu_setup(test, &emu, &f, 64,
		  "\xa1\x88\x77\x66\x55\x44\x33\x22\x11", 9);
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.reads[0].la, 0x1122334455667788ULL);
	KUNIT_EXPECT_EQ(test, f.reads[0].len, 4U);

	/* mov %al, %gs:0x10 with addr32 (4-byte moffs): GS base counts */
	emu_setup(test, &emu, &f, 64,
		  "\x65\x67\xa2\x10\x00\x00\x00", 7);
	emu.seg_base[HVK_SREG_GS] = 0xffff888000000000;
	emu.seg_base[HVK_SREG_DS] = 0x1000;
	emu.regs[HVK_RAX] = 0x5a;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0xffff888000000010ULL);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 7ULL);

	/* mov 0x100(%rip), %ecx: from the next instruction; DS base ignored */
	emu_setup(test, &emu, &f, 64, "\x8b\x0d\x00\x01\x00\x00", 6);
	emu.seg_base[HVK_SREG_DS] = 0x1000;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.reads[0].la, CODE_LA + 6 + 0x100ULL);

	/* mov -0x10(%eip), %ecx near 4 GiB: wraps at 32 bits */
	emu_setup(test, &emu, &f, 64,
		  "\x67\x8b\x0d\xf0\xff\xff\xff", 7);
	emu.rip = 0x100000002;
	f.code_la = 0x100000002;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.reads[0].la, 0x100000002ULL + 7 - 0x10);
	emu.rip = 2;
	f.code_la = 2;
	KUNIT_EXPECT_EQ(test, emu_rerun(&emu, &f), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.reads[0].la, 0xfffffff9ULL);

	/* 32-bit: DS base, FS override, SS for an EBP base, 32-bit wrap */
	emu_setup(test, &emu, &f, 32, "\x89\x08", 2);	/* mov %ecx, (%eax) */
	emu.seg_base[HVK_SREG_CS] = 0x100;
	emu.seg_base[HVK_SREG_DS] = 0xf0000000;
	emu.regs[HVK_RAX] = 0x20000010;
	f.code_la = CODE_LA + 0x100;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0x10000010ULL);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 2ULL);

	emu_setup(test, &emu, &f, 32, "\x64\x89\x4d\x04", 4);
	emu.seg_base[HVK_SREG_FS] = 0x3000;
	emu.seg_base[HVK_SREG_SS] = 0x5000;
	emu.regs[HVK_RBP] = 0x10;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0x3014ULL);

	emu_setup(test, &emu, &f, 32, "\x89\x4c\x24\x08", 4);
	emu.seg_base[HVK_SREG_SS] = 0x5000;
	emu.regs[HVK_RSP] = 0x10;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0x5018ULL);

	/* 16-bit: mov %cx, 2(%bp,%si) in SS; the sum wraps at 64 KiB */
	emu_setup(test, &emu, &f, 16, "\x89\x4a\x02", 3);
	emu.seg_base[HVK_SREG_SS] = 0x20000;
	emu.seg_base[HVK_SREG_CS] = 0xf0000;
	f.code_la = 0xf0000 + CODE_LA;
	emu.regs[HVK_RBP] = 0xabcdfff0;
	emu.regs[HVK_RSI] = 0x10;
	emu.regs[HVK_RCX] = 0x12345678;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0x20002ULL);
	KUNIT_EXPECT_EQ(test, f.writes[0].len, 2U);
	KUNIT_EXPECT_EQ(test, le_bytes(f.writes[0].data, 2), 0x5678ULL);

	/* 16-bit, mov %eax, %es:0x1234 (66, moffs16) */
	emu_setup(test, &emu, &f, 16, "\x26\x66\xa3\x34\x12", 5);
	emu.seg_base[HVK_SREG_ES] = 0xb8000;
	emu.regs[HVK_RAX] = 0x12345678;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0xb9234ULL);
	KUNIT_EXPECT_EQ(test, f.writes[0].len, 4U);
}

/* REP MOVS/STOS/LODS: one element per run, RIP stays until the count ends. */
static void emu_rep_strings(struct kunit *test)
{
	struct hvk_emu emu;
	struct fake f;
	unsigned int i;

	/* rep movsw from RAM to the device, DF=1 */
	emu_setup(test, &emu, &f, 64, "\xf3\x66\xa5", 3);
	emu.rflags |= X86_EFLAGS_DF;
	emu.regs[HVK_RCX] = 3;
	emu.regs[HVK_RSI] = RAM_LA + 8;
	emu.regs[HVK_RDI] = 0xfee00010;
	for (i = 0; i < 16; i++)
		f.ram[i] = i;
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, emu_rerun(&emu, &f), HVK_EMU_EXIT);
		KUNIT_EXPECT_EQ(test, f.reads[0].la, RAM_LA + 8ULL - 2 * i);
		KUNIT_EXPECT_EQ(test, f.writes[0].la, 0xfee00010ULL - 2 * i);
		KUNIT_EXPECT_EQ(test, le_bytes(f.writes[0].data, 2),
				(u64)((9 - 2 * i) << 8 | (8 - 2 * i)));
		KUNIT_EXPECT_EQ(test, emu.regs[HVK_RCX], 2UL - i);
		KUNIT_EXPECT_EQ(test, emu.rip, i < 2 ? CODE_LA : CODE_LA + 3ULL);
	}
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RSI], RAM_LA + 2UL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RDI], 0xfee0000aUL);

	/* Count 0: done, no access. */
	emu.rip = CODE_LA;
	KUNIT_ASSERT_EQ(test, emu_rerun(&emu, &f), HVK_EMU_DONE);
	KUNIT_EXPECT_EQ(test, f.nr + f.nw, 0U);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 3ULL);

	/* rep movsb from the device: stops for the data, commits nothing */
	emu_setup(test, &emu, &f, 64, "\xf3\xa4", 2);
	emu.regs[HVK_RCX] = 2;
	emu.regs[HVK_RSI] = 0xfee00000;
	emu.regs[HVK_RDI] = RAM_LA;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RCX], 2UL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RSI], 0xfee00000UL);
	f.mmio_ready = true;
	f.mmio_data[0] = 0x77;
	KUNIT_ASSERT_EQ(test, emu_rerun(&emu, &f), HVK_EMU_DONE);
	KUNIT_EXPECT_EQ(test, f.ram[0], 0x77);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RCX], 1UL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RDI], RAM_LA + 1UL);
	KUNIT_EXPECT_EQ(test, emu.rip, (u64)CODE_LA);

	/* 16-bit rep stosw: DI wraps at 64 KiB, bits above 15 stay; ES base */
	emu_setup(test, &emu, &f, 16, "\xf3\xab", 2);
	emu.seg_base[HVK_SREG_ES] = 0xa0000;
	emu.seg_base[HVK_SREG_DS] = 0x1000;
	emu.regs[HVK_RCX] = 0xabcd0001;
	emu.regs[HVK_RDI] = 0x5555ffff;
	emu.regs[HVK_RAX] = 0xbeef;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0xaffffULL);
	KUNIT_EXPECT_EQ(test, le_bytes(f.writes[0].data, 2), 0xbeefULL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RDI], 0x55550001UL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RCX], 0xabcd0000UL);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 2ULL);

	/* 32-bit address size in 64-bit mode: ESI zero-extends */
	emu_setup(test, &emu, &f, 64, "\x67\xad", 2);	/* lodsl (%esi) */
	emu.regs[HVK_RSI] = 0x1fffffffc;
	emu.regs[HVK_RAX] = ~0UL;
	f.mmio_ready = true;
	memcpy(f.mmio_data, "\x01\x02\x03\x04", 4);
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_DONE);
	KUNIT_EXPECT_EQ(test, f.reads[0].la, 0xfffffffcULL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RSI], 0UL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RAX], 0x04030201UL);

	/* stos without REP, fs override ignored for the ES destination */
	emu_setup(test, &emu, &f, 32, "\x64\xaa", 2);
	emu.seg_base[HVK_SREG_FS] = 0x9000;
	emu.regs[HVK_RDI] = 0x10;
	emu.regs[HVK_RCX] = 0;
	KUNIT_ASSERT_EQ(test, hvk_emulate(&emu), HVK_EMU_EXIT);
	KUNIT_EXPECT_EQ(test, f.writes[0].la, 0x10ULL);
	KUNIT_EXPECT_EQ(test, emu.regs[HVK_RDI], 0x11UL);
	KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + 2ULL);
}

/* ALU, TEST, NOT, NEG, XCHG on RAM behind the fake: results and writes. */
static void emu_alu_forms(struct kunit *test)
{
	static const struct {
		const char *name;
		u8 code[8];
		unsigned int len;
		u64 mem, rcx, rflags;		/* before */
		u64 mem_after, rcx_after, flags_after;
		bool writes;
	} cases[] = {
		/* addl %ecx, (%rax) */
		{ "add", { 0x01, 0x08 }, 2, 0xffffffff, 1, 0, 0, 1,
		  X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_PF | X86_EFLAGS_AF,
		  true },
		/* addb (%rax), %ch */
		{ "add to ch", { 0x02, 0x28 }, 2, 0x7f, 0x0100, 0, 0x7f, 0x8000,
		  X86_EFLAGS_SF | X86_EFLAGS_OF | X86_EFLAGS_AF, false },
		/* adcw $1, (%rax) with CF */
		{ "adc", { 0x66, 0x83, 0x10, 0x01 }, 4, 0xfffe, 0, X86_EFLAGS_CF,
		  0, 0, X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_PF |
		  X86_EFLAGS_AF, true },
		/* sbbq %rcx, (%rax) with CF */
		{ "sbb", { 0x48, 0x19, 0x08 }, 3, 0, 0, X86_EFLAGS_CF, ~0ULL, 0,
		  X86_EFLAGS_CF | X86_EFLAGS_SF | X86_EFLAGS_PF | X86_EFLAGS_AF,
		  true },
		/* subl $0x12345678, (%rax) */
		{ "sub imm32", { 0x81, 0x28, 0x78, 0x56, 0x34, 0x12 }, 6,
		  0x12345678, 0, 0, 0, 0, X86_EFLAGS_ZF | X86_EFLAGS_PF, true },
		/* cmpl %ecx, (%rax): no write */
		{ "cmp", { 0x39, 0x08 }, 2, 1, 2, 0, 1, 2,
		  X86_EFLAGS_CF | X86_EFLAGS_SF | X86_EFLAGS_PF | X86_EFLAGS_AF,
		  false },
		/* cmpb $0x80, (%rax) */
		{ "cmp imm8", { 0x80, 0x38, 0x80 }, 3, 0x7f, 0, 0, 0x7f, 0,
		  X86_EFLAGS_CF | X86_EFLAGS_SF | X86_EFLAGS_OF | X86_EFLAGS_PF,
		  false },
		/* andl %ecx, (%rax): clears CF and OF */
		{ "and", { 0x21, 0x08 }, 2, 0xf0f0, 0xff00, X86_EFLAGS_CF |
		  X86_EFLAGS_OF, 0xf000, 0xff00, X86_EFLAGS_PF, true },
		/* orq $-1, (%rax) */
		{ "or", { 0x48, 0x83, 0x08, 0xff }, 4, 0, 0, 0, ~0ULL, 0,
		  X86_EFLAGS_SF | X86_EFLAGS_PF, true },
		/* xorl (%rax), %ecx: zero-extends the result */
		{ "xor to reg", { 0x33, 0x08 }, 2, 0xffffffff, ~0ULL, 0,
		  0xffffffff, 0, X86_EFLAGS_ZF | X86_EFLAGS_PF, false },
		/* testl %ecx, (%rax) */
		{ "test", { 0x85, 0x08 }, 2, 0x80000000, 0x80000000, 0,
		  0x80000000, 0x80000000, X86_EFLAGS_SF | X86_EFLAGS_PF, false },
		/* testb $1, (%rax) */
		{ "test imm", { 0xf6, 0x00, 0x01 }, 3, 0xfe, 0, 0, 0xfe, 0,
		  X86_EFLAGS_ZF | X86_EFLAGS_PF, false },
		/* notw (%rax): flags kept */
		{ "not", { 0x66, 0xf7, 0x10 }, 3, 0x00ff, 0, X86_EFLAGS_CF,
		  0xff00, 0, X86_EFLAGS_CF, true },
		/* negl (%rax) */
		{ "neg", { 0xf7, 0x18 }, 2, 1, 0, 0, 0xffffffff, 0,
		  X86_EFLAGS_CF | X86_EFLAGS_SF | X86_EFLAGS_PF | X86_EFLAGS_AF,
		  true },
		/* negl of 0: CF clear */
		{ "neg 0", { 0xf7, 0x18 }, 2, 0, 0, X86_EFLAGS_CF, 0, 0,
		  X86_EFLAGS_ZF | X86_EFLAGS_PF, true },
		/* xchg %ecx, (%rax) */
		{ "xchg", { 0x87, 0x08 }, 2, 0x11111111, 0xffffffff22222222,
		  0, 0x22222222, 0x11111111, 0, true },
		/* lock addb %cl, (%rax) */
		{ "lock add", { 0xf0, 0x00, 0x08 }, 3, 0x80, 0x80, 0, 0, 0x80,
		  X86_EFLAGS_CF | X86_EFLAGS_OF | X86_EFLAGS_ZF | X86_EFLAGS_PF,
		  true },
		/* movb $0x5a, (%rax) */
		{ "mov imm", { 0xc6, 0x00, 0x5a }, 3, 0, 0, 0, 0x5a, 0, 0, true },
		/* incl (%rax): overflow to 0x80000000, CF kept */
		{ "inc", { 0xff, 0x00 }, 2, 0x7fffffff, 0, X86_EFLAGS_CF,
		  0x80000000, 0, X86_EFLAGS_CF | X86_EFLAGS_OF | X86_EFLAGS_SF |
		  X86_EFLAGS_AF | X86_EFLAGS_PF, true },
		/* incb (%rax) of 0xff: zero, CF stays clear */
		{ "inc wrap", { 0xfe, 0x00 }, 2, 0xff, 0, 0, 0, 0,
		  X86_EFLAGS_ZF | X86_EFLAGS_AF | X86_EFLAGS_PF, true },
		/* decw (%rax) of 0: 0xffff, CF kept set */
		{ "dec", { 0x66, 0xff, 0x08 }, 3, 0, 0, X86_EFLAGS_CF, 0xffff, 0,
		  X86_EFLAGS_CF | X86_EFLAGS_SF | X86_EFLAGS_AF | X86_EFLAGS_PF,
		  true },
		/* lock decq (%rax) */
		{ "lock dec", { 0xf0, 0x48, 0xff, 0x08 }, 4, 2, 0, 0, 1, 0, 0,
		  true },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hvk_emu emu;
		struct fake f;
		u64 mem;

		emu_setup(test, &emu, &f, 64, cases[i].code, cases[i].len);
		emu.regs[HVK_RAX] = RAM_LA + 0x40;
		emu.regs[HVK_RCX] = cases[i].rcx;
		emu.rflags |= cases[i].rflags;
		memcpy(f.ram + 0x40, &cases[i].mem, 8);
		KUNIT_ASSERT_EQ_MSG(test, hvk_emulate(&emu), HVK_EMU_DONE, "%s",
				    cases[i].name);
		memcpy(&mem, f.ram + 0x40, 8);
		KUNIT_EXPECT_EQ_MSG(test, mem, cases[i].mem_after, "%s",
				    cases[i].name);
		KUNIT_EXPECT_EQ_MSG(test, (u64)emu.regs[HVK_RCX],
				    cases[i].rcx_after, "%s", cases[i].name);
		KUNIT_EXPECT_EQ_MSG(test, emu.rflags,
				    cases[i].flags_after | X86_EFLAGS_FIXED, "%s",
				    cases[i].name);
		KUNIT_EXPECT_EQ_MSG(test, f.nw, (unsigned int)cases[i].writes,
				    "%s", cases[i].name);
		KUNIT_EXPECT_EQ(test, emu.rip, CODE_LA + (u64)cases[i].len);
	}
}

/* What it cannot do leaves everything as it was. */
static void emu_refusals(struct kunit *test)
{
	struct hvk_emu *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	static const struct {
		const char *name;
		u8 code[16];
		unsigned int len;
		int status;
		u8 vector;
	} cases[] = {
		{ "register form", { 0x89, 0xc8 }, 2, HVK_EMU_UNHANDLED },
		{ "no memory operand", { 0x05, 1, 0, 0, 0 }, 5,
		  HVK_EMU_UNHANDLED },
		{ "nop", { 0x90 }, 1, HVK_EMU_UNHANDLED },
		{ "cpuid", { 0x0f, 0xa2 }, 2, HVK_EMU_UNHANDLED },
		{ "mul", { 0xf7, 0x20 }, 2, HVK_EMU_UNHANDLED },
		{ "truncated", { 0x8b }, 1, HVK_EMU_UNHANDLED },
		{ "truncated disp", { 0x8b, 0x80, 0, 0 }, 4, HVK_EMU_UNHANDLED },
		{ "16 bytes", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x80, 0 }, 15,
		  HVK_EMU_UNHANDLED },
		{ "rep movzx", { 0xf3, 0x0f, 0xb6, 0x08 }, 4, HVK_EMU_UNHANDLED },
		{ "lock mov", { 0xf0, 0x89, 0x08 }, 3, HVK_EMU_FAULT, 6 },
		{ "lock cmp", { 0xf0, 0x39, 0x08 }, 3, HVK_EMU_FAULT, 6 },
		{ "lock add to reg", { 0xf0, 0x03, 0x08 }, 3, HVK_EMU_FAULT, 6 },
		{ "lock test", { 0xf0, 0x85, 0x08 }, 3, HVK_EMU_FAULT, 6 },
		{ "lock movs", { 0xf0, 0xa4 }, 2, HVK_EMU_FAULT, 6 },
		{ "xbegin", { 0xc7, 0xf8, 0, 0, 0, 0 }, 6, HVK_EMU_UNHANDLED },
	};
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, before);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hvk_emu emu;
		struct fake f;

		emu_setup(test, &emu, &f, 64, cases[i].code, cases[i].len);
		emu.regs[HVK_RAX] = 0xfee00000;
		emu.regs[HVK_RSI] = 0xfee00000;
		*before = emu;
		KUNIT_EXPECT_EQ_MSG(test, hvk_emulate(&emu), cases[i].status,
				    "%s", cases[i].name);
		KUNIT_EXPECT_EQ_MSG(test, f.nr + f.nw, 0U, "%s", cases[i].name);
		KUNIT_EXPECT_EQ(test, emu.rip, before->rip);
		KUNIT_EXPECT_EQ(test, emu.rflags, before->rflags);
		KUNIT_EXPECT_MEMEQ(test, emu.regs, before->regs,
				   sizeof(emu.regs));
		if (cases[i].status == HVK_EMU_FAULT)
			KUNIT_EXPECT_EQ(test, emu.fault.vector, cases[i].vector);
		/* The bytes are there for the error report. */
		KUNIT_EXPECT_EQ(test, emu.nbytes, cases[i].len);
	}
}

/* A fault on the read or the write commits nothing. */
static void emu_faults(struct kunit *test)
{
	struct hvk_emu emu;
	struct fake f;
	int i;

	for (i = 0; i < 2; i++) {
		/* xchg %rcx, (%rax) */
		emu_setup(test, &emu, &f, 64, "\x48\x87\x08", 3);
		emu.regs[HVK_RAX] = RAM_LA;
		emu.regs[HVK_RCX] = 0x1234;
		if (i)
			f.write_status = HVK_EMU_FAULT;
		else
			f.read_status = HVK_EMU_FAULT;
		KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_FAULT);
		KUNIT_EXPECT_EQ(test, emu.fault.vector, 14);
		KUNIT_EXPECT_EQ(test, emu.regs[HVK_RCX], 0x1234UL);
		KUNIT_EXPECT_EQ(test, emu.rip, (u64)CODE_LA);
	}
	/* UNHANDLED from a callback too. */
	emu_setup(test, &emu, &f, 64, "\x8b\x08", 2);
	f.read_status = HVK_EMU_UNHANDLED;
	KUNIT_EXPECT_EQ(test, hvk_emulate(&emu), HVK_EMU_UNHANDLED);
	KUNIT_EXPECT_EQ(test, emu.rip, (u64)CODE_LA);
}

/*
 * The CPU's result and flags for "@insn @b, @a" with the carry flag set to
 * @cf first: what the emulator must match.
 */
#define HOST_ALU(insn, type, reg)					\
	({								\
		type x_ = a, y_ = b;					\
		asm("bt $0, %[c]\n\t" insn " %[y], %[x]\n\t"		\
		    "pushf\n\tpop %[fl]"				\
		    : [x] "+" reg(x_), [fl] "=&r"(fl)			\
		    : [y] reg(y_), [c] "r"(cf) : "cc");			\
		x_;							\
	})

#define HOST_ALU_SIZES(insn)						\
	(size == 1 ? HOST_ALU(insn "b", u8, "q") :			\
	 size == 2 ? HOST_ALU(insn "w", u16, "r") :			\
	 size == 4 ? HOST_ALU(insn "l", u32, "r") :			\
	 HOST_ALU(insn "q", u64, "r"))

static u64 host_alu(enum emu_alu_op op, u64 a, u64 b, unsigned int size,
		    u64 cf, u64 *flags)
{
	unsigned long fl;
	u64 res;

	switch (op) {
	case EMU_ADD:
		res = HOST_ALU_SIZES("add");
		break;
	case EMU_OR:
		res = HOST_ALU_SIZES("or");
		break;
	case EMU_ADC:
		res = HOST_ALU_SIZES("adc");
		break;
	case EMU_SBB:
		res = HOST_ALU_SIZES("sbb");
		break;
	case EMU_AND:
		res = HOST_ALU_SIZES("and");
		break;
	case EMU_SUB:
		res = HOST_ALU_SIZES("sub");
		break;
	case EMU_XOR:
		res = HOST_ALU_SIZES("xor");
		break;
	default:
		res = HOST_ALU_SIZES("cmp");
		break;
	}
	*flags = fl & ARITH_FLAGS;
	return res;
}

/* NEG is SUB from 0: the CPU's flags for the SUB that emulates it. */
#define HOST_NEG(type, reg)						\
	({								\
		type x_ = a;						\
		asm("neg %[x]\n\tpushf\n\tpop %[fl]"			\
		    : [x] "+" reg(x_), [fl] "=r"(fl) : : "cc");		\
		x_;							\
	})

static u64 host_neg(u64 a, unsigned int size, u64 *flags)
{
	unsigned long fl;
	u64 res;

	if (size == 1)
		res = HOST_NEG(u8, "q");
	else if (size == 2)
		res = HOST_NEG(u16, "r");
	else if (size == 4)
		res = HOST_NEG(u32, "r");
	else
		res = HOST_NEG(u64, "r");
	*flags = fl & ARITH_FLAGS;
	return res;
}

static u64 rnd64(struct rnd_state *rnd)
{
	return (u64)prandom_u32_state(rnd) << 32 | prandom_u32_state(rnd);
}

static const u64 flag_values[] = {
	0, 1, 2, 0xf, 0x10, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100,
	0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000, 0x7fffffff,
	0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x100000000,
	0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000001,
	0xfffffffffffffffe, 0xffffffffffffffff, 0x5555555555555555,
	0xaaaaaaaaaaaaaaaa, 0x0f0f0f0f0f0f0f0f,
};

static void check_alu(struct kunit *test, enum emu_alu_op op, u64 a, u64 b,
		      unsigned int size, unsigned int cf)
{
	u64 want, got, hf, ef = cf ? X86_EFLAGS_CF : 0;

	want = host_alu(op, a, b, size, cf, &hf);
	got = alu(op, a, b, size, &ef);
	/* The CPU's CMP keeps its operand: only the flags compare. */
	if (op != EMU_CMP)
		KUNIT_EXPECT_EQ_MSG(test, got, want, "op %u size %u %llx %llx cf %u",
				    op, size, a, b, cf);
	KUNIT_EXPECT_EQ_MSG(test, ef, hf, "op %u size %u %llx %llx cf %u",
			    op, size, a, b, cf);
}

/* alu()'s results and flags are the CPU's, for every size and carry. */
static void emu_flags_match_cpu(struct kunit *test)
{
	unsigned int size, op, i, j, n = ARRAY_SIZE(flag_values);
	struct rnd_state rnd;

	prandom_seed_state(&rnd, 0xf1a95);
	for (size = 1; size <= 8; size *= 2) {
		for (op = EMU_ADD; op <= EMU_CMP; op++) {
			for (i = 0; i < n; i++)
				for (j = 0; j < n; j++)
					check_alu(test, op, flag_values[i],
						  flag_values[j], size,
						  (i + j) & 1);
			for (i = 0; i < 3000; i++)
				check_alu(test, op, rnd64(&rnd), rnd64(&rnd),
					  size, i & 1);
		}
		for (i = 0; i < n + 300; i++) {
			u64 a = i < n ? flag_values[i] : rnd64(&rnd);
			u64 want, got, hf, ef = 0;

			want = host_neg(a, size, &hf);
			got = alu(EMU_SUB, 0, a, size, &ef);
			KUNIT_EXPECT_EQ(test, got, want);
			KUNIT_EXPECT_EQ_MSG(test, ef, hf, "neg size %u %llx",
					    size, a);
		}
	}
}

/* Every vector of insn_vectors.h, emulated: where and how much it accesses. */
static void emu_vectors(struct kunit *test)
{
	unsigned int i, s;

	for (i = 0; i < nr_insn_vectors; i++) {
		const struct insn_vector *v = &insn_vectors[i];
		u64 amask, la, si_la, di_la, seg_base[6];
		unsigned long regs[16];
		struct hvk_emu emu;
		struct fake f;
		int r;

		emu_setup(test, &emu, &f, v->mode, (const u8 *)v->bytes, v->len);
		insn_test_regs(regs);
		regs[HVK_RCX] = 5;		/* REP: not the last element */
		memcpy(emu.regs, regs, sizeof(regs));
		for (s = 0; s < 6; s++)
			seg_base[s] = s == HVK_SREG_CS ? 0 : 0x100000 * s + 0x1000;
		memcpy(emu.seg_base, seg_base, sizeof(seg_base));
		f.mmio_ready = true;
		memcpy(f.mmio_data, "\x81\x92\xa3\xb4\xc5\xd6\xe7\xf8", 8);
		r = hvk_emulate(&emu);
		KUNIT_ASSERT_TRUE_MSG(test, r == HVK_EMU_DONE ||
				      r == HVK_EMU_EXIT, "%s: %d", v->text, r);

		/* In 64-bit mode only FS and GS have a base. */
		if (v->mode == 64)
			for (s = 0; s < 6; s++)
				if (s != HVK_SREG_FS && s != HVK_SREG_GS)
					seg_base[s] = 0;
		amask = v->addr_bytes == 8 ? ~0ULL :
			(1ULL << (8 * v->addr_bytes)) - 1;
		la = seg_base[v->seg] + insn_vector_ea(v, regs, CODE_LA);
		si_la = seg_base[v->seg] + (regs[HVK_RSI] & amask);
		di_la = seg_base[HVK_SREG_ES] + (regs[HVK_RDI] & amask);
		if (v->mode != 64) {
			la = (u32)la;
			si_la = (u32)si_la;
			di_la = (u32)di_la;
		}
		if (v->access & V_R) {
			KUNIT_EXPECT_EQ_MSG(test, f.reads[0].la,
					    v->kind == V_S ? si_la : la,
					    "%s", v->text);
			KUNIT_EXPECT_EQ_MSG(test, f.reads[0].len, v->mem_bytes,
					    "%s", v->text);
		}
		if (v->access & V_W) {
			KUNIT_EXPECT_EQ_MSG(test, f.writes[0].la,
					    v->kind == V_S ? di_la : la,
					    "%s", v->text);
			KUNIT_EXPECT_EQ_MSG(test, f.writes[0].len, v->mem_bytes,
					    "%s", v->text);
		}
		KUNIT_EXPECT_EQ_MSG(test, f.nr, v->access & V_R ? 1U : 0U,
				    "%s", v->text);
		KUNIT_EXPECT_EQ_MSG(test, f.nw, v->access & V_W ? 1U : 0U,
				    "%s", v->text);
		/* REP with a count left: RIP stays for the next element. */
		KUNIT_EXPECT_EQ_MSG(test, emu.rip,
				    v->kind == V_S && strstr(v->text, "rep") ?
				    (u64)CODE_LA : CODE_LA + (u64)v->len,
				    "%s", v->text);
	}
}

/*
 * Random bytes and random answers from memory: the emulator ends, returns
 * a status, fetches at most 15 bytes, reads before it writes and writes at
 * most once (the fake checks those), and commits nothing unless it
 * completed or wrote.
 */
static int fuzz_status(struct rnd_state *rnd)
{
	u32 x = prandom_u32_state(rnd) % 16;

	return x < 10 ? HVK_EMU_DONE : x < 13 ? HVK_EMU_EXIT :
	       x < 15 ? HVK_EMU_FAULT : HVK_EMU_UNHANDLED;
}

static void emu_fuzz(struct kunit *test)
{
	struct hvk_emu *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	static const u8 likely[] = {
		0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2,
		0xf3, 0x40, 0x48, 0x4f, 0x41, 0x0f, 0x8b, 0x89, 0x88, 0x8a,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad,
		0xc6, 0xc7, 0xf6, 0xf7, 0x80, 0x81, 0x83, 0x01, 0x03, 0x21,
		0x39, 0x85, 0x87, 0x63, 0xb6, 0xbf, 0x04, 0x05, 0x44, 0x24,
	};
	struct rnd_state rnd;
	unsigned int i, j;

	prandom_seed_state(&rnd, 0xe3a1a7e);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for (i = 0; i < 50000; i++) {
		struct hvk_emu emu;
		struct fake f;
		u8 code[15];
		int r;

		for (j = 0; j < sizeof(code); j++) {
			u32 x = prandom_u32_state(&rnd);

			code[j] = x & 0x100 ? likely[(x >> 9) % sizeof(likely)] :
				  x;
		}
		emu_setup(test, &emu, &f, 16 << (prandom_u32_state(&rnd) % 3),
			  code, 1 + prandom_u32_state(&rnd) % 15);
		for (j = 0; j < 16; j++)
			emu.regs[j] = prandom_u32_state(&rnd) % 4 ?
				      prandom_u32_state(&rnd) % 8 :
				      rnd64(&rnd);
		for (j = 0; j < 6; j++)
			emu.seg_base[j] = prandom_u32_state(&rnd);
		f.code_la = emu.mode == 64 ? emu.rip :
			    (u32)(emu.seg_base[HVK_SREG_CS] + emu.rip);
		emu.rflags = X86_EFLAGS_FIXED |
			     (prandom_u32_state(&rnd) & (ARITH_FLAGS |
							 X86_EFLAGS_DF));
		f.mmio_ready = prandom_u32_state(&rnd) & 1;
		f.read_status = fuzz_status(&rnd);
		f.write_status = fuzz_status(&rnd);
		*before = emu;
		r = hvk_emulate(&emu);
		KUNIT_ASSERT_TRUE(test, r == HVK_EMU_DONE || r == HVK_EMU_EXIT ||
				  r == HVK_EMU_FAULT || r == HVK_EMU_UNHANDLED);
		KUNIT_EXPECT_LE(test, emu.nbytes, 15U);
		if (r == HVK_EMU_DONE || (r == HVK_EMU_EXIT && f.nw))
			continue;
		KUNIT_EXPECT_EQ(test, emu.rip, before->rip);
		KUNIT_EXPECT_EQ(test, emu.rflags, before->rflags);
		KUNIT_EXPECT_MEMEQ(test, emu.regs, before->regs,
				   sizeof(emu.regs));
	}
}

static struct kunit_case emulate_test_cases[] = {
	KUNIT_CASE(emu_mov_store_exit),
	KUNIT_CASE(emu_mov_load_reexecute),
	KUNIT_CASE(emu_addressing),
	KUNIT_CASE(emu_rep_strings),
	KUNIT_CASE(emu_alu_forms),
	KUNIT_CASE(emu_refusals),
	KUNIT_CASE(emu_faults),
	KUNIT_CASE(emu_flags_match_cpu),
	KUNIT_CASE(emu_vectors),
	KUNIT_CASE(emu_fuzz),
	{}
};

static struct kunit_suite emulate_test_suite = {
	.name = "hvk_emulate",
	.test_cases = emulate_test_cases,
};

kunit_test_suite(emulate_test_suite);
