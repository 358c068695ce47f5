//! Opening a DTB: regular files are memory-mapped through [`crate::cli::fileio::read_input`]
//! (only the pages touched are read); standard input (`-`) and other streams (FIFOs,
//! character devices) are read as far as the header's `totalsize` says and no further,
//! so a stream of garbage cannot make ppcpv buffer more than [`STREAM_LIMIT`] bytes, and
//! a real blob costs exactly its size.

use crate::cli::fileio::{self, FileError, Input};
use std::io::{self, Read};
use std::path::Path;

/// The most bytes read from a stream: `totalsize` is a `u32`, so no DTB is larger.
pub const STREAM_LIMIT: u64 = u32::MAX as u64;

/// Opens the DTB at `path` (`-` for standard input).
///
/// # Errors
/// [`FileError`] when the file cannot be opened, mapped or read.
pub fn read_dtb(path: &Path) -> Result<Input, FileError> {
    let io_err = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.as_os_str() == fileio::STDIO {
        return read_dtb_stream(io::stdin().lock()).map_err(io_err);
    }
    // A stream named by path (a FIFO, `<(cmd)`, /dev/zero) is read like stdin: only as
    // far as totalsize. Buffering it whole before looking at the magic made
    // `ppcpv inspect /dev/zero` hold 4 GiB before failing.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            let file = std::fs::File::open(path).map_err(io_err)?;
            read_dtb_stream(file).map_err(io_err)
        }
        // A sparse file on tmpfs is read, not mapped (see fileio::mapping_may_fault),
        // and then only as far as totalsize, like a stream.
        Ok(m) if m.is_file() => {
            let file = std::fs::File::open(path).map_err(io_err)?;
            let meta = file.metadata().map_err(io_err)?;
            if fileio::mapping_may_fault(&file, &meta) {
                return read_dtb_stream(file).map_err(io_err);
            }
            fileio::read_input(path, STREAM_LIMIT)
        }
        _ => fileio::read_input(path, STREAM_LIMIT),
    }
}

/// Reads one blob from a stream: the first 8 bytes (magic and `totalsize`), then up to
/// `totalsize` bytes in all. A stream that does not start with the magic is returned
/// as read so far, for the parser to name the problem.
///
/// # Errors
/// I/O errors from the stream.
pub fn read_dtb_stream<R: Read>(reader: R) -> io::Result<Input> {
    let mut buf = Vec::new();
    let mut reader = reader;
    (&mut reader).take(8).read_to_end(&mut buf)?;
    let total = match buf.get(..8) {
        Some(h) if h[..4] == ppcpv::fdt::FDT_MAGIC.to_be_bytes() => {
            u64::from(u32::from_be_bytes([h[4], h[5], h[6], h[7]]))
        }
        _ => return Ok(Input::Owned(buf)),
    };
    // Grows only as bytes actually arrive; never more than totalsize.
    reader
        .take(total.saturating_sub(8).min(STREAM_LIMIT))
        .read_to_end(&mut buf)?;
    Ok(Input::Owned(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_stops_at_totalsize() {
        let mut blob = ppcpv::fdt::FDT_MAGIC.to_be_bytes().to_vec();
        blob.extend_from_slice(&12u32.to_be_bytes());
        blob.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let got = read_dtb_stream(&blob[..]).unwrap();
        assert_eq!(got.len(), 12);
        let junk = [0u8; 100];
        assert_eq!(read_dtb_stream(&junk[..]).unwrap().len(), 8);
        assert_eq!(read_dtb_stream(&[][..]).unwrap().len(), 0);
    }
}
