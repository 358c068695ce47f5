//! The host side of PowerPC KVM paravirtual hypercalls: what mainline KVM answers when a
//! guest traps with a hypercall, for each host profile.
//!
//! This mirrors current mainline `torvalds/linux: arch/powerpc/kvm/powerpc.c
//! (kvmppc_kvm_pv)`, the one entry point for KVM paravirtual hypercalls on PowerPC hosts:
//!
//! 1. The token is r11 read as a 32-bit `int` and compared whole against each case
//!    label: KVM does not mask bit 31 and has no "vendor 0 means ePAPR" alias (that is
//!    what the Topaz hypervisor does; see [`HcallToken::topaz`]).
//! 2. In 32-bit mode (MSR\[SF\] = 0) the parameters are truncated to 32 bits. A BookE
//!    host (e500v2, BookE HV) always truncates: a BookE MSR has no SF bit, so the test
//!    never sees 64-bit mode ([`HostProfile::param_width`]).
//! 3. `KVM_HC_PPC_MAP_MAGIC_PAGE` (0x002a0004): pa = param1 `& !0xfff`, ea = param2
//!    `& !0xfff`; a clear `MAGIC_PAGE_FLAG_NOT_MAPPED_NX` bit in param2 marks a legacy
//!    guest (the host then disables kernel NX); answers r3 = 0, r4 = 0x3
//!    (`SR | MAS0_TO_SPRG7`) on every host profile, even one without a magic page:
//!    the kernel's MAP case has no support check, and this model reproduces mainline
//!    rather than what a stricter host could answer.
//! 4. `KVM_HC_FEATURES` (0x002a0003): r3 = 0, r4 = `1 << KVM_FEATURE_MAGIC_PAGE` on
//!    Book3S PR and e500v2, 0 on BookE HV.
//! 5. `EV_IDLE` (0x00010010): the vCPU blocks until woken; r3 = 0, r4 = 0. Reported to
//!    the caller as [`HcallEffect::Idle`].
//! 6. Anything else: r3 = 12 (`EV_UNIMPLEMENTED`), r4 = 0.
//!
//! r4 is written for every token (0 unless a case set it); no other register changes.
//! [`HostProfile::respond`] is a pure function on plain integers: no allocation, no
//! panic for any input (tested), and meant for a VMM's exit path. [`super::vmm`] adds
//! the step before it (is this `sc` a hypercall at all?) and the GPR write-back.

use super::features::{KvmFeature, KvmFeatures, MagicFeatures};
use super::registry::{EV_SUCCESS, EV_UNIMPLEMENTED};
use super::token::HcallToken;
use super::vmm::{GuestWidth, KVM_SC_MAGIC_R0};
use core::fmt;

/// `KVM_HCALL_TOKEN(KVM_HC_FEATURES)` = 0x002a0003 (vendor 42 << 16 | 3,
/// `arch/powerpc/include/uapi/asm/kvm_para.h`).
pub const TOKEN_FEATURES: HcallToken = HcallToken::kvm(3);
/// `KVM_HCALL_TOKEN(KVM_HC_PPC_MAP_MAGIC_PAGE)` = 0x002a0004.
pub const TOKEN_MAP_MAGIC_PAGE: HcallToken = HcallToken::kvm(4);
/// `EV_HCALL_TOKEN(EV_IDLE)` = 0x00010010 (vendor 1 << 16 | 16,
/// `arch/powerpc/include/uapi/asm/epapr_hcalls.h`).
pub const TOKEN_EV_IDLE: HcallToken = HcallToken::epapr(16);

/// `MAGIC_PAGE_FLAG_NOT_MAPPED_NX` = `1 << 0`, in the low 12 bits of MAP's param2
/// (`torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`; older headers lack it).
pub const MAGIC_PAGE_FLAG_NOT_MAPPED_NX: u64 = 1 << 0;

/// The low 12 bits of MAP's parameters, cleared by the host (`& ~0xfffULL` in
/// `kvmppc_kvm_pv`).
pub const MAGIC_PAGE_FLAGS_MASK: u64 = 0xfff;

/// A KVM host build, which decides the `KVM_HC_FEATURES` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostProfile {
    /// Book3S PR KVM (`CONFIG_PPC_BOOK3S`): magic page supported.
    Book3sPr,
    /// BookE PR on e500v2 (`CONFIG_KVM_E500V2`): magic page supported. Labelled legacy:
    /// e500v2 KVM support has been proposed for removal upstream, so current kernels may
    /// lack it; the profile stays because existing hosts still run it.
    E500v2,
    /// BookE HV (e500mc, e5500, e6500; `CONFIG_KVM_BOOKE_HV`): no magic page.
    BookeHv,
}

impl HostProfile {
    /// Every profile.
    pub const ALL: [HostProfile; 3] = [
        HostProfile::Book3sPr,
        HostProfile::E500v2,
        HostProfile::BookeHv,
    ];

    /// The command-line name: `book3s-pr`, `e500v2`, `booke-hv`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            HostProfile::Book3sPr => "book3s-pr",
            HostProfile::E500v2 => "e500v2",
            HostProfile::BookeHv => "booke-hv",
        }
    }

    /// A one-line description, with the legacy label for e500v2.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            HostProfile::Book3sPr => "Book3S PR KVM",
            HostProfile::E500v2 => {
                "BookE PR KVM on e500v2 (legacy; may be removed from current kernels)"
            }
            HostProfile::BookeHv => "BookE HV KVM (e500mc, e5500, e6500)",
        }
    }

    /// Whether the profile is labelled legacy (e500v2).
    #[must_use]
    pub const fn is_legacy(self) -> bool {
        matches!(self, HostProfile::E500v2)
    }

    /// Parses a command-line name (`book3s-pr`, `e500v2`, `booke-hv`).
    #[must_use]
    pub fn parse(text: &str) -> Option<HostProfile> {
        HostProfile::ALL.into_iter().find(|p| p.name() == text)
    }

    /// `KVM_HC_FEATURES`' r4 on this host: `1 << KVM_FEATURE_MAGIC_PAGE` when built with
    /// `CONFIG_PPC_BOOK3S` or `CONFIG_KVM_E500V2`, else nothing (`kvmppc_kvm_pv`, the
    /// `KVM_HC_FEATURES` case).
    #[must_use]
    pub const fn features(self) -> KvmFeatures {
        match self {
            HostProfile::Book3sPr | HostProfile::E500v2 => KvmFeatures::of(KvmFeature::MAGIC_PAGE),
            HostProfile::BookeHv => KvmFeatures::NONE,
        }
    }

    /// Whether the host really has a magic page (`kvmppc_supports_magic_page` in
    /// `arch/powerpc/include/asm/kvm_book3s.h` and `kvm_booke.h`). MAP answers the same
    /// on every profile regardless, because the kernel's MAP case does not check.
    #[must_use]
    pub const fn supports_magic_page(self) -> bool {
        !matches!(self, HostProfile::BookeHv)
    }

    /// MAP's r4 on this host: always `SR | MAS0_TO_SPRG7` in mainline `kvmppc_kvm_pv`.
    #[must_use]
    pub const fn magic_features(self) -> MagicFeatures {
        MagicFeatures::MAINLINE
    }

    /// The hypercall instruction words `KVM_PPC_GET_PVINFO` hands the VMM
    /// (`torvalds/linux: arch/powerpc/kvm/powerpc.c (kvm_vm_ioctl_get_pvinfo)`):
    /// `sc 1; nop; nop; nop` on BookE HV, the magic-r0 sequence
    /// `lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop` on PR hosts.
    #[must_use]
    pub const fn hcall_instructions(self) -> [u32; 4] {
        match self {
            HostProfile::BookeHv => [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000],
            HostProfile::Book3sPr | HostProfile::E500v2 => {
                [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000]
            }
        }
    }

    /// Whether the host implements `EV_IDLE` (`KVM_PPC_PVINFO_FLAGS_EV_IDLE`, set by
    /// every build in `kvm_vm_ioctl_get_pvinfo`).
    #[must_use]
    pub const fn has_idle(self) -> bool {
        true
    }

    /// The width this host reads a guest's parameters with when the guest runs in
    /// `mode`: `mode` on Book3S PR, always 32 bits on the BookE hosts.
    ///
    /// `kvmppc_kvm_pv` (`torvalds/linux: arch/powerpc/kvm/powerpc.c`) truncates the
    /// parameters unless `kvmppc_get_msr(vcpu) & MSR_SF`. On BookE that is never true:
    /// e500v2 hosts are 32-bit kernels where `MSR_SF` is 0, and a 64-bit BookE guest
    /// says so with MSR\[CM\] (bit 31), not bit 63. So a 64-bit e5500 guest's
    /// `MAP_MAGIC_PAGE` address loses its high half on BookE HV too.
    ///
    /// ```
    /// use ppcpv::hcall::{GuestWidth, HostProfile};
    /// assert_eq!(HostProfile::Book3sPr.param_width(GuestWidth::Bits64), GuestWidth::Bits64);
    /// assert_eq!(HostProfile::BookeHv.param_width(GuestWidth::Bits64), GuestWidth::Bits32);
    /// ```
    #[must_use]
    pub const fn param_width(self, mode: GuestWidth) -> GuestWidth {
        match self {
            HostProfile::Book3sPr => mode,
            HostProfile::E500v2 | HostProfile::BookeHv => GuestWidth::Bits32,
        }
    }

    /// Answers one hypercall exactly as mainline `kvmppc_kvm_pv` does on this host.
    ///
    /// `regs.width` is the guest's mode; the parameters are read with
    /// [`HostProfile::param_width`] of it, so a BookE host truncates them to 32 bits
    /// even for a 64-bit guest.
    ///
    /// ```
    /// use ppcpv::hcall::{HcallEffect, HcallRegs, HcallToken, HostProfile};
    /// use ppcpv::hcall::GuestWidth;
    /// let regs = HcallRegs::new(HcallToken::kvm(3), GuestWidth::Bits64);
    /// let out = HostProfile::Book3sPr.respond(&regs);
    /// assert_eq!((out.r3, out.r4, out.effect), (0, 0x2, HcallEffect::None));
    /// assert_eq!(HostProfile::BookeHv.respond(&regs).r4, 0);
    /// ```
    #[inline]
    #[must_use]
    pub fn respond(self, regs: &HcallRegs) -> HcallResponse {
        // `int nr = kvmppc_get_gpr(vcpu, 11)`: only the low 32 bits count, and they are
        // compared whole. Truncation is the intent here.
        #[allow(clippy::cast_possible_truncation)]
        let token = regs.r11 as u32;
        match token {
            t if t == TOKEN_MAP_MAGIC_PAGE.raw() => {
                let mut read = *regs;
                read.width = self.param_width(regs.width);
                let map = MapMagicPage::from_regs(&read);
                HcallResponse {
                    r3: u64::from(EV_SUCCESS),
                    r4: self.magic_features().bits(),
                    effect: HcallEffect::MagicPageMapped(map),
                }
            }
            t if t == TOKEN_FEATURES.raw() => HcallResponse {
                r3: u64::from(EV_SUCCESS),
                r4: self.features().bits(),
                effect: HcallEffect::None,
            },
            t if t == TOKEN_EV_IDLE.raw() => HcallResponse {
                r3: u64::from(EV_SUCCESS),
                r4: 0,
                effect: HcallEffect::Idle,
            },
            _ => HcallResponse {
                r3: u64::from(EV_UNIMPLEMENTED),
                r4: 0,
                effect: HcallEffect::None,
            },
        }
    }
}

impl fmt::Display for HostProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The guest registers a hypercall exit hands the host: r0, r3–r11, and the width the
/// host reads the parameters with.
///
/// Build one with [`HcallRegs::new`] (a token and a width, r0 holding
/// [`KVM_SC_MAGIC_R0`] as the PR hosts' hypercall sequence leaves it) or straight from a
/// vCPU's register file with [`HcallRegs::from_gprs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HcallRegs {
    /// r0: on the PR hosts it must hold [`KVM_SC_MAGIC_R0`] (low 32 bits) for an `sc`
    /// to count as a hypercall ([`HostProfile::handle_sc`]); [`HostProfile::respond`]
    /// does not read it.
    pub r0: u64,
    /// r3–r10, the eight parameters: `params[0]` is r3, `params[7]` is r10.
    pub params: [u64; 8],
    /// r11: the token (its low 32 bits).
    pub r11: u64,
    /// How wide the host reads the parameters: 32-bit guests have them truncated.
    pub width: GuestWidth,
}

impl HcallRegs {
    /// A register set with `token` in r11, zero parameters, [`KVM_SC_MAGIC_R0`] in r0,
    /// read as a `width` guest.
    #[must_use]
    pub const fn new(token: HcallToken, width: GuestWidth) -> HcallRegs {
        HcallRegs {
            r0: KVM_SC_MAGIC_R0 as u64,
            params: [0; 8],
            r11: token.raw() as u64,
            width,
        }
    }

    /// The hypercall registers out of a vCPU's 32 GPRs: r0, r3–r10 and r11. `width` is
    /// usually [`HostProfile::hcall_width`] of the guest's MSR.
    ///
    /// ```
    /// use ppcpv::hcall::{GuestWidth, HcallRegs, HcallToken};
    /// let mut gprs = [0u64; 32];
    /// gprs[11] = 0x002a_0003;
    /// gprs[3] = 7;
    /// let regs = HcallRegs::from_gprs(&gprs, GuestWidth::Bits64);
    /// assert_eq!((regs.token(), regs.param(0)), (HcallToken::kvm(3), Some(7)));
    /// ```
    #[inline]
    #[must_use]
    pub const fn from_gprs(gprs: &[u64; 32], width: GuestWidth) -> HcallRegs {
        HcallRegs {
            r0: gprs[0],
            params: [
                gprs[3], gprs[4], gprs[5], gprs[6], gprs[7], gprs[8], gprs[9], gprs[10],
            ],
            r11: gprs[11],
            width,
        }
    }

    /// The same registers with parameter `r3`/`r4` set (a convenience for the common
    /// two-argument calls).
    #[must_use]
    pub const fn with_r3_r4(mut self, r3: u64, r4: u64) -> HcallRegs {
        self.params[0] = r3;
        self.params[1] = r4;
        self
    }

    /// The same registers with r0 set (for example to something other than
    /// [`KVM_SC_MAGIC_R0`], to model a plain system call).
    #[must_use]
    pub const fn with_r0(mut self, r0: u64) -> HcallRegs {
        self.r0 = r0;
        self
    }

    /// GPR `n` for n in 0 and 3..=11, `None` for other numbers.
    #[must_use]
    pub fn gpr(&self, n: u32) -> Option<u64> {
        match n {
            0 => Some(self.r0),
            11 => Some(self.r11),
            _ => self
                .params
                .get(usize::try_from(n.checked_sub(3)?).ok()?)
                .copied(),
        }
    }

    /// Sets GPR `n` (0 or 3..=11); returns false and changes nothing for other numbers.
    pub fn set_gpr(&mut self, n: u32, value: u64) -> bool {
        match n {
            0 => {
                self.r0 = value;
                return true;
            }
            11 => {
                self.r11 = value;
                return true;
            }
            _ => {}
        }
        let slot = n
            .checked_sub(3)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.params.get_mut(i));
        match slot {
            Some(s) => {
                *s = value;
                true
            }
            None => false,
        }
    }

    /// Parameter `i` (0 = r3) as the host reads it: truncated to 32 bits for a 32-bit
    /// guest (`kvmppc_kvm_pv` masks its parameters with `0xffffffff` when MSR\[SF\] is
    /// clear). `None` past r10.
    #[must_use]
    pub fn param(&self, i: usize) -> Option<u64> {
        self.params.get(i).map(|&v| self.width.truncate(v))
    }

    /// The token in r11 (low 32 bits).
    #[must_use]
    pub const fn token(&self) -> HcallToken {
        #[allow(clippy::cast_possible_truncation)]
        HcallToken::from_raw(self.r11 as u32)
    }

    /// Whether r0 holds [`KVM_SC_MAGIC_R0`] in its low 32 bits, the test the PR hosts
    /// make (`(u32)kvmppc_get_gpr(vcpu, 0) == KVM_SC_MAGIC_R0`).
    #[must_use]
    pub const fn has_magic_r0(&self) -> bool {
        #[allow(clippy::cast_possible_truncation)]
        let low = self.r0 as u32;
        low == KVM_SC_MAGIC_R0
    }
}

/// A `KVM_HC_PPC_MAP_MAGIC_PAGE` request decoded from the guest's registers the way the
/// host does (`kvmppc_kvm_pv`, the MAP case): param1 (r3) is the physical address, param2 (r4)
/// the effective address carrying flags in its low 12 bits; both truncated to 32 bits
/// when MSR\[SF\] = 0, then cleared of their low 12 bits.
///
/// `ppc-pv.rst` describes the two parameters the other way round; the host code, and so
/// this model, takes r3 as the PA, which is also what Linux guests pass
/// (`arch/powerpc/kernel/kvm.c (kvm_map_magic_page)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MapMagicPage {
    /// `magic_page_pa` = param1 `& !0xfff`.
    pub pa: u64,
    /// `magic_page_ea` = param2 `& !0xfff`.
    pub ea: u64,
    /// The low 12 bits of param2 (the flags the guest passed).
    pub flags: u16,
}

impl MapMagicPage {
    /// A request with these fields as given (no masking), for VMMs that record or
    /// replay mappings.
    #[must_use]
    pub const fn new(pa: u64, ea: u64, flags: u16) -> MapMagicPage {
        MapMagicPage { pa, ea, flags }
    }

    /// Decodes the request from the registers at the hypercall exit.
    ///
    /// ```
    /// use ppcpv::hcall::{GuestWidth, HcallRegs, HcallToken, MapMagicPage};
    /// // A 32-bit Linux guest: r3 = -4096, r4 = -4096 | NX flag.
    /// let regs = HcallRegs::new(HcallToken::kvm(4), GuestWidth::Bits32)
    ///     .with_r3_r4(0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_f001);
    /// let m = MapMagicPage::from_regs(&regs);
    /// assert_eq!((m.pa, m.ea, m.flags), (0xffff_f000, 0xffff_f000, 1));
    /// assert!(m.nx_aware());
    /// ```
    #[inline]
    #[must_use]
    pub const fn from_regs(regs: &HcallRegs) -> MapMagicPage {
        let p1 = regs.width.truncate(regs.params[0]);
        let p2 = regs.width.truncate(regs.params[1]);
        MapMagicPage {
            pa: p1 & !MAGIC_PAGE_FLAGS_MASK,
            ea: p2 & !MAGIC_PAGE_FLAGS_MASK,
            // Masked to 12 bits, so it always fits a u16.
            #[allow(clippy::cast_possible_truncation)]
            flags: (p2 & MAGIC_PAGE_FLAGS_MASK) as u16,
        }
    }

    /// Whether the guest set `MAGIC_PAGE_FLAG_NOT_MAPPED_NX`: it maps the page correctly
    /// with respect to no-execute.
    #[must_use]
    pub const fn nx_aware(self) -> bool {
        self.flags as u64 & MAGIC_PAGE_FLAG_NOT_MAPPED_NX != 0
    }

    /// Whether the host records "legacy guest: kernel NX disabled" (the NX flag is
    /// clear; the host sets `disable_kernel_nx` and flushes the TLB).
    #[must_use]
    pub const fn legacy_nx(self) -> bool {
        !self.nx_aware()
    }
}

/// What a hypercall changed, so a VMM can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HcallEffect {
    /// Nothing beyond r3 and r4.
    None,
    /// `KVM_HC_PPC_MAP_MAGIC_PAGE`: the magic page now sits at this PA/EA; see
    /// [`MapMagicPage::legacy_nx`] for the legacy-NX guest flag.
    MagicPageMapped(MapMagicPage),
    /// `EV_IDLE`: the vCPU asked to idle until the next interrupt.
    Idle,
}

/// The host's answer to one hypercall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HcallResponse {
    /// The new r3: an `EV_*` status.
    pub r3: u64,
    /// The new r4: the first output (always written, 0 unless the call sets it).
    pub r4: u64,
    /// What else changed.
    pub effect: HcallEffect,
}

impl HcallResponse {
    /// A response with these values (for VMMs that answer some calls themselves).
    #[must_use]
    pub const fn new(r3: u64, r4: u64, effect: HcallEffect) -> HcallResponse {
        HcallResponse { r3, r4, effect }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(p: HostProfile, token: u64, r3: u64, r4: u64, sf: bool) -> HcallResponse {
        let width = if sf {
            GuestWidth::Bits64
        } else {
            GuestWidth::Bits32
        };
        let mut regs = HcallRegs::new(HcallToken::from_raw(0), width).with_r3_r4(r3, r4);
        regs.r11 = token;
        p.respond(&regs)
    }

    #[test]
    fn tokens_match_the_headers() {
        assert_eq!(TOKEN_FEATURES.raw(), 0x002a_0003);
        assert_eq!(TOKEN_MAP_MAGIC_PAGE.raw(), 0x002a_0004);
        assert_eq!(TOKEN_EV_IDLE.raw(), 0x0001_0010);
    }

    #[test]
    fn features_answer_per_profile() {
        // kvmppc_kvm_pv: r3 = 0; r4 = 0x2 on Book3S PR and e500v2, 0 on BookE HV.
        for (p, r4) in [
            (HostProfile::Book3sPr, 0x2),
            (HostProfile::E500v2, 0x2),
            (HostProfile::BookeHv, 0),
        ] {
            for sf in [false, true] {
                let out = call(p, 0x002a_0003, 0xdead, 0xbeef, sf);
                assert_eq!(
                    out,
                    HcallResponse {
                        r3: 0,
                        r4,
                        effect: HcallEffect::None
                    },
                    "{p}"
                );
            }
        }
    }

    #[test]
    fn map_answers_0x3_on_every_profile() {
        // r3 = 0, r4 = SR | MAS0_TO_SPRG7 = 0x3, even on BookE HV (no support check).
        for p in HostProfile::ALL {
            let out = call(p, 0x002a_0004, 0, 0, true);
            assert_eq!((out.r3, out.r4), (0, 0x3), "{p}");
            assert!(matches!(out.effect, HcallEffect::MagicPageMapped(_)));
        }
    }

    #[test]
    fn map_64bit_linux_guest() {
        // A 64-bit Linux guest: pa = ea = 0xFFFFFFFFFFFFF000, NX flag seen.
        let out = call(
            HostProfile::Book3sPr,
            0x002a_0004,
            0xffff_ffff_ffff_f000,
            0xffff_ffff_ffff_f001,
            true,
        );
        let HcallEffect::MagicPageMapped(m) = out.effect else {
            panic!("no mapping: {out:?}");
        };
        assert_eq!(m.pa, 0xffff_ffff_ffff_f000);
        assert_eq!(m.ea, 0xffff_ffff_ffff_f000);
        assert_eq!(m.flags, 1);
        assert!(m.nx_aware() && !m.legacy_nx());
    }

    #[test]
    fn map_32bit_truncates_then_masks() {
        // 32-bit mode truncates, then & !0xfff.
        let out = call(
            HostProfile::E500v2,
            0x002a_0004,
            0x1234_5678_9abc_def0,
            0xffff_ffff_ffff_f000,
            false,
        );
        let HcallEffect::MagicPageMapped(m) = out.effect else {
            panic!("no mapping: {out:?}");
        };
        assert_eq!(m.pa, 0x9abc_d000);
        assert_eq!(m.ea, 0xffff_f000);
        assert_eq!(m.flags, 0);
        // Old guest (no NX flag): legacy NX guest flag recorded.
        assert!(m.legacy_nx());
        assert_eq!((out.r3, out.r4), (0, 0x3));
    }

    /// Issue 11.10: a BookE MSR has no SF bit, so `kvmppc_kvm_pv` truncates the MAP
    /// parameters of a 64-bit guest too; only Book3S PR keeps 64 bits.
    #[test]
    fn booke_hosts_truncate_even_for_64_bit_guests() {
        for p in HostProfile::ALL {
            let out = call(
                p,
                0x002a_0004,
                0x1234_5678_9abc,
                0xffff_ffff_ffff_f001,
                true,
            );
            let HcallEffect::MagicPageMapped(m) = out.effect else {
                panic!("no mapping: {out:?}");
            };
            let want = match p {
                HostProfile::Book3sPr => (0x1234_5678_9000, 0xffff_ffff_ffff_f000),
                HostProfile::E500v2 | HostProfile::BookeHv => (0x5678_9000, 0xffff_f000),
            };
            assert_eq!((m.pa, m.ea, m.flags), (want.0, want.1, 1), "{p}");
        }
    }

    #[test]
    fn map_keeps_all_low_flag_bits_but_only_bit_0_is_nx() {
        let m = MapMagicPage::from_regs(
            &HcallRegs::new(TOKEN_MAP_MAGIC_PAGE, GuestWidth::Bits64).with_r3_r4(0xfff, 0xffe),
        );
        assert_eq!((m.pa, m.ea, m.flags), (0, 0, 0xffe));
        assert!(m.legacy_nx());
    }

    #[test]
    fn idle_is_reported() {
        // EV_IDLE -> r3 = 0, r4 = 0, vCPU blocks.
        for p in HostProfile::ALL {
            let out = call(p, 0x0001_0010, 7, 7, true);
            assert_eq!(
                out,
                HcallResponse {
                    r3: 0,
                    r4: 0,
                    effect: HcallEffect::Idle
                }
            );
        }
    }

    #[test]
    fn everything_else_is_unimplemented() {
        // The default case: r3 = EV_UNIMPLEMENTED (12), r4 = 0.
        for t in [
            0u64,
            0x002a_0001,
            0x002a_0005,
            0x0001_0001,
            0x0001_000f,
            0x0000_0010, // vendor 0 is not ePAPR for KVM
            0x8001_0010, // bit 31 is not masked
            0x802a_0003, // ditto
            0x0002_0001, // FH_ERR_GET_INFO is Topaz's, not KVM's
            0xffff_ffff,
        ] {
            for p in HostProfile::ALL {
                let out = call(p, t, 1, 2, true);
                assert_eq!(
                    out,
                    HcallResponse {
                        r3: 12,
                        r4: 0,
                        effect: HcallEffect::None
                    },
                    "{t:#x}"
                );
            }
        }
    }

    #[test]
    fn only_the_low_32_bits_of_r11_count() {
        // The token is read as a 32-bit int.
        let out = call(HostProfile::Book3sPr, 0xffff_ffff_002a_0003, 0, 0, true);
        assert_eq!((out.r3, out.r4), (0, 0x2));
    }

    #[test]
    fn gpr_accessors() {
        let mut r = HcallRegs::new(HcallToken::from_raw(0), GuestWidth::Bits64);
        assert!(r.has_magic_r0());
        for n in 3..=11 {
            assert!(r.set_gpr(n, u64::from(n) * 0x100));
        }
        for n in 3..=11 {
            assert_eq!(r.gpr(n), Some(u64::from(n) * 0x100));
        }
        assert!(r.set_gpr(0, 7));
        assert_eq!(r.gpr(0), Some(7));
        assert!(!r.has_magic_r0());
        for n in [1, 2, 12, 31, u32::MAX] {
            assert!(!r.set_gpr(n, 1));
            assert_eq!(r.gpr(n), None);
        }
        r.width = GuestWidth::Bits32;
        r.params[0] = u64::MAX;
        assert_eq!(r.param(0), Some(0xffff_ffff));
        assert_eq!(r.param(8), None);
    }

    #[test]
    fn profiles() {
        for p in HostProfile::ALL {
            assert_eq!(HostProfile::parse(p.name()), Some(p));
            assert!(p.has_idle());
        }
        assert_eq!(HostProfile::parse("book3s-hv"), None);
        assert!(HostProfile::E500v2.is_legacy());
        assert!(HostProfile::E500v2.description().contains("legacy"));
        assert!(!HostProfile::BookeHv.supports_magic_page());
        // kvm_vm_ioctl_get_pvinfo's words.
        assert_eq!(HostProfile::BookeHv.hcall_instructions()[0], 0x4400_0022);
        assert_eq!(
            HostProfile::Book3sPr.hcall_instructions(),
            [0x3c00_4b56, 0x6000_4d21, 0x4400_0002, 0x6000_0000]
        );
    }

    /// A small deterministic generator (xorshift64*), so the test needs no dependency.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn never_panics_and_follows_the_rules_for_any_registers() {
        const EXTREMES: [u64; 10] = [
            0,
            1,
            0xfff,
            0x1000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0x8000_0000_0000_0000,
            u64::MAX,
        ];
        let tokens = [0x002a_0003u64, 0x002a_0004, 0x0001_0010];
        let mut s = 0x1234_5678_9abc_def0u64;
        for i in 0..20_000u64 {
            let mut regs = HcallRegs::new(HcallToken::from_raw(0), GuestWidth::Bits64);
            for p in regs.params.iter_mut() {
                *p = if rng(&mut s).is_multiple_of(3) {
                    EXTREMES[(rng(&mut s) % 10) as usize]
                } else {
                    rng(&mut s)
                };
            }
            regs.r11 = match i % 4 {
                0 => rng(&mut s),
                1 => EXTREMES[(i / 4 % 10) as usize],
                n => tokens[(n as usize + i as usize) % 3] | (rng(&mut s) & !0xffff_ffff),
            };
            regs.width = if rng(&mut s) & 1 == 1 {
                GuestWidth::Bits64
            } else {
                GuestWidth::Bits32
            };
            for p in HostProfile::ALL {
                let out = p.respond(&regs);
                assert!(out.r3 == 0 || out.r3 == 12);
                if out.r3 == 12 {
                    assert_eq!(out.r4, 0);
                }
                if let HcallEffect::MagicPageMapped(m) = out.effect {
                    assert_eq!(m.pa & 0xfff, 0);
                    assert_eq!(m.ea & 0xfff, 0);
                    assert!(m.flags <= 0xfff);
                    if p.param_width(regs.width) == GuestWidth::Bits32 {
                        assert!(m.pa <= 0xffff_f000 && m.ea <= 0xffff_f000);
                    }
                    assert_eq!(out.r4, 0x3);
                }
            }
        }
    }
}
