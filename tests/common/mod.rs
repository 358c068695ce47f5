//! Helpers shared by the integration tests: the ppcpv binary, the shared corpus and
//! the gate for tests that need outside programs (dtc, QEMU, a C compiler).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `ppcpv` binary built for this test run.
pub fn ppcpv() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ppcpv"))
}

/// Runs `ppcpv` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    ppcpv().args(args).output().expect("ppcpv runs")
}

/// Runs `ppcpv` and returns stdout as text, panicking with stderr on a non-zero exit.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "ppcpv {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// The shared corpus (`PPCPV_CORPUS`, default `../shared/corpus`), or `None` after
/// printing that the calling test was skipped.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PPCPV_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("dtb").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "{test}: skipped (no corpus at {}; set PPCPV_CORPUS)",
            dir.display()
        );
        None
    }
}

/// True when interop tests must run (`PPCPV_INTEROP=1`). Then a missing `program`
/// fails the test; without the variable the test prints that it was skipped.
pub fn interop(test: &str, program: &str) -> bool {
    if std::env::var("PPCPV_INTEROP").as_deref() != Ok("1") {
        eprintln!("{test}: skipped (set PPCPV_INTEROP=1 to run it; needs {program})");
        return false;
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{test}: PPCPV_INTEROP=1 but `{program}` is not installed"
    );
    true
}

/// The fixtures directory of this repository (`tests/data`).
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Compares `got` with the golden file at `path`, or rewrites the file when
/// `UPDATE_GOLDEN` is set (after an intended change).
pub fn compare_or_update(path: &Path, got: &[u8]) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, got).unwrap();
        return;
    }
    let want = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        want == got,
        "{} differs from ppcpv's output; if the change is intended, rerun with UPDATE_GOLDEN=1",
        path.display()
    );
}
