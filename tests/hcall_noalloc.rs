//! Proof that the host responder never allocates: a counting global allocator wraps the
//! system one, and the responder runs over many register sets (kvm-ppc-pv.md §5.1, §6.2;
//! the responder sits on a VMM's exit path).

use ppcpv::hcall::{HcallEffect, HcallRegs, HcallToken, HostProfile, MapMagicPage};
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
        [false, true].map(|sf| {
            HcallRegs::new(HcallToken::from_raw(t), sf)
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
