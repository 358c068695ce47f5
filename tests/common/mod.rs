//! Helpers shared by the integration tests: the ppcpv binary, the shared corpus and
//! the checks for tests that need outside programs (dtc, QEMU, a C compiler).
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

/// The shared corpus (`PPCPV_CORPUS`, default `../shared/corpus`).
///
/// Tests that call this are `#[ignore = "needs the corpus …"]`, so a plain `cargo test`
/// lists them as ignored; run with `-- --include-ignored` (as CI does), a missing corpus
/// fails the test instead of passing it silently.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PPCPV_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("dtb").is_dir(),
        "{test}: no corpus at {} (set PPCPV_CORPUS)",
        dir.display()
    );
    Some(dir)
}

/// Asserts that `program` is installed, for a test that runs it.
///
/// Such tests are `#[ignore = "needs dtc"]` (or the program they need), so a plain
/// `cargo test` lists them as ignored; with `-- --include-ignored` (as CI runs them) a
/// missing program fails the test. Always returns true, so callers read as a guard.
pub fn interop(test: &str, program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "{test}: needs `{program}`, which is not installed");
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
