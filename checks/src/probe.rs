//! Reading live probe results for the checks: citations, step order, and
//! how a check combines what the probe saw with what the service logged.

use crate::check::{CheckMeta, Outcome};
use crate::classify::Cause;
use crate::evidence::{InputSource, ServerEvidence};
use crate::finding::{Evidence, Finding};
use eems_parsers::probe_results::{
    CertInfo, ChainRole, HttpFetch, ProbeReport, ProbeStep, StepKind, StepOutcome,
};
use serde::Serialize;

/// Where probe facts are cited from: the saved `probe-results.json` when the
/// probe was read from a bundle, else `probe` (a live run).
pub fn source(ev: &ServerEvidence) -> String {
    ev.inputs
        .iter()
        .find_map(|i| match &i.path {
            InputSource::File(p) if i.kind == eems_parsers::Kind::ProbeResults => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "probe".to_owned())
}

pub fn kind_word(k: StepKind) -> &'static str {
    match k {
        StepKind::Dns => "DNS",
        StepKind::Tcp => "TCP",
        StepKind::ProxyConnect => "proxy CONNECT",
        StepKind::Tls => "TLS",
        StepKind::OcsRequest => "OCS request",
        StepKind::Crl => "CRL",
        StepKind::Aia => "AIA",
        StepKind::Ctl => "CTL",
        StepKind::OcsConfig => "GetExchangeConfig",
    }
}

pub fn outcome_word(o: StepOutcome) -> &'static str {
    match o {
        StepOutcome::Ok => "ok",
        StepOutcome::Failed => "failed",
        StepOutcome::TimedOut => "timed out",
        StepOutcome::Skipped => "skipped",
    }
}

pub fn is_failure(s: &ProbeStep) -> bool {
    matches!(s.outcome, StepOutcome::Failed | StepOutcome::TimedOut)
}

/// A step of the path the service's own request walks, in order: a failing
/// step explains the ones after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Dns,
    Tcp,
    ProxyConnect,
    Tls,
    OcsRequest,
}

/// Position on the path the service's own request walks; CRL/AIA/CTL go
/// through WinHTTP on another path and have none, and the GetExchangeConfig
/// request is informative only: it never explains or hides a finding.
pub fn stage(k: StepKind) -> Option<Stage> {
    match k {
        StepKind::Dns => Some(Stage::Dns),
        StepKind::Tcp => Some(Stage::Tcp),
        StepKind::ProxyConnect => Some(Stage::ProxyConnect),
        StepKind::Tls => Some(Stage::Tls),
        StepKind::OcsRequest => Some(Stage::OcsRequest),
        StepKind::Crl | StepKind::Aia | StepKind::Ctl | StepKind::OcsConfig => None,
    }
}

/// The earliest failing step on the OCS path.
pub fn first_path_failure(r: &ProbeReport) -> Option<&ProbeStep> {
    r.steps
        .iter()
        .filter(|s| is_failure(s))
        .filter_map(|s| stage(s.kind).map(|st| (st, s)))
        .min_by_key(|(st, _)| *st)
        .map(|(_, s)| s)
}

/// `DNS officeclient.microsoft.com: failed (NXDOMAIN) after 3 ms; 407 …`.
pub fn step_line(s: &ProbeStep) -> String {
    let mut line = format!(
        "{} {}: {}",
        kind_word(s.kind),
        s.target,
        outcome_word(s.outcome)
    );
    if let Some(r) = &s.reason {
        line.push_str(&format!(" ({r})"));
    }
    line.push_str(&format!(" after {} ms", s.duration_ms));
    if let Some(st) = s.http_status {
        line.push_str(&format!("; HTTP {st}"));
    }
    if let Some(pa) = &s.proxy_authenticate {
        line.push_str(&format!("; Proxy-Authenticate: {pa}"));
    }
    if !s.details.is_empty() {
        line.push_str(&format!("; {}", s.details.join(", ")));
    }
    line
}

/// What the informative GetExchangeConfig request (the same host and
/// network path, another service) adds to a failed mitigation request, in
/// one sentence; `None` when it was not made.
pub fn config_note(r: &ProbeReport) -> Option<(String, &ProbeStep)> {
    let s = r.step(StepKind::OcsConfig)?;
    let text = match s.outcome {
        StepOutcome::Ok => format!(
            " The same host answered GetExchangeConfig (Health Checker's second URL: another service behind the same name and network path) with HTTP {}: the host and the path to it work, so this answer concerns the mitigation URL itself.",
            s.http_status
                .map_or_else(|| "2xx".to_owned(), |c| c.to_string())
        ),
        StepOutcome::Failed | StepOutcome::TimedOut => format!(
            " GetExchangeConfig on the same host (Health Checker's second URL, the same network path) failed too ({}): the host, or what stands in front of it, answers neither service.",
            s.reason.as_deref().unwrap_or("no answer")
        ),
        StepOutcome::Skipped => return None,
    };
    Some((text, s))
}

pub fn step_evidence(ev: &ServerEvidence, s: &ProbeStep) -> Evidence {
    Evidence::new(source(ev), None, &step_line(s))
}

pub fn fetch_line(f: &HttpFetch) -> String {
    let via = f
        .via_proxy
        .as_deref()
        .map_or_else(|| "direct".to_owned(), |p| format!("via WinHTTP proxy {p}"));
    let what = if f.timed_out {
        "timed out".to_owned()
    } else if let Some(s) = f.status {
        format!("HTTP {s}")
    } else {
        f.error.clone().unwrap_or_else(|| "failed".to_owned())
    };
    let err = match (&f.error, f.timed_out, f.status) {
        (Some(e), false, Some(_)) => format!(" ({e})"),
        _ => String::new(),
    };
    format!(
        "GET {} {via}: {what}{err} after {} ms",
        f.url, f.duration_ms
    )
}

pub fn cert_line(role: ChainRole, i: usize, c: &CertInfo) -> String {
    let role = match role {
        ChainRole::Tls => "TLS",
        ChainRole::Signing => "signing",
    };
    format!(
        "{role} chain #{}: subject {}; issuer {}; valid {} to {}; SHA-256 {}; {} SCTs",
        i + 1,
        c.subject,
        c.issuer,
        c.not_before,
        c.not_after,
        c.sha256,
        c.sct_count
    )
}

pub fn cert_evidence(ev: &ServerEvidence, role: ChainRole, i: usize, c: &CertInfo) -> Evidence {
    Evidence::new(source(ev), None, &cert_line(role, i, c))
}

/// What the probe says about one check's question.
pub enum Live {
    /// The probe shows the failure: the finding, with its probe citations.
    Fail(Finding),
    /// The probe passed this step.
    Pass,
    /// The probe stopped before this step (the reason names the earlier failure).
    NotReached(String),
    /// No probe results, or none for this step.
    NoData,
}

/// The skip text of a check when nothing can decide it.
pub fn skip_hint(what: &str) -> Outcome {
    Outcome::Skip(format!(
        "no probe results, MitigationService log or mitigation events ({what}): run `eems-doctor probe` on the server"
    ))
}

/// Combine the probe's answer with the service's own log/events (`causes`).
/// Both failing: the probe's finding, citing the log too. Only the log: the
/// offline finding (noting when the probe passed the same step). Neither:
/// pass, or skip when there was nothing to read.
pub fn combine(
    meta: &'static CheckMeta,
    ev: &ServerEvidence,
    causes: &[Cause],
    live: Live,
    offline: impl FnOnce(Vec<Evidence>) -> Finding,
    what: &str,
) -> Outcome {
    let logged: Vec<Evidence> = causes.iter().flat_map(|c| ev.cause_evidence(*c)).collect();
    let has_logs = ev.events_seen > 0 || ev.log.is_some();
    match live {
        Live::Fail(mut f) => {
            if !logged.is_empty() {
                f.detail.push_str(
                    " The service's own log/events show the same failure (cited below the probe's evidence).",
                );
                f = f.evidence(logged);
            }
            Outcome::fail(f)
        }
        live if !logged.is_empty() => {
            let mut f = offline(logged);
            if matches!(live, Live::Pass) {
                f.detail.push_str(&format!(
                    " The live probe passed this step ({}), so the failure may be intermittent, fixed since, or specific to the service's own path (proxy, account).",
                    ev.probes.as_ref().map_or("", |p| p.started_at.as_str())
                ));
            }
            debug_assert_eq!(f.id, meta.id);
            Outcome::fail(f)
        }
        Live::Pass => Outcome::Pass,
        _ if has_logs => Outcome::Pass,
        Live::NotReached(why) => Outcome::Skip(format!("the probe did not reach this step: {why}")),
        _ => skip_hint(what),
    }
}

/// The probe's answer for a step of the OCS path: the failed step, or whether it passed / was not reached.
pub enum StepState<'a> {
    Failed(&'a ProbeStep),
    Ok,
    NotReached(String),
    NoData,
}

pub fn step_state(r: Option<&ProbeReport>, kind: StepKind) -> StepState<'_> {
    let Some(r) = r else {
        return StepState::NoData;
    };
    if let Some(s) = r.failed(kind) {
        return StepState::Failed(s);
    }
    if r.steps_of(kind).any(|s| s.outcome == StepOutcome::Ok) {
        return StepState::Ok;
    }
    match first_path_failure(r) {
        Some(f) if stage(f.kind) < stage(kind) => StepState::NotReached(step_line(f)),
        _ => match r.steps_of(kind).find(|s| s.outcome == StepOutcome::Skipped) {
            Some(s) => StepState::NotReached(
                s.reason
                    .clone()
                    .unwrap_or_else(|| format!("{} skipped", kind_word(kind))),
            ),
            None => StepState::NoData,
        },
    }
}

fn http_phrase(code: u16) -> &'static str {
    match code {
        403 => " Forbidden",
        404 => " Not Found",
        407 => " Proxy Authentication Required",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    }
}

/// `DNS lookup of x failed: NXDOMAIN`, `proxy CONNECT to p answered 407 …`.
pub fn describe_step(s: &ProbeStep) -> String {
    let how = |verb: &str| match (s.outcome, &s.reason) {
        (StepOutcome::TimedOut, _) => format!("timed out after {} ms", s.duration_ms),
        (_, Some(r)) => format!("{verb}: {r}"),
        _ => verb.to_owned(),
    };
    match s.kind {
        StepKind::Dns => format!("DNS lookup of {} {}", s.target, how("failed")),
        StepKind::Tcp => format!("TCP connection to {} {}", s.target, how("failed")),
        StepKind::ProxyConnect => match s.http_status {
            Some(c) => format!(
                "proxy CONNECT to {} answered {c}{}",
                s.target,
                http_phrase(c)
            ),
            None => format!("proxy CONNECT to {} {}", s.target, how("failed")),
        },
        StepKind::Tls => format!("TLS handshake with {} {}", s.target, how("failed")),
        StepKind::OcsRequest => match s.http_status {
            Some(c) => format!("OCS request {} answered {c}{}", s.target, http_phrase(c)),
            None => format!("OCS request {} {}", s.target, how("failed")),
        },
        k => format!("{} {} {}", kind_word(k), s.target, how("failed")),
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Hand-made probe reports for the check tests.
    use eems_parsers::probe_results::*;

    /// `check` run on a server whose only evidence is `probes`; its
    /// findings, which it must have (a pass or skip fails the test).
    pub fn failed(
        check: &dyn crate::check::Check,
        probes: ProbeReport,
    ) -> Vec<crate::finding::Finding> {
        let b = crate::builds::BuildTable::embedded();
        let ev = crate::evidence::ServerEvidence {
            probes: Some(probes),
            ..crate::evidence::ServerEvidence::default()
        };
        match check.run(&ev, &crate::check::Context::embedded(&b)) {
            crate::check::Outcome::Fail(f) => f,
            other => panic!("expected findings, got {other:?}"),
        }
    }

    pub fn step(
        kind: StepKind,
        target: &str,
        outcome: StepOutcome,
        reason: Option<&str>,
    ) -> ProbeStep {
        ProbeStep {
            kind,
            target: target.into(),
            outcome,
            reason: reason.map(str::to_owned),
            duration_ms: 12,
            details: Vec::new(),
            http_status: None,
            proxy_authenticate: None,
        }
    }

    pub fn ok(kind: StepKind, target: &str) -> ProbeStep {
        step(kind, target, StepOutcome::Ok, None)
    }

    pub fn skipped(kind: StepKind, target: &str, why: &str) -> ProbeStep {
        step(kind, target, StepOutcome::Skipped, Some(why))
    }

    pub fn report(steps: Vec<ProbeStep>) -> ProbeReport {
        ProbeReport {
            schema_version: PROBE_SCHEMA_VERSION,
            tool_version: "0.1.0".into(),
            started_at: "2026-06-15T12:00:00Z".into(),
            host: Some("EX01".into()),
            ocs_url: "https://officeclient.microsoft.com/getexchangemitigations".into(),
            timeout_ms: 10_000,
            steps,
            ..ProbeReport::default()
        }
    }

    /// Every step of a healthy direct run, genuine chain, 200 signed XML, CRLs and CTL fetched.
    pub fn healthy() -> ProbeReport {
        let ocs = "officeclient.microsoft.com";
        let mut r = report(vec![
            ok(StepKind::Dns, ocs),
            ok(StepKind::Tcp, "officeclient.microsoft.com:443"),
            ok(StepKind::Tls, ocs),
            ok(
                StepKind::OcsRequest,
                "https://officeclient.microsoft.com/getexchangemitigations",
            ),
            ok(
                StepKind::Crl,
                "http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004.crl",
            ),
            ok(
                StepKind::Ctl,
                "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
            ),
        ]);
        r.tls = Some(TlsResult {
            protocol: Some("TLSv1.3".into()),
            chain: crate::tls::chain::fixtures::ms_chain(),
            trusted: true,
            ..TlsResult::default()
        });
        r.ocs = Some(OcsResponse {
            status: 200,
            headers: vec![(
                "X-OfficeCluster".into(),
                "eus2-config.officeapps.live.com".into(),
            )],
            from_ocs: true,
            eocs_xml: true,
            has_signature: true,
            mitigation_ids: vec!["PING1".into()],
            signing_chain: vec![signer()],
            body_excerpt: None,
            body_bytes: 19_000,
            xml_signature: None,
        });
        r.crls = vec![crl(
            "http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2004.crl",
            ChainRole::Tls,
            None,
            Some(200),
        )];
        r.ctl = Some(fetch(
            "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
            None,
            Some(200),
        ));
        r
    }

    pub fn signer() -> CertInfo {
        CertInfo {
            subject: "C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Exchange XML Signing".into(),
            issuer: "C=US, ST=Washington, L=Redmond, O=Microsoft Corporation, CN=Microsoft Code Signing PCA 2011".into(),
            subject_cn: Some("Microsoft Exchange XML Signing".into()),
            issuer_cn: Some("Microsoft Code Signing PCA 2011".into()),
            issuer_o: Some("Microsoft Corporation".into()),
            not_before: "2026-01-10T18:44:12Z".into(),
            not_after: "2027-01-09T18:44:12Z".into(),
            sha256: "8A".repeat(32),
            sha1: "8A686CF7546035F2E571E302D01BC5303CCB3E08".into(),
            eku: vec!["codeSigning".into(), "1.3.6.1.4.1.311.76.57.1.11".into()],
            crl_urls: vec!["http://www.microsoft.com/pkiops/crl/MicCodSigPCA2011_2011-07-08.crl".into()],
            ..CertInfo::default()
        }
    }

    pub fn fetch(url: &str, via: Option<&str>, status: Option<u16>) -> HttpFetch {
        HttpFetch {
            url: url.into(),
            via_proxy: via.map(str::to_owned),
            status,
            ok: status.is_some_and(|s| (200..300).contains(&s)),
            error: None,
            timed_out: false,
            bytes: 900,
            duration_ms: 40,
        }
    }

    pub fn crl(url: &str, chain: ChainRole, via: Option<&str>, status: Option<u16>) -> CrlFetch {
        let f = fetch(url, via, status);
        let got = f.ok;
        CrlFetch {
            fetch: f,
            chain,
            for_subject: "CN=officeclient.microsoft.com".into(),
            crl_issuer: got.then(|| "CN=Microsoft Azure RSA TLS Issuing CA 04".into()),
            issuer_matches: got.then_some(true),
            this_update: got.then(|| "2026-06-14T00:00:00Z".into()),
            next_update: got.then(|| "2026-06-21T00:00:00Z".into()),
            expired: got.then_some(false),
            revoked: got.then_some(false),
            parse_error: None,
            signature: got.then_some(eems_xmldsig::crl::CrlVerdict::Verified),
        }
    }
}
