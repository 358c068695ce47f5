//! Comparing two trees structurally: nodes by path, their properties by name, the
//! memory reservations, the boot CPU and the format version; not block sizes, offsets,
//! free space, the order of properties or of nodes.
//!
//! Cells that are phandles compare as the paths of the nodes they point to, so two
//! trees that differ only in how their phandles are numbered are equal. Which cells are
//! phandles follows the bindings dtc 1.6.1 checks (`dgibson/dtc: checks.c`):
//!
//! * `phandle` and `linux,phandle` themselves (`check_explicit_phandles`): the node's
//!   own path, so gaining or losing a phandle is a change, renumbering is not;
//! * `interrupt-parent` (`check_interrupts_property`) and `remote-endpoint`
//!   (`check_graph_endpoint`): one phandle;
//! * the phandle-plus-arguments lists of `WARNING_PROPERTY_PHANDLE_CELLS`: `clocks`
//!   (`#clock-cells`), `cooling-device` (`#cooling-cells`), `dmas` (`#dma-cells`),
//!   `hwlocks` (`#hwlock-cells`), `interrupts-extended` (`#interrupt-cells`),
//!   `io-channels` (`#io-channel-cells`), `iommus` (`#iommu-cells`), `mboxes`
//!   (`#mbox-cells`), `msi-parent` (`#msi-cells`, may be absent), `mux-controls`
//!   (`#mux-control-cells`), `phys` (`#phy-cells`), `power-domains`
//!   (`#power-domain-cells`), `pwms` (`#pwm-cells`), `resets` (`#reset-cells`),
//!   `sound-dai` (`#sound-dai-cells`), `thermal-sensors` (`#thermal-sensor-cells`), and
//!   `gpios`, `gpio`, `*-gpios`, `*-gpio` but not `*,nr-gpios` (`#gpio-cells`,
//!   `prop_is_gpio`); a phandle of 0 or `0xffffffff` is a one-cell placeholder there,
//!   as in `check_property_phandle_args`;
//! * `interrupt-map` (`check_interrupt_map`, and Linux's `of_irq_parse_raw`): per entry
//!   the child unit address (`#address-cells` of the node, 2 when absent), the child
//!   specifier (its `#interrupt-cells`), the parent's phandle, the parent unit address
//!   (the parent's `#address-cells`, 0 when absent) and the parent specifier (its
//!   `#interrupt-cells`).
//!
//! A value that does not parse that way (a dangling phandle, a missing `#...-cells`, a
//! length that does not add up) compares as raw bytes with another such value, and as
//! different from one that parses.

use crate::fdt::dts::{StringListStyle, push_value};
use crate::fdt::{Fdt, Node, Reservation};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// One cell of a value whose phandles were resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// A plain number.
    Num(u32),
    /// A phandle, as the path of the node it points to.
    Ref(String),
}

/// A property value: its bytes, and its cells with phandles resolved when the binding
/// says where they are.
#[derive(Debug, Clone)]
pub struct Value {
    /// The raw bytes.
    pub raw: Vec<u8>,
    /// The cells, phandles as paths, when the property is a phandle reference.
    pub refs: Option<Vec<Cell>>,
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (&self.refs, &other.refs) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.raw == other.raw,
            // One side's phandles point where the binding fits, the other's do not.
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// As `ppcpv dump` (and `dtc -O dts`) prints it after the name (` = <0x01>;`, `;`),
    /// phandle cells as `&{/path}` references.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.refs {
            Some(cells) => {
                f.write_str(" = <")?;
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match c {
                        Cell::Num(v) => write!(f, "{v:#04x}")?,
                        Cell::Ref(p) => write!(f, "&{{{p}}}")?,
                    }
                }
                f.write_str(">;")
            }
            None => {
                let mut out = Vec::new();
                push_value(&mut out, &self.raw, StringListStyle::Dtc16);
                f.write_str(&String::from_utf8_lossy(&out))
            }
        }
    }
}

/// One difference between tree A and tree B.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// The header's `version`.
    Version {
        /// In A.
        a: u32,
        /// In B.
        b: u32,
    },
    /// The header's `boot_cpuid_phys` (absent before version 2).
    BootCpu {
        /// In A.
        a: Option<u32>,
        /// In B.
        b: Option<u32>,
    },
    /// A `/memreserve/` entry only A has.
    ReservationRemoved(Reservation),
    /// A `/memreserve/` entry only B has.
    ReservationAdded(Reservation),
    /// A node only A has, with its properties.
    NodeRemoved {
        /// Its path.
        path: String,
        /// Its properties.
        props: Vec<(String, Value)>,
    },
    /// A node only B has, with its properties.
    NodeAdded {
        /// Its path.
        path: String,
        /// Its properties.
        props: Vec<(String, Value)>,
    },
    /// A property only A's node has.
    PropertyRemoved {
        /// The node's path.
        path: String,
        /// The property.
        name: String,
        /// Its value in A.
        value: Value,
    },
    /// A property only B's node has.
    PropertyAdded {
        /// The node's path.
        path: String,
        /// The property.
        name: String,
        /// Its value in B.
        value: Value,
    },
    /// A property whose value differs.
    PropertyChanged {
        /// The node's path.
        path: String,
        /// The property.
        name: String,
        /// In A.
        a: Value,
        /// In B.
        b: Value,
    },
}

impl Change {
    /// The node path the change is about (`None` for header and reservation changes).
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match self {
            Change::NodeRemoved { path, .. }
            | Change::NodeAdded { path, .. }
            | Change::PropertyRemoved { path, .. }
            | Change::PropertyAdded { path, .. }
            | Change::PropertyChanged { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// What to leave out of the comparison.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// Property names never compared, on any node (`rng-seed`, which QEMU randomises
    /// on every run).
    pub ignore: BTreeSet<String>,
}

impl DiffOptions {
    /// Ignores properties called `name`.
    #[must_use]
    pub fn ignore(mut self, name: impl Into<String>) -> Self {
        self.ignore.insert(name.into());
        self
    }
}

/// The phandle-plus-arguments properties dtc 1.6.1 checks (`checks.c`,
/// `WARNING_PROPERTY_PHANDLE_CELLS`): name, cells property, whether the cells
/// property may be absent (meaning 0).
const PHANDLE_ARGS: &[(&str, &str, bool)] = &[
    ("clocks", "#clock-cells", false),
    ("cooling-device", "#cooling-cells", false),
    ("dmas", "#dma-cells", false),
    ("hwlocks", "#hwlock-cells", false),
    ("interrupts-extended", "#interrupt-cells", false),
    ("io-channels", "#io-channel-cells", false),
    ("iommus", "#iommu-cells", false),
    ("mboxes", "#mbox-cells", false),
    ("msi-parent", "#msi-cells", true),
    ("mux-controls", "#mux-control-cells", false),
    ("phys", "#phy-cells", false),
    ("power-domains", "#power-domain-cells", false),
    ("pwms", "#pwm-cells", false),
    ("resets", "#reset-cells", false),
    ("sound-dai", "#sound-dai-cells", false),
    ("thermal-sensors", "#thermal-sensor-cells", false),
];

/// dtc's `prop_is_gpio`.
fn is_gpio(name: &str) -> bool {
    !name.ends_with(",nr-gpios")
        && (name.ends_with("-gpios")
            || name == "gpios"
            || name.ends_with("-gpio")
            || name == "gpio")
}

/// A node's properties as borrowed (name, value) pairs: the first of each name (as
/// libfdt's `fdt_getprop` finds), ignored names left out.
fn first_props<'a>(node: &Node<'a>, opts: &DiffOptions) -> Vec<(&'a str, &'a [u8])> {
    let mut v: Vec<(&'a str, &'a [u8])> = Vec::new();
    for p in node.properties() {
        if !opts.ignore.contains(p.name) && !v.iter().any(|(n, _)| *n == p.name) {
            v.push((p.name, p.value));
        }
    }
    v
}

/// Whether a property's cells may hold phandles (see the module docs).
fn is_reference(name: &str) -> bool {
    match name {
        "phandle"
        | "linux,phandle"
        | "interrupt-parent"
        | "remote-endpoint"
        | "interrupt-map"
        | "clocks"
        | "cooling-device"
        | "dmas"
        | "hwlocks"
        | "interrupts-extended"
        | "io-channels"
        | "iommus"
        | "mboxes"
        | "msi-parent"
        | "mux-controls"
        | "phys"
        | "power-domains"
        | "pwms"
        | "resets"
        | "sound-dai"
        | "thermal-sensors" => true,
        _ => is_gpio(name),
    }
}

/// One tree with its phandles: value to the path and node that carry it.
struct Tree<'a> {
    by_phandle: HashMap<u32, (String, Node<'a>)>,
}

fn one_cell(node: &Node<'_>, name: &str) -> Option<u32> {
    let p = node.property(name)?;
    let b: [u8; 4] = p.value.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

impl<'a> Tree<'a> {
    /// One pass over the nodes; a path is built only for the nodes with a phandle.
    fn new(fdt: &Fdt<'a>) -> Self {
        let mut by_phandle = HashMap::new();
        let mut path = String::new();
        let mut lens: Vec<usize> = Vec::new();
        for (depth, n) in fdt.nodes() {
            lens.truncate(depth);
            path.truncate(lens.last().copied().unwrap_or(0));
            if depth > 0 {
                path.push('/');
                path.push_str(n.name());
            }
            lens.push(path.len());
            // libfdt's fdt_get_phandle: `phandle`, else `linux,phandle`; the first
            // node with a value wins, as in fdt_node_offset_by_phandle.
            let (mut ph, mut lph) = (None, None);
            for p in n.properties() {
                match p.name {
                    "phandle" if ph.is_none() => ph = Some(p.value),
                    "linux,phandle" if lph.is_none() => lph = Some(p.value),
                    _ => {}
                }
            }
            let cell = |v: Option<&[u8]>| {
                v.and_then(|v| <[u8; 4]>::try_from(v).ok())
                    .map(u32::from_be_bytes)
            };
            if let Some(ph) = cell(ph).or_else(|| cell(lph))
                && ph != 0
                && ph != u32::MAX
            {
                by_phandle.entry(ph).or_insert_with(|| {
                    (
                        if path.is_empty() {
                            "/".to_string()
                        } else {
                            path.clone()
                        },
                        n,
                    )
                });
            }
        }
        Tree { by_phandle }
    }

    fn target(&self, ph: u32) -> Option<&(String, Node<'a>)> {
        self.by_phandle.get(&ph)
    }

    /// The value of property `name` of `node` (at `path`), phandles resolved where
    /// the binding says.
    fn value(&self, node: &Node<'_>, path: &str, name: &str, raw: &[u8]) -> Value {
        Value {
            raw: raw.to_vec(),
            refs: self.resolve(node, path, name, raw),
        }
    }

    fn resolve(&self, node: &Node<'_>, path: &str, name: &str, raw: &[u8]) -> Option<Vec<Cell>> {
        if raw.is_empty() || !raw.len().is_multiple_of(4) {
            return None;
        }
        let cells: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let reference = |ph: u32| self.target(ph).map(|(p, _)| Cell::Ref(p.clone()));
        match name {
            "phandle" | "linux,phandle" if cells.len() == 1 => {
                Some(vec![Cell::Ref(path.to_string())])
            }
            "interrupt-parent" | "remote-endpoint" if cells.len() == 1 => {
                Some(vec![reference(cells[0])?])
            }
            "interrupt-map" => self.interrupt_map(node, &cells),
            _ => {
                let (cells_name, optional) = PHANDLE_ARGS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|&(_, c, o)| (c, o))
                    .or_else(|| is_gpio(name).then_some(("#gpio-cells", false)))?;
                let mut out = Vec::with_capacity(cells.len());
                let mut at = 0;
                while at < cells.len() {
                    let ph = cells[at];
                    if ph == 0 || ph == u32::MAX {
                        out.push(Cell::Num(ph));
                        at += 1;
                        continue;
                    }
                    let (path, target) = self.target(ph)?;
                    let n = match one_cell(target, cells_name) {
                        Some(n) => n as usize,
                        None if optional => 0,
                        None => return None,
                    };
                    let args = cells.get(at + 1..at + 1 + n)?;
                    out.push(Cell::Ref(path.clone()));
                    out.extend(args.iter().map(|&c| Cell::Num(c)));
                    at += 1 + n;
                }
                Some(out)
            }
        }
    }

    fn interrupt_map(&self, node: &Node<'_>, cells: &[u32]) -> Option<Vec<Cell>> {
        let child = one_cell(node, "#address-cells").unwrap_or(2) as usize
            + one_cell(node, "#interrupt-cells")? as usize;
        let mut out = Vec::with_capacity(cells.len());
        let mut at = 0;
        while at < cells.len() {
            out.extend(cells.get(at..at + child)?.iter().map(|&c| Cell::Num(c)));
            at += child;
            let (path, parent) = self.target(*cells.get(at)?)?;
            out.push(Cell::Ref(path.clone()));
            at += 1;
            let n = one_cell(parent, "#address-cells").unwrap_or(0) as usize
                + one_cell(parent, "#interrupt-cells")? as usize;
            out.extend(cells.get(at..at + n)?.iter().map(|&c| Cell::Num(c)));
            at += n;
        }
        Some(out)
    }

    fn props(&self, node: &Node<'_>, path: &str, opts: &DiffOptions) -> Vec<(String, Value)> {
        first_props(node, opts)
            .into_iter()
            .map(|(n, v)| (n.to_string(), self.value(node, path, n, v)))
            .collect()
    }
}

/// What is left to compare.
enum Work<'a> {
    /// A node both trees have, at this path.
    Pair(Node<'a>, Node<'a>, String),
    /// A node only A has, with its subtree.
    Removed(Node<'a>, String),
    /// A node only B has, with its subtree.
    Added(Node<'a>, String),
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The byte ranges of `children` (each child's subtree; the last one walked).
fn subtree_ranges(children: &[Node<'_>]) -> Vec<core::ops::Range<usize>> {
    children
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let end = children
                .get(k + 1)
                .map_or_else(|| c.end_offset(), Node::offset);
            c.offset()..end
        })
        .collect()
}

/// The differences between trees `a` and `b`: header fields, reservations, then the
/// nodes depth first from the root: each node's property changes, then its children,
/// those of A in A's order (changed or removed, removed ones with their subtrees),
/// then those only B has, in B's order. Empty when the trees are equal.
///
/// ```
/// use ppcpv::fdt::compile::{compile, CompileOptions, NoFiles};
/// use ppcpv::fdt::diff::{diff, Change, DiffOptions};
/// use ppcpv::fdt::Fdt;
///
/// let c = |s: &str| compile(s.as_bytes(), "t.dts", &CompileOptions::new(), &mut NoFiles).unwrap();
/// // The same tree with its phandles numbered the other way round.
/// let a = c("/dts-v1/; / { p: pic { phandle = <1>; }; q: q { phandle = <2>; }; d { interrupt-parent = <&p>; }; };");
/// let b = c("/dts-v1/; / { p: pic { phandle = <2>; }; q: q { phandle = <1>; }; d { interrupt-parent = <&p>; }; };");
/// let (a, b) = (Fdt::new(&a).unwrap(), Fdt::new(&b).unwrap());
/// assert!(diff(&a, &b, &DiffOptions::default()).is_empty());
/// ```
#[must_use]
pub fn diff(a: &Fdt<'_>, b: &Fdt<'_>, opts: &DiffOptions) -> Vec<Change> {
    let mut out = Vec::new();
    let (ha, hb) = (a.header(), b.header());
    if ha.version != hb.version {
        out.push(Change::Version {
            a: ha.version,
            b: hb.version,
        });
    }
    if ha.boot_cpuid_phys != hb.boot_cpuid_phys {
        out.push(Change::BootCpu {
            a: ha.boot_cpuid_phys,
            b: hb.boot_cpuid_phys,
        });
    }
    let ra: Vec<Reservation> = a.reservations().collect();
    let rb: Vec<Reservation> = b.reservations().collect();
    if ra != rb {
        let mut left = rb.clone();
        for r in &ra {
            match left.iter().position(|x| x == r) {
                Some(i) => {
                    left.remove(i);
                }
                None => out.push(Change::ReservationRemoved(*r)),
            }
        }
        out.extend(left.into_iter().map(Change::ReservationAdded));
    }

    let ta = Tree::new(a);
    let tb = Tree::new(b);
    // Subtrees whose bytes are equal are equal trees, and need no visit, when the
    // names their properties use read the same (one strings block starts with the
    // other) and every phandle points to the same path in both trees.
    let (sa, sb) = (&a.blob()[a.strings_range()], &b.blob()[b.strings_range()]);
    let n = sa.len().min(sb.len());
    let same_refs = ta.by_phandle.len() == tb.by_phandle.len()
        && ta
            .by_phandle
            .iter()
            .all(|(k, (p, _))| tb.by_phandle.get(k).is_some_and(|(q, _)| p == q));
    let fast = sa[..n] == sb[..n] && same_refs;
    let (ba, bb) = (a.blob(), b.blob());

    let mut stack = vec![Work::Pair(a.root(), b.root(), "/".to_string())];
    while let Some(w) = stack.pop() {
        match w {
            Work::Removed(x, path) => {
                let kids: Vec<Node<'_>> = x.children().collect();
                out.push(Change::NodeRemoved {
                    props: ta.props(&x, &path, opts),
                    path: path.clone(),
                });
                for c in kids.into_iter().rev() {
                    stack.push(Work::Removed(c, child_path(&path, c.name())));
                }
            }
            Work::Added(y, path) => {
                let kids: Vec<Node<'_>> = y.children().collect();
                out.push(Change::NodeAdded {
                    props: tb.props(&y, &path, opts),
                    path: path.clone(),
                });
                for c in kids.into_iter().rev() {
                    stack.push(Work::Added(c, child_path(&path, c.name())));
                }
            }
            Work::Pair(x, y, path) => {
                compare_props(&ta, &tb, &x, &y, &path, opts, &mut out);
                let ca: Vec<Node<'_>> = x.children().collect();
                let cb: Vec<Node<'_>> = y.children().collect();
                // Children pair up by name; the same names in the same order need no
                // lookup.
                let mut partner: Vec<Option<usize>> = vec![None; ca.len()];
                let mut used = vec![false; cb.len()];
                if ca.len() == cb.len() && ca.iter().zip(&cb).all(|(p, q)| p.name() == q.name()) {
                    for (k, p) in partner.iter_mut().enumerate() {
                        *p = Some(k);
                        used[k] = true;
                    }
                } else {
                    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(cb.len());
                    for (k, c) in cb.iter().enumerate() {
                        by_name.entry(c.name()).or_insert(k);
                    }
                    for (k, c) in ca.iter().enumerate() {
                        if let Some(&j) = by_name.get(c.name())
                            && !used[j]
                        {
                            used[j] = true;
                            partner[k] = Some(j);
                        }
                    }
                }
                let (ra, rb) = if fast {
                    (subtree_ranges(&ca), subtree_ranges(&cb))
                } else {
                    (Vec::new(), Vec::new())
                };
                let mut items = Vec::new();
                for (k, c) in ca.iter().enumerate() {
                    let cp = child_path(&path, c.name());
                    match partner[k] {
                        Some(j) => {
                            if fast && ba.get(ra[k].clone()) == bb.get(rb[j].clone()) {
                                continue;
                            }
                            items.push(Work::Pair(*c, cb[j], cp));
                        }
                        None => items.push(Work::Removed(*c, cp)),
                    }
                }
                for (j, c) in cb.iter().enumerate() {
                    if !used[j] {
                        items.push(Work::Added(*c, child_path(&path, c.name())));
                    }
                }
                stack.extend(items.into_iter().rev());
            }
        }
    }
    out
}

/// The property changes between `x` (in A) and `y` (in B), both at `path`.
fn compare_props(
    ta: &Tree<'_>,
    tb: &Tree<'_>,
    x: &Node<'_>,
    y: &Node<'_>,
    path: &str,
    opts: &DiffOptions,
    out: &mut Vec<Change>,
) {
    let props_a = first_props(x, opts);
    let mut props_b = first_props(y, opts);
    for (name, va) in props_a {
        match props_b.iter().position(|(n, _)| *n == name) {
            Some(k) => {
                let (_, vb) = props_b.remove(k);
                // Plain values compare as bytes; phandle references by target.
                let differ = if is_reference(name) {
                    ta.value(x, path, name, va) != tb.value(y, path, name, vb)
                } else {
                    va != vb
                };
                if differ {
                    out.push(Change::PropertyChanged {
                        path: path.to_string(),
                        name: name.to_string(),
                        a: ta.value(x, path, name, va),
                        b: tb.value(y, path, name, vb),
                    });
                }
            }
            None => out.push(Change::PropertyRemoved {
                path: path.to_string(),
                name: name.to_string(),
                value: ta.value(x, path, name, va),
            }),
        }
    }
    for (name, value) in props_b {
        out.push(Change::PropertyAdded {
            path: path.to_string(),
            name: name.to_string(),
            value: tb.value(y, path, name, value),
        });
    }
}

/// Writes `changes` as text: `version`/`boot-cpu`/`memreserve` lines, then per node
/// `+ /path` (added, with its properties), `- /path` (removed) or `@ /path` (changed)
/// followed by `+`/`-` property lines printed as `ppcpv dump` prints them.
///
/// # Errors
/// Only I/O errors from `out`.
pub fn write_text<W: std::io::Write>(changes: &[Change], mut out: W) -> std::io::Result<()> {
    let mut current: Option<&str> = None;
    for c in changes {
        match c {
            Change::Version { a, b } => writeln!(out, "version: {a} -> {b}")?,
            Change::BootCpu { a, b } => {
                let s = |v: &Option<u32>| v.map_or("none".to_string(), |v| format!("{v:#x}"));
                writeln!(out, "boot-cpu: {} -> {}", s(a), s(b))?;
            }
            Change::ReservationRemoved(r) => {
                writeln!(out, "- /memreserve/\t{:#018x} {:#018x};", r.address, r.size)?
            }
            Change::ReservationAdded(r) => {
                writeln!(out, "+ /memreserve/\t{:#018x} {:#018x};", r.address, r.size)?
            }
            Change::NodeAdded { path, props } | Change::NodeRemoved { path, props } => {
                let sign = if matches!(c, Change::NodeAdded { .. }) {
                    '+'
                } else {
                    '-'
                };
                writeln!(out, "{sign} {path}")?;
                for (name, v) in props {
                    writeln!(out, "{sign}\t{name}{v}")?;
                }
                current = None;
            }
            Change::PropertyAdded { path, name, value }
            | Change::PropertyRemoved { path, name, value } => {
                if current != Some(path.as_str()) {
                    writeln!(out, "@ {path}")?;
                    current = Some(path.as_str());
                }
                let sign = if matches!(c, Change::PropertyAdded { .. }) {
                    '+'
                } else {
                    '-'
                };
                writeln!(out, "{sign}\t{name}{value}")?;
            }
            Change::PropertyChanged { path, name, a, b } => {
                if current != Some(path.as_str()) {
                    writeln!(out, "@ {path}")?;
                    current = Some(path.as_str());
                }
                writeln!(out, "-\t{name}{a}")?;
                writeln!(out, "+\t{name}{b}")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::compile::{CompileOptions, NoFiles, compile};

    fn c(s: &str) -> Vec<u8> {
        compile(s.as_bytes(), "t.dts", &CompileOptions::new(), &mut NoFiles).unwrap()
    }

    #[test]
    fn renumbered_phandles_are_equal_and_real_changes_show() {
        let a = c(
            "/dts-v1/; / { gpio: g { gpio-controller; #gpio-cells = <2>; }; \
                   x: x { #interrupt-cells = <1>; }; \
                   d { reset-gpios = <&gpio 3 0>; interrupt-parent = <&x>; }; };",
        );
        let b = c(
            "/dts-v1/; / { x: x { #interrupt-cells = <1>; phandle = <1>; }; \
                   gpio: g { gpio-controller; #gpio-cells = <2>; phandle = <2>; }; \
                   d { reset-gpios = <&gpio 3 0>; interrupt-parent = <&x>; }; };",
        );
        let (fa, fb) = (Fdt::new(&a).unwrap(), Fdt::new(&b).unwrap());
        assert_eq!(diff(&fa, &fb, &DiffOptions::default()), vec![]);
        let b2 = c(
            "/dts-v1/; / { gpio: g { gpio-controller; #gpio-cells = <2>; }; \
                   x: x { #interrupt-cells = <1>; }; \
                   d { reset-gpios = <&x 3 0>; interrupt-parent = <&x>; new; }; };",
        );
        let fb2 = Fdt::new(&b2).unwrap();
        let d = diff(&fa, &fb2, &DiffOptions::default());
        assert_eq!(d.len(), 3, "{d:?}");
        let mut text = Vec::new();
        write_text(&d, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("-\treset-gpios = <&{/g} 0x03 0x00>;"),
            "{text}"
        );
        assert!(text.contains("+\tnew;"), "{text}");
        // /g loses its phandle (nothing refers to it any more).
        assert!(text.contains("@ /g\n-\tphandle = <&{/g}>;"), "{text}");
        let ignore = DiffOptions::default().ignore("new");
        assert_eq!(diff(&fa, &fb2, &ignore).len(), 2);
    }

    #[test]
    fn interrupt_map_parents_resolve() {
        let src = |n: u32, m: u32| {
            format!(
                "/dts-v1/; / {{ pic: pic {{ #interrupt-cells = <2>; #address-cells = <0>; \
                 phandle = <{n}>; }}; o {{ phandle = <{m}>; }}; \
                 pci {{ #address-cells = <3>; #interrupt-cells = <1>; \
                 interrupt-map = <0 0 0 1 &pic 5 1 0x800 0 0 1 &pic 6 1>; }}; }};"
            )
        };
        let (a, b) = (c(&src(1, 2)), c(&src(2, 1)));
        let (fa, fb) = (Fdt::new(&a).unwrap(), Fdt::new(&b).unwrap());
        assert!(diff(&fa, &fb, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn equal_bytes_pointing_elsewhere_differ() {
        // The consumer's bytes are the same, but phandle 1 is /pic in A and /gpio in B.
        let a = c(
            "/dts-v1/; / { pic { phandle = <1>; }; gpio { phandle = <2>; }; \
                   d { x { interrupt-parent = <1>; }; }; };",
        );
        let b = c(
            "/dts-v1/; / { pic { phandle = <2>; }; gpio { phandle = <1>; }; \
                   d { x { interrupt-parent = <1>; }; }; };",
        );
        let (fa, fb) = (Fdt::new(&a).unwrap(), Fdt::new(&b).unwrap());
        let d = diff(&fa, &fb, &DiffOptions::default());
        assert!(
            matches!(&d[..], [Change::PropertyChanged { path, name, .. }]
                if path == "/d/x" && name == "interrupt-parent"),
            "{d:?}"
        );
        // Equal subtrees elsewhere are skipped; a change deep down is still found.
        let a = c("/dts-v1/; / { s { t { u { v = <1>; }; }; w { z; }; }; };");
        let b = c("/dts-v1/; / { s { t { u { v = <2>; }; }; w { z; }; }; };");
        let (fa, fb) = (Fdt::new(&a).unwrap(), Fdt::new(&b).unwrap());
        let d = diff(&fa, &fb, &DiffOptions::default());
        assert!(
            matches!(&d[..], [Change::PropertyChanged { path, .. }] if path == "/s/t/u"),
            "{d:?}"
        );
    }

    #[test]
    fn gpio_names_follow_dtc() {
        assert!(is_gpio("gpios") && is_gpio("reset-gpios") && is_gpio("cd-gpio"));
        assert!(!is_gpio("snps,nr-gpios") && !is_gpio("ngpios"));
    }
}
