//! Fleet scans: many bundles, one dashboard.
//!
//! - [`FleetServer`]: one server entry of `fleet.json` / one line of
//!   `fleet.ndjson` — the analyze schema v1 server plus the bundle it came
//!   from (two bundles may name the same server).
//! - [`ServerSummary`]: the few fields a fleet run keeps per server once the
//!   bundle is analysed and its full report written out (memory per server
//!   stays small whatever the evidence was).
//! - [`Summary`] and [`Changes`]: the counts behind the dashboard, and what
//!   changed since the previous scan.
//! - [`write_fleet_json`] streams the `servers` array from already-serialised
//!   entries; [`to_fleet_html`] renders the self-contained dashboard.
//!
//! Library code never prints and never touches the file system: the binary
//! hands in writers and readers.

use crate::json::v1::{SCHEMA_VERSION, Server, ServerStatus};
use askama::Template;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The root-cause key of a server without one.
pub const NO_ROOT_CAUSE: &str = "none";

/// One server entry of `fleet.json` (and, with the scan's header fields, one
/// line of `fleet.ndjson`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetServer {
    /// The bundle as found (directory, `.zip` or a line of a list file).
    pub bundle: String,
    /// The server's full report, relative to the output directory
    /// (`servers/<name>.html`); absent when HTML was not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// Why the bundle could not be read (status `unknown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub server: Server,
}

/// One line of `fleet.ndjson`: a server entry that stands on its own for a
/// log pipeline (Splunk, Elastic, Log Analytics), with the scan it belongs to.
#[derive(Debug, Serialize)]
pub struct NdjsonLine<'a> {
    pub schema_version: u32,
    pub tool_version: &'a str,
    /// When the scan ran (RFC 3339, UTC), the same for every line of a run.
    pub generated_at: &'a str,
    #[serde(flatten)]
    pub entry: &'a FleetServer,
}

/// What a fleet run keeps of one server after writing its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSummary {
    pub bundle: String,
    pub server: Option<String>,
    pub status: ServerStatus,
    /// `Exchange Server 2019 CU12`, `build 15.2.9999.1 (not in the build table)` or `build unknown`.
    pub build_line: String,
    pub build_version: Option<String>,
    /// The most likely root cause, if any; `bundle-unreadable` for status `unknown`.
    pub root_cause: Option<String>,
    /// Finding ids, most severe first.
    pub findings: Vec<String>,
    pub report: Option<String>,
    pub error: Option<String>,
    /// When `collect` gathered the bundle (its manifest), RFC 3339.
    pub collected_at: Option<String>,
}

impl ServerSummary {
    pub fn of(e: &FleetServer) -> Self {
        let s = &e.server;
        let build_line = match &s.build {
            None => "build unknown".to_owned(),
            Some(b) => match (&b.product, &b.update) {
                (Some(p), Some(u)) => format!("{p} {u}"),
                (Some(p), None) => format!("{p}, build {}", b.version),
                _ => format!("build {} (not in the build table)", b.version),
            },
        };
        ServerSummary {
            bundle: e.bundle.clone(),
            server: s.server.clone(),
            status: s.status,
            build_line,
            build_version: s.build.as_ref().map(|b| b.version.clone()),
            // An unreadable bundle's findings (`build-unknown`, …) only say
            // that nothing was read; the fleet counts it as unreadable.
            root_cause: if s.status == ServerStatus::Unknown {
                Some(UNREADABLE.to_owned())
            } else {
                s.root_causes.first().map(|c| c.id.clone())
            },
            findings: s.findings.iter().map(|f| f.id.clone()).collect(),
            report: e.report.clone(),
            error: e.error.clone(),
            collected_at: s.facts.as_ref().and_then(|f| f.collected_at.value.clone()),
        }
    }

    fn server_ref(&self) -> ServerRef {
        ServerRef {
            server: self.server.clone(),
            bundle: self.bundle.clone(),
        }
    }

    /// The server name, or the bundle when no input named it.
    pub fn label(&self) -> &str {
        self.server.as_deref().unwrap_or(&self.bundle)
    }
}

/// A server behind a count: its name (if known) and its bundle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServerRef {
    pub server: Option<String>,
    pub bundle: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub count: usize,
    pub servers: Vec<ServerRef>,
}

impl Count {
    fn add(&mut self, r: ServerRef) {
        self.count += 1;
        self.servers.push(r);
    }
}

/// `summary` in `fleet.json`. `by_status`, `by_root_cause` and `by_build`
/// each add up to `servers`; a server counts once under every finding it has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub servers: usize,
    /// Always the four keys `ok`, `warning`, `critical`, `unknown`.
    pub by_status: BTreeMap<String, Count>,
    pub by_finding: BTreeMap<String, Count>,
    /// The most likely root cause per server; `none` when there is none,
    /// `bundle-unreadable` for a server with status `unknown`.
    pub by_root_cause: BTreeMap<String, Count>,
    /// Product and update (`Exchange Server 2019 CU14 Nov24SU`), or `build unknown`.
    pub by_build: BTreeMap<String, Count>,
}

pub fn status_word(s: ServerStatus) -> &'static str {
    match s {
        ServerStatus::Ok => "ok",
        ServerStatus::Warning => "warning",
        ServerStatus::Critical => "critical",
        ServerStatus::Unknown => "unknown",
    }
}

/// Worst first, for sorting: critical, unknown, warning, ok.
fn status_rank(s: ServerStatus) -> u8 {
    match s {
        ServerStatus::Critical => 0,
        ServerStatus::Unknown => 1,
        ServerStatus::Warning => 2,
        ServerStatus::Ok => 3,
    }
}

impl Summary {
    pub fn of(servers: &[ServerSummary]) -> Self {
        let mut s = Summary {
            servers: servers.len(),
            ..Summary::default()
        };
        for w in ["ok", "warning", "critical", "unknown"] {
            s.by_status.insert(w.to_owned(), Count::default());
        }
        for srv in servers {
            let r = srv.server_ref();
            s.by_status
                .entry(status_word(srv.status).to_owned())
                .or_default()
                .add(r.clone());
            // A finding raised twice on one server counts the server once.
            let ids: BTreeSet<&String> = srv.findings.iter().collect();
            for id in ids {
                s.by_finding.entry(id.clone()).or_default().add(r.clone());
            }
            s.by_root_cause
                .entry(
                    srv.root_cause
                        .clone()
                        .unwrap_or_else(|| NO_ROOT_CAUSE.to_owned()),
                )
                .or_default()
                .add(r.clone());
            s.by_build.entry(srv.build_line.clone()).or_default().add(r);
        }
        s
    }
}

/// One problem (a finding id, or `bundle-unreadable` for an unknown status)
/// on one server, that appeared or went away since the previous scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    pub server: Option<String>,
    pub bundle: String,
    pub id: String,
}

/// The problem id of a server whose bundle could not be read.
pub const UNREADABLE: &str = "bundle-unreadable";

/// `changes` in `fleet.json`, present with `--previous`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// `generated_at` of the previous scan.
    pub previous_generated_at: Option<String>,
    /// New problems since the last scan (a server absent last time brings all of its problems).
    pub new_problems: Vec<Change>,
    /// Resolved since the last scan. A server that is `unknown` now resolves nothing:
    /// nothing is known about it.
    pub resolved: Vec<Change>,
    /// Servers (bundles) not in the previous scan.
    pub new_servers: Vec<ServerRef>,
    /// Servers of the previous scan with no bundle this time: did their collection stop?
    pub missing_servers: Vec<ServerRef>,
}

/// What is read back from a previous `fleet.json` (or a plain `analyze`
/// JSON): only the fields the comparison needs, the rest is skipped.
#[derive(Debug, Clone, Deserialize)]
pub struct PreviousScan {
    pub generated_at: Option<String>,
    pub servers: Vec<PreviousServer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousServer {
    #[serde(default)]
    pub bundle: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    pub status: ServerStatus,
    #[serde(default)]
    pub findings: Vec<PreviousFinding>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousFinding {
    pub id: String,
}

/// A server's problems: its finding ids, or only `bundle-unreadable` when its
/// status is `unknown` (its `build-unknown`, `evidence-incomplete` … just say
/// that nothing was read).
fn problems_of(status: ServerStatus, findings: impl Iterator<Item = String>) -> BTreeSet<String> {
    if status == ServerStatus::Unknown {
        return BTreeSet::from([UNREADABLE.to_owned()]);
    }
    findings.collect()
}

impl Changes {
    /// Match each server to the previous scan by bundle path, else by server
    /// name (when exactly one previous server has it), and compare problems.
    pub fn between(previous: &PreviousScan, now: &[ServerSummary]) -> Self {
        let mut by_bundle: HashMap<&str, usize> = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in previous.servers.iter().enumerate() {
            if let Some(b) = &p.bundle {
                by_bundle.entry(b.as_str()).or_insert(i);
            }
            if let Some(n) = &p.server {
                by_name.entry(n.to_ascii_lowercase()).or_default().push(i);
            }
        }
        let mut used = vec![false; previous.servers.len()];
        let mut c = Changes {
            previous_generated_at: previous.generated_at.clone(),
            ..Changes::default()
        };
        // Bundle matches first, so a name match never steals a server that
        // has its own bundle in both scans.
        let mut matched: Vec<Option<usize>> = now
            .iter()
            .map(|s| by_bundle.get(s.bundle.as_str()).copied())
            .collect();
        for m in matched.iter().flatten() {
            if let Some(u) = used.get_mut(*m) {
                *u = true;
            }
        }
        for (s, m) in now.iter().zip(matched.iter_mut()) {
            if m.is_some() {
                continue;
            }
            let Some(name) = &s.server else { continue };
            if let Some(cands) = by_name.get(&name.to_ascii_lowercase()) {
                let free: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|i| !used.get(*i).copied().unwrap_or(true))
                    .collect();
                if let [only] = free.as_slice() {
                    *m = Some(*only);
                    if let Some(u) = used.get_mut(*only) {
                        *u = true;
                    }
                }
            }
        }
        for (s, m) in now.iter().zip(matched) {
            let current = problems_of(s.status, s.findings.iter().cloned());
            let change = |id: &str| Change {
                server: s.server.clone(),
                bundle: s.bundle.clone(),
                id: id.to_owned(),
            };
            match m.and_then(|i| previous.servers.get(i)) {
                None => {
                    c.new_servers.push(s.server_ref());
                    c.new_problems.extend(current.iter().map(|id| change(id)));
                }
                Some(p) => {
                    let before = problems_of(p.status, p.findings.iter().map(|f| f.id.clone()));
                    c.new_problems
                        .extend(current.difference(&before).map(|id| change(id)));
                    if s.status != ServerStatus::Unknown {
                        c.resolved
                            .extend(before.difference(&current).map(|id| change(id)));
                    }
                }
            }
        }
        for (p, u) in previous.servers.iter().zip(used) {
            if !u {
                c.missing_servers.push(ServerRef {
                    server: p.server.clone(),
                    bundle: p.bundle.clone().unwrap_or_default(),
                });
            }
        }
        c.new_problems.sort();
        c.resolved.sort();
        c.new_servers.sort();
        c.missing_servers.sort();
        c
    }
}

/// Everything of `fleet.json` but the servers.
#[derive(Debug, Clone)]
pub struct FleetHead {
    pub tool_version: String,
    /// RFC 3339, UTC, whole seconds.
    pub generated_at: String,
    pub summary: Summary,
    pub changes: Option<Changes>,
    /// `--scan-interval`: a bundle collected longer ago than this before
    /// the scan is flagged (its scheduled collection may have stopped).
    pub scan_interval_hours: u32,
}

/// The default of `fleet --scan-interval`: the documented scheduled task
/// collects daily.
pub const DEFAULT_SCAN_INTERVAL_HOURS: u32 = 24;

/// Whether a bundle collected at `collected` is older than `hours` before
/// `scan` (both RFC 3339); `None` when either time is unreadable.
pub fn older_than_interval(collected: &str, scan: &str, hours: u32) -> Option<bool> {
    let c = chrono::DateTime::parse_from_rfc3339(collected).ok()?;
    let n = chrono::DateTime::parse_from_rfc3339(scan).ok()?;
    Some(n - c > chrono::Duration::hours(i64::from(hours)))
}

/// Serialises the `servers` array from an iterator of already-serialised
/// entries (one JSON object each), so the whole fleet is never in memory.
struct StreamServers<I>(RefCell<Option<I>>);

impl<I, E> Serialize for StreamServers<I>
where
    I: Iterator<Item = Result<String, E>>,
    E: std::fmt::Display,
{
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(None)?;
        if let Some(it) = self.0.borrow_mut().take() {
            for item in it {
                let text = item.map_err(S::Error::custom)?;
                let v: serde_json::Value = serde_json::from_str(&text).map_err(S::Error::custom)?;
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(bound(serialize = "StreamServers<I>: Serialize"))]
struct FleetDoc<'a, I> {
    schema_version: u32,
    tool_version: &'a str,
    generated_at: &'a str,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<&'a Changes>,
    servers: StreamServers<I>,
}

/// Write `fleet.json` (analyze schema v1 + `summary` + `changes`), pretty,
/// taking the server entries one at a time from `servers`.
pub fn write_fleet_json<W, I, E>(w: W, head: &FleetHead, servers: I) -> serde_json::Result<()>
where
    W: std::io::Write,
    I: Iterator<Item = Result<String, E>>,
    E: std::fmt::Display,
{
    let doc = FleetDoc {
        schema_version: SCHEMA_VERSION,
        tool_version: &head.tool_version,
        generated_at: &head.generated_at,
        summary: &head.summary,
        changes: head.changes.as_ref(),
        servers: StreamServers(RefCell::new(Some(servers))),
    };
    let mut w = w;
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n").map_err(serde_json::Error::io)
}

// ---------------------------------------------------------------- HTML

#[derive(Template)]
#[template(path = "fleet.html")]
struct Dashboard {
    tool_version: String,
    generated_at: String,
    total: usize,
    tiles: Vec<Tile>,
    bars: Vec<Bar>,
    findings: Vec<FindingRow>,
    changes: Option<ChangesView>,
    rows: Vec<Row>,
    /// Bundles collected longer ago than the scan interval.
    old: usize,
    /// `3 bundles`, `1 bundle`.
    old_bundles: String,
    scan_interval_hours: u32,
}

struct Tile {
    class: &'static str,
    word: &'static str,
    count: usize,
}

struct Bar {
    id: String,
    count: usize,
    /// Width in percent of the longest bar, at least 1 so a count of one shows.
    width: usize,
    /// Worst status among its servers: the bar's colour.
    class: &'static str,
    /// A few server names, for the tooltip.
    sample: String,
}

struct FindingRow {
    id: String,
    count: usize,
    sample: String,
}

struct ChangesView {
    previous: String,
    new_problems: Vec<ChangeRow>,
    resolved: Vec<ChangeRow>,
    new_servers: Vec<String>,
    missing_servers: Vec<String>,
}

struct ChangeRow {
    server: String,
    bundle: String,
    id: String,
}

struct Row {
    name: String,
    /// `ok`, `warning`, `critical`, `unknown` (CSS class and words).
    status: &'static str,
    status_rank: u8,
    root_cause: String,
    build: String,
    /// The dotted build, padded for sorting (`00015.00002.01118.00026`).
    build_key: String,
    findings: String,
    finding_count: usize,
    bundle: String,
    report: Option<String>,
    error: Option<String>,
    /// When the bundle was collected (`—` without a manifest).
    collected: String,
    /// Collected longer ago than the scan interval.
    old: bool,
}

fn sample_names(refs: &[ServerRef]) -> String {
    const SHOW: usize = 8;
    let names: Vec<&str> = refs
        .iter()
        .take(SHOW)
        .map(|r| r.server.as_deref().unwrap_or(&r.bundle))
        .collect();
    let more = refs.len().saturating_sub(SHOW);
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn build_key(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some(v) => v
            .split('.')
            .map(|p| format!("{:0>5}", p))
            .collect::<Vec<_>>()
            .join("."),
    }
}

fn change_rows(v: &[Change]) -> Vec<ChangeRow> {
    v.iter()
        .map(|c| ChangeRow {
            server: c.server.clone().unwrap_or_else(|| "(unnamed)".to_owned()),
            bundle: c.bundle.clone(),
            id: c.id.clone(),
        })
        .collect()
}

fn ref_label(r: &ServerRef) -> String {
    match &r.server {
        Some(s) => format!("{s} ({})", r.bundle),
        None => r.bundle.clone(),
    }
}

/// The self-contained dashboard (inline CSS, a small inline script to sort
/// the server table, no external resource). `servers` in any order; the
/// table starts worst first.
pub fn to_fleet_html(head: &FleetHead, servers: &[ServerSummary]) -> String {
    let sum = &head.summary;
    let count = |w: &str| sum.by_status.get(w).map(|c| c.count).unwrap_or(0);
    let tiles = vec![
        Tile {
            class: "critical",
            word: "critical",
            count: count("critical"),
        },
        Tile {
            class: "warning",
            word: "warning",
            count: count("warning"),
        },
        Tile {
            class: "unknown",
            word: "unknown",
            count: count("unknown"),
        },
        Tile {
            class: "ok",
            word: "ok",
            count: count("ok"),
        },
    ];
    let worst_of: HashMap<&str, ServerStatus> = {
        let mut m: HashMap<&str, ServerStatus> = HashMap::new();
        for s in servers {
            let k = s.root_cause.as_deref().unwrap_or(NO_ROOT_CAUSE);
            let e = m.entry(k).or_insert(s.status);
            if status_rank(s.status) < status_rank(*e) {
                *e = s.status;
            }
        }
        m
    };
    let max = sum
        .by_root_cause
        .values()
        .map(|c| c.count)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut bars: Vec<Bar> = sum
        .by_root_cause
        .iter()
        .map(|(id, c)| Bar {
            id: id.clone(),
            count: c.count,
            width: (c.count * 100 / max).max(1),
            class: status_word(
                worst_of
                    .get(id.as_str())
                    .copied()
                    .unwrap_or(ServerStatus::Ok),
            ),
            sample: sample_names(&c.servers),
        })
        .collect();
    bars.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    let mut findings: Vec<FindingRow> = sum
        .by_finding
        .iter()
        .map(|(id, c)| FindingRow {
            id: id.clone(),
            count: c.count,
            sample: sample_names(&c.servers),
        })
        .collect();
    findings.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    let changes = head.changes.as_ref().map(|c| ChangesView {
        previous: c
            .previous_generated_at
            .clone()
            .unwrap_or_else(|| "an earlier scan".to_owned()),
        new_problems: change_rows(&c.new_problems),
        resolved: change_rows(&c.resolved),
        new_servers: c.new_servers.iter().map(ref_label).collect(),
        missing_servers: c.missing_servers.iter().map(ref_label).collect(),
    });
    let mut rows: Vec<Row> = servers
        .iter()
        .map(|s| Row {
            name: crate::view::shown_name(s.label()),
            status: status_word(s.status),
            status_rank: status_rank(s.status),
            root_cause: s
                .root_cause
                .clone()
                .unwrap_or_else(|| NO_ROOT_CAUSE.to_owned()),
            build: s.build_line.clone(),
            build_key: build_key(s.build_version.as_deref()),
            findings: s.findings.join(", "),
            finding_count: s.findings.len(),
            bundle: s.bundle.clone(),
            report: s.report.clone(),
            error: s.error.clone(),
            collected: s.collected_at.clone().unwrap_or_else(|| "—".to_owned()),
            old: s.collected_at.as_deref().is_some_and(|c| {
                older_than_interval(c, &head.generated_at, head.scan_interval_hours)
                    .unwrap_or(false)
            }),
        })
        .collect();
    let old = rows.iter().filter(|r| r.old).count();
    rows.sort_by(|a, b| {
        a.status_rank
            .cmp(&b.status_rank)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.bundle.cmp(&b.bundle))
    });
    let page = Dashboard {
        tool_version: head.tool_version.clone(),
        generated_at: head.generated_at.clone(),
        total: sum.servers,
        tiles,
        bars,
        findings,
        changes,
        rows,
        old,
        old_bundles: crate::view::count(old as u64, "bundle", "bundles"),
        scan_interval_hours: head.scan_interval_hours,
    };
    match page.render() {
        // No control or bidi character of the evidence reaches the page.
        Ok(s) => crate::safe::document(&s, false).into_owned(),
        Err(e) => format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>eems-doctor fleet</title></head><body><p>The dashboard could not be rendered: {}</p></body></html>\n",
            e.to_string()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(bundle: &str, name: &str, status: ServerStatus, f: &[&str]) -> ServerSummary {
        ServerSummary {
            bundle: bundle.into(),
            server: Some(name.into()),
            status,
            build_line: "build unknown".into(),
            build_version: None,
            root_cause: f.first().map(|x| (*x).to_owned()),
            findings: f.iter().map(|x| (*x).to_owned()).collect(),
            report: None,
            error: None,
            collected_at: None,
        }
    }

    #[test]
    fn bundles_older_than_the_scan_interval_are_flagged() {
        let scan = "2026-12-02T06:30:00Z";
        assert_eq!(
            older_than_interval("2026-12-02T06:00:00Z", scan, 24),
            Some(false)
        );
        assert_eq!(
            older_than_interval("2026-11-20T06:00:00Z", scan, 24),
            Some(true)
        );
        assert_eq!(
            older_than_interval("2026-11-20T06:00:00Z", scan, 24 * 30),
            Some(false)
        );
        assert_eq!(older_than_interval("not a time", scan, 24), None);
        let mut fresh = s("b1", "FRESH", ServerStatus::Ok, &[]);
        fresh.collected_at = Some("2026-12-02T06:00:00Z".into());
        let mut old = s("b2", "OLD", ServerStatus::Ok, &[]);
        old.collected_at = Some("2026-11-20T06:00:00Z".into());
        let none = s("b3", "NONE", ServerStatus::Ok, &[]);
        let servers = vec![fresh, old, none];
        let head = FleetHead {
            tool_version: "t".into(),
            generated_at: scan.into(),
            summary: Summary::of(&servers),
            changes: None,
            scan_interval_hours: 24,
        };
        let html = to_fleet_html(&head, &servers);
        assert!(html.contains("<th data-k=\"collected\""));
        assert!(html.contains("1 bundle collected more than 24 hours before this scan"));
        assert_eq!(
            html.matches("older than the scan interval</span>").count(),
            1
        );
        let old_row = html.split("<tr data-name=\"OLD\"").nth(1).unwrap();
        assert!(
            old_row
                .split("</tr>")
                .next()
                .unwrap()
                .contains("older than the scan interval")
        );
    }

    #[test]
    fn summary_adds_up() {
        let v = vec![
            s("a", "A", ServerStatus::Critical, &["x", "y"]),
            s("b", "B", ServerStatus::Ok, &[]),
            s("c", "A", ServerStatus::Unknown, &[]),
        ];
        let sum = Summary::of(&v);
        assert_eq!(sum.servers, 3);
        assert_eq!(sum.by_status.values().map(|c| c.count).sum::<usize>(), 3);
        assert_eq!(
            sum.by_root_cause.values().map(|c| c.count).sum::<usize>(),
            3
        );
        assert_eq!(sum.by_root_cause["none"].count, 2);
        assert_eq!(sum.by_finding["y"].servers[0].bundle, "a");
    }

    #[test]
    fn changes_match_by_bundle_then_name() {
        let prev = PreviousScan {
            generated_at: Some("T0".into()),
            servers: vec![
                PreviousServer {
                    bundle: Some("old/a".into()),
                    server: Some("A".into()),
                    status: ServerStatus::Critical,
                    findings: vec![PreviousFinding { id: "x".into() }],
                },
                PreviousServer {
                    bundle: Some("b".into()),
                    server: Some("B".into()),
                    status: ServerStatus::Ok,
                    findings: vec![],
                },
                PreviousServer {
                    bundle: Some("gone".into()),
                    server: Some("G".into()),
                    status: ServerStatus::Ok,
                    findings: vec![],
                },
            ],
        };
        let now = vec![
            s("new/a", "a", ServerStatus::Warning, &["z"]),
            s("b", "B", ServerStatus::Unknown, &[]),
            s("c", "C", ServerStatus::Critical, &["q"]),
        ];
        let c = Changes::between(&prev, &now);
        let ids = |v: &[Change]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&c.resolved), vec!["x"]);
        assert_eq!(ids(&c.new_problems), vec![UNREADABLE, "q", "z"]);
        assert_eq!(c.new_servers.len(), 1);
        assert_eq!(c.missing_servers[0].bundle, "gone");
    }
}
