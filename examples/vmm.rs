//! A VMM's side of the magic page, in miniature.
//!
//! A PowerPC guest running under (PR) KVM asks `KVM_HC_FEATURES` whether the magic page
//! exists, then maps it with `KVM_HC_PPC_MAP_MAGIC_PAGE`; from then on its patched
//! kernel reads and writes SPRG0–3, SRR0/1, DAR, MSR... as loads and stores on that page
//! instead of trapping. This program plays both sides: the "guest" puts its hypercalls
//! in registers, the VMM answers them with ppcpv's host responder, locates the page in
//! guest RAM, and then reads the guest's registers straight out of it — no copy, in the
//! byte order the guest uses.
//!
//! Run: `cargo run --example vmm` (add `little` for a little-endian Book3S-64 guest).

use ppcpv::Endian;
use ppcpv::hcall::{
    HcallEffect, HcallRegs, HcallToken, HostProfile, KvmFeature, KvmFeatures, MagicFeatures,
};
use ppcpv::magic::{MagicPage, MagicPageMut, PageLocation};

/// Guest RAM: 16 MiB, as a VMM would allocate it.
const RAM_SIZE: usize = 16 << 20;
/// Where this guest's kernel puts the page (any free, page-aligned guest frame).
const MAGIC_GPA: u64 = 0x00ff_f000;
/// `KVM_MAGIC_PAGE` = -4096, the EA Linux maps it at (kvm-ppc-pv.md §6.1).
const MAGIC_EA: u64 = 0xffff_ffff_ffff_f000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endian = match std::env::args().nth(1).as_deref() {
        Some("little") => Endian::Little,
        _ => Endian::Big,
    };
    let host = HostProfile::Book3sPr;
    let mut ram = vec![0u8; RAM_SIZE];

    // 1. The guest asks for the feature bits: r11 = KVM_HCALL_TOKEN(KVM_HC_FEATURES).
    let regs = HcallRegs::new(HcallToken::kvm(3), ppcpv::hcall::GuestWidth::Bits64);
    let out = host.respond(&regs);
    let features = KvmFeatures(out.r4);
    println!("FEATURES -> r3 = {}, r4 = {:#x}", out.r3, out.r4);
    if !features.has(KvmFeature::MAGIC_PAGE) {
        return Err("host offers no magic page".into());
    }

    // 2. The guest maps the page: r3 = PA, r4 = EA | MAGIC_PAGE_FLAG_NOT_MAPPED_NX.
    let regs = HcallRegs::new(HcallToken::kvm(4), ppcpv::hcall::GuestWidth::Bits64).with_r3_r4(MAGIC_GPA, MAGIC_EA | 1);
    let out = host.respond(&regs);
    let HcallEffect::MagicPageMapped(req) = out.effect else {
        return Err("MAP was not answered as a mapping".into());
    };
    let magic = MagicFeatures(out.r4);
    println!(
        "MAP      -> r3 = {}, r4 = {:#x}; page at GPA {:#x}, EA {:#x}, NX-aware guest: {}",
        out.r3,
        out.r4,
        req.pa,
        req.ea,
        req.nx_aware()
    );

    // 3. The VMM finds the 4 KiB page in guest RAM (bounds-checked: it came from the guest).
    let start = usize::try_from(req.pa)?;
    let range = start..start.checked_add(4096).ok_or("bad PA")?;
    let page = ram
        .get_mut(range.clone())
        .ok_or("magic page outside guest RAM")?;
    let mut host_view = MagicPageMut::new(page)?
        .with_endian(endian)
        .with_features(magic);
    host_view.set_msr(0x8000_0000_0000_1032);
    host_view.set_pir(0)?;
    host_view.set_int_pending(1); // an interrupt is pending (kvmppc_update_int_pending)

    // 4. The patched guest kernel runs: `mtsprg0 r3` became `std r3, -4096+0x20(0)`, and so
    //    on. Here it writes through the EA -> GPA translation the host MMU applies (§6.4).
    for (ea_offset, value) in [
        (0x20u64, 0xc000_0000_0001_0000u64),
        (0x40, 0xc000_0000_0000_8f14),
        (0x48, 0x8000_0000_0000_9032),
    ] {
        let gpa = req
            .translate(MAGIC_EA + ea_offset)
            .ok_or("EA outside the page")?;
        let at = usize::try_from(gpa)?;
        let bytes = match endian {
            Endian::Big => value.to_be_bytes(),
            Endian::Little => value.to_le_bytes(),
        };
        ram.get_mut(at..at.saturating_add(8))
            .ok_or("outside RAM")?
            .copy_from_slice(&bytes);
    }
    // 5. The VMM reads the guest's registers from the page, in place.
    let view = MagicPage::new(ram.get(range).ok_or("outside RAM")?)?
        .with_endian(endian)
        .with_features(magic);
    println!("guest registers from the magic page ({endian}-endian):");
    println!("  msr   {:#018x}", view.msr());
    println!("  sprg0 {:#018x}", view.sprg0());
    println!("  srr0  {:#018x}", view.srr0());
    println!("  srr1  {:#018x}", view.srr1());
    println!(
        "  int_pending {}  pir {}  sr[0] {:#x}",
        view.int_pending(),
        view.pir()?,
        view.sr(0)?
    );
    Ok(())
}
