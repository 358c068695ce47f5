//! `ppcpv magic` (being built).

use super::CliError;
use clap::Subcommand;

/// Subcommands of `ppcpv magic`.
#[derive(Debug, Subcommand)]
pub enum MagicCommand {
    /// Placeholder while the subcommand is built.
    Pending,
}

/// Runs `ppcpv magic`.
pub fn run(_c: MagicCommand) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv magic is not built yet"))
}
