//! `eems-doctor analyze`: evidence in, diagnosis out.

use crate::cli::{CliError, ReportArgs, TableArgs};
use crate::inputs::{self, Input};
use eems_checks::builds::BuildTable;
use eems_checks::check::Context;
use eems_checks::collect;
use eems_checks::diagnosis::{ServerDiagnosis, Status, diagnose};
use eems_checks::tls::issuers::TlsIssuerTable;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
    /// One monitoring-plugin status line with perfdata (Nagios, Icinga, Checkmk, PRTG).
    Nagios,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub report: ReportArgs,
    pub tables: TableArgs,
    pub budget: inputs::Budget,
    pub max_age: u32,
}

/// Inputs of one server (or one multi-server listing): the files of one directory.
pub struct Group {
    pub name: String,
    pub files: Vec<Input>,
}

/// The command-line paths sorted into servers, with the rule that did it and
/// what belongs to no server.
#[derive(Default)]
pub struct Grouped {
    pub groups: Vec<Group>,
    /// One sentence per path: which rule turned it into servers.
    pub rules: Vec<String>,
    /// Paths that could not be read, and loose files beside server bundles.
    pub unassigned: Vec<eems_reports::Unassigned>,
}

/// How many bytes of a loose file are read to tell evidence from notes.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Sort the paths into servers. Rules an admin can predict:
/// - a file is evidence of the server of its folder (files given together
///   from one folder are one server); a `.zip` is one server's bundle;
/// - a folder with `manifest.json` (written by `collect`) is one server;
/// - a folder whose subfolders (or zips) are server bundles is a set of
///   servers, one per subfolder, whatever loose files sit beside them: those
///   belong to no server and are listed, never mixed in. A subfolder is a
///   bundle when it holds evidence at its own top level other than only
///   MitigationService logs (a `MitigationService/` log folder is part of
///   its server); a folder holding nothing but subfolders and zips is a set
///   of bundles too;
/// - any other folder is one server, walked recursively.
pub fn group_paths(paths: &[PathBuf], budget: inputs::Budget) -> Grouped {
    let mut out = Grouped::default();
    let push = |name: String, files: Vec<Input>, groups: &mut Vec<Group>| match groups
        .iter_mut()
        .find(|g| g.name == name)
    {
        Some(g) => g.files.extend(files),
        None => groups.push(Group { name, files }),
    };
    let mut loose_files = 0usize;
    for p in paths {
        let shown = p.display().to_string();
        if p.as_os_str() == "-" {
            push(
                shown,
                inputs::collect(std::slice::from_ref(p), budget),
                &mut out.groups,
            );
            out.rules
                .push("standard input: one server's evidence".to_owned());
            continue;
        }
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                out.unassigned.push(eems_reports::Unassigned {
                    path: shown,
                    reason: e.to_string(),
                    error: true,
                });
                continue;
            }
        };
        if meta.is_dir() {
            group_dir(p, budget, &mut out);
        } else if meta.is_file() && inputs::is_zip(p) {
            push(
                shown.clone(),
                inputs::bundle_files(p, budget),
                &mut out.groups,
            );
            out.rules.push(format!("{shown}: a zip bundle, one server"));
        } else if meta.is_file() {
            let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
            push(
                parent.display().to_string(),
                inputs::collect(std::slice::from_ref(p), budget),
                &mut out.groups,
            );
            loose_files += 1;
        } else {
            out.unassigned.push(eems_reports::Unassigned {
                path: shown,
                reason: "not a regular file (a device, FIFO or socket is never evidence)"
                    .to_owned(),
                error: true,
            });
        }
    }
    if loose_files > 0 {
        out.rules.push(format!(
            "{} given by name: the files of one folder are read together",
            eems_checks::finding::counted(loose_files as u64, "file", "files")
        ));
    }
    out
}

fn group_dir(dir: &Path, budget: inputs::Budget, out: &mut Grouped) {
    let shown = dir.display().to_string();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            out.unassigned.push(eems_reports::Unassigned {
                path: shown,
                reason: format!("cannot list the folder: {e}"),
                error: true,
            });
            return;
        }
    };
    entries.sort();
    // A symbolic link leaving the folder (or looping) is not followed
    // (issue 18): listed, never read. Read as one server, the walk lists it.
    let mut links_refused = Vec::new();
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    entries.retain(|e| {
        if !std::fs::symlink_metadata(e).is_ok_and(|m| m.file_type().is_symlink()) {
            return true;
        }
        let why = match std::fs::canonicalize(e) {
            Ok(t) if t.starts_with(&root) && t != root => return true,
            Ok(t) if t == root => {
                "symbolic link loop: it leads back to the folder itself; not followed".to_owned()
            }
            Ok(t) => format!(
                "symbolic link to `{}`, outside the analysed folder: not followed, never read",
                t.display()
            ),
            Err(err) => format!("symbolic link not followed: {err}"),
        };
        links_refused.push(eems_reports::Unassigned {
            path: e.display().to_string(),
            reason: why,
            error: true,
        });
        false
    });
    if entries.is_empty() {
        out.unassigned.extend(links_refused);
        out.unassigned.push(eems_reports::Unassigned {
            path: shown,
            reason: "the folder is empty".to_owned(),
            error: true,
        });
        return;
    }
    let is_dir = |e: &PathBuf| std::fs::metadata(e).is_ok_and(|m| m.is_dir());
    let (subs, loose): (Vec<PathBuf>, Vec<PathBuf>) = entries
        .into_iter()
        .partition(|e| is_dir(e) || inputs::is_zip(e));
    let has_manifest = loose.iter().any(|f| {
        f.file_name()
            .is_some_and(|n| n.eq_ignore_ascii_case("manifest.json"))
    });
    let bundles: Vec<&PathBuf> = subs
        .iter()
        .filter(|s| inputs::is_zip(s) || is_bundle_dir(s))
        .collect();
    let set_of_bundles =
        !has_manifest && !subs.is_empty() && (loose.is_empty() || !bundles.is_empty());
    if !set_of_bundles {
        out.groups.push(Group {
            name: shown.clone(),
            files: inputs::collect(&[dir.to_path_buf()], budget),
        });
        out.rules.push(if has_manifest {
            format!("{shown}: a collect bundle (manifest.json), one server")
        } else {
            format!("{shown}: one folder's evidence, read together (every file below it)")
        });
        return;
    }
    out.unassigned.extend(links_refused);
    // With loose files beside them, only real bundles are servers; without,
    // every subfolder is (a folder of per-server log folders).
    let members: Vec<&PathBuf> = if loose.is_empty() {
        subs.iter().collect()
    } else {
        bundles
    };
    for m in &members {
        out.groups.push(Group {
            name: m.display().to_string(),
            files: inputs::bundle_files(m, budget),
        });
    }
    let member_set: std::collections::HashSet<&PathBuf> = members.iter().copied().collect();
    for s in subs.iter().filter(|s| !member_set.contains(s)) {
        out.unassigned.push(eems_reports::Unassigned {
            path: s.display().to_string(),
            reason: "a subfolder beside server bundles with no evidence at its top: not part of any server".to_owned(),
            error: false,
        });
    }
    for f in &loose {
        out.unassigned.push(eems_reports::Unassigned {
            path: f.display().to_string(),
            reason: "a loose file beside server bundles: not part of any server (analyse it on its own to read it)".to_owned(),
            error: false,
        });
    }
    out.rules.push(format!(
        "{shown}: a folder of server bundles, one server per subfolder or zip ({}{})",
        eems_checks::finding::counted(members.len() as u64, "server", "servers"),
        if loose.is_empty() {
            String::new()
        } else {
            format!(
                ", {} not part of any server",
                eems_checks::finding::counted(loose.len() as u64, "loose file", "loose files")
            )
        }
    ));
}

/// A subfolder that is one server's bundle: `manifest.json`, or evidence at
/// its own top level other than MitigationService logs alone.
fn is_bundle_dir(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.is_file()))
        .any(|f| {
            if f.file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("manifest.json"))
            {
                return true;
            }
            let kind = sniff_head(&f);
            kind != eems_parsers::Kind::Unrecognized && kind != eems_parsers::Kind::MitigationLog
        })
}

/// What the first bytes of a regular file are (bounded read).
fn sniff_head(f: &Path) -> eems_parsers::Kind {
    use std::io::Read;
    let mut head = Vec::new();
    let read =
        std::fs::File::open(f).and_then(|file| file.take(SNIFF_BYTES).read_to_end(&mut head));
    if read.is_err() {
        return eems_parsers::Kind::Unrecognized;
    }
    eems_parsers::sniff::sniff(&head, f.to_str())
}

/// What evidence age is judged against (`evidence-stale`).
#[derive(Debug, Clone, Copy)]
pub struct Age {
    /// For evidence without a collection time.
    pub now: chrono::DateTime<chrono::Utc>,
    /// `--max-age DAYS`.
    pub max_age_days: u32,
}

/// Names the clock for reproducible runs (tests, re-rendering an old
/// case): an RFC 3339 time used as "now" instead of the system clock.
pub const NOW_VAR: &str = "EEMS_DOCTOR_NOW";

impl Age {
    /// The system clock, or `EEMS_DOCTOR_NOW` when set; an unreadable value
    /// is an error naming it.
    pub fn current(max_age_days: u32) -> Result<Age, String> {
        let now = match std::env::var(NOW_VAR) {
            Ok(v) if !v.trim().is_empty() => chrono::DateTime::parse_from_rfc3339(v.trim())
                .map_err(|e| {
                    format!(
                        "{NOW_VAR}={v:?} is not an RFC 3339 time ({e}), e.g. 2026-12-01T00:00:00Z"
                    )
                })?
                .with_timezone(&chrono::Utc),
            _ => chrono::Utc::now(),
        };
        Ok(Age { now, max_age_days })
    }
}

/// Parse and diagnose every group, the evidence age judged against `age`.
/// Returns the diagnoses and whether any input could be read.
pub fn analyze_groups(
    groups: &[Group],
    table: &BuildTable,
    issuers: &TlsIssuerTable,
    age: Age,
) -> (Vec<ServerDiagnosis>, bool) {
    let ctx = Context {
        tls_issuers: issuers,
        now: Some(age.now),
        max_age_days: age.max_age_days,
        ..Context::embedded(table)
    };
    let mut out = Vec::new();
    let mut any_read = false;
    // Most check reasons are the same text for every server: one copy of
    // each (a 50,000-server listing kept 50,000 of each; issue 18 row 7).
    let mut shared: std::collections::HashSet<std::sync::Arc<str>> =
        std::collections::HashSet::new();
    for g in groups {
        let parsed: Vec<(String, eems_parsers::ParsedInput)> = g
            .files
            .iter()
            .map(|f| {
                let p = match (&f.bytes, f.parse()) {
                    (_, Some(p)) => p,
                    (Err(e), None) => unreadable(e),
                    (Ok(_), None) => unreadable("not parsed"),
                };
                (f.path.clone(), p)
            })
            .collect();
        // A collect manifest alone says what was tried, not what is true.
        any_read |= parsed.iter().any(|(_, p)| {
            !matches!(
                p.kind,
                eems_parsers::Kind::Unrecognized | eems_parsers::Kind::EvidenceManifest
            )
        });
        let inputs: Vec<collect::Input<'_>> = parsed
            .iter()
            .zip(&g.files)
            .map(|((path, parsed), f)| collect::Input {
                path,
                parsed,
                folded: f.folded(),
            })
            .collect();
        // Why a file was skipped or cut reaches the report (issue 18).
        let reasons: std::collections::HashMap<&str, &str> = g
            .files
            .iter()
            .filter_map(|f| {
                let why = f.bytes.as_ref().err().or(f.partial.as_ref())?;
                Some((f.path.as_str(), why.as_str()))
            })
            .collect();
        let mut evidence = collect::collect_group(&inputs);
        evidence.reverse();
        while let Some(mut ev) = evidence.pop() {
            // The evidence of the servers diagnosed so far is freed as the
            // diagnoses grow (a 50,000-server listing's is ~150 MB).
            if evidence.len() < evidence.capacity() / 2 {
                evidence.shrink_to_fit();
            }
            if !reasons.is_empty() {
                for i in &mut ev.inputs {
                    i.reason = reasons.get(i.path.as_str()).map(|r| (*r).to_owned());
                }
            }
            let mut d = diagnose(&ev, &ctx);
            // Reports cite files as they are in the bundle (issue 13).
            d.make_paths_relative(&g.name);
            for r in d.checks.iter_mut().filter_map(|c| c.reason.as_mut()) {
                match shared.get(&**r) {
                    Some(one) => *r = one.clone(),
                    None => {
                        shared.insert(r.clone());
                    }
                }
            }
            out.push(d);
        }
    }
    (out, any_read)
}

fn unreadable(e: &str) -> eems_parsers::ParsedInput {
    eems_parsers::ParsedInput {
        kind: eems_parsers::Kind::Unrecognized,
        status: eems_parsers::Status::Error,
        encoding: eems_parsers::Encoding::Binary,
        segments: Vec::new(),
        problems: vec![eems_parsers::Problem::whole(e.to_owned())],
    }
}

pub fn load_builds(path: Option<&Path>) -> Result<BuildTable, String> {
    match path {
        None => Ok(BuildTable::embedded()),
        Some(p) => {
            let text = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let decoded = eems_parsers::text::decode(&text);
            BuildTable::from_csv(&decoded.text).map_err(|e| format!("{}: {e}", p.display()))
        }
    }
}

/// The expected-issuer set: the embedded table plus the rows of `--tls-issuers FILE`
/// (same CSV layout), for a private PKI the operator vouches for.
pub fn load_tls_issuers(path: Option<&Path>) -> Result<TlsIssuerTable, String> {
    let mut table = TlsIssuerTable::embedded().clone();
    if let Some(p) = path {
        let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let extra = TlsIssuerTable::from_csv(&eems_parsers::text::decode(&bytes).text)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        for row in extra.rows() {
            table.push(row.clone());
        }
    }
    Ok(table)
}

/// Render `report` in `format` and write it to `output`, or to standard
/// output (colour only there, as `color` allows).
pub fn emit_report(
    report: &eems_reports::Report,
    format: Format,
    color: ColorChoice,
    output: Option<&Path>,
) -> Result<(), CliError> {
    let to_terminal = output.is_none() && std::io::stdout().is_terminal();
    // JSON is written a server at a time, never held whole (issue 18 row 7).
    if format == Format::Json {
        return match output {
            Some(path) => write_whole_with(path, |w| eems_reports::write_json(report, w))
                .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e)),
            None => {
                crate::out::write_with(|w| eems_reports::write_json(report, w));
                Ok(())
            }
        };
    }
    let body = match format {
        Format::Json => eems_reports::to_json(report),
        Format::Html => eems_reports::to_html(report),
        Format::Text => eems_reports::to_text(report, use_color(color, to_terminal)),
        Format::Nagios => eems_reports::to_nagios(report),
    };
    match output {
        Some(path) => write_whole(path, body.as_bytes())
            .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e)),
        None => {
            crate::out::print(&body);
            Ok(())
        }
    }
}

/// Write `bytes` to `path` through a temp file beside it, renamed over it
/// when complete: a run killed or failing half-way leaves the previous
/// report (or nothing), never a partial one (issue 18). A symbolic link at
/// `path`, the user's own choice, is followed as a plain write would.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_whole_with(path, |w| w.write_all(bytes))
}

/// [`write_whole`] with the content written by `write` (buffered).
fn write_whole_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let dest = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut b = tempfile::Builder::new();
    b.prefix(".eems-report-").suffix(".tmp");
    // A report is published like any file the user writes: 0666 less the
    // umask, not a temp file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = b.tempfile_in(dir)?;
    {
        let mut buf = std::io::BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.persist(&dest).map(drop).map_err(|e| e.error)
}

/// `--format` when given, else the `-o` file's extension (`.html`/`.htm`,
/// `.json`, `.txt`), else text. A `--format` that contradicts the extension is
/// a usage error: `-o report.html --format json` is a typo, not a wish.
pub fn report_format(explicit: Option<Format>, output: Option<&Path>) -> Result<Format, String> {
    use clap::ValueEnum;
    let by_ext = output
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .and_then(|e| match e.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(Format::Html),
            "json" => Some(Format::Json),
            "txt" | "text" => Some(Format::Text),
            _ => None,
        });
    let name = |f: Format| {
        f.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    };
    match (explicit, by_ext, output) {
        (Some(f), Some(e), Some(o)) if f != e => Err(format!(
            "--format {} contradicts the extension of {} (a {} file); drop one of them",
            name(f),
            o.display(),
            name(e)
        )),
        (Some(f), ..) => Ok(f),
        (None, Some(e), _) => Ok(e),
        (None, None, _) => Ok(Format::Text),
    }
}

pub fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The worst status's exit code (3 when nothing could be read).
pub fn run(opts: Options) -> Result<u8, CliError> {
    let format = opts.report.format()?;
    let age = Age::current(opts.max_age).map_err(CliError::usage)?;
    let (table, issuers) = opts.tables.load()?;
    let grouped = group_paths(&opts.paths, opts.budget);
    for u in grouped.unassigned.iter().filter(|u| u.error) {
        eprintln!(
            "error: {}: {}",
            eems_reports::safe::visible(&u.path),
            eems_reports::safe::visible(&u.reason)
        );
    }
    let (servers, any_read) = analyze_groups(&grouped.groups, &table, &issuers, age);
    if !any_read {
        eprintln!(
            "error: none of the inputs could be read as EEMS evidence (see `eems-doctor parse` for how each file was recognised)"
        );
    }
    let mut unassigned = grouped.unassigned;
    if !any_read {
        // Nothing read: no diagnosis, only what could not be read and why.
        unassigned.extend(grouped.groups.iter().flat_map(|g| &g.files).map(|f| {
            eems_reports::Unassigned {
                path: f.path.clone(),
                reason: match (&f.bytes, &f.partial) {
                    (Err(e), _) => e.clone(),
                    (Ok(_), Some(cut)) => format!("not EEMS evidence in a form eems-doctor recognises ({cut})"),
                    (Ok(_), None) => "not EEMS evidence in a form eems-doctor recognises (`eems-doctor parse` shows how it was read)".to_owned(),
                },
                error: f.bytes.is_err(),
            }
        }));
    }
    let report = eems_reports::Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now(),
        servers: if any_read { servers } else { Vec::new() },
        grouping: grouped.rules,
        unassigned,
    };
    emit_report(
        &report,
        format,
        opts.report.color.color,
        opts.report.output(),
    )?;
    if !any_read {
        return Ok(crate::EXIT_USAGE);
    }
    Ok(worst_exit_code(&report.servers))
}

/// The exit code of the worst server's status (unknown without servers).
pub fn worst_exit_code(servers: &[ServerDiagnosis]) -> u8 {
    servers
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Unknown)
        .exit_code()
}
