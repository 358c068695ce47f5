//! The reader and the DTS printer against every blob of the shared corpus: each
//! readable tree must print byte-identical to dtc 1.6.1's recorded output
//! (`ref/NAME.dts`, or `ref/NAME.forced.dts` where dtc needed `-f`), each count must
//! match the corpus manifest, and each refused blob must be refused for its own reason.

mod common;

use ppcpv::fdt::dts::{DtsOptions, to_dts_string};
use ppcpv::fdt::{Fdt, FdtError};
use std::path::Path;

/// Blobs refused on purpose, with the error each must produce (see the decision table
/// in `ppcpv::fdt::reader`'s module docs).
fn expected_refusal(name: &str) -> Option<fn(&FdtError) -> bool> {
    use FdtError as E;
    let f: fn(&FdtError) -> bool = match name {
        "synthetic-corrupt-bad-magic" => |e| matches!(e, E::BadMagic { .. }),
        "synthetic-corrupt-bad-token-ffffffff" => |e| {
            matches!(
                e,
                E::BadToken {
                    token: 0xffff_ffff,
                    ..
                }
            )
        },
        "synthetic-corrupt-bad-token" => |e| matches!(e, E::BadToken { token: 7, .. }),
        "synthetic-corrupt-data-after-root" => |e| matches!(e, E::SecondRoot { .. }),
        "synthetic-corrupt-early-end-node" => |e| matches!(e, E::SecondRoot { .. }),
        "synthetic-corrupt-empty-file" => |e| matches!(e, E::TruncatedHeader { len: 0, .. }),
        "synthetic-corrupt-extra-end-node" => |e| matches!(e, E::ExtraEndNode { .. }),
        "synthetic-corrupt-last-comp-version-gt-version" => {
            |e| matches!(e, E::UnsupportedVersion { .. })
        }
        "synthetic-corrupt-len-beyond-struct" => |e| matches!(e, E::PropertyTooLong { .. }),
        "synthetic-corrupt-len-overflow" => |e| matches!(e, E::PropertyTooLong { .. }),
        "synthetic-corrupt-magic-only" => |e| matches!(e, E::TruncatedHeader { len: 4, .. }),
        "synthetic-corrupt-missing-end-node" => |e| matches!(e, E::PrematureEnd { .. }),
        "synthetic-corrupt-missing-fdt-end" => |e| matches!(e, E::MissingEnd { .. }),
        "synthetic-corrupt-nameoff-beyond-strings" => {
            |e| matches!(e, E::NameOffsetOutOfRange { .. })
        }
        "synthetic-corrupt-nodename-unterminated" => {
            |e| matches!(e, E::UnterminatedNodeName { .. })
        }
        "synthetic-corrupt-off-dt-strings-out-of-range" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::Strings,
                    ..
                }
            )
        },
        "synthetic-corrupt-off-dt-struct-misaligned" => |e| {
            matches!(
                e,
                E::Misaligned {
                    block: ppcpv::fdt::error::BlockKind::Structure,
                    ..
                }
            )
        },
        "synthetic-corrupt-off-dt-struct-out-of-range" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::Structure,
                    ..
                }
            )
        },
        "synthetic-corrupt-off-mem-rsvmap-misaligned" => |e| {
            matches!(
                e,
                E::Misaligned {
                    block: ppcpv::fdt::error::BlockKind::MemoryReservation,
                    ..
                }
            )
        },
        "synthetic-corrupt-off-mem-rsvmap-out-of-range" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::MemoryReservation,
                    ..
                }
            )
        },
        "synthetic-corrupt-prop-before-root" => |e| matches!(e, E::NoRootNode { token: 3, .. }),
        "synthetic-corrupt-rsvmap-unterminated" => |e| {
            matches!(
                e,
                E::BlocksOverlap {
                    a: ppcpv::fdt::error::BlockKind::MemoryReservation,
                    b: ppcpv::fdt::error::BlockKind::Structure,
                    ..
                }
            )
        },
        "synthetic-corrupt-size-dt-strings-beyond-totalsize" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::Strings,
                    ..
                }
            )
        },
        "synthetic-corrupt-size-dt-struct-beyond-totalsize" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::Structure,
                    ..
                }
            )
        },
        "synthetic-corrupt-strings-overlap-struct" => |e| matches!(e, E::BlocksOverlap { .. }),
        "synthetic-corrupt-strings-unterminated" => {
            |e| matches!(e, E::UnterminatedPropertyName { .. })
        }
        "synthetic-corrupt-totalsize-beyond-file" => {
            |e| matches!(e, E::TotalSizeBeyondInput { .. })
        }
        "synthetic-corrupt-totalsize-too-small" => |e| {
            matches!(
                e,
                E::BlockOutOfBounds {
                    block: ppcpv::fdt::error::BlockKind::Strings,
                    ..
                }
            )
        },
        "synthetic-corrupt-truncated-half" => |e| matches!(e, E::TotalSizeBeyondInput { .. }),
        "synthetic-corrupt-truncated-header-39" => {
            |e| matches!(e, E::TruncatedHeader { len: 39, need: 40 })
        }
        "synthetic-corrupt-truncated-header" => |e| matches!(e, E::TruncatedHeader { len: 20, .. }),
        "synthetic-corrupt-version-too-new" => {
            |e| matches!(e, E::UnsupportedVersion { version: 32, .. })
        }
        "synthetic-corrupt-version-zero" => {
            |e| matches!(e, E::UnsupportedVersion { version: 0, .. })
        }
        _ => return None,
    };
    Some(f)
}

/// nodes and properties per blob from the corpus manifest.
/// Counts are compared only where libfdt walked the blob itself (`count_by` =
/// `libfdt`): libfdt stops listing a node's properties at its first child, so it
/// misses `prop-after-subnode`'s trailing property, and the v1-3 counts come from
/// dtc's re-encoding, which dropped the redundant `name` properties.
fn manifest_counts(corpus: &Path) -> Vec<(String, Option<usize>, Option<usize>)> {
    let text = std::fs::read_to_string(corpus.join("manifest.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let exact = f.get(12) == Some(&"libfdt") && !f.first()?.contains("prop-after-subnode");
            let num = |i: usize| f.get(i).and_then(|v| v.parse().ok()).filter(|_| exact);
            Some((f.first()?.to_string(), num(3), num(4)))
        })
        .collect()
}

fn stem(file: &str) -> &str {
    file.strip_suffix(".dtb").unwrap_or(file)
}

fn reference(corpus: &Path, stem: &str) -> Option<String> {
    let r = corpus.join("ref");
    std::fs::read_to_string(r.join(format!("{stem}.dts")))
        .or_else(|_| std::fs::read_to_string(r.join(format!("{stem}.forced.dts"))))
        .ok()
}

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn every_corpus_blob_dumps_like_dtc_or_is_refused_for_its_reason() {
    let Some(corpus) = common::corpus("every_corpus_blob") else {
        return;
    };
    let counts = manifest_counts(&corpus);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, nodes, props) in &counts {
        if file.ends_with(".xz") {
            continue;
        }
        let blob = std::fs::read(corpus.join("dtb").join(file)).unwrap();
        let stem = stem(file);
        let result = Fdt::new(&blob);
        match (expected_refusal(stem), result) {
            (Some(check), Err(e)) => {
                if !check(&e) {
                    failures.push(format!("{file}: refused with the wrong error: {e}"));
                }
            }
            (Some(_), Ok(_)) => failures.push(format!("{file}: should be refused")),
            (None, Err(e)) => failures.push(format!("{file}: refused: {e}")),
            (None, Ok(fdt)) => {
                if let (Some(n), Some(p)) = (nodes, props)
                    && (fdt.node_count(), fdt.property_count()) != (*n, *p)
                {
                    failures.push(format!(
                        "{file}: {} nodes / {} props, manifest says {n} / {p}",
                        fdt.node_count(),
                        fdt.property_count()
                    ));
                }
                let Some(want) = reference(&corpus, stem) else {
                    failures.push(format!("{file}: no dtc reference"));
                    continue;
                };
                let got = to_dts_string(&fdt, &DtsOptions::default());
                if got != want {
                    let line = got
                        .lines()
                        .zip(want.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or(0);
                    failures.push(format!(
                        "{file}: DTS differs from dtc at line {}: got {:?} want {:?}",
                        line + 1,
                        got.lines().nth(line),
                        want.lines().nth(line)
                    ));
                }
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 110, "only {checked} blobs checked");
}

type CrateNode<'a> = fdt::nodes::Node<
    'a,
    (
        fdt::parsing::unaligned::UnalignedParser<'a>,
        fdt::parsing::NoPanic,
    ),
>;

/// Lines `depth name prop=len...` from the `fdt` crate, recursing over `children()`
/// (its `all_nodes()` stops at depth 15: `fdt@0.2.0-alpha3: src/nodes/root.rs`,
/// `AllNodesIter` keeps 16 parent slots).
fn crate_lines(n: CrateNode<'_>, depth: usize, out: &mut Vec<String>) {
    let name = n.name().unwrap();
    let full = match (depth, name.unit_address) {
        (0, _) => String::new(),
        (_, Some(u)) => format!("{}@{u}", name.name),
        (_, None) => name.name.to_string(),
    };
    let props: Vec<String> = n
        .properties()
        .unwrap()
        .iter()
        .map(|p| {
            let p = p.unwrap();
            format!("{}={}", p.name, p.value.len())
        })
        .collect();
    out.push(format!("{depth} {full} {}", props.join(" ")));
    for c in n.children().unwrap().iter() {
        crate_lines(c.unwrap(), depth + 1, out);
    }
}

/// The reader agrees with the `fdt` crate (a second, independent parser) on every node
/// and property of every v16/v17 fixture it can read.
#[test]
fn reader_agrees_with_the_fdt_crate() {
    use fdt::nodes::AsNode;
    let mut checked = 0;
    for e in std::fs::read_dir(common::data("")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() || p.extension().is_some_and(|x| x == "dts") {
            continue;
        }
        let blob = std::fs::read(&p).unwrap();
        let Ok(ours) = Fdt::new(&blob) else { continue };
        if ours.header().is_old_format() {
            continue; // the fdt crate reads versions 16 and 17 only
        }
        let Ok(theirs) = fdt::Fdt::new_unaligned_fallible(&blob) else {
            continue;
        };
        if ours.has_properties_after_children() {
            // The crate stops listing properties at the first child.
            continue;
        }
        let mut want = Vec::new();
        crate_lines(theirs.root().unwrap().as_node(), 0, &mut want);
        let got: Vec<String> = ours
            .nodes()
            .map(|(d, n)| {
                let props: Vec<String> = n
                    .properties()
                    .map(|p| format!("{}={}", p.name, p.value.len()))
                    .collect();
                let name = if d == 0 { "" } else { n.name() };
                format!("{d} {name} {}", props.join(" "))
            })
            .collect();
        assert_eq!(got, want, "{}", p.display());
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures compared");
}

/// The tree of `fdt` written again through `FdtBuilder`: same reservations, boot CPU,
/// nodes, properties and order. Phandles go through `property_phandle` (the builder
/// refuses them as plain properties), so a node whose phandle properties are not in
/// one of dtc's three `-H` shapes is reported as an error and skipped by the caller.
fn rebuild(fdt: &Fdt<'_>) -> Result<Vec<u8>, String> {
    use ppcpv::fdt::writer::{FdtBuilder, Padding, PhandleStyle};
    let reserves: Vec<(u64, u64)> = fdt.reservations().map(|r| (r.address, r.size)).collect();
    let mut w = FdtBuilder::with_memreserves(&reserves).map_err(|e| e.to_string())?;
    w.set_boot_cpuid_phys(fdt.header().boot_cpuid_phys.unwrap_or(0));
    let mut open = Vec::new();
    for (depth, node) in fdt.nodes() {
        while open.len() > depth {
            w.end_node(open.pop().unwrap()).map_err(|e| e.to_string())?;
        }
        open.push(w.begin_node(node.name()).map_err(|e| e.to_string())?);
        let props: Vec<_> = node.properties().collect();
        let mut i = 0;
        while i < props.len() {
            let p = &props[i];
            let phandle = |v: &[u8]| -> Result<u32, String> {
                Ok(u32::from_be_bytes(
                    v.try_into().map_err(|_| "phandle size")?,
                ))
            };
            match p.name {
                "linux,phandle" => {
                    let v = phandle(p.value)?;
                    let both = props
                        .get(i + 1)
                        .is_some_and(|q| q.name == "phandle" && q.value == p.value);
                    w.set_phandle_style(if both {
                        PhandleStyle::Both
                    } else {
                        PhandleStyle::Legacy
                    });
                    w.property_phandle(v).map_err(|e| e.to_string())?;
                    i += if both { 2 } else { 1 };
                }
                "phandle" => {
                    w.set_phandle_style(PhandleStyle::Epapr);
                    w.property_phandle(phandle(p.value)?)
                        .map_err(|e| e.to_string())?;
                    i += 1;
                }
                _ => {
                    w.property(p.name, p.value).map_err(|e| e.to_string())?;
                    i += 1;
                }
            }
        }
    }
    while let Some(t) = open.pop() {
        w.end_node(t).map_err(|e| e.to_string())?;
    }
    w.finish(&Padding::NONE).map_err(|e| e.to_string())
}

/// The serializer writes what dtc 1.6.1 writes: every corpus tree that dtc re-emits
/// (`dtc -I dtb -O dtb`) and the builder accepts comes out byte-identical when built
/// from dtc's output, string-table tail sharing included.
#[test]
fn builder_writes_what_dtc_writes() {
    let Some(corpus) = common::corpus("builder_writes_what_dtc_writes") else {
        return;
    };
    if !common::interop("builder_writes_what_dtc_writes", "dtc") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (mut same, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    let mut files: Vec<_> = std::fs::read_dir(corpus.join("dtb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dtb"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = tmp.path().join("canon.dtb");
        let ok = std::process::Command::new("dtc")
            .args(["-q", "-I", "dtb", "-O", "dtb", "-o"])
            .arg(&out)
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            skipped.push(format!("{name}: dtc refuses it"));
            continue;
        }
        let canon = std::fs::read(&out).unwrap();
        let fdt = Fdt::new(&canon).unwrap();
        match rebuild(&fdt) {
            Ok(bytes) if bytes == canon => same += 1,
            Ok(_) => failures.push(name),
            Err(e) => skipped.push(format!("{name}: {e}")),
        }
    }
    eprintln!("builder_writes_what_dtc_writes: {same} identical; skipped: {skipped:#?}");
    assert!(failures.is_empty(), "differs from dtc: {failures:?}");
    assert!(same >= 40, "only {same} trees compared");
}
