// SPDX-License-Identifier: GPL-2.0
/*
 * Exit statistics and tracing: the tracepoints' definitions (hvk_trace.h),
 * the exit reasons' names, and the exit_timing module parameter.
 */
#include <linux/moduleparam.h>

#include "hvk.h"

#define CREATE_TRACE_POINTS
#include "hvk_trace.h"

#define HVK_EXIT_NAME_(upper, lower)	[HVK_EXIT_##upper] = #lower,
const char *const hvk_exit_reason_names[HVK_EXIT_NR] = {
	HVK_EXIT_REASONS(HVK_EXIT_NAME_)
};
#undef HVK_EXIT_NAME_

/*
 * Time every exit (two TSC reads and a histogram bucket per exit).  Off,
 * the per-reason counts still grow and the histograms stand still; the
 * switch takes effect at the next exit.
 */
bool hvk_exit_timing = true;
module_param_named(exit_timing, hvk_exit_timing, bool, 0644);
MODULE_PARM_DESC(exit_timing,
		 "Histograms of exit handling time in TSC cycles (default: on)");
