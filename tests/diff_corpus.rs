//! `ppcpv diff` on the corpus: a tree against itself is equal; a tree against its
//! patched copy differs exactly in `/hypervisor`, with Linux's verdict before and
//! after; two QEMU dumps of the same machine differ only in `/chosen/rng-seed`.

mod common;

use ppcpv::dt::diff::guest_change;
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::patch::{PatchMode, patch};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::diff::{Change, DiffOptions, diff};
use std::path::{Path, PathBuf};
use std::process::Command;

fn blobs(corpus: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus.join("dtb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dtb" || e == "dtbo"))
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn every_tree_equals_itself() {
    let Some(corpus) = common::corpus("every_tree_equals_itself") else {
        return;
    };
    let mut n = 0;
    for path in blobs(&corpus) {
        let blob = std::fs::read(&path).unwrap();
        let p = path.to_str().unwrap();
        let o = common::run(&["diff", p, p]);
        let Ok(fdt) = Fdt::new(&blob) else {
            // Malformed blobs are trouble: exit 2, with the reason.
            assert_eq!(o.status.code(), Some(2), "{p}");
            assert!(!o.stderr.is_empty());
            continue;
        };
        assert!(diff(&fdt, &fdt, &DiffOptions::default()).is_empty(), "{p}");
        assert_eq!(o.status.code(), Some(0), "{p}");
        assert!(o.stdout.is_empty(), "{p}");
        n += 1;
    }
    assert!(n > 70, "only {n} trees");
}

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn patched_copy_differs_exactly_in_the_hypervisor_node() {
    let Some(corpus) = common::corpus("patched_copy_differs_exactly_in_the_hypervisor_node") else {
        return;
    };
    let kvm = HypervisorNode::preset(Flavour::Kvm).with_has_idle(true);
    let want_props: Vec<(String, Vec<u8>)> = kvm
        .properties()
        .unwrap()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.into_owned()))
        .collect();
    let (mut added, mut replaced) = (0, 0);
    for path in blobs(&corpus) {
        let blob = std::fs::read(&path).unwrap();
        let Ok(fdt) = Fdt::new(&blob) else { continue };
        let had = fdt.find("/hypervisor").is_some();
        let Ok(patched) = patch(&blob, &kvm, PatchMode::Replace) else {
            continue;
        };
        let after = Fdt::new(&patched.blob).unwrap();
        let changes = diff(&fdt, &after, &DiffOptions::default());
        if changes.is_empty() {
            // The tree already has this node (perhaps its properties in another order).
            assert!(had, "{}", path.display());
            continue;
        }
        for c in &changes {
            let p = c
                .path()
                .unwrap_or_else(|| panic!("{}: {c:?}", path.display()));
            assert!(
                p == "/hypervisor" || p.starts_with("/hypervisor/"),
                "{}: {c:?}",
                path.display()
            );
        }
        if had {
            replaced += 1;
        } else {
            let [Change::NodeAdded { path: p, props }] = &changes[..] else {
                panic!("{}: {changes:?}", path.display());
            };
            assert_eq!(p, "/hypervisor");
            let got: Vec<(String, Vec<u8>)> = props
                .iter()
                .map(|(n, v)| (n.clone(), v.raw.clone()))
                .collect();
            assert_eq!(got, want_props, "{}", path.display());
            let g = guest_change(&fdt, &after, &changes).unwrap();
            assert!(!g.before.detects_kvm() && g.after.detects_kvm());
            added += 1;
        }
        // The command line says the same, exits 1 and prints the node.
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &patched.blob).unwrap();
        let o = common::run(&["diff", path.to_str().unwrap(), tmp.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains("/hypervisor"), "{text}");
        assert!(text.contains("Linux guest (before -> after):"), "{text}");
    }
    assert!(
        added > 50 && replaced > 5,
        "added {added}, replaced {replaced}"
    );
}

#[test]
#[ignore = "needs qemu-system-ppc"]
fn two_qemu_dumps_differ_only_in_rng_seed() {
    common::interop("two_qemu_dumps_differ_only_in_rng_seed", "qemu-system-ppc");
    let tmp = tempfile::tempdir().unwrap();
    let dump = |name: &str| -> PathBuf {
        let out = tmp.path().join(name);
        // The corpus' own command for its qemu-ppce500.dtb (qemu_commands.tsv).
        let st = Command::new("qemu-system-ppc")
            .arg("-machine")
            .arg(format!("ppce500,dumpdtb={}", out.display()))
            .args([
                "-bios",
                "/usr/lib/u-boot/qemu-ppce500/uboot.elf",
                "-nographic",
                "-serial",
                "null",
                "-monitor",
                "none",
                "-nic",
                "none",
            ])
            .output()
            .expect("qemu-system-ppc runs");
        assert!(out.exists(), "{}", String::from_utf8_lossy(&st.stderr));
        out
    };
    let (a, b) = (dump("run1.dtb"), dump("run2.dtb"));
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (fa, fb) = (Fdt::new(&ba).unwrap(), Fdt::new(&bb).unwrap());
    let changes = diff(&fa, &fb, &DiffOptions::default());
    let [Change::PropertyChanged { path, name, .. }] = &changes[..] else {
        panic!("{changes:?}");
    };
    assert_eq!((path.as_str(), name.as_str()), ("/chosen", "rng-seed"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(common::run(&["diff", a, b]).status.code(), Some(1));
    let o = common::run(&["diff", "--ignore", "rng-seed", a, b]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let o = common::run(&["diff", "--json", "--ignore", "rng-seed", a, b]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["equal"], true);
}

#[test]
fn trouble_exits_2_and_json_reports_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let c = |name: &str, src: &str| {
        let b = ppcpv::fdt::compile::compile(
            src.as_bytes(),
            name,
            &ppcpv::fdt::compile::CompileOptions::new(),
            &mut ppcpv::fdt::compile::NoFiles,
        )
        .unwrap();
        let p = d.join(name);
        std::fs::write(&p, b).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let a = c(
        "a.dtb",
        "/dts-v1/; /memreserve/ 0x1000 0x100; / { x = <1>; };",
    );
    let b = c("b.dtb", "/dts-v1/; / { x = <2>; y; n { }; };");
    let bad = d.join("bad.dtb");
    std::fs::write(&bad, b"not a tree").unwrap();
    let o = common::run(&["diff", &a, bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.dtb"));
    assert_eq!(
        common::run(&["diff", &a, "/nonexistent"]).status.code(),
        Some(2)
    );
    assert_eq!(common::run(&["diff", "-", "-"]).status.code(), Some(2));
    let o = common::run(&["diff", "--json", &a, &b]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "memreserve-removed",
            "property-changed",
            "property-added",
            "node-added"
        ]
    );
    assert_eq!(v["changes"][0]["address"], "0x1000");
    assert_eq!(v["changes"][1]["a"], "<0x01>");
    let text = String::from_utf8(common::run(&["diff", &a, &b]).stdout).unwrap();
    assert!(
        text.contains("- /memreserve/\t0x0000000000001000 0x0000000000000100;"),
        "{text}"
    );
    assert!(
        text.contains("@ /\n-\tx = <0x01>;\n+\tx = <0x02>;\n+\ty;\n+ /n\n"),
        "{text}"
    );
}
