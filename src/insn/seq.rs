//! The named `hcall-instructions` sequences and what a guest executes for them.
//!
//! A guest copies the 1–4 words of `hcall-instructions` over the first slots of its
//! hypercall stub, `li r3,-1; nop; nop; nop; blr` (`torvalds/linux:
//! arch/powerpc/kernel/epapr_hcalls.S`, `epapr_hypercall_start`), and calls the stub for
//! every hypercall (`arch/powerpc/kernel/epapr_paravirt.c`). [`GuestStub`] models that stub and
//! [`GuestStub::run`] follows its control flow, so the QEMU fallback's trick — one
//! sequence that returns -1 in both byte orders — can be shown slot by slot
//! (`qemu/qemu: target/ppc/kvm.c (kvmppc_get_hypercall)`).
//!
//! Which reading a little-endian guest runs depends on how it copies the property:
//! Linux up to the 3.x series patched each raw `u32` of the (big-endian) property into
//! its stub (`patch_instruction(epapr_hypercall_start + i, insts[i])` in
//! `epapr_paravirt.c`), so a little-endian kernel ran every word byte-reversed — the
//! case QEMU's fallback guards against and [`GuestStub::patch`] models for
//! [`Endian::Little`]. Later kernels convert with `be32_to_cpu(insts[i])` first and run
//! the big-endian reading in either byte order.
//!
//! Sources for the words: `torvalds/linux: arch/powerpc/kvm/powerpc.c
//! (kvm_vm_ioctl_get_pvinfo)` for `kvm-pr` and `booke-hv`; the Topaz hypervisor's
//! one-word `sc 1` (`nxp-qoriq-yocto-sdk/hypervisor`, the `/hypervisor` node it writes)
//! for `epapr`; `qemu/qemu: target/ppc/kvm.c (kvmppc_get_hypercall)` for both QEMU
//! fallbacks (the current byte-order-proof one, and the older `li r3,-1; nop; nop; nop`
//! from before QEMU commit 1a61a9ae61). These are the four blobs found in real device
//! trees, so each gets a name; anything else is reported as unrecognised rather than
//! guessed at.

use super::{BLR, Insn, NOP, SC, SC1, fetch};
use crate::Endian;
use alloc::vec::Vec;

/// `lis r0,0x4b56`: the high half of `KVM_SC_MAGIC_R0` ("KVM!").
const LIS_R0_KVM: u32 = 0x3c00_4b56;
/// `ori r0,r0,0x4d21`: the low half of `KVM_SC_MAGIC_R0`.
const ORI_R0_KVM: u32 = 0x6000_4d21;
/// `li r3,-1`: the stub's default first slot and the old QEMU fallback.
const LI_R3_M1: u32 = 0x3860_ffff;

const KVM_PR: [u32; 4] = [LIS_R0_KVM, ORI_R0_KVM, SC, NOP];
const BOOKE_HV: [u32; 4] = [SC1, NOP, NOP, NOP];
const EPAPR: [u32; 1] = [SC1];
/// `tdi 0,r0,72` / `li r3,-1` / `b .+8` / `bswap32(li r3,-1)`, each `cpu_to_be32`.
const QEMU_FALLBACK: [u32; 4] = [0x0800_0048, LI_R3_M1, 0x4800_0008, 0xffff_6038];
const QEMU_FALLBACK_OLD: [u32; 4] = [LI_R3_M1, NOP, NOP, NOP];

/// A named `hcall-instructions` sequence: one of the blobs real hosts and QEMU write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KnownSequence {
    /// `lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop`: KVM PR (Book3S PR, e500v2), r0 = "KVM!".
    KvmPr,
    /// `sc 1; nop; nop; nop`: KVM BookE-HV.
    BookeHv,
    /// `sc 1` alone: the ePAPR hypercall as the Topaz hypervisor writes it.
    Epapr,
    /// QEMU's endian-proof always-fail fallback (every hypercall returns -1).
    QemuFallback,
    /// QEMU's fallback before commit 1a61a9ae61: `li r3,-1; nop; nop; nop`.
    QemuFallbackOld,
}

impl KnownSequence {
    /// Every named sequence, in the order the CLI lists them.
    pub const ALL: [Self; 5] = [
        Self::KvmPr,
        Self::BookeHv,
        Self::Epapr,
        Self::QemuFallback,
        Self::QemuFallbackOld,
    ];

    /// The name used on the command line: `kvm-pr`, `booke-hv`, `epapr`,
    /// `qemu-fallback`, `qemu-fallback-old`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::KvmPr => "kvm-pr",
            Self::BookeHv => "booke-hv",
            Self::Epapr => "epapr",
            Self::QemuFallback => "qemu-fallback",
            Self::QemuFallbackOld => "qemu-fallback-old",
        }
    }

    /// The sequence called `s` (exact, case-insensitive).
    #[must_use]
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The words, as big-endian values in `hcall-instructions` (1 or 4 of them).
    #[must_use]
    pub const fn words(self) -> &'static [u32] {
        match self {
            Self::KvmPr => &KVM_PR,
            Self::BookeHv => &BOOKE_HV,
            Self::Epapr => &EPAPR,
            Self::QemuFallback => &QEMU_FALLBACK,
            Self::QemuFallbackOld => &QEMU_FALLBACK_OLD,
        }
    }

    /// One sentence on who writes the sequence and what it does.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::KvmPr => {
                "KVM PR hypercall (Book3S PR, BookE e500v2): r0 = \"KVM!\" then sc; \
                 what KVM_PPC_GET_PVINFO returns on PR hosts"
            }
            Self::BookeHv => {
                "KVM BookE-HV hypercall (e500mc/e5500/e6500): sc 1 and three nops; \
                 what KVM_PPC_GET_PVINFO returns on BookE-HV hosts"
            }
            Self::Epapr => {
                "ePAPR hypercall as the Topaz hypervisor writes it: a single sc 1, \
                 the stub's other slots stay nops"
            }
            Self::QemuFallback => {
                "QEMU's fallback when KVM_PPC_GET_PVINFO is unavailable: every hypercall \
                 returns -1 in big- and little-endian guests alike"
            }
            Self::QemuFallbackOld => {
                "QEMU's fallback before commit 1a61a9ae61 (stored in host byte order): \
                 li r3,-1 and three nops, every hypercall returns -1"
            }
        }
    }

    /// True when a guest using the sequence gets -1 from every hypercall and so no
    /// features and no magic page. QEMU's e500 machine writes the fallback whenever
    /// `kvmppc_get_hypercall` fails and still says `linux,kvm`, so a Linux guest enables
    /// paravirt and then finds nothing (`qemu/qemu: hw/ppc/e500.c`, `target/ppc/kvm.c`).
    #[must_use]
    pub const fn always_fails(self) -> bool {
        matches!(self, Self::QemuFallback | Self::QemuFallbackOld)
    }
}

impl core::fmt::Display for KnownSequence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Names the sequence `words` holds (big-endian values, as in the device tree).
///
/// Exact matches of [`KnownSequence::words`] are recognised, plus one tolerance for the
/// ePAPR form ("`sc 1`, optionally followed by nops"): `sc 1` followed by one or two nops is
/// [`KnownSequence::Epapr`], because the stub's remaining slots are nops anyway, so the
/// guest executes exactly what Topaz's one-word `sc 1` gives. `sc 1` plus three nops
/// is [`KnownSequence::BookeHv`], KVM's own four-word form. Anything else is `None`.
///
/// ```
/// use ppcpv::insn::{recognise, KnownSequence};
/// assert_eq!(recognise(&[0x44000022]), Some(KnownSequence::Epapr));
/// assert_eq!(recognise(&[0x44000022, 0x60000000]), Some(KnownSequence::Epapr));
/// assert_eq!(recognise(&[0x44000022, 0x60000000, 0x60000000, 0x60000000]),
///            Some(KnownSequence::BookeHv));
/// assert_eq!(recognise(&[0x44000002]), None);
/// ```
#[must_use]
pub fn recognise(words: &[u32]) -> Option<KnownSequence> {
    if let Some(k) = KnownSequence::ALL.into_iter().find(|k| k.words() == words) {
        return Some(k);
    }
    match words {
        [SC1, rest @ ..] if (1..=2).contains(&rest.len()) && rest.iter().all(|&w| w == NOP) => {
            Some(KnownSequence::Epapr)
        }
        _ => None,
    }
}

/// The number of slots the guest reserves for `hcall-instructions`
/// (`epapr_hypercall_start` in `arch/powerpc/kernel/epapr_hcalls.S`).
pub const STUB_SLOTS: usize = 4;

/// The guest's hypercall stub after patching: four slots and a `blr`
/// (`arch/powerpc/kernel/epapr_hcalls.S`).
///
/// The slots hold the property's words as the guest's CPU fetches them; uncovered
/// slots keep the stub's own instructions (`li r3,-1` in slot 0, `nop` in 1–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuestStub {
    /// Slots 0–3 as executed, followed by the stub's `blr` in slot 4.
    pub slots: [u32; STUB_SLOTS + 1],
    /// How many slots came from the property.
    pub patched: usize,
}

/// One executed slot of a [`GuestStub`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// The slot (0–4).
    pub slot: usize,
    /// The word as the CPU fetched it.
    pub word: u32,
    /// Its decoding.
    pub insn: Insn,
}

/// How a run through the stub ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StubExit {
    /// Reached a `blr` (normally the stub's own, slot 4): the hypercall returns.
    Return,
    /// A branch left the stub; the byte offset from slot 0 it jumps to (relative
    /// branches) or the absolute address.
    BranchOut {
        /// Target offset from the stub's start, or the absolute address for `ba`/`bla`.
        target: i64,
        /// True for an absolute branch.
        absolute: bool,
    },
    /// A slot was reached twice: the stub would loop forever.
    Loop {
        /// The slot reached again.
        slot: usize,
    },
}

/// What r3, the hypercall status, holds when the stub returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// A trap (`sc`) ran: the hypervisor's answer, unknown statically.
    FromHypervisor,
    /// No trap ran and r3 was last set by `li r3,N`: every hypercall returns N.
    Constant(i64),
    /// Neither can be told (an unknown instruction ran, or r3 was never set).
    Unknown,
}

impl core::fmt::Display for StubExit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            StubExit::Return => f.write_str("returns"),
            StubExit::BranchOut {
                target,
                absolute: true,
            } => write!(f, "branches out of the stub to address {target:#x}"),
            StubExit::BranchOut { target, .. } if target < 0 => {
                write!(
                    f,
                    "branches out of the stub to start-{}",
                    target.unsigned_abs()
                )
            }
            StubExit::BranchOut { target, .. } => {
                write!(f, "branches out of the stub to start+{target}")
            }
            StubExit::Loop { slot } => write!(f, "loops forever (slot {slot} reached again)"),
        }
    }
}

impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Status::FromHypervisor => f.write_str("r3 = the hypervisor's answer"),
            Status::Constant(n) => write!(f, "r3 = {n}"),
            Status::Unknown => f.write_str("r3 unknown"),
        }
    }
}

/// A run through a [`GuestStub`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StubRun {
    /// The executed slots in order.
    pub steps: Vec<Step>,
    /// How the run ended.
    pub exit: StubExit,
    /// What r3 holds at the end.
    pub status: Status,
}

impl core::fmt::Display for StubRun {
    /// A one-line outcome: `returns, r3 = -1 (every hypercall fails)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.exit != StubExit::Return {
            return write!(f, "{}", self.exit);
        }
        write!(f, "returns, {}", self.status)?;
        if self.always_fails() {
            f.write_str(" (every hypercall fails)")?;
        }
        Ok(())
    }
}

impl StubRun {
    /// The step that executed `slot`, if it ran.
    #[must_use]
    pub fn step_at(&self, slot: usize) -> Option<&Step> {
        self.steps.iter().find(|s| s.slot == slot)
    }

    /// True when every hypercall returns -1 without reaching the hypervisor.
    #[must_use]
    pub fn always_fails(&self) -> bool {
        self.exit == StubExit::Return && self.status == Status::Constant(-1)
    }
}

/// Why [`GuestStub::patch`] refused a property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{words} words do not fit the guest's {STUB_SLOTS} hypercall slots")]
#[non_exhaustive]
pub struct TooManyWords {
    /// How many words were given.
    pub words: usize,
}

impl GuestStub {
    /// The stub of a guest of byte order `endian` after copying `words` (big-endian
    /// values from `hcall-instructions`) into it. A little-endian CPU fetches each
    /// property word byte-reversed, modelling a guest that copies the property's bytes
    /// unchanged (see the module docs for which kernels do); the stub's own
    /// instructions are native to the guest.
    ///
    /// # Errors
    /// [`TooManyWords`] for more than four words.
    pub fn patch(words: &[u32], endian: Endian) -> Result<Self, TooManyWords> {
        if words.len() > STUB_SLOTS {
            return Err(TooManyWords { words: words.len() });
        }
        let mut slots = [LI_R3_M1, NOP, NOP, NOP, BLR];
        for (slot, &w) in slots.iter_mut().zip(words) {
            *slot = fetch(w, endian);
        }
        Ok(GuestStub {
            slots,
            patched: words.len(),
        })
    }

    /// Follows the stub's control flow from slot 0: straight-line except for `b`, stops
    /// at `blr`, at a branch out of the stub, or at a slot reached twice. `sc` returns
    /// to the next slot (the hypervisor's answer is [`Status::FromHypervisor`]).
    #[must_use]
    pub fn run(&self) -> StubRun {
        let mut steps = Vec::new();
        let mut visited = [false; STUB_SLOTS + 1];
        let mut status = Status::Unknown;
        let mut pc: usize = 0;
        let exit = loop {
            let Some(&word) = self.slots.get(pc) else {
                // Only reachable through a branch; kept panic-free.
                break StubExit::BranchOut {
                    target: i64::try_from(pc * 4).unwrap_or(i64::MAX),
                    absolute: false,
                };
            };
            if let Some(seen) = visited.get_mut(pc) {
                if *seen {
                    break StubExit::Loop { slot: pc };
                }
                *seen = true;
            }
            let insn = Insn::decode(word);
            steps.push(Step {
                slot: pc,
                word,
                insn,
            });
            status = match insn {
                Insn::Sc { .. } => Status::FromHypervisor,
                Insn::Addi { rt: 3, ra: 0, si } => Status::Constant(i64::from(si)),
                Insn::Long(_) => Status::Unknown,
                _ if insn.target_gpr() == Some(3) => Status::Unknown,
                _ => status,
            };
            match insn {
                Insn::Blr => break StubExit::Return,
                Insn::B {
                    offset, aa: true, ..
                } => {
                    break StubExit::BranchOut {
                        target: i64::from(offset),
                        absolute: true,
                    };
                }
                Insn::B { offset, .. } => {
                    let target = i64::try_from(pc * 4).unwrap_or(i64::MAX) + i64::from(offset);
                    match usize::try_from(target / 4) {
                        Ok(s) if target >= 0 && s < self.slots.len() => pc = s,
                        _ => {
                            break StubExit::BranchOut {
                                target,
                                absolute: false,
                            };
                        }
                    }
                }
                _ => pc += 1,
            }
        };
        StubRun {
            steps,
            exit,
            status,
        }
    }
}

/// Runs `words` in the stub of a guest of byte order `endian`; see [`GuestStub`].
///
/// ```
/// use ppcpv::{Endian, insn::{seq::run_stub, KnownSequence}};
/// let words = KnownSequence::QemuFallback.words();
/// let be = run_stub(words, Endian::Big).unwrap();
/// let le = run_stub(words, Endian::Little).unwrap();
/// assert_eq!(be.steps.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 1, 2, 4]);
/// assert_eq!(le.steps.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 2, 3, 4]);
/// assert!(be.always_fails() && le.always_fails());
/// ```
///
/// # Errors
/// [`TooManyWords`] for more than four words.
pub fn run_stub(words: &[u32], endian: Endian) -> Result<StubRun, TooManyWords> {
    Ok(GuestStub::patch(words, endian)?.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(run: &StubRun) -> Vec<String> {
        run.steps
            .iter()
            .map(|s| format!("{}: {}", s.slot, s.insn))
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for k in KnownSequence::ALL {
            assert_eq!(KnownSequence::from_name(k.name()), Some(k));
            assert_eq!(recognise(k.words()), Some(k));
            assert!(!k.description().is_empty());
        }
        assert_eq!(
            KnownSequence::from_name("KVM-PR"),
            Some(KnownSequence::KvmPr)
        );
        assert_eq!(KnownSequence::from_name("kvm"), None);
    }

    #[test]
    fn reference_words() {
        // kvm_vm_ioctl_get_pvinfo, kvmppc_get_hypercall, Topaz's sc 1.
        assert_eq!(
            KnownSequence::KvmPr.words(),
            [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000]
        );
        assert_eq!(
            KnownSequence::BookeHv.words(),
            [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000]
        );
        assert_eq!(KnownSequence::Epapr.words(), [0x4400_0022]);
        assert_eq!(
            KnownSequence::QemuFallback.words(),
            [0x0800_0048, 0x3860_ffff, 0x4800_0008, 0xffff_6038]
        );
        assert_eq!(
            KnownSequence::QemuFallbackOld.words(),
            [0x3860_ffff, 0x6000_0000, 0x6000_0000, 0x6000_0000]
        );
        assert_eq!(0xffff_6038u32, 0x3860_ffffu32.swap_bytes());
        let kvm: Vec<String> = KnownSequence::KvmPr
            .words()
            .iter()
            .map(|&w| Insn::decode(w).to_string())
            .collect();
        assert_eq!(kvm, ["lis r0,0x4b56", "ori r0,r0,0x4d21", "sc", "nop"]);
    }

    #[test]
    fn recognition_edges() {
        assert_eq!(recognise(&[]), None);
        assert_eq!(recognise(&[SC1, NOP, NOP]), Some(KnownSequence::Epapr));
        assert_eq!(recognise(&[SC1, NOP, SC]), None);
        assert_eq!(recognise(&[SC1, NOP, NOP, NOP, NOP]), None);
        assert_eq!(recognise(&[LIS_R0_KVM, ORI_R0_KVM, SC]), None);
    }

    #[test]
    fn qemu_fallback_in_both_byte_orders() {
        // kvmppc_get_hypercall's fallback: BE runs tdi (nop), li r3,-1, b .+8; LE runs
        // b .+8, tdi, li r3,-1.
        let w = KnownSequence::QemuFallback.words();
        let be = run_stub(w, Endian::Big).unwrap();
        assert_eq!(
            texts(&be),
            ["0: tdi 0,r0,72", "1: li r3,-1", "2: b .+8", "4: blr"]
        );
        let le = run_stub(w, Endian::Little).unwrap();
        assert_eq!(
            texts(&le),
            ["0: b .+8", "2: tdi 0,r0,72", "3: li r3,-1", "4: blr"]
        );
        assert!(be.always_fails() && le.always_fails());
        assert_eq!(be.to_string(), "returns, r3 = -1 (every hypercall fails)");
        assert_eq!(le.step_at(1), None);
        assert_eq!(le.step_at(3).map(|s| s.word), Some(0x3860_ffff));
    }

    #[test]
    fn other_sequences_run_as_expected() {
        let run = |k: KnownSequence, e| run_stub(k.words(), e).unwrap();
        let kvm = run(KnownSequence::KvmPr, Endian::Big);
        assert_eq!(kvm.status, Status::FromHypervisor);
        assert_eq!(kvm.exit, StubExit::Return);
        assert_eq!(kvm.to_string(), "returns, r3 = the hypervisor's answer");
        let topaz = run(KnownSequence::Epapr, Endian::Big);
        assert_eq!(
            texts(&topaz),
            ["0: sc 1", "1: nop", "2: nop", "3: nop", "4: blr"]
        );
        assert!(run(KnownSequence::QemuFallbackOld, Endian::Big).always_fails());
        // The old fallback has no endian trick: a little-endian guest runs garbage.
        let old_le = run(KnownSequence::QemuFallbackOld, Endian::Little);
        assert_eq!(old_le.steps[0].insn, Insn::Long(0xffff_6038));
        assert!(!old_le.always_fails());
        // An empty property leaves the stub's li r3,-1 (epapr_hcalls.S).
        assert!(run_stub(&[], Endian::Big).unwrap().always_fails());
        for k in KnownSequence::ALL {
            assert_eq!(run(k, Endian::Big).always_fails(), k.always_fails(), "{k}");
        }
    }

    #[test]
    fn stub_exits() {
        let b0 = [0x4800_0000]; // b . : loops
        assert_eq!(
            run_stub(&b0, Endian::Big).unwrap().exit,
            StubExit::Loop { slot: 0 }
        );
        assert_eq!(
            StubExit::Loop { slot: 0 }.to_string(),
            "loops forever (slot 0 reached again)"
        );
        let out = [0x4800_0100]; // b .+256
        assert_eq!(
            run_stub(&out, Endian::Big).unwrap().exit,
            StubExit::BranchOut {
                target: 256,
                absolute: false
            }
        );
        let back = [NOP, 0x4bff_fff8]; // b .-8 from slot 1
        assert_eq!(
            run_stub(&back, Endian::Big).unwrap().exit,
            StubExit::BranchOut {
                target: -4,
                absolute: false
            }
        );
        assert_eq!(
            run_stub(&[NOP; 5], Endian::Big),
            Err(TooManyWords { words: 5 })
        );
    }
}
