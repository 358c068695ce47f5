//! Hostile command lines found in review: each case once did the wrong thing (modified
//! its input, exited with the wrong code or said something unclear) and must not again.

mod common;

use std::path::Path;

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `-o` naming the input: commands whose output is not a new version of the input
/// refuse (exit 2) and leave the input byte for byte as it was. Before, `dump g.dtb -o
/// g.dtb` replaced the DTB with DTS text and `hypervisor --pvinfo
/// x -o x` replaced the pvinfo struct with a DTB.
#[test]
fn output_over_input_is_refused_and_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = dir.path().join("g.dtb");
    std::fs::copy(common::data("qemu-pseries.dtb"), &dtb).unwrap();
    let before = std::fs::read(&dtb).unwrap();
    // Another spelling of the same file still counts.
    let alias = dir.path().join(".").join("g.dtb");
    let out = common::run(&["dump", s(&dtb), "-o", s(&alias)]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is the input file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&dtb).unwrap(), before);

    let pvinfo = dir.path().join("pvinfo.bin");
    std::fs::write(&pvinfo, [0u8; 128]).unwrap();
    let out = common::run(&["hypervisor", "--pvinfo", s(&pvinfo), "-o", s(&pvinfo)]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(&pvinfo).unwrap(), [0u8; 128]);

    // patch and paravirt apply document -o IN as in-place editing: still allowed.
    common::run_ok(&["patch", s(&dtb), "-o", s(&dtb)]);
}

/// `magic --mem -`: stdin cannot be mapped page by page. Before, the error was "-: No
/// such file or directory" with exit 1; now it is a usage error that says why.
#[test]
fn magic_mem_stdin_is_a_clear_usage_error() {
    for sub in [
        &["magic", "dump", "--mem", "-", "--gpa", "0"][..],
        &["magic", "set", "--mem", "-", "--gpa", "0", "msr=1"][..],
        &["magic", "swab", "--mem", "-", "--gpa", "0"][..],
    ] {
        let out = common::run(sub);
        assert_eq!(code(&out), Some(2), "{sub:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--mem needs a regular file"),
            "{sub:?}: {}",
            stderr(&out)
        );
    }
}

/// `-o` into a directory that does not exist: exit 1, the message names the missing
/// directory (before, it named the random temporary file instead) and nothing is created.
#[test]
fn output_into_missing_directory_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing").join("guest.dtb");
    let out = common::run(&["gen", "-o", s(&target)]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("missing does not exist"), "{err}");
    assert!(!err.contains("guest.dtb."), "temporary name leaked: {err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A reader that has already gone (`ppcpv ... | head -0`): every command ends quietly
/// with exit 0. Before, `insn asm`, `insn disasm`, `insn seq`, `magic swab` and `paravirt
/// apply` printed with `print!`, which panics (exit 101) on a broken pipe.
#[test]
fn closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let ram = dir.path().join("ram.bin");
    std::fs::write(&ram, vec![0u8; 8192]).unwrap();
    let code_img = dir.path().join("code.bin");
    std::fs::write(&code_img, 0x7c60_00a6u32.to_be_bytes()).unwrap();
    let patched = dir.path().join("patched.bin");
    let cases: [&[&str]; 6] = [
        &["insn", "asm", "nop; sc"],
        &["insn", "disasm", "0x60000000"],
        &["insn", "seq"],
        &["magic", "swab", "--mem", s(&ram), "--gpa", "0"],
        &["paravirt", "apply", s(&code_img), "-o", s(&patched)],
        &["hcall", "list"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = common::ppcpv()
            .args(args)
            .stdout(writer)
            .output()
            .expect("ppcpv runs");
        assert_eq!(code(&out), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
}

/// A DTB path that is an endless stream (/dev/zero, a FIFO, `<(yes)`) is read only as
/// far as the header: before, it was buffered up to 4 GiB before the magic was checked.
#[cfg(unix)]
#[test]
fn endless_stream_as_dtb_fails_at_the_header() {
    for sub in ["inspect", "dump"] {
        let out = common::run(&[sub, "/dev/zero"]);
        assert_eq!(code(&out), Some(1), "{sub}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("bad magic 0x00000000 at offset 0x0"),
            "{sub}: {}",
            stderr(&out)
        );
    }
    let out = common::run(&["get", "/dev/zero", "/"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
}

/// `patch` names the bad input file like the other DTB readers (it said only "input is
/// not a valid DTB"), exits 1 and creates no output.
#[test]
fn patch_names_the_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = common::data("synthetic-corrupt-bad-magic.dtb");
    let target = dir.path().join("out.dtb");
    let out = common::run(&["patch", s(&bad), "-o", s(&target)]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("synthetic-corrupt-bad-magic.dtb: input is not a valid DTB: bad magic"),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists());
}

/// `magic set msr=1 msr=2`: a usage error before the image is opened (it silently kept
/// the last value), and the image is left as it was.
#[test]
fn magic_set_refuses_a_field_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let ram = dir.path().join("ram.bin");
    std::fs::write(&ram, vec![0u8; 4096]).unwrap();
    let out = common::run(&[
        "magic",
        "set",
        "--mem",
        s(&ram),
        "--gpa",
        "0",
        "msr=1",
        "sr[2]=5",
        "msr=2",
    ]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("msr is given twice"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&ram).unwrap(), vec![0u8; 4096]);
}

/// `paravirt check 0x100000000`: the word is too wide, not an unknown mnemonic.
#[test]
fn paravirt_check_names_a_too_wide_word() {
    let out = common::run(&["paravirt", "check", "0x100000000"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0x100000000 does not fit in 32 bits"),
        "{}",
        stderr(&out)
    );
}
