//! The board `examples/vmm.rs` builds with its own `vm_fdt::FdtWriter`, with ppcpv's
//! `/hypervisor` node written into it: ppcpv's reader accepts it, `inspect` finds nothing
//! to say, and dtc decompiles it without a warning (needs dtc).

mod common;

#[path = "../examples/vmm.rs"]
#[allow(dead_code)]
mod vmm;

use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::pvinfo::{KvmPpcPvinfo, PvinfoOrder};
use ppcpv::fdt::Fdt;
use ppcpv::hcall::HostProfile;
use std::process::Command;

/// The boards under test: one per host profile (from its pvinfo answer, EV_IDLE on for
/// BookE-HV), plus the ePAPR preset.
fn boards() -> Vec<(String, HypervisorNode, Vec<u8>)> {
    let mut out = Vec::new();
    for host in HostProfile::ALL {
        let info =
            KvmPpcPvinfo::from_bytes(&vmm::pvinfo_answer(host), PvinfoOrder::default()).unwrap();
        let node = info.to_node().with_has_idle(host == HostProfile::BookeHv);
        let dtb = vmm::board_dtb(&node, 128 << 20).unwrap();
        out.push((host.name().to_owned(), node, dtb));
    }
    let topaz = HypervisorNode::preset(Flavour::Epapr);
    let dtb = vmm::board_dtb(&topaz, 128 << 20).unwrap();
    out.push(("topaz".to_owned(), topaz, dtb));
    out
}

#[test]
fn ppcpv_reads_the_vmm_board_back() {
    for (name, node, dtb) in boards() {
        let fdt = Fdt::new(&dtb).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            HypervisorNode::from_fdt(&fdt).unwrap().as_ref(),
            Some(&node),
            "{name}"
        );
        let r = check_fdt(&fdt);
        if node.is_kvm() {
            assert!(r.findings.is_empty(), "{name}: {:?}", r.findings);
            assert!(
                r.linux.detects_kvm() && r.linux.epapr_hypercalls(),
                "{name}"
            );
        } else {
            // Topaz: only the informational "no linux,kvm", as for any ePAPR tree.
            let ids: Vec<&str> = r.findings.iter().map(|f| f.id.id()).collect();
            assert_eq!(ids, ["no-linux-kvm"], "{name}");
        }
        assert_eq!(
            r.linux.magic_page(),
            name != "booke-hv" && node.is_kvm(),
            "{name}"
        );
    }
}

#[test]
fn inspect_finds_nothing_on_the_vmm_board() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, dtb) = boards().remove(0);
    let path = dir.path().join("board.dtb");
    std::fs::write(&path, &dtb).unwrap();
    let p = path.to_str().unwrap();
    let text = common::run_ok(&["inspect", "--check", p]);
    assert!(text.contains("findings:     none"), "{text}");
    assert!(text.contains("hypervisor:   /hypervisor (kvm)"), "{text}");
    let j: serde_json::Value =
        serde_json::from_str(&common::run_ok(&["inspect", "--json", p])).unwrap();
    assert_eq!(j["findings"], serde_json::json!([]));
    assert_eq!(j["hypervisor"]["sequence"], "kvm-pr");
    assert_eq!(j["hypervisor"]["linux"]["magic_page"], true);
}

#[test]
#[ignore = "needs dtc"]
fn dtc_decompiles_the_vmm_board_without_warnings() {
    if !common::interop("dtc_decompiles_the_vmm_board_without_warnings", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, _, dtb) in boards() {
        let path = dir.path().join(format!("{name}.dtb"));
        std::fs::write(&path, &dtb).unwrap();
        let out = Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        assert!(
            out.stderr.is_empty(),
            "{name}: dtc warned: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // ppcpv's printer agrees with dtc on the VMM's tree too.
        assert_eq!(
            common::run_ok(&["dump", path.to_str().unwrap()]),
            String::from_utf8_lossy(&out.stdout),
            "{name}"
        );
    }
}
