// SPDX-License-Identifier: GPL-2.0
/*
 * Exit statistics and tracing: the tracepoints' definitions (hvk_trace.h),
 * the exit reasons' names, and the exit_timing module parameter.
 */
#include <linux/moduleparam.h>

#include "hvk.h"

#define CREATE_TRACE_POINTS
#include "hvk_trace.h"

/* At most HVK_EXIT_NAME_SIZE - 1 characters; hvk_stats_init() checks. */
const char *const hvk_exit_reason_names[HVK_EXIT_NR] = {
	[HVK_EXIT_OTHER] = "other",
	[HVK_EXIT_CPUID] = "cpuid",
	[HVK_EXIT_HLT] = "hlt",
	[HVK_EXIT_IO] = "io",
	[HVK_EXIT_MMIO] = "mmio",
	[HVK_EXIT_MEM_FAULT] = "mem_fault",
	[HVK_EXIT_MSR_READ] = "msr_read",
	[HVK_EXIT_MSR_WRITE] = "msr_write",
	[HVK_EXIT_IRQ] = "irq",
	[HVK_EXIT_IRQ_WINDOW] = "irq_window",
	[HVK_EXIT_NMI] = "nmi",
	[HVK_EXIT_NMI_WINDOW] = "nmi_window",
	[HVK_EXIT_EXCEPTION] = "exception",
	[HVK_EXIT_CR] = "cr",
	[HVK_EXIT_DR] = "dr",
	[HVK_EXIT_HYPERCALL] = "hypercall",
	[HVK_EXIT_XSETBV] = "xsetbv",
	[HVK_EXIT_INVD] = "invd",
	[HVK_EXIT_SHUTDOWN] = "shutdown",
	[HVK_EXIT_PAUSE] = "pause",
	[HVK_EXIT_ENTRY_FAILED] = "entry_failed",
	[HVK_EXIT_UD] = "ud",
};

/*
 * Time every exit (two TSC reads and a histogram bucket per exit).  Off,
 * the per-reason counts still grow and the histograms stand still; the
 * switch takes effect at the next exit.
 */
bool hvk_exit_timing = true;
module_param_named(exit_timing, hvk_exit_timing, bool, 0644);
MODULE_PARM_DESC(exit_timing,
		 "Histograms of exit handling time in TSC cycles (default: on)");
