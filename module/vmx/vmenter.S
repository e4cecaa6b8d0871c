/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX guest entry stub.
 *
 * int hvk_vmx_enter(unsigned long *regs, bool launched)
 *
 * Contract:
 * - Called with interrupts disabled, the vCPU's VMCS current on this CPU
 *   and its HOST_RIP pointing at hvk_vmx_vmexit.  Every other host and
 *   guest field is the caller's business; this writes HOST_RSP only.
 * - @regs: the guest's general-purpose registers, 16 words in the
 *   hardware's numbering (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15).
 *   All but RSP are loaded before the entry and stored back after the
 *   exit; the VMCS holds RSP, RIP and RFLAGS.
 * - @launched: VMRESUME if true, else VMLAUNCH.
 * - Returns 0 after a VM exit (including a VM-entry failure reported as an
 *   exit with bit 31 of the exit reason set), 1 if VMLAUNCH/VMRESUME or the
 *   HOST_RSP write failed (VMfail) or faulted (VMX is off: an emergency
 *   reboot); in that case @regs is not written.
 * - The guest's register values never outlive the stub: every GPR but RSP
 *   and the return value is zeroed after the exit, before any RET, and the
 *   return stack buffer is refilled so that no RET speculates into a
 *   return address the guest planted.  Callee-saved registers are
 *   preserved for the C caller.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>
#include <asm/unwind_hints.h>

#include "../vmenter.inc"

/* VMCS field encoding of HOST_RSP (SDM Vol. 3, B.4.4). */
#define VMCS_HOST_RSP	0x6c14

	.text

SYM_FUNC_START(hvk_vmx_enter)
	push %rbp
	mov  %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	/* @regs, found again at (%rsp) after the exit. */
	push %rdi

	/* @launched, in a register the C ABI preserves across the VMWRITE. */
	mov %esi, %ebx

	/*
	 * The exit resumes with RSP pointing at @regs on the stack.  The
	 * stack does not move between here and the entry.
	 */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jna .Lvmfail

	/* CF = @launched; nothing below changes CF until the branch. */
	bt $0, %ebx

	mov %rdi, %rax
	HVK_LOAD_GUEST_GPRS
	/* Last: this overwrites the @regs pointer. */
	mov HVK_GPR_RAX(%rax), %rax

	/* VERW where the kernel's MDS-class mitigation wants it; clobbers ZF. */
	CLEAR_CPU_BUFFERS

	jnc .Lvmlaunch

	/* Execution continues at hvk_vmx_vmexit, not after the VMRESUME. */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp .Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp .Lvmfail

	/* A fault means VMX is off under us (emergency reboot): a failure. */
	_ASM_EXTABLE(.Lvmresume, .Lvmfail)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfail)

SYM_INNER_LABEL(hvk_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	/* Free RAX for the @regs pointer, stored just above it. */
	push %rax
	mov 8(%rsp), %rax
	pop HVK_GPR_RAX(%rax)
	HVK_SAVE_GUEST_GPRS

	/* Return value: a VM exit. */
	xor %ebx, %ebx

.Lclear_regs:
	/* Drop the @regs pointer. */
	pop %rax

	/*
	 * No guest value may reach speculative execution in the host, even
	 * through registers about to be reloaded from the stack.
	 */
	xor %eax, %eax
	xor %ecx, %ecx
	xor %edx, %edx
	xor %ebp, %ebp
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	/*
	 * Before the first RET that has no matching CALL since the entry:
	 * overwrite the return stack buffer the guest could have filled
	 * (retpoline, IBRS; one CALL suffices with eIBRS).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/*
	 * Legacy IBRS protects the kernel only if IBRS is written again
	 * after a less privileged predictor mode ran, whether or not the
	 * value changed: the host's value is written here, whatever the
	 * guest's (hvk_spec_ctrl_exit() in the caller, which writes it
	 * back when the guest's differs, then finds nothing to do).
	 */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_KERNEL_IBRS
	mov $MSR_IA32_SPEC_CTRL, %ecx
	xor %edx, %edx
	movl PER_CPU_VAR(x86_spec_ctrl_current), %eax
	wrmsr
.Lspec_ctrl_done:

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov %rbx, %rax
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lvmfail:
	mov $1, %ebx
	jmp .Lclear_regs

SYM_FUNC_END(hvk_vmx_enter)
