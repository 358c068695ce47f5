//! What each registry hypercall takes and returns, register by register: the detail
//! `ppcpv hcall show NAME` prints.
//!
//! Sources, per family:
//! * ePAPR `EV_*` and Freescale `FH_*`: the inline wrappers of
//!   `torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h` (`ev_int_set_config`,
//!   `ev_byte_channel_send`, ...) and `arch/powerpc/include/asm/fsl_hcalls.h`
//!   (`fh_partition_get_dtprop`, ...): which registers each wrapper loads before
//!   `bl epapr_hypercall_start` and reads after it. r11 always carries the token in,
//!   r3 always the `EV_*` status out. Calls without a Linux wrapper
//!   (`EV_INT_SEND_IPI`, `EV_INT_SET/GET_TASK_PRIORITY`, `EV_MSGSND`, `FH_DMA_ATTR_*`)
//!   have no register list here.
//! * `KVM_HC_FEATURES`, `KVM_HC_PPC_MAP_MAGIC_PAGE` and what KVM does with `EV_IDLE`:
//!   `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)` (see
//!   [`super::host`]); the guest side is `arch/powerpc/kernel/kvm.c`
//!   (`kvm_map_magic_page`) and `arch/powerpc/include/asm/kvm_para.h`
//!   (`kvm_arch_para_features`).
//! * x86 `KVM_HC_*`: `Documentation/virt/kvm/x86/hypercalls.rst` (a0..a3 travel in
//!   rbx, rcx, rdx, rsi; the result comes back in rax).

use super::registry::Hypercall;
use super::token::Vendor;

/// One register of a hypercall's interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Reg {
    /// The register (`r3`, `a0 (rbx)`).
    pub reg: &'static str,
    /// What it holds.
    pub meaning: &'static str,
}

/// A hypercall's registers in and out, with where that is written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Registers {
    /// What the caller loads (besides the number or token).
    pub inputs: &'static [Reg],
    /// What the caller reads back.
    pub outputs: &'static [Reg],
    /// The function or document the lists come from.
    pub source: &'static str,
}

const fn r(reg: &'static str, meaning: &'static str) -> Reg {
    Reg { reg, meaning }
}

const STATUS: Reg = r("r3", "status: 0 (EV_SUCCESS) or an EV_* error code");

const fn regs(inputs: &'static [Reg], outputs: &'static [Reg], source: &'static str) -> Registers {
    Registers {
        inputs,
        outputs,
        source,
    }
}

const X86: &str = "torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst";

static FEATURES: Registers = regs(
    &[],
    &[
        r(
            "r3",
            "status: 0 (EV_SUCCESS); Linux takes anything else as no features",
        ),
        r(
            "r4",
            "KVM_FEATURE_* bits: bit 1 (KVM_FEATURE_MAGIC_PAGE) on Book3S PR and e500v2, \
             none on BookE HV",
        ),
    ],
    "torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv); \
     arch/powerpc/include/asm/kvm_para.h (kvm_arch_para_features)",
);

static MAP_MAGIC_PAGE: Registers = regs(
    &[
        r(
            "r3",
            "guest physical address of the page (low 12 bits ignored)",
        ),
        r(
            "r4",
            "effective address the guest maps it at, | MAGIC_PAGE_FLAG_NOT_MAPPED_NX (bit 0) \
             when the guest handles NX itself",
        ),
    ],
    &[
        r("r3", "status: 0 (EV_SUCCESS)"),
        r(
            "r4",
            "KVM_MAGIC_FEAT_* masks: 0x3 (SR | MAS0_TO_SPRG7) from mainline KVM",
        ),
    ],
    "torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv); \
     arch/powerpc/kernel/kvm.c (kvm_map_magic_page)",
);

static BC_SEND: Registers = regs(
    &[
        r("r3", "byte channel handle"),
        r("r4", "number of bytes to send (at most 16)"),
        r("r5-r8", "the 16 bytes, as four big-endian words"),
    ],
    &[STATUS, r("r4", "number of bytes sent")],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_byte_channel_send)",
);

static BC_RECEIVE: Registers = regs(
    &[
        r("r3", "byte channel handle"),
        r("r4", "most bytes to receive (at most 16)"),
    ],
    &[
        STATUS,
        r("r4", "number of bytes received"),
        r("r5-r8", "the bytes, as four big-endian words"),
    ],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_byte_channel_receive)",
);

static BC_POLL: Registers = regs(
    &[r("r3", "byte channel handle")],
    &[
        STATUS,
        r("r4", "bytes waiting in the receive queue"),
        r("r5", "free space in the transmit queue"),
    ],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_byte_channel_poll)",
);

static INT_SET_CONFIG: Registers = regs(
    &[
        r("r3", "interrupt number"),
        r("r4", "configuration (sense/polarity)"),
        r("r5", "priority"),
        r("r6", "destination CPU"),
    ],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_set_config)",
);

static INT_GET_CONFIG: Registers = regs(
    &[r("r3", "interrupt number")],
    &[
        STATUS,
        r("r4", "configuration (sense/polarity)"),
        r("r5", "priority"),
        r("r6", "destination CPU"),
    ],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_get_config)",
);

static INT_SET_MASK: Registers = regs(
    &[
        r("r3", "interrupt number"),
        r("r4", "mask: 0 enables the interrupt, 1 disables it"),
    ],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_set_mask)",
);

static INT_GET_MASK: Registers = regs(
    &[r("r3", "interrupt number")],
    &[STATUS, r("r4", "mask: 0 enabled, 1 disabled")],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_get_mask)",
);

static INT_IACK: Registers = regs(
    &[r(
        "r3",
        "interrupt controller handle (0: the next interrupt whatever the cascade)",
    )],
    &[STATUS, r("r4", "the interrupt vector")],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_iack)",
);

static INT_EOI: Registers = regs(
    &[r("r3", "interrupt number (the one in service)")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_int_eoi)",
);

static DOORBELL_SEND: Registers = regs(
    &[r("r3", "doorbell send handle")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_doorbell_send)",
);

static IDLE: Registers = regs(
    &[],
    &[r(
        "r3",
        "status: 0 (EV_SUCCESS) once an interrupt woke the vCPU (KVM: kvmppc_kvm_pv \
         blocks the vCPU and answers 0)",
    )],
    "torvalds/linux: arch/powerpc/include/asm/epapr_hcalls.h (ev_idle); \
     arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)",
);

static FH_ERR_GET_INFO: Registers = regs(
    &[
        r(
            "r3",
            "queue: 0 the guest error queue, 1 the global error queue",
        ),
        r("r4", "size of the buffer"),
        r("r5", "buffer guest physical address, high word"),
        r("r6", "buffer guest physical address, low word"),
        r("r7", "peek: nonzero leaves the entry in the queue"),
    ],
    &[STATUS, r("r4", "size of the error data")],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_err_get_info)",
);

static FH_GET_DTPROP: Registers = regs(
    &[
        r("r3", "partition handle"),
        r(
            "r4, r5",
            "physical address of the node path (high, low word)",
        ),
        r(
            "r6, r7",
            "physical address of the property name (high, low word)",
        ),
        r(
            "r8, r9",
            "physical address of the value buffer (high, low word)",
        ),
        r("r10", "size of the value buffer"),
    ],
    &[STATUS, r("r4", "length of the property")],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_get_dtprop)",
);

static FH_SET_DTPROP: Registers = regs(
    &[
        r("r3", "partition handle"),
        r(
            "r4, r5",
            "physical address of the node path (high, low word)",
        ),
        r(
            "r6, r7",
            "physical address of the property name (high, low word)",
        ),
        r("r8, r9", "physical address of the value (high, low word)"),
        r("r10", "length of the value"),
    ],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_set_dtprop)",
);

static FH_PARTITION: Registers = regs(
    &[r("r3", "partition handle")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_restart, \
     fh_partition_stop, fh_partition_stop_dma)",
);

static FH_GET_STATUS: Registers = regs(
    &[r("r3", "partition handle")],
    &[
        STATUS,
        r(
            "r4",
            "state: 0 stopped, 1 running, 2 starting, 3 stopping, 4 pausing, 5 paused, \
             6 resuming (FH_PARTITION_*)",
        ),
    ],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_get_status)",
);

static FH_START: Registers = regs(
    &[
        r("r3", "partition handle"),
        r("r4", "entry point (guest physical address)"),
        r("r5", "load: nonzero loads the partition's images first"),
    ],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_start)",
);

static FH_MEMCPY: Registers = regs(
    &[
        r("r3", "source partition handle"),
        r("r4", "target partition handle"),
        r("r5", "scatter/gather list guest physical address, low word"),
        r("r6", "its high word"),
        r("r7", "number of struct fh_sg_list entries"),
    ],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_partition_memcpy)",
);

static FH_DMA: Registers = regs(
    &[r("r3", "LIODN of the device")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_dma_enable, fh_dma_disable)",
);

static FH_SEND_NMI: Registers = regs(
    &[r("r3", "mask of the vCPUs to interrupt")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_send_nmi)",
);

static FH_GET_MSIR: Registers = regs(
    &[r("r3", "interrupt number")],
    &[STATUS, r("r4", "the MPIC MSIR value")],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_vmpic_get_msir)",
);

static FH_SYSTEM_RESET: Registers = regs(
    &[],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_system_reset)",
);

static FH_CORE_STATE: Registers = regs(
    &[r("r3", "partition handle"), r("r4", "vCPU number")],
    &[
        STATUS,
        r("r4", "state: 0 running, 1 idle, 2 napping (FH_VCPU_*)"),
    ],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_get_core_state)",
);

static FH_NAP: Registers = regs(
    &[r("r3", "partition handle"), r("r4", "vCPU number")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_enter_nap, fh_exit_nap)",
);

static FH_CLAIM: Registers = regs(
    &[r("r3", "fsl,hv-device-handle of the device node")],
    &[STATUS],
    "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h (fh_claim_device)",
);

static X86_POLL_IRQ: Registers = regs(&[], &[r("rax", "0")], X86);

static X86_KICK: Registers = regs(
    &[
        r("a0 (rbx)", "flags, reserved for future use"),
        r("a1 (rcx)", "APIC ID of the vCPU to wake"),
    ],
    &[r("rax", "0, or a negative KVM_E* code")],
    X86,
);

static X86_CLOCK_PAIRING: Registers = regs(
    &[
        r(
            "a0 (rbx)",
            "guest physical address the host writes struct kvm_clock_pairing to",
        ),
        r(
            "a1 (rcx)",
            "clock type: 0 (KVM_CLOCK_PAIRING_WALLCLOCK) only",
        ),
    ],
    &[r(
        "rax",
        "0, or -KVM_EOPNOTSUPP when the host clock is not TSC-based or the type is not 0",
    )],
    X86,
);

static X86_SEND_IPI: Registers = regs(
    &[
        r("a0 (rbx)", "destination bitmap, low part"),
        r("a1 (rcx)", "destination bitmap, high part"),
        r("a2 (rdx)", "the APIC ID of bitmap bit 0"),
        r("a3 (rsi)", "the APIC ICR value"),
    ],
    &[r("rax", "number of CPUs the IPI was delivered to")],
    X86,
);

static X86_SCHED_YIELD: Registers = regs(&[r("a0 (rbx)", "destination APIC ID")], &[], X86);

static X86_MAP_GPA_RANGE: Registers = regs(
    &[
        r("a0 (rbx)", "guest physical address of the first page"),
        r("a1 (rcx)", "number of 4 KiB pages"),
        r(
            "a2 (rdx)",
            "attributes: bits 3:0 page size (0 4K, 1 2M, 2 1G), bit 4 encrypted",
        ),
    ],
    &[],
    X86,
);

impl Hypercall {
    /// Its registers in and out, where a source documents them (`None` for the
    /// ePAPR and Freescale calls Linux has no wrapper for, `KVM_HC_MMU_OP` and the
    /// MIPS numbers).
    #[must_use]
    pub fn registers(&self) -> Option<&'static Registers> {
        let regs = match (self.vendor, self.number) {
            (Vendor::Kvm, 1) => &X86_POLL_IRQ,
            (Vendor::Kvm, 3) => &FEATURES,
            (Vendor::Kvm, 4) => &MAP_MAGIC_PAGE,
            (Vendor::Kvm, 5) => &X86_KICK,
            (Vendor::Kvm, 9) => &X86_CLOCK_PAIRING,
            (Vendor::Kvm, 10) => &X86_SEND_IPI,
            (Vendor::Kvm, 11) => &X86_SCHED_YIELD,
            (Vendor::Kvm, 12) => &X86_MAP_GPA_RANGE,
            (Vendor::Epapr, 1) => &BC_SEND,
            (Vendor::Epapr, 2) => &BC_RECEIVE,
            (Vendor::Epapr, 3) => &BC_POLL,
            (Vendor::Epapr, 4) => &INT_SET_CONFIG,
            (Vendor::Epapr, 5) => &INT_GET_CONFIG,
            (Vendor::Epapr, 6) => &INT_SET_MASK,
            (Vendor::Epapr, 7) => &INT_GET_MASK,
            (Vendor::Epapr, 9) => &INT_IACK,
            (Vendor::Epapr, 10) => &INT_EOI,
            (Vendor::Epapr, 14) => &DOORBELL_SEND,
            (Vendor::Epapr, 16) => &IDLE,
            (Vendor::Freescale, 1) => &FH_ERR_GET_INFO,
            (Vendor::Freescale, 2) => &FH_GET_DTPROP,
            (Vendor::Freescale, 3) => &FH_SET_DTPROP,
            (Vendor::Freescale, 4 | 7 | 18) => &FH_PARTITION,
            (Vendor::Freescale, 5) => &FH_GET_STATUS,
            (Vendor::Freescale, 6) => &FH_START,
            (Vendor::Freescale, 8) => &FH_MEMCPY,
            (Vendor::Freescale, 9 | 10) => &FH_DMA,
            (Vendor::Freescale, 11) => &FH_SEND_NMI,
            (Vendor::Freescale, 12) => &FH_GET_MSIR,
            (Vendor::Freescale, 13) => &FH_SYSTEM_RESET,
            (Vendor::Freescale, 14) => &FH_CORE_STATE,
            (Vendor::Freescale, 15 | 16) => &FH_NAP,
            (Vendor::Freescale, 17) => &FH_CLAIM,
            _ => return None,
        };
        Some(regs)
    }

    /// How the call enters the host: the token in r11 on PowerPC, the number in rax on
    /// x86 and $2 (v0) on MIPS.
    #[must_use]
    pub fn number_register(&self) -> &'static str {
        use super::registry::Arch;
        match self.arch.first() {
            Some(Arch::X86) => "rax = the number",
            Some(Arch::Mips) => "$2 (v0) = the number",
            Some(Arch::S390) => "r1 = the number",
            _ => "r11 = the token (vendor << 16 | number)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry::{all, find_by_name};

    #[test]
    fn every_linux_wrapper_is_described() {
        // The calls Linux has an inline wrapper for, and the KVM PowerPC ones.
        for name in [
            "KVM_HC_FEATURES",
            "KVM_HC_PPC_MAP_MAGIC_PAGE",
            "EV_BYTE_CHANNEL_SEND",
            "EV_IDLE",
            "FH_PARTITION_GET_DTPROP",
            "FH_PARTITION_STOP_DMA",
        ] {
            assert!(find_by_name(name).unwrap().registers().is_some(), "{name}");
        }
        for name in ["EV_MSGSND", "FH_DMA_ATTR_SET", "KVM_HC_MMU_OP"] {
            assert!(find_by_name(name).unwrap().registers().is_none(), "{name}");
        }
        // PowerPC calls always answer a status in r3.
        for h in all().filter(|h| h.on(super::super::registry::Arch::Ppc)) {
            if let Some(r) = h.registers() {
                assert_eq!(r.outputs.first().map(|o| o.reg), Some("r3"), "{}", h.name);
            }
        }
    }

    #[test]
    fn map_magic_page_takes_the_pa_in_r3() {
        let r = find_by_name("kvm_hc_ppc_map_magic_page")
            .unwrap()
            .registers()
            .unwrap();
        assert!(r.inputs[0].meaning.contains("physical address"));
        assert!(r.inputs[1].meaning.contains("effective address"));
    }
}
