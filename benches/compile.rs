//! The DTS compiler: the fixture with every kind of value and reference, and the DTS
//! dtc printed for the corpus's 100k-node tree when the corpus and `xz` are there
//! (`PPCPV_CORPUS`, default `../shared/corpus`). Run with `cargo bench --bench
//! compile`; whole-process numbers against dtc come from `scripts/compile-vs-dtc.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppcpv::fdt::compile::{CompileOptions, NoFiles, compile};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

fn large_source() -> Option<Vec<u8>> {
    let corpus = std::env::var_os("PPCPV_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let out = Command::new("xz")
        .arg("-dc")
        .arg(corpus.join("ref/synthetic-large-100k.dts.xz"))
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn bench_source(c: &mut Criterion, name: &str, src: &[u8], samples: usize) {
    let mut g = c.benchmark_group(format!("compile/{name}"));
    g.sample_size(samples);
    g.throughput(Throughput::Bytes(src.len() as u64));
    let opts = CompileOptions::new();
    g.bench_function("dts_to_dtb", |b| {
        b.iter(|| compile(black_box(src), "bench.dts", &opts, &mut NoFiles).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let refs =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compile/refs.dts"))
            .unwrap();
    bench_source(c, "refs", &refs, 100);
    if let Some(large) = large_source() {
        bench_source(c, "large-100k", &large, 10);
    }
}

criterion_group!(compile_benches, benches);
criterion_main!(compile_benches);
