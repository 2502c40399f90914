//! The self-contained HTML page: inline CSS, no script, no external resource.
//! Every string from the evidence goes through askama's HTML escaping; the
//! only `|safe` in the templates prints `html_text`'s output, which escapes
//! everything itself and adds nothing but `<code>` (and, for the embedded
//! documentation, paragraphs, lists and emphasis).

use crate::Report;
use crate::view::{self, Counts};
use askama::Template;
use chrono::SecondsFormat;
use eems_checks::CheckOutcome;
use eems_checks::diagnosis::{RootCause, ServerDiagnosis};
use eems_checks::finding::{Evidence, Finding, Step};
use eems_parsers::probe_results::{CertInfo, ChainRole, HttpFetch, ProbeReport};

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    tool_version: String,
    generated_at: String,
    /// More than one server: show the summary table.
    multi: bool,
    servers: Vec<ServerView>,
    totals: String,
    /// How the paths became servers.
    grouping: Vec<String>,
    /// Inputs that are part of no server.
    unassigned: Vec<crate::Unassigned>,
    /// The documentation of every check with a finding, once per page.
    about: Vec<AboutView>,
}

struct AboutView {
    id: &'static str,
    text: &'static str,
}

struct ServerView {
    anchor: String,
    name: String,
    /// CSS class suffix: `ok`, `warning`, `critical`, `unknown`.
    status: &'static str,
    status_word: &'static str,
    build: String,
    build_source: Option<String>,
    headline: Option<CauseView>,
    others: Vec<CauseView>,
    counts: String,
    /// Failed, errored and skipped checks.
    checks: Vec<CheckRow>,
    /// Passing checks (collapsed by default).
    passed: Vec<CheckRow>,
    findings: Vec<FindingView>,
    inputs: Vec<InputRow>,
    /// `The 7 inputs, their kind and status`.
    inputs_label: String,
    /// `25 passing checks`.
    passed_label: String,
    problem_inputs: usize,
    probe: Option<ProbeView>,
    /// "What eems-doctor saw".
    facts: Vec<FactView>,
    /// Each mitigation with its status and source (issue 16).
    inventory: Vec<view::InventoryLine>,
    /// Inventory rows not listed (past `MAX_INVENTORY`).
    inventory_more: usize,
    /// The distinct commands that collect the unknown facts.
    collect: Vec<&'static str>,
    /// Why a server without a root cause is believed to work.
    healthy: Option<String>,
    /// The evidence is older than `--max-age`.
    stale: Option<String>,
}

struct FactView {
    label: &'static str,
    value: Option<String>,
    cite: Option<String>,
    /// The number of the command that collects it (see `collect`).
    collect_ref: usize,
}

/// The "Live probe" section: every step, the chains, the downloads.
struct ProbeView {
    /// The failed step and what to change, or a summary.
    line: String,
    failed: bool,
    meta: String,
    steps: Vec<ProbeStepRow>,
    tls: Option<String>,
    tls_chain: Vec<CertRow>,
    ocs: Option<String>,
    ocs_excerpt: Option<String>,
    signing_chain: Vec<CertRow>,
    fetches: Vec<FetchRow>,
}

struct ProbeStepRow {
    kind: &'static str,
    target: String,
    /// `ok`, `failed`, `timed-out`, `skipped` (also the CSS class suffix).
    outcome: &'static str,
    ms: u64,
    note: String,
}

struct CertRow {
    subject: String,
    issuer: String,
    validity: String,
    sha256: String,
    scts: u32,
    extra: String,
}

struct FetchRow {
    what: String,
    url: String,
    via: String,
    /// `ok` or `failed` (CSS class suffix), and the words shown.
    class: &'static str,
    result: String,
    ms: u64,
}

struct CauseView {
    rank: usize,
    id: String,
    check_title: Option<String>,
    confidence: &'static str,
    explanation: String,
    evidence: Vec<EvidenceView>,
    steps: Vec<StepView>,
    /// Anchor of the finding with the same id on this server, if any.
    finding_anchor: Option<String>,
    /// The rank of the earlier cause whose fix this is (candidates share
    /// the command that tells them apart): said once; 0 = its own.
    steps_as: usize,
    /// The evidence is an earlier cause's.
    evidence_as_above: bool,
}

struct EvidenceView {
    location: String,
    excerpt: String,
    occurrences: Option<String>,
}

struct StepView {
    text: String,
    command: Option<String>,
}

struct CheckRow {
    id: String,
    title: String,
    outcome: &'static str,
    reason: String,
    finding_anchor: Option<String>,
}

struct FindingView {
    anchor: String,
    id: String,
    severity: &'static str,
    severity_word: &'static str,
    confidence: &'static str,
    title: String,
    detail: String,
    evidence: Vec<EvidenceView>,
    steps: Vec<StepView>,
    /// The docs link, only when it is relative (never a scheme or `//host`).
    #[allow(dead_code)] // kept for the JSON's `docs`; the page embeds the text instead
    docs: Option<String>,
    /// The in-page anchor of the check's documentation (the same text as
    /// `explain`, embedded once per page): a report is read far from the
    /// source tree.
    about: Option<String>,
    /// The finding of the headline root cause: said once, in the headline.
    headline: bool,
    /// Its evidence is a root cause's, shown above.
    evidence_as_above: bool,
}

struct InputRow {
    path: String,
    kind: String,
    status: String,
    problem: bool,
    reason: String,
}

/// True the first time: only the first finding of the headline's id is
/// folded into the headline.
fn seen_headline(done: &mut bool) -> bool {
    std::mem::replace(done, true)
}

pub(crate) fn render(report: &Report) -> String {
    let page = Page::from_report(report);
    match page.render() {
        Ok(s) => s,
        // Rendering into a String only fails on a template bug; the page
        // still says what happened, escaped.
        Err(e) => format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>eems-doctor report</title></head><body><p>The report could not be rendered: {}</p></body></html>\n",
            escape_text(&e.to_string())
        ),
    }
}

fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Page {
    fn from_report(report: &Report) -> Self {
        let servers: Vec<ServerView> = report
            .servers
            .iter()
            .enumerate()
            .map(|(i, d)| ServerView::new(i, d))
            .collect();
        let mut by_status = [0usize; 4];
        for d in &report.servers {
            let slot = match d.status {
                eems_checks::diagnosis::Status::Critical => 0,
                eems_checks::diagnosis::Status::Warning => 1,
                eems_checks::diagnosis::Status::Unknown => 2,
                eems_checks::diagnosis::Status::Ok => 3,
            };
            by_status[slot] += 1;
        }
        let totals = format!(
            "{} server{}: {} critical, {} warning, {} unknown, {} ok",
            servers.len(),
            if servers.len() == 1 { "" } else { "s" },
            by_status[0],
            by_status[1],
            by_status[2],
            by_status[3]
        );
        let mut about: Vec<AboutView> = Vec::new();
        for f in report.servers.iter().flat_map(|d| &d.findings) {
            let id = f.id.as_str();
            if !about.iter().any(|a| a.id == id)
                && let Some(text) = eems_checks::docs::explain(id)
            {
                about.push(AboutView { id, text });
            }
        }
        Page {
            about,
            tool_version: report.tool_version.clone(),
            generated_at: report
                .generated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            multi: servers.len() > 1,
            servers,
            totals,
            grouping: report.grouping.clone(),
            unassigned: report.unassigned.clone(),
        }
    }
}

/// A fragment id made of `[a-z0-9-]` only.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Only relative links are rendered as links: no scheme, no `//host`.
fn relative_link(docs: &str) -> Option<String> {
    let d = docs.trim();
    let scheme = d
        .split_once(':')
        .is_some_and(|(s, _)| !s.is_empty() && !s.contains(['/', '#', '?']));
    if d.is_empty() || scheme || d.starts_with("//") || d.starts_with('\\') {
        None
    } else {
        Some(d.to_owned())
    }
}

impl ServerView {
    fn new(index: usize, d: &ServerDiagnosis) -> Self {
        let name = view::server_name(d);
        let anchor = format!("s{}-{}", index + 1, slug(&name));
        let finding_anchor = |id: &str| -> Option<String> {
            d.findings
                .iter()
                .any(|f| f.id == id)
                .then(|| format!("{anchor}-f-{id}"))
        };
        let mut causes = d.root_causes.iter().enumerate().map(|(i, c)| {
            let mut v = CauseView::new(i + 1, c, finding_anchor(c.id.as_str()));
            let earlier = d.root_causes.get(..i).unwrap_or_default();
            if let Some(rank) = view::same_fix_as(&d.root_causes, i) {
                v.steps_as = rank;
                v.steps.clear();
            }
            if !c.evidence.is_empty() && earlier.iter().any(|e| e.evidence == c.evidence) {
                v.evidence_as_above = true;
                v.evidence.clear();
            }
            v
        });
        let headline = causes.next();
        let others = causes.collect();
        let counts = Counts::of(&d.checks);
        // Problems first (fail, error, skip, pass); registry order within.
        let mut ordered: Vec<_> = d.checks.iter().collect();
        ordered.sort_by_key(|c| match c.outcome {
            CheckOutcome::Fail => 0,
            CheckOutcome::Error => 1,
            CheckOutcome::Skip => 2,
            CheckOutcome::Pass => 3,
        });
        let (passed, checks): (Vec<CheckRow>, Vec<CheckRow>) = ordered
            .into_iter()
            .map(|c| {
                let outcome = c.outcome.as_str();
                CheckRow {
                    id: c.id.as_str().to_owned(),
                    title: view::check_title(c.id.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    outcome,
                    // A pass whose reason is its title says it once (the
                    // title is beside it).
                    reason: c
                        .reason
                        .as_deref()
                        .filter(|r| {
                            c.outcome != CheckOutcome::Pass
                                || view::check_title(c.id.as_str()) != Some(*r)
                        })
                        .map(str::to_owned)
                        .unwrap_or_default(),
                    finding_anchor: if c.outcome == CheckOutcome::Fail {
                        finding_anchor(c.id.as_str())
                    } else {
                        None
                    },
                }
            })
            .partition(|r| r.outcome == "pass");
        // Several findings may share an id: the first one carries the anchor.
        let mut seen = Vec::new();
        let mut headline_done = false;
        let findings = d
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let anchor = if seen.contains(&f.id) {
                    format!("{anchor}-f-{}-{}", f.id, i + 1)
                } else {
                    seen.push(f.id);
                    format!("{anchor}-f-{}", f.id)
                };
                let mut v = FindingView::new(anchor, f);
                // The headline's finding points at it instead of repeating it.
                v.headline = d.root_causes.first().is_some_and(|c| {
                    c.id == f.id && c.evidence == f.evidence && c.next_steps == f.remediation
                }) && !seen_headline(&mut headline_done);
                if !f.evidence.is_empty() && d.root_causes.iter().any(|c| c.evidence == f.evidence)
                {
                    v.evidence_as_above = true;
                    v.evidence.clear();
                }
                v
            })
            .collect();
        let inputs: Vec<InputRow> = d
            .inputs
            .iter()
            .map(|i| InputRow {
                path: i.path.as_str().to_owned(),
                kind: i.kind.as_str().to_owned(),
                status: i.status.as_str().to_owned(),
                problem: view::is_problem_input(i),
                reason: i.reason.clone().unwrap_or_default(),
            })
            .collect();
        let fact_lines = view::fact_lines(d);
        let collect = view::collect_commands(&fact_lines);
        let facts = fact_lines
            .into_iter()
            .map(|f| FactView {
                label: f.label,
                value: f.value,
                cite: f.cite,
                collect_ref: f.collect_ref.unwrap_or(0),
            })
            .collect();
        let (inventory, inventory_more) = view::inventory(d);
        ServerView {
            facts,
            inventory,
            inventory_more,
            collect,
            healthy: view::healthy_because(d),
            stale: view::stale_note(d),
            probe: d
                .probes
                .as_ref()
                .map(|p| ProbeView::new(p, d.failed_step.as_deref())),
            problem_inputs: inputs.iter().filter(|i| i.problem).count(),
            inputs_label: if inputs.len() == 1 {
                "The input, its kind and status".to_owned()
            } else {
                format!("The {} inputs, their kind and status", inputs.len())
            },
            passed_label: view::count(passed.len() as u64, "passing check", "passing checks"),
            anchor,
            name,
            status: d.status.as_str(),
            status_word: view::status_upper(d.status),
            build: view::build_line(d.build.as_ref()),
            build_source: d.build.as_ref().map(|b| b.source.clone()),
            headline,
            others,
            counts: counts.line(),
            checks,
            passed,
            findings,
            inputs,
        }
    }

    /// One line for the summary table.
    fn headline_text(&self) -> String {
        match &self.headline {
            Some(c) => c.id.clone(),
            None => "none found".to_owned(),
        }
    }
}

impl ProbeView {
    fn new(p: &ProbeReport, failed_step: Option<&str>) -> Self {
        let mut meta = vec![format!("started {}", p.started_at)];
        if let Some(h) = &p.host {
            meta.push(format!("on {h}"));
        }
        meta.push(format!("OCS {}", p.ocs_url));
        meta.push(match &p.proxy {
            Some(x) => format!("proxy {x}"),
            None => "no proxy".to_owned(),
        });
        meta.push(match &p.winhttp_proxy {
            Some(x) => format!("WinHTTP proxy {x}"),
            None => "WinHTTP direct".to_owned(),
        });
        meta.push(format!(
            "timeout {} ms, total {} ms",
            p.timeout_ms, p.duration_ms
        ));
        let steps = p
            .steps
            .iter()
            .map(|s| {
                let mut note: Vec<String> = s.reason.iter().cloned().collect();
                if let Some(c) = s.http_status {
                    note.push(format!("HTTP {c}"));
                }
                if let Some(a) = &s.proxy_authenticate {
                    note.push(format!("Proxy-Authenticate: {a}"));
                }
                note.extend(s.details.iter().cloned());
                ProbeStepRow {
                    kind: view::step_kind(s.kind),
                    target: s.target.clone(),
                    outcome: view::step_outcome(s.outcome),
                    ms: s.duration_ms,
                    note: note.join("; "),
                }
            })
            .collect();
        let tls = p.tls.as_ref().map(|t| {
            let mut v = Vec::new();
            v.extend(t.protocol.clone());
            v.extend(t.cipher_suite.clone());
            v.push(if t.trusted {
                "trusted".to_owned()
            } else {
                format!(
                    "not trusted{}",
                    t.validation_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )
            });
            if t.extra_anchors > 0 {
                v.push(format!(
                    "{} from --ca-file",
                    view::count(t.extra_anchors as u64, "extra anchor", "extra anchors")
                ));
            }
            v.join(" · ")
        });
        let ocs = p.ocs.as_ref().map(|o| {
            format!(
                "HTTP {} · {} · {} · {} · {} · {} bytes",
                o.status,
                if o.from_ocs {
                    "from OCS (X-OfficeCluster/X-OfficeFE)"
                } else {
                    "not from OCS"
                },
                if o.eocs_xml {
                    "EOCS XML"
                } else {
                    "not EOCS XML"
                },
                if o.has_signature {
                    "signed"
                } else {
                    "no signature"
                },
                view::count(o.mitigation_ids.len() as u64, "mitigation", "mitigations"),
                o.body_bytes
            )
        });
        let mut fetches: Vec<FetchRow> = p
            .crls
            .iter()
            .map(|c| {
                let mut row = FetchRow::new(
                    format!(
                        "CRL ({} chain) for {}",
                        match c.chain {
                            ChainRole::Tls => "TLS",
                            ChainRole::Signing => "signing",
                        },
                        c.for_subject
                    ),
                    &c.fetch,
                );
                let mut facts = Vec::new();
                if let Some(n) = &c.next_update {
                    facts.push(format!("next update {n}"));
                }
                if c.expired == Some(true) {
                    facts.push("EXPIRED".to_owned());
                    row.class = "failed";
                }
                if c.issuer_matches == Some(false) {
                    facts.push("issuer differs".to_owned());
                    row.class = "failed";
                }
                if c.revoked == Some(true) {
                    facts.push("REVOKED".to_owned());
                    row.class = "failed";
                }
                if let Some(e) = &c.parse_error {
                    facts.push(format!("unreadable: {e}"));
                    row.class = "failed";
                }
                if !facts.is_empty() {
                    row.result = format!("{} · {}", row.result, facts.join(" · "));
                }
                row
            })
            .collect();
        fetches.extend(
            p.aia
                .iter()
                .map(|f| FetchRow::new("AIA (issuer certificate)".into(), f)),
        );
        fetches.extend(p.ctl.iter().map(|f| FetchRow::new("CTL".into(), f)));
        let failed = p
            .steps
            .iter()
            .any(|s| matches!(view::step_outcome(s.outcome), "failed" | "timed-out"));
        ProbeView {
            line: failed_step.map_or_else(|| view::probe_summary(p), str::to_owned),
            failed: failed_step.is_some() || failed,
            meta: meta.join(" · "),
            steps,
            tls,
            tls_chain: p
                .tls
                .iter()
                .flat_map(|t| &t.chain)
                .map(CertRow::from)
                .collect(),
            ocs,
            ocs_excerpt: p.ocs.as_ref().and_then(|o| o.body_excerpt.clone()),
            signing_chain: p
                .ocs
                .iter()
                .flat_map(|o| &o.signing_chain)
                .map(CertRow::from)
                .collect(),
            fetches,
        }
    }
}

impl From<&CertInfo> for CertRow {
    fn from(c: &CertInfo) -> Self {
        let mut extra = Vec::new();
        extra.push(match c.key_bits {
            Some(b) => format!("{} {b}", c.key_type),
            None => c.key_type.clone(),
        });
        if !c.eku.is_empty() {
            extra.push(format!("EKU {}", c.eku.join(", ")));
        }
        if !c.crl_urls.is_empty() {
            extra.push(format!("CRL {}", c.crl_urls.join(" ")));
        }
        CertRow {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            validity: format!("{} – {}", c.not_before, c.not_after),
            sha256: c.sha256.clone(),
            scts: c.sct_count,
            extra: extra
                .into_iter()
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
        }
    }
}

impl FetchRow {
    fn new(what: String, f: &HttpFetch) -> Self {
        let good = f.ok && !f.timed_out;
        let result = if f.timed_out {
            "timed out".to_owned()
        } else {
            let mut r = f.status.map(|s| format!("HTTP {s}")).unwrap_or_default();
            if let Some(e) = &f.error {
                if !r.is_empty() {
                    r.push_str(": ");
                }
                r.push_str(e);
            }
            if r.is_empty() {
                r = if good { "ok".into() } else { "failed".into() };
            }
            r
        };
        FetchRow {
            what,
            url: f.url.clone(),
            via: f
                .via_proxy
                .as_deref()
                .map_or_else(|| "direct".to_owned(), |p| format!("WinHTTP proxy {p}")),
            class: if good { "ok" } else { "failed" },
            result,
            ms: f.duration_ms,
        }
    }
}

impl CauseView {
    fn new(rank: usize, c: &RootCause, finding_anchor: Option<String>) -> Self {
        CauseView {
            rank,
            id: c.id.as_str().to_owned(),
            check_title: view::check_title(c.id.as_str()).map(str::to_owned),
            confidence: c.confidence.as_str(),
            explanation: c.explanation.clone(),
            evidence: c.evidence.iter().map(EvidenceView::from).collect(),
            steps: c.next_steps.iter().map(StepView::from).collect(),
            finding_anchor,
            steps_as: 0,
            evidence_as_above: false,
        }
    }
}

impl FindingView {
    fn new(anchor: String, f: &Finding) -> Self {
        FindingView {
            about: eems_checks::docs::explain(f.id.as_str()).map(|_| format!("about-{}", f.id)),
            headline: false,
            evidence_as_above: false,
            anchor,
            id: f.id.as_str().to_owned(),
            severity: f.severity.as_str(),
            severity_word: view::severity_upper(f.severity),
            confidence: f.confidence.as_str(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            evidence: f.evidence.iter().map(EvidenceView::from).collect(),
            steps: f.remediation.iter().map(StepView::from).collect(),
            docs: relative_link(&f.docs),
        }
    }
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            location: view::location(e),
            excerpt: e.excerpt.clone(),
            occurrences: view::occurrences(e),
        }
    }
}

impl From<&Step> for StepView {
    fn from(s: &Step) -> Self {
        StepView {
            text: s.text.clone(),
            command: s.command.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_docs_links() {
        assert_eq!(
            relative_link("docs/checks.md#crl-unreachable").as_deref(),
            Some("docs/checks.md#crl-unreachable")
        );
        assert_eq!(relative_link("#x").as_deref(), Some("#x"));
        assert_eq!(relative_link("https://evil.example/"), None);
        assert_eq!(relative_link("javascript:alert(1)"), None);
        assert_eq!(relative_link("//evil.example/x"), None);
        assert_eq!(relative_link(""), None);
    }

    #[test]
    fn slugs_are_fragment_safe() {
        assert_eq!(slug("EX01.contoso.com"), "ex01-contoso-com");
        assert_eq!(slug("(unnamed server)"), "unnamed-server");
        assert_eq!(slug("<script>"), "script");
    }
}
