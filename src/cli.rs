//! What the subcommands share: the error that stops one before it can give
//! a status, and the flags several of them take.

use crate::analyze::{ColorChoice, Format};
use eems_checks::builds::BuildTable;
use eems_checks::tls::issuers::TlsIssuerTable;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Exit code for usage errors, I/O errors and "nothing could be read"
/// (README: 3 is UNKNOWN, usage or I/O).
pub const EXIT_USAGE: u8 = 3;

/// Why a subcommand stopped without a monitoring status. `main` prints it
/// once, as `error: …`, and exits with [`CliError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something that cannot be done: a flag
    /// value, a table file that does not read.
    #[error("{0}")]
    Usage(String),
    /// Outputs could not be written (a bundle, a fleet scan's files): the
    /// message names each one. The run is incomplete.
    #[error("{0}")]
    Write(String),
    /// Reading or writing a file or stream the user named failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<std::io::Error> for CliError {
    fn from(source: std::io::Error) -> Self {
        CliError::Io {
            what: "I/O error".into(),
            source,
        }
    }
}

impl CliError {
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    pub fn write(msg: impl Into<String>) -> Self {
        CliError::Write(msg.into())
    }

    /// An I/O error with what was being done (`cannot write report.html`).
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            what: what.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Write(_) | CliError::Io { .. } => EXIT_USAGE,
        }
    }
}

/// `--builds` and `--tls-issuers`: the tables a diagnosis is judged by.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TableArgs {
    /// Use this build table (CSV: product,update,build,released[,confidence]) instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub builds: Option<PathBuf>,
    /// Extra expected TLS issuers (CSV: name,issued_by,serial,sha1,spki_sha256,status), added to the embedded set.
    #[arg(long, value_name = "FILE")]
    pub tls_issuers: Option<PathBuf>,
}

impl TableArgs {
    /// The build table and the expected-issuer set, as the flags say.
    pub fn load(&self) -> Result<(BuildTable, TlsIssuerTable), CliError> {
        let table = crate::analyze::load_builds(self.builds.as_deref())
            .map_err(|e| CliError::usage(format!("--builds: {e}")))?;
        let issuers = crate::analyze::load_tls_issuers(self.tls_issuers.as_deref())
            .map_err(|e| CliError::usage(format!("--tls-issuers: {e}")))?;
        Ok((table, issuers))
    }
}

/// `--format`, `-o` and `--color`: which report, where, and how it looks.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Report format [default: the `-o` file's extension (.html, .json, .txt), else text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub color: ColorArg,
}

/// `--color`, wherever text goes to a terminal.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ColorArg {
    /// Colour and bold in text output: `auto` when standard output is a
    /// terminal and NO_COLOR is not set, `always` (e.g. into `less -R`), or
    /// `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl ColorArg {
    /// Whether to colour text written to standard output.
    pub fn on_stdout(self) -> bool {
        crate::analyze::use_color(self.color, std::io::stdout().is_terminal())
    }
}

impl ReportArgs {
    /// `--format`, else the `-o` file's extension, else text.
    pub fn format(&self) -> Result<Format, CliError> {
        crate::analyze::report_format(self.format, self.output.as_deref()).map_err(CliError::Usage)
    }

    pub fn output(&self) -> Option<&Path> {
        self.output.as_deref()
    }
}

/// A per-step bound in seconds: more than 0, at most an hour.
pub fn parse_timeout(s: &str) -> Result<f64, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
        Ok(secs)
    } else {
        Err("must be more than 0 and at most 3600 seconds".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("10"), Ok(10.0));
        assert_eq!(parse_timeout("0.5"), Ok(0.5));
        assert_eq!(parse_timeout("3600"), Ok(3600.0));
        for bad in ["0", "-1", "3600.5", "NaN", "inf", "ten", ""] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_print_their_cause_and_exit_3() {
        let e = CliError::io(
            "cannot write r.html",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(e.to_string(), "cannot write r.html: permission denied");
        assert_eq!(e.exit_code(), 3);
        let e: CliError = std::io::Error::from(std::io::ErrorKind::NotFound).into();
        assert_eq!(e.exit_code(), 3);
        assert_eq!(CliError::usage("--jobs must be at least 1").exit_code(), 3);
    }
}
