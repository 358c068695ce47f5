//! Proof that the host responder and the VMM path around it never allocate: a counting
//! global allocator wraps the system one, and `HostProfile::respond`,
//! `MapMagicPage::from_regs`, `HcallRegs::from_gprs`, `HcallResponse::write_gprs` and
//! `HostProfile::handle_sc` run over many register sets (they sit on a VMM's exit path).

use ppcpv::hcall::{
    GuestWidth, HcallEffect, HcallRegs, HcallToken, HostProfile, KVM_SC_MAGIC_R0, MSR_PR, MSR_SF,
    MapMagicPage, ScOutcome,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Counted per thread, so the test harness's own threads do not interfere.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local Cell that itself never allocates (const-initialised).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 32]);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn responder_never_allocates() {
    let regs: Vec<HcallRegs> = [
        HcallToken::kvm(3).raw(),
        HcallToken::kvm(4).raw(),
        HcallToken::epapr(16).raw(),
        0,
        0xffff_ffff,
        0x8001_0010,
    ]
    .into_iter()
    .flat_map(|t| {
        [GuestWidth::Bits32, GuestWidth::Bits64].map(|width| {
            HcallRegs::new(HcallToken::from_raw(t), width)
                .with_r3_r4(0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_f001)
        })
    })
    .collect();

    let before = allocations();
    let mut mapped = 0u32;
    for _ in 0..1000 {
        for r in &regs {
            for p in HostProfile::ALL {
                let out = std::hint::black_box(p.respond(std::hint::black_box(r)));
                if let HcallEffect::MagicPageMapped(m) = out.effect {
                    mapped += u32::from(m.nx_aware());
                }
                let _ = std::hint::black_box(MapMagicPage::from_regs(r));
            }
        }
    }
    assert_eq!(allocations(), before, "the responder allocated");
    assert_eq!(mapped, 1000 * 2 * 3);
}

#[test]
fn vmm_path_never_allocates() {
    let tokens = [
        HcallToken::kvm(3).raw(),
        HcallToken::kvm(4).raw(),
        HcallToken::epapr(16).raw(),
        0x8001_0010,
    ];
    let r0s = [u64::from(KVM_SC_MAGIC_R0), 0];
    let msrs = [0, MSR_SF, MSR_SF | MSR_PR];
    let before = allocations();
    let (mut answered, mut refused) = (0u32, 0u32);
    for i in 0..1000u64 {
        for &t in &tokens {
            for &r0 in &r0s {
                for &msr in &msrs {
                    for p in HostProfile::ALL {
                        let mut gprs = [i; 32];
                        gprs[0] = r0;
                        gprs[11] = u64::from(t);
                        let regs =
                            HcallRegs::from_gprs(std::hint::black_box(&gprs), p.hcall_width(msr));
                        let out = p.respond(&regs);
                        out.write_gprs(&mut gprs);
                        match std::hint::black_box(p.handle_sc(&mut gprs, msr)) {
                            ScOutcome::Hypercall(_) => answered += 1,
                            _ => refused += 1,
                        }
                    }
                }
            }
        }
    }
    assert_eq!(allocations(), before, "the VMM path allocated");
    assert!(answered > 0 && refused > 0);
}
