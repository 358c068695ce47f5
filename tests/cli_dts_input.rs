//! DTS source as the input of every command that reads a tree (`inspect`, `dump`,
//! `get`, `patch`): told apart from a blob by content, compiled in memory, errors
//! with `FILE:LINE:COL`; blobs, empty files and junk keep their blob errors.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

const BOARD: &str = "// a board, after comments and a line marker
/* block comment */
# 1 \"board.dts\"
/dts-v1/;

/memreserve/ 0x1000 0x1000;

/ {
\t#address-cells = <1>;
\t#size-cells = <1>;
\tmodel = \"test,board\";
\tcompatible = \"test,board\";

\tcpus {
\t\t#address-cells = <1>;
\t\t#size-cells = <0>;
\t\tcpu0: cpu@0 {
\t\t\tdevice_type = \"cpu\";
\t\t\treg = <0>;
\t\t};
\t};

\tmemory@0 {
\t\tdevice_type = \"memory\";
\t\treg = <0 (256 * 1024 * 1024)>;
\t};

\tchosen {
\t\tboot-cpu = <&cpu0>;
\t};
};
";

fn run_in(dir: &Path, args: &[&str]) -> Output {
    common::ppcpv()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("ppcpv runs")
}

fn ok(out: &Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = common::ppcpv()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command may stop reading early (a blob error after 8 bytes).
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

/// A temporary directory with board.dts and board.dtb (`ppcpv compile` of it).
fn board() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("board.dts"), BOARD).unwrap();
    ok(&run_in(&d, &["compile", "board.dts", "-o", "board.dtb"]));
    (dir, d)
}

#[test]
fn reading_commands_take_dts_like_the_compiled_blob() {
    let (_t, d) = board();
    for args in [
        &["dump"][..],
        &["get", "/", "model"],
        &["get", "/chosen", "boot-cpu"],
        &["get", "-t", "x", "/memory@0", "reg"],
    ] {
        let src: Vec<&str> = args.iter().copied().chain(["board.dts"]).collect();
        let blob: Vec<&str> = args.iter().copied().chain(["board.dtb"]).collect();
        // get takes FILE first.
        let (src, blob) = if args[0] == "get" {
            let mut s = vec!["get", "board.dts"];
            s.extend(&args[1..]);
            let mut b = vec!["get", "board.dtb"];
            b.extend(&args[1..]);
            (s, b)
        } else {
            (src, blob)
        };
        assert_eq!(ok(&run_in(&d, &src)), ok(&run_in(&d, &blob)), "{args:?}");
    }
    // inspect names the file it was given; everything else is the same.
    for json in [false, true] {
        let args = |f| {
            if json {
                vec!["inspect", "--json", f]
            } else {
                vec!["inspect", f]
            }
        };
        let a = String::from_utf8(ok(&run_in(&d, &args("board.dts")))).unwrap();
        let b = String::from_utf8(ok(&run_in(&d, &args("board.dtb")))).unwrap();
        assert_eq!(a.replace("board.dts", "board.dtb"), b);
        assert!(a.contains("0x1000"), "{a}");
    }
}

#[test]
fn patch_compiles_and_patches_in_one_step() {
    let (_t, d) = board();
    ok(&run_in(&d, &["patch", "board.dts", "-o", "one.dtb"]));
    ok(&run_in(&d, &["patch", "board.dtb", "-o", "two.dtb"]));
    let one = std::fs::read(d.join("one.dtb")).unwrap();
    assert_eq!(one, std::fs::read(d.join("two.dtb")).unwrap());
    let compat = ok(&run_in(
        &d,
        &["get", "one.dtb", "/hypervisor", "compatible"],
    ));
    assert_eq!(compat, b"linux,kvm\n");
    // The blob is not written over the source.
    let out = run_in(&d, &["patch", "board.dts", "-o", "board.dts"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(d.join("board.dts")).unwrap(), BOARD);
}

#[test]
fn standard_input_takes_dts_too() {
    let (_t, d) = board();
    let want = ok(&run_in(&d, &["dump", "board.dtb"]));
    assert_eq!(ok(&with_stdin(&["dump", "-"], BOARD.as_bytes())), want);
    let out = with_stdin(&["patch", "-", "-o", "-"], BOARD.as_bytes());
    assert_eq!(
        ok(&out),
        ok(&run_in(&d, &["patch", "board.dtb", "-o", "-"]))
    );
    assert_eq!(
        ok(&with_stdin(&["get", "-", "/", "model"], BOARD.as_bytes())),
        b"test,board\n"
    );
}

#[test]
fn compile_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.dts"), "/dts-v1/;\n/ {\n\tp = <&nowhere>;\n};\n").unwrap();
    for cmd in ["inspect", "dump"] {
        let out = run_in(d, &[cmd, "bad.dts"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "ppcpv: error: bad.dts:3:2: reference to non-existent node or label \"nowhere\"\n"
        );
    }
    let out = run_in(d, &["patch", "bad.dts", "-o", "out.dtb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!d.join("out.dtb").exists());
    // A cpp line marker renames the file and renumbers the lines.
    let out = with_stdin(
        &["get", "-", "/", "p"],
        b"# 40 \"board.dts\"\n/dts-v1/;\n/ { p = <1 2>; p = <3>; };\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("ppcpv: error: board.dts:41:"), "{err}");
    let out = with_stdin(&["dump", "-"], b"/dts-v1/;\n/ { p = <1>\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ppcpv: error: <stdin>:3:1: syntax error"),
        "{err}"
    );
}

#[test]
fn blobs_empty_files_and_junk_keep_their_blob_errors() {
    let (_t, d) = board();
    std::fs::write(d.join("empty"), b"").unwrap();
    std::fs::write(d.join("text"), b"hello, this is not a tree\n").unwrap();
    std::fs::write(d.join("comments"), b"/* only a comment */\n   \n").unwrap();
    let mut bad = std::fs::read(d.join("board.dtb")).unwrap();
    bad[0] = 0;
    std::fs::write(d.join("bad.dtb"), &bad).unwrap();
    for (file, want) in [
        ("empty", "truncated at byte 0"),
        ("text", "bad magic"),
        ("comments", "bad magic"),
        ("bad.dtb", "bad magic"),
    ] {
        let out = run_in(&d, &["dump", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{file}: {err}");
        assert!(err.starts_with(&format!("ppcpv: error: {file}: ")), "{err}");
    }
    // From a stream, too: junk is read no further than the first bytes.
    let out = with_stdin(&["dump", "-"], &vec![b'x'; 1 << 20]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad magic"));
}

#[test]
fn includes_resolve_from_the_sources_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/part.dtsi"), "/ { part = \"included\"; };\n").unwrap();
    std::fs::write(
        d.join("sub/top.dts"),
        "/dts-v1/;\n/ { };\n/include/ \"part.dtsi\"\n",
    )
    .unwrap();
    // Run from elsewhere: the include is found beside the source.
    let out = run_in(d, &["get", "sub/top.dts", "/", "part"]);
    assert_eq!(ok(&out), b"included\n");
}

/// The compiled input is dtc's blob: `ppcpv dump board.dts` prints what
/// `ppcpv dump` of `dtc -I dts -O dtb board.dts` prints.
#[test]
#[ignore = "needs dtc"]
fn dts_input_reads_as_dtcs_blob() {
    common::interop("dts_input_reads_as_dtcs_blob", "dtc");
    let (_t, d) = board();
    let st = std::process::Command::new("dtc")
        .current_dir(&d)
        .args(["-q", "-I", "dts", "-O", "dtb", "-o", "dtc.dtb", "board.dts"])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read(d.join("dtc.dtb")).unwrap(),
        std::fs::read(d.join("board.dtb")).unwrap()
    );
    assert_eq!(
        ok(&run_in(&d, &["dump", "board.dts"])),
        ok(&run_in(&d, &["dump", "dtc.dtb"]))
    );
}
