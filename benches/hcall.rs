//! The host responder on the VM-exit path: one `HostProfile::respond` per iteration
//! (target: at most 5 ns per call), and the whole VMM path `HostProfile::handle_sc`
//! (magic-r0 test, registers in from a GPR array, answer written back). Run with
//! `cargo bench --bench hcall`; after criterion's wall-clock figures it prints on-CPU
//! nanoseconds per call (`cargo bench --bench hcall -- zzz` prints only those).

use criterion::{Criterion, criterion_group};
use ppcpv::hcall::{
    GuestWidth, HcallRegs, HcallToken, HostProfile, KVM_SC_MAGIC_R0, MSR_SF, MapMagicPage,
};
use std::hint::black_box;
use std::time::Duration;

mod oncpu;
use oncpu::cpu_per_call;

fn responder(c: &mut Criterion) {
    let features = HcallRegs::new(HcallToken::kvm(3), GuestWidth::Bits64);
    let map = HcallRegs::new(HcallToken::kvm(4), GuestWidth::Bits32)
        .with_r3_r4(0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_f001);
    let idle = HcallRegs::new(HcallToken::epapr(16), GuestWidth::Bits64);
    let unknown = HcallRegs::new(HcallToken::from_raw(0x8001_0010), GuestWidth::Bits64);

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

    // The VMM path on a register file: r0 test, read, respond, write r3/r4 back.
    let mut gprs = [0u64; 32];
    gprs[0] = u64::from(KVM_SC_MAGIC_R0);
    gprs[3] = 0xffff_ffff_ffff_f000;
    gprs[4] = 0xffff_ffff_ffff_f001;
    let mut g = c.benchmark_group("hcall/handle_sc");
    for (name, token, r0) in [
        ("features", HcallToken::kvm(3), u64::from(KVM_SC_MAGIC_R0)),
        (
            "map_magic_page",
            HcallToken::kvm(4),
            u64::from(KVM_SC_MAGIC_R0),
        ),
        ("guest_syscall", HcallToken::kvm(3), 0),
    ] {
        let mut regs = gprs;
        regs[0] = r0;
        regs[11] = u64::from(token.raw());
        g.bench_function(name, |b| {
            b.iter(|| HostProfile::Book3sPr.handle_sc(black_box(&mut regs), black_box(MSR_SF)));
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = responder
}
/// Load-independent figures (on-CPU time per call), printed after criterion's.
fn cpu_time_report() {
    const N: u64 = 50_000_000;
    println!("\non-CPU time per call (/proc/thread-self/schedstat):");
    let features = HcallRegs::new(HcallToken::kvm(3), GuestWidth::Bits64);
    let map = HcallRegs::new(HcallToken::kvm(4), GuestWidth::Bits32)
        .with_r3_r4(0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_f001);
    let idle = HcallRegs::new(HcallToken::epapr(16), GuestWidth::Bits64);
    let unknown = HcallRegs::new(HcallToken::from_raw(0x8001_0010), GuestWidth::Bits64);
    for (name, regs) in [
        ("respond features", features),
        ("respond map_magic_page_32bit", map),
        ("respond ev_idle", idle),
        ("respond unimplemented", unknown),
    ] {
        cpu_per_call(name, N, || {
            black_box(HostProfile::Book3sPr.respond(black_box(&regs)));
        });
    }
    let mut regs = [0u64; 32];
    regs[0] = u64::from(KVM_SC_MAGIC_R0);
    regs[11] = u64::from(HcallToken::kvm(3).raw());
    cpu_per_call("handle_sc features", N, || {
        black_box(HostProfile::Book3sPr.handle_sc(black_box(&mut regs), black_box(MSR_SF)));
    });
    regs[0] = 0;
    cpu_per_call("handle_sc guest_syscall", N, || {
        black_box(HostProfile::Book3sPr.handle_sc(black_box(&mut regs), black_box(MSR_SF)));
    });
    cpu_per_call("empty loop (harness cost)", N, || {
        black_box(0u64);
    });
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        cpu_time_report();
    }
}
