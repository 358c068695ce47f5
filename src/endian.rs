//! Byte order chosen at run time.
//!
//! PowerPC guests run big-endian or (Book3S-64 only) little-endian, and the shared
//! magic page follows the guest (`kvm-ppc-pv.md` §6.5), so byte order is a value,
//! never a compile-time choice. Reads and writes go through explicit
//! `from_be_bytes`/`from_le_bytes`; native-endian access never appears.

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
    pub const fn u16_from(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Big => u16::from_be_bytes(b),
            Endian::Little => u16::from_le_bytes(b),
        }
    }

    /// Decodes a `u32`.
    #[inline]
    #[must_use]
    pub const fn u32_from(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Big => u32::from_be_bytes(b),
            Endian::Little => u32::from_le_bytes(b),
        }
    }

    /// Decodes a `u64`.
    #[inline]
    #[must_use]
    pub const fn u64_from(self, b: [u8; 8]) -> u64 {
        match self {
            Endian::Big => u64::from_be_bytes(b),
            Endian::Little => u64::from_le_bytes(b),
        }
    }

    /// Encodes a `u32`.
    #[inline]
    #[must_use]
    pub const fn u32_to(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Big => v.to_be_bytes(),
            Endian::Little => v.to_le_bytes(),
        }
    }

    /// Encodes a `u64`.
    #[inline]
    #[must_use]
    pub const fn u64_to(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Big => v.to_be_bytes(),
            Endian::Little => v.to_le_bytes(),
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

impl std::fmt::Display for Endian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
}
