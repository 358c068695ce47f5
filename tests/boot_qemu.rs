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
    /// Boots with `-cpu cpu`: the 64-bit cores need qemu-system-ppc64.
    fn boot_cpu(dtb: &Path, mem: &str, cpus: u32, cpu: &str) -> Qemu {
        let mut child = Command::new(qemu_for(cpu))
            .args(["-M", "ppce500", "-cpu", cpu, "-m", mem])
            .args(["-smp", &cpus.to_string()])
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

/// The QEMU binary that has `cpu`.
fn qemu_for(cpu: &str) -> &'static str {
    if matches!(cpu, "e5500" | "e6500") {
        "qemu-system-ppc64"
    } else {
        "qemu-system-ppc"
    }
}

/// Boots `dtb`, checks the DRAM size and the CPU nodes U-Boot sees, and returns what
/// `fdt print /hypervisor` printed.
fn boot_and_show(dtb: &Path, mem: &str, dram: &str, cpus: u32) -> String {
    boot_and_show_cpu(dtb, mem, dram, cpus, "e500v2")
}

fn boot_and_show_cpu(dtb: &Path, mem: &str, dram: &str, cpus: u32, cpu: &str) -> String {
    let mut q = Qemu::boot_cpu(dtb, mem, cpus, cpu);
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

/// The 64-bit BookE cores: `gen --host booke-hv --cpu e5500|e6500` boots U-Boot under
/// qemu-system-ppc64, which sees the BookE-HV node.
#[test]
#[ignore = "needs qemu-system-ppc64"]
fn uboot_boots_64bit_booke_trees() {
    let test = "uboot_boots_64bit_booke_trees";
    if !common::interop(test, "qemu-system-ppc64") {
        return;
    }
    assert!(Path::new(UBOOT).is_file(), "{UBOOT} is missing");
    let dir = tempfile::tempdir().expect("tempdir");
    for cpu in ["e5500", "e6500"] {
        let dtb = dir.path().join(format!("{cpu}.dtb"));
        common::run_ok(&[
            "gen",
            "--host",
            "booke-hv",
            "--cpu",
            cpu,
            "--cpus",
            "2",
            "--mem",
            "256M",
            "-o",
            dtb.to_str().unwrap(),
        ]);
        let shown = boot_and_show_cpu(&dtb, "256M", "256 MiB", 2, cpu);
        assert!(
            shown.contains("hcall-instructions = <0x44000022 0x60000000 0x60000000 0x60000000>;"),
            "{cpu}: {shown}"
        );
    }
}

/// Every node and property of a tree, by path, properties sorted by name.
type Tree = std::collections::BTreeMap<String, Vec<(String, Vec<u8>)>>;

fn tree(blob: &[u8]) -> Tree {
    fn walk(node: ppcpv::fdt::Node<'_>, path: &str, out: &mut Tree) {
        let mut props: Vec<(String, Vec<u8>)> = node
            .properties()
            .map(|p| (p.name.to_string(), p.value.to_vec()))
            .collect();
        props.sort();
        out.insert(path.to_string(), props);
        for child in node.children() {
            let sub = format!("{}/{}", path.trim_end_matches('/'), child.name());
            walk(child, &sub, out);
        }
    }
    let fdt = ppcpv::fdt::Fdt::new(blob).unwrap();
    let mut out = Tree::new();
    walk(fdt.root(), "/", &mut out);
    out
}

/// QEMU's tree with exactly the differences the README lists undone, in ppcpv's terms:
/// `/memory` named `/memory@0`, one `phandle` per node numbered as ppcpv numbers them,
/// the `rtc` alias as a full path, no empty `bootargs`, no random `rng-seed`.
fn qemu_as_ppcpv(mut qemu: Tree, ours: &Tree) -> Tree {
    if let Some(m) = qemu.remove("/memory") {
        qemu.insert("/memory@0".into(), m);
    }
    // Phandle renumbering, by the path of the node that carries it.
    let phandle_of = |t: &Tree, path: &str| {
        t.get(path)?
            .iter()
            .find(|(n, _)| n == "phandle")
            .map(|(_, v)| v.clone())
    };
    let map: Vec<(Vec<u8>, Vec<u8>)> = qemu
        .keys()
        .filter_map(|p| Some((phandle_of(&qemu, p)?, phandle_of(ours, p)?)))
        .collect();
    let remap = |cell: &[u8]| {
        map.iter()
            .find(|(q, _)| q == cell)
            .map_or(cell.to_vec(), |(_, o)| o.clone())
    };
    for (path, props) in &mut qemu {
        props.retain(|(n, _)| n != "linux,phandle");
        props.retain(|(n, v)| {
            !(path == "/chosen" && (n == "rng-seed" || (n == "bootargs" && v == b"\0")))
        });
        for (name, value) in props.iter_mut() {
            let phandle_cells: Vec<usize> = match name.as_str() {
                "interrupt-parent" | "fsl,msi" | "phandle" | "gpios" => vec![0],
                "interrupt-map" => (4..value.len() / 4).step_by(7).collect(),
                _ => vec![],
            };
            for c in phandle_cells {
                let new = remap(&value[c * 4..c * 4 + 4]);
                value[c * 4..c * 4 + 4].copy_from_slice(&new);
            }
            if path == "/aliases" && name == "rtc" {
                *value = b"/soc@fe0000000/i2c@3000/rtc@68\0".to_vec();
            }
        }
    }
    qemu
}

/// For every `-cpu` of the ppce500 machine, `gen` (same RAM, CPUs and power-off node,
/// no seed) writes QEMU's own tree (`-machine dumpdtb=`) up to the differences the
/// README lists.
#[test]
#[ignore = "needs qemu-system-ppc, qemu-system-ppc64"]
fn generated_trees_equal_qemus_up_to_the_listed_differences() {
    let test = "generated_trees_equal_qemus_up_to_the_listed_differences";
    if !common::interop(test, "qemu-system-ppc") || !common::interop(test, "qemu-system-ppc64") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for cpu in ["e500v2", "e500mc", "e5500", "e6500"] {
        let qemu = dir.path().join(format!("qemu-{cpu}.dtb"));
        let out = Command::new(qemu_for(cpu))
            .args(["-M", "ppce500", "-cpu", cpu, "-m", "256M", "-smp", "2"])
            .args(["-nographic", "-nic", "none", "-bios", UBOOT, "-machine"])
            .arg(format!("dumpdtb={}", qemu.display()))
            .output()
            .expect("qemu runs");
        assert!(out.status.success(), "{cpu}: {out:?}");
        let ours = dir.path().join(format!("ours-{cpu}.dtb"));
        common::run_ok(&[
            "gen",
            "--cpu",
            cpu,
            "--cpus",
            "2",
            "--mem",
            "256M",
            "--power-off-gpio",
            "--no-rng-seed",
            "-o",
            ours.to_str().unwrap(),
        ]);
        let mut ours = tree(&std::fs::read(&ours).unwrap());
        // The one addition: i2c cells, so rtc@68's reg reads right.
        if let Some(i2c) = ours.get_mut("/soc@fe0000000/i2c@3000") {
            i2c.retain(|(n, _)| n != "#address-cells" && n != "#size-cells");
        }
        let qemu = qemu_as_ppcpv(tree(&std::fs::read(&qemu).unwrap()), &ours);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            qemu.keys().collect::<Vec<_>>(),
            "{cpu}: nodes"
        );
        for (path, props) in &ours {
            assert_eq!(Some(props), qemu.get(path), "{cpu}: {path}");
        }
    }
}
