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
//! | [`fdt`] | the flattened device-tree format alone: validating reader, writer, DTS printer | — |
//! | [`dt`] | PowerPC/ePAPR meaning of nodes: `/hypervisor`, guest machines, patching | `fdt`, `insn` |
//! | [`insn`] | PowerPC instruction encoding and decoding, named hypercall sequences | — |
//! | [`hcall`] | the hypercall ABI: tokens, registry, features, the host responder | — |
//! | [`magic`] | the shared page (`struct kvm_vcpu_arch_shared`): layout, typed views, memory images | `hcall` |
//! | [`paravirt`] | the guest's rewrite table: what Linux patches onto the magic page | `insn`, `magic` |
//!
//! `hcall`, `insn` and `magic` never touch the device-tree code, so a VMM that only
//! answers hypercalls pulls in none of it.
//!
//! ```
//! use ppcpv::num::parse_u64;
//!
//! assert_eq!(parse_u64("0x002a_0003").unwrap(), 0x2a0003);
//! ```

pub mod dt;
pub mod endian;
pub mod fdt;
pub mod fileio;
pub mod hcall;
pub mod insn;
pub mod magic;
pub mod num;
pub mod paravirt;

pub use endian::Endian;
