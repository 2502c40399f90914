//! The check interface. One check per file under `checks/src/<area>/`, one
//! stable kebab-case id (also its finding id and its docs anchor), registered
//! in the explicit list in `registry.rs`.

use crate::builds::BuildTable;
use crate::derived::Derived;
use crate::evidence::ServerEvidence;
use crate::finding::{Finding, Severity};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::tls::issuers::TlsIssuerTable;
use crate::tls::vendors::VendorTable;
use eems_parsers::probe_results::{ProbeReport, ProbeStep};
use serde::Serialize;

/// A kind of evidence. A value read but not used because it looked mangled
/// says which one it was (`evidence::Untrusted`); the checks that read it
/// name it in their skip reason (`ServerEvidence::untrusted_note`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    Build,
    MitigationFlags,
    ExchangeProxy,
    WinHttp,
    Policy,
    Service,
    Log,
    Events,
    Probes,
}

/// What a check's finding is to the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A root cause when it fails (with a severity above info).
    Cause,
    /// A root cause of its own only when no present check `explains` it
    /// (connection failures are what a missing proxy produces).
    Consequence,
    /// Says *that* fetching fails, not why: never a root cause itself; the
    /// diagnosis looks for the causes that explain it.
    Symptom,
    /// About the evidence, not the server.
    Meta,
}

/// The one-line fix in the report header when the live probe decided the
/// finding (`what failed: what to change`).
#[derive(Debug, Clone, Copy)]
pub enum Fix {
    /// `<finding title>: see the finding`.
    None,
    /// `<finding title>: <text>`.
    Text(&'static str),
    /// `<the failing step of the request path>: <text>` (the title when no
    /// step failed).
    AtStep(&'static str),
    /// Both halves computed from the probe.
    Line(fn(&ProbeFinding<'_>) -> (String, String)),
}

impl Fix {
    pub fn line(&self, live: &ProbeFinding<'_>) -> String {
        let (what, fix) = match self {
            Fix::None => (live.finding.title.clone(), "see the finding".to_owned()),
            Fix::Text(t) => (live.finding.title.clone(), (*t).to_owned()),
            Fix::AtStep(t) => (live.failing_step(), (*t).to_owned()),
            Fix::Line(f) => f(live),
        };
        format!("{what}: {fix}")
    }
}

/// What a fix line reads: the finding the probe decided, with the probe.
pub struct ProbeFinding<'a> {
    pub finding: &'a Finding,
    pub ev: &'a ServerEvidence,
    pub ctx: &'a Context<'a>,
    pub probe: &'a ProbeReport,
}

impl ProbeFinding<'_> {
    /// The OCS host the probe asked.
    pub fn host(&self) -> &str {
        eems_parsers::uri::host(&self.probe.ocs_url)
    }

    /// The earliest failing step of the request path.
    pub fn path_failure(&self) -> Option<&ProbeStep> {
        crate::probe::first_path_failure(self.probe)
    }

    /// That step in words (`DNS lookup of … failed: NXDOMAIN`), else the title.
    pub fn failing_step(&self) -> String {
        self.path_failure()
            .map_or_else(|| self.finding.title.clone(), crate::probe::describe_step)
    }
}

/// Static description of a check: everything the registry, the reports and
/// the diagnosis know about it, declared in the check's own file.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckMeta {
    /// Its registry id; also the id of the finding it raises.
    pub id: CheckId,
    pub area: &'static str,
    pub title: &'static str,
    /// Severity of the finding when it fails.
    pub severity: Severity,
    pub role: Role,
    /// Order among root causes, lowest first (unique): a build that cannot
    /// work hides everything behind it; then configuration; then network.
    /// Also orders findings of equal severity.
    pub priority: u16,
    /// The step of the service's request path a probe-decided finding is
    /// about: a failing earlier step explains it away.
    pub stage: Option<Stage>,
    /// What a finding of this check explains: a present cause removes the
    /// consequences it explains from the root causes, and answers the
    /// symptoms it explains.
    pub explains: &'static [CheckId],
    #[serde(skip)]
    pub fix: Fix,
    /// True when only live probes can decide it (it skips without them,
    /// unless the service's own logs/events already show the failure).
    pub needs_probes: bool,
}

/// Shared, read-only inputs for every check. The tables are data files
/// (`checks/data/`); each can be replaced (`from_csv`) without rebuilding.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub builds: &'a BuildTable,
    /// The CAs Microsoft documents for its TLS endpoints.
    pub tls_issuers: &'a TlsIssuerTable,
    /// Issuer names of SSL-inspection products.
    pub vendors: &'a VendorTable,
    /// This server's derived facts, when the run computed them.
    pub derived: Option<&'a Derived>,
    /// "Now" for evidence without a collection time (`evidence-stale`);
    /// `None` decides nothing from the clock (the library never reads it).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Evidence older than this many days is stale (`--max-age`).
    pub max_age_days: u32,
}

/// The default of `--max-age`: a week of hourly runs.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;

impl<'a> Context<'a> {
    /// `builds` with the embedded issuer and vendor tables.
    pub fn embedded(builds: &'a BuildTable) -> Context<'a> {
        Context {
            builds,
            tls_issuers: TlsIssuerTable::embedded(),
            vendors: VendorTable::embedded(),
            derived: None,
            now: None,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
        }
    }

    /// The same context, carrying one server's derived facts.
    pub fn with(&self, derived: &'a Derived) -> Context<'a> {
        Context {
            derived: Some(derived),
            ..*self
        }
    }
}

/// How a check ended for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Finding>),
    /// Not enough evidence; the reason says what to collect.
    Skip(String),
    /// The check itself failed (a bug or an inconsistency); others go on.
    Error(String),
}

impl Outcome {
    pub fn fail(f: Finding) -> Self {
        Outcome::Fail(vec![f])
    }
}

pub trait Check: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome;
    /// After a pass: what in the evidence showed the problem absent, short
    /// (`WinHTTP proxy proxy:3128 matches InternetWebProxy`). `None`: the
    /// reports give the check's title, which is phrased as the healthy state.
    fn pass_reason(&self, _ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        None
    }
}

/// `value (source:line)` for a pass reason.
pub fn seen(what: impl std::fmt::Display, cite: &crate::evidence::Cite) -> String {
    match cite.line {
        Some(l) => format!("{what} ({}:{l})", cite.source),
        None => format!("{what} ({})", cite.source),
    }
}

/// A finding for `meta`'s id and severity.
pub fn finding(
    meta: &CheckMeta,
    confidence: crate::finding::Confidence,
    title: impl Into<String>,
) -> Finding {
    Finding::new(meta.id, meta.severity, confidence, title)
}
