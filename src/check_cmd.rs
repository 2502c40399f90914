//! `eems-doctor check`: collect, analyse, print the text summary, write the
//! HTML and JSON reports, and exit with the analysis exit code.

use crate::analyze::{self, Format, Group, use_color};
use crate::cli::{CliError, ReportArgs, TableArgs};
use crate::collect::{self, CollectArgs};
use crate::inputs;
use eems_checks::diagnosis::Status;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// The report in `--format` goes to `-o`; text is always printed, and
    /// the HTML and JSON reports are always written beside it.
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub tables: TableArgs,
    /// Evidence whose newest timestamp is more than DAYS older than the collection time is stale (`evidence-stale`).
    #[arg(long, value_name = "DAYS", default_value_t = eems_checks::check::DEFAULT_MAX_AGE_DAYS)]
    pub max_age: u32,
}

/// Where `check` writes without `--out-dir` and `-o`: `eems-doctor` in the
/// temporary folder (Windows' GetTempPath2: the user's `%TEMP%`, for SYSTEM
/// `C:\Windows\SystemTemp` where Windows has it; `$TMPDIR` or `/tmp` elsewhere).
pub fn default_folder() -> PathBuf {
    std::env::temp_dir().join("eems-doctor")
}

/// `FILE` with another extension: `EX01.html` → `EX01.json`.
fn sibling(p: &Path, ext: &str) -> PathBuf {
    p.with_extension(ext)
}

pub fn run(args: CheckArgs) -> Result<u8, CliError> {
    let format = args.report.format()?;
    let (table, issuers) = args.tables.load()?;
    // Without --out-dir: a timestamped bundle beside the -o report, else in
    // a folder of eems-doctor's own under the temporary folder. Never the
    // current folder by default: on an elevated prompt that is
    // C:\Windows\System32.
    let out = args.collect.out_dir.clone().unwrap_or_else(|| {
        let dir = match args.report.output() {
            Some(o) => o.parent().map(Path::to_path_buf).unwrap_or_default(),
            None => default_folder(),
        };
        let host = collect::local_host_name().unwrap_or_else(|| "server".into());
        let host = if args.collect.redact {
            "server".into()
        } else {
            host
        };
        dir.join(format!(
            "eems-{host}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    let bundle = collect::collect(&args.collect, &out)?;
    let groups = vec![Group {
        name: bundle.path.display().to_string(),
        files: inputs::bundle_files(&bundle.path, inputs::Budget::default()),
    }];
    let age = analyze::Age::current(args.max_age).map_err(CliError::usage)?;
    let (servers, any_read) = analyze::analyze_groups(&groups, &table, &issuers, age);
    let report = eems_reports::Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now(),
        servers,
        grouping: Vec::new(),
        unassigned: Vec::new(),
    };
    let to_terminal = std::io::stdout().is_terminal();
    // With --format nagios the monitoring system reads standard output: the plugin line only.
    let mut text = if format == Format::Nagios {
        eems_reports::to_nagios(&report)
    } else {
        eems_reports::to_text(&report, use_color(args.report.color.color, to_terminal))
    };
    let mut html = eems_reports::to_html(&report);
    let mut json = eems_reports::to_json(&report);
    if let Some(mut r) = bundle.redactor {
        // The bundle is redacted already; its path may still name the server.
        text = r.text(&text);
        html = r.text(&html);
        json = r
            .file("report.json", json.as_bytes())
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
    }
    let (html_path, json_path) = match (&args.report.output, format) {
        (Some(o), Format::Html) => (o.clone(), sibling(o, "json")),
        (Some(o), Format::Json) => (sibling(o, "html"), o.clone()),
        (Some(o), Format::Text | Format::Nagios) => (sibling(o, "html"), sibling(o, "json")),
        (None, _) => {
            // Beside the bundle, never inside it (analyze would read it as evidence).
            let stem = bundle
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "eems".into());
            let dir = bundle.path.parent().unwrap_or(Path::new(""));
            (
                dir.join(format!("{stem}.report.html")),
                dir.join(format!("{stem}.report.json")),
            )
        }
    };
    let mut writes = vec![(html_path, html), (json_path, json)];
    if let (Some(o), Format::Text | Format::Nagios) = (&args.report.output, format) {
        writes.push((o.clone(), text.clone()));
    }
    for (p, body) in &writes {
        std::fs::write(p, body)
            .map_err(|e| CliError::io(format!("cannot write {}", p.display()), e))?;
    }
    crate::out::print(&text);
    // Where everything went, last, so it is what the admin sees.
    eprintln!("bundle: {}", bundle.path.display());
    for (p, _) in &writes {
        eprintln!("report: {}", p.display());
    }
    if !any_read || report.servers.iter().all(|s| s.status == Status::Unknown) {
        // Every item failed: UNKNOWN (2); nothing at all was written: 3.
        let collected = groups
            .iter()
            .flat_map(|g| &g.files)
            .any(|f| !f.path.ends_with("manifest.json"));
        eprintln!(
            "error: nothing collected could be read as EEMS evidence (see manifest.json in the bundle for why each item failed)"
        );
        return Ok(if collected {
            Status::Unknown.exit_code()
        } else {
            crate::EXIT_USAGE
        });
    }
    Ok(analyze::worst_exit_code(&report.servers))
}
