//! `ppcpv gen` end to end: defaults, options, errors, and dtc's verdict on every
//! profile (decompile and recompile with zero warnings, identical bytes back).

mod common;

use std::path::Path;
use std::process::Command;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// A fixed seed, for byte comparisons (the default seed is random per run).
const SEED: &str = "0x000102030405060708090a0b0c0d0e0f";

fn gen_out(args: &[&str]) -> Vec<u8> {
    let out = common::run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn prop(dtb: &[u8], path: &str, name: &str) -> Option<Vec<u8>> {
    let fdt = ppcpv::fdt::Fdt::new(dtb).unwrap();
    let node = fdt.find(path)?;
    node.property(name).map(|p| p.value.to_vec())
}

#[test]
fn no_options_writes_guest_dtb() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::ppcpv()
        .arg("gen")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dtb = std::fs::read(dir.path().join("guest.dtb")).unwrap();
    assert_eq!(be32(&dtb, 0), 0xd00d_feed);
    assert_eq!(be32(&dtb, 4) as usize, dtb.len());
    // Default host tcg: no /hypervisor node (QEMU writes none without KVM), and a
    // 32-byte random rng-seed.
    let fdt = ppcpv::fdt::Fdt::new(&dtb).unwrap();
    assert!(fdt.find("/hypervisor").is_none());
    assert_eq!(prop(&dtb, "/chosen", "rng-seed").unwrap().len(), 32);
    // The same bytes as asking for the defaults explicitly, seed fixed.
    let implicit = gen_out(&["gen", "--rng-seed", SEED, "-o", "-"]);
    let explicit = gen_out(&[
        "gen",
        "--machine",
        "ppce500",
        "--host",
        "tcg",
        "--cpu",
        "e500v2",
        "--mem",
        "128M",
        "--cpus",
        "1",
        "--rng-seed",
        SEED,
        "-o",
        "-",
    ]);
    assert!(implicit == explicit);
}

#[test]
fn output_is_deterministic_and_options_change_it() {
    let a = gen_out(&["gen", "--rng-seed", SEED, "-o", "-"]);
    let b = gen_out(&["gen", "--rng-seed", SEED, "-o", "-"]);
    assert!(a == b, "same options, different bytes");
    // The default seed is random: two runs differ exactly there.
    let r1 = gen_out(&["gen", "-o", "-"]);
    let r2 = gen_out(&["gen", "-o", "-"]);
    assert_ne!(
        prop(&r1, "/chosen", "rng-seed"),
        prop(&r2, "/chosen", "rng-seed")
    );
    assert_eq!(r1.len(), a.len() + 16, "32 random bytes against 16 given");
    let none = gen_out(&["gen", "--no-rng-seed", "-o", "-"]);
    assert_eq!(prop(&none, "/chosen", "rng-seed"), None);
    let padded = gen_out(&["gen", "--no-rng-seed", "--pad", "4096", "-o", "-"]);
    assert_eq!(padded.len(), none.len() + 4096);
    let rsv = gen_out(&["gen", "--memreserve", "0x7f00000,1M", "-o", "-"]);
    // Header word 4 is off_mem_rsvmap; the first entry starts there.
    let off = be32(&rsv, 16) as usize;
    assert_eq!(
        &rsv[off..off + 16],
        &[0, 0, 0, 0, 0x07, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]
    );
}

fn words(dtb: &[u8]) -> Option<Vec<u32>> {
    prop(dtb, "/hypervisor", "hcall-instructions")
        .map(|v| v.chunks(4).map(|c| be32(c, 0)).collect())
}

#[test]
fn each_host_gets_the_words_it_traps() {
    let pr = [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000];
    let hv = [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000];
    for (args, want, idle) in [
        (&["--host", "e500v2"][..], Some(pr.to_vec()), true),
        (
            &["--host", "booke-hv", "--cpu", "e500mc"],
            Some(hv.to_vec()),
            true,
        ),
        (
            &["--host", "booke-hv", "--cpu", "e6500"],
            Some(hv.to_vec()),
            true,
        ),
        (
            &["--machine", "pseries", "--host", "book3s-pr"],
            Some(pr.to_vec()),
            false,
        ),
        (&["--host", "tcg"], None, false),
        // A node asked for under tcg: words that fail every call, legal on e500v2.
        (
            &["--host", "tcg", "--flavour", "kvm"],
            Some(vec![0x3860_ffff, 0x6000_0000, 0x6000_0000, 0x6000_0000]),
            false,
        ),
        (&["--host", "e500v2", "--no-hypervisor"], None, false),
    ] {
        let mut all = vec!["gen", "--no-rng-seed", "-o", "-"];
        all.extend_from_slice(args);
        let dtb = gen_out(&all);
        assert_eq!(words(&dtb), want, "{args:?}");
        assert_eq!(
            prop(&dtb, "/hypervisor", "has-idle").is_some(),
            idle,
            "{args:?}"
        );
    }
}

/// What crashes or stalls a guest is refused with the reason, and written with --force.
#[test]
fn wrong_trees_are_refused_unless_forced() {
    for (args, reason) in [
        (&["--hcall", "kvm-pr"][..], "system call from kernel mode"),
        (&["--hcall", "booke-hv"], "no hypercall without KVM"),
        (&["--flavour", "kvm", "--has-idle"], "idle loop spins"),
        (
            &["--hcall", "qemu-fallback"],
            "64-bit instruction, illegal on the 32-bit e500v2",
        ),
        (
            &["--host", "e500v2", "--hcall", "qemu-fallback"],
            "64-bit instruction",
        ),
        (
            &["--host", "e500v2", "--hcall", "booke-hv"],
            "traps sc with r0",
        ),
        (&["--host", "booke-hv"], "cannot run the guest's e500v2 CPU"),
        (
            &["--host", "booke-hv", "--cpu", "e5500", "--hcall", "kvm-pr"],
            "traps sc 1",
        ),
        (
            &["--hcall", "qemu-fallback-old", "--has-idle"],
            "idle loop spins",
        ),
    ] {
        let mut all = vec!["gen", "--no-rng-seed", "-o", "-"];
        all.extend_from_slice(args);
        let out = common::run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
        assert!(err.contains("--force"), "{args:?}: {err}");
        all.push("--force");
        assert!(!gen_out(&all).is_empty(), "{args:?} --force");
    }
    // Safe anywhere: failing words without has-idle; the QEMU fallback on 64-bit cores.
    for args in [
        &["--hcall", "qemu-fallback-old"][..],
        &[
            "--host",
            "e500v2",
            "--hcall",
            "qemu-fallback-old",
            "--no-has-idle",
        ],
        &["--cpu", "e5500", "--hcall", "qemu-fallback"],
        &[
            "--host",
            "booke-hv",
            "--cpu",
            "e500mc",
            "--flavour",
            "epapr",
        ],
    ] {
        let mut all = vec!["gen", "--no-rng-seed", "-o", "-"];
        all.extend_from_slice(args);
        gen_out(&all);
    }
}

/// A 32-bit big-endian ELF with two PT_LOAD segments (paddr 0x1000 memsz 0x2000,
/// paddr 0 memsz 0x300_0000): QEMU's loader reports low 0 and size 0x300_2000.
fn tiny_elf() -> Vec<u8> {
    let mut f = vec![0u8; 0x34 + 2 * 0x20];
    f[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 2]);
    f[0x1c..0x20].copy_from_slice(&0x34u32.to_be_bytes()); // e_phoff
    f[0x2a..0x2c].copy_from_slice(&0x20u16.to_be_bytes()); // e_phentsize
    f[0x2c..0x2e].copy_from_slice(&2u16.to_be_bytes()); // e_phnum
    for (i, (paddr, memsz)) in [(0x1000u32, 0x2000u32), (0, 0x300_0000)].iter().enumerate() {
        let ph = 0x34 + i * 0x20;
        f[ph..ph + 4].copy_from_slice(&1u32.to_be_bytes());
        f[ph + 0x0c..ph + 0x10].copy_from_slice(&paddr.to_be_bytes());
        f[ph + 0x14..ph + 0x18].copy_from_slice(&memsz.to_be_bytes());
    }
    f
}

#[test]
fn kernel_and_initrd_place_the_initrd_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = dir.path().join("vmlinux");
    let initrd = dir.path().join("initrd");
    std::fs::write(&kernel, tiny_elf()).unwrap();
    std::fs::write(&initrd, vec![0u8; 0x1234]).unwrap();
    let k = kernel.to_str().unwrap();
    let i = initrd.to_str().unwrap();
    let dtb = gen_out(&[
        "gen",
        "--no-rng-seed",
        "--kernel",
        k,
        "--initrd",
        i,
        "--bootargs",
        "console=ttyS0",
        "-o",
        "-",
    ]);
    // End of payload 0x300_2000 (above 32 MiB), + 32 MiB, down to 16 MiB: 0x500_0000.
    assert_eq!(
        prop(&dtb, "/chosen", "linux,initrd-start").unwrap(),
        0x500_0000u32.to_be_bytes()
    );
    assert_eq!(
        prop(&dtb, "/chosen", "linux,initrd-end").unwrap(),
        0x500_1234u32.to_be_bytes()
    );
    assert_eq!(
        prop(&dtb, "/chosen", "bootargs").unwrap(),
        b"console=ttyS0\0"
    );
    for bad in [
        &["gen", "--kernel", k, "-o", "-"][..],
        &["gen", "--kernel", i, "--initrd", i, "-o", "-"],
        &[
            "gen",
            "--machine",
            "pseries",
            "--kernel",
            k,
            "--initrd",
            i,
            "-o",
            "-",
        ],
        &[
            "gen",
            "--kernel",
            k,
            "--initrd",
            i,
            "--initrd-start",
            "0",
            "--initrd-end",
            "1",
            "-o",
            "-",
        ],
    ] {
        assert_eq!(common::run(bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn power_off_sits_in_the_soc_node_and_cpus_follow_qemu() {
    let dtb = gen_out(&["gen", "--no-rng-seed", "--power-off-gpio", "-o", "-"]);
    assert_eq!(
        prop(&dtb, "/soc@fe0000000/power-off", "compatible").unwrap(),
        b"gpio-poweroff\0"
    );
    assert_eq!(prop(&dtb, "/power-off", "compatible"), None);
    for (cpu, line) in [
        ("e500v2", 32u32),
        ("e500mc", 64),
        ("e5500", 64),
        ("e6500", 32),
    ] {
        let dtb = gen_out(&["gen", "--no-rng-seed", "--cpu", cpu, "-o", "-"]);
        assert_eq!(
            prop(&dtb, "/cpus/PowerPC,8544@0", "d-cache-line-size").unwrap(),
            line.to_be_bytes(),
            "{cpu}"
        );
    }
    assert_eq!(
        common::run(&["gen", "--machine", "pseries", "--cpu", "e500mc", "-o", "-"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn bad_options_are_usage_errors() {
    for args in [
        &["gen", "--cpus", "0", "-o", "-"][..],
        &["gen", "--cpus", "33", "-o", "-"],
        &["gen", "--mem", "0", "-o", "-"],
        &["gen", "--mem", "lots", "-o", "-"],
        &["gen", "--hcall", "nonsense", "-o", "-"],
        &["gen", "--hcall", "1,2,3,4,5", "-o", "-"],
        &["gen", "--initrd-start", "0x10", "-o", "-"],
        &[
            "gen",
            "--initrd-start",
            "0x20",
            "--initrd-end",
            "0x10",
            "-o",
            "-",
        ],
        &["gen", "--memreserve", "0x1000", "-o", "-"],
        &[
            "gen",
            "--memreserve",
            "0x1000,0x2000",
            "--memreserve",
            "0x2000,1",
            "-o",
            "-",
        ],
        &["gen", "--no-hypervisor", "--has-idle", "-o", "-"],
        &["gen", "--machine", "mac99", "-o", "-"],
    ] {
        let out = common::run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn failed_run_leaves_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("keep.dtb");
    std::fs::write(&target, b"old").unwrap();
    let out = common::run(&["gen", "--cpus", "0", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
}

fn dtc(args: &[&str], input: &Path, output: &Path) -> String {
    let out = Command::new("dtc")
        .args(args)
        .arg("-o")
        .arg(output)
        .arg(input)
        .output()
        .expect("dtc runs");
    assert!(out.status.success(), "dtc {args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Every machine, with a spread of options: dtc decompiles and recompiles each with
/// no warning at all, and the recompiled blob is byte-identical (no padding asked).
#[test]
#[ignore = "needs dtc"]
fn dtc_round_trips_every_profile_without_warnings() {
    if !common::interop("dtc_round_trips_every_profile_without_warnings", "dtc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profiles: &[&[&str]] = &[
        &[],
        &[
            "--cpus",
            "4",
            "--mem",
            "1G",
            "--bootargs",
            "console=ttyS0 root=/dev/vda",
        ],
        &["--initrd-start", "0x2000000", "--initrd-end", "0x2400000"],
        &["--flavour", "epapr"],
        &["--host", "e500v2", "--cpus", "2"],
        &[
            "--host",
            "booke-hv",
            "--cpu",
            "e500mc",
            "--hcall",
            "booke-hv",
            "--no-has-idle",
            "--memreserve",
            "0x7000000,64K",
        ],
        &["--no-hypervisor", "--stdout-path", "serial0"],
        &["--machine", "pseries"],
        &[
            "--machine",
            "pseries",
            "--cpus",
            "8",
            "--mem",
            "4G",
            "--host",
            "book3s-pr",
            "--has-idle",
        ],
        &["--machine", "minimal"],
        &["--machine", "minimal", "--cpus", "3", "--flavour", "epapr"],
    ];
    for (i, extra) in profiles.iter().enumerate() {
        let dtb = dir.path().join(format!("p{i}.dtb"));
        let dts = dir.path().join(format!("p{i}.dts"));
        let back = dir.path().join(format!("p{i}.back.dtb"));
        let mut args = vec!["gen", "--rng-seed", SEED, "-o", dtb.to_str().unwrap()];
        args.extend_from_slice(extra);
        common::run_ok(&args);
        let w1 = dtc(&["-I", "dtb", "-O", "dts"], &dtb, &dts);
        assert_eq!(w1, "", "decompiling {extra:?}");
        let w2 = dtc(&["-I", "dts", "-O", "dtb"], &dts, &back);
        assert_eq!(w2, "", "recompiling {extra:?}");
        assert_eq!(
            std::fs::read(&dtb).unwrap(),
            std::fs::read(&back).unwrap(),
            "dtc's bytes differ for {extra:?}"
        );
    }
}

/// `patch --host` gives an existing tree the node that host needs, and refuses one that
/// would crash the guest there (the CPU read from the tree).
#[test]
fn patch_host_makes_the_node_right_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.dtb");
    let out = dir.path().join("out.dtb");
    let (p, o) = (plain.to_str().unwrap(), out.to_str().unwrap());
    common::run_ok(&["gen", "--no-rng-seed", "-o", p]);
    for (args, want) in [
        (&["--host", "tcg"][..], 0x3860_ffffu32),
        (&["--host", "e500v2"], 0x3c00_4b56),
    ] {
        common::run_ok(&[&["patch", p, "-o", o][..], args].concat());
        let dtb = std::fs::read(&out).unwrap();
        assert_eq!(words(&dtb).unwrap()[0], want, "{args:?}");
        assert_eq!(prop(&dtb, "/hypervisor", "has-idle"), None, "{args:?}");
    }
    std::fs::remove_file(&out).unwrap();
    for (args, reason) in [
        (
            &["--host", "tcg", "--hcall", "qemu-fallback"][..],
            "64-bit instruction",
        ),
        (&["--host", "tcg", "--hcall", "kvm-pr"], "system call"),
        (&["--host", "tcg", "--has-idle"], "idle loop spins"),
        (
            &["--host", "booke-hv", "--hcall", "kvm-pr"],
            "on a booke-hv KVM host",
        ),
    ] {
        let r = common::run(&[&["patch", p, "-o", o][..], args].concat());
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&r.stderr).contains(reason),
            "{args:?}"
        );
        assert!(!out.exists(), "{args:?} wrote its output");
    }
    common::run_ok(&[
        "patch", p, "-o", o, "--host", "tcg", "--hcall", "kvm-pr", "--force",
    ]);
    // An e500mc tree (64-byte lines) may take the BookE-HV words.
    let mc = dir.path().join("mc.dtb");
    common::run_ok(&[
        "gen",
        "--cpu",
        "e500mc",
        "--no-rng-seed",
        "-o",
        mc.to_str().unwrap(),
    ]);
    common::run_ok(&["patch", mc.to_str().unwrap(), "-o", o, "--host", "booke-hv"]);
    assert_eq!(
        words(&std::fs::read(&out).unwrap()).unwrap()[0],
        0x4400_0022
    );
}

/// gen takes the node and free-space options patch and hypervisor take
/// (src/cli/treeopts.rs).
#[test]
fn shared_node_and_free_space_options() {
    let out = common::ppcpv()
        .args([
            "gen",
            "--machine",
            "minimal",
            "--host",
            "booke-hv",
            "--no-rng-seed",
            "--compatible",
            "linux,kvm",
            "--compatible",
            "vendor,hv",
            "--guest-id",
            "1_000",
            "--no-has-idle",
            "-a",
            "4096",
            "-o",
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blob = out.stdout;
    assert_eq!(blob.len() % 4096, 0);
    let fdt = ppcpv::fdt::Fdt::new(&blob).unwrap();
    let hv = fdt.find("/hypervisor").unwrap();
    assert_eq!(
        hv.property("compatible").unwrap().value,
        b"linux,kvm\0vendor,hv\0"
    );
    assert_eq!(
        hv.property("guest-id").unwrap().value,
        1000u32.to_be_bytes()
    );
    assert!(hv.property("has-idle").is_none());
    // --space sets the size; --no-hypervisor refuses every node option.
    let sized = common::run(&["gen", "--no-rng-seed", "-S", "0x4000", "-o", "-"]);
    assert_eq!(sized.stdout.len(), 0x4000);
    for opt in [
        &["--guest-name", "x"][..],
        &["--compatible", "x"],
        &["--no-has-idle"],
    ] {
        let out = common::run(&[&["gen", "--no-hypervisor", "-o", "-"][..], opt].concat());
        assert_eq!(out.status.code(), Some(2), "{opt:?}");
    }
}
