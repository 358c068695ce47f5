//! A DTB serializer that writes exactly the bytes dtc 1.6.1 writes for the same tree,
//! behind a builder that refuses the trees dtc or Linux would reject.
//!
//! # The bytes
//!
//! The layout is dtc's (`dgibson/dtc: flattree.c`, `make_fdt_header`, `flatten_tree`,
//! `dt_to_blob`; devicetree specification v0.4, chapter 5):
//!
//! * a 40-byte version-17 header (`last_comp_version` 16), every word big-endian;
//! * the memory reservation map at offset 40 (8-byte aligned): one `(address, size)`
//!   pair of 64-bit words per reservation in the order given, then an all-zero pair;
//! * the structure block right after it: `FDT_BEGIN_NODE` and the NUL-terminated node
//!   name padded with zeros to 4 bytes, then each property as `FDT_PROP`, value
//!   length, name offset, the value padded to 4, then the children, then
//!   `FDT_END_NODE`; a final `FDT_END`;
//! * the strings block right after that, built as dtc's `stringtable_insert` builds it:
//!   a property name gets the offset of the first place in the table where it
//!   already appears NUL-terminated, which includes the tail of a longer name
//!   (`phandle` inside `linux,phandle`); only a name found nowhere is appended;
//! * optional zero free space after the strings block, counted in `totalsize`, as
//!   dtc's `-p`, `-S` and `-a` make it ([`Padding`]).
//!
//! Two writers share that layout. [`DtbEmitter`] writes whatever it is given, as dtc
//! would, and also dtc's older formats (`-V 1|2|3|16`); the DTS compiler writes
//! through it, since for a source dtc accepts, dtc's bytes are the answer even when
//! the tree breaks the specification. [`FdtBuilder`] checks every call first and
//! then writes through a [`DtbEmitter`]; generators and VMMs use it.
//!
//! # What the builder refuses
//!
//! dtc's checks that a generator can trip, each named with the node path and property
//! in the error: duplicate property names and duplicate sibling nodes (dtc: ERROR
//! `duplicate_property_names` / `duplicate_node_names`), a second root, an empty child
//! name or unit address (`cpu@`), a `phandle` written as a plain property (dtc: ERROR
//! `explicit_phandles`; use [`FdtBuilder::property_phandle`]), a phandle used twice,
//! 0 or `0xffffffff` as a phandle, properties after a child node, overlapping or empty
//! memory reservations. Names follow the devicetree specification's character sets
//! (v0.4, §2.2.1 "Node Names", §2.2.4 "Properties"), the same sets vm-fdt enforces,
//! but not the specification's 31-character limit: real PAPR trees use longer names
//! (`ibm,associativity-reference-points` has 34 characters, QEMU's
//! `hw/ppc/spapr.c` writes it) and dtc compiles them. Nesting has no limit either;
//! the reader caps it.
//!
//! Allowed call sequence (enforced, with node paths in errors):
//!
//! ```text
//! FdtBuilder::new() | with_memreserves(..)   [set_boot_cpuid_phys(..)]
//! root = begin_node("")                       exactly one root, named ""
//!     property*(..)                           properties before any child
//!     child = begin_node("name[@unit]")       unique among siblings
//!         property*(..) ; begin_node .. end_node ..
//!     end_node(child)
//! end_node(root)
//! finish(&Padding)                            -> bytes
//! ```
//!
//! ```
//! use ppcpv::fdt::writer::{FdtBuilder, Padding};
//!
//! let mut w = FdtBuilder::new()?;
//! let root = w.begin_node("")?;
//! w.property_string("compatible", "linux,kvm")?;
//! w.end_node(root)?;
//! let blob = w.finish(&Padding::NONE)?;
//! assert_eq!(ppcpv::fdt::Fdt::new(&blob).unwrap().root().properties().count(), 1);
//! # Ok::<(), ppcpv::fdt::writer::WriteError>(())
//! ```

use crate::endian::be;
use crate::fdt::header::FDT_MAGIC;
use crate::fdt::name_index::NameIndex;
use crate::fdt::reader::{FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_PROP};
use alloc::borrow::ToOwned;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use thiserror::Error;

/// The format version dtc writes by default, and the oldest it stays compatible with
/// (`dgibson/dtc: flattree.c`, `version_table`).
const VERSION: u32 = 17;
const LAST_COMP_VERSION: u32 = 16;
/// Size of a version-17 header: ten 32-bit words.
const HEADER_SIZE: usize = 40;

/// Why a tree could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A second top-level node after the root was closed.
    #[error("a device tree has exactly one root node; a second one was begun")]
    SecondRoot,
    /// The root node must be named `""` (dtc prints it as `/ {`).
    #[error("the root node must be named \"\" (got {0:?})")]
    NamedRoot(String),
    /// A non-root node with an empty name.
    #[error("node under {parent}: a child node needs a name")]
    EmptyNodeName {
        /// Path of the parent node.
        parent: String,
    },
    /// A node name ending in `@` (an empty unit address).
    #[error("node {path}: empty unit address after '@'")]
    EmptyUnitAddress {
        /// Path of the offending node.
        path: String,
    },
    /// Two sibling nodes with the same name (dtc: `duplicate_node_names`).
    #[error("node {path} already exists")]
    DuplicateNode {
        /// Path of the repeated node.
        path: String,
    },
    /// The same property twice in one node (dtc: `duplicate_property_names`).
    #[error("node {node}: property {name:?} already written")]
    DuplicateProperty {
        /// Path of the node.
        node: String,
        /// The repeated property name.
        name: String,
    },
    /// A property after a child node (the format puts properties first).
    #[error("node {node}: property {name:?} comes after a child node; write properties first")]
    PropertyAfterChild {
        /// Path of the node.
        node: String,
        /// The property name.
        name: String,
    },
    /// A property while no node is open.
    #[error("property {0:?} outside any node")]
    PropertyOutsideNode(String),
    /// A node name dtc refuses: a character outside `[A-Za-z0-9,._+@-]`, or a
    /// second `@`.
    #[error("invalid node name {0:?} (allowed: [A-Za-z0-9,._+-], one optional @unit)")]
    InvalidNodeName(String),
    /// A property name that is empty or has characters outside `[0-9a-zA-Z,._+*?#-]`.
    #[error("invalid property name {0:?} (allowed: [0-9a-zA-Z,._+*?#-])")]
    InvalidPropertyName(String),
    /// A string value with an interior NUL byte.
    #[error("property {0:?}: string contains a NUL byte")]
    InvalidString(String),
    /// `phandle` or `linux,phandle` written as a plain property.
    #[error("property {0:?} must be written with property_phandle (dtc: explicit_phandles)")]
    RawPhandle(String),
    /// A phandle used twice in the tree.
    #[error("phandle {0:#x} is already used by another node")]
    DuplicatePhandle(u32),
    /// 0 and 0xffffffff are not valid phandles (dtc rejects them).
    #[error("phandle {0:#x} is reserved; use 1..=0xfffffffe")]
    InvalidPhandle(u32),
    /// A node closed out of order, or with nodes still open at `finish`.
    #[error("nodes must be closed innermost first, and all before finish")]
    Unbalanced,
    /// A memreserve of size 0 or whose end overflows 64 bits.
    #[error("memreserve {address:#x}+{size:#x} is empty or wraps past 2^64")]
    InvalidMemreserve {
        /// Start address.
        address: u64,
        /// Size in bytes.
        size: u64,
    },
    /// Two memreserves overlap.
    #[error("memreserves overlap")]
    OverlappingMemreserves,
    /// A value, or the whole blob, does not fit the format's 32-bit sizes.
    #[error("the blob or a property value exceeds 4 GiB")]
    TooLarge,
    /// Both `pad` and `space` set (dtc: "Can't set both -p and -S").
    #[error("padding: set either pad (-p) or space (-S), not both")]
    PadAndSpace,
    /// `Padding::align` that is zero or not a power of two (dtc `-a` requires one).
    #[error("alignment {0} is not a power of two")]
    BadAlign(u32),
    /// A format version dtc does not write (it writes 1, 2, 3, 16 and 17).
    #[error("unknown device tree blob version {0} (dtc writes 1, 2, 3, 16, 17)")]
    UnsupportedVersion(u32),
    /// The memory for the finished blob, free space included, could not be allocated
    /// (a blob padded to nearly 4 GiB under a memory limit): refused rather than
    /// aborting the process.
    #[error(
        "out of memory: the blob is {bytes} bytes with its free space, and that much could not be allocated"
    )]
    OutOfMemory {
        /// The blob's total size.
        bytes: u64,
    },
}

/// Trailing free space added by [`FdtBuilder::finish`], exactly like dtc's options
/// (`dgibson/dtc: flattree.c (dt_to_blob)`): `space` sets a minimum total size (`-S`),
/// `pad` adds bytes (`-p`; setting both is an error, as in dtc), then `align` rounds
/// the total size up (`-a`). The free space is zero bytes after the strings block,
/// counted in `totalsize`, which is what libfdt and `fdtput` need to edit the blob in
/// place.
///
/// Not `#[non_exhaustive]`: the three fields are dtc's three options, the whole of
/// its free-space model, and callers build the struct directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Padding {
    /// `dtc -p N`: add N zero bytes.
    pub pad: Option<u32>,
    /// `dtc -S N`: make the blob at least N bytes.
    pub space: Option<u32>,
    /// `dtc -a N`: round the total size up to a multiple of N (a power of two).
    pub align: Option<u32>,
}

impl Padding {
    /// No padding: the blob ends with its strings block (dtc's default).
    pub const NONE: Padding = Padding {
        pad: None,
        space: None,
        align: None,
    };

    /// The options of `dtc -p`, `-S` and `-a`, each `None` when not given.
    #[must_use]
    pub const fn new(pad: Option<u32>, space: Option<u32>, align: Option<u32>) -> Self {
        Padding { pad, space, align }
    }

    /// How many zero bytes to append to a blob of `size` bytes.
    ///
    /// # Errors
    /// [`WriteError::PadAndSpace`] when both are set, [`WriteError::BadAlign`] for an
    /// alignment that is not a power of two, [`WriteError::TooLarge`] when the result
    /// would not fit 32 bits.
    pub fn extra(&self, size: u32) -> Result<u32, WriteError> {
        if self.pad.is_some() && self.space.is_some() {
            return Err(WriteError::PadAndSpace);
        }
        let mut padlen: u64 = 0;
        if let Some(min) = self.space {
            // dtc warns "blob size >= minimum size" and pads nothing in that case.
            padlen = u64::from(min.saturating_sub(size));
        }
        if let Some(p) = self.pad {
            padlen = u64::from(p);
        }
        if let Some(a) = self.align {
            if a == 0 || !a.is_power_of_two() {
                return Err(WriteError::BadAlign(a));
            }
            let a = u64::from(a);
            let end = u64::from(size) + padlen;
            padlen = end.div_ceil(a) * a - u64::from(size);
        }
        let total = u64::from(size) + padlen;
        if total > u64::from(u32::MAX) {
            return Err(WriteError::TooLarge);
        }
        u32::try_from(padlen).map_err(|_| WriteError::TooLarge)
    }
}

/// Which property names [`FdtBuilder::property_phandle`] writes (dtc `-H`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PhandleStyle {
    /// `phandle` only (dtc's default, `-H epapr`).
    #[default]
    Epapr,
    /// `linux,phandle` only (`-H legacy`, old PowerPC firmware and kernels).
    Legacy,
    /// `linux,phandle` then `phandle` (`-H both`).
    Both,
}

/// Token for an open node; hand it back to [`FdtBuilder::end_node`].
#[derive(Debug)]
#[must_use = "a node must be closed with FdtBuilder::end_node"]
pub struct NodeToken {
    depth: usize,
}

#[derive(Debug)]
struct OpenNode {
    path: String,
    props: BTreeSet<String>,
    children: BTreeSet<String>,
    had_child: bool,
    /// The phandle this node was given, so that a second name for the same value
    /// (`phandle` after `linux,phandle` or the other way round) is not a duplicate.
    phandle: Option<u32>,
}

/// The strings block as dtc builds it (`dgibson/dtc: flattree.c (stringtable_insert)`):
/// a name is looked up anywhere in the table, as a whole string or as the tail of one,
/// and appended only when absent.
#[derive(Debug, Default)]
struct StringTable {
    bytes: Vec<u8>,
    /// Offsets already handed out, hashed by name, so a repeated name costs one
    /// lookup instead of a scan of the table.
    known: NameIndex,
}

impl StringTable {
    fn offset_of(&mut self, name: &str) -> Result<u32, WriteError> {
        let bytes = &self.bytes;
        let n = name.as_bytes();
        // A stored offset stands for `name` when `name` and a NUL start there.
        let is = |off: u32| {
            let at = off as usize;
            bytes.get(at..at + n.len()) == Some(n) && bytes.get(at + n.len()) == Some(&0)
        };
        if let Some(off) = self.known.find(n, is) {
            return Ok(off);
        }
        let off = match find_cstr(&self.bytes, name.as_bytes()) {
            Some(at) => at,
            None => {
                let at = self.bytes.len();
                self.bytes.extend_from_slice(name.as_bytes());
                self.bytes.push(0);
                at
            }
        };
        let off = u32::try_from(off).map_err(|_| WriteError::TooLarge)?;
        self.known.insert(n, off);
        Ok(off)
    }
}

/// The first offset in `table` where `name` followed by a NUL starts: the first `i`
/// for which dtc's `streq(str, d->val + i)` holds.
pub(crate) fn find_cstr(table: &[u8], name: &[u8]) -> Option<usize> {
    let n = name.len();
    // A candidate ends at a NUL with `name` right before it.
    table
        .iter()
        .enumerate()
        .filter(|&(end, &b)| b == 0 && end >= n)
        .map(|(end, _)| end - n)
        .find(|&start| table.get(start..start + n) == Some(name))
}

/// The blob format versions dtc writes (`dgibson/dtc: flattree.c`, `version_table`),
/// with what each changes in the layout.
#[derive(Debug, Clone, Copy)]
struct VersionInfo {
    version: u32,
    last_comp_version: u32,
    /// Bytes of header written; the reservation map starts at this rounded up to 8.
    hdr_size: usize,
    /// `FTF_FULLPATH`: node names are written as full paths.
    full_path: bool,
    /// `FTF_VARALIGN`: values of 8 bytes or more start 8-aligned.
    var_align: bool,
    /// `FTF_NAMEPROPS`: every node without a `name` property gets one.
    name_props: bool,
}

/// `version_table` of `flattree.c`: header sizes `FDT_V1_SIZE` (7 words),
/// `FDT_V2_SIZE` (8), `FDT_V3_SIZE` (9, also used by 16) and `FDT_V17_SIZE` (10).
/// Versions 1 and 2 do not have `size_dt_strings`, 1 has no `boot_cpuid_phys`, and
/// only 17 has `size_dt_struct`; a field outside `hdr_size` is simply not written.
const VERSIONS: [VersionInfo; 5] = [
    VersionInfo {
        version: 1,
        last_comp_version: 1,
        hdr_size: 28,
        full_path: true,
        var_align: true,
        name_props: true,
    },
    VersionInfo {
        version: 2,
        last_comp_version: 1,
        hdr_size: 32,
        full_path: true,
        var_align: true,
        name_props: true,
    },
    VersionInfo {
        version: 3,
        last_comp_version: 1,
        hdr_size: 36,
        full_path: true,
        var_align: true,
        name_props: true,
    },
    VersionInfo {
        version: 16,
        last_comp_version: 16,
        hdr_size: 36,
        full_path: false,
        var_align: false,
        name_props: false,
    },
    VersionInfo {
        version: VERSION,
        last_comp_version: LAST_COMP_VERSION,
        hdr_size: HEADER_SIZE,
        full_path: false,
        var_align: false,
        name_props: false,
    },
];

/// One open node of a [`DtbEmitter`] writing an old format (versions 1-3).
#[derive(Debug)]
struct EmitNode {
    /// Length of the full path before this node's part (to cut it off again).
    path_len: usize,
    /// The node's name, for its `name` property.
    name: String,
    /// A `name` property was written, or the generated one is out.
    name_done: bool,
}

/// The bytes of a blob in dtc's exact layout, with no checks at all: whatever the
/// sequence of calls, the result is what `dgibson/dtc: flattree.c (flatten_tree,
/// dt_to_blob)` writes for a tree with those names, values and reservations —
/// including the trees dtc writes but [`FdtBuilder`] refuses (empty or overlapping
/// reservations, property and node names outside the specification's characters,
/// duplicates, raw `phandle` properties, reserved phandle values).
///
/// This is what the DTS compiler writes through, because dtc's own output is the
/// specification there; [`FdtBuilder`] checks each call and then writes through it.
///
/// Besides version 17 (dtc's default), it writes the older formats of `dtc -V`
/// (1, 2, 3, 16): a shorter header, and for 1-3 full paths as node names, 8-aligned
/// values of 8 bytes or more, and a `name` property for each node that has none.
///
/// ```
/// use ppcpv::fdt::writer::{DtbEmitter, Padding};
///
/// let mut e = DtbEmitter::new();
/// // Overlapping reservations and a name outside the specification's characters:
/// // dtc writes both.
/// e.add_memreserve(0x1000, 0x100);
/// e.add_memreserve(0x1080, 0x100);
/// e.begin_node("");
/// e.property("bad name!", b"x\0")?;
/// e.end_node()?;
/// let blob = e.finish(&Padding::NONE)?;
/// assert_eq!(ppcpv::fdt::Fdt::new(&blob).unwrap().reservations().count(), 2);
/// # Ok::<(), ppcpv::fdt::writer::WriteError>(())
/// ```
#[derive(Debug)]
pub struct DtbEmitter {
    vi: VersionInfo,
    reserves: Vec<(u64, u64)>,
    empty_reserves: usize,
    boot_cpuid_phys: u32,
    structure: Vec<u8>,
    strings: StringTable,
    depth: usize,
    /// Versions 1-3 only: the open nodes and the current full path.
    old: Vec<EmitNode>,
    path: String,
    too_large: bool,
}

impl Default for DtbEmitter {
    fn default() -> Self {
        Self::new()
    }
}

impl DtbEmitter {
    /// An emitter for version 17, dtc's default.
    #[must_use]
    pub fn new() -> Self {
        DtbEmitter {
            vi: VERSIONS[4],
            reserves: Vec::new(),
            empty_reserves: 0,
            boot_cpuid_phys: 0,
            structure: Vec::new(),
            strings: StringTable::default(),
            depth: 0,
            old: Vec::new(),
            path: String::new(),
            too_large: false,
        }
    }

    /// An emitter for format `version`, one of 1, 2, 3, 16, 17 (dtc `-V`).
    ///
    /// # Errors
    /// [`WriteError::UnsupportedVersion`] for any other version (dtc: "Unknown device
    /// tree blob version").
    pub fn with_version(version: u32) -> Result<Self, WriteError> {
        let vi = VERSIONS
            .iter()
            .find(|v| v.version == version)
            .ok_or(WriteError::UnsupportedVersion(version))?;
        Ok(DtbEmitter {
            vi: *vi,
            ..Self::new()
        })
    }

    /// The format version being written.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.vi.version
    }

    /// Appends a reservation to the map, as it is (dtc keeps source order and checks
    /// nothing).
    pub fn add_memreserve(&mut self, address: u64, size: u64) {
        self.reserves.push((address, size));
    }

    /// Adds `n` all-zero reservation entries after the real ones, before the
    /// terminator (dtc `-R N`, `flattree.c (flatten_reserve_list)`): room for a
    /// boot loader to add reservations in place.
    pub fn add_empty_reserves(&mut self, n: usize) {
        self.empty_reserves = self.empty_reserves.saturating_add(n);
    }

    /// Sets the header's `boot_cpuid_phys` (dtc `-b`; version 1 has no such field).
    pub fn set_boot_cpuid_phys(&mut self, cpu: u32) {
        self.boot_cpuid_phys = cpu;
    }

    /// Makes room for `additional` more bytes of structure block, so a writer that
    /// knows roughly how large the tree is saves the growth copies.
    pub fn reserve(&mut self, additional: usize) {
        self.structure.reserve(additional);
    }

    /// Number of nodes open.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// dtc's `emit->align`: zero bytes up to a multiple of `a` in the structure block.
    fn align(&mut self, a: usize) {
        let n = self.structure.len().next_multiple_of(a);
        self.structure.resize(n, 0);
    }

    /// Versions 1-3: the `name` property of the innermost open node, when it had no
    /// `name` of its own, written where dtc writes it: after its last property.
    fn finish_props(&mut self) {
        if !self.vi.name_props {
            return;
        }
        let Some(node) = self.old.last_mut() else {
            return;
        };
        if node.name_done {
            return;
        }
        node.name_done = true;
        let name = core::mem::take(&mut node.name);
        // fill_fullpaths: basenamelen is the length before '@'. flatten_tree writes
        // basenamelen + 1 as the length, and emit->string(name, basenamelen), which
        // writes the whole name when basenamelen is 0 (a root, or a name that starts
        // with '@'), so the length then undercounts; dtc's bytes are kept.
        let base = name.find('@').unwrap_or(name.len());
        let written = if base == 0 { &name[..] } else { &name[..base] };
        let nameoff = match self.strings.offset_of("name") {
            Ok(off) => off,
            Err(_) => {
                self.too_large = true;
                0
            }
        };
        be::push_u32(&mut self.structure, FDT_PROP);
        be::push_u32(
            &mut self.structure,
            u32::try_from(base + 1).unwrap_or(u32::MAX),
        );
        be::push_u32(&mut self.structure, nameoff);
        if base + 1 >= 8 {
            self.align(8);
        }
        self.structure.extend_from_slice(written.as_bytes());
        self.structure.push(0);
        self.align(4);
    }

    /// Opens a node (`FDT_BEGIN_NODE` and its name; versions 1-3 write the full path).
    /// The root is the first node, named `""`.
    pub fn begin_node(&mut self, name: &str) {
        self.finish_props();
        be::push_u32(&mut self.structure, FDT_BEGIN_NODE);
        if self.vi.full_path {
            // dtc's join_path: a '/' unless the prefix already ends with one.
            let path_len = self.path.len();
            if !self.path.ends_with('/') {
                self.path.push('/');
            }
            self.path.push_str(name);
            self.structure.extend_from_slice(self.path.as_bytes());
            self.old.push(EmitNode {
                path_len,
                name: name.to_owned(),
                name_done: false,
            });
        } else {
            self.structure.extend_from_slice(name.as_bytes());
        }
        self.structure.push(0);
        self.align(4);
        self.depth += 1;
    }

    /// Closes the innermost open node.
    ///
    /// # Errors
    /// [`WriteError::Unbalanced`] when no node is open.
    pub fn end_node(&mut self) -> Result<(), WriteError> {
        if self.depth == 0 {
            return Err(WriteError::Unbalanced);
        }
        self.finish_props();
        if let Some(node) = self.old.pop() {
            self.path.truncate(node.path_len);
        }
        be::push_u32(&mut self.structure, FDT_END_NODE);
        self.depth -= 1;
        Ok(())
    }

    /// Writes a property of the innermost open node: name and value as they are.
    ///
    /// # Errors
    /// [`WriteError::PropertyOutsideNode`] with no node open, [`WriteError::TooLarge`]
    /// for a value of 4 GiB or more.
    pub fn property(&mut self, name: &str, value: &[u8]) -> Result<(), WriteError> {
        if self.depth == 0 {
            return Err(WriteError::PropertyOutsideNode(name.to_owned()));
        }
        let nameoff = self.strings.offset_of(name)?;
        self.property_at(name, nameoff, value)
    }

    /// The strings-block offset of `name`, added to the block when new: what
    /// [`DtbEmitter::property`] looks up, for a caller that keeps it per name.
    pub(crate) fn name_offset(&mut self, name: &str) -> Result<u32, WriteError> {
        self.strings.offset_of(name)
    }

    /// [`DtbEmitter::property`] with the name's offset from
    /// [`DtbEmitter::name_offset`].
    pub(crate) fn property_at(
        &mut self,
        name: &str,
        nameoff: u32,
        value: &[u8],
    ) -> Result<(), WriteError> {
        if self.depth == 0 {
            return Err(WriteError::PropertyOutsideNode(name.to_owned()));
        }
        let len = u32::try_from(value.len()).map_err(|_| WriteError::TooLarge)?;
        if name == "name"
            && let Some(node) = self.old.last_mut()
        {
            node.name_done = true;
        }
        let mut head = [0u8; 12];
        head[..4].copy_from_slice(&FDT_PROP.to_be_bytes());
        head[4..8].copy_from_slice(&len.to_be_bytes());
        head[8..].copy_from_slice(&nameoff.to_be_bytes());
        self.structure.extend_from_slice(&head);
        if self.vi.var_align && value.len() >= 8 {
            self.align(8);
        }
        self.structure.extend_from_slice(value);
        self.align(4);
        Ok(())
    }

    /// The finished blob, with `padding` free space counted in `totalsize`
    /// (`dt_to_blob`).
    ///
    /// # Errors
    /// [`WriteError::Unbalanced`] with nodes still open, [`WriteError::TooLarge`],
    /// [`WriteError::PadAndSpace`], [`WriteError::BadAlign`],
    /// [`WriteError::OutOfMemory`] when the blob's memory cannot be allocated.
    pub fn finish(self, padding: &Padding) -> Result<Vec<u8>, WriteError> {
        if self.depth != 0 {
            return Err(WriteError::Unbalanced);
        }
        if self.too_large {
            return Err(WriteError::TooLarge);
        }
        let size = |n: usize| u32::try_from(n).map_err(|_| WriteError::TooLarge);
        // make_fdt_header: the map starts at the header size rounded up to 8, and its
        // size counts the terminating entry.
        let off_rsvmap = self.vi.hdr_size.next_multiple_of(8);
        let entries = self
            .reserves
            .len()
            .checked_add(self.empty_reserves)
            .and_then(|n| n.checked_add(1))
            .ok_or(WriteError::TooLarge)?;
        let rsv_size = entries.checked_mul(16).ok_or(WriteError::TooLarge)?;
        let off_struct = off_rsvmap
            .checked_add(rsv_size)
            .ok_or(WriteError::TooLarge)?;
        let struct_size = self.structure.len() + 4; // + FDT_END
        let off_strings = off_struct
            .checked_add(struct_size)
            .ok_or(WriteError::TooLarge)?;
        let strings_size = self.strings.bytes.len();
        let used = size(off_strings.saturating_add(strings_size))?;
        let extra = padding.extra(used)?;
        let total = used.checked_add(extra).ok_or(WriteError::TooLarge)?;

        let mut head = Vec::with_capacity(off_struct);
        let words = [
            FDT_MAGIC,
            total,
            size(off_struct)?,
            size(off_strings)?,
            size(off_rsvmap)?,
            self.vi.version,
            self.vi.last_comp_version,
            self.boot_cpuid_phys,
            size(strings_size)?,
            size(struct_size)?,
        ];
        for &word in &words[..self.vi.hdr_size / 4] {
            be::push_u32(&mut head, word);
        }
        head.resize(off_rsvmap, 0);
        for &(address, size) in &self.reserves {
            be::push_u64(&mut head, address);
            be::push_u64(&mut head, size);
        }
        head.resize(off_struct, 0);
        // The structure block becomes the blob in place: one buffer of the blob's
        // size at the end instead of the block and a copy of it.
        let mut out = self.structure;
        // The one allocation of the blob, fallible: `--space 4000000000` under a memory
        // limit is an error to report, not an abort.
        out.try_reserve_exact((total as usize).saturating_sub(out.len()))
            .map_err(|_| WriteError::OutOfMemory {
                bytes: u64::from(total),
            })?;
        out.splice(0..0, head);
        be::push_u32(&mut out, FDT_END);
        out.extend_from_slice(&self.strings.bytes);
        out.resize(total as usize, 0);
        Ok(out)
    }
}

/// A checked DTB writer producing dtc's bytes. See the module docs for the layout,
/// what it refuses and the call sequence.
#[derive(Debug)]
pub struct FdtBuilder {
    emit: DtbEmitter,
    open: Vec<OpenNode>,
    root_written: bool,
    phandles: BTreeSet<u32>,
    phandle_style: PhandleStyle,
}

impl FdtBuilder {
    /// A writer with no memory reservations.
    ///
    /// # Errors
    /// None today; the signature matches [`FdtBuilder::with_memreserves`].
    pub fn new() -> Result<Self, WriteError> {
        Self::with_memreserves(&[])
    }

    /// A writer whose header lists `reserves` as `(address, size)` pairs, in the order
    /// given (dtc keeps source order too).
    ///
    /// # Errors
    /// [`WriteError::InvalidMemreserve`] for a zero size or a range that wraps,
    /// [`WriteError::OverlappingMemreserves`] when two ranges overlap.
    pub fn with_memreserves(reserves: &[(u64, u64)]) -> Result<Self, WriteError> {
        for &(address, size) in reserves {
            if size == 0 || address.checked_add(size).is_none() {
                return Err(WriteError::InvalidMemreserve { address, size });
            }
        }
        let mut sorted = reserves.to_vec();
        sorted.sort_unstable();
        // Ends cannot wrap: checked above.
        if sorted.windows(2).any(|w| w[0].0 + w[0].1 > w[1].0) {
            return Err(WriteError::OverlappingMemreserves);
        }
        let mut emit = DtbEmitter::new();
        for &(address, size) in reserves {
            emit.add_memreserve(address, size);
        }
        Ok(FdtBuilder {
            emit,
            open: Vec::new(),
            root_written: false,
            phandles: BTreeSet::new(),
            phandle_style: PhandleStyle::default(),
        })
    }

    /// Sets the header's `boot_cpuid_phys` (dtc `-b`).
    pub fn set_boot_cpuid_phys(&mut self, cpu: u32) {
        self.emit.set_boot_cpuid_phys(cpu);
    }

    /// Chooses the names [`FdtBuilder::property_phandle`] writes (dtc `-H`).
    pub fn set_phandle_style(&mut self, style: PhandleStyle) {
        self.phandle_style = style;
    }

    /// Path of the innermost open node (`"/"` for the root), or `None` outside nodes.
    #[must_use]
    pub fn current_path(&self) -> Option<&str> {
        self.open.last().map(|n| n.path.as_str())
    }

    /// Opens a node. The first call must be the root, named `""`.
    ///
    /// # Errors
    /// A second or named root, an empty name or unit address, a duplicate sibling, a
    /// name outside the specification's character set.
    pub fn begin_node(&mut self, name: &str) -> Result<NodeToken, WriteError> {
        let path = match self.open.last() {
            None => {
                if self.root_written {
                    return Err(WriteError::SecondRoot);
                }
                if !name.is_empty() {
                    return Err(WriteError::NamedRoot(name.to_owned()));
                }
                "/".to_owned()
            }
            Some(parent) => {
                if name.is_empty() {
                    return Err(WriteError::EmptyNodeName {
                        parent: parent.path.clone(),
                    });
                }
                let path = join(&parent.path, name);
                if name.ends_with('@') {
                    return Err(WriteError::EmptyUnitAddress { path });
                }
                if parent.children.contains(name) {
                    return Err(WriteError::DuplicateNode { path });
                }
                if !node_name_valid(name) {
                    return Err(WriteError::InvalidNodeName(name.to_owned()));
                }
                path
            }
        };
        self.emit.begin_node(name);
        if let Some(parent) = self.open.last_mut() {
            parent.children.insert(name.to_owned());
            parent.had_child = true;
        } else {
            self.root_written = true;
        }
        self.open.push(OpenNode {
            path,
            props: BTreeSet::new(),
            children: BTreeSet::new(),
            had_child: false,
            phandle: None,
        });
        Ok(NodeToken {
            depth: self.open.len(),
        })
    }

    /// Closes the innermost open node.
    ///
    /// # Errors
    /// [`WriteError::Unbalanced`] when `node` is not the innermost open node.
    pub fn end_node(&mut self, node: NodeToken) -> Result<(), WriteError> {
        if node.depth != self.open.len() {
            return Err(WriteError::Unbalanced);
        }
        self.emit.end_node()?;
        self.open.pop();
        Ok(())
    }

    /// Writes a property with raw bytes as its value.
    ///
    /// # Errors
    /// No open node, a property after a child, a duplicate name, a bad name,
    /// `phandle`/`linux,phandle` (use [`FdtBuilder::property_phandle`]).
    pub fn property(&mut self, name: &str, value: &[u8]) -> Result<(), WriteError> {
        if name == "phandle" || name == "linux,phandle" {
            return Err(WriteError::RawPhandle(name.to_owned()));
        }
        self.raw_property(name, value)
    }

    fn raw_property(&mut self, name: &str, value: &[u8]) -> Result<(), WriteError> {
        let node = self
            .open
            .last_mut()
            .ok_or_else(|| WriteError::PropertyOutsideNode(name.to_owned()))?;
        if node.had_child {
            return Err(WriteError::PropertyAfterChild {
                node: node.path.clone(),
                name: name.to_owned(),
            });
        }
        if node.props.contains(name) {
            return Err(WriteError::DuplicateProperty {
                node: node.path.clone(),
                name: name.to_owned(),
            });
        }
        if name.is_empty() || !name.bytes().all(property_char) {
            return Err(WriteError::InvalidPropertyName(name.to_owned()));
        }
        self.emit.property(name, value)?;
        node.props.insert(name.to_owned());
        Ok(())
    }

    /// Writes an empty property (a presence flag such as `has-idle`).
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_null(&mut self, name: &str) -> Result<(), WriteError> {
        self.property(name, &[])
    }

    /// Writes a NUL-terminated string.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`], and [`WriteError::InvalidString`] for an interior NUL.
    pub fn property_string(&mut self, name: &str, value: &str) -> Result<(), WriteError> {
        self.property_string_list(name, &[value])
    }

    /// Writes a string list (`"a\0b\0"`).
    ///
    /// # Errors
    /// As [`FdtBuilder::property_string`].
    pub fn property_string_list<S: AsRef<str>>(
        &mut self,
        name: &str,
        values: &[S],
    ) -> Result<(), WriteError> {
        let mut bytes = Vec::new();
        for v in values {
            let v = v.as_ref();
            if v.contains('\0') {
                return Err(WriteError::InvalidString(name.to_owned()));
            }
            bytes.extend_from_slice(v.as_bytes());
            bytes.push(0);
        }
        self.property(name, &bytes)
    }

    /// Writes one big-endian cell.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_u32(&mut self, name: &str, value: u32) -> Result<(), WriteError> {
        self.property_array_u32(name, &[value])
    }

    /// Writes a big-endian 64-bit value (two cells).
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_u64(&mut self, name: &str, value: u64) -> Result<(), WriteError> {
        self.property_array_u64(name, &[value])
    }

    /// Writes big-endian cells.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_array_u32(&mut self, name: &str, cells: &[u32]) -> Result<(), WriteError> {
        let mut bytes = Vec::with_capacity(cells.len() * 4);
        for &c in cells {
            be::push_u32(&mut bytes, c);
        }
        self.property(name, &bytes)
    }

    /// Writes big-endian 64-bit values.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_array_u64(&mut self, name: &str, values: &[u64]) -> Result<(), WriteError> {
        let mut bytes = Vec::with_capacity(values.len() * 8);
        for &v in values {
            be::push_u64(&mut bytes, v);
        }
        self.property(name, &bytes)
    }

    /// Gives the open node a phandle, written as the [`PhandleStyle`] says.
    ///
    /// # Errors
    /// [`WriteError::InvalidPhandle`] for 0 or 0xffffffff, [`WriteError::DuplicatePhandle`]
    /// when another node has it, and the errors of [`FdtBuilder::property`].
    pub fn property_phandle(&mut self, phandle: u32) -> Result<(), WriteError> {
        // dgibson/dtc: checks.c (check_phandles) rejects 0 and -1.
        if phandle == 0 || phandle == u32::MAX {
            return Err(WriteError::InvalidPhandle(phandle));
        }
        let own = self.open.last().and_then(|n| n.phandle);
        if self.phandles.contains(&phandle) && own != Some(phandle) {
            return Err(WriteError::DuplicatePhandle(phandle));
        }
        let mut bytes = Vec::with_capacity(4);
        be::push_u32(&mut bytes, phandle);
        match self.phandle_style {
            PhandleStyle::Epapr => self.raw_property("phandle", &bytes)?,
            PhandleStyle::Legacy => self.raw_property("linux,phandle", &bytes)?,
            PhandleStyle::Both => {
                self.raw_property("linux,phandle", &bytes)?;
                self.raw_property("phandle", &bytes)?;
            }
        }
        self.phandles.insert(phandle);
        if let Some(node) = self.open.last_mut() {
            node.phandle = Some(phandle);
        }
        Ok(())
    }

    /// Finishes the blob and appends `padding` free space (counted in `totalsize`).
    ///
    /// # Errors
    /// [`WriteError::Unbalanced`] with nodes still open or no root at all,
    /// [`WriteError::TooLarge`], [`WriteError::PadAndSpace`], [`WriteError::BadAlign`],
    /// [`WriteError::OutOfMemory`] when the blob's memory cannot be allocated.
    pub fn finish(self, padding: &Padding) -> Result<Vec<u8>, WriteError> {
        if !self.open.is_empty() || !self.root_written {
            return Err(WriteError::Unbalanced);
        }
        self.emit.finish(padding)
    }
}

/// Property-name characters as dtc allows them (`dgibson/dtc: checks.c`, `PROPCHARS`).
fn property_char(b: u8) -> bool {
    crate::fdt::lint::prop_char_ok(b)
}

/// The node names dtc accepts without `-f` (`dgibson/dtc: checks.c`,
/// `check_node_name_chars` and `check_node_name_format`): its node characters and at
/// most one `@`. The specification's stricter "a letter first" is a warning in dtc
/// (`node_name_chars_strict`), and real trees break it (`__symbols__`, `__overlay__`).
fn node_name_valid(name: &str) -> bool {
    name.bytes().all(crate::fdt::lint::node_char_ok)
        && name.bytes().filter(|&b| b == b'@').count() <= 1
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn be(blob: &[u8], word: usize) -> u32 {
        be::u32_at(blob, word * 4).unwrap()
    }

    #[test]
    fn minimal_tree_matches_vm_fdt() {
        // vm-fdt writes dtc's layout too; for a tree without shared name tails the
        // two agree byte for byte.
        let mut w = FdtBuilder::with_memreserves(&[(0x1000, 0x1000)]).unwrap();
        w.set_boot_cpuid_phys(1);
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        let hv = w.begin_node("hypervisor").unwrap();
        w.property_string("compatible", "linux,kvm").unwrap();
        w.property_null("has-idle").unwrap();
        w.end_node(hv).unwrap();
        w.end_node(root).unwrap();
        let ours = w.finish(&Padding::NONE).unwrap();

        let rsv = vm_fdt::FdtReserveEntry::new(0x1000, 0x1000).unwrap();
        let mut v = vm_fdt::FdtWriter::new_with_mem_reserv(&[rsv]).unwrap();
        v.set_boot_cpuid_phys(1);
        let r = v.begin_node("").unwrap();
        v.property_u32("#address-cells", 2).unwrap();
        let h = v.begin_node("hypervisor").unwrap();
        v.property_string("compatible", "linux,kvm").unwrap();
        v.property_null("has-idle").unwrap();
        v.end_node(h).unwrap();
        v.end_node(r).unwrap();
        assert_eq!(ours, v.finish().unwrap());
        assert_eq!(be(&ours, 0), 0xd00d_feed);
        assert_eq!(be(&ours, 1) as usize, ours.len());
    }

    #[test]
    fn emitter_writes_what_the_builder_refuses() {
        // dtc 1.6.1 compiles each of these (tests/data/compile/edge-writer.dts and
        // overlay-pathref.dts); FdtBuilder refuses them, DtbEmitter writes them.
        let mut e = DtbEmitter::new();
        e.add_memreserve(0x1000, 0);
        e.add_memreserve(0x2000, 0x100);
        e.add_memreserve(0x2080, 0x100);
        e.begin_node("");
        e.property("/not/here", b"/:p:0\0").unwrap();
        e.property("phandle", &[0, 0, 0, 0]).unwrap();
        e.property("phandle", &[0, 0, 0, 0]).unwrap();
        e.begin_node("cpu@");
        e.end_node().unwrap();
        e.end_node().unwrap();
        assert_eq!(e.end_node(), Err(WriteError::Unbalanced));
        let blob = e.finish(&Padding::NONE).unwrap();
        // The map as given: (0x1000, 0) is written although libfdt reads a zero size
        // as the terminator.
        assert_eq!(be(&blob, 4), 40);
        assert_eq!(be(&blob, 2), 40 + 4 * 16);
        assert_eq!((be(&blob, 11), be(&blob, 13)), (0x1000, 0));
        assert_eq!((be(&blob, 19), be(&blob, 21)), (0x2080, 0x100));
        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        assert_eq!(fdt.root().properties().count(), 3);
        assert!(FdtBuilder::with_memreserves(&[(0x1000, 0)]).is_err());

        let mut e = DtbEmitter::new();
        assert!(matches!(
            e.property("x", &[]),
            Err(WriteError::PropertyOutsideNode(_))
        ));
        e.begin_node("");
        assert_eq!(e.finish(&Padding::NONE), Err(WriteError::Unbalanced));
        assert_eq!(
            DtbEmitter::with_version(4).unwrap_err(),
            WriteError::UnsupportedVersion(4)
        );
    }

    #[test]
    fn emitter_writes_version_1_as_dtc() {
        // `dtc -I dts -O dtb -V 1` (1.6.1) of
        // `/dts-v1/; / { @12345 { }; abcdefg@1 { v = <1 2>; }; };`: a 28-byte header
        // padded to 32, full paths as names, a `name` property per node (its length
        // undercounts for a name starting with '@', as dtc writes it), and values of
        // 8 bytes or more 8-aligned.
        let want = concat!(
            "d00dfeed000000bb00000030000000b40000002000000001000000010000000000000000",
            "000000000000000000000000000000012f00000000000003000000010000000000000000",
            "000000012f40313233343500000000030000000100000000403132333435000000000002",
            "000000012f61626364656667403100000000000300000008000000050000000100000002",
            "000000030000000800000000000000006162636465666700000000020000000200000009",
            "6e616d65007600",
        );
        let mut e = DtbEmitter::with_version(1).unwrap();
        e.begin_node("");
        e.begin_node("@12345");
        e.end_node().unwrap();
        e.begin_node("abcdefg@1");
        e.property("v", &[0, 0, 0, 1, 0, 0, 0, 2]).unwrap();
        e.end_node().unwrap();
        e.end_node().unwrap();
        let blob = e.finish(&Padding::NONE).unwrap();
        let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, want);
    }

    #[test]
    fn emitter_headers_follow_the_version_table() {
        // (version, last_comp_version, off_mem_rsvmap) as dtc 1.6.1 writes them.
        for (v, last, rsv) in [
            (1, 1, 32),
            (2, 1, 32),
            (3, 1, 40),
            (16, 16, 40),
            (17, 16, 40),
        ] {
            let mut e = DtbEmitter::with_version(v).unwrap();
            e.add_empty_reserves(2);
            e.set_boot_cpuid_phys(5);
            e.begin_node("");
            e.end_node().unwrap();
            let blob = e.finish(&Padding::NONE).unwrap();
            assert_eq!((be(&blob, 5), be(&blob, 6), be(&blob, 4)), (v, last, rsv));
            // -R 2: two zero entries and the terminator.
            assert_eq!(be(&blob, 2), rsv + 3 * 16);
            assert_eq!(be(&blob, 7), if v >= 2 { 5 } else { 0 });
            assert_eq!(be(&blob, 1) as usize, blob.len());
        }
    }

    #[test]
    fn string_table_shares_tails_like_dtc() {
        // dtc 1.6.1 on `/ { linux,phandle2 = <1>; a { handle2 = <2>; ndle2 = <3>;
        // b = <1>; }; };` writes the strings block "linux,phandle2\0b\0" with
        // handle2 at 7 and ndle2 at 9.
        let mut t = StringTable::default();
        assert_eq!(t.offset_of("linux,phandle2").unwrap(), 0);
        assert_eq!(t.offset_of("handle2").unwrap(), 7);
        assert_eq!(t.offset_of("ndle2").unwrap(), 9);
        assert_eq!(t.offset_of("b").unwrap(), 15);
        assert_eq!(t.offset_of("handle2").unwrap(), 7);
        assert_eq!(t.bytes, b"linux,phandle2\0b\0");
        // A prefix is not a match; the empty name matches the first NUL.
        assert_eq!(find_cstr(b"abc\0", b"ab"), None);
        assert_eq!(find_cstr(b"abc\0", b""), Some(3));
        assert_eq!(find_cstr(b"", b"a"), None);
    }

    #[test]
    fn rejects_duplicate_property_and_sibling() {
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("a", 1).unwrap();
        assert_eq!(
            w.property_u32("a", 2),
            Err(WriteError::DuplicateProperty {
                node: "/".into(),
                name: "a".into()
            })
        );
        let c = w.begin_node("cpu@0").unwrap();
        w.end_node(c).unwrap();
        assert_eq!(
            w.begin_node("cpu@0").unwrap_err(),
            WriteError::DuplicateNode {
                path: "/cpu@0".into()
            }
        );
        // cpu@1 is a different node
        let c = w.begin_node("cpu@1").unwrap();
        w.end_node(c).unwrap();
        // properties after a child
        assert!(matches!(
            w.property_u32("b", 1),
            Err(WriteError::PropertyAfterChild { .. })
        ));
        w.end_node(root).unwrap();
    }

    #[test]
    fn rejects_bad_names() {
        let mut w = FdtBuilder::new().unwrap();
        assert_eq!(
            w.begin_node("root").unwrap_err(),
            WriteError::NamedRoot("root".into())
        );
        let root = w.begin_node("").unwrap();
        assert_eq!(
            w.begin_node("").unwrap_err(),
            WriteError::EmptyNodeName { parent: "/".into() }
        );
        assert_eq!(
            w.begin_node("cpu@").unwrap_err(),
            WriteError::EmptyUnitAddress {
                path: "/cpu@".into()
            }
        );
        for bad in ["a@b@c", "a b", "a/b", "caf\u{e9}"] {
            assert_eq!(
                w.begin_node(bad).unwrap_err(),
                WriteError::InvalidNodeName(bad.into())
            );
        }
        for bad in ["ibm,associativity reference points", "a b", ""] {
            assert_eq!(
                w.property_null(bad).unwrap_err(),
                WriteError::InvalidPropertyName(bad.into())
            );
        }
        assert_eq!(
            w.property_string("s", "a\0b").unwrap_err(),
            WriteError::InvalidString("s".into())
        );
        w.end_node(root).unwrap();
        assert_eq!(w.begin_node("").unwrap_err(), WriteError::SecondRoot);
        assert!(w.finish(&Padding::NONE).is_ok());
    }

    #[test]
    fn long_names_are_written_as_they_are() {
        let long_prop = "ibm,associativity-reference-points";
        let long_node = "ibm,dynamic-reconfiguration-memory";
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_array_u32(long_prop, &[4, 4, 2]).unwrap();
        let n = w.begin_node(long_node).unwrap();
        w.property_array_u32(long_prop, &[1]).unwrap();
        assert_eq!(
            w.property_null(long_prop).unwrap_err(),
            WriteError::DuplicateProperty {
                node: format!("/{long_node}"),
                name: long_prop.into()
            }
        );
        w.property_u32("reg", 7).unwrap();
        w.end_node(n).unwrap();
        let m = w.begin_node("memory@0").unwrap();
        w.end_node(m).unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::new(Some(4), None, None)).unwrap();

        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        let paths: Vec<String> = fdt.nodes_with_paths().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/", &format!("/{long_node}"), "/memory@0"]);
        assert_eq!(
            fdt.root().property(long_prop).unwrap().value,
            &[0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2]
        );
        let node = fdt.find(&format!("/{long_node}")).unwrap();
        assert_eq!(node.property(long_prop).unwrap().value, &[0, 0, 0, 1]);
        assert_eq!(node.property("reg").unwrap().value, &[0, 0, 0, 7]);
        let start = be(&blob, 3) as usize;
        let strings = &blob[start..start + be(&blob, 8) as usize];
        assert_eq!(
            strings,
            format!("#address-cells\0{long_prop}\0reg\0").as_bytes()
        );
        assert_eq!(be(&blob, 1) as usize, blob.len());
    }

    #[test]
    fn phandles_go_through_property_phandle() {
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        assert_eq!(
            w.property_u32("phandle", 1).unwrap_err(),
            WriteError::RawPhandle("phandle".into())
        );
        assert_eq!(
            w.property_u32("linux,phandle", 1).unwrap_err(),
            WriteError::RawPhandle("linux,phandle".into())
        );
        assert_eq!(
            w.property_phandle(0).unwrap_err(),
            WriteError::InvalidPhandle(0)
        );
        w.set_phandle_style(PhandleStyle::Both);
        w.property_phandle(1).unwrap();
        let a = w.begin_node("a").unwrap();
        assert_eq!(
            w.property_phandle(1).unwrap_err(),
            WriteError::DuplicatePhandle(1)
        );
        w.set_phandle_style(PhandleStyle::Epapr);
        w.property_phandle(2).unwrap();
        // One node may carry its value under the other name too, in either order
        // (pseries trees list `phandle` before `linux,phandle`).
        w.set_phandle_style(PhandleStyle::Legacy);
        w.property_phandle(2).unwrap();
        assert_eq!(
            w.property_phandle(2).unwrap_err(),
            WriteError::DuplicateProperty {
                node: "/a".into(),
                name: "linux,phandle".into()
            }
        );
        w.end_node(a).unwrap();
        // dtc's names, not only the specification's: overlays and symbols.
        let o = w.begin_node("__overlay__").unwrap();
        w.end_node(o).unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::NONE).unwrap();
        // `phandle` is the tail of `linux,phandle`, as `dtc -H both` writes it.
        let strings = &blob[be(&blob, 3) as usize..];
        assert_eq!(strings, b"linux,phandle\0");
        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        assert_eq!(fdt.root().property("phandle").unwrap().value, &[0, 0, 0, 1]);
    }

    #[test]
    fn unbalanced_sequences_are_errors() {
        let w = FdtBuilder::new().unwrap();
        assert_eq!(
            w.finish(&Padding::NONE).unwrap_err(),
            WriteError::Unbalanced
        );
        let mut w = FdtBuilder::new().unwrap();
        assert!(matches!(
            w.property_null("x"),
            Err(WriteError::PropertyOutsideNode(_))
        ));
        let root = w.begin_node("").unwrap();
        let a = w.begin_node("a").unwrap();
        assert_eq!(w.end_node(root).unwrap_err(), WriteError::Unbalanced);
        w.end_node(a).unwrap();
        assert_eq!(
            w.finish(&Padding::NONE).unwrap_err(),
            WriteError::Unbalanced
        );
    }

    #[test]
    fn nesting_is_not_capped() {
        let mut w = FdtBuilder::new().unwrap();
        let mut toks = vec![w.begin_node("").unwrap()];
        for _ in 1..200 {
            toks.push(w.begin_node("n").unwrap());
        }
        while let Some(t) = toks.pop() {
            w.end_node(t).unwrap();
        }
        let blob = w.finish(&Padding::NONE).unwrap();
        assert_eq!(crate::fdt::Fdt::new(&blob).unwrap().max_depth(), 200);
    }

    #[test]
    fn memreserves_and_boot_cpu_land_in_the_header() {
        let mut w = FdtBuilder::with_memreserves(&[(0x10000, 0x10), (0x1000, 0x2000)]).unwrap();
        w.set_boot_cpuid_phys(3);
        let root = w.begin_node("").unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::NONE).unwrap();
        assert_eq!(be(&blob, 7), 3);
        let rsv = be(&blob, 4) as usize / 4;
        // Source order, not sorted.
        assert_eq!((be(&blob, rsv + 1), be(&blob, rsv + 3)), (0x10000, 0x10));
        assert_eq!((be(&blob, rsv + 5), be(&blob, rsv + 7)), (0x1000, 0x2000));
        assert_eq!(
            FdtBuilder::with_memreserves(&[(0x1000, 0)]).unwrap_err(),
            WriteError::InvalidMemreserve {
                address: 0x1000,
                size: 0
            }
        );
        assert_eq!(
            FdtBuilder::with_memreserves(&[(u64::MAX, 2)]).unwrap_err(),
            WriteError::InvalidMemreserve {
                address: u64::MAX,
                size: 2
            }
        );
        assert_eq!(
            FdtBuilder::with_memreserves(&[(0x1000, 0x100), (0x1080, 0x100)]).unwrap_err(),
            WriteError::OverlappingMemreserves
        );
    }

    #[test]
    fn padding_follows_dtc() {
        let p = Padding::new;
        assert_eq!(Padding::NONE.extra(100).unwrap(), 0);
        assert_eq!(p(Some(8), None, None).extra(100).unwrap(), 8);
        assert_eq!(p(None, Some(4096), None).extra(100).unwrap(), 3996);
        assert_eq!(p(None, Some(50), None).extra(100).unwrap(), 0);
        assert_eq!(
            p(Some(8), Some(4096), None).extra(100).unwrap_err(),
            WriteError::PadAndSpace
        );
        assert_eq!(p(None, None, Some(64)).extra(100).unwrap(), 28);
        assert_eq!(p(Some(8), None, Some(64)).extra(100).unwrap(), 28);
        assert_eq!(p(None, None, Some(64)).extra(128).unwrap(), 0);
        assert_eq!(
            p(None, None, Some(48)).extra(100).unwrap_err(),
            WriteError::BadAlign(48)
        );
        assert_eq!(
            p(Some(u32::MAX), None, None).extra(100).unwrap_err(),
            WriteError::TooLarge
        );

        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&p(Some(16), None, None)).unwrap();
        assert_eq!(be(&blob, 1) as usize, blob.len());
        assert!(blob[blob.len() - 16..].iter().all(|&b| b == 0));
    }
}
