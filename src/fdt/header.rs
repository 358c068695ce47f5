//! The DTB header: ten big-endian `u32` words in version 17, fewer in the old formats.
//!
//! | offset | field | since |
//! |---|---|---|
//! | 0x00 | `magic` (0xd00dfeed) | 1 |
//! | 0x04 | `totalsize` | 1 |
//! | 0x08 | `off_dt_struct` | 1 |
//! | 0x0c | `off_dt_strings` | 1 |
//! | 0x10 | `off_mem_rsvmap` | 1 |
//! | 0x14 | `version` | 1 |
//! | 0x18 | `last_comp_version` | 1 |
//! | 0x1c | `boot_cpuid_phys` | 2 |
//! | 0x20 | `size_dt_strings` | 3 |
//! | 0x24 | `size_dt_struct` | 17 |
//!
//! So the header is 28 bytes in version 1, 32 in version 2, 36 in versions 3 and 16,
//! and 40 from version 17 on (`dgibson/dtc: libfdt/fdt.h`, `FDT_V1_SIZE` ..
//! `FDT_V17_SIZE`; `flattree.c`, `dt_from_blob`). Versions 4 to 15 were never used.
//! This module only decodes the words and checks the version; the block checks that
//! need the structure walk live in [`super::reader`].

use super::FdtError;
use crate::endian::be;

/// The magic number every DTB starts with.
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// The newest format version this reader understands; blobs whose
/// `last_comp_version` is above it are refused (as libfdt's `fdt_check_header` does).
pub const LAST_SUPPORTED_VERSION: u32 = 17;

/// The decoded header of a blob. Fields a version does not have are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Header {
    /// `magic`, always [`FDT_MAGIC`] once parsed.
    pub magic: u32,
    /// `totalsize`: bytes of the whole blob, free space included.
    pub totalsize: u32,
    /// `off_dt_struct`: offset of the structure block.
    pub off_dt_struct: u32,
    /// `off_dt_strings`: offset of the strings block.
    pub off_dt_strings: u32,
    /// `off_mem_rsvmap`: offset of the memory reservation map.
    pub off_mem_rsvmap: u32,
    /// `version`: the format version.
    pub version: u32,
    /// `last_comp_version`: the oldest version this blob is compatible with.
    pub last_comp_version: u32,
    /// `boot_cpuid_phys` (version 2 on): the physical id of the boot CPU.
    pub boot_cpuid_phys: Option<u32>,
    /// `size_dt_strings` (version 3 on): bytes of the strings block.
    pub size_dt_strings: Option<u32>,
    /// `size_dt_struct` (version 17 on): bytes of the structure block.
    pub size_dt_struct: Option<u32>,
}

/// Header size in bytes for `version`, or `None` for a version that never existed.
#[must_use]
pub fn header_size(version: u32) -> Option<u32> {
    match version {
        1 => Some(28),
        2 => Some(32),
        3 | 16 => Some(36),
        v if v >= 17 => Some(40),
        _ => None,
    }
}

impl Header {
    /// Decodes and checks the header at the start of `blob`: magic, a known version
    /// with `last_comp_version <= 17` and `<= version`, `totalsize` within the input and not smaller
    /// than the header. Block offsets are checked later by [`super::Fdt::new`].
    ///
    /// # Errors
    /// [`FdtError::TruncatedHeader`], [`FdtError::BadMagic`],
    /// [`FdtError::UnsupportedVersion`], [`FdtError::TotalSizeBeyondInput`],
    /// [`FdtError::TotalSizeTooSmall`].
    pub fn parse(blob: &[u8]) -> Result<Header, FdtError> {
        let truncated = |need| FdtError::TruncatedHeader {
            len: blob.len(),
            need,
        };
        let magic = be::u32_at(blob, 0).ok_or(truncated(40))?;
        if magic != FDT_MAGIC {
            return Err(FdtError::BadMagic { found: magic });
        }
        let word = |i: usize| be::u32_at(blob, i * 4);
        let (Some(totalsize), Some(off_dt_struct), Some(off_dt_strings)) =
            (word(1), word(2), word(3))
        else {
            return Err(truncated(40));
        };
        let (Some(off_mem_rsvmap), Some(version), Some(last_comp_version)) =
            (word(4), word(5), word(6))
        else {
            return Err(truncated(40));
        };
        let unsupported = FdtError::UnsupportedVersion {
            version,
            last_comp_version,
        };
        let size = header_size(version).ok_or(unsupported.clone())?;
        // `last_comp_version` is checked as libfdt checks it (`dgibson/dtc: libfdt/fdt.c
        // (fdt_check_header)`): at most the newest supported version and at most the
        // blob's own version. Any smaller value, 0 or 4-15 included, only says which
        // older readers could cope, so dtc and fdtget read such blobs, and so does this.
        if last_comp_version > LAST_SUPPORTED_VERSION || last_comp_version > version {
            return Err(unsupported);
        }
        let size_usize = size as usize;
        if blob.len() < size_usize {
            return Err(truncated(size_usize));
        }
        let boot_cpuid_phys = if version >= 2 { word(7) } else { None };
        let size_dt_strings = if version >= 3 { word(8) } else { None };
        let size_dt_struct = if version >= 17 { word(9) } else { None };
        if totalsize < size {
            return Err(FdtError::TotalSizeTooSmall {
                totalsize,
                header_size: size,
            });
        }
        if u64::from(totalsize) > blob.len() as u64 {
            return Err(FdtError::TotalSizeBeyondInput {
                totalsize,
                len: blob.len(),
            });
        }
        Ok(Header {
            magic,
            totalsize,
            off_dt_struct,
            off_dt_strings,
            off_mem_rsvmap,
            version,
            last_comp_version,
            boot_cpuid_phys,
            size_dt_strings,
            size_dt_struct,
        })
    }

    /// Bytes of this header (28, 32, 36 or 40, by version).
    #[must_use]
    pub fn size(&self) -> u32 {
        header_size(self.version).unwrap_or(40)
    }

    /// True for the old formats (versions 1-3): full paths as node names, property
    /// values of 8 bytes or more aligned to 8 (`dgibson/dtc: flattree.c`,
    /// `FTF_FULLPATH | FTF_VARALIGN`).
    #[must_use]
    pub fn is_old_format(&self) -> bool {
        self.version < 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(version: u32, last: u32, totalsize: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [
            FDT_MAGIC, totalsize, 0x38, 0x48, 0x28, version, last, 0, 0, 0,
        ] {
            be::push_u32(&mut v, w);
        }
        v
    }

    #[test]
    fn parses_v17() {
        let h = Header::parse(&hdr(17, 16, 40)).unwrap();
        assert_eq!(h.size(), 40);
        assert_eq!(h.size_dt_struct, Some(0));
        assert!(!h.is_old_format());
    }

    #[test]
    fn any_last_comp_version_up_to_the_version_reads() {
        // dtc and fdtget read these (libfdt's fdt_check_header only asks
        // last_comp_version <= 17 and <= version).
        for (v, l) in [
            (17, 0),
            (17, 4),
            (17, 15),
            (17, 17),
            (16, 0),
            (16, 9),
            (18, 17),
        ] {
            let h = Header::parse(&hdr(v, l, 40)).unwrap_or_else(|e| panic!("{v}/{l}: {e}"));
            assert_eq!((h.version, h.last_comp_version), (v, l));
        }
        let mut b = hdr(2, 0, 32);
        b.truncate(32);
        assert_eq!(Header::parse(&b).unwrap().size(), 32);
    }

    #[test]
    fn old_versions_have_short_headers() {
        let mut b = hdr(1, 1, 28);
        b.truncate(28);
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.size(), 28);
        assert_eq!(h.boot_cpuid_phys, None);
        assert_eq!(h.size_dt_strings, None);
        assert_eq!(header_size(2), Some(32));
        assert_eq!(header_size(3), Some(36));
        assert_eq!(header_size(16), Some(36));
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(matches!(
            Header::parse(&[]),
            Err(FdtError::TruncatedHeader { len: 0, .. })
        ));
        assert!(matches!(
            Header::parse(&crate::Endian::Big.u32_to(FDT_MAGIC)),
            Err(FdtError::TruncatedHeader { len: 4, .. })
        ));
        let mut b = hdr(17, 16, 40);
        b[3] = 0xee;
        assert_eq!(
            Header::parse(&b),
            Err(FdtError::BadMagic { found: 0xd00dfeee })
        );
        for (v, l) in [(0, 0), (5, 5), (17, 18), (32, 32), (16, 17), (2, 3)] {
            assert!(
                matches!(
                    Header::parse(&hdr(v, l, 40)),
                    Err(FdtError::UnsupportedVersion { .. })
                ),
                "{v}/{l}"
            );
        }
        assert!(matches!(
            Header::parse(&hdr(17, 16, 41)),
            Err(FdtError::TotalSizeBeyondInput { .. })
        ));
        assert!(matches!(
            Header::parse(&hdr(17, 16, 39)),
            Err(FdtError::TotalSizeTooSmall { .. })
        ));
        let mut b = hdr(17, 16, 40);
        b.truncate(39);
        assert!(matches!(
            Header::parse(&b),
            Err(FdtError::TruncatedHeader { need: 40, .. })
        ));
    }
}
