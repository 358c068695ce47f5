//! Adding, changing or removing the `/hypervisor` node of an existing DTB, in place.
//!
//! The blob is never re-serialised. [`patch`] validates it with [`Fdt::new`], then
//! splices the structure block at the byte offsets the reader reports and appends the
//! property names it lacks to the strings block; every other byte keeps its value and
//! relative place:
//!
//! * node and property order, the memory reservation map, `boot_cpuid_phys`, the
//!   header version, the order of the blocks and any gaps between them;
//! * names longer than vm-fdt's 31-character limit (QEMU's pseries and powernv trees),
//!   since no writer is involved;
//! * the free space policy, read from the blob as dtc's options make it
//!   (`dgibson/dtc: flattree.c (dt_to_blob)`, fdt-ecosystem.md §6.1; see
//!   [`free_space_policy`]): no free space stays none; a `totalsize` that is a
//!   multiple of a power of two larger than the free space (`-S`, `-a`, QEMU's 1 MiB
//!   blobs) stays that multiple, so an edit that fits keeps `totalsize` as an in-place
//!   libfdt edit would; any other free space (`-p`) keeps its amount. Adding and then
//!   removing therefore gives back the original blob.
//!
//! Property names already in the strings block are reused, also as the tail of a
//! longer name (`dgibson/dtc: flattree.c (stringtable_insert)` shares tails the same
//! way); new ones are appended. An edit that only deletes drops the names at the end
//! of the strings block that no property uses any more (those an earlier add
//! appended); other unused names stay, unreferenced, which every reader ignores.
//!
//! Only `/hypervisor` (a child of the root named exactly `hypervisor`) is touched. A
//! node that is neither KVM nor ePAPR (kvm-ppc-pv.md D4; for example Xen's
//! `/hypervisor` on ARM boards, `compatible = "xen,xen-4.x", "xen,xen"`) is changed
//! only by [`PatchMode::Replace`]. The ePAPR preset's root `epapr-version` is not
//! written: patching changes the node, nothing else.
//!
//! Versions 16 and 17 are patched in every mode. The old versions 1–3 (`dgibson/dtc:
//! flattree.c`: full paths as node names, values of 8 bytes or more 8-byte aligned
//! relative to the structure block, no `size_dt_strings` before v3) are patched too
//! when adding, replacing or removing the whole node: the new node is written in the
//! old encoding, and an edit that would shift a later 8-aligned value by other than a
//! multiple of 8 is refused ([`PatchError::OldLayout`]) rather than re-serialised.
//! Setting single properties needs v16 or later ([`PatchError::OldVersion`]);
//! `dtc -I dtb -O dtb` converts a blob.

use crate::dt::hypervisor::{
    Flavour, HcallInstructions, HypervisorNode, NODE_NAME, NodeError, prop,
};
use crate::fdt::reader::{FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP};
use crate::fdt::writer::Padding;
use crate::fdt::{Fdt, FdtError, Node, Property};
use std::ops::Range;

/// What to do with the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchMode {
    /// Add the node if it is missing (built from the request over the flavour's
    /// preset); otherwise set only the properties the request names, keeping the rest.
    #[default]
    Set,
    /// Build the node from the request alone and put it in place of the existing one
    /// (or add it). The only mode that changes a node that is not KVM or ePAPR.
    Replace,
    /// Delete the node.
    Remove,
}

/// A patch request: a mode plus the properties to write. `None` leaves a property as
/// it is (or, for a new node, as the flavour's preset has it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
}

impl PatchRequest {
    /// The node a new or replaced `/hypervisor` gets: the flavour's preset (KVM by
    /// default) with the requested hcall sequence and `has-idle`.
    #[must_use]
    pub fn node(&self) -> HypervisorNode {
        let mut node = HypervisorNode::preset(self.flavour.unwrap_or(Flavour::Kvm));
        if let Some(h) = self.hcall {
            node.hcall = Some(h);
        }
        if let Some(idle) = self.has_idle {
            node.has_idle = idle;
        }
        // Patching touches only /hypervisor, never the root.
        node.epapr_version = None;
        node
    }
}

/// What [`patch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
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
pub struct Patched {
    /// The new blob.
    pub blob: Vec<u8>,
    /// What happened.
    pub change: Change,
}

/// Why a blob could not be patched.
#[derive(Debug, thiserror::Error)]
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
    /// A step that cannot fail did (a bug; nothing is written).
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The result failed validation (a bug; nothing is written).
    #[error("internal error: the patched blob does not validate: {0}")]
    Invalid(FdtError),
}

/// One property of the new content: a name and its value.
type PropValue = (String, Vec<u8>);

/// Patches `blob` as `req` asks. The input is not modified.
///
/// ```
/// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
/// use ppcpv::dt::patch::{patch, Change, PatchMode, PatchRequest};
///
/// let mut cfg = GuestConfig::new(Machine::Minimal);
/// cfg.hypervisor = None;
/// let plain = generate(&cfg).unwrap();
/// let added = patch(&plain, &PatchRequest::default()).unwrap();
/// assert_eq!(added.change, Change::Added);
/// let req = PatchRequest { mode: PatchMode::Remove, ..Default::default() };
/// assert_eq!(patch(&added.blob, &req).unwrap().blob, plain);
/// ```
///
/// # Errors
/// [`PatchError`]: an invalid or old-format input, a foreign node without
/// [`PatchMode::Replace`], a request that builds no valid node.
pub fn patch(blob: &[u8], req: &PatchRequest) -> Result<Patched, PatchError> {
    let fdt = Fdt::new(blob)?;
    let header = fdt.header();
    // Versions 1-3 (dtc flattree.c FTF_FULLPATH | FTF_VARALIGN).
    let old = header.version < 16;
    let root = fdt.root();
    let mut found = root.children().filter(|c| c.name() == NODE_NAME);
    let existing = found.next();
    let extra = found.count();
    if extra > 0 {
        return Err(PatchError::Duplicate(extra + 1));
    }
    if let Some(node) = &existing
        && req.mode != PatchMode::Replace
        && !is_kvm_or_epapr(node)
    {
        let compatible = node
            .property(prop::COMPATIBLE)
            .map(|p| describe_strings(p.value))
            .unwrap_or_else(|| "(none)".to_string());
        return Err(PatchError::Foreign { compatible });
    }

    if old && req.mode == PatchMode::Set && existing.is_some() {
        return Err(PatchError::OldVersion(header.version));
    }
    let struct_start = fdt.struct_range().start;
    // Where a value must start: 8-aligned relative to the structure block in the old
    // format when it has 8 bytes or more.
    let layout = |at: usize| Layout {
        old,
        base: at.saturating_sub(struct_start),
    };
    let mut strings = StringsEditor::new(&fdt);
    let mut splices: Vec<Splice> = Vec::new();
    let change = match (req.mode, &existing) {
        (PatchMode::Remove, None) => Change::Unchanged,
        (PatchMode::Remove, Some(node)) => {
            strings.freeing_subtree(blob, node);
            splices.push(Splice::delete(node.offset()..node.end_offset()));
            Change::Removed
        }
        (PatchMode::Set | PatchMode::Replace, None) => {
            // The root's FDT_END_NODE is its last 4 bytes: the new node goes before it.
            let at = root.end_offset().saturating_sub(4);
            let bytes = node_bytes(&node_properties(req)?, &mut strings, layout(at))?;
            splices.push(Splice {
                range: at..at,
                bytes,
            });
            Change::Added
        }
        (PatchMode::Replace, Some(node)) => {
            let bytes = node_bytes(&node_properties(req)?, &mut strings, layout(node.offset()))?;
            splices.push(Splice {
                range: node.offset()..node.end_offset(),
                bytes,
            });
            Change::Replaced
        }
        (PatchMode::Set, Some(node)) => {
            update_properties(blob, node, req, &mut strings, &mut splices)?
        }
    };
    if splices.is_empty() {
        return Ok(Patched {
            blob: fdt.blob().to_vec(),
            change: Change::Unchanged,
        });
    }
    if old && shifts_aligned_values(&fdt, &splices) {
        return Err(PatchError::OldLayout(header.version));
    }
    let keep = strings_to_keep(&fdt, &splices, &strings);
    let out = rebuild(&fdt, &splices, keep, &strings.appended)?;
    Fdt::new(&out).map_err(PatchError::Invalid)?;
    Ok(Patched { blob: out, change })
}

/// D4, as [`HypervisorNode::is_kvm`] / [`HypervisorNode::is_epapr`] decide it, but
/// reading only `compatible` and the presence of `fsl,hv-version`: a mistyped property
/// elsewhere in the node (a 6-byte `hcall-instructions`) must not make a KVM node look
/// foreign.
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

/// The properties of the node the request builds, in the order
/// [`HypervisorNode::write`] gives them: written into a one-node tree by the shared
/// writer and read back, so the value encodings live in one place.
fn node_properties(req: &PatchRequest) -> Result<Vec<PropValue>, PatchError> {
    let dtb = req.node().to_minimal_dtb(&Padding::NONE)?;
    let fdt = Fdt::new(&dtb).map_err(PatchError::Invalid)?;
    let node = fdt
        .root()
        .child(NODE_NAME)
        .ok_or(PatchError::Internal("the one-node tree has no /hypervisor"))?;
    Ok(node
        .properties()
        .map(|p| (p.name.to_string(), p.value.to_vec()))
        .collect())
}

/// The properties `Set` writes on an existing node, and those it deletes.
fn requested_edits(req: &PatchRequest) -> Result<(Vec<PropValue>, Vec<&'static str>), PatchError> {
    let full = node_properties(req)?;
    let take = |name: &str| full.iter().find(|(n, _)| n == name).cloned();
    let mut set = Vec::new();
    let mut delete = Vec::new();
    if req.flavour.is_some() {
        set.extend(take(prop::COMPATIBLE));
    }
    if req.hcall.is_some() {
        set.extend(take(prop::HCALL_INSTRUCTIONS));
    }
    match req.has_idle {
        Some(true) => set.push((prop::HAS_IDLE.to_string(), Vec::new())),
        Some(false) => delete.push(prop::HAS_IDLE),
        None => {}
    }
    Ok((set, delete))
}

/// `Set` on an existing node: overwrite, insert or delete single properties.
fn update_properties(
    blob: &[u8],
    node: &Node<'_>,
    req: &PatchRequest,
    strings: &mut StringsEditor<'_>,
    splices: &mut Vec<Splice>,
) -> Result<Change, PatchError> {
    let (set, delete) = requested_edits(req)?;
    // New properties go after the last property that precedes the first child (in a
    // v16/17 tree: after all properties).
    let first_child = node.children().next().map(|c| c.offset());
    let insert_at = node
        .properties()
        .filter(|p| first_child.is_none_or(|c| p.offset < c))
        .last()
        .map_or(node.body_offset(), |p| p.end);
    let mut inserted = Vec::new();
    let mut set_names = Vec::new();
    for (name, value) in &set {
        match node.property(name) {
            Some(p) if p.value == value.as_slice() => {}
            Some(p) => {
                // Keep the existing name offset: the strings block is not touched.
                let nameoff = blob
                    .get(p.offset + 8..p.offset + 12)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes)
                    .ok_or(PatchError::TooLarge)?;
                splices.push(Splice {
                    range: p.offset..p.end,
                    bytes: prop_bytes(nameoff, value)?,
                });
                set_names.push(name.clone());
            }
            None => {
                let nameoff = strings.offset_of(name)?;
                inserted.extend(prop_bytes(nameoff, value)?);
                set_names.push(name.clone());
            }
        }
    }
    let mut removed = Vec::new();
    for name in delete {
        // Every copy goes: a duplicate has-idle would still count (D5).
        for p in node.properties().filter(|p| p.name == name) {
            strings.freeing(blob, &p);
            splices.push(Splice::delete(p.offset..p.end));
            if !removed.iter().any(|r| r == name) {
                removed.push(name.to_string());
            }
        }
    }
    if !inserted.is_empty() {
        splices.push(Splice {
            range: insert_at..insert_at,
            bytes: inserted,
        });
    }
    if splices.is_empty() {
        return Ok(Change::Unchanged);
    }
    Ok(Change::Updated {
        set: set_names,
        removed,
    })
}

/// A structure-block edit: replace `range` (blob offsets) with `bytes`.
#[derive(Debug)]
struct Splice {
    range: Range<usize>,
    bytes: Vec<u8>,
}

impl Splice {
    fn delete(range: Range<usize>) -> Self {
        Splice {
            range,
            bytes: Vec::new(),
        }
    }
}

/// How many bytes of the original strings block the patched blob keeps. After an edit
/// that only deletes, names at the end of the block that no remaining property uses
/// are dropped (the names an earlier add appended), so add-then-remove gives back the
/// original bytes. Nothing is dropped when names were appended (their offsets assume
/// the whole block) or when every name is still used.
fn strings_to_keep(fdt: &Fdt<'_>, splices: &[Splice], strings: &StringsEditor<'_>) -> usize {
    let full = strings.block.len();
    let deletes = splices.iter().any(|s| !s.range.is_empty());
    if !deletes || !strings.appended.is_empty() {
        return full;
    }
    let blob = fdt.blob();
    let start = fdt.strings_range().start;
    let nameoff = |p: &crate::fdt::Property<'_>| {
        blob.get(p.offset + 8..p.offset + 12)
            .and_then(|b| b.try_into().ok())
            .map_or(full, |b| u32::from_be_bytes(b) as usize)
    };
    // Only worth a walk over the whole tree when a deleted property used the block's
    // last name.
    if !strings.freed_last {
        return full;
    }
    let mut keep = strings.used_end;
    for (_, node) in fdt.nodes() {
        for p in node.properties() {
            // Properties in deleted ranges are gone; those in rewritten ranges (an
            // overwritten value keeps its name offset) still count.
            if splices
                .iter()
                .any(|s| s.bytes.is_empty() && s.range.contains(&p.offset))
            {
                continue;
            }
            // The name runs from its offset to its NUL, both inside the block (the
            // reader checked that).
            let end = nameoff(&p).saturating_add(p.name.len() + 1);
            keep = keep.max(end);
            if keep >= full {
                return full;
            }
        }
    }
    debug_assert!(start + keep <= fdt.strings_range().end);
    keep
}

/// The strings block and the names appended to it.
struct StringsEditor<'a> {
    block: &'a [u8],
    appended: Vec<u8>,
    /// End of the furthest name in `block` that new properties use.
    used_end: usize,
    /// A deleted property used the block's last name.
    freed_last: bool,
}

impl<'a> StringsEditor<'a> {
    fn new(fdt: &Fdt<'a>) -> Self {
        let block = fdt.blob().get(fdt.strings_range()).unwrap_or_default();
        StringsEditor {
            block,
            appended: Vec::new(),
            used_end: 0,
            freed_last: false,
        }
    }

    /// Notes that `p` is deleted (for [`strings_to_keep`]).
    fn freeing(&mut self, blob: &[u8], p: &Property<'_>) {
        let off = blob
            .get(p.offset + 8..p.offset + 12)
            .and_then(|b| b.try_into().ok())
            .map(|b| u32::from_be_bytes(b) as usize);
        if off.is_some_and(|o| o.saturating_add(p.name.len() + 1) == self.block.len()) {
            self.freed_last = true;
        }
    }

    /// Notes that the subtree of `node` is deleted.
    fn freeing_subtree(&mut self, blob: &[u8], node: &Node<'_>) {
        let mut stack = vec![*node];
        while let Some(n) = stack.pop() {
            for p in n.properties() {
                self.freeing(blob, &p);
            }
            stack.extend(n.children());
        }
    }

    /// The offset of `name` in the (extended) strings block, appending it if absent.
    /// Any occurrence of `name\0` serves, also as the tail of a longer name.
    fn offset_of(&mut self, name: &str) -> Result<u32, PatchError> {
        let mut needle = Vec::with_capacity(name.len() + 1);
        needle.extend_from_slice(name.as_bytes());
        needle.push(0);
        let pos = match find(self.block, &needle) {
            Some(p) => {
                self.used_end = self.used_end.max(p + needle.len());
                p
            }
            None => match find(&self.appended, &needle) {
                Some(p) => self.block.len() + p,
                None => {
                    let p = self.block.len() + self.appended.len();
                    self.appended.extend_from_slice(&needle);
                    p
                }
            },
        };
        u32::try_from(pos).map_err(|_| PatchError::TooLarge)
    }
}

/// First index of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn push_be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// `FDT_PROP`, `len`, `nameoff`, the value, zero padding to 4 bytes.
fn prop_bytes(nameoff: u32, value: &[u8]) -> Result<Vec<u8>, PatchError> {
    let len = u32::try_from(value.len()).map_err(|_| PatchError::TooLarge)?;
    let mut out = Vec::with_capacity(12 + value.len() + 3);
    push_be32(&mut out, FDT_PROP);
    push_be32(&mut out, len);
    push_be32(&mut out, nameoff);
    out.extend_from_slice(value);
    pad4(&mut out);
    Ok(out)
}

/// How new structure bytes are encoded: the old format (versions 1-3) names nodes by
/// full path and starts values of 8 bytes or more on an 8-byte boundary counted from
/// the structure block's start; `base` is where the bytes will start, so counted.
#[derive(Debug, Clone, Copy)]
struct Layout {
    old: bool,
    base: usize,
}

/// A whole `hypervisor` node: `FDT_BEGIN_NODE`, its name (`/hypervisor` in the old
/// format), the properties, `FDT_END_NODE`.
fn node_bytes(
    props: &[PropValue],
    strings: &mut StringsEditor<'_>,
    layout: Layout,
) -> Result<Vec<u8>, PatchError> {
    let mut out = Vec::new();
    push_be32(&mut out, FDT_BEGIN_NODE);
    if layout.old {
        out.push(b'/');
    }
    out.extend_from_slice(NODE_NAME.as_bytes());
    out.push(0);
    pad4(&mut out);
    for (name, value) in props {
        let nameoff = strings.offset_of(name)?;
        let len = u32::try_from(value.len()).map_err(|_| PatchError::TooLarge)?;
        push_be32(&mut out, FDT_PROP);
        push_be32(&mut out, len);
        push_be32(&mut out, nameoff);
        if layout.old && value.len() >= 8 {
            while !(layout.base + out.len()).is_multiple_of(8) {
                out.push(0);
            }
        }
        out.extend_from_slice(value);
        pad4(&mut out);
    }
    push_be32(&mut out, FDT_END_NODE);
    Ok(out)
}

/// Old format only: whether a property of 8 bytes or more after a splice would move by
/// other than a multiple of 8 (its alignment padding would then be wrong).
fn shifts_aligned_values(fdt: &Fdt<'_>, splices: &[Splice]) -> bool {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| s.range.start);
    let Some(first) = sorted.first().map(|s| s.range.start) else {
        return false;
    };
    // Net shift, modulo 8, of everything at or after `at`.
    let shift_at = |at: usize| -> usize {
        sorted
            .iter()
            .filter(|s| s.range.end <= at)
            .fold(0, |acc, s| {
                (acc + s.bytes.len() % 8 + 8 - s.range.len() % 8) % 8
            })
    };
    fdt.nodes().any(|(_, n)| {
        n.properties().any(|p| {
            p.offset >= first
                && p.value.len() >= 8
                && !sorted.iter().any(|s| s.range.contains(&p.offset))
                && shift_at(p.offset) != 0
        })
    })
}

/// Which header word holds a block's offset, and its alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Rsvmap,
    Struct,
    Strings,
}

/// Header byte offsets of the fields [`rebuild`] rewrites (DT spec §5.2).
const H_TOTALSIZE: usize = 4;
const H_OFF_STRUCT: usize = 8;
const H_OFF_STRINGS: usize = 12;
const H_OFF_RSVMAP: usize = 16;
const H_SIZE_STRINGS: usize = 32;
const H_SIZE_STRUCT: usize = 36;

/// How a blob's free space (the bytes after its last block, counted in `totalsize`)
/// came about, as far as the blob shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeSpace {
    /// None: the blob ends with its last block (dtc and vm-fdt without options).
    Packed,
    /// `totalsize` is a multiple of this power of two and the free space is smaller
    /// (dtc `-a N`, `-S N`, QEMU's 1 MiB dumps): keep the size a multiple of it.
    Aligned(usize),
    /// This many free bytes (dtc `-p N`): keep the amount.
    Padded(usize),
}

impl FreeSpace {
    /// The `totalsize` for `used` bytes of data under this policy.
    #[must_use]
    pub fn total(self, used: usize) -> usize {
        match self {
            FreeSpace::Packed => used,
            FreeSpace::Aligned(a) => used.div_ceil(a).saturating_mul(a),
            FreeSpace::Padded(n) => used.saturating_add(n),
        }
    }
}

/// Reads the free space policy of a blob of `total` bytes with `free` of them free.
/// Alignment counts from 8 bytes up, so `-p` with a small pad is not taken for `-a`.
#[must_use]
pub fn free_space_policy(total: usize, free: usize) -> FreeSpace {
    if free == 0 || total == 0 {
        return FreeSpace::Packed;
    }
    let align = 1usize << total.trailing_zeros();
    if align >= 8 && free < align {
        FreeSpace::Aligned(align)
    } else {
        FreeSpace::Padded(free)
    }
}

/// Writes the new blob: the header, then the three blocks in their original order with
/// the original gaps between them, the structure block spliced, the strings block
/// extended, then the free space (see the module docs for its policy).
fn rebuild(
    fdt: &Fdt<'_>,
    splices: &[Splice],
    strings_keep: usize,
    appended: &[u8],
) -> Result<Vec<u8>, PatchError> {
    let blob = fdt.blob();
    let header = fdt.header();
    let hsize = header.size() as usize;
    let mut blocks = [
        (Block::Rsvmap, fdt.rsvmap_range()),
        (Block::Struct, fdt.struct_range()),
        (Block::Strings, fdt.strings_range()),
    ];
    blocks.sort_by_key(|(_, r)| r.start);

    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.range.start, s.range.end));

    let total_in = blob.len();
    let used_in = blocks.iter().map(|(_, r)| r.end).max().unwrap_or(hsize);
    let free_in = total_in.saturating_sub(used_in);

    let mut out: Vec<u8> = Vec::with_capacity(total_in + appended.len() + 256);
    out.extend_from_slice(blob.get(..hsize).ok_or(PatchError::TooLarge)?);
    let mut prev_end = hsize;
    let mut offsets = [0usize; 3];
    let mut sizes = [0usize; 3];
    for (i, (kind, range)) in blocks.iter().enumerate() {
        // The original gap before the block, then alignment padding if the block moved
        // to a misaligned place (the rsvmap needs 8, the structure block 4). A gap of
        // fewer zero bytes than the alignment was alignment padding itself: it is
        // recomputed rather than copied, so edits that cancel out give the same layout.
        let align = match kind {
            Block::Rsvmap => 8,
            Block::Struct => 4,
            Block::Strings => 1,
        };
        let gap = blob.get(prev_end..range.start).unwrap_or_default();
        if gap.len() >= align || gap.iter().any(|&b| b != 0) {
            out.extend_from_slice(gap);
        }
        while !out.len().is_multiple_of(align) {
            out.push(0);
        }
        offsets[i] = out.len();
        let src = blob.get(range.clone()).ok_or(PatchError::TooLarge)?;
        match kind {
            Block::Rsvmap => out.extend_from_slice(src),
            Block::Strings => {
                out.extend_from_slice(src.get(..strings_keep).unwrap_or(src));
                out.extend_from_slice(appended);
            }
            Block::Struct => {
                let mut at = range.start;
                for s in &sorted {
                    out.extend_from_slice(blob.get(at..s.range.start).unwrap_or_default());
                    out.extend_from_slice(&s.bytes);
                    at = s.range.end;
                }
                out.extend_from_slice(blob.get(at..range.end).unwrap_or_default());
            }
        }
        sizes[i] = out.len() - offsets[i];
        prev_end = range.end;
    }
    // The free space keeps its bytes as far as they reach (they are zero unless some
    // tool wrote a fill pattern), then zeros.
    let total_out = free_space_policy(total_in, free_in).total(out.len());
    let tail = blob.get(used_in..).unwrap_or_default();
    let room = total_out.saturating_sub(out.len());
    out.extend_from_slice(tail.get(..room).unwrap_or(tail));
    out.resize(total_out, 0);

    let total = u32::try_from(total_out).map_err(|_| PatchError::TooLarge)?;
    let mut put = |at: usize, v: usize| -> Result<(), PatchError> {
        let v = u32::try_from(v).map_err(|_| PatchError::TooLarge)?;
        out.get_mut(at..at + 4)
            .ok_or(PatchError::TooLarge)?
            .copy_from_slice(&v.to_be_bytes());
        Ok(())
    };
    put(H_TOTALSIZE, total as usize)?;
    for (i, (kind, _)) in blocks.iter().enumerate() {
        match kind {
            Block::Rsvmap => put(H_OFF_RSVMAP, offsets[i])?,
            Block::Struct => {
                put(H_OFF_STRUCT, offsets[i])?;
                if header.version >= 17 {
                    put(H_SIZE_STRUCT, sizes[i])?;
                }
            }
            Block::Strings => {
                put(H_OFF_STRINGS, offsets[i])?;
                // size_dt_strings exists from version 3 on.
                if header.version >= 3 {
                    put(H_SIZE_STRINGS, sizes[i])?;
                }
            }
        }
    }
    Ok(out)
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
    fn add_then_remove_restores_the_bytes() {
        for m in Machine::ALL {
            let before = plain(m);
            let added = patch(&before, &PatchRequest::default()).unwrap();
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
            let back = patch(&added.blob, &remove()).unwrap();
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
        let added = patch(&before, &PatchRequest::default()).unwrap();
        let fdt = Fdt::new(&added.blob).unwrap();
        assert_eq!(added.blob.len() - fdt.strings_range().end, 1024);
        let back = patch(&added.blob, &remove()).unwrap();
        assert_eq!(back.blob, before);
        // dtc -S style: a 64 KiB blob stays 64 KiB.
        cfg.padding = Padding {
            space: Some(65536),
            ..Padding::NONE
        };
        let before = generate(&cfg).unwrap();
        let added = patch(&before, &PatchRequest::default()).unwrap();
        assert_eq!(added.blob.len(), 65536);
        assert_eq!(patch(&added.blob, &remove()).unwrap().blob, before);
    }

    #[test]
    fn free_space_policies() {
        assert_eq!(free_space_policy(1000, 0), FreeSpace::Packed);
        // QEMU's 1 MiB dump, dtc -S 65536, dtc -a 256.
        assert_eq!(
            free_space_policy(1 << 20, 1_042_175),
            FreeSpace::Aligned(1 << 20)
        );
        assert_eq!(free_space_policy(69376, 226), FreeSpace::Aligned(256));
        // dtc -p 8192 on a 69150-byte tree; 64 trailing bytes on 69222.
        assert_eq!(free_space_policy(77342, 8192), FreeSpace::Padded(8192));
        assert_eq!(free_space_policy(69286, 64), FreeSpace::Padded(64));
        assert_eq!(FreeSpace::Aligned(256).total(69377), 69632);
        assert_eq!(FreeSpace::Padded(64).total(100), 164);
    }

    #[test]
    fn set_changes_only_the_named_properties() {
        let blob = generate(&GuestConfig::new(Machine::Ppce500)).unwrap();
        let req = PatchRequest {
            hcall: Some(HcallInstructions::from_sequence(KnownSequence::BookeHv)),
            has_idle: Some(false),
            ..PatchRequest::default()
        };
        let out = patch(&blob, &req).unwrap();
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
        let again = patch(&out.blob, &req).unwrap();
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
            let err = patch(&blob, &req).unwrap_err();
            assert!(
                err.to_string().contains("\"xen,xen-4.17\", \"xen,xen\""),
                "{err}"
            );
        }
        let req = PatchRequest {
            mode: PatchMode::Replace,
            ..PatchRequest::default()
        };
        let out = patch(&blob, &req).unwrap();
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
        let out = patch(&blob, &req).unwrap();
        assert_eq!(
            hv_props(&out.blob)[1].1,
            HcallInstructions::from_sequence(KnownSequence::KvmPr).to_be_bytes()
        );
    }

    #[test]
    fn remove_without_node_is_unchanged() {
        let blob = plain(Machine::Minimal);
        let out = patch(&blob, &remove()).unwrap();
        assert_eq!(out.change, Change::Unchanged);
        assert_eq!(out.blob, blob);
    }

    #[test]
    fn strings_reuse_tails_and_append_once() {
        let mut hay = StringsEditor {
            block: b"linux,phandle\0compatible\0",
            appended: Vec::new(),
            used_end: 0,
            freed_last: false,
        };
        assert_eq!(hay.offset_of("phandle").unwrap(), 6);
        assert_eq!(hay.offset_of("compatible").unwrap(), 14);
        assert_eq!(hay.offset_of("has-idle").unwrap(), 25);
        assert_eq!(hay.offset_of("has-idle").unwrap(), 25);
        assert_eq!(hay.offset_of("idle").unwrap(), 29);
        assert_eq!(hay.appended, b"has-idle\0");
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
                if let Ok(out) = patch(&m, req) {
                    Fdt::new(&out.blob).unwrap();
                }
                let _ = patch(&blob[..i], req);
            }
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            patch(b"nope", &PatchRequest::default()),
            Err(PatchError::Fdt(_))
        ));
    }

    /// A version-3 blob as dtc writes it (`dtc -I dts -O dtb -V 3` of a small tree,
    /// built here by hand): full-path names, 8-aligned values of 8+ bytes.
    fn old_blob() -> Vec<u8> {
        fn be(out: &mut Vec<u8>, v: u32) {
            out.extend_from_slice(&v.to_be_bytes());
        }
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
        while st.len() % 8 != 0 {
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
        let added = patch(&before, &PatchRequest::default()).unwrap();
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
            patch(&added.blob, &set),
            Err(PatchError::OldVersion(3))
        ));
        let replace = PatchRequest {
            mode: PatchMode::Replace,
            has_idle: Some(true),
            ..PatchRequest::default()
        };
        let replaced = patch(&added.blob, &replace).unwrap();
        assert_eq!(hv_props(&replaced.blob).len(), 3);
        assert_eq!(patch(&added.blob, &remove()).unwrap().blob, before);
    }
}
