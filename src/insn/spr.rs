//! Special-purpose register numbers and their names.
//!
//! The numbers a KVM guest's paravirt patching cares about (the `SPRN_*` cases of
//! `kvm_check_ins` in `torvalds/linux: arch/powerpc/kernel/kvm.c`),
//! plus a few everyday SPRs so that disassembly of surrounding code reads naturally.
//! Sources: `torvalds/linux: arch/powerpc/include/asm/reg.h` (Book3S and common SPRs)
//! and `arch/powerpc/include/asm/reg_booke.h` (BookE SPRs).
//!
//! SPR numbers are not universal: BookE and Book3S assign some numbers differently
//! (0x11E is `PIR` on BookE but `TBU40` on Book3S-64, reg.h). Where they clash the
//! BookE meaning wins, because the SPRs `kvm.c` rewrites beyond SPRG0-3/SRR0-1/DAR/DSISR
//! (MAS*, SPRG4-7, ESR, PIR) are BookE's.
//!
//! Names are upper case, as the kernel's `SPRN_*` macros spell them without the prefix;
//! [`spr_by_name`] ignores case. Two numbers share the kernel name `SPRN_PIR`: BookE's
//! 0x11E is called `PIR` here and Book3S's 0x3FF `PIR_BOOK3S`, so every name maps to
//! exactly one number and disassembly always reassembles to the same word.

/// Fixed-point exception register (reg.h `SPRN_XER`).
pub const SPRN_XER: u16 = 0x001;
/// Link register (reg.h `SPRN_LR`).
pub const SPRN_LR: u16 = 0x008;
/// Count register (reg.h `SPRN_CTR`).
pub const SPRN_CTR: u16 = 0x009;
/// Data storage interrupt status register (reg.h `SPRN_DSISR`).
pub const SPRN_DSISR: u16 = 0x012;
/// Data address register, Book3S (reg.h `SPRN_DAR`).
pub const SPRN_DAR: u16 = 0x013;
/// Decrementer (reg.h `SPRN_DEC`).
pub const SPRN_DEC: u16 = 0x016;
/// Page table base, Book3S (reg.h `SPRN_SDR1`).
pub const SPRN_SDR1: u16 = 0x019;
/// Save/restore register 0 (reg.h `SPRN_SRR0`).
pub const SPRN_SRR0: u16 = 0x01A;
/// Save/restore register 1 (reg.h `SPRN_SRR1`).
pub const SPRN_SRR1: u16 = 0x01B;
/// Critical save/restore register 0, BookE (reg_booke.h `SPRN_CSRR0`).
pub const SPRN_CSRR0: u16 = 0x03A;
/// Critical save/restore register 1, BookE (reg_booke.h `SPRN_CSRR1`).
pub const SPRN_CSRR1: u16 = 0x03B;
/// Data exception address register, BookE (reg_booke.h `SPRN_DEAR`).
pub const SPRN_DEAR: u16 = 0x03D;
/// Exception syndrome register, BookE (reg_booke.h `SPRN_ESR`).
pub const SPRN_ESR: u16 = 0x03E;
/// Interrupt vector prefix register, BookE (reg_booke.h `SPRN_IVPR`).
pub const SPRN_IVPR: u16 = 0x03F;
/// SPRG4, user-read alias, BookE (reg_booke.h `SPRN_SPRG4R`).
pub const SPRN_SPRG4R: u16 = 0x104;
/// SPRG5, user-read alias, BookE (reg_booke.h `SPRN_SPRG5R`).
pub const SPRN_SPRG5R: u16 = 0x105;
/// SPRG6, user-read alias, BookE (reg_booke.h `SPRN_SPRG6R`).
pub const SPRN_SPRG6R: u16 = 0x106;
/// SPRG7, user-read alias, BookE (reg_booke.h `SPRN_SPRG7R`).
pub const SPRN_SPRG7R: u16 = 0x107;
/// Time base lower, read form (reg.h `SPRN_TBRL`).
pub const SPRN_TBRL: u16 = 0x10C;
/// Time base upper, read form (reg.h `SPRN_TBRU`).
pub const SPRN_TBRU: u16 = 0x10D;
/// SPR general 0 (reg.h `SPRN_SPRG0`).
pub const SPRN_SPRG0: u16 = 0x110;
/// SPR general 1 (reg.h `SPRN_SPRG1`).
pub const SPRN_SPRG1: u16 = 0x111;
/// SPR general 2 (reg.h `SPRN_SPRG2`).
pub const SPRN_SPRG2: u16 = 0x112;
/// SPR general 3 (reg.h `SPRN_SPRG3`).
pub const SPRN_SPRG3: u16 = 0x113;
/// SPR general 4, write form (reg.h `SPRN_SPRG4`).
pub const SPRN_SPRG4: u16 = 0x114;
/// SPR general 5, write form (reg.h `SPRN_SPRG5`).
pub const SPRN_SPRG5: u16 = 0x115;
/// SPR general 6, write form (reg.h `SPRN_SPRG6`).
pub const SPRN_SPRG6: u16 = 0x116;
/// SPR general 7, write form (reg.h `SPRN_SPRG7`).
pub const SPRN_SPRG7: u16 = 0x117;
/// Processor ID register, BookE (reg_booke.h `SPRN_PIR`).
pub const SPRN_PIR: u16 = 0x11E;
/// Processor version register (reg.h `SPRN_PVR`).
pub const SPRN_PVR: u16 = 0x11F;
/// MMU assist register 0, BookE (reg_booke.h `SPRN_MAS0`).
pub const SPRN_MAS0: u16 = 0x270;
/// MMU assist register 1, BookE (reg_booke.h `SPRN_MAS1`).
pub const SPRN_MAS1: u16 = 0x271;
/// MMU assist register 2, BookE (reg_booke.h `SPRN_MAS2`).
pub const SPRN_MAS2: u16 = 0x272;
/// MMU assist register 3, BookE (reg_booke.h `SPRN_MAS3`).
pub const SPRN_MAS3: u16 = 0x273;
/// MMU assist register 4, BookE (reg_booke.h `SPRN_MAS4`).
pub const SPRN_MAS4: u16 = 0x274;
/// MMU assist register 6, BookE (reg_booke.h `SPRN_MAS6`).
pub const SPRN_MAS6: u16 = 0x276;
/// MMU assist register 7, BookE (reg_booke.h `SPRN_MAS7`).
pub const SPRN_MAS7: u16 = 0x3B0;
/// Processor ID register, Book3S (reg.h: `SPRN_PIR` 0x3FF; kvm.c's fallback value).
pub const SPRN_PIR_BOOK3S: u16 = 0x3FF;

/// Every named SPR, ordered by number: `(number, name)`.
pub const SPRS: &[(u16, &str)] = &[
    (SPRN_XER, "XER"),
    (SPRN_LR, "LR"),
    (SPRN_CTR, "CTR"),
    (SPRN_DSISR, "DSISR"),
    (SPRN_DAR, "DAR"),
    (SPRN_DEC, "DEC"),
    (SPRN_SDR1, "SDR1"),
    (SPRN_SRR0, "SRR0"),
    (SPRN_SRR1, "SRR1"),
    (SPRN_CSRR0, "CSRR0"),
    (SPRN_CSRR1, "CSRR1"),
    (SPRN_DEAR, "DEAR"),
    (SPRN_ESR, "ESR"),
    (SPRN_IVPR, "IVPR"),
    (SPRN_SPRG4R, "SPRG4R"),
    (SPRN_SPRG5R, "SPRG5R"),
    (SPRN_SPRG6R, "SPRG6R"),
    (SPRN_SPRG7R, "SPRG7R"),
    (SPRN_TBRL, "TBRL"),
    (SPRN_TBRU, "TBRU"),
    (SPRN_SPRG0, "SPRG0"),
    (SPRN_SPRG1, "SPRG1"),
    (SPRN_SPRG2, "SPRG2"),
    (SPRN_SPRG3, "SPRG3"),
    (SPRN_SPRG4, "SPRG4"),
    (SPRN_SPRG5, "SPRG5"),
    (SPRN_SPRG6, "SPRG6"),
    (SPRN_SPRG7, "SPRG7"),
    (SPRN_PIR, "PIR"),
    (SPRN_PVR, "PVR"),
    (SPRN_MAS0, "MAS0"),
    (SPRN_MAS1, "MAS1"),
    (SPRN_MAS2, "MAS2"),
    (SPRN_MAS3, "MAS3"),
    (SPRN_MAS4, "MAS4"),
    (SPRN_MAS6, "MAS6"),
    (SPRN_MAS7, "MAS7"),
    (SPRN_PIR_BOOK3S, "PIR_BOOK3S"),
];

/// The largest SPR number: the field is 10 bits wide.
pub const SPR_MAX: u16 = 0x3FF;

/// The name of SPR `n`, if it is one ppcpv knows.
///
/// ```
/// use ppcpv::insn::spr::spr_name;
/// assert_eq!(spr_name(0x3B0), Some("MAS7"));
/// assert_eq!(spr_name(0x3F5), None);
/// ```
#[must_use]
pub fn spr_name(n: u16) -> Option<&'static str> {
    SPRS.iter()
        .find(|(num, _)| *num == n)
        .map(|(_, name)| *name)
}

/// The number of the SPR called `name` (case-insensitive).
///
/// ```
/// use ppcpv::insn::spr::spr_by_name;
/// assert_eq!(spr_by_name("sprg0"), Some(0x110));
/// assert_eq!(spr_by_name("nosuch"), None);
/// ```
#[must_use]
pub fn spr_by_name(name: &str) -> Option<u16> {
    SPRS.iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(num, _)| *num)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_unique_and_in_range() {
        for (i, (n, name)) in SPRS.iter().enumerate() {
            assert!(*n <= SPR_MAX, "{name}");
            assert_eq!(spr_name(*n), Some(*name));
            assert_eq!(spr_by_name(name), Some(*n));
            for (m, other) in &SPRS[..i] {
                assert_ne!(m, n, "{name} vs {other}");
                assert!(m < n, "table must stay sorted at {name}");
            }
        }
    }

    #[test]
    fn reference_numbers() {
        // reg.h / reg_booke.h SPRN_* values.
        assert_eq!(spr_by_name("SPRG3"), Some(0x113));
        assert_eq!(spr_by_name("srr1"), Some(0x01B));
        assert_eq!(spr_by_name("DEAR"), Some(0x03D));
        assert_eq!(spr_by_name("ESR"), Some(0x03E));
        assert_eq!(spr_by_name("PIR"), Some(0x11E));
        assert_eq!(spr_by_name("PIR_BOOK3S"), Some(0x3FF));
        assert_eq!(spr_by_name("MAS6"), Some(0x276));
        assert_eq!(spr_by_name("SPRG7R"), Some(0x107));
    }
}
