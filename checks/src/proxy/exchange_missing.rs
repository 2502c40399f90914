use crate::check::{Check, CheckMeta, Context, Fix, Outcome, Role, finding};
use crate::classify::Cause;
use crate::evidence::ServerEvidence;
use crate::finding::{Confidence, Severity, Step};
use crate::id::CheckId;
use crate::proxy::{OCS_SCHEME, authority};

pub struct ProxyExchangeMissing;

static META: CheckMeta = CheckMeta {
    id: CheckId::ProxyExchangeMissing,
    area: "proxy",
    title: "When WinHTTP uses a proxy, Exchange's InternetWebProxy is set too",
    severity: Severity::Critical,
    role: Role::Cause,
    priority: 70,
    stage: None,
    explains: &[
        CheckId::OcsUnreachable,
        CheckId::OcsDnsFailure,
        CheckId::ProxyMismatch,
    ],
    fix: Fix::None,
    needs_probes: false,
};

impl Check for ProxyExchangeMissing {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn pass_reason(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Option<String> {
        match (ev.winhttp_proxy(), &ev.exchange_proxy) {
            (None, _) => ev
                .winhttp
                .first()
                .map(|w| crate::check::seen("WinHTTP has no proxy (direct access)", &w.cite)),
            (Some(w), Some(ex)) => Some(crate::check::seen(
                format_args!(
                    "WinHTTP uses {} and InternetWebProxy is set ({})",
                    w.value.proxy.as_deref().unwrap_or_default(),
                    ex.value.as_deref().unwrap_or_default()
                ),
                &ex.cite,
            )),
            (Some(_), None) => None,
        }
    }

    fn run(&self, ev: &ServerEvidence, _ctx: &Context<'_>) -> Outcome {
        let Some(w) = ev.winhttp_proxy() else {
            if ev.has_winhttp_evidence() {
                return Outcome::Pass;
            }
            return Outcome::Skip("no WinHTTP evidence: run `netsh winhttp show proxy`".into());
        };
        let Some(ex) = &ev.exchange_proxy else {
            return Outcome::Skip("no InternetWebProxy value: run `Get-ExchangeServer <name> | Format-List InternetWebProxy`".into());
        };
        if ex.value.is_some() {
            return Outcome::Pass;
        }
        let wp = w.value.proxy.as_deref().unwrap_or_default();
        let hp =
            authority(wp, OCS_SCHEME).map_or_else(|| wp.to_owned(), |(h, p)| format!("{h}:{p}"));
        let symptoms: Vec<_> = [Cause::Connect, Cause::Timeout, Cause::Dns]
            .into_iter()
            .flat_map(|c| ev.cause_evidence(c))
            .collect();
        let name = ev.server_or_placeholder();
        Outcome::fail(
            finding(
                &META,
                if symptoms.is_empty() { Confidence::Medium } else { Confidence::High },
                "WinHTTP has a proxy but Exchange's InternetWebProxy is empty: the service connects directly")
                .detail(format!(
                    "WinHTTP uses {wp}, which suggests direct Internet access is blocked, but the mitigation service takes its proxy from Exchange's InternetWebProxy (not from WinHTTP), which is not set. It therefore connects straight to officeclient.microsoft.com:443 and, where direct egress is blocked, times out every hour.{}",
                    if symptoms.is_empty() { "" } else { " The events show exactly those connection failures." }
                ))
                .evidence([w.cite.to_evidence(), ex.cite.to_evidence()])
                .evidence(symptoms)
                .step(Step::cmd("Set Exchange's proxy (an http:// URI):", format!("Set-ExchangeServer -Identity {name} -InternetWebProxy http://{hp}")))
                .step(Step::cmd(
                    "Restart the service so the next fetch uses it:",
                    format!("Invoke-Command -ComputerName {} {{ Restart-Service MSExchangeMitigation }}", ev.server_or_placeholder()),
                )),
        )
    }
}
