//! `ppcpv inspect`, `ppcpv dump` and `ppcpv get` (being built).

use super::CliError;
use clap::Args;

/// Arguments of `ppcpv inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {}

/// Arguments of `ppcpv dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {}

/// Arguments of `ppcpv get`.
#[derive(Debug, Args)]
pub struct GetArgs {}

/// Runs `ppcpv inspect`.
pub fn run_inspect(_a: InspectArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv inspect is not built yet"))
}

/// Runs `ppcpv dump`.
pub fn run_dump(_a: DumpArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv dump is not built yet"))
}

/// Runs `ppcpv get`.
pub fn run_get(_a: GetArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv get is not built yet"))
}
