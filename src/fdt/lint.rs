//! The structural checks dtc treats as errors, run on a blob this crate already accepted.
//!
//! A blob can be well formed (every token, offset and string in bounds) and still break the
//! devicetree rules that dtc enforces before it writes anything: two children with the same
//! name, a property given twice, characters outside the allowed sets, a `phandle` that is
//! zero, all-ones or used twice. dtc 1.6.1 refuses such a tree ("Input tree has errors,
//! aborting (use -f to force output)"); with `-f` it prints the tree anyway after one line
//! per violation of the first failing check. This module finds the same violations, under
//! dtc's own check names and with its messages: [`dtc_errors`] all of them (for `inspect`),
//! [`as_dtc_reports`] the lines `dtc -f` prints (for `dump`).
//!
//! The checks and their order are dtc's error-level checks that apply to a blob (dtc's
//! `checks.c`: `check_table`, `check_duplicate_node_names`,
//! `check_duplicate_property_names`, `check_node_name_chars`, `check_node_name_format`,
//! `check_property_name_chars`, `name_is_string`, `check_name_properties`,
//! `check_explicit_phandles`). dtc runs each check over the whole tree before the next, so
//! violations come grouped by check, each group in tree order; a check whose prerequisite
//! failed is skipped. Checks that only
//! make sense for source text (labels, references) and dtc's warning-level checks are not
//! run: a blob that only has warnings is one dtc writes without `-f`.

use super::reader::{Fdt, Node};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The name dtc gives a check (`dtc -W no-NAME`, and in its messages).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DtcCheck {
    /// Two children of one node share a name.
    DuplicateNodeNames,
    /// A node has two properties with one name.
    DuplicatePropertyNames,
    /// A node name has a character outside `[A-Za-z0-9,._+-@]`.
    NodeNameChars,
    /// A node name has more than one `@`.
    NodeNameFormat,
    /// A property name has a character outside `[A-Za-z0-9,._+*#?-]`.
    PropertyNameChars,
    /// A `name` property is not a single string.
    NameIsString,
    /// A `name` property differs from the node's base name.
    NameProperties,
    /// A `phandle` or `linux,phandle` is malformed, zero, all-ones, mismatched or reused.
    ExplicitPhandles,
}

impl DtcCheck {
    /// dtc's name for the check: `duplicate_node_names`, ...
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            DtcCheck::DuplicateNodeNames => "duplicate_node_names",
            DtcCheck::DuplicatePropertyNames => "duplicate_property_names",
            DtcCheck::NodeNameChars => "node_name_chars",
            DtcCheck::NodeNameFormat => "node_name_format",
            DtcCheck::PropertyNameChars => "property_name_chars",
            DtcCheck::NameIsString => "name_is_string",
            DtcCheck::NameProperties => "name_properties",
            DtcCheck::ExplicitPhandles => "explicit_phandles",
        }
    }
}

impl fmt::Display for DtcCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What exactly is wrong, with what dtc would say about it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum Problem {
    /// A node whose name an earlier sibling already has.
    DuplicateNodeName,
    /// A property whose name a later property of the node repeats.
    DuplicatePropertyName,
    /// The first character of a node name outside the allowed set.
    BadNodeNameChar {
        /// The offending byte.
        byte: u8,
    },
    /// A unit address with another `@` in it.
    MultipleAt,
    /// The first character of a property name outside the allowed set.
    BadPropertyNameChar {
        /// The offending byte.
        byte: u8,
    },
    /// A `name` property that is not one NUL-terminated string.
    NameNotString,
    /// A `name` property that is not the node's base name.
    NameIncorrect {
        /// The property's text up to its first NUL.
        value: String,
    },
    /// A `phandle`/`linux,phandle` value that is not one cell.
    PhandleLength {
        /// The property's length in bytes.
        len: usize,
    },
    /// A `phandle`/`linux,phandle` of 0 or 0xffffffff, which mean "no phandle".
    PhandleValue {
        /// The value.
        value: u32,
    },
    /// `phandle` and `linux,phandle` disagree.
    PhandleMismatch,
    /// A phandle an earlier node already has.
    PhandleDuplicate {
        /// The value.
        value: u32,
        /// The path of the node that has it first.
        first: String,
    },
}

/// One violation: the check, where it is (node path and property, as dtc names them) and
/// what is wrong. `Display` gives dtc's line without its `FILE: ` prefix:
/// `ERROR (duplicate_node_names): /hypervisor: Duplicate node name`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Violation {
    /// dtc's check.
    pub check: DtcCheck,
    /// The node's full path.
    pub path: String,
    /// The property, for property-level violations.
    pub property: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ERROR ({}): ", self.check)?;
        write_escaped(f, &self.path)?;
        if let Some(p) = &self.property {
            f.write_str(":")?;
            write_escaped(f, p)?;
        }
        f.write_str(": ")?;
        match &self.problem {
            Problem::DuplicateNodeName => f.write_str("Duplicate node name"),
            Problem::DuplicatePropertyName => f.write_str("Duplicate property name"),
            Problem::BadNodeNameChar { byte } => {
                write!(f, "Bad character '{}' in node name", Byte(*byte))
            }
            Problem::MultipleAt => f.write_str("multiple '@' characters in node name"),
            Problem::BadPropertyNameChar { byte } => {
                write!(f, "Bad character '{}' in property name", Byte(*byte))
            }
            Problem::NameNotString => f.write_str("property is not a string"),
            Problem::NameIncorrect { value } => {
                f.write_str("\"name\" property is incorrect (\"")?;
                write_escaped(f, value)?;
                f.write_str("\" instead of base node name)")
            }
            Problem::PhandleLength { len } => write!(
                f,
                "bad length ({len}) {} property",
                self.property.as_deref().unwrap_or("phandle")
            ),
            Problem::PhandleValue { value } => write!(
                f,
                "bad value ({value:#x}) in {} property",
                self.property.as_deref().unwrap_or("phandle")
            ),
            Problem::PhandleMismatch => {
                f.write_str("mismatching 'phandle' and 'linux,phandle' properties")
            }
            Problem::PhandleDuplicate { value, first } => {
                write!(f, "duplicated phandle {value:#x} (seen before at ")?;
                write_escaped(f, first)?;
                f.write_str(")")
            }
        }
    }
}

/// A byte as dtc's `%c` would show it, escaped when it is not printable ASCII so that a
/// hostile name cannot send control sequences to a terminal.
struct Byte(u8);

impl fmt::Display for Byte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b @ 0x20..=0x7e => write!(f, "{}", char::from(b)),
            b => write!(f, "\\x{b:02x}"),
        }
    }
}

/// Writes `s` with control characters escaped (`\x1b`, `\u{9b}`), everything else as is.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for c in s.chars() {
        if c.is_control() {
            if (c as u32) < 0x80 {
                write!(f, "\\x{:02x}", c as u32)?;
            } else {
                write!(f, "\\u{{{:x}}}", c as u32)?;
            }
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// Characters dtc allows in node names (its `NODECHARS`).
pub(crate) fn node_char_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b",._+-@".contains(&b)
}

/// Characters dtc allows in property names (its `PROPCHARS`).
pub(crate) fn prop_char_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b",._+*#?-".contains(&b)
}

/// The violations of `fdt`, in the order dtc prints them; empty for a tree dtc accepts.
///
/// A tree that [`may_have_errors`] clears costs one walk; only the others get the full
/// checks (one walk per check, with paths).
#[must_use]
pub fn dtc_errors(fdt: &Fdt<'_>) -> Vec<Violation> {
    if !may_have_errors(fdt) {
        return Vec::new();
    }
    all_checks(fdt)
}

/// False only when [`dtc_errors`] is surely empty: one walk without paths that looks for
/// anything a check could report (twin siblings or properties, a character outside
/// dtc's sets, a second `@`, any `name` property, a phandle that is malformed, zero,
/// all-ones, mismatched or seen before). Conservative: `true` may still mean no error
/// (a correct `name` property).
#[must_use]
pub fn may_have_errors(fdt: &Fdt<'_>) -> bool {
    // Property names are slices of the strings block: if the whole block holds only
    // allowed characters (and NULs), no name can break property_name_chars.
    let strings = fdt.blob().get(fdt.strings_range()).unwrap_or_default();
    let prop_chars_ok = strings.iter().all(|&b| b == 0 || prop_char_ok(b));
    if fdt.has_name_properties() {
        return true;
    }
    // groups[d]: hashes of the names seen so far among the children of the current node
    // at depth d - 1; a group is checked for twins when the walk leaves it. Equal
    // hashes count as twins (a false alarm only costs the full checks).
    let mut groups: Vec<Vec<u64>> = Vec::new();
    let mut phandles: BTreeSet<u32> = BTreeSet::new();
    let mut props: Vec<u64> = Vec::new();
    for (depth, node) in fdt.nodes() {
        for mut g in groups.drain((depth + 1).min(groups.len())..) {
            if has_twins(&mut g) {
                return true;
            }
        }
        while groups.len() < depth + 1 {
            groups.push(Vec::new());
        }
        let name = node.name();
        groups[depth].push(fnv(name));
        if !name.bytes().all(node_char_ok) || name.bytes().filter(|&b| b == b'@').count() > 1 {
            return true;
        }
        props.clear();
        let mut cells = [None::<u32>; 2];
        for p in node.properties() {
            props.push(fnv(p.name));
            if !prop_chars_ok && !p.name.bytes().all(prop_char_ok) {
                return true;
            }
            let slot = match p.name {
                "phandle" => 0,
                "linux,phandle" => 1,
                _ => continue,
            };
            let Ok(cell) = <[u8; 4]>::try_from(p.value) else {
                return true;
            };
            let v = crate::Endian::Big.u32_from(cell);
            if v == 0 || v == u32::MAX || cells[slot].is_some() {
                return true;
            }
            cells[slot] = Some(v);
        }
        if has_twins(&mut props) {
            return true;
        }
        match cells {
            [Some(a), Some(b)] if a != b => return true,
            [Some(v), _] | [None, Some(v)] => {
                if !phandles.insert(v) {
                    return true;
                }
            }
            [None, None] => {}
        }
    }
    groups.iter_mut().any(|g| has_twins(g))
}

/// FNV-1a of a name: a cheap key for spotting twins.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether two keys are equal.
fn has_twins(keys: &mut [u64]) -> bool {
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// Every check, as dtc runs them.
fn all_checks(fdt: &Fdt<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    duplicate_node_names(fdt, &mut out);
    duplicate_property_names(fdt, &mut out);
    // A check whose prerequisite failed does not run, as in dtc.
    if node_name_chars(fdt, &mut out) {
        node_name_format(fdt, &mut out);
    }
    property_name_chars(fdt, &mut out);
    if name_is_string(fdt, &mut out) {
        name_properties(fdt, &mut out);
    }
    explicit_phandles(fdt, &mut out);
    out
}

/// The violations dtc itself prints: only those of the first check that fails, because
/// dtc stops running error-level checks once one has failed (`process_checks` in
/// `checks.c` ors the results with a short-circuiting `||`).
#[must_use]
pub fn as_dtc_reports(all: &[Violation]) -> &[Violation] {
    let Some(first) = all.first() else {
        return all;
    };
    let n = all.iter().take_while(|v| v.check == first.check).count();
    &all[..n]
}

fn at_node(check: DtcCheck, path: &str, problem: Problem) -> Violation {
    Violation {
        check,
        path: path.into(),
        property: None,
        problem,
    }
}

fn at_prop(check: DtcCheck, path: &str, prop: &str, problem: Problem) -> Violation {
    Violation {
        check,
        path: path.into(),
        property: Some(prop.into()),
        problem,
    }
}

/// The path of `child` under the node at `parent`.
fn child_path(parent: &str, child: &Node<'_>) -> String {
    let mut p = String::with_capacity(parent.len() + 1 + child.name().len());
    p.push_str(parent);
    if !parent.ends_with('/') {
        p.push('/');
    }
    p.push_str(child.name());
    p
}

/// Pairs `(i, j)`, `i < j`, of equal keys, in the order of dtc's nested loop (outer `i`,
/// inner `j`), found through a map so that a node with many distinct children costs
/// O(n log n), not O(n²).
fn equal_pairs<'k>(keys: &[&'k str]) -> Vec<(usize, usize)> {
    let mut by_key: BTreeMap<&'k str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_key.entry(k).or_default().push(i);
    }
    let mut pairs = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let same = &by_key[k];
        if same.len() > 1 {
            pairs.extend(same.iter().filter(|&&j| j > i).map(|&j| (i, j)));
        }
    }
    pairs
}

/// dtc's `check_duplicate_node_names`: reported at the later child, once per earlier twin.
fn duplicate_node_names(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    for (path, node) in fdt.nodes_with_paths() {
        let children: Vec<Node<'_>> = node.children().collect();
        let names: Vec<&str> = children.iter().map(|c| c.name()).collect();
        for (_, j) in equal_pairs(&names) {
            out.push(at_node(
                DtcCheck::DuplicateNodeNames,
                &child_path(&path, &children[j]),
                Problem::DuplicateNodeName,
            ));
        }
    }
}

/// dtc's `check_duplicate_property_names`: reported at the earlier property.
fn duplicate_property_names(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    for (path, node) in fdt.nodes_with_paths() {
        let names: Vec<&str> = node.properties().map(|p| p.name).collect();
        for (i, _) in equal_pairs(&names) {
            out.push(at_prop(
                DtcCheck::DuplicatePropertyNames,
                &path,
                names[i],
                Problem::DuplicatePropertyName,
            ));
        }
    }
}

/// dtc's `check_node_name_chars`; true when it passed.
fn node_name_chars(fdt: &Fdt<'_>, out: &mut Vec<Violation>) -> bool {
    let before = out.len();
    for (path, node) in fdt.nodes_with_paths() {
        if let Some(&byte) = node.name().as_bytes().iter().find(|&&b| !node_char_ok(b)) {
            out.push(at_node(
                DtcCheck::NodeNameChars,
                &path,
                Problem::BadNodeNameChar { byte },
            ));
        }
    }
    out.len() == before
}

/// dtc's `check_node_name_format`: another `@` in the unit address.
fn node_name_format(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    for (path, node) in fdt.nodes_with_paths() {
        if node.unit_address().is_some_and(|u| u.contains('@')) {
            out.push(at_node(
                DtcCheck::NodeNameFormat,
                &path,
                Problem::MultipleAt,
            ));
        }
    }
}

/// dtc's `check_property_name_chars`.
fn property_name_chars(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    for (path, node) in fdt.nodes_with_paths() {
        for p in node.properties() {
            if let Some(&byte) = p.name.as_bytes().iter().find(|&&b| !prop_char_ok(b)) {
                out.push(at_prop(
                    DtcCheck::PropertyNameChars,
                    &path,
                    p.name,
                    Problem::BadPropertyNameChar { byte },
                ));
            }
        }
    }
}

/// dtc's `name_is_string` (the first `name` property of each node); true when it passed.
fn name_is_string(fdt: &Fdt<'_>, out: &mut Vec<Violation>) -> bool {
    let before = out.len();
    for (path, node) in fdt.nodes_with_paths() {
        if let Some(p) = node.property("name") {
            // dtc's data_is_one_string: exactly one NUL, at the end.
            let one_string =
                p.value.last() == Some(&0) && !p.value[..p.value.len() - 1].contains(&0);
            if !one_string {
                out.push(at_prop(
                    DtcCheck::NameIsString,
                    &path,
                    "name",
                    Problem::NameNotString,
                ));
            }
        }
    }
    out.len() == before
}

/// dtc's `check_name_properties`: a `name` property must be the base name plus its NUL.
fn name_properties(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    for (path, node) in fdt.nodes_with_paths() {
        let Some(p) = node.property("name") else {
            continue;
        };
        let base = node.base_name().as_bytes();
        let correct = p.value.len() == base.len() + 1 && p.value.starts_with(base);
        if !correct {
            let text = p.value.split(|&b| b == 0).next().unwrap_or_default();
            out.push(at_node(
                DtcCheck::NameProperties,
                &path,
                Problem::NameIncorrect {
                    value: String::from_utf8_lossy(text).into_owned(),
                },
            ));
        }
    }
}

/// One phandle property as dtc's `check_phandle_prop` reads it: `Some(value)` when valid.
fn phandle_prop(node: &Node<'_>, name: &str, path: &str, out: &mut Vec<Violation>) -> u32 {
    let Some(p) = node.property(name) else {
        return 0;
    };
    let Ok(cell) = <[u8; 4]>::try_from(p.value) else {
        out.push(at_prop(
            DtcCheck::ExplicitPhandles,
            path,
            name,
            Problem::PhandleLength { len: p.value.len() },
        ));
        return 0;
    };
    let value = crate::Endian::Big.u32_from(cell);
    if value == 0 || value == u32::MAX {
        out.push(at_prop(
            DtcCheck::ExplicitPhandles,
            path,
            name,
            Problem::PhandleValue { value },
        ));
        return 0;
    }
    value
}

/// dtc's `check_explicit_phandles`.
fn explicit_phandles(fdt: &Fdt<'_>, out: &mut Vec<Violation>) {
    let mut seen: BTreeMap<u32, String> = BTreeMap::new();
    for (path, node) in fdt.nodes_with_paths() {
        let phandle = phandle_prop(&node, "phandle", &path, out);
        let linux = phandle_prop(&node, "linux,phandle", &path, out);
        if phandle == 0 && linux == 0 {
            continue;
        }
        if phandle != 0 && linux != 0 && phandle != linux {
            out.push(at_node(
                DtcCheck::ExplicitPhandles,
                &path,
                Problem::PhandleMismatch,
            ));
        }
        let value = if phandle == 0 { linux } else { phandle };
        if let Some(first) = seen.get(&value) {
            out.push(at_node(
                DtcCheck::ExplicitPhandles,
                &path,
                Problem::PhandleDuplicate {
                    value,
                    first: first.clone(),
                },
            ));
            continue;
        }
        seen.insert(value, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endian::be;
    use alloc::string::ToString;
    use alloc::vec;

    /// One node of a test tree: name, properties, children.
    struct N(&'static str, Vec<(&'static str, Vec<u8>)>, Vec<N>);

    /// A v17 blob written token by token, so it can hold what dtc and ppcpv's own
    /// writer refuse to write.
    fn raw(root: &N) -> Vec<u8> {
        fn emit(n: &N, st: &mut Vec<u8>, strings: &mut Vec<u8>) {
            be::push_u32(st, 1);
            st.extend_from_slice(n.0.as_bytes());
            st.push(0);
            while !st.len().is_multiple_of(4) {
                st.push(0);
            }
            for (name, val) in &n.1 {
                let off = strings.len() as u32;
                strings.extend_from_slice(name.as_bytes());
                strings.push(0);
                be::push_u32(st, 3);
                be::push_u32(st, val.len() as u32);
                be::push_u32(st, off);
                st.extend_from_slice(val);
                while !st.len().is_multiple_of(4) {
                    st.push(0);
                }
            }
            for c in &n.2 {
                emit(c, st, strings);
            }
            be::push_u32(st, 2);
        }
        let (mut st, mut strings) = (Vec::new(), Vec::new());
        emit(root, &mut st, &mut strings);
        be::push_u32(&mut st, 9);
        let rsv = 40usize;
        let off_struct = rsv + 16;
        let off_strings = off_struct + st.len();
        let total = off_strings + strings.len();
        let mut b = Vec::new();
        for v in [
            0xd00d_feed,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            rsv as u32,
            17,
            16,
            0,
            strings.len() as u32,
            st.len() as u32,
        ] {
            be::push_u32(&mut b, v);
        }
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&st);
        b.extend_from_slice(&strings);
        b
    }

    fn cell(v: u32) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }

    fn lines(root: &N) -> Vec<String> {
        let b = raw(root);
        let fdt = Fdt::new(&b).unwrap();
        dtc_errors(&fdt).iter().map(ToString::to_string).collect()
    }

    /// The fast filter never clears a tree the full checks fault: seeded mutants of a
    /// tree near every check's edge.
    #[test]
    fn the_filter_never_hides_a_violation() {
        let t = N(
            "",
            vec![("phandle", cell(1)), ("#size-cells", cell(1))],
            vec![
                N("cpu@0", vec![("linux,phandle", cell(2))], vec![]),
                N(
                    "cpu@1",
                    vec![("phandle", cell(3)), ("linux,phandle", cell(3))],
                    vec![N("cache", vec![("reg", cell(4))], vec![])],
                ),
                N("soc", vec![("nama", b"soc\0".to_vec())], vec![]),
            ],
        );
        let golden = raw(&t);
        assert!(!may_have_errors(&Fdt::new(&golden).unwrap()));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let (mut parsed, mut faulty) = (0, 0);
        for _ in 0..20_000 {
            let mut b = golden.clone();
            for _ in 0..2 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = 56 + (state % (b.len() as u64 - 56)) as usize;
                b[i] = b"@$#n0a\x01\x02\x03p"[(state >> 32) as usize % 10];
            }
            if let Ok(fdt) = Fdt::new(&b) {
                parsed += 1;
                let all = all_checks(&fdt);
                faulty += usize::from(!all.is_empty());
                assert!(may_have_errors(&fdt) || all.is_empty(), "{all:?}");
            }
        }
        assert!(
            parsed > 1000 && faulty > 100,
            "{parsed} parsed, {faulty} faulty"
        );
    }

    #[test]
    fn a_clean_tree_has_none() {
        let t = N(
            "",
            vec![("phandle", cell(1))],
            vec![N("cpu@0", vec![("name", b"cpu\0".to_vec())], vec![])],
        );
        assert_eq!(lines(&t), Vec::<String>::new());
    }

    /// dtc 1.6.1's messages (`dtc -f -I dtb -O dts`, without the `FILE: ` prefix) for
    /// trees holding one kind of violation each, written by a script with the same raw
    /// layout and run through dtc.
    #[test]
    fn every_check_speaks_like_dtc() {
        let cases: Vec<(N, Vec<&str>)> = vec![
            (
                N(
                    "",
                    vec![
                        ("compatible", b"a\0".to_vec()),
                        ("compatible", b"b\0".to_vec()),
                    ],
                    vec![],
                ),
                vec!["ERROR (duplicate_property_names): /:compatible: Duplicate property name"],
            ),
            (
                N(
                    "",
                    vec![],
                    vec![N("bad#name", vec![("bad$prop", cell(1))], vec![])],
                ),
                vec![
                    "ERROR (node_name_chars): /bad#name: Bad character '#' in node name",
                    // dtc stops at the check above; the full list goes on.
                    "ERROR (property_name_chars): /bad#name:bad$prop: Bad character '$' in property name",
                ],
            ),
            (
                N("", vec![], vec![N("x@1@2", vec![], vec![])]),
                vec!["ERROR (node_name_format): /x@1@2: multiple '@' characters in node name"],
            ),
            (
                N(
                    "",
                    vec![],
                    vec![N("w", vec![("name", b"w\0w\0".to_vec())], vec![])],
                ),
                vec!["ERROR (name_is_string): /w:name: property is not a string"],
            ),
            (
                N(
                    "",
                    vec![],
                    vec![N("y", vec![("name", b"z\0".to_vec())], vec![])],
                ),
                vec![
                    "ERROR (name_properties): /y: \"name\" property is incorrect (\"z\" instead of base node name)",
                ],
            ),
            (
                N(
                    "",
                    vec![],
                    vec![
                        N("n1", vec![("phandle", cell(1))], vec![]),
                        N("n2", vec![("phandle", cell(1))], vec![]),
                        N("n3", vec![("phandle", cell(0xffff_ffff))], vec![]),
                        N("n4", vec![("linux,phandle", vec![0, 1])], vec![]),
                        N(
                            "n5",
                            vec![("phandle", cell(7)), ("linux,phandle", cell(8))],
                            vec![],
                        ),
                        N("n6", vec![("phandle", cell(0))], vec![]),
                    ],
                ),
                vec![
                    "ERROR (explicit_phandles): /n2: duplicated phandle 0x1 (seen before at /n1)",
                    "ERROR (explicit_phandles): /n3:phandle: bad value (0xffffffff) in phandle property",
                    "ERROR (explicit_phandles): /n4:linux,phandle: bad length (2) linux,phandle property",
                    "ERROR (explicit_phandles): /n5: mismatching 'phandle' and 'linux,phandle' properties",
                    "ERROR (explicit_phandles): /n6:phandle: bad value (0x0) in phandle property",
                ],
            ),
        ];
        for (tree, want) in cases {
            assert_eq!(lines(&tree), want);
        }
    }

    #[test]
    fn dtc_prints_only_the_first_failing_check() {
        let t = N(
            "",
            vec![
                ("compatible", b"a\0".to_vec()),
                ("compatible", b"b\0".to_vec()),
            ],
            vec![
                N("h", vec![], vec![]),
                N("h", vec![], vec![]),
                N("a#", vec![], vec![]),
            ],
        );
        let b = raw(&t);
        let fdt = Fdt::new(&b).unwrap();
        let all = dtc_errors(&fdt);
        assert_eq!(all.len(), 3);
        let shown: Vec<String> = as_dtc_reports(&all)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            ["ERROR (duplicate_node_names): /h: Duplicate node name"]
        );
        assert!(as_dtc_reports(&[]).is_empty());
    }

    #[test]
    fn triplets_are_reported_per_pair_and_names_are_escaped() {
        let t = N(
            "",
            vec![],
            vec![
                N("a", vec![], vec![]),
                N("a", vec![], vec![]),
                N("a", vec![], vec![]),
                N("x@1@2", vec![("e\u{1b}", cell(1))], vec![]),
            ],
        );
        // dtc prints the same three lines for the triplet; where it prints the raw
        // escape byte, ppcpv escapes it.
        assert_eq!(
            lines(&t),
            [
                "ERROR (duplicate_node_names): /a: Duplicate node name",
                "ERROR (duplicate_node_names): /a: Duplicate node name",
                "ERROR (duplicate_node_names): /a: Duplicate node name",
                "ERROR (node_name_format): /x@1@2: multiple '@' characters in node name",
                "ERROR (property_name_chars): /x@1@2:e\\x1b: Bad character '\\x1b' in property name",
            ]
        );
    }
}
