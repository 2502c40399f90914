use crate::check::{Check, CheckMeta, Context, Fix, Outcome, ProbeFinding, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Finding, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use eems_parsers::probe_results::{ProbeStep, StepKind, StepOutcome};

pub struct OcsUnreachable;

static META: CheckMeta = CheckMeta {
    id: CheckId::OcsUnreachable,
    area: "network",
    title: "officeclient.microsoft.com:443 is reachable (directly or through the proxy)",
    severity: Severity::Critical,
    role: Role::Consequence,
    priority: 180,
    stage: Some(Stage::Tcp),
    explains: &[],
    fix: Fix::Line(fix_line),
    needs_probes: false,
};

fn tcp_finding(ev: &ServerEvidence, s: &ProbeStep) -> Finding {
    let via_proxy = ev.probes.as_ref().and_then(|p| p.proxy.clone());
    let what = match &via_proxy {
        Some(p) => format!("the proxy {} (InternetWebProxy {p})", s.target),
        None => s.target.clone(),
    };
    let (title, why) = if s.outcome == StepOutcome::TimedOut {
        (
            format!(
                "The TCP connection to {what} times out after {} ms",
                s.duration_ms
            ),
            "Nothing answered: a firewall drops the packets silently (no reset), or the address is wrong.",
        )
    } else {
        let reason = s.reason.clone().unwrap_or_else(|| "failed".into());
        (
            format!("The TCP connection to {what} fails: {reason}"),
            "A refused connection means the host answered with a reset: nothing listens on that port, or a firewall rejects it.",
        )
    };
    let (host, port) = s
        .target
        .rsplit_once(':')
        .unwrap_or((s.target.as_str(), "443"));
    let mut f = finding(&META, Confidence::High, title)
        .detail(format!(
            "The live probe could not open the TCP connection the service needs. {why}"
        ))
        .evidence([probe::step_evidence(ev, s)])
        .step(Step::cmd(
            "Test the same connection from the server:",
            format!(
                "Test-NetConnection {} -Port {port}",
                host.trim_matches(['[', ']'])
            ),
        ));
    f = match via_proxy {
        Some(_) => f.step(Step::text(
            "Make sure the proxy in InternetWebProxy is the right host and port and is running, and that the firewall lets the Exchange server reach it.",
        )),
        None => f.step(Step::text(
            "Allow outbound TCP 443 to officeclient.microsoft.com on the firewall, or set InternetWebProxy to the proxy that has Internet access (Set-ExchangeServer -InternetWebProxy).",
        )),
    };
    f
}

fn connect_finding(ev: &ServerEvidence, s: &ProbeStep) -> Finding {
    let status = s.http_status;
    let line = s
        .details
        .first()
        .cloned()
        .or_else(|| status.map(|c| format!("HTTP {c}")))
        .unwrap_or_else(|| s.reason.clone().unwrap_or_else(|| "no answer".into()));
    let (title, why, fix) = match status {
        Some(403) => (
            format!(
                "The proxy {} refuses CONNECT to officeclient.microsoft.com:443 (403 Forbidden)",
                s.target
            ),
            "The proxy's rules deny the tunnel: an allowlist or URL category that does not include officeclient.microsoft.com, or a rule for this source address.",
            "Allow CONNECT to officeclient.microsoft.com:443 for the Exchange server on the proxy (squid: an `http_access allow` for the host before the deny rules).",
        ),
        Some(502) | Some(504) | Some(503) => (
            format!(
                "The proxy {} cannot reach officeclient.microsoft.com:443 ({})",
                s.target, line
            ),
            "The proxy accepted the request but could not connect onwards: its own DNS, firewall or upstream proxy fails.",
            "Check the proxy's own Internet access to officeclient.microsoft.com:443 (its DNS, its firewall, any upstream proxy).",
        ),
        _ => (
            format!(
                "The proxy {} does not open a tunnel to officeclient.microsoft.com:443 ({})",
                s.target, line
            ),
            "The CONNECT request did not get a 2xx answer.",
            "Allow CONNECT to officeclient.microsoft.com:443 for the Exchange server on the proxy.",
        ),
    };
    finding(&META, Confidence::High, title)
        .detail(format!(
            "The live probe reached the proxy but its CONNECT was refused. {why}"
        ))
        .evidence([probe::step_evidence(ev, s)])
        .step(Step::text(fix))
}

fn live(ev: &ServerEvidence) -> Live {
    let p = ev.probes.as_ref();
    if let StepState::Failed(s) = probe::step_state(p, StepKind::Tcp) {
        return Live::Fail(tcp_finding(ev, s));
    }
    if let StepState::Failed(s) = probe::step_state(p, StepKind::ProxyConnect)
        && s.http_status != Some(407)
    {
        return Live::Fail(connect_finding(ev, s));
    }
    match probe::step_state(p, StepKind::Tcp) {
        StepState::Ok => Live::Pass,
        StepState::NotReached(why) => Live::NotReached(why),
        _ => Live::NoData,
    }
}

/// The report header when the probe could not connect: through a proxy, its
/// CONNECT; else the firewall.
fn fix_line(l: &ProbeFinding<'_>) -> (String, String) {
    let fix = if l
        .path_failure()
        .is_some_and(|s| s.kind == StepKind::ProxyConnect)
    {
        format!(
            "allow CONNECT to {}:443 on the proxy for this server",
            l.host()
        )
    } else {
        format!(
            "allow outbound TCP 443 to {} (or to the proxy) on the firewall",
            l.host()
        )
    };
    (l.failing_step(), fix)
}

impl Check for OcsUnreachable {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let proxy = ev.exchange_proxy.as_ref().and_then(|p| p.value.as_deref());
        let test = match proxy.and_then(|p| crate::proxy::authority(p, crate::proxy::OCS_SCHEME)) {
            Some((h, port)) => Step::cmd(
                "Test the connection to the proxy the service uses:",
                format!("Test-NetConnection {h} -Port {port}"),
            ),
            None => Step::cmd(
                "Test the direct connection from the server:",
                "Test-NetConnection officeclient.microsoft.com -Port 443",
            ),
        };
        let via = match proxy {
            Some(p) => format!("through the proxy {p}"),
            None => "directly (no InternetWebProxy is set)".to_owned(),
        };
        probe::combine(
            &META,
            ev,
            &[Cause::Connect, Cause::Timeout],
            live(ev),
            |logged| {
                finding(&META, Confidence::High, "The service cannot connect to officeclient.microsoft.com:443")
                    .detail(format!("The fetch fails with \"Unable to connect to the remote server\" / a socket timeout / \"A task was canceled\": the TCP connection {via} is refused or silently dropped. If the network requires a proxy, Exchange's InternetWebProxy must name it."))
                    .evidence(logged)
                    .step(test)
                    .step(Step::text("Allow outbound TCP 443 to officeclient.microsoft.com on the firewall, or set InternetWebProxy to the proxy that has Internet access."))
            },
            "a TCP connection to officeclient.microsoft.com:443 or the proxy",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Cause;
    use crate::evidence::{Cite, LogTimeline, Occurrences};
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        OcsUnreachable.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn refused_connection_cites_the_probe_and_the_log() {
        let r = report(vec![
            ok(StepKind::Dns, "officeclient.microsoft.com"),
            step(
                StepKind::Tcp,
                "officeclient.microsoft.com:443",
                StepOutcome::Failed,
                Some("connection refused"),
            ),
        ]);
        let mut log = LogTimeline::default();
        log.causes.insert(
            Cause::Connect,
            Occurrences::new(
                None,
                Cite::new(
                    "Mitigation.log",
                    Some(9),
                    "Unable to connect to the remote server",
                ),
            ),
        );
        let ev = ServerEvidence {
            probes: Some(r),
            log: Some(log),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "The TCP connection to officeclient.microsoft.com:443 fails: connection refused"
        );
        assert_eq!(f[0].evidence.len(), 2);
        assert_eq!(f[0].evidence[1].source, "Mitigation.log");
        assert_eq!(
            f[0].remediation[0].command.as_deref(),
            Some("Test-NetConnection officeclient.microsoft.com -Port 443")
        );
    }

    #[test]
    fn connect_403_and_502_are_kept_apart_and_407_is_not_ours() {
        for (status, word) in [(403, "refuses CONNECT"), (502, "cannot reach")] {
            let mut s = step(
                StepKind::ProxyConnect,
                "127.0.0.1:3128",
                StepOutcome::Failed,
                Some("proxy answered"),
            );
            s.http_status = Some(status);
            let mut r = report(vec![ok(StepKind::Tcp, "127.0.0.1:3128"), s]);
            r.proxy = Some("http://127.0.0.1:3128".into());
            let ev = ServerEvidence {
                probes: Some(r),
                ..ServerEvidence::default()
            };
            let Outcome::Fail(f) = run(&ev) else {
                panic!("{status}")
            };
            assert!(f[0].title.contains(word), "{}", f[0].title);
        }
        let mut s = step(
            StepKind::ProxyConnect,
            "127.0.0.1:3128",
            StepOutcome::Failed,
            None,
        );
        s.http_status = Some(407);
        let ev = ServerEvidence {
            probes: Some(report(vec![ok(StepKind::Tcp, "127.0.0.1:3128"), s])),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
    }

    #[test]
    fn not_reached_after_a_dns_failure() {
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
        ]);
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let Outcome::Skip(why) = run(&ev) else {
            panic!()
        };
        assert!(
            why.contains("did not reach") && why.contains("NXDOMAIN"),
            "{why}"
        );
    }
}
