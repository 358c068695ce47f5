//! The DTS compiler on its own fixtures (`tests/data/compile`), without outside tools:
//! every case is compared with the blob dtc 1.6.1 wrote for it (`golden/`), node by
//! node and property by property, with the header fields the options set; every
//! error fixture must be refused with the right reason and a position.
//!
//! Byte-for-byte identity with dtc (string-table tail sharing included) is checked
//! against a live dtc in `compile_interop.rs`.

mod common;

use ppcpv::fdt::Fdt;
use ppcpv::fdt::compile::{CompileOptions, ErrorKind, NoFiles, StdFiles, compile};
use ppcpv::fdt::writer::{Padding, PhandleStyle};
use std::path::Path;

/// A node path with its properties (name, value) in order.
type NodeProps = (String, Vec<(String, Vec<u8>)>);

/// Which error a fixture must give.
type Expect = (&'static str, fn(&ErrorKind) -> bool);

/// Everything of a blob that is not layout: reservations, boot CPU, version, and
/// every node path with its properties in order.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    reservations: Vec<(u64, u64)>,
    boot_cpuid_phys: Option<u32>,
    version: u32,
    nodes: Vec<NodeProps>,
}

fn shape(blob: &[u8]) -> Shape {
    let fdt = Fdt::new(blob).expect("a valid blob");
    let h = fdt.header();
    Shape {
        reservations: fdt.reservations().map(|r| (r.address, r.size)).collect(),
        boot_cpuid_phys: h.boot_cpuid_phys,
        version: h.version,
        nodes: fdt
            .nodes_with_paths()
            .map(|(p, n)| {
                let props = n
                    .properties()
                    .map(|pr| (pr.name.to_owned(), pr.value.to_vec()))
                    .collect();
                (p, props)
            })
            .collect(),
    }
}

/// Free bytes after the strings block.
fn free_tail(blob: &[u8]) -> u32 {
    let h = Fdt::new(blob).unwrap().header();
    h.totalsize - h.off_dt_strings - h.size_dt_strings.unwrap_or(0)
}

fn compile_file(name: &str, opts: &CompileOptions) -> Vec<u8> {
    let dir = common::data("compile");
    let src = std::fs::read(dir.join(name)).unwrap();
    // Relative names resolve against the source's directory, as dtc does.
    let path = dir.join(name);
    compile(&src, path.to_str().unwrap(), opts, &mut StdFiles)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(common::data("compile/golden").join(name)).unwrap()
}

fn inc_dir() -> String {
    common::data("compile/inc").to_str().unwrap().to_owned()
}

#[test]
fn every_construct_builds_the_tree_dtc_builds() {
    let cases: Vec<(&str, CompileOptions, &str)> = vec![
        ("values.dts", CompileOptions::new(), "values.dtb"),
        ("refs.dts", CompileOptions::new(), "refs.dtb"),
        ("merge.dts", CompileOptions::new(), "merge.dtb"),
        (
            "include.dts",
            CompileOptions::new().include_dir(inc_dir()),
            "include.dtb",
        ),
        ("linemarkers.dts", CompileOptions::new(), "linemarkers.dtb"),
    ];
    for (src, opts, gold) in cases {
        let ours = compile_file(src, &opts);
        assert_eq!(shape(&ours), shape(&golden(gold)), "{src}");
    }
}

#[test]
fn blob_options_match_dtc() {
    let ours = compile_file(
        "merge.dts",
        &CompileOptions::new().boot_cpuid_phys(7).padding(Padding {
            pad: Some(100),
            ..Padding::NONE
        }),
    );
    let gold = golden("merge-b7-p100.dtb");
    assert_eq!(shape(&ours), shape(&gold));
    assert_eq!(free_tail(&ours), free_tail(&gold));

    let ours = compile_file(
        "values.dts",
        &CompileOptions::new().padding(Padding {
            space: Some(4096),
            ..Padding::NONE
        }),
    );
    assert_eq!(ours.len(), 4096);
    assert_eq!(shape(&ours), shape(&golden("values-S4096.dtb")));

    let ours = compile_file(
        "values.dts",
        &CompileOptions::new().padding(Padding {
            align: Some(64),
            ..Padding::NONE
        }),
    );
    assert_eq!(ours.len() % 64, 0);
    assert_eq!(shape(&ours), shape(&golden("values-a64.dtb")));
}

/// `-V` and `-R`: these goldens are compared byte for byte, header fields that the
/// old formats lack (zero padding to 8), full paths, generated `name` properties and
/// 8-aligned values included.
#[test]
fn old_formats_and_empty_reserves_match_dtc() {
    let v = |n| CompileOptions::new().version(n);
    let cases: Vec<(CompileOptions, &str)> = vec![
        (v(1), "versions-V1.dtb"),
        (
            v(2).symbols(true).empty_reserves(2),
            "versions-V2-sym-R2.dtb",
        ),
        (
            v(16).empty_reserves(1).padding(Padding {
                pad: Some(8),
                ..Padding::NONE
            }),
            "versions-V16-R1-p8.dtb",
        ),
    ];
    for (opts, gold) in cases {
        let ours = compile_file("versions.dts", &opts);
        assert!(ours == golden(gold), "{gold}: the bytes differ");
    }
    let h = Fdt::new(&golden("versions-V1.dtb")).unwrap().header();
    assert_eq!((h.version, h.off_mem_rsvmap), (1, 32));

    // dtc crashes writing generated nodes in formats 1-3; the compiler refuses.
    let e = compile(
        b"/dts-v1/; / { a: a { }; };",
        "t.dts",
        &CompileOptions::new().version(3).symbols(true),
        &mut NoFiles,
    )
    .unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::GeneratedNodeInOldVersion { version: 3, .. }
    ));
    let e = compile(
        b"/dts-v1/; / { };",
        "t.dts",
        &CompileOptions::new().version(4),
        &mut NoFiles,
    )
    .unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::Write(ppcpv::fdt::writer::WriteError::UnsupportedVersion(4))
    ));
}

#[test]
fn boot_cpu_is_guessed_from_the_first_cpu() {
    let blob = compile_file("merge.dts", &CompileOptions::new());
    assert_eq!(Fdt::new(&blob).unwrap().header().boot_cpuid_phys, Some(3));
}

#[test]
fn phandles_follow_dtc_allocation() {
    let blob = compile_file("refs.dts", &CompileOptions::new());
    let fdt = Fdt::new(&blob).unwrap();
    let ph = |path: &str| {
        let n = fdt.find(path).unwrap();
        let p = n
            .property("phandle")
            .or_else(|| n.property("linux,phandle"))
            .unwrap();
        u32::from_be_bytes(p.value.try_into().unwrap())
    };
    // explicit@7 holds 1 and clock@2 holds 3 (linux,phandle only): references
    // allocate 2, 4, 5, … in the order they are met, skipping those.
    assert_eq!(ph("/soc/bus@0/explicit@7"), 1);
    assert_eq!(ph("/soc/pic@40000"), 2);
    assert_eq!(ph("/soc/clock@2"), 3);
    assert!(
        fdt.find("/soc/clock@2")
            .unwrap()
            .property("phandle")
            .is_none()
    );
    assert_eq!(ph("/soc/bus@0/leaf@1"), 4);
    assert_eq!(ph("/soc/selfref@5"), 5);
}

#[test]
fn deletion_and_revival_keep_dtc_positions() {
    let blob = compile_file("merge.dts", &CompileOptions::new());
    let fdt = Fdt::new(&blob).unwrap();
    let node = fdt.find("/node").unwrap();
    let names: Vec<&str> = node.properties().map(|p| p.name).collect();
    // `a` was deleted then defined again: it comes back in its old place; the
    // `name` property equal to the node name is dropped, as dtc does.
    assert_eq!(names, ["a", "b", "c", "d"]);
    let kids: Vec<&str> = node.children().map(|c| c.name()).collect();
    assert_eq!(kids, ["child1", "child2", "child3", "newchild"]);
    assert!(fdt.find("/gone").is_none());
    // /spare is /omit-if-no-ref/ and only its child is referenced: it goes, child
    // and all; /by-path-user is referenced by path and stays.
    assert!(fdt.find("/spare").is_none());
    assert!(fdt.find("/by-path-user").is_some());
}

#[test]
fn errors_name_file_line_column_and_reason() {
    use ErrorKind as K;
    let dir = common::data("compile/errors");
    let expect: &[Expect] = &[
        ("bad-bits", |k| matches!(k, K::BadBits(12))),
        ("bad-literal", |k| matches!(k, K::BadLiteral(_))),
        ("char-empty", |k| matches!(k, K::EmptyCharLiteral)),
        ("char-long", |k| matches!(k, K::LongCharLiteral(2))),
        ("delete-missing", |k| matches!(k, K::RefNotFound(_))),
        ("div-zero", |k| matches!(k, K::DivisionByZero)),
        ("mod-zero", |k| matches!(k, K::DivisionByZero)),
        ("duplicate-label", |k| matches!(k, K::DuplicateLabel { .. })),
        ("duplicate-label-prop", |k| {
            matches!(k, K::DuplicateLabel { .. })
        }),
        ("duplicate-node", |k| matches!(k, K::DuplicateNodeName(_))),
        ("duplicate-property", |k| {
            matches!(k, K::DuplicatePropertyName { .. })
        }),
        ("extend-missing", |k| matches!(k, K::RefNotFound(_))),
        ("header-mismatch", |k| matches!(k, K::HeaderMismatch)),
        ("hex-escape", |k| matches!(k, K::BadHexEscape)),
        ("literal-range", |k| matches!(k, K::LiteralOutOfRange(_))),
        ("missing-incbin", |k| matches!(k, K::FileNotFound(_))),
        ("missing-include", |k| matches!(k, K::FileNotFound(_))),
        ("name-mismatch", |k| matches!(k, K::NameMismatch(_))),
        ("name-not-string", |k| matches!(k, K::NameNotString(_))),
        ("narrow-ref", |k| matches!(k, K::NarrowReference)),
        ("no-version", |k| matches!(k, K::MissingVersion)),
        ("node-name-char", |k| {
            matches!(k, K::NodeNameChar { ch: '*', .. })
        }),
        ("node-name-format", |k| matches!(k, K::NodeNameFormat(_))),
        ("phandle-dup", |k| {
            matches!(k, K::DuplicatePhandle { value: 1, .. })
        }),
        ("phandle-length", |k| {
            matches!(k, K::PhandleLength { len: 8, .. })
        }),
        ("phandle-mismatch", |k| matches!(k, K::PhandleMismatch(_))),
        ("phandle-other", |k| matches!(k, K::PhandleOtherNode { .. })),
        ("phandle-zero", |k| {
            matches!(k, K::PhandleValue { value: 0, .. })
        }),
        ("prop-after-node", |k| matches!(k, K::PropertyAfterSubnode)),
        ("prop-name-char", |k| {
            matches!(k, K::PropertyNameChar { ch: '@', .. })
        }),
        ("syntax", |k| matches!(k, K::Syntax { .. })),
        ("undefined-label", |k| matches!(k, K::UndefinedReference(_))),
        ("undefined-path", |k| matches!(k, K::UndefinedReference(_))),
        ("unterminated-string", |k| matches!(k, K::Syntax { .. })),
        ("value-range", |k| matches!(k, K::ValueOutOfRange(8))),
    ];
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let (_, check) = expect
            .iter()
            .find(|(s, _)| *s == stem)
            .unwrap_or_else(|| panic!("no expectation for {stem}"));
        let src = std::fs::read(&path).unwrap();
        let name = format!("{stem}.dts");
        let e = compile(&src, &name, &CompileOptions::new(), &mut StdFiles).unwrap_err();
        assert!(check(&e.kind), "{stem}: {e}");
        assert_eq!(e.pos.file, name);
        assert!(e.pos.line >= 1 && e.pos.column >= 1, "{stem}: {e}");
        n += 1;
    }
    assert_eq!(n, expect.len());
}

#[test]
fn line_markers_name_the_original_file() {
    let src = b"# 1 \"board.dts\"\n/dts-v1/;\n# 30 \"board.dts\"\n/ {\n\tp = <&missing>;\n};\n";
    let e = compile(src, "board.pp", &CompileOptions::new(), &mut NoFiles).unwrap_err();
    assert_eq!(e.to_string().split(": ").next().unwrap(), "board.dts:31:2");
}

#[test]
fn phandle_style_adds_legacy_properties() {
    let src = b"/dts-v1/; / { a: a { }; b { p = <&a>; }; };";
    let blob = compile(
        src,
        "t.dts",
        &CompileOptions::new().phandle_style(PhandleStyle::Legacy),
        &mut NoFiles,
    )
    .unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    let a = fdt.find("/a").unwrap();
    assert_eq!(a.property("linux,phandle").unwrap().value, &[0, 0, 0, 1]);
    assert!(a.property("phandle").is_none());
}

#[test]
fn compile_reads_relative_to_the_source() {
    // include.dts names "inc/frag.dtsi" relative to its own directory and
    // "common.dtsi" through the search directory.
    let dir = common::data("compile");
    let src = std::fs::read(dir.join("include.dts")).unwrap();
    let e = compile(
        &src,
        dir.join("include.dts").to_str().unwrap(),
        &CompileOptions::new(),
        &mut StdFiles,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::FileNotFound("common.dtsi".into()));
    assert!(Path::new(&e.pos.file).ends_with("include.dts"));
}

/// The DTS goldens of `tests/data` (dtc's own text for each committed blob) compile
/// back to the tree of that blob, in the blob's own format version.
#[test]
fn dump_goldens_compile_to_their_blobs() {
    // dtc drops a `name` property that repeats the node name when it reads a blob
    // (checks.c, name_properties), so the text never had it; formats 1-3 write one
    // into every node.
    fn drop_name_props(s: &mut Shape) {
        for (path, props) in &mut s.nodes {
            let base = path.rsplit('/').next().unwrap_or("");
            let base = base.split('@').next().unwrap_or("");
            props.retain(|(n, v)| !(n == "name" && v.strip_suffix(&[0]) == Some(base.as_bytes())));
        }
    }
    let dir = common::data("");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".dts") else {
            continue;
        };
        let blob_path = if stem.ends_with(".dtbo") {
            dir.join(stem)
        } else {
            dir.join(format!("{stem}.dtb"))
        };
        let blob = std::fs::read(&blob_path).unwrap();
        let mut want = shape(&blob);
        drop_name_props(&mut want);
        let src = std::fs::read(&path).unwrap();
        let opts = CompileOptions::new()
            .boot_cpuid_phys(want.boot_cpuid_phys.unwrap_or(0))
            .version(want.version);
        let got = compile(&src, &name, &opts, &mut NoFiles);
        n += 1;
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut got = shape(&got);
        drop_name_props(&mut got);
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(n, 10); // 8 + hv-compatible-unterminated (issue 11.11) + xen-hypervisor (11.20)
}
