//! PowerPC instruction encoding and decoding for the instructions that appear in
//! hypercall sequences and in the guest's magic-page patching, a small assembler, and
//! the named `hcall-instructions` sequences.
//!
//! The encodings follow the Power ISA field layout (IBM bit numbering: bit 0 = most
//! significant bit), cross-checked against the opcode constants (`KVM_INST_*`) of
//! `torvalds/linux: arch/powerpc/kernel/kvm.c` and
//! `arch/powerpc/include/asm/ppc-opcode.h`.
//!
//! - [`Insn`]: one instruction. [`Insn::decode`] never fails: a word that is not exactly
//!   one of the supported forms (including its reserved bits) is [`Insn::Long`], so
//!   `Insn::decode(w).encode() == w` for every `w`.
//! - [`Insn`]'s `Display` is GNU-objdump-like disassembly (`lis r0,0x4b56`, `sc 1`,
//!   `ld r3,-4008(0)`, `mfspr r3,MAS7`, `b .+8`, `.long 0x12345678`); [`assemble`] reads
//!   the same syntax back.
//! - [`seq`]: the named hypercall sequences (`kvm-pr`, `booke-hv`, `epapr`,
//!   `qemu-fallback`, `qemu-fallback-old`) and what a guest of either byte order runs.
//! - [`spr`]: SPR numbers and names.
//!
//! ```
//! use ppcpv::insn::{assemble, Insn};
//!
//! let words = assemble("lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop").unwrap();
//! assert_eq!(words, [0x3c004b56, 0x60004d21, 0x44000002, 0x60000000]);
//! assert_eq!(Insn::decode(0x7c6000a6).to_string(), "mfmsr r3");
//! assert_eq!(Insn::decode(0xe860f058).to_string(), "ld r3,-4008(0)");
//! ```

use crate::Endian;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

mod asm;
pub mod seq;
pub mod spr;

pub use asm::{AsmError, AsmErrorKind, assemble, assemble_insns, assemble_one};
pub use seq::{KnownSequence, recognise};
pub use spr::{spr_by_name, spr_name};

/// `nop` = `ori 0,0,0` (`kvm.c` `KVM_INST_NOP`).
pub const NOP: u32 = 0x6000_0000;
/// `sc` (LEV 0): a system call, the KVM PR hypercall trap.
pub const SC: u32 = 0x4400_0002;
/// `sc 1`: a hypervisor call (BookE-HV, ePAPR/Topaz).
pub const SC1: u32 = 0x4400_0022;
/// `blr`: return, the last instruction of the guest's hypercall stub.
pub const BLR: u32 = 0x4e80_0020;

// Primary opcodes (OPCD, IBM bits 0-5; Power ISA).
const OP_TDI: u32 = 2;
const OP_TWI: u32 = 3;
const OP_ADDI: u32 = 14;
const OP_ADDIS: u32 = 15;
const OP_SC: u32 = 17;
const OP_B: u32 = 18;
const OP_ORI: u32 = 24;
const OP_ORIS: u32 = 25;
const OP_X: u32 = 31;
const OP_LWZ: u32 = 32;
const OP_STW: u32 = 36;
const OP_LD: u32 = 58;
const OP_STD: u32 = 62;

// Fixed patterns of the X/XFX-form instructions with every operand field zero
// (`KVM_INST_*` in arch/powerpc/kernel/kvm.c; Power ISA X/XFX forms).
const X_MFSPR: u32 = 0x7c00_02a6;
const X_MTSPR: u32 = 0x7c00_03a6;
const X_MFMSR: u32 = 0x7c00_00a6;
const X_MTMSR: u32 = 0x7c00_0124;
const X_MTMSRD: u32 = 0x7c00_0164;
const X_WRTEE: u32 = 0x7c00_0106;
const X_WRTEEI: u32 = 0x7c00_0146;
const X_TLBSYNC: u32 = 0x7c00_046c;
const X_MTSRIN: u32 = 0x7c00_01e4;

// Field masks in a u32 (LSB = bit 0 of the word, IBM bit 31).
const F_RT: u32 = 0x03e0_0000;
const F_RB: u32 = 0x0000_f800;
const F_SPR: u32 = 0x001f_f800;
const F_LEV: u32 = 0x0000_0fe0;
const F_L15: u32 = 0x0001_0000; // mtmsrd L, IBM bit 15
const F_E16: u32 = 0x0000_8000; // wrteei E, IBM bit 16
const F_LI: u32 = 0x03ff_fffc;

/// One PowerPC instruction of the supported set, or any other word as [`Insn::Long`].
///
/// Register fields are 0–31, `to` is 0–31, `lev` is 0–127, `spr` is 0–1023. Displacements
/// are byte offsets: `ds` of `ld`/`std` is a multiple of 4, `offset` of `b` a multiple of
/// 4 within ±32 MiB. [`Insn::encode`] masks out-of-range fields to their width;
/// [`Insn::try_encode`] rejects them instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Insn {
    /// `sc LEV` (SC-form, OPCD 17): system call (LEV 0) or hypervisor call (LEV 1).
    Sc {
        /// Privilege level field (7 bits; only LEV 0 and 1 are architected).
        lev: u8,
    },
    /// `ori RA,RS,UI` (OPCD 24); `ori 0,0,0` is `nop`.
    Ori {
        /// Destination.
        ra: u8,
        /// Source.
        rs: u8,
        /// Unsigned immediate.
        ui: u16,
    },
    /// `oris RA,RS,UI` (OPCD 25).
    Oris {
        /// Destination.
        ra: u8,
        /// Source.
        rs: u8,
        /// Unsigned immediate (shifted left 16 at run time).
        ui: u16,
    },
    /// `addi RT,RA,SI` (OPCD 14); with RA = 0 this is `li RT,SI`.
    Addi {
        /// Destination.
        rt: u8,
        /// Source; 0 means the literal value 0, not r0.
        ra: u8,
        /// Signed immediate.
        si: i16,
    },
    /// `addis RT,RA,SI` (OPCD 15); with RA = 0 this is `lis RT,SI`.
    Addis {
        /// Destination.
        rt: u8,
        /// Source; 0 means the literal value 0.
        ra: u8,
        /// Signed immediate (shifted left 16 at run time).
        si: i16,
    },
    /// `b`/`ba`/`bl`/`bla` (I-form, OPCD 18).
    B {
        /// Byte displacement (relative) or target address (absolute): a multiple of 4
        /// in -0x200_0000..=0x1ff_fffc.
        offset: i32,
        /// Absolute address (AA).
        aa: bool,
        /// Set the link register (LK).
        lk: bool,
    },
    /// `blr` (0x4e800020): branch to the link register.
    Blr,
    /// `tdi TO,RA,SI` (OPCD 2): trap doubleword immediate; TO = 0 never traps.
    Tdi {
        /// Trap condition bits.
        to: u8,
        /// Compared register.
        ra: u8,
        /// Signed immediate.
        si: i16,
    },
    /// `twi TO,RA,SI` (OPCD 3): trap word immediate.
    Twi {
        /// Trap condition bits.
        to: u8,
        /// Compared register.
        ra: u8,
        /// Signed immediate.
        si: i16,
    },
    /// `lwz RT,D(RA)` (OPCD 32).
    Lwz {
        /// Destination.
        rt: u8,
        /// Base; 0 means the literal value 0.
        ra: u8,
        /// Signed displacement.
        d: i16,
    },
    /// `stw RS,D(RA)` (OPCD 36).
    Stw {
        /// Source.
        rs: u8,
        /// Base; 0 means the literal value 0.
        ra: u8,
        /// Signed displacement.
        d: i16,
    },
    /// `ld RT,DS(RA)` (DS-form, OPCD 58, XO 0).
    Ld {
        /// Destination.
        rt: u8,
        /// Base; 0 means the literal value 0.
        ra: u8,
        /// Signed byte displacement, a multiple of 4.
        ds: i16,
    },
    /// `std RS,DS(RA)` (DS-form, OPCD 62, XO 0).
    Std {
        /// Source.
        rs: u8,
        /// Base; 0 means the literal value 0.
        ra: u8,
        /// Signed byte displacement, a multiple of 4.
        ds: i16,
    },
    /// `mfspr RT,SPR` (XFX-form, OPCD 31, XO 339).
    Mfspr {
        /// Destination.
        rt: u8,
        /// SPR number (10 bits), see [`spr`].
        spr: u16,
    },
    /// `mtspr SPR,RS` (XFX-form, OPCD 31, XO 467).
    Mtspr {
        /// SPR number (10 bits), see [`spr`].
        spr: u16,
        /// Source.
        rs: u8,
    },
    /// `mfmsr RT` (OPCD 31, XO 83).
    Mfmsr {
        /// Destination.
        rt: u8,
    },
    /// `mtmsr RS` (OPCD 31, XO 146).
    Mtmsr {
        /// Source.
        rs: u8,
    },
    /// `mtmsrd RS,L` (OPCD 31, XO 178).
    Mtmsrd {
        /// Source.
        rs: u8,
        /// L = 1: only `MSR[EE]` and `MSR[RI]` are changed.
        l: bool,
    },
    /// `wrtee RS` (BookE, OPCD 31, XO 131).
    Wrtee {
        /// Source (its EE bit is copied).
        rs: u8,
    },
    /// `wrteei E` (BookE, OPCD 31, XO 163).
    Wrteei {
        /// New `MSR[EE]`.
        e: bool,
    },
    /// `tlbsync` (OPCD 31, XO 566).
    Tlbsync,
    /// `mtsrin RS,RB` (Book3S-32, OPCD 31, XO 242).
    Mtsrin {
        /// Source.
        rs: u8,
        /// Register whose top four bits select the segment register.
        rb: u8,
    },
    /// Any other word, shown as `.long 0x…`.
    Long(u32),
}

/// Why [`Insn::try_encode`] refused an instruction: a field does not fit its encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field value exceeds its width.
    #[error("{field} = {value} is out of range 0..={max}")]
    OutOfRange {
        /// The field's name (`rt`, `lev`, `spr`, ...).
        field: &'static str,
        /// The value given.
        value: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// A displacement that must be a multiple of 4 is not.
    #[error("{field} = {value} is not a multiple of 4")]
    Misaligned {
        /// The field's name (`ds` or `offset`).
        field: &'static str,
        /// The value given.
        value: i64,
    },
    /// A branch displacement beyond ±32 MiB.
    #[error("branch offset {value} is outside -33554432..=33554428")]
    BranchRange {
        /// The value given.
        value: i64,
    },
}

#[inline]
fn field(w: u32, shift: u32) -> u8 {
    ((w >> shift) & 0x1f) as u8
}

#[inline]
fn simm(w: u32) -> i16 {
    (w as u16).cast_signed()
}

#[inline]
fn reg(r: u8, shift: u32) -> u32 {
    (u32::from(r) & 0x1f) << shift
}

#[inline]
fn d_form(op: u32, hi: u8, ra: u8, imm: u16) -> u32 {
    (op << 26) | reg(hi, 21) | reg(ra, 16) | u32::from(imm)
}

/// Splits an SPR number into the XFX field (the two 5-bit halves swapped, as the Power
/// ISA encodes `spr` in `mfspr`/`mtspr`).
#[inline]
#[must_use]
pub const fn spr_field(spr: u16) -> u32 {
    let s = spr as u32;
    ((s & 0x1f) << 16) | ((s & 0x3e0) << 6)
}

/// The SPR number held in a word's XFX field (halves swapped back).
#[inline]
#[must_use]
pub const fn spr_from_word(w: u32) -> u16 {
    (((w >> 16) & 0x1f) | (((w >> 11) & 0x1f) << 5)) as u16
}

/// A word as a CPU of byte order `endian` fetches it from memory that holds the
/// big-endian bytes of `word` (as a device tree stores `hcall-instructions`): unchanged
/// for a big-endian CPU, byte-reversed for a little-endian one (the case QEMU's
/// `kvmppc_get_hypercall` fallback is built for).
#[inline]
#[must_use]
pub const fn fetch(word: u32, endian: Endian) -> u32 {
    match endian {
        Endian::Big => word,
        Endian::Little => word.swap_bytes(),
    }
}

/// Decodes `words` (big-endian values, as in a device tree) as a CPU of byte order
/// `endian` fetches them; see [`fetch`].
///
/// ```
/// use ppcpv::{Endian, insn::{decode_as, Insn}};
/// let le = decode_as(&[0x08000048, 0x3860ffff], Endian::Little);
/// assert_eq!(le[0].to_string(), "b .+8");
/// assert_eq!(le[1].to_string(), ".long 0xffff6038");
/// ```
#[must_use]
pub fn decode_as(words: &[u32], endian: Endian) -> Vec<Insn> {
    words
        .iter()
        .map(|&w| Insn::decode(fetch(w, endian)))
        .collect()
}

/// Why [`parse_words`] refused a word list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("word {index} '{text}': {source}")]
#[non_exhaustive]
pub struct WordsError {
    /// 1-based position of the bad word.
    pub index: usize,
    /// The word as written.
    pub text: String,
    /// Why it is not a 32-bit number.
    #[source]
    pub source: crate::num::NumError,
}

/// Parses a list of 32-bit words separated by whitespace or commas, decimal or `0x`
/// hex, optionally wrapped in DTS cell brackets: `0x44000022,0x60000000` and
/// `<0x44000022 0x60000000>` give the same two words. Empty text gives no words.
///
/// ```
/// use ppcpv::insn::parse_words;
/// assert_eq!(parse_words("<0x44000022 0x60000000>").unwrap(), [0x44000022, 0x60000000]);
/// assert_eq!(parse_words("1, 2,3").unwrap(), [1, 2, 3]);
/// assert!(parse_words("0x100000000").is_err());
/// ```
///
/// # Errors
/// [`WordsError`] naming the first word that is not a 32-bit number.
pub fn parse_words(text: &str) -> Result<Vec<u32>, WordsError> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '<' || c == '>')
        .filter(|t| !t.is_empty())
        .enumerate()
        .map(|(i, t)| {
            crate::num::parse_u32(t).map_err(|source| WordsError {
                index: i + 1,
                text: t.to_string(),
                source,
            })
        })
        .collect()
}

impl Insn {
    /// Decodes one instruction word. Never fails: a word is a named form only when its
    /// opcode, extended opcode and reserved bits all match, otherwise [`Insn::Long`].
    #[must_use]
    pub fn decode(w: u32) -> Insn {
        let rt = field(w, 21);
        let ra = field(w, 16);
        let rb = field(w, 11);
        match w >> 26 {
            // SC: only LEV (bits 20-26) and the fixed bit 30 may be set.
            OP_SC if w & !F_LEV == SC => Insn::Sc {
                lev: ((w & F_LEV) >> 5) as u8,
            },
            OP_ORI => Insn::Ori {
                ra,
                rs: rt,
                ui: w as u16,
            },
            OP_ORIS => Insn::Oris {
                ra,
                rs: rt,
                ui: w as u16,
            },
            OP_ADDI => Insn::Addi {
                rt,
                ra,
                si: simm(w),
            },
            OP_ADDIS => Insn::Addis {
                rt,
                ra,
                si: simm(w),
            },
            OP_B => Insn::B {
                offset: ((w & F_LI) << 6).cast_signed() >> 6,
                aa: w & 2 != 0,
                lk: w & 1 != 0,
            },
            _ if w == BLR => Insn::Blr,
            OP_TDI => Insn::Tdi {
                to: rt,
                ra,
                si: simm(w),
            },
            OP_TWI => Insn::Twi {
                to: rt,
                ra,
                si: simm(w),
            },
            OP_LWZ => Insn::Lwz { rt, ra, d: simm(w) },
            OP_STW => Insn::Stw {
                rs: rt,
                ra,
                d: simm(w),
            },
            // DS-form: XO in the two low bits must be 0 (1 = ldu/stdu, 2 = lwa).
            OP_LD if w & 3 == 0 => Insn::Ld {
                rt,
                ra,
                ds: simm(w),
            },
            OP_STD if w & 3 == 0 => Insn::Std {
                rs: rt,
                ra,
                ds: simm(w),
            },
            OP_X => Self::decode_x(w, rt, rb),
            _ => Insn::Long(w),
        }
    }

    fn decode_x(w: u32, rt: u8, rb: u8) -> Insn {
        if w & !(F_RT | F_SPR) == X_MFSPR {
            Insn::Mfspr {
                rt,
                spr: spr_from_word(w),
            }
        } else if w & !(F_RT | F_SPR) == X_MTSPR {
            Insn::Mtspr {
                spr: spr_from_word(w),
                rs: rt,
            }
        } else if w & !F_RT == X_MFMSR {
            Insn::Mfmsr { rt }
        } else if w & !F_RT == X_MTMSR {
            Insn::Mtmsr { rs: rt }
        } else if w & !(F_RT | F_L15) == X_MTMSRD {
            Insn::Mtmsrd {
                rs: rt,
                l: w & F_L15 != 0,
            }
        } else if w & !F_RT == X_WRTEE {
            Insn::Wrtee { rs: rt }
        } else if w & !F_E16 == X_WRTEEI {
            Insn::Wrteei { e: w & F_E16 != 0 }
        } else if w == X_TLBSYNC {
            Insn::Tlbsync
        } else if w & !(F_RT | F_RB) == X_MTSRIN {
            Insn::Mtsrin { rs: rt, rb }
        } else {
            Insn::Long(w)
        }
    }

    /// Encodes the instruction. Fields wider than their encoding are masked to it
    /// (a register 35 becomes 3, the low two bits of a `ds` are dropped); use
    /// [`Insn::try_encode`] to reject such values instead.
    #[must_use]
    pub fn encode(&self) -> u32 {
        match *self {
            Insn::Sc { lev } => SC | ((u32::from(lev) << 5) & F_LEV),
            Insn::Ori { ra, rs, ui } => d_form(OP_ORI, rs, ra, ui),
            Insn::Oris { ra, rs, ui } => d_form(OP_ORIS, rs, ra, ui),
            Insn::Addi { rt, ra, si } => d_form(OP_ADDI, rt, ra, si.cast_unsigned()),
            Insn::Addis { rt, ra, si } => d_form(OP_ADDIS, rt, ra, si.cast_unsigned()),
            Insn::B { offset, aa, lk } => {
                (OP_B << 26)
                    | (offset.cast_unsigned() & F_LI)
                    | (u32::from(aa) << 1)
                    | u32::from(lk)
            }
            Insn::Blr => BLR,
            Insn::Tdi { to, ra, si } => d_form(OP_TDI, to, ra, si.cast_unsigned()),
            Insn::Twi { to, ra, si } => d_form(OP_TWI, to, ra, si.cast_unsigned()),
            Insn::Lwz { rt, ra, d } => d_form(OP_LWZ, rt, ra, d.cast_unsigned()),
            Insn::Stw { rs, ra, d } => d_form(OP_STW, rs, ra, d.cast_unsigned()),
            Insn::Ld { rt, ra, ds } => d_form(OP_LD, rt, ra, ds.cast_unsigned() & 0xfffc),
            Insn::Std { rs, ra, ds } => d_form(OP_STD, rs, ra, ds.cast_unsigned() & 0xfffc),
            Insn::Mfspr { rt, spr } => X_MFSPR | reg(rt, 21) | spr_field(spr),
            Insn::Mtspr { spr, rs } => X_MTSPR | reg(rs, 21) | spr_field(spr),
            Insn::Mfmsr { rt } => X_MFMSR | reg(rt, 21),
            Insn::Mtmsr { rs } => X_MTMSR | reg(rs, 21),
            Insn::Mtmsrd { rs, l } => X_MTMSRD | reg(rs, 21) | (u32::from(l) << 16),
            Insn::Wrtee { rs } => X_WRTEE | reg(rs, 21),
            Insn::Wrteei { e } => X_WRTEEI | (u32::from(e) << 15),
            Insn::Tlbsync => X_TLBSYNC,
            Insn::Mtsrin { rs, rb } => X_MTSRIN | reg(rs, 21) | reg(rb, 11),
            Insn::Long(w) => w,
        }
    }

    /// Encodes the instruction after checking that every field fits its encoding.
    ///
    /// # Errors
    /// [`EncodeError`] naming the first field that does not fit.
    pub fn try_encode(&self) -> Result<u32, EncodeError> {
        self.validate()?;
        Ok(self.encode())
    }

    /// Checks that every field fits its encoding (see [`Insn::try_encode`]).
    ///
    /// # Errors
    /// [`EncodeError`] naming the first field that does not fit.
    pub fn validate(&self) -> Result<(), EncodeError> {
        fn r(name: &'static str, v: u8) -> Result<(), EncodeError> {
            limit(name, i64::from(v), 31)
        }
        fn limit(field: &'static str, value: i64, max: i64) -> Result<(), EncodeError> {
            if (0..=max).contains(&value) {
                Ok(())
            } else {
                Err(EncodeError::OutOfRange { field, value, max })
            }
        }
        fn quad(field: &'static str, value: i64) -> Result<(), EncodeError> {
            if value % 4 == 0 {
                Ok(())
            } else {
                Err(EncodeError::Misaligned { field, value })
            }
        }
        match *self {
            Insn::Sc { lev } => limit("lev", i64::from(lev), 0x7f),
            Insn::Ori { ra, rs, .. } | Insn::Oris { ra, rs, .. } => {
                r("ra", ra)?;
                r("rs", rs)
            }
            Insn::Addi { rt, ra, .. } | Insn::Addis { rt, ra, .. } | Insn::Lwz { rt, ra, .. } => {
                r("rt", rt)?;
                r("ra", ra)
            }
            Insn::Stw { rs, ra, .. } => {
                r("rs", rs)?;
                r("ra", ra)
            }
            Insn::Ld { rt, ra, ds } => {
                r("rt", rt)?;
                r("ra", ra)?;
                quad("ds", i64::from(ds))
            }
            Insn::Std { rs, ra, ds } => {
                r("rs", rs)?;
                r("ra", ra)?;
                quad("ds", i64::from(ds))
            }
            Insn::B { offset, .. } => {
                let v = i64::from(offset);
                quad("offset", v)?;
                if (-0x200_0000..=0x1ff_fffc).contains(&v) {
                    Ok(())
                } else {
                    Err(EncodeError::BranchRange { value: v })
                }
            }
            Insn::Tdi { to, ra, .. } | Insn::Twi { to, ra, .. } => {
                r("to", to)?;
                r("ra", ra)
            }
            Insn::Mfspr { rt: x, spr } | Insn::Mtspr { rs: x, spr } => {
                r("register", x)?;
                limit("spr", i64::from(spr), i64::from(spr::SPR_MAX))
            }
            Insn::Mfmsr { rt: x }
            | Insn::Mtmsr { rs: x }
            | Insn::Mtmsrd { rs: x, .. }
            | Insn::Wrtee { rs: x } => r("register", x),
            Insn::Mtsrin { rs, rb } => {
                r("rs", rs)?;
                r("rb", rb)
            }
            Insn::Blr | Insn::Wrteei { .. } | Insn::Tlbsync | Insn::Long(_) => Ok(()),
        }
    }

    /// The mnemonic as [`Display`](fmt::Display) prints it (`li`, `nop`, `bl`, `.long`).
    #[must_use]
    pub fn mnemonic(&self) -> &'static str {
        match *self {
            Insn::Sc { .. } => "sc",
            Insn::Ori {
                ra: 0,
                rs: 0,
                ui: 0,
            } => "nop",
            Insn::Ori { .. } => "ori",
            Insn::Oris { .. } => "oris",
            Insn::Addi { ra: 0, .. } => "li",
            Insn::Addi { .. } => "addi",
            Insn::Addis { ra: 0, .. } => "lis",
            Insn::Addis { .. } => "addis",
            Insn::B { aa, lk, .. } => match (aa, lk) {
                (false, false) => "b",
                (false, true) => "bl",
                (true, false) => "ba",
                (true, true) => "bla",
            },
            Insn::Blr => "blr",
            Insn::Tdi { .. } => "tdi",
            Insn::Twi { .. } => "twi",
            Insn::Lwz { .. } => "lwz",
            Insn::Stw { .. } => "stw",
            Insn::Ld { .. } => "ld",
            Insn::Std { .. } => "std",
            Insn::Mfspr { .. } => "mfspr",
            Insn::Mtspr { .. } => "mtspr",
            Insn::Mfmsr { .. } => "mfmsr",
            Insn::Mtmsr { .. } => "mtmsr",
            Insn::Mtmsrd { .. } => "mtmsrd",
            Insn::Wrtee { .. } => "wrtee",
            Insn::Wrteei { .. } => "wrteei",
            Insn::Tlbsync => "tlbsync",
            Insn::Mtsrin { .. } => "mtsrin",
            Insn::Long(_) => ".long",
        }
    }

    /// The general-purpose register the instruction writes, if any.
    #[must_use]
    pub fn target_gpr(&self) -> Option<u8> {
        match *self {
            Insn::Ori { ra, .. } | Insn::Oris { ra, .. } => Some(ra),
            Insn::Addi { rt, .. }
            | Insn::Addis { rt, .. }
            | Insn::Lwz { rt, .. }
            | Insn::Ld { rt, .. }
            | Insn::Mfspr { rt, .. }
            | Insn::Mfmsr { rt } => Some(rt),
            _ => None,
        }
    }

    /// True for [`Insn::Long`]: a word outside the supported set.
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        matches!(self, Insn::Long(_))
    }

    /// True for `nop` (`ori 0,0,0`, 0x60000000).
    #[must_use]
    pub fn is_nop(&self) -> bool {
        matches!(
            self,
            Insn::Ori {
                ra: 0,
                rs: 0,
                ui: 0
            }
        )
    }
}

/// Parses one statement in [`assemble`]'s syntax: `"sc 1".parse::<Insn>()`.
///
/// ```
/// use ppcpv::insn::Insn;
/// let i: Insn = "mfspr r3,MAS7".parse().unwrap();
/// assert_eq!(i.encode(), 0x7c70eaa6);
/// ```
impl core::str::FromStr for Insn {
    type Err = AsmErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        assemble_one(s)
    }
}

/// `D(RA)` with RA = 0 shown as the literal `0`, as objdump does for load/store bases.
struct Mem(i16, u8);

impl fmt::Display for Mem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 == 0 {
            write!(f, "{}(0)", self.0)
        } else {
            write!(f, "{}(r{})", self.0, self.1)
        }
    }
}

/// An SPR operand: its name when known, else its number in hex.
struct Spr(u16);

impl fmt::Display for Spr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match spr_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

/// Disassembly in GNU objdump's style, with these conventions (all read back by
/// [`assemble`]): registers `rN`; a load/store base of 0 is the literal `(0)`;
/// `addi`/`li`, `tdi`/`twi` immediates and displacements in signed decimal; `ori`/`oris`
/// and `addis`/`lis` immediates as 16-bit hex (`lis r0,0x4b56`); relative branches as
/// `.+N`/`.-N`, absolute ones as a signed hex address; SPRs by name (`mfspr r3,SPRG0`),
/// else as hex numbers; any other word as `.long 0x…`.
impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mnemonic();
        match *self {
            Insn::Sc { lev: 0 } | Insn::Blr | Insn::Tlbsync => f.write_str(m),
            Insn::Sc { lev } => write!(f, "{m} {lev}"),
            Insn::Ori {
                ra: 0,
                rs: 0,
                ui: 0,
            } => f.write_str(m),
            Insn::Ori { ra, rs, ui } | Insn::Oris { ra, rs, ui } => {
                write!(f, "{m} r{ra},r{rs},{ui:#x}")
            }
            Insn::Addi { rt, ra: 0, si } => write!(f, "{m} r{rt},{si}"),
            Insn::Addi { rt, ra, si } => write!(f, "{m} r{rt},r{ra},{si}"),
            Insn::Addis { rt, ra: 0, si } => write!(f, "{m} r{rt},{:#x}", si.cast_unsigned()),
            Insn::Addis { rt, ra, si } => write!(f, "{m} r{rt},r{ra},{:#x}", si.cast_unsigned()),
            Insn::B {
                offset, aa: false, ..
            } => {
                if offset < 0 {
                    write!(f, "{m} .-{}", offset.unsigned_abs())
                } else {
                    write!(f, "{m} .+{offset}")
                }
            }
            Insn::B { offset, .. } => {
                if offset < 0 {
                    write!(f, "{m} -{:#x}", offset.unsigned_abs())
                } else {
                    write!(f, "{m} {offset:#x}")
                }
            }
            Insn::Tdi { to, ra, si } | Insn::Twi { to, ra, si } => write!(f, "{m} {to},r{ra},{si}"),
            Insn::Lwz { rt: r, ra, d }
            | Insn::Stw { rs: r, ra, d }
            | Insn::Ld { rt: r, ra, ds: d }
            | Insn::Std { rs: r, ra, ds: d } => write!(f, "{m} r{r},{}", Mem(d, ra)),
            Insn::Mfspr { rt, spr } => write!(f, "{m} r{rt},{}", Spr(spr)),
            Insn::Mtspr { spr, rs } => write!(f, "{m} {},r{rs}", Spr(spr)),
            Insn::Mfmsr { rt: r } | Insn::Mtmsr { rs: r } | Insn::Wrtee { rs: r } => {
                write!(f, "{m} r{r}")
            }
            Insn::Mtmsrd { rs, l: false } => write!(f, "{m} r{rs}"),
            Insn::Mtmsrd { rs, l: true } => write!(f, "{m} r{rs},1"),
            Insn::Wrteei { e } => write!(f, "{m} {}", u8::from(e)),
            Insn::Mtsrin { rs, rb } => write!(f, "{m} r{rs},r{rb}"),
            Insn::Long(w) => write!(f, "{m} {w:#010x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic walk over the 32-bit space (Knuth's MMIX LCG, top half).
    fn lcg_words(n: usize) -> impl Iterator<Item = u32> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        (0..n).map(move |_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 32) as u32
        })
    }

    /// (word, disassembly) pairs: the hypercall sequences of `kvm_vm_ioctl_get_pvinfo`
    /// and QEMU, and the words `arch/powerpc/kernel/kvm.c` matches and writes.
    pub(crate) const EXAMPLES: &[(u32, &str)] = &[
        (0x3c00_4b56, "lis r0,0x4b56"),
        (0x6000_4d21, "ori r0,r0,0x4d21"),
        (0x4400_0002, "sc"),
        (0x4400_0022, "sc 1"),
        (0x4400_00e2, "sc 7"),
        (0x6000_0000, "nop"),
        (0x0800_0048, "tdi 0,r0,72"),
        (0x3860_ffff, "li r3,-1"),
        (0x4800_0008, "b .+8"),
        (0x4bff_fffc, "b .-4"),
        (0x4e80_0020, "blr"),
        (0x7c60_00a6, "mfmsr r3"),
        (0xe860_f000, "ld r3,-4096(0)"),
        (0xe860_f058, "ld r3,-4008(0)"),
        (0xf860_f020, "std r3,-4064(0)"),
        (0x8060_f05c, "lwz r3,-4004(0)"),
        (0x8060_f0b0, "lwz r3,-3920(0)"),
        (0x7c70_eaa6, "mfspr r3,MAS7"),
        (0x7c70_42a6, "mfspr r3,SPRG0"),
        (0x7c70_43a6, "mtspr SPRG0,r3"),
        (0x3bc0_8000, "li r30,-32768"),
        (0x7c00_046c, "tlbsync"),
        (0x7c00_0164, "mtmsrd r0"),
        (0x7c01_0164, "mtmsrd r0,1"),
        (0x7c00_0124, "mtmsr r0"),
        (0x7c00_0106, "wrtee r0"),
        (0x7c00_0146, "wrteei 0"),
        (0x7c00_8146, "wrteei 1"),
        (0x7c00_01e4, "mtsrin r0,r0"),
        (0xffff_6038, ".long 0xffff6038"),
        (0x1234_5678, ".long 0x12345678"),
    ];

    #[test]
    fn reference_examples_disassemble() {
        for &(w, text) in EXAMPLES {
            assert_eq!(Insn::decode(w).to_string(), text, "{w:#010x}");
            assert_eq!(Insn::decode(w).encode(), w);
        }
    }

    #[test]
    fn kvm_c_opcode_patterns() {
        // kvm.c's KVM_INST_* patterns (rX = 0) and its SPR numbers.
        let cases: &[(Insn, u32)] = &[
            (Insn::Lwz { rt: 0, ra: 0, d: 0 }, 0x8000_0000),
            (Insn::Stw { rs: 0, ra: 0, d: 0 }, 0x9000_0000),
            (
                Insn::Ld {
                    rt: 0,
                    ra: 0,
                    ds: 0,
                },
                0xe800_0000,
            ),
            (
                Insn::Std {
                    rs: 0,
                    ra: 0,
                    ds: 0,
                },
                0xf800_0000,
            ),
            (
                Insn::B {
                    offset: 0,
                    aa: false,
                    lk: false,
                },
                0x4800_0000,
            ),
            (
                Insn::Addi {
                    rt: 0,
                    ra: 0,
                    si: 0,
                },
                0x3800_0000,
            ),
            (
                Insn::Addi {
                    rt: 30,
                    ra: 0,
                    si: 0,
                },
                0x03c0_0000 | 0x3800_0000,
            ),
            (Insn::Mfmsr { rt: 0 }, 0x7c00_00a6),
            (Insn::Tlbsync, 0x7c00_046c),
            (Insn::Mtmsrd { rs: 0, l: false }, 0x7c00_0164),
            (Insn::Mtmsrd { rs: 0, l: true }, 0x7c01_0164),
            (Insn::Mtmsr { rs: 0 }, 0x7c00_0124),
            (Insn::Wrtee { rs: 0 }, 0x7c00_0106),
            (Insn::Wrteei { e: false }, 0x7c00_0146),
            (Insn::Wrteei { e: true }, 0x7c00_8146),
            (Insn::Mtsrin { rs: 0, rb: 0 }, 0x7c00_01e4),
        ];
        for &(i, w) in cases {
            assert_eq!(i.encode(), w, "{i}");
            assert_eq!(Insn::decode(w), i, "{w:#010x}");
        }
        let spr: &[(u16, u32, Option<u32>)] = &[
            (spr::SPRN_SPRG0, 0x7c10_42a6, Some(0x7c10_43a6)),
            (spr::SPRN_SPRG1, 0x7c11_42a6, Some(0x7c11_43a6)),
            (spr::SPRN_SPRG2, 0x7c12_42a6, Some(0x7c12_43a6)),
            (spr::SPRN_SPRG3, 0x7c13_42a6, Some(0x7c13_43a6)),
            (spr::SPRN_SRR0, 0x7c1a_02a6, Some(0x7c1a_03a6)),
            (spr::SPRN_SRR1, 0x7c1b_02a6, Some(0x7c1b_03a6)),
            (spr::SPRN_DAR, 0x7c13_02a6, Some(0x7c13_03a6)),
            (spr::SPRN_DEAR, 0x7c1d_0aa6, Some(0x7c1d_0ba6)),
            (spr::SPRN_DSISR, 0x7c12_02a6, Some(0x7c12_03a6)),
            (spr::SPRN_ESR, 0x7c1e_0aa6, Some(0x7c1e_0ba6)),
            (spr::SPRN_PIR, 0x7c1e_42a6, None),
            (spr::SPRN_PIR_BOOK3S, 0x7c1f_faa6, None),
            (spr::SPRN_MAS0, 0x7c10_9aa6, Some(0x7c10_9ba6)),
            (spr::SPRN_MAS1, 0x7c11_9aa6, Some(0x7c11_9ba6)),
            (spr::SPRN_MAS2, 0x7c12_9aa6, Some(0x7c12_9ba6)),
            (spr::SPRN_MAS3, 0x7c13_9aa6, Some(0x7c13_9ba6)),
            (spr::SPRN_MAS4, 0x7c14_9aa6, Some(0x7c14_9ba6)),
            (spr::SPRN_MAS6, 0x7c16_9aa6, Some(0x7c16_9ba6)),
            (spr::SPRN_MAS7, 0x7c10_eaa6, Some(0x7c10_eba6)),
            (spr::SPRN_SPRG4, 0x7c14_42a6, Some(0x7c14_43a6)),
            (spr::SPRN_SPRG7, 0x7c17_42a6, Some(0x7c17_43a6)),
            (spr::SPRN_SPRG4R, 0x7c04_42a6, None),
            (spr::SPRN_SPRG7R, 0x7c07_42a6, None),
        ];
        for &(n, mf, mt) in spr {
            assert_eq!(Insn::Mfspr { rt: 0, spr: n }.encode(), mf, "{n:#x}");
            assert_eq!(Insn::decode(mf), Insn::Mfspr { rt: 0, spr: n });
            if let Some(mt) = mt {
                assert_eq!(Insn::Mtspr { spr: n, rs: 0 }.encode(), mt, "{n:#x}");
            }
        }
    }

    #[test]
    fn decode_encode_is_identity_on_every_word_visited() {
        let mut named = 0usize;
        for w in lcg_words(2_000_000).chain(EXAMPLES.iter().map(|e| e.0)) {
            let i = Insn::decode(w);
            assert_eq!(i.encode(), w, "{w:#010x} -> {i:?}");
            assert_eq!(i.try_encode(), Ok(w), "{w:#010x} -> {i:?}");
            named += usize::from(!i.is_unknown());
        }
        // Sanity: the walk does hit the D-form opcodes (about 9/64 of the space).
        assert!(named > 200_000, "{named}");
    }

    #[test]
    fn every_x_form_with_every_field_round_trips() {
        // All words with OPCD 31 and one of our XO values, over every RT/RA/RB and Rc:
        // exactly the reserved-bit-clean ones decode to a named form.
        for xo in [83u32, 146, 178, 131, 163, 566, 242, 339, 467] {
            for fields in 0..(1u32 << 15) {
                for rc in 0..2 {
                    let w = (31 << 26) | (fields << 11) | (xo << 1) | rc;
                    let i = Insn::decode(w);
                    assert_eq!(i.encode(), w, "{w:#010x}");
                }
            }
        }
    }

    #[test]
    fn reserved_bits_make_a_long() {
        assert_eq!(Insn::decode(0x4400_0003), Insn::Long(0x4400_0003)); // sc with bit 31
        assert_eq!(Insn::decode(0x4400_0000), Insn::Long(0x4400_0000)); // sc without bit 30
        assert_eq!(Insn::decode(0x4401_0002), Insn::Long(0x4401_0002)); // sc with bit 15
        assert_eq!(Insn::decode(0x7c60_00a7), Insn::Long(0x7c60_00a7)); // mfmsr. (Rc)
        assert_eq!(Insn::decode(0x7c61_00a6), Insn::Long(0x7c61_00a6)); // mfmsr with RA
        assert_eq!(Insn::decode(0xe860_f001), Insn::Long(0xe860_f001)); // ldu
        assert_eq!(Insn::decode(0xe860_f002), Insn::Long(0xe860_f002)); // lwa
        assert_eq!(Insn::decode(0xf860_f001), Insn::Long(0xf860_f001)); // stdu
        assert_eq!(Insn::decode(0x4e80_0021), Insn::Long(0x4e80_0021)); // blrl
        assert_eq!(Insn::decode(0x7c02_0164), Insn::Long(0x7c02_0164)); // mtmsrd, bit 14
        assert_eq!(Insn::decode(0x7c00_c146), Insn::Long(0x7c00_c146)); // wrteei, bit 17
        assert_eq!(Insn::decode(0x7c01_046c), Insn::Long(0x7c01_046c)); // tlbsync with RA
        assert_eq!(Insn::decode(0x7c01_01e4), Insn::Long(0x7c01_01e4)); // mtsrin with RA
    }

    #[test]
    fn branch_fields() {
        let b = |w| Insn::decode(w);
        assert_eq!(
            b(0x4bff_fffc),
            Insn::B {
                offset: -4,
                aa: false,
                lk: false
            }
        );
        assert_eq!(b(0x4a00_0000).to_string(), "b .-33554432");
        assert_eq!(b(0x49ff_fffc).to_string(), "b .+33554428");
        assert_eq!(b(0x4800_0101).to_string(), "bl .+256");
        assert_eq!(b(0x4800_0102).to_string(), "ba 0x100");
        assert_eq!(b(0x4bff_fff3).to_string(), "bla -0x10");
        assert_eq!(b(0x4800_0000).to_string(), "b .+0");
    }

    #[test]
    fn try_encode_rejects_out_of_range_fields() {
        assert_eq!(
            Insn::Mfmsr { rt: 32 }.try_encode(),
            Err(EncodeError::OutOfRange {
                field: "register",
                value: 32,
                max: 31
            })
        );
        assert_eq!(Insn::Mfmsr { rt: 35 }.encode(), 0x7c60_00a6);
        assert_eq!(
            Insn::Ld {
                rt: 3,
                ra: 0,
                ds: 2
            }
            .try_encode(),
            Err(EncodeError::Misaligned {
                field: "ds",
                value: 2
            })
        );
        assert_eq!(
            Insn::B {
                offset: 0x200_0000,
                aa: false,
                lk: false
            }
            .try_encode(),
            Err(EncodeError::BranchRange { value: 0x200_0000 })
        );
        assert_eq!(
            Insn::Sc { lev: 128 }.try_encode().unwrap_err().to_string(),
            "lev = 128 is out of range 0..=127"
        );
        assert_eq!(
            Insn::Mfspr { rt: 1, spr: 1024 }
                .try_encode()
                .unwrap_err()
                .to_string(),
            "spr = 1024 is out of range 0..=1023"
        );
    }

    #[test]
    fn little_endian_fetch_reverses_bytes() {
        assert_eq!(fetch(0x0800_0048, Endian::Little), 0x4800_0008);
        assert_eq!(fetch(0x0800_0048, Endian::Big), 0x0800_0048);
        let le = decode_as(&[0xffff_6038], Endian::Little);
        assert_eq!(le[0].to_string(), "li r3,-1");
    }
}
