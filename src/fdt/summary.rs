//! What a person wants to know first about a tree: its header, reservations, size,
//! the root's `model`/`compatible`, the memory it describes and its CPUs. Generic
//! device-tree meaning only (DT spec §3.2 root, §3.4 `/memory`, §3.7/§3.8 `/cpus`);
//! the PowerPC `/hypervisor` verdict is `ppcpv::dt`'s business.
//!
//! `reg` is decoded with the parent's `#address-cells`/`#size-cells` (defaults 2 and
//! 1, DT spec §2.3.5); a `reg` whose length is not a whole number of entries is
//! reported as undecodable instead of guessed at.

use super::header::Header;
use super::reader::{Fdt, Node, Reservation};
use crate::endian::be;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// One `(address, size)` entry of a `reg` property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RegEntry {
    /// Start address.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub address: u64,
    /// Size in bytes.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub size: u64,
}

impl RegEntry {
    /// An entry of `size` bytes at `address`.
    #[must_use]
    pub const fn new(address: u64, size: u64) -> Self {
        RegEntry { address, size }
    }
}

/// Why a `reg` property could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegProblem {
    /// The node has no `reg`.
    #[error("no reg property")]
    Missing,
    /// More than two cells per number (`#address-cells` or `#size-cells` above 2):
    /// such numbers do not fit 64 bits.
    #[error(
        "#address-cells {address_cells} / #size-cells {size_cells}: only 1 or 2 cells per number are decoded"
    )]
    TooManyCells {
        /// The parent's `#address-cells`.
        address_cells: u32,
        /// The parent's `#size-cells`.
        size_cells: u32,
    },
    /// The length is not a whole number of entries (or an entry has no cells).
    #[error("reg of {len} bytes is not a whole number of {entry}-byte entries")]
    Ragged {
        /// Length of the value.
        len: usize,
        /// Bytes per entry.
        entry: usize,
    },
}

/// Written as its message, as `--json` has always shown it.
#[cfg(feature = "serde")]
impl serde::Serialize for RegProblem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A node with `device_type = "memory"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct MemoryNode {
    /// Full path.
    pub path: String,
    /// Decoded `reg` entries (empty when `reg` is missing or malformed).
    pub reg: Vec<RegEntry>,
    /// Sum of the sizes (saturating).
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub total: u64,
    /// Why `reg` could not be decoded, if it could not.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub problem: Option<RegProblem>,
}

/// A node with `device_type = "cpu"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CpuNode {
    /// Full path.
    pub path: String,
    /// The `reg` cells (CPU/thread ids), as numbers.
    pub reg: Vec<u64>,
    /// `compatible`, if present.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub compatible: Vec<String>,
    /// Threads from `ibm,ppc-interrupt-server#s` (PAPR), if present.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub threads: Option<usize>,
}

/// Where a block lies: offset and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Block {
    /// Byte offset in the blob.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
}

impl From<core::ops::Range<usize>> for Block {
    fn from(r: core::ops::Range<usize>) -> Self {
        Block {
            offset: r.start,
            size: r.end.saturating_sub(r.start),
        }
    }
}

/// The blocks as found (old formats have no size fields: these are computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Blocks {
    /// Memory reservation map, terminator included.
    pub rsvmap: Block,
    /// Structure block (before v17: up to and including `FDT_END`).
    #[cfg_attr(feature = "serde", serde(rename = "struct"))]
    pub structure: Block,
    /// Strings block.
    pub strings: Block,
}

/// Everything [`summarize`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Summary {
    /// The header words.
    pub header: Header,
    /// Header size for this version.
    pub header_size: u32,
    /// Where the blocks are.
    pub blocks: Blocks,
    /// The memory reservation map.
    pub reservations: Vec<Reservation>,
    /// Node count, the root included.
    pub nodes: usize,
    /// Property count over all nodes.
    pub properties: usize,
    /// Deepest nesting (1 = only the root).
    pub max_depth: usize,
    /// Root `model`.
    pub model: Option<String>,
    /// Root `compatible` list.
    pub compatible: Vec<String>,
    /// Memory nodes.
    pub memory: Vec<MemoryNode>,
    /// Total memory over all memory nodes (saturating).
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]
    pub memory_total: u64,
    /// CPU nodes.
    pub cpus: Vec<CpuNode>,
}

/// Splits a NUL-separated string list; `None` if it is not one (no final NUL, or not
/// UTF-8).
#[must_use]
pub fn string_list(value: &[u8]) -> Option<Vec<String>> {
    let body = value.strip_suffix(&[0])?;
    body.split(|&b| b == 0)
        .map(|s| core::str::from_utf8(s).ok().map(ToOwned::to_owned))
        .collect()
}

/// A single `u32` cell value, if the property is exactly 4 bytes.
#[must_use]
pub fn cell_u32(value: &[u8]) -> Option<u32> {
    if value.len() != 4 {
        return None;
    }
    be::u32_at(value, 0)
}

/// Reads `cells` big-endian 32-bit cells from `chunk` as one number (1 or 2 cells).
fn read_cells(chunk: &[u8]) -> Option<u64> {
    match chunk.len() {
        0 => Some(0),
        4 => Some(u64::from(cell_u32(chunk)?)),
        8 => be::u64_at(chunk, 0),
        _ => None,
    }
}

/// Decodes a `reg` value with `ac` address cells and `sc` size cells.
///
/// # Errors
/// [`RegProblem::TooManyCells`] when the cell counts are unusable (more than 2 cells
/// per number), [`RegProblem::Ragged`] when the length is not a whole number of
/// entries.
pub fn decode_reg(value: &[u8], ac: u32, sc: u32) -> Result<Vec<RegEntry>, RegProblem> {
    if ac > 2 || sc > 2 {
        return Err(RegProblem::TooManyCells {
            address_cells: ac,
            size_cells: sc,
        });
    }
    let entry = (ac as usize + sc as usize) * 4;
    let ragged = RegProblem::Ragged {
        len: value.len(),
        entry,
    };
    if entry == 0 || !value.len().is_multiple_of(entry) {
        return Err(ragged);
    }
    value
        .chunks_exact(entry)
        .map(|c| {
            let (a, s) = c.split_at(ac as usize * 4);
            Ok(RegEntry::new(
                read_cells(a).ok_or(ragged)?,
                read_cells(s).ok_or(ragged)?,
            ))
        })
        .collect()
}

fn prop_str(node: &Node<'_>, name: &str) -> Option<String> {
    let v = node.property(name)?.value;
    let s = v.strip_suffix(&[0]).unwrap_or(v);
    Some(String::from_utf8_lossy(s).into_owned())
}

fn is_device_type(node: &Node<'_>, t: &str) -> bool {
    node.property("device_type")
        .is_some_and(|p| p.value.strip_suffix(&[0]) == Some(t.as_bytes()))
}

/// Summarizes a validated tree in one pass over its nodes.
#[must_use]
pub fn summarize(fdt: &Fdt<'_>) -> Summary {
    let root = fdt.root();
    // (#address-cells, #size-cells) declared by each open node, for its children.
    let mut cells: Vec<(u32, u32)> = Vec::new();
    let mut memory = Vec::new();
    let mut cpus = Vec::new();
    for ((depth, node), (path, _)) in fdt.nodes().zip(fdt.nodes_with_paths()) {
        cells.truncate(depth);
        let (pac, psc) = cells.last().copied().unwrap_or((2, 1));
        let ac = node
            .property("#address-cells")
            .and_then(|p| cell_u32(p.value))
            .unwrap_or(2);
        let sc = node
            .property("#size-cells")
            .and_then(|p| cell_u32(p.value))
            .unwrap_or(1);
        cells.push((ac, sc));
        if is_device_type(&node, "memory") {
            let (reg, problem) = match node.property("reg") {
                None => (Vec::new(), Some(RegProblem::Missing)),
                Some(p) => match decode_reg(p.value, pac, psc) {
                    Ok(r) => (r, None),
                    Err(e) => (Vec::new(), Some(e)),
                },
            };
            let total = reg.iter().fold(0u64, |t, r| t.saturating_add(r.size));
            memory.push(MemoryNode {
                path: path.clone(),
                reg,
                total,
                problem,
            });
        } else if is_device_type(&node, "cpu") {
            let reg = node
                .property("reg")
                .map(|p| {
                    p.value
                        .chunks_exact(4)
                        .filter_map(|c| cell_u32(c).map(u64::from))
                        .collect()
                })
                .unwrap_or_default();
            cpus.push(CpuNode {
                path: path.clone(),
                reg,
                compatible: node
                    .property("compatible")
                    .and_then(|p| string_list(p.value))
                    .unwrap_or_default(),
                threads: node
                    .property("ibm,ppc-interrupt-server#s")
                    .map(|p| p.value.len() / 4),
            });
        }
    }
    let memory_total = memory.iter().fold(0u64, |t, m| t.saturating_add(m.total));
    let header = fdt.header();
    Summary {
        header,
        header_size: header.size(),
        blocks: Blocks {
            rsvmap: fdt.rsvmap_range().into(),
            structure: fdt.struct_range().into(),
            strings: fdt.strings_range().into(),
        },
        reservations: fdt.reservations().collect(),
        nodes: fdt.node_count(),
        properties: fdt.property_count(),
        max_depth: fdt.max_depth(),
        model: prop_str(&root, "model"),
        compatible: root
            .property("compatible")
            .and_then(|p| string_list(p.value))
            .unwrap_or_default(),
        memory,
        memory_total,
        cpus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_decoding() {
        let v = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0];
        assert_eq!(
            decode_reg(&v, 2, 2).unwrap(),
            vec![RegEntry::new(0, 0x4000_0000)]
        );
        assert_eq!(decode_reg(&v, 1, 1).unwrap().len(), 2);
        assert_eq!(
            decode_reg(&v[..12], 2, 2),
            Err(RegProblem::Ragged { len: 12, entry: 16 })
        );
        assert!(matches!(
            decode_reg(&v, 3, 1),
            Err(RegProblem::TooManyCells { .. })
        ));
        assert!(decode_reg(&v, 0, 0).is_err());
    }

    #[test]
    fn string_lists() {
        assert_eq!(
            string_list(b"a\0bc\0"),
            Some(vec!["a".to_string(), "bc".to_string()])
        );
        assert_eq!(string_list(b"abc"), None);
        assert_eq!(cell_u32(&[0, 0, 1, 0]), Some(256));
        assert_eq!(cell_u32(&[0, 1, 0]), None);
    }
}
