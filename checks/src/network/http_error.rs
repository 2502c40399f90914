use crate::check::{Check, CheckMeta, Context, Fix, Outcome, ProbeFinding, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Evidence, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use eems_parsers::probe_results::StepKind;

pub struct OcsHttpError;

static META: CheckMeta = CheckMeta {
    id: CheckId::OcsHttpError,
    area: "network",
    title: "OCS answers 200 with signed mitigation XML",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 190,
    stage: Some(Stage::OcsRequest),
    explains: &[],
    fix: Fix::Line(fix_line),
    needs_probes: false,
};

fn live(ev: &ServerEvidence) -> Live {
    let Some(r) = &ev.probes else {
        return Live::NoData;
    };
    let Some(o) = &r.ocs else {
        return match probe::step_state(Some(r), StepKind::OcsRequest) {
            StepState::NotReached(why) => Live::NotReached(why),
            StepState::Failed(s) => Live::NotReached(probe::step_line(s)),
            _ => Live::NoData,
        };
    };
    // A 407 is proxy-auth-required's.
    if o.status == 407 {
        return Live::Pass;
    }
    let source = if o.from_ocs {
        "It came from OCS (X-OfficeCluster/X-OfficeFE present)."
    } else {
        "It did not come from OCS (no X-OfficeCluster/X-OfficeFE header): a proxy, firewall or filter answered."
    };
    let title = if o.status != 200 {
        format!(
            "The OCS request is answered with HTTP {}{}",
            o.status,
            if o.from_ocs {
                ""
            } else {
                " by something other than OCS"
            }
        )
    } else if !o.eocs_xml {
        "The OCS request gets HTTP 200 but not the mitigation XML (a block or login page)"
            .to_owned()
    } else if !o.has_signature {
        "The mitigation XML arrives without its <Signature> (modified in transit)".to_owned()
    } else {
        return Live::Pass;
    };
    let mut evidence = Vec::new();
    if let Some(s) = r.step(StepKind::OcsRequest) {
        evidence.push(probe::step_evidence(ev, s));
    }
    let headers: Vec<String> = o.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    evidence.push(Evidence::new(
        probe::source(ev),
        None,
        &format!(
            "HTTP {}; {} bytes; {}",
            o.status,
            o.body_bytes,
            if headers.is_empty() {
                "no notable headers".to_owned()
            } else {
                headers.join("; ")
            }
        ),
    ));
    if let Some(b) = &o.body_excerpt {
        evidence.push(Evidence::new(
            probe::source(ev),
            None,
            &format!("body: {b}"),
        ));
    }
    let config = probe::config_note(r);
    if let Some((_, s)) = &config {
        evidence.push(probe::step_evidence(ev, s));
    }
    let config = config.map(|(t, _)| t).unwrap_or_default();
    let quote = o
        .body_excerpt
        .as_deref()
        .map(|b| format!(" The body begins: \"{}\".", crate::finding::clip(b, 160)))
        .unwrap_or_default();
    let proxy = r
        .proxy
        .as_deref()
        .map(|p| format!(" -Proxy {p}"))
        .unwrap_or_default();
    Live::Fail(
        finding(&META, Confidence::High, title)
            .detail(format!("The live probe's GET of {} did not return signed mitigation XML. {source}{quote}{config}", r.ocs_url))
            .evidence(evidence)
            .step(Step::text("Allow https://officeclient.microsoft.com/getexchangemitigations in the proxy's URL filter and content scanning (no block page, no login page, no rewriting)."))
            .step(Step::cmd(
                "See what the server gets (through Exchange's proxy, as the service does):",
                format!("Invoke-WebRequest {} -UseBasicParsing{proxy} | Select-Object StatusCode,Headers", r.ocs_url),
            )),
    )
}

/// The report header when OCS's URL answered an HTTP error.
fn fix_line(l: &ProbeFinding<'_>) -> (String, String) {
    (
        l.finding.title.clone(),
        format!("allow {} in the proxy's URL filter", l.probe.ocs_url),
    )
}

impl Check for OcsHttpError {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let proxy = ev
            .exchange_proxy
            .as_ref()
            .and_then(|p| p.value.as_deref())
            .map(|p| format!(" -Proxy {p}"))
            .unwrap_or_default();
        probe::combine(
            &META,
            ev,
            &[Cause::HttpStatus],
            live(ev),
            |logged| {
                finding(&META, Confidence::High, "The OCS request gets an HTTP error instead of the mitigation XML")
                    .detail("The service reached an HTTP server but got an error status (\"The remote server returned an error: (403) …\"). A proxy or firewall block page, or a URL filter category, is the usual cause; a 5xx can be a transient OCS incident.")
                    .evidence(logged)
                    .step(Step::text("Allow https://officeclient.microsoft.com/getexchangemitigations in the proxy's URL filter."))
                    .step(Step::cmd(
                        "See what the server gets (through Exchange's proxy, as the service does):",
                        format!("Invoke-WebRequest https://officeclient.microsoft.com/getexchangemitigations -UseBasicParsing{proxy} | Select-Object StatusCode,Headers"),
                    ))
            },
            "the OCS GET",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        OcsHttpError.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn block_page_403_is_quoted() {
        let mut r = healthy();
        if let Some(o) = r.ocs.as_mut() {
            o.status = 403;
            o.from_ocs = false;
            o.eocs_xml = false;
            o.has_signature = false;
            o.headers = vec![("Server".into(), "squid/5.7".into())];
            o.body_excerpt = Some("<html><title>ERROR: The requested URL could not be retrieved</title> Access Denied".into());
            o.signing_chain.clear();
        }
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "The OCS request is answered with HTTP 403 by something other than OCS"
        );
        assert!(f[0].detail.contains("Access Denied"));
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.excerpt.starts_with("body: <html>"))
        );
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.excerpt.contains("Server: squid/5.7"))
        );
    }

    /// GetExchangeConfig is informative: it adds a sentence (and its step)
    /// to a failed mitigation request, and never makes or unmakes a finding.
    #[test]
    fn the_config_request_informs_and_never_decides() {
        use eems_parsers::probe_results::StepOutcome;
        let url = "https://officeclient.microsoft.com/GetExchangeConfig";
        let config = |outcome, status, reason: Option<&str>| {
            let mut s = step(StepKind::OcsConfig, url, outcome, reason);
            s.http_status = status;
            s
        };
        let ev = |r| ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let mut r = healthy();
        let down = config(
            StepOutcome::Failed,
            Some(503),
            Some("answered HTTP 503 Service Unavailable"),
        );
        r.steps.push(down.clone());
        assert_eq!(run(&ev(r)), Outcome::Pass);
        let blocked = || {
            let mut r = healthy();
            if let Some(o) = r.ocs.as_mut() {
                o.status = 403;
                o.from_ocs = false;
                o.eocs_xml = false;
            }
            r
        };
        let Outcome::Fail(alone) = run(&ev(blocked())) else {
            panic!()
        };
        assert!(!alone[0].detail.contains("GetExchangeConfig"));
        for (s, said) in [
            (
                config(StepOutcome::Ok, Some(200), None),
                "answered GetExchangeConfig (Health Checker's second URL: another service behind the same name and network path) with HTTP 200",
            ),
            (down, "failed too (answered HTTP 503 Service Unavailable)"),
        ] {
            let mut r = blocked();
            r.steps.push(s);
            let Outcome::Fail(f) = run(&ev(r)) else {
                panic!()
            };
            assert_eq!(f[0].title, alone[0].title);
            assert!(f[0].detail.contains(said), "{}", f[0].detail);
            assert!(
                f[0].evidence
                    .iter()
                    .any(|e| e.excerpt.starts_with(&format!("GetExchangeConfig {url}"))),
                "{:?}",
                f[0].evidence
            );
        }
    }

    #[test]
    fn unsigned_xml_and_healthy() {
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        let mut r = healthy();
        if let Some(o) = r.ocs.as_mut() {
            o.has_signature = false;
        }
        let Outcome::Fail(f) = run(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }) else {
            panic!()
        };
        assert!(f[0].title.contains("without its <Signature>"));
    }
}
