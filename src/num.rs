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

/// Parses decimal or `0x`/`0X` hex, with optional `_` separators between digits.
///
/// The one number syntax of ppcpv, on the command line (every option and argument that
/// takes a number, `--reg rN=VALUE`, `magic set FIELD=VALUE`, instruction words and
/// assembler operands) and in the library's text formats:
/// * decimal (`4096`) or hex after `0x` or `0X` (`0x1000`, as C and dtc accept both);
/// * `_` only between two digits, to group them (`0x002a_0003`, `1_000_000`); a leading,
///   trailing or doubled `_` is a typo and refused;
/// * nothing else: no sign, no surrounding spaces (`" 12"` is refused rather than
///   silently trimmed, since a space inside a quoted argument is usually a mistake),
///   no octal, no suffix.
///
/// ```
/// use ppcpv::num::parse_u64;
/// assert_eq!(parse_u64("0x2a_0003"), Ok(0x2a0003));
/// assert_eq!(parse_u64("0X10"), Ok(16));
/// assert_eq!(parse_u64("4096"), Ok(4096));
/// assert!(parse_u64("0x").is_err());
/// assert!(parse_u64(" 12").is_err());
/// assert!(parse_u64("1__0").is_err());
/// ```
///
/// # Errors
/// [`NumError`] when the text is empty, has a stray character or exceeds 64 bits.
pub fn parse_u64(text: &str) -> Result<u64, NumError> {
    if text.is_empty() {
        return Err(NumError::Empty);
    }
    let invalid = || NumError::Invalid(text.to_string());
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => (h, 16u64),
        None => (text, 10u64),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    let mut prev_sep = false;
    for c in digits.chars() {
        if c == '_' {
            if prev_sep {
                return Err(invalid());
            }
            prev_sep = true;
            continue;
        }
        prev_sep = false;
        let d = c.to_digit(radix as u32).ok_or_else(invalid)?;
        value = value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(|| NumError::TooWide {
                text: text.to_string(),
                bits: 64,
            })?;
    }
    Ok(value)
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
        for bad in [
            " 12", "12 ", "_1", "1_", "1__0", "0x_1", "+1", "0o17", "1e3", "0x 1",
        ] {
            assert!(
                matches!(parse_u64(bad), Err(NumError::Invalid(_))),
                "{bad:?}"
            );
        }
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
