//! The DTB reader and the DTS printer: `Fdt::new` (full validation), a depth-first
//! walk of every property, `find`, and `write_dts` into a sink. On a small QEMU tree
//! from tests/data, and on the corpus's 100k-node tree when the corpus and `xz` are
//! there (`PPCPV_CORPUS`, default `../shared/corpus`). Run with
//! `cargo bench --bench fdt`; whole-process numbers against dtc come from
//! `scripts/bench-vs-dtc.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::dts::{DtsOptions, write_dts};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

fn large_tree() -> Option<Vec<u8>> {
    let corpus = std::env::var_os("PPCPV_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let out = Command::new("xz")
        .arg("-dc")
        .arg(corpus.join("dtb/synthetic-large-100k.dtb.xz"))
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn bench_blob(c: &mut Criterion, name: &str, blob: &[u8], samples: usize) {
    let mut g = c.benchmark_group(format!("fdt/{name}"));
    g.sample_size(samples);
    g.throughput(Throughput::Bytes(blob.len() as u64));
    g.bench_function("validate", |b| {
        b.iter(|| Fdt::new(black_box(blob)).unwrap())
    });
    let fdt = Fdt::new(blob).unwrap();
    g.bench_function("walk_all_properties", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for (_, n) in fdt.nodes() {
                for p in n.properties() {
                    bytes += p.value.len();
                }
            }
            bytes
        })
    });
    g.bench_function("find_last_node", |b| {
        let last = fdt.nodes_with_paths().last().unwrap().0;
        b.iter(|| fdt.find(black_box(&last)).unwrap())
    });
    g.bench_function("write_dts", |b| {
        b.iter(|| write_dts(&fdt, std::io::sink(), &DtsOptions::default()).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let small = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/qemu-pcbios-bamboo.dtb"),
    )
    .expect("tests/data fixture");
    bench_blob(c, "qemu-pcbios-bamboo", &small, 50);
    match large_tree() {
        Some(big) => bench_blob(c, "large-100k", &big, 10),
        None => eprintln!("fdt/large-100k: skipped (no corpus or no xz)"),
    }
}

criterion_group!(fdt_benches, benches);
criterion_main!(fdt_benches);
