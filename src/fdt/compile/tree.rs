//! The live tree dtc builds from source (`dgibson/dtc: livetree.c`), kept in an arena.
//!
//! Deletion works as in dtc: `/delete-node/` and `/delete-property/` only mark entries
//! deleted, and a later definition of the same name revives the entry in its old place
//! (`merge_nodes` searches "with deleted"). Label lists are kept in dtc's order (a new
//! label goes to the front), because `__symbols__` lists them in that order.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::lexer::Pos;
use crate::fdt::name_index::NameIndex;

/// Index of a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

/// A property name, stored once in the tree ([`Tree::intern`], [`Tree::name`]): a large
/// tree has a few dozen names over hundreds of thousands of properties, so comparing
/// two names is comparing two numbers, and per-name work (the character check, the
/// strings-block offset) is done once per name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameId(usize);

impl NameId {
    /// The index into a table kept per name.
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

/// A label with dtc's deleted flag.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub name: String,
    pub deleted: bool,
}

/// What a marker in a value stands for (`enum markertype` in `dtc.h`, less the type
/// markers, which only matter for DTS output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    /// `<&label>`: a cell to fill with the target's phandle.
    Phandle,
    /// `&label` as a value: the target's path is inserted here.
    Path,
    /// `lbl:` inside a value.
    Label,
}

/// A marker at a byte offset of a value.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    pub offset: usize,
    pub kind: MarkerKind,
    pub target: String,
}

/// A node or property name as the source spells it: up to 24 bytes inline, so most
/// names cost no allocation (`dev@1000`, `interrupt-parent`). Always valid UTF-8: it is
/// only made from a `&str`.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Name(smallvec::SmallVec<[u8; 24]>);

impl Name {
    /// The text. (A UTF-8 check on every call: hot paths use [`Name::as_bytes`].)
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The bytes of the text.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A name of ASCII bytes, as the lexer cuts them (`PROPNODECHAR`); anything else
    /// would read as the empty name.
    pub(crate) fn from_ascii(s: &[u8]) -> Self {
        Name(smallvec::SmallVec::from_slice(s))
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(smallvec::SmallVec::from_slice(s.as_bytes()))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name::from(s.as_str())
    }
}

impl core::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &self.0[..] == other.as_bytes()
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &self.0[..] == other.as_bytes()
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A list that is nearly always empty (labels, markers, a leaf's children): one word,
/// no allocation while empty.
pub(crate) type List<T> = thin_vec::ThinVec<T>;

/// Value bytes: up to 16 inline, in the space of a `Vec` (most values are one or two
/// cells or a short string).
pub(crate) type Bytes = smallvec::SmallVec<[u8; 16]>;

/// A property value under construction: bytes plus markers (dtc's `struct data`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Data {
    pub bytes: Bytes,
    pub markers: List<Marker>,
}

impl Data {
    /// A marker at the current end.
    pub(crate) fn mark(&mut self, kind: MarkerKind, target: String) {
        self.markers.push(Marker {
            offset: self.bytes.len(),
            kind,
            target,
        });
    }
}

/// A property.
#[derive(Debug, Clone)]
pub(crate) struct Prop {
    /// The name, interned ([`Tree::name`] reads it).
    pub name: NameId,
    pub data: Data,
    pub labels: List<Label>,
    pub deleted: bool,
    pub pos: Pos,
}

/// A node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub name: Name,
    pub parent: Option<NodeId>,
    pub props: List<Prop>,
    pub children: List<NodeId>,
    pub labels: List<Label>,
    pub deleted: bool,
    pub omit_if_unused: bool,
    pub referenced: bool,
    pub phandle: u32,
    pub pos: Pos,
    /// Made after parsing (`__symbols__`, `__fixups__`, `__local_fixups__` and the
    /// nodes under them): dtc gives such nodes no full path.
    pub generated: bool,
}

/// The names the checks look up on every node, interned first by [`Tree::default`].
const WELL_KNOWN: [&str; 3] = ["name", "phandle", "linux,phandle"];
/// `name`.
pub(crate) const NAME: NameId = NameId(0);
/// `phandle`.
pub(crate) const PHANDLE: NameId = NameId(1);
/// `linux,phandle`.
pub(crate) const LINUX_PHANDLE: NameId = NameId(2);

/// The arena. Nodes merged into others stay in the vector, unreachable.
#[derive(Debug)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub root: NodeId,
    /// Every node a label was ever added to, per label (resolution re-checks).
    label_index: BTreeMap<String, Vec<NodeId>>,
    /// Some label exists somewhere (on a node, a property or in a value).
    pub any_labels: bool,
    /// Some node is marked `/omit-if-no-ref/`.
    pub any_omit: bool,
    /// Property names, each stored once, and their hashed index.
    names: Vec<String>,
    name_index: NameIndex,
}

/// dtc's `add_label`: revive an existing entry, else put the new one first.
pub(crate) fn add_label(labels: &mut List<Label>, name: &str) -> bool {
    if let Some(l) = labels.iter_mut().find(|l| l.name == name) {
        l.deleted = false;
        return false;
    }
    labels.insert(
        0,
        Label {
            name: name.into(),
            deleted: false,
        },
    );
    true
}

impl Default for Tree {
    fn default() -> Self {
        let mut tree = Tree {
            nodes: Vec::new(),
            root: 0,
            label_index: BTreeMap::new(),
            any_labels: false,
            any_omit: false,
            names: Vec::new(),
            name_index: NameIndex::default(),
        };
        // The ids of the names the checks use are constants (NAME, PHANDLE, ...). The
        // output does not depend on the order of interning: the strings block is
        // filled in the order the writer meets the names.
        for name in WELL_KNOWN {
            tree.intern(name);
        }
        tree
    }
}

impl Tree {
    /// The id of a property name, added if new.
    pub(crate) fn intern(&mut self, name: &str) -> NameId {
        if let Some(id) = self.lookup_bytes(name.as_bytes()) {
            return id;
        }
        let id = NameId(self.names.len());
        // The index holds u32 positions: past 4 G names (never, for a source under
        // 4 GiB) the rest are found by a scan.
        if let Ok(i) = u32::try_from(id.0) {
            self.name_index.insert(name.as_bytes(), i);
        }
        self.names.push(name.into());
        id
    }

    /// [`Tree::intern`] of a name token (no UTF-8 check for a name already known).
    pub(crate) fn intern_name(&mut self, name: &Name) -> NameId {
        match self.lookup_bytes(name.as_bytes()) {
            Some(id) => id,
            None => self.intern(name.as_str()),
        }
    }

    /// The id of a property name, if some property has had it.
    pub(crate) fn lookup(&self, name: &str) -> Option<NameId> {
        self.lookup_bytes(name.as_bytes())
    }

    fn lookup_bytes(&self, name: &[u8]) -> Option<NameId> {
        let names = &self.names;
        if let Some(i) = self
            .name_index
            .find(name, |i| names[i as usize].as_bytes() == name)
        {
            return Some(NameId(i as usize));
        }
        let indexed = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
        names
            .iter()
            .skip(indexed)
            .position(|n| n.as_bytes() == name)
            .map(|i| NameId(indexed + i))
    }

    /// A property name's text.
    pub(crate) fn name(&self, id: NameId) -> &str {
        self.names.get(id.0).map_or("", String::as_str)
    }

    /// How many names [`Tree::intern`] has given out (a table per name has this size).
    pub(crate) fn name_count(&self) -> usize {
        self.names.len()
    }

    /// A new detached node.
    pub(crate) fn new_node(&mut self, name: Name, pos: Pos) -> NodeId {
        self.nodes.push(Node {
            name,
            pos,
            ..Node::default()
        });
        self.nodes.len() - 1
    }

    /// Adds a label to a node and indexes it.
    pub(crate) fn label_node(&mut self, id: NodeId, name: &str) {
        self.any_labels = true;
        add_label(&mut self.nodes[id].labels, name);
        let v = self.label_index.entry(name.into()).or_default();
        if v.last() != Some(&id) {
            v.push(id);
        }
    }

    /// Makes `child` the last child of `parent` (dtc's `add_child`).
    pub(crate) fn add_child(&mut self, parent: NodeId, child: NodeId) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// Children not deleted (dtc's `for_each_child`).
    pub(crate) fn live_children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes[id]
            .children
            .iter()
            .copied()
            .filter(|&c| !self.nodes[c].deleted)
    }

    /// dtc's `merge_nodes(old, new)`.
    pub(crate) fn merge(&mut self, old: NodeId, new: NodeId) {
        self.nodes[old].deleted = false;
        let new_labels: Vec<String> = self.nodes[new]
            .labels
            .iter()
            .map(|l| l.name.clone())
            .collect();
        for l in new_labels {
            self.label_node(old, &l);
        }
        let props = core::mem::take(&mut self.nodes[new].props);
        for p in props {
            let on = &mut self.nodes[old];
            if p.deleted {
                if let Some(o) = on.props.iter_mut().find(|o| o.name == p.name) {
                    delete_property(o);
                }
                continue;
            }
            if let Some(o) = on.props.iter_mut().find(|o| o.name == p.name) {
                for l in &p.labels {
                    add_label(&mut o.labels, &l.name);
                }
                o.data = p.data;
                o.deleted = false;
                o.pos = p.pos;
            } else {
                on.props.push(p);
            }
        }
        let children = core::mem::take(&mut self.nodes[new].children);
        for c in children {
            if self.nodes[c].deleted {
                let name = core::mem::take(&mut self.nodes[c].name);
                if let Some(&o) = self.nodes[old]
                    .children
                    .iter()
                    .find(|&&o| self.nodes[o].name == name)
                {
                    self.delete_node(o);
                }
                continue;
            }
            let found = self.nodes[old]
                .children
                .iter()
                .copied()
                .find(|&o| self.nodes[o].name == self.nodes[c].name);
            match found {
                Some(o) => self.merge(o, c),
                None => self.add_child(old, c),
            }
        }
    }

    /// dtc's `delete_node`: marks the node, its live children and properties and all
    /// their labels deleted. Iterative, so depth costs no stack.
    pub(crate) fn delete_node(&mut self, id: NodeId) {
        let mut stack = alloc::vec![id];
        while let Some(n) = stack.pop() {
            let node = &mut self.nodes[n];
            node.deleted = true;
            for p in node.props.iter_mut().filter(|p| !p.deleted) {
                delete_property(p);
            }
            for l in &mut node.labels {
                l.deleted = true;
            }
            let kids: Vec<NodeId> = self.live_children(n).collect();
            stack.extend(kids);
        }
    }

    /// True when the node and all its ancestors are live (reachable by dtc's walks).
    pub(crate) fn is_live(&self, mut id: NodeId) -> bool {
        loop {
            let n = &self.nodes[id];
            if n.deleted {
                return false;
            }
            match n.parent {
                Some(p) => id = p,
                None => return id == self.root,
            }
        }
    }

    /// dtc's `get_node_by_label`: the first node in pre-order carrying a live label.
    pub(crate) fn by_label(&self, label: &str) -> Option<NodeId> {
        let cands: Vec<NodeId> = self
            .label_index
            .get(label)?
            .iter()
            .copied()
            .filter(|&id| {
                self.nodes[id]
                    .labels
                    .iter()
                    .any(|l| l.name == label && !l.deleted)
                    && self.is_live(id)
            })
            .collect();
        match cands.len() {
            0 => None,
            1 => Some(cands[0]),
            _ => self.preorder().into_iter().find(|id| cands.contains(id)),
        }
    }

    /// dtc's `get_node_by_path` below `from`.
    pub(crate) fn by_path(&self, from: NodeId, path: &str) -> Option<NodeId> {
        let mut node = from;
        let mut path = path;
        loop {
            if path.is_empty() {
                return (!self.nodes[node].deleted).then_some(node);
            }
            path = path.trim_start_matches('/');
            let (comp, rest) = match path.find('/') {
                Some(i) => (&path[..i], Some(&path[i + 1..])),
                None => (path, None),
            };
            let child = self
                .live_children(node)
                .find(|&c| self.nodes[c].name == comp)?;
            match rest {
                Some(r) => {
                    node = child;
                    path = r;
                }
                None => return Some(child),
            }
        }
    }

    /// dtc 1.6.1's `get_node_by_ref`: `/` is the root, `/…` a path, else a label.
    pub(crate) fn by_ref(&self, r: &str) -> Option<NodeId> {
        if r == "/" {
            Some(self.root)
        } else if r.starts_with('/') {
            self.by_path(self.root, r)
        } else {
            self.by_label(r)
        }
    }

    /// Live nodes in pre-order (dtc's `check_nodes_props` order).
    pub(crate) fn preorder(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = alloc::vec![self.root];
        while let Some(n) = stack.pop() {
            out.push(n);
            for &c in self.nodes[n].children.iter().rev() {
                if !self.nodes[c].deleted {
                    stack.push(c);
                }
            }
        }
        out
    }

    /// The node's full path (dtc's `fill_fullpaths`).
    pub(crate) fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while let Some(p) = self.nodes[cur].parent {
            parts.push(self.nodes[cur].name.as_str());
            cur = p;
        }
        if parts.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        for p in parts.iter().rev() {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// The first live property called `name` (dtc's `get_property`).
    pub(crate) fn prop(&self, id: NodeId, name: &str) -> Option<&Prop> {
        self.prop_id(id, self.lookup(name)?)
    }

    /// [`Tree::prop`] by name id.
    pub(crate) fn prop_id(&self, id: NodeId, name: NameId) -> Option<&Prop> {
        self.nodes[id]
            .props
            .iter()
            .find(|p| !p.deleted && p.name == name)
    }

    /// A live child called `name` (dtc's `get_subnode`).
    pub(crate) fn subnode(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.live_children(id).find(|&c| self.nodes[c].name == name)
    }
}

/// dtc's `delete_property`.
pub(crate) fn delete_property(p: &mut Prop) {
    p.deleted = true;
    for l in &mut p.labels {
        l.deleted = true;
    }
}
