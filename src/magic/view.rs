//! Zero-copy typed views of a magic page held in a byte slice, in either byte order.
//!
//! [`MagicPage`] and [`MagicPageMut`] borrow exactly 4096 bytes (a `Vec`, a mapped file,
//! a snapshot of guest memory) and decode fields on access with explicit big- or
//! little-endian loads. The byte order is a run-time value because the guest decides it:
//! KVM keeps the page in the byte order of the guest's interrupt MSR
//! (`torvalds/linux: arch/powerpc/include/asm/kvm_ppc.h (kvmppc_shared_big_endian)`),
//! which only a Book3S-64 PR little-endian guest makes little-endian, so the default
//! is big-endian.
//!
//! Fields that `struct kvm_vcpu_arch_shared` only gained later are announced by a
//! `KVM_MAGIC_FEAT_*` mask in the answer to the guest's MAP call
//! (`torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`, whose comment asks every
//! appended field to come with such a flag). The views only reach such a field when the
//! features in force include its mask; otherwise the accessor returns
//! [`MagicError::Gated`] rather than a silent zero, so a VMM never acts on a value the
//! guest was never told exists.
//!
//! Byte-order switches come in two kinds: [`MagicPageMut::swab_kvm`] does exactly what
//! `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_swab_shared)` does (only the
//! fields in its list), [`MagicPageMut::convert`] swaps every field of the struct.
//!
//! These views borrow the bytes as a Rust slice, which promises that nothing else
//! writes them meanwhile: use them for snapshots and files. Guest RAM that a running
//! vCPU may write at the same time needs [`VolatileMagicPage`](super::VolatileMagicPage),
//! which has the same accessors but never forms a reference to the page.

use super::layout::{FIELDS, Field, FieldId, KvmVcpuArchShared, PAGE_SIZE, SHARED_SIZE, Width};
use crate::Endian;
use crate::hcall::MagicFeatures;
use alloc::format;
use alloc::string::{String, ToString};

/// Errors from magic-page views. `Copy` and heap-free, so a `Result` from a field
/// accessor costs no more than the value itself on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MagicError {
    /// The slice is not exactly one page.
    #[error("a magic page is {PAGE_SIZE} bytes, got {len}")]
    PageSize {
        /// The length given.
        len: usize,
    },
    /// The field needs a feature mask that the features in force lack.
    #[error(
        "{} needs {} ({:#x}) but the features in force are {:#x} (set them with --features)",
        .field.name(), super::layout::feature_name(*.mask), .mask.bits(), .features.bits()
    )]
    Gated {
        /// The field.
        field: FieldId,
        /// The missing mask.
        mask: MagicFeatures,
        /// The features in force.
        features: MagicFeatures,
    },
    /// An array index past the end (`sr[16]`), or an index into a scalar field.
    #[error("{}[{index}] is out of range: {} has {count} elements", .field.name(), .field.name())]
    Index {
        /// The field.
        field: FieldId,
        /// The index asked for.
        index: usize,
        /// The number of elements.
        count: usize,
    },
    /// A value that does not fit the field.
    #[error("value {value:#x} is too wide for {field} ({bits} bits)")]
    TooWide {
        /// The field, array element or MAS half written to.
        field: Selector,
        /// The value.
        value: u64,
        /// The field's width.
        bits: u32,
    },
    /// A page address that is not 8-byte aligned: the volatile view accesses each
    /// field with one naturally aligned load or store, which needs the page to be at
    /// least 8-byte aligned (guest pages are 4096-byte aligned in practice).
    #[error("the magic page at host address {addr:#x} is not 8-byte aligned")]
    Misaligned {
        /// The host address given.
        addr: usize,
    },
    /// The page at a guest physical address is not one contiguous, host-mapped range of
    /// 4096 bytes in the VMM's guest memory (see `VmMagicPage`, feature `vm-memory`).
    #[error("guest memory has no contiguous, host-mapped page at GPA {gpa:#x}")]
    NotMapped {
        /// The guest physical address asked for.
        gpa: u64,
    },
}

/// Errors from [`Selector::parse`]: which part of the text is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// A name that is not a field of the struct (nor `mas7`/`mas3`).
    #[error(
        "unknown field '{0}' (see `ppcpv magic layout`; arrays as sr[0]..sr[15], halves as mas7/mas3)"
    )]
    Unknown(String),
    /// An index that is not a number, or brackets that do not close (`sr[x]`, `sr[1`).
    #[error(
        "unknown field '{0}' (the index must be a number in brackets, as in sr[3]; see `ppcpv magic layout`)"
    )]
    BadIndex(String),
    /// An index on a field that is not an array (`msr[0]`).
    #[error("unknown field '{0}' ({1} is not an array; see `ppcpv magic layout`)")]
    NotAnArray(String, FieldId),
    /// An array named without an index.
    #[error("{} is an array: name one element, e.g. {}[0]", .0.name(), .0.name())]
    NeedsIndex(FieldId),
    /// An index past the end.
    #[error(transparent)]
    Field(#[from] MagicError),
}

/// What one access names: a whole field, one array element, or a half of `mas7_3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Selector {
    /// A scalar field.
    Field(FieldId),
    /// Element `n` of an array field (`sr[n]`). Build it with [`Selector::element`],
    /// which checks `n`; accessors refuse an element past the end with
    /// [`MagicError::Index`].
    Element(FieldId, usize),
    /// MAS7: the high word of `mas7_3` (`mas7_3 >> 32`, as
    /// `torvalds/linux: arch/powerpc/kvm/e500_emulate.c (kvmppc_core_emulate_mfspr_e500)`
    /// reads it).
    Mas7,
    /// MAS3: the low word of `mas7_3` (`(u32)mas7_3`, same source).
    Mas3,
}

impl Selector {
    /// Parses `msr`, `sr[3]`, `mas7` or `mas3` (C member names, lower case; leading and
    /// trailing blanks are ignored; the index may be decimal or `0x` hex).
    ///
    /// # Errors
    /// [`SelectorError::Unknown`], [`SelectorError::BadIndex`],
    /// [`SelectorError::NotAnArray`], [`SelectorError::NeedsIndex`] for a bare `sr`,
    /// [`MagicError::Index`] (wrapped) for an index past the end.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let t = text.trim();
        match t {
            "mas7" => return Ok(Selector::Mas7),
            "mas3" => return Ok(Selector::Mas3),
            _ => {}
        }
        if let Some((name, rest)) = t.split_once('[') {
            let id =
                FieldId::from_name(name).ok_or_else(|| SelectorError::Unknown(text.to_string()))?;
            let index = rest
                .strip_suffix(']')
                .and_then(|n| crate::num::parse_u64(n).ok())
                .ok_or_else(|| SelectorError::BadIndex(text.to_string()))?;
            if id.field().count == 1 {
                return Err(SelectorError::NotAnArray(text.to_string(), id));
            }
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            return Ok(Selector::element(id, index)?);
        }
        let id = FieldId::from_name(t).ok_or_else(|| SelectorError::Unknown(text.to_string()))?;
        if id.field().count > 1 {
            return Err(SelectorError::NeedsIndex(id));
        }
        Ok(Selector::Field(id))
    }

    /// Element `index` of `id`, checked.
    ///
    /// # Errors
    /// [`MagicError::Index`] when `index` is past the end.
    pub fn element(id: FieldId, index: usize) -> Result<Selector, MagicError> {
        let f = id.field();
        if index >= f.count {
            return Err(MagicError::Index {
                field: id,
                index,
                count: f.count,
            });
        }
        Ok(if f.count == 1 {
            Selector::Field(id)
        } else {
            Selector::Element(id, index)
        })
    }

    /// Checks an [`Selector::Element`] built by hand: its index must be inside the field.
    ///
    /// # Errors
    /// [`MagicError::Index`].
    #[inline(always)]
    pub fn validate(self) -> Result<(), MagicError> {
        match self {
            Selector::Element(id, n) if n >= id.field().count => Err(MagicError::Index {
                field: id,
                index: n,
                count: id.field().count,
            }),
            _ => Ok(()),
        }
    }

    /// The field accessed.
    #[must_use]
    pub fn field(self) -> &'static Field {
        match self {
            Selector::Field(id) | Selector::Element(id, _) => id.field(),
            Selector::Mas7 | Selector::Mas3 => FieldId::Mas7_3.field(),
        }
    }

    /// Width of the value in bits: 32 for elements and MAS halves.
    #[must_use]
    pub fn bits(self) -> u32 {
        match self {
            Selector::Field(id) => id.field().width.bits(),
            Selector::Element(id, _) => id.field().width.bits(),
            Selector::Mas7 | Selector::Mas3 => 32,
        }
    }

    /// The name as the command line writes it: `msr`, `sr[3]`, `mas7`.
    #[must_use]
    pub fn name(self) -> String {
        match self {
            Selector::Field(id) => id.name().to_string(),
            Selector::Element(id, n) => format!("{}[{n}]", id.name()),
            Selector::Mas7 => "mas7".to_string(),
            Selector::Mas3 => "mas3".to_string(),
        }
    }

    /// Byte offset of the first byte of the value in the page (for `Mas7`/`Mas3`, the
    /// whole `mas7_3`, since which word holds which half depends on the byte order).
    /// For an element past the end this is past the struct; accessors check first.
    #[must_use]
    pub fn offset(self) -> usize {
        match self {
            Selector::Element(id, n) => id
                .field()
                .offset
                .saturating_add(n.saturating_mul(id.field().width.bytes())),
            other => other.field().offset,
        }
    }

    /// Offset of the 32-bit word a 32-bit guest accesses with `lwz`/`stw`: a u64's low
    /// word at +4 (the `LL64`/`STL64` macros of `arch/powerpc/kernel/kvm_emul.S`) except
    /// the scratch slots, which the templates use at +0 ([`Field::offset32`]); MAS7 at +0
    /// and MAS3 at +4 of `mas7_3`.
    #[must_use]
    pub fn offset32(self) -> usize {
        match self {
            Selector::Field(id) => id.field().offset32,
            Selector::Element(..) => self.offset(),
            Selector::Mas7 => FieldId::Mas7_3.field().offset,
            Selector::Mas3 => FieldId::Mas7_3.field().offset + 4,
        }
    }

    /// Every selector of the struct in order: scalars, then `sr[0]`..`sr[15]` in place.
    pub fn all() -> impl Iterator<Item = Selector> {
        FIELDS.iter().flat_map(|f| {
            (0..f.count).map(move |n| {
                if f.count == 1 {
                    Selector::Field(f.id)
                } else {
                    Selector::Element(f.id, n)
                }
            })
        })
    }
}

/// In JSON a selector is its name as the command line writes it (`"sr[3]"`, `"mas7"`).
#[cfg(feature = "serde")]
impl serde::Serialize for Selector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl core::fmt::Display for Selector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(&self.name())
    }
}

// Byte access for the slice views, through the crate's one byte-order layer. Offsets
// come from the layout table (all inside the first 240 bytes) or from a validated
// selector; an offset past the page would read 0 and write nothing rather than panic.
#[inline(always)]
fn load32(b: &[u8; PAGE_SIZE], off: usize, e: Endian) -> u32 {
    b.get(off..off.saturating_add(4))
        .map_or(0, |s| e.read_u32(s))
}

#[inline(always)]
fn load64(b: &[u8; PAGE_SIZE], off: usize, e: Endian) -> u64 {
    b.get(off..off.saturating_add(8))
        .map_or(0, |s| e.read_u64(s))
}

#[inline(always)]
fn store32(b: &mut [u8; PAGE_SIZE], off: usize, e: Endian, v: u32) {
    if let Some(s) = b.get_mut(off..off.saturating_add(4)) {
        e.write_u32(s, v);
    }
}

#[inline(always)]
fn store64(b: &mut [u8; PAGE_SIZE], off: usize, e: Endian, v: u64) {
    if let Some(s) = b.get_mut(off..off.saturating_add(8)) {
        e.write_u64(s, v);
    }
}

/// The checks before any access by selector: the index, then the feature gate.
#[inline(always)]
pub(super) fn access(sel: Selector, features: MagicFeatures) -> Result<(), MagicError> {
    sel.validate()?;
    let f = sel.field();
    match f.feature {
        Some(mask) if !features.contains(mask) => Err(gated(f.id, features)),
        _ => Ok(()),
    }
}

/// The gate of a typed accessor, whose mask is a constant: one AND and a compare on
/// the hot path, the error built out of line.
#[inline(always)]
pub(super) fn gate_const(
    id: FieldId,
    mask: MagicFeatures,
    features: MagicFeatures,
) -> Result<(), MagicError> {
    if features.contains(mask) {
        Ok(())
    } else {
        Err(gated(id, features))
    }
}

#[cold]
#[inline(never)]
fn gated(id: FieldId, features: MagicFeatures) -> MagicError {
    MagicError::Gated {
        field: id,
        mask: id.field().feature.unwrap_or(MagicFeatures::NONE),
        features,
    }
}

fn page_ref(bytes: &[u8]) -> Result<&[u8; PAGE_SIZE], MagicError> {
    bytes
        .try_into()
        .map_err(|_| MagicError::PageSize { len: bytes.len() })
}

fn page_mut(bytes: &mut [u8]) -> Result<&mut [u8; PAGE_SIZE], MagicError> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| MagicError::PageSize { len })
}

/// Elements of `sr`.
pub(super) const SR_COUNT: usize = 16;
const _: () = assert!(FieldId::Sr.field().count == SR_COUNT);

/// Why `sr(n)` failed: the gate first (as for every field), then the index. Out of line,
/// so that the accessors' hot path is one compare, one test and the access.
#[cold]
#[inline(never)]
pub(super) fn sr_error(n: usize, features: MagicFeatures) -> MagicError {
    if features.contains(MagicFeatures::SR) {
        MagicError::Index {
            field: FieldId::Sr,
            index: n,
            count: SR_COUNT,
        }
    } else {
        gated(FieldId::Sr, features)
    }
}

/// Offsets used by the typed accessors, taken from the table so there is one source.
pub(super) const fn off(id: FieldId) -> usize {
    id.field().offset
}

/// Checks a value against the selector's width and gate, as [`MagicPageMut::check`].
pub(super) fn check(sel: Selector, value: u64, features: MagicFeatures) -> Result<(), MagicError> {
    access(sel, features)?;
    let bits = sel.bits();
    if bits < 64 && value >> bits != 0 {
        return Err(MagicError::TooWide {
            field: sel,
            value,
            bits,
        });
    }
    Ok(())
}

/// The new `mas7_3` after writing `value` to the MAS7 or MAS3 half of `old`.
#[inline]
pub(super) fn merge_mas(sel: Selector, old: u64, value: u64) -> u64 {
    if sel == Selector::Mas7 {
        (old & 0xffff_ffff) | (value << 32)
    } else {
        (old & !0xffff_ffff) | value
    }
}

/// Read accessors shared by [`MagicPage`], [`MagicPageMut`] and the volatile view: the
/// type must have fields `endian` and `features` and methods `ld32(&self, usize) -> u32`
/// and `ld64(&self, usize) -> u64` that load one field at a byte offset in `endian`.
macro_rules! read_api {
    () => {
        /// The byte order values are decoded in.
        #[must_use]
        pub fn endian(&self) -> Endian {
            self.endian
        }

        /// The `KVM_MAGIC_FEAT_*` masks in force (what the host's MAP call answered).
        #[must_use]
        pub fn features(&self) -> MagicFeatures {
            self.features
        }

        /// The value of `sel`, zero-extended (gated fields need their mask).
        ///
        /// # Errors
        /// [`MagicError::Gated`] when the features in force lack the field's mask,
        /// [`MagicError::Index`] for an element past the end.
        pub fn get(&self, sel: Selector) -> Result<u64, MagicError> {
            let f = sel.field();
            $crate::magic::view::access(sel, self.features)?;
            Ok(match sel {
                Selector::Mas7 => self.ld64(f.offset) >> 32,
                Selector::Mas3 => self.ld64(f.offset) & 0xffff_ffff,
                _ => match f.width {
                    Width::U32 => u64::from(self.ld32(sel.offset())),
                    Width::U64 => self.ld64(sel.offset()),
                },
            })
        }

        /// What a 32-bit guest reads with `lwz` at [`Selector::offset32`]: the low word of
        /// a u64 on a big-endian page (32-bit PowerPC guests are always big-endian:
        /// `kvmppc_shared_big_endian` is only ever false on Book3S-64).
        ///
        /// # Errors
        /// [`MagicError::Gated`] when the features in force lack the field's mask,
        /// [`MagicError::Index`] for an element past the end.
        pub fn get32(&self, sel: Selector) -> Result<u32, MagicError> {
            $crate::magic::view::access(sel, self.features)?;
            Ok(self.ld32(sel.offset32()))
        }

        /// An owned copy of the whole struct in native integers, ignoring the gates (for
        /// snapshots and diffs; the `#[repr(C)]` mirror).
        #[must_use]
        pub fn snapshot(&self) -> KvmVcpuArchShared {
            let mut sr = [0u32; 16];
            for (n, v) in sr.iter_mut().enumerate() {
                *v = self.ld32(off(FieldId::Sr) + 4 * n);
            }
            KvmVcpuArchShared {
                scratch1: self.ld64(off(FieldId::Scratch1)),
                scratch2: self.ld64(off(FieldId::Scratch2)),
                scratch3: self.ld64(off(FieldId::Scratch3)),
                critical: self.ld64(off(FieldId::Critical)),
                sprg0: self.ld64(off(FieldId::Sprg0)),
                sprg1: self.ld64(off(FieldId::Sprg1)),
                sprg2: self.ld64(off(FieldId::Sprg2)),
                sprg3: self.ld64(off(FieldId::Sprg3)),
                srr0: self.ld64(off(FieldId::Srr0)),
                srr1: self.ld64(off(FieldId::Srr1)),
                dar: self.ld64(off(FieldId::Dar)),
                msr: self.ld64(off(FieldId::Msr)),
                dsisr: self.ld32(off(FieldId::Dsisr)),
                int_pending: self.ld32(off(FieldId::IntPending)),
                sr,
                mas0: self.ld32(off(FieldId::Mas0)),
                mas1: self.ld32(off(FieldId::Mas1)),
                mas7_3: self.ld64(off(FieldId::Mas7_3)),
                mas2: self.ld64(off(FieldId::Mas2)),
                mas4: self.ld32(off(FieldId::Mas4)),
                mas6: self.ld32(off(FieldId::Mas6)),
                esr: self.ld32(off(FieldId::Esr)),
                pir: self.ld32(off(FieldId::Pir)),
                sprg4: self.ld64(off(FieldId::Sprg4)),
                sprg5: self.ld64(off(FieldId::Sprg5)),
                sprg6: self.ld64(off(FieldId::Sprg6)),
                sprg7: self.ld64(off(FieldId::Sprg7)),
            }
        }

        /// `sr[n]` (needs `KVM_MAGIC_FEAT_SR`).
        ///
        /// # Errors
        /// [`MagicError::Index`] for `n` ≥ 16, [`MagicError::Gated`] without the mask.
        #[inline]
        pub fn sr(&self, n: usize) -> Result<u32, MagicError> {
            if n < SR_COUNT && self.features.contains(MagicFeatures::SR) {
                Ok(self.ld32(off(FieldId::Sr) + 4 * n))
            } else {
                Err(sr_error(n, self.features))
            }
        }

        /// MAS7, the high word of `mas7_3` (needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask.
        #[inline]
        pub fn mas7(&self) -> Result<u32, MagicError> {
            Ok((self.mas7_3()? >> 32) as u32)
        }

        /// MAS3, the low word of `mas7_3` (needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask.
        #[inline]
        #[allow(clippy::cast_possible_truncation)] // the low word is wanted
        pub fn mas3(&self) -> Result<u32, MagicError> {
            Ok(self.mas7_3()? as u32)
        }

        read_api!(@base u64: scratch1 Scratch1, scratch2 Scratch2, scratch3 Scratch3,
            critical Critical, sprg0 Sprg0, sprg1 Sprg1, sprg2 Sprg2, sprg3 Sprg3,
            srr0 Srr0, srr1 Srr1, dar Dar, msr Msr);
        read_api!(@base u32: dsisr Dsisr, int_pending IntPending);
        read_api!(@gated u32: mas0 Mas0, mas1 Mas1, mas4 Mas4, mas6 Mas6, esr Esr, pir Pir);
        read_api!(@gated u64: mas7_3 Mas7_3, mas2 Mas2, sprg4 Sprg4, sprg5 Sprg5,
            sprg6 Sprg6, sprg7 Sprg7);
    };
    (@base u64: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (u64, always present).")]
        #[inline]
        #[must_use]
        pub fn $name(&self) -> u64 {
            self.ld64(off(FieldId::$id))
        }
    )*};
    (@base u32: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (u32, always present).")]
        #[inline]
        #[must_use]
        pub fn $name(&self) -> u32 {
            self.ld32(off(FieldId::$id))
        }
    )*};
    (@gated u32: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (u32, needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).")]
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask.
        #[inline]
        pub fn $name(&self) -> Result<u32, MagicError> {
            gate_const(FieldId::$id, MagicFeatures::MAS0_TO_SPRG7, self.features)?;
            Ok(self.ld32(off(FieldId::$id)))
        }
    )*};
    (@gated u64: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (u64, needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).")]
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask.
        #[inline]
        pub fn $name(&self) -> Result<u64, MagicError> {
            gate_const(FieldId::$id, MagicFeatures::MAS0_TO_SPRG7, self.features)?;
            Ok(self.ld64(off(FieldId::$id)))
        }
    )*};
}

/// Setters shared by [`MagicPageMut`] (`write_api!(mut; …)`: receiver `&mut self`) and
/// the volatile view (`write_api!('_; …)`: receiver `&'_ self`); the type must have
/// `st32`/`st64` (store one field at a byte offset) besides what [`read_api`] needs.
macro_rules! write_api {
    ($m:tt; @base u64: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        #[inline]
        pub fn $name(&$m self, v: u64) {
            self.st64(off(FieldId::$id), v);
        }
    )*};
    ($m:tt; @base u32: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        #[inline]
        pub fn $name(&$m self, v: u32) {
            self.st32(off(FieldId::$id), v);
        }
    )*};
    ($m:tt; @gated u32: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("Sets `", stringify!($name), "` (needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).")]
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask; nothing is written.
        #[inline]
        pub fn $name(&$m self, v: u32) -> Result<(), MagicError> {
            gate_const(FieldId::$id, MagicFeatures::MAS0_TO_SPRG7, self.features)?;
            self.st32(off(FieldId::$id), v);
            Ok(())
        }
    )*};
    ($m:tt; @gated u64: $($name:ident $id:ident),* $(,)?) => {$(
        #[doc = concat!("Sets `", stringify!($name), "` (needs `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`).")]
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the mask; nothing is written.
        #[inline]
        pub fn $name(&$m self, v: u64) -> Result<(), MagicError> {
            gate_const(FieldId::$id, MagicFeatures::MAS0_TO_SPRG7, self.features)?;
            self.st64(off(FieldId::$id), v);
            Ok(())
        }
    )*};
    ($m:tt; common) => {
        /// Checks that `value` may be written to `sel` without writing it (used to validate
        /// a batch before touching any byte).
        ///
        /// # Errors
        /// [`MagicError::Gated`], [`MagicError::Index`] or [`MagicError::TooWide`].
        pub fn check(&self, sel: Selector, value: u64) -> Result<(), MagicError> {
            check(sel, value, self.features)
        }

        /// Writes `value` to `sel`; for MAS7/MAS3 the other half of `mas7_3` is kept.
        ///
        /// # Errors
        /// [`MagicError::Gated`] or [`MagicError::TooWide`]; nothing is written then.
        pub fn set(&$m self, sel: Selector, value: u64) -> Result<(), MagicError> {
            check(sel, value, self.features)?;
            let f = sel.field();
            match sel {
                Selector::Mas7 | Selector::Mas3 => {
                    let old = self.ld64(f.offset);
                    self.st64(f.offset, merge_mas(sel, old, value));
                }
                _ => match f.width {
                    #[allow(clippy::cast_possible_truncation)] // checked by `check`
                    Width::U32 => self.st32(sel.offset(), value as u32),
                    Width::U64 => self.st64(sel.offset(), value),
                },
            }
            Ok(())
        }

        /// What a 32-bit guest's `stw` at [`Selector::offset32`] does: writes one word,
        /// leaving the rest of a u64 alone.
        ///
        /// # Errors
        /// [`MagicError::Gated`] without the field's mask, [`MagicError::Index`] for an
        /// element past the end.
        pub fn set32(&$m self, sel: Selector, value: u32) -> Result<(), MagicError> {
            access(sel, self.features)?;
            self.st32(sel.offset32(), value);
            Ok(())
        }

        /// Sets `sr[n]` (needs `KVM_MAGIC_FEAT_SR`).
        ///
        /// # Errors
        /// [`MagicError::Index`] for `n` ≥ 16, [`MagicError::Gated`] without the mask.
        #[inline]
        pub fn set_sr(&$m self, n: usize, v: u32) -> Result<(), MagicError> {
            if n < SR_COUNT && self.features.contains(MagicFeatures::SR) {
                self.st32(off(FieldId::Sr) + 4 * n, v);
                Ok(())
            } else {
                Err(sr_error(n, self.features))
            }
        }

        /// Sets MAS7, the high word of `mas7_3`, keeping MAS3.
        ///
        /// # Errors
        /// [`MagicError::Gated`] without `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`.
        pub fn set_mas7(&$m self, v: u32) -> Result<(), MagicError> {
            self.set(Selector::Mas7, u64::from(v))
        }

        /// Sets MAS3, the low word of `mas7_3`, keeping MAS7.
        ///
        /// # Errors
        /// [`MagicError::Gated`] without `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`.
        pub fn set_mas3(&$m self, v: u32) -> Result<(), MagicError> {
            self.set(Selector::Mas3, u64::from(v))
        }

        /// Writes every field of `s` (ignoring the gates: a snapshot restore).
        pub fn restore(&$m self, s: &KvmVcpuArchShared) {
            for (n, v) in s.sr.iter().enumerate() {
                self.st32(off(FieldId::Sr) + 4 * n, *v);
            }
            for (id, v) in [
                (FieldId::Scratch1, s.scratch1),
                (FieldId::Scratch2, s.scratch2),
                (FieldId::Scratch3, s.scratch3),
                (FieldId::Critical, s.critical),
                (FieldId::Sprg0, s.sprg0),
                (FieldId::Sprg1, s.sprg1),
                (FieldId::Sprg2, s.sprg2),
                (FieldId::Sprg3, s.sprg3),
                (FieldId::Srr0, s.srr0),
                (FieldId::Srr1, s.srr1),
                (FieldId::Dar, s.dar),
                (FieldId::Msr, s.msr),
                (FieldId::Mas7_3, s.mas7_3),
                (FieldId::Mas2, s.mas2),
                (FieldId::Sprg4, s.sprg4),
                (FieldId::Sprg5, s.sprg5),
                (FieldId::Sprg6, s.sprg6),
                (FieldId::Sprg7, s.sprg7),
            ] {
                self.st64(off(id), v);
            }
            for (id, v) in [
                (FieldId::Dsisr, s.dsisr),
                (FieldId::IntPending, s.int_pending),
                (FieldId::Mas0, s.mas0),
                (FieldId::Mas1, s.mas1),
                (FieldId::Mas4, s.mas4),
                (FieldId::Mas6, s.mas6),
                (FieldId::Esr, s.esr),
                (FieldId::Pir, s.pir),
            ] {
                self.st32(off(id), v);
            }
        }

        /// Switches the page to `to` the way KVM does at MAP time
        /// (`torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_swab_shared)`): only
        /// the fields marked `swapped` in the layout are byte-reversed; scratch, critical,
        /// the MAS registers, ESR, PIR and SPRG4–7 keep their bytes, exactly as in the
        /// kernel. Returns whether anything changed (nothing when already in `to`).
        pub fn swab_kvm(&mut self, to: Endian) -> bool {
            self.switch(to, |f| f.swapped)
        }

        /// Converts every field of the struct to `to`, so all values read the same
        /// afterwards; bytes 240..4096 are left alone. Returns whether anything changed.
        pub fn convert(&mut self, to: Endian) -> bool {
            self.switch(to, |_| true)
        }

        fn switch(&mut self, to: Endian, pick: impl Fn(&Field) -> bool) -> bool {
            if to == self.endian {
                return false;
            }
            for f in FIELDS.iter().filter(|f| pick(f)) {
                let w = f.width.bytes();
                for n in 0..f.count {
                    // Decoding and re-encoding the byte-reversed value in the same order
                    // reverses the field's bytes in memory.
                    let o = f.offset + n * w;
                    match f.width {
                        Width::U32 => self.st32(o, self.ld32(o).swap_bytes()),
                        Width::U64 => self.st64(o, self.ld64(o).swap_bytes()),
                    }
                }
            }
            self.endian = to;
            true
        }
    };
    ($m:tt; all) => {
        write_api!($m; @base u64: set_scratch1 Scratch1, set_scratch2 Scratch2,
            set_scratch3 Scratch3, set_critical Critical, set_sprg0 Sprg0, set_sprg1 Sprg1,
            set_sprg2 Sprg2, set_sprg3 Sprg3, set_srr0 Srr0, set_srr1 Srr1, set_dar Dar,
            set_msr Msr);
        write_api!($m; @base u32: set_dsisr Dsisr, set_int_pending IntPending);
        write_api!($m; @gated u32: set_mas0 Mas0, set_mas1 Mas1, set_mas4 Mas4,
            set_mas6 Mas6, set_esr Esr, set_pir Pir);
        write_api!($m; @gated u64: set_mas7_3 Mas7_3, set_mas2 Mas2, set_sprg4 Sprg4,
            set_sprg5 Sprg5, set_sprg6 Sprg6, set_sprg7 Sprg7);
    };
}

pub(super) use {read_api, write_api};

/// A read-only view of one magic page.
///
/// ```
/// use ppcpv::magic::MagicPage;
/// use ppcpv::Endian;
///
/// let mut page = vec![0u8; 4096];
/// page[0x58..0x60].copy_from_slice(&0x8000_0000_0000_1032u64.to_be_bytes()); // msr
/// let view = MagicPage::new(&page)?;
/// assert_eq!(view.msr(), 0x8000_0000_0000_1032);
/// assert_eq!(view.with_endian(Endian::Little).msr(), 0x3210_0000_0000_0080);
/// # Ok::<(), ppcpv::magic::MagicError>(())
/// ```
#[derive(Clone, Copy)]
pub struct MagicPage<'a> {
    bytes: &'a [u8; PAGE_SIZE],
    endian: Endian,
    features: MagicFeatures,
}

impl<'a> MagicPage<'a> {
    /// Views `bytes`, which must be exactly 4096 bytes long; big-endian, features 0x3
    /// (what mainline KVM answers to every MAP call:
    /// `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`).
    ///
    /// # Errors
    /// [`MagicError::PageSize`] for any other length.
    pub fn new(bytes: &'a [u8]) -> Result<Self, MagicError> {
        page_ref(bytes).map(Self::from_array)
    }

    /// Views a page array (cannot fail).
    #[must_use]
    pub const fn from_array(bytes: &'a [u8; PAGE_SIZE]) -> Self {
        MagicPage {
            bytes,
            endian: Endian::Big,
            features: MagicFeatures::MAINLINE,
        }
    }

    /// The same view, decoding in `endian`.
    #[must_use]
    pub const fn with_endian(self, endian: Endian) -> Self {
        MagicPage { endian, ..self }
    }

    /// The same view, with `features` in force.
    #[must_use]
    pub const fn with_features(self, features: MagicFeatures) -> Self {
        MagicPage { features, ..self }
    }

    /// The page bytes.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8; PAGE_SIZE] {
        self.bytes
    }

    /// The page bytes after the struct (240..4096), kept raw: mainline KVM does not use
    /// them (only a vendor SDK fork of the kernel put EPR and MPIC fields there).
    #[must_use]
    pub fn tail(&self) -> &'a [u8] {
        self.bytes.get(SHARED_SIZE..).unwrap_or_default()
    }

    #[inline(always)]
    fn ld32(&self, off: usize) -> u32 {
        load32(self.bytes, off, self.endian)
    }

    #[inline(always)]
    fn ld64(&self, off: usize) -> u64 {
        load64(self.bytes, off, self.endian)
    }

    read_api!();
}

/// A read-write view of one magic page. All the getters of [`MagicPage`], plus
/// `set_*` setters, generic [`set`](Self::set), and byte-order switches.
///
/// ```
/// use ppcpv::magic::{MagicPageMut, Selector};
/// use ppcpv::Endian;
///
/// let mut page = [0u8; 4096];
/// let mut view = MagicPageMut::from_array(&mut page).with_endian(Endian::Little);
/// view.set_srr0(0xc000_0000_0000_1234);
/// view.set(Selector::parse("sr[2]")?, 0x2000_0002)?;
/// assert_eq!(view.sr(2)?, 0x2000_0002);
/// assert_eq!(page[0x40], 0x34); // little-endian in memory
/// # Ok::<(), ppcpv::magic::SelectorError>(())
/// ```
pub struct MagicPageMut<'a> {
    bytes: &'a mut [u8; PAGE_SIZE],
    endian: Endian,
    features: MagicFeatures,
}

impl<'a> MagicPageMut<'a> {
    /// Views `bytes` (exactly 4096) for writing; big-endian, features 0x3.
    ///
    /// # Errors
    /// [`MagicError::PageSize`] for any other length.
    pub fn new(bytes: &'a mut [u8]) -> Result<Self, MagicError> {
        page_mut(bytes).map(Self::from_array)
    }

    /// Views a page array for writing (cannot fail).
    #[must_use]
    pub fn from_array(bytes: &'a mut [u8; PAGE_SIZE]) -> Self {
        MagicPageMut {
            bytes,
            endian: Endian::Big,
            features: MagicFeatures::MAINLINE,
        }
    }

    /// The same view, decoding and encoding in `endian` (no bytes change).
    #[must_use]
    pub fn with_endian(self, endian: Endian) -> Self {
        MagicPageMut { endian, ..self }
    }

    /// The same view, with `features` in force.
    #[must_use]
    pub fn with_features(self, features: MagicFeatures) -> Self {
        MagicPageMut { features, ..self }
    }

    /// The page bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8; PAGE_SIZE] {
        self.bytes
    }

    /// A read-only view of the same page with the same settings.
    #[must_use]
    pub fn as_page(&self) -> MagicPage<'_> {
        MagicPage {
            bytes: self.bytes,
            endian: self.endian,
            features: self.features,
        }
    }

    /// The page bytes after the struct (240..4096), as [`MagicPage::tail`].
    #[must_use]
    pub fn tail(&self) -> &[u8] {
        self.bytes.get(SHARED_SIZE..).unwrap_or_default()
    }

    #[inline(always)]
    fn ld32(&self, off: usize) -> u32 {
        load32(self.bytes, off, self.endian)
    }

    #[inline(always)]
    fn ld64(&self, off: usize) -> u64 {
        load64(self.bytes, off, self.endian)
    }

    #[inline(always)]
    fn st32(&mut self, off: usize, v: u32) {
        store32(self.bytes, off, self.endian, v);
    }

    #[inline(always)]
    fn st64(&mut self, off: usize, v: u64) {
        store64(self.bytes, off, self.endian, v);
    }

    read_api!();

    write_api!(mut; common);
    write_api!(mut; all);
}

// Debug shows the settings and the registers most often looked at, not 4096 bytes.
impl core::fmt::Debug for MagicPage<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MagicPage")
            .field("endian", &self.endian)
            .field("features", &format_args!("{:#x}", self.features.bits()))
            .field("msr", &format_args!("{:#x}", self.msr()))
            .field("srr0", &format_args!("{:#x}", self.srr0()))
            .field("int_pending", &self.int_pending())
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for MagicPageMut<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.as_page(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: [Endian; 2] = [Endian::Big, Endian::Little];

    /// A distinct value per selector, filling its width.
    fn pattern(sel: Selector) -> u64 {
        let seed = (sel.offset() as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if sel.bits() == 32 { seed >> 32 } else { seed }
    }

    #[test]
    fn every_field_round_trips_in_both_orders_and_lands_at_its_offset() {
        for e in ORDERS {
            let mut page = [0u8; PAGE_SIZE];
            let mut v = MagicPageMut::from_array(&mut page).with_endian(e);
            for sel in Selector::all() {
                v.set(sel, pattern(sel)).unwrap();
            }
            for sel in Selector::all() {
                assert_eq!(v.get(sel).unwrap(), pattern(sel), "{sel} {e}");
            }
            // Bytes are where the layout says, in the chosen order.
            for sel in Selector::all() {
                let o = sel.offset();
                let want = pattern(sel);
                if sel.bits() == 32 {
                    let got: [u8; 4] = page[o..o + 4].try_into().unwrap();
                    assert_eq!(u64::from(e.u32_from(got)), want, "{sel}");
                } else {
                    let got: [u8; 8] = page[o..o + 8].try_into().unwrap();
                    assert_eq!(e.u64_from(got), want, "{sel}");
                }
            }
            assert!(page[SHARED_SIZE..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn typed_accessors_agree_with_generic_ones() {
        for e in ORDERS {
            let mut page = [0u8; PAGE_SIZE];
            let mut v = MagicPageMut::from_array(&mut page).with_endian(e);
            for sel in Selector::all() {
                v.set(sel, pattern(sel)).unwrap();
            }
            let p = v.as_page();
            let s = p.snapshot();
            let g = |name: &str| p.get(Selector::parse(name).unwrap()).unwrap();
            assert_eq!(p.scratch1(), g("scratch1"));
            assert_eq!(p.scratch2(), g("scratch2"));
            assert_eq!(p.scratch3(), g("scratch3"));
            assert_eq!(p.critical(), g("critical"));
            assert_eq!(p.sprg0(), g("sprg0"));
            assert_eq!(p.sprg1(), g("sprg1"));
            assert_eq!(p.sprg2(), g("sprg2"));
            assert_eq!(p.sprg3(), g("sprg3"));
            assert_eq!(p.srr0(), g("srr0"));
            assert_eq!(p.srr1(), g("srr1"));
            assert_eq!(p.dar(), g("dar"));
            assert_eq!(p.msr(), g("msr"));
            assert_eq!(u64::from(p.dsisr()), g("dsisr"));
            assert_eq!(u64::from(p.int_pending()), g("int_pending"));
            for n in 0..16 {
                assert_eq!(u64::from(p.sr(n).unwrap()), g(&format!("sr[{n}]")));
                assert_eq!(s.sr[n], p.sr(n).unwrap());
            }
            assert_eq!(u64::from(p.mas0().unwrap()), g("mas0"));
            assert_eq!(u64::from(p.mas1().unwrap()), g("mas1"));
            assert_eq!(p.mas7_3().unwrap(), g("mas7_3"));
            assert_eq!(u64::from(p.mas7().unwrap()), g("mas7_3") >> 32);
            assert_eq!(u64::from(p.mas3().unwrap()), g("mas7_3") & 0xffff_ffff);
            assert_eq!(p.mas2().unwrap(), g("mas2"));
            assert_eq!(u64::from(p.mas4().unwrap()), g("mas4"));
            assert_eq!(u64::from(p.mas6().unwrap()), g("mas6"));
            assert_eq!(u64::from(p.esr().unwrap()), g("esr"));
            assert_eq!(u64::from(p.pir().unwrap()), g("pir"));
            assert_eq!(p.sprg4().unwrap(), g("sprg4"));
            assert_eq!(p.sprg5().unwrap(), g("sprg5"));
            assert_eq!(p.sprg6().unwrap(), g("sprg6"));
            assert_eq!(p.sprg7().unwrap(), g("sprg7"));
            assert_eq!(
                (s.msr, s.mas7_3, s.pir),
                (p.msr(), p.mas7_3().unwrap(), p.pir().unwrap())
            );

            // Restoring the snapshot into a fresh page gives the same bytes.
            let mut copy = [0u8; PAGE_SIZE];
            MagicPageMut::from_array(&mut copy)
                .with_endian(e)
                .restore(&s);
            assert_eq!(copy, page);
        }
    }

    #[test]
    fn typed_setters_write_the_right_bytes() {
        for e in ORDERS {
            let mut page = [0u8; PAGE_SIZE];
            let mut v = MagicPageMut::from_array(&mut page).with_endian(e);
            v.set_scratch1(1);
            v.set_scratch2(2);
            v.set_scratch3(3);
            v.set_critical(4);
            v.set_sprg0(5);
            v.set_sprg1(6);
            v.set_sprg2(7);
            v.set_sprg3(8);
            v.set_srr0(9);
            v.set_srr1(10);
            v.set_dar(11);
            v.set_msr(12);
            v.set_dsisr(13);
            v.set_int_pending(14);
            for n in 0..16 {
                v.set_sr(n, 100 + n as u32).unwrap();
            }
            v.set_mas0(15).unwrap();
            v.set_mas1(16).unwrap();
            v.set_mas7_3(0x1111_0000_2222).unwrap();
            v.set_mas7(0x77).unwrap();
            v.set_mas3(0x33).unwrap();
            v.set_mas2(17).unwrap();
            v.set_mas4(18).unwrap();
            v.set_mas6(19).unwrap();
            v.set_esr(20).unwrap();
            v.set_pir(21).unwrap();
            v.set_sprg4(22).unwrap();
            v.set_sprg5(23).unwrap();
            v.set_sprg6(24).unwrap();
            v.set_sprg7(25).unwrap();
            let s = v.snapshot();
            let want = KvmVcpuArchShared {
                scratch1: 1,
                scratch2: 2,
                scratch3: 3,
                critical: 4,
                sprg0: 5,
                sprg1: 6,
                sprg2: 7,
                sprg3: 8,
                srr0: 9,
                srr1: 10,
                dar: 11,
                msr: 12,
                dsisr: 13,
                int_pending: 14,
                sr: core::array::from_fn(|n| 100 + n as u32),
                mas0: 15,
                mas1: 16,
                mas7_3: 0x77_0000_0033,
                mas2: 17,
                mas4: 18,
                mas6: 19,
                esr: 20,
                pir: 21,
                sprg4: 22,
                sprg5: 23,
                sprg6: 24,
                sprg7: 25,
            };
            assert_eq!(s, want, "{e}");
            // mas7_3 bytes: MAS7 is the word at +0 only on a big-endian page.
            let word0 = e.u32_from(page[0xb0..0xb4].try_into().unwrap());
            assert_eq!(word0, if e == Endian::Big { 0x77 } else { 0x33 });
        }
    }

    #[test]
    fn gated_fields_are_errors_not_zero() {
        let mut page = [0xffu8; PAGE_SIZE];
        let v = MagicPage::from_array(&page).with_features(MagicFeatures::SR);
        let err = v.mas0().unwrap_err();
        assert_eq!(
            err.to_string(),
            "mas0 needs KVM_MAGIC_FEAT_MAS0_TO_SPRG7 (0x2) but the features in force are 0x1 (set them with --features)"
        );
        assert!(v.sr(3).is_ok());
        let v = v.with_features(MagicFeatures::NONE);
        assert!(matches!(
            v.sr(0),
            Err(MagicError::Gated {
                field: FieldId::Sr,
                ..
            })
        ));
        assert!(v.get(Selector::Mas3).is_err());
        assert!(v.get32(Selector::Field(FieldId::Sprg7)).is_err());
        assert_eq!(v.msr(), u64::MAX);
        let mut m = MagicPageMut::from_array(&mut page).with_features(MagicFeatures::NONE);
        assert!(m.set_pir(0).is_err());
        assert!(m.set_sr(0, 0).is_err());
        assert!(m.set(Selector::Field(FieldId::Sprg4), 0).is_err());
        assert!(m.set32(Selector::Field(FieldId::Sprg4), 0).is_err());
        assert!(page.iter().all(|&b| b == 0xff), "gated write changed bytes");
    }

    #[test]
    fn selectors_parse_and_reject() {
        assert_eq!(Selector::parse("msr"), Ok(Selector::Field(FieldId::Msr)));
        assert_eq!(
            Selector::parse("sr[15]"),
            Ok(Selector::Element(FieldId::Sr, 15))
        );
        assert_eq!(
            Selector::parse("sr[0x2]"),
            Ok(Selector::Element(FieldId::Sr, 2))
        );
        assert_eq!(Selector::parse("mas3"), Ok(Selector::Mas3));
        assert_eq!(
            Selector::parse("sr"),
            Err(SelectorError::NeedsIndex(FieldId::Sr))
        );
        assert!(matches!(
            Selector::parse("sr[16]"),
            Err(SelectorError::Field(MagicError::Index { index: 16, .. }))
        ));
        assert!(matches!(
            Selector::parse("sr[99999999999999999999]"),
            Err(SelectorError::BadIndex(_))
        ));
        assert!(matches!(
            Selector::parse("msr[0]"),
            Err(SelectorError::NotAnArray(_, FieldId::Msr))
        ));
        assert!(matches!(
            Selector::parse("sr[1"),
            Err(SelectorError::BadIndex(_))
        ));
        assert!(matches!(
            Selector::parse("spr[1]"),
            Err(SelectorError::Unknown(_))
        ));
        // Elements built by hand are checked at access, never read past the struct.
        let page = [0u8; PAGE_SIZE];
        let v = MagicPage::from_array(&page);
        for bad in [
            Selector::Element(FieldId::Sr, 16),
            Selector::Element(FieldId::Sr, usize::MAX),
            Selector::Element(FieldId::Msr, 1),
        ] {
            assert!(
                matches!(bad.validate(), Err(MagicError::Index { .. })),
                "{bad:?}"
            );
            assert!(
                matches!(v.get(bad), Err(MagicError::Index { .. })),
                "{bad:?}"
            );
            assert!(v.get32(bad).is_err());
        }
        assert_eq!(v.get(Selector::Element(FieldId::Msr, 0)), Ok(0));
        assert!(matches!(
            Selector::parse("epr"),
            Err(SelectorError::Unknown(_))
        ));
        assert_eq!(Selector::all().count(), 26 + 16);
        assert_eq!(Selector::Element(FieldId::Sr, 3).to_string(), "sr[3]");
    }

    #[test]
    fn too_wide_values_are_refused_before_writing() {
        let mut page = [0u8; PAGE_SIZE];
        let mut v = MagicPageMut::from_array(&mut page);
        let err = v
            .set(Selector::parse("dsisr").unwrap(), 0x1_0000_0000)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "value 0x100000000 is too wide for dsisr (32 bits)"
        );
        assert!(v.set(Selector::Mas7, 1 << 32).is_err());
        assert!(v.set(Selector::parse("sr[1]").unwrap(), 1 << 32).is_err());
        assert!(v.set(Selector::parse("msr").unwrap(), u64::MAX).is_ok());
        assert!(v.set_sr(16, 0).is_err());
        assert!(v.sr(16).is_err());
        assert!(page[..0x58].iter().all(|&b| b == 0));
    }

    #[test]
    fn debug_is_short() {
        let page = [0u8; PAGE_SIZE];
        let d = format!("{:?}", MagicPage::from_array(&page));
        assert_eq!(
            d,
            "MagicPage { endian: Big, features: 0x3, msr: 0x0, srr0: 0x0, int_pending: 0, .. }"
        );
    }

    #[test]
    fn page_size_is_checked() {
        assert_eq!(
            MagicPage::new(&[0u8; 4095]).unwrap_err(),
            MagicError::PageSize { len: 4095 }
        );
        assert!(MagicPage::new(&[0u8; 4097]).is_err());
        assert!(MagicPageMut::new(&mut [0u8; 240]).is_err());
        assert_eq!(
            MagicPage::new(&[7u8; 4096]).unwrap().tail().len(),
            4096 - 240
        );
    }

    #[test]
    fn thirty_two_bit_view_reads_the_low_word_except_scratch() {
        let mut page = [0u8; PAGE_SIZE];
        let mut v = MagicPageMut::from_array(&mut page);
        v.set_critical(0x1111_1111_2222_2222);
        v.set_scratch1(0x3333_3333_4444_4444);
        v.set_mas7_3(0x7777_7777_3333_3333).unwrap();
        v.set_dsisr(0x4000_0000);
        assert_eq!(
            v.get32(Selector::Field(FieldId::Critical)).unwrap(),
            0x2222_2222
        );
        assert_eq!(
            v.get32(Selector::Field(FieldId::Scratch1)).unwrap(),
            0x3333_3333
        );
        assert_eq!(v.get32(Selector::Mas7).unwrap(), 0x7777_7777);
        assert_eq!(v.get32(Selector::Mas3).unwrap(), 0x3333_3333);
        assert_eq!(
            v.get32(Selector::Field(FieldId::Dsisr)).unwrap(),
            0x4000_0000
        );
        // A 32-bit guest's stw to msr only changes the low word.
        v.set_msr(0xaaaa_aaaa_0000_0000);
        v.set32(Selector::Field(FieldId::Msr), 0x8000).unwrap();
        assert_eq!(v.msr(), 0xaaaa_aaaa_0000_8000);
    }

    #[test]
    fn kvm_swab_swaps_only_its_subset_and_convert_swaps_all() {
        for from in ORDERS {
            let to = from.swapped();
            let mut page = [0u8; PAGE_SIZE];
            page[SHARED_SIZE..].fill(0x5a);
            let mut v = MagicPageMut::from_array(&mut page).with_endian(from);
            for sel in Selector::all() {
                v.set(sel, pattern(sel)).unwrap();
            }
            let before = *v.bytes();
            assert!(!v.swab_kvm(from), "same order is a no-op");
            assert!(v.swab_kvm(to));
            assert_eq!(v.endian(), to);
            for sel in Selector::all() {
                let got = v.get(sel).unwrap();
                if sel.field().swapped {
                    assert_eq!(got, pattern(sel), "{sel} should read the same after swab");
                } else {
                    // Untouched bytes now decode byte-reversed, as in the kernel.
                    let want = if sel.bits() == 32 {
                        u64::from((pattern(sel) as u32).swap_bytes())
                    } else {
                        pattern(sel).swap_bytes()
                    };
                    assert_eq!(got, want, "{sel} must keep its bytes");
                }
            }
            // Converting back fully restores the original values of the swapped subset
            // only if we swab back: check swab is an involution on bytes.
            assert!(v.swab_kvm(from));
            assert_eq!(*v.bytes(), before);
            assert!(v.convert(to));
            for sel in Selector::all() {
                assert_eq!(v.get(sel).unwrap(), pattern(sel), "{sel} after convert");
            }
            assert!(v.tail().iter().all(|&b| b == 0x5a));
        }
    }

    #[test]
    fn selector_parse_survives_junk() {
        let junk = [
            "",
            "[",
            "]",
            "sr[",
            "sr[]",
            "sr[-1]",
            "sr[0x]",
            "sr[1]]",
            "sr[[1]",
            "mas7_3[0]",
            "msr ",
            " msr",
            "sr [1]",
            "sr[1_0]",
            "sr[0xffffffffffffffff]",
            "ü",
            "sr[١]",
        ];
        for j in junk {
            let _ = Selector::parse(j);
        }
        assert_eq!(Selector::parse(" msr"), Ok(Selector::Field(FieldId::Msr)));
        assert_eq!(
            Selector::parse("sr[1_0]"),
            Ok(Selector::Element(FieldId::Sr, 10))
        );
    }
}
