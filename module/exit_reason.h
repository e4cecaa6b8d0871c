/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Vendor-neutral exit reasons, for statistics and tracing (docs/abi.md).
 * Each backend maps its hardware exit codes to one of these through its
 * ->exit_info op; the core may refine it while handling the exit (a
 * second-level fault that turns out to be device memory is "mmio").
 *
 * The names (trace.c) name the statistics (stats.c builds their
 * descriptors from them at load) and appear in the tracepoints.  New
 * reasons go at the end: the values appear in trace data.
 */
#ifndef HVK_EXIT_REASON_H
#define HVK_EXIT_REASON_H

#include <linux/types.h>

enum hvk_exit_reason {
	HVK_EXIT_OTHER,		/* no better class; see hw_reason */
	HVK_EXIT_CPUID,
	HVK_EXIT_HLT,
	HVK_EXIT_IO,		/* IN, OUT, INS, OUTS */
	HVK_EXIT_MMIO,		/* device memory, emulated */
	HVK_EXIT_MEM_FAULT,	/* EPT violation / NPF: memory mapped */
	HVK_EXIT_MSR_READ,
	HVK_EXIT_MSR_WRITE,
	HVK_EXIT_IRQ,		/* host external interrupt */
	HVK_EXIT_IRQ_WINDOW,
	HVK_EXIT_NMI,		/* host NMI */
	HVK_EXIT_NMI_WINDOW,	/* VMX NMI window; SVM IRET */
	HVK_EXIT_EXCEPTION,	/* intercepted #DB, #BP, #AC, ... */
	HVK_EXIT_CR,		/* control register access */
	HVK_EXIT_DR,		/* debug register access */
	HVK_EXIT_HYPERCALL,	/* VMCALL, VMMCALL */
	HVK_EXIT_XSETBV,
	HVK_EXIT_INVD,		/* INVD, WBINVD */
	HVK_EXIT_SHUTDOWN,	/* triple fault */
	HVK_EXIT_PAUSE,
	HVK_EXIT_ENTRY_FAILED,	/* VM entry refused the state */
	HVK_EXIT_UD,		/* an instruction hvk answers with #UD */
	HVK_EXIT_NR
};

/* Bytes of a reason's name, '\0' included. */
#define HVK_EXIT_NAME_SIZE	16

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
