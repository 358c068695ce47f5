//! A small text assembler for the instructions [`Insn`] models.
//!
//! Syntax (the same as [`Insn`]'s disassembly, plus a few conveniences):
//! - statements are separated by `;` or newlines; `#` starts a comment to the end of
//!   the line; empty statements are skipped;
//! - registers are `r3`, `R3`, `%r3` or plain `3`;
//! - numbers are decimal or `0x` hex, optionally negative (`-1`, `-0x10`), with `_`
//!   separators;
//! - memory operands are `D(rA)`, where a base of `0` (or `r0`) means the literal 0;
//! - relative branches take `.`, `.+N` or `.-N` (`b .+8`); `ba`/`bla` take an address;
//! - SPRs are given by name (`SPRG0`, `MAS7`, case-insensitive) or number, and the
//!   extended forms `mfNAME rT` / `mtNAME rS` work for every named SPR (`mfsprg0 r3`);
//! - `.long N` emits any 32-bit word.
//!
//! 16-bit immediates: a signed field (`li`, `addi`, `lis`, `addis`, `tdi`, `twi`, and
//! displacements) takes decimal in -32768..=32767, or a non-negative hex literal
//! 0x0..=0xffff which is used as the raw 16-bit pattern — so `li r30,0x8000` is
//! 0x3bc08000 (`li r30,-32768`), the word `kvm.c` writes for `wrteei 1`
//! (the `wrteei 1` case of `kvm_check_ins` in `arch/powerpc/kernel/kvm.c`), and
//! `lis r0,0xffff` equals `lis r0,-1`. An unsigned field
//! (`ori`, `oris`) takes 0..=0xffff in either base.

use super::{Insn, spr};
use crate::num::parse_u64;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What is wrong with one statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AsmErrorKind {
    /// The mnemonic is not one the assembler knows.
    #[error("unknown mnemonic '{0}'")]
    UnknownMnemonic(String),
    /// The wrong number of operands.
    #[error("'{mnemonic}' takes {expected} operand(s), found {found}")]
    OperandCount {
        /// The mnemonic as written.
        mnemonic: String,
        /// How many it takes (`2`, `2 or 3`).
        expected: &'static str,
        /// How many were given.
        found: usize,
    },
    /// An operand is empty (`ori r0,,1`).
    #[error("operand {0} is empty")]
    EmptyOperand(usize),
    /// Not a register.
    #[error("'{0}' is not a register (r0..r31 or 0..31)")]
    BadRegister(String),
    /// Not a number.
    #[error("'{0}' is not a number (decimal or 0x hex)")]
    BadNumber(String),
    /// A well-formed number too large for any operand (beyond a signed 64-bit value).
    #[error("'{0}' is too large for any operand")]
    NumberTooLarge(String),
    /// A number outside its field's range.
    #[error("{what} '{text}' is out of range: {range}")]
    OutOfRange {
        /// What the operand is (`immediate`, `displacement`, `LEV`, ...).
        what: &'static str,
        /// The operand as written.
        text: String,
        /// The accepted values.
        range: &'static str,
    },
    /// A value that must be a multiple of 4 is not.
    #[error("{what} '{text}' is not a multiple of 4")]
    Misaligned {
        /// What the operand is.
        what: &'static str,
        /// The operand as written.
        text: String,
    },
    /// Not a `D(rA)` memory operand.
    #[error("'{0}' is not a memory operand D(rA), e.g. -4008(0) or 8(r1)")]
    BadMemory(String),
    /// Not a relative branch target.
    #[error("'{0}' is not a relative branch target (use ., .+N or .-N)")]
    BadTarget(String),
    /// Neither a known SPR name nor a number.
    #[error("'{0}' is not a known SPR name or a number 0..=1023")]
    UnknownSpr(String),
}

/// An assembly error: which statement (1-based, counting non-empty statements), its
/// text, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statement {statement} `{text}`: {kind}")]
#[non_exhaustive]
pub struct AsmError {
    /// 1-based index of the statement among the non-empty ones.
    pub statement: usize,
    /// The statement as written (trimmed).
    pub text: String,
    /// What is wrong.
    pub kind: AsmErrorKind,
}

/// Assembles `text` into instruction words (see the module docs for the syntax).
/// Text without statements gives an empty vector.
///
/// ```
/// use ppcpv::insn::assemble;
/// assert_eq!(assemble("li r3,-1\nb .+8").unwrap(), [0x3860ffff, 0x48000008]);
/// let e = assemble("sc; frob r1").unwrap_err();
/// assert_eq!(e.to_string(), "statement 2 `frob r1`: unknown mnemonic 'frob'");
/// ```
///
/// # Errors
/// [`AsmError`] for the first statement that does not assemble.
pub fn assemble(text: &str) -> Result<Vec<u32>, AsmError> {
    Ok(assemble_insns(text)?.iter().map(Insn::encode).collect())
}

/// Like [`assemble`], returning the instructions rather than their words.
///
/// # Errors
/// [`AsmError`] for the first statement that does not assemble.
pub fn assemble_insns(text: &str) -> Result<Vec<Insn>, AsmError> {
    let statements = text
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").split(';'))
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for (i, s) in statements.enumerate() {
        let insn = parse_statement(s).map_err(|kind| AsmError {
            statement: i + 1,
            text: s.to_string(),
            kind,
        })?;
        out.push(insn);
    }
    Ok(out)
}

/// Assembles exactly one statement (no `;`, no comment).
///
/// # Errors
/// [`AsmErrorKind`] saying what is wrong with it.
pub fn assemble_one(statement: &str) -> Result<Insn, AsmErrorKind> {
    parse_statement(statement.trim())
}

type R<T> = Result<T, AsmErrorKind>;

fn parse_statement(s: &str) -> R<Insn> {
    let (mn, rest) = match s.split_once(char::is_whitespace) {
        Some((m, r)) => (m, r.trim()),
        None => (s, ""),
    };
    let ops: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(',').map(str::trim).collect()
    };
    if let Some(i) = ops.iter().position(|o| o.is_empty()) {
        return Err(AsmErrorKind::EmptyOperand(i + 1));
    }
    let lower = mn.to_ascii_lowercase();
    let count = |expected: &'static str, ok: bool| -> R<()> {
        if ok {
            Ok(())
        } else {
            Err(AsmErrorKind::OperandCount {
                mnemonic: mn.to_string(),
                expected,
                found: ops.len(),
            })
        }
    };
    let n = ops.len();
    // `op(i)` is only called after the count check, so `get` never misses; keep it
    // panic-free anyway.
    let op = |i: usize| -> &str { ops.get(i).copied().unwrap_or("") };
    let insn = match lower.as_str() {
        "sc" => {
            count("0 or 1", n <= 1)?;
            let lev = if n == 1 {
                unsigned(op(0), "LEV", 0x7f, "0..=127")?
            } else {
                0
            };
            Insn::Sc { lev: lev as u8 }
        }
        "nop" => {
            count("0", n == 0)?;
            Insn::Ori {
                ra: 0,
                rs: 0,
                ui: 0,
            }
        }
        "ori" | "oris" => {
            count("3", n == 3)?;
            let (ra, rs) = (reg(op(0))?, reg(op(1))?);
            let ui = unsigned(op(2), "immediate", 0xffff, "0..=0xffff")? as u16;
            if lower == "ori" {
                Insn::Ori { ra, rs, ui }
            } else {
                Insn::Oris { ra, rs, ui }
            }
        }
        "li" | "lis" => {
            count("2", n == 2)?;
            let (rt, si) = (reg(op(0))?, signed16(op(1), "immediate")?);
            if lower == "li" {
                Insn::Addi { rt, ra: 0, si }
            } else {
                Insn::Addis { rt, ra: 0, si }
            }
        }
        "addi" | "addis" => {
            count("3", n == 3)?;
            let (rt, ra, si) = (reg(op(0))?, reg(op(1))?, signed16(op(2), "immediate")?);
            if lower == "addi" {
                Insn::Addi { rt, ra, si }
            } else {
                Insn::Addis { rt, ra, si }
            }
        }
        "b" | "bl" => {
            count("1", n == 1)?;
            Insn::B {
                offset: relative(op(0))?,
                aa: false,
                lk: lower == "bl",
            }
        }
        "ba" | "bla" => {
            count("1", n == 1)?;
            Insn::B {
                offset: absolute(op(0))?,
                aa: true,
                lk: lower == "bla",
            }
        }
        "blr" => {
            count("0", n == 0)?;
            Insn::Blr
        }
        "tdi" | "twi" => {
            count("3", n == 3)?;
            let to = unsigned(op(0), "TO", 31, "0..=31")? as u8;
            let (ra, si) = (reg(op(1))?, signed16(op(2), "immediate")?);
            if lower == "tdi" {
                Insn::Tdi { to, ra, si }
            } else {
                Insn::Twi { to, ra, si }
            }
        }
        "lwz" | "stw" | "ld" | "std" => {
            count("2", n == 2)?;
            let r = reg(op(0))?;
            let (d, ra) = memory(op(1))?;
            match lower.as_str() {
                "lwz" => Insn::Lwz { rt: r, ra, d },
                "stw" => Insn::Stw { rs: r, ra, d },
                _ if d % 4 != 0 => {
                    return Err(AsmErrorKind::Misaligned {
                        what: "DS displacement",
                        text: op(1).to_string(),
                    });
                }
                "ld" => Insn::Ld { rt: r, ra, ds: d },
                _ => Insn::Std { rs: r, ra, ds: d },
            }
        }
        "mfspr" => {
            count("2", n == 2)?;
            Insn::Mfspr {
                rt: reg(op(0))?,
                spr: spr_operand(op(1))?,
            }
        }
        "mtspr" => {
            count("2", n == 2)?;
            Insn::Mtspr {
                spr: spr_operand(op(0))?,
                rs: reg(op(1))?,
            }
        }
        "mfmsr" | "mtmsr" | "wrtee" => {
            count("1", n == 1)?;
            let r = reg(op(0))?;
            match lower.as_str() {
                "mfmsr" => Insn::Mfmsr { rt: r },
                "mtmsr" => Insn::Mtmsr { rs: r },
                _ => Insn::Wrtee { rs: r },
            }
        }
        "mtmsrd" => {
            count("1 or 2", n == 1 || n == 2)?;
            let l = n == 2 && unsigned(op(1), "L", 1, "0 or 1")? == 1;
            Insn::Mtmsrd { rs: reg(op(0))?, l }
        }
        "wrteei" => {
            count("1", n == 1)?;
            Insn::Wrteei {
                e: unsigned(op(0), "E", 1, "0 or 1")? == 1,
            }
        }
        "tlbsync" => {
            count("0", n == 0)?;
            Insn::Tlbsync
        }
        "mtsrin" => {
            count("2", n == 2)?;
            Insn::Mtsrin {
                rs: reg(op(0))?,
                rb: reg(op(1))?,
            }
        }
        ".long" => {
            count("1", n == 1)?;
            Insn::Long(long(op(0))?)
        }
        _ => return extended_spr(mn, &lower, &ops),
    };
    Ok(insn)
}

/// `mfNAME rT` / `mtNAME rS` for a named SPR (`mfsprg0 r3`, `mtlr r0`).
fn extended_spr(mn: &str, lower: &str, ops: &[&str]) -> R<Insn> {
    let unknown = || AsmErrorKind::UnknownMnemonic(mn.to_string());
    let (to, name) = if let Some(n) = lower.strip_prefix("mf") {
        (false, n)
    } else if let Some(n) = lower.strip_prefix("mt") {
        (true, n)
    } else {
        return Err(unknown());
    };
    let spr = spr::spr_by_name(name).ok_or_else(unknown)?;
    let [r] = ops else {
        return Err(AsmErrorKind::OperandCount {
            mnemonic: mn.to_string(),
            expected: "1",
            found: ops.len(),
        });
    };
    let r = reg(r)?;
    Ok(if to {
        Insn::Mtspr { spr, rs: r }
    } else {
        Insn::Mfspr { rt: r, spr }
    })
}

fn reg(s: &str) -> R<u8> {
    let t = s.strip_prefix('%').unwrap_or(s);
    let digits = t
        .strip_prefix('r')
        .or_else(|| t.strip_prefix('R'))
        .unwrap_or(t);
    match digits.parse::<u8>() {
        Ok(n) if n <= 31 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(AsmErrorKind::BadRegister(s.to_string())),
    }
}

/// A signed number; `hex` tells whether it was written in hex without a minus sign.
fn number(s: &str) -> R<(i64, bool)> {
    let bad = || AsmErrorKind::BadNumber(s.to_string());
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let hex = body.starts_with("0x") || body.starts_with("0X");
    // A number that parses but overflows is out of range, not "not a number".
    let too_large = || AsmErrorKind::NumberTooLarge(s.to_string());
    let v = parse_u64(body).map_err(|e| match e {
        crate::num::NumError::TooWide { .. } => too_large(),
        _ => bad(),
    })?;
    let v = i64::try_from(v).map_err(|_| too_large())?;
    Ok(if neg { (-v, false) } else { (v, hex) })
}

fn unsigned(s: &str, what: &'static str, max: i64, range: &'static str) -> R<u32> {
    let (v, _) = number(s)?;
    if (0..=max).contains(&v) {
        u32::try_from(v).map_err(|_| AsmErrorKind::BadNumber(s.to_string()))
    } else {
        Err(AsmErrorKind::OutOfRange {
            what,
            text: s.to_string(),
            range,
        })
    }
}

/// A signed 16-bit field: decimal -32768..=32767, or hex 0x0..=0xffff as a raw pattern.
fn signed16(s: &str, what: &'static str) -> R<i16> {
    let (v, hex) = number(s)?;
    let pattern = if hex {
        u16::try_from(v).ok().map(u16::cast_signed)
    } else {
        i16::try_from(v).ok()
    };
    pattern.ok_or_else(|| AsmErrorKind::OutOfRange {
        what,
        text: s.to_string(),
        range: "-32768..=32767, or a 16-bit pattern 0x0..=0xffff",
    })
}

fn memory(s: &str) -> R<(i16, u8)> {
    let bad = || AsmErrorKind::BadMemory(s.to_string());
    let inner = s.strip_suffix(')').ok_or_else(bad)?;
    let (d, base) = inner.split_once('(').ok_or_else(bad)?;
    let (d, base) = (d.trim(), base.trim());
    let d = if d.is_empty() {
        0
    } else {
        signed16(d, "displacement")?
    };
    Ok((d, reg(base)?))
}

fn check_branch(v: i64, s: &str) -> R<i32> {
    if v % 4 != 0 {
        return Err(AsmErrorKind::Misaligned {
            what: "branch target",
            text: s.to_string(),
        });
    }
    if !(-0x200_0000..=0x1ff_fffc).contains(&v) {
        return Err(AsmErrorKind::OutOfRange {
            what: "branch target",
            text: s.to_string(),
            range: "-0x2000000..=0x1fffffc (±32 MiB)",
        });
    }
    i32::try_from(v).map_err(|_| AsmErrorKind::BadTarget(s.to_string()))
}

fn relative(s: &str) -> R<i32> {
    let rest = s
        .strip_prefix('.')
        .ok_or_else(|| AsmErrorKind::BadTarget(s.to_string()))?
        .trim();
    if rest.is_empty() {
        return Ok(0);
    }
    if !(rest.starts_with('+') || rest.starts_with('-')) {
        return Err(AsmErrorKind::BadTarget(s.to_string()));
    }
    let (sign, body) = rest.split_at(1);
    let (v, _) = number(body.trim())?;
    check_branch(if sign == "-" { -v } else { v }, s)
}

fn absolute(s: &str) -> R<i32> {
    let (v, _) = number(s)?;
    check_branch(v, s)
}

fn spr_operand(s: &str) -> R<u16> {
    if let Some(n) = spr::spr_by_name(s) {
        return Ok(n);
    }
    match number(s) {
        Ok((v, _)) => u16::try_from(v)
            .ok()
            .filter(|&n| n <= spr::SPR_MAX)
            .ok_or_else(|| AsmErrorKind::OutOfRange {
                what: "SPR number",
                text: s.to_string(),
                range: "0..=1023",
            }),
        Err(_) => Err(AsmErrorKind::UnknownSpr(s.to_string())),
    }
}

fn long(s: &str) -> R<u32> {
    let (v, _) = number(s)?;
    if let Ok(u) = u32::try_from(v) {
        return Ok(u);
    }
    i32::try_from(v)
        .map(i32::cast_unsigned)
        .map_err(|_| AsmErrorKind::OutOfRange {
            what: "word",
            text: s.to_string(),
            range: "-0x80000000..=0xffffffff",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::tests::EXAMPLES;

    fn one(s: &str) -> u32 {
        assemble_one(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .encode()
    }

    #[test]
    fn reference_examples_assemble() {
        for &(w, text) in EXAMPLES {
            assert_eq!(one(text), w, "{text}");
        }
        assert_eq!(
            assemble("lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop").unwrap(),
            [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000]
        );
        assert_eq!(one("li r30,0x8000"), 0x3bc0_8000);
        assert_eq!(one("li r30,-32768"), 0x3bc0_8000);
        assert_eq!(one("mfsprg0 r3"), 0x7c70_42a6);
        assert_eq!(one("mtsprg0 r3"), 0x7c70_43a6);
        assert_eq!(one("mfspr r3,0x3b0"), 0x7c70_eaa6);
        assert_eq!(one("mfspr 3, mas7"), 0x7c70_eaa6);
        assert_eq!(one("ld r3,-4008(r0)"), 0xe860_f058);
        assert_eq!(one("ld %r3, -4008 ( 0 )"), 0xe860_f058);
        assert_eq!(one("lwz r3,(r1)"), 0x8061_0000);
        assert_eq!(one("b ."), 0x4800_0000);
        assert_eq!(one("b .-4"), 0x4bff_fffc);
        assert_eq!(one("b . + 0x10"), 0x4800_0010);
        assert_eq!(one("bla -0x10"), 0x4bff_fff3);
        assert_eq!(one("lis r0,-1"), one("lis r0,0xffff"));
        assert_eq!(one(".long -1"), 0xffff_ffff);
        assert_eq!(one("SC 1"), 0x4400_0022);
        assert_eq!(one("mtmsrd r3,0"), 0x7c60_0164);
    }

    #[test]
    fn comments_newlines_and_empty_statements() {
        let text =
            "# the KVM PR sequence\nlis r0,0x4b56 ; ori r0,r0,0x4d21 # r0 = KVM!\n\n;sc;;nop;";
        assert_eq!(
            assemble(text).unwrap(),
            [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000]
        );
        assert_eq!(assemble(" ; # nothing").unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn disassembly_reassembles_for_every_form() {
        let insns = [
            Insn::Sc { lev: 0 },
            Insn::Sc { lev: 127 },
            Insn::Ori {
                ra: 31,
                rs: 1,
                ui: 0xffff,
            },
            Insn::Oris {
                ra: 0,
                rs: 0,
                ui: 0,
            },
            Insn::Addi {
                rt: 1,
                ra: 1,
                si: -32768,
            },
            Insn::Addis {
                rt: 9,
                ra: 2,
                si: -1,
            },
            Insn::B {
                offset: -0x200_0000,
                aa: true,
                lk: true,
            },
            Insn::B {
                offset: 0x1ff_fffc,
                aa: false,
                lk: true,
            },
            Insn::Blr,
            Insn::Tdi {
                to: 31,
                ra: 5,
                si: 32767,
            },
            Insn::Twi {
                to: 4,
                ra: 0,
                si: -5,
            },
            Insn::Lwz {
                rt: 3,
                ra: 1,
                d: -1,
            },
            Insn::Stw {
                rs: 31,
                ra: 0,
                d: 0x7fff,
            },
            Insn::Ld {
                rt: 0,
                ra: 0,
                ds: -32768,
            },
            Insn::Std {
                rs: 7,
                ra: 31,
                ds: 32764,
            },
            Insn::Mfspr { rt: 3, spr: 1013 },
            Insn::Mtspr { spr: 0, rs: 31 },
            Insn::Mfmsr { rt: 31 },
            Insn::Mtmsr { rs: 1 },
            Insn::Mtmsrd { rs: 2, l: true },
            Insn::Wrtee { rs: 3 },
            Insn::Wrteei { e: true },
            Insn::Tlbsync,
            Insn::Mtsrin { rs: 4, rb: 31 },
            Insn::Long(0xffff_ffff),
            Insn::Long(0x6000_0000), // decodes as nop, `.long` still emits the word
        ];
        for i in insns {
            let text = i.to_string();
            assert_eq!(assemble_one(&text), Ok(i), "{text}");
            assert_eq!(
                Insn::decode(i.encode()).to_string(),
                text.replace(".long 0x60000000", "nop")
            );
        }
        for &(_, name) in spr::SPRS {
            let n = spr::spr_by_name(name).unwrap();
            assert_eq!(
                assemble_one(&format!("mf{name} r5")),
                Ok(Insn::Mfspr { rt: 5, spr: n })
            );
            assert_eq!(
                assemble_one(&format!("mt{name} r5")),
                Ok(Insn::Mtspr { spr: n, rs: 5 })
            );
        }
    }

    #[test]
    fn disassembly_reassembles_on_an_lcg_walk() {
        let mut x: u32 = 1;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let text = Insn::decode(x).to_string();
            assert_eq!(assemble(&text), Ok(vec![x]), "{x:#010x} {text}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics() {
        // Statements glued from fragments that stress every operand parser, plus raw
        // bytes including multi-byte UTF-8 next to the split points.
        const FRAGS: &[&str] = &[
            "li",
            "ld",
            "b",
            "ba",
            "mfspr",
            "mtsprg0",
            ".long",
            "sc",
            "r",
            "r31",
            "r32",
            "%",
            "-",
            "+",
            ".",
            ".+",
            ".-",
            "0x",
            "0xffffffffffffffffff",
            "9223372036854775808",
            "(",
            ")",
            "(0)",
            ",",
            ";",
            "\n",
            "#",
            " ",
            "é",
            "\u{2009}",
            "MAS7",
            "_",
            "-0x8000",
        ];
        let mut x: u64 = 7;
        for _ in 0..50_000 {
            let mut t = String::new();
            for _ in 0..(x % 9) {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let i = usize::try_from(x >> 33).unwrap_or(0) % FRAGS.len();
                t.push_str(FRAGS[i]);
            }
            let _ = assemble(&t);
            let _ = assemble_one(&t);
        }
    }

    #[test]
    fn rejects_bad_statements_precisely() {
        let err = |s: &str| assemble(s).unwrap_err().to_string();
        assert_eq!(
            err("nop; frob r1"),
            "statement 2 `frob r1`: unknown mnemonic 'frob'"
        );
        assert_eq!(
            err("li r3"),
            "statement 1 `li r3`: 'li' takes 2 operand(s), found 1"
        );
        assert_eq!(
            err("li r32,1"),
            "statement 1 `li r32,1`: 'r32' is not a register (r0..r31 or 0..31)"
        );
        assert_eq!(
            err("li r3,32768"),
            "statement 1 `li r3,32768`: immediate '32768' is out of range: \
             -32768..=32767, or a 16-bit pattern 0x0..=0xffff"
        );
        assert_eq!(
            err("li r3,0x10000"),
            "statement 1 `li r3,0x10000`: immediate '0x10000' is out of range: \
             -32768..=32767, or a 16-bit pattern 0x0..=0xffff"
        );
        assert_eq!(
            err("ori r0,r0,-1"),
            "statement 1 `ori r0,r0,-1`: immediate '-1' is out of range: 0..=0xffff"
        );
        assert_eq!(
            err("ld r3,-4006(0)"),
            "statement 1 `ld r3,-4006(0)`: DS displacement '-4006(0)' is not a multiple of 4"
        );
        assert_eq!(
            err("lwz r3,8"),
            "statement 1 `lwz r3,8`: '8' is not a memory operand D(rA), e.g. -4008(0) or 8(r1)"
        );
        assert_eq!(
            err("b 8"),
            "statement 1 `b 8`: '8' is not a relative branch target (use ., .+N or .-N)"
        );
        assert_eq!(
            err("b .+6"),
            "statement 1 `b .+6`: branch target '.+6' is not a multiple of 4"
        );
        assert_eq!(
            err("b .+0x2000000"),
            "statement 1 `b .+0x2000000`: branch target '.+0x2000000' is out of range: \
             -0x2000000..=0x1fffffc (±32 MiB)"
        );
        assert_eq!(
            err("mfspr r3,FOO"),
            "statement 1 `mfspr r3,FOO`: 'FOO' is not a known SPR name or a number 0..=1023"
        );
        assert_eq!(
            err("mfspr r3,1024"),
            "statement 1 `mfspr r3,1024`: SPR number '1024' is out of range: 0..=1023"
        );
        assert_eq!(
            err("sc 128"),
            "statement 1 `sc 128`: LEV '128' is out of range: 0..=127"
        );
        assert_eq!(
            err("ori r0,,1"),
            "statement 1 `ori r0,,1`: operand 2 is empty"
        );
        assert_eq!(
            err("li r3,x"),
            "statement 1 `li r3,x`: 'x' is not a number (decimal or 0x hex)"
        );
        assert_eq!(
            err(".long 0x100000000"),
            "statement 1 `.long 0x100000000`: word '0x100000000' is out of range: \
             -0x80000000..=0xffffffff"
        );
        assert_eq!(
            err("mfnosuch r3"),
            "statement 1 `mfnosuch r3`: unknown mnemonic 'mfnosuch'"
        );
        assert_eq!(
            err("mfsprg0 r3,r4"),
            "statement 1 `mfsprg0 r3,r4`: 'mfsprg0' takes 1 operand(s), found 2"
        );
        assert_eq!(
            err("wrteei 2"),
            "statement 1 `wrteei 2`: E '2' is out of range: 0 or 1"
        );
        let e = assemble("sc\n\nnop\nli r3,--1").unwrap_err();
        assert_eq!(e.statement, 3);
        assert_eq!(e.kind, AsmErrorKind::BadNumber("--1".into()));
        // Overflowing numbers are too large, not malformed.
        for text in [
            "lis r0,0xffffffffffffffff",
            "sc 99999999999999999999",
            "b .-0x8000000000000000",
        ] {
            let e = assemble(text).unwrap_err();
            assert!(
                matches!(e.kind, AsmErrorKind::NumberTooLarge(_)),
                "{text}: {e}"
            );
        }
    }
}
