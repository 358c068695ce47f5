//! The output-file policy every command shares (src/cli/fileio.rs), end to end:
//! a signal mid-write leaves neither a temporary file nor a changed target, and errors
//! name the file the user typed.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ppcpv-"))
        .collect()
}

/// SIGTERM or SIGINT while a large output is being written: the temporary file is
/// removed, the old target stays, and the process still ends by that signal.
#[cfg(unix)]
#[test]
fn a_signal_mid_write_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    for (sig, name) in [(15, "TERM"), (2, "INT")] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.dtb");
        std::fs::write(&target, b"old").unwrap();
        // A 256 MiB pad takes long enough to write that the signal lands mid-write.
        let mut child = common::ppcpv()
            .args(["gen", "--pad", "268435456", "-o"])
            .arg(&target)
            .spawn()
            .unwrap();
        let start = Instant::now();
        while temporaries(dir.path()).is_empty() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("SIG{name}: ppcpv ended ({status}) before its temporary file was seen");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no temporary file"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let kill = std::process::Command::new("kill")
            .args([format!("-{name}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert!(
            status.signal() == Some(sig) || status.code() == Some(128 + sig),
            "SIG{name}: {status}"
        );
        assert_eq!(temporaries(dir.path()), Vec::<String>::new(), "SIG{name}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old", "SIG{name}");
    }
}

/// Errors name the path the user typed, not the temporary one or a resolved link.
#[test]
fn errors_name_the_typed_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-dir/out.dtb");
    let out = common::run(&["gen", "-o", &target.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing-dir/out.dtb"), "{err}");
    assert!(!err.contains(".ppcpv-"), "{err}");
}

/// A leftover of a process killed with SIGKILL is removed by the next write beside it.
#[test]
fn sigkill_leftovers_are_cleaned_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("g.dtb");
    let mut child = common::ppcpv()
        .args(["gen", "--pad", "268435456", "-o"])
        .arg(&target)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while temporaries(dir.path()).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "ended too early");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL: nothing can clean up
    child.wait().unwrap();
    assert_eq!(temporaries(dir.path()).len(), 1);
    common::run_ok(&["gen", "-o", &target.display().to_string()]);
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}
