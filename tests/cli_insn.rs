//! `ppcpv insn asm|disasm|seq` end to end.

mod common;

use common::{ppcpv, run, run_ok};
use std::io::Write;
use std::process::Stdio;

fn with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = ppcpv()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ppcpv runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("ppcpv exits")
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run_ok(args)).expect("valid JSON")
}

#[test]
fn asm_kvm_pr_sequence() {
    let out = run_ok(&["insn", "asm", "lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop"]);
    assert_eq!(out, "0x3c004b56\n0x60004d21\n0x44000002\n0x60000000\n");
}

#[test]
fn asm_formats_and_json() {
    let cells = run_ok(&["insn", "asm", "--format", "cells", "sc 1", "nop; nop; nop"]);
    assert_eq!(cells, "<0x44000022 0x60000000 0x60000000 0x60000000>\n");
    let list = run_ok(&["insn", "asm", "--format", "list", "li r30,0x8000; mfmsr r3"]);
    assert_eq!(list, "0x3bc08000,0x7c6000a6\n");
    let v = json(&["insn", "asm", "--json", "sc 1"]);
    assert_eq!(v["words"], serde_json::json!(["0x44000022"]));
    assert_eq!(v["sequence"], "epapr");
    let v = json(&["insn", "asm", "--json", "mfspr r3,MAS7"]);
    assert_eq!(v["words"], serde_json::json!(["0x7c70eaa6"]));
    assert!(v["sequence"].is_null());
}

#[test]
fn asm_reads_stdin() {
    let out = with_stdin(
        &["insn", "asm", "-"],
        "# 64-bit rewrite of mfmsr r3\nld r3,-4008(0)\n",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0xe860f058\n");
}

#[test]
fn asm_errors_exit_2_and_name_the_statement() {
    let out = run(&["insn", "asm", "sc; li r3,70000"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("statement 2 `li r3,70000`: immediate '70000' is out of range"),
        "{err}"
    );
    let out = run(&["insn", "asm", "frob r3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown mnemonic 'frob'"));
    let out = run(&["insn", "asm", " ; "]);
    assert_eq!(out.status.code(), Some(2));
    // Bad text from stdin is a failed input, not a usage error.
    let out = with_stdin(&["insn", "asm", "-"], "sc 200\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn disasm_names_the_kvm_pr_sequence() {
    let out = run_ok(&[
        "insn",
        "disasm",
        "0x3c004b56",
        "0x60004d21",
        "0x44000002",
        "0x60000000",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "0x3c004b56  lis r0,0x4b56",
            "0x60004d21  ori r0,r0,0x4d21",
            "0x44000002  sc",
            "0x60000000  nop",
        ]
    );
    assert!(lines[4].starts_with("# sequence: kvm-pr: "), "{out}");
}

#[test]
fn disasm_reference_rewrites() {
    // A 64-bit Book3S and a 32-bit e500 guest's mfmsr, as arch/powerpc/kernel/kvm.c rewrites it.
    let out = run_ok(&[
        "insn",
        "disasm",
        "0x7c6000a6",
        "0xe860f058",
        "0x8060f05c",
        "0x7c70eaa6",
        "0x8060f0b0",
        "0x12345678",
    ]);
    assert_eq!(
        out,
        "0x7c6000a6  mfmsr r3\n0xe860f058  ld r3,-4008(0)\n0x8060f05c  lwz r3,-4004(0)\n\
         0x7c70eaa6  mfspr r3,MAS7\n0x8060f0b0  lwz r3,-3920(0)\n0x12345678  .long 0x12345678\n"
    );
}

#[test]
fn disasm_little_endian_qemu_fallback() {
    let out = run_ok(&[
        "insn",
        "disasm",
        "--endian",
        "little",
        "0x08000048,0x3860ffff,0x48000008,0xffff6038",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1..5],
        [
            "0x08000048  0x48000008  b .+8",
            "0x3860ffff  0xffff6038  .long 0xffff6038",
            "0x48000008  0x08000048  tdi 0,r0,72",
            "0xffff6038  0x3860ffff  li r3,-1",
        ]
    );
    assert!(lines[5].starts_with("# sequence: qemu-fallback: "), "{out}");
}

#[test]
fn disasm_stub_shows_both_byte_orders() {
    let v = json(&[
        "insn",
        "disasm",
        "--stub",
        "--json",
        "<0x08000048 0x3860ffff 0x48000008 0xffff6038>",
    ]);
    assert_eq!(v["endian"], "big");
    assert_eq!(v["sequence"], "qemu-fallback");
    assert_eq!(v["insns"][0]["word"], "0x08000048");
    assert_eq!(v["insns"][0]["text"], "tdi 0,r0,72");
    assert_eq!(v["insns"][3]["known"], false);
    let slots = |e: &str| -> Vec<u64> {
        v["stub"][e]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["slot"].as_u64().expect("slot"))
            .collect()
    };
    assert_eq!(slots("big"), [0, 1, 2, 4]);
    assert_eq!(slots("little"), [0, 2, 3, 4]);
    assert_eq!(v["stub"]["little"]["always_fails"], true);
    let text = run_ok(&["insn", "disasm", "--stub", "0x44000022"]);
    assert!(
        text.contains("#   0     sc 1                      .long 0x22000044"),
        "{text}"
    );
    let out = run(&["insn", "disasm", "--stub", "1", "2", "3", "4", "5"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn disasm_reads_stdin_and_rejects_bad_words() {
    let out = with_stdin(
        &["insn", "disasm", "-"],
        "0x44000022\n0x60000000 0x60000000,0x60000000\n",
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# sequence: booke-hv: "), "{text}");
    let out = run(&["insn", "disasm", "0x44000022", "0x100000000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("word 2 '0x100000000'"));
    let out = with_stdin(&["insn", "disasm", "-"], "sc\n");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn seq_lists_every_sequence() {
    let out = run_ok(&["insn", "seq"]);
    for name in [
        "kvm-pr",
        "booke-hv",
        "epapr",
        "qemu-fallback",
        "qemu-fallback-old",
    ] {
        assert!(out.contains(&format!("\n{name}: ")) || out.starts_with(&format!("{name}: ")));
    }
    let one = run_ok(&["insn", "seq", "qemu-fallback"]);
    assert!(one.contains("hcall-instructions = <0x08000048 0x3860ffff 0x48000008 0xffff6038>;"));
    assert!(
        one.contains("  3     -                         li r3,-1"),
        "{one}"
    );
    assert!(one.contains("little-endian guest: returns, r3 = -1 (every hypercall fails)"));
    let v = json(&["insn", "seq", "--json"]);
    let all = v.as_array().expect("array");
    assert_eq!(all.len(), 5);
    assert_eq!(all[0]["name"], "kvm-pr");
    assert_eq!(
        all[0]["text"],
        serde_json::json!(["lis r0,0x4b56", "ori r0,r0,0x4d21", "sc", "nop"])
    );
    assert_eq!(all[3]["always_fails"], true);
    assert_eq!(all[4]["little"]["always_fails"], false);
    let out = run(&["insn", "seq", "kvm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown sequence 'kvm'"));
}
