//! Numbers as people type them on the command line and as JSON tools read them.
//!
//! Sizes are numbers as in [`ppcpv::num::parse_u64`] with optional `K`/`M`/`G`/`T`
//! suffixes (powers of two). In `--json` output every value that may exceed 2^53 is
//! written as a `"0x…"` string through [`Hex64`], because many JSON readers store
//! numbers as doubles.

use ppcpv::num::{NumError, parse_u64};
use serde::{Serialize, Serializer};
use std::fmt;

/// Parses a size: a number as in [`parse_u64`], optionally followed by `K`, `M`, `G` or
/// `T` (binary multiples, an optional `iB`/`B` is accepted: `512M`, `512MiB`, `1G`).
///
/// # Errors
/// [`NumError`] for malformed text or a product above `u64::MAX`.
pub fn parse_size(text: &str) -> Result<u64, NumError> {
    let t = text;
    if let Ok(v) = parse_u64(t) {
        return Ok(v); // plain bytes, including hex such as 0x1b
    }
    let upper = t.to_ascii_uppercase();
    let stem = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (num, shift) = match stem.chars().last() {
        Some('K') => (&t[..stem.len() - 1], 10),
        Some('M') => (&t[..stem.len() - 1], 20),
        Some('G') => (&t[..stem.len() - 1], 30),
        Some('T') => (&t[..stem.len() - 1], 40),
        _ if stem.len() != upper.len() => return Err(NumError::Invalid(text.to_string())),
        _ => (t, 0),
    };
    let v = parse_u64(num)?;
    v.checked_mul(1u64 << shift).ok_or(NumError::TooWide {
        text: text.to_string(),
        bits: 64,
    })
}

/// Formats a byte count the short way: `128M`, `1G`, `4K`, or plain bytes.
#[must_use]
pub fn format_size(bytes: u64) -> String {
    for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// A value written in JSON as a `"0x…"` string (lower-case hex, no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hex64(pub u64);

impl Serialize for Hex64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Hex64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl From<u64> for Hex64 {
    fn from(v: u64) -> Self {
        Hex64(v)
    }
}

impl From<u32> for Hex64 {
    fn from(v: u32) -> Self {
        Hex64(u64::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex64_is_a_json_string() {
        assert_eq!(
            serde_json::to_string(&Hex64(0x2a0003)).unwrap(),
            "\"0x2a0003\""
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("0xfff"), Ok(0xfff));
        assert_eq!(parse_size("0x1b"), Ok(0x1b));
        assert_eq!(parse_size("0x10M"), Ok(16 << 20));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(format_size(128 << 20), "128M");
        assert_eq!(format_size(1 << 30), "1G");
        assert_eq!(format_size(1000), "1000");
    }
}
