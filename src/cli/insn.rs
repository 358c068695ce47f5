//! `ppcpv insn` (being built).

use super::CliError;
use clap::Subcommand;

/// Subcommands of `ppcpv insn`.
#[derive(Debug, Subcommand)]
pub enum InsnCommand {
    /// Placeholder while the subcommand is built.
    Pending,
}

/// Runs `ppcpv insn`.
pub fn run(_c: InsnCommand) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv insn is not built yet"))
}
