//! Byte order chosen at run time.
//!
//! PowerPC guests run big-endian or (Book3S-64 only) little-endian, and the shared
//! magic page follows the guest (KVM converts it with `kvmppc_swab_shared` in
//! `arch/powerpc/kvm/book3s.c` when the guest switches), so byte order is a value,
//! never a compile-time choice.
//!
//! This module is the crate's one byte-order layer: every read and write of blob, page
//! and image bytes held in a slice goes through [`Endian`] or the big-endian helpers in
//! [`be`], both built on the `byteorder` crate. Native-endian access never appears.
//! (The volatile magic-page view is the one exception: it never holds a slice.)

use byteorder::{BigEndian, ByteOrder, LittleEndian};

/// A byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Most significant byte first: every PowerPC device tree and the default magic page.
    #[default]
    Big,
    /// Least significant byte first: a Book3S-64 little-endian guest.
    Little,
}

impl Endian {
    /// The other byte order.
    #[must_use]
    pub const fn swapped(self) -> Self {
        match self {
            Endian::Big => Endian::Little,
            Endian::Little => Endian::Big,
        }
    }

    /// Decodes a `u16`.
    #[inline]
    #[must_use]
    pub fn u16_from(self, b: [u8; 2]) -> u16 {
        self.read_u16(&b)
    }

    /// Decodes a `u32`.
    #[inline]
    #[must_use]
    pub fn u32_from(self, b: [u8; 4]) -> u32 {
        self.read_u32(&b)
    }

    /// Decodes a `u64`.
    #[inline]
    #[must_use]
    pub fn u64_from(self, b: [u8; 8]) -> u64 {
        self.read_u64(&b)
    }

    /// Encodes a `u32`.
    #[inline]
    #[must_use]
    pub fn u32_to(self, v: u32) -> [u8; 4] {
        let mut b = [0; 4];
        self.write_u32(&mut b, v);
        b
    }

    /// Encodes a `u64`.
    #[inline]
    #[must_use]
    pub fn u64_to(self, v: u64) -> [u8; 8] {
        let mut b = [0; 8];
        self.write_u64(&mut b, v);
        b
    }

    /// Reads a `u16` from the first two bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than two bytes; callers slice to a checked length first.
    #[inline]
    #[must_use]
    pub fn read_u16(self, b: &[u8]) -> u16 {
        match self {
            Endian::Big => BigEndian::read_u16(b),
            Endian::Little => LittleEndian::read_u16(b),
        }
    }

    /// Reads a `u32` from the first four bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than four bytes.
    #[inline]
    #[must_use]
    pub fn read_u32(self, b: &[u8]) -> u32 {
        match self {
            Endian::Big => BigEndian::read_u32(b),
            Endian::Little => LittleEndian::read_u32(b),
        }
    }

    /// Reads a `u64` from the first eight bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than eight bytes.
    #[inline]
    #[must_use]
    pub fn read_u64(self, b: &[u8]) -> u64 {
        match self {
            Endian::Big => BigEndian::read_u64(b),
            Endian::Little => LittleEndian::read_u64(b),
        }
    }

    /// Writes `v` into the first two bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than two bytes.
    #[inline]
    pub fn write_u16(self, b: &mut [u8], v: u16) {
        match self {
            Endian::Big => BigEndian::write_u16(b, v),
            Endian::Little => LittleEndian::write_u16(b, v),
        }
    }

    /// Writes `v` into the first four bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than four bytes.
    #[inline]
    pub fn write_u32(self, b: &mut [u8], v: u32) {
        match self {
            Endian::Big => BigEndian::write_u32(b, v),
            Endian::Little => LittleEndian::write_u32(b, v),
        }
    }

    /// Writes `v` into the first eight bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than eight bytes.
    #[inline]
    pub fn write_u64(self, b: &mut [u8], v: u64) {
        match self {
            Endian::Big => BigEndian::write_u64(b, v),
            Endian::Little => LittleEndian::write_u64(b, v),
        }
    }

    /// The lower-case name used on the command line: `big` or `little`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Endian::Big => "big",
            Endian::Little => "little",
        }
    }
}

impl core::fmt::Display for Endian {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Big-endian access at byte offsets, the order of every flattened device tree
/// (devicetree specification v0.4, §5.1) and of the PowerPC instruction words it carries.
///
/// The `*_at` readers return `None` when the value would run past the slice, so a
/// truncated blob is an error the caller names, never a panic.
pub mod be {
    use super::{BigEndian, ByteOrder};
    use alloc::vec::Vec;

    /// The big-endian `u32` at `off`, or `None` if `b` ends first.
    #[inline]
    #[must_use]
    pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
        b.get(off..off.checked_add(4)?).map(BigEndian::read_u32)
    }

    /// The big-endian `u64` at `off`, or `None` if `b` ends first.
    #[inline]
    #[must_use]
    pub fn u64_at(b: &[u8], off: usize) -> Option<u64> {
        b.get(off..off.checked_add(8)?).map(BigEndian::read_u64)
    }

    /// The whole of `b` as big-endian `u32` cells, or `None` if its length is not a
    /// multiple of four.
    #[must_use]
    pub fn cells(b: &[u8]) -> Option<Vec<u32>> {
        if !b.len().is_multiple_of(4) {
            return None;
        }
        Some(b.chunks_exact(4).map(BigEndian::read_u32).collect())
    }

    /// Overwrites the four bytes at `off` with `v`.
    ///
    /// # Panics
    /// If `b` is shorter than `off + 4`; callers write inside a buffer they sized.
    #[inline]
    pub fn set_u32(b: &mut [u8], off: usize, v: u32) {
        BigEndian::write_u32(&mut b[off..off + 4], v);
    }

    /// Overwrites the eight bytes at `off` with `v`.
    ///
    /// # Panics
    /// If `b` is shorter than `off + 8`.
    #[inline]
    pub fn set_u64(b: &mut [u8], off: usize, v: u64) {
        BigEndian::write_u64(&mut b[off..off + 8], v);
    }

    /// Appends `v` in big-endian order.
    #[inline]
    pub fn push_u32(out: &mut Vec<u8>, v: u32) {
        let mut w = [0; 4];
        BigEndian::write_u32(&mut w, v);
        out.extend_from_slice(&w);
    }

    /// Appends `v` in big-endian order.
    #[inline]
    pub fn push_u64(out: &mut Vec<u8>, v: u64) {
        let mut w = [0; 8];
        BigEndian::write_u64(&mut w, v);
        out.extend_from_slice(&w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_orders() {
        for e in [Endian::Big, Endian::Little] {
            assert_eq!(e.u32_from(e.u32_to(0x1234_5678)), 0x1234_5678);
            assert_eq!(
                e.u64_from(e.u64_to(0x0102_0304_0506_0708)),
                0x0102_0304_0506_0708
            );
        }
        assert_eq!(Endian::Big.u32_to(0x4400_0002), [0x44, 0, 0, 2]);
        assert_eq!(Endian::Little.u32_to(0x4400_0002), [2, 0, 0, 0x44]);
        assert_eq!(Endian::Big.swapped(), Endian::Little);
    }

    #[test]
    fn be_helpers_bound_check() {
        let b = [0, 0, 0, 1, 0, 0, 0, 2];
        assert_eq!(be::u32_at(&b, 4), Some(2));
        assert_eq!(be::u32_at(&b, 5), None);
        assert_eq!(be::u32_at(&b, usize::MAX), None);
        assert_eq!(be::u64_at(&b, 0), Some(0x1_0000_0002));
        assert_eq!(be::cells(&b), Some(vec![1, 2]));
        assert_eq!(be::cells(&b[..3]), None);
        let mut v = Vec::new();
        be::push_u32(&mut v, 0x4400_0002);
        be::push_u64(&mut v, 1);
        assert_eq!(v, [0x44, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
        be::set_u32(&mut v, 0, 7);
        assert_eq!(be::u32_at(&v, 0), Some(7));
    }
}
