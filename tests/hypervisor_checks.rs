//! Every `/hypervisor` check, triggered by a real blob written with `FdtBuilder` and read
//! back with `Fdt`, plus the verdicts on the shared corpus's hypervisor trees.

mod common;

use ppcpv::dt::checks::{CheckId, HypervisorReport, Severity, check_fdt, check_fdt_for};
use ppcpv::dt::host::Host;
use ppcpv::fdt::Fdt;
use ppcpv::fdt::lint::DtcCheck;
use ppcpv::fdt::writer::{FdtBuilder, Padding};

type Props<'a> = &'a [(&'a str, &'a [u8])];

/// A blob with the root, then `nodes` (name, properties) as children of the root.
fn blob(nodes: &[(&str, Props<'_>)]) -> Vec<u8> {
    let mut w = FdtBuilder::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    for (name, props) in nodes {
        let n = w.begin_node(name).unwrap();
        for (p, v) in *props {
            w.property(p, v).unwrap();
        }
        w.end_node(n).unwrap();
    }
    w.end_node(root).unwrap();
    w.finish(&Padding::NONE).unwrap()
}

/// The same tree written token by token with no checks at all, for the trees dtc
/// refuses (which `FdtBuilder` refuses to write): v17, no reservations.
fn raw_blob(nodes: &[(&str, Props<'_>)]) -> Vec<u8> {
    fn be(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_be_bytes());
    }
    fn name(v: &mut Vec<u8>, n: &str) {
        v.extend_from_slice(n.as_bytes());
        v.push(0);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
    }
    let mut strings: Vec<u8> = Vec::new();
    let mut st: Vec<u8> = Vec::new();
    let mut prop = |st: &mut Vec<u8>, n: &str, val: &[u8]| {
        let off = strings.len() as u32;
        strings.extend_from_slice(n.as_bytes());
        strings.push(0);
        be(st, 3);
        be(st, val.len() as u32);
        be(st, off);
        st.extend_from_slice(val);
        while !st.len().is_multiple_of(4) {
            st.push(0);
        }
    };
    be(&mut st, 1);
    name(&mut st, "");
    prop(&mut st, "#address-cells", &[0, 0, 0, 2]);
    prop(&mut st, "#size-cells", &[0, 0, 0, 2]);
    for (n, props) in nodes {
        be(&mut st, 1);
        name(&mut st, n);
        for (p, v) in *props {
            prop(&mut st, p, v);
        }
        be(&mut st, 2);
    }
    be(&mut st, 2);
    be(&mut st, 9);
    let rsv = 40u32;
    let off_struct = rsv + 16;
    let off_strings = off_struct + st.len() as u32;
    let total = off_strings + strings.len() as u32;
    let mut b = Vec::new();
    for x in [
        0xd00d_feedu32,
        total,
        off_struct,
        off_strings,
        rsv,
        17,
        16,
        0,
        strings.len() as u32,
        st.len() as u32,
    ] {
        be(&mut b, x);
    }
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&st);
    b.extend_from_slice(&strings);
    b
}

fn report(nodes: &[(&str, Props<'_>)]) -> HypervisorReport {
    let b = blob(nodes);
    check_fdt(&Fdt::new(&b).unwrap())
}

const KVM: &[u8] = b"linux,kvm\0";
const KVM_PR: &[u8] = &[
    0x3c, 0x00, 0x4b, 0x56, 0x60, 0x00, 0x4d, 0x21, 0x44, 0x00, 0x00, 0x02, 0x60, 0x00, 0x00, 0x00,
];
const FALLBACK: &[u8] = &[
    0x08, 0x00, 0x00, 0x48, 0x38, 0x60, 0xff, 0xff, 0x48, 0x00, 0x00, 0x08, 0xff, 0xff, 0x60, 0x38,
];

/// One tree per check id; each must raise that id.
fn triggers() -> Vec<(CheckId, Vec<u8>)> {
    vec![
        (CheckId::NoHypervisorNode, blob(&[("cpus", &[])])),
        (
            CheckId::NoHcallInstructions,
            blob(&[("hypervisor", &[("compatible", KVM)])]),
        ),
        (
            CheckId::HcallBadLength,
            blob(&[(
                "hypervisor",
                &[
                    ("compatible", KVM),
                    ("hcall-instructions", &[0x44, 0, 0, 0x22, 0, 0]),
                ],
            )]),
        ),
        (
            CheckId::HcallEmpty,
            blob(&[(
                "hypervisor",
                &[("compatible", KVM), ("hcall-instructions", &[])],
            )]),
        ),
        (
            CheckId::NoLinuxKvm,
            blob(&[(
                "hypervisor",
                &[
                    ("compatible", b"vendor,hv\0"),
                    ("hcall-instructions", KVM_PR),
                ],
            )]),
        ),
        (
            CheckId::HcallElsewhere,
            blob(&[
                ("soc", &[("hcall-instructions", &[0x44, 0, 0, 0x22])]),
                (
                    "hypervisor",
                    &[("compatible", KVM), ("hcall-instructions", KVM_PR)],
                ),
            ]),
        ),
        (
            CheckId::LegacyPropertyName,
            blob(&[(
                "hypervisor",
                &[("compatible", KVM), ("hypercall-instructions", KVM_PR)],
            )]),
        ),
        (
            CheckId::HasIdleValue,
            blob(&[(
                "hypervisor",
                &[
                    ("compatible", KVM),
                    ("hcall-instructions", KVM_PR),
                    ("has-idle", &[0, 0, 0, 1]),
                ],
            )]),
        ),
        (
            CheckId::HasIdleIgnored,
            blob(&[("hypervisor", &[("compatible", KVM), ("has-idle", &[])])]),
        ),
        (
            CheckId::UnknownSequence,
            blob(&[(
                "hypervisor",
                &[
                    ("compatible", KVM),
                    ("hcall-instructions", &[0x44, 0, 0, 0x02]),
                ],
            )]),
        ),
        (
            CheckId::AlwaysFailSequence,
            blob(&[(
                "hypervisor",
                &[("compatible", KVM), ("hcall-instructions", FALLBACK)],
            )]),
        ),
        (
            CheckId::BadCompatible,
            blob(&[(
                "hypervisor",
                &[("compatible", b"linux,kvm"), ("hcall-instructions", KVM_PR)],
            )]),
        ),
        (
            CheckId::BadPropertyValue,
            blob(&[(
                "hypervisor",
                &[
                    (
                        "compatible",
                        b"fsl,embedded-hypervisor-v1.3\0epapr,hypervisor-1\0",
                    ),
                    ("hcall-instructions", &[0x44, 0, 0, 0x22]),
                    ("fsl,hv-version", &[0, 0, 0, 1]),
                ],
            )]),
        ),
        (
            CheckId::DuplicateHypervisor,
            raw_blob(&[
                (
                    "hypervisor",
                    &[("compatible", KVM), ("hcall-instructions", KVM_PR)],
                ),
                ("hypervisor", &[("compatible", KVM)]),
            ]),
        ),
        // Judged with --host tcg (every_check_has_a_triggering_tree).
        (
            CheckId::WrongForHost,
            blob(&[(
                "hypervisor",
                &[("compatible", KVM), ("hcall-instructions", KVM_PR)],
            )]),
        ),
        // A bare sc: r0 is not "KVM!" and LEV is 0, so no host takes it as a hypercall.
        (
            CheckId::NoRightHost,
            blob(&[(
                "hypervisor",
                &[
                    ("compatible", KVM),
                    ("hcall-instructions", &[0x44, 0, 0, 2]),
                ],
            )]),
        ),
        (
            CheckId::Dtc(DtcCheck::DuplicateNodeNames),
            raw_blob(&[("soc", &[]), ("soc", &[])]),
        ),
        (
            CheckId::Dtc(DtcCheck::DuplicatePropertyNames),
            raw_blob(&[("soc", &[("compatible", KVM), ("compatible", KVM)])]),
        ),
        (
            CheckId::Dtc(DtcCheck::NodeNameChars),
            raw_blob(&[("so$c", &[])]),
        ),
        (
            CheckId::Dtc(DtcCheck::NodeNameFormat),
            raw_blob(&[("soc@1@2", &[])]),
        ),
        (
            CheckId::Dtc(DtcCheck::PropertyNameChars),
            raw_blob(&[("soc", &[("bad$name", &[])])]),
        ),
        (
            CheckId::Dtc(DtcCheck::NameIsString),
            raw_blob(&[("soc", &[("name", &[1, 2])])]),
        ),
        (
            CheckId::Dtc(DtcCheck::NameProperties),
            raw_blob(&[("soc", &[("name", b"bus\0")])]),
        ),
        (
            CheckId::Dtc(DtcCheck::ExplicitPhandles),
            raw_blob(&[("soc", &[("phandle", &[0, 0, 0, 0])])]),
        ),
    ]
}

#[test]
fn every_check_has_a_triggering_tree() {
    let cases = triggers();
    for &id in CheckId::ALL {
        let (_, b) = cases
            .iter()
            .find(|(c, _)| *c == id)
            .unwrap_or_else(|| panic!("no tree triggers {id}"));
        let fdt = Fdt::new(b).unwrap();
        let r = if id == CheckId::WrongForHost {
            check_fdt_for(&fdt, Some(Host::Tcg))
        } else {
            check_fdt(&fdt)
        };
        assert!(r.has(id), "{id} not raised: {:?}", r.findings);
        for f in &r.findings {
            assert!(!f.message.is_empty());
        }
    }
}

#[test]
fn verdicts_say_what_linux_does() {
    // Bad length: KVM detected, paravirt off.
    let r = report(&[(
        "hypervisor",
        &[("compatible", KVM), ("hcall-instructions", &[0u8; 20])],
    )]);
    assert_eq!(r.worst(), Some(Severity::Error));
    assert!(r.linux.detects_kvm() && !r.linux.epapr_hypercalls() && !r.linux.magic_page());
    // QEMU's fallback: paravirt on, but no magic page.
    let r = report(&[(
        "hypervisor",
        &[("compatible", KVM), ("hcall-instructions", FALLBACK)],
    )]);
    assert_eq!(r.sequence.map(|s| s.name()), Some("qemu-fallback"));
    assert!(r.linux.epapr_hypercalls() && !r.linux.magic_page());
    assert!(r.linux.magic.to_string().contains("-1"));
}

/// (corpus blob, sequence, findings that must be there, detects_kvm, epapr_hypercalls, magic_page)
type CorpusCase = (
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    bool,
    bool,
    bool,
);

const CORPUS: &[CorpusCase] = &[
    (
        "synthetic-hv-both-names-on-qemu-sam460ex",
        Some("booke-hv"),
        &["legacy-property-name"],
        true,
        true,
        false,
    ),
    (
        "synthetic-hv-empty-hcall-on-qemu-powernv8",
        None,
        &["hcall-empty"],
        true,
        true,
        false,
    ),
    (
        "synthetic-hv-hypercall-instructions-name-on-qemu-bamboo",
        Some("kvm-pr"),
        &["legacy-property-name"],
        true,
        false,
        false,
    ),
    (
        "synthetic-hv-invalid-5cells-on-qemu-pseries-numa",
        None,
        &["hcall-bad-length"],
        true,
        false,
        false,
    ),
    (
        "synthetic-hv-invalid-6bytes-on-qemu-powernv9",
        None,
        &["hcall-bad-length"],
        true,
        false,
        false,
    ),
    (
        "synthetic-hv-kvm-bookehv-on-qemu-ppce500",
        Some("booke-hv"),
        &[],
        true,
        true,
        false,
    ),
    (
        "synthetic-hv-kvm-fallback-on-qemu-mpc8544ds",
        Some("qemu-fallback"),
        &["always-fail-sequence"],
        true,
        true,
        false,
    ),
    (
        "synthetic-hv-kvm-pr-on-qemu-ppce500-smp4",
        Some("kvm-pr"),
        &[],
        true,
        true,
        true,
    ),
    (
        "synthetic-hv-kvm-pseries-compatible-only",
        None,
        &["no-hcall-instructions"],
        true,
        false,
        false,
    ),
    (
        "synthetic-hv-kvm-pseries",
        Some("kvm-pr"),
        &[],
        true,
        true,
        true,
    ),
    (
        "synthetic-hv-not-at-root-on-linux-microwatt",
        None,
        &["no-hypervisor-node", "hcall-elsewhere"],
        false,
        true,
        false,
    ),
    (
        "synthetic-hv-topaz-on-linux-p4080ds",
        Some("epapr"),
        &["no-linux-kvm"],
        false,
        true,
        false,
    ),
    (
        "qemu-ppce500",
        None,
        &["no-hypervisor-node"],
        false,
        false,
        false,
    ),
];

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn corpus_hypervisor_trees() {
    let Some(dir) = common::corpus("corpus_hypervisor_trees") else {
        return;
    };
    for &(name, seq, ids, kvm, epapr, magic) in CORPUS {
        let blob = std::fs::read(dir.join("dtb").join(format!("{name}.dtb"))).unwrap();
        let fdt = Fdt::new(&blob).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = check_fdt(&fdt);
        assert_eq!(r.sequence.map(|s| s.name()), seq, "{name}");
        for id in ids {
            assert!(
                r.findings.iter().any(|f| f.id.id() == *id),
                "{name}: no {id}: {:?}",
                r.findings
            );
        }
        assert_eq!(
            (
                r.linux.detects_kvm(),
                r.linux.epapr_hypercalls(),
                r.linux.magic_page()
            ),
            (kvm, epapr, magic),
            "{name}: {:?}",
            r.linux
        );
    }
}

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn whole_corpus_never_panics() {
    let Some(dir) = common::corpus("whole_corpus_never_panics") else {
        return;
    };
    let mut checked = 0;
    for e in std::fs::read_dir(dir.join("dtb")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "dtb") {
            let blob = std::fs::read(&p).unwrap();
            if let Ok(fdt) = Fdt::new(&blob) {
                let r = check_fdt(&fdt);
                serde_json::to_string(&r).unwrap();
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} blobs parsed");
}

/// Seeded mutations of the goldens: whatever `Fdt::new` accepts, the checks and the node
/// reader handle without panicking (a reader of untrusted blobs must never panic).
#[test]
fn mutated_goldens_never_panic() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut accepted = 0;
    for name in ["kvm.dtb", "epapr.dtb"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("dts")
            .join(name);
        let golden = std::fs::read(path).unwrap();
        for _ in 0..10_000 {
            let mut b = golden.clone();
            for _ in 0..=(next() % 3) {
                let i = (next() % b.len() as u64) as usize;
                match next() % 3 {
                    0 => b[i] = next() as u8,
                    1 => b[i] ^= 1 << (next() % 8),
                    _ => b[i] = 0,
                }
            }
            if let Ok(fdt) = Fdt::new(&b) {
                accepted += 1;
                let r = check_fdt(&fdt);
                serde_json::to_string(&r).unwrap();
                let _ = ppcpv::dt::hypervisor::HypervisorNode::from_fdt(&fdt);
            }
        }
    }
    assert!(accepted > 100, "only {accepted} mutants parsed");
}
