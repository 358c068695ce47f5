//! The shared magic page: `struct kvm_vcpu_arch_shared` at the start of a 4 KiB page
//! that a PowerPC KVM guest maps with `KVM_HC_PPC_MAP_MAGIC_PAGE` and the host reads and
//! writes in place of trapping privileged instructions.
//!
//! * [`layout`]: the exact field table (offsets, sizes, feature gates, the fields KVM
//!   byte-swaps, 32-bit offsets) and a `#[repr(C)]` mirror checked at compile time.
//! * [`view`]: [`MagicPage`] / [`MagicPageMut`], zero-copy typed views of any 4096-byte
//!   slice, byte order chosen at run time (snapshots, files).
//! * [`volatile`]: [`VolatileMagicPage`], the same typed view over live guest memory that
//!   a running vCPU may write concurrently: volatile, field-sized accesses through a raw
//!   pointer, never a Rust reference (with the `vm-memory` feature, `VmMagicPage`
//!   builds it from rust-vmm's `VolatileSlice` or `GuestMemory`).
//! * [`map`]: where the page lives after the guest's MAP call (PA, EA, flags, the
//!   64 KiB window rule).
//! * `memory` (feature `std`): raw guest RAM images, one page at a time (read with
//!   `pread`, or allocated and mapped to be written).
//!
//! Everything except `memory` works without the standard library.
//!
//! Sources: `torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`,
//! `arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv, kvmppc_swab_shared)`,
//! `arch/powerpc/kernel/kvm.c (kvm_map_magic_page)`, `arch/powerpc/kernel/kvm_emul.S`.
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
#[cfg(feature = "std")]
pub mod memory;
pub mod view;
pub mod volatile;

pub use layout::{FIELDS, Field, FieldId, KvmVcpuArchShared, PAGE_SIZE, SHARED_SIZE, Width};
pub use map::{HostPlacement, MapMagicPage, PageLocation};
#[cfg(feature = "std")]
pub use memory::{GuestImage, ImageError, ImageOptions, MappedPage, MappedPageMut};
pub use view::{MagicError, MagicPage, MagicPageMut, Selector, SelectorError};
#[cfg(feature = "vm-memory")]
pub use volatile::VmMagicPage;
pub use volatile::{VOLATILE_ALIGN, VolatileMagicPage};
