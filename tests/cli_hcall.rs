//! `ppcpv hcall`: runs the binary and checks outputs and exit codes against the
//! hypercall ABI of `arch/powerpc/include/uapi/asm/{kvm_para,epapr_hcalls}.h` and the
//! host's `kvmppc_kvm_pv` (`arch/powerpc/kvm/powerpc.c`).

mod common;

use common::{run, run_ok};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run_ok(args)).expect("valid JSON")
}

fn usage_error(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "ppcpv {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "no stdout on a usage error");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn token_builds_and_decodes() {
    // KVM_HCALL_TOKEN(KVM_HC_FEATURES) = 42 << 16 | 3 = 0x002A0003.
    assert_eq!(
        run_ok(&["hcall", "token", "--vendor", "kvm", "3"]),
        "0x002a0003\n"
    );
    assert_eq!(
        run_ok(&["hcall", "token", "--vendor", "42", "0x4"]),
        "0x002a0004\n"
    );
    assert_eq!(
        run_ok(&["hcall", "token", "--vendor", "epapr", "16"]),
        "0x00010010\n"
    );
    assert_eq!(run_ok(&["hcall", "token", "EV_IDLE"]), "0x00010010\n");
    assert_eq!(
        run_ok(&["hcall", "token", "--vendor", "fsl", "1"]),
        "0x00020001\n"
    );

    let out = run_ok(&["hcall", "token", "--decode", "0x002a0003"]);
    assert!(out.contains("vendor: 42 (KVM, EV_KVM_VENDOR_ID)"), "{out}");
    assert!(out.contains("name:   KVM_HC_FEATURES"), "{out}");
    let out = run_ok(&["hcall", "token", "--decode", "2752515"]); // decimal 0x2a0003
    assert!(out.contains("KVM_HC_FEATURES"), "{out}");

    let j = json(&["hcall", "token", "--decode", "0x00010010", "--json"]);
    assert_eq!(j["token"], "0x00010010");
    assert_eq!(j["vendor"], "epapr");
    assert_eq!(j["vendor_id"], 1);
    assert_eq!(j["number"], 16);
    assert_eq!(j["name"], "EV_IDLE");
}

#[test]
fn token_decode_follows_d9_and_topaz_on_request() {
    // KVM compares the whole token, so bit 31 makes it unknown; Topaz masks it.
    let j = json(&[
        "hcall",
        "token",
        "--decode",
        "0x80010010",
        "--topaz",
        "--json",
    ]);
    assert_eq!(j["name"], Value::Null);
    assert_eq!(j["topaz"]["vendor_id"], 1);
    assert_eq!(j["topaz"]["table"], "epapr");
    assert_eq!(j["topaz"]["name"], "EV_IDLE");
    let out = run_ok(&["hcall", "token", "--decode", "0x00000010", "--topaz"]);
    assert!(out.contains("name:   (not a known hypercall)"), "{out}");
    assert!(out.contains("epapr table: EV_IDLE"), "{out}");
}

#[test]
fn token_rejects_bad_input() {
    assert!(usage_error(&["hcall", "token", "--vendor", "kvm", "0x10000"]).contains("16 bits"));
    assert!(usage_error(&["hcall", "token", "--vendor", "acme", "3"]).contains("unknown vendor"));
    assert!(usage_error(&["hcall", "token", "NOT_A_CALL"]).contains("neither a number"));
    assert!(usage_error(&["hcall", "token", "--decode", "0x100000000"]).contains("32 bits"));
    assert!(usage_error(&["hcall", "token", "--decode", "xyz"]).contains("neither a number"));
    usage_error(&["hcall", "token"]);
}

#[test]
fn list_json_has_the_template_fields() {
    let j = json(&["hcall", "list", "--json"]);
    let rows = j.as_array().expect("array");
    assert_eq!(
        rows.len(),
        12 + 15 + 20,
        "KVM 1-12, ePAPR 1-16 minus 8, FH 1-20"
    );
    for r in rows {
        for k in [
            "name", "value", "vendor", "token", "arch", "status", "purpose",
        ] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
    }
    let find = |name: &str| rows.iter().find(|r| r["name"] == name).expect(name);
    let f = find("KVM_HC_FEATURES");
    assert_eq!(f["value"], 3);
    assert_eq!(f["token"], "0x002a0003");
    assert_eq!(f["arch"][0], "ppc");
    assert_eq!(f["status"], "active");
    assert_eq!(find("KVM_HC_MMU_OP")["status"], "deprecated");
    assert_eq!(find("KVM_HC_MAP_GPA_RANGE")["value"], 12);
    assert_eq!(find("EV_IDLE")["token"], "0x00010010");
    assert_eq!(find("FH_DMA_ATTR_GET")["value"], 20);
    assert!(rows.iter().all(|r| r["name"] != "EV_8"));
}

#[test]
fn list_filters_by_arch() {
    let ppc = json(&["hcall", "list", "--arch", "ppc", "--json"]);
    let ppc = ppc.as_array().expect("array");
    assert_eq!(ppc.len(), 2 + 15 + 20);
    assert!(
        ppc.iter()
            .all(|r| r["arch"].as_array().unwrap().contains(&"ppc".into()))
    );
    let mips = json(&["hcall", "list", "--arch", "mips", "--json"]);
    let names: Vec<&str> = mips
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "KVM_HC_MIPS_GET_CLOCK_FREQ",
            "KVM_HC_MIPS_EXIT_VM",
            "KVM_HC_MIPS_CONSOLE_OUTPUT"
        ]
    );
    let x86 = run_ok(&["hcall", "list", "--arch", "x86"]);
    assert!(x86.starts_with("NAME"));
    assert!(x86.contains("KVM_HC_KICK_CPU"));
    assert!(!x86.contains("KVM_HC_FEATURES"));
    usage_error(&["hcall", "list", "--arch", "arm"]);
}

#[test]
fn abi_shows_each_architecture() {
    let all = run_ok(&["hcall", "abi"]);
    for a in ["x86 (x86)", "s390 (s390)", "PowerPC (ppc)", "MIPS (mips)"] {
        assert!(all.contains(a), "{a} in {all}");
    }
    // The seed's vmrun/vmmrun are corrected to vmcall/vmmcall.
    let x86 = json(&["hcall", "abi", "--arch", "x86", "--json"]);
    assert_eq!(x86[0]["number"], "rax");
    assert_eq!(
        x86[0]["args"],
        serde_json::json!(["rbx", "rcx", "rdx", "rsi"])
    );
    assert!(x86[0]["instruction"].as_str().unwrap().contains("vmcall"));
    assert!(x86[0]["instruction"].as_str().unwrap().contains("vmmcall"));
    let mips = json(&["hcall", "abi", "--arch", "mips", "--json"]);
    assert_eq!(mips[0]["number"], "$2 (v0)");
    assert_eq!(mips[0]["return"], "$2 (v0)");
    let ppc = run_ok(&["hcall", "abi", "--arch", "ppc"]);
    assert!(
        ppc.contains("arguments:   r3, r4, r5, r6, r7, r8, r9, r10"),
        "{ppc}"
    );
    assert!(
        ppc.contains("outputs:     r4, r5, r6, r7, r8, r9, r10, r11"),
        "{ppc}"
    );
}

#[test]
fn codes_lists_ev_and_kvm() {
    let j = json(&["hcall", "codes", "--json"]);
    let rows = j.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["name"] == "EV_UNIMPLEMENTED" && r["value"] == 12)
    );
    assert!(
        rows.iter()
            .any(|r| r["name"] == "KVM_ENOSYS" && r["value"] == 1000)
    );
    assert!(run_ok(&["hcall", "codes"]).contains("EV_BUFFER_OVERFLOW"));
}

#[test]
fn features_names_bits() {
    let out = run_ok(&["hcall", "features", "0x2"]);
    assert!(out.contains("bit 1"), "{out}");
    assert!(out.contains("KVM_FEATURE_MAGIC_PAGE"), "{out}");
    let out = run_ok(&["hcall", "features", "--magic", "0x3"]);
    assert!(out.contains("KVM_MAGIC_FEAT_SR"), "{out}");
    assert!(out.contains("KVM_MAGIC_FEAT_MAS0_TO_SPRG7"), "{out}");
    assert!(
        !out.contains("MAS0_TO_SR1"),
        "that name exists in no header"
    );
    // Unknown bits are kept and listed.
    let j = json(&["hcall", "features", "--magic", "12", "--json"]);
    assert_eq!(j["unknown"], "0xc");
    assert_eq!(j["bits"][0]["mask"], "0x4");
    assert_eq!(j["bits"][0]["name"], Value::Null);
    let j = json(&["hcall", "features", "0x22", "--json"]);
    assert_eq!(j["bits"][0]["name"], "KVM_FEATURE_MAGIC_PAGE");
    assert_eq!(j["bits"][1]["bit"], 5);
    assert_eq!(j["unknown"], "0x20");
    // kvm_arch_para_features: a nonzero r3 means no features.
    let j = json(&["hcall", "features", "0x2", "--r3", "12", "--json"]);
    assert_eq!(j["value"], "0x0");
}

#[test]
fn features_of_a_host() {
    // kvmppc_kvm_pv's KVM_HC_FEATURES case per host build.
    let j = json(&["hcall", "features", "--host", "book3s-pr", "--json"]);
    assert_eq!(j["features"]["value"], "0x2");
    assert_eq!(j["map_magic_page"]["value"], "0x3");
    let j = json(&["hcall", "features", "--host", "booke-hv", "--json"]);
    assert_eq!(j["features"]["value"], "0x0");
    assert_eq!(j["map_magic_page"]["value"], "0x3");
    assert_eq!(j["magic_page_supported"], false);
    let out = run_ok(&["hcall", "features", "--host", "e500v2"]);
    assert!(out.contains("legacy"), "e500v2 is labelled legacy: {out}");
    assert!(out.contains("KVM_FEATURE_MAGIC_PAGE"), "{out}");
    usage_error(&["hcall", "features"]);
    usage_error(&["hcall", "features", "0x2", "--host", "book3s-pr"]);
    usage_error(&["hcall", "features", "0xzz"]);
}

fn call(args: &[&str]) -> Value {
    let mut full = vec!["hcall", "call"];
    full.extend_from_slice(args);
    full.push("--json");
    json(&full)
}

#[test]
fn call_features_per_host() {
    // kvmppc_kvm_pv: r3 = 0; r4 = 0x2 (Book3S PR, e500v2) or 0 (BookE HV).
    for (host, r4) in [("book3s-pr", "0x2"), ("e500v2", "0x2"), ("booke-hv", "0x0")] {
        let j = call(&["--host", host, "--reg", "r11=0x2a0003"]);
        assert_eq!(j["r3"], "0x0", "{host}");
        assert_eq!(j["r4"], r4, "{host}");
        assert_eq!(j["effect"]["kind"], "none");
    }
    let out = run_ok(&[
        "hcall",
        "call",
        "--host",
        "book3s-pr",
        "--reg",
        "r11=0x2a0003",
    ]);
    assert!(out.contains("r3 = 0x0  EV_SUCCESS"), "{out}");
    assert!(out.contains("r4 = 0x2  KVM_FEATURE_MAGIC_PAGE"), "{out}");
}

#[test]
fn call_map_magic_page() {
    // A 64-bit Linux guest's MAP call (arch/powerpc/kernel/kvm.c).
    let j = call(&[
        "--host",
        "book3s-pr",
        "--reg",
        "r11=0x2a0004",
        "--reg",
        "r3=0xfffffffffffff000",
        "--reg",
        "r4=0xfffffffffffff001",
    ]);
    assert_eq!(
        (j["r3"].as_str(), j["r4"].as_str()),
        (Some("0x0"), Some("0x3"))
    );
    assert_eq!(j["effect"]["kind"], "magic-page-mapped");
    assert_eq!(j["effect"]["pa"], "0xfffffffffffff000");
    assert_eq!(j["effect"]["ea"], "0xfffffffffffff000");
    assert_eq!(j["effect"]["nx_flag"], true);
    assert_eq!(j["effect"]["legacy_nx_guest"], false);

    // kvmppc_kvm_pv: 32-bit mode truncates, then the low 12 bits go.
    let j = call(&[
        "--host",
        "booke-hv",
        "--bits",
        "32",
        "--reg",
        "r11=2752516",
        "--reg",
        "r3=0x123456789abcdef0",
        "--reg",
        "r4=0xfffff000",
    ]);
    assert_eq!(
        j["r4"], "0x3",
        "MAP answers 0x3 even on BookE HV (no support check)"
    );
    assert_eq!(j["effect"]["pa"], "0x9abcd000");
    assert_eq!(j["effect"]["ea"], "0xfffff000");
    assert_eq!(j["effect"]["legacy_nx_guest"], true);
    assert_eq!(j["bits"], 32);

    let out = run_ok(&[
        "hcall",
        "call",
        "--host",
        "e500v2",
        "--bits",
        "32",
        "--reg",
        "r11=0x2a0004",
        "--reg",
        "r3=0xfffff000",
        "--reg",
        "r4=0xfffff000",
    ]);
    assert!(out.contains("legacy guest"), "{out}");
}

/// Issue 11.10: `kvmppc_kvm_pv` truncates unless MSR[SF]; a BookE MSR never has SF, so
/// e500v2 and BookE-HV hosts read 32-bit MAP_MAGIC_PAGE parameters even from a 64-bit
/// guest. Book3S PR keeps all 64 bits.
#[test]
fn booke_hosts_truncate_map_params_of_64_bit_guests() {
    for (host, pa, ea, param_bits) in [
        ("booke-hv", "0x56789000", "0xfffff000", 32),
        ("e500v2", "0x56789000", "0xfffff000", 32),
        ("book3s-pr", "0x123456789000", "0xfffffffffffff000", 64),
    ] {
        let j = call(&[
            "--host",
            host,
            "--bits",
            "64",
            "--reg",
            "r11=0x2a0004",
            "--reg",
            "r3=0x123456789abc",
            "--reg",
            "r4=0xfffffffffffff001",
        ]);
        assert_eq!(j["effect"]["pa"], pa, "{host}");
        assert_eq!(j["effect"]["ea"], ea, "{host}");
        assert_eq!(j["effect"]["nx_flag"], true, "{host}");
        assert_eq!(j["bits"], 64, "{host}");
        assert_eq!(j["param_bits"], param_bits, "{host}");
    }
    let text = run_ok(&[
        "hcall",
        "call",
        "--host",
        "booke-hv",
        "--bits",
        "64",
        "--reg",
        "r11=0x2a0004",
        "--reg",
        "r3=0x123456789abc",
    ]);
    assert!(text.contains("reads 32-bit parameters"), "{text}");
    assert!(text.contains("pa 0x56789000"), "{text}");
}

#[test]
fn call_idle_and_unimplemented() {
    let j = call(&["--host", "booke-hv", "--reg", "r11=0x00010010"]);
    assert_eq!(
        (j["r3"].as_str(), j["r4"].as_str()),
        (Some("0x0"), Some("0x0"))
    );
    assert_eq!(j["effect"]["kind"], "idle");
    // Bit 31 set or vendor 0 is not EV_IDLE for KVM (whole-token compare).
    for t in ["r11=0x80010010", "r11=0x10", "r11=0x2a0001", "r11=0"] {
        let j = call(&["--host", "book3s-pr", "--reg", t, "--reg", "r4=7"]);
        assert_eq!(j["r3"], "0xc", "{t}");
        assert_eq!(j["r3_name"], "EV_UNIMPLEMENTED");
        assert_eq!(j["r4"], "0x0", "{t}");
    }
}

#[test]
fn call_rejects_bad_input() {
    assert!(usage_error(&["hcall", "call", "--host", "book3s-pr"]).contains("r11"));
    assert!(
        usage_error(&["hcall", "call", "--host", "book3s-pr", "--reg", "r12=1"])
            .contains("r3 to r11")
    );
    assert!(
        usage_error(&[
            "hcall",
            "call",
            "--host",
            "book3s-pr",
            "--reg",
            "r11=1",
            "--reg",
            "r11=2"
        ])
        .contains("twice")
    );
    usage_error(&["hcall", "call", "--host", "power9", "--reg", "r11=1"]);
    usage_error(&["hcall", "call", "--host", "book3s-pr", "--reg", "r11"]);
    usage_error(&["hcall", "call", "--host", "book3s-pr", "--reg", "r11=0xzz"]);
    usage_error(&[
        "hcall",
        "call",
        "--host",
        "book3s-pr",
        "--reg",
        "r11=1",
        "--bits",
        "16",
    ]);
    usage_error(&["hcall", "call", "--reg", "r11=1"]);
}

#[test]
fn call_with_msr_models_the_magic_r0_test() {
    let call = |extra: &[&str]| {
        let mut args = vec!["hcall", "call", "--json"];
        args.extend_from_slice(extra);
        json(&args)
    };
    // r0 defaults to KVM_SC_MAGIC_R0, so a supervisor-mode sc on a PR host is a hypercall.
    let j = call(&[
        "--host",
        "book3s-pr",
        "--msr",
        "0x8000000000000000",
        "--reg",
        "r11=0x2a0003",
    ]);
    assert_eq!(j["sc"], "hypercall");
    assert_eq!(j["msr"], "0x8000000000000000");
    assert_eq!(
        (j["r3"].as_str(), j["r4"].as_str()),
        (Some("0x0"), Some("0x2"))
    );
    // Without the magic r0 it is the guest's own system call (book3s_pr.c, booke.c).
    for host in ["book3s-pr", "e500v2"] {
        let j = call(&[
            "--host",
            host,
            "--msr",
            "0",
            "--reg",
            "r0=0",
            "--reg",
            "r11=0x2a0003",
        ]);
        assert_eq!(j["sc"], "guest-syscall", "{host}");
        assert_eq!(j["reason"], "no-magic-r0", "{host}");
        assert!(j.get("r3").is_none(), "no answer is written");
        let j = call(&["--host", host, "--msr", "0x4000", "--reg", "r11=0x2a0003"]);
        assert_eq!(j["reason"], "user-mode", "{host}");
    }
    // BookE HV ignores r0 but turns a user-mode sc 1 into a program interrupt.
    let j = call(&[
        "--host",
        "booke-hv",
        "--msr",
        "0",
        "--reg",
        "r0=0",
        "--reg",
        "r11=0x10010",
    ]);
    assert_eq!(j["sc"], "hypercall");
    assert_eq!(j["effect"]["kind"], "idle");
    let j = call(&[
        "--host",
        "booke-hv",
        "--msr",
        "0x4000",
        "--reg",
        "r11=0x10010",
    ]);
    assert_eq!(j["sc"], "privileged-instruction");
    // MSR[SF] clear on Book3S: the MAP parameters are truncated to 32 bits.
    let j = call(&[
        "--host",
        "book3s-pr",
        "--msr",
        "0",
        "--reg",
        "r11=0x2a0004",
        "--reg",
        "r3=0x123456789abcd000",
        "--reg",
        "r4=0xfffffffffffff001",
    ]);
    assert_eq!(j["bits"], 32);
    assert_eq!(j["effect"]["pa"], "0x9abcd000");
    // Without --msr, the JSON has no msr/sc fields (unchanged output) and r0 is refused.
    let j = call(&["--host", "book3s-pr", "--reg", "r11=0x2a0003"]);
    assert!(j.get("msr").is_none() && j.get("sc").is_none());
    assert!(
        usage_error(&[
            "hcall",
            "call",
            "--host",
            "book3s-pr",
            "--reg",
            "r0=1",
            "--reg",
            "r11=3"
        ])
        .contains("--msr")
    );
    usage_error(&[
        "hcall",
        "call",
        "--host",
        "book3s-pr",
        "--bits",
        "32",
        "--msr",
        "0",
        "--reg",
        "r11=3",
    ]);
}

#[test]
fn show_gives_one_hypercall_whole_by_name_or_token() {
    // Any case; the registers from Linux's wrapper; what KVM answers.
    let t = run_ok(&["hcall", "show", "ev_int_get_config"]);
    assert!(t.starts_with("name:     EV_INT_GET_CONFIG\n"), "{t}");
    assert!(t.contains("token:    0x00010005"), "{t}");
    assert!(t.contains("args:     r3  interrupt number"), "{t}");
    assert!(t.contains("returns:  r3  status"), "{t}");
    assert!(t.contains("r6  destination CPU"), "{t}");
    assert!(
        t.contains("kvm:      not implemented: r3 = 12 (EV_UNIMPLEMENTED)"),
        "{t}"
    );
    assert!(t.contains("(ev_int_get_config)"), "{t}");
    let idle = run_ok(&["hcall", "show", "EV_IDLE"]);
    assert!(idle.contains("kvm:      implemented"), "{idle}");
    // MAP_MAGIC_PAGE: the PA in r3, as kvmppc_kvm_pv reads it.
    let j = json(&["hcall", "show", "0x002a0004", "--json"]);
    assert_eq!(j["name"], "KVM_HC_PPC_MAP_MAGIC_PAGE");
    assert_eq!(j["registers"]["inputs"][0]["reg"], "r3");
    assert!(
        j["registers"]["inputs"][0]["meaning"]
            .as_str()
            .unwrap()
            .contains("physical address")
    );
    assert_eq!(j["registers"]["outputs"][1]["reg"], "r4");
    // x86 calls name their registers; calls no source describes say so.
    let x86 = run_ok(&["hcall", "show", "kvm_hc_kick_cpu"]);
    assert!(
        x86.contains("a1 (rcx)  APIC ID of the vCPU to wake"),
        "{x86}"
    );
    assert!(!x86.contains("kvm:"), "{x86}");
    let none = run_ok(&["hcall", "show", "EV_MSGSND"]);
    assert!(none.contains("args:     not described"), "{none}");
    assert!(usage_error(&["hcall", "show", "EV_NOPE"]).contains("not a known hypercall"));
}

#[test]
fn names_work_wherever_a_hypercall_number_does() {
    let by_name = run_ok(&[
        "hcall",
        "call",
        "--host",
        "book3s-pr",
        "--reg",
        "r11=kvm_hc_features",
    ]);
    let by_number = run_ok(&[
        "hcall",
        "call",
        "--host",
        "book3s-pr",
        "--reg",
        "r11=0x2a0003",
    ]);
    assert_eq!(by_name, by_number);
    assert_eq!(
        run_ok(&["hcall", "token", "--decode", "Ev_Idle"]),
        run_ok(&["hcall", "token", "--decode", "0x00010010"])
    );
    // Only r11 holds a token; other registers take numbers.
    assert!(
        usage_error(&[
            "hcall",
            "call",
            "--host",
            "book3s-pr",
            "--reg",
            "r11=0x2a0003",
            "--reg",
            "r3=EV_IDLE"
        ])
        .contains("not a number")
    );
    // A number too wide for a token is still refused as one.
    assert!(usage_error(&["hcall", "token", "--decode", "0x100000000"]).contains("32 bits"));
}
