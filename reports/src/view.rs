//! Small helpers shared by the HTML and text renderers: names, build line,
//! check counts, evidence location. Plain strings, no markup.

use eems_checks::builds::Precision;
use eems_checks::diagnosis::{BuildInfo, RootCause, ServerDiagnosis, Status};
use eems_checks::evidence::InputSummary;
use eems_checks::finding::{Evidence, Severity};
use eems_checks::registry;
use eems_checks::{CheckOutcome, CheckResult};
use eems_parsers::probe_results::{ProbeReport, ProbeStep, StepKind, StepOutcome};

/// The server's name, or a placeholder when no input named it.
/// The server's name as shown: control and bidi characters visible as
/// `\u{…}`, and such a name flagged.
pub(crate) fn server_name(d: &ServerDiagnosis) -> String {
    match d.server.as_deref() {
        None => "(unnamed server)".to_owned(),
        Some(n) => shown_name(n),
    }
}

pub(crate) fn shown_name(n: &str) -> String {
    if crate::safe::is_suspicious(n) {
        format!(
            "{} (suspicious name: it holds control or bidi characters)",
            crate::safe::visible(n)
        )
    } else {
        n.to_owned()
    }
}

pub(crate) fn status_upper(s: Status) -> &'static str {
    match s {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::Unknown => "UNKNOWN",
    }
}

pub(crate) fn severity_upper(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFO",
        Severity::Warning => "WARNING",
        Severity::Critical => "CRITICAL",
    }
}

/// `Exchange Server 2019 CU12 (15.2.1118.7, CU precision)`.
pub(crate) fn build_line(b: Option<&BuildInfo>) -> String {
    let Some(b) = b else {
        return "build unknown".to_owned();
    };
    let precision = match b.precision {
        Precision::Exact => "exact build",
        Precision::Cu => "CU precision",
    };
    match (&b.product, &b.update) {
        (Some(p), Some(u)) => format!("{p} {u} ({}, {precision})", b.version),
        (Some(p), None) => format!("{p}, build {} ({precision})", b.version),
        _ => format!("build {} ({precision}, not in the build table)", b.version),
    }
}

/// The title of a registered check.
pub(crate) fn check_title(id: &str) -> Option<&'static str> {
    registry::find(id).map(|c| c.meta().title)
}

/// The severity of a failed check: its finding's, else the registered one.
pub(crate) fn failed_severity(d: &ServerDiagnosis, id: &str) -> Severity {
    d.findings
        .iter()
        .filter(|f| f.id == id)
        .map(|f| f.severity)
        .max()
        .or_else(|| registry::find(id).map(|c| c.meta().severity))
        .unwrap_or(Severity::Warning)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl Counts {
    pub fn of(checks: &[CheckResult]) -> Self {
        let mut c = Counts {
            total: checks.len(),
            ..Counts::default()
        };
        for r in checks {
            match r.outcome {
                CheckOutcome::Pass => c.pass += 1,
                CheckOutcome::Fail => c.fail += 1,
                CheckOutcome::Skip => c.skip += 1,
                CheckOutcome::Error => c.error += 1,
            }
        }
        c
    }

    /// `36 checks: 3 fail, 25 pass, 8 skip, 0 error`.
    pub fn line(&self) -> String {
        format!(
            "{} check{}: {} fail, {} pass, {} skip, {} error",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.fail,
            self.pass,
            self.skip,
            self.error
        )
    }
}

/// The 1-based rank of the first earlier root cause with the same fix as
/// cause `i` (candidates share the command that tells them apart: shown
/// once, under the first).
pub(crate) fn same_fix_as(causes: &[RootCause], i: usize) -> Option<usize> {
    let c = causes.get(i)?;
    if c.next_steps.is_empty() {
        return None;
    }
    causes
        .get(..i)?
        .iter()
        .position(|e| e.next_steps == c.next_steps)
        .map(|p| p + 1)
}

pub(crate) use eems_checks::finding::counted as count;

/// `source:line`, or `source` when the evidence has no line.
pub(crate) fn location(e: &Evidence) -> String {
    match e.line {
        Some(l) => format!("{}:{l}", e.source),
        None => e.source.clone(),
    }
}

/// `seen 720 times, 2026-10-01T00:00:00+00:00 – 2026-10-30T23:00:00+00:00`
/// when the citation stands for repeated occurrences.
pub(crate) fn occurrences(e: &Evidence) -> Option<String> {
    let count = e.count.map(|n| format!("seen {n} times"));
    let span = match (&e.first_seen, &e.last_seen) {
        (Some(f), Some(l)) if f == l => Some(format!("at {f}")),
        (Some(f), Some(l)) => Some(format!("first {f}, last {l}")),
        (Some(f), None) => Some(format!("first {f}")),
        (None, Some(l)) => Some(format!("last {l}")),
        (None, None) => None,
    };
    match (count, span) {
        (Some(c), Some(s)) => Some(format!("{c}, {s}")),
        (Some(c), None) => Some(c),
        (None, Some(s)) => Some(s),
        (None, None) => None,
    }
}

/// `dns`, `proxy-connect`, … (the JSON words).
pub(crate) fn step_kind(k: StepKind) -> &'static str {
    match k {
        StepKind::Dns => "dns",
        StepKind::Tcp => "tcp",
        StepKind::ProxyConnect => "proxy-connect",
        StepKind::Tls => "tls",
        StepKind::OcsRequest => "ocs-request",
        StepKind::Crl => "crl",
        StepKind::Aia => "aia",
        StepKind::Ctl => "ctl",
        StepKind::OcsConfig => "ocs-config",
    }
}

pub(crate) fn step_outcome(o: StepOutcome) -> &'static str {
    match o {
        StepOutcome::Ok => "ok",
        StepOutcome::Failed => "failed",
        StepOutcome::TimedOut => "timed-out",
        StepOutcome::Skipped => "skipped",
    }
}

/// The probe line when no probe finding names a failed step. The
/// GetExchangeConfig request is informative: its failure is said, not counted.
pub(crate) fn probe_summary(p: &ProbeReport) -> String {
    let failing = |s: &&ProbeStep| matches!(s.outcome, StepOutcome::Failed | StepOutcome::TimedOut);
    let failed = p
        .steps
        .iter()
        .filter(failing)
        .filter(|s| s.kind != StepKind::OcsConfig)
        .count();
    let mut line = if failed == 0 {
        format!(
            "every step passed ({} step{} in {} ms)",
            p.steps.len(),
            if p.steps.len() == 1 { "" } else { "s" },
            p.duration_ms
        )
    } else {
        format!(
            "{} failed without a finding: see the steps below",
            count(failed as u64, "step", "steps")
        )
    };
    if let Some(s) = p.steps_of(StepKind::OcsConfig).find(failing) {
        if failed == 0 {
            line = format!(
                "every step of the service's path passed ({} steps in {} ms)",
                p.steps.len(),
                p.duration_ms
            );
        }
        line.push_str(&format!(
            "; the informative GetExchangeConfig request failed ({})",
            s.reason.as_deref().unwrap_or("no answer")
        ));
    }
    line
}

/// One line of "What eems-doctor saw", as shown (the evidence window in one
/// line).
pub(crate) struct FactLine {
    pub label: &'static str,
    pub value: Option<String>,
    /// `file:line`.
    pub cite: Option<String>,
    pub collect: Option<&'static str>,
    /// 1-based number of `collect` in [`collect_commands`], so that a
    /// command shared by several unknown values is shown once.
    pub collect_ref: Option<usize>,
}

/// One mitigation of the inventory, as shown: `PING1`, `applied`,
/// `MitigationsApplied`, `get-exchangeserver-fl.txt:2`.
pub(crate) struct InventoryLine {
    pub id: String,
    pub status: String,
    pub source: &'static str,
    pub cite: String,
}

/// The mitigation inventory (issue 16) and how many rows were left out.
pub(crate) fn inventory(d: &ServerDiagnosis) -> (Vec<InventoryLine>, usize) {
    let (rows, left_out) = d.facts.inventory();
    let lines = rows
        .into_iter()
        .map(|r| InventoryLine {
            cite: location(&r.cite),
            id: r.id,
            status: r.status,
            source: r.source,
        })
        .collect();
    (lines, left_out)
}

/// The distinct commands that collect the unknown values, in order.
pub(crate) fn collect_commands(lines: &[FactLine]) -> Vec<&'static str> {
    let mut cmds: Vec<&'static str> = Vec::new();
    for c in lines
        .iter()
        .filter(|l| l.value.is_none())
        .filter_map(|l| l.collect)
    {
        if !cmds.contains(&c) {
            cmds.push(c);
        }
    }
    cmds
}

pub(crate) fn fact_lines(d: &ServerDiagnosis) -> Vec<FactLine> {
    let mut lines = fact_lines_unnumbered(d);
    let cmds = collect_commands(&lines);
    for l in lines.iter_mut().filter(|l| l.value.is_none()) {
        l.collect_ref = l
            .collect
            .and_then(|c| cmds.iter().position(|x| *x == c))
            .map(|i| i + 1);
    }
    lines
}

fn fact_lines_unnumbered(d: &ServerDiagnosis) -> Vec<FactLine> {
    let mut lines = Vec::new();
    let (mut earliest, mut latest) = (None, None);
    for r in &d.facts.rows() {
        match r.key {
            "evidence_earliest" => earliest = Some(r),
            "evidence_latest" => latest = Some(r),
            _ => {}
        }
        if r.key == "evidence_earliest" || r.key == "evidence_latest" {
            if let (Some(e), Some(l)) = (earliest, latest) {
                let value = match (&e.value, &l.value) {
                    (Some(a), Some(b)) if a == b => Some(a.clone()),
                    (Some(a), Some(b)) => Some(format!("{a} to {b}")),
                    _ => None,
                };
                lines.push(FactLine {
                    label: "Evidence window",
                    cite: value.as_ref().and(l.cite.as_ref()).map(location),
                    collect: value.is_none().then_some(l.collect).flatten(),
                    collect_ref: None,
                    value,
                });
            }
            continue;
        }
        lines.push(FactLine {
            label: r.label,
            value: r.value.clone(),
            cite: r.cite.as_ref().map(location),
            collect: r.collect,
            collect_ref: None,
        });
    }
    lines
}

/// The `evidence-stale` finding's title: said up front, since every
/// verdict of the report is about the server as it was then.
pub(crate) fn stale_note(d: &ServerDiagnosis) -> Option<String> {
    d.findings
        .iter()
        .find(|f| f.id == eems_checks::id::CheckId::EvidenceStale)
        .map(|f| {
            format!(
                "{} (evidence-stale): this report describes the server as it was then.",
                f.title
            )
        })
}

/// Why a server without a root cause is believed to work: the last
/// successful fetch, the heartbeat mitigation, what the checks covered.
pub(crate) fn healthy_because(d: &ServerDiagnosis) -> Option<String> {
    if !d.root_causes.is_empty() || d.status == Status::Unknown {
        return None;
    }
    let mut why = Vec::new();
    let value = |k: &str| d.facts.get(k).and_then(|r| r.value.as_deref());
    if let Some(t) = value("last_success") {
        why.push(format!("the last successful fetch was {t}"));
    }
    if let Some(a) = value("mitigations_applied")
        && a.split(", ").any(|m| m.eq_ignore_ascii_case("PING1"))
    {
        why.push("PING1 (the heartbeat mitigation) is applied".to_owned());
    }
    if let Some(sv) = value("service") {
        why.push(format!("the service is {sv}"));
    }
    let c = Counts::of(&d.checks);
    let mut areas: Vec<&str> = Vec::new();
    for r in d
        .checks
        .iter()
        .filter(|r| r.outcome == eems_checks::CheckOutcome::Pass)
    {
        let area = registry::meta(r.id).area;
        if !areas.contains(&area) {
            areas.push(area);
        }
    }
    if !areas.is_empty() {
        why.push(format!(
            "{} of {} checks passed (areas: {})",
            c.pass,
            c.total,
            areas.join(", ")
        ));
    }
    if why.is_empty() {
        return None;
    }
    let lead = if d.status == Status::Ok {
        "Believed healthy because"
    } else {
        "What the evidence shows working"
    };
    Some(format!("{lead}: {}.", why.join("; ")))
}

/// Inputs a reader should notice: not understood, or failed to read.
pub(crate) fn is_problem_input(i: &InputSummary) -> bool {
    matches!(
        i.status,
        eems_parsers::Status::Unrecognized | eems_parsers::Status::Error
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed GetExchangeConfig request is said, never counted as a failed step.
    #[test]
    fn probe_summary_says_the_informative_step_apart() {
        let step = |kind, outcome, reason: Option<&str>| ProbeStep {
            kind,
            target: "t".into(),
            outcome,
            reason: reason.map(str::to_owned),
            duration_ms: 1,
            details: Vec::new(),
            http_status: None,
            proxy_authenticate: None,
        };
        let mut p = ProbeReport {
            steps: vec![
                step(StepKind::Dns, StepOutcome::Ok, None),
                step(StepKind::OcsConfig, StepOutcome::Ok, None),
            ],
            duration_ms: 7,
            ..ProbeReport::default()
        };
        assert_eq!(probe_summary(&p), "every step passed (2 steps in 7 ms)");
        p.steps[1] = step(
            StepKind::OcsConfig,
            StepOutcome::Failed,
            Some("answered HTTP 503"),
        );
        assert_eq!(
            probe_summary(&p),
            "every step of the service's path passed (2 steps in 7 ms); the informative GetExchangeConfig request failed (answered HTTP 503)"
        );
        p.steps
            .push(step(StepKind::Ctl, StepOutcome::TimedOut, None));
        assert!(
            probe_summary(&p).starts_with("1 step failed without a finding"),
            "{}",
            probe_summary(&p)
        );
    }

    #[test]
    fn counts_line() {
        let checks = vec![
            CheckResult {
                id: eems_checks::id::CheckId::BuildUnknown,
                outcome: CheckOutcome::Pass,
                reason: None,
            },
            CheckResult {
                id: eems_checks::id::CheckId::FetchStale,
                outcome: CheckOutcome::Fail,
                reason: None,
            },
            CheckResult {
                id: eems_checks::id::CheckId::FetchFailing,
                outcome: CheckOutcome::Error,
                reason: None,
            },
        ];
        assert_eq!(
            Counts::of(&checks).line(),
            "3 checks: 1 fail, 1 pass, 0 skip, 1 error"
        );
    }

    #[test]
    fn occurrences_wording() {
        let mut e = Evidence::new("log.csv", Some(3), "x");
        assert_eq!(occurrences(&e), None);
        e.count = Some(5);
        e.first_seen = Some("A".into());
        e.last_seen = Some("B".into());
        assert_eq!(
            occurrences(&e).as_deref(),
            Some("seen 5 times, first A, last B")
        );
        assert_eq!(location(&e), "log.csv:3");
    }
}
