//! Editing a validated blob without re-serialising it: this crate's counterpart of
//! libfdt's read-write functions (`dgibson/dtc: libfdt/fdt_rw.c`: `fdt_setprop`,
//! `fdt_delprop`, `fdt_add_subnode`, `fdt_del_node`).
//!
//! An [`Editor`] collects edits against the byte offsets the reader reports
//! ([`Node::offset`], [`Property::offset`]) and [`Editor::finish`] writes a new blob
//! in one pass. Every byte the edits do not touch keeps its value and relative place:
//! node and property order, the memory reservation map, `boot_cpuid_phys`, the header
//! version, the order of the blocks and any gaps between them, names of any length.
//! The result is validated with [`Fdt::new`] before it is returned.
//!
//! Like libfdt (`fdt_find_add_string_`), a property name already in the strings block
//! is reused, also as the tail of a longer name (dtc's `stringtable_insert` in
//! `flattree.c` writes such tails itself); a new name is appended. Unlike libfdt, a
//! name is reused only from the part of the block that some property uses: names at
//! its end that nothing uses (libfdt's `fdt_delprop`, behind `fdtput -d`, leaves them
//! there) are not, and a new copy is appended instead. An edit that only deletes drops
//! the names at the end of the block whose last users it deleted (the names an earlier
//! edit appended) and stops at the first name it did not free. So adding a node and
//! then deleting it gives back the original bytes, unused trailing names included.
//! Other unused names stay, unreferenced; readers ignore them.
//!
//! # Free space
//!
//! libfdt edits a blob inside the `totalsize` it has and fails with
//! `-FDT_ERR_NOSPACE` when the edit does not fit; here the blob grows or shrinks
//! instead, and the free space after the last block follows the policy the blob shows
//! ([`FreeSpace::of_blob`]), read the way dtc's options make it (`flattree.c`,
//! `dt_to_blob`): no free space stays none (dtc without options); a `totalsize` that
//! is a multiple of a power of two larger than the free space (`-S`, `-a`, QEMU's
//! 1 MiB blobs) stays such a multiple, so an edit that fits keeps `totalsize` as an
//! in-place libfdt edit would; any other free space (`-p`) keeps its amount.
//!
//! # Old format versions
//!
//! Versions 1–3 (`flattree.c`, `FTF_FULLPATH | FTF_VARALIGN`) name nodes by full path
//! and start property values of 8 bytes or more on an 8-byte boundary counted from the
//! structure block. Whole nodes can be added, replaced and deleted there: new nodes
//! are written in that encoding, and an edit that would move a later aligned value by
//! other than a multiple of 8 is refused ([`EditError::OldLayout`]) rather than the
//! blob re-serialised. Single-property edits need version 16 or later
//! ([`EditError::OldVersion`]); `dtc -I dtb -O dtb` converts a blob.

use crate::endian::be;
pub use crate::fdt::error::NameKind;
use crate::fdt::reader::{FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP};
use crate::fdt::{Fdt, FdtError, Node, Property};
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// A single-property edit in a blob of a format version before 16.
    #[error(
        "blob version {0}: single properties are not changed in place before v16 (values \
         of 8 bytes or more are 8-byte aligned there); convert the blob with \
         `dtc -I dtb -O dtb`"
    )]
    OldVersion(u32),
    /// An edit of an old-format blob would misalign a later 8-byte aligned value.
    #[error(
        "blob version {0}: this edit would move later 8-byte aligned values off their \
         alignment; convert the blob with `dtc -I dtb -O dtb` first"
    )]
    OldLayout(u32),
    /// A node or property name the format cannot hold.
    #[error("invalid {kind} name {name:?}")]
    InvalidName {
        /// Node or property.
        kind: NameKind,
        /// The name.
        name: String,
    },
    /// Two edits touch the same bytes, or an edit lies outside the structure block
    /// (a node from another blob).
    #[error("conflicting edits at offset {offset}")]
    Conflict {
        /// Blob offset where the edits meet.
        offset: usize,
    },
    /// The edited blob would exceed the format's 32-bit sizes.
    #[error("the edited blob would exceed 4 GiB")]
    TooLarge,
    /// The memory for the edited blob, free space included, could not be allocated.
    #[error(
        "out of memory: the edited blob needs {bytes} bytes, and that much could not be allocated"
    )]
    OutOfMemory {
        /// The bytes asked for.
        bytes: u64,
    },
    /// The result failed validation (a bug; nothing is returned).
    #[error("internal error: the edited blob does not validate: {0}")]
    Invalid(FdtError),
}

/// A property to write: its name and raw value, owned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PropertyValue {
    /// The name.
    pub name: String,
    /// The raw value bytes.
    pub value: Vec<u8>,
}

impl PropertyValue {
    /// A property called `name` with `value`.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        PropertyValue {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl From<&Property<'_>> for PropertyValue {
    fn from(p: &Property<'_>) -> Self {
        PropertyValue::new(p.name, p.value)
    }
}

/// How a blob's free space (the bytes after its last block, counted in `totalsize`)
/// came about, as far as the blob shows it. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FreeSpace {
    /// None: the blob ends with its last block (dtc without options).
    Packed,
    /// `totalsize` is a multiple of this power of two and the free space is smaller
    /// (dtc `-a N`, `-S N`, QEMU's 1 MiB dumps): keep the size a multiple of it.
    Aligned(usize),
    /// This many free bytes (dtc `-p N`): keep the amount.
    Padded(usize),
}

impl FreeSpace {
    /// The policy of a blob of `total` bytes with `free` of them free. Alignment counts
    /// from 8 bytes up, so `-p` with a small pad is not taken for `-a`.
    #[must_use]
    pub fn of_blob(total: usize, free: usize) -> Self {
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

/// A structure-block edit: replace `range` (blob offsets) with `bytes`.
#[derive(Debug)]
struct Splice {
    range: Range<usize>,
    bytes: Vec<u8>,
    /// Old format: the bytes hold values whose 8-byte alignment depends on where the
    /// splice lands.
    aligned: bool,
}

impl Splice {
    fn delete(range: Range<usize>) -> Self {
        Splice {
            range,
            bytes: Vec::new(),
            aligned: false,
        }
    }
}

/// Edits of one validated blob, applied by [`Editor::finish`].
///
/// ```
/// use ppcpv::fdt::edit::{Editor, PropertyValue};
/// use ppcpv::fdt::writer::{FdtBuilder, Padding};
/// use ppcpv::fdt::Fdt;
///
/// let mut w = FdtBuilder::new()?;
/// let root = w.begin_node("")?;
/// w.property_u32("#address-cells", 2)?;
/// w.end_node(root)?;
/// let blob = w.finish(&Padding::NONE)?;
///
/// let fdt = Fdt::new(&blob).unwrap();
/// let mut ed = Editor::new(&fdt);
/// ed.add_node(&fdt.root(), "chosen", &[PropertyValue::new("bootargs", *b"quiet\0")]).unwrap();
/// let out = ed.finish().unwrap();
/// let edited = Fdt::new(&out).unwrap();
/// assert_eq!(edited.find("/chosen").unwrap().property("bootargs").unwrap().value, b"quiet\0");
/// # Ok::<(), ppcpv::fdt::writer::WriteError>(())
/// ```
#[derive(Debug)]
pub struct Editor<'a> {
    fdt: Fdt<'a>,
    strings: StringsEditor<'a>,
    splices: Vec<Splice>,
}

impl<'a> Editor<'a> {
    /// No edits yet on `fdt`.
    #[must_use]
    pub fn new(fdt: &Fdt<'a>) -> Self {
        Editor {
            fdt: *fdt,
            strings: StringsEditor::new(fdt),
            splices: Vec::new(),
        }
    }

    /// Whether no edit has been made (finishing gives the input back).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.splices.is_empty()
    }

    fn is_old(&self) -> bool {
        self.fdt.header().version < 16
    }

    fn need_v16(&self) -> Result<(), EditError> {
        if self.is_old() {
            return Err(EditError::OldVersion(self.fdt.header().version));
        }
        Ok(())
    }

    /// The name a new child of `parent` carries in `FDT_BEGIN_NODE`: its name, or in
    /// the old format its full path.
    fn encoded_name(&self, parent: Option<&Node<'a>>, name: &str) -> Result<String, EditError> {
        if name.is_empty() || name.contains(['\0', '/']) {
            return Err(EditError::InvalidName {
                kind: NameKind::Node,
                name: name.to_owned(),
            });
        }
        if !self.is_old() {
            return Ok(name.to_owned());
        }
        let parent_path = parent.map_or_else(|| "/".to_owned(), |p| self.fdt.path_of(p));
        Ok(if parent_path == "/" {
            alloc::format!("/{name}")
        } else {
            alloc::format!("{parent_path}/{name}")
        })
    }

    /// Adds a node called `name` with `props` as the last child of `parent`
    /// (`fdt_add_subnode` adds it first; last keeps the existing children's order and
    /// is where dtc puts a node added by a later source fragment).
    ///
    /// # Errors
    /// [`EditError::InvalidName`], [`EditError::TooLarge`].
    pub fn add_node(
        &mut self,
        parent: &Node<'a>,
        name: &str,
        props: &[PropertyValue],
    ) -> Result<(), EditError> {
        let encoded = self.encoded_name(Some(parent), name)?;
        // The parent's FDT_END_NODE is its last 4 bytes: the new node goes before it.
        let at = parent.end_offset().saturating_sub(4);
        let splice = self.node_splice(at..at, &encoded, props)?;
        self.splices.push(splice);
        Ok(())
    }

    /// Puts a node called `name` with `props` (and no children) in place of `node`
    /// and its subtree.
    ///
    /// # Errors
    /// As [`Editor::add_node`].
    pub fn replace_node(
        &mut self,
        node: &Node<'a>,
        name: &str,
        props: &[PropertyValue],
    ) -> Result<(), EditError> {
        // Only the old format's full-path names need the parent (one pass over the
        // tree to find it).
        let parent = if self.is_old() {
            self.fdt.parent_of(node)
        } else {
            None
        };
        let encoded = self.encoded_name(parent.as_ref(), name)?;
        self.strings.freeing_subtree(self.fdt.blob(), node);
        let splice = self.node_splice(node.offset()..node.end_offset(), &encoded, props)?;
        self.splices.push(splice);
        Ok(())
    }

    /// Deletes `node` and its subtree (`fdt_del_node`).
    pub fn delete_node(&mut self, node: &Node<'a>) {
        self.strings.freeing_subtree(self.fdt.blob(), node);
        self.splices
            .push(Splice::delete(node.offset()..node.end_offset()));
    }

    /// Sets property `name` of `node` to `value` (`fdt_setprop`): the first property
    /// of that name is overwritten in place, keeping its name offset; a missing one is
    /// added after the node's last property that precedes its first child. Returns
    /// `false` when the property already had this value (nothing to do).
    ///
    /// # Errors
    /// [`EditError::OldVersion`], [`EditError::InvalidName`], [`EditError::TooLarge`].
    pub fn set_property(
        &mut self,
        node: &Node<'a>,
        name: &str,
        value: &[u8],
    ) -> Result<bool, EditError> {
        self.need_v16()?;
        if name.contains('\0') {
            return Err(EditError::InvalidName {
                kind: NameKind::Property,
                name: name.to_owned(),
            });
        }
        match node.property(name) {
            Some(p) if p.value == value => Ok(false),
            Some(p) => {
                let nameoff = be::u32_at(self.fdt.blob(), p.offset + 8)
                    .ok_or(EditError::Conflict { offset: p.offset })?;
                let bytes = prop_bytes(nameoff, value)?;
                self.splices.push(Splice {
                    range: p.offset..p.end,
                    bytes,
                    aligned: false,
                });
                Ok(true)
            }
            None => {
                let first_child = node.children().next().map(|c| c.offset());
                let at = node
                    .properties()
                    .filter(|p| first_child.is_none_or(|c| p.offset < c))
                    .last()
                    .map_or(node.body_offset(), |p| p.end);
                let nameoff = self.strings.offset_of(&self.fdt, name)?;
                let bytes = prop_bytes(nameoff, value)?;
                self.splices.push(Splice {
                    range: at..at,
                    bytes,
                    aligned: false,
                });
                Ok(true)
            }
        }
    }

    /// Deletes every property of `node` called `name` (`fdt_delprop` deletes the
    /// first; a duplicate left behind would still count for readers that test
    /// presence). Returns how many were deleted.
    ///
    /// # Errors
    /// [`EditError::OldVersion`].
    pub fn delete_property(&mut self, node: &Node<'a>, name: &str) -> Result<usize, EditError> {
        self.need_v16()?;
        let mut n = 0;
        for p in node.properties().filter(|p| p.name == name) {
            self.strings.freeing(self.fdt.blob(), &p);
            self.splices.push(Splice::delete(p.offset..p.end));
            n += 1;
        }
        Ok(n)
    }

    /// A whole node: `FDT_BEGIN_NODE`, its encoded name, the properties,
    /// `FDT_END_NODE`, for the place `range` of the blob.
    fn node_splice(
        &mut self,
        range: Range<usize>,
        encoded_name: &str,
        props: &[PropertyValue],
    ) -> Result<Splice, EditError> {
        let old = self.is_old();
        // Where the bytes will start, counted from the structure block (old format
        // alignment).
        let base = range.start.saturating_sub(self.fdt.struct_range().start);
        let mut out = Vec::new();
        let mut aligned = false;
        be::push_u32(&mut out, FDT_BEGIN_NODE);
        out.extend_from_slice(encoded_name.as_bytes());
        out.push(0);
        pad4(&mut out);
        for p in props {
            if p.name.contains('\0') {
                return Err(EditError::InvalidName {
                    kind: NameKind::Property,
                    name: p.name.clone(),
                });
            }
            let nameoff = self.strings.offset_of(&self.fdt, &p.name)?;
            let len = u32::try_from(p.value.len()).map_err(|_| EditError::TooLarge)?;
            be::push_u32(&mut out, FDT_PROP);
            be::push_u32(&mut out, len);
            be::push_u32(&mut out, nameoff);
            if old && p.value.len() >= 8 {
                aligned = true;
                while !(base + out.len()).is_multiple_of(8) {
                    out.push(0);
                }
            }
            out.extend_from_slice(&p.value);
            pad4(&mut out);
        }
        be::push_u32(&mut out, FDT_END_NODE);
        Ok(Splice {
            range,
            bytes: out,
            aligned,
        })
    }

    /// Writes the edited blob: the header, then the three blocks in their original
    /// order with the original gaps between them, the structure block spliced, the
    /// strings block extended or trimmed, then the free space (see the module docs),
    /// and validates it. Without edits, the input bytes.
    ///
    /// # Errors
    /// [`EditError::Conflict`] for overlapping edits, [`EditError::OldLayout`],
    /// [`EditError::TooLarge`], [`EditError::Invalid`].
    pub fn finish(mut self) -> Result<Vec<u8>, EditError> {
        if self.splices.is_empty() {
            return Ok(self.fdt.blob().to_vec());
        }
        // Stable: insertions at one offset keep the order they were made in.
        self.splices.sort_by_key(|s| (s.range.start, s.range.end));
        let structure = self.fdt.struct_range();
        let mut prev_end = structure.start;
        for s in &self.splices {
            if s.range.start < prev_end || s.range.end > structure.end {
                return Err(EditError::Conflict {
                    offset: s.range.start,
                });
            }
            prev_end = s.range.end;
        }
        if self.is_old() && shifts_aligned_values(&self.fdt, &self.splices) {
            return Err(EditError::OldLayout(self.fdt.header().version));
        }
        let keep = strings_to_keep(&self.fdt, &self.splices, &self.strings);
        let out = rebuild(&self.fdt, &self.splices, keep, &self.strings.appended)?;
        Fdt::new(&out).map_err(EditError::Invalid)?;
        Ok(out)
    }
}

/// The name offset of property `p` (the word after its length).
fn nameoff_of(blob: &[u8], p: &Property<'_>) -> Option<usize> {
    be::u32_at(blob, p.offset + 8).map(|o| o as usize)
}

/// How many bytes of the original strings block the edited blob keeps. After an edit
/// that only deletes, the names at the end of the block that no remaining property
/// uses and that a deleted property used are dropped (the names an earlier add
/// appended), back to the first name that is still used or that this edit did not free
/// (an unused name some other tool left): so add-then-remove gives back the original
/// bytes. Nothing is dropped when names were appended (their offsets assume the whole
/// block) or when every name is still used.
fn strings_to_keep(fdt: &Fdt<'_>, splices: &[Splice], strings: &StringsEditor<'_>) -> usize {
    let full = strings.block.len();
    let deletes = splices.iter().any(|s| !s.range.is_empty());
    // Only worth a walk over the whole tree when a deleted property used the block's
    // last name.
    if !deletes || !strings.appended.is_empty() || !strings.freed_last {
        return full;
    }
    let blob = fdt.blob();
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
            let end = nameoff_of(blob, &p)
                .unwrap_or(full)
                .saturating_add(p.name.len() + 1);
            keep = keep.max(end);
            if keep >= full {
                return full;
            }
        }
    }
    // From the end back: drop a name only while this edit freed it.
    let mut end = full;
    while end > keep {
        let start = strings
            .block
            .get(..end - 1)
            .and_then(|b| b.iter().rposition(|&c| c == 0))
            .map_or(0, |i| i + 1);
        // Back to the first freed name in that stretch: bytes before it that end in no
        // NUL (unterminated bytes some tool left before the names an edit appended)
        // stay.
        match strings
            .freed
            .iter()
            .filter(|o| (start..end).contains(*o))
            .min()
        {
            Some(&first) => end = first,
            None => break,
        }
    }
    end.max(keep)
}

/// The end of the furthest name any property of `fdt` uses (0 without properties).
fn used_names_end(fdt: &Fdt<'_>) -> usize {
    let blob = fdt.blob();
    let mut end = 0;
    for (_, node) in fdt.nodes() {
        for p in node.properties() {
            if let Some(o) = nameoff_of(blob, &p) {
                end = end.max(o.saturating_add(p.name.len() + 1));
            }
        }
    }
    end
}

/// The strings block and the names appended to it.
#[derive(Debug)]
struct StringsEditor<'a> {
    block: &'a [u8],
    appended: Vec<u8>,
    /// End of the furthest name in `block` that new properties use.
    used_end: usize,
    /// A deleted property used the block's last name.
    freed_last: bool,
    /// The name offsets of the deleted properties.
    freed: Vec<usize>,
    /// The end of the furthest name a property of the original blob uses: names are
    /// reused only before it (computed on the first lookup).
    reusable_end: Option<usize>,
}

impl<'a> StringsEditor<'a> {
    fn new(fdt: &Fdt<'a>) -> Self {
        let block = fdt.blob().get(fdt.strings_range()).unwrap_or_default();
        StringsEditor {
            block,
            appended: Vec::new(),
            used_end: 0,
            freed_last: false,
            freed: Vec::new(),
            reusable_end: None,
        }
    }

    /// Notes that `p` is deleted (for [`strings_to_keep`]).
    fn freeing(&mut self, blob: &[u8], p: &Property<'_>) {
        let Some(o) = nameoff_of(blob, p) else {
            return;
        };
        if o.saturating_add(p.name.len() + 1) == self.block.len() {
            self.freed_last = true;
        }
        self.freed.push(o);
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
    /// Any occurrence of `name\0` before the end of the last name in use serves, also
    /// as the tail of a longer name; one among the unused names at the end of the
    /// block does not (see the module docs).
    fn offset_of(&mut self, fdt: &Fdt<'_>, name: &str) -> Result<u32, EditError> {
        let needle = name.as_bytes();
        let reusable_end = *self.reusable_end.get_or_insert_with(|| used_names_end(fdt));
        let reusable = self.block.get(..reusable_end).unwrap_or(self.block);
        let pos = match crate::fdt::writer::find_cstr(reusable, needle) {
            Some(p) => {
                self.used_end = self.used_end.max(p + needle.len() + 1);
                p
            }
            None => match crate::fdt::writer::find_cstr(&self.appended, needle) {
                Some(p) => self.block.len() + p,
                None => {
                    let p = self.block.len() + self.appended.len();
                    self.appended.extend_from_slice(needle);
                    self.appended.push(0);
                    p
                }
            },
        };
        u32::try_from(pos).map_err(|_| EditError::TooLarge)
    }
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// `FDT_PROP`, `len`, `nameoff`, the value, zero padding to 4 bytes.
fn prop_bytes(nameoff: u32, value: &[u8]) -> Result<Vec<u8>, EditError> {
    let len = u32::try_from(value.len()).map_err(|_| EditError::TooLarge)?;
    let mut out = Vec::with_capacity(12 + value.len() + 3);
    be::push_u32(&mut out, FDT_PROP);
    be::push_u32(&mut out, len);
    be::push_u32(&mut out, nameoff);
    out.extend_from_slice(value);
    pad4(&mut out);
    Ok(out)
}

/// Old format only: whether a value of 8 bytes or more after a splice, existing or
/// new, would land off its 8-byte boundary. `splices` is sorted.
fn shifts_aligned_values(fdt: &Fdt<'_>, splices: &[Splice]) -> bool {
    let Some(first) = splices.first().map(|s| s.range.start) else {
        return false;
    };
    // Net shift, modulo 8, that `splices` give the bytes after them.
    let net = |splices: &mut dyn Iterator<Item = &Splice>| -> usize {
        splices.fold(0, |acc, s| {
            (acc + s.bytes.len() % 8 + 8 - s.range.len() % 8) % 8
        })
    };
    // Everything at or after `at` moves by the splices that end there or before.
    let shift_at = |at: usize| net(&mut splices.iter().filter(|s| s.range.end <= at));
    // A new node's values were aligned for its original place: the splices before it
    // must not move it.
    let new_misaligned = splices
        .iter()
        .enumerate()
        .any(|(i, s)| s.aligned && net(&mut splices[..i].iter()) != 0);
    new_misaligned
        || fdt.nodes().any(|(_, n)| {
            n.properties().any(|p| {
                p.offset >= first
                    && p.value.len() >= 8
                    && !splices.iter().any(|s| s.range.contains(&p.offset))
                    && shift_at(p.offset) != 0
            })
        })
}

/// Which block a range is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Rsvmap,
    Struct,
    Strings,
}

/// Header byte offsets of the fields [`rebuild`] rewrites (devicetree specification
/// v0.4, §5.2).
const H_TOTALSIZE: usize = 4;
const H_OFF_STRUCT: usize = 8;
const H_OFF_STRINGS: usize = 12;
const H_OFF_RSVMAP: usize = 16;
const H_SIZE_STRINGS: usize = 32;
const H_SIZE_STRUCT: usize = 36;

/// Writes the new blob (see [`Editor::finish`]). `splices` is sorted and disjoint.
fn rebuild(
    fdt: &Fdt<'_>,
    splices: &[Splice],
    strings_keep: usize,
    appended: &[u8],
) -> Result<Vec<u8>, EditError> {
    let blob = fdt.blob();
    let header = fdt.header();
    let hsize = header.size() as usize;
    let mut blocks = [
        (Block::Rsvmap, fdt.rsvmap_range()),
        (Block::Struct, fdt.struct_range()),
        (Block::Strings, fdt.strings_range()),
    ];
    blocks.sort_by_key(|(_, r)| r.start);

    let total_in = blob.len();
    let used_in = blocks.iter().map(|(_, r)| r.end).max().unwrap_or(hsize);
    let free_in = total_in.saturating_sub(used_in);

    let oom = |bytes: usize| EditError::OutOfMemory {
        bytes: bytes as u64,
    };
    let mut out: Vec<u8> = Vec::new();
    let first = total_in.saturating_add(appended.len()).saturating_add(256);
    out.try_reserve_exact(first).map_err(|_| oom(first))?;
    out.extend_from_slice(blob.get(..hsize).ok_or(EditError::TooLarge)?);
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
        let src = blob.get(range.clone()).ok_or(EditError::TooLarge)?;
        match kind {
            Block::Rsvmap => out.extend_from_slice(src),
            Block::Strings => {
                out.extend_from_slice(src.get(..strings_keep).unwrap_or(src));
                out.extend_from_slice(appended);
            }
            Block::Struct => {
                let mut at = range.start;
                for s in splices {
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
    let total_out = FreeSpace::of_blob(total_in, free_in).total(out.len());
    out.try_reserve_exact(total_out.saturating_sub(out.len()))
        .map_err(|_| oom(total_out))?;
    let tail = blob.get(used_in..).unwrap_or_default();
    let room = total_out.saturating_sub(out.len());
    out.extend_from_slice(tail.get(..room).unwrap_or(tail));
    out.resize(total_out, 0);

    let mut put = |at: usize, v: usize| -> Result<(), EditError> {
        let v = u32::try_from(v).map_err(|_| EditError::TooLarge)?;
        if at + 4 > out.len() {
            return Err(EditError::TooLarge);
        }
        be::set_u32(&mut out, at, v);
        Ok(())
    };
    put(H_TOTALSIZE, total_out)?;
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

/// Why [`relayout`] could not give a blob its free space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayoutError {
    /// The padding options are inconsistent or give a blob above 4 GiB.
    #[error(transparent)]
    Padding(#[from] crate::fdt::writer::WriteError),
    /// The new blob does not fit in the memory this process may allocate.
    #[error("cannot allocate {0} bytes for the padded blob")]
    NoMemory(u64),
}

/// Gives a valid blob the free space `padding` asks for, as dtc's `-p`, `-S` and `-a`
/// would have written it: every byte up to the end of the last block (header,
/// reservation map, structure and strings blocks, and any gaps between them) is kept,
/// whatever followed is replaced by `padding.extra(used)` zero bytes, and `totalsize`
/// is set to the new length. [`Padding::NONE`](crate::fdt::writer::Padding::NONE) drops
/// the free space.
///
/// # Errors
/// [`RelayoutError::Padding`] as
/// [`Padding::extra`](crate::fdt::writer::Padding::extra): both `pad` and `space`, a bad
/// alignment, or a size above 4 GiB; [`RelayoutError::NoMemory`] when the allocation is
/// refused (never an abort).
pub fn relayout(
    fdt: &Fdt<'_>,
    padding: &crate::fdt::writer::Padding,
) -> Result<Vec<u8>, RelayoutError> {
    use crate::fdt::writer::WriteError;
    let used = fdt
        .rsvmap_range()
        .end
        .max(fdt.struct_range().end)
        .max(fdt.strings_range().end)
        .max(crate::fdt::header::header_size(fdt.header().version).unwrap_or(40) as usize);
    let used32 = u32::try_from(used).map_err(|_| WriteError::TooLarge)?;
    let extra = padding.extra(used32)?;
    let total = used32 + extra; // extra() keeps the sum within u32
    let blob = fdt.blob();
    let mut out = Vec::new();
    out.try_reserve_exact(total as usize)
        .map_err(|_| RelayoutError::NoMemory(u64::from(total)))?;
    out.extend_from_slice(blob.get(..used).unwrap_or(blob));
    out.resize(total as usize, 0);
    // totalsize is the second header word in every version.
    out[4..8].copy_from_slice(&total.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::writer::{FdtBuilder, Padding};

    fn tree(padding: &Padding) -> Vec<u8> {
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        let cpus = w.begin_node("cpus").unwrap();
        w.property_u32("#size-cells", 0).unwrap();
        w.end_node(cpus).unwrap();
        w.end_node(root).unwrap();
        w.finish(padding).unwrap()
    }

    #[test]
    fn relayout_gives_the_blob_dtc_writes_with_those_options() {
        let plain = tree(&Padding::NONE);
        for p in [
            Padding::new(Some(100), None, None),
            Padding::new(None, Some(4096), None),
            Padding::new(None, None, Some(256)),
            Padding::new(Some(3), None, Some(64)),
        ] {
            let want = tree(&p);
            // From the packed blob and from a padded one alike.
            for from in [&plain, &tree(&Padding::new(Some(77), None, None))] {
                let got = relayout(&Fdt::new(from).unwrap(), &p).unwrap();
                assert_eq!(got, want, "{p:?}");
            }
        }
        let padded = tree(&Padding::new(None, Some(8192), None));
        let packed = relayout(&Fdt::new(&padded).unwrap(), &Padding::NONE).unwrap();
        assert_eq!(packed, plain);
        assert!(
            relayout(
                &Fdt::new(&plain).unwrap(),
                &Padding::new(Some(1), Some(2), None)
            )
            .is_err()
        );
    }

    #[test]
    fn free_space_policies() {
        assert_eq!(FreeSpace::of_blob(1000, 0), FreeSpace::Packed);
        // QEMU's 1 MiB dump, dtc -S 65536, dtc -a 256.
        assert_eq!(
            FreeSpace::of_blob(1 << 20, 1_042_175),
            FreeSpace::Aligned(1 << 20)
        );
        assert_eq!(FreeSpace::of_blob(69376, 226), FreeSpace::Aligned(256));
        // dtc -p 8192 on a 69150-byte tree; 64 trailing bytes on 69222.
        assert_eq!(FreeSpace::of_blob(77342, 8192), FreeSpace::Padded(8192));
        assert_eq!(FreeSpace::of_blob(69286, 64), FreeSpace::Padded(64));
        assert_eq!(FreeSpace::Aligned(256).total(69377), 69632);
        assert_eq!(FreeSpace::Padded(64).total(100), 164);
    }

    #[test]
    fn strings_reuse_tails_and_append_once() {
        let blob = tree(&Padding::NONE);
        let fdt = Fdt::new(&blob).unwrap();
        let mut hay = StringsEditor {
            block: b"linux,phandle\0compatible\0",
            appended: Vec::new(),
            used_end: 0,
            freed_last: false,
            freed: Vec::new(),
            reusable_end: Some(25),
        };
        assert_eq!(hay.offset_of(&fdt, "phandle").unwrap(), 6);
        assert_eq!(hay.offset_of(&fdt, "compatible").unwrap(), 14);
        assert_eq!(hay.offset_of(&fdt, "has-idle").unwrap(), 25);
        assert_eq!(hay.offset_of(&fdt, "has-idle").unwrap(), 25);
        assert_eq!(hay.offset_of(&fdt, "idle").unwrap(), 29);
        assert_eq!(hay.appended, b"has-idle\0");
        // Names past the last one in use are not reused: "compatible" is appended anew.
        let mut hay = StringsEditor {
            reusable_end: Some(14),
            appended: Vec::new(),
            ..hay
        };
        assert_eq!(hay.offset_of(&fdt, "phandle").unwrap(), 6);
        assert_eq!(hay.offset_of(&fdt, "compatible").unwrap(), 25);
    }

    #[test]
    fn add_set_delete_round_trip() {
        for padding in [
            Padding::NONE,
            Padding::new(Some(100), None, None),
            Padding::new(None, Some(4096), None),
        ] {
            let before = tree(&padding);
            let fdt = Fdt::new(&before).unwrap();
            let mut ed = Editor::new(&fdt);
            let cpus = fdt.find("/cpus").unwrap();
            ed.add_node(&cpus, "cpu@0", &[PropertyValue::new("reg", [0u8, 0, 0, 0])])
                .unwrap();
            assert!(ed.set_property(&fdt.root(), "model", b"x\0").unwrap());
            assert!(
                !ed.set_property(&cpus, "#size-cells", &[0, 0, 0, 0])
                    .unwrap()
            );
            let added = ed.finish().unwrap();
            let fdt2 = Fdt::new(&added).unwrap();
            assert_eq!(
                fdt2.find("/cpus/cpu@0/")
                    .unwrap()
                    .property("reg")
                    .unwrap()
                    .value,
                [0; 4]
            );
            assert_eq!(fdt2.root().property("model").unwrap().value, b"x\0");
            if let Some(pad) = padding.pad {
                assert_eq!(added.len() - fdt2.strings_range().end, pad as usize);
            }
            if padding.space.is_some() {
                assert_eq!(added.len(), 4096);
            }

            let mut ed = Editor::new(&fdt2);
            ed.delete_node(&fdt2.find("/cpus/cpu@0").unwrap());
            assert_eq!(ed.delete_property(&fdt2.root(), "model").unwrap(), 1);
            assert_eq!(ed.finish().unwrap(), before);
        }
    }

    /// `blob` (packed, strings block last) with `extra` appended to its strings block,
    /// referenced by nothing: what `fdtput -d` leaves after deleting the only user of a
    /// name the blob's last one.
    fn with_unused_names(blob: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut b = blob.to_vec();
        b.extend_from_slice(extra);
        let total = u32::try_from(b.len()).unwrap();
        be::set_u32(&mut b, H_TOTALSIZE, total);
        let size = be::u32_at(&b, H_SIZE_STRINGS).unwrap() + u32::try_from(extra.len()).unwrap();
        be::set_u32(&mut b, H_SIZE_STRINGS, size);
        b
    }

    #[test]
    fn add_then_remove_keeps_unused_trailing_names() {
        let before = with_unused_names(&tree(&Padding::NONE), b"has-idle\0model\0");
        let fdt = Fdt::new(&before).unwrap();
        let mut ed = Editor::new(&fdt);
        ed.add_node(
            &fdt.root(),
            "hypervisor",
            &[
                PropertyValue::new("compatible", *b"linux,kvm\0"),
                PropertyValue::new("has-idle", []),
                PropertyValue::new("idle", []),
            ],
        )
        .unwrap();
        assert!(ed.set_property(&fdt.root(), "model", b"m\0").unwrap());
        let added = ed.finish().unwrap();
        let fdt2 = Fdt::new(&added).unwrap();
        // The unused names were not reused: the new ones follow them.
        let strings = &added[fdt2.strings_range()];
        assert!(
            strings.ends_with(b"has-idle\0model\0compatible\0has-idle\0model\0"),
            "{:?}",
            String::from_utf8_lossy(strings)
        );
        let mut ed = Editor::new(&fdt2);
        ed.delete_node(&fdt2.find("/hypervisor").unwrap());
        assert_eq!(ed.delete_property(&fdt2.root(), "model").unwrap(), 1);
        assert_eq!(ed.finish().unwrap(), before);

        // Unterminated bytes at the end of the block stay too.
        let before = with_unused_names(&tree(&Padding::NONE), b"xyz");
        let fdt = Fdt::new(&before).unwrap();
        let mut ed = Editor::new(&fdt);
        let hv = [PropertyValue::new("has-idle", [])];
        ed.add_node(&fdt.root(), "hypervisor", &hv).unwrap();
        let added = ed.finish().unwrap();
        let fdt2 = Fdt::new(&added).unwrap();
        let mut ed = Editor::new(&fdt2);
        ed.delete_node(&fdt2.find("/hypervisor").unwrap());
        assert_eq!(ed.finish().unwrap(), before);

        // Deleting a property whose name is not last keeps every trailing unused name.
        let before = with_unused_names(&tree(&Padding::NONE), b"has-idle\0model\0");
        let fdt = Fdt::new(&before).unwrap();
        let mut ed = Editor::new(&fdt);
        assert_eq!(
            ed.delete_property(&fdt.root(), "#address-cells").unwrap(),
            1
        );
        let out = ed.finish().unwrap();
        let fdt3 = Fdt::new(&out).unwrap();
        assert!(out[fdt3.strings_range()].ends_with(b"has-idle\0model\0"));
    }

    #[test]
    fn conflicting_edits_are_refused() {
        let blob = tree(&Padding::NONE);
        let fdt = Fdt::new(&blob).unwrap();
        let mut ed = Editor::new(&fdt);
        let cpus = fdt.find("/cpus").unwrap();
        ed.delete_node(&cpus);
        ed.set_property(&cpus, "#size-cells", &[0, 0, 0, 1])
            .unwrap();
        assert!(matches!(ed.finish(), Err(EditError::Conflict { .. })));
        let mut ed = Editor::new(&fdt);
        assert!(matches!(
            ed.add_node(&fdt.root(), "a/b", &[]),
            Err(EditError::InvalidName {
                kind: NameKind::Node,
                ..
            })
        ));
        assert!(ed.is_empty());
        assert_eq!(ed.finish().unwrap(), blob);
    }
}
