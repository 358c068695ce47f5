//! The host responder on the VM-exit path: one `HostProfile::respond` per iteration
//! (target: at most 5 ns per call). Run with `cargo bench --bench hcall`.

use criterion::{Criterion, criterion_group, criterion_main};
use ppcpv::hcall::{HcallRegs, HcallToken, HostProfile, MapMagicPage};
use std::hint::black_box;
use std::time::Duration;

fn responder(c: &mut Criterion) {
    let features = HcallRegs::new(HcallToken::kvm(3), true);
    let map = HcallRegs::new(HcallToken::kvm(4), false)
        .with_r3_r4(0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_f001);
    let idle = HcallRegs::new(HcallToken::epapr(16), true);
    let unknown = HcallRegs::new(HcallToken::from_raw(0x8001_0010), true);

    let mut g = c.benchmark_group("hcall/respond");
    for (name, regs) in [
        ("features", features),
        ("map_magic_page_32bit", map),
        ("ev_idle", idle),
        ("unimplemented", unknown),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| HostProfile::Book3sPr.respond(black_box(&regs)));
        });
    }
    // A mixed stream, so the branch predictor cannot learn a single token.
    let mix = [features, map, idle, unknown];
    g.bench_function("mixed_4_calls", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for r in &mix {
                let out = HostProfile::E500v2.respond(black_box(r));
                acc = acc.wrapping_add(out.r3 ^ out.r4);
            }
            acc
        });
    });
    g.finish();

    c.bench_function("hcall/map_magic_page_decode", |b| {
        b.iter(|| MapMagicPage::from_regs(black_box(&map)));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = responder
}
criterion_main!(benches);
