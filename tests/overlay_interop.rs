//! `ppcpv overlay` against `fdtoverlay` (dtc 1.6.1), byte for byte, on the corpus trees
//! with overlays generated here:
//!
//! * the `/hypervisor` overlay of `ppcpv hypervisor --format dtbo` (KVM, and ePAPR with
//!   `has-idle`), on every corpus tree that fdtoverlay accepts; applied, it gives the
//!   tree `ppcpv patch` gives (same nodes, properties and values);
//! * an overlay adding and changing nodes and properties by `target-path`, compiled by
//!   dtc and by `ppcpv compile`;
//! * overlays referring to base labels (`__fixups__`), with labelled nodes of their own
//!   (`__local_fixups__`, `__symbols__`), compiled by `dtc -@` and `ppcpv compile -@`,
//!   on the Linux board sources compiled with `-@`, one and two at a time;
//! * the corpus' own overlays and the trees fdtoverlay made of them.
//!
//! The bases are every corpus blob but the deliberately broken ones, plus the
//! 100k-node `synthetic-large-100k` (decompressed with xz).

mod common;

use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::patch::{PatchMode, patch};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::diff::{DiffOptions, diff};
use ppcpv::fdt::overlay;
use ppcpv::fdt::writer::Padding;
use std::path::{Path, PathBuf};
use std::process::Command;

/// fdtoverlay's output, or `None` when it fails.
fn fdtoverlay(dir: &Path, base: &Path, overlays: &[&Path]) -> Option<Vec<u8>> {
    let out = dir.join("fdtoverlay-out.dtb");
    let _ = std::fs::remove_file(&out);
    let st = Command::new("fdtoverlay")
        .arg("-i")
        .arg(base)
        .arg("-o")
        .arg(&out)
        .args(overlays)
        .output()
        .expect("fdtoverlay runs");
    st.status.success().then(|| std::fs::read(&out).unwrap())
}

/// `ppcpv overlay` through the command line.
fn ppcpv_overlay(dir: &Path, base: &Path, overlays: &[&Path]) -> Option<Vec<u8>> {
    let out = dir.join("ppcpv-out.dtb");
    let _ = std::fs::remove_file(&out);
    let st = common::ppcpv()
        .arg("overlay")
        .arg(base)
        .args(overlays)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    st.status.success().then(|| std::fs::read(&out).unwrap())
}

fn dtc(dir: &Path, name: &str, src: &str, args: &[&str]) -> PathBuf {
    let s = dir.join(format!("{name}.dts"));
    std::fs::write(&s, src).unwrap();
    let o = dir.join(format!("{name}.dtc.dtbo"));
    let st = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&o)
        .args(args)
        .arg(&s)
        .status()
        .unwrap();
    assert!(st.success(), "dtc {name}");
    o
}

fn ppcpv_compile(dir: &Path, name: &str, src: &str, args: &[&str]) -> PathBuf {
    let s = dir.join(format!("{name}.dts"));
    std::fs::write(&s, src).unwrap();
    let o = dir.join(format!("{name}.ppcpv.dtbo"));
    let out = common::ppcpv()
        .arg("compile")
        .args(args)
        .arg(&s)
        .arg("-o")
        .arg(&o)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ppcpv compile {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    o
}

/// The corpus blobs fdtoverlay may take: everything but the deliberately broken ones.
fn corpus_blobs(corpus: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus.join("dtb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".dtb") && !n.starts_with("synthetic-corrupt")
        })
        .collect();
    v.sort();
    v
}

/// Checks one case: where fdtoverlay succeeds ppcpv gives the same bytes, and where it
/// fails ppcpv fails too. Returns whether fdtoverlay succeeded.
fn same(dir: &Path, base: &Path, overlays: &[&Path]) -> bool {
    let want = fdtoverlay(dir, base, overlays);
    let got = ppcpv_overlay(dir, base, overlays);
    match (&want, &got) {
        (Some(w), Some(g)) => assert!(
            w == g,
            "{} + {:?}: ppcpv's bytes differ from fdtoverlay's",
            base.display(),
            overlays
        ),
        (None, None) => {}
        _ => panic!(
            "{} + {:?}: fdtoverlay {}, ppcpv {}",
            base.display(),
            overlays,
            if want.is_some() { "succeeds" } else { "fails" },
            if got.is_some() { "succeeds" } else { "fails" }
        ),
    }
    want.is_some()
}

const TREE_OVERLAY: &str = r#"/dts-v1/;
/plugin/;
/ {
	fragment@0 {
		target-path = "/";
		__overlay__ {
			model = "changed by an overlay";
			odd-length = [01 02 03];
			five = "abcd";
			added@1000 {
				compatible = "test,added";
				reg = <0x1000 0x10>;
				flag;
				child { name-ish = "x"; };
			};
			second { v = <1 2 3>; };
		};
	};
	fragment@1 {
		target-path = "/";
		__overlay__ {
			#address-cells = <1>;
			added@1000 { status = "disabled"; odd = [ff]; };
		};
	};
};
"#;

#[test]
#[ignore = "needs fdtoverlay, dtc, xz, the corpus (PPCPV_CORPUS)"]
fn corpus_trees_with_generated_overlays() {
    let Some(corpus) = common::corpus("corpus_trees_with_generated_overlays") else {
        return;
    };
    common::interop("corpus_trees_with_generated_overlays", "fdtoverlay");
    common::interop("corpus_trees_with_generated_overlays", "dtc");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let kvm = dir.join("kvm.dtbo");
    std::fs::write(
        &kvm,
        HypervisorNode::preset(Flavour::Kvm)
            .to_overlay(&Padding::NONE)
            .unwrap(),
    )
    .unwrap();
    let epapr = dir.join("epapr.dtbo");
    std::fs::write(
        &epapr,
        HypervisorNode::preset(Flavour::Epapr)
            .with_has_idle(true)
            .to_overlay(&Padding::NONE)
            .unwrap(),
    )
    .unwrap();
    let tree_dtc = dtc(dir, "tree", TREE_OVERLAY, &[]);
    let tree_ppcpv = ppcpv_compile(dir, "tree", TREE_OVERLAY, &[]);
    assert_eq!(
        std::fs::read(&tree_dtc).unwrap(),
        std::fs::read(&tree_ppcpv).unwrap()
    );

    // The 100k-node tree too, decompressed.
    common::interop("corpus_trees_with_generated_overlays", "xz");
    let large = dir.join("synthetic-large-100k.dtb");
    let xz = Command::new("xz")
        .arg("-dc")
        .arg(corpus.join("dtb/synthetic-large-100k.dtb.xz"))
        .output()
        .unwrap();
    assert!(xz.status.success());
    std::fs::write(&large, xz.stdout).unwrap();
    let mut bases = corpus_blobs(&corpus);
    bases.push(large);

    let mut applied = 0;
    for base in bases {
        for ov in [&kvm, &epapr, &tree_dtc] {
            applied += usize::from(same(dir, &base, &[ov]));
        }
        applied += usize::from(same(dir, &base, &[&tree_ppcpv, &kvm]));
    }
    assert!(applied > 200, "only {applied} cases applied");
}

#[test]
#[ignore = "needs fdtoverlay, the corpus (PPCPV_CORPUS)"]
fn hypervisor_dtbo_gives_what_patch_gives() {
    let Some(corpus) = common::corpus("hypervisor_dtbo_gives_what_patch_gives") else {
        return;
    };
    common::interop("hypervisor_dtbo_gives_what_patch_gives", "fdtoverlay");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let nodes = [
        HypervisorNode::preset(Flavour::Kvm),
        HypervisorNode::preset(Flavour::Kvm).with_has_idle(true),
        HypervisorNode::preset(Flavour::Epapr).with_has_idle(true),
    ];
    let mut checked = 0;
    for base in corpus_blobs(&corpus) {
        let blob = std::fs::read(&base).unwrap();
        let Ok(fdt) = Fdt::new(&blob) else { continue };
        if fdt.find("/hypervisor").is_some() || fdt.header().version < 16 {
            continue;
        }
        for node in &nodes {
            let dtbo = dir.join("hv.dtbo");
            std::fs::write(&dtbo, node.to_overlay(&Padding::NONE).unwrap()).unwrap();
            let Some(applied) = fdtoverlay(dir, &base, &[&dtbo]) else {
                continue;
            };
            let patched = patch(&blob, node, PatchMode::Set).unwrap().blob;
            let (a, b) = (Fdt::new(&applied).unwrap(), Fdt::new(&patched).unwrap());
            let mut changes = diff(&a, &b, &DiffOptions::default());
            // fdtoverlay writes version 17; patch keeps the base's (16 for v16 bases).
            changes.retain(|c| !matches!(c, ppcpv::fdt::diff::Change::Version { .. }));
            assert!(
                changes.is_empty(),
                "{}: fdtoverlay of the dtbo and patch differ: {changes:?}",
                base.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} trees checked");
}

/// An overlay referring to base labels `labels` (at least three), with labelled
/// nodes of its own.
fn label_overlay(labels: &[String]) -> String {
    let (l0, l1, l2) = (&labels[0], &labels[1], &labels[2]);
    format!(
        r#"/dts-v1/;
/plugin/;
&{l0} {{
	overlay-status = "changed";
	refers-to = <&{l1}>;
	ovl_node: overlay-node {{
		compatible = "test,overlay-node";
		back = <&ovl_node>;
		base-ref = <&{l2} 1 2>;
		ovl_child: child {{ up = <&ovl_node &ovl_child>; }};
	}};
}};

&{l1} {{
	also = <&ovl_child>;
}};

/ {{
	fragment@9 {{
		target-path = "/";
		__overlay__ {{
			top_added: top-added {{ peer = <&{l0}>; }};
		}};
	}};
}};
"#
    )
}

/// The labels of a base's `/__symbols__` whose nodes have or can get a phandle.
fn labels_of(blob: &[u8]) -> Vec<String> {
    let fdt = Fdt::new(blob).unwrap();
    let Some(sym) = fdt.find("/__symbols__") else {
        return Vec::new();
    };
    sym.properties()
        .filter(|p| {
            let path =
                std::str::from_utf8(p.value.strip_suffix(&[0]).unwrap_or(p.value)).unwrap_or("");
            fdt.find(path).is_some()
        })
        .map(|p| p.name.to_owned())
        .collect()
}

#[test]
#[ignore = "needs fdtoverlay, dtc, the corpus (PPCPV_CORPUS)"]
fn label_overlays_on_boards_compiled_with_symbols() {
    let Some(corpus) = common::corpus("label_overlays_on_boards_compiled_with_symbols") else {
        return;
    };
    common::interop(
        "label_overlays_on_boards_compiled_with_symbols",
        "fdtoverlay",
    );
    common::interop("label_overlays_on_boards_compiled_with_symbols", "dtc");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(corpus.join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".dts") && (n.starts_with("linux-") || n.starts_with("synthetic-"))
        })
        .collect();
    sources.sort();
    let mut applied = 0;
    for src in sources {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        // The base as `dtc -@` compiles it (ppcpv compile -@ gives the same bytes; the
        // compile interop tests check that).
        let base = dir.join(format!("{name}.dtb"));
        let st = Command::new("dtc")
            .args(["-q", "-@", "-I", "dts", "-O", "dtb", "-b", "0", "-o"])
            .arg(&base)
            .arg(&src)
            .current_dir(corpus.join("src"))
            .status()
            .unwrap();
        if !st.success() {
            continue;
        }
        let labels = labels_of(&std::fs::read(&base).unwrap());
        if labels.len() < 6 {
            continue;
        }
        let text = label_overlay(&labels[..3]);
        let by_dtc = dtc(dir, &format!("{name}-ov"), &text, &["-@"]);
        let by_ppcpv = ppcpv_compile(dir, &format!("{name}-ov"), &text, &["-@"]);
        let second = label_overlay(&labels[3..6]).replace("ovl_", "second_");
        let second = dtc(dir, &format!("{name}-ov2"), &second, &["-@"]);
        for ovs in [
            vec![by_dtc.as_path()],
            vec![by_ppcpv.as_path()],
            vec![by_dtc.as_path(), second.as_path()],
        ] {
            applied += usize::from(same(dir, &base, &ovs));
        }
    }
    assert!(applied >= 20, "only {applied} label cases applied");
}

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn corpus_overlays_give_the_corpus_results() {
    let Some(corpus) = common::corpus("corpus_overlays_give_the_corpus_results") else {
        return;
    };
    let d = corpus.join("dtb");
    for (base, ov, want) in [
        (
            "qemu-ppce500.dtb",
            "synthetic-overlay-hypervisor.dtbo",
            "synthetic-overlay-hypervisor-on-qemu-ppce500.dtb",
        ),
        (
            "synthetic-allprops-symbols.dtb",
            "synthetic-overlay-labels.dtbo",
            "synthetic-overlay-labels-on-allprops.dtb",
        ),
    ] {
        let base = std::fs::read(d.join(base)).unwrap();
        let ov = std::fs::read(d.join(ov)).unwrap();
        let got = overlay::apply(&base, &[&ov]).unwrap();
        assert!(got == std::fs::read(d.join(want)).unwrap(), "{want}");
    }
}
