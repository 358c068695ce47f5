//! Opening a tree: a DTB, or DTS source told apart by content and compiled in memory.
//!
//! Regular files are memory-mapped through [`crate::cli::fileio::read_input`] (only the
//! pages touched are read); standard input (`-`), other streams (FIFOs, character
//! devices) and sparse files on tmpfs ([`crate::cli::fileio::mapping_may_fault`]) are
//! read as far as the header's `totalsize` says and no further, so a
//! stream of garbage cannot make ppcpv buffer more than [`STREAM_LIMIT`] bytes, and a
//! real blob costs exactly its size.
//!
//! Text that begins (after whitespace, comments and cpp line markers) with
//! `/dts-v1/` is DTS source ([`ppcpv::fdt::compile::dts_start`]): it is compiled as
//! `dtc -I dts -O dtb` would with its defaults, and the command reads the blob.
//! Anything else is a blob, so an empty or corrupt blob keeps its blob error. A
//! stream is read only while its first bytes could still start DTS, and source from a
//! stream at most [`SOURCE_LIMIT`] bytes.

use crate::cli::fileio::{self, FileError, Input};
use ppcpv::fdt::compile::{CompileError, CompileOptions, StdFiles, compile, dts_start};
use std::io::{self, Read};
use std::path::Path;

/// The most bytes read from a stream: `totalsize` is a `u32`, so no DTB is larger.
pub const STREAM_LIMIT: u64 = u32::MAX as u64;

/// The most bytes of DTS source read from a stream (files are mapped and have no
/// limit); the same as `ppcpv compile -`.
pub const SOURCE_LIMIT: u64 = 1 << 30;

/// Why a tree could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TreeInputError {
    /// Opening or reading failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The input is DTS source that does not compile; the message starts with
    /// `FILE:LINE:COL`.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// An opened tree.
#[derive(Debug)]
pub struct TreeInput {
    /// The blob: the bytes as read, or the compiled source.
    pub blob: Input,
    /// True when the input was DTS source.
    pub from_source: bool,
}

/// Opens the tree at `path` (`-` for standard input): the blob, or DTS source
/// compiled into one.
///
/// # Errors
/// [`TreeInputError::File`] when the file cannot be opened, mapped or read;
/// [`TreeInputError::Compile`] for source that does not compile.
pub fn read_dtb(path: &Path) -> Result<Input, TreeInputError> {
    read_tree(path).map(|t| t.blob)
}

/// [`read_dtb`], also saying whether the input was source.
///
/// # Errors
/// As [`read_dtb`].
pub fn read_tree(path: &Path) -> Result<TreeInput, TreeInputError> {
    let io_err = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let is_stdin = path.as_os_str() == fileio::STDIO;
    let raw = if is_stdin {
        fileio::note_stdin();
        read_dtb_stream(io::stdin().lock()).map_err(io_err)?
    } else {
        // A stream named by path (a FIFO, `<(cmd)`, /dev/zero) is read like stdin:
        // only as far as totalsize. Buffering it whole before looking at the magic
        // made `ppcpv inspect /dev/zero` hold 4 GiB before failing.
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                let file = std::fs::File::open(path).map_err(io_err)?;
                read_dtb_stream(file).map_err(io_err)?
            }
            // A sparse file on tmpfs is read, not mapped (see fileio::mapping_may_fault),
            // and then only as far as totalsize, like a stream.
            Ok(m) if m.is_file() => {
                let file = std::fs::File::open(path).map_err(io_err)?;
                let meta = file.metadata().map_err(io_err)?;
                fileio::note_input(&meta);
                if fileio::mapping_may_fault(&file, &meta) {
                    read_dtb_stream(file).map_err(io_err)?
                } else {
                    Streamed::Blob(fileio::read_input(path, STREAM_LIMIT)?)
                }
            }
            _ => Streamed::Blob(fileio::read_input(path, STREAM_LIMIT)?),
        }
    };
    let raw = match raw {
        Streamed::Blob(input) => {
            if dts_start(&input) != Some(true) {
                return Ok(TreeInput {
                    blob: input,
                    from_source: false,
                });
            }
            input
        }
        Streamed::Source(text) => Input::Owned(text),
        Streamed::SourceTooLarge => {
            return Err(FileError::TooLarge {
                path: path.display().to_string(),
                limit: SOURCE_LIMIT,
            }
            .into());
        }
    };
    let name = if is_stdin {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let blob = compile(&raw, &name, &CompileOptions::new(), &mut StdFiles)?;
    Ok(TreeInput {
        blob: Input::Owned(blob),
        from_source: true,
    })
}

/// What a stream held.
#[derive(Debug)]
pub enum Streamed {
    /// A blob (read up to its `totalsize`), or bytes that are neither blob nor
    /// source, as far as they were read, for the parser to name the problem.
    Blob(Input),
    /// DTS source, read whole.
    Source(Vec<u8>),
    /// DTS source longer than [`SOURCE_LIMIT`].
    SourceTooLarge,
}

/// Reads one blob, or DTS source, from a stream. A blob: the first 8 bytes (magic and
/// `totalsize`), then up to `totalsize` bytes in all. Otherwise the stream is read on
/// only while its start could still be DTS source ([`dts_start`] undecided), and,
/// once it is source, to its end (at most [`SOURCE_LIMIT`] bytes).
///
/// # Errors
/// I/O errors from the stream.
pub fn read_dtb_stream<R: Read>(reader: R) -> io::Result<Streamed> {
    let mut buf = Vec::new();
    let mut reader = reader;
    (&mut reader).take(8).read_to_end(&mut buf)?;
    if let Some(h) = buf.get(..8)
        && h[..4] == ppcpv::fdt::FDT_MAGIC.to_be_bytes()
    {
        let total = u64::from(u32::from_be_bytes([h[4], h[5], h[6], h[7]]));
        // Grows only as bytes actually arrive; never more than totalsize.
        reader
            .take(total.saturating_sub(8).min(STREAM_LIMIT))
            .read_to_end(&mut buf)?;
        return Ok(Streamed::Blob(Input::Owned(buf)));
    }
    // Whitespace and comments before `/dts-v1/`: read on while the answer is open
    // (bounded like the source itself). Each step reads as much as is already held, so
    // the rescans of the growing prefix stay linear in its length in all.
    loop {
        match dts_start(&buf) {
            Some(false) => return Ok(Streamed::Blob(Input::Owned(buf))),
            Some(true) => break,
            None => {
                let before = buf.len();
                let room = (SOURCE_LIMIT + 1).saturating_sub(before as u64);
                let step = (before as u64).max(4096).min(room);
                (&mut reader).take(step).read_to_end(&mut buf)?;
                if buf.len() == before {
                    // End of stream, still undecided: not source.
                    return Ok(Streamed::Blob(Input::Owned(buf)));
                }
                if buf.len() as u64 > SOURCE_LIMIT {
                    return Ok(Streamed::SourceTooLarge);
                }
            }
        }
    }
    let limit = SOURCE_LIMIT.saturating_sub(buf.len() as u64);
    let n = reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if n as u64 > limit {
        return Ok(Streamed::SourceTooLarge);
    }
    Ok(Streamed::Source(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(s: Streamed) -> usize {
        match s {
            Streamed::Blob(i) => i.len(),
            other => panic!("not a blob: {other:?}"),
        }
    }

    #[test]
    fn stream_stops_at_totalsize() {
        let mut blob = ppcpv::fdt::FDT_MAGIC.to_be_bytes().to_vec();
        blob.extend_from_slice(&12u32.to_be_bytes());
        blob.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(len(read_dtb_stream(&blob[..]).unwrap()), 12);
        let junk = [0u8; 100];
        assert_eq!(len(read_dtb_stream(&junk[..]).unwrap()), 8);
        assert_eq!(len(read_dtb_stream(&[][..]).unwrap()), 0);
    }

    #[test]
    fn stream_source_is_read_whole_and_junk_is_not() {
        let src = b"  // board\n/* c */ /dts-v1/;\n/ { };\n";
        match read_dtb_stream(&src[..]).unwrap() {
            Streamed::Source(t) => assert_eq!(t, src),
            other => panic!("{other:?}"),
        }
        // Text that is not source stops at the first token.
        let text = vec![b'x'; 100_000];
        assert_eq!(len(read_dtb_stream(&text[..]).unwrap()), 8);
        // Whitespace only: read to its end, then a blob (for the blob error).
        let ws = vec![b' '; 10_000];
        assert_eq!(len(read_dtb_stream(&ws[..]).unwrap()), 10_000);
    }
}
