//! Text from a blob or an image made safe to show on a terminal.
//!
//! Names, strings and paths read from the input are the input's author's bytes: a
//! `model` of `"\e]0;PWNED\a"` retitles a terminal it is printed to, `\e[2J` clears it,
//! a right-to-left override reorders what follows. Before such text reaches a
//! terminal, [`escape`] (and [`push_escaped`] for bytes) replaces every character a
//! terminal may act on:
//!
//! * C0 controls and DEL (`U+0000..U+001F`, `U+007F`): `\n`, `\t`, `\r` as such, the
//!   others as `\xNN` (ESC is `\x1b`);
//! * C1 controls (`U+0080..U+009F`, which 8-bit terminals take as CSI, OSC …) and the
//!   bidirectional formatting characters (`U+061C`, `U+200E`, `U+200F`,
//!   `U+202A..U+202E`, `U+2066..U+2069`): `\u{NNNN}`;
//! * bytes that are not UTF-8 ([`push_escaped`] only): `\xNN`.
//!
//! Everything else, backslashes included, passes unchanged, so ordinary text reads as
//! it is. Machine outputs (`--json`, a DTS file, a pipe into another tool) keep the
//! exact bytes; only what is meant for a person's terminal goes through here.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// Whether a terminal may act on `c` (see the module docs).
#[must_use]
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if !is_unsafe(c) => out.push(c),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

/// `s` with every character a terminal may act on escaped; borrowed when there is none.
///
/// ```
/// use ppcpv::text::escape;
/// assert_eq!(escape("IBM pSeries"), "IBM pSeries");
/// assert_eq!(escape("\u{1b}]0;PWNED\u{7}\u{1b}[31mRED"), "\\x1b]0;PWNED\\x07\\x1b[31mRED");
/// assert_eq!(escape("a\nb\u{9b}c\u{202e}"), "a\\nb\\u{009b}c\\u{202e}");
/// ```
#[must_use]
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escape`] for text of several lines: each line escaped, the line breaks kept (for
/// messages whose own text spans lines but may quote the input).
///
/// ```
/// assert_eq!(ppcpv::text::escape_lines("a\x1b[2J\nb"), "a\\x1b[2J\nb");
/// ```
#[must_use]
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(escape).collect();
    Cow::Owned(lines.join("\n"))
}

/// Appends `bytes` to `out` as text with every character a terminal may act on
/// escaped, and every byte that is not part of valid UTF-8 as `\xNN`.
///
/// ```
/// let mut out = Vec::new();
/// ppcpv::text::push_escaped(&mut out, b"ok \x1b[2J \xff\xfe caf\xc3\xa9");
/// assert_eq!(out, b"ok \\x1b[2J \\xff\\xfe caf\xc3\xa9");
/// ```
pub fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    let mut buf = String::new();
    while !rest.is_empty() {
        let (valid, bad) = match core::str::from_utf8(rest) {
            Ok(s) => (s, 0),
            Err(e) => {
                let (ok, _) = rest.split_at(e.valid_up_to());
                // The prefix was checked by from_utf8.
                let s = core::str::from_utf8(ok).unwrap_or_default();
                (s, e.error_len().unwrap_or(rest.len() - ok.len()))
            }
        };
        buf.clear();
        buf.push_str(&escape(valid));
        out.extend_from_slice(buf.as_bytes());
        let after = valid.len();
        for &b in rest.get(after..after + bad).unwrap_or_default() {
            buf.clear();
            let _ = write!(buf, "\\x{b:02x}");
            out.extend_from_slice(buf.as_bytes());
        }
        rest = rest.get(after + bad..).unwrap_or_default();
    }
}

/// [`push_escaped`] for a whole text output laid out in lines and tabs (a DTS-like
/// listing): line breaks and tabs pass, everything else a terminal acts on is escaped.
///
/// ```
/// let mut out = Vec::new();
/// ppcpv::text::push_escaped_layout(&mut out, b"/\t\x1b[2Jx {\n};\n");
/// assert_eq!(out, b"/\t\\x1b[2Jx {\n};\n");
/// ```
pub fn push_escaped_layout(out: &mut Vec<u8>, bytes: &[u8]) {
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        for (j, piece) in line.split(|&b| b == b'\t').enumerate() {
            if j > 0 {
                out.push(b'\t');
            }
            push_escaped(out, piece);
        }
    }
}

/// [`push_escaped`] into a new string.
#[must_use]
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    push_escaped(&mut out, bytes);
    // Only valid UTF-8 and ASCII escapes were pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_escaped_and_nothing_else() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let mut s = String::new();
            s.push(c);
            let e = escape(&s);
            if is_unsafe(c) {
                assert!(e.starts_with('\\') && e.len() > 1, "{c:?} -> {e:?}");
                assert!(!e.chars().any(is_unsafe), "{c:?} -> {e:?}");
            } else {
                assert_eq!(e, s, "{c:?} changed");
            }
        }
        assert_eq!(escape("a\\b"), "a\\b");
    }

    #[test]
    fn bytes_split_at_invalid_utf8() {
        assert_eq!(escape_bytes(b""), "");
        assert_eq!(escape_bytes(b"\xc3"), "\\xc3");
        assert_eq!(escape_bytes(b"x\xe2\x80"), "x\\xe2\\x80");
        assert_eq!(escape_bytes(b"\xe2\x80\xaeRTL"), "\\u{202e}RTL");
        assert_eq!(escape_bytes(b"\x00\x7f\xc2\x9b"), "\\x00\\x7f\\u{009b}");
    }
}
