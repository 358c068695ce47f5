//! Boots QEMU's ppce500 machine with Debian's U-Boot (`u-boot-qemu`, the
//! `qemu-ppce500` build) and a DTB from `ppcpv gen`, for two memory sizes and CPU
//! counts, and checks U-Boot's own view of it: the `DRAM:` size it reports (read from
//! the DTB's `/memory` by `board/emulation/qemu-ppce500/qemu-ppce500.c`,
//! `get_linear_ram_size`), the `/hypervisor` node and the CPU nodes as its `fdt`
//! command prints them.
//!
//! Ignored by a plain `cargo test` (needs `qemu-system-ppc` and the U-Boot file); CI runs
//! it with `-- --include-ignored`.
//! Every wait is bounded, and QEMU is killed by a guard even when an assertion fails.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Where Debian's `u-boot-qemu` installs the ppce500 build.
const UBOOT: &str = "/usr/lib/u-boot/qemu-ppce500/uboot.elf";

/// Kills and reaps QEMU when dropped.
struct Qemu {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Vec<u8>>,
    seen: String,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Qemu {
    fn boot(dtb: &Path, mem: &str, cpus: u32) -> Qemu {
        let mut child = Command::new("qemu-system-ppc")
            .args(["-M", "ppce500", "-m", mem, "-smp", &cpus.to_string()])
            // No NIC: its option ROM (efi-virtio.rom, package ipxe-qemu) is not needed.
            .args(["-nic", "none", "-nographic", "-bios", UBOOT, "-dtb"])
            .arg(dtb)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qemu-system-ppc starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        Qemu {
            child,
            stdin,
            rx,
            seen: String::new(),
        }
    }

    /// Reads output until `pattern` appears after byte `from` of everything seen;
    /// returns the position just after it. Panics with the transcript on timeout.
    fn wait_for(&mut self, pattern: &str, from: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.seen.get(from..).and_then(|s| s.find(pattern)) {
                return from + i + pattern.len();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out after {timeout:?} waiting for {pattern:?}; QEMU printed:\n{}",
                self.seen
            );
            if let Ok(chunk) = self.rx.recv_timeout(left.min(Duration::from_millis(200))) {
                self.seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).expect("type");
        self.stdin.write_all(b"\n").expect("type");
        self.stdin.flush().expect("type");
    }
}

fn boot_and_check(dir: &Path, mem: &str, dram: &str, cpus: u32) {
    let dtb = dir.join(format!("guest-{mem}-{cpus}.dtb"));
    let dtb_arg = dtb.to_str().expect("utf-8 path");
    // A KVM tree (e500v2 host): U-Boot never makes a hypercall, so it boots under TCG
    // too and shows the node as written.
    common::run_ok(&[
        "gen",
        "--host",
        "e500v2",
        "--mem",
        mem,
        "--cpus",
        &cpus.to_string(),
        "-o",
        dtb_arg,
    ]);
    let shown = boot_and_show(&dtb, mem, dram, cpus);
    assert!(shown.contains("compatible = \"linux,kvm\";"), "{shown}");
    assert!(
        shown.contains("hcall-instructions = <0x3c004b56 0x60004d21 0x44000002 0x60000000>;"),
        "{shown}"
    );
    assert!(shown.contains("has-idle;"), "{shown}");
}

/// Boots `dtb`, checks the DRAM size and the CPU nodes U-Boot sees, and returns what
/// `fdt print /hypervisor` printed.
fn boot_and_show(dtb: &Path, mem: &str, dram: &str, cpus: u32) -> String {
    let mut q = Qemu::boot(dtb, mem, cpus);
    // Stop the autoboot countdown, then wait for the prompt before typing a command.
    let at = q.wait_for("Hit any key to stop autoboot", 0, Duration::from_secs(60));
    q.type_line("");
    let at = q.wait_for("=>", at, Duration::from_secs(20));
    let banner = q.seen.clone();
    let dram_line = banner
        .lines()
        .find(|l| l.starts_with("DRAM:"))
        .unwrap_or_else(|| panic!("no DRAM: line in\n{banner}"));
    assert_eq!(dram_line.trim(), format!("DRAM:  {dram}"), "{banner}");

    q.type_line("fdt addr $fdtcontroladdr; fdt print /hypervisor; fdt list /cpus");
    let start = q.wait_for("hypervisor {", at, Duration::from_secs(20));
    let end = q.wait_for("=>", start, Duration::from_secs(20));
    let shown = q.seen.get(start..end).unwrap_or_default().to_string();
    for i in 0..cpus {
        assert!(shown.contains(&format!("PowerPC,8544@{i} {{")), "{shown}");
    }
    assert!(
        !shown.contains(&format!("PowerPC,8544@{cpus} {{")),
        "{shown}"
    );
    shown
}

#[test]
#[ignore = "needs qemu-system-ppc"]
fn uboot_boots_generated_ppce500_trees() {
    if !common::interop("uboot_boots_generated_ppce500_trees", "qemu-system-ppc") {
        return;
    }
    assert!(
        Path::new(UBOOT).is_file(),
        "{UBOOT} is missing (Debian package u-boot-qemu)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    boot_and_check(dir.path(), "128M", "128 MiB", 1);
    boot_and_check(dir.path(), "512M", "512 MiB", 2);
}

/// QEMU's own ppce500 tree (the corpus dump, packed by dtc: U-Boot cannot map the
/// 1 MiB original) patched with a BookE-HV node boots, and U-Boot sees the node.
#[test]
#[ignore = "needs qemu-system-ppc, dtc, the corpus (PPCPV_CORPUS)"]
fn uboot_boots_a_patched_qemu_tree() {
    if !common::interop("uboot_boots_a_patched_qemu_tree", "qemu-system-ppc")
        || !common::interop("uboot_boots_a_patched_qemu_tree", "dtc")
    {
        return;
    }
    let Some(corpus) = common::corpus("uboot_boots_a_patched_qemu_tree") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let packed = dir.path().join("qemu-ppce500.dtb");
    let out = Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dtb", "-o"])
        .arg(&packed)
        .arg(corpus.join("dtb/qemu-ppce500.dtb"))
        .output()
        .expect("dtc runs");
    assert!(out.status.success(), "{out:?}");
    let p = packed.to_str().expect("utf-8 path");
    common::run_ok(&["patch", p, "-o", p, "--hcall", "booke-hv", "--has-idle"]);
    let shown = boot_and_show(&packed, "128M", "128 MiB", 1);
    assert!(
        shown.contains("hcall-instructions = <0x44000022 0x60000000 0x60000000 0x60000000>;"),
        "{shown}"
    );
    assert!(shown.contains("has-idle;"), "{shown}");
}
