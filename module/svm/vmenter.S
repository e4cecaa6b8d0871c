/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry for AMD SVM.
 *
 * void __svm_vcpu_run(u64 vmcb_pa, unsigned long *regs, u64 host_save_pa)
 *
 * Contract:
 * - Called with interrupts disabled and GIF clear (CLGI), from C that has
 *   stored the guest's RIP, RSP, RAX and RFLAGS in the VMCB.
 * - @regs is struct hvk_vcpu's regs[]: the guest GPRs other than RAX and
 *   RSP are loaded from it before VMRUN and stored back after #VMEXIT.
 * - VMSAVE to @host_save_pa keeps the host's FS, GS, TR, LDTR, KERNEL_GS_BASE,
 *   STAR, LSTAR, CSTAR, SFMASK and SYSENTER MSRs, which VMRUN does not
 *   switch; VMLOAD restores them after the exit (APM Vol. 2, 15.5).
 * - The exit code is in the VMCB.  A VMRUN, VMLOAD or VMSAVE that faults
 *   (SVM switched off under a running vCPU, e.g. on reboot) is skipped; the
 *   caller puts SVM_EXIT_ERR in the VMCB beforehand so that the failure is
 *   seen as one.
 * - On return the return stack buffer is filled and the guest's GPR values
 *   are gone from the registers, so that nothing guest-controlled steers
 *   speculation in the host.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#include "../vmenter.inc"


	.section .text, "ax"

SYM_FUNC_START(__svm_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* 16(%rsp): host save area, 8(%rsp): regs, 0(%rsp): VMCB. */
	push	%rdx
	push	%rsi
	push	%rdi

	mov	%rdx, %rax
1:	vmsave	%rax
2:
	mov	%rsi, %rax
	HVK_LOAD_GUEST_GPRS

	mov	(%rsp), %rax
3:	vmload	%rax
	/*
	 * VMRUN saves the host's RFLAGS.IF and, with V_INTR_MASKING, lets it
	 * decide whether physical interrupts exit the guest (15.21.1): set
	 * it.  GIF is clear, so nothing is taken here between STI and VMRUN.
	 * The NOP ends STI's shadow before VMRUN: QEMU's CPU carries it into
	 * the guest, where it hides the shadow of a guest STI.
	 */
	sti
	nop
4:	vmrun	%rax
9:	cli
5:	vmsave	%rax
6:
	/* RAX is the host's again (VMRUN saved it); the guest's is in the VMCB. */
	mov	8(%rsp), %rax
	HVK_SAVE_GUEST_GPRS

	mov	16(%rsp), %rax
7:	vmload	%rax
8:
	/* Before any RET: stuff the RSB, then untrain returns (RETBleed). */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	/* Older kernels have one untraining sequence for entry and exit. */
	UNTRAIN_RET
#endif

	/* Guest values must not linger in registers the host may use. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	_ASM_EXTABLE(1b, 2b)
	_ASM_EXTABLE(3b, 4b)
	_ASM_EXTABLE(4b, 9b)
	_ASM_EXTABLE(5b, 6b)
	_ASM_EXTABLE(7b, 8b)
SYM_FUNC_END(__svm_vcpu_run)
