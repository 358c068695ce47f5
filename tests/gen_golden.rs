//! The goldens `dts/guest-<machine>.dts` and `.dtb`: what `ppcpv gen --machine M`
//! writes with default options. The `.dtb` pins ppcpv's bytes; the `.dts` is ppcpv's
//! DTS output for it (the text of `dtc -I dtb -O dts`, dtc 1.6.1). Under
//! `cargo test -- --include-ignored` (needs dtc), dtc must compile each `.dts` back into the `.dtb` byte for byte.
//! Refresh after an intended change with `UPDATE_GOLDEN=1 cargo test --test gen_golden`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const MACHINES: [&str; 3] = ["ppce500", "pseries", "minimal"];

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dts").join(name)
}

fn gen_bytes(machine: &str, format: &str) -> Vec<u8> {
    let out = common::run(&[
        "gen",
        "--machine",
        machine,
        "--no-rng-seed",
        "--format",
        format,
        "-o",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn goldens_match_what_ppcpv_writes() {
    for m in MACHINES {
        common::compare_or_update(&golden(&format!("guest-{m}.dtb")), &gen_bytes(m, "dtb"));
        common::compare_or_update(&golden(&format!("guest-{m}.dts")), &gen_bytes(m, "dts"));
    }
}

#[test]
#[ignore = "needs dtc"]
fn dtc_compiles_the_goldens_to_the_same_bytes() {
    if !common::interop("dtc_compiles_the_goldens_to_the_same_bytes", "dtc") {
        return;
    }
    for m in MACHINES {
        let out = Command::new("dtc")
            .args(["-I", "dts", "-O", "dtb"])
            .arg(golden(&format!("guest-{m}.dts")))
            .output()
            .expect("dtc runs");
        assert!(out.status.success(), "{m}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{m}: dtc warned");
        assert_eq!(
            out.stdout,
            std::fs::read(golden(&format!("guest-{m}.dtb"))).unwrap(),
            "{m}: dtc's blob differs"
        );
    }
}
