//! Printing one property value the way `fdtget` does (`dgibson/dtc: fdtget.c`,
//! `show_data`; `util.c`, `utilfdt_decode_type`, `util_is_printable_string`).
//!
//! A type is `[hh|b|h|l]` + one of `s i u x r`: `s` a string list (printed space
//! separated), `i` signed decimal, `u` unsigned decimal, `x` lowercase hex without
//! `0x`, `r` the raw bytes; the size prefix picks 1 (`hh` or `b`), 2 (`h`) or 4
//! (`l`) byte elements. Without a size, elements are 4 bytes when the length is a
//! multiple of 4, else 1 byte. Without a type, fdtget guesses: a list of non-empty
//! printable NUL-terminated strings prints as text, anything else as `i` (fdtget's
//! `%d`: a 4-byte `0xffffffff` prints as `-1`).

use crate::endian::Endian;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// The conversion of an fdtget type string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversion {
    /// `s`: string list.
    String,
    /// `i`: signed decimal (also fdtget's guess, `%d`).
    Signed,
    /// `u`: unsigned decimal.
    Unsigned,
    /// `x`: hexadecimal.
    Hex,
    /// `r`: raw bytes.
    Raw,
}

/// A parsed `-t` type: conversion and element size (`None` = guess 4 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueType {
    /// The conversion.
    pub conversion: Conversion,
    /// Element size in bytes (1, 2 or 4), or `None` to guess from the length.
    pub size: Option<usize>,
}

impl ValueType {
    /// `conversion` with elements of `size` bytes (`None`: guess 4 or 1, as fdtget
    /// does without a size prefix).
    #[must_use]
    pub const fn new(conversion: Conversion, size: Option<usize>) -> Self {
        ValueType { conversion, size }
    }
}

/// Why a type string or a value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GetError {
    /// The `-t` text is not `[hh|b|h|l][s|i|u|x|r]`.
    #[error("invalid type '{0}': use [hh|b|h|l] followed by s, i, u, x or r (e.g. s, x, hhx, u)")]
    BadType(String),
    /// `-t s` on a value that does not end in NUL.
    #[error("unterminated string: the value does not end with a NUL byte")]
    UnterminatedString,
    /// An element size other than 1, 2 or 4 bytes.
    #[error("element size {0} is not 1, 2 or 4 bytes")]
    BadSize(usize),
    /// The value length is not a multiple of the element size.
    #[error("property length {len} is not a multiple of the selected size {size}")]
    BadLength {
        /// Value length.
        len: usize,
        /// Element size.
        size: usize,
    },
}

impl FromStr for ValueType {
    type Err = GetError;
    fn from_str(s: &str) -> Result<Self, GetError> {
        let bad = || GetError::BadType(s.to_string());
        // utilfdt_decode_type: "hh" means bytes; a doubled "bb"/"ll" is the same as one.
        let (size, rest) = if let Some(r) = s.strip_prefix("hh") {
            (Some(1), r)
        } else if let Some(r) = s.strip_prefix("bb").or_else(|| s.strip_prefix('b')) {
            (Some(1), r)
        } else if let Some(r) = s.strip_prefix('h') {
            (Some(2), r)
        } else if let Some(r) = s.strip_prefix("ll").or_else(|| s.strip_prefix('l')) {
            (Some(4), r)
        } else {
            (None, s)
        };
        let conversion = match rest {
            "s" => Conversion::String,
            "i" => Conversion::Signed,
            "u" => Conversion::Unsigned,
            "x" => Conversion::Hex,
            "r" => Conversion::Raw,
            _ => return Err(bad()),
        };
        // utilfdt_decode_type: a size means nothing for s and r.
        let size = match conversion {
            Conversion::String | Conversion::Raw => None,
            _ => size,
        };
        Ok(ValueType { conversion, size })
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.size {
            Some(1) => "hh",
            Some(2) => "h",
            Some(4) => "l",
            _ => "",
        };
        let c = match self.conversion {
            Conversion::String => 's',
            Conversion::Signed => 'i',
            Conversion::Unsigned => 'u',
            Conversion::Hex => 'x',
            Conversion::Raw => 'r',
        };
        write!(f, "{p}{c}")
    }
}

/// fdtget's `util_is_printable_string`: non-empty, ends in NUL, and every
/// NUL-separated piece is non-empty printable ASCII.
#[must_use]
pub fn is_printable_string_list(value: &[u8]) -> bool {
    let Some(body) = value.strip_suffix(&[0]) else {
        return false;
    };
    body.split(|&b| b == 0)
        .all(|s| !s.is_empty() && s.iter().all(|&b| (0x20..=0x7e).contains(&b)))
}

/// Formats `value` as `fdtget` would print it (without the final newline). `ty` is
/// the `-t` type, `None` to guess.
///
/// # Errors
/// [`GetError::UnterminatedString`] for `s` on a value without a final NUL,
/// [`GetError::BadLength`] when the length does not fit the element size.
pub fn format_value(value: &[u8], ty: Option<ValueType>) -> Result<Vec<u8>, GetError> {
    let mut out = Vec::new();
    if value.is_empty() {
        return Ok(out);
    }
    let conversion = match ty {
        Some(t) => t.conversion,
        None if is_printable_string_list(value) => Conversion::String,
        None => Conversion::Signed,
    };
    match conversion {
        Conversion::Raw => out.extend_from_slice(value),
        Conversion::String => {
            let body = value
                .strip_suffix(&[0])
                .ok_or(GetError::UnterminatedString)?;
            // printf("%s") of each piece: stops at the piece's NUL.
            for (i, s) in body.split(|&b| b == 0).enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(s);
            }
        }
        Conversion::Signed | Conversion::Unsigned | Conversion::Hex => {
            let size = match ty.and_then(|t| t.size) {
                Some(s) if ![1, 2, 4].contains(&s) => return Err(GetError::BadSize(s)),
                Some(s) => {
                    if !value.len().is_multiple_of(s) {
                        return Err(GetError::BadLength {
                            len: value.len(),
                            size: s,
                        });
                    }
                    s
                }
                None if value.len().is_multiple_of(4) => 4,
                None => 1,
            };
            for (i, c) in value.chunks_exact(size).enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                let v = match size {
                    4 => Endian::Big.read_u32(c),
                    2 => u32::from(Endian::Big.read_u16(c)),
                    _ => c.first().copied().map_or(0, u32::from),
                };
                let text = match conversion {
                    // fdtget stores the element in an int: only 4-byte values can be
                    // negative.
                    Conversion::Signed => i32::from_ne_bytes(v.to_ne_bytes()).to_string(),
                    Conversion::Unsigned => v.to_string(),
                    _ => format!("{v:x}"),
                };
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[u8], t: Option<&str>) -> String {
        let ty = t.map(|t| t.parse().unwrap());
        String::from_utf8(format_value(v, ty).unwrap()).unwrap()
    }

    #[test]
    fn parses_fdtget_types() {
        let t: ValueType = "hhx".parse().unwrap();
        assert_eq!((t.conversion, t.size), (Conversion::Hex, Some(1)));
        assert_eq!("bu".parse::<ValueType>().unwrap().size, Some(1));
        assert_eq!("hi".parse::<ValueType>().unwrap().size, Some(2));
        assert_eq!("lx".parse::<ValueType>().unwrap().size, Some(4));
        assert_eq!("s".parse::<ValueType>().unwrap().size, None);
        assert_eq!("x".parse::<ValueType>().unwrap().to_string(), "x");
        assert_eq!(
            format_value(&[0; 4], Some(ValueType::new(Conversion::Hex, Some(0)))),
            Err(GetError::BadSize(0))
        );
        assert_eq!("lls".parse::<ValueType>().unwrap().size, None);
        assert_eq!("llx".parse::<ValueType>().unwrap().size, Some(4));
        for bad in ["", "q", "hhh", "xs", "hhxx", "lllx"] {
            assert!(bad.parse::<ValueType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn guesses_like_fdtget() {
        assert_eq!(f(b"a\0bc\0", None), "a bc");
        assert_eq!(f(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff], None), "1 -1");
        assert_eq!(f(&[1, 2, 3], None), "1 2 3");
        assert_eq!(f(b"a\0\0", None), "97 0 0");
        assert_eq!(f(b"", None), "");
    }

    #[test]
    fn explicit_types() {
        assert_eq!(f(&[0xff, 0xff, 0xff, 0xff], Some("u")), "4294967295");
        assert_eq!(f(&[0, 0, 0x12, 0x34], Some("x")), "1234");
        assert_eq!(f(&[0, 0, 0x12, 0x34], Some("hx")), "0 1234");
        assert_eq!(f(&[0, 0, 0x12, 0x34], Some("hhx")), "0 0 12 34");
        assert_eq!(f(b"ab\0", Some("r")), "ab\0");
        assert_eq!(f(b"ab\0", Some("s")), "ab");
        assert_eq!(
            format_value(b"ab", Some("s".parse().unwrap())),
            Err(GetError::UnterminatedString)
        );
        assert_eq!(
            format_value(&[1, 2, 3], Some("x".parse().unwrap())).unwrap(),
            b"1 2 3"
        );
        assert_eq!(
            format_value(&[1, 2, 3], Some("lx".parse().unwrap())),
            Err(GetError::BadLength { len: 3, size: 4 })
        );
    }
}
