//! The PowerPC KVM / ePAPR hypercall ABI.
//!
//! * [`token`]: r11 tokens, `vendor << 16 | number` ([`HcallToken`], [`Vendor`]),
//!   with KVM's exact matching and Topaz's masking decoder.
//! * [`registry`]: every `KVM_HC_*`, ePAPR `EV_*` and Freescale `FH_*` hypercall and the
//!   `EV_*` / `KVM_E*` return codes, in the hypercalls.rst template.
//! * [`abi`]: the calling convention of x86, s390, PowerPC and MIPS.
//! * [`features`]: `KVM_FEATURE_*` bit numbers and `KVM_MAGIC_FEAT_*` masks, and how a
//!   Linux guest decodes them.
//! * [`host`]: the host responder, answering `KVM_HC_FEATURES`,
//!   `KVM_HC_PPC_MAP_MAGIC_PAGE` and `EV_IDLE` exactly as mainline KVM does per host
//!   profile.
//! * [`vmm`]: the VMM hot path around it: is this `sc` a hypercall (the PR hosts' magic
//!   r0), registers in from a `[u64; 32]` GPR array and MSR, the answer written back.
//!
//! Sources: `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`,
//! `arch/powerpc/kvm/book3s_pr.c (kvmppc_handle_exit_pr)`,
//! `arch/powerpc/kvm/booke.c (kvmppc_handle_exit)`,
//! `arch/powerpc/include/uapi/asm/{kvm_para,epapr_hcalls}.h` and
//! `Documentation/virt/kvm/{ppc-pv,x86/hypercalls}.rst`. Nothing in this module touches
//! the device-tree code.
//!
//! ```
//! use ppcpv::hcall::{GuestWidth, HcallEffect, HcallRegs, HcallToken, HostProfile, KvmFeatures, MagicFeatures};
//!
//! // Guest asks for features; a Book3S PR host offers the magic page.
//! let out = HostProfile::Book3sPr.respond(&HcallRegs::new(HcallToken::kvm(3), GuestWidth::Bits64));
//! let features = KvmFeatures::from_hcall(out.r3, out.r4);
//! assert_eq!(features.to_string(), "KVM_FEATURE_MAGIC_PAGE");
//!
//! // Guest maps the page at -4096 with the NX flag, as current Linux does.
//! let regs = HcallRegs::new(HcallToken::kvm(4), GuestWidth::Bits64).with_r3_r4(!0xfff, !0xfff | 1);
//! let out = HostProfile::Book3sPr.respond(&regs);
//! assert_eq!(MagicFeatures::from_map_r4(out.r4), MagicFeatures::MAINLINE);
//! let HcallEffect::MagicPageMapped(map) = out.effect else { unreachable!() };
//! assert_eq!(map.pa, 0xffff_ffff_ffff_f000);
//! ```

pub mod abi;
pub mod features;
pub mod host;
pub mod registry;
pub mod regs;
pub mod token;
pub mod vmm;

pub use abi::CallingConvention;
pub use features::{KvmFeature, KvmFeatures, MagicFeatures};
pub use host::{HcallEffect, HcallRegs, HcallResponse, HostProfile, MapMagicPage};
pub use registry::{Arch, CodeFamily, Hypercall, KvmHc, ReturnCode, Status};
pub use regs::{Reg, Registers};
pub use token::{HcallToken, TokenError, TopazDecode, TopazTable, Vendor};
pub use vmm::{GuestWidth, KVM_SC_MAGIC_R0, MSR_CM, MSR_PR, MSR_SF, ScOutcome, SyscallReason};
