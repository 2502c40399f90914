//! `eems-doctor analyze`: evidence in, diagnosis out.

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
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub builds: Option<PathBuf>,
    pub tls_issuers: Option<PathBuf>,
    pub color: ColorChoice,
}

/// Inputs of one server (or one multi-server listing): the files of one directory.
pub struct Group {
    pub name: String,
    pub files: Vec<Input>,
}

/// A directory that holds only directories and `.zip` bundles is a folder of
/// bundles: each child is a group. Any other directory is one group (walked recursively);
/// loose files are grouped by their parent directory.
pub fn group_paths(paths: &[PathBuf]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let push = |name: String, files: Vec<Input>, groups: &mut Vec<Group>| match groups
        .iter_mut()
        .find(|g| g.name == name)
    {
        Some(g) => g.files.extend(files),
        None => groups.push(Group { name, files }),
    };
    for p in paths {
        if p.is_dir() && only_bundles(p) {
            let mut children: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            children.sort();
            for c in children {
                push(
                    c.display().to_string(),
                    inputs::bundle_files(&c),
                    &mut groups,
                );
            }
        } else if p.is_dir() || p.as_os_str() == "-" {
            push(
                p.display().to_string(),
                inputs::collect(std::slice::from_ref(p)),
                &mut groups,
            );
        } else {
            let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
            push(
                parent.display().to_string(),
                inputs::collect(std::slice::from_ref(p)),
                &mut groups,
            );
        }
    }
    groups
}

fn only_bundles(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            let entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            !entries.is_empty() && entries.iter().all(|e| e.is_dir() || inputs::is_zip(e))
        }
        Err(_) => false,
    }
}

/// Parse and diagnose every group. Returns the diagnoses and whether any input could be read.
pub fn analyze_groups(
    groups: &[Group],
    table: &BuildTable,
    issuers: &TlsIssuerTable,
) -> (Vec<ServerDiagnosis>, bool) {
    let ctx = Context {
        tls_issuers: issuers,
        ..Context::embedded(table)
    };
    let mut out = Vec::new();
    let mut any_read = false;
    for g in groups {
        let parsed: Vec<(String, eems_parsers::ParsedInput)> = g
            .files
            .iter()
            .map(|f| {
                let p = match &f.bytes {
                    Ok(b) => eems_parsers::parse_input(b, Some(&f.path)),
                    Err(e) => unreadable(e),
                };
                (f.path.clone(), p)
            })
            .collect();
        any_read |= parsed
            .iter()
            .any(|(_, p)| p.kind != eems_parsers::Kind::Unrecognized);
        let inputs: Vec<collect::Input<'_>> = parsed
            .iter()
            .map(|(path, parsed)| collect::Input { path, parsed })
            .collect();
        for ev in collect::collect_group(&inputs) {
            out.push(diagnose(&ev, &ctx));
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

/// The build table and the expected-issuer set, as `--builds` and
/// `--tls-issuers` say; on a bad file, the message is printed and the usage
/// exit code returned.
pub fn load_tables(
    builds: Option<&Path>,
    tls_issuers: Option<&Path>,
) -> Result<(BuildTable, TlsIssuerTable), u8> {
    let table = load_builds(builds).map_err(|e| {
        eprintln!("error: --builds: {e}");
        crate::EXIT_USAGE
    })?;
    let issuers = load_tls_issuers(tls_issuers).map_err(|e| {
        eprintln!("error: --tls-issuers: {e}");
        crate::EXIT_USAGE
    })?;
    Ok((table, issuers))
}

/// Render `report` in `format` and write it to `output`, or to standard
/// output (colour only there, as `color` allows). A write failure is printed
/// and gives the usage exit code.
pub fn emit_report(
    report: &eems_reports::Report,
    format: Format,
    color: ColorChoice,
    output: Option<&Path>,
) -> Result<(), u8> {
    let to_terminal = output.is_none() && std::io::stdout().is_terminal();
    let body = match format {
        Format::Json => eems_reports::to_json(report),
        Format::Html => eems_reports::to_html(report),
        Format::Text => eems_reports::to_text(report, use_color(color, to_terminal)),
    };
    match output {
        Some(path) => std::fs::write(path, body).map_err(|e| {
            eprintln!("error: cannot write {}: {e}", path.display());
            crate::EXIT_USAGE
        }),
        None => {
            crate::out::print(&body);
            Ok(())
        }
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

pub fn run(opts: Options) -> u8 {
    let (table, issuers) = match load_tables(opts.builds.as_deref(), opts.tls_issuers.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let groups = group_paths(&opts.paths);
    let (servers, any_read) = analyze_groups(&groups, &table, &issuers);
    if !any_read {
        eprintln!(
            "error: none of the inputs could be read as EEMS evidence (see `eems-doctor parse` for how each file was recognised)"
        );
    }
    let report = eems_reports::Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now(),
        servers,
    };
    if let Err(code) = emit_report(&report, opts.format, opts.color, opts.output.as_deref()) {
        return code;
    }
    if !any_read {
        return crate::EXIT_USAGE;
    }
    report
        .servers
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Unknown)
        .exit_code()
}
