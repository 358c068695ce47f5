//! `ppcpv gen` and `ppcpv patch` (being built).

use super::CliError;
use clap::Args;

/// Arguments of `ppcpv gen`.
#[derive(Debug, Args)]
pub struct GenArgs {}

/// Arguments of `ppcpv patch`.
#[derive(Debug, Args)]
pub struct PatchArgs {}

/// Runs `ppcpv gen`.
pub fn run_gen(_a: GenArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv gen is not built yet"))
}

/// Runs `ppcpv patch`.
pub fn run_patch(_a: PatchArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv patch is not built yet"))
}
