//! `ppcpv paravirt` (being built).

use super::CliError;
use clap::Subcommand;

/// Subcommands of `ppcpv paravirt`.
#[derive(Debug, Subcommand)]
pub enum ParavirtCommand {
    /// Placeholder while the subcommand is built.
    Pending,
}

/// Runs `ppcpv paravirt`.
pub fn run(_c: ParavirtCommand) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv paravirt is not built yet"))
}
