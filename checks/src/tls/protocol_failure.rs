use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use eems_parsers::probe_results::{StepKind, StepOutcome};

pub struct TlsProtocolFailure;

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsProtocolFailure,
    area: "tls",
    title: "The TLS handshake with OCS completes",
    severity: Severity::Critical,
    // tls-config-weak explains it when the registry shows TLS 1.2 turned off.
    role: Role::Consequence,
    priority: 200,
    stage: Some(Stage::Tls),
    explains: &[],
    fix: Fix::AtStep("stop the middlebox resetting the handshake, and enable TLS 1.2 for .NET"),
    needs_probes: false,
};

fn live(ev: &ServerEvidence) -> Live {
    let p = ev.probes.as_ref();
    let got_chain = p
        .and_then(|r| r.tls.as_ref())
        .is_some_and(|t| !t.chain.is_empty());
    match probe::step_state(p, StepKind::Tls) {
        // A certificate arrived: the handshake works and the verdict is on the chain.
        StepState::Failed(_) if got_chain => Live::Pass,
        StepState::Failed(s) => {
            let reason = s.reason.clone().unwrap_or_else(|| "failed".into());
            let title = if s.outcome == StepOutcome::TimedOut {
                format!(
                    "The TLS handshake with {} times out after {} ms, before any certificate arrives",
                    s.target, s.duration_ms
                )
            } else {
                format!(
                    "The TLS handshake with {} fails before any certificate arrives: {reason}",
                    s.target
                )
            };
            let reset = reason.to_ascii_lowercase().contains("reset")
                || reason.to_ascii_lowercase().contains("eof")
                || reason.to_ascii_lowercase().contains("closed");
            let why = if reset {
                "The connection was closed or reset during the handshake: a middlebox (firewall, IPS, proxy) that inspects the ClientHello and drops it is the usual cause."
            } else {
                "The peer did not complete the handshake: no common protocol version or cipher suite, or something that is not a TLS server answered."
            };
            Live::Fail(
                finding(&META, Confidence::High, title)
                    .detail(format!("The live probe (TLS 1.2 and 1.3, modern cipher suites, the way the service's .NET client connects) got no certificate from the server. {why}"))
                    .evidence([probe::step_evidence(ev, s)])
                    .step(Step::text("Check the firewall/IPS/proxy between the server and officeclient.microsoft.com for TLS blocking or resets (its logs show the dropped connection)."))
                    .step(Step::text("Make sure TLS 1.2 is enabled for .NET Framework 4.x: HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 (and WOW6432Node) SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1; HealthChecker's TLS section checks this.")),
            )
        }
        StepState::Ok => Live::Pass,
        StepState::NotReached(why) => Live::NotReached(why),
        StepState::NoData => Live::NoData,
    }
}

impl Check for TlsProtocolFailure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        probe::combine(
            &META,
            ev,
            &[Cause::TlsProtocol],
            live(ev),
            |logged| {
                finding(&META, Confidence::High, "The TLS handshake with OCS fails (protocol, cipher or reset)")
                    .detail("\"Could not create SSL/TLS secure channel\" or \"An unexpected error occurred on a send\": the handshake itself breaks before any certificate is judged. Usual causes: TLS 1.2 disabled for .NET Framework (SchUseStrongCrypto/SystemDefaultTlsVersions), cipher suites removed by hardening, or a middlebox resetting the connection.")
                    .evidence(logged)
                    .step(Step::text("Make sure TLS 1.2 is enabled for .NET Framework 4.x: HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 (and WOW6432Node) SystemDefaultTlsVersions=1 and SchUseStrongCrypto=1; HealthChecker's TLS section checks this."))
                    .step(Step::cmd("Probe the handshake the way the service does:", "eems-doctor probe"))
            },
            "a TLS handshake with officeclient.microsoft.com",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;
    use eems_parsers::probe_results::TlsResult;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        TlsProtocolFailure.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn reset_before_a_certificate_fails_but_a_rejected_chain_does_not() {
        let mut r = report(vec![
            ok(StepKind::Dns, "officeclient.microsoft.com"),
            ok(StepKind::Tcp, "officeclient.microsoft.com:443"),
            step(
                StepKind::Tls,
                "officeclient.microsoft.com",
                StepOutcome::Failed,
                Some("connection reset by peer"),
            ),
        ]);
        r.tls = Some(TlsResult::default());
        let ev = ServerEvidence {
            probes: Some(r.clone()),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "The TLS handshake with officeclient.microsoft.com fails before any certificate arrives: connection reset by peer"
        );
        assert!(f[0].detail.contains("middlebox"));
        r.tls = Some(TlsResult {
            chain: crate::tls::chain::fixtures::zscaler_chain(),
            ..TlsResult::default()
        });
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
    }
}
