//! From findings to a ranked list of root causes per server. Symptoms
//! (`tls-validation-failed`, `fetch-failing`, `untrusted-endpoint`) are
//! explained by causes when the evidence names one; without live probes the
//! candidates are listed in order of likelihood with the command that tells
//! them apart.

use crate::CheckResult;
use crate::builds::{BuildTable, Precision, Verdict, judge};
use crate::check::Context;
use crate::evidence::{InputSummary, ServerEvidence};
use crate::finding::{Confidence, Evidence, Finding, Severity, Step};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }

    /// Monitoring exit code: 0 ok, 1 warning, 2 critical (unknown counts as critical:
    /// a server nothing could be read about is not known to be healthy).
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical | Status::Unknown => 2,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    /// A finding id.
    pub id: &'static str,
    pub confidence: Confidence,
    pub explanation: String,
    /// The evidence lines that support it.
    pub evidence: Vec<Evidence>,
    /// The fix, or the command that decides between candidates.
    pub next_steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildInfo {
    pub version: String,
    pub product: Option<String>,
    pub update: Option<String>,
    pub released: Option<String>,
    pub precision: Precision,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerDiagnosis {
    pub server: Option<String>,
    pub status: Status,
    pub build: Option<BuildInfo>,
    pub root_causes: Vec<RootCause>,
    pub findings: Vec<Finding>,
    pub checks: Vec<CheckResult>,
    pub inputs: Vec<InputSummary>,
}

/// Findings that are symptoms: they say *that* fetching fails, not why.
const SYMPTOMS: &[&str] = &[
    "tls-validation-failed",
    "fetch-failing",
    "untrusted-endpoint",
    "fetch-stale",
];

/// Order in which causes are presented when several are present: a build
/// that cannot work hides everything behind it; then configuration; then network.
const PRIORITY: &[&str] = &[
    "build-predates-eems",
    "build-before-march-2023",
    "service-not-running",
    "mitigations-disabled-org",
    "mitigations-disabled-server",
    "proxy-invalid-scheme",
    "proxy-exchange-missing",
    "proxy-auth-required",
    "proxy-winhttp-missing",
    "tls-interception",
    "crl-unreachable",
    "tls-chain-untrusted",
    "aia-retrieval-disabled",
    "ctl-autoupdate-disabled",
    "ctl-unreachable",
    "ocs-dns-failure",
    "ocs-unreachable",
    "ocs-http-error",
    "tls-protocol-failure",
    "xml-signature-invalid",
    "proxy-bypass-ocs",
    "proxy-mismatch",
    "mitigations-blocked",
    "mitigation-obsolete",
    "service-crashing",
    "build-unknown",
];

fn rank(id: &str) -> usize {
    PRIORITY
        .iter()
        .position(|p| *p == id)
        .unwrap_or(PRIORITY.len())
}

pub fn build_info(table: &BuildTable, ev: &ServerEvidence) -> Option<BuildInfo> {
    let b = ev.build.as_ref()?;
    let v = b.value.version;
    let row = match b.value.precision {
        Precision::Exact => table.exact(v).or_else(|| table.nearest_at_or_below(v)),
        Precision::Cu => table.cu_base(v),
    };
    let product = row
        .map(|r| r.product.clone())
        .or_else(|| crate::build::product_of(table, v).map(|r| r.product.clone()));
    let update = row.map(|r| {
        if r.version == v || b.value.precision == Precision::Cu {
            r.update.clone()
        } else {
            format!("{} or later", r.update)
        }
    });
    Some(BuildInfo {
        version: v.to_string(),
        product,
        update,
        released: row.filter(|r| r.version == v).map(|r| r.released.clone()),
        precision: b.value.precision,
        source: b.cite.source.clone(),
    })
}

/// Run every check and correlate the findings into root causes.
pub fn diagnose(ev: &ServerEvidence, ctx: &Context<'_>) -> ServerDiagnosis {
    let (checks, mut findings) = crate::run_checks(ev, ctx);
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), rank(f.id)));
    let root_causes = root_causes(ev, ctx, &findings);
    let status = if ev
        .inputs
        .iter()
        .all(|i| i.status == "unrecognized" || i.status == "error")
    {
        Status::Unknown
    } else {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Status::Critical,
            Some(Severity::Warning) => Status::Warning,
            _ => Status::Ok,
        }
    };
    ServerDiagnosis {
        server: ev.server.clone(),
        status,
        build: build_info(ctx.builds, ev),
        root_causes,
        findings,
        checks,
        inputs: ev.inputs.clone(),
    }
}

fn root_causes(ev: &ServerEvidence, ctx: &Context<'_>, findings: &[Finding]) -> Vec<RootCause> {
    let mut causes: Vec<RootCause> = findings
        .iter()
        .filter(|f| !SYMPTOMS.contains(&f.id) && f.severity > Severity::Info)
        .map(|f| RootCause {
            id: f.id,
            confidence: f.confidence,
            explanation: format!("{}. {}", f.title, f.detail),
            evidence: f.evidence.clone(),
            next_steps: f.remediation.clone(),
        })
        .collect();
    causes.sort_by_key(|c| rank(c.id));
    // A consequence is not a cause of its own: connection failures are what
    // a missing or bypassed proxy produces.
    const EXPLAINED_BY: &[(&str, &[&str])] = &[
        (
            "ocs-unreachable",
            &[
                "proxy-exchange-missing",
                "proxy-bypass-ocs",
                "proxy-invalid-scheme",
            ],
        ),
        (
            "ocs-dns-failure",
            &["proxy-exchange-missing", "proxy-bypass-ocs"],
        ),
        (
            "proxy-mismatch",
            &["proxy-exchange-missing", "proxy-winhttp-missing"],
        ),
    ];
    let present: Vec<&'static str> = causes.iter().map(|c| c.id).collect();
    causes.retain(|c| {
        !EXPLAINED_BY
            .iter()
            .any(|(id, by)| *id == c.id && by.iter().any(|b| present.contains(b)))
    });

    let symptom = |id: &str| findings.iter().find(|f| f.id == id);
    let build_too_old = ev
        .build
        .as_ref()
        .map(|b| judge(ctx.builds, b.value.version, b.value.precision));

    // A TLS validation failure without a cause that explains it: list the candidates.
    if let Some(tls) = symptom("tls-validation-failed") {
        let explained = causes.iter().any(|c| {
            matches!(
                c.id,
                "build-before-march-2023"
                    | "tls-interception"
                    | "crl-unreachable"
                    | "tls-chain-untrusted"
                    | "proxy-winhttp-missing"
                    | "aia-retrieval-disabled"
                    | "ctl-autoupdate-disabled"
            )
        });
        if !explained {
            causes.extend(tls_candidates(ev, tls));
        }
    }
    // "untrusted endpoint" on a build we cannot place: the build is the prime suspect.
    if let Some(u) = symptom("untrusted-endpoint")
        && !causes.iter().any(|c| c.id == "build-before-march-2023")
    {
        let (confidence, why) = match build_too_old {
            Some(Verdict::Qualifies { .. }) => (
                Confidence::Low,
                "The build should trust the current OCS certificate, so something presenting another certificate (an inspecting proxy) is more likely; run the probes.",
            ),
            _ => (
                Confidence::Medium,
                "This is the message builds older than the March 2023 SU log since the January 2025 OCS certificate change; the exact build is needed to confirm.",
            ),
        };
        causes.push(RootCause {
            id: "build-before-march-2023",
            confidence,
            explanation: format!("Likely: the build is older than the March 2023 SU. {why}"),
            evidence: u.evidence.clone(),
            next_steps: u.remediation.clone(),
        });
    }
    if causes.is_empty()
        && let Some(f) = symptom("fetch-failing").or_else(|| symptom("fetch-stale"))
    {
        causes.push(RootCause {
            id: f.id,
            confidence: Confidence::Low,
            explanation: format!("{}. {}", f.title, f.detail),
            evidence: f.evidence.clone(),
            next_steps: f.remediation.clone(),
        });
    }
    causes
}

fn tls_candidates(ev: &ServerEvidence, tls: &Finding) -> Vec<RootCause> {
    let proxy = ev.exchange_proxy.as_ref().and_then(|p| p.value.clone());
    let probe = match (&proxy, ev.winhttp_proxy()) {
        (Some(p), Some(w)) => format!(
            "eems-doctor probe --proxy {p} --winhttp-proxy {}",
            w.value.proxy.as_deref().unwrap_or_default()
        ),
        (Some(p), None) => format!("eems-doctor probe --proxy {p}"),
        _ => "eems-doctor probe".to_owned(),
    };
    let decide = Step::cmd(
        "Tell the candidates apart on the server (captures the chain, fetches its CRLs the way Windows does):",
        probe,
    );
    // Behind a proxy, inspection is the most common cause; without one, CRL egress.
    let mut list = vec![
        (
            "crl-unreachable",
            "CRL endpoints unreachable: Windows cannot download the CRLs of the OCS chain over HTTP/80 (through the WinHTTP proxy), so revocation cannot be checked.",
        ),
        (
            "tls-interception",
            "SSL/TLS inspection: a proxy or firewall re-signs the connection with its own CA, which the service does not accept.",
        ),
        (
            "tls-chain-untrusted",
            "Missing intermediate or root: the chain cannot be built (AIA retrieval or root auto-update blocked).",
        ),
    ];
    if proxy.is_some() {
        list.swap(0, 1);
    }
    list.into_iter()
        .enumerate()
        .map(|(i, (id, why))| RootCause {
            id,
            confidence: if i == 0 {
                Confidence::Medium
            } else {
                Confidence::Low
            },
            explanation: format!(
                "Candidate {} of 3 for the TLS validation failure{}: {why}",
                i + 1,
                if proxy.is_some() && i == 0 {
                    " (a proxy is in the path)"
                } else {
                    ""
                }
            ),
            evidence: tls.evidence.clone(),
            next_steps: vec![decide.clone()],
        })
        .collect()
}
