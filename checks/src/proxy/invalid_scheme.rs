use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{OCS_SCHEME, authority};

pub struct ProxyInvalidScheme;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyInvalidScheme,
    area: "proxy",
    title: "InternetWebProxy is an http://host:port URI",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 60,
    stage: None,
    explains: &[CheckId::OcsUnreachable],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ProxyInvalidScheme {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(ex) = &ev.exchange_proxy else {
            return Outcome::Skip("no InternetWebProxy value: run `Get-ExchangeServer <name> | Format-List InternetWebProxy`".into());
        };
        let Some(p) = &ex.value else {
            return Outcome::Pass;
        };
        if p.trim().to_ascii_lowercase().starts_with("http://") {
            return Outcome::Pass;
        }
        let name = ev.server_or_placeholder();
        let hp = authority(p, OCS_SCHEME).map_or_else(
            || "proxy.example:8080".to_owned(),
            |(h, port)| format!("{h}:{port}"),
        );
        Outcome::fail(
            finding(&META, Confidence::High, format!("InternetWebProxy is not an http:// URI: {p}"))
                .detail("Exchange needs InternetWebProxy as http://host:port (the scheme is the proxy protocol, not the target's; an https:// proxy URI or a bare host name does not work). HealthChecker flags the same: \"must start with http://\".")
                .evidence([ex.cite.to_evidence()])
                .step(Step::cmd("Set an http:// proxy URI:", format!("Set-ExchangeServer -Identity {name} -InternetWebProxy http://{hp}"))),
        )
    }
}
