//! Where the magic page lives once the guest has asked for it.
//!
//! `KVM_HC_PPC_MAP_MAGIC_PAGE` carries the page's guest physical address in r3 and its
//! effective address in r4, whose low 12 bits carry flags; KVM keeps both with the low
//! 12 bits cleared (`torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`,
//! `kvm-ppc-pv.md` §6.2 steps b–d, D8). On a host built with 64 KiB pages the 4 KiB
//! magic page must sit in the same 4 KiB slot of its 64 KiB host page as the guest's
//! page does of its 64 KiB frame, so KVM may move the shared struct (step d):
//! [`PageLocation::host_placement_64k`] answers where.

/// Low 12 bits: the in-page offset KVM clears from both parameters (`& ~0xfff`).
pub const PAGE_OFFSET_MASK: u64 = 0xfff;

/// Bits 12–15: which 4 KiB slot of a 64 KiB page (`& 0xf000`, §6.2 step d).
pub const SLOT_MASK_64K: u64 = 0xf000;

/// `PAGE_MASK` of a 64 KiB-page host: `!0xffff`.
pub const PAGE_MASK_64K: u64 = !0xffff;

/// The magic page's location, as KVM records it from a MAP call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageLocation {
    /// `magic_page_pa`: the guest physical address (param1, low 12 bits cleared).
    pub gpa: u64,
    /// `magic_page_ea`: the effective address (param2, low 12 bits cleared).
    pub ea: u64,
    /// The flags the guest put in param2's low 12 bits
    /// (bit 0 = `MAGIC_PAGE_FLAG_NOT_MAPPED_NX`).
    pub flags: u16,
}

/// Where a 64 KiB-page host keeps the shared struct after a MAP call (§6.2 step d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostPlacement {
    /// Already in the right 4 KiB slot: the struct stays where it is.
    Stay,
    /// KVM copies 0x1000 bytes to this host address and points `vcpu->arch.shared` at it.
    Move {
        /// The new host address: `(shared & PAGE_MASK) | (gpa & 0xf000)`.
        to: u64,
    },
}

impl PageLocation {
    /// Decodes MAP's parameters: `param1` = r3 (physical address), `param2` = r4 (EA
    /// with flags in its low 12 bits). For a 32-bit guest (MSR\[SF\] = 0) KVM truncates
    /// every parameter to 32 bits first (D8), so pass `sf = false` then.
    #[must_use]
    pub fn from_params(param1: u64, param2: u64, sf: bool) -> Self {
        let (p1, p2) = if sf {
            (param1, param2)
        } else {
            (param1 & 0xffff_ffff, param2 & 0xffff_ffff)
        };
        #[allow(clippy::cast_possible_truncation)] // masked to 12 bits
        let flags = (p2 & PAGE_OFFSET_MASK) as u16;
        PageLocation {
            gpa: p1 & !PAGE_OFFSET_MASK,
            ea: p2 & !PAGE_OFFSET_MASK,
            flags,
        }
    }

    /// Whether the guest set `MAGIC_PAGE_FLAG_NOT_MAPPED_NX` (bit 0). A guest that did
    /// not is an old kernel: KVM then disables kernel NX for it (§6.2 step b).
    #[must_use]
    pub fn nx_aware(&self) -> bool {
        self.flags & 1 != 0
    }

    /// The 4 KiB slot (0..16) of the page inside its 64 KiB frame.
    #[must_use]
    pub fn slot_64k(&self) -> u64 {
        (self.gpa & SLOT_MASK_64K) >> 12
    }

    /// The 64 KiB window rule: given the host address of the shared struct
    /// (`vcpu->arch.shared`), whether a 64 KiB-page host must move it and where.
    #[must_use]
    pub fn host_placement_64k(&self, shared_host_addr: u64) -> HostPlacement {
        if self.gpa & SLOT_MASK_64K == shared_host_addr & SLOT_MASK_64K {
            HostPlacement::Stay
        } else {
            HostPlacement::Move {
                to: (shared_host_addr & PAGE_MASK_64K) | (self.gpa & SLOT_MASK_64K),
            }
        }
    }

    /// The page's offset within a guest address's 4 KiB: every access to
    /// `ea..ea + 0x1000` reaches `gpa | (addr & 0xfff)` (§6.4). `None` when `addr` is
    /// not inside the page.
    #[must_use]
    pub fn translate(&self, addr: u64) -> Option<u64> {
        (addr & !PAGE_OFFSET_MASK == self.ea).then_some(self.gpa | (addr & PAGE_OFFSET_MASK))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_request_decodes() {
        // Newer Linux: in[0] = -4096, in[1] = -4096 | 1 (§6.1).
        let l = PageLocation::from_params(0x0000_0000_07ff_f000, (u64::MAX - 4095) | 1, true);
        assert_eq!(l.gpa, 0x07ff_f000);
        assert_eq!(l.ea, 0xffff_ffff_ffff_f000);
        assert!(l.nx_aware());
        assert_eq!(l.translate(0xffff_ffff_ffff_f0e8), Some(0x07ff_f0e8));
        assert_eq!(l.translate(0xffff_ffff_ffff_e000), None);
        // Older Linux: no flag; a 32-bit guest's parameters are truncated.
        let l = PageLocation::from_params(0xdead_0000_1234_5fff, 0xffff_ffff_ffff_f000, false);
        assert_eq!((l.gpa, l.ea, l.flags), (0x1234_5000, 0xffff_f000, 0));
        assert!(!l.nx_aware());
        assert_eq!(l.slot_64k(), 5);
    }

    #[test]
    fn sixty_four_k_window_rule() {
        let l = PageLocation::from_params(0x0123_7000, 0, true);
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
