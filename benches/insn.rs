//! The instruction codec: decode, encode, disassemble and assemble 1024 words taken
//! from a fixed LCG walk over the primary opcodes the codec knows, plus recognising an
//! `hcall-instructions` value. Run with `cargo bench --bench insn`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppcpv::insn::{Insn, KnownSequence, assemble, recognise};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

/// 1024 words, cycling through the codec's primary opcodes with random low bits (so
/// most decode to a named form; X-form words with a foreign XO become `.long`).
fn words() -> Vec<u32> {
    const OPS: [u32; 13] = [2, 3, 14, 15, 17, 18, 24, 25, 31, 32, 36, 58, 62];
    let mut x: u32 = 0x1234_5678;
    (0..1024)
        .map(|i| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let op = OPS[i % OPS.len()];
            (op << 26) | (x & 0x03ff_ffff)
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let ws = words();
    let insns: Vec<Insn> = ws.iter().map(|&w| Insn::decode(w)).collect();
    let mut text = String::new();
    for i in &insns {
        let _ = writeln!(text, "{i}");
    }
    let mut g = c.benchmark_group("insn");
    g.throughput(Throughput::Elements(ws.len() as u64));
    g.bench_function("decode_1024", |b| {
        b.iter(|| {
            black_box(&ws)
                .iter()
                .fold(0u32, |a, &w| a ^ Insn::decode(w).encode())
        });
    });
    g.bench_function("encode_1024", |b| {
        b.iter(|| black_box(&insns).iter().fold(0u32, |a, i| a ^ i.encode()));
    });
    g.bench_function("disassemble_1024", |b| {
        let mut out = String::with_capacity(32 * 1024);
        b.iter(|| {
            out.clear();
            for i in black_box(&insns) {
                let _ = writeln!(out, "{i}");
            }
            out.len()
        });
    });
    g.bench_function("assemble_1024", |b| {
        b.iter(|| assemble(black_box(&text)).map(|v| v.len()));
    });
    g.finish();
    c.bench_function("insn/recognise_qemu_fallback", |b| {
        let w = KnownSequence::QemuFallback.words();
        b.iter(|| recognise(black_box(w)));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = codec
}
criterion_main!(benches);
