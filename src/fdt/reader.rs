//! A zero-copy, validate-everything-first DTB reader.
//!
//! [`Fdt::new`] checks the whole blob once, up front, in one linear pass: the header
//! ([`Header::parse`]), every block's bounds and alignment, that no two blocks share
//! bytes, the memory reservation map up to its terminator, and the complete structure
//! block token by token (balanced nodes, known tokens, NUL-terminated UTF-8 names,
//! property values inside the block, every name offset inside the strings block and
//! its name terminated there, one root, a final `FDT_END`). After that every accessor
//! is infallible and allocation-free: nodes, properties and values are slices of the
//! caller's buffer, and byte offsets are exact so a patcher can splice the blob.
//!
//! The walk is iterative (no recursion): nesting is limited only by [`MAX_DEPTH`],
//! a documented cap far above real trees (the corpus goes to 200 levels, vm-fdt and
//! Linux stop at 64).
//!
//! Formats: versions 16 and 17, and the old versions 1-3 that dtc still reads, where
//! a node's `FDT_BEGIN_NODE` carries its full path and property values of 8 bytes or
//! more start 8-byte aligned within the structure block (`dgibson/dtc: flattree.c`,
//! `unflatten_tree`, `nodename_from_path`, `flat_read_property`). Before version 17
//! the header has no `size_dt_struct`, so the structure block ends at its `FDT_END`;
//! before version 3 it has no `size_dt_strings`, so the strings block runs to the
//! next block or the end of the blob.
//!
//! The `fdt` crate (0.2.0-alpha3) could parse the blob, but its node iterator keeps a
//! fixed 16-slot parent stack and silently ends at depth 15 (`src/nodes/root.rs`,
//! `AllNodesIter`), it has no reservation-map API, does not read versions 1-3 and
//! reports no byte offsets, and its constructor does header arithmetic that can
//! overflow on a hostile header before its fallible path starts (`src/lib.rs`,
//! `Fdt::new_unaligned`). This module therefore walks the blob itself, and
//! `Fdt::fdt_crate` (feature `fdt`) hands only a blob that passed these checks to the `fdt` crate
//! for its typed helpers: once the header is known to be sound, that crate's
//! fallible mode returns errors instead of panicking.
//!
//! # Oddities that dtc accepts, decided case by case
//!
//! The rule behind the table: read what is structurally sound even when dtc would
//! warn about it (the bytes can be shown and located exactly), refuse what cannot be
//! read without guessing (overlapping or misaligned blocks, lengths that run out of
//! the block, versions whose layout is unknown), and never do worse than dtc, which
//! prints garbage or crashes on several of these.
//!
//! | blob (corpus `synthetic-corrupt-*`) | dtc 1.6.1 | here |
//! |---|---|---|
//! | `nameoff-into-middle-of-string` | reads `call-instructions` | read: tail sharing is legal, dtc itself writes it |
//! | `empty-prop-name` | prints ` = <..>;` | read: the name is a valid (empty) C string |
//! | `prop-after-subnode` | warns, prints properties first | read: [`Node::properties`] yields every property of the node, DTS lists them before the children as dtc does |
//! | `root-name-nonempty` | prints `bad {` | read: the root keeps its name; its path is still `/` |
//! | `duplicate-node`, `duplicate-property` | refuses without `-f` | read (structurally sound): lookups return the first match |
//! | `rsvmap-unterminated` | prints the struct block as reservations | refused: [`FdtError::BlocksOverlap`], the map runs into the structure block |
//! | `off-mem-rsvmap-misaligned` | same garbage | refused: [`FdtError::Misaligned`], the map must be 8-byte aligned (DT spec §5.3) |
//! | `version-too-new` (32/32), `last-comp-version-gt-version` (17/18) | reads as v17 | refused: [`FdtError::UnsupportedVersion`], as libfdt does; a future incompatible format cannot be read correctly |
//! | `strings-overlap-struct` | prints struct bytes as names | refused: [`FdtError::BlocksOverlap`] |
//! | `len-overflow` | segfaults | refused: [`FdtError::PropertyTooLong`] |

use super::FdtError;
use super::error::{BlockKind, NameKind, StructItem};
use super::header::Header;
use crate::endian::be;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

/// Deepest nesting accepted, counting the root as level 1. Real trees stay below 20,
/// the corpus's deepest is 201; the cap exists so that adversarial nesting ends in
/// [`FdtError::TooDeep`] instead of unbounded path buffers.
pub const MAX_DEPTH: usize = 4096;

/// `FDT_BEGIN_NODE`: a node starts; its name follows, NUL-terminated, padded to 4.
pub const FDT_BEGIN_NODE: u32 = 0x1;
/// `FDT_END_NODE`: the current node ends.
pub const FDT_END_NODE: u32 = 0x2;
/// `FDT_PROP`: a property: `len`, `nameoff`, then `len` bytes padded to 4.
pub const FDT_PROP: u32 = 0x3;
/// `FDT_NOP`: ignored.
pub const FDT_NOP: u32 = 0x4;
/// `FDT_END`: the end of the structure block.
pub const FDT_END: u32 = 0x9;

const BLOCK_HEADER: BlockKind = BlockKind::Header;
const BLOCK_RSVMAP: BlockKind = BlockKind::MemoryReservation;
const BLOCK_STRUCT: BlockKind = BlockKind::Structure;
const BLOCK_STRINGS: BlockKind = BlockKind::Strings;

fn align_up(x: usize, a: usize) -> Option<usize> {
    Some(x.checked_add(a - 1)? & !(a - 1))
}

/// One entry of the memory reservation map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Reservation {
    /// Physical start address.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub address: u64,
    /// Size in bytes (never 0: a 0 size ends the map).
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub size: u64,
}

impl Reservation {
    /// A reservation of `size` bytes at `address`.
    #[must_use]
    pub const fn new(address: u64, size: u64) -> Self {
        Reservation { address, size }
    }
}

/// One property: its name, its raw value and where its `FDT_PROP` token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property<'a> {
    /// The name, from the strings block.
    pub name: &'a str,
    /// The raw value bytes.
    pub value: &'a [u8],
    /// Byte offset of the `FDT_PROP` token in the blob.
    pub offset: usize,
    /// Byte offset just after the value's padding: where the next token starts.
    pub end: usize,
}

/// A decoded token, as the walk sees it.
#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    Begin {
        name: &'a [u8],
        next: usize,
    },
    EndNode {
        next: usize,
    },
    Prop {
        len: u32,
        nameoff: u32,
        value: usize,
        next: usize,
    },
    Nop {
        next: usize,
    },
    End {
        next: usize,
    },
}

/// Where the blocks are; shared by every node and iterator (cheap to copy).
#[derive(Debug, Clone, Copy)]
struct Ctx<'a> {
    blob: &'a [u8],
    struct_start: usize,
    struct_end: usize,
    strings_start: usize,
    strings_end: usize,
    old: bool,
    props_after_children: bool,
}

impl<'a> Ctx<'a> {
    #[inline(always)]
    fn token(&self, pos: usize) -> Result<Tok<'a>, FdtError> {
        let truncated = |what| FdtError::TruncatedStruct { what, offset: pos };
        if pos.checked_add(4).is_none_or(|e| e > self.struct_end) {
            return Err(if pos == self.struct_end {
                FdtError::MissingEnd { offset: pos }
            } else {
                truncated(StructItem::Token)
            });
        }
        let word = be::u32_at(self.blob, pos).ok_or_else(|| truncated(StructItem::Token))?;
        let after = pos + 4;
        match word {
            FDT_BEGIN_NODE => {
                let area = self
                    .blob
                    .get(after..self.struct_end)
                    .ok_or(FdtError::UnterminatedNodeName { offset: after })?;
                let nul = memchr0(area).ok_or(FdtError::UnterminatedNodeName { offset: after })?;
                let name = area.get(..nul).unwrap_or_default();
                let next =
                    align_up(after + nul + 1, 4).ok_or_else(|| truncated(StructItem::NodeName))?;
                Ok(Tok::Begin { name, next })
            }
            FDT_END_NODE => Ok(Tok::EndNode { next: after }),
            FDT_NOP => Ok(Tok::Nop { next: after }),
            FDT_END => Ok(Tok::End { next: after }),
            FDT_PROP => {
                if after.checked_add(8).is_none_or(|e| e > self.struct_end) {
                    return Err(truncated(StructItem::PropertyHeader));
                }
                let len = be::u32_at(self.blob, after)
                    .ok_or_else(|| truncated(StructItem::PropertyHeader))?;
                let nameoff = be::u32_at(self.blob, after + 4)
                    .ok_or_else(|| truncated(StructItem::PropertyHeader))?;
                let mut value = after + 8;
                if self.old && len >= 8 {
                    // dtc flattree.c flat_read_property: FTF_VARALIGN realigns to 8
                    // relative to the start of the structure block.
                    let rel = value - self.struct_start;
                    value = self.struct_start
                        + align_up(rel, 8).ok_or_else(|| truncated(StructItem::PropertyValue))?;
                }
                let too_long = || FdtError::PropertyTooLong {
                    offset: pos,
                    len,
                    struct_end: self.struct_end,
                };
                let end = value.checked_add(len as usize).ok_or_else(too_long)?;
                if end > self.struct_end {
                    return Err(too_long());
                }
                let next = align_up(end, 4).ok_or_else(too_long)?;
                Ok(Tok::Prop {
                    len,
                    nameoff,
                    value,
                    next,
                })
            }
            token => Err(FdtError::BadToken { token, offset: pos }),
        }
    }

    /// The property name at `nameoff`, checked.
    fn prop_name(&self, pos: usize, nameoff: u32) -> Result<&'a str, FdtError> {
        let size = self.strings_end - self.strings_start;
        let out = || FdtError::NameOffsetOutOfRange {
            offset: pos,
            nameoff,
            size,
        };
        let start = self
            .strings_start
            .checked_add(nameoff as usize)
            .ok_or_else(out)?;
        if start >= self.strings_end {
            return Err(out());
        }
        let area = self.blob.get(start..self.strings_end).ok_or_else(out)?;
        let nul = memchr0(area).ok_or(FdtError::UnterminatedPropertyName {
            offset: pos,
            nameoff,
        })?;
        core::str::from_utf8(area.get(..nul).unwrap_or_default()).map_err(|_| {
            FdtError::NameNotUtf8 {
                what: NameKind::Property,
                offset: start,
            }
        })
    }

    fn property(
        &self,
        pos: usize,
        len: u32,
        nameoff: u32,
        value: usize,
        next: usize,
    ) -> Property<'a> {
        let value = self
            .blob
            .get(value..value.saturating_add(len as usize))
            .unwrap_or_default();
        Property {
            name: self.prop_name(pos, nameoff).unwrap_or_default(),
            value,
            offset: pos,
            end: next,
        }
    }

    fn node(&self, begin: usize, raw: &'a [u8], body: usize) -> Node<'a> {
        let full = core::str::from_utf8(raw).unwrap_or_default();
        let name = if self.old {
            // Full path: the node's name is the last component; the root ("/") is "".
            full.rsplit('/').next().unwrap_or_default()
        } else {
            full
        };
        Node {
            ctx: *self,
            begin,
            name,
            body,
        }
    }

    /// The offset just after the `FDT_END_NODE` matching the `FDT_BEGIN_NODE` whose
    /// body starts at `body`. Infallible on a validated blob.
    fn skip_subtree(&self, body: usize) -> usize {
        let mut depth = 1usize;
        let mut pos = body;
        loop {
            match self.token(pos) {
                Ok(Tok::Begin { next, .. }) => {
                    depth += 1;
                    pos = next;
                }
                Ok(Tok::EndNode { next }) => {
                    depth -= 1;
                    pos = next;
                    if depth == 0 {
                        return pos;
                    }
                }
                Ok(Tok::Prop { next, .. } | Tok::Nop { next }) => pos = next,
                Ok(Tok::End { .. }) | Err(_) => return pos,
            }
        }
    }
}

fn memchr0(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == 0)
}

/// A validated flattened device tree borrowed from a byte buffer.
#[derive(Debug, Clone, Copy)]
pub struct Fdt<'a> {
    ctx: Ctx<'a>,
    header: Header,
    rsvmap_start: usize,
    rsvmap_count: usize,
    struct_used_end: usize,
    node_count: usize,
    property_count: usize,
    max_depth: usize,
    name_props: bool,
}

fn check_overlaps(blocks: &[(BlockKind, u64, u64)]) -> Result<(), FdtError> {
    for (i, a) in blocks.iter().enumerate() {
        for b in blocks.iter().skip(i + 1) {
            let nonempty = a.1 < a.2 && b.1 < b.2;
            if nonempty && a.1 < b.2 && b.1 < a.2 {
                return Err(FdtError::BlocksOverlap {
                    a: a.0,
                    a_start: a.1,
                    a_end: a.2,
                    b: b.0,
                    b_start: b.1,
                    b_end: b.2,
                });
            }
        }
    }
    Ok(())
}

impl<'a> Fdt<'a> {
    /// Validates `blob` completely (see the module docs) and returns a reader whose
    /// accessors cannot fail. Bytes past `totalsize` are ignored.
    ///
    /// # Errors
    /// An [`FdtError`] naming the first problem found and its byte offset.
    pub fn new(blob: &'a [u8]) -> Result<Fdt<'a>, FdtError> {
        let header = Header::parse(blob)?;
        let total = header.totalsize as usize;
        let blob = blob.get(..total).unwrap_or(blob);
        let hsize = u64::from(header.size());
        let out_of_bounds = |block, offset: u64, end: u64| FdtError::BlockOutOfBounds {
            block,
            offset,
            end,
            header_size: header.size(),
            totalsize: header.totalsize,
        };

        let in_header = |block, offset: u32| FdtError::BlockInHeader {
            block,
            offset,
            header_size: header.size(),
        };

        // Memory reservation map: 8-aligned, after the header, terminated in the blob.
        let rsv = u64::from(header.off_mem_rsvmap);
        if rsv < hsize {
            return Err(in_header(BLOCK_RSVMAP, header.off_mem_rsvmap));
        }
        if rsv + 16 > total as u64 {
            return Err(out_of_bounds(BLOCK_RSVMAP, rsv, rsv + 16));
        }
        if !rsv.is_multiple_of(8) {
            return Err(FdtError::Misaligned {
                block: BLOCK_RSVMAP,
                offset: header.off_mem_rsvmap,
                align: 8,
            });
        }
        let rsvmap_start = rsv as usize;
        let mut rsvmap_count = 0usize;
        loop {
            let at = rsvmap_start + rsvmap_count * 16;
            // size == 0 terminates, as in dtc flat_read_mem_reserve and libfdt
            // fdt_num_mem_rsv.
            match be::u64_at(blob, at + 8) {
                Some(0) => break,
                Some(_) => rsvmap_count += 1,
                None => {
                    return Err(FdtError::RsvmapUnterminated {
                        offset: rsvmap_start,
                    });
                }
            }
        }
        let rsvmap_end = rsvmap_start + (rsvmap_count + 1) * 16;

        // Structure block: 4-aligned, after the header; sized in v17, else to totalsize.
        let st = u64::from(header.off_dt_struct);
        let st_end = match header.size_dt_struct {
            Some(size) => st + u64::from(size),
            None => total as u64,
        };
        if st < hsize {
            return Err(in_header(BLOCK_STRUCT, header.off_dt_struct));
        }
        if st_end > total as u64 || st >= total as u64 {
            return Err(out_of_bounds(BLOCK_STRUCT, st, st_end));
        }
        if !st.is_multiple_of(4) {
            return Err(FdtError::Misaligned {
                block: BLOCK_STRUCT,
                offset: header.off_dt_struct,
                align: 4,
            });
        }

        // Strings block: sized from v3; before that it runs to the next block or the end.
        let sr = u64::from(header.off_dt_strings);
        let sr_end = match header.size_dt_strings {
            Some(size) => sr + u64::from(size),
            None => [st, rsv, total as u64]
                .into_iter()
                .filter(|&b| b > sr)
                .min()
                .unwrap_or(sr),
        };
        if sr < hsize && sr_end > sr {
            return Err(in_header(BLOCK_STRINGS, header.off_dt_strings));
        }
        if sr_end > total as u64 || sr > total as u64 {
            return Err(out_of_bounds(BLOCK_STRINGS, sr, sr_end));
        }

        let mut ctx = Ctx {
            blob,
            struct_start: st as usize,
            struct_end: st_end as usize,
            strings_start: sr as usize,
            strings_end: sr_end as usize,
            old: header.is_old_format(),
            props_after_children: false,
        };
        // No two blocks may share bytes. Checked before the walk where the structure
        // block's size is known (v17), so overlapping blocks are named as such rather
        // than as whatever garbage the overlap produces; before v17 the structure
        // block's extent is known only after the walk.
        let mut blocks = [
            (BLOCK_HEADER, 0u64, hsize),
            (BLOCK_RSVMAP, rsv, rsvmap_end as u64),
            (BLOCK_STRUCT, st, st),
            (BLOCK_STRINGS, sr, sr_end),
        ];
        if header.size_dt_struct.is_some() {
            blocks[2].2 = st_end;
        }
        check_overlaps(&blocks)?;
        let walk = walk(&mut ctx)?;
        if header.size_dt_struct.is_none() {
            blocks[2].2 = walk.used_end as u64;
            check_overlaps(&blocks)?;
            ctx.struct_end = walk.used_end;
        }
        Ok(Fdt {
            ctx,
            header,
            rsvmap_start,
            rsvmap_count,
            struct_used_end: walk.used_end,
            node_count: walk.nodes,
            property_count: walk.props,
            max_depth: walk.max_depth,
            name_props: walk.name_props,
        })
    }

    /// True when some node has a property called `name` (old-format blobs and
    /// Open Firmware-derived trees carry them; dtc drops the redundant ones).
    #[must_use]
    pub fn has_name_properties(&self) -> bool {
        self.name_props
    }

    /// The decoded header.
    #[must_use]
    pub fn header(&self) -> Header {
        self.header
    }

    /// The blob, cut to `totalsize`.
    #[must_use]
    pub fn blob(&self) -> &'a [u8] {
        self.ctx.blob
    }

    /// Byte range of the structure block (before v17: up to and including `FDT_END`).
    #[must_use]
    pub fn struct_range(&self) -> Range<usize> {
        self.ctx.struct_start..self.ctx.struct_end
    }

    /// Byte range of the structure block actually used: from the root's
    /// `FDT_BEGIN_NODE` to just after `FDT_END`.
    #[must_use]
    pub fn struct_used_range(&self) -> Range<usize> {
        self.ctx.struct_start..self.struct_used_end
    }

    /// Byte range of the strings block.
    #[must_use]
    pub fn strings_range(&self) -> Range<usize> {
        self.ctx.strings_start..self.ctx.strings_end
    }

    /// Byte range of the memory reservation map, terminator included.
    #[must_use]
    pub fn rsvmap_range(&self) -> Range<usize> {
        self.rsvmap_start..self.rsvmap_start + (self.rsvmap_count + 1) * 16
    }

    /// The memory reservation map, without its terminator.
    pub fn reservations(&self) -> impl Iterator<Item = Reservation> + 'a {
        let blob = self.ctx.blob;
        let start = self.rsvmap_start;
        (0..self.rsvmap_count).map(move |i| {
            let at = start + i * 16;
            Reservation {
                address: be::u64_at(blob, at).unwrap_or(0),
                size: be::u64_at(blob, at + 8).unwrap_or(0),
            }
        })
    }

    /// Number of nodes, the root included.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Number of properties over all nodes.
    #[must_use]
    pub fn property_count(&self) -> usize {
        self.property_count
    }

    /// Deepest nesting: 1 for a tree with only the root.
    #[must_use]
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// True when some node has a property after one of its children (legal for dtc,
    /// against the DT spec's ordering).
    #[must_use]
    pub fn has_properties_after_children(&self) -> bool {
        self.ctx.props_after_children
    }

    /// The root node.
    #[must_use]
    pub fn root(&self) -> Node<'a> {
        let pos = self.ctx.struct_start;
        match self.ctx.token(pos) {
            Ok(Tok::Begin { name, next }) => self.ctx.node(pos, name, next),
            // Unreachable after validation; an empty node keeps this infallible.
            _ => self.ctx.node(pos, &[], pos),
        }
    }

    /// Every node, depth first in blob order, with its depth (root = 0). Iterative,
    /// so any depth the blob holds is fine.
    #[must_use]
    pub fn nodes(&self) -> Nodes<'a> {
        Nodes {
            ctx: self.ctx,
            pos: self.ctx.struct_start,
            depth: 0,
            done: false,
        }
    }

    /// Every node with its full path (`/`, `/cpus`, `/cpus/cpu@0`, ...), depth first.
    #[must_use]
    pub fn nodes_with_paths(&self) -> PathNodes<'a> {
        PathNodes {
            inner: self.nodes(),
            path: String::new(),
            lens: Vec::new(),
        }
    }

    /// The full path of `node` (`/` for the root). One pass over the blob.
    #[must_use]
    pub fn path_of(&self, node: &Node<'a>) -> String {
        self.nodes_with_paths()
            .find(|(_, n)| n.begin == node.begin)
            .map(|(p, _)| p)
            .unwrap_or_else(|| "/".to_string())
    }

    /// The parent of `node` (`None` for the root). One pass over the blob.
    #[must_use]
    pub fn parent_of(&self, node: &Node<'a>) -> Option<Node<'a>> {
        let mut stack: Vec<Node<'a>> = Vec::new();
        for (depth, n) in self.nodes() {
            stack.truncate(depth);
            if n.begin == node.begin {
                return stack.last().copied();
            }
            stack.push(n);
        }
        None
    }

    /// Finds a node by path, at any depth.
    ///
    /// * `/` is the root; components are separated by `/`; empty components are
    ///   ignored (`/cpus//cpu@0/` works).
    /// * A component matches a child's full name (`serial@4500`) exactly; failing
    ///   that, a component without `@` matches a child whose name before `@` equals
    ///   it, but only when exactly one child does (`/soc/serial` finds `serial@4500`
    ///   if it is the only `serial@…`). libfdt takes the first such child instead; an
    ///   ambiguous path here gives `None`, so a lookup never silently picks one of
    ///   several devices.
    /// * A path not starting with `/` starts with an alias: its first component is
    ///   looked up in `/aliases`, whose value is a path (as libfdt's
    ///   `fdt_path_offset`).
    /// * Duplicate sibling names (which dtc refuses to compile) resolve to the first.
    #[must_use]
    pub fn find(&self, path: &str) -> Option<Node<'a>> {
        if let Some(rest) = path.strip_prefix('/') {
            return self.find_from(self.root(), rest);
        }
        let (alias, rest) = path.split_once('/').unwrap_or((path, ""));
        let target = self.find_from(self.root(), "aliases")?.property(alias)?;
        let text = target.value.strip_suffix(&[0])?;
        let text = core::str::from_utf8(text).ok()?;
        if !text.starts_with('/') {
            return None;
        }
        let start = self.find_from(self.root(), text.trim_start_matches('/'))?;
        self.find_from(start, rest)
    }

    fn find_from(&self, start: Node<'a>, rest: &str) -> Option<Node<'a>> {
        let mut node = start;
        for comp in rest.split('/').filter(|c| !c.is_empty()) {
            node = node.child(comp)?;
        }
        Some(node)
    }

    /// The same blob through the `fdt` crate (0.2.0-alpha3), for code built on its typed
    /// helpers (feature `fdt`). Only for versions 16 and 17, and only after this reader
    /// validated the blob: that crate's constructor trusts header fields it should check
    /// and can panic on a malformed one. Its `all_nodes`/`find_node` stop at depth 15.
    #[cfg(feature = "fdt")]
    #[must_use]
    pub fn fdt_crate(
        &self,
    ) -> Option<
        ::fdt::Fdt<
            'a,
            (
                ::fdt::parsing::unaligned::UnalignedParser<'a>,
                ::fdt::parsing::NoPanic,
            ),
        >,
    > {
        if self.header.is_old_format() {
            return None;
        }
        ::fdt::Fdt::new_unaligned_fallible(self.ctx.blob).ok()
    }
}

struct WalkSummary {
    used_end: usize,
    nodes: usize,
    props: usize,
    max_depth: usize,
    name_props: bool,
}

/// Slots of the walk's cache of already-validated property name offsets.
const NAME_CACHE: usize = 1024;

/// The one full pass over the structure block that makes every later read safe.
fn walk(ctx: &mut Ctx<'_>) -> Result<WalkSummary, FdtError> {
    let start = ctx.struct_start;
    let first = be::u32_at(ctx.blob, start).ok_or(FdtError::TruncatedStruct {
        what: StructItem::Token,
        offset: start,
    })?;
    if first != FDT_BEGIN_NODE {
        return Err(FdtError::NoRootNode {
            token: first,
            offset: start,
        });
    }
    let mut pos = start;
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut root_closed = false;
    // True once the current node has had a child: a property then is out of order.
    let mut after_child = false;
    let (mut nodes, mut props) = (0usize, 0usize);
    let mut name_props = false;
    let mut checked_names = [u64::MAX; NAME_CACHE];
    // Old formats: byte ranges of the open nodes' full paths.
    let mut paths: Vec<&[u8]> = Vec::new();
    loop {
        match ctx.token(pos)? {
            Tok::Begin { name, next } => {
                if root_closed {
                    return Err(FdtError::SecondRoot { offset: pos });
                }
                if depth >= MAX_DEPTH {
                    return Err(FdtError::TooDeep {
                        offset: pos,
                        max: MAX_DEPTH,
                    });
                }
                // Names are nearly always ASCII: the word-at-a-time test first, the
                // full UTF-8 check only for the rest.
                if !name.is_ascii() && core::str::from_utf8(name).is_err() {
                    return Err(FdtError::NameNotUtf8 {
                        what: NameKind::Node,
                        offset: pos + 4,
                    });
                }
                if ctx.old {
                    check_old_path(pos, name, paths.last().copied())?;
                    paths.push(name);
                }
                depth += 1;
                max_depth = max_depth.max(depth);
                nodes += 1;
                after_child = false;
                pos = next;
            }
            Tok::EndNode { next } => {
                if depth == 0 {
                    return Err(FdtError::ExtraEndNode { offset: pos });
                }
                depth -= 1;
                paths.pop();
                root_closed = depth == 0;
                after_child = true;
                pos = next;
            }
            Tok::Prop { nameoff, next, .. } => {
                if depth == 0 {
                    return Err(FdtError::PropertyOutsideNode { offset: pos });
                }
                if after_child {
                    ctx.props_after_children = true;
                }
                // Most trees use a few hundred distinct names: validate each name
                // offset once (a fixed-size direct-mapped cache, no allocation
                // driven by the blob).
                let slot = nameoff as usize % NAME_CACHE;
                if checked_names[slot] != u64::from(nameoff) {
                    name_props |= ctx.prop_name(pos, nameoff)? == "name";
                    checked_names[slot] = u64::from(nameoff);
                }
                props += 1;
                pos = next;
            }
            Tok::Nop { next } => pos = next,
            Tok::End { next } => {
                if depth > 0 {
                    return Err(FdtError::PrematureEnd {
                        offset: pos,
                        open: depth,
                    });
                }
                return Ok(WalkSummary {
                    used_end: next,
                    nodes,
                    props,
                    max_depth,
                    name_props,
                });
            }
        }
    }
}

/// Versions 1-3: the root is `/`; a child's path is its parent's path, `/` (unless the
/// parent is the root), then a non-empty name without `/`.
fn check_old_path(pos: usize, path: &[u8], parent: Option<&[u8]>) -> Result<(), FdtError> {
    let bad = |parent: &[u8]| FdtError::BadOldPath {
        offset: pos,
        path: String::from_utf8_lossy(path).into_owned(),
        parent: String::from_utf8_lossy(parent).into_owned(),
    };
    let Some(parent) = parent else {
        return if path == b"/" { Ok(()) } else { Err(bad(b"")) };
    };
    let rest = path.strip_prefix(parent).ok_or_else(|| bad(parent))?;
    let name = if parent == b"/" {
        rest
    } else {
        rest.strip_prefix(b"/").ok_or_else(|| bad(parent))?
    };
    if name.is_empty() || name.contains(&b'/') {
        return Err(bad(parent));
    }
    Ok(())
}

/// A node of a validated tree.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    ctx: Ctx<'a>,
    begin: usize,
    name: &'a str,
    body: usize,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.begin == other.begin && core::ptr::eq(self.ctx.blob, other.ctx.blob)
    }
}

impl<'a> Node<'a> {
    /// The full name, `name@unit` (`""` for the root).
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The name before `@`.
    #[must_use]
    pub fn base_name(&self) -> &'a str {
        self.name.split_once('@').map_or(self.name, |(b, _)| b)
    }

    /// The unit address after `@`, if any.
    #[must_use]
    pub fn unit_address(&self) -> Option<&'a str> {
        self.name.split_once('@').map(|(_, u)| u)
    }

    /// Byte offset of this node's `FDT_BEGIN_NODE` token.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.begin
    }

    /// Byte offset of the first token after the node's name (its first property or
    /// child, or its `FDT_END_NODE`).
    #[must_use]
    pub fn body_offset(&self) -> usize {
        self.body
    }

    /// Byte offset just after this node's `FDT_END_NODE` (walks the subtree).
    #[must_use]
    pub fn end_offset(&self) -> usize {
        self.ctx.skip_subtree(self.body)
    }

    /// The node's properties in blob order.
    #[must_use]
    pub fn properties(&self) -> Properties<'a> {
        Properties {
            ctx: self.ctx,
            pos: self.body,
            done: false,
        }
    }

    /// The property called `name`, if any (the first, should there be duplicates).
    #[must_use]
    pub fn property(&self, name: &str) -> Option<Property<'a>> {
        self.properties().find(|p| p.name == name)
    }

    /// The node's direct children in blob order.
    #[must_use]
    pub fn children(&self) -> Children<'a> {
        Children {
            ctx: self.ctx,
            pos: self.body,
            done: false,
        }
    }

    /// The child called `name` (exact), else the only child whose name before `@` is
    /// `name` (see [`Fdt::find`]).
    #[must_use]
    pub fn child(&self, name: &str) -> Option<Node<'a>> {
        let mut loose = None;
        let mut loose_count = 0usize;
        for c in self.children() {
            if c.name == name {
                return Some(c);
            }
            if !name.contains('@') && c.base_name() == name {
                loose_count += 1;
                loose = Some(c);
            }
        }
        if loose_count == 1 { loose } else { None }
    }
}

/// Iterator over a node's properties.
#[derive(Debug, Clone)]
pub struct Properties<'a> {
    ctx: Ctx<'a>,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Properties<'a> {
    type Item = Property<'a>;
    fn next(&mut self) -> Option<Property<'a>> {
        while !self.done {
            match self.ctx.token(self.pos) {
                Ok(Tok::Prop {
                    len,
                    nameoff,
                    value,
                    next,
                }) => {
                    let p = self.ctx.property(self.pos, len, nameoff, value, next);
                    self.pos = next;
                    return Some(p);
                }
                Ok(Tok::Nop { next }) => self.pos = next,
                Ok(Tok::Begin { next, .. }) if self.ctx.props_after_children => {
                    self.pos = self.ctx.skip_subtree(next);
                }
                _ => self.done = true,
            }
        }
        None
    }
}

/// Iterator over a node's children.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    ctx: Ctx<'a>,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = Node<'a>;
    fn next(&mut self) -> Option<Node<'a>> {
        while !self.done {
            match self.ctx.token(self.pos) {
                Ok(Tok::Prop { next, .. } | Tok::Nop { next }) => self.pos = next,
                Ok(Tok::Begin { name, next }) => {
                    let n = self.ctx.node(self.pos, name, next);
                    self.pos = self.ctx.skip_subtree(next);
                    return Some(n);
                }
                _ => self.done = true,
            }
        }
        None
    }
}

/// Iterator over every node with its depth (root = 0), depth first.
#[derive(Debug, Clone)]
pub struct Nodes<'a> {
    ctx: Ctx<'a>,
    pos: usize,
    depth: usize,
    done: bool,
}

impl<'a> Iterator for Nodes<'a> {
    type Item = (usize, Node<'a>);
    fn next(&mut self) -> Option<(usize, Node<'a>)> {
        while !self.done {
            match self.ctx.token(self.pos) {
                Ok(Tok::Begin { name, next }) => {
                    let n = self.ctx.node(self.pos, name, next);
                    let d = self.depth;
                    self.depth += 1;
                    self.pos = next;
                    return Some((d, n));
                }
                Ok(Tok::EndNode { next }) => {
                    self.pos = next;
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.done = true;
                    }
                }
                Ok(Tok::Prop { next, .. } | Tok::Nop { next }) => self.pos = next,
                _ => self.done = true,
            }
        }
        None
    }
}

/// Iterator over every node with its full path, depth first.
#[derive(Debug, Clone)]
pub struct PathNodes<'a> {
    inner: Nodes<'a>,
    path: String,
    lens: Vec<usize>,
}

impl<'a> Iterator for PathNodes<'a> {
    type Item = (String, Node<'a>);
    fn next(&mut self) -> Option<(String, Node<'a>)> {
        let (depth, node) = self.inner.next()?;
        self.lens.truncate(depth);
        self.path.truncate(self.lens.last().copied().unwrap_or(0));
        if depth == 0 {
            self.path.clear();
            self.path.push('/');
            self.lens.push(1);
            return Some((self.path.clone(), node));
        }
        if depth > 1 {
            self.path.push('/');
        }
        self.path.push_str(node.name());
        self.lens.push(self.path.len());
        Some((self.path.clone(), node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny hand-made v17 blob writer: tokens appended one by one.
    struct Blob {
        st: Vec<u8>,
        strings: Vec<u8>,
        rsv: Vec<(u64, u64)>,
    }

    impl Blob {
        fn new() -> Self {
            Blob {
                st: Vec::new(),
                strings: Vec::new(),
                rsv: Vec::new(),
            }
        }
        fn word(&mut self, w: u32) -> &mut Self {
            be::push_u32(&mut self.st, w);
            self
        }
        fn begin(&mut self, name: &str) -> &mut Self {
            self.word(FDT_BEGIN_NODE);
            self.st.extend_from_slice(name.as_bytes());
            self.st.push(0);
            while !self.st.len().is_multiple_of(4) {
                self.st.push(0);
            }
            self
        }
        fn end(&mut self) -> &mut Self {
            self.word(FDT_END_NODE)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let off = match self
                .strings
                .windows(name.len() + 1)
                .position(|w| w.strip_suffix(&[0]) == Some(name.as_bytes()))
            {
                Some(o) => o,
                None => {
                    let o = self.strings.len();
                    self.strings.extend_from_slice(name.as_bytes());
                    self.strings.push(0);
                    o
                }
            };
            self.word(FDT_PROP)
                .word(value.len() as u32)
                .word(off as u32);
            self.st.extend_from_slice(value);
            while !self.st.len().is_multiple_of(4) {
                self.st.push(0);
            }
            self
        }
        fn build(&mut self) -> Vec<u8> {
            let mut st = self.st.clone();
            be::push_u32(&mut st, FDT_END);
            let rsv_off = 40u32;
            let rsv_len = 16 * (self.rsv.len() as u32 + 1);
            let st_off = rsv_off + rsv_len;
            let str_off = st_off + st.len() as u32;
            let total = str_off + self.strings.len() as u32;
            let mut b = Vec::new();
            for w in [
                crate::fdt::FDT_MAGIC,
                total,
                st_off,
                str_off,
                rsv_off,
                17,
                16,
                3,
                self.strings.len() as u32,
                st.len() as u32,
            ] {
                be::push_u32(&mut b, w);
            }
            for (a, s) in self.rsv.iter().chain([(0u64, 0u64)].iter()) {
                be::push_u64(&mut b, *a);
                be::push_u64(&mut b, *s);
            }
            b.extend_from_slice(&st);
            b.extend_from_slice(&self.strings);
            b
        }
    }

    /// Node names go through an ASCII fast path; other UTF-8 is still accepted and
    /// anything that is not UTF-8 is still refused, at the name's offset.
    #[test]
    fn node_names_non_ascii_utf8_ok_invalid_refused() {
        let mut b = Blob::new();
        let good = b.begin("").begin("x\u{e9}").end().end().build();
        let fdt = Fdt::new(&good).unwrap();
        assert!(fdt.find("/x\u{e9}").is_some());
        let at = good.windows(3).position(|w| w == b"x\xc3\xa9").unwrap();
        let mut bad = good.clone();
        bad[at + 1] = 0xff;
        match Fdt::new(&bad) {
            Err(FdtError::NameNotUtf8 {
                what: NameKind::Node,
                offset,
            }) => assert_eq!(offset, at),
            other => panic!("{other:?}"),
        }
    }

    fn sample() -> Vec<u8> {
        let mut b = Blob::new();
        b.rsv.push((0x1000, 0x2000));
        b.begin("")
            .prop("model", b"m\0")
            .begin("aliases")
            .prop("ser", b"/soc/serial@1\0")
            .end()
            .begin("soc")
            .prop("#address-cells", &[0, 0, 0, 1])
            .begin("serial@1")
            .prop("reg", &[0, 0, 0, 1])
            .end()
            .begin("eth@1")
            .end()
            .begin("eth@2")
            .end()
            .end()
            .end();
        b.build()
    }

    #[test]
    fn reads_structure_offsets_and_reservations() {
        let blob = sample();
        let fdt = Fdt::new(&blob).unwrap();
        assert_eq!(fdt.header().boot_cpuid_phys, Some(3));
        assert_eq!(
            fdt.reservations().collect::<Vec<_>>(),
            vec![Reservation {
                address: 0x1000,
                size: 0x2000
            }]
        );
        assert_eq!(fdt.rsvmap_range(), 40..72);
        assert_eq!(
            (fdt.node_count(), fdt.property_count(), fdt.max_depth()),
            (6, 4, 3)
        );
        let root = fdt.root();
        assert_eq!(root.name(), "");
        assert_eq!(root.offset(), 72);
        assert_eq!(root.end_offset(), fdt.struct_used_range().end - 4);
        let model = root.property("model").unwrap();
        assert_eq!(model.value, b"m\0");
        assert_eq!(model.offset, 72 + 8);
        assert_eq!(model.end, 72 + 8 + 12 + 4);
        let words: Vec<u32> = [model.offset, model.end]
            .iter()
            .map(|&o| be::u32_at(&blob, o).unwrap())
            .collect();
        assert_eq!(words, vec![FDT_PROP, FDT_BEGIN_NODE]);
        let names: Vec<(usize, &str)> = fdt.nodes().map(|(d, n)| (d, n.name())).collect();
        assert_eq!(
            names,
            vec![
                (0, ""),
                (1, "aliases"),
                (1, "soc"),
                (2, "serial@1"),
                (2, "eth@1"),
                (2, "eth@2")
            ]
        );
        let soc = fdt.find("/soc").unwrap();
        assert_eq!(be::u32_at(&blob, soc.offset()), Some(FDT_BEGIN_NODE));
        assert_eq!(be::u32_at(&blob, soc.end_offset() - 4), Some(FDT_END_NODE));
        assert_eq!(soc.children().count(), 3);
        assert_eq!(fdt.parent_of(&soc).unwrap(), root);
        assert_eq!(fdt.parent_of(&root), None);
    }

    #[test]
    fn find_rules() {
        let blob = sample();
        let fdt = Fdt::new(&blob).unwrap();
        assert_eq!(fdt.find("/").unwrap(), fdt.root());
        let serial = fdt.find("/soc/serial@1").unwrap();
        assert_eq!(
            fdt.find("/soc/serial").unwrap(),
            serial,
            "unique unit-less name"
        );
        assert_eq!(fdt.find("//soc//serial@1/").unwrap(), serial);
        assert!(fdt.find("/soc/eth").is_none(), "ambiguous: eth@1 and eth@2");
        assert!(fdt.find("/soc/eth@2").is_some());
        assert!(fdt.find("/soc/serial@2").is_none());
        assert_eq!(fdt.find("ser").unwrap(), serial, "alias");
        assert!(fdt.find("nope").is_none());
        assert_eq!(fdt.path_of(&serial), "/soc/serial@1");
        let paths: Vec<String> = fdt.nodes_with_paths().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/aliases",
                "/soc",
                "/soc/serial@1",
                "/soc/eth@1",
                "/soc/eth@2"
            ]
        );
    }

    #[test]
    fn properties_after_children_are_found() {
        let mut b = Blob::new();
        b.begin("").begin("a").end().prop("late", b"x\0").end();
        let blob = b.build();
        let fdt = Fdt::new(&blob).unwrap();
        assert!(fdt.has_properties_after_children());
        assert_eq!(fdt.root().property("late").unwrap().value, b"x\0");
        assert_eq!(fdt.root().children().count(), 1);
    }

    #[test]
    fn rejects_structural_errors_with_offsets() {
        let mut b = Blob::new();
        b.begin("").begin("a").end();
        let blob = b.build();
        assert_eq!(
            Fdt::new(&blob).unwrap_err(),
            FdtError::PrematureEnd {
                offset: 56 + 20,
                open: 1
            }
        );
        let mut b = Blob::new();
        b.begin("").end().end();
        assert!(matches!(
            Fdt::new(&b.build()),
            Err(FdtError::ExtraEndNode { offset: 68 })
        ));
        let mut b = Blob::new();
        b.begin("").word(0x7).end();
        assert_eq!(
            Fdt::new(&b.build()).unwrap_err(),
            FdtError::BadToken {
                token: 7,
                offset: 64
            }
        );
        let mut b = Blob::new();
        b.begin("").prop("p", b"").end();
        let mut blob = b.build();
        // nameoff of the property (after FDT_PROP and len) far outside the strings.
        be::set_u32(&mut blob, 64 + 8, 100);
        assert!(matches!(
            Fdt::new(&blob),
            Err(FdtError::NameOffsetOutOfRange {
                offset: 64,
                nameoff: 100,
                ..
            })
        ));
        let mut b = Blob::new();
        b.begin("").prop("p", b"").end();
        let mut blob = b.build();
        be::set_u32(&mut blob, 64 + 4, 0xffff_fff0);
        assert!(matches!(
            Fdt::new(&blob),
            Err(FdtError::PropertyTooLong { offset: 64, .. })
        ));
    }

    #[test]
    fn old_format_paths_and_alignment() {
        // Version 1: full paths, values of 8+ bytes 8-aligned within the struct block.
        let mut st = Vec::new();
        let w = be::push_u32;
        w(&mut st, FDT_BEGIN_NODE);
        st.extend_from_slice(b"/\0\0\0");
        w(&mut st, FDT_BEGIN_NODE);
        st.extend_from_slice(b"/c\0\0");
        w(&mut st, FDT_PROP);
        w(&mut st, 8);
        w(&mut st, 0);
        // offset within struct is now 28: 8-byte alignment pads to 32.
        st.extend_from_slice(&[0, 0, 0, 0]);
        st.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        w(&mut st, FDT_END_NODE);
        w(&mut st, FDT_END_NODE);
        w(&mut st, FDT_END);
        let strings = b"reg\0";
        // 28-byte v1 header, 4 bytes of padding, the rsvmap at 32 (8-aligned), then
        // the structure and strings blocks.
        let st_off = 48usize;
        let str_off = st_off + st.len();
        let total = str_off + strings.len();
        let mut fixed = Vec::new();
        for v in [
            crate::fdt::FDT_MAGIC,
            total as u32,
            st_off as u32,
            str_off as u32,
            32,
            1,
            1,
        ] {
            be::push_u32(&mut fixed, v);
        }
        fixed.extend_from_slice(&[0; 4]);
        fixed.extend_from_slice(&[0; 16]);
        fixed.extend_from_slice(&st);
        fixed.extend_from_slice(strings);
        let fdt = Fdt::new(&fixed).unwrap();
        assert_eq!(fdt.header().boot_cpuid_phys, None);
        let cpus = fdt.find("/c").unwrap();
        assert_eq!(cpus.name(), "c");
        assert_eq!(fdt.root().name(), "");
        assert_eq!(
            cpus.property("reg").unwrap().value,
            &[1, 2, 3, 4, 5, 6, 7, 8]
        );
        // A child path that does not extend its parent's is refused.
        let pos = fixed.windows(3).position(|w| w == b"/c\0").unwrap();
        fixed[pos] = b'x';
        assert!(matches!(Fdt::new(&fixed), Err(FdtError::BadOldPath { .. })));
    }
}
