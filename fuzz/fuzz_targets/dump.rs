//! Fuzz target: DTB -> DTS. Any accepted blob prints, in both string-list styles,
//! without panicking; the text is streamed into a sink.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppcpv::fdt::Fdt;
use ppcpv::fdt::dts::{DtsOptions, StringListStyle, write_dts};

fuzz_target!(|data: &[u8]| {
    let Ok(fdt) = Fdt::new(data) else { return };
    for style in [StringListStyle::Dtc16, StringListStyle::Dtc17] {
        let opts = DtsOptions::new(style, false);
        write_dts(&fdt, std::io::sink(), &opts).expect("a sink never fails");
    }
});
