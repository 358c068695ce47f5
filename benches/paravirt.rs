//! Scanner throughput: `cargo bench --bench paravirt`.
//!
//! * `scan/mixed-16MiB`: an in-memory image shaped like kernel text (a quarter of the
//!   words have primary opcode 31, many of them `mflr`/`mtlr`, one candidate per 1024
//!   words), both byte orders.
//! * `scan/mapped-256MiB`: the same mix written to a 256 MiB file, mapped with
//!   read into memory and scanned, as `ppcpv paravirt scan` does.
//! * `check/word`: one `check` call on a candidate.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppcpv::Endian;
use ppcpv::hcall::MagicFeatures;
use ppcpv::paravirt::{Config, ScanConfig, Tally, check, scan};
use std::hint::black_box;
use std::io::Write;

/// Words shaped like PowerPC kernel text, deterministic.
fn mixed_words(n: usize) -> impl Iterator<Item = u32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n).map(move |i| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = (x >> 32) as u32;
        match i % 1024 {
            0 => 0x7c60_00a6,                                   // mfmsr r3: a candidate
            _ if r.is_multiple_of(16) => 0x7c08_02a6,           // mflr r0
            _ if r % 16 == 1 => 0x7c08_03a6,                    // mtlr r0
            _ if r % 4 == 2 => 0x7c00_0000 | (r & 0x03ff_ffff), // other opcode-31 words
            _ => r,
        }
    })
}

fn image(bytes: usize, endian: Endian) -> Vec<u8> {
    mixed_words(bytes / 4)
        .flat_map(|w| endian.u32_to(w))
        .collect()
}

fn sc(endian: Endian) -> ScanConfig {
    ScanConfig::new(Config::BOOK3S_64, MagicFeatures::MAINLINE, endian)
}

fn bench_scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan");
    for endian in [Endian::Big, Endian::Little] {
        let data = image(16 << 20, endian);
        let cfg = sc(endian);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("mixed-16MiB-{endian}"), |b| {
            b.iter(|| {
                let mut tally = Tally::default();
                let mut sites = 0u64;
                scan(black_box(&data), 0, None, &cfg, &mut tally, |_| sites += 1);
                black_box((tally.words, sites))
            });
        });
    }

    // The CLI path: a 256 MiB file, memory-mapped.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("image.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let chunk = image(16 << 20, Endian::Big);
        for _ in 0..16 {
            f.write_all(&chunk).expect("write");
        }
        f.flush().expect("flush");
    }
    let cfg = sc(Endian::Big);
    g.sample_size(10);
    g.throughput(Throughput::Bytes(256 << 20));
    let input = std::fs::read(&path).expect("read");
    g.bench_function("in-memory-256MiB", |b| {
        b.iter(|| {
            let mut tally = Tally::default();
            let mut sites = 0u64;
            scan(&input, 0, None, &cfg, &mut tally, |_| sites += 1);
            black_box((tally.words, sites))
        });
    });
    g.finish();
}

fn bench_check(c: &mut Criterion) {
    c.bench_function("check/word", |b| {
        b.iter(|| {
            check(
                black_box(0x7c70_eaa6),
                Config::E500,
                MagicFeatures::MAINLINE,
            )
        });
    });
}

criterion_group!(benches, bench_scan, bench_check);
criterion_main!(benches);
