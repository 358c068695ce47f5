//! `ppcpv magic`: layout output, dump/set/swab on guest RAM images, and every bad-input
//! path (clear message, exit 1 or 2, image untouched).

mod common;

use common::{run, run_ok};
use std::path::{Path, PathBuf};

fn image(dir: &Path, len: u64) -> PathBuf {
    let p = dir.join("ram.img");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(len).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs ppcpv expecting failure with `code`; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    err
}

#[test]
fn layout_json_has_every_field() {
    let v: serde_json::Value =
        serde_json::from_str(&run_ok(&["magic", "layout", "--json"])).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 27);
    let find = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap().clone();
    let sr = find("sr");
    assert_eq!(
        (
            sr["offset"].as_u64(),
            sr["size"].as_u64(),
            sr["count"].as_u64()
        ),
        (Some(104), Some(64), Some(16))
    );
    assert_eq!(sr["feature"], "KVM_MAGIC_FEAT_SR");
    assert_eq!(sr["swapped"], true);
    let msr = find("msr");
    assert_eq!(
        (msr["offset"].as_u64(), msr["offset32"].as_u64()),
        (Some(88), Some(92))
    );
    assert!(msr["feature"].is_null());
    assert_eq!(find("sprg7")["ea"], "0xfffffffffffff0e8");
    assert_eq!(find("scratch1")["offset32"].as_u64(), Some(0));
    let v32: serde_json::Value =
        serde_json::from_str(&run_ok(&["magic", "layout", "--json", "--bits", "32"])).unwrap();
    assert_eq!(v32[11]["ea"], "0xfffff05c");
}

#[test]
fn layout_text_c_and_rust() {
    let t = run_ok(&["magic", "layout"]);
    assert!(
        t.lines()
            .any(|l| l.starts_with("mas7_3") && l.contains("0x0b0") && l.contains("0x0b4"))
    );
    assert!(t.contains("sizeof = 240"));
    let c = run_ok(&["magic", "layout", "--c-header", "--bits", "32"]);
    assert!(c.contains("__u32 sr[16];"));
    assert!(c.lines().any(|l| l.split_whitespace().eq([
        "#define",
        "KVM_MAGIC_OFF_CRITICAL",
        "0x01c"
    ])));
    let r = run_ok(&["magic", "layout", "--rust"]);
    assert!(r.contains("pub sr: [u32; 16],"));
    assert!(r.contains("pub const KVM_MAGIC_OFF_CRITICAL: usize = 0x018;"));
    fails(&["magic", "layout", "--json", "--rust"], 2);
}

#[test]
fn set_then_dump_round_trips_in_both_orders() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x20_0000 + 0x100);
    for endian in ["big", "little"] {
        run_ok(&[
            "magic",
            "set",
            "--mem",
            s(&img),
            "--gpa",
            "0x1ff000",
            "--base",
            "0x100000",
            "--offset",
            "0x100",
            "--endian",
            endian,
            "msr=0x8000000000001032",
            "sr[15]=0xf",
            "mas7=0x7",
            "mas3=0x3",
            "pir=2",
        ]);
        let out = run_ok(&[
            "magic",
            "dump",
            "--mem",
            s(&img),
            "--gpa",
            "0x1ff000",
            "--base",
            "0x100000",
            "--offset",
            "0x100",
            "--endian",
            endian,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let get = |n: &str| {
            v["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == n)
                .unwrap()["value"]
                .clone()
        };
        assert_eq!(get("msr"), "0x8000000000001032", "{endian}");
        assert_eq!(get("sr[15]"), "0xf");
        assert_eq!(get("mas7_3"), "0x700000003");
        assert_eq!(get("pir"), "0x2");
        assert_eq!(v["file_offset"], "0xff100");
        assert_eq!(v["fields"].as_array().unwrap().len(), 42);
    }
    // The last write was little-endian: msr's first byte in the file is 0x32.
    let bytes = std::fs::read(&img).unwrap();
    assert_eq!(bytes[0xff100 + 0x58], 0x32);
}

#[test]
fn dump_marks_gated_fields_and_shows_the_32_bit_view() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x2000);
    run_ok(&[
        "magic",
        "set",
        "--mem",
        s(&img),
        "--gpa",
        "0x1000",
        "critical=0x1111111122222222",
    ]);
    let t = run_ok(&[
        "magic",
        "dump",
        "--mem",
        s(&img),
        "--gpa",
        "0x1000",
        "--features",
        "0",
    ]);
    assert!(
        t.contains("sr[0]        0x068  (not present: needs KVM_MAGIC_FEAT_SR)"),
        "{t}"
    );
    assert!(t.contains("pir          0x0cc  (not present: needs KVM_MAGIC_FEAT_MAS0_TO_SPRG7)"));
    let t = run_ok(&[
        "magic",
        "dump",
        "--mem",
        s(&img),
        "--gpa",
        "0x1000",
        "--bits",
        "32",
    ]);
    assert!(t.contains("critical     0x01c  0x22222222"), "{t}");
    let j = run_ok(&[
        "magic",
        "dump",
        "--mem",
        s(&img),
        "--gpa",
        "0x1000",
        "--features",
        "1",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert!(v["fields"][41]["value"].is_null()); // sprg7
    assert_eq!(v["fields"][14]["value"], "0x0"); // sr[0]
}

#[test]
fn set_with_bits_32_writes_only_the_low_word() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x1000);
    let m = s(&img);
    run_ok(&[
        "magic",
        "set",
        "--mem",
        m,
        "--gpa",
        "0",
        "msr=0xaaaaaaaa00000000",
    ]);
    run_ok(&[
        "magic",
        "set",
        "--mem",
        m,
        "--gpa",
        "0",
        "--bits",
        "32",
        "msr=0x8000",
        "mas3=0x1f",
    ]);
    let t = run_ok(&["magic", "dump", "--mem", m, "--gpa", "0"]);
    assert!(t.contains("msr          0x058  0xaaaaaaaa00008000"), "{t}");
    assert!(t.contains("MAS7 0x00000000  MAS3 0x0000001f"), "{t}");
}

#[test]
fn the_page_can_be_named_by_the_map_request() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x3000);
    let m = s(&img);
    // r3 with flags-like low bits: KVM clears them (kvmppc_kvm_pv: `param1 & ~0xfffULL`).
    run_ok(&["magic", "set", "--mem", m, "--map-r3", "0x2fff", "pir=7"]);
    let t = run_ok(&["magic", "dump", "--mem", m, "--gpa", "0x2000"]);
    assert!(t.contains("pir          0x0cc  0x00000007"), "{t}");
    // A 32-bit guest's r3 is truncated to 32 bits first.
    let t = run_ok(&[
        "magic",
        "dump",
        "--mem",
        m,
        "--map-r3",
        "0xffffffff00002123",
        "--bits",
        "32",
    ]);
    assert!(t.starts_with("magic page at GPA 0x2000 "), "{t}");
    // Exactly one of --gpa and --map-r3.
    fails(&["magic", "dump", "--mem", m], 2);
    fails(
        &["magic", "dump", "--mem", m, "--gpa", "0", "--map-r3", "0"],
        2,
    );
}

#[test]
fn swab_kvm_subset_and_full() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x1000);
    run_ok(&[
        "magic",
        "set",
        "--mem",
        s(&img),
        "--gpa",
        "0",
        "msr=0x1032",
        "sprg4=0x44",
    ]);
    run_ok(&["magic", "swab", "--mem", s(&img), "--gpa", "0"]);
    let j = run_ok(&[
        "magic",
        "dump",
        "--mem",
        s(&img),
        "--gpa",
        "0",
        "--endian",
        "little",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    let get = |n: &str| {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(get("msr"), "0x1032"); // swapped by KVM
    assert_eq!(get("sprg4"), "0x4400000000000000"); // left alone by KVM
    run_ok(&[
        "magic",
        "swab",
        "--mem",
        s(&img),
        "--gpa",
        "0",
        "--endian",
        "little",
        "--full",
    ]);
    let t = run_ok(&["magic", "dump", "--mem", s(&img), "--gpa", "0"]);
    assert!(t.contains("msr          0x058  0x0000000000001032"));
    assert!(t.contains("sprg4        0x0d0  0x4400000000000000"));
}

#[test]
fn sparse_64_gib_image_costs_one_page() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 64 << 30);
    run_ok(&[
        "magic",
        "set",
        "--mem",
        s(&img),
        "--gpa",
        "0xffffff000",
        "srr0=0xc000000000001234",
    ]);
    let t = run_ok(&["magic", "dump", "--mem", s(&img), "--gpa", "0xffffff000"]);
    assert!(t.contains("srr0         0x040  0xc000000000001234"));
    // Still sparse: only the touched page (plus filesystem slack) is allocated.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let blocks = std::fs::metadata(&img).unwrap().blocks();
        assert!(blocks * 512 <= 1 << 20, "{blocks} blocks allocated");
    }
}

#[test]
fn bad_input_is_refused_and_the_image_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path(), 0x3000);
    std::fs::write(&img, vec![0xa5u8; 0x3000]).unwrap();
    let before = std::fs::read(&img).unwrap();
    let m = s(&img);

    // Image smaller than a page.
    let small = dir.path().join("small.img");
    std::fs::write(&small, [0u8; 100]).unwrap();
    let e = fails(&["magic", "dump", "--mem", s(&small), "--gpa", "0"], 1);
    assert!(e.contains("less than one 4096-byte page"), "{e}");
    // GPA outside the image, below the base, not aligned.
    let e = fails(&["magic", "dump", "--mem", m, "--gpa", "0x3000"], 1);
    assert!(
        e.contains("GPA 0x3000 is outside the image, which holds guest addresses 0x0..0x3000"),
        "{e}"
    );
    let e = fails(
        &[
            "magic", "set", "--mem", m, "--gpa", "0x1000", "--base", "0x2000", "msr=1",
        ],
        1,
    );
    assert!(e.contains("outside the image"), "{e}");
    let e = fails(&["magic", "set", "--mem", m, "--gpa", "0x1800", "msr=1"], 1);
    assert!(e.contains("GPA 0x1800 is not 4 KiB aligned"), "{e}");
    // Unknown field, bare array, bad index, value too wide, malformed pairs: usage.
    let e = fails(
        &[
            "magic", "set", "--mem", m, "--gpa", "0x1000", "msr=1", "epr=1",
        ],
        2,
    );
    assert!(e.contains("unknown field 'epr'"), "{e}");
    let e = fails(&["magic", "set", "--mem", m, "--gpa", "0x1000", "sr=1"], 2);
    assert!(e.contains("sr is an array"), "{e}");
    let e = fails(
        &["magic", "set", "--mem", m, "--gpa", "0x1000", "sr[16]=1"],
        2,
    );
    assert!(e.contains("sr[16] is out of range"), "{e}");
    let e = fails(
        &[
            "magic",
            "set",
            "--mem",
            m,
            "--gpa",
            "0x1000",
            "msr=1",
            "dsisr=0x100000000",
        ],
        2,
    );
    assert!(
        e.contains("value 0x100000000 is too wide for dsisr (32 bits)"),
        "{e}"
    );
    let e = fails(
        &[
            "magic",
            "set",
            "--mem",
            m,
            "--gpa",
            "0x1000",
            "--bits",
            "32",
            "msr=0x100000000",
        ],
        2,
    );
    assert!(e.contains("too wide"), "{e}");
    let e = fails(&["magic", "set", "--mem", m, "--gpa", "0x1000", "msr"], 2);
    assert!(e.contains("'msr' is not FIELD=VALUE"), "{e}");
    let e = fails(
        &["magic", "set", "--mem", m, "--gpa", "0x1000", "msr=zz"],
        2,
    );
    assert!(e.contains("not a number"), "{e}");
    // A gated field with the feature absent.
    let e = fails(
        &[
            "magic",
            "set",
            "--mem",
            m,
            "--gpa",
            "0x1000",
            "--features",
            "1",
            "msr=1",
            "pir=1",
        ],
        2,
    );
    assert!(e.contains("pir needs KVM_MAGIC_FEAT_MAS0_TO_SPRG7"), "{e}");
    // Bad numbers on the command line.
    fails(&["magic", "dump", "--mem", m, "--gpa", "lots"], 2);
    // Missing file.
    let e = fails(
        &[
            "magic",
            "dump",
            "--mem",
            s(&dir.path().join("nope")),
            "--gpa",
            "0",
        ],
        1,
    );
    assert!(e.contains("nope"), "{e}");
    assert_eq!(
        std::fs::read(&img).unwrap(),
        before,
        "a refused command modified the image"
    );

    // Read-only file for set and swab (refused on the mode bits, even as root).
    let mut perm = std::fs::metadata(&img).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&img, perm).unwrap();
    let e = fails(&["magic", "set", "--mem", m, "--gpa", "0x1000", "msr=1"], 1);
    assert!(e.contains("the image is read-only"), "{e}");
    fails(&["magic", "swab", "--mem", m, "--gpa", "0x1000"], 1);
    assert_eq!(std::fs::read(&img).unwrap(), before);
    // Reading a read-only image is fine.
    run_ok(&["magic", "dump", "--mem", m, "--gpa", "0x1000"]);
}

#[test]
fn generated_rust_compiles_and_its_asserts_hold() {
    // `layout --rust` carries offset_of! asserts; rustc proves them on this host.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("magic_layout.rs");
    std::fs::write(&src, run_ok(&["magic", "layout", "--rust"])).unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = std::process::Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit",
            "metadata",
            "-o",
        ])
        .arg(dir.path().join("out.rmeta"))
        .arg(&src)
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
