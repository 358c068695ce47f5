//! `inspect`, `--check` and `dump` on trees that crash a guest or that dtc refuses
//! (issues 11.8, 11.11, 11.13 and the `inspect` half of 12), end to end and through the
//! library.

mod common;

use common::{data, run, run_ok};
use ppcpv::dt::checks::{CheckId, IdleReason, Severity, check_fdt, check_fdt_for};
use ppcpv::dt::host::Host;
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::fdt::Fdt;
use ppcpv::hcall::HostProfile;
use serde_json::Value;
use std::path::Path;

fn path(name: &str) -> String {
    data(name).display().to_string()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run_ok(args)).expect("valid JSON")
}

/// `ppcpv gen ARGS -o DIR/NAME`, returning the path.
fn make(dir: &Path, name: &str, args: &[&str]) -> String {
    let out = dir.join(name).display().to_string();
    let mut all = vec!["gen"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", &out]);
    run_ok(&all);
    out
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ppcpv-inspect-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Issue 11.8: two /hypervisor children. dtc refuses the tree; Linux uses the first.
#[test]
fn duplicate_hypervisor_is_reported_and_fails_check() {
    let f = path("synthetic-corrupt-duplicate-node.dtb");
    let text = run_ok(&["inspect", &f]);
    assert!(
        text.contains("error[duplicate-hypervisor] (/hypervisor)"),
        "{text}"
    );
    assert!(
        text.contains(
            "error[duplicate_node_names] (/hypervisor): /hypervisor: Duplicate node name; \
             dtc refuses the tree without -f"
        ),
        "{text}"
    );
    assert!(!text.contains("findings:     none"));
    let r = run(&["inspect", "--check", &f]);
    assert_eq!(r.status.code(), Some(1));
    let j = json(&["inspect", "--json", &f]);
    let ids: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"duplicate-hypervisor") && ids.contains(&"duplicate_node_names"));
}

/// Issue 11.8: `dump` prints such trees as `dtc -f` does, with its warnings on stderr.
#[test]
fn dump_warns_like_dtc_f() {
    for (name, line) in [
        (
            "duplicate-node",
            "ERROR (duplicate_node_names): /hypervisor: Duplicate node name",
        ),
        (
            "duplicate-property",
            "ERROR (duplicate_property_names): /hypervisor:hcall-instructions: Duplicate \
             property name",
        ),
    ] {
        let f = path(&format!("synthetic-corrupt-{name}.dtb"));
        let r = run(&["dump", &f]);
        assert_eq!(r.status.code(), Some(0), "{name}");
        assert!(!r.stdout.is_empty());
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            err.contains(&format!("ppcpv: warning: {f}: {line}\n")),
            "{name}: {err}"
        );
        assert!(err.contains("output forced"), "{err}");
    }
    // A clean tree: nothing on stderr.
    let r = run(&["dump", "dts/kvm.dtb"]);
    assert!(r.stderr.is_empty());
}

/// Issue 11.8 against dtc itself: the same ERROR lines, and the same DTS text.
#[test]
#[ignore = "needs dtc"]
fn dump_matches_dtc_f_on_refused_trees() {
    common::interop("dump_matches_dtc_f_on_refused_trees", "dtc");
    for name in ["duplicate-node", "duplicate-property"] {
        let f = path(&format!("synthetic-corrupt-{name}.dtb"));
        let d = std::process::Command::new("dtc")
            .args(["-f", "-I", "dtb", "-O", "dts", &f])
            .output()
            .unwrap();
        let r = run(&["dump", &f]);
        assert_eq!(r.stdout, d.stdout, "{name}");
        let want: Vec<String> = String::from_utf8_lossy(&d.stderr)
            .lines()
            .filter_map(|l| {
                l.split_once(": ERROR (")
                    .map(|(_, e)| format!("ERROR ({e}"))
            })
            .collect();
        let got: Vec<String> = String::from_utf8_lossy(&r.stderr)
            .lines()
            .filter_map(|l| {
                l.split_once(": ERROR (")
                    .map(|(_, e)| format!("ERROR ({e}"))
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{name}");
    }
}

/// Issue 11.11: `compatible = [6c 69 6e 75 78 2c 6b 76 6d]` (no NUL) is linux,kvm to
/// Linux, whose reading runs on into the zero padding.
#[test]
fn unterminated_compatible_is_detected_like_linux() {
    let f = path("hv-compatible-unterminated.dtb");
    let blob = std::fs::read(&f).unwrap();
    let r = check_fdt(&Fdt::new(&blob).unwrap());
    assert!(r.linux.detects_kvm() && r.linux.magic_page());
    assert_eq!(r.compatible, ["linux,kvm"]);
    assert!(r.has(CheckId::BadCompatible));
    assert_eq!(r.worst(), Some(Severity::Warning));
    let text = run_ok(&["inspect", &f]);
    assert!(text.contains("Linux detects KVM:       yes"), "{text}");
    assert!(text.contains("so it still finds \"linux,kvm\""), "{text}");
    assert_eq!(run(&["inspect", "--check", &f]).status.code(), Some(0));
}

/// Issue 11.13: has-idle on a pseries (64-bit Book3S) tree does nothing.
#[test]
fn has_idle_is_ignored_by_64_bit_book3s() {
    let d = tempdir("idle");
    let f = make(
        &d,
        "ps.dtb",
        &["--machine", "pseries", "--host", "book3s-pr", "--has-idle"],
    );
    let text = run_ok(&["inspect", &f]);
    assert!(text.contains("  has-idle:   yes"), "{text}");
    assert!(
        text.contains(
            "  EV_IDLE power save:      no (has-idle is ignored by 64-bit Book3S kernels"
        ),
        "{text}"
    );
    assert!(!text.contains("EV_IDLE power save:      yes"));
    let j = json(&["inspect", "--json", &f]);
    assert_eq!(j["hypervisor"]["linux"]["ev_idle"], false);
    assert!(
        j["hypervisor"]["linux"]["ev_idle_why"]
            .as_str()
            .unwrap()
            .contains("64-bit Book3S")
    );
    let blob = std::fs::read(&f).unwrap();
    let r = check_fdt(&Fdt::new(&blob).unwrap());
    assert!(matches!(r.linux.idle, IdleReason::Book3s64 { .. }));
    // The same node on an e500v2 tree: EV_IDLE is used.
    let f = make(&d, "e500.dtb", &["--host", "e500v2"]);
    assert!(run_ok(&["inspect", &f]).contains("EV_IDLE power save:      yes"));
    std::fs::remove_dir_all(d).unwrap();
}

/// Issue 12: `--host` makes the words' problems on that host errors; without it the
/// hosts section says which hosts are right.
#[test]
fn inspect_judges_the_host() {
    let d = tempdir("host");
    let kvm = make(&d, "kvm.dtb", &["--host", "e500v2"]);
    // Right for e500v2 only; under TCG the sc is a system call.
    let text = run_ok(&["inspect", &kvm]);
    assert!(
        text.contains("hosts:        right for e500v2 (CPU e500v2)"),
        "{text}"
    );
    assert!(
        text.contains("  tcg         wrong: hcall-instructions slot 2"),
        "{text}"
    );
    assert!(text.contains("findings:     none"), "{text}");
    assert_eq!(run(&["inspect", "--check", &kvm]).status.code(), Some(0));
    let e500 = run(&["inspect", "--check", "--host", "e500v2", &kvm]);
    assert_eq!(e500.status.code(), Some(0));
    let tcg = run(&["inspect", "--check", "--host", "tcg", &kvm]);
    assert_eq!(tcg.status.code(), Some(1));
    let out = String::from_utf8_lossy(&tcg.stdout);
    assert!(
        out.contains("error[wrong-for-host] (/hypervisor): wrong for host tcg: hcall-instructions slot 2: 0x44000002 (sc) is no hypercall without KVM"),
        "{out}"
    );
    assert!(out.contains("  tcg         wrong (--host):"), "{out}");
    let hv = run(&["inspect", "--check", "--host", "booke-hv", &kvm]);
    assert_eq!(hv.status.code(), Some(1));

    // JSON: the verdicts at the top level.
    let j = json(&["inspect", "--json", "--host", "tcg", &kvm]);
    assert_eq!(j["host"], "tcg");
    assert_eq!(j["guest_cpu"], "e500v2");
    let hosts = j["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 4);
    assert_eq!(hosts[2]["host"], "e500v2");
    assert_eq!(hosts[2]["right"], true);
    assert_eq!(hosts[0]["right"], false);
    assert!(j["hypervisor"].get("hosts").is_none());

    // The default gen tree (no node) is right everywhere, --host tcg included.
    let plain = make(&d, "plain.dtb", &[]);
    assert_eq!(
        run(&["inspect", "--check", "--host", "tcg", &plain])
            .status
            .code(),
        Some(0)
    );

    // QEMU's fallback on e500v2 (tdi) and the old fallback with has-idle: wrong for
    // every host, so an error without --host.
    for (name, args, want) in [
        (
            "fb.dtb",
            &["--flavour", "kvm", "--hcall", "qemu-fallback", "--force"][..],
            "is a 64-bit instruction, illegal on the 32-bit e500v2",
        ),
        (
            "fbo.dtb",
            &[
                "--flavour",
                "kvm",
                "--hcall",
                "qemu-fallback-old",
                "--has-idle",
                "--force",
            ][..],
            "the guest's idle loop spins a host CPU",
        ),
    ] {
        let f = make(&d, name, args);
        let r = run(&["inspect", "--check", &f]);
        assert_eq!(r.status.code(), Some(1), "{name}");
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(out.contains("hosts:        right for none"), "{out}");
        assert!(
            out.contains(
                "error[no-right-host] (/hypervisor): right for no host; on tcg, e500v2, booke-hv:"
            ),
            "{out}"
        );
        assert!(out.contains(want), "{out}");
    }

    // Usage errors.
    let r = run(&["inspect", "--host", "kvm", &kvm]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("unknown host 'kvm'"));
    std::fs::remove_dir_all(d).unwrap();
}

/// The same through the library: `check_fdt_for` with each host.
#[test]
fn library_host_verdicts() {
    let blob = HypervisorNode::preset(Flavour::Epapr)
        .to_minimal_dtb(&ppcpv::fdt::writer::Padding::NONE)
        .unwrap();
    let fdt = Fdt::new(&blob).unwrap();
    // Topaz's single sc 1: trapped by BookE-HV only; the CPU is unknown.
    let r = check_fdt(&fdt);
    assert_eq!(
        r.right_hosts().collect::<Vec<_>>(),
        [Host::Kvm(HostProfile::BookeHv)]
    );
    assert!(!r.has(CheckId::NoRightHost));
    for h in Host::ALL {
        let r = check_fdt_for(&fdt, Some(h));
        assert_eq!(r.host, Some(h));
        assert_eq!(
            r.has(CheckId::WrongForHost),
            h != Host::Kvm(HostProfile::BookeHv),
            "{h}"
        );
    }
}

/// Issue 11.12: Topaz v1.3's fsl,hv-version.
#[test]
fn topaz_hv_version() {
    assert_eq!(
        HypervisorNode::preset(Flavour::Epapr).hv_version,
        Some([1, 3, 3, 2])
    );
    assert_eq!(
        run_ok(&[
            "get",
            "-t",
            "u",
            "dts/epapr.dtb",
            "/hypervisor",
            "fsl,hv-version"
        ]),
        "1 3 3 2\n"
    );
}
