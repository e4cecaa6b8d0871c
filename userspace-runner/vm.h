/* SPDX-License-Identifier: GPL-2.0 */
/* The VM's life cycle, for main.c. */
#ifndef HVK_RUN_VM_H
#define HVK_RUN_VM_H

#include "hvk-run.h"

int vm_create(struct vm *vm, const char *dev, uint64_t mem_size, int ncpus);
int vcpus_create(struct vm *vm);
/* The boot vCPU's fd, for the boot protocol's registers. */
int vcpu_boot_fd(void);
int vcpus_start(struct vm *vm);
/* Wait until machine_stop(): the reason and its message. */
enum stop_reason machine_wait(const char **msg);
void vcpus_stop(struct vm *vm);

#endif /* HVK_RUN_VM_H */
