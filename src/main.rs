//! The `ppcpv` command: parses arguments and hands them to the library through
//! [`cli::run`]. Exit codes: 0 ok, 1 failed, 2 usage.

use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let parsed = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; everything else is a usage error.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli::run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::CliError::Silent) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ppcpv: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `ppcpv dump big.dtb | head` closes the pipe early; that is not a failure.
fn is_broken_pipe(e: &cli::CliError) -> bool {
    let cli::CliError::Failed(err) = e else {
        return false;
    };
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::BrokenPipe;
        }
        cur = c.source();
    }
    false
}
