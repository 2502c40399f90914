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
pub fn run(
    paths: &[PathBuf],
    format: ParseFormat,
    budget: inputs::Budget,
    max_items: usize,
) -> Result<u8, CliError> {
    // A large log on disk is streamed (issue 14): once into its summary, as
    // `analyze` reads it, and once more row by row into the JSON output, so
    // memory does not grow with it. Standard input and zip entries cannot be
    // read twice: they are read whole.
    let budget = inputs::Budget {
        stream_files_only: true,
        ..budget
    };
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
        ParseFormat::Json if inputs.iter().any(|i| i.streamed.is_some()) => {
            match write_streamed_json(&inputs, &reports, max_items) {
                Ok(()) => {}
                // A closed pipe (`| head`) ends the program quietly, as in `out`.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
                Err(e) => return Err(CliError::io("cannot write the parse report", e)),
            }
        }
        ParseFormat::Json => {
            let doc = ParseReport {
                schema_version: 1,
                inputs: reports,
            };
            let s = serde_json::to_string_pretty(&doc)
                .map_err(|e| CliError::usage(format!("cannot serialise the parse report: {e}")))?;
            crate::out::println(&eems_reports::safe::json(&eems_reports::secrets::scrub(&s)));
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

/// JSON text as every report writes it: credentials scrubbed, bidi and C1
/// controls escaped.
fn json_safe(s: &str) -> String {
    eems_reports::safe::json(&eems_reports::secrets::scrub(s)).into_owned()
}

/// Where a streamed input's records go in its serialised report.
const ROWS: &str = "\u{0}records of the streamed input\u{0}";

/// The parse report as `run` prints it, with each streamed log's `records`
/// (or export's `events`) written one by one from a second read of its file
/// (at most `max_items`; the count left out is a problem of the input).
fn write_streamed_json(
    inputs: &[Input],
    reports: &[InputReport<'_>],
    max_items: usize,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    let text =
        |v: &serde_json::Value| serde_json::to_string_pretty(v).map_err(std::io::Error::other);
    out.write_all(b"{\n  \"schema_version\": 1,\n  \"inputs\": [\n")?;
    for (n, (input, r)) in inputs.iter().zip(reports).enumerate() {
        if n > 0 {
            out.write_all(b",\n")?;
        }
        let mut v = serde_json::to_value(r).map_err(std::io::Error::other)?;
        let Some(streamed) = &input.streamed else {
            out.write_all(json_safe(&text(&v)?).as_bytes())?;
            continue;
        };
        let content = streamed
            .parsed
            .segments
            .first()
            .and_then(|s| s.content.as_ref());
        let (rows, field, word) = match content {
            Some(Content::MitigationLog(l)) => (l.record_count, "records", "rows"),
            Some(Content::EventExport(e)) => (
                usize::try_from(e.streamed_events.unwrap_or(0)).unwrap_or(usize::MAX),
                "events",
                "events",
            ),
            _ => (0, "records", "rows"),
        };
        if rows > max_items {
            if let Some(p) = v["problems"].as_array_mut() {
                p.push(serde_json::json!({
                    "line": null,
                    "message": format!("{} of {rows} {word} not listed (--max-items {max_items})", rows - max_items),
                }));
            }
        }
        // The events are listed here, so the count of a streamed export is not.
        if let Some(item) = v["items"][0].as_object_mut() {
            item.remove("streamed_events");
            item.insert(field.to_owned(), serde_json::Value::String(ROWS.to_owned()));
        }
        let doc = json_safe(&text(&v)?);
        let marker = serde_json::to_string(ROWS).map_err(std::io::Error::other)?;
        let (before, after) = doc.split_once(&marker).unwrap_or((&doc, ""));
        out.write_all(before.as_bytes())?;
        out.write_all(b"[")?;
        let file = std::fs::File::open(&input.path)?;
        let mut written = 0usize;
        let mut failed: Option<std::io::Error> = None;
        let mut write_row = |row: Result<String, serde_json::Error>| {
            if written >= max_items || failed.is_some() {
                return;
            }
            let row = match row {
                Ok(s) => s,
                Err(e) => {
                    failed = Some(std::io::Error::other(e));
                    return;
                }
            };
            let sep: &[u8] = if written == 0 { b"\n" } else { b",\n" };
            let res = out
                .write_all(sep)
                .and_then(|()| out.write_all(json_safe(&row).as_bytes()));
            if let Err(e) = res {
                failed = Some(e);
            }
            written += 1;
        };
        match content {
            Some(Content::EventExport(e)) => {
                let write_event = |ev: eems_parsers::events::Event| {
                    write_row(serde_json::to_string(&ev));
                };
                match (streamed.parsed.encoding, e.format) {
                    (eems_parsers::Encoding::Binary, _) | (_, None) => {
                        eems_parsers::stream::read_evtx(std::io::BufReader::new(file), write_event);
                    }
                    (encoding, Some(format)) => {
                        eems_parsers::stream::read_events(file, encoding, format, write_event);
                    }
                }
            }
            _ => {
                eems_parsers::stream::read_log(file, streamed.parsed.encoding, |rec| {
                    write_row(serde_json::to_string(&rec.to_record()));
                });
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        out.write_all(b"\n]")?;
        out.write_all(after.as_bytes())?;
    }
    out.write_all(b"\n  ]\n}\n")?;
    out.flush()
}

fn render_text(r: &InputReport<'_>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let enc = r.encoding.map_or("-", |e| e.as_str());
    let _ = writeln!(
        s,
        "{}: {} [{}] ({})",
        // A newline in a file name must not forge a line of its own.
        eems_reports::safe::visible(r.path),
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
