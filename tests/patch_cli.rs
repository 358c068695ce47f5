//! `ppcpv patch` end to end: in place, through pipes, on a tree with names vm-fdt
//! cannot write, and without touching anything when it fails.

mod common;

use ppcpv::fdt::Fdt;
use std::io::Write;
use std::process::Stdio;

fn hv_props(blob: &[u8]) -> Vec<(String, Vec<u8>)> {
    let fdt = Fdt::new(blob).unwrap();
    fdt.find("/hypervisor")
        .map(|n| {
            n.properties()
                .map(|p| (p.name.to_string(), p.value.to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

const KVM_PR: [u8; 16] = [
    0x3c, 0x00, 0x4b, 0x56, 0x60, 0x00, 0x4d, 0x21, 0x44, 0x00, 0x00, 0x02, 0x60, 0x00, 0x00, 0x00,
];

#[test]
fn patches_pseries_in_place_and_back() {
    // QEMU's pseries tree has names over 31 characters
    // (ibm,associativity-reference-points), which vm-fdt refuses to write.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pseries.dtb");
    let original = std::fs::read(common::data("qemu-pseries.dtb")).unwrap();
    std::fs::write(&file, &original).unwrap();
    let f = file.to_str().unwrap();

    common::run_ok(&["patch", f, "-o", f, "--has-idle"]);
    let added = std::fs::read(&file).unwrap();
    assert_eq!(
        hv_props(&added),
        vec![
            ("compatible".to_string(), b"linux,kvm\0".to_vec()),
            ("hcall-instructions".to_string(), KVM_PR.to_vec()),
            ("has-idle".to_string(), vec![]),
        ]
    );
    let fdt = Fdt::new(&added).unwrap();
    assert!(
        fdt.find("/rtas")
            .unwrap()
            .property("ibm,associativity-reference-points")
            .is_some()
    );

    common::run_ok(&[
        "patch",
        f,
        "-o",
        f,
        "--hcall",
        "0x44000022",
        "--no-has-idle",
    ]);
    let changed = std::fs::read(&file).unwrap();
    assert_eq!(
        hv_props(&changed),
        vec![
            ("compatible".to_string(), b"linux,kvm\0".to_vec()),
            ("hcall-instructions".to_string(), vec![0x44, 0, 0, 0x22]),
        ]
    );

    common::run_ok(&["patch", f, "-o", f, "--remove"]);
    assert_eq!(std::fs::read(&file).unwrap(), original);
}

#[test]
fn reads_stdin_and_writes_stdout() {
    let original = std::fs::read(common::data("qemu-pseries.dtb")).unwrap();
    let mut child = common::ppcpv()
        .args(["patch", "-", "-o", "-", "--flavour", "epapr"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&original).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let props = hv_props(&out.stdout);
    assert_eq!(
        props[0].1,
        b"fsl,embedded-hypervisor-v1.3\0epapr,hypervisor-1\0".to_vec()
    );
    assert_eq!(
        props[1],
        ("hcall-instructions".to_string(), vec![0x44, 0, 0, 0x22])
    );
}

#[test]
fn failures_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A Xen-style node: only --replace may change it.
    let xen = dir.path().join("xen.dtb");
    let mut cfg = ppcpv::dt::machine::GuestConfig::new(ppcpv::dt::machine::Machine::Minimal);
    cfg.hypervisor = Some(ppcpv::dt::hypervisor::HypervisorNode::new([
        "xen,xen-4.17",
        "xen,xen",
    ]));
    let xen_bytes = ppcpv::dt::machine::generate(&cfg).unwrap();
    std::fs::write(&xen, &xen_bytes).unwrap();
    let out_path = dir.path().join("out.dtb");
    std::fs::write(&out_path, b"previous").unwrap();
    let x = xen.to_str().unwrap();
    let o = out_path.to_str().unwrap();

    for args in [
        &["patch", x, "-o", x, "--has-idle"][..],
        &["patch", x, "-o", o, "--remove"],
    ] {
        let out = common::run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    }
    assert_eq!(std::fs::read(&xen).unwrap(), xen_bytes);
    assert_eq!(std::fs::read(&out_path).unwrap(), b"previous");

    // Garbage in: exit 1, output untouched.
    let junk = dir.path().join("junk.dtb");
    std::fs::write(&junk, b"\xd0\x0d\xfe\xed garbage").unwrap();
    let out = common::run(&["patch", junk.to_str().unwrap(), "-o", o]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&out_path).unwrap(), b"previous");
    let out = common::run(&["patch", "/nonexistent/x.dtb", "-o", o]);
    assert_eq!(out.status.code(), Some(1));

    // --replace does it, in place.
    common::run_ok(&["patch", x, "-o", x, "--replace"]);
    assert_eq!(hv_props(&std::fs::read(&xen).unwrap())[0].1, b"linux,kvm\0");

    // Conflicting modes are usage errors.
    let out = common::run(&["patch", x, "-o", o, "--remove", "--replace"]);
    assert_eq!(out.status.code(), Some(2));
    let out = common::run(&["patch", x, "-o", o, "--remove", "--hcall", "kvm-pr"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn nothing_to_remove_copies_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o.dtb");
    let out = common::run(&[
        "patch",
        common::data("qemu-pseries.dtb").to_str().unwrap(),
        "-o",
        o.to_str().unwrap(),
        "--remove",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // One line: the write and why it is a copy.
    assert_eq!(
        err.trim_end(),
        format!(
            "ppcpv: wrote {}: nothing to change in {}",
            o.display(),
            common::data("qemu-pseries.dtb").display()
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&o).unwrap(),
        std::fs::read(common::data("qemu-pseries.dtb")).unwrap()
    );
}

/// libfdt's `fdt_delprop` (`fdtput -d`) leaves the deleted property's name in the
/// strings block. Add then remove gives back such a blob byte for byte, also when the
/// name left behind is one the added node uses (`has-idle`), with and without free
/// space in the blob.
#[test]
#[ignore = "needs dtc and fdtput"]
fn add_then_remove_keeps_names_fdtput_left() {
    let test = "add_then_remove_keeps_names_fdtput_left";
    common::interop(test, "dtc");
    common::interop(test, "fdtput");
    let dir = tempfile::tempdir().unwrap();
    let dts = dir.path().join("a.dts");
    std::fs::write(
        &dts,
        "/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tmodel = \"m\";\n};\n",
    )
    .unwrap();
    let sh = |args: &[&str]| {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (i, dtc_opts) in [&[][..], &["-p", "64"][..], &["-S", "4096"][..]]
        .iter()
        .enumerate()
    {
        let a = format!("a{i}.dtb");
        let mut args = vec!["dtc", "-q", "-O", "dtb", "-o", &a];
        args.extend_from_slice(dtc_opts);
        args.push("a.dts");
        sh(&args);
        sh(&["fdtput", "-t", "s", &a, "/", "has-idle", "x"]);
        sh(&["fdtput", "-t", "s", &a, "/", "zz-extra", "y"]);
        sh(&["fdtput", "-d", &a, "/", "has-idle"]);
        sh(&["fdtput", "-d", &a, "/", "zz-extra"]);
        let before = std::fs::read(dir.path().join(&a)).unwrap();
        let fdt = Fdt::new(&before).unwrap();
        assert!(
            before[fdt.strings_range()].ends_with(b"has-idle\0zz-extra\0"),
            "fdtput no longer leaves the names behind"
        );
        let added = dir.path().join(format!("b{i}.dtb"));
        let back = dir.path().join(format!("c{i}.dtb"));
        let p = |s: &std::path::Path| s.to_str().unwrap().to_owned();
        common::run_ok(&[
            "patch",
            &p(&dir.path().join(&a)),
            "-o",
            &p(&added),
            "--has-idle",
        ]);
        assert!(
            hv_props(&std::fs::read(&added).unwrap())
                .iter()
                .any(|(n, _)| n == "has-idle")
        );
        common::run_ok(&["patch", &p(&added), "-o", &p(&back), "--remove"]);
        assert!(
            std::fs::read(&back).unwrap() == before,
            "dtc {dtc_opts:?}: add then remove changed the blob"
        );
    }
}

/// The options gen and hypervisor share (src/cli/treeopts.rs): node properties and the
/// blob's free space, set on an existing tree.
#[test]
fn shared_node_and_free_space_options() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::data("qemu-pseries.dtb");
    let src = src.to_str().unwrap();
    let out = common::ppcpv()
        .args([
            "patch",
            src,
            "--flavour",
            "epapr",
            "--compatible",
            "vendor,hv",
            "--guest-id",
            "0x2",
            "--guest-name",
            "p2",
            "-S",
            "0x20000",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blob = out.stdout;
    assert_eq!(blob.len(), 0x20000, "-S sets the size");
    let props = hv_props(&blob);
    let get = |n: &str| props.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get("compatible").unwrap(), b"vendor,hv\0");
    assert_eq!(get("guest-id").unwrap(), 2u32.to_be_bytes());
    assert_eq!(get("guest-name").unwrap(), b"p2\0");
    // Free space alone: --pad on the patched blob; -a rounds; both keep every byte
    // before the free space.
    let file = dir.path().join("t.dtb");
    std::fs::write(&file, &blob).unwrap();
    let f = file.to_str().unwrap();
    common::run_ok(&["patch", f, "-o", f, "--pad", "0", "-a", "4096"]);
    let packed = std::fs::read(&file).unwrap();
    assert_eq!(packed.len() % 4096, 0);
    assert!(packed.len() < blob.len());
    let used = Fdt::new(&packed).unwrap().strings_range().end;
    assert_eq!(packed[8..used], blob[8..used]);
    // --pad with --space, or a bad alignment, is a usage error; the file stays.
    for bad in [&["--pad", "1", "-S", "2"][..], &["-a", "3"]] {
        let out = common::run(&[&["patch", f, "-o", f][..], bad].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    assert_eq!(std::fs::read(&file).unwrap(), packed);
}

/// Padding that does not fit the memory the process may use is an error (exit 1), not
/// an abort, and leaves no file behind.
#[cfg(unix)]
#[test]
fn padding_past_the_memory_limit_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::data("qemu-pseries.dtb");
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "ulimit -v 400000; exec {} patch {} --pad 0xfff00000 -o big.dtb",
            env!("CARGO_BIN_EXE_ppcpv"),
            src.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot allocate"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
