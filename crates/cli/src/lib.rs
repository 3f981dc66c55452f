//! `pulumi-azure-oidc`: the command-line face of the core. A library, so that the
//! native binary and the Python wheel's console script run the same `run`.

mod args;
mod commands;
mod inputs;
mod provision;
mod text;

use args::{Cli, Output};
use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

pub(crate) type Failure = pulumi_azure_oidc::Error;

/// Exit status: 0 success, 1 a negative diagnosis, 2 invalid input.
pub(crate) const EXIT_NEGATIVE: u8 = 1;
pub(crate) const EXIT_INVALID: u8 = 2;

/// Run the command line `args` (the program name first) and return the exit status.
/// Usage errors, `--help` and `--version` print as clap prints them and return its
/// status instead of exiting the process, which may be a Python interpreter.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(usage) => {
            let _ = usage.print();
            return u8::try_from(usage.exit_code()).unwrap_or(EXIT_INVALID);
        }
    };
    init_logging(cli.verbose);
    let output = cli.command.output();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(failure) => {
            let style = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            let mut err = anstream::stderr();
            let _ = writeln!(err, "{style}error:{style:#} {failure}");
            if output == Output::Json {
                let report = serde_json::to_value(failure.report()).unwrap_or_default();
                println!("{}", serde_json::json!({ "error": report }));
            }
            EXIT_INVALID
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
