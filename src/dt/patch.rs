//! Adding, changing or removing the `/hypervisor` node of an existing DTB, in place.
//!
//! This module is the policy: which node, which properties, when an existing node may
//! be changed. The blob is edited by [`crate::fdt::edit::Editor`], which splices the
//! structure block at the byte offsets the reader reports and never re-serialises the
//! tree, so every byte the edit does not touch keeps its value and relative place
//! (reservations, `boot_cpuid_phys`, names of any length, block order and gaps), and
//! the blob's free space keeps the policy dtc's options gave it (see
//! [`crate::fdt::edit::FreeSpace`]). Adding and then removing the node gives back the
//! original blob.
//!
//! Only `/hypervisor` (a child of the root named exactly `hypervisor`) is touched. The
//! values come from a [`HypervisorNode`] (a preset, one read from another tree, or one
//! made from `KVM_PPC_GET_PVINFO`), rendered by [`HypervisorNode::write`] so the value
//! encodings live in one place. Its root property `epapr-version` is not written:
//! patching changes the node, nothing else.
//!
//! An existing node that is neither KVM nor ePAPR is changed only by
//! [`PatchMode::Replace`]. KVM means `compatible` lists `"linux,kvm"` (what Linux
//! tests in `check_kvm_guest`, `torvalds/linux: arch/powerpc/kernel/firmware.c`);
//! ePAPR means `compatible` lists `"epapr,hypervisor-1"` (what Freescale's Topaz
//! hypervisor writes after `"fsl,embedded-hypervisor-vX.Y"`,
//! `nxp-qoriq-yocto-sdk/hypervisor: src/guest.c`) or the node has `fsl,hv-version`
//! (whose presence Linux's `has_fsl_hypervisor` tests,
//! `drivers/virt/fsl_hypervisor.c`). Anything else, for example Xen's
//! `/hypervisor` on ARM boards (`compatible = "xen,xen-4.x", "xen,xen"`), belongs to
//! someone else and is left alone unless the caller asks to replace it.
//!
//! Versions 16 and 17 are patched in every mode. The old versions 1–3 (`dgibson/dtc:
//! flattree.c`: full paths as node names, values of 8 bytes or more 8-byte aligned)
//! are patched when adding, replacing or removing the whole node; setting single
//! properties needs v16 or later ([`PatchError::OldVersion`]), and an edit that would
//! misalign a later value is refused ([`PatchError::OldLayout`]); `dtc -I dtb -O dtb`
//! converts a blob.

use crate::dt::hypervisor::{
    Flavour, HcallInstructions, HypervisorNode, NODE_NAME, NodeError, prop,
};
use crate::fdt::edit::{EditError, Editor, PropertyValue};
use crate::fdt::writer::Padding;
use crate::fdt::{Fdt, FdtError, Node};
use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What to do with the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PatchMode {
    /// Add the node if it is missing; otherwise write the properties the request
    /// names and keep the rest.
    #[default]
    Set,
    /// Put the requested node in place of the existing one (or add it). The only
    /// mode that changes a node that is not KVM or ePAPR.
    Replace,
    /// Delete the node.
    Remove,
}

/// A patch request in the terms of `ppcpv patch`'s options: a mode plus the
/// properties to write. `None` leaves a property as it is (or, for a new node, as the
/// flavour's preset has it). [`PatchRequest::apply`] runs it; [`patch`] takes a whole
/// [`HypervisorNode`] instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PatchRequest {
    /// Set, replace or remove.
    pub mode: PatchMode,
    /// Sets `compatible` to the flavour's (for a new node: picks the preset; default
    /// KVM).
    pub flavour: Option<Flavour>,
    /// Sets `hcall-instructions`.
    pub hcall: Option<HcallInstructions>,
    /// `Some(true)` adds `has-idle`, `Some(false)` removes it.
    pub has_idle: Option<bool>,
    /// Sets `compatible` to this list (after the flavour's, so it wins).
    pub compatible: Option<Vec<String>>,
    /// Sets Topaz's `guest-id`.
    pub guest_id: Option<u32>,
    /// Sets Topaz's `guest-name`.
    pub guest_name: Option<String>,
}

impl PatchRequest {
    /// A request in `mode` that names no property (set the fields to name some).
    #[must_use]
    pub fn new(mode: PatchMode) -> Self {
        PatchRequest {
            mode,
            ..PatchRequest::default()
        }
    }

    /// The node a new or replaced `/hypervisor` gets: the flavour's preset (KVM by
    /// default) with the requested properties.
    #[must_use]
    pub fn node(&self) -> HypervisorNode {
        let mut node = HypervisorNode::preset(self.flavour.unwrap_or(Flavour::Kvm));
        if let Some(h) = self.hcall {
            node.hcall = Some(h);
        }
        if let Some(idle) = self.has_idle {
            node.has_idle = idle;
        }
        if let Some(c) = &self.compatible {
            node.compatible.clone_from(c);
        }
        if self.guest_id.is_some() {
            node.guest_id = self.guest_id;
        }
        if self.guest_name.is_some() {
            node.guest_name.clone_from(&self.guest_name);
        }
        // Patching touches only /hypervisor, never the root.
        node.epapr_version = None;
        node
    }

    /// The properties `Set` writes on an existing node (or deletes, when
    /// [`PatchRequest::node`] lacks them).
    fn selected(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.flavour.is_some() || self.compatible.is_some() {
            names.push(prop::COMPATIBLE);
        }
        if self.guest_id.is_some() {
            names.push(prop::GUEST_ID);
        }
        if self.guest_name.is_some() {
            names.push(prop::GUEST_NAME);
        }
        if self.hcall.is_some() {
            names.push(prop::HCALL_INSTRUCTIONS);
        }
        if self.has_idle.is_some() {
            names.push(prop::HAS_IDLE);
        }
        names
    }

    /// Patches `blob` as the request asks. The input is not modified.
    ///
    /// ```
    /// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
    /// use ppcpv::dt::patch::{Change, PatchMode, PatchRequest};
    ///
    /// let mut cfg = GuestConfig::new(Machine::Minimal);
    /// cfg.hypervisor = None;
    /// let plain = generate(&cfg).unwrap();
    /// let added = PatchRequest::default().apply(&plain).unwrap();
    /// assert_eq!(added.change, Change::Added);
    /// let removed = PatchRequest::new(PatchMode::Remove).apply(&added.blob).unwrap();
    /// assert_eq!(removed.blob, plain);
    /// ```
    ///
    /// # Errors
    /// As [`patch`].
    pub fn apply(&self, blob: &[u8]) -> Result<Patched, PatchError> {
        let selected = self.selected();
        patch_selected(blob, &self.node(), self.mode, Some(&selected))
    }
}

/// What [`patch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A new `/hypervisor` node was added as the root's last child.
    Added,
    /// Properties of the existing node were written (names listed) or deleted.
    Updated {
        /// Properties written, in request order.
        set: Vec<String>,
        /// Properties deleted.
        removed: Vec<String>,
    },
    /// The node was rebuilt from the request.
    Replaced,
    /// The node was deleted.
    Removed,
    /// Nothing to do (removing a node that is not there, or setting values it already
    /// has); the output equals the input.
    Unchanged,
}

/// The patched blob and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Patched {
    /// The new blob.
    pub blob: Vec<u8>,
    /// What happened.
    pub change: Change,
}

/// Why a blob could not be patched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The input is not a valid DTB.
    #[error("input is not a valid DTB: {0}")]
    Fdt(#[from] FdtError),
    /// Setting single properties in a blob of a format version before 16.
    #[error(
        "blob version {0}: single properties are not changed in place before v16 (values \
         of 8 bytes or more are 8-byte aligned there); use --replace, or convert the blob \
         with `dtc -I dtb -O dtb`"
    )]
    OldVersion(u32),
    /// An edit of an old-format blob would misalign a later 8-byte aligned value.
    #[error(
        "blob version {0}: this edit would move later 8-byte aligned values off their \
         alignment; convert the blob with `dtc -I dtb -O dtb` first"
    )]
    OldLayout(u32),
    /// The existing node is neither KVM nor ePAPR, and the mode is not replace.
    #[error(
        "/hypervisor is not a KVM or ePAPR node (compatible = {compatible}); \
         use --replace to overwrite it"
    )]
    Foreign {
        /// Its `compatible`, as text.
        compatible: String,
    },
    /// The root has more than one child called `hypervisor`.
    #[error("the root has {0} nodes named /hypervisor; refusing to pick one")]
    Duplicate(usize),
    /// The requested node could not be built.
    #[error("building the /hypervisor node: {0}")]
    Node(#[from] NodeError),
    /// The patched blob would exceed the format's 32-bit sizes.
    #[error("the patched blob would exceed 4 GiB")]
    TooLarge,
    /// The memory for the patched blob could not be allocated.
    #[error(
        "out of memory: the patched blob needs {bytes} bytes, and that much could not be allocated"
    )]
    OutOfMemory {
        /// The bytes asked for.
        bytes: u64,
    },
    /// An edit the engine refused that the policy should have prevented (a bug;
    /// nothing is written).
    #[error("internal error: {0}")]
    Edit(EditError),
    /// A step that cannot fail did (a bug; nothing is written).
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The result failed validation (a bug; nothing is written).
    #[error("internal error: the patched blob does not validate: {0}")]
    Invalid(FdtError),
}

impl From<EditError> for PatchError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::OldVersion(v) => PatchError::OldVersion(v),
            EditError::OldLayout(v) => PatchError::OldLayout(v),
            EditError::TooLarge => PatchError::TooLarge,
            EditError::OutOfMemory { bytes } => PatchError::OutOfMemory { bytes },
            EditError::Invalid(e) => PatchError::Invalid(e),
            other => PatchError::Edit(other),
        }
    }
}

/// The properties of the node that [`PatchMode::Set`] makes equal to the request's
/// when it names none: every property [`HypervisorNode`] models. A modelled property
/// the request's node lacks is deleted; properties it does not model stay.
const MODELLED: [&str; 6] = [
    prop::COMPATIBLE,
    prop::HCALL_INSTRUCTIONS,
    prop::HAS_IDLE,
    prop::GUEST_ID,
    prop::GUEST_NAME,
    prop::HV_VERSION,
];

/// Puts `node` into `blob` as `/hypervisor`. The input is not modified.
///
/// * [`PatchMode::Set`]: adds the node if it is missing. Otherwise every property
///   [`HypervisorNode`] models (`compatible`, `hcall-instructions`, `has-idle`,
///   `guest-id`, `guest-name`, `fsl,hv-version`) and every extra property of `node`
///   ends up as `node` has it: values that differ are overwritten in place, missing
///   ones are added, modelled ones `node` lacks are deleted. Properties `node` does
///   not model stay, and so does the order of those that stay.
/// * [`PatchMode::Replace`]: the node is rebuilt from `node` alone.
/// * [`PatchMode::Remove`]: the node is deleted; `node` is not used.
///
/// `node.epapr_version`, a root property, is ignored. To set single properties, use
/// [`PatchRequest`].
///
/// ```
/// use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
/// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
/// use ppcpv::dt::patch::{patch, Change, PatchMode};
///
/// let kvm = generate(&GuestConfig::new(Machine::Ppce500)).unwrap();
/// // What a host with KVM_PPC_PVINFO_FLAGS_EV_IDLE reports, say.
/// let mut node = HypervisorNode::preset(Flavour::Kvm);
/// node.has_idle = true;
/// let out = patch(&kvm, &node, PatchMode::Set).unwrap();
/// assert!(matches!(out.change, Change::Updated { .. } | Change::Unchanged));
/// let fdt = ppcpv::fdt::Fdt::new(&out.blob).unwrap();
/// assert!(fdt.find("/hypervisor").unwrap().property("has-idle").is_some());
/// ```
///
/// # Errors
/// [`PatchError`]: an invalid or old-format input, a foreign node without
/// [`PatchMode::Replace`], a node that cannot be written.
pub fn patch(blob: &[u8], node: &HypervisorNode, mode: PatchMode) -> Result<Patched, PatchError> {
    patch_selected(blob, node, mode, None)
}

/// [`patch`], with `Set` limited to the `selected` properties when given.
fn patch_selected(
    blob: &[u8],
    node: &HypervisorNode,
    mode: PatchMode,
    selected: Option<&[&str]>,
) -> Result<Patched, PatchError> {
    let fdt = Fdt::new(blob)?;
    let header = fdt.header();
    let root = fdt.root();
    let mut found = root.children().filter(|c| c.name() == NODE_NAME);
    let existing = found.next();
    let extra = found.count();
    if extra > 0 {
        return Err(PatchError::Duplicate(extra + 1));
    }
    if let Some(n) = &existing
        && mode != PatchMode::Replace
        && !is_kvm_or_epapr(n)
    {
        let compatible = n
            .property(prop::COMPATIBLE)
            .map(|p| describe_strings(p.value))
            .unwrap_or_else(|| "(none)".to_string());
        return Err(PatchError::Foreign { compatible });
    }
    // Versions 1-3 (dtc flattree.c FTF_FULLPATH | FTF_VARALIGN).
    if header.version < 16 && mode == PatchMode::Set && existing.is_some() {
        return Err(PatchError::OldVersion(header.version));
    }

    let mut ed = Editor::new(&fdt);
    let change = match (mode, &existing) {
        (PatchMode::Remove, None) => Change::Unchanged,
        (PatchMode::Remove, Some(n)) => {
            ed.delete_node(n);
            Change::Removed
        }
        (_, None) => {
            ed.add_node(&root, NODE_NAME, &node_properties(node)?)?;
            Change::Added
        }
        (PatchMode::Replace, Some(n)) => {
            ed.replace_node(n, NODE_NAME, &node_properties(node)?)?;
            Change::Replaced
        }
        (_, Some(n)) => update_properties(&mut ed, n, node, selected)?,
    };
    if ed.is_empty() {
        return Ok(Patched {
            blob: fdt.blob().to_vec(),
            change: Change::Unchanged,
        });
    }
    let out = ed.finish()?;
    Ok(Patched { blob: out, change })
}

/// Whether the node is KVM or ePAPR (see the module docs), reading only `compatible`
/// and the presence of `fsl,hv-version`: a mistyped property elsewhere in the node (a
/// 6-byte `hcall-instructions`) must not make a KVM node look foreign.
fn is_kvm_or_epapr(node: &Node<'_>) -> bool {
    if node.property(prop::HV_VERSION).is_some() {
        return true;
    }
    HypervisorNode::from_properties(node.property(prop::COMPATIBLE).map(|p| (p.name, p.value)))
        .is_ok_and(|n| n.is_kvm() || n.is_epapr())
}

/// `"a", "b"` for a string-list value, hex bytes otherwise (for error messages).
fn describe_strings(value: &[u8]) -> String {
    match crate::dt::hypervisor::string_list(value) {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => format!("{value:02x?}"),
    }
}

/// The properties of `node`, in the order [`HypervisorNode::write`] gives them:
/// written into a one-node tree by the shared writer and read back, so the value
/// encodings live in one place.
fn node_properties(node: &HypervisorNode) -> Result<Vec<PropertyValue>, PatchError> {
    let mut node = node.clone();
    node.epapr_version = None;
    let dtb = node.to_minimal_dtb(&Padding::NONE)?;
    let fdt = Fdt::new(&dtb).map_err(PatchError::Invalid)?;
    let hv = fdt
        .root()
        .child(NODE_NAME)
        .ok_or(PatchError::Internal("the one-node tree has no /hypervisor"))?;
    Ok(hv.properties().map(|p| PropertyValue::from(&p)).collect())
}

/// `Set` on an existing node: overwrite, insert or delete single properties.
fn update_properties<'a>(
    ed: &mut Editor<'a>,
    existing: &Node<'a>,
    node: &HypervisorNode,
    selected: Option<&[&str]>,
) -> Result<Change, PatchError> {
    let props = node_properties(node)?;
    let names: Vec<&str> = match selected {
        Some(names) => names.to_vec(),
        None => MODELLED
            .iter()
            .copied()
            .chain(node.extra.iter().map(|(n, _)| n.as_str()))
            .collect(),
    };
    let mut set = Vec::new();
    let mut removed = Vec::new();
    // Writes in the node's property order, then deletes.
    for p in props.iter().filter(|p| names.contains(&p.name.as_str())) {
        if ed.set_property(existing, &p.name, &p.value)? {
            set.push(p.name.clone());
        }
    }
    for name in names
        .iter()
        .filter(|n| !props.iter().any(|p| p.name == **n))
    {
        if ed.delete_property(existing, name)? > 0 {
            removed.push((*name).to_owned());
        }
    }
    if set.is_empty() && removed.is_empty() {
        return Ok(Change::Unchanged);
    }
    Ok(Change::Updated { set, removed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::machine::{GuestConfig, Machine, generate};
    use crate::insn::seq::KnownSequence;

    fn plain(machine: Machine) -> Vec<u8> {
        let mut cfg = GuestConfig::new(machine);
        cfg.hypervisor = None;
        generate(&cfg).unwrap()
    }

    fn remove() -> PatchRequest {
        PatchRequest {
            mode: PatchMode::Remove,
            ..PatchRequest::default()
        }
    }

    fn hv_props(blob: &[u8]) -> Vec<(String, Vec<u8>)> {
        let fdt = Fdt::new(blob).unwrap();
        let node = fdt.find("/hypervisor").unwrap();
        node.properties()
            .map(|p| (p.name.to_string(), p.value.to_vec()))
            .collect()
    }

    #[test]
    fn compatible_guest_id_and_name_are_set_alone() {
        let added = PatchRequest::default()
            .apply(&plain(Machine::Minimal))
            .unwrap();
        let mut req = PatchRequest::new(PatchMode::Set);
        req.compatible = Some(vec!["vendor,hv".into(), "linux,kvm".into()]);
        req.guest_id = Some(7);
        req.guest_name = Some("part7".into());
        let set = req.apply(&added.blob).unwrap();
        let props = hv_props(&set.blob);
        let get = |n: &str| props.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("compatible").unwrap(), b"vendor,hv\0linux,kvm\0");
        assert_eq!(get("guest-id").unwrap(), 7u32.to_be_bytes());
        assert_eq!(get("guest-name").unwrap(), b"part7\0");
        // hcall-instructions was not named, so it stays.
        assert_eq!(
            get("hcall-instructions"),
            hv_props(&added.blob)
                .into_iter()
                .find(|(k, _)| k == "hcall-instructions")
                .map(|(_, v)| v)
        );
    }

    #[test]
    fn add_then_remove_restores_the_bytes() {
        for m in Machine::ALL {
            let before = plain(m);
            let added = PatchRequest::default().apply(&before).unwrap();
            assert_eq!(added.change, Change::Added);
            let generated = generate(&GuestConfig::new(m)).unwrap();
            let gen_fdt = Fdt::new(&generated).unwrap();
            let want: Vec<(String, Vec<u8>)> = gen_fdt
                .find("/hypervisor")
                .unwrap()
                .properties()
                .filter(|p| p.name != prop::HAS_IDLE)
                .map(|p| (p.name.to_string(), p.value.to_vec()))
                .collect();
            assert_eq!(hv_props(&added.blob), want, "{m}");
            let back = remove().apply(&added.blob).unwrap();
            assert_eq!(back.change, Change::Removed);
            // The names the add appended are dropped again.
            assert_eq!(back.blob, before, "{m}");
        }
    }

    #[test]
    fn padded_blobs_keep_their_free_space_policy() {
        let mut cfg = GuestConfig::new(Machine::Minimal);
        cfg.hypervisor = None;
        cfg.padding.pad = Some(1024);
        let before = generate(&cfg).unwrap();
        // dtc -p style: the amount of free space stays 1024 bytes.
        let added = PatchRequest::default().apply(&before).unwrap();
        let fdt = Fdt::new(&added.blob).unwrap();
        assert_eq!(added.blob.len() - fdt.strings_range().end, 1024);
        let back = remove().apply(&added.blob).unwrap();
        assert_eq!(back.blob, before);
        // dtc -S style: a 64 KiB blob stays 64 KiB.
        cfg.padding = Padding {
            space: Some(65536),
            ..Padding::NONE
        };
        let before = generate(&cfg).unwrap();
        let added = PatchRequest::default().apply(&before).unwrap();
        assert_eq!(added.blob.len(), 65536);
        assert_eq!(remove().apply(&added.blob).unwrap().blob, before);
    }

    #[test]
    fn set_changes_only_the_named_properties() {
        let blob = generate(&GuestConfig::new(Machine::Ppce500)).unwrap();
        let req = PatchRequest {
            hcall: Some(HcallInstructions::from_sequence(KnownSequence::BookeHv)),
            has_idle: Some(false),
            ..PatchRequest::default()
        };
        let out = req.apply(&blob).unwrap();
        assert_eq!(
            out.change,
            Change::Updated {
                set: vec!["hcall-instructions".into()],
                removed: vec!["has-idle".into()]
            }
        );
        let props = hv_props(&out.blob);
        assert_eq!(props.len(), 2);
        assert_eq!(props[0], ("compatible".into(), b"linux,kvm\0".to_vec()));
        assert_eq!(
            props[1].1,
            HcallInstructions::from_sequence(KnownSequence::BookeHv).to_be_bytes()
        );
        // Setting what is already there changes nothing.
        let again = req.apply(&out.blob).unwrap();
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(again.blob, out.blob);
    }

    #[test]
    fn foreign_node_needs_replace() {
        // A Xen-style /hypervisor, as ARM boards carry it.
        let mut cfg = GuestConfig::new(Machine::Minimal);
        let mut xen = HypervisorNode::preset(Flavour::Kvm);
        xen.compatible = vec!["xen,xen-4.17".into(), "xen,xen".into()];
        xen.hcall = None;
        cfg.hypervisor = Some(xen);
        let blob = generate(&cfg).unwrap();
        for req in [PatchRequest::default(), remove()] {
            let err = req.apply(&blob).unwrap_err();
            assert!(
                err.to_string().contains("\"xen,xen-4.17\", \"xen,xen\""),
                "{err}"
            );
        }
        let req = PatchRequest {
            mode: PatchMode::Replace,
            ..PatchRequest::default()
        };
        let out = req.apply(&blob).unwrap();
        assert_eq!(out.change, Change::Replaced);
        assert_eq!(hv_props(&out.blob)[0].1, b"linux,kvm\0");
    }

    #[test]
    fn broken_kvm_node_is_still_kvm() {
        // A 6-byte hcall-instructions (Linux rejects it) on a "linux,kvm" node: Set
        // may fix it in place.
        let mut cfg = GuestConfig::new(Machine::Minimal);
        let mut hv = HypervisorNode::preset(Flavour::Kvm);
        hv.hcall = None;
        hv.extra = vec![("hcall-instructions".into(), vec![0x44, 0, 0, 0x22, 0, 0])];
        cfg.hypervisor = Some(hv);
        let blob = generate(&cfg).unwrap();
        let req = PatchRequest {
            hcall: Some(HcallInstructions::from_sequence(KnownSequence::KvmPr)),
            ..PatchRequest::default()
        };
        let out = req.apply(&blob).unwrap();
        assert_eq!(
            hv_props(&out.blob)[1].1,
            HcallInstructions::from_sequence(KnownSequence::KvmPr).to_be_bytes()
        );
    }

    #[test]
    fn a_whole_node_sets_every_modelled_property() {
        // A Topaz node patched with what a KVM host reports through pvinfo: the
        // modelled properties become the pvinfo node's, guest-id & co. go, an
        // unmodelled property stays in place.
        let mut cfg = GuestConfig::new(Machine::Ppce500);
        let mut topaz = HypervisorNode::preset(Flavour::Epapr);
        topaz.extra = vec![("vendor,x".into(), vec![1, 2, 3, 4])];
        cfg.hypervisor = Some(topaz);
        // Topaz's `sc 1` words are for Topaz, a host `Host` does not model: forced.
        cfg.force = true;
        let blob = generate(&cfg).unwrap();
        let pv = crate::dt::pvinfo::KvmPpcPvinfo::new(
            1,
            [0x7c00_0008, 0x6000_0000, 0x6000_0000, 0x6000_0000],
        )
        .to_node();
        let out = patch(&blob, &pv, PatchMode::Set).unwrap();
        let Change::Updated { set, removed } = &out.change else {
            panic!("{:?}", out.change);
        };
        assert!(set.contains(&"compatible".to_string()), "{set:?}");
        assert!(removed.contains(&"guest-id".to_string()), "{removed:?}");
        let fdt = Fdt::new(&out.blob).unwrap();
        let read = HypervisorNode::from_fdt(&fdt).unwrap().unwrap();
        assert_eq!(read.compatible, pv.compatible);
        assert_eq!(read.hcall, pv.hcall);
        assert_eq!(read.has_idle, pv.has_idle);
        assert_eq!((read.guest_id, read.hv_version), (None, None));
        assert_eq!(read.extra, [("vendor,x".to_string(), vec![1, 2, 3, 4])]);
        // The root's epapr-version is not the node's to change.
        assert!(fdt.root().property("epapr-version").is_some());
        // Setting the same node again changes nothing; replacing drops vendor,x.
        let again = patch(&out.blob, &pv, PatchMode::Set).unwrap();
        assert_eq!(
            (again.change, again.blob),
            (Change::Unchanged, out.blob.clone())
        );
        let replaced = patch(&out.blob, &pv, PatchMode::Replace).unwrap();
        let fdt = Fdt::new(&replaced.blob).unwrap();
        assert!(
            HypervisorNode::from_fdt(&fdt)
                .unwrap()
                .unwrap()
                .extra
                .is_empty()
        );
    }

    #[test]
    fn remove_without_node_is_unchanged() {
        let blob = plain(Machine::Minimal);
        let out = remove().apply(&blob).unwrap();
        assert_eq!(out.change, Change::Unchanged);
        assert_eq!(out.blob, blob);
    }

    #[test]
    fn mutated_blobs_never_panic() {
        // Every byte flipped and every truncation, in every mode: an error or a blob
        // that validates, never a panic.
        let blob = generate(&GuestConfig::new(Machine::Minimal)).unwrap();
        let reqs = [
            PatchRequest::default(),
            remove(),
            PatchRequest {
                mode: PatchMode::Replace,
                has_idle: Some(true),
                ..PatchRequest::default()
            },
            PatchRequest {
                hcall: Some(HcallInstructions::from_sequence(KnownSequence::Epapr)),
                has_idle: Some(false),
                ..PatchRequest::default()
            },
        ];
        for i in 0..blob.len() {
            let mut m = blob.clone();
            m[i] ^= 0xff;
            for req in &reqs {
                if let Ok(out) = req.apply(&m) {
                    Fdt::new(&out.blob).unwrap();
                }
                let _ = req.apply(&blob[..i]);
            }
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            PatchRequest::default().apply(b"nope"),
            Err(PatchError::Fdt(_))
        ));
    }

    /// A version-3 blob as dtc writes it (`dtc -I dts -O dtb -V 3` of a small tree,
    /// built here by hand): full-path names, 8-aligned values of 8+ bytes.
    fn old_blob() -> Vec<u8> {
        use crate::endian::be::push_u32 as be;
        use crate::fdt::reader::{FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP};
        let strings = b"#address-cells\0reg\0";
        let mut st = Vec::new();
        be(&mut st, FDT_BEGIN_NODE);
        st.extend_from_slice(b"/\0\0\0");
        be(&mut st, FDT_PROP);
        be(&mut st, 4);
        be(&mut st, 0);
        be(&mut st, 2);
        be(&mut st, FDT_BEGIN_NODE);
        st.extend_from_slice(b"/memory\0");
        be(&mut st, FDT_PROP);
        be(&mut st, 8);
        be(&mut st, 15);
        while !st.len().is_multiple_of(8) {
            st.push(0);
        }
        st.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x10, 0]);
        be(&mut st, FDT_END_NODE);
        be(&mut st, FDT_END_NODE);
        be(&mut st, crate::fdt::reader::FDT_END);
        let hdr = 36usize; // version 3
        let rsv = 40usize; // 8-aligned, one terminator entry
        let off_struct = rsv + 16;
        let off_strings = off_struct + st.len();
        let total = off_strings + strings.len();
        let mut b = Vec::new();
        for v in [
            0xd00d_feed,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            rsv as u32,
            3,
            1,
            0,
            strings.len() as u32,
        ] {
            be(&mut b, v);
        }
        assert_eq!(b.len(), hdr);
        b.resize(rsv + 16, 0);
        b.extend_from_slice(&st);
        b.extend_from_slice(strings);
        b
    }

    #[test]
    fn old_format_add_replace_remove() {
        let before = old_blob();
        Fdt::new(&before).unwrap();
        let added = PatchRequest::default().apply(&before).unwrap();
        let fdt = Fdt::new(&added.blob).unwrap();
        assert_eq!(fdt.header().version, 3);
        let hv = fdt.find("/hypervisor").unwrap();
        let hcall = hv.property("hcall-instructions").unwrap();
        // The 16-byte value starts 8-aligned within the structure block.
        let value_at = hcall.value.as_ptr() as usize - added.blob.as_ptr() as usize;
        assert_eq!((value_at - fdt.struct_range().start) % 8, 0);
        assert_eq!(
            hcall.value,
            HcallInstructions::from_sequence(KnownSequence::KvmPr).to_be_bytes()
        );
        // Setting one property is refused; replacing and removing work.
        let set = PatchRequest {
            has_idle: Some(true),
            ..PatchRequest::default()
        };
        assert!(matches!(
            set.apply(&added.blob),
            Err(PatchError::OldVersion(3))
        ));
        let replace = PatchRequest {
            mode: PatchMode::Replace,
            has_idle: Some(true),
            ..PatchRequest::default()
        };
        let replaced = replace.apply(&added.blob).unwrap();
        assert_eq!(hv_props(&replaced.blob).len(), 3);
        assert_eq!(remove().apply(&added.blob).unwrap().blob, before);
    }
}
