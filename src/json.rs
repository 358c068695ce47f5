//! How library types look in JSON (feature `serde`).
//!
//! Every value that may exceed 2^53 is written as a `"0x…"` string (lower-case hex, no
//! padding), because many JSON readers store numbers as doubles and would round it.
//! Fields opt in with `#[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]`.

#![allow(dead_code)] // until every report type derives Serialize through these

use core::fmt::LowerHex;
use serde::Serializer;

/// Writes an unsigned integer as a `"0x…"` string.
pub(crate) fn hex<T: LowerHex, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:#x}"))
}

/// Writes `Some(v)` as a `"0x…"` string and `None` as `null`.
pub(crate) fn hex_opt<T: LowerHex, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => hex(v, s),
        None => s.serialize_none(),
    }
}

/// Writes a slice of integers as an array of `"0x…"` strings.
pub(crate) fn hex_seq<T: LowerHex, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&format_args!("{x:#x}"))?;
    }
    seq.end()
}
