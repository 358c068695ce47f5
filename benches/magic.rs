//! Magic-page field access, the hot path of a VMM that serves a PowerPC guest: one typed
//! get or set must stay within a couple of nanoseconds in either byte order, through the
//! slice views and through the volatile view over live guest memory (target: 2 ns).
//!
//! Run: `cargo bench --bench magic`. After criterion's wall-clock figures it prints
//! on-CPU nanoseconds per call, measured from the thread's scheduler statistics, which
//! stay meaningful on a shared machine where wall-clock time includes other processes.
//!
//! Gated accessors return `Result`; each benchmark consumes it the way a caller does
//! (`unwrap_or`, `is_ok`) so that what is timed is the access. Passing the whole
//! `Result` through `black_box` instead forces it through the stack and times
//! store-forwarding stalls of the harness, not the accessor (a test of the gate, one
//! load and one byte swap).

use criterion::{Criterion, criterion_group};
use ppcpv::Endian;
use ppcpv::magic::{MagicPage, MagicPageMut, Selector, VolatileMagicPage};
use std::hint::black_box;

mod oncpu;
use oncpu::cpu_per_call;

fn page() -> Box<[u8; 4096]> {
    let mut p = Box::new([0u8; 4096]);
    for (i, b) in p.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31);
    }
    p
}

/// A page-aligned page for the volatile view, as guest RAM is.
#[repr(C, align(4096))]
struct Aligned([u8; 4096]);

fn aligned_page() -> Box<Aligned> {
    let mut p = Box::new(Aligned([0; 4096]));
    p.0.copy_from_slice(&page()[..]);
    p
}

fn volatile(c: &mut Criterion) {
    let mut p = aligned_page();
    for e in [Endian::Big, Endian::Little] {
        let view = VolatileMagicPage::from_mut(&mut p.0)
            .unwrap()
            .with_endian(e);
        c.bench_function(&format!("volatile get msr ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).msr()))
        });
        c.bench_function(&format!("volatile get int_pending ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).int_pending()))
        });
        c.bench_function(&format!("volatile get sprg7 gated ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).sprg7().unwrap_or(0)))
        });
        c.bench_function(&format!("volatile set msr ({e})"), |b| {
            b.iter(|| black_box(&view).set_msr(black_box(0x8000_0000_0000_1032)))
        });
        c.bench_function(&format!("volatile set mas0 gated ({e})"), |b| {
            b.iter(|| black_box(black_box(&view).set_mas0(black_box(0x1000_0000)).is_ok()))
        });
    }
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

/// Load-independent figures (on-CPU time per call), printed after criterion's.
fn cpu_time_report() {
    const N: u64 = 50_000_000;
    let mut p = page();
    println!("\non-CPU time per call (/proc/thread-self/schedstat):");
    for e in [Endian::Big, Endian::Little] {
        let view = MagicPage::from_array(&p).with_endian(e);
        cpu_per_call(&format!("get msr ({e})"), N, || {
            black_box(black_box(&view).msr());
        });
        cpu_per_call(&format!("get int_pending ({e})"), N, || {
            black_box(black_box(&view).int_pending());
        });
        cpu_per_call(&format!("get sprg7 gated ({e})"), N, || {
            black_box(black_box(&view).sprg7().unwrap_or(0));
        });
        cpu_per_call(&format!("get sr(n) ({e})"), N, || {
            black_box(black_box(&view).sr(black_box(5)).unwrap_or(0));
        });
    }
    for e in [Endian::Big, Endian::Little] {
        let mut view = MagicPageMut::from_array(&mut p).with_endian(e);
        cpu_per_call(&format!("set msr ({e})"), N, || {
            black_box(&mut view).set_msr(black_box(0x8000_0000_0000_1032));
        });
        cpu_per_call(&format!("set mas0 gated ({e})"), N, || {
            black_box(
                black_box(&mut view)
                    .set_mas0(black_box(0x1000_0000))
                    .is_ok(),
            );
        });
    }
    let mut a = aligned_page();
    for e in [Endian::Big, Endian::Little] {
        let view = VolatileMagicPage::from_mut(&mut a.0)
            .unwrap()
            .with_endian(e);
        cpu_per_call(&format!("volatile get msr ({e})"), N, || {
            black_box(black_box(&view).msr());
        });
        cpu_per_call(&format!("volatile get int_pending ({e})"), N, || {
            black_box(black_box(&view).int_pending());
        });
        cpu_per_call(&format!("volatile get sprg7 gated ({e})"), N, || {
            black_box(black_box(&view).sprg7().unwrap_or(0));
        });
        cpu_per_call(&format!("volatile get sr(n) ({e})"), N, || {
            black_box(black_box(&view).sr(black_box(5)).unwrap_or(0));
        });
        cpu_per_call(&format!("volatile set msr ({e})"), N, || {
            black_box(&view).set_msr(black_box(0x8000_0000_0000_1032));
        });
        cpu_per_call(&format!("volatile set mas0 gated ({e})"), N, || {
            black_box(black_box(&view).set_mas0(black_box(0x1000_0000)).is_ok());
        });
    }
    cpu_per_call("empty loop (harness cost)", N, || {
        black_box(0u64);
    });
}

criterion_group!(benches, gets, sets, whole_page, volatile);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        cpu_time_report();
    }
}
