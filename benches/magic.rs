//! Magic-page field access, the hot path of a VMM that serves a PowerPC guest: one typed
//! get or set must stay within a couple of nanoseconds in either byte order.
//!
//! Run: `cargo bench --bench magic`.
//!
//! Gated accessors return `Result`; each benchmark consumes it the way a caller does
//! (`unwrap_or`, `is_ok`) so that what is timed is the access. Passing the whole
//! `Result` through `black_box` instead forces it through the stack and times
//! store-forwarding stalls of the harness, not the accessor (a test of the gate, one
//! load and one byte swap).

use criterion::{Criterion, criterion_group, criterion_main};
use ppcpv::Endian;
use ppcpv::magic::{MagicPage, MagicPageMut, Selector};
use std::hint::black_box;

fn page() -> Box<[u8; 4096]> {
    let mut p = Box::new([0u8; 4096]);
    for (i, b) in p.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31);
    }
    p
}

fn gets(c: &mut Criterion) {
    let p = page();
    for e in [Endian::Big, Endian::Little] {
        let view = MagicPage::from_array(&p).with_endian(e);
        c.bench_function(&format!("get msr ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).msr()))
        });
        c.bench_function(&format!("get int_pending ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).int_pending()))
        });
        c.bench_function(&format!("get sprg7 gated ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).sprg7().unwrap_or(0)))
        });
        c.bench_function(&format!("get sr(n) ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).sr(black_box(5)).unwrap_or(0)))
        });
        let sel = Selector::parse("srr0").unwrap();
        c.bench_function(&format!("get by selector ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).get(black_box(sel)).unwrap_or(0)))
        });
    }
}

fn sets(c: &mut Criterion) {
    let mut p = page();
    for e in [Endian::Big, Endian::Little] {
        let mut view = MagicPageMut::from_array(&mut p).with_endian(e);
        c.bench_function(&format!("set msr ({e})"), |b| {
            b.iter(|| black_box(&mut view).set_msr(black_box(0x8000_0000_0000_1032)))
        });
        c.bench_function(&format!("set mas0 gated ({e})"), |b| {
            b.iter(|| {
                black_box(
                    black_box(&mut view)
                        .set_mas0(black_box(0x1000_0000))
                        .is_ok(),
                )
            })
        });
        let sel = Selector::parse("sr[3]").unwrap();
        c.bench_function(&format!("set by selector ({e})"), |b| {
            b.iter(|| {
                black_box(
                    black_box(&mut view)
                        .set(black_box(sel), black_box(7))
                        .is_ok(),
                )
            })
        });
    }
}

fn whole_page(c: &mut Criterion) {
    let mut p = page();
    let view = MagicPage::from_array(&p);
    c.bench_function("snapshot (all fields)", |b| {
        b.iter(|| black_box(black_box(&view).snapshot()))
    });
    let mut view = MagicPageMut::from_array(&mut p);
    c.bench_function("swab_kvm there and back", |b| {
        b.iter(|| {
            let v = black_box(&mut view);
            let to = v.endian().swapped();
            v.swab_kvm(to)
        })
    });
}

criterion_group!(benches, gets, sets, whole_page);
criterion_main!(benches);
