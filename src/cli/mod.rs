//! The command line: argument parsing and dispatch only. Every subcommand lives in its
//! own file and calls the library; nothing here computes what the library could.

use clap::{Parser, Subcommand, ValueEnum};
use std::fmt;

pub mod compile;
pub mod completions;
pub mod diff;
pub mod fileio;
pub mod generate;
pub mod hcall;
pub mod hypervisor;
pub mod input;
pub mod insn;
pub mod magic;
pub mod num;
pub mod overlay;
pub mod paravirt;
pub mod read;
pub mod treeopts;

/// ppcpv: PowerPC paravirtualization under KVM and ePAPR hypervisors.
///
/// Generates guest device trees with a KVM-ready /hypervisor node, inspects and dumps
/// existing DTBs, and models the hypercall ABI and the shared magic page.
#[derive(Debug, Parser)]
#[command(
    name = "ppcpv",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = CONVENTIONS
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// What every command shares, printed under `ppcpv --help`.
const CONVENTIONS: &str = "\
Conventions:
  Numbers   decimal or 0x/0X hex, with _ only between digits (4096, 0x1000, 0x002a_0003,
            1_000); nothing else: no blanks (' 12' is refused), no sign, octal or exponent.
            Sizes add K, M, G or T (powers of two: 512M, 0x10M).
  Files     '-' is standard input or output. Without -o a command writes standard output
            (gen: guest.dtb); binary output is refused on a terminal. A written file is
            replaced atomically and named on stderr: 'ppcpv: wrote FILE'.
  Exit      0 done, 1 failed (bad input, I/O, a failed check), 2 usage error.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a complete guest DTB for the host that runs it (default: ppce500, 128 MiB, 1 CPU, QEMU without KVM -> guest.dtb).
    Gen(generate::GenArgs),
    /// Add, change or remove the /hypervisor node of an existing DTB.
    Patch(generate::PatchArgs),
    /// Summarise a DTB: header, memory, CPUs and the /hypervisor verdict.
    Inspect(read::InspectArgs),
    /// Print a DTB as DTS text, exactly as `dtc -I dtb -O dts` does.
    Dump(read::DumpArgs),
    /// Read one property, or list a node, like fdtget.
    Get(read::GetArgs),
    /// Compile DTS source to a DTB, exactly as `dtc -I dts -O dtb` does.
    Compile(compile::CompileArgs),
    /// Write a minimal DTB (or DTS) holding just the root and a /hypervisor node.
    Hypervisor(hypervisor::HypervisorArgs),
    /// Apply overlays (.dtbo) to a base tree, with the bytes fdtoverlay writes.
    Overlay(overlay::OverlayArgs),
    /// Compare two trees node by node (exit 0 equal, 1 different, 2 trouble).
    Diff(diff::DiffArgs),
    /// The hypercall ABI: registry, tokens, calling conventions, features, the host responder.
    #[command(subcommand)]
    Hcall(hcall::HcallCommand),
    /// Assemble and disassemble PowerPC hypercall and patching instructions.
    #[command(subcommand)]
    Insn(insn::InsnCommand),
    /// The shared magic page: layout, and viewing or editing it inside a guest RAM image.
    #[command(subcommand)]
    Magic(magic::MagicCommand),
    /// What a Linux guest rewrites onto the magic page: scan or patch a code image.
    #[command(subcommand)]
    Paravirt(paravirt::ParavirtCommand),
    /// Print a shell completion script (bash, zsh or fish).
    Completions(completions::CompletionsArgs),
}

/// Runs one parsed command line.
///
/// # Errors
/// [`CliError::Usage`] for requests that cannot be satisfied as asked (exit 2),
/// [`CliError::Failed`] when the work itself failed (exit 1).
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Gen(a) => generate::run_gen(a),
        Command::Patch(a) => generate::run_patch(a),
        Command::Inspect(a) => read::run_inspect(a),
        Command::Dump(a) => read::run_dump(a),
        Command::Get(a) => read::run_get(a),
        Command::Compile(a) => compile::run(a),
        Command::Hypervisor(a) => hypervisor::run(a),
        Command::Overlay(a) => overlay::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Hcall(c) => hcall::run(c),
        Command::Insn(c) => insn::run(c),
        Command::Magic(c) => magic::run(c),
        Command::Paravirt(c) => paravirt::run(c),
        Command::Completions(a) => completions::run(a),
    }
}

/// Why a command failed, and so which exit code it ends with.
#[derive(Debug)]
pub enum CliError {
    /// The arguments ask for something impossible: exit code 2.
    Usage(String),
    /// The work failed (bad input file, I/O error, a failed check): exit code 1.
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Nothing to print, but exit 1 (for example `inspect --check` with an error finding,
    /// after the report was printed).
    Silent,
}

impl CliError {
    /// A usage error with the given message.
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    /// A failure with the given message.
    pub fn failed(msg: impl Into<String>) -> Self {
        CliError::Failed(msg.into().into())
    }

    /// The process exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Silent => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => f.write_str(m),
            CliError::Failed(e) => {
                // Print the chain, skipping a cause whose text the message already
                // carries (many errors say "{path}: {source}" and also expose the source).
                let mut text = e.to_string();
                let mut src = e.source();
                while let Some(s) = src {
                    let cause = s.to_string();
                    if !text.contains(&cause) {
                        text.push_str(": ");
                        text.push_str(&cause);
                    }
                    src = s.source();
                }
                f.write_str(&text)
            }
            CliError::Silent => Ok(()),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Failed(Box::new(e))
    }
}

/// `--endian big|little`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum EndianArg {
    /// Big-endian (the PowerPC default).
    #[default]
    Big,
    /// Little-endian (Book3S-64 LE guests).
    Little,
}

impl From<EndianArg> for ppcpv::Endian {
    fn from(e: EndianArg) -> Self {
        match e {
            EndianArg::Big => ppcpv::Endian::Big,
            EndianArg::Little => ppcpv::Endian::Little,
        }
    }
}

/// `--bits 32|64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum BitsArg {
    /// A 32-bit guest (MSR[SF] = 0).
    #[value(name = "32")]
    B32,
    /// A 64-bit guest (MSR[SF] = 1).
    #[default]
    #[value(name = "64")]
    B64,
}

impl BitsArg {
    /// 32 or 64.
    #[must_use]
    pub fn bits(self) -> u32 {
        match self {
            BitsArg::B32 => 32,
            BitsArg::B64 => 64,
        }
    }
}

/// clap value parser: decimal or 0x hex into a `u64`.
pub fn parse_u64(s: &str) -> Result<u64, String> {
    ppcpv::num::parse_u64(s).map_err(|e| e.to_string())
}

/// clap value parser: decimal or 0x hex into a `u32`.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    ppcpv::num::parse_u32(s).map_err(|e| e.to_string())
}

/// clap value parser: a size with an optional K/M/G suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::cli::num::parse_size(s).map_err(|e| e.to_string())
}

/// Refuses `-o` naming the input file, for commands whose output is not a new version of
/// their input (DTS text from a DTB, a patched copy): the input must survive.
///
/// # Errors
/// [`CliError::Usage`] when `output` is the same file as `input`.
pub fn refuse_output_over_input(
    input: &std::path::Path,
    output: &std::path::Path,
) -> Result<(), CliError> {
    if crate::cli::fileio::same_file(input, output) {
        return Err(CliError::usage(format!(
            "-o {} is the input file; write the output to another file (the input is left unchanged)",
            output.display()
        )));
    }
    Ok(())
}

/// Prints `value` as pretty JSON followed by a newline on stdout.
///
/// # Errors
/// An I/O error writing stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Through io::Error, so a closed pipe (`| head`) is recognised as one by main.
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
