//! The grammar of `dgibson/dtc: dtc-parser.y` (1.6.1) as a recursive-descent parser
//! that builds the live tree while it reads, the way dtc's actions do: top-level
//! `/ { … };` blocks and `&ref { … };` extensions merge into the tree at once, so a
//! later `&label` sees only what came before it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{CompileError, ErrorKind};
use super::lexer::{Lexer, Pos, Tok};
use super::tree::{Bytes, Data, Label, List, MarkerKind, Name, NodeId, Prop, Tree};
use crate::endian::be;

/// Deepest node nesting accepted (dtc's bison stack gives out somewhere in the
/// thousands; a cap keeps recursion and memory bounded by the input).
pub(crate) const MAX_NODE_DEPTH: usize = 512;
/// Deepest parenthesis / unary-operator nesting in an expression.
const MAX_EXPR_DEPTH: usize = 256;

/// What the parser hands on: the tree, the reservations and the header flags.
pub(crate) struct Parsed {
    pub tree: Tree,
    pub reserves: Vec<(u64, u64)>,
    pub plugin: bool,
    /// dtc's `guess_boot_cpuid` on the parsed tree.
    pub boot_cpuid: u32,
}

pub(crate) struct Parser<'a> {
    lx: Lexer<'a>,
    tok: Tok,
    pos: Pos,
    tree: Tree,
    plugin: bool,
    next_fragment: u32,
}

type R<T> = Result<T, CompileError>;

impl<'a> Parser<'a> {
    /// A parser for a source of `len` bytes (a hint for the node arena: real trees
    /// take about 90 bytes of DTS per node, so the arena rarely grows;
    /// capped so a huge source reserves no more than a few MB up front).
    pub(crate) fn new(lx: Lexer<'a>, len: usize) -> Self {
        let mut tree = Tree::default();
        tree.nodes.reserve((len / 80).min(1 << 17));
        Parser {
            lx,
            tok: Tok::Eof,
            pos: Pos::default(),
            tree,
            plugin: false,
            next_fragment: 0,
        }
    }

    fn bump(&mut self) -> R<()> {
        let (t, p) = self.lx.next_token()?;
        self.tok = t;
        self.pos = p;
        Ok(())
    }

    fn err<T>(&self, kind: ErrorKind) -> R<T> {
        Err(self.lx.error(self.pos, kind))
    }

    fn unexpected<T>(&self, expected: &'static str) -> R<T> {
        self.err(ErrorKind::Syntax {
            found: self.tok.describe(),
            expected,
        })
    }

    fn expect_punct(&mut self, c: u8, expected: &'static str) -> R<()> {
        if matches!(self.tok, Tok::Punct(t) if t == c) {
            self.bump()
        } else {
            self.unexpected(expected)
        }
    }

    /// `sourcefile: headers memreserves devicetree`.
    pub(crate) fn parse(mut self) -> R<(Parsed, Lexer<'a>)> {
        self.bump()?;
        // headers
        if self.tok != Tok::V1 {
            return self.err(ErrorKind::MissingVersion);
        }
        let mut flags: Option<bool> = None;
        while self.tok == Tok::V1 {
            let at = self.pos;
            self.bump()?;
            self.expect_punct(b';', "';' after /dts-v1/")?;
            let mut plugin = false;
            if self.tok == Tok::Plugin {
                self.bump()?;
                self.expect_punct(b';', "';' after /plugin/")?;
                plugin = true;
            }
            match flags {
                None => flags = Some(plugin),
                Some(f) if f != plugin => {
                    return Err(self.lx.error(at, ErrorKind::HeaderMismatch));
                }
                Some(_) => {}
            }
        }
        self.plugin = flags.unwrap_or(false);
        // memreserves
        let mut reserves = Vec::new();
        loop {
            let mut labelled = false;
            // Before the first node, a label can only belong to a reservation.
            while matches!(self.tok, Tok::Label(_)) {
                labelled = true;
                self.bump()?;
            }
            if self.tok != Tok::Memreserve {
                if labelled {
                    return self.unexpected("/memreserve/ after a label");
                }
                break;
            }
            self.bump()?;
            let addr = self.integer_prim(0)?;
            let size = self.integer_prim(0)?;
            self.expect_punct(b';', "';' after /memreserve/ address and size")?;
            reserves.push((addr, size));
        }
        self.devicetree()?;
        self.tree.nodes.shrink_to_fit();
        let boot_cpuid = guess_boot_cpuid(&self.tree);
        let parsed = Parsed {
            tree: self.tree,
            reserves,
            plugin: self.plugin,
            boot_cpuid,
        };
        Ok((parsed, self.lx))
    }

    /// `devicetree` with all its alternatives.
    fn devicetree(&mut self) -> R<()> {
        // First item: '/' nodedef, or (plugins) dt_ref nodedef.
        match self.tok.clone() {
            Tok::Punct(b'/') => {
                let at = self.pos;
                self.bump()?;
                let root = self.nodedef(String::new(), at, 1)?;
                self.tree.root = root;
            }
            Tok::LabelRef(r) | Tok::PathRef(r) => {
                let at = self.pos;
                self.bump()?;
                let root = self.tree.new_node(Name::default(), at);
                self.tree.root = root;
                let node = self.nodedef(String::new(), at, 1)?;
                if !self.plugin {
                    return Err(self.lx.error(at, ErrorKind::RefNotFound(r)));
                }
                self.add_orphan(node, &r, at);
            }
            _ => return self.unexpected("'/' (the root node)"),
        }
        loop {
            match self.tok.clone() {
                Tok::Eof => return Ok(()),
                Tok::Punct(b'/') => {
                    let at = self.pos;
                    self.bump()?;
                    let n = self.nodedef(String::new(), at, 1)?;
                    let root = self.tree.root;
                    self.tree.merge(root, n);
                }
                Tok::Label(l) => {
                    let at = self.pos;
                    self.bump()?;
                    let r = self.dt_ref("a reference after a label")?;
                    let rat = self.pos;
                    let n = self.nodedef(String::new(), rat, 1)?;
                    match self.tree.by_ref(&r) {
                        Some(t) => {
                            self.tree.label_node(t, &l);
                            self.tree.merge(t, n);
                        }
                        None => return Err(self.lx.error(at, ErrorKind::RefNotFound(r))),
                    }
                }
                Tok::PathRef(r) => {
                    let at = self.pos;
                    self.bump()?;
                    let n = self.nodedef(String::new(), at, 1)?;
                    if self.plugin {
                        self.add_orphan(n, &r, at);
                    } else {
                        match self.tree.by_ref(&r) {
                            Some(t) => self.tree.merge(t, n),
                            None => return Err(self.lx.error(at, ErrorKind::RefNotFound(r))),
                        }
                    }
                }
                Tok::LabelRef(r) => {
                    let at = self.pos;
                    self.bump()?;
                    let n = self.nodedef(String::new(), at, 1)?;
                    match self.tree.by_ref(&r) {
                        Some(t) => self.tree.merge(t, n),
                        None if self.plugin => self.add_orphan(n, &r, at),
                        None => return Err(self.lx.error(at, ErrorKind::RefNotFound(r))),
                    }
                }
                Tok::DelNode | Tok::OmitNoRef => {
                    let delete = self.tok == Tok::DelNode;
                    self.bump()?;
                    let at = self.pos;
                    let r = self.dt_ref("a reference")?;
                    self.expect_punct(b';', "';'")?;
                    match self.tree.by_ref(&r) {
                        Some(t) if delete => self.tree.delete_node(t),
                        Some(t) => {
                            self.tree.any_omit = true;
                            self.tree.nodes[t].omit_if_unused = true;
                        }
                        None => return Err(self.lx.error(at, ErrorKind::RefNotFound(r))),
                    }
                }
                _ => return self.unexpected("a node, a reference or end of input"),
            }
        }
    }

    fn dt_ref(&mut self, expected: &'static str) -> R<String> {
        match self.tok.clone() {
            Tok::LabelRef(r) | Tok::PathRef(r) => {
                self.bump()?;
                Ok(r)
            }
            _ => self.unexpected(expected),
        }
    }

    /// dtc's `add_orphan_node`: `fragment@N { target = <&ref>; __overlay__ { … }; }`
    /// (or `target-path = "/…"`) appended to the root.
    fn add_orphan(&mut self, overlay: NodeId, r: &str, at: Pos) {
        let mut d = Data::default();
        let name = if r.starts_with('/') {
            d.bytes.extend_from_slice(r.as_bytes());
            d.bytes.push(0);
            "target-path"
        } else {
            d.mark(MarkerKind::Phandle, r.into());
            d.bytes.extend_from_slice(&[0xff; 4]);
            "target"
        };
        let frag = self
            .tree
            .new_node(format!("fragment@{}", self.next_fragment).into(), at);
        self.next_fragment = self.next_fragment.wrapping_add(1);
        let name = self.tree.intern(name);
        self.tree.nodes[frag].props.push(Prop {
            name,
            data: d,
            labels: List::new(),
            deleted: false,
            pos: at,
        });
        self.tree.nodes[overlay].name = "__overlay__".into();
        self.tree.add_child(frag, overlay);
        let root = self.tree.root;
        self.tree.add_child(root, frag);
    }

    /// `nodedef: '{' proplist subnodes '}' ';'`, built as a detached node named `name`.
    /// Nested nodes are kept on an explicit stack, so depth costs heap, not call stack.
    fn nodedef(&mut self, name: String, at: Pos, depth: usize) -> R<NodeId> {
        struct Open {
            id: NodeId,
            seen_subnode: bool,
            labels: Vec<String>,
            omit: bool,
        }
        self.expect_punct(b'{', "'{'")?;
        // The properties of the innermost open node. The grammar puts every property
        // before the first subnode, so they are gathered here and handed to the node
        // in one allocation of the exact size when its first subnode opens or it
        // closes (instead of growing, then shrinking, each node's list).
        let mut props: Vec<Prop> = Vec::new();
        let top = self.tree.new_node(name.into(), at);
        let mut stack = alloc::vec![Open {
            id: top,
            seen_subnode: false,
            labels: Vec::new(),
            omit: false,
        }];
        loop {
            let Some(cur) = stack.last() else {
                return Ok(top);
            };
            let (id, seen_subnode) = (cur.id, cur.seen_subnode);
            // Prefix: labels, and /omit-if-no-ref/ (subnodes only).
            let mut labels: Vec<String> = Vec::new();
            let mut omit = false;
            loop {
                match &self.tok {
                    Tok::Label(l) => {
                        labels.push(l.clone());
                        self.bump()?;
                    }
                    Tok::OmitNoRef => {
                        omit = true;
                        self.bump()?;
                    }
                    _ => break,
                }
            }
            let item_at = self.pos;
            // Names move out of the token instead of being copied; anything else this
            // loop does not take stays in `self.tok` for the error message.
            let tok = match &self.tok {
                Tok::Name(_) => core::mem::take(&mut self.tok),
                Tok::Punct(c) => Tok::Punct(*c),
                Tok::DelProp => Tok::DelProp,
                Tok::DelNode => Tok::DelNode,
                _ => Tok::Eof,
            };
            match tok {
                Tok::Punct(b'}') if labels.is_empty() && !omit => {
                    self.bump()?;
                    self.expect_punct(b';', "';' after '}'")?;
                    let Some(done) = stack.pop() else {
                        return Ok(top);
                    };
                    self.take_props(done.id, &mut props);
                    let Some(parent) = stack.last_mut() else {
                        return Ok(done.id);
                    };
                    // Innermost label first: `a: b: n` adds b, then a.
                    for l in done.labels.iter().rev() {
                        self.tree.label_node(done.id, l);
                    }
                    if done.omit {
                        self.tree.any_omit = true;
                        self.tree.nodes[done.id].omit_if_unused = true;
                    }
                    parent.seen_subnode = true;
                    let pid = parent.id;
                    self.tree.add_child(pid, done.id);
                }
                Tok::DelProp if !omit => {
                    if seen_subnode {
                        return self.err(ErrorKind::PropertyAfterSubnode);
                    }
                    self.bump()?;
                    let Tok::Name(n) = self.tok.clone() else {
                        return self.unexpected("a property name");
                    };
                    self.bump()?;
                    self.expect_punct(b';', "';'")?;
                    self.tree.any_labels |= !labels.is_empty();
                    let name = self.tree.intern_name(&n);
                    props.push(Prop {
                        name,
                        data: Data::default(),
                        labels: to_labels(labels),
                        deleted: true,
                        pos: item_at,
                    });
                }
                Tok::DelNode => {
                    self.bump()?;
                    let Tok::Name(n) = self.tok.clone() else {
                        return self.unexpected("a node name");
                    };
                    self.bump()?;
                    self.expect_punct(b';', "';'")?;
                    let c = self.tree.new_node(n, item_at);
                    self.tree.nodes[c].deleted = true;
                    for l in labels.iter().rev() {
                        self.tree.label_node(c, l);
                    }
                    self.tree.nodes[c].omit_if_unused = omit;
                    self.tree.add_child(id, c);
                    if let Some(cur) = stack.last_mut() {
                        cur.seen_subnode = true;
                    }
                }
                Tok::Name(n) => {
                    self.bump()?;
                    match self.tok {
                        Tok::Punct(b'{') => {
                            if depth + stack.len() > MAX_NODE_DEPTH {
                                return self.err(ErrorKind::TooDeep(MAX_NODE_DEPTH));
                            }
                            self.bump()?;
                            self.take_props(id, &mut props);
                            let c = self.tree.new_node(n, item_at);
                            stack.push(Open {
                                id: c,
                                seen_subnode: false,
                                labels,
                                omit,
                            });
                        }
                        Tok::Punct(b'=' | b';') if !omit => {
                            if seen_subnode {
                                return Err(self
                                    .lx
                                    .error(item_at, ErrorKind::PropertyAfterSubnode));
                            }
                            let data = if matches!(self.tok, Tok::Punct(b'=')) {
                                self.bump()?;
                                self.propdata()?
                            } else {
                                Data::default()
                            };
                            self.expect_punct(b';', "';' after the property value")?;
                            if !labels.is_empty()
                                || data.markers.iter().any(|m| m.kind == MarkerKind::Label)
                            {
                                self.tree.any_labels = true;
                            }
                            let name = self.tree.intern_name(&n);
                            props.push(Prop {
                                name,
                                data,
                                labels: to_labels(labels),
                                deleted: false,
                                pos: item_at,
                            });
                        }
                        _ => return self.unexpected("'=', ';' or '{' after a name"),
                    }
                }
                _ => return self.unexpected("a property, a node or '}'"),
            }
        }
    }

    /// Moves the gathered properties of `id` into it: a list of the exact size, as
    /// growth slack in property lists would be a third of the tree's memory on large
    /// sources.
    fn take_props(&mut self, id: NodeId, props: &mut Vec<Prop>) {
        if props.is_empty() {
            return;
        }
        let list = &mut self.tree.nodes[id].props;
        if list.is_empty() {
            // The gathering list keeps its capacity for the next node.
            *list = List::with_capacity(props.len());
        }
        list.extend(props.drain(..));
    }

    /// `propdata`: comma-separated pieces, labels allowed around each.
    fn propdata(&mut self) -> R<Data> {
        let mut d = Data::default();
        loop {
            self.value_labels(&mut d)?;
            // Strings and references move out of the token; anything else this loop
            // does not take stays in `self.tok` for the error message.
            let tok = match &self.tok {
                Tok::Str(_) | Tok::LabelRef(_) | Tok::PathRef(_) => core::mem::take(&mut self.tok),
                Tok::Punct(c) => Tok::Punct(*c),
                Tok::Bits => Tok::Bits,
                Tok::Incbin => Tok::Incbin,
                _ => Tok::Eof,
            };
            match tok {
                Tok::Str(s) => {
                    if d.bytes.is_empty() {
                        d.bytes = s;
                    } else {
                        d.bytes.extend_from_slice(&s);
                    }
                    self.bump()?;
                }
                Tok::Punct(b'<') => {
                    self.bump()?;
                    self.array(&mut d, 32)?;
                }
                Tok::Bits => {
                    self.bump()?;
                    let Tok::Literal(bits) = self.tok else {
                        return self.unexpected("a number after /bits/");
                    };
                    if !matches!(bits, 8 | 16 | 32 | 64) {
                        return self.err(ErrorKind::BadBits(bits));
                    }
                    self.bump()?;
                    self.expect_punct(b'<', "'<' after /bits/ N")?;
                    self.array(&mut d, bits as u32)?;
                }
                Tok::Punct(b'[') => {
                    self.bump()?;
                    loop {
                        match self.tok.clone() {
                            Tok::Byte(b) => {
                                d.bytes.push(b);
                                self.bump()?;
                            }
                            Tok::Label(l) => {
                                d.mark(MarkerKind::Label, l);
                                self.bump()?;
                            }
                            Tok::Punct(b']') => {
                                self.bump()?;
                                break;
                            }
                            _ => return self.unexpected("hex bytes or ']'"),
                        }
                    }
                }
                Tok::LabelRef(r) | Tok::PathRef(r) => {
                    d.mark(MarkerKind::Path, r);
                    self.bump()?;
                }
                Tok::Incbin => {
                    self.bump()?;
                    self.incbin(&mut d)?;
                }
                _ => return self.unexpected("a property value"),
            }
            self.value_labels(&mut d)?;
            if matches!(self.tok, Tok::Punct(b',')) {
                self.bump()?;
            } else {
                return Ok(d);
            }
        }
    }

    #[inline]
    fn value_labels(&mut self, d: &mut Data) -> R<()> {
        while let Tok::Label(l) = &self.tok {
            d.mark(MarkerKind::Label, l.clone());
            self.bump()?;
        }
        Ok(())
    }

    /// `/incbin/("file"[, offset, length])`: the file read relative to the current
    /// source, then the search directories; a short file gives what it has (dtc's
    /// `data_copy_file` stops at end of file).
    fn incbin(&mut self, d: &mut Data) -> R<()> {
        self.expect_punct(b'(', "'(' after /incbin/")?;
        let at = self.pos;
        let Tok::Str(name) = self.tok.clone() else {
            return self.unexpected("a file name");
        };
        self.bump()?;
        // The name is a C string: up to its first NUL.
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let name = String::from_utf8_lossy(&name[..end]).into_owned();
        let (mut off, mut len) = (0u64, u64::MAX);
        if matches!(self.tok, Tok::Punct(b',')) {
            self.bump()?;
            off = self.integer_prim(0)?;
            self.expect_punct(b',', "',' before the length")?;
            len = self.integer_prim(0)?;
        }
        if !matches!(self.tok, Tok::Punct(b')')) {
            return self.unexpected("')'");
        }
        // Read before the next token: dtc's action runs while the scanner is still in
        // the file that names the blob, so the search starts from that file's directory.
        let (_, data) = self.lx.open_relative(&name, at)?;
        self.bump()?;
        let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
        let n = usize::try_from(len).unwrap_or(usize::MAX);
        let stop = start.saturating_add(n).min(data.len());
        d.bytes.extend_from_slice(&data[start..stop]);
        Ok(())
    }

    /// The inside of `<…>` (after `<`), elements of `bits` bits.
    fn array(&mut self, d: &mut Data, bits: u32) -> R<()> {
        d.bytes.reserve(16);
        loop {
            // Numbers are matched in place; only label tokens are moved out.
            let tok = match &self.tok {
                Tok::Punct(b'>') => {
                    self.bump()?;
                    return Ok(());
                }
                Tok::Label(_) | Tok::LabelRef(_) | Tok::PathRef(_) => {
                    core::mem::take(&mut self.tok)
                }
                _ => Tok::Eof,
            };
            match tok {
                Tok::Label(l) => {
                    d.mark(MarkerKind::Label, l);
                    self.bump()?;
                }
                Tok::LabelRef(r) | Tok::PathRef(r) => {
                    if bits != 32 {
                        return self.err(ErrorKind::NarrowReference);
                    }
                    d.mark(MarkerKind::Phandle, r);
                    d.bytes.extend_from_slice(&[0xff; 4]);
                    self.bump()?;
                }
                _ => {
                    let at = self.pos;
                    let v = self.integer_prim(0)?;
                    if bits < 64 {
                        let mask = (1u64 << bits) - 1;
                        if v > mask && (v | mask) != u64::MAX {
                            return Err(self.lx.error(at, ErrorKind::ValueOutOfRange(bits)));
                        }
                    }
                    push_int(&mut d.bytes, v, bits);
                }
            }
        }
    }

    /// `integer_prim: DT_LITERAL | DT_CHAR_LITERAL | '(' integer_expr ')'`.
    fn integer_prim(&mut self, depth: usize) -> R<u64> {
        match self.tok {
            Tok::Literal(v) | Tok::CharLiteral(v) => {
                self.bump()?;
                Ok(v)
            }
            Tok::Punct(b'(') => {
                if depth >= MAX_EXPR_DEPTH {
                    return self.err(ErrorKind::TooDeep(MAX_EXPR_DEPTH));
                }
                self.bump()?;
                let v = self.expr(depth + 1)?;
                self.expect_punct(b')', "')'")?;
                Ok(v)
            }
            _ => self.unexpected("a number, a character or '('"),
        }
    }

    /// `integer_trinary`.
    fn expr(&mut self, depth: usize) -> R<u64> {
        let c = self.binary(0, depth)?;
        if matches!(self.tok, Tok::Punct(b'?')) {
            if depth >= MAX_EXPR_DEPTH {
                return self.err(ErrorKind::TooDeep(MAX_EXPR_DEPTH));
            }
            self.bump()?;
            let a = self.expr(depth + 1)?;
            self.expect_punct(b':', "':' of the conditional")?;
            let b = self.expr(depth + 1)?;
            Ok(if c != 0 { a } else { b })
        } else {
            Ok(c)
        }
    }

    /// The left-associative binary levels by precedence climbing: `level` is the
    /// loosest level still allowed (0 = `||` … 9 = `*`), so each parenthesis costs a
    /// few frames whatever the number of levels.
    fn binary(&mut self, level: usize, depth: usize) -> R<u64> {
        let mut lhs = self.unary(depth)?;
        loop {
            let Some((l, op)) =
                LEVELS.iter().enumerate().skip(level).find_map(|(l, ops)| {
                    ops.iter().find(|o| o.matches(&self.tok)).map(|o| (l, *o))
                })
            else {
                return Ok(lhs);
            };
            let at = self.pos;
            self.bump()?;
            let rhs = self.binary(l + 1, depth)?;
            lhs = match op.apply(lhs, rhs) {
                Some(v) => v,
                None => return Err(self.lx.error(at, ErrorKind::DivisionByZero)),
            };
        }
    }

    fn unary(&mut self, depth: usize) -> R<u64> {
        let op = match self.tok {
            Tok::Punct(c @ (b'-' | b'~' | b'!')) => c,
            _ => return self.integer_prim(depth),
        };
        if depth >= MAX_EXPR_DEPTH {
            return self.err(ErrorKind::TooDeep(MAX_EXPR_DEPTH));
        }
        self.bump()?;
        let v = self.unary(depth + 1)?;
        Ok(match op {
            b'-' => v.wrapping_neg(),
            b'~' => !v,
            _ => u64::from(v == 0),
        })
    }
}

fn to_labels(names: Vec<String>) -> List<Label> {
    if names.is_empty() {
        return List::new();
    }
    // `a: b: prop` adds b first, then a in front of it: list order a, b.
    let mut out: List<Label> = List::new();
    for n in names.iter().rev() {
        super::tree::add_label(&mut out, n);
    }
    out
}

/// `data_append_integer`: big-endian, `bits` wide.
fn push_int(out: &mut Bytes, v: u64, bits: u32) {
    match bits {
        8 => out.push(v as u8),
        16 => out.extend_from_slice(&crate::Endian::Big.u64_to(v)[6..]),
        32 => out.extend_from_slice(&crate::Endian::Big.u32_to(v as u32)),
        _ => out.extend_from_slice(&crate::Endian::Big.u64_to(v)),
    }
}

/// Binary operators with their C semantics on `uint64_t`, as `dtc-parser.y` computes
/// them (shifts by 64 or more give 0).
#[derive(Debug, Clone, Copy)]
enum Op {
    OrOr,
    AndAnd,
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

const LEVELS: [&[Op]; 10] = [
    &[Op::OrOr],
    &[Op::AndAnd],
    &[Op::Or],
    &[Op::Xor],
    &[Op::And],
    &[Op::Eq, Op::Ne],
    &[Op::Lt, Op::Gt, Op::Le, Op::Ge],
    &[Op::Shl, Op::Shr],
    &[Op::Add, Op::Sub],
    &[Op::Mul, Op::Div, Op::Mod],
];

impl Op {
    fn matches(self, t: &Tok) -> bool {
        matches!(
            (self, t),
            (Op::OrOr, Tok::OrOr)
                | (Op::AndAnd, Tok::AndAnd)
                | (Op::Or, Tok::Punct(b'|'))
                | (Op::Xor, Tok::Punct(b'^'))
                | (Op::And, Tok::Punct(b'&'))
                | (Op::Eq, Tok::EqEq)
                | (Op::Ne, Tok::Ne)
                | (Op::Lt, Tok::Punct(b'<'))
                | (Op::Gt, Tok::Punct(b'>'))
                | (Op::Le, Tok::Le)
                | (Op::Ge, Tok::Ge)
                | (Op::Shl, Tok::LShift)
                | (Op::Shr, Tok::RShift)
                | (Op::Add, Tok::Punct(b'+'))
                | (Op::Sub, Tok::Punct(b'-'))
                | (Op::Mul, Tok::Punct(b'*'))
                | (Op::Div, Tok::Punct(b'/'))
                | (Op::Mod, Tok::Punct(b'%'))
        )
    }

    /// `None` for a division by zero.
    fn apply(self, a: u64, b: u64) -> Option<u64> {
        let t = |c: bool| u64::from(c);
        Some(match self {
            Op::OrOr => t(a != 0 || b != 0),
            Op::AndAnd => t(a != 0 && b != 0),
            Op::Or => a | b,
            Op::Xor => a ^ b,
            Op::And => a & b,
            Op::Eq => t(a == b),
            Op::Ne => t(a != b),
            Op::Lt => t(a < b),
            Op::Gt => t(a > b),
            Op::Le => t(a <= b),
            Op::Ge => t(a >= b),
            Op::Shl => {
                if b < 64 {
                    a << b
                } else {
                    0
                }
            }
            Op::Shr => {
                if b < 64 {
                    a >> b
                } else {
                    0
                }
            }
            Op::Add => a.wrapping_add(b),
            Op::Sub => a.wrapping_sub(b),
            Op::Mul => a.wrapping_mul(b),
            Op::Div => a.checked_div(b)?,
            Op::Mod => a.checked_rem(b)?,
        })
    }
}

/// dtc's `guess_boot_cpuid`: `reg` of the first child of `/cpus` (deleted or not, as
/// dtc reads `cpus->children`), when it is one cell; else 0.
fn guess_boot_cpuid(tree: &Tree) -> u32 {
    let Some(cpus) = tree.by_path(tree.root, "/cpus") else {
        return 0;
    };
    let Some(&first) = tree.nodes[cpus].children.first() else {
        return 0;
    };
    match tree.prop(first, "reg") {
        Some(p) if p.data.bytes.len() == 4 => be::u32_at(&p.data.bytes, 0).unwrap_or(0),
        _ => 0,
    }
}
