//! Mutation test: real trees flipped, truncated, spliced and re-headered thousands of
//! times. Every mutant must either be refused with an error or be read completely
//! (every node, property, lookup, summary and the whole DTS text) — never a panic —
//! and the memory allocated while doing so must stay small and independent of what
//! the size fields claim. Deterministic (seeded xorshift), bounded in cases and in
//! time; no timing assertions.

mod common;

use ppcpv::fdt::Fdt;
use ppcpv::fdt::dts::{DtsOptions, StringListStyle, write_dts};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live and peak heap bytes of this test binary.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counters are process-wide: tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [u32; 14] = [
    0,
    1,
    2,
    3,
    4,
    9,
    17,
    0x100,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fff0,
    0xffff_fffd,
    0xffff_ffff,
];

fn mutate(rng: &mut Rng, blob: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = blob.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(7) {
            // a random byte
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            // an aligned word set to an interesting value
            1 if b.len() >= 4 => {
                let i = rng.below(b.len() / 4) * 4;
                let v = INTERESTING[rng.below(INTERESTING.len())];
                b[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            // a header word set to anything
            2 if b.len() >= 40 => {
                let i = rng.below(10) * 4;
                let v = if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u32 % (b.len() as u32 + 64)
                };
                b[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            // truncation
            3 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            // splice a chunk of another tree over this one
            4 if !other.is_empty() && !b.is_empty() => {
                let len = 1 + rng.below(64.min(other.len()));
                let from = rng.below(other.len() - len + 1);
                let to = rng.below(b.len());
                let end = (to + len).min(b.len());
                b[to..end].copy_from_slice(&other[from..from + (end - to)]);
            }
            // duplicate a word-aligned region (nesting, repeated tokens)
            5 if b.len() >= 8 => {
                let at = rng.below(b.len() / 4) * 4;
                let len = 4 * (1 + rng.below(16));
                let end = (at + len).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            // delete a word-aligned region
            _ if b.len() >= 8 => {
                let at = rng.below(b.len() / 4) * 4;
                let end = (at + 4 * (1 + rng.below(8))).min(b.len());
                b.drain(at..end);
            }
            _ => {}
        }
    }
    b
}

/// Reads everything reachable from an accepted blob.
fn exercise(blob: &[u8]) -> bool {
    let Ok(fdt) = Fdt::new(blob) else {
        return false;
    };
    let _ = fdt.reservations().count();
    for (_, node) in fdt.nodes() {
        for p in node.properties() {
            assert!(p.offset < p.end && p.end <= blob.len());
        }
        let _ = node.children().count();
        let _ = node.end_offset();
    }
    for (path, _) in fdt.nodes_with_paths().take(32) {
        let _ = fdt.find(&path);
    }
    let _ = ppcpv::fdt::summary::summarize(&fdt);
    // The fdt crate, handed only blobs this reader accepted, must not panic either.
    if !fdt.header().is_old_format()
        && let Ok(c) = fdt::Fdt::new_unaligned_fallible(blob)
    {
        use fdt::nodes::AsNode;
        if let Ok(root) = c.root() {
            crate_walk(root.as_node(), 0);
        }
    }
    for style in [StringListStyle::Dtc16, StringListStyle::Dtc17] {
        let opts = DtsOptions::new(style, false);
        write_dts(&fdt, std::io::sink(), &opts).unwrap();
    }
    true
}

type CrateNode<'a> = fdt::nodes::Node<
    'a,
    (
        fdt::parsing::unaligned::UnalignedParser<'a>,
        fdt::parsing::NoPanic,
    ),
>;

fn crate_walk(n: CrateNode<'_>, depth: usize) {
    let _ = n.name();
    if let Ok(props) = n.properties() {
        for p in props.iter().flatten() {
            let _ = p.value.len();
        }
    }
    if depth < 64
        && let Ok(children) = n.children()
    {
        for c in children.iter().flatten() {
            crate_walk(c, depth + 1);
        }
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    [
        "qemu-powernv8.dtb",
        "qemu-pcbios-bamboo.dtb",
        "synthetic-empty-root.dtb",
        "synthetic-deep-200.dtb",
        "synthetic-hv-kvm-fallback-on-qemu-mpc8544ds.dtb",
        "synthetic-hv-kvm-pseries.dtb",
        "synthetic-allprops-v1.dtb",
        "synthetic-overlay-hypervisor.dtbo",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(common::data(n)).unwrap()))
    .collect()
}

/// Runs `f` on `blob` and returns (panicked, peak bytes allocated during the call).
fn guarded(blob: &[u8]) -> (bool, bool, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = std::panic::catch_unwind(|| exercise(blob));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (r.is_err(), r.unwrap_or(false), peak)
}

/// Memory allowed for reading and printing any mutant: the DTS buffer (64 KiB plus
/// one node's text), paths and depth stacks. Independent of every size field.
const MEMORY_BOUND: usize = 256 << 10;

#[test]
fn mutants_never_panic_and_use_bounded_memory() {
    let _turn = serial();
    let seeds = seeds();
    for (name, blob) in &seeds {
        assert!(Fdt::new(blob).is_ok(), "{name} must be valid");
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let started = Instant::now();
    let (mut cases, mut accepted, mut panics) = (0usize, 0usize, Vec::new());
    let mut worst = 0usize;
    while cases < 6000 && started.elapsed() < Duration::from_secs(60) {
        let (name, blob) = &seeds[cases % seeds.len()];
        let other = &seeds[rng.below(seeds.len())].1;
        let m = mutate(&mut rng, blob, other);
        let (panicked, ok, peak) = guarded(&m);
        if panicked {
            panics.push(format!("{name} case {cases}"));
        }
        accepted += usize::from(ok);
        worst = worst.max(peak);
        assert!(
            peak <= MEMORY_BOUND + 2 * m.len(),
            "{name} case {cases}: {peak} bytes"
        );
        cases += 1;
    }
    eprintln!(
        "{cases} mutants, {accepted} accepted, {} refused, peak {worst} bytes",
        cases - accepted
    );
    assert!(panics.is_empty(), "panics: {panics:?}");
    assert!(cases >= 1000, "only {cases} cases ran");
}

#[test]
fn every_truncation_is_refused_cleanly() {
    let _turn = serial();
    for name in [
        "qemu-powernv8.dtb",
        "synthetic-hv-kvm-fallback-on-qemu-mpc8544ds.dtb",
    ] {
        let blob = std::fs::read(common::data(name)).unwrap();
        for n in 0..blob.len() {
            let (panicked, ok, _) = guarded(&blob[..n]);
            assert!(!panicked && !ok, "{name} cut at {n}");
        }
    }
}

#[test]
fn every_word_of_the_struct_head_set_to_every_interesting_value() {
    let _turn = serial();
    let blob = std::fs::read(common::data(
        "synthetic-hv-kvm-fallback-on-qemu-mpc8544ds.dtb",
    ))
    .unwrap();
    for i in (0..blob.len().min(1024)).step_by(4) {
        for v in INTERESTING {
            let mut m = blob.clone();
            m[i..i + 4].copy_from_slice(&v.to_be_bytes());
            let (panicked, _, _) = guarded(&m);
            assert!(!panicked, "word at {i} = {v:#x}");
        }
    }
}

#[test]
fn deep_nesting_is_capped_not_recursed() {
    let _turn = serial();
    // 100_000 nested nodes: far beyond MAX_DEPTH; must end in TooDeep, not a stack
    // overflow. Built by hand: header, empty rsvmap, struct, empty strings.
    let depth = 100_000usize;
    let mut st = Vec::new();
    for _ in 0..depth {
        st.extend_from_slice(&1u32.to_be_bytes());
        st.extend_from_slice(&[b'n', 0, 0, 0]);
    }
    for _ in 0..depth {
        st.extend_from_slice(&2u32.to_be_bytes());
    }
    st.extend_from_slice(&9u32.to_be_bytes());
    let off_struct = 40 + 16;
    let total = off_struct + st.len();
    let mut b = Vec::new();
    for w in [
        0xd00d_feedu32,
        total as u32,
        off_struct as u32,
        total as u32,
        40,
        17,
        16,
        0,
        0,
        st.len() as u32,
    ] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&st);
    let e = Fdt::new(&b).unwrap_err();
    assert!(
        matches!(e, ppcpv::fdt::FdtError::TooDeep { max, .. } if max == ppcpv::fdt::MAX_DEPTH),
        "{e}"
    );
    // Just under the cap reads and prints fine.
    let ok_depth = ppcpv::fdt::MAX_DEPTH;
    let mut st = Vec::new();
    for _ in 0..ok_depth {
        st.extend_from_slice(&1u32.to_be_bytes());
        st.extend_from_slice(&[b'n', 0, 0, 0]);
    }
    for _ in 0..ok_depth {
        st.extend_from_slice(&2u32.to_be_bytes());
    }
    st.extend_from_slice(&9u32.to_be_bytes());
    let total = off_struct + st.len();
    b.truncate(0);
    for w in [
        0xd00d_feedu32,
        total as u32,
        off_struct as u32,
        total as u32,
        40,
        17,
        16,
        0,
        0,
        st.len() as u32,
    ] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&st);
    let fdt = Fdt::new(&b).unwrap();
    assert_eq!(fdt.max_depth(), ok_depth);
    assert_eq!(fdt.nodes().count(), ok_depth);
    let (panicked, ok, _) = guarded(&b);
    assert!(!panicked && ok);
}

/// A copy of `blob` with header word `word` (0-based) set to `value`.
fn with_header_word(blob: &[u8], word: usize, value: u32) -> Vec<u8> {
    let mut b = blob.to_vec();
    b[word * 4..word * 4 + 4].copy_from_slice(&value.to_be_bytes());
    b
}

/// The DTS text of `blob` as ppcpv prints it (dtc 1.6's string lists).
fn dts_of(blob: &[u8]) -> String {
    let fdt = Fdt::new(blob).unwrap_or_else(|e| panic!("refused: {e}"));
    let mut v = Vec::new();
    write_dts(
        &fdt,
        &mut v,
        &DtsOptions::new(StringListStyle::Dtc16, false),
    )
    .unwrap();
    String::from_utf8(v).unwrap()
}

/// `last_comp_version` (header word 6) only bounds which older readers may cope: libfdt
/// (`fdt_check_header`) refuses only values above 17 or above `version`, and dtc's
/// reader ignores the word. A v16/v17 blob saying 0 or 4-15 reads like the original.
#[test]
fn any_last_comp_version_up_to_the_version_reads_like_the_original() {
    let _g = serial();
    for name in ["qemu-powernv8.dtb", "qemu-pcbios-bamboo.dtb"] {
        let blob = std::fs::read(common::data(name)).unwrap();
        let want = dts_of(&blob);
        for last in [0, 1, 2, 3, 4, 5, 8, 15, 16, 17] {
            let b = with_header_word(&blob, 6, last);
            assert_eq!(dts_of(&b), want, "{name} with last_comp_version {last}");
            // Declared version 16: the blob still reads (size_dt_struct is ignored).
            if last <= 16 {
                let b16 = with_header_word(&b, 5, 16);
                assert_eq!(dts_of(&b16), want, "{name} v16/{last}");
            }
        }
        for (version, last) in [(17, 18), (16, 17), (17, 32)] {
            let b = with_header_word(&with_header_word(&blob, 5, version), 6, last);
            let e = Fdt::new(&b).unwrap_err().to_string();
            assert!(e.contains("unsupported blob version"), "{e}");
        }
    }
}

/// A block starting inside the header is named as such, with its offset (not "outside
/// the blob", which it is not).
#[test]
fn blocks_starting_inside_the_header_say_so() {
    let _g = serial();
    use ppcpv::fdt::FdtError;
    use ppcpv::fdt::error::BlockKind;
    let blob = std::fs::read(common::data("qemu-powernv8.dtb")).unwrap();
    // off_mem_rsvmap is word 4, off_dt_struct word 2, off_dt_strings word 3.
    for (word, offset, kind) in [
        (4, 0x20, BlockKind::MemoryReservation),
        (4, 0, BlockKind::MemoryReservation),
        (2, 0x24, BlockKind::Structure),
        (3, 0x10, BlockKind::Strings),
    ] {
        let b = with_header_word(&blob, word, offset);
        let e = Fdt::new(&b).unwrap_err();
        assert_eq!(
            e,
            FdtError::BlockInHeader {
                block: kind,
                offset,
                header_size: 40
            }
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!("at offset {offset:#x} starts inside the header")),
            "{text}"
        );
    }
}

/// dtc reads the blobs with any `last_comp_version` up to 17 exactly as ppcpv does.
#[test]
#[ignore = "needs dtc and fdtget"]
fn dtc_reads_the_same_last_comp_versions() {
    common::interop("dtc_reads_the_same_last_comp_versions", "dtc");
    common::interop("dtc_reads_the_same_last_comp_versions", "fdtget");
    let _g = serial();
    let blob = std::fs::read(common::data("qemu-pcbios-bamboo.dtb")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for last in [0, 4, 9, 15] {
        let b = with_header_word(&blob, 6, last);
        let p = dir.path().join(format!("last{last}.dtb"));
        std::fs::write(&p, &b).unwrap();
        let out = std::process::Command::new("dtc")
            .args(["-q", "-I", "dtb", "-O", "dts"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "dtc refused last_comp_version {last}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            dts_of(&b),
            "last_comp_version {last}"
        );
        let got = std::process::Command::new("fdtget")
            .arg(&p)
            .args(["/", "compatible"])
            .output()
            .unwrap();
        assert!(
            got.status.success(),
            "fdtget refused last_comp_version {last}"
        );
    }
}
