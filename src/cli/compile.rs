//! `ppcpv compile`: DTS source to a DTB, byte-identical to `dtc -I dts -O dtb`.
//! Argument parsing and file handling only; the compiler is `ppcpv::fdt::compile`.

use super::CliError;
use crate::cli::fileio::{STDIO, read_input, rule};
use clap::{Args, ValueEnum};
use ppcpv::fdt::compile::{CompileOptions, StdFiles, compile};
use ppcpv::fdt::writer::{Padding, PhandleStyle};
use std::path::PathBuf;

/// Largest source read from a pipe (files are mapped and have no limit).
const STREAM_LIMIT: u64 = 1 << 30;

/// `-H`, dtc's phandle property styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PhandleArg {
    /// `phandle` only (dtc's default).
    #[default]
    Epapr,
    /// `linux,phandle` only (old PowerPC firmware and kernels).
    Legacy,
    /// `linux,phandle` and `phandle`.
    Both,
}

/// Arguments of `ppcpv compile`.
#[derive(Debug, Args)]
#[command(
    after_help = "The source is the language dtc 1.6.1 accepts (run cpp first for #include and \
macros; its line markers are honoured in messages). The blob is the one `dtc -I dts -O dtb` \
writes with the same options.\n\nExamples:\n  ppcpv compile board.dts -o board.dtb\n  \
ppcpv compile -i include/ -@ board.dts -o board.dtb\n  cpp -nostdinc -undef -x assembler-with-cpp \
board.dts | ppcpv compile - -o board.dtb\n  ppcpv compile overlay.dts --pad 1024 -o overlay.dtbo\n  ppcpv compile -R 4 --out-version 16 board.dts -o board.dtb"
)]
pub struct CompileArgs {
    /// The DTS source (`-` for standard input).
    pub file: PathBuf,
    /// Where to write the DTB (`-` = standard output, refused on a terminal).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// A directory searched for `/include/` and `/incbin/` files, after the including
    /// file's own directory (dtc -i); repeatable.
    #[arg(short = 'i', long = "include", value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Write a __symbols__ node and give every labelled node a phandle (dtc -@).
    #[arg(short = '@', long)]
    pub symbols: bool,
    /// Add N zero bytes of free space after the blob (dtc -p).
    #[arg(short = 'p', long, value_name = "N", value_parser = super::parse_u32, conflicts_with = "space")]
    pub pad: Option<u32>,
    /// Make the blob at least N bytes (dtc -S).
    #[arg(short = 'S', long, value_name = "N", value_parser = super::parse_u32)]
    pub space: Option<u32>,
    /// Round the blob size up to a multiple of N, a power of two (dtc -a).
    #[arg(short = 'a', long, value_name = "N", value_parser = super::parse_u32)]
    pub align: Option<u32>,
    /// The header's boot CPU (dtc -b); default: `reg` of the first /cpus child.
    #[arg(short = 'b', long, value_name = "ID", value_parser = super::parse_u32)]
    pub boot_cpu: Option<u32>,
    /// Which phandle properties new phandles get (dtc -H).
    #[arg(short = 'H', long, value_enum, default_value_t = PhandleArg::Epapr)]
    pub phandle: PhandleArg,
    /// Add N empty entries to the memory reservation map, for a boot loader to fill
    /// in place (dtc -R).
    #[arg(short = 'R', long, value_name = "N", value_parser = super::parse_u32)]
    pub reserve: Option<u32>,
    /// The blob format version: 17 (the default), 16, or the old 1, 2, 3 with full
    /// paths as node names and a name property in every node (dtc -V).
    #[arg(long, value_name = "V", value_parser = parse_version, default_value = "17")]
    pub out_version: u32,
}

/// The versions `dtc -V` writes (`dgibson/dtc: flattree.c`, `version_table`).
fn parse_version(s: &str) -> Result<u32, String> {
    match s {
        "1" | "2" | "3" | "16" | "17" => s.parse().map_err(|_| String::new()),
        _ => Err("dtc writes versions 1, 2, 3, 16 and 17".to_owned()),
    }
}

/// Runs `ppcpv compile`.
///
/// # Errors
/// Usage errors (a bad alignment) exit 2; unreadable input and compile errors
/// (`FILE:LINE:COL: what`) exit 1.
pub fn run(a: CompileArgs) -> Result<(), CliError> {
    if let Some(al) = a.align
        && (al == 0 || !al.is_power_of_two())
    {
        return Err(CliError::usage(format!(
            "--align {al}: the alignment must be a power of two"
        )));
    }
    let input = read_input(&a.file, STREAM_LIMIT)?;
    let name = if a.file.as_os_str() == STDIO {
        "<stdin>".to_owned()
    } else {
        a.file.display().to_string()
    };
    let mut opts = CompileOptions::new()
        .symbols(a.symbols)
        .padding(Padding {
            pad: a.pad,
            space: a.space,
            align: a.align,
        })
        .phandle_style(match a.phandle {
            PhandleArg::Epapr => PhandleStyle::Epapr,
            PhandleArg::Legacy => PhandleStyle::Legacy,
            PhandleArg::Both => PhandleStyle::Both,
        })
        .empty_reserves(a.reserve.unwrap_or(0))
        .version(a.out_version);
    for d in &a.include {
        opts = opts.include_dir(d.display().to_string());
    }
    if let Some(b) = a.boot_cpu {
        opts = opts.boot_cpuid_phys(b);
    }
    let blob = compile(&input, &name, &opts, &mut StdFiles)?;
    rule::write_blob(&a.output, &blob, None)
}
