//! The `/hypervisor` node: how a PowerPC guest learns it runs under KVM or an ePAPR
//! hypervisor, and which instructions make a hypercall.
//!
//! Producers (kvm-ppc-pv.md §2.1): QEMU's ppce500 and pseries machines write
//! `compatible = "linux,kvm"`, a 16-byte `hcall-instructions` and, on e500 when KVM
//! reports `KVM_PPC_PVINFO_FLAGS_EV_IDLE`, an empty `has-idle`
//! (`qemu/qemu: hw/ppc/e500.c (ppce500_load_device_tree)`,
//! `hw/ppc/spapr.c (spapr_dt_hypervisor)`). NXP's Topaz writes
//! `"fsl,embedded-hypervisor-v1.3", "epapr,hypervisor-1"`, a single `sc 1`, `guest-id`,
//! `guest-name`, `fsl,hv-version` and, on the root, `epapr-version`
//! (`nxp-qoriq-yocto-sdk/hypervisor: src/guest.c`). Consumers are Linux's
//! `early_init_dt_scan_epapr()` and `check_kvm_guest()` (§2.2); [`crate::dt::checks`]
//! says what they would do with a given tree.
//!
//! Project decisions applied here (kvm-ppc-pv.md "Decisions"): D1 always write
//! `hcall-instructions`, read `hypercall-instructions` only as an alias; D2 a length that
//! is not a multiple of 4 or exceeds 16 bytes is a typed error, zero bytes reads as "no
//! instructions" but is never written; D4 KVM and ePAPR are independent profile flags;
//! D5 `has-idle` is written empty and only its presence counts; D17 `guest-id` is an
//! opaque u32 and `epapr-version` an opaque string.

use crate::fdt::writer::{FdtBuilder, Padding, WriteError};
use crate::insn::seq::KnownSequence;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Name of the node under the root.
pub const NODE_NAME: &str = "hypervisor";
/// Path Linux looks up for KVM detection (`torvalds/linux: arch/powerpc/kernel/firmware.c
/// (check_kvm_guest)`).
pub const NODE_PATH: &str = "/hypervisor";

/// `compatible` entry that makes Linux detect KVM (kvm-ppc-pv.md §2.2).
pub const COMPAT_KVM: &str = "linux,kvm";
/// `compatible` entry of an ePAPR hypervisor; only Topaz writes it (kvm-ppc-pv.md §9).
pub const COMPAT_EPAPR: &str = "epapr,hypervisor-1";
/// Topaz v1.3's own `compatible` entry (`"fsl,embedded-hypervisor-v%d.%d"`, Makefile
/// `VERSION=1`, `SUBVERSION=3`; kvm-ppc-pv.md §2.1).
pub const COMPAT_TOPAZ_V1_3: &str = "fsl,embedded-hypervisor-v1.3";

/// Property names of the node (and the root's `epapr-version`), kvm-ppc-pv.md §2.3.
pub mod prop {
    /// String list.
    pub const COMPATIBLE: &str = "compatible";
    /// 1–4 big-endian instruction words; the name every implementation uses.
    pub const HCALL_INSTRUCTIONS: &str = "hcall-instructions";
    /// The spelling of `Documentation/virt/kvm/ppc-pv.rst`, read by no code (D1).
    pub const HYPERCALL_INSTRUCTIONS: &str = "hypercall-instructions";
    /// Empty presence flag: the guest may use `EV_IDLE`.
    pub const HAS_IDLE: &str = "has-idle";
    /// Topaz: the partition number, one u32.
    pub const GUEST_ID: &str = "guest-id";
    /// Topaz: the partition name, a string.
    pub const GUEST_NAME: &str = "guest-name";
    /// Topaz: {HV major, HV minor, FH_API_VERSION, FH_API_COMPAT_VERSION}; its presence
    /// means "Freescale hypervisor" to `drivers/virt/fsl_hypervisor.c`.
    pub const HV_VERSION: &str = "fsl,hv-version";
    /// Topaz, on the root node: `"ePAPR-1.0"`.
    pub const EPAPR_VERSION: &str = "epapr-version";
}

/// A problem with an `hcall-instructions` value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HcallError {
    /// No words: the generator never writes an empty property (D2).
    #[error("hcall-instructions needs 1 to 4 instruction words, got none")]
    Empty,
    /// More than four words.
    #[error("hcall-instructions holds at most 4 instruction words, got {0}")]
    TooManyWords(usize),
    /// A byte length Linux rejects (`len % 4 || len > 16` in
    /// `torvalds/linux: arch/powerpc/kernel/epapr_paravirt.c (early_init_dt_scan_epapr)`).
    #[error("hcall-instructions is {0} bytes; Linux requires a multiple of 4, at most 16")]
    BadLength(usize),
    /// A word that is not a 32-bit number.
    #[error("bad instruction word {word:?}: {reason}")]
    BadWord {
        /// The text given.
        word: String,
        /// Why it is not a u32.
        reason: String,
    },
}

/// The `hcall-instructions` value: 0–4 instruction words, big-endian in the blob.
///
/// [`HcallInstructions::new`] and the text parser require 1–4 words; reading a blob
/// also accepts zero bytes (D2), which [`HcallInstructions::is_empty`] reports and the
/// writer refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HcallInstructions {
    words: [u32; 4],
    len: usize,
}

impl HcallInstructions {
    /// Most words Linux copies into its hypercall stub (kvm-ppc-pv.md §4.4).
    pub const MAX_WORDS: usize = 4;

    /// 1–4 words.
    ///
    /// # Errors
    /// [`HcallError::Empty`] or [`HcallError::TooManyWords`].
    pub fn new(words: &[u32]) -> Result<Self, HcallError> {
        if words.is_empty() {
            return Err(HcallError::Empty);
        }
        Self::up_to_four(words)
    }

    fn up_to_four(words: &[u32]) -> Result<Self, HcallError> {
        let mut out = [0u32; 4];
        let dst = out
            .get_mut(..words.len())
            .ok_or(HcallError::TooManyWords(words.len()))?;
        dst.copy_from_slice(words);
        Ok(HcallInstructions {
            words: out,
            len: words.len(),
        })
    }

    /// The words of a named sequence (`kvm-pr`, `booke-hv`, `epapr`, ...).
    #[must_use]
    pub fn from_sequence(seq: KnownSequence) -> Self {
        // Every named sequence has 1..=4 words (insn::seq); fall back to nothing rather
        // than panic if that ever changed.
        Self::up_to_four(seq.words()).unwrap_or(HcallInstructions {
            words: [0; 4],
            len: 0,
        })
    }

    /// Decodes a property value: big-endian words, a byte length that is a multiple of
    /// 4 and at most 16; zero bytes give an empty value (D2).
    ///
    /// # Errors
    /// [`HcallError::BadLength`] for any other length.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, HcallError> {
        if !bytes.len().is_multiple_of(4) || bytes.len() > 16 {
            return Err(HcallError::BadLength(bytes.len()));
        }
        let words: Vec<u32> = be_words(bytes).collect();
        Self::up_to_four(&words)
    }

    /// The property value: each word big-endian.
    #[must_use]
    pub fn to_be_bytes(&self) -> Vec<u8> {
        self.words().iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    /// The words.
    #[must_use]
    pub fn words(&self) -> &[u32] {
        self.words.get(..self.len).unwrap_or(&[])
    }

    /// True for a zero-length property (read from a blob only).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The named sequence these words are, if any (`insn::seq::recognise`).
    #[must_use]
    pub fn sequence(&self) -> Option<KnownSequence> {
        crate::insn::seq::recognise(self.words())
    }
}

impl FromStr for HcallInstructions {
    type Err = HcallError;

    /// A sequence name (`kvm-pr`, `booke-hv`, `epapr`, `qemu-fallback`,
    /// `qemu-fallback-old`) or 1–4 words separated by commas or spaces, decimal or 0x
    /// hex, optionally in DTS brackets (`0x44000022,0x60000000`, `<0x44000022 0x0>`),
    /// parsed by [`crate::insn::parse_words`].
    fn from_str(s: &str) -> Result<Self, HcallError> {
        let s = s.trim();
        if let Some(seq) = KnownSequence::from_name(s) {
            return Ok(Self::from_sequence(seq));
        }
        if s.is_empty() {
            return Err(HcallError::Empty);
        }
        let words = crate::insn::parse_words(s).map_err(|e| HcallError::BadWord {
            word: e.text.clone(),
            reason: e.source.to_string(),
        })?;
        if words.len() > Self::MAX_WORDS {
            return Err(HcallError::TooManyWords(words.len()));
        }
        Self::new(&words)
    }
}

impl fmt::Display for HcallInstructions {
    /// dtc's cell syntax: `<0x3c004b56 0x60004d21 0x44000002 0x60000000>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<")?;
        for (i, w) in self.words().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{w:#010x}")?;
        }
        f.write_str(">")
    }
}

impl Serialize for HcallInstructions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.words().serialize(s)
    }
}

/// The two styles of node ppcpv writes (and D4's two profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// QEMU/KVM style: `"linux,kvm"`, four words, optional `has-idle`.
    Kvm,
    /// Topaz style: ePAPR compatibles, one `sc 1`, guest id/name, `fsl,hv-version`.
    Epapr,
}

impl Flavour {
    /// `"kvm"` or `"epapr"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Kvm => "kvm",
            Flavour::Epapr => "epapr",
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A problem reading a `/hypervisor` node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    /// `hcall-instructions` (or its legacy alias) has a length Linux rejects.
    #[error("{name}: {source}")]
    Hcall {
        /// Which spelling carried the bad value.
        name: &'static str,
        /// The length problem.
        #[source]
        source: HcallError,
    },
    /// A property whose bytes do not have its type (a string list without its final
    /// NUL, a `guest-id` that is not 4 bytes, ...).
    #[error("{name}: expected {expected}, got {len} bytes")]
    BadValue {
        /// Property name.
        name: &'static str,
        /// What the binding says it holds.
        expected: &'static str,
        /// The value's length.
        len: usize,
    },
}

/// A problem writing a `/hypervisor` node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NodeError {
    /// An empty `compatible` list, or an empty entry in it.
    #[error("compatible entries must be non-empty strings")]
    EmptyCompatible,
    /// `hcall-instructions` with no words (D2).
    #[error(transparent)]
    Hcall(#[from] HcallError),
    /// The tree writer refused something.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The `/hypervisor` node as data: what ppcpv writes and what it reads back.
///
/// ```
/// use ppcpv::dt::hypervisor::{Flavour, HcallInstructions, HypervisorNode};
/// use ppcpv::fdt::writer::{FdtBuilder, Padding};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A BookE-HV KVM host: sc 1 and three nops, EV_IDLE available.
/// let mut node = HypervisorNode::preset(Flavour::Kvm);
/// node.hcall = Some("booke-hv".parse::<HcallInstructions>()?);
/// node.has_idle = true;
///
/// // Inside a tree under construction (what a guest generator does)...
/// let mut w = FdtBuilder::new()?;
/// let root = w.begin_node("")?;
/// node.write_root_properties(&mut w)?;
/// node.write(&mut w)?;
/// w.end_node(root)?;
/// let blob = w.finish(&Padding::NONE)?;
///
/// // ...or as a minimal tree on its own.
/// let minimal = node.to_minimal_dtb(&Padding::NONE)?; // adds #address-cells, #size-cells
/// assert_eq!(minimal.len(), blob.len() + 59);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HypervisorNode {
    /// `compatible`, in order.
    pub compatible: Vec<String>,
    /// `hcall-instructions`; `None` when absent (QEMU pseries omits it when KVM cannot
    /// supply real instructions, kvm-ppc-pv.md §2.1).
    pub hcall: Option<HcallInstructions>,
    /// `has-idle` present.
    pub has_idle: bool,
    /// Topaz `guest-id` (opaque u32, D17).
    pub guest_id: Option<u32>,
    /// Topaz `guest-name`.
    pub guest_name: Option<String>,
    /// Topaz `fsl,hv-version`.
    pub hv_version: Option<[u32; 4]>,
    /// The root's `epapr-version` (Topaz writes `"ePAPR-1.0"`); written by
    /// [`HypervisorNode::write_root_properties`].
    pub epapr_version: Option<String>,
    /// Every other property of the node, untouched and in blob order.
    #[serde(skip)]
    pub extra: Vec<(String, Vec<u8>)>,
}

impl HypervisorNode {
    /// The preset of a flavour.
    ///
    /// `kvm`: `"linux,kvm"` and the `kvm-pr` sequence (Book3S PR and e500v2 hosts; QEMU
    /// copies whatever `KVM_PPC_GET_PVINFO` returns, kvm-ppc-pv.md §12 A/B), no `has-idle`.
    /// `epapr`: Topaz v1.3 as in kvm-ppc-pv.md §12 D: `"fsl,embedded-hypervisor-v1.3",
    /// "epapr,hypervisor-1"`, `sc 1`, `guest-id = <1>`, `guest-name = "part1"`,
    /// `fsl,hv-version = <1 3 1 1>` (HV 1.3, `FH_API_VERSION` 1 as in the Linux
    /// header, compat 1 as Topaz configurations show), root `epapr-version = "ePAPR-1.0"`.
    #[must_use]
    pub fn preset(flavour: Flavour) -> Self {
        match flavour {
            Flavour::Kvm => HypervisorNode {
                compatible: vec![COMPAT_KVM.to_owned()],
                hcall: Some(HcallInstructions::from_sequence(KnownSequence::KvmPr)),
                ..HypervisorNode::default()
            },
            Flavour::Epapr => HypervisorNode {
                compatible: vec![COMPAT_TOPAZ_V1_3.to_owned(), COMPAT_EPAPR.to_owned()],
                hcall: Some(HcallInstructions::from_sequence(KnownSequence::Epapr)),
                has_idle: false,
                guest_id: Some(1),
                guest_name: Some("part1".to_owned()),
                hv_version: Some([1, 3, 1, 1]),
                epapr_version: Some("ePAPR-1.0".to_owned()),
                extra: Vec::new(),
            },
        }
    }

    /// D4: `compatible` contains `"linux,kvm"` (Linux compares case-insensitively,
    /// `of_compat_cmp` = `strcasecmp` in `torvalds/linux: include/linux/of.h`).
    #[must_use]
    pub fn is_kvm(&self) -> bool {
        self.compatible
            .iter()
            .any(|c| c.eq_ignore_ascii_case(COMPAT_KVM))
    }

    /// D4: `compatible` contains `"epapr,hypervisor-1"`, or `fsl,hv-version` is present.
    #[must_use]
    pub fn is_epapr(&self) -> bool {
        self.hv_version.is_some()
            || self
                .compatible
                .iter()
                .any(|c| c.eq_ignore_ascii_case(COMPAT_EPAPR))
    }

    fn validate(&self) -> Result<(), NodeError> {
        if self.compatible.is_empty() || self.compatible.iter().any(String::is_empty) {
            return Err(NodeError::EmptyCompatible);
        }
        if self.hcall.is_some_and(|h| h.is_empty()) {
            return Err(NodeError::Hcall(HcallError::Empty));
        }
        Ok(())
    }

    /// Writes the root's properties that belong to this model (`epapr-version`). Call
    /// it while the root is open, before any child node.
    ///
    /// # Errors
    /// What the writer refuses (a duplicate property, a property after a child).
    pub fn write_root_properties(&self, w: &mut FdtBuilder) -> Result<(), NodeError> {
        if let Some(v) = &self.epapr_version {
            w.property_string(prop::EPAPR_VERSION, v)?;
        }
        Ok(())
    }

    /// Writes the `hypervisor` node as a child of the node currently open in `w`
    /// (normally the root). Properties come in this order: `compatible`,
    /// `hcall-instructions`, `has-idle` (QEMU's order), `guest-id`, `guest-name`,
    /// `fsl,hv-version`, then the extra properties.
    ///
    /// # Errors
    /// [`NodeError::EmptyCompatible`], [`NodeError::Hcall`] for zero words (D2), and
    /// whatever the writer refuses (an extra property repeating a modelled one, ...).
    pub fn write(&self, w: &mut FdtBuilder) -> Result<(), NodeError> {
        self.validate()?;
        let node = w.begin_node(NODE_NAME)?;
        w.property_string_list(prop::COMPATIBLE, &self.compatible)?;
        if let Some(h) = &self.hcall {
            w.property(prop::HCALL_INSTRUCTIONS, &h.to_be_bytes())?;
        }
        if self.has_idle {
            w.property_null(prop::HAS_IDLE)?;
        }
        if let Some(id) = self.guest_id {
            w.property_u32(prop::GUEST_ID, id)?;
        }
        if let Some(name) = &self.guest_name {
            w.property_string(prop::GUEST_NAME, name)?;
        }
        if let Some(v) = &self.hv_version {
            w.property_array_u32(prop::HV_VERSION, v)?;
        }
        for (name, value) in &self.extra {
            w.property(name, value)?;
        }
        w.end_node(node)?;
        Ok(())
    }

    /// A minimal DTB holding the root and this node. The root gets
    /// `#address-cells = <2>` and `#size-cells = <2>` (what QEMU's ppce500 and pseries
    /// roots use, so a generator can add 64-bit `reg`s) and [`Self::write_root_properties`].
    ///
    /// # Errors
    /// As [`HypervisorNode::write`], plus a bad `padding`.
    pub fn to_minimal_dtb(&self, padding: &Padding) -> Result<Vec<u8>, NodeError> {
        self.validate()?;
        let mut w = FdtBuilder::new()?;
        let root = w.begin_node("")?;
        w.property_u32("#address-cells", 2)?;
        w.property_u32("#size-cells", 2)?;
        self.write_root_properties(&mut w)?;
        self.write(&mut w)?;
        w.end_node(root)?;
        Ok(w.finish(padding)?)
    }

    /// Reads the node from its properties (name, value) in blob order, strictly: a bad
    /// `hcall-instructions` length or a mistyped property is an error. `hcall-instructions`
    /// wins over the legacy `hypercall-instructions`, which is used only when the former
    /// is absent (D1); `has-idle` counts by presence (D5). Unknown properties, and the
    /// legacy spelling when both exist, go to `extra`. Root `epapr-version` is not a
    /// property of this node; set it separately.
    ///
    /// # Errors
    /// [`ReadError`] naming the property.
    pub fn from_properties<'a, I>(props: I) -> Result<Self, ReadError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let props: Vec<(&str, &[u8])> = props.into_iter().collect();
        let has_main = props.iter().any(|(n, _)| *n == prop::HCALL_INSTRUCTIONS);
        let mut node = HypervisorNode::default();
        for (name, value) in props {
            match name {
                prop::COMPATIBLE => {
                    node.compatible = string_list(value).ok_or(ReadError::BadValue {
                        name: prop::COMPATIBLE,
                        expected: "a list of NUL-terminated strings",
                        len: value.len(),
                    })?;
                }
                prop::HCALL_INSTRUCTIONS => {
                    node.hcall =
                        Some(HcallInstructions::from_be_bytes(value).map_err(|source| {
                            ReadError::Hcall {
                                name: prop::HCALL_INSTRUCTIONS,
                                source,
                            }
                        })?);
                }
                prop::HYPERCALL_INSTRUCTIONS if !has_main => {
                    node.hcall =
                        Some(HcallInstructions::from_be_bytes(value).map_err(|source| {
                            ReadError::Hcall {
                                name: prop::HYPERCALL_INSTRUCTIONS,
                                source,
                            }
                        })?);
                }
                prop::HAS_IDLE => node.has_idle = true,
                prop::GUEST_ID => {
                    node.guest_id = Some(be_u32(value).ok_or(ReadError::BadValue {
                        name: prop::GUEST_ID,
                        expected: "one u32 (4 bytes)",
                        len: value.len(),
                    })?);
                }
                prop::GUEST_NAME => {
                    node.guest_name = Some(single_string(value).ok_or(ReadError::BadValue {
                        name: prop::GUEST_NAME,
                        expected: "a NUL-terminated string",
                        len: value.len(),
                    })?);
                }
                prop::HV_VERSION => {
                    node.hv_version = Some(be_u32x4(value).ok_or(ReadError::BadValue {
                        name: prop::HV_VERSION,
                        expected: "four u32 (16 bytes)",
                        len: value.len(),
                    })?);
                }
                _ => node.extra.push((name.to_owned(), value.to_vec())),
            }
        }
        Ok(node)
    }

    /// Reads `/hypervisor`, and the root's `epapr-version`, from a parsed tree, strictly
    /// as [`HypervisorNode::from_properties`]; `None` when the tree has no such node.
    ///
    /// # Errors
    /// [`ReadError`] naming the property.
    pub fn from_fdt(fdt: &crate::fdt::Fdt<'_>) -> Result<Option<Self>, ReadError> {
        let Some(n) = fdt.find(NODE_PATH) else {
            return Ok(None);
        };
        let mut node = Self::from_properties(n.properties().map(|p| (p.name, p.value)))?;
        if let Some(p) = fdt.root().property(prop::EPAPR_VERSION) {
            node.set_epapr_version_from(p.value)?;
        }
        Ok(Some(node))
    }

    /// Reads the root's `epapr-version` value into the model.
    ///
    /// # Errors
    /// [`ReadError::BadValue`] when it is not a single string.
    pub fn set_epapr_version_from(&mut self, value: &[u8]) -> Result<(), ReadError> {
        self.epapr_version = Some(single_string(value).ok_or(ReadError::BadValue {
            name: prop::EPAPR_VERSION,
            expected: "a NUL-terminated string",
            len: value.len(),
        })?);
        Ok(())
    }
}

/// Splits a string-list value (`"a\0b\0"`); `None` unless it ends in NUL and every
/// entry is UTF-8. An empty value is an empty list.
#[must_use]
pub fn string_list(value: &[u8]) -> Option<Vec<String>> {
    if value.is_empty() {
        return Some(Vec::new());
    }
    let body = value.strip_suffix(&[0])?;
    body.split(|&b| b == 0)
        .map(|s| std::str::from_utf8(s).ok().map(str::to_owned))
        .collect()
}

fn single_string(value: &[u8]) -> Option<String> {
    let body = value.strip_suffix(&[0])?;
    if body.contains(&0) {
        return None;
    }
    std::str::from_utf8(body).ok().map(str::to_owned)
}

fn be_u32(value: &[u8]) -> Option<u32> {
    let b: [u8; 4] = value.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn be_u32x4(value: &[u8]) -> Option<[u32; 4]> {
    if value.len() != 16 {
        return None;
    }
    let mut out = [0u32; 4];
    for (o, w) in out.iter_mut().zip(be_words(value)) {
        *o = w;
    }
    Some(out)
}

/// The big-endian words of `bytes` (a trailing partial word is ignored; callers check
/// the length first).
fn be_words(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KVM_PR: [u32; 4] = [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000];

    #[test]
    fn hcall_lengths_follow_linux() {
        for len in [1usize, 2, 3, 5, 6, 7, 17, 20] {
            assert_eq!(
                HcallInstructions::from_be_bytes(&vec![0; len]),
                Err(HcallError::BadLength(len))
            );
        }
        let empty = HcallInstructions::from_be_bytes(&[]).unwrap();
        assert!(empty.is_empty());
        let one = HcallInstructions::from_be_bytes(&[0x44, 0, 0, 0x22]).unwrap();
        assert_eq!(one.words(), &[0x4400_0022]);
        assert_eq!(HcallInstructions::new(&[]), Err(HcallError::Empty));
        assert_eq!(
            HcallInstructions::new(&[0; 5]),
            Err(HcallError::TooManyWords(5))
        );
        let h = HcallInstructions::new(&KVM_PR).unwrap();
        assert_eq!(HcallInstructions::from_be_bytes(&h.to_be_bytes()), Ok(h));
        assert_eq!(
            h.to_string(),
            "<0x3c004b56 0x60004d21 0x44000002 0x60000000>"
        );
    }

    #[test]
    fn hcall_text_takes_names_or_words() {
        let h: HcallInstructions = "kvm-pr".parse().unwrap();
        assert_eq!(h.words(), &KVM_PR);
        assert_eq!(h.sequence(), Some(KnownSequence::KvmPr));
        let h: HcallInstructions = "0x44000022, 0x60000000".parse().unwrap();
        assert_eq!(h.words(), &[0x4400_0022, 0x6000_0000]);
        let d: HcallInstructions = "<0x44000022 0x60000000>".parse().unwrap();
        assert_eq!(d, h);
        assert_eq!("<>".parse::<HcallInstructions>(), Err(HcallError::Empty));
        assert_eq!(
            "1,2,3,4,5".parse::<HcallInstructions>(),
            Err(HcallError::TooManyWords(5))
        );
        assert!(matches!(
            "0x100000000".parse::<HcallInstructions>(),
            Err(HcallError::BadWord { .. })
        ));
        assert!(matches!(
            "no-such-sequence".parse::<HcallInstructions>(),
            Err(HcallError::BadWord { .. })
        ));
        assert_eq!("".parse::<HcallInstructions>(), Err(HcallError::Empty));
    }

    #[test]
    fn presets_round_trip_through_properties() {
        for f in [Flavour::Kvm, Flavour::Epapr] {
            let node = HypervisorNode::preset(f);
            let mut w = FdtBuilder::new().unwrap();
            let root = w.begin_node("").unwrap();
            node.write(&mut w).unwrap();
            w.end_node(root).unwrap();
            // Re-read with the raw properties the writer produced, in order.
            let mut props: Vec<(&str, Vec<u8>)> = vec![(
                prop::COMPATIBLE,
                node.compatible
                    .iter()
                    .flat_map(|c| c.bytes().chain([0]))
                    .collect(),
            )];
            props.push((prop::HCALL_INSTRUCTIONS, node.hcall.unwrap().to_be_bytes()));
            if let Some(id) = node.guest_id {
                props.push((prop::GUEST_ID, id.to_be_bytes().to_vec()));
            }
            if let Some(n) = &node.guest_name {
                props.push((prop::GUEST_NAME, format!("{n}\0").into_bytes()));
            }
            if let Some(v) = node.hv_version {
                props.push((
                    prop::HV_VERSION,
                    v.iter().flat_map(|x| x.to_be_bytes()).collect(),
                ));
            }
            let mut back =
                HypervisorNode::from_properties(props.iter().map(|(n, v)| (*n, v.as_slice())))
                    .unwrap();
            back.epapr_version = node.epapr_version.clone();
            assert_eq!(back, node);
        }
        assert!(HypervisorNode::preset(Flavour::Kvm).is_kvm());
        assert!(!HypervisorNode::preset(Flavour::Kvm).is_epapr());
        assert!(HypervisorNode::preset(Flavour::Epapr).is_epapr());
        assert!(!HypervisorNode::preset(Flavour::Epapr).is_kvm());
    }

    #[test]
    fn presets_round_trip_through_a_blob() {
        for f in [Flavour::Kvm, Flavour::Epapr] {
            let mut node = HypervisorNode::preset(f);
            node.has_idle = true;
            node.extra.push((
                "fsl,hv-sys-reset-status".to_owned(),
                b"hard-reset\0".to_vec(),
            ));
            let blob = node.to_minimal_dtb(&Padding::NONE).unwrap();
            let fdt = crate::fdt::Fdt::new(&blob).unwrap();
            assert_eq!(HypervisorNode::from_fdt(&fdt).unwrap(), Some(node));
        }
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::NONE).unwrap();
        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        assert_eq!(HypervisorNode::from_fdt(&fdt).unwrap(), None);
    }

    #[test]
    fn reading_applies_d1_and_d5() {
        let legacy = [0x44u8, 0, 0, 0x22];
        let main = [0x44u8, 0, 0, 0x02];
        let n = HypervisorNode::from_properties([
            (prop::HYPERCALL_INSTRUCTIONS, &legacy[..]),
            (prop::HAS_IDLE, &[1u8][..]),
        ])
        .unwrap();
        assert_eq!(n.hcall.unwrap().words(), &[0x4400_0022]);
        assert!(n.has_idle);
        let n = HypervisorNode::from_properties([
            (prop::HYPERCALL_INSTRUCTIONS, &legacy[..]),
            (prop::HCALL_INSTRUCTIONS, &main[..]),
        ])
        .unwrap();
        assert_eq!(n.hcall.unwrap().words(), &[0x4400_0002]);
        assert_eq!(n.extra.len(), 1);
        assert_eq!(
            HypervisorNode::from_properties([(prop::HCALL_INSTRUCTIONS, &[0u8; 6][..])]),
            Err(ReadError::Hcall {
                name: prop::HCALL_INSTRUCTIONS,
                source: HcallError::BadLength(6)
            })
        );
        assert!(matches!(
            HypervisorNode::from_properties([(prop::GUEST_ID, &[0u8; 8][..])]),
            Err(ReadError::BadValue { len: 8, .. })
        ));
        assert!(matches!(
            HypervisorNode::from_properties([(prop::COMPATIBLE, &b"linux,kvm"[..])]),
            Err(ReadError::BadValue { .. })
        ));
    }

    #[test]
    fn writer_refuses_impossible_nodes() {
        let mut n = HypervisorNode::preset(Flavour::Kvm);
        n.compatible = vec![String::new()];
        assert_eq!(
            n.to_minimal_dtb(&Padding::NONE),
            Err(NodeError::EmptyCompatible)
        );
        let mut n = HypervisorNode::preset(Flavour::Kvm);
        n.hcall = Some(HcallInstructions::from_be_bytes(&[]).unwrap());
        assert_eq!(
            n.to_minimal_dtb(&Padding::NONE),
            Err(NodeError::Hcall(HcallError::Empty))
        );
        let mut n = HypervisorNode::preset(Flavour::Kvm);
        n.extra.push((prop::HAS_IDLE.to_owned(), Vec::new()));
        n.has_idle = true;
        assert!(matches!(
            n.to_minimal_dtb(&Padding::NONE),
            Err(NodeError::Write(WriteError::DuplicateProperty { .. }))
        ));
    }

    #[test]
    fn string_lists() {
        assert_eq!(
            string_list(b"a\0b\0"),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(string_list(b""), Some(vec![]));
        assert_eq!(string_list(b"a"), None);
        assert_eq!(single_string(b"a\0b\0"), None);
    }
}
