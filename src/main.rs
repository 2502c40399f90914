//! eems-doctor: the command-line front end. Only this crate writes to the
//! terminal; the library crates return data.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod analyze;
mod check_cmd;
mod cli;
mod collect;
mod fleet;
mod help;
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
    about = "Names the root cause when the Exchange Emergency Mitigation service cannot fetch mitigations",
    after_help = help::MAIN
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show how each file is recognised and what was read from it.
    #[command(after_help = help::PARSE)]
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
    #[command(after_help = help::ANALYZE)]
    Analyze {
        /// Evidence: a file, a folder (one server's, walked recursively), a
        /// `.zip` bundle, a folder of such folders or zips (one server each),
        /// or `-` for standard input.
        #[arg(required = true, value_name = "PATH")]
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
    #[command(after_help = help::PROBE)]
    Probe(probe_cmd::ProbeArgs),
    /// On the server: gather the evidence into a bundle (directory or .zip) with manifest.json.
    #[command(after_help = help::COLLECT)]
    Collect(collect::CollectArgs),
    /// On the server, in one command: collect, analyse, print the summary, write HTML and JSON reports.
    #[command(after_help = help::CHECK)]
    Check(check_cmd::CheckArgs),
    /// Analyse many servers' bundles in parallel into one dashboard, JSON and NDJSON.
    #[command(after_help = help::FLEET)]
    Fleet(fleet::FleetArgs),
    /// List every check (its id is also its finding id).
    #[command(after_help = help::CHECKS)]
    Checks,
    /// Print the documentation of a check: what it checks, why, evidence, remediation.
    #[command(after_help = help::EXPLAIN)]
    Explain {
        /// A check / finding id (the first column of `eems-doctor checks`), e.g. `build-before-march-2023`.
        id: String,
        /// `text` renders for a terminal (headings, wrapped text, commands);
        /// `md` prints the Markdown of docs/checks.md as it is.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        #[command(flatten)]
        color: cli::ColorArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    Text,
    Md,
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
        Command::Collect(args) => collect::run(&args),
        Command::Check(args) => check_cmd::run(args),
        Command::Fleet(args) => fleet::run(args),
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
        Command::Explain { id, format, color } => match eems_checks::docs::explain(&id) {
            Some(doc) => {
                match format {
                    ExplainFormat::Md => out::println(doc),
                    ExplainFormat::Text => {
                        out::print(&eems_reports::markdown::to_terminal(doc, color.on_stdout()))
                    }
                }
                Ok(0)
            }
            None => Err(CliError::usage(format!(
                "no check with id `{id}` (see `eems-doctor checks`)"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every `--help` says what its positional arguments are, its exit codes
    /// and an example; `-o` is a file and `--out-dir` a folder wherever they
    /// appear; `--color` is offered wherever text goes to a terminal.
    #[test]
    fn every_help_documents_arguments_exit_codes_and_an_example() {
        let cli = Cli::command();
        let main_help = cli
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(main_help.contains("Exit codes:") && main_help.contains("Example:"));
        let mut named = Vec::new();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            named.push(name.to_owned());
            let after = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(after.contains("Exit codes:"), "{name}: no exit codes");
            assert!(after.contains("\n  0  "), "{name}: no code 0");
            assert!(
                after.contains("\n  3  ") || name == "checks",
                "{name}: no code 3"
            );
            assert!(
                after.contains("Example:\n  eems-doctor "),
                "{name}: no example"
            );
            for a in sub.get_positionals() {
                assert!(
                    a.get_help().is_some(),
                    "{name}: <{}> undocumented",
                    a.get_id()
                );
            }
            for a in sub.get_arguments() {
                if a.get_short() == Some('o') {
                    assert_eq!(a.get_long(), Some("output"), "{name}: -o is not --output");
                    assert_eq!(
                        a.get_value_names().map(|v| v[0].to_string()),
                        Some("FILE".to_owned()),
                        "{name}: -o is not a file"
                    );
                }
                if a.get_long() == Some("out-dir") {
                    let v = a.get_value_names().map(|v| v[0].to_string());
                    assert!(
                        matches!(v.as_deref(), Some("DIR" | "OUTDIR")),
                        "{name}: {v:?}"
                    );
                }
            }
            let has = |long: &str| sub.get_arguments().any(|a| a.get_long() == Some(long));
            let text_out = ["analyze", "probe", "check", "explain"].contains(&name);
            assert_eq!(has("color"), text_out, "{name}: --color");
            if text_out {
                let color = sub
                    .get_arguments()
                    .find(|a| a.get_long() == Some("color"))
                    .and_then(|a| a.get_help())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                assert!(color.contains("NO_COLOR"), "{name}: --color undescribed");
            }
            // The folder flags: one spelling, shown; the old ones hidden.
            if ["collect", "check", "fleet"].contains(&name) {
                assert!(has("out-dir"), "{name}: no --out-dir");
                let help = sub.clone().render_long_help().to_string();
                assert!(!help.contains("--out "), "{name}: --out shown");
                assert!(
                    !help.contains("-o, ") || name == "check",
                    "{name}: -o shown"
                );
            }
        }
        for want in [
            "parse", "analyze", "probe", "collect", "check", "fleet", "checks", "explain",
        ] {
            assert!(named.iter().any(|n| n == want), "{want} missing");
        }
    }
}
