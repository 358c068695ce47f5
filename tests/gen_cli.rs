//! `ppcpv gen` end to end: defaults, options, errors, and dtc's verdict on every
//! profile (decompile and recompile with zero warnings, identical bytes back).

mod common;

use std::path::Path;
use std::process::Command;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn no_options_writes_guest_dtb() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::ppcpv()
        .arg("gen")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dtb = std::fs::read(dir.path().join("guest.dtb")).unwrap();
    assert_eq!(be32(&dtb, 0), 0xd00d_feed);
    assert_eq!(be32(&dtb, 4) as usize, dtb.len());
    // The same bytes as asking for the defaults explicitly.
    let explicit = common::ppcpv()
        .args([
            "gen",
            "--machine",
            "ppce500",
            "--mem",
            "128M",
            "--cpus",
            "1",
        ])
        .args([
            "--flavour",
            "kvm",
            "--hcall",
            "kvm-pr",
            "--has-idle",
            "-o",
            "-",
        ])
        .output()
        .unwrap();
    assert!(explicit.status.success());
    assert_eq!(explicit.stdout, dtb);
}

#[test]
fn output_is_deterministic_and_options_change_it() {
    let a = common::ppcpv().args(["gen", "-o", "-"]).output().unwrap();
    let b = common::ppcpv().args(["gen", "-o", "-"]).output().unwrap();
    assert_eq!(a.stdout, b.stdout);
    let padded = common::ppcpv()
        .args(["gen", "--pad", "4096", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(padded.stdout.len(), a.stdout.len() + 4096);
    let rsv = common::ppcpv()
        .args(["gen", "--memreserve", "0x7f00000,1M", "-o", "-"])
        .output()
        .unwrap();
    // Header word 4 is off_mem_rsvmap; the first entry starts there.
    let off = be32(&rsv.stdout, 16) as usize;
    assert_eq!(
        &rsv.stdout[off..off + 16],
        &[0, 0, 0, 0, 0x07, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]
    );
}

#[test]
fn bad_options_are_usage_errors() {
    for args in [
        &["gen", "--cpus", "0", "-o", "-"][..],
        &["gen", "--cpus", "33", "-o", "-"],
        &["gen", "--mem", "0", "-o", "-"],
        &["gen", "--mem", "lots", "-o", "-"],
        &["gen", "--hcall", "nonsense", "-o", "-"],
        &["gen", "--hcall", "1,2,3,4,5", "-o", "-"],
        &["gen", "--initrd-start", "0x10", "-o", "-"],
        &[
            "gen",
            "--initrd-start",
            "0x20",
            "--initrd-end",
            "0x10",
            "-o",
            "-",
        ],
        &["gen", "--memreserve", "0x1000", "-o", "-"],
        &[
            "gen",
            "--memreserve",
            "0x1000,0x2000",
            "--memreserve",
            "0x2000,1",
            "-o",
            "-",
        ],
        &["gen", "--no-hypervisor", "--has-idle", "-o", "-"],
        &["gen", "--machine", "mac99", "-o", "-"],
    ] {
        let out = common::run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn failed_run_leaves_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("keep.dtb");
    std::fs::write(&target, b"old").unwrap();
    let out = common::run(&["gen", "--cpus", "0", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
}

fn dtc(args: &[&str], input: &Path, output: &Path) -> String {
    let out = Command::new("dtc")
        .args(args)
        .arg("-o")
        .arg(output)
        .arg(input)
        .output()
        .expect("dtc runs");
    assert!(out.status.success(), "dtc {args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Every machine, with a spread of options: dtc decompiles and recompiles each with
/// no warning at all, and the recompiled blob is byte-identical (no padding asked).
#[test]
#[ignore = "needs dtc"]
fn dtc_round_trips_every_profile_without_warnings() {
    if !common::interop("dtc_round_trips_every_profile_without_warnings", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profiles: &[&[&str]] = &[
        &[],
        &[
            "--cpus",
            "4",
            "--mem",
            "1G",
            "--bootargs",
            "console=ttyS0 root=/dev/vda",
        ],
        &["--initrd-start", "0x2000000", "--initrd-end", "0x2400000"],
        &["--flavour", "epapr"],
        &[
            "--hcall",
            "booke-hv",
            "--no-has-idle",
            "--memreserve",
            "0x7000000,64K",
        ],
        &["--no-hypervisor", "--stdout-path", "serial0"],
        &["--machine", "pseries"],
        &[
            "--machine",
            "pseries",
            "--cpus",
            "8",
            "--mem",
            "4G",
            "--has-idle",
        ],
        &["--machine", "minimal"],
        &["--machine", "minimal", "--cpus", "3", "--flavour", "epapr"],
    ];
    for (i, extra) in profiles.iter().enumerate() {
        let dtb = dir.path().join(format!("p{i}.dtb"));
        let dts = dir.path().join(format!("p{i}.dts"));
        let back = dir.path().join(format!("p{i}.back.dtb"));
        let mut args = vec!["gen", "-o", dtb.to_str().unwrap()];
        args.extend_from_slice(extra);
        common::run_ok(&args);
        let w1 = dtc(&["-I", "dtb", "-O", "dts"], &dtb, &dts);
        assert_eq!(w1, "", "decompiling {extra:?}");
        let w2 = dtc(&["-I", "dts", "-O", "dtb"], &dts, &back);
        assert_eq!(w2, "", "recompiling {extra:?}");
        assert_eq!(
            std::fs::read(&dtb).unwrap(),
            std::fs::read(&back).unwrap(),
            "dtc's bytes differ for {extra:?}"
        );
    }
}
