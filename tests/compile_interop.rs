//! `ppcpv compile` against a live `dtc -I dts -O dtb`: the same fixture with the same
//! options must give the same bytes, and every source dtc refuses must be refused.

mod common;

use std::path::Path;
use std::process::Command;

/// dtc options and the `ppcpv compile` spelling of the same options.
const CASES: &[(&str, &[&str], &[&str])] = &[
    ("values.dts", &[], &[]),
    (
        "values.dts",
        &["-p", "7", "-a", "16"],
        &["--pad", "7", "--align", "16"],
    ),
    ("values.dts", &["-S", "4096"], &["--space", "4096"]),
    ("refs.dts", &[], &[]),
    ("refs.dts", &["-@"], &["-@"]),
    ("refs.dts", &["-H", "legacy"], &["-H", "legacy"]),
    ("refs.dts", &["-H", "both"], &["-H", "both"]),
    ("merge.dts", &[], &[]),
    ("merge.dts", &["-@"], &["-@"]),
    (
        "merge.dts",
        &["-b", "7", "-p", "100"],
        &["-b", "7", "--pad", "100"],
    ),
    ("include.dts", &["-i", "inc"], &["-i", "inc"]),
    ("linemarkers.dts", &[], &[]),
    ("overlay.dts", &[], &[]),
    ("overlay.dts", &["-@"], &["-@"]),
    ("overlay-pathref.dts", &[], &[]),
    ("symbols.dts", &[], &[]),
    ("symbols.dts", &["-@"], &["-@"]),
    // Trees dtc writes that the blob writer refused when the compiler was added:
    // empty and overlapping reservations, names outside vm-fdt's rules, `phandle`
    // before `linux,phandle`.
    ("edge-writer.dts", &[], &[]),
    ("edge-writer.dts", &["-V", "1"], &["--out-version", "1"]),
    // dtc's short spellings work too.
    (
        "values.dts",
        &["-p", "9", "-a", "32", "-b", "2"],
        &["-p", "9", "-a", "32", "-b", "2"],
    ),
    ("values.dts", &["-S", "2000"], &["-S", "2000"]),
    // -R: empty reservation entries before the terminator.
    ("values.dts", &["-R", "3"], &["-R", "3"]),
    (
        "merge.dts",
        &["-R", "1", "-S", "1024"],
        &["--reserve", "1", "--space", "1024"],
    ),
    // -V: the older formats' layouts (flattree.c, version_table).
    ("versions.dts", &["-V", "1"], &["--out-version", "1"]),
    ("versions.dts", &["-V", "2"], &["--out-version", "2"]),
    ("versions.dts", &["-V", "3"], &["--out-version", "3"]),
    ("versions.dts", &["-V", "16"], &["--out-version", "16"]),
    ("versions.dts", &["-V", "17"], &["--out-version", "17"]),
    (
        "versions.dts",
        &["-V", "1", "-@", "-R", "2", "-p", "8"],
        &["--out-version", "1", "-@", "-R", "2", "--pad", "8"],
    ),
    (
        "versions.dts",
        &["-V", "3", "-a", "64", "-b", "9"],
        &["--out-version", "3", "--align", "64", "-b", "9"],
    ),
    (
        "versions.dts",
        &["-V", "16", "-H", "both", "-S", "2048"],
        &["--out-version", "16", "-H", "both", "--space", "2048"],
    ),
    ("overlay.dts", &["-V", "16"], &["--out-version", "16"]),
    (
        "include.dts",
        &["-i", "inc", "-V", "3"],
        &["-i", "inc", "--out-version", "3"],
    ),
];

fn dtc(dir: &Path, args: &[&str], src: &str) -> Option<Vec<u8>> {
    let out = Command::new("dtc")
        .current_dir(dir)
        .args(["-q", "-I", "dts", "-O", "dtb"])
        .args(args)
        .arg(src)
        .output()
        .expect("dtc runs");
    out.status.success().then_some(out.stdout)
}

fn ppcpv(dir: &Path, args: &[&str], src: &str) -> std::process::Output {
    common::ppcpv()
        .current_dir(dir)
        .arg("compile")
        .args(args)
        .arg(src)
        .output()
        .expect("ppcpv runs")
}

#[test]
#[ignore = "needs dtc"]
fn fixtures_compile_to_dtcs_bytes() {
    common::interop("fixtures_compile_to_dtcs_bytes", "dtc");
    let dir = common::data("compile");
    let mut bad = Vec::new();
    for (src, dargs, pargs) in CASES {
        let want = dtc(&dir, dargs, src).unwrap_or_else(|| panic!("dtc refused {src}"));
        let out = ppcpv(&dir, pargs, src);
        if !out.status.success() {
            bad.push(format!(
                "{src} {dargs:?}: ppcpv failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        } else if out.stdout != want {
            bad.push(format!(
                "{src} {dargs:?}: {} bytes from ppcpv, {} from dtc",
                out.stdout.len(),
                want.len()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
#[ignore = "needs dtc"]
fn sources_dtc_refuses_are_refused() {
    common::interop("sources_dtc_refuses_are_refused", "dtc");
    let dir = common::data("compile/errors");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(dtc(&dir, &[], &name).is_none(), "dtc accepted {name}");
        let out = ppcpv(&dir, &[], &name);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("ppcpv: error: {name}:")),
            "{name}: {err}"
        );
    }
}

#[test]
#[ignore = "needs dtc"]
fn stdin_and_stdout_work_like_files() {
    common::interop("stdin_and_stdout_work_like_files", "dtc");
    let dir = common::data("compile");
    let want = dtc(&dir, &[], "refs.dts").unwrap();
    let src = std::fs::read(dir.join("refs.dts")).unwrap();
    let mut child = common::ppcpv()
        .args(["compile", "-", "-o", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&src).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, want);
}

/// dtc 1.6.1 crashes on `-V 1|2|3` when it has to write a node it made after
/// parsing (`__symbols__`, `__fixups__`, `__local_fixups__`: flatten_tree reads a full
/// path dtc never set for them); ppcpv refuses with a message instead.
#[test]
#[ignore = "needs dtc"]
fn old_versions_refuse_generated_nodes_where_dtc_crashes() {
    common::interop(
        "old_versions_refuse_generated_nodes_where_dtc_crashes",
        "dtc",
    );
    let dir = common::data("compile");
    for (src, dargs, pargs) in [
        ("overlay.dts", &["-V", "1"][..], &["--out-version", "1"][..]),
        (
            "refs.dts",
            &["-V", "3", "-@"],
            &["--out-version", "3", "-@"],
        ),
    ] {
        assert!(dtc(&dir, dargs, src).is_none(), "dtc wrote {src} {dargs:?}");
        let out = ppcpv(&dir, pargs, src);
        assert_eq!(out.status.code(), Some(1), "{src}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot write generated nodes in a version"),
            "{src}: {err}"
        );
    }
    // A usage error for a version dtc does not write either.
    let out = ppcpv(&dir, &["--out-version", "4"], "values.dts");
    assert_eq!(out.status.code(), Some(2));
}
