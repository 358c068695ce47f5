//! The registry of every known hypercall and hypercall return code, as static tables.
//!
//! Each hypercall follows the template of the kernel's hypercall documentation (the
//! seed patch that created `Documentation/virtual/hypercalls.txt`, today
//! `torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst`): name, value,
//! architecture(s), status (active / deprecated / obsolete) and purpose.
//!
//! Sources:
//! * `KVM_HC_*` 1–12: `torvalds/linux: include/uapi/linux/kvm_para.h` and
//!   hypercalls.rst. Numbers the header does not define stay [`KvmHc::Unknown`] with the
//!   number kept, so a newer guest's call is reported rather than rejected.
//! * ePAPR `EV_*` 1–16 (8 unused): `torvalds/linux: arch/powerpc/include/uapi/asm/epapr_hcalls.h`.
//! * Freescale `FH_*` 1–20: `torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h` and
//!   `nxp-qoriq-yocto-sdk/libos: include/libos/fsl_hcalls.h` (19 and 20 are libos only).
//! * Return codes: ePAPR `EV_*` 0–13 (`epapr_hcalls.h`,
//!   `nxp-qoriq-yocto-sdk/libos: include/libos/hcall-errors.h`) and generic `KVM_E*`
//!   (`include/uapi/linux/kvm_para.h`).
//!
//! Nothing here allocates; lookups are linear scans over short static slices.

use super::token::{HcallToken, Vendor};
use core::fmt;

/// An architecture that has KVM hypercalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum Arch {
    /// PowerPC (Book3S and BookE).
    Ppc,
    /// x86 (Intel VMX and AMD SVM).
    X86,
    /// s390 (IBM Z).
    S390,
    /// MIPS (VZ).
    Mips,
}

impl Arch {
    /// Every architecture, in the order hypercalls.rst lists them.
    pub const ALL: [Arch; 4] = [Arch::X86, Arch::S390, Arch::Ppc, Arch::Mips];

    /// Lower-case name, as on the command line (`ppc`, `x86`, `s390`, `mips`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Arch::Ppc => "ppc",
            Arch::X86 => "x86",
            Arch::S390 => "s390",
            Arch::Mips => "mips",
        }
    }

    /// Human name ("PowerPC").
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Arch::Ppc => "PowerPC",
            Arch::X86 => "x86",
            Arch::S390 => "s390",
            Arch::Mips => "MIPS",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hypercall's status, as the template of hypercalls.rst defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// In use.
    Active,
    /// Still defined, should not be used.
    Deprecated,
    /// No longer implemented anywhere.
    Obsolete,
}

impl Status {
    /// `active`, `deprecated` or `obsolete`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Obsolete => "obsolete",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One registry entry, following the hypercalls.rst template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hypercall {
    /// The C name (`KVM_HC_FEATURES`).
    pub name: &'static str,
    /// The vendor whose number space it belongs to (`KVM_HC_*` are KVM's; on PowerPC
    /// they travel in a token with vendor 42).
    pub vendor: Vendor,
    /// The hypercall number (the "value" of the template).
    pub number: u16,
    /// The architectures that use it.
    pub arch: &'static [Arch],
    /// active / deprecated / obsolete.
    pub status: Status,
    /// What it is for, reworded from the source.
    pub purpose: &'static str,
    /// Caveats (implementation status, header differences); empty when none.
    pub note: &'static str,
    /// Where the number is defined.
    pub source: &'static str,
}

impl Hypercall {
    /// The token a PowerPC guest loads into r11: `vendor << 16 | number`.
    #[must_use]
    pub const fn token(&self) -> HcallToken {
        HcallToken::new(self.vendor, self.number)
    }

    /// Whether the entry is used on `arch`.
    #[must_use]
    pub fn on(&self, arch: Arch) -> bool {
        self.arch.contains(&arch)
    }
}

const KVM_PARA_H: &str =
    "torvalds/linux: include/uapi/linux/kvm_para.h; Documentation/virt/kvm/x86/hypercalls.rst";
const EPAPR_H: &str = "torvalds/linux: arch/powerpc/include/uapi/asm/epapr_hcalls.h";
const FSL_H: &str = "torvalds/linux: arch/powerpc/include/asm/fsl_hcalls.h; nxp-qoriq-yocto-sdk/libos: include/libos/fsl_hcalls.h";
const LIBOS_FSL_H: &str =
    "nxp-qoriq-yocto-sdk/libos: include/libos/fsl_hcalls.h (not in the Linux header)";

const X86: &[Arch] = &[Arch::X86];
const PPC: &[Arch] = &[Arch::Ppc];
const MIPS: &[Arch] = &[Arch::Mips];

const MIPS_NOTE: &str = "number defined in kvm_para.h but not described in hypercalls.rst; \
mainline MIPS KVM (arch/mips/kvm/hypcall.c) answers -KVM_ENOSYS to every hypercall";

const fn kvm(
    name: &'static str,
    number: u16,
    arch: &'static [Arch],
    status: Status,
    purpose: &'static str,
    note: &'static str,
) -> Hypercall {
    Hypercall {
        name,
        vendor: Vendor::Kvm,
        number,
        arch,
        status,
        purpose,
        note,
        source: KVM_PARA_H,
    }
}

/// The generic `KVM_HC_*` hypercalls 1–12 of `include/uapi/linux/kvm_para.h`.
pub static KVM_HCALLS: [Hypercall; 12] = [
    kvm(
        "KVM_HC_VAPIC_POLL_IRQ",
        1,
        X86,
        Status::Active,
        "Make the guest exit so the host can check for pending interrupts on re-entry.",
        "",
    ),
    kvm(
        "KVM_HC_MMU_OP",
        2,
        X86,
        Status::Deprecated,
        "Paravirtual MMU operations: write a PTE, flush the TLB, release a page table.",
        "",
    ),
    kvm(
        "KVM_HC_FEATURES",
        3,
        PPC,
        Status::Active,
        "Tell the guest which hypercalls exist (r4 = KVM_FEATURE_* bits). x86 uses CPUID \
         instead; PowerPC may use this call or the device tree (the ePAPR way).",
        "",
    ),
    kvm(
        "KVM_HC_PPC_MAP_MAGIC_PAGE",
        4,
        PPC,
        Status::Active,
        "Map the page shared between host and guest that holds supervisor register state, \
         so the guest reaches those registers with loads and stores.",
        "r3 = physical address, r4 = effective address | flags (arch/powerpc/kvm/powerpc.c \
         kvmppc_kvm_pv; ppc-pv.rst lists the two the other way round)",
    ),
    kvm(
        "KVM_HC_KICK_CPU",
        5,
        X86,
        Status::Active,
        "Wake a vCPU that halted while waiting for an event such as a paravirtual spinlock \
         (a1 = APIC ID of the vCPU to wake).",
        "",
    ),
    kvm(
        "KVM_HC_MIPS_GET_CLOCK_FREQ",
        6,
        MIPS,
        Status::Active,
        "Ask the host for the guest's timer clock frequency.",
        MIPS_NOTE,
    ),
    kvm(
        "KVM_HC_MIPS_EXIT_VM",
        7,
        MIPS,
        Status::Active,
        "Ask the host to end the virtual machine.",
        MIPS_NOTE,
    ),
    kvm(
        "KVM_HC_MIPS_CONSOLE_OUTPUT",
        8,
        MIPS,
        Status::Active,
        "Write characters to the host's console.",
        MIPS_NOTE,
    ),
    kvm(
        "KVM_HC_CLOCK_PAIRING",
        9,
        X86,
        Status::Active,
        "Synchronise host and guest clocks: the host writes a (sec, nsec, TSC) triple at a \
         guest physical address.",
        "",
    ),
    kvm(
        "KVM_HC_SEND_IPI",
        10,
        X86,
        Status::Active,
        "Send an IPI to many vCPUs at once, given as a bitmap of APIC IDs.",
        "newer kvm_para.h only",
    ),
    kvm(
        "KVM_HC_SCHED_YIELD",
        11,
        X86,
        Status::Active,
        "Yield to a preempted vCPU that is the target of an IPI.",
        "defined in the Linux 6.1 uapi kvm_para.h; absent from older headers",
    ),
    kvm(
        "KVM_HC_MAP_GPA_RANGE",
        12,
        X86,
        Status::Active,
        "Ask the host to map a guest physical range with given attributes (page size, \
         encrypted or not); handled by userspace.",
        "defined in the Linux 6.1 uapi kvm_para.h; absent from older headers",
    ),
];

const fn ev(
    name: &'static str,
    number: u16,
    purpose: &'static str,
    note: &'static str,
) -> Hypercall {
    Hypercall {
        name,
        vendor: Vendor::Epapr,
        number,
        arch: PPC,
        status: Status::Active,
        purpose,
        note,
        source: EPAPR_H,
    }
}

const TOPAZ_UNIMPL: &str = "Topaz: unimplemented";

/// The ePAPR `EV_*` hypercalls 1–16; number 8 is unused (`epapr_hcalls.h`).
pub static EPAPR_HCALLS: [Hypercall; 15] = [
    ev(
        "EV_BYTE_CHANNEL_SEND",
        1,
        "Send up to 16 bytes on a byte channel (r3 handle, r4 count, r5-r8 data).",
        "",
    ),
    ev(
        "EV_BYTE_CHANNEL_RECEIVE",
        2,
        "Receive up to 16 bytes from a byte channel (out r4 count, r5-r8 data).",
        "",
    ),
    ev(
        "EV_BYTE_CHANNEL_POLL",
        3,
        "Report how much a byte channel has buffered to receive and room to send.",
        "",
    ),
    ev(
        "EV_INT_SET_CONFIG",
        4,
        "Configure a virtual interrupt source: sense, priority, destination CPU.",
        "",
    ),
    ev(
        "EV_INT_GET_CONFIG",
        5,
        "Read a virtual interrupt source's configuration.",
        "",
    ),
    ev(
        "EV_INT_SET_MASK",
        6,
        "Mask or unmask a virtual interrupt source.",
        "",
    ),
    ev(
        "EV_INT_GET_MASK",
        7,
        "Read whether a virtual interrupt source is masked.",
        "",
    ),
    ev(
        "EV_INT_IACK",
        9,
        "Acknowledge the highest-priority pending interrupt and return its vector.",
        "",
    ),
    ev(
        "EV_INT_EOI",
        10,
        "Signal the end of an interrupt's handling.",
        "",
    ),
    ev(
        "EV_INT_SEND_IPI",
        11,
        "Send an inter-processor interrupt.",
        TOPAZ_UNIMPL,
    ),
    ev(
        "EV_INT_SET_TASK_PRIORITY",
        12,
        "Set the current CPU's interrupt task priority.",
        TOPAZ_UNIMPL,
    ),
    ev(
        "EV_INT_GET_TASK_PRIORITY",
        13,
        "Read the current CPU's interrupt task priority.",
        TOPAZ_UNIMPL,
    ),
    ev(
        "EV_DOORBELL_SEND",
        14,
        "Ring a doorbell: raise an interrupt in the partition on the other end.",
        "",
    ),
    ev(
        "EV_MSGSND",
        15,
        "Send a processor message (msgsnd) to another vCPU.",
        TOPAZ_UNIMPL,
    ),
    ev(
        "EV_IDLE",
        16,
        "Idle the vCPU until an interrupt arrives (Linux ppc_md.power_save when has-idle).",
        "KVM: blocks the vCPU, answers r3 = 0; Topaz: unimplemented",
    ),
];

const fn fh(name: &'static str, number: u16, purpose: &'static str) -> Hypercall {
    Hypercall {
        name,
        vendor: Vendor::Freescale,
        number,
        arch: PPC,
        status: Status::Active,
        purpose,
        note: "",
        source: FSL_H,
    }
}

/// The Freescale (Topaz) `FH_*` hypercalls 1–20, vendor 2 (`fsl_hcalls.h`).
pub static FSL_HCALLS: [Hypercall; 20] = [
    fh(
        "FH_ERR_GET_INFO",
        1,
        "Read the next entry from an error queue.",
    ),
    fh(
        "FH_PARTITION_GET_DTPROP",
        2,
        "Read a property of another partition's device tree.",
    ),
    fh(
        "FH_PARTITION_SET_DTPROP",
        3,
        "Write a property of another partition's device tree.",
    ),
    fh("FH_PARTITION_RESTART", 4, "Restart a partition."),
    fh(
        "FH_PARTITION_GET_STATUS",
        5,
        "Read a partition's state (stopped, running, starting, ...).",
    ),
    fh(
        "FH_PARTITION_START",
        6,
        "Start a stopped partition at an entry point, optionally loading its images.",
    ),
    fh("FH_PARTITION_STOP", 7, "Stop a partition."),
    fh(
        "FH_PARTITION_MEMCPY",
        8,
        "Copy memory between the guest-physical spaces of two partitions.",
    ),
    fh(
        "FH_DMA_ENABLE",
        9,
        "Enable DMA for a device (by its DMA handle).",
    ),
    fh("FH_DMA_DISABLE", 10, "Disable DMA for a device."),
    fh(
        "FH_SEND_NMI",
        11,
        "Send a non-maskable interrupt to a set of vCPUs.",
    ),
    fh(
        "FH_VMPIC_GET_MSIR",
        12,
        "Read a shared-message-interrupt register through the virtual MPIC.",
    ),
    fh("FH_SYSTEM_RESET", 13, "Reset the whole system."),
    fh(
        "FH_GET_CORE_STATE",
        14,
        "Read a vCPU's state (running, idle or napping).",
    ),
    fh("FH_ENTER_NAP", 15, "Put a vCPU into nap."),
    fh("FH_EXIT_NAP", 16, "Wake a vCPU from nap."),
    fh(
        "FH_CLAIM_DEVICE",
        17,
        "Take ownership of a claimable device (failover between partitions).",
    ),
    fh(
        "FH_PARTITION_STOP_DMA",
        18,
        "Stop DMA from every device of a partition.",
    ),
    Hypercall {
        source: LIBOS_FSL_H,
        ..fh(
            "FH_DMA_ATTR_SET",
            19,
            "Set a device's DMA attributes (PAMU stashing and the like).",
        )
    },
    Hypercall {
        source: LIBOS_FSL_H,
        ..fh("FH_DMA_ATTR_GET", 20, "Read a device's DMA attributes.")
    },
];

/// The registry table for one vendor: KVM, ePAPR and Freescale have tables, the other
/// vendors none (an empty slice).
#[must_use]
pub fn table(vendor: Vendor) -> &'static [Hypercall] {
    match vendor {
        Vendor::Kvm => &KVM_HCALLS,
        Vendor::Epapr => &EPAPR_HCALLS,
        Vendor::Freescale => &FSL_HCALLS,
        _ => &[],
    }
}

/// Every registry entry: KVM, then ePAPR, then Freescale, each in number order.
pub fn all() -> impl Iterator<Item = &'static Hypercall> {
    KVM_HCALLS
        .iter()
        .chain(EPAPR_HCALLS.iter())
        .chain(FSL_HCALLS.iter())
}

/// The entry with exactly this vendor and number.
#[must_use]
pub fn find(vendor: Vendor, number: u16) -> Option<&'static Hypercall> {
    table(vendor).iter().find(|h| h.number == number)
}

/// The entry with this C name (exact, case-insensitive).
#[must_use]
pub fn find_by_name(name: &str) -> Option<&'static Hypercall> {
    all().find(|h| h.name.eq_ignore_ascii_case(name))
}

/// A generic KVM hypercall number (`KVM_HC_*`): the twelve numbers
/// `include/uapi/linux/kvm_para.h` defines are named, any other number is
/// [`KvmHc::Unknown`] with the number kept. Variants are added when the header grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KvmHc {
    /// 1 `KVM_HC_VAPIC_POLL_IRQ` (x86).
    VapicPollIrq,
    /// 2 `KVM_HC_MMU_OP` (x86, deprecated).
    MmuOp,
    /// 3 `KVM_HC_FEATURES` (PowerPC).
    Features,
    /// 4 `KVM_HC_PPC_MAP_MAGIC_PAGE` (PowerPC).
    PpcMapMagicPage,
    /// 5 `KVM_HC_KICK_CPU` (x86).
    KickCpu,
    /// 6 `KVM_HC_MIPS_GET_CLOCK_FREQ` (MIPS).
    MipsGetClockFreq,
    /// 7 `KVM_HC_MIPS_EXIT_VM` (MIPS).
    MipsExitVm,
    /// 8 `KVM_HC_MIPS_CONSOLE_OUTPUT` (MIPS).
    MipsConsoleOutput,
    /// 9 `KVM_HC_CLOCK_PAIRING` (x86).
    ClockPairing,
    /// 10 `KVM_HC_SEND_IPI` (x86).
    SendIpi,
    /// 11 `KVM_HC_SCHED_YIELD` (x86).
    SchedYield,
    /// 12 `KVM_HC_MAP_GPA_RANGE` (x86).
    MapGpaRange,
    /// Any other number, kept.
    Unknown(u64),
}

impl KvmHc {
    /// The hypercall for a number.
    #[must_use]
    pub const fn from_number(n: u64) -> KvmHc {
        match n {
            1 => KvmHc::VapicPollIrq,
            2 => KvmHc::MmuOp,
            3 => KvmHc::Features,
            4 => KvmHc::PpcMapMagicPage,
            5 => KvmHc::KickCpu,
            6 => KvmHc::MipsGetClockFreq,
            7 => KvmHc::MipsExitVm,
            8 => KvmHc::MipsConsoleOutput,
            9 => KvmHc::ClockPairing,
            10 => KvmHc::SendIpi,
            11 => KvmHc::SchedYield,
            12 => KvmHc::MapGpaRange,
            n => KvmHc::Unknown(n),
        }
    }

    /// The number.
    #[must_use]
    pub const fn number(self) -> u64 {
        match self {
            KvmHc::VapicPollIrq => 1,
            KvmHc::MmuOp => 2,
            KvmHc::Features => 3,
            KvmHc::PpcMapMagicPage => 4,
            KvmHc::KickCpu => 5,
            KvmHc::MipsGetClockFreq => 6,
            KvmHc::MipsExitVm => 7,
            KvmHc::MipsConsoleOutput => 8,
            KvmHc::ClockPairing => 9,
            KvmHc::SendIpi => 10,
            KvmHc::SchedYield => 11,
            KvmHc::MapGpaRange => 12,
            KvmHc::Unknown(n) => n,
        }
    }

    /// The registry entry (`None` for [`KvmHc::Unknown`]).
    #[must_use]
    pub fn info(self) -> Option<&'static Hypercall> {
        match self {
            KvmHc::Unknown(_) => None,
            // Known numbers are 1..=12, so the index is 0..=11.
            known => KVM_HCALLS.get(usize::try_from(known.number()).ok()?.checked_sub(1)?),
        }
    }
}

/// Which family a return code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum CodeFamily {
    /// ePAPR `EV_*` status codes, returned in r3 by PowerPC hypercalls (KVM included).
    Epapr,
    /// Generic `KVM_E*` codes (x86, MIPS: returned negated, e.g. `-KVM_ENOSYS`).
    Kvm,
}

impl CodeFamily {
    /// `epapr` or `kvm`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            CodeFamily::Epapr => "epapr",
            CodeFamily::Kvm => "kvm",
        }
    }
}

/// A hypercall return code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ReturnCode {
    /// The C name (`EV_UNIMPLEMENTED`).
    pub name: &'static str,
    /// The value.
    pub value: u32,
    /// `EV_*` or `KVM_E*`.
    pub family: CodeFamily,
    /// What it means.
    pub meaning: &'static str,
}

const fn code(
    name: &'static str,
    value: u32,
    family: CodeFamily,
    meaning: &'static str,
) -> ReturnCode {
    ReturnCode {
        name,
        value,
        family,
        meaning,
    }
}

/// `EV_SUCCESS` = 0.
pub const EV_SUCCESS: u32 = 0;
/// `EV_UNIMPLEMENTED` = 12.
pub const EV_UNIMPLEMENTED: u32 = 12;

/// ePAPR return codes `EV_*` 0–13 (`epapr_hcalls.h`,
/// `libos: include/libos/hcall-errors.h`).
pub static EPAPR_CODES: [ReturnCode; 14] = [
    code("EV_SUCCESS", 0, CodeFamily::Epapr, "success"),
    code("EV_EPERM", 1, CodeFamily::Epapr, "operation not allowed"),
    code("EV_ENOENT", 2, CodeFamily::Epapr, "entry not found"),
    code("EV_EIO", 3, CodeFamily::Epapr, "I/O error"),
    code(
        "EV_EAGAIN",
        4,
        CodeFamily::Epapr,
        "resources exhausted, try again",
    ),
    code("EV_ENOMEM", 5, CodeFamily::Epapr, "out of memory"),
    code("EV_EFAULT", 6, CodeFamily::Epapr, "bad guest address"),
    code("EV_ENODEV", 7, CodeFamily::Epapr, "no such device"),
    code(
        "EV_EINVAL",
        8,
        CodeFamily::Epapr,
        "argument invalid or out of range",
    ),
    code("EV_INTERNAL", 9, CodeFamily::Epapr, "internal error"),
    code("EV_CONFIG", 10, CodeFamily::Epapr, "configuration error"),
    code(
        "EV_INVALID_STATE",
        11,
        CodeFamily::Epapr,
        "object in an invalid state",
    ),
    code(
        "EV_UNIMPLEMENTED",
        12,
        CodeFamily::Epapr,
        "hypercall not implemented",
    ),
    code(
        "EV_BUFFER_OVERFLOW",
        13,
        CodeFamily::Epapr,
        "caller's buffer too small",
    ),
];

/// Generic KVM return codes `KVM_E*` (`include/uapi/linux/kvm_para.h`).
/// PowerPC KVM never returns these; it uses [`EPAPR_CODES`].
pub static KVM_CODES: [ReturnCode; 6] = [
    code(
        "KVM_EPERM",
        1,
        CodeFamily::Kvm,
        "operation not permitted (= EPERM)",
    ),
    code(
        "KVM_E2BIG",
        7,
        CodeFamily::Kvm,
        "argument list too long (= E2BIG)",
    ),
    code("KVM_EFAULT", 14, CodeFamily::Kvm, "bad address (= EFAULT)"),
    code(
        "KVM_EINVAL",
        22,
        CodeFamily::Kvm,
        "invalid argument (= EINVAL; newer header only)",
    ),
    code(
        "KVM_EOPNOTSUPP",
        95,
        CodeFamily::Kvm,
        "operation not supported",
    ),
    code("KVM_ENOSYS", 1000, CodeFamily::Kvm, "no such hypercall"),
];

/// Every return code: ePAPR first, then KVM.
pub fn all_codes() -> impl Iterator<Item = &'static ReturnCode> {
    EPAPR_CODES.iter().chain(KVM_CODES.iter())
}

/// The name of an r3 status from a PowerPC hypercall (`EV_*`), or `None`.
#[must_use]
pub fn epapr_code_name(r3: u64) -> Option<&'static str> {
    EPAPR_CODES
        .iter()
        .find(|c| u64::from(c.value) == r3)
        .map(|c| c.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvm_numbers_match_kvm_para_h() {
        // include/uapi/linux/kvm_para.h, Linux 6.1.
        let expected = [
            ("KVM_HC_VAPIC_POLL_IRQ", 1, Arch::X86, Status::Active),
            ("KVM_HC_MMU_OP", 2, Arch::X86, Status::Deprecated),
            ("KVM_HC_FEATURES", 3, Arch::Ppc, Status::Active),
            ("KVM_HC_PPC_MAP_MAGIC_PAGE", 4, Arch::Ppc, Status::Active),
            ("KVM_HC_KICK_CPU", 5, Arch::X86, Status::Active),
            ("KVM_HC_MIPS_GET_CLOCK_FREQ", 6, Arch::Mips, Status::Active),
            ("KVM_HC_MIPS_EXIT_VM", 7, Arch::Mips, Status::Active),
            ("KVM_HC_MIPS_CONSOLE_OUTPUT", 8, Arch::Mips, Status::Active),
            ("KVM_HC_CLOCK_PAIRING", 9, Arch::X86, Status::Active),
            ("KVM_HC_SEND_IPI", 10, Arch::X86, Status::Active),
            ("KVM_HC_SCHED_YIELD", 11, Arch::X86, Status::Active),
            ("KVM_HC_MAP_GPA_RANGE", 12, Arch::X86, Status::Active),
        ];
        assert_eq!(KVM_HCALLS.len(), expected.len());
        for (h, (name, nr, arch, status)) in KVM_HCALLS.iter().zip(expected) {
            assert_eq!(
                (h.name, h.number, h.arch, h.status),
                (name, nr, &[arch][..], status)
            );
            assert_eq!(h.vendor, Vendor::Kvm);
            assert_eq!(KvmHc::from_number(u64::from(nr)).info(), Some(h));
            assert_eq!(KvmHc::from_number(u64::from(nr)).number(), u64::from(nr));
            assert!(!h.purpose.is_empty());
        }
        // Anything else is Unknown(n).
        for n in [0u64, 13, 42, u64::MAX] {
            assert_eq!(KvmHc::from_number(n), KvmHc::Unknown(n));
            assert_eq!(KvmHc::Unknown(n).info(), None);
        }
        assert_eq!(KvmHc::Features, KvmHc::from_number(3));
        assert_eq!(KvmHc::PpcMapMagicPage.number(), 4);
    }

    #[test]
    fn epapr_numbers_match_epapr_hcalls_h() {
        // epapr_hcalls.h.
        let expected = [
            ("EV_BYTE_CHANNEL_SEND", 1),
            ("EV_BYTE_CHANNEL_RECEIVE", 2),
            ("EV_BYTE_CHANNEL_POLL", 3),
            ("EV_INT_SET_CONFIG", 4),
            ("EV_INT_GET_CONFIG", 5),
            ("EV_INT_SET_MASK", 6),
            ("EV_INT_GET_MASK", 7),
            ("EV_INT_IACK", 9),
            ("EV_INT_EOI", 10),
            ("EV_INT_SEND_IPI", 11),
            ("EV_INT_SET_TASK_PRIORITY", 12),
            ("EV_INT_GET_TASK_PRIORITY", 13),
            ("EV_DOORBELL_SEND", 14),
            ("EV_MSGSND", 15),
            ("EV_IDLE", 16),
        ];
        let got: Vec<_> = EPAPR_HCALLS.iter().map(|h| (h.name, h.number)).collect();
        assert_eq!(got, expected);
        assert_eq!(find(Vendor::Epapr, 8), None, "8 is unused");
        assert!(EPAPR_HCALLS.iter().all(|h| h.arch == [Arch::Ppc]));
        assert_eq!(
            find(Vendor::Epapr, 16).map(|h| h.token().raw()),
            Some(0x0001_0010)
        );
    }

    #[test]
    fn fsl_numbers_match_fsl_hcalls_h() {
        // fsl_hcalls.h (Linux and libos).
        let expected = [
            "FH_ERR_GET_INFO",
            "FH_PARTITION_GET_DTPROP",
            "FH_PARTITION_SET_DTPROP",
            "FH_PARTITION_RESTART",
            "FH_PARTITION_GET_STATUS",
            "FH_PARTITION_START",
            "FH_PARTITION_STOP",
            "FH_PARTITION_MEMCPY",
            "FH_DMA_ENABLE",
            "FH_DMA_DISABLE",
            "FH_SEND_NMI",
            "FH_VMPIC_GET_MSIR",
            "FH_SYSTEM_RESET",
            "FH_GET_CORE_STATE",
            "FH_ENTER_NAP",
            "FH_EXIT_NAP",
            "FH_CLAIM_DEVICE",
            "FH_PARTITION_STOP_DMA",
            "FH_DMA_ATTR_SET",
            "FH_DMA_ATTR_GET",
        ];
        for (i, (h, name)) in FSL_HCALLS.iter().zip(expected).enumerate() {
            assert_eq!(h.name, name);
            assert_eq!(usize::from(h.number), i + 1);
            assert_eq!(h.vendor, Vendor::Freescale);
        }
        assert_eq!(FSL_HCALLS.len(), 20);
        assert_eq!(
            find(Vendor::Freescale, 1).map(|h| h.token().raw()),
            Some(0x0002_0001)
        );
        // 19 and 20 are libos-only.
        assert!(FSL_HCALLS[18].source.contains("not in the Linux header"));
    }

    #[test]
    fn return_codes_match_reference() {
        // epapr_hcalls.h: EV_* 0..=13 in order.
        for (i, c) in EPAPR_CODES.iter().enumerate() {
            assert_eq!(c.value as usize, i);
        }
        assert_eq!(EPAPR_CODES[12].name, "EV_UNIMPLEMENTED");
        assert_eq!(EPAPR_CODES[13].name, "EV_BUFFER_OVERFLOW");
        assert_eq!(epapr_code_name(12), Some("EV_UNIMPLEMENTED"));
        assert_eq!(epapr_code_name(u64::MAX), None);
        // kvm_para.h: KVM_E* values.
        let kvm: Vec<_> = KVM_CODES.iter().map(|c| (c.name, c.value)).collect();
        assert_eq!(
            kvm,
            [
                ("KVM_EPERM", 1),
                ("KVM_E2BIG", 7),
                ("KVM_EFAULT", 14),
                ("KVM_EINVAL", 22),
                ("KVM_EOPNOTSUPP", 95),
                ("KVM_ENOSYS", 1000),
            ]
        );
        assert_eq!(all_codes().count(), 20);
    }

    #[test]
    fn names_are_unique_and_findable() {
        let names: Vec<_> = all().map(|h| h.name).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(n), "{n} twice");
            assert_eq!(find_by_name(n).map(|h| h.name), Some(*n));
        }
        assert_eq!(all().count(), 12 + 15 + 20);
        assert_eq!(find_by_name("kvm_hc_features").map(|h| h.number), Some(3));
        assert_eq!(table(Vendor::Ibm), &[]);
    }
}
