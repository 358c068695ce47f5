//! A magic-page view over guest memory that a running vCPU may write at the same time.
//!
//! The slice views ([`MagicPage`](super::MagicPage), [`MagicPageMut`](super::MagicPageMut))
//! borrow the page as `&[u8]` / `&mut [u8]`, and a Rust reference promises the compiler
//! that nothing else writes the bytes while it lives. Guest RAM breaks that promise: the
//! guest's patched kernel stores to the page (`arch/powerpc/kernel/kvm.c` rewrites
//! `mtspr`/`mtmsr` into stores to it) on another CPU while the VMM looks at it. Holding a
//! slice over such memory is undefined behaviour, whatever the code does with it.
//!
//! [`VolatileMagicPage`] never forms a reference to the page. It keeps a raw pointer and
//! reads or writes one field at a time with [`core::ptr::read_volatile`] /
//! [`core::ptr::write_volatile`], then converts between the page's byte order and the
//! host's in a register. It has the same typed accessors, the same `KVM_MAGIC_FEAT_*`
//! gating and the same [`Selector`] access as the slice views; keep those for snapshots
//! ([`VolatileMagicPage::copy_to`] takes one).
//!
//! # What is and is not atomic
//!
//! * Each access to a naturally aligned field is **one** load or store of the field's
//!   width: a u32 field (`dsisr`, `int_pending`, `sr[n]`, `mas0`, …) on every target, a
//!   u64 field (`msr`, `srr0`, `critical`, …) on 64-bit targets. LLVM does not split or
//!   merge a volatile access of a width the target loads in one instruction, and every
//!   field of `struct kvm_vcpu_arch_shared` is naturally aligned inside a page the
//!   constructors require to be 8-byte aligned. So a read never returns half of one value
//!   and half of another (no torn values), and a write is seen whole by the guest.
//! * On a 32-bit host a u64 access is two 32-bit accesses and can tear; the test
//!   `volatile_view_never_tears` in `tests/magic_views.rs` runs on 64-bit hosts.
//! * Nothing spans fields. [`snapshot`](VolatileMagicPage::snapshot) reads field by field,
//!   so its fields may come from different moments; read-modify-write accessors
//!   ([`set_mas7`](VolatileMagicPage::set_mas7), [`set_mas3`](VolatileMagicPage::set_mas3),
//!   [`set32`](VolatileMagicPage::set32) on a u64, [`swab_kvm`](VolatileMagicPage::swab_kvm))
//!   can lose a guest store that lands between their load and their store. KVM itself
//!   only does those while the vCPU is stopped (MAP time, exits), and so should a VMM.
//! * Volatile is not an ordering primitive: it orders accesses against each other on
//!   this thread in program order, but no fence is implied. A VMM that needs the guest to
//!   see fields in a given order across CPUs must add its own fences (as it would for
//!   any shared memory).
//!
//! The view is neither `Send` nor `Sync` (like `vm_memory::VolatileSlice`): make one per
//! thread from the guest memory, which is cheap.
//!
//! With the `vm-memory` feature, `VmMagicPage` builds the view from the rust-vmm
//! crate's `VolatileSlice` or from any `GuestMemory` and a guest physical address.

// Raw-pointer access is the point of this module, so `unsafe` is allowed here (the crate
// denies it elsewhere, except the mmap calls of `memory`); every block says why it holds.
#![allow(unsafe_code)]

use super::layout::{FIELDS, Field, FieldId, KvmVcpuArchShared, PAGE_SIZE, Width};
use super::view::{
    MagicError, SR_COUNT, Selector, access, check, gate_const, merge_mas, off, read_api, sr_error,
    write_api,
};
use crate::Endian;
use crate::hcall::MagicFeatures;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// The alignment the volatile view needs: that of the widest field (u64).
pub const VOLATILE_ALIGN: usize = 8;

/// A typed view of a magic page in memory that others (the guest's vCPUs, another
/// process) may write concurrently. Every access is volatile and field-sized; see the
/// [module documentation](self) for what that guarantees.
///
/// Setters take `&self`, like [`core::cell::Cell::set`]: the page is shared memory, and
/// the view is a pointer to it.
///
/// ```
/// use ppcpv::magic::{MagicPage, VolatileMagicPage};
/// use ppcpv::Endian;
///
/// #[repr(C, align(4096))]
/// struct Page([u8; 4096]);
/// let mut page = Page([0; 4096]);
///
/// // Safe: a `&mut` borrow is exclusive for the view's lifetime. Over real guest
/// // memory, use the unsafe `from_ptr` (or `VmMagicPage` with the vm-memory feature).
/// let live = VolatileMagicPage::from_mut(&mut page.0)?.with_endian(Endian::Little);
/// live.set_srr0(0xc000_0000_0000_1234);
/// live.set_int_pending(1);
/// assert_eq!(live.srr0(), 0xc000_0000_0000_1234);
///
/// let mut copy = [0u8; 4096];
/// live.copy_to(&mut copy); // a snapshot for the slice views
/// let snap = MagicPage::from_array(&copy).with_endian(Endian::Little);
/// assert_eq!(snap.int_pending(), 1);
/// # Ok::<(), ppcpv::magic::MagicError>(())
/// ```
#[derive(Clone, Copy)]
pub struct VolatileMagicPage<'a> {
    base: NonNull<u8>,
    endian: Endian,
    features: MagicFeatures,
    /// Borrows 4096 bytes of shared, interior-mutable memory for `'a` (not `Send`, not
    /// `Sync`).
    _page: PhantomData<&'a UnsafeCell<[u8; PAGE_SIZE]>>,
}

impl<'a> VolatileMagicPage<'a> {
    /// Views the page at `ptr`; big-endian, features 0x3 (what mainline KVM answers to
    /// every MAP call, `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`).
    ///
    /// # Errors
    /// [`MagicError::Misaligned`] when `ptr` is not 8-byte aligned.
    ///
    /// # Safety
    /// For the whole lifetime `'a` of the view (and of its copies):
    /// * `ptr` is valid for reads and writes of 4096 bytes ([`PAGE_SIZE`]): the memory is
    ///   mapped, readable and writable, and is neither unmapped nor freed;
    /// * no Rust reference (`&` or `&mut`) to any of those bytes exists or is created;
    ///   other code touches them only through raw pointers or volatile access (the guest,
    ///   another process, a `vm_memory::VolatileSlice`).
    ///
    /// The memory **may** be written concurrently by the guest's vCPUs or by another
    /// process: that is what the view is for.
    pub unsafe fn from_ptr(ptr: NonNull<u8>) -> Result<Self, MagicError> {
        let addr = ptr.as_ptr() as usize;
        if !addr.is_multiple_of(VOLATILE_ALIGN) {
            return Err(MagicError::Misaligned { addr });
        }
        Ok(VolatileMagicPage {
            base: ptr,
            endian: Endian::Big,
            features: MagicFeatures::MAINLINE,
            _page: PhantomData,
        })
    }

    /// Views a page borrowed exclusively (safe: the borrow keeps every other reference
    /// away for `'a`). Useful for tests and for memory the caller owns.
    ///
    /// # Errors
    /// [`MagicError::PageSize`] unless `bytes` is 4096 bytes long,
    /// [`MagicError::Misaligned`] unless it starts 8-byte aligned.
    pub fn from_mut(bytes: &'a mut [u8]) -> Result<Self, MagicError> {
        if bytes.len() != PAGE_SIZE {
            return Err(MagicError::PageSize { len: bytes.len() });
        }
        let ptr = NonNull::from(bytes).cast::<u8>();
        // SAFETY: `ptr` comes from a `&'a mut [u8]` of exactly PAGE_SIZE bytes, so it is
        // valid for reads and writes of the page for 'a, and the exclusive borrow keeps
        // every other reference to those bytes away for as long as the view lives.
        unsafe { Self::from_ptr(ptr) }
    }

    /// The same view, decoding and encoding in `endian` (no bytes change).
    #[must_use]
    pub const fn with_endian(self, endian: Endian) -> Self {
        VolatileMagicPage { endian, ..self }
    }

    /// The same view, with `features` in force.
    #[must_use]
    pub const fn with_features(self, features: MagicFeatures) -> Self {
        VolatileMagicPage { features, ..self }
    }

    /// The host address of the page's first byte.
    #[must_use]
    pub const fn as_ptr(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The field-sized location at `off`, or `None` if it is not inside the page or not
    /// naturally aligned. Offsets come from the layout table or from a validated
    /// selector, so `None` never happens in practice; with constant offsets the check
    /// folds away.
    #[inline(always)]
    fn at<T>(&self, off: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        if off > PAGE_SIZE - size || !off.is_multiple_of(size) {
            return None;
        }
        // SAFETY: `off + size <= PAGE_SIZE`, so the result stays inside the 4096-byte
        // allocation the constructor's contract promises.
        Some(unsafe { self.base.as_ptr().add(off) }.cast::<T>())
    }

    #[inline(always)]
    fn ld32(&self, off: usize) -> u32 {
        let Some(p) = self.at::<u32>(off) else {
            return 0;
        };
        // SAFETY: `p` is inside the page (checked by `at`), valid for reads for 'a by the
        // constructor's contract, and 4-byte aligned (page 8-aligned, `off` a multiple
        // of 4). Volatile: the guest may write it concurrently; no reference is formed.
        let raw = unsafe { p.read_volatile() };
        match self.endian {
            Endian::Big => u32::from_be(raw),
            Endian::Little => u32::from_le(raw),
        }
    }

    #[inline(always)]
    fn ld64(&self, off: usize) -> u64 {
        let Some(p) = self.at::<u64>(off) else {
            return 0;
        };
        // SAFETY: as in `ld32`, with 8-byte alignment (`off` a multiple of 8).
        let raw = unsafe { p.read_volatile() };
        match self.endian {
            Endian::Big => u64::from_be(raw),
            Endian::Little => u64::from_le(raw),
        }
    }

    #[inline(always)]
    fn st32(&self, off: usize, v: u32) {
        let raw = match self.endian {
            Endian::Big => v.to_be(),
            Endian::Little => v.to_le(),
        };
        if let Some(p) = self.at::<u32>(off) {
            // SAFETY: inside the page, aligned (see `ld32`), valid for writes for 'a by
            // the constructor's contract; volatile, no reference formed.
            unsafe { p.write_volatile(raw) }
        }
    }

    #[inline(always)]
    fn st64(&self, off: usize, v: u64) {
        let raw = match self.endian {
            Endian::Big => v.to_be(),
            Endian::Little => v.to_le(),
        };
        if let Some(p) = self.at::<u64>(off) {
            // SAFETY: as in `st32`, with 8-byte alignment.
            unsafe { p.write_volatile(raw) }
        }
    }

    /// Copies the whole page (struct and tail) into `out`, one aligned u64 at a time,
    /// bytes unchanged: a snapshot to hand to [`MagicPage`](super::MagicPage). Each
    /// 8-byte word is read whole; words may come from different moments.
    pub fn copy_to(&self, out: &mut [u8; PAGE_SIZE]) {
        for (n, chunk) in out.chunks_exact_mut(8).enumerate() {
            if let Some(p) = self.at::<u64>(n * 8) {
                // SAFETY: inside the page and 8-byte aligned (checked by `at`), valid for
                // reads for 'a; volatile, no reference formed.
                let w = unsafe { p.read_volatile() };
                // Native order both ways: the bytes land exactly as they are in memory.
                chunk.copy_from_slice(&w.to_ne_bytes());
            }
        }
    }

    /// Writes a whole page (struct and tail) from `bytes`, one aligned u64 at a time,
    /// bytes unchanged (restoring a snapshot while the vCPU is stopped).
    pub fn copy_from(&self, bytes: &[u8; PAGE_SIZE]) {
        for (n, chunk) in bytes.chunks_exact(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            if let Some(p) = self.at::<u64>(n * 8) {
                // SAFETY: inside the page and 8-byte aligned (checked by `at`), valid for
                // writes for 'a; volatile, no reference formed.
                unsafe { p.write_volatile(u64::from_ne_bytes(w)) }
            }
        }
    }

    read_api!();

    write_api!('_; common);
    write_api!('_; all);
}

impl core::fmt::Debug for VolatileMagicPage<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VolatileMagicPage")
            .field("at", &self.base)
            .field("endian", &self.endian)
            .field("features", &format_args!("{:#x}", self.features.bits()))
            .field("msr", &format_args!("{:#x}", self.msr()))
            .field("srr0", &format_args!("{:#x}", self.srr0()))
            .field("int_pending", &self.int_pending())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "vm-memory")]
pub use vm::VmMagicPage;

#[cfg(feature = "vm-memory")]
mod vm {
    use super::super::layout::SHARED_SIZE;
    use super::{MagicError, PAGE_SIZE, VolatileMagicPage};
    use core::ptr::NonNull;
    use vm_memory::bitmap::{BS, BitmapSlice};
    use vm_memory::volatile_memory::PtrGuardMut;
    use vm_memory::{GuestAddress, GuestMemory, Permissions, VolatileSlice};

    /// The magic page inside a rust-vmm `vm-memory` guest memory (feature `vm-memory`).
    ///
    /// It keeps the `VolatileSlice` of the page and the pointer guard that `vm-memory`
    /// hands out for raw access (with the Xen backend the guard is what keeps the page
    /// mapped), and lends [`VolatileMagicPage`] views that cannot outlive either.
    ///
    /// Writes through the view do not reach `vm-memory`'s dirty-page bitmap (raw access
    /// never does): call [`VmMagicPage::mark_dirty`] after writing, before the bitmap is
    /// read for migration.
    ///
    /// ```
    /// use ppcpv::magic::VmMagicPage;
    /// use vm_memory::VolatileSlice;
    ///
    /// #[repr(C, align(4096))]
    /// struct Page([u8; 4096]);
    /// let mut ram = Page([0; 4096]);
    /// let page = VmMagicPage::new(VolatileSlice::from(&mut ram.0[..]))?;
    /// page.view().set_msr(0x8000_0000_0000_1032);
    /// page.mark_dirty();
    /// assert_eq!(page.view().msr(), 0x8000_0000_0000_1032);
    /// # Ok::<(), ppcpv::magic::MagicError>(())
    /// ```
    #[derive(Debug)]
    pub struct VmMagicPage<'a, B: BitmapSlice = ()> {
        slice: VolatileSlice<'a, B>,
        /// Keeps `base` valid (the Xen backend maps the page for as long as it lives).
        _guard: PtrGuardMut,
        /// The page's host address, non-null and 8-byte aligned (checked in `new`).
        base: NonNull<u8>,
    }

    impl<'a, B: BitmapSlice> VmMagicPage<'a, B> {
        /// The page at the start of `slice`, which must hold at least 4096 bytes.
        ///
        /// # Errors
        /// [`MagicError::PageSize`] for a shorter slice, [`MagicError::Misaligned`] when
        /// it does not start 8-byte aligned.
        pub fn new(slice: VolatileSlice<'a, B>) -> Result<Self, MagicError> {
            let len = slice.len();
            let slice = slice
                .subslice(0, PAGE_SIZE)
                .map_err(|_| MagicError::PageSize { len })?;
            let guard = slice.ptr_guard_mut();
            let addr = guard.as_ptr() as usize;
            let base = match NonNull::new(guard.as_ptr()) {
                Some(p) if addr.is_multiple_of(super::VOLATILE_ALIGN) => p,
                _ => return Err(MagicError::Misaligned { addr }),
            };
            Ok(VmMagicPage {
                slice,
                _guard: guard,
                base,
            })
        }

        /// A view of the page: big-endian, features 0x3 until set with
        /// [`VolatileMagicPage::with_endian`] / [`VolatileMagicPage::with_features`].
        #[must_use]
        pub fn view(&self) -> VolatileMagicPage<'_> {
            // This meets `VolatileMagicPage::from_ptr`'s contract: `VolatileSlice`'s own
            // (unsafe) constructor promised that its memory is valid for 'a and touched by
            // everyone else only through raw pointers or volatile access; the guard, owned
            // by `self`, keeps the pointer valid; `new` checked the length (4096), null
            // and the alignment. The view borrows `self`, so it outlives neither.
            VolatileMagicPage {
                base: self.base,
                endian: crate::Endian::Big,
                features: crate::hcall::MagicFeatures::MAINLINE,
                _page: core::marker::PhantomData,
            }
        }

        /// Marks the struct's 240 bytes dirty in `vm-memory`'s bitmap.
        pub fn mark_dirty(&self) {
            self.slice.bitmap().mark_dirty(0, SHARED_SIZE);
        }

        /// The `VolatileSlice` of the page (4096 bytes).
        #[must_use]
        pub fn slice(&self) -> &VolatileSlice<'a, B> {
            &self.slice
        }
    }

    impl VmMagicPage<'_, ()> {
        /// The page at guest physical address `gpa` of `mem` (any `GuestMemory`, such as
        /// `GuestMemoryMmap`), e.g. the PA of the guest's MAP call
        /// ([`MapMagicPage::pa`](crate::hcall::MapMagicPage)). The result carries
        /// `mem`'s dirty bitmap.
        ///
        /// # Errors
        /// [`MagicError::NotMapped`] when the 4096 bytes at `gpa` are not one contiguous,
        /// host-mapped, read-write range; [`MagicError::Misaligned`] as in
        /// [`VmMagicPage::new`].
        pub fn from_guest_memory<M>(
            mem: &M,
            gpa: u64,
        ) -> Result<VmMagicPage<'_, BS<'_, M::Bitmap>>, MagicError>
        where
            M: GuestMemory + ?Sized,
        {
            let not_mapped = MagicError::NotMapped { gpa };
            let slice = mem
                .get_slices(GuestAddress(gpa), PAGE_SIZE, Permissions::ReadWrite)
                .map_err(|_| not_mapped)?
                .next()
                .ok_or(not_mapped)?
                .map_err(|_| not_mapped)?;
            if slice.len() != PAGE_SIZE {
                // The page straddles two regions (or an IOMMU mapping boundary).
                return Err(not_mapped);
            }
            VmMagicPage::new(slice)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::magic::{MagicPage, MagicPageMut};

    #[repr(C, align(4096))]
    struct Page([u8; PAGE_SIZE]);

    fn pattern(sel: Selector) -> u64 {
        let seed = (sel.offset() as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if sel.bits() == 32 { seed >> 32 } else { seed }
    }

    #[test]
    fn constructors_check_length_and_alignment() {
        let mut page = Page([0; PAGE_SIZE]);
        assert!(VolatileMagicPage::from_mut(&mut page.0).is_ok());
        assert_eq!(
            VolatileMagicPage::from_mut(&mut page.0[..4095]).unwrap_err(),
            MagicError::PageSize { len: 4095 }
        );
        let mut big = Page([0; PAGE_SIZE]);
        let addr = big.0.as_ptr() as usize + 4;
        let ptr = NonNull::new(big.0.as_mut_ptr().wrapping_add(4)).unwrap();
        // SAFETY: the pointer is refused for its alignment before any access.
        let err = unsafe { VolatileMagicPage::from_ptr(ptr) }.unwrap_err();
        assert_eq!(err, MagicError::Misaligned { addr });
        assert!(err.to_string().contains("not 8-byte aligned"));
    }

    #[test]
    fn every_selector_round_trips_and_matches_the_slice_view() {
        for e in [Endian::Big, Endian::Little] {
            let mut page = Page([0; PAGE_SIZE]);
            let v = VolatileMagicPage::from_mut(&mut page.0)
                .unwrap()
                .with_endian(e);
            for sel in Selector::all() {
                v.set(sel, pattern(sel)).unwrap();
            }
            v.set(Selector::Mas7, 0x7777_7777).unwrap();
            let mut copy = [0u8; PAGE_SIZE];
            v.copy_to(&mut copy);
            let s = MagicPage::from_array(&copy).with_endian(e);
            for sel in Selector::all().chain([Selector::Mas7, Selector::Mas3]) {
                assert_eq!(v.get(sel), s.get(sel), "{sel} {e}");
                assert_eq!(v.get32(sel), s.get32(sel), "{sel} {e}");
            }
            assert_eq!(v.snapshot(), s.snapshot());
            assert_eq!(v.mas7(), Ok(0x7777_7777));
            assert_eq!(copy, page.0);
        }
    }

    #[test]
    fn swab_and_restore_match_the_slice_view() {
        for from in [Endian::Big, Endian::Little] {
            let mut a = Page([0x5a; PAGE_SIZE]);
            let mut b = [0x5au8; PAGE_SIZE];
            let v = VolatileMagicPage::from_mut(&mut a.0)
                .unwrap()
                .with_endian(from);
            let mut m = MagicPageMut::from_array(&mut b).with_endian(from);
            for sel in Selector::all() {
                v.set(sel, pattern(sel)).unwrap();
                m.set(sel, pattern(sel)).unwrap();
            }
            let mut v = v;
            assert!(v.swab_kvm(from.swapped()));
            assert!(m.swab_kvm(from.swapped()));
            let mut copy = [0u8; PAGE_SIZE];
            v.copy_to(&mut copy);
            assert!(copy == *m.bytes(), "swab_kvm {from}");
            assert!(v.convert(from));
            assert!(m.convert(from));
            v.copy_to(&mut copy);
            assert!(copy == *m.bytes(), "convert {from}");
            let snap = m.snapshot();
            let mut fresh = Page([0; PAGE_SIZE]);
            let w = VolatileMagicPage::from_mut(&mut fresh.0)
                .unwrap()
                .with_endian(v.endian());
            w.restore(&snap);
            assert_eq!(w.snapshot(), snap);
        }
    }

    #[test]
    fn gates_and_bad_selectors_write_nothing() {
        let mut page = Page([0xff; PAGE_SIZE]);
        let v = VolatileMagicPage::from_mut(&mut page.0)
            .unwrap()
            .with_features(MagicFeatures::NONE);
        assert!(matches!(
            v.pir(),
            Err(MagicError::Gated {
                field: FieldId::Pir,
                ..
            })
        ));
        assert!(v.set_sprg7(0).is_err());
        assert!(v.set_sr(0, 0).is_err());
        let v = v.with_features(MagicFeatures::MAINLINE);
        assert!(v.set_sr(16, 0).is_err());
        assert!(v.set(Selector::Element(FieldId::Sr, 99), 0).is_err());
        assert!(
            v.set32(Selector::Element(FieldId::Sr, usize::MAX), 0)
                .is_err()
        );
        assert!(v.get(Selector::Element(FieldId::Msr, 2)).is_err());
        assert!(v.set(Selector::Mas7, 1 << 32).is_err());
        assert!(page.0.iter().all(|&b| b == 0xff));
    }

    #[test]
    fn copy_from_writes_the_whole_page() {
        let mut src = [0u8; PAGE_SIZE];
        for (i, b) in src.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31);
        }
        let mut page = Page([0; PAGE_SIZE]);
        let v = VolatileMagicPage::from_mut(&mut page.0).unwrap();
        v.copy_from(&src);
        assert_eq!(v.msr(), MagicPage::from_array(&src).msr());
        let d = alloc::format!("{v:?}");
        assert!(d.starts_with("VolatileMagicPage { at: "), "{d}");
        assert!(d.ends_with("int_pending: 473651833, .. }"), "{d}");
        assert!(page.0 == src);
    }
}

#[cfg(all(test, feature = "vm-memory"))]
mod vm_tests {
    use super::*;
    use vm_memory::bitmap::BS;
    use vm_memory::{
        GuestAddress, GuestMemoryError, GuestMemoryRegion, GuestMemoryRegionBytes,
        GuestRegionCollection, GuestUsize, MemoryRegionAddress, VolatileSlice,
    };

    #[repr(C, align(4096))]
    struct Frame([u8; PAGE_SIZE]);

    /// A plain-RAM region over frames this test owns, as a VMM's mmap backend would be.
    struct Ram {
        start: u64,
        /// `Box::into_raw` of the frames: reached only through raw pointers until `drop`.
        frames: *mut [Frame],
    }

    impl Ram {
        fn new(start: u64, pages: usize) -> Self {
            let frames: alloc::boxed::Box<[Frame]> =
                (0..pages).map(|_| Frame([0; PAGE_SIZE])).collect();
            Ram {
                start,
                frames: alloc::boxed::Box::into_raw(frames),
            }
        }

        fn base(&self) -> *mut u8 {
            self.frames.cast::<u8>()
        }
    }

    impl Drop for Ram {
        fn drop(&mut self) {
            // SAFETY: `frames` came from `Box::into_raw` and is freed exactly once, here,
            // when no slice of it is alive any more (they borrow `self`).
            drop(unsafe { alloc::boxed::Box::from_raw(self.frames) });
        }
    }

    impl GuestMemoryRegion for Ram {
        type B = ();

        fn len(&self) -> GuestUsize {
            (self.frames.len() * PAGE_SIZE) as GuestUsize
        }

        fn start_addr(&self) -> GuestAddress {
            GuestAddress(self.start)
        }

        fn bitmap(&self) -> BS<'_, ()> {}

        fn get_slice(
            &self,
            offset: MemoryRegionAddress,
            count: usize,
        ) -> Result<VolatileSlice<'_, BS<'_, ()>>, GuestMemoryError> {
            let off = usize::try_from(offset.0).unwrap_or(usize::MAX);
            if off
                .checked_add(count)
                .is_none_or(|end| end as u64 > self.len())
            {
                return Err(GuestMemoryError::InvalidBackendAddress);
            }
            // SAFETY: `off + count` is inside the frames, which live as long as `self`
            // and are only reached through raw pointers and volatile slices.
            Ok(unsafe { VolatileSlice::new(self.base().add(off), count) })
        }
    }

    impl GuestMemoryRegionBytes for Ram {}

    #[test]
    fn page_from_guest_memory_by_gpa() {
        let mem =
            GuestRegionCollection::from_regions(vec![Ram::new(0x10000, 2), Ram::new(0x12000, 1)])
                .unwrap();
        let page = VmMagicPage::from_guest_memory(&mem, 0x11000).unwrap();
        let v = page.view().with_endian(Endian::Little);
        v.set_msr(0x8000_0000_0000_1033);
        page.mark_dirty();
        // The bytes landed at GPA 0x11058, little-endian.
        let regions: alloc::vec::Vec<_> = vm_memory::GuestMemoryBackend::iter(&mem).collect();
        let mut byte = [0u8; 1];
        regions[0]
            .get_slice(MemoryRegionAddress(0x1058), 1)
            .unwrap()
            .copy_to(&mut byte[..]);
        assert_eq!(byte, [0x33]);
        assert_eq!(
            VmMagicPage::from_guest_memory(&mem, 0x11000)
                .unwrap()
                .view()
                .with_endian(Endian::Little)
                .msr(),
            0x8000_0000_0000_1033
        );
        // Straddling two regions, outside guest memory: no contiguous page.
        for gpa in [0x11800, 0x13000, 0] {
            assert_eq!(
                VmMagicPage::from_guest_memory(&mem, gpa).unwrap_err(),
                MagicError::NotMapped { gpa },
                "{gpa:#x}"
            );
        }
        assert!(VmMagicPage::from_guest_memory(&mem, 0x12000).is_ok());
    }
}
