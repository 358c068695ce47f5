//! `ppcpv hypervisor` end to end: the goldens in `dts/`, the error exits, `--pvinfo`.
//! Refresh the goldens with `UPDATE_GOLDEN=1 cargo test --test hypervisor_cli`.

mod common;

use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::pvinfo::{KVM_PPC_PVINFO_FLAGS_EV_IDLE, KvmPpcPvinfo, PvinfoOrder};
use ppcpv::fdt::Fdt;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dts").join(name)
}

fn run_bytes(args: &[&str]) -> Vec<u8> {
    let out = common::run(args);
    assert!(
        out.status.success(),
        "ppcpv {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn goldens_match_what_ppcpv_writes() {
    for flavour in ["kvm", "epapr"] {
        let dtb = run_bytes(&["hypervisor", "--flavour", flavour]);
        common::compare_or_update(&golden(&format!("{flavour}.dtb")), &dtb);
        let dts = run_bytes(&["hypervisor", "--flavour", flavour, "--format", "dts"]);
        common::compare_or_update(&golden(&format!("{flavour}.dts")), &dts);
    }
}

#[test]
fn golden_trees_are_clean() {
    for (flavour, seq) in [("kvm", "kvm-pr"), ("epapr", "epapr")] {
        let blob = std::fs::read(golden(&format!("{flavour}.dtb"))).unwrap();
        let fdt = Fdt::new(&blob).unwrap();
        let r = check_fdt(&fdt);
        assert_eq!(r.sequence.map(|s| s.name()), Some(seq));
        assert!(r.linux.epapr_hypercalls());
        assert_eq!(r.linux.detects_kvm(), flavour == "kvm");
        assert_eq!(r.linux.magic_page(), flavour == "kvm");
        // The Topaz tree is (by design) not a KVM tree: only the informational note.
        assert!(
            r.findings.iter().all(|f| f.id.id() == "no-linux-kvm"),
            "{flavour}: {:?}",
            r.findings
        );
    }
}

#[test]
fn writes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hv.dtb");
    common::run_ok(&[
        "hypervisor",
        "--hcall",
        "booke-hv",
        "--has-idle",
        "-o",
        out.to_str().unwrap(),
    ]);
    let blob = std::fs::read(&out).unwrap();
    let r = check_fdt(&Fdt::new(&blob).unwrap());
    assert_eq!(r.sequence.map(|s| s.name()), Some("booke-hv"));
    assert!(r.has_idle && r.linux.ev_idle && !r.linux.magic_page());
}

#[test]
fn explicit_words_and_compatibles() {
    let blob = run_bytes(&[
        "hypervisor",
        "--hcall",
        "0x44000022,0x60000000",
        "--compatible",
        "linux,kvm",
        "--compatible",
        "vendor,hv",
    ]);
    let r = check_fdt(&Fdt::new(&blob).unwrap());
    assert_eq!(
        r.hcall_instructions.map(|h| h.words().to_vec()),
        Some(vec![0x4400_0022, 0x6000_0000])
    );
    assert_eq!(r.compatible, vec!["linux,kvm", "vendor,hv"]);
    assert_eq!(r.sequence.map(|s| s.name()), Some("epapr"));
}

#[test]
fn pad_adds_free_space() {
    let plain = run_bytes(&["hypervisor"]);
    let padded = run_bytes(&["hypervisor", "--pad", "64"]);
    assert_eq!(padded.len(), plain.len() + 64);
    assert!(Fdt::new(&padded).is_ok());
    assert_eq!(run_bytes(&["hypervisor", "--space", "4096"]).len(), 4096);
    assert_eq!(run_bytes(&["hypervisor", "--align", "256"]).len(), 256);
}

fn usage_error(args: &[&str], needle: &str) {
    let out = common::run(args);
    assert_eq!(out.status.code(), Some(2), "ppcpv {args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "ppcpv {args:?}: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn impossible_requests_exit_2() {
    usage_error(
        &["hypervisor", "--hcall", "1,2,3,4,5"],
        "at most 4 instruction words, got 5",
    );
    usage_error(
        &["hypervisor", "--hcall", "0x44000022,0x100000000"],
        "does not fit in 32 bits",
    );
    usage_error(&["hypervisor", "--hcall", "kvm-hv"], "bad instruction word");
    usage_error(&["hypervisor", "--compatible", ""], "must not be empty");
    usage_error(&["hypervisor", "--flavour", "xen"], "invalid value 'xen'");
    usage_error(
        &["hypervisor", "--align", "48"],
        "alignment 48 is not a power of two",
    );
    usage_error(
        &["hypervisor", "--pad", "1", "--space", "2"],
        "cannot be used with",
    );
    usage_error(
        &["hypervisor", "--flavour", "epapr", "--pvinfo", "x"],
        "--pvinfo describes a KVM host",
    );
    // --endian and --legacy-pvinfo say how to read a pvinfo file: nothing without one.
    usage_error(&["hypervisor", "--endian", "little"], "--pvinfo <FILE>");
    usage_error(&["hypervisor", "--legacy-pvinfo"], "--pvinfo <FILE>");
}

#[test]
fn pvinfo_gives_the_node_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let words = [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000];
    let info = KvmPpcPvinfo::new(KVM_PPC_PVINFO_FLAGS_EV_IDLE, words);
    // A little-endian host with a current kernel: flags LE, words BE.
    let file = dir.path().join("pvinfo.bin");
    std::fs::write(
        &file,
        info.to_bytes(PvinfoOrder::current(ppcpv::Endian::Little)),
    )
    .unwrap();
    let blob = run_bytes(&[
        "hypervisor",
        "--pvinfo",
        file.to_str().unwrap(),
        "--endian",
        "little",
    ]);
    let r = check_fdt(&Fdt::new(&blob).unwrap());
    assert_eq!(
        r.hcall_instructions.map(|h| h.words().to_vec()),
        Some(words.to_vec())
    );
    assert_eq!(r.sequence.map(|s| s.name()), Some("booke-hv"));
    assert!(r.has_idle);
    assert_eq!(r.compatible, vec!["linux,kvm"]);
    // Read as big-endian, the flags word is 0x01000000: no EV_IDLE.
    let blob = run_bytes(&["hypervisor", "--pvinfo", file.to_str().unwrap()]);
    assert!(!check_fdt(&Fdt::new(&blob).unwrap()).has_idle);

    // A short file is a failure (exit 1), not a usage error.
    let short = dir.path().join("short.bin");
    std::fs::write(&short, [0u8; 100]).unwrap();
    let out = common::run(&["hypervisor", "--pvinfo", short.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("128 bytes, got 100"));
}
