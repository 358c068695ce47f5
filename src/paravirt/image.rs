//! Finding the code in an input: a raw blob, or the executable sections of an ELF file
//! such as a guest `vmlinux` (read with the `object` crate).
//!
//! For an ELF file the word size and byte order come from its header, and every
//! `SHF_EXECINSTR` section with file contents is a code region with its virtual
//! address. When the symbols `_stext` and `_etext` exist, the regions can be limited
//! to what Linux actually patches: `_stext.._etext`, minus
//! `kvm_template_start..kvm_template_end` (`torvalds/linux:
//! arch/powerpc/kernel/kvm.c (kvm_use_magic_page)`; the templates themselves live in
//! `arch/powerpc/kernel/kvm_emul.S` and must not be patched).

use super::WordSize;
use crate::Endian;
use alloc::string::String;
#[cfg(feature = "elf")]
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;
#[cfg(feature = "elf")]
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags};

/// `SHF_EXECINSTR` (ELF `sh_flags`).
#[cfg(feature = "elf")]
const SHF_EXECINSTR: u64 = 0x4;

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// ELF when the input starts with the ELF magic, raw otherwise.
    #[default]
    Auto,
    /// Every byte is code.
    Raw,
    /// An ELF file; anything else is an error.
    Elf,
}

/// One stretch of code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeRegion {
    /// The section name, or `raw` for a blob.
    pub name: String,
    /// Byte offset in the input.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Virtual address of the first byte (ELF only).
    pub address: Option<u64>,
}

impl CodeRegion {
    /// The region as a byte range of the input.
    #[must_use]
    pub fn range(&self) -> Range<u64> {
        self.offset..self.offset.saturating_add(self.len)
    }
}

/// What the ELF header says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ElfInfo {
    /// `ELFCLASS32` or `ELFCLASS64`.
    pub word_size: WordSize,
    /// `ELFDATA2MSB` or `ELFDATA2LSB`.
    pub endian: Endian,
    /// `_stext.._etext`, when both symbols exist.
    pub text: Option<Range<u64>>,
    /// `kvm_template_start..kvm_template_end`, when both symbols exist.
    pub templates: Option<Range<u64>>,
    /// Whether the regions were limited to `text` minus `templates`.
    pub limited_to_text: bool,
}

/// The code of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Image {
    /// ELF details, `None` for a raw blob.
    pub elf: Option<ElfInfo>,
    /// Code regions in input order.
    pub regions: Vec<CodeRegion>,
}

/// Why the input's code could not be located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// `--format elf` on something else.
    #[error("not an ELF file (no \\x7fELF magic at offset 0)")]
    NotElf,
    /// The `object` crate refused the ELF file.
    #[error("malformed ELF file: {0}")]
    Elf(String),
    /// An ELF file for another machine.
    #[error("ELF file is for {0}, not PowerPC (use --format raw to scan it anyway)")]
    NotPowerPc(String),
    /// An ELF input, but this build has no ELF reader (feature `elf` is off).
    #[error("ELF input, but ELF support is not built in (feature `elf`)")]
    ElfUnsupported,
}

/// Locates the code in `data`. With `linux_text_only`, an ELF file's regions are cut
/// down to what Linux patches when the symbols say where that is.
///
/// # Errors
/// [`ImageError`] when an ELF file is malformed or not for PowerPC, or `Format::Elf`
/// was asked for a non-ELF input.
pub fn locate(data: &[u8], format: Format, linux_text_only: bool) -> Result<Image, ImageError> {
    let is_elf = data.starts_with(b"\x7fELF");
    match format {
        Format::Raw => return Ok(raw(data)),
        Format::Auto if !is_elf => return Ok(raw(data)),
        Format::Elf if !is_elf => return Err(ImageError::NotElf),
        Format::Auto | Format::Elf => {}
    }
    #[cfg(not(feature = "elf"))]
    {
        let _ = linux_text_only;
        Err(ImageError::ElfUnsupported)
    }
    #[cfg(feature = "elf")]
    locate_elf(data, linux_text_only)
}

#[cfg(feature = "elf")]
fn locate_elf(data: &[u8], linux_text_only: bool) -> Result<Image, ImageError> {
    let file = object::File::parse(data).map_err(|e| ImageError::Elf(e.to_string()))?;
    match file.architecture() {
        object::Architecture::PowerPc | object::Architecture::PowerPc64 => {}
        other => return Err(ImageError::NotPowerPc(alloc::format!("{other:?}"))),
    }
    let word_size = if file.is_64() {
        WordSize::W64
    } else {
        WordSize::W32
    };
    let endian = if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    };
    let text = symbol_range(&file, "_stext", "_etext");
    let templates = symbol_range(&file, "kvm_template_start", "kvm_template_end");
    let limit = if linux_text_only { text.clone() } else { None };
    let mut regions = Vec::new();
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags, .. } = section.flags() else {
            continue;
        };
        if sh_flags.0 & SHF_EXECINSTR == 0 {
            continue;
        }
        let Some((offset, len)) = section.file_range() else {
            continue; // SHT_NOBITS
        };
        // Never trust the section header: clip to the input.
        let end = offset.saturating_add(len).min(data.len() as u64);
        if offset >= end {
            continue;
        }
        let name = section.name().unwrap_or("?").to_string();
        let address = section.address();
        let region = CodeRegion {
            name,
            offset,
            len: end - offset,
            address: Some(address),
        };
        match &limit {
            None => regions.push(region),
            Some(text) => {
                for piece in subtract(intersect(&region, text), templates.as_ref()) {
                    regions.push(piece);
                }
            }
        }
    }
    Ok(Image {
        elf: Some(ElfInfo {
            word_size,
            endian,
            text,
            templates,
            limited_to_text: limit.is_some(),
        }),
        regions,
    })
}

fn raw(data: &[u8]) -> Image {
    Image {
        elf: None,
        regions: vec![CodeRegion {
            name: "raw".into(),
            offset: 0,
            len: data.len() as u64,
            address: None,
        }],
    }
}

#[cfg(feature = "elf")]
fn symbol_range(file: &object::File<'_>, start: &str, end: &str) -> Option<Range<u64>> {
    let mut a = None;
    let mut b = None;
    for sym in file.symbols() {
        match sym.name() {
            Ok(n) if n == start => a = Some(sym.address()),
            Ok(n) if n == end => b = Some(sym.address()),
            _ => {}
        }
        if a.is_some() && b.is_some() {
            break;
        }
    }
    let (a, b) = (a?, b?);
    (a <= b).then_some(a..b)
}

/// The part of `r` whose addresses lie in `keep`.
#[cfg(feature = "elf")]
fn intersect(r: &CodeRegion, keep: &Range<u64>) -> Option<CodeRegion> {
    let addr = r.address?;
    let end = addr.checked_add(r.len)?;
    let lo = addr.max(keep.start);
    let hi = end.min(keep.end);
    (lo < hi).then(|| CodeRegion {
        name: r.name.clone(),
        offset: r.offset.saturating_add(lo - addr),
        len: hi - lo,
        address: Some(lo),
    })
}

/// `r` minus the addresses in `cut` (zero, one or two pieces).
#[cfg(feature = "elf")]
fn subtract(r: Option<CodeRegion>, cut: Option<&Range<u64>>) -> Vec<CodeRegion> {
    let Some(r) = r else { return Vec::new() };
    let (Some(cut), Some(addr)) = (cut, r.address) else {
        return vec![r];
    };
    let end = addr.saturating_add(r.len);
    if cut.start >= end || cut.end <= addr {
        return vec![r];
    }
    let mut out = Vec::new();
    out.extend(intersect(&r, &(addr..cut.start)));
    out.extend(intersect(&r, &(cut.end..end)));
    out
}

/// Limits regions to the input bytes `offset .. offset + length` (the whole rest when
/// `length` is `None`).
#[must_use]
pub fn clip(regions: &[CodeRegion], offset: u64, length: Option<u64>) -> Vec<CodeRegion> {
    let end = length.map_or(u64::MAX, |l| offset.saturating_add(l));
    regions
        .iter()
        .filter_map(|r| {
            let lo = r.offset.max(offset);
            let hi = r.offset.saturating_add(r.len).min(end);
            (lo < hi).then(|| CodeRegion {
                name: r.name.clone(),
                offset: lo,
                len: hi - lo,
                address: r.address.map(|a| a.saturating_add(lo - r.offset)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(addr: u64, len: u64) -> CodeRegion {
        CodeRegion {
            name: ".text".into(),
            offset: 0x1000,
            len,
            address: Some(addr),
        }
    }

    #[test]
    fn raw_inputs() {
        let img = locate(b"", Format::Auto, true).unwrap();
        assert_eq!(img.regions.len(), 1);
        assert_eq!(img.regions[0].len, 0);
        let img = locate(b"\x7fELF", Format::Raw, true).unwrap();
        assert!(img.elf.is_none());
        assert_eq!(locate(b"abc", Format::Elf, true), Err(ImageError::NotElf));
        assert!(matches!(
            locate(b"\x7fELF\x02", Format::Auto, true),
            Err(ImageError::Elf(_))
        ));
    }

    #[test]
    fn text_window_and_template_hole() {
        let r = region(0x100, 0x100);
        let pieces = subtract(intersect(&r, &(0x80..0x180)), Some(&(0x120..0x140)));
        assert_eq!(pieces.len(), 2);
        assert_eq!(
            (pieces[0].address, pieces[0].offset, pieces[0].len),
            (Some(0x100), 0x1000, 0x20)
        );
        assert_eq!(
            (pieces[1].address, pieces[1].offset, pieces[1].len),
            (Some(0x140), 0x1040, 0x40)
        );
        // A hole outside the region leaves it whole.
        let pieces = subtract(Some(r.clone()), Some(&(0x300..0x400)));
        assert_eq!(pieces, vec![r.clone()]);
        assert!(intersect(&r, &(0x300..0x400)).is_none());
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            ImageError::NotElf.to_string(),
            "not an ELF file (no \\x7fELF magic at offset 0)"
        );
        assert_eq!(
            ImageError::Elf("Could not read file magic".into()).to_string(),
            "malformed ELF file: Could not read file magic"
        );
        assert_eq!(
            ImageError::NotPowerPc("X86_64".into()).to_string(),
            "ELF file is for X86_64, not PowerPC (use --format raw to scan it anyway)"
        );
    }

    #[test]
    fn clip_window() {
        let r = region(0x100, 0x100);
        let c = clip(&[r], 0x1010, Some(8));
        assert_eq!(
            (c[0].offset, c[0].len, c[0].address),
            (0x1010, 8, Some(0x110))
        );
        assert!(clip(&c, 0x5000, None).is_empty());
    }
}
