//! Tokens of DTS source, cut exactly as dtc 1.6.1's flex scanner cuts them
//! (`dgibson/dtc: dtc-lexer.l`): the same start conditions (INITIAL, V1, PROPNODENAME,
//! BYTESTRING) switched by the same tokens, longest match first and the earlier rule on
//! a tie, `/include/` handled inside the scanner, and cpp line markers
//! (`# 12 "board.dts"`) renaming the file and renumbering the lines of later tokens.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::FileAccess;
use super::error::{CompileError, ErrorKind, SourcePos};
use super::tree::{Bytes, Name};

/// dtc's `MAX_SRCFILE_DEPTH` (`srcpos.c`): deeper `/include/` nesting is refused.
const MAX_INCLUDE_DEPTH: usize = 200;
/// Most `/include/`s opened in one compilation: a file that includes itself twice
/// would otherwise open 2^200 files before reaching the depth limit.
pub(crate) const MAX_INCLUDES: usize = 4096;

/// A token's start: index into the lexer's file-name table, line and column (1-based,
/// columns counted in bytes as dtc's `srcpos_update` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// One token (the `%token`s of `dtc-parser.y`, single characters as `Punct`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Tok {
    V1,
    Plugin,
    Memreserve,
    Bits,
    DelProp,
    DelNode,
    OmitNoRef,
    Incbin,
    Label(String),
    LabelRef(String),
    PathRef(String),
    Name(Name),
    Literal(u64),
    CharLiteral(u64),
    Byte(u8),
    Str(Bytes),
    LShift,
    RShift,
    Le,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    Punct(u8),
    #[default]
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        use alloc::format;
        match self {
            Tok::V1 => "/dts-v1/".into(),
            Tok::Plugin => "/plugin/".into(),
            Tok::Memreserve => "/memreserve/".into(),
            Tok::Bits => "/bits/".into(),
            Tok::DelProp => "/delete-property/".into(),
            Tok::DelNode => "/delete-node/".into(),
            Tok::OmitNoRef => "/omit-if-no-ref/".into(),
            Tok::Incbin => "/incbin/".into(),
            Tok::Label(l) => format!("label '{l}:'"),
            Tok::LabelRef(l) => format!("reference '&{l}'"),
            Tok::PathRef(p) => format!("reference '&{{{p}}}'"),
            Tok::Name(n) => format!("name '{n}'"),
            Tok::Literal(v) | Tok::CharLiteral(v) => format!("number {v:#x}"),
            Tok::Byte(b) => format!("byte {b:02x}"),
            Tok::Str(_) => "a string".into(),
            Tok::LShift => "'<<'".into(),
            Tok::RShift => "'>>'".into(),
            Tok::Le => "'<='".into(),
            Tok::Ge => "'>='".into(),
            Tok::EqEq => "'=='".into(),
            Tok::Ne => "'!='".into(),
            Tok::AndAnd => "'&&'".into(),
            Tok::OrOr => "'||'".into(),
            Tok::Punct(c) if c.is_ascii_graphic() => format!("'{}'", char::from(*c)),
            Tok::Punct(c) => format!("byte {c:#04x}"),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// dtc's start conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    V1,
    PropNodeName,
    ByteString,
}

/// One open file: its text, the read position and the position bookkeeping.
///
/// The column is not counted per token: it is the distance from the start of the
/// current line (`line_start`, the offset after the last newline read), which gives
/// the same byte-counted columns as dtc's `srcpos_update`, including after a line
/// marker (which renumbers the line but does not start a new one).
struct Source<'a> {
    text: Cow<'a, [u8]>,
    at: usize,
    line: u32,
    /// Offset just after the last newline read (0 before the first).
    line_start: usize,
    /// Index of the display name (changed by line markers).
    name: u32,
    /// Directory of the file as opened, for relative `/include/` and `/incbin/`
    /// (dtc's `srcfile_state.dir`; `None` when the name has no `/`).
    dir: Option<String>,
}

impl Source<'_> {
    /// At the beginning of a line (flex's `^`): nothing read yet, or a newline last.
    fn bol(&self) -> bool {
        self.at == self.line_start
    }
}

/// The scanner. Pulls from a stack of sources (the main text plus `/include/`s).
pub(crate) struct Lexer<'a> {
    stack: Vec<Source<'a>>,
    names: Vec<String>,
    state: State,
    files: &'a mut dyn FileAccess,
    search: &'a [String],
    opened: usize,
}

/// What the longest-match step chose.
enum Rule {
    Include(usize, String),
    LineMarker(usize),
    Skip(usize),
    Token(usize, Tok),
    /// A token whose text holds no newline (the position moves along the line only).
    Plain(usize, Tok),
}

/// Character classes, one bit each, looked up in [`CLASS`].
const SPACE: u8 = 1;
const LABEL_START: u8 = 2;
const LABEL_CHAR: u8 = 4;
const PROPNODE: u8 = 8;

/// The class bits of every byte: flex's `[ \t\n\v\f\r]`, `[a-zA-Z_]`, `[a-zA-Z0-9_]` and
/// `PROPNODECHAR [a-zA-Z0-9,._+*#?@-]` (`dtc-lexer.l`).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut v = 0;
        if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            v |= SPACE;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            v |= LABEL_START;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            v |= LABEL_CHAR;
        }
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b',' | b'.' | b'_' | b'+' | b'*' | b'#' | b'?' | b'@' | b'-'
            )
        {
            v |= PROPNODE;
        }
        t[b] = v;
        b += 1;
    }
    t
};

fn is_space(b: u8) -> bool {
    CLASS[usize::from(b)] & SPACE != 0
}

fn is_label_start(b: u8) -> bool {
    CLASS[usize::from(b)] & LABEL_START != 0
}

fn is_label_char(b: u8) -> bool {
    CLASS[usize::from(b)] & LABEL_CHAR != 0
}

/// `PROPNODECHAR [a-zA-Z0-9,._+*#?@-]`.
pub(crate) fn is_propnode_char(b: u8) -> bool {
    CLASS[usize::from(b)] & PROPNODE != 0
}

/// Length of `\"([^\\"]|\\.)*\"` at the start of `s` (flex's `.` excludes newline).
fn string_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while let Some(&b) = s.get(i) {
        match b {
            b'"' => return Some(i + 1),
            b'\\' => match s.get(i + 1) {
                Some(&n) if n != b'\n' => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
    None
}

/// Longest match of `'([^']|\\')*'` at the start of `s`.
fn char_literal_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'\'') {
        return None;
    }
    // Body positions reachable so far: at most two are live at once (a `\` may be a
    // plain body character or the start of `\'`).
    let mut best = None;
    let mut live: [Option<usize>; 2] = [Some(1), None];
    loop {
        let mut next: [Option<usize>; 2] = [None, None];
        let push = |p: usize, next: &mut [Option<usize>; 2]| {
            if next.contains(&Some(p)) {
                return;
            }
            if next[0].is_none() {
                next[0] = Some(p);
            } else {
                next[1] = Some(p);
            }
        };
        for i in live.into_iter().flatten() {
            match s.get(i) {
                None => {}
                Some(b'\'') => best = best.max(Some(i + 1)),
                Some(&b) => {
                    push(i + 1, &mut next);
                    if b == b'\\' && s.get(i + 1) == Some(&b'\'') {
                        push(i + 2, &mut next);
                    }
                }
            }
        }
        if next == [None, None] {
            return best;
        }
        // Keep the two smallest positions in order; they differ by at most one.
        if let [Some(a), Some(b)] = next
            && a > b
        {
            next = [Some(b), Some(a)];
        }
        live = next;
    }
}

/// Length of a C comment `/* … */` at the start of `s`.
fn comment_len(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"/*") {
        return None;
    }
    let mut i = 2;
    while i + 1 < s.len() {
        if s[i] == b'*' && s[i + 1] == b'/' {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

/// `"//".*\n`: needs the newline.
fn line_comment_len(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"//") {
        return None;
    }
    s.iter().position(|&b| b == b'\n').map(|p| p + 1)
}

/// `^"#"(line)?[ \t]+[0-9]+[ \t]+{STRING}([ \t]+[0-9]+)?`: total length, line number
/// text range and file name range.
fn line_marker(s: &[u8]) -> Option<(usize, u32, core::ops::Range<usize>)> {
    if s.first() != Some(&b'#') {
        return None;
    }
    let mut i = 1;
    if s[i..].starts_with(b"line") {
        i += 4;
    }
    let blanks = |s: &[u8], mut i: usize| {
        let st = i;
        while matches!(s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        (i > st).then_some(i)
    };
    let digits = |s: &[u8], mut i: usize| {
        let st = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > st).then_some((st, i))
    };
    i = blanks(s, i)?;
    let (ds, de) = digits(s, i)?;
    i = blanks(s, de)?;
    let sl = string_len(&s[i..])?;
    let name = i + 1..i + sl - 1;
    i += sl;
    if let Some(j) = blanks(s, i)
        && let Some((_, e)) = digits(s, j)
    {
        i = e;
    }
    // atoi: saturate instead of overflowing.
    let line = s[ds..de].iter().fold(0u32, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    Some((i, line, name))
}

/// dtc's `get_escape_char` (`util.c`) over the body of a string or character literal,
/// the way `data_copy_escape_string` (`data.c`) applies it.
pub(crate) fn unescape(s: &[u8]) -> Result<Bytes, ErrorKind> {
    // One spare byte: string tokens append their NUL.
    let mut out = Bytes::with_capacity(s.len() + 1);
    // Most strings have no escape at all: one copy.
    if !s.contains(&b'\\') {
        out.extend_from_slice(s);
        return Ok(out);
    }
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        let v = match e {
            b'a' => 0x07,
            b'b' => 0x08,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 0x0b,
            b'f' => 0x0c,
            b'r' => b'\r',
            b'0'..=b'7' => {
                // strtol(.., 8) over at most three characters, starting at the digit.
                let start = i - 1;
                let mut j = start;
                let mut v: u32 = 0;
                while j < s.len() && j < start + 3 && (b'0'..=b'7').contains(&s[j]) {
                    v = v * 8 + u32::from(s[j] - b'0');
                    j += 1;
                }
                i = j;
                (v & 0xff) as u8
            }
            b'x' => {
                // strtol(.., 16) over at most two characters: leading blanks and a
                // sign are accepted as strtol does; no digit at all is fatal in dtc.
                let end = (i + 2).min(s.len());
                let t = &s[i..end];
                let mut j = 0;
                while j < t.len() && is_space(t[j]) {
                    j += 1;
                }
                let mut neg = false;
                if j < t.len() && (t[j] == b'+' || t[j] == b'-') {
                    neg = t[j] == b'-';
                    j += 1;
                }
                let ds = j;
                let mut v: i64 = 0;
                while j < t.len() && t[j].is_ascii_hexdigit() {
                    v = v * 16 + i64::from(hex_val(t[j]));
                    j += 1;
                }
                if j == ds {
                    return Err(ErrorKind::BadHexEscape);
                }
                i += j;
                // Two hex digits at most, so |v| <= 0xff; negation wraps as C's
                // long-to-char conversion does.
                let low = v.unsigned_abs().to_le_bytes()[0];
                if neg { low.wrapping_neg() } else { low }
            }
            other => other,
        };
        out.push(v);
    }
    Ok(out)
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// dtc's integer literal: `strtoull(text, &end, 0)`, then only `U`/`L` may follow.
fn literal_value(text: &[u8]) -> Result<u64, ErrorKind> {
    let s = || String::from_utf8_lossy(text).into_owned();
    let (digits, radix) = if text.len() > 2 && (text[1] == b'x' || text[1] == b'X') {
        (&text[2..], 16)
    } else if text.first() == Some(&b'0') {
        (text, 8)
    } else {
        (text, 10)
    };
    let mut v: u64 = 0;
    let mut i = 0;
    let mut overflow = false;
    while i < digits.len() {
        let d = match digits[i] {
            b @ b'0'..=b'9' => u32::from(b - b'0'),
            b @ (b'a'..=b'f' | b'A'..=b'F') => u32::from(hex_val(b)),
            _ => break,
        };
        if d >= radix {
            break;
        }
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if digits[i..].iter().any(|&b| b != b'U' && b != b'L') {
        return Err(ErrorKind::BadLiteral(s()));
    }
    if overflow {
        return Err(ErrorKind::LiteralOutOfRange(s()));
    }
    Ok(v)
}

/// `([0-9]+|0[xX][0-9a-fA-F]+)(U|L|UL|LL|ULL)?` at the start of `s`.
fn literal_len(s: &[u8]) -> Option<usize> {
    let mut i;
    if s.len() > 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') && s[2].is_ascii_hexdigit() {
        i = 3;
        while s.get(i).is_some_and(u8::is_ascii_hexdigit) {
            i += 1;
        }
    } else {
        i = 0;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == 0 {
            return None;
        }
    }
    for suf in [&b"ULL"[..], b"UL", b"LL", b"U", b"L"] {
        if s[i..].starts_with(suf) {
            return Some(i + suf.len());
        }
    }
    Some(i)
}

const KEYWORDS: [(&[u8], Tok); 7] = [
    (b"/dts-v1/", Tok::V1),
    (b"/plugin/", Tok::Plugin),
    (b"/memreserve/", Tok::Memreserve),
    (b"/bits/", Tok::Bits),
    (b"/delete-property/", Tok::DelProp),
    (b"/delete-node/", Tok::DelNode),
    (b"/omit-if-no-ref/", Tok::OmitNoRef),
];

impl<'a> Lexer<'a> {
    /// A scanner over `text`, named `name` in messages.
    pub(crate) fn new(
        text: &'a [u8],
        name: &str,
        files: &'a mut dyn FileAccess,
        search: &'a [String],
    ) -> Self {
        let mut lx = Lexer {
            stack: Vec::new(),
            names: Vec::new(),
            state: State::Initial,
            files,
            search,
            opened: 0,
        };
        let n = lx.add_name(name);
        lx.stack.push(Source {
            text: Cow::Borrowed(text),
            at: 0,
            line: 1,
            line_start: 0,
            name: n,
            dir: dirname(name),
        });
        lx
    }

    fn add_name(&mut self, name: &str) -> u32 {
        if let Some(i) = self.names.iter().rposition(|n| n == name) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.names.push(name.into());
        u32::try_from(self.names.len() - 1).unwrap_or(u32::MAX)
    }

    /// The printable position of `pos`.
    pub(crate) fn source_pos(&self, pos: Pos) -> SourcePos {
        let file = self
            .names
            .get(pos.file as usize)
            .cloned()
            .unwrap_or_default();
        SourcePos::new(file, pos.line, pos.col)
    }

    /// An error at `pos`.
    pub(crate) fn error(&self, pos: Pos, kind: ErrorKind) -> CompileError {
        CompileError::new(self.source_pos(pos), kind)
    }

    /// The position of the next character to be read.
    fn here(&self) -> Pos {
        self.stack.last().map_or_else(Pos::default, |s| Pos {
            file: s.name,
            line: s.line,
            // Wraps as dtc's int column would on a line over 4 GiB.
            col: ((s.at - s.line_start) as u32).wrapping_add(1),
        })
    }

    /// Reads a file named in the source as dtc's `srcfile_relative_open` does: the
    /// directory of the current file first (names starting with `/` as they are),
    /// then every search directory in order. Returns the name it was found under.
    pub(crate) fn open_relative(
        &mut self,
        name: &str,
        at: Pos,
    ) -> Result<(String, Vec<u8>), CompileError> {
        let cur = self.stack.last().and_then(|s| s.dir.clone());
        let mut candidates = Vec::with_capacity(1 + self.search.len());
        candidates.push(try_name(cur.as_deref(), name));
        for d in self.search {
            candidates.push(try_name(Some(d), name));
        }
        for c in candidates {
            if let Some(data) = self.files.read(&c) {
                return Ok((c, data));
            }
        }
        Err(self.error(at, ErrorKind::FileNotFound(name.into())))
    }

    /// The next token with its position.
    pub(crate) fn next_token(&mut self) -> Result<(Tok, Pos), CompileError> {
        // The common case in one pass over the current source: the whitespace run, then
        // a token that `fast_path` decides alone. The same steps as the general loop
        // below (which `longest_match` starts with `fast_path` too), without looking up
        // the source again for each of them.
        if let Some(Source {
            text,
            at,
            line,
            line_start,
            name,
            ..
        }) = self.stack.last_mut()
        {
            let text: &[u8] = text;
            let mut i = *at;
            while let Some(&b) = text.get(i) {
                if !is_space(b) {
                    break;
                }
                i += 1;
                if b == b'\n' {
                    *line = line.wrapping_add(1);
                    *line_start = i;
                }
            }
            *at = i;
            if i < text.len() {
                let pos = Pos {
                    file: *name,
                    line: *line,
                    col: ((i - *line_start) as u32).wrapping_add(1),
                };
                match fast_path(&text[i..], self.state, i == *line_start) {
                    Some(Rule::Plain(n, tok)) => {
                        *at = (i + n).min(text.len());
                        return Ok((self.switch_state(tok), pos));
                    }
                    Some(Rule::Token(n, tok)) => {
                        self.advance(n);
                        return Ok((self.switch_state(tok), pos));
                    }
                    _ => {}
                }
            }
        }
        loop {
            let Some(src) = self.stack.last() else {
                return Ok((Tok::Eof, Pos::default()));
            };
            if src.at >= src.text.len() {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    continue;
                }
                return Ok((Tok::Eof, self.here()));
            }
            // Whitespace: only `{WS}+` can match here, so skip the run directly,
            // counting its newlines on the way.
            if is_space(src.text[src.at]) {
                if let Some(s) = self.stack.last_mut() {
                    let text = &s.text[..];
                    let mut i = s.at;
                    while let Some(&b) = text.get(i) {
                        if !is_space(b) {
                            break;
                        }
                        i += 1;
                        if b == b'\n' {
                            s.line = s.line.wrapping_add(1);
                            s.line_start = i;
                        }
                    }
                    s.at = i;
                }
                continue;
            }
            let pos = self.here();
            let rule = self.longest_match().map_err(|e| {
                if e.pos == SourcePos::default() {
                    self.error(pos, e.kind)
                } else {
                    e
                }
            })?;
            match rule {
                Rule::Skip(n) => self.advance(n),
                Rule::LineMarker(n) => {
                    let (src_text, at) = {
                        let s = self.stack.last().ok_or_else(|| self.error(pos, eof()))?;
                        (s.text.clone(), s.at)
                    };
                    let (_, line, range) =
                        line_marker(&src_text[at..]).ok_or_else(|| self.error(pos, eof()))?;
                    let fname =
                        String::from_utf8_lossy(&src_text[at + range.start..at + range.end])
                            .into_owned();
                    self.advance(n);
                    let id = self.add_name(&fname);
                    if let Some(s) = self.stack.last_mut() {
                        s.name = id;
                        // "-1 since #line is the number of the next line".
                        s.line = line.wrapping_sub(1);
                    }
                }
                Rule::Include(n, name) => {
                    self.advance(n);
                    if self.stack.len() >= MAX_INCLUDE_DEPTH {
                        return Err(self.error(pos, ErrorKind::IncludeTooDeep));
                    }
                    self.opened += 1;
                    if self.opened > MAX_INCLUDES {
                        return Err(self.error(pos, ErrorKind::TooManyIncludes(MAX_INCLUDES)));
                    }
                    let (full, data) = self.open_relative(&name, pos)?;
                    let id = self.add_name(&full);
                    self.stack.push(Source {
                        text: Cow::Owned(data),
                        at: 0,
                        line: 1,
                        line_start: 0,
                        name: id,
                        dir: dirname(&full),
                    });
                }
                Rule::Plain(n, tok) => {
                    if let Some(s) = self.stack.last_mut() {
                        s.at = (s.at + n).min(s.text.len());
                    }
                    return Ok((self.switch_state(tok), pos));
                }
                Rule::Token(n, tok) => {
                    self.advance(n);
                    return Ok((self.switch_state(tok), pos));
                }
            }
        }
    }

    /// The start condition a token switches to (the `BEGIN`s of `dtc-lexer.l`).
    fn switch_state(&mut self, tok: Tok) -> Tok {
        match &tok {
            Tok::V1 | Tok::Memreserve | Tok::Bits | Tok::Name(_) => {
                self.state = State::V1;
            }
            Tok::DelProp | Tok::DelNode | Tok::OmitNoRef => {
                self.state = State::PropNodeName;
            }
            Tok::Punct(b']') if self.state == State::ByteString => {
                self.state = State::V1;
            }
            Tok::Punct(b'[') => self.state = State::ByteString,
            Tok::Punct(b'{' | b';') => self.state = State::PropNodeName,
            _ => {}
        }
        tok
    }

    fn advance(&mut self, n: usize) {
        let Some(s) = self.stack.last_mut() else {
            return;
        };
        let end = (s.at + n).min(s.text.len());
        for (i, &b) in s.text[s.at..end].iter().enumerate() {
            if b == b'\n' {
                s.line = s.line.wrapping_add(1);
                s.line_start = s.at + i + 1;
            }
        }
        s.at = end;
    }

    /// flex's choice: the longest match among the rules active in this state, the
    /// earliest rule on a tie.
    fn longest_match(&mut self) -> Result<Rule, CompileError> {
        let state = self.state;
        let Some(src) = self.stack.last() else {
            return Ok(Rule::Skip(0));
        };
        let s = &src.text[src.at..];
        let bol = src.bol();
        if let Some(rule) = fast_path(s, state, bol) {
            return Ok(rule);
        }
        let mut best: Option<(usize, u8)> = None; // (length, rule number)
        let mut consider = |len: Option<usize>, rule: u8| {
            if let Some(l) = len
                && l > 0
                && best.is_none_or(|(bl, _)| l > bl)
            {
                best = Some((l, rule));
            }
        };
        let first = s.first().copied().unwrap_or(0);
        // 1: /include/ {WS}* {STRING}
        if first == b'/' && s.starts_with(b"/include/") {
            let mut i = 9;
            while s.get(i).is_some_and(|&b| is_space(b)) {
                i += 1;
            }
            consider(string_len(&s[i..]).map(|l| i + l), 1);
        }
        // 2: line marker at the beginning of a line
        if bol {
            consider(line_marker(s).map(|m| m.0), 2);
        }
        // 3: string
        if first == b'"' {
            consider(string_len(s), 3);
        }
        // 4: keywords
        if first == b'/' {
            for (i, (kw, _)) in KEYWORDS.iter().enumerate() {
                if s.starts_with(kw) {
                    consider(Some(kw.len()), 40 + i as u8);
                }
            }
        }
        // 5: {LABEL}:
        if s.first().is_some_and(|&b| is_label_start(b)) {
            let mut i = 1;
            while s.get(i).is_some_and(|&b| is_label_char(b)) {
                i += 1;
            }
            if s.get(i) == Some(&b':') {
                consider(Some(i + 1), 5);
            }
        }
        // 6: integer literal (V1 only)
        if state == State::V1 {
            consider(literal_len(s), 6);
        }
        // 7: character literal
        if first == b'\'' {
            consider(char_literal_len(s), 7);
        }
        // 8: &{LABEL}
        if s.first() == Some(&b'&') && s.get(1).is_some_and(|&b| is_label_start(b)) {
            let mut i = 2;
            while s.get(i).is_some_and(|&b| is_label_char(b)) {
                i += 1;
            }
            consider(Some(i), 8);
        }
        // 9: "&{/"{PATHCHAR}*\}
        if s.starts_with(b"&{/") {
            let mut i = 3;
            while s.get(i).is_some_and(|&b| is_propnode_char(b) || b == b'/') {
                i += 1;
            }
            if s.get(i) == Some(&b'}') {
                consider(Some(i + 1), 9);
            }
        }
        if state == State::ByteString {
            // 10: two hex digits; 11: ]
            if s.len() >= 2 && s[0].is_ascii_hexdigit() && s[1].is_ascii_hexdigit() {
                consider(Some(2), 10);
            }
            if s.first() == Some(&b']') {
                consider(Some(1), 11);
            }
        }
        // 12: \\?{PROPNODECHAR}+ (PROPNODENAME only)
        if state == State::PropNodeName {
            let st = usize::from(s.first() == Some(&b'\\'));
            let mut i = st;
            while s.get(i).is_some_and(|&b| is_propnode_char(b)) {
                i += 1;
            }
            if i > st {
                consider(Some(i), 12);
            }
        }
        // 13: /incbin/ (INITIAL and V1: the rule has no start condition)
        if matches!(state, State::Initial | State::V1) && s.starts_with(b"/incbin/") {
            consider(Some(8), 13);
        }
        // 14: whitespace, comments
        if s.first().is_some_and(|&b| is_space(b)) {
            let mut i = 1;
            while s.get(i).is_some_and(|&b| is_space(b)) {
                i += 1;
            }
            consider(Some(i), 14);
        }
        if first == b'/' {
            consider(comment_len(s), 15);
            consider(line_comment_len(s), 16);
        }
        // 17: two-character operators
        if b"<>=!&|".contains(&first) {
            for (op, _) in OPERATORS {
                if s.starts_with(op) {
                    consider(Some(2), 17);
                }
            }
        }
        // 18: any other single character
        consider(Some(1), 18);

        let Some((len, rule)) = best else {
            return Ok(Rule::Skip(1));
        };
        let text = &s[..len];
        let err = |k| CompileError::new(SourcePos::default(), k);
        let tok = match rule {
            1 => {
                let q = text.iter().position(|&b| b == b'"').unwrap_or(0);
                let name = String::from_utf8_lossy(&text[q + 1..len - 1]).into_owned();
                return Ok(Rule::Include(len, name));
            }
            2 => return Ok(Rule::LineMarker(len)),
            3 => Tok::Str({
                let mut v = unescape(&text[1..len - 1]).map_err(err)?;
                v.push(0);
                v
            }),
            40..=46 => KEYWORDS[usize::from(rule - 40)].1.clone(),
            5 => Tok::Label(String::from_utf8_lossy(&text[..len - 1]).into_owned()),
            6 => Tok::Literal(literal_value(text).map_err(err)?),
            7 => {
                let d = unescape(&text[1..len - 1]).map_err(err)?;
                match d.len() {
                    0 => return Err(err(ErrorKind::EmptyCharLiteral)),
                    1 => Tok::CharLiteral(u64::from(d[0])),
                    n => return Err(err(ErrorKind::LongCharLiteral(n))),
                }
            }
            8 => Tok::LabelRef(String::from_utf8_lossy(&text[1..]).into_owned()),
            9 => Tok::PathRef(String::from_utf8_lossy(&text[2..len - 1]).into_owned()),
            10 => Tok::Byte(hex_val(text[0]) * 16 + hex_val(text[1])),
            11 => Tok::Punct(b']'),
            12 => {
                let t = text.strip_prefix(b"\\").unwrap_or(text);
                Tok::Name(Name::from(&*String::from_utf8_lossy(t)))
            }
            13 => Tok::Incbin,
            14..=16 => return Ok(Rule::Skip(len)),
            17 => OPERATORS
                .iter()
                .find(|(op, _)| text == *op)
                .map_or(Tok::Punct(text[0]), |(_, t)| t.clone()),
            _ => Tok::Punct(text[0]),
        };
        Ok(Rule::Token(len, tok))
    }
}

/// The common tokens, decided from their first byte where only one rule (or a
/// known pair of rules) can match: the same answer as the full longest-match search,
/// which handles everything else.
fn fast_path(s: &[u8], state: State, bol: bool) -> Option<Rule> {
    let first = *s.first()?;
    match first {
        b';' | b'{' | b'}' | b'(' | b')' | b',' => Some(Rule::Plain(1, Tok::Punct(first))),
        // Only the string rule (and the one-character rule, shorter) starts with '"'.
        b'"' => {
            let n = string_len(s)?;
            // An escape error goes through the full path, which reports it.
            let mut v = unescape(&s[1..n - 1]).ok()?;
            v.push(0);
            Some(Rule::Token(n, Tok::Str(v)))
        }
        b'=' | b'<' | b'>' => {
            // The two-character operators starting with these (OPERATORS).
            let two = match (first, s.get(1)) {
                (b'<', Some(b'<')) => Some(Tok::LShift),
                (b'>', Some(b'>')) => Some(Tok::RShift),
                (b'<', Some(b'=')) => Some(Tok::Le),
                (b'>', Some(b'=')) => Some(Tok::Ge),
                (b'=', Some(b'=')) => Some(Tok::EqEq),
                _ => None,
            };
            Some(match two {
                Some(t) => Rule::Plain(2, t),
                None => Rule::Plain(1, Tok::Punct(first)),
            })
        }
        b'0'..=b'9' if state == State::V1 => {
            if let Some(r) = plain_literal(s) {
                return Some(r);
            }
            let n = literal_len(s)?;
            let v = literal_value(&s[..n]);
            // An error goes through the full path, which reports it.
            v.ok().map(|v| Rule::Plain(n, Tok::Literal(v)))
        }
        _ if state == State::PropNodeName && is_propnode_char(first) && !(bol && first == b'#') => {
            let n = s
                .iter()
                .position(|&b| !is_propnode_char(b))
                .unwrap_or(s.len());
            // `{LABEL}:` is longer when the whole name is label characters.
            if s.get(n) == Some(&b':') && is_label_start(first) {
                let m = s.iter().position(|&b| !is_label_char(b)).unwrap_or(s.len());
                if m == n {
                    return None;
                }
            }
            // PROPNODECHAR is ASCII: no UTF-8 check needed.
            Some(Rule::Plain(n, Tok::Name(Name::from_ascii(&s[..n]))))
        }
        _ => None,
    }
}

/// The usual integer literals in one pass: `0x` and hex digits, or decimal digits
/// without a leading zero (or a lone `0`), not followed by a `U`/`L` suffix and not
/// overflowing. `None` leaves the literal to [`literal_len`] and [`literal_value`],
/// which decide everything else (octal, suffixes, errors) as dtc does.
fn plain_literal(s: &[u8]) -> Option<Rule> {
    let mut v: u64 = 0;
    let mut i;
    if s.len() > 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        i = 2;
        while let Some(&b) = s.get(i) {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => break,
            };
            v = v.checked_mul(16)?.checked_add(u64::from(d))?;
            i += 1;
        }
        if i == 2 {
            return None;
        }
    } else {
        i = 0;
        while let Some(&b) = s.get(i) {
            if !b.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            i += 1;
        }
        if i == 0 || (i > 1 && s[0] == b'0') {
            return None;
        }
    }
    if matches!(s.get(i), Some(b'U' | b'L')) {
        return None;
    }
    Some(Rule::Plain(i, Tok::Literal(v)))
}

const OPERATORS: [(&[u8], Tok); 8] = [
    (b"<<", Tok::LShift),
    (b">>", Tok::RShift),
    (b"<=", Tok::Le),
    (b">=", Tok::Ge),
    (b"==", Tok::EqEq),
    (b"!=", Tok::Ne),
    (b"&&", Tok::AndAnd),
    (b"||", Tok::OrOr),
];

fn eof() -> ErrorKind {
    ErrorKind::Syntax {
        found: "end of input".into(),
        expected: "more input",
    }
}

/// dtc's `get_dirname`: everything before the last `/`, or nothing.
fn dirname(path: &str) -> Option<String> {
    path.rfind('/').map(|i| path[..i].into())
}

/// dtc's `try_open` name: as given when absolute or without a directory, else joined.
fn try_name(dir: Option<&str>, name: &str) -> String {
    match dir {
        Some(d) if !name.starts_with('/') => {
            let mut s = String::from(d);
            if !d.ends_with('/') {
                s.push('/');
            }
            s.push_str(name);
            s
        }
        _ => name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::compile::NoFiles;

    fn toks(src: &str) -> Vec<Tok> {
        let mut files = NoFiles;
        let mut lx = Lexer::new(src.as_bytes(), "t.dts", &mut files, &[]);
        let mut out = Vec::new();
        loop {
            let (t, _) = lx.next_token().unwrap();
            if t == Tok::Eof {
                break;
            }
            out.push(t);
        }
        out
    }

    #[test]
    fn states_decide_names_bytes_and_literals() {
        let t = toks("/dts-v1/; / { a1: cpu@0 { reg = <0x10 010 'a'>; b = [ab cd01]; }; };");
        assert_eq!(t[0], Tok::V1);
        assert!(t.contains(&Tok::Label("a1".into())));
        assert!(t.contains(&Tok::Name("cpu@0".into())));
        assert!(t.contains(&Tok::Literal(0x10)));
        assert!(t.contains(&Tok::Literal(8)));
        assert!(t.contains(&Tok::CharLiteral(97)));
        assert!(t.contains(&Tok::Byte(0xcd)));
        assert!(t.contains(&Tok::Byte(0x01)));
    }

    #[test]
    fn escapes_follow_dtc() {
        assert_eq!(
            &unescape(br"a\tb\101\x41\777\q").unwrap()[..],
            b"a\tbAA\xffq"
        );
        assert_eq!(unescape(br"\x").unwrap_err(), ErrorKind::BadHexEscape);
        assert_eq!(char_literal_len(b"'\\''x"), Some(4));
        assert_eq!(char_literal_len(b"'a' 'b'"), Some(3));
    }

    #[test]
    fn plain_literals_agree_with_the_general_path() {
        for t in [
            "0",
            "7",
            "10",
            "0x0",
            "0xff",
            "0XAbC",
            "18446744073709551615",
            "18446744073709551616",
            "0xffffffffffffffff",
            "0x10000000000000000",
            "010",
            "09",
            "0x",
            "0xg",
            "12U",
            "0x1UL",
            "5;",
            "0x1f>",
            "00",
        ] {
            let s = t.as_bytes();
            if let Some(Rule::Plain(n, Tok::Literal(v))) = plain_literal(s) {
                assert_eq!(Some(n), literal_len(s), "{t}");
                assert_eq!(literal_value(&s[..n]), Ok(v), "{t}");
            }
        }
        assert!(plain_literal(b"0x1f>").is_some());
        assert!(plain_literal(b"010").is_none());
        assert!(plain_literal(b"18446744073709551616").is_none());
    }

    #[test]
    fn literals_use_strtoull_rules() {
        assert_eq!(literal_value(b"0x1fULL").unwrap(), 0x1f);
        assert_eq!(literal_value(b"017").unwrap(), 15);
        assert!(matches!(
            literal_value(b"08"),
            Err(ErrorKind::BadLiteral(_))
        ));
        assert!(matches!(
            literal_value(b"99999999999999999999"),
            Err(ErrorKind::LiteralOutOfRange(_))
        ));
    }

    #[test]
    fn line_markers_rename_and_renumber() {
        let mut files = NoFiles;
        let src = "/dts-v1/;\n# 40 \"board.dts\"\n/ { };";
        let mut lx = Lexer::new(src.as_bytes(), "t.pp", &mut files, &[]);
        let _ = lx.next_token().unwrap();
        let _ = lx.next_token().unwrap();
        let (t, p) = lx.next_token().unwrap();
        assert_eq!(t, Tok::Punct(b'/'));
        assert_eq!(lx.source_pos(p), SourcePos::new("board.dts", 40, 1));
    }
}
