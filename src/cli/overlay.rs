//! `ppcpv overlay`: apply overlays to a base tree as `fdtoverlay` does. Argument
//! parsing and file handling only; the work is `ppcpv::fdt::overlay`.

use super::CliError;
use crate::cli::fileio::{FileError, Input, Output, rule};
use crate::cli::input::read_dtb;
use clap::Args;
use ppcpv::fdt::overlay::{self, OverlayError};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `ppcpv overlay`.
#[derive(Debug, Args)]
#[command(after_help = "\
The result has the bytes `fdtoverlay -i BASE -o OUT OVERLAY...` (dtc 1.6.1) writes. When an \
overlay does not fit the tree, the error names the overlay, fragment, target, label or fix-up \
and why; nothing is written and the exit code is 1.

Examples:
  ppcpv overlay board.dtb hypervisor.dtbo -o guest.dtb
  ppcpv hypervisor --format dtbo -o - | ppcpv overlay board.dtb - -o guest.dtb
  ppcpv overlay base.dtb a.dtbo b.dtbo -o -")]
pub struct OverlayArgs {
    /// The base tree (`-` for standard input).
    pub base: PathBuf,
    /// The overlays, applied in order (one of them may be `-`).
    #[arg(required = true, value_name = "OVERLAY")]
    pub overlays: Vec<PathBuf>,
    /// Where to write the result (may be BASE itself, replaced atomically). Default:
    /// standard output, refused on a terminal.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `ppcpv overlay`.
///
/// # Errors
/// Exit 2 when standard input is named twice; exit 1 for unreadable files and
/// overlays that do not apply (the output is then not touched).
pub fn run(a: OverlayArgs) -> Result<(), CliError> {
    let output = rule::dest(a.output.as_deref());
    rule::check_binary(&output)?;
    let stdin = std::iter::once(&a.base)
        .chain(&a.overlays)
        .filter(|p| p.as_os_str() == crate::cli::fileio::STDIO)
        .count();
    if stdin > 1 {
        return Err(CliError::usage(
            "standard input (`-`) can be only one of BASE and the overlays",
        ));
    }
    let base = read_dtb(&a.base)?;
    let overlays = a
        .overlays
        .iter()
        .map(|p| read_dtb(p))
        .collect::<Result<Vec<Input>, crate::cli::input::TreeInputError>>()?;
    let views: Vec<&[u8]> = overlays.iter().map(|o| &o[..]).collect();
    let out = overlay::apply_all(&base, &views).map_err(|e| named(&e, &a))?;
    // Written run by run: the bulk of a large base goes from its mapping straight to
    // the output, never copied into a buffer of its own.
    let shown = output.display().to_string();
    let io = |source| FileError::Io {
        path: shown.clone(),
        source,
    };
    let mut w = Output::create_binary(&output)?;
    w.preallocate(out.chunks().map(|c| c.len() as u64).sum())?;
    for chunk in out.chunks() {
        w.write_all(chunk).map_err(io)?;
    }
    w.finish()?;
    rule::announce(&output, None);
    Ok(())
}

/// The error with its leading "overlay N" or "base tree" replaced by the file the user
/// named.
fn named(e: &OverlayError, a: &OverlayArgs) -> CliError {
    let text = e.to_string();
    if let OverlayError::Base(_) = e {
        return CliError::failed(format!("{}: {text}", a.base.display()));
    }
    if let Some(rest) = text.strip_prefix("base tree ") {
        return CliError::failed(format!("{} {rest}", a.base.display()));
    }
    for (i, p) in a.overlays.iter().enumerate() {
        for sep in [": ", " "] {
            if let Some(rest) = text.strip_prefix(&format!("overlay {i}{sep}")) {
                return CliError::failed(format!("{}{sep}{rest}", p.display()));
            }
        }
    }
    CliError::failed(text)
}
