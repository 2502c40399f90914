//! eems-doctor: the command-line front end. Only this crate writes to the
//! terminal; the library crates return data.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod inputs;
mod parse_cmd;
mod render;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for usage errors and "nothing could be read".
pub const EXIT_USAGE: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "eems-doctor",
    version,
    about = "Names the root cause when the Exchange Emergency Mitigation service cannot fetch mitigations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show how each file is recognised and what was read from it.
    Parse {
        /// Files or directories (walked recursively); `-` reads standard input.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ParseFormat::Text)]
        format: ParseFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Parse { paths, format } => parse_cmd::run(&paths, format),
    }
}
