use crate::check::{Check, CheckMeta, Context, Fix, Outcome, ProbeFinding, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Finding, Severity, Step};
use crate::id::CheckId;
use crate::probe;
use crate::probe::Stage;
use crate::tls::chain::{self, Verdict};
use crate::tls::issuers::issuer_cn;
use eems_parsers::probe_results::{ChainRole, StepKind};

pub struct TlsInterception;

static META: CheckMeta = CheckMeta {
    id: CheckId::TlsInterception,
    area: "tls",
    title: "The OCS connection is not re-signed by an SSL-inspection product",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 100,
    stage: Some(Stage::Tls),
    explains: &[CheckId::TlsValidationFailed],
    fix: Fix::Line(fix_line),
    needs_probes: true,
};

/// The report header: who re-signs the connection, and what to exclude.
fn fix_line(l: &ProbeFinding<'_>) -> (String, String) {
    let host = l.host();
    let product = match chain::from_evidence(l.ev, l.ctx, "") {
        Ok((_, a)) => match &a.verdict {
            Verdict::Interception { product, .. } => product.clone(),
            _ => None,
        },
        Err(_) => None,
    };
    match product {
        Some(pr) => (
            format!("TLS to {host} is re-signed by {pr}"),
            format!("exclude {host} from SSL inspection on {pr}"),
        ),
        None => (
            format!("TLS to {host} is re-signed by an inspecting device"),
            format!("exclude {host} from SSL inspection on the proxy or firewall"),
        ),
    }
}

impl Check for TlsInterception {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, ctx: &Context<'_>) -> Outcome {
        let (tls, a) = match chain::from_evidence(
            ev,
            ctx,
            "the TLS chain presented for officeclient.microsoft.com",
        ) {
            Ok(x) => x,
            Err(o) => return o,
        };
        let certs = tls
            .chain
            .iter()
            .enumerate()
            .map(|(i, c)| probe::cert_evidence(ev, ChainRole::Tls, i, c));
        let host = ev
            .probes
            .as_ref()
            .map_or("officeclient.microsoft.com", |p| {
                eems_parsers::uri::host(&p.ocs_url)
            })
            .to_owned();
        match &a.verdict {
            Verdict::Interception {
                product,
                confidence,
            } => {
                let leaf_issuer = tls
                    .chain
                    .first()
                    .and_then(|c| issuer_cn(c).map(str::to_owned))
                    .unwrap_or_default();
                let title = match product {
                    Some(p) => format!(
                        "{p} re-signs the connection to {host} (SSL/TLS inspection)"
                    ),
                    None => format!(
                        "An SSL/TLS-inspecting device re-signs the connection to {host} (issuer `{leaf_issuer}`)"
                    ),
                };
                let on = product
                    .as_deref()
                    .map_or_else(|| "the inspecting proxy or firewall".to_owned(), str::to_owned);
                let mut f: Finding = finding(&META, *confidence, title)
                    .detail(format!(
                        "The chain the live probe received is not Microsoft's. Signals: {}. The mitigation service validates the chain (and the name of OCS's certificate) itself and rejects a re-signed connection, so every hourly fetch fails with a TLS validation error; Microsoft requires officeclient.microsoft.com to be excluded from SSL inspection.",
                        a.signals.join("; ")
                    ))
                    .evidence(certs);
                if let Some(s) = ev.probes.as_ref().and_then(|p| p.step(StepKind::Tls)) {
                    f = f.evidence([probe::step_evidence(ev, s)]);
                }
                f = f.evidence(ev.cause_evidence(Cause::TlsTrust));
                Outcome::fail(
                    f.step(Step::text(format!(
                        "Exclude {host} from SSL/TLS inspection on {on} (a do-not-decrypt / bypass rule for the host), so the server sees Microsoft's own certificate."
                    )))
                    .step(Step::text(
                        "Never disable certificate validation or revocation checking on the server to work around it; importing the inspection CA does not help either (the service checks Microsoft's certificate name and signing chain).",
                    ))
                    .step(Step::cmd(
                        "Confirm afterwards that the chain is Microsoft's (through the same proxy):",
                        match ev.probes.as_ref().and_then(|p| p.proxy.as_deref()) {
                            Some(p) => format!("eems-doctor probe --proxy {p}"),
                            None => "eems-doctor probe".to_owned(),
                        },
                    )),
                )
            }
            Verdict::Unrecognized => Outcome::fail(
                Finding::new(
                    META.id,
                    Severity::Info,
                    Confidence::Low,
                    format!("The chain of {host} is trusted but not one Microsoft documents"),
                )
                .detail(format!(
                    "No sign of interception ({}), but no certificate in the chain matches the expected-issuer data by name and key. Microsoft may have moved the endpoint to a new CA: compare with the Azure CA details page and update checks/data/tls-expected-issuers.csv.",
                    a.signals.join("; ")
                ))
                .evidence(certs),
            ),
            Verdict::Expected | Verdict::Untrusted { .. } | Verdict::NoChain => Outcome::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fixtures::*;
    use crate::tls::chain::fixtures::*;
    use eems_parsers::probe_results::{StepOutcome, TlsResult};

    fn run(ev: &ServerEvidence) -> Outcome {
        let b = crate::builds::BuildTable::embedded();
        TlsInterception.run(ev, &Context::embedded(&b))
    }

    fn with_chain(
        chain: Vec<eems_parsers::probe_results::CertInfo>,
        trusted: bool,
    ) -> ServerEvidence {
        let mut r = healthy();
        r.proxy = Some("http://127.0.0.1:3128".into());
        r.steps[2] = step(
            StepKind::Tls,
            "officeclient.microsoft.com",
            StepOutcome::Failed,
            Some("invalid peer certificate: UnknownIssuer"),
        );
        r.tls = Some(TlsResult {
            chain,
            trusted,
            validation_error: (!trusted).then(|| "UnknownIssuer".into()),
            ..TlsResult::default()
        });
        ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }
    }

    #[test]
    fn zscaler_is_critical_and_named() {
        let Outcome::Fail(f) = run(&with_chain(zscaler_chain(), false)) else {
            panic!()
        };
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].confidence, Confidence::High);
        assert_eq!(
            f[0].title,
            "Zscaler re-signs the connection to officeclient.microsoft.com (SSL/TLS inspection)"
        );
        assert!(
            f[0].remediation[0]
                .text
                .contains("Exclude officeclient.microsoft.com from SSL/TLS inspection on Zscaler")
        );
        assert!(
            f[0].remediation[1]
                .text
                .starts_with("Never disable certificate validation")
        );
        assert!(
            f[0].evidence[0]
                .excerpt
                .starts_with("TLS chain #1: subject CN=officeclient.microsoft.com")
        );
        assert!(f[0].detail.contains("gateway.zscalerthree.net"));
        assert_eq!(
            f[0].remediation[2].command.as_deref(),
            Some("eems-doctor probe --proxy http://127.0.0.1:3128")
        );
    }

    #[test]
    fn mitmproxy_and_forged_microsoft_names() {
        let Outcome::Fail(f) = run(&with_chain(mitmproxy_chain(), false)) else {
            panic!()
        };
        assert!(
            f[0].title.starts_with("mitmproxy re-signs"),
            "{}",
            f[0].title
        );
        let Outcome::Fail(f) = run(&with_chain(forged_ms_chain(), true)) else {
            panic!()
        };
        assert_eq!(
            f[0].title,
            "An SSL/TLS-inspecting device re-signs the connection to officeclient.microsoft.com (issuer `Microsoft Azure RSA TLS Issuing CA 04`)"
        );
        assert!(f[0].detail.contains("another key"));
    }

    #[test]
    fn genuine_and_missing_intermediate_pass_and_no_probe_skips() {
        assert_eq!(run(&with_chain(ms_chain(), true)), Outcome::Pass);
        assert_eq!(run(&with_chain(vec![ms_leaf()], false)), Outcome::Pass);
        let Outcome::Skip(why) = run(&ServerEvidence::default()) else {
            panic!()
        };
        assert!(why.contains("eems-doctor probe"));
        let r = report(vec![step(
            StepKind::Dns,
            "officeclient.microsoft.com",
            StepOutcome::Failed,
            Some("NXDOMAIN"),
        )]);
        let Outcome::Skip(why) = run(&ServerEvidence {
            probes: Some(r),
            ..ServerEvidence::default()
        }) else {
            panic!()
        };
        assert!(
            why.contains("no TLS certificate") && why.contains("NXDOMAIN"),
            "{why}"
        );
    }
}
