//! The `ppcpv` command: parses arguments and hands them to the library through
//! [`cli::run`]. Exit codes: 0 ok, 1 failed, 2 usage.

use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let parsed = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; everything else is a usage error,
            // printed with the same "ppcpv: error:" prefix as every other error.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("ppcpv: error: {text}");
            return ExitCode::from(2);
        }
    };
    match cli::run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::CliError::Silent) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // A message may quote the input (a node path, a DTS line): escaped on a
            // terminal, exact into a file or pipe.
            let text = e.to_string();
            let text = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                ppcpv::text::escape_lines(&text)
            } else {
                text.as_str().into()
            };
            eprintln!("ppcpv: error: {text}");
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
