//! Why a blob was refused. Every variant names the problem and the byte offset (from
//! the start of the blob) where it was found, so a user can open the blob in a hex
//! editor at that spot. Messages are modelled on dtc's own FATAL messages
//! (`dgibson/dtc: flattree.c`, `dt_from_blob`: "String table offset exceeds total
//! size", "doesn't begin with FDT_BEGIN_NODE", "Premature end of data"...), with the
//! offset added: dtc names the problem but not where it is.

use alloc::string::String;
use core::fmt;

/// One of the blob's areas (devicetree specification v0.4, §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockKind {
    /// The header.
    Header,
    /// The memory reservation map.
    MemoryReservation,
    /// The structure block.
    Structure,
    /// The strings block.
    Strings,
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockKind::Header => "header",
            BlockKind::MemoryReservation => "memory reservation",
            BlockKind::Structure => "structure",
            BlockKind::Strings => "strings",
        })
    }
}

/// What the reader was decoding when the structure block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StructItem {
    /// A token word.
    Token,
    /// A node's name.
    NodeName,
    /// A property's length and name offset.
    PropertyHeader,
    /// A property's value.
    PropertyValue,
}

impl fmt::Display for StructItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StructItem::Token => "token",
            StructItem::NodeName => "node name",
            StructItem::PropertyHeader => "property header",
            StructItem::PropertyValue => "property value",
        })
    }
}

/// Whether a name belongs to a node or a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// A node name.
    Node,
    /// A property name.
    Property,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Node => "node",
            NameKind::Property => "property",
        })
    }
}

/// A malformed or unsupported flattened device tree.
// `repr(u8)`: an explicit one-byte tag. Without it the compiler hides the tag in a
// spare bit pattern of the largest variant's `String` (`BadOldPath`), and every `?`
// in the reader's token loop decodes that instead of testing one byte (cachegrind:
// 2% fewer instructions validating a 100k-node tree with the explicit tag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[repr(u8)]
pub enum FdtError {
    /// The input ends before the header does.
    #[error("blob truncated at byte {len}: the header needs {need} bytes")]
    TruncatedHeader {
        /// Bytes available.
        len: usize,
        /// Header bytes needed.
        need: usize,
    },
    /// The first word is not `0xd00dfeed`.
    #[error("bad magic 0x{found:08x} at offset 0x0 (a DTB starts with 0xd00dfeed)")]
    BadMagic {
        /// The word found.
        found: u32,
    },
    /// `version` / `last_comp_version` describe a format this reader does not know.
    #[error(
        "unsupported blob version {version} (last compatible {last_comp_version}) at offset 0x14: \
         this reader understands versions 1-3 and 16 on, with a last compatible version \
         of at most 17 and at most the version"
    )]
    UnsupportedVersion {
        /// The `version` field.
        version: u32,
        /// The `last_comp_version` field.
        last_comp_version: u32,
    },
    /// `totalsize` is larger than the input.
    #[error(
        "totalsize {totalsize} (header offset 0x4) is larger than the input ({len} bytes): blob truncated"
    )]
    TotalSizeBeyondInput {
        /// The `totalsize` field.
        totalsize: u32,
        /// Input length.
        len: usize,
    },
    /// `totalsize` is smaller than the header itself.
    #[error(
        "totalsize {totalsize} (header offset 0x4) is smaller than the {header_size}-byte header"
    )]
    TotalSizeTooSmall {
        /// The `totalsize` field.
        totalsize: u32,
        /// Header size for this version.
        header_size: u32,
    },
    /// A block lies (partly) outside `totalsize`.
    #[error(
        "{block} block [0x{offset:x}, 0x{end:x}) lies outside the blob's {header_size}..{totalsize} bytes"
    )]
    BlockOutOfBounds {
        /// Which block.
        block: BlockKind,
        /// Its start offset.
        offset: u64,
        /// Its end offset (start + size).
        end: u64,
        /// Header size for this version.
        header_size: u32,
        /// The `totalsize` field.
        totalsize: u32,
    },
    /// A block starts inside the header (before byte `header_size`), where the header's
    /// own words are: a blob whose header and blocks share bytes.
    #[error(
        "{block} block at offset 0x{offset:x} starts inside the header (bytes 0..0x{header_size:x})"
    )]
    BlockInHeader {
        /// Which block.
        block: BlockKind,
        /// Its start offset.
        offset: u32,
        /// Header size for this version.
        header_size: u32,
    },
    /// A block offset is not aligned as the format requires.
    #[error("{block} block offset 0x{offset:x} is not {align}-byte aligned")]
    Misaligned {
        /// Which block.
        block: BlockKind,
        /// Its offset.
        offset: u32,
        /// Required alignment.
        align: u32,
    },
    /// Two blocks share bytes.
    #[error(
        "{a} block [0x{a_start:x}, 0x{a_end:x}) overlaps {b} block [0x{b_start:x}, 0x{b_end:x})"
    )]
    BlocksOverlap {
        /// First block.
        a: BlockKind,
        /// Its start.
        a_start: u64,
        /// Its end.
        a_end: u64,
        /// Second block.
        b: BlockKind,
        /// Its start.
        b_start: u64,
        /// Its end.
        b_end: u64,
    },
    /// No `size == 0` terminator before the end of the blob.
    #[error(
        "memory reservation map starting at 0x{offset:x} has no terminating entry before the end of the blob"
    )]
    RsvmapUnterminated {
        /// Where the map starts.
        offset: usize,
    },
    /// The structure block ends in the middle of a token or its data.
    #[error("structure block ends inside the {what} at offset 0x{offset:x}")]
    TruncatedStruct {
        /// What was being read.
        what: StructItem,
        /// Offset of the item.
        offset: usize,
    },
    /// The structure block does not start with `FDT_BEGIN_NODE`.
    #[error(
        "structure block doesn't begin with FDT_BEGIN_NODE (begins with 0x{token:08x} at offset 0x{offset:x})"
    )]
    NoRootNode {
        /// The first word.
        token: u32,
        /// Offset of that word.
        offset: usize,
    },
    /// A word that is not one of the five tokens.
    #[error("invalid token 0x{token:08x} at offset 0x{offset:x}")]
    BadToken {
        /// The word.
        token: u32,
        /// Its offset.
        offset: usize,
    },
    /// A node name runs to the end of the structure block without a NUL.
    #[error("node name at offset 0x{offset:x} has no terminating NUL inside the structure block")]
    UnterminatedNodeName {
        /// Offset of the name's first byte.
        offset: usize,
    },
    /// A node or property name is not UTF-8 text.
    #[error("{what} name at offset 0x{offset:x} is not valid UTF-8")]
    NameNotUtf8 {
        /// Node or property.
        what: NameKind,
        /// Offset of the name.
        offset: usize,
    },
    /// In a version 1-3 blob, a node's full path does not extend its parent's.
    #[error(
        "node at offset 0x{offset:x}: path \"{path}\" is not valid as a child of \"{parent}\" (version < 16 blobs carry full paths)"
    )]
    BadOldPath {
        /// Offset of the FDT_BEGIN_NODE token.
        offset: usize,
        /// The full path found.
        path: String,
        /// The parent's full path.
        parent: String,
    },
    /// A property's value runs past the end of the structure block (or its length
    /// overflows the offset arithmetic).
    #[error(
        "property at offset 0x{offset:x}: value of {len} bytes runs past the end of the structure block (0x{struct_end:x})"
    )]
    PropertyTooLong {
        /// Offset of the FDT_PROP token.
        offset: usize,
        /// The length field.
        len: u32,
        /// End of the structure block.
        struct_end: usize,
    },
    /// A property's name offset lies outside the strings block.
    #[error(
        "property at offset 0x{offset:x}: name offset {nameoff} is outside the {size}-byte strings block"
    )]
    NameOffsetOutOfRange {
        /// Offset of the FDT_PROP token.
        offset: usize,
        /// The nameoff field.
        nameoff: u32,
        /// Size of the strings block.
        size: usize,
    },
    /// A property's name has no NUL before the end of the strings block.
    #[error(
        "property at offset 0x{offset:x}: name at strings offset {nameoff} has no terminating NUL inside the strings block"
    )]
    UnterminatedPropertyName {
        /// Offset of the FDT_PROP token.
        offset: usize,
        /// The nameoff field.
        nameoff: u32,
    },
    /// A property outside any node (before the root or after it closed).
    #[error("property at offset 0x{offset:x} is outside any node")]
    PropertyOutsideNode {
        /// Offset of the FDT_PROP token.
        offset: usize,
    },
    /// `FDT_END` while nodes are still open.
    #[error("premature FDT_END at offset 0x{offset:x}: {open} node(s) still open")]
    PrematureEnd {
        /// Offset of the FDT_END token.
        offset: usize,
        /// How many nodes were open.
        open: usize,
    },
    /// `FDT_END_NODE` with no node open.
    #[error("FDT_END_NODE at offset 0x{offset:x} closes no node")]
    ExtraEndNode {
        /// Offset of the token.
        offset: usize,
    },
    /// A second top-level node after the root closed.
    #[error("FDT_BEGIN_NODE at offset 0x{offset:x} after the root node closed (expected FDT_END)")]
    SecondRoot {
        /// Offset of the FDT_BEGIN_NODE token.
        offset: usize,
    },
    /// The structure block ends without `FDT_END`.
    #[error("structure block ends at 0x{offset:x} without FDT_END")]
    MissingEnd {
        /// Where the block ended.
        offset: usize,
    },
    /// Nodes nest deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("node at offset 0x{offset:x} nests deeper than {max} levels")]
    TooDeep {
        /// Offset of the FDT_BEGIN_NODE token.
        offset: usize,
        /// The cap.
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_offset() {
        let e = FdtError::BadToken {
            token: 7,
            offset: 0x48,
        };
        assert_eq!(e.to_string(), "invalid token 0x00000007 at offset 0x48");
        let e = FdtError::BadMagic { found: 0xd00dfeee };
        assert_eq!(
            e.to_string(),
            "bad magic 0xd00dfeee at offset 0x0 (a DTB starts with 0xd00dfeed)"
        );
        let e = FdtError::PrematureEnd {
            offset: 0x100,
            open: 1,
        };
        assert_eq!(
            e.to_string(),
            "premature FDT_END at offset 0x100: 1 node(s) still open"
        );
    }
}
