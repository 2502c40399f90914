//! eems-doctor: the command-line front end. Only this crate writes to the
//! terminal; the library crates return data.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod analyze;
mod check_cmd;
mod cli;
mod collect;
mod fleet;
mod inputs;
mod out;
mod parse_cmd;
mod probe_cmd;
mod redact;
mod render;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

use cli::CliError;
pub use cli::EXIT_USAGE;

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
        /// List at most N rows of a streamed log (a log of 4 MiB or more) in
        /// `--format json`; the rows left out are counted as a problem.
        #[arg(long, value_name = "N", default_value_t = 1_000_000)]
        max_items: usize,
        #[command(flatten)]
        budget: inputs::Budget,
    },
    /// Diagnose EEMS from evidence: files, directories (one per server), or `-`.
    Analyze {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        report: cli::ReportArgs,
        #[command(flatten)]
        tables: cli::TableArgs,
        /// Evidence whose newest timestamp is more than DAYS older than the collection time (or, without one, now) is stale: `evidence-stale`, status at least WARNING.
        #[arg(long, value_name = "DAYS", default_value_t = eems_checks::check::DEFAULT_MAX_AGE_DAYS)]
        max_age: u32,
        #[command(flatten)]
        budget: inputs::Budget,
    },
    /// Walk the network path the mitigation service uses and say which step breaks.
    Probe(probe_cmd::ProbeArgs),
    /// On the server: gather the evidence into a bundle (directory or .zip) with manifest.json.
    Collect(collect::CollectArgs),
    /// On the server, in one command: collect, analyse, print the summary, write HTML and JSON reports.
    Check(check_cmd::CheckArgs),
    /// Analyse many servers' bundles in parallel into one dashboard, JSON and NDJSON.
    Fleet(fleet::FleetArgs),
    /// List every check (its id is also its finding id).
    Checks,
    /// Print the documentation of a check: what it checks, why, evidence, remediation.
    Explain {
        /// A check / finding id, e.g. `build-before-march-2023`.
        id: String,
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
            // Help and version asked for are a success; help shown because a
            // subcommand is missing (bare `eems-doctor`) is a usage error, so
            // a script that forgot the subcommand does not read it as "ok".
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Run one subcommand: its exit code (the monitoring status), or why it
/// could not give one.
fn run(command: Command) -> Result<u8, CliError> {
    match command {
        Command::Parse {
            paths,
            format,
            max_items,
            budget,
        } => parse_cmd::run(&paths, format, budget, max_items),
        Command::Analyze {
            paths,
            report,
            tables,
            max_age,
            budget,
        } => analyze::run(analyze::Options {
            paths,
            report,
            tables,
            budget,
            max_age,
        }),
        Command::Probe(args) => probe_cmd::run(args),
        Command::Collect(args) => Ok(collect::run(&args)),
        Command::Check(args) => check_cmd::run(args),
        Command::Fleet(args) => Ok(fleet::run(args)),
        Command::Checks => {
            for c in eems_checks::registry::all() {
                let m = c.meta();
                out::println(&format!(
                    "{:<28} {:<9} {:<11} {}{}",
                    m.id,
                    m.severity.as_str(),
                    m.area,
                    m.title,
                    if m.needs_probes {
                        " [needs probes]"
                    } else {
                        ""
                    }
                ));
            }
            Ok(0)
        }
        Command::Explain { id } => match eems_checks::docs::explain(&id) {
            Some(doc) => {
                out::println(doc);
                Ok(0)
            }
            None => Err(CliError::usage(format!(
                "no check with id `{id}` (see `eems-doctor checks`)"
            ))),
        },
    }
}
