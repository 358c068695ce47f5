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
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// One tree, indexed: nodes in document order with their paths, by path, and by
/// phandle.
struct Indexed<'a> {
    nodes: Vec<(String, Node<'a>)>,
    by_phandle: BTreeMap<u32, usize>,
}

fn one_cell(node: &Node<'_>, name: &str) -> Option<u32> {
    let p = node.property(name)?;
    let b: [u8; 4] = p.value.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

impl<'a> Indexed<'a> {
    fn new(fdt: &Fdt<'a>) -> Self {
        let nodes: Vec<(String, Node<'a>)> = fdt.nodes_with_paths().collect();
        let mut by_phandle = BTreeMap::new();
        for (i, (_, n)) in nodes.iter().enumerate() {
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
                by_phandle.entry(ph).or_insert(i);
            }
        }
        Indexed { nodes, by_phandle }
    }

    fn target(&self, ph: u32) -> Option<&(String, Node<'a>)> {
        self.by_phandle.get(&ph).map(|&i| &self.nodes[i])
    }

    /// The value of property `name` of node `i`, phandles resolved where the binding
    /// says.
    fn value(&self, i: usize, name: &str, raw: &[u8]) -> Value {
        Value {
            raw: raw.to_vec(),
            refs: self.resolve(i, name, raw),
        }
    }

    fn resolve(&self, i: usize, name: &str, raw: &[u8]) -> Option<Vec<Cell>> {
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
                Some(vec![Cell::Ref(self.nodes[i].0.clone())])
            }
            "interrupt-parent" | "remote-endpoint" if cells.len() == 1 => {
                Some(vec![reference(cells[0])?])
            }
            "interrupt-map" => self.interrupt_map(i, &cells),
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

    fn interrupt_map(&self, i: usize, cells: &[u32]) -> Option<Vec<Cell>> {
        let node = &self.nodes[i].1;
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

    fn props(&self, i: usize, opts: &DiffOptions) -> Vec<(String, Value)> {
        let mut seen = BTreeSet::new();
        self.nodes[i]
            .1
            .properties()
            .filter(|p| !opts.ignore.contains(p.name) && seen.insert(p.name))
            .map(|p| (p.name.to_string(), self.value(i, p.name, p.value)))
            .collect()
    }
}

/// The differences between trees `a` and `b`: header fields, reservations, then nodes
/// and properties in A's order, then the nodes only B has in B's order. Empty when the
/// trees are equal.
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

    let ia = Indexed::new(a);
    let ib = Indexed::new(b);
    let pa = ia.index_paths();
    let pb = ib.index_paths();
    for (i, (path, _)) in ia.nodes.iter().enumerate() {
        if pa.get(path.as_str()) != Some(&i) {
            continue; // a duplicate path: the first one stands for it
        }
        let Some(&j) = pb.get(path.as_str()) else {
            out.push(Change::NodeRemoved {
                path: path.clone(),
                props: ia.props(i, opts),
            });
            continue;
        };
        let props_a = first_props(&ia.nodes[i].1, opts);
        let mut props_b = first_props(&ib.nodes[j].1, opts);
        for (name, va) in props_a {
            match props_b.iter().position(|(n, _)| *n == name) {
                Some(k) => {
                    let (_, vb) = props_b.swap_remove(k);
                    // Plain values compare as bytes; phandle references by target.
                    let differ = if is_reference(name) {
                        ia.value(i, name, va) != ib.value(j, name, vb)
                    } else {
                        va != vb
                    };
                    if differ {
                        out.push(Change::PropertyChanged {
                            path: path.clone(),
                            name: name.to_string(),
                            a: ia.value(i, name, va),
                            b: ib.value(j, name, vb),
                        });
                    }
                }
                None => out.push(Change::PropertyRemoved {
                    path: path.clone(),
                    name: name.to_string(),
                    value: ia.value(i, name, va),
                }),
            }
        }
        // What is left of B's, in B's order.
        let mut rest = props_b;
        rest.sort_by_key(|(n, _)| {
            ib.nodes[j]
                .1
                .properties()
                .position(|p| p.name == *n)
                .unwrap_or(usize::MAX)
        });
        for (name, value) in rest {
            out.push(Change::PropertyAdded {
                path: path.clone(),
                name: name.to_string(),
                value: ib.value(j, name, value),
            });
        }
    }
    for (j, (path, _)) in ib.nodes.iter().enumerate() {
        if pb.get(path.as_str()) == Some(&j) && !pa.contains_key(path.as_str()) {
            out.push(Change::NodeAdded {
                path: path.clone(),
                props: ib.props(j, opts),
            });
        }
    }
    out
}

impl Indexed<'_> {
    /// Node index by path; a duplicated path (two siblings of the same name, which
    /// dtc refuses) stands for its first node.
    fn index_paths(&self) -> HashMap<&str, usize> {
        let mut m = HashMap::with_capacity(self.nodes.len());
        for (i, (p, _)) in self.nodes.iter().enumerate() {
            m.entry(p.as_str()).or_insert(i);
        }
        m
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
    fn gpio_names_follow_dtc() {
        assert!(is_gpio("gpios") && is_gpio("reset-gpios") && is_gpio("cd-gpio"));
        assert!(!is_gpio("snps,nr-gpios") && !is_gpio("ngpios"));
    }
}
