/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Vendor-neutral exit reasons, for statistics and tracing (docs/abi.md).
 * Each backend maps its hardware exit codes to one of these through its
 * ->exit_info op; the core may refine it while handling the exit (a
 * second-level fault that turns out to be device memory is "mmio").
 *
 * One list, HVK_EXIT_REASONS, makes the enum, the names, the statistics
 * descriptors (stats.c) and the tracepoints' symbol table (hvk_trace.h), so
 * that they cannot disagree.  A name is at most 19 characters, so that
 * "exit_<name>_cycles_hist" fits in a statistic's 48-byte name.  New
 * reasons go at the end: the enum's values appear in trace data.
 */
#ifndef HVK_EXIT_REASON_H
#define HVK_EXIT_REASON_H

#include <linux/types.h>

#define HVK_EXIT_REASONS(X)						\
	X(OTHER, other)		/* no better class; see hw_reason */	\
	X(CPUID, cpuid)							\
	X(HLT, hlt)							\
	X(IO, io)		/* IN, OUT, INS, OUTS */		\
	X(MMIO, mmio)		/* device memory, emulated */		\
	X(MEM_FAULT, mem_fault)	/* EPT violation / NPF: memory mapped */ \
	X(MSR_READ, msr_read)						\
	X(MSR_WRITE, msr_write)						\
	X(IRQ, irq)		/* host external interrupt */		\
	X(IRQ_WINDOW, irq_window)					\
	X(NMI, nmi)		/* host NMI */				\
	X(NMI_WINDOW, nmi_window) /* VMX NMI window; SVM IRET */	\
	X(EXCEPTION, exception)	/* intercepted #DB, #BP, #AC, ... */	\
	X(CR, cr)		/* control register access */		\
	X(DR, dr)		/* debug register access */		\
	X(HYPERCALL, hypercall)	/* VMCALL, VMMCALL */			\
	X(XSETBV, xsetbv)						\
	X(INVD, invd)		/* INVD, WBINVD */			\
	X(SHUTDOWN, shutdown)	/* triple fault */			\
	X(PAUSE, pause)							\
	X(ENTRY_FAILED, entry_failed) /* VM entry refused the state */	\
	X(UD, ud)		/* instruction hvk answers with #UD */

#define HVK_EXIT_ENUM_(upper, lower)	HVK_EXIT_##upper,
enum hvk_exit_reason {
	HVK_EXIT_REASONS(HVK_EXIT_ENUM_)
	HVK_EXIT_NR
};
#undef HVK_EXIT_ENUM_

/* "cpuid", "hlt", ...: @reason must be below HVK_EXIT_NR. */
extern const char *const hvk_exit_reason_names[HVK_EXIT_NR];

/* The last exit as the backend saw it (->exit_info). */
struct hvk_exit_info {
	enum hvk_exit_reason reason;
	u32 hw_reason;	/* VMX: exit reason (full 32 bits); SVM: EXITCODE */
	u64 info1;	/* VMX: exit qualification; SVM: EXITINFO1 */
	u64 info2;	/* VMX: VM-exit interruption info; SVM: EXITINFO2 */
};

/* Log2 buckets of the per-reason and user-space timing histograms. */
#define HVK_EXIT_HIST_BUCKETS	32

#endif /* HVK_EXIT_REASON_H */
