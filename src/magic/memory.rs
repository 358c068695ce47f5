//! Guest RAM images: a raw file holding guest physical memory, from which one magic page
//! is read (or mapped, to write it) at a time.
//!
//! A VMM or an emulator can dump guest RAM to a file (QEMU's `dump-guest-memory` without
//! a format, `pmemsave`, a memory-backend file). [`GuestImage`] treats such a file as
//! guest physical memory starting at a base GPA, optionally after a number of bytes of
//! header in the file, and touches only the 4 KiB window holding the page asked for: a
//! sparse 64 GiB image costs one page, never a read of the whole file.
//!
//! A page to read is copied out with `pread` ([`GuestImage::page`]); a page to write is
//! mapped shared ([`GuestImage::page_mut`]), so a VMM running the guest from the same
//! file sees the stores, but only after its blocks are allocated with `fallocate(2)`.
//! A store into a mapped hole of a sparse image on a full filesystem cannot report
//! `ENOSPC`: the kernel raises SIGBUS and the process dies (so does a load from a hole on
//! tmpfs, which allocates a page for it). Allocating first turns a full disk into
//! [`ImageError::Allocate`], naming the image, before any byte is written; reading with
//! `pread` never allocates.
//!
//! The page location comes from a GPA, or from the guest's `KVM_HC_PPC_MAP_MAGIC_PAGE`
//! request ([`MapMagicPage`]: r3 = physical address, low 12 bits cleared as
//! `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)` does).
//!
//! Everything here needs the standard library (files, `memmap2`, `libc` on Unix), so the
//! module exists only with the `std` feature; no `memmap2` type appears in its public
//! API.

use super::layout::PAGE_SIZE;
use super::view::{MagicError, MagicPage, MagicPageMut};
use super::volatile::VolatileMagicPage;
use crate::Endian;
use crate::hcall::{MagicFeatures, MapMagicPage};
use memmap2::{MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Page size as a `u64`, for address arithmetic.
const PAGE: u64 = PAGE_SIZE as u64;

/// Errors from guest memory images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The operating system refused to open, inspect, map or flush the file.
    #[error("{path}: {source}")]
    Io {
        /// The image.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The file has no write permission, so it is not opened for writing.
    #[error("{path}: the image is read-only (no write permission); nothing was written")]
    ReadOnly {
        /// The image.
        path: PathBuf,
    },
    /// The file is not a regular file.
    #[error("{path}: not a regular file")]
    NotAFile {
        /// The image.
        path: PathBuf,
    },
    /// The image holds less than one page after the file offset.
    #[error(
        "{path}: the image holds {len} bytes after offset {offset:#x}, less than one {PAGE_SIZE}-byte page"
    )]
    TooSmall {
        /// The image.
        path: PathBuf,
        /// Bytes available after `offset`.
        len: u64,
        /// The file offset of guest address `base`.
        offset: u64,
    },
    /// The GPA is not 4 KiB aligned.
    #[error("GPA {gpa:#x} is not 4 KiB aligned (the magic page starts on a page boundary)")]
    Misaligned {
        /// The address asked for.
        gpa: u64,
    },
    /// The blocks of the page to write could not be allocated (a full filesystem, a
    /// quota): nothing was written.
    #[error(
        "{path}: cannot allocate the page at file offset {offset:#x}; nothing was written: {source}"
    )]
    Allocate {
        /// The image.
        path: PathBuf,
        /// The page's file offset.
        offset: u64,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The page at the GPA is not inside the image.
    #[error("GPA {gpa:#x} is outside the image, which holds guest addresses {base:#x}..{end:#x}")]
    Outside {
        /// The address asked for.
        gpa: u64,
        /// The first guest address in the image.
        base: u64,
        /// One past the last guest address in the image.
        end: u64,
    },
}

/// How to open a [`GuestImage`]: build with [`ImageOptions::new`] and the `with_*`
/// methods (more options may come).
///
/// ```
/// use ppcpv::magic::ImageOptions;
/// let opts = ImageOptions::new().with_base(0x4000_0000).with_offset(0x200).writable(true);
/// assert_eq!((opts.base, opts.offset, opts.writable), (0x4000_0000, 0x200, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ImageOptions {
    /// The guest physical address of the image's first byte (after `offset`).
    pub base: u64,
    /// Bytes to skip at the start of the file (a header before guest RAM).
    pub offset: u64,
    /// Open the file for writing (pages can then be mapped with [`GuestImage::page_mut`]).
    pub writable: bool,
}

impl ImageOptions {
    /// Guest address 0 at the start of the file, read-only.
    #[must_use]
    pub const fn new() -> Self {
        ImageOptions {
            base: 0,
            offset: 0,
            writable: false,
        }
    }

    /// The guest physical address of the image's first byte.
    #[must_use]
    pub const fn with_base(self, base: u64) -> Self {
        ImageOptions { base, ..self }
    }

    /// Bytes to skip at the start of the file before guest RAM begins.
    #[must_use]
    pub const fn with_offset(self, offset: u64) -> Self {
        ImageOptions { offset, ..self }
    }

    /// Whether to open the file for writing.
    #[must_use]
    pub const fn writable(self, writable: bool) -> Self {
        ImageOptions { writable, ..self }
    }
}

/// A raw guest RAM image, opened but not mapped.
#[derive(Debug)]
pub struct GuestImage {
    file: File,
    path: PathBuf,
    /// Bytes of guest memory in the file after `offset`.
    len: u64,
    opts: ImageOptions,
}

impl GuestImage {
    /// Opens `path` as guest RAM described by `opts`. Nothing is read or mapped yet.
    ///
    /// # Errors
    /// [`ImageError::Io`] when the file cannot be opened, [`ImageError::ReadOnly`] when
    /// writing is asked for but the file has no write permission (checked on the mode
    /// bits, so it holds for root too), [`ImageError::NotAFile`], and
    /// [`ImageError::TooSmall`] when less than one page follows `offset`.
    pub fn open(path: &Path, opts: ImageOptions) -> Result<Self, ImageError> {
        let io_err = |source| ImageError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if !meta.is_file() {
            return Err(ImageError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        if opts.writable && meta.permissions().readonly() {
            return Err(ImageError::ReadOnly {
                path: path.to_path_buf(),
            });
        }
        let file = OpenOptions::new()
            .read(true)
            .write(opts.writable)
            .open(path)
            .map_err(io_err)?;
        let total = file.metadata().map_err(io_err)?.len();
        let len = total.saturating_sub(opts.offset);
        if len < PAGE {
            return Err(ImageError::TooSmall {
                path: path.to_path_buf(),
                len,
                offset: opts.offset,
            });
        }
        Ok(GuestImage {
            file,
            path: path.to_path_buf(),
            len,
            opts,
        })
    }

    /// The image's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of guest memory in the image.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Always false: an opened image holds at least one page.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first guest physical address in the image.
    #[must_use]
    pub fn base(&self) -> u64 {
        self.opts.base
    }

    /// One past the last guest address in the image (saturating at `u64::MAX`).
    #[must_use]
    pub fn end(&self) -> u64 {
        self.opts.base.saturating_add(self.len)
    }

    /// The file position of the page at `gpa`.
    ///
    /// # Errors
    /// [`ImageError::Misaligned`] or [`ImageError::Outside`].
    pub fn file_position(&self, gpa: u64) -> Result<u64, ImageError> {
        if !gpa.is_multiple_of(PAGE) {
            return Err(ImageError::Misaligned { gpa });
        }
        let outside = || ImageError::Outside {
            gpa,
            base: self.base(),
            end: self.end(),
        };
        let rel = gpa.checked_sub(self.opts.base).ok_or_else(outside)?;
        let last = rel.checked_add(PAGE).ok_or_else(outside)?;
        if last > self.len {
            return Err(outside());
        }
        self.opts.offset.checked_add(rel).ok_or_else(outside)
    }

    /// Reads the page at `gpa` (only that page of the file, with `pread`: a hole reads
    /// as zeros and allocates nothing, also on a full tmpfs).
    ///
    /// # Errors
    /// As [`GuestImage::file_position`], or [`ImageError::Io`] when reading fails (the
    /// file shrank since it was opened, say).
    pub fn page(&self, gpa: u64) -> Result<MappedPage, ImageError> {
        let pos = self.file_position(gpa)?;
        let mut bytes = Box::new([0u8; PAGE_SIZE]);
        read_exact_at(&self.file, &mut bytes[..], pos).map_err(|source| self.io(source))?;
        Ok(MappedPage { bytes, gpa })
    }

    /// Maps the page at `gpa` for writing: changes go to the file (shared mapping) and
    /// are made durable by [`MappedPageMut::flush`]. The page's blocks are allocated
    /// first (`fallocate(2)`; where the filesystem lacks it, by writing the page's
    /// own bytes back with `pwrite`), so a full filesystem is an error here and never
    /// a SIGBUS at the first store.
    ///
    /// # Errors
    /// [`ImageError::ReadOnly`] when the image was not opened writable,
    /// [`ImageError::Allocate`] when the page cannot be allocated (nothing is written
    /// then), else as [`GuestImage::page`].
    pub fn page_mut(&self, gpa: u64) -> Result<MappedPageMut, ImageError> {
        if !self.opts.writable {
            return Err(ImageError::ReadOnly {
                path: self.path.clone(),
            });
        }
        let pos = self.file_position(gpa)?;
        allocate(&self.file, pos).map_err(|source| ImageError::Allocate {
            path: self.path.clone(),
            offset: pos,
            source,
        })?;
        // SAFETY: a shared writable mapping of one page of a file opened read-write. The
        // slice handed out aliases the file: another process writing the same bytes
        // concurrently races with us at the byte level (values may mix, as for a guest
        // and its VMM sharing the page), and a truncation raises SIGBUS. Only plain
        // integers are stored there, so no invariant of safe Rust depends on the bytes.
        #[allow(unsafe_code)]
        let map = unsafe {
            MmapOptions::new()
                .offset(pos)
                .len(PAGE_SIZE)
                .map_mut(&self.file)
        }
        .map_err(|source| self.io(source))?;
        Ok(MappedPageMut {
            map,
            gpa,
            path: self.path.clone(),
        })
    }

    /// Reads the page a guest's `KVM_HC_PPC_MAP_MAGIC_PAGE` call named (its PA, low 12
    /// bits already cleared by [`MapMagicPage::from_regs`], as KVM clears them).
    ///
    /// # Errors
    /// As [`GuestImage::page`].
    pub fn page_for_request(&self, req: &MapMagicPage) -> Result<MappedPage, ImageError> {
        self.page(req.pa)
    }

    /// [`GuestImage::page_for_request`] for writing.
    ///
    /// # Errors
    /// As [`GuestImage::page_mut`].
    pub fn page_mut_for_request(&self, req: &MapMagicPage) -> Result<MappedPageMut, ImageError> {
        self.page_mut(req.pa)
    }

    fn io(&self, source: io::Error) -> ImageError {
        ImageError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// One page of an image, read into memory (the name is historical: it was mapped once).
#[derive(Debug)]
pub struct MappedPage {
    bytes: Box<[u8; PAGE_SIZE]>,
    gpa: u64,
}

impl MappedPage {
    /// The page's guest physical address.
    #[must_use]
    pub fn gpa(&self) -> u64 {
        self.gpa
    }

    /// The page bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8; PAGE_SIZE] {
        &self.bytes
    }

    /// A typed view in `endian` with `features` in force.
    #[must_use]
    pub fn view(&self, endian: Endian, features: MagicFeatures) -> MagicPage<'_> {
        MagicPage::from_array(self.bytes())
            .with_endian(endian)
            .with_features(features)
    }
}

/// One page of an image, mapped for writing.
#[derive(Debug)]
pub struct MappedPageMut {
    map: MmapMut,
    gpa: u64,
    path: PathBuf,
}

impl MappedPageMut {
    /// The page's guest physical address.
    #[must_use]
    pub fn gpa(&self) -> u64 {
        self.gpa
    }

    /// The page bytes.
    ///
    /// # Panics
    /// Never: the mapping is exactly one page long.
    #[must_use]
    pub fn bytes_mut(&mut self) -> &mut [u8; PAGE_SIZE] {
        let slice: &mut [u8] = &mut self.map[..];
        match slice.try_into() {
            Ok(a) => a,
            Err(_) => unreachable!("memmap2 returned a mapping of the wrong length"),
        }
    }

    /// A typed read-write view in `endian` with `features` in force.
    ///
    /// The view borrows the page as a slice: use it when nothing else writes the file
    /// meanwhile. When another process may (a VMM running the guest from the same file,
    /// shared), use [`MappedPageMut::volatile`].
    #[must_use]
    pub fn view_mut(&mut self, endian: Endian, features: MagicFeatures) -> MagicPageMut<'_> {
        MagicPageMut::from_array(self.bytes_mut())
            .with_endian(endian)
            .with_features(features)
    }

    /// A volatile view of the page (see [`VolatileMagicPage`]): safe to use while
    /// another process writes the same page of the file through its own shared mapping.
    ///
    /// # Errors
    /// [`MagicError::Misaligned`] when the image's file offset puts the page at an
    /// address that is not 8-byte aligned (an `offset` that is not a multiple of 8).
    pub fn volatile(
        &mut self,
        endian: Endian,
        features: MagicFeatures,
    ) -> Result<VolatileMagicPage<'_>, MagicError> {
        let ptr = self.map.as_mut_ptr();
        let Some(ptr) = core::ptr::NonNull::new(ptr) else {
            unreachable!("mmap returned a null mapping");
        };
        // SAFETY: the mapping is PAGE_SIZE bytes, readable and writable, and stays mapped
        // while `self` is borrowed, which the view's lifetime enforces; the mutable borrow
        // keeps `bytes_mut` (the only way to a reference into the mapping) away meanwhile.
        // Another process may write the page concurrently, which the view allows.
        #[allow(unsafe_code)]
        let view = unsafe { VolatileMagicPage::from_ptr(ptr) }?;
        Ok(view.with_endian(endian).with_features(features))
    }

    /// Writes the page back to the file and waits for it (`msync`).
    ///
    /// # Errors
    /// [`ImageError::Io`] when the flush fails.
    pub fn flush(&self) -> Result<(), ImageError> {
        self.map.flush().map_err(|source| ImageError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Fills `buf` from `file` at `pos` (`pread`, retried on short reads).
fn read_exact_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, pos)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                pos + done as u64,
            )?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Writes all of `buf` to `file` at `pos` (`pwrite`).
fn write_all_at(file: &File, buf: &[u8], pos: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, pos)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n =
                std::os::windows::fs::FileExt::seek_write(file, &buf[done..], pos + done as u64)?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Allocates the blocks of the page at file offset `pos`, keeping its bytes and the
/// file size: `fallocate(fd, 0, pos, PAGE_SIZE)` on Linux (mode 0 inside the file
/// changes no byte and no size: `man 2 fallocate`), else, or where the filesystem
/// does not support it, the page read and written back. The write-back can race with
/// another process writing the same page between the two calls; `fallocate` cannot.
fn allocate(file: &File, pos: u64) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::fd::AsRawFd;
        // An offset beyond a 32-bit off_t takes the write-back path.
        if let (Ok(off), Ok(len)) = (libc::off_t::try_from(pos), libc::off_t::try_from(PAGE_SIZE)) {
            // SAFETY: fallocate takes a file descriptor and integers, no pointers; the
            // descriptor is open (borrowed from `file` for the call).
            #[allow(unsafe_code)]
            let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, off, len) };
            if r == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if !matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::ENOSYS)) {
                return Err(e);
            }
        }
    }
    let mut page = [0u8; PAGE_SIZE];
    read_exact_at(file, &mut page, pos)?;
    write_all_at(file, &page, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: u64) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ram.img");
        let f = File::create(&p).unwrap();
        f.set_len(len).unwrap();
        (dir, p)
    }

    #[test]
    fn finds_pages_relative_to_base_and_offset() {
        let (_d, p) = image(0x10000 + 0x200);
        let opts = ImageOptions {
            base: 0x4000_0000,
            offset: 0x200,
            writable: false,
        };
        let img = GuestImage::open(&p, opts).unwrap();
        assert_eq!(img.len(), 0x10000);
        assert_eq!(img.end(), 0x4001_0000);
        assert_eq!(img.file_position(0x4000_f000).unwrap(), 0xf200);
        assert!(matches!(
            img.file_position(0x4001_0000),
            Err(ImageError::Outside { .. })
        ));
        assert!(matches!(
            img.file_position(0x3fff_f000),
            Err(ImageError::Outside { .. })
        ));
        assert!(matches!(
            img.file_position(0x4000_0800),
            Err(ImageError::Misaligned { .. })
        ));
        assert!(matches!(
            img.file_position(!0xfff),
            Err(ImageError::Outside { .. })
        ));
        assert!(matches!(
            img.page_mut(0x4000_0000),
            Err(ImageError::ReadOnly { .. })
        ));
        let regs = crate::hcall::HcallRegs::new(
            crate::hcall::HcallToken::kvm(4),
            crate::hcall::GuestWidth::Bits64,
        )
        .with_r3_r4(0x4000_1fff, 0xffff_ffff_ffff_f001);
        let req = MapMagicPage::from_regs(&regs);
        assert_eq!(img.page_for_request(&req).unwrap().gpa(), 0x4000_1000);
    }

    #[test]
    fn writes_reach_the_file_at_an_unaligned_offset() {
        let (_d, p) = image(0x3000 + 0x10);
        let opts = ImageOptions {
            base: 0,
            offset: 0x10,
            writable: true,
        };
        let img = GuestImage::open(&p, opts).unwrap();
        let mut page = img.page_mut(0x1000).unwrap();
        page.view_mut(Endian::Big, MagicFeatures::MAINLINE)
            .set_msr(0x1122_3344_5566_7788);
        page.flush().unwrap();
        drop(page);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(
            &bytes[0x1068..0x1070],
            &0x1122_3344_5566_7788u64.to_be_bytes()
        );
        let ro = GuestImage::open(
            &p,
            ImageOptions {
                writable: false,
                ..opts
            },
        )
        .unwrap();
        assert_eq!(
            ro.page(0x1000)
                .unwrap()
                .view(Endian::Big, MagicFeatures::NONE)
                .msr(),
            0x1122_3344_5566_7788
        );
    }

    #[test]
    fn volatile_view_of_a_mapped_page() {
        let (_d, p) = image(0x3000 + 8);
        let img = GuestImage::open(&p, ImageOptions::new().with_offset(8).writable(true)).unwrap();
        let mut page = img.page_mut(0x1000).unwrap();
        let v = page
            .volatile(Endian::Little, MagicFeatures::MAINLINE)
            .unwrap();
        v.set_srr1(0x8000_0000_0000_1033);
        assert_eq!(
            page.view_mut(Endian::Little, MagicFeatures::MAINLINE)
                .srr1(),
            0x8000_0000_0000_1033
        );
        page.flush().unwrap();
        drop(page);
        assert_eq!(std::fs::read(&p).unwrap()[8 + 0x1048], 0x33);
        // A header of 4 bytes puts the page at a 4-aligned address: refused, not UB.
        let (_d2, p2) = image(0x2000 + 4);
        let img = GuestImage::open(&p2, ImageOptions::new().with_offset(4).writable(true)).unwrap();
        let mut page = img.page_mut(0).unwrap();
        assert!(matches!(
            page.volatile(Endian::Big, MagicFeatures::MAINLINE),
            Err(MagicError::Misaligned { .. })
        ));
    }

    #[test]
    fn refuses_small_and_read_only_images() {
        let (_d, p) = image(4095);
        let err = GuestImage::open(&p, ImageOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("less than one 4096-byte page"),
            "{err}"
        );
        let (_d2, p2) = image(4096);
        assert!(
            GuestImage::open(
                &p2,
                ImageOptions {
                    offset: 1,
                    ..Default::default()
                }
            )
            .is_err()
        );
        let mut perm = std::fs::metadata(&p2).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(&p2, perm).unwrap();
        let err = GuestImage::open(
            &p2,
            ImageOptions {
                writable: true,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, ImageError::ReadOnly { .. }));
        assert!(GuestImage::open(_d2.path(), ImageOptions::default()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn reading_allocates_nothing_and_writing_allocates_first() {
        use std::os::unix::fs::MetadataExt;
        let (_d, p) = image(1 << 20);
        let blocks = || std::fs::metadata(&p).unwrap().blocks();
        let img = GuestImage::open(&p, ImageOptions::new().writable(true)).unwrap();
        assert_eq!(img.page(0x8000).unwrap().bytes(), &[0; PAGE_SIZE]);
        if blocks() != 0 {
            return; // a filesystem without holes: nothing to tell
        }
        let page = img.page_mut(0x8000).unwrap();
        // Allocated before the first store; contents and size unchanged.
        assert!(blocks() >= 8, "{} blocks", blocks());
        assert_eq!(page.gpa(), 0x8000);
        drop(page);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 1 << 20);
        assert!(std::fs::read(&p).unwrap().iter().all(|&b| b == 0));
    }

    #[test]
    fn extreme_addresses_never_panic() {
        let (_d, p) = image(0x2000);
        let edges = [0, 1, 0xfff, 0x1000, 0x2000, u64::MAX, !0xfff, 1 << 63];
        for base in edges {
            for offset in [0, 0x1000, u64::MAX] {
                let Ok(img) = GuestImage::open(
                    &p,
                    ImageOptions {
                        base,
                        offset,
                        writable: false,
                    },
                ) else {
                    continue;
                };
                for gpa in edges {
                    if let Ok(pos) = img.file_position(gpa) {
                        assert!(pos + 0x1000 <= 0x2000, "{base:#x} {offset:#x} {gpa:#x}");
                        assert!(img.page(gpa).is_ok());
                    }
                }
            }
        }
    }
}
