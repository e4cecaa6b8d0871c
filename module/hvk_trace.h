/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvk's tracepoints: /sys/kernel/tracing/events/hvk/ (docs/abi.md lists
 * the fields).  trace.c defines them (CREATE_TRACE_POINTS); vcpu.c and
 * events.c fire them.  A disabled tracepoint costs a patched-out branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvk

#if !defined(HVK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HVK_TRACE_H

#include <linux/tracepoint.h>

#include "hvk.h"

TRACE_DEFINE_ENUM(HVK_EVENT_EXCEPTION);
TRACE_DEFINE_ENUM(HVK_EVENT_SOFT_EXCEPTION);
TRACE_DEFINE_ENUM(HVK_EVENT_PRIV_SOFT_EXCEPTION);
TRACE_DEFINE_ENUM(HVK_EVENT_NMI);
TRACE_DEFINE_ENUM(HVK_EVENT_INTR);
TRACE_DEFINE_ENUM(HVK_EVENT_SOFT_INTR);

/* Right before the backend enters the guest, interrupts off. */
TRACE_EVENT(hvk_entry,
	TP_PROTO(const struct hvk_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->rip = vcpu->rip;
	),

	TP_printk("vcpu %u rip 0x%llx", __entry->vcpu_id, __entry->rip)
);

/*
 * After the exit handler ran: the reason is final then (a fault may have
 * become MMIO), and @ret says where the vCPU goes next (1: back into the
 * guest, 0: to user space, < 0: KVM_RUN's error).  @rip is the RIP of the
 * exit, before the handler moved it.
 */
TRACE_EVENT(hvk_exit,
	TP_PROTO(const struct hvk_vcpu *vcpu, const struct hvk_exit_info *info,
		 u64 rip, int ret),
	TP_ARGS(vcpu, info, rip, ret),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(unsigned int, reason)
		__array(char, reason_name, HVK_EXIT_NAME_SIZE)
		__field(u32, hw_reason)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->reason = vcpu->exit_reason;
		strscpy(__entry->reason_name,
			hvk_exit_reason_names[vcpu->exit_reason],
			HVK_EXIT_NAME_SIZE);
		__entry->hw_reason = info->hw_reason;
		__entry->rip = rip;
		__entry->info1 = info->info1;
		__entry->info2 = info->info2;
		__entry->ret = ret;
	),

	TP_printk("vcpu %u reason %s hw 0x%x rip 0x%llx info 0x%llx 0x%llx ret %d",
		  __entry->vcpu_id, __entry->reason_name,
		  __entry->hw_reason, __entry->rip, __entry->info1,
		  __entry->info2, __entry->ret)
);

/* KVM_RUN returns to user space: run->exit_reason, or @ret < 0. */
TRACE_EVENT(hvk_userspace_exit,
	TP_PROTO(const struct hvk_vcpu *vcpu, int ret),
	TP_ARGS(vcpu, ret),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(u32, exit_reason)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->exit_reason = vcpu->run->exit_reason;
		__entry->ret = ret;
	),

	TP_printk("vcpu %u exit_reason %u ret %d", __entry->vcpu_id,
		  __entry->exit_reason, __entry->ret)
);

/* The event the next VM entry injects, if any (events.c). */
TRACE_EVENT_CONDITION(hvk_inject,
	TP_PROTO(const struct hvk_vcpu *vcpu, const struct hvk_event *ev),
	TP_ARGS(vcpu, ev),

	TP_CONDITION(ev->type != HVK_EVENT_NONE),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(unsigned int, type)
		__field(u8, vector)
		__field(bool, has_error_code)
		__field(u32, error_code)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->type = ev->type;
		__entry->vector = ev->vector;
		__entry->has_error_code = ev->has_error_code;
		__entry->error_code = ev->error_code;
	),

	TP_printk("vcpu %u %s vector %u error_code %s0x%x",
		  __entry->vcpu_id,
		  __print_symbolic(__entry->type,
			{ HVK_EVENT_EXCEPTION, "exception" },
			{ HVK_EVENT_SOFT_EXCEPTION, "soft_exception" },
			{ HVK_EVENT_PRIV_SOFT_EXCEPTION, "priv_soft_exception" },
			{ HVK_EVENT_NMI, "nmi" },
			{ HVK_EVENT_INTR, "intr" },
			{ HVK_EVENT_SOFT_INTR, "soft_intr" }),
		  __entry->vector, __entry->has_error_code ? "" : "(none) ",
		  __entry->error_code)
);

#endif /* HVK_TRACE_H */

/* Out of the kernel tree: Kbuild adds module/ to this file's includes. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hvk_trace
#include <trace/define_trace.h>
