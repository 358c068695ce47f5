//! `ppcpv::dt::machine::generate` per machine and `ppcpv::dt::patch::patch` on a large
//! tree (100k nodes, the size of the corpus's `synthetic-large-100k`). Run with
//! `cargo bench --bench gen`. The whole-process numbers in the README come from
//! hyperfine; these isolate the library.

use criterion::{Criterion, criterion_group, criterion_main};
use ppcpv::dt::machine::{GuestConfig, Machine, generate};
use ppcpv::dt::patch::{PatchMode, PatchRequest};
use ppcpv::fdt::writer::{FdtBuilder, Padding};
use std::hint::black_box;
use std::time::Duration;

/// A root with 1000 buses of 100 devices each, three properties per device.
fn large_tree() -> Vec<u8> {
    let mut w = FdtBuilder::new().expect("writer");
    let root = w.begin_node("").expect("root");
    w.property_u32("#address-cells", 1).expect("prop");
    w.property_u32("#size-cells", 1).expect("prop");
    for bus in 0..1000u32 {
        let b = w.begin_node(&format!("bus@{bus:x}")).expect("bus");
        w.property_string("compatible", "simple-bus").expect("prop");
        for dev in 0..100u32 {
            let d = w.begin_node(&format!("dev@{dev:x}")).expect("dev");
            w.property_string("compatible", "vendor,device")
                .expect("prop");
            w.property_array_u32("reg", &[dev * 0x1000, 0x1000])
                .expect("prop");
            w.property_string("status", "okay").expect("prop");
            w.end_node(d).expect("end");
        }
        w.end_node(b).expect("end");
    }
    w.end_node(root).expect("end");
    w.finish(&Padding::NONE).expect("finish")
}

fn guest_trees(c: &mut Criterion) {
    let mut g = c.benchmark_group("gen");
    for m in Machine::ALL {
        let cfg = GuestConfig::new(m);
        g.bench_function(format!("generate_{m}"), |b| {
            b.iter(|| generate(black_box(&cfg)));
        });
    }
    let mut big = GuestConfig::new(Machine::Pseries);
    big.cpus = 1024;
    g.bench_function("generate_pseries_1024_cpus", |b| {
        b.iter(|| generate(black_box(&big)));
    });
    g.finish();

    let mut g = c.benchmark_group("patch");
    g.sample_size(20);
    let large = large_tree();
    g.bench_function("add_100k_nodes", |b| {
        b.iter(|| PatchRequest::default().apply(black_box(&large)));
    });
    let with = PatchRequest::default().apply(&large).expect("add").blob;
    let remove = PatchRequest::new(PatchMode::Remove);
    g.bench_function("remove_100k_nodes", |b| {
        b.iter(|| remove.apply(black_box(&with)));
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = guest_trees
}
criterion_main!(benches);
