//! `eems-doctor fleet`: every server's bundle of a periodic scan, analysed in
//! parallel into one dashboard (`fleet.html`), `fleet.json` and
//! `fleet.ndjson`, with a monitoring exit code.
//!
//! Memory: a bundle is read, parsed, diagnosed, written out (its line of
//! `fleet.ndjson`, its entry in a spool file, `servers/<name>.html`) and
//! dropped before the worker takes the next one; the run keeps only a
//! [`ServerSummary`] per server. `fleet.json` is assembled at the end by
//! streaming the spooled entries in bundle order.
//!
//! OUTDIR safety (a shared folder, a privileged scan): see [`outdir`].

mod discover;
mod outdir;

use crate::analyze::{self, Group};
use crate::cli::CliError;
use discover::Bundle;
use eems_checks::builds::BuildTable;
use eems_checks::diagnosis::{ServerDiagnosis, Status};
use eems_checks::evidence::{InputSource, InputSummary};
use eems_checks::tls::issuers::TlsIssuerTable;
use eems_reports::fleet::{
    Changes, FleetHead, FleetServer, NdjsonLine, PreviousScan, ServerSummary, Summary,
};
use eems_reports::json::v1::{SCHEMA_VERSION, Server, ServerStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use outdir::{OutDir, Output};
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetFormat {
    Html,
    Json,
    Ndjson,
    /// `fleet.prom`: OpenMetrics text for a node_exporter textfile collector.
    Prom,
}

#[derive(clap::Args, Debug)]
pub struct FleetArgs {
    /// Directories of bundles (each subdirectory or `.zip` is one server), a
    /// single bundle `.zip`, or text files listing bundle paths (one a line;
    /// relative paths are relative to the list file; `#` starts a comment).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Bundles analysed at once (default: all cores; at most 8 per core,
    /// which is plenty to hide a share's latency).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub jobs: Option<usize>,
    /// The folder the scan writes into (default: `./eems-fleet-<timestamp>`).
    // `-o`, `--out` and `--output` were its names before `--out-dir` (where
    // `-o` is a file everywhere else): scheduled scans still say them.
    #[arg(
        long = "out-dir",
        short_alias = 'o',
        aliases = ["out", "output"],
        value_name = "OUTDIR"
    )]
    pub out_dir: Option<PathBuf>,
    /// Outputs to write, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FleetFormat::Html, FleetFormat::Json, FleetFormat::Ndjson])]
    pub format: Vec<FleetFormat>,
    /// The `fleet.json` of the previous scan: report new and resolved problems.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    #[command(flatten)]
    pub tables: crate::cli::TableArgs,
    /// Hours between scheduled collections: a bundle collected longer ago than this before the scan is flagged in the dashboard.
    #[arg(long, value_name = "HOURS", default_value_t = eems_reports::fleet::DEFAULT_SCAN_INTERVAL_HOURS)]
    pub scan_interval: u32,
    /// Evidence whose newest timestamp is more than DAYS older than its
    /// bundle's collection time (or, without one, the scan) is stale:
    /// `evidence-stale`, status at least WARNING.
    #[arg(long, value_name = "DAYS", default_value_t = eems_checks::check::DEFAULT_MAX_AGE_DAYS)]
    pub max_age: u32,
    #[command(flatten)]
    pub budget: crate::inputs::Budget,
}

/// What the workers share: the open outputs and the per-server summaries.
struct Sink {
    /// One compact JSON entry per line, in completion order; `fleet.json` is
    /// assembled from it at the end.
    spool: Option<BufWriter<File>>,
    spool_pos: u64,
    /// Renamed to `fleet.ndjson` once the scan is complete.
    ndjson: Option<BufWriter<Output>>,
    /// The ndjson temp file could not be written: it is not committed.
    ndjson_broken: bool,
    /// (bundle index, summary, spool offset, spool length)
    done: Vec<(usize, ServerSummary, u64, usize)>,
    /// (bundle index, `collected_at` of its manifest), for `fleet.prom`.
    collected: Vec<(usize, Option<String>)>,
    /// Every write that failed (a server page, a line): the scan exits 3.
    io_errors: Vec<String>,
}

struct Shared<'a> {
    table: &'a BuildTable,
    issuers: &'a TlsIssuerTable,
    out: &'a OutDir,
    html: bool,
    tool_version: &'a str,
    generated_at: &'a str,
    budget: crate::inputs::Budget,
    /// One clock for the whole scan, so every bundle is judged at the same "now".
    age: analyze::Age,
}

/// `--jobs` is capped at this many threads per core: more only adds threads
/// waiting on the same disks (and `--jobs 20000` would start 20,000).
const JOBS_PER_CORE: usize = 8;

/// The worker count for `--jobs` (`None`: all cores), capped at
/// [`JOBS_PER_CORE`] per core and at the number of bundles.
fn worker_count(jobs: Option<usize>, cores: usize, bundles: usize) -> usize {
    let cores = cores.max(1);
    jobs.unwrap_or(cores)
        .min(cores.saturating_mul(JOBS_PER_CORE))
        .min(bundles.max(1))
        .max(1)
}

pub fn run(args: FleetArgs) -> Result<u8, CliError> {
    let (table, issuers) = args.tables.load()?;
    let age = analyze::Age::current(args.max_age).map_err(CliError::usage)?;
    let previous = args
        .previous
        .as_deref()
        .map(load_previous)
        .transpose()
        .map_err(|e| CliError::usage(format!("--previous: {e}")))?;
    let bundles = discover::bundles(&args.paths).map_err(CliError::usage)?;
    if bundles.is_empty() {
        return Err(CliError::usage(
            "no bundles found (a bundle is a subdirectory or a .zip of each PATH)",
        ));
    }
    let now = chrono::Utc::now();
    let out = args
        .out_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("eems-fleet-{}", now.format("%Y%m%d-%H%M%S"))));
    let want = |f: FleetFormat| args.format.contains(&f);
    let html = want(FleetFormat::Html);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = worker_count(args.jobs, cores, bundles.len());
    if let Some(n) = args.jobs
        && n > cores.saturating_mul(JOBS_PER_CORE)
    {
        eprintln!("note: --jobs {n} capped at {jobs} ({JOBS_PER_CORE} per core, {cores} core(s))");
    }
    let outdir = outdir::open(&out, html).map_err(|e| match e {
        outdir::OpenError::Busy(m) => CliError::usage(m),
        outdir::OpenError::Unusable(m) => CliError::write(m),
    })?;
    let generated_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tool_version = env!("CARGO_PKG_VERSION");
    let sink = match (|| -> Result<Sink, String> {
        Ok(Sink {
            spool: if want(FleetFormat::Json) {
                Some(BufWriter::new(
                    outdir.scratch().map_err(|e| format!("spool: {e}"))?,
                ))
            } else {
                None
            },
            spool_pos: 0,
            ndjson: if want(FleetFormat::Ndjson) {
                Some(BufWriter::new(outdir.create("fleet.ndjson")?))
            } else {
                None
            },
            ndjson_broken: false,
            done: Vec::with_capacity(bundles.len()),
            collected: Vec::with_capacity(bundles.len()),
            io_errors: Vec::new(),
        })
    })() {
        Ok(s) => Mutex::new(s),
        Err(e) => {
            return Err(CliError::write(format!(
                "cannot write in {}: {e}",
                out.display()
            )));
        }
    };
    let shared = Shared {
        table: &table,
        issuers: &issuers,
        out: &outdir,
        html,
        tool_version,
        generated_at: &generated_at,
        budget: args.budget,
        age,
    };

    let progress = if std::io::stderr().is_terminal() {
        let pb =
            ProgressBar::with_draw_target(Some(bundles.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} bundles ({per_sec}, eta {eta})",
        ) {
            pb.set_style(style);
        }
        pb
    } else {
        ProgressBar::hidden()
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::usage(format!("cannot start worker threads: {e}")))?;
    pool.install(|| {
        bundles.par_iter().enumerate().for_each(|(i, b)| {
            let (entry, write_error, collected_at) = analyse_bundle(b, &shared);
            match sink.lock() {
                Ok(mut s) => s.collected.push((i, collected_at)),
                Err(p) => p.into_inner().collected.push((i, collected_at)),
            }
            record(&sink, i, entry, write_error, &shared);
            progress.inc(1);
        });
    });
    progress.finish_and_clear();

    let mut sink = match sink.into_inner() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    let mut failed = std::mem::take(&mut sink.io_errors);
    // Each output is renamed into place only when complete: a scan killed
    // before this point leaves the previous scan's files (or none), never a
    // partial one.
    if let Some(w) = sink.ndjson.take()
        && !sink.ndjson_broken
        && let Err(e) = w
            .into_inner()
            .map_err(|e| format!("fleet.ndjson: {}", e.error()))
            .and_then(Output::commit)
    {
        failed.push(e);
    }
    let spool = sink
        .spool
        .take()
        .map(|w| w.into_inner().map_err(|e| format!("spool: {}", e.error())));
    sink.done.sort_by_key(|d| d.0);
    let summaries: Vec<ServerSummary> = sink.done.iter().map(|d| d.1.clone()).collect();
    let head = FleetHead {
        tool_version: tool_version.to_owned(),
        generated_at: generated_at.clone(),
        summary: Summary::of(&summaries),
        changes: previous.as_ref().map(|p| Changes::between(p, &summaries)),
        scan_interval_hours: args.scan_interval,
    };
    if let Some(spool) = spool
        && let Err(e) = spool.and_then(|f| write_json(&outdir, f, &head, &sink.done))
    {
        failed.push(e);
    }
    if html {
        let page =
            eems_reports::secrets::scrub(&eems_reports::fleet::to_fleet_html(&head, &summaries))
                .into_owned();
        if let Err(e) = outdir.write("fleet.html", page.as_bytes()) {
            failed.push(e);
        }
    }
    if want(FleetFormat::Prom) {
        sink.collected.sort_by_key(|c| c.0);
        let ages: Vec<Option<i64>> = sink
            .collected
            .iter()
            .map(|(_, at)| {
                at.as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds())
            })
            .collect();
        let text = eems_reports::secrets::scrub(&eems_reports::fleet_prom::to_fleet_prom(
            &head,
            &summaries,
            &ages,
            now.timestamp(),
        ))
        .into_owned();
        // Through a temp file and a rename, as every output: a collector
        // never reads half a file (node_exporter's textfile advice).
        if let Err(e) = outdir.write("fleet.prom", text.as_bytes()) {
            failed.push(e);
        }
    }
    if !failed.is_empty() {
        return Err(CliError::write(incomplete(&out, &failed)));
    }

    let count = |w: &str| head.summary.by_status.get(w).map(|c| c.count).unwrap_or(0);
    let mut line = format!(
        "{} servers: {} critical, {} warning, {} unknown, {} ok",
        summaries.len(),
        count("critical"),
        count("warning"),
        count("unknown"),
        count("ok")
    );
    if let Some(c) = &head.changes {
        line.push_str(&format!(
            "; since the last scan: {} new problem(s), {} resolved",
            c.new_problems.len(),
            c.resolved.len()
        ));
    }
    let main = if html {
        "fleet.html"
    } else if want(FleetFormat::Json) {
        "fleet.json"
    } else if want(FleetFormat::Ndjson) {
        "fleet.ndjson"
    } else {
        "fleet.prom"
    };
    crate::out::println(&format!("{line}\n{}", out.join(main).display()));

    Ok(summaries
        .iter()
        .map(|s| match s.status {
            ServerStatus::Ok => Status::Ok,
            ServerStatus::Warning => Status::Warning,
            ServerStatus::Critical => Status::Critical,
            ServerStatus::Unknown => Status::Unknown,
        })
        .max()
        .unwrap_or(Status::Unknown)
        .exit_code())
}

/// The message for outputs that could not be written: each one named, at
/// most ten (a folder that refuses every page must not print 10,000 lines).
fn incomplete(out: &Path, failed: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut msg = format!(
        "{} output(s) could not be written in {} (the scan is incomplete):",
        failed.len(),
        out.display()
    );
    for e in failed.iter().take(SHOWN) {
        msg.push_str("\n  ");
        msg.push_str(&eems_reports::safe::visible(e));
    }
    if failed.len() > SHOWN {
        msg.push_str(&format!("\n  … and {} more", failed.len() - SHOWN));
    }
    msg
}

fn load_previous(p: &Path) -> Result<PreviousScan, String> {
    let f = File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    serde_json::from_reader(std::io::BufReader::new(f))
        .map_err(|e| format!("{} is not a fleet.json: {e}", p.display()))
}

/// `collected_at` of a bundle's `manifest.json` (written by `collect`).
fn manifest_collected_at(files: &[crate::inputs::Input]) -> Option<String> {
    let m = files
        .iter()
        .find(|f| f.path.replace('\\', "/").ends_with("manifest.json"))?;
    let v: serde_json::Value = serde_json::from_slice(m.bytes.as_ref().ok()?).ok()?;
    v.get("collected_at")?.as_str().map(str::to_owned)
}

/// Read, parse and diagnose one bundle, write its HTML page, and return its
/// entry, the error writing its page, and its manifest's `collected_at`.
/// Everything parsed is dropped on return.
fn analyse_bundle(b: &Bundle, sh: &Shared<'_>) -> (FleetServer, Option<String>, Option<String>) {
    let mut collected_at = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let files = crate::inputs::bundle_files(&b.path, sh.budget);
        collected_at = manifest_collected_at(&files);
        let error = bundle_error(&files);
        let inputs: Vec<InputSummary> = files
            .iter()
            .filter(|f| f.bytes.is_err())
            .map(|f| InputSummary {
                path: InputSource::File(f.path.clone()),
                kind: eems_parsers::Kind::Unrecognized,
                status: eems_parsers::Status::Error,
                reason: f.bytes.as_ref().err().cloned(),
            })
            .collect();
        let group = Group {
            name: b.display.clone(),
            files,
        };
        let (diags, _) =
            analyze::analyze_groups(std::slice::from_ref(&group), sh.table, sh.issuers, sh.age);
        drop(group);
        // A bundle is one server: the group's own server comes first; the
        // other servers of a multi-server listing have bundles of their own.
        let d = diags
            .into_iter()
            .next()
            .unwrap_or_else(|| unknown_diagnosis(inputs));
        let error = if d.status == Status::Unknown {
            Some(error.unwrap_or_else(|| "no input could be read as EEMS evidence".to_owned()))
        } else {
            None
        };
        (d, error)
    }));
    let (d, error) = match outcome {
        Ok(x) => x,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            (
                unknown_diagnosis(Vec::new()),
                Some(format!("internal error while analysing this bundle: {msg}")),
            )
        }
    };
    let server = Server::from_diagnosis(&d);
    let mut write_error = None;
    let report = if sh.html {
        let rel = format!("servers/{}.html", b.page);
        let page = eems_reports::to_html(&eems_reports::Report {
            tool_version: sh.tool_version.to_owned(),
            generated_at: chrono::Utc::now(),
            servers: vec![d],
            grouping: Vec::new(),
            unassigned: Vec::new(),
        });
        match sh.out.write(&rel, page.as_bytes()) {
            Ok(()) => Some(rel),
            Err(e) => {
                write_error = Some(e);
                None
            }
        }
    } else {
        None
    };
    let entry = FleetServer {
        bundle: b.display.clone(),
        report,
        error,
        server,
    };
    (entry, write_error, collected_at)
}

/// Why a bundle yields nothing: empty, or every file unreadable, or nothing recognised.
fn bundle_error(files: &[crate::inputs::Input]) -> Option<String> {
    if files.is_empty() {
        return Some("the bundle holds no files".to_owned());
    }
    let errors: Vec<String> = files
        .iter()
        .filter_map(|f| f.bytes.as_ref().err().map(|e| format!("{}: {e}", f.path)))
        .collect();
    if errors.len() == files.len() {
        return errors.into_iter().next();
    }
    Some(format!(
        "none of the {} file(s) could be read as EEMS evidence{}",
        files.len(),
        if errors.is_empty() {
            String::new()
        } else {
            format!(" ({} unreadable)", errors.len())
        }
    ))
}

fn unknown_diagnosis(inputs: Vec<InputSummary>) -> ServerDiagnosis {
    ServerDiagnosis {
        server: None,
        status: Status::Unknown,
        build: None,
        root_causes: Vec::new(),
        findings: Vec::new(),
        checks: Vec::new(),
        inputs,
        probes: None,
        failed_step: None,
        facts: eems_checks::facts::Facts::default(),
        paths_relative_to: None,
    }
}

/// Append one entry to the ndjson and the spool, and keep its summary.
fn record(
    sink: &Mutex<Sink>,
    index: usize,
    entry: FleetServer,
    write_error: Option<String>,
    sh: &Shared<'_>,
) {
    let summary = ServerSummary::of(&entry);
    // Serialise outside the lock; only the appends are serialised.
    // Secrets never leave: the same scrubber as every report; bidi and C1
    // controls are written escaped, as in every JSON report.
    let scrub =
        |s: String| eems_reports::safe::json(&eems_reports::secrets::scrub(&s)).into_owned();
    let compact = serde_json::to_string(&entry).map(scrub);
    let line = serde_json::to_string(&NdjsonLine {
        schema_version: SCHEMA_VERSION,
        tool_version: sh.tool_version,
        generated_at: sh.generated_at,
        entry: &entry,
    })
    .map(scrub);
    drop(entry);
    let mut s = match sink.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    let s = &mut *s;
    let mut errs: Vec<String> = write_error.into_iter().collect();
    let (mut off, mut len) = (s.spool_pos, 0);
    match (&mut s.spool, &compact) {
        (Some(w), Ok(text)) => {
            off = s.spool_pos;
            len = text.len();
            if let Err(e) = w
                .write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
            {
                errs.push(format!("spool: {e}"));
            }
            s.spool_pos += text.len() as u64 + 1;
        }
        (Some(_), Err(e)) => errs.push(format!("server entry: {e}")),
        (None, _) => {}
    }
    match (&mut s.ndjson, &line) {
        (Some(w), Ok(text)) => {
            if let Err(e) = w
                .write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
            {
                s.ndjson_broken = true;
                errs.push(format!("fleet.ndjson: {e}"));
            }
        }
        (Some(_), Err(e)) => errs.push(format!("ndjson line: {e}")),
        (None, _) => {}
    }
    s.io_errors.extend(errs);
    s.done.push((index, summary, off, len));
}

/// `fleet.json`, with the servers streamed from the spool in bundle order.
fn write_json(
    out: &OutDir,
    mut spool: File,
    head: &FleetHead,
    done: &[(usize, ServerSummary, u64, usize)],
) -> Result<(), String> {
    let entries = done.iter().map(move |(_, _, off, len)| {
        let mut buf = vec![0u8; *len];
        spool
            .seek(SeekFrom::Start(*off))
            .and_then(|_| spool.read_exact(&mut buf))
            .map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|e| e.to_string())
    });
    let err = |e: &dyn std::fmt::Display| format!("fleet.json: {e}");
    let mut w = eems_reports::safe::JsonWriter::new(BufWriter::new(out.create("fleet.json")?));
    eems_reports::fleet::write_fleet_json(&mut w, head, entries).map_err(|e| err(&e))?;
    w.flush().map_err(|e| err(&e))?;
    w.into_inner()
        .into_inner()
        .map_err(|e| err(e.error()))?
        .commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_capped_per_core_and_by_the_bundles() {
        // Default: the cores, no more than the bundles.
        assert_eq!(worker_count(None, 4, 100), 4);
        assert_eq!(worker_count(None, 4, 2), 2);
        // Above the cores helps hide a share's latency, up to 8 per core.
        assert_eq!(worker_count(Some(12), 2, 100), 12);
        assert_eq!(worker_count(Some(20_000), 2, 100_000), 16);
        assert_eq!(worker_count(Some(20_000), 2, 2), 2);
        assert_eq!(worker_count(Some(3), 0, 0), 1);
    }
}
