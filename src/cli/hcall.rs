//! `ppcpv hcall` (being built).

use super::CliError;
use clap::Subcommand;

/// Subcommands of `ppcpv hcall`.
#[derive(Debug, Subcommand)]
pub enum HcallCommand {
    /// Placeholder while the subcommand is built.
    Pending,
}

/// Runs `ppcpv hcall`.
pub fn run(_c: HcallCommand) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv hcall is not built yet"))
}
