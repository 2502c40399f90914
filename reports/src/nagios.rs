//! `--format nagios`: the monitoring-plugin output Nagios, Icinga, Checkmk
//! and PRTG read: one line `EEMS <STATUS> - <text> | <perfdata>`, with the
//! exit code (0/1/2/3, set by the binary) carrying the state.

use crate::Report;
use eems_checks::diagnosis::Status;
use std::fmt::Write;

fn word(s: Status) -> &'static str {
    match s {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::Unknown => "UNKNOWN",
    }
}

/// The report's state: the worst server's; UNKNOWN without servers.
pub fn status(report: &Report) -> Status {
    let rank = |s: Status| match s {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    };
    report
        .servers
        .iter()
        .map(|s| s.status)
        .max_by_key(|s| rank(*s))
        .unwrap_or(Status::Unknown)
}

/// A name from the evidence, reduced to what cannot break the plugin line:
/// `|` starts perfdata, a newline starts long output.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn render(report: &Report) -> String {
    let st = status(report);
    let mut text = String::new();
    if report.servers.is_empty() {
        text.push_str("no evidence read");
    }
    for (i, s) in report.servers.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let name = clean(s.server.as_deref().unwrap_or("(unnamed)"));
        let _ = write!(text, "{name} {}", word(s.status));
        let causes: Vec<&str> = s.root_causes.iter().map(|c| c.id.as_str()).collect();
        if !causes.is_empty() {
            let _ = write!(text, " ({})", causes.join(", "));
        } else if let Some(f) = s.findings.first().filter(|_| s.status != Status::Ok) {
            let _ = write!(text, " ({})", f.id.as_str());
        }
    }
    let count = |want: Status| report.servers.iter().filter(|s| s.status == want).count();
    let root_causes: usize = report.servers.iter().map(|s| s.root_causes.len()).sum();
    let failed: usize = report.servers.iter().map(|s| s.findings.len()).sum();
    format!(
        "EEMS {} - {text} | servers={};;;0 ok={};;;0 warning={};;;0 critical={};;;0 unknown={};;;0 root_causes={root_causes};;;0 findings={failed};;;0\n",
        word(st),
        report.servers.len(),
        count(Status::Ok),
        count(Status::Warning),
        count(Status::Critical),
        count(Status::Unknown),
    )
}
