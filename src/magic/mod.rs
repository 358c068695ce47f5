//! The shared magic page: `struct kvm_vcpu_arch_shared` at the start of a 4 KiB page
//! that a PowerPC KVM guest maps with `KVM_HC_PPC_MAP_MAGIC_PAGE` and the host reads and
//! writes in place of trapping privileged instructions.
//!
//! * [`layout`]: the exact field table (offsets, sizes, feature gates, the fields KVM
//!   byte-swaps, 32-bit offsets) and a `#[repr(C)]` mirror checked at compile time.
//! * [`view`]: [`MagicPage`] / [`MagicPageMut`], zero-copy typed views of any 4096-byte
//!   slice, byte order chosen at run time.
//! * [`map`]: where the page lives after the guest's MAP call (PA, EA, flags, the
//!   64 KiB window rule).
//! * [`memory`]: raw guest RAM images mapped one page at a time.
//!
//! Sources: `torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`,
//! `arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv, kvmppc_swab_shared)`,
//! `arch/powerpc/kernel/kvm.c`; `kvm-ppc-pv.md` §6–§7, decisions D8, D11–D14.
//!
//! ```
//! use ppcpv::magic::{MagicPage, MagicPageMut};
//! use ppcpv::{hcall::MagicFeatures, Endian};
//!
//! let mut page = [0u8; 4096];
//! let mut host = MagicPageMut::from_array(&mut page).with_endian(Endian::Little);
//! host.set_srr0(0xc000_0000_0000_1234);
//! host.set_mas3(0x1f)?;                                  // needs KVM_MAGIC_FEAT_MAS0_TO_SPRG7
//! let guest = MagicPage::from_array(&page).with_endian(Endian::Little);
//! assert_eq!(guest.srr0(), 0xc000_0000_0000_1234);
//! assert!(guest.with_features(MagicFeatures::SR).mas3().is_err()); // gated: an error, not 0
//! # Ok::<(), ppcpv::magic::MagicError>(())
//! ```

pub mod layout;
pub mod map;
pub mod memory;
pub mod view;

pub use layout::{FIELDS, Field, FieldId, KvmVcpuArchShared, PAGE_SIZE, SHARED_SIZE, Width};
pub use map::{HostPlacement, MapMagicPage, PageLocation};
pub use memory::{GuestImage, ImageError, ImageOptions, MappedPage, MappedPageMut};
pub use view::{MagicError, MagicPage, MagicPageMut, Selector, SelectorError};
