//! eems-doctor: the command-line front end. Only this crate writes to the
//! terminal; the library crates return data.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod analyze;
mod check_cmd;
mod collect;
mod fleet;
mod inputs;
mod out;
mod parse_cmd;
mod probe;
mod probe_cmd;
mod redact;
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
        #[command(flatten)]
        budget: inputs::Budget,
    },
    /// Diagnose EEMS from evidence: files, directories (one per server), or `-`.
    Analyze {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Report format [default: the `-o` file's extension (.html, .json, .txt), else text].
        #[arg(long, value_enum)]
        format: Option<analyze::Format>,
        /// Write the report to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Use this build table (CSV: product,update,build,released[,confidence]) instead of the embedded one.
        #[arg(long, value_name = "FILE")]
        builds: Option<PathBuf>,
        /// Extra expected TLS issuers (CSV: name,issued_by,serial,sha1,spki_sha256,status), added to the embedded set.
        #[arg(long, value_name = "FILE")]
        tls_issuers: Option<PathBuf>,
        /// Colour in text output (`auto` honours NO_COLOR and whether stdout is a terminal).
        #[arg(long, value_enum, default_value_t = analyze::ColorChoice::Auto)]
        color: analyze::ColorChoice,
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
    match cli.command {
        Command::Parse {
            paths,
            format,
            budget,
        } => parse_cmd::run(&paths, format, budget),
        Command::Analyze {
            paths,
            format,
            output,
            builds,
            tls_issuers,
            color,
            max_age,
            budget,
        } => ExitCode::from(analyze::run(analyze::Options {
            paths,
            format,
            output,
            builds,
            tls_issuers,
            color,
            budget,
            max_age,
        })),
        Command::Probe(args) => ExitCode::from(probe_cmd::run(args)),
        Command::Collect(args) => ExitCode::from(collect::run(&args)),
        Command::Check(args) => ExitCode::from(check_cmd::run(args)),
        Command::Fleet(args) => ExitCode::from(fleet::run(args)),
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
            ExitCode::SUCCESS
        }
        Command::Explain { id } => match eems_checks::docs::explain(&id) {
            Some(doc) => {
                out::println(doc);
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: no check with id `{id}` (see `eems-doctor checks`)");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}
