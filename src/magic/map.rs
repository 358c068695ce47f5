//! Where the magic page lives once the guest has asked for it.
//!
//! `KVM_HC_PPC_MAP_MAGIC_PAGE` carries the page's guest physical address in r3 and its
//! effective address in r4, whose low 12 bits carry flags; KVM keeps both with the low
//! 12 bits cleared (`torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`; in
//! 32-bit mode, `MSR[SF]` = 0, the parameters are first truncated to 32 bits). Note that
//! `Documentation/virt/kvm/ppc-pv.rst` names the two parameters the other way round; the
//! code is what counts. The request itself is decoded by the hypercall module
//! ([`MapMagicPage::from_regs`]); this module adds what the page's location implies:
//! which guest addresses reach it (the "magic page override" of
//! `arch/powerpc/kvm/book3s_64_mmu.c (kvmppc_mmu_book3s_64_xlate)`) and, on a host built
//! with 64 KiB pages, where KVM keeps the shared struct so that the 4 KiB magic page sits
//! in the same 4 KiB slot of its 64 KiB host page as the guest's page does of its 64 KiB
//! frame (the `CONFIG_PPC_64K_PAGES` branch of `kvmppc_kvm_pv`).

pub use crate::hcall::MapMagicPage;

/// Low 12 bits: the in-page offset KVM clears from both parameters (`& ~0xfff`).
pub const PAGE_OFFSET_MASK: u64 = 0xfff;

/// Bits 12–15: which 4 KiB slot of a 64 KiB page (`& 0xf000` in `kvmppc_kvm_pv`).
pub const SLOT_MASK_64K: u64 = 0xf000;

/// `PAGE_MASK` of a 64 KiB-page host: `!0xffff`.
pub const PAGE_MASK_64K: u64 = !0xffff;

/// Where a 64 KiB-page host keeps the shared struct after a MAP call (`kvmppc_kvm_pv`,
/// `CONFIG_PPC_64K_PAGES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostPlacement {
    /// Already in the right 4 KiB slot: the struct stays where it is.
    Stay,
    /// KVM copies 0x1000 bytes to this host address and points `vcpu->arch.shared` at it.
    Move {
        /// The new host address: `(shared & PAGE_MASK) | (pa & 0xf000)`.
        to: u64,
    },
}

/// What a MAP request says about the page's location. Implemented for the hypercall
/// module's [`MapMagicPage`].
///
/// ```
/// use ppcpv::hcall::{HcallRegs, HcallToken, MapMagicPage};
/// use ppcpv::magic::map::{HostPlacement, PageLocation};
///
/// // A 64-bit Linux guest maps the page at EA -4096, here backed by GPA 0x7fff000.
/// let regs = HcallRegs::new(HcallToken::kvm(4), ppcpv::hcall::GuestWidth::Bits64)
///     .with_r3_r4(0x7fff_000, 0xffff_ffff_ffff_f001);
/// let req = MapMagicPage::from_regs(&regs);
/// assert_eq!(req.translate(0xffff_ffff_ffff_f058), Some(0x7fff_058)); // msr
/// assert_eq!(req.slot_64k(), 0xf);
/// assert_eq!(
///     req.host_placement_64k(0xc000_0000_0123_0000),
///     HostPlacement::Move { to: 0xc000_0000_0123_f000 }
/// );
/// ```
pub trait PageLocation {
    /// The page's guest physical address (`magic_page_pa`).
    fn gpa(&self) -> u64;

    /// The page's effective address (`magic_page_ea`).
    fn ea(&self) -> u64;

    /// The 4 KiB slot (0..16) of the page inside its 64 KiB guest frame.
    fn slot_64k(&self) -> u64 {
        (self.gpa() & SLOT_MASK_64K) >> 12
    }

    /// The 64 KiB window rule: given the host address of the shared struct
    /// (`vcpu->arch.shared`), whether a 64 KiB-page host must move it and where.
    fn host_placement_64k(&self, shared_host_addr: u64) -> HostPlacement {
        if self.gpa() & SLOT_MASK_64K == shared_host_addr & SLOT_MASK_64K {
            HostPlacement::Stay
        } else {
            HostPlacement::Move {
                to: (shared_host_addr & PAGE_MASK_64K) | (self.gpa() & SLOT_MASK_64K),
            }
        }
    }

    /// The guest physical address a supervisor access to effective address `addr`
    /// reaches: `gpa | (addr & 0xfff)` when `addr` is inside the page (the Book3S MMU's
    /// "magic page override" of `kvmppc_mmu_book3s_64_xlate`, for `MSR[PR]` = 0), `None`
    /// otherwise.
    fn translate(&self, addr: u64) -> Option<u64> {
        (addr & !PAGE_OFFSET_MASK == self.ea()).then_some(self.gpa() | (addr & PAGE_OFFSET_MASK))
    }
}

impl PageLocation for MapMagicPage {
    fn gpa(&self) -> u64 {
        self.pa
    }

    fn ea(&self) -> u64 {
        self.ea
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcall::{HcallRegs, HcallToken};

    fn req(r3: u64, r4: u64, sf: bool) -> MapMagicPage {
        let width = if sf {
            crate::hcall::GuestWidth::Bits64
        } else {
            crate::hcall::GuestWidth::Bits32
        };
        MapMagicPage::from_regs(&HcallRegs::new(HcallToken::kvm(4), width).with_r3_r4(r3, r4))
    }

    #[test]
    fn linux_request_location() {
        // Newer Linux (kvm_map_magic_page): in[1] = -4096 | MAGIC_PAGE_FLAG_NOT_MAPPED_NX;
        // the PA here is the VMM's choice.
        let l = req(0x07ff_f000, (u64::MAX - 4095) | 1, true);
        assert_eq!((l.gpa(), l.ea()), (0x07ff_f000, 0xffff_ffff_ffff_f000));
        assert_eq!(l.translate(0xffff_ffff_ffff_f0e8), Some(0x07ff_f0e8));
        assert_eq!(l.translate(0xffff_ffff_ffff_e000), None);
        // A 32-bit guest: parameters truncated before the low bits are cleared.
        let l = req(0xdead_0000_1234_5fff, 0xffff_ffff_ffff_f000, false);
        assert_eq!((l.gpa(), l.ea()), (0x1234_5000, 0xffff_f000));
        assert_eq!(l.slot_64k(), 5);
        assert_eq!(l.translate(0xffff_f05c), Some(0x1234_505c));
    }

    #[test]
    fn sixty_four_k_window_rule() {
        let l = req(0x0123_7000, 0, true);
        assert_eq!(
            l.host_placement_64k(0xc000_0000_0abc_7000),
            HostPlacement::Stay
        );
        assert_eq!(
            l.host_placement_64k(0xc000_0000_0abc_2000),
            HostPlacement::Move {
                to: 0xc000_0000_0abc_7000
            }
        );
        assert_eq!(
            l.host_placement_64k(0xc000_0000_0abc_f123),
            HostPlacement::Move {
                to: 0xc000_0000_0abc_7000
            }
        );
    }
}
