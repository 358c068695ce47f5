//! The `/hypervisor` node: how a PowerPC guest learns it runs under KVM or an ePAPR
//! hypervisor, and which instructions make a hypercall.
//!
//! Producers. QEMU's ppce500 and pseries machines write `compatible = "linux,kvm"`, the
//! 16 bytes `KVM_PPC_GET_PVINFO` returned as `hcall-instructions` and, on e500 when KVM
//! reports `KVM_PPC_PVINFO_FLAGS_EV_IDLE`, an empty `has-idle` (`qemu/qemu:
//! hw/ppc/e500.c (ppce500_load_device_tree)`, `hw/ppc/spapr.c (spapr_dt_hypervisor)`).
//! NXP's Topaz hypervisor writes `"fsl,embedded-hypervisor-v1.3", "epapr,hypervisor-1"`,
//! a single `sc 1`, `guest-id`, `guest-name`, `fsl,hv-version` and, on the root,
//! `epapr-version` (`nxp-qoriq-yocto-sdk/hypervisor: src/guest.c`).
//!
//! Consumers. Linux detects KVM from `/hypervisor`'s `compatible` (`torvalds/linux:
//! arch/powerpc/kernel/firmware.c (check_kvm_guest)`) and patches its hypercall stub from
//! the first node with `hcall-instructions` (`arch/powerpc/kernel/epapr_paravirt.c
//! (early_init_dt_scan_epapr)`); [`crate::dt::checks`] says what it would do with a tree.
//!
//! How this model reads and writes the node, and why:
//! - Property name. Every producer and consumer above uses `hcall-instructions`; only
//!   `Documentation/virt/kvm/ppc-pv.rst` spells it `hypercall-instructions`, and no code
//!   reads that. So ppcpv always writes `hcall-instructions` and reads the documented
//!   spelling only as a fallback alias, so trees written from the documentation can still
//!   be examined.
//! - Length. `early_init_dt_scan_epapr` rejects a value whose length is not a multiple
//!   of 4 or exceeds 16 bytes, so reading such a value is a typed error. A zero-length
//!   value passes Linux's test but patches nothing, so the guest's stub keeps returning -1
//!   for every hypercall: it reads as "no instructions", and the writer refuses it.
//! - Profiles. `"linux,kvm"` (KVM) and `"epapr,hypervisor-1"` or `fsl,hv-version` (an
//!   ePAPR hypervisor, as `drivers/virt/fsl_hypervisor.c` recognises Topaz) are tested
//!   independently: a node may declare both, one or neither ([`Flavours`]).
//! - `has-idle`. Linux only asks whether it exists (`of_get_flat_dt_prop(node,
//!   "has-idle", NULL)`), so it is written empty and read by presence.
//! - Topaz values. `guest-id` is kept as the u32 Topaz writes and `epapr-version` as
//!   its string; no guest code gives either a meaning ppcpv could check.
//!
//! The node can be written into ppcpv's [`FdtBuilder`] or straight into a VMM's own
//! [`vm_fdt::FdtWriter`] ([`HypervisorNode::write`], [`TreeWriter`]); both take their
//! properties from [`HypervisorNode::properties`], so the two cannot drift apart.

use crate::endian::be;
use crate::fdt::writer::{FdtBuilder, NodeToken, Padding, WriteError};
use crate::insn::seq::KnownSequence;
use alloc::borrow::{Cow, ToOwned};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;
use thiserror::Error;

/// Name of the node under the root.
pub const NODE_NAME: &str = "hypervisor";
/// Path Linux looks up for KVM detection (`torvalds/linux: arch/powerpc/kernel/firmware.c
/// (check_kvm_guest)`).
pub const NODE_PATH: &str = "/hypervisor";

/// `compatible` entry that makes Linux detect KVM (`check_kvm_guest` tests
/// `of_device_is_compatible(hyper_node, "linux,kvm")`).
pub const COMPAT_KVM: &str = "linux,kvm";
/// `compatible` entry of an ePAPR hypervisor; of the known producers only Topaz writes it
/// (`nxp-qoriq-yocto-sdk/hypervisor: src/guest.c`).
pub const COMPAT_EPAPR: &str = "epapr,hypervisor-1";
/// Topaz v1.3's own `compatible` entry: `guest.c` formats
/// `"fsl,embedded-hypervisor-v%d.%d"` with the Makefile's `VERSION=1`, `SUBVERSION=3`.
pub const COMPAT_TOPAZ_V1_3: &str = "fsl,embedded-hypervisor-v1.3";

/// Property names of the node (and the root's `epapr-version`).
pub mod prop {
    /// String list.
    pub const COMPATIBLE: &str = "compatible";
    /// 1–4 big-endian instruction words; the name every implementation uses.
    pub const HCALL_INSTRUCTIONS: &str = "hcall-instructions";
    /// The spelling of `Documentation/virt/kvm/ppc-pv.rst`, read by no code; ppcpv
    /// accepts it on input only, when `hcall-instructions` is absent.
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
#[non_exhaustive]
pub enum HcallError {
    /// No words: the writer never produces an empty property, because Linux would enable
    /// paravirtualization with a stub that fails every hypercall.
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
/// also accepts zero bytes (Linux does too, and then patches nothing), which
/// [`HcallInstructions::is_empty`] reports and the writer refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HcallInstructions {
    words: [u32; 4],
    len: usize,
}

impl HcallInstructions {
    /// Most words Linux copies into its hypercall stub (the `len > 4 * 4` test of
    /// `early_init_dt_scan_epapr`; the stub `epapr_hypercall_start` in
    /// `arch/powerpc/kernel/epapr_hcalls.S` has four patchable slots).
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
    /// 4 and at most 16, as Linux requires; zero bytes give an empty value.
    ///
    /// # Errors
    /// [`HcallError::BadLength`] for any other length.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, HcallError> {
        if bytes.len() > 4 * Self::MAX_WORDS {
            return Err(HcallError::BadLength(bytes.len()));
        }
        let words = be::cells(bytes).ok_or(HcallError::BadLength(bytes.len()))?;
        Self::up_to_four(&words)
    }

    /// The property value: each word big-endian.
    #[must_use]
    pub fn to_be_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 * self.len);
        for &w in self.words() {
            be::push_u32(&mut out, w);
        }
        out
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

#[cfg(feature = "serde")]
impl serde::Serialize for HcallInstructions {
    /// The words, as an array of numbers.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.words().serialize(s)
    }
}

/// The two styles of node ppcpv writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Flavour {
    /// QEMU/KVM style: `"linux,kvm"`, four words, optional `has-idle`.
    Kvm,
    /// Topaz style: ePAPR compatibles, one `sc 1`, guest id/name, `fsl,hv-version`.
    Epapr,
}

impl Flavour {
    /// Every flavour.
    pub const ALL: [Flavour; 2] = [Flavour::Kvm, Flavour::Epapr];

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

/// The flavours a node declares. KVM and ePAPR are separate questions with separate
/// consumers (Linux's `check_kvm_guest` looks for `"linux,kvm"`; the Freescale hypervisor
/// driver for `fsl,hv-version`), so a node may declare both, one or neither.
///
/// ```
/// use ppcpv::dt::hypervisor::{Flavour, Flavours, HypervisorNode};
///
/// let f = HypervisorNode::preset(Flavour::Epapr).flavours();
/// assert!(f.contains(Flavour::Epapr) && !f.contains(Flavour::Kvm));
/// assert_eq!(f.with(Flavour::Kvm).to_string(), "kvm+epapr");
/// assert_eq!(Flavours::NONE.to_string(), "unknown");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flavours {
    kvm: bool,
    epapr: bool,
}

impl Flavours {
    /// Neither flavour.
    pub const NONE: Flavours = Flavours {
        kvm: false,
        epapr: false,
    };

    /// What a node with this `compatible` list declares: KVM when an entry is
    /// `"linux,kvm"`, ePAPR when an entry is `"epapr,hypervisor-1"` or `has_hv_version`
    /// (the node has `fsl,hv-version`). Entries compare case-insensitively, as Linux's
    /// `of_compat_cmp` (`strcasecmp`, `torvalds/linux: include/linux/of.h`) does.
    #[must_use]
    pub fn declared<S: AsRef<str>>(compatible: &[S], has_hv_version: bool) -> Self {
        let has = |want: &str| {
            compatible
                .iter()
                .any(|c| c.as_ref().eq_ignore_ascii_case(want))
        };
        Flavours {
            kvm: has(COMPAT_KVM),
            epapr: has_hv_version || has(COMPAT_EPAPR),
        }
    }

    /// This set plus `flavour`.
    #[must_use]
    pub const fn with(self, flavour: Flavour) -> Self {
        match flavour {
            Flavour::Kvm => Flavours { kvm: true, ..self },
            Flavour::Epapr => Flavours {
                epapr: true,
                ..self
            },
        }
    }

    /// True when `flavour` is declared.
    #[must_use]
    pub const fn contains(self, flavour: Flavour) -> bool {
        match flavour {
            Flavour::Kvm => self.kvm,
            Flavour::Epapr => self.epapr,
        }
    }

    /// True when neither flavour is declared.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        !self.kvm && !self.epapr
    }

    /// `kvm`, `epapr`, `kvm+epapr` or `unknown`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match (self.kvm, self.epapr) {
            (true, true) => "kvm+epapr",
            (true, false) => "kvm",
            (false, true) => "epapr",
            (false, false) => "unknown",
        }
    }
}

impl fmt::Display for Flavours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Flavours {
    /// The name: `"kvm"`, `"epapr"`, `"kvm+epapr"` or `"unknown"`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A problem reading a `/hypervisor` node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
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
#[derive(Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NodeError {
    /// An empty `compatible` list, or an empty entry in it.
    #[error("compatible entries must be non-empty strings")]
    EmptyCompatible,
    /// `hcall-instructions` with no words.
    #[error(transparent)]
    Hcall(#[from] HcallError),
    /// A string value (a `compatible` entry, `guest-name`, `epapr-version`) holds a NUL
    /// byte, which would split it in two.
    #[error("{0} must not contain a NUL byte")]
    NulInString(&'static str),
    /// Two properties of the node would have the same name (an extra property repeating
    /// a modelled one, or two extras).
    #[error("property {0} would be written twice")]
    DuplicateProperty(String),
    /// ppcpv's tree writer refused something.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The caller's `vm_fdt::FdtWriter` refused something (a property name longer than
    /// its 31 characters, a node that is not open, ...).
    #[error("vm-fdt: {0}")]
    VmFdt(vm_fdt::Error),
}

impl From<vm_fdt::Error> for NodeError {
    fn from(e: vm_fdt::Error) -> Self {
        NodeError::VmFdt(e)
    }
}

/// A device-tree writer a [`HypervisorNode`] can be written into: ppcpv's [`FdtBuilder`],
/// or the [`vm_fdt::FdtWriter`] a VMM already builds its board with.
///
/// The trait is sealed: its methods are private, so it can gain writers later without
/// breaking anyone.
pub trait TreeWriter: sealed::Sink {}

impl TreeWriter for FdtBuilder {}
impl TreeWriter for vm_fdt::FdtWriter {}

mod sealed {
    use super::NodeError;

    /// The three calls writing a node takes.
    pub trait Sink {
        /// The open-node token.
        type Open;
        /// Opens a child of the current node.
        fn open(&mut self, name: &str) -> Result<Self::Open, NodeError>;
        /// Adds a property to the open node.
        fn prop(&mut self, name: &str, value: &[u8]) -> Result<(), NodeError>;
        /// Closes the node.
        fn close(&mut self, node: Self::Open) -> Result<(), NodeError>;
    }

    impl Sink for crate::fdt::writer::FdtBuilder {
        type Open = super::NodeToken;
        fn open(&mut self, name: &str) -> Result<Self::Open, NodeError> {
            Ok(self.begin_node(name)?)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> Result<(), NodeError> {
            Ok(self.property(name, value)?)
        }
        fn close(&mut self, node: Self::Open) -> Result<(), NodeError> {
            Ok(self.end_node(node)?)
        }
    }

    impl Sink for vm_fdt::FdtWriter {
        type Open = vm_fdt::FdtWriterNode;
        fn open(&mut self, name: &str) -> Result<Self::Open, NodeError> {
            Ok(self.begin_node(name)?)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> Result<(), NodeError> {
            Ok(self.property(name, value)?)
        }
        fn close(&mut self, node: Self::Open) -> Result<(), NodeError> {
            Ok(self.end_node(node)?)
        }
    }
}

/// One property as the node writes it: its name and its encoded value.
pub type NodeProperty<'a> = (&'a str, Cow<'a, [u8]>);

/// The `/hypervisor` node as data: what ppcpv writes and what it reads back.
///
/// Build one with [`HypervisorNode::preset`], [`HypervisorNode::new`],
/// [`crate::dt::pvinfo::KvmPpcPvinfo::to_node`] or by reading a tree, then change fields
/// or chain the `with_*` methods.
///
/// ```
/// use ppcpv::dt::hypervisor::{Flavour, HcallInstructions, HypervisorNode};
/// use ppcpv::fdt::writer::{FdtBuilder, Padding};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A BookE-HV KVM host: sc 1 and three nops, EV_IDLE available.
/// let node = HypervisorNode::preset(Flavour::Kvm)
///     .with_hcall("booke-hv".parse::<HcallInstructions>()?)
///     .with_has_idle(true);
///
/// // Inside a tree under construction (what a guest generator does)...
/// let mut w = FdtBuilder::new()?;
/// let root = w.begin_node("")?;
/// node.write_root_properties(&mut w)?;
/// node.write(&mut w)?;
/// w.end_node(root)?;
/// let blob = w.finish(&Padding::NONE)?;
///
/// // ...or into a VMM's own vm-fdt writer, the same way...
/// let mut vm = vm_fdt::FdtWriter::new()?;
/// let root = vm.begin_node("")?;
/// node.write(&mut vm)?;
/// vm.end_node(root)?;
/// assert_eq!(vm.finish()?, blob);
///
/// // ...or as a minimal tree on its own.
/// let minimal = node.to_minimal_dtb(&Padding::NONE)?; // adds #address-cells, #size-cells
/// assert_eq!(minimal.len(), blob.len() + 59);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct HypervisorNode {
    /// `compatible`, in order.
    pub compatible: Vec<String>,
    /// `hcall-instructions`; `None` when absent (QEMU pseries omits it when KVM cannot
    /// supply real instructions: `spapr_dt_hypervisor` writes it only when
    /// `kvmppc_get_hypercall` succeeds).
    pub hcall: Option<HcallInstructions>,
    /// `has-idle` present.
    pub has_idle: bool,
    /// Topaz `guest-id`, kept as the u32 Topaz writes.
    pub guest_id: Option<u32>,
    /// Topaz `guest-name`.
    pub guest_name: Option<String>,
    /// Topaz `fsl,hv-version`.
    pub hv_version: Option<[u32; 4]>,
    /// The root's `epapr-version` (Topaz writes `"ePAPR-1.0"`); written by
    /// [`HypervisorNode::write_root_properties`].
    pub epapr_version: Option<String>,
    /// Every other property of the node, untouched and in blob order.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub extra: Vec<(String, Vec<u8>)>,
}

impl HypervisorNode {
    /// A node with this `compatible` list and nothing else.
    #[must_use]
    pub fn new<I, S>(compatible: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        HypervisorNode {
            compatible: compatible.into_iter().map(Into::into).collect(),
            ..HypervisorNode::default()
        }
    }

    /// The preset of a flavour.
    ///
    /// `kvm`: `"linux,kvm"` and the `kvm-pr` sequence, no `has-idle`. `kvm-pr` is what
    /// `KVM_PPC_GET_PVINFO` answers on Book3S PR and e500v2 hosts (`torvalds/linux:
    /// arch/powerpc/kvm/powerpc.c (kvm_vm_ioctl_get_pvinfo)`), and QEMU copies that answer
    /// unchanged (`qemu/qemu: target/ppc/kvm.c (kvmppc_get_hypercall)`).
    ///
    /// `epapr`: what Topaz v1.3 writes for a partition (`nxp-qoriq-yocto-sdk/hypervisor:
    /// src/guest.c`): `"fsl,embedded-hypervisor-v1.3", "epapr,hypervisor-1"`, `sc 1`,
    /// `guest-id = <1>`, `guest-name = "part1"`, `fsl,hv-version = <1 3 3 2>`, root
    /// `epapr-version = "ePAPR-1.0"`. Topaz fills `fsl,hv-version` from its
    /// `hv_version[4]` table (`src/guest.c`): `CONFIG_HV_MAJOR_VERSION`,
    /// `CONFIG_HV_MINOR_VERSION` (1.3), then the API numbers of its own `include/hv.h`,
    /// `FH_API_VERSION` (3 in v1.3) and `FH_API_COMPAT_VERSION` (2 in v1.3; both were
    /// 1 only in the 2008-2009 pre-releases). Linux's
    /// `arch/powerpc/include/asm/fsl_hcalls.h` has an `FH_API_VERSION` of 1 too, but
    /// that is the guest header's number, not what the hypervisor writes.
    #[must_use]
    pub fn preset(flavour: Flavour) -> Self {
        match flavour {
            Flavour::Kvm => HypervisorNode {
                compatible: alloc::vec![COMPAT_KVM.to_owned()],
                hcall: Some(HcallInstructions::from_sequence(KnownSequence::KvmPr)),
                ..HypervisorNode::default()
            },
            Flavour::Epapr => HypervisorNode {
                compatible: alloc::vec![COMPAT_TOPAZ_V1_3.to_owned(), COMPAT_EPAPR.to_owned()],
                hcall: Some(HcallInstructions::from_sequence(KnownSequence::Epapr)),
                has_idle: false,
                guest_id: Some(1),
                guest_name: Some("part1".to_owned()),
                hv_version: Some([1, 3, 3, 2]),
                epapr_version: Some("ePAPR-1.0".to_owned()),
                extra: Vec::new(),
            },
        }
    }

    /// This node with `hcall-instructions` set to `hcall`.
    #[must_use]
    pub fn with_hcall(mut self, hcall: HcallInstructions) -> Self {
        self.hcall = Some(hcall);
        self
    }

    /// This node with `has-idle` present or not.
    #[must_use]
    pub fn with_has_idle(mut self, has_idle: bool) -> Self {
        self.has_idle = has_idle;
        self
    }

    /// This node with a Topaz `guest-id`.
    #[must_use]
    pub fn with_guest_id(mut self, id: u32) -> Self {
        self.guest_id = Some(id);
        self
    }

    /// This node with a Topaz `guest-name`.
    #[must_use]
    pub fn with_guest_name(mut self, name: impl Into<String>) -> Self {
        self.guest_name = Some(name.into());
        self
    }

    /// This node with a Topaz `fsl,hv-version`.
    #[must_use]
    pub fn with_hv_version(mut self, version: [u32; 4]) -> Self {
        self.hv_version = Some(version);
        self
    }

    /// This node with the root's `epapr-version`.
    #[must_use]
    pub fn with_epapr_version(mut self, version: impl Into<String>) -> Self {
        self.epapr_version = Some(version.into());
        self
    }

    /// This node with one more property, written after the modelled ones.
    #[must_use]
    pub fn with_extra(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The flavours the node declares ([`Flavours::declared`]).
    #[must_use]
    pub fn flavours(&self) -> Flavours {
        Flavours::declared(&self.compatible, self.hv_version.is_some())
    }

    /// `compatible` contains `"linux,kvm"`: Linux detects KVM.
    #[must_use]
    pub fn is_kvm(&self) -> bool {
        self.flavours().contains(Flavour::Kvm)
    }

    /// `compatible` contains `"epapr,hypervisor-1"`, or `fsl,hv-version` is present.
    #[must_use]
    pub fn is_epapr(&self) -> bool {
        self.flavours().contains(Flavour::Epapr)
    }

    /// The node's properties in the order they are written: `compatible`,
    /// `hcall-instructions`, `has-idle` (QEMU's order), `guest-id`, `guest-name`,
    /// `fsl,hv-version`, then the extra properties. Every writer takes them from here.
    ///
    /// # Errors
    /// [`NodeError::EmptyCompatible`], [`NodeError::Hcall`] for zero words,
    /// [`NodeError::NulInString`], [`NodeError::DuplicateProperty`].
    pub fn properties(&self) -> Result<Vec<NodeProperty<'_>>, NodeError> {
        if self.compatible.is_empty() || self.compatible.iter().any(String::is_empty) {
            return Err(NodeError::EmptyCompatible);
        }
        if self.compatible.iter().any(|c| c.contains('\0')) {
            return Err(NodeError::NulInString(prop::COMPATIBLE));
        }
        let mut out: Vec<NodeProperty<'_>> = Vec::new();
        let mut compatible = Vec::new();
        for c in &self.compatible {
            compatible.extend_from_slice(c.as_bytes());
            compatible.push(0);
        }
        out.push((prop::COMPATIBLE, Cow::Owned(compatible)));
        if let Some(h) = &self.hcall {
            if h.is_empty() {
                return Err(NodeError::Hcall(HcallError::Empty));
            }
            out.push((prop::HCALL_INSTRUCTIONS, Cow::Owned(h.to_be_bytes())));
        }
        if self.has_idle {
            out.push((prop::HAS_IDLE, Cow::Borrowed(&[])));
        }
        if let Some(id) = self.guest_id {
            let mut v = Vec::with_capacity(4);
            be::push_u32(&mut v, id);
            out.push((prop::GUEST_ID, Cow::Owned(v)));
        }
        if let Some(name) = &self.guest_name {
            out.push((
                prop::GUEST_NAME,
                Cow::Owned(string_value(prop::GUEST_NAME, name)?),
            ));
        }
        if let Some(version) = &self.hv_version {
            let mut v = Vec::with_capacity(16);
            for &x in version {
                be::push_u32(&mut v, x);
            }
            out.push((prop::HV_VERSION, Cow::Owned(v)));
        }
        for (name, value) in &self.extra {
            out.push((name.as_str(), Cow::Borrowed(value.as_slice())));
        }
        for (i, (name, _)) in out.iter().enumerate() {
            if out.iter().take(i).any(|(n, _)| n == name) {
                return Err(NodeError::DuplicateProperty((*name).to_owned()));
            }
        }
        Ok(out)
    }

    /// Writes the root's properties that belong to this model (`epapr-version`) into
    /// `w`, ppcpv's [`FdtBuilder`] or a [`vm_fdt::FdtWriter`]. Call it while the root is
    /// open, before any child node.
    ///
    /// # Errors
    /// [`NodeError::NulInString`], and what the writer refuses (a duplicate property, a
    /// property after a child).
    pub fn write_root_properties<W: TreeWriter>(&self, w: &mut W) -> Result<(), NodeError> {
        if let Some(v) = &self.epapr_version {
            w.prop(prop::EPAPR_VERSION, &string_value(prop::EPAPR_VERSION, v)?)?;
        }
        Ok(())
    }

    /// Writes the `hypervisor` node as a child of the node currently open in `w`
    /// (normally the root): ppcpv's [`FdtBuilder`], or the [`vm_fdt::FdtWriter`] a VMM
    /// builds its board with (`begin_node("hypervisor")`, the properties, `end_node`, as
    /// QEMU's `ppce500_load_device_tree` does with its own writer). The properties are
    /// those of [`HypervisorNode::properties`], in that order.
    ///
    /// # Errors
    /// As [`HypervisorNode::properties`], and whatever the writer refuses:
    /// [`NodeError::Write`] from an [`FdtBuilder`], [`NodeError::VmFdt`] from vm-fdt.
    pub fn write<W: TreeWriter>(&self, w: &mut W) -> Result<(), NodeError> {
        let props = self.properties()?;
        let node = w.open(NODE_NAME)?;
        for (name, value) in &props {
            w.prop(name, value)?;
        }
        w.close(node)
    }

    /// A minimal DTB holding the root and this node. The root gets
    /// `#address-cells = <2>` and `#size-cells = <2>` (what QEMU's ppce500 and pseries
    /// roots use, so a generator can add 64-bit `reg`s) and [`Self::write_root_properties`].
    ///
    /// # Errors
    /// As [`HypervisorNode::write`], plus a bad `padding`.
    pub fn to_minimal_dtb(&self, padding: &Padding) -> Result<Vec<u8>, NodeError> {
        let mut w = FdtBuilder::new()?;
        let root = w.begin_node("")?;
        w.property_u32("#address-cells", 2)?;
        w.property_u32("#size-cells", 2)?;
        self.write_root_properties(&mut w)?;
        self.write(&mut w)?;
        w.end_node(root)?;
        Ok(w.finish(padding)?)
    }

    /// An overlay (`.dtbo`) that adds this node to the root of whatever tree it is
    /// applied to: one fragment, `target-path = "/"`, the node in its `__overlay__`, as
    /// `dtc -I dts -O dtb` compiles the equivalent `/plugin/` source. Like
    /// [`crate::dt::patch`], it carries the node only, not the root's `epapr-version`,
    /// so `fdtoverlay` of it onto a tree without the node gives the tree
    /// [`crate::dt::patch::patch`] gives (libfdt adds the node as the root's first child
    /// and its properties in reverse order; the nodes, properties and values are the
    /// same).
    ///
    /// ```
    /// use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
    /// use ppcpv::fdt::{Fdt, writer::Padding};
    ///
    /// let dtbo = HypervisorNode::preset(Flavour::Kvm).to_overlay(&Padding::NONE)?;
    /// let fdt = Fdt::new(&dtbo)?;
    /// let frag = fdt.find("/fragment@0").unwrap();
    /// assert_eq!(frag.property("target-path").unwrap().value, b"/\0");
    /// assert!(fdt.find("/fragment@0/__overlay__/hypervisor").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`HypervisorNode::write`], plus a bad `padding`.
    pub fn to_overlay(&self, padding: &Padding) -> Result<Vec<u8>, NodeError> {
        let mut w = FdtBuilder::new()?;
        let root = w.begin_node("")?;
        let fragment = w.begin_node("fragment@0")?;
        w.property_string("target-path", "/")?;
        let overlay = w.begin_node("__overlay__")?;
        self.write(&mut w)?;
        w.end_node(overlay)?;
        w.end_node(fragment)?;
        w.end_node(root)?;
        Ok(w.finish(padding)?)
    }

    /// Reads the node from its properties (name, value) in blob order, strictly: a bad
    /// `hcall-instructions` length or a mistyped property is an error.
    /// `hcall-instructions` wins over the documented spelling `hypercall-instructions`,
    /// which is used only when the former is absent (Linux reads only the former; the
    /// alias lets trees written from `ppc-pv.rst` be examined). `has-idle` counts by
    /// presence, as in Linux. Unknown properties, and the documented spelling when both
    /// exist, go to `extra`. Root `epapr-version` is not a property of this node; set it
    /// separately.
    ///
    /// # Errors
    /// [`ReadError`] naming the property.
    pub fn from_properties<'a, I>(props: I) -> Result<Self, ReadError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let props: Vec<(&str, &[u8])> = props.into_iter().collect();
        let has_main = props.iter().any(|(n, _)| *n == prop::HCALL_INSTRUCTIONS);
        let hcall = |name: &'static str, value: &[u8]| {
            HcallInstructions::from_be_bytes(value)
                .map_err(|source| ReadError::Hcall { name, source })
        };
        let mut node = HypervisorNode::default();
        for (name, value) in props {
            let bad = |name: &'static str, expected: &'static str| ReadError::BadValue {
                name,
                expected,
                len: value.len(),
            };
            match name {
                prop::COMPATIBLE => {
                    node.compatible = string_list(value)
                        .ok_or(bad(prop::COMPATIBLE, "a list of NUL-terminated strings"))?;
                }
                prop::HCALL_INSTRUCTIONS => {
                    node.hcall = Some(hcall(prop::HCALL_INSTRUCTIONS, value)?);
                }
                prop::HYPERCALL_INSTRUCTIONS if !has_main => {
                    node.hcall = Some(hcall(prop::HYPERCALL_INSTRUCTIONS, value)?);
                }
                prop::HAS_IDLE => node.has_idle = true,
                prop::GUEST_ID => {
                    let id = (value.len() == 4)
                        .then(|| be::u32_at(value, 0))
                        .flatten()
                        .ok_or(bad(prop::GUEST_ID, "one u32 (4 bytes)"))?;
                    node.guest_id = Some(id);
                }
                prop::GUEST_NAME => {
                    node.guest_name = Some(
                        single_string(value)
                            .ok_or(bad(prop::GUEST_NAME, "a NUL-terminated string"))?,
                    );
                }
                prop::HV_VERSION => {
                    let v = (value.len() == 16)
                        .then(|| be::cells(value))
                        .flatten()
                        .and_then(|c| <[u32; 4]>::try_from(c).ok())
                        .ok_or(bad(prop::HV_VERSION, "four u32 (16 bytes)"))?;
                    node.hv_version = Some(v);
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

/// `text` and its NUL, refusing a NUL inside.
fn string_value(name: &'static str, text: &str) -> Result<Vec<u8>, NodeError> {
    if text.contains('\0') {
        return Err(NodeError::NulInString(name));
    }
    let mut v = Vec::with_capacity(text.len() + 1);
    v.extend_from_slice(text.as_bytes());
    v.push(0);
    Ok(v)
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
        .map(|s| core::str::from_utf8(s).ok().map(str::to_owned))
        .collect()
}

fn single_string(value: &[u8]) -> Option<String> {
    let body = value.strip_suffix(&[0])?;
    if body.contains(&0) {
        return None;
    }
    core::str::from_utf8(body).ok().map(str::to_owned)
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
                let mut v = Vec::new();
                be::push_u32(&mut v, id);
                props.push((prop::GUEST_ID, v));
            }
            if let Some(n) = &node.guest_name {
                props.push((prop::GUEST_NAME, format!("{n}\0").into_bytes()));
            }
            if let Some(v) = node.hv_version {
                let mut bytes = Vec::new();
                for x in v {
                    be::push_u32(&mut bytes, x);
                }
                props.push((prop::HV_VERSION, bytes));
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
    fn reading_prefers_hcall_instructions_and_counts_has_idle() {
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
        assert_eq!(
            n.to_minimal_dtb(&Padding::NONE),
            Err(NodeError::DuplicateProperty(prop::HAS_IDLE.to_owned()))
        );
        let n = HypervisorNode::preset(Flavour::Epapr).with_guest_name("a\0b");
        assert_eq!(
            n.to_minimal_dtb(&Padding::NONE),
            Err(NodeError::NulInString(prop::GUEST_NAME))
        );
    }

    /// The same bytes whether the node goes into ppcpv's writer or a VMM's vm-fdt writer.
    #[test]
    fn vm_fdt_writer_gets_the_same_node() {
        for f in Flavour::ALL {
            let node = HypervisorNode::preset(f)
                .with_has_idle(true)
                .with_extra("fsl,hv-sys-reset-status", b"hard-reset\0".to_vec());
            let mut vm = vm_fdt::FdtWriter::new().unwrap();
            let root = vm.begin_node("").unwrap();
            vm.property_u32("#address-cells", 2).unwrap();
            vm.property_u32("#size-cells", 2).unwrap();
            node.write_root_properties(&mut vm).unwrap();
            node.write(&mut vm).unwrap();
            vm.end_node(root).unwrap();
            let ours = node.to_minimal_dtb(&Padding::NONE).unwrap();
            assert_eq!(vm.finish().unwrap(), ours, "{f}");
        }
        // vm-fdt's own refusals come back wrapped.
        let long = HypervisorNode::preset(Flavour::Kvm).with_extra("x".repeat(40), Vec::new());
        let mut vm = vm_fdt::FdtWriter::new().unwrap();
        let _root = vm.begin_node("").unwrap();
        assert_eq!(
            long.write(&mut vm),
            Err(NodeError::VmFdt(vm_fdt::Error::InvalidPropertyName))
        );
    }

    #[test]
    fn flavours_are_independent() {
        let both = HypervisorNode::new(["linux,kvm", "EPAPR,hypervisor-1"]);
        assert_eq!(both.flavours().to_string(), "kvm+epapr");
        assert!(both.is_kvm() && both.is_epapr());
        let topaz = HypervisorNode::new(["vendor,hv"]).with_hv_version([1, 3, 3, 2]);
        assert_eq!(topaz.flavours().to_string(), "epapr");
        assert!(HypervisorNode::new(["vendor,hv"]).flavours().is_empty());
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
