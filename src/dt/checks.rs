//! Checks on a tree's `/hypervisor` setup, and the verdict: what a real Linux guest
//! would do with this tree.
//!
//! The consumers modelled, all in `torvalds/linux`:
//! - KVM detection: `/hypervisor` (by path) whose `compatible` contains `"linux,kvm"`
//!   (`arch/powerpc/kernel/firmware.c (check_kvm_guest)`).
//! - ePAPR hypercalls: `epapr_paravirt_early_init` walks the whole flattened tree with
//!   `of_scan_flat_dt(early_init_dt_scan_epapr, NULL)`, so the **first node anywhere**
//!   (depth first, blob order) that has `hcall-instructions` wins, not necessarily
//!   `/hypervisor`. A length that is not a multiple of 4 or over 16 makes the callback
//!   return -1, which ends the scan with paravirtualization off; otherwise the words are
//!   patched into the stub, and `has-idle` on that same node enables `EV_IDLE`
//!   (`arch/powerpc/kernel/epapr_paravirt.c`). `/hypervisor` is where every producer
//!   puts the property, so the property on any other node is reported.
//! - The magic page: `kvm_guest_init` (`arch/powerpc/kernel/kvm.c`) runs only when KVM
//!   was detected, then asks the host for its features with `KVM_HC_FEATURES` through
//!   the patched stub. The host sets the magic-page bit only on Book3S PR and e500v2
//!   (`arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`), which are the hosts whose
//!   `KVM_PPC_GET_PVINFO` answer is the `kvm-pr` sequence (`kvm_vm_ioctl_get_pvinfo`).
//!
//! - `has-idle`: read by `early_init_dt_scan_epapr` only in kernels built without
//!   `CONFIG_64BIT` or with `CONFIG_PPC_BOOK3E_64`; a 64-bit Book3S kernel (pseries,
//!   powernv) ignores it ([`IdleReason::Book3s64`]).
//! - `compatible`: Linux matches entries with `of_compat_cmp` (`strcasecmp`) while
//!   stepping through the value with `of_prop_next_string`, which reads each entry up
//!   to its NUL even past the value's end; in a blob the value is followed by zero
//!   padding or the next token (whose first byte is 0), so an unterminated last entry
//!   still matches.
//!
//! Every check is one function with a stable id ([`CheckId`]); they run over what a
//! single walk of the tree kept (`/hypervisor`'s properties, the node Linux takes its
//! words from, other nodes carrying the words), not over a copy of every node.
//! [`check_fdt`] adds dtc's own error-level checks ([`crate::fdt::lint`], under dtc's
//! check names) and, per host kind, what the words would do there
//! ([`crate::dt::host::check`]); [`check_fdt_for`] judges one chosen host.

use crate::dt::host::{Host, HostProblem};
use crate::dt::hypervisor::{
    Flavour, Flavours, HcallInstructions, HypervisorNode, NODE_PATH, prop, string_list,
};
use crate::dt::machine::Cpu;
use crate::fdt::lint::DtcCheck;
use crate::insn::seq::KnownSequence;
use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Severity {
    /// Worth knowing; nothing breaks.
    Info,
    /// A guest behaves differently from what the tree seems to say.
    Warning,
    /// A guest rejects the setup.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// The checks, each with a stable id (`CheckId::id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckId {
    /// `no-hypervisor-node`: no `/hypervisor`.
    NoHypervisorNode,
    /// `no-hcall-instructions`: `/hypervisor` without `hcall-instructions`.
    NoHcallInstructions,
    /// `hcall-bad-length`: a length Linux rejects.
    HcallBadLength,
    /// `hcall-empty`: zero-length `hcall-instructions` (Linux enables paravirtualization
    /// but patches nothing).
    HcallEmpty,
    /// `no-linux-kvm`: `/hypervisor` without `"linux,kvm"`.
    NoLinuxKvm,
    /// `hcall-elsewhere`: `hcall-instructions` on a node other than `/hypervisor`, which
    /// newer Linux may take its words from.
    HcallElsewhere,
    /// `legacy-property-name`: `hypercall-instructions`, the documented spelling no code
    /// reads.
    LegacyPropertyName,
    /// `has-idle-value`: `has-idle` with a value (Linux tests only its presence).
    HasIdleValue,
    /// `has-idle-ignored`: `has-idle` on `/hypervisor`, but Linux takes its words (and
    /// so its `has-idle`) from no node or another node.
    HasIdleIgnored,
    /// `unknown-sequence`: words that are no named sequence.
    UnknownSequence,
    /// `always-fail-sequence`: QEMU's fallback: every hypercall returns -1.
    AlwaysFailSequence,
    /// `bad-compatible`: `compatible` is not a string list.
    BadCompatible,
    /// `bad-property-value`: a Topaz property with the wrong size or type.
    BadPropertyValue,
    /// `duplicate-hypervisor`: more than one root child named `hypervisor`; Linux uses
    /// the first.
    DuplicateHypervisor,
    /// `wrong-for-host`: on the host asked for ([`check_fdt_for`]) the words would
    /// crash or stall the guest ([`crate::dt::host::check`]).
    WrongForHost,
    /// `no-right-host`: no host kind runs the words safely: each one that can run the
    /// guest's CPU would crash or stall it.
    NoRightHost,
    /// One of dtc's error-level checks, under dtc's own name (`duplicate_node_names`,
    /// ...): dtc refuses the tree without `-f` ([`crate::fdt::lint`]).
    Dtc(DtcCheck),
}

impl CheckId {
    /// Every check.
    pub const ALL: &'static [CheckId] = &[
        CheckId::NoHypervisorNode,
        CheckId::NoHcallInstructions,
        CheckId::HcallBadLength,
        CheckId::HcallEmpty,
        CheckId::NoLinuxKvm,
        CheckId::HcallElsewhere,
        CheckId::LegacyPropertyName,
        CheckId::HasIdleValue,
        CheckId::HasIdleIgnored,
        CheckId::UnknownSequence,
        CheckId::AlwaysFailSequence,
        CheckId::BadCompatible,
        CheckId::BadPropertyValue,
        CheckId::DuplicateHypervisor,
        CheckId::WrongForHost,
        CheckId::NoRightHost,
        CheckId::Dtc(DtcCheck::DuplicateNodeNames),
        CheckId::Dtc(DtcCheck::DuplicatePropertyNames),
        CheckId::Dtc(DtcCheck::NodeNameChars),
        CheckId::Dtc(DtcCheck::NodeNameFormat),
        CheckId::Dtc(DtcCheck::PropertyNameChars),
        CheckId::Dtc(DtcCheck::NameIsString),
        CheckId::Dtc(DtcCheck::NameProperties),
        CheckId::Dtc(DtcCheck::ExplicitPhandles),
    ];

    /// The stable id printed in reports.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            CheckId::NoHypervisorNode => "no-hypervisor-node",
            CheckId::NoHcallInstructions => "no-hcall-instructions",
            CheckId::HcallBadLength => "hcall-bad-length",
            CheckId::HcallEmpty => "hcall-empty",
            CheckId::NoLinuxKvm => "no-linux-kvm",
            CheckId::HcallElsewhere => "hcall-elsewhere",
            CheckId::LegacyPropertyName => "legacy-property-name",
            CheckId::HasIdleValue => "has-idle-value",
            CheckId::HasIdleIgnored => "has-idle-ignored",
            CheckId::UnknownSequence => "unknown-sequence",
            CheckId::AlwaysFailSequence => "always-fail-sequence",
            CheckId::BadCompatible => "bad-compatible",
            CheckId::BadPropertyValue => "bad-property-value",
            CheckId::DuplicateHypervisor => "duplicate-hypervisor",
            CheckId::WrongForHost => "wrong-for-host",
            CheckId::NoRightHost => "no-right-host",
            CheckId::Dtc(c) => c.name(),
        }
    }

    /// The function that runs this check.
    fn check(self) -> Check {
        match self {
            CheckId::HcallElsewhere => hcall_elsewhere,
            CheckId::LegacyPropertyName => legacy_property_name,
            CheckId::NoHypervisorNode => no_hypervisor_node,
            CheckId::BadCompatible => bad_compatible,
            CheckId::NoLinuxKvm => no_linux_kvm,
            CheckId::NoHcallInstructions => no_hcall_instructions,
            CheckId::HcallBadLength => hcall_bad_length,
            CheckId::HcallEmpty => hcall_empty,
            CheckId::AlwaysFailSequence => always_fail_sequence,
            CheckId::UnknownSequence => unknown_sequence,
            CheckId::HasIdleValue => has_idle_value,
            CheckId::HasIdleIgnored => has_idle_ignored,
            CheckId::BadPropertyValue => bad_property_value,
            CheckId::DuplicateHypervisor => duplicate_hypervisor,
            CheckId::WrongForHost => wrong_for_host,
            CheckId::NoRightHost => no_right_host,
            CheckId::Dtc(_) => dtc_violations,
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CheckId {
    /// The stable id.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Finding {
    /// Stable id.
    pub id: CheckId,
    /// How bad.
    pub severity: Severity,
    /// What a real consumer does, in one or two sentences.
    pub message: String,
    /// The node concerned, when there is one.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub path: Option<String>,
}

impl Finding {
    /// A finding of check `id` (for tools that add their own findings to a report).
    #[must_use]
    pub fn new(
        id: CheckId,
        severity: Severity,
        message: impl Into<String>,
        path: Option<String>,
    ) -> Self {
        Finding {
            id,
            severity,
            message: message.into(),
            path,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.id, self.message)
    }
}

/// Whether Linux detects KVM (`check_kvm_guest`), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KvmReason {
    /// `/hypervisor`'s `compatible` has `"linux,kvm"`: detected.
    Compatible,
    /// `/hypervisor` exists without `"linux,kvm"` (or its `compatible` is unreadable).
    NotCompatible,
    /// There is no `/hypervisor`.
    NoNode,
}

impl KvmReason {
    /// True when Linux detects KVM.
    #[must_use]
    pub fn detected(&self) -> bool {
        matches!(self, KvmReason::Compatible)
    }
}

impl fmt::Display for KvmReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvmReason::Compatible => {
                "/hypervisor is compatible with \"linux,kvm\" (check_kvm_guest)"
            }
            KvmReason::NotCompatible => "/hypervisor is not compatible with \"linux,kvm\"",
            KvmReason::NoNode => "there is no /hypervisor node",
        })
    }
}

/// Whether Linux enables ePAPR hypercalls (`epapr_paravirt_enabled`), and from which
/// node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HypercallsReason {
    /// No node has `hcall-instructions`: the stub is never patched.
    NoInstructions,
    /// The first node with `hcall-instructions` has a length Linux rejects.
    BadLength {
        /// That node.
        path: String,
        /// The value's length in bytes.
        len: usize,
    },
    /// The first node's `hcall-instructions` is empty: enabled, but every hypercall
    /// returns -1.
    Empty {
        /// That node.
        path: String,
    },
    /// The stub is patched with the words of this node.
    Patched {
        /// That node.
        path: String,
    },
}

impl HypercallsReason {
    /// True when `epapr_paravirt_enabled` becomes true.
    #[must_use]
    pub fn enabled(&self) -> bool {
        matches!(
            self,
            HypercallsReason::Empty { .. } | HypercallsReason::Patched { .. }
        )
    }
}

impl fmt::Display for HypercallsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HypercallsReason::NoInstructions => f.write_str(
                "no node has hcall-instructions, so the hypercall stub is never patched",
            ),
            HypercallsReason::BadLength { path, len } => write!(
                f,
                "hcall-instructions on {path} is {len} bytes: early_init_dt_scan_epapr \
                 rejects it and leaves paravirtualization off"
            ),
            HypercallsReason::Empty { path } => write!(
                f,
                "enabled from {path}, but with no words: every hypercall returns -1"
            ),
            HypercallsReason::Patched { path } => {
                write!(f, "the stub is patched with the words of {path}")
            }
        }
    }
}

/// Whether the guest maps the magic page (`kvm_guest_init`), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MagicPageReason {
    /// KVM is not detected, so `kvm_guest_init` does nothing.
    NoKvm,
    /// ePAPR hypercalls are off, so `KVM_HC_FEATURES` cannot be asked.
    NoHypercalls,
    /// The `kvm-pr` sequence reaches a host that offers the page: mapped.
    KvmPr,
    /// A sequence that makes every hypercall return -1.
    AlwaysFails(KnownSequence),
    /// An `sc 1` sequence, which reaches BookE-HV KVM: no magic-page bit.
    NoMagicPageBit(KnownSequence),
    /// Empty `hcall-instructions`: every hypercall returns -1.
    NoWords,
    /// Words that are no known sequence: the host is unknown.
    UnknownWords,
}

impl MagicPageReason {
    /// True when the guest maps the magic page.
    #[must_use]
    pub fn mapped(&self) -> bool {
        matches!(self, MagicPageReason::KvmPr)
    }
}

impl fmt::Display for MagicPageReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MagicPageReason::NoKvm => f.write_str("kvm_guest_init needs KVM to be detected first"),
            MagicPageReason::NoHypercalls => {
                f.write_str("kvm_guest_init needs ePAPR hypercalls to be enabled first")
            }
            MagicPageReason::KvmPr => f.write_str(
                "the kvm-pr sequence reaches Book3S PR or e500v2 KVM, whose KVM_HC_FEATURES \
                 answer has the magic-page bit",
            ),
            MagicPageReason::AlwaysFails(s) => write!(
                f,
                "the {} sequence makes KVM_HC_FEATURES return -1: no features",
                s.name()
            ),
            MagicPageReason::NoMagicPageBit(s) => write!(
                f,
                "the {} sequence (sc 1) reaches BookE-HV KVM, whose KVM_HC_FEATURES answer \
                 has no magic-page bit",
                s.name()
            ),
            MagicPageReason::NoWords => {
                f.write_str("with no words every hypercall returns -1: no features")
            }
            MagicPageReason::UnknownWords => f.write_str(
                "the words are no known sequence; whether the host answers KVM_HC_FEATURES \
                 with the magic-page bit is unknown",
            ),
        }
    }
}

/// Whether the idle loop calls `EV_IDLE` (`ppc_md.power_save = epapr_ev_idle`), and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdleReason {
    /// ePAPR hypercalls are off, so `has-idle` is never read.
    NoHypercalls,
    /// The node Linux takes its words from has no `has-idle`.
    NoHasIdle {
        /// That node.
        path: String,
    },
    /// `has-idle` next to the words, but the tree's CPUs are 64-bit Book3S (pseries,
    /// powernv), whose kernels never read it: `early_init_dt_scan_epapr` tests
    /// `has-idle` only under `#if !defined(CONFIG_64BIT) ||
    /// defined(CONFIG_PPC_BOOK3E_64)` (`torvalds/linux:
    /// arch/powerpc/kernel/epapr_paravirt.c`).
    Book3s64 {
        /// The CPU node that says so.
        cpu: String,
    },
    /// `has-idle` next to the words: the idle loop calls `EV_IDLE`.
    Enabled {
        /// That node.
        path: String,
    },
}

impl IdleReason {
    /// True when the idle loop calls `EV_IDLE`.
    #[must_use]
    pub fn enabled(&self) -> bool {
        matches!(self, IdleReason::Enabled { .. })
    }
}

impl fmt::Display for IdleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdleReason::NoHypercalls => {
                f.write_str("ePAPR hypercalls are off, so has-idle is never read")
            }
            IdleReason::NoHasIdle { path } => write!(f, "{path} has no has-idle"),
            IdleReason::Book3s64 { cpu } => write!(
                f,
                "has-idle is ignored by 64-bit Book3S kernels ({cpu}): \
                 early_init_dt_scan_epapr reads it only in 32-bit and 64-bit BookE builds"
            ),
            IdleReason::Enabled { path } => write!(
                f,
                "has-idle on {path}: the idle loop calls EV_IDLE (epapr_ev_idle)"
            ),
        }
    }
}

/// What a current Linux guest does with the tree. Each part is a reason whose
/// `Display` is the sentence `ppcpv inspect` prints and which says yes or no itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinuxVerdict {
    /// KVM detection (`check_kvm_guest`).
    pub kvm: KvmReason,
    /// ePAPR hypercalls (`epapr_paravirt_enabled`).
    pub hypercalls: HypercallsReason,
    /// The magic page (`kvm_guest_init`, on the host the sequence implies).
    pub magic: MagicPageReason,
    /// `ppc_md.power_save` becomes `epapr_ev_idle` (32-bit and Book3E-64 kernels):
    /// `idle.enabled()`.
    pub ev_idle: bool,
    /// Why `ev_idle` is what it is.
    pub idle: IdleReason,
}

impl LinuxVerdict {
    /// `check_kvm_guest()` is true.
    #[must_use]
    pub fn detects_kvm(&self) -> bool {
        self.kvm.detected()
    }

    /// `epapr_paravirt_enabled` becomes true (the stub is patched).
    #[must_use]
    pub fn epapr_hypercalls(&self) -> bool {
        self.hypercalls.enabled()
    }

    /// The guest maps the magic page.
    #[must_use]
    pub fn magic_page(&self) -> bool {
        self.magic.mapped()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for LinuxVerdict {
    /// `{detects_kvm, detects_kvm_why, epapr_hypercalls, epapr_hypercalls_why,
    /// magic_page, magic_page_why, ev_idle, ev_idle_why}`: each answer and its reason as
    /// text.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("LinuxVerdict", 8)?;
        st.serialize_field("detects_kvm", &self.detects_kvm())?;
        st.serialize_field("detects_kvm_why", &format_args!("{}", self.kvm))?;
        st.serialize_field("epapr_hypercalls", &self.epapr_hypercalls())?;
        st.serialize_field("epapr_hypercalls_why", &format_args!("{}", self.hypercalls))?;
        st.serialize_field("magic_page", &self.magic_page())?;
        st.serialize_field("magic_page_why", &format_args!("{}", self.magic))?;
        st.serialize_field("ev_idle", &self.ev_idle)?;
        st.serialize_field("ev_idle_why", &format_args!("{}", self.idle))?;
        st.end()
    }
}

/// The `/hypervisor` summary of a tree: the node's contents, Linux's verdict, findings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct HypervisorReport {
    /// Path of the node described (`/hypervisor`), or null when the tree has none.
    pub path: Option<String>,
    /// Its `compatible` entries.
    pub compatible: Vec<String>,
    /// Its instruction words (`hcall-instructions`, else the legacy spelling), or null
    /// when absent, empty or of a bad length (the findings say which).
    pub hcall_instructions: Option<HcallInstructions>,
    /// The named sequence the words form, or null.
    #[cfg_attr(feature = "serde", serde(serialize_with = "sequence_name"))]
    pub sequence: Option<KnownSequence>,
    /// `has-idle` present.
    pub has_idle: bool,
    /// The declared flavours, or null without a node.
    pub flavour: Option<Flavours>,
    /// What Linux does.
    pub linux: LinuxVerdict,
    /// The guest CPU the host verdicts were judged for, when the tree says
    /// ([`Cpu::from_fdt`]); null when unknown (instruction widths are then not judged).
    #[cfg_attr(feature = "serde", serde(serialize_with = "cpu_name"))]
    pub cpu: Option<Cpu>,
    /// The host asked for ([`check_fdt_for`]), or null.
    pub host: Option<Host>,
    /// For every host kind ([`Host::ALL`]), what the words Linux patches would do there.
    pub hosts: Vec<HostVerdict>,
    /// Everything worth saying, most severe first.
    pub findings: Vec<Finding>,
}

/// What the words a Linux guest patches into its hypercall stub (with the `has-idle`
/// it honours) would do on one host kind: nothing wrong, or why the guest would crash
/// or stall there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostVerdict {
    /// The host.
    pub host: Host,
    /// Empty when the tree is right for the host.
    pub problems: Vec<HostProblem>,
}

impl HostVerdict {
    /// True when nothing is wrong on this host.
    #[must_use]
    pub fn is_right(&self) -> bool {
        self.problems.is_empty()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for HostVerdict {
    /// `{host, right, problems}`, the problems as text.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let problems: Vec<String> = self.problems.iter().map(|p| format!("{p}")).collect();
        let mut st = s.serialize_struct("HostVerdict", 3)?;
        st.serialize_field("host", &self.host)?;
        st.serialize_field("right", &self.is_right())?;
        st.serialize_field("problems", &problems)?;
        st.end()
    }
}

/// `Option<Cpu>` as its name or null.
#[cfg(feature = "serde")]
fn cpu_name<S: serde::Serializer>(cpu: &Option<Cpu>, s: S) -> Result<S::Ok, S::Error> {
    match cpu {
        Some(c) => s.serialize_str(c.name()),
        None => s.serialize_none(),
    }
}

/// `Option<KnownSequence>` as its name or null.
#[cfg(feature = "serde")]
fn sequence_name<S: serde::Serializer>(
    seq: &Option<KnownSequence>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match seq {
        Some(k) => s.serialize_str(k.name()),
        None => s.serialize_none(),
    }
}

impl HypervisorReport {
    /// The most severe finding's severity, if any.
    #[must_use]
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// True when a finding has this id.
    #[must_use]
    pub fn has(&self, id: CheckId) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }

    /// The hosts the tree is right for.
    pub fn right_hosts(&self) -> impl Iterator<Item = Host> + '_ {
        self.hosts.iter().filter(|v| v.is_right()).map(|v| v.host)
    }
}

impl fmt::Display for HypervisorReport {
    /// A short text summary: the node, Linux's verdict, then one line per finding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        match &self.path {
            None => writeln!(f, "hypervisor: none")?,
            Some(p) => {
                write!(f, "hypervisor: {p}")?;
                if let Some(fl) = self.flavour {
                    write!(f, " ({fl})")?;
                }
                writeln!(f)?;
                f.write_str("  compatible: ")?;
                for (i, c) in self.compatible.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c:?}")?;
                }
                writeln!(f)?;
                match &self.hcall_instructions {
                    Some(h) => writeln!(
                        f,
                        "  hcall-instructions: {h} ({})",
                        self.sequence
                            .map_or("unknown sequence", KnownSequence::name)
                    )?,
                    None => writeln!(f, "  hcall-instructions: none usable")?,
                }
                writeln!(f, "  has-idle: {}", yes(self.has_idle))?;
            }
        }
        let l = &self.linux;
        writeln!(f, "Linux guest:")?;
        writeln!(f, "  detects KVM: {} ({})", yes(l.detects_kvm()), l.kvm)?;
        writeln!(
            f,
            "  ePAPR hypercalls: {} ({})",
            yes(l.epapr_hypercalls()),
            l.hypercalls
        )?;
        writeln!(f, "  magic page: {} ({})", yes(l.magic_page()), l.magic)?;
        writeln!(f, "  EV_IDLE: {} ({})", yes(l.ev_idle), l.idle)?;
        f.write_str("right for:")?;
        let mut any = false;
        for h in self.right_hosts() {
            write!(f, " {h}")?;
            any = true;
        }
        writeln!(f, "{}", if any { "" } else { " no host" })?;
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// One node given by value rather than read from a blob: its path and its properties
/// in blob order (for [`check_nodes`]).
#[derive(Debug, Clone)]
pub struct NodeProps<'a> {
    /// Full path (`/`, `/hypervisor`, ...).
    pub path: String,
    /// `(name, value)` pairs.
    pub props: Vec<(&'a str, &'a [u8])>,
}

/// Checks a parsed tree, walking its nodes once (depth first, blob order): the
/// `/hypervisor` checks, dtc's error-level checks ([`crate::fdt::lint::dtc_errors`],
/// one finding per violation under dtc's check name) and the verdict for every host
/// kind, judged for the CPU the tree names ([`Cpu::from_fdt`]). When no host kind runs
/// the words safely, that is an error finding (`no-right-host`).
///
/// ```
/// use ppcpv::dt::checks::check_fdt;
/// use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
/// use ppcpv::fdt::{Fdt, writer::Padding};
/// use ppcpv::insn::KnownSequence;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let blob = HypervisorNode::preset(Flavour::Kvm).to_minimal_dtb(&Padding::NONE)?;
/// let report = check_fdt(&Fdt::new(&blob)?);
/// assert_eq!(report.sequence, Some(KnownSequence::KvmPr));
/// assert!(report.linux.detects_kvm() && report.linux.magic_page());
/// assert!(report.findings.is_empty());
/// # Ok(())
/// # }
/// ```
#[must_use]
pub fn check_fdt(fdt: &crate::fdt::Fdt<'_>) -> HypervisorReport {
    check_fdt_for(fdt, None)
}

/// [`check_fdt`] for a guest that will run on `host` (`None`: any): whatever the words
/// Linux patches would do wrong there is an error finding (`wrong-for-host`), with the
/// reason.
///
/// The CPU comes from the tree ([`Cpu::from_fdt`]), which cannot tell e500 cores apart
/// reliably (QEMU's e6500 tree reads as e500v2): instruction widths are judged for the
/// 32-bit reading, the safe side, and a host kind is said not to run the CPU only
/// across the Book3S/BookE line, which the tree does show.
///
/// ```
/// use ppcpv::dt::checks::{check_fdt_for, CheckId};
/// use ppcpv::dt::host::Host;
/// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
/// use ppcpv::fdt::Fdt;
/// use ppcpv::hcall::HostProfile;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // An e500v2 guest for a KVM PR host: its sc is a system call under TCG.
/// let e500 = Host::Kvm(HostProfile::E500v2);
/// let blob = generate(&GuestConfig::for_host(Machine::Ppce500, e500))?;
/// let fdt = Fdt::new(&blob)?;
/// assert!(!check_fdt_for(&fdt, Some(e500)).has(CheckId::WrongForHost));
/// assert!(check_fdt_for(&fdt, Some(Host::Tcg)).has(CheckId::WrongForHost));
/// # Ok(())
/// # }
/// ```
#[must_use]
pub fn check_fdt_for(fdt: &crate::fdt::Fdt<'_>, host: Option<Host>) -> HypervisorReport {
    let blob = fdt.blob();
    let walk = fdt.nodes_with_paths().map(|(path, node)| {
        let props = node.properties().map(move |p| {
            // The bytes between the value's end and the next token: its padding.
            let start = (p.value.as_ptr() as usize).wrapping_sub(blob.as_ptr() as usize);
            let pad = blob
                .get(start.saturating_add(p.value.len())..p.end)
                .unwrap_or_default();
            (p.name, p.value, pad)
        });
        (path, props)
    });
    let mut tree = Tree::survey(walk);
    tree.dtc = crate::fdt::lint::dtc_errors(fdt);
    tree.report(Cpu::from_fdt(fdt), host)
}

/// Checks a tree given as its nodes in depth-first blob order (root first). Values are
/// taken to be followed by zero padding, as in a blob; no CPU is known, so instruction
/// widths are not judged, and dtc's checks are not run.
#[must_use]
pub fn check_nodes(nodes: &[NodeProps<'_>]) -> HypervisorReport {
    let walk = nodes.iter().map(|n| {
        (
            n.path.clone(),
            n.props.iter().map(|&(name, value)| (name, value, &[][..])),
        )
    });
    Tree::survey(walk).report(None, None)
}

// ---- the walk: what the checks keep of the tree -----------------------------------

/// The properties of one node the checks look at (the first of each name).
#[derive(Debug, Default, Clone, Copy)]
struct Seen<'a> {
    compatible: Option<&'a [u8]>,
    /// The zero padding after `compatible`'s value, where Linux's reading of an
    /// unterminated last entry ends.
    compatible_pad: &'a [u8],
    hcall: Option<&'a [u8]>,
    legacy: Option<&'a [u8]>,
    has_idle: Option<&'a [u8]>,
    guest_id: Option<&'a [u8]>,
    guest_name: Option<&'a [u8]>,
    hv_version: Option<&'a [u8]>,
    device_type: Option<&'a [u8]>,
    sixty_four_bit: bool,
}

impl<'a> Seen<'a> {
    fn of(props: impl IntoIterator<Item = (&'a str, &'a [u8], &'a [u8])>) -> Self {
        let mut s = Seen::default();
        for (name, value, pad) in props {
            let slot = match name {
                prop::COMPATIBLE => {
                    if s.compatible.is_none() {
                        s.compatible_pad = pad;
                    }
                    &mut s.compatible
                }
                prop::HCALL_INSTRUCTIONS => &mut s.hcall,
                prop::HYPERCALL_INSTRUCTIONS => &mut s.legacy,
                prop::HAS_IDLE => &mut s.has_idle,
                prop::GUEST_ID => &mut s.guest_id,
                prop::GUEST_NAME => &mut s.guest_name,
                prop::HV_VERSION => &mut s.hv_version,
                "device_type" => &mut s.device_type,
                "64-bit" => {
                    s.sixty_four_bit = true;
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        s
    }

    /// Whether this node, at `path`, is a 64-bit Book3S CPU: a `device_type = "cpu"`
    /// child of `/cpus` with the `64-bit` property IBM firmware and QEMU's pseries and
    /// powernv machines give such CPUs, or named `PowerPC,POWERn` / `PowerPC,970`.
    fn is_book3s64_cpu(&self, path: &str) -> bool {
        let Some(name) = path.strip_prefix("/cpus/") else {
            return false;
        };
        !name.contains('/')
            && self.device_type == Some(b"cpu\0")
            && (self.sixty_four_bit
                || name.starts_with("PowerPC,POWER")
                || name.starts_with("PowerPC,970"))
    }
}

/// `compatible` as Linux reads it: `of_prop_next_string` steps from NUL to NUL and stops
/// at the value's length, but each entry is read (by `strcasecmp`) up to its own NUL,
/// so an unterminated last entry runs on into the padding, up to the first zero byte
/// (at the latest the next token's first byte, which is always 0). Non-UTF-8 bytes
/// become U+FFFD, which matches no ASCII compatible, as the bytes would not.
fn linux_compatible(value: &[u8], pad: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (entry, next) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (rest[..i].to_vec(), &rest[i + 1..]),
            None => {
                let mut e = rest.to_vec();
                e.extend(pad.iter().take_while(|&&b| b != 0));
                (e, &[][..])
            }
        };
        out.push(String::from_utf8_lossy(&entry).into_owned());
        rest = next;
    }
    out
}

/// `/hypervisor` as the checks see it.
#[derive(Debug)]
struct Hypervisor<'a> {
    /// Position in blob order.
    index: usize,
    path: String,
    props: Seen<'a>,
    /// `compatible` as a strict string list, or `None` when absent or not one.
    compatible: Option<Vec<String>>,
    /// `compatible` as Linux reads it (empty when absent).
    linux_compatible: Vec<String>,
    /// What Linux's reading declares.
    flavours: Flavours,
}

impl<'a> Hypervisor<'a> {
    /// The words ppcpv reads: `hcall-instructions`, else the documented spelling, with
    /// the name that carried them.
    fn words(&self) -> Option<(&'static str, &'a [u8])> {
        self.props
            .hcall
            .map(|v| (prop::HCALL_INSTRUCTIONS, v))
            .or(self.props.legacy.map(|v| (prop::HYPERCALL_INSTRUCTIONS, v)))
    }
}

/// The node Linux takes its words from.
#[derive(Debug)]
struct FirstHcall<'a> {
    /// Position in blob order.
    index: usize,
    path: String,
    value: &'a [u8],
    has_idle: bool,
}

/// A node other than `/hypervisor` that carries words under either spelling.
#[derive(Debug)]
struct Other {
    /// Position in blob order (findings about it sort by this).
    index: usize,
    path: String,
    hcall: bool,
    legacy: bool,
}

/// What one walk of the tree kept.
#[derive(Debug)]
struct Tree<'a> {
    hv: Option<Hypervisor<'a>>,
    /// How many root children are named `hypervisor`.
    hv_count: usize,
    first_hcall: Option<FirstHcall<'a>>,
    others: Vec<Other>,
    /// The first 64-bit Book3S CPU node, if any.
    book3s64_cpu: Option<String>,
    /// dtc's error-level violations (only for a blob).
    dtc: Vec<crate::fdt::lint::Violation>,
    /// The host verdicts and the host asked for, filled in by `report`.
    hosts: Vec<HostVerdict>,
    host: Option<Host>,
}

impl<'a> Tree<'a> {
    fn survey<I, P>(nodes: I) -> Self
    where
        I: Iterator<Item = (String, P)>,
        P: IntoIterator<Item = (&'a str, &'a [u8], &'a [u8])>,
    {
        let mut tree = Tree {
            hv: None,
            hv_count: 0,
            first_hcall: None,
            others: Vec::new(),
            book3s64_cpu: None,
            dtc: Vec::new(),
            hosts: Vec::new(),
            host: None,
        };
        for (index, (path, props)) in nodes.enumerate() {
            let seen = Seen::of(props);
            if tree.book3s64_cpu.is_none() && seen.is_book3s64_cpu(&path) {
                tree.book3s64_cpu = Some(path.clone());
            }
            if tree.first_hcall.is_none()
                && let Some(value) = seen.hcall
            {
                tree.first_hcall = Some(FirstHcall {
                    index,
                    path: path.clone(),
                    value,
                    has_idle: seen.has_idle.is_some(),
                });
            }
            if path == NODE_PATH {
                tree.hv_count += 1;
                if tree.hv.is_none() {
                    let compatible = seen.compatible.and_then(string_list);
                    let linux_compatible = seen
                        .compatible
                        .map(|v| linux_compatible(v, seen.compatible_pad))
                        .unwrap_or_default();
                    let flavours = Flavours::declared(&linux_compatible, seen.hv_version.is_some());
                    tree.hv = Some(Hypervisor {
                        index,
                        path,
                        props: seen,
                        compatible,
                        linux_compatible,
                        flavours,
                    });
                }
            } else if seen.hcall.is_some() || seen.legacy.is_some() {
                tree.others.push(Other {
                    index,
                    path,
                    hcall: seen.hcall.is_some(),
                    legacy: seen.legacy.is_some(),
                });
            }
        }
        tree
    }

    /// `/hypervisor`'s words, decoded: `None` when absent, else the name that carried
    /// them, the raw value and the decode result.
    fn hv_words(&self) -> Option<HvWords<'a>> {
        let (name, value) = self.hv.as_ref()?.words()?;
        Some(HvWords {
            name,
            value,
            decoded: HcallInstructions::from_be_bytes(value).ok(),
        })
    }

    /// Whether the words Linux uses come from (the first) `/hypervisor`.
    fn words_from_hv(&self) -> bool {
        match (&self.first_hcall, &self.hv) {
            (Some(f), Some(h)) => f.index == h.index,
            _ => false,
        }
    }

    /// The words Linux patches into its stub (non-empty, of a length it accepts), with
    /// the `has-idle` it honours: what runs on the host.
    fn patched(&self) -> Option<HypervisorNode> {
        let f = self.first_hcall.as_ref()?;
        let h = HcallInstructions::from_be_bytes(f.value)
            .ok()
            .filter(|h| !h.is_empty())?;
        let idle = f.has_idle && self.book3s64_cpu.is_none();
        Some(
            HypervisorNode::new(core::iter::empty::<&str>())
                .with_hcall(h)
                .with_has_idle(idle),
        )
    }

    fn verdict(&self) -> LinuxVerdict {
        let kvm = match &self.hv {
            None => KvmReason::NoNode,
            Some(h) if h.flavours.contains(Flavour::Kvm) => KvmReason::Compatible,
            Some(_) => KvmReason::NotCompatible,
        };
        let (hypercalls, linux_words) = match &self.first_hcall {
            None => (HypercallsReason::NoInstructions, None),
            Some(f) => match HcallInstructions::from_be_bytes(f.value) {
                Err(_) => (
                    HypercallsReason::BadLength {
                        path: f.path.clone(),
                        len: f.value.len(),
                    },
                    None,
                ),
                Ok(h) if h.is_empty() => (
                    HypercallsReason::Empty {
                        path: f.path.clone(),
                    },
                    Some(h),
                ),
                Ok(h) => (
                    HypercallsReason::Patched {
                        path: f.path.clone(),
                    },
                    Some(h),
                ),
            },
        };
        let idle = match &self.first_hcall {
            _ if !hypercalls.enabled() => IdleReason::NoHypercalls,
            None => IdleReason::NoHypercalls,
            Some(f) if !f.has_idle => IdleReason::NoHasIdle {
                path: f.path.clone(),
            },
            Some(f) => match &self.book3s64_cpu {
                Some(cpu) => IdleReason::Book3s64 { cpu: cpu.clone() },
                None => IdleReason::Enabled {
                    path: f.path.clone(),
                },
            },
        };
        let magic = match linux_words {
            _ if !kvm.detected() => MagicPageReason::NoKvm,
            None => MagicPageReason::NoHypercalls,
            Some(h) if h.is_empty() => MagicPageReason::NoWords,
            Some(h) => match h.sequence() {
                Some(KnownSequence::KvmPr) => MagicPageReason::KvmPr,
                Some(s) if s.always_fails() => MagicPageReason::AlwaysFails(s),
                Some(s) => MagicPageReason::NoMagicPageBit(s),
                None => MagicPageReason::UnknownWords,
            },
        };
        LinuxVerdict {
            ev_idle: idle.enabled(),
            idle,
            kvm,
            hypercalls,
            magic,
        }
    }

    fn report(mut self, cpu: Option<Cpu>, host: Option<Host>) -> HypervisorReport {
        let node = self.patched();
        self.hosts = Host::ALL
            .into_iter()
            .map(|h| HostVerdict {
                host: h,
                problems: node.as_ref().map(|n| judge(h, n, cpu)).unwrap_or_default(),
            })
            .collect();
        self.host = host;
        let mut raised = Raised::default();
        for &id in RUN_ORDER {
            (id.check())(&self, &mut raised.for_check(id));
        }
        let words = self
            .hv_words()
            .and_then(|w| w.decoded)
            .filter(|h| !h.is_empty());
        let linux = self.verdict();
        let (path, compatible, has_idle, flavour) = match self.hv {
            None => (None, Vec::new(), false, None),
            Some(h) => (
                Some(h.path),
                h.linux_compatible,
                h.props.has_idle.is_some(),
                Some(h.flavours),
            ),
        };
        HypervisorReport {
            path,
            compatible,
            sequence: words.and_then(|h| h.sequence()),
            hcall_instructions: words,
            has_idle,
            flavour,
            linux,
            cpu,
            host,
            hosts: self.hosts,
            findings: raised.into_findings(),
        }
    }
}

/// [`crate::dt::host::check`] with the CPU read from a tree: a host kind is said not
/// to run the CPU only across the Book3S/BookE line ([`check_fdt_for`]).
fn judge(host: Host, node: &HypervisorNode, cpu: Option<Cpu>) -> Vec<HostProblem> {
    let mut problems = crate::dt::host::check(host, node, cpu);
    problems.retain(|p| match p {
        HostProblem::CpuNotRun { host, cpu } => {
            cpu.is_book3s() || *host == Host::Kvm(crate::hcall::HostProfile::Book3sPr)
        }
        _ => true,
    });
    problems
}

/// `/hypervisor`'s words.
#[derive(Debug, Clone, Copy)]
struct HvWords<'a> {
    name: &'static str,
    value: &'a [u8],
    decoded: Option<HcallInstructions>,
}

// ---- running the checks ------------------------------------------------------------

/// One check: reads the walk's result, raises findings of its own id.
type Check = fn(&Tree<'_>, &mut Raise<'_>);

/// The order the checks run in. Findings are then sorted most severe first; among
/// equals, findings about other nodes come first, in blob order, then those about
/// `/hypervisor` (or the whole tree) in this order, as reports have always listed them,
/// then dtc's, in the order dtc reports them.
const RUN_ORDER: &[CheckId] = &[
    CheckId::HcallElsewhere,
    CheckId::NoHypervisorNode,
    CheckId::BadCompatible,
    CheckId::NoLinuxKvm,
    CheckId::LegacyPropertyName,
    CheckId::NoHcallInstructions,
    CheckId::HcallBadLength,
    CheckId::HcallEmpty,
    CheckId::AlwaysFailSequence,
    CheckId::UnknownSequence,
    CheckId::HasIdleValue,
    CheckId::HasIdleIgnored,
    CheckId::BadPropertyValue,
    CheckId::DuplicateHypervisor,
    CheckId::WrongForHost,
    CheckId::NoRightHost,
    CheckId::Dtc(DtcCheck::DuplicateNodeNames),
    CheckId::Dtc(DtcCheck::DuplicatePropertyNames),
    CheckId::Dtc(DtcCheck::NodeNameChars),
    CheckId::Dtc(DtcCheck::NodeNameFormat),
    CheckId::Dtc(DtcCheck::PropertyNameChars),
    CheckId::Dtc(DtcCheck::NameIsString),
    CheckId::Dtc(DtcCheck::NameProperties),
    CheckId::Dtc(DtcCheck::ExplicitPhandles),
];

/// Findings so far, each with where it sorts among findings of equal severity.
#[derive(Debug, Default)]
struct Raised {
    findings: Vec<(Finding, (u8, usize))>,
}

impl Raised {
    fn for_check(&mut self, id: CheckId) -> Raise<'_> {
        Raise { id, raised: self }
    }

    fn into_findings(mut self) -> Vec<Finding> {
        self.findings
            .sort_by_key(|(f, at)| (core::cmp::Reverse(f.severity), *at));
        self.findings.into_iter().map(|(f, _)| f).collect()
    }
}

/// What a check raises findings through; the id is the check's own.
#[derive(Debug)]
struct Raise<'r> {
    id: CheckId,
    raised: &'r mut Raised,
}

impl Raise<'_> {
    fn push(&mut self, severity: Severity, path: Option<&str>, message: String, at: (u8, usize)) {
        self.raised.findings.push((
            Finding {
                id: self.id,
                severity,
                message,
                path: path.map(str::to_owned),
            },
            at,
        ));
    }

    /// A finding about another node.
    fn other(&mut self, node: &Other, severity: Severity, message: String) {
        self.push(severity, Some(&node.path), message, (0, node.index));
    }

    /// A finding about `/hypervisor` (`path` = its path) or the whole tree (`None`).
    fn hv(&mut self, path: Option<&str>, severity: Severity, message: impl Into<String>) {
        self.push(severity, path, message.into(), (1, 0));
    }

    /// dtc's violation number `i` (in dtc's order).
    fn dtc(&mut self, i: usize, v: &crate::fdt::lint::Violation) {
        // dtc's line less its `ERROR (check): `, which the id already says.
        let line = format!("{v}");
        let prefix = format!("ERROR ({}): ", v.check);
        let what = line.strip_prefix(&prefix).unwrap_or(&line);
        self.push(
            Severity::Error,
            Some(&v.path),
            format!("{what}; dtc refuses the tree without -f"),
            (2, i),
        );
    }
}

// ---- the checks, one function per id -----------------------------------------------

/// `hcall-elsewhere`: the words on another node; say whether Linux uses them.
fn hcall_elsewhere(t: &Tree<'_>, r: &mut Raise<'_>) {
    let hv_has_words = t.hv.as_ref().is_some_and(|h| h.props.hcall.is_some());
    for n in t.others.iter().filter(|n| n.hcall) {
        let used = t.first_hcall.as_ref().is_some_and(|f| f.path == n.path);
        let msg = if used && hv_has_words {
            format!(
                "{} has hcall-instructions and comes first in the tree: newer Linux \
                 (early_init_dt_scan_epapr) uses these words, not /hypervisor's",
                n.path
            )
        } else if used {
            format!(
                "{} has hcall-instructions outside /hypervisor: newer Linux \
                 (early_init_dt_scan_epapr) takes the first node with the property \
                 anywhere, so it patches its hypercall stub with these words",
                n.path
            )
        } else {
            format!(
                "{} has hcall-instructions outside /hypervisor; Linux uses the first \
                 node with the property, which here is another one",
                n.path
            )
        };
        r.other(n, Severity::Warning, msg);
    }
}

/// `legacy-property-name`: `hypercall-instructions`, which no code reads.
fn legacy_property_name(t: &Tree<'_>, r: &mut Raise<'_>) {
    for n in t.others.iter().filter(|n| n.legacy && !n.hcall) {
        r.other(
            n,
            Severity::Warning,
            format!(
                "{} has the documented spelling hypercall-instructions, which no code \
                 reads; Linux ignores it",
                n.path
            ),
        );
    }
    let Some(h) = &t.hv else { return };
    match (h.props.hcall, h.props.legacy) {
        (Some(_), Some(_)) => r.hv(
            Some(&h.path),
            Severity::Warning,
            "/hypervisor has both hcall-instructions and the documented spelling \
             hypercall-instructions; only hcall-instructions is read by any code",
        ),
        (None, Some(_)) => r.hv(
            Some(&h.path),
            Severity::Warning,
            "/hypervisor uses the documented spelling hypercall-instructions, which \
             no code reads: Linux will not enable ePAPR hypercalls from it (ppcpv \
             reads it as an alias)",
        ),
        _ => {}
    }
}

/// `no-hypervisor-node`.
fn no_hypervisor_node(t: &Tree<'_>, r: &mut Raise<'_>) {
    if t.hv.is_none() {
        r.hv(
            None,
            Severity::Info,
            "no /hypervisor node: a Linux guest does not detect KVM; it enables ePAPR \
             hypercalls only if some other node has hcall-instructions",
        );
    }
}

/// `bad-compatible`: missing, or not a string list.
fn bad_compatible(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    match h.props.compatible {
        None => r.hv(
            Some(&h.path),
            Severity::Warning,
            "/hypervisor has no compatible: Linux cannot tell KVM or ePAPR from it",
        ),
        Some(v) if h.compatible.is_none() => {
            let unterminated = v.last() != Some(&0);
            let kvm = h.flavours.contains(Flavour::Kvm);
            let tail = match (unterminated, kvm) {
                (true, true) => {
                    "Linux reads the last entry on to the zero padding \
                     (of_prop_next_string, of_compat_cmp), so it still finds \"linux,kvm\"; \
                     libfdt's string-list functions and dtc do not see a string list"
                }
                (true, false) => {
                    "Linux reads the last entry on to the zero padding \
                     (of_prop_next_string, of_compat_cmp); libfdt's string-list functions \
                     and dtc do not see a string list"
                }
                (false, _) => "some entries are not UTF-8 text",
            };
            r.hv(
                Some(&h.path),
                Severity::Warning,
                format!(
                    "compatible ({} bytes) is not a list of NUL-terminated strings: {tail}",
                    v.len()
                ),
            );
        }
        Some(_) => {}
    }
}

/// `no-linux-kvm`: informational for an ePAPR hypervisor, a warning otherwise.
fn no_linux_kvm(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    if h.flavours.contains(Flavour::Kvm) {
        return;
    }
    let (severity, tail) = if h.flavours.contains(Flavour::Epapr) {
        (
            Severity::Info,
            "expected for an ePAPR hypervisor such as Topaz: hypercalls work, no KVM magic \
             page",
        )
    } else {
        (
            Severity::Warning,
            "a KVM guest will not detect KVM, so no magic page and no KVM \
             paravirtualization",
        )
    };
    r.hv(
        Some(&h.path),
        severity,
        format!("/hypervisor compatible lacks \"linux,kvm\": {tail}"),
    );
}

/// `no-hcall-instructions`: neither spelling on `/hypervisor`.
fn no_hcall_instructions(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    if h.words().is_none() {
        r.hv(
            Some(&h.path),
            Severity::Info,
            "/hypervisor has no hcall-instructions: a Linux guest keeps its hypercall stub \
             returning -1, so no hypercalls and no magic page (QEMU pseries does this on \
             purpose when KVM cannot supply the words)",
        );
    }
}

/// `hcall-bad-length`: a length `early_init_dt_scan_epapr` rejects.
fn hcall_bad_length(t: &Tree<'_>, r: &mut Raise<'_>) {
    if let Some(w) = t.hv_words()
        && w.decoded.is_none()
    {
        r.hv(
            t.hv.as_ref().map(|h| h.path.as_str()),
            Severity::Error,
            format!(
                "{} is {} bytes, not a multiple of 4 of at most 16: a Linux guest turns \
                 paravirtualization off",
                w.name,
                w.value.len()
            ),
        );
    }
}

/// `hcall-empty`: zero bytes, which Linux accepts and patches nothing with.
fn hcall_empty(t: &Tree<'_>, r: &mut Raise<'_>) {
    if let Some(w) = t.hv_words()
        && w.decoded.is_some_and(|h| h.is_empty())
    {
        r.hv(
            t.hv.as_ref().map(|h| h.path.as_str()),
            Severity::Warning,
            format!(
                "{} is empty: Linux still enables paravirtualization, but the stub keeps \
                 li r3,-1, so every hypercall returns -1",
                w.name
            ),
        );
    }
}

/// `/hypervisor`'s non-empty words, with the name that carried them.
fn hv_sequence(t: &Tree<'_>) -> Option<(&'static str, HcallInstructions)> {
    let w = t.hv_words()?;
    let h = w.decoded.filter(|h| !h.is_empty())?;
    Some((w.name, h))
}

/// `always-fail-sequence`: QEMU's fallbacks, with which every hypercall returns -1.
fn always_fail_sequence(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some((name, h)) = hv_sequence(t) else {
        return;
    };
    if let Some(s) = h.sequence().filter(|s| s.always_fails()) {
        r.hv(
            t.hv.as_ref().map(|h| h.path.as_str()),
            Severity::Warning,
            format!(
                "{name} is the {} sequence: every hypercall returns -1, so the guest gets \
                 no features and no magic page (QEMU writes it when KVM_PPC_GET_PVINFO is \
                 unavailable)",
                s.name()
            ),
        );
    }
}

/// `unknown-sequence`: words that are none of the named sequences.
fn unknown_sequence(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some((name, h)) = hv_sequence(t) else {
        return;
    };
    if h.sequence().is_none() {
        r.hv(
            t.hv.as_ref().map(|h| h.path.as_str()),
            Severity::Info,
            format!(
                "{name} {h} is no known sequence (kvm-pr, booke-hv, epapr, qemu-fallback, \
                 qemu-fallback-old); the guest runs it as is"
            ),
        );
    }
}

/// `has-idle-value`: Linux only tests whether `has-idle` exists.
fn has_idle_value(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    if let Some(v) = h.props.has_idle
        && !v.is_empty()
    {
        r.hv(
            Some(&h.path),
            Severity::Warning,
            format!(
                "has-idle carries a {}-byte value; it is a presence flag and Linux ignores \
                 the value",
                v.len()
            ),
        );
    }
}

/// `has-idle-ignored`: `early_init_dt_scan_epapr` reads `has-idle` only on the node
/// whose `hcall-instructions` it takes.
fn has_idle_ignored(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    if h.props.has_idle.is_none() {
        return;
    }
    match &t.first_hcall {
        None => r.hv(
            Some(&h.path),
            Severity::Warning,
            "has-idle without hcall-instructions: Linux reads has-idle only on the node \
             whose hcall-instructions it uses, so EV_IDLE stays off",
        ),
        Some(f) if !t.words_from_hv() => r.hv(
            Some(&h.path),
            Severity::Warning,
            format!(
                "has-idle on /hypervisor is ignored: Linux takes hcall-instructions (and \
                 has-idle) from {}, which comes first",
                f.path
            ),
        ),
        Some(_) => {
            if let Some(cpu) = &t.book3s64_cpu {
                r.hv(
                    Some(&h.path),
                    Severity::Info,
                    format!(
                        "has-idle is ignored by 64-bit Book3S kernels ({cpu}): \
                         early_init_dt_scan_epapr reads it only in 32-bit and 64-bit BookE \
                         builds, so the idle loop never calls EV_IDLE"
                    ),
                );
            }
        }
    }
}

/// `duplicate-hypervisor`: Linux's `of_find_node_by_path("/hypervisor")`
/// (`check_kvm_guest`) returns the first matching child (the unflattened tree keeps
/// blob order), so the others' `compatible` is never looked at.
fn duplicate_hypervisor(t: &Tree<'_>, r: &mut Raise<'_>) {
    if t.hv_count > 1 {
        r.hv(
            Some(NODE_PATH),
            Severity::Error,
            format!(
                "the root has {} children named hypervisor: Linux (of_find_node_by_path in \
                 check_kvm_guest) uses the first and ignores the rest, and the tree is \
                 invalid (dtc refuses it)",
                t.hv_count
            ),
        );
    }
}

/// Where a host finding points: the node Linux takes its words from.
fn words_path<'t>(t: &'t Tree<'_>) -> Option<&'t str> {
    t.first_hcall.as_ref().map(|f| f.path.as_str())
}

/// `wrong-for-host`: the host asked for meets the words with a problem.
fn wrong_for_host(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(host) = t.host else { return };
    for v in t.hosts.iter().filter(|v| v.host == host) {
        for p in &v.problems {
            r.hv(
                words_path(t),
                Severity::Error,
                format!("wrong for host {host}: {p}"),
            );
        }
    }
}

/// `no-right-host`: without a host asked for, no host kind is right; one finding per
/// host kind that could run the CPU, with the first thing that goes wrong there.
fn no_right_host(t: &Tree<'_>, r: &mut Raise<'_>) {
    if t.host.is_some() || t.hosts.iter().any(HostVerdict::is_right) {
        return;
    }
    // Hosts that meet the same first problem share one finding.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for v in &t.hosts {
        let text = match v.problems.first() {
            None | Some(HostProblem::CpuNotRun { .. }) => continue,
            Some(p) => format!("{p}"),
        };
        match groups.iter_mut().find(|(t, _)| *t == text) {
            Some((_, hosts)) => hosts.push(v.host.name()),
            None => groups.push((text, alloc::vec![v.host.name()])),
        }
    }
    for (text, hosts) in groups {
        r.hv(
            words_path(t),
            Severity::Error,
            format!("right for no host; on {}: {text}", hosts.join(", ")),
        );
    }
}

/// dtc's error-level checks, one id per dtc check.
fn dtc_violations(t: &Tree<'_>, r: &mut Raise<'_>) {
    let CheckId::Dtc(check) = r.id else { return };
    for (i, v) in t.dtc.iter().enumerate() {
        if v.check == check {
            r.dtc(i, v);
        }
    }
}

/// `bad-property-value`: Topaz's `guest-id`, `fsl,hv-version` and `guest-name` with the
/// wrong size or type.
fn bad_property_value(t: &Tree<'_>, r: &mut Raise<'_>) {
    let Some(h) = &t.hv else { return };
    let p = &h.props;
    for (name, want, ok) in [
        (prop::GUEST_ID, "one u32", p.guest_id.map(|v| v.len() == 4)),
        (
            prop::HV_VERSION,
            "four u32",
            p.hv_version.map(|v| v.len() == 16),
        ),
        (
            prop::GUEST_NAME,
            "a string",
            p.guest_name
                .map(|v| string_list(v).is_some_and(|l| l.len() == 1)),
        ),
    ] {
        if ok == Some(false) {
            r.hv(
                Some(&h.path),
                Severity::Warning,
                format!("{name} should be {want} (ePAPR/Topaz binding)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::string::ToString;
    use alloc::vec;

    type Props<'s, 'a> = &'s [(&'a str, &'a [u8])];

    fn tree<'a>(nodes: &[(&str, Props<'_, 'a>)]) -> Vec<NodeProps<'a>> {
        nodes
            .iter()
            .map(|(p, props)| NodeProps {
                path: (*p).to_owned(),
                props: props.to_vec(),
            })
            .collect()
    }

    const KVM: &[u8] = b"linux,kvm\0";
    const KVM_PR: &[u8] = &[
        0x3c, 0, 0x4b, 0x56, 0x60, 0, 0x4d, 0x21, 0x44, 0, 0, 2, 0x60, 0, 0, 0,
    ];

    fn hv(props: &[(&'static str, &'static [u8])]) -> HypervisorReport {
        check_nodes(&tree(&[("/", &[]), ("/hypervisor", props)]))
    }

    #[test]
    fn clean_kvm_pr_tree() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", KVM_PR)]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.sequence, Some(KnownSequence::KvmPr));
        assert_eq!(r.flavour.map(Flavours::name), Some("kvm"));
        assert!(r.linux.detects_kvm() && r.linux.epapr_hypercalls() && r.linux.magic_page());
        assert!(!r.linux.ev_idle);
    }

    #[test]
    fn every_check_id_is_unique() {
        let mut ids: Vec<_> = CheckId::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CheckId::ALL.len());
    }

    #[test]
    fn no_hypervisor_node() {
        let r = check_nodes(&tree(&[("/", &[])]));
        assert!(r.has(CheckId::NoHypervisorNode));
        assert_eq!(r.path, None);
        assert!(!r.linux.detects_kvm() && !r.linux.epapr_hypercalls());
    }

    #[test]
    fn bad_lengths_turn_paravirt_off() {
        for len in [6usize, 20] {
            let v: &'static [u8] = Box::leak(vec![0u8; len].into_boxed_slice());
            let r = hv(&[("compatible", KVM), ("hcall-instructions", v)]);
            assert!(r.has(CheckId::HcallBadLength));
            assert_eq!(r.worst(), Some(Severity::Error));
            assert!(r.linux.detects_kvm());
            assert!(!r.linux.epapr_hypercalls());
            assert!(!r.linux.magic_page());
            assert_eq!(r.hcall_instructions, None);
        }
    }

    #[test]
    fn empty_hcall_enables_but_fails() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", &[])]);
        assert!(r.has(CheckId::HcallEmpty));
        assert!(r.linux.epapr_hypercalls());
        assert!(!r.linux.magic_page());
    }

    #[test]
    fn missing_linux_kvm() {
        let r = hv(&[
            ("compatible", b"vendor,hv\0"),
            ("hcall-instructions", KVM_PR),
        ]);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == CheckId::NoLinuxKvm)
            .unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(!r.linux.detects_kvm() && r.linux.epapr_hypercalls() && !r.linux.magic_page());
        // Topaz: same finding, but informational.
        let r = hv(&[
            (
                "compatible",
                b"fsl,embedded-hypervisor-v1.3\0epapr,hypervisor-1\0",
            ),
            ("hcall-instructions", &[0x44, 0, 0, 0x22]),
        ]);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == CheckId::NoLinuxKvm)
            .unwrap();
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(r.flavour.map(Flavours::name), Some("epapr"));
        assert_eq!(r.sequence, Some(KnownSequence::Epapr));
    }

    #[test]
    fn hcall_on_another_node_wins() {
        let other: &[u8] = &[0x44, 0, 0, 0x22];
        let nodes = tree(&[
            ("/", &[]),
            ("/soc", &[("hcall-instructions", other)]),
            (
                "/hypervisor",
                &[("compatible", KVM), ("hcall-instructions", KVM_PR)],
            ),
        ]);
        let r = check_nodes(&nodes);
        assert!(r.has(CheckId::HcallElsewhere));
        assert!(r.linux.hypercalls.to_string().contains("/soc"));
        // Linux patched sc 1 from /soc: no magic page although /hypervisor says kvm-pr.
        assert!(!r.linux.magic_page());
    }

    #[test]
    fn legacy_spelling() {
        let r = hv(&[("compatible", KVM), ("hypercall-instructions", KVM_PR)]);
        assert!(r.has(CheckId::LegacyPropertyName));
        assert_eq!(r.sequence, Some(KnownSequence::KvmPr));
        assert!(!r.linux.epapr_hypercalls());
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("hypercall-instructions", KVM_PR),
        ]);
        assert!(r.has(CheckId::LegacyPropertyName));
        assert!(r.linux.epapr_hypercalls());
    }

    #[test]
    fn has_idle_with_value() {
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("has-idle", &[0, 0, 0, 1]),
        ]);
        assert!(r.has(CheckId::HasIdleValue));
        assert!(r.has_idle && r.linux.ev_idle);
    }

    #[test]
    fn has_idle_where_linux_does_not_read_it() {
        let r = hv(&[("compatible", KVM), ("has-idle", &[])]);
        assert!(r.has(CheckId::HasIdleIgnored));
        assert!(r.has_idle && !r.linux.ev_idle);
        let other: &[u8] = &[0x44, 0, 0, 0x22];
        let r = check_nodes(&tree(&[
            ("/", &[]),
            ("/a", &[("hcall-instructions", other)]),
            (
                "/hypervisor",
                &[
                    ("compatible", KVM),
                    ("hcall-instructions", KVM_PR),
                    ("has-idle", &[]),
                ],
            ),
        ]));
        assert!(r.has(CheckId::HasIdleIgnored));
        assert!(!r.linux.ev_idle);
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("has-idle", &[]),
        ]);
        assert!(!r.has(CheckId::HasIdleIgnored));
        assert!(r.linux.ev_idle);
    }

    #[test]
    fn unknown_and_always_fail_sequences() {
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", &[0x44, 0, 0, 2]),
        ]);
        assert!(r.has(CheckId::UnknownSequence));
        assert_eq!(r.sequence, None);
        assert_eq!(
            r.hcall_instructions.map(|h| h.words().to_vec()),
            Some(vec![0x4400_0002])
        );
        let fallback: &[u8] = &[
            0x08, 0, 0, 0x48, 0x38, 0x60, 0xff, 0xff, 0x48, 0, 0, 0x08, 0xff, 0xff, 0x60, 0x38,
        ];
        let r = hv(&[("compatible", KVM), ("hcall-instructions", fallback)]);
        assert!(r.has(CheckId::AlwaysFailSequence));
        assert_eq!(r.sequence, Some(KnownSequence::QemuFallback));
        assert!(r.linux.epapr_hypercalls() && !r.linux.magic_page());
    }

    #[test]
    fn no_hcall_and_bad_values() {
        let r = hv(&[("compatible", KVM)]);
        assert!(r.has(CheckId::NoHcallInstructions));
        let r = hv(&[("compatible", b"linux,kvm")]);
        assert!(r.has(CheckId::BadCompatible));
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("guest-id", &[1, 2]),
        ]);
        assert!(r.has(CheckId::BadPropertyValue));
    }

    #[test]
    fn text_summary() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", KVM_PR)]);
        let t = r.to_string();
        assert!(t.starts_with("hypervisor: /hypervisor (kvm)\n"), "{t}");
        assert!(t.contains(
            "  hcall-instructions: <0x3c004b56 0x60004d21 0x44000002 0x60000000> (kvm-pr)\n"
        ));
        assert!(t.contains("  magic page: yes ("));
        let r = check_nodes(&tree(&[("/", &[])]));
        assert!(
            r.to_string()
                .contains("info[no-hypervisor-node]: no /hypervisor node")
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn serialises_for_inspect() {
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", &[0x44, 0, 0, 2]),
        ]);
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["path"], "/hypervisor");
        assert_eq!(j["flavour"], "kvm");
        assert_eq!(j["hcall_instructions"][0], 0x4400_0002);
        // A bare sc reaches no host as a hypercall (r0 is not "KVM!", LEV is 0).
        assert_eq!(j["findings"][0]["id"], "no-right-host");
        assert_eq!(j["findings"][0]["severity"], "error");
        let last = j["findings"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["id"], "unknown-sequence");
        assert_eq!(last["severity"], "info");
        assert_eq!(j["linux"]["detects_kvm"], true);
        assert_eq!(j["linux"]["ev_idle_why"], "/hypervisor has no has-idle");
        assert_eq!(j["hosts"][0]["host"], "tcg");
        assert_eq!(j["hosts"][0]["right"], false);
        assert_eq!(j["cpu"], serde_json::Value::Null);
    }

    #[test]
    fn reasons_read_as_before() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", KVM_PR)]);
        assert_eq!(
            r.linux.kvm.to_string(),
            "/hypervisor is compatible with \"linux,kvm\" (check_kvm_guest)"
        );
        assert_eq!(
            r.linux.hypercalls,
            HypercallsReason::Patched {
                path: "/hypervisor".to_string()
            }
        );
        assert_eq!(r.linux.magic, MagicPageReason::KvmPr);
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", &[0x44, 0, 0, 0x22]),
        ]);
        assert_eq!(
            r.linux.magic.to_string(),
            "the epapr sequence (sc 1) reaches BookE-HV KVM, whose KVM_HC_FEATURES answer \
             has no magic-page bit"
        );
        let r = check_nodes(&tree(&[("/", &[])]));
        assert_eq!(r.linux.kvm, KvmReason::NoNode);
        assert_eq!(r.linux.hypercalls, HypercallsReason::NoInstructions);
        assert_eq!(r.linux.magic, MagicPageReason::NoKvm);
    }

    /// Issue 11.13: a 64-bit Book3S kernel ignores has-idle.
    #[test]
    fn has_idle_is_ignored_on_64_bit_book3s() {
        let hvp: &[(&str, &[u8])] = &[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("has-idle", &[]),
        ];
        for cpu in [
            (
                "/cpus/PowerPC,POWER9@0",
                &[("device_type", &b"cpu\0"[..])][..],
            ),
            (
                "/cpus/cpu@0",
                &[("device_type", &b"cpu\0"[..]), ("64-bit", &[][..])][..],
            ),
        ] {
            let r = check_nodes(&tree(&[
                ("/", &[]),
                ("/cpus", &[]),
                cpu,
                ("/hypervisor", hvp),
            ]));
            assert!(!r.linux.ev_idle, "{}", cpu.0);
            assert_eq!(
                r.linux.idle,
                IdleReason::Book3s64 {
                    cpu: cpu.0.to_owned()
                }
            );
            assert!(
                r.linux
                    .idle
                    .to_string()
                    .contains("ignored by 64-bit Book3S")
            );
            assert!(r.has(CheckId::HasIdleIgnored));
        }
        // An e500 CPU node (32-bit BookE): has-idle is read.
        let r = check_nodes(&tree(&[
            ("/", &[]),
            ("/cpus", &[]),
            ("/cpus/PowerPC,8544@0", &[("device_type", b"cpu\0")]),
            ("/hypervisor", hvp),
        ]));
        assert!(r.linux.ev_idle);
        assert!(!r.has(CheckId::HasIdleIgnored));
    }

    /// Issue 11.11: Linux reads an unterminated last entry on to the zero padding.
    #[test]
    fn unterminated_compatible_is_still_linux_kvm() {
        let r = hv(&[("compatible", b"linux,kvm"), ("hcall-instructions", KVM_PR)]);
        assert!(r.linux.detects_kvm());
        assert!(r.linux.magic_page());
        assert_eq!(r.compatible, ["linux,kvm"]);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == CheckId::BadCompatible)
            .unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(
            linux_compatible(b"a\0Linux,KV", b"M\0\0"),
            ["a", "Linux,KVM"]
        );
        assert_eq!(linux_compatible(b"a\0\0b\0", b""), ["a", "", "b"]);
        assert!(linux_compatible(b"", b"x").is_empty());
        // Non-zero padding (a hostile blob) runs into the entry, as strcasecmp reads it.
        let v: Vec<String> = linux_compatible(b"linux,kvm", b"x\0");
        assert_eq!(v, ["linux,kvmx"]);
    }

    /// Issue 11.8: a second /hypervisor is an error; Linux uses the first.
    #[test]
    fn duplicate_hypervisor_is_an_error() {
        let r = check_nodes(&tree(&[
            ("/", &[]),
            (
                "/hypervisor",
                &[("compatible", KVM), ("hcall-instructions", KVM_PR)],
            ),
            ("/hypervisor", &[("compatible", b"vendor,hv\0")]),
        ]));
        assert!(r.has(CheckId::DuplicateHypervisor));
        assert_eq!(r.worst(), Some(Severity::Error));
        assert!(r.linux.detects_kvm(), "the first one counts");
    }

    #[test]
    fn host_verdicts() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", KVM_PR)]);
        let right: Vec<Host> = r.right_hosts().collect();
        assert_eq!(
            right,
            [
                Host::Kvm(crate::hcall::HostProfile::Book3sPr),
                Host::Kvm(crate::hcall::HostProfile::E500v2)
            ]
        );
        assert!(!r.has(CheckId::NoRightHost));
        // No words: right everywhere.
        let r = hv(&[("compatible", KVM)]);
        assert_eq!(r.right_hosts().count(), Host::ALL.len());
    }

    /// Most severe first; among equals, other nodes (blob order) before /hypervisor.
    #[test]
    fn findings_keep_their_order() {
        let w: &[u8] = &[0x44, 0, 0, 0x22];
        let r = check_nodes(&tree(&[
            ("/", &[]),
            (
                "/hypervisor",
                &[
                    ("compatible", b"vendor,hv\0"),
                    ("hypercall-instructions", KVM_PR),
                    ("has-idle", &[1]),
                ],
            ),
            ("/b", &[("hypercall-instructions", w)]),
            ("/c", &[("hcall-instructions", w)]),
        ]));
        let got: Vec<(&str, Option<&str>)> = r
            .findings
            .iter()
            .map(|f| (f.id.id(), f.path.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("legacy-property-name", Some("/b")),
                ("hcall-elsewhere", Some("/c")),
                ("no-linux-kvm", Some("/hypervisor")),
                ("legacy-property-name", Some("/hypervisor")),
                ("has-idle-value", Some("/hypervisor")),
                ("has-idle-ignored", Some("/hypervisor")),
            ]
        );
    }
}
