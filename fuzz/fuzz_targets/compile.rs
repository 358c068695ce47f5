//! Fuzz target: the DTS compiler. Whatever the bytes, `compile` returns (no panic,
//! no unbounded memory: libFuzzer's RSS limit catches blowups). The first byte picks
//! the options (`-@`, `-H`, `-V`, `-R`) so every output path runs; an accepted
//! source gives a blob whose header's `totalsize` is its length. (Whether the blob
//! reads back is not asserted: dtc writes some blobs libfdt refuses, such as a
//! zero-size reservation that ends the map early, and the compiler writes what dtc
//! writes.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppcpv::fdt::compile::{CompileOptions, NoFiles, compile, looks_like_dts};
use ppcpv::fdt::writer::PhandleStyle;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, src)) = data.split_first() else {
        return;
    };
    let _ = looks_like_dts(src);
    let style = match sel & 3 {
        0 | 3 => PhandleStyle::Epapr,
        1 => PhandleStyle::Legacy,
        _ => PhandleStyle::Both,
    };
    let version = [17, 16, 1, 3][usize::from((sel >> 2) & 3)];
    let opts = CompileOptions::new()
        .symbols(sel & 0x10 != 0)
        .phandle_style(style)
        .version(version)
        .empty_reserves(u32::from(sel >> 6));
    if let Ok(blob) = compile(src, "fuzz.dts", &opts, &mut NoFiles) {
        let total = u32::from_be_bytes([blob[4], blob[5], blob[6], blob[7]]);
        assert_eq!(total as usize, blob.len());
    }
});
