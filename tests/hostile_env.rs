//! Hostile environments: a full filesystem under a sparse image, input bytes that are
//! terminal control sequences, a memory limit under a large blob. Each test reproduces
//! a fault ppcpv once had (a SIGBUS, a retitled terminal, an abort) and checks the
//! clear answer that replaced it.

mod common;

use ppcpv::fdt::writer::{FdtBuilder, Padding};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A small tmpfs mounted on a temporary directory for the test's lifetime. Mounting
/// needs root; without it the test fails (it is `#[ignore]`d, so only an explicit
/// `--include-ignored` run, as CI's, gets here).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(test: &str, size: &str) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "{test}: needs root to mount a tmpfs"
        );
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "{test}: mount -t tmpfs failed: {}",
            stderr(&out)
        );
        Tmpfs { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fills the filesystem until it refuses another byte.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path("fill")).unwrap();
        let chunk = [0xa5u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.flush();
        let mut small = std::fs::File::create(self.path("fill2")).unwrap();
        while small.write_all(&[1]).and_then(|()| small.flush()).is_ok() {}
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Blocks allocated to `p` (512-byte units).
fn blocks(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).unwrap().blocks()
}

/// `magic set` and `magic swab` on a sparse image whose tmpfs is full: before, the first
/// store into the mapped hole raised SIGBUS ("Bus error", exit 135). Now the page is
/// allocated before it is mapped: exit 1, a message naming the image, the image as it
/// was. `magic dump` of the same page reads zeros (a read of a mapped hole on tmpfs
/// allocates too, so it is read with pread).
#[test]
#[ignore = "needs root: mounts a tmpfs"]
fn full_tmpfs_under_a_sparse_image_is_an_error_not_sigbus() {
    let fs = Tmpfs::mount("full_tmpfs_under_a_sparse_image", "256k");
    let ram = fs.path("g.ram");
    std::fs::File::create(&ram)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    fs.fill();
    for args in [
        &["set", "--gpa", "0x7fff000", "msr=1"][..],
        &["swab", "--gpa", "0x7fff000"][..],
    ] {
        let mut all = vec!["magic", args[0], "--mem", s(&ram)];
        all.extend_from_slice(&args[1..]);
        let out = common::run(&all);
        assert_eq!(
            code(&out),
            Some(1),
            "{args:?}: {:?} {}",
            out.status,
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}: cannot allocate the page", ram.display())),
            "{args:?}: {err}"
        );
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(std::fs::metadata(&ram).unwrap().len(), 1 << 30);
        assert_eq!(blocks(&ram), 0, "the image gained blocks");
    }
    let out = common::run(&["magic", "dump", "--mem", s(&ram), "--gpa", "0x7fff000"]);
    assert_eq!(code(&out), Some(0), "{:?} {}", out.status, stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0x0000000000000000"));
    assert_eq!(blocks(&ram), 0);
}

/// A DTB with page-sized runs of zeros, written sparse (the zero pages are holes).
fn sparse_dtb(path: &Path) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut w = FdtBuilder::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_string("model", "sparse").unwrap();
    w.property("zeros", &[0u8; 5 * 4096]).unwrap();
    w.end_node(root).unwrap();
    let blob = w.finish(&Padding::NONE).unwrap();
    let f = std::fs::File::create(path).unwrap();
    f.set_len(blob.len() as u64).unwrap();
    for (i, page) in blob.chunks(4096).enumerate() {
        if page.iter().any(|&b| b != 0) {
            f.write_all_at(page, (i * 4096) as u64).unwrap();
        }
    }
    blob
}

/// A sparse DTB on a full tmpfs: reading it through a mapping faulted on the holes
/// (SIGBUS). Now such a file is read: `dump`, `get` and `inspect` answer normally.
#[test]
#[ignore = "needs root: mounts a tmpfs"]
fn sparse_dtb_on_a_full_tmpfs_reads() {
    let fs = Tmpfs::mount("sparse_dtb_on_a_full_tmpfs_reads", "256k");
    let dtb = fs.path("g.dtb");
    let blob = sparse_dtb(&dtb);
    assert!(
        blocks(&dtb) * 512 < blob.len() as u64,
        "the test file is not sparse"
    );
    fs.fill();
    let out = common::run(&["dump", s(&dtb)]);
    assert_eq!(code(&out), Some(0), "{:?} {}", out.status, stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("zeros = <0x00 0x00"));
    let out = common::run(&["get", s(&dtb), "/", "model"]);
    assert_eq!(code(&out), Some(0), "{:?} {}", out.status, stderr(&out));
    assert_eq!(out.stdout, b"sparse\n");
    let out = common::run(&["inspect", s(&dtb)]);
    assert_eq!(code(&out), Some(0), "{:?} {}", out.status, stderr(&out));
    let out = common::run(&["paravirt", "scan", "--format", "raw", s(&dtb)]);
    assert!(code(&out).is_some(), "killed: {:?}", out.status);
}

/// Runs ppcpv with `args` in `sh -c 'ulimit -v KIB; exec ppcpv …'`: at most `kib` KiB
/// of address space.
fn run_limited(kib: u64, args: &[&str]) -> Output {
    let mut script = format!("ulimit -v {kib} && exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${{{i}}}\""));
    }
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ppcpv"))
        .args(args)
        .output()
        .expect("sh runs")
}

/// Free space near 4 GiB under a 1 GiB address-space limit: before, the blob's buffer
/// was allocated infallibly and the process aborted ("memory allocation of 4000000000
/// bytes failed", SIGABRT, exit 134). Now the allocation is fallible: exit 1, a message
/// saying how large the blob would be, and no output file.
#[test]
fn free_space_beyond_the_memory_limit_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("big.dtb");
    let dts = dir.path().join("t.dts");
    std::fs::write(&dts, "/dts-v1/;\n/ {\n\tmodel = \"m\";\n};\n").unwrap();
    let o = s(&out_path);
    for (args, size) in [
        (&["gen", "-o", o, "--pad", "4000000000"][..], "400000"),
        (
            &["hypervisor", "-o", o, "--space", "4000000000"][..],
            "4000000000",
        ),
        (
            &["hypervisor", "-o", o, "--align", "2147483648"][..],
            "2147483648",
        ),
        (
            &["compile", s(&dts), "-o", o, "--space", "4000000000"][..],
            "4000000000",
        ),
    ] {
        let out = run_limited(1 << 20, args);
        let err = stderr(&out);
        assert_eq!(code(&out), Some(1), "{args:?}: {:?} {err}", out.status);
        assert!(
            err.contains("out of memory: the blob is ") && err.contains(size),
            "{args:?}: {err}"
        );
        assert!(!out_path.exists(), "{args:?} left an output");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "{args:?} left a temporary file");
    }
    // Under the same limit, free space that fits is written.
    let out = run_limited(1 << 20, &["hypervisor", "-o", o, "--space", "16777216"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&out_path).unwrap().len(), 16 << 20);
}
