//! The VMM hot path: a guest executed its hypercall trap, here is the vCPU's register file
//! and MSR, answer it.
//!
//! [`HostProfile::handle_sc`] does what the kernel's exit handler plus
//! `kvmppc_kvm_pv` do, on a plain `[u64; 32]` GPR array:
//!
//! 1. **Is it a hypercall?** On the PR hosts (Book3S PR, e500v2) the trap is a plain
//!    `sc`, which is also how the guest makes its own system calls. The host treats it
//!    as a hypercall only when the guest is in supervisor mode (MSR\[PR\] = 0) *and* the
//!    low 32 bits of r0 hold [`KVM_SC_MAGIC_R0`] (`"KVM!"`, which the
//!    `lis r0,0x4b56; ori r0,r0,0x4d21` of the hypercall sequence loads); otherwise the
//!    `sc` goes back to the guest as a system-call interrupt
//!    (`torvalds/linux: arch/powerpc/kvm/book3s_pr.c (kvmppc_handle_exit_pr)`,
//!    `arch/powerpc/kvm/booke.c (kvmppc_handle_exit)`, the `BOOKE_INTERRUPT_SYSCALL`
//!    case). On BookE HV the trap is `sc 1`, which only the hypervisor sees; from user
//!    mode it becomes a program interrupt with `ESR[PPR]` (same function, the
//!    `BOOKE_INTERRUPT_HV_SYSCALL` case). The answer type [`ScOutcome`] names each case.
//! 2. **Read** r0, r3–r10, r11 ([`HcallRegs::from_gprs`]) with the width the host
//!    applies ([`HostProfile::hcall_width`]).
//! 3. **Answer** with [`HostProfile::respond`].
//! 4. **Write back** exactly what the kernel writes: r3 = status (`kvmppc_set_gpr(vcpu,
//!    3, kvmppc_kvm_pv(vcpu))`) and r4 = the second result, for every token; nothing
//!    else ([`HcallResponse::write_gprs`]).
//!
//! Not modelled: Book3S PR's earlier checks on the same exit, sPAPR `sc 1` hypercalls
//! when the VMM enabled PAPR and the Mac-on-Linux "OSI" magic in r3/r4. A VMM that
//! offers those must route them before calling [`HostProfile::handle_sc`].
//!
//! Everything here is `const`-friendly integer work: no allocation, no panic.
//!
//! ```
//! use ppcpv::hcall::{GuestWidth, HostProfile, ScOutcome, SyscallReason, KVM_SC_MAGIC_R0, MSR_SF};
//!
//! // A 64-bit guest asks a Book3S PR host for its features.
//! let mut gprs = [0u64; 32];
//! gprs[0] = u64::from(KVM_SC_MAGIC_R0);
//! gprs[11] = 0x002a_0003; // KVM_HCALL_TOKEN(KVM_HC_FEATURES)
//! let out = HostProfile::Book3sPr.handle_sc(&mut gprs, MSR_SF);
//! assert!(matches!(out, ScOutcome::Hypercall(_)));
//! assert_eq!((gprs[3], gprs[4]), (0, 0x2));
//!
//! // The same `sc` without the magic r0 is the guest's own system call.
//! gprs[0] = 1;
//! let out = HostProfile::Book3sPr.handle_sc(&mut gprs, MSR_SF);
//! assert_eq!(out, ScOutcome::GuestSyscall(SyscallReason::NoMagicR0));
//! assert_eq!(HostProfile::Book3sPr.hcall_width(0), GuestWidth::Bits32);
//! ```

use super::host::{HcallRegs, HcallResponse, HostProfile};

/// `KVM_SC_MAGIC_R0` = 0x4b564d21, ASCII `"KVM!"`: what r0 holds when a guest on a PR
/// host makes a hypercall with `sc` (`torvalds/linux:
/// arch/powerpc/include/uapi/asm/kvm_para.h`).
pub const KVM_SC_MAGIC_R0: u32 = 0x4b56_4d21;

/// MSR\[SF\] (bit 63, `MSR_SF` in `torvalds/linux: arch/powerpc/include/asm/reg.h`): a
/// Book3S guest runs in 64-bit mode.
pub const MSR_SF: u64 = 1 << 63;

/// MSR\[CM\] (bit 31, `MSR_CM` in `torvalds/linux: arch/powerpc/include/asm/reg_booke.h`):
/// a BookE guest computes in 64-bit mode.
pub const MSR_CM: u64 = 1 << 31;

/// MSR\[PR\] (bit 14, `MSR_PR` in `arch/powerpc/include/asm/reg.h`, the same bit on
/// Book3S and BookE): the guest runs in problem (user) state.
pub const MSR_PR: u64 = 1 << 14;

/// How wide the guest's registers are, as far as the hypercall parameters go.
///
/// This is the CPU mode at the trap (MSR\[SF\] or MSR\[CM\]), as the host reads it. It is
/// a different fact from [`crate::paravirt::WordSize`], the guest kernel's build
/// (`CONFIG_64BIT`), which decides what the kernel patches; hence two types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GuestWidth {
    /// 32-bit mode: the host keeps only the low 32 bits of every parameter.
    Bits32,
    /// 64-bit mode: parameters are used whole.
    #[default]
    Bits64,
}

impl GuestWidth {
    /// The width a Book3S guest runs at: MSR\[SF\].
    #[must_use]
    pub const fn from_msr_sf(msr: u64) -> GuestWidth {
        if msr & MSR_SF != 0 {
            GuestWidth::Bits64
        } else {
            GuestWidth::Bits32
        }
    }

    /// The width a BookE guest runs at: MSR\[CM\]. (What the KVM host *applies* to the
    /// parameters can differ; see [`HostProfile::hcall_width`].)
    #[must_use]
    pub const fn from_msr_cm(msr: u64) -> GuestWidth {
        if msr & MSR_CM != 0 {
            GuestWidth::Bits64
        } else {
            GuestWidth::Bits32
        }
    }

    /// 32 or 64.
    #[must_use]
    pub const fn bits(self) -> u32 {
        match self {
            GuestWidth::Bits32 => 32,
            GuestWidth::Bits64 => 64,
        }
    }

    /// `value` as this guest's register holds it: the low 32 bits for a 32-bit guest.
    #[inline]
    #[must_use]
    pub const fn truncate(self, value: u64) -> u64 {
        match self {
            GuestWidth::Bits32 => value & 0xffff_ffff,
            GuestWidth::Bits64 => value,
        }
    }
}

impl From<GuestWidth> for u32 {
    fn from(w: GuestWidth) -> u32 {
        w.bits()
    }
}

/// Why a PR host passed an `sc` back to the guest instead of answering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyscallReason {
    /// The guest was in user mode (MSR\[PR\] = 1): hypercalls are for the kernel only.
    UserMode,
    /// The low 32 bits of r0 were not [`KVM_SC_MAGIC_R0`].
    NoMagicR0,
}

/// What the host does with the guest's hypercall trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScOutcome {
    /// A hypercall, answered: r3 and r4 of the GPR array now hold the response. Resume the
    /// guest after the trap (and act on [`HcallResponse::effect`]).
    Hypercall(HcallResponse),
    /// PR hosts: not a hypercall but the guest's own system call. Deliver a system-call
    /// interrupt to the guest; the registers are unchanged.
    GuestSyscall(SyscallReason),
    /// BookE HV: `sc 1` from user mode. Deliver a program interrupt with `ESR[PPR]`
    /// (privileged instruction); the registers are unchanged.
    PrivilegedInstruction,
}

impl HostProfile {
    /// The width `kvmppc_kvm_pv` reads the parameters with, given the guest's MSR.
    ///
    /// The kernel tests `MSR_SF` (bit 63) on every host. On Book3S that is the guest's
    /// 64-bit mode bit. On the BookE hosts it never matches: e500v2 hosts are 32-bit
    /// kernels, where `MSR_SF` is defined as 0, and a BookE guest MSR has no bit 63 (its
    /// 64-bit mode is MSR\[CM\], bit 31). So the BookE hosts always truncate the
    /// parameters to 32 bits, whatever the guest's mode; this model does the same.
    /// (`torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`,
    /// `arch/powerpc/include/asm/reg.h`: "so tests for these bits fail on 32-bit".)
    #[must_use]
    pub const fn hcall_width(self, msr: u64) -> GuestWidth {
        self.param_width(GuestWidth::from_msr_sf(msr))
    }

    /// Handles the guest's hypercall trap (`sc` on the PR hosts, `sc 1` on BookE HV)
    /// given its 32 GPRs and MSR: decides whether it is a hypercall, answers it, and
    /// writes r3/r4 back into `gprs` exactly as the kernel does. See the module docs.
    ///
    /// ```
    /// use ppcpv::hcall::{HostProfile, ScOutcome, MSR_PR};
    /// let mut gprs = [0u64; 32];
    /// gprs[11] = 0x0001_0010; // EV_IDLE
    /// // BookE HV does not look at r0 ...
    /// assert!(matches!(HostProfile::BookeHv.handle_sc(&mut gprs, 0), ScOutcome::Hypercall(_)));
    /// // ... but refuses user mode.
    /// assert_eq!(HostProfile::BookeHv.handle_sc(&mut gprs, MSR_PR), ScOutcome::PrivilegedInstruction);
    /// ```
    #[inline]
    pub fn handle_sc(self, gprs: &mut [u64; 32], msr: u64) -> ScOutcome {
        let user = msr & MSR_PR != 0;
        match self {
            HostProfile::Book3sPr | HostProfile::E500v2 => {
                if user {
                    return ScOutcome::GuestSyscall(SyscallReason::UserMode);
                }
                #[allow(clippy::cast_possible_truncation)] // the kernel compares (u32)r0
                if gprs[0] as u32 != KVM_SC_MAGIC_R0 {
                    return ScOutcome::GuestSyscall(SyscallReason::NoMagicR0);
                }
            }
            HostProfile::BookeHv => {
                if user {
                    return ScOutcome::PrivilegedInstruction;
                }
            }
        }
        let regs = HcallRegs::from_gprs(gprs, self.hcall_width(msr));
        let out = self.respond(&regs);
        out.write_gprs(gprs);
        ScOutcome::Hypercall(out)
    }
}

impl HcallResponse {
    /// Writes the answer into a vCPU's GPRs as the kernel does: r3 = status, r4 = the
    /// second result (written for every token, 0 unless the call set it). No other
    /// register changes.
    #[inline]
    pub const fn write_gprs(&self, gprs: &mut [u64; 32]) {
        gprs[3] = self.r3;
        gprs[4] = self.r4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcall::{HcallEffect, HcallToken};

    fn gprs(r0: u64, r11: u64, r3: u64, r4: u64) -> [u64; 32] {
        let mut g = [0u64; 32];
        for (i, v) in g.iter_mut().enumerate() {
            *v = 0x1111 * i as u64; // recognisable values in every register
        }
        g[0] = r0;
        g[3] = r3;
        g[4] = r4;
        g[11] = r11;
        g
    }

    const MAGIC: u64 = KVM_SC_MAGIC_R0 as u64;

    #[test]
    fn magic_is_kvm_in_ascii() {
        assert_eq!(&KVM_SC_MAGIC_R0.to_be_bytes(), b"KVM!");
        // The PR hypercall sequence loads exactly this into r0.
        let seq = HostProfile::Book3sPr.hcall_instructions();
        assert_eq!(seq[0] & 0xffff, KVM_SC_MAGIC_R0 >> 16);
        assert_eq!(seq[1] & 0xffff, KVM_SC_MAGIC_R0 & 0xffff);
    }

    #[test]
    fn answers_and_writes_only_r3_r4() {
        for p in [
            HostProfile::Book3sPr,
            HostProfile::E500v2,
            HostProfile::BookeHv,
        ] {
            let before = gprs(MAGIC, 0x002a_0003, 5, 6);
            let mut g = before;
            let out = p.handle_sc(&mut g, MSR_SF);
            let ScOutcome::Hypercall(resp) = out else {
                panic!("{p}: {out:?}")
            };
            assert_eq!((g[3], g[4]), (0, p.features().bits()));
            assert_eq!((resp.r3, resp.r4), (g[3], g[4]));
            for i in (0..32).filter(|&i| i != 3 && i != 4) {
                assert_eq!(g[i], before[i], "{p}: r{i} changed");
            }
        }
    }

    #[test]
    fn unknown_token_writes_r4_zero() {
        let mut g = gprs(MAGIC, 0x002a_0099, 5, 6);
        let out = HostProfile::Book3sPr.handle_sc(&mut g, MSR_SF);
        assert!(matches!(out, ScOutcome::Hypercall(_)));
        assert_eq!((g[3], g[4]), (12, 0));
    }

    #[test]
    fn pr_hosts_refuse_sc_without_magic_r0() {
        for p in [HostProfile::Book3sPr, HostProfile::E500v2] {
            for r0 in [0, 1, u64::from(KVM_SC_MAGIC_R0 ^ 1), 0x4b56_0000] {
                let before = gprs(r0, 0x002a_0003, 5, 6);
                let mut g = before;
                assert_eq!(
                    p.handle_sc(&mut g, MSR_SF),
                    ScOutcome::GuestSyscall(SyscallReason::NoMagicR0)
                );
                assert_eq!(g, before, "registers untouched");
            }
            // Only the low 32 bits of r0 are compared.
            let mut g = gprs(0xdead_beef_0000_0000 | MAGIC, 0x002a_0003, 0, 0);
            assert!(matches!(
                p.handle_sc(&mut g, MSR_SF),
                ScOutcome::Hypercall(_)
            ));
            // User mode never makes a hypercall, magic or not.
            let mut g = gprs(MAGIC, 0x002a_0003, 0, 0);
            assert_eq!(
                p.handle_sc(&mut g, MSR_SF | MSR_PR),
                ScOutcome::GuestSyscall(SyscallReason::UserMode)
            );
        }
    }

    #[test]
    fn booke_hv_ignores_r0_but_refuses_user_mode() {
        let mut g = gprs(0, 0x0001_0010, 0, 0);
        let out = HostProfile::BookeHv.handle_sc(&mut g, 0);
        assert!(matches!(
            out,
            ScOutcome::Hypercall(HcallResponse {
                effect: HcallEffect::Idle,
                ..
            })
        ));
        let before = gprs(MAGIC, 0x0001_0010, 7, 7);
        let mut g = before;
        assert_eq!(
            HostProfile::BookeHv.handle_sc(&mut g, MSR_PR),
            ScOutcome::PrivilegedInstruction
        );
        assert_eq!(g, before);
    }

    #[test]
    fn map_truncates_when_sf_is_clear() {
        let map = u64::from(HcallToken::kvm(4).raw());
        let mut g = gprs(MAGIC, map, 0x1234_5678_9abc_def0, 0xffff_ffff_ffff_f001);
        let out = HostProfile::Book3sPr.handle_sc(&mut g, 0);
        let ScOutcome::Hypercall(HcallResponse {
            effect: HcallEffect::MagicPageMapped(m),
            ..
        }) = out
        else {
            panic!("{out:?}")
        };
        assert_eq!((m.pa, m.ea, m.flags), (0x9abc_d000, 0xffff_f000, 1));
        assert_eq!((g[3], g[4]), (0, 0x3));

        // With MSR[SF] set the same registers are used whole.
        let mut g = gprs(MAGIC, map, 0x1234_5678_9abc_def0, 0xffff_ffff_ffff_f001);
        let ScOutcome::Hypercall(HcallResponse {
            effect: HcallEffect::MagicPageMapped(m),
            ..
        }) = HostProfile::Book3sPr.handle_sc(&mut g, MSR_SF)
        else {
            panic!()
        };
        assert_eq!(m.pa, 0x1234_5678_9abc_d000);
    }

    #[test]
    fn widths() {
        assert_eq!(GuestWidth::from_msr_sf(MSR_SF), GuestWidth::Bits64);
        assert_eq!(GuestWidth::from_msr_sf(MSR_CM), GuestWidth::Bits32);
        assert_eq!(GuestWidth::from_msr_cm(MSR_CM), GuestWidth::Bits64);
        assert_eq!(GuestWidth::from_msr_cm(MSR_SF), GuestWidth::Bits32);
        assert_eq!(GuestWidth::Bits32.truncate(u64::MAX), 0xffff_ffff);
        assert_eq!(GuestWidth::Bits64.truncate(u64::MAX), u64::MAX);
        // BookE hosts test MSR_SF, which a BookE MSR never has: always 32-bit.
        for msr in [0, MSR_CM, u64::MAX] {
            assert_eq!(HostProfile::E500v2.hcall_width(msr), GuestWidth::Bits32);
            assert_eq!(HostProfile::BookeHv.hcall_width(msr), GuestWidth::Bits32);
        }
        assert_eq!(
            HostProfile::Book3sPr.hcall_width(MSR_SF),
            GuestWidth::Bits64
        );
    }
}
