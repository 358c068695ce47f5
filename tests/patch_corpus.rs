//! `ppcpv::dt::patch` over every blob of the shared corpus.
//!
//! * Trees without `/hypervisor`: add then remove gives a tree that prints exactly as
//!   the original (with ppcpv's dtc-identical printer, and with dtc itself),, and is the original blob byte for byte.
//! * Trees with one: replace gives a tree whose DTS is the original's with just the
//!   node's text swapped for the requested node, and remove drops just that text.
//! * Old-format (v1-3) blobs go through the same checks; invalid blobs are refused
//!   with `Fdt`.

mod common;

use ppcpv::dt::hypervisor::{Flavour, HcallInstructions};
use ppcpv::dt::patch::{Change, PatchError, PatchMode, PatchRequest};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::dts::{DtsOptions, to_dts_string};
use ppcpv::fdt::writer::Padding;
use ppcpv::insn::seq::KnownSequence;
use std::path::Path;
use std::process::Command;

fn dts(blob: &[u8]) -> String {
    to_dts_string(&Fdt::new(blob).unwrap(), &DtsOptions::default())
}

/// dtc's text for a blob, or `None` when dtc refuses it.
fn dtc_dts(dir: &Path, name: &str, blob: &[u8]) -> Option<String> {
    let path = dir.join(name);
    std::fs::write(&path, blob).unwrap();
    let out = Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts"])
        .arg(&path)
        .output()
        .expect("dtc runs");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

/// The `\n\thypervisor {…\t};\n` block of a DTS text and where it is.
fn hv_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find("\n\thypervisor {\n")?;
    let close = "\n\t};\n";
    let end = start + text[start..].find(close)? + close.len();
    Some((start, end))
}

fn remove_req() -> PatchRequest {
    PatchRequest::new(PatchMode::Remove)
}

#[test]
#[ignore = "needs dtc, the corpus (PPCPV_CORPUS)"]
fn corpus_round_trips() {
    let Some(corpus) = common::corpus("corpus_round_trips") else {
        return;
    };
    let use_dtc = common::interop("corpus_round_trips (dtc part)", "dtc");
    let tmp = tempfile::tempdir().unwrap();
    let mut replace = PatchRequest::new(PatchMode::Replace);
    replace.flavour = Some(Flavour::Kvm);
    replace.hcall = Some(HcallInstructions::from_sequence(KnownSequence::BookeHv));
    replace.has_idle = Some(true);
    let wanted_block = {
        let node = replace.node().to_minimal_dtb(&Padding::NONE).unwrap();
        let text = dts(&node);
        let (s, e) = hv_block(&text).unwrap();
        text[s..e].to_string()
    };
    let (mut added, mut replaced, mut old, mut invalid, mut refused) = (0, 0, 0, 0, 0);
    let mut entries: Vec<_> = std::fs::read_dir(corpus.join("dtb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dtb"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let blob = std::fs::read(&path).unwrap();
        let Ok(fdt) = Fdt::new(&blob) else {
            assert!(
                matches!(
                    PatchRequest::default().apply(&blob),
                    Err(PatchError::Fdt(_))
                ),
                "{name}"
            );
            invalid += 1;
            continue;
        };
        if fdt.header().version < 16 {
            old += 1;
        }
        let hv_count = fdt
            .root()
            .children()
            .filter(|c| c.name() == "hypervisor")
            .count();
        let original = dts(&blob);
        if hv_count > 1 {
            assert!(
                matches!(replace.apply(&blob), Err(PatchError::Duplicate(_))),
                "{name}"
            );
            refused += 1;
            continue;
        }
        if hv_count == 0 {
            let add = PatchRequest::default().apply(&blob).unwrap();
            assert_eq!(add.change, Change::Added, "{name}");
            let with = Fdt::new(&add.blob).unwrap();
            let hv = with.find("/hypervisor").expect("node added");
            let names: Vec<&str> = hv.properties().map(|p| p.name).collect();
            assert_eq!(names, ["compatible", "hcall-instructions"], "{name}");
            // Everything before the node is unchanged text.
            let (s, _) = hv_block(&dts(&add.blob)).unwrap();
            assert_eq!(&dts(&add.blob)[..s], &original[..s], "{name}");

            let back = remove_req().apply(&add.blob).unwrap();
            assert_eq!(back.change, Change::Removed, "{name}");
            assert_eq!(dts(&back.blob), original, "{name}: DTS differs");
            let a = Fdt::new(&blob).unwrap();
            let b = Fdt::new(&back.blob).unwrap();
            assert_eq!(
                &a.blob()[a.struct_range()],
                &b.blob()[b.struct_range()],
                "{name}: structure block differs"
            );
            assert_eq!(
                &a.blob()[a.rsvmap_range()],
                &b.blob()[b.rsvmap_range()],
                "{name}"
            );
            assert_eq!(a.header().boot_cpuid_phys, b.header().boot_cpuid_phys);
            assert_eq!(a.header().version, b.header().version);
            assert!(a.blob() == b.blob(), "{name}: add+remove changed bytes");
            if name == "qemu-ppce500.dtb" {
                // QEMU's 1 MiB blob: the node fits in its free space, the size stays.
                assert_eq!(add.blob.len(), 1 << 20);
            }
            if use_dtc && let Some(want) = dtc_dts(tmp.path(), "a.dtb", &blob) {
                let got = dtc_dts(tmp.path(), "b.dtb", &back.blob).expect("dtc reads it");
                assert_eq!(got, want, "{name}: dtc prints differently");
            }
            added += 1;
        } else {
            let out = replace.apply(&blob).unwrap();
            assert_eq!(out.change, Change::Replaced, "{name}");
            let (s, e) = hv_block(&original).expect("hypervisor in DTS");
            let expected = format!("{}{}{}", &original[..s], wanted_block, &original[e..]);
            assert_eq!(dts(&out.blob), expected, "{name}: replace changed more");
            let gone = remove_req().apply(&blob).unwrap();
            let expected = format!("{}{}", &original[..s], &original[e..]);
            assert_eq!(dts(&gone.blob), expected, "{name}: remove changed more");
            if use_dtc && let Some(want) = dtc_dts(tmp.path(), "a.dtb", &blob) {
                let (s, e) = hv_block(&want).unwrap();
                let expected = format!("{}{}{}", &want[..s], wanted_block, &want[e..]);
                let got = dtc_dts(tmp.path(), "b.dtb", &out.blob).expect("dtc reads it");
                assert_eq!(got, expected, "{name}: dtc sees more changes");
            }
            replaced += 1;
        }
    }
    eprintln!(
        "corpus: {added} added+removed byte for byte, {replaced} replaced, {old} of them old-format, \
         {refused} with duplicate /hypervisor refused, {invalid} invalid"
    );
    assert!(added >= 30 && replaced >= 5, "corpus smaller than expected");
}
