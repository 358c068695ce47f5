//! One number syntax everywhere (`ppcpv::num::parse_u64`, documented under
//! `ppcpv --help`): decimal or 0x/0X hex, `_` only between digits; blanks, signs and
//! other bases are refused (exit 2), never trimmed or guessed.

mod common;

use common::run;

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ppcpv {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(args: &[&str]) {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "ppcpv {args:?} was accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "{args:?}");
}

/// Each case is a command line with `{}` where the number goes, and a check of what the
/// accepted forms gave.
#[test]
fn every_number_takes_the_same_syntax() {
    let cases: &[(&[&str], &str, &str)] = &[
        // (args, a value that must equal the next one, the plain decimal form)
        (&["hcall", "token", "{}"], "0X3", "3"),
        (&["hcall", "token", "{}"], "0_3", "3"),
        (
            &["hcall", "token", "--decode", "{}"],
            "0X002A_0003",
            "2752515",
        ),
        (&["paravirt", "check", "{}"], "0x7c60_00a6", "2086666406"),
        (&["hcall", "features", "--magic", "{}"], "0X3", "3"),
        (
            &[
                "hcall",
                "call",
                "--host",
                "e500v2",
                "--reg",
                "r11=0x2a0004",
                "--reg",
                "r3={}",
            ],
            "0XFFFF_F000",
            "4294963200",
        ),
        (
            &[
                "gen",
                "--machine",
                "minimal",
                "--no-rng-seed",
                "--format",
                "dts",
                "-o",
                "-",
                "--cpus",
                "{}",
            ],
            "0X2",
            "2",
        ),
        (
            &[
                "gen",
                "--machine",
                "minimal",
                "--no-rng-seed",
                "--format",
                "dts",
                "-o",
                "-",
                "--mem",
                "{}",
            ],
            "0X10M",
            "16M",
        ),
        (
            &["hypervisor", "--format", "dts", "--guest-id", "{}"],
            "1_000",
            "1000",
        ),
        (
            &["hypervisor", "--format", "dts", "--pad", "{}"],
            "0X1_0",
            "16",
        ),
    ];
    for (args, alt, plain) in cases {
        let with = |v: &str| -> Vec<String> { args.iter().map(|a| a.replace("{}", v)).collect() };
        let as_strs = |v: &Vec<String>| {
            v.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("\u{0}")
        };
        let a = with(alt);
        let p = with(plain);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        assert_eq!(
            ok(&a),
            ok(&p),
            "{} vs {}",
            as_strs(&with(alt)),
            as_strs(&with(plain))
        );
        for bad in [
            format!(" {plain}"),
            format!("{plain} "),
            format!("+{plain}"),
            format!("{plain}_"),
            format!("_{plain}"),
            "0o17".to_owned(),
            "1e3".to_owned(),
        ] {
            let b = with(&bad);
            let b: Vec<&str> = b.iter().map(String::as_str).collect();
            refused(&b);
        }
    }
}

#[test]
fn names_are_not_numbers_and_numbers_have_no_blanks() {
    // Vendor IDs: a name in any case, or a number without blanks.
    assert_eq!(
        ok(&["hcall", "token", "--vendor", "KVM", "3"]).trim(),
        "0x002a0003"
    );
    assert_eq!(
        ok(&["hcall", "token", "--vendor", "0X2A", "3"]).trim(),
        "0x002a0003"
    );
    refused(&["hcall", "token", "--vendor", " 42", "3"]);
    // Lists of words (insn disasm, --hcall) are split on blanks and commas, so blanks
    // there separate numbers; each number is still exact.
    assert_eq!(
        ok(&["insn", "disasm", "0X7C6000A6"]),
        ok(&["insn", "disasm", " 2086666406"])
    );
    refused(&["insn", "disasm", "+2086666406"]);
    // --threads: the same syntax, then its range.
    refused(&["paravirt", "scan", "/dev/null", "--threads", " 2"]);
    refused(&["paravirt", "scan", "/dev/null", "--threads", "0"]);
    ok(&["paravirt", "scan", "/dev/null", "--threads", "0X2"]);
    // magic set VALUE.
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("g.ram");
    std::fs::write(&img, vec![0u8; 8192]).unwrap();
    let img = img.to_str().unwrap();
    refused(&["magic", "set", "--mem", img, "--gpa", "0", "msr= 1"]);
    refused(&["magic", "set", "--mem", img, "--gpa", " 0", "msr=1"]);
    ok(&[
        "magic",
        "set",
        "--mem",
        img,
        "--gpa",
        "0X1000",
        "msr=0X8000_0000",
    ]);
    // --rng-seed is bytes: hex digits after 0x or 0X.
    let a = ok(&[
        "gen",
        "--machine",
        "minimal",
        "--rng-seed",
        "0X00ff",
        "--format",
        "dts",
        "-o",
        "-",
    ]);
    let b = ok(&[
        "gen",
        "--machine",
        "minimal",
        "--rng-seed",
        "00ff",
        "--format",
        "dts",
        "-o",
        "-",
    ]);
    assert_eq!(a, b);
}
