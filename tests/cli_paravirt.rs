//! `ppcpv paravirt`: check, table, scan and apply, end to end.

mod common;

use common::{run, run_ok};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn be(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run_ok(args)).expect("valid JSON")
}

/// A minimal 32-bit big-endian PowerPC ELF executable: one `.text` section at
/// 0xc0000000 holding `code`, and a symbol table with `syms` (name, value).
fn elf32(code: &[u8], syms: &[(&str, u32)]) -> Vec<u8> {
    let text_addr = 0xc000_0000u32;
    let mut shstr = b"\0.text\0.symtab\0.strtab\0.shstrtab\0".to_vec();
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 16]; // the null symbol
    for (name, value) in syms {
        let off = strtab.len() as u32;
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        symtab.extend(off.to_be_bytes());
        symtab.extend(value.to_be_bytes());
        symtab.extend(0u32.to_be_bytes());
        symtab.push(0x10); // STB_GLOBAL, STT_NOTYPE
        symtab.push(0);
        symtab.extend(1u16.to_be_bytes()); // in .text
    }
    let mut out = vec![0u8; 52];
    let place = |out: &mut Vec<u8>, data: &[u8]| {
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        let off = out.len() as u32;
        out.extend_from_slice(data);
        off
    };
    let text_off = place(&mut out, code);
    let sym_off = place(&mut out, &symtab);
    let str_off = place(&mut out, &strtab);
    shstr.push(0);
    let shstr_off = place(&mut out, &shstr);
    let shoff = place(&mut out, &[]);
    let mut sh = |name: u32,
                  ty: u32,
                  flags: u32,
                  addr: u32,
                  off: u32,
                  size: usize,
                  link: u32,
                  info: u32,
                  entsize: u32| {
        for v in [
            name,
            ty,
            flags,
            addr,
            off,
            size as u32,
            link,
            info,
            4,
            entsize,
        ] {
            out.extend(v.to_be_bytes());
        }
    };
    sh(0, 0, 0, 0, 0, 0, 0, 0, 0);
    sh(1, 1, 6, text_addr, text_off, code.len(), 0, 0, 0); // .text: ALLOC|EXECINSTR
    sh(7, 2, 0, 0, sym_off, symtab.len(), 3, 1, 16); // .symtab
    sh(15, 3, 0, 0, str_off, strtab.len(), 0, 0, 0); // .strtab
    sh(23, 3, 0, 0, shstr_off, shstr.len(), 0, 0, 0); // .shstrtab
    let mut hdr = vec![0x7f, b'E', b'L', b'F', 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    hdr.extend(2u16.to_be_bytes()); // ET_EXEC
    hdr.extend(20u16.to_be_bytes()); // EM_PPC
    hdr.extend(1u32.to_be_bytes());
    hdr.extend(text_addr.to_be_bytes()); // entry
    hdr.extend(0u32.to_be_bytes()); // phoff
    hdr.extend(shoff.to_be_bytes());
    hdr.extend(0u32.to_be_bytes()); // flags
    for v in [52u16, 32, 0, 40, 5, 4] {
        hdr.extend(v.to_be_bytes());
    }
    out[..52].copy_from_slice(&hdr);
    out
}

#[test]
fn check_worked_examples() {
    let out = run_ok(&["paravirt", "check", "0x7c6000a6"]);
    assert!(out.contains("0xe860f058  ld r3,-4008(0)  # msr"), "{out}");
    let out = run_ok(&[
        "paravirt",
        "check",
        "mfmsr r3",
        "mfspr r3,MAS7",
        "--bits",
        "32",
        "--booke",
    ]);
    assert!(
        out.contains("0x8060f05c  lwz r3,-4004(0)  # msr+4"),
        "{out}"
    );
    assert!(
        out.contains("0x8060f0b0  lwz r3,-3920(0)  # mas7_3"),
        "{out}"
    );
    let j = json(&[
        "paravirt",
        "check",
        "mfspr r3,MAS7",
        "--bits",
        "32",
        "--booke",
        "--features",
        "1",
        "--json",
    ]);
    assert_eq!(j[0]["outcome"], "skipped");
    assert_eq!(j[0]["reason_code"], "needs-feat-mas0-to-sprg7");
    let j = json(&[
        "paravirt",
        "check",
        "0x7c0802a6",
        "tlbsync",
        "wrteei 1",
        "--booke",
        "--json",
    ]);
    assert_eq!(j[0]["outcome"], "not-a-candidate");
    assert_eq!(j[1]["rewrite"], "0x60000000");
    assert_eq!(j[2]["template"], "kvm_emulate_wrtee");
}

#[test]
fn check_rejects_bad_words_and_configs() {
    let out = run(&["paravirt", "check", "frobnicate r3"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["paravirt", "check", "0x1", "--no-book3e-mmu"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--no-book3e-mmu requires --booke"
    );
}

#[test]
fn table_lists_every_pattern() {
    let j = json(&["paravirt", "table", "--json"]);
    let rows = j.as_array().unwrap();
    assert_eq!(rows.len(), ppcpv::paravirt::PATTERNS.len());
    let mtsrin = rows.iter().find(|r| r["kind"] == "mtsrin").unwrap();
    assert_eq!(mtsrin["outcome"], "skipped");
    let j = json(&[
        "paravirt",
        "table",
        "--json",
        "--bits",
        "32",
        "--features",
        "1",
    ]);
    let mtsrin = j
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "mtsrin")
        .unwrap();
    assert_eq!(mtsrin["outcome"], "template");
}

#[test]
fn scan_raw_blob_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = be(&[
        0x7c60_00a6, // mfmsr r3
        0x3860_ffff, // li r3,-1
        0x7ca1_0164, // mtmsrd r5,1
        0x7c70_eaa6, // mfspr r3,MAS7 (Book3S: not patched)
        0x7c00_046c, // tlbsync
    ]);
    bytes.extend([0xde, 0xad]);
    let f = write(dir.path(), "code.bin", &bytes);
    let f = f.to_str().unwrap();
    let out = run_ok(&["paravirt", "scan", f]);
    assert!(
        out.contains("0x0          -                    7c6000a6   mfmsr r3"),
        "{out}"
    );
    assert!(
        out.contains("template branch: b kvm_emulate_mtmsrd"),
        "{out}"
    );
    assert!(
        out.contains("not patched: needs CONFIG_PPC_BOOK3E_MMU"),
        "{out}"
    );
    assert!(out.contains("trailing bytes: 2"), "{out}");
    assert!(
        out.contains("ends with 2 byte(s) that do not form a word (at offset 0x14)"),
        "{out}"
    );
    assert!(
        out.contains(
            "candidates: 4; Linux patches 3 (2 in place, 1 via template branches); 1 left alone"
        ),
        "{out}"
    );

    let j = json(&["paravirt", "scan", f, "--json"]);
    assert_eq!(j["header"]["format"], "raw");
    assert_eq!(j["sites"].as_array().unwrap().len(), 4);
    assert_eq!(j["sites"][1]["offset"], "0x8");
    assert_eq!(j["summary"]["words"], 5);
    assert_eq!(j["summary"]["trailing_bytes"], 2);
    assert_eq!(j["summary"]["template"], 1);

    let j = json(&["paravirt", "scan", f, "--json", "--max-sites", "1"]);
    assert_eq!(j["sites"].as_array().unwrap().len(), 1);
    assert_eq!(j["summary"]["sites_omitted"], 3);
    assert_eq!(j["summary"]["candidates"], 4);

    // A window: only the words at 0x8..0x10.
    let j = json(&[
        "paravirt", "scan", f, "--json", "--offset", "8", "--length", "8",
    ]);
    assert_eq!(j["summary"]["words"], 2);
    assert_eq!(j["sites"][0]["kind"], "mtmsrd L=1");

    // BookE 32-bit: MAS7 is patched now.
    let j = json(&["paravirt", "scan", f, "--json", "--bits", "32", "--booke"]);
    assert_eq!(j["sites"][2]["rewrite"], "0x8060f0b0");
    assert_eq!(j["sites"][0]["rewrite"], "0x8060f05c");
}

#[test]
fn scan_little_endian_and_stdin() {
    let words: Vec<u8> = [0x7c60_00a6u32, 0x7c00_046c]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let mut child = common::ppcpv()
        .args(["paravirt", "scan", "-", "--endian", "little", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&words).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["summary"]["direct"], 2);
}

#[test]
fn scan_any_file_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    // Empty, one to three bytes, text, pseudo-random bytes, a truncated ELF header.
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0x7c], vec![0x7c, 0x60], vec![1, 2, 3]];
    inputs.push(b"this is not code at all, just some text\n".to_vec());
    let mut x = 0x2545_f491_4f6c_dd1du64;
    inputs.push(
        (0..100_003)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect(),
    );
    inputs.push(b"\x7fELF\x01\x02\x01".to_vec());
    for (i, bytes) in inputs.iter().enumerate() {
        let f = write(dir.path(), &format!("in{i}"), bytes);
        let f = f.to_str().unwrap();
        for extra in [
            &[][..],
            &["--bits", "32", "--booke"],
            &["--endian", "little", "--json"],
        ] {
            let mut args = vec!["paravirt", "scan", f];
            args.extend_from_slice(extra);
            let out = run(&args);
            let code = out.status.code();
            assert!(code == Some(0) || code == Some(1), "{args:?}: {code:?}");
            assert!(
                !String::from_utf8_lossy(&out.stderr).contains("panicked"),
                "{args:?}"
            );
        }
    }
    // Offsets past the end are a usage error.
    let f = write(dir.path(), "four", &[0; 4]);
    let out = run(&["paravirt", "scan", f.to_str().unwrap(), "--offset", "8"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn apply_rewrites_in_place_only_and_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        0x7c60_00a6,
        0x7ca1_0164,
        0x7c00_046c,
        0x3860_ffff,
        0x7cb0_43a6,
    ];
    let mut bytes = be(&words);
    bytes.push(0x99);
    let f = write(dir.path(), "code.bin", &bytes);
    let out = dir.path().join("patched.bin");
    let done = run(&[
        "paravirt",
        "apply",
        f.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(done.status.success());
    assert!(done.stdout.is_empty(), "the report goes to stderr");
    // The one success line: `ppcpv: wrote FILE: what was done`.
    let msg = String::from_utf8_lossy(&done.stderr).into_owned();
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(
        msg.starts_with(&format!("ppcpv: wrote {}: ", out.display())),
        "{msg}"
    );
    assert!(msg.contains("3 words rewritten in place"), "{msg}");
    assert!(msg.contains("1 template sites left unchanged"), "{msg}");
    let mut want = be(&[
        0xe860_f058,
        0x7ca1_0164,
        0x6000_0000,
        0x3860_ffff,
        0xf8a0_f020,
    ]);
    want.push(0x99);
    assert_eq!(std::fs::read(&out).unwrap(), want);
    assert_eq!(std::fs::read(&f).unwrap(), bytes, "input untouched");

    // In place (output = input): the mapped input is replaced atomically.
    run_ok(&[
        "paravirt",
        "apply",
        f.to_str().unwrap(),
        "-o",
        f.to_str().unwrap(),
        "--bits",
        "32",
    ]);
    let mut want32 = be(&[
        0x8060_f05c,
        0x7ca1_0164,
        0x6000_0000,
        0x3860_ffff,
        0x90a0_f024,
    ]);
    want32.push(0x99);
    assert_eq!(std::fs::read(&f).unwrap(), want32);
    // Applying again changes nothing: the rewrites are not candidates themselves.
    run_ok(&[
        "paravirt",
        "apply",
        f.to_str().unwrap(),
        "-o",
        f.to_str().unwrap(),
        "--bits",
        "32",
    ]);
    assert_eq!(std::fs::read(&f).unwrap(), want32);
    // A failed write leaves no output.
    let bad = dir.path().join("no/such/dir/out.bin");
    let r = run(&[
        "paravirt",
        "apply",
        f.to_str().unwrap(),
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn scan_and_apply_elf_sections_with_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let code = be(&[
        0x7c60_00a6, // 0xc0000000 mfmsr r3: before _stext, Linux does not patch it
        0x7c80_00a6, // 0xc0000004 mfmsr r4
        0x7ca0_00a6, // 0xc0000008 mfmsr r5: inside the kvm templates, skipped
        0x7cc0_00a6, // 0xc000000c mfmsr r6
        0x7ce0_00a6, // 0xc0000010 mfmsr r7: at _etext, outside
    ]);
    let syms = [
        ("_stext", 0xc000_0004),
        ("_etext", 0xc000_0010),
        ("kvm_template_start", 0xc000_0008),
        ("kvm_template_end", 0xc000_000c),
    ];
    let elf = elf32(&code, &syms);
    let f = write(dir.path(), "vmlinux", &elf);
    let f = f.to_str().unwrap();
    let j = json(&["paravirt", "scan", f, "--json"]);
    assert_eq!(j["header"]["format"], "elf");
    assert_eq!(j["header"]["bits"], 32, "class from the ELF header");
    let sites = j["sites"].as_array().unwrap();
    let addrs: Vec<&str> = sites
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    assert_eq!(addrs, ["0xc0000004", "0xc000000c"]);
    assert_eq!(
        sites[0]["rewrite"], "0x8080f05c",
        "32-bit lwz from the ELF class"
    );
    let j = json(&["paravirt", "scan", f, "--json", "--all-sections"]);
    assert_eq!(j["sites"].as_array().unwrap().len(), 5);
    let text = run_ok(&["paravirt", "scan", f]);
    assert!(text.contains("limited to _stext.._etext"), "{text}");
    assert!(text.contains("0xc0000004"), "{text}");

    // apply: only the patched words inside the Linux text change.
    let out = dir.path().join("vmlinux.patched");
    run_ok(&["paravirt", "apply", f, "-o", out.to_str().unwrap()]);
    let patched = std::fs::read(&out).unwrap();
    assert_eq!(patched.len(), elf.len());
    let changed = elf
        .chunks(4)
        .zip(patched.chunks(4))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, 2, "two words differ");
    let j = json(&[
        "paravirt",
        "scan",
        out.to_str().unwrap(),
        "--json",
        "--all-sections",
    ]);
    assert_eq!(j["summary"]["candidates"], 3);
}

#[test]
fn scan_refuses_other_machines_and_forced_elf() {
    let dir = tempfile::tempdir().unwrap();
    let mut elf = elf32(&be(&[0x7c60_00a6]), &[]);
    elf[18..20].copy_from_slice(&62u16.to_be_bytes()); // EM_X86_64
    let f = write(dir.path(), "x86", &elf);
    let out = run(&["paravirt", "scan", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not PowerPC"));
    run_ok(&["paravirt", "scan", f.to_str().unwrap(), "--format", "raw"]);
    let raw = write(dir.path(), "raw", &be(&[0x7c60_00a6]));
    let out = run(&["paravirt", "scan", raw.to_str().unwrap(), "--format", "elf"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Real PowerPC firmware shipped with QEMU: OpenBIOS (32-bit Book3S ELF) and U-Boot for
/// ppce500 (32-bit BookE ELF).
#[test]
#[ignore = "needs qemu-system-ppc"]
fn interop_scan_qemu_firmware() {
    if !common::interop("interop_scan_qemu_firmware", "qemu-system-ppc") {
        return;
    }
    let openbios = "/usr/share/qemu/openbios-ppc";
    let j = json(&["paravirt", "scan", openbios, "--json", "--max-sites", "0"]);
    assert_eq!(j["header"]["bits"], 32);
    assert!(j["summary"]["direct"].as_u64().unwrap() > 0);
    let uboot = "/usr/lib/u-boot/qemu-ppce500/uboot.elf";
    if Path::new(uboot).exists() {
        let j = json(&[
            "paravirt",
            "scan",
            uboot,
            "--booke",
            "--json",
            "--max-sites",
            "0",
        ]);
        let counts = j["summary"]["counts"].as_array().unwrap();
        assert!(
            counts
                .iter()
                .any(|c| c["kind"].as_str().unwrap().contains("MAS"))
        );
    }
}

#[test]
fn scan_threads_give_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB: several parallel segments, with a candidate every 97 words.
    let words: Vec<u32> = (0..262_144u32)
        .map(|i| {
            if i % 97 == 0 {
                0x7c60_00a6 | (i % 32) << 21
            } else {
                i.wrapping_mul(0x9e37_79b9)
            }
        })
        .collect();
    let f = write(dir.path(), "big.bin", &be(&words));
    let f = f.to_str().unwrap();
    let one = run_ok(&["paravirt", "scan", f, "--json", "--threads", "1"]);
    let three = run_ok(&["paravirt", "scan", f, "--json", "--threads", "3"]);
    assert_eq!(one, three);
    let j: Value = serde_json::from_str(&one).unwrap();
    assert!(j["summary"]["candidates"].as_u64().unwrap() >= 2703);
    assert_eq!(
        run(&["paravirt", "scan", f, "--threads", "0"])
            .status
            .code(),
        Some(2)
    );
}

/// Every truncation and many single-byte corruptions of an ELF image: `locate` either
/// refuses it or returns regions inside the input, and scanning them never panics.
#[test]
fn truncated_and_corrupt_elf_never_panics() {
    use ppcpv::paravirt::{Format, ScanConfig, Tally, locate, scan};
    let code = be(&[0x7c60_00a6, 0x7c00_046c, 0x7c80_00a6]);
    let elf = elf32(&code, &[("_stext", 0xc000_0000), ("_etext", 0xc000_000c)]);
    let sc = ScanConfig::default();
    let check_all = |bytes: &[u8]| {
        for limit in [true, false] {
            if let Ok(img) = locate(bytes, Format::Auto, limit) {
                for r in &img.regions {
                    let end = r.offset.checked_add(r.len).unwrap();
                    assert!(end <= bytes.len() as u64, "region past the input");
                    let slice = &bytes[r.offset as usize..end as usize];
                    scan(
                        slice,
                        r.offset,
                        r.address,
                        &sc,
                        &mut Tally::default(),
                        |_| {},
                    );
                }
            }
        }
    };
    for len in 0..=elf.len() {
        check_all(&elf[..len]);
    }
    for i in 0..elf.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = elf.clone();
            bad[i] ^= flip;
            check_all(&bad);
        }
    }
}

/// An `Elf64_Shdr` without `sh_addralign`: (name, type, flags, addr, offset, size, link,
/// info, entsize).
type SectionHeader64 = (u32, u32, u64, u64, u64, usize, u32, u32, u64);

/// A minimal 64-bit little-endian PowerPC ELF (like a ppc64le `vmlinux`): `.text` at
/// 0xc000000000000000 holding `code`, and symbols `syms`.
fn elf64le(code: &[u8], syms: &[(&str, u64)]) -> Vec<u8> {
    let text_addr = 0xc000_0000_0000_0000u64;
    let shstr = b"\0.text\0.symtab\0.strtab\0.shstrtab\0\0".to_vec();
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24]; // the null symbol
    for (name, value) in syms {
        symtab.extend((strtab.len() as u32).to_le_bytes());
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        symtab.extend([0x10, 0]); // STB_GLOBAL, STT_NOTYPE; st_other
        symtab.extend(1u16.to_le_bytes()); // in .text
        symtab.extend(value.to_le_bytes());
        symtab.extend(0u64.to_le_bytes());
    }
    let mut out = vec![0u8; 64];
    let place = |out: &mut Vec<u8>, data: &[u8]| {
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let off = out.len() as u64;
        out.extend_from_slice(data);
        off
    };
    let offs = [
        place(&mut out, code),
        place(&mut out, &symtab),
        place(&mut out, &strtab),
        place(&mut out, &shstr),
    ];
    let shoff = place(&mut out, &[]);
    let headers: [SectionHeader64; 5] = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (1, 1, 6, text_addr, offs[0], code.len(), 0, 0, 0),
        (7, 2, 0, 0, offs[1], symtab.len(), 3, 1, 24),
        (15, 3, 0, 0, offs[2], strtab.len(), 0, 0, 0),
        (23, 3, 0, 0, offs[3], shstr.len(), 0, 0, 0),
    ];
    for (name, ty, flags, addr, off, size, link, info, entsize) in headers {
        out.extend(name.to_le_bytes());
        out.extend(ty.to_le_bytes());
        out.extend(flags.to_le_bytes());
        out.extend(addr.to_le_bytes());
        out.extend(off.to_le_bytes());
        out.extend((size as u64).to_le_bytes());
        out.extend(link.to_le_bytes());
        out.extend(info.to_le_bytes());
        out.extend(8u64.to_le_bytes());
        out.extend(entsize.to_le_bytes());
    }
    let mut hdr = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    hdr.extend(2u16.to_le_bytes()); // ET_EXEC
    hdr.extend(21u16.to_le_bytes()); // EM_PPC64
    hdr.extend(1u32.to_le_bytes());
    hdr.extend(text_addr.to_le_bytes()); // entry
    hdr.extend(0u64.to_le_bytes()); // phoff
    hdr.extend(shoff.to_le_bytes());
    hdr.extend(2u32.to_le_bytes()); // e_flags: ELFv2 ABI
    for v in [64u16, 56, 0, 64, 5, 4] {
        hdr.extend(v.to_le_bytes());
    }
    out[..64].copy_from_slice(&hdr);
    out
}

#[test]
fn scan_ppc64le_elf_takes_class_and_byte_order_from_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let words = [0x7c60_00a6u32, 0x7ca1_0164, 0x7c7a_02a6, 0x3860_ffff];
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let elf = elf64le(
        &code,
        &[
            ("_stext", 0xc000_0000_0000_0000),
            ("_etext", 0xc000_0000_0000_0010),
        ],
    );
    let f = write(dir.path(), "vmlinux-le", &elf);
    let f = f.to_str().unwrap();
    let j = json(&["paravirt", "scan", f, "--json"]);
    assert_eq!(j["header"]["bits"], 64);
    assert_eq!(j["header"]["endian"], "little");
    let sites = j["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 3);
    assert_eq!(sites[0]["address"], "0xc000000000000000");
    assert_eq!(sites[0]["rewrite"], "0xe860f058"); // ld r3,-4008(0)
    assert_eq!(sites[1]["template"], "kvm_emulate_mtmsrd");
    assert_eq!(sites[2]["rewrite"], "0xe860f040"); // ld r3,srr0
    // apply writes the rewrites in the file's byte order.
    let out = dir.path().join("patched");
    run_ok(&["paravirt", "apply", f, "-o", out.to_str().unwrap()]);
    let patched = std::fs::read(&out).unwrap();
    let at = elf
        .windows(4)
        .position(|w| w == 0x7c60_00a6u32.to_le_bytes())
        .unwrap();
    assert_eq!(patched[at..at + 4], 0xe860_f058u32.to_le_bytes());
}
