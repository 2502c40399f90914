//! `fleet.prom`: the fleet scan as OpenMetrics text, for Prometheus through
//! node_exporter's textfile collector (or any scraper of the format).
//!
//! Gauges only: each scan replaces the file, so every value is "as of the
//! last scan". Server statuses use the monitoring-plugin numbers (0 ok,
//! 1 warning, 2 critical, 3 unknown) so alert rules read like the exit codes.

use crate::fleet::{FleetHead, ServerSummary, status_word};
use crate::json::v1::ServerStatus;
use std::fmt::Write;

/// A label value as the text format requires: `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn code(s: ServerStatus) -> u8 {
    match s {
        ServerStatus::Ok => 0,
        ServerStatus::Warning => 1,
        ServerStatus::Critical => 2,
        ServerStatus::Unknown => 3,
    }
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// `servers` in scan order; `evidence_age_seconds[i]` is the age of server
/// `i`'s evidence (its collect manifest's `collected_at`) at `scanned_at`
/// (Unix seconds), `None` when the bundle has no manifest.
pub fn to_fleet_prom(
    head: &FleetHead,
    servers: &[ServerSummary],
    evidence_age_seconds: &[Option<i64>],
    scanned_at: i64,
) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "eems_servers",
        "Servers in the last fleet scan, by EEMS status.",
    );
    for (status, count) in &head.summary.by_status {
        let _ = writeln!(
            out,
            "eems_servers{{status=\"{}\"}} {}",
            label(status),
            count.count
        );
    }
    family(
        &mut out,
        "eems_servers_by_root_cause",
        "Servers by their most likely root cause (none: no root cause; bundle-unreadable: status unknown).",
    );
    for (cause, count) in &head.summary.by_root_cause {
        let _ = writeln!(
            out,
            "eems_servers_by_root_cause{{root_cause=\"{}\"}} {}",
            label(cause),
            count.count
        );
    }
    family(
        &mut out,
        "eems_server_status",
        "EEMS status of each server: 0 ok, 1 warning, 2 critical, 3 unknown.",
    );
    for s in servers {
        let _ = writeln!(
            out,
            "eems_server_status{{server=\"{}\",bundle=\"{}\",status=\"{}\",root_cause=\"{}\"}} {}",
            label(s.label()),
            label(&s.bundle),
            status_word(s.status),
            label(s.root_cause.as_deref().unwrap_or("none")),
            code(s.status)
        );
    }
    family(
        &mut out,
        "eems_evidence_age_seconds",
        "Age of each server's evidence at scan time, from its collect manifest (servers without one are left out).",
    );
    for (s, age) in servers.iter().zip(evidence_age_seconds) {
        if let Some(age) = age {
            let _ = writeln!(
                out,
                "eems_evidence_age_seconds{{server=\"{}\",bundle=\"{}\"}} {age}",
                label(s.label()),
                label(&s.bundle)
            );
        }
    }
    family(
        &mut out,
        "eems_scan_timestamp_seconds",
        "When the fleet scan ran (Unix time).",
    );
    let _ = writeln!(out, "eems_scan_timestamp_seconds {scanned_at}");
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Summary;

    fn s(
        bundle: &str,
        name: Option<&str>,
        status: ServerStatus,
        cause: Option<&str>,
    ) -> ServerSummary {
        ServerSummary {
            bundle: bundle.into(),
            server: name.map(Into::into),
            status,
            build_line: "build unknown".into(),
            build_version: None,
            root_cause: cause.map(Into::into),
            findings: cause.iter().map(|c| (*c).to_owned()).collect(),
            report: None,
            error: None,
            collected_at: None,
        }
    }

    #[test]
    fn families_counts_and_escaping() {
        let servers = vec![
            s(
                "b/ex01",
                Some("EX01"),
                ServerStatus::Critical,
                Some("build-before-march-2023"),
            ),
            s("b/ex02", Some("EX\"02\\"), ServerStatus::Ok, None),
            s(
                "b/ex03.zip",
                None,
                ServerStatus::Unknown,
                Some("bundle-unreadable"),
            ),
        ];
        let head = FleetHead {
            tool_version: "0.1.0".into(),
            generated_at: "2026-03-01T06:00:00Z".into(),
            summary: Summary::of(&servers),
            changes: None,
            scan_interval_hours: 24,
        };
        let text = to_fleet_prom(
            &head,
            &servers,
            &[Some(3600), None, Some(90000)],
            1_772_344_800,
        );
        assert!(
            text.contains("eems_servers{status=\"critical\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("eems_servers{status=\"warning\"} 0\n"));
        assert!(text.contains("eems_servers_by_root_cause{root_cause=\"none\"} 1\n"));
        assert!(text.contains("eems_server_status{server=\"EX01\",bundle=\"b/ex01\",status=\"critical\",root_cause=\"build-before-march-2023\"} 2\n"));
        assert!(text.contains("eems_server_status{server=\"EX\\\"02\\\\\",bundle=\"b/ex02\",status=\"ok\",root_cause=\"none\"} 0\n"), "{text}");
        // The unnamed server is labelled by its bundle; no manifest, no age line.
        assert!(text.contains(
            "eems_evidence_age_seconds{server=\"b/ex03.zip\",bundle=\"b/ex03.zip\"} 90000\n"
        ));
        assert!(!text.contains("eems_evidence_age_seconds{server=\"EX\\\"02"));
        assert!(text.ends_with("eems_scan_timestamp_seconds 1772344800\n# EOF\n"));
        // Every sample line is `name{labels} value` or `name value`, and every family is typed.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (metric, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<i64>().is_ok(), "{line}");
            let name = metric.split('{').next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} gauge\n")), "{line}");
        }
    }
}
