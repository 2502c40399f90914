use crate::check::{Check, CheckMeta, Context, Fix, Outcome, ProbeFinding, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::probe::Stage;
use crate::probe::{self, Live, StepState};
use eems_parsers::probe_results::{StepKind, StepOutcome};

pub struct OcsDnsFailure;

static META: CheckMeta = CheckMeta {
    id: CheckId::OcsDnsFailure,
    area: "network",
    title: "officeclient.microsoft.com (or the proxy) resolves in DNS",
    severity: Severity::Critical,
    role: Role::Consequence,
    priority: 170,
    stage: Some(Stage::Dns),
    explains: &[],
    fix: Fix::Line(fix_line),
    needs_probes: false,
};

fn steps() -> Vec<Step> {
    vec![
        Step::cmd(
            "Test name resolution on the server:",
            "Resolve-DnsName officeclient.microsoft.com",
        ),
        Step::text(
            "Allow the server's DNS to resolve officeclient.microsoft.com (forwarders/conditional forwarding), or set InternetWebProxy so the proxy resolves it.",
        ),
    ]
}

fn live(ev: &ServerEvidence) -> Live {
    match probe::step_state(ev.probes.as_ref(), StepKind::Dns) {
        StepState::Failed(s) => {
            let reason = s.reason.as_deref().unwrap_or_default();
            let nx = reason.to_ascii_uppercase().contains("NXDOMAIN")
                || reason.to_ascii_lowercase().contains("no such")
                || reason.to_ascii_lowercase().contains("no record");
            let title = if s.outcome == StepOutcome::TimedOut {
                format!(
                    "DNS does not answer for {} (timed out after {} ms)",
                    s.target, s.duration_ms
                )
            } else if nx {
                format!("{} does not exist in the server's DNS (NXDOMAIN)", s.target)
            } else {
                format!("The DNS lookup of {} fails: {reason}", s.target)
            };
            let why = if s.outcome == StepOutcome::TimedOut {
                "No DNS server answered in time: the configured DNS servers are unreachable (UDP/TCP 53 blocked) or do not forward external names."
            } else if nx {
                "The DNS server answered that the name does not exist: internal DNS without forwarding for external names, or a split-horizon zone for microsoft.com."
            } else {
                "The DNS lookup failed."
            };
            let mut steps = steps();
            let target_is_proxy = ev.probes.as_ref().is_some_and(|p| {
                p.proxy
                    .as_deref()
                    .is_some_and(|px| eems_parsers::uri::host(px).eq_ignore_ascii_case(&s.target))
            });
            if target_is_proxy {
                steps[0] = Step::cmd(
                    "The name that fails is the proxy's: test it on the server:",
                    format!("Resolve-DnsName {}", s.target),
                );
                steps[1] = Step::text(
                    "Fix the proxy's DNS record, or set InternetWebProxy to an address or name the server resolves.",
                );
            }
            let mut f = finding(&META, Confidence::High, title)
                .detail(format!(
                    "The live probe resolved the name the service needs and failed. {why}"
                ))
                .evidence([probe::step_evidence(ev, s)]);
            for st in steps {
                f = f.step(st);
            }
            Live::Fail(f)
        }
        StepState::Ok => Live::Pass,
        // With `--resolve` the probe needs no DNS: nothing to say.
        StepState::NotReached(_) | StepState::NoData => Live::NoData,
    }
}

/// The report header when the probe's DNS lookup failed.
fn fix_line(l: &ProbeFinding<'_>) -> (String, String) {
    (
        l.failing_step(),
        format!(
            "make {} resolvable from the server (DNS forwarding), or set InternetWebProxy so the proxy resolves it",
            l.host()
        ),
    )
}

impl Check for OcsDnsFailure {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        probe::combine(
            &META,
            ev,
            &[Cause::Dns, Cause::ProxyDns],
            live(ev),
            |logged| {
                steps().into_iter().fold(
                    finding(&META, Confidence::High, "The service cannot resolve officeclient.microsoft.com (or its proxy) in DNS")
                        .detail("The fetch fails with \"The remote name could not be resolved\" (de-DE: \"Der Remotename konnte nicht aufgelöst werden\"). Without a proxy the server itself must resolve officeclient.microsoft.com; with a proxy (InternetWebProxy) it must resolve the proxy's name.")
                        .evidence(logged),
                    crate::finding::Finding::step,
                )
            },
            "a DNS lookup of officeclient.microsoft.com",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        OcsDnsFailure.run(ev, &Context::embedded(&b))
    }

    #[test]
    fn nxdomain_and_timeout_are_told_apart() {
        let mut r = report(vec![
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
            probes: Some(r.clone()),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert_eq!(
            f[0].title,
            "officeclient.microsoft.com does not exist in the server's DNS (NXDOMAIN)"
        );
        assert!(
            f[0].evidence[0]
                .excerpt
                .starts_with("DNS officeclient.microsoft.com: failed (NXDOMAIN)")
        );
        assert_eq!(f[0].evidence[0].source, "probe");
        r.steps[0].outcome = StepOutcome::TimedOut;
        r.steps[0].reason = Some("no answer".into());
        r.steps[0].duration_ms = 10_000;
        let ev = ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        };
        let Outcome::Fail(f) = run(&ev) else { panic!() };
        assert!(
            f[0].title.contains("timed out after 10000 ms"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn passes_on_a_healthy_probe_and_skips_without_anything() {
        let ev = ServerEvidence {
            probes: Some(healthy()),
            ..ServerEvidence::default()
        };
        assert_eq!(run(&ev), Outcome::Pass);
        let Outcome::Skip(why) = run(&ServerEvidence::default()) else {
            panic!()
        };
        assert!(why.contains("eems-doctor probe"), "{why}");
    }
}
