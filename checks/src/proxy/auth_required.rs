use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Finding, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use eems_parsers::probe_results::StepKind;

pub struct ProxyAuthRequired;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyAuthRequired,
    area: "proxy",
    title: "The proxy lets the server through without authentication",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 80,
    stage: Some(Stage::ProxyConnect),
    explains: &[],
    fix: Fix::AtStep("allow the server through the proxy without authentication"),
    needs_probes: false,
};

const DETAIL: &str = "The mitigation service runs as LocalSystem and cannot answer a proxy authentication challenge, so every hourly fetch fails with (407) Proxy Authentication Required.";

fn allow_step() -> Step {
    Step::text(
        "On the proxy, allow the Exchange server (by source address) to reach these URLs without authentication: https://officeclient.microsoft.com/getexchangemitigations, the CRL hosts of its chain over http (e.g. crl3.digicert.com, crl4.digicert.com, www.microsoft.com/pkiops, crl.microsoft.com) and http://ctldl.windowsupdate.com/*.",
    )
}

fn live(ev: &ServerEvidence) -> Live {
    let p = ev.probes.as_ref();
    let connect = match probe::step_state(p, StepKind::ProxyConnect) {
        StepState::Failed(s) if s.http_status == Some(407) => Some(s),
        _ => None,
    };
    // A plain-HTTP proxy answering the GET itself with 407.
    let get = p.and_then(|r| r.ocs.as_ref()).filter(|o| o.status == 407);
    if connect.is_none() && get.is_none() {
        return match probe::step_state(p, StepKind::ProxyConnect) {
            StepState::Ok => Live::Pass,
            StepState::NotReached(why) => Live::NotReached(why),
            _ if p.is_some_and(|r| r.proxy.is_none() && !r.steps.is_empty()) => Live::Pass,
            _ => Live::NoData,
        };
    }
    let proxy = connect
        .map(|s| s.target.clone())
        .or_else(|| p.and_then(|r| r.proxy.clone()))
        .unwrap_or_else(|| "the proxy".into());
    let challenge = connect.and_then(|s| s.proxy_authenticate.clone());
    let mut f: Finding = finding(
        &META,
        Confidence::High,
        format!(
            "The proxy {proxy} answers 407 Proxy Authentication Required{}",
            challenge
                .as_deref()
                .map(|c| format!(" (Proxy-Authenticate: {c})"))
                .unwrap_or_default()
        ),
    )
    .detail(format!(
        "The live probe's CONNECT to officeclient.microsoft.com:443 through the proxy was challenged for credentials. {DETAIL}"
    ));
    if let Some(s) = connect {
        f = f.evidence([probe::step_evidence(ev, s)]);
    }
    if let Some(s) = p
        .and_then(|r| r.step(StepKind::OcsRequest))
        .filter(|_| get.is_some())
    {
        f = f.evidence([probe::step_evidence(ev, s)]);
    }
    Live::Fail(f.step(allow_step()).step(Step::cmd(
        "Confirm afterwards that the proxy answers 200 to CONNECT:",
        format!(
                "eems-doctor probe --proxy {}",
                p.and_then(|r| r.proxy.clone())
                    .unwrap_or_else(|| format!("http://{proxy}"))
            ),
    )))
}

impl Check for ProxyAuthRequired {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        probe::combine(
            &META,
            ev,
            &[Cause::ProxyAuth],
            live(ev),
            |logged| {
                finding(&META, Confidence::High, "The proxy answers 407 Proxy Authentication Required")
                    .detail(DETAIL)
                    .evidence(logged)
                    .step(allow_step())
                    .step(Step::text("Run `eems-doctor probe --proxy http://<proxy>:<port>` to confirm the proxy now answers 200 to CONNECT."))
            },
            "a CONNECT through the proxy",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;
    use eems_parsers::probe_results::StepOutcome;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        ProxyAuthRequired.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn connect_407_cites_proxy_authenticate() {
        let mut s = step(
            StepKind::ProxyConnect,
            "127.0.0.1:3128",
            StepOutcome::Failed,
            Some("proxy answered 407 Proxy Authentication Required"),
        );
        s.http_status = Some(407);
        s.proxy_authenticate = Some("Basic realm=\"eems\"".into());
        let mut r = report(vec![
            ok(StepKind::Tcp, "127.0.0.1:3128"),
            s,
            skipped(StepKind::Tls, "officeclient.microsoft.com", "no tunnel"),
        ]);
        r.proxy = Some("http://127.0.0.1:3128/".into());
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "The proxy 127.0.0.1:3128 answers 407 Proxy Authentication Required (Proxy-Authenticate: Basic realm=\"eems\")"
        );
        assert!(
            f[0].evidence[0]
                .excerpt
                .contains("Proxy-Authenticate: Basic realm=\"eems\"")
        );
        assert_eq!(
            f[0].remediation[1].command.as_deref(),
            Some("eems-doctor probe --proxy http://127.0.0.1:3128/")
        );
    }

    #[test]
    fn direct_probe_passes_and_nothing_skips() {
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        assert!(matches!(run(&ServerEvidence::default()), Outcome::Skip(_)));
    }
}
