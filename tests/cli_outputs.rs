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

/// What became of one attempt to interrupt a large write.
#[cfg(unix)]
enum Interrupted {
    /// The signal landed while the temporary file existed; the process ended with this
    /// status.
    MidWrite(std::process::ExitStatus),
    /// The write and rename finished before the signal could land (a fast disk or a
    /// busy test machine); the target must then hold the whole new output.
    TooLate,
}

/// The padding that makes `gen`'s output large enough to be interrupted mid-write.
#[cfg(unix)]
const PAD: u64 = 256 << 20;

/// Starts `ppcpv gen --pad 256MiB -o target`, waits until its temporary file appears
/// beside `target` and sends `sig` straight away (kill(2), no helper process, so the
/// window between seeing the file and the signal is as short as it can be).
#[cfg(unix)]
fn interrupt_large_write(dir: &Path, target: &Path, sig: i32) -> Interrupted {
    let mut child = common::ppcpv()
        .args(["gen", "--pad", &PAD.to_string(), "-o"])
        .arg(target)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while temporaries(dir).is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "ppcpv failed on its own: {status}");
            assert_whole_output(dir, target);
            return Interrupted::TooLate;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) takes two integers; the child is not reaped yet, so the pid
    // still names it (at worst a zombie, which ignores the signal).
    #[allow(unsafe_code)]
    let sent = unsafe { libc::kill(pid, sig) };
    assert_eq!(sent, 0);
    let status = child.wait().unwrap();
    if status.success() {
        assert_whole_output(dir, target);
        return Interrupted::TooLate;
    }
    Interrupted::MidWrite(status)
}

/// The write completed: no temporary file, and the target is the new, padded tree.
#[cfg(unix)]
fn assert_whole_output(dir: &Path, target: &Path) {
    assert_eq!(temporaries(dir), Vec::<String>::new());
    let len = std::fs::metadata(target).unwrap().len();
    assert!(len > PAD, "target is {len} bytes after a finished write");
}

/// SIGTERM or SIGINT while a large output is being written: the temporary file is
/// removed, the old target stays, and the process still ends by that signal.
///
/// Whether the signal lands mid-write is a race the test cannot fix, so each signal
/// gets several attempts; every attempt must leave a consistent result (old target or
/// whole new one, never a temporary file), and at least one must land before the
/// rename and keep the old target.
#[cfg(unix)]
#[test]
fn a_signal_mid_write_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    for (sig, name) in [(libc::SIGTERM, "TERM"), (libc::SIGINT, "INT")] {
        let mut landed = false;
        for _attempt in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("big.dtb");
            std::fs::write(&target, b"old").unwrap();
            match interrupt_large_write(dir.path(), &target, sig) {
                Interrupted::TooLate => continue,
                Interrupted::MidWrite(status) => {
                    assert!(
                        status.signal() == Some(sig) || status.code() == Some(128 + sig),
                        "SIG{name}: {status}"
                    );
                    assert_eq!(temporaries(dir.path()), Vec::<String>::new(), "SIG{name}");
                    // Before the rename the old target stays; a signal in the last
                    // instants between rename and exit finds the whole new one.
                    if std::fs::read(&target).unwrap() == b"old" {
                        landed = true;
                        break;
                    }
                    assert_whole_output(dir.path(), &target);
                }
            }
        }
        assert!(
            landed,
            "SIG{name} never landed before the rename in 10 attempts"
        );
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
#[cfg(unix)]
#[test]
fn sigkill_leftovers_are_cleaned_by_the_next_run() {
    for _attempt in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("g.dtb");
        match interrupt_large_write(dir.path(), &target, libc::SIGKILL) {
            Interrupted::TooLate => continue,
            Interrupted::MidWrite(_) if target.exists() => {
                // Killed between the rename and exit: the new output is whole.
                assert_whole_output(dir.path(), &target);
            }
            Interrupted::MidWrite(_) => {
                // SIGKILL cannot be caught: its temporary file is left behind...
                assert_eq!(temporaries(dir.path()).len(), 1);
                // ...and the next write into the same directory removes it.
                common::run_ok(&["gen", "-o", &target.display().to_string()]);
                assert_eq!(temporaries(dir.path()), Vec::<String>::new());
                return;
            }
        }
    }
    panic!("SIGKILL never landed mid-write in 10 attempts");
}
