//! eems-reports: renders diagnoses for people and programs.
//!
//! - [`to_json`]: the machine-readable contract, JSON schema v1
//!   (`reports/schema/analyze-v1.schema.json`), built from the frozen DTOs in
//!   [`json::v1`], never from the internal types directly.
//! - [`to_html`]: one self-contained page (inline CSS, no script, no external
//!   resource) for support cases.
//! - [`to_text`]: a compact terminal summary, ANSI colours only on request.
//! - [`to_nagios`]: the monitoring-plugin status line with perfdata.
//!
//! Library code never prints: every renderer returns a `String`.

use chrono::{DateTime, Utc};
use eems_checks::diagnosis::ServerDiagnosis;

pub mod fleet;
pub mod fleet_prom;
mod html;
mod html_text;
pub mod json;
pub mod markdown;
mod nagios;
pub mod safe;
pub mod secrets;
mod text;
mod view;

/// Everything one run of eems-doctor reports.
#[derive(Debug, Clone)]
pub struct Report {
    pub tool_version: String,
    pub generated_at: DateTime<Utc>,
    pub servers: Vec<ServerDiagnosis>,
    /// How the paths given became servers: one sentence per rule applied.
    pub grouping: Vec<String>,
    /// What belongs to no server: paths that could not be read, loose files
    /// beside server bundles.
    pub unassigned: Vec<Unassigned>,
}

/// An input that is part of no server's evidence, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unassigned {
    pub path: String,
    pub reason: String,
    /// Could not be read (missing, unreadable, not a regular file, empty
    /// folder), as opposed to set aside on purpose.
    pub error: bool,
}

/// JSON schema v1, pretty-printed.
pub fn to_json(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_json(report, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`to_json`] written to `out` a server at a time: the document without
/// its servers is split where its empty list is, and each server is
/// serialised, scrubbed and cleaned on its own, so a 50,000-server report
/// (about 1 GB of JSON) is never held whole (issue 18 row 7). The bytes are
/// those of serialising the whole document: JSON strings hold no raw line
/// break, so indenting each line of a server by the list's depth is exact.
pub fn write_json(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let clean = |t: String| finish(t, safe::json);
    let skeleton = json::v1::to_string_pretty(&json::v1::Analyze::without_servers(report));
    const EMPTY: &str = "\"servers\": []";
    let (Some((before, after)), false) = (skeleton.split_once(EMPTY), report.servers.is_empty())
    else {
        return out.write_all(clean(skeleton).as_bytes());
    };
    out.write_all(clean(format!("{before}\"servers\": [\n")).as_bytes())?;
    for (n, d) in report.servers.iter().enumerate() {
        let one = serde_json::to_string_pretty(&json::v1::Server::from_diagnosis(d))
            .map_err(std::io::Error::other)?;
        let mut text = String::with_capacity(one.len() + one.len() / 8 + 8);
        if n > 0 {
            text.push_str(",\n");
        }
        for (i, line) in one.split('\n').enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str("    ");
            text.push_str(line);
        }
        out.write_all(clean(text).as_bytes())?;
    }
    out.write_all(clean(format!("\n  ]{after}")).as_bytes())
}

/// `text` through the secret scrubber and then `clean`, copied only where
/// one of them changed something: a 50,000-server report is about 1 GB of
/// JSON, and copying it unchanged held it twice (issue 18 row 7).
fn finish(text: String, clean: impl Fn(&str) -> std::borrow::Cow<'_, str>) -> String {
    use std::borrow::Cow;
    // Each step ends its statement, so its borrow of `text` ends before
    // `text` is moved.
    let scrubbed = match secrets::scrub(&text) {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    };
    let text = scrubbed.unwrap_or(text);
    let cleaned = match clean(&text) {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    };
    cleaned.unwrap_or(text)
}

/// One self-contained HTML page (no script, no external resource). No
/// control or bidi character of the evidence reaches it (see [`safe`]).
pub fn to_html(report: &Report) -> String {
    finish(html::render(report), |t| safe::document(t, false))
}

/// A terminal summary; ANSI colours only when `color` is true (the words are
/// always there). No escape sequence of the evidence reaches it (see [`safe`]).
pub fn to_text(report: &Report, color: bool) -> String {
    finish(text::render(report, color), |t| safe::document(t, color))
}

/// The monitoring-plugin line (Nagios, Icinga, Checkmk, PRTG):
/// `EEMS CRITICAL - EX01 CRITICAL (build-before-march-2023) | servers=1;;;0 …`.
/// Server names are reduced to `[A-Za-z0-9._-]` so evidence cannot break it.
pub fn to_nagios(report: &Report) -> String {
    safe::document(&secrets::scrub(&nagios::render(report)), false).into_owned()
}
