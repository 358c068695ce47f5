//! The library in one page: generate a guest tree, read its `/hypervisor` node back the
//! way Linux does, answer the guest's first hypercalls, and see what it patches.
//!
//! Run: `cargo run --example tour`. The README shows this file verbatim.

use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::machine::{GuestConfig, Machine, generate};
use ppcpv::fdt::Fdt;
use ppcpv::hcall::{
    HcallToken, HostProfile, KVM_SC_MAGIC_R0, KvmFeature, KvmFeatures, MagicFeatures, ScOutcome,
};
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

    // 3. The guest asks KVM_HC_FEATURES: `sc` with r0 = "KVM!" and r11 = 42 << 16 | 3.
    //    An e500v2 host sees a hypercall (not a system call) and answers in r3/r4.
    let host = HostProfile::E500v2;
    let mut gprs = [0u64; 32];
    gprs[0] = u64::from(KVM_SC_MAGIC_R0);
    gprs[11] = u64::from(HcallToken::kvm(3).raw());
    let ScOutcome::Hypercall(_) = host.handle_sc(&mut gprs, 0) else {
        return Err("the host took the sc for a system call".into());
    };
    let features = KvmFeatures::from_hcall(gprs[3], gprs[4]);
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
