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

/// The terminal control sequences of the hostile tree below, raw.
const RETITLE: &str = "\x1b]0;PWNED\x07\x1b[31mRED";

/// A tree whose text is terminal control sequences: the root `model` retitles the
/// terminal and turns it red, `compatible` clears the screen, a CPU node is called
/// `ESC[2Jx`, a property `ESC[31m`, and `/hypervisor` has a compatible that retitles.
fn hostile_dtb() -> Vec<u8> {
    hostile_dtb_with(b"v\0")
}

/// [`hostile_dtb`] with `value` for the property called `ESC[31m`.
fn hostile_dtb_with(value: &[u8]) -> Vec<u8> {
    let mut w = FdtBuilder::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 0).unwrap();
    w.property_string("model", RETITLE).unwrap();
    w.property("compatible", b"evil\x1b[2J\0").unwrap();
    w.property("zzzzz", value).unwrap();
    let cpus = w.begin_node("cpus").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 0).unwrap();
    let cpu = w.begin_node("cpu@0").unwrap();
    w.property_string("device_type", "cpu").unwrap();
    w.property_u32("reg", 0).unwrap();
    w.end_node(cpu).unwrap();
    w.end_node(cpus).unwrap();
    let hv = w.begin_node("hypervisor").unwrap();
    w.property("compatible", b"linux,kvm\0\x1b]0;HV\x07\0")
        .unwrap();
    w.end_node(hv).unwrap();
    w.end_node(root).unwrap();
    let mut blob = w.finish(&Padding::NONE).unwrap();
    // Names the writer refuses, put in place by hand (same lengths).
    for (from, to) in [
        (&b"cpu@0\0"[..], &b"\x1b[2Jx\0"[..]),
        (&b"zzzzz\0"[..], &b"\x1b[31m\0"[..]),
    ] {
        let at = blob
            .windows(from.len())
            .position(|w| w == from)
            .expect("name in blob");
        blob[at..at + to.len()].copy_from_slice(to);
    }
    ppcpv::fdt::Fdt::new(&blob).expect("the hostile tree reads");
    blob
}

fn has_controls(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == 0x1b || b == 0x07)
}

/// `inspect` printed the model, compatible, CPU paths and hypervisor compatibles raw:
/// the terminal was retitled and turned red. Now every string from the input is
/// escaped in the text output (whether or not it goes to a terminal: it is text for a
/// person), and `--json` keeps the exact strings.
#[test]
fn inspect_escapes_everything_from_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = dir.path().join("hostile.dtb");
    std::fs::write(&dtb, hostile_dtb()).unwrap();
    let out = common::run(&["inspect", s(&dtb)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        !has_controls(&out.stdout),
        "raw control bytes reached stdout"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for shown in [
        "model:        \\x1b]0;PWNED\\x07\\x1b[31mRED",
        "compatible:   evil\\x1b[2J",
        "/cpus/\\x1b[2Jx reg <0x0>",
        "compatible: linux,kvm, \\x1b]0;HV\\x07",
    ] {
        assert!(text.contains(shown), "missing {shown:?} in\n{text}");
    }
    let json = common::run_ok(&["inspect", "--json", s(&dtb)]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["model"], RETITLE, "{json}");
}

/// A minimal 32-bit big-endian PowerPC ELF whose one executable section is called
/// `name` (bytes, as a hostile file may have them) and holds `code`.
fn elf_with_section(name: &[u8], code: &[u8]) -> Vec<u8> {
    let mut shstr = vec![0u8];
    shstr.extend_from_slice(name);
    shstr.push(0);
    let shstrtab_name = shstr.len() as u32;
    shstr.extend_from_slice(b".shstrtab\0");
    let mut out = vec![0u8; 52];
    let text_off = out.len() as u32;
    out.extend_from_slice(code);
    let shstr_off = out.len() as u32;
    out.extend_from_slice(&shstr);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    let shoff = out.len() as u32;
    let section = |out: &mut Vec<u8>, words: [u32; 10]| {
        for w in words {
            out.extend(w.to_be_bytes());
        }
    };
    section(&mut out, [0; 10]);
    // name, SHT_PROGBITS, SHF_ALLOC|SHF_EXECINSTR, addr, offset, size, link, info,
    // addralign, entsize
    section(
        &mut out,
        [
            1,
            1,
            6,
            0xc000_0000,
            text_off,
            code.len() as u32,
            0,
            0,
            4,
            0,
        ],
    );
    section(
        &mut out,
        [
            shstrtab_name,
            3,
            0,
            0,
            shstr_off,
            shstr.len() as u32,
            0,
            0,
            1,
            0,
        ],
    );
    let mut hdr = vec![0x7f, b'E', b'L', b'F', 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    hdr.extend(2u16.to_be_bytes()); // ET_EXEC
    hdr.extend(20u16.to_be_bytes()); // EM_PPC
    hdr.extend(1u32.to_be_bytes());
    hdr.extend(0xc000_0000u32.to_be_bytes()); // entry
    hdr.extend(0u32.to_be_bytes()); // phoff
    hdr.extend(shoff.to_be_bytes());
    hdr.extend(0u32.to_be_bytes()); // flags
    for v in [52u16, 32, 0, 40, 3, 2] {
        hdr.extend(v.to_be_bytes());
    }
    out[..52].copy_from_slice(&hdr);
    out
}

/// `paravirt scan` printed ELF section names raw. Now they are escaped in the text
/// output and exact in `--json`.
#[test]
fn paravirt_scan_escapes_section_names() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("vmlinux");
    // mfmsr r3; a word Linux patches.
    std::fs::write(
        &elf,
        elf_with_section(b".t\x1b]0;X\x07", &[0x7c, 0x60, 0x00, 0xa6]),
    )
    .unwrap();
    let out = common::run(&["paravirt", "scan", s(&elf)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        !has_controls(&out.stdout),
        "raw control bytes reached stdout"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("region: .t\\x1b]0;X\\x07"), "{text}");
    let json = common::run_ok(&["paravirt", "scan", "--json", s(&elf)]);
    assert!(json.contains(r#"".t\u001b]0;X\u0007""#), "{json}");
}

/// `dump`, `get` and `diff` into a pipe or file print names as their bytes (what dtc
/// and fdtget print, so scripts and diffs see the truth); node and property names are
/// escaped only when the output is a terminal (see the pty test below).
#[test]
fn dump_and_get_keep_exact_bytes_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = dir.path().join("hostile.dtb");
    std::fs::write(&dtb, hostile_dtb()).unwrap();
    let out = common::run(&["dump", s(&dtb)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\t\t\x1b[2Jx {\n"), "{text}");
    assert!(text.contains("\t\x1b[31m = \"v\";\n"), "{text}");
    let out = common::run_ok(&["get", "-p", s(&dtb), "/"]);
    assert!(out.contains("\x1b[31m\n"), "{out}");
    let out = common::run_ok(&["get", "-t", "s", s(&dtb), "/", "model"]);
    assert_eq!(out, format!("{RETITLE}\n"));
    let other = dir.path().join("other.dtb");
    std::fs::write(&other, hostile_dtb_with(b"w\0")).unwrap();
    let out = common::run(&["diff", s(&dtb), s(&other)]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\x1b[31m"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Runs `ppcpv ARGS` with its stdout and stderr on a pseudo-terminal (`script`) and
/// returns its exit code and what the terminal received.
fn on_a_terminal(args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let mut cmd = String::from(env!("CARGO_BIN_EXE_ppcpv"));
    for a in args {
        assert!(!a.contains('\''), "{a}");
        cmd.push_str(&format!(" '{a}'"));
    }
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    (out.status.code(), out.stdout)
}

/// On a terminal, `dump`, `get`, `diff` and the warnings about the tree's names escape every
/// name and string from the input: nothing the input holds reaches the terminal raw.
#[test]
#[ignore = "needs script (util-linux) for a pseudo-terminal"]
fn on_a_terminal_nothing_from_the_input_is_raw() {
    common::interop("on_a_terminal_nothing_from_the_input_is_raw", "script");
    let dir = tempfile::tempdir().unwrap();
    let dtb = dir.path().join("hostile.dtb");
    std::fs::write(&dtb, hostile_dtb()).unwrap();
    let d = s(&dtb);
    let other = dir.path().join("other.dtb");
    std::fs::write(&other, hostile_dtb_with(b"w\0")).unwrap();
    let o = s(&other);
    for (args, shown) in [
        (&["dump", d][..], "\\x1b[2Jx {"),
        (&["dump", d][..], "\\x1b[31m = \"v\";"),
        (&["get", "-p", d, "/"][..], "\\x1b[31m"),
        (&["get", "-l", d, "/cpus"][..], "\\x1b[2Jx"),
        (
            &["get", "-t", "s", d, "/", "model"][..],
            "\\x1b]0;PWNED\\x07\\x1b[31mRED",
        ),
        (
            &["get", "-t", "r", d, "/", "compatible"][..],
            "evil\\x1b[2J\\x00",
        ),
        (&["inspect", d][..], "\\x1b]0;PWNED\\x07"),
        (&["diff", d, o][..], "\\x1b[31m"),
    ] {
        let (status, got) = on_a_terminal(args);
        let want = if args[0] == "diff" { 1 } else { 0 };
        assert_eq!(
            status,
            Some(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&got)
        );
        assert!(
            !has_controls(&got),
            "{args:?}: raw control bytes on the terminal"
        );
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.contains(shown),
            "{args:?}: missing {shown:?} in\n{text}"
        );
    }
}

/// An output that does not fit the filesystem: the error names the target and leaves
/// neither a temporary file nor a changed target behind (the old target stays whole).
/// (On disk filesystems the blocks are reserved before the first byte is written, so the
/// error comes from the reservation; on this tmpfs, from the write.)
#[test]
#[ignore = "needs root: mounts a tmpfs"]
fn an_output_larger_than_the_free_space_is_refused_before_writing() {
    let fs = Tmpfs::mount("an_output_larger_than_the_free_space", "256k");
    let out_path = fs.path("big.dtb");
    std::fs::write(&out_path, b"old bytes").unwrap();
    // 512 KiB of free space in the blob: twice the filesystem.
    let out = common::run(&["hypervisor", "-o", s(&out_path), "--space", "524288"]);
    assert_eq!(code(&out), Some(1), "{:?} {}", out.status, stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&out_path.display().to_string()), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(std::fs::read(&out_path).unwrap(), b"old bytes");
    let left: Vec<_> = std::fs::read_dir(fs.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("big.dtb")], "{left:?}");
    // A blob that fits is written.
    let out = common::run(&["hypervisor", "-o", s(&out_path), "--space", "4096"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&out_path).unwrap().len(), 4096);
}
