//! The `/hypervisor` node: writing it (alone, from a `kvm_ppc_pvinfo` answer, and into a
//! VMM's own `vm_fdt::FdtWriter`) and checking a tree. Run with `cargo bench --bench hypervisor`.

use criterion::{Criterion, criterion_group, criterion_main};
use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::machine::{GuestConfig, generate};
use ppcpv::dt::pvinfo::{KVM_PPC_PVINFO_FLAGS_EV_IDLE, KvmPpcPvinfo, PvinfoOrder};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::writer::Padding;
use std::hint::black_box;
use std::time::Duration;

fn hypervisor(c: &mut Criterion) {
    let mut g = c.benchmark_group("hypervisor");
    let kvm = HypervisorNode::preset(Flavour::Kvm);
    g.bench_function("minimal_dtb_kvm", |b| {
        b.iter(|| black_box(&kvm).to_minimal_dtb(&Padding::NONE));
    });
    let answer = KvmPpcPvinfo::new(
        KVM_PPC_PVINFO_FLAGS_EV_IDLE,
        [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000],
    )
    .to_bytes(PvinfoOrder::default());
    g.bench_function("pvinfo_to_dtb", |b| {
        b.iter(|| {
            KvmPpcPvinfo::from_bytes(black_box(&answer), PvinfoOrder::default())
                .map(|p| p.to_node().to_minimal_dtb(&Padding::NONE))
        });
    });
    // What a VMM does per guest: its own vm-fdt root, then ppcpv's node in it.
    g.bench_function("vm_fdt_root_and_node", |b| {
        b.iter(|| -> Result<Vec<u8>, ppcpv::dt::hypervisor::NodeError> {
            let mut w = vm_fdt::FdtWriter::new()?;
            let root = w.begin_node("")?;
            w.property_u32("#address-cells", 2)?;
            w.property_u32("#size-cells", 2)?;
            black_box(&kvm).write(&mut w)?;
            w.end_node(root)?;
            Ok(w.finish()?)
        });
    });
    let minimal = kvm.to_minimal_dtb(&Padding::NONE).expect("preset writes");
    g.bench_function("parse_and_check_minimal", |b| {
        b.iter(|| Fdt::new(black_box(&minimal)).map(|f| check_fdt(&f)));
    });
    let guest = generate(&GuestConfig::default()).expect("default guest writes");
    g.bench_function("parse_and_check_ppce500_guest", |b| {
        b.iter(|| Fdt::new(black_box(&guest)).map(|f| check_fdt(&f)));
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hypervisor
}
criterion_main!(benches);
