//! `kvm_check_ins`: which words a Linux guest rewrites, and into what.
//!
//! A faithful model of `torvalds/linux: arch/powerpc/kernel/kvm.c (kvm_check_ins)`
//! and its templates in `arch/powerpc/kernel/kvm_emul.S`. Linux compares each word of
//! its text in three ways, in order:
//!
//! 1. `inst & ~KVM_MASK_RT` against `mfmsr`, `mfspr`/`mtspr` of the listed SPRs,
//!    `tlbsync`, `mtmsr`, `mtmsrd L=0/1` and `wrtee`; the original RT/RS is kept;
//! 2. `inst & ~(KVM_MASK_RT | KVM_MASK_RB)` against `mtsrin`;
//! 3. the whole word against `wrteei 0` (0x7c000146) and `wrteei 1` (0x7c008146).
//!
//! Every case is one [`Pattern`] in [`PATTERNS`], in the order of `kvm_check_ins`'s
//! `switch` statements.
//! A pattern may be compiled out (`#ifdef CONFIG_BOOKE` …) or need a magic-page feature
//! the host did not offer; [`check`] then says why the word stays as it is.

use super::config::Config;
use crate::hcall::MagicFeatures;
use crate::insn::{Insn, spr};
use crate::magic::{FieldId, layout::feature_name};
use alloc::string::{String, ToString};
use core::fmt;

/// `KVM_MAGIC_PAGE`: the guest maps the shared page at effective address -4096.
pub const KVM_MAGIC_PAGE: i64 = -4096;
/// `KVM_INST_LWZ` (`arch/powerpc/kernel/kvm.c`).
pub const KVM_INST_LWZ: u32 = 0x8000_0000;
/// `KVM_INST_STW`.
pub const KVM_INST_STW: u32 = 0x9000_0000;
/// `KVM_INST_LD`.
pub const KVM_INST_LD: u32 = 0xe800_0000;
/// `KVM_INST_STD`.
pub const KVM_INST_STD: u32 = 0xf800_0000;
/// `KVM_INST_NOP` (`ori 0,0,0`).
pub const KVM_INST_NOP: u32 = 0x6000_0000;
/// `KVM_INST_LI` (`addi rD,0,SI`), used for `wrteei 1`'s `li r30,MSR_EE`.
pub const KVM_INST_LI: u32 = 0x3800_0000;
/// `KVM_MASK_RT`: the RT/RS field, kept from the original instruction.
pub const KVM_MASK_RT: u32 = 0x03e0_0000;
/// `KVM_MASK_RB`: the RB field, ignored when matching `mtsrin`.
pub const KVM_MASK_RB: u32 = 0x0000_f800;
/// `KVM_INST_MFMSR`.
pub const KVM_INST_MFMSR: u32 = 0x7c00_00a6;
/// `KVM_INST_TLBSYNC`.
pub const KVM_INST_TLBSYNC: u32 = 0x7c00_046c;
/// `KVM_INST_MTMSRD_L0`.
pub const KVM_INST_MTMSRD_L0: u32 = 0x7c00_0164;
/// `KVM_INST_MTMSRD_L1`.
pub const KVM_INST_MTMSRD_L1: u32 = 0x7c01_0164;
/// `KVM_INST_MTMSR`.
pub const KVM_INST_MTMSR: u32 = 0x7c00_0124;
/// `KVM_INST_WRTEE`.
pub const KVM_INST_WRTEE: u32 = 0x7c00_0106;
/// `KVM_INST_WRTEEI_0`.
pub const KVM_INST_WRTEEI_0: u32 = 0x7c00_0146;
/// `KVM_INST_WRTEEI_1`.
pub const KVM_INST_WRTEEI_1: u32 = 0x7c00_8146;
/// `KVM_INST_MTSRIN`.
pub const KVM_INST_MTSRIN: u32 = 0x7c00_01e4;
/// `MSR_EE`, loaded into r30 by `li r30,MSR_EE` for `wrteei 1`.
pub const MSR_EE: u32 = 0x8000;

/// `SPR_FROM`: `mfspr`.
const SPR_FROM: u32 = 0;
/// `SPR_TO`: `mtspr` (XO 467 instead of 339).
const SPR_TO: u32 = 0x100;

/// `KVM_INST_SPR(sprn, moveto)`: the `mfspr`/`mtspr` word with RT = 0.
#[must_use]
pub const fn kvm_inst_spr(sprn: u16, moveto_bit: u32) -> u32 {
    let sprn = sprn as u32;
    0x7c00_02a6 | ((sprn & 0x1f) << 16) | ((sprn & 0x3e0) << 6) | moveto_bit
}

/// The templates a patched instruction branches to (`arch/powerpc/kernel/kvm_emul.S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Template {
    /// `kvm_emulate_mtmsrd` (for `mtmsrd rX,1`).
    Mtmsrd,
    /// `kvm_emulate_mtmsr` (for `mtmsr rX` and `mtmsrd rX,0`).
    Mtmsr,
    /// `kvm_emulate_wrtee` (for `wrtee rX`, and `wrteei 1` with `li r30,MSR_EE`).
    Wrtee,
    /// `kvm_emulate_wrteei_0`.
    Wrteei0,
    /// `kvm_emulate_mtsrin`.
    Mtsrin,
}

impl Template {
    /// The template's symbol in `kvm_emul.S`.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Template::Mtmsrd => "kvm_emulate_mtmsrd",
            Template::Mtmsr => "kvm_emulate_mtmsr",
            Template::Wrtee => "kvm_emulate_wrtee",
            Template::Wrteei0 => "kvm_emulate_wrteei_0",
            Template::Mtsrin => "kvm_emulate_mtsrin",
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// What a `kvm.c` case does with a matching word, before the word-size rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// `kvm_patch_ins_ld(magic_var(field))`: `ld`, or `lwz` of the low word
    /// ([`Field::offset32`](crate::magic::Field::offset32)) on 32-bit.
    Ld(FieldId),
    /// `kvm_patch_ins_lwz(magic_var(field) + extra)`: `lwz` on both word sizes.
    Lwz(FieldId, u16),
    /// `kvm_patch_ins_std(magic_var(field))`: `std`, or `stw` of the low word on 32-bit.
    Std(FieldId),
    /// `kvm_patch_ins_stw(magic_var(field) + extra)`: `stw` on both word sizes.
    Stw(FieldId, u16),
    /// `kvm_patch_ins_nop`.
    Nop,
    /// `kvm_patch_ins_<template>`: a branch into a copy of a template.
    Branch(Template),
}

/// The compile-time condition around a `kvm.c` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigGate {
    /// Compiled into every kernel.
    Always,
    /// `#ifdef CONFIG_BOOKE`.
    BookE,
    /// The `#else` of `CONFIG_BOOKE` (`SPRN_DAR`), or an SPR number that only a
    /// non-BookE kernel uses (`SPRN_PIR` = 0x3FF).
    NotBookE,
    /// `#ifdef CONFIG_PPC_BOOK3E_MMU`.
    Book3eMmu,
    /// `#ifdef CONFIG_PPC_BOOK3S_32`.
    Book3S32,
}

impl ConfigGate {
    /// `Ok` when a kernel built with `cfg` contains the case, else why not.
    const fn admit(self, cfg: Config) -> Result<(), Reason> {
        let (ok, why) = match self {
            ConfigGate::Always => (true, Reason::BookEOnly),
            ConfigGate::BookE => (cfg.booke(), Reason::BookEOnly),
            ConfigGate::NotBookE => (!cfg.booke(), Reason::NotOnBookE),
            ConfigGate::Book3eMmu => (cfg.book3e_mmu(), Reason::Book3eMmuOnly),
            ConfigGate::Book3S32 => (cfg.book3s_32(), Reason::Book3S32Only),
        };
        if ok { Ok(()) } else { Err(why) }
    }
}

/// How a pattern compares a word (the three `switch` statements of `kvm_check_ins`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Match {
    /// `inst & ~KVM_MASK_RT == opcode`.
    NoRt,
    /// `inst & ~KVM_MASK_RT & ~KVM_MASK_RB == opcode`.
    NoRtRb,
    /// `inst == opcode`.
    Exact,
}

impl Match {
    /// The bits compared.
    #[must_use]
    pub const fn mask(self) -> u32 {
        match self {
            Match::NoRt => !KVM_MASK_RT,
            Match::NoRtRb => !(KVM_MASK_RT | KVM_MASK_RB),
            Match::Exact => !0,
        }
    }
}

/// One case of `kvm_check_ins`: the instruction it matches, what it writes, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pattern {
    /// A short name: `mfmsr`, `mfspr SPRG0` (SPR names as `ppcpv::insn::spr` spells them), `mtmsrd L=1`, `wrteei 0`.
    pub name: &'static str,
    /// The `KVM_INST_*` value compared with the masked word.
    pub opcode: u32,
    /// How the word is masked before comparing.
    pub matching: Match,
    /// The SPR number, for `mfspr`/`mtspr` cases.
    pub spr: Option<u16>,
    /// What Linux writes.
    pub action: Action,
    /// The `#ifdef` around the case.
    pub config: ConfigGate,
    /// The `features & KVM_MAGIC_FEAT_*` test inside the case ([`MagicFeatures::NONE`]
    /// when there is none).
    pub feature: MagicFeatures,
}

const ALWAYS: (ConfigGate, MagicFeatures) = (ConfigGate::Always, MagicFeatures::NONE);
const MAS: MagicFeatures = MagicFeatures::MAS0_TO_SPRG7;

const fn op(
    name: &'static str,
    opcode: u32,
    matching: Match,
    action: Action,
    gate: (ConfigGate, MagicFeatures),
) -> Pattern {
    Pattern {
        name,
        opcode,
        matching,
        spr: None,
        action,
        config: gate.0,
        feature: gate.1,
    }
}

const fn mf(
    name: &'static str,
    spr: u16,
    action: Action,
    gate: (ConfigGate, MagicFeatures),
) -> Pattern {
    Pattern {
        name,
        opcode: kvm_inst_spr(spr, SPR_FROM),
        matching: Match::NoRt,
        spr: Some(spr),
        action,
        config: gate.0,
        feature: gate.1,
    }
}

const fn mt(
    name: &'static str,
    spr: u16,
    action: Action,
    gate: (ConfigGate, MagicFeatures),
) -> Pattern {
    Pattern {
        opcode: kvm_inst_spr(spr, SPR_TO),
        ..mf(name, spr, action, gate)
    }
}

/// Every case of `kvm_check_ins`, in its source order (loads, stores,
/// nops, template branches). No two patterns match the same word.
#[rustfmt::skip]
pub const PATTERNS: [Pattern; 57] = {
    use Action::{Branch, Ld, Lwz, Nop, Std, Stw};
    use ConfigGate::{Book3S32, Book3eMmu, BookE, NotBookE};
    use FieldId as F;
    use spr::*;
    let mas_mmu = (Book3eMmu, MAS);
    let mas = (ConfigGate::Always, MAS);
    let mas_booke = (BookE, MAS);
    let booke = (BookE, MagicFeatures::NONE);
    let not_booke = (NotBookE, MagicFeatures::NONE);
    [
        // Loads.
        op("mfmsr", KVM_INST_MFMSR, Match::NoRt, Ld(F::Msr), ALWAYS),
        mf("mfspr SPRG0", SPRN_SPRG0, Ld(F::Sprg0), ALWAYS),
        mf("mfspr SPRG1", SPRN_SPRG1, Ld(F::Sprg1), ALWAYS),
        mf("mfspr SPRG2", SPRN_SPRG2, Ld(F::Sprg2), ALWAYS),
        mf("mfspr SPRG3", SPRN_SPRG3, Ld(F::Sprg3), ALWAYS),
        mf("mfspr SRR0", SPRN_SRR0, Ld(F::Srr0), ALWAYS),
        mf("mfspr SRR1", SPRN_SRR1, Ld(F::Srr1), ALWAYS),
        mf("mfspr DAR", SPRN_DAR, Ld(F::Dar), not_booke),
        mf("mfspr DEAR", SPRN_DEAR, Ld(F::Dar), booke),
        mf("mfspr DSISR", SPRN_DSISR, Lwz(F::Dsisr, 0), ALWAYS),
        mf("mfspr MAS0", SPRN_MAS0, Lwz(F::Mas0, 0), mas_mmu),
        mf("mfspr MAS1", SPRN_MAS1, Lwz(F::Mas1, 0), mas_mmu),
        mf("mfspr MAS2", SPRN_MAS2, Ld(F::Mas2), mas_mmu),
        mf("mfspr MAS3", SPRN_MAS3, Lwz(F::Mas7_3, 4), mas_mmu),
        mf("mfspr MAS4", SPRN_MAS4, Lwz(F::Mas4, 0), mas_mmu),
        mf("mfspr MAS6", SPRN_MAS6, Lwz(F::Mas6, 0), mas_mmu),
        mf("mfspr MAS7", SPRN_MAS7, Lwz(F::Mas7_3, 0), mas_mmu),
        mf("mfspr SPRG4", SPRN_SPRG4, Ld(F::Sprg4), mas),
        mf("mfspr SPRG5", SPRN_SPRG5, Ld(F::Sprg5), mas),
        mf("mfspr SPRG6", SPRN_SPRG6, Ld(F::Sprg6), mas),
        mf("mfspr SPRG7", SPRN_SPRG7, Ld(F::Sprg7), mas),
        mf("mfspr SPRG4R", SPRN_SPRG4R, Ld(F::Sprg4), mas_booke),
        mf("mfspr SPRG5R", SPRN_SPRG5R, Ld(F::Sprg5), mas_booke),
        mf("mfspr SPRG6R", SPRN_SPRG6R, Ld(F::Sprg6), mas_booke),
        mf("mfspr SPRG7R", SPRN_SPRG7R, Ld(F::Sprg7), mas_booke),
        mf("mfspr ESR", SPRN_ESR, Lwz(F::Esr, 0), mas_booke),
        mf("mfspr PIR", SPRN_PIR, Lwz(F::Pir, 0), mas_booke),
        mf("mfspr PIR_BOOK3S", SPRN_PIR_BOOK3S, Lwz(F::Pir, 0), (NotBookE, MAS)),
        // Stores.
        mt("mtspr SPRG0", SPRN_SPRG0, Std(F::Sprg0), ALWAYS),
        mt("mtspr SPRG1", SPRN_SPRG1, Std(F::Sprg1), ALWAYS),
        mt("mtspr SPRG2", SPRN_SPRG2, Std(F::Sprg2), ALWAYS),
        mt("mtspr SPRG3", SPRN_SPRG3, Std(F::Sprg3), ALWAYS),
        mt("mtspr SRR0", SPRN_SRR0, Std(F::Srr0), ALWAYS),
        mt("mtspr SRR1", SPRN_SRR1, Std(F::Srr1), ALWAYS),
        mt("mtspr DAR", SPRN_DAR, Std(F::Dar), not_booke),
        mt("mtspr DEAR", SPRN_DEAR, Std(F::Dar), booke),
        mt("mtspr DSISR", SPRN_DSISR, Stw(F::Dsisr, 0), ALWAYS),
        mt("mtspr MAS0", SPRN_MAS0, Stw(F::Mas0, 0), mas_mmu),
        mt("mtspr MAS1", SPRN_MAS1, Stw(F::Mas1, 0), mas_mmu),
        mt("mtspr MAS2", SPRN_MAS2, Std(F::Mas2), mas_mmu),
        mt("mtspr MAS3", SPRN_MAS3, Stw(F::Mas7_3, 4), mas_mmu),
        mt("mtspr MAS4", SPRN_MAS4, Stw(F::Mas4, 0), mas_mmu),
        mt("mtspr MAS6", SPRN_MAS6, Stw(F::Mas6, 0), mas_mmu),
        mt("mtspr MAS7", SPRN_MAS7, Stw(F::Mas7_3, 0), mas_mmu),
        mt("mtspr SPRG4", SPRN_SPRG4, Std(F::Sprg4), mas),
        mt("mtspr SPRG5", SPRN_SPRG5, Std(F::Sprg5), mas),
        mt("mtspr SPRG6", SPRN_SPRG6, Std(F::Sprg6), mas),
        mt("mtspr SPRG7", SPRN_SPRG7, Std(F::Sprg7), mas),
        mt("mtspr ESR", SPRN_ESR, Stw(F::Esr, 0), mas_booke),
        // Nops.
        op("tlbsync", KVM_INST_TLBSYNC, Match::NoRt, Nop, ALWAYS),
        // Template branches. kvm.c matches mtmsrd on 32-bit kernels too (the case is
        // not #ifdef'd), although only 64-bit code contains it.
        op("mtmsrd L=1", KVM_INST_MTMSRD_L1, Match::NoRt, Branch(Template::Mtmsrd), ALWAYS),
        op("mtmsr", KVM_INST_MTMSR, Match::NoRt, Branch(Template::Mtmsr), ALWAYS),
        op("mtmsrd L=0", KVM_INST_MTMSRD_L0, Match::NoRt, Branch(Template::Mtmsr), ALWAYS),
        op("wrtee", KVM_INST_WRTEE, Match::NoRt, Branch(Template::Wrtee), booke),
        op("mtsrin", KVM_INST_MTSRIN, Match::NoRtRb, Branch(Template::Mtsrin), (Book3S32, MagicFeatures::SR)),
        op("wrteei 0", KVM_INST_WRTEEI_0, Match::Exact, Branch(Template::Wrteei0), booke),
        op("wrteei 1", KVM_INST_WRTEEI_1, Match::Exact, Branch(Template::Wrtee), booke),
    ]
};

/// The number of patterns.
pub const PATTERN_COUNT: usize = PATTERNS.len();

/// A `ld`/`lwz`/`std`/`stw` written by Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemOp {
    /// `ld rT,D(0)`: 8 bytes.
    Ld,
    /// `lwz rT,D(0)`: 4 bytes.
    Lwz,
    /// `std rS,D(0)`: 8 bytes.
    Std,
    /// `stw rS,D(0)`: 4 bytes.
    Stw,
}

impl MemOp {
    /// The mnemonic.
    #[must_use]
    pub const fn mnemonic(self) -> &'static str {
        match self {
            MemOp::Ld => "ld",
            MemOp::Lwz => "lwz",
            MemOp::Std => "std",
            MemOp::Stw => "stw",
        }
    }

    /// The `KVM_INST_*` opcode bits.
    #[must_use]
    pub const fn opcode(self) -> u32 {
        match self {
            MemOp::Ld => KVM_INST_LD,
            MemOp::Lwz => KVM_INST_LWZ,
            MemOp::Std => KVM_INST_STD,
            MemOp::Stw => KVM_INST_STW,
        }
    }

    /// Bytes accessed.
    #[must_use]
    pub const fn width(self) -> u16 {
        match self {
            MemOp::Ld | MemOp::Std => 8,
            MemOp::Lwz | MemOp::Stw => 4,
        }
    }

    /// True for `std`/`stw`.
    #[must_use]
    pub const fn is_store(self) -> bool {
        matches!(self, MemOp::Std | MemOp::Stw)
    }
}

/// A load or store on the magic page that replaces the original word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MagicAccess {
    /// The instruction.
    pub op: MemOp,
    /// The `struct kvm_vcpu_arch_shared` field (`msr`, `mas7_3`, …).
    pub field: FieldId,
    /// The page offset actually accessed: the field's `offsetof`, its
    /// [`offset32`](crate::magic::Field::offset32) for the low word of a u64 on 32-bit,
    /// `+4` for MAS3 (the low word of `mas7_3`).
    pub page_offset: u16,
    /// The replacement word: `op | rt | D` with `RA = 0`.
    pub word: u32,
}

impl MagicAccess {
    /// The signed displacement `D` (the effective address, since `RA = 0`):
    /// `-4096 + page_offset`.
    #[must_use]
    pub fn displacement(&self) -> i64 {
        KVM_MAGIC_PAGE + i64::from(self.page_offset)
    }

    /// The field accessed, with the byte offset inside it when not 0: `msr`,
    /// `msr+4` (32-bit low word), `mas7_3+4` (MAS3).
    #[must_use]
    pub fn target(&self) -> String {
        let within = usize::from(self.page_offset).saturating_sub(self.field.field().offset);
        if within == 0 {
            self.field.name().to_string()
        } else {
            alloc::format!("{}+{within}", self.field.name())
        }
    }
}

/// A branch into a copy of a `kvm_emul.S` template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TemplateBranch {
    /// Which template.
    pub template: Template,
    /// The register ORed into the template's `ori r30,r0,0` slot(s) (the original RS);
    /// r30 and r31 are reloaded from `scratch2`/`scratch1` instead. `None` for
    /// `wrteei 0`/`wrteei 1`.
    pub reg: Option<u8>,
    /// `mtsrin`'s RB, shifted into the template's `rlwinm`.
    pub rb: Option<u8>,
    /// `wrteei 1`: the register slot is overwritten with `li r30,MSR_EE` (0x3bc08000).
    pub imm_ee: bool,
}

impl TemplateBranch {
    /// A branch to `template` with these operands (for comparing against [`check`]'s
    /// answer, or describing a rewrite by hand).
    #[must_use]
    pub const fn new(template: Template, reg: Option<u8>, rb: Option<u8>, imm_ee: bool) -> Self {
        TemplateBranch {
            template,
            reg,
            rb,
            imm_ee,
        }
    }
}

/// What Linux writes over an instruction word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rewrite {
    /// A load from or a store to the magic page.
    Access(MagicAccess),
    /// `nop` (0x60000000), for `tlbsync`.
    Nop,
    /// A `b` to a per-site copy of a template. The branch word depends on where
    /// Linux's `kvm_tmp` area is, so it is not modelled as a word. Not modelled either:
    /// `kvm_patch_ins_b` gives up when the template is more than 32 MiB away, and on
    /// `CONFIG_RELOCATABLE` Book3S kernels it skips sites below `__end_interrupts`.
    Branch(TemplateBranch),
}

impl Rewrite {
    /// The replacement word for in-place rewrites; `None` for template branches.
    #[must_use]
    pub const fn word(&self) -> Option<u32> {
        match self {
            Rewrite::Access(a) => Some(a.word),
            Rewrite::Nop => Some(KVM_INST_NOP),
            Rewrite::Branch(_) => None,
        }
    }
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rewrite::Access(a) => write!(f, "{}  # {}", Insn::decode(a.word), a.target()),
            Rewrite::Nop => f.write_str("nop"),
            Rewrite::Branch(b) => {
                write!(f, "b {}", b.template)?;
                match (b.imm_ee, b.reg, b.rb) {
                    (true, _, _) => f.write_str(" (li r30,MSR_EE)"),
                    // mtsrin: RS and RB are ORed into the template as they are.
                    (false, Some(r), Some(rb)) => write!(f, " (r{r}, r{rb})"),
                    // The MSR templates reload r30/r31 from the scratch slots they
                    // saved them in (kvm_patch_ins_ll).
                    (false, Some(30), None) => f.write_str(" (r30 from scratch2)"),
                    (false, Some(31), None) => f.write_str(" (r31 from scratch1)"),
                    (false, Some(r), None) => write!(f, " (r{r})"),
                    (false, None, _) => Ok(()),
                }
            }
        }
    }
}

/// Why Linux leaves a matching word alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The host's `KVM_HC_PPC_MAP_MAGIC_PAGE` answer lacks this feature mask.
    NeedsFeature(MagicFeatures),
    /// The case is inside `#ifdef CONFIG_BOOKE`.
    BookEOnly,
    /// A BookE kernel does not match this SPR number (it matches DEAR 0x03D instead of
    /// DAR 0x013, PIR 0x11E instead of 0x3FF).
    NotOnBookE,
    /// The case is inside `#ifdef CONFIG_PPC_BOOK3E_MMU`.
    Book3eMmuOnly,
    /// The case is inside `#ifdef CONFIG_PPC_BOOK3S_32`.
    Book3S32Only,
}

impl Reason {
    /// A stable kebab-case code for JSON output.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NeedsFeature(f) if *f == MagicFeatures::SR => "needs-feat-sr",
            Reason::NeedsFeature(_) => "needs-feat-mas0-to-sprg7",
            Reason::BookEOnly => "booke-only",
            Reason::NotOnBookE => "not-on-booke",
            Reason::Book3eMmuOnly => "book3e-mmu-only",
            Reason::Book3S32Only => "book3s-32-only",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeedsFeature(feat) => {
                write!(f, "needs {} from the host", feature_name(*feat))
            }
            Reason::BookEOnly => f.write_str("BookE only (CONFIG_BOOKE)"),
            Reason::NotOnBookE => {
                f.write_str("Book3S only (a BookE kernel matches a different SPR number)")
            }
            Reason::Book3eMmuOnly => f.write_str("needs CONFIG_PPC_BOOK3E_MMU"),
            Reason::Book3S32Only => f.write_str("Book3S-32 only (CONFIG_PPC_BOOK3S_32)"),
        }
    }
}

/// The fate of one matching word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Linux rewrites it.
    Patch(Rewrite),
    /// Linux leaves it, for this reason.
    Skip(Reason),
}

/// Which of the three kinds of outcome a pattern has under one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeClass {
    /// Rewritten in place (load, store or nop).
    Direct,
    /// Branch to a template.
    Template,
    /// Left alone.
    Skipped,
}

impl Outcome {
    /// Direct, template or skipped.
    #[must_use]
    pub const fn class(&self) -> OutcomeClass {
        match self {
            Outcome::Patch(Rewrite::Branch(_)) => OutcomeClass::Template,
            Outcome::Patch(_) => OutcomeClass::Direct,
            Outcome::Skip(_) => OutcomeClass::Skipped,
        }
    }
}

/// A word that matched a pattern, and what Linux does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Index of the pattern in [`PATTERNS`].
    pub index: usize,
    /// The pattern.
    pub pattern: &'static Pattern,
    /// Rewrite or skip.
    pub outcome: Outcome,
}

impl Decision {
    /// The decision `outcome` for pattern number `index` of [`PATTERNS`]; `None` when
    /// there is no such pattern.
    #[must_use]
    pub fn new(index: usize, outcome: Outcome) -> Option<Decision> {
        Some(Decision {
            index,
            pattern: PATTERNS.get(index)?,
            outcome,
        })
    }
}

impl Pattern {
    /// Whether `word` matches this case.
    #[must_use]
    pub const fn matches(&self, word: u32) -> bool {
        word & self.matching.mask() == self.opcode
    }

    /// What `kvm_check_ins` does with `word` (which must match this pattern) under
    /// `cfg` and `features`. Compile-time gates are checked before the feature test,
    /// as in the C code.
    #[must_use]
    pub fn decide(&self, word: u32, cfg: Config, features: MagicFeatures) -> Outcome {
        if let Err(why) = self.config.admit(cfg) {
            return Outcome::Skip(why);
        }
        if !features.contains(self.feature) {
            return Outcome::Skip(Reason::NeedsFeature(self.feature));
        }
        let rt_bits = word & KVM_MASK_RT;
        let rt = u8::try_from(rt_bits >> 21).unwrap_or(0);
        let wide = matches!(cfg.word_size(), super::WordSize::W64);
        // magic_var(field) + extra as a 16-bit displacement (0xF000 is -4096), masked as
        // kvm_patch_ins_* masks it. Offsets come from the layout table (< 4096).
        let access = |op: MemOp, field: FieldId, offset: usize, mask: u32| {
            let ea = 0xf000u32.saturating_add(u32::try_from(offset).unwrap_or(0));
            let d = ea & mask;
            Outcome::Patch(Rewrite::Access(MagicAccess {
                op,
                field,
                page_offset: u16::try_from(d & 0x0fff).unwrap_or(0),
                word: op.opcode() | rt_bits | d,
            }))
        };
        let at = |field: FieldId, extra: u16| field.field().offset + usize::from(extra);
        // 32-bit ld/std: (magic_var(field) + 4) & 0xfffc, the layout's low-word offset.
        let low = |field: FieldId| field.field().offset32;
        match self.action {
            // kvm_patch_ins_ld / _std: 64-bit `& 0xfffc`; 32-bit the low word at +4.
            Action::Ld(f) if wide => access(MemOp::Ld, f, at(f, 0), 0xfffc),
            Action::Ld(f) => access(MemOp::Lwz, f, low(f), 0xfffc),
            Action::Std(f) if wide => access(MemOp::Std, f, at(f, 0), 0xfffc),
            Action::Std(f) => access(MemOp::Stw, f, low(f), 0xfffc),
            // kvm_patch_ins_lwz masks with 0xffff, kvm_patch_ins_stw with 0xfffc.
            Action::Lwz(f, extra) => access(MemOp::Lwz, f, at(f, extra), 0xffff),
            Action::Stw(f, extra) => access(MemOp::Stw, f, at(f, extra), 0xfffc),
            Action::Nop => Outcome::Patch(Rewrite::Nop),
            Action::Branch(template) => {
                let (reg, rb, imm_ee) = match self.matching {
                    Match::Exact => (None, None, self.opcode == KVM_INST_WRTEEI_1),
                    Match::NoRtRb => (
                        Some(rt),
                        u8::try_from((word & KVM_MASK_RB) >> 11).ok(),
                        false,
                    ),
                    Match::NoRt => (Some(rt), None, false),
                };
                Outcome::Patch(Rewrite::Branch(TemplateBranch {
                    template,
                    reg,
                    rb,
                    imm_ee,
                }))
            }
        }
    }
}

/// Flags for the low 11 bits (XO and Rc) of a primary-opcode-31 word, and for SPR
/// numbers: which kinds of pattern can match.
const FLAG_MFSPR: u8 = 1;
const FLAG_MTSPR: u8 = 2;
const FLAG_OTHER: u8 = 4;

/// Lookup tables built at compile time from [`PATTERNS`].
struct Lookup {
    /// By `word & 0x7ff` (XO and Rc): `FLAG_MFSPR`, `FLAG_MTSPR`, `FLAG_OTHER` or 0.
    xo: [u8; 2048],
    /// By SPR number: `FLAG_MFSPR` if an `mfspr` pattern uses it, `FLAG_MTSPR` if an
    /// `mtspr` pattern does; `FLAG_OTHER` is always set, so that
    /// `xo & spr != 0` is the whole prefilter.
    spr: [u8; 1024],
    /// By SPR number: pattern index + 1 for `mfspr`, 0 for none.
    mfspr: [u8; 1024],
    /// By SPR number: pattern index + 1 for `mtspr`, 0 for none.
    mtspr: [u8; 1024],
}

const fn build_lookup() -> Lookup {
    let mut t = Lookup {
        xo: [0; 2048],
        spr: [FLAG_OTHER; 1024],
        mfspr: [0; 1024],
        mtspr: [0; 1024],
    };
    let mut i = 0;
    while i < PATTERNS.len() {
        let p = &PATTERNS[i];
        // Every kvm.c pattern has primary opcode 31, which the prefilter relies on.
        assert!(p.opcode >> 26 == 31);
        let key = (p.opcode & 0x7ff) as usize;
        match p.spr {
            Some(spr) => {
                let spr = spr as usize;
                let idx = (i + 1) as u8;
                if p.opcode & SPR_TO != 0 {
                    assert!(t.mtspr[spr] == 0);
                    t.mtspr[spr] = idx;
                    t.xo[key] |= FLAG_MTSPR;
                    t.spr[spr] |= FLAG_MTSPR;
                } else {
                    assert!(t.mfspr[spr] == 0);
                    t.mfspr[spr] = idx;
                    t.xo[key] |= FLAG_MFSPR;
                    t.spr[spr] |= FLAG_MFSPR;
                }
            }
            None => t.xo[key] |= FLAG_OTHER,
        }
        i += 1;
    }
    t
}

static LOOKUP: Lookup = build_lookup();

/// The SPR number of an `mfspr`/`mtspr` word (its two swapped 5-bit halves).
#[inline(always)]
const fn spr_of(word: u32) -> usize {
    (((word >> 16) & 0x1f) | (((word >> 11) & 0x1f) << 5)) as usize
}

/// The bits of a word that decide whether it can match any pattern at all: the
/// primary opcode (31 for all of them), XO and Rc.
pub const XO_KEY_MASK: u32 = 0xfc00_07ff;

/// `opcode & XO_KEY_MASK` of every pattern, without repeats: `mfmsr`, `mfspr`,
/// `mtspr`, `tlbsync`, `mtmsrd`, `mtmsr`, `wrtee`, `wrteei`, `mtsrin`. A test checks the
/// list against [`PATTERNS`]. The scanner compares every word with these nine values
/// (vectorisable), then settles the rare hits with [`classify`].
pub const XO_KEYS: [u32; 9] = [
    KVM_INST_MFMSR,
    kvm_inst_spr(0, SPR_FROM),
    kvm_inst_spr(0, SPR_TO),
    KVM_INST_TLBSYNC,
    KVM_INST_MTMSRD_L0,
    KVM_INST_MTMSR,
    KVM_INST_WRTEE,
    KVM_INST_WRTEEI_0,
    KVM_INST_MTSRIN,
];

/// The scanner's branch-free prefilter: false for every word that matches no pattern
/// (primary opcode, XO and, for `mfspr`/`mtspr`, the SPR number are checked with two
/// small table loads); true for every word that does and for a few near misses, which
/// [`classify`] then settles.
#[inline(always)]
#[must_use]
pub fn prefilter(word: u32) -> bool {
    let opcode_31 = u8::from(word >> 26 == 31);
    // Both indices are masked to the table sizes, so `get` never fails.
    let xo = LOOKUP.xo.get((word & 0x7ff) as usize).copied().unwrap_or(0);
    let spr = LOOKUP.spr.get(spr_of(word)).copied().unwrap_or(0);
    (opcode_31 & u8::from(xo & spr != 0)) != 0
}

/// The pattern `word` matches, as an index into [`PATTERNS`], or `None` for the vast
/// majority of words. Independent of configuration and features.
#[inline]
#[must_use]
pub fn classify(word: u32) -> Option<usize> {
    if !prefilter(word) {
        return None;
    }
    let xo = LOOKUP.xo.get((word & 0x7ff) as usize).copied()?;
    let table = match xo {
        FLAG_MFSPR => &LOOKUP.mfspr,
        FLAG_MTSPR => &LOOKUP.mtspr,
        _ => {
            return PATTERNS
                .iter()
                .position(|p| p.spr.is_none() && p.matches(word));
        }
    };
    // With opcode 31 and the XO checked, RA and RB are the SPR number, so a table hit
    // means `word & ~KVM_MASK_RT == opcode`.
    let idx = usize::from(table.get(spr_of(word)).copied()?);
    idx.checked_sub(1)
}

/// What Linux's `kvm_check_ins` does with one instruction word, for a kernel built
/// with `cfg` and a host that answered `features` to `KVM_HC_PPC_MAP_MAGIC_PAGE`.
/// `None` when the word is not one `kvm.c` looks at.
///
/// ```
/// use ppcpv::hcall::MagicFeatures;
/// use ppcpv::paravirt::{check, Config, Outcome};
///
/// // mfmsr r3 on a 64-bit Book3S guest: ld r3,-4008(0).
/// let d = check(0x7c6000a6, Config::BOOK3S_64, MagicFeatures::MAINLINE).unwrap();
/// let Outcome::Patch(r) = d.outcome else { panic!() };
/// assert_eq!(r.word(), Some(0xe860f058));
/// ```
#[must_use]
pub fn check(word: u32, cfg: Config, features: MagicFeatures) -> Option<Decision> {
    let index = classify(word)?;
    let pattern = PATTERNS.get(index)?;
    Some(Decision {
        index,
        pattern,
        outcome: pattern.decide(word, cfg, features),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_classify_agrees_with_linear_search() {
        // Every pattern word with every RT/RB, and their neighbours.
        for (i, p) in PATTERNS.iter().enumerate() {
            for rt in 0..32u32 {
                let w = p.opcode | rt << 21;
                let want = (rt == 0 || p.matching != Match::Exact).then_some(i);
                assert_eq!(classify(w), want, "{} rt={rt}", p.name);
                for bit in 0..32 {
                    let v = w ^ (1 << bit);
                    let linear = PATTERNS.iter().position(|q| q.matches(v));
                    assert_eq!(classify(v), linear, "{v:#010x}");
                }
            }
        }
    }

    #[test]
    fn prefilter_never_drops_a_match() {
        // Every opcode-31 word with RT = 0 (RA, RB, XO and Rc take all values; RT is
        // masked off by every pattern but the exact wrteei words, which have RT = 0).
        for low in 0..(1u32 << 21) {
            let w = 0x7c00_0000 | low;
            let linear = PATTERNS.iter().position(|q| q.matches(w));
            assert_eq!(classify(w), linear, "{w:#010x}");
            if linear.is_some() {
                assert!(prefilter(w));
            }
        }
        // Other primary opcodes never pass.
        for op in (0..64u32).filter(|&o| o != 31) {
            assert!(!prefilter(op << 26 | 0x02a6));
        }
    }

    #[test]
    fn xo_keys_cover_exactly_the_patterns() {
        let mut from_patterns: Vec<u32> = PATTERNS.iter().map(|p| p.opcode & XO_KEY_MASK).collect();
        from_patterns.sort_unstable();
        from_patterns.dedup();
        let mut keys = XO_KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(keys, from_patterns);
    }

    #[test]
    fn patterns_are_distinct_and_fields_exist() {
        for (i, p) in PATTERNS.iter().enumerate() {
            for q in PATTERNS.iter().skip(i + 1) {
                assert!(!p.matches(q.opcode), "{} overlaps {}", p.name, q.name);
                assert!(!q.matches(p.opcode), "{} overlaps {}", q.name, p.name);
            }
            // kvm.c's 32-bit rule for ld/std is "+4"; the layout table must agree.
            if let Action::Ld(f) | Action::Std(f) = p.action {
                let field = f.field();
                assert_eq!(field.offset32, field.offset + 4, "{}", field.name);
            }
        }
    }

    #[test]
    fn kvm_inst_spr_matches_reference_table() {
        // kvm.c's KVM_INST_SPR(sprn, moveType) values for the SPRs it matches.
        use spr::*;
        assert_eq!(kvm_inst_spr(SPRN_SPRG0, SPR_FROM), 0x7c10_42a6);
        assert_eq!(kvm_inst_spr(SPRN_SPRG3, SPR_TO), 0x7c13_43a6);
        assert_eq!(kvm_inst_spr(SPRN_SRR1, SPR_FROM), 0x7c1b_02a6);
        assert_eq!(kvm_inst_spr(SPRN_DEAR, SPR_TO), 0x7c1d_0ba6);
        assert_eq!(kvm_inst_spr(SPRN_PIR, SPR_FROM), 0x7c1e_42a6);
        assert_eq!(kvm_inst_spr(SPRN_PIR_BOOK3S, SPR_FROM), 0x7c1f_faa6);
        assert_eq!(kvm_inst_spr(SPRN_MAS6, SPR_FROM), 0x7c16_9aa6);
        assert_eq!(kvm_inst_spr(SPRN_MAS7, SPR_FROM), 0x7c10_eaa6);
        assert_eq!(kvm_inst_spr(SPRN_SPRG7R, SPR_FROM), 0x7c07_42a6);
    }

    #[test]
    fn non_candidates() {
        for w in [
            0u32,
            0xffff_ffff,
            0x7c08_02a6, /* mflr r0 */
            0x6000_0000,
            0x4e80_0020,
        ] {
            assert_eq!(check(w, Config::BOOK3S_64, MagicFeatures::MAINLINE), None);
        }
        // wrteei with a stray RT bit is not the exact word kvm.c compares.
        assert_eq!(classify(0x7c20_8146), None);
        // mfmsr with Rc set.
        assert_eq!(classify(0x7c60_00a7), None);
    }
}
