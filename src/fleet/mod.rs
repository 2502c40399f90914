//! `eems-doctor fleet`: every server's bundle of a periodic scan, analysed in
//! parallel into one dashboard (`fleet.html`), `fleet.json` and
//! `fleet.ndjson`, with a monitoring exit code.
//!
//! Memory: a bundle is read, parsed, diagnosed, written out (its line of
//! `fleet.ndjson`, its entry in a spool file, `servers/<name>.html`) and
//! dropped before the worker takes the next one; the run keeps only a
//! [`ServerSummary`] per server. `fleet.json` is assembled at the end by
//! streaming the spooled entries in bundle order.

mod discover;

use crate::analyze::{self, Group};
use discover::Bundle;
use eems_checks::builds::BuildTable;
use eems_checks::diagnosis::{ServerDiagnosis, Status};
use eems_checks::evidence::InputSummary;
use eems_checks::tls::issuers::TlsIssuerTable;
use eems_reports::fleet::{
    Changes, FleetHead, FleetServer, NdjsonLine, PreviousScan, ServerSummary, Summary,
};
use eems_reports::json::v1::{SCHEMA_VERSION, Server, ServerStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
}

#[derive(clap::Args, Debug)]
pub struct FleetArgs {
    /// Directories of bundles (each subdirectory or `.zip` is one server), a
    /// single bundle `.zip`, or text files listing bundle paths (one a line;
    /// relative paths are relative to the list file; `#` starts a comment).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Bundles analysed at once (default: all cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Output directory (default: `./eems-fleet-<timestamp>`).
    #[arg(
        short = 'o',
        long = "out",
        visible_alias = "output",
        value_name = "OUTDIR"
    )]
    pub out: Option<PathBuf>,
    /// Outputs to write, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FleetFormat::Html, FleetFormat::Json, FleetFormat::Ndjson])]
    pub format: Vec<FleetFormat>,
    /// The `fleet.json` of the previous scan: report new and resolved problems.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Hours between scheduled collections: a bundle collected longer ago than this before the scan is flagged in the dashboard.
    #[arg(long, value_name = "HOURS", default_value_t = eems_reports::fleet::DEFAULT_SCAN_INTERVAL_HOURS)]
    pub scan_interval: u32,
    /// Use this build table (CSV) instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub builds: Option<PathBuf>,
    /// Extra expected TLS issuers (CSV), added to the embedded set.
    #[arg(long, value_name = "FILE")]
    pub tls_issuers: Option<PathBuf>,
    #[command(flatten)]
    pub budget: crate::inputs::Budget,
}

/// What the workers share: the open outputs and the per-server summaries.
struct Sink {
    /// One compact JSON entry per line, in completion order; `fleet.json` is
    /// assembled from it at the end.
    spool: Option<BufWriter<File>>,
    spool_pos: u64,
    ndjson: Option<BufWriter<File>>,
    /// (bundle index, summary, spool offset, spool length)
    done: Vec<(usize, ServerSummary, u64, usize)>,
    io_error: Option<String>,
}

struct Shared<'a> {
    table: &'a BuildTable,
    issuers: &'a TlsIssuerTable,
    out: &'a Path,
    html: bool,
    tool_version: &'a str,
    generated_at: &'a str,
    budget: crate::inputs::Budget,
}

pub fn run(args: FleetArgs) -> u8 {
    if args.jobs == Some(0) {
        eprintln!("error: --jobs must be at least 1");
        return crate::EXIT_USAGE;
    }
    let (table, issuers) =
        match analyze::load_tables(args.builds.as_deref(), args.tls_issuers.as_deref()) {
            Ok(t) => t,
            Err(code) => return code,
        };
    let previous = match args.previous.as_deref().map(load_previous).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --previous: {e}");
            return crate::EXIT_USAGE;
        }
    };
    let bundles = match discover::bundles(&args.paths) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::EXIT_USAGE;
        }
    };
    if bundles.is_empty() {
        eprintln!("error: no bundles found (a bundle is a subdirectory or a .zip of each PATH)");
        return crate::EXIT_USAGE;
    }
    let now = chrono::Utc::now();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("eems-fleet-{}", now.format("%Y%m%d-%H%M%S"))));
    let want = |f: FleetFormat| args.format.contains(&f);
    let html = want(FleetFormat::Html);
    if let Err(e) = std::fs::create_dir_all(if html {
        out.join("servers")
    } else {
        out.clone()
    }) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return crate::EXIT_USAGE;
    }
    let generated_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tool_version = env!("CARGO_PKG_VERSION");
    let spool_path = out.join(".fleet-servers.spool");
    let open = |p: &Path| File::create(p).map(BufWriter::new);
    let sink = Sink {
        spool: None,
        spool_pos: 0,
        ndjson: None,
        done: Vec::with_capacity(bundles.len()),
        io_error: None,
    };
    let sink = match (|| -> std::io::Result<Sink> {
        Ok(Sink {
            spool: if want(FleetFormat::Json) {
                Some(open(&spool_path)?)
            } else {
                None
            },
            ndjson: if want(FleetFormat::Ndjson) {
                Some(open(&out.join("fleet.ndjson"))?)
            } else {
                None
            },
            ..sink
        })
    })() {
        Ok(s) => Mutex::new(s),
        Err(e) => {
            eprintln!("error: cannot write in {}: {e}", out.display());
            return crate::EXIT_USAGE;
        }
    };
    let shared = Shared {
        table: &table,
        issuers: &issuers,
        out: &out,
        html,
        tool_version,
        generated_at: &generated_at,
        budget: args.budget,
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

    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.jobs {
        pool = pool.num_threads(n);
    }
    let pool = match pool.build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return crate::EXIT_USAGE;
        }
    };
    pool.install(|| {
        bundles.par_iter().enumerate().for_each(|(i, b)| {
            let entries = analyse_bundle(b, &shared);
            record(&sink, i, entries, &shared);
            progress.inc(1);
        });
    });
    progress.finish_and_clear();

    let mut sink = match sink.into_inner() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    let mut failed = sink.io_error.take();
    if let Some(w) = sink.ndjson.as_mut()
        && let Err(e) = w.flush()
    {
        failed.get_or_insert(format!("fleet.ndjson: {e}"));
    }
    if let Some(w) = sink.spool.as_mut()
        && let Err(e) = w.flush()
    {
        failed.get_or_insert(format!("spool: {e}"));
    }
    drop(sink.spool.take());
    drop(sink.ndjson.take());
    sink.done.sort_by_key(|d| d.0);
    let summaries: Vec<ServerSummary> = sink.done.iter().map(|d| d.1.clone()).collect();
    let head = FleetHead {
        tool_version: tool_version.to_owned(),
        generated_at: generated_at.clone(),
        summary: Summary::of(&summaries),
        changes: previous.as_ref().map(|p| Changes::between(p, &summaries)),
        scan_interval_hours: args.scan_interval,
    };
    if want(FleetFormat::Json)
        && let Err(e) = write_json(&out, &spool_path, &head, &sink.done)
    {
        failed.get_or_insert(format!("fleet.json: {e}"));
    }
    let _ = std::fs::remove_file(&spool_path);
    if html {
        let page =
            eems_reports::secrets::scrub(&eems_reports::fleet::to_fleet_html(&head, &summaries))
                .into_owned();
        if let Err(e) = std::fs::write(out.join("fleet.html"), page) {
            failed.get_or_insert(format!("fleet.html: {e}"));
        }
    }
    if let Some(e) = failed {
        eprintln!("error: cannot write the outputs in {}: {e}", out.display());
        return crate::EXIT_USAGE;
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
    } else {
        "fleet.ndjson"
    };
    crate::out::println(&format!("{line}\n{}", out.join(main).display()));

    summaries
        .iter()
        .map(|s| match s.status {
            ServerStatus::Ok => Status::Ok,
            ServerStatus::Warning => Status::Warning,
            ServerStatus::Critical => Status::Critical,
            ServerStatus::Unknown => Status::Unknown,
        })
        .max()
        .unwrap_or(Status::Unknown)
        .exit_code()
}

fn load_previous(p: &Path) -> Result<PreviousScan, String> {
    let f = File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    serde_json::from_reader(std::io::BufReader::new(f))
        .map_err(|e| format!("{} is not a fleet.json: {e}", p.display()))
}

/// Read, parse and diagnose one bundle, write its HTML page, and return its
/// entry. Everything parsed is dropped on return.
fn analyse_bundle(b: &Bundle, sh: &Shared<'_>) -> FleetServer {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let files = crate::inputs::bundle_files(&b.path, sh.budget);
        let error = bundle_error(&files);
        let inputs: Vec<InputSummary> = files
            .iter()
            .filter(|f| f.bytes.is_err())
            .map(|f| InputSummary {
                path: f.path.clone(),
                kind: "unrecognized".into(),
                status: "error".into(),
                reason: f.bytes.as_ref().err().cloned(),
            })
            .collect();
        let group = Group {
            name: b.display.clone(),
            files,
        };
        let (diags, _) =
            analyze::analyze_groups(std::slice::from_ref(&group), sh.table, sh.issuers);
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
    let report = if sh.html {
        let rel = format!("servers/{}.html", b.page);
        let page = eems_reports::to_html(&eems_reports::Report {
            tool_version: sh.tool_version.to_owned(),
            generated_at: chrono::Utc::now(),
            servers: vec![d],
            grouping: Vec::new(),
            unassigned: Vec::new(),
        });
        match std::fs::write(sh.out.join(&rel), page) {
            Ok(()) => Some(rel),
            Err(_) => None,
        }
    } else {
        None
    };
    FleetServer {
        bundle: b.display.clone(),
        report,
        error,
        server,
    }
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
    }
}

/// Append one entry to the ndjson and the spool, and keep its summary.
fn record(sink: &Mutex<Sink>, index: usize, entry: FleetServer, sh: &Shared<'_>) {
    let summary = ServerSummary::of(&entry);
    // Serialise outside the lock; only the appends are serialised.
    // Secrets never leave: the same scrubber as every report.
    let scrub = |s: String| eems_reports::secrets::scrub(&s).into_owned();
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
    let mut err: Option<String> = None;
    let (mut off, mut len) = (s.spool_pos, 0);
    match (&mut s.spool, &compact) {
        (Some(w), Ok(text)) => {
            off = s.spool_pos;
            len = text.len();
            if let Err(e) = w
                .write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
            {
                err = Some(format!("spool: {e}"));
            }
            s.spool_pos += text.len() as u64 + 1;
        }
        (Some(_), Err(e)) => err = Some(format!("server entry: {e}")),
        (None, _) => {}
    }
    match (&mut s.ndjson, &line) {
        (Some(w), Ok(text)) => {
            if let Err(e) = w
                .write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
            {
                err = Some(format!("fleet.ndjson: {e}"));
            }
        }
        (Some(_), Err(e)) => err = Some(format!("ndjson line: {e}")),
        (None, _) => {}
    }
    if let Some(e) = err {
        s.io_error.get_or_insert(e);
    }
    s.done.push((index, summary, off, len));
}

/// `fleet.json`, with the servers streamed from the spool in bundle order.
fn write_json(
    out: &Path,
    spool_path: &Path,
    head: &FleetHead,
    done: &[(usize, ServerSummary, u64, usize)],
) -> Result<(), String> {
    let mut spool = File::open(spool_path).map_err(|e| e.to_string())?;
    let entries = done.iter().map(move |(_, _, off, len)| {
        let mut buf = vec![0u8; *len];
        spool
            .seek(SeekFrom::Start(*off))
            .and_then(|_| spool.read_exact(&mut buf))
            .map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|e| e.to_string())
    });
    let tmp = out.join("fleet.json.tmp");
    let f = File::create(&tmp).map_err(|e| e.to_string())?;
    let mut w = BufWriter::new(f);
    eems_reports::fleet::write_fleet_json(&mut w, head, entries).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    std::fs::rename(&tmp, out.join("fleet.json")).map_err(|e| e.to_string())
}
