//! Checks on a tree's `/hypervisor` setup, and the verdict: what a real Linux guest
//! would do with this tree.
//!
//! The consumers modelled (kvm-ppc-pv.md §2.2):
//! - KVM detection: `/hypervisor` (by path) whose `compatible` contains `"linux,kvm"`
//!   (`torvalds/linux: arch/powerpc/kernel/firmware.c (check_kvm_guest)`).
//! - ePAPR hypercalls: the **first node anywhere** (depth first, blob order) that has
//!   `hcall-instructions`; a length that is not a multiple of 4 or over 16 ends the scan
//!   with paravirtualization off; otherwise the words are patched into the stub and
//!   `has-idle` on that node enables `EV_IDLE` (`torvalds/linux:
//!   arch/powerpc/kernel/epapr_paravirt.c (early_init_dt_scan_epapr)`; D3).
//! - The magic page: `kvm_guest_init()` needs both of the above, then asks the host
//!   with `KVM_HC_FEATURES`, which answers the magic-page bit only on Book3S PR and
//!   e500v2 hosts, which are the hosts that recognise the `kvm-pr` sequence
//!   (`torvalds/linux: arch/powerpc/kernel/kvm.c (kvm_guest_init)`; §4.2, §5.1).
//!
//! Every finding has a stable id (see [`CheckId`]), a severity and a message that says
//! what the consumer does.

use crate::dt::hypervisor::{
    COMPAT_EPAPR, COMPAT_KVM, HcallInstructions, NODE_PATH, prop, string_list,
};
use crate::insn::seq::{KnownSequence, recognise};
use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
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
pub enum CheckId {
    /// `no-hypervisor-node`: no `/hypervisor`.
    NoHypervisorNode,
    /// `no-hcall-instructions`: `/hypervisor` without `hcall-instructions`.
    NoHcallInstructions,
    /// `hcall-bad-length`: a length Linux rejects.
    HcallBadLength,
    /// `hcall-empty`: zero-length `hcall-instructions` (D2).
    HcallEmpty,
    /// `no-linux-kvm`: `/hypervisor` without `"linux,kvm"`.
    NoLinuxKvm,
    /// `hcall-elsewhere`: `hcall-instructions` on a node other than `/hypervisor` (D3).
    HcallElsewhere,
    /// `legacy-property-name`: `hypercall-instructions` (D1).
    LegacyPropertyName,
    /// `has-idle-value`: `has-idle` with a value (D5).
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
}

impl CheckId {
    /// Every check.
    pub const ALL: [CheckId; 13] = [
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
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id.
    pub id: CheckId,
    /// How bad.
    pub severity: Severity,
    /// What a real consumer does, in one or two sentences.
    pub message: String,
    /// The node concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.id, self.message)
    }
}

/// Which profile the node declares (D4; the two flags are independent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `"linux,kvm"` only.
    Kvm,
    /// `"epapr,hypervisor-1"` or `fsl,hv-version`, without `"linux,kvm"`.
    Epapr,
    /// Both.
    KvmEpapr,
    /// Neither.
    Unknown,
}

impl Profile {
    /// `kvm`, `epapr`, `kvm+epapr` or `unknown`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Kvm => "kvm",
            Profile::Epapr => "epapr",
            Profile::KvmEpapr => "kvm+epapr",
            Profile::Unknown => "unknown",
        }
    }
}

impl Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// What a current Linux guest does with the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinuxVerdict {
    /// `check_kvm_guest()` is true.
    pub detects_kvm: bool,
    /// Why (or why not).
    pub detects_kvm_why: String,
    /// `epapr_paravirt_enabled` becomes true (the stub is patched).
    pub epapr_hypercalls: bool,
    /// Why (or why not).
    pub epapr_hypercalls_why: String,
    /// The guest maps the magic page (on the host the sequence implies).
    pub magic_page: bool,
    /// Why (or why not).
    pub magic_page_why: String,
    /// `ppc_md.power_save` becomes `epapr_ev_idle` (32-bit and Book3E-64 kernels).
    pub ev_idle: bool,
}

/// The `/hypervisor` summary of a tree: the node's contents, Linux's verdict, findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HypervisorReport {
    /// Path of the node described (`/hypervisor`), or null when the tree has none.
    pub path: Option<String>,
    /// Its `compatible` entries.
    pub compatible: Vec<String>,
    /// Its instruction words (`hcall-instructions`, else the legacy spelling), or null
    /// when absent, empty or of a bad length (the findings say which).
    pub hcall_instructions: Option<Vec<u32>>,
    /// The named sequence the words form, or null.
    pub sequence: Option<&'static str>,
    /// `has-idle` present.
    pub has_idle: bool,
    /// The declared profile, or null without a node.
    pub flavour: Option<Profile>,
    /// What Linux does.
    pub linux: LinuxVerdict,
    /// Everything worth saying, most severe first.
    pub findings: Vec<Finding>,
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
                    write!(f, " ({})", fl.name())?;
                }
                writeln!(f)?;
                let quoted: Vec<String> =
                    self.compatible.iter().map(|c| format!("{c:?}")).collect();
                writeln!(f, "  compatible: {}", quoted.join(", "))?;
                match &self.hcall_instructions {
                    Some(w) => {
                        let words: Vec<String> = w.iter().map(|x| format!("{x:#010x}")).collect();
                        writeln!(
                            f,
                            "  hcall-instructions: <{}> ({})",
                            words.join(" "),
                            self.sequence.unwrap_or("unknown sequence")
                        )?;
                    }
                    None => writeln!(f, "  hcall-instructions: none usable")?,
                }
                writeln!(f, "  has-idle: {}", yes(self.has_idle))?;
            }
        }
        let l = &self.linux;
        writeln!(f, "Linux guest:")?;
        writeln!(
            f,
            "  detects KVM: {} ({})",
            yes(l.detects_kvm),
            l.detects_kvm_why
        )?;
        writeln!(
            f,
            "  ePAPR hypercalls: {} ({})",
            yes(l.epapr_hypercalls),
            l.epapr_hypercalls_why
        )?;
        writeln!(
            f,
            "  magic page: {} ({})",
            yes(l.magic_page),
            l.magic_page_why
        )?;
        writeln!(f, "  EV_IDLE: {}", yes(l.ev_idle))?;
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// One node as the checks see it: its path and its properties in blob order.
#[derive(Debug, Clone)]
pub struct NodeProps<'a> {
    /// Full path (`/`, `/hypervisor`, ...).
    pub path: String,
    /// `(name, value)` pairs.
    pub props: Vec<(&'a str, &'a [u8])>,
}

impl<'a> NodeProps<'a> {
    fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.props.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Checks a parsed tree (every node, depth first in blob order).
///
/// ```
/// use ppcpv::dt::checks::check_fdt;
/// use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
/// use ppcpv::fdt::{Fdt, writer::Padding};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let blob = HypervisorNode::preset(Flavour::Kvm).to_minimal_dtb(&Padding::NONE)?;
/// let report = check_fdt(&Fdt::new(&blob)?);
/// assert_eq!(report.sequence, Some("kvm-pr"));
/// assert!(report.linux.detects_kvm && report.linux.magic_page);
/// assert!(report.findings.is_empty());
/// # Ok(())
/// # }
/// ```
#[must_use]
pub fn check_fdt(fdt: &crate::fdt::Fdt<'_>) -> HypervisorReport {
    let nodes: Vec<NodeProps<'_>> = fdt
        .nodes_with_paths()
        .map(|(path, node)| NodeProps {
            path,
            props: node.properties().map(|p| (p.name, p.value)).collect(),
        })
        .collect();
    check_nodes(&nodes)
}

/// Checks a tree given as its nodes in depth-first blob order (root first).
#[must_use]
pub fn check_nodes(nodes: &[NodeProps<'_>]) -> HypervisorReport {
    let mut findings = Vec::new();
    let mut add = |id: CheckId, severity: Severity, path: Option<&str>, message: String| {
        findings.push(Finding {
            id,
            severity,
            message,
            path: path.map(str::to_owned),
        });
    };

    let hv = nodes.iter().find(|n| n.path == NODE_PATH);
    // What newer Linux patches in: the first node with hcall-instructions (D3).
    let first_hcall = nodes
        .iter()
        .find_map(|n| n.get(prop::HCALL_INSTRUCTIONS).map(|v| (n, v)));

    // hcall-instructions on other nodes (D3).
    for n in nodes.iter().filter(|n| n.path != NODE_PATH) {
        if n.get(prop::HCALL_INSTRUCTIONS).is_some() {
            let used = first_hcall.is_some_and(|(f, _)| f.path == n.path);
            let hv_has_words = hv.is_some_and(|h| h.get(prop::HCALL_INSTRUCTIONS).is_some());
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
            add(
                CheckId::HcallElsewhere,
                Severity::Warning,
                Some(&n.path),
                msg,
            );
        }
        if n.get(prop::HYPERCALL_INSTRUCTIONS).is_some()
            && n.get(prop::HCALL_INSTRUCTIONS).is_none()
        {
            add(
                CheckId::LegacyPropertyName,
                Severity::Warning,
                Some(&n.path),
                format!(
                    "{} has the documented spelling hypercall-instructions, which no code \
                     reads; Linux ignores it",
                    n.path
                ),
            );
        }
    }

    let mut report_compatible = Vec::new();
    let mut report_words = None;
    let mut sequence = None;
    let mut has_idle = false;
    let mut flavour = None;
    let mut detects_kvm = false;

    match hv {
        None => add(
            CheckId::NoHypervisorNode,
            Severity::Info,
            None,
            "no /hypervisor node: a Linux guest does not detect KVM; it enables ePAPR \
             hypercalls only if some other node has hcall-instructions"
                .to_owned(),
        ),
        Some(n) => {
            let path = Some(n.path.as_str());
            match n.get(prop::COMPATIBLE) {
                None => add(
                    CheckId::BadCompatible,
                    Severity::Warning,
                    path,
                    "/hypervisor has no compatible: Linux cannot tell KVM or ePAPR from it"
                        .to_owned(),
                ),
                Some(v) => match string_list(v) {
                    Some(list) => report_compatible = list,
                    None => add(
                        CheckId::BadCompatible,
                        Severity::Error,
                        path,
                        format!(
                            "compatible ({} bytes) is not a list of NUL-terminated strings; \
                             Linux's compatible match will not find \"linux,kvm\" in it",
                            v.len()
                        ),
                    ),
                },
            }
            let is_kvm = report_compatible
                .iter()
                .any(|c| c.eq_ignore_ascii_case(COMPAT_KVM));
            let is_epapr = n.get(prop::HV_VERSION).is_some()
                || report_compatible
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(COMPAT_EPAPR));
            detects_kvm = is_kvm;
            flavour = Some(match (is_kvm, is_epapr) {
                (true, true) => Profile::KvmEpapr,
                (true, false) => Profile::Kvm,
                (false, true) => Profile::Epapr,
                (false, false) => Profile::Unknown,
            });
            if !is_kvm {
                let (sev, tail) = if is_epapr {
                    (
                        Severity::Info,
                        "expected for an ePAPR hypervisor such as Topaz: hypercalls work, \
                         no KVM magic page",
                    )
                } else {
                    (
                        Severity::Warning,
                        "a KVM guest will not detect KVM, so no magic page and no KVM \
                         paravirtualization",
                    )
                };
                add(
                    CheckId::NoLinuxKvm,
                    sev,
                    path,
                    format!("/hypervisor compatible lacks \"linux,kvm\": {tail}"),
                );
            }

            let main = n.get(prop::HCALL_INSTRUCTIONS);
            let legacy = n.get(prop::HYPERCALL_INSTRUCTIONS);
            match (main, legacy) {
                (Some(_), Some(_)) => add(
                    CheckId::LegacyPropertyName,
                    Severity::Warning,
                    path,
                    "/hypervisor has both hcall-instructions and the documented spelling \
                     hypercall-instructions; only hcall-instructions is read by any code"
                        .to_owned(),
                ),
                (None, Some(_)) => add(
                    CheckId::LegacyPropertyName,
                    Severity::Warning,
                    path,
                    "/hypervisor uses the documented spelling hypercall-instructions, which \
                     no code reads: Linux will not enable ePAPR hypercalls from it (ppcpv \
                     reads it as an alias)"
                        .to_owned(),
                ),
                (None, None) => add(
                    CheckId::NoHcallInstructions,
                    Severity::Info,
                    path,
                    "/hypervisor has no hcall-instructions: a Linux guest keeps its \
                     hypercall stub returning -1, so no hypercalls and no magic page (QEMU \
                     pseries does this on purpose when KVM cannot supply the words)"
                        .to_owned(),
                ),
                (Some(_), None) => {}
            }
            if let Some((name, value)) = main
                .map(|v| (prop::HCALL_INSTRUCTIONS, v))
                .or(legacy.map(|v| (prop::HYPERCALL_INSTRUCTIONS, v)))
            {
                match HcallInstructions::from_be_bytes(value) {
                    Err(_) => add(
                        CheckId::HcallBadLength,
                        Severity::Error,
                        path,
                        format!(
                            "{name} is {} bytes, not a multiple of 4 of at most 16: a Linux \
                             guest turns paravirtualization off",
                            value.len()
                        ),
                    ),
                    Ok(h) if h.is_empty() => add(
                        CheckId::HcallEmpty,
                        Severity::Warning,
                        path,
                        format!(
                            "{name} is empty: Linux still enables paravirtualization, but the \
                             stub keeps li r3,-1, so every hypercall returns -1"
                        ),
                    ),
                    Ok(h) => {
                        report_words = Some(h.words().to_vec());
                        match h.sequence() {
                            Some(s) => {
                                sequence = Some(s.name());
                                if s.always_fails() {
                                    add(
                                        CheckId::AlwaysFailSequence,
                                        Severity::Warning,
                                        path,
                                        format!(
                                            "{name} is the {} sequence: every hypercall \
                                             returns -1, so the guest gets no features and \
                                             no magic page (QEMU writes it when \
                                             KVM_PPC_GET_PVINFO is unavailable)",
                                            s.name()
                                        ),
                                    );
                                }
                            }
                            None => add(
                                CheckId::UnknownSequence,
                                Severity::Info,
                                path,
                                format!(
                                    "{name} {h} is no known sequence (kvm-pr, booke-hv, \
                                     epapr, qemu-fallback, qemu-fallback-old); the guest runs \
                                     it as is"
                                ),
                            ),
                        }
                    }
                }
            }

            if let Some(v) = n.get(prop::HAS_IDLE) {
                has_idle = true;
                if !v.is_empty() {
                    add(
                        CheckId::HasIdleValue,
                        Severity::Warning,
                        path,
                        format!(
                            "has-idle carries a {}-byte value; it is a presence flag and \
                             Linux ignores the value",
                            v.len()
                        ),
                    );
                }
                // early_init_dt_scan_epapr reads has-idle only on the node whose
                // hcall-instructions it takes.
                match first_hcall {
                    None => add(
                        CheckId::HasIdleIgnored,
                        Severity::Warning,
                        path,
                        "has-idle without hcall-instructions: Linux reads has-idle only on \
                         the node whose hcall-instructions it uses, so EV_IDLE stays off"
                            .to_owned(),
                    ),
                    Some((f, _)) if f.path != n.path => add(
                        CheckId::HasIdleIgnored,
                        Severity::Warning,
                        path,
                        format!(
                            "has-idle on /hypervisor is ignored: Linux takes hcall-instructions \
                             (and has-idle) from {}, which comes first",
                            f.path
                        ),
                    ),
                    Some(_) => {}
                }
            }

            for (name, want, ok) in [
                (
                    prop::GUEST_ID,
                    "one u32",
                    n.get(prop::GUEST_ID).map(|v| v.len() == 4),
                ),
                (
                    prop::HV_VERSION,
                    "four u32",
                    n.get(prop::HV_VERSION).map(|v| v.len() == 16),
                ),
                (
                    prop::GUEST_NAME,
                    "a string",
                    n.get(prop::GUEST_NAME)
                        .map(|v| string_list(v).is_some_and(|l| l.len() == 1)),
                ),
            ] {
                if ok == Some(false) {
                    add(
                        CheckId::BadPropertyValue,
                        Severity::Warning,
                        path,
                        format!("{name} should be {want} (ePAPR/Topaz binding)"),
                    );
                }
            }
        }
    }

    // Linux's view of hcall-instructions: the first node that has it (D3).
    let (epapr_hypercalls, epapr_why, linux_seq, ev_idle) = match first_hcall {
        None => (
            false,
            "no node has hcall-instructions, so the hypercall stub is never patched".to_owned(),
            None,
            false,
        ),
        Some((n, v)) => match HcallInstructions::from_be_bytes(v) {
            Err(_) => (
                false,
                format!(
                    "hcall-instructions on {} is {} bytes: early_init_dt_scan_epapr rejects \
                     it and leaves paravirtualization off",
                    n.path,
                    v.len()
                ),
                None,
                false,
            ),
            Ok(h) => (
                true,
                if h.is_empty() {
                    format!(
                        "enabled from {}, but with no words: every hypercall returns -1",
                        n.path
                    )
                } else {
                    format!("the stub is patched with the words of {}", n.path)
                },
                Some(h),
                n.get(prop::HAS_IDLE).is_some(),
            ),
        },
    };

    let detects_kvm_why = if detects_kvm {
        "/hypervisor is compatible with \"linux,kvm\" (check_kvm_guest)".to_owned()
    } else if hv.is_some() {
        "/hypervisor is not compatible with \"linux,kvm\"".to_owned()
    } else {
        "there is no /hypervisor node".to_owned()
    };

    let (magic_page, magic_page_why) = if !detects_kvm {
        (
            false,
            "kvm_guest_init needs KVM to be detected first".to_owned(),
        )
    } else if !epapr_hypercalls {
        (
            false,
            "kvm_guest_init needs ePAPR hypercalls to be enabled first".to_owned(),
        )
    } else {
        match linux_seq.as_ref().and_then(|h| recognise(h.words())) {
            Some(KnownSequence::KvmPr) => (
                true,
                "the kvm-pr sequence reaches Book3S PR or e500v2 KVM, whose KVM_HC_FEATURES \
                 answer has the magic-page bit"
                    .to_owned(),
            ),
            Some(s) if s.always_fails() => (
                false,
                format!(
                    "the {} sequence makes KVM_HC_FEATURES return -1: no features",
                    s.name()
                ),
            ),
            Some(s) => (
                false,
                format!(
                    "the {} sequence (sc 1) reaches BookE-HV KVM, whose KVM_HC_FEATURES \
                     answer has no magic-page bit",
                    s.name()
                ),
            ),
            None if linux_seq.is_some_and(|h| h.is_empty()) => (
                false,
                "with no words every hypercall returns -1: no features".to_owned(),
            ),
            None => (
                false,
                "the words are no known sequence; whether the host answers \
                 KVM_HC_FEATURES with the magic-page bit is unknown"
                    .to_owned(),
            ),
        }
    };

    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));

    HypervisorReport {
        path: hv.map(|n| n.path.clone()),
        compatible: report_compatible,
        hcall_instructions: report_words,
        sequence,
        has_idle,
        flavour,
        linux: LinuxVerdict {
            detects_kvm,
            detects_kvm_why,
            epapr_hypercalls,
            epapr_hypercalls_why: epapr_why,
            magic_page,
            magic_page_why,
            ev_idle: epapr_hypercalls && ev_idle,
        },
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.sequence, Some("kvm-pr"));
        assert_eq!(r.flavour, Some(Profile::Kvm));
        assert!(r.linux.detects_kvm && r.linux.epapr_hypercalls && r.linux.magic_page);
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
        assert!(!r.linux.detects_kvm && !r.linux.epapr_hypercalls);
    }

    #[test]
    fn bad_lengths_turn_paravirt_off() {
        for len in [6usize, 20] {
            let v: &'static [u8] = Box::leak(vec![0u8; len].into_boxed_slice());
            let r = hv(&[("compatible", KVM), ("hcall-instructions", v)]);
            assert!(r.has(CheckId::HcallBadLength));
            assert_eq!(r.worst(), Some(Severity::Error));
            assert!(r.linux.detects_kvm);
            assert!(!r.linux.epapr_hypercalls);
            assert!(!r.linux.magic_page);
            assert_eq!(r.hcall_instructions, None);
        }
    }

    #[test]
    fn empty_hcall_enables_but_fails() {
        let r = hv(&[("compatible", KVM), ("hcall-instructions", &[])]);
        assert!(r.has(CheckId::HcallEmpty));
        assert!(r.linux.epapr_hypercalls);
        assert!(!r.linux.magic_page);
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
        assert!(!r.linux.detects_kvm && r.linux.epapr_hypercalls && !r.linux.magic_page);
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
        assert_eq!(r.flavour, Some(Profile::Epapr));
        assert_eq!(r.sequence, Some("epapr"));
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
        assert!(r.linux.epapr_hypercalls_why.contains("/soc"));
        // Linux patched sc 1 from /soc: no magic page although /hypervisor says kvm-pr.
        assert!(!r.linux.magic_page);
    }

    #[test]
    fn legacy_spelling() {
        let r = hv(&[("compatible", KVM), ("hypercall-instructions", KVM_PR)]);
        assert!(r.has(CheckId::LegacyPropertyName));
        assert_eq!(r.sequence, Some("kvm-pr"));
        assert!(!r.linux.epapr_hypercalls);
        let r = hv(&[
            ("compatible", KVM),
            ("hcall-instructions", KVM_PR),
            ("hypercall-instructions", KVM_PR),
        ]);
        assert!(r.has(CheckId::LegacyPropertyName));
        assert!(r.linux.epapr_hypercalls);
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
        assert_eq!(r.hcall_instructions, Some(vec![0x4400_0002]));
        let fallback: &[u8] = &[
            0x08, 0, 0, 0x48, 0x38, 0x60, 0xff, 0xff, 0x48, 0, 0, 0x08, 0xff, 0xff, 0x60, 0x38,
        ];
        let r = hv(&[("compatible", KVM), ("hcall-instructions", fallback)]);
        assert!(r.has(CheckId::AlwaysFailSequence));
        assert_eq!(r.sequence, Some("qemu-fallback"));
        assert!(r.linux.epapr_hypercalls && !r.linux.magic_page);
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
        assert_eq!(j["findings"][0]["id"], "unknown-sequence");
        assert_eq!(j["findings"][0]["severity"], "info");
        assert_eq!(j["linux"]["detects_kvm"], true);
    }
}
