//! # ppcpv — PowerPC paravirtualization under KVM and ePAPR hypervisors
//!
//! A PowerPC guest learns that it runs under KVM from its device tree's `/hypervisor`
//! node, then talks to the host through hypercalls (`KVM_HC_FEATURES`,
//! `KVM_HC_PPC_MAP_MAGIC_PAGE`, ePAPR `EV_*`) and a 4 KiB "magic page" shared with the
//! host. This crate models each of those pieces for VMMs, emulators and the people who
//! debug them:
//!
//! | module | what it models | depends on |
//! |---|---|---|
//! | [`fdt`] | the flattened device-tree format alone: validating reader, editor, a writer that writes dtc's bytes, DTS printer, dtc's error checks, overlays applied as fdtoverlay does, structural diff | — |
//! | [`dt`] | PowerPC/ePAPR meaning of nodes: `/hypervisor` (also as an overlay), guest machines, patching, the guest verdict before and after a diff | `fdt`, `insn` |
//! | [`insn`] | PowerPC instruction encoding and decoding, named hypercall sequences | — |
//! | [`hcall`] | the hypercall ABI: tokens, registry, features, the host responder | — |
//! | [`magic`] | the shared page (`struct kvm_vcpu_arch_shared`): layout, typed views, memory images | `hcall` |
//! | [`paravirt`] | the guest's rewrite table: what Linux patches onto the magic page | `insn`, `magic` |
//!
//! `hcall`, `insn` and `magic` never touch the device-tree code, so a VMM that only
//! answers hypercalls pulls in none of it.
//!
//! Features: `cli` (default) is the command line; without default features the crate is
//! `#![no_std]` with `alloc`, for guest kernels and firmware, and `std` adds file-backed
//! guest memory images and `io::Write` streaming. `serde` derives `Serialize` on the report
//! and model types, `elf` reads vmlinux sections for paravirt scans, `fdt` hands validated
//! blobs to the `fdt` crate, `vm-memory` views the magic page in rust-vmm guest memory.
//!
//! ```
//! use ppcpv::hcall::{HcallToken, HostProfile, HcallRegs, KvmFeatures};
//!
//! // r11 = KVM_HCALL_TOKEN(KVM_HC_FEATURES) = 42 << 16 | 3.
//! let token = HcallToken::kvm(3);
//! assert_eq!(token.raw(), 0x002a_0003);
//! assert_eq!(token.name(), Some("KVM_HC_FEATURES"));
//!
//! // What a Book3S PR host answers, and what a Linux guest makes of it.
//! let out = HostProfile::Book3sPr.respond(&HcallRegs::new(token, ppcpv::hcall::GuestWidth::Bits64));
//! assert_eq!((out.r3, out.r4), (0, 0x2));
//! assert_eq!(KvmFeatures::from_hcall(out.r3, out.r4).to_string(), "KVM_FEATURE_MAGIC_PAGE");
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod dt;
pub mod endian;
pub mod fdt;
pub mod hcall;
pub mod insn;
pub mod magic;
pub mod num;
pub mod paravirt;
pub mod text;

#[cfg(feature = "serde")]
mod json;

pub use endian::Endian;

/// Every `rust` block of the README, compiled and run as a doctest so the README's
/// examples cannot drift from the library.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
