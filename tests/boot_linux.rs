//! Boots a real Linux guest (Linux 6.1, e500v2, `qemu-e500` platform,
//! `CONFIG_KVM_GUEST=y`) under QEMU's ppce500 machine without KVM, on trees `ppcpv`
//! writes, and checks what the guest's `/init` reports: init reached, the CPUs and
//! memory the tree describes, serial and timer interrupts counted, the `/hypervisor`
//! node exactly as written, the guest powering off, and idle really idling.
//!
//! The kernel and initramfs are not shipped: `PPCPV_GUEST_LINUX` names their directory
//! (default `../shared/guest-linux` next to the crate; `vmlinux-6.1-e500.xz` and
//! `initramfs.cpio.gz`). Ignored by a plain `cargo test`; run with
//! `cargo test --test boot_linux -- --include-ignored`.
//!
//! Every boot is bounded (120 s), and QEMU is killed by a guard even when an assertion
//! fails; a boot ends at power-off, at `INIT DONE` for a tree without the power-off
//! node, or at a kernel panic.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const CAP: Duration = Duration::from_secs(120);
/// Host CPU ticks (1/100 s) over the guest's 3-second idle window that separate an
/// idle guest from a spinning one.
const IDLE_TICKS: u64 = 30;

/// The directory holding the guest kernel and initramfs.
fn guest_dir() -> PathBuf {
    std::env::var_os("PPCPV_GUEST_LINUX")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/guest-linux"))
}

fn initrd() -> PathBuf {
    guest_dir().join("initramfs.cpio.gz")
}

/// The kernel, decompressed once per test run into the target's temporary directory.
fn kernel(test: &str) -> PathBuf {
    static KERNEL: OnceLock<PathBuf> = OnceLock::new();
    assert!(common::interop(test, "qemu-system-ppc"));
    assert!(common::interop(test, "xz"));
    let xz = guest_dir().join("vmlinux-6.1-e500.xz");
    assert!(
        xz.is_file() && initrd().is_file(),
        "{test}: no guest kernel at {} (set PPCPV_GUEST_LINUX)",
        guest_dir().display()
    );
    KERNEL
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-linux");
            std::fs::create_dir_all(&dir).unwrap();
            // Decompressed once and kept (named by the archive's size, so another
            // kernel gets its own file): written under a private name, then renamed, so
            // a run killed halfway never leaves a truncated kernel behind.
            let len = std::fs::metadata(&xz).unwrap().len();
            let out = dir.join(format!("vmlinux-{len}"));
            if out.is_file() {
                return out;
            }
            let tmp = dir.join(format!("vmlinux.{}.tmp", std::process::id()));
            let file = std::fs::File::create(&tmp).unwrap();
            let ok = Command::new("xz")
                .arg("-dc")
                .arg(&xz)
                .stdout(file)
                .status()
                .expect("xz runs");
            assert!(ok.success(), "xz -dc {}", xz.display());
            std::fs::rename(&tmp, &out).unwrap();
            out
        })
        .clone()
}

/// Kills and reaps QEMU when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A finished boot: everything QEMU printed, and what was measured on the way.
struct Boot {
    log: String,
    /// QEMU exited by itself after the guest's `reboot: Power down`.
    powered_off: bool,
    /// Host CPU time QEMU used over the guest's 3-second idle window, in clock ticks
    /// (1/100 s on Linux).
    idle_ticks: Option<u64>,
    secs: f64,
}

/// utime + stime of a process, in clock ticks (`proc(5)`, fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Boots `dtb` with the shared kernel and initramfs on `mem`/`cpus`.
fn boot(test: &str, dtb: &Path, mem: &str, cpus: u32, power_off: bool) -> Boot {
    let kernel = kernel(test);
    let start = Instant::now();
    let mut child = Command::new("qemu-system-ppc")
        .args(["-M", "ppce500", "-cpu", "e500v2", "-m", mem])
        .args(["-smp", &cpus.to_string()])
        .args(["-nographic", "-no-reboot", "-nic", "none", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(initrd())
        .arg("-dtb")
        .arg(dtb)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-ppc starts");
    let pid = child.id();
    // Readers stamp each chunk as it arrives, and a sampler records QEMU's CPU time,
    // so the idle window is measured even when this thread is scheduled late.
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let samples = Arc::new(Mutex::new(Vec::<(Instant, u64)>::new()));
    {
        let samples = Arc::clone(&samples);
        std::thread::spawn(move || {
            while let Some(t) = cpu_ticks(pid) {
                samples.lock().unwrap().push((Instant::now(), t));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    let mut guard = Guard(child);
    let mut log = String::new();
    let (mut idle_begin, mut idle_end) = (None, None);
    let mut stop_at: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now - start > CAP || stop_at.is_some_and(|t| now > t) {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((at, chunk)) => {
                log.push_str(&String::from_utf8_lossy(&chunk));
                if idle_begin.is_none() && log.contains("=== IDLE WINDOW BEGIN") {
                    idle_begin = Some(at);
                }
                if idle_end.is_none() && log.contains("=== IDLE WINDOW END") {
                    idle_end = Some(at);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        }
        if stop_at.is_none() {
            let grace = if ["Kernel panic", "Oops:", "kernel BUG"]
                .iter()
                .any(|p| log.contains(p))
            {
                Some(Duration::from_secs(2))
            } else if log.contains("=== INIT DONE ===") {
                // With the power-off node QEMU exits by itself; without it the guest
                // stays up and is killed.
                Some(Duration::from_secs(if power_off { 20 } else { 1 }))
            } else {
                None
            };
            stop_at = grace.map(|g| Instant::now() + g);
        }
    }
    // QEMU closes its output as it exits: give it a moment to be reaped.
    let mut exited = false;
    for _ in 0..50 {
        if let Ok(Some(_)) = guard.0.try_wait() {
            exited = true;
            break;
        }
        if !log.contains("reboot: Power down") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let powered_off = exited && log.contains("reboot: Power down");
    let ticks_at = |t: Instant| {
        let s = samples.lock().unwrap();
        s.iter().rev().find(|(when, _)| *when <= t).map(|&(_, v)| v)
    };
    let idle_ticks = match (idle_begin, idle_end) {
        (Some(a), Some(b)) => match (ticks_at(a), ticks_at(b)) {
            (Some(x), Some(y)) => Some(y.saturating_sub(x)),
            _ => None,
        },
        _ => None,
    };
    Boot {
        log,
        powered_off,
        idle_ticks,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// `ppcpv gen` with the shared kernel and initramfs, the console on ttyS0 and a fixed
/// rng-seed, plus `extra`; returns the DTB's path.
fn gen_tree(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let dtb = dir.join(format!("{name}.dtb"));
    let kernel = kernel(name);
    let initrd = initrd();
    let mut args = vec![
        "gen",
        "--kernel",
        kernel.to_str().unwrap(),
        "--initrd",
        initrd.to_str().unwrap(),
        "--bootargs",
        "console=ttyS0",
        "--rng-seed",
        "0x5eed5eed5eed5eed5eed5eed5eed5eed",
        "-o",
        dtb.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::run_ok(&args);
    dtb
}

/// The lines `/init` printed (`@@ ` stripped).
fn init_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("@@ "))
        .collect()
}

/// The sum of the per-CPU counts of the first or last `/proc/interrupts` line that
/// contains `what`.
fn irq_count(lines: &[&str], what: &str, last: bool) -> u64 {
    let mut hits = lines
        .iter()
        .filter_map(|l| l.strip_prefix("/proc/interrupts|"))
        .filter(|l| l.contains(what));
    let line = if last { hits.next_back() } else { hits.next() };
    let line = line.unwrap_or_else(|| panic!("no interrupt line for {what}"));
    line.split_whitespace()
        .skip(1)
        .map_while(|w| w.parse::<u64>().ok())
        .sum()
}

/// How many CPUs `0-3`-style text names.
fn cpu_count(list: &str) -> u32 {
    list.trim()
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<u32>().unwrap() - a.parse::<u32>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

fn hex_words(bytes: &[u8]) -> String {
    bytes
        .chunks(4)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything a good boot shows, checked against the tree that was booted.
fn assert_good_boot(b: &Boot, dtb: &Path, mem_bytes: u64, cpus: u32, power_off: bool) {
    let log = &b.log;
    let tail = || log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert!(
        !log.contains("Kernel panic") && !log.contains("Oops:") && !log.contains("kernel BUG"),
        "the guest crashed:\n{}",
        tail()
    );
    let lines = init_lines(log);
    assert!(
        lines.iter().any(|l| l.starts_with("=== INIT REACHED")),
        "init not reached:\n{}",
        tail()
    );
    assert!(
        lines.contains(&"=== INIT DONE ==="),
        "init did not finish:\n{}",
        tail()
    );
    // CPUs online: as many as the tree describes.
    let online = lines
        .iter()
        .find_map(|l| l.strip_prefix("/sys/devices/system/cpu/online|"))
        .expect("cpu/online reported");
    assert_eq!(cpu_count(online), cpus, "CPUs online: {online}");
    // Memory: the kernel saw exactly the tree's RAM ("Memory: used/totalK available").
    let total = log
        .lines()
        .find_map(|l| {
            let rest = &l[l.find("Memory: ")? + 8..];
            let (_, tot) = rest.split_once('/')?;
            tot.split_once("K available")?.0.parse::<u64>().ok()
        })
        .expect("the kernel's Memory: line");
    assert_eq!(total * 1024, mem_bytes, "RAM the kernel found");
    let mem_total_kb: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("/proc/meminfo| MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("MemTotal");
    assert!(mem_total_kb * 1024 <= mem_bytes && mem_total_kb * 1024 > mem_bytes / 2);
    // Serial and timer interrupts counted, the timer still ticking over the idle sleep.
    assert!(irq_count(&lines, "ttyS0", true) > 0, "no serial interrupt");
    let (t0, t1) = (
        irq_count(
            &lines,
            "Local timer interrupts for timer event device",
            false,
        ),
        irq_count(
            &lines,
            "Local timer interrupts for timer event device",
            true,
        ),
    );
    assert!(t0 > 0 && t1 > t0, "timer interrupts {t0} -> {t1}");
    // /proc/device-tree/hypervisor: exactly what ppcpv wrote.
    let blob = std::fs::read(dtb).unwrap();
    let fdt = ppcpv::fdt::Fdt::new(&blob).unwrap();
    match fdt.find("/hypervisor") {
        None => assert!(
            lines.contains(&"/proc/device-tree/hypervisor: absent"),
            "a /hypervisor node the tree does not have"
        ),
        Some(node) => {
            let words = node.property("hcall-instructions").unwrap().value;
            let want = format!(
                "/proc/device-tree/hypervisor/hcall-instructions = < {} > ({} bytes)",
                hex_words(words),
                words.len()
            );
            assert!(lines.contains(&want.as_str()), "missing {want:?}");
            let idle = if node.property("has-idle").is_some() {
                "has-idle: present"
            } else {
                "has-idle: absent"
            };
            assert!(lines.contains(&idle), "missing {idle:?}");
        }
    }
    // Idle idles: QEMU used a few ticks of host CPU over the 3-second sleep (1-3
    // measured); a spinning idle loop burns all it can get, up to 300 (67 measured on a
    // loaded 2-core machine). IDLE_TICKS separates the two.
    let ticks = b.idle_ticks.expect("idle window measured");
    eprintln!("{ticks} ticks of host CPU over the idle window");
    assert!(
        ticks < IDLE_TICKS,
        "{ticks} ticks of host CPU over the 3 s idle window"
    );
    assert_eq!(b.powered_off, power_off, "power-off:\n{}", tail());
}

/// The README's Linux command line: `gen` with the kernel and initrd, defaults
/// otherwise (host tcg, so no /hypervisor node; no power-off node, so QEMU is killed
/// after INIT DONE). Also: the plain `ppcpv gen` tree boots the kernel through every
/// initcall (`kvm_guest_init` included) to "No working init found" when QEMU is given
/// no initrd.
#[test]
#[ignore = "needs qemu-system-ppc, the guest kernel"]
fn gen_defaults_boot_linux() {
    let test = "gen_defaults_boot_linux";
    let dir = tempfile::tempdir().unwrap();
    let dtb = gen_tree(dir.path(), test, &[]);
    let b = boot(test, &dtb, "128M", 1, false);
    eprintln!("{test}: {:.1} s", b.secs);
    assert_good_boot(&b, &dtb, 128 << 20, 1, false);

    let plain = dir.path().join("plain.dtb");
    common::run_ok(&["gen", "-o", plain.to_str().unwrap()]);
    let kernel = kernel(test);
    let start = Instant::now();
    let child = Command::new("qemu-system-ppc")
        .args(["-M", "ppce500", "-m", "128M", "-nographic", "-no-reboot"])
        .args(["-nic", "none", "-kernel"])
        .arg(&kernel)
        .arg("-dtb")
        .arg(&plain)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu-system-ppc starts");
    let mut guard = Guard(child);
    let mut out = guard.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    while start.elapsed() < CAP && !log.contains("No working init found") {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    drop(guard);
    assert!(log.contains("No working init found"), "{log}");
    assert!(
        !log.contains("kernel BUG") && !log.contains("Oops:"),
        "{log}"
    );
}

/// 1, 2 and 4 CPUs with several memory sizes, each with the power-off node: every CPU
/// online, the RAM the tree gives, and the guest powers off.
#[test]
#[ignore = "needs qemu-system-ppc, the guest kernel"]
fn smp_and_memory_sizes_boot_and_power_off() {
    let test = "smp_and_memory_sizes_boot_and_power_off";
    let dir = tempfile::tempdir().unwrap();
    for (cpus, mem, bytes) in [
        (1u32, "256M", 256u64 << 20),
        (2, "512M", 512 << 20),
        (4, "192M", 192 << 20),
    ] {
        let name = format!("smp{cpus}-{mem}");
        let dtb = gen_tree(
            dir.path(),
            &name,
            &[
                "--cpus",
                &cpus.to_string(),
                "--mem",
                mem,
                "--power-off-gpio",
            ],
        );
        let b = boot(test, &dtb, mem, cpus, true);
        eprintln!("{name}: {:.1} s", b.secs);
        assert_good_boot(&b, &dtb, bytes, cpus, true);
    }
}

/// A `/hypervisor` node under TCG is only safe with words that fail every call and no
/// has-idle: that is what `gen --flavour kvm|epapr` writes for host tcg. The guest boots
/// with either flavour, sees the node as written, and idles.
#[test]
#[ignore = "needs qemu-system-ppc, the guest kernel"]
fn hypervisor_nodes_with_failing_words_boot_under_tcg() {
    let test = "hypervisor_nodes_with_failing_words_boot_under_tcg";
    let dir = tempfile::tempdir().unwrap();
    for flavour in ["kvm", "epapr"] {
        let dtb = gen_tree(
            dir.path(),
            flavour,
            &["--flavour", flavour, "--cpus", "2", "--power-off-gpio"],
        );
        let b = boot(test, &dtb, "128M", 2, true);
        eprintln!("{test} {flavour}: {:.1} s", b.secs);
        assert_good_boot(&b, &dtb, 128 << 20, 2, true);
    }
}

/// QEMU's own tree for the same command line (`-machine dumpdtb=`), given a
/// `/hypervisor` node by `ppcpv patch --host tcg` (words that fail every call, no has-idle),
/// boots; the power-off node QEMU writes works.
#[test]
#[ignore = "needs qemu-system-ppc, the guest kernel"]
fn patched_qemu_tree_boots() {
    let test = "patched_qemu_tree_boots";
    let kernel = kernel(test);
    let dir = tempfile::tempdir().unwrap();
    let qemu_dtb = dir.path().join("qemu.dtb");
    let out = Command::new("qemu-system-ppc")
        .args(["-M", "ppce500", "-cpu", "e500v2", "-m", "128M", "-smp", "2"])
        .args(["-nographic", "-nic", "none", "-kernel"])
        .arg(&kernel)
        .arg("-initrd")
        .arg(initrd())
        .args(["-append", "console=ttyS0", "-machine"])
        .arg(format!("dumpdtb={}", qemu_dtb.display()))
        .output()
        .expect("qemu-system-ppc runs");
    assert!(out.status.success(), "dumpdtb: {out:?}");
    let patched = dir.path().join("patched.dtb");
    common::run_ok(&[
        "patch",
        qemu_dtb.to_str().unwrap(),
        "-o",
        patched.to_str().unwrap(),
        "--host",
        "tcg",
    ]);
    let b = boot(test, &patched, "128M", 2, true);
    eprintln!("{test}: {:.1} s", b.secs);
    assert_good_boot(&b, &patched, 128 << 20, 2, true);
    // ppcpv's own tree for the same command line puts the initrd where QEMU does.
    let ours = gen_tree(dir.path(), "ours", &["--cpus", "2"]);
    for name in ["linux,initrd-start", "linux,initrd-end", "bootargs"] {
        let get = |p: &Path| {
            let blob = std::fs::read(p).unwrap();
            let fdt = ppcpv::fdt::Fdt::new(&blob).unwrap();
            fdt.find("/chosen")
                .and_then(|c| c.property(name).map(|p| p.value.to_vec()))
        };
        assert_eq!(get(&ours), get(&qemu_dtb), "/chosen/{name}");
    }
}

/// The trees `gen` refuses really crash the guest: forced out, the KVM-PR words panic
/// it under TCG (the `sc` is a system call from kernel mode) and QEMU's current
/// fallback oopses on e500v2 (`tdi` is a 64-bit instruction).
#[test]
#[ignore = "needs qemu-system-ppc, the guest kernel"]
fn refused_trees_crash_the_guest() {
    let test = "refused_trees_crash_the_guest";
    let dir = tempfile::tempdir().unwrap();
    for (name, args, want) in [
        (
            "kvm-pr",
            &["--hcall", "kvm-pr", "--force"][..],
            "kernel BUG at arch/powerpc/kernel/syscall.c",
        ),
        (
            "qemu-fallback",
            &["--hcall", "qemu-fallback", "--force"],
            "Oops: Exception in kernel mode, sig: 4",
        ),
    ] {
        let refused = common::run(&["gen", "-o", "-", args[0], args[1]]);
        assert_eq!(refused.status.code(), Some(2), "{name} not refused");
        let dtb = gen_tree(dir.path(), name, args);
        let b = boot(test, &dtb, "128M", 1, false);
        eprintln!("{name}: {:.1} s", b.secs);
        assert!(b.log.contains(want), "{name}: no {want:?}:\n{}", b.log);
        assert!(!b.log.contains("=== INIT REACHED"), "{name}: init reached");
    }
    // has-idle with words that can only fail: the guest boots, but its idle loop
    // spins (the issue measured a whole host CPU over the 3-second window).
    let mut args = vec!["--hcall", "qemu-fallback-old", "--has-idle"];
    let refused = common::run(&[&["gen", "-o", "-"][..], &args].concat());
    assert_eq!(refused.status.code(), Some(2), "idle spin not refused");
    args.extend(["--force", "--power-off-gpio"]);
    let dtb = gen_tree(dir.path(), "idle-spin", &args);
    let b = boot(test, &dtb, "128M", 1, true);
    let ticks = b.idle_ticks.expect("idle window measured");
    eprintln!(
        "idle-spin: {:.1} s, {ticks} ticks over the idle window",
        b.secs
    );
    assert!(b.log.contains("=== INIT DONE ==="), "{}", b.log);
    assert!(ticks >= IDLE_TICKS, "{ticks} ticks: idle did not spin");
}
