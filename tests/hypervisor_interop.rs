//! The goldens against dtc (ignored unless `-- --include-ignored`; needs dtc): `dtc -I dts -O dtb` of each `dts/*.dts`
//! is byte-identical to what ppcpv writes, and dtc decompiles ppcpv's blobs without a
//! single warning.

mod common;

use std::path::Path;
use std::process::Command;

fn dts_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/dts"))
}

fn ppcpv_bytes(args: &[&str]) -> Vec<u8> {
    let out = common::run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
#[ignore = "needs dtc"]
fn dtc_compiles_the_goldens_to_ppcpv_bytes() {
    if !common::interop("dtc_compiles_the_goldens_to_ppcpv_bytes", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for flavour in ["kvm", "epapr"] {
        let src = dts_dir().join(format!("{flavour}.dts"));
        let out = dir.path().join(format!("{flavour}.dtb"));
        let st = Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .unwrap();
        assert!(st.success(), "dtc failed on {}", src.display());
        let dtc = std::fs::read(&out).unwrap();
        // No property name here is a proper suffix of another, so dtc's string-tail
        // sharing (`dgibson/dtc: flattree.c (stringtable_insert)` matches a name at any
        // offset of the strings block) cannot make the bytes differ.
        let ours = ppcpv_bytes(&["hypervisor", "--flavour", flavour]);
        assert!(dtc == ours, "{flavour}: dtc and ppcpv blobs differ");
        let committed = std::fs::read(dts_dir().join(format!("{flavour}.dtb"))).unwrap();
        assert!(committed == ours, "{flavour}: committed .dtb is stale");
    }
}

#[test]
#[ignore = "needs dtc"]
fn dtc_decompiles_ppcpv_blobs_without_warnings() {
    if !common::interop("dtc_decompiles_ppcpv_blobs_without_warnings", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["--flavour", "kvm"],
        &["--flavour", "kvm", "--has-idle", "--hcall", "booke-hv"],
        &["--flavour", "kvm", "--hcall", "qemu-fallback"],
        &["--flavour", "epapr"],
        &["--flavour", "epapr", "--pad", "256"],
    ];
    for (i, extra) in cases.iter().enumerate() {
        let mut args = vec!["hypervisor"];
        args.extend_from_slice(extra);
        let blob = ppcpv_bytes(&args);
        let path = dir.path().join(format!("{i}.dtb"));
        std::fs::write(&path, &blob).unwrap();
        let out = Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{extra:?}");
        assert!(
            out.stderr.is_empty(),
            "{extra:?}: dtc warned: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // ppcpv's own DTS printer agrees with dtc on these trees.
        let mut dts_args = args.clone();
        dts_args.extend_from_slice(&["--format", "dts"]);
        let ours = ppcpv_bytes(&dts_args);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
#[ignore = "needs dtc"]
fn padding_matches_dtc() {
    if !common::interop("padding_matches_dtc", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dts_dir().join("kvm.dts");
    let out = dir.path().join("p.dtb");
    let st = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-p", "100", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let ours = ppcpv_bytes(&["hypervisor", "--flavour", "kvm", "--pad", "100"]);
    assert!(std::fs::read(&out).unwrap() == ours, "dtc -p 100 differs");
}

/// The writer's header options against dtc's: `-S`, `-a`, `-b` and `/memreserve/`.
#[test]
#[ignore = "needs dtc"]
fn writer_options_match_dtc() {
    use ppcpv::fdt::writer::{FdtBuilder, Padding};
    if !common::interop("writer_options_match_dtc", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("t.dts");
    std::fs::write(
        &src,
        "/dts-v1/;\n\n/memreserve/\t0x0000000001000000 0x0000000000010000;\n\
         /memreserve/\t0x0000000002000000 0x0000000000001000;\n\n/ {\n\
         \t#address-cells = <0x02>;\n\t#size-cells = <0x02>;\n\n\tcpus {\n\
         \t\tphandle = <0x01>;\n\t};\n};\n",
    )
    .unwrap();
    let build = |padding: &Padding| {
        let mut w =
            FdtBuilder::with_memreserves(&[(0x100_0000, 0x1_0000), (0x200_0000, 0x1000)]).unwrap();
        w.set_boot_cpuid_phys(3);
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        let cpus = w.begin_node("cpus").unwrap();
        w.property_phandle(1).unwrap();
        w.end_node(cpus).unwrap();
        w.end_node(root).unwrap();
        w.finish(padding).unwrap()
    };
    let cases: [(&[&str], Padding); 4] = [
        (&[], Padding::NONE),
        (
            &["-S", "4096"],
            Padding {
                space: Some(4096),
                ..Padding::NONE
            },
        ),
        (
            &["-a", "64"],
            Padding {
                align: Some(64),
                ..Padding::NONE
            },
        ),
        (
            &["-p", "10", "-a", "32"],
            Padding {
                pad: Some(10),
                align: Some(32),
                ..Padding::NONE
            },
        ),
    ];
    for (flags, padding) in cases {
        let out = dir.path().join("t.dtb");
        let st = Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-b", "3"])
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .status()
            .unwrap();
        assert!(st.success(), "dtc {flags:?}");
        assert!(
            std::fs::read(&out).unwrap() == build(&padding),
            "dtc {flags:?} differs from FdtBuilder with {padding:?}"
        );
    }
}

/// Names over vm-fdt's 31 characters (real PAPR names) come out as dtc writes them.
#[test]
#[ignore = "needs dtc"]
fn long_names_match_dtc() {
    use ppcpv::fdt::writer::{FdtBuilder, Padding};
    if !common::interop("long_names_match_dtc", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("long.dts");
    std::fs::write(
        &src,
        "/dts-v1/;\n\n/ {\n\t#address-cells = <0x02>;\n\n\trtas {\n\
         \t\tibm,associativity-reference-points = <0x04 0x04 0x02>;\n\
         \t\tibm,current-associativity-domains = <0x04 0x01>;\n\t};\n\n\
         \tibm,dynamic-reconfiguration-memory {\n\t\t#address-cells = <0x02>;\n\t};\n};\n",
    )
    .unwrap();
    let out = dir.path().join("long.dtb");
    let st = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let mut w = FdtBuilder::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    let rtas = w.begin_node("rtas").unwrap();
    w.property_array_u32("ibm,associativity-reference-points", &[4, 4, 2])
        .unwrap();
    w.property_array_u32("ibm,current-associativity-domains", &[4, 1])
        .unwrap();
    w.end_node(rtas).unwrap();
    let drmem = w.begin_node("ibm,dynamic-reconfiguration-memory").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.end_node(drmem).unwrap();
    w.end_node(root).unwrap();
    let ours = w.finish(&Padding::NONE).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == ours,
        "long-name tree differs from dtc's"
    );
}
