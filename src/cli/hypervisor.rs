//! `ppcpv hypervisor` (being built).

use super::CliError;
use clap::Args;

/// Arguments of `ppcpv hypervisor`.
#[derive(Debug, Args)]
pub struct HypervisorArgs {}

/// Runs `ppcpv hypervisor`.
pub fn run(_a: HypervisorArgs) -> Result<(), CliError> {
    Err(CliError::failed("ppcpv hypervisor is not built yet"))
}
