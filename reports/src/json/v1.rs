//! JSON schema v1: a contract. Scripts, dashboards and support tooling parse
//! this; fields are never renamed or removed, only added. The internal types
//! of `eems-checks` are mapped here field by field so that a refactoring
//! there cannot silently change the output.
//!
//! The schema that describes this output is `reports/schema/analyze-v1.schema.json`.

use crate::Report;
use chrono::SecondsFormat;
use eems_checks::builds::Precision;
use eems_checks::diagnosis::{BuildInfo, RootCause, ServerDiagnosis, Status};
use eems_checks::evidence::InputSummary;
use eems_checks::finding::{Confidence, Evidence, Finding, Severity, Step};
use eems_checks::{CheckOutcome, CheckResult, registry};
use eems_parsers::probe_results::ProbeReport;
use serde::{Deserialize, Serialize};

/// The value of `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analyze {
    pub schema_version: u32,
    pub tool_version: String,
    /// RFC 3339, UTC, whole seconds (`2026-11-23T17:00:00Z`).
    pub generated_at: String,
    pub servers: Vec<Server>,
    /// Extra (v1): how the paths given became servers, one sentence per rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouping: Vec<String>,
    /// Extra (v1): inputs that are part of no server (unreadable paths, loose
    /// files beside server bundles), with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unassigned: Vec<UnassignedV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedV1 {
    pub path: String,
    pub reason: String,
    /// `true`: could not be read; `false`: set aside on purpose.
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    /// `null` when no input names the server.
    pub server: Option<String>,
    pub status: ServerStatus,
    pub build: Option<Build>,
    /// Most likely first.
    pub root_causes: Vec<RootCauseV1>,
    pub findings: Vec<FindingV1>,
    /// Every check that ran, in registry order.
    pub checks: Vec<CheckV1>,
    pub inputs: Vec<Input>,
    /// Extra (v1): the live probe results, as the probe wrote them (they
    /// carry their own `schema_version`). Absent when no probe ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<ProbeReport>,
    /// Extra (v1): with probes, the step that failed and what to change, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Extra (v1): what eems-doctor saw, each value with its citation or
    /// the command that collects it. Absent when nothing could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<FactsV1>,
    /// Extra (v1): the folder or zip analysed, as given on the command line.
    /// Every `source` and input `path` of this server inside it is relative
    /// to it (`MitigationService/MitigationService_2025012708-1.LOG`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths_relative_to: Option<String>,
}

/// Extra (v1): the server's facts as read. Every field is present; an
/// unknown value has `value: null` and `collect` says how to get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactsV1 {
    /// `Mailbox` or `Edge Transport`.
    pub role: FactV1,
    /// `15.2.1544.14 (exact build)`.
    pub build: FactV1,
    pub org_mitigations_enabled: FactV1,
    pub server_mitigations_enabled: FactV1,
    pub mitigations_applied: FactV1,
    pub mitigations_blocked: FactV1,
    /// Service status and start type.
    pub service: FactV1,
    /// Exchange `InternetWebProxy`.
    pub exchange_proxy: FactV1,
    pub exchange_bypass: FactV1,
    /// WinHTTP proxy and bypass list, every view when they differ.
    pub winhttp_proxy: FactV1,
    /// RFC 3339 time of the last successful fetch in the log.
    pub last_success: FactV1,
    /// RFC 3339 time of the last failure (log or events), and its cause.
    pub last_failure: FactV1,
    /// The evidence window: earliest and latest timestamp seen.
    pub evidence_earliest: FactV1,
    pub evidence_latest: FactV1,
    /// When `eems-doctor collect` gathered the bundle.
    pub collected_at: FactV1,
    /// Extra (v1, issue 16): each mitigation with its status and where it
    /// was read: the applied and blocked lists, then Get-Mitigations.ps1's
    /// rows (sources not merged). Absent when none was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitigation_inventory: Vec<InventoryV1>,
    /// Extra (v1): inventory rows left out past the first 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation_inventory_left_out: Option<usize>,
    /// Extra (v1, issue 17): the mitigation XML's signature as verified from
    /// a captured OCS answer. Absent when the evidence holds none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml_signature: Option<XmlSignatureV1>,
}

/// Extra (v1): one mitigation as one source lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryV1 {
    /// As written: `PING1`, `M1`, `M1.1`.
    pub id: String,
    /// `applied`, `blocked`, or Get-Mitigations.ps1's status as printed.
    pub status: String,
    /// `MitigationsApplied`, `MitigationsBlocked` or `Get-Mitigations.ps1`.
    pub source: String,
    pub evidence: EvidenceV1,
}

/// The verified signature of a captured OCS answer and its signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmlSignatureV1 {
    /// `valid`, `digest-mismatch`, `signature-mismatch`, `wrong-key`,
    /// `unsupported-algorithm`, `no-signature`, `malformed`, `no-certificate`.
    pub verdict: String,
    /// Why the service would refuse it (`tampered body`, `expired signer`,
    /// `untrusted signer`, …); `null`: accepted.
    pub reason: Option<String>,
    /// Every problem found, `reason: detail`.
    pub problems: Vec<String>,
    pub signer_subject: Option<String>,
    /// SHA-1 of the signer certificate (upper-case hex).
    pub signer_thumbprint: Option<String>,
    pub signer_not_before: Option<String>,
    pub signer_not_after: Option<String>,
    /// The answer's `Date` header, RFC 3339.
    pub response_time: Option<String>,
    pub signer_valid_at_response: Option<bool>,
    pub signer_valid_now: Option<bool>,
    /// Subject CNs from the signer up.
    pub chain: Vec<String>,
    pub trusted_root: Option<String>,
    pub signature_algorithm: Option<String>,
    pub digest_algorithm: Option<String>,
    pub evidence: EvidenceV1,
}

impl From<&eems_checks::fetch::xml_signature::XmlSignatureSummary> for XmlSignatureV1 {
    fn from(s: &eems_checks::fetch::xml_signature::XmlSignatureSummary) -> Self {
        XmlSignatureV1 {
            verdict: s.verdict.clone(),
            reason: s.reason.clone(),
            problems: s.problems.clone(),
            signer_subject: s.signer_subject.clone(),
            signer_thumbprint: s.signer_thumbprint.clone(),
            signer_not_before: s.signer_not_before.clone(),
            signer_not_after: s.signer_not_after.clone(),
            response_time: s.response_time.clone(),
            signer_valid_at_response: s.signer_valid_at_response,
            signer_valid_now: s.signer_valid_now,
            chain: s.chain.clone(),
            trusted_root: s.trusted_root.clone(),
            signature_algorithm: s.signature_algorithm.clone(),
            digest_algorithm: s.digest_algorithm.clone(),
            evidence: EvidenceV1::from(&s.cite.to_evidence()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactV1 {
    /// The value as shown; `null` = not collected.
    pub value: Option<String>,
    /// Where it was read; `null` when not collected.
    pub evidence: Option<EvidenceV1>,
    /// The command that collects it; `null` when it was collected.
    pub collect: Option<String>,
}

impl FactsV1 {
    fn from_facts(f: &eems_checks::facts::Facts) -> Option<Self> {
        if f.is_empty() {
            return None;
        }
        let rows = f.rows();
        let (inventory, left_out) = f.inventory();
        let g = |key: &str| {
            let r = rows.iter().find(|r| r.key == key);
            FactV1 {
                value: r.and_then(|r| r.value.clone()),
                evidence: r.and_then(|r| r.cite.as_ref()).map(EvidenceV1::from),
                collect: r.and_then(|r| r.collect).map(str::to_owned),
            }
        };
        Some(FactsV1 {
            role: g("role"),
            build: g("build"),
            org_mitigations_enabled: g("org_mitigations_enabled"),
            server_mitigations_enabled: g("server_mitigations_enabled"),
            mitigations_applied: g("mitigations_applied"),
            mitigations_blocked: g("mitigations_blocked"),
            service: g("service"),
            exchange_proxy: g("exchange_proxy"),
            exchange_bypass: g("exchange_bypass"),
            winhttp_proxy: g("winhttp_proxy"),
            last_success: g("last_success"),
            last_failure: g("last_failure"),
            evidence_earliest: g("evidence_earliest"),
            evidence_latest: g("evidence_latest"),
            collected_at: g("collected_at"),
            mitigation_inventory: inventory
                .iter()
                .map(|r| InventoryV1 {
                    id: r.id.clone(),
                    status: r.status.clone(),
                    source: r.source.to_owned(),
                    evidence: EvidenceV1::from(&r.cite),
                })
                .collect(),
            mitigation_inventory_left_out: (left_out > 0).then_some(left_out),
            xml_signature: f.xml_signature.as_deref().map(XmlSignatureV1::from),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    Ok,
    Warning,
    Critical,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityV1 {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceV1 {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrecisionV1 {
    /// The full build, SU included (ExSetup.exe, log `#Version`).
    Exact,
    /// The CU only (`AdminDisplayVersion`): the SU is unknown.
    Cu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeV1 {
    Pass,
    Fail,
    Skip,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// Dotted build number, `15.2.1118.26`.
    pub version: String,
    /// `Exchange Server 2019`; `null` when the build table does not know it.
    pub product: Option<String>,
    /// `CU12`, `CU12 Mar23SU`, `CU12 Mar23SU or later`.
    pub update: Option<String>,
    /// Release date of that exact build (`YYYY-MM-DD`) when known.
    pub released: Option<String>,
    pub precision: PrecisionV1,
    /// Extra (v1): the input the build was read from.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseV1 {
    /// A check/finding id.
    pub id: String,
    pub confidence: ConfidenceV1,
    pub explanation: String,
    /// Extra (v1): the evidence that supports it.
    pub evidence: Vec<EvidenceV1>,
    /// Extra (v1): the fix, or the command that decides between candidates.
    pub next_steps: Vec<StepV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingV1 {
    pub id: String,
    pub severity: SeverityV1,
    pub confidence: ConfidenceV1,
    pub title: String,
    pub detail: String,
    pub evidence: Vec<EvidenceV1>,
    pub remediation: Vec<StepV1>,
    /// Relative link to the check's section, `docs/checks.md#<id>`.
    pub docs: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceV1 {
    /// The input file (or pseudo-source such as `probe`).
    pub source: String,
    /// 1-based line in `source`, when it has lines.
    pub line: Option<usize>,
    pub excerpt: String,
    /// Extra (v1): how many times the same pattern was seen (absent = once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Extra (v1): RFC 3339 time of the first occurrence, with `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Extra (v1): RFC 3339 time of the last occurrence, with `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepV1 {
    pub text: String,
    /// A command to copy, when the step has one.
    pub command: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckV1 {
    pub id: String,
    pub outcome: OutcomeV1,
    /// Why it failed, skipped or errored; for a pass, what showed the
    /// problem absent (`null` only from older versions).
    pub reason: Option<String>,
    /// Extra (v1): the check's title (what a pass means).
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub path: String,
    /// The format recognized (`mitigation-log`, `netsh-winhttp`, …).
    pub kind: String,
    /// `parsed`, `partial`, `unrecognized` or `error`.
    pub status: String,
    /// Extra (v1): why the file was not read, or only in part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Analyze {
    pub fn from_report(report: &Report) -> Self {
        Analyze {
            servers: report.servers.iter().map(Server::from_diagnosis).collect(),
            ..Analyze::without_servers(report)
        }
    }

    /// The document with an empty server list: what [`crate::write_json`]
    /// writes the servers into, one at a time.
    pub fn without_servers(report: &Report) -> Self {
        Analyze {
            schema_version: SCHEMA_VERSION,
            tool_version: report.tool_version.clone(),
            generated_at: report
                .generated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            servers: Vec::new(),
            grouping: report.grouping.clone(),
            unassigned: report
                .unassigned
                .iter()
                .map(|u| UnassignedV1 {
                    path: u.path.clone(),
                    reason: u.reason.clone(),
                    error: u.error,
                })
                .collect(),
        }
    }
}

/// Pretty JSON with a trailing newline. Serialising these plain DTOs cannot
/// fail; should it ever, the output is still valid JSON naming the error.
pub fn to_string_pretty(doc: &Analyze) -> String {
    match serde_json::to_string_pretty(doc) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!(
            "{{\"schema_version\": {SCHEMA_VERSION}, \"error\": {}}}\n",
            serde_json::Value::String(e.to_string())
        ),
    }
}

impl Server {
    pub fn from_diagnosis(d: &ServerDiagnosis) -> Self {
        Server {
            server: d.server.clone(),
            status: d.status.into(),
            build: d.build.as_ref().map(Build::from),
            root_causes: d.root_causes.iter().map(RootCauseV1::from).collect(),
            findings: d.findings.iter().map(FindingV1::from).collect(),
            checks: d.checks.iter().map(CheckV1::from).collect(),
            inputs: d.inputs.iter().map(Input::from).collect(),
            probes: d.probes.clone(),
            failed_step: d.failed_step.clone(),
            facts: FactsV1::from_facts(&d.facts),
            paths_relative_to: d.paths_relative_to.clone(),
        }
    }
}

impl From<Status> for ServerStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Ok => ServerStatus::Ok,
            Status::Warning => ServerStatus::Warning,
            Status::Critical => ServerStatus::Critical,
            Status::Unknown => ServerStatus::Unknown,
        }
    }
}

impl From<Severity> for SeverityV1 {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Info => SeverityV1::Info,
            Severity::Warning => SeverityV1::Warning,
            Severity::Critical => SeverityV1::Critical,
        }
    }
}

impl From<Confidence> for ConfidenceV1 {
    fn from(c: Confidence) -> Self {
        match c {
            Confidence::Low => ConfidenceV1::Low,
            Confidence::Medium => ConfidenceV1::Medium,
            Confidence::High => ConfidenceV1::High,
        }
    }
}

impl From<Precision> for PrecisionV1 {
    fn from(p: Precision) -> Self {
        match p {
            Precision::Exact => PrecisionV1::Exact,
            Precision::Cu => PrecisionV1::Cu,
        }
    }
}

impl From<&BuildInfo> for Build {
    fn from(b: &BuildInfo) -> Self {
        Build {
            version: b.version.clone(),
            product: b.product.clone(),
            update: b.update.clone(),
            released: b.released.clone(),
            precision: b.precision.into(),
            source: b.source.clone(),
        }
    }
}

impl From<&RootCause> for RootCauseV1 {
    fn from(c: &RootCause) -> Self {
        RootCauseV1 {
            id: c.id.as_str().to_owned(),
            confidence: c.confidence.into(),
            explanation: c.explanation.clone(),
            evidence: c.evidence.iter().map(EvidenceV1::from).collect(),
            next_steps: c.next_steps.iter().map(StepV1::from).collect(),
        }
    }
}

impl From<&Finding> for FindingV1 {
    fn from(f: &Finding) -> Self {
        FindingV1 {
            id: f.id.as_str().to_owned(),
            severity: f.severity.into(),
            confidence: f.confidence.into(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            evidence: f.evidence.iter().map(EvidenceV1::from).collect(),
            remediation: f.remediation.iter().map(StepV1::from).collect(),
            docs: f.docs.clone(),
        }
    }
}

impl From<&Evidence> for EvidenceV1 {
    fn from(e: &Evidence) -> Self {
        EvidenceV1 {
            source: e.source.clone(),
            line: e.line,
            excerpt: e.excerpt.clone(),
            count: e.count,
            first_seen: e.first_seen.clone(),
            last_seen: e.last_seen.clone(),
        }
    }
}

impl From<&Step> for StepV1 {
    fn from(s: &Step) -> Self {
        StepV1 {
            text: s.text.clone(),
            command: s.command.clone(),
        }
    }
}

impl From<&CheckResult> for CheckV1 {
    fn from(c: &CheckResult) -> Self {
        // A pass without a reason of its own passed on what its title says
        // (titles are phrased as the healthy state).
        let reason = match c.outcome {
            CheckOutcome::Pass => c
                .reason
                .as_deref()
                .map(str::to_owned)
                .or_else(|| registry::find(c.id.as_str()).map(|k| k.meta().title.to_owned())),
            _ => c.reason.as_deref().map(str::to_owned),
        };
        CheckV1 {
            id: c.id.as_str().to_owned(),
            outcome: c.outcome.into(),
            reason,
            title: registry::find(c.id.as_str()).map(|k| k.meta().title.to_owned()),
        }
    }
}

impl From<CheckOutcome> for OutcomeV1 {
    fn from(o: CheckOutcome) -> Self {
        match o {
            CheckOutcome::Pass => OutcomeV1::Pass,
            CheckOutcome::Fail => OutcomeV1::Fail,
            CheckOutcome::Skip => OutcomeV1::Skip,
            CheckOutcome::Error => OutcomeV1::Error,
        }
    }
}

impl From<&InputSummary> for Input {
    fn from(i: &InputSummary) -> Self {
        Input {
            path: i.path.as_str().to_owned(),
            kind: i.kind.as_str().to_owned(),
            status: i.status.as_str().to_owned(),
            reason: i.reason.clone(),
        }
    }
}
