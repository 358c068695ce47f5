//! How library types look in JSON (feature `serde`).
//!
//! Every value that may exceed 2^53 is written as a `"0x…"` string (lower-case hex, no
//! padding), because many JSON readers store numbers as doubles and would round it.
//! Fields opt in with `#[cfg_attr(feature = "serde", serde(serialize_with = "crate::json::hex"))]`.

use core::fmt::LowerHex;
use serde::Serializer;

/// Writes an unsigned integer as a `"0x…"` string.
pub(crate) fn hex<T: LowerHex, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:#x}"))
}
