//! A DTB writer: a thin guard over `vm-fdt` 0.3 that refuses the trees vm-fdt would
//! write silently although dtc or Linux reject them, plus dtc-style padding.
//!
//! vm-fdt (`rust-vmm/vm-fdt: src/writer.rs`) produces the same bytes as dtc for the
//! same tree (fdt-ecosystem.md §3.3), but lets through (fdt-ecosystem.md §3.2, §9.5):
//! duplicate property names and duplicate sibling nodes (dtc: ERROR
//! `duplicate_property_names` / `duplicate_node_names`), a second root, an empty child
//! name or unit address (`cpu@`), and a `phandle` written with `property_u32` (dtc: ERROR
//! `explicit_phandles`). It also rejects names over 31 characters, which real PAPR
//! trees use (`ibm,associativity-reference-points`, 34), and it cannot pad
//! (`dtc -p/-S/-a`). [`FdtBuilder`] checks all of that and names the node and property
//! in every error.
//!
//! Names over 31 characters take a route around vm-fdt: the builder checks their
//! characters itself (the same sets vm-fdt uses), hands vm-fdt a short placeholder, and
//! `finish` re-encodes the structure and strings blocks with the real names (strings
//! still stored once per whole name, in first-use order). Trees without long names are
//! vm-fdt's bytes untouched.
//!
//! Allowed call sequence (the same as vm-fdt's, enforced with node paths in errors):
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

use std::collections::BTreeSet;
use thiserror::Error;
use vm_fdt::{FdtReserveEntry, FdtWriter, FdtWriterNode};

/// The longest node or property name vm-fdt 0.3 accepts (the part before `@` for
/// nodes); longer names exist in real PAPR trees (fdt-ecosystem.md §3.2) and go through
/// the placeholder route described in the module docs.
pub const MAX_NAME_LEN: usize = 31;

/// Prefix of the placeholders handed to vm-fdt for long names; a name of this form
/// that the builder issued cannot also be used as a real name.
const PLACEHOLDER_PREFIX: &str = "ppcpv-long-name-";

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

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
    /// A name equal to one of the placeholders the builder gave vm-fdt for a long name.
    #[error("name {0:?} is reserved for the builder's long-name placeholders")]
    ReservedName(String),
    /// The long-name re-encoding met a blob it did not expect (a bug in the builder).
    #[error("internal: could not re-encode the blob's long names at offset {0}")]
    Reencode(usize),
    /// A node name vm-fdt rejects (characters outside `[A-Za-z0-9,._+-]`, a leading
    /// non-letter, two `@`).
    #[error("invalid node name {0:?} (a letter first, then [A-Za-z0-9,._+-], optional @unit)")]
    InvalidNodeName(String),
    /// A property name vm-fdt rejects (characters outside `[0-9a-zA-Z,._+?#-]`).
    #[error("invalid property name {0:?} (allowed: [0-9a-zA-Z,._+?#-])")]
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
    /// Nesting deeper than 64 levels (the Linux and vm-fdt limit).
    #[error("nodes nest deeper than 64 levels")]
    TooDeep,
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
}

/// Trailing free space added by [`FdtBuilder::finish`], exactly like dtc's options
/// (`dgibson/dtc: flattree.c (dt_to_blob)`): `space` sets a minimum total size (`-S`),
/// `pad` adds bytes (`-p`; setting both is an error, as in dtc), then `align` rounds the total size up
/// (`-a`). The free space is zero bytes after the strings block, counted in `totalsize`,
/// which is what libfdt and `fdtput` need to edit the blob in place.
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
    /// No padding: the blob ends with its strings block (vm-fdt's and dtc's default).
    pub const NONE: Padding = Padding {
        pad: None,
        space: None,
        align: None,
    };

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
    inner: FdtWriterNode,
    depth: usize,
}

#[derive(Debug)]
struct OpenNode {
    path: String,
    props: BTreeSet<String>,
    children: BTreeSet<String>,
    had_child: bool,
}

/// A checked DTB writer over [`vm_fdt::FdtWriter`]. See the module docs for what it
/// refuses and the call sequence.
#[derive(Debug)]
pub struct FdtBuilder {
    inner: FdtWriter,
    open: Vec<OpenNode>,
    root_written: bool,
    phandles: BTreeSet<u32>,
    phandle_style: PhandleStyle,
    /// (placeholder, real name) for every name over [`MAX_NAME_LEN`].
    long_names: Vec<(String, String)>,
    /// Every real name written, so a placeholder never collides with one.
    used_names: BTreeSet<String>,
}

impl FdtBuilder {
    /// A writer with no memory reservations.
    ///
    /// # Errors
    /// None in practice; vm-fdt's constructor is fallible.
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
        let mut entries = Vec::with_capacity(reserves.len());
        for &(address, size) in reserves {
            let e = FdtReserveEntry::new(address, size)
                .map_err(|_| WriteError::InvalidMemreserve { address, size })?;
            entries.push(e);
        }
        let inner = FdtWriter::new_with_mem_reserv(&entries).map_err(map_vm)?;
        Ok(FdtBuilder {
            inner,
            open: Vec::new(),
            root_written: false,
            phandles: BTreeSet::new(),
            phandle_style: PhandleStyle::default(),
            long_names: Vec::new(),
            used_names: BTreeSet::new(),
        })
    }

    /// Sets the header's `boot_cpuid_phys` (dtc `-b`).
    pub fn set_boot_cpuid_phys(&mut self, cpu: u32) {
        self.inner.set_boot_cpuid_phys(cpu);
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
    /// name vm-fdt rejects, nesting deeper than 64.
    pub fn begin_node(&mut self, name: &str) -> Result<NodeToken, WriteError> {
        let path = match self.open.last_mut() {
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
                path
            }
        };
        let base_len = name.split_once('@').map_or(name.len(), |(b, _)| b.len());
        let given = if base_len > MAX_NAME_LEN {
            if !long_node_name_valid(name) {
                return Err(WriteError::InvalidNodeName(name.to_owned()));
            }
            self.placeholder(name)?
        } else {
            self.check_not_placeholder(name)?;
            name.to_owned()
        };
        let inner = self.inner.begin_node(&given).map_err(|e| match e {
            vm_fdt::Error::NodeDepthTooLarge => WriteError::TooDeep,
            vm_fdt::Error::InvalidNodeName | vm_fdt::Error::InvalidString => {
                WriteError::InvalidNodeName(name.to_owned())
            }
            other => map_vm(other),
        })?;
        self.used_names.insert(name.to_owned());
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
        });
        Ok(NodeToken {
            inner,
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
        self.inner
            .end_node(node.inner)
            .map_err(|_| WriteError::Unbalanced)?;
        self.open.pop();
        Ok(())
    }

    /// Writes a property with raw bytes as its value.
    ///
    /// # Errors
    /// No open node, a property after a child, a duplicate name, a bad or too long
    /// name, `phandle`/`linux,phandle` (use [`FdtBuilder::property_phandle`]).
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
        let given = if name.len() > MAX_NAME_LEN {
            if !name.bytes().all(property_char) {
                return Err(WriteError::InvalidPropertyName(name.to_owned()));
            }
            self.placeholder(name)?
        } else {
            self.check_not_placeholder(name)?;
            name.to_owned()
        };
        self.inner.property(&given, value).map_err(|e| match e {
            vm_fdt::Error::InvalidPropertyName | vm_fdt::Error::InvalidString => {
                WriteError::InvalidPropertyName(name.to_owned())
            }
            other => map_vm(other),
        })?;
        self.used_names.insert(name.to_owned());
        if let Some(node) = self.open.last_mut() {
            node.props.insert(name.to_owned());
        }
        Ok(())
    }

    /// The placeholder for a long `name`, issuing a new one on first use.
    fn placeholder(&mut self, name: &str) -> Result<String, WriteError> {
        if let Some((p, _)) = self.long_names.iter().find(|(_, real)| real == name) {
            return Ok(p.clone());
        }
        let mut n = self.long_names.len();
        let p = loop {
            let p = format!("{PLACEHOLDER_PREFIX}{n}");
            if !self.used_names.contains(&p) {
                break p;
            }
            n = n.saturating_add(1);
        };
        self.long_names.push((p.clone(), name.to_owned()));
        Ok(p)
    }

    fn check_not_placeholder(&self, name: &str) -> Result<(), WriteError> {
        if self.long_names.iter().any(|(p, _)| p == name) {
            return Err(WriteError::ReservedName(name.to_owned()));
        }
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
        self.property(name, &value.to_be_bytes())
    }

    /// Writes a big-endian 64-bit value (two cells).
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_u64(&mut self, name: &str, value: u64) -> Result<(), WriteError> {
        self.property(name, &value.to_be_bytes())
    }

    /// Writes big-endian cells.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_array_u32(&mut self, name: &str, cells: &[u32]) -> Result<(), WriteError> {
        let bytes: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.property(name, &bytes)
    }

    /// Writes big-endian 64-bit values.
    ///
    /// # Errors
    /// As [`FdtBuilder::property`].
    pub fn property_array_u64(&mut self, name: &str, values: &[u64]) -> Result<(), WriteError> {
        let bytes: Vec<u8> = values.iter().flat_map(|c| c.to_be_bytes()).collect();
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
        if self.phandles.contains(&phandle) {
            return Err(WriteError::DuplicatePhandle(phandle));
        }
        let bytes = phandle.to_be_bytes();
        match self.phandle_style {
            PhandleStyle::Epapr => self.raw_property("phandle", &bytes)?,
            PhandleStyle::Legacy => self.raw_property("linux,phandle", &bytes)?,
            PhandleStyle::Both => {
                self.raw_property("linux,phandle", &bytes)?;
                self.raw_property("phandle", &bytes)?;
            }
        }
        self.phandles.insert(phandle);
        Ok(())
    }

    /// Finishes the blob and appends `padding` free space (counted in `totalsize`).
    ///
    /// # Errors
    /// [`WriteError::Unbalanced`] with nodes still open or no root at all,
    /// [`WriteError::TooLarge`], [`WriteError::BadAlign`].
    pub fn finish(self, padding: &Padding) -> Result<Vec<u8>, WriteError> {
        if !self.open.is_empty() || !self.root_written {
            return Err(WriteError::Unbalanced);
        }
        let mut blob = self.inner.finish().map_err(map_vm)?;
        if !self.long_names.is_empty() {
            blob = reencode_long_names(&blob, &self.long_names)?;
        }
        let size = u32::try_from(blob.len()).map_err(|_| WriteError::TooLarge)?;
        let extra = padding.extra(size)?;
        if extra > 0 {
            let total = size.checked_add(extra).ok_or(WriteError::TooLarge)?;
            let extra = usize::try_from(extra).map_err(|_| WriteError::TooLarge)?;
            blob.resize(blob.len().saturating_add(extra), 0);
            // totalsize is header word 1 (offset 4); vm-fdt always writes a 40-byte header.
            if let Some(field) = blob.get_mut(4..8) {
                field.copy_from_slice(&total.to_be_bytes());
            }
        }
        Ok(blob)
    }
}

/// vm-fdt's property-name characters (`rust-vmm/vm-fdt: src/writer.rs
/// (property_name_valid)`; fdt-ecosystem.md §3.2).
fn property_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b",._+?#-".contains(&b)
}

/// vm-fdt's node-name rule without the length limit: a letter, then `[A-Za-z0-9,._+-]`,
/// and an optional unit address from the same set.
fn long_node_name_valid(name: &str) -> bool {
    let node_char = |b: u8| b.is_ascii_alphanumeric() || b",._+-".contains(&b);
    let (base, unit) = match name.split_once('@') {
        Some((b, u)) => (b, Some(u)),
        None => (name, None),
    };
    base.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && base.bytes().all(node_char)
        && unit.is_none_or(|u| u.bytes().all(node_char))
}

/// Rewrites a vm-fdt blob, replacing placeholder node and property names by the real
/// long names. Layout stays vm-fdt's: header, rsvmap, structure block, strings block,
/// strings once per whole name in first-use order.
fn reencode_long_names(blob: &[u8], long: &[(String, String)]) -> Result<Vec<u8>, WriteError> {
    let word = |off: usize| -> Result<u32, WriteError> {
        blob.get(off..off.checked_add(4).ok_or(WriteError::Reencode(off))?)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or(WriteError::Reencode(off))
    };
    let to_usize = |v: u32| usize::try_from(v).map_err(|_| WriteError::TooLarge);
    let off_struct = to_usize(word(8)?)?;
    let off_strings = to_usize(word(12)?)?;
    let size_struct = to_usize(word(36)?)?;
    let strings = blob.get(off_strings..).ok_or(WriteError::Reencode(12))?;
    let real = |name: &str| -> String {
        long.iter()
            .find(|(p, _)| p == name)
            .map_or_else(|| name.to_owned(), |(_, r)| r.clone())
    };
    let cstr_at = |bytes: &[u8], at: usize| -> Result<String, WriteError> {
        let tail = bytes.get(at..).ok_or(WriteError::Reencode(at))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or(WriteError::Reencode(at))?;
        let s = tail.get(..end).ok_or(WriteError::Reencode(at))?;
        String::from_utf8(s.to_vec()).map_err(|_| WriteError::Reencode(at))
    };

    let mut out = blob
        .get(..off_struct)
        .ok_or(WriteError::Reencode(8))?
        .to_vec();
    let mut new_strings: Vec<u8> = Vec::new();
    let mut offsets: Vec<(String, u32)> = Vec::new();
    let end_struct = off_struct
        .checked_add(size_struct)
        .ok_or(WriteError::TooLarge)?;
    let mut pos = off_struct;
    let pad4 = |v: &mut Vec<u8>| {
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
    };
    while pos < end_struct {
        let tok = word(pos)?;
        out.extend_from_slice(&tok.to_be_bytes());
        pos = pos.checked_add(4).ok_or(WriteError::TooLarge)?;
        match tok {
            FDT_BEGIN_NODE => {
                let name = cstr_at(blob, pos)?;
                pos = pos
                    .checked_add(name.len() + 1)
                    .and_then(|p| p.checked_next_multiple_of(4))
                    .ok_or(WriteError::TooLarge)?;
                out.extend_from_slice(real(&name).as_bytes());
                out.push(0);
                pad4(&mut out);
            }
            FDT_PROP => {
                let len = to_usize(word(pos)?)?;
                let nameoff = to_usize(word(pos + 4)?)?;
                let name = real(&cstr_at(strings, nameoff)?);
                let off = match offsets.iter().find(|(n, _)| *n == name) {
                    Some((_, o)) => *o,
                    None => {
                        let o =
                            u32::try_from(new_strings.len()).map_err(|_| WriteError::TooLarge)?;
                        new_strings.extend_from_slice(name.as_bytes());
                        new_strings.push(0);
                        offsets.push((name, o));
                        o
                    }
                };
                let value_at = pos.checked_add(8).ok_or(WriteError::TooLarge)?;
                let value = blob
                    .get(value_at..value_at.checked_add(len).ok_or(WriteError::TooLarge)?)
                    .ok_or(WriteError::Reencode(value_at))?;
                out.extend_from_slice(&word(pos)?.to_be_bytes());
                out.extend_from_slice(&off.to_be_bytes());
                out.extend_from_slice(value);
                pad4(&mut out);
                pos = value_at
                    .checked_add(len)
                    .and_then(|p| p.checked_next_multiple_of(4))
                    .ok_or(WriteError::TooLarge)?;
            }
            FDT_END_NODE | FDT_NOP | FDT_END => {}
            _ => return Err(WriteError::Reencode(pos)),
        }
    }
    let new_size_struct = out
        .len()
        .checked_sub(off_struct)
        .ok_or(WriteError::TooLarge)?;
    let new_off_strings = out.len();
    out.extend_from_slice(&new_strings);
    let total = u32::try_from(out.len()).map_err(|_| WriteError::TooLarge)?;
    let as_u32 = |v: usize| u32::try_from(v).map_err(|_| WriteError::TooLarge);
    for (at, v) in [
        (4usize, total),
        (12, as_u32(new_off_strings)?),
        (32, as_u32(new_strings.len())?),
        (36, as_u32(new_size_struct)?),
    ] {
        out.get_mut(at..at + 4)
            .ok_or(WriteError::Reencode(at))?
            .copy_from_slice(&v.to_be_bytes());
    }
    Ok(out)
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn map_vm(e: vm_fdt::Error) -> WriteError {
    match e {
        vm_fdt::Error::InvalidMemoryReservation => WriteError::InvalidMemreserve {
            address: 0,
            size: 0,
        },
        vm_fdt::Error::OverlappingMemoryReservations => WriteError::OverlappingMemreserves,
        vm_fdt::Error::NodeDepthTooLarge => WriteError::TooDeep,
        vm_fdt::Error::DuplicatePhandle => WriteError::DuplicatePhandle(0),
        vm_fdt::Error::InvalidNodeName => WriteError::InvalidNodeName(String::new()),
        vm_fdt::Error::InvalidPropertyName => WriteError::InvalidPropertyName(String::new()),
        vm_fdt::Error::InvalidString => WriteError::InvalidString(String::new()),
        vm_fdt::Error::PropertyBeforeBeginNode => WriteError::PropertyOutsideNode(String::new()),
        vm_fdt::Error::PropertyValueTooLarge | vm_fdt::Error::TotalSizeTooLarge => {
            WriteError::TooLarge
        }
        // PropertyAfterEndNode, OutOfOrderEndNode, UnclosedNode, and any later variant:
        // the guard checks these first, so reaching here means an unbalanced sequence.
        _ => WriteError::Unbalanced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(blob: &[u8], word: usize) -> u32 {
        let b = &blob[word * 4..word * 4 + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn minimal_tree_matches_vm_fdt() {
        let mut w = FdtBuilder::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        let hv = w.begin_node("hypervisor").unwrap();
        w.property_string("compatible", "linux,kvm").unwrap();
        w.end_node(hv).unwrap();
        w.end_node(root).unwrap();
        let ours = w.finish(&Padding::NONE).unwrap();

        let mut v = FdtWriter::new().unwrap();
        let r = v.begin_node("").unwrap();
        v.property_u32("#address-cells", 2).unwrap();
        let h = v.begin_node("hypervisor").unwrap();
        v.property_string("compatible", "linux,kvm").unwrap();
        v.end_node(h).unwrap();
        v.end_node(r).unwrap();
        assert_eq!(ours, v.finish().unwrap());
        assert_eq!(be(&ours, 0), 0xd00d_feed);
        assert_eq!(be(&ours, 1) as usize, ours.len());
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
    fn rejects_names_vm_fdt_mishandles() {
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
        assert_eq!(
            w.begin_node("1bm,dynamic-reconfiguration-memory")
                .unwrap_err(),
            WriteError::InvalidNodeName("1bm,dynamic-reconfiguration-memory".into())
        );
        assert_eq!(
            w.property_null("ibm,associativity reference points")
                .unwrap_err(),
            WriteError::InvalidPropertyName("ibm,associativity reference points".into())
        );
        assert_eq!(
            w.begin_node("1abc").unwrap_err(),
            WriteError::InvalidNodeName("1abc".into())
        );
        assert_eq!(
            w.property_null("a b").unwrap_err(),
            WriteError::InvalidPropertyName("a b".into())
        );
        assert_eq!(
            w.property_string("s", "a\0b").unwrap_err(),
            WriteError::InvalidString("s".into())
        );
        w.end_node(root).unwrap();
        assert_eq!(w.begin_node("").unwrap_err(), WriteError::SecondRoot);
        assert!(w.finish(&Padding::NONE).is_ok());
    }

    #[test]
    fn long_names_take_the_placeholder_route() {
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
        assert_eq!(
            w.property_null("ppcpv-long-name-0").unwrap_err(),
            WriteError::ReservedName("ppcpv-long-name-0".into())
        );
        w.property_u32("reg", 7).unwrap();
        w.end_node(n).unwrap();
        let m = w.begin_node("memory@0").unwrap();
        w.end_node(m).unwrap();
        w.end_node(root).unwrap();
        let blob = w
            .finish(&Padding {
                pad: Some(4),
                ..Padding::NONE
            })
            .unwrap();

        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        let paths: Vec<String> = fdt.nodes_with_paths().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/", &format!("/{long_node}"), "/memory@0"]);
        let root = fdt.root();
        assert_eq!(
            root.property(long_prop).unwrap().value,
            &[0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2]
        );
        let node = fdt.find(&format!("/{long_node}")).unwrap();
        assert_eq!(node.property(long_prop).unwrap().value, &[0, 0, 0, 1]);
        assert_eq!(node.property("reg").unwrap().value, &[0, 0, 0, 7]);
        // The strings block holds each whole name once, in first-use order.
        let strings = &blob[be(&blob, 3) as usize..be(&blob, 3) as usize + be(&blob, 8) as usize];
        assert_eq!(
            strings,
            format!("#address-cells\0{long_prop}\0reg\0").as_bytes()
        );
        assert_eq!(be(&blob, 1) as usize, blob.len());
        assert!(!blob.windows(16).any(|w| w == b"ppcpv-long-name-"));
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
        w.property_phandle(2).unwrap();
        w.end_node(a).unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::NONE).unwrap();
        let strings = &blob[be(&blob, 3) as usize..];
        assert_eq!(strings, b"linux,phandle\0phandle\0");
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
    fn depth_is_capped_at_64() {
        let mut w = FdtBuilder::new().unwrap();
        let mut toks = vec![w.begin_node("").unwrap()];
        for _ in 1..64 {
            toks.push(w.begin_node("n").unwrap());
        }
        assert_eq!(w.begin_node("n").unwrap_err(), WriteError::TooDeep);
        while let Some(t) = toks.pop() {
            w.end_node(t).unwrap();
        }
        assert!(w.finish(&Padding::NONE).is_ok());
    }

    #[test]
    fn memreserves_and_boot_cpu_land_in_the_header() {
        let mut w = FdtBuilder::with_memreserves(&[(0x1000, 0x2000), (0x10000, 0x10)]).unwrap();
        w.set_boot_cpuid_phys(3);
        let root = w.begin_node("").unwrap();
        w.end_node(root).unwrap();
        let blob = w.finish(&Padding::NONE).unwrap();
        assert_eq!(be(&blob, 7), 3);
        let rsv = be(&blob, 4) as usize / 4;
        assert_eq!((be(&blob, rsv + 1), be(&blob, rsv + 3)), (0x1000, 0x2000));
        assert_eq!(
            FdtBuilder::with_memreserves(&[(0x1000, 0)]).unwrap_err(),
            WriteError::InvalidMemreserve {
                address: 0x1000,
                size: 0
            }
        );
        assert_eq!(
            FdtBuilder::with_memreserves(&[(0x1000, 0x100), (0x1080, 0x100)]).unwrap_err(),
            WriteError::OverlappingMemreserves
        );
    }

    #[test]
    fn padding_follows_dtc() {
        let p = |pad, space, align| Padding { pad, space, align };
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
