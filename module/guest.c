// SPDX-License-Identifier: GPL-2.0
/*
 * Entering and leaving guest context around VMLAUNCH/VMRESUME and VMRUN:
 * guest time accounting, the RCU quiescent state and lockdep's view of
 * interrupts (the guest runs with host interrupts able to exit it).  The
 * kernel's helpers for hypervisors live in <linux/kvm_host.h>; they are
 * inline and use only exported symbols.
 */
#include <linux/kvm_host.h>

#include "hvk.h"

void hvk_guest_state_enter_irqoff(void)
{
	guest_timing_enter_irqoff();
	guest_state_enter_irqoff();
}

void hvk_guest_state_exit_irqoff(void)
{
	guest_state_exit_irqoff();
	guest_timing_exit_irqoff();
}
