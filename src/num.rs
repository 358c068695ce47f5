//! Numbers in the library's text syntaxes: assembler operands, register and field
//! assignments, hypercall tokens. Decimal or `0x` hex, with `_` separators (`0x002a_0003`).

use alloc::string::{String, ToString};

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
        core::num::IntErrorKind::PosOverflow => NumError::TooWide {
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
}

/// Interim: a value written in JSON as a `"0x…"` string. Goes once every library type
/// serializes its 64-bit fields through `crate::json::hex`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hex64(pub u64);

impl serde::Serialize for Hex64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:#x}", self.0))
    }
}

impl core::fmt::Display for Hex64 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
