//! Reading inputs and writing outputs the safe way.
//!
//! * Inputs are memory-mapped when they are regular files (a 6.8 MB DTB or a sparse
//!   64 GiB RAM image costs only the pages touched), read into memory up to a caller's
//!   cap otherwise (pipes, `-` for stdin). Inputs are never opened for writing.
//! * Outputs are written atomically: a temporary file is created in the target's own
//!   directory, filled, synced, then renamed over the target. An error at any point
//!   leaves the target (which may be the input itself) exactly as it was.
//!
//! This is the one module that maps files, so it is the one place `unsafe` is allowed.

use memmap2::Mmap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};

/// The name that means standard input or standard output.
pub const STDIO: &str = "-";

/// Bytes of an input: a read-only mapping of a file or an owned buffer.
#[derive(Debug)]
pub enum Input {
    /// A regular file, mapped read-only.
    Mapped(Mmap),
    /// Bytes read from a pipe or stdin (or an empty file, which cannot be mapped).
    Owned(Vec<u8>),
}

impl Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for Input {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// Errors from [`read_input`] and [`write_atomic`].
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The operating system refused.
    #[error("{path}: {source}")]
    Io {
        /// The path involved (`-` for stdin/stdout).
        path: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A non-mappable input was larger than the caller allows.
    #[error("{path}: input is larger than {limit} bytes")]
    TooLarge {
        /// The path involved.
        path: String,
        /// The cap that was exceeded.
        limit: u64,
    },
}

fn io_err(path: &Path, source: io::Error) -> FileError {
    FileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Opens `path` for reading (`-` reads stdin). Regular files are mapped, so `limit`
/// applies only to streams, which are read into memory and refused past `limit` bytes.
///
/// # Errors
/// [`FileError::Io`] when the file cannot be opened, mapped or read;
/// [`FileError::TooLarge`] when a stream exceeds `limit`.
pub fn read_input(path: &Path, limit: u64) -> Result<Input, FileError> {
    if path.as_os_str() == STDIO {
        return read_stream(io::stdin().lock(), path, limit);
    }
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let meta = file.metadata().map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        return Err(io_err(path, io::Error::other("is a directory")));
    }
    if !meta.is_file() {
        return read_stream(file, path, limit);
    }
    if meta.len() == 0 {
        return Ok(Input::Owned(Vec::new()));
    }
    // SAFETY: the mapping is read-only and private to this process. If another process
    // truncates the file while it is mapped, touching the lost pages raises SIGBUS; that
    // is the documented cost of mapping (the same as for every mmap-based reader) and
    // cannot corrupt memory, because the mapping is never written.
    #[allow(unsafe_code)]
    let map = unsafe { Mmap::map(&file) }.map_err(|e| io_err(path, e))?;
    Ok(Input::Mapped(map))
}

fn read_stream<R: Read>(reader: R, path: &Path, limit: u64) -> Result<Input, FileError> {
    let mut buf = Vec::new();
    let n = reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| io_err(path, e))?;
    if n as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.display().to_string(),
            limit,
        });
    }
    Ok(Input::Owned(buf))
}

/// Whether `input` and `output` name the same existing file (same device and inode on
/// Unix; the same canonical path elsewhere). `-` (stdin/stdout) never matches, and a path
/// that does not exist yet matches nothing. Commands whose output is not a new version of
/// their input use this to refuse `-o INPUT`, which would destroy the input.
#[must_use]
pub fn same_file(input: &Path, output: &Path) -> bool {
    if input.as_os_str() == STDIO || output.as_os_str() == STDIO {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(input), std::fs::metadata(output)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (input.canonicalize(), output.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// A file being written atomically: bytes go to a temporary file beside the target,
/// which replaces the target only on [`AtomicFile::commit`]. Dropping it without
/// committing removes the temporary file and leaves the target untouched.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: io::BufWriter<tempfile::NamedTempFile>,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts writing `target`.
    ///
    /// # Errors
    /// [`FileError::Io`] when the temporary file cannot be created in the target's
    /// directory.
    pub fn create(target: &Path) -> Result<Self, FileError> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // A new output gets the mode any other program would give it (0666 less the
        // umask, applied by open(2)), not tempfile's private 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        // Name the directory when it is missing: tempfile's own error names its random
        // temporary path, which the user never asked for.
        if !dir.is_dir() {
            return Err(io_err(
                target,
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("directory {} does not exist", dir.display()),
                ),
            ));
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| io_err(target, e))?;
        Ok(AtomicFile {
            tmp: io::BufWriter::with_capacity(1 << 16, tmp),
            target: target.to_path_buf(),
        })
    }

    /// Flushes, syncs and renames the temporary file over the target. If the target
    /// existed, its permission bits are carried over.
    ///
    /// # Errors
    /// [`FileError::Io`] when flushing, syncing or renaming fails; the target is then
    /// unchanged and the temporary file removed.
    pub fn commit(self) -> Result<(), FileError> {
        let target = self.target;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| io_err(&target, e.into_error()))?;
        tmp.as_file().sync_all().map_err(|e| io_err(&target, e))?;
        if let Ok(meta) = std::fs::metadata(&target) {
            // Keep the mode of the file being replaced; a failure here is not fatal.
            let _ = tmp.as_file().set_permissions(meta.permissions());
        }
        tmp.persist(&target).map_err(|e| io_err(&target, e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]); `-` writes to stdout.
///
/// # Errors
/// [`FileError::Io`] when the file cannot be written; the target is then unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut out = Output::create(path)?;
    out.write_all(bytes).map_err(|e| io_err(path, e))?;
    out.finish()
}

/// A destination that is either stdout (`-`) or an [`AtomicFile`].
#[derive(Debug)]
pub enum Output {
    /// Standard output, buffered.
    Stdout(io::BufWriter<io::Stdout>),
    /// A file replaced atomically on [`Output::finish`].
    File(AtomicFile),
    /// Something that is not a regular file (`/dev/null`, a FIFO, a terminal): written
    /// in place, because renaming a temporary file over it would replace the device
    /// node itself.
    Special(PathBuf, io::BufWriter<File>),
}

impl Output {
    /// Opens `path` for writing; `-` means stdout.
    ///
    /// A regular file (new or existing) is replaced atomically. A symbolic link is
    /// followed, so the file it points at is replaced and the link kept. An existing
    /// path that is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is opened
    /// and written in place, never renamed over.
    ///
    /// # Errors
    /// As [`AtomicFile::create`]; a directory is refused.
    pub fn create(path: &Path) -> Result<Self, FileError> {
        if path.as_os_str() == STDIO {
            return Ok(Output::Stdout(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout(),
            )));
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(io_err(path, io::Error::other("is a directory"))),
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io_err(path, e))?;
                Ok(Output::Special(
                    path.to_path_buf(),
                    io::BufWriter::with_capacity(1 << 16, file),
                ))
            }
            _ => {
                // Replace what a link points at, not the link.
                let is_link = std::fs::symlink_metadata(path)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false);
                let target = if is_link {
                    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
                } else {
                    path.to_path_buf()
                };
                AtomicFile::create(&target).map(Output::File)
            }
        }
    }

    /// Flushes stdout, or commits the file.
    ///
    /// # Errors
    /// As [`AtomicFile::commit`], or a failed flush of stdout.
    pub fn finish(self) -> Result<(), FileError> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| io_err(Path::new(STDIO), e)),
            Output::File(f) => f.commit(),
            Output::Special(path, mut w) => w.flush().map_err(|e| io_err(&path, e)),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(f) => f.write(buf),
            Output::Special(_, w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(f) => f.flush(),
            Output::Special(_, w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"half").unwrap();
            // dropped without commit
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn device_nodes_are_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        // /dev/null must stay a character device after ppcpv writes to it.
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.dtb");
        let link = dir.path().join("link.dtb");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(dir.path(), b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("fresh.dtb");
        write_atomic(&target, b"x").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        // The same mode a plain File::create gets under this process's umask.
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let expected = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "mode {mode:o}, expected {expected:o}");
    }

    #[test]
    fn missing_output_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no/such/out.dtb");
        let e = write_atomic(&target, b"x").unwrap_err().to_string();
        assert!(e.contains("no/such does not exist"), "{e}");
        assert!(!e.contains("out.dtb."), "the temporary name leaked: {e}");
    }

    #[test]
    fn same_file_sees_through_other_names() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.dtb");
        std::fs::write(&a, b"x").unwrap();
        let dotted = dir.path().join(".").join("a.dtb");
        assert!(same_file(&a, &dotted));
        assert!(!same_file(&a, &dir.path().join("new.dtb")));
        assert!(!same_file(&a, Path::new(STDIO)));
        assert!(!same_file(Path::new(STDIO), Path::new(STDIO)));
    }

    #[test]
    fn reads_files_and_refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.bin");
        std::fs::write(&p, [1u8, 2, 3]).unwrap();
        assert_eq!(&*read_input(&p, 0).unwrap(), &[1, 2, 3]);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, []).unwrap();
        assert!(read_input(&empty, 0).unwrap().is_empty());
        assert!(read_input(dir.path(), 10).is_err());
        assert!(read_input(&dir.path().join("missing"), 10).is_err());
    }

    #[test]
    fn stream_cap() {
        let r = read_stream(&[0u8; 10][..], Path::new("-"), 9);
        assert!(matches!(r, Err(FileError::TooLarge { limit: 9, .. })));
        let r = read_stream(&[0u8; 10][..], Path::new("-"), 10).unwrap();
        assert_eq!(r.len(), 10);
    }
}
