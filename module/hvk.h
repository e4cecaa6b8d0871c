/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvk core: the structures shared by the vendor-neutral core and the vendor
 * backends (module/vmx, module/svm), and the interface between them.  The
 * core never asks which vendor it runs on; it calls through the backend's
 * struct hvk_vendor.
 *
 * Field tags say who may touch a field:
 *   (i) set once at creation, read-only afterwards
 *   (o) owned by the vCPU's thread: only under vcpu->mutex
 *   (l) under the lock named in the comment
 *   (a) atomic or accessed with READ_ONCE/WRITE_ONCE
 */
#ifndef HVK_H
#define HVK_H

#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/refcount.h>
#include <linux/rcuwait.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>

#include "exit_reason.h"
#include "insn.h"
#include "kvm_abi.h"
#include "mmu/walk.h"
#include "stats.h"

#ifndef CONFIG_PREEMPT_NOTIFIERS
#error "hvk needs CONFIG_PREEMPT_NOTIFIERS (selected by CONFIG_KVM)"
#endif

/* Limits reported through KVM_CHECK_EXTENSION. */
#define HVK_MAX_VCPUS		64
#define HVK_MAX_VCPU_ID		HVK_MAX_VCPUS	/* ids 0 .. HVK_MAX_VCPU_ID - 1 */
#define HVK_NR_MEMSLOTS		32
#define HVK_MAX_CPUID_ENTRIES	256	/* KVM's limit */
#define HVK_DIRTY_LOG_MANUAL_CAPS \
	(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET)

/* Offset, in pages, of the PIO data page in the vCPU mmap (KVM's value). */
#define HVK_PIO_PAGE_OFFSET	1
#define HVK_VCPU_MMAP_PAGES	2

struct hvk_vm;
struct hvk_vcpu;
struct hvk_ioeventfds;
struct hvk_irqchip;
struct hvk_lapic;

/*
 * A guest memory slot: guest frames [gfn, gfn + npages) at host address hva.
 * Changed under vm->slots_lock held for writing and vm->mmu.lock, so that
 * either lock is enough to read it.
 */
struct hvk_memslot {
	u64 gfn;
	u64 npages;
	unsigned long hva;
	u32 flags;			/* KVM_MEM_READONLY, _LOG_DIRTY_PAGES */
	/* With KVM_MEM_LOG_DIRTY_PAGES: a bit per page, set atomically. */
	unsigned long *dirty_bitmap;
};

/*
 * Second-level page table (EPT or NPT): 4 or 5 levels of 512 entries, built on
 * demand from the memslots and kept coherent with the host's page tables by
 * an MMU notifier (mmu/mmu.c).  Leaves map 4 KiB, 2 MiB or 1 GiB; they hold
 * no reference on the host page.
 */
struct hvk_mmu_format {
	unsigned int levels;	/* 4, or 5 for NPT under a 5-level host */
	unsigned int max_leaf;	/* largest leaf: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB) */
	u64 present;		/* bits that make an entry present */
	u64 table;		/* bits of an entry pointing to a table */
	u64 leaf;		/* bits of a readable, executable leaf */
	u64 writable;		/* bit that makes a leaf writable */
	u64 huge;		/* bit that makes a level 2 or 3 entry a leaf */
};

/* Spare table pages for the vCPU's faults (mmu/mmu.c). */
#define HVK_MMU_CACHE_PAGES	4	/* levels below the root, at most */
struct hvk_mmu_cache {
	u64 *pages[HVK_MMU_CACHE_PAGES];
	unsigned int nr;
};

struct hvk_mmu {
	u64 *root;				/* (i) top-level table */
	const struct hvk_mmu_format *fmt;	/* (i) */
	spinlock_t lock;			/* protects the tables */
	unsigned long nr_tables;		/* (l: lock) pages of tables */

	/*
	 * The host's changes to the VM's address space: a fault that
	 * started before an invalidation ended, or overlaps one in
	 * progress, maps nothing and retries.
	 */
	struct mmu_notifier notifier;
	bool notifier_registered;		/* (i) */
	unsigned long invalidate_seq;		/* (l: lock) */
	unsigned int invalidate_active;		/* (l: lock) */
	unsigned long invalidate_start;		/* (l: lock) hva range */
	unsigned long invalidate_end;		/* (l: lock) */
};

/*
 * Statistics, read through KVM_GET_STATS_FD (stats.c, whose tables name
 * them; KVM's names where KVM counts the same event).  Only u64 fields and
 * u64 arrays (histograms).  Each is updated with plain arithmetic where its
 * event happens, by the owner its tag names; readers of a stats fd take the
 * values as they are, torn or not, as KVM's do.
 */
struct hvk_vm_stat {
	/* Leaves of the second-level tables by size: hvk_stat_pages(). */
	union {
		struct {
			u64 pages_4k;
			u64 pages_2m;
			u64 pages_1g;
		};
		u64 pages[3];			/* (l: mmu.lock) by level - 1 */
	};
};

struct hvk_vcpu_stat {
	u64 exits;		/* (o) every VM exit */
	u64 io_exits;		/* (o) port I/O exits (IN, OUT, INS, OUTS) */
	u64 mmio_exits;		/* (o) MMIO exits to user space */
	u64 halt_exits;		/* (o) HLT exits */
	u64 signal_exits;	/* (o) KVM_RUN ended by a signal (EXIT_INTR) */
	u64 irq_exits;		/* (o) exits for a host external interrupt */
	u64 hypercalls;		/* (o) VMCALL/VMMCALL handled */

	/*
	 * Exit timing (vcpu.c, docs/abi.md): host TSC cycles from a VM exit
	 * to the next VM entry, in log2 buckets.  Exits handled in the
	 * kernel go to their reason's; exits after which KVM_RUN returned to
	 * user space go to userspace.
	 */
	struct hvk_exit_time {
		u64 cycles;		/* (o) sum of the spans */
		u64 cycles_hist[HVK_EXIT_HIST_BUCKETS];		/* (o) */
	} userspace;
	struct {
		u64 count;		/* (o) exits of this reason */
		struct hvk_exit_time time;
	} exit[HVK_EXIT_NR];		/* by enum hvk_exit_reason */
};

struct hvk_vm {
	struct mm_struct *mm;			/* (i) the creator's, mmgrab'd */
	refcount_t refs;			/* (a) VM fd + each vCPU and stats fd */

	struct mutex lock;			/* vCPU creation */
	struct hvk_vcpu *vcpus[HVK_MAX_VCPU_ID];/* (l: lock) by id */
	unsigned int nr_vcpus;			/* (l: lock) */

	/* Memslots: written under slots_lock for write, read under read. */
	struct rw_semaphore slots_lock;
	struct hvk_memslot slots[HVK_NR_MEMSLOTS];
	/* Changes with every slot update: host addresses may have moved. */
	u64 slots_gen;				/* (l: slots_lock, mmu.lock) */
	/*
	 * Slots from this index on are empty: lookups, on every fault and
	 * every emulated access, stop here instead of at HVK_NR_MEMSLOTS.
	 */
	unsigned int slots_end;			/* (l: slots_lock, mmu.lock) */

	struct hvk_mmu mmu;
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags (KVM_DIRTY_LOG_*). */
	u64 dirty_log_manual;			/* (l: slots_lock) */

	/*
	 * Guest TSC = host TSC + tsc_offset, the same for every vCPU of the
	 * VM; written through MSR_IA32_TSC (guest or KVM_SET_MSRS).
	 */
	s64 tsc_offset;				/* (a) */

	char stats_id[HVK_STATS_NAME_SIZE];	/* (i) "hvk-<pid>" */
	struct hvk_vm_stat stat;
	/* /sys/kernel/debug/hvk/vm-<pid>-<n> (stats.c); may be an error. */
	struct dentry *debugfs_dir;		/* (i) */
	/*
	 * kvmclock (kvmclock.c): the VM's clock read clock_ns when the host
	 * TSC read clock_host_tsc, and runs at the host TSC's rate since.
	 */
	spinlock_t clock_lock;
	u64 clock_host_tsc;			/* (l: clock_lock) */
	u64 clock_ns;				/* (l: clock_lock) */
	u64 wall_clock_msr;			/* (a) MSR_KVM_WALL_CLOCK_NEW */

	/* KVM_CAP_X86_USER_SPACE_MSR: KVM_MSR_EXIT_REASON_* to user space. */
	u32 user_space_msr_mask;		/* (a) */

	/*
	 * KVM_CREATE_IRQCHIP's PICs, IOAPIC and routing (irqchip.c); NULL
	 * until then.  Created under @lock before any vCPU, published with
	 * a release store and never freed before the VM.
	 */
	struct hvk_irqchip *irqchip;		/* (a) */
	u64 x2apic_api;				/* (l: lock) KVM_X2APIC_API_* */
	spinlock_t irqfds_lock;
	struct list_head irqfds;		/* (l: irqfds_lock) */

	/*
	 * KVM_IOEVENTFD's registrations (ioeventfd.c): a table replaced
	 * whole under ioeventfds_lock and read under RCU by the vCPUs'
	 * exit handlers; NULL while there is none.
	 */
	struct mutex ioeventfds_lock;
	struct hvk_ioeventfds __rcu *ioeventfds;
};

/*
 * The MMU installed (@delta 1) or removed (-1) a leaf of @level (1: 4 KiB,
 * 2: 2 MiB, 3: 1 GiB) in the VM's second-level tables, under mmu.lock.
 */
static inline void hvk_stat_pages(struct hvk_vm *vm, int level, s64 delta)
{
	lockdep_assert_held(&vm->mmu.lock);
	if (WARN_ON_ONCE((unsigned int)level - 1 >=
			 ARRAY_SIZE(vm->stat.pages)))
		return;
	vm->stat.pages[level - 1] += delta;
}

/* vcpu->mode: may the vCPU be in guest mode (and need a kick)? */
enum hvk_vcpu_mode {
	HVK_OUTSIDE_GUEST_MODE,
	HVK_IN_GUEST_MODE,
};

/* vcpu->requests: work for the vCPU before its next entry. */
enum hvk_request {
	HVK_REQ_TLB_FLUSH,	/* flush this VM's guest-physical TLB entries */
	HVK_REQ_CLOCK_UPDATE,	/* rewrite the kvmclock page (may sleep) */
	HVK_REQ_EVENT,		/* the in-kernel irqchip has news for it */
};

/* A port I/O exit to user space waiting for its completion. */
struct hvk_pio {
	u16 port;
	u8 size;		/* 1, 2 or 4 */
	bool in;
	bool string;
	bool rep;
	u32 count;		/* elements in the data page */
	u64 rip;		/* RIP of the instruction */
	u64 next_rip;		/* RIP after it */
	int seg;		/* string: OUTS source segment, enum hvk_sreg */
	u8 addr_bytes;		/* string: address size, 2, 4 or 8 */
};

/*
 * MMIO emulation (mmio.c).  An access to device memory ends the emulation
 * with an exit to user space: a write after the instruction completed, a
 * read before it did, in which case the next KVM_RUN emulates the
 * instruction again with the data user space supplied.
 */
struct hvk_mmio {
	bool read_pending;	/* the exit asked user space for this read */
	bool read_done;		/* data[] holds it, for the next emulation */
	u64 gpa;
	u8 len;
	u8 data[8];
};

/* Machine-check banks offered in MCG_CAP (no MCG_CTL, no CMCI). */
#define HVK_MCE_BANKS		8
/* Variable-range MTRRs offered in MTRRcap, as KVM. */
#define HVK_MTRR_VAR		8
#define HVK_MTRR_FIXED		11

/* MSRs that the core keeps for the guest (msr.c); all (o). */
struct hvk_msrs {
	u64 pat;
	u64 misc_enable;
	s64 tsc_adjust;
	u64 tsc_aux;		/* in the hardware while the vCPU is loaded */
	u64 spec_ctrl;		/* in the hardware while the guest runs */
	u64 mtrr_deftype;
	u64 mtrr_fixed[HVK_MTRR_FIXED];
	u64 mtrr_var[2 * HVK_MTRR_VAR];	/* base, mask, base, ... */
	u64 mcg_status;
	u64 mcg_ctl;
	u64 mce_banks[4 * HVK_MCE_BANKS]; /* CTL, STATUS, ADDR, MISC, ... */
	u64 kvmclock;		/* MSR_KVM_SYSTEM_TIME_NEW as written */
	u32 kvmclock_version;	/* of the guest's pvclock_vcpu_time_info */
};

/* An RDMSR or WRMSR handed to user space, waiting for its completion. */
struct hvk_msr_exit {
	bool pending;
	bool read;
	u64 next_rip;
};

/*
 * An event as the hardware injects it at VM entry (SDM Vol. 3, 27.6; APM
 * Vol. 2, 15.20), or reports as interrupted by a VM exit.
 */
enum hvk_event_type {
	HVK_EVENT_NONE,
	HVK_EVENT_EXCEPTION,		/* hardware exception */
	HVK_EVENT_SOFT_EXCEPTION,	/* INT3, INTO: return past the insn */
	HVK_EVENT_PRIV_SOFT_EXCEPTION,	/* INT1 (ICEBP) */
	HVK_EVENT_NMI,
	HVK_EVENT_INTR,			/* external interrupt */
	HVK_EVENT_SOFT_INTR,		/* INT n */
};

struct hvk_event {
	enum hvk_event_type type;
	u8 vector;
	bool has_error_code;
	u32 error_code;
	u8 insn_len;			/* software events */
};

/*
 * The vCPU's events, vendor-neutral (events.c).  Each entry injects at most
 * one, chosen in priority order, and opens the interrupt or NMI window for
 * what has to wait.  "Injected" means delivery has begun: it is delivered
 * again, unchanged, until it completes; "pending" means not yet begun.  The
 * interrupt shadow and NMI blocking live in the VMCS/VMCB (vendor ops).
 */
struct hvk_events {
	struct {
		bool pending;		/* raised; payload not applied yet */
		bool injected;
		enum hvk_event_type type; /* an exception type */
		u8 vector;
		bool has_error_code;
		u32 error_code;
		u8 insn_len;
		bool has_payload;
		u64 payload;		/* #PF: CR2; #DB: DR6 status bits */
	} exception;
	struct {
		/* KVM_INTERRUPT, or an INTR/INT n whose delivery was cut. */
		bool injected;
		bool soft;
		u8 nr;
		u8 insn_len;
	} interrupt;
	struct {
		u8 pending;		/* KVM_NMI: 0, 1 or 2 */
		bool injected;
	} nmi;
	struct hvk_event injecting;	/* what this entry injects */
};

/* The paging-structure entries one guest page walk read (walk_vcpu.c). */
struct hvk_walk_record {
	unsigned int n;
	struct {
		unsigned long hva;	/* where in the VM's memory */
		u64 val;
		u8 size;		/* 4 or 8 */
	} ptes[5];
};

/*
 * What the length of the instruction at RIP depends on, besides memory: its
 * linear address, the paging registers, the access (fetch, CPL) and the
 * code size.  The backend reads them from the VMCB (fastpath.c).
 */
struct hvk_fetch_key {
	u64 la;				/* CS.base + RIP */
	u64 cr0, cr3, cr4, efer;
	u32 access;			/* HVK_PF_FETCH and the CPL's */
	int mode;			/* 16, 32, 64 */
};

/*
 * The exit fast path's last instruction fetch (fastpath.c): the length of
 * the instruction at a linear RIP, and everything that length depends on,
 * so that the next exit there can check it with a few loads instead of a
 * page walk and a decode.  Valid within one KVM_RUN and one memslot layout.
 */
struct hvk_fetch_cache {
	bool valid;
	u64 slots_gen;			/* vm->slots_gen when filled */
	struct hvk_fetch_key key;
	struct hvk_walk_record walk;	/* the entries the walk read */
	unsigned long insn_hva;		/* where the instruction was read */
	u8 len;
	u8 bytes[15];
};

/*
 * What a guest page walk depends on besides memory (walk_vcpu.c): the
 * linear page, the paging registers, the access asked for (with the CPL's
 * HVK_PF_USER) and RFLAGS.AC.  CPUID's 1 GiB pages and the host's rules
 * are not in it: a change of CPUID empties the cache.
 */
struct hvk_xlate_key {
	u64 la;				/* page-aligned */
	u64 cr0, cr3, cr4, efer;
	u32 access;
	bool ac;
};

/*
 * The vCPU's last successful translations by hvk_gva_to_gpa()
 * (walk_vcpu.c): each with every entry its walk read, where and what, so
 * that the same translation is checked with a load per entry instead of a
 * walk.  Only walks that set no Accessed or Dirty bit are kept, so a walk
 * now would read the same values and set nothing either.  An MMIO loop
 * translates its code page and its device page each time: a few entries.
 */
#define HVK_XLATE_ENTRIES	4

struct hvk_xlate_cache {
	struct {
		bool valid;
		u64 slots_gen;		/* vm->slots_gen when filled */
		struct hvk_xlate_key key;
		struct hvk_walk_record walk;
		u64 gpa;		/* of the page */
	} e[HVK_XLATE_ENTRIES];
	unsigned int next;		/* the entry to fill next */
};

struct hvk_vcpu {
	struct hvk_vm *vm;			/* (i) */
	unsigned int id;			/* (i) */
	struct kvm_run *run;			/* (i) mmap page 0 */
	void *pio_data;				/* (i) mmap page 1 */
	struct mutex mutex;			/* serializes vCPU ioctls */
	struct preempt_notifier preempt_notifier;

	int cpu;				/* (a) loaded on, or -1 */
	int mode;				/* (a) enum hvk_vcpu_mode */
	unsigned long requests;			/* (a) enum hvk_request bits */

	/*
	 * Architectural state the core owns.  The backend loads RIP, RSP and
	 * RFLAGS (and RAX on SVM) into the VMCS or VMCB before every entry and
	 * reads them back after every exit; the other GPRs are switched by the
	 * entry code itself.
	 */
	unsigned long regs[HVK_NR_GPRS];	/* (o) */
	u64 rip;				/* (o) */
	u64 rflags;				/* (o) */
	u64 cr8;				/* (o) without a local APIC */
	/* Debug registers, emulated: never loaded into the hardware. */
	u64 dr[4];				/* (o) DR0-3 */
	u64 dr6;				/* (o) */
	u64 dr7;				/* (o) */
	u64 apic_base;				/* (o) without a local APIC */

	/*
	 * The in-kernel local APIC (irqchip.c), when the VM has an irqchip:
	 * then the TPR is CR8 and IA32_APIC_BASE is the LAPIC's.
	 */
	struct hvk_lapic *lapic;		/* (i) or NULL */
	u32 mp_state;				/* (o) KVM_MP_STATE_* */
	/* A halted or waiting vCPU sleeps here; hvk_vcpu_kick() wakes it. */
	struct rcuwait wait;

	struct hvk_events events;		/* (o) events.c */
	/* KVM_SET_GUEST_DEBUG's KVM_GUESTDBG_* flags, 0 when off. */
	u32 guest_debug;			/* (o) */
	bool debug_tf_set;			/* (o) hvk set RFLAGS.TF this entry */

	struct hvk_msrs msrs;			/* (o) */
	struct hvk_msr_exit msr_exit;		/* (o) */
	/* TSC_AUX of the host CPU while the guest's is loaded. */
	u64 host_tsc_aux;			/* (o) */
	bool tsc_aux_loaded;			/* (o) */

	struct hvk_pio pio;			/* (o) valid while pio_pending */
	bool pio_pending;			/* (o) */
	struct hvk_mmio mmio;			/* (o) mmio.c */
	struct hvk_mmu_cache mmu_cache;		/* (o) mmu/mmu.c */

	struct fpu_guest guest_fpu;		/* (o) */
	u32 pkru;				/* (o) no PKU offered: 0 */
	u64 xcr0;				/* (o) XSETBV, KVM_SET_XCRS */
	bool xcr0_loaded;			/* (o) in the hardware now */

	/* KVM_SET_CPUID2's table; until it is set, hvk's default answers. */
	bool cpuid_set;				/* (o) */
	struct kvm_cpuid_entry2 *cpuid;		/* (o) */
	unsigned int cpuid_nent;		/* (o) */
	bool ran;				/* (o) KVM_RUN entered the guest */

	struct hvk_fetch_cache fetch_cache;	/* (o) fastpath.c */
	struct hvk_xlate_cache xlate_cache;	/* (o) mmu/walk_vcpu.c */

	char stats_id[HVK_STATS_NAME_SIZE];	/* (i) "hvk-<pid>/vcpu-<id>" */
	struct hvk_vcpu_stat stat;
	/*
	 * Exit statistics (vcpu.c): the reason of the last exit, which its
	 * handler may refine; the host TSC at that exit, 0 when not timed;
	 * where the span from it to the next entry goes: the reason's, or
	 * user space's once KVM_RUN returned.
	 */
	enum hvk_exit_reason exit_reason;	/* (o) */
	u64 exit_tsc;				/* (o) */
	struct hvk_exit_time *exit_time;	/* (o) */
};

/* ->run's flags. */
enum {
	/* Flush the VM's guest-physical and combined TLB entries first. */
	HVK_RUN_FLUSH_TLB = BIT(0),
	/*
	 * The entry right after an exit ->fastpath completed, nothing else
	 * run in between: of the state the core keeps, only RIP changed
	 * since that exit, and no shadow or event is pending.
	 */
	HVK_RUN_FAST_REENTRY = BIT(1),
};

/*
 * A vendor backend.  Callbacks marked [loaded] run in a vCPU ioctl, with
 * the vCPU loaded on the current CPU: the thread may sleep or move, and the
 * preempt notifier (vcpu.c) puts and loads the vCPU around it.
 *
 * Exit handlers share one return rule: 1 = enter the guest again, 0 = return
 * to user space with vcpu->run filled in, < 0 = error returned by KVM_RUN.
 */
struct hvk_vendor {
	const char *name;	/* "VMX" or "SVM", for messages */

	/* --- system: module load and per-CPU enablement --- */

	/* Does this CPU implement the extension at all (raw CPUID)? */
	bool (*present)(void);
	/* 0, or -ENODEV after printing one line naming what is missing. */
	int (*check_support)(void);
	/* Allocate and free per-CPU state for every possible CPU. */
	int (*setup)(void);
	void (*unsetup)(void);
	/*
	 * Enter and leave virtualization on the calling CPU (preemption
	 * disabled).  ->enable_cpu() returns -EBUSY when another hypervisor
	 * already owns the extension, -EIO when the CPU refused.
	 * ->disable_cpu() is a no-op on a CPU that is not enabled; it also
	 * makes every VMCS loaded on the CPU inactive.
	 * ->emergency_disable_cpu() does only what a crash or emergency
	 * reboot needs, from NMI context.
	 */
	int (*enable_cpu)(void);
	void (*disable_cpu)(void);
	void (*emergency_disable_cpu)(void);
	/* Is virtualization on in the calling CPU's hardware state? */
	bool (*cpu_enabled)(void);

	/* --- second-level paging --- */
	const struct hvk_mmu_format *mmu_format;

	/* --- vCPUs --- */

	/* Size of the backend's vCPU, which embeds struct hvk_vcpu first. */
	size_t vcpu_size;
	/*
	 * Create the hardware state (VMCS or VMCB) in the architectural reset
	 * state (SDM Vol. 3, 10.1.1; APM Vol. 2, 14.1.3); ->vcpu_free undoes
	 * it and may be called on a vCPU whose ->vcpu_init failed.
	 */
	int (*vcpu_init)(struct hvk_vcpu *vcpu);
	void (*vcpu_free)(struct hvk_vcpu *vcpu);
	/*
	 * Make the vCPU current on @cpu, or stop it being current; called
	 * with preemption disabled, from the vCPU ioctls and the preempt
	 * notifier.
	 */
	void (*vcpu_load)(struct hvk_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct hvk_vcpu *vcpu);

	/*
	 * Enter the guest and return at the next VM exit, with interrupts
	 * disabled [loaded].  @flags: HVK_RUN_*.  After the exit it reports
	 * the event whose delivery the exit interrupted, if any, through
	 * hvk_event_delivery_done().
	 */
	void (*run)(struct hvk_vcpu *vcpu, unsigned int flags);
	/*
	 * The exit fast path (fastpath.c), right after ->run with interrupts
	 * still off: handle the exit if it is one that needs neither
	 * sleeping nor user space (CPUID, VMCALL, plain MSRs) and return
	 * true with the instruction completed (RIP past it, the interrupt
	 * shadow ended as ->end_instruction does) and vcpu->exit_reason set
	 * (what ->exit_info would say); else return false having changed
	 * nothing, and ->handle_exit gets the exit.  NULL: none.
	 */
	bool (*fastpath)(struct hvk_vcpu *vcpu);
	/* Handle the exit ->run returned from; may sleep [loaded]. */
	int (*handle_exit)(struct hvk_vcpu *vcpu);
	/*
	 * The exit ->run returned from, vendor-neutral, from what ->run
	 * already read back (no VMCS access) [loaded, after ->run].
	 */
	void (*exit_info)(struct hvk_vcpu *vcpu, struct hvk_exit_info *info);

	/* Segments, control registers, EFER, descriptor tables [loaded]. */
	void (*get_sregs)(struct hvk_vcpu *vcpu, struct kvm_sregs *sregs);
	/*
	 * @sregs has passed hvk_sregs_valid().  0, or -EINVAL for values
	 * the hardware would refuse at VM entry that the core's checks do
	 * not know about; the vCPU is unchanged then.
	 */
	int (*set_sregs)(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs);
	void (*get_segment)(struct hvk_vcpu *vcpu, struct kvm_segment *seg,
			    enum hvk_sreg sreg);
	u64 (*get_cr)(struct hvk_vcpu *vcpu, int cr);	/* 0, 3 or 4 */
	u64 (*get_efer)(struct hvk_vcpu *vcpu);
	/* Values that passed hvk_cr0_valid() etc. for the current state. */
	void (*set_cr0)(struct hvk_vcpu *vcpu, u64 cr0);
	void (*set_cr4)(struct hvk_vcpu *vcpu, u64 cr4);
	void (*set_efer)(struct hvk_vcpu *vcpu, u64 efer);
	/*
	 * The MSRs of hvk_msr_index_list other than EFER and APIC_BASE
	 * [loaded]: SYSCALL, SYSENTER, FS/GS bases, KERNEL_GS_BASE.  Values
	 * have passed the core's checks.
	 */
	u64 (*get_msr)(struct hvk_vcpu *vcpu, u32 msr);
	void (*set_msr)(struct hvk_vcpu *vcpu, u32 msr, u64 val);
	/*
	 * Do RDTSCP and RDPID run in the guest (reading the guest's TSC_AUX,
	 * which the core loads between vcpu_load and vcpu_put)?  Else they
	 * are #UD and CPUID does not offer them.
	 */
	bool (*rdtscp_in_guest)(void);
	void (*set_cr2)(struct hvk_vcpu *vcpu, u64 cr2);

	/*
	 * Events [loaded].  ->inject_event programs the event of the next
	 * entry (HVK_EVENT_NONE: none); ->set_windows asks for an exit as soon
	 * as the guest can take an interrupt (@irq: RFLAGS.IF set, no
	 * interrupt shadow) or an NMI (@nmi: no NMI blocking, no shadow).
	 * Both are called before every entry, interrupts off.
	 */
	void (*inject_event)(struct hvk_vcpu *vcpu, const struct hvk_event *ev);
	void (*set_windows)(struct hvk_vcpu *vcpu, bool irq, bool nmi);
	/* KVM_X86_SHADOW_INT_MOV_SS and _STI bits. */
	u8 (*get_interrupt_shadow)(struct hvk_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct hvk_vcpu *vcpu, u8 shadow);
	/*
	 * hvk completed the instruction at RIP for the guest: end the STI
	 * or MOV SS shadow, and forget debug traps the hardware holds
	 * pending for it (the core raises them itself).
	 */
	void (*end_instruction)(struct hvk_vcpu *vcpu);
	/* NMIs blocked: an NMI handler has not returned with IRET yet. */
	bool (*get_nmi_mask)(struct hvk_vcpu *vcpu);
	void (*set_nmi_mask)(struct hvk_vcpu *vcpu, bool masked);
	/* vcpu->guest_debug changed: intercept #BP or not [loaded]. */
	void (*update_guest_debug)(struct hvk_vcpu *vcpu);
	/* The guest's CPUID changed: follow what it offers [loaded]. */
	void (*cpuid_changed)(struct hvk_vcpu *vcpu);
	/* Can the guest execute INVPCID (offered in CPUID 7.0:EBX)? */
	bool (*has_invpcid)(void);
};

extern const struct hvk_vendor hvk_vmx_vendor;
extern const struct hvk_vendor hvk_svm_vendor;
extern const struct hvk_vendor *hvk_vendor;	/* (i) chosen at load */

struct dentry;

/* The module's debugfs directory, /sys/kernel/debug/hvk (may be an error). */
extern struct dentry *hvk_debugfs_dir;

/* virt.c: per-CPU enablement for the lifetime of the module. */
int hvk_virt_init(const struct hvk_vendor *vendor);
void hvk_virt_exit(void);
unsigned int hvk_virt_count_enabled(void);

/* vm.c */
int hvk_create_vm(unsigned long type);
long hvk_check_extension(struct hvk_vm *vm, unsigned long cap);
void hvk_vm_get(struct hvk_vm *vm);
void hvk_vm_put(struct hvk_vm *vm);
const struct hvk_memslot *hvk_find_memslot(struct hvk_vm *vm, u64 gfn);
int hvk_read_guest(struct hvk_vm *vm, u64 gpa, void *buf, unsigned int len);
int hvk_write_guest(struct hvk_vm *vm, u64 gpa, const void *buf,
		    unsigned int len);
void hvk_vm_request_all(struct hvk_vm *vm, enum hvk_request req);

/* stats.c: KVM_GET_STATS_FD; the layouts are built at module load. */
int hvk_stats_init(void);
void hvk_stats_exit(void);
int hvk_vm_get_stats_fd(struct hvk_vm *vm);
int hvk_vcpu_get_stats_fd(struct hvk_vcpu *vcpu);
/*
 * debugfs: a directory per VM with the VM's and each vCPU's stats file
 * (docs/abi.md).  Removed before the VM is freed; debugfs waits for
 * readers inside a read and fails later ones.
 */
void hvk_vm_debugfs_init(struct hvk_vm *vm);
void hvk_vcpu_debugfs_init(struct hvk_vcpu *vcpu);
void hvk_vm_debugfs_destroy(struct hvk_vm *vm);
/* trace.c: module parameter exit_timing (docs/abi.md). */
extern bool hvk_exit_timing;

/* vcpu.c */
int hvk_create_vcpu(struct hvk_vm *vm, unsigned long id);
void hvk_vcpu_destroy(struct hvk_vcpu *vcpu);

/*
 * exits.c: vendor-neutral exit handling, called by the backends' handlers.
 * Each returns per the exit-handler rule above.
 */
/* @addr_bytes: address size of string I/O, or 0 to decode it. */
int hvk_handle_io(struct hvk_vcpu *vcpu, u16 port, u8 size, bool in,
		  bool string, bool rep, u8 addr_bytes, u64 next_rip);
int hvk_handle_cpuid(struct hvk_vcpu *vcpu, u64 next_rip);
int hvk_handle_hlt(struct hvk_vcpu *vcpu, u64 next_rip);
int hvk_handle_rdmsr(struct hvk_vcpu *vcpu, u64 next_rip);
int hvk_handle_wrmsr(struct hvk_vcpu *vcpu, u64 next_rip);
int hvk_handle_cr_write(struct hvk_vcpu *vcpu, int cr, u64 val, u64 next_rip);
int hvk_handle_mov_dr(struct hvk_vcpu *vcpu, unsigned int dr, unsigned int gpr,
		      bool to_dr, u64 next_rip);
void hvk_reset_debug_registers(struct hvk_vcpu *vcpu);
int hvk_reflect_debug_exception(struct hvk_vcpu *vcpu, u64 dr6_status);
int hvk_handle_hypercall(struct hvk_vcpu *vcpu, u64 next_rip);
int hvk_handle_shutdown(struct hvk_vcpu *vcpu);
int hvk_handle_ept_npt_fault(struct hvk_vcpu *vcpu, u64 gpa, bool write);
int hvk_exit_fail_entry(struct hvk_vcpu *vcpu, u64 hw_reason);
int hvk_exit_unhandled(struct hvk_vcpu *vcpu, u64 hw_reason, u64 info1,
		       u64 info2);
int hvk_exit_emulation_failed(struct hvk_vcpu *vcpu);
/* Fetch and decode the instruction at CS:RIP (insn.h).  0 or < 0. */
int hvk_decode_at_rip(struct hvk_vcpu *vcpu, struct hvk_insn *insn);
/* fastpath.c */
enum hvk_fastpath {
	HVK_FASTPATH_NONE,	/* not handled: ->handle_exit */
	HVK_FASTPATH_DONE,	/* handled; back through the run loop */
	HVK_FASTPATH_REENTER,	/* handled; enter the guest again at once */
};

/*
 * Entries in a row after fast-path exits, interrupts off, before the run
 * loop takes over once.  A host interrupt pending at entry is to exit the
 * guest at once ("external-interrupt exiting", SDM Vol. 3, 26.2; SVM's
 * INTR intercept), but Bochs's VMX takes that exit only while the guest's
 * RFLAGS.IF is set: a guest looping over CPUID with IF clear kept the host
 * from ever taking its timer interrupt.  The bound keeps such a CPU's host
 * responsive; on one that exits as specified it costs one trip through the
 * run loop per this many exits.
 */
#define HVK_FASTPATH_REENTRIES	128

bool hvk_fastpath_allowed(struct hvk_vcpu *vcpu);
enum hvk_fastpath hvk_exit_fastpath(struct hvk_vcpu *vcpu);
/* At each KVM_RUN: ioctls may have changed what cached fetches assume. */
static inline void hvk_fastpath_reset(struct hvk_vcpu *vcpu)
{
	vcpu->fetch_cache.valid = false;
}
/*
 * For the backends' ->fastpath: the length of the instruction at CS:RIP
 * (@key describes where and how it is fetched) if it is the one the exit
 * names (@opcode, @opcode_len bytes after any prefixes), read with
 * interrupts off; 0 if it cannot be told so.
 */
unsigned int hvk_fast_insn_len(struct hvk_vcpu *vcpu,
			       const struct hvk_fetch_key *key,
			       const u8 *opcode, unsigned int opcode_len);
bool hvk_fast_msr(struct hvk_vcpu *vcpu, bool write, u64 next_rip);
/* Code segment size: 16, 32 or 64. */
int hvk_cs_mode(struct hvk_vcpu *vcpu);
/* Finish the port I/O that the last exit to user space asked for. */
int hvk_complete_pio(struct hvk_vcpu *vcpu);
u64 hvk_segment_base(struct hvk_vcpu *vcpu, enum hvk_sreg sreg);

/*
 * irqchip.c: the in-kernel interrupt controllers wired to the VM and its
 * vCPUs (module/irq/ holds the device models).
 */
long hvk_irqchip_vm_ioctl(struct hvk_vm *vm, unsigned int ioctl,
			  void __user *argp);
int hvk_irqchip_enable_x2apic_api(struct hvk_vm *vm, u64 flags);
/*
 * vCPU creation, under vm->lock: the vCPU's LAPIC if the VM has a chip,
 * made, then published to interrupt delivery once the vCPU is.
 */
int hvk_irqchip_vcpu_create(struct hvk_vcpu *vcpu);
void hvk_irqchip_vcpu_publish(struct hvk_vcpu *vcpu);
/* At VM teardown: irqfds gone, every LAPIC timer stopped. */
void hvk_irqchip_vm_shutdown(struct hvk_vm *vm);
void hvk_irqchip_vcpu_destroy(struct hvk_vcpu *vcpu);
void hvk_irqchip_vm_destroy(struct hvk_vm *vm);
long hvk_irqchip_vcpu_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
			    void __user *argp);
/* Something new for @vcpu: wake it, or make it leave guest mode.  Any context. */
void hvk_vcpu_kick(struct hvk_vcpu *vcpu);
/*
 * Before each entry: INIT and SIPI, and sleeping while the vCPU is halted
 * or waits for SIPI.  Exit-handler rule (-EINTR for a signal).
 */
int hvk_irqchip_vcpu_ready(struct hvk_vcpu *vcpu);
/* HLT with a local APIC in the kernel: the vCPU halts, no exit. */
int hvk_irqchip_halt(struct hvk_vcpu *vcpu);
/* For events.c, interrupts off: NMIs from the LAPIC, INTA, pending INTR. */
void hvk_irqchip_take_nmis(struct hvk_vcpu *vcpu);
int hvk_irqchip_ack(struct hvk_vcpu *vcpu);
bool hvk_irqchip_has_interrupt(struct hvk_vcpu *vcpu);
/* Port I/O to the PICs: true when handled in the kernel. */
bool hvk_irqchip_pio(struct hvk_vcpu *vcpu, u16 port, bool in, u8 size,
		     u32 *val);
/* MMIO to the APIC page or the IOAPIC: true when handled in the kernel. */
bool hvk_irqchip_mmio(struct hvk_vcpu *vcpu, u64 gpa, unsigned int len,
		      void *data, bool write);
/* CR8, IA32_APIC_BASE, x2APIC MSRs and TSC_DEADLINE, with or without a LAPIC. */
u8 hvk_get_cr8(struct hvk_vcpu *vcpu);
void hvk_set_cr8(struct hvk_vcpu *vcpu, u8 cr8);
u64 hvk_get_apic_base(struct hvk_vcpu *vcpu);
int hvk_set_apic_base(struct hvk_vcpu *vcpu, u64 val, bool host);
/* hvk_get_msr()'s convention; HVK_MSR_UNKNOWN for MSRs not the LAPIC's. */
int hvk_irqchip_get_msr(struct hvk_vcpu *vcpu, u32 msr, u64 *val);
int hvk_irqchip_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val);
/* The guest's CPUID changed: the LAPIC's features follow it. */
void hvk_irqchip_cpuid_changed(struct hvk_vcpu *vcpu);

/*
 * ioeventfd.c: KVM_IOEVENTFD.  hvk_ioeventfd_write() signals the eventfd
 * registered for a guest write of @len bytes at @addr (a port with @pio,
 * else a guest-physical address) and returns true: the write is done.
 * False: none matches, the write goes to user space.  Does not sleep.
 */
long hvk_ioeventfd_ioctl(struct hvk_vm *vm, struct kvm_ioeventfd __user *argp);
bool hvk_ioeventfd_write(struct hvk_vm *vm, bool pio, u64 addr,
			 unsigned int len, const void *data);
/* At VM teardown, no vCPU left: drop every registration. */
void hvk_ioeventfd_vm_destroy(struct hvk_vm *vm);

/* mmio.c: emulating the instruction that touched device memory. */
int hvk_emulate_mmio(struct hvk_vcpu *vcpu, u64 gpa);
/* Before entering: finish an MMIO read user space has answered. */
int hvk_complete_mmio(struct hvk_vcpu *vcpu);

/*
 * events.c: exceptions, NMIs, interrupts and the guest debugger.
 *
 * hvk_queue_exception() raises an exception in the guest, applying the
 * double- and triple-fault rules (SDM Vol. 3, 6.15); it returns per the
 * exit-handler rule (0: the guest shut down).  The payload variant carries
 * what delivery puts in CR2 (#PF) or DR6 (#DB).
 */
int hvk_queue_exception(struct hvk_vcpu *vcpu, u8 vector, bool has_error,
			u32 error_code);
int hvk_queue_exception_payload(struct hvk_vcpu *vcpu, u8 vector,
				bool has_error, u32 error_code, u64 payload);
/* The entry's event and windows (interrupts off, before ->run). */
void hvk_events_before_entry(struct hvk_vcpu *vcpu);
/*
 * From ->run after the exit: the injected event was delivered unless
 * @interrupted (may be NULL) names an event whose delivery the exit cut
 * short, which is delivered again at the next entry.
 */
void hvk_event_delivery_done(struct hvk_vcpu *vcpu,
			     const struct hvk_event *interrupted);
/* A #DB the backend intercepted, @dr6 its status bits; or a #BP. */
int hvk_handle_debug_exception(struct hvk_vcpu *vcpu, u64 dr6);
int hvk_handle_breakpoint(struct hvk_vcpu *vcpu);
/* An interrupt or NMI window opened: the next entry injects. */
int hvk_handle_event_window(struct hvk_vcpu *vcpu);
/* hvk moved RIP past an instruction: shadow and single-step. */
int hvk_instruction_done(struct hvk_vcpu *vcpu, int r, u64 old_rflags);
bool hvk_ready_for_interrupt(struct hvk_vcpu *vcpu);
void hvk_events_fill_run(struct hvk_vcpu *vcpu);
long hvk_events_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp);

/* cpuid.c: what CPUID tells the guest. */
void hvk_cpuid(struct hvk_vcpu *vcpu, u32 leaf, u32 subleaf, u32 regs[4]);
int hvk_get_supported_cpuid(struct kvm_cpuid2 __user *argp);
int hvk_set_cpuid2(struct hvk_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
int hvk_get_cpuid2(struct hvk_vcpu *vcpu, struct kvm_cpuid2 __user *argp);
bool hvk_guest_has_long_mode(const struct hvk_vcpu *vcpu);
bool hvk_guest_has_xsave(struct hvk_vcpu *vcpu);

/*
 * fpu.c: the XSAVE components offered, XSETBV, the guest's XCR0 around each
 * entry (hvk_load_guest_xcr0() before, hvk_load_host_xcr0() after, both
 * with interrupts off), KVM_GET/SET_FPU, KVM_GET/SET_XSAVE(2), XCRS.
 */
void hvk_fpu_setup(void);
u64 hvk_supported_xcr0(void);
u32 hvk_xsave_size(u64 xcr0);
int hvk_xsave2_size(void);
int hvk_handle_xsetbv(struct hvk_vcpu *vcpu, u64 next_rip);
void hvk_load_guest_xcr0(struct hvk_vcpu *vcpu);
void hvk_load_host_xcr0(struct hvk_vcpu *vcpu);
int hvk_fpu_ioctl(struct hvk_vcpu *vcpu, unsigned int ioctl,
		  void __user *argp);
int hvk_xcrs_ioctl(struct hvk_vcpu *vcpu, struct kvm_xcrs __user *argp,
		   bool set);

/*
 * msr.c: the MSRs a guest and user space may read and write.
 * hvk_get_msr() and hvk_set_msr() return 0, HVK_MSR_UNKNOWN for an MSR hvk
 * does not virtualize, HVK_MSR_INVALID for an access or value it refuses
 * (both #GP for the guest; KVM_MSR_EXIT_REASON_UNKNOWN and _INVAL).
 */
#define HVK_MSR_INVALID		1
#define HVK_MSR_UNKNOWN		2
int hvk_get_msr(struct hvk_vcpu *vcpu, u32 msr, u64 *val, bool host);
int hvk_set_msr(struct hvk_vcpu *vcpu, u32 msr, u64 val, bool host);
int hvk_get_msr_index_list(struct kvm_msr_list __user *argp);
int hvk_msrs_ioctl(struct hvk_vcpu *vcpu, struct kvm_msrs __user *argp,
		   bool set);
void hvk_msrs_reset(struct hvk_vcpu *vcpu);
bool hvk_has_tsc_aux(void);
/* A failed guest RDMSR/WRMSR: #GP, or an exit to user space (0). */
int hvk_msr_failed(struct hvk_vcpu *vcpu, bool read, u32 msr, u64 val,
		   int err, u64 next_rip);
/* KVM_RUN after a KVM_EXIT_X86_RDMSR/WRMSR; exit-handler rule. */
int hvk_complete_msr_exit(struct hvk_vcpu *vcpu);
/* Called with preemption disabled from vcpu_load and vcpu_put. */
void hvk_load_guest_tsc_aux(struct hvk_vcpu *vcpu);
void hvk_put_guest_tsc_aux(struct hvk_vcpu *vcpu);

/*
 * The guest's SPEC_CTRL is in the hardware only while the guest runs:
 * written right before the entry stub and the host's written back right
 * after it, interrupts off, only when the two differ.  The guest cannot
 * write the MSR directly (every MSR access exits), so the value hvk holds
 * is the guest's.  The VMX stub rewrites the host's value itself where the
 * kernel uses legacy IBRS; this runs before anything but the stub's own
 * RET (after its return-stack fill) and uses no indirect branch.
 */
static __always_inline void hvk_spec_ctrl_enter(struct hvk_vcpu *vcpu)
{
	if (cpu_feature_enabled(X86_FEATURE_MSR_SPEC_CTRL) &&
	    vcpu->msrs.spec_ctrl != this_cpu_read(x86_spec_ctrl_current))
		native_wrmsrl(MSR_IA32_SPEC_CTRL, vcpu->msrs.spec_ctrl);
}

static __always_inline void hvk_spec_ctrl_exit(struct hvk_vcpu *vcpu)
{
	u64 host;

	if (!cpu_feature_enabled(X86_FEATURE_MSR_SPEC_CTRL))
		return;
	host = this_cpu_read(x86_spec_ctrl_current);
	if (vcpu->msrs.spec_ctrl != host)
		native_wrmsrl(MSR_IA32_SPEC_CTRL, host);
}

/* kvmclock.c: MSR_KVM_SYSTEM_TIME_NEW, _WALL_CLOCK_NEW, KVM_GET/SET_CLOCK. */
void hvk_kvmclock_init(struct hvk_vm *vm);
void hvk_kvmclock_update(struct hvk_vcpu *vcpu);
void hvk_kvmclock_write_wall_clock(struct hvk_vcpu *vcpu, u64 gpa);
bool hvk_tsc_stable(void);
int hvk_set_tsc_khz(u32 khz);
int hvk_clock_ioctl(struct hvk_vm *vm, struct kvm_clock_data __user *argp,
		    bool set);

/* cr.c: architectural checks shared by the ioctls and the exit handlers. */
bool hvk_sregs_valid(struct hvk_vcpu *vcpu, const struct kvm_sregs *sregs);
bool hvk_cr0_valid(struct hvk_vcpu *vcpu, u64 cr0);
bool hvk_cr4_valid(struct hvk_vcpu *vcpu, u64 cr4);
bool hvk_efer_valid(struct hvk_vcpu *vcpu, u64 efer);

/* guest.c: entering and leaving guest context (timing, RCU, lockdep). */
void hvk_guest_state_enter_irqoff(void);
void hvk_guest_state_exit_irqoff(void);

/* mmu/mmu.c */
/* Set up with vm->mm; detach stops the notifier, destroy frees it all. */
int hvk_mmu_init(struct hvk_vm *vm);
void hvk_mmu_detach(struct hvk_vm *vm);
void hvk_mmu_destroy(struct hvk_vm *vm);
void hvk_mmu_free_cache(struct hvk_mmu_cache *cache);
/*
 * Map the page behind a second-level fault at @gpa.  0 when the guest may
 * retry the access, -ENOENT when no slot holds @gpa, -EROFS for a write to
 * a read-only slot (both: emulate the access as MMIO), -EFAULT when the
 * host memory cannot be accessed, -ENOMEM.
 */
int hvk_mmu_fault(struct hvk_vcpu *vcpu, u64 gpa, bool write);
/* Guest frames the tables can map: [0, hvk_mmu_max_gfn()). */
u64 hvk_mmu_max_gfn(const struct hvk_mmu *mmu);
/*
 * Unmap guest frames [gfn, gfn + npages), or take write access away, and
 * flush every vCPU's TLB before returning.  Callers hold slots_lock for
 * writing.
 */
void hvk_mmu_zap_range(struct hvk_vm *vm, u64 gfn, u64 npages);
void hvk_mmu_write_protect(struct hvk_vm *vm, u64 gfn, u64 npages,
			   bool huge_only);
/* Write-protect the pages of @mask (bit 0 = @gfn); the caller flushes. */
bool hvk_mmu_write_protect_mask(struct hvk_vm *vm, u64 gfn,
				unsigned long mask);

/* mmu/dirty.c: dirty logging. */
void hvk_mark_page_dirty(struct hvk_vm *vm, const struct hvk_memslot *slot,
			 u64 gfn);
int hvk_get_dirty_log(struct hvk_vm *vm, struct kvm_dirty_log __user *argp);
int hvk_clear_dirty_log(struct hvk_vm *vm,
			struct kvm_clear_dirty_log __user *argp);

/*
 * mmu/walk_vcpu.c: guest linear to guest physical, as the vCPU sees it:
 * hvk_walk() (mmu/walk.h, which gives @access, the results and the return
 * values) on the vCPU's paging registers and memory, or the same answer
 * from the vCPU's translation cache.  From the vCPU's thread, slots_lock
 * not held.
 */
int hvk_gva_to_gpa(struct hvk_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		   u32 *pferr);
/* The guest's CPUID changed (1 GiB pages): forget cached translations. */
void hvk_xlate_reset(struct hvk_vcpu *vcpu);
/*
 * The same with interrupts off (the exit fast path) and slots_lock held for
 * reading: no sleeping, no page faulted in; an Accessed bit to set or an
 * unmapped host page is an error, and the caller takes the slow path.
 * @rec receives every entry the walk read, where and what: the same values
 * at the same places give the same translation.
 */
int hvk_gva_to_gpa_atomic(struct hvk_vcpu *vcpu, u64 gva, u32 access,
			  u64 *gpa, u32 *pferr, struct hvk_walk_record *rec);
int hvk_read_guest_atomic(struct hvk_vm *vm, u64 gpa, void *buf,
			  unsigned int len, unsigned long *hva);
/* HVK_PF_USER if the vCPU runs at CPL 3, else 0: for explicit accesses. */
u32 hvk_cpl_access(struct hvk_vcpu *vcpu);

#endif /* HVK_H */
