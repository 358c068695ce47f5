//! Reading inputs and writing outputs the safe way.
//!
//! * Inputs are memory-mapped when they are regular files (a 6.8 MB DTB or a sparse
//!   64 GiB RAM image costs only the pages touched), read into memory up to a caller's
//!   cap otherwise (pipes, `-` for stdin), and also when they are sparse files on
//!   tmpfs, where touching a mapped hole allocates a page and raises SIGBUS when the
//!   filesystem is full ([`mapping_may_fault`]). Inputs are never opened for writing.
//! * Outputs are written atomically: a temporary file is created in the target's own
//!   directory, filled, then renamed over the target. An error at any point leaves the
//!   target (which may be the input itself) exactly as it was. An output whose size is
//!   known has its blocks reserved first ([`AtomicFile::preallocate`]), so a full disk
//!   is an error before anything is written. The temporary file is flushed to disk
//!   before the rename only when the target is one of the command's own inputs (see
//!   [`AtomicFile::commit`]).
//!
//! This is the one module that maps files, so it is the one place `unsafe` is allowed.

use memmap2::Mmap;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

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
    /// A binary output was to go to a terminal.
    #[error(
        "refusing to write a binary blob to a terminal; redirect it (> out.dtb) or name a file with -o"
    )]
    Terminal,
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

/// Files up to this size are mapped with all their pages at once (see [`read_input`]).
const POPULATE_MAX: u64 = 64 << 20;

/// Opens `path` for reading (`-` reads stdin). Regular files are mapped, so `limit`
/// applies only to streams, which are read into memory and refused past `limit` bytes.
///
/// # Errors
/// [`FileError::Io`] when the file cannot be opened, mapped or read;
/// [`FileError::TooLarge`] when a stream exceeds `limit`.
pub fn read_input(path: &Path, limit: u64) -> Result<Input, FileError> {
    if path.as_os_str() == STDIO {
        note_stdin();
        return read_stream(io::stdin().lock(), path, limit);
    }
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let meta = file.metadata().map_err(|e| io_err(path, e))?;
    note_input(&meta);
    if meta.is_dir() {
        return Err(io_err(path, io::Error::other("is a directory")));
    }
    if !meta.is_file() {
        return read_stream(file, path, limit);
    }
    if meta.len() == 0 {
        return Ok(Input::Owned(Vec::new()));
    }
    if mapping_may_fault(&file, &meta) {
        return read_stream(file, path, limit);
    }
    // SAFETY: the mapping is read-only and private to this process. If another process
    // truncates the file while it is mapped, touching the lost pages raises SIGBUS; that
    // is the documented cost of mapping (the same as for every mmap-based reader) and
    // cannot corrupt memory, because the mapping is never written.
    // Up to POPULATE_MAX, `populate` maps every page in one call: the readers validate
    // the whole input first, so the pages are all touched anyway, and one call is
    // cheaper than a fault per 64 KiB (overlay of a 6.8 MB tree: 290 -> 184 faults,
    // 8.5 -> 8.0 ms). A larger file (a sparse image given by mistake) is left to be
    // faulted in only as far as it is read.
    let mut opts = memmap2::MmapOptions::new();
    if meta.len() <= POPULATE_MAX {
        opts.populate();
    }
    #[allow(unsafe_code)]
    let map = unsafe { opts.map(&file) }.map_err(|e| io_err(path, e))?;
    Ok(Input::Mapped(map))
}

/// Whether touching a read-only mapping of `file` could kill the process with SIGBUS
/// where `read(2)` would not: a sparse file (fewer blocks than bytes) on tmpfs. A read
/// fault on a hole of a tmpfs file allocates a page (`torvalds/linux: mm/shmem.c
/// (shmem_fault)` asks `shmem_get_folio_gfp` with `SGP_CACHE`), and on a full tmpfs
/// that fails as SIGBUS; `read(2)` of the same hole copies zeros and allocates nothing
/// (`shmem_file_read_iter` uses `SGP_READ`). Other filesystems map holes to the shared
/// zero page. Such files are read instead of mapped.
#[must_use]
pub fn mapping_may_fault(file: &File, meta: &std::fs::Metadata) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.blocks().saturating_mul(512) >= meta.len() {
            return false;
        }
        on_tmpfs(file)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (file, meta);
        false
    }
}

/// Whether `file` lives on tmpfs.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn on_tmpfs(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: `statfs` is plain old data, so all zeros is a valid value; fstatfs
    // writes at most one `statfs` through the pointer, which points at it, and
    // reads nothing else; the descriptor is open (borrowed from `file`).
    #[allow(unsafe_code)]
    let fs = unsafe {
        let mut fs: libc::statfs = std::mem::zeroed();
        (libc::fstatfs(file.as_raw_fd(), &raw mut fs) == 0).then_some(fs)
    };
    // f_type's integer type differs between C libraries; TMPFS_MAGIC fits all.
    #[allow(clippy::unnecessary_cast, clippy::cast_sign_loss)]
    fs.is_some_and(|fs| fs.f_type as u64 == libc::TMPFS_MAGIC as u64)
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

/// The files (device, inode) this process has read as inputs: an output that replaces
/// one of them is the only copy of what the command was given, and is synced before the
/// rename (see [`AtomicFile::commit`]).
static INPUTS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// Records a regular file this process reads as an input (every reader of inputs calls
/// this: [`read_input`] and the tree reader in `cli::input`).
pub fn note_input(meta: &std::fs::Metadata) {
    #[cfg(unix)]
    if meta.is_file() {
        use std::os::unix::fs::MetadataExt;
        let id = (meta.dev(), meta.ino());
        let mut inputs = INPUTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !inputs.contains(&id) {
            inputs.push(id);
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
}

/// Records standard input when it is a regular file (`ppcpv patch - -o board.dtb <
/// board.dtb` replaces its own input too).
pub fn note_stdin() {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(owned) = io::stdin().as_fd().try_clone_to_owned()
            && let Ok(meta) = File::from(owned).metadata()
        {
            note_input(&meta);
        }
    }
}

/// Whether `target` is a file this process read as an input. Where files have no
/// stable identity to compare (not Unix), every replaced file counts as one.
fn replaces_input(target: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(target) else {
            return false;
        };
        let inputs = INPUTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inputs.contains(&(meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        target.exists()
    }
}

/// Temporary files of this process that a signal must not leave behind.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs, once, a thread that removes [`PENDING`] temporary files when SIGINT,
/// SIGTERM or SIGHUP arrives and then lets the signal end the process as it would have
/// (so the exit status still says which signal). SIGKILL cannot be caught: its leftovers
/// carry this process's id in their name and the next run in that directory removes
/// them (see [`remove_stale`]).
fn watch_signals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return; // without the watcher a signal may leave a temporary file: no worse than before
        };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
                for p in pending.iter() {
                    let _ = std::fs::remove_file(p);
                }
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        });
    });
}

fn pending_add(p: &Path) {
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(p.to_path_buf());
}

fn pending_remove(p: &Path) {
    let mut v = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = v.iter().position(|x| x == p) {
        v.swap_remove(i);
    }
}

/// The marker in every temporary file name: `.TARGET.ppcpv-PID-N.tmp`.
const TMP_MARK: &str = ".ppcpv-";

/// Removes temporary files that an earlier ppcpv process, now gone, left beside
/// `target` (killed with SIGKILL, or by a power cut). Only names of the exact form
/// `.TARGET.ppcpv-PID-N.tmp` whose PID is no longer running are touched.
fn remove_stale(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}{TMP_MARK}");
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some((pid, n)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(pid), Ok(_)) = (pid.parse::<u32>(), n.parse::<u64>()) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether a process with this id exists. Where that cannot be told, it is assumed to
/// exist, so nothing is removed by mistake.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Follows a chain of symbolic links to the path that will be written, also when the
/// last link dangles (then the file it names is created). Relative link targets are
/// taken relative to the link's directory, as the kernel does.
fn resolve_links(path: &Path) -> Result<PathBuf, io::Error> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&cur)?;
                cur = match cur.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// A file being written atomically: bytes go to a temporary file beside the target,
/// which replaces the target only on [`AtomicFile::commit`]. Dropping it without
/// committing (or a SIGINT/SIGTERM/SIGHUP meanwhile) removes the temporary file and
/// leaves the target untouched.
///
/// The policy for every output file ppcpv writes:
/// * a symbolic link (even a dangling one) is followed: the file it names is written and
///   the link kept;
/// * an existing target that is read-only (no write bit in its mode) is refused, as
///   `magic set` refuses a read-only image: ppcpv never replaces a file its owner
///   protected, also when run as root;
/// * a replaced file keeps its mode and, where the process may set it, its owner and group;
///   a new file gets 0666 less the umask, as any other program's;
/// * errors name the path the user typed, never the temporary name.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: io::BufWriter<File>,
    tmp_path: PathBuf,
    target: PathBuf,
    shown: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Starts writing `target`.
    ///
    /// # Errors
    /// [`FileError::Io`] when the target is read-only or the temporary file cannot be
    /// created in the target's directory.
    pub fn create(target: &Path) -> Result<Self, FileError> {
        let shown = target.to_path_buf();
        let resolved = resolve_links(target).map_err(|e| io_err(&shown, e))?;
        let dir = match resolved.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Name the directory when it is missing, not a temporary path the user never saw.
        if !dir.is_dir() {
            return Err(io_err(
                &shown,
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("directory {} does not exist", dir.display()),
                ),
            ));
        }
        if let Ok(meta) = std::fs::metadata(&resolved)
            && meta.permissions().readonly()
        {
            return Err(io_err(
                &shown,
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "is read-only; ppcpv does not replace it (make it writable first)",
                ),
            ));
        }
        let name = resolved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale(&dir, &name);
        watch_signals();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        // A new output gets the mode any other program would give it (0666 less the
        // umask, applied by open(2)).
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o666);
        }
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp_path = dir.join(format!(".{name}{TMP_MARK}{pid}-{n}.tmp"));
            // Registered before it exists, so a signal in between cannot miss it.
            pending_add(&tmp_path);
            match opts.open(&tmp_path) {
                Ok(file) => {
                    return Ok(AtomicFile {
                        tmp: io::BufWriter::with_capacity(1 << 16, file),
                        tmp_path,
                        target: resolved,
                        shown,
                        committed: false,
                    });
                }
                Err(e) => {
                    pending_remove(&tmp_path);
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(io_err(&shown, e));
                    }
                }
            }
        }
    }

    /// Flushes the temporary file and renames it over the target. If the target
    /// existed, its permission bits (and, where allowed, owner and group) carry over.
    ///
    /// The rename makes the replacement atomic for every reader and against every
    /// failure of this process (an error, a signal, a full disk). Durability across a
    /// power loss is bought with `fsync(2)` only where losing the file loses data: when
    /// the target is one of the command's own inputs (`ppcpv patch board.dtb -o
    /// board.dtb`), whose old bytes exist nowhere else, the temporary file is synced
    /// before the rename. Any other output can be made again from its inputs, and is
    /// left to the kernel's writeback as dtc, fdtoverlay and cp leave theirs; syncing it
    /// cost more than the work itself (7 ms of `ppcpv overlay`'s 16 ms on the 100,000-node
    /// tree on ext4).
    ///
    /// # Errors
    /// [`FileError::Io`] when flushing, syncing or renaming fails; the target is then
    /// unchanged and the temporary file removed.
    pub fn commit(mut self) -> Result<(), FileError> {
        let shown = self.shown.clone();
        self.tmp.flush().map_err(|e| io_err(&shown, e))?;
        let file = self.tmp.get_ref();
        if replaces_input(&self.target) {
            file.sync_all().map_err(|e| io_err(&shown, e))?;
        }
        if let Ok(meta) = std::fs::metadata(&self.target) {
            // Keep the mode and owner of the file being replaced; failing that is not
            // fatal (an unprivileged user cannot give a file away).
            let _ = file.set_permissions(meta.permissions());
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
            }
        }
        std::fs::rename(&self.tmp_path, &self.target).map_err(|e| io_err(&shown, e))?;
        self.committed = true;
        pending_remove(&self.tmp_path);
        Ok(())
    }
}

impl AtomicFile {
    /// Reserves the disk blocks of an output of `len` bytes before it is written
    /// (`fallocate(2)` with `FALLOC_FL_KEEP_SIZE`: blocks, no size, no bytes).
    ///
    /// A disk too full for the output is then an error before anything is written. And
    /// the rename needs no block allocation: ext4 allocates the delayed blocks of a file
    /// renamed over another and starts their writeback inside `rename(2)`
    /// (`torvalds/linux: fs/ext4/namei.c (ext4_rename)` calls `ext4_alloc_da_blocks`),
    /// which cost 5 ms of a 13 ms `ppcpv overlay` of a 6.9 MB tree; with the blocks
    /// reserved it returns at once (`ext4_alloc_da_blocks` has nothing to allocate) and
    /// the data goes out with the kernel's ordinary writeback, as any other program's.
    /// Where the filesystem cannot preallocate, nothing happens; on tmpfs nothing is
    /// done either: there a reservation allocates the memory pages themselves
    /// (`mm/shmem.c (shmem_fallocate)`), and a rename has no blocks to allocate.
    ///
    /// # Errors
    /// [`FileError::Io`] when the filesystem has no room (or quota) for `len` bytes.
    pub fn preallocate(&mut self, len: u64) -> Result<(), FileError> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            let Ok(len) = libc::off_t::try_from(len) else {
                return Ok(());
            };
            if len == 0 || on_tmpfs(self.tmp.get_ref()) {
                return Ok(());
            }
            let fd = self.tmp.get_ref().as_raw_fd();
            // SAFETY: fallocate takes a file descriptor and integers, no pointers; the
            // descriptor is this value's open temporary file.
            #[allow(unsafe_code)]
            let r = unsafe { libc::fallocate(fd, libc::FALLOC_FL_KEEP_SIZE, 0, len) };
            if r != 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG)
                ) {
                    return Err(io_err(&self.shown, e));
                }
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = len;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp_path);
            pending_remove(&self.tmp_path);
        }
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

/// Writes the binary `bytes` to `path` atomically (see [`AtomicFile`]); `-` writes to
/// stdout unless it is a terminal.
///
/// # Errors
/// [`FileError::Io`] when the file cannot be written (the target is then unchanged),
/// [`FileError::Terminal`] for `-` on a terminal.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut out = Output::create_binary(path)?;
    out.preallocate(bytes.len() as u64)?;
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
    /// A regular file (new or existing) is replaced atomically under the policy of
    /// [`AtomicFile`] (links followed and kept, read-only files refused). An existing
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
            _ => AtomicFile::create(path).map(Output::File),
        }
    }

    /// Opens `path` for a binary output (a DTB, a patched image): as [`Output::create`],
    /// but standard output is refused while it is a terminal, as gzip refuses, because
    /// binary bytes on a terminal are garbage at best and control sequences at worst.
    ///
    /// # Errors
    /// As [`Output::create`], or [`FileError::Terminal`].
    pub fn create_binary(path: &Path) -> Result<Self, FileError> {
        if path.as_os_str() == STDIO && io::stdout().is_terminal() {
            return Err(FileError::Terminal);
        }
        Output::create(path)
    }

    /// Whether the bytes go to a terminal (stdout, or a device such as `/dev/tty`), where
    /// text from the input is shown escaped ([`ppcpv::text`]).
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        match self {
            Output::Stdout(_) => io::stdout().is_terminal(),
            Output::File(_) => false,
            Output::Special(_, w) => w.get_ref().is_terminal(),
        }
    }

    /// Reserves room for `len` bytes when the output is a file
    /// ([`AtomicFile::preallocate`]); nothing for stdout or a device.
    ///
    /// # Errors
    /// As [`AtomicFile::preallocate`].
    pub fn preallocate(&mut self, len: u64) -> Result<(), FileError> {
        match self {
            Output::File(f) => f.preallocate(len),
            Output::Stdout(_) | Output::Special(..) => Ok(()),
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

/// The one output rule of every command.
///
/// * Without `-o` a command writes standard output. The one exception is `gen`, whose
///   default `guest.dtb` is the README's first command.
/// * A binary output (a DTB, a patched image) to standard output is refused while that
///   is a terminal, as gzip refuses: a usage error (exit 2) that says how to redirect.
/// * Success is announced one way: one line `ppcpv: wrote FILE` on stderr when a file
///   was written, nothing when the output went to standard output (which is the data).
pub mod rule {
    use super::{FileError, Output, STDIO};
    use crate::cli::CliError;
    use std::io::IsTerminal;
    use std::path::{Path, PathBuf};

    /// The destination: `-o` when given, else standard output.
    #[must_use]
    pub fn dest(output: Option<&Path>) -> PathBuf {
        output.map_or_else(|| PathBuf::from(STDIO), Path::to_path_buf)
    }

    /// Whether `path` means standard output.
    #[must_use]
    pub fn is_stdout(path: &Path) -> bool {
        path.as_os_str() == STDIO
    }

    /// The usage error for binary output on a terminal.
    #[must_use]
    pub fn terminal_refusal() -> CliError {
        CliError::usage(
            "refusing to write binary data to a terminal; redirect standard output \
             (ppcpv ... > FILE) or name a file with -o FILE",
        )
    }

    /// Refuses, before any work is done, a binary output to standard output while it
    /// is a terminal.
    ///
    /// # Errors
    /// [`CliError::Usage`] (exit 2) in that case.
    pub fn check_binary(path: &Path) -> Result<(), CliError> {
        if is_stdout(path) && std::io::stdout().is_terminal() {
            return Err(terminal_refusal());
        }
        Ok(())
    }

    /// Opens a binary output under the rule ([`check_binary`], then
    /// [`Output::create_binary`]).
    ///
    /// # Errors
    /// A usage error for a terminal, else the file error.
    pub fn open_binary(path: &Path) -> Result<Output, CliError> {
        check_binary(path)?;
        Output::create_binary(path).map_err(|e| match e {
            FileError::Terminal => terminal_refusal(),
            other => other.into(),
        })
    }

    /// Writes a whole binary blob under the rule and announces it, with `detail` on the
    /// success line ([`announce`]).
    ///
    /// # Errors
    /// A usage error for a terminal; file errors (the target then unchanged).
    pub fn write_blob(path: &Path, bytes: &[u8], detail: Option<&str>) -> Result<(), CliError> {
        check_binary(path)?;
        super::write_atomic(path, bytes).map_err(|e| match e {
            FileError::Terminal => terminal_refusal(),
            other => other.into(),
        })?;
        announce(path, detail);
        Ok(())
    }

    /// The one success line: `ppcpv: wrote FILE` (and `: DETAIL`) on stderr for a file;
    /// for standard output only the detail, when there is one, as `ppcpv: DETAIL`.
    pub fn announce(path: &Path, detail: Option<&str>) {
        match (is_stdout(path), detail) {
            (true, None) => {}
            (true, Some(d)) => eprintln!("ppcpv: {d}"),
            (false, None) => eprintln!("ppcpv: wrote {}", path.display()),
            (false, Some(d)) => eprintln!("ppcpv: wrote {}: {d}", path.display()),
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
    fn dangling_links_are_kept_and_their_target_created() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.dtb");
        std::os::unix::fs::symlink("sub/../made.dtb", &link).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(dir.path().join("made.dtb")).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn read_only_targets_are_refused_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ro.dtb");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_atomic(&target, b"new").unwrap_err().to_string();
        assert!(e.contains("ro.dtb: is read-only"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn temporary_names_say_whose_they_are_and_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.dtb");
        // A leftover of a process that no longer exists (pid 0 is never a process
        // that /proc lists), one of a live process (ours, when not this writer), and an
        // unrelated dot file.
        let stale = dir.path().join(".out.dtb.ppcpv-0-7.tmp");
        let other = dir.path().join(".out.dtb.keep");
        std::fs::write(&stale, b"x").unwrap();
        std::fs::write(&other, b"x").unwrap();
        let f = AtomicFile::create(&target).unwrap();
        let name = f
            .tmp_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id();
        assert!(
            name.starts_with(&format!(".out.dtb.ppcpv-{pid}-")),
            "{name}"
        );
        assert!(
            !stale.exists() || !cfg!(target_os = "linux"),
            "stale temp kept"
        );
        assert!(other.exists());
        drop(f);
        assert!(!dir.path().join(&name).exists());
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

    #[cfg(unix)]
    #[test]
    fn only_a_replaced_input_counts_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.dtb");
        let other = dir.path().join("other.dtb");
        std::fs::write(&input, b"in").unwrap();
        std::fs::write(&other, b"other").unwrap();
        let _ = read_input(&input, 16).unwrap();
        assert!(replaces_input(&input));
        // Another name of the same file is the same input.
        assert!(replaces_input(&dir.path().join(".").join("in.dtb")));
        assert!(!replaces_input(&other));
        assert!(!replaces_input(&dir.path().join("new.dtb")));
        // Replacing the input still works, and the new file is no input of this process.
        write_atomic(&input, b"new").unwrap();
        assert_eq!(std::fs::read(&input).unwrap(), b"new");
        assert!(!replaces_input(&input));
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
