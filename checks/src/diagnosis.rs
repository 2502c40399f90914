//! From findings to a ranked list of root causes per server. Symptoms
//! (`tls-validation-failed`, `fetch-failing`, `untrusted-endpoint`) are
//! explained by causes when the evidence names one; without live probes the
//! candidates are listed in order of likelihood with the command that tells
//! them apart. With live probes the candidates give way to what the probe
//! found, and a failing step explains the steps after it.

use crate::CheckResult;
use crate::builds::{BuildTable, Precision, Verdict, judge};
use crate::check::{Context, ProbeFinding, Role};
use crate::derived::Derived;
use crate::evidence::{InputSummary, ServerEvidence};
use crate::finding::{Confidence, Evidence, Finding, Severity, Step};
use crate::id::CheckId;
use crate::probe::{self, Stage};
use crate::registry;
use eems_parsers::probe_results::{ProbeReport, StepKind, StepOutcome};
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
    pub id: CheckId,
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
    /// The live probe results, as read (versioned on their own).
    pub probes: Option<ProbeReport>,
    /// With probes: which step failed and what to change, in one line
    /// (`proxy CONNECT to 10.0.0.5:3128 answered 407 Proxy Authentication Required: allow …`).
    pub failed_step: Option<String>,
    /// What eems-doctor saw: the values read, with their citations.
    pub facts: crate::facts::Facts,
    /// The folder or zip analysed, as given, when the paths above were made
    /// relative to it ([`ServerDiagnosis::make_paths_relative`]).
    pub paths_relative_to: Option<String>,
}

/// Order of findings and causes: the check's declared priority.
fn rank(id: CheckId) -> u16 {
    registry::meta(id).priority
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
    // Derived facts once for the checks and the report header.
    let derived = Derived::new(ev, ctx);
    let ctx = &ctx.with(&derived);
    let (checks, mut findings) = crate::run_checks(ev, ctx);
    findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), rank(f.id)));
    let root_causes = root_causes(ev, ctx, &findings);
    // Nothing but a collect manifest (every collection item failed) is no
    // evidence either: UNKNOWN, not a warning about what is missing.
    let every_item_failed = ev
        .collection
        .as_ref()
        .is_some_and(|c| c.value.items > 0 && c.value.failed_items.len() == c.value.items)
        && ev.probes.is_none();
    let status = if every_item_failed
        || ev.inputs.iter().all(|i| {
            matches!(
                i.status,
                eems_parsers::Status::Unrecognized | eems_parsers::Status::Error
            ) || i.kind == eems_parsers::Kind::EvidenceManifest
        }) {
        Status::Unknown
    } else {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Critical) => Status::Critical,
            Some(Severity::Warning) => Status::Warning,
            _ => Status::Ok,
        }
    };
    let failed_step = ev
        .probes
        .as_ref()
        .and_then(|p| failed_step(ev, ctx, p, &root_causes, &findings));
    ServerDiagnosis {
        server: ev.server.clone(),
        status,
        build: build_info(ctx.builds, ev),
        root_causes,
        findings,
        checks,
        inputs: ev.inputs.clone(),
        probes: ev.probes.clone(),
        failed_step,
        facts: {
            let mut f = crate::facts::of(ev);
            f.xml_signature = crate::fetch::xml_signature::summary(ev, ctx).map(Box::new);
            f
        },
        paths_relative_to: None,
    }
}

fn root_causes(ev: &ServerEvidence, ctx: &Context<'_>, findings: &[Finding]) -> Vec<RootCause> {
    let mut causes: Vec<RootCause> = findings
        .iter()
        .filter(|f| {
            matches!(registry::meta(f.id).role, Role::Cause | Role::Consequence)
                && f.severity > Severity::Info
        })
        .map(|f| RootCause {
            id: f.id,
            confidence: f.confidence,
            explanation: format!("{}. {}", f.title, f.detail),
            evidence: f.evidence.clone(),
            next_steps: f.remediation.clone(),
        })
        .collect();
    causes.sort_by_key(|c| rank(c.id));
    // A consequence is not a cause of its own when a present cause explains
    // it: connection failures are what a missing or bypassed proxy produces.
    let present: Vec<CheckId> = causes.iter().map(|c| c.id).collect();
    causes.retain(|c| {
        !present
            .iter()
            .any(|p| registry::meta(*p).explains.contains(&c.id))
    });

    // A failing step explains the steps after it: after a DNS failure there
    // is no TLS or OCS answer to judge, whatever the logs said before.
    let first_live = ev
        .probes
        .as_ref()
        .and_then(probe::first_path_failure)
        .and_then(|s| probe::stage(s.kind));
    if let Some(first) = first_live {
        causes.retain(|c| registry::meta(c.id).stage.is_none_or(|st| st <= first));
    }

    let symptom = |id: CheckId| findings.iter().find(|f| f.id == id);
    let build_too_old = ev
        .build
        .as_ref()
        .map(|b| judge(ctx.builds, b.value.version, b.value.precision));

    // A TLS validation failure without a cause that explains it: with live
    // probes, what the probe found; without them, the candidates.
    if let Some(tls) = symptom(CheckId::TlsValidationFailed) {
        let explains_tls = |id: CheckId| {
            registry::meta(id)
                .explains
                .contains(&CheckId::TlsValidationFailed)
        };
        let explained = causes.iter().any(|c| explains_tls(c.id))
            || first_live.is_some_and(|st| st <= Stage::Tls);
        // A cause only the probe can decide, which explains the logged failures.
        if let Some(c) = causes.iter_mut().find(|c| {
            ev.probes.is_some() && explains_tls(c.id) && registry::meta(c.id).needs_probes
        }) {
            c.explanation.push_str(
                " The live probe shows this; it explains the TLS validation failures the service logs (cited).",
            );
        }
        if !explained {
            match &ev.probes {
                Some(p) => causes.push(probe_did_not_reproduce(p, tls)),
                None => causes.extend(tls_candidates(ev, tls)),
            }
        }
    }
    // "untrusted endpoint" on a build we cannot place: the build is the prime suspect.
    if let Some(u) = symptom(CheckId::UntrustedEndpoint)
        && !causes.iter().any(|c| c.id == CheckId::BuildBeforeMarch2023)
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
            id: CheckId::BuildBeforeMarch2023,
            confidence,
            explanation: format!("Likely: the build is older than the March 2023 SU. {why}"),
            evidence: u.evidence.clone(),
            next_steps: u.remediation.clone(),
        });
    }
    if causes.is_empty()
        && let Some(f) = symptom(CheckId::FetchFailing).or_else(|| symptom(CheckId::FetchStale))
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
            CheckId::CrlUnreachable,
            "CRL endpoints unreachable: Windows cannot download the CRLs of the OCS chain over HTTP/80 (through the WinHTTP proxy), so revocation cannot be checked.",
        ),
        (
            CheckId::TlsInterception,
            "SSL/TLS inspection: a proxy or firewall re-signs the connection with its own CA, which the service does not accept.",
        ),
        (
            CheckId::TlsChainUntrusted,
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

/// The service logs TLS failures the probe did not see.
fn probe_did_not_reproduce(p: &ProbeReport, tls: &Finding) -> RootCause {
    let tls_ok = p
        .steps_of(StepKind::Tls)
        .any(|s| s.outcome == StepOutcome::Ok);
    RootCause {
        id: CheckId::TlsValidationFailed,
        confidence: Confidence::Low,
        explanation: format!(
            "The service logs TLS validation failures, but the live probe ({}){}: the chain was Microsoft's and its CRLs reachable from where the probe ran. Run the probe on the Exchange server itself, with the proxies the service uses (InternetWebProxy for the request, the WinHTTP proxy for CRLs); if it still passes, the failures may be intermittent or fixed since.",
            p.started_at,
            if tls_ok {
                " completed the TLS handshake"
            } else {
                " did not reproduce them"
            }
        ),
        evidence: tls.evidence.clone(),
        next_steps: vec![Step::cmd(
            "Probe again on the server, with its proxies:",
            "eems-doctor probe --proxy <InternetWebProxy> --winhttp-proxy <WinHTTP proxy>",
        )],
    }
}

/// One line for the report header: the probe step that failed and what to change.
fn failed_step(
    ev: &ServerEvidence,
    ctx: &Context<'_>,
    p: &ProbeReport,
    causes: &[RootCause],
    findings: &[Finding],
) -> Option<String> {
    let src = probe::source(ev);
    let live = |id: CheckId| {
        findings.iter().find(|f| {
            f.id == id && f.severity > Severity::Info && f.evidence.iter().any(|e| e.source == src)
        })
    };
    // The most likely root cause the probe itself shows; else any probe finding.
    let f = causes
        .iter()
        .find_map(|c| live(c.id))
        .or_else(|| findings.iter().find(|f| live(f.id).is_some()))?;
    let live = ProbeFinding {
        finding: f,
        ev,
        ctx,
        probe: p,
    };
    Some(registry::meta(f.id).fix.line(&live))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::BuildTable;
    use crate::classify::Cause;
    use crate::evidence::{Cite, LogTimeline, Occurrences};
    use crate::probe::fixtures::*;
    use eems_parsers::probe_results::ChainRole;

    fn log_with(cause: Cause, text: &str) -> LogTimeline {
        let mut log = LogTimeline::default();
        log.causes.insert(
            cause,
            Occurrences::new(
                None,
                Cite::new("EX01/Mitigation-Service.log", Some(42), text),
            ),
        );
        log
    }

    fn diag(ev: &ServerEvidence) -> ServerDiagnosis {
        let b = BuildTable::embedded();
        diagnose(ev, &Context::embedded(&b))
    }

    #[test]
    fn logged_tls_failure_plus_live_crl_failure_makes_the_crl_the_root_cause() {
        let mut r = healthy();
        r.winhttp_proxy = Some("127.0.0.1:3128".into());
        r.crls = vec![crl(
            "http://crl.microsoft.com/pki/crl/products/MicRooCerAut2011_2011_03_22.crl",
            ChainRole::Signing,
            Some("127.0.0.1:3128"),
            Some(403),
        )];
        let ev = ServerEvidence {
            log: Some(log_with(
                Cause::TlsTrust,
                "S:Message=TLS certificate or its chain validation failed",
            )),
            probes: Some(r),
            inputs: vec![InputSummary {
                path: crate::evidence::InputSource::LiveProbe,
                kind: eems_parsers::Kind::ProbeResults,
                status: eems_parsers::Status::Parsed,
                reason: None,
            }],
            ..ServerEvidence::default()
        };
        let d = diag(&ev);
        let first = &d.root_causes[0];
        assert_eq!(first.id, "crl-unreachable", "{:#?}", d.root_causes);
        assert!(first.evidence.iter().any(|e| e.source == "probe"));
        assert!(
            first
                .evidence
                .iter()
                .any(|e| e.source == "EX01/Mitigation-Service.log")
        );
        assert!(
            first
                .explanation
                .contains("explains the TLS validation failures")
        );
        // The probe replaced the candidates.
        assert!(
            !d.root_causes
                .iter()
                .any(|c| c.explanation.starts_with("Candidate"))
        );
        assert!(!d.root_causes.iter().any(|c| c.id == "tls-interception"));
        assert_eq!(
            d.failed_step.as_deref(),
            Some(
                "The CRLs of the signing chain cannot be fetched from crl.microsoft.com: HTTP 403 via the WinHTTP proxy 127.0.0.1:3128: allow HTTP/80 to crl.microsoft.com on the WinHTTP proxy 127.0.0.1:3128"
            )
        );
        assert!(d.probes.is_some());
        assert_eq!(d.status, Status::Critical);
    }

    #[test]
    fn a_dns_failure_explains_the_later_steps() {
        let r = report(vec![
            step(
                StepKind::Dns,
                "officeclient.microsoft.com",
                StepOutcome::Failed,
                Some("NXDOMAIN"),
            ),
            skipped(
                StepKind::Tcp,
                "officeclient.microsoft.com:443",
                "DNS failed",
            ),
            skipped(StepKind::Tls, "officeclient.microsoft.com", "DNS failed"),
        ]);
        let mut log = log_with(
            Cause::TlsTrust,
            "TLS certificate or its chain validation failed",
        );
        log.causes.insert(
            Cause::HttpStatus,
            Occurrences::new(
                None,
                Cite::new(
                    "EX01/Mitigation-Service.log",
                    Some(7),
                    "The remote server returned an error: (403) Forbidden.",
                ),
            ),
        );
        let ev = ServerEvidence {
            log: Some(log),
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let d = diag(&ev);
        let ids: Vec<&str> = d.root_causes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["ocs-dns-failure"], "{:#?}", d.root_causes);
        // The logged 403 is still a finding, just not a separate root cause.
        assert!(d.findings.iter().any(|f| f.id == "ocs-http-error"));
        assert_eq!(
            d.failed_step.as_deref(),
            Some(
                "DNS lookup of officeclient.microsoft.com failed: NXDOMAIN: make officeclient.microsoft.com resolvable from the server (DNS forwarding), or set InternetWebProxy so the proxy resolves it"
            )
        );
    }

    #[test]
    fn proxy_407_one_line() {
        let mut s = step(
            StepKind::ProxyConnect,
            "127.0.0.1:3128",
            StepOutcome::Failed,
            Some("proxy answered 407 Proxy Authentication Required"),
        );
        s.http_status = Some(407);
        s.proxy_authenticate = Some("Basic realm=\"Squid\"".into());
        let mut r = report(vec![ok(StepKind::Tcp, "127.0.0.1:3128"), s]);
        r.proxy = Some("http://127.0.0.1:3128".into());
        let d = diag(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        });
        assert_eq!(d.root_causes[0].id, "proxy-auth-required");
        assert_eq!(
            d.failed_step.as_deref(),
            Some(
                "proxy CONNECT to 127.0.0.1:3128 answered 407 Proxy Authentication Required: allow the server through the proxy without authentication"
            )
        );
    }

    #[test]
    fn interception_one_line_names_the_product() {
        let mut r = healthy();
        r.steps[2] = step(
            StepKind::Tls,
            "officeclient.microsoft.com",
            StepOutcome::Failed,
            Some("UnknownIssuer"),
        );
        if let Some(t) = r.tls.as_mut() {
            t.chain = crate::tls::chain::fixtures::zscaler_chain();
            t.trusted = false;
            t.validation_error = Some("UnknownIssuer".into());
        }
        let d = diag(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        });
        assert_eq!(d.root_causes[0].id, "tls-interception");
        assert_eq!(
            d.failed_step.as_deref(),
            Some(
                "TLS to officeclient.microsoft.com is re-signed by Zscaler: exclude officeclient.microsoft.com from SSL inspection on Zscaler"
            )
        );
    }

    #[test]
    fn a_clean_probe_does_not_list_candidates_for_a_logged_tls_failure() {
        let ev = ServerEvidence {
            log: Some(log_with(
                Cause::TlsTrust,
                "TLS certificate or its chain validation failed",
            )),
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        let d = diag(&ev);
        let ids: Vec<&str> = d.root_causes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["tls-validation-failed"]);
        assert_eq!(d.root_causes[0].confidence, Confidence::Low);
        assert_eq!(d.failed_step, None);
        // Without probes the three candidates come back.
        let d = diag(&ServerEvidence { probes: None, ..ev });
        assert_eq!(d.root_causes.len(), 3);
        assert_eq!(d.failed_step, None);
    }
}
