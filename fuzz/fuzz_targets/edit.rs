//! Fuzz target: the in-place editor and the `/hypervisor` patch policy. Whatever the
//! bytes, every patch mode returns; when it succeeds, the result validates and an
//! added node can be removed again; a few generic edits on an accepted blob either
//! fail cleanly or produce a blob that validates. (Add-then-remove giving back the
//! very same bytes holds for blobs whose strings block ends in a used name, which is
//! every blob dtc writes; tests/patch_corpus.rs checks it on real trees.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::patch::{Change, PatchMode, PatchRequest, patch};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::edit::{Editor, PropertyValue};

fuzz_target!(|data: &[u8]| {
    let node = HypervisorNode::preset(Flavour::Epapr);
    for mode in [PatchMode::Set, PatchMode::Replace, PatchMode::Remove] {
        if let Ok(out) = patch(data, &node, mode) {
            Fdt::new(&out.blob).expect("a patched blob validates");
            if out.change == Change::Added {
                let back = PatchRequest::new(PatchMode::Remove)
                    .apply(&out.blob)
                    .expect("removing what was added works");
                let fdt = Fdt::new(&back.blob).expect("a patched blob validates");
                assert!(fdt.find("/hypervisor").is_none());
            }
        }
    }
    let Ok(fdt) = Fdt::new(data) else { return };
    let mut ed = Editor::new(&fdt);
    let root = fdt.root();
    let _ = ed.set_property(&root, "model", b"fuzz\0");
    if let Some(child) = root.children().next() {
        ed.delete_node(&child);
    }
    let _ = ed.add_node(&root, "chosen", &[PropertyValue::new("bootargs", *b"x\0")]);
    if let Ok(out) = ed.finish() {
        Fdt::new(&out).expect("an edited blob validates");
    }
});
