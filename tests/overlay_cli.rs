//! `ppcpv overlay` and `ppcpv hypervisor --format dtbo` on the command line: overlays
//! that do not fit say which fragment, target, label or fix-up and why, exit 1 and
//! leave the output alone; usage mistakes exit 2; `-` reads stdin and writes stdout.

mod common;

use ppcpv::fdt::Fdt;
use ppcpv::fdt::compile::{CompileOptions, NoFiles, compile};
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

const BASE: &str = r#"/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	pic: pic@100 { interrupt-controller; #interrupt-cells = <2>; reg = <0x100 0x10>; };
	uart0: serial@200 { reg = <0x200 0x10>; interrupt-parent = <&pic>; status = "okay"; };
};
"#;

fn blob(dir: &Path, name: &str, src: &str, symbols: bool) -> String {
    let b = compile(
        src.as_bytes(),
        name,
        &CompileOptions::new().symbols(symbols),
        &mut NoFiles,
    )
    .unwrap();
    let p = dir.join(name);
    std::fs::write(&p, b).unwrap();
    p.to_str().unwrap().to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs an overlay that must fail, checks exit 1, that the existing output keeps its
/// bytes and that a new output is not created, and returns stderr.
fn fails(dir: &Path, base: &str, overlay: &str) -> String {
    let existing = dir.join("existing.dtb");
    std::fs::write(&existing, b"keep me").unwrap();
    let o = common::run(&["overlay", base, overlay, "-o", existing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");
    let fresh = dir.join("fresh.dtb");
    let o2 = common::run(&["overlay", base, overlay, "-o", fresh.to_str().unwrap()]);
    assert_eq!(o2.status.code(), Some(1));
    assert!(!fresh.exists(), "a failed overlay created its output");
    // No temporary file is left behind either.
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    stderr(&o)
}

#[test]
fn missing_target_path_names_fragment_and_missing_node() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, true);
    let ov = blob(
        d,
        "soc.dtbo",
        "/dts-v1/; /plugin/; / { fragment@0 { target-path = \"/soc/serial@0\"; \
         __overlay__ { status = \"okay\"; }; }; };",
        false,
    );
    let err = fails(d, &base, &ov);
    assert!(err.contains("soc.dtbo: fragment /fragment@0"), "{err}");
    assert!(err.contains("target-path = \"/soc/serial@0\""), "{err}");
    assert!(err.contains("no node \"soc\" under /"), "{err}");
}

#[test]
fn unknown_label_names_label_and_fixup() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, true);
    let ov = blob(
        d,
        "label.dtbo",
        "/dts-v1/; /plugin/; &uart0 { other = <&nosuchlabel>; };",
        true,
    );
    let err = fails(d, &base, &ov);
    assert!(err.contains("label \"nosuchlabel\""), "{err}");
    assert!(err.contains("/fragment@0/__overlay__:other:0"), "{err}");
    assert!(err.contains("no such label"), "{err}");
}

#[test]
fn base_without_symbols_says_compile_with_symbols() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "plain.dtb", BASE, false);
    let ov = blob(
        d,
        "label.dtbo",
        "/dts-v1/; /plugin/; &uart0 { status = \"disabled\"; };",
        true,
    );
    let err = fails(d, &base, &ov);
    assert!(err.contains("label \"uart0\""), "{err}");
    assert!(err.contains("no /__symbols__"), "{err}");
    assert!(err.contains("-@"), "{err}");
}

#[test]
fn target_phandle_not_in_base() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, false);
    let ov = blob(
        d,
        "ph.dtbo",
        "/dts-v1/; /plugin/; / { fragment@3 { target = <0x99>; __overlay__ { x; }; }; };",
        false,
    );
    let err = fails(d, &base, &ov);
    assert!(
        err.contains("fragment /fragment@3: target = <0x99>"),
        "{err}"
    );
    assert!(
        err.contains("no node of the base tree has this phandle"),
        "{err}"
    );
    let ov = blob(
        d,
        "none.dtbo",
        "/dts-v1/; /plugin/; / { fragment@0 { __overlay__ { x; }; }; };",
        false,
    );
    let err = fails(d, &base, &ov);
    assert!(
        err.contains("neither a `target` nor a `target-path`"),
        "{err}"
    );
}

#[test]
fn malformed_overlay_blob_names_the_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, false);
    let bad = d.join("bad.dtbo");
    std::fs::write(&bad, b"\xd0\x0d\xfe\xed\x00\x00\x00\x10garbage!").unwrap();
    let err = fails(d, &base, bad.to_str().unwrap());
    assert!(err.contains("bad.dtbo"), "{err}");
    let err = fails(d, bad.to_str().unwrap(), &base);
    assert!(err.contains("bad.dtbo"), "{err}");
}

#[test]
fn usage_mistakes_exit_2() {
    let o = common::run(&["overlay", "base.dtb", "-o", "out.dtb"]);
    assert_eq!(o.status.code(), Some(2));
    let o = common::run(&["overlay", "-", "-", "-o", "out.dtb"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard input"));
}

#[test]
fn hypervisor_dtbo_piped_into_overlay_then_to_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, false);
    let dtbo = common::ppcpv()
        .args(["hypervisor", "--has-idle", "--format", "dtbo", "-o", "-"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(dtbo.status.success());
    let fdt = Fdt::new(&dtbo.stdout).unwrap();
    assert!(
        fdt.find("/fragment@0/__overlay__/hypervisor/")
            .unwrap()
            .property("has-idle")
            .is_some()
    );
    let mut child = common::ppcpv()
        .args(["overlay", &base, "-", "-o", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&dtbo.stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let fdt = Fdt::new(&out.stdout).unwrap();
    let hv = fdt.find("/hypervisor").unwrap();
    assert_eq!(hv.property("compatible").unwrap().value, b"linux,kvm\0");
    // libfdt adds the node as the root's first child.
    assert_eq!(fdt.root().children().next().unwrap().name(), "hypervisor");
}

#[test]
fn overlay_may_replace_its_base() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = blob(d, "base.dtb", BASE, true);
    let ov = blob(
        d,
        "ok.dtbo",
        "/dts-v1/; /plugin/; &uart0 { status = \"disabled\"; };",
        true,
    );
    let o = common::run(&["overlay", &base, &ov, "-o", &base]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = std::fs::read(&base).unwrap();
    let fdt = Fdt::new(&b).unwrap();
    assert_eq!(
        fdt.find("/serial@200")
            .unwrap()
            .property("status")
            .unwrap()
            .value,
        b"disabled\0"
    );
}
