//! The library in one page: generate a guest tree, read its `/hypervisor` node back the
//! way Linux does, answer the guest's first hypercalls, and see what it patches.
//!
//! Run: `cargo run --example tour`. The README shows this file verbatim.

use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::machine::{GuestConfig, Machine, generate};
use ppcpv::fdt::Fdt;
use ppcpv::hcall::{HcallRegs, HcallToken, HostProfile, KvmFeature, KvmFeatures, MagicFeatures};
use ppcpv::insn::Insn;
use ppcpv::paravirt::{Config, Outcome, check};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A KVM-ready ppce500 guest: 256 MiB, 2 CPUs, kvm-pr sequence, has-idle.
    let cfg = GuestConfig::new(Machine::Ppce500)
        .with_memory(256 << 20)
        .with_cpus(2);
    let dtb = generate(&cfg)?;

    // 2. Read it back through the validating reader and judge /hypervisor like Linux.
    let fdt = Fdt::new(&dtb)?;
    let report = check_fdt(&fdt);
    let sequence = report.sequence.map(|s| s.name());
    println!("{} bytes, sequence {sequence:?}", dtb.len());
    println!("detects KVM: {}", report.linux.detects_kvm());

    // 3. The guest asks KVM_HC_FEATURES (r11 = 42 << 16 | 3); an e500v2 host answers.
    let host = HostProfile::E500v2;
    let out = host.respond(&HcallRegs::new(HcallToken::kvm(3), false));
    let features = KvmFeatures::from_hcall(out.r3, out.r4);
    println!(
        "magic page offered: {}",
        features.has(KvmFeature::MAGIC_PAGE)
    );

    // 4. With the page mapped (MAP answers SR | MAS0_TO_SPRG7), `mfmsr r3` becomes a load.
    let mfmsr = 0x7c60_00a6;
    if let Some(decision) = check(mfmsr, Config::E500, MagicFeatures::MAINLINE)
        && let Outcome::Patch(rewrite) = decision.outcome
        && let Some(word) = rewrite.word()
    {
        println!("{} -> {}", Insn::decode(mfmsr), Insn::decode(word));
    }
    Ok(())
}
