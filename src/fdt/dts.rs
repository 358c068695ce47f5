//! DTS text exactly as `dtc -I dtb -O dts` (dtc 1.6.1) prints it, streamed.
//!
//! The rules (`dgibson/dtc: treesource.c`, `write_tree_source_node`,
//! `write_propval`, `guess_value_type`, unchanged from v1.6.1 to v1.8.1 apart from
//! the string-list change below; checked byte for byte against `dtc -q -I dtb -O dts`
//! 1.6.1 by this crate's tests):
//!
//! * `/dts-v1/;`, a blank line, one `/memreserve/\t0x%016llx 0x%016llx;` line per
//!   reservation, then the root as `/ {` (any node with an empty name prints as `/`).
//! * One tab per level; properties first (`name;` or `name = value;`), then each
//!   child preceded by an empty line; a node closes with `};` at its own indent.
//! * A value is a **string** when its last byte is NUL, every byte is printable ASCII,
//!   NUL or one of `\a\b\t\n\v\f\r`, and NULs are no more than the other bytes;
//!   otherwise **cells** `<0x%02x ...>` when its length is a multiple of 4;
//!   otherwise **bytes** `[%02x ...]`.
//! * Strings escape `\a \b \t \n \v \f \r \\ \"`; dtc 1.6.1 prints an interior NUL as
//!   `\0` (`"a\0b"`), dtc 1.7.1 and later split the value into a list (`"a", "b"`,
//!   commit 95c74d7): [`StringListStyle`] picks one.
//!
//! * Like dtc, a node's first `name` property is left out when it merely repeats the
//!   node's name before `@` (`dgibson/dtc: checks.c`, `check_name_properties`, which
//!   deletes it as redundant) — unless some node's first `name` property is not a
//!   single string, in which case dtc's prerequisite check `name_is_string` fails and
//!   no `name` property is dropped anywhere. Version 1-3 blobs and QEMU's powernv
//!   trees carry such properties. [`DtsOptions::keep_name_properties`] turns this off.
//!
//! Output goes through a 64 KiB buffer straight to the writer: memory does not grow
//! with the size of the text, and the walk is iterative, so any depth prints.

use super::reader::{Fdt, Node};
use crate::endian::Endian;
use std::io::{self, Write};

/// How a string value with interior NULs prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StringListStyle {
    /// dtc 1.6.1 (Debian 12): one string with `\0` escapes: `"a\0b"`.
    #[default]
    Dtc16,
    /// dtc 1.7.1 and later: a list: `"a", "b"`.
    Dtc17,
}

/// Options for [`write_dts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtsOptions {
    /// How string lists print.
    pub string_lists: StringListStyle,
    /// Print redundant `name` properties that dtc drops.
    pub keep_name_properties: bool,
    /// Escape the characters a terminal may act on in node and property names
    /// ([`crate::text`]); off, names are printed as their bytes, as dtc prints them.
    /// Values are always printed in dtc's escaped form.
    pub escape_names: bool,
}

impl DtsOptions {
    /// Options printing string lists in `string_lists` style, keeping the `name`
    /// properties dtc drops when `keep_name_properties`.
    #[must_use]
    pub const fn new(string_lists: StringListStyle, keep_name_properties: bool) -> Self {
        DtsOptions {
            string_lists,
            keep_name_properties,
            escape_names: false,
        }
    }

    /// The same options, with names escaped for a terminal when `escape`.
    #[must_use]
    pub const fn with_escaped_names(self, escape: bool) -> Self {
        DtsOptions {
            escape_names: escape,
            ..self
        }
    }
}

const FLUSH_AT: usize = 1 << 16;

/// What dtc's `guess_value_type` makes of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    /// Zero bytes: printed as `name;`.
    Empty,
    /// Printable NUL-terminated text (possibly several strings).
    String,
    /// Big-endian 32-bit cells.
    Cells,
    /// Raw bytes.
    Bytes,
}

fn is_string_byte(b: u8) -> bool {
    // treesource.c isstring: isprint(c) || c == '\0' || strchr("\a\b\t\n\v\f\r", c)
    (0x20..=0x7e).contains(&b) || b == 0 || (0x07..=0x0d).contains(&b)
}

/// Classifies a property value the way dtc 1.6.1 does.
#[must_use]
pub fn value_kind(value: &[u8]) -> ValueKind {
    let Some(&last) = value.last() else {
        return ValueKind::Empty;
    };
    let nul = value.iter().filter(|&&b| b == 0).count();
    if last == 0 && value.iter().all(|&b| is_string_byte(b)) && nul <= value.len() - nul {
        ValueKind::String
    } else if value.len().is_multiple_of(4) {
        ValueKind::Cells
    } else {
        ValueKind::Bytes
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex_u32(out: &mut Vec<u8>, v: u32) {
    // "0x%02x"
    out.extend_from_slice(b"0x");
    let digits = if v == 0 {
        1
    } else {
        8 - (v.leading_zeros() as usize / 4)
    }
    .max(2);
    for i in (0..digits).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize]);
    }
}

fn push_hex_u64_16(out: &mut Vec<u8>, v: u64) {
    // "0x%016llx"
    out.extend_from_slice(b"0x");
    for i in (0..16).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xf) as usize]);
    }
}

fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        match b {
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0b => out.extend_from_slice(b"\\v"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            0 => out.extend_from_slice(b"\\0"),
            0x20..=0x7e => out.push(b),
            _ => {
                // Unreachable for values classified as strings; kept for completeness.
                out.extend_from_slice(b"\\x");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
}

/// Appends a property's value as dtc prints it after the name: `;` for an empty
/// value, else ` = <value>;` (no newline).
pub fn push_value(out: &mut Vec<u8>, value: &[u8], style: StringListStyle) {
    // A Vec never needs spilling.
    let _ = emit_value(out, value, style, &mut |_| Ok(()));
}

/// Value bytes formatted between two calls of `spill`, so that a huge property
/// (a 64 KiB `/incbin/`, a firmware image) never sits whole in the buffer.
const VALUE_CHUNK: usize = 4096;

fn emit_value(
    out: &mut Vec<u8>,
    value: &[u8],
    style: StringListStyle,
    spill: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    match value_kind(value) {
        ValueKind::Empty => out.push(b';'),
        ValueKind::String => {
            out.extend_from_slice(b" = \"");
            let body = value.get(..value.len() - 1).unwrap_or_default();
            for chunk in body.chunks(VALUE_CHUNK) {
                match style {
                    StringListStyle::Dtc16 => push_escaped(out, chunk),
                    StringListStyle::Dtc17 => {
                        for (i, part) in chunk.split(|&b| b == 0).enumerate() {
                            if i > 0 {
                                out.extend_from_slice(b"\", \"");
                            }
                            push_escaped(out, part);
                        }
                    }
                }
                spill(out)?;
            }
            out.extend_from_slice(b"\";");
        }
        ValueKind::Cells => {
            out.extend_from_slice(b" = <");
            for (n, chunk) in value.chunks(VALUE_CHUNK).enumerate() {
                for (i, c) in chunk.chunks_exact(4).enumerate() {
                    if i > 0 || n > 0 {
                        out.push(b' ');
                    }
                    push_hex_u32(out, Endian::Big.read_u32(c));
                }
                spill(out)?;
            }
            out.extend_from_slice(b">;");
        }
        ValueKind::Bytes => {
            out.extend_from_slice(b" = [");
            for (n, chunk) in value.chunks(VALUE_CHUNK).enumerate() {
                for (i, &b) in chunk.iter().enumerate() {
                    if i > 0 || n > 0 {
                        out.push(b' ');
                    }
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                spill(out)?;
            }
            out.extend_from_slice(b"];");
        }
    }
    Ok(())
}

fn indent(out: &mut Vec<u8>, level: usize) {
    out.resize(out.len() + level, b'\t');
}

/// Writes the tree as DTS text to `out`.
///
/// # Errors
/// Only I/O errors from `out`.
pub fn write_dts<W: Write>(fdt: &Fdt<'_>, mut out: W, opts: &DtsOptions) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + VALUE_CHUNK * 4);
    let mut spill = |buf: &mut Vec<u8>| -> io::Result<()> {
        if buf.len() >= FLUSH_AT {
            out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    };
    buf.extend_from_slice(b"/dts-v1/;\n\n");
    for r in fdt.reservations() {
        buf.extend_from_slice(b"/memreserve/\t");
        push_hex_u64_16(&mut buf, r.address);
        buf.push(b' ');
        push_hex_u64_16(&mut buf, r.size);
        buf.extend_from_slice(b";\n");
        spill(&mut buf)?;
    }
    let drop_names =
        !opts.keep_name_properties && fdt.has_name_properties() && names_are_strings(fdt);
    // Depth of the nodes still open; nodes() yields depth-first order, so a node at
    // depth d closes every open node at depth >= d.
    let mut open = 0usize;
    for (depth, node) in fdt.nodes() {
        while open > depth {
            open -= 1;
            indent(&mut buf, open);
            buf.extend_from_slice(b"};\n");
            spill(&mut buf)?;
        }
        if depth > 0 {
            buf.push(b'\n');
        }
        indent(&mut buf, depth);
        let name = node.name();
        if name.is_empty() {
            buf.push(b'/');
        } else if opts.escape_names {
            crate::text::push_escaped(&mut buf, name.as_bytes());
        } else {
            buf.extend_from_slice(name.as_bytes());
        }
        buf.extend_from_slice(b" {\n");
        let skip = if drop_names {
            redundant_name(&node)
        } else {
            None
        };
        for p in node.properties() {
            if Some(p.offset) == skip {
                continue;
            }
            indent(&mut buf, depth + 1);
            if opts.escape_names {
                crate::text::push_escaped(&mut buf, p.name.as_bytes());
            } else {
                buf.extend_from_slice(p.name.as_bytes());
            }
            emit_value(&mut buf, p.value, opts.string_lists, &mut spill)?;
            buf.push(b'\n');
            spill(&mut buf)?;
        }
        open = depth + 1;
    }
    while open > 0 {
        open -= 1;
        indent(&mut buf, open);
        buf.extend_from_slice(b"};\n");
        spill(&mut buf)?;
    }
    out.write_all(&buf)?;
    out.flush()
}

/// dtc's `name_is_string` check over the whole tree: every node's first `name`
/// property is exactly one NUL-terminated string (`data_is_one_string`).
fn names_are_strings(fdt: &Fdt<'_>) -> bool {
    fdt.nodes().all(|(_, n)| {
        n.property("name").is_none_or(|p| {
            p.value
                .split_last()
                .is_some_and(|(&last, body)| last == 0 && !body.contains(&0))
        })
    })
}

/// The offset of the `name` property dtc would drop from `node`, if any.
fn redundant_name(node: &Node<'_>) -> Option<usize> {
    let p = node.property("name")?;
    let base = node.base_name().as_bytes();
    // check_name_properties: len == basenamelen + 1 and the first basenamelen bytes
    // equal the node's base name (the last byte is not compared).
    (p.value.len() == base.len() + 1 && p.value.starts_with(base)).then_some(p.offset)
}

/// The whole DTS text in memory (for tests and small trees; [`write_dts`] streams).
#[must_use]
pub fn to_dts_string(fdt: &Fdt<'_>, opts: &DtsOptions) -> String {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_dts(fdt, &mut v, opts);
    String::from_utf8_lossy(&v).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(v: &[u8], style: StringListStyle) -> String {
        let mut out = Vec::new();
        push_value(&mut out, v, style);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_print_like_dtc_161() {
        // Each expectation is what `dtc -I dtb -O dts` 1.6.1 prints for the value.
        let d = StringListStyle::Dtc16;
        let cases: &[(&[u8], &str)] = &[
            (b"", ";"),
            (b"\0", " = [00];"),
            (b"a\0", " = \"a\";"),
            (b"a\0b\0", " = \"a\\0b\";"),
            (b"a\0\0", " = [61 00 00];"),
            (b"ab\0\0", " = \"ab\\0\";"),
            (b"a\0\0b\0", " = [61 00 00 62 00];"),
            (b"\x01\0", " = [01 00];"),
            (b"\x7f\0", " = [7f 00];"),
            (b"\xc3\xa9\0", " = [c3 a9 00];"),
            (b"a\tb\0", " = \"a\\tb\";"),
            (b"a\"b\\c\0", " = \"a\\\"b\\\\c\";"),
            (b"ABC\0", " = \"ABC\";"),
            (b"\x07\x0b\x0ca\0", " = \"\\a\\v\\fa\";"),
            (b"\0ab\0", " = \"\\0ab\";"),
            (b"abc\0def\0", " = \"abc\\0def\";"),
            (&[0, 0, 0, 0], " = <0x00>;"),
            (&[0, 0, 0, 0x2a], " = <0x2a>;"),
            (&[0xff; 4], " = <0xffffffff>;"),
            (
                &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0],
                " = <0x12345678 0x9abcdef0>;",
            ),
            (b"abcd", " = <0x61626364>;"),
            (b"abc\0\0\0\x12\x34", " = <0x61626300 0x1234>;"),
            (&[1, 2], " = [01 02];"),
            (&[1, 2, 3, 4, 5], " = [01 02 03 04 05];"),
            (&[0, 1, 0, 2, 0, 3], " = [00 01 00 02 00 03];"),
        ];
        for (v, want) in cases {
            assert_eq!(val(v, d), *want, "{v:?}");
        }
    }

    #[test]
    fn dtc17_splits_string_lists() {
        let s = StringListStyle::Dtc17;
        assert_eq!(val(b"a\0b\0", s), " = \"a\", \"b\";");
        assert_eq!(val(b"ab\0\0", s), " = \"ab\", \"\";");
        assert_eq!(val(b"a\0", s), " = \"a\";");
        assert_eq!(val(&[0, 0, 0, 1], s), " = <0x01>;");
    }

    #[test]
    fn hex_widths() {
        let mut v = Vec::new();
        push_hex_u32(&mut v, 0x100);
        push_hex_u64_16(&mut v, 0x1000);
        assert_eq!(v, b"0x1000x0000000000001000");
    }
}
