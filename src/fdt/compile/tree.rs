//! The live tree dtc builds from source (`dgibson/dtc: livetree.c`), kept in an arena.
//!
//! Deletion works as in dtc: `/delete-node/` and `/delete-property/` only mark entries
//! deleted, and a later definition of the same name revives the entry in its old place
//! (`merge_nodes` searches "with deleted"). Label lists are kept in dtc's order (a new
//! label goes to the front), because `__symbols__` lists them in that order.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use super::lexer::Pos;
use crate::fdt::name_index::NameIndex;

/// Index of a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

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

/// A property value under construction: bytes plus markers (dtc's `struct data`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Data {
    pub bytes: Vec<u8>,
    pub markers: Vec<Marker>,
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
    /// Shared with every other property of that name ([`Tree::intern`]): a large tree
    /// has a few dozen names over hundreds of thousands of properties.
    pub name: Rc<str>,
    pub data: Data,
    pub labels: Vec<Label>,
    pub deleted: bool,
    pub pos: Pos,
}

/// A node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub name: String,
    pub parent: Option<NodeId>,
    pub props: Vec<Prop>,
    pub children: Vec<NodeId>,
    pub labels: Vec<Label>,
    pub deleted: bool,
    pub omit_if_unused: bool,
    pub referenced: bool,
    pub phandle: u32,
    pub pos: Pos,
    /// Made after parsing (`__symbols__`, `__fixups__`, `__local_fixups__` and the
    /// nodes under them): dtc gives such nodes no full path.
    pub generated: bool,
}

/// The arena. Nodes merged into others stay in the vector, unreachable.
#[derive(Debug, Default)]
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
    names: Vec<Rc<str>>,
    name_index: NameIndex,
}

/// dtc's `add_label`: revive an existing entry, else put the new one first.
pub(crate) fn add_label(labels: &mut Vec<Label>, name: &str) -> bool {
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

impl Tree {
    /// The shared copy of a property name.
    pub(crate) fn intern(&mut self, name: &str) -> Rc<str> {
        let names = &self.names;
        if let Some(i) = self
            .name_index
            .find(name.as_bytes(), |i| &*names[i as usize] == name)
        {
            return Rc::clone(&self.names[i as usize]);
        }
        let n: Rc<str> = Rc::from(name);
        if let Ok(i) = u32::try_from(self.names.len()) {
            self.name_index.insert(name.as_bytes(), i);
            self.names.push(Rc::clone(&n));
        }
        n
    }

    /// A new detached node.
    pub(crate) fn new_node(&mut self, name: String, pos: Pos) -> NodeId {
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
        self.nodes[id]
            .props
            .iter()
            .find(|p| !p.deleted && &*p.name == name)
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
