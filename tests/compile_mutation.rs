//! Mutation test of the DTS compiler: the fixture sources with bytes flipped, DTS
//! tokens spliced in, ranges deleted and duplicated, thousands of times. Every mutant
//! must compile or be refused with an error — never a panic — and the heap used must
//! stay a small multiple of the source. Deterministic (seeded xorshift).
//!
//! `PPCPV_COMPILE_MUTANTS=N` runs N mutants instead of the default (for long runs:
//! `PPCPV_COMPILE_MUTANTS=10000000 cargo test --release --test compile_mutation`).

mod common;

use ppcpv::fdt::compile::{CompileOptions, FileAccess, compile};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

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

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
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

/// Small in-memory files, so `/include/` and `/incbin/` mutants exercise the search
/// (including a file that includes itself).
struct Files;
impl FileAccess for Files {
    fn read(&mut self, path: &str) -> Option<Vec<u8>> {
        match path.rsplit('/').next()? {
            "self.dtsi" => Some(b"/include/ \"self.dtsi\"\n/include/ \"self.dtsi\"\n".to_vec()),
            "common.dtsi" => Some(b"/ { c = <1>; };\n".to_vec()),
            "frag.dtsi" => Some(b"f = <2>;\n".to_vec()),
            "payload.bin" => Some((0u8..16).collect()),
            _ => None,
        }
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    ";",
    "<",
    ">",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    "/",
    "&a",
    "&{/soc}",
    "&{/}",
    "a:",
    "lbl:",
    "/delete-node/ ",
    "/delete-property/ ",
    "/omit-if-no-ref/ ",
    "/bits/ 8 ",
    "/bits/ 64 ",
    "/memreserve/ 1 2;",
    "/plugin/;",
    "/dts-v1/;",
    "/include/ \"self.dtsi\"",
    "/incbin/(\"payload.bin\", 1, 3)",
    "\"s\\x4\\101\"",
    "'a'",
    "'\\''",
    "0x",
    "0xffffffffffffffff",
    "99999999999999999999",
    "08",
    "-",
    "~",
    "!",
    "?",
    ":",
    "<<",
    ">>",
    "&&",
    "||",
    "==",
    "(1/0)",
    "/*",
    "*/",
    "//",
    "\n# 7 \"x.dts\"\n",
    "phandle = <&a>;",
    "phandle = <1>;",
    "linux,phandle = <2>;",
    "name = \"n\";",
    "n { };",
    "a: n { };",
    "\\",
    "\"",
    "'",
    "\0",
    "\u{e9}",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 | 2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            3 => {
                let end = (at + rng.below(40)).min(v.len());
                v.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(200)).min(v.len());
                let piece = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, piece);
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn mutants_never_panic_and_stay_small() {
    let dir = common::data("compile");
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "dts") {
            seeds.push(std::fs::read(&p).unwrap());
        }
    }
    seeds.sort();
    let n: usize = std::env::var("PPCPV_COMPILE_MUTANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0usize, 0usize);
    let opts = [
        CompileOptions::new(),
        CompileOptions::new().symbols(true).include_dir("inc"),
    ];
    for i in 0..n {
        let seed = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, seed);
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let r = std::panic::catch_unwind(|| compile(&m, "m.dts", &opts[i % 2], &mut Files));
        let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        match r {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(_)) => err += 1,
            Err(_) => panic!("mutant {i} panicked:\n{}", String::from_utf8_lossy(&m)),
        }
        // Includes of the self-including file are capped; otherwise a few hundred
        // bytes of tree per source byte is the most the compiler may hold.
        assert!(
            used < 8 << 20 || used < m.len() * 400,
            "mutant {i}: {used} bytes of heap for {} bytes of source",
            m.len()
        );
    }
    assert_eq!(ok + err, n);
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}
