//! `ppcpv completions bash|zsh|fish`.

use super::{Cli, CliError};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

/// Arguments of `ppcpv completions`.
#[derive(Debug, Args)]
#[command(after_help = "Example: ppcpv completions bash > /etc/bash_completion.d/ppcpv")]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

/// Prints the completion script on stdout.
pub fn run(a: CompletionsArgs) -> Result<(), CliError> {
    let shell = match a.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    let mut cmd = Cli::command();
    // clap_complete panics when its writer fails (a closed pipe), so render into memory
    // and write it ourselves: `ppcpv completions bash | head` must not panic.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ppcpv", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}
