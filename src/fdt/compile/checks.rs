//! The part of dtc's checks that decides whether a tree compiles and what it contains
//! (`dgibson/dtc: checks.c`, the `ERROR(...)` entries at the head of `check_table`, in
//! its order): structure and name checks, `name` properties, duplicate labels,
//! explicit phandles, then the fixups that fill `<&ref>` cells with phandles (allocating
//! them as `get_node_phandle` in `livetree.c` does), insert `&ref` paths and drop
//! unreferenced `/omit-if-no-ref/` nodes. dtc's warning-only checks change nothing in
//! the blob and are not run.
//!
//! Every walk is the pre-order over live nodes dtc's `check_nodes_props` makes, and
//! each costs time linear in the tree (dtc's own `get_node_by_phandle` search per
//! allocation is replaced by an index of used phandles with the same answers).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{CompileError, ErrorKind};
use super::lexer::{Lexer, Pos};
use super::tree::{
    Data, LINUX_PHANDLE, List, MarkerKind, NAME, NameId, NodeId, PHANDLE, Prop, Tree,
};
use crate::endian::be;
use crate::fdt::name_index::NameIndex;
use crate::fdt::writer::PhandleStyle;

/// State shared by the fixups and the overlay generators.
pub(crate) struct Checker<'t, 'l, 'a> {
    pub tree: &'t mut Tree,
    lx: &'l Lexer<'a>,
    /// Every phandle held by a live node (explicit or allocated).
    phandles: BTreeMap<u32, NodeId>,
    /// dtc's static counter in `get_node_phandle`.
    next: u32,
    style: PhandleStyle,
    plugin: bool,
    symbols: bool,
    /// Property names whose characters passed `property_name_chars`, per name id.
    name_checked: Vec<bool>,
}

type R<T> = Result<T, CompileError>;

fn valid_phandle(p: u32) -> bool {
    p != 0 && p != u32::MAX
}

/// The first `(i, j)`, `i < j`, where `names[i] == names[j]` and entry `i` is live
/// (dtc's duplicate checks compare each live entry with every later one), through a
/// hashed index of each name's latest entry so wide nodes stay linear (short lists are
/// compared pairwise by the caller). `j` is the next entry of that name after `i`.
fn later_duplicate(names: &[&[u8]], live: &[bool]) -> Option<(usize, usize)> {
    let mut latest = NameIndex::default();
    let mut best: Option<(usize, usize)> = None;
    for (j, name) in names.iter().enumerate() {
        let Ok(v) = u32::try_from(j) else {
            break;
        };
        let is = |p: u32| names[p as usize] == *name;
        if let Some(p) = latest.replace(name, is, v) {
            let i = p as usize;
            if live[i] && best.is_none_or(|(bi, _)| i < bi) {
                best = Some((i, j));
            }
        }
    }
    best
}

/// Bits of [`NAME_CHARS`]: `NODECHARS` and `PROPCHARS` of `checks.c`.
const NODE_CHAR: u8 = 1;
const PROP_CHAR: u8 = 2;

static NAME_CHARS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        if alnum || matches!(c, b',' | b'.' | b'_' | b'+' | b'-' | b'@') {
            t[b] |= NODE_CHAR;
        }
        if alnum || matches!(c, b',' | b'.' | b'_' | b'+' | b'*' | b'#' | b'?' | b'-') {
            t[b] |= PROP_CHAR;
        }
        b += 1;
    }
    t
};

/// `NODECHARS` of `checks.c`.
fn node_char(b: u8) -> bool {
    NAME_CHARS[usize::from(b)] & NODE_CHAR != 0
}

/// `PROPCHARS` of `checks.c`.
fn prop_char(b: u8) -> bool {
    NAME_CHARS[usize::from(b)] & PROP_CHAR != 0
}

impl<'t, 'l, 'a> Checker<'t, 'l, 'a> {
    pub(crate) fn new(
        tree: &'t mut Tree,
        lx: &'l Lexer<'a>,
        style: PhandleStyle,
        plugin: bool,
        symbols: bool,
    ) -> Self {
        let name_checked = alloc::vec![false; tree.name_count()];
        Checker {
            name_checked,
            tree,
            lx,
            phandles: BTreeMap::new(),
            next: 1,
            style,
            plugin,
            symbols,
        }
    }

    fn err<T>(&self, pos: Pos, kind: ErrorKind) -> R<T> {
        Err(self.lx.error(pos, kind))
    }

    /// All of `process_checks` that matters for the output, in dtc's order.
    pub(crate) fn run(&mut self) -> R<()> {
        let order = self.tree.preorder();
        // dtc runs each check over the whole tree before the next; these are per node
        // and only fail, so one walk gives the same tree (the first error reported may
        // be another of the same source's errors).
        for id in &order {
            let one = core::slice::from_ref(id);
            self.structure(one)?;
            self.name_properties(one)?;
            self.explicit_phandles(one)?;
        }
        if self.tree.any_labels {
            self.duplicate_labels(&order)?;
        }
        // Allocation needs every explicit phandle first; then references in tree order.
        for id in &order {
            let one = core::slice::from_ref(id);
            self.phandle_references(one)?;
            self.path_references(one)?;
        }
        if self.tree.any_omit {
            self.omit_unused(&order);
        }
        Ok(())
    }

    /// `duplicate_node_names`, `duplicate_property_names`, `node_name_chars`,
    /// `node_name_format`, `property_name_chars`.
    fn structure(&mut self, order: &[NodeId]) -> R<()> {
        for &id in order {
            let node = &self.tree.nodes[id];
            // A live child followed by any sibling (even a deleted one) of its name.
            let kids = &node.children;
            let dup_kid = if kids.len() <= 16 {
                (0..kids.len()).find_map(|i| {
                    let a = &self.tree.nodes[kids[i]];
                    if a.deleted {
                        return None;
                    }
                    (i + 1..kids.len())
                        .find(|&j| self.tree.nodes[kids[j]].name == a.name)
                        .map(|j| (i, j))
                })
            } else {
                let names: Vec<&[u8]> = kids
                    .iter()
                    .map(|&c| self.tree.nodes[c].name.as_bytes())
                    .collect();
                let live: Vec<bool> = kids.iter().map(|&c| !self.tree.nodes[c].deleted).collect();
                later_duplicate(&names, &live)
            };
            if let Some((i, j)) = dup_kid {
                return self.err(
                    self.tree.nodes[kids[j]].pos,
                    ErrorKind::DuplicateNodeName(self.tree.path(kids[i])),
                );
            }
            let props = &node.props;
            let dup_prop = if props.len() <= 16 {
                (0..props.len()).find_map(|i| {
                    let a = &props[i];
                    if a.deleted {
                        return None;
                    }
                    (i + 1..props.len())
                        .find(|&j| !props[j].deleted && props[j].name == a.name)
                        .map(|j| (i, j))
                })
            } else {
                let live: Vec<usize> = (0..props.len()).filter(|&i| !props[i].deleted).collect();
                let names: Vec<&[u8]> = live
                    .iter()
                    .map(|&i| self.tree.name(props[i].name).as_bytes())
                    .collect();
                later_duplicate(&names, &alloc::vec![true; names.len()])
                    .map(|(i, j)| (live[i], live[j]))
            };
            if let Some((_, j)) = dup_prop {
                let p = &props[j];
                return self.err(
                    p.pos,
                    ErrorKind::DuplicatePropertyName {
                        node: self.tree.path(id),
                        name: String::from(self.tree.name(p.name)),
                    },
                );
            }
            if let Some(&b) = node.name.as_bytes().iter().find(|&&b| !node_char(b)) {
                return self.err(
                    node.pos,
                    ErrorKind::NodeNameChar {
                        path: self.tree.path(id),
                        ch: char::from(b),
                    },
                );
            }
            let name = node.name.as_bytes();
            if let Some(at) = name.iter().position(|&b| b == b'@')
                && name[at + 1..].contains(&b'@')
            {
                return self.err(node.pos, ErrorKind::NodeNameFormat(self.tree.path(id)));
            }
            for p in node.props.iter().filter(|p| !p.deleted) {
                // Each name is checked once; the first property with a bad one is named.
                let seen = self.name_checked.get(p.name.index()).copied();
                if seen == Some(true) {
                    continue;
                }
                let name = self.tree.name(p.name);
                if let Some(&b) = name.as_bytes().iter().find(|&&b| !prop_char(b)) {
                    return self.err(
                        p.pos,
                        ErrorKind::PropertyNameChar {
                            node: self.tree.path(id),
                            name: String::from(name),
                            ch: char::from(b),
                        },
                    );
                }
                if let Some(slot) = self.name_checked.get_mut(p.name.index()) {
                    *slot = true;
                }
            }
        }
        Ok(())
    }

    /// `name_is_string` and `name_properties`: a `name` property equal to the base
    /// name is redundant and removed; any other value is an error.
    fn name_properties(&mut self, order: &[NodeId]) -> R<()> {
        for &id in order {
            if let Some(p) = self.tree.prop_id(id, NAME) {
                let v = &p.data.bytes;
                if v.iter().position(|&b| b == 0) != Some(v.len().wrapping_sub(1)) {
                    return self.err(p.pos, ErrorKind::NameNotString(self.tree.path(id)));
                }
            }
            let node = &self.tree.nodes[id];
            // dtc looks at the first `name` in the list, deleted or not.
            let Some(i) = node.props.iter().position(|p| p.name == NAME) else {
                continue;
            };
            let base = node.name.split('@').next().unwrap_or("");
            let v = &node.props[i].data.bytes;
            if v.len() != base.len() + 1 || &v[..base.len()] != base.as_bytes() {
                return self.err(node.pos, ErrorKind::NameMismatch(self.tree.path(id)));
            }
            self.tree.nodes[id].props.remove(i);
        }
        Ok(())
    }

    /// `duplicate_label`: one label in one place only (nodes, properties, values).
    ///
    /// dtc finds the "other" place by nodes first, then properties, then values; with
    /// two places or more there is an error either way, so the walk order only
    /// chooses which pair the message names.
    fn duplicate_labels(&self, order: &[NodeId]) -> R<()> {
        let tree: &Tree = self.tree;
        let mut places: Vec<(&str, String, Pos)> = Vec::new();
        for &id in order {
            let n = &tree.nodes[id];
            for l in n.labels.iter().filter(|l| !l.deleted) {
                places.push((&l.name, tree.path(id), n.pos));
            }
        }
        for &id in order {
            for p in tree.nodes[id].props.iter().filter(|p| !p.deleted) {
                for l in p.labels.iter().filter(|l| !l.deleted) {
                    places.push((
                        &l.name,
                        alloc::format!("'{}' in {}", tree.name(p.name), tree.path(id)),
                        p.pos,
                    ));
                }
            }
        }
        for &id in order {
            for p in tree.nodes[id].props.iter().filter(|p| !p.deleted) {
                for m in p
                    .data
                    .markers
                    .iter()
                    .filter(|m| m.kind == MarkerKind::Label)
                {
                    places.push((
                        &m.target,
                        alloc::format!("value of '{}' in {}", tree.name(p.name), tree.path(id)),
                        p.pos,
                    ));
                }
            }
        }
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, (label, _, _)) in places.iter().enumerate() {
            if let Some(&f) = first.get(label) {
                let (_, a, _) = &places[f];
                let (_, b, pos) = &places[i];
                return self.err(
                    *pos,
                    ErrorKind::DuplicateLabel {
                        label: (*label).into(),
                        first: a.clone(),
                        second: b.clone(),
                    },
                );
            }
            first.insert(label, i);
        }
        Ok(())
    }

    /// `explicit_phandles`: `phandle`/`linux,phandle` given in the source.
    fn explicit_phandles(&mut self, order: &[NodeId]) -> R<()> {
        for &id in order {
            let ph = self.phandle_prop(id, PHANDLE)?;
            let lph = self.phandle_prop(id, LINUX_PHANDLE)?;
            if ph == 0 && lph == 0 {
                continue;
            }
            let pos = self.tree.nodes[id].pos;
            if ph != 0 && lph != 0 && ph != lph {
                return self.err(pos, ErrorKind::PhandleMismatch(self.tree.path(id)));
            }
            let v = if ph != 0 { ph } else { lph };
            if let Some(&other) = self.phandles.get(&v)
                && other != id
            {
                return self.err(
                    pos,
                    ErrorKind::DuplicatePhandle {
                        node: self.tree.path(id),
                        value: v,
                        other: self.tree.path(other),
                    },
                );
            }
            self.tree.nodes[id].phandle = v;
            self.phandles.insert(v, id);
        }
        Ok(())
    }

    /// dtc's `check_phandle_prop`: 0 when absent or a reference to the node itself.
    fn phandle_prop(&self, id: NodeId, name_id: NameId) -> R<u32> {
        let Some(p) = self.tree.prop_id(id, name_id) else {
            return Ok(0);
        };
        let name = self.tree.name(name_id);
        let node = self.tree.path(id);
        if p.data.bytes.len() != 4 {
            return self.err(
                p.pos,
                ErrorKind::PhandleLength {
                    node,
                    name: name.into(),
                    len: p.data.bytes.len(),
                },
            );
        }
        if let Some(m) = p
            .data
            .markers
            .iter()
            .find(|m| m.kind == MarkerKind::Phandle)
        {
            if self.tree.by_ref(&m.target) != Some(id) {
                return self.err(
                    p.pos,
                    ErrorKind::PhandleOtherNode {
                        node,
                        name: name.into(),
                    },
                );
            }
            return Ok(0);
        }
        let v = be::u32_at(&p.data.bytes, 0).unwrap_or(0);
        if !valid_phandle(v) {
            return self.err(
                p.pos,
                ErrorKind::PhandleValue {
                    node,
                    name: name.into(),
                    value: v,
                },
            );
        }
        Ok(v)
    }

    /// dtc's `get_node_phandle`: the node's phandle, allocating the lowest free value
    /// at or above the running counter and adding the property (or properties) the
    /// phandle style asks for when missing.
    pub(crate) fn node_phandle(&mut self, id: NodeId) -> u32 {
        let cur = self.tree.nodes[id].phandle;
        if valid_phandle(cur) {
            return cur;
        }
        while self.phandles.contains_key(&self.next) {
            self.next = self.next.wrapping_add(1);
        }
        let v = self.next;
        self.tree.nodes[id].phandle = v;
        self.phandles.insert(v, id);
        let (legacy, epapr) = match self.style {
            PhandleStyle::Epapr => (false, true),
            PhandleStyle::Legacy => (true, false),
            _ => (true, true),
        };
        for (want, name) in [(legacy, LINUX_PHANDLE), (epapr, PHANDLE)] {
            if want && self.tree.prop_id(id, name).is_none() {
                let mut data = Data::default();
                data.bytes.extend_from_slice(&crate::Endian::Big.u32_to(v));
                let pos = self.tree.nodes[id].pos;
                self.tree.nodes[id].props.push(Prop {
                    name,
                    data,
                    labels: List::new(),
                    deleted: false,
                    pos,
                });
            }
        }
        v
    }

    /// `phandle_references`: every `<&ref>` cell gets the target's phandle.
    fn phandle_references(&mut self, order: &[NodeId]) -> R<()> {
        for &id in order {
            let mut pi = 0;
            while pi < self.tree.nodes[id].props.len() {
                if self.tree.nodes[id].props[pi].deleted {
                    pi += 1;
                    continue;
                }
                let mut mi = 0;
                while mi < self.tree.nodes[id].props[pi].data.markers.len() {
                    let m = &self.tree.nodes[id].props[pi].data.markers[mi];
                    if m.kind != MarkerKind::Phandle {
                        mi += 1;
                        continue;
                    }
                    let (target, offset) = (m.target.clone(), m.offset);
                    match self.tree.by_ref(&target) {
                        None if self.plugin => {
                            // Left as 0xffffffff for the overlay's __fixups__.
                        }
                        None => {
                            let pos = self.tree.nodes[id].props[pi].pos;
                            return self.err(pos, ErrorKind::UndefinedReference(target));
                        }
                        Some(t) => {
                            let ph = self.node_phandle(t);
                            let bytes = &mut self.tree.nodes[id].props[pi].data.bytes;
                            if offset.checked_add(4).is_some_and(|e| e <= bytes.len()) {
                                be::set_u32(bytes, offset, ph);
                            }
                            self.tree.nodes[t].referenced = true;
                        }
                    }
                    mi += 1;
                }
                pi += 1;
            }
        }
        Ok(())
    }

    /// `path_references`: every `&ref` value gets the target's path and a NUL
    /// inserted at its marker; later markers move along (`data_insert_at_marker`).
    fn path_references(&mut self, order: &[NodeId]) -> R<()> {
        for &id in order {
            for pi in 0..self.tree.nodes[id].props.len() {
                if self.tree.nodes[id].props[pi].deleted {
                    continue;
                }
                let mut mi = 0;
                while mi < self.tree.nodes[id].props[pi].data.markers.len() {
                    let m = &self.tree.nodes[id].props[pi].data.markers[mi];
                    if m.kind != MarkerKind::Path {
                        mi += 1;
                        continue;
                    }
                    let (target, offset) = (m.target.clone(), m.offset);
                    let Some(t) = self.tree.by_ref(&target) else {
                        let pos = self.tree.nodes[id].props[pi].pos;
                        return self.err(pos, ErrorKind::UndefinedReference(target));
                    };
                    let mut path = self.tree.path(t).into_bytes();
                    path.push(0);
                    let data = &mut self.tree.nodes[id].props[pi].data;
                    let at = offset.min(data.bytes.len());
                    data.bytes.insert_from_slice(at, &path);
                    for later in data.markers.iter_mut().skip(mi + 1) {
                        later.offset += path.len();
                    }
                    self.tree.nodes[t].referenced = true;
                    mi += 1;
                }
            }
        }
        Ok(())
    }

    /// `omit_unused_nodes`: `/omit-if-no-ref/` nodes nothing referenced are deleted
    /// (kept when `-@` is on and they carry labels). Their phandles become free again,
    /// as dtc's phandle search skips deleted nodes.
    fn omit_unused(&mut self, order: &[NodeId]) {
        for &id in order {
            if !self.tree.is_live(id) {
                continue;
            }
            let n = &self.tree.nodes[id];
            if self.symbols && !n.labels.is_empty() {
                continue;
            }
            if n.omit_if_unused && !n.referenced {
                let mut stack = alloc::vec![id];
                while let Some(x) = stack.pop() {
                    let ph = self.tree.nodes[x].phandle;
                    if self.phandles.get(&ph) == Some(&x) {
                        self.phandles.remove(&ph);
                    }
                    stack.extend(self.tree.live_children(x));
                }
                self.tree.delete_node(id);
            }
        }
    }

    /// A live child of the root named `name`, made when missing (`build_root_node`).
    fn root_child(&mut self, parent: NodeId, name: &str) -> NodeId {
        if let Some(c) = self.tree.subnode(parent, name) {
            return c;
        }
        let pos = self.tree.nodes[self.tree.root].pos;
        let c = self.tree.new_node(name.into(), pos);
        self.tree.nodes[c].generated = true;
        self.tree.add_child(parent, c);
        c
    }

    /// `-@`: `__symbols__` with one path per label, and a phandle for every node that
    /// carries labels (`generate_label_tree(.., "__symbols__", true)`).
    pub(crate) fn generate_symbols(&mut self) {
        let any = self
            .tree
            .preorder()
            .iter()
            .any(|&id| !self.tree.nodes[id].labels.is_empty());
        if !any {
            return;
        }
        let root = self.tree.root;
        let sym = self.root_child(root, "__symbols__");
        for id in self.tree.preorder() {
            if self.tree.nodes[id].labels.is_empty() {
                continue;
            }
            let labels: Vec<String> = self.tree.nodes[id]
                .labels
                .iter()
                .filter(|l| !l.deleted)
                .map(|l| l.name.clone())
                .collect();
            for l in labels {
                if self.tree.prop(sym, &l).is_some() {
                    continue;
                }
                let mut data = Data::default();
                data.bytes.extend_from_slice(self.tree.path(id).as_bytes());
                data.bytes.push(0);
                let pos = self.tree.nodes[sym].pos;
                let name = self.tree.intern(&l);
                self.tree.nodes[sym].props.push(Prop {
                    name,
                    data,
                    labels: List::new(),
                    deleted: false,
                    pos,
                });
            }
            self.node_phandle(id);
        }
    }

    /// Overlays: `__fixups__` for references the overlay cannot resolve, and
    /// `__local_fixups__` for those it can (`generate_fixups_tree`,
    /// `generate_local_fixups_tree`).
    pub(crate) fn generate_fixups(&mut self) {
        let refs = |tree: &Tree| -> Vec<(NodeId, usize, usize, bool)> {
            let mut out = Vec::new();
            for id in tree.preorder() {
                for (pi, p) in tree.nodes[id].props.iter().enumerate() {
                    if p.deleted {
                        continue;
                    }
                    for (mi, m) in p.data.markers.iter().enumerate() {
                        if m.kind == MarkerKind::Phandle {
                            out.push((id, pi, mi, tree.by_ref(&m.target).is_some()));
                        }
                    }
                }
            }
            out
        };
        let all = refs(self.tree);
        let root = self.tree.root;
        if all.iter().any(|r| !r.3) {
            let fx = self.root_child(root, "__fixups__");
            for &(id, pi, mi, resolved) in &all {
                if resolved {
                    continue;
                }
                // dtc 1.6.1 writes references by path here as they are (later
                // versions refuse them), and does not check for ':'.
                let p = &self.tree.nodes[id].props[pi];
                let m = &p.data.markers[mi];
                let path = self.tree.path(id);
                let entry = alloc::format!("{path}:{}:{}", self.tree.name(p.name), m.offset);
                let target = m.target.clone();
                self.append(fx, &target, entry.as_bytes(), true);
            }
        }
        if all.iter().any(|r| r.3) {
            let lfx = self.root_child(root, "__local_fixups__");
            for &(id, pi, mi, resolved) in &all {
                if !resolved {
                    continue;
                }
                let mut chain = Vec::new();
                let mut cur = id;
                while let Some(parent) = self.tree.nodes[cur].parent {
                    chain.push(self.tree.nodes[cur].name.clone());
                    cur = parent;
                }
                let mut at = lfx;
                for name in chain.iter().rev() {
                    at = self.root_child(at, name);
                }
                let p = &self.tree.nodes[id].props[pi];
                let (name, offset) = (p.name, p.data.markers[mi].offset);
                let name = String::from(self.tree.name(name));
                let cell = crate::Endian::Big.u32_to(u32::try_from(offset).unwrap_or(u32::MAX));
                self.append(at, &name, &cell, false);
            }
        }
    }

    /// dtc's `append_to_property` (a string gets its NUL).
    fn append(&mut self, node: NodeId, name: &str, bytes: &[u8], nul: bool) {
        let id = self.tree.lookup(name);
        let idx = self.tree.nodes[node]
            .props
            .iter()
            .position(|p| !p.deleted && Some(p.name) == id);
        let idx = match idx {
            Some(i) => i,
            None => {
                let pos = self.tree.nodes[node].pos;
                let name = self.tree.intern(name);
                self.tree.nodes[node].props.push(Prop {
                    name,
                    data: Data::default(),
                    labels: List::new(),
                    deleted: false,
                    pos,
                });
                self.tree.nodes[node].props.len() - 1
            }
        };
        let d = &mut self.tree.nodes[node].props[idx].data.bytes;
        d.extend_from_slice(bytes);
        if nul {
            d.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dtc's pairwise comparison, for reference.
    fn pairwise(names: &[&str], live: &[bool]) -> Option<(usize, usize)> {
        (0..names.len()).find_map(|i| {
            if !live[i] {
                return None;
            }
            (i + 1..names.len())
                .find(|&j| names[j] == names[i])
                .map(|j| (i, j))
        })
    }

    #[test]
    fn later_duplicate_matches_pairwise_search() {
        let pool = ["a", "b", "dev@100", "dev@200", "c", "dev@1000"];
        // A small linear congruential sequence: lists of every length up to 40.
        let mut x: u32 = 12345;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as usize
        };
        for len in 0..40 {
            for _ in 0..20 {
                let names: Vec<&str> = (0..len).map(|_| pool[next() % pool.len()]).collect();
                let live: Vec<bool> = (0..len).map(|_| next() % 4 != 0).collect();
                let bytes: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
                assert_eq!(
                    later_duplicate(&bytes, &live),
                    pairwise(&names, &live),
                    "{names:?} {live:?}"
                );
            }
        }
    }
}
