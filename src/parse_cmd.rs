//! `eems-doctor parse`: how each file was recognised and what was read.

use crate::ParseFormat;
use crate::cli::CliError;
use crate::inputs::{self, Input};
use eems_parsers::{Content, Encoding, Kind, ParsedInput, Problem, Status};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Serialize)]
struct ParseReport<'a> {
    schema_version: u32,
    inputs: Vec<InputReport<'a>>,
}

#[derive(Serialize)]
struct SegmentReport<'a> {
    kind: Kind,
    status: Status,
    first_line: usize,
    last_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    problems: &'a [Problem],
}

#[derive(Serialize)]
struct InputReport<'a> {
    path: &'a str,
    kind: Kind,
    status: Status,
    encoding: Option<Encoding>,
    segments: Vec<SegmentReport<'a>>,
    /// Typed content, one entry per recognised segment.
    items: Vec<&'a Content>,
    problems: Vec<Problem>,
}

fn report<'a>(input: &'a Input, parsed: Option<&'a ParsedInput>) -> InputReport<'a> {
    match (parsed, &input.bytes) {
        (Some(p), _) => {
            let mut problems: Vec<Problem> = p.problems.clone();
            for s in &p.segments {
                problems.extend(s.problems.iter().cloned());
            }
            InputReport {
                path: &input.path,
                kind: p.kind,
                status: p.status,
                encoding: Some(p.encoding),
                segments: p
                    .segments
                    .iter()
                    .map(|s| SegmentReport {
                        kind: s.kind,
                        status: s.status,
                        first_line: s.first_line,
                        last_line: s.last_line,
                        command: s.command.as_deref(),
                        problems: &s.problems,
                    })
                    .collect(),
                items: p
                    .segments
                    .iter()
                    .filter_map(|s| s.content.as_ref())
                    .collect(),
                problems,
            }
        }
        (None, Err(e)) => InputReport {
            path: &input.path,
            kind: Kind::Unrecognized,
            status: Status::Error,
            encoding: None,
            segments: Vec::new(),
            items: Vec::new(),
            problems: vec![Problem::whole(e.clone())],
        },
        (None, Ok(_)) => InputReport {
            path: &input.path,
            kind: Kind::Unrecognized,
            status: Status::Error,
            encoding: None,
            segments: Vec::new(),
            items: Vec::new(),
            problems: vec![Problem::whole("not parsed")],
        },
    }
}

/// 0 when every input was read, 1 when some was unrecognised or unreadable.
pub fn run(paths: &[PathBuf], format: ParseFormat, budget: inputs::Budget) -> Result<u8, CliError> {
    let inputs = inputs::collect(paths, budget);
    let parsed: Vec<Option<ParsedInput>> = inputs.iter().map(Input::parse).collect();
    let reports: Vec<InputReport<'_>> = inputs
        .iter()
        .zip(&parsed)
        .map(|(i, p)| report(i, p.as_ref()))
        .collect();
    let all_ok = reports
        .iter()
        .all(|r| matches!(r.status, Status::Parsed | Status::Partial));
    match format {
        ParseFormat::Json => {
            let doc = ParseReport {
                schema_version: 1,
                inputs: reports,
            };
            let s = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError::usage(format!("cannot serialise the parse report: {e}")))?;
            crate::out::println(&eems_reports::secrets::scrub(&s));
        }
        ParseFormat::Text => {
            for r in &reports {
                let text = render_text(r);
                let text = eems_reports::secrets::scrub(&text);
                crate::out::print(&eems_reports::safe::document(&text, false));
            }
        }
    }
    Ok(if all_ok { 0 } else { 1 })
}

fn render_text(r: &InputReport<'_>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let enc = r.encoding.map_or("-", |e| e.as_str());
    let _ = writeln!(
        s,
        "{}: {} [{}] ({})",
        r.path,
        r.kind,
        crate::render::status_word(r.status),
        enc
    );
    for seg in &r.segments {
        let cmd = seg.command.map(|c| format!("  > {c}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "  lines {}-{}: {} [{}]{}",
            seg.first_line,
            seg.last_line,
            seg.kind,
            crate::render::status_word(seg.status),
            cmd
        );
    }
    for item in &r.items {
        if let Ok(v) = serde_json::to_value(item) {
            crate::render::tree(&mut s, &v, 2, 200);
        }
    }
    for p in &r.problems {
        match p.line {
            Some(l) => {
                let _ = writeln!(s, "  problem (line {l}): {}", p.message);
            }
            None => {
                let _ = writeln!(s, "  problem: {}", p.message);
            }
        }
    }
    s
}
