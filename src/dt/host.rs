//! Where a guest tree will run: QEMU's emulation without KVM (TCG) or one of the KVM
//! host kinds, and whether a `/hypervisor` node is safe for that host and the guest's
//! CPU.
//!
//! A guest that finds `hcall-instructions` copies the words into its hypercall stub and
//! executes them on its first hypercall (Linux: `kvm_guest_init` asks
//! `KVM_HC_FEATURES` early in boot, `torvalds/linux: arch/powerpc/kernel/kvm.c`; the
//! stub is `epapr_hypercall_start`, `arch/powerpc/kernel/epapr_hcalls.S`, patched by
//! `early_init_dt_scan_epapr` in `arch/powerpc/kernel/epapr_paravirt.c`). What those
//! words do depends on who runs the guest:
//!
//! * A KVM host traps only its own hypercall instruction. PR hosts (Book3S PR, BookE
//!   e500v2) take a `sc` whose r0 holds `KVM_SC_MAGIC_R0` ("KVM!") as a hypercall;
//!   BookE-HV hosts take `sc 1` (`torvalds/linux: arch/powerpc/kvm/book3s_pr.c
//!   (kvmppc_handle_exit_pr)` and `arch/powerpc/kvm/booke.c (kvmppc_handle_exit)`).
//!   The words each host hands the VMM are [`HostProfile::hcall_instructions`]
//!   (`arch/powerpc/kvm/powerpc.c (kvm_vm_ioctl_get_pvinfo)`).
//! * Without KVM nothing traps: QEMU's TCG runs `sc` as the guest's own system call.
//!   Made from kernel mode during boot, that is `kernel BUG at
//!   arch/powerpc/kernel/syscall.c:34` (Linux 6.1, seen with both the PR and the
//!   BookE-HV words). QEMU itself writes no `/hypervisor` node without KVM
//!   (`qemu/qemu: hw/ppc/e500.c (ppce500_load_device_tree)`, under `kvm_enabled()`).
//! * A 64-bit-only instruction on a 32-bit core (e500v2, 44x) is an illegal
//!   instruction: QEMU's current fallback starts with `tdi 0,r0,72`, and an e500v2 guest
//!   dies with `Oops: Exception in kernel mode, sig: 4` at `epapr_hypercall_start`.
//!   QEMU's decoder marks such instructions `PPC_64B` and the e500v2 model does not
//!   have that flag (`qemu/qemu: target/ppc/translate.c`, `target/ppc/cpu_init.c`).
//! * `has-idle` makes the idle loop call `EV_IDLE` (`epapr_ev_idle`,
//!   `arch/powerpc/kernel/epapr_hcalls.S`); with words that can only fail, that call
//!   returns at once and the idle loop spins a whole host CPU.
//!
//! [`check`] finds each of these in a node before a tree is written, and
//! [`Host::node`] builds the node a host should get.

use crate::Endian;
use crate::dt::hypervisor::{Flavour, HcallInstructions, HypervisorNode};
use crate::dt::machine::Cpu;
use crate::hcall::HostProfile;
use crate::insn::seq::{StubExit, run_stub};
use crate::insn::{Insn, KnownSequence};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// `KVM_SC_MAGIC_R0`, "KVM!": r0 at a PR host's hypercall `sc` (one constant, defined
/// with the VMM's exit handler).
pub use crate::hcall::vmm::KVM_SC_MAGIC_R0;

/// Who runs the guest: QEMU's emulation without KVM, or a KVM host kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Host {
    /// QEMU without KVM (TCG): nothing traps a hypercall. The tree gets no
    /// `/hypervisor` node, as QEMU writes none without KVM.
    #[default]
    Tcg,
    /// A KVM host of this kind: the tree gets the words it traps.
    Kvm(HostProfile),
}

impl Host {
    /// Every host, in the order `--help` lists them.
    pub const ALL: [Host; 4] = [
        Host::Tcg,
        Host::Kvm(HostProfile::Book3sPr),
        Host::Kvm(HostProfile::E500v2),
        Host::Kvm(HostProfile::BookeHv),
    ];

    /// The command-line name: `tcg`, `book3s-pr`, `e500v2`, `booke-hv`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Host::Tcg => "tcg",
            Host::Kvm(p) => p.name(),
        }
    }

    /// What the choice is for, in one line.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Host::Tcg => "QEMU without KVM (TCG emulation): no /hypervisor node",
            Host::Kvm(HostProfile::Book3sPr) => {
                "KVM PR on a Book3S host (pseries guests): the kvm-pr words"
            }
            Host::Kvm(HostProfile::E500v2) => {
                "KVM PR on an e500v2 host (ppce500 e500v2 guests; legacy): the kvm-pr words, has-idle"
            }
            Host::Kvm(HostProfile::BookeHv) => {
                "KVM BookE-HV on an e500mc/e5500/e6500 host: the booke-hv words (sc 1), has-idle"
            }
        }
    }

    /// The KVM host kind, `None` for TCG.
    #[must_use]
    pub const fn profile(self) -> Option<HostProfile> {
        match self {
            Host::Tcg => None,
            Host::Kvm(p) => Some(p),
        }
    }

    /// The words the host traps as a hypercall, as `KVM_PPC_GET_PVINFO` hands them to
    /// the VMM; `None` under TCG, where nothing traps.
    #[must_use]
    pub const fn hcall_words(self) -> Option<[u32; 4]> {
        match self {
            Host::Tcg => None,
            Host::Kvm(p) => Some(p.hcall_instructions()),
        }
    }

    /// Whether a guest's `sc LEV` with r0 = `r0` (if known) reaches this host as a
    /// hypercall. PR hosts look at r0 (`kvmppc_handle_exit_pr`, the non-HV branch of
    /// `kvmppc_handle_exit`); BookE-HV takes `sc 1` from the guest's supervisor mode;
    /// TCG takes nothing.
    #[must_use]
    pub fn traps_sc(self, lev: u8, r0: Option<u32>) -> bool {
        match self {
            Host::Tcg => false,
            Host::Kvm(HostProfile::BookeHv) => lev == 1,
            Host::Kvm(_) => r0 == Some(KVM_SC_MAGIC_R0),
        }
    }

    /// Whether the host can run a guest with this CPU: PR KVM on Book3S runs Book3S
    /// guests, PR KVM on e500v2 runs e500v2 guests, BookE-HV runs e500mc, e5500 and
    /// e6500 guests (`torvalds/linux: arch/powerpc/kvm/e500.c`, `e500mc.c
    /// (kvmppc_core_check_processor_compat)`); TCG emulates every CPU.
    #[must_use]
    pub fn runs(self, cpu: Cpu) -> bool {
        match self {
            Host::Tcg => true,
            Host::Kvm(HostProfile::Book3sPr) => cpu.is_book3s(),
            Host::Kvm(HostProfile::E500v2) => cpu == Cpu::E500v2,
            Host::Kvm(HostProfile::BookeHv) => cpu.is_booke_hv_guest(),
        }
    }

    /// The KVM host kind that runs `cpu`.
    #[must_use]
    pub fn kvm_for(cpu: Cpu) -> Host {
        if cpu.is_book3s() {
            Host::Kvm(HostProfile::Book3sPr)
        } else if cpu == Cpu::E500v2 {
            Host::Kvm(HostProfile::E500v2)
        } else {
            Host::Kvm(HostProfile::BookeHv)
        }
    }

    /// The `/hypervisor` node a guest on this host gets.
    ///
    /// * `flavour` `None`: under KVM a `"linux,kvm"` node with the host's words (and
    ///   `has-idle` when `idle` is true: every KVM host offers `EV_IDLE`,
    ///   `KVM_PPC_PVINFO_FLAGS_EV_IDLE`); under TCG no node, as QEMU writes none.
    /// * `flavour` `Some(..)`, a node asked for: the flavour's preset, whose words
    ///   are kept when the host traps them, otherwise replaced by the host's words, or
    ///   under TCG by words that fail every call without trapping and without
    ///   instructions the CPU may lack (`li r3,-1` and nops: QEMU's older fallback,
    ///   which is valid on every PowerPC). No `has-idle` under TCG: its idle calls
    ///   could only fail.
    #[must_use]
    pub fn node(self, flavour: Option<Flavour>, idle: bool) -> Option<HypervisorNode> {
        let flavour = match (self, flavour) {
            (Host::Tcg, None) => return None,
            (_, Some(f)) => f,
            (Host::Kvm(_), None) => Flavour::Kvm,
        };
        let mut node = HypervisorNode::preset(flavour);
        let keep = node
            .hcall
            .is_some_and(|h| self != Host::Tcg && trapped_by(self, h.words()));
        if !keep {
            node.hcall = Some(match self.hcall_words() {
                Some(words) => HcallInstructions::new(&words).ok()?,
                None => HcallInstructions::from_sequence(KnownSequence::QemuFallbackOld),
            });
        }
        node.has_idle = idle && self != Host::Tcg && flavour == Flavour::Kvm;
        Some(node)
    }
}

/// Whether running `words` reaches `host` through a trap (no other check).
fn trapped_by(host: Host, words: &[u32]) -> bool {
    let Ok(run) = run_stub(words, Endian::Big) else {
        return false;
    };
    let mut r0 = None;
    for step in &run.steps {
        if let Insn::Sc { lev } = step.insn {
            return host.traps_sc(lev, r0);
        }
        r0 = next_r0(r0, step.insn);
    }
    false
}

/// r0 after `insn`, when it can be followed (`lis`, `li`, `ori`, `oris` on r0).
fn next_r0(r0: Option<u32>, insn: Insn) -> Option<u32> {
    match insn {
        // Sign-extended immediates, truncated to the 32 bits the host compares.
        Insn::Addis { rt: 0, ra: 0, si } => Some(i32::from(si).cast_unsigned() << 16),
        Insn::Addi { rt: 0, ra: 0, si } => Some(i32::from(si).cast_unsigned()),
        Insn::Ori { ra: 0, rs: 0, ui } => r0.map(|v| v | u32::from(ui)),
        Insn::Oris { ra: 0, rs: 0, ui } => r0.map(|v| v | (u32::from(ui) << 16)),
        other if other.target_gpr() == Some(0) => None,
        _ => r0,
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A host name that is none of [`Host::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown host '{0}' (known: tcg, book3s-pr, e500v2, booke-hv)")]
pub struct UnknownHost(pub alloc::string::String);

impl FromStr for Host {
    type Err = UnknownHost;
    fn from_str(s: &str) -> Result<Self, UnknownHost> {
        Host::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownHost(s.into()))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Host {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Why a `/hypervisor` node would crash or stall a guest on a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostProblem {
    /// A `sc` the host does not take as a hypercall: the guest runs it as its own
    /// system call, from kernel mode, and panics.
    #[error(
        "hcall-instructions slot {slot}: {word:#010x} ({}) is no hypercall {}: the guest takes it as a system call from kernel mode and panics (kernel BUG at arch/powerpc/kernel/syscall.c)",
        Insn::Sc { lev: *lev },
        under(*host)
    )]
    NotTrapped {
        /// The host.
        host: Host,
        /// The stub slot (0–3).
        slot: usize,
        /// The word.
        word: u32,
        /// Its LEV field.
        lev: u8,
    },
    /// A 64-bit-only instruction on a 32-bit CPU.
    #[error(
        "hcall-instructions slot {slot}: {word:#010x} is a 64-bit instruction, illegal on the 32-bit {cpu}: the guest oopses (sig 4) at its first hypercall"
    )]
    Needs64Bit {
        /// The guest's CPU.
        cpu: Cpu,
        /// The stub slot (0–3).
        slot: usize,
        /// The word.
        word: u32,
    },
    /// An instruction ppcpv cannot judge runs in the stub.
    #[error(
        "hcall-instructions slot {slot}: {word:#010x} is not an instruction ppcpv can judge for this guest"
    )]
    Unjudged {
        /// The stub slot (0–3).
        slot: usize,
        /// The word.
        word: u32,
    },
    /// The stub branches out of itself or loops.
    #[error("hcall-instructions: the guest's hypercall stub {0}")]
    Escapes(StubExit),
    /// `has-idle` with words that can only fail: the idle loop spins.
    #[error(
        "has-idle with hcall-instructions that fail every call: each idle entry's EV_IDLE returns at once, so the guest's idle loop spins a host CPU"
    )]
    IdleSpins,
    /// The KVM host kind cannot run the guest's CPU.
    #[error("KVM host {host} cannot run the guest's {cpu} CPU (it runs {})", runs_text(*host))]
    CpuNotRun {
        /// The host.
        host: Host,
        /// The guest's CPU.
        cpu: Cpu,
    },
}

fn under(host: Host) -> alloc::string::String {
    match host {
        Host::Tcg => "without KVM (tcg): nothing traps it".into(),
        Host::Kvm(p) => alloc::format!(
            "on a {} KVM host, which traps {}",
            p.name(),
            match p {
                HostProfile::BookeHv => "sc 1",
                _ => "sc with r0 = \"KVM!\"",
            }
        ),
    }
}

fn runs_text(host: Host) -> &'static str {
    match host {
        Host::Kvm(HostProfile::Book3sPr) => "Book3S guests",
        Host::Kvm(HostProfile::E500v2) => "e500v2 guests",
        Host::Kvm(HostProfile::BookeHv) => "e500mc, e5500 and e6500 guests",
        _ => "every guest",
    }
}

/// What a guest with `node` would meet on `host` with CPU `cpu` (`None`: unknown, so
/// instruction widths are not judged): every reason it would crash or stall, in the
/// order the guest meets them. Empty means the node is right for that host.
///
/// A node without `hcall-instructions` is judged as Linux runs it: the stub keeps its
/// own `li r3,-1`, every call fails, and `has-idle` is ignored (Linux reads it only
/// next to `hcall-instructions`, `early_init_dt_scan_epapr`).
///
/// ```
/// use ppcpv::dt::host::{check, Host, HostProblem};
/// use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
/// use ppcpv::dt::machine::Cpu;
/// use ppcpv::hcall::HostProfile;
///
/// let kvm = Host::Kvm(HostProfile::E500v2).node(None, true).unwrap();
/// assert!(check(Host::Kvm(HostProfile::E500v2), &kvm, Some(Cpu::E500v2)).is_empty());
/// // The same node under QEMU without KVM: the sc is a system call.
/// let problems = check(Host::Tcg, &kvm, Some(Cpu::E500v2));
/// assert!(matches!(problems[0], HostProblem::NotTrapped { slot: 2, .. }));
/// ```
#[must_use]
pub fn check(host: Host, node: &HypervisorNode, cpu: Option<Cpu>) -> Vec<HostProblem> {
    let mut problems = Vec::new();
    if let (Host::Kvm(_), Some(c)) = (host, cpu)
        && !host.runs(c)
    {
        problems.push(HostProblem::CpuNotRun { host, cpu: c });
    }
    let Some(hcall) = node.hcall else {
        return problems;
    };
    let Ok(run) = run_stub(hcall.words(), Endian::Big) else {
        return problems;
    };
    let narrow = cpu.filter(|c| !c.is_64bit());
    let mut r0 = None;
    let mut trapped = false;
    for step in &run.steps {
        if let Some(c) = narrow
            && needs_64bit(step.word)
        {
            problems.push(HostProblem::Needs64Bit {
                cpu: c,
                slot: step.slot,
                word: step.word,
            });
            return problems;
        }
        match step.insn {
            Insn::Sc { lev } => {
                if host.traps_sc(lev, r0) {
                    trapped = true;
                } else {
                    problems.push(HostProblem::NotTrapped {
                        host,
                        slot: step.slot,
                        word: step.word,
                        lev,
                    });
                    return problems;
                }
            }
            Insn::Long(word) => {
                problems.push(HostProblem::Unjudged {
                    slot: step.slot,
                    word,
                });
                return problems;
            }
            _ => {}
        }
        r0 = next_r0(r0, step.insn);
    }
    if run.exit != StubExit::Return {
        problems.push(HostProblem::Escapes(run.exit));
        return problems;
    }
    if !trapped && node.has_idle {
        problems.push(HostProblem::IdleSpins);
    }
    problems
}

/// [`check`] for every host in [`Host::ALL`]: which hosts a node is right for (an empty
/// list of problems) and why the others would crash or stall the guest.
///
/// ```
/// use ppcpv::dt::host::{verdicts, Host};
/// use ppcpv::dt::machine::Cpu;
/// use ppcpv::hcall::HostProfile;
///
/// let node = Host::Kvm(HostProfile::E500v2).node(None, true).unwrap();
/// let right: Vec<Host> = verdicts(&node, Some(Cpu::E500v2))
///     .into_iter()
///     .filter(|(_, problems)| problems.is_empty())
///     .map(|(host, _)| host)
///     .collect();
/// assert_eq!(right, [Host::Kvm(HostProfile::E500v2)]);
/// ```
#[must_use]
pub fn verdicts(node: &HypervisorNode, cpu: Option<Cpu>) -> Vec<(Host, Vec<HostProblem>)> {
    Host::ALL
        .into_iter()
        .map(|h| (h, check(h, node, cpu)))
        .collect()
}

/// Whether `word` is an instruction of the Power ISA's 64-bit category, which 32-bit
/// cores (e500v2, 44x) do not implement: `tdi`, the `rld*` rotates, `ld`/`ldu`/`lwa`,
/// `std`/`stdu`, compares with L = 1, and the X/XO-form doubleword operations
/// (`td`, `mulld`, `mulhd`, `mulhdu`, `divd`, `divdu`, `sld`, `srd`, `srad`, `sradi`,
/// `extsw`, `cntlzd`, `popcntd`, `ldx`, `ldux`, `stdx`, `stdux`, `ldarx`, `stdcx.`,
/// `lwax`, `lwaux`, `mtmsrd`). Power ISA 2.06B Book I; QEMU's decoder flags the same
/// set `PPC_64B` (`qemu/qemu: target/ppc/translate.c`).
#[must_use]
pub fn needs_64bit(word: u32) -> bool {
    let opcd = word >> 26;
    let l_bit = word >> 21 & 1 == 1;
    let xo10 = word >> 1 & 0x3ff;
    let xo9 = word >> 1 & 0x1ff;
    match opcd {
        2 | 30 | 58 | 62 => true,
        10 | 11 => l_bit,
        31 => {
            matches!(xo10, 0 | 32) && l_bit
                || matches!(
                    xo10,
                    68 | 27
                        | 539
                        | 794
                        | 986
                        | 58
                        | 506
                        | 21
                        | 53
                        | 149
                        | 181
                        | 84
                        | 214
                        | 341
                        | 373
                        | 178
                )
                || matches!(xo9, 9 | 73 | 233 | 457 | 489)
                || word >> 2 & 0x1ff == 413
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E500: Option<Cpu> = Some(Cpu::E500v2);

    fn node(seq: KnownSequence, idle: bool) -> HypervisorNode {
        let mut n = HypervisorNode::preset(Flavour::Kvm);
        n.hcall = Some(HcallInstructions::from_sequence(seq));
        n.has_idle = idle;
        n
    }

    #[test]
    fn names_round_trip() {
        for h in Host::ALL {
            assert_eq!(h.name().parse::<Host>().unwrap(), h);
        }
        assert!("kvm".parse::<Host>().is_err());
    }

    #[test]
    fn each_kvm_host_traps_its_own_words_only() {
        for h in Host::ALL {
            let Some(words) = h.hcall_words() else {
                continue;
            };
            for other in Host::ALL {
                assert_eq!(
                    trapped_by(other, &words),
                    other.hcall_words() == Some(words),
                    "{h} words on {other}"
                );
            }
        }
        // Topaz's single sc 1 reaches BookE-HV too.
        assert!(trapped_by(Host::Kvm(HostProfile::BookeHv), &[0x4400_0022]));
    }

    #[test]
    fn the_issue_cases_are_found() {
        // kvm-pr and booke-hv words without KVM.
        for seq in [KnownSequence::KvmPr, KnownSequence::BookeHv] {
            let p = check(Host::Tcg, &node(seq, false), E500);
            assert!(matches!(p[..], [HostProblem::NotTrapped { .. }]), "{p:?}");
        }
        // QEMU's fallback: tdi on the 32-bit e500v2.
        let p = check(Host::Tcg, &node(KnownSequence::QemuFallback, false), E500);
        assert_eq!(
            p,
            [HostProblem::Needs64Bit {
                cpu: Cpu::E500v2,
                slot: 0,
                word: 0x0800_0048
            }]
        );
        // ...fine on a 64-bit CPU.
        assert!(
            check(
                Host::Tcg,
                &node(KnownSequence::QemuFallback, false),
                Some(Cpu::E5500)
            )
            .is_empty()
        );
        // The old fallback with has-idle spins; without it, it is fine everywhere.
        let p = check(Host::Tcg, &node(KnownSequence::QemuFallbackOld, true), E500);
        assert_eq!(p, [HostProblem::IdleSpins]);
        for h in [Host::Tcg, Host::Kvm(HostProfile::E500v2)] {
            assert!(check(h, &node(KnownSequence::QemuFallbackOld, false), E500).is_empty());
        }
        // A node without words: Linux ignores has-idle.
        let mut bare = HypervisorNode::preset(Flavour::Kvm);
        bare.hcall = None;
        bare.has_idle = true;
        assert!(check(Host::Tcg, &bare, E500).is_empty());
    }

    #[test]
    fn host_and_cpu_must_fit() {
        let hv = Host::Kvm(HostProfile::BookeHv);
        let n = hv.node(None, true).unwrap();
        assert!(check(hv, &n, Some(Cpu::E6500)).is_empty());
        assert_eq!(
            check(hv, &n, E500),
            [HostProblem::CpuNotRun {
                host: hv,
                cpu: Cpu::E500v2
            }]
        );
        for c in Cpu::ALL {
            assert!(Host::kvm_for(c).runs(c), "{c}");
        }
    }

    #[test]
    fn nodes_for_each_host() {
        assert_eq!(Host::Tcg.node(None, true), None);
        let t = Host::Tcg.node(Some(Flavour::Kvm), true).unwrap();
        assert_eq!(
            t.hcall.unwrap().sequence(),
            Some(KnownSequence::QemuFallbackOld)
        );
        assert!(!t.has_idle);
        assert!(check(Host::Tcg, &t, E500).is_empty());
        let pr = Host::Kvm(HostProfile::E500v2).node(None, true).unwrap();
        assert_eq!(pr.hcall.unwrap().sequence(), Some(KnownSequence::KvmPr));
        assert!(pr.has_idle);
        // ePAPR flavour: Topaz's sc 1 stays on BookE-HV, PR hosts get their words.
        let e = Host::Kvm(HostProfile::BookeHv)
            .node(Some(Flavour::Epapr), true)
            .unwrap();
        assert_eq!(e.hcall.unwrap().sequence(), Some(KnownSequence::Epapr));
        assert!(!e.has_idle);
        let e = Host::Kvm(HostProfile::E500v2)
            .node(Some(Flavour::Epapr), false)
            .unwrap();
        assert_eq!(e.hcall.unwrap().sequence(), Some(KnownSequence::KvmPr));
    }

    #[test]
    fn sixty_four_bit_instructions() {
        for w in [
            0x0800_0048u32, // tdi 0,r0,72
            0xe860_0000,    // ld r3,0(0)
            0xf860_0000,    // std r3,0(0)
            0x7c00_0164,    // mtmsrd r0
            0x7c63_07b4,    // extsw r3,r3
            0x7c63_21d2,    // mulld r3,r3,r4
            0x2c23_0000,    // cmpdi r3,0
            0x7863_0020,    // rldicl r3,r3,0,32
            0x7c63_0036,    // sld r3,r3,r0
            0x7c63_0674,    // sradi r3,r3,0
        ] {
            assert!(needs_64bit(w), "{w:#x}");
        }
        for w in [
            0x3860_ffffu32, // li r3,-1
            0x6000_0000,    // nop
            0x4400_0002,    // sc
            0x4400_0022,    // sc 1
            0x3c00_4b56,    // lis r0,0x4b56
            0x4800_0008,    // b .+8
            0x2c03_0000,    // cmpwi r3,0
            0x7c63_21d6,    // mullw r3,r3,r4
            0x0c00_0000,    // twi 0,r0,0
        ] {
            assert!(!needs_64bit(w), "{w:#x}");
        }
    }
}
