//! Fuzz target: the DTB reader. Whatever the bytes, `Fdt::new` returns, and when it
//! accepts, every accessor (nodes, paths, properties, children, lookups, offsets,
//! reservations, the summary) runs without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppcpv::fdt::Fdt;

fuzz_target!(|data: &[u8]| {
    let Ok(fdt) = Fdt::new(data) else { return };
    let _ = fdt.header();
    let _ = fdt.reservations().count();
    let root = fdt.root();
    for (depth, node) in fdt.nodes() {
        assert!(depth < ppcpv::fdt::MAX_DEPTH);
        let _ = node.end_offset();
        for p in node.properties() {
            assert!(p.offset < p.end && p.end <= data.len());
        }
        let _ = node.children().count();
    }
    for (path, node) in fdt.nodes_with_paths().take(64) {
        let _ = fdt.find(&path);
        let _ = fdt.path_of(&node);
    }
    let _ = fdt.find("/cpus/cpu");
    let _ = fdt.find("serial0/x");
    let _ = fdt.parent_of(&root);
    let _ = ppcpv::fdt::summary::summarize(&fdt);
    if let Some(p) = root.properties().next() {
        let _ = ppcpv::fdt::get::format_value(p.value, None);
    }
});
