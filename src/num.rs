//! Numbers as people type them and as JSON tools can read them.
//!
//! Every number on ppcpv's command line accepts decimal or `0x` hex, with `_`
//! separators (`0x002a_0003`); sizes also take `K`/`M`/`G` suffixes (powers of two).
//! In `--json` output every value that may exceed 2^53 is written as a `"0x…"` string
//! through [`Hex64`], because many JSON readers store numbers as doubles.

use serde::{Serialize, Serializer};
use std::fmt;

/// Why a number could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// The text was empty.
    #[error("empty number")]
    Empty,
    /// A character that is not a digit of the base.
    #[error("'{0}' is not a number (use decimal or 0x hex)")]
    Invalid(String),
    /// The value does not fit the destination width.
    #[error("{text} does not fit in {bits} bits")]
    TooWide {
        /// The text as given.
        text: String,
        /// The destination width.
        bits: u32,
    },
}

/// Parses decimal or `0x`/`0X` hex, with optional `_` separators.
///
/// ```
/// use ppcpv::num::parse_u64;
/// assert_eq!(parse_u64("0x2a_0003"), Ok(0x2a0003));
/// assert_eq!(parse_u64("4096"), Ok(4096));
/// assert!(parse_u64("0x").is_err());
/// ```
///
/// # Errors
/// [`NumError`] when the text is empty, has a stray character or exceeds 64 bits.
pub fn parse_u64(text: &str) -> Result<u64, NumError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(NumError::Empty);
    }
    let (digits, radix) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (t, 10),
    };
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || cleaned.starts_with('+') || cleaned.starts_with('-') {
        return Err(NumError::Invalid(text.to_string()));
    }
    u64::from_str_radix(&cleaned, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => NumError::TooWide {
            text: text.to_string(),
            bits: 64,
        },
        _ => NumError::Invalid(text.to_string()),
    })
}

/// Parses like [`parse_u64`] and requires the value to fit in 32 bits.
///
/// # Errors
/// [`NumError::TooWide`] for values above `u32::MAX`, else as [`parse_u64`].
pub fn parse_u32(text: &str) -> Result<u32, NumError> {
    let v = parse_u64(text)?;
    u32::try_from(v).map_err(|_| NumError::TooWide {
        text: text.to_string(),
        bits: 32,
    })
}

/// Parses a size: a number as in [`parse_u64`], optionally followed by `K`, `M`, `G` or
/// `T` (binary multiples, an optional `iB`/`B` is accepted: `512M`, `512MiB`, `1G`).
///
/// ```
/// use ppcpv::num::parse_size;
/// assert_eq!(parse_size("128M"), Ok(128 << 20));
/// assert_eq!(parse_size("1GiB"), Ok(1 << 30));
/// assert_eq!(parse_size("0x1000"), Ok(4096));
/// ```
///
/// # Errors
/// [`NumError`] for malformed text or a product above `u64::MAX`.
pub fn parse_size(text: &str) -> Result<u64, NumError> {
    let t = text.trim();
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
///
/// ```
/// use ppcpv::num::Hex64;
/// assert_eq!(serde_json::to_string(&Hex64(0x2a0003)).unwrap(), "\"0x2a0003\"");
/// ```
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
    fn parses_hex_and_decimal() {
        assert_eq!(parse_u64("0x10"), Ok(16));
        assert_eq!(parse_u64("0X1_0"), Ok(16));
        assert_eq!(parse_u64("1_000"), Ok(1000));
        assert_eq!(parse_u64("0xffffffffffffffff"), Ok(u64::MAX));
    }

    #[test]
    fn rejects_junk() {
        assert_eq!(parse_u64(""), Err(NumError::Empty));
        assert!(matches!(parse_u64("0x"), Err(NumError::Invalid(_))));
        assert!(matches!(parse_u64("-1"), Err(NumError::Invalid(_))));
        assert!(matches!(parse_u64("12z"), Err(NumError::Invalid(_))));
        assert!(matches!(
            parse_u64("0x1_0000_0000_0000_0000"),
            Err(NumError::TooWide { bits: 64, .. })
        ));
        assert!(matches!(
            parse_u32("0x100000000"),
            Err(NumError::TooWide { bits: 32, .. })
        ));
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

    #[test]
    fn error_messages() {
        assert_eq!(
            parse_u64("zz").unwrap_err().to_string(),
            "'zz' is not a number (use decimal or 0x hex)"
        );
        assert_eq!(
            parse_u32("0x1_0000_0000").unwrap_err().to_string(),
            "0x1_0000_0000 does not fit in 32 bits"
        );
    }
}
