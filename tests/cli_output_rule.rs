//! The one output rule (src/cli/fileio.rs, `rule`): without `-o` every command writes
//! standard output, except `gen` (guest.dtb); a binary output refuses a terminal with
//! exit 2; a written file is announced with one line `ppcpv: wrote FILE` on stderr, and
//! output to stdout with nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture { dir };
        let out = common::ppcpv()
            .current_dir(f.path())
            .args(["gen", "--no-rng-seed"])
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(
            f.file("board.dts"),
            "/dts-v1/;\n/ { model = \"t\"; cpus { }; };\n",
        )
        .unwrap();
        // mfmsr r3; mtmsrd r5,1; tlbsync: two rewrites and a template site.
        let code: Vec<u8> = [0x7c60_00a6u32, 0x7ca1_0164, 0x7c00_046c]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        std::fs::write(f.file("code.bin"), code).unwrap();
        f
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        common::ppcpv()
            .current_dir(self.path())
            .args(args)
            .output()
            .unwrap()
    }
}

/// Every command that writes a tree or an image, without `-o`, and its `-o` form.
const WRITERS: &[&[&str]] = &[
    &["hypervisor"],
    &["hypervisor", "--format", "dts"],
    &["patch", "guest.dtb"],
    &["patch", "guest.dtb", "--hcall", "booke-hv", "--has-idle"],
    &["paravirt", "apply", "code.bin"],
    &["compile", "board.dts"],
    &["dump", "guest.dtb"],
];

#[test]
fn without_o_every_command_writes_stdout_and_says_nothing() {
    let f = Fixture::new();
    for args in WRITERS {
        let before = std::fs::read_dir(f.path()).unwrap().count();
        let out = f.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(!out.stdout.is_empty(), "{args:?}: nothing on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        // paravirt apply reports what it did (one line, not a "wrote" line).
        if args[0] == "paravirt" {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.starts_with("ppcpv: 2 words rewritten"), "{err}");
        } else {
            assert_eq!(err, "", "{args:?}");
        }
        let after = std::fs::read_dir(f.path()).unwrap().count();
        assert_eq!(before, after, "{args:?} created a file");
    }
    // `ppcpv patch in.dtb > out.dtb` is the same blob as `-o out.dtb`.
    let piped = f.run(&["patch", "guest.dtb"]).stdout;
    let o = f.run(&["patch", "guest.dtb", "-o", "kvm.dtb"]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(f.file("kvm.dtb")).unwrap(), piped);
}

#[test]
fn a_written_file_is_announced_with_one_line() {
    let f = Fixture::new();
    for args in WRITERS {
        let mut a = args.to_vec();
        a.extend(["-o", "out.file"]);
        let out = f.run(&a);
        assert_eq!(out.status.code(), Some(0), "{a:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{a:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{a:?}: {err}");
        assert!(err.starts_with("ppcpv: wrote out.file"), "{a:?}: {err}");
        assert!(f.file("out.file").exists());
        std::fs::remove_file(f.file("out.file")).unwrap();
    }
}

#[test]
fn gen_alone_keeps_its_default_file() {
    let f = Fixture::new();
    std::fs::remove_file(f.file("guest.dtb")).unwrap();
    let out = f.run(&["gen"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ppcpv: wrote guest.dtb\n"
    );
    assert!(ppcpv::fdt::Fdt::new(&std::fs::read(f.file("guest.dtb")).unwrap()).is_ok());
    let out = f.run(&["gen", "--format", "dts"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ppcpv: wrote guest.dts\n"
    );
    let out = f.run(&["gen", "-o", "-"]);
    assert!(out.stderr.is_empty());
    assert!(ppcpv::fdt::Fdt::new(&out.stdout).is_ok());
}

/// Runs `ppcpv ARGS` with its standard output on a pseudo-terminal (util-linux
/// `script`), in `dir`; returns the exit code and what reached the terminal.
fn on_terminal(dir: &Path, args: &str) -> (Option<i32>, String) {
    let bin = env!("CARGO_BIN_EXE_ppcpv");
    let out = std::process::Command::new("script")
        .current_dir(dir)
        .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
#[ignore = "needs script (util-linux) for a pseudo-terminal"]
fn binary_output_refuses_a_terminal() {
    assert!(common::interop(
        "binary_output_refuses_a_terminal",
        "script"
    ));
    let f = Fixture::new();
    for args in [
        "hypervisor",
        "hypervisor --pvinfo /nonexistent",
        "gen -o -",
        "patch guest.dtb",
        "patch guest.dtb --remove -o -",
        "paravirt apply code.bin",
        "compile board.dts",
    ] {
        let (code, text) = on_terminal(f.path(), args);
        assert_eq!(code, Some(2), "{args}: {text}");
        assert!(
            text.contains("ppcpv: error: refusing to write binary data to a terminal"),
            "{args}: {text}"
        );
        assert!(
            text.contains("> FILE") && text.contains("-o FILE"),
            "{text}"
        );
        // Nothing else reached the terminal: no blob bytes.
        assert_eq!(text.trim_end().lines().count(), 1, "{args}: {text:?}");
    }
    // Text is fine on a terminal.
    for args in [
        "hypervisor --format dts",
        "dump guest.dtb",
        "gen --format dts -o -",
    ] {
        let (code, text) = on_terminal(f.path(), args);
        assert_eq!(code, Some(0), "{args}: {text}");
        assert!(text.contains("/dts-v1/;"), "{args}: {text}");
    }
    // With -o a file is written as usual, whatever stdout is.
    let (code, _) = on_terminal(f.path(), "hypervisor -o hv.dtb");
    assert_eq!(code, Some(0));
    assert!(f.file("hv.dtb").exists());
}

/// `magic set` and `magic swab` change an image in place: the same one line, naming the
/// image and what was written; nothing on stdout.
#[test]
fn in_place_edits_say_so_in_one_line() {
    let f = Fixture::new();
    std::fs::write(f.file("g.ram"), vec![0u8; 0x2000]).unwrap();
    let out = f.run(&[
        "magic", "set", "--mem", "g.ram", "--gpa", "0x1000", "msr=0x1", "pir=7",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ppcpv: wrote g.ram: msr = 0x1, pir = 0x7 (GPA 0x1000)\n"
    );
    let out = f.run(&["magic", "swab", "--mem", "g.ram", "--gpa", "0x1000"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ppcpv: wrote g.ram: GPA 0x1000: big -> little"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}
